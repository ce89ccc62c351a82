"""`fastw2v train` and `fastw2v demo`: outputs readable by gensim, one-line errors, exit codes."""
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from gensim.models import KeyedVectors as GensimKV

from fastw2v.cli import main


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rs = np.random.RandomState(0)
    words = [f"w{i}" for i in range(60)]
    lines = [" ".join(rs.choice(words, size=12, p=np.r_[np.full(10, 0.05), np.full(50, 0.01)]))
             for _ in range(400)]
    path = tmp_path_factory.mktemp("cli") / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result


def assert_one_line_error(result, code, text):
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [lines[0]] and lines[0].startswith("Error: ") and text in lines[0], result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("fmt", ["--binary", "--text"])
def test_train_writes_files_gensim_reads(corpus, tmp_path, fmt):
    out, vocab, ctx = tmp_path / "v.out", tmp_path / "vocab.txt", tmp_path / "ctx.out"
    result = run("train", corpus, "-o", out, fmt, "--dim", 16, "--epochs", 2, "--threads", 1, "--quiet",
                 "--save-vocab", vocab, "--output-vectors", ctx)
    assert result.exit_code == 0, result.output
    kv = GensimKV.load_word2vec_format(str(out), binary=fmt == "--binary")
    assert kv.vector_size == 16 and len(kv) == 60
    counts = [line.split() for line in vocab.read_text().splitlines()]
    assert [w for w, _ in counts] == kv.index_to_key
    assert sum(int(c) for _, c in counts) == 400 * 12
    context = GensimKV.load_word2vec_format(str(ctx), binary=fmt == "--binary")
    assert context.index_to_key == kv.index_to_key
    assert not np.allclose(context.vectors, kv.vectors)


def test_train_modes_and_options(corpus, tmp_path):
    for extra in (["--cbow", "--hs", "--negative", 0], ["--cbow", "--cbow-sum", "--hs"],
                  ["--softmax", "--negative", 0, "--fixed-window"], ["--batch-window", "--hs"]):
        out = tmp_path / "v.bin"
        result = run("train", corpus, "-o", out, "--dim", 8, "--epochs", 1, "--threads", 2, "-q", *extra)
        assert result.exit_code == 0, (extra, result.output)
        assert GensimKV.load_word2vec_format(str(out), binary=True).vector_size == 8


def test_progress_and_summary_on_stderr(corpus, tmp_path):
    result = CliRunner().invoke(main, ["train", str(corpus), "-o", str(tmp_path / "v.bin"), "--dim", 8,
                                       "--epochs", 2, "--threads", 1])
    assert result.exit_code == 0
    assert "epoch 1/2: loss" in result.output and "epoch 2/2: loss" in result.output
    assert "words/s" in result.output and "vocabulary 60 words" in result.output


@pytest.mark.parametrize("args,code,text", [
    (["--dim", 0], 2, "dim must be >= 1, got 0"),
    (["--window", -3, "--epochs", 0], 2, "window must be >= 1, got -3; epochs must be >= 1, got 0"),
    (["--negative", 0], 2, "negative=0 with hs=False leaves no output layer"),
    (["--cbow", "--batch-window"], 2, "batch_window=True batches skip-gram windows: it needs sg=True"),
    (["--dim", "abc"], 2, "'abc' is not a valid integer"),
    (["--sample", -1], 2, "sample must be >= 0"),
    (["--alpha", 0.01, "--min-alpha", 0.1], 2, "min_alpha must be <= alpha"),
    (["--no-such-flag"], 2, "--no-such-flag"),
    (["--min-count", 100000], 1, "lower min_count to"),
    (["--hs", "--negative", 0, "--output-vectors", "ctx.bin"], 2, "--output-vectors needs negative sampling"),
])
def test_invalid_options(corpus, tmp_path, args, code, text):
    out = tmp_path / "v.bin"
    assert_one_line_error(run("train", corpus, "-o", out, "-q", *args), code, text)
    assert not out.exists()


@pytest.mark.parametrize("args,text", [
    (["-size", 100, "-iter", 5, "-train", "x"], "-size is the word2vec C tool's spelling: use --dim"),
    (["CORPUS", "-o", "OUT", "-iter", 5], "-iter is the word2vec C tool's spelling: use --epochs"),
    (["-train", "CORPUS", "-output", "OUT"], "-train is the word2vec C tool's spelling: give the corpus as an argument"),
    (["CORPUS", "-output", "OUT"], "use -o/--output"),  # click would take it as -o utput
    (["CORPUS", "-o", "OUT", "-cbow", 1], "use --cbow or --sg"),
    (["CORPUS", "-o", "OUT", "-classes", 10], "fastw2v train has no such option"),
])
def test_c_tool_spellings_point_to_the_option_and_the_drop_in(corpus, tmp_path, args, text):
    out = tmp_path / "v.bin"
    args = [corpus if a == "CORPUS" else out if a == "OUT" else a for a in args]
    result = run("train", *args)
    assert_one_line_error(result, 2, text)
    assert "fastw2v-word2vec takes the C tool's flags" in result.output and not out.exists()


@pytest.mark.parametrize("spelling,ours", [("--size", "--dim"), ("--vector-size", "--dim"), ("--workers", "--threads")])
def test_other_long_spellings_suggest_ours(corpus, tmp_path, spelling, ours):
    assert_one_line_error(run("train", corpus, "-o", tmp_path / "v.bin", spelling, 4), 2,
                          f"no such option {spelling}: use {ours}")
    assert_one_line_error(run("train", corpus, "-o", tmp_path / "v.bin", f"{spelling}=4"), 2, f"use {ours}")


def test_a_corpus_after_double_dash_is_not_a_flag(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-size").write_text("a b c a b c\n" * 20)
    result = run("train", "-o", "v.bin", "--min-count", 1, "--dim", 4, "--epochs", 1, "-q", "--", "-size")
    assert result.exit_code == 0, result.output


def test_bad_paths(corpus, tmp_path):
    out = tmp_path / "v.bin"
    assert_one_line_error(run("train", tmp_path / "missing.txt", "-o", out), 2, "no such file")
    assert_one_line_error(run("train", corpus, "-o", tmp_path / "nodir" / "v.bin"), 2,
                          "output directory does not exist")
    assert_one_line_error(run("train", corpus, "-o", tmp_path), 2, "is a directory")
    assert not out.exists()
    assert_one_line_error(run("train", corpus), 2, "Missing option '-o'")


@pytest.mark.parametrize("content", ["", " \n\t \n"])
def test_empty_corpus_is_a_data_error(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_text(content)
    assert_one_line_error(run("train", path, "-o", tmp_path / "v.bin"), 1, "the corpus contains no words")
    assert not (tmp_path / "v.bin").exists()


def test_failed_run_keeps_previous_output(tmp_path):
    out = tmp_path / "v.bin"
    out.write_bytes(b"previous")
    path = tmp_path / "c.txt"
    path.write_text("a b c\n" * 50)
    assert_one_line_error(run("train", path, "-o", out, "--min-count", 1, "--sample", 0, "--alpha", 1e30, "-q"), 1,
                          "diverged in epoch 1")
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt", "v.bin"]  # no temporary left behind


def test_demo_runs_from_the_console_script():
    result = subprocess.run([sys.executable, "-m", "fastw2v.cli", "demo", "--epochs", "1", "-q"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("War and Peace: 571378 words")
    assert any(line.strip().startswith("prince:") for line in lines)
    assert lines[-1].startswith("speed: ") and "words/s" in lines[-1]


def test_unreadable_input_and_unwritable_output(corpus, tmp_path, monkeypatch):
    """Permissions cannot be taken from root, so os.access is made to refuse."""
    import os as os_module

    real_access = os_module.access
    denied = {str(corpus), str(tmp_path / "locked")}
    monkeypatch.setattr(os_module, "access", lambda p, mode, **kw: str(p) not in denied and real_access(p, mode))
    assert_one_line_error(run("train", corpus, "-o", tmp_path / "v.bin"), 2, "not readable")
    (tmp_path / "locked").mkdir()
    other = tmp_path / "c2.txt"
    other.write_text(corpus.read_text())
    assert_one_line_error(run("train", other, "-o", tmp_path / "locked" / "v.bin"), 2,
                          "output directory is not writable")
    assert not (tmp_path / "locked" / "v.bin").exists()


def test_unknown_device_name(corpus, tmp_path):
    assert_one_line_error(run("train", corpus, "-o", tmp_path / "v.bin", "--device", "tpu"), 2, "tpu")


def test_invalid_utf8_nul_and_crlf_are_kept_and_reported(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"caf\xe9 ok a\x00b ok\r\n" * 30 + b"x\tok\xc2\xa0ok\r\n" * 10)
    out = tmp_path / "v.txt"
    result = CliRunner().invoke(main, ["train", str(path), "-o", str(out), "--text", "--min-count", "1",
                                       "--dim", "4", "--epochs", "1", "--threads", "1", "--quiet", "--sample", "0"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "warning: 30 tokens were not valid UTF-8; invalid bytes were replaced by U+FFFD\n"
        f"warning: 1 input file does not look like text (binary header or NUL bytes), read as text all the same: "
        f"{path}\n")
    words = {line.split(" ")[0] for line in out.read_text(encoding="utf-8").splitlines()[1:]}
    assert words == {"caf\ufffd", "ok", "a\x00b", "x"}
