"""Drop-in replacements for the programs of the word2vec C toolkit:
``word2vec``, ``word2phrase``, ``distance``, ``word-analogy`` and
``compute-accuracy``.

Each takes the C program's arguments (single-dash flags with the C
defaults, or positional arguments and stdin) and writes the same files and
the same console layout, so a script switches by changing the program path.
Installed as ``fastw2v-word2vec``, ``fastw2v-word2phrase``,
``fastw2v-distance``, ``fastw2v-word-analogy`` and
``fastw2v-compute-accuracy``; ``bin/`` holds the same programs under the C
names for use from a checkout.  docs/c-tools.md lists what differs.

Errors print one line on stderr and exit 2 for usage errors (unknown flag,
flag without value, bad value, missing or unwritable file) and 1 for data
errors (empty vocabulary, unreadable vector file, divergence).
"""
from __future__ import annotations

import math
import os
import re
import sys
import time
from dataclasses import dataclass

import numpy as np
from numba import njit

from .config import Config, ConfigError
from .files import InputError, check_writable, expand_inputs, atomic_output
from .progress import Progress
from .vocab import Vocabulary, VocabularyError

__all__ = ["word2vec_main", "word2phrase_main", "distance_main", "word_analogy_main", "compute_accuracy_main",
           "parse_flags", "word2vec_config", "kmeans_classes", "read_vocabulary", "UsageError"]


class UsageError(ValueError):
    """A command line the program cannot run (exit status 2)."""


class DataError(ValueError):
    """Input the program cannot use (exit status 1)."""


# --------------------------------------------------------------------------
# C-style flags


@dataclass(frozen=True)
class Flag:
    """One ``-name value`` flag: its value type, default and help line."""

    name: str
    kind: type            # int, float or str (a path)
    default: object
    help: str
    minimum: float | None = None
    default_text: str | None = None   # the default as the usage shows it, when not the value itself

    @property
    def meta(self) -> str:
        return {int: "<int>", float: "<float>", str: "<file>"}[self.kind]


_INT = re.compile(r"[+-]?\d+\Z")


def _convert(flag: Flag, raw: str):
    if flag.kind is str:
        return raw
    if flag.kind is int:
        if not _INT.match(raw.strip()):
            raise UsageError(f"flag {flag.name} expects an integer, got {raw!r}")
        value = int(raw)
    else:
        try:
            value = float(raw) if "_" not in raw else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise UsageError(f"flag {flag.name} expects a number, got {raw!r}")
    if flag.minimum is not None and value < flag.minimum:
        raise UsageError(f"flag {flag.name} must be >= {flag.minimum:g}, got {raw}")
    return value


def parse_flags(argv, flags) -> dict:
    """Values of C-style flags ``-name value`` by flag name, defaults filled in.

    As the C tools' ArgPos, the first occurrence of a repeated flag wins.  An
    unknown flag, a stray word, a flag without its value (at the end, or
    followed by another flag) and a value of the wrong type raise UsageError
    naming the flag.
    """
    spec = {f.name: f for f in flags}
    values = {}
    i = 0
    argv = list(argv)
    while i < len(argv):
        arg = argv[i]
        flag = spec.get(arg)
        if flag is None:
            if arg.startswith("-") and len(arg) > 1:
                raise UsageError(f"unknown flag {arg}")
            raise UsageError(f"unexpected argument {arg!r}: arguments are flags followed by their value")
        if i + 1 >= len(argv) or argv[i + 1] in spec:
            raise UsageError(f"flag {arg} needs a value {flag.meta}")
        values.setdefault(arg, _convert(flag, argv[i + 1]))
        i += 2
    return {f.name: values.get(f.name, f.default) for f in flags}


def _usage(title: str, flags, notes: str, example: str) -> str:
    lines = [title, "", "Options:", "Parameters for training:"]
    for f in flags:
        default = f.default_text if f.default_text is not None else f.default
        shown = "" if f.kind is str else f"; default is {default}"
        lines += [f"\t{f.name} {f.meta}", f"\t\t{f.help}{shown}"]
    return "\n".join(lines) + "\n\n" + notes + "\nExamples:\n" + example + "\n\n"


# --------------------------------------------------------------------------
# shared helpers


def _error_exit(program: str, message: str, code: int, stderr) -> int:
    stderr.write(f"{program}: error: {message}\n")
    stderr.flush()
    return code


def _run(program: str, body, argv, **streams) -> int:
    """Call body(argv, stdout, stderr[, stdin]) and turn known errors into one
    line on stderr with the documented exit status."""
    stderr = streams.get("stderr") or sys.stderr
    from .corpus import CorpusFileError
    from .progress import own_warnings_as_lines, write_safely
    from .train import TrainingError, TrainingInterrupted
    from .vectors import VectorFileError

    try:
        with own_warnings_as_lines(lambda message: write_safely(stderr, f"{program}: warning: {message}\n")):
            return body(list(sys.argv[1:] if argv is None else argv), **streams)
    except (UsageError, ConfigError, InputError) as e:
        return _error_exit(program, str(e), 2, stderr)
    except (DataError, VocabularyError, TrainingError, VectorFileError, CorpusFileError) as e:
        return _error_exit(program, str(e), 1, stderr)
    except TrainingInterrupted as e:
        return _error_exit(program, str(e), e.exit_code, stderr)
    except KeyboardInterrupt:
        return _error_exit(program, "interrupted", 130, stderr)
    except BrokenPipeError:
        # the reader went away (e.g. `distance v.bin | head`): stop quietly, and keep
        # the interpreter's final flush of stdout from failing again
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 1
    except (OSError, MemoryError) as e:
        return _error_exit(program, str(e), 1, stderr)


def _streams(stdin=None, stdout=None, stderr=None):
    return stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr


def _input_file(path: str, what: str) -> None:
    if not path:
        raise UsageError(f"{what} is required")
    expand_inputs([path])


# --------------------------------------------------------------------------
# word2vec


WORD2VEC_FLAGS = (
    Flag("-train", str, None, "Train the model on the text in <file>"),
    Flag("-output", str, None, "Write the word vectors (or, with -classes, the word classes) to <file>"),
    Flag("-size", int, 100, "Dimension of the word vectors", 1),
    Flag("-window", int, 5, "Maximum distance between the centre word and a context word", 1),
    Flag("-sample", float, 1e-3, "Frequent words are randomly down-sampled above this relative frequency "
                                  "(0 = off); useful range is (0, 1e-5)", 0, "1e-3"),
    Flag("-hs", int, 0, "1 = train with hierarchical softmax, 0 = do not", 0),
    Flag("-negative", int, 5, "Negative samples per example (0 = no negative sampling); 3 - 10 is common", 0),
    Flag("-threads", int, None, "Number of threads", 1, "all cores"),
    Flag("-iter", int, 5, "Number of passes over the training text", 1),
    Flag("-min-count", int, 5, "Words occurring fewer times are left out of the vocabulary", 0),
    Flag("-alpha", float, None, "Initial learning rate", None, "0.025 for skip-gram, 0.05 for CBOW"),
    Flag("-classes", int, 0, "Write this many k-means word classes instead of vectors (0 = write vectors)", 0),
    Flag("-debug", int, 2, "Messages: 0 = none, 1 = vocabulary sizes, 2 = also live progress"),
    Flag("-binary", int, 0, "1 = write the vectors in binary, 0 = text", 0),
    Flag("-save-vocab", str, None, "Also write the vocabulary (\"word count\" lines) to <file>"),
    Flag("-read-vocab", str, None, "Take the vocabulary from <file> (\"word count\" lines) instead of counting "
                                   "the training text"),
    Flag("-cbow", int, 1, "1 = continuous bag of words, 0 = skip-gram", 0),
    Flag("-batch-window", int, 0, "1 = skip-gram trains each window as one block, its negatives drawn once "
                                  "(fastw2v's HogBatch mode, not in the C tool); 0 = one pair at a time", 0),
)

WORD2VEC_NOTES = """\
fastw2v's word2vec: the C tool's flags and files, trained by fastw2v.
Differences from the C tool: the vocabulary has no "</s>" entry (newlines end
sentences but are not a word); every whitespace character separates words and
'\\r' ends a line; words are not truncated; lines longer than 10000 words are
cut into pieces instead of 1000; -threads defaults to all cores.  Messages go
to stdout as the C tool's do; errors to stderr, one line.
"""

WORD2VEC_USAGE = _usage(
    "fastw2v word2vec: word vectors from text (a drop-in for the word2vec C tool)", WORD2VEC_FLAGS, WORD2VEC_NOTES,
    "word2vec -train data.txt -output vec.txt -size 200 -window 5 -sample 1e-4 -negative 5 -hs 0 -binary 0 "
    "-cbow 1 -iter 3")


def word2vec_config(options: dict) -> Config:
    """The training Config for parsed word2vec flags (parse_flags(argv, WORD2VEC_FLAGS))."""
    if options["-alpha"] is not None and options["-alpha"] <= 0:
        raise UsageError(f"flag -alpha must be > 0, got {options['-alpha']:g}")
    if not options["-hs"] and options["-negative"] == 0:
        raise UsageError("-hs 0 with -negative 0 leaves no output layer: use -hs 1 or -negative > 0")
    if options["-batch-window"] and options["-cbow"]:
        raise UsageError("-batch-window 1 batches skip-gram windows: use it with -cbow 0")
    return Config(sg=not options["-cbow"], dim=options["-size"], window=options["-window"],
                  sample=options["-sample"], hs=bool(options["-hs"]), negative=options["-negative"],
                  batch_window=bool(options["-batch-window"]),
                  threads=options["-threads"], epochs=options["-iter"],
                  min_count=max(1, options["-min-count"]), alpha=options["-alpha"])


def read_vocabulary(path, min_count: int) -> Vocabulary:
    """A "word count" vocabulary file as the C tool's -read-vocab takes it:
    words with fewer than min_count occurrences are dropped and the rest is
    ordered by descending count, except that the first line keeps its place
    (the C tool keeps its "</s>" entry first).  Ties keep the file's order."""
    try:
        vocab = Vocabulary.load(path)
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except VocabularyError:
        raise
    except ValueError as e:  # repeated words
        raise DataError(f"{path}: {e}") from None
    counts = vocab.counts
    kept = np.flatnonzero(counts >= min_count)
    head = kept[:1] if len(kept) and kept[0] == 0 else kept[:0]
    rest = kept[len(head):]
    order = np.concatenate([head, rest[np.argsort(-counts[rest], kind="stable")]])
    if len(order) == 0:
        raise VocabularyError(f"{path}: no word has a count of at least -min-count {min_count}")
    return Vocabulary([vocab.words[i] for i in order.tolist()], counts[order])


class CProgress(Progress):
    """The C tool's live line on stdout: learning rate, percent of all
    epochs done and words per second per thread."""

    def __init__(self, epochs: int, threads: int, debug: int, stream):
        super().__init__(epochs, quiet=debug < 2, stream=stream)
        self.live = debug >= 2
        self.threads = threads
        self.shown = False

    def update(self, epoch, fraction, words_per_second, lr, loss, state=None):
        if not self.live:
            return
        done = 100.0 * (epoch - 1 + fraction) / self.epochs
        self.stream.write("\rAlpha: %f  Progress: %.2f%%  Words/thread/sec: %.2fk  "
                          % (lr, done, words_per_second / self.threads / 1000))
        self.stream.flush()
        self.shown = True

    def epoch_done(self, epoch, loss, words_per_second, seconds, lr):
        pass

    def message(self, text):
        sys.stderr.write(text + "\n")

    def finish(self):
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


@njit(cache=True, error_model="numpy")
def _unit_centroids(vectors, assignment, k):
    """The C tool's centroid step: per class the sum of its vectors over
    (members + 1), scaled to unit length, in float32 and in the C tool's
    order of additions; an empty class gets NaN (0/0), so no word joins it."""
    n, d = vectors.shape
    cent = np.zeros((k, d), dtype=np.float32)
    members = np.ones(k, dtype=np.int64)
    for c in range(n):
        b = assignment[c]
        for j in range(d):
            cent[b, j] += vectors[c, j]
        members[b] += 1
    for b in range(k):
        total = np.float32(0.0)
        m = np.float32(members[b])
        for j in range(d):
            cent[b, j] = cent[b, j] / m
            total += cent[b, j] * cent[b, j]
        norm = np.float32(math.sqrt(total))
        for j in range(d):
            cent[b, j] = cent[b, j] / norm
    return cent


def kmeans_classes(vectors: np.ndarray, k: int, iterations: int = 10) -> np.ndarray:
    """Word classes as the C tool's -classes computes them: word i starts in
    class i mod k; each iteration sets every centroid to its class mean scaled
    to unit length and moves every word to the class with the largest dot
    product (the first such class; class 0 when no dot product exceeds -10).
    The dot products are one matrix product per block of words."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(vectors)
    assignment = (np.arange(n) % k).astype(np.int64)
    step = max(1, (1 << 24) // k)
    for _ in range(iterations):
        cent = _unit_centroids(vectors, assignment, k)
        usable = ~np.isnan(cent).any(axis=1)
        cent_t = np.where(usable[:, None], cent, 0).T.copy()
        for lo in range(0, n, step):
            dots = vectors[lo:lo + step] @ cent_t
            dots[:, ~usable] = -np.inf
            dots[np.isnan(dots)] = -np.inf
            best = dots.argmax(axis=1)
            value = dots[np.arange(len(dots)), best]
            assignment[lo:lo + step] = np.where(value > -10, best, 0)
    return assignment


def write_classes(path, words, classes) -> None:
    """"word class" lines, one per vocabulary word, in vocabulary order."""
    with atomic_output(path) as out:
        for lo in range(0, len(words), 1 << 16):
            out.write("".join(f"{w} {c}\n" for w, c in zip(words[lo:lo + (1 << 16)],
                                                          classes[lo:lo + (1 << 16)].tolist())).encode())


def _word2vec(argv, stdout=None, stderr=None) -> int:
    _, out, _ = _streams(None, stdout, stderr)
    if not argv:
        out.write(WORD2VEC_USAGE)
        return 0
    from .corpus import load_corpus
    from .train import Word2Vec, load_training_corpus, warn_about_input

    options = parse_flags(argv, WORD2VEC_FLAGS)
    train, output = options["-train"], options["-output"]
    _input_file(train, "-train <file>")
    if options["-read-vocab"]:
        _input_file(options["-read-vocab"], "-read-vocab <file>")
    for name in ("-output", "-save-vocab"):
        if options[name]:
            check_writable(options[name])
    config = word2vec_config(options)
    debug = options["-debug"]

    def say(text):
        if debug > 0:
            out.write(text + "\n")
            out.flush()

    say(f"Starting training using file {train}")
    work_dir = os.path.dirname(os.path.abspath(output or options["-save-vocab"] or "."))
    if options["-read-vocab"]:
        vocab = read_vocabulary(options["-read-vocab"], options["-min-count"])
        _, encoded, report = load_corpus(train, max_sentence_length=config.max_sentence_length, base=vocab,
                                         fixed=True, threads=config.threads, work_dir=work_dir)
    else:
        vocab, encoded, report = load_training_corpus(train, config, work_dir=work_dir)
    try:
        say(f"Vocab size: {len(vocab)}")
        say(f"Words in train file: {vocab.total_count}")
        warn_about_input(report)
        if options["-save-vocab"]:
            vocab.save(options["-save-vocab"])
        if not output:
            return 0
        model = Word2Vec.initialize(config, vocab)
        progress = CProgress(config.epochs, config.threads, debug, out)
        try:
            model.train_encoded(encoded, progress)
        finally:
            progress.finish()
    finally:
        encoded.close()
    if options["-classes"]:
        write_classes(output, model.vocab.words, kmeans_classes(model.syn0, options["-classes"]))
    else:
        model.save_word2vec_format(output, binary=bool(options["-binary"]))
    return 0


def word2vec_main(argv=None) -> None:
    """The word2vec program (console script fastw2v-word2vec)."""
    sys.exit(_run("word2vec", _word2vec, argv))


# --------------------------------------------------------------------------
# word2phrase


WORD2PHRASE_FLAGS = (
    Flag("-train", str, None, "Read the text from <file>"),
    Flag("-output", str, None, "Write the text with phrases joined by '_' to <file>"),
    Flag("-min-count", int, 5, "Words and pairs occurring fewer times never form phrases", 0),
    Flag("-threshold", float, 100.0, "Pairs scoring above this form phrases (higher means fewer phrases)",
         None, "100"),
    Flag("-debug", int, 2, "Messages: 0 = none, 1 = counts, 2 = also a summary of the phrases formed"),
)

WORD2PHRASE_NOTES = """\
fastw2v's word2phrase: the C tool's rule and output layout.  A pair a b on one
line is joined as a_b when a, b and the pair each occur -min-count times and
(count(ab) - min-count) / count(a) / count(b) * words in file > -threshold, and
a was not itself just joined; run it again on its output for longer phrases.
Differences from the C tool: pairs are counted within lines only; words are
not truncated; the last word of a file that does not end with a newline is
kept; every whitespace character separates words.
"""

WORD2PHRASE_USAGE = _usage(
    "fastw2v word2phrase: join frequent word pairs into phrases (a drop-in for the word2phrase C tool)",
    WORD2PHRASE_FLAGS, WORD2PHRASE_NOTES,
    "word2phrase -train text.txt -output phrases.txt -threshold 100 -debug 2")


def _word2phrase(argv, stdout=None, stderr=None) -> int:
    _, out, _ = _streams(None, stdout, stderr)
    if not argv:
        out.write(WORD2PHRASE_USAGE)
        return 0
    from .phrases import learn_phrases, write_phrased

    options = parse_flags(argv, WORD2PHRASE_FLAGS)
    _input_file(options["-train"], "-train <file>")
    if not options["-output"]:
        raise UsageError("-output <file> is required")
    check_writable(options["-output"])
    debug = options["-debug"]
    start = time.perf_counter()
    if debug > 0:
        out.write(f"Starting training using file {options['-train']}\n")
        out.flush()
    phrases = learn_phrases(options["-train"], options["-min-count"], options["-threshold"])
    if debug > 0:
        out.write(f"Vocab size (unigrams + bigrams): {phrases.vocab_size}\n")
        out.write(f"Words in train file: {phrases.train_words}\n")
        out.flush()
    write_phrased(phrases, options["-output"])
    if debug > 1:
        out.write(f"Phrases formed: {phrases.n_joined} ({len(phrases.phrases())} distinct), "
                  f"{time.perf_counter() - start:.2f} s\n")
        out.flush()
    return 0


def word2phrase_main(argv=None) -> None:
    """The word2phrase program (console script fastw2v-word2phrase)."""
    sys.exit(_run("word2phrase", _word2phrase, argv))


# --------------------------------------------------------------------------
# distance and word-analogy

TOP_N = 40
_HEADER_PAD = " " * 46
_DASHES = "-" * 72
DISTANCE_HEADER = f"\n{_HEADER_PAD}Word       Cosine distance\n{_DASHES}\n"
ANALOGY_HEADER = f"\n{_HEADER_PAD}Word              Distance\n{_DASHES}\n"


def _c_width(word: str, width: int = 50) -> str:
    """printf("%50s"): right-aligned in `width` bytes of UTF-8."""
    return " " * max(0, width - len(word.encode("utf-8", "surrogatepass"))) + word


class _Vectors:
    """Words and unit-length float32 vectors as the C tools hold them: each
    row divided by its length, so a zero vector becomes NaN and never ranks."""

    def __init__(self, path, limit=None):
        from .vectors import KeyedVectors

        if not os.path.exists(path):
            raise InputError(f"{path}: no such file")
        kv = KeyedVectors.load_word2vec_format(path, limit=limit, unicode_errors="replace")
        self.words = kv.index_to_key
        self.index = kv.key_to_index
        vectors = np.asarray(kv.vectors, dtype=np.float32)
        norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))
        with np.errstate(divide="ignore", invalid="ignore"):
            self.normed = vectors / norms[:, None]
        self.step = max(1, (1 << 24) // max(len(self.words), 1))

    def similarities(self, queries: np.ndarray) -> np.ndarray:
        """Dot products of the query rows with every unit vector; NaN as -inf."""
        sims = queries.astype(np.float32) @ self.normed.T
        sims[np.isnan(sims)] = -np.inf
        return sims


def best_rows(sims_row: np.ndarray, n: int, floor: float):
    """The C tools' top-n list: rows scoring above `floor`, highest first,
    ties in vocabulary order; (rows, scores)."""
    candidates = np.flatnonzero(sims_row > floor)
    if len(candidates) > n:
        values = sims_row[candidates]
        kth = np.partition(values, len(values) - n)[len(values) - n]
        candidates = candidates[values >= kth]
    order = np.lexsort((candidates, -sims_row[candidates]))[:n]
    return candidates[order], sims_row[candidates[order]]


def _ranking(words, rows, scores, n, floor) -> str:
    lines = [f"{_c_width(words[r])}\t\t{float(s):f}\n" for r, s in zip(rows.tolist(), scores.tolist())]
    lines += [f"{_c_width('')}\t\t{floor:f}\n"] * (n - len(lines))
    return "".join(lines)


def _as_bytes(data) -> bytes:
    return data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data


def _line_batches(stdin):
    """Lists of the complete lines available at each read: one line at a
    time when typed, many per read when piped.  The last line may lack its
    newline."""
    raw = getattr(stdin, "buffer", stdin)
    read = getattr(raw, "read1", None) or raw.read
    pending = b""
    while True:
        data = _as_bytes(read(1 << 16))
        if not data:
            if pending:
                yield [pending]
            return
        pending += data
        *lines, pending = pending.split(b"\n")
        if lines:
            yield lines


def _query_loop(stdin, stdout, prompt: str, answer) -> int:
    """Prompt, read lines, answer them in batches; stop on EXIT or end of input.
    answer(lines) returns one text per line, None for EXIT."""
    stdout.write(prompt)
    stdout.flush()
    for batch in _line_batches(stdin):
        lines = [line.rstrip(b"\r").decode("utf-8", "replace") for line in batch]
        if "EXIT" in lines:
            lines = lines[:lines.index("EXIT") + 1]
        for text in answer(lines):
            if text is None:
                stdout.flush()
                return 0
            stdout.write(text + prompt)
        stdout.flush()
    stdout.write("\n")
    stdout.flush()
    return 0


def _lookup(vectors: _Vectors, words) -> tuple[str, list | None]:
    """The "Word: X  Position in vocabulary: N" lines; rows, or None at the
    first unknown word (after "Out of dictionary word!")."""
    text, rows = [], []
    for word in words:
        row = vectors.index.get(word, -1)
        text.append(f"\nWord: {word}  Position in vocabulary: {row}\n")
        if row < 0:
            text.append("Out of dictionary word!\n")
            return "".join(text), None
        rows.append(row)
    return "".join(text), rows


def _answer_queries(vectors: _Vectors, lines, build, header: str, floor: float):
    """Texts for query lines: build(words) gives (text, query vector or None, rows to exclude)."""
    texts, queries = [], []
    for line in lines:
        if line == "EXIT":
            texts.append(None)
            continue
        text, query, exclude = build(line.split())
        texts.append(text)
        if query is not None:
            queries.append((len(texts) - 1, query, exclude))
    for lo in range(0, len(queries), vectors.step):
        chunk = queries[lo:lo + vectors.step]
        matrix = np.stack([q for _, q, _ in chunk])
        with np.errstate(divide="ignore", invalid="ignore"):
            matrix = matrix / np.sqrt(np.einsum("ij,ij->i", matrix, matrix))[:, None]
        sims = vectors.similarities(matrix)
        for (at, _, exclude), row in zip(chunk, sims):
            row[exclude] = -np.inf
            best, scores = best_rows(row, TOP_N, floor)
            texts[at] += header + _ranking(vectors.words, best, scores, TOP_N, floor)
    return texts


DISTANCE_USAGE = """\
Usage: distance <FILE>
where FILE holds word vectors (word2vec binary or text format).
Reads words from stdin, one query a line, and prints the 40 nearest words by
cosine similarity to the query (several words: the sum of their unit vectors).
A line EXIT or the end of input stops.
"""

ANALOGY_USAGE = """\
Usage: word-analogy <FILE>
where FILE holds word vectors (word2vec binary or text format).
Reads three words A B C a line from stdin and prints the 40 words nearest to
B - A + C (A is to B as C is to ?).  A line EXIT or the end of input stops.
"""


def _vectors_argument(argv, usage_line: str, max_args: int = 1) -> None:
    """Positional arguments only: the vectors file (and, for compute-accuracy, the threshold)."""
    if argv[0].startswith("-") and len(argv[0]) > 1:
        raise UsageError(f"unknown flag {argv[0]}; the arguments are {usage_line}")
    if len(argv) > max_args:
        raise UsageError(f"unexpected argument {argv[max_args]!r}; the arguments are {usage_line}")


def _distance(argv, stdin=None, stdout=None, stderr=None) -> int:
    stdin, out, _ = _streams(stdin, stdout, stderr)
    if not argv:
        out.write(DISTANCE_USAGE)
        return 0
    _vectors_argument(argv, "<FILE>")
    vectors = _Vectors(argv[0])

    def build(words):
        if not words:
            return "", None, None
        text, rows = _lookup(vectors, words)
        if rows is None:
            return text, None, None
        return text, vectors.normed[rows].sum(axis=0, dtype=np.float32), rows

    return _query_loop(stdin, out, "Enter word or sentence (EXIT to break): ",
                       lambda lines: _answer_queries(vectors, lines, build, DISTANCE_HEADER, -1.0))


def _word_analogy(argv, stdin=None, stdout=None, stderr=None) -> int:
    stdin, out, _ = _streams(stdin, stdout, stderr)
    if not argv:
        out.write(ANALOGY_USAGE)
        return 0
    _vectors_argument(argv, "<FILE>")
    vectors = _Vectors(argv[0])

    def build(words):
        if len(words) < 3:
            return (f"Only {len(words)} words were entered.. three words are needed at the input to perform "
                    f"the calculation\n"), None, None
        text, rows = _lookup(vectors, words)
        if rows is None:
            return text, None, None
        m = vectors.normed
        return text, m[rows[1]] - m[rows[0]] + m[rows[2]], rows

    return _query_loop(stdin, out, "Enter three words (EXIT to break): ",
                       lambda lines: _answer_queries(vectors, lines, build, ANALOGY_HEADER, 0.0))


def distance_main(argv=None) -> None:
    """The distance program (console script fastw2v-distance)."""
    sys.exit(_run("distance", _distance, argv))


def word_analogy_main(argv=None) -> None:
    """The word-analogy program (console script fastw2v-word-analogy)."""
    sys.exit(_run("word-analogy", _word_analogy, argv))


# --------------------------------------------------------------------------
# compute-accuracy

ACCURACY_USAGE = """\
Usage: compute-accuracy <FILE> [<threshold>]
where FILE holds word vectors (word2vec binary or text format) and threshold
limits the search to the first <threshold> words of the file, for a fast
approximate evaluation (0 = all words, the default; 30000 is typical).
Reads analogy questions ("A B C D" lines grouped under ": section" lines, as
in questions-words.txt) from stdin.  Words are compared upper-cased; questions
with a word outside the searched vocabulary are skipped; the first 5 sections
are semantic, the others syntactic.
"""

_ASCII_UPPER = {c: c - 32 for c in range(ord("a"), ord("z") + 1)}


def ascii_upper(word: str) -> str:
    """toupper() in the C locale: a-z only."""
    return word.translate(_ASCII_UPPER)


def c_percent(numerator: int, denominator: int) -> str:
    """printf("%.2f", numerator / (float)denominator * 100) as the C tool
    computes it (float32); 0/0 prints as "-nan", as glibc on x86-64 does."""
    with np.errstate(all="ignore"):
        value = np.float32(numerator) / np.float32(denominator) * np.float32(100)
    if np.isnan(value):
        return "-nan"
    return "%.2f" % float(value)


class AccuracyCounter:
    """compute-accuracy's tallies and output, fed question by question and
    answered in batches (one matrix product per batch)."""

    BATCH = 4096

    def __init__(self, vectors: _Vectors, out):
        self.vectors = vectors
        self.out = out
        self.upper = np.array([ascii_upper(w) for w in vectors.words], dtype=object)
        self.lookup = {}
        for i, w in enumerate(self.upper.tolist()):
            self.lookup.setdefault(w, i)
        self.qid = self.tcn = self.ccn = self.tacn = self.cacn = 0
        self.secn = self.sycn = self.seac = self.syac = self.tq = self.tqs = 0
        self.pending = []   # (b1, b2, b3, expected word, semantic)

    def question(self, st1, st2, st3, st4):
        self.tq += 1
        rows = [self.lookup.get(w) for w in (st1, st2, st3)]
        if None in rows or st4 not in self.lookup:
            return
        self.tqs += 1
        semantic = self.qid <= 5
        self.pending.append((*rows, st4, semantic))
        if semantic:
            self.secn += 1
        else:
            self.sycn += 1
        self.tcn += 1
        self.tacn += 1
        if len(self.pending) >= self.BATCH:
            self.answer()

    def answer(self):
        """Score the pending questions: right when the nearest word to
        b - a + c (unit vectors, a b c excluded, only similarities > 0) is d."""
        if not self.pending:
            return
        b1, b2, b3 = (np.array([p[i] for p in self.pending], dtype=np.int64) for i in range(3))
        m = self.vectors.normed
        for lo in range(0, len(b1), self.vectors.step):
            s = slice(lo, lo + self.vectors.step)
            sims = self.vectors.similarities(m[b2[s]] - m[b1[s]] + m[b3[s]])
            n = np.arange(len(sims))
            sims[n, b1[s]] = sims[n, b2[s]] = sims[n, b3[s]] = -np.inf
            best = sims.argmax(axis=1)
            found = sims[n, best] > 0
            for (_, _, _, expected, semantic), ok, row in zip(self.pending[s], found.tolist(), best.tolist()):
                if ok and self.upper[row] == expected:
                    self.ccn += 1
                    self.cacn += 1
                    if semantic:
                        self.seac += 1
                    else:
                        self.syac += 1
        self.pending = []

    def section_end(self):
        self.answer()
        if self.tcn == 0:
            self.tcn = 1
        if self.qid != 0:
            self.out.write(f"ACCURACY TOP1: {c_percent(self.ccn, self.tcn)} %  ({self.ccn} / {self.tcn})\n")
            self.out.write(f"Total accuracy: {c_percent(self.cacn, self.tacn)} %   "
                           f"Semantic accuracy: {c_percent(self.seac, self.secn)} %   "
                           f"Syntactic accuracy: {c_percent(self.syac, self.sycn)} % \n")
            self.out.flush()
        self.qid += 1

    def section_start(self, name):
        self.out.write(f"{name}:\n")
        self.tcn = self.ccn = 0

    def finish(self):
        self.out.write(f"Questions seen / total: {self.tqs} {self.tq}   {c_percent(self.tqs, self.tq)} % \n")
        self.out.flush()


def _tokens(stdin):
    """Whitespace-separated words of stdin, as scanf("%s") reads them."""
    raw = getattr(stdin, "buffer", stdin)
    for line in raw:
        for token in _as_bytes(line).split():
            yield token.decode("utf-8", "replace")


def run_accuracy(vectors: _Vectors, tokens, out) -> AccuracyCounter:
    """compute-accuracy's loop over the question words: ':' or 'EXIT' (or the
    end of input) closes a section and the next word names the next one; any
    other word starts a question "A B C D".  As in the C tool, a question
    cut short by the end of input reuses the previous question's last words."""
    counter = AccuracyCounter(vectors, out)
    tokens = iter(tokens)
    st = ["", "", "", ""]

    def read(i):
        word = next(tokens, None)
        if word is None:
            return False
        st[i] = word
        return True

    while True:
        more = read(0)
        st[0] = ascii_upper(st[0])
        if not more or st[0] in (":", "EXIT"):
            counter.section_end()
            name = next(tokens, None)
            if name is None:
                break
            counter.section_start(name)
            continue
        for i in (1, 2, 3):
            read(i)
            st[i] = ascii_upper(st[i])
        counter.question(*st)
    counter.finish()
    return counter


def _compute_accuracy(argv, stdin=None, stdout=None, stderr=None) -> int:
    stdin, out, _ = _streams(stdin, stdout, stderr)
    if not argv:
        out.write(ACCURACY_USAGE)
        return 0
    _vectors_argument(argv, "<FILE> [<threshold>]", max_args=2)
    threshold = 0
    if len(argv) == 2:
        if not _INT.match(argv[1].strip()) or int(argv[1]) < 0:
            raise UsageError(f"threshold must be an integer >= 0, got {argv[1]!r}")
        threshold = int(argv[1])
    vectors = _Vectors(argv[0], limit=threshold or None)
    run_accuracy(vectors, _tokens(stdin), out)
    return 0


def compute_accuracy_main(argv=None) -> None:
    """The compute-accuracy program (console script fastw2v-compute-accuracy)."""
    sys.exit(_run("compute-accuracy", _compute_accuracy, argv))
