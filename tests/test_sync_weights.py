"""How a distributed run weights the ranks' summed changes (distributed.py):
the expected update counts against a simulation of the C tool's windows,
and the weights against N ranks walking a scalar toward a target."""
import numpy as np
import pytest

from fastw2v.distributed import apply_row_sums, expected_updates, gather_changes, path_nodes, sum_weights
from fastw2v.huffman import build_huffman


def zipf_tokens(n_words, n_tokens, seed):
    rs = np.random.RandomState(seed)
    p = 1.0 / np.arange(1, n_words + 1)
    tokens = rs.choice(n_words, n_tokens, p=p / p.sum())
    return tokens, np.bincount(tokens, minlength=n_words).astype(np.int64)


def simulate(tokens, n_words, window, sg, negative, noise, codes, rs):
    """Count the rows a C-style pass over one long sentence updates: per
    centre a reduced window of 1..window words a side."""
    syn0 = np.zeros(n_words)
    syn1neg = np.zeros(n_words)
    nodes = np.zeros(n_words - 1)
    examples = 0
    n = len(tokens)
    for i in range(n):
        b = window - rs.randint(window)
        context = np.r_[tokens[max(0, i - b):i], tokens[i + 1:i + 1 + b]]
        syn0 += np.bincount(context, minlength=n_words)
        k = len(context) if sg else 1
        syn1neg[tokens[i]] += k
        examples += k
        path = codes.points[tokens[i], :codes.lengths[tokens[i]]]
        nodes[path] += k
    negatives = rs.choice(n_words, examples * negative, p=noise / noise.sum())
    syn1neg += np.bincount(negatives, minlength=n_words)
    return {"syn0": syn0, "syn1neg": syn1neg, "syn1": nodes}


@pytest.mark.parametrize("sg", [True, False])
def test_expected_updates_match_a_simulated_pass(sg):
    n_words, window, negative = 30, 5, 4
    tokens, counts = zipf_tokens(n_words, 100_000, seed=1)
    noise = counts ** 0.75
    codes = build_huffman(counts)
    seen = simulate(tokens, n_words, window, sg, negative, noise, codes, np.random.RandomState(2))
    expected = expected_updates(counts, np.ones(n_words), len(tokens), sg=sg, window=window, dynamic_window=True,
                                negative=negative, noise=noise, points=codes.points, lengths=codes.lengths,
                                n_nodes=n_words - 1)
    for name in ("syn0", "syn1neg", "syn1"):
        frequent = seen[name] > 20_000  # windows of ~6 updates: under 2% noise
        assert frequent.sum() >= 5, name
        np.testing.assert_allclose(expected[name][frequent], seen[name][frequent], rtol=0.05, err_msg=name)
    assert expected["syn1"][-1] == pytest.approx(seen["syn1"][-1], rel=0.01)  # the root: every example


def test_subsampling_and_fixed_windows_scale_the_counts():
    counts = np.array([1000, 100, 10])
    keep = np.array([0.5, 1.0, 1.0])
    e = expected_updates(counts, keep, 1110, sg=True, window=3, dynamic_window=False)
    kept = counts * keep  # 500, 100, 10 of 1110 words trained
    np.testing.assert_allclose(e["syn0"], kept * 6)
    assert set(e) == {"syn0"}


def test_weights_make_n_stale_walks_one_long_walk():
    """N ranks each take e steps from x0 toward a target, each step covering
    a share s of the rest; the weighted sum of their changes is where one
    walker taking all N e steps ends."""
    s, target, x0 = 0.05, 1.0, 0.0
    for ranks in (2, 4, 8):
        for e in (1, 3, 20, 200):
            alone = x0 + (target - x0) * (1 - (1 - s) ** e)
            one_walker = x0 + (target - x0) * (1 - (1 - s) ** (ranks * e))
            weight = sum_weights(np.array([float(e)]), ranks, s)[0]
            assert x0 + weight * ranks * (alone - x0) == pytest.approx(one_walker, rel=1e-5)


def test_weights_go_from_a_sum_to_an_average():
    e = np.array([0.0, 1e-3, 1.0, 10.0, 1e3, 1e6])
    w = sum_weights(e, 4, 0.01)
    assert w[0] == pytest.approx(1.0) and w[1] == pytest.approx(1.0, abs=1e-4)
    assert w[-1] == pytest.approx(0.25)
    assert np.all(np.diff(w) < 0)
    assert np.all(sum_weights(e, 4, 0.0) == 1.0)  # no saturation: always the sum
    assert np.all(sum_weights(e, 1, 0.3) == pytest.approx(1.0))  # one rank: its own changes


def test_summed_changes_applied_in_place_give_each_row_its_weighted_sum():
    rs = np.random.RandomState(5)
    base = rs.randn(7, 13).astype(np.float32)
    summed = rs.randn(7, 13).astype(np.float32)
    weights = rs.rand(7).astype(np.float32)
    expected = base + weights[:, None] * summed
    block, synced = summed.copy(), base.copy()
    apply_row_sums(block, synced, np.arange(7), block, weights)  # the sums' block becomes the rows
    np.testing.assert_allclose(block, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(synced, block)  # the new base is the synced block


def test_chosen_rows_are_gathered_as_changes_and_given_their_weighted_sums():
    rs = np.random.RandomState(6)
    w, base = rs.randn(9, 5).astype(np.float32), rs.randn(9, 5).astype(np.float32)
    rows = np.array([7, 2, 4])
    block = np.full((3, 5), np.nan, dtype=np.float32)
    gather_changes(w, base, rows, block)
    np.testing.assert_allclose(block, w[rows] - base[rows], rtol=1e-6)
    sums, weights = rs.randn(3, 5).astype(np.float32), rs.rand(9).astype(np.float32)
    expected_w, expected_base = w.copy(), base.copy()
    expected_w[rows] = expected_base[rows] = base[rows] + weights[rows, None] * sums
    apply_row_sums(w, base, rows, sums, weights)
    np.testing.assert_allclose(w, expected_w, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(base, expected_base, rtol=1e-6, atol=1e-6)  # the other rows untouched


def test_path_nodes_are_the_nodes_on_the_words_tree_paths():
    _, counts = zipf_tokens(50, 3000, 7)
    _, points, lengths = build_huffman(counts + 1)
    words = np.array([0, 3, 17, 49])
    expected = sorted({int(points[word, j]) for word in words for j in range(lengths[word])})
    assert path_nodes(words, points, lengths, 49).tolist() == expected
    assert path_nodes(words[:0], points, lengths, 49).tolist() == []
