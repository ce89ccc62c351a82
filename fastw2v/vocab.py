"""Vocabulary: the kept words in training order, their counts, and the C tool's vocab file.

The order is gensim 4's, so the same corpus gives the same ids in both: by
descending count, and among equal counts the word first seen *last* comes
first (gensim sorts its vocabulary, kept in order of first occurrence, with
``lexsort((-index, -count))``).  Words added to an existing vocabulary
(continued training) are appended in order of first occurrence, unsorted, as
gensim's ``build_vocab(update=True)`` does.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .files import output_file


class VocabularyError(ValueError):
    """The corpus or the settings leave no usable vocabulary."""


@dataclass
class Vocabulary:
    """Words (index -> str), their corpus counts, and the reverse index."""

    words: list
    counts: np.ndarray
    key_to_index: dict = field(default=None, repr=False)

    def __post_init__(self):
        self.counts = np.ascontiguousarray(self.counts, dtype=np.int64)
        if len(self.words) != len(self.counts):
            raise ValueError(f"{len(self.words)} words but {len(self.counts)} counts")
        if self.key_to_index is None:
            self.key_to_index = {w: i for i, w in enumerate(self.words)}
        if len(self.key_to_index) != len(self.words):
            raise ValueError("duplicate words in vocabulary")

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.key_to_index

    @property
    def total_count(self) -> int:
        return int(self.counts.sum())

    def save(self, path, outputs=None) -> None:
        """Write "word count" lines, the format of the C tool's -save-vocab
        (staged in `outputs`, a files.OutputSet, when given)."""
        with output_file(path, outputs) as out:
            out.write("".join(f"{w} {c}\n" for w, c in zip(self.words, self.counts.tolist())).encode("utf-8"))

    @classmethod
    def load(cls, path) -> "Vocabulary":
        """Read a "word count" file (C tool -save-vocab / -read-vocab format)."""
        words, counts = [], []
        with open(path, "rb") as f:
            for line_no, raw in enumerate(f, 1):
                parts = raw.decode("utf-8").split()
                if not parts:
                    continue
                if len(parts) != 2 or not parts[1].isdigit():
                    raise VocabularyError(f"{path}: line {line_no}: expected 'word count', got {raw[:80]!r}")
                words.append(parts[0])
                counts.append(int(parts[1]))
        return cls(words, np.array(counts, dtype=np.int64))


@dataclass
class WordCounts:
    """Distinct words of a corpus with their counts and first token positions."""

    words: list
    counts: np.ndarray
    first_seen: np.ndarray


def choose_vocabulary(counted: WordCounts, min_count: int, max_final_vocab: int | None = None,
                      base: Vocabulary | None = None, fixed: bool = False):
    """The vocabulary for counted words, and the id of each counted word (-1: dropped).

    Fresh: words reaching min_count (raised for max_final_vocab), in the
    module docstring's order.  With `base` (continued training): base words
    keep their ids and add the new counts; new words reaching min_count are
    appended in order of first occurrence.  With `base` and `fixed`
    (resuming): `base` is used unchanged.
    """
    known = np.array([base.key_to_index.get(w, -1) for w in counted.words], dtype=np.int64) \
        if base is not None else np.full(len(counted.words), -1, dtype=np.int64)
    if base is not None and fixed:
        return base, known
    new = np.flatnonzero(known < 0)
    if base is None:
        order = new[select_and_order(counted.counts[new], counted.first_seen[new], min_count, max_final_vocab)]
    else:
        appended = new[counted.counts[new] >= min_count]
        order = appended[np.argsort(counted.first_seen[appended], kind="stable")]
    if base is None and len(order) == 0:
        raise VocabularyError(no_vocabulary_message(len(counted.words), int(counted.counts.max(initial=0)),
                                                    min_count))
    first_new = len(base) if base is not None else 0
    ids = known.copy()
    ids[order] = first_new + np.arange(len(order))
    if base is None:
        return Vocabulary([counted.words[i] for i in order.tolist()], counted.counts[order]), ids
    counts = np.concatenate([base.counts, counted.counts[order]])
    np.add.at(counts, known[known >= 0], counted.counts[known >= 0])
    return Vocabulary(list(base.words) + [counted.words[i] for i in order.tolist()], counts), ids


def effective_min_count(counts: np.ndarray, min_count: int, max_final_vocab: int | None) -> int:
    """min_count, raised (as gensim does) until at most max_final_vocab words remain.

    Raising the threshold instead of cutting at exactly N keeps the choice
    independent of how ties happen to be ordered.
    """
    if max_final_vocab is None or len(counts) <= max_final_vocab:
        return min_count
    kth = np.partition(counts, len(counts) - max_final_vocab - 1)[len(counts) - max_final_vocab - 1]
    return max(min_count, int(kth) + 1)


def select_and_order(counts: np.ndarray, first_seen: np.ndarray, min_count: int,
                     max_final_vocab: int | None) -> np.ndarray:
    """Indices of the kept entries, by descending count, then the latest
    first occurrence first (gensim's order)."""
    threshold = effective_min_count(counts, min_count, max_final_vocab)
    kept = np.flatnonzero(counts >= threshold)
    order = np.lexsort((-first_seen[kept], -counts[kept]))
    return kept[order]


def no_vocabulary_message(n_distinct: int, max_count: int, min_count: int) -> str:
    if n_distinct == 0:
        return "the corpus contains no words"
    return (f"no word occurs at least min_count={min_count} times "
            f"({n_distinct} distinct words, the most frequent occurs {max_count} times); "
            f"lower min_count to {max(1, max_count)} or less")
