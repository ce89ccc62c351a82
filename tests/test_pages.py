"""Handing back the compiler's clean pages (pages.py): only pages that are a
file's own are released, they read back unchanged, and training leaves
LLVM's pages unmapped."""
import ctypes
import mmap
import subprocess
import sys

import numba
import numpy as np
import pytest

from fastw2v import Word2Vec
from fastw2v.pages import COMPILER_LIBRARY, clean_mappings, release_file_pages

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/pagemap and madvise: Linux")
PAGE = mmap.PAGESIZE


def resident(name: str) -> int:
    return sum(r for _, _, r in clean_mappings(name))


@pytest.fixture
def probe_file(tmp_path):
    data = np.random.RandomState(0).randint(0, 256, 64 * PAGE).astype(np.uint8).tobytes()
    path = tmp_path / "fastw2v-pages-probe.bin"
    path.write_bytes(data)
    return path, data


def test_a_read_only_mapping_is_released_and_reads_back_the_same(probe_file):
    path, data = probe_file
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        assert m[:] == data  # every page touched
        assert resident(path.name) == len(data)
        assert release_file_pages(path.name) == len(data)
        assert resident(path.name) == 0
        assert m[:] == data  # faulted back in from the file
        assert resident(path.name) == len(data)


def test_pages_written_privately_are_kept(probe_file):
    """A private mapping that was written and then made read-only (as the
    dynamic loader does with relocated data) holds the process's own
    copies: releasing them would bring back the file's bytes."""
    path, data = probe_file
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY) as m:
        m[:4] = b"mine"
        m[PAGE:].strip()  # the other pages resident, unwritten
        address = ctypes.addressof(ctypes.c_char.from_buffer(m))
        assert release_file_pages(path.name) == 0  # writable: left alone
        assert libc.mprotect(address, len(data), mmap.PROT_READ) == 0
        assert clean_mappings(path.name) == []      # read-only now, but holds a written page
        assert release_file_pages(path.name) == 0
        assert m[:4] == b"mine" and m[4:] == data[4:]
        assert libc.mprotect(address, len(data), mmap.PROT_READ | mmap.PROT_WRITE) == 0


def smaps_view(name: str) -> dict:
    """The kernel's own count, from /proc/self/smaps: (start, end) -> (Rss
    bytes, whether Anonymous > 0) of the read-only mappings of `name`."""
    view, current = {}, None
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5 and ":" not in fields[0]:
                current = None
                if len(fields) == 6 and name in fields[5] and "w" not in fields[1]:
                    current = tuple(int(x, 16) for x in fields[0].split("-"))
                    view[current] = [0, False]
            elif current is not None and fields[0] == "Rss:":
                view[current][0] = int(fields[1]) * 1024
            elif current is not None and fields[0] == "Anonymous:":
                view[current][1] = int(fields[1]) > 0
    return {span: tuple(v) for span, v in view.items()}


@pytest.mark.parametrize("name", ["libpython", "numpy", COMPILER_LIBRARY, "libc"])
def test_clean_mappings_agree_with_the_kernels_count(name):
    """The page map's view (present pages, private copies) against smaps'
    Rss and Anonymous for the same mappings: the clean ones, with their
    resident bytes, and no other.  Compared once smaps reads the same
    before and after, no page having come in meanwhile."""
    for _ in range(5):  # until no page became resident while the page map was read
        kernel = smaps_view(name)
        found = clean_mappings(name)
        if smaps_view(name) == kernel:
            break
    if not kernel:
        pytest.skip(f"no read-only mapping of {name} in this process")
    assert {(start, end): resident for start, end, resident in found} == \
        {span: rss for span, (rss, private) in kernel.items() if not private}


def test_training_leaves_the_compilers_pages_unmapped():
    """The driver releases LLVM's pages once the kernels are loaded: a
    compile before training leaves tens of MB of the library resident, and
    training ends with them gone."""
    sentences = [[f"w{(i * 7 + j) % 40}" for j in range(12)] for i in range(300)]

    @numba.njit
    def fresh(x):  # compiled here, not loaded from a cache: LLVM runs its passes
        return np.sqrt(x) + 1.0

    fresh(np.ones(3))
    assert resident(COMPILER_LIBRARY) > 8 << 20
    model = Word2Vec(sentences, vector_size=8, min_count=1, epochs=1, workers=1, seed=1)
    assert np.isfinite(model.wv.vectors).all()
    assert resident(COMPILER_LIBRARY) < 4 << 20


HEAP_PROBE = """
import numpy as np
from fastw2v.pages import fix_mmap_threshold
if {fix}:
    fix_mmap_threshold()
big = np.ones(16 << 20, np.uint8)
del big  # a freed mmapped block: glibc raises its threshold to its size
probe = np.ones(1 << 20, np.uint8)
heap = [line.split()[0].split("-") for line in open("/proc/self/maps") if line.rstrip().endswith("[heap]")]
print(any(int(a, 16) <= probe.ctypes.data < int(b, 16) for a, b in heap))
"""


@pytest.mark.parametrize("fix", [False, True])
def test_large_arrays_stay_out_of_the_heap_once_the_threshold_is_fixed(fix):
    """Without the fix a 1 MB array allocated after a 16 MB one was freed
    comes from the heap (whose free pages glibc keeps); with it, from mmap."""
    out = subprocess.run([sys.executable, "-c", HEAP_PROBE.format(fix=fix)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(not fix)
