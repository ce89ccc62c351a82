"""Training driver: builds the tables, plans the work into large slices and
calls the kernels; Python never runs per token.

Each kernel call trains on a slice of about ``WORDS_PER_PART`` words per
thread, split into one part per thread with balanced word counts.  Between
calls Python moves the learning rate along the linear schedule over all
words of all epochs, checks the loss for divergence and reports progress.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, asdict

import numba
import numpy as np

from .config import Config, ConfigError
from .corpus import EncodedCorpus, encode_sentences, load_corpus
from .huffman import build_huffman
from .kernels_cpu import sigmoid_tables, train_cbow, train_skipgram
from .progress import Progress
from .sampling import build_alias_table, keep_probabilities, noise_distribution, stream_seed
from .vocab import Vocabulary

WORDS_PER_PART = 1 << 18


class TrainingError(RuntimeError):
    """Training cannot go on (the weights or the loss stopped being finite)."""


@dataclass
class EpochStats:
    epoch: int
    loss: float             # mean loss per training example
    examples: int           # (input, target) examples trained
    words: int              # kept corpus words processed (before subsampling)
    raw_words: int          # words read, unknown words included
    seconds: float
    words_per_second: float  # raw words per second
    lr: float               # learning rate at the end of the epoch


def _is_file_corpus(corpus) -> bool:
    """A path or a list of paths (a list of strings cannot be token lists)."""
    if isinstance(corpus, (str, os.PathLike)):
        return True
    return (isinstance(corpus, (list, tuple)) and len(corpus) > 0
            and all(isinstance(c, (str, os.PathLike)) for c in corpus))


def load_training_corpus(corpus, config: Config):
    """(Vocabulary, EncodedCorpus, invalid UTF-8 token count) for files or token lists."""
    if _is_file_corpus(corpus):
        return load_corpus(corpus, config.min_count, config.max_vocab_size, config.max_final_vocab,
                           config.max_sentence_length)
    vocab, encoded = encode_sentences(corpus, config.min_count, config.max_vocab_size,
                                      config.max_final_vocab, config.max_sentence_length)
    return vocab, encoded, 0


class Word2Vec:
    """A word2vec model: configuration, vocabulary, input vectors and output weights.

    ``syn0`` holds the word vectors; ``syn1neg`` the negative-sampling output
    vectors, ``syn1`` the hierarchical-softmax inner nodes and ``syn1soft``
    the full-softmax output vectors, each None when that layer is off.
    """

    def __init__(self, config: Config, vocab: Vocabulary, syn0: np.ndarray,
                 syn1neg: np.ndarray | None = None, syn1: np.ndarray | None = None,
                 syn1soft: np.ndarray | None = None):
        self.config = config
        self.vocab = vocab
        self.syn0 = syn0
        self.syn1neg = syn1neg
        self.syn1 = syn1
        self.syn1soft = syn1soft
        self.history: list[EpochStats] = []
        self.compile_seconds = 0.0
        self.invalid_utf8_tokens = 0
        self._wv = None

    @classmethod
    def initialize(cls, config: Config, vocab: Vocabulary) -> "Word2Vec":
        """Input vectors uniform in +-0.5/dim, output weights zero (the C tool's start)."""
        v, dim = len(vocab), config.dim
        rng = np.random.Generator(np.random.PCG64(config.seed))
        syn0 = (rng.random((v, dim), dtype=np.float32) - np.float32(0.5)) / np.float32(dim)
        zeros = lambda rows: np.zeros((rows, dim), dtype=np.float32)  # noqa: E731
        return cls(config, vocab, syn0,
                   syn1neg=zeros(v) if config.negative > 0 else None,
                   syn1=zeros(max(v - 1, 1)) if config.hs else None,
                   syn1soft=zeros(v) if config.softmax else None)

    # ----- using the vectors -------------------------------------------------
    @property
    def wv(self):
        """The word vectors as a KeyedVectors (shares memory with syn0)."""
        from .vectors import KeyedVectors

        if self._wv is None or self._wv.vectors is not self.syn0:
            self._wv = KeyedVectors(list(self.vocab.words), self.syn0, self.vocab.counts)
        return self._wv

    def most_similar(self, word, topn: int = 10):
        """Nearest words to `word` by cosine similarity (the chapter's get_similar_tokens)."""
        return self.wv.most_similar(positive=[word], topn=topn)

    def similarity(self, w1, w2) -> float:
        return self.wv.similarity(w1, w2)

    def save_word2vec_format(self, path, binary: bool = True, **kwargs):
        """Write the word vectors in the C tool's text or binary format."""
        self.wv.save_word2vec_format(path, binary=binary, **kwargs)

    @property
    def output_vectors(self) -> np.ndarray:
        """Per-word output (context) vectors: syn1neg, or syn1soft for the full softmax."""
        out = self.syn1neg if self.syn1neg is not None else self.syn1soft
        if out is None:
            raise ValueError("hierarchical softmax has no per-word output vectors "
                             "(its output rows belong to inner tree nodes)")
        return out

    def save_output_vectors(self, path, binary: bool = True, **kwargs):
        from .vectors import KeyedVectors

        KeyedVectors(list(self.vocab.words), self.output_vectors, self.vocab.counts) \
            .save_word2vec_format(path, binary=binary, **kwargs)

    def save(self, path) -> None:
        """Write the whole model (config, vocabulary, all weights, history) to a
        versioned .npz file, so it can be used or trained further later."""
        from .modelfile import save_model

        save_model(self, path)

    @classmethod
    def load(cls, path) -> "Word2Vec":
        """Read a model written by save()."""
        from .modelfile import load_model

        return load_model(path)[0]

    # ----- training ----------------------------------------------------------
    def train_encoded(self, corpus: EncodedCorpus, progress: Progress | None = None) -> list[EpochStats]:
        """Train for config.epochs over an encoded corpus (ids from this model's vocabulary)."""
        cfg = self.config
        if cfg.device == "cuda":
            raise ConfigError("device='cuda': the CUDA trainer is not part of this version; use device='cpu'")
        progress = progress or Progress(cfg.epochs, quiet=True)
        if len(corpus.tokens) and int(corpus.tokens.max()) >= len(self.vocab):
            raise ValueError("corpus ids do not belong to this vocabulary")
        n_words = int(corpus.offsets[-1])
        if n_words == 0:
            raise TrainingError("the corpus has no words in the vocabulary to train on")
        counts = self.vocab.counts
        keep = keep_probabilities(counts, cfg.sample)
        alias_prob = alias_index = codes = points = code_lengths = None
        if self.syn1neg is not None:
            alias_prob, alias_index = build_alias_table(noise_distribution(counts, cfg.ns_exponent))
        if self.syn1 is not None:
            codes, points, code_lengths = build_huffman(counts)
        sig, neg_log_sig = sigmoid_tables()
        n_parts = cfg.threads
        numba.set_num_threads(min(n_parts, numba.config.NUMBA_NUM_THREADS))
        calls = plan_calls(corpus.offsets, n_parts, WORDS_PER_PART)
        max_sentence = int(np.diff(corpus.offsets).max())
        rng = np.zeros(n_parts, dtype=np.uint64)
        loss = np.zeros(n_parts, dtype=np.float64)
        examples = np.zeros(n_parts, dtype=np.float64)
        raw_per_word = corpus.raw_word_count / n_words

        def run(part_bounds, lr0, lr1):
            common = (self.syn0, self.syn1neg, self.syn1, self.syn1soft, corpus.tokens, corpus.offsets,
                      part_bounds, keep, alias_prob, alias_index, codes, points, code_lengths, sig,
                      neg_log_sig, cfg.window, cfg.dynamic_window, cfg.negative, lr0, lr1,
                      max_sentence, rng, loss, examples)
            if cfg.sg:
                train_skipgram(*common)
            else:
                train_cbow(*common, cfg.cbow_mean)

        # compile (or load from the on-disk cache) outside the timed loop: zero parts
        start = time.perf_counter()
        run(np.zeros(1, dtype=np.int64), 0.0, 0.0)
        self.compile_seconds = time.perf_counter() - start

        total = cfg.epochs * n_words
        stream = 0
        first_epoch = len(self.history) + 1
        for epoch in range(first_epoch, first_epoch + cfg.epochs):
            e_loss = e_examples = 0.0
            e_words = 0
            t0 = time.perf_counter()
            for part_bounds, words in calls:
                done = (epoch - first_epoch) * n_words + e_words
                lr0 = cfg.alpha - (cfg.alpha - cfg.min_alpha) * done / total
                lr1 = cfg.alpha - (cfg.alpha - cfg.min_alpha) * (done + words) / total
                for t in range(n_parts):
                    rng[t] = stream_seed(cfg.seed, stream)
                    stream += 1
                run(part_bounds, lr0, lr1)
                e_loss += float(loss.sum())
                e_examples += float(examples.sum())
                e_words += words
                if not np.isfinite(e_loss):
                    raise TrainingError(self._divergence_message(epoch))
                elapsed = max(time.perf_counter() - t0, 1e-9)
                progress.update(epoch - first_epoch + 1, e_words / n_words,
                                e_words * raw_per_word / elapsed, lr1,
                                e_loss / max(e_examples, 1.0))
            seconds = time.perf_counter() - t0
            if not np.isfinite(self.syn0).all():
                raise TrainingError(self._divergence_message(epoch))
            stats = EpochStats(epoch=epoch, loss=e_loss / max(e_examples, 1.0), examples=int(e_examples),
                               words=e_words, raw_words=int(round(e_words * raw_per_word)),
                               seconds=seconds, words_per_second=e_words * raw_per_word / max(seconds, 1e-9),
                               lr=lr1)
            self.history.append(stats)
            progress.epoch_done(epoch - first_epoch + 1, stats.loss, stats.words_per_second, seconds, lr1)
        return self.history[-cfg.epochs:]

    def _divergence_message(self, epoch: int) -> str:
        return (f"training diverged in epoch {epoch}: the loss or the weights are no longer finite; "
                f"use a smaller learning rate (alpha={self.config.alpha:g})")

    def training_summary(self) -> dict:
        return {"config": self.config.to_dict(), "vocab_size": len(self.vocab),
                "compile_seconds": self.compile_seconds, "epochs": [asdict(s) for s in self.history]}


def plan_calls(offsets: np.ndarray, n_parts: int, words_per_part: int):
    """Split sentences into kernel calls of about n_parts * words_per_part words,
    each into n_parts parts of balanced word counts.

    Returns [(part_bounds int64[n_parts + 1] of sentence indices, words in call)].
    """
    n_sentences = len(offsets) - 1
    n_words = int(offsets[-1])
    n_calls = max(1, -(-n_words // (n_parts * words_per_part)))
    call_bounds = np.searchsorted(offsets, np.linspace(0, n_words, n_calls + 1), side="left")
    call_bounds[0], call_bounds[-1] = 0, n_sentences
    call_bounds = np.unique(call_bounds)
    calls = []
    for c0, c1 in zip(call_bounds[:-1], call_bounds[1:]):
        targets = np.linspace(offsets[c0], offsets[c1], n_parts + 1)
        bounds = np.searchsorted(offsets, targets, side="left").astype(np.int64)
        bounds[0], bounds[-1] = c0, c1
        bounds = np.maximum.accumulate(np.clip(bounds, c0, c1))
        calls.append((bounds, int(offsets[c1] - offsets[c0])))
    return calls


def train(corpus, *, quiet: bool = False, **options) -> Word2Vec:
    """Train word2vec on files (a path, a list of paths, a directory) or on an
    iterable of token lists.  Keyword options are the fields of Config.
    """
    unknown = sorted(set(options) - set(Config.field_names()))
    if unknown:
        raise ConfigError("unknown option" + ("s " if len(unknown) > 1 else " ") + ", ".join(unknown))
    config = Config(**options)
    vocab, encoded, invalid = load_training_corpus(corpus, config)
    model = Word2Vec.initialize(config, vocab)
    model.invalid_utf8_tokens = invalid
    progress = Progress(config.epochs, quiet=quiet)
    if invalid:
        progress.message(f"warning: {invalid} tokens were not valid UTF-8; invalid bytes were replaced by U+FFFD")
    model.train_encoded(encoded, progress)
    return model
