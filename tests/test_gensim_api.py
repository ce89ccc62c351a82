"""fastw2v.Word2Vec takes gensim's Word2Vec calls: the same parameters and
defaults, build_vocab and train as gensim runs them, the same vocabulary and
counts on the same corpus, and every gensim parameter either honoured or
refused by name."""
import inspect
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from gensim.models import Word2Vec as GensimWord2Vec

import fastw2v
from fastw2v import ConfigError, Word2Vec
from fastw2v.gensim_api import UNSUPPORTED

from conftest import EVAL, war_and_peace_lines


@pytest.fixture(scope="module")
def sentences():
    """About 60k tokens of War and Peace as token lists, some lines empty."""
    return [line.lower().split() for line in war_and_peace_lines(1200)]


@pytest.fixture(scope="module")
def more_sentences():
    return [line.lower().split() for line in war_and_peace_lines(2000)[1200:]]


def counts_of(model):
    """{word: count} of a fastw2v or gensim model."""
    if isinstance(model, Word2Vec):
        return dict(zip(model.wv.index_to_key, model.vocab.counts.tolist()))
    return {w: model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key}


GENSIM_ATTRIBUTES = ["vector_size", "alpha", "min_alpha", "window", "min_count", "max_vocab_size", "sample", "seed",
                     "workers", "sg", "hs", "negative", "ns_exponent", "cbow_mean", "epochs", "max_final_vocab",
                     "shrink_windows"]


def test_every_gensim_parameter_is_taken_with_gensims_default():
    ours = inspect.signature(Word2Vec.__init__).parameters
    theirs = inspect.signature(GensimWord2Vec.__init__).parameters
    assert list(ours)[:len(theirs)] == list(theirs)  # same names, same positions
    fresh, g = Word2Vec(), GensimWord2Vec()
    for name in GENSIM_ATTRIBUTES:
        assert getattr(fresh, name) == getattr(g, name), name
    assert fresh.config.sg is False and fresh.config.threads == 3 and fresh.config.dim == 100
    assert repr(fresh) == str(g) == "Word2Vec<vocab=0, vector_size=100, alpha=0.025>"
    assert len(fresh.wv) == 0 and fresh.wv.vector_size == 100
    assert fastw2v.Config().sg is True  # fastw2v.train and the CLI keep the C tool's skip-gram


def test_same_vocabulary_counts_and_corpus_sizes_as_gensim(sentences):
    for options in ({}, {"min_count": 2, "max_final_vocab": 500}, {"min_count": 1}):
        ours = Word2Vec(sentences, vector_size=16, epochs=1, seed=3, **options)
        g = GensimWord2Vec(sentences, vector_size=16, epochs=1, seed=3, workers=1, **options)
        assert counts_of(ours) == counts_of(g)
        assert (ours.corpus_count, ours.corpus_total_words) == (g.corpus_count, g.corpus_total_words)
        assert ours.wv.index_to_key == g.wv.index_to_key  # equal counts too: the same order
        assert ours.wv.vectors.shape == g.wv.vectors.shape and ours.syn1neg.shape == g.syn1neg.shape


def test_corpus_file_gives_gensims_vocabulary(sentences, tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in sentences) + "\n")
    ours = Word2Vec(corpus_file=str(path), vector_size=8, epochs=1)
    g = GensimWord2Vec(corpus_file=str(path), vector_size=8, epochs=1)
    assert counts_of(ours) == counts_of(g) and ours.corpus_total_words == g.corpus_total_words


def test_build_vocab_train_and_training_further_as_in_gensim(sentences, more_sentences):
    models = []
    for cls in (Word2Vec, GensimWord2Vec):
        model = cls(vector_size=16, min_count=3, sg=1, hs=1, negative=0, workers=1, seed=2)
        model.build_vocab(sentences)
        model.train(sentences, total_examples=model.corpus_count, epochs=2)
        first_words = list(model.wv.index_to_key)
        model.train(more_sentences, total_examples=len(more_sentences), epochs=1)  # vocabulary unchanged
        assert model.wv.index_to_key == first_words
        before = counts_of(model)
        model.build_vocab(more_sentences, update=True)
        model.train(more_sentences, total_examples=model.corpus_count, epochs=model.epochs)
        assert model.wv.index_to_key[:len(first_words)] == first_words  # known words keep their rows
        models.append((before, counts_of(model), model.corpus_count, model.corpus_total_words))
    (before, after, count, total), (g_before, g_after, g_count, g_total) = models
    assert before == g_before and after == g_after and (count, total) == (g_count, g_total)
    assert len(after) > len(before)


def test_flags_as_gensim_writes_them(sentences):
    for sg, hs, cbow_mean in ((1, 0, 1), (0, 1, 0), (True, False, True)):
        model = Word2Vec(vector_size=4, sg=sg, hs=hs, negative=0 if hs else 5, cbow_mean=cbow_mean)
        assert (model.sg, model.hs, model.cbow_mean) == (int(sg), int(hs), int(cbow_mean))
        assert model.config.sg is bool(sg)
    with pytest.raises(ConfigError, match="sg must be 0 or 1"):
        Word2Vec(sg=2)
    with pytest.raises(ConfigError, match="shrink_windows must be 0 or 1"):
        Word2Vec(shrink_windows="yes")
    assert Word2Vec(shrink_windows=False).config.dynamic_window is False


def test_both_spellings_of_a_parameter_is_an_error():
    for given in ({"vector_size": 50, "dim": 50}, {"workers": 2, "threads": 2},
                  {"shrink_windows": True, "dynamic_window": True}):
        names = sorted(given)
        with pytest.raises(ConfigError, match=f"({names[0]} and {names[1]}|{names[1]} and {names[0]})"):
            Word2Vec(**given)
    assert Word2Vec(dim=50, threads=2).vector_size == 50
    with pytest.raises(ConfigError, match="vector_size must be >= 1, got 0"):  # named as the caller spelled it
        Word2Vec(vector_size=0)
    model = Word2Vec([["a", "b"]] * 5, min_count=1, vector_size=4, epochs=1)
    with pytest.raises(ConfigError, match="alpha and start_alpha"):
        model.train([["a", "b"]], total_examples=1, epochs=1, alpha=0.1, start_alpha=0.1)


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_gensim_only_parameters_are_refused_by_name(name):
    default, _ = UNSUPPORTED[name]
    other = {"hashfxn": lambda w: 0, "trim_rule": lambda w, c, m: 1}.get(name, 7)
    model = Word2Vec([["a", "b"]] * 5, min_count=1, vector_size=4, epochs=1)
    call = {"hashfxn": Word2Vec, "null_word": Word2Vec, "trim_rule": Word2Vec, "sorted_vocab": Word2Vec,
            "batch_words": Word2Vec,
            "progress_per": lambda **kw: model.build_vocab([["a"]] * 5, **kw),
            "keep_raw_vocab": lambda **kw: model.build_vocab([["a"]] * 5, **kw),
            "word_count": lambda **kw: model.train([["a"]], total_examples=1, epochs=1, **kw),
            "queue_factor": lambda **kw: model.train([["a"]], total_examples=1, epochs=1, **kw),
            "report_delay": lambda **kw: model.train([["a"]], total_examples=1, epochs=1, **kw)}[name]
    with pytest.raises(ConfigError, match=rf"{name}=.* is not supported: "):
        call(**{name: other})
    call(**{name: default})  # gensim's default asks for nothing: accepted


def test_trim_rule_in_build_vocab_is_refused():
    with pytest.raises(ConfigError, match="trim_rule"):
        Word2Vec().build_vocab([["a"]], trim_rule=lambda w, c, m: 1)


def test_gensims_errors_and_warnings():
    model = Word2Vec(vector_size=4, min_count=1, sample=0)  # no subsampling warning on this tiny corpus
    with pytest.raises(RuntimeError, match="build vocabulary"):
        model.train([["a"]], total_examples=1, epochs=1)
    with pytest.raises(RuntimeError, match="online vocabulary-update"):
        model.build_vocab([["a"]], update=True)
    with pytest.raises(TypeError, match="Either one of corpus_file or corpus_iterable"):
        model.build_vocab()
    with pytest.raises(TypeError, match="Both corpus_file and corpus_iterable"):
        model.build_vocab([["a"]], corpus_file="x.txt")
    corpus = [["a", "b", "c"]] * 10
    model.build_vocab(corpus)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.train(corpus, total_examples=10, epochs=1)
        model.train(corpus, total_words=30, epochs=1)
    with pytest.warns(UserWarning, match=r"supplied example count \(5\) did not equal the corpus' count \(10\)"):
        model.train(corpus, total_examples=5, epochs=1)
    with pytest.warns(UserWarning, match=r"supplied word count \(7\)"):
        model.train(corpus, total_words=7, epochs=1)
    with pytest.raises(ConfigError, match="unknown option vector_size"):
        model.train(corpus, total_examples=10, epochs=1, vector_size=8)


def test_training_loss_attributes_and_continued_vectors(sentences):
    model = Word2Vec(sentences, vector_size=16, min_count=3, epochs=2, workers=2, compute_loss=True)
    first = model.get_latest_training_loss()
    assert first == pytest.approx(sum(s.loss * s.examples for s in model.history)) and first > 0
    wv = model.wv
    before = wv.most_similar("prince", topn=5)
    model.alpha, model.min_alpha, model.epochs = 0.01, 0.001, 1
    assert (model.config.alpha, model.config.min_alpha, model.config.epochs) == (0.01, 0.001, 1)
    model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
    assert model.history[-1].lr == pytest.approx(0.001)
    assert model.get_latest_training_loss() == pytest.approx(model.history[-1].loss * model.history[-1].examples)
    assert model.wv is wv and wv.most_similar("prince", topn=5) != before  # refreshed, not cached
    with pytest.raises(AttributeError, match="fixed"):
        model.vector_size = 8
    model.train(sentences, total_examples=model.corpus_count, start_alpha=0.02, end_alpha=0.002)
    assert (model.alpha, model.min_alpha) == (0.02, 0.002)


def test_save_and_load_keep_what_gensim_scripts_use(sentences, tmp_path):
    model = Word2Vec(sentences, vector_size=8, min_count=3, epochs=1)
    model.save(str(tmp_path / "word2vec.model"))
    again = Word2Vec.load(str(tmp_path / "word2vec.model"))
    assert (again.corpus_count, again.corpus_total_words) == (model.corpus_count, model.corpus_total_words)
    assert again.wv.index_to_key == model.wv.index_to_key and (again.sg, again.workers) == (0, 3)
    np.testing.assert_array_equal(again.wv.vectors, model.wv.vectors)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again.train(sentences, total_examples=again.corpus_count, epochs=1)
    with pytest.raises(RuntimeError, match="nothing to save"):
        Word2Vec().save(tmp_path / "empty.model")


def test_internal_constructor_is_from_arrays(sentences):
    model = fastw2v.train(sentences, dim=8, min_count=3, epochs=1, threads=1, quiet=True)
    copy = Word2Vec.from_arrays(model.config, model.vocab, model.syn0, model.syn1neg)
    assert copy.wv.index_to_key == model.wv.index_to_key and copy.syn0 is model.syn0
    assert copy.config.sg is True  # fastw2v.train: the C tool's skip-gram default


def test_file_corpus_checks_words_not_lines(sentences, tmp_path):
    """gensim counts a file's lines and fastw2v its trained sentences: only total_words is checked."""
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in sentences) + "\nzzz\n")  # a line of one rare word
    model = Word2Vec(vector_size=4, min_count=3, sg=np.True_, epochs=1)
    model.build_vocab(corpus_file=str(path))
    lines = sum(1 for s in sentences if s) + 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.train(corpus_file=str(path), total_examples=lines, total_words=model.corpus_total_words, epochs=1)
    with pytest.warns(UserWarning, match="supplied word count"):
        model.train(corpus_file=str(path), total_words=5, epochs=1)


def test_switch_demo_runs_unchanged_on_both(tmp_path):
    """bench/gensim_switch_demo.py on fastw2v, and with its import line swapped
    on gensim: both run through, with the same counts and sizes."""
    script = (Path(__file__).resolve().parents[1] / "bench" / "gensim_switch_demo.py").read_text()
    on_gensim = script.replace("\nfrom fastw2v import Word2Vec, KeyedVectors\n",
                               "\nfrom gensim.models import Word2Vec, KeyedVectors\n")
    assert [a for a, b in zip(script.splitlines(), on_gensim.splitlines()) if a != b] == \
        ["from fastw2v import Word2Vec, KeyedVectors"]
    corpus = tmp_path / "wp.txt"
    corpus.write_text("".join(war_and_peace_lines(4000)))
    outputs = []
    for source in (script, on_gensim):
        run = subprocess.run([sys.executable, "-", str(corpus), str(EVAL / "questions-words.txt"),
                              str(EVAL / "wordsim353.tsv")], input=source, capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        same = [re.sub(r", [0-9.]+ s$", "", line) for line in run.stdout.splitlines()
                if line.startswith(("Word2Vec<", "vector of", "count of", "vocabulary ", "model reloaded",
                                    "word2vec text file", "== "))]
        coverage = re.search(r"analogies: .* of (\d+); (\d+) sections", run.stdout).groups()
        outputs.append((same, coverage, run.stdout.count("  epoch ")))
    assert outputs[0] == outputs[1] and outputs[0][2] == 10 and len(outputs[0][0]) == 11
