"""Intrinsic evaluation of word vectors: word analogies (Google's
questions-words.txt) and correlations with human word-pair similarity
judgements (SimLex-999, WordSim-353).

Both follow gensim 4.4's protocol, defaults and return values
(KeyedVectors.evaluate_word_analogies and evaluate_word_pairs), so the same
vectors give the same numbers and a gensim script reads them the same way;
analogy questions are answered in batches, one matrix product per batch.
``analogy_accuracy`` and ``word_pair_correlations`` give the same results as
flat dicts (for `fastw2v evaluate --json` and the benchmarks).  The
correlations and their p-values are computed with numpy and the math module:
scipy is not needed.
"""
from __future__ import annotations

import io
import math
import os
from typing import NamedTuple

import numpy as np

from .files import open_binary
from .vectors import BLOCK_ELEMENTS, top_k, unit_rows

__all__ = ["evaluate_word_analogies", "evaluate_word_pairs", "analogy_accuracy", "word_pair_correlations",
           "Correlation", "pearson", "spearman", "rank_average"]

ANALOGY_TOPN = 5  # gensim looks for the answer among the 5 nearest non-question words
RESTRICT_VOCAB = 300000  # gensim's default for both evaluations


def _test_vocabulary(kv, restrict_vocab, case_insensitive):
    """(rows searched, {test-set form of a word: row}, canonical row of each
    searched row).  Like gensim, only the first `restrict_vocab` words count,
    and when case is ignored the first (most frequent) of the words that
    upper-case alike stands for all of them."""
    if restrict_vocab is not None and restrict_vocab < 1:
        raise ValueError(f"restrict_vocab must be a positive integer or None, not {restrict_vocab}")
    rows = len(kv) if restrict_vocab is None else min(int(restrict_vocab), len(kv))
    forms = [w.upper() for w in kv.index_to_key[:rows]] if case_insensitive else kv.index_to_key[:rows]
    vocab = {}
    for i, form in enumerate(forms):
        vocab.setdefault(form, i)
    canonical = np.fromiter((vocab[f] for f in forms), np.int64, rows)
    return rows, vocab, canonical


def _summary(correct, covered, total=None):
    out = {"accuracy": correct / covered if covered else 0.0, "correct": correct, "covered": covered}
    if total is not None:
        out["total"] = total
    return out


def _solve_analogies(kv, rows, canonical, questions):
    """Whether each question (a, b, c, expected rows) is answered right by
    3CosAdd: the first of the 5 words nearest to unit(b - a + c) (a, b and c
    themselves excluded) whose test-set form is none of theirs; if all 5 are
    such forms, the last of them (gensim's loop)."""
    normed = kv.get_normed_vectors()[:rows]
    step = max(1, BLOCK_ELEMENTS // max(rows, 1))
    right = np.zeros(len(questions), bool)
    for lo in range(0, len(questions), step):
        a, b, c, expected = questions[lo:lo + step].T
        sims = unit_rows(normed[b] - normed[a] + normed[c]) @ normed.T
        n = np.arange(len(a))
        sims[n, a] = sims[n, b] = sims[n, c] = -np.inf
        top, values = top_k(sims, ANALOGY_TOPN)
        valid = values > -np.inf
        forms = canonical[top]
        fresh = valid & (forms != a[:, None]) & (forms != b[:, None]) & (forms != c[:, None])
        last = np.maximum(valid.sum(axis=1) - 1, 0)
        pick = np.where(fresh.any(axis=1), fresh.argmax(axis=1), last)
        right[lo:lo + step] = valid[n, pick] & (forms[n, pick] == expected)
    return right


class _Section:
    """One ': name' section of an analogy file: questions read, and those
    answered right or wrong (in file order), each as its four words in
    test-set form."""

    def __init__(self, name):
        self.name = name
        self.total = 0
        self.graded = []  # (forms, index among the answerable questions, or -1: unknown word, counted wrong)
        self.correct = []
        self.incorrect = []


def _grade_analogies(kv, path, restrict_vocab, case_insensitive, dummy4unknown):
    """(sections in file order, questions answered) for an analogy file; see
    evaluate_word_analogies.  A question with a word outside the first
    `restrict_vocab` words is skipped, or graded wrong with dummy4unknown."""
    rows, vocab, canonical = _test_vocabulary(kv, restrict_vocab, case_insensitive)
    sections = []
    questions = []  # word rows of the answerable questions
    with open_binary(path) as f:
        text = f.read().decode("utf-8")
    for line_no, line in enumerate(text.split("\n"), 1):
        if line.startswith(": "):
            sections.append(_Section(line.lstrip(": ").strip()))
            continue
        words = line.split()
        if not words:
            continue
        if not sections:
            raise ValueError(f"{os.fspath(path)}: line {line_no}: question before the first ': section' line")
        if len(words) != 4:
            continue
        section = sections[-1]
        section.total += 1
        forms = tuple(w.upper() for w in words) if case_insensitive else tuple(words)
        ids = [vocab.get(form) for form in forms]
        if None in ids:
            if dummy4unknown:
                section.graded.append((forms, -1))
            continue
        section.graded.append((forms, len(questions)))
        questions.append(ids)
    right = _solve_analogies(kv, rows, canonical, np.array(questions, np.int64).reshape(-1, 4)).tolist()
    for section in sections:
        for forms, q in section.graded:
            (section.correct if q >= 0 and right[q] else section.incorrect).append(forms)
    return sections, len(questions)


def evaluate_word_analogies(kv, analogies, restrict_vocab=RESTRICT_VOCAB, case_insensitive=True,
                            dummy4unknown=False, similarity_function="most_similar"):
    """Accuracy on analogy questions "a b c d" (a is to b as c is to d),
    grouped by ": section" lines, scored as gensim 4.4 and the C tool's
    compute-accuracy score them: only the first `restrict_vocab` words are
    used; questions with a word outside them are skipped (or, with
    dummy4unknown, counted wrong); words are compared upper-cased unless
    case_insensitive is False; 3CosAdd answers (gensim uses it whatever
    `similarity_function` says, so only 'most_similar' is accepted).

    Returns gensim's (score, sections): the overall accuracy, and per section
    in file order a dict {"section": name, "correct": [(a, b, c, d), ...],
    "incorrect": [...]} with the questions in test-set form (upper-cased
    when case_insensitive), then a last one named "Total accuracy".
    """
    if similarity_function != "most_similar":
        raise ValueError(f"similarity_function must be 'most_similar' (3CosAdd, the only one gensim "
                         f"implements), not {similarity_function!r}")
    sections, _ = _grade_analogies(kv, analogies, restrict_vocab, case_insensitive, dummy4unknown)
    out = [{"section": s.name, "correct": s.correct, "incorrect": s.incorrect} for s in sections]
    total = {"section": "Total accuracy", "correct": [q for s in sections for q in s.correct],
             "incorrect": [q for s in sections for q in s.incorrect]}
    answered = len(total["correct"]) + len(total["incorrect"])
    out.append(total)
    return (len(total["correct"]) / answered if answered else 0.0), out


def analogy_accuracy(kv, path, restrict_vocab=RESTRICT_VOCAB, case_insensitive=True, dummy4unknown=False) -> dict:
    """evaluate_word_analogies' numbers as a flat dict (for tables and JSON):
    {"accuracy", "correct", "covered" (questions graded), "total" (questions
    in the file), "skipped" (total - covered), "oov_ratio" (percent of
    questions with an unknown word), "sections": {name: {"accuracy",
    "correct", "covered", "total"}}, "semantic": {...}, "syntactic": {...}}
    (syntactic sections are those named gram*, as in questions-words.txt).
    """
    sections, answered = _grade_analogies(kv, path, restrict_vocab, case_insensitive, dummy4unknown)
    merged = {}  # name -> [total, correct, covered]; a repeated section name adds up
    for s in sections:
        counts = merged.setdefault(s.name, [0, 0, 0])
        counts[0] += s.total
        counts[1] += len(s.correct)
        counts[2] += len(s.correct) + len(s.incorrect)
    total = sum(t for t, _, _ in merged.values())
    covered = sum(c for _, _, c in merged.values())
    result = _summary(sum(c for _, c, _ in merged.values()), covered, total)
    result["skipped"] = total - covered
    result["oov_ratio"] = 100.0 * (total - answered) / total if total else 0.0
    result["sections"] = {name: _summary(c, cov, t) for name, (t, c, cov) in merged.items()}
    for part, syntactic in (("semantic", False), ("syntactic", True)):
        names = [name for name in merged if name.startswith("gram") == syntactic]
        result[part] = _summary(sum(merged[n][1] for n in names), sum(merged[n][2] for n in names))
    return result


def rank_average(x) -> np.ndarray:
    """1-based ranks of `x`, ties getting the mean of the ranks they span."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    ordered = x[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, len(x)])
    ranks = np.empty(len(x))
    ranks[order] = np.repeat(starts + (sizes + 1) / 2, sizes)
    return ranks


def pearson(x, y) -> float:
    """Pearson correlation coefficient (nan when either side is constant, as scipy's)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(x) < 2 or (x == x[0]).all() or (y == y[0]).all():
        return float("nan")
    x = x - x.mean()
    y = y - y.mean()
    return float(np.clip((x @ y) / np.sqrt((x @ x) * (y @ y)), -1.0, 1.0))


def spearman(x, y) -> float:
    """Spearman rank correlation: Pearson's of the average ranks."""
    return pearson(rank_average(x), rank_average(y))


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta function I_x(a, b), by its continued
    fraction (Abramowitz & Stegun 26.5.8) evaluated with the modified Lentz
    method, on the side of x where it converges fast."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1.0) / (a + b + 2.0):
        return 1.0 - _betainc(b, a, 1.0 - x)
    tiny = 1e-300
    front = math.exp(a * math.log(x) + b * math.log1p(-x) + math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)) / a
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    fraction = d
    for m in range(1, 100000):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            fraction *= c * d
        if abs(c * d - 1.0) < 1e-16:
            break
    return front * fraction


def pearson_pvalue(r: float, n: int) -> float:
    """Two-sided p-value of a Pearson correlation r of n pairs (scipy's:
    |r| under independence follows a beta distribution)."""
    if n < 3 or r != r:
        return float("nan")
    half = n / 2 - 1
    return min(1.0, 2 * _betainc(half, half, (1 - abs(r)) / 2))


def spearman_pvalue(rho: float, n: int) -> float:
    """Two-sided p-value of a Spearman correlation rho of n pairs (scipy's:
    Student's t with n - 2 degrees of freedom)."""
    if n < 3 or rho != rho:
        return float("nan")
    return _betainc((n - 2) / 2, 0.5, (1 - rho) * (1 + rho))


class Correlation(NamedTuple):
    """A correlation and its two-sided p-value, shaped like scipy's results
    that gensim returns: ``r, p = result``, ``result[0]``, ``result.statistic``."""

    statistic: float
    pvalue: float

    @property
    def correlation(self) -> float:
        return self.statistic


def _pair_similarities(kv, path, restrict_vocab, case_insensitive, delimiter, dummy4unknown, encoding):
    """(human scores, cosine similarities, pairs with an unknown word) from a
    word-pair file, as gensim reads it; see evaluate_word_pairs."""
    _, vocab, _ = _test_vocabulary(kv, restrict_vocab, case_insensitive)
    gold, left, right = [], [], []
    oov = 0
    with io.TextIOWrapper(open_binary(path), encoding=encoding) as f:
        for line in f:
            if not line or line.startswith("#"):
                continue
            parts = line.split(delimiter)
            if len(parts) != 3:
                continue
            a, b, score = [p.upper() for p in parts] if case_insensitive else parts
            try:
                score = float(score)
            except ValueError:
                continue
            if a not in vocab or b not in vocab:
                oov += 1
                if dummy4unknown:
                    gold.append(score)
                    left.append(-1)
                    right.append(-1)
                continue
            gold.append(score)
            left.append(vocab[a])
            right.append(vocab[b])
    if not gold:
        raise ValueError(f"{os.fspath(path)}: no word pair with both words in the vocabulary")
    normed = kv.get_normed_vectors()
    left, right = np.array(left), np.array(right)
    model = np.einsum("ij,ij->i", normed[left], normed[right]).astype(np.float64)
    model[left < 0] = 0.0
    return np.array(gold), model, oov


def evaluate_word_pairs(kv, pairs, delimiter="\t", encoding="utf8", restrict_vocab=RESTRICT_VOCAB,
                        case_insensitive=True, dummy4unknown=False):
    """Correlation of the cosine similarity of word pairs with human scores,
    from lines "word1<delimiter>word2<delimiter>score" ('#' lines are
    comments; malformed lines are skipped), as gensim 4.4 computes it: pairs
    with a word outside the first `restrict_vocab` are skipped (or, with
    dummy4unknown, given similarity 0); words are compared upper-cased unless
    case_insensitive is False.

    Returns gensim's (pearson, spearman, oov_ratio): two Correlation tuples
    (statistic, two-sided p-value) and the percentage (0-100) of pairs with an
    unknown word.
    """
    gold, model, oov = _pair_similarities(kv, pairs, restrict_vocab, case_insensitive, delimiter, dummy4unknown,
                                          encoding)
    r, rho = pearson(gold, model), spearman(gold, model)
    used = len(gold) if dummy4unknown else len(gold) + oov
    return (Correlation(r, pearson_pvalue(r, len(gold))), Correlation(rho, spearman_pvalue(rho, len(gold))),
            100.0 * oov / used)


def word_pair_correlations(kv, path, restrict_vocab=RESTRICT_VOCAB, case_insensitive=True, delimiter="\t",
                           dummy4unknown=False, encoding="utf8") -> dict:
    """evaluate_word_pairs' numbers as a flat dict (for tables and JSON):
    {"pearson", "spearman", "oov_ratio" (percent, as gensim returns it),
    "pairs" (pairs with both words known), "oov" (pairs with an unknown word)}.
    """
    gold, model, oov = _pair_similarities(kv, path, restrict_vocab, case_insensitive, delimiter, dummy4unknown,
                                          encoding)
    used = len(gold) if dummy4unknown else len(gold) + oov
    return {
        "pearson": pearson(gold, model),
        "spearman": spearman(gold, model),
        "oov_ratio": 100.0 * oov / used,
        "pairs": len(gold) - (oov if dummy4unknown else 0),
        "oov": oov,
    }
