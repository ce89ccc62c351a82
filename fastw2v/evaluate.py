"""Intrinsic evaluation of word vectors: word analogies (Google's
questions-words.txt) and correlations with human word-pair similarity
judgements (SimLex-999, WordSim-353).

Both follow gensim 4.4's protocol (KeyedVectors.evaluate_word_analogies and
evaluate_word_pairs), so the same vectors give the same numbers, but analogy
questions are answered in batches, one matrix product per batch.  The
correlations are computed with numpy: scipy is not needed.
"""
from __future__ import annotations

import io
import os

import numpy as np

from .files import open_binary
from .vectors import BLOCK_ELEMENTS, top_k, unit_rows

__all__ = ["evaluate_word_analogies", "evaluate_word_pairs", "pearson", "spearman", "rank_average"]

ANALOGY_TOPN = 5  # gensim looks for the answer among the 5 nearest non-question words


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


def evaluate_word_analogies(kv, path, restrict_vocab=30000, case_insensitive=True, dummy4unknown=False) -> dict:
    """Accuracy on analogy questions "a b c d" (a is to b as c is to d),
    grouped by ": section" lines, as the C tool's compute-accuracy and gensim
    score them: only the first `restrict_vocab` words are used; questions with
    a word outside them are skipped (or, with dummy4unknown, counted wrong);
    words are compared upper-cased unless case_insensitive is False.

    Returns {"accuracy", "correct", "covered" (questions answered), "total"
    (questions in the file), "skipped" (total - covered), "oov_ratio" (percent
    of questions with an unknown word), "sections": {name: {"accuracy",
    "correct", "covered", "total"}}, "semantic": {...}, "syntactic": {...}}
    (syntactic sections are those named gram*, as in questions-words.txt).
    """
    rows, vocab, canonical = _test_vocabulary(kv, restrict_vocab, case_insensitive)
    sections = {}  # name -> [questions in file, questions answered or counted wrong]
    questions, owners = [], []
    section = None
    with open_binary(path) as f:
        text = f.read().decode("utf-8")
    for line_no, line in enumerate(text.split("\n"), 1):
        if line.startswith(": "):
            section = line.lstrip(": ").strip()
            sections.setdefault(section, [0, 0])
            continue
        words = line.split()
        if not words:
            continue
        if section is None:
            raise ValueError(f"{os.fspath(path)}: line {line_no}: question before the first ': section' line")
        if len(words) != 4:
            continue
        counts = sections[section]
        counts[0] += 1
        forms = [w.upper() for w in words] if case_insensitive else words
        ids = [vocab.get(form) for form in forms]
        if None in ids:
            counts[1] += dummy4unknown
            continue
        counts[1] += 1
        questions.append(ids)
        owners.append(section)
    right = _solve_analogies(kv, rows, canonical, np.array(questions, np.int64).reshape(-1, 4))
    correct = dict.fromkeys(sections, 0)
    for owner, ok in zip(owners, right.tolist()):
        correct[owner] += ok
    per_section = {name: _summary(correct[name], covered, total) for name, (total, covered) in sections.items()}
    total = sum(t for t, _ in sections.values())
    covered = sum(c for _, c in sections.values())
    answered = len(questions)
    result = _summary(sum(correct.values()), covered, total)
    result["skipped"] = total - covered
    result["oov_ratio"] = 100.0 * (total - answered) / total if total else 0.0
    result["sections"] = per_section
    for part, syntactic in (("semantic", False), ("syntactic", True)):
        names = [name for name in sections if name.startswith("gram") == syntactic]
        result[part] = _summary(sum(correct[n] for n in names), sum(sections[n][1] for n in names))
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


def evaluate_word_pairs(kv, path, restrict_vocab=300000, case_insensitive=True, delimiter="\t",
                        dummy4unknown=False) -> dict:
    """Correlation of the cosine similarity of word pairs with human scores,
    from lines "word1<delimiter>word2<delimiter>score" ('#' lines are
    comments; malformed lines are skipped), as gensim computes it: pairs with
    a word outside the first `restrict_vocab` are skipped (or, with
    dummy4unknown, given similarity 0).

    Returns {"pearson", "spearman", "oov_ratio", "pairs" (pairs used),
    "oov" (pairs with an unknown word)}; oov_ratio is a percentage (0-100),
    the value gensim returns.
    """
    _, vocab, _ = _test_vocabulary(kv, restrict_vocab, case_insensitive)
    gold, left, right = [], [], []
    oov = 0
    with io.TextIOWrapper(open_binary(path), encoding="utf-8") as f:
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
    used = len(gold) if dummy4unknown else len(gold) + oov
    return {
        "pearson": pearson(gold, model),
        "spearman": spearman(gold, model),
        "oov_ratio": 100.0 * oov / used,
        "pairs": len(gold) - (oov if dummy4unknown else 0),
        "oov": oov,
    }
