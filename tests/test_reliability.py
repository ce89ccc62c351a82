"""Interruption, checkpoints, resume, continued training and crash-safe writes."""
import importlib
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

from gensim.models import KeyedVectors as GensimKV

import fastw2v
from fastw2v.cli import main
from fastw2v.progress import Progress
from fastw2v.train import TrainingInterrupted, resume

train_mod = importlib.import_module("fastw2v.train")  # the module, not the fastw2v.train function


def topic_corpus(path, n_lines=3000, seed=0):
    rs = np.random.RandomState(seed)
    words = [f"w{i}" for i in range(300)]
    p = 1.0 / np.arange(1, 301)
    p /= p.sum()
    path.write_text("\n".join(" ".join(rs.choice(words, size=20, p=p)) for _ in range(n_lines)) + "\n")
    return path


class SignalAfter(Progress):
    """Sends a signal to this process after `calls` kernel calls (a deterministic Ctrl-C)."""

    def __init__(self, epochs, calls, signum=signal.SIGINT):
        super().__init__(epochs, quiet=True)
        self.calls, self.signum = calls, signum

    def update(self, *args, **kwargs):
        self.calls -= 1
        if self.calls == 0:
            os.kill(os.getpid(), self.signum)


@pytest.fixture
def small_calls(monkeypatch):
    monkeypatch.setattr(train_mod, "WORDS_PER_PART", 3000)  # several kernel calls per epoch


@pytest.mark.parametrize("sg,every", [(True, 10_000), (False, None)])
def test_interrupted_and_resumed_run_is_byte_identical(tmp_path, small_calls, sg, every):
    corpus = topic_corpus(tmp_path / "c.txt")
    options = dict(sg=sg, dim=16, epochs=3, threads=1, seed=5, min_count=2)
    reference = fastw2v.train(corpus, quiet=True, **options)

    config = fastw2v.Config(**options)
    vocab, encoded, _ = train_mod.load_training_corpus(corpus, config)
    model = train_mod.Word2Vec.initialize(config, vocab)
    checkpoint = tmp_path / "ck.npz"
    with encoded, pytest.raises(TrainingInterrupted) as stopped:
        model.train_encoded(encoded, SignalAfter(3, calls=7), checkpoint=checkpoint, checkpoint_every=every)
    assert stopped.value.signum == signal.SIGINT and stopped.value.exit_code == 130
    resumed = resume(checkpoint, corpus, quiet=True)
    assert resumed.syn0.tobytes() == reference.syn0.tobytes()
    assert resumed.syn1neg.tobytes() == reference.syn1neg.tobytes()
    assert [s.examples for s in resumed.history] == [s.examples for s in reference.history]


def test_resume_refuses_another_corpus(tmp_path, small_calls):
    corpus = topic_corpus(tmp_path / "c.txt")
    config = fastw2v.Config(dim=8, epochs=2, threads=1, min_count=2)
    vocab, encoded, _ = train_mod.load_training_corpus(corpus, config)
    model = train_mod.Word2Vec.initialize(config, vocab)
    with encoded, pytest.raises(TrainingInterrupted):
        model.train_encoded(encoded, SignalAfter(2, calls=2), checkpoint=tmp_path / "ck.npz")
    other = topic_corpus(tmp_path / "other.txt", seed=1)
    with pytest.raises(fastw2v.TrainingError, match="corpus differs"):
        resume(tmp_path / "ck.npz", other, quiet=True)


def test_sigterm_without_checkpoint(tmp_path, small_calls):
    corpus = topic_corpus(tmp_path / "c.txt")
    config = fastw2v.Config(dim=8, epochs=2, threads=1, min_count=2)
    vocab, encoded, _ = train_mod.load_training_corpus(corpus, config)
    model = train_mod.Word2Vec.initialize(config, vocab)
    with encoded, pytest.raises(TrainingInterrupted, match="SIGTERM; no output written") as stopped:
        model.train_encoded(encoded, SignalAfter(2, calls=1, signum=signal.SIGTERM))
    assert stopped.value.exit_code == 143
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # handlers restored


def cli(*args, env=None):
    return subprocess.Popen([sys.executable, "-m", "fastw2v.cli", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_cli_stops_on_signal_and_resumes(tmp_path, signum, code):
    corpus = topic_corpus(tmp_path / "c.txt", n_lines=20_000)
    out, ck = tmp_path / "v.bin", tmp_path / "ck.npz"
    out.write_bytes(b"previous")
    args = ["train", corpus, "-o", out, "--dim", 32, "--epochs", 20, "--threads", 1, "--min-count", 2,
            "--checkpoint", ck, "--checkpoint-every", 100_000]
    proc = cli(*args)
    line = proc.stderr.readline()  # "... words read, vocabulary ..." once training starts
    assert "words read" in line, line
    time.sleep(1.0)
    proc.send_signal(signum)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert time.monotonic() - sent < 3.0
    assert f"Interrupted: training interrupted by {signal.Signals(signum).name}; checkpoint written" in err
    assert "Traceback" not in err
    assert out.read_bytes() == b"previous" and ck.exists()
    result = CliRunner().invoke(main, ["train", str(corpus), "-o", str(out), "--resume", str(ck), "-q"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() != b"previous"


def interrupted_cli_run(args, signal_at_call, words_per_part=3000):
    """Run `fastw2v train args` in a process that sends itself SIGINT during
    kernel call number `signal_at_call` (a deterministic Ctrl-C); its slices
    are those of WORDS_PER_PART = words_per_part (see small_calls)."""
    code = (f"import importlib, os, signal\n"
            f"t = importlib.import_module('fastw2v.train')\n"
            f"t.WORDS_PER_PART = {words_per_part}\n"
            f"run, calls = t._CpuRunner.run, []\n"
            f"def signalling(self, *a):\n"
            f"    calls.append(1)\n"
            f"    if len(calls) == {signal_at_call}:\n"
            f"        os.kill(os.getpid(), signal.SIGINT)\n"
            f"    return run(self, *a)\n"
            f"t._CpuRunner.run = signalling\n"
            f"from fastw2v.cli import main\n"
            f"main({[str(a) for a in args]!r})\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)


def test_cli_resume_with_the_same_command_line(tmp_path, small_calls):
    """The natural up-arrow + --resume: every option repeated, the result
    byte-identical to an uninterrupted run (one thread)."""
    corpus = topic_corpus(tmp_path / "c.txt", n_lines=2000)
    options = ["--dim", "12", "--window", "3", "--epochs", "3", "--threads", "1", "--min-count", "2", "--cbow",
               "--negative", "3", "--seed", "4", "--sample", "1e-3", "-q"]
    reference = tmp_path / "ref.bin"
    assert CliRunner().invoke(main, ["train", str(corpus), "-o", str(reference), *options]).exit_code == 0
    out, ck = tmp_path / "v.bin", tmp_path / "ck.npz"
    args = ["train", str(corpus), "-o", str(out), *options, "--checkpoint", str(ck)]
    stopped = interrupted_cli_run(args, signal_at_call=4)  # the second epoch's first call
    assert stopped.returncode == 130, stopped.stderr
    assert not out.exists() and ck.exists()
    result = CliRunner().invoke(main, [*args, "--resume", str(ck)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == reference.read_bytes()


@pytest.mark.parametrize("option,value,saved", [("--dim", "10", "8"), ("--window", "2", "5"), ("--negative", "7", "5"),
                                                ("--min-count", "3", "5"), ("--epochs", "4", "1"),
                                                ("--sample", "0", "0.001")])
def test_cli_resume_refuses_other_settings_by_name(tmp_path, option, value, saved):
    corpus = topic_corpus(tmp_path / "c.txt", n_lines=300)
    ck = tmp_path / "ck.npz"
    runner = CliRunner()
    assert runner.invoke(main, ["train", str(corpus), "-o", str(tmp_path / "v.bin"), "--checkpoint", str(ck),
                                "--dim", "8", "--epochs", "1", "-q"]).exit_code == 0
    same = ["--epochs", "1"] if option != "--epochs" else ["--dim", "8"]  # given again with its own value
    result = runner.invoke(main, ["train", str(corpus), "-o", str(tmp_path / "w.bin"), "--resume", str(ck),
                                  *same, option, value])
    assert result.exit_code == 2, result.output
    shown = {"--sample": "0.0"}.get(option, value)
    assert f"differ: {option} {shown} (the checkpoint has {saved}). Leave these options out" in result.output
    assert not (tmp_path / "w.bin").exists()


def test_cli_resume_with_other_threads_and_after_the_end(tmp_path, small_calls):
    corpus = topic_corpus(tmp_path / "c.txt", n_lines=2000)
    out, ck = tmp_path / "v.bin", tmp_path / "ck.npz"
    args = ["train", str(corpus), "-o", str(out), "--dim", "8", "--epochs", "2", "--threads", "1",
            "--checkpoint", str(ck), "-q"]
    assert interrupted_cli_run(args, signal_at_call=2).returncode == 130
    result = CliRunner().invoke(main, [*args, "--threads", "2", "--resume", str(ck)])
    assert result.exit_code == 0, result.output
    assert GensimKV.load_word2vec_format(str(out), binary=True).vector_size == 8
    first = out.read_bytes()
    out.unlink()
    result = CliRunner().invoke(main, ["train", str(corpus), "-o", str(out), "--resume", str(ck)])
    assert result.exit_code == 0, result.output
    assert "the checkpoint's run had finished (2 epochs): writing its outputs" in result.output
    assert out.read_bytes() == first


def test_cli_resume_refuses_a_saved_model(tmp_path):
    corpus = topic_corpus(tmp_path / "c.txt", n_lines=300)
    runner = CliRunner()
    model = tmp_path / "m.npz"
    assert runner.invoke(main, ["train", str(corpus), "-o", str(tmp_path / "v.bin"), "--save-model", str(model),
                                "--dim", "8", "--epochs", "1", "-q"]).exit_code == 0
    result = runner.invoke(main, ["train", str(corpus), "-o", str(tmp_path / "v.bin"), "--resume", str(model)])
    assert result.exit_code == 2 and "not a checkpoint" in result.output


def test_a_corpus_too_small_to_train_warns_why(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text("the cat sat on the mat\n" * 3)
    with pytest.warns(fastw2v.TrainingWarning) as caught:
        fastw2v.train(path, min_count=1, dim=4, epochs=2, threads=1, quiet=True)
    messages = [str(w.message) for w in caught]
    assert any("subsampling (sample=0.001) keeps only" in m and "sample=0" in m for m in messages), messages
    assert any(m.startswith("no training example in 2 epochs") for m in messages), messages
    result = CliRunner().invoke(main, ["train", str(path), "-o", str(tmp_path / "v.bin"), "--min-count", "1",
                                       "--dim", "4", "--epochs", "1", "-q"])
    assert result.exit_code == 0
    assert "warning: subsampling (sample=0.001) keeps only" in result.output and "--sample 0" in result.output
    result = CliRunner().invoke(main, ["train", str(path), "-o", str(tmp_path / "v.bin"), "--min-count", "1",
                                       "--dim", "4", "--epochs", "1", "-q", "--sample", "0"])
    assert result.exit_code == 0 and result.output == ""


def test_continue_training_adds_words(tmp_path):
    first = [["a", "b", "c", "d"] * 5] * 40
    model = fastw2v.train(first, min_count=2, dim=8, epochs=2, threads=1, quiet=True)
    a_before = model.wv["a"].copy()
    more = [["a", "e", "f", "e"] * 5] * 40 + [["rare"]]
    model.train(more, epochs=1)  # as in gensim, train() keeps the vocabulary: new words are skipped
    assert model.vocab.words == ["d", "c", "b", "a"] and model.vocab.counts.tolist() == [200] * 4  # gensim's ties
    model.build_vocab(more, update=True)
    model.train(more, epochs=2)
    assert model.vocab.words == ["d", "c", "b", "a", "e", "f"]  # new words in order of first occurrence
    assert model.vocab.counts[model.vocab.key_to_index["a"]] == 200 + 200
    assert model.syn0.shape == (6, 8) and model.syn1neg.shape == (6, 8)
    assert not np.array_equal(model.wv["a"], a_before)
    assert len(model.history) == 5 and model.history[-1].lr < model.history[-2].lr
    with pytest.raises(fastw2v.ConfigError, match="cannot change dim"):
        model.train(more, dim=16)


def test_cli_init_model(tmp_path):
    corpus = topic_corpus(tmp_path / "c.txt", n_lines=300)
    extra = tmp_path / "extra.txt"
    extra.write_text("newword w1 w2 newword\n" * 20)
    model, out = tmp_path / "m.npz", tmp_path / "v.txt"
    runner = CliRunner()
    assert runner.invoke(main, ["train", str(corpus), "-o", str(out), "--save-model", str(model),
                                "--dim", "8", "--epochs", "1", "-q", "--text"]).exit_code == 0
    n_before = int(out.read_text().split()[0])
    result = runner.invoke(main, ["train", str(extra), "-o", str(out), "--init-model", str(model), "--text",
                                  "--epochs", "2", "--save-model", str(model)])
    assert result.exit_code == 0, result.output
    assert "1 new" in result.output
    assert int(out.read_text().split()[0]) == n_before + 1
    result = runner.invoke(main, ["train", str(extra), "-o", str(out), "--init-model", str(model), "--hs"])
    assert result.exit_code == 2 and "cannot change hs" in result.output


WRITER = """
import sys, numpy as np
from fastw2v.vectors import KeyedVectors
rs = np.random.RandomState(int(sys.argv[2]))
kv = KeyedVectors([f"w{i}" for i in range(20000)], rs.rand(20000, 100).astype(np.float32))
print("ready", flush=True)
while True:
    kv.save_word2vec_format(sys.argv[1], binary=True)
"""


def test_kill_9_during_save_never_leaves_a_corrupt_file(tmp_path):
    from gensim.models import KeyedVectors as GensimKV

    dest = tmp_path / "v.bin"
    rs = np.random.RandomState(0)
    for attempt in range(4):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(dest), str(attempt)], stdout=subprocess.PIPE,
                                text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.3 + rs.rand())
        proc.kill()
        proc.wait()
        proc.stdout.close()
        if dest.exists():  # either a complete file or (before the first rename) none
            kv = GensimKV.load_word2vec_format(str(dest), binary=True)
            assert kv.vectors.shape == (20000, 100)
    assert dest.exists()
