"""Distributed training (mpiexec) against one process: speed, quality and the
cost of the averaging, and a projection to clusters.

    python -m bench.mpi --corpus en-mix --configs 1x2,2x1,4x1 --modes sg-ns,cbow-ns --epochs 5 --seeds 1,2
        [--quality] [--out bench/results/mpi]

A config is PROCESSESxTHREADS, optionally with sync options:
`2x1:rows=1024:every=500000:full=0:saturation=0.01` (--sync-rows,
--sync-every, --full-sync-every, --sync-saturation).  The corpus is encoded once (`fastw2v encode`); every
run is `mpiexec -n P fastw2v train corpus.fw2v --threads T ...` (one process
without mpiexec) in a fresh process tree; within a round (a seed) the
configs alternate.  Words/s and the averaging cost (averages, MB, seconds)
come from the run's own summary line; with --quality the vectors are scored
with gensim's evaluator (analogies restricted to 30,000 words, SimLex-999,
WordSim-353), as bench.compare does.

The projection takes the measured words/s of one process and the measured
cost of an average and assumes a ring Allreduce (2 (N-1)/N of the bytes
through every link) with no overlap of computing and averaging.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import compare
from bench._runner import quality

HERE = Path(__file__).resolve().parent
MPIEXEC = str(Path(sys.executable).parent / "mpiexec")
SUMMARY = re.compile(r"trained (\d+) words in ([\d.]+) s \(([\d,]+) words/s")
AVERAGES = re.compile(r"(\d+) syncs of ([\d,.]+) MB in all took ([\d.]+) s")
SYNC_FLAGS = {"rows": "--sync-rows", "every": "--sync-every", "full": "--full-sync-every",
              "saturation": "--sync-saturation"}


def parse_config(text: str) -> dict:
    head, *options = text.split(":")
    processes, threads = (int(x) for x in head.split("x"))
    sync = {}
    for option in options:
        name, value = option.split("=")
        if name not in SYNC_FLAGS:
            raise argparse.ArgumentTypeError(f"unknown sync option {name!r} in {text!r}")
        sync[name] = float(value) if name == "saturation" else int(value)
    return {"name": text, "processes": processes, "threads": threads, "sync": sync}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.mpi", description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default="en-mix", help="as bench.compare's --corpus")
    ap.add_argument("--configs", type=compare._comma_list(parse_config), default=[parse_config(c) for c in
                                                                                  ("1x2", "2x1", "4x1")])
    ap.add_argument("--modes", type=compare._choices(("sg-ns", "cbow-ns", "sg-hs", "cbow-hs"), "mode"),
                    default=["sg-ns", "cbow-ns"])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seeds", type=compare._comma_list(int), default=[1, 2])
    ap.add_argument("--quality", action="store_true")
    ap.add_argument("--eval-dir", type=Path, default=compare.SHARED / "eval")
    ap.add_argument("--tmp", type=Path, default=HERE / "results" / "tmp")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "mpi")
    ap.add_argument("--project", action="store_true",
                    help="add the cluster projection (1M words x 300 dimensions, 8 and 64 nodes, 10/100 Gb/s)")
    return ap.parse_args(argv)


MODE_FLAGS = {"sg-ns": ["--sg"], "cbow-ns": ["--cbow"], "sg-hs": ["--sg", "--hs", "--negative", "0"],
              "cbow-hs": ["--cbow", "--hs", "--negative", "0"]}


def run(config: dict, mode: str, epochs: int, seed: int, encoded: Path, out: Path, cache: Path) -> dict:
    train = [sys.executable, "-m", "fastw2v.cli", "train", str(encoded), "-o", str(out), "--threads",
             str(config["threads"]), "--epochs", str(epochs), "--seed", str(seed), *MODE_FLAGS[mode]]
    for name, value in config["sync"].items():
        train += [SYNC_FLAGS[name], str(value)]
    argv = train if config["processes"] == 1 else [MPIEXEC, "-n", str(config["processes"]), *train]
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    if proc.returncode:
        raise RuntimeError(f"{config['name']} {mode} seed {seed} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    summary = proc.stderr.strip().splitlines()[-1]
    words, seconds, rate = SUMMARY.search(summary).groups()
    result = {"config": config["name"], "processes": config["processes"], "threads": config["threads"],
              "sync": config["sync"], "mode": mode, "epochs": epochs, "seed": seed, "words": int(words),
              "train_seconds": float(seconds), "words_per_second": int(rate.replace(",", "")),
              "wall_seconds": time.perf_counter() - start, "summary": summary}
    averages = AVERAGES.search(summary)
    if averages:
        result.update(averages=int(averages.group(1)), averaged_mb=float(averages.group(2).replace(",", "")),
                      averaging_seconds=float(averages.group(3)))
    return result


def score(path: Path, eval_dir: Path) -> dict:
    from fastw2v import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(path)
    return quality(list(kv.index_to_key), kv.vectors, str(eval_dir))


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def mean(values):
    values = [v for v in values if v is not None]
    return statistics.fmean(values) if values else None


def rows_per_sync(run: dict, vocab: int, dim: int = 100) -> float | None:
    """The rows a sync of the rows trained on moved in `run` (a distributed
    one at the default intervals): its bytes less those of the whole-model
    sync at each epoch's end (syn0 and syn1neg, reduced then broadcast)."""
    if not run.get("averages") or run["sync"]:
        return None
    full_bytes = run["epochs"] * 2 * (2 * vocab * dim * 4)
    return (run["averaged_mb"] * 2 ** 20 - full_bytes) / (run["averages"] - run["epochs"]) / (dim * 4)


def projection(runs: list, lines: list, vocab: int) -> None:
    """Projected words/s of N nodes for a 1M-word x 300-dim model."""
    single = [r for r in runs if r["processes"] == 1 and r["mode"] == "sg-ns"] or \
        [r for r in runs if r["processes"] == 1]
    multi = [r for r in runs if r.get("averaging_seconds") and r.get("averaged_mb")]
    measured = [rows_per_sync(r, vocab) for r in multi if r["mode"] == "sg-ns" and r["processes"] == 2]
    measured = [m for m in measured if m]
    if not single or not multi or not measured:
        lines.append("\n(no projection: needs a 1-process config and a 2-process one at the default intervals)")
        return
    words_per_second = median([r["words_per_second"] for r in single])
    measured_rate = median([r["averaged_mb"] * 2 ** 20 / r["averaging_seconds"] for r in multi
                            if r["averaging_seconds"] > 0])
    from fastw2v.config import Config

    defaults = Config()
    big_vocab, dim, hot = 1_000_000, 300, defaults.sync_rows
    trained_rows = median(measured) - hot  # rows trained on per sync, besides the hot output rows

    def sync_bytes(every):
        """Bytes of one sync at `every` words between syncs: the hot output
        rows and the rows trained on, as many as en-mix's at the default
        interval, grown in proportion to the interval (an upper bound: fewer
        new words appear the longer it is), at most the whole model."""
        rows = min(hot + trained_rows * every / defaults.sync_every, 2 * big_vocab)
        return rows * dim * 4

    full_bytes = big_vocab * dim * 4 * 2
    node_rate = words_per_second / 3
    lines += ["", "## Projection to clusters", "",
              f"A 1M-word x 300-dimension model, skip-gram NS.  A sync moves the output rows of the "
              f"{hot:,} most frequent words (the `--sync-rows` default) and the rows of the words any rank "
              f"trained on since the last one: {median(measured):,.0f} rows in all per sync on en-mix with 2 "
              f"ranks at the default interval (measured above), {sync_bytes(defaults.sync_every) / 2 ** 20:.1f} "
              f"MB at 300 dimensions, assumed the same for the larger vocabulary and grown in proportion to a "
              f"longer interval.  The whole model ({full_bytes / 2 ** 30:.2f} GiB) is synced once per epoch (the "
              f"`--full-sync-every` default; an epoch of 1e9 words a node).  Each node trains at "
              f"{node_rate:,.0f} words/s (one process of this machine's, measured above, divided by 3: a "
              f"300-dimension model trains about 3x slower than 100).  Syncs every `--sync-every` words of all "
              f"nodes together: the default {defaults.sync_every:,}, and that interval grown with the nodes "
              f"({defaults.sync_every // 2:,} words a node, what 2 ranks sync at with the default).  Ring "
              f"Allreduce: 2 (N-1)/N of the bytes cross every link, plus 50 us a step x 2 (N-1) steps.  "
              f"Measured on this machine (2 local ranks, shared memory): {measured_rate / 2 ** 20:,.0f} MB/s of "
              f"synced weights.",
              "", "| nodes | link | --sync-every | MB a sync | sync (s) | full sync (s) | compute between syncs (s) | "
                  "efficiency | projected words/s |", "|---|---|---|---|---|---|---|---|---|"]
    for nodes, gbits in itertools.product((8, 64), (10, 100)):
        link = gbits * 1e9 / 8
        steps = 2 * (nodes - 1)
        full = 2 * (nodes - 1) / nodes * full_bytes / link + steps * 50e-6
        for every in sorted({defaults.sync_every, defaults.sync_every // 2 * nodes}):
            sync = 2 * (nodes - 1) / nodes * sync_bytes(every) / link + steps * 50e-6
            compute = every / nodes / node_rate
            epoch_compute = 1e9 / node_rate
            syncs_per_epoch = 1e9 * nodes / every
            efficiency = epoch_compute / (epoch_compute + syncs_per_epoch * sync + full)
            lines.append(f"| {nodes} | {gbits} Gb/s | {every:,} | {sync_bytes(every) / 2 ** 20:.1f} | {sync:.3f} | "
                         f"{full:.2f} | {compute:.3f} | {efficiency:.1%} | {nodes * node_rate * efficiency:,.0f} |")
    lines += ["", "Where it stops holding: the projection counts bandwidth, not quality: quality is measured "
              "above for up to 4 ranks only, and the more nodes, the more the copies drift between syncs (with "
              "the interval grown with the nodes, each node trains as long between syncs as one of 2 ranks, but "
              "N copies drift apart).  It assumes the data of each node is local and read at training speed, a "
              "flat network without contention, and that no node is slower than the others (every sync waits "
              "for the slowest); beyond about 10^8 synced bytes per sync the latency terms no longer matter but "
              "memory bandwidth on the node does."]


def report(meta, runs, out: Path, project: bool) -> str:
    lines = ["# Distributed training against one process", "", f"`{meta['command']}`", "",
             f"Machine: {meta['machine']['cpu']}, {meta['machine']['usable_cores']} cores; load average "
             f"{meta['load_average_start'][0]:.2f} at the start, {meta['load_average_end'][0]:.2f} at the end.  "
             f"fastw2v {meta['versions']['fastw2v']}, mpi4py + MPICH {meta['mpich']}.  Corpus {meta['corpus']} "
             f"({meta['tokens']:,} tokens), dim 100, window 5, negative 5, sample 1e-3, min_count 5.  "
             f"Words/s: medians over seeds; quality: means over seeds.", "",
             "| mode | epochs | config | words/s | ratio to first config | analogy | SimLex | WordSim | syncs | "
             "MB synced | sync s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (mode, epochs), group in itertools.groupby(sorted(runs, key=lambda r: (r["mode"], r["epochs"])),
                                                   key=lambda r: (r["mode"], r["epochs"])):
        group = list(group)
        by_config = {}
        for r in group:
            by_config.setdefault(r["config"], []).append(r)
        base = None
        for name, rs in by_config.items():
            rate = median([r["words_per_second"] for r in rs])
            base = base or rate
            q = [r.get("quality") or {} for r in rs]
            analogy = mean([x.get("analogy") for x in q])
            lines.append(
                f"| {mode} | {epochs} | {name} | {rate:,.0f} | {rate / base:.2f} | "
                + (f"{100 * analogy:.2f}%" if analogy is not None else "-") + " | "
                + " | ".join(f"{v:.3f}" if v is not None else "-" for v in (mean([x.get("simlex") for x in q]),
                                                                         mean([x.get("wordsim") for x in q])))
                + " | " + " | ".join(f"{v:,.6g}" if v is not None else "-" for v in (
                    median([r.get(key) for r in rs]) for key in ("averages", "averaged_mb", "averaging_seconds")))
                + " |")
    if project:
        projection(runs, lines, meta["vocab"])
    text = "\n".join(lines) + "\n"
    out.with_suffix(".md").write_text(text)
    return text


def main(argv=None) -> None:
    from importlib import metadata

    args = parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    corpus = compare.prepare_corpus(args.corpus, args.tmp)
    encoded = corpus.with_suffix(".fw2v")
    if not encoded.exists():
        subprocess.run([sys.executable, "-m", "fastw2v.cli", "encode", str(corpus), "-o", str(encoded), "-q"],
                       check=True)
    from fastw2v.corpus import open_corpus_file

    with_file = open_corpus_file(encoded)
    meta = {"command": "python -m bench.mpi " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
            "machine": compare.machine_info(), "versions": compare.versions(), "mpich": metadata.version("mpich"),
            "corpus": args.corpus, "tokens": with_file.raw_word_count, "vocab": len(with_file.vocab),
            "load_average_start": os.getloadavg()}
    with_file.close()
    cache = Path(tempfile.mkdtemp(prefix="numba-mpi-", dir=args.tmp))
    vectors = Path(tempfile.mkdtemp(prefix="mpi-vectors-", dir=args.tmp)) / "v.bin"
    runs = []
    try:
        for seed, mode, config in itertools.product(args.seeds, args.modes, args.configs):
            result = run(config, mode, args.epochs, seed, encoded, vectors, cache)
            if args.quality:
                result["quality"] = score(vectors, args.eval_dir)
            runs.append(result)
            print(f"{mode} seed {seed} {config['name']}: {result['words_per_second']:,} words/s"
                  + (f", analogy {result['quality']['analogy']:.4f}" if args.quality else ""),
                  file=sys.stderr, flush=True)
            args.out.with_suffix(".json").write_text(json.dumps({"meta": meta, "runs": runs}, indent=1))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(vectors.parent, ignore_errors=True)
    meta["load_average_end"] = os.getloadavg()
    args.out.with_suffix(".json").write_text(json.dumps({"meta": meta, "runs": runs}, indent=1))
    print(report(meta, runs, args.out, args.project))


if __name__ == "__main__":
    main()
