"""The one validated training configuration; the CLI and the Python API map onto it.

Defaults follow the word2vec C tool: skip-gram with 5 negatives, window 5,
sample 1e-3, min_count 5, 5 epochs, alpha 0.025 for skip-gram and 0.05 for
CBOW decaying linearly to alpha * 1e-4.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from numbers import Integral, Real


GPU_MAX_DIM = 1024  # the CUDA kernels keep 32 dimensions per lane of a warp
# distributed runs: what all ranks train between syncs (distributed.py): skip-gram 100,000
# training examples (100,000 / (window + 1) words), CBOW 200,000 words (one example each)
SYNC_SG_EXAMPLES, SYNC_CBOW_WORDS = 100_000, 200_000


class ConfigError(ValueError):
    """One or more invalid parameters; the message names each one with its value."""


def default_threads() -> int:
    """All cores this process may run on; in an MPI job whose ranks on this
    node were not bound to cores by the launcher, an equal share of them."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count() or 1
    local = os.environ.get("MPI_LOCALNRANKS") or os.environ.get("OMPI_COMM_WORLD_LOCAL_SIZE") or "1"
    if usable >= (os.cpu_count() or usable) and local.isdigit() and int(local) > 1:
        return max(1, usable // int(local))
    return usable


@dataclass(frozen=True)
class Config:
    """Hyper-parameters of one training run; invalid values raise ConfigError.

    ``alpha``, ``min_alpha`` and ``threads`` left as None are resolved here
    (0.025 skip-gram / 0.05 CBOW; alpha * 1e-4; all cores, shared among the
    ranks of a distributed run on one node), so a stored Config always says
    exactly what ran.  The sync_* fields only matter in a distributed run
    (fastw2v.distributed).
    """

    sg: bool = True
    dim: int = 100
    window: int = 5
    dynamic_window: bool = True
    negative: int = 5
    batch_window: bool = False     # skip-gram: update a whole window at once (HogBatch), see kernels_cpu
    ns_exponent: float = 0.75
    hs: bool = False
    softmax: bool = False
    cbow_mean: bool = True
    sample: float = 1e-3
    min_count: int = 5
    max_vocab_size: int | None = None
    max_final_vocab: int | None = None
    max_sentence_length: int = 10000
    epochs: int = 5
    alpha: float | None = None
    min_alpha: float | None = None
    threads: int | None = None
    seed: int = 1
    device: str = "cpu"
    sync_every: int | None = None  # distributed runs: words of all ranks between syncs of the rows trained on
    #                                (None: SYNC_CBOW_WORDS, or SYNC_SG_EXAMPLES / examples_per_word)
    sync_rows: int = 4096          # ... and of the output rows of that many most frequent words
    full_sync_every: int = 0       # ... and of the whole model (0: at every epoch's end only)
    sync_saturation: float = 0.005  # ... the ranks' changes of a row summed or averaged: see distributed.sum_weights

    def __post_init__(self):
        errors = []

        def check_int(name, low, allow_none=False):
            value = getattr(self, name)
            if value is None and allow_none:
                return
            if isinstance(value, bool) or not isinstance(value, Integral):
                errors.append(f"{name} must be an integer, got {value!r}")
            elif value < low:
                errors.append(f"{name} must be >= {low}, got {value!r}")

        def check_real(name, ok, rule, allow_none=False):
            value = getattr(self, name)
            if value is None and allow_none:
                return
            if isinstance(value, bool) or not isinstance(value, Real) or value != value:
                errors.append(f"{name} must be a number, got {value!r}")
            elif not ok(float(value)):
                errors.append(f"{name} must be {rule}, got {value!r}")

        for name in ("sg", "dynamic_window", "batch_window", "hs", "softmax", "cbow_mean"):
            if not isinstance(getattr(self, name), bool):
                errors.append(f"{name} must be True or False, got {getattr(self, name)!r}")
        check_int("dim", 1)
        check_int("window", 1)
        check_int("negative", 0)
        check_int("min_count", 1)
        check_int("max_vocab_size", 1, allow_none=True)
        check_int("max_final_vocab", 1, allow_none=True)
        check_int("max_sentence_length", 2)
        check_int("epochs", 1)
        check_int("threads", 1, allow_none=True)
        check_int("seed", 0)
        check_int("sync_every", 1, allow_none=True)
        check_int("sync_rows", 0)
        check_int("full_sync_every", 0)
        check_real("sync_saturation", lambda v: 0 <= v < 1, "in [0, 1) (0: always sum the ranks' changes)")
        check_real("ns_exponent", lambda v: abs(v) < float("inf"), "finite")
        check_real("sample", lambda v: 0 <= v < float("inf"), ">= 0 (0 disables subsampling)")
        check_real("alpha", lambda v: 0 < v < float("inf"), "> 0", allow_none=True)
        check_real("min_alpha", lambda v: 0 <= v < float("inf"), ">= 0", allow_none=True)
        if self.device not in ("cpu", "cuda", "auto"):
            errors.append(f"device must be one of cpu, cuda, auto, got {self.device!r}")
        if not errors:
            if self.softmax and (self.hs or self.negative):
                errors.append(
                    f"softmax=True replaces the other output layers: set negative=0 and hs=False "
                    f"(got negative={self.negative!r}, hs={self.hs!r})")
            elif not self.softmax and not self.hs and self.negative == 0:
                errors.append("negative=0 with hs=False leaves no output layer: "
                              "set negative > 0, hs=True or softmax=True")
            if self.batch_window and not self.sg:
                errors.append("batch_window=True batches skip-gram windows: it needs sg=True")
            elif self.batch_window and self.softmax:
                errors.append("batch_window=True works with negative sampling and hs, not softmax=True")
            if self.batch_window and self.device == "cuda":
                errors.append("batch_window=True trains on the CPU only: use device='cpu' (or 'auto')")
            if self.device == "cuda" and self.softmax:
                errors.append("softmax=True trains on the CPU only: use device='cpu' (or 'auto')")
            if self.device == "cuda" and self.dim > GPU_MAX_DIM:
                errors.append(f"dim must be <= {GPU_MAX_DIM} with device='cuda', got {self.dim!r}")
            if self.seed >= 2 ** 64:
                errors.append(f"seed must be < 2**64, got {self.seed!r}")
        if errors:
            raise ConfigError("; ".join(errors))

        alpha = self.alpha if self.alpha is not None else (0.025 if self.sg else 0.05)
        object.__setattr__(self, "alpha", float(alpha))
        min_alpha = self.min_alpha if self.min_alpha is not None else alpha * 1e-4
        if min_alpha > alpha:
            raise ConfigError(f"min_alpha must be <= alpha ({alpha!r}), got {min_alpha!r}")
        object.__setattr__(self, "min_alpha", float(min_alpha))
        if self.threads is None:
            object.__setattr__(self, "threads", default_threads())
        if self.sync_every is None:
            every = SYNC_SG_EXAMPLES / self.examples_per_word if self.sg else SYNC_CBOW_WORDS
            object.__setattr__(self, "sync_every", max(1, round(every)))
        object.__setattr__(self, "sample", float(self.sample))
        object.__setattr__(self, "ns_exponent", float(self.ns_exponent))

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.field_names()}

    def replace(self, **changes) -> "Config":
        return dataclasses.replace(self, **changes)

    @property
    def examples_per_word(self) -> int:
        """Training examples (updates of an input row against the output
        layer) per kept word: one in CBOW, one per context word in skip-gram,
        window + 1 on average with dynamic windows (a half-width uniform in
        1..window on each side)."""
        if not self.sg:
            return 1
        return self.window + 1 if self.dynamic_window else 2 * self.window

    @property
    def mode(self) -> str:
        """Short name such as 'sg-ns', 'cbow-hs', 'sg-ns+hs' or 'sg-softmax'."""
        outputs = "softmax" if self.softmax else "+".join(
            name for name, on in (("ns", self.negative > 0), ("hs", self.hs)) if on)
        return f"{'sg' if self.sg else 'cbow'}-{outputs}"
