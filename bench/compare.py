"""Training benchmark: fastw2v against gensim 4 (corpus_file and iterable modes) and pWord2Vec.

Trains every tool on the same corpus with the same settings (dim, window,
negative or hierarchical softmax, sample, min_count, alpha 0.025 sg / 0.05 cbow
decaying to min_alpha 0.0001, workers = threads), each run in a fresh process
(bench/_runner.py) and the tools alternating run by run, so that machine noise
falls on all of them alike.  Besides fastw2v and gensim's two modes, the
tools are fastw2v-batch (fastw2v with Config(batch_window=True), skip-gram
modes only), fastw2v-base (the fastw2v package in --baseline DIR, e.g. an
older version, with a numba cache of its own) and pword2vec (Intel's
HogBatch skip-gram binary, --pword2vec PATH, sg-ns only); a tool is left out
of the modes it cannot train.  Before the timed runs, each fastw2v code
(this checkout's, the baseline's) runs once per mode with an empty numba
cache (NUMBA_CACHE_DIR) to measure the cold JIT compile; that cache then
serves the mode's timed runs of that code.  Writes <out>.md, <out>.json
(every run's raw numbers) and <out>-speed.png / <out>-scaling.png; see
bench/README.md for what each column means.

    python -m bench.compare --corpus ptb --modes sg-ns,cbow-ns --threads 1,2 --repeats 3
    python -m bench.compare --corpus ptb --modes sg-ns --tools fastw2v,fastw2v-batch,fastw2v-base,pword2vec \\
        --baseline /tmp/oldfw --pword2vec OUTDIR/pWord2Vec
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

TOOLS = ("fastw2v", "fastw2v-batch", "fastw2v-base", "gensim-file", "gensim-iter", "pword2vec")
DEFAULT_TOOLS = ("fastw2v", "gensim-file", "gensim-iter")
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
    ap.add_argument("--tools", type=_choices(TOOLS, "tool"), default=list(DEFAULT_TOOLS),
                    help=f"comma list of {', '.join(TOOLS)} (default: {','.join(DEFAULT_TOOLS)})")
    ap.add_argument("--baseline", type=Path, help="folder holding the fastw2v/ package that fastw2v-base runs")
    ap.add_argument("--pword2vec", type=Path,
                    help="pWord2Vec binary that the pword2vec tool runs (shared/anchors/pword2vec/build.sh OUTDIR)")
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
    if "fastw2v-base" in args.tools and not (args.baseline and (args.baseline / "fastw2v").is_dir()):
        ap.error("--tools fastw2v-base needs --baseline DIR holding a fastw2v/ package")
    if "pword2vec" in args.tools:
        if not (args.pword2vec and os.access(args.pword2vec, os.X_OK) and args.pword2vec.is_file()):
            ap.error("--tools pword2vec needs --pword2vec PATH, the pWord2Vec binary "
                     "(bash shared/anchors/pword2vec/build.sh OUTDIR builds OUTDIR/pWord2Vec)")
        if shutil.which("stdbuf") is None:
            ap.error("--tools pword2vec needs stdbuf (GNU coreutils) to line-buffer pWord2Vec's output")
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


def source_digest(root: Path = REPO) -> str:
    """sha256 of the Python sources of root/fastw2v, to notice edits made while
    a benchmark runs and to name the code a baseline ran."""
    digest = hashlib.sha256()
    for path in sorted((root / "fastw2v").rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


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


def count_tokens(path: Path, block_bytes: int = 1 << 24) -> int:
    """Whitespace-separated tokens of a file (bytes.split), read a block at a
    time: the raw word count of pword2vec, which prints only the words it
    kept."""
    tokens, inside_a_token = 0, False
    with open(path, "rb") as f:
        while block := f.read(block_bytes):
            tokens += len(block.split())
            if inside_a_token and not block[:1].isspace():  # one token across two blocks, counted in both
                tokens -= 1
            inside_a_token = not block[-1:].isspace()
    return tokens


def trains(tool: str, mode: str) -> bool:
    """Whether `tool` can train `mode`: pWord2Vec has skip-gram with negative
    sampling only; batch_window batches skip-gram windows (ns or hs)."""
    if tool == "pword2vec":
        return mode == "sg-ns"
    if tool == "fastw2v-batch":
        return mode.startswith("sg-")
    return True


def numba_code(tool: str) -> str:
    """Which fastw2v code a tool imports, hence which numba cache it needs:
    the baseline's kernels have a cache of their own ('current' for the tools
    that use no numba, which ignore it)."""
    return "baseline" if tool == "fastw2v-base" else "current"


def child_env(tool: str, threads: int, numba_cache: Path, baseline: Path | None = None) -> dict:
    """Environment of a bench/_runner.py child: its numba cache and thread
    count, and for fastw2v-base the baseline folder first on PYTHONPATH, so
    that `import fastw2v` finds the baseline's package before this checkout's
    (installed or not)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(numba_cache), NUMBA_NUM_THREADS=str(threads))
    if tool == "fastw2v-base":
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(baseline), os.environ.get("PYTHONPATH")) if p)
    return env


def run_child(spec: dict, env: dict) -> dict:
    """Start bench/_runner.py for one run and return its JSON result."""
    spec = dict(spec, spawned_at=time.time())
    proc = subprocess.run([sys.executable, str(HERE / "_runner.py"), json.dumps(spec)],
                          capture_output=True, text=True, env=env, cwd=REPO)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode or not lines:
        raise RuntimeError(f"{spec['tool']} {spec['mode']} run failed (exit {proc.returncode}):\n"
                           f"{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def cold_runs(args) -> list[dict]:
    """One run per mode and fastw2v code with an empty numba cache, by the
    first selected fastw2v tool of that code that trains the mode; it also
    fills the cache that the code's timed runs of the mode load."""
    runs = []
    for mode in args.modes:
        codes = {}
        for tool in args.tools:
            if tool.startswith("fastw2v") and trains(tool, mode):
                codes.setdefault(numba_code(tool), tool)
        runs += [{"tool": tool, "mode": mode, "epochs": min(args.epochs), "threads": max(args.threads),
                  "seed": args.seeds[0], "round": None, "cold": True, "quality": False} for tool in codes.values()]
    return runs


def schedule(args) -> list[dict]:
    """The timed runs in order: round by round (seed x repeat), every
    configuration in each round, the tools that train its mode alternating
    within it."""
    runs = []
    for round_no, (seed, _) in enumerate(itertools.product(args.seeds, range(args.repeats))):
        for mode, epochs, threads in itertools.product(args.modes, args.epochs, args.threads):
            for tool in args.tools:
                if trains(tool, mode):
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
        "skipped": [f"{tool} {mode}" for tool in args.tools for mode in args.modes if not trains(tool, mode)],
        "settings": {"modes": args.modes, "tools": args.tools, "threads": args.threads, "epochs": args.epochs,
                     "seeds": args.seeds, "repeats": args.repeats, "quality": args.quality,
                     "params": {m: mode_params(m, args) for m in args.modes}},
        "machine": machine_info(), "versions": versions(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"), "load_average_start": os.getloadavg(),
    }
    tool_specs = {}  # what a tool's runs add to their spec
    if "fastw2v-base" in args.tools:
        meta["baseline"] = {"path": str(args.baseline.resolve()), "sources": source_digest(args.baseline)}
    if "pword2vec" in args.tools:
        meta["pword2vec"] = {"path": str(args.pword2vec.resolve()), "sha256": file_digest(args.pword2vec)}
        tool_specs["pword2vec"] = {"pword2vec": meta["pword2vec"]["path"], "corpus_tokens": count_tokens(corpus)}
    planned = cold_runs(args) + schedule(args)
    needed = dict.fromkeys((run["mode"], numba_code(run["tool"])) for run in planned)
    caches = {(mode, code): Path(tempfile.mkdtemp(prefix=f"numba-{mode}-{code}-", dir=args.tmp))
              for mode, code in needed}
    runs = []
    try:
        for i, run in enumerate(planned, 1):
            spec = dict(run, corpus=str(corpus), params=mode_params(run["mode"], args), eval_dir=str(args.eval_dir),
                        **tool_specs.get(run["tool"], {}))
            env = child_env(run["tool"], run["threads"], caches[run["mode"], numba_code(run["tool"])], args.baseline)
            result = run_child(spec, env)
            runs.append(dict(run, **result))
            print(f"[{i}/{len(planned)}] {run['tool']:<13} {run['mode']} epochs {run['epochs']} "
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
