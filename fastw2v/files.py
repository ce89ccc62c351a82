"""File access shared by every reader and writer: input discovery, transparent
decompression, and atomic output (temporary file, fsync, rename)."""
from __future__ import annotations

import bz2
import contextlib
import gzip
import lzma
import os
import tempfile
from pathlib import Path


class InputError(ValueError):
    """An input path that cannot be read as a corpus."""


_MAGIC = ((b"\xfd7zXZ\x00", lzma.open), (b"\x1f\x8b", gzip.open), (b"BZh", bz2.open))


def expand_inputs(paths) -> list[Path]:
    """Files to read, in order: each file as given, each directory's regular
    files sorted by name (not recursive, hidden files skipped)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files = []
    for p in map(Path, paths):
        if p.is_dir():
            inner = sorted(q for q in p.iterdir() if q.is_file() and not q.name.startswith("."))
            if not inner:
                raise InputError(f"{p}: directory contains no files")
            files.extend(inner)
        elif p.exists():
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or directory")
    if not files:
        raise InputError("no input files given")
    for f in files:
        if not os.access(f, os.R_OK):
            raise InputError(f"{f}: file is not readable")
    return files


def _magic_opener(path):
    with open(path, "rb") as f:
        head = f.read(6)
    for magic, opener in _MAGIC:
        if head.startswith(magic):
            return opener
    return None


def is_compressed(path) -> bool:
    """Whether the file is xz, gzip or bzip2 (judged by its first bytes)."""
    try:
        return _magic_opener(path) is not None
    except OSError:
        return False


def open_binary(path):
    """Open a file for reading bytes, decompressing xz, gzip or bzip2 by content."""
    path = Path(path)
    try:
        opener = _magic_opener(path)
    except OSError as e:
        raise InputError(f"{path}: {e.strerror}") from None
    return opener(path, "rb") if opener else open(path, "rb")


@contextlib.contextmanager
def atomic_output(path):
    """Yield a binary file that replaces `path` only once fully written and fsynced.

    A crash or an exception at any point leaves either the old file or none;
    never a partial one.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def check_writable(path) -> None:
    """Fail before training, not after, if `path` cannot be written."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected an output file path")
    if not directory.is_dir():
        raise InputError(f"{directory}: output directory does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError(f"{directory}: output directory is not writable")
