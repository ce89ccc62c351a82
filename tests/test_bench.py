"""The training benchmark harness (python -m bench.compare): a smoke run on a
20k-token slice of the embedded War and Peace (one mode, one run per tool,
dim 20, quality on with gensim's copies of the evaluation sets; fastw2v-batch
selected but left out, as the mode is CBOW), then the parts of the other
tools that need neither the pWord2Vec binary nor an older fastw2v: their
usage errors, which runs the schedule holds, pWord2Vec's command line and
output, the baseline's PYTHONPATH, and a report built from made-up runs."""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import _report, _runner, compare
from conftest import EVAL, war_and_peace_lines

REPO = Path(__file__).resolve().parents[1]


def is_this_checkout(package) -> bool:
    """Whether a fastw2v package folder holds this checkout's code: the
    source folder itself (editable install) or an installed copy of it."""
    return all((Path(package) / name).read_bytes() == (REPO / "fastw2v" / name).read_bytes()
               for name in ("__init__.py", "train.py", "kernels_cpu.py"))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """Run the harness once; returns (JSON content, Markdown text, output stem)."""
    tmp = tmp_path_factory.mktemp("bench")
    corpus = tmp / "wp-20k.txt"
    lines, tokens = [], 0
    for line in war_and_peace_lines(2000):
        lines.append(line)
        tokens += len(line.split())
        if tokens >= 20_000:
            break
    corpus.write_text("".join(lines))
    out = tmp / "results" / "smoke"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.compare", "--corpus", str(corpus), "--modes", "cbow-ns", "--threads", "1",
         "--tools", "fastw2v,fastw2v-batch,gensim-file,gensim-iter", "--repeats", "1", "--epochs", "1", "--dim", "20",
         "--quality", "--eval-dir", str(EVAL), "--out", str(out), "--tmp", str(tmp / "cache")],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.with_suffix(".json").read_text()), out.with_suffix(".md").read_text(), out


def test_runs_have_measurements(report):
    data, _, _ = report
    runs = data["runs"]
    assert [(r["tool"], r["cold"]) for r in runs] == [   # no fastw2v-batch: it trains skip-gram only
        ("fastw2v", True), ("fastw2v", False), ("gensim-file", False), ("gensim-iter", False)]
    assert data["meta"]["skipped"] == ["fastw2v-batch cbow-ns"]
    assert all(is_this_checkout(r["fastw2v_package"]) for r in runs if r["tool"] == "fastw2v")
    raw = {r["raw_words"] for r in runs}
    assert len(raw) == 1 and 20_000 <= raw.pop() < 21_000   # every tool read the same tokens
    assert len({r["vocab_size"] for r in runs}) == 1
    for r in runs:
        assert r["words_per_second"] == pytest.approx(r["raw_words"] * r["epochs"] / r["train_seconds"])
        assert r["words_per_second"] > 0 and r["vocab_seconds"] > 0 and r["peak_rss_bytes"] > 10 * 2 ** 20
        assert r["start_to_train_seconds"] > 0
        split = r["resident_split"]  # anonymous and file-backed parts of the resident set, at the end
        assert split["anon"] > 2 ** 20 and split["file"] > 2 ** 20
        assert split["anon"] + split["file"] <= r["peak_rss_bytes"] + 2 ** 20  # within the peak (and shmem)
    if not data["meta"]["sources_changed"]:  # an edit of fastw2v during the test makes numba recompile
        assert runs[0]["compile_seconds"] > runs[1]["compile_seconds"]  # cold run compiled, the next one loaded
    for r in runs[1:]:
        q = r["quality"]
        assert q["analogy_questions"] == 19544 and 0 <= q["analogy_covered"] <= 19544
        assert q["wordsim"] is None or -1 <= q["wordsim"] <= 1


def test_summary_is_computed_from_the_runs(report):
    data, _, _ = report
    by_tool = {r["tool"]: r for r in data["runs"] if not r["cold"]}
    (row,) = data["summary"]["speed"]
    assert (row["mode"], row["epochs"], row["threads"]) == ("cbow-ns", 1, 1)
    fw, gf, gi = (by_tool[t]["words_per_second"] for t in ("fastw2v", "gensim-file", "gensim-iter"))
    assert row["tools"]["fastw2v"]["words_per_second"]["median"] == fw
    assert set(row["ratios"]) == {"fastw2v"}
    assert row["ratios"]["fastw2v"]["gensim-file"]["median"] == pytest.approx(fw / gf)
    assert row["ratios"]["fastw2v"]["gensim-iter"]["median"] == pytest.approx(fw / gi)
    assert row["ratios"]["fastw2v"]["best gensim"]["median"] == pytest.approx(fw / max(gf, gi))
    (jit,) = data["summary"]["jit"]
    assert (jit["mode"], jit["tool"]) == ("cbow-ns", "fastw2v")
    assert jit["cold"]["compile_seconds"] == data["runs"][0]["compile_seconds"]
    assert [q["tool"] for q in data["summary"]["quality"]] == ["fastw2v", "gensim-file", "gensim-iter"]
    meta = data["meta"]
    assert meta["machine"]["cores"] >= 1 and meta["versions"]["gensim"].startswith("4.")


def test_markdown_and_charts(report):
    data, md, out = report
    for heading in ("## Training speed", "## Vocabulary, memory and start-up", "## fastw2v JIT compile",
                    "## Quality", "## gensim corpus_file"):
        assert heading in md
    ratio = data["summary"]["speed"][0]["ratios"]["fastw2v"]["best gensim"]["median"]
    assert f"| cbow-ns | 1 | 1 | fastw2v | {ratio:.2f}× | " in md
    assert "| fastw2v batch_window |" in md and "Not run (a mode the tool cannot train): fastw2v-batch cbow-ns" in md
    assert data["meta"]["machine"]["cpu"] in md
    png = out.with_name(out.name + "-speed.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not out.with_name(out.name + "-scaling.png").exists()  # one thread count: no scaling chart


def test_a_missing_bench_extra_is_a_usage_error(monkeypatch, capsys):
    """Checked before the first run, not when the report is written an hour later."""
    import importlib.util

    from bench import compare

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else find_spec(name, *a))
    with pytest.raises(SystemExit) as stop:
        compare.parse_args(["--corpus", "ptb"])
    assert stop.value.code == 2
    assert "missing matplotlib: install the bench extra" in capsys.readouterr().err


# ----- the tools beyond fastw2v and gensim -------------------------------------
@pytest.fixture
def fake_pword2vec(tmp_path):
    """An executable file standing in for the pWord2Vec binary (parse_args only checks that it runs)."""
    binary = tmp_path / "pWord2Vec"
    binary.write_text("#!/bin/sh\nexit 1\n")
    binary.chmod(0o755)
    return binary


@pytest.mark.parametrize("argv, message", [
    (["--tools", "fastw2v,pword2vec"], "--tools pword2vec needs --pword2vec PATH"),
    (["--tools", "pword2vec", "--pword2vec", "no/such/pWord2Vec"], "--tools pword2vec needs --pword2vec PATH"),
    (["--tools", "fastw2v-base"], "--tools fastw2v-base needs --baseline DIR holding a fastw2v/ package"),
    (["--tools", "fastw2v-base", "--baseline", "bench"], "--tools fastw2v-base needs --baseline DIR"),
    (["--tools", "fastw2v,word2vec"], "unknown tool(s) word2vec"),
])
def test_a_tool_without_what_it_runs_is_a_usage_error(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        compare.parse_args(["--corpus", "ptb", *argv])
    assert stop.value.code == 2
    assert message in capsys.readouterr().err


def test_the_new_tools_parse_with_what_they_run(fake_pword2vec):
    args = compare.parse_args(["--corpus", "ptb", "--tools", "fastw2v-base,pword2vec", "--baseline", str(REPO),
                               "--pword2vec", str(fake_pword2vec)])
    assert (args.tools, args.baseline, args.pword2vec) == (["fastw2v-base", "pword2vec"], REPO, fake_pword2vec)
    assert compare.parse_args(["--corpus", "ptb"]).tools == ["fastw2v", "gensim-file", "gensim-iter"]


def _plan(tools, modes=compare.MODES):
    return argparse.Namespace(tools=list(tools), modes=list(modes), seeds=[1], repeats=2, epochs=[1],
                              threads=[1, 2], quality=False)


def test_the_schedule_leaves_out_the_modes_a_tool_cannot_train():
    runs = compare.schedule(_plan(compare.TOOLS))
    modes_of = {tool: {r["mode"] for r in runs if r["tool"] == tool} for tool in compare.TOOLS}
    assert modes_of["pword2vec"] == {"sg-ns"}
    assert modes_of["fastw2v-batch"] == {"sg-ns", "sg-hs"}
    assert all(modes_of[t] == set(compare.MODES) for t in ("fastw2v", "fastw2v-base", "gensim-file", "gensim-iter"))
    sg_ns_round = [r["tool"] for r in runs if (r["mode"], r["threads"], r["round"]) == ("sg-ns", 2, 1)]
    assert sg_ns_round == list(compare.TOOLS)   # the tools still alternate in every round
    assert len(runs) == 2 * 2 * (6 + 5 + 4 + 4)  # rounds x threads x tools in sg-ns, sg-hs, cbow-ns, cbow-hs


def test_each_fastw2v_code_compiles_cold_once_per_mode():
    """This checkout's code by its first tool that trains the mode, the baseline's apart (its own cache)."""
    cold = compare.cold_runs(_plan(("gensim-file", "fastw2v-batch", "fastw2v", "fastw2v-base"), ("sg-ns", "cbow-ns")))
    assert [(r["mode"], r["tool"]) for r in cold] == [
        ("sg-ns", "fastw2v-batch"), ("sg-ns", "fastw2v-base"), ("cbow-ns", "fastw2v"), ("cbow-ns", "fastw2v-base")]
    assert all(r["cold"] and r["threads"] == 2 and r["round"] is None for r in cold)
    assert compare.cold_runs(_plan(("fastw2v-batch", "pword2vec"), ("cbow-ns",))) == []
    assert {compare.numba_code(t) for t in compare.TOOLS if t != "fastw2v-base"} == {"current"}
    assert compare.numba_code("fastw2v-base") == "baseline"


def test_the_pword2vec_command_carries_the_settings(tmp_path):
    params = compare.mode_params("sg-ns", argparse.Namespace(dim=48, window=7, negative=9, sample=1e-4,
                                                             min_count=3))
    spec = {"tool": "pword2vec", "pword2vec": "/opt/pWord2Vec", "corpus": "/data/corpus.txt", "params": params,
            "epochs": 3, "threads": 2, "seed": 1}
    command = _runner.pword2vec_command(spec, tmp_path / "v.bin")
    assert command[:3] == ["stdbuf", "-oL", "/opt/pWord2Vec"]
    flags = dict(zip(command[3::2], command[4::2]))
    assert len(flags) == len(command[3:]) / 2
    assert flags == {"-train": "/data/corpus.txt", "-output": str(tmp_path / "v.bin"), "-binary": "1",
                     "-size": "48", "-window": "7", "-negative": "9", "-sample": "0.0001", "-min-count": "3",
                     "-alpha": "0.025", "-iter": "3", "-threads": "2", "-batch-size": "15"}
    env = _runner.pword2vec_env(2)
    assert (env["OMP_NUM_THREADS"], env["OPENBLAS_NUM_THREADS"]) == ("2", "1")


def test_pword2vec_output_gives_seconds_vocabulary_and_last_rate():
    text = ("number of threads: 1\n\n100K\r200K\rVocab size: 9859\nWords in train file: 929168\n"
            "\rAlpha: 0.025000  Progress: 1.08%  Words/sec: 401.25k\rAlpha: 0.001017  Progress: 99.16%  "
            "Words/sec: 410.02k\nANCHOR train_seconds 2.262 word_count_actual 929169 train_words 929168 "
            "words_per_sec 410796.3\n")
    parsed = _runner.parse_pword2vec_output(text, alpha=0.025)
    assert parsed == {"train_seconds": 2.262, "vocab_size": 9858, "end_lr": pytest.approx(0.025 * 0.0084)}
    assert _runner.parse_pword2vec_output(text.replace("99.16%", "100.00%"), alpha=0.025)["end_lr"] == \
        pytest.approx(0.025e-4)   # its floor
    with pytest.raises(RuntimeError, match="no ANCHOR"):
        _runner.parse_pword2vec_output(text.split("ANCHOR")[0], alpha=0.025)


def test_raw_words_count_tokens_across_blocks(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_bytes(b"alpha beta\tgamma\n\n  delta epsilon\r\nzeta")
    assert [compare.count_tokens(corpus, block_bytes=n) for n in (1, 2, 3, 5, 1 << 24)] == [6] * 5


def test_the_baseline_is_imported_before_this_checkout(tmp_path, monkeypatch):
    """child_env puts --baseline first on PYTHONPATH, ahead of the installed fastw2v and of what
    PYTHONPATH held, and gives the numba cache; other tools keep the environment's PYTHONPATH."""
    baseline = tmp_path / "old"
    (baseline / "fastw2v").mkdir(parents=True)
    (baseline / "fastw2v" / "__init__.py").write_text('"""a stand-in for an older fastw2v"""\n')
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "elsewhere"))
    env = compare.child_env("fastw2v-base", 3, tmp_path / "numba-base", baseline)
    assert env["PYTHONPATH"] == os.pathsep.join([str(baseline), str(tmp_path / "elsewhere")])
    assert (env["NUMBA_CACHE_DIR"], env["NUMBA_NUM_THREADS"]) == (str(tmp_path / "numba-base"), "3")
    assert compare.child_env("fastw2v", 3, tmp_path / "numba", baseline)["PYTHONPATH"] == str(tmp_path / "elsewhere")
    which = [sys.executable, "-c", "import fastw2v; print(fastw2v.__file__)"]
    found = subprocess.run(which, env=env, cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
    assert found == str(baseline / "fastw2v" / "__init__.py")
    current = compare.child_env("fastw2v", 3, tmp_path / "numba", baseline)
    found = subprocess.run(which, env=current, cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert is_this_checkout(Path(found.strip()).parent)


def test_report_divides_each_fastw2v_variant_by_pword2vec(tmp_path):
    """A report built from made-up runs: every tool's column, every variant's ratios, '–' where a tool
    did not run, the tools' notes, and a chart that draws every tool."""
    tools = ["fastw2v", "fastw2v-batch", "fastw2v-base", "gensim-file", "pword2vec"]
    speed = {"fastw2v": 2e5, "fastw2v-batch": 3e5, "fastw2v-base": 1e5, "gensim-file": 1.5e5, "pword2vec": 4e5}
    runs = []
    for mode in ("sg-ns", "cbow-ns"):
        for tool in tools:
            if compare.trains(tool, mode):
                runs.append({"tool": tool, "mode": mode, "epochs": 1, "threads": 2, "seed": 1, "round": 0,
                             "cold": False, "words_per_second": speed[tool], "train_seconds": 1.0,
                             "vocab_seconds": 0.5, "peak_rss_bytes": 2 ** 28, "start_to_train_seconds": 1.0,
                             "raw_words": 1000, "vocab_size": 100, "end_lr": 1e-4})
    args = argparse.Namespace(dim=100, window=5, negative=5, sample=1e-3, min_count=5)
    meta = {"command": "python -m bench.compare ...", "corpus": {"name": "made-up", "path": "/x/c.txt", "bytes": 1},
            "skipped": ["fastw2v-batch cbow-ns", "pword2vec cbow-ns"],
            "settings": {"modes": ["sg-ns", "cbow-ns"], "tools": tools, "threads": [2], "epochs": [1], "seeds": [1],
                         "repeats": 1, "quality": False,
                         "params": {m: compare.mode_params(m, args) for m in ("sg-ns", "cbow-ns")}},
            "machine": {"cpu": "a CPU", "cores": 2, "usable_cores": 2, "memory_gib": 8.0},
            "versions": {"python": "3", "numpy": "2", "numba": "0", "gensim": "4.4.0", "fastw2v": "abc"},
            "baseline": {"path": "/old", "sources": "0123"}, "pword2vec": {"path": "/bin/pw", "sha256": "4567"},
            "started": "then", "finished": "now", "load_average_start": [0.5], "load_average_end": [0.5]}
    out = tmp_path / "made-up"
    _report.write_all(out, meta, runs)
    md = out.with_name("made-up.md").read_text()
    assert "| mode | epochs | threads | fastw2v | fastw2v batch_window | fastw2v baseline | gensim corpus_file | " \
           "pWord2Vec |" in md
    assert "| sg-ns | 1 | 2 | 200.0k | 300.0k | 100.0k | 150.0k | 400.0k |" in md
    assert "| cbow-ns | 1 | 2 | 200.0k | – | 100.0k | 150.0k | – |" in md
    assert "| variant | ÷ gensim corpus_file | ÷ pWord2Vec | ÷ fastw2v |" in md
    assert "| sg-ns | 1 | 2 | fastw2v | 1.33× | 0.50× | – |" in md
    assert "| sg-ns | 1 | 2 | fastw2v batch_window | 2.00× | 0.75× | 1.50× |" in md
    assert "| sg-ns | 1 | 2 | fastw2v baseline | 0.67× | 0.25× | 0.50× |" in md
    assert "| cbow-ns | 1 | 2 | fastw2v baseline | 0.67× | – | 0.50× |" in md
    assert "fastw2v baseline: the fastw2v package in `/old`" in md and "pWord2Vec: `/bin/pw`" in md
    assert out.with_name("made-up-speed.png").read_bytes()[:4] == b"\x89PNG"


def test_round_ratios_against_every_reference_that_ran():
    by_tool = {"fastw2v": 2.0, "fastw2v-batch": 3.0, "gensim-file": 1.0, "gensim-iter": 4.0, "pword2vec": 6.0}
    assert _report.round_ratios(by_tool, "fastw2v-batch") == {
        "best gensim": 0.75, "gensim-file": 3.0, "gensim-iter": 0.75, "pword2vec": 0.5, "fastw2v": 1.5}
    assert "fastw2v" not in _report.round_ratios(by_tool, "fastw2v")
    assert _report.round_ratios({"fastw2v": 1.0, "fastw2v-base": 2.0}, "fastw2v") == {}  # the baseline divides
    assert _report.round_ratios({"fastw2v": 1.0, "fastw2v-base": 2.0}, "fastw2v-base") == {"fastw2v": 2.0}


def test_scan_phases_time_every_stage_of_an_encode(tmp_path):
    """bench.scan --phases: the stages of one encode, timed in a child, add up
    to no more than its total, and the child wrote the whole corpus."""
    from bench import scan
    from fastw2v.corpus import open_corpus_file

    text = tmp_path / "wp.txt"
    lines = war_and_peace_lines(2000)
    text.write_text("".join(lines), encoding="utf-8")
    target = tmp_path / "wp.fw2v"
    spent = scan.phases(text, target, 2, Path(os.environ.get("NUMBA_CACHE_DIR", tmp_path / "numba")))
    assert set(spent) == {*scan.STAGES, "other", "total"}
    assert all(spent[stage] > 0 for stage in scan.STAGES)
    assert sum(spent[stage] for stage in scan.STAGES) <= spent["total"]
    assert spent["other"] >= 0
    corpus = open_corpus_file(target)
    try:
        assert corpus.raw_word_count == sum(len(line.split()) for line in lines)
    finally:
        corpus.close()


def test_mpi_projection_counts_the_rows_a_sync_moved():
    from bench import mpi

    vocab, rows, epochs, syncs = 1000, 300, 2, 50
    full = epochs * 2 * (2 * vocab * 100 * 4)
    run = {"processes": 2, "mode": "sg-ns", "sync": {}, "epochs": epochs, "averages": syncs + epochs,
           "averaged_mb": (full + syncs * rows * 100 * 4) / 2 ** 20, "averaging_seconds": 1.0,
           "words_per_second": 3e6}
    assert mpi.rows_per_sync(run, vocab) == pytest.approx(rows)
    assert mpi.rows_per_sync({**run, "sync": {"every": 1000}}, vocab) is None  # not the default intervals
    lines = []
    mpi.projection([{**run, "processes": 1}, run], lines, vocab)
    table = [line for line in lines if line.startswith("| 8 |") or line.startswith("| 64 |")]
    assert len(table) == 8 and all(line.count("%") == 1 for line in table)


def test_scan_times_the_encode_alone_and_writes_what_the_command_writes(tmp_path):
    """bench.scan's scan + encode timing runs encode_to_file in a child and
    writes the same corpus as the `fastw2v encode` command it is compared
    with, replacing no earlier output."""
    from bench import scan
    from fastw2v.corpus import open_corpus_file

    text = tmp_path / "wp.txt"
    text.write_text("".join(war_and_peace_lines(2000)), encoding="utf-8")
    cache = Path(os.environ.get("NUMBA_CACHE_DIR", tmp_path / "numba"))
    by_command, alone = tmp_path / "command.fw2v", tmp_path / "alone.fw2v"
    alone.write_bytes(b"an earlier output")
    assert scan.encode(text, by_command, 2, cache) > 0
    wall, cpu = scan.scan_and_encode(text, alone, 2, cache)
    assert wall > 0 and cpu > 0
    fingerprints = []
    for path in (by_command, alone):
        corpus = open_corpus_file(path)
        fingerprints.append((corpus.fingerprint, corpus.vocab.words))
        corpus.close()
    assert fingerprints[0] == fingerprints[1]
    assert fingerprints[0][1]


def test_scan_pairs_the_runs_of_a_repeat():
    """bench.scan's paired speed-up divides the runs of the same repeat, so
    a slow phase of the machine, which slows both, does not count."""
    from bench import scan

    one = [1.0, 2.0, 1.0, 2.0, 2.0]   # the machine slow in repeats 2, 4 and 5
    two = [0.5, 1.0, 0.6, 1.25, 1.0]
    assert scan.paired_speed_up(one, two) == pytest.approx((2.0, 1.6, 2.0))
    with pytest.raises(ValueError):
        scan.paired_speed_up(one, two[:-1])


def test_scan_splits_the_repeats_by_the_cpu_their_runs_used():
    """bench.scan's CPU view: a repeat whose runs used the same CPU time
    within CPU_SAME counts apart from one where the second run used more
    (its threads shared cores with the host's other work)."""
    from bench import scan

    one = [(1.0, 1.0), (2.0, 1.0), (1.0, 1.0), (1.2, 1.2)]
    two = [(0.5, 1.04), (1.0, 1.5), (0.6, 0.96), (0.8, 1.3)]
    same, more = scan.same_cpu_speed_up(one, two)
    assert same == pytest.approx([2.0, 1 / 0.6]) and more == pytest.approx([2.0, 1.5])
    with pytest.raises(ValueError):
        scan.same_cpu_speed_up(one, two[:-1])


def test_scan_times_the_baseline_with_its_own_package(tmp_path):
    """bench.scan --baseline: the baseline's scan + encode imports fastw2v
    from the baseline folder, ahead of this checkout, given paths relative
    to where the bench runs."""
    from bench import scan

    baseline = tmp_path / "old"
    (baseline / "fastw2v").mkdir(parents=True)
    (baseline / "fastw2v" / "__init__.py").write_text('"""a stand-in for an older fastw2v"""\n')
    (baseline / "fastw2v" / "scan.py").write_text("def first_separator_end(data):\n    return -1\n")
    (baseline / "fastw2v" / "corpus.py").write_text(
        "import pathlib\n"
        "class Closed:\n    def close(self):\n        pass\n"
        "def encode_to_file(paths, output, threads=1):\n"
        "    pathlib.Path(output).write_text(f'baseline {pathlib.Path(paths[0]).read_text()} {threads}')\n"
        "    return None, Closed(), None\n")
    (tmp_path / "text.txt").write_text("some words")
    cache = Path(os.environ.get("NUMBA_CACHE_DIR", tmp_path / "numba"))
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert min(scan.scan_and_encode(Path("text.txt"), Path("out.fw2v"), 2, cache, baseline)) >= 0
    finally:
        os.chdir(here)
    assert (tmp_path / "out.fw2v").read_text() == "baseline some words 2"
    with pytest.raises(SystemExit):
        scan.parse_args(["--baseline", str(tmp_path)])  # no fastw2v/ there
