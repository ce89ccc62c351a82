"""Phrase detection as the word2phrase C tool does it: frequent bigrams are
joined into one token with ``_``.

The rule (word2phrase.c's TrainModel), for two neighbouring words a b on one
line::

    score(a, b) = (count(ab) - min_count) / count(a) / count(b) * train_words

computed in float32 as the C tool does, where train_words is the number of
words in the input.  b is joined to a when a, b and the pair ab each occur
at least min_count times and the score is above the threshold, unless a was
itself just joined to the word before it: one pass builds phrases of at most
two words, a second pass over the output builds longer ones.  Pairs never
span a line end.

The output keeps the input's layout as the C tool writes it: every word is
preceded by a space, or by ``_`` when joined to the previous one, and every
newline of the input is kept (carriage returns are dropped).

Everything runs on arrays: fastw2v's corpus scanner gives the word id of
every token, a numba pass records the newlines between tokens, pairs are
counted by sorting int64 keys, and numba loops decide the joins and render
the output bytes.  No Python code runs per token.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from .files import InputError, atomic_output, expand_inputs, open_binary
from .scan import _NEWLINE, _SPACE, _LEAD, BYTE_CLASSES, LINE_END, _blocks, _unicode_space_len, scan_inputs

__all__ = ["Phrases", "learn_phrases", "write_phrased", "phrase_file"]

RENDER_TOKENS = 1 << 20  # tokens rendered per write


# --------------------------------------------------------------------------
# numba passes


@njit(cache=True)
def _gaps(data, classes, newlines, breaks, n_tok, pending_nl, pending_break):
    """Tokenise data exactly as scan._scan does and record, for each token,
    the '\\n' bytes since the previous token (newlines) and whether a line
    end ('\\n' or '\\r') lies between them (breaks).  Returns the updated
    (token count, pending newlines, pending break) carried to the next block."""
    n = len(data)
    i = 0
    while i < n:
        c = classes[data[i]]
        if c == _NEWLINE:
            if data[i] == 0x0A:
                pending_nl += 1
            pending_break = True
            i += 1
            continue
        if c == _SPACE:
            i += 1
            continue
        if c == _LEAD:
            k = _unicode_space_len(data, i, n)
            if k:
                i += k
                continue
        j = i
        while j < n:
            c = classes[data[j]]
            if c == _SPACE or c == _NEWLINE or (c == _LEAD and _unicode_space_len(data, j, n)):
                break
            j += 1
        newlines[n_tok] = pending_nl
        breaks[n_tok] = pending_break
        n_tok += 1
        pending_nl = 0
        pending_break = False
        i = j
    return n_tok, pending_nl, pending_break


@njit(cache=True)
def _pair_keys(tokens, breaks, counts, min_count, n_entries):
    """int64 keys a * n_entries + b of the neighbouring pairs (a, b) on one line
    whose words both occur at least min_count times."""
    n = len(tokens)
    m = 0
    for t in range(1, n):
        if not breaks[t] and counts[tokens[t - 1]] >= min_count and counts[tokens[t]] >= min_count:
            m += 1
    keys = np.empty(m, dtype=np.int64)
    m = 0
    for t in range(1, n):
        if not breaks[t] and counts[tokens[t - 1]] >= min_count and counts[tokens[t]] >= min_count:
            keys[m] = np.int64(tokens[t - 1]) * n_entries + tokens[t]
            m += 1
    return keys


@njit(cache=True)
def _run_lengths(sorted_keys):
    """Distinct keys of a sorted array and how often each occurs."""
    n = len(sorted_keys)
    distinct = 0
    for i in range(n):
        if i == 0 or sorted_keys[i] != sorted_keys[i - 1]:
            distinct += 1
    keys = np.empty(distinct, dtype=np.int64)
    counts = np.zeros(distinct, dtype=np.int64)
    d = -1
    for i in range(n):
        if i == 0 or sorted_keys[i] != sorted_keys[i - 1]:
            d += 1
            keys[d] = sorted_keys[i]
        counts[d] += 1
    return keys, counts


@njit(cache=True)
def _decide_joins(tokens, breaks, joinable, n_entries):
    """joins[t]: token t is joined to token t - 1 (its pair is in the sorted
    `joinable` keys, on one line, and token t - 1 was not itself joined)."""
    n = len(tokens)
    joins = np.zeros(n, dtype=np.bool_)
    m = len(joinable)
    if m == 0:
        return joins
    for t in range(1, n):
        if breaks[t] or joins[t - 1]:
            continue
        key = np.int64(tokens[t - 1]) * n_entries + tokens[t]
        lo, hi = 0, m
        while lo < hi:
            mid = (lo + hi) >> 1
            if joinable[mid] < key:
                lo = mid + 1
            else:
                hi = mid
        if lo < m and joinable[lo] == key:
            joins[t] = True
    return joins


@njit(cache=True)
def _rendered_size(tokens, newlines, lengths, lo, hi):
    size = 0
    for t in range(lo, hi):
        size += newlines[t] + 1 + lengths[tokens[t]]
    return size


@njit(cache=True)
def _render(tokens, newlines, joins, pool, starts, lengths, lo, hi, out):
    """Bytes of tokens lo..hi: each token's newlines, then '_' or ' ', then its bytes."""
    p = 0
    for t in range(lo, hi):
        for _ in range(newlines[t]):
            out[p] = 0x0A
            p += 1
        out[p] = 0x5F if joins[t] else 0x20
        p += 1
        e = tokens[t]
        s = starts[e]
        for k in range(lengths[e]):
            out[p] = pool[s + k]
            p += 1
    return p


# --------------------------------------------------------------------------
# the model


@dataclass
class Phrases:
    """The outcome of one word2phrase pass over some files.

    ``tokens`` holds the scanner's entry id of every token, ``newlines`` the
    '\\n' bytes before each token and ``trailing_newlines`` those after the
    last one; ``joins[t]`` says token t is joined to token t - 1.
    ``pair_keys``/``pair_counts`` list every pair of words on one line whose
    words both occur min_count times (key = a * n_entries + b) and
    ``pair_scores`` their float32 scores (0 for pairs rarer than min_count).
    """

    min_count: int
    threshold: float
    train_words: int
    counts: np.ndarray        # per scanner entry
    pool: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    tokens: np.ndarray
    newlines: np.ndarray
    trailing_newlines: int
    joins: np.ndarray
    pair_keys: np.ndarray
    pair_counts: np.ndarray
    pair_scores: np.ndarray

    @property
    def n_entries(self) -> int:
        return len(self.counts)

    @property
    def n_joined(self) -> int:
        """Phrases written (tokens joined to the word before them)."""
        return int(np.count_nonzero(self.joins))

    @property
    def vocab_size(self) -> int:
        """Distinct words and pairs occurring at least min_count times (the C
        tool's "Vocab size (unigrams + bigrams)")."""
        return (int(np.count_nonzero(self.counts >= self.min_count))
                + int(np.count_nonzero(self.pair_counts >= self.min_count)))

    def word(self, entry: int) -> str:
        return bytes(self.pool[self.starts[entry]:self.starts[entry] + self.lengths[entry]]).decode(
            "utf-8", "replace")

    def phrases(self) -> list[tuple[str, int, float]]:
        """(phrase "a_b", pair count, score) of every pair above the threshold, best first."""
        ok = self._joinable_mask()
        keys, counts, scores = self.pair_keys[ok], self.pair_counts[ok], self.pair_scores[ok]
        order = np.lexsort((keys, -scores))
        n = self.n_entries
        return [(f"{self.word(int(k) // n)}_{self.word(int(k) % n)}", int(c), float(s))
                for k, c, s in zip(keys[order].tolist(), counts[order].tolist(), scores[order].tolist())]

    def _joinable_mask(self) -> np.ndarray:
        return (self.pair_counts >= self.min_count) & (self.pair_scores > np.float32(self.threshold))

    def write(self, path) -> None:
        """Write the phrased text (see write_phrased)."""
        write_phrased(self, path)


def pair_scores(pair_counts, count_a, count_b, min_count, train_words) -> np.ndarray:
    """The C tool's score in float32: (count(ab) - min_count) / count(a) / count(b) * train_words;
    0 where the pair occurs fewer than min_count times."""
    with np.errstate(divide="ignore", invalid="ignore"):
        score = ((pair_counts - min_count).astype(np.float32) / count_a.astype(np.float32)
                 / count_b.astype(np.float32) * np.float32(train_words))
    return np.where(pair_counts >= min_count, score, np.float32(0)).astype(np.float32)


def _newlines_between(paths):
    """Per token: '\\n' bytes since the previous token, and whether a line end
    separates them; and the '\\n' bytes after the last token.  A file that
    does not end with a newline gets one before the next file's words."""
    newline_parts, break_parts = [], []
    pending_nl, pending_break = 0, False
    for index, path in enumerate(paths):
        pending_break = True  # a file's end ends a line
        last_byte = -1
        try:
            with open_binary(path) as f:
                for data in _blocks(f, None):
                    newlines = np.empty(len(data) // 2 + 1, dtype=np.int32)
                    breaks = np.empty(len(data) // 2 + 1, dtype=np.bool_)
                    n_tok, pending_nl, pending_break = _gaps(data, BYTE_CLASSES, newlines, breaks, 0,
                                                             pending_nl, pending_break)
                    newline_parts.append(newlines[:n_tok].copy())
                    break_parts.append(breaks[:n_tok].copy())
                    if len(data):
                        last_byte = int(data[-1])
        except (OSError, EOFError, ValueError) as e:
            if isinstance(e, InputError):
                raise
            raise InputError(f"{path.name}: {e}") from None
        if index < len(paths) - 1 and last_byte not in (-1, 0x0A) and pending_nl == 0:
            pending_nl = 1
    newlines = np.concatenate(newline_parts) if newline_parts else np.zeros(0, np.int32)
    breaks = np.concatenate(break_parts) if break_parts else np.zeros(0, np.bool_)
    return newlines, breaks, pending_nl


def learn_phrases(paths, min_count: int = 5, threshold: float = 100.0) -> Phrases:
    """Count words and neighbouring pairs in the files and decide which tokens
    join the word before them (the word2phrase C tool's rule; see the module
    docstring).  `paths`: a file, a list of files or a directory, as for
    training; .gz/.bz2/.xz files are read directly."""
    if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)) or min_count < 0:
        raise ValueError(f"min_count must be an integer >= 0, got {min_count!r}")
    threshold = float(threshold)
    if threshold != threshold:
        raise ValueError("threshold must be a number, got nan")
    files = expand_inputs(paths)
    if not all(inp.regular for inp in files):
        raise InputError("word2phrase reads its input twice: give files, not a stream or standard input")
    scan = scan_inputs(files)
    tokens = np.concatenate([entries[ids[ids != LINE_END]] for part, entries in zip(scan.ranges, scan.maps)
                             for ids in part.id_blocks()] or [np.zeros(0, np.int32)])
    n_entries = scan.table.n_entries
    newlines, breaks, trailing = _newlines_between(files)
    if len(newlines) != len(tokens):  # both passes tokenise with the same rules
        raise RuntimeError(f"internal error: {len(tokens)} tokens scanned but {len(newlines)} in the layout pass")
    counts = scan.table.counts[:n_entries]
    n_entries = max(n_entries, 1)
    keys = _pair_keys(tokens, breaks, counts, min_count, n_entries)
    keys.sort()
    pair_keys, pair_counts = _run_lengths(keys)
    del keys
    scores = pair_scores(pair_counts, counts[pair_keys // n_entries], counts[pair_keys % n_entries], min_count,
                         scan.raw_word_count)
    phrases = Phrases(min_count=min_count, threshold=threshold, train_words=scan.raw_word_count, counts=counts,
                      pool=scan.table.pool, starts=scan.table.starts[:len(counts)],
                      lengths=scan.table.lengths[:len(counts)], tokens=tokens, newlines=newlines,
                      trailing_newlines=int(trailing), joins=np.zeros(len(tokens), np.bool_), pair_keys=pair_keys,
                      pair_counts=pair_counts, pair_scores=scores)
    joinable = pair_keys[phrases._joinable_mask()]
    phrases.joins = _decide_joins(tokens, breaks, joinable, n_entries)
    return phrases


def write_phrased(phrases: Phrases, path) -> None:
    """Write the text with joined pairs as the C tool lays it out: each word
    preceded by ' ' (or '_' when joined to the previous one), newlines kept.
    The file is replaced only once fully written."""
    with atomic_output(path) as out:
        buf = np.empty(0, np.uint8)
        n = len(phrases.tokens)
        for lo in range(0, n, RENDER_TOKENS):
            hi = min(n, lo + RENDER_TOKENS)
            size = _rendered_size(phrases.tokens, phrases.newlines, phrases.lengths, lo, hi)
            if len(buf) < size:
                buf = np.empty(size, np.uint8)
            used = _render(phrases.tokens, phrases.newlines, phrases.joins, phrases.pool, phrases.starts,
                           phrases.lengths, lo, hi, buf)
            out.write(buf[:used].data)
        out.write(b"\n" * phrases.trailing_newlines)


def phrase_file(source, output, min_count: int = 5, threshold: float = 100.0) -> Phrases:
    """One word2phrase pass: learn the phrases of `source` and write the phrased text to `output`."""
    phrases = learn_phrases(source, min_count, threshold)
    write_phrased(phrases, Path(output))
    return phrases
