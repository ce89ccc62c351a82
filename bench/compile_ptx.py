"""Compile the CUDA training kernel to PTX without a GPU: catches typing and
lowering errors that the CUDA simulator (which runs the kernel as Python)
cannot.  Needs NVVM and NVRTC, e.g. in a separate environment:

    python -m venv /tmp/ptx && /tmp/ptx/bin/pip install numba-cuda "numpy<2.5" \
        "cuda-bindings>=12,<13" nvidia-cuda-nvcc-cu12 nvidia-cuda-nvrtc-cu12
    PYTHONPATH=. /tmp/ptx/bin/python bench/compile_ptx.py [--cc 9.0]

Prints the PTX size and counts of atomic adds and barriers.
"""
import argparse
import sys
import time
from pathlib import Path

import numba
import numpy as np
from numba import cuda, types
from numba.cuda import dispatcher

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cc", default="9.0", help="compute capability (default 9.0: H100/H200)")
    cc = tuple(int(x) for x in ap.parse_args().cc.split("."))

    class Device:  # device functions ask the current device for its compute capability
        compute_capability = cc

    dispatcher.get_current_device = lambda: Device()
    from fastw2v import kernels_cuda

    f32 = lambda *shape: np.zeros(shape, np.float32)  # noqa: E731
    i32 = lambda *shape: np.zeros(shape, np.int32)  # noqa: E731
    i64 = np.zeros(2, np.int64)
    args = (f32(4, 100), f32(4, 100), f32(3, 100), i32(5), i64, i64, np.zeros(4), np.zeros(4), i32(4), i32(4, 3),
            i32(4, 3), i32(4), f32(1024), np.zeros(1024), True, True, 5, True, 5, True, False, 0.025, 1e-9,
            np.uint64(1), 0, np.zeros(2))
    signature = types.void(*[numba.typeof(a) for a in args])
    start = time.perf_counter()
    ptx, _ = cuda.compile_ptx(kernels_cuda.train_units.py_func, signature, cc=cc)
    print(f"train_units: {len(ptx)} characters of PTX for sm_{cc[0]}{cc[1]} in {time.perf_counter() - start:.1f} s; "
          f"{ptx.count('atom.global.add.f32') + ptx.count('red.global.add.f32')} float32 atomic adds, "
          f"{ptx.count('bar.sync')} barriers")


if __name__ == "__main__":
    main()
