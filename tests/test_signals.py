"""Ctrl-C and SIGTERM at every stage of `fastw2v train`: reading, compiling,
the first and the last kernel call, writing.  Each stops with exit status
130 or 143, writes no new output and leaves no temporary file.

The signals are sent by this harness to a process it started itself: a
process started in the background by a non-interactive shell would inherit
SIGINT as ignored (and keeps it ignored, as the last test checks)."""
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np
import pytest

CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


@pytest.fixture
def corpus(tmp_path):
    rs = np.random.RandomState(0)
    words = [f"w{i}" for i in range(200)]
    path = tmp_path / "in" / "c.txt"
    path.parent.mkdir()
    path.write_text("\n".join(" ".join(rs.choice(words, 20)) for _ in range(4000)) + "\n")
    return path


def start(args, env=None, **kw):
    return subprocess.Popen([sys.executable, "-m", "fastw2v.cli", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, **kw)


def harness(script: str, args):
    """Run the CLI in a process where `script` first patches fastw2v so the
    process signals itself at an exact point."""
    code = textwrap.dedent(script) + textwrap.dedent(f"""
        from fastw2v.cli import main
        main({[str(a) for a in args]!r})
    """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)


def assert_stopped(returncode, stderr, signum, out_dir, previous=None):
    name = signal.Signals(signum).name
    assert returncode == CODES[signum], stderr
    assert f"Interrupted: training interrupted by {name}" in stderr, stderr
    assert "Traceback" not in stderr
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == sorted(previous or []), names  # no new output, no temporary file
    if previous:
        for name, content in previous.items():
            assert (out_dir / name).read_bytes() == content


def train_args(corpus, out_dir, *extra):
    return ["train", corpus, "-o", out_dir / "v.bin", "--save-vocab", out_dir / "vocab.txt", "--dim", 16,
            "--epochs", 2, "--threads", 1, "--min-count", 1, *extra]


def test_sigint_while_compiling_on_a_first_run(corpus, tmp_path):
    """A fresh numba cache forces the cold compile, which is announced first."""
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ, NUMBA_CACHE_DIR=tempfile.mkdtemp(dir=tmp_path))
    proc = start(train_args(corpus, out), env=env)
    line = proc.stderr.readline()
    assert line.startswith("compiling kernels (first run only)"), line
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=120)
    assert time.monotonic() - sent < 30
    assert_stopped(proc.returncode, err, signal.SIGINT, out)


def test_signal_while_reading_a_stream(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    proc = start(["train", "-", "-o", out / "v.bin", "--min-count", 1], stdin=subprocess.PIPE)
    proc.stdin.write("a b c\n" * 1000)
    proc.stdin.flush()  # and the stream stays open: the scan waits for more
    time.sleep(2.0)
    proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - sent < 5
    assert_stopped(proc.returncode, err, signal.SIGTERM, out)


SIGNAL_ON_CALL = """
import os, signal
import importlib
t = importlib.import_module("fastw2v.train")  # the module, not the fastw2v.train function
run = t._CpuRunner.run
calls = []
def signalling_run(self, piece, lr0, lr1, stream):
    calls.append(piece.end)
    last_of_run = piece.end == self.corpus.n_sentences and calls.count(piece.end) == {epochs}
    if (len(calls) == 1) if {first} else last_of_run:
        os.kill(os.getpid(), {signum})
    return run(self, piece, lr0, lr1, stream)
t._CpuRunner.run = signalling_run
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("first", [True, False], ids=["first-call", "last-call"])
def test_signal_during_a_kernel_call(corpus, tmp_path, signum, first):
    out = tmp_path / "out"
    out.mkdir()
    previous = {"v.bin": b"previous vectors"}
    (out / "v.bin").write_bytes(previous["v.bin"])
    result = harness(SIGNAL_ON_CALL.format(epochs=2, first=first, signum=int(signum)), train_args(corpus, out))
    assert_stopped(result.returncode, result.stderr, signum, out, previous)


SIGNAL_AFTER_LAST_CALL = """
import importlib, os, signal
t = importlib.import_module("fastw2v.train")  # the module, not the fastw2v.train function
sync, syncs = t._CpuRunner.sync, []
def signalling_sync(self):
    syncs.append(1)
    if len(syncs) == {epochs}:  # the end of the last epoch, after its last kernel call
        os.kill(os.getpid(), {signum})
    return sync(self)
t._CpuRunner.sync = signalling_sync
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_just_after_the_last_kernel_call(corpus, tmp_path, signum):
    """Once recorded and then forgotten: the run wrote its outputs and exited 0."""
    out = tmp_path / "out"
    out.mkdir()
    result = harness(SIGNAL_AFTER_LAST_CALL.format(epochs=2, signum=int(signum)), train_args(corpus, out))
    assert_stopped(result.returncode, result.stderr, signum, out)


SIGNAL_WHILE_WRITING = """
import os, signal
import fastw2v.vocab as v
save = v.Vocabulary.save
def signalling_save(self, path, outputs=None):
    os.kill(os.getpid(), {signum})
    return save(self, path, outputs)
v.Vocabulary.save = signalling_save
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_while_writing_the_outputs(corpus, tmp_path, signum):
    """The vectors are written when the signal comes with the vocabulary:
    neither appears."""
    out = tmp_path / "out"
    out.mkdir()
    result = harness(SIGNAL_WHILE_WRITING.format(signum=int(signum)), train_args(corpus, out))
    assert_stopped(result.returncode, result.stderr, signum, out)


def test_an_inherited_ignored_sigint_stays_ignored(corpus, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    proc = start(train_args(corpus, out, "--epochs", 20),
                 preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert "words read" in proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["v.bin", "vocab.txt"]
