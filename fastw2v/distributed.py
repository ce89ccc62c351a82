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
inside the rank, and the ranks combine their models with Allreduce: the
model becomes the last synced one plus a weighted sum of every rank's
changes since (sum_weights).  A row that few updates moved keeps the plain
sum, what one shared model trained by all ranks would have received; a row
so often updated that every rank took it all the way to where its updates
lead gets the mean of the changes, since N ranks pushing it the same way
from one stale copy would move it N times too far.  Between the two the
weight follows a model of N stale walks against one long walk, from each
row's expected updates per sync interval (expected_updates: the counts,
subsampling, window and noise distribution) and `sync_saturation`, the
share of the remaining way one update covers.  Measured on en-mix (5
epochs, seed 1, analogies; 1 process x 2 threads: skip-gram NS 35.5%,
CBOW NS 37.4%; bench/results/mpi-sync.md):

* plain averaging (every row's changes divided by N, an N times smaller
  learning rate): 2 epochs, 2 ranks, 18.6-20.1% against 26.4%;
* plain sums: 2 ranks 34.0% (skip-gram), but 4 ranks diverged in the
  first epoch;
* weights with saturation 0.001 / 0.005 / 0.02: skip-gram 2 ranks 33.5 /
  32.6 / -, 4 ranks 29.5 / 31.8 / 30.4; CBOW 2 ranks 37.2 / 37.5, 4 ranks
  26.4 / 37.2.  The default is 0.005, the one value stable and close in
  both modes at 4 ranks.

The ranks sync

* every `sync_every` words they train together (sync_every / N words a
  rank): the rows of every word any rank trained on since the last sync
  (each rank marks the words of its kernel calls, the marks are OR-ed as
  bits): their input rows, their output rows or tree paths; and the output
  rows of the `sync_rows` most frequent words, which negative sampling
  also moves as noise words, so often that they are best synced every
  time.  Every row a rank moved is then synced within one interval, except
  output rows moved only as noise words, which wait until the word is
  trained on or the full sync, with the weight of one interval's updates.
  4,096 such rows do as well as 16,384 (5 epochs, 2 seeds, 2 and 4 ranks:
  within 0.07 points, 0.001 Spearman) and move half the bytes of a
  skip-gram sync.
  What skip-gram lost before sat in the rows outside a fixed hot set
  (the 16,384 most frequent words): at 1 epoch, 2 / 4 ranks, 16.3 / 15.8%
  with the hot rows only, 17.1 / 16.7% with the rows trained on, one
  process 17.0%; at 5 epochs (2 seeds) 2 / 4 ranks went from 1.6 / 2.6
  points below one process to within 0.3 of it (bench/results/mpi.md).  Every row every
  20,000 words gave 17.1% too, but moves the whole model each time.
  By default the interval is 100,000 training examples in skip-gram
  (16,667 words with window 5, 6 examples a word; at 33,333 words 2
  ranks lost 0.85 points) and 200,000 words in CBOW, where the rows
  trained on in 100,000 words (13,000 input rows, 3,600 output rows
  besides the hot ones) made syncing cost 10% of the speed of one
  process, and 200,000 words kept the quality (bench/results/mpi-interval.md);
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
so all ranks stop at the same point.  A rank waiting in a collective sleeps
between polls rather than spinning (Cluster._wait), so more ranks than
cores still make progress.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time

import numpy as np
from numba import njit

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


@njit(cache=True)
def gather_changes(w, base, rows, out):
    """out[i] := w[rows[i]] - base[rows[i]]: a matrix's changed rows in one
    block (numpy's fancy indexing took 2.6 ms a sync for 3,600 rows of two
    matrices, gathering and scattering back w and base separately)."""
    for i in range(len(rows)):
        r = rows[i]
        for d in range(w.shape[1]):
            out[i, d] = w[r, d] - base[r, d]


@njit(cache=True)
def apply_row_sums(w, base, rows, sums, weights):
    """w[r] := base[r] := base[r] + weights[r] * sums[i] for r = rows[i]:
    the summed changes applied in one pass (numpy's three passes took
    1.85 ms for 16,384 rows of 100 dimensions).  w and sums may be one
    block: each value is read before it is written."""
    for i in range(len(rows)):
        r = rows[i]
        weight = weights[r]
        for d in range(w.shape[1]):
            v = base[r, d] + weight * sums[i, d]
            w[r, d] = v
            base[r, d] = v


@njit(cache=True)
def path_nodes(words, points, lengths, n_nodes):
    """The tree nodes on the paths of `words`, sorted, each once."""
    on = np.zeros(n_nodes, dtype=np.bool_)
    for word in words:
        for j in range(lengths[word]):
            on[points[word, j]] = True
    return np.flatnonzero(on)


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
        # add_row_changes's block, kept: a fresh one each sync cost its page faults every time
        self._rows_buffer = np.empty((0, 0), dtype=np.float32)

    # ----- collectives -----
    def add_changes(self, block: np.ndarray, base: np.ndarray, weights: np.ndarray) -> None:
        """Give every rank's changes to a float32 block since the last sync to
        all: block := base + the sum over the ranks of (block - base), and
        base := block, as if every rank had trained one shared model (the
        changes of rows only one rank touched survive whole, as in Hogwild),
        each row's sum weighted by `weights` (see sum_weights)."""
        if block.size == 0:
            return
        start = time.perf_counter()
        block -= base
        self._wait(self.comm.Iallreduce(self.MPI.IN_PLACE, block, op=self.MPI.SUM))
        apply_row_sums(block, base, np.arange(len(block)), block, weights)
        self.bytes_sent += block.nbytes
        self.sync_seconds += time.perf_counter() - start

    def add_row_changes(self, parts) -> None:
        """add_changes() for chosen rows of several matrices of one width at
        once, one Allreduce for all: `parts` holds (w, base, rows, weights)."""
        parts = [p for p in parts if len(p[2])]
        if not parts:
            return
        start = time.perf_counter()
        n_rows, width = sum(len(rows) for _, _, rows, _ in parts), parts[0][0].shape[1]
        if self._rows_buffer.shape[0] < n_rows or self._rows_buffer.shape[1] != width:
            self._rows_buffer = np.empty((n_rows + n_rows // 4, width), dtype=np.float32)
        block = self._rows_buffer[:n_rows]
        at = 0
        for w, base, rows, _ in parts:
            gather_changes(w, base, rows, block[at:at + len(rows)])
            at += len(rows)
        self._wait(self.comm.Iallreduce(self.MPI.IN_PLACE, block, op=self.MPI.SUM))
        at = 0
        for w, base, rows, weights in parts:
            apply_row_sums(w, base, rows, block[at:at + len(rows)], weights)
            at += len(rows)
        self.bytes_sent += block.nbytes
        self.sync_seconds += time.perf_counter() - start

    def add_changes_exactly(self, block: np.ndarray, base: np.ndarray, weights: np.ndarray) -> None:
        """add_changes(), made bit-identical on every rank: the changes are
        summed on rank 0 and the result broadcast (an Allreduce may round
        differently on each rank)."""
        if block.size == 0:
            return
        start = time.perf_counter()
        block -= base
        if self.rank == 0:
            self._wait(self.comm.Ireduce(self.MPI.IN_PLACE, block, op=self.MPI.SUM, root=0))
            apply_row_sums(block, base, np.arange(len(block)), block, weights)  # base too
            self._wait(self.comm.Ibcast(block, root=0))
        else:
            self._wait(self.comm.Ireduce(block, None, op=self.MPI.SUM, root=0))
            self._wait(self.comm.Ibcast(block, root=0))
            base[...] = block
        self.bytes_sent += 2 * block.nbytes
        self.sync_seconds += time.perf_counter() - start

    def union(self, flags: np.ndarray) -> np.ndarray:
        """Where any rank's boolean `flags` are set (sent as bits)."""
        bits = np.packbits(flags)
        self._wait(self.comm.Iallreduce(self.MPI.IN_PLACE, bits, op=self.MPI.BOR))
        return np.unpackbits(bits, count=len(flags)).view(bool)

    def total(self, values) -> np.ndarray:
        """The float64 sums of `values` over the ranks."""
        out = np.ascontiguousarray(values, dtype=np.float64).copy()
        self._wait(self.comm.Iallreduce(self.MPI.IN_PLACE, out, op=self.MPI.SUM))
        return out

    def largest(self, value: int) -> int:
        out = np.array([value], dtype=np.int64)
        self._wait(self.comm.Iallreduce(self.MPI.IN_PLACE, out, op=self.MPI.MAX))
        return int(out[0])

    @staticmethod
    def _wait(request) -> None:
        """Wait for a collective without holding a core another rank needs.

        MPI's own wait polls flat out, so with more ranks than cores (4 ranks
        on this 2-core machine) the ranks that arrived first spun on the
        cores the others needed to catch up, and a 4 x 1 run took longer than
        30 min for 5 epochs of en-mix.  Sleeping between polls from the
        start fixed that but slowed every sync: a nonblocking collective
        moves only while it is polled, and a 6.5 MB Allreduce (the hot rows
        of one matrix, 2 ranks) took 4.5 ms instead of 1.3 ms.  So: poll
        for up to 5 ms, yielding the core between polls (a rank in step
        with the others finishes in that time), then sleep between polls,
        0.05 ms doubling up to 1 ms (a rank that waits for a slower one)."""
        start = time.perf_counter()
        while not request.Test():
            if time.perf_counter() - start > 5e-3:
                break
            os.sched_yield()
        pause = 5e-5
        while not request.Test():
            time.sleep(pause)
            pause = min(2 * pause, 1e-3)

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

    def abort(self, code: int) -> None:
        """End every rank of the job now (never returns).

        The launcher reads a rank's output from a pipe and stops reading when
        the abort reaches it: a traceback written just before MPI_Abort was
        lost in 16 of 270 runs of 2 ranks (MPICH's Hydra), and in none of 200
        since the pipes are first left to drain, for up to
        OUTPUT_DRAIN_SECONDS."""
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            _wait_until_read((sys.stdout, sys.stderr), OUTPUT_DRAIN_SECONDS)
        finally:
            self.comm.Abort(code)

    def finish(self) -> None:
        """The normal end of a distributed run: every rank gets here, then
        finalizes (once: the command line calls it, a script's exit too)."""
        if self.MPI.Is_finalized():
            return
        self._wait(self.comm.Ibarrier())
        self.MPI.Finalize()

    # ----- shares -----
    def share(self, n_items: int) -> tuple[int, int]:
        """Items [a, b) of n_items for this rank, in rank order, balanced."""
        return self.rank * n_items // self.size, (self.rank + 1) * n_items // self.size


OUTPUT_DRAIN_SECONDS = 2.0


def _wait_until_read(streams, timeout: float) -> None:
    """Wait until no byte written to these streams' pipes is left unread
    (FIONREAD on either end of a pipe counts them), or timeout seconds; a
    stream that is not a pipe (a terminal, a file) has nothing to wait for."""
    import fcntl
    import stat
    import termios

    fds = []
    for stream in streams:
        try:
            fd = stream.fileno()
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                fds.append(fd)
        except (AttributeError, OSError, ValueError):
            continue
    deadline = time.monotonic() + timeout
    unread = np.zeros(1, np.int32)
    while fds and time.monotonic() < deadline:
        try:
            fds = [fd for fd in fds if fcntl.ioctl(fd, termios.FIONREAD, unread) == 0 and unread[0] > 0]
        except OSError:
            return
        if fds:
            time.sleep(0.001)


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
    _end_scripts_together(_joined)
    return _joined


def _end_scripts_together(cluster: Cluster) -> None:
    """A script (`mpiexec -n N python script.py`) ends without calling MPI:
    a rank leaving without MPI_Finalize made the launcher kill the others
    (SIGKILL, exit 9, 4 times in 6 runs of 4 ranks).  At a normal exit every
    rank now finalizes together; an exception no one caught ends the whole
    job instead, as the others may be waiting for this rank in a collective."""
    import atexit

    def on_uncaught(kind, value, trace, previous=sys.excepthook):
        previous(kind, value, trace)
        cluster.abort(130 if issubclass(kind, KeyboardInterrupt) else 1)

    sys.excepthook = on_uncaught
    atexit.register(cluster.finish)


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


def expected_updates(counts: np.ndarray, keep: np.ndarray, words: float, *, sg: bool, window: int,
                     dynamic_window: bool, negative: int = 0, noise: np.ndarray | None = None,
                     points: np.ndarray | None = None, lengths: np.ndarray | None = None,
                     n_nodes: int = 0, softmax: bool = False) -> dict:
    """How many SGD updates each row of each matrix takes, in expectation,
    while one rank trains `words` words (counted before subsampling).

    A kept word has `window + 1` context words on average with dynamic
    windows (2 * window without).  Skip-gram updates the context word's
    input row and the centre word's output row (or tree path) once per
    pair; CBOW updates every context row and the centre's output once per
    centre word; every example updates `negative` noise rows drawn from
    `noise`.  Returns {"syn0": ..., "syn1neg": ..., "syn1": ...}, float64
    rows, the matrices that are in use."""
    kept = counts * keep / counts.sum()            # kept occurrences per word trained
    contexts = window + 1.0 if dynamic_window else 2.0 * window
    centres = words * kept                          # kept occurrences of each word as centre
    examples = centres.sum() * (contexts if sg else 1.0)
    updates = {"syn0": centres * contexts}
    if noise is not None:
        positive = centres * (contexts if sg else 1.0)
        updates["syn1neg"] = positive + examples * negative * noise / noise.sum()
    if points is not None:
        # each example walks the centre word's path: a node is visited by every word below it
        on_path = np.arange(points.shape[1]) < lengths[:, None]
        targets = np.broadcast_to((kept / kept.sum())[:, None], points.shape)[on_path]
        nodes = points[on_path]
        updates["syn1"] = examples * np.bincount(nodes, weights=targets, minlength=n_nodes)
    if softmax:  # every example updates every output row
        updates["syn1soft"] = np.full(len(counts), examples)
    return updates


def sum_weights(updates: np.ndarray, ranks: int, saturation: float) -> np.ndarray:
    """The weight of the sum of the ranks' changes of each row (float32),
    from its expected updates per rank between two syncs.

    A rank that updates a row e times from the last synced value moves it
    by 1 - q**e of the way to where that row's updates lead (q = 1 -
    saturation, the share of the remaining distance one update covers);
    one model taking all N e updates would move it 1 - q**(N e) of the way.
    The sum of the ranks' changes is weighted by the ratio: 1 for a row
    updated rarely (the changes add up, as in Hogwild), 1/N for one
    updated so often that every rank took it all the way (the changes
    agree and are averaged; summed, N ranks would push it N times too far
    and, with 4 ranks, diverged)."""
    if saturation <= 0:
        return np.ones(len(updates), dtype=np.float32)
    log_q = np.log1p(-min(saturation, 1 - 1e-12))
    e = np.maximum(updates, 1e-12)
    return (np.expm1(ranks * e * log_q) / (ranks * np.expm1(e * log_q))).astype(np.float32)
