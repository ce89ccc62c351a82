"""Memory the run no longer needs, handed back to the system, so that the
resident set that top and /usr/bin/time -v show is the run's own.

The compiler's pages.  Numba runs the kernels as machine code in the
process's own memory, but to load them (from its on-disk cache, or by
compiling) it runs LLVM, a shared library of about 100 MB.  Its code and
read-only data are clean pages of a file: once touched they count in the
resident set, although they sit in the page cache, are shared with every
process that maps the library and can be dropped at no cost.  Importing
numba leaves 40 MB of them resident, numba's first kernel load 48 MB more,
each later load about 10 MB.  release_compiler_pages() unmaps them (madvise
MADV_DONTNEED; a later load maps back what it touches from the page cache,
no disk read; 7-10 ms the first call, under 1 ms the later ones): the corpus
loader calls it before the corpus takes memory, the scanner after loading
its kernels and before its buffers grow, and the training driver after
loading the training kernel, before the output weights fill.  Only
mappings without a private copy are released: the pages the dynamic
loader wrote (relocations) are the process's own and stay.  They are
told apart by /proc/self/pagemap, which flags each page a file's own or
not, read for the library's mappings alone: finding them took 2.2-2.8 ms
where reading /proc/self/smaps, which counts the pages of all ~490 of the
process's mappings, took 6.8-7.4 ms (same result, one process, 3 runs).

The heap's free pages.  glibc's malloc raises its mmap threshold (up to 32
MB) each time a large block returned by mmap is freed, as the scan's
growing tables are; from then on arrays below it come from the heap, whose
free pages it keeps.  fix_mmap_threshold() sets the threshold to glibc's
initial 128 kB, which also stops the raising, so large arrays go back to
the system when freed, and release_file_pages() calls malloc_trim for what
the heap holds free.  This is process-wide; it changes where large blocks
come from, not what a program computes.

Measured (CBOW, 1 epoch, 2 threads, 71k words, dim 100; bench/results/
memory-pages.md against memory-split.md and memory.md, python -m
bench.memory): peak resident set 243-245 -> 177 MB from a corpus file and
268-284 -> 179-180 MB from text, on 25M and 200M tokens; gensim corpus_file
183 MB.  `fastw2v encode` peaks at 138 MB (200-219 before).
Linux only; elsewhere these functions do nothing.
"""
from __future__ import annotations

import ctypes
import mmap
import os
import sys

import numpy as np

MADV_DONTNEED = 4
M_MMAP_THRESHOLD = -3      # mallopt parameter
MMAP_THRESHOLD = 1 << 17   # glibc's own initial value, 128 kB
COMPILER_LIBRARY = "libllvmlite"
PAGE = mmap.PAGESIZE
PAGE_PRESENT = np.uint64(1 << 63)  # /proc/self/pagemap's flags of a page
PAGE_SWAPPED = np.uint64(1 << 62)
PAGE_OF_FILE = np.uint64(1 << 61)  # a file's page (or shared anonymous memory), not a private copy


def clean_mappings(name: str) -> list[tuple[int, int, int]]:
    """(start, end, resident bytes) of this process's read-only mappings of
    files whose path contains `name` and that hold no private (written)
    page: the mappings listed in /proc/self/maps, each page's state read
    from /proc/self/pagemap (present; a file's own page, or a private copy,
    which is also any page swapped out).  Raises OSError where either file
    cannot be read."""
    candidates = []
    with open("/proc/self/maps") as maps:
        for line in maps:  # range, permissions, offset, device, inode, path
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and name in fields[5] and "w" not in fields[1]:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                candidates.append((start, end))
    found = []
    with open("/proc/self/pagemap", "rb", buffering=0) as pagemap:
        for start, end in candidates:
            nbytes = 8 * ((end - start) // PAGE)
            raw = os.pread(pagemap.fileno(), nbytes, 8 * (start // PAGE))  # the kernel fills it whole
            if len(raw) != nbytes:
                raise OSError(f"short read of the page map ({len(raw)} of {nbytes} bytes)")
            entries = np.frombuffer(raw, np.uint64)
            present = (entries & PAGE_PRESENT) != 0
            private = (present & ((entries & PAGE_OF_FILE) == 0)) | ((entries & PAGE_SWAPPED) != 0)
            if not private.any():
                found.append((start, end, int(np.count_nonzero(present)) * PAGE))
    return found


def fix_mmap_threshold() -> None:
    """Keep glibc's malloc from raising its mmap threshold (see the module
    docstring); nothing elsewhere."""
    if sys.platform.startswith("linux"):
        mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # glibc's
        if mallopt is not None:
            mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def _hand_back(spans) -> list[bool]:
    """malloc_trim, then madvise(MADV_DONTNEED) each (start, end) span;
    whether each was released."""
    libc = ctypes.CDLL(None, use_errno=True)
    trim = getattr(libc, "malloc_trim", None)  # glibc's
    if trim is not None:
        trim(0)
    madvise = libc.madvise
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    return [madvise(start, end - start, MADV_DONTNEED) == 0 for start, end in spans]


def release_file_pages(name: str) -> int:
    """Unmap the resident pages of clean_mappings(name) and return the heap's
    free pages to the system (malloc_trim); returns how many bytes of the
    mappings were resident (0 where this is not Linux or the page map is unreadable)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        resident = [m for m in clean_mappings(name) if m[2]]
    except OSError:
        return 0
    released = _hand_back([(start, end) for start, end, _ in resident])
    return sum(nbytes for (_, _, nbytes), done in zip(resident, released) if done)


_compiler_spans: list = []


def release_compiler_pages() -> None:
    """release_file_pages of LLVM's library.  Its clean mappings are found
    once: they stay mapped, and stay clean, being read-only (finding them
    is 2-3 of the first call's 7-10 ms).  Every call hands back all of each
    mapping."""
    if not sys.platform.startswith("linux"):
        return
    if not _compiler_spans:
        try:
            _compiler_spans.extend((start, end) for start, end, _ in clean_mappings(COMPILER_LIBRARY))
        except OSError:
            return
    _hand_back(_compiler_spans)

