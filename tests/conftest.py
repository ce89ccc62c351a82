"""Shared fixtures: test data from inside the repository or from the test dependencies.

Tests never read outside the repository (a user's fresh clone has nothing
beside it).  The evaluation sets (Google analogies, SimLex-999, WordSim-353)
come from gensim's test data, which ships inside the gensim wheel, a test
dependency; corpora come from the embedded War and Peace or are generated.
"""
import lzma
from importlib import resources
from pathlib import Path

import pytest
from gensim.test.utils import datapath

EVAL = Path(datapath("questions-words.txt")).parent
WAR_AND_PEACE = resources.files("fastw2v") / "data" / "warandpeace.txt.xz"


def war_and_peace_lines(n_lines=None):
    """The first n_lines paragraphs (all when None) of the embedded War and Peace."""
    with resources.as_file(WAR_AND_PEACE) as p, lzma.open(p, "rt", encoding="utf-8") as f:
        return f.readlines() if n_lines is None else [next(f) for _ in range(n_lines)]
