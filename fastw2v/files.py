"""File access shared by every reader and writer: which inputs are read, how
they are opened, and outputs that appear whole or not at all.

Inputs.  A corpus argument names a file, a directory or ``-`` (standard
input).  A directory contributes its regular files sorted by name; it is not
searched recursively, and hidden files (``.name``) and editor or backup
files (``name~``, ``#name#``, ``*.bak``, ``*.swp``, ``*.tmp``) are skipped.
A file that is not a regular file (a pipe, a FIFO, ``/dev/stdin``, a shell
process substitution ``<(...)``) is a *stream*: it can be read once only,
front to back.  Every input is opened once and read once: its first bytes
are read to recognise xz, gzip or bzip2 content and then handed to the
decompressor together with the rest of the stream, never read again (a
reopened pipe had silently lost what the sniffing read, up to 8 KiB).

Outputs.  A file is written under a temporary name in its final directory,
flushed to disk and renamed over the target, so a failure or a signal never
leaves a partial file.  Written through a symbolic link, the link's target is
replaced and the link kept.  A new file gets the permissions ``open()``
would give it (0666 less the umask); a replaced file keeps its own.
``OutputSet`` stages several outputs and renames them together at the end,
so a run that stops early leaves every earlier output untouched.  A large
output written in pieces can start each piece's writeback as it goes
(``start_writeback``), so that the final fsync waits for the last pieces
only: for an 80 MB corpus file, written 1 MB at a time, writing and fsync
took 0.033-0.037 s against 0.051-0.052 s with all of the fsync at the end
(4 alternating runs on this machine's disk); in `fastw2v encode` of 200M
tokens (800 MB) the fsync went from 0.44 to 0.05 s (bench.scan --phases).
"""
from __future__ import annotations

import bz2
import contextlib
import ctypes
import functools
import gzip
import io
import lzma
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

STDIN = "-"
READ_BYTES = 1 << 20  # buffer of a stream's reader

_MAGIC = ((b"\xfd7zXZ\x00", lzma.LZMAFile), (b"\x1f\x8b", lambda f: gzip.GzipFile(fileobj=f, mode="rb")),
          (b"BZh", bz2.BZ2File))
_SNIFF_BYTES = max(len(m) for m, _ in _MAGIC)
_BACKUP_SUFFIXES = ("~", ".bak", ".swp", ".tmp")


class InputError(ValueError):
    """An input or output path that cannot be used (a usage error)."""


class MissingInputError(InputError, FileNotFoundError):
    """An input path that does not exist (also a FileNotFoundError, as
    Python's own readers raise for one)."""


@dataclass(frozen=True)
class Input:
    """One file to read: ``path`` ("-" for standard input), whether it is a
    regular file (which may be read in parallel byte ranges) and its size."""

    path: str
    regular: bool
    size: int

    @property
    def name(self) -> str:
        return "standard input" if self.path == STDIN else self.path


def is_skipped_in_directory(name: str) -> bool:
    """Hidden, editor and backup files of a corpus directory are not read."""
    return (name.startswith(".") or name.endswith(_BACKUP_SUFFIXES)
            or (name.startswith("#") and name.endswith("#")))


def _input(path: str) -> Input:
    if path == STDIN:
        try:
            os.fstat(0)
        except OSError:
            raise InputError("standard input is closed") from None
        return Input(STDIN, False, 0)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise MissingInputError(f"{path}: no such file or directory") from None
    except OSError as e:
        raise InputError(f"{path}: {e.strerror}") from None
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: file is not readable")
    return Input(path, stat.S_ISREG(st.st_mode), st.st_size if stat.S_ISREG(st.st_mode) else 0)


def expand_inputs(paths) -> list[Input]:
    """The files to read, in order: each file as given, each directory's
    regular files sorted by name (see the module docstring for the rules)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    inputs = []
    for given in map(os.fspath, paths):
        if given != STDIN and os.path.isdir(given):
            names = sorted(os.listdir(given))
            inner = [os.path.join(given, n) for n in names if not is_skipped_in_directory(n)]
            inner = [p for p in inner if os.path.isfile(p)]
            if not inner:
                raise InputError(f"{given}: directory contains no files to read")
            inputs.extend(_input(p) for p in inner)
        else:
            inputs.append(_input(given))
    if not inputs:
        raise InputError("no input files given")
    seen = set()
    for inp in inputs:
        if not inp.regular:
            key = inp.path if inp.path == STDIN else os.path.realpath(inp.path)
            if key in seen:
                raise InputError(f"{inp.name} is given twice, but a stream can be read only once")
            seen.add(key)
    return inputs


class _Rejoined(io.RawIOBase):
    """The bytes already read from a stream, followed by the rest of it."""

    def __init__(self, head: bytes, rest):
        self._head = memoryview(head)
        self._rest = rest

    def readable(self):
        return True

    def readinto(self, buffer):
        if len(self._head):
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        return self._rest.readinto(buffer)

    def close(self):
        self._rest.close()
        super().close()


def _read_head(f, n: int) -> bytes:
    """Up to n first bytes of f (fewer only at the end of the data)."""
    head = b""
    while len(head) < n:
        chunk = f.read(n - len(head))
        if not chunk:
            break
        head += chunk
    return head


def _decompressor(head: bytes):
    for magic, opener in _MAGIC:
        if head.startswith(magic):
            return opener
    return None


class InputReader(io.BufferedIOBase):
    """A binary reader of one input's data, decompressed when it is xz, gzip
    or bzip2 (judged by content).  Every byte of a stream is delivered once:
    the bytes read to recognise the format are handed on, never re-read."""

    def __init__(self, inp: Input | str):
        self.input = inp if isinstance(inp, Input) else _input(os.fspath(inp))
        try:
            self._raw = os.fdopen(os.dup(0), "rb", buffering=0) if self.input.path == STDIN \
                else open(self.input.path, "rb", buffering=0)
        except OSError as e:
            raise InputError(f"{self.input.name}: {e.strerror}") from None
        head = _read_head(self._raw, _SNIFF_BYTES)
        self.head = head
        if self.input.regular:
            self._raw.seek(0)
            self._reader = io.BufferedReader(self._raw, READ_BYTES)
        else:
            self._reader = io.BufferedReader(_Rejoined(head, self._raw), READ_BYTES)
        opener = _decompressor(head)
        self.compressed = opener is not None
        self._data = opener(self._reader) if opener else self._reader

    def readable(self):
        return True

    def seekable(self):
        return self.input.regular and not self.compressed

    def seek(self, offset, whence=io.SEEK_SET):
        if not self.seekable():
            raise io.UnsupportedOperation(f"{self.input.name}: cannot seek in a stream or compressed data")
        return self._data.seek(offset, whence)

    def read(self, size=-1):
        return self._data.read(size)

    def read1(self, size=-1):
        return self._data.read1(size)

    def readinto(self, buffer):
        return self._data.readinto(buffer)

    def readline(self, size=-1):
        return self._data.readline(size)

    def close(self):
        if not self.closed:
            try:
                self._data.close()
            finally:
                self._reader.close()
                self._raw.close()
                super().close()


def open_binary(inp: Input | str) -> InputReader:
    """Open a file, a stream or standard input ("-") for reading its
    (decompressed) bytes; see InputReader."""
    return InputReader(inp)


def is_compressed(inp: Input) -> bool:
    """Whether a regular file holds xz, gzip or bzip2 data (by its first bytes)."""
    with open(inp.path, "rb") as f:
        return _decompressor(f.read(_SNIFF_BYTES)) is not None


# --------------------------------------------------------------------------
# outputs


def _umask() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no /proc: read it by setting it (and back)
    os.umask(mask)
    return mask


def _target(path) -> Path:
    """The file a write to `path` replaces: a symbolic link's target."""
    return Path(os.path.realpath(path))


def _new_file_mode(target: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


_SYNC_FILE_RANGE_WRITE = 2
_FALLOC_FL_KEEP_SIZE, _FALLOC_FL_PUNCH_HOLE = 1, 2


@functools.cache
def _libc_function(name: str, *argtypes):
    """The C library's function `name` taking argtypes and returning int, or
    None where it has none."""
    function = getattr(ctypes.CDLL(None, use_errno=True), name, None)
    if function is not None:
        function.argtypes = argtypes
        function.restype = ctypes.c_int
    return function


def start_writeback(fd: int, offset: int, nbytes: int) -> None:
    """Start writing bytes [offset, offset + nbytes) of fd to disk without
    waiting for them, so that a later fsync has less left to wait for.  Only
    a hint: where it is not available, or fails, the fsync does it all."""
    function = _libc_function("sync_file_range", ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    if function is not None:
        function(fd, offset, nbytes, _SYNC_FILE_RANGE_WRITE)


def release_file_range(fd: int, offset: int, nbytes: int) -> bool:
    """Free the pages of bytes [offset, offset + nbytes) of an open file that
    will not be read again (fallocate PUNCH_HOLE: the range reads back as
    zeros, the file keeps its size); whether it was done (not where the
    system or the file system cannot)."""
    if nbytes <= 0:
        return False
    function = _libc_function("fallocate", ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64)
    return function is not None and function(fd, _FALLOC_FL_KEEP_SIZE | _FALLOC_FL_PUNCH_HOLE, offset, nbytes) == 0


def _fsync_directory(directory) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class OutputSet:
    """Outputs written to temporary files and renamed into place together by
    ``commit``; ``discard`` (or an exception inside ``with``) removes them."""

    def __init__(self):
        self._staged: list[tuple[str, Path]] = []

    @contextlib.contextmanager
    def open(self, path):
        """A binary file for `path`, staged (not yet visible) when the block ends."""
        target = _target(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            os.fchmod(fd, _new_file_mode(target))
            with os.fdopen(fd, "wb") as f:
                yield f
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._staged.append((tmp, target))

    def staged_path(self, path) -> str:
        """Where the staged (not yet committed) file for `path` can be read."""
        target = _target(path)
        for tmp, staged in self._staged:
            if staged == target:
                return tmp
        raise KeyError(f"{path} is not staged")

    def commit(self) -> None:
        for tmp, target in self._staged:
            os.replace(tmp, target)
        for directory in {target.parent for _, target in self._staged}:
            _fsync_directory(directory)
        self._staged.clear()

    def discard(self) -> None:
        for tmp, _ in self._staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        self._staged.clear()

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self.commit()
        else:
            self.discard()


@contextlib.contextmanager
def atomic_output(path):
    """Yield a binary file that replaces `path` only once fully written and
    fsynced: a crash or an exception at any point leaves the old file or none."""
    with OutputSet() as outputs, outputs.open(path) as f:
        yield f


@contextlib.contextmanager
def output_file(path, outputs: OutputSet | None = None):
    """A binary file for `path`: staged in `outputs` (renamed with the others
    at its commit) when given, else written atomically now."""
    if outputs is None:
        with atomic_output(path) as f:
            yield f
    else:
        with outputs.open(path) as f:
            yield f


def check_writable(path) -> None:
    """Fail before training, not after, if `path` cannot be written."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected an output file path")
    directory = _target(path).parent
    if not directory.is_dir():
        raise InputError(f"{path.parent if str(path.parent) else '.'}: output directory does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError(f"{directory}: output directory is not writable")


def check_distinct_paths(inputs, outputs: dict) -> None:
    """Usage errors, before any work, for an output that is also an input or
    two outputs on one file.  `outputs` maps option names to paths (None: unused)."""
    read = {}
    for inp in inputs:
        if inp.path != STDIN:
            read.setdefault(os.path.realpath(inp.path), inp.path)
    written = {}
    for option, path in outputs.items():
        if path is None:
            continue
        target = os.path.realpath(path)
        if target in read:
            raise InputError(f"{option} {path} is also an input: choose another output path")
        if target in written:
            raise InputError(f"{written[target]} and {option} name the same file {path}: "
                             f"give each output its own path")
        written[target] = option
