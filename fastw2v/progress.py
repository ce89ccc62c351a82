"""Training progress on stderr: a live bar on a terminal, one line per epoch otherwise."""
from __future__ import annotations

import sys
import time


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
        self.live = not quiet and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interval = interval
        self._last = 0.0

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
        self.stream.write(f"\repoch {epoch}/{self.epochs} [{bar}] {100 * fraction:5.1f}% "
                          f"{_si(words_per_second)} words/s  lr {lr:.6f}  loss {loss:.4f} ")
        self.stream.flush()

    def epoch_done(self, epoch: int, loss: float, words_per_second: float, seconds: float, lr: float):
        if self.quiet:
            return
        prefix = "\r" if self.live else ""
        self.stream.write(f"{prefix}epoch {epoch}/{self.epochs}: loss {loss:.4f}  "
                          f"{_si(words_per_second)} words/s  {seconds:.1f} s  lr {lr:.6f}"
                          + " " * 20 + "\n")
        self.stream.flush()

    def message(self, text: str):
        if not self.quiet:
            self.stream.write(text + "\n")
            self.stream.flush()
