"""Statistics of the random generator, the alias sampler and subsampling."""
import numpy as np
import pytest
from numba import njit
from scipy import stats

from fastw2v.kernels_cpu import subsample
from fastw2v.sampling import (build_alias_table, draw_alias, keep_probabilities, next_below,
                              next_float, noise_distribution, stream_seed)


@njit(cache=True)
def _alias_draws(prob, alias, n, seed):
    rng = np.empty(1, dtype=np.uint64)
    rng[0] = stream_seed(seed, 0)
    hits = np.zeros(len(prob), dtype=np.int64)
    for _ in range(n):
        hits[draw_alias(rng, 0, prob, alias)] += 1
    return hits


def chi_square_ok(observed, expected, p_threshold=1e-6):
    """Goodness of fit at a small false-alarm rate (so the test is not flaky)."""
    chi2 = ((observed - expected) ** 2 / expected).sum()
    return chi2 < stats.chi2.ppf(1 - p_threshold, len(observed) - 1), chi2


@pytest.mark.parametrize("exponent", [0.75, 1.0, 0.0])
def test_alias_frequencies_follow_count_power(exponent):
    counts = (1000 / np.arange(1, 61) ** 1.1).astype(np.int64) + 1
    prob, alias = build_alias_table(noise_distribution(counts, exponent))
    n = 2_000_000
    hits = _alias_draws(prob, alias, n, 11)
    p = counts.astype(float) ** exponent
    ok, chi2 = chi_square_ok(hits, n * p / p.sum())
    assert ok, chi2


def test_alias_detects_a_wrong_distribution():
    """The chi-square check has power: draws from ^0.75 are rejected as ^1.0."""
    counts = (1000 / np.arange(1, 61) ** 1.1).astype(np.int64) + 1
    prob, alias = build_alias_table(noise_distribution(counts, 0.75))
    hits = _alias_draws(prob, alias, 2_000_000, 12)
    p = counts.astype(float)
    assert not chi_square_ok(hits, 2_000_000 * p / p.sum())[0]


def test_alias_table_is_exact():
    """Each column's mass plus the mass aliased to it reproduces the distribution."""
    w = np.array([5.0, 0.0, 1.0, 3.0, 0.5, 7.5])
    prob, alias = build_alias_table(w)
    mass = prob / len(w)
    np.add.at(mass, alias, (1 - prob) / len(w))
    np.testing.assert_allclose(mass, w / w.sum(), atol=1e-12)
    assert mass[1] == 0


def test_alias_rejects_bad_weights():
    for bad in ([], [0.0, 0.0], [1.0, -1.0], [1.0, np.nan]):
        with pytest.raises(ValueError):
            build_alias_table(np.array(bad))


@njit(cache=True)
def _uniforms(seed, n, bound):
    rng = np.empty(1, dtype=np.uint64)
    rng[0] = stream_seed(seed, 5)
    f = np.empty(n)
    k = np.empty(n, dtype=np.int64)
    for i in range(n):
        f[i] = next_float(rng, 0)
        k[i] = next_below(rng, 0, bound)
    return f, k


def test_generator_uniform():
    f, k = _uniforms(3, 500_000, 7)
    assert 0 <= f.min() and f.max() < 1
    assert stats.kstest(f, "uniform").pvalue > 1e-6
    ok, chi2 = chi_square_ok(np.bincount(k, minlength=7), np.full(7, 500_000 / 7))
    assert ok, chi2


def test_streams_differ_and_are_reproducible():
    seeds = [int(stream_seed(1, s)) for s in range(1000)] + [int(stream_seed(2, 0))]
    assert len(set(seeds)) == len(seeds) and 0 not in seeds
    assert int(stream_seed(1, 7)) == seeds[7]


def test_keep_probability_formula():
    # the C tool: (sqrt(cn / (sample * T)) + 1) * (sample * T) / cn, by hand for T = 1010
    keep = keep_probabilities(np.array([1000, 10]), 1e-3)
    assert keep[0] == pytest.approx((np.sqrt(1000 / 1.01) + 1) * 1.01 / 1000)
    assert keep[1] == pytest.approx((np.sqrt(10 / 1.01) + 1) * 1.01 / 10)
    # a word of frequency below about 2.6 * sample is always kept
    assert keep_probabilities(np.array([1_000_000, 100]), 1e-3)[1] == 1.0
    assert np.all(keep_probabilities(np.array([1000, 10]), 0.0) == 1.0)


def test_subsampling_keep_rates():
    rs = np.random.RandomState(0)
    counts = np.array([200_000, 50_000, 10_000, 2_000, 500])
    tokens = rs.permutation(np.repeat(np.arange(5), counts)).astype(np.int32)
    keep = keep_probabilities(counts, 1e-3)
    rng = np.array([stream_seed(9, 0)], dtype=np.uint64)
    buf = np.empty(len(tokens), dtype=np.int32)
    n = subsample(tokens, 0, len(tokens), keep, rng, 0, buf)
    kept = np.bincount(buf[:n], minlength=5)
    expected = counts * keep
    sd = np.sqrt(counts * keep * (1 - keep))
    assert np.all(np.abs(kept - expected) <= 5 * sd + 1), (kept, expected)
    assert keep[0] < 0.2 and kept[4] == counts[4]
