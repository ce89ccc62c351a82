"""Data-parallel training over MPI: `mpiexec -n N fastw2v train ...`, or
`mpiexec -n N python script.py` calling fastw2v.train().

A process started by mpiexec (or srun) with more than one process in its
job is one rank of a distributed run; nothing else changes for the user.
mpi4py is imported only then, with its automatic MPI_Finalize turned off:
a rank that left through Python's normal shutdown while the others waited
in a collective would hang the job forever, so an error on any rank prints
one line naming the rank and aborts the whole job (MPI_Abort), and a
finished job finalizes explicitly.

Each rank trains its share of the corpus with its own threads, Hogwild
inside the rank, and the ranks combine their models with Allreduce: each
rank's changes since the last sync are summed and given to all (the model
becomes the last synced one plus the sum of the changes), which is what one
shared model trained by all ranks would have received.  Plain averaging,
tried first, divides every change by the number of ranks, which is an N
times smaller learning rate: on en-mix (skip-gram NS, 2 epochs, 2 ranks)
it scored 18.6-20.1% on the analogies against 26.4% for one process of 2
threads (bench/results/mpi-sync.md).  The ranks sync

* the rows of the `sync_rows` most frequent words (their input and output
  vectors; with hierarchical softmax also the as many tree nodes next to the
  root), which take most of the updates, every `sync_every` words the
  ranks train together (sync_every / N words a rank);
* the whole model every `full_sync_every` words (0: at the end of each
  epoch only) and at the end of every epoch, when rank 0 sums the changes
  and broadcasts the result, so every rank holds the same bits.

Each rank keeps a copy of the model as of the last sync (twice the memory
of the weights).

Every rank makes the same number of kernel calls per epoch (the number the
largest share needs), so the collectives line up; the learning rate follows
the global progress (all ranks' words at the last sync, plus N times this
rank's words since).  A stop request (Ctrl-C on mpiexec, which signals every
rank, or SIGTERM on one) travels with the progress counts at the next sync,
so all ranks stop at the same point.  The defaults of the three options were
chosen by measurement with 2 ranks (bench/results/mpi-sync.md).  Known
limit: with 4 ranks on en-mix (skip-gram NS, alpha 0.025) the summed
changes diverged in the first epoch, both at 100,000 words a rank and at
100,000 words of all ranks between syncs: N ranks pushing a frequent row
the same way from one stale copy move it N times as far.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time

import numpy as np

from .config import ConfigError

SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE", "SLURM_NTASKS_PMI")
LAUNCHER_PREFIXES = ("PMI_", "PMIX_", "OMPI_", "MPI_LOCALRANKID", "MPI_LOCALNRANKS", "HYDRA_", "MV2_", "I_MPI_")


def launched_size() -> int:
    """How many processes the MPI launcher started in this job (1 when none)."""
    for name in SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def child_environment(env=None) -> dict:
    """`env` (os.environ) without the launcher's variables: a child process
    that inherited them would try to join this job (MPICH fails, Open MPI hangs)."""
    env = dict(os.environ if env is None else env)
    return {k: v for k, v in env.items() if not k.startswith(LAUNCHER_PREFIXES)}


class Cluster:
    """This process's place in the job and the collectives training needs."""

    def __init__(self, comm, MPI):
        self.comm, self.MPI = comm, MPI
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        node = comm.Split_type(MPI.COMM_TYPE_SHARED)
        self.local_rank, self.local_size = node.Get_rank(), node.Get_size()
        node.Free()
        self.bytes_sent = 0       # bytes of weights this rank synced (each matrix block once)
        self.sync_seconds = 0.0   # seconds spent syncing
        self.syncs = 0            # syncs of the hot rows or of the whole model

    # ----- collectives -----
    def add_changes(self, block: np.ndarray, base: np.ndarray) -> None:
        """Give every rank's changes to a float32 block since the last sync to
        all: block := base + the sum over the ranks of (block - base), and
        base := block, as if every rank had trained one shared model (the
        changes of rows only one rank touched survive whole, as in Hogwild)."""
        if block.size == 0:
            return
        start = time.perf_counter()
        block -= base
        self.comm.Allreduce(self.MPI.IN_PLACE, block, op=self.MPI.SUM)
        block += base
        base[...] = block
        self.bytes_sent += block.nbytes
        self.sync_seconds += time.perf_counter() - start

    def add_changes_exactly(self, block: np.ndarray, base: np.ndarray) -> None:
        """add_changes(), made bit-identical on every rank: the changes are
        summed on rank 0 and the result broadcast (an Allreduce may round
        differently on each rank)."""
        if block.size == 0:
            return
        start = time.perf_counter()
        block -= base
        if self.rank == 0:
            self.comm.Reduce(self.MPI.IN_PLACE, block, op=self.MPI.SUM, root=0)
            block += base
        else:
            self.comm.Reduce(block, None, op=self.MPI.SUM, root=0)
        self.comm.Bcast(block, root=0)
        base[...] = block
        self.bytes_sent += 2 * block.nbytes
        self.sync_seconds += time.perf_counter() - start

    def total(self, values) -> np.ndarray:
        """The float64 sums of `values` over the ranks."""
        out = np.ascontiguousarray(values, dtype=np.float64).copy()
        self.comm.Allreduce(self.MPI.IN_PLACE, out, op=self.MPI.SUM)
        return out

    def largest(self, value: int) -> int:
        return int(self.comm.allreduce(int(value), op=self.MPI.MAX))

    def report(self) -> str:
        """What averaging cost this rank, for the summary line."""
        return (f"{self.syncs} syncs of {self.bytes_sent / 2 ** 20:,.1f} MB in all took "
                f"{self.sync_seconds:.2f} s")

    def broadcast(self, obj):
        return self.comm.bcast(obj, root=0)

    def gather(self, obj):
        return self.comm.gather(obj, root=0)

    def scatter(self, objs):
        return self.comm.scatter(objs, root=0)

    def barrier(self) -> None:
        self.comm.Barrier()

    def abort(self, code: int) -> None:
        """End every rank of the job now (never returns)."""
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            self.comm.Abort(code)

    def finish(self) -> None:
        """The normal end of a distributed run: every rank gets here, then finalizes."""
        self.comm.Barrier()
        self.MPI.Finalize()

    # ----- shares -----
    def share(self, n_items: int) -> tuple[int, int]:
        """Items [a, b) of n_items for this rank, in rank order, balanced."""
        return self.rank * n_items // self.size, (self.rank + 1) * n_items // self.size


_joined: Cluster | None = None


def current() -> Cluster | None:
    """The job joined by join(), if any."""
    return _joined


def join() -> Cluster | None:
    """The MPI job this process is a rank of, or None when it runs alone.

    Imports mpi4py only for a job of several processes; a broken or missing
    MPI is then a usage error naming the fix.
    """
    global _joined
    size = launched_size()
    if size <= 1:
        return None
    if _joined is not None:
        return _joined
    # our own one-line message names the rank; MPICH's abort banner would repeat it
    os.environ.setdefault("MPIR_CVAR_SUPPRESS_ABORT_MESSAGE", "1")
    try:
        import mpi4py

        mpi4py.rc.finalize = False
        mpi4py.rc.thread_level = "funneled"  # only the main thread calls MPI
        from mpi4py import MPI
    except (ImportError, RuntimeError) as e:
        raise ConfigError(f"started by an MPI launcher with {size} processes, but mpi4py cannot be used ({e}): "
                          f"pip install 'fastw2v[mpi]' (or mpi4py built against the site's MPI)") from None
    _joined = Cluster(MPI.COMM_WORLD, MPI)
    if _joined.size != size:
        raise ConfigError(f"the launcher started {size} processes but MPI sees {_joined.size}: "
                          f"mpi4py is linked to another MPI than the mpiexec that started the job")
    return _joined


def error_exit_code(error: BaseException) -> int:
    """The exit status the command line gives an error (see cli.py)."""
    from .files import InputError
    from .train import TrainingInterrupted

    if isinstance(error, TrainingInterrupted):
        return error.exit_code
    if isinstance(error, KeyboardInterrupt):
        return 130
    return 2 if isinstance(error, (ConfigError, InputError)) else 1


@contextlib.contextmanager
def guard(cluster: Cluster | None):
    """Around a distributed run's work: an error on this rank (unless it is a
    stop all ranks agreed on) ends the whole job, naming the rank, instead
    of leaving the other ranks waiting forever."""
    if cluster is None:
        yield
        return
    try:
        yield
    except BaseException as e:
        if getattr(e, "agreed", False):
            raise
        fail(cluster, f"Error: {e}" if not isinstance(e, KeyboardInterrupt) else f"Interrupted: {e}",
             error_exit_code(e), usage=isinstance(e, ConfigError))


def fail(cluster: Cluster, message: str, code: int, usage: bool = False) -> None:
    """Report an error of this rank and end the whole job (never returns).

    A usage error is the same on every rank (they all parse the same
    options): the other ranks give rank 0 a moment to say it alone.  The
    launcher ends the ranks with a signal: from here on that just ends them."""
    import signal
    import threading

    from .progress import write_safely

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
    if usage and cluster.rank:
        time.sleep(1.0)
    write_safely(sys.stderr, (f"rank {cluster.rank}: " if cluster.rank else "") + message + "\n")
    cluster.abort(code)
