"""Huffman tree over the vocabulary for hierarchical softmax (the C tool's CreateBinaryTree).

Word w's path from the root is ``points[w, :lengths[w]]`` (inner-node rows
of the HS output matrix, the root is V - 2) with branch bits
``codes[w, :lengths[w]]``.  P(w | h) = prod_d sigma((1 - 2 codes[w, d]) u_{points[w, d]} . h),
which sums to 1 over the vocabulary.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit


class HuffmanCodes(NamedTuple):
    codes: np.ndarray    # uint8 [V, max_length]
    points: np.ndarray   # int32 [V, max_length]
    lengths: np.ndarray  # int32 [V]


@njit(cache=True)
def _build(counts_sorted):
    """Two-queue Huffman construction over counts sorted in descending order.

    Returns (parent, branch bit) for the 2V - 1 nodes: leaves 0..V-1, inner
    nodes V..2V-2 in creation order, root last.
    """
    v = len(counts_sorted)
    weight = np.empty(2 * v - 1, dtype=np.int64)
    weight[:v] = counts_sorted
    parent = np.full(2 * v - 1, -1, dtype=np.int64)
    bit = np.zeros(2 * v - 1, dtype=np.uint8)
    leaf = v - 1      # next smallest leaf (leaves are read from the end)
    inner = v         # next smallest inner node (inner nodes are made in order)
    for a in range(v - 1):
        pair = np.empty(2, dtype=np.int64)
        for k in range(2):
            if leaf >= 0 and (inner >= v + a or weight[leaf] < weight[inner]):
                pair[k] = leaf
                leaf -= 1
            else:
                pair[k] = inner
                inner += 1
        weight[v + a] = weight[pair[0]] + weight[pair[1]]
        parent[pair[0]] = v + a
        parent[pair[1]] = v + a
        bit[pair[1]] = 1
    return parent, bit


@njit(cache=True)
def _paths(parent, bit, v):
    lengths = np.zeros(v, dtype=np.int32)
    for w in range(v):
        node = w
        while parent[node] >= 0:
            lengths[w] += 1
            node = parent[node]
    max_len = max(1, lengths.max()) if v > 0 else 1
    codes = np.zeros((v, max_len), dtype=np.uint8)
    points = np.zeros((v, max_len), dtype=np.int32)
    for w in range(v):
        node = w
        d = lengths[w]
        while parent[node] >= 0:
            d -= 1
            codes[w, d] = bit[node]
            points[w, d] = parent[node] - v
            node = parent[node]
    return codes, points, lengths


def build_huffman(counts: np.ndarray) -> HuffmanCodes:
    """Huffman codes for words with the given counts (any order; ties broken by index)."""
    counts = np.asarray(counts, dtype=np.int64)
    v = len(counts)
    if v == 0:
        raise ValueError("Huffman tree needs at least one word")
    order = np.argsort(-counts, kind="stable")
    parent, bit = _build(counts[order])
    codes, points, lengths = _paths(parent, bit, v)
    # map back from sorted positions to word ids
    inverse = np.empty(v, dtype=np.int64)
    inverse[order] = np.arange(v)
    return HuffmanCodes(np.ascontiguousarray(codes[inverse]), np.ascontiguousarray(points[inverse]),
                        np.ascontiguousarray(lengths[inverse]))
