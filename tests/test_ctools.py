"""The C-tool drop-ins (word2vec, word2phrase, distance, word-analogy,
compute-accuracy): flags and defaults, one-line errors, files gensim reads,
k-means classes, and the console layouts against plain-Python references of
the C programs."""
import io
import lzma
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors as GensimKV

from fastw2v import ctools
from fastw2v.config import default_threads
from fastw2v.ctools import (WORD2VEC_FLAGS, UsageError, ascii_upper, kmeans_classes, parse_flags,
                           word2vec_config)
from fastw2v.vectors import KeyedVectors

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / "bin"
DATA = ROOT / "fastw2v" / "data" / "warandpeace.txt.xz"


def run(program, argv, stdin=b""):
    """(exit status, stdout, stderr) of a program's body, run in-process."""
    body = {"word2vec": ctools._word2vec, "word2phrase": ctools._word2phrase, "distance": ctools._distance,
            "word-analogy": ctools._word_analogy, "compute-accuracy": ctools._compute_accuracy}[program]
    out, err = io.StringIO(), io.StringIO()
    streams = {"stdout": out, "stderr": err}
    if program in ("distance", "word-analogy", "compute-accuracy"):
        streams["stdin"] = io.BytesIO(stdin)
    code = ctools._run(program, body, [str(a) for a in argv], **streams)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The first ~100k words of War and Peace."""
    lines, n = [], 0
    with lzma.open(DATA, "rt") as f:
        for line in f:
            lines.append(line)
            n += len(line.split())
            if n > 100_000:
                break
    path = tmp_path_factory.mktemp("ctools") / "wp100k.txt"
    path.write_text("".join(lines))
    return path


# --------------------------------------------------------------------------
# word2vec flags

def test_defaults_are_the_c_tools():
    options = parse_flags([], WORD2VEC_FLAGS)
    assert options == {"-train": None, "-output": None, "-size": 100, "-window": 5, "-sample": 1e-3, "-hs": 0,
                       "-negative": 5, "-threads": None, "-iter": 5, "-min-count": 5, "-alpha": None,
                       "-classes": 0, "-debug": 2, "-binary": 0, "-save-vocab": None, "-read-vocab": None,
                       "-cbow": 1, "-batch-window": 0}
    config = word2vec_config(options)
    assert (config.sg, config.dim, config.window, config.sample, config.hs, config.negative, config.epochs,
            config.min_count, config.alpha, config.threads) == (False, 100, 5, 1e-3, False, 5, 5, 5, 0.05,
                                                                default_threads())
    assert config.cbow_mean and config.dynamic_window and config.min_alpha == pytest.approx(0.05 * 1e-4)
    assert not config.batch_window


@pytest.mark.parametrize("flag, value, check", [
    ("-size", "7", lambda c: c.dim == 7),
    ("-window", "3", lambda c: c.window == 3),
    ("-sample", "1e-5", lambda c: c.sample == 1e-5),
    ("-sample", "0", lambda c: c.sample == 0),
    ("-hs", "1", lambda c: c.hs and c.negative == 5),
    ("-negative", "12", lambda c: c.negative == 12),
    ("-threads", "3", lambda c: c.threads == 3),
    ("-iter", "9", lambda c: c.epochs == 9),
    ("-min-count", "2", lambda c: c.min_count == 2),
    ("-min-count", "0", lambda c: c.min_count == 1),   # every word counts at least once
    ("-alpha", "0.1", lambda c: c.alpha == 0.1),
    ("-cbow", "0", lambda c: c.sg and c.alpha == 0.025),
    ("-cbow", "1", lambda c: not c.sg and c.alpha == 0.05),
    ("-batch-window", "0", lambda c: not c.batch_window),
])
def test_each_flag_sets_its_config_field(flag, value, check):
    options = parse_flags([flag, value], WORD2VEC_FLAGS)
    assert check(word2vec_config(options))


@pytest.mark.parametrize("flag, value, expected", [
    ("-train", "t.txt", "t.txt"), ("-output", "o.bin", "o.bin"), ("-classes", "50", 50), ("-debug", "0", 0),
    ("-binary", "1", 1), ("-save-vocab", "v.txt", "v.txt"), ("-read-vocab", "r.txt", "r.txt"),
])
def test_file_and_output_flags(flag, value, expected):
    assert parse_flags([flag, value], WORD2VEC_FLAGS)[flag] == expected


def test_batch_window_flag_is_skip_gram_only():
    assert word2vec_config(parse_flags(["-cbow", "0", "-batch-window", "1"], WORD2VEC_FLAGS)).batch_window
    with pytest.raises(UsageError, match="-batch-window 1 batches skip-gram windows: use it with -cbow 0"):
        word2vec_config(parse_flags(["-batch-window", "1"], WORD2VEC_FLAGS))


def test_first_occurrence_wins_as_in_the_c_tool():
    assert parse_flags(["-size", "10", "-size", "20"], WORD2VEC_FLAGS)["-size"] == 10
    assert word2vec_config(parse_flags(["-cbow", "0", "-alpha", "0.5"], WORD2VEC_FLAGS)).alpha == 0.5
    with pytest.raises(UsageError, match="flag -size needs a value"):
        parse_flags(["-size"], WORD2VEC_FLAGS)


@pytest.mark.parametrize("argv, text", [
    (["-train", "x", "-bogus", "1"], "unknown flag -bogus"),
    (["--train", "x"], "unknown flag --train"),
    (["-train", "x", "stray"], "unexpected argument 'stray'"),
    (["-train", "x", "-size"], "flag -size needs a value"),
    (["-train", "-output", "o.txt"], "flag -train needs a value"),
    (["-train", "x", "-size", "ten"], "flag -size expects an integer, got 'ten'"),
    (["-train", "x", "-size", "1.5"], "flag -size expects an integer"),
    (["-train", "x", "-sample", "lots"], "flag -sample expects a number"),
    (["-train", "x", "-sample", "nan"], "flag -sample expects a number"),
    (["-train", "x", "-size", "0"], "flag -size must be >= 1"),
    (["-train", "x", "-window", "0"], "flag -window must be >= 1"),
    (["-train", "x", "-threads", "0"], "flag -threads must be >= 1"),
    (["-train", "x", "-negative", "-1"], "flag -negative must be >= 0"),
    (["-train", "x", "-alpha", "0"], "flag -alpha must be > 0"),
    (["-train", "x", "-hs", "0", "-negative", "0"], "leaves no output layer"),
    (["-output", "o.txt"], "-train <file> is required"),
    (["-train", "/no/such/file", "-output", "o.txt"], "/no/such/file"),
])
def test_usage_errors_are_one_line_exit_2(argv, text, tmp_path, monkeypatch, corpus):
    monkeypatch.chdir(tmp_path)
    argv = [str(corpus) if a == "x" else a for a in argv]
    code, out, err = run("word2vec", argv)
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith("word2vec: error: ") and text in err, err
    assert not (tmp_path / "o.txt").exists()


def test_only_fastw2v_warnings_become_warning_lines():
    """A file some earlier code left open and the collector closes during a
    run is Python's business, not the program's: it must not add a line to
    the one-line error (CI once saw three "unclosed file" lines there)."""
    def body(argv, stdout, stderr):
        warnings.warn("unclosed file <_io.FileIO name=13 mode='rb+'>", ResourceWarning)
        warnings.warn("a deprecated call inside a library", DeprecationWarning)
        warnings.warn("3 repeated words; kept the first vector of each")
        warnings.warn("3 repeated words; kept the first vector of each")
        raise UsageError("flag -size needs a value <int>")

    err = io.StringIO()
    code = ctools._run("word2vec", body, [], stdout=io.StringIO(), stderr=err)
    assert code == 2
    assert err.getvalue() == ("word2vec: warning: 3 repeated words; kept the first vector of each\n" * 2
                              + "word2vec: error: flag -size needs a value <int>\n")


def test_programs_without_arguments_print_usage_and_exit_0():
    code, out, err = run("word2vec", [])
    assert code == 0 and err == ""
    for flag in WORD2VEC_FLAGS:
        assert f"\t{flag.name} {flag.meta}\n" in out
    for default in ("default is 100", "default is 5", "default is 1e-3", "default is 0", "all cores",
                    "0.025 for skip-gram, 0.05 for CBOW", "default is 2", "default is 1"):
        assert default in out
    assert "Examples:\n" in out and "</s>" in out
    for program in ("word2phrase", "distance", "word-analogy", "compute-accuracy"):
        code, out, err = run(program, [])
        assert code == 0 and out.strip() and err == "", program
    assert "-threshold <float>" in run("word2phrase", [])[1]


def test_installed_style_scripts_run_and_exit_with_status(tmp_path):
    """The bin/ wrappers run from a checkout; sys.exit carries the status."""
    result = subprocess.run([sys.executable, BIN / "word2vec", "-train", "x", "-nope", "1"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr == "word2vec: error: unknown flag -nope\n"
    result = subprocess.run([sys.executable, BIN / "word2phrase", "-train"], capture_output=True, text=True)
    assert result.returncode == 2 and "flag -train needs a value" in result.stderr
    result = subprocess.run([sys.executable, BIN / "distance"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("Usage: distance <FILE>")


# --------------------------------------------------------------------------
# word2vec runs


def test_text_and_binary_files_gensim_and_fastw2v_read(corpus, tmp_path):
    text, binary, vocab = tmp_path / "v.txt", tmp_path / "v.bin", tmp_path / "vocab.txt"
    code, out, err = run("word2vec", ["-train", corpus, "-output", text, "-size", 16, "-iter", 1, "-threads", 2,
                                      "-debug", 0, "-save-vocab", vocab])
    assert (code, out, err) == (0, "", "")
    code, out, err = run("word2vec", ["-train", corpus, "-output", binary, "-size", 16, "-iter", 1, "-binary", 1,
                                      "-cbow", 0, "-hs", 1, "-negative", 0, "-debug", 0])
    assert code == 0, err
    words = [line.split()[0] for line in vocab.read_text().splitlines()]
    assert text.read_text().splitlines()[1].endswith(" ")  # "%lf " values, as the C tool writes
    for path, is_binary in ((text, False), (binary, True)):
        g = GensimKV.load_word2vec_format(str(path), binary=is_binary)
        f = KeyedVectors.load_word2vec_format(path)
        assert g.index_to_key == f.index_to_key == words and g.vector_size == f.vector_size == 16
        np.testing.assert_allclose(g.vectors, f.vectors, atol=1e-6)
    counts = dict(line.split() for line in vocab.read_text().splitlines())
    assert min(int(c) for c in counts.values()) >= 5 and "</s>" not in counts


def test_debug_levels(corpus, tmp_path):
    argv = ["-train", corpus, "-output", tmp_path / "v.txt", "-size", 8, "-iter", 1]
    code, out, _ = run("word2vec", argv + ["-debug", 0])
    assert code == 0 and out == ""
    code, out, _ = run("word2vec", argv + ["-debug", 1])
    lines = out.splitlines()
    n_words = len(KeyedVectors.load_word2vec_format(tmp_path / "v.txt"))
    assert lines[0] == f"Starting training using file {corpus}"
    assert lines[1] == f"Vocab size: {n_words}"
    assert lines[2].startswith("Words in train file: ") and int(lines[2].split()[-1]) > 90_000
    assert len(lines) == 3
    code, out, _ = run("word2vec", argv + ["-debug", 2])
    progress = out.split("\n")[3]
    assert progress.startswith("\rAlpha: ") and "Progress: 100.00%  Words/thread/sec: " in progress
    assert progress.rstrip().endswith("k")


def test_read_vocab_fixes_the_vocabulary(corpus, tmp_path):
    vocab = tmp_path / "vocab.txt"
    # unsorted, with a first entry kept in place (the C tool's "</s>"), a word absent from
    # the text, and words below -min-count
    vocab.write_text("</s> 7\nthe 10\nprince 50\nnosuchword 20\nrare 2\nand 30\n")
    saved, out = tmp_path / "saved.txt", tmp_path / "v.txt"
    code, stdout, err = run("word2vec", ["-train", corpus, "-output", out, "-read-vocab", vocab, "-save-vocab",
                                         saved, "-size", 8, "-iter", 1, "-debug", 1, "-min-count", 5])
    assert code == 0, err
    assert saved.read_text() == "</s> 7\nprince 50\nand 30\nnosuchword 20\nthe 10\n"
    assert "Vocab size: 5\nWords in train file: 117\n" in stdout
    kv = GensimKV.load_word2vec_format(str(out))
    assert kv.index_to_key == ["</s>", "prince", "and", "nosuchword", "the"]
    # -save-vocab without -output only writes the vocabulary, as the C tool
    code, _, _ = run("word2vec", ["-train", corpus, "-save-vocab", tmp_path / "only.txt", "-debug", 0])
    assert code == 0 and (tmp_path / "only.txt").read_text().startswith("the ")
    bad = tmp_path / "bad.txt"
    bad.write_text("a 1\nb x\n")
    code, _, err = run("word2vec", ["-train", corpus, "-output", out, "-read-vocab", bad])
    assert code == 1 and err.count("\n") == 1 and "line 2" in err


def test_classes_file(corpus, tmp_path):
    out = tmp_path / "classes.txt"
    code, _, err = run("word2vec", ["-train", corpus, "-output", out, "-classes", 7, "-size", 10, "-iter", 1,
                                    "-debug", 0, "-save-vocab", tmp_path / "vocab.txt"])
    assert code == 0, err
    lines = [line.split() for line in out.read_text().splitlines()]
    vocab = [line.split()[0] for line in (tmp_path / "vocab.txt").read_text().splitlines()]
    assert [w for w, _ in lines] == vocab
    ids = np.array([int(c) for _, c in lines])
    assert ids.min() >= 0 and ids.max() < 7 and len(set(ids.tolist())) > 1


def c_kmeans(vectors, k, iterations=10):
    """word2vec.c's k-means, transcribed loop for loop (float32 arithmetic)."""
    n, d = vectors.shape
    cl = np.arange(n) % k
    for _ in range(iterations):
        cent = np.zeros((k, d), np.float32)
        centcn = np.ones(k, np.int64)
        for c in range(n):
            for j in range(d):
                cent[cl[c], j] += vectors[c, j]
            centcn[cl[c]] += 1
        with np.errstate(invalid="ignore", divide="ignore"):
            for b in range(k):
                closev = np.float32(0)
                for j in range(d):
                    cent[b, j] = cent[b, j] / np.float32(centcn[b])
                    closev = np.float32(closev + cent[b, j] * cent[b, j])
                closev = np.float32(np.sqrt(np.float64(closev)))
                for j in range(d):
                    cent[b, j] = cent[b, j] / closev
        for c in range(n):
            closev, closeid = -10.0, 0
            for b in range(k):
                x = float(np.dot(cent[b].astype(np.float64), vectors[c].astype(np.float64)))
                if x > closev:
                    closev, closeid = x, b
            cl[c] = closeid
    return cl


@pytest.mark.parametrize("n, d, k, seed", [(200, 5, 6, 0), (150, 8, 3, 1), (40, 4, 50, 2), (90, 3, 1, 3)])
def test_kmeans_matches_the_c_algorithm(n, d, k, seed):
    vectors = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    np.testing.assert_array_equal(kmeans_classes(vectors, k), c_kmeans(vectors, k))


def test_kmeans_recovers_planted_clusters():
    rng = np.random.default_rng(4)
    k, d = 5, 20
    centres = np.linalg.qr(rng.standard_normal((d, d)))[0][:k] * 4   # orthogonal directions
    labels = rng.integers(0, k, 600)
    vectors = (centres[labels] + rng.standard_normal((600, d)) * 0.3).astype(np.float32)
    classes = kmeans_classes(vectors, k)
    # each planted cluster is one class and each class one planted cluster
    pairs = set(zip(labels.tolist(), classes.tolist()))
    assert len(pairs) == k and len({a for a, _ in pairs}) == k and len({b for _, b in pairs}) == k


# --------------------------------------------------------------------------
# distance and word-analogy


@pytest.fixture(scope="module")
def small_vectors(tmp_path_factory):
    """60 random words with random 12-d vectors, one of them zero, in a binary file."""
    rng = np.random.default_rng(9)
    words = [f"w{i}" for i in range(57)] + ["Paris", "PARIS", "caf\u00e9"]
    vectors = rng.standard_normal((len(words), 12)).astype(np.float32)
    vectors[5] = 0
    path = tmp_path_factory.mktemp("vec") / "v.bin"
    KeyedVectors(words, vectors).save_word2vec_format(path, binary=True)
    return path, words, vectors


def reference_ranking(words, vectors, query_rows, combine, floor):
    """distance.c / word-analogy.c in plain Python: unit rows, the combined
    query made unit length, every other word scored, the top 40 kept by
    insertion (ties keep the earlier word), empty slots ("", floor)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        m = vectors / np.sqrt((vectors * vectors).sum(axis=1))[:, None]
        vec = combine(m)
        vec = vec / np.sqrt((vec * vec).sum())
    best = [("", floor)] * 40
    for c in range(len(words)):
        if c in query_rows:
            continue
        dist = float(np.dot(vec, m[c]))
        for a in range(40):
            if dist > best[a][1]:
                best = best[:a] + [(words[c], dist)] + best[a:39]
                break
    return "".join(f"{' ' * (50 - len(w.encode()))}{w}\t\t{d:f}\n" for w, d in best)


def assert_same_output(out, expected):
    """Texts equal except that the "\t\t%f" scores may differ by rounding (the
    BLAS product and the C tool's loop add in different orders)."""
    number = re.compile(r"\t\t(-?\d+\.\d{6})\n")
    assert number.sub("\t\t#\n", out) == number.sub("\t\t#\n", expected)
    np.testing.assert_allclose([float(x) for x in number.findall(out)],
                               [float(x) for x in number.findall(expected)], atol=2e-6)


def test_distance_layout_and_ranking(small_vectors):
    path, words, vectors = small_vectors
    code, out, err = run("distance", [path], b"w3\nw1 w2\ncaf\xc3\xa9\n")
    assert code == 0 and err == ""
    prompt = "Enter word or sentence (EXIT to break): "
    header = "\n" + " " * 46 + "Word       Cosine distance\n" + "-" * 72 + "\n"
    expected = (prompt + "\nWord: w3  Position in vocabulary: 3\n" + header
                + reference_ranking(words, vectors, [3], lambda m: m[3], -1.0)
                + prompt + "\nWord: w1  Position in vocabulary: 1\n\nWord: w2  Position in vocabulary: 2\n"
                + header + reference_ranking(words, vectors, [1, 2], lambda m: m[1] + m[2], -1.0)
                + prompt + "\nWord: caf\u00e9  Position in vocabulary: 59\n" + header
                + reference_ranking(words, vectors, [59], lambda m: m[59], -1.0)
                + prompt + "\n")   # end of input: a newline after the last prompt, exit 0
    assert_same_output(out, expected)
    rows = out.split(header)[1].splitlines()[:40]
    assert all(len(r.split("\t\t")[0].encode()) == 50 for r in rows)
    assert "                                                w0\t\t" in out
    assert "\n" + " " * 46 + "w5" not in out   # a zero vector never ranks (C: NaN)


def test_distance_out_of_vocabulary_exit_and_blank_lines(small_vectors):
    path, _, _ = small_vectors
    code, out, _ = run("distance", [path], b"w1 nosuch w2\n\nEXIT\nw1\n")
    prompt = "Enter word or sentence (EXIT to break): "
    assert code == 0
    assert out == (prompt + "\nWord: w1  Position in vocabulary: 1\n\nWord: nosuch  Position in vocabulary: -1\n"
                   "Out of dictionary word!\n" + prompt + prompt)
    # a last line without its newline is still answered
    code, out, _ = run("distance", [path], b"w4")
    assert code == 0 and out.count("Position in vocabulary: 4") == 1 and out.endswith(prompt + "\n")
    code, out, err = run("distance", [path.parent / "missing.bin"])
    assert code == 2 and err.count("\n") == 1 and "missing.bin" in err
    code, _, err = run("distance", [path, "extra"])
    assert code == 2 and "unexpected argument 'extra'" in err


def test_word_analogy_layout(small_vectors):
    path, words, vectors = small_vectors
    code, out, _ = run("word-analogy", [path], b"w1 w2 w3\nw1 w2\nw1 zz w3\nw1 w2 w3 w4\n")
    assert code == 0
    prompt = "Enter three words (EXIT to break): "
    header = "\n" + " " * 46 + "Word              Distance\n" + "-" * 72 + "\n"
    looked = "".join(f"\nWord: w{i}  Position in vocabulary: {i}\n" for i in (1, 2, 3))
    assert_same_output(out, prompt + looked + header
                   + reference_ranking(words, vectors, [1, 2, 3], lambda m: m[2] - m[1] + m[3], 0.0)
                   + prompt + "Only 2 words were entered.. three words are needed at the input to perform the "
                   "calculation\n"
                   + prompt + "\nWord: w1  Position in vocabulary: 1\n\nWord: zz  Position in vocabulary: -1\n"
                   "Out of dictionary word!\n"
                   + prompt + looked + "\nWord: w4  Position in vocabulary: 4\n" + header
                   + reference_ranking(words, vectors, [1, 2, 3, 4], lambda m: m[2] - m[1] + m[3], 0.0)
                   + prompt + "\n")
    assert "\t\t0.000000\n" in out or out.count("\t\t") == 80


# --------------------------------------------------------------------------
# compute-accuracy


def reference_accuracy(words, vectors, questions_text, threshold=0):
    """compute-accuracy.c in plain Python for well-formed input: upper-cased
    vocabulary (the first `threshold` words), unit rows, b - a + c against
    every word but a, b, c; right when the best positive similarity is d."""
    if threshold:
        words, vectors = words[:threshold], vectors[:threshold]
    upper = [ascii_upper(w) for w in words]
    with np.errstate(invalid="ignore", divide="ignore"):
        m = vectors / np.sqrt((vectors * vectors).sum(axis=1))[:, None]
    out = []
    qid = tcn = ccn = tacn = cacn = secn = sycn = seac = syac = tq = tqs = 0

    def pct(a, b):
        return ctools.c_percent(a, b)

    def section_end():
        nonlocal tcn
        if tcn == 0:
            tcn = 1
        if qid:
            out.append(f"ACCURACY TOP1: {pct(ccn, tcn)} %  ({ccn} / {tcn})\n")
            out.append(f"Total accuracy: {pct(cacn, tacn)} %   Semantic accuracy: {pct(seac, secn)} %   "
                       f"Syntactic accuracy: {pct(syac, sycn)} % \n")

    for line in questions_text.splitlines():
        parts = line.split()
        if parts[0] == ":":
            section_end()
            qid += 1
            out.append(f"{parts[1]}:\n")
            tcn = ccn = 0
            continue
        tq += 1
        q = [ascii_upper(p) for p in parts]
        idx = [upper.index(w) if w in upper else None for w in q]
        if None in idx:
            continue
        tqs += 1
        b1, b2, b3 = idx[:3]
        vec = m[b2] - m[b1] + m[b3]
        best, bestd = "", 0.0
        for c in range(len(upper)):
            if c in (b1, b2, b3):
                continue
            dist = float(np.dot(vec.astype(np.float64), m[c].astype(np.float64)))
            if dist > bestd:
                best, bestd = upper[c], dist
        if best == q[3]:
            ccn += 1
            cacn += 1
            if qid <= 5:
                seac += 1
            else:
                syac += 1
        if qid <= 5:
            secn += 1
        else:
            sycn += 1
        tcn += 1
        tacn += 1
    section_end()
    out.append(f"Questions seen / total: {tqs} {tq}   {pct(tqs, tq)} % \n")
    return "".join(out)


def test_compute_accuracy_matches_the_c_protocol(tmp_path):
    rng = np.random.default_rng(11)
    base = [f"w{i}" for i in range(40)]
    words = base + ["Paris", "paris", "France", "Zed", "rare"]
    # clustered vectors so that some analogies come out right
    vectors = (rng.standard_normal((len(words), 6)) + np.repeat(rng.standard_normal((9, 6)) * 2, 5, axis=0)
               ).astype(np.float32)
    vectors[44] = 0                                     # a zero vector: NaN in the C tool, never an answer
    path = tmp_path / "v.bin"
    KeyedVectors(words, vectors).save_word2vec_format(path, binary=True)
    pool = words + ["unknown", "W3", "PARIS"]
    lines = []
    for s in range(8):                                  # 5 semantic and 3 syntactic sections
        lines.append(f": section-{s}")
        for _ in range(0 if s == 2 else 30):            # section 2 is empty: "(0 / 1)"
            lines.append(" ".join(rng.choice(pool, 4)))
    text = "\n".join(lines) + "\n"
    for threshold in (0, 30):
        argv = [path] + ([threshold] if threshold else [])
        code, out, err = run("compute-accuracy", argv, text.encode())
        assert code == 0, err
        assert out == reference_accuracy(words, vectors, text, threshold)
    assert "section-2:\nACCURACY TOP1: 0.00 %  (0 / 1)\n" in out
    assert "Syntactic accuracy: -nan % \n" in out       # no syntactic question yet (0/0 as glibc prints it)
    totals = out.splitlines()[-1]
    assert totals.startswith("Questions seen / total: ") and totals.endswith(" % ")


def test_compute_accuracy_layout_on_a_hand_made_case(tmp_path):
    words = ["a", "b", "c", "d", "e"]
    vectors = np.array([[1, 0, 0], [0, 1, 0], [1, 0.1, 0], [0, 1, 0.1], [0, 0, 1]], np.float32)
    path = tmp_path / "v.txt"
    KeyedVectors(words, vectors).save_word2vec_format(path, binary=False)
    # a:b = c:? -> d (b - a + c = (0, 1.1, 0) is nearest d); section 2 misses, section 3 has an unknown word
    questions = b": one\nA B C D\n: two\na b c e\n: three\na b zz d\n"
    code, out, err = run("compute-accuracy", [path], questions)
    assert code == 0, err
    assert out == ("one:\nACCURACY TOP1: 100.00 %  (1 / 1)\n"
                   "Total accuracy: 100.00 %   Semantic accuracy: 100.00 %   Syntactic accuracy: -nan % \n"
                   "two:\nACCURACY TOP1: 0.00 %  (0 / 1)\n"
                   "Total accuracy: 50.00 %   Semantic accuracy: 50.00 %   Syntactic accuracy: -nan % \n"
                   "three:\nACCURACY TOP1: 0.00 %  (0 / 1)\n"
                   "Total accuracy: 50.00 %   Semantic accuracy: 50.00 %   Syntactic accuracy: -nan % \n"
                   "Questions seen / total: 2 3   66.67 % \n")
    code, _, err = run("compute-accuracy", [path, "many"])
    assert code == 2 and "threshold must be an integer" in err


# --------------------------------------------------------------------------
# the C tools' demo, end to end


DEMO = r"""
set -e
B={bin}
$B/word2vec -train text.txt -output vectors.txt -cbow 1 -size 30 -window 5 -negative 5 -hs 0 -sample 1e-3 \
    -threads 2 -binary 0 -iter 3 -min-count 3 > w2v.log
$B/word2phrase -train text.txt -output text-phrase.txt -threshold 200 -debug 2 > p1.log
$B/word2phrase -train text-phrase.txt -output text-phrase2.txt -threshold 100 -min-count 3 -debug 1 > p2.log
$B/word2vec -train text-phrase2.txt -output vectors-phrase.bin -cbow 0 -size 30 -window 5 -negative 5 -hs 0 \
    -sample 1e-4 -threads 2 -binary 1 -iter 3 -min-count 3 -debug 0
$B/compute-accuracy vectors-phrase.bin 3000 < questions.txt > accuracy.txt
echo "new_york_city" | $B/distance vectors-phrase.bin > distance.txt
printf 'he his she\nEXIT\n' | $B/word-analogy vectors.txt > analogy.txt
"""


def test_c_style_demo_script(tmp_path):
    rng = np.random.default_rng(0)
    with lzma.open(DATA, "rt") as f:
        lines = []
        for line in f:
            lines.append(line.split())
            if sum(map(len, lines)) > 60_000:
                break
    out = []
    for words in lines:   # plant two collocations word2phrase must find
        for w in words:
            r = rng.random()
            if r < 0.003:
                out += ["new", "york", "city"]
            elif r < 0.005:
                out += ["los", "angeles"]
            out.append(w)
        out.append("\n")
    (tmp_path / "text.txt").write_text(" ".join(out).replace(" \n ", "\n"))
    (tmp_path / "questions.txt").write_text(": family\nhe his she her\nhis he her she\nfather mother son "
                                            "daughter\n: gram1-adjective-to-adverb\nquick quickly slow slowly\n")
    result = subprocess.run(["bash", "-c", DEMO.format(bin=BIN)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "w2v.log").read_bytes().decode()
    assert log.startswith("Starting training using file text.txt\nVocab size: ") and "\rAlpha: " in log
    phrased = (tmp_path / "text-phrase.txt").read_text()
    assert "new_york" in phrased and "los_angeles" in phrased
    assert "new_york_city" in (tmp_path / "text-phrase2.txt").read_text()
    assert "Vocab size (unigrams + bigrams): " in (tmp_path / "p1.log").read_text()
    kv = GensimKV.load_word2vec_format(str(tmp_path / "vectors-phrase.bin"), binary=True)
    assert "new_york_city" in kv.key_to_index and "los_angeles" in kv.key_to_index
    accuracy = (tmp_path / "accuracy.txt").read_text()
    assert accuracy.startswith("family:\nACCURACY TOP1: ")
    assert "gram1-adjective-to-adverb:\n" in accuracy and accuracy.splitlines()[-1].startswith(
        "Questions seen / total: ")
    distance = (tmp_path / "distance.txt").read_text()
    assert "Word: new_york_city  Position in vocabulary: " in distance and distance.count("\t\t") == 40
    analogy = (tmp_path / "analogy.txt").read_text()
    assert analogy.count("\t\t") == 40 and analogy.endswith("Enter three words (EXIT to break): ")
