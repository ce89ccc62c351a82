"""Load-time benchmark: fastw2v against gensim 4.4 on a word2vec binary file.

Writes N x D random float32 vectors (words 'w123456', every 1000th with
multi-byte characters) in the C tool's binary layout to a temporary directory,
then loads the file with each loader REPEATS times, alternating which goes
first, each load in a fresh subprocess that reports its wall time and peak
resident memory.  The peak is the child's VmHWM (/proc/self/status): unlike
getrusage's ru_maxrss, which Linux carries over from the parent across fork
and exec, it counts the child's own memory only.  Memory is reported as the
peak and as the growth over the child's resident size after its imports,
relative to the bytes of the vectors themselves.  Prints a table and writes
bench/results/load_vectors.md.

Usage: python bench/load_vectors.py [--vectors 1000000] [--dim 300] [--repeats 3]
"""
import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "load_vectors.md"


def memory(field: str) -> int:
    """Bytes of a memory figure of this process (VmRSS: now, VmHWM: peak), from /proc."""
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith(field + ":"))
    return int(line.split()[1]) * 1024


def child(loader: str, path: str) -> None:
    """Load `path` once and print one JSON line of measurements."""
    if loader == "fastw2v":
        from fastw2v.vectors import KeyedVectors
    else:
        from gensim.models import KeyedVectors
    base = memory("VmRSS")
    start = time.perf_counter()
    kv = KeyedVectors.load_word2vec_format(path, binary=True)
    seconds = time.perf_counter() - start
    peak = memory("VmHWM")
    print(json.dumps({
        "seconds": seconds, "peak": peak, "base": base, "shape": list(kv.vectors.shape),
        "checksum": float(kv.vectors[::997].astype(np.float64).sum()),
        "words": "".join(kv.index_to_key[::997]),
    }))


def run_child(*args) -> dict:
    out = subprocess.run([sys.executable, __file__, *map(str, args)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.splitlines()[-1]) if out.stdout else {}


def make_file(path: str, n: int, dim: int) -> None:
    """Write the test file (run in a child, so that this process stays small)."""
    from fastw2v.vectors import KeyedVectors

    n, dim = int(n), int(dim)
    words = [f"w{i}" if i % 1000 else f"wört東京{i}" for i in range(n)]
    vectors = np.random.default_rng(0).standard_normal((n, dim), dtype=np.float32)
    KeyedVectors(words, vectors).save_word2vec_format(path, binary=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vectors", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("LOADER", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--make", nargs=3, metavar=("PATH", "N", "DIM"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.make:
        make_file(*args.make)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vectors.bin"
        start = time.perf_counter()
        run_child("--make", path, args.vectors, args.dim)
        print(f"wrote {path.stat().st_size / 2**20:.0f} MiB in {time.perf_counter() - start:.1f} s", flush=True)
        small = Path(tmp) / "small.bin"
        run_child("--make", small, 10, 4)
        tiny = run_child("--child", "fastw2v", small)  # also compiles the numba scanners into their cache
        startup = (tiny["peak"] - tiny["base"]) / 2**20
        load = os.getloadavg()[0]
        runs = {"fastw2v": [], "gensim": []}
        for r in range(args.repeats):
            order = ["fastw2v", "gensim"] if r % 2 == 0 else ["gensim", "fastw2v"]
            for loader in order:
                runs[loader].append(run_child("--child", loader, path))
                print(f"round {r + 1} {loader}: {runs[loader][-1]['seconds']:.2f} s", flush=True)
    ours, theirs = runs["fastw2v"], runs["gensim"]
    for key in ("shape", "checksum", "words"):
        if any(run[key] != theirs[0][key] for run in ours + theirs):
            sys.exit(f"loaders disagree on {key}")
    vector_bytes = args.vectors * args.dim * 4
    rows = []
    for loader, res in runs.items():
        seconds = statistics.median(x["seconds"] for x in res)
        peak = max(x["peak"] for x in res)
        growth = max(x["peak"] - x["base"] for x in res)
        rows.append((loader, seconds, peak / 2**20, growth / 2**20, growth / vector_bytes))
    ratio = rows[1][1] / rows[0][1]
    table = [
        "| loader | median load time (s) | peak RSS (MiB) | peak growth over imports (MiB) | growth / vector bytes |",
        "|---|---|---|---|---|",
        *(f"| {r[0]} | {r[1]:.2f} | {r[2]:.0f} | {r[3]:.0f} | {r[4]:.3f} |" for r in rows),
    ]
    import gensim

    lines = [
        "# Loading a word2vec binary file: fastw2v vs gensim",
        "",
        f"{args.vectors:,} x {args.dim} float32 vectors ({vector_bytes / 2**20:.0f} MiB of vectors), "
        f"median of {args.repeats} loads per loader, alternating order, each in a fresh process.",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {load:.2f} when the loads began "
        f"(other work running slows both loaders, fastw2v's short loads proportionally more); "
        f"Python {platform.python_version()}, numpy {np.__version__}, gensim {gensim.__version__}. "
        f"Produced by `{' '.join(['python bench/load_vectors.py', *map(shlex.quote, sys.argv[1:])])}`.",
        "",
        *table,
        "",
        f"Speed-up (median gensim time / median fastw2v time): {ratio:.1f}x.",
        f"Of fastw2v's growth, {startup:.0f} MiB is numba's one-off start-up in a fresh process "
        "(measured loading a 10-word file); the rest is the vectors, the words and their index.",
        "",
    ]
    print("\n".join(lines))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
