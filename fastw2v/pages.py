"""Handing back the compiler's pages once the kernels are loaded.

Numba runs the kernels as machine code in the process's own memory, but to
load them (from its on-disk cache, or by compiling) it runs LLVM, a shared
library of about 100 MB.  Its code and read-only data are clean pages of a
file: touched once, they count in the resident set that top and
/usr/bin/time -v show, although they sit in the page cache, are shared with
every process that maps the library and can be dropped at no cost.  Measured
on the 2-core machine (llvmlite 0.46, 71k words, dim 100): importing numba
leaves 40 MB of them resident, loading the first cached kernel 28 MB more,
and the 25M- and 200M-token CBOW runs peaked at 243-245 MB, of which 93 MB
were file-backed, against gensim's 184 MB (41 MB file-backed;
bench/results/memory-split.md).

release_compiler_pages() unmaps them (madvise MADV_DONTNEED, Linux only;
elsewhere it does nothing): the training driver calls it before it makes the
corpus and the weights, and again after loading the kernels, so that the
compiler's pages do not add to the weights at the peak.  A later compile
maps back what it touches from the page cache (minor page faults, no disk
read).  Only mappings without a private copy are released: the pages the
dynamic loader wrote (relocations) are the process's own and stay.
"""
from __future__ import annotations

import ctypes
import sys

MADV_DONTNEED = 4
COMPILER_LIBRARY = "libllvmlite"


def clean_mappings(name: str) -> list[tuple[int, int, int]]:
    """(start, end, resident bytes) of this process's read-only mappings of
    files whose path contains `name` and that hold no private (written)
    page, from /proc/self/smaps."""
    found = []
    current = None  # [start, end, resident, private] of a matching mapping
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            if line[0] in "0123456789abcdef":  # a mapping's header: range, permissions, offset, device, inode, path
                if current is not None and not current[3]:
                    found.append(tuple(current[:3]))
                fields = line.split(maxsplit=5)
                current = None
                if len(fields) == 6 and name in fields[5] and "w" not in fields[1]:
                    start, end = (int(x, 16) for x in fields[0].split("-"))
                    current = [start, end, 0, False]
            elif current is not None:
                if line.startswith("Rss:"):
                    current[2] = int(line.split()[1]) * 1024
                elif line.startswith("Anonymous:"):
                    current[3] = int(line.split()[1]) > 0
    if current is not None and not current[3]:
        found.append(tuple(current[:3]))
    return found


def release_file_pages(name: str) -> int:
    """Unmap the resident pages of clean_mappings(name) and return the heap's
    free pages to the system (malloc_trim); returns how many bytes of the
    mappings were resident (0 where this is not Linux or smaps is unreadable)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        mappings = clean_mappings(name)
    except OSError:
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    libc.malloc_trim(0)
    madvise = libc.madvise
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    released = 0
    for start, end, resident in mappings:
        if resident and madvise(start, end - start, MADV_DONTNEED) == 0:
            released += resident
    return released


def release_compiler_pages() -> int:
    """release_file_pages of LLVM's library."""
    return release_file_pages(COMPILER_LIBRARY)
