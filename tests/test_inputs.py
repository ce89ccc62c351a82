"""Inputs that are not regular files, outputs that behave like the files
people write, and paths that collide: every byte a user gives is trained on
or refused, and no run leaves a half-written or misplaced file."""
import bz2
import gzip
import lzma
import os
import stat
import subprocess
import sys
import threading

import numpy as np
import pytest
from click.testing import CliRunner
from gensim.models import KeyedVectors as GensimKV

from fastw2v.cli import main
from fastw2v.files import InputReader, expand_inputs

from test_cli import assert_one_line_error

TRAIN = ["--dim", "8", "--epochs", "1", "--threads", "2", "--min-count", "1", "--sample", "0", "-q"]


def marked_text(n_lines=3000) -> bytes:
    """Lines that each hold a word found nowhere else ("m<line>"), so a lost
    byte range shows as missing words; about 60 KiB."""
    rs = np.random.RandomState(0)
    common = [f"c{i}" for i in range(20)]
    return "".join(f"m{i} {' '.join(rs.choice(common, 3))}\n" for i in range(n_lines)).encode()


def vocabulary(path) -> set:
    return {line.split()[0] for line in path.read_text().splitlines()}


def cli(args, stdin=None, **kw):
    return subprocess.run([sys.executable, "-m", "fastw2v.cli", *map(str, args)], input=stdin,
                          capture_output=True, timeout=600, **kw)


def expect_all_markers(vocab_path, n_lines=3000):
    words = vocabulary(vocab_path)
    missing = [f"m{i}" for i in range(n_lines) if f"m{i}" not in words]
    assert not missing, f"{len(missing)} marker words lost, the first {missing[:5]}"


@pytest.mark.parametrize("how", ["-", "/dev/stdin"])
@pytest.mark.parametrize("compress", [None, gzip.compress, lzma.compress, bz2.compress],
                         ids=["plain", "gzip", "xz", "bzip2"])
def test_standard_input_delivers_every_byte(tmp_path, how, compress):
    data = marked_text()
    result = cli(["train", how, "-o", tmp_path / "v.bin", "--save-vocab", tmp_path / "vocab.txt", *TRAIN],
                 stdin=compress(data) if compress else data)
    assert result.returncode == 0, result.stderr
    expect_all_markers(tmp_path / "vocab.txt")


def test_fifo_and_process_substitution_deliver_every_byte(tmp_path):
    fifo = tmp_path / "corpus.fifo"
    os.mkfifo(fifo)
    data = lzma.compress(marked_text())

    def writer():
        with open(fifo, "wb") as f:
            for i in range(0, len(data), 1000):  # in small pieces, as a slow producer writes
                f.write(data[i:i + 1000])

    feeding = threading.Thread(target=writer)
    feeding.start()
    result = cli(["train", fifo, "-o", tmp_path / "v.bin", "--save-vocab", tmp_path / "vocab.txt", *TRAIN])
    feeding.join(timeout=60)
    assert result.returncode == 0, result.stderr
    expect_all_markers(tmp_path / "vocab.txt")
    (tmp_path / "c.txt").write_bytes(marked_text())
    script = (f"{sys.executable} -m fastw2v.cli train <(cat {tmp_path / 'c.txt'}) -o {tmp_path / 'w.bin'} "
              f"--save-vocab {tmp_path / 'vocab2.txt'} {' '.join(TRAIN)}")
    result = subprocess.run(["bash", "-c", script], capture_output=True, timeout=600)
    assert result.returncode == 0, result.stderr
    expect_all_markers(tmp_path / "vocab2.txt")


def test_a_stream_given_twice_is_refused(tmp_path):
    result = cli(["train", "-", "-", "-o", tmp_path / "v.bin", *TRAIN], stdin=b"a b c\n")
    assert result.returncode == 2
    assert result.stderr.decode().strip() == \
        "Error: standard input is given twice, but a stream can be read only once"


def test_reader_hands_on_the_sniffed_bytes():
    """A pipe shorter than the sniffing read (3 bytes) still arrives whole."""
    r, w = os.pipe()
    os.write(w, b"ab\n")
    os.close(w)
    saved = os.dup(0)
    os.dup2(r, 0)
    try:
        with InputReader("-") as f:
            assert f.read() == b"ab\n" and not f.compressed
    finally:
        os.dup2(saved, 0)
        os.close(saved)
        os.close(r)


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_bytes(marked_text(300))
    return path


def test_output_equal_to_an_input_is_a_usage_error(corpus, tmp_path):
    before = corpus.read_bytes()
    assert_one_line_error(CliRunner().invoke(main, ["train", str(corpus), "-o", str(corpus), *TRAIN]), 2,
                          f"--output {corpus} is also an input")
    link = tmp_path / "link.txt"
    link.symlink_to(corpus)
    assert_one_line_error(CliRunner().invoke(main, ["train", str(tmp_path), "-o", str(link), *TRAIN]), 2,
                          "is also an input")
    assert corpus.read_bytes() == before


@pytest.mark.parametrize("second", ["--save-vocab", "--output-vectors", "--save-model", "--checkpoint",
                                    "--keep-encoded"])
def test_two_outputs_on_one_path_are_a_usage_error(corpus, tmp_path, second):
    out = tmp_path / "x.bin"
    result = CliRunner().invoke(main, ["train", str(corpus), "-o", str(out), second, str(out), *TRAIN])
    assert_one_line_error(result, 2, f"--output and {second} name the same file")
    assert not out.exists()


def test_new_files_follow_the_umask_and_replaced_files_keep_their_mode(corpus, tmp_path):
    out, vocab = tmp_path / "v.bin", tmp_path / "vocab.txt"
    for mask, mode in ((0o022, 0o644), (0o077, 0o600), (0o002, 0o664)):
        for p in (out, vocab):
            p.unlink(missing_ok=True)
        old = os.umask(mask)
        try:
            result = CliRunner().invoke(main, ["train", str(corpus), "-o", str(out), "--save-vocab", str(vocab),
                                               *TRAIN])
        finally:
            os.umask(old)
        assert result.exit_code == 0, result.output
        assert stat.S_IMODE(out.stat().st_mode) == mode and stat.S_IMODE(vocab.stat().st_mode) == mode
    os.chmod(out, 0o640)
    assert CliRunner().invoke(main, ["train", str(corpus), "-o", str(out), *TRAIN]).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_writing_through_a_symlink_replaces_the_target(corpus, tmp_path):
    (tmp_path / "store").mkdir()
    target = tmp_path / "store" / "vectors.bin"
    target.write_bytes(b"old")
    link = tmp_path / "latest.bin"
    link.symlink_to(target)
    assert CliRunner().invoke(main, ["train", str(corpus), "-o", str(link), *TRAIN]).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert GensimKV.load_word2vec_format(str(target), binary=True).vector_size == 8
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == ["vectors.bin"]  # no temporary left


def test_closed_or_broken_stderr_and_stdout_do_not_stop_training(corpus, tmp_path):
    out = tmp_path / "v.bin"
    args = [sys.executable, "-m", "fastw2v.cli", "train", str(corpus), "-o", str(out), "--dim", "8",
            "--epochs", "3", "--threads", "1", "--min-count", "1"]
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    proc.stderr.readline()      # `... 2>&1 | head -1`: one line, then the reader goes away
    proc.stderr.close()
    proc.stdout.close()
    assert proc.wait(timeout=600) == 0
    assert GensimKV.load_word2vec_format(str(out), binary=True).vector_size == 8
    out.unlink()
    result = subprocess.run(["bash", "-c", " ".join(map(str, args)) + " >&- 2>&-"], timeout=600)
    assert result.returncode == 0
    assert GensimKV.load_word2vec_format(str(out), binary=True).vector_size == 8
    demo = subprocess.run(["bash", "-c", f"{sys.executable} -m fastw2v.cli demo --epochs 1 -q | head -1"],
                          capture_output=True, text=True, timeout=600)
    assert demo.returncode == 0 and demo.stdout.startswith("War and Peace:") and demo.stderr == ""


def test_directory_rules_and_files_that_are_not_text(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "a.txt").write_text("alpha beta\n" * 5)
    (d / "b.txt").write_text("gamma\n" * 5)
    for skipped in (".hidden", "notes.txt~", "#draft#", "old.bak", "x.swp"):
        (d / skipped).write_text("skipped\n" * 5)
    (d / "sub").mkdir()
    (d / "sub" / "c.txt").write_text("deeper\n" * 5)
    (d / "prog").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(200) + b" elfword\n" * 5)
    (d / "nuls.dat").write_bytes(b"w\x00x " * 100 + b"\n")
    assert [os.path.basename(i.path) for i in expand_inputs([d])] == ["a.txt", "b.txt", "nuls.dat", "prog"]
    vocab = tmp_path / "vocab.txt"
    result = CliRunner().invoke(main, ["train", str(d), "-o", str(tmp_path / "v.bin"), "--save-vocab", str(vocab),
                                       *TRAIN])
    assert result.exit_code == 0, result.output
    assert result.output == ("warning: 2 input files do not look like text (binary header or NUL bytes), "
                             f"read as text all the same: {d / 'nuls.dat'}, {d / 'prog'}\n")
    words = vocabulary(vocab)
    assert {"alpha", "beta", "gamma", "elfword"} <= words and not words & {"skipped", "deeper"}


def test_vectors_from_a_pipe(tmp_path):
    from fastw2v.vectors import KeyedVectors

    kv = KeyedVectors(["a", "b", "c"], np.array([[1, 0], [0.9, 0.1], [0, 1]], np.float32))
    for binary in (True, False):
        path = tmp_path / "v.bin"
        kv.save_word2vec_format(path, binary=binary)
        for data in (path.read_bytes(), gzip.compress(path.read_bytes())):
            result = cli(["similar", "/dev/stdin", "a", "-k", "1"], stdin=data)
            assert result.returncode == 0, result.stderr
            assert result.stdout.decode().splitlines()[1].split()[:2] == ["1", "b"]


def test_starting_writeback_is_only_a_hint(tmp_path):
    """start_writeback leaves the bytes as written, and where the kernel
    refuses (a pipe) it neither raises nor blocks."""
    import os
    from fastw2v.files import start_writeback

    path = tmp_path / "out.bin"
    with open(path, "wb") as f:
        f.write(b"x" * 100_000)
        f.flush()
        start_writeback(f.fileno(), 0, 100_000)
        start_writeback(f.fileno(), 50_000, 10**9)  # past the end
    assert path.read_bytes() == b"x" * 100_000
    read_end, write_end = os.pipe()
    try:
        start_writeback(write_end, 0, 10)
    finally:
        os.close(read_end)
        os.close(write_end)
