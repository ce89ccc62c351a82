"""Watching training: callbacks at epoch boundaries (gensim's CallbackAny2Vec
shape), the loss every N words, and the loss plot."""
import importlib
import math
import sys

import numpy as np
import pytest
from gensim.models.callbacks import CallbackAny2Vec as GensimCallback

import fastw2v
from fastw2v import CallbackAny2Vec, ConfigError, Word2Vec

from conftest import war_and_peace_lines

train_module = importlib.import_module("fastw2v.train")  # the module, not the fastw2v.train function


@pytest.fixture(scope="module")
def sentences():
    return [line.lower().split() for line in war_and_peace_lines(600)]


class Recorder(CallbackAny2Vec):
    """Records each event with what the model shows at that moment."""

    def __init__(self):
        self.events = []

    def on_train_begin(self, model):
        self.events.append(("train_begin", len(model.history)))

    def on_epoch_begin(self, model):
        self.events.append(("epoch_begin", len(model.history)))

    def on_epoch_end(self, model):
        # what a user evaluating as they train sees: the vectors as they are now
        unit = model.syn0[7] / np.linalg.norm(model.syn0[7])
        assert np.allclose(model.wv.get_normed_vectors()[7], unit, atol=1e-6)
        self.events.append(("epoch_end", len(model.history), model.get_latest_training_loss()))

    def on_train_end(self, model):
        self.events.append(("train_end", len(model.history)))


class GensimStyle(GensimCallback):
    """A callback written for gensim (its base class, on_epoch_end only)."""

    def __init__(self):
        self.epoch = 0
        self.losses = []

    def on_epoch_end(self, model):
        self.epoch += 1
        self.losses.append(model.get_latest_training_loss())


def test_callbacks_see_each_epoch(sentences):
    recorder, gensim_style = Recorder(), GensimStyle()
    model = Word2Vec(sentences, vector_size=8, min_count=2, epochs=3, callbacks=[recorder, gensim_style])
    names = [e[0] for e in recorder.events]
    assert names == ["train_begin"] + ["epoch_begin", "epoch_end"] * 3 + ["train_end"]
    ends = [e for e in recorder.events if e[0] == "epoch_end"]
    assert [e[1] for e in ends] == [1, 2, 3]
    running = [e[2] for e in ends]
    assert running[0] > 0 and running == sorted(running)  # summed over the train() call so far
    assert running[-1] == pytest.approx(model.get_latest_training_loss())
    assert gensim_style.epoch == 3 and gensim_style.losses == running
    again = Recorder()
    model.train(sentences, total_examples=model.corpus_count, epochs=2, callbacks=[again])
    assert [e[1] for e in again.events if e[0] == "epoch_end"] == [4, 5]
    assert [e[2] for e in again.events if e[0] == "epoch_end"][0] < running[-1]  # restarted with the call
    fast = Recorder()
    fastw2v.train(sentences, dim=8, min_count=2, epochs=2, threads=1, quiet=True, callbacks=[fast])
    assert [e[0] for e in fast.events].count("epoch_end") == 2


def test_callbacks_are_not_kept_by_the_model():
    with pytest.warns(UserWarning, match="give them to train"):
        Word2Vec(callbacks=[Recorder()])


def test_loss_every_n_words(sentences, monkeypatch):
    """Small kernel calls: several points per epoch, each at least N words
    apart (or at the epoch's end), whose examples make up the epoch's mean."""
    monkeypatch.setattr(train_module, "WORDS_PER_PART", 512)
    model = fastw2v.train(sentences, dim=8, min_count=2, epochs=2, threads=1, quiet=True, loss_every=3000)
    points = model.loss_history
    for epoch, stats in enumerate(model.history, 1):
        mine = [p for p in points if epoch - 1 < p.epoch <= epoch]
        assert len(mine) >= 5 and mine[-1].epoch == epoch
        assert sum(p.examples for p in mine) == stats.examples
        mean = sum(p.loss * p.examples for p in mine) / stats.examples
        assert mean == pytest.approx(stats.loss, rel=1e-9)
    previous = 0.0
    for p in points:
        start = max(previous, math.ceil(p.epoch) - 1)  # the last point, or the start of this epoch
        if p.epoch != int(p.epoch):  # not cut short by the epoch's end
            assert (p.epoch - start) * model.history[0].words >= 3000 - 1e-6
        previous = p.epoch
    none = fastw2v.train(sentences, dim=8, min_count=2, epochs=1, threads=1, quiet=True)
    assert none.loss_history == []
    with pytest.raises(ConfigError, match="loss_every must be a positive number of words"):
        fastw2v.train(sentences, loss_every=0)


def test_loss_every_continues_across_train_calls(sentences):
    model = Word2Vec(sentences, vector_size=8, min_count=2, epochs=2, loss_every=1)
    assert [p.epoch for p in model.loss_history][-1] == 2
    model.train(sentences, total_examples=model.corpus_count, epochs=1)
    assert model.loss_history[-1].epoch == 3


def test_plot_loss(sentences, tmp_path, monkeypatch):
    model = Word2Vec(sentences, vector_size=8, min_count=2, epochs=2, loss_every=5000)
    path = model.plot_loss(tmp_path / "loss.png")
    assert path == tmp_path / "loss.png" and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match="plot_loss needs matplotlib"):
        model.plot_loss(tmp_path / "again.png")
    with pytest.raises(ValueError, match="not been trained"):
        Word2Vec().plot_loss(tmp_path / "none.png")
