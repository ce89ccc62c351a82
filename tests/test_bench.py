"""Smoke test of the training benchmark harness (python -m bench.compare) on a
20k-token slice of the embedded War and Peace: one mode, one run per tool,
dim 20, quality on (gensim's copies of the evaluation sets)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EVAL, war_and_peace_lines

REPO = Path(__file__).resolve().parents[1]


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
         "--repeats", "1", "--epochs", "1", "--dim", "20", "--quality", "--eval-dir", str(EVAL), "--out", str(out), "--tmp", str(tmp / "cache")],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.with_suffix(".json").read_text()), out.with_suffix(".md").read_text(), out


def test_runs_have_measurements(report):
    data, _, _ = report
    runs = data["runs"]
    assert [(r["tool"], r["cold"]) for r in runs] == [
        ("fastw2v", True), ("fastw2v", False), ("gensim-file", False), ("gensim-iter", False)]
    raw = {r["raw_words"] for r in runs}
    assert len(raw) == 1 and 20_000 <= raw.pop() < 21_000   # every tool read the same tokens
    assert len({r["vocab_size"] for r in runs}) == 1
    for r in runs:
        assert r["words_per_second"] == pytest.approx(r["raw_words"] * r["epochs"] / r["train_seconds"])
        assert r["words_per_second"] > 0 and r["vocab_seconds"] > 0 and r["peak_rss_bytes"] > 10 * 2 ** 20
        assert r["start_to_train_seconds"] > 0
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
    assert row["ratios"]["gensim-file"]["median"] == pytest.approx(fw / gf)
    assert row["ratios"]["gensim-iter"]["median"] == pytest.approx(fw / gi)
    assert row["ratios"]["best gensim"]["median"] == pytest.approx(fw / max(gf, gi))
    (jit,) = data["summary"]["jit"]
    assert jit["cold"]["compile_seconds"] == data["runs"][0]["compile_seconds"]
    assert [q["tool"] for q in data["summary"]["quality"]] == ["fastw2v", "gensim-file", "gensim-iter"]
    meta = data["meta"]
    assert meta["machine"]["cores"] >= 1 and meta["versions"]["gensim"].startswith("4.")


def test_markdown_and_charts(report):
    data, md, out = report
    for heading in ("## Training speed", "## Vocabulary, memory and start-up", "## fastw2v JIT compile",
                    "## Quality", "## gensim corpus_file"):
        assert heading in md
    ratio = data["summary"]["speed"][0]["ratios"]["best gensim"]["median"]
    assert "| cbow-ns | 1 | 1 | " in md and f"{ratio:.2f}×" in md
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
