"""Watching training: gensim-style callbacks, the loss every N words, and a loss plot.

Training reports to a Progress object between kernel calls (each about half
a second of work) and at each epoch's end.  TrainingHooks stands in for it:
it passes every report on, calls the callbacks at the epoch boundaries and,
when asked, records the mean loss over each stretch of at least
``loss_every`` words, ending at the first kernel call boundary past it.
Nothing runs per token or per sentence, so watching costs nothing measurable.
"""
from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

from .config import ConfigError

__all__ = ["CallbackAny2Vec", "LossPoint", "TrainingHooks", "plot_loss"]


class CallbackAny2Vec:
    """Base class of training callbacks, shaped like gensim's: override any
    of the four methods; each is called with the model.  (fastw2v calls the
    methods an object has, so gensim's own CallbackAny2Vec subclasses work too.)"""

    def on_train_begin(self, model):
        pass

    def on_epoch_begin(self, model):
        pass

    def on_epoch_end(self, model):
        pass

    def on_train_end(self, model):
        pass


@dataclass
class LossPoint:
    """The loss over one stretch of training (model.loss_history)."""

    epoch: float     # where the stretch ends, in epochs since the model's first (1.5: half-way through the second)
    loss: float      # mean loss per training example over the stretch
    examples: int    # training examples in the stretch


def check_loss_every(loss_every) -> None:
    if loss_every is not None and (isinstance(loss_every, bool) or not isinstance(loss_every, Integral)
                                   or loss_every < 1):
        raise ConfigError(f"loss_every must be a positive number of words or None, got {loss_every!r}")


class TrainingHooks:
    """A Progress stand-in for Word2Vec.train_encoded: reports go on to
    `progress`; `callbacks` are called at the epoch boundaries (and at the
    start and end of training, as a `with` block); with `loss_every`, a
    LossPoint is appended to model.loss_history every `loss_every` words or
    more, and at each epoch's end."""

    def __init__(self, model, progress, callbacks=(), loss_every=None):
        check_loss_every(loss_every)
        self.model = model
        self.progress = progress
        self.epochs = progress.epochs
        self.callbacks = list(callbacks or ())
        self.loss_every = loss_every
        self.first_epoch = len(model.history)  # epochs the model trained before this run
        self._mark = (0, 0, 0.0, 0.0)          # epoch, words, loss and examples at the last point

    def _call(self, event: str) -> None:
        for callback in self.callbacks:
            method = getattr(callback, event, None)
            if method is not None:
                method(self.model)

    def __enter__(self):
        self._call("on_train_begin")
        self._call("on_epoch_begin")
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self._call("on_train_end")

    def update(self, epoch, fraction, words_per_second, lr, loss, state=None):
        self.progress.update(epoch, fraction, words_per_second, lr, loss, state=state)
        if self.loss_every and state is not None:
            self._record(state, fraction)

    def _record(self, state, fraction) -> None:
        epoch, words, loss, examples = self._mark
        if epoch != state.epoch:
            words, loss, examples = 0, 0.0, 0.0
        if state.words - words >= self.loss_every or fraction >= 1.0:
            if state.examples > examples:
                self.model.loss_history.append(LossPoint(
                    epoch=self.first_epoch + state.epoch - 1 + fraction,
                    loss=(state.loss - loss) / (state.examples - examples),
                    examples=int(round(state.examples - examples))))
            self._mark = (state.epoch, state.words, state.loss, state.examples)
        else:
            self._mark = (state.epoch, words, loss, examples)

    def epoch_done(self, epoch, loss, words_per_second, seconds, lr):
        self.progress.epoch_done(epoch, loss, words_per_second, seconds, lr)
        self.model.vectors_changed()
        self._call("on_epoch_end")
        if epoch < self.epochs:
            self._call("on_epoch_begin")

    def message(self, text):
        self.progress.message(text)


def plot_loss(model, path="loss.png"):
    """Draw the model's loss per epoch (model.history) and, when recorded,
    every N words (model.loss_history) against epochs, into a PNG file (or
    any format matplotlib infers from `path`); returns `path`."""
    if not model.history:
        raise ValueError("nothing to plot: the model has not been trained")
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plot_loss needs matplotlib (pip install matplotlib); the numbers are in "
                          "model.history (per epoch) and model.loss_history (every loss_every words)") from None
    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.subplots()
    if model.loss_history:
        axes.plot([p.epoch for p in model.loss_history], [p.loss for p in model.loss_history], lw=1,
                  label=f"every {model.loss_every} words" if model.loss_every else "stretches")
    axes.plot(range(1, len(model.history) + 1), [s.loss for s in model.history], "o-", label="epoch mean")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss per training example")
    axes.set_title(f"fastw2v {model.config.mode}, dim {model.config.dim}")
    axes.legend()
    figure.savefig(path, dpi=120)
    return path

