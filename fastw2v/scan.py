"""Scanning text: every token's word, the words' counts and first positions,
on all threads, with no Python object per token.

Tokens are runs of bytes between whitespace, as Python's ``str.split()``
defines it (ASCII whitespace, the 0x1c-0x1f separators and the Unicode space
characters, decoded from UTF-8), so the same text gives the same words as
gensim's ``LineSentence``; ``\\n`` and ``\\r`` end a line.  Words are counted
in a byte-level hash table compiled with numba; each token's entry id goes to
an id stream in which ``LINE_END`` marks the end of a line.  The stream is
spooled to a file (or kept in memory for small jobs), so memory does not grow
with the corpus, and every input, a pipe included, is read exactly once.

The id stream.  Each id goes into one 16-bit unit when it is below 0x7FFF
and into two otherwise (_pack_ids).  Entries are numbered in order of first
sighting, so frequent words have small numbers: on en-mix 95.5% of the ids
take one unit, 2.09 bytes a token against the 4 of int32 (the stream 86 ->
45 MB), packed and unpacked at about 1 ns an id (21M ids: 0.013 and 0.016
s; LEB128 varints, 1.74 bytes, took 0.08 s each way, their branches being
unpredictable).  The encoder reads each stream once and hands back what it
has read as it goes (punched out of the spool file, or dropped from memory),
so that the pages of the corpus file it writes can be pages just freed: on
this virtual machine a fresh page costs about ten times a reused one
(writing 85 MB to a file: 0.22 s against 0.02 s), and encoding en-mix took
0.11 s on one thread against 0.19 s when nothing was handed back (0.087
against 0.136 s on two; 6 alternating runs in one process).

Parallel scan.  A plain file is cut into byte ranges of about equal size,
each cut just after an ASCII whitespace byte (a token never spans a cut, and
no UTF-8 character contains an ASCII byte), and each range is scanned by one
worker thread into its own table (the scanner releases the GIL).  Compressed
files and streams are one range each.  A thread left without a range takes
over the second half of what the range with most left has not read yet,
cut the same way, while that half holds at least SPLIT_MIN_BYTES
(_Workshare), so that a slowed thread does not hold the others up idle: on
this virtual machine the two halves of en-mix, the same words and bytes,
took 0.53-0.73 s each, one up to 0.12 s after the other (6 runs in one
process); taking over, the scan on two threads took 0.446 s against 0.496
s (medians of 30 alternating runs in one process, paired 1.05x; a piece
was taken in 16 of them).  The tables are merged in range order,
so every word's count and first position (global token index) equal those of
a serial scan, and so do the encoded ids (tested).  A line cut between two
ranges is continued, not ended: the second range marks a line end at its
first newline even when its own first token has not come yet, and extra
marks are harmless (an empty line is no sentence).  ``max_vocab_size``
(the C tool's pruning while counting) depends on the order in which words
arrive, so a run with it scans serially.

Merging.  The first range's table becomes the merged one as it is; each
later one is merged into it with its stored hashes (no word is hashed
again), the merged table growing only as new entries arrive.  The words
both tables hold are looked up on all the scan's threads at once (each
adds the counts of the entries it finds, which are distinct words: no two
threads write the same place), then the new ones are added in order on
one.  Merging en-mix's second range (177k entries into 177k, 71k of them
new), the same tables in alternating runs in one process, medians: 0.021,
0.020 and 0.013 s (10 runs; 0.044, 0.038 and 0.024 s in 14 runs while the
machine was slower) in one pass looking up and adding each entry in turn,
looking all up first and adding the new ones after, and with the lookups
on two threads, a half of the entries each (taking turns at runs of 4096
instead, since the later, rarer words are slower to find: 0.023 s, no
better).  It was 0.07 s when each table was copied into an empty one by
scanning its words again.

Measured on the 2-core machine (bench/results/scan.md, scan-zipf-200m.md,
`python -m bench.scan --phases`, 5 and 3 alternating runs): the scan itself
runs 1.8-2.0x faster on two threads (en-mix, 116 MB: 0.81-0.85 -> 0.45-0.46
s; 200M Zipf tokens, 815 MB: 5.7-5.9 -> 2.9-3.0 s), encoding, which
corpus.py spreads over the same ranges, 1.2-1.5x (0.11-0.12 -> 0.08 s on
en-mix; on 200M tokens 0.7 -> 0.37 s or, when this virtual machine's page
cache is slow to hand out fresh pages, 2.3 -> 2.0 s).  Once numba has
started, scan + encode (encode_to_file) runs 1.68x faster on en-mix (1.01
-> 0.60 s) and 1.67x on 200M tokens; the whole `fastw2v encode` command
1.52x (1.23 -> 0.81 s) and 1.64x.  What stays serial: numba's start (0.23
s, once per process whatever it runs, of which 0.16 s is numba importing
scipy.linalg where scipy is installed), loading the scanner's kernels from
the cache (0.011 s), merging (0.013 s), choosing the vocabulary's ids
(0.006 s) and the file's tail, fsync and commit (0.025-0.03 s), on en-mix
with two threads.  The kernels needed after the scan (the UTF-8 check, the
words' decoding, the encoder) are loaded by the main thread while the
workers scan, and each range checks its own words for invalid UTF-8 on
its thread, not the merged table after (0.014 -> 0.006 s of serial work).
On the AMD EPYC machine, whose fresh pages are dear (see the id stream
above), packing the stream and handing back what was read took scan +
encode on two threads from 1.41x to 1.77x the speed of one (0.85 -> 0.48
s; the code before, same run: 0.91 -> 0.64 s; scan-packed.md, 11
alternating runs), and on 200M Zipf tokens from 1.66x to 1.84x (5.64 ->
3.06 s; before 6.79 -> 4.09 s; 3 runs).
"""
from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from .files import Input, InputError, is_compressed, open_binary, release_file_range
from .pages import release_compiler_pages
from .vocab import WordCounts

BLOCK_BYTES = 1 << 20       # bytes scanned per call
RANGE_MIN_BYTES = 1 << 24   # plain files are cut into ranges no smaller than this
LINE_END = -1               # in the id stream: a line ended
SPOOL_IN_MEMORY_BYTES = 1 << 26  # inputs smaller than this keep their id stream in memory
SPOOL_RELEASE_BYTES = 1 << 22    # a spool file's read bytes are released in pieces of this
MERGE_PART_MIN = 1 << 14         # the fewest entries a thread looks up when merging tables
SPLIT_MIN_BYTES = 1 << 20        # the smallest piece a thread takes over from a range being read

# byte classes
_WORD, _SPACE, _NEWLINE, _LEAD = 0, 1, 2, 3


def _byte_classes() -> np.ndarray:
    """Class of each byte: word byte, ASCII space, line end, or the first byte
    of a multi-byte UTF-8 sequence that may encode a Unicode space."""
    classes = np.zeros(256, dtype=np.uint8)
    for b in (0x09, 0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x1F, 0x20):
        classes[b] = _SPACE
    classes[0x0A] = classes[0x0D] = _NEWLINE
    for b in (0xC2, 0xE1, 0xE2, 0xE3):
        classes[b] = _LEAD
    return classes


BYTE_CLASSES = _byte_classes()


@njit(cache=True, inline="always")
def _unicode_space_len(data, i, n):
    """Length of the UTF-8 encoded Unicode space starting at data[i], or 0."""
    b0 = data[i]
    if b0 == 0xC2:
        if i + 1 < n and (data[i + 1] == 0x85 or data[i + 1] == 0xA0):
            return 2
        return 0
    if i + 2 >= n:
        return 0
    b1 = data[i + 1]
    b2 = data[i + 2]
    if b0 == 0xE1:
        return 3 if (b1 == 0x9A and b2 == 0x80) else 0
    if b0 == 0xE2:
        if b1 == 0x80 and (b2 <= 0x8A or b2 == 0xA8 or b2 == 0xA9 or b2 == 0xAF) and b2 >= 0x80:
            return 3
        if b1 == 0x81 and b2 == 0x9F:
            return 3
        return 0
    if b0 == 0xE3:
        return 3 if (b1 == 0x80 and b2 == 0x80) else 0
    return 0


@njit(cache=True, inline="always")
def _is_ascii_space(b):
    return b == 0x20 or b == 0x0A or b == 0x0D or b == 0x09 or b == 0x0B or b == 0x0C or (0x1C <= b <= 0x1F)


@njit(cache=True, nogil=True)
def last_separator_end(data):
    """Index just past the last ASCII whitespace byte in data (0 if none): a
    safe place to cut a block, since ASCII bytes never occur inside a
    multi-byte UTF-8 character."""
    i = len(data)
    while i > 0:
        if _is_ascii_space(data[i - 1]):
            return i
        i -= 1
    return 0


@njit(cache=True, nogil=True)
def first_separator_end(data):
    """Index just past the first ASCII whitespace byte in data (-1 if none)."""
    for i in range(len(data)):
        if _is_ascii_space(data[i]):
            return i + 1
    return -1


# table state slots (int64 array shared between calls)
_N_ENTRIES, _POOL_USED, _N_LIVE, _TOKENS, _AFTER_LINE_END = 0, 1, 2, 3, 4
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


@njit(cache=True, inline="always")
def _lookup(buckets, hashes, starts, lengths, pool, h, word, at, length):
    """The bucket slot of the word word[at:at + length] (hash h) and its
    entry, or the empty slot where it would go and -1."""
    mask = np.uint64(len(buckets) - 1)
    slot = (h ^ (h >> np.uint64(29))) & mask
    while True:
        e = buckets[slot]
        if e < 0:
            return slot, -1
        if hashes[e] == h and lengths[e] == length:
            s = starts[e]
            same = True
            for k in range(length):
                if pool[s + k] != word[at + k]:
                    same = False
                    break
            if same:
                return slot, e
        slot = (slot + np.uint64(1)) & mask


@njit(cache=True, inline="always")
def _insert(buckets, hashes, starts, lengths, counts, first_seen, pool, state, slot, h, word, at, length, first):
    """A new entry for word[at:at + length] (hash h, first seen at token
    `first`) in the empty bucket `slot`, with a count of 0; returns it, or -1
    when the table needs to grow first (entries, byte pool or bucket load)."""
    entry = state[_N_ENTRIES]
    if entry >= len(hashes) or state[_POOL_USED] + length > len(pool) or 2 * (entry + 1) > len(buckets):
        return -1
    buckets[slot] = entry
    hashes[entry] = h
    used = state[_POOL_USED]
    starts[entry] = used
    lengths[entry] = length
    for k in range(length):
        pool[used + k] = word[at + k]
    state[_POOL_USED] = used + length
    counts[entry] = 0
    first_seen[entry] = first
    state[_N_ENTRIES] = entry + 1
    return entry


@njit(cache=True, nogil=True)
def _scan(data, start, classes, buckets, hashes, starts, lengths, counts, first_seen, pool, state, ids_out, n_ids):
    """Tokenise data[start:], counting words and writing their entry ids (and
    LINE_END marks) to ids_out[n_ids:].

    Stops early, before a token it cannot store, when the entry table, the
    byte pool or the bucket load needs to grow; returns (position reached,
    ids written).  The caller grows and calls again.  (The hash lookup,
    _lookup, is shared with _merge; given the word as an array and an
    offset, the inlined helper scans en-mix as fast as the lookup written
    out here did, 0.78-0.81 s on one thread; an earlier helper that took
    the word another way ran 3x slower.)
    """
    n = len(data)
    i = start
    while i < n:
        c = classes[data[i]]
        if c != _WORD:
            if c == _NEWLINE:
                if state[_AFTER_LINE_END] == 0:
                    ids_out[n_ids] = LINE_END
                    n_ids += 1
                    state[_AFTER_LINE_END] = 1
                i += 1
                continue
            if c == _SPACE:
                i += 1
                continue
            k = _unicode_space_len(data, i, n)  # a lead byte: a Unicode space or a word
            if k:
                i += k
                continue
        # a word starts at i
        j = i
        h = _FNV_OFFSET
        while j < n:
            b = data[j]
            c = classes[b]
            if c != _WORD and (c != _LEAD or _unicode_space_len(data, j, n)):
                break
            h = (h ^ np.uint64(b)) * _FNV_PRIME
            j += 1
        length = j - i
        slot, entry = _lookup(buckets, hashes, starts, lengths, pool, h, data, i, length)
        if entry < 0:
            entry = _insert(buckets, hashes, starts, lengths, counts, first_seen, pool, state, slot, h, data, i,
                            length, state[_TOKENS])
            if entry < 0:
                return i, n_ids
        if counts[entry] == 0:
            state[_N_LIVE] += 1
        counts[entry] += 1
        ids_out[n_ids] = entry
        n_ids += 1
        state[_TOKENS] += 1
        state[_AFTER_LINE_END] = 0
        i = j
    return i, n_ids


@njit(cache=True, nogil=True)
def _find(buckets, hashes, starts, lengths, counts, pool,
          their_hashes, their_starts, their_lengths, their_counts, their_pool, lo, hi, entries, woken):
    """Look another table's entries lo..hi-1 up here, with their stored
    hashes: the entry of each one found goes to entries (and its count is
    added), -1 for the others.  Writes nothing else but counts, each entry's
    own (another table's entries are distinct words), so threads may look
    up parts of the same table at once; woken[0]: entries found whose count
    was 0 (forgotten by pruning)."""
    for t in range(lo, hi):
        slot, entry = _lookup(buckets, hashes, starts, lengths, pool, their_hashes[t], their_pool, their_starts[t],
                              their_lengths[t])
        entries[t] = entry
        if entry >= 0:
            if counts[entry] == 0 and their_counts[t] > 0:
                woken[0] += 1
            counts[entry] += their_counts[t]


@njit(cache=True, nogil=True)
def _merge(buckets, hashes, starts, lengths, counts, first_seen, pool, state,
           their_hashes, their_starts, their_lengths, their_counts, their_first_seen, their_pool, token_base,
           entries, start):
    """Add the entries of another table that _find did not find (entries[t]
    = -1), from number `start` on (its arrays cut to its entries; its first
    positions relative to token_base), writing each one's entry here to
    entries.  Stops, as _scan does, before an entry our table has no room
    for, and returns its number (the caller grows the table and calls
    again).  The stored hashes are the scanner's, so no word is hashed
    again."""
    for t in range(start, len(their_hashes)):
        if entries[t] >= 0:
            continue
        h, length, at = their_hashes[t], their_lengths[t], their_starts[t]
        slot, entry = _lookup(buckets, hashes, starts, lengths, pool, h, their_pool, at, length)
        entry = _insert(buckets, hashes, starts, lengths, counts, first_seen, pool, state, slot, h, their_pool,
                        at, length, token_base + their_first_seen[t])
        if entry < 0:
            return t
        if their_counts[t] > 0:
            state[_N_LIVE] += 1
        counts[entry] += their_counts[t]
        entries[t] = entry
    return len(their_hashes)


@njit(cache=True, nogil=True)
def _pack_ids(ids, n, out):
    """ids[:n] as uint16 units, in out (at least 2n long); returns how many.
    A value v = id + 1 (LINE_END is 0) below 0x8000 takes one unit; a larger
    one two, the first holding 0x8000 | v >> 16 (values below 2**31)."""
    at = 0
    for k in range(n):
        v = np.uint32(ids[k] + 1)
        if v < 0x8000:
            out[at] = np.uint16(v)
            at += 1
        else:
            out[at] = np.uint16(0x8000 | (v >> np.uint32(16)))
            out[at + 1] = np.uint16(v & np.uint32(0xFFFF))
            at += 2
    return at


@njit(cache=True, nogil=True)
def _unpack_ids(packed, n_units, out):
    """The ids of the whole values in packed[:n_units] (from _pack_ids), into
    out (at least n_units long); returns (units read, ids written): a
    value cut at the end is left for the next call."""
    at = 0
    n = 0
    while at < n_units:
        u = np.uint32(packed[at])
        if u < 0x8000:
            out[n] = np.int32(u) - 1
            at += 1
        else:
            if at + 1 == n_units:
                break
            out[n] = np.int32(((u & np.uint32(0x7FFF)) << np.uint32(16)) | np.uint32(packed[at + 1])) - 1
            at += 2
        n += 1
    return at, n


@njit(cache=True)
def _spaced_words(pool, starts, lengths):
    """The entries' bytes, each followed by a space."""
    out = np.empty(lengths.sum() + len(lengths), dtype=np.uint8)
    at = 0
    for e in range(len(lengths)):
        out[at:at + lengths[e]] = pool[starts[e]:starts[e] + lengths[e]]
        at += lengths[e]
        out[at] = 0x20
        at += 1
    return out


@njit(cache=True)
def _rehash(hashes, n_entries, n_buckets):
    buckets = np.full(n_buckets, -1, dtype=np.int32)
    mask = np.uint64(n_buckets - 1)
    for e in range(n_entries):
        h = hashes[e]
        slot = (h ^ (h >> np.uint64(29))) & mask
        while buckets[slot] >= 0:
            slot = (slot + np.uint64(1)) & mask
        buckets[slot] = e
    return buckets


@njit(cache=True)
def _invalid_utf8(pool, starts, lengths, entries):
    """For each listed entry, whether its bytes are not valid UTF-8."""
    bad = np.zeros(len(entries), dtype=np.bool_)
    for t in range(len(entries)):
        e = entries[t]
        i = starts[e]
        end = i + lengths[e]
        while i < end:
            b = pool[i]
            if b < 0x80:
                i += 1
                continue
            if 0xC2 <= b <= 0xDF:
                k = 1
                lo, hi = 0x80, 0xBF
            elif 0xE0 <= b <= 0xEF:
                k = 2
                lo = 0xA0 if b == 0xE0 else 0x80
                hi = 0x9F if b == 0xED else 0xBF
            elif 0xF0 <= b <= 0xF4:
                k = 3
                lo = 0x90 if b == 0xF0 else 0x80
                hi = 0x8F if b == 0xF4 else 0xBF
            else:
                bad[t] = True
                break
            if i + k >= end:
                bad[t] = True
                break
            if not (lo <= pool[i + 1] <= hi):
                bad[t] = True
                break
            ok = True
            for m in range(2, k + 1):
                if not (0x80 <= pool[i + m] <= 0xBF):
                    ok = False
                    break
            if not ok:
                bad[t] = True
                break
            i += k + 1
    return bad


@njit(cache=True)
def _has_replacement_char(pool, starts, lengths, entries):
    """Whether each listed entry contains U+FFFD (bytes EF BF BD)."""
    found = np.zeros(len(entries), dtype=np.bool_)
    for t in range(len(entries)):
        s = starts[entries[t]]
        for i in range(s, s + lengths[entries[t]] - 2):
            if pool[i] == 0xEF and pool[i + 1] == 0xBF and pool[i + 2] == 0xBD:
                found[t] = True
                break
    return found


class Table:
    """A word hash table: entry bytes in one pool, counts, first positions.
    Grown by doubling between calls of the scanners."""

    def __init__(self, capacity=1 << 14, pool_bytes=1 << 18):
        self.hashes = np.zeros(capacity, dtype=np.uint64)
        self.starts = np.zeros(capacity, dtype=np.int64)
        self.lengths = np.zeros(capacity, dtype=np.int32)
        self.counts = np.zeros(capacity, dtype=np.int64)
        self.first_seen = np.zeros(capacity, dtype=np.int64)
        self.pool = np.zeros(pool_bytes, dtype=np.uint8)
        self.buckets = np.full(4 * capacity, -1, dtype=np.int32)
        self.state = np.zeros(5, dtype=np.int64)

    @property
    def n_entries(self) -> int:
        return int(self.state[_N_ENTRIES])

    @property
    def tokens(self) -> int:
        return int(self.state[_TOKENS])

    def arrays(self):
        """The table arguments of _scan, in its order."""
        return (self.buckets, self.hashes, self.starts, self.lengths, self.counts, self.first_seen, self.pool,
                self.state)

    def scan(self, data: np.ndarray, ids: np.ndarray) -> int:
        """Tokenise data into the table, growing it as needed; writes the
        entry ids (and LINE_END marks) to ids (at least len(data) + 2 long)
        and returns how many."""
        position = n_ids = 0
        while True:
            position, n_ids = _scan(data, position, BYTE_CLASSES, *self.arrays(), ids, n_ids)
            if position >= len(data):
                return n_ids
            self.grow(len(data) - position)

    def grow(self, pending_bytes: int):
        """Room for one more entry of up to pending_bytes bytes."""
        n = self.n_entries
        if n >= len(self.hashes):
            for name in ("hashes", "starts", "lengths", "counts", "first_seen"):
                old = getattr(self, name)
                new = np.zeros(2 * len(old), dtype=old.dtype)
                new[:len(old)] = old
                setattr(self, name, new)
        if 2 * (n + 1) > len(self.buckets):
            self.buckets = _rehash(self.hashes, n, 2 * len(self.buckets))
        need = int(self.state[_POOL_USED]) + pending_bytes
        if need > len(self.pool):
            new = np.zeros(max(need, 2 * len(self.pool)), dtype=np.uint8)
            new[:len(self.pool)] = self.pool
            self.pool = new

    def prune(self, max_vocab_size: int, min_reduce: int) -> int:
        """The C tool's ReduceVocab: forget counts <= min_reduce while too many
        words are live; a forgotten word that reappears counts from zero."""
        counts = self.counts[:self.n_entries]
        while self.state[_N_LIVE] > max_vocab_size:
            drop = (counts > 0) & (counts <= min_reduce)
            counts[drop] = 0
            self.state[_N_LIVE] -= int(drop.sum())
            min_reduce += 1
        return min_reduce

    def export(self) -> tuple:
        """The entries as plain arrays (words spaced, counts, first positions,
        tokens): what merge_entries takes, and what a rank sends to rank 0."""
        n = self.n_entries
        return (_spaced_words(self.pool, self.starts[:n], self.lengths[:n]), self.counts[:n].copy(),
                self.first_seen[:n].copy(), self.tokens)

    def merge(self, other: "Table", token_base: int, threads: int = 1) -> np.ndarray:
        """Add `other`'s entries (of a later range whose first token is number
        token_base); returns its entry -> our entry map.  The words both
        tables hold are looked up on `threads` threads, the new ones then
        added in order."""
        n = other.n_entries
        theirs = (other.hashes[:n], other.starts[:n], other.lengths[:n], other.counts[:n])
        entries = np.empty(n, dtype=np.int32)
        bounds = np.linspace(0, n, max(1, min(threads, -(-n // MERGE_PART_MIN))) + 1).astype(np.int64)
        woken = np.zeros(len(bounds) - 1, dtype=np.int64)

        def find(part: int) -> None:
            _find(self.buckets, self.hashes, self.starts, self.lengths, self.counts, self.pool, *theirs, other.pool,
                  bounds[part], bounds[part + 1], entries, woken[part:part + 1])

        # this thread takes the first part itself: with the two halves both on helper threads, merging en-mix's
        # second range took 0.017-0.024 s against 0.013-0.020 (3 x 20 alternating runs, same tables)
        with ThreadPoolExecutor(max(1, len(woken) - 1), thread_name_prefix="fastw2v-merge") as pool:
            helped = [pool.submit(find, part) for part in range(1, len(woken))]
            find(0)
            for part in helped:
                part.result()
        self.state[_N_LIVE] += int(woken.sum())
        done = 0
        while True:
            done = _merge(*self.arrays(), *theirs, other.first_seen[:n], other.pool, token_base, entries, done)
            if done == n:
                return entries
            self.grow(int(other.lengths[done]))

    def merge_entries(self, spaced_words, counts, first_seen, token_base: int) -> np.ndarray:
        """Add entries given as words each followed by a space, with their
        counts and first positions (relative to token_base); returns their
        entry numbers here.

        The spaced words scan back into exactly those words (an entry holds
        no separator), so the scanner itself does the lookup; the counts and
        first positions it sets are then corrected.
        """
        n = len(counts)
        before, tokens, after_line_end = self.n_entries, self.tokens, self.state[_AFTER_LINE_END]
        entries = np.empty(len(spaced_words) + 2, dtype=np.int32)
        self.scan(spaced_words, entries)
        entries = entries[:n]
        self.state[_TOKENS], self.state[_AFTER_LINE_END] = tokens, after_line_end
        self.counts[entries] += counts - 1
        new = entries >= before
        self.first_seen[entries[new]] = token_base + first_seen[new]
        return entries

    def any_invalid_utf8(self) -> bool:
        """Whether the bytes of any counted word are not valid UTF-8."""
        live = np.flatnonzero(self.counts[:self.n_entries] > 0)
        return bool(_invalid_utf8(self.pool, self.starts, self.lengths, live).any())

    def words_of(self, entries: np.ndarray) -> list:
        """The entries' words as str, invalid UTF-8 replaced by U+FFFD, in one
        decode: words hold no space, and a space ends any invalid sequence
        before it."""
        return _spaced_words(self.pool, self.starts[entries], self.lengths[entries]).tobytes() \
            .decode("utf-8", "replace").split(" ")[:-1]

    def word_counts(self, min_count: int = 1):
        """The distinct words as str, invalid UTF-8 replaced by U+FFFD.

        Replacement can turn several byte strings into one word; their counts
        are merged.  Words rarer than `min_count` are left out (not decoded)
        unless a merge could lift them: those with invalid bytes or a literal
        U+FFFD.  Returns (WordCounts, word index per entry or -1, number of
        tokens whose bytes were not valid UTF-8).
        """
        n = self.n_entries
        counts, first_seen = self.counts[:n], self.first_seen[:n]
        live = np.flatnonzero(counts > 0)
        invalid = _invalid_utf8(self.pool, self.starts, self.lengths, live)
        invalid_tokens = int(counts[live[invalid]].sum())
        if min_count > 1:
            keep = invalid | (counts[live] >= min_count)
            if invalid.any():
                keep |= _has_replacement_char(self.pool, self.starts, self.lengths, live)
            live, invalid = live[keep], invalid[keep]
        words = self.words_of(live)
        entry_word = np.full(n, -1, dtype=np.int64)
        if not invalid.any():
            entry_word[live] = np.arange(len(live))
            return WordCounts(words, counts[live], first_seen[live]), entry_word, 0
        index: dict = {}
        for e, w in zip(live.tolist(), words):
            entry_word[e] = index.setdefault(w, len(index))
        merged = np.zeros(len(index), dtype=np.int64)
        first = np.full(len(index), np.iinfo(np.int64).max, dtype=np.int64)
        np.add.at(merged, entry_word[live], counts[live])
        np.minimum.at(first, entry_word[live], first_seen[live])
        return WordCounts(list(index), merged, first), entry_word, invalid_tokens


# --------------------------------------------------------------------------
# ranges and the parallel driver


@dataclass(frozen=True)
class ByteRange:
    """Bytes [start, end) of input number `source` (end None: to the end;
    a compressed file or a stream is always read whole)."""

    source: int
    input: Input
    start: int = 0
    end: int | None = None


def _cut_after_space(path: str, offset: int, end: int) -> int:
    """The first position after an ASCII whitespace byte at or after `offset`
    (`end` if there is none before it)."""
    buf = np.empty(1 << 16, dtype=np.uint8)  # writable, as the scanner's blocks: one compiled signature
    with open(path, "rb") as f:
        f.seek(offset)
        while offset < end:
            n = f.readinto(memoryview(buf)[:min(len(buf), end - offset)])
            if not n:
                return end
            cut = first_separator_end(buf[:n])
            if cut >= 0:
                return offset + cut
            offset += n
    return end


def plan_ranges(inputs: list[Input], threads: int, compressed: list[bool],
                min_bytes: int | None = None) -> list[ByteRange]:
    """Byte ranges in input order: plain files cut into about equal pieces of
    at least min_bytes (RANGE_MIN_BYTES by default; about one per thread over
    all plain bytes), the other inputs whole."""
    min_bytes = RANGE_MIN_BYTES if min_bytes is None else min_bytes
    plain = [inp.size for inp, packed in zip(inputs, compressed) if inp.regular and not packed]
    target = max(min_bytes, -(-sum(plain) // max(threads, 1)))
    ranges = []
    for source, (inp, packed) in enumerate(zip(inputs, compressed)):
        if not inp.regular or packed or threads == 1 or inp.size < 2 * min_bytes:
            ranges.append(ByteRange(source, inp))
            continue
        pieces = max(1, round(inp.size / target))
        cuts = [0] + [_cut_after_space(inp.path, inp.size * k // pieces, inp.size) for k in range(1, pieces)]
        cuts = sorted(set(cuts)) + [inp.size]
        ranges.extend(ByteRange(source, inp, a, b) for a, b in zip(cuts[:-1], cuts[1:]) if b > a)
    return ranges


def _blocks(f, claim: Callable[[int], int] | None = None, stop: threading.Event | None = None):
    """Blocks of the reader's bytes as uint8 views, each ending at a
    separator (except the last): all of them, or as many as `claim` grants
    (claim(n): how many of the next n bytes may be read, 0 at the end).

    One buffer is reused (a view is valid until the next block is
    requested); the bytes after the last separator move to the front and
    begin the next block.
    """
    buf = np.empty(2 * BLOCK_BYTES, dtype=np.uint8)
    carry = 0
    while True:
        if stop is not None and stop.is_set():
            raise InterruptedError("scan stopped")
        if len(buf) - carry < BLOCK_BYTES:  # one word longer than a block: make room
            buf = np.concatenate([buf[:carry], np.empty(len(buf), dtype=np.uint8)])
        want = BLOCK_BYTES if claim is None else claim(BLOCK_BYTES)
        n = f.readinto(memoryview(buf)[carry:carry + want]) if want else 0
        if not n:
            break
        end = carry + n
        cut = last_separator_end(buf[:end])
        if cut == 0:
            carry = end
            continue
        yield buf[:cut]
        carry = end - cut
        buf[:carry] = buf[cut:end].copy()
    if carry:
        yield buf[:carry]


@dataclass
class RangeScan:
    """One range's table and id stream: its entry ids and LINE_END marks,
    packed by _pack_ids, in a spool file or in memory."""

    range: ByteRange
    table: Table
    ids: list = field(default_factory=list)   # packed blocks (uint16 arrays), when kept in memory
    spool: object = None                      # an unnamed temporary file of packed blocks, when spooled
    n_ids: int = 0
    counts: np.ndarray = None                 # tokens of each of its table's entries (once merged)
    nul_bytes: int = 0
    looks_binary: bool = False
    invalid_utf8: bool = False                # some counted word's bytes are not valid UTF-8

    def add_ids(self, ids: np.ndarray, n: int, packed: np.ndarray) -> None:
        """Append ids[:n] to the stream, packed in `packed` (uint16, at least
        2n long: the scanning thread's scratch buffer)."""
        units = _pack_ids(ids, n, packed)
        self.n_ids += n
        if self.spool is not None:
            self.spool.write(memoryview(packed[:units]).cast("B"))
        else:
            self.ids.append(packed[:units].copy())

    def id_blocks(self, block_items: int = 1 << 20):
        """The stream, read once, as int32 blocks of at most block_items
        (>= 2) ids, each valid until the next is asked for.  What has been
        read is released as it goes (dropped from memory, or punched out of
        the spool file), so that the pages the encoder then writes can be
        those just freed rather than fresh ones."""
        out = np.empty(block_items, dtype=np.int32)
        if self.spool is None:
            while self.ids:
                packed = self.ids.pop(0)  # whole values: a block of add_ids
                at = 0
                while at < len(packed):
                    used, n = _unpack_ids(packed[at:], min(block_items, len(packed) - at), out)
                    at += used
                    yield out[:n]
            return
        self.spool.seek(0)
        fd = self.spool.fileno()
        buf = np.empty(block_items, dtype=np.uint16)
        raw = memoryview(buf).cast("B")
        offset = released = have = 0  # have: bytes at the front of buf not decoded yet
        while True:
            got = self.spool.readinto(raw[have:])
            if not got:
                if have:
                    raise ValueError("the spooled id stream ends inside a value")
                return
            offset += got
            have += got
            used, n = _unpack_ids(buf, have // 2, out)
            left = have - 2 * used
            raw[:left] = bytes(raw[2 * used:have])
            have = left
            if offset - released >= SPOOL_RELEASE_BYTES:
                release_file_range(fd, released, offset - released)
                released = offset
            yield out[:n]

    def release_ids(self) -> None:
        """Drop the id stream once it is encoded.  Closing a spool file frees
        its pages (4 ms for each half of en-mix): the range's encoding thread
        does it, rather than the main thread after every range."""
        if self.spool is not None:
            self.spool.close()
        self.ids = []


_BINARY_MAGIC = (b"\x7fELF", b"MZ", b"\x89PNG", b"%PDF", b"PK\x03\x04", b"\xca\xfe\xba\xbe")


class _Reading:
    """A range being scanned: the bytes its reader has claimed so far and
    its end, which a thread with nothing left to do may move back to take
    over the rest (_Workshare.next)."""

    def __init__(self, rng: ByteRange, lock: threading.Lock):
        self.range, self.lock = rng, lock
        self.reached, self.end = rng.start, rng.end
        self.uncut = False  # no whitespace in the second half of its rest: not split

    def claim(self, n: int) -> int:
        with self.lock:
            if self.end is not None:
                n = min(n, self.end - self.reached)
            self.reached += n
            return n

    def rest(self) -> int:
        """Bytes not claimed yet that may be split off (0 for a range read
        to its input's end)."""
        return 0 if self.end is None or self.uncut else self.end - self.reached

    def scanned(self) -> ByteRange:
        """The range as it was read, once done."""
        return ByteRange(self.range.source, self.range.input, self.range.start, self.end)


class _Workshare:
    """The scan's ranges handed out to the worker threads: the planned ones
    in order, then, once none is left, the second half of the rest of the
    range being read that has most left, while that half holds at least
    SPLIT_MIN_BYTES (cut after a whitespace byte, as planned ranges are)."""

    def __init__(self, ranges: list[ByteRange]):
        self.lock = threading.Lock()
        self.todo = list(reversed(ranges))
        self.reading: list[_Reading] = []

    def next(self) -> _Reading | None:
        while True:
            with self.lock:
                if self.todo:
                    reading = _Reading(self.todo.pop(), self.lock)
                    self.reading.append(reading)
                    return reading
                victim = max(self.reading, key=_Reading.rest, default=None)
                if victim is None or victim.rest() < 2 * SPLIT_MIN_BYTES:
                    return None
                end = victim.end
                middle = victim.reached + victim.rest() // 2
            cut = _cut_after_space(victim.range.input.path, middle, end)  # reads the file: not under the lock
            with self.lock:
                if cut >= end:
                    victim.uncut = True
                if victim.end != end or victim.reached >= cut or cut >= end:
                    continue  # split, read past the cut meanwhile, or one word to its end: look again
                victim.end = cut
                rng = victim.range
                reading = _Reading(ByteRange(rng.source, rng.input, cut, end), self.lock)
                self.reading.append(reading)
                return reading


def _scan_range(reading: _Reading, spool_dir: str | None, spools: list, max_vocab_size,
                stop: threading.Event) -> RangeScan:
    rng = reading.range
    table = Table()
    result = RangeScan(rng, table)
    if spool_dir is not None:
        result.spool = tempfile.TemporaryFile(dir=spool_dir, prefix=".fastw2v-ids.")
        spools.append(result.spool)
    ids, packed = np.empty(0, dtype=np.int32), np.empty(0, dtype=np.uint16)  # this thread's scratch buffers
    min_reduce = 1
    try:
        with open_binary(rng.input) as f:
            if rng.start:
                f.seek(rng.start)
            else:
                result.looks_binary = f.head.startswith(_BINARY_MAGIC)
            for data in _blocks(f, reading.claim, stop):
                if len(ids) < len(data) + 2:
                    ids = np.empty(len(data) + 2, dtype=np.int32)
                    packed = np.empty(2 * len(ids), dtype=np.uint16)
                result.nul_bytes += len(data) - np.count_nonzero(data)
                result.add_ids(ids, table.scan(data, ids), packed)
                if max_vocab_size is not None and table.state[_N_LIVE] > max_vocab_size:
                    min_reduce = table.prune(max_vocab_size, min_reduce)
    except (OSError, EOFError, ValueError) as e:  # unreadable or corrupt compressed data
        if isinstance(e, (InputError, InterruptedError)):
            raise
        raise InputError(f"{rng.input.name}: {e}") from None
    result.range = reading.scanned()
    result.invalid_utf8 = table.any_invalid_utf8()  # here, on all threads, not on the merged table after
    return result


@dataclass
class Scan:
    """The merged table and each range's id stream with its map into the table."""

    table: Table
    ranges: list            # RangeScan, in input order
    maps: list              # per range: its entry id -> merged entry id
    inputs: list            # Input
    nul_bytes: list         # per input
    looks_binary: list      # per input
    spools: list = field(default_factory=list)  # open spool files

    @property
    def raw_word_count(self) -> int:
        return self.table.tokens

    @property
    def any_invalid_utf8(self) -> bool:
        """Whether the bytes of any counted word are not valid UTF-8."""
        return any(part.invalid_utf8 for part in self.ranges)

    def not_text(self) -> list[str]:
        """Inputs that look binary: a known binary header, or 1 NUL byte in 1000."""
        return [inp.name for inp, nul, binary in zip(self.inputs, self.nul_bytes, self.looks_binary)
                if binary or nul * 1000 >= max(inp.size, 1)]

    def close(self):
        """Release the spooled id streams (unnamed files: nothing is left on disk)."""
        while self.spools:
            self.spools.pop().close()


def share_of_ranges(ranges: list[ByteRange], compressed: list[bool], part: int, parts: int) -> list[ByteRange]:
    """The consecutive ranges that part `part` of `parts` scans, balanced by
    bytes (a compressed file counted as 8 times its size)."""
    sizes = np.array([(r.input.size if r.end is None else r.end - r.start) * (8 if compressed[r.source] else 1)
                      for r in ranges], dtype=np.float64)
    ends = np.cumsum(sizes)
    cut = np.searchsorted(ends, ends[-1] * np.arange(1, parts) / parts, side="left") + 1 if len(ranges) else []
    bounds = [0, *np.minimum(cut, len(ranges)).tolist(), len(ranges)]
    return ranges[bounds[part]:bounds[part + 1]]


def scan_inputs(inputs: list[Input], threads: int = 1, max_vocab_size=None, spool_dir=None,
                part: tuple[int, int] = (0, 1), meanwhile: Callable[[], None] | None = None) -> Scan:
    """Count the words of `inputs` and record each token's entry, on up to
    `threads` threads.  With `spool_dir`, the id streams of inputs larger
    than SPOOL_IN_MEMORY_BYTES in all (or of any stream) go to unnamed files
    there (released by Scan.close); else they stay in memory.  `part` (k, n)
    scans only the k-th of n byte-balanced shares of the ranges (a rank of
    a distributed run); the table then holds that share's words.
    `meanwhile` is called on this thread while the workers scan (loading
    the kernels that come next: the scan's end is otherwise serial)."""
    compressed = [inp.regular and is_compressed(inp) for inp in inputs]
    workers = 1 if max_vocab_size is not None else max(1, threads)
    # the ranks of a distributed run each need bytes: smaller pieces for them
    min_bytes = RANGE_MIN_BYTES if part[1] == 1 else RANGE_MIN_BYTES // 16
    ranges = share_of_ranges(plan_ranges(inputs, workers * part[1], compressed, min_bytes), compressed, *part)
    spool = spool_dir
    if spool is not None and all(inp.regular for inp in inputs) and \
            sum(inp.size * (8 if packed else 1) for inp, packed in zip(inputs, compressed)) < SPOOL_IN_MEMORY_BYTES:
        spool = None
    _load_kernels()
    result = Scan(None, [], [], inputs, [0] * len(inputs), [False] * len(inputs))
    stop = threading.Event()
    try:
        workers_done = _in_workers(_Workshare(ranges), workers, stop, _scan_range, spool, result.spools,
                                   max_vocab_size, stop)
        _load_later_kernels()
        if meanwhile is not None:
            meanwhile()
        release_compiler_pages()  # again: what those loads touched, while the scan's buffers are small
        for part in workers_done():
            result.ranges.append(part)
            if result.table is None:  # the first range's table is the merged one: its entries map to themselves
                result.table = part.table
                result.maps.append(np.arange(part.table.n_entries, dtype=np.int32))
            else:
                result.maps.append(result.table.merge(part.table, result.table.tokens, workers))
                result.table.state[_TOKENS] += part.table.tokens
            result.nul_bytes[part.range.source] += part.nul_bytes
            result.looks_binary[part.range.source] |= part.looks_binary
            part.counts = part.table.counts[:part.table.n_entries].copy()
            part.table = None  # its entries live on in the merged table
    except BaseException:
        stop.set()
        result.close()
        raise
    if result.table is None:  # no range: nothing to read
        result.table = Table()
    return result


def _load_kernels() -> None:
    """Load the scanner's kernels (numba's first load starts its code
    generator too) on a tiny text, then hand back the compiler's pages
    before the scan's buffers grow (pages.py)."""
    text = np.frombuffer(b"a b\n", np.uint8).copy()
    last_separator_end(text)
    first_separator_end(text)
    table, other = Table(), Table()
    table.scan(text, np.empty(len(text) + 2, np.int32))
    other.scan(text, np.empty(len(text) + 2, np.int32))
    table.merge(other, table.tokens)
    ids = np.array([0, LINE_END], np.int32)
    packed = np.empty(4, np.uint16)
    _unpack_ids(packed, _pack_ids(ids, 2, packed), ids)
    _rehash(table.hashes, table.n_entries, len(table.buckets))  # what growing the table calls
    release_compiler_pages()


def _load_later_kernels() -> None:
    """Load the kernels called once a range is scanned (its words checked
    for invalid UTF-8) and after the scan (its words decoded), on a tiny
    table, while the workers scan."""
    table = Table()
    table.scan(np.frombuffer(b"a\n", np.uint8).copy(), np.empty(4, np.int32))
    table.any_invalid_utf8()
    table.words_of(np.zeros(1, np.int64))


def _in_workers(share: _Workshare, workers: int, stop: threading.Event, fn, *args) -> Callable[[], list]:
    """fn(reading, *args) for each range `share` hands out, on `workers`
    daemon threads.  Returns a function that waits for them all and returns
    the results in input order, or raises the first error a worker met as
    soon as it meets it.  Daemon threads, unlike a ThreadPoolExecutor's,
    cannot hold the process up: one blocked reading a pipe is simply left
    behind when an interrupted run exits.  Once `stop` is set no new range
    starts, and an error stops the others."""
    results, errors = [], []
    ended = threading.Semaphore(0)  # released by each worker as it ends

    def work():
        try:
            while not stop.is_set():
                reading = share.next()
                if reading is None:
                    return
                results.append(fn(reading, *args))
        except BaseException as e:  # handed to the waiting thread
            errors.append(e)
            stop.set()
        finally:
            ended.release()

    for k in range(workers):
        threading.Thread(target=work, name=f"fastw2v-scan-{k}", daemon=True).start()

    def wait() -> list:
        for _ in range(workers):
            ended.acquire()
            if errors:
                raise next((e for e in errors if not isinstance(e, InterruptedError)), errors[0])
        return sorted(results, key=lambda part: (part.range.source, part.range.start))

    return wait
