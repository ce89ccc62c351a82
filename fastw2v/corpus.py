"""Corpus encoding: one streaming pass that counts words and records token ids,
then the int32 id array and int64 sentence offsets that the kernels train on.

Tokens are runs of bytes between whitespace, as Python's ``str.split()``
defines it (ASCII whitespace, the 0x1c-0x1f separators and the Unicode space
characters, decoded from UTF-8), so the same text gives the same words as
gensim's ``LineSentence``.  ``\\n`` and ``\\r`` end a sentence (so CRLF files
work); a line longer than ``max_sentence_length`` kept words is cut into
consecutive pieces, never truncated.  The counting is a byte-level hash table
compiled with numba: no Python object is created per token.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .files import InputError, expand_inputs, is_compressed, open_binary
from .vocab import Vocabulary, VocabularyError, WordCounts, choose_vocabulary, no_vocabulary_message

BLOCK_BYTES = 1 << 22  # bytes read and scanned per call

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


@njit(cache=True)
def last_separator_end(data):
    """Index just past the last ASCII whitespace byte in data (0 if none): a
    safe place to cut a block, since ASCII bytes never occur inside a
    multi-byte UTF-8 character."""
    i = len(data)
    while i > 0:
        b = data[i - 1]
        if b == 0x20 or b == 0x0A or b == 0x0D or b == 0x09 or b == 0x0B or b == 0x0C or (0x1C <= b <= 0x1F):
            return i
        i -= 1
    return 0


# scan state slots (int64 array shared between calls)
_N_ENTRIES, _POOL_USED, _N_LIVE, _TOKENS, _LAST_LINE_TOKEN = 0, 1, 2, 3, 4
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


@njit(cache=True)
def _scan(data, start, classes, buckets, hashes, starts, lengths, counts, first_seen, pool,
          state, ids_out, n_ids, line_ends, n_lines):
    """Tokenise data[start:], counting words and writing their entry ids.

    Stops early, before a token it cannot store, when the entry table, the
    byte pool or the bucket load needs to grow; returns (position reached,
    ids written, line ends written).  The caller grows and calls again.
    """
    n = len(data)
    i = start
    mask = np.uint64(len(buckets) - 1)
    capacity = len(hashes)
    while i < n:
        c = classes[data[i]]
        if c != _WORD:
            if c == _NEWLINE:
                if state[_TOKENS] > state[_LAST_LINE_TOKEN]:
                    line_ends[n_lines] = state[_TOKENS]
                    n_lines += 1
                    state[_LAST_LINE_TOKEN] = state[_TOKENS]
                i += 1
                continue
            if c == _SPACE:
                i += 1
                continue
            k = _unicode_space_len(data, i, n)  # a lead byte: a Unicode space or a word
            if k:
                i += k
                continue
        # a word starts at i; word bytes take the single-lookup fast path
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
        slot = (h ^ (h >> np.uint64(29))) & mask
        entry = -1
        while True:
            e = buckets[slot]
            if e < 0:
                break
            if hashes[e] == h and lengths[e] == length:
                s = starts[e]
                same = True
                for k in range(length):
                    if pool[s + k] != data[i + k]:
                        same = False
                        break
                if same:
                    entry = e
                    break
            slot = (slot + np.uint64(1)) & mask
        if entry < 0:
            ne = state[_N_ENTRIES]
            if ne >= capacity or state[_POOL_USED] + length > len(pool) or 2 * (ne + 1) > len(buckets):
                return i, n_ids, n_lines
            entry = ne
            buckets[slot] = entry
            hashes[entry] = h
            starts[entry] = state[_POOL_USED]
            lengths[entry] = length
            pool[state[_POOL_USED]:state[_POOL_USED] + length] = data[i:j]
            state[_POOL_USED] += length
            counts[entry] = 0
            first_seen[entry] = state[_TOKENS]
            state[_N_ENTRIES] = ne + 1
        if counts[entry] == 0:
            state[_N_LIVE] += 1
        counts[entry] += 1
        ids_out[n_ids] = entry
        n_ids += 1
        state[_TOKENS] += 1
        i = j
    return i, n_ids, n_lines


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
def _encode_in_place(ids, id_map, line_ends, max_len, sentence_ends):
    """Map raw entry ids to word ids, dropping unknown ones, compacting into
    the front of `ids` itself, and cut sentences at line ends and every
    max_len kept words.  Returns (kept tokens, sentences)."""
    kept = 0
    n_sent = 0
    cur = 0
    li = 0
    n_line_ends = len(line_ends)
    for k in range(len(ids)):
        w = id_map[ids[k]]
        if w >= 0:
            ids[kept] = w
            kept += 1
            cur += 1
            if cur == max_len:
                sentence_ends[n_sent] = kept
                n_sent += 1
                cur = 0
        while li < n_line_ends and line_ends[li] <= k + 1:
            if cur > 0:
                sentence_ends[n_sent] = kept
                n_sent += 1
                cur = 0
            li += 1
    if cur > 0:  # a last sentence not closed by a line end
        sentence_ends[n_sent] = kept
        n_sent += 1
    return kept, n_sent


@dataclass
class EncodedCorpus:
    """Word ids of the kept tokens and where each sentence starts and ends.

    ``offsets`` has one more entry than there are sentences: sentence s is
    ``tokens[offsets[s]:offsets[s + 1]]``.  ``raw_word_count`` counts every
    token read, unknown words included (the words/second denominator).
    """

    tokens: np.ndarray
    offsets: np.ndarray
    raw_word_count: int

    @property
    def n_sentences(self) -> int:
        return len(self.offsets) - 1

    def __post_init__(self):
        self.tokens = np.ascontiguousarray(self.tokens, dtype=np.int32)
        self.offsets = np.ascontiguousarray(self.offsets, dtype=np.int64)


@dataclass
class ScanResult:
    """Everything the single pass over the files produced."""

    counts: np.ndarray        # per entry (0 = pruned)
    first_seen: np.ndarray    # per entry, index of its first token
    pool: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    raw_ids: np.ndarray       # int32 entry id of every token
    line_ends: np.ndarray     # token counts at which a line ended
    raw_word_count: int

    def entry_bytes(self, e: int) -> bytes:
        return self.pool[self.starts[e]:self.starts[e] + self.lengths[e]].tobytes()


class _Table:
    """Growable arrays of the hash table; grown by doubling between scan calls."""

    def __init__(self, capacity=1 << 16, pool_bytes=1 << 20):
        self.hashes = np.zeros(capacity, dtype=np.uint64)
        self.starts = np.zeros(capacity, dtype=np.int64)
        self.lengths = np.zeros(capacity, dtype=np.int32)
        self.counts = np.zeros(capacity, dtype=np.int64)
        self.first_seen = np.zeros(capacity, dtype=np.int64)
        self.pool = np.zeros(pool_bytes, dtype=np.uint8)
        self.buckets = np.full(4 * capacity, -1, dtype=np.int32)
        self.state = np.zeros(5, dtype=np.int64)

    def grow(self, data, position):
        n_entries = int(self.state[_N_ENTRIES])
        if n_entries >= len(self.hashes):
            for name in ("hashes", "starts", "lengths", "counts", "first_seen"):
                old = getattr(self, name)
                new = np.zeros(2 * len(old), dtype=old.dtype)
                new[:len(old)] = old
                setattr(self, name, new)
        if 2 * (n_entries + 1) > len(self.buckets):
            self.buckets = _rehash(self.hashes, n_entries, 2 * len(self.buckets))
        # the pending word is at most the rest of the block
        need = int(self.state[_POOL_USED]) + (len(data) - position)
        if need > len(self.pool):
            new = np.zeros(max(need, 2 * len(self.pool)), dtype=np.uint8)
            new[:len(self.pool)] = self.pool
            self.pool = new

    def prune(self, max_vocab_size, min_reduce):
        """The C tool's ReduceVocab: forget counts <= min_reduce while too many
        words are live; a forgotten word that reappears counts from zero."""
        counts = self.counts[:int(self.state[_N_ENTRIES])]
        while self.state[_N_LIVE] > max_vocab_size:
            drop = (counts > 0) & (counts <= min_reduce)
            counts[drop] = 0
            self.state[_N_LIVE] -= int(drop.sum())
            min_reduce += 1
        return min_reduce


def _blocks(path):
    """Blocks of a file's bytes as uint8 views, each ending at a separator
    (except the last).

    One buffer is reused for the whole file (a view is valid until the next
    block is requested), so reading allocates nothing per block; the bytes
    after the last separator move to the front and begin the next block.
    """
    buf = np.empty(2 * BLOCK_BYTES, dtype=np.uint8)
    carry = 0
    with open_binary(path) as f:
        while True:
            if len(buf) - carry < BLOCK_BYTES:  # one word longer than a block: make room
                buf = np.concatenate([buf[:carry], np.empty(len(buf), dtype=np.uint8)])
            n = f.readinto(memoryview(buf)[carry:carry + BLOCK_BYTES])
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


def scan_files(paths, max_vocab_size=None) -> ScanResult:
    """One streaming pass over the files: word counts and per-token entry ids."""
    table = _Table()
    files = expand_inputs(paths)
    # every token's entry id goes into one array, later encoded in place; its
    # pages are only touched as tokens arrive, so a generous first size costs
    # nothing (about 1 token per 4 bytes of plain text, per byte compressed)
    estimate = sum(f.stat().st_size // (1 if is_compressed(f) else 4) for f in files)
    raw = np.empty(max(estimate, 1 << 16), dtype=np.int32)
    used = 0
    line_ends = []
    ends = np.empty(0, dtype=np.int64)  # per-block scratch, reused
    min_reduce = 1
    for path in files:
        try:
            for data in _blocks(path):
                if len(raw) - used < len(data) // 2 + 2:
                    grown = np.empty(max(len(raw) * 3 // 2, used + len(data) // 2 + 2), dtype=np.int32)
                    grown[:used] = raw[:used]
                    raw = grown
                if len(ends) < len(data) // 2 + 2:
                    ends = np.empty(len(data) // 2 + 2, dtype=np.int64)
                ids = raw[used:]
                position, n_ids, n_lines = 0, 0, 0
                while True:
                    position, n_ids, n_lines = _scan(
                        data, position, BYTE_CLASSES, table.buckets, table.hashes, table.starts,
                        table.lengths, table.counts, table.first_seen, table.pool, table.state,
                        ids, n_ids, ends, n_lines)
                    if position >= len(data):
                        break
                    table.grow(data, position)
                used += n_ids
                line_ends.append(ends[:n_lines].copy())
                if max_vocab_size is not None and table.state[_N_LIVE] > max_vocab_size:
                    min_reduce = table.prune(max_vocab_size, min_reduce)
        except (OSError, EOFError, ValueError) as e:  # unreadable or corrupt compressed file
            raise InputError(f"{path}: {e}") from None
        # the end of a file ends a sentence
        line_ends.append(np.array([table.state[_TOKENS]], dtype=np.int64))
    n = int(table.state[_N_ENTRIES])
    return ScanResult(counts=table.counts[:n], first_seen=table.first_seen[:n], pool=table.pool,
                      starts=table.starts[:n], lengths=table.lengths[:n], raw_ids=raw[:used],
                      line_ends=np.concatenate(line_ends), raw_word_count=int(table.state[_TOKENS]))


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


def distinct_words(scan: ScanResult, min_count: int = 1):
    """The scan's distinct words as str, invalid UTF-8 replaced by U+FFFD.

    Replacement can turn several byte strings into one word; their counts are
    merged.  Words rarer than `min_count` are left out (not decoded) unless a
    merge could lift them: those with invalid bytes or a literal U+FFFD.
    Returns (WordCounts, word index per entry or -1, number of tokens whose
    bytes were not valid UTF-8).
    """
    live = np.flatnonzero(scan.counts > 0)
    invalid = _invalid_utf8(scan.pool, scan.starts, scan.lengths, live)
    invalid_tokens = int(scan.counts[live[invalid]].sum())
    if min_count > 1:
        keep = invalid | (scan.counts[live] >= min_count)
        if invalid.any():
            keep |= _has_replacement_char(scan.pool, scan.starts, scan.lengths, live)
        live, invalid = live[keep], invalid[keep]
    bad = invalid
    words = [scan.entry_bytes(e).decode("utf-8", "replace") for e in live.tolist()]
    entry_word = np.full(len(scan.counts), -1, dtype=np.int64)
    if not bad.any():
        entry_word[live] = np.arange(len(live))
        return WordCounts(words, scan.counts[live], scan.first_seen[live]), entry_word, 0
    index: dict = {}
    for e, w in zip(live.tolist(), words):
        entry_word[e] = index.setdefault(w, len(index))
    counts = np.zeros(len(index), dtype=np.int64)
    first = np.full(len(index), np.iinfo(np.int64).max, dtype=np.int64)
    np.add.at(counts, entry_word[live], scan.counts[live])
    np.minimum.at(first, entry_word[live], scan.first_seen[live])
    return WordCounts(list(index), counts, first), entry_word, invalid_tokens


def build_vocabulary(scan: ScanResult, min_count: int, max_final_vocab=None,
                     base: Vocabulary | None = None, fixed: bool = False):
    """Choose and order the vocabulary (or extend `base`); returns (Vocabulary,
    entry -> word id map, number of tokens whose bytes were not valid UTF-8)."""
    # rare words can only matter when they may belong to `base`
    counted, entry_word, invalid = distinct_words(scan, min_count if base is None else 1)
    try:
        vocab, word_ids = choose_vocabulary(counted, min_count, max_final_vocab, base, fixed)
    except VocabularyError:  # name all words in the message, not only the decoded ones
        raise VocabularyError(no_vocabulary_message(int(np.count_nonzero(scan.counts)),
                                                    int(scan.counts.max(initial=0)), min_count)) from None
    id_map = np.where(entry_word >= 0, word_ids[np.maximum(entry_word, 0)], -1).astype(np.int32)
    return vocab, id_map, invalid


def encode(scan: ScanResult, id_map: np.ndarray, max_sentence_length: int) -> EncodedCorpus:
    """The kept tokens as one int32 array with sentence offsets.

    Encodes the scan's raw ids in place (the scan cannot be encoded twice),
    so the corpus never needs two token arrays at once.
    """
    max_sentences = len(scan.line_ends) + len(scan.raw_ids) // max_sentence_length + 1
    sentence_ends = np.empty(max_sentences, dtype=np.int64)
    kept, n_sent = _encode_in_place(scan.raw_ids, id_map, scan.line_ends, max_sentence_length, sentence_ends)
    tokens = scan.raw_ids[:kept]
    scan.raw_ids = None
    offsets = np.zeros(n_sent + 1, dtype=np.int64)
    offsets[1:] = sentence_ends[:n_sent]
    return EncodedCorpus(tokens, offsets, scan.raw_word_count)


def load_corpus(paths, min_count=5, max_vocab_size=None, max_final_vocab=None,
                max_sentence_length=10000, base: Vocabulary | None = None, fixed: bool = False):
    """Count, choose the vocabulary and encode files in one pass.

    With `base`, its words keep their ids (their counts grow) and new words
    reaching min_count are appended; with `fixed` too, `base` is used as it
    is.  Returns (Vocabulary, EncodedCorpus, number of tokens with invalid UTF-8).
    """
    scan = scan_files(paths, max_vocab_size)
    vocab, id_map, invalid = build_vocabulary(scan, min_count, max_final_vocab, base, fixed)
    return vocab, encode(scan, id_map, max_sentence_length), invalid


def encode_sentences(sentences, min_count=5, max_vocab_size=None, max_final_vocab=None,
                     max_sentence_length=10000, base: Vocabulary | None = None, fixed: bool = False):
    """The same as load_corpus for an in-memory iterable of token lists (gensim style).

    Tokens are taken as given (no splitting).  Returns (Vocabulary, EncodedCorpus).
    """
    if isinstance(sentences, (str, bytes)):
        raise InputError("sentences must be an iterable of token lists, not a string")
    sentences = list(sentences)
    counts, first = {}, {}
    position = 0
    for sentence in sentences:
        if isinstance(sentence, (str, bytes)):
            raise InputError("each sentence must be a list of tokens, not a string")
        for token in sentence:
            if token in counts:
                counts[token] += 1
            else:
                counts[token] = 1
                first[token] = position
            position += 1
        if max_vocab_size is not None and len(counts) > max_vocab_size:
            raise InputError("max_vocab_size applies to files; pass fewer distinct tokens")
    words = list(counts)
    counted = WordCounts(words, np.fromiter(counts.values(), dtype=np.int64, count=len(words)),
                         np.fromiter((first[w] for w in words), dtype=np.int64, count=len(words)))
    vocab, _ = choose_vocabulary(counted, min_count, max_final_vocab, base, fixed)
    index = vocab.key_to_index
    pieces, lengths, raw = [], [], 0
    for sentence in sentences:
        raw += len(sentence)
        ids = [index[t] for t in sentence if t in index]
        for s in range(0, len(ids), max_sentence_length):
            piece = ids[s:s + max_sentence_length]
            pieces.extend(piece)
            lengths.append(len(piece))
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return vocab, EncodedCorpus(np.array(pieces, dtype=np.int32), offsets, raw)
