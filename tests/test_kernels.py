"""Each kernel mode against a plain numpy reference on a tiny corpus, with the same RNG draws."""
import numba
import numpy as np
import pytest

from fastw2v.huffman import build_huffman
from fastw2v.kernels_cpu import merge_hot, sigmoid_tables, train_parts, window_block
from fastw2v.sampling import build_alias_table, draw_alias, next_below, stream_seed

V, DIM = 12, 8
SENTENCES = [[0, 3, 5, 1, 0, 7, 2, 9, 11, 4], [6, 0, 1, 8, 10, 3, 2]]
COUNTS = np.array([40, 30, 22, 18, 15, 12, 10, 8, 6, 5, 4, 3], dtype=np.int64)


def sigmoid(f):
    """The kernels' sigmoid: exact at the centre of each of 1024 bins over
    (-6, 6), saturated to 0/1 outside (tested against the exact one below)."""
    if f >= 6:
        return 1.0
    if f <= -6:
        return 0.0
    centre = -6.0 + (np.floor((f + 6.0) / 12.0 * 1024) + 0.5) * 12.0 / 1024
    return float(np.float32(1.0 / (1.0 + np.exp(-centre))))


def neg_log_sigmoid(z):
    return float(np.logaddexp(0.0, -z))


class Reference:
    """Plain numpy word2vec: one example at a time, float32 weights."""

    def __init__(self, syn0, syn1neg, syn1, syn1soft, alias, huffman, negative, rng):
        self.syn0, self.syn1neg, self.syn1, self.syn1soft = syn0, syn1neg, syn1, syn1soft
        self.alias, self.huffman, self.negative, self.rng = alias, huffman, negative, rng
        self.loss = 0.0
        self.examples = 0
        self.saturated = 0

    def logistic(self, h, grad, out, row, label, lr, clamp=True):
        f = float(np.dot(h, out[row]))
        self.loss += neg_log_sigmoid(f if label else -f)
        self.saturated += abs(f) >= 6
        if not clamp and abs(f) >= 6:
            return  # hierarchical softmax skips saturated nodes, as the C tool does
        g = np.float32((label - sigmoid(f)) * lr)
        grad += g * out[row]
        out[row] += g * h

    def example(self, h, target, lr):
        grad = np.zeros(DIM, np.float32)
        if self.syn1neg is not None:
            self.logistic(h, grad, self.syn1neg, target, 1, lr)
            for _ in range(self.negative):
                noise = draw_alias(self.rng, 0, *self.alias)
                if noise != target:
                    self.logistic(h, grad, self.syn1neg, noise, 0, lr)
        if self.syn1 is not None:
            codes, points, lengths = self.huffman
            for d in range(lengths[target]):
                self.logistic(h, grad, self.syn1, points[target, d], 1 - int(codes[target, d]), lr, clamp=False)
        if self.syn1soft is not None:
            scores = self.syn1soft.astype(np.float64) @ h.astype(np.float64)
            p = np.exp(scores - scores.max())
            p /= p.sum()
            self.loss += -np.log(p[target])
            g = ((np.arange(V) == target) - p) * lr
            grad += (g @ self.syn1soft).astype(np.float32)
            self.syn1soft += np.outer(g, h).astype(np.float32)
        self.examples += 1
        return grad

    def window(self, context, target, lr):
        """Window-batched skip-gram: one set of outputs for all context
        words, every score from the weights as they were before the window."""
        outputs = []  # (matrix, row, label, clamp)
        if self.syn1neg is not None:
            outputs.append((self.syn1neg, target, 1, True))
            for _ in range(self.negative):
                noise = draw_alias(self.rng, 0, *self.alias)
                if noise != target:
                    outputs.append((self.syn1neg, noise, 0, True))
        if self.syn1 is not None:
            codes, points, lengths = self.huffman
            outputs += [(self.syn1, points[target, d], 1 - int(codes[target, d]), False)
                        for d in range(lengths[target])]
        inputs = self.syn0[context].copy()
        old_out = np.array([m[row] for m, row, _, _ in outputs])
        grads = np.zeros((len(context), len(outputs)), np.float32)
        for c in range(len(context)):
            for k, (_, _, label, clamp) in enumerate(outputs):
                f = float(np.dot(inputs[c], old_out[k]))
                self.loss += neg_log_sigmoid(f if label else -f)
                self.saturated += abs(f) >= 6
                if clamp or abs(f) < 6:
                    grads[c, k] = np.float32((label - sigmoid(f)) * lr)
        for k, (m, row, _, _) in enumerate(outputs):
            m[row] += grads[:, k] @ inputs
        for c, word in enumerate(context):
            self.syn0[word] += grads[c] @ old_out
        self.examples += len(context)

    def sentence(self, sentence, sg, window, lr, cbow_mean, batch=False):
        n = len(sentence)
        for i, center in enumerate(sentence):
            span = window - next_below(self.rng, 0, window)
            context = [sentence[j] for j in range(max(0, i - span), min(n, i + span + 1)) if j != i]
            if sg and batch:
                if context:
                    self.window(context, center, lr)
            elif sg:
                for c in context:
                    grad = self.example(self.syn0[c].copy(), center, lr)
                    self.syn0[c] += grad
            else:
                h = self.syn0[context].sum(axis=0, dtype=np.float32)
                if cbow_mean:
                    h = h / np.float32(len(context))
                grad = self.example(h.astype(np.float32), center, lr)
                scale = np.float32(1.0) if cbow_mean else np.float32(1.0 / len(context))
                for c in context:
                    self.syn0[c] += scale * grad


MODES = [(sg, layer, mean, False) for sg in (True, False) for layer in ("ns", "hs", "ns+hs", "softmax")
         for mean in ((True,) if sg else (True, False))]
BATCHED = [(True, layer, True, True) for layer in ("ns", "hs", "ns+hs")]


@pytest.mark.parametrize("hot", [0, 3], ids=["shared-nodes", "private-top-nodes"])
@pytest.mark.parametrize("sg,layer,cbow_mean,batch", MODES + BATCHED)
def test_kernel_matches_numpy_reference(sg, layer, cbow_mean, batch, hot):
    """With hot > 0 the 3 tree nodes next to the root are trained in the
    thread's private copy, merged every 2 examples: one thread alone must
    still follow the reference.  `batch`: the window-batched skip-gram."""
    rs = np.random.RandomState(7)
    syn0 = ((rs.rand(V, DIM) - 0.5) / DIM).astype(np.float32)
    # output rows large enough that some dot products pass +-6 (the saturated branches)
    init_out = lambda rows: ((rs.rand(rows, DIM) - 0.5) * 30).astype(np.float32)  # noqa: E731
    negative = 4 if "ns" in layer else 0
    syn1neg = init_out(V) if "ns" in layer else None
    syn1 = init_out(V - 1) if "hs" in layer else None
    syn1soft = init_out(V) if layer == "softmax" else None
    alias = build_alias_table(COUNTS ** 0.75)
    huffman = build_huffman(COUNTS)
    window, lr0, lr1 = 3, 0.05, 0.02

    tokens = np.array(sum(SENTENCES, []), dtype=np.int32)
    offsets = np.array([0, len(SENTENCES[0]), len(tokens)], dtype=np.int64)
    keep = np.ones(V)  # no subsampling: keeps the draws comparable
    rng = np.array([stream_seed(3, 0)], dtype=np.uint64)
    weights = [w.copy() if w is not None else None for w in (syn0, syn1neg, syn1, syn1soft)]
    loss, examples = np.zeros(1), np.zeros(1)
    sig, nls = sigmoid_tables()
    train_parts(*weights, tokens, offsets, np.array([0, 2], dtype=np.int64), keep,
                alias[0] if negative else None, alias[1] if negative else None,
                *(huffman if syn1 is not None else (None, None, None)), sig, nls,
                sg, cbow_mean, window, True, negative, batch or None, lr0, lr1, 16, hot, 2, rng, loss, examples)

    ref_rng = np.array([stream_seed(3, 0)], dtype=np.uint64)
    ref = Reference(*[w.copy() if w is not None else None for w in (syn0, syn1neg, syn1, syn1soft)],
                    alias, huffman, negative, ref_rng)
    ref.sentence(SENTENCES[0], sg, window, np.float32(lr0), cbow_mean, batch)
    lr_second = np.float32(lr0 + (lr1 - lr0) * len(SENTENCES[0]) / len(tokens))
    ref.sentence(SENTENCES[1], sg, window, lr_second, cbow_mean, batch)

    for got, want in zip(weights, (ref.syn0, ref.syn1neg, ref.syn1, ref.syn1soft)):
        if want is not None:
            np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-6)
    assert not np.allclose(weights[0], syn0)  # training moved the input vectors
    assert examples[0] == ref.examples
    assert loss[0] == pytest.approx(ref.loss, rel=5e-3)
    assert rng[0] == ref_rng[0]  # the same number of draws was consumed
    if layer != "softmax":
        assert ref.saturated > 0  # the |f| >= 6 branch was exercised


@pytest.mark.parametrize("clamp", [True, False], ids=["negatives", "tree-path"])
def test_window_block_of_every_shape_matches_numpy(clamp):
    """The batched step's tiles (2 x 2 scores, 4 rows a pass, their edges)
    for 1-7 context rows against 1-9 output rows, one output row twice."""
    rs = np.random.RandomState(5)
    sig, nls = sigmoid_tables()
    lr = np.float32(0.05)
    for n_context in range(1, 8):
        for n_rows in range(1, 10):
            syn0 = ((rs.rand(20, DIM) - 0.5) * 2).astype(np.float32)
            out = ((rs.rand(20, DIM) - 0.5) * 6).astype(np.float32)  # some scores pass +-6
            context = rs.choice(20, n_context, replace=False).astype(np.int64)
            rows = rs.choice(20, n_rows, replace=False).astype(np.int64)
            if n_rows > 2:
                rows[-1] = rows[0]
            labels = rs.randint(2, size=n_rows).astype(np.int64)
            grads = np.zeros((8, 10), np.float32)
            grad_in = np.zeros((8, DIM), np.float32)
            got_out = out.copy()
            loss = window_block(syn0, context, n_context, got_out, rows, labels, n_rows, lr, sig, nls, clamp,
                                grads, grad_in)

            want_out = out.copy()
            want_in = np.zeros((n_context, DIM), np.float32)
            want_loss = 0.0
            for c in range(n_context):
                for k in range(n_rows):
                    f = float(np.dot(syn0[context[c]], out[rows[k]]))
                    z = f
                    if abs(f) < 6:  # inside the table: its bin's centre
                        z = -6.0 + (np.floor((f + 6.0) / 12.0 * 1024) + 0.5) * 12.0 / 1024
                    want_loss += neg_log_sigmoid(z if labels[k] else -z)
                    if not clamp and abs(f) >= 6:
                        continue
                    g = np.float32((labels[k] - sigmoid(f)) * lr)
                    want_in[c] += g * out[rows[k]]
                    want_out[rows[k]] += g * syn0[context[c]]
            np.testing.assert_allclose(grad_in[:n_context], want_in, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(got_out, want_out, rtol=1e-5, atol=1e-6)
            assert loss == pytest.approx(want_loss, rel=1e-6)


def test_merge_hot_keeps_the_changes_of_every_thread():
    rs = np.random.RandomState(0)
    out = rs.rand(6, DIM).astype(np.float32)
    start = out.copy()
    snap = out[4:].copy()                              # this thread's copy of rows 4 and 5
    local = snap + np.float32(0.25)                    # its own updates
    out[4:] += np.float32(-0.5)                        # another thread merged first
    merge_hot(out, 4, local, snap)
    np.testing.assert_allclose(out[4:], start[4:] - 0.25, rtol=1e-6)
    np.testing.assert_array_equal(out[:4], start[:4])  # rows outside the copy untouched
    np.testing.assert_array_equal(local, out[4:])      # the copy takes the other thread's changes
    np.testing.assert_array_equal(snap, out[4:])


def run_two_parts(hot, sync_every, batch=False):
    """Skip-gram NS + HS over two parts (one sentence each), one after the other."""
    rs = np.random.RandomState(3)
    syn0 = ((rs.rand(V, DIM) - 0.5) / DIM).astype(np.float32)
    syn1neg = ((rs.rand(V, DIM) - 0.5) * 4).astype(np.float32)
    syn1 = ((rs.rand(V - 1, DIM) - 0.5) * 4).astype(np.float32)
    alias, huffman = build_alias_table(COUNTS ** 0.75), build_huffman(COUNTS)
    tokens = np.array(sum(SENTENCES, []), dtype=np.int32)
    offsets = np.array([0, len(SENTENCES[0]), len(tokens)], dtype=np.int64)
    rng = np.array([stream_seed(5, 0), stream_seed(5, 1)], dtype=np.uint64)
    loss, examples = np.zeros(2), np.zeros(2)
    sig, nls = sigmoid_tables()
    start = [w.copy() for w in (syn0, syn1neg, syn1)]
    train_parts(syn0, syn1neg, syn1, None, tokens, offsets, np.array([0, 1, 2], dtype=np.int64), np.ones(V),
                *alias, *huffman, sig, nls, True, True, 3, True, 4, batch or None, 0.05, 0.05, 16, hot, sync_every,
                rng, loss, examples)
    for before, after in zip(start, (syn0, syn1neg, syn1)):
        assert not np.allclose(before, after)  # training moved every matrix
    return syn0, syn1neg, syn1


@pytest.mark.parametrize("batch", [False, True], ids=["pairs", "batched"])
def test_private_hot_rows_reach_the_next_part(batch):
    """The second part starts from the nodes the first part merged: with one
    thread, private copies of the top nodes (or of all) give the shared-node result."""
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        shared = run_two_parts(0, 1, batch)
        for hot, sync_every in ((V, 1), (V, 1000), (2, 3), (4, 7)):
            private = run_two_parts(hot, sync_every, batch)
            for got, want in zip(private, shared):
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    finally:
        numba.set_num_threads(threads)


def test_sigmoid_table_close_to_exact_sigmoid():
    sig, nls = sigmoid_tables()
    x = np.linspace(-5.999, 5.999, 100001)
    k = ((x + 6) * (1024 / 12)).astype(int)
    exact = 1 / (1 + np.exp(-x))
    assert np.abs(sig[k] - exact).max() < 0.25 * 12 / 1024 / 2 + 1e-6
    assert np.abs(nls[k] - np.logaddexp(0, -x)).max() < 12 / 1024 / 2 + 1e-6
