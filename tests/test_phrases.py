"""word2phrase: scores and joins against a plain-Python transcription of the C
tool's rule, the output layout byte for byte, and second passes that build
longer phrases."""
import lzma
import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from fastw2v.phrases import learn_phrases, phrase_file, write_phrased


def c_rule(text: str, min_count: int, threshold: float) -> str:
    """word2phrase.c's TrainModel loop in plain Python, on text whose words are
    separated by spaces and lines by '\\n' (pairs counted within lines).

    The C tool keeps the previous word's count in pa and the current one's in
    pb, marks the pair out of vocabulary (score 0) when either word or the
    pair is rarer than min_count or the previous word is unknown, and sets pb
    to 0 after a join so the next pair cannot join."""
    lines = text.split("\n")
    words = [w for line in lines for w in line.split()]
    train_words = len(words)
    unigrams = Counter(words)
    pairs = Counter((a, b) for line in lines for a, b in zip(line.split(), line.split()[1:]))

    def known(count):
        return count if count >= min_count else None   # SortVocab drops rarer entries

    out = []
    pa = pb = 0
    li = None            # the previous word's entry, None when unknown
    last = ""            # the previous token ("\n" after a line end)
    for n, line in enumerate(lines):
        if n:
            out.append("\n")
            last = "\n"
        for word in line.split():
            oov = False
            i = known(unigrams[word])
            if i is None:
                oov = True
            else:
                pb = i
            if li is None:
                oov = True
            li = i
            pab = None if last in ("", "\n") else known(pairs[(last, word)])
            if pab is None:
                oov = True
            if pa < min_count or pb < min_count:
                oov = True
            score = np.float32(0) if oov else (np.float32(pab - min_count) / np.float32(pa) / np.float32(pb)
                                               * np.float32(train_words))
            if score > np.float32(threshold):
                out.append("_")
                pb = 0
            else:
                out.append(" ")
            out.append(word)
            pa = pb
            last = word
    return "".join(out)


def phrase_text(tmp_path, text: str, min_count: int, threshold: float, name="in.txt"):
    src, dst = tmp_path / name, tmp_path / (name + ".out")
    src.write_bytes(text.encode())
    phrases = phrase_file(src, dst, min_count, threshold)
    return dst.read_bytes().decode(), phrases


def planted_corpus(seed: int, n_lines: int, phrases, rate=0.01, vocab=400) -> str:
    """Random lines over `vocab` filler words with the given phrases planted."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n_lines):
        words = []
        for _ in range(rng.randint(0, 14)):
            r = rng.random()
            for k, phrase in enumerate(phrases):
                if r < rate * (k + 1):
                    words += phrase
                    break
            else:
                words.append(f"w{rng.randint(0, vocab - 1)}")
        lines.append(" ".join(words))
    return "\n".join(lines) + "\n"


texts = st.lists(st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f", "ab"]), max_size=12), max_size=25) \
    .map(lambda lines: "\n".join(" ".join(line) for line in lines))


@settings(max_examples=60, deadline=None)
@given(texts, st.integers(1, 4), st.sampled_from([0.0, 0.5, 1.0, 1.5, 3.0]), st.booleans())
def test_joins_match_the_c_rule(tmp_path_factory, text, min_count, threshold, final_newline):
    text = text + ("\n" if final_newline else "")
    got, _ = phrase_text(tmp_path_factory.mktemp("h"), text, min_count, threshold)
    assert got == c_rule(text, min_count, threshold)


def test_scores_and_counts_match_a_reference(tmp_path):
    text = planted_corpus(3, 1500, [["new", "york"], ["los", "angeles"]], rate=0.004)
    _, phrases = phrase_text(tmp_path, text, 5, 100)
    lines = text.split("\n")
    words = text.split()
    unigrams = Counter(words)
    pairs = Counter((a, b) for line in lines for a, b in zip(line.split(), line.split()[1:]))
    expected = {}
    for (a, b), c in pairs.items():
        if c >= 5 and unigrams[a] >= 5 and unigrams[b] >= 5:
            score = np.float32(c - 5) / np.float32(unigrams[a]) / np.float32(unigrams[b]) * np.float32(len(words))
            if score > 100:
                expected[f"{a}_{b}"] = (c, float(score))
    got = {p: (c, s) for p, c, s in phrases.phrases()}
    assert got == expected
    assert set(got) == {"new_york", "los_angeles"}
    assert phrases.train_words == len(words)
    assert phrases.vocab_size == (sum(c >= 5 for c in unigrams.values()) + sum(c >= 5 for c in pairs.values()))


def test_layout_is_the_c_tools(tmp_path):
    # every word preceded by ' ' or '_', newlines (and blank lines) kept, '\r' dropped,
    # tabs and runs of spaces are single separators
    # (min_count 1, threshold 0: the pairs seen twice or more join)
    text = "x y\n\n  x\ty  z\r\nq x y\n\n"
    got, _ = phrase_text(tmp_path, text, 1, 0.0)
    assert got == " x_y\n\n x_y z\n q x_y\n\n"
    got, _ = phrase_text(tmp_path, text, 1, 1e9)
    assert got == " x y\n\n x y z\n q x y\n\n"
    # no newline at the end: the last word is written (the C tool drops it)
    got, _ = phrase_text(tmp_path, "a b\na b", 1, 0.0)
    assert got == " a_b\n a_b"
    # pairs do not join across a line end
    got, _ = phrase_text(tmp_path, "a\nb\na\nb\n", 1, 0.0)
    assert got == " a\n b\n a\n b\n"
    # empty input
    got, _ = phrase_text(tmp_path, "", 1, 1.0)
    assert got == ""


def test_bytes_are_kept_exactly(tmp_path):
    text = "caf\u00e9 na\u00efve caf\u00e9 na\u00efve\n\u00fc\u00df x\n"
    got, _ = phrase_text(tmp_path, text, 1, 0.0)
    assert got == " caf\u00e9_na\u00efve caf\u00e9_na\u00efve\n \u00fc\u00df x\n"
    raw = b"\xff\xfe a\n"
    (tmp_path / "bad.txt").write_bytes(raw)
    phrase_file(tmp_path / "bad.txt", tmp_path / "bad.out", 1, 1e9)
    assert (tmp_path / "bad.out").read_bytes() == b" \xff\xfe a\n"


def test_second_pass_builds_longer_phrases(tmp_path):
    text = planted_corpus(5, 3000, [["new", "york", "city"], ["san", "francisco", "bay", "area"]], rate=0.002,
                          vocab=800)
    first, phrases1 = phrase_text(tmp_path, text, 5, 100, "p0.txt")
    assert "new_york city" in first and "san_francisco bay_area" in first
    assert "york_city" not in first   # a joined word cannot join the next one in the same pass
    second, phrases2 = phrase_text(tmp_path, first, 5, 100, "p1.txt")
    assert "new_york_city" in second and "san_francisco_bay_area" in second
    assert {p for p, _, _ in phrases2.phrases()} >= {"new_york_city", "san_francisco_bay_area"}
    # the words are the same, only their separators changed
    assert second.replace("_", " ").split() == text.split()
    assert second.count("\n") == text.count("\n")
    # a third pass changes nothing more for the planted phrases
    third, _ = phrase_text(tmp_path, second, 5, 100, "p2.txt")
    assert third.count("new_york_city") == second.count("new_york_city")


def test_several_and_compressed_files(tmp_path):
    text = planted_corpus(7, 800, [["new", "york"]], rate=0.005)
    half = text.count("\n") // 2
    lines = text.split("\n")
    (tmp_path / "a.txt").write_text("\n".join(lines[:half]))           # no final newline
    with lzma.open(tmp_path / "b.txt.xz", "wt") as f:
        f.write("\n".join(lines[half:]))
    whole, _ = phrase_text(tmp_path, text, 5, 50, "whole.txt")
    phrases = learn_phrases([tmp_path / "a.txt", tmp_path / "b.txt.xz"], 5, 50)
    write_phrased(phrases, tmp_path / "parts.out")
    assert (tmp_path / "parts.out").read_text() == whole
    with pytest.raises(ValueError, match="min_count"):
        learn_phrases(tmp_path / "a.txt", -1, 10)
