"""CUDA kernels under numba's CUDA simulator (tests/test_cuda.py runs this
file in a separate process with NUMBA_ENABLE_CUDASIM=1; the name keeps the
main test run from collecting it).

A launch makes the same random draws as the CPU kernel on the same words
(same generator, same seeding, same order of draws), so with one CPU thread
the two must agree on the weights to float32 rounding and on the loss and
the example count; the CPU kernel itself is checked against a numpy
reference in test_kernels.py.
"""
import os
import warnings

import numpy as np
import pytest

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
    raise RuntimeError("run these tests through tests/test_cuda.py (they need NUMBA_ENABLE_CUDASIM=1 "
                       "set before numba is imported)")

import numba  # noqa: E402

import fastw2v  # noqa: E402
from fastw2v import kernels_cuda  # noqa: E402
from fastw2v.huffman import build_huffman  # noqa: E402
from fastw2v.kernels_cpu import sigmoid_tables, train_parts  # noqa: E402
from fastw2v.sampling import build_alias_table, keep_probabilities, stream_seed  # noqa: E402
from fastw2v.vectors import KeyedVectors  # noqa: E402

# the simulator runs the uint64 generator on numpy scalars, which warn on the intended wrap-around
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")

V, DIM = 12, 8
COUNTS = np.array([60, 41, 30, 22, 18, 15, 12, 10, 8, 6, 5, 3], dtype=np.int64)
SEED, STREAM = 7, 3


def tables(sample):
    alias_prob, alias_index = build_alias_table(COUNTS ** 0.75)
    codes, points, lengths = build_huffman(COUNTS)
    sig, neg_log_sig = sigmoid_tables()
    return keep_probabilities(COUNTS, sample), alias_prob, alias_index, codes, points, lengths, sig, neg_log_sig


def weights(rng, ns, hs):
    syn0 = ((rng.random((V, DIM), dtype=np.float32) - np.float32(0.5)) / np.float32(DIM))
    syn1neg = rng.random((V, DIM), dtype=np.float32) * np.float32(0.2) if ns else None
    syn1 = rng.random((V - 1, DIM), dtype=np.float32) * np.float32(0.2) if hs else None
    return syn0, syn1neg, syn1


def copy(arrays):
    return [None if a is None else a.copy() for a in arrays]


def run_cpu(w, tokens, offsets, sg, cbow_mean, window, negative, lr, sample):
    """The CPU kernel with one part per sentence, run in order by one thread,
    part t seeded with stream STREAM + t (as GPU unit t is)."""
    keep, alias_prob, alias_index, codes, points, lengths, sig, neg_log_sig = tables(sample)
    syn0, syn1neg, syn1 = w
    n = len(offsets) - 1
    rng = np.array([stream_seed(SEED, STREAM + t) for t in range(n)], dtype=np.uint64)
    loss, examples = np.zeros(n), np.zeros(n)
    ns, hs = syn1neg is not None, syn1 is not None
    numba.set_num_threads(1)
    train_parts(syn0, syn1neg, syn1, None, tokens, offsets, np.arange(n + 1, dtype=np.int64), keep,
                alias_prob if ns else None, alias_index if ns else None, codes if hs else None,
                points if hs else None, lengths if hs else None, sig, neg_log_sig, sg, cbow_mean, window, True,
                negative, None, lr, lr, int(np.diff(offsets).max()), 0, 1, rng, loss, examples)
    return loss.sum(), examples.sum()


def run_gpu(w, tokens, offsets, sg, cbow_mean, window, negative, lr, sample, lanes, unit_words):
    keep, alias_prob, alias_index, codes, points, lengths, sig, neg_log_sig = tables(sample)
    unit_start, unit_end = kernels_cuda.plan_units(offsets, unit_words)
    trainer = kernels_cuda.DeviceTrainer(*w, keep, alias_prob, alias_index, codes, points, lengths, sig,
                                         neg_log_sig, lanes)
    loss, examples = trainer.launch(tokens, unit_start, unit_end, lr, lr, SEED, STREAM, sg, cbow_mean, window,
                                    True, negative)
    trainer.download()
    return loss, examples, unit_start, unit_end


MODES = {  # name: (sg, cbow_mean, negative, hs)
    "sg-ns": (True, True, 3, False),
    "cbow-ns": (False, True, 3, False),
    "sg-hs": (True, True, 0, True),
    "cbow-hs": (False, True, 0, True),
    "cbow-sum-ns+hs": (False, False, 2, True),
}


@pytest.mark.parametrize("mode", MODES)
def test_launch_equals_the_cpu_kernel(mode):
    """Three sentences, the longest cut into two units; subsampling on."""
    sg, cbow_mean, negative, hs = MODES[mode]
    rng = np.random.default_rng(5)
    tokens = rng.choice(V, size=40, p=COUNTS / COUNTS.sum()).astype(np.int32)
    sentences = np.array([0, 14, 18, 40], dtype=np.int64)
    unit_words = 12
    w = weights(rng, negative > 0, hs)
    start_weights = copy(w)
    gpu = copy(w)
    loss, examples, unit_start, unit_end = run_gpu(gpu, tokens, sentences, sg, cbow_mean, 3, negative, 0.1, 0.05,
                                                   lanes=4, unit_words=unit_words)
    # the GPU's units are pieces of sentences: give the CPU kernel the same pieces as sentences
    assert list(unit_start) == [0, 12, 14, 18, 30] and list(unit_end) == [12, 14, 18, 30, 40]
    pieces = np.append(unit_start, unit_end[-1])
    cpu = copy(w)
    cpu_loss, cpu_examples = run_cpu(cpu, tokens, pieces, sg, cbow_mean, 3, negative, 0.1, 0.05)
    assert examples == cpu_examples > 20
    assert loss == pytest.approx(cpu_loss, rel=1e-5)
    for g, c, s in zip(gpu, cpu, start_weights):
        if g is not None:
            assert np.abs(g - s).max() > 1e-3  # trained
            np.testing.assert_allclose(g, c, atol=2e-6, rtol=1e-5)


def test_a_full_warp_gives_the_same_result():
    """32 lanes (the GPU layout, most of them idle at dim 8) against 4."""
    rng = np.random.default_rng(9)
    tokens = rng.choice(V, size=16, p=COUNTS / COUNTS.sum()).astype(np.int32)
    offsets = np.array([0, 16], dtype=np.int64)
    w = weights(rng, True, True)
    results = []
    for lanes in (4, 32):
        trained = copy(w)
        loss, examples, _, _ = run_gpu(trained, tokens, offsets, False, True, 2, 2, 0.1, 0.0, lanes, 16)
        results.append((trained, loss, examples))
    (a, loss_a, ex_a), (b, loss_b, ex_b) = results
    assert ex_a == ex_b and loss_a == pytest.approx(loss_b, rel=1e-6)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=1e-6)


def test_units_cover_every_word_once():
    offsets = np.array([0, 5, 5, 2053, 2054], dtype=np.int64)
    start, end = kernels_cuda.plan_units(offsets, 1024)
    assert list(start) == [0, 5, 1029, 2053] and list(end) == [5, 1029, 2053, 2054]
    with pytest.raises(ValueError, match="unit_words must be in 1..1024"):
        kernels_cuda.plan_units(offsets, 1025)


def corpus(tmp_path):
    rng = np.random.default_rng(1)
    lines = []
    for k in range(16):  # two topics that never share a sentence
        topic = "a" if k % 2 else "b"
        lines.append(" ".join(f"{topic}{i}" for i in rng.integers(0, 5, 10)))
    path = tmp_path / "two-topics.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_training_lowers_the_loss_and_writes_vectors(tmp_path):
    model = fastw2v.train(corpus(tmp_path), device="cuda", sg=False, negative=3, dim=8, window=2, min_count=1,
                          epochs=3, sample=0, seed=3, alpha=0.1, quiet=True)
    losses = [h.loss for h in model.history]
    assert losses[0] > losses[1] > losses[2]
    assert all(h.words == 160 for h in model.history)
    path = tmp_path / "v.bin"
    model.save_word2vec_format(path)
    kv = KeyedVectors.load_word2vec_format(path)
    assert len(kv) == 10 and np.array_equal(kv.vectors, model.syn0)


def test_auto_picks_the_gpu_and_cli_trains_on_it(tmp_path):
    from click.testing import CliRunner

    from fastw2v.cli import main
    from fastw2v.train import check_device
    from fastw2v.config import Config

    assert check_device(Config(device="auto")) == "cuda"
    assert check_device(Config(device="auto", softmax=True, negative=0)) == "cpu"
    out = tmp_path / "v.txt"
    result = CliRunner().invoke(main, ["train", str(corpus(tmp_path)), "-o", str(out), "--device", "cuda",
                                       "--text", "--cbow", "--hs", "--negative", "0", "--dim", "8", "--window", "2",
                                       "--min-count", "1", "--epochs", "1"])
    assert result.exit_code == 0, result.output
    assert "training on cuda" in result.output
    lines = out.read_text().splitlines()
    assert lines[0] == "10 8" and len(lines) == 11
