"""Distributed training with the MPICH wheel: `mpiexec -n 2`, one thread a
rank.  The ranks must agree on the vocabulary of a single process, end with
the same weights, write each file once, stop together, and an error or a
kill on one rank must end the whole job promptly with nothing written.

Each run starts `mpiexec` on a harness: a short script that may patch
fastw2v in its own rank (to fail or signal at an exact point) and then runs
the command line or the Python API."""
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from fastw2v.distributed import _wait_until_read, child_environment

MPIEXEC = shutil.which("mpiexec") or str(Path(sys.executable).parent / "mpiexec")

# byte ranges of 2 kB, so that each rank scans its own part of a small corpus
PREAMBLE = """
import importlib, os, signal, sys
import fastw2v.scan
fastw2v.scan.RANGE_MIN_BYTES = 32 * 1024
t = importlib.import_module("fastw2v.train")
rank = int(os.environ.get("PMI_RANK", "0"))
"""


def topic_corpus(path, n_lines=6000, seed=0):
    """Two topics that never share a line: training must separate them."""
    rs = np.random.RandomState(seed)
    topics = [[f"{t}{i}" for i in range(40)] for t in "ab"]
    path.write_text("\n".join(" ".join(rs.choice(topics[rs.randint(2)], 15)) for _ in range(n_lines)) + "\n")
    return path


def mpi(n, script, args=(), timeout=300, **kw):
    """Run `script` (after PREAMBLE) on n ranks; `args` become sys.argv[1:]."""
    code = textwrap.dedent(PREAMBLE) + textwrap.dedent(script)
    return subprocess.run([MPIEXEC, "-n", str(n), sys.executable, "-c", code, *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=child_environment(), **kw)


CLI = """
from fastw2v.cli import main
main(sys.argv[1:])
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return topic_corpus(tmp_path_factory.mktemp("mpi") / "c.txt")


def test_mpiexec_is_there():
    proc = subprocess.run([MPIEXEC, "--version"], capture_output=True, text=True, env=child_environment())
    assert proc.returncode == 0 and "HYDRA" in proc.stdout


def test_two_ranks_count_the_vocabulary_of_one_process(corpus, tmp_path):
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    common = ["--dim", 8, "--epochs", 1, "--threads", 1, "--min-count", 2, "-q"]
    single = subprocess.run([sys.executable, "-m", "fastw2v.cli", "train", corpus, "-o", tmp_path / "a.bin",
                             "--save-vocab", one, *map(str, common)], capture_output=True, text=True)
    assert single.returncode == 0, single.stderr
    scanned = f"""
    scan_inputs = fastw2v.scan.scan_inputs
    def reporting(*a, **kw):
        result = scan_inputs(*a, **kw)
        with open(f"{tmp_path}/scanned{{rank}}", "w") as f:
            f.write(str(result.raw_word_count))
        return result
    importlib.import_module("fastw2v.corpus").scan_inputs = reporting
    """
    result = mpi(2, textwrap.dedent(scanned) + CLI, ["train", corpus, "-o", tmp_path / "b.bin", "--save-vocab", two,
                                                    *common])
    assert result.returncode == 0, result.stderr
    counts = [int((tmp_path / f"scanned{rank}").read_text()) for rank in (0, 1)]
    assert min(counts) > 0.3 * sum(counts)  # both ranks scanned a share
    assert sum(counts) == 6000 * 15
    assert two.read_bytes() == one.read_bytes()


API = """
import hashlib, numpy as np
import fastw2v
model = fastw2v.train(sys.argv[1], dim=16, epochs=4, threads=1, min_count=1, sample=0, seed=3, window=3, quiet=True)
np.save(f"{sys.argv[2]}/rank{rank}.npy", model.syn0)
neighbours = [w for w, _ in model.most_similar("a1", topn=10)]
with open(f"{sys.argv[2]}/rank{rank}.txt", "w") as f:  # the ranks' stdout lines may interleave
    f.write(repr(([h.loss for h in model.history], [h.words for h in model.history], neighbours)))
"""


@pytest.mark.parametrize("ranks", [2, 4])
def test_ranks_learn_and_end_with_the_same_weights(corpus, tmp_path, ranks):
    """Also 4 ranks on CI's 2 cores: a rank waiting in a collective must
    leave the cores to the others (it spun, and such runs crawled)."""
    result = mpi(ranks, API, [corpus, tmp_path])
    assert result.returncode == 0, result.stderr
    first = np.load(tmp_path / "rank0.npy")
    for rank in range(1, ranks):
        assert np.load(tmp_path / f"rank{rank}.npy").tobytes() == first.tobytes()
    for rank in range(ranks):
        losses, words, neighbours = eval((tmp_path / f"rank{rank}.txt").read_text())
        assert losses[-1] < losses[0] and words == [6000 * 15] * 4, (losses, words)
        assert len([w for w in neighbours if w.startswith("a")]) >= 9, neighbours


COMMITS = """
import fastw2v.files
commit, log = fastw2v.files.OutputSet.commit, sys.argv.pop()
def counting(self):
    with open(f"{log}.commits{rank}", "a") as f:
        f.write(f"{len(self._staged)}\\n")
    return commit(self)
fastw2v.files.OutputSet.commit = counting
""" + CLI


def test_rank_0_alone_writes_the_files(corpus, tmp_path):
    out = tmp_path / "v.txt"
    result = mpi(2, COMMITS, ["train", corpus, "-o", out, "--text", "--save-vocab", tmp_path / "vocab.txt",
                              "--dim", 8, "--epochs", 2, "--threads", 1, "--min-count", 2, tmp_path / "log"])
    assert result.returncode == 0, result.stderr
    commits = [(tmp_path / f"log.commits{rank}").read_text().split() for rank in (0, 1)]
    assert commits == [["2"], ["0"]]  # rank 1 staged nothing
    assert out.read_text().split("\n")[0] == "80 8"
    assert "trained 180000 words" in result.stderr and "2 processes x 1 thread" in result.stderr
    assert result.stderr.count("epoch 1/2") == 1  # progress from rank 0 only


FIRST_HOT_SYNC = """
hot, saved, out_dir = t._Sync.hot, [], sys.argv.pop()
def saving(self):
    hot(self)
    if not saved:
        saved.append(1)
        m = self.model
        np.savez(f"{out_dir}/rank{rank}.npz", syn0=m.syn0,
                 out=m.syn1neg if m.syn1neg is not None else m.syn1, words=np.array(m.vocab.words))
t._Sync.hot = saving
t.WORDS_PER_PART = 2000
import numpy as np
""" + CLI


@pytest.mark.parametrize("mode", [["--negative", 5], ["--hs", "--negative", 0]])
def test_a_sync_brings_every_row_trained_on_to_the_same_value(tmp_path, mode):
    """With no hot rows (--sync-rows 0), a sync between epochs' ends still
    gives every rank the rows of the words any rank trained on since the
    last one: rank 0's first part has only words a*, rank 1's only b*, and
    words c* follow in both shares.  With negative sampling the noise
    words' output rows wait for a later sync (they differ)."""
    rs = np.random.RandomState(1)
    topic = {t: [f"{t}{i}" for i in range(20)] for t in "abc"}
    lines = [" ".join(rs.choice(topic[t], 15)) for t in "acbc" for _ in range(1000)]
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(lines) + "\n")
    result = mpi(2, FIRST_HOT_SYNC, ["train", corpus, "-o", tmp_path / "v.bin", "--dim", 8, "--epochs", 1,
                                     "--threads", 1, "--min-count", 1, "--sample", 0, "--sync-rows", 0,
                                     "--sync-every", 8000, "-q", *mode, tmp_path])
    assert result.returncode == 0, result.stderr
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in (0, 1)]
    words = ranks[0]["words"]
    trained = np.array([w[0] in "ab" for w in words])
    c = ~trained
    assert trained.sum() == 40
    assert np.array_equal(ranks[0]["syn0"][trained], ranks[1]["syn0"][trained])
    for r in ranks:
        assert np.abs(r["syn0"][trained]).sum() > 0 and np.abs(r["out"]).sum() > 0
    # the c words' input rows were trained by no one: the initial values, the same on both ranks
    assert np.array_equal(ranks[0]["syn0"][c], ranks[1]["syn0"][c])
    if "--hs" in mode:  # every tree node touched lies on the path of a word trained on
        assert np.array_equal(ranks[0]["out"], ranks[1]["out"])
    else:
        assert np.array_equal(ranks[0]["out"][trained], ranks[1]["out"][trained])
        assert not np.array_equal(ranks[0]["out"][c], ranks[1]["out"][c])


def at_call(rank: int, call: int, action: str) -> str:
    """A harness that runs `action` on rank `rank` before its kernel call
    number `call` (slices of 2000 words a thread, so an epoch has several)."""
    return f"""
run, calls = t._CpuRunner.run, []
def patched(self, *a):
    calls.append(1)
    if rank == {rank} and len(calls) == {call}:
        {action}
    return run(self, *a)
t._CpuRunner.run = patched
t.WORDS_PER_PART = 2000
""" + CLI


# the time of the error goes to the file $FAILED_AT (the job's stdout may
# lose it in the abort): the job must end within 30 s of it (from the start,
# a cold compile by two ranks on a busy machine took 46 s)
NOTE_THE_TIME = 'open(os.environ["FAILED_AT"], "w").write(repr(__import__("time").time()))'
FAIL_ON_RANK_1 = at_call(1, 3, NOTE_THE_TIME + '; raise RuntimeError("disk on fire")')


def since_the_failure() -> float:
    return time.time() - float(Path(os.environ["FAILED_AT"]).read_text())
SLOW_RANK_1 = at_call(1, 3, 'print(f"pid {os.getpid()}", flush=True); __import__("time").sleep(60)')
INTERRUPT = at_call(0, 4, "os.kill(os.getpid(), signal.SIGINT)")


def test_an_error_on_one_rank_ends_the_job(corpus, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("FAILED_AT", str(tmp_path / "failed_at"))
    result = mpi(2, FAIL_ON_RANK_1, ["train", corpus, "-o", out / "v.bin", "--dim", 8, "--epochs", 3,
                                     "--threads", 1, "--min-count", 2, "-q"], timeout=120)
    took = since_the_failure()
    assert took < 30, (took, result.stderr)
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "rank 1: Error: disk on fire" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert list(out.iterdir()) == []


SCRIPT_FAILS_ON_RANK_1 = """
import fastw2v
options = dict(dim=8, epochs=1, threads=1, min_count=2, quiet=True)
fastw2v.train(sys.argv[1], **options)
if rank == 1:
    """ + NOTE_THE_TIME + """
    raise ValueError("the script's own bug")
fastw2v.train(sys.argv[1], **options)  # the other ranks go on to a second run's collectives
"""


def test_an_uncaught_error_in_a_script_ends_the_job(corpus, tmp_path, monkeypatch):
    """Left to Python's exit, rank 1 would wait to finalize while the others
    wait for it in the next run: the job would hang."""
    monkeypatch.setenv("FAILED_AT", str(tmp_path / "failed_at"))
    result = mpi(2, SCRIPT_FAILS_ON_RANK_1, [corpus], timeout=180)
    assert since_the_failure() < 30, result.stderr
    assert result.returncode == 1
    assert "ValueError: the script's own bug" in result.stderr


def test_an_abort_waits_until_the_launcher_has_read_the_output():
    """MPI_Abort ends the launcher's reading: a traceback still in the pipe
    was lost (CI: the test above found an empty stderr)."""
    read, write = os.pipe()
    with os.fdopen(write, "w") as stream, os.fdopen(read, "rb", buffering=0) as reader:
        stream.write("Traceback ...\n" * 200)
        stream.flush()
        got = []
        launcher = threading.Timer(0.3, lambda: got.append(reader.read(1 << 16)))
        start = time.monotonic()
        launcher.start()
        _wait_until_read([stream], timeout=10)
        waited = time.monotonic() - start
        launcher.join()
        assert got and len(got[0]) == len("Traceback ...\n") * 200
        assert 0.25 < waited < 5


def test_an_abort_waits_no_longer_than_its_timeout_for_an_unread_pipe(tmp_path):
    read, write = os.pipe()
    with os.fdopen(write, "w") as stream, os.fdopen(read, "rb") as _:
        stream.write("never read\n")
        stream.flush()
        start = time.monotonic()
        _wait_until_read([stream], timeout=0.2)
        assert 0.15 < time.monotonic() - start < 2
    with open(tmp_path / "log", "w") as log:  # a file is not a pipe: nothing to wait for
        log.write("x" * 1000)
        log.flush()
        start = time.monotonic()
        _wait_until_read([log], timeout=5)
        assert time.monotonic() - start < 1


def test_a_killed_rank_ends_the_job(corpus, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    code = textwrap.dedent(PREAMBLE) + textwrap.dedent(SLOW_RANK_1)
    proc = subprocess.Popen([MPIEXEC, "-n", "2", sys.executable, "-c", code, "train", str(corpus), "-o",
                             str(out / "v.bin"), "--dim", "8", "--epochs", "3", "--threads", "1", "--min-count", "2",
                             "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_environment())
    line = proc.stdout.readline()
    assert line.startswith("pid "), line + proc.stderr.read()
    os.kill(int(line.split()[1]), signal.SIGKILL)
    killed = time.monotonic()
    proc.communicate(timeout=60)
    assert time.monotonic() - killed < 30
    assert proc.returncode != 0
    assert list(out.iterdir()) == []


def test_two_ranks_stop_together_then_resume_from_the_checkpoint(corpus, tmp_path):
    out, ck = tmp_path / "v.bin", tmp_path / "ck.npz"
    args = ["train", corpus, "-o", out, "--dim", 8, "--epochs", 2, "--threads", 1, "--min-count", 2,
            "--checkpoint", ck, "--sync-every", 4000]
    stopped = mpi(2, INTERRUPT, args)
    assert stopped.returncode == 130, stopped.stderr
    assert stopped.stderr.count("Interrupted: training interrupted by SIGINT; checkpoint written") == 1
    assert ck.exists() and not out.exists()
    alone = subprocess.run([sys.executable, "-m", "fastw2v.cli", *map(str, args), "--resume", str(ck)],
                           capture_output=True, text=True)
    assert alone.returncode == 1 and "made by 2 processes: resume it with mpiexec -n 2" in alone.stderr
    resumed = mpi(2, "t.WORDS_PER_PART = 2000\n" + CLI, [*args, "--resume", ck])
    assert resumed.returncode == 0, resumed.stderr
    assert out.exists() and "epoch 2/2" in resumed.stderr


def test_ctrl_c_on_mpiexec_stops_every_rank(corpus, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    code = textwrap.dedent(PREAMBLE) + textwrap.dedent("t.WORDS_PER_PART = 2000\n" + CLI)
    proc = subprocess.Popen([MPIEXEC, "-n", "2", sys.executable, "-c", code, "train", str(corpus), "-o",
                             str(out / "v.bin"), "--dim", "16", "--epochs", "200", "--threads", "1",
                             "--min-count", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=child_environment())
    while "words read" not in proc.stderr.readline():
        pass
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - sent < 30
    assert proc.returncode == 130, err
    assert list(out.iterdir()) == []


def test_child_processes_do_not_join_the_job(monkeypatch):
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setenv("PMI_RANK", "1")
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    env = child_environment()
    assert not any(k.startswith(("PMI_", "OMPI_")) for k in env) and env["PATH"] == os.environ["PATH"]
