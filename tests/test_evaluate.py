"""Analogy and word-pair evaluation give gensim's numbers, in gensim's shapes
and with gensim's defaults, on the same vectors; the numpy correlations and
their p-values match scipy's."""
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
from gensim.models import KeyedVectors as GensimKV
from hypothesis import given, settings
from hypothesis import strategies as st

from fastw2v.evaluate import (analogy_accuracy, evaluate_word_analogies, evaluate_word_pairs, pearson, pearson_pvalue,
                              rank_average, spearman, spearman_pvalue, word_pair_correlations)
from fastw2v.vectors import KeyedVectors

from conftest import EVAL

QUESTIONS = EVAL / "questions-words.txt"
PAIR_FILES = [EVAL / "simlex999.txt", EVAL / "wordsim353.tsv"]


def _structured_vectors(seed=0) -> KeyedVectors:
    """~3000 words covering much of the test sets, built so that some analogies
    hold (b = a + a relation offset per section, plus noise) and word pairs
    correlate with their scores; with upper/lower-case variants (the first one
    stands for all), question words left out, and filler words."""
    rng = np.random.default_rng(seed)
    dim = 24
    vecs = {}

    def vec(word):
        if word not in vecs:
            vecs[word] = rng.standard_normal(dim)
        return vecs[word]

    relation = None
    for line in QUESTIONS.read_text().splitlines():
        if line.startswith(": "):
            relation = rng.standard_normal(dim)
            continue
        a, b, c, d = line.split()
        for x, y in ((a, b), (c, d)):
            if y not in vecs:
                vecs[y] = vec(x) + relation + 0.6 * rng.standard_normal(dim)
    for path in PAIR_FILES:
        for line in path.read_text().splitlines():
            if line.startswith("#"):
                continue
            a, b, score = line.split("\t")
            if b not in vecs:
                vecs[b] = vec(a) * float(score) / 10 + rng.standard_normal(dim)
            vec(a)
    words = sorted(vecs, key=lambda w: rng.random())
    words = [w for i, w in enumerate(words) if i % 11]  # some words missing
    variants = [w.lower() if w[0].isupper() else w.capitalize() for w in words[::7]]
    words = words[:40] + [w.upper() for w in words[40:60]] + words[40:] + variants + [f"filler{i}" for i in range(300)]
    words = list(dict.fromkeys(words))
    matrix = np.stack([vecs.get(w, vecs.get(w.lower(), rng.standard_normal(dim))) for w in words])
    matrix += 0.1 * rng.standard_normal(matrix.shape)
    return KeyedVectors(words, matrix.astype(np.float32))


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """Our vectors and gensim's load of them."""
    kv = _structured_vectors()
    path = tmp_path_factory.mktemp("vectors") / "v.bin"
    kv.save_word2vec_format(path, binary=True)
    return kv, GensimKV.load_word2vec_format(path, binary=True)


@pytest.fixture(scope="module")
def questions_subset(tmp_path_factory):
    """Every 4th question of each section (gensim answers them one by one)."""
    lines, n = [], 0
    for line in QUESTIONS.read_text().splitlines():
        if line.startswith(":"):
            lines.append(line)
        else:
            n += 1
            if n % 4 == 0:
                lines.append(line)
    path = tmp_path_factory.mktemp("questions") / "questions.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def _compare_analogies(ours, theirs):
    score, sections = theirs
    total = sections[-1]
    assert total["section"] == "Total accuracy"
    assert ours["accuracy"] == pytest.approx(score, abs=1e-6)
    assert ours["correct"] == len(total["correct"])
    assert ours["covered"] == len(total["correct"]) + len(total["incorrect"])
    assert list(ours["sections"]) == [s["section"] for s in sections[:-1]]
    for s in sections[:-1]:
        mine = ours["sections"][s["section"]]
        assert (mine["correct"], mine["covered"]) == (len(s["correct"]), len(s["correct"]) + len(s["incorrect"]))


def test_analogies_match_gensim_on_the_full_file(pair):
    kv, g = pair
    theirs = g.evaluate_word_analogies(str(QUESTIONS), restrict_vocab=2500)
    assert evaluate_word_analogies(kv, QUESTIONS, restrict_vocab=2500) == theirs  # every question, in order
    ours = analogy_accuracy(kv, QUESTIONS, restrict_vocab=2500)
    _compare_analogies(ours, theirs)
    assert 0.05 < ours["accuracy"] < 0.95  # the structure makes it non-trivial
    assert ours["total"] == 19544 and ours["skipped"] == ours["total"] - ours["covered"] > 0
    assert ours["semantic"]["covered"] + ours["syntactic"]["covered"] == ours["covered"]
    assert ours["semantic"]["correct"] + ours["syntactic"]["correct"] == ours["correct"]


@pytest.mark.parametrize("restrict_vocab,case_insensitive,dummy4unknown", [
    (None, True, False), (800, True, False), (30000, False, False), (1500, True, True),
])
def test_analogy_options_match_gensim(pair, questions_subset, restrict_vocab, case_insensitive, dummy4unknown):
    kv, g = pair
    theirs = g.evaluate_word_analogies(str(questions_subset), restrict_vocab=restrict_vocab or len(kv),
                                       case_insensitive=case_insensitive, dummy4unknown=dummy4unknown)
    assert kv.evaluate_word_analogies(questions_subset, restrict_vocab, case_insensitive, dummy4unknown) == theirs
    ours = analogy_accuracy(kv, questions_subset, restrict_vocab, case_insensitive, dummy4unknown)
    _compare_analogies(ours, theirs)
    if dummy4unknown:
        assert ours["covered"] == ours["total"]


def test_evaluation_defaults_are_gensims(pair, questions_subset):
    """No restrict_vocab given: gensim's 300,000 words on both sides, the same numbers."""
    kv, g = pair
    small = KeyedVectors(kv.index_to_key[:600], kv.vectors[:600])
    g_small = GensimKV(kv.vector_size)
    g_small.add_vectors(small.index_to_key, small.vectors)
    for one, other in ((kv, g), (small, g_small)):
        assert one.evaluate_word_analogies(questions_subset) == other.evaluate_word_analogies(str(questions_subset))
        (r, _), (rho, _), oov = one.evaluate_word_pairs(PAIR_FILES[1])
        (r2, _), (rho2, _), oov2 = other.evaluate_word_pairs(str(PAIR_FILES[1]))
        assert (r, rho, oov) == pytest.approx((r2, rho2, oov2), abs=1e-6)
    with pytest.raises(ValueError, match="similarity_function"):
        kv.evaluate_word_analogies(questions_subset, similarity_function="most_similar_cosmul")


def test_analogy_protocol_details(tmp_path):
    """The first word that upper-cases alike stands for all of them; an answer
    that is a case variant of a question word is passed over."""
    words = ["king", "man", "woman", "Queen", "queen", "KING", "Woman2"]
    v = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1], [5, -1, 3], [0, 1, 1.01], [0.1, 1, 1]], np.float32)
    kv = KeyedVectors(words, v)
    (tmp_path / "q.txt").write_text(": royal\nman king woman queen\nMAN KING WOMAN QUEEN\nman king woman nope\n"
                                    "too few words\n: empty\n")
    res = analogy_accuracy(kv, tmp_path / "q.txt")
    assert res["sections"]["royal"] == {"accuracy": 1.0, "correct": 2, "covered": 2, "total": 3}
    assert res["sections"]["empty"] == {"accuracy": 0.0, "correct": 0, "covered": 0, "total": 0}
    assert (res["total"], res["covered"], res["skipped"]) == (3, 2, 1)
    assert res["oov_ratio"] == pytest.approx(100 / 3)
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    g = GensimKV.load_word2vec_format(tmp_path / "v.bin", binary=True)
    assert kv.evaluate_word_analogies(tmp_path / "q.txt") == g.evaluate_word_analogies(str(tmp_path / "q.txt"))
    _compare_analogies(res, g.evaluate_word_analogies(str(tmp_path / "q.txt")))
    strict = analogy_accuracy(kv, tmp_path / "q.txt", case_insensitive=False)
    assert strict["covered"] == 1
    (tmp_path / "bad.txt").write_text("man king woman queen\n")
    with pytest.raises(ValueError, match="line 1: question before"):
        evaluate_word_analogies(kv, tmp_path / "bad.txt")


def test_analogy_answer_when_every_candidate_is_a_question_word(tmp_path):
    """If all 5 nearest words are case variants of the question's words,
    gensim's loop ends on the last of them: it is the answer."""
    rng = np.random.default_rng(5)
    base = {w: rng.standard_normal(8) for w in ("man", "king", "woman")}
    unit = {w: v / np.linalg.norm(v) for w, v in base.items()}
    query = unit["king"] - unit["man"] + unit["woman"]
    query /= np.linalg.norm(query)
    side = rng.standard_normal(8)
    side -= (side @ query) * query
    variants = ["King", "KING", "Woman", "WOMAN", "Man"]  # nearest first
    words = list(base) + variants + [f"far{i}" for i in range(20)]
    rows = list(base.values()) + [query + 0.1 * (i + 1) * side for i in range(5)]
    rows += [-query + rng.standard_normal(8) for _ in range(20)]
    kv = KeyedVectors(words, np.array(rows, np.float32))
    (tmp_path / "q.txt").write_text(": last\nman king woman man\n: first\nman king woman king\n")
    res = analogy_accuracy(kv, tmp_path / "q.txt")
    assert res["sections"]["last"]["correct"] == 1 and res["sections"]["first"]["correct"] == 0
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    g = GensimKV.load_word2vec_format(tmp_path / "v.bin", binary=True)
    _compare_analogies(res, g.evaluate_word_analogies(str(tmp_path / "q.txt")))


def test_analogy_question_words_take_no_place_among_the_5(tmp_path):
    """a, b and c are left out before the 5 nearest words are taken: here c
    is nearest to b - a + c, then four variants of it, then the answer."""
    rng = np.random.default_rng(6)
    c = rng.standard_normal(8)
    a = rng.standard_normal(8)
    side = [rng.standard_normal(8) for _ in range(5)]
    rows = [a, a + 1e-3 * side[0], c] + [c + 0.05 * (i + 1) * side[i] for i in range(4)] + [c + 0.4 * side[4]]
    rows += [rng.standard_normal(8) for _ in range(20)]
    words = ["x", "y", "cat", "Cat", "CAT", "cAt", "caT", "dog"] + [f"far{i}" for i in range(20)]
    kv = KeyedVectors(words, np.array(rows, np.float32))
    (tmp_path / "q.txt").write_text(": s\nx y cat dog\n")
    assert kv.most_similar(["y", "cat"], ["x"], topn=5)[-1][0] == "dog"
    res = analogy_accuracy(kv, tmp_path / "q.txt")
    assert res["correct"] == 1
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    g = GensimKV.load_word2vec_format(tmp_path / "v.bin", binary=True)
    _compare_analogies(res, g.evaluate_word_analogies(str(tmp_path / "q.txt")))


@pytest.mark.parametrize("path", PAIR_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("restrict_vocab,case_insensitive,dummy4unknown", [
    (300000, True, False), (700, True, False), (300000, False, False), (1200, True, True),
])
def test_word_pairs_match_gensim(pair, path, restrict_vocab, case_insensitive, dummy4unknown):
    kv, g = pair
    kw = dict(restrict_vocab=restrict_vocab, case_insensitive=case_insensitive, dummy4unknown=dummy4unknown)
    pearson_, spearman_, oov_ratio = kv.evaluate_word_pairs(path, **kw)
    (p, p_value), (s, s_value), oov = g.evaluate_word_pairs(str(path), **kw)
    assert pearson_.statistic == pytest.approx(p, abs=1e-6) and pearson_[1] == pytest.approx(p_value, rel=1e-3)
    assert spearman_.correlation == pytest.approx(s, abs=1e-6) and spearman_.pvalue == pytest.approx(s_value, rel=1e-3)
    assert oov_ratio == pytest.approx(oov, abs=1e-9)
    flat = word_pair_correlations(kv, path, **kw)
    assert (flat["pearson"], flat["spearman"], flat["oov_ratio"]) == (pearson_[0], spearman_[0], oov_ratio)
    if not dummy4unknown and restrict_vocab > len(kv):
        assert flat["spearman"] > 0.2 and 0 < flat["oov_ratio"] < 50


def test_word_pairs_file_handling(tmp_path):
    kv = KeyedVectors(["a", "b", "c", "d"], np.eye(4, dtype=np.float32) + 0.5)
    (tmp_path / "p.csv").write_text("# comment\na,b,1\na,c,2\nb,d,not a number\nc,d\nc,zzz,3\nd,a,4\n")
    res = word_pair_correlations(kv, tmp_path / "p.csv", delimiter=",")
    assert (res["pairs"], res["oov"], res["oov_ratio"]) == (3, 1, 25.0)
    assert evaluate_word_pairs(kv, tmp_path / "p.csv", delimiter=",")[2] == 25.0
    (tmp_path / "none.tsv").write_text("x\ty\t1\n")
    with pytest.raises(ValueError, match="no word pair"):
        evaluate_word_pairs(kv, tmp_path / "none.tsv")


numbers = st.lists(st.sampled_from([0.0, 1.0, 1.5, 2.0, -3.0, 7.25]) | st.floats(-5, 5), min_size=3, max_size=40)


@settings(max_examples=200, deadline=None)
@given(x=numbers, data=st.data())
def test_correlations_match_scipy(x, data):
    y = data.draw(st.lists(st.sampled_from([0.0, 1.0, 2.0]) | st.floats(-5, 5), min_size=len(x), max_size=len(x)))
    np.testing.assert_allclose(rank_average(x), scipy.stats.rankdata(x))
    if np.ptp(x) > 1e-6 and np.ptp(y) > 1e-6:
        assert pearson(x, y) == pytest.approx(scipy.stats.pearsonr(x, y)[0], abs=1e-9)
        assert spearman(x, y) == pytest.approx(scipy.stats.spearmanr(x, y)[0], abs=1e-9)
    if np.ptp(x) == 0:
        assert np.isnan(pearson(x, y)) and np.isnan(spearman(x, y))


@settings(max_examples=200, deadline=None)
@given(n=st.integers(3, 1200), strength=st.floats(0, 3), seed=st.integers(0, 2**32 - 1))
def test_pvalues_match_scipy(n, strength, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    y = strength * x + rng.standard_normal(n)
    for ours, theirs in ((pearson_pvalue, scipy.stats.pearsonr(x, y)), (spearman_pvalue, scipy.stats.spearmanr(x, y))):
        # given scipy's statistic: a correlation near 1 leaves p sensitive to its last bits (the
        # relative error of 1 - |r| is about 1e-16 / (1 - |r|), and p moves with its square root)
        rel = 1e-9 + 1e-16 / max(1 - abs(theirs.statistic), 1e-300)
        assert ours(theirs.statistic, n) == pytest.approx(theirs.pvalue, rel=rel, abs=1e-300)
