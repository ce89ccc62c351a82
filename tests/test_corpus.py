"""Corpus scanning, vocabulary and encoding against plain Python references,
serial and in parallel byte ranges."""
import bz2
import gzip
import lzma
import re
from collections import Counter
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fastw2v import scan as scan_mod
from fastw2v.corpus import encode_sentences, load_corpus
from fastw2v.files import InputError, expand_inputs
from fastw2v.vocab import Vocabulary, VocabularyError

SPACES = "\t\x0b\x0c\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2005\u200a\u2028\u2029\u202f\u205f\u3000"


def reference(text: str, min_count=1, max_len=10_000):
    """What the corpus should be: str.split() per line, lines end at \\n or \\r."""
    lines = [line.split() for line in re.split("[\r\n]", text)]
    counts = Counter(t for line in lines for t in line)
    first = {}
    for pos, t in enumerate(t for line in lines for t in line):
        first.setdefault(t, pos)
    words = sorted((w for w in counts if counts[w] >= min_count), key=lambda w: (-counts[w], -first[w]))
    index = {w: i for i, w in enumerate(words)}
    sentences = []
    for line in lines:
        ids = [index[t] for t in line if t in index]
        sentences += [ids[i:i + max_len] for i in range(0, len(ids), max_len)]
    return words, [counts[w] for w in words], sentences


def all_tokens(encoded):
    return encoded.tokens(0, encoded.n_tokens)


def all_offsets(encoded):
    return encoded.offsets(0, encoded.n_sentences + 1)


def sentences_of(encoded):
    tokens, offsets = all_tokens(encoded), all_offsets(encoded)
    return [tokens[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]


@pytest.fixture
def tiny_ranges(monkeypatch):
    """Byte ranges of a few bytes, split again by threads left idle, id
    streams spooled to files: the parallel scan's every seam on small inputs."""
    monkeypatch.setattr(scan_mod, "RANGE_MIN_BYTES", 3)
    monkeypatch.setattr(scan_mod, "SPLIT_MIN_BYTES", 1)
    monkeypatch.setattr(scan_mod, "SPOOL_IN_MEMORY_BYTES", 0)


@contextmanager
def checked_against_reference(path, text, min_count=1, max_len=10_000, threads=1):
    """load_corpus's (vocabulary, corpus, report), checked against the
    reference and open for the with block's own checks."""
    words, counts, sentences = reference(text, min_count, max_len)
    vocab, encoded, invalid = load_corpus(path, min_count=min_count, max_sentence_length=max_len, threads=threads)
    with encoded:
        assert vocab.words == words
        assert vocab.counts.tolist() == counts
        assert sentences_of(encoded) == sentences
        assert encoded.raw_word_count == sum(len(line.split()) for line in re.split("[\r\n]", text))
        yield vocab, encoded, invalid


def check_against_reference(path, text, min_count=1, max_len=10_000, threads=1):
    with checked_against_reference(path, text, min_count, max_len, threads):
        pass


alphabet = st.sampled_from(list("abcé漢😀\x00") + list(SPACES) + ["\n", "\r", "\r\n"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(alphabet, max_size=120).map("".join), st.integers(1, 9), st.integers(1, 3), st.sampled_from([1, 4]))
def test_tokens_match_python_split(tmp_path, tiny_ranges, monkeypatch, text, block, min_count, threads):
    if not text.split():
        return
    monkeypatch.setattr(scan_mod, "BLOCK_BYTES", block)  # force many block boundaries
    path = tmp_path / "c.txt"
    path.write_text(text, encoding="utf-8", newline="")
    try:
        check_against_reference(path, text, min_count=min_count, max_len=4, threads=threads)
    except VocabularyError:
        assert max(Counter(text.split()).values()) < min_count


def test_long_lines_are_split_not_truncated(tmp_path):
    line = " ".join(f"w{i % 7}" for i in range(25))
    path = tmp_path / "c.txt"
    path.write_text(line + "\nw1 w2\n")
    with checked_against_reference(path, line + "\nw1 w2\n", max_len=10) as (vocab, encoded, _):
        assert np.diff(all_offsets(encoded)).tolist() == [10, 10, 5, 2]
        assert encoded.n_tokens == 27


@pytest.mark.parametrize("threads", [1, 3])
def test_very_long_single_line(tmp_path, monkeypatch, tiny_ranges, threads):
    monkeypatch.setattr(scan_mod, "BLOCK_BYTES", 1 << 12)
    rs = np.random.RandomState(0)
    words = [f"w{k}" for k in rs.zipf(1.5, size=50_000) % 500]
    text = " ".join(words)
    path = tmp_path / "c.txt"
    path.write_text(text)
    with checked_against_reference(path, text, min_count=1, max_len=1000, threads=threads) as (_, encoded, _):
        assert encoded.n_tokens == 50_000 and encoded.n_sentences == 50


def test_merging_the_ranges_grows_the_table(tmp_path, monkeypatch):
    """Ranges with more distinct words than a fresh table holds (16384
    entries, 256 kB of words), many of them shared: merging them grows the
    merged table's entries, buckets and byte pool, and counts, first
    positions and ids still equal a serial scan's."""
    monkeypatch.setattr(scan_mod, "RANGE_MIN_BYTES", 1 << 12)
    rs = np.random.RandomState(1)
    words = [f"{'x' * (k % 23)}w{k}" for k in rs.permutation(30_000)]
    text = "\n".join(" ".join(words[i:i + 50]) for i in range(0, len(words), 50)) + "\n" + " ".join(words[::7])
    path = tmp_path / "c.txt"
    path.write_text(text)
    with checked_against_reference(path, text, min_count=1, threads=3) as (_, encoded, _):
        assert encoded.n_tokens == 30_000 + len(words[::7])


@pytest.mark.parametrize("threads", [2, 5])
def test_merging_on_threads_equals_merging_on_one(monkeypatch, threads):
    """Tables merged with their shared words looked up on several threads
    (parts of at least 2 entries) get the same entries, counts, first
    positions, live count and map as merged on one; the later table's
    words include some the first forgot when pruned (count 0) and new ones."""
    monkeypatch.setattr(scan_mod, "MERGE_PART_MIN", 2)
    rs = np.random.RandomState(7)

    def table(words):
        t = scan_mod.Table(capacity=16, pool_bytes=64)
        data = np.frombuffer(" ".join(words).encode() + b"\n", np.uint8).copy()
        t.scan(data, np.empty(len(data) + 2, np.int32))
        return t

    first = [f"w{k}" for k in rs.zipf(1.3, size=3000) % 700]
    later = [f"w{k}" for k in rs.zipf(1.3, size=2000) % 1500]
    merged = []
    for n in (1, threads):
        ours, theirs = table(first), table(later)
        ours.prune(100, 1)
        entries = ours.merge(theirs, ours.tokens, threads=n)
        merged.append((entries, ours))
    (one, a), (many, b) = merged
    assert np.array_equal(one, many) and a.n_entries == b.n_entries and a.state[2] == b.state[2]
    for name in ("hashes", "starts", "lengths", "counts", "first_seen"):
        assert np.array_equal(getattr(a, name)[:a.n_entries], getattr(b, name)[:b.n_entries]), name
    assert (a.counts[one] > 0).all() and a.n_entries > len(set(first))


def test_a_range_that_fails_is_reported_while_another_still_reads_a_pipe(tmp_path):
    """A corrupt compressed file fails its range at once; the error is
    raised then, not once the FIFO before it, read on the other thread,
    ends (nor is it held back behind that earlier range)."""
    import os
    import threading

    bad = tmp_path / "bad.gz"
    bad.write_bytes(gzip.compress(b"a b c\n" * 100)[:40] + b"\xff" * 40)
    fifo = tmp_path / "slow.fifo"
    os.mkfifo(fifo)
    held = os.open(fifo, os.O_RDWR)  # a writer that never writes: the reader waits
    failed = []
    scanning = threading.Thread(target=lambda: failed.append(pytest.raises(InputError, scan_mod.scan_inputs,
                                                                           expand_inputs([fifo, bad]), 2)))
    try:
        scanning.start()
        scanning.join(timeout=60)
        assert not scanning.is_alive() and failed and "bad.gz" in str(failed[0].value)
    finally:
        os.close(held)  # the reader sees the end and its thread finishes
        scanning.join(timeout=60)
    for thread in threading.enumerate():
        if thread.name.startswith("fastw2v-scan-"):
            thread.join(timeout=60)


def test_an_idle_thread_takes_over_half_of_the_longest_rest(tmp_path, monkeypatch):
    """Once the planned ranges are handed out, the next thread gets the
    second half of what the range with most left has not claimed yet, cut
    after a whitespace byte; that range's reader stops at the cut."""
    monkeypatch.setattr(scan_mod, "SPLIT_MIN_BYTES", 100)
    data = b" ".join(b"w%d" % (k % 97) for k in range(2000)) + b"\n"
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    (inp,) = expand_inputs([path])
    share = scan_mod._Workshare([scan_mod.ByteRange(0, inp, 0, 3000), scan_mod.ByteRange(0, inp, 3000, len(data))])
    first, second = share.next(), share.next()
    assert (first.range.start, second.range.start) == (0, 3000)
    assert first.claim(1000) == 1000 and second.claim(100) == 100
    piece = share.next()                         # the second has most left: 3100 .. end
    cut = piece.range.start
    assert (3100 + len(data)) // 2 <= cut < (3100 + len(data)) // 2 + 5 and data[cut - 1:cut] == b" "
    assert (piece.range.end, second.end) == (len(data), cut)
    assert second.claim(len(data)) == cut - 3100 and second.claim(1) == 0
    piece.claim(10 ** 6)
    assert first.claim(1500) == 1500             # 500 left: the most, and at least 2 x 100 bytes
    other = share.next()
    assert 2750 <= other.range.start < 2755 and first.end == other.range.start and other.range.end == 3000
    first.claim(other.range.start - 2500 - 150)  # 150 left on the first range, 199 on the other:
    other.claim(other.range.end - other.range.start - 199)
    assert share.next() is None                  # under 2 x 100 bytes each
    path.write_bytes(b"a b " + b"x" * 1000)      # no whitespace to cut at: not split
    share = scan_mod._Workshare([scan_mod.ByteRange(0, inp, 0, 1004)])
    whole = share.next()
    whole.claim(2)
    assert share.next() is None and whole.end == 1004


def test_a_slow_thread_is_helped_and_the_result_is_a_serial_scans(tmp_path, monkeypatch):
    """A thread slowed down on the first range has pieces of it taken over
    by the other threads; the pieces tile the file in order and the corpus
    equals the reference."""
    import time

    monkeypatch.setattr(scan_mod, "RANGE_MIN_BYTES", 1 << 12)
    monkeypatch.setattr(scan_mod, "SPLIT_MIN_BYTES", 1 << 10)
    monkeypatch.setattr(scan_mod, "BLOCK_BYTES", 1 << 9)
    blocks = scan_mod._blocks

    def slow_on_the_first_range(f, claim=None, stop=None):
        for data in blocks(f, claim, stop):
            if claim is not None and claim.__self__.range.start == 0:
                time.sleep(0.002)
            yield data

    monkeypatch.setattr(scan_mod, "_blocks", slow_on_the_first_range)
    rs = np.random.RandomState(5)
    text = "\n".join(" ".join(f"é{k}" for k in rs.zipf(1.3, size=40) % 3000) for _ in range(600)) + "\n"
    path = tmp_path / "c.txt"
    path.write_text(text)
    scan = scan_mod.scan_inputs(expand_inputs([path]), 2)
    scan.close()
    bounds = [(part.range.start, part.range.end) for part in scan.ranges]
    assert len(bounds) > 2 and bounds[0][0] == 0 and bounds[-1][1] == path.stat().st_size
    assert all(a[1] == b[0] for a, b in zip(bounds[:-1], bounds[1:]))
    assert scan.table.tokens == len(text.split())
    check_against_reference(path, text, min_count=2, max_len=7, threads=2)


@pytest.mark.parametrize("spooled", [False, True])
@pytest.mark.parametrize("block_items", [2, 3, 7, 1 << 10])
def test_id_stream_round_trip(tmp_path, spooled, block_items):
    """A range's id stream (entry ids of every size, one- and two-unit
    values and the largest ids included, and LINE_END marks) reads back as
    it was written, in blocks of any size: a two-unit value cut by a read
    carries over to the next, and a spool file's read part is released as it
    goes (it reads back as zeros) without losing what comes after."""
    rs = np.random.RandomState(2)
    blocks = [rs.choice([scan_mod.LINE_END, 0, 1, 0x7FFE, 0x7FFF, 0x8000, 123_456, 2**31 - 2], size=n)
              .astype(np.int32) for n in (0, 1, 5, 300, 40)]
    blocks.append((rs.zipf(1.3, size=5000) % (2**31 - 1) - 1).astype(np.int32))
    spool = open(tmp_path / "spool", "w+b") if spooled else None
    stream = scan_mod.RangeScan(range=None, table=None, spool=spool)
    for ids in blocks:
        buffer = np.concatenate([ids, np.full(3, 99, np.int32)])  # add_ids takes the first n
        stream.add_ids(buffer, len(ids), np.empty(2 * len(buffer), np.uint16))
    expected = np.concatenate(blocks)
    assert stream.n_ids == len(expected)
    if spooled:
        assert spool.tell() < 4 * len(expected)  # one unit for most values: narrower than the ids
    got = [b.copy() for b in stream.id_blocks(block_items)]
    assert all(len(b) <= block_items for b in got)
    assert np.array_equal(np.concatenate(got), expected)
    assert not stream.ids
    stream.release_ids()


def test_read_spool_pieces_are_released(tmp_path, monkeypatch):
    """Each piece of the spool the encoder has read is punched out (reads
    back as zeros) while the rest still reads back whole."""
    with open(tmp_path / "probe", "w+b") as probe:
        probe.write(b"x" * 8192)
        probe.flush()
        if not scan_mod.release_file_range(probe.fileno(), 0, 4096):
            pytest.skip("this system or file system cannot punch holes in a file")
    monkeypatch.setattr(scan_mod, "SPOOL_RELEASE_BYTES", 64)
    with open(tmp_path / "spool", "w+b") as spool:
        stream = scan_mod.RangeScan(range=None, table=None, spool=spool)
        ids = np.arange(1, 20_001, dtype=np.int32)
        stream.add_ids(ids, len(ids), np.empty(2 * len(ids), np.uint16))
        blocks = stream.id_blocks(1000)
        first = next(blocks).copy()
        head = np.frombuffer((tmp_path / "spool").read_bytes()[:2000], np.uint16)
        assert not head.any()  # the first read's 2000 bytes are gone from the file
        rest = np.concatenate([first] + [b.copy() for b in blocks])
        assert np.array_equal(rest, ids)


@pytest.mark.parametrize("min_count,max_final_vocab", [(1, None), (3, None), (2, 5), (1, 40), (0, None)])
@pytest.mark.parametrize("invalid", [False, True])
@pytest.mark.parametrize("threads", [1, 3])
def test_vocabulary_chosen_from_counts_equals_the_decoded_one(tmp_path, monkeypatch, min_count, max_final_vocab,
                                                              invalid, threads):
    """plan_vocabulary picks the ids from the counts alone and decodes the
    words later; its vocabulary and entry -> id map are build_vocabulary's,
    ties in count included.  With bytes that are not UTF-8 (in the last
    range only, where one is scanned on each thread) it leaves the choice
    to build_vocabulary (replacement can merge words)."""
    from fastw2v.corpus import build_vocabulary, plan_vocabulary

    monkeypatch.setattr(scan_mod, "RANGE_MIN_BYTES", 4096)
    rs = np.random.RandomState(3)
    words = [f"{'é' * (k % 3)}w{k}" for k in rs.zipf(1.4, size=3000) % 300]
    data = " ".join(words).encode() + (b" \xff\xfeq \xff\xfeq w1" if invalid else b"")
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    scan = scan_mod.scan_inputs(expand_inputs([path]), threads)
    assert len(scan.ranges) == threads
    table = scan.table
    assert scan.any_invalid_utf8 == table.any_invalid_utf8() == invalid
    pending, id_map, bad = plan_vocabulary(scan, min_count, max_final_vocab)
    vocab, expected_map, expected_bad = build_vocabulary(table, min_count, max_final_vocab)
    assert pending.size == len(vocab)
    made = pending.make()
    assert made.words == vocab.words and made.counts.tolist() == vocab.counts.tolist()
    assert np.array_equal(id_map, expected_map) and bad == expected_bad
    assert (bad > 0) == invalid


def test_crlf_and_mixed_line_ends(tmp_path):
    text = "a b\r\nc a\r\n\r\nb\rc c\n"
    path = tmp_path / "c.txt"
    path.write_bytes(text.encode())
    with checked_against_reference(path, text) as (_, encoded, _):
        assert encoded.n_sentences == 4


@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"), (lzma.open, ".xz")])
def test_compressed_files_read_like_plain_ones(tmp_path, opener, suffix):
    text = "the cat sat\non the mat\nthe end\n" * 50
    path = tmp_path / ("c.txt" + suffix)
    with opener(path, "wt") as f:
        f.write(text)
    check_against_reference(path, text)


def test_several_files_and_directories(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "b.txt").write_text("x y z")      # no final newline: file end ends the sentence
    (tmp_path / "d" / "a.txt").write_text("x x\ny")
    (tmp_path / "d" / ".hidden").write_text("ignored")
    (tmp_path / "e.txt").write_text("z y")
    vocab, encoded, _ = load_corpus([tmp_path / "d", tmp_path / "e.txt"], min_count=1)
    words, _, sentences = reference("x x\ny\nx y z\nz y")
    with encoded:
        assert vocab.words == words and sentences_of(encoded) == sentences


def test_missing_input(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_corpus(tmp_path / "nope.txt")
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(InputError, match="contains no files"):
        load_corpus(tmp_path / "empty_dir")


@pytest.mark.parametrize("text", ["", "   \n\t\n  "])
def test_empty_corpus(tmp_path, text):
    path = tmp_path / "c.txt"
    path.write_text(text)
    with pytest.raises(VocabularyError, match="no words"):
        load_corpus(path)


def test_all_words_below_min_count(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a b c a b a\n")
    with pytest.raises(VocabularyError, match=r"3 distinct words.*occurs 3 times.*min_count to 3"):
        load_corpus(path, min_count=5)


def test_vocabulary_order_and_tie_break(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("d c b a\na b c d e\ne e\n")
    vocab, encoded, _ = load_corpus(path, min_count=1)
    encoded.close()
    assert vocab.words == ["e", "a", "b", "c", "d"]  # e: 3; then count 2, the last first seen first (gensim)


def test_max_final_vocab_raises_min_count(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a a a a b b b c c d d e\n")
    vocab, encoded, _ = load_corpus(path, min_count=1, max_final_vocab=3)
    encoded.close()
    assert vocab.words == ["a", "b"]  # a cut at exactly 3 would split the tie c/d
    vocab, encoded, _ = load_corpus(path, min_count=1, max_final_vocab=4)
    encoded.close()
    assert vocab.words == ["a", "b", "d", "c"]


def test_max_vocab_size_prunes_rare_words_while_counting(tmp_path, monkeypatch):
    monkeypatch.setattr(scan_mod, "BLOCK_BYTES", 64)
    frequent = " ".join(["alpha", "beta", "gamma"] * 30)
    rare = " ".join(f"r{i}" for i in range(300))
    path = tmp_path / "c.txt"
    path.write_text(frequent + "\n" + rare + "\n" + frequent + "\n")
    vocab, encoded, _ = load_corpus(path, min_count=1, max_vocab_size=20)
    with encoded:
        assert len(vocab) <= 20
        assert vocab.words[:3] == ["gamma", "beta", "alpha"] and vocab.counts[:3].tolist() == [60, 60, 60]
        # every occurrence of a kept word is encoded, also those counted before a pruning
        assert np.count_nonzero(all_tokens(encoded) == 0) == 60


def test_invalid_utf8_is_replaced_counted_and_merged(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"ok caf\xe9 caf\xff ok\nok caf\xe9\n")
    vocab, encoded, report = load_corpus(path, min_count=1)
    with encoded:
        assert report.invalid_utf8_tokens == 3
        assert vocab.words == ["caf\ufffd", "ok"] and vocab.counts.tolist() == [3, 3]
        assert sentences_of(encoded) == [[1, 0, 0, 1], [1, 0]]


def test_sentences_iterable_matches_file(tmp_path):
    text = "the cat sat\non the mat\nthe end the cat\n"
    path = tmp_path / "c.txt"
    path.write_text(text)
    vocab_f, enc_f, _ = load_corpus(path, min_count=1)
    vocab_s, enc_s = encode_sentences([line.split() for line in text.splitlines()], min_count=1)
    with enc_f:
        assert vocab_f.words == vocab_s.words
        assert np.array_equal(all_tokens(enc_f), all_tokens(enc_s))
        assert np.array_equal(all_offsets(enc_f), all_offsets(enc_s))
    with pytest.raises(InputError):
        encode_sentences(["not", "token", "lists"])


def test_vocab_file_round_trip(tmp_path):
    vocab = Vocabulary(["the", "caf\u00e9", "x"], np.array([10, 4, 1]))
    vocab.save(tmp_path / "v.txt")
    assert (tmp_path / "v.txt").read_text(encoding="utf-8") == "the 10\ncaf\u00e9 4\nx 1\n"
    again = Vocabulary.load(tmp_path / "v.txt")
    assert again.words == vocab.words and again.counts.tolist() == [10, 4, 1]


def test_unreadable_file(tmp_path, monkeypatch):
    import os as os_module

    path = tmp_path / "c.txt"
    path.write_text("a b\n")
    monkeypatch.setattr(os_module, "access", lambda p, mode, **kw: False)
    with pytest.raises(InputError, match="c.txt: file is not readable"):
        load_corpus(path)
