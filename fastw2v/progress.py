"""Messages on the terminal: training progress (a live bar on a terminal, one
line per epoch otherwise), one-line notes and warnings, and a note while
numba compiles.

Every write goes through ``write_safely``: a closed or broken stream (output
piped into ``head``, a closed stderr) silences the messages, never the run.
Numba compiles the kernels on the first run only (later runs load them from
its cache in well under a second); ``CompileWatch`` listens to numba's
compile events, says so when a compilation starts and adds up the seconds, so
that compiling is reported apart from reading and training.
"""
from __future__ import annotations

import sys
import threading
import time
import warnings
from contextlib import contextmanager

from numba.core import event as numba_event


def write_safely(stream, text: str) -> bool:
    """Write and flush; False (and nothing raised) when the stream is gone."""
    if stream is None:
        return False
    try:
        stream.write(text)
        stream.flush()
        return True
    except (OSError, ValueError):  # a broken pipe, a closed file
        return False


# the categories fastw2v warns with (the data, a vector file's oddities)
OWN_WARNINGS = (UserWarning, UnicodeWarning)


@contextmanager
def own_warnings_as_lines(say_warning):
    """Within it, each of fastw2v's warnings, every time, goes to
    say_warning(message), which prints it as one line; the others (an
    unclosed file collected meanwhile, a deprecation in a library) keep
    Python's filters and format."""
    show_others = warnings.showwarning

    def show(message, category, *rest, **kwargs):
        if issubclass(category, OWN_WARNINGS):
            say_warning(message)
        else:
            show_others(message, category, *rest, **kwargs)

    with warnings.catch_warnings():
        for category in OWN_WARNINGS:
            warnings.simplefilter("always", category)
        warnings.showwarning = show
        yield


def _si(x: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.2f}{unit}"
    return f"{x:.0f}"


class Progress:
    """Throttled status line: epoch, percent done, words/s, learning rate, loss."""

    def __init__(self, epochs: int, quiet: bool = False, stream=None, interval: float = 0.2):
        self.epochs = epochs
        self.quiet = quiet
        self.stream = stream or sys.stderr
        try:
            self.live = not quiet and self.stream.isatty()
        except (AttributeError, ValueError):
            self.live = False
        self.interval = interval
        self._last = 0.0

    def _write(self, text: str) -> None:
        if not write_safely(self.stream, text):
            self.quiet, self.live = True, False

    def update(self, epoch: int, fraction: float, words_per_second: float, lr: float, loss: float, state=None):
        """After each kernel call; `state` (the TrainingState) is for stand-ins that record more."""
        if not self.live:
            return
        now = time.monotonic()
        if now - self._last < self.interval and fraction < 1.0:
            return
        self._last = now
        width = 24
        filled = int(width * fraction)
        bar = "#" * filled + "-" * (width - filled)
        self._write(f"\repoch {epoch}/{self.epochs} [{bar}] {100 * fraction:5.1f}% "
                    f"{_si(words_per_second)} words/s  lr {lr:.6f}  loss {loss:.4f} ")

    def epoch_done(self, epoch: int, loss: float, words_per_second: float, seconds: float, lr: float):
        if self.quiet:
            return
        prefix = "\r" if self.live else ""
        self._write(f"{prefix}epoch {epoch}/{self.epochs}: loss {loss:.4f}  "
                    f"{_si(words_per_second)} words/s  {seconds:.1f} s  lr {lr:.6f}" + " " * 20 + "\n")

    def message(self, text: str):
        if not self.quiet:
            self._write(text + "\n")


class CompileWatch(numba_event.Listener):
    """While active, counts the seconds numba spends compiling (cache loads
    are not compilations) and calls `say` once when the first one starts."""

    def __init__(self, say=None):
        self.say = say
        self.seconds = 0.0
        self._depth = 0
        self._started = 0.0
        self._lock = threading.Lock()

    def on_start(self, event):
        with self._lock:
            self._depth += 1
            if self._depth > 1:
                return
            self._started = time.perf_counter()
            first = self.say is not None
        if first:
            self.say("compiling kernels (first run only) ...")
            self.say = None

    def on_end(self, event):
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                self.seconds += time.perf_counter() - self._started

    def __enter__(self):
        numba_event.register("numba:compile", self)
        return self

    def __exit__(self, *exc):
        numba_event.unregister("numba:compile", self)
