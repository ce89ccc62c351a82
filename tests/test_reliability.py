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
    with pytest.raises(TrainingInterrupted) as stopped:
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
    with pytest.raises(TrainingInterrupted):
        model.train_encoded(encoded, SignalAfter(2, calls=2), checkpoint=tmp_path / "ck.npz")
    other = topic_corpus(tmp_path / "other.txt", seed=1)
    with pytest.raises(fastw2v.TrainingError, match="corpus differs"):
        resume(tmp_path / "ck.npz", other, quiet=True)


def test_sigterm_without_checkpoint(tmp_path, small_calls):
    corpus = topic_corpus(tmp_path / "c.txt")
    config = fastw2v.Config(dim=8, epochs=2, threads=1, min_count=2)
    vocab, encoded, _ = train_mod.load_training_corpus(corpus, config)
    model = train_mod.Word2Vec.initialize(config, vocab)
    with pytest.raises(TrainingInterrupted, match="SIGTERM; no output written") as stopped:
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


def test_cli_resume_rejects_new_settings(tmp_path):
    corpus = topic_corpus(tmp_path / "c.txt", n_lines=300)
    ck = tmp_path / "ck.npz"
    runner = CliRunner()
    assert runner.invoke(main, ["train", str(corpus), "-o", str(tmp_path / "v.bin"), "--checkpoint", str(ck),
                                "--dim", "8", "--epochs", "1", "-q"]).exit_code == 0
    result = runner.invoke(main, ["train", str(corpus), "-o", str(tmp_path / "v.bin"), "--resume", str(ck),
                                  "--dim", "10"])
    assert result.exit_code == 2 and "remove --dim" in result.output
    model = tmp_path / "m.npz"
    assert runner.invoke(main, ["train", str(corpus), "-o", str(tmp_path / "v.bin"), "--save-model", str(model),
                                "--dim", "8", "--epochs", "1", "-q"]).exit_code == 0
    result = runner.invoke(main, ["train", str(corpus), "-o", str(tmp_path / "v.bin"), "--resume", str(model)])
    assert result.exit_code == 2 and "not a checkpoint" in result.output


def test_continue_training_adds_words(tmp_path):
    first = [["a", "b", "c", "d"] * 5] * 40
    model = fastw2v.train(first, min_count=2, dim=8, epochs=2, threads=1, quiet=True)
    a_before = model.wv["a"].copy()
    more = [["a", "e", "f", "e"] * 5] * 40 + [["rare"]]
    model.train(more, epochs=1)  # as in gensim, train() keeps the vocabulary: new words are skipped
    assert model.vocab.words == ["a", "b", "c", "d"] and model.vocab.counts.tolist() == [200] * 4
    model.build_vocab(more, update=True)
    model.train(more, epochs=2)
    assert model.vocab.words[:4] == ["a", "b", "c", "d"] and set(model.vocab.words[4:]) == {"e", "f"}
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
        if dest.exists():  # either a complete file or (before the first rename) none
            kv = GensimKV.load_word2vec_format(str(dest), binary=True)
            assert kv.vectors.shape == (20000, 100)
    assert dest.exists()
