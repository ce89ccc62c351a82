"""Training driver: builds the tables, reads the corpus a slice at a time and
calls the kernels; Python never runs per token.

Each kernel call trains on the next slice of the corpus (read from the
encoded corpus as training reaches it, so memory stays flat in corpus size),
split into one part per thread with balanced word counts, sized to about
half a second of work.  Between calls Python moves the learning rate along
the linear schedule over all words of all epochs, checks the loss for
divergence, reports progress, writes checkpoints and honours SIGINT/SIGTERM.
A slice and every random stream depend only on the configuration, the
corpus and the sentence it starts at, so a checkpoint (epoch, next sentence,
next stream) resumes the run exactly with the same number of threads; with
another number the slices and streams differ from there on.
"""
from __future__ import annotations

import functools
import math
import os
import signal
import threading
import time
import warnings
from dataclasses import asdict, dataclass

import numba
import numpy as np

from .config import Config, ConfigError
from .distributed import expected_updates, path_nodes, sum_weights
from .corpus import VOCAB_SETTINGS, EncodedCorpus, LoadReport, Slice, encode_sentences, load_corpus, read_slice
from .gensim_api import (ConfigAttribute, check_totals, gensim_config, one_corpus, one_spelling, refuse_unsupported,
                         unknown_options_message)
from .huffman import build_huffman
from .kernels_cpu import sigmoid_tables, train_parts
from .monitor import LossPoint, TrainingHooks, check_loss_every, plot_loss
from .pages import release_compiler_pages
from .progress import Progress
from .sampling import build_alias_table, keep_probabilities, noise_distribution, stream_seed
from .vocab import Vocabulary

WORDS_PER_PART = 1 << 18   # per thread and call for skip-gram NS, window 5 (about 0.5 s)
HOT_NODES = 63             # tree nodes next to the root that each thread trains in a private copy
SYNC_EVERY = 256           # examples between merges of those copies into the shared weights
# The window-batched step trains an example in about half the time, so the same merges took a larger share of
# it.  Batched skip-gram HS, 5M tokens of en-mix, 2 threads, 6 alternating rounds in one process: 63 nodes merged
# every 256 examples 1.71M words/s, 255 every 256 1.61M, every 1024 1.85M, every 4096 1.99M; 1023 every 4096 1.99M
# (4 rounds, against 2.21M for 255); the loss 0.06% higher, 5-epoch quality unchanged (bench/results/en-mix-hot*.md).
# The per-pair path gained nothing from the same (1.20M words/s with 63 every 256, 1.16M with 255 every 4096).
BATCHED_HOT_NODES = 255
BATCHED_SYNC_EVERY = 4096
STRUCTURAL = ("sg", "dim", "hs", "softmax", "cbow_mean")


class TrainingError(RuntimeError):
    """Training cannot go on (the weights or the loss stopped being finite)."""


class TrainingInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped training between two kernel calls."""

    def __init__(self, signum: int, checkpoint=None, agreed: bool = False):
        self.signum = signum
        self.checkpoint = checkpoint
        self.agreed = agreed  # every rank of a distributed run stops here together
        name = signal.Signals(signum).name
        where = f"; checkpoint written to {checkpoint}" if checkpoint else "; no output written"
        super().__init__(f"training interrupted by {name}{where}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@dataclass
class TrainingState:
    """Where a run stands: enough to resume it exactly from a checkpoint."""

    epoch: int = 1          # epoch in progress (1-based within this run)
    sentence: int = 0       # first sentence of the next kernel call
    call: int = 0           # that call's number in the epoch's plan
    calls: int = 0          # kernel calls the plan divides the epoch into (0: not planned yet)
    plan_first: int = 0     # the sentence the plan starts at
    stream: int = 0         # next random stream id
    loss: float = 0.0       # tallies of the epoch in progress (all ranks of a distributed run)
    examples: float = 0.0
    words: int = 0
    seconds: float = 0.0
    fingerprint: str = ""   # of the encoded corpus (of every rank's)
    checkpoint_every: int | None = None
    device: str = "cpu"     # the kernel calls are planned per device
    ranks: list | None = None  # a distributed checkpoint's POSITION of every rank

    POSITION = ("sentence", "call", "calls", "plan_first", "stream")  # what each rank has of its own

    def position(self) -> dict:
        return {name: getattr(self, name) for name in self.POSITION}

    @classmethod
    def from_checkpoint(cls, saved: dict, path) -> "TrainingState":
        if "calls" not in saved:
            raise ConfigError(f"{path}: a checkpoint of an earlier fastw2v version, which this one cannot resume; "
                              f"train again (or use it as --init-model)")
        return cls(**saved)


def _install(handler) -> dict:
    """Set `handler` for SIGINT and SIGTERM (main thread only), except where a
    signal is ignored (nohup, `&` in a script: it stays ignored, as in other
    tools); returns the previous handlers."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(sig) != signal.SIG_IGN:
                previous[sig] = signal.signal(sig, handler)
    return previous


class _SignalFlag:
    """While active, SIGINT and SIGTERM only record the signal; training checks it
    between kernel calls.  A second signal interrupts at once."""

    def __init__(self):
        self.signum = None
        self._previous = {}

    def _handler(self, signum, frame):
        if self.signum is not None:
            raise TrainingInterrupted(signum)
        self.signum = signum

    def __enter__(self):
        self._previous = _install(self._handler)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class StopOnSignal:
    """While active, SIGINT and SIGTERM raise TrainingInterrupted at once
    (the command line's handling outside the training loop, where stopping
    early leaves nothing behind: outputs are staged and files unnamed)."""

    @staticmethod
    def _handler(signum, frame):
        raise TrainingInterrupted(signum)

    def __enter__(self):
        self._previous = _install(self._handler)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


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


def load_training_corpus(corpus, config: Config, base: Vocabulary | None = None, fixed: bool = False,
                         work_dir=None, keep=None, outputs=None, cluster=None):
    """(Vocabulary, EncodedCorpus, LoadReport) for files, "-", a corpus file or token lists.

    `base` and `fixed` extend or reuse an existing vocabulary (see
    choose_vocabulary); `work_dir`, `keep` and `outputs` say where text is
    encoded to, `cluster` which ranks scan it together (see corpus.load_corpus).
    """
    args = (config.min_count, config.max_vocab_size, config.max_final_vocab, config.max_sentence_length,
            base, fixed)
    if _is_file_corpus(corpus):
        return load_corpus(corpus, *args, threads=config.threads, work_dir=work_dir, keep=keep, outputs=outputs,
                           cluster=cluster)
    start = time.perf_counter()
    vocab, encoded = encode_sentences(corpus, *args)
    return vocab, encoded, LoadReport(time.perf_counter() - start)


def adopt_corpus_settings(config: Config, corpus: EncodedCorpus, given) -> Config:
    """The configuration for training on an encoded corpus file: its
    vocabulary settings replace the configuration's; one given explicitly
    (named in `given`) with another value is refused."""
    if corpus.settings is None:
        return config
    changes = {}
    for name in VOCAB_SETTINGS:
        value = corpus.settings.get(name, getattr(config, name))
        if value != getattr(config, name):
            if name in given:
                raise ConfigError(f"{name}={getattr(config, name)!r}, but the corpus file was encoded with "
                                  f"{name}={value!r}: encode it again with the new value, or leave {name} out")
            changes[name] = value
    return config.replace(**changes) if changes else config


class TrainingWarning(UserWarning):
    """Training ran but learnt little or nothing (a tiny corpus, say)."""


def warn(message: str, category=TrainingWarning) -> None:
    """A data warning: the Python API's warnings, one "warning:" line in the CLI."""
    warnings.warn(message, category, stacklevel=3)


def subsampling_note(config: Config, vocab: Vocabulary) -> str | None:
    """Why subsampling leaves (almost) nothing to train on, or None."""
    if config.sample <= 0:
        return None
    counts = vocab.counts.astype(np.float64)
    kept = float((counts * keep_probabilities(vocab.counts, config.sample)).sum())
    if kept >= 0.2 * counts.sum():
        return None
    return (f"subsampling (sample={config.sample:g}) keeps only {kept / counts.sum():.0%} of this corpus's "
            f"{int(counts.sum())} words (about {kept:.0f} a pass): the vectors will barely train; "
            f"on a small corpus use sample=0 (--sample 0)")


def invalid_utf8_message(count: int) -> str:
    return f"{count} tokens were not valid UTF-8; invalid bytes were replaced by U+FFFD"


def not_text_message(names) -> str:
    return (f"{len(names)} input file{'s do' if len(names) > 1 else ' does'} not look like text "
            f"(binary header or NUL bytes), read as text all the same: {', '.join(names)}")


def warn_about_input(report: LoadReport) -> None:
    """Warnings about what reading found: replaced bytes, inputs that are not text."""
    if report.invalid_utf8_tokens:
        warn(invalid_utf8_message(report.invalid_utf8_tokens), UnicodeWarning)
    if report.not_text:
        warn(not_text_message(report.not_text))


@functools.cache
def gpu_problem() -> str | None:
    """Why the CUDA trainer cannot run here, or None when it can (probed once
    per process: the CLI and the driver both check the device)."""
    try:
        from numba import cuda
    except ImportError:
        return "numba-cuda is not installed (pip install 'fastw2v[cuda]')"
    try:
        if not cuda.is_available():
            return "no usable NVIDIA GPU or driver was found"
    except Exception as e:  # a broken driver or toolkit install
        return f"the CUDA driver failed to start ({e})"
    return None


def check_device(config: Config, cluster=None) -> str:
    """The device that will train, 'cpu' or 'cuda'; stops at once, before any
    data is read, when device='cuda' cannot run.

    'auto' takes the GPU when one is usable and the options allow it (the
    full softmax and batch_window are CPU only).  The ranks of a distributed
    run (`cluster`) on one node take one GPU each, by their index on the node.
    """
    if config.device == "cpu" or (config.device == "auto" and (config.softmax or config.batch_window)):
        return "cpu"
    problem = gpu_problem()
    if problem is None:
        if cluster is not None:
            from numba import cuda

            cuda.select_device(cluster.local_rank % len(cuda.gpus))
        return "cuda"
    if config.device == "cuda":
        raise ConfigError(f"device='cuda': {problem}; use device='cpu' or 'auto'")
    return "cpu"


def words_per_part(config: Config, vocab_size: int) -> int:
    """Words each part trains per kernel call: about the work of WORDS_PER_PART
    skip-gram NS words, so that every mode reports, checkpoints and stops often."""
    steps = (config.negative + 1 if config.negative else 0)
    steps += (math.log2(max(vocab_size, 2)) + 1) if config.hs else 0
    steps += vocab_size if config.softmax else 0
    scale = 6 * 6 / (steps * config.examples_per_word)
    return int(min(max(WORDS_PER_PART * scale, 256), 1 << 20))


class Word2Vec:
    """A word2vec model: configuration, vocabulary, input vectors and output
    weights, with gensim 4's Word2Vec interface.

    ``Word2Vec(sentences, vector_size=100, ...)`` takes gensim's parameters
    with gensim's defaults (see fastw2v.gensim_api) and trains at once when
    given a corpus; ``build_vocab`` then ``train`` do it in two steps, and
    ``build_vocab(more, update=True)`` then ``train(more, ...)`` train
    further with new words, as in gensim.  ``wv`` holds the word vectors as a
    KeyedVectors.

    ``syn0`` holds the word vectors; ``syn1neg`` the negative-sampling output
    vectors, ``syn1`` the hierarchical-softmax inner nodes and ``syn1soft``
    the full-softmax output vectors, each None when that layer is off (all
    None before the vocabulary is built).  ``history`` has the statistics of
    every epoch trained; ``loss_history`` the loss every ``loss_every`` words.
    """

    def __init__(self, sentences=None, corpus_file=None, vector_size=None, alpha=0.025, window=5, min_count=5,
                 max_vocab_size=None, sample=1e-3, seed=1, workers=None, min_alpha=0.0001, sg=0, hs=0, negative=5,
                 ns_exponent=0.75, cbow_mean=1, hashfxn=hash, epochs=5, null_word=0, trim_rule=None,
                 sorted_vocab=1, batch_words=10000, compute_loss=False, callbacks=(), comment=None,
                 max_final_vocab=None, shrink_windows=None, *, dim=None, threads=None, dynamic_window=None,
                 softmax=False, max_sentence_length=10000, device="cpu", loss_every=None, quiet=True):
        """gensim's parameters and defaults: CBOW (sg=0) with 5 negative
        samples, vector_size 100, window 5, min_count 5, alpha 0.025 to
        min_alpha 0.0001, 5 epochs, workers=3.  fastw2v's names dim, threads
        and dynamic_window may replace vector_size, workers and
        shrink_windows; softmax, max_sentence_length and device are fastw2v's
        own.  compute_loss is accepted (the loss is always computed); the
        gensim parameters fastw2v has no use for (hashfxn, null_word,
        trim_rule, sorted_vocab, batch_words) are refused unless left at
        gensim's defaults.  loss_every=N records the loss every N words
        (loss_history); quiet=False shows progress on stderr.
        """
        refuse_unsupported("Word2Vec", hashfxn=hashfxn, null_word=null_word, trim_rule=trim_rule,
                           sorted_vocab=sorted_vocab, batch_words=batch_words)
        config = gensim_config(
            vector_size=vector_size, workers=workers, shrink_windows=shrink_windows, dim=dim, threads=threads,
            dynamic_window=dynamic_window, sg=sg, window=window, negative=negative, ns_exponent=ns_exponent, hs=hs,
            softmax=softmax, cbow_mean=cbow_mean, sample=sample, min_count=min_count, max_vocab_size=max_vocab_size,
            max_final_vocab=max_final_vocab, max_sentence_length=max_sentence_length, epochs=epochs, alpha=alpha,
            min_alpha=min_alpha, seed=seed, device=device)
        check_loss_every(loss_every)
        self._attach(config, None, None)
        self.compute_loss = bool(compute_loss)
        self.comment = comment
        self.loss_every = loss_every
        if sentences is None and corpus_file is None:
            if callbacks:
                warnings.warn("callbacks are not kept by the model (as in gensim): give them to train()",
                              stacklevel=2)
            return
        self.build_vocab(sentences, corpus_file)
        self.train(sentences, corpus_file, total_examples=self.corpus_count, total_words=self.corpus_total_words,
                   epochs=self.epochs, compute_loss=compute_loss, callbacks=callbacks, quiet=quiet)

    @classmethod
    def from_arrays(cls, config: Config, vocab: Vocabulary, syn0: np.ndarray, syn1neg: np.ndarray | None = None,
                    syn1: np.ndarray | None = None, syn1soft: np.ndarray | None = None) -> "Word2Vec":
        """A model made of existing parts (a model file, a fresh start)."""
        model = cls.__new__(cls)
        model._attach(config, vocab, syn0, syn1neg, syn1, syn1soft)
        return model

    def _attach(self, config, vocab, syn0, syn1neg=None, syn1=None, syn1soft=None):
        self.config = config
        self.vocab = vocab
        self.syn0 = syn0
        self.syn1neg = syn1neg
        self.syn1 = syn1
        self.syn1soft = syn1soft
        self.history: list[EpochStats] = []
        self.loss_history: list[LossPoint] = []
        self.loss_every = None
        self.compile_seconds = 0.0
        self.invalid_utf8_tokens = 0
        self.corpus_count = None        # sentences of the corpus the vocabulary was last built on (gensim's)
        self.corpus_total_words = None  # words of that corpus, rare ones included
        self.compute_loss = True
        self.comment = None
        self._wv = self._wv_source = None
        self._built_on = None           # (corpus, its encoding) kept by build_vocab for the next train()
        self._run_start = 0             # history index of the latest train() call's first epoch

    @classmethod
    def initialize(cls, config: Config, vocab: Vocabulary) -> "Word2Vec":
        """Input vectors uniform in +-0.5/dim, output weights zero (the C tool's start)."""
        v, dim = len(vocab), config.dim
        rng = np.random.Generator(np.random.PCG64(config.seed))
        syn0 = (rng.random((v, dim), dtype=np.float32) - np.float32(0.5)) / np.float32(dim)
        zeros = lambda rows: np.zeros((rows, dim), dtype=np.float32)  # noqa: E731
        return cls.from_arrays(config, vocab, syn0,
                               syn1neg=zeros(v) if config.negative > 0 else None,
                               syn1=zeros(max(v - 1, 1)) if config.hs else None,
                               syn1soft=zeros(v) if config.softmax else None)

    def __repr__(self):
        return (f"{type(self).__name__}<vocab={len(self.vocab) if self.vocab is not None else 0}, "
                f"vector_size={self.config.dim}, alpha={self.config.alpha}>")

    # gensim's attributes, kept in the Config
    vector_size = ConfigAttribute("dim", writable=False)
    sg = ConfigAttribute("sg", writable=False)
    hs = ConfigAttribute("hs", writable=False)
    negative = ConfigAttribute("negative", writable=False)
    cbow_mean = ConfigAttribute("cbow_mean", writable=False)
    alpha = ConfigAttribute("alpha")
    min_alpha = ConfigAttribute("min_alpha")
    window = ConfigAttribute("window")
    shrink_windows = ConfigAttribute("dynamic_window")
    min_count = ConfigAttribute("min_count")
    max_vocab_size = ConfigAttribute("max_vocab_size")
    max_final_vocab = ConfigAttribute("max_final_vocab")
    sample = ConfigAttribute("sample")
    ns_exponent = ConfigAttribute("ns_exponent")
    epochs = ConfigAttribute("epochs")
    workers = ConfigAttribute("threads")
    seed = ConfigAttribute("seed")

    def grow_vocabulary(self, vocab: Vocabulary) -> None:
        """Add weight rows for words appended to the vocabulary (continued
        training): new input vectors drawn like the first ones, output rows zero.

        The Huffman tree is rebuilt from the new counts, so hierarchical-softmax
        inner nodes keep their rows but not their meaning (as in gensim).
        """
        old, new = len(self.vocab), len(vocab)
        self.vocab = vocab
        if new == old:
            return
        dim = self.config.dim
        rng = np.random.Generator(np.random.PCG64([self.config.seed, old]))
        extra = (rng.random((new - old, dim), dtype=np.float32) - np.float32(0.5)) / np.float32(dim)
        self.syn0 = np.ascontiguousarray(np.vstack([self.syn0, extra]))
        zeros = lambda rows: np.zeros((rows, dim), dtype=np.float32)  # noqa: E731
        if self.syn1neg is not None:
            self.syn1neg = np.vstack([self.syn1neg, zeros(new - old)])
        if self.syn1soft is not None:
            self.syn1soft = np.vstack([self.syn1soft, zeros(new - old)])
        if self.syn1 is not None:
            self.syn1 = np.vstack([self.syn1, zeros(max(new - 1, 1) - len(self.syn1))])

    # ----- using the vectors -------------------------------------------------
    @property
    def wv(self):
        """The word vectors as a KeyedVectors sharing memory with syn0; the
        same object until the vocabulary changes (then updated in place)."""
        from .vectors import KeyedVectors

        source = self._wv_source
        if source is None or source[0] is not self.vocab or source[1] is not self.syn0:
            if self.vocab is None:
                words, key_to_index, vectors, counts = [], {}, np.zeros((0, self.config.dim), np.float32), None
            else:
                words, key_to_index = list(self.vocab.words), dict(self.vocab.key_to_index)
                vectors, counts = self.syn0, self.vocab.counts
            if self._wv is None:
                self._wv = KeyedVectors.__new__(KeyedVectors)
            self._wv._setup(words, key_to_index, vectors, counts)
            self._wv_source = (self.vocab, self.syn0)
        return self._wv

    def vectors_changed(self) -> None:
        """Forget the unit vectors cached by ``wv`` (training changed the vectors in place)."""
        if self._wv is not None:
            self._wv.norms = None

    def most_similar(self, word, topn: int = 10):
        """Nearest words to `word` by cosine similarity (the chapter's get_similar_tokens)."""
        return self.wv.most_similar(positive=[word], topn=topn)

    def similarity(self, w1, w2) -> float:
        return self.wv.similarity(w1, w2)

    def save_word2vec_format(self, path, binary: bool = True, **kwargs):
        """Write the word vectors in the C tool's text or binary format
        (keywords as KeyedVectors.save_word2vec_format's)."""
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

    def save(self, path, outputs=None) -> None:
        """Write the whole model (config, vocabulary, all weights, history) to a
        versioned .npz file, so it can be used or trained further later
        (staged in `outputs`, a files.OutputSet, when given)."""
        from .modelfile import save_model

        if self.vocab is None:
            raise RuntimeError("nothing to save: build the vocabulary (build_vocab) first")
        save_model(self, path, outputs=outputs)

    @classmethod
    def load(cls, path) -> "Word2Vec":
        """Read a model written by save()."""
        from .modelfile import load_model

        return load_model(path)[0]

    def get_latest_training_loss(self) -> float:
        """The summed loss of every training example since the latest train()
        call began (gensim's running loss; float64, so it does not saturate)."""
        return float(sum(s.loss * s.examples for s in self.history[self._run_start:]))

    def plot_loss(self, path="loss.png"):
        """Draw the loss per epoch, and every loss_every words when recorded,
        into a PNG file (needs matplotlib); returns the path."""
        return plot_loss(self, path)

    # ----- training ----------------------------------------------------------
    def build_vocab(self, corpus_iterable=None, corpus_file=None, update=False, progress_per=10000,
                    keep_raw_vocab=False, trim_rule=None, *, work_dir=None) -> None:
        """Count the words of a corpus (token lists, or files) and choose the
        vocabulary: words reaching min_count, most frequent first.  A fresh
        build draws new weights; with `update` the words of this corpus
        reaching min_count join the vocabulary and known words add their
        counts, as in gensim.  The corpus is encoded in the same pass and kept
        for the next train() call on the same corpus object or path.
        """
        refuse_unsupported("build_vocab", progress_per=progress_per, keep_raw_vocab=keep_raw_vocab,
                           trim_rule=trim_rule)
        corpus = one_corpus(corpus_iterable, corpus_file)
        if update and self.vocab is None:
            raise RuntimeError("You cannot do an online vocabulary-update of a model which has no prior vocabulary. "
                               "First build the vocabulary of your model with a corpus before doing an online update.")
        sentences, count = self._listed(corpus)
        vocab, encoded, report = load_training_corpus(sentences, self.config, base=self.vocab if update else None,
                                                      work_dir=work_dir)
        warn_about_input(report)
        self.invalid_utf8_tokens = report.invalid_utf8_tokens
        if self._built_on is not None:
            self._built_on[1].close()
        if update:
            self.grow_vocabulary(vocab)
        else:
            fresh = type(self).initialize(self.config, vocab)
            self.vocab, self.syn0, self.syn1neg, self.syn1, self.syn1soft = \
                fresh.vocab, fresh.syn0, fresh.syn1neg, fresh.syn1, fresh.syn1soft
            self.history, self.loss_history, self._run_start = [], [], 0
        self.corpus_count = count if count is not None else encoded.n_sentences
        self.corpus_total_words = encoded.raw_word_count
        self._built_on = (corpus, encoded)

    @staticmethod
    def _listed(corpus):
        """(corpus, number of sentences): token lists become a list (gensim's
        corpus_count counts them); files are left to the reader (None)."""
        if _is_file_corpus(corpus):
            return corpus, None
        sentences = corpus if isinstance(corpus, list) else list(corpus)
        return sentences, len(sentences)

    def train(self, corpus_iterable=None, corpus_file=None, total_examples=None, total_words=None, epochs=None,
              start_alpha=None, end_alpha=None, word_count=0, queue_factor=2, report_delay=1.0, compute_loss=False,
              callbacks=(), *, loss_every=None, quiet: bool = True, checkpoint=None,
              checkpoint_every: int | None = None, work_dir=None, **changes) -> list[EpochStats]:
        """Train on a corpus (token lists, or files) with the vocabulary as it
        is, as gensim does: words outside it are skipped and counts do not
        change (build_vocab(corpus, update=True) adds new words first).  The
        learning rate decays again from alpha (start_alpha) to min_alpha
        (end_alpha) over `epochs` passes.

        total_examples (for token lists) and total_words are checked against
        the corpus (a warning when they differ); fastw2v always schedules
        over the words it trains.  callbacks get on_train_begin, on_epoch_begin, on_epoch_end
        and on_train_end(model).  `changes` may set any non-structural
        Config field (threads, seed, sample, window, ...).  With
        `checkpoint`, resumable state is saved there (see train_encoded).
        Returns the stats of the epochs trained.
        """
        refuse_unsupported("train", word_count=word_count, queue_factor=queue_factor, report_delay=report_delay)
        corpus = one_corpus(corpus_iterable, corpus_file)
        if self.vocab is None:
            raise RuntimeError("you must first build vocabulary before training the model")
        unknown = sorted(set(changes) - set(Config.field_names()))
        if unknown:
            raise ConfigError(unknown_options_message(unknown, gensim_names_ok=False))
        for name, value, gensim_name in (("alpha", changes.get("alpha"), "start_alpha"),
                                         ("min_alpha", changes.get("min_alpha"), "end_alpha")):
            value = one_spelling(name, value, gensim_name, start_alpha if name == "alpha" else end_alpha)
            if value is not None:
                changes[name] = value
        if epochs is not None:
            changes["epochs"] = epochs
        config = self.config.replace(**changes)
        self.check_changes(config)
        check_device(config)
        built_on, self._built_on = self._built_on, None
        if built_on is not None and (built_on[0] is corpus or (_is_file_corpus(corpus) and built_on[0] == corpus)):
            encoded, count = built_on[1], None if _is_file_corpus(corpus) else self.corpus_count
        else:
            if built_on is not None:
                built_on[1].close()
            sentences, count = self._listed(corpus)
            _, encoded, report = load_training_corpus(sentences, config, base=self.vocab, fixed=True,
                                                      work_dir=work_dir)
            warn_about_input(report)
        try:
            check_totals(total_examples, total_words, count, encoded.raw_word_count)
            self.config = config
            self.compute_loss = bool(compute_loss)  # gensim's flag; fastw2v always computes the loss
            if loss_every is not None:
                self.loss_every = loss_every
            self._run_start = len(self.history)
            with TrainingHooks(self, Progress(config.epochs, quiet=quiet), callbacks, self.loss_every) as hooks:
                stats = self.train_encoded(encoded, hooks, checkpoint=checkpoint, checkpoint_every=checkpoint_every)
        finally:
            encoded.close()
        self.vectors_changed()
        return stats

    def check_changes(self, config: Config) -> None:
        """Refuse settings that do not fit the existing weights (dimension, layers, architecture)."""
        fixed = [k for k in STRUCTURAL if getattr(config, k) != getattr(self.config, k)]
        if (config.negative > 0) != (self.config.negative > 0):
            fixed.append("negative")
        if fixed:
            raise ConfigError("cannot change " + ", ".join(f"{k} (the model has {getattr(self.config, k)!r}, "
                                                            f"got {getattr(config, k)!r})" for k in fixed)
                              + " when training further")

    def train_encoded(self, corpus: EncodedCorpus, progress: Progress | None = None, checkpoint=None,
                      checkpoint_every: int | None = None, state: TrainingState | None = None,
                      cluster=None) -> list[EpochStats]:
        """Train for config.epochs over an encoded corpus (ids from this model's vocabulary).

        With `checkpoint`, the full state is saved there every
        `checkpoint_every` words (at each epoch's end when None), at the end,
        and before stopping on SIGINT/SIGTERM.  `state` resumes a checkpoint.
        With `cluster` (a distributed.Cluster) this process is one rank of a
        distributed run: it trains its share of the corpus (all of it when
        the corpus is its local part) and averages the weights with the
        others (see distributed.py); every rank returns the same weights.
        Returns the stats of the epochs trained.
        """
        cfg = self.config
        device = check_device(cfg)
        progress = progress or Progress(cfg.epochs, quiet=True)
        if corpus.vocab is not None and len(corpus.vocab) > len(self.vocab):
            raise ValueError("corpus ids do not belong to this vocabulary")
        first, last = 0, corpus.n_sentences
        if cluster is not None and not corpus.local_part:  # a common corpus: this rank's share of its words
            a, b = cluster.share(corpus.n_tokens)
            first, last = corpus.first_sentence_at(a, 0, last), corpus.first_sentence_at(b, 0, last)
        end_token = corpus.offset(last)
        share_words = end_token - corpus.offset(first)
        raw_words = share_words * corpus.raw_word_count / max(corpus.n_tokens, 1)
        n_words, raw_words = (share_words, raw_words) if cluster is None else cluster.total([share_words, raw_words])
        n_words = int(n_words)
        if n_words == 0:
            raise TrainingError("the corpus has no words in the vocabulary to train on")
        raw_per_word = raw_words / n_words
        fingerprint = corpus.fingerprint
        if cluster is not None:
            fingerprint = cluster.broadcast(";".join(cluster.gather(fingerprint) or []))
        if state is None:
            state = TrainingState(sentence=first, plan_first=first, fingerprint=fingerprint,
                                  checkpoint_every=checkpoint_every, device=device)
            run_start = len(self.history)
        else:
            self._check_resumable(state, fingerprint, device, cluster)
            checkpoint_every = state.checkpoint_every
            run_start = len(self.history) - (state.epoch - 1)
        note = subsampling_note(cfg, self.vocab)
        if note and state.epoch == 1 and state.sentence == first and (cluster is None or cluster.rank == 0):
            warn(note)
        seed = cfg.seed if cluster is None else int(stream_seed(cfg.seed, (1 << 63) + cluster.rank))
        runner = (_CudaRunner if device == "cuda" else _CpuRunner)(self, corpus, seed)
        if cluster is not None:  # the ranks sync between kernel calls: calls no longer than the interval
            runner.words_per_call = max(1, min(runner.words_per_call, cfg.sync_every // cluster.size))
        sync = _Sync(self, runner, cluster)
        self.compile_seconds = runner.compile()
        release_compiler_pages()

        def plan(state):
            """Divide the rest of the epoch from state.sentence into kernel calls,
            as many on every rank."""
            calls = max(1, -(-(end_token - corpus.offset(state.sentence)) // runner.words_per_call))
            state.calls = calls if cluster is None else cluster.largest(calls)
            state.plan_first, state.call = state.sentence, 0

        def save_checkpoint(state):
            from .modelfile import save_model

            saved = asdict(state)
            if cluster is not None:
                sync.full()
                saved["ranks"] = cluster.gather(state.position())
            runner.sync()
            if cluster is None or cluster.rank == 0:
                save_model(self, checkpoint, training_state=saved)

        if state.calls:  # resumed: keep the plan if this many threads (and ranks) make it again
            replanned = TrainingState(sentence=state.plan_first)
            plan(replanned)
            if replanned.calls != state.calls:
                plan(state)

        total = cfg.epochs * n_words
        since_checkpoint = 0
        with _SignalFlag() as stop:
            while state.epoch <= cfg.epochs:
                if not state.calls:
                    plan(state)
                t0 = time.perf_counter() - state.seconds
                plan_token = corpus.offset(state.plan_first)
                while state.call < state.calls:
                    stop_token = plan_token + (state.call + 1) * (end_token - plan_token) // state.calls
                    piece = runner.read(state.sentence, stop_token, last)
                    done = (state.epoch - 1) * n_words + state.words + sync.pending_words()
                    lr0 = cfg.alpha - (cfg.alpha - cfg.min_alpha) * min(done / total, 1.0)
                    lr1 = cfg.alpha - (cfg.alpha - cfg.min_alpha) * min((done + sync.scale * piece.words) / total, 1.0)
                    loss, examples, streams = runner.run(piece, lr0, lr1, state.stream)
                    if not math.isfinite(loss):
                        raise TrainingError(self._divergence_message(state.epoch))
                    state.stream += streams
                    state.sentence = piece.end
                    state.call += 1
                    words_before = state.words
                    signum = sync.after_call(state, piece, loss, examples, stop.signum,
                                             last_of_epoch=state.call == state.calls)
                    state.seconds = time.perf_counter() - t0
                    since_checkpoint += state.words - words_before
                    progress.update(state.epoch, (state.words + sync.pending_words()) / n_words,
                                    (state.words + sync.pending_words()) * raw_per_word / max(state.seconds, 1e-9),
                                    lr1, state.loss / max(state.examples, 1.0), state=state)
                    if signum:
                        if checkpoint:
                            save_checkpoint(state)
                        raise TrainingInterrupted(signum, checkpoint, agreed=True)
                    if checkpoint and checkpoint_every and since_checkpoint >= checkpoint_every \
                            and state.call < state.calls and sync.just_synced:
                        save_checkpoint(state)
                        since_checkpoint = 0
                runner.sync()
                if not np.isfinite(self.syn0).all():
                    raise TrainingError(self._divergence_message(state.epoch))
                seconds = state.seconds
                stats = EpochStats(epoch=state.epoch, loss=state.loss / max(state.examples, 1.0),
                                   examples=int(state.examples), words=state.words,
                                   raw_words=int(round(state.words * raw_per_word)), seconds=seconds,
                                   words_per_second=state.words * raw_per_word / max(seconds, 1e-9),
                                   lr=cfg.alpha - (cfg.alpha - cfg.min_alpha) * state.epoch / cfg.epochs)
                self.history.append(stats)
                progress.epoch_done(state.epoch, stats.loss, stats.words_per_second, seconds, stats.lr)
                state = TrainingState(epoch=state.epoch + 1, sentence=first, plan_first=first, stream=state.stream,
                                      fingerprint=fingerprint, checkpoint_every=checkpoint_every, device=device)
                if checkpoint and (not checkpoint_every or state.epoch > cfg.epochs):
                    save_checkpoint(state)
                    since_checkpoint = 0
                # a signal that arrived after the epoch's last call (the ranks agree on it)
                signum = (stop.signum or 0) if cluster is None else cluster.largest(stop.signum or 0)
                if signum:
                    raise TrainingInterrupted(signum, checkpoint, agreed=cluster is not None)
        trained = self.history[run_start:]
        if trained and not any(s.examples for s in trained) and (cluster is None or cluster.rank == 0):
            warn(f"no training example in {len(trained)} epoch{'s' if len(trained) > 1 else ''}: the vectors "
                 f"are as initialised (too small a corpus, or subsampling dropped every word: try sample=0)")
        return trained

    def _check_resumable(self, state: TrainingState, fingerprint: str, device: str, cluster) -> None:
        """Refuse a checkpoint made on other data, another device or another
        number of processes; a distributed one gives each rank its position."""
        made_by = len(state.ranks) if state.ranks else 1
        runs_on = cluster.size if cluster is not None else 1
        if made_by != runs_on:
            raise TrainingError(f"the checkpoint was made by {made_by} process{'es' if made_by > 1 else ''}: resume "
                                + (f"it with mpiexec -n {made_by}" if made_by > 1 else "it without mpiexec"))
        if state.fingerprint != fingerprint:
            raise TrainingError("the corpus differs from the one the checkpoint was made on "
                                "(other files, other order or other settings)")
        if state.device != device:
            raise TrainingError(f"the checkpoint was made training on {state.device}, this run would train "
                                f"on {device}: resume it where it was made")
        if state.ranks:
            for name, value in state.ranks[cluster.rank].items():
                setattr(state, name, value)
            state.ranks = None

    def _divergence_message(self, epoch: int) -> str:
        return (f"training diverged in epoch {epoch}: the loss or the weights are no longer finite; "
                f"use a smaller learning rate (alpha={self.config.alpha:g})")

    def training_summary(self) -> dict:
        return {"config": self.config.to_dict(), "vocab_size": len(self.vocab),
                "compile_seconds": self.compile_seconds, "epochs": [asdict(s) for s in self.history]}


class _Tables:
    """The precomputed tables the kernels take: subsampling keep
    probabilities, the noise alias table (negative sampling), the Huffman
    codes (hierarchical softmax) and the sigmoid tables; None where off."""

    def __init__(self, model: Word2Vec):
        cfg, counts = model.config, model.vocab.counts
        self.keep = keep_probabilities(counts, cfg.sample)
        self.alias_prob = self.alias_index = self.codes = self.points = self.code_lengths = None
        if model.syn1neg is not None:
            self.alias_prob, self.alias_index = build_alias_table(noise_distribution(counts, cfg.ns_exponent))
        if model.syn1 is not None:
            self.codes, self.points, self.code_lengths = build_huffman(counts)
        self.sig, self.neg_log_sig = sigmoid_tables()


class _CpuRunner:
    """Kernel calls of slices split into one part per thread (kernels_cpu)."""

    def __init__(self, model: Word2Vec, corpus: EncodedCorpus, seed: int):
        cfg = model.config
        self.model, self.corpus, self.tables, self.seed = model, corpus, _Tables(model), seed
        self.n_parts = cfg.threads
        numba.set_num_threads(min(self.n_parts, numba.config.NUMBA_NUM_THREADS))
        self.words_per_call = self.n_parts * words_per_part(cfg, len(model.vocab))
        self.max_sentence = max(corpus.max_sentence, 1)
        # one thread contends with no one: it writes the shared rows directly
        hot_nodes, self.sync_every = ((BATCHED_HOT_NODES, BATCHED_SYNC_EVERY) if cfg.batch_window
                                      else (HOT_NODES, SYNC_EVERY))
        self.hot_nodes = hot_nodes if self.n_parts > 1 else 0
        self.rng = np.zeros(self.n_parts, dtype=np.uint64)
        self.loss = np.zeros(self.n_parts, dtype=np.float64)
        self.examples = np.zeros(self.n_parts, dtype=np.float64)

    def read(self, sentence: int, stop_token: int, last: int) -> Slice:
        return read_slice(self.corpus, sentence, stop_token, last)

    def _kernel(self, tokens, offsets, part_bounds, lr0, lr1):
        m, t, cfg = self.model, self.tables, self.model.config
        train_parts(m.syn0, m.syn1neg, m.syn1, m.syn1soft, tokens, offsets, part_bounds, t.keep,
                    t.alias_prob, t.alias_index, t.codes, t.points, t.code_lengths, t.sig, t.neg_log_sig,
                    cfg.sg, cfg.cbow_mean, cfg.window, cfg.dynamic_window, cfg.negative,
                    cfg.batch_window or None, lr0, lr1, self.max_sentence, self.hot_nodes, self.sync_every,
                    self.rng, self.loss, self.examples)

    def compile(self) -> float:
        """Compile (or load from the on-disk cache) outside the timed loop: zero parts."""
        start = time.perf_counter()
        stream_seed(self.seed, 0)
        self._kernel(np.zeros(0, np.int32), np.zeros(1, np.int64), np.zeros(1, dtype=np.int64), 0.0, 0.0)
        return time.perf_counter() - start

    def run(self, piece: Slice, lr0, lr1, stream):
        """One call; returns (loss, examples, random streams used)."""
        for t in range(self.n_parts):
            self.rng[t] = stream_seed(self.seed, stream + t)
        self._kernel(piece.tokens, piece.offsets, part_bounds(piece.offsets, self.n_parts), lr0, lr1)
        return float(self.loss.sum()), float(self.examples.sum()), self.n_parts

    def sync(self):
        """The weights are the host's already."""

    def upload(self):
        """The host's weights are the kernel's already."""


class _CudaRunner:
    """Kernel launches of slices cut into sentence pieces, one warp each
    (kernels_cuda); the weights live on the GPU between ``sync`` calls."""

    def __init__(self, model: Word2Vec, corpus: EncodedCorpus, seed: int):
        from .kernels_cuda import CALL_WORDS, DeviceTrainer, block_lanes

        self.model, self.corpus, self.seed = model, corpus, seed
        self.words_per_call = CALL_WORDS
        self.tables = t = _Tables(model)
        self.trainer = DeviceTrainer(
            model.syn0, model.syn1neg, model.syn1, t.keep, t.alias_prob, t.alias_index, t.codes, t.points,
            t.code_lengths, t.sig, t.neg_log_sig, block_lanes(model.config.dim))

    def read(self, sentence: int, stop_token: int, last: int) -> Slice:
        return read_slice(self.corpus, sentence, stop_token, last)

    def _launch(self, piece: Slice, lr0, lr1, stream):
        from .kernels_cuda import plan_units

        cfg = self.model.config
        unit_start, unit_end = plan_units(piece.offsets)
        loss, examples = self.trainer.launch(piece.tokens, unit_start, unit_end, lr0, lr1, self.seed, stream,
                                             cfg.sg, cfg.cbow_mean, cfg.window, cfg.dynamic_window, cfg.negative)
        return loss, examples, len(unit_start)

    def compile(self) -> float:
        """Compile with a launch on the first sentence at learning rate 0 (no update)."""
        start = time.perf_counter()
        self._launch(read_slice(self.corpus, 0, 1, min(1, self.corpus.n_sentences)), 0.0, 0.0, 0)
        return time.perf_counter() - start

    def run(self, piece: Slice, lr0, lr1, stream):
        """One launch; returns (loss, examples, random streams used)."""
        return self._launch(piece, lr0, lr1, stream)

    def sync(self):
        """Copy the weights back to the host arrays."""
        self.trainer.download()

    def upload(self):
        """Copy the host's weights (averaged by the ranks) to the GPU."""
        self.trainer.upload()


class _Sync:
    """The tallies of an epoch and, in a distributed run, what the ranks
    share between kernel calls (see distributed.py): every
    sync_every-worth of calls the progress counts and stop requests are
    summed, and the changes of the rows trained on and of the hot output
    rows; every full_sync_every-worth and at the epoch's end those of the
    whole model.  Alone, the tallies are simply added."""

    def __init__(self, model: Word2Vec, runner, cluster):
        self.model, self.runner, self.cluster = model, runner, cluster
        self.scale = 1 if cluster is None else cluster.size  # words of all ranks per word of this one
        self.pending = np.zeros(3)  # words, loss, examples since the last sync
        self.just_synced = cluster is None
        if cluster is not None:
            cfg = model.config  # the intervals count the words of all ranks
            self.hot_every = max(1, round(cfg.sync_every / cluster.size / runner.words_per_call))
            self.full_every = max(1, round(cfg.full_sync_every / cluster.size / runner.words_per_call)) \
                if cfg.full_sync_every else 0
            self.hot_rows = cfg.sync_rows
            self.base = [w.copy() for _, w in self._matrices()]  # the model as of the last sync
            self.seen = np.zeros(len(model.vocab), dtype=bool)  # words trained on since the last sync
            self.weights = self._weights(self.hot_every * runner.words_per_call)

    def _weights(self, words: float) -> list:
        """The weights of the summed changes of each matrix's rows (see
        distributed.sum_weights): a row changes for at most `words` words a
        rank between its syncs."""
        m, cfg, t = self.model, self.model.config, self.runner.tables
        expect = expected_updates(m.vocab.counts, t.keep, words, sg=cfg.sg, window=cfg.window,
                                  dynamic_window=cfg.dynamic_window, negative=cfg.negative,
                                  noise=noise_distribution(m.vocab.counts, cfg.ns_exponent) if cfg.negative else None,
                                  points=t.points, lengths=t.code_lengths,
                                  n_nodes=len(m.syn1) if m.syn1 is not None else 0, softmax=m.syn1soft is not None)
        return [sum_weights(expect[name], self.cluster.size, cfg.sync_saturation) for name, _ in self._matrices()]

    def pending_words(self) -> float:
        """All ranks' words since the last sync, estimated from this rank's."""
        return self.scale * self.pending[0]

    def after_call(self, state: TrainingState, piece: Slice, loss: float, examples: float, signum,
                   last_of_epoch: bool) -> int:
        """Account a kernel call (and sync when due); returns the signal to stop with, or 0."""
        if self.cluster is None:
            state.words += piece.words
            state.loss += loss
            state.examples += examples
            return signum or 0
        self.pending += (piece.words, loss, examples)
        self.seen[piece.tokens] = True
        self.just_synced = last_of_epoch or state.call % self.hot_every == 0
        if not self.just_synced:
            return 0
        words, loss, examples = self.cluster.total(self.pending).tolist()
        self.pending[:] = 0
        state.words += int(words)
        state.loss += loss
        state.examples += examples
        stop_with = self.cluster.largest(signum or 0)
        if last_of_epoch or (self.full_every and state.call % self.full_every == 0):
            self.full()
        else:
            self.hot()
        return stop_with

    def _matrices(self):
        m = self.model
        return [(name, w) for name, w in (("syn0", m.syn0), ("syn1neg", m.syn1neg), ("syn1", m.syn1),
                                          ("syn1soft", m.syn1soft)) if w is not None]

    def _rows_to_sync(self, name: str, w, words: np.ndarray) -> tuple[int, np.ndarray]:
        """What a sync moves of matrix `name`, as (n, rows): its first n rows,
        in place, which are the hot output rows that noise words move too
        (syn1neg's and syn1soft's first `sync_rows`), and, gathered, the
        other rows that training on `words` updated: their input rows, tree
        paths or output rows.  The other rows of a full softmax wait for the
        full sync."""
        if name == "syn0":
            return 0, words
        if name == "syn1":
            t = self.runner.tables
            return 0, path_nodes(words, t.points, t.code_lengths, len(w))
        n = min(self.hot_rows, len(w))
        return n, words[words >= n] if name == "syn1neg" else words[:0]

    def hot(self) -> None:
        """Sync the rows any rank trained on since the last sync, and the
        hot output rows."""
        self.cluster.syncs += 1
        self.runner.sync()
        words = np.flatnonzero(self.cluster.union(self.seen))
        self.seen[:] = False
        gathered = []
        for (name, w), base, weights in zip(self._matrices(), self.base, self.weights):
            n, rows = self._rows_to_sync(name, w, words)
            self.cluster.add_changes(w[:n], base[:n], weights[:n])
            gathered.append((w, base, rows, weights))
        self.cluster.add_row_changes(gathered)
        self.runner.upload()

    def full(self) -> None:
        """Sync the whole model, leaving the same bits on every rank (also
        before a checkpoint)."""
        self.cluster.syncs += 1
        self.runner.sync()
        self.seen[:] = False
        for (_, w), base, weights in zip(self._matrices(), self.base, self.weights):
            self.cluster.add_changes_exactly(w, base, weights)
        self.runner.upload()


def part_bounds(offsets: np.ndarray, n_parts: int) -> np.ndarray:
    """Sentence indices splitting a slice (offsets from 0) into n_parts parts
    of balanced word counts: int64[n_parts + 1]."""
    n_sentences = len(offsets) - 1
    targets = np.linspace(0, offsets[-1], n_parts + 1)
    bounds = np.searchsorted(offsets, targets, side="left").astype(np.int64)
    bounds[0], bounds[-1] = 0, n_sentences
    return np.maximum.accumulate(np.clip(bounds, 0, n_sentences))


def train(corpus, *, quiet: bool = False, checkpoint=None, checkpoint_every: int | None = None,
          callbacks=(), loss_every: int | None = None, work_dir=None, keep_encoded=None, **options) -> Word2Vec:
    """Train word2vec on files (a path, a list of paths, a directory, "-"),
    an encoded corpus file (``fastw2v encode``) or an iterable of token lists.
    Keyword options are the fields of Config (the C tool's defaults);
    `checkpoint` and `checkpoint_every` (words) save resumable state;
    `callbacks` and `loss_every` as in Word2Vec.train; text is encoded into
    a temporary file in `work_dir` (the system's temporary folder by
    default), or into `keep_encoded` (a path) to train on again later.
    """
    from .distributed import guard, join
    from .files import OutputSet

    unknown = sorted(set(options) - set(Config.field_names()))
    if unknown:
        raise ConfigError(unknown_options_message(unknown, gensim_names_ok=False))
    cluster = join()
    with guard(cluster):
        config = Config(**options)
        check_loss_every(loss_every)
        check_device(config, cluster)
        first = cluster is None or cluster.rank == 0
        with OutputSet() as outputs:
            vocab, encoded, report = load_training_corpus(corpus, config, work_dir=work_dir, keep=keep_encoded,
                                                          outputs=outputs, cluster=cluster)
            try:
                config = adopt_corpus_settings(config, encoded, options)
                model = Word2Vec.initialize(config, vocab)
                model.invalid_utf8_tokens = report.invalid_utf8_tokens
                model.loss_every = loss_every
                if first:
                    warn_about_input(report)
                with TrainingHooks(model, Progress(config.epochs, quiet=quiet or not first), callbacks,
                                   loss_every) as hooks:
                    model.train_encoded(encoded, hooks, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                                        cluster=cluster)
            finally:
                encoded.close()
    return model


def resume(checkpoint, corpus, *, quiet: bool = False, work_dir=None) -> Word2Vec:
    """Continue an interrupted run from its checkpoint, on the same corpus.

    With the same number of threads (and one thread), the result is
    byte-identical to an uninterrupted run.
    """
    from .modelfile import load_model

    model, state = load_model(checkpoint)
    if state is None:
        raise ConfigError(f"{checkpoint}: a saved model, not a checkpoint; "
                          f"to train it on more text use init_model / Word2Vec.train")
    state = TrainingState.from_checkpoint(state, checkpoint)
    _, encoded, _ = load_training_corpus(corpus, model.config, base=model.vocab, fixed=True, work_dir=work_dir)
    try:
        model.train_encoded(encoded, Progress(model.config.epochs, quiet=quiet), checkpoint=checkpoint,
                            state=state)
    finally:
        encoded.close()
    return model
