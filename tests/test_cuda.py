"""The GPU path: its kernels under the CUDA simulator (in a separate process,
since the simulator must be chosen before numba is imported), and how
device='cuda' / 'auto' behave where no GPU can be used."""
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import fastw2v
from fastw2v.config import GPU_MAX_DIM, Config, ConfigError

from test_cli import assert_one_line_error, run

train_mod = importlib.import_module("fastw2v.train")  # the module, not the fastw2v.train function
SIM_TESTS = Path(__file__).parent / "cuda_sim" / "sim_kernels.py"


def test_kernels_under_the_cuda_simulator():
    """Runs tests/cuda_sim/sim_kernels.py; every test there must pass, none may be skipped."""
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", str(SIM_TESTS)],
                          cwd=SIM_TESTS.parents[1], env=env, capture_output=True, text=True, timeout=1800)
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) >= 9, summary
    assert not re.search(r"skipped|xfail|deselected|error", summary), summary


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(train_mod, "gpu_problem", lambda: "no usable NVIDIA GPU or driver was found")


def test_cuda_without_a_gpu_stops_before_reading(no_gpu, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c\n")
    result = run("train", corpus, "-o", tmp_path / "v.bin", "--device", "cuda")
    assert_one_line_error(result, 2, "device='cuda': no usable NVIDIA GPU or driver was found")
    assert "words" not in result.output
    with pytest.raises(ConfigError, match="no usable NVIDIA GPU"):
        fastw2v.train(tmp_path / "missing.txt", device="cuda")  # before the missing file is noticed
    assert not (tmp_path / "v.bin").exists()


def test_auto_without_a_gpu_trains_on_the_cpu(no_gpu, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c a b\n" * 20)
    model = fastw2v.train(corpus, device="auto", min_count=1, dim=4, epochs=1, threads=1, quiet=True)
    assert train_mod.check_device(model.config) == "cpu" and model.history[0].words == 100


def test_gpu_problem_names_the_missing_piece():
    problem = train_mod.gpu_problem()
    assert problem is None or "numba-cuda" in problem or "GPU" in problem or "driver" in problem


@pytest.mark.parametrize("options,message", [
    (dict(softmax=True, negative=0), "softmax=True trains on the CPU only"),
    (dict(dim=GPU_MAX_DIM + 1), f"dim must be <= {GPU_MAX_DIM} with device='cuda', got {GPU_MAX_DIM + 1}"),
])
def test_options_the_gpu_cannot_train(options, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        Config(device="cuda", **options)
    Config(device="auto", **options)  # auto falls back to the CPU


def test_a_checkpoint_resumes_on_its_own_device(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c a b\n" * 20)
    config = Config(min_count=1, dim=4, epochs=1, threads=1)
    vocab, encoded, _ = train_mod.load_training_corpus(corpus, config)
    model = train_mod.Word2Vec.initialize(config, vocab)
    state = train_mod.TrainingState(fingerprint=encoded.fingerprint, device="cuda")
    with encoded, pytest.raises(fastw2v.TrainingError, match="made training on cuda, this run would train on cpu"):
        model.train_encoded(encoded, state=state)
