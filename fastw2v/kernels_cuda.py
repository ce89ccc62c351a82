"""CUDA kernels (numba.cuda): skip-gram and CBOW with negative sampling and/or
hierarchical softmax, and the host side that feeds them.

Layout: one thread block of one warp (32 threads, the "lanes") per work
unit, a piece of at most UNIT_WORDS consecutive words of one sentence (the
C tool also trains sentences in pieces of 1000 words).  The lanes split the
vector dimensions; dot products are summed across the lanes through shared
memory (``lane_sum``), which the CUDA simulator runs as well (tests there
use blocks of fewer lanes: the simulator runs every thread in Python).  Every lane runs the
same xorshift64* stream, seeded from (seed, unit id) exactly as the CPU
kernel seeds a part, so all lanes take the same branches without talking to
each other, and a unit makes the same random draws as a CPU part over the
same words: subsampling on the device, then per centre word the reduced
window, then per example the noise words.

Weights are written with atomic adds: thousands of warps share the output
rows of frequent words, and plain read-modify-write loses their updates.
The learning rate of a unit follows the linear schedule at the unit's
position in the corpus, so it decays smoothly inside a launch.

Sigmoid edge as on the CPU: the same 1024-entry table; outside (-6, 6)
negative sampling clamps, hierarchical softmax skips the node.
"""
from __future__ import annotations

import math

import numpy as np
from numba import cuda, float32, float64, int32, uint64
from numba.cuda import config as cuda_config

from .config import GPU_MAX_DIM
from .kernels_cpu import SIGMOID_BOUND, SIGMOID_TABLE_SIZE
from .sampling import GOLDEN, MIX1, MIX2, U53, XS_MULT

WARP = 32
UNIT_WORDS = 1024          # most words per work unit (shared-memory buffer of kept ids)
MAX_DIM = GPU_MAX_DIM
LANE_DIMS = MAX_DIM // WARP  # dimensions of h and grad each lane holds, at most
CALL_WORDS = 1 << 22       # words per kernel launch: progress, checkpoints and Ctrl-C between launches

_SH12 = np.uint64(12)
_SH25 = np.uint64(25)
_SH27 = np.uint64(27)
_SH30 = np.uint64(30)
_SH31 = np.uint64(31)
_SH11 = np.uint64(11)
_SH32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_U32 = 1.0 / 4294967296.0
_TABLE_SCALE = SIGMOID_TABLE_SIZE / (2 * SIGMOID_BOUND)


@cuda.jit(device=True, inline=True)
def _splitmix64(x):
    z = x + GOLDEN
    z = (z ^ (z >> _SH30)) * MIX1
    z = (z ^ (z >> _SH27)) * MIX2
    return z ^ (z >> _SH31)


@cuda.jit(device=True, inline=True)
def _stream_seed(seed, stream):
    """sampling.stream_seed on the device."""
    s = _splitmix64(_splitmix64(seed) ^ _splitmix64(stream + GOLDEN))
    if s == uint64(0):
        s = GOLDEN
    return s


@cuda.jit(device=True, inline=True)
def _next_u64(state):
    x = state[0]
    x ^= x >> _SH12
    x ^= x << _SH25
    x ^= x >> _SH27
    state[0] = x
    return x * XS_MULT


@cuda.jit(device=True, inline=True)
def _next_float(state):
    return float64(_next_u64(state) >> _SH11) * U53


@cuda.jit(device=True, inline=True)
def _next_below(state, n):
    return int32(((_next_u64(state) >> _SH32) * uint64(n)) >> _SH32)


@cuda.jit(device=True, inline=True)
def _draw_alias(state, prob, alias):
    r = _next_u64(state)
    column = int32(((r >> _SH32) * uint64(prob.shape[0])) >> _SH32)
    if float64(r & _LOW32) * _U32 < prob[column]:
        return column
    return alias[column]


@cuda.jit(device=True)
def lane_sum(scratch, lane, lanes, x):
    """Sum of x over the block's lanes, returned to every lane in the same
    order (so all lanes see bit-identical values and branch alike)."""
    scratch[lane] = x
    cuda.syncthreads()
    total = float32(0.0)
    for i in range(lanes):
        total += scratch[i]
    cuda.syncthreads()
    return total


@cuda.jit(device=True)
def _neg_log_sigmoid(z):
    if z < 0.0:
        return -z + math.log1p(math.exp(z))
    return math.log1p(math.exp(-z))


@cuda.jit(device=True)
def logistic_step(h, grad, out, row, label, lr, sig, neg_log_sig, clamp, scratch, lane, lanes, dim):
    """One binary-logistic step of out[row] for input h (this lane's
    dimensions): accumulates dL/dh in grad, adds to out[row] atomically and
    returns the loss (the same rule as kernels_cpu.logistic_gradient)."""
    part = float32(0.0)
    k = 0
    for d in range(lane, dim, lanes):
        part += h[k] * out[row, d]
        k += 1
    f = lane_sum(scratch, lane, lanes, part)
    if -SIGMOID_BOUND < f < SIGMOID_BOUND:
        i = int32((f + SIGMOID_BOUND) * _TABLE_SCALE)
        p = sig[i]
        loss = neg_log_sig[i if label else SIGMOID_TABLE_SIZE - 1 - i]
    else:
        loss = _neg_log_sigmoid(f if label else -f)
        if not clamp:
            return loss
        p = float32(1.0) if f > 0 else float32(0.0)
    g = (float32(label) - p) * lr
    if g != 0:
        k = 0
        for d in range(lane, dim, lanes):
            grad[k] += g * out[row, d]
            cuda.atomic.add(out, (row, d), g * h[k])
            k += 1
    return loss


@cuda.jit(device=True)
def train_example(h, grad, target, lr, use_ns, syn1neg, negative, alias_prob, alias_index,
                  use_hs, syn1, codes, points, code_lengths, sig, neg_log_sig, state, scratch, lane, lanes, dim):
    """All enabled output layers for (h -> target); the noise words are drawn
    in the CPU kernel's order (one draw per negative, a draw equal to the
    target skipped).  Returns the loss."""
    loss = 0.0
    if use_ns:
        loss += logistic_step(h, grad, syn1neg, target, 1, lr, sig, neg_log_sig, True, scratch, lane, lanes, dim)
        for _ in range(negative):
            noise = _draw_alias(state, alias_prob, alias_index)
            if noise != target:
                loss += logistic_step(h, grad, syn1neg, noise, 0, lr, sig, neg_log_sig, True, scratch, lane, lanes, dim)
    if use_hs:
        for d in range(code_lengths[target]):
            loss += logistic_step(h, grad, syn1, points[target, d], 1 - codes[target, d], lr, sig,
                                  neg_log_sig, False, scratch, lane, lanes, dim)
    return loss


@cuda.jit
def train_units(syn0, syn1neg, syn1, tokens, unit_start, unit_end, keep_prob, alias_prob, alias_index,
                codes, points, code_lengths, sig, neg_log_sig, sg, cbow_mean, window, dynamic_window,
                negative, use_ns, use_hs, lr_start, lr_step, seed, stream_base, totals):
    """Block b trains unit b: words tokens[unit_start[b]:unit_end[b]], a
    piece of a sentence (positions relative to the launch's first word), at
    the rate lr_start + lr_step * unit_start[b].  totals[0] and totals[1]
    collect the loss and the number of examples (float64 atomics)."""
    lane = cuda.threadIdx.x
    lanes = cuda.blockDim.x
    unit = cuda.blockIdx.x
    kept = cuda.shared.array(UNIT_WORDS, int32)
    scratch = cuda.shared.array(WARP, float32)
    h = cuda.local.array(LANE_DIMS, float32)
    grad = cuda.local.array(LANE_DIMS, float32)
    state = cuda.local.array(1, uint64)
    dim = syn0.shape[1]
    own_dims = (dim - lane + lanes - 1) // lanes
    start = unit_start[unit]
    end = unit_end[unit]
    state[0] = _stream_seed(uint64(seed), uint64(stream_base + unit))
    lr = float32(lr_start + lr_step * start)

    n = 0
    for i in range(start, end):
        w = tokens[i]
        p = keep_prob[w]
        if p >= 1.0 or _next_float(state) < p:
            if lane == 0:
                kept[n] = w
            n += 1
    cuda.syncthreads()

    loss = 0.0
    examples = 0.0
    for i in range(n):
        span = window - _next_below(state, window) if dynamic_window else window
        lo = max(0, i - span)
        hi = min(n, i + span + 1)
        if sg:
            for j in range(lo, hi):
                if j == i:
                    continue
                context = kept[j]
                k = 0
                for d in range(lane, dim, lanes):
                    h[k] = syn0[context, d]
                    grad[k] = float32(0.0)
                    k += 1
                loss += train_example(h, grad, kept[i], lr, use_ns, syn1neg, negative, alias_prob, alias_index,
                                      use_hs, syn1, codes, points, code_lengths, sig, neg_log_sig, state,
                                      scratch, lane, lanes, dim)
                k = 0
                for d in range(lane, dim, lanes):
                    cuda.atomic.add(syn0, (context, d), grad[k])
                    k += 1
                examples += 1.0
            continue
        count = hi - lo - 1
        if count == 0:
            continue
        for k in range(own_dims):
            h[k] = float32(0.0)
            grad[k] = float32(0.0)
        for j in range(lo, hi):
            if j != i:
                k = 0
                for d in range(lane, dim, lanes):
                    h[k] += syn0[kept[j], d]
                    k += 1
        if cbow_mean:
            inv = float32(1.0 / count)
            for k in range(own_dims):
                h[k] *= inv
        loss += train_example(h, grad, kept[i], lr, use_ns, syn1neg, negative, alias_prob, alias_index,
                              use_hs, syn1, codes, points, code_lengths, sig, neg_log_sig, state,
                              scratch, lane, lanes, dim)
        scale = float32(1.0) if cbow_mean else float32(1.0 / count)
        for j in range(lo, hi):
            if j != i:
                k = 0
                for d in range(lane, dim, lanes):
                    cuda.atomic.add(syn0, (kept[j], d), scale * grad[k])
                    k += 1
        examples += 1.0
    if lane == 0:
        cuda.atomic.add(totals, 0, loss)
        cuda.atomic.add(totals, 1, examples)


def block_lanes(dim: int) -> int:
    """Threads per block: a warp; under the CUDA simulator, which runs every
    thread in Python, the fewest lanes (at least 4) that hold dim: the same
    results, much faster."""
    if cuda_config.ENABLE_CUDASIM:
        return min(WARP, max(4, -(-dim // LANE_DIMS)))
    return WARP


def plan_units(offsets: np.ndarray, unit_words: int = UNIT_WORDS):
    """(unit_start, unit_end) int64: each sentence cut into consecutive
    pieces of at most unit_words words; empty sentences give no unit."""
    if not 1 <= unit_words <= UNIT_WORDS:
        raise ValueError(f"unit_words must be in 1..{UNIT_WORDS} (the kernel's buffer), got {unit_words}")
    lengths = np.diff(offsets)
    pieces = -(-lengths // unit_words)
    sentence = np.repeat(np.arange(len(lengths)), pieces)
    first = np.cumsum(pieces) - pieces
    index_in_sentence = np.arange(len(sentence)) - np.repeat(first, pieces)
    start = offsets[sentence] + index_in_sentence * unit_words
    end = np.minimum(start + unit_words, offsets[sentence + 1])
    return start.astype(np.int64), end.astype(np.int64)


class DeviceTrainer:
    """The weights, tables and a corpus slice on the GPU.

    Tokens and unit bounds are copied per launch (a few MB: one slice of the
    encoded corpus), so a corpus larger than the GPU's memory trains in
    slices; the weights stay on the device until ``download``.
    """

    def __init__(self, syn0, syn1neg, syn1, keep_prob, alias_prob, alias_index, codes, points,
                 code_lengths, sig, neg_log_sig, lanes: int = WARP):
        if not 1 <= lanes <= WARP or syn0.shape[1] > LANE_DIMS * lanes:
            raise ValueError(f"{lanes} lanes of at most {LANE_DIMS} dimensions cannot hold dim {syn0.shape[1]}")
        self.lanes = lanes
        self.host = (syn0, syn1neg, syn1)
        dummy_rows = np.zeros((1, syn0.shape[1]), np.float32)
        self.use_ns = syn1neg is not None
        self.use_hs = syn1 is not None
        self.syn0 = cuda.to_device(syn0)
        self.syn1neg = cuda.to_device(syn1neg if self.use_ns else dummy_rows)
        self.syn1 = cuda.to_device(syn1 if self.use_hs else dummy_rows)
        self.keep_prob = cuda.to_device(keep_prob)
        self.alias_prob = cuda.to_device(alias_prob if self.use_ns else np.ones(1))
        self.alias_index = cuda.to_device((alias_index if self.use_ns else np.zeros(1)).astype(np.int32))
        no_codes = np.zeros((1, 1), np.int32)
        self.codes = cuda.to_device(codes.astype(np.int32) if self.use_hs else no_codes)
        self.points = cuda.to_device(points.astype(np.int32) if self.use_hs else no_codes)
        self.code_lengths = cuda.to_device(code_lengths.astype(np.int32) if self.use_hs
                                           else np.zeros(1, np.int32))
        self.sig = cuda.to_device(sig)
        self.neg_log_sig = cuda.to_device(neg_log_sig)
        self.tokens = cuda.device_array(1, np.int32)
        self.unit_start = cuda.device_array(1, np.int64)
        self.unit_end = cuda.device_array(1, np.int64)
        self.totals = cuda.device_array(2, np.float64)

    def _room(self, words: int, units: int) -> None:
        """Grow the per-launch buffers (by half again) when a launch needs more."""
        if words > len(self.tokens):
            self.tokens = cuda.device_array(words + words // 2, np.int32)
        if units > len(self.unit_start):
            self.unit_start = cuda.device_array(units + units // 2, np.int64)
            self.unit_end = cuda.device_array(units + units // 2, np.int64)

    def launch(self, tokens, unit_start, unit_end, lr0, lr1, seed, stream_base, sg, cbow_mean, window,
               dynamic_window, negative):
        """Train units [unit_start[i], unit_end[i]) of `tokens` (host arrays
        of one call) with the rate moving from lr0 to lr1 across the call's
        words; returns (loss, examples)."""
        n_units = len(unit_start)
        if n_units == 0:
            return 0.0, 0.0
        base = int(unit_start[0])
        words = int(unit_end[-1]) - base
        self._room(words, n_units)
        self.tokens[:words].copy_to_device(np.ascontiguousarray(tokens[base:base + words]))
        self.unit_start[:n_units].copy_to_device(unit_start - base)
        self.unit_end[:n_units].copy_to_device(unit_end - base)
        self.totals.copy_to_device(np.zeros(2))
        train_units[n_units, self.lanes](
            self.syn0, self.syn1neg, self.syn1, self.tokens, self.unit_start[:n_units], self.unit_end[:n_units],
            self.keep_prob, self.alias_prob, self.alias_index, self.codes, self.points, self.code_lengths,
            self.sig, self.neg_log_sig, sg, cbow_mean, window, dynamic_window, negative, self.use_ns,
            self.use_hs, float(lr0), float((lr1 - lr0) / max(words, 1)), np.uint64(seed), stream_base,
            self.totals)
        loss, examples = self.totals.copy_to_host()
        return float(loss), float(examples)

    def download(self):
        """Copy the trained weights back into the host arrays."""
        for device, host in zip((self.syn0, self.syn1neg, self.syn1), self.host):
            if host is not None:
                device.copy_to_host(host)

    def upload(self):
        """Copy the host arrays (changed there: averaged by the ranks of a
        distributed run) to the GPU."""
        for device, host in zip((self.syn0, self.syn1neg, self.syn1), self.host):
            if host is not None:
                device.copy_to_device(host)
