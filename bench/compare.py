"""Training benchmark: fastw2v against gensim 4 (corpus_file and iterable modes).

Trains every tool on the same corpus with the same settings (dim, window,
negative or hierarchical softmax, sample, min_count, alpha 0.025 sg / 0.05 cbow
decaying to min_alpha 0.0001, workers = threads), each run in a fresh process
(bench/_runner.py) and the tools alternating run by run, so that machine noise
falls on all of them alike.  Before the timed runs, fastw2v runs once per mode
with an empty numba cache (NUMBA_CACHE_DIR) to measure the cold JIT compile;
that cache then serves the mode's timed runs.  Writes <out>.md, <out>.json
(every run's raw numbers) and <out>-speed.png / <out>-scaling.png; see
bench/README.md for what each column means.

    python -m bench.compare --corpus ptb --modes sg-ns,cbow-ns --threads 1,2 --repeats 3
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import itertools
import json
import lzma
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from importlib import metadata
from pathlib import Path

from bench import _report

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPORA = SHARED / "corpora"

TOOLS = ("fastw2v", "gensim-file", "gensim-iter")
MODES = ("sg-ns", "cbow-ns", "sg-hs", "cbow-hs")
ALPHA = {"sg": 0.025, "cbow": 0.05}
MIN_ALPHA = 0.0001


def _comma_list(kind):
    def parse(text):
        try:
            return [kind(x) for x in text.split(",") if x.strip()]
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    return parse


def _choices(allowed, what):
    """Parser of a comma list whose items must be in `allowed`."""
    def parse(text):
        items = _comma_list(str)(text)
        bad = [x for x in items if x not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {what}(s) {', '.join(bad)}; choose from {', '.join(allowed)}")
        return items
    return parse


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True,
                    help="ptb | en-mix | zipf-17m | zipf-100m | zipf-<N>[k|m] | path of a text file")
    ap.add_argument("--modes", type=_choices(MODES, "mode"), default=list(MODES), help="comma list (default: all four)")
    ap.add_argument("--tools", type=_choices(TOOLS, "tool"), default=list(TOOLS), help="comma list (default: all three)")
    ap.add_argument("--threads", type=_comma_list(int), default=[len(os.sched_getaffinity(0))],
                    help="comma list of thread (worker) counts (default: all cores)")
    ap.add_argument("--epochs", type=_comma_list(int), default=[1], help="comma list (default 1)")
    ap.add_argument("--seeds", type=_comma_list(int), default=[1], help="comma list (default 1)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per tool, configuration and seed (default 3)")
    ap.add_argument("--quality", action="store_true",
                    help="evaluate every run: Google analogies (30k words), SimLex-999, WordSim-353")
    ap.add_argument("--eval-dir", type=Path, default=SHARED / "eval",
                    help="folder with questions-words.txt, simlex999.txt and wordsim353.tsv (default ../shared/eval)")
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--negative", type=int, default=5, help="negatives of the -ns modes (the -hs modes use 0)")
    ap.add_argument("--sample", type=float, default=1e-3)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--out", type=Path, help="output path without suffix (default bench/results/<corpus>)")
    ap.add_argument("--tmp", type=Path, default=HERE / "results" / "tmp",
                    help="cache of unpacked/generated corpora and numba caches (default bench/results/tmp)")
    args = ap.parse_args(argv)
    for name in ("threads", "epochs", "seeds"):
        values = getattr(args, name)
        if not values or min(values) < (0 if name == "seeds" else 1):
            ap.error(f"--{name} needs positive values, got {values}")
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")
    missing = [m for m in ("gensim", "matplotlib", "scipy") if importlib.util.find_spec(m) is None]
    if missing:  # found now, not after an hour of runs when the report is written
        ap.error(f"missing {', '.join(missing)}: install the bench extra (python3 -m pip install '.[bench]')")
    if args.quality:
        absent = [n for n in ("questions-words.txt", "simlex999.txt", "wordsim353.tsv")
                  if not (args.eval_dir / n).is_file()]
        if absent:
            ap.error(f"--quality: {args.eval_dir} lacks {', '.join(absent)} (see --eval-dir)")
    return args


# ----- corpora ---------------------------------------------------------------
def _write_atomically(target: Path, write) -> Path:
    """Call write(tmp_path) and rename into place, so that an interrupted
    preparation never leaves a truncated corpus in the cache."""
    part = target.with_name(target.name + ".part")
    write(part)
    part.rename(target)
    return target


def prepare_corpus(name: str, tmp: Path) -> Path:
    """Path of the corpus `name`, unpacking or generating it into `tmp` once."""
    tmp.mkdir(parents=True, exist_ok=True)
    if name == "ptb":
        target = tmp / "ptb.train.txt"
        if not target.exists():
            def write(part):
                with tarfile.open(CORPORA / "ptb" / "ptb.tar.xz") as tar:
                    member = next(m for m in tar.getmembers() if m.name.endswith("ptb.train.txt"))
                    with tar.extractfile(member) as src, open(part, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
            _write_atomically(target, write)
        return target
    if name == "en-mix":
        target = tmp / "en-mix.txt"
        if not target.exists():
            def write(part):
                with lzma.open(CORPORA / "en-mix.txt.xz") as src, open(part, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 22)
            _write_atomically(target, write)
        return target
    zipf = re.fullmatch(r"zipf-(\d+)([km]?)", name)
    if zipf:
        tokens = int(zipf.group(1)) * {"": 1, "k": 10 ** 3, "m": 10 ** 6}[zipf.group(2)]
        target = tmp / f"{name}.txt"
        if not target.exists():
            _write_atomically(target, lambda part: subprocess.run(
                [sys.executable, str(CORPORA / "make_zipf_corpus.py"), "--tokens", str(tokens),
                 "--out", str(part), "--quiet"], check=True))
        return target
    path = Path(name)
    if not path.is_file():
        raise SystemExit(f"--corpus {name!r}: not ptb, en-mix, zipf-<N>[k|m] or an existing file")
    return path.resolve()


def warm_page_cache(path: Path) -> None:
    """Read the corpus once so that no tool pays for the first read from disk."""
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


# ----- machine and versions --------------------------------------------------
def machine_info() -> dict:
    cpu = platform.processor() or platform.machine()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "memory_gib": round(mem_kib / 2 ** 20, 1), "kernel": platform.release()}


def source_digest() -> str:
    """sha256 of fastw2v's Python sources, to notice edits made while a benchmark runs."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "fastw2v").rglob("*.py")):
        digest.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def versions() -> dict:
    def git(*cmd):
        return subprocess.run(["git", "-C", str(REPO), *cmd], capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--", "fastw2v"):
        commit += "+uncommitted"
    found = {"python": platform.python_version(), "fastw2v": commit, "fastw2v_sources": source_digest()}
    for package in ("numpy", "numba", "gensim", "scipy"):
        found[package] = metadata.version(package)
    return found


# ----- runs ------------------------------------------------------------------
def mode_params(mode: str, args) -> dict:
    arch, output = mode.split("-")
    return {"sg": arch == "sg", "hs": output == "hs", "negative": args.negative if output == "ns" else 0,
            "dim": args.dim, "window": args.window, "sample": args.sample, "min_count": args.min_count,
            "alpha": ALPHA[arch], "min_alpha": MIN_ALPHA}


def run_child(spec: dict, numba_cache: Path) -> dict:
    """Start bench/_runner.py for one run and return its JSON result."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(numba_cache), NUMBA_NUM_THREADS=str(spec["threads"]))
    spec = dict(spec, spawned_at=time.time())
    proc = subprocess.run([sys.executable, str(HERE / "_runner.py"), json.dumps(spec)],
                          capture_output=True, text=True, env=env, cwd=REPO)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode or not lines:
        raise RuntimeError(f"{spec['tool']} {spec['mode']} run failed (exit {proc.returncode}):\n"
                           f"{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def schedule(args) -> list[dict]:
    """The timed runs in order: round by round (seed x repeat), every
    configuration in each round, the tools alternating within it."""
    runs = []
    for round_no, (seed, _) in enumerate(itertools.product(args.seeds, range(args.repeats))):
        for mode, epochs, threads in itertools.product(args.modes, args.epochs, args.threads):
            for tool in args.tools:
                runs.append({"tool": tool, "mode": mode, "epochs": epochs, "threads": threads, "seed": seed,
                             "round": round_no, "cold": False, "quality": args.quality})
    return runs


def main(argv=None) -> None:
    args = parse_args(argv)
    corpus = prepare_corpus(args.corpus, args.tmp)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", corpus.stem if Path(args.corpus).is_file() else args.corpus)
    out = args.out or HERE / "results" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    warm_page_cache(corpus)
    meta = {
        "command": "python -m bench.compare " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
        "corpus": {"name": args.corpus, "path": str(corpus), "bytes": corpus.stat().st_size},
        "settings": {"modes": args.modes, "tools": args.tools, "threads": args.threads, "epochs": args.epochs,
                     "seeds": args.seeds, "repeats": args.repeats, "quality": args.quality,
                     "params": {m: mode_params(m, args) for m in args.modes}},
        "machine": machine_info(), "versions": versions(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"), "load_average_start": os.getloadavg(),
    }
    caches = {mode: Path(tempfile.mkdtemp(prefix=f"numba-{mode}-", dir=args.tmp)) for mode in args.modes}
    # one cold-cache fastw2v run per mode; it also fills the cache that mode's timed runs use
    cold = [{"tool": "fastw2v", "mode": mode, "epochs": min(args.epochs), "threads": max(args.threads),
             "seed": args.seeds[0], "round": None, "cold": True, "quality": False}
            for mode in args.modes if "fastw2v" in args.tools]
    planned = cold + schedule(args)
    runs = []
    try:
        for i, run in enumerate(planned, 1):
            spec = dict(run, corpus=str(corpus), params=mode_params(run["mode"], args), eval_dir=str(args.eval_dir))
            result = run_child(spec, caches[run["mode"]])
            runs.append(dict(run, **result))
            print(f"[{i}/{len(planned)}] {run['tool']:<11} {run['mode']} epochs {run['epochs']} "
                  f"threads {run['threads']} seed {run['seed']}{' (cold numba cache)' if run['cold'] else ''}: "
                  f"{_report.rate(result['words_per_second'])} words/s", file=sys.stderr, flush=True)
            _report.write_json(out, meta, runs)
    finally:
        for path in caches.values():
            shutil.rmtree(path, ignore_errors=True)
    meta["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    meta["load_average_end"] = os.getloadavg()
    meta["sources_changed"] = source_digest() != meta["versions"]["fastw2v_sources"]
    _report.write_all(out, meta, runs)
    print(f"wrote {out}.md, {out}.json and charts", file=sys.stderr)


if __name__ == "__main__":
    main()
