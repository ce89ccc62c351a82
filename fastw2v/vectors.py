"""Word vectors: the KeyedVectors class, nearest-neighbour queries, and word2vec
and GloVe vector files.

File formats, as the word2vec C tool, gensim and fastText write them:

* word2vec text: a header line ``"V D"``, then one line per word: the word and
  its D numbers, separated by spaces.  The C tool writes each value with
  ``"%lf "``, so its lines end with a space before the newline.
* word2vec binary: the same header, then per word its UTF-8 bytes, a space and
  D little-endian float32 (4*D bytes).  The C tool writes a newline after each
  vector and gensim does not, so newlines before a word are skipped.
* GloVe text: word2vec text without the header line.

Files are parsed by numba scanners that create no Python object per number:
a plain binary file is read whole into the array that becomes the vectors and
compacted in place; other files stream through a 16 MiB buffer.  Loading thus
needs little more memory than the vectors and the words.  Words are gathered
as bytes and decoded in one call at the end.
"""
from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import math
import os
import re
import sys
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .files import open_binary, output_file

__all__ = ["KeyedVectors", "VectorFileError"]

BUFFER_BYTES = 1 << 24  # bytes read per refill of the parsing buffer
READERS = min(4, os.cpu_count() or 1)  # threads reading a big plain binary file
BLOCK_ELEMENTS = 1 << 24  # largest similarity block (queries x vocabulary) held at once
UNICODE_ERRORS = ("strict", "replace", "ignore")

# scanner statuses
_FULL, _MORE, _WORDS, _DEFER, _BADDIM, _NONL, _EOF = range(7)

# exact powers of ten for the fast number parser
_POW10 = np.array([float(10**k) for k in range(23)])


class VectorFileError(ValueError):
    """A vector file that cannot be read.  The message names the file and the
    line (text formats) or byte offset (binary format) where reading failed."""


# --------------------------------------------------------------------------
# numba scanners


@njit(cache=True, inline="always")
def _is_space(c):
    """ASCII whitespace, as bytes.split() defines it."""
    return c == 32 or (c >= 9 and c <= 13)


@njit(cache=True)
def _skip_space(buf, lo, hi):
    """(index of the first non-space byte in buf[lo:hi] or -1, newlines before it)."""
    lines = 0
    for i in range(lo, hi):
        c = buf[i]
        if c == 10:
            lines += 1
        elif not _is_space(c):
            return i, lines
    return -1, lines


@njit(cache=True)
def _count_lines(buf, lo, hi, open_line):
    """Count the lines of buf[lo:hi] that hold a non-space byte; `open_line`
    says whether the line running in from the previous block already does.
    Returns (count of finished such lines, open_line at the end)."""
    count = 0
    for i in range(lo, hi):
        c = buf[i]
        if c == 10:
            count += open_line
            open_line = False
        elif not _is_space(c):
            open_line = True
    return count, open_line


@intrinsic
def _move_bytes(typingctx, dst, dst_start, src, src_start, count):
    """memmove of `count` bytes from src[src_start:] to dst[dst_start:] (uint8
    arrays, which may overlap; the caller checks bounds): numba's slice
    assignment copies through a temporary at a third of the speed."""

    def codegen(context, builder, sig, args):
        d = context.make_array(sig.args[0])(context, builder, args[0])
        s = context.make_array(sig.args[2])(context, builder, args[2])
        cgutils.raw_memmove(builder, builder.gep(d.data, [args[1]]), builder.gep(s.data, [args[3]]), args[4], 1)
        return context.get_dummy_value()

    return types.void(dst, dst_start, src, src_start, count), codegen


@njit(cache=True)
def _scan_binary(buf, pos, end, dst, nbytes, max_rows, wbuf, wfill, where, base):
    """Parse up to `max_rows` whole binary records from buf[pos:end].

    Each record's `nbytes` vector bytes go to the next `nbytes` of `dst`
    (which may be `buf` itself: a vector only ever moves down), its word bytes
    and a space to wbuf[wfill:], the file offset of the word to `where`.
    Stops after `max_rows` records (_FULL), when the next record is not wholly
    in the buffer (_MORE) or when `wbuf` lacks room (_WORDS).
    Returns (pos, rows, wfill, status)."""
    rows = 0
    while rows < max_rows:
        p = pos
        while p < end and buf[p] == 10:
            p += 1
        start = p
        while p < end and buf[p] != 32:
            p += 1
        if p + 1 + nbytes > end:
            return pos, rows, wfill, _MORE
        n = p - start
        if wfill + n + 1 > wbuf.shape[0]:
            return pos, rows, wfill, _WORDS
        _move_bytes(wbuf, wfill, buf, start, n)
        wbuf[wfill + n] = 32
        wfill += n + 1
        where[rows] = base + start
        _move_bytes(dst, rows * nbytes, buf, p + 1, nbytes)
        rows += 1
        pos = p + 1 + nbytes
    return pos, rows, wfill, _FULL


@njit(cache=True)
def _parse_number(buf, s, e):
    """(True, value) for a plain decimal number in buf[s:e] that converts
    exactly with one rounding (Clinger's fast path: digits worth at most 2**53,
    power of ten within 1e22); (False, 0.0) for anything else, which the
    caller hands to Python's float()."""
    i = s
    neg = False
    if buf[i] == 45 or buf[i] == 43:  # - +
        neg = buf[i] == 45
        i += 1
    mant = 0
    exp = 0
    digits = 0
    big = False
    while i < e and buf[i] >= 48 and buf[i] <= 57:
        if mant < 100000000000000000:
            mant = mant * 10 + (buf[i] - 48)
        else:
            big = True
        digits += 1
        i += 1
    if i < e and buf[i] == 46:  # .
        i += 1
        while i < e and buf[i] >= 48 and buf[i] <= 57:
            if mant < 100000000000000000:
                mant = mant * 10 + (buf[i] - 48)
                exp -= 1
            else:
                big = True
            digits += 1
            i += 1
    if digits == 0:
        return False, 0.0
    if i < e and (buf[i] == 101 or buf[i] == 69):  # e E
        i += 1
        eneg = False
        if i < e and (buf[i] == 45 or buf[i] == 43):
            eneg = buf[i] == 45
            i += 1
        edigits = 0
        ev = 0
        while i < e and buf[i] >= 48 and buf[i] <= 57:
            if ev < 100000:
                ev = ev * 10 + (buf[i] - 48)
            edigits += 1
            i += 1
        if edigits == 0:
            return False, 0.0
        exp += -ev if eneg else ev
    if i != e or big or mant > 9007199254740992:
        return False, 0.0
    if mant == 0:
        v = 0.0
    elif exp >= 0 and exp <= 22:
        v = mant * _POW10[exp]
    elif exp < 0 and exp >= -22:
        v = mant / _POW10[-exp]
    else:
        return False, 0.0
    return True, -v if neg else v


@njit(cache=True)
def _scan_text(buf, pos, end, eof, dst, wbuf, wfill, where, line, defer):
    """Parse whole text lines from buf[pos:end], skipping blank lines.

    Each line's numbers go to the next row of `dst`, its word and a space to
    wbuf[wfill:], its line number to `where`; numbers the fast parser declines
    are recorded in `defer` as (row, column, start, end) for Python to parse.
    Stops when `dst` is full (_FULL), no whole line is left (_MORE; at end of
    file _NONL for a last line without newline, _EOF for none), `wbuf` or
    `defer` lacks room (_WORDS, _DEFER) or a line does not hold exactly D
    numbers (_BADDIM, with the count found).
    Returns (pos, rows, line, wfill, ndefer, status, found)."""
    dim = dst.shape[1]
    rows = 0
    ndefer = 0
    while rows < dst.shape[0]:
        e = pos
        while e < end and buf[e] != 10:
            e += 1
        if e == end and not eof:
            return pos, rows, line, wfill, ndefer, _MORE, 0
        p = pos
        while p < e and _is_space(buf[p]):
            p += 1
        if p == e:
            if e == end:
                return end, rows, line, wfill, ndefer, _EOF, 0
            pos = e + 1
            line += 1
            continue
        if e == end:
            return pos, rows, line, wfill, ndefer, _NONL, 0
        if ndefer + dim > defer.shape[0]:
            return pos, rows, line, wfill, ndefer, _DEFER, 0
        start = p
        while p < e and not _is_space(buf[p]):
            p += 1
        n = p - start
        if wfill + n + 1 > wbuf.shape[0]:
            return pos, rows, line, wfill, ndefer, _WORDS, 0
        before = ndefer
        k = 0
        while True:
            while p < e and _is_space(buf[p]):
                p += 1
            if p == e:
                break
            s = p
            while p < e and not _is_space(buf[p]):
                p += 1
            if k < dim:
                ok, v = _parse_number(buf, s, p)
                if ok:
                    dst[rows, k] = v
                else:
                    defer[ndefer, 0] = rows
                    defer[ndefer, 1] = k
                    defer[ndefer, 2] = s
                    defer[ndefer, 3] = p
                    ndefer += 1
            k += 1
        if k != dim:
            return pos, rows, line, wfill, before, _BADDIM, k
        wbuf[wfill:wfill + n] = buf[start:start + n]
        wbuf[wfill + n] = 32
        wfill += n + 1
        where[rows] = line
        rows += 1
        line += 1
        pos = e + 1
    return pos, rows, line, wfill, ndefer, _FULL, 0


@njit(cache=True)
def _format_c_lines(vectors, row, words, word_ends, out):
    """Text lines "word v1 v2 ... vD \\n" from row `row` on, each float32 value
    printed as C's "%f" prints it, into `out` (room for 48 bytes a value);
    word i is words[word_ends[i-1]:word_ends[i]].  Rounds exactly, half to
    even like printf and Python, by integer arithmetic on the float32's
    24-bit mantissa.  Stops before a row holding a value that is not finite
    or not below 2**42, for Python to print.  Returns (bytes, next row)."""
    digits = np.empty(24, np.uint8)
    n = 0
    dim = vectors.shape[1]
    while row < vectors.shape[0]:
        for j in range(dim):
            if not abs(vectors[row, j]) < 4398046511104.0:
                return n, row
        start = word_ends[row - 1] if row else 0
        _move_bytes(out, n, words, start, word_ends[row] - start)
        n += word_ends[row] - start
        out[n] = 32
        n += 1
        for j in range(dim):
            x = np.float64(vectors[row, j])
            if x < 0 or (x == 0 and np.signbit(x)):
                out[n] = 45
                n += 1
            m, e = math.frexp(abs(x))
            exact = np.int64(m * 16777216.0) * 1000000  # |x| * 1e6 == exact * 2**(e - 24)
            shift = e - 24
            if shift >= 0:
                q = exact << shift
            elif shift < -62:
                q = 0
            else:
                q = exact >> -shift
                rest = exact - (q << -shift)
                half = np.int64(1) << (-shift - 1)
                if rest > half or (rest == half and q & 1):
                    q += 1
            whole = q // 1000000
            k = 0
            while True:
                digits[k] = 48 + whole % 10
                whole //= 10
                k += 1
                if whole == 0:
                    break
            while k:
                k -= 1
                out[n] = digits[k]
                n += 1
            out[n] = 46
            fraction = q % 1000000
            for d in range(6, 0, -1):
                out[n + d] = 48 + fraction % 10
                fraction //= 10
            out[n + 7] = 32
            n += 8
        out[n] = 10
        n += 1
        row += 1
    return n, row


# --------------------------------------------------------------------------
# reading


def _find_newline(data, lo, hi):
    """Index of the first newline in data[lo:hi], or -1 (searched in growing steps)."""
    step = 1 << 12
    while lo < hi:
        i = data[lo:min(hi, lo + step)].tobytes().find(b"\n")
        if i >= 0:
            return lo + i
        lo += step
        step *= 4
    return -1


class _Buffer:
    """Unconsumed bytes of file `name` in data[lo:hi] of a reusable array;
    `base` is the (uncompressed) file offset of data[0]."""

    def __init__(self, f, name, size=None):
        self.f, self.name = f, name
        self.data = np.empty(size or BUFFER_BYTES, np.uint8)
        self.lo = self.hi = self.base = 0
        self.eof = False

    def refill(self):
        """Move the unconsumed bytes to the front and read until the array is
        full or the file ends; an array already full of them doubles."""
        n = self.hi - self.lo
        if self.lo:
            self.data[:n] = self.data[self.lo:self.hi]
            self.base += self.lo
            self.lo, self.hi = 0, n
        elif n == len(self.data):
            self.data = np.concatenate([self.data, np.empty_like(self.data)])
        view = memoryview(self.data)
        while self.hi < len(self.data) and not self.eof:
            try:
                got = self.f.readinto(view[self.hi:])
            except (EOFError, OSError, lzma.LZMAError, zlib.error) as e:
                if not self.f.compressed:
                    raise
                raise VectorFileError(f"{self.name}: byte {self.base + self.hi}: cannot decompress: {e}") from None
            if got:
                self.hi += got
            else:
                self.eof = True

    def line_end(self):
        """Index of the newline ending the line at `lo` (`hi` if the file ends
        first), refilling as needed."""
        searched = self.lo
        while True:
            i = _find_newline(self.data, searched, self.hi)
            if i >= 0 or self.eof:
                return i if i >= 0 else self.hi
            done = self.hi - self.lo
            self.refill()
            searched = self.lo + done

    def peek(self, n):
        """The next `n` bytes (fewer at the end of the file), not consumed."""
        while self.hi - self.lo < n and not self.eof:
            self.refill()
        return self.data[self.lo:self.lo + n].tobytes()

    def first_non_space(self):
        """(file offset of the next non-space byte or -1 at end of file,
        newlines skipped before it); consumes the spaces."""
        lines = 0
        while True:
            i, n = _skip_space(self.data, self.lo, self.hi)
            lines += n
            if i >= 0:
                self.lo = i
                return self.base + i, lines
            self.lo = self.hi
            if self.eof:
                return -1, lines
            self.refill()


class _Words:
    """Word bytes gathered by the scanners, each followed by a space (no word
    can hold one), decoded in one call at the end."""

    def __init__(self, count):
        self.buf = np.empty(min(16 * count + 64, 1 << 26), np.uint8)
        self.fill = 0

    def grow(self):
        self.buf = np.concatenate([self.buf, np.empty_like(self.buf)])

    def decode(self, name, where, errors, binary):
        data = self.buf[:self.fill].tobytes()
        try:
            words = data.decode("utf-8", errors).split(" ")
        except UnicodeDecodeError as e:
            k = data.count(b" ", 0, e.start)
            start = data.rfind(b" ", 0, e.start) + 1
            word = data[start:data.find(b" ", e.start)]
            at = f"byte {where[k] + e.start - start}" if binary else f"line {where[k]}"
            raise VectorFileError(
                f"{name}: {at}: word {word!r} is not valid UTF-8 ({e.reason}); "
                "load with unicode_errors='replace' or 'ignore' to accept it"
            ) from None
        words.pop()
        return words


def _parse_header(line: bytes):
    """(count, dimension) from a 'V D' header line of two integers, or None if
    it is not one; the caller rejects negative sizes."""
    parts = line.split()
    if len(parts) == 2 and all(re.fullmatch(rb"[+-]?[0-9]+", p) for p in parts):
        return int(parts[0]), int(parts[1])
    return None


def _is_number(token: bytes) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _looks_like_text(buf: _Buffer, dim: int) -> bool:
    """Whether the first record after the header is a text line: a word then
    numbers only.  A binary record's float bytes practically never are."""
    window = buf.peek(1024 + 32 * dim)
    lines = window.split(b"\n")
    if not (buf.eof and buf.hi - buf.lo <= len(window)):
        lines.pop()  # may be cut short
    for line in lines:
        parts = line.split()
        if parts:
            return len(parts) >= 2 and all(_is_number(p) for p in parts[1:])
    return False


def _headerless_shape(name, path):
    """(vector count, dimension) of a header-less text file: a pass counting
    its non-blank lines, dimension from the first one."""
    with open_binary(path) as f:
        buf = _Buffer(f, name)
        buf.refill()
        line_no = 1
        while True:
            end = buf.line_end()
            parts = buf.data[buf.lo:end].tobytes().split()
            if parts:
                break
            if end == buf.hi:
                raise VectorFileError(f"{name}: line 1: no header and no vectors (empty file?)")
            buf.lo = end + 1
            line_no += 1
        if len(parts) < 2:
            raise VectorFileError(f"{name}: line {line_no}: expected a word followed by numbers")
        buf.lo = end  # count the lines after this one
        count, open_line = 1, False
        while True:
            n, open_line = _count_lines(buf.data, buf.lo, buf.hi, open_line)
            count += n
            buf.lo = buf.hi
            if buf.eof:
                return count + open_line, len(parts) - 1
            buf.refill()


def _truncated(name, data, lo, hi, base, rows, declared):
    """The error for a binary file that ends at data[hi] before its last record."""
    if _skip_space(data, lo, hi)[0] < 0:
        return VectorFileError(
            f"{name}: byte {base + hi}: file ends after {rows} vectors, but its header declares {declared}"
        )
    return VectorFileError(
        f"{name}: byte {base + lo}: file ends inside vector {rows + 1} of the {declared} "
        f"its header declares (truncated file?)"
    )


def _read_binary(name, buf, out, where, words, declared):
    """Fill `out` from binary records streamed through `buf`, and `where`
    with the words' file offsets."""
    rows_total, dim = out.shape
    nbytes = 4 * dim
    direct = out.dtype == np.float32 and sys.byteorder == "little"
    raw = out.reshape(-1).view(np.uint8) if direct else np.empty(max(1, BUFFER_BYTES // nbytes) * nbytes, np.uint8)
    rows = 0
    while rows < rows_total:
        dst = raw[rows * nbytes:] if direct else raw
        pos, n, fill, status = _scan_binary(
            buf.data, buf.lo, buf.hi, dst, nbytes, min(rows_total - rows, len(dst) // nbytes),
            words.buf, words.fill, where[rows:], buf.base,
        )
        if not direct:
            out[rows:rows + n] = dst[:n * nbytes].view("<f4").reshape(n, dim)
        rows += n
        buf.lo, words.fill = pos, fill
        if status == _WORDS:
            words.grow()
        elif status == _MORE:
            if buf.eof:
                raise _truncated(name, buf.data, buf.lo, buf.hi, buf.base, rows, declared)
            buf.refill()


def _read_parts(path, view, offset):
    """Read file `path` from `offset` into `view` in READERS threads, a part
    each: a big read costs mostly the faulting-in of fresh memory, which the
    threads share out.  Returns the bytes read (fewer if the file is shorter)."""

    def part(lo, hi):
        with open(path, "rb", buffering=0) as f:
            f.seek(offset + lo)
            while lo < hi:
                n = f.readinto(view[lo:hi])
                if not n:
                    break
                lo += n
        return lo

    step = -(-len(view) // READERS)
    bounds = [(lo, min(lo + step, len(view))) for lo in range(0, len(view), step)]
    with ThreadPoolExecutor(len(bounds)) as pool:
        ends = list(pool.map(lambda b: part(*b), bounds))
    return next((end for (_, hi), end in zip(bounds, ends) if end < hi), len(view))


def _read_binary_whole(name, path, buf, size, where, dim, words):
    """The len(where) vectors of a whole plain binary file read as float32,
    and the words' file offsets in `where`:
    the file body goes straight into the array that becomes the vectors, each
    vector then moves down over the word bytes before it (one copy less than
    streaming, and no memory beyond the file's size)."""
    count, nbytes = len(where), 4 * dim
    start = buf.base + buf.lo
    body = np.empty(max(size - start, buf.hi - buf.lo), np.uint8)
    got = buf.hi - buf.lo
    body[:got] = buf.data[buf.lo:buf.hi]
    view = memoryview(body)
    if got < len(body) and not buf.eof:
        got += _read_parts(path, view[got:], start + got)
        buf.f.seek(start + got)
    rows = pos = 0
    while rows < count:
        pos, n, fill, status = _scan_binary(
            body, pos, got, body[rows * nbytes:], nbytes, count - rows, words.buf, words.fill, where[rows:], start
        )
        rows += n
        words.fill = fill
        if status == _WORDS:
            words.grow()
        elif status == _MORE:
            raise _truncated(name, body, pos, got, start, rows, count)
    extra, _ = _skip_space(body, pos, got)
    if extra >= 0:
        raise VectorFileError(f"{name}: byte {start + extra}: more data after the {count} vectors its header declares")
    buf.data, buf.lo, buf.hi, buf.base = np.empty(1 << 16, np.uint8), 0, 0, start + got  # for the rest, if any
    view.release()
    body.resize(count * nbytes, refcheck=False)  # shrinks in place
    return body.view(np.float32).reshape(count, dim)


def _read_text(name, buf, out, where, words, line, declared):
    """Fill `out` from text lines starting at line number `line`, and `where`
    with the words' line numbers; return the number of the next line."""
    rows_total, dim = out.shape
    defer = np.empty((max(4 * dim, 4096), 4), np.int64)
    rows = 0
    while rows < rows_total:
        pos, n, line, fill, ndefer, status, found = _scan_text(
            buf.data, buf.lo, buf.hi, buf.eof, out[rows:], words.buf, words.fill,
            where[rows:], line, defer,
        )
        for r, c, s, e in defer[:ndefer].tolist():
            token = buf.data[s:e].tobytes()
            try:
                out[rows + r, c] = float(token)
            except ValueError:
                raise VectorFileError(
                    f"{name}: line {where[rows + r]}: value {c + 1} is not a number: {token[:40]!r}"
                ) from None
        rows += n
        buf.lo, words.fill = pos, fill
        if status == _BADDIM:
            raise VectorFileError(
                f"{name}: line {line}: expected a word and {dim} numbers, found {found} numbers"
            )
        if status == _NONL:
            raise VectorFileError(f"{name}: line {line}: last line has no newline (truncated file?)")
        if status == _EOF:
            raise VectorFileError(
                f"{name}: line {line}: file ends after {rows} vectors, but its header declares {declared}"
            )
        if status == _WORDS:
            words.grow()
        elif status == _MORE:
            buf.refill()
    return line


def _layout(buf, name, path, binary, no_header):
    """(vectors declared, dimension, binary, number of the first vector line)
    of the file whose start is in `buf`, leaving `buf` after the header."""
    end = buf.line_end()  # may replace buf.data
    first = buf.data[buf.lo:end].tobytes()
    header = _parse_header(first)
    if no_header or (no_header is None and header is None):
        return (*_headerless_shape(name, path), False, 1)
    if header is None:
        raise VectorFileError(f"{name}: line 1: expected a header 'VECTORS DIMENSIONS', found {first[:60]!r}")
    declared, dim = header
    if declared < 0 or dim < 0:
        raise VectorFileError(f"{name}: line 1: header {first.strip()[:60]!r} declares a negative size")
    if dim < 1:
        raise VectorFileError(f"{name}: line 1: header declares dimension {dim}")
    buf.lo = min(end + 1, buf.hi)
    if binary is None:
        binary = not _looks_like_text(buf, dim)
    return declared, dim, binary, 2


def read_word2vec(path, binary=None, limit=None, unicode_errors="strict", no_header=None,
                  dtype=np.float32):
    """(words, vectors) from a word2vec text/binary or GloVe file; see
    KeyedVectors.load_word2vec_format.  Repeated words keep their first vector."""
    name = os.fspath(path)
    if unicode_errors not in UNICODE_ERRORS:
        raise ValueError(f"unicode_errors must be one of {UNICODE_ERRORS}, not {unicode_errors!r}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, not {dtype}")
    if limit is not None and (not isinstance(limit, (int, np.integer)) or limit < 0):
        raise ValueError(f"limit must be a non-negative integer or None, not {limit!r}")
    if no_header and binary:
        raise ValueError("header-less (GloVe) files are text: no_header=True needs binary=False or None")
    with open_binary(path) as f:
        size = f.input.size
        compressed = f.compressed or not f.input.regular  # read as a stream, size unknown
        buf = _Buffer(f, name)
        buf.refill()
        declared, dim, binary, line = _layout(buf, name, path, binary, no_header)
        count = declared if limit is None else min(declared, limit)
        fits = (size - buf.base - buf.lo) // (4 * dim + 1 if binary else 2 * dim + 2)  # records at least that long
        if not compressed and count > fits and count * (dim * dtype.itemsize + 8) > BUFFER_BYTES:
            # refuse a large allocation for a header the file cannot live up to; a small one
            # is parsed, to name the line or record at fault
            raise VectorFileError(
                f"{name}: byte {size}: file ends before the {declared} vectors of dimension {dim} "
                f"that its header declares (truncated file?)"
            )
        words = _Words(count)
        whole = binary and not compressed and count == declared and dtype == np.float32 and sys.byteorder == "little"
        try:
            where = np.empty(count, np.int64)
            out = None if whole else np.empty((count, dim), dtype)
        except (MemoryError, ValueError):
            raise VectorFileError(
                f"{name}: line 1: header declares {declared} vectors of dimension {dim}, too many to hold"
            ) from None
        if whole:
            out = _read_binary_whole(name, path, buf, size, where, dim, words)
        elif binary:
            _read_binary(name, buf, out, where, words, declared)
        else:
            line = _read_text(name, buf, out, where, words, line, declared)
        if count == declared:
            offset, lines = buf.first_non_space()
            if offset >= 0:
                at = f"byte {offset}" if binary else f"line {line + lines}"
                raise VectorFileError(f"{name}: {at}: more data after the {declared} vectors its header declares")
    keys = words.decode(name, where, unicode_errors, binary)
    return keys, out


# --------------------------------------------------------------------------
# writing


_COMPRESSORS = {
    ".gz": lambda raw: gzip.GzipFile(fileobj=raw, mode="wb"),
    ".bz2": lambda raw: bz2.BZ2File(raw, "wb"),
    ".xz": lambda raw: lzma.LZMAFile(raw, "wb"),
}
_WRITE_ROWS = 1 << 10  # rows formatted per write call


@contextlib.contextmanager
def _compressing(path, raw):
    """`raw` itself, or a compressor writing into it when `path` ends in .gz, .bz2 or .xz."""
    compressor = _COMPRESSORS.get(Path(path).suffix)
    if compressor is None:
        yield raw
    else:
        with compressor(raw) as f:
            yield f


def _check_words(words, binary):
    """Refuse words the format cannot store: empty ones, and ones holding a
    separator (a space or newline in binary files, any ASCII whitespace in text)."""
    banned = " \n" if binary else " \t\n\r\x0b\x0c"
    joined = "".join(words)
    for c in banned:
        if c in joined:
            bad = next(w for w in words if c in w)
            raise ValueError(f"cannot write word {bad!r}: it contains {c!r}")
    if "" in words:
        raise ValueError("cannot write an empty word")


def _write_binary(f, words, vectors):
    for lo in range(0, len(words), _WRITE_ROWS):
        block = np.ascontiguousarray(vectors[lo:lo + _WRITE_ROWS], dtype="<f4")
        data = memoryview(block).cast("B")
        step = 4 * block.shape[1]
        parts = []
        for i, word in enumerate(words[lo:lo + _WRITE_ROWS]):
            parts += (word.encode(), b" ", data[i * step:(i + 1) * step], b"\n")
        f.write(b"".join(parts))


def _write_text(f, words, vectors, value_format):
    """Lines formatted a row at a time in Python, or, for the C tool's "%f"
    of float32 vectors, by the numba formatter (ten times faster)."""
    line_format = "%s " + (value_format + " ") * vectors.shape[1] + "\n"
    if value_format != "%f" or vectors.dtype != np.float32:
        for lo in range(0, len(words), _WRITE_ROWS):
            rows = vectors[lo:lo + _WRITE_ROWS].tolist()
            f.write("".join([line_format % (w, *row) for w, row in zip(words[lo:lo + _WRITE_ROWS], rows)]).encode())
        return
    out = np.empty(0, np.uint8)
    for lo in range(0, len(words), _WRITE_ROWS):
        encoded = [w.encode() for w in words[lo:lo + _WRITE_ROWS]]
        block = vectors[lo:lo + _WRITE_ROWS]
        ends = np.cumsum([len(w) for w in encoded])
        need = int(ends[-1]) + len(block) * (48 * block.shape[1] + 2)
        if len(out) < need:
            out = np.empty(need, np.uint8)
        data = np.frombuffer(b"".join(encoded), np.uint8)
        row = 0
        while row < len(block):
            n, row = _format_c_lines(block, row, data, ends, out)
            f.write(out[:n].data)
            if row < len(block):  # a value beyond the numba formatter
                f.write((line_format % (words[lo + row], *block[row].tolist())).encode())
                row += 1


def _value_format(precision, dtype):
    """printf format of one text value for `precision` (see save_word2vec_format)."""
    if precision is None:
        return "%f"
    if precision == "exact":
        return "%.9g" if dtype == np.float32 else "%.17g"
    if isinstance(precision, (int, np.integer)) and not isinstance(precision, bool) and precision >= 1:
        return f"%.{int(precision)}g"
    raise ValueError(f"precision must be None, 'exact' or a positive int, not {precision!r}")


# --------------------------------------------------------------------------
# KeyedVectors


def top_k(sims, k):
    """(indices, values) of the k largest entries of each row of `sims`,
    largest first; `sims` is overwritten.  Small k takes k argmax passes,
    several times faster than a partition."""
    n = sims.shape[1]
    k = min(k, n)
    if k > 16:
        idx = np.argpartition(sims, n - k, axis=1)[:, n - k:]
        order = np.argsort(-np.take_along_axis(sims, idx, axis=1), axis=1, kind="stable")
        idx = np.take_along_axis(idx, order, axis=1)
        return idx, np.take_along_axis(sims, idx, axis=1)
    rows = np.arange(len(sims))
    idx = np.empty((len(sims), k), np.int64)
    values = np.empty((len(sims), k), sims.dtype)
    for i in range(k):
        idx[:, i] = best = sims.argmax(axis=1)
        values[:, i] = sims[rows, best]
        sims[rows, best] = -np.inf
    return idx, values


def unit_rows(m):
    """Rows of `m` scaled to unit length; zero rows stay zero."""
    norms = np.linalg.norm(m, axis=-1, keepdims=True)
    norms[norms == 0] = 1
    return m / norms


_KEY_TYPES = (str, int, np.integer)  # what gensim takes as one key: a word or a row number


class KeyedVectors:
    """Words and their vectors, with cosine-similarity queries, shaped like
    gensim 4's KeyedVectors: the same method names, signatures, defaults and
    results on the same vectors.

    ``index_to_key[i]`` is the word of row ``vectors[i]``; ``key_to_index``
    maps back; ``counts`` holds corpus counts (gensim's ``get_vecattr(word,
    "count")``), or is None when unknown (vector files do not store them).
    Wherever gensim takes a key, a row number works too (``kv[0]``).  Queries
    use ``get_normed_vectors()``, a cached unit-length copy of ``vectors``,
    rebuilt when ``vectors`` is assigned or ``fill_norms(force=True)`` is
    called (not when it is modified in place).
    """

    def __init__(self, index_to_key: list[str], vectors: np.ndarray, counts: np.ndarray | None = None):
        index_to_key = list(index_to_key)
        key_to_index = dict(zip(index_to_key, range(len(index_to_key))))
        if len(key_to_index) != len(index_to_key):
            raise ValueError(f"word {_first_repeated(index_to_key)!r} appears more than once")
        if not all(isinstance(w, str) for w in index_to_key):
            raise TypeError("words must be str")
        self._setup(index_to_key, key_to_index, vectors, counts)

    def _setup(self, index_to_key, key_to_index, vectors, counts):
        self.index_to_key = index_to_key
        self.key_to_index = key_to_index
        self.vectors = vectors
        if counts is not None:
            counts = np.asarray(counts, dtype=np.int64)
            if counts.shape != (len(index_to_key),):
                raise ValueError(f"counts has shape {counts.shape}, expected ({len(index_to_key)},)")
        self.counts = counts

    @property
    def vectors(self) -> np.ndarray:
        return self._vectors

    @vectors.setter
    def vectors(self, value):
        value = np.asarray(value)
        if not np.issubdtype(value.dtype, np.floating):
            value = value.astype(np.float32)
        if value.ndim != 2 or len(value) != len(self.index_to_key):
            raise ValueError(f"vectors must have shape ({len(self.index_to_key)}, D), not {value.shape}")
        self._vectors = value
        self._norms = self._normed = None

    @property
    def vector_size(self) -> int:
        return self._vectors.shape[1]

    def __len__(self):
        return len(self.index_to_key)

    def __contains__(self, key):
        return self.has_index_for(key)

    def __repr__(self):
        return f"<KeyedVectors: {len(self)} words x {self.vector_size} {self._vectors.dtype}>"

    def get_index(self, key, default=None) -> int:
        """Row of `key` (a word, or a row number as gensim allows); `default`
        if given and the key is unknown, else KeyError."""
        i = self.key_to_index.get(key)
        if i is not None:
            return i
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool) and 0 <= key < len(self.index_to_key):
            return int(key)
        if default is not None:
            return default
        raise KeyError(f"word {key!r} not in vocabulary")

    def has_index_for(self, key) -> bool:
        """Whether `key` is a word (or row number) of these vectors."""
        return self.get_index(key, -1) >= 0

    def get_vector(self, key, norm=False) -> np.ndarray:
        """Read-only vector of `key`, unit-length with `norm`."""
        row = (self.get_normed_vectors() if norm else self._vectors)[self.get_index(key)]
        row.flags.writeable = False
        return row

    def __getitem__(self, keys):
        """Vector of a key (1-D, read-only), or rows for a list of keys (2-D copy)."""
        if isinstance(keys, _KEY_TYPES):
            return self.get_vector(keys)
        return self._vectors[[self.get_index(k) for k in keys]]

    def __setitem__(self, keys, vectors):
        """Add or replace vectors: ``kv[word] = vector``, ``kv[words] = rows``."""
        if not isinstance(keys, list):
            keys, vectors = [keys], np.asarray(vectors).reshape(1, -1)
        self.add_vectors(keys, vectors, replace=True)

    @property
    def norms(self) -> np.ndarray:
        """L2 norm of each vector (computed on first use; gensim's ``norms``
        after ``fill_norms()``).  Assign None after changing ``vectors`` in place."""
        self.fill_norms()
        return self._norms

    @norms.setter
    def norms(self, value):
        if value is not None:
            raise ValueError("norms are computed from the vectors; assign None to recompute them")
        self._norms = self._normed = None

    def fill_norms(self, force=False) -> None:
        """Compute the vector norms unless known; `force` recomputes them (and
        the unit vectors) after the vectors were changed in place."""
        if self._norms is None or force:
            v = self._vectors
            norms = np.empty(len(v), v.dtype)
            for lo in range(0, len(v), 1 << 16):  # bounded temporaries
                norms[lo:lo + (1 << 16)] = np.linalg.norm(v[lo:lo + (1 << 16)], axis=1)
            self._norms, self._normed = norms, None

    def get_normed_vectors(self) -> np.ndarray:
        """Read-only unit-length copy of `vectors` (zero vectors stay zero)."""
        if self._normed is None:
            self.fill_norms()
            norms = self._norms.copy()
            norms[norms == 0] = 1
            self._normed = self._vectors / norms[:, None]
            self._normed.flags.writeable = False
        return self._normed

    def get_vecattr(self, key, attr):
        """gensim's per-word attribute: only "count" (the corpus count) is kept."""
        if attr != "count":
            raise KeyError(f"fastw2v keeps only the 'count' attribute per word, not {attr!r}")
        if self.counts is None:
            raise KeyError("these vectors have no counts (word2vec vector files do not store them; "
                           "load_word2vec_format(..., fvocab=VOCAB_FILE) reads them)")
        return int(self.counts[self.get_index(key)])

    def set_vecattr(self, key, attr, val) -> None:
        """Set the "count" of `key` (the only per-word attribute kept)."""
        if attr != "count":
            raise KeyError(f"fastw2v keeps only the 'count' attribute per word, not {attr!r}")
        if self.counts is None:
            self.counts = np.zeros(len(self), np.int64)
        self.counts[self.get_index(key)] = val

    def add_vectors(self, keys, weights, extras=None, replace=False) -> None:
        """Append words and their vectors; a word already present keeps its
        vector unless `replace`.  `extras` may give {"count": counts}; new
        words count 0 otherwise (when counts are kept)."""
        if isinstance(keys, _KEY_TYPES):
            keys, weights = [keys], np.asarray(weights).reshape(1, -1)
        keys = list(keys)
        weights = np.asarray(weights)
        if weights.ndim != 2 or weights.shape != (len(keys), self.vector_size):
            raise ValueError(f"weights must have shape ({len(keys)}, {self.vector_size}), not {weights.shape}")
        extras = dict(extras or {})
        new_counts = extras.pop("count", None)
        if extras:
            raise ValueError(f"fastw2v keeps only the 'count' attribute per word, not {sorted(extras)}")
        if len(set(keys)) != len(keys):
            raise ValueError(f"word {_first_repeated(keys)!r} appears more than once")
        if not all(isinstance(k, str) for k in keys):
            raise TypeError("words must be str")
        known = np.array([k in self.key_to_index for k in keys], dtype=bool)
        fresh = [k for k, old in zip(keys, known) if not old]
        if new_counts is not None:
            new_counts = np.asarray(new_counts, dtype=np.int64).reshape(len(keys))
            if self.counts is None:
                self.counts = np.zeros(len(self), np.int64)
        if replace and known.any():
            self._vectors[[self.key_to_index[k] for k in np.array(keys, dtype=object)[known]]] = weights[known]
            if new_counts is not None:
                self.counts[[self.key_to_index[k] for k in np.array(keys, dtype=object)[known]]] = new_counts[known]
            self._norms = self._normed = None
        if fresh:
            for k in fresh:
                self.key_to_index[k] = len(self.index_to_key)
                self.index_to_key.append(k)
            if self.counts is not None:
                added = new_counts[~known] if new_counts is not None else np.zeros(len(fresh), np.int64)
                self.counts = np.concatenate([self.counts, added])
            self.vectors = np.vstack([self._vectors, weights[~known].astype(self._vectors.dtype)])

    def add_vector(self, key, vector) -> int:
        """Add one word (or replace nothing if present); returns its row."""
        self.add_vectors([key], np.asarray(vector).reshape(1, -1))
        return self.get_index(key)

    # ---- queries

    def _restrict(self, restrict_vocab):
        if restrict_vocab is None:
            return len(self)
        if restrict_vocab < 1:
            raise ValueError(f"restrict_vocab must be a positive integer or None, not {restrict_vocab}")
        return min(int(restrict_vocab), len(self))

    def _as_vector(self, item):
        v = np.asarray(item, dtype=np.float64)
        if v.shape != (self.vector_size,):
            raise ValueError(f"query vector has shape {v.shape}, expected ({self.vector_size},)")
        return v

    def _terms(self, positive, negative):
        """[(word or raw vector, weight)] from most_similar-style arguments:
        a key, a vector, or a list of keys, vectors and (item, weight) pairs;
        keys given as row numbers become their words."""
        terms = []
        for items, sign in ((positive, 1.0), (negative, -1.0)):
            if items is None:
                continue
            if isinstance(items, _KEY_TYPES) or (isinstance(items, np.ndarray) and items.ndim == 1):
                items = [items]
            for item in items:
                if isinstance(item, tuple):
                    item, weight = item
                else:
                    weight = sign
                if isinstance(item, _KEY_TYPES):
                    item = self.index_to_key[self.get_index(item)]
                else:
                    item = self._as_vector(item)
                terms.append((item, float(weight)))
        if not terms:
            raise ValueError("cannot compute similarity with no input")
        return terms

    def _nearest(self, queries, topn, restrict, exclude):
        """Top-`topn` (word, cosine) lists for unit query rows, skipping the
        rows listed in `exclude[i]` for query i; one matrix product per block."""
        normed = self.get_normed_vectors()[:restrict]
        queries = np.asarray(queries, dtype=normed.dtype)
        step = max(1, BLOCK_ELEMENTS // max(restrict, 1))
        results = []
        for lo in range(0, len(queries), step):
            sims = queries[lo:lo + step] @ normed.T
            for i, rows in enumerate(exclude[lo:lo + step]):
                sims[i, [r for r in rows if r < restrict]] = -np.inf
            top, values = top_k(sims, topn)
            for idx, vals in zip(top.tolist(), values.tolist()):
                results.append([(self.index_to_key[j], v) for j, v in zip(idx, vals) if v != -np.inf])
        return results

    def most_similar(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """Words nearest by cosine to the normalised weighted mean of the
        query (3CosAdd): words' unit vectors count with weight +1 (positive)
        or -1 (negative), raw vectors as given; (item, weight) pairs set the
        weight.  Query words are never answered.  Only the first
        `restrict_vocab` words are searched.  Returns [(word, cosine)], or all
        cosines as an array when topn is None."""
        terms = self._terms(positive, negative)
        normed = self.get_normed_vectors()
        mean = np.zeros(self.vector_size)
        for item, weight in terms:
            mean += weight * (normed[self.key_to_index[item]] if isinstance(item, str) else item)
        query = unit_rows(mean)
        restrict = self._restrict(restrict_vocab)
        if topn is None:
            return normed[:restrict] @ query.astype(normed.dtype)
        if topn < 1:
            return []
        exclude = [self.key_to_index[item] for item, _ in terms if isinstance(item, str)]
        return self._nearest(query[None], topn, restrict, [exclude])[0]

    def most_similar_batch(self, queries, topn=10, restrict_vocab=None, exclude=None):
        """Nearest words for many queries at once: `queries` is a 2-D array of
        vectors, or a list whose entries are a word or a list of words (their
        unit vectors summed, like the C tool's `distance`; those words are
        excluded from the answers).  `exclude` optionally lists words to skip
        for each query.  Returns one [(word, cosine)] list per query."""
        if isinstance(queries, np.ndarray):
            if queries.ndim != 2 or queries.shape[1] != self.vector_size:
                raise ValueError(f"queries must have shape (n, {self.vector_size}), not {queries.shape}")
            matrix = unit_rows(queries.astype(np.float64))
            skip = [[] for _ in range(len(queries))]
        else:
            normed = self.get_normed_vectors()
            skip = [[self.get_index(w) for w in ([q] if isinstance(q, str) else q)] for q in queries]
            matrix = np.zeros((len(skip), self.vector_size))
            for i, rows in enumerate(skip):
                if not rows:
                    raise ValueError(f"query {i} holds no word")
                matrix[i] = normed[rows].sum(axis=0)
            matrix = unit_rows(matrix)
        if exclude is not None:
            if len(exclude) != len(skip):
                raise ValueError(f"exclude has {len(exclude)} entries for {len(skip)} queries")
            skip = [rows + [self.get_index(w) for w in words] for rows, words in zip(skip, exclude)]
        if topn < 1:
            return [[] for _ in skip]
        return self._nearest(matrix, topn, self._restrict(restrict_vocab), skip)

    def most_similar_cosmul(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """Words maximising 3CosMul (Levy & Goldberg 2014, eq. 4): the product
        of (1 + cos)/2 to each positive term over the product of (1 + cos)/2 to
        each negative term plus 1e-6.  Raw vectors are normalised first.
        Query words are never answered.  Returns [(word, score)], or all scores
        as an array when topn is None."""
        terms = self._terms(positive, negative)
        if all(weight < 0 for _, weight in terms):
            raise ValueError("most_similar_cosmul needs at least one positive term")
        normed = self.get_normed_vectors()
        restrict = self._restrict(restrict_vocab)
        matrix = np.stack([normed[self.key_to_index[item]] if isinstance(item, str) else unit_rows(item)
                           for item, _ in terms]).astype(normed.dtype)
        shifted = (1 + normed[:restrict] @ matrix.T) / 2
        pos = np.array([weight > 0 for _, weight in terms])
        scores = np.prod(shifted[:, pos], axis=1) / (np.prod(shifted[:, ~pos], axis=1) + 1e-6)
        if topn is None:
            return scores
        if topn < 1:
            return []
        exclude = [self.key_to_index[item] for item, _ in terms if isinstance(item, str)]
        scores[[r for r in exclude if r < restrict]] = -np.inf
        top, values = top_k(scores[None], topn)
        return [(self.index_to_key[j], v) for j, v in zip(top[0].tolist(), values[0].tolist()) if v != -np.inf]

    def similar_by_key(self, key, topn=10, restrict_vocab=None):
        """most_similar(positive=[key], ...)."""
        return self.most_similar(positive=[key], topn=topn, restrict_vocab=restrict_vocab)

    similar_by_word = similar_by_key

    def similar_by_vector(self, vector, topn=10, restrict_vocab=None):
        """Words nearest by cosine to a raw vector (nothing excluded)."""
        return self.most_similar(positive=[vector], topn=topn, restrict_vocab=restrict_vocab)

    def similarity(self, w1, w2) -> float:
        """Cosine similarity of two words."""
        normed = self.get_normed_vectors()
        return float(normed[self.get_index(w1)] @ normed[self.get_index(w2)])

    def distance(self, w1, w2) -> float:
        """Cosine distance, 1 - similarity(w1, w2)."""
        return 1.0 - self.similarity(w1, w2)

    @staticmethod
    def cosine_similarities(vector_1, vectors_all) -> np.ndarray:
        """Cosine of `vector_1` with each row of `vectors_all`."""
        return unit_rows(np.asarray(vectors_all)) @ unit_rows(np.asarray(vector_1))

    def distances(self, word_or_vector, other_words=()) -> np.ndarray:
        """Cosine distances from a word or vector to each of `other_words`
        (to every word, itself included, when none are given)."""
        if isinstance(word_or_vector, _KEY_TYPES):
            query = self.get_normed_vectors()[self.get_index(word_or_vector)]
        else:
            query = unit_rows(self._as_vector(word_or_vector)).astype(self._vectors.dtype)
        normed = self.get_normed_vectors()
        if len(other_words):
            normed = normed[[self.get_index(w) for w in other_words]]
        return 1 - normed @ query

    def closer_than(self, key1, key2) -> list:
        """The words closer to `key1` than `key2` is (by cosine), `key1` left out."""
        distances = self.distances(key1)
        first = self.get_index(key1)
        closer = np.flatnonzero(distances < distances[self.get_index(key2)])
        return [self.index_to_key[i] for i in closer.tolist() if i != first]

    def rank(self, key1, key2) -> int:
        """Rank of `key2` among the words nearest to `key1` (1 = nearest)."""
        return len(self.closer_than(key1, key2)) + 1

    def get_mean_vector(self, keys, weights=None, pre_normalize=True, post_normalize=False,
                        ignore_missing=True) -> np.ndarray:
        """Weighted mean of the keys' vectors (unit vectors with
        pre_normalize; raw vectors among the keys are taken as they are),
        divided by the sum of the absolute weights; unit-length with
        post_normalize.  Unknown keys are skipped unless ignore_missing is False."""
        if len(keys) == 0:
            raise ValueError("cannot compute mean with no input")
        weights = np.ones(len(keys)) if weights is None else np.asarray(weights, dtype=np.float64)
        if weights.shape != (len(keys),):
            raise ValueError("keys and weights array must have same number of elements")
        source = self.get_normed_vectors() if pre_normalize else self._vectors
        mean = np.zeros(self.vector_size)
        total = 0.0
        for key, weight in zip(keys, weights.tolist()):
            if isinstance(key, np.ndarray):
                mean += weight * self._as_vector(key)
            elif self.has_index_for(key):
                mean += weight * source[self.get_index(key)]
            elif ignore_missing:
                continue
            else:
                raise KeyError(f"word {key!r} not in vocabulary")
            total += abs(weight)
        if total > 0:
            mean /= total
        return (unit_rows(mean) if post_normalize else mean).astype(self._vectors.dtype)

    def n_similarity(self, ws1, ws2) -> float:
        """Cosine similarity of the means of two lists of words' raw vectors
        (unknown words are skipped, as gensim does)."""
        if not (len(ws1) and len(ws2)):
            raise ZeroDivisionError("At least one of the passed list is empty.")
        means = [unit_rows(self.get_mean_vector(ws, pre_normalize=False).astype(np.float64)) for ws in (ws1, ws2)]
        return float(means[0] @ means[1])

    def doesnt_match(self, words) -> str:
        """The word furthest (by cosine) from the normalised mean of the words'
        unit vectors; unknown words are left out with a warning, as gensim does."""
        words = list(words)
        known = [w for w in words if self.has_index_for(w)]
        if len(known) < len(words):
            warnings.warn(f"words not in the vocabulary, ignored: {sorted(set(words) - set(known), key=str)}",
                          stacklevel=2)
        if not known:
            raise ValueError("cannot select a word from an empty list")
        rows = self.get_normed_vectors()[[self.get_index(w) for w in known]]
        sims = rows @ unit_rows(rows.mean(axis=0))
        return known[int(np.argmin(sims))]

    # ---- evaluation

    def evaluate_word_analogies(self, analogies, restrict_vocab=300000, case_insensitive=True, dummy4unknown=False,
                                similarity_function="most_similar"):
        """Analogy accuracy, as gensim computes and returns it: (score, sections);
        see fastw2v.evaluate.evaluate_word_analogies."""
        from .evaluate import evaluate_word_analogies

        return evaluate_word_analogies(self, analogies, restrict_vocab, case_insensitive, dummy4unknown,
                                       similarity_function)

    def evaluate_word_pairs(self, pairs, delimiter="\t", encoding="utf8", restrict_vocab=300000,
                            case_insensitive=True, dummy4unknown=False):
        """Word-pair similarity correlations, as gensim computes and returns
        them: (pearson, spearman, oov_ratio); see fastw2v.evaluate.evaluate_word_pairs."""
        from .evaluate import evaluate_word_pairs

        return evaluate_word_pairs(self, pairs, delimiter, encoding, restrict_vocab, case_insensitive, dummy4unknown)

    # ---- gensim

    def to_gensim(self):
        """These vectors as a gensim KeyedVectors (sharing the vectors array,
        with the counts as its "count" attribute when known)."""
        from gensim.models import KeyedVectors as GensimKeyedVectors

        kv = GensimKeyedVectors(self.vector_size, count=0, dtype=self._vectors.dtype)
        kv.index_to_key = list(self.index_to_key)
        kv.key_to_index = dict(self.key_to_index)
        kv.vectors = self._vectors
        kv.next_index = len(self)
        if self.counts is not None:
            kv.allocate_vecattrs(["count"], [np.int64])
            kv.expandos["count"][:] = self.counts
        return kv

    @classmethod
    def from_gensim(cls, kv) -> "KeyedVectors":
        """The vectors of a gensim KeyedVectors (or of a gensim model's
        ``.wv``), sharing its vectors array; its "count" attribute becomes
        ``counts``."""
        kv = getattr(kv, "wv", kv)
        counts = getattr(kv, "expandos", {}).get("count")
        if counts is not None and counts.dtype == object:  # gensim leaves None for words a vocab file lacks
            counts = None if any(c is None for c in counts) else counts.astype(np.int64)
        return cls(kv.index_to_key, kv.vectors, counts)

    # ---- files

    @classmethod
    def load_word2vec_format(cls, path, fvocab=None, binary=None, encoding="utf8", unicode_errors="strict",
                             limit=None, dtype=np.float32, no_header=None, *, datatype=None) -> "KeyedVectors":
        """Read a word2vec text or binary file, or a GloVe (header-less text)
        file (gensim's parameters, in gensim's order).

        fvocab: a "word count" file (the C tool's -save-vocab, gensim's
        fvocab) giving the counts.  binary: None detects the format from the
        first record.  encoding: UTF-8 only.  unicode_errors: 'strict' (an
        undecodable word is an error naming its byte offset or line),
        'replace' or 'ignore' (for words the C tool cut inside a multi-byte
        character).  limit: read only the first N vectors.  dtype (gensim's
        datatype): float32 or float64.  no_header: None detects a 'V D' first
        line; True reads a GloVe file.  xz, gzip and bzip2 files are
        decompressed.  A file that cannot be read whole (truncated, count or
        dimension not as the header says, a value that is not a number)
        raises VectorFileError naming the file and line or byte offset.  A
        word repeated in the file keeps its first vector, with a warning.
        """
        dtype = _one_spelling("dtype", dtype, np.float32, "datatype", datatype)
        if str(encoding).lower().replace("-", "") != "utf8":
            raise ValueError(f"encoding must be 'utf8' (word2vec files are UTF-8), not {encoding!r}")
        name = os.fspath(path)
        words, vectors = read_word2vec(path, binary, limit, unicode_errors, no_header, dtype)
        key_to_index = dict(zip(words, range(len(words))))
        if len(key_to_index) < len(words):
            first = {}
            for i, w in enumerate(words):
                first.setdefault(w, i)
            warnings.warn(f"{name}: {len(words) - len(first)} repeated words; kept the first vector of each",
                          stacklevel=2)
            vectors = vectors[np.fromiter(first.values(), np.int64, len(first))]
            words = list(first)
            key_to_index = dict(zip(words, range(len(words))))
        kv = cls.__new__(cls)
        kv._setup(words, key_to_index, vectors, None if fvocab is None else _read_counts(fvocab, words))
        return kv

    def save_word2vec_format(self, path, fvocab=None, binary=False, *, precision=None, write_header=True,
                             outputs=None):
        """Write the vectors as the word2vec C tool does, replacing `path` only
        once the whole file is written (compressed when it ends in .gz, .bz2, .xz).

        fvocab: also write the counts there as "word count" lines (gensim's
        fvocab, the C tool's -save-vocab).  binary (False, as in gensim):
        header "V D\\n", then per word its UTF-8 bytes, a space, D
        little-endian float32 and "\\n".  Text: the header, then per word the
        word and each value followed by a space, then "\\n".  precision (text
        only): None writes values as the C tool's "%lf" (6 digits after the
        point); 'exact' writes enough significant digits to read back the
        same values ("%.9g" for float32 vectors, "%.17g" for float64); an int
        n writes n significant digits ("%.{n}g").  write_header=False writes
        a GloVe file (text only).  With `outputs` (a files.OutputSet) the file
        is staged there, to appear with the set's other outputs.
        """
        binary = bool(binary)
        if binary and not write_header:
            raise ValueError("binary files need their header: write_header=False is for text files")
        if fvocab is not None and self.counts is None:
            raise ValueError("cannot write fvocab: these vectors have no counts")
        value_format = _value_format(precision, self._vectors.dtype)
        _check_words(self.index_to_key, binary)
        with output_file(path, outputs) as raw, _compressing(path, raw) as f:
            if write_header:
                f.write(f"{len(self)} {self.vector_size}\n".encode())
            if binary:
                _write_binary(f, self.index_to_key, self._vectors)
            else:
                _write_text(f, self.index_to_key, self._vectors, value_format)
        if fvocab is not None:
            from .vocab import Vocabulary

            Vocabulary(self.index_to_key, self.counts, self.key_to_index).save(fvocab)

    def save(self, path) -> None:
        """Write words, vectors and counts to a fastw2v vectors file (a
        versioned .npz archive without pickles; gensim's save writes a pickle)."""
        from .modelfile import save_vectors

        save_vectors(self, path)

    @classmethod
    def load(cls, path, mmap=None) -> "KeyedVectors":
        """Read a file written by save(); mmap='r' maps the vectors read-only
        from the file instead of reading them (gensim's mmap)."""
        from .modelfile import load_vectors

        words, vectors, counts = load_vectors(path, mmap)
        kv = cls.__new__(cls)
        kv._setup(words, dict(zip(words, range(len(words)))), vectors, counts)
        return kv


def _first_repeated(words):
    seen = set()
    return next(w for w in words if w in seen or seen.add(w))


def _one_spelling(name, value, default, other_name, other):
    """The value of a parameter that has a second (gensim) spelling; giving both is an error."""
    if other is None:
        return value
    if value is not default and value is not None:
        raise TypeError(f"give {name} or {other_name}, not both (they are the same parameter)")
    return other


def _read_counts(path, words):
    """Counts of `words` from a "word count" file; words it lacks count 0, with a warning."""
    from .vocab import Vocabulary

    known = Vocabulary.load(path)
    counts = np.array([known.counts[known.key_to_index[w]] if w in known.key_to_index else -1 for w in words],
                      dtype=np.int64)
    missing = int((counts < 0).sum())
    if missing:
        warnings.warn(f"{os.fspath(path)}: {missing} words have no count there; counted 0", stacklevel=3)
        counts[counts < 0] = 0
    return counts
