"""Memory and speed against corpus size: fastw2v reading its corpus a slice
at a time, against gensim corpus_file and (optionally) an older fastw2v.

    python -m bench.memory --sizes 25m,100m,200m --modes cbow-ns,sg-ns --threads 2
        [--tools fastw2v,fastw2v-encoded,gensim-file] [--baseline DIR] [--repeats 1] [--out bench/results/memory]

Corpora are `zipf-<size>` from bench.compare (synthetic Zipf text, 71,290
words, 1000 tokens a line), generated once into --tmp.  Tools, each run in a
fresh process (bench/_runner.py), one epoch:

* fastw2v: text in, scanned and encoded into an unnamed temporary file next
  to the corpus, then trained a slice at a time;
* fastw2v-encoded: the same corpus encoded beforehand (`fastw2v encode`,
  timed and measured as a run of its own), trained from the .fw2v file;
* gensim-file: gensim 4 corpus_file mode;
* fastw2v-base: the fastw2v found in --baseline (a checkout of an older
  version, e.g. one that held the corpus in memory), for "today's in-RAM path".

Peak memory is the child's maximum resident set as the kernel counts it
(wait4's ru_maxrss, what /usr/bin/time -v shows), so it includes everything
the process ever touched; fastw2v runs also report VmRSS/VmHWM after each
stage (imports, corpus loaded, weights made, trained).  Each fastw2v tool
first trains once on a 100k-token corpus to fill its numba cache: a cold
compile takes 100-170 MB of its own, which is not what is measured here.  Within a round the
tools alternate; rounds repeat --repeats times; the report quotes medians.
"""
from __future__ import annotations

import argparse
import atexit
import itertools
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import compare

HERE = Path(__file__).resolve().parent
TOOLS = ("fastw2v", "fastw2v-encoded", "gensim-file", "fastw2v-base")
MB = 1 << 20


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=compare._comma_list(str), default=["25m", "100m", "200m"],
                    help="comma list of zipf corpus sizes (25m, 1000m, ...)")
    ap.add_argument("--modes", type=compare._choices(compare.MODES, "mode"), default=["cbow-ns"])
    ap.add_argument("--tools", type=compare._choices(TOOLS, "tool"), default=["fastw2v", "fastw2v-encoded",
                                                                             "gensim-file"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--baseline", type=Path, help="checkout of the fastw2v to run as fastw2v-base")
    ap.add_argument("--baseline-sizes", type=compare._comma_list(str), default=None,
                    help="sizes fastw2v-base runs on (default: all; an in-RAM fastw2v needs 4 bytes a token)")
    ap.add_argument("--tmp", type=Path, default=HERE / "results" / "tmp")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "memory")
    args = ap.parse_args(argv)
    if "fastw2v-base" in args.tools and not (args.baseline and (args.baseline / "fastw2v").is_dir()):
        ap.error("--tools fastw2v-base needs --baseline DIR holding a fastw2v/ package")
    return args


def tokens_of(size: str) -> int:
    return int(size[:-1]) * {"k": 10 ** 3, "m": 10 ** 6}[size[-1]] if size[-1] in "km" else int(size)


def run_tool(tool, corpus: Path, encoded: Path, mode: str, args, cache: Path) -> dict:
    params = compare.mode_params(mode, argparse.Namespace(negative=5, dim=100, window=5, sample=1e-3,
                                                          min_count=5))
    spec = {"tool": "gensim-file" if tool == "gensim-file" else "fastw2v", "mode": mode, "epochs": 1,
            "threads": args.threads, "seed": 1, "quality": False, "params": params,
            "corpus": str(encoded if tool == "fastw2v-encoded" else corpus), "spawned_at": time.time()}
    env = compare.child_env(tool, args.threads, cache / tool, args.baseline)
    if tool.startswith("fastw2v") and tool != "fastw2v-base":
        spec["work_dir"] = str(corpus.parent)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(HERE / "_runner.py"), json.dumps(spec)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    # wait4 before communicate() reaps the child, so read the pipes first
    out, err = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if proc.returncode or not lines:
        raise RuntimeError(f"{tool} {mode} on {corpus.name} failed (exit {proc.returncode}):\n{err[-3000:]}")
    result = json.loads(lines[-1])
    result["max_rss_bytes"] = usage.ru_maxrss * 1024
    result["wall_seconds"] = time.perf_counter() - start
    return result


def encode(corpus: Path, target: Path, threads: int, cache: Path) -> dict:
    """`fastw2v encode` once (not repeated): its time and peak memory."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache / "fastw2v-encoded"))
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "fastw2v.cli", "encode", str(corpus), "-o", str(target),
                             "--threads", str(threads)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    proc.stdout.read()  # drained, so that the child never blocks on a full pipe
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"fastw2v encode {corpus} failed:\n{err[-3000:]}")
    return {"seconds": time.perf_counter() - start, "max_rss_bytes": usage.ru_maxrss * 1024,
            "bytes": target.stat().st_size, "message": err.strip().splitlines()[-1]}


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def report(meta, runs, encodes, out: Path) -> str:
    lines = ["# Memory and speed against corpus size", "",
             f"`{meta['command']}`", "",
             f"Machine: {meta['machine']['cpu']}, {meta['machine']['usable_cores']} cores, "
             f"{meta['machine']['memory_gib']} GiB; load average {meta['load_average_start'][0]:.2f} at the "
             f"start, {meta['load_average_end'][0]:.2f} at the end.  Versions: "
             + ", ".join(f"{k} {v}" for k, v in meta["versions"].items() if k != "fastw2v_sources") + ".", "",
             "One epoch, dim 100, window 5, negative 5, sample 1e-3, min_count 5, "
             f"{meta['threads']} threads.  Peak = maximum resident set of the process (ru_maxrss); medians of "
             f"{meta['repeats']} run(s).", "",
             "| corpus | tokens | mode | tool | peak RSS (MB) | words/s | training (s) | read/scan (s) |",
             "|---|---|---|---|---|---|---|---|"]
    groups = {}
    for r in runs:
        groups.setdefault((r["size"], r["mode"], r["tool"]), []).append(r)
    for (size, mode, tool), rs in groups.items():
        lines.append(f"| zipf-{size} | {tokens_of(size):,} | {mode} | {tool} | "
                     f"{median([r['max_rss_bytes'] for r in rs]) / MB:.0f} | "
                     f"{median([r['words_per_second'] for r in rs]):,.0f} | "
                     f"{median([r['train_seconds'] for r in rs]):.1f} | "
                     f"{median([r.get('vocab_seconds') for r in rs]) or 0:.1f} |")
    if encodes:
        lines += ["", "`fastw2v encode` (once per corpus): ", "",
                  "| corpus | seconds | peak RSS (MB) | file bytes | bytes a token |", "|---|---|---|---|---|"]
        for size, e in encodes.items():
            lines.append(f"| zipf-{size} | {e['seconds']:.1f} | {e['max_rss_bytes'] / MB:.0f} | {e['bytes']:,} | "
                         f"{e['bytes'] / tokens_of(size):.2f} |")
    stages = [r for r in runs if r["tool"] in ("fastw2v", "fastw2v-encoded") and "memory_stages" in r]
    if stages:
        lines += ["", "fastw2v, resident set after each stage (VmRSS / VmHWM so far, MB):", "",
                  "| corpus | mode | tool | imports | corpus loaded | weights made | trained |", "|---|---|---|---|---|---|---|"]
        seen = set()
        for r in stages:
            key = (r["size"], r["mode"], r["tool"])
            if key in seen:
                continue
            seen.add(key)
            m = r["memory_stages"]
            cells = " | ".join(f"{m[k]['rss'] / MB:.0f} / {m[k]['peak'] / MB:.0f}"
                               for k in ("imports", "corpus_loaded", "weights_made", "trained"))
            lines.append(f"| zipf-{r['size']} | {r['mode']} | {r['tool']} | {cells} |")
    split = [r for r in runs if "resident_split" in r]
    if split:
        lines += ["", "Resident set at the end of training, as /proc/self/status splits it (MB, medians): anonymous "
                  "(the process's own memory: weights, tables, Python objects, heap) and file-backed (mapped "
                  "files, mostly shared libraries, whose clean pages processes share and the kernel can drop; "
                  "fastw2v unmaps LLVM's once its kernels are loaded).", "",
                  "| corpus | mode | tool | anonymous | file-backed |", "|---|---|---|---|---|"]
        for (size, mode, tool), rs in groups.items():
            rs = [r for r in rs if "resident_split" in r]
            if rs:
                lines.append(f"| zipf-{size} | {mode} | {tool} | "
                             f"{median([r['resident_split']['anon'] for r in rs]) / MB:.0f} | "
                             f"{median([r['resident_split']['file'] for r in rs]) / MB:.0f} |")
    text = "\n".join(lines) + "\n"
    out.with_suffix(".md").write_text(text)
    return text


def chart(runs, out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (tool, mode), rs in itertools.groupby(sorted(runs, key=lambda r: (r["tool"], r["mode"], tokens_of(r["size"]))),
                                              key=lambda r: (r["tool"], r["mode"])):
        rs = list(rs)
        sizes = sorted({tokens_of(r["size"]) for r in rs})
        peaks = [median([r["max_rss_bytes"] for r in rs if tokens_of(r["size"]) == s]) / MB for s in sizes]
        ax.plot(sizes, peaks, marker="o", label=f"{tool} {mode}")
    ax.set_xscale("log")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.15)  # from zero: a few MB must not look like a gap
    ax.set_xlabel("corpus tokens")
    ax.set_ylabel("peak resident memory (MB)")
    ax.set_title("Peak memory against corpus size (1 epoch)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out.with_name(out.name + ".png"), dpi=120)


def main(argv=None) -> None:
    args = parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"command": "python -m bench.memory " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
            "machine": compare.machine_info(), "versions": compare.versions(), "threads": args.threads,
            "repeats": args.repeats, "load_average_start": os.getloadavg()}
    cache = Path(tempfile.mkdtemp(prefix="numba-memory-", dir=args.tmp))
    atexit.register(shutil.rmtree, cache, True)  # the numba cache and encoded files of this run
    runs, encodes = [], {}
    corpora = {size: compare.prepare_corpus(f"zipf-{size}", args.tmp) for size in args.sizes}
    # fill each tool's numba cache first: a cold compile's memory is not the corpus's
    warm = compare.prepare_corpus("zipf-100k", args.tmp)
    encode(warm, warm.with_suffix(".fw2v"), args.threads, cache)
    for tool, mode in itertools.product(args.tools, args.modes):
        if tool != "gensim-file":
            run_tool(tool, warm, warm.with_suffix(".fw2v"), mode, args, cache)
    for size, corpus in corpora.items():
        if "fastw2v-encoded" in args.tools:
            encoded = corpus.with_suffix(".fw2v")
            encodes[size] = encode(corpus, encoded, args.threads, cache)
            print(f"encoded zipf-{size}: {encodes[size]['message']}", file=sys.stderr, flush=True)
    for _, size, mode in itertools.product(range(args.repeats), args.sizes, args.modes):
        compare.warm_page_cache(corpora[size])
        for tool in args.tools:
            if tool == "fastw2v-base" and args.baseline_sizes and size not in args.baseline_sizes:
                continue
            result = run_tool(tool, corpora[size], corpora[size].with_suffix(".fw2v"), mode, args, cache)
            runs.append(dict(result, size=size, mode=mode, tool=tool))
            print(f"zipf-{size} {mode} {tool}: peak {result['max_rss_bytes'] / MB:.0f} MB, "
                  f"{result['words_per_second']:,.0f} words/s", file=sys.stderr, flush=True)
            args.out.with_suffix(".json").write_text(json.dumps({"meta": meta, "runs": runs, "encodes": encodes},
                                                                indent=1))
    meta["load_average_end"] = os.getloadavg()
    args.out.with_suffix(".json").write_text(json.dumps({"meta": meta, "runs": runs, "encodes": encodes}, indent=1))
    print(report(meta, runs, encodes, args.out))
    chart(runs, args.out)


if __name__ == "__main__":
    main()
