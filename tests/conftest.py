"""Shared fixtures: test data from inside the repository or from the test dependencies.

Tests never read outside the repository (a user's fresh clone has nothing
beside it).  The evaluation sets (Google analogies, SimLex-999, WordSim-353)
come from gensim's test data, which ships inside the gensim wheel, a test
dependency; corpora come from the embedded War and Peace or are generated.
"""
import gc
import lzma
import warnings
from importlib import resources
from pathlib import Path

import pytest
from gensim.test.utils import datapath


@pytest.fixture(autouse=True)
def no_file_left_open():
    """Fail the test that leaves a file open.  A file held in a reference
    cycle is only closed when the collector next runs, in whatever code runs
    then: CI once saw the "unclosed file" warnings of a corpus test's
    temporary corpora printed inside a later test's one-line C-tool error.
    Collecting after each test pins a leak on its own test; what is alive
    then is frozen, out of the collector's sight, so that the next
    collection looks only at what the next test made (a full collection
    takes 0.15 s and more once numba has compiled the kernels)."""
    yield
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
    gc.freeze()
    leaked = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaked, f"left open: {leaked}"


EVAL = Path(datapath("questions-words.txt")).parent
WAR_AND_PEACE = resources.files("fastw2v") / "data" / "warandpeace.txt.xz"


def war_and_peace_lines(n_lines=None):
    """The first n_lines paragraphs (all when None) of the embedded War and Peace."""
    with resources.as_file(WAR_AND_PEACE) as p, lzma.open(p, "rt", encoding="utf-8") as f:
        return f.readlines() if n_lines is None else [next(f) for _ in range(n_lines)]
