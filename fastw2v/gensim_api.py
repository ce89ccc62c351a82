"""gensim's Word2Vec parameters and attributes, mapped onto fastw2v's Config.

``fastw2v.Word2Vec`` takes gensim 4's constructor signature with gensim's
defaults (CBOW, alpha 0.025 for both architectures, min_alpha 0.0001, 3
worker threads), so a gensim script trains the same kind of model after
changing its import line; ``fastw2v.train`` and the command line keep the C
tool's defaults.  Where the names differ, fastw2v's own (dim, threads,
dynamic_window) stay the primary spelling and gensim's are accepted too;
giving both spellings of one parameter is an error naming both.  gensim's
0/1 integers for flags are accepted.  gensim parameters that fastw2v has no
use for are refused by name unless they hold gensim's default value (which
asks for nothing), so nothing a script sets is silently ignored.
"""
from __future__ import annotations

import os
import re
import warnings
from numbers import Integral

import numpy as np

from .config import Config, ConfigError

# gensim's name -> fastw2v's name, for the parameters spelled differently
SPELLINGS = {"vector_size": "dim", "workers": "threads", "shrink_windows": "dynamic_window"}
# gensim's defaults of the parameters spelled two ways (the others are in Word2Vec's signature)
GENSIM_DEFAULTS = {"dim": 100, "threads": 3, "dynamic_window": True}
FLAGS = ("sg", "hs", "cbow_mean", "dynamic_window", "softmax")

# gensim parameters fastw2v does not implement: gensim's default, and why another value cannot be honoured
UNSUPPORTED = {
    "hashfxn": (hash, "fastw2v draws the initial vectors from its own seeded generator (set seed=)"),
    "null_word": (0, "fastw2v adds no padding word to the vocabulary"),
    "trim_rule": (None, "fastw2v counts words in compiled code; filter the corpus, or use min_count or "
                        "max_final_vocab"),
    "sorted_vocab": (1, "fastw2v always sorts the vocabulary by descending count"),
    "batch_words": (10000, "fastw2v sizes its own kernel calls (about half a second of work each)"),
    "progress_per": (10000, "fastw2v reports no progress while counting"),
    "keep_raw_vocab": (False, "fastw2v keeps no counts of the words below min_count"),
    "word_count": (0, "fastw2v trains every word of the corpus it is given"),
    "queue_factor": (2, "fastw2v has no job queue: each thread trains its own slice of the corpus"),
    "report_delay": (1.0, "fastw2v reports progress on stderr (quiet=False), not through logging"),
}


def refuse_unsupported(where: str, **given) -> None:
    """ConfigError for the first gensim-only parameter given a value other than gensim's default."""
    for name, value in given.items():
        default, why = UNSUPPORTED[name]
        if value is not default and not (type(value) in (int, float, bool) and value == default):
            raise ConfigError(f"{where}: {name}={value!r} is not supported: {why}")


def flag(name: str, value) -> bool:
    """A flag given as gensim documents it (0 or 1) or as a bool (numpy's too)."""
    if isinstance(value, (Integral, np.bool_)) and value in (0, 1):
        return bool(value)
    raise ConfigError(f"{name} must be 0 or 1 (or False/True), got {value!r}")


def one_spelling(fastw2v_name: str, fastw2v_value, gensim_name: str, gensim_value):
    """The value given under either name (None: under neither); both is an error."""
    if fastw2v_value is not None and gensim_value is not None:
        raise ConfigError(f"{fastw2v_name} and {gensim_name} are the same parameter: give only one of them")
    return fastw2v_value if fastw2v_value is not None else gensim_value


def gensim_config(*, vector_size=None, workers=None, shrink_windows=None, **fields) -> Config:
    """A Config from Word2Vec's arguments: fastw2v's field names, gensim's
    spellings of three of them (None: not given), gensim's defaults for
    whatever neither gives, and flags as 0/1 or bools."""
    used = {}  # fastw2v name -> the spelling the caller used, for error messages
    for gensim_name, value in (("vector_size", vector_size), ("workers", workers),
                               ("shrink_windows", shrink_windows)):
        name = SPELLINGS[gensim_name]
        fields[name] = one_spelling(name, fields.get(name), gensim_name, value)
        if value is not None:
            used[name] = gensim_name
    for name, default in GENSIM_DEFAULTS.items():
        if fields.get(name) is None:
            fields[name] = default
    for name in FLAGS:
        fields[name] = flag(used.get(name, name), fields[name])
    try:
        return Config(**fields)
    except ConfigError as e:
        message = str(e)
        for name, spelling in used.items():
            message = re.sub(rf"\b{name}\b", spelling, message)
        raise ConfigError(message) from None


def unknown_options_message(unknown, gensim_names_ok: bool) -> str:
    """"unknown option(s) ..." with the fastw2v name of each gensim spelling among them."""
    hints = [f"{name} is {SPELLINGS[name]} here" for name in unknown if name in SPELLINGS]
    message = "unknown option" + ("s " if len(unknown) > 1 else " ") + ", ".join(unknown)
    if hints and not gensim_names_ok:
        message += f" ({'; '.join(hints)}; fastw2v.Word2Vec takes gensim's names)"
    return message


def one_corpus(corpus_iterable, corpus_file):
    """The corpus given as an iterable of token lists (or fastw2v's files) or
    as corpus_file; exactly one of them, as gensim requires."""
    if corpus_iterable is None and corpus_file is None:
        raise TypeError("Either one of corpus_file or corpus_iterable value must be provided")
    if corpus_iterable is not None and corpus_file is not None:
        raise TypeError("Both corpus_file and corpus_iterable must not be provided at the same time")
    if corpus_file is not None and not isinstance(corpus_file, (str, os.PathLike, list, tuple)):
        raise TypeError(f"Parameter corpus_file must be a valid path to a file, got {corpus_file!r} instead")
    return corpus_iterable if corpus_iterable is not None else corpus_file


def check_totals(total_examples, total_words, corpus_count, corpus_total_words) -> None:
    """Warn, as gensim does, when the sizes a script passes to train() are
    not the corpus' (fastw2v schedules the learning rate over the words it
    actually trains, so they are only checked)."""
    for what, given, actual in (("example", total_examples, corpus_count), ("word", total_words, corpus_total_words)):
        if given is not None and actual is not None and given != actual:
            warnings.warn(f"supplied {what} count ({given}) did not equal the corpus' count ({actual}); "
                          f"fastw2v trains on the whole corpus and schedules the learning rate over it",
                          stacklevel=3)


class ConfigAttribute:
    """A gensim attribute of Word2Vec (model.alpha, model.vector_size, ...)
    read from its Config, flags as gensim's 0/1; writable unless it is fixed
    by the shape of the weights."""

    def __init__(self, field: str, writable: bool = True):
        self.field = field
        self.writable = writable

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, model, owner=None):
        if model is None:
            return self
        value = getattr(model.config, self.field)
        return int(value) if self.field in FLAGS else value

    def __set__(self, model, value):
        if not self.writable:
            raise AttributeError(f"{self.name} is fixed when the model is made (the weights depend on it)")
        if self.field in FLAGS:
            value = flag(self.name, value)
        model.config = model.config.replace(**{self.field: value})
