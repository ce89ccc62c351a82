"""Hogwild CPU kernels: skip-gram and CBOW over a slice of the encoded corpus.

Every output layer (negative sampling, hierarchical softmax, full softmax)
reduces to binary-logistic steps on (output row, label) pairs or, for the
full softmax, one pass over all rows; ``train_example`` applies the enabled
layers to one input vector h and accumulates dL/dh into ``grad``.
A disabled layer is passed as None, so numba compiles a separate kernel per
mode with the disabled branches removed.

Sigmoid edge, as in the C tool: sigma(f) comes from a 1024-entry table over
(-6, 6) sampled at bin centres.  Outside it, negative sampling takes sigma as
exactly 0 or 1 (a confident correct prediction gives no update, a confident
wrong one the full gradient (label - 0/1) * lr), while hierarchical softmax
skips the node.  Clamping the tree nodes too cost about 2 points of analogy
accuracy on en-mix (CBOW-HS, 1 epoch: 14.2% against 16.2-16.9% with the
skip); gensim skips in both layers.  The loss always uses the exact
log-sigmoid outside the table.

Learning rate: each part decays linearly from lr_start to lr_end along its own
progress, so threads that run side by side see the same rate.

Pairs of steps: the noise words of an example are drawn first, and target
and noise rows are stepped two at a time when the rows differ.  A step's
score does not depend on the previous step's update of another row, so this
equals the one-at-a-time order, but h and grad are read once per pair
(skip-gram NS 1 thread: about 715 -> 550 ns per example).  Tree nodes are
stepped one at a time: pairing them was 10% faster with one thread but
15-20% slower with two (skip-gram HS on en-mix, 2 threads: 389k/413k
against 449k/491k words/s), as every example writes the nodes next to the
root and the threads contend for those rows.

Private top nodes: for the same reason, with several threads each part
trains the `hot_nodes` inner nodes closest to the root (the heaviest: the
highest node ids) in a private copy, and every `sync_every` examples adds
its change since the last merge to the shared rows and takes the other
threads' changes back (``merge_hot``).  The other nodes stay Hogwild.  A
thread so sees its own updates of those nodes at once and the others' after
at most sync_every examples.  On 5.4M tokens of en-mix, 2 threads, 63 nodes
merged every 256 examples: skip-gram HS 0.52-0.54M -> 0.75-0.90M words/s,
CBOW HS 1.7M -> 2.5-2.7M, the training loss 0.04% (skip-gram) and 0.1%
(CBOW) higher.  The window-batched step, which trains an example in about
half the time, keeps 255 nodes and merges every 4096 examples (train.py
gives the measurements).  The same for the output rows of the 63 or 255
most frequent words did not speed negative sampling up, so NS rows are all
shared.

Prefetch: the classic path waits on random rows, so it asks the CPU for
them before it needs them (llvm.prefetch through a numba intrinsic, every
cache line of the row): each noise row as soon as it is drawn, the centre's
output row at the start of its window, and the next context row while the
current one trains.  The arithmetic and its order are unchanged (1 thread
and a seed give byte-identical vectors).  Skip-gram NS on en-mix, 1 epoch,
3 alternating runs (bench/results/en-mix-prefetch.md): 584k -> 840k words/s
on 1 thread (1.44x), 930k -> 1.18M on 2; on 5M tokens, 1 thread, 6.6 -> 4.8
s of CPU, of which the noise rows alone gave 6.6 -> 5.0.  The batched mode
prefetches its context, target and noise rows the same way: 5M tokens, 1
thread, 3.9-4.1 -> 3.55-3.67 s of CPU; en-mix 1.14x pWord2Vec's words/s
on 1 thread and 1.03x on 2 (bench/results/en-mix-prefetch-batch.md).
Drawn as the window trains, a noise row had only the other draws' time to
arrive, so the batched mode now draws the next window's span and outputs
one window ahead (the draws keep their order: byte-identical vectors with
one thread): en-mix, 1 epoch, alternating runs, 1.27-1.29M -> 1.37-1.42M
words/s on 1 thread, 2.29-2.33M -> 2.41-2.46M on 2; against pWord2Vec in
the same run 1.15x and 1.00x (bench/results/en-mix-lookahead-batch.md:
pWord2Vec itself ran 8% faster than in the run before).  Prefetching the
next window's new context rows as well was slower (1.34-1.35M, 2.28-2.36M).
CBOW draws one window ahead the same way (its draws are in the same order
too): en-mix, 1 epoch, 3 alternating runs, 2.96-3.07M -> 3.12-3.25M words/s
on 1 thread, 4.15-4.28M -> 4.36-4.55M on 2.  The classic skip-gram path
draws each pair's noise words while the pair before it in the window
trains (the draws in their order: byte-identical vectors with one thread):
en-mix, 1 epoch, 3 alternating rounds on an AMD EPYC machine, 754k -> 1.05M
words/s on 1 thread (1.43x in the same round), 1.39M -> 1.84M on 2 (1.33x),
quality unchanged (bench/results/en-mix-lookahead-classic.md, -quality.md).
Drawing the next window's span and first pair during a window's last pair
as well was not faster (5 alternating rounds: 0.92x on 1 thread, 1.05x on
2, within this machine's noise).

Tiles: the batched step (window_block) scores 2 context rows against 2
output rows per pass and updates 4 rows per pass over the row it writes;
a profile of the step before showed the time in loads and in short
horizontal reductions, not in the multiply-adds.  en-mix's first 5M
tokens, 1 thread, 5 alternating rounds: batched skip-gram HS 1.08M ->
1.41M words/s, batched NS 1.93M -> 2.42M.  Prefetching the next
window's tree path as well was within this machine's noise (1.01x
batched, 1.08x classic in 4 rounds of +-10%), so it is not done.

What two threads cost (batched skip-gram NS, 5M tokens of en-mix, 2
epochs): two single-thread processes side by side each keep their 1.62M
words/s, two threads of one process reach 2.73M, not 3.24M.  The parts are
balanced (their cycle counts differ by 0.4%), so the loss is the shared
weights: giving each thread its own output matrix (a measurement, not an
algorithm) took the epoch from 1.96 to 1.79 s.  Not kept, none faster:
private copies of the 64-4096 most frequent words' output rows (the other
rows copied into the block so that a window stays one block), merged every
256-16384 examples: 1.88-2.05 s, and a higher loss when merged rarely;
summing each output row's change locally and writing it once: 2% faster on
two threads, 3% slower on one; prefetching with write intent: within 1%;
512-bit vectors (NUMBA_CPU_FEATURES=...,-prefer-256-bit): 3.35 -> 4.2 s
batched, 4.5 -> 4.9 s classic; rows padded to 112 floats on 64-byte
boundaries (no row shares a cache line, no vector load splits one): 1.95 ->
1.88 s batched and 4.03 -> 3.88 s classic on two threads, 1-2% on one:
left for later, as every module that reads or syncs the weights would have
to know the padded layout.  Prefetching the target's tree path
(hierarchical softmax) or CBOW's context rows at the window's start: within
the noise of +-3% (the nodes near the root stay cached, consecutive windows
share their context words).  The loss costs about 4% of a batched epoch,
its exact value outside the table 1%.  A trap met on the way: a loop
that indexes `a[rows[k], d]` while storing to a float array reloads rows[k]
at every d (the store could alias it, as far as LLVM knows) and does not
vectorise (3.38 -> 4.88 s for a six-row copy per window): take the index
into a local first, as the helpers here do by taking rows as arguments.

Compilation policy (measured on skip-gram NS, 2 threads: 0.40M -> 0.69M
words/s): the per-example helpers are inlined into the parallel kernel
(``inline="always"``).  Called as separate functions they increment and
decrement the reference counts of the shared weight arrays on every call,
and those atomic writes bounce one cache line between the threads.  The
kernel is compiled with ``fastmath={"reassoc", "contract"}`` only, which
lets LLVM vectorise the dot products and fuse multiply-adds but keeps NaN
and infinity semantics, so the |f| < 6 guard and the divergence check hold.
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from .sampling import draw_alias, next_below, next_float

SIGMOID_BOUND = 6.0
SIGMOID_TABLE_SIZE = 1024


def sigmoid_tables():
    """(sigma, -log sigma) sampled at the centres of SIGMOID_TABLE_SIZE bins over (-6, 6)."""
    step = 2 * SIGMOID_BOUND / SIGMOID_TABLE_SIZE
    x = -SIGMOID_BOUND + (np.arange(SIGMOID_TABLE_SIZE) + 0.5) * step
    sig = 1.0 / (1.0 + np.exp(-x))
    neg_log_sig = np.logaddexp(0.0, -x)
    return sig.astype(np.float32), neg_log_sig.astype(np.float64)


@intrinsic
def _prefetch(typingctx, arr, row, col):
    """Hint the CPU to fetch arr[row, col]'s cache line (llvm.prefetch, read, high locality)."""
    def codegen(context, builder, signature, args):
        arrty = signature.args[0]
        ary = context.make_array(arrty)(context, builder, args[0])
        index = [context.cast(builder, v, t, types.intp) for v, t in zip(args[1:], signature.args[1:])]
        ptr = cgutils.get_item_pointer(context, builder, arrty, ary, index, wraparound=False)
        i32 = ir.IntType(32)
        ptr_t = ir.PointerType(ir.IntType(8))
        fnty = ir.FunctionType(ir.VoidType(), [ptr_t, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, ptr_t), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()
    return types.void(arr, row, col), codegen


@njit(cache=True, inline="always")
def prefetch_row(a, r):
    """Prefetch every cache line of a[r] (16 float32 a line)."""
    for d in range(0, a.shape[1], 16):
        _prefetch(a, r, d)


@njit(cache=True, inline="always")
def dot_rows(a, ra, b, rb):
    """a[ra] . b[rb] (vectorised under the kernels' reassoc flag)."""
    s = np.float32(0.0)
    for d in range(a.shape[1]):
        s += a[ra, d] * b[rb, d]
    return s


@njit(cache=True, inline="always")
def update_pair(h, hr, grad, out, row, g):
    """grad += g out[row]; out[row] += g h[hr] (one fused pass; grad uses the old out[row])."""
    for d in range(h.shape[1]):
        o = out[row, d]
        grad[d] += g * o
        out[row, d] = o + g * h[hr, d]


@njit(cache=True, inline="always")
def dot_two(h, hr, out, r1, r2):
    """(h[hr] . out[r1], h[hr] . out[r2]) in one pass over h."""
    s1 = np.float32(0.0)
    s2 = np.float32(0.0)
    for d in range(h.shape[1]):
        x = h[hr, d]
        s1 += x * out[r1, d]
        s2 += x * out[r2, d]
    return s1, s2


@njit(cache=True, inline="always")
def update_two(h, hr, grad, out, r1, g1, r2, g2):
    """update_pair for two different rows in one pass over h and grad."""
    for d in range(h.shape[1]):
        x = h[hr, d]
        o1 = out[r1, d]
        o2 = out[r2, d]
        grad[d] += g1 * o1 + g2 * o2
        out[r1, d] = o1 + g1 * x
        out[r2, d] = o2 + g2 * x


@njit(cache=True, inline="always")
def add_to_row(out, row, v, scale):
    """out[row] += scale v."""
    for d in range(v.shape[0]):
        out[row, d] += scale * v[d]


@njit(cache=True, inline="always")
def add_row_to(v, out, row):
    """v[0] += out[row]."""
    for d in range(v.shape[1]):
        v[0, d] += out[row, d]


@njit(cache=True, inline="always")
def merge_hot(out, base, local, snap):
    """Fold this thread's changes to its copy of out[base:base + len(local)]
    into the shared rows, and take the other threads' changes into the copy."""
    for r in range(local.shape[0]):
        for d in range(local.shape[1]):
            v = out[base + r, d] + (local[r, d] - snap[r, d])
            out[base + r, d] = v
            local[r, d] = v
            snap[r, d] = v


@njit(cache=True)
def neg_log_sigmoid(z):
    """-log sigma(z), exact and overflow-free."""
    if z < 0.0:
        return -z + math.log1p(math.exp(z))
    return math.log1p(math.exp(-z))


@njit(cache=True, inline="always")
def logistic_gradient(f, label, lr, sig, neg_log_sig, clamp):
    """(g, loss) of a binary-logistic step with score f and label 0/1:
    g = (label - sigma(f)) lr scales the updates, loss = -log P(label).

    For |f| >= 6, `clamp` takes sigma as 0 or 1 (negative sampling);
    otherwise g is 0: the step is skipped (hierarchical softmax).
    """
    if -SIGMOID_BOUND < f < SIGMOID_BOUND:
        k = int((f + SIGMOID_BOUND) * (SIGMOID_TABLE_SIZE / (2 * SIGMOID_BOUND)))
        p = sig[k]
        loss = neg_log_sig[k if label else SIGMOID_TABLE_SIZE - 1 - k]
    else:
        loss = neg_log_sigmoid(f if label else -f)
        if not clamp:
            return np.float32(0.0), loss
        p = np.float32(1.0) if f > 0 else np.float32(0.0)
    return (np.float32(label) - p) * lr, loss


@njit(cache=True, inline="always")
def logistic_step(h, hr, grad, out, row, label, lr, sig, neg_log_sig, clamp):
    """One binary-logistic step of output row `row` for input h[hr]: updates
    out[row], accumulates the input gradient in grad, returns the loss."""
    g, loss = logistic_gradient(dot_rows(h, hr, out, row), label, lr, sig, neg_log_sig, clamp)
    if g != 0:
        update_pair(h, hr, grad, out, row, g)
    return loss


@njit(cache=True, inline="always")
def logistic_two(h, hr, grad, out, r1, label1, r2, label2, lr, sig, neg_log_sig, clamp):
    """Two steps on different rows r1 != r2, fused: the second step's score
    does not depend on the first step's update of another row, so this equals
    the two steps in order while reading h and grad once."""
    f1, f2 = dot_two(h, hr, out, r1, r2)
    g1, loss1 = logistic_gradient(f1, label1, lr, sig, neg_log_sig, clamp)
    g2, loss2 = logistic_gradient(f2, label2, lr, sig, neg_log_sig, clamp)
    # a row whose step is skipped is not written at all: writing back its old
    # values could undo another thread's update of that (often hot) row
    if g1 != 0 and g2 != 0:
        update_two(h, hr, grad, out, r1, g1, r2, g2)
    elif g1 != 0:
        update_pair(h, hr, grad, out, r1, g1)
    elif g2 != 0:
        update_pair(h, hr, grad, out, r2, g2)
    return loss1 + loss2


@njit(cache=True)
def softmax_step(h, hr, grad, out, target, lr, scores):
    """Exact softmax over all rows of out for input h[hr]; returns -log P(target)."""
    v = out.shape[0]
    top = -np.inf
    for w in range(v):
        scores[w] = dot_rows(h, hr, out, w)
        top = max(top, scores[w])
    total = 0.0
    for w in range(v):
        scores[w] = math.exp(scores[w] - top)
        total += scores[w]
    loss = -math.log(scores[target] / total)
    for w in range(v):
        g = np.float32(((1.0 if w == target else 0.0) - scores[w] / total) * lr)
        update_pair(h, hr, grad, out, w, g)
    return loss


@njit(cache=True, inline="always")
def train_example(h, hr, grad, target, lr, syn1neg, rows, n,
                  syn1, codes, points, code_lengths, node_copy, node_base, syn1soft, scores, sig, neg_log_sig):
    """All enabled output layers for (h[hr] -> target); returns the summed loss.

    The input is a row of a matrix rather than a 1-D view: creating views in
    the hot loop would touch the parent's reference count from every thread.
    Negative sampling steps through the n rows the caller drew (the target
    first, then the noise words: draw_pair_outputs) two rows at a time
    where they differ.  Tree nodes from node_base up are trained in this
    thread's node_copy (see train_parts).
    """
    loss = 0.0
    if syn1neg is not None:
        k = 0
        while k < n:
            label = 1 if k == 0 else 0
            if k + 1 < n and rows[k + 1] != rows[k]:
                loss += logistic_two(h, hr, grad, syn1neg, rows[k], label, rows[k + 1], 0, lr,
                                     sig, neg_log_sig, True)
                k += 2
            else:
                loss += logistic_step(h, hr, grad, syn1neg, rows[k], label, lr, sig, neg_log_sig, True)
                k += 1
    if syn1 is not None:  # one node at a time, see "Pairs of steps" above
        for d in range(code_lengths[target]):
            node = points[target, d]
            if node >= node_base:
                loss += logistic_step(h, hr, grad, node_copy, node - node_base, 1 - codes[target, d], lr,
                                      sig, neg_log_sig, False)
            else:
                loss += logistic_step(h, hr, grad, syn1, node, 1 - codes[target, d], lr,
                                      sig, neg_log_sig, False)
    if syn1soft is not None:
        loss += softmax_step(h, hr, grad, syn1soft, target, lr, scores)
    return loss


@njit(cache=True, inline="always")
def subsample(tokens, start, end, keep_prob, rng, t, buf):
    """Copy the kept tokens of tokens[start:end] into buf; returns how many."""
    n = 0
    for i in range(start, end):
        w = tokens[i]
        p = keep_prob[w]
        if p >= 1.0 or next_float(rng, t) < p:
            buf[n] = w
            n += 1
    return n


@njit(cache=True, inline="always")
def window_span(window, dynamic_window, rng, t):
    """Half-width of this centre's window: uniform in 1..window (the C tool's
    reduced window) or fixed."""
    if dynamic_window:
        return window - next_below(rng, t, window)
    return window


@njit(cache=True, inline="always")
def add_row(dst, dr, src, r, g):
    """dst[dr] += g src[r]."""
    for d in range(dst.shape[1]):
        dst[dr, d] += g * src[r, d]


@njit(cache=True, inline="always")
def add_two_rows(dst, dr, src, r1, g1, r2, g2):
    """dst[dr] += g1 src[r1] + g2 src[r2] in one pass over dst[dr]."""
    for d in range(dst.shape[1]):
        dst[dr, d] += g1 * src[r1, d] + g2 * src[r2, d]


@njit(cache=True, inline="always")
def dot_2x2(a, a1, a2, b, b1, b2):
    """The four dot products of rows a[a1], a[a2] with b[b1], b[b2] in one pass."""
    s11 = np.float32(0.0)
    s12 = np.float32(0.0)
    s21 = np.float32(0.0)
    s22 = np.float32(0.0)
    for d in range(a.shape[1]):
        x1 = a[a1, d]
        x2 = a[a2, d]
        y1 = b[b1, d]
        y2 = b[b2, d]
        s11 += x1 * y1
        s12 += x1 * y2
        s21 += x2 * y1
        s22 += x2 * y2
    return s11, s12, s21, s22


@njit(cache=True, inline="always")
def add_four_rows(dst, dr, src, r1, g1, r2, g2, r3, g3, r4, g4):
    """dst[dr] += g1 src[r1] + ... + g4 src[r4] in one pass over dst[dr]."""
    for d in range(dst.shape[1]):
        dst[dr, d] += (g1 * src[r1, d] + g2 * src[r2, d]) + (g3 * src[r3, d] + g4 * src[r4, d])


@njit(cache=True, inline="always")
def block_scores(syn0, context, n_context, out, rows, n_rows, scores):
    """scores[c, k] = syn0[context[c]] . out[rows[k]], in tiles of two
    context rows by two output rows (four products per pass over four rows)."""
    c = 0
    while c + 1 < n_context:
        w1 = context[c]
        w2 = context[c + 1]
        k = 0
        while k + 1 < n_rows:
            s11, s12, s21, s22 = dot_2x2(syn0, w1, w2, out, rows[k], rows[k + 1])
            scores[c, k] = s11
            scores[c, k + 1] = s12
            scores[c + 1, k] = s21
            scores[c + 1, k + 1] = s22
            k += 2
        if k < n_rows:
            s1, s2 = dot_two(out, rows[k], syn0, w1, w2)
            scores[c, k] = s1
            scores[c + 1, k] = s2
        c += 2
    if c < n_context:
        w = context[c]
        k = 0
        while k + 1 < n_rows:
            s1, s2 = dot_two(syn0, w, out, rows[k], rows[k + 1])
            scores[c, k] = s1
            scores[c, k + 1] = s2
            k += 2
        if k < n_rows:
            scores[c, k] = dot_rows(syn0, w, out, rows[k])


@njit(cache=True, inline="always")
def window_block(syn0, context, n_context, out, rows, labels, n_rows, lr, sig, neg_log_sig, clamp, grads,
                 grad_in):
    """The batched step of one window against one output matrix: every
    context row syn0[context[c]] is scored against every output row
    out[rows[k]] with the weights as they were before the window,
        G[c, k] = (labels[k] - sigma(syn0[context[c]] . out[rows[k]])) lr,
    then grad_in[c] += sum_k G[c, k] out[rows[k]] (applied to syn0 by the
    caller, after every output block of the window) and
    out[rows[k]] += sum_c G[c, k] syn0[context[c]].  A row that appears
    twice (a noise word drawn twice) receives both updates.  Returns the loss.

    Three passes, each reading as few rows per multiply-add as the small
    blocks allow: the scores in tiles of 2 context by 2 output rows
    (block_scores, into grads), all gradients from the scores (in place),
    then four output rows per
    pass over grad_in[c] and four context rows per pass over out[rows[k]].
    Against two outputs per pass for all three and the gradient taken as
    each score came (dim 100, one thread, a window's tree path or
    negatives in a microbenchmark of en-mix-like windows): 23.2 -> 17.4 ns
    per (context, output) pair for the tree path, 42 -> 28 ns for the
    negatives.  Eight output rows per pass over grad_in[c] gained nothing
    more (17.3 ns)."""
    block_scores(syn0, context, n_context, out, rows, n_rows, grads)
    loss = 0.0
    for c in range(n_context):
        for k in range(n_rows):
            g, step_loss = logistic_gradient(grads[c, k], labels[k], lr, sig, neg_log_sig, clamp)
            grads[c, k] = g
            loss += step_loss
    for c in range(n_context):
        k = 0
        while k + 3 < n_rows:
            add_four_rows(grad_in, c, out, rows[k], grads[c, k], rows[k + 1], grads[c, k + 1],
                          rows[k + 2], grads[c, k + 2], rows[k + 3], grads[c, k + 3])
            k += 4
        if k + 1 < n_rows:
            add_two_rows(grad_in, c, out, rows[k], grads[c, k], rows[k + 1], grads[c, k + 1])
            k += 2
        if k < n_rows:
            add_row(grad_in, c, out, rows[k], grads[c, k])
    for k in range(n_rows):
        r = rows[k]
        c = 0
        while c + 3 < n_context:
            add_four_rows(out, r, syn0, context[c], grads[c, k], context[c + 1], grads[c + 1, k],
                          context[c + 2], grads[c + 2, k], context[c + 3], grads[c + 3, k])
            c += 4
        if c + 1 < n_context:
            add_two_rows(out, r, syn0, context[c], grads[c, k], context[c + 1], grads[c + 1, k])
            c += 2
        if c < n_context:
            add_row(out, r, syn0, context[c], grads[c, k])
    return loss


@njit(cache=True, inline="always")
def draw_pair_outputs(syn1neg, target, negative, alias_prob, alias_index, rng, t, rows):
    """The negative-sampling outputs of one example: `target`, then
    `negative` noise words drawn from the alias table (a draw equal to the
    target dropped), the noise rows prefetched.  Returns how many."""
    rows[0] = target
    n = 1
    for _ in range(negative):
        noise = draw_alias(rng, t, alias_prob, alias_index)
        if noise != target:
            rows[n] = noise
            prefetch_row(syn1neg, noise)
            n += 1
    return n


@njit(cache=True, inline="always")
def draw_window_outputs(syn1neg, target, negative, alias_prob, alias_index, rng, t, rows, labels):
    """draw_pair_outputs for a window drawn ahead: the target's row
    prefetched too, and the labels (1 for the target, 0 for noise) set."""
    prefetch_row(syn1neg, target)
    n = draw_pair_outputs(syn1neg, target, negative, alias_prob, alias_index, rng, t, rows)
    labels[0] = 1
    for k in range(1, n):
        labels[k] = 0
    return n


@njit(cache=True, inline="always")
def train_window(syn0, context, n_context, target, lr, syn1neg, ns_rows, ns_labels, n_ns,
                 syn1, codes, points, code_lengths, node_copy, node_base, sig, neg_log_sig,
                 rows, labels, grads, grad_in):
    """Window-batched skip-gram (HogBatch, Ji et al. 2016) for one centre
    word: the context rows predict `target` through one set of outputs,
    the n_ns negative-sampling outputs drawn once for the whole window
    (draw_window_outputs, one window ahead) and the target's tree path
    (hierarchical softmax, the nodes from node_base up in this thread's
    node_copy).  Returns the loss."""
    dim = syn0.shape[1]
    for c in range(n_context):
        prefetch_row(syn0, context[c])
        for d in range(dim):
            grad_in[c, d] = 0.0
    loss = 0.0
    if syn1neg is not None:
        loss += window_block(syn0, context, n_context, syn1neg, ns_rows, ns_labels, n_ns, lr, sig, neg_log_sig,
                             True, grads, grad_in)
    if syn1 is not None:
        shared = 0
        private = 0
        length = code_lengths[target]
        for d in range(length):  # shared nodes from the front of rows, private ones from the back
            node = points[target, d]
            if node >= node_base:
                private += 1
                slot = rows.shape[0] - private
                rows[slot] = node - node_base
                labels[slot] = 1 - codes[target, d]
            else:
                rows[shared] = node
                labels[shared] = 1 - codes[target, d]
                shared += 1
        loss += window_block(syn0, context, n_context, syn1, rows, labels, shared, lr, sig, neg_log_sig, False,
                             grads, grad_in)
        if private:
            base = rows.shape[0] - private
            loss += window_block(syn0, context, n_context, node_copy, rows[base:], labels[base:], private, lr,
                                 sig, neg_log_sig, False, grads, grad_in)
    for c in range(n_context):
        add_to_row(syn0, context[c], grad_in[c], np.float32(1.0))
    return loss


@njit(parallel=True, cache=True, fastmath={"reassoc", "contract"})
def train_parts(syn0, syn1neg, syn1, syn1soft, tokens, offsets, part_bounds, keep_prob,
                alias_prob, alias_index, codes, points, code_lengths, sig, neg_log_sig,
                sg, cbow_mean, window, dynamic_window, negative, batch_window, lr_start, lr_end, max_sentence,
                hot_nodes, sync_every, rng, loss_out, examples_out):
    """Skip-gram (sg) or CBOW over sentences part_bounds[t]..part_bounds[t+1]
    for each part t.

    Skip-gram: as in the C tool, each context word's input vector predicts
    the centre word, one (context, centre) pair at a time, or, when
    batch_window is not None, all the context words of a centre at once
    (train_window).  CBOW: the mean (or sum) of the context vectors
    predicts it; with the mean every context vector receives the full input
    gradient, as in the C tool and gensim, with the sum gradient / count,
    as gensim does, so the summed input moves by one gradient step.

    Part t draws from generator rng[t] (copied to a private cache line
    while it runs) and writes its float64 loss and example count to
    loss_out[t] and examples_out[t]; only the weights are shared, with the
    top `hot_nodes` tree nodes merged every `sync_every` examples (see
    "Private top nodes" above; 0 nodes with one thread).

    Compile time and speed (skip-gram NS, cold numba cache, 2-core machine):
    batch_window is None or True rather than a bool, so that numba prunes
    the batched path from the kernels that do not use it; the part's body
    is written inside the prange loop, where moving it into an inlined
    function took the kernel's compile from 14 to 31 s.  A serial nogil
    kernel run on Python threads compiled in half the time but trained at
    half the speed (War and Peace, 1 thread: 0.84 s against 0.43 s of CPU
    per epoch): LLVM optimises the kernel better in numba's parallel loop.
    """
    dim = syn0.shape[1]
    vocab = syn0.shape[0] if syn1soft is not None else 0
    hot_nodes = min(hot_nodes, syn1.shape[0]) if syn1 is not None else 0
    node_base = syn1.shape[0] - hot_nodes if syn1 is not None else 0
    for part in prange(len(part_bounds) - 1):
        state = np.empty(8, dtype=np.uint64)  # one cache line, owned by this part
        state[0] = rng[part]
        buf = np.empty(max_sentence, dtype=np.int32)
        grad = np.empty(dim, dtype=np.float32)
        h = np.empty((1, dim), dtype=np.float32)
        n_outputs = max(negative + 1, codes.shape[1] if codes is not None else 0)
        rows = np.empty(n_outputs, dtype=np.int64)
        labels = np.empty(n_outputs, dtype=np.int64)
        context = np.empty(2 * window, dtype=np.int64)
        ns_rows = np.empty((2, negative + 1), dtype=np.int64)  # this window's (pair's) and the next one's
        ns_labels = np.empty((2, negative + 1), dtype=np.int64)
        ahead = 0
        ahead_span = 0
        ahead_n = 0
        grads = np.empty((2 * window, n_outputs), dtype=np.float32)
        grad_in = np.empty((2 * window, dim), dtype=np.float32)
        scores = np.empty(vocab, dtype=np.float64)
        node_copy = np.empty((hot_nodes, dim), dtype=np.float32)
        node_snap = np.empty((hot_nodes, dim), dtype=np.float32)
        if syn1 is not None:
            node_copy[:] = syn1[node_base:]
            node_snap[:] = node_copy
        since_sync = 0
        s0 = part_bounds[part]
        s1 = part_bounds[part + 1]
        total = max(1, offsets[s1] - offsets[s0])
        loss = 0.0
        examples = 0.0
        for s in range(s0, s1):
            lr = np.float32(lr_start + (lr_end - lr_start) * ((offsets[s] - offsets[s0]) / total))
            n = subsample(tokens, offsets[s], offsets[s + 1], keep_prob, state, 0, buf)
            for i in range(n):
                if syn1 is not None:
                    if since_sync >= sync_every:
                        merge_hot(syn1, node_base, node_copy, node_snap)
                        since_sync = 0
                if batch_window is not None or not sg:
                    # batched skip-gram and CBOW draw the next window's span and outputs before this one trains,
                    # so that its rows arrive meanwhile; the draws keep their order (span, noise, span, noise,
                    # ...), and a window has context words, hence noise draws, exactly when its sentence has two
                    # words or more
                    if i == 0:
                        ahead_span = window_span(window, dynamic_window, state, 0)
                        ahead_n = 0
                        if syn1neg is not None and n > 1:
                            ahead_n = draw_window_outputs(syn1neg, buf[0], negative, alias_prob, alias_index,
                                                          state, 0, ns_rows[ahead], ns_labels[ahead])
                    span = ahead_span
                    n_ns = ahead_n
                    current = ahead
                    if i + 1 < n:
                        ahead = 1 - current
                        ahead_span = window_span(window, dynamic_window, state, 0)
                        if syn1neg is not None:
                            ahead_n = draw_window_outputs(syn1neg, buf[i + 1], negative, alias_prob, alias_index,
                                                          state, 0, ns_rows[ahead], ns_labels[ahead])
                    lo = max(0, i - span)
                    hi = min(n, i + span + 1)
                    if batch_window is not None:
                        n_context = 0
                        for j in range(lo, hi):
                            if j != i:
                                context[n_context] = buf[j]
                                n_context += 1
                        if n_context:
                            loss += train_window(syn0, context, n_context, buf[i], lr, syn1neg, ns_rows[current],
                                                 ns_labels[current], n_ns, syn1, codes, points, code_lengths,
                                                 node_copy, node_base, sig, neg_log_sig, rows, labels, grads,
                                                 grad_in)
                            examples += n_context
                            since_sync += n_context
                        continue
                    count = hi - lo - 1
                    if count == 0:
                        continue
                    h[:] = 0.0
                    for j in range(lo, hi):
                        if j != i:
                            add_row_to(h, syn0, buf[j])
                    if cbow_mean:
                        h *= np.float32(1.0 / count)
                    grad[:] = 0.0
                    loss += train_example(h, 0, grad, buf[i], lr, syn1neg, ns_rows[current], n_ns, syn1, codes,
                                          points, code_lengths, node_copy, node_base, syn1soft, scores, sig,
                                          neg_log_sig)
                    scale = np.float32(1.0) if cbow_mean else np.float32(1.0 / count)
                    for j in range(lo, hi):
                        if j != i:
                            add_to_row(syn0, buf[j], grad, scale)
                    examples += 1.0
                    since_sync += 1
                    continue
                span = window_span(window, dynamic_window, state, 0)
                lo = max(0, i - span)
                hi = min(n, i + span + 1)
                # each pair's noise words are drawn while the pair before it in the window trains (the
                # window's first pair's at its start), so that their rows arrive meanwhile; the draws keep
                # their order
                current = 0
                n_ns = 0
                if syn1neg is not None:
                    prefetch_row(syn1neg, buf[i])
                    if hi - lo > 1:
                        n_ns = draw_pair_outputs(syn1neg, buf[i], negative, alias_prob, alias_index, state, 0,
                                                 ns_rows[current])
                for j in range(lo, hi):
                    if j == i:
                        continue
                    nxt = j + 2 if j + 1 == i else j + 1
                    ahead_n = 0
                    if nxt < hi:
                        prefetch_row(syn0, buf[nxt])
                        if syn1neg is not None:
                            ahead_n = draw_pair_outputs(syn1neg, buf[i], negative, alias_prob, alias_index, state,
                                                        0, ns_rows[1 - current])
                    grad[:] = 0.0
                    loss += train_example(syn0, buf[j], grad, buf[i], lr, syn1neg, ns_rows[current], n_ns, syn1,
                                          codes, points, code_lengths, node_copy, node_base, syn1soft, scores,
                                          sig, neg_log_sig)
                    add_to_row(syn0, buf[j], grad, np.float32(1.0))
                    examples += 1.0
                    since_sync += 1
                    current = 1 - current
                    n_ns = ahead_n
        if syn1 is not None:
            merge_hot(syn1, node_base, node_copy, node_snap)
        rng[part] = state[0]
        loss_out[part] = loss
        examples_out[part] = examples
