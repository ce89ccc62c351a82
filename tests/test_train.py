"""End-to-end training: determinism, agreement of the output layers, divergence, quality smoke test."""
from importlib import resources

import numpy as np
import pytest
from scipy import stats

import fastw2v
from fastw2v import ConfigError, TrainingError

from conftest import EVAL, WAR_AND_PEACE, war_and_peace_lines


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    """The first 1,500 paragraphs of the embedded War and Peace (about 75k words)."""
    path = tmp_path_factory.mktemp("wp") / "wp.txt"
    path.write_text("".join(war_and_peace_lines(1500)))
    return path


def topic_sentences(n_sentences=3000, seed=0):
    """Two disjoint topics of 12 words; each sentence draws from one topic only."""
    rs = np.random.RandomState(seed)
    topics = [[f"{t}{i}" for i in range(12)] for t in ("a", "b")]
    return [list(rs.choice(topics[rs.randint(2)], size=10)) for _ in range(n_sentences)], topics


@pytest.mark.parametrize("sg", [True, False])
def test_one_thread_runs_are_byte_identical(small_corpus, tmp_path, sg):
    outputs = []
    for run in range(2):
        model = fastw2v.train(small_corpus, sg=sg, epochs=2, threads=1, seed=7, min_count=3, quiet=True)
        out = tmp_path / f"v{run}.bin"
        model.save_word2vec_format(out, binary=True)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    other = fastw2v.train(small_corpus, sg=sg, epochs=2, threads=1, seed=8, min_count=3, quiet=True)
    assert not np.array_equal(other.syn0, model.syn0)


@pytest.mark.parametrize("layers", [dict(negative=5), dict(negative=0, hs=True), dict(negative=0, softmax=True),
                                    dict(negative=3, hs=True)])
@pytest.mark.parametrize("sg", [True, False])
def test_output_layers_learn_the_same_neighbours(layers, sg):
    sentences, topics = topic_sentences()
    model = fastw2v.train(sentences, sg=sg, dim=16, window=3, min_count=1, sample=0, epochs=3, threads=1,
                          seed=3, quiet=True, **layers)
    losses = [s.loss for s in model.history]
    assert losses[-1] < losses[0]
    for topic in topics:
        for word in topic[:4]:
            neighbours = [w for w, _ in model.most_similar(word, topn=5)]
            assert set(neighbours) <= set(topic), (word, neighbours)


def test_loss_is_the_negative_sampling_objective_at_start():
    """Before learning, output weights are zero: every term is -log sigma(0) = log 2."""
    sentences, _ = topic_sentences(200)
    model = fastw2v.train(sentences, dim=8, negative=4, min_count=1, sample=0, epochs=1, threads=1,
                          alpha=1e-9, min_alpha=0, quiet=True)
    # one positive and 4 negatives (minus the rare draws equal to the positive word)
    assert 4.0 * np.log(2) < model.history[0].loss <= 5 * np.log(2) + 1e-6


def test_divergence_is_reported():
    sentences, _ = topic_sentences(500)
    with pytest.raises(TrainingError, match=r"diverged in epoch 1.*smaller learning rate"):
        fastw2v.train(sentences, dim=8, min_count=1, epochs=2, threads=1, alpha=1e30, quiet=True)


def test_unknown_and_invalid_options():
    with pytest.raises(ConfigError, match="unknown option vector_size"):
        fastw2v.train([["a"]], vector_size=10)
    with pytest.raises(ConfigError, match="dim must be >= 1, got 0"):
        fastw2v.train([["a"]], dim=0)


def test_multithreaded_training_learns(small_corpus):
    model = fastw2v.train(small_corpus, epochs=3, threads=2, min_count=3, quiet=True)
    assert len(model.history) == 3 and model.history[-1].loss < model.history[0].loss
    assert model.history[-1].words == model.vocab.total_count  # every kept token, every epoch


PLACES = {"petersburg", "vilna", "smolensk", "vienna", "bogucharovo", "otradnoe", "austerlitz", "borodino",
          "mozhaysk", "krasnoe", "brunn", "olmutz", "kiev", "town", "city", "estate"}


def test_quality_on_war_and_peace():
    """The D2L chapter's check on the embedded corpus: 'moscow' lands among
    places, and similarities correlate with SimLex-999."""
    with resources.as_file(WAR_AND_PEACE) as path:
        model = fastw2v.train(path, epochs=5, threads=2, seed=1, quiet=True)
    neighbours = [w for w, _ in model.most_similar("moscow", topn=10)]
    assert len(PLACES & set(neighbours)) >= 3, neighbours
    gold, cosine = [], []
    for line in (EVAL / "simlex999.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        a, b, score = line.split("\t")
        if a in model.vocab and b in model.vocab:
            gold.append(float(score))
            cosine.append(model.similarity(a, b))
    assert len(gold) > 400
    # seeds 1-3 score 0.12-0.13 on 451 pairs; random vectors score ~0 +- 0.05
    result = stats.spearmanr(gold, cosine)
    assert result.correlation > 0.07 and result.pvalue < 0.05


def test_invalid_utf8_is_a_warning_in_the_api(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"caf\xe9 ok tea\n" * 20)
    with pytest.warns(UnicodeWarning, match="20 tokens were not valid UTF-8"):
        model = fastw2v.train(path, min_count=1, dim=4, epochs=1, threads=1, quiet=True)
    assert "caf\ufffd" in model.vocab
