"""The encoded corpus: word ids and sentence offsets, encoded once and then
read a slice at a time, so memory does not grow with the corpus.

Encoding (``load_corpus``): the inputs are scanned (scan.py), the vocabulary
is chosen from the counts (vocab.py), and each range's id stream is mapped to
word ids: words outside the vocabulary are dropped, a sentence ends at a line
end, at the end of each file and after every ``max_sentence_length`` kept
words (long lines are cut into pieces, never truncated).  The result goes to
a corpus file: the one ``fastw2v encode`` writes, or for text input an
unnamed temporary file in the work directory that disappears with the process
(``--keep-encoded PATH`` names and keeps it).

The ranges are encoded on all threads, each from the start its word counts
give it (the kept tokens of the ranges before it), its ids written in place
with pwrite and its token blocks checksummed as it fills them (a block two
ranges share is read back once both are written).  Each range splits its
own sentences as if one began at its start; where a line runs on from the
range before, the sentence ends of that first line are recomputed from the
words already open (``_stitched_ends``), so the file equals a serial pass's
byte for byte (tested with sentences of 2 and 7 words).  The vocabulary's
ids come from the counts alone (plan_vocabulary); its words are decoded
while the ranges encode, not between the scan and the encoding: en-mix on
two threads, 0.443 -> 0.428 s once numba has started (14 alternating runs
in one process).  The encoder's kernel is loaded while the workers scan
(scan_inputs' `meanwhile`), not by the first encoding thread.

The ids go in with pwrite, which fills the page cache under ext4's inode
lock, so two threads writing one file take turns; on the AMD virtual
machine, where a page never used before costs about ten times a reused
one, that is why encoding scales least (en-mix: 0.21 s on one thread, 0.16
s on two).  Mapping the file and writing through the mapping took 0.207 s
against pwrite's 0.125 s (8 alternating runs), and faulting each range's
pages in first outside the lock (MAP_POPULATE, 0.03-0.1 s a thread) left
pwrite 0.02 s but the encoding no faster (6 alternating runs).  New
pages set the pace and the lock matters only while they are slow: a range
of en-mix (10.2M ids, two threads) encodes in 0.05-0.08 s with its pwrites
dropped, 0.07-0.14 s writing to a file of its own and 0.07-0.22 s writing
to the shared file (11 alternating runs of each; the last two equal in this
machine's fast phases), and a corpus file is one file.

Corpus file (``.fw2v``, version 1), all integers little-endian:

* bytes 0-63, the preamble: magic ``FW2VCORP``, uint32 version, uint32 0,
  uint64 offset and uint64 length of the trailer, uint32 CRC-32 of the
  trailer, uint32 CRC-32 of the preamble's first 36 bytes;
* the token ids, uint16 when the vocabulary has at most 65,536 words, else
  int32 (which the kernels read in place, no conversion);
* the sentence offsets, int64, one more than there are sentences;
* the vocabulary: the UTF-8 words back to back, their int64 end offsets and
  int64 counts;
* CRC-32s of every block of TOKEN_BLOCK ids and of OFFSET_BLOCK offsets;
* the trailer, JSON: sizes, section positions, the vocabulary settings, the
  source files (name, size, modification time) and a fingerprint of the content.

Each section starts at a multiple of 64 bytes.  On disk a token costs 2 or 4
bytes and a sentence 8 (en-mix: 20.5M kept tokens and 0.68M sentences in 46
MB).  A truncated, foreign or damaged file is refused naming the file:
the preamble, trailer and vocabulary are checked when the file is opened, and
every block of ids or offsets when training first reads it.

Reading: ``tokens(a, b)`` and ``offsets(a, b)`` read whole blocks with
``pread`` into a window that slides forward with training (the resident set
stays at the window, not the file: the page cache holds the rest, and the
kernel drops it under pressure).
"""
from __future__ import annotations

import json
import os
import struct
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

from .files import STDIN, Input, InputError, OutputSet, expand_inputs, start_writeback
from .pages import fix_mmap_threshold, release_compiler_pages
from .scan import _TOKENS, LINE_END, Scan, Table, scan_inputs
from .vocab import (Vocabulary, VocabularyError, WordCounts, choose_vocabulary, no_vocabulary_message,
                    select_and_order)

MAGIC = b"FW2VCORP"
SUFFIX = ".fw2v"
VERSION = 1
PREAMBLE = struct.Struct("<8sIIQQII")  # magic, version, 0, trailer offset, trailer length, trailer CRC, own CRC
PREAMBLE_BYTES = 64
ALIGN = 64
TOKEN_BLOCK = 1 << 20      # token ids per checksum (and read) block
OFFSET_BLOCK = 1 << 17     # sentence offsets per checksum block
ENCODE_BLOCK = 1 << 18     # id-stream items mapped per call (buffers of 1 + 1 + 2 MB a thread)
VOCAB_SETTINGS = ("min_count", "max_vocab_size", "max_final_vocab", "max_sentence_length")


class CorpusFileError(ValueError):
    """A file that is not a readable fastw2v corpus file (a data error)."""


# --------------------------------------------------------------------------
# the encoded corpus, in memory or in a file


class EncodedCorpus:
    """Word ids of the kept tokens and where each sentence starts, read by
    slice: ``offsets(a, b)`` is offsets[a:b] (offsets has n_sentences + 1
    items, sentence s is tokens[offsets[s]:offsets[s + 1]]), ``tokens(a, b)``
    the ids from a to b as int32.  ``raw_word_count`` counts every token read,
    unknown words included (the words/second numerator)."""

    vocab: Vocabulary | None = None
    n_tokens: int
    n_sentences: int
    raw_word_count: int
    max_sentence: int          # the longest sentence, in words
    invalid_utf8_tokens: int = 0
    settings: dict | None = None
    local_part: bool = False   # this rank's own part of a distributed scan: a rank trains all of it

    def offsets(self, a: int, b: int) -> np.ndarray:
        raise NotImplementedError

    def tokens(self, a: int, b: int) -> np.ndarray:
        raise NotImplementedError

    @property
    def fingerprint(self) -> str:
        raise NotImplementedError

    def close(self) -> None:
        """Release the file (a no-op in memory)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def offset(self, sentence: int) -> int:
        """The token at which `sentence` starts (n_tokens for n_sentences)."""
        return int(self.offsets(sentence, sentence + 1)[0])

    def first_sentence_at(self, token: int, lo: int, hi: int) -> int:
        """The first sentence s in [lo, hi] starting at or after `token` (hi
        if none does): slices end there."""
        a = lo
        step = 1 << 12
        while a <= hi:
            b = min(a + step, hi + 1)
            chunk = self.offsets(a, b)
            k = int(np.searchsorted(chunk, token, side="left"))
            if k < len(chunk):
                return a + k
            a = b
            step *= 2
        return hi


class InMemoryCorpus(EncodedCorpus):
    """An encoded corpus held in two arrays (small corpora, token lists)."""

    def __init__(self, tokens: np.ndarray, offsets: np.ndarray, raw_word_count: int, vocab=None):
        self._tokens = np.ascontiguousarray(tokens, dtype=np.int32)
        self._offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        self.n_tokens = len(self._tokens)
        self.n_sentences = len(self._offsets) - 1
        self.raw_word_count = int(raw_word_count)
        self.max_sentence = int(np.diff(self._offsets).max(initial=0))
        self.vocab = vocab

    def offsets(self, a, b):
        return self._offsets[a:b]

    def tokens(self, a, b):
        return self._tokens[a:b]

    @property
    def fingerprint(self) -> str:
        return (f"{self.raw_word_count}:{self.n_tokens}:{self.n_sentences}:"
                f"{zlib.crc32(self._tokens.data):08x}:{zlib.crc32(self._offsets.data):08x}")


class _BlockWindow:
    """Items [lo, hi) of one section of a file, whole checksum blocks read
    with pread; moving forward keeps the blocks still needed."""

    def __init__(self, corpus: "CorpusFile", section: str, dtype, count: int, block: int, crcs: np.ndarray):
        self.corpus, self.section = corpus, section
        self.start = corpus.section_offset(section)
        self.dtype, self.count, self.block, self.crcs = np.dtype(dtype), count, block, crcs
        self.buffer = self.data = np.empty(0, self.dtype)
        self.lo = self.hi = 0

    def get(self, a: int, b: int) -> np.ndarray:
        if a < 0 or b > self.count or a > b:
            raise IndexError(f"{self.section}[{a}:{b}] outside 0..{self.count}")
        if not (self.lo <= a and b <= self.hi):
            self._load(a, b)
        return self.data[a - self.lo:b - self.lo]

    def _load(self, a: int, b: int) -> None:
        """Make the window cover blocks a // block .. (b - 1) // block: the
        blocks it holds already move to the front of its one buffer, the
        others are read and checked."""
        k0, k1 = a // self.block, max(-(-b // self.block), a // self.block + 1)
        lo, hi = k0 * self.block, min(k1 * self.block, self.count)
        keep_lo, keep_hi = max(lo, self.lo), min(hi, self.hi)
        if len(self.buffer) < hi - lo:
            grown = np.empty(hi - lo, self.dtype)
            if keep_lo < keep_hi:
                grown[keep_lo - lo:keep_hi - lo] = self.buffer[keep_lo - self.lo:keep_hi - self.lo]
            self.buffer = grown
        elif keep_lo < keep_hi:  # numpy copies overlapping ranges as if through a temporary
            self.buffer[keep_lo - lo:keep_hi - lo] = self.buffer[keep_lo - self.lo:keep_hi - self.lo]
        for k in range(k0, k1):
            first, last = k * self.block, min((k + 1) * self.block, self.count)
            if keep_lo <= first and last <= keep_hi:
                continue
            part = self.buffer[first - lo:last - lo]
            got = os.preadv(self.corpus.fd, [part], self.start + first * self.dtype.itemsize)
            if got != part.nbytes or zlib.crc32(part) != int(self.crcs[k]):
                raise CorpusFileError(f"{self.corpus.name}: {self.section} block {k} "
                                      f"(bytes {self.start + first * self.dtype.itemsize}..) is damaged: "
                                      f"its checksum does not match")
        self.data, self.lo, self.hi = self.buffer[:hi - lo], lo, hi


def _json_bytes(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False).encode("utf-8")


class CorpusFile(EncodedCorpus):
    """An encoded corpus file (see the module docstring), read by slices."""

    def __init__(self, f, name: str, vocab: Vocabulary | None = None):
        """`f`: a binary file open for reading (kept open until close());
        `vocab`: the vocabulary it was just written from, taken instead of a
        second copy decoded from the file once its size and counts agree."""
        self._f, self.name = f, name
        self.fd = f.fileno()
        size = os.fstat(self.fd).st_size
        head = self.read_at(0, PREAMBLE.size)
        if len(head) < len(MAGIC) or not head.startswith(MAGIC):
            raise CorpusFileError(f"{name}: not a fastw2v corpus file")
        if len(head) < PREAMBLE.size:
            raise CorpusFileError(f"{name}: truncated corpus file ({size} bytes)")
        _, version, _, trailer_at, trailer_len, trailer_crc, own_crc = PREAMBLE.unpack(head)
        if zlib.crc32(head[:PREAMBLE.size - 4]) != own_crc:
            raise CorpusFileError(f"{name}: damaged corpus file (its header checksum does not match)")
        if version > VERSION:
            raise CorpusFileError(f"{name}: corpus format version {version} is newer than this fastw2v reads "
                                  f"({VERSION}); upgrade fastw2v")
        if trailer_at + trailer_len != size:
            raise CorpusFileError(f"{name}: truncated or extended corpus file ({size} bytes, "
                                  f"{trailer_at + trailer_len} expected)")
        trailer = self.read_at(trailer_at, trailer_len)
        if zlib.crc32(trailer) != trailer_crc:
            raise CorpusFileError(f"{name}: damaged corpus file (its trailer checksum does not match)")
        try:
            meta = json.loads(trailer.decode("utf-8"))
            self._sections = {k: (int(a), int(n)) for k, (a, n) in meta["sections"].items()}
            self.n_tokens, self.n_sentences = int(meta["n_tokens"]), int(meta["n_sentences"])
            self.raw_word_count, self.max_sentence = int(meta["raw_word_count"]), int(meta["max_sentence"])
            self.invalid_utf8_tokens = int(meta.get("invalid_utf8_tokens", 0))
            self.settings, self.sources = dict(meta["settings"]), list(meta["sources"])
            token_dtype, vocab_size = np.dtype(meta["token_dtype"]), int(meta["vocab_size"])
            token_block, offset_block = int(meta["token_block"]), int(meta["offset_block"])
            self._fingerprint = str(meta["fingerprint"])
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise CorpusFileError(f"{name}: damaged corpus file (bad trailer: {e})") from None
        expected = {"tokens": self.n_tokens * token_dtype.itemsize, "offsets": 8 * (self.n_sentences + 1),
                    "word_ends": 8 * vocab_size, "counts": 8 * vocab_size,
                    "token_crcs": 4 * -(-self.n_tokens // token_block),
                    "offset_crcs": 4 * -(-(self.n_sentences + 1) // offset_block)}
        for section, (at, nbytes) in self._sections.items():
            if at < PREAMBLE_BYTES or at + nbytes > trailer_at or expected.get(section, nbytes) != nbytes:
                raise CorpusFileError(f"{name}: damaged corpus file (section {section} out of place)")
        if token_dtype not in (np.uint16, np.int32) or set(expected) - set(self._sections) or "words" not in \
                self._sections:
            raise CorpusFileError(f"{name}: damaged corpus file (sections missing)")
        vocab_bytes = b"".join(self._section_bytes(s) for s in ("words", "word_ends", "counts"))
        if zlib.crc32(vocab_bytes) != int(meta.get("vocab_crc", -1)):
            raise CorpusFileError(f"{name}: damaged corpus file (its vocabulary checksum does not match)")
        ends = np.frombuffer(self._section_bytes("word_ends"), np.int64)
        counts = np.frombuffer(self._section_bytes("counts"), np.int64).copy()
        if vocab is not None and not (len(vocab) == vocab_size and np.array_equal(vocab.counts, counts)):
            raise CorpusFileError(f"{name}: its vocabulary is not the one it was written from")
        self.vocab = vocab if vocab is not None else self._decode_vocabulary(ends, counts)
        crcs = np.frombuffer(self._section_bytes("token_crcs"), np.uint32)
        self._tokens = _BlockWindow(self, "tokens", token_dtype, self.n_tokens, token_block, crcs)
        crcs = np.frombuffer(self._section_bytes("offset_crcs"), np.uint32)
        self._offsets = _BlockWindow(self, "offsets", np.int64, self.n_sentences + 1, offset_block, crcs)
        self.id_map = None

    def _decode_vocabulary(self, ends: np.ndarray, counts: np.ndarray) -> Vocabulary:
        blob = self._section_bytes("words")
        starts = np.concatenate([[0], ends[:-1]]).tolist()
        try:
            words = [blob[a:b].decode("utf-8") for a, b in zip(starts, ends.tolist())]
            return Vocabulary(words, counts)
        except (UnicodeDecodeError, ValueError) as e:
            raise CorpusFileError(f"{self.name}: damaged corpus file (vocabulary: {e})") from None

    def read_at(self, offset: int, nbytes: int) -> bytes:
        chunks = []
        while nbytes > 0:
            chunk = os.pread(self.fd, min(nbytes, 1 << 30), offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
            nbytes -= len(chunk)
        return b"".join(chunks)

    def section_offset(self, section: str) -> int:
        return self._sections[section][0]

    def _section_bytes(self, section: str) -> bytes:
        at, nbytes = self._sections[section]
        return self.read_at(at, nbytes)

    def offsets(self, a, b):
        out = self._offsets.get(a, b)
        if len(out) and (out[0] < 0 or out[-1] > self.n_tokens or (len(out) > 1 and (np.diff(out) < 0).any())):
            raise CorpusFileError(f"{self.name}: damaged corpus file (sentence offsets {a}..{b} out of order)")
        return out

    def tokens(self, a, b):
        raw = self._tokens.get(a, b)
        if len(raw) and (int(raw.max()) >= len(self.vocab) or int(raw.min()) < 0):
            raise CorpusFileError(f"{self.name}: damaged corpus file (a word id outside the vocabulary "
                                  f"among tokens {a}..{b})")
        if self.id_map is not None:
            return self.id_map[raw]
        return raw if raw.dtype == np.int32 else raw.astype(np.int32)

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def close(self) -> None:
        self._f.close()


@dataclass
class Slice:
    """Sentences [first, end) of a corpus as the kernels take them: int32
    word ids and int64 sentence offsets starting at 0."""

    first: int
    end: int
    tokens: np.ndarray
    offsets: np.ndarray

    @property
    def words(self) -> int:
        return int(self.offsets[-1])


def read_slice(corpus: EncodedCorpus, first: int, stop_token: int, last: int) -> Slice:
    """A kernel call's sentences: from `first` up to the first one that
    starts at or after `stop_token`, at most up to sentence `last`."""
    end = corpus.first_sentence_at(stop_token, first, last)
    offsets = corpus.offsets(first, end + 1)
    tokens = np.ascontiguousarray(corpus.tokens(int(offsets[0]), int(offsets[-1])))
    return Slice(first, end, tokens, offsets - offsets[0])


def is_corpus_file(path) -> bool:
    """Whether `path` is a regular file that starts like a corpus file."""
    try:
        with open(path, "rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def open_corpus_file(path, vocab: Vocabulary | None = None) -> CorpusFile:
    try:
        f = open(path, "rb")
    except OSError as e:
        raise InputError(f"{path}: {e.strerror}") from None
    try:
        return CorpusFile(f, os.fspath(path), vocab)
    except BaseException:
        f.close()
        raise


# --------------------------------------------------------------------------
# writing


def _pad(f) -> int:
    """Pad f with zeros to a multiple of ALIGN; returns the position."""
    at = f.tell()
    if at % ALIGN:
        f.write(b"\0" * (ALIGN - at % ALIGN))
    return f.tell()


class _CrcBlocks:
    """Items appended to a file section, written and checksummed block by block."""

    def __init__(self, f, dtype, block: int):
        self.f, self.dtype, self.block = f, np.dtype(dtype), block
        self.pending = np.empty(block, self.dtype)
        self.fill = 0
        self.count = 0
        self.crcs = []

    def add(self, items: np.ndarray) -> None:
        i = 0
        while i < len(items):
            n = min(len(items) - i, self.block - self.fill)
            self.pending[self.fill:self.fill + n] = items[i:i + n]
            self.fill += n
            i += n
            if self.fill == self.block:
                self._flush()
        self.count += len(items)

    def _flush(self) -> None:
        data = memoryview(self.pending[:self.fill]).cast("B")
        self.f.write(data)
        self.crcs.append(zlib.crc32(data))
        self.fill = 0

    def finish(self) -> np.ndarray:
        if self.fill:
            self._flush()
        return np.array(self.crcs, dtype=np.uint32)


@njit(cache=True, nogil=True)
def _encode(ids, id_map, max_len, state, tokens_out, ends_out):
    """Map a block of an id stream to word ids, dropping unknown words and
    LINE_END marks; a sentence ends at a mark and every max_len kept words.
    state = [kept tokens so far, words in the open sentence, kept tokens
    before the first mark (-1 until one comes)]; writes the kept ids and the
    sentence ends (kept-token positions); returns how many of each."""
    kept, cur, first_mark = state[0], state[1], state[2]
    nt = 0
    ne = 0
    for k in range(len(ids)):
        e = ids[k]
        if e == LINE_END:
            if first_mark < 0:
                first_mark = kept
            if cur > 0:
                ends_out[ne] = kept
                ne += 1
                cur = 0
            continue
        w = id_map[e]
        if w >= 0:
            tokens_out[nt] = w
            nt += 1
            kept += 1
            cur += 1
            if cur == max_len:
                ends_out[ne] = kept
                ne += 1
                cur = 0
    state[0], state[1], state[2] = kept, cur, first_mark
    return nt, ne


def _load_encoder_kernels() -> None:
    """Load _encode on a tiny stream (scan_inputs calls this while its
    workers scan, so that the encoding threads do not wait for the load)."""
    _encode(np.array([0, LINE_END], np.int32), np.zeros(1, np.int32), 1, np.array([0, 0, -1], np.int64),
            np.empty(2, np.int32), np.empty(2, np.int64))


def _token_dtype(vocab_size: int) -> np.dtype:
    """The narrowest type that holds every word id of the vocabulary."""
    return np.dtype(np.uint16 if vocab_size <= 1 << 16 else np.int32)


def _pwrite_all(fd: int, data, offset: int) -> None:
    view = memoryview(data).cast("B")
    while len(view):
        n = os.pwrite(fd, view, offset)
        view, offset = view[n:], offset + n


class _TokenSink:
    """Token ids from corpus position `base` on, written with pwrite at their
    place in the token section, with the CRC of every TOKEN_BLOCK block they
    fill whole (a block shared with a neighbouring range is checksummed once
    all are written).  For a `durable` file (one that will be fsynced) the
    writeback of each piece starts as it is written."""

    def __init__(self, fd: int, dtype: np.dtype, base: int, durable: bool):
        self.fd, self.dtype, self.position, self.durable = fd, dtype, base, durable
        self.whole = base % TOKEN_BLOCK == 0  # the block being filled began here
        self.crc = 0
        self.crcs = {}                        # block number -> CRC-32

    def add(self, ids: np.ndarray) -> None:
        data = ids.astype(self.dtype, copy=False)
        i = 0
        while i < len(data):
            block = self.position // TOKEN_BLOCK
            piece = data[i:i + (block + 1) * TOKEN_BLOCK - self.position]
            at = PREAMBLE_BYTES + self.position * self.dtype.itemsize
            _pwrite_all(self.fd, piece, at)
            if self.durable:  # the file will be fsynced: start on it now
                start_writeback(self.fd, at, piece.nbytes)
            if self.whole:
                self.crc = zlib.crc32(piece, self.crc)
            self.position += len(piece)
            i += len(piece)
            if self.position % TOKEN_BLOCK == 0:
                if self.whole:
                    self.crcs[block] = self.crc
                self.whole, self.crc = True, 0


@dataclass
class _EncodedRange:
    """One range of the scan encoded on its own, as if a sentence began at
    its start (what the sentence open before it changes is stitched later)."""

    source: int        # the input it belongs to
    base: int          # corpus position of its first kept token
    tokens: int        # kept tokens
    first_mark: int    # kept tokens before its first line end, -1 when it has none
    open_words: int    # words of the sentence open at its end, counted from its last sentence end
    ends: object       # unnamed file of its sentence ends (int64, relative to base)
    crcs: dict         # CRCs of the token blocks it fills whole


def _encode_range(part, word_of_local: np.ndarray, max_len: int, fd: int, dtype: np.dtype, base: int,
                  work_dir, durable: bool) -> _EncodedRange:
    sink = _TokenSink(fd, dtype, base, durable)
    ends = tempfile.TemporaryFile(dir=work_dir, prefix=".fastw2v-ends.")
    state = np.array([0, 0, -1], np.int64)  # see _encode
    kept = np.empty(ENCODE_BLOCK, np.int32)
    ended = np.empty(ENCODE_BLOCK, np.int64)
    try:
        for block in part.id_blocks(ENCODE_BLOCK):
            for lo in range(0, len(block), ENCODE_BLOCK):
                nt, ne = _encode(block[lo:lo + ENCODE_BLOCK], word_of_local, max_len, state, kept, ended)
                sink.add(kept[:nt])
                ends.write(memoryview(ended[:ne]).cast("B"))
        part.release_ids()
    except BaseException:
        ends.close()
        raise
    return _EncodedRange(part.range.source, base, int(state[0]), int(state[2]), int(state[1]), ends, sink.crcs)


def _stitched_ends(ranges: list, max_len: int):
    """The corpus's sentence ends, in blocks: each range's own, with the
    sentence open at its start carried over from the range before (in the
    same input: a line cut between ranges goes on) through its first line,
    which that changes (where it is split every max_len words, whether its
    line end ends a sentence)."""
    open_words, source = 0, None
    buf = np.empty(OFFSET_BLOCK, np.int64)
    for r in ranges:
        if r.source != source and open_words:  # the end of an input ends its sentence
            yield np.array([r.base], np.int64)
            open_words = 0
        source = r.source
        line = r.first_mark if r.first_mark >= 0 else r.tokens  # its first line, as far as it goes here
        # the ends the range found in that line when it began with no open sentence: replaced
        own_first = line // max_len + (1 if r.first_mark >= 0 and line % max_len else 0)
        first = np.arange(max_len - open_words, line + 1, max_len, dtype=np.int64)
        if r.first_mark >= 0 and (open_words + line) % max_len:
            first = np.append(first, line)
        yield r.base + first
        open_words = r.open_words if r.first_mark >= 0 else (open_words + line) % max_len
        r.ends.seek(8 * own_first)
        while True:
            n = r.ends.readinto(memoryview(buf).cast("B")) // 8
            if not n:
                break
            yield r.base + buf[:n]
    if open_words:
        end = ranges[-1].base + ranges[-1].tokens
        yield np.array([end], np.int64)


def _missing_crcs(fd: int, dtype: np.dtype, n_tokens: int, crcs: dict) -> np.ndarray:
    """Every token block's CRC: those the ranges did not fill whole read back."""
    n_blocks = -(-n_tokens // TOKEN_BLOCK)
    out = np.zeros(n_blocks, np.uint32)
    for block in range(n_blocks):
        if block in crcs:
            out[block] = crcs[block]
            continue
        first, last = block * TOKEN_BLOCK, min((block + 1) * TOKEN_BLOCK, n_tokens)
        nbytes = (last - first) * dtype.itemsize
        data = os.pread(fd, nbytes, PREAMBLE_BYTES + first * dtype.itemsize)
        if len(data) != nbytes:
            raise OSError(f"short read of the corpus being written ({len(data)} of {nbytes} bytes)")
        out[block] = zlib.crc32(data)
    return out


def _joined_words(words: list) -> tuple[bytes, np.ndarray]:
    """The words' UTF-8 bytes end to end, and where each ends.  Encoded in
    one call with a space between them, which finds the ends where no word
    holds a space (scanned words never do; words given from Python may):
    72k words in 2 ms against 28 ms a word at a time."""
    spaced = " ".join(words).encode("utf-8")
    gaps = np.flatnonzero(np.frombuffer(spaced, np.uint8) == 0x20)
    if len(gaps) != len(words) - 1:
        blobs = [w.encode("utf-8") for w in words]
        return b"".join(blobs), np.cumsum([len(b) for b in blobs], dtype=np.int64)
    ends = np.append(gaps, len(spaced)) - np.arange(len(words))
    return spaced.replace(b" ", b""), ends.astype(np.int64)


def _vocabulary_sections(vocab: Vocabulary) -> dict:
    """The vocabulary's sections of a corpus file, as bytes."""
    words, word_ends = _joined_words(vocab.words)
    return {"words": words, "word_ends": word_ends.tobytes(),
            "counts": np.ascontiguousarray(vocab.counts, np.int64).tobytes()}


def _write_tail(f, dtype: np.dtype, n_tokens: int, token_crcs: np.ndarray, ends, vocab: Vocabulary,
                vocab_sections: dict, raw_word_count: int, settings: dict, sources: list,
                invalid_utf8_tokens: int) -> None:
    """Everything after the token ids (offsets, vocabulary, checksums,
    trailer), then the preamble."""
    f.seek(PREAMBLE_BYTES + n_tokens * dtype.itemsize)
    sections = {"tokens": (PREAMBLE_BYTES, n_tokens * dtype.itemsize)}
    at = _pad(f)
    offsets = _CrcBlocks(f, np.int64, OFFSET_BLOCK)
    offsets.add(np.zeros(1, np.int64))
    previous, longest = 0, 0
    for block in ends:
        if len(block):
            longest = max(longest, int(block[0] - previous), int(np.diff(block).max(initial=0)))
            previous = int(block[-1])
            offsets.add(block)
    n_sentences = offsets.count - 1
    offset_crcs = offsets.finish()
    sections["offsets"] = (at, 8 * (n_sentences + 1))
    vocab_parts = {**vocab_sections, "token_crcs": token_crcs.tobytes(), "offset_crcs": offset_crcs.tobytes()}
    for section, data in vocab_parts.items():
        sections[section] = (_pad(f), len(data))
        f.write(data)
    vocab_crc = zlib.crc32(vocab_parts["words"] + vocab_parts["word_ends"] + vocab_parts["counts"])
    content = zlib.crc32(vocab_parts["token_crcs"] + vocab_parts["offset_crcs"], vocab_crc)
    trailer = _json_bytes({
        "format": "fastw2v-corpus", "version": VERSION, "token_dtype": dtype.name,
        "n_tokens": n_tokens, "n_sentences": n_sentences, "vocab_size": len(vocab),
        "raw_word_count": int(raw_word_count), "max_sentence": longest,
        "invalid_utf8_tokens": int(invalid_utf8_tokens), "token_block": TOKEN_BLOCK,
        "offset_block": OFFSET_BLOCK, "vocab_crc": vocab_crc, "sections": sections,
        "settings": settings, "sources": sources,
        "fingerprint": f"{raw_word_count}:{n_tokens}:{n_sentences}:{content:08x}"})
    trailer_at = _pad(f)
    f.write(trailer)
    head = PREAMBLE.pack(MAGIC, VERSION, 0, trailer_at, len(trailer), zlib.crc32(trailer), 0)
    head = head[:-4] + struct.pack("<I", zlib.crc32(head[:-4]))
    f.seek(0)
    f.write(head)
    f.flush()


# --------------------------------------------------------------------------
# from text to an encoded corpus


@dataclass
class LoadReport:
    """What reading the inputs found, for the messages of the CLI and the API."""

    seconds: float = 0.0
    invalid_utf8_tokens: int = 0
    not_text: tuple = ()       # names of inputs that look binary
    encoded_file: bool = False  # the input was a corpus file (no scan)


def build_vocabulary(table: Table, min_count: int, max_final_vocab=None,
                     base: Vocabulary | None = None, fixed: bool = False):
    """Choose and order the vocabulary of a scan's table (or extend `base`);
    returns (Vocabulary, entry -> word id map, number of tokens whose bytes
    were not valid UTF-8)."""
    # rare words can only matter when they may belong to `base`
    counted, entry_word, invalid = table.word_counts(min_count if base is None else 1)
    try:
        vocab, word_ids = choose_vocabulary(counted, min_count, max_final_vocab, base, fixed)
    except VocabularyError:  # name all words in the message, not only the decoded ones
        counts = table.counts[:table.n_entries]
        raise VocabularyError(no_vocabulary_message(int(np.count_nonzero(counts)), int(counts.max(initial=0)),
                                                    min_count)) from None
    id_map = np.where(entry_word >= 0, word_ids[np.maximum(entry_word, 0)], -1).astype(np.int32)
    return vocab, id_map, invalid


@dataclass
class PendingVocabulary:
    """A vocabulary whose word ids are chosen, so its size is known, but
    whose words may not be decoded yet: make() returns it.  write_encoded
    calls make() once the ranges are encoding, so that decoding the words
    (and hashing them for the index) is not serial work between the scan
    and the encoding."""

    size: int
    make: Callable[[], Vocabulary]

    @classmethod
    def ready(cls, vocab: Vocabulary) -> "PendingVocabulary":
        return cls(len(vocab), lambda: vocab)


def plan_vocabulary(scan: Scan, min_count: int, max_final_vocab=None, base: Vocabulary | None = None,
                    fixed: bool = False):
    """build_vocabulary's vocabulary of the scan's table, as
    (PendingVocabulary, entry -> word id map, number of tokens whose bytes
    were not valid UTF-8).  A fresh vocabulary whose words are all valid
    UTF-8 is chosen from the table's counts alone, its words left to
    decode; otherwise (words to add to `base`, bytes whose replacement can
    merge two words, no word kept) build_vocabulary decides, words and all."""
    table = scan.table
    if base is None and not scan.any_invalid_utf8:
        counts, first_seen = table.counts[:table.n_entries], table.first_seen[:table.n_entries]
        candidates = np.flatnonzero(counts >= max(min_count, 1))
        kept = candidates[select_and_order(counts[candidates], first_seen[candidates], min_count, max_final_vocab)]
        if len(kept):
            id_map = np.full(len(counts), -1, dtype=np.int32)
            id_map[kept] = np.arange(len(kept), dtype=np.int32)
            kept_counts = counts[kept]
            return PendingVocabulary(len(kept), lambda: Vocabulary(table.words_of(kept), kept_counts)), id_map, 0
    vocab, id_map, invalid = build_vocabulary(table, min_count, max_final_vocab, base, fixed)
    return PendingVocabulary.ready(vocab), id_map, invalid


def _sources(inputs: list[Input]) -> list:
    out = []
    for inp in inputs:
        entry = {"name": inp.name}
        if inp.regular:
            st = os.stat(inp.path)
            entry.update(size=st.st_size, mtime_ns=st.st_mtime_ns)
        out.append(entry)
    return out


def distributed_vocabulary(scan: Scan, cluster, min_count: int, max_final_vocab=None,
                           base: Vocabulary | None = None, fixed: bool = False):
    """The vocabulary of all ranks' scans, identical to a single process's:
    rank 0 merges the ranks' tables in rank order (each rank scanned the
    ranges after the previous rank's), chooses the vocabulary and sends it
    back with each rank's entry -> word id map.  Returns (Vocabulary, this
    rank's map, invalid UTF-8 tokens, names of inputs that look binary)."""
    gathered = cluster.gather((scan.table.export(), scan.nul_bytes, scan.looks_binary))
    maps = shared = None
    if cluster.rank == 0:
        merged = Table()
        nul_bytes, looks_binary = np.zeros(len(scan.inputs), np.int64), np.zeros(len(scan.inputs), bool)
        entries = []
        for (words, counts, first_seen, tokens), nul, binary in gathered:
            entries.append(merged.merge_entries(words, counts, first_seen, merged.tokens))
            merged.state[_TOKENS] += tokens
            nul_bytes += nul
            looks_binary |= binary
        vocab, id_map, invalid = build_vocabulary(merged, min_count, max_final_vocab, base, fixed)
        everything = Scan(merged, [], [], scan.inputs, nul_bytes.tolist(), looks_binary.tolist())
        maps = [id_map[e] for e in entries]
        shared = (vocab.words, vocab.counts, invalid, everything.not_text())
    own = cluster.scatter(maps)
    words, counts, invalid, not_text = cluster.broadcast(shared)
    vocab = base if fixed and base is not None and base.words == words else Vocabulary(words, counts)
    return vocab, own, invalid, not_text


def write_encoded(scan: Scan, vocabulary: PendingVocabulary, id_map: np.ndarray, f, settings: dict, invalid: int,
                  work_dir=None, threads: int = 1, durable: bool = False) -> Vocabulary:
    """Encode the scan's id streams with the vocabulary's ids (id_map) into
    corpus file `f`: each range on its own, on up to `threads` threads, its
    token ids written at their place in the file (known from its word
    counts; one range after another when pruning while counting left those
    counts short), then the sentence ends stitched across the ranges
    (_stitched_ends).  The vocabulary is made while the ranges encode.
    `durable`: `f` will be fsynced (a kept output, not a temporary file).
    Returns the Vocabulary."""
    dtype = _token_dtype(vocabulary.size)
    max_len = settings["max_sentence_length"]
    f.write(b"\0" * PREAMBLE_BYTES)
    f.flush()
    fd = f.fileno()
    words = [id_map[m] if len(m) else np.zeros(0, np.int32) for m in scan.maps]
    encoded = []
    try:
        if settings["max_vocab_size"] is None and threads > 1 and len(scan.ranges) > 1:
            kept = [int(part.counts[w >= 0].sum()) for part, w in zip(scan.ranges, words)]
            bases = np.concatenate([[0], np.cumsum(kept)[:-1]]).tolist()
            with ThreadPoolExecutor(threads, thread_name_prefix="fastw2v-encode") as pool:
                futures = [pool.submit(_encode_range, part, w, max_len, fd, dtype, base, work_dir, durable)
                           for part, w, base in zip(scan.ranges, words, bases)]
                try:
                    vocab = vocabulary.make()
                    vocab_sections = _vocabulary_sections(vocab)
                    for future in futures:
                        encoded.append(future.result())
                except BaseException:
                    pool.shutdown(cancel_futures=True)  # the running ones still write to f: wait for them
                    for future in futures[len(encoded):]:
                        if not future.cancelled() and future.exception() is None:
                            encoded.append(future.result())  # for its spooled ends to be closed
                    raise
            if [r.tokens for r in encoded] != kept:
                raise RuntimeError("the ranges' word counts do not match their id streams")
        else:
            base = 0
            for part, w in zip(scan.ranges, words):
                encoded.append(_encode_range(part, w, max_len, fd, dtype, base, work_dir, durable))
                base += encoded[-1].tokens
            vocab = vocabulary.make()
            vocab_sections = _vocabulary_sections(vocab)
        n_tokens = sum(r.tokens for r in encoded)
        token_crcs = _missing_crcs(fd, dtype, n_tokens, {k: v for r in encoded for k, v in r.crcs.items()})
        _write_tail(f, dtype, n_tokens, token_crcs, _stitched_ends(encoded, max_len), vocab, vocab_sections,
                    scan.raw_word_count, settings, _sources(scan.inputs), invalid)
    finally:
        for r in encoded:
            r.ends.close()
    return vocab


def _settings(min_count, max_vocab_size, max_final_vocab, max_sentence_length) -> dict:
    return {"min_count": min_count, "max_vocab_size": max_vocab_size, "max_final_vocab": max_final_vocab,
            "max_sentence_length": max_sentence_length}


def load_corpus(paths, min_count=5, max_vocab_size=None, max_final_vocab=None, max_sentence_length=10000,
                base: Vocabulary | None = None, fixed: bool = False, threads: int = 1, work_dir=None,
                keep=None, outputs: OutputSet | None = None, cluster=None):
    """The encoded corpus of files, directories or "-" (standard input).

    Text is scanned on `threads` threads and encoded into a temporary corpus
    file in `work_dir` (the system's temporary folder when None) that
    vanishes when closed, or, with `keep` (a path), into a file staged in
    `outputs` (committed with the other outputs).  A single corpus file
    (``fastw2v encode``) is opened as it is.  With `base`, its words keep
    their ids (their counts grow) and new words reaching min_count are
    appended; with `fixed` too, `base` is used as it is.
    Returns (Vocabulary, EncodedCorpus, LoadReport).
    """
    start = time.perf_counter()
    fix_mmap_threshold()
    inputs = expand_inputs(paths)
    for inp in inputs:
        if inp.path.endswith(SUFFIX) and not (inp.regular and is_corpus_file(inp.path)):
            raise CorpusFileError(f"{inp.name}: not a fastw2v corpus file (it is named like one)")
    encoded_inputs = [inp for inp in inputs if inp.regular and is_corpus_file(inp.path)]
    if encoded_inputs:
        if len(inputs) > 1:
            raise InputError(f"{encoded_inputs[0].path} is an encoded corpus: train on it alone, "
                             f"not together with other inputs")
        release_compiler_pages()  # what the imports touched, before the corpus takes memory (a scan does it)
        vocab, corpus = _open_encoded(inputs[0].path, base, fixed)
        return vocab, corpus, LoadReport(time.perf_counter() - start, corpus.invalid_utf8_tokens, (), True)
    settings = _settings(min_count, max_vocab_size, max_final_vocab, max_sentence_length)
    spool_dir = work_dir or tempfile.gettempdir()
    if cluster is not None:
        _check_distributable(inputs, max_vocab_size, keep, cluster.size)
    scan = scan_inputs(inputs, threads, max_vocab_size, spool_dir,
                       part=(cluster.rank, cluster.size) if cluster is not None else (0, 1),
                       meanwhile=_load_encoder_kernels)
    try:
        if cluster is not None:
            vocab, id_map, invalid, not_text = distributed_vocabulary(scan, cluster, min_count, max_final_vocab,
                                                                      base, fixed)
            vocabulary = PendingVocabulary.ready(vocab)
        else:
            vocabulary, id_map, invalid = plan_vocabulary(scan, min_count, max_final_vocab, base, fixed)
            not_text = scan.not_text()
        if keep is not None:
            with outputs.open(keep) as f:
                vocab = write_encoded(scan, vocabulary, id_map, f, settings, invalid, spool_dir, threads,
                                      durable=True)
            corpus = open_corpus_file(outputs.staged_path(keep), vocab)
        else:
            f = tempfile.TemporaryFile(dir=spool_dir, prefix=".fastw2v-corpus.")
            try:
                vocab = write_encoded(scan, vocabulary, id_map, f, settings, invalid, spool_dir, threads)
                corpus = CorpusFile(f, "the encoded corpus", vocab)
            except BaseException:
                f.close()
                raise
    finally:
        scan.close()
    release_compiler_pages()  # what loading the encoder touched
    corpus.local_part = cluster is not None
    return vocab, corpus, LoadReport(time.perf_counter() - start, invalid, tuple(not_text))


def _check_distributable(inputs, max_vocab_size, keep, size: int) -> None:
    """What the ranks of a distributed run cannot scan together."""
    from .config import ConfigError

    stream = next((inp for inp in inputs if not inp.regular), None)
    if stream is not None:
        raise InputError(f"{stream.name} is a stream, which the {size} processes of a distributed run cannot "
                         f"share: encode it first (fastw2v encode - -o corpus.fw2v) and train on the file")
    if max_vocab_size is not None:
        raise ConfigError("max_vocab_size prunes while counting, in order, which the processes of a distributed "
                          "run cannot do together: encode the corpus first (fastw2v encode) and train on the file")
    if keep is not None:
        raise ConfigError("--keep-encoded: each process of a distributed run encodes only its own share; encode "
                          "the whole corpus once with fastw2v encode instead")


def _open_encoded(path, base: Vocabulary | None, fixed: bool):
    """A corpus file as a training corpus: its own vocabulary, or for further
    training `base` grown by the file's words (all of them: the file's
    min_count already chose them), its ids mapped to the grown vocabulary."""
    corpus = open_corpus_file(path)
    if base is None:
        return corpus.vocab, corpus
    own = corpus.vocab
    if fixed:
        if own.words != base.words:
            corpus.close()
            raise InputError(f"{path}: its vocabulary is not the one the checkpoint was trained with")
        return base, corpus
    counted = WordCounts(own.words, own.counts, np.arange(len(own), dtype=np.int64))
    vocab, ids = choose_vocabulary(counted, 1, None, base, False)
    corpus.id_map = ids.astype(np.int32)
    return vocab, corpus


def encode_sentences(sentences, min_count=5, max_vocab_size=None, max_final_vocab=None,
                     max_sentence_length=10000, base: Vocabulary | None = None, fixed: bool = False):
    """The same as load_corpus for an in-memory iterable of token lists (gensim style).

    Tokens are taken as given (no splitting).  Returns (Vocabulary, InMemoryCorpus).
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
    return vocab, InMemoryCorpus(np.array(pieces, dtype=np.int32), offsets, raw, vocab)


def encode_to_file(paths, output, min_count=5, max_vocab_size=None, max_final_vocab=None,
                   max_sentence_length=10000, threads: int = 1, work_dir=None):
    """`fastw2v encode`: scan and encode text into the corpus file `output`
    (written atomically).  Returns (Vocabulary, CorpusFile opened on it, LoadReport)."""
    corpus = None
    try:
        with OutputSet() as outputs:
            vocab, corpus, report = load_corpus(paths, min_count, max_vocab_size, max_final_vocab,
                                                max_sentence_length, threads=threads, work_dir=work_dir,
                                                keep=output, outputs=outputs)
    except BaseException:
        if corpus is not None:
            corpus.close()
        raise
    corpus.name = os.fspath(output)  # the file it has open, renamed into place
    return vocab, corpus, report


__all__ = ["CorpusFile", "CorpusFileError", "EncodedCorpus", "InMemoryCorpus", "LoadReport", "STDIN", "Slice",
           "VOCAB_SETTINGS", "encode_sentences", "encode_to_file", "is_corpus_file", "load_corpus",
           "open_corpus_file", "read_slice"]
