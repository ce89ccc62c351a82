"""Scan + encode speed against the number of threads, and proof that every
thread count writes the same corpus.

    python -m bench.scan --corpus en-mix --threads 1,2 --repeats 5 [--out bench/results/scan]
        [--baseline DIR]

Two timings, each run in a fresh process (warm numba cache, corpus in the
page cache, no earlier output to replace), thread counts alternating within
each repeat:

- the command: `fastw2v encode CORPUS -o X.fw2v --threads T`, its own
  "in X s" figure, which excludes the interpreter's start and the imports
  but includes numba's start (its first kernel load initialises its
  compiler and imports more modules, scipy.linalg among them where scipy is
  installed: 0.2 s here, once per process whatever the process then does);
- scan + encode: `corpus.encode_to_file` timed in a process whose numba has
  started (one scanner kernel called on one byte), which is the scan,
  vocabulary, encoding and atomic write of the file alone, with the CPU
  time the process spent on it (all threads, user and system).

The CPU times tell the machine's share in a speed-up.  The scan on two
threads does the work of one (in this 2-core virtual machine's quiet moments
it used the same CPU time within 3%), so a 2-thread run that used much more
CPU than the 1-thread run of its repeat ran on cores its host was busy with
too: a cost of the machine, not of the code.  The report gives the paired
speed-up of the repeats whose runs used about the same CPU (within CPU_SAME)
apart from the others.

With --baseline DIR (a folder holding another fastw2v/ package, e.g. an
earlier commit's `git archive`), its scan + encode is timed too, alternating
with this checkout's in every repeat, so that a change is measured against
the code before it in the same run.

The encoded files of all thread counts (and of the baseline) must have the
same fingerprint (tokens, offsets and vocabulary, through their CRCs).
"""
from __future__ import annotations

import argparse
import atexit
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import compare

HERE = Path(__file__).resolve().parent
SECONDS = re.compile(r" in ([\d.]+) s")
CPU_SAME = 1.05  # runs of a repeat whose CPU times are within this factor: the machine gave each thread a core


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.scan", description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default="en-mix", help="as bench.compare's --corpus")
    ap.add_argument("--threads", type=compare._comma_list(int), default=[1, 2])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--tmp", type=Path, default=HERE / "results" / "tmp")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "scan")
    ap.add_argument("--baseline", type=Path,
                    help="folder holding the fastw2v/ package of a baseline, timed alternating with this checkout's")
    ap.add_argument("--phases", action="store_true",
                    help="also time the stages of one encode per thread count (numba's start, scan, vocabulary, "
                         "encode and write)")
    args = ap.parse_args(argv)
    if args.baseline is not None and not (args.baseline / "fastw2v").is_dir():
        ap.error(f"--baseline {args.baseline}: no fastw2v/ package there")
    return args


def encode(corpus: Path, target: Path, threads: int, cache: Path) -> float:
    """Seconds of the command, as it reports them."""
    target.unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, "-m", "fastw2v.cli", "encode", str(corpus), "-o", str(target),
                           "--threads", str(threads)], capture_output=True, text=True,
                          env=dict(os.environ, NUMBA_CACHE_DIR=str(cache)))
    if proc.returncode:
        raise RuntimeError(proc.stderr[-2000:])
    return float(SECONDS.findall(proc.stderr.strip().splitlines()[-1])[-1])


# run in a child: encode_to_file alone, once numba has started
WORK_CHILD = """
import sys, time
import numpy as np
import fastw2v.corpus as corpus
from fastw2v.scan import first_separator_end
first_separator_end(np.zeros(1, np.uint8))
start, cpu = time.perf_counter(), time.process_time()
corpus.encode_to_file([sys.argv[1]], sys.argv[2], threads=int(sys.argv[3]))[1].close()
print(time.perf_counter() - start, time.process_time() - cpu)
"""


def _run_child(script: str, corpus: Path, target: Path, threads: int, cache: Path, code: Path | None = None) -> str:
    """The last line a child running `script` on (corpus, target, threads)
    prints, importing fastw2v from folder `code` when given; target is
    removed first, so no run replaces an earlier output."""
    target.unlink(missing_ok=True)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(code), os.environ.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, "-c", script, str(corpus.resolve()), str(target.resolve()), str(threads)],
                          capture_output=True, text=True, env=env, cwd=code)
    if proc.returncode:
        raise RuntimeError(proc.stderr[-2000:])
    return proc.stdout.strip().splitlines()[-1]


def scan_and_encode(corpus: Path, target: Path, threads: int, cache: Path,
                    code: Path | None = None) -> tuple[float, float]:
    """Seconds of encode_to_file in a process whose numba has started, and
    the CPU seconds that process spent on it."""
    wall, cpu = _run_child(WORK_CHILD, corpus, target, threads, cache, code).split()
    return float(wall), float(cpu)


# run in a child: the stages of encode_to_file, timed by wrapping the functions it calls
PHASES_CHILD = """
import json, sys, time
import numpy as np
import fastw2v.corpus as corpus
from fastw2v.scan import first_separator_end
spent = {}
def timed(name, stage):
    function = getattr(corpus, name)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[stage] = spent.get(stage, 0.0) + time.perf_counter() - start
    setattr(corpus, name, wrapper)
timed("scan_inputs", "scan")
timed("plan_vocabulary", "vocabulary")  # the words themselves are decoded while the ranges encode
timed("write_encoded", "encode and write")
start = time.perf_counter()
first_separator_end(np.zeros(1, np.uint8))  # numba's start: its registries and a first cached function
spent["numba start"] = time.perf_counter() - start
corpus.encode_to_file([sys.argv[1]], sys.argv[2], threads=int(sys.argv[3]))
spent["total"] = time.perf_counter() - start
print(json.dumps(spent))
"""
STAGES = ("numba start", "scan", "vocabulary", "encode and write")
BASELINE = "scan + encode, baseline"


def phases(corpus: Path, target: Path, threads: int, cache: Path) -> dict:
    spent = json.loads(_run_child(PHASES_CHILD, corpus, target, threads, cache))
    spent["other"] = spent["total"] - sum(spent[s] for s in STAGES)
    return spent


def paired_speed_up(before: list, after: list) -> tuple[float, float, float]:
    """Median, lowest and highest of before[i] / after[i]: the speed-ups of
    runs made in the same repeat."""
    ratios = [b / a for b, a in zip(before, after, strict=True)]
    return statistics.median(ratios), min(ratios), max(ratios)


def same_cpu_speed_up(first: list, other: list) -> tuple[list, list]:
    """The paired speed-ups of (wall, cpu) runs `other` on `first`, split
    into those whose CPU times are within CPU_SAME of each other and the
    rest."""
    same, more = [], []
    for (wall_a, cpu_a), (wall_b, cpu_b) in zip(first, other, strict=True):
        (same if max(cpu_a, cpu_b) <= CPU_SAME * min(cpu_a, cpu_b) else more).append(wall_a / wall_b)
    return same, more


def _spread(ratios: list) -> str:
    if not ratios:
        return "none"
    return (f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}, {len(ratios)} "
            f"repeat{'s' if len(ratios) > 1 else ''})")


def main(argv=None) -> None:
    from fastw2v.corpus import open_corpus_file

    args = parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    corpus = compare.prepare_corpus(args.corpus, args.tmp)
    compare.warm_page_cache(corpus)
    work = Path(tempfile.mkdtemp(prefix="scan-", dir=args.tmp))
    atexit.register(shutil.rmtree, work, True)  # the numba cache and encoded files of this run
    cache = work / "numba"
    load_start = os.getloadavg()
    encode(corpus, work / "warm.fw2v", 1, cache)  # fills the numba cache
    timings = {"the command": encode, "scan + encode": scan_and_encode}
    cpu_timed = ["scan + encode"]
    if args.baseline is not None:
        baseline, base_cache = args.baseline.resolve(), work / "numba-baseline"
        scan_and_encode(corpus, work / "warm-baseline.fw2v", 1, base_cache, baseline)  # fills its numba cache
        timings[BASELINE] = lambda corpus, target, threads, _: scan_and_encode(corpus, target, threads, base_cache,
                                                                                 baseline)
        cpu_timed.append(BASELINE)
    seconds = {(kind, t): [] for kind in timings for t in args.threads}
    runs = {(kind, t): [] for kind in cpu_timed for t in args.threads}  # (wall, cpu)
    fingerprints = {}
    warm = open_corpus_file(work / "warm.fw2v")
    words = warm.vocab.words
    warm.close()
    for _ in range(args.repeats):
        for threads in args.threads:
            for kind, timed in timings.items():
                target = work / f"t{threads}.fw2v"
                timing = timed(corpus, target, threads, cache)
                if kind in cpu_timed:
                    runs[kind, threads].append(timing)
                    timing = timing[0]
                seconds[kind, threads].append(timing)
                f = open_corpus_file(target)
                fingerprints[kind, threads] = (f.fingerprint, f.vocab.words == words)
                f.close()
    same = len({fp for fp, _ in fingerprints.values()}) == 1 and all(v for _, v in fingerprints.values())
    size = corpus.stat().st_size
    lines = ["# Scan + encode against threads", "",
             f"`python -m bench.scan {' '.join(shlex.quote(a) for a in (argv or sys.argv[1:]))}`", "",
             f"Corpus {args.corpus}: {size:,} bytes.  Machine: {compare.machine_info()['cpu']}, "
             f"{compare.machine_info()['usable_cores']} cores; load average {load_start[0]:.2f} at the start, "
             f"{os.getloadavg()[0]:.2f} at the end.  fastw2v {compare.versions()['fastw2v']}.  Seconds to count, "
             f"choose the vocabulary, encode and write the corpus file: of the whole `fastw2v encode` command "
             f"(numba's start included), and of `encode_to_file` once numba has started (scan + encode); "
             f"{args.repeats} alternating runs each, medians.  Speed-up: on the first thread count's median, "
             f"and paired, the median (min-max) of the ratios of runs of the same repeat, which ran next to each "
             f"other (this machine has slower and faster phases).", "",
             "| timing | threads | seconds (median) | runs | MB/s | speed-up | paired speed-up |",
             "|---|---|---|---|---|---|---|"]
    for (kind, threads), values in seconds.items():
        median = statistics.median(values)
        first = seconds[kind, args.threads[0]]
        paired, low, high = paired_speed_up(first, values)
        lines.append(f"| {kind} | {threads} | {median:.2f} | {', '.join(f'{v:.2f}' for v in values)} | "
                     f"{size / median / 1e6:.0f} | {statistics.median(first) / median:.2f} | "
                     f"{paired:.2f} ({low:.2f}-{high:.2f}) |")
    lines += ["", f"CPU seconds of each scan + encode run (all threads, user and system), and the paired speed-up "
              f"on {args.threads[0]} thread{'s' if args.threads[0] > 1 else ''} of the repeats whose two runs used "
              f"the same CPU time within {CPU_SAME:.2f}x (the host gave each thread a core) and of the others:", "",
              "| timing | threads | CPU seconds (median) | runs | paired speed-up, same CPU | paired speed-up, CPU apart |",
              "|---|---|---|---|---|---|"]
    for (kind, threads), timed_runs in runs.items():
        same_cpu, more_cpu = same_cpu_speed_up(runs[kind, args.threads[0]], timed_runs)
        cpus = [cpu for _, cpu in timed_runs]
        lines.append(f"| {kind} | {threads} | {statistics.median(cpus):.2f} | {', '.join(f'{c:.2f}' for c in cpus)} | "
                     + (f"{_spread(same_cpu)} | {_spread(more_cpu)} |" if threads != args.threads[0] else "| |"))
    if args.baseline is not None:
        lines += ["", f"Baseline: {args.baseline} (sources {compare.source_digest(args.baseline)}).  Scan + encode, "
                  "this checkout's speed-up on the baseline in the same repeats, medians of the per-repeat "
                  "ratios (min-max):", ""]
        for threads in args.threads:
            paired, low, high = paired_speed_up(seconds[BASELINE, threads], seconds["scan + encode", threads])
            lines.append(f"- {threads} thread{'s' if threads > 1 else ''}: {paired:.2f}x ({low:.2f}-{high:.2f})")
    lines += ["", f"Every thread count{' and the baseline' if args.baseline else ''} wrote the same corpus "
              f"(fingerprint and vocabulary): {'yes' if same else 'NO'}."]
    if args.phases:
        lines += ["", "Stages of one more encode per thread count, in seconds (scan includes choosing the ranges' "
                  "cuts and merging their tables; vocabulary: choosing its ids, its words being decoded while the ranges "
                  "encode, in encode and write; other: opening the written file and the atomic commit):", "",
                  "| threads | " + " | ".join(STAGES) + " | other | total |", "|---|" + "---|" * (len(STAGES) + 2)]
        for threads in args.threads:
            spent = phases(corpus, work / f"p{threads}.fw2v", threads, cache)
            lines.append(f"| {threads} | " + " | ".join(f"{spent[s]:.2f}" for s in (*STAGES, "other", "total"))
                         + " |")
    text = "\n".join(lines) + "\n"
    args.out.with_suffix(".md").write_text(text)
    print(text)
    if not same:
        raise SystemExit("the thread counts wrote different corpora")


if __name__ == "__main__":
    main()
