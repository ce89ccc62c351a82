"""One test per validation rule of Config: the error names the parameter and the value."""
import pytest

from fastw2v.config import Config, ConfigError


@pytest.mark.parametrize("field,value,message", [
    ("dim", 0, "dim must be >= 1, got 0"),
    ("dim", 2.5, "dim must be an integer, got 2.5"),
    ("dim", True, "dim must be an integer, got True"),
    ("window", 0, "window must be >= 1, got 0"),
    ("epochs", -1, "epochs must be >= 1, got -1"),
    ("threads", 0, "threads must be >= 1, got 0"),
    ("negative", -2, "negative must be >= 0, got -2"),
    ("min_count", 0, "min_count must be >= 1, got 0"),
    ("max_vocab_size", 0, "max_vocab_size must be >= 1, got 0"),
    ("max_final_vocab", -5, "max_final_vocab must be >= 1, got -5"),
    ("max_sentence_length", 1, "max_sentence_length must be >= 2, got 1"),
    ("seed", -1, "seed must be >= 0, got -1"),
    ("sample", -0.1, "sample must be >= 0 (0 disables subsampling), got -0.1"),
    ("sample", float("nan"), "sample must be a number, got nan"),
    ("alpha", 0.0, "alpha must be > 0, got 0.0"),
    ("alpha", -1, "alpha must be > 0, got -1"),
    ("min_alpha", -0.001, "min_alpha must be >= 0, got -0.001"),
    ("ns_exponent", float("inf"), "ns_exponent must be finite, got inf"),
    ("hs", 1, "hs must be True or False, got 1"),
    ("device", "tpu", "device must be one of cpu, cuda, auto, got 'tpu'"),
])
def test_invalid_value_is_named(field, value, message):
    with pytest.raises(ConfigError) as err:
        Config(**{field: value})
    assert message in str(err.value)


def test_every_invalid_value_is_reported_at_once():
    with pytest.raises(ConfigError) as err:
        Config(dim=0, window=-1, alpha=0)
    text = str(err.value)
    assert "dim must be" in text and "window must be" in text and "alpha must be" in text


def test_no_output_layer():
    with pytest.raises(ConfigError, match="negative=0 with hs=False"):
        Config(negative=0, hs=False)


def test_softmax_excludes_other_layers():
    with pytest.raises(ConfigError, match="softmax=True replaces"):
        Config(softmax=True)
    assert Config(softmax=True, negative=0).mode == "sg-softmax"


def test_min_alpha_above_alpha():
    with pytest.raises(ConfigError, match=r"min_alpha must be <= alpha \(0.01\), got 0.02"):
        Config(alpha=0.01, min_alpha=0.02)


def test_defaults_resolved_like_the_c_tool():
    sg, cbow = Config(), Config(sg=False)
    assert (sg.alpha, cbow.alpha) == (0.025, 0.05)
    assert sg.min_alpha == pytest.approx(0.025e-4)
    assert sg.threads >= 1
    assert (sg.dim, sg.window, sg.negative, sg.sample, sg.min_count, sg.epochs) == (100, 5, 5, 1e-3, 5, 5)
    assert Config(hs=True, negative=0).mode == "sg-hs" and Config(sg=False, hs=True).mode == "cbow-ns+hs"


def test_sync_interval_defaults_to_a_number_of_skip_gram_examples_or_of_cbow_words():
    # skip-gram trains one example per context word: window + 1 on
    # average with dynamic windows, 2 * window without
    assert Config(sg=False).sync_every == Config(sg=False, window=10).sync_every == 200_000
    assert Config().sync_every == 16_667
    assert Config(window=10, dynamic_window=False).sync_every == 5_000
    assert Config(sync_every=5).sync_every == 5
    with pytest.raises(ConfigError, match="sync_every must be >= 1, got 0"):
        Config(sync_every=0)


def test_batch_window_is_skip_gram_on_the_cpu():
    assert Config(batch_window=True, hs=True).batch_window
    with pytest.raises(ConfigError, match="batch_window=True batches skip-gram windows: it needs sg=True"):
        Config(batch_window=True, sg=False)
    with pytest.raises(ConfigError, match="not softmax=True"):
        Config(batch_window=True, softmax=True, negative=0)
    with pytest.raises(ConfigError, match="batch_window=True trains on the CPU only"):
        Config(batch_window=True, device="cuda")
    with pytest.raises(ConfigError, match="batch_window must be True or False, got 1"):
        Config(batch_window=1)
