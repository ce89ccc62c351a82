"""The `similar`, `analogy` and `evaluate` commands: output, JSON shape, exit
statuses and one-line errors."""
import json
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

from fastw2v.cli_vectors import analogy, evaluate, similar
from fastw2v import cli_vectors
from fastw2v.evaluate import analogy_accuracy, word_pair_correlations
from fastw2v.vectors import KeyedVectors

from conftest import EVAL

WORDS = ["king", "queen", "man", "woman", "paris", "france", "berlin", "germany", "東京", "japan", "love", "sex"]


@pytest.fixture(scope="module")
def vectors(tmp_path_factory) -> tuple[Path, KeyedVectors]:
    rng = np.random.default_rng(0)
    kv = KeyedVectors(WORDS + [f"w{i}" for i in range(100)], rng.standard_normal((112, 10)).astype(np.float32))
    path = tmp_path_factory.mktemp("cli") / "vectors.bin"
    kv.save_word2vec_format(path, binary=True)
    return path, kv


def run(command, *args, input=None):
    return CliRunner().invoke(command, [str(a) for a in args], input=input)


def table(neighbours):
    width = max(len(w) for w, _ in neighbours)
    return [f"{rank:>4}  {w:<{width}}  {s:.6f}" for rank, (w, s) in enumerate(neighbours, 1)]


def one_line_error(result, code, text):
    assert result.exit_code == code
    assert result.output.strip().splitlines() == [result.output.strip()]
    assert result.output.startswith("Error: ") and text in result.output
    assert "Traceback" not in result.output


def test_commands_are_click_commands():
    assert all(isinstance(c, click.Command) for c in (similar, analogy, evaluate))
    assert (similar.name, analogy.name, evaluate.name) == ("similar", "analogy", "evaluate")


def test_similar_words(vectors):
    path, kv = vectors
    res = run(similar, path, "king", "東京", "-k", 3)
    assert res.exit_code == 0, res.output
    expected = (["Nearest to king:"] + table(kv.most_similar("king", topn=3))
                + ["Nearest to 東京:"] + table(kv.most_similar("東京", topn=3)))
    assert res.output.splitlines() == expected
    assert len(run(similar, path, "king").output.splitlines()) == 11  # default --topn 10


def test_similar_interactive(vectors):
    path, kv = vectors
    res = run(similar, path, "--topn", 2, input="king\n\nman woman\nnope\nparis\nEXIT\nlove\n")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[:3] == ["Nearest to king:"] + table(kv.most_similar("king", topn=2))
    assert lines[3:6] == ["Nearest to man woman:"] + table(kv.most_similar(["man", "woman"], topn=2))
    assert lines[6] == "Error: word 'nope' not in vocabulary"
    assert lines[7:] == ["Nearest to paris:"] + table(kv.most_similar("paris", topn=2))  # stops at EXIT


def test_analogy(vectors):
    path, kv = vectors
    res = run(analogy, path, "man", "king", "woman", "-k", 4)
    assert res.exit_code == 0, res.output
    assert res.output.splitlines() == (["man is to king as woman is to:"]
                                       + table(kv.most_similar(["king", "woman"], ["man"], topn=4)))
    res = run(analogy, path, "-k", 1, input="paris france berlin\nparis france\nparis france nope\nman king woman\n")
    assert res.exit_code == 0, res.output
    assert res.output.splitlines() == [
        "paris is to france as berlin is to:", *table(kv.most_similar(["france", "berlin"], ["paris"], topn=1)),
        "Error: expected three words, got 2",
        "Error: word 'nope' not in vocabulary",
        "man is to king as woman is to:", *table(kv.most_similar(["king", "woman"], ["man"], topn=1)),
    ]


def test_evaluate_json(vectors):
    path, kv = vectors
    res = run(evaluate, path, "--analogies", EVAL / "questions-words.txt", "--pairs", EVAL / "wordsim353.tsv",
              "--pairs", EVAL / "simlex999.txt", "--restrict-vocab", 50, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert set(out) == {"analogies", "pairs"}
    analogies = analogy_accuracy(kv, EVAL / "questions-words.txt", restrict_vocab=50)
    for key in ("accuracy", "covered", "total", "sections"):
        assert out["analogies"][key] == analogies[key]
    assert isinstance(out["analogies"]["accuracy"], float) and isinstance(out["analogies"]["total"], int)
    assert set(out["pairs"]) == {"wordsim353.tsv", "simlex999.txt"}
    pairs = word_pair_correlations(kv, EVAL / "wordsim353.tsv")
    for key in ("spearman", "pearson", "oov_ratio"):
        assert out["pairs"]["wordsim353.tsv"][key] == pytest.approx(pairs[key])
    only_pairs = json.loads(run(evaluate, path, "--pairs", EVAL / "wordsim353.tsv", "--json").output)
    assert only_pairs["analogies"] is None


def test_evaluate_table(vectors):
    path, _ = vectors
    res = run(evaluate, path, "--analogies", EVAL / "questions-words.txt", "--pairs", EVAL / "wordsim353.tsv")
    assert res.exit_code == 0, res.output
    assert "capital-common-countries" in res.output and "wordsim353.tsv" in res.output
    assert any(line.split()[:1] == ["total"] for line in res.output.splitlines())


def test_evaluate_defaults_to_the_standard_sets_from_gensims_test_data(vectors, monkeypatch):
    """No set named: Google analogies, SimLex-999 and WordSim-353 from gensim's
    test data; without gensim, a usage error."""
    path, kv = vectors
    out = json.loads(run(evaluate, path, "--json").output)
    assert out["analogies"] == json.loads(json.dumps(analogy_accuracy(kv, EVAL / "questions-words.txt")))
    assert set(out["pairs"]) == {"simlex999.txt", "wordsim353.tsv"}
    for name in ("simlex999.txt", "wordsim353.tsv"):
        assert out["pairs"][name]["oov_ratio"] == pytest.approx(word_pair_correlations(kv, EVAL / name)["oov_ratio"])
    table = run(evaluate, path)
    assert "Analogies:" in table.output and "simlex999.txt" in table.output
    monkeypatch.setattr(cli_vectors.importlib.util, "find_spec", lambda name: None)
    one_line_error(run(evaluate, path), 2, "pip install gensim")
    assert run(evaluate, path, "--pairs", EVAL / "wordsim353.tsv").exit_code == 0


def test_evaluate_answers_from_gensims_300000_words(tmp_path):
    """A question whose words come after the 30,000th counts by default (gensim's limit)."""
    words = [f"w{i}" for i in range(30000)] + ["athens", "greece", "berlin", "germany"]
    path = tmp_path / "big.bin"
    KeyedVectors(words, np.random.default_rng(1).standard_normal((len(words), 4)).astype(np.float32)) \
        .save_word2vec_format(path, binary=True)
    questions = tmp_path / "q.txt"
    questions.write_text(": capitals\nathens greece berlin germany\n")
    default = json.loads(run(evaluate, path, "--analogies", questions, "--json").output)["analogies"]
    c_tools = json.loads(run(evaluate, path, "--analogies", questions, "--json", "--restrict-vocab", 30000)
                         .output)["analogies"]
    assert (default["covered"], c_tools["covered"]) == (1, 0)


def test_usage_errors_exit_2_with_one_line(vectors, tmp_path):
    path, _ = vectors
    one_line_error(run(similar, tmp_path / "missing.bin", "king"), 2, "does not exist")
    one_line_error(run(similar, tmp_path, "king"), 2, "is a directory")
    one_line_error(run(similar, path, "king", "-k", 0), 2, "--topn")
    one_line_error(run(similar), 2, "VECTORS")
    one_line_error(run(analogy, path, "man", "king"), 2, "three words")
    one_line_error(run(evaluate, path, "--pairs", tmp_path / "missing.tsv"), 2, "does not exist")


def test_data_errors_exit_1_with_one_line(vectors, tmp_path):
    path, _ = vectors
    one_line_error(run(similar, path, "king", "nope"), 1, "word 'nope' not in vocabulary")
    one_line_error(run(analogy, path, "man", "king", "nope"), 1, "nope")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"2 3\nx 1 2 3\ny 1 two 3\n")
    one_line_error(run(similar, bad, "x"), 1, "bad.txt: line 3: value 2 is not a number")
    cut = tmp_path / "cut.bin"
    cut.write_bytes(path.read_bytes()[:500])
    one_line_error(run(evaluate, cut, "--pairs", EVAL / "wordsim353.tsv"), 1, "cut.bin: byte")
    empty_pairs = tmp_path / "pairs.tsv"
    empty_pairs.write_text("# nothing\n")
    one_line_error(run(evaluate, path, "--pairs", empty_pairs), 1, "no word pair")


def test_a_vector_files_oddity_is_one_warning_line(tmp_path):
    """fastw2v's own warnings (here the reader's, a plain UserWarning) print
    as one "warning:" line, not in Python's file:line format."""
    from fastw2v.cli import main

    path = tmp_path / "v.txt"
    path.write_text("3 2\na 1 0\nb 0 1\na 1 1\n")
    result = CliRunner().invoke(main, ["similar", str(path), "a"])
    assert result.exit_code == 0, result.output
    assert result.stderr == f"warning: {path}: 1 repeated words; kept the first vector of each\n"
    assert "b" in result.stdout
