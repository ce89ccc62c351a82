"""Random numbers and sampling tables: the per-thread generator, the
unigram^0.75 alias table for negative sampling, and the subsampling keep
probabilities.

The generator is xorshift64* (Vigna): one uint64 of state per thread, high
quality in its upper bits, which are the ones used here.  Streams are seeded
with splitmix64 from (seed, stream id), so a stream depends only on the seed
and on which chunk of work it serves, never on thread scheduling.
"""
from __future__ import annotations

import numpy as np
from numba import njit

# splitmix64 and xorshift64* constants (kernels_cuda uses them too)
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
XS_MULT = np.uint64(0x2545F4914F6CDD1D)
U53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True)
def splitmix64(x):
    """One splitmix64 output for input x (used to derive seeds)."""
    z = np.uint64(x) + GOLDEN
    z = (z ^ (z >> np.uint64(30))) * MIX1
    z = (z ^ (z >> np.uint64(27))) * MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def stream_seed(seed, stream):
    """A non-zero generator state for the given seed and stream id."""
    s = splitmix64(splitmix64(np.uint64(seed)) ^ splitmix64(np.uint64(stream) + GOLDEN))
    if s == np.uint64(0):
        s = GOLDEN
    return s


@njit(cache=True, inline="always")
def next_u64(state, t):
    """Advance generator t of the `state` array and return a 64-bit output."""
    x = state[t]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[t] = x
    return x * XS_MULT


@njit(cache=True, inline="always")
def next_float(state, t):
    """Uniform float64 in [0, 1)."""
    return np.float64(next_u64(state, t) >> np.uint64(11)) * U53


@njit(cache=True, inline="always")
def next_below(state, t, n):
    """Uniform integer in [0, n) for 0 < n < 2**32 (Lemire's multiply-shift)."""
    return np.int64(((next_u64(state, t) >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


def build_alias_table(weights: np.ndarray):
    """Vose's alias table for sampling index i with probability weights[i] / sum.

    Returns (prob float64, alias int32): draw a column i uniformly, keep it
    with probability prob[i], else take alias[i].  Exact up to float64
    rounding of the weights.
    """
    w = np.asarray(weights, dtype=np.float64)
    n = len(w)
    if n == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("alias table needs finite non-negative weights with a positive sum")
    return _vose(w * (n / w.sum()))


@njit(cache=True)
def _vose(scaled):
    n = len(scaled)
    prob = np.ones(n, dtype=np.float64)
    alias = np.arange(n).astype(np.int32)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    ns = 0
    nl = 0
    p = scaled.copy()
    for i in range(n):
        if p[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        g = large[nl - 1]
        prob[s] = p[s]
        alias[s] = g
        p[g] = (p[g] + p[s]) - 1.0
        if p[g] < 1.0:
            nl -= 1
            small[ns] = g
            ns += 1
    # leftovers are 1 up to rounding
    return prob, alias


@njit(cache=True, inline="always")
def draw_alias(state, t, prob, alias):
    """One draw from an alias table: 32 high bits pick the column, 32 low bits the coin."""
    r = next_u64(state, t)
    column = np.int64(((r >> np.uint64(32)) * np.uint64(len(prob))) >> np.uint64(32))
    coin = np.float64(r & np.uint64(0xFFFFFFFF)) * (1.0 / 4294967296.0)
    if coin < prob[column]:
        return column
    return np.int64(alias[column])


def noise_distribution(counts: np.ndarray, exponent: float) -> np.ndarray:
    """count^exponent, the unigram noise distribution of negative sampling (unnormalised)."""
    return np.power(counts.astype(np.float64), exponent)


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """The C tool's subsampling: keep a word of count c among T words with
    probability (sqrt(c / (sample T)) + 1) (sample T) / c, capped at 1.

    sample = 0 keeps every word.
    """
    counts = counts.astype(np.float64)
    if sample <= 0:
        return np.ones(len(counts), dtype=np.float64)
    threshold = sample * counts.sum()
    keep = (np.sqrt(counts / threshold) + 1.0) * threshold / counts
    return np.minimum(keep, 1.0)
