"""The encoded corpus file (`fastw2v encode`, --keep-encoded): it trains as
the text does, serial and parallel scans write the same bytes, and a damaged,
truncated or foreign file is refused naming the file."""
import importlib
import io
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from click.testing import CliRunner

import fastw2v
from fastw2v import corpus as corpus_mod
from fastw2v import scan as scan_mod
from fastw2v.cli import main
from fastw2v.corpus import CorpusFileError, encode_to_file, open_corpus_file
from fastw2v.vocab import Vocabulary

from test_cli import assert_one_line_error

train_mod = importlib.import_module("fastw2v.train")  # the module, not the fastw2v.train function
OPTIONS = dict(dim=12, epochs=2, threads=1, seed=3, min_count=2, window=3)


def mixed_text(seed=0, n_lines=1500) -> str:
    """Multi-byte words, CRLF and CR line ends, blank and very long lines."""
    rs = np.random.RandomState(seed)
    words = ["déjà", "東京", "naïve", "😀x", "w"] + [f"w{i}" for i in range(60)]
    lines = []
    for i in range(n_lines):
        n = 900 if i % 250 == 7 else rs.randint(0, 25)
        end = ["\n", "\r\n", "\r"][i % 3] if i % 11 else "\n\n"
        lines.append(" ".join(rs.choice(words, n)) + end)
    return "".join(lines)


@pytest.fixture
def text_files(tmp_path):
    paths = []
    for k in range(3):
        path = tmp_path / f"part{k}.txt"
        path.write_bytes((mixed_text(k) + ("no final newline" if k == 1 else "")).encode("utf-8"))
        paths.append(path)
    return paths


def encode(paths, out, **kw):
    result = CliRunner().invoke(main, ["encode", *map(str, paths), "-o", str(out), "--min-count", "2", "-q",
                                       *sum(([f"--{k.replace('_', '-')}", str(v)] for k, v in kw.items()), [])])
    assert result.exit_code == 0, result.output
    return out


def test_training_on_the_encoded_file_equals_training_on_the_text(text_files, tmp_path):
    encoded = encode(text_files, tmp_path / "c.fw2v")
    from_text = fastw2v.train([str(p) for p in text_files], quiet=True, **OPTIONS)
    from_file = fastw2v.train(str(encoded), quiet=True, **OPTIONS)
    assert from_file.vocab.words == from_text.vocab.words
    assert from_file.vocab.counts.tolist() == from_text.vocab.counts.tolist()
    assert from_file.syn0.tobytes() == from_text.syn0.tobytes()
    assert from_file.history[0].raw_words == from_text.history[0].raw_words
    out_text, out_file = tmp_path / "t.bin", tmp_path / "f.bin"
    common = ["--dim", "12", "--epochs", "1", "--threads", "1", "--min-count", "2", "-q"]
    assert CliRunner().invoke(main, ["train", *map(str, text_files), "-o", str(out_text), *common]).exit_code == 0
    assert CliRunner().invoke(main, ["train", str(encoded), "-o", str(out_file), *common]).exit_code == 0
    assert out_text.read_bytes() == out_file.read_bytes()


def test_text_input_keeps_one_vocabulary_and_checks_it_against_the_file(text_files, tmp_path):
    """The corpus encoded from text takes the vocabulary it was written from
    (no second copy of the words); one that does not match the file is refused."""
    vocab, corpus, _ = corpus_mod.load_corpus([str(p) for p in text_files], min_count=2, work_dir=str(tmp_path))
    assert corpus.vocab is vocab
    corpus.close()
    encoded = encode(text_files, tmp_path / "c.fw2v")
    with open_corpus_file(encoded) as corpus:
        own = corpus.vocab
    wrong = Vocabulary(own.words, own.counts + 1)
    with pytest.raises(CorpusFileError, match="c.fw2v: its vocabulary is not the one it was written from"):
        open_corpus_file(encoded, wrong)
    with open_corpus_file(encoded, own) as corpus:
        assert corpus.vocab is own


@pytest.mark.parametrize("max_sentence_length", [10000, 7, 2])
def test_parallel_scan_writes_the_same_file_as_a_serial_one(text_files, tmp_path, monkeypatch, max_sentence_length):
    """Scanned and encoded in about ten ranges a file on 16 threads, in token
    blocks small enough that ranges share them; with short sentences the
    lines cut between ranges are split where a serial pass splits them."""
    monkeypatch.setattr(corpus_mod, "TOKEN_BLOCK", 256)
    monkeypatch.setattr(corpus_mod, "ENCODE_BLOCK", 100)
    serial = encode(text_files, tmp_path / "serial.fw2v", threads=1, max_sentence_length=max_sentence_length)
    monkeypatch.setattr(scan_mod, "RANGE_MIN_BYTES", 2000)   # about ten ranges a file
    monkeypatch.setattr(scan_mod, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(scan_mod, "SPOOL_IN_MEMORY_BYTES", 0)
    assert len(scan_mod.plan_ranges(corpus_mod.expand_inputs(text_files), 16, [False] * 3)) > 12
    parallel = encode(text_files, tmp_path / "parallel.fw2v", threads=16, max_sentence_length=max_sentence_length)
    assert parallel.read_bytes() == serial.read_bytes()


def test_keep_encoded_and_standard_input_write_the_same_file(text_files, tmp_path):
    reference = encode(text_files[:1], tmp_path / "ref.fw2v")
    kept = tmp_path / "kept.fw2v"
    result = CliRunner().invoke(main, ["train", str(text_files[0]), "-o", str(tmp_path / "v.bin"),
                                       "--keep-encoded", str(kept), "--min-count", "2", "--dim", "4",
                                       "--epochs", "1", "-q"])
    assert result.exit_code == 0, result.output
    with open_corpus_file(reference) as a, open_corpus_file(kept) as b:
        assert a.fingerprint == b.fingerprint and a.vocab.words == b.vocab.words
    piped = subprocess.run([sys.executable, "-m", "fastw2v.cli", "encode", "-", "-o", str(tmp_path / "p.fw2v"),
                            "--min-count", "2"], input=text_files[0].read_bytes(), capture_output=True, text=False)
    assert piped.returncode == 0, piped.stderr
    assert b"bytes a token" in piped.stderr
    with open_corpus_file(tmp_path / "p.fw2v") as c:
        assert c.fingerprint == a.fingerprint and c.sources == [{"name": "standard input"}]
    assert a.sources[0]["name"] == str(text_files[0]) and a.sources[0]["size"] == text_files[0].stat().st_size


@pytest.mark.parametrize("words,dtype", [(500, np.uint16), (70_000, np.int32)])
def test_ids_take_the_narrowest_type(tmp_path, words, dtype):
    path = tmp_path / "c.txt"
    path.write_text(" ".join(f"w{i}" for i in range(words)) + "\n")
    vocab, encoded, _ = encode_to_file(path, tmp_path / "c.fw2v", min_count=1)
    with encoded:
        assert encoded._tokens.dtype == dtype
        assert encoded._sections["tokens"][1] == words * np.dtype(dtype).itemsize
        assert np.array_equal(np.sort(encoded.tokens(0, words)), np.arange(words))


def test_block_window_reads_every_slice_right(tmp_path, monkeypatch):
    """Blocks of 7 ids and 3 offsets: every slice straddles blocks; training
    equals training on the same sentences held in memory."""
    monkeypatch.setattr(corpus_mod, "TOKEN_BLOCK", 7)
    monkeypatch.setattr(corpus_mod, "OFFSET_BLOCK", 3)
    monkeypatch.setattr(train_mod, "WORDS_PER_PART", 500)
    text = mixed_text(3, 600)
    path = tmp_path / "c.txt"
    path.write_bytes(text.encode())
    sentences = [line.split() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    encode_to_file(path, tmp_path / "c.fw2v", min_count=2)[1].close()
    from_file = fastw2v.train(str(tmp_path / "c.fw2v"), quiet=True, **OPTIONS)
    in_memory = fastw2v.train([s for s in sentences if s], quiet=True, **OPTIONS)
    assert from_file.vocab.words == in_memory.vocab.words
    assert from_file.syn0.tobytes() == in_memory.syn0.tobytes()


def damage(path, at, xor=0xFF):
    data = bytearray(path.read_bytes())
    data[at] ^= xor
    path.write_bytes(bytes(data))


def test_damaged_truncated_and_foreign_files_are_refused(text_files, tmp_path):
    good = encode(text_files, tmp_path / "c.fw2v")
    data = good.read_bytes()
    corpus = open_corpus_file(good)
    tokens_at, offsets_at = corpus._sections["tokens"][0], corpus._sections["offsets"][0]
    words_at = corpus._sections["words"][0]
    corpus.close()
    cases = {
        "truncated": (lambda p: p.write_bytes(data[:-1]), "truncated or extended corpus file"),
        "cut in the header": (lambda p: p.write_bytes(data[:20]), "truncated corpus file"),
        "header": (lambda p: (p.write_bytes(data), damage(p, 30)), "header checksum does not match"),
        "vocabulary": (lambda p: (p.write_bytes(data), damage(p, words_at + 3, 0x01)), "vocabulary checksum"),
        "trailer": (lambda p: (p.write_bytes(data), damage(p, len(data) - 5, 0x01)), "trailer checksum"),
        "newer version": (lambda p: p.write_bytes(data[:8] + b"\x09" + data[9:]), "damaged"),
        "foreign": (lambda p: p.write_bytes(b"PK\x03\x04 not a corpus"), "not a fastw2v corpus file"),
    }
    for name, (make, message) in cases.items():
        bad = tmp_path / "bad.fw2v"
        make(bad)
        with pytest.raises(CorpusFileError, match=f"bad.fw2v: .*{message}"):
            fastw2v.train(str(bad), quiet=True, **OPTIONS)
        result = CliRunner().invoke(main, ["train", str(bad), "-o", str(tmp_path / "v.bin"), "-q"])
        assert_one_line_error(result, 1, "bad.fw2v")
        assert not (tmp_path / "v.bin").exists(), name
    for at, what in ((tokens_at + 11, "tokens block 0"), (offsets_at + 17, "offsets block 0")):
        bad = tmp_path / "bad.fw2v"
        bad.write_bytes(data)
        damage(bad, at, 0x01)
        result = CliRunner().invoke(main, ["train", str(bad), "-o", str(tmp_path / "v.bin"), "-q", "--threads", "1"])
        assert_one_line_error(result, 1, f"bad.fw2v: {what}")
        assert "is damaged: its checksum does not match" in result.output
        assert not (tmp_path / "v.bin").exists()


def test_a_newer_format_version_asks_for_an_upgrade(text_files, tmp_path):
    good = encode(text_files[:1], tmp_path / "c.fw2v")
    data = bytearray(good.read_bytes())
    data[8] = 9  # version 9, preamble checksum made right again
    data[36:40] = struct.pack("<I", zlib.crc32(bytes(data[:36])))
    good.write_bytes(bytes(data))
    with pytest.raises(CorpusFileError, match="version 9 is newer than this fastw2v reads"):
        open_corpus_file(good)


def test_vocabulary_settings_come_from_the_file(text_files, tmp_path):
    encoded = encode(text_files, tmp_path / "c.fw2v")
    result = CliRunner().invoke(main, ["train", str(encoded), "-o", str(tmp_path / "v.bin"), "--min-count", "5"])
    assert_one_line_error(result, 2, "min_count=5, but the corpus file was encoded with min_count=2")
    model = fastw2v.train(str(encoded), quiet=True, dim=4, epochs=1, threads=1)  # min_count left out: the file's
    assert model.config.min_count == 2
    with pytest.raises(fastw2v.ConfigError, match="max_sentence_length=50"):
        fastw2v.train(str(encoded), quiet=True, dim=4, epochs=1, max_sentence_length=50)


def test_encoded_files_train_further_resume_and_feed_the_c_tool(text_files, tmp_path):
    first = encode(text_files[:1], tmp_path / "a.fw2v")
    second = encode(text_files[1:], tmp_path / "b.fw2v")
    model_path = tmp_path / "m.npz"
    runner = CliRunner()
    assert runner.invoke(main, ["train", str(first), "-o", str(tmp_path / "v.bin"), "--save-model", str(model_path),
                                "--dim", "8", "--epochs", "1", "-q"]).exit_code == 0
    before = fastw2v.Word2Vec.load(model_path)
    result = runner.invoke(main, ["train", str(second), "-o", str(tmp_path / "v.bin"), "--init-model", str(model_path),
                                  "--save-model", str(model_path), "--epochs", "1", "-q"])
    assert result.exit_code == 0, result.output
    after = fastw2v.Word2Vec.load(model_path)
    with open_corpus_file(second) as corpus:
        other = corpus.vocab
    assert after.vocab.words[:len(before.vocab)] == before.vocab.words
    assert set(after.vocab.words) == set(before.vocab.words) | set(other.words)
    w = before.vocab.words[0]
    assert after.vocab.counts[0] == before.vocab.counts[0] + other.counts[other.key_to_index[w]]

    ck = tmp_path / "ck.npz"
    config = fastw2v.Config(dim=8, epochs=2, threads=1, min_count=2)
    corpus = open_corpus_file(first)
    model = train_mod.Word2Vec.initialize(config, corpus.vocab)
    from test_reliability import SignalAfter
    with corpus, pytest.raises(fastw2v.TrainingInterrupted):
        model.train_encoded(corpus, SignalAfter(2, calls=1), checkpoint=ck)
    resumed = fastw2v.resume(ck, str(first), quiet=True)
    reference = fastw2v.train(str(first), quiet=True, dim=8, epochs=2, threads=1)
    assert resumed.syn0.tobytes() == reference.syn0.tobytes()

    from fastw2v import ctools
    out = io.StringIO()
    code = ctools._word2vec(["-train", str(first), "-output", str(tmp_path / "c.txt"), "-size", "8", "-iter", "1",
                             "-threads", "1", "-debug", "0"], stdout=out, stderr=io.StringIO())
    assert code == 0 and (tmp_path / "c.txt").read_text().split()[:2] == [str(len(corpus.vocab)), "8"]


def test_an_encoded_file_trains_alone(text_files, tmp_path):
    encoded = encode(text_files[:1], tmp_path / "c.fw2v")
    result = CliRunner().invoke(main, ["train", str(encoded), str(text_files[1]), "-o", str(tmp_path / "v.bin")])
    assert_one_line_error(result, 2, "is an encoded corpus: train on it alone")


@pytest.mark.parametrize("words", [["the", "été", "日本語", "😀", "a"], ["one"], [], ["new york", "a"], ["", "b"]])
def test_vocabulary_words_are_stored_as_their_utf8_bytes_end_to_end(words):
    """The vocabulary section: each word's bytes and where it ends, also for
    words given from Python that hold a space (or are empty)."""
    from fastw2v.corpus import _joined_words

    joined, ends = _joined_words(words)
    blobs = [w.encode("utf-8") for w in words]
    assert joined == b"".join(blobs)
    assert ends.tolist() == np.cumsum([len(b) for b in blobs]).tolist()
    assert ends.dtype == np.int64
