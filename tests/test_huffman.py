"""Huffman codes: optimal (same cost as a heap-based build), prefix-free, and a proper distribution."""
import heapq
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from fastw2v.huffman import build_huffman


def heap_huffman_cost(counts):
    """Total weighted code length of an optimal prefix code (textbook heap construction)."""
    if len(counts) == 1:
        return 0
    heap = list(counts)
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        cost += a + b
        heapq.heappush(heap, a + b)
    return cost


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 10_000), min_size=2, max_size=300))
def test_codes_are_optimal_prefix_codes(counts):
    counts = np.array(counts, dtype=np.int64)
    codes, points, lengths = build_huffman(counts)
    v = len(counts)
    assert int((counts * lengths).sum()) == heap_huffman_cost(counts.tolist())
    # Kraft equality: a full binary tree
    assert sum(2.0 ** -int(n) for n in lengths) == pytest.approx(1.0, abs=1e-12)
    words = ["".join(map(str, codes[w, :lengths[w]])) for w in range(v)]
    assert len(set(words)) == v
    for a, b in itertools.permutations(words[:60], 2):
        assert not b.startswith(a)
    # paths start at the root (inner node V-2) and use inner nodes only
    assert np.all(points[:, 0] == v - 2)
    for w in range(v):
        assert np.all((0 <= points[w, :lengths[w]]) & (points[w, :lengths[w]] <= v - 2))


def test_more_frequent_words_get_shorter_codes():
    counts = np.array([1000, 500, 100, 50, 10, 5, 1], dtype=np.int64)
    lengths = build_huffman(counts).lengths
    assert np.all(np.diff(lengths) >= 0)


def test_single_word():
    codes, points, lengths = build_huffman(np.array([7]))
    assert lengths.tolist() == [0]


def test_hierarchical_softmax_probabilities_sum_to_one():
    rs = np.random.RandomState(1)
    counts = rs.randint(1, 1000, size=200)
    codes, points, lengths = build_huffman(counts)
    syn1 = rs.randn(len(counts) - 1, 16)
    for _ in range(5):
        h = rs.randn(16)
        prob = np.empty(len(counts))
        for w in range(len(counts)):
            f = syn1[points[w, :lengths[w]]] @ h
            sign = 1 - 2 * codes[w, :lengths[w]].astype(float)
            prob[w] = np.prod(1 / (1 + np.exp(-sign * f)))
        assert prob.sum() == pytest.approx(1.0, abs=1e-9)
