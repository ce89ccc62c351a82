"""KeyedVectors and word2vec/GloVe vector files: byte layouts, round trips,
compatibility with gensim in both directions (including gensim's own test
files), damaged files, and the similarity queries."""
import gzip
import struct
import warnings
from pathlib import Path

import gensim
import numpy as np
import pytest
from gensim.models import KeyedVectors as GensimKV
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastw2v import vectors as vectors_module
from fastw2v.vectors import KeyedVectors, VectorFileError

GENSIM_DATA = Path(gensim.__file__).parent / "test" / "test_data"

WORDS = ["the", "naïve", "東京", "Ωμέγα", "emoji🙂", "a", "Zürich"] + [f"w{i}" for i in range(40)]


@pytest.fixture(params=["large", "tiny"])
def buffer_size(request, monkeypatch):
    """Run a test with the usual read buffer, and with one of 8 bytes, so that
    files are read in many pieces (and big-file code paths run)."""
    if request.param == "tiny":
        monkeypatch.setattr(vectors_module, "BUFFER_BYTES", 8)
    return request.param


@pytest.fixture
def kv():
    vectors = np.random.default_rng(0).standard_normal((len(WORDS), 7)).astype(np.float32)
    return KeyedVectors(WORDS, vectors)


def load(path, **kw) -> KeyedVectors:
    return KeyedVectors.load_word2vec_format(path, **kw)


def assert_same(a: KeyedVectors, b, exact=True):
    assert a.index_to_key == list(b.index_to_key)
    assert a.vectors.shape == b.vectors.shape
    if exact:
        np.testing.assert_array_equal(a.vectors, b.vectors)
    else:
        np.testing.assert_allclose(a.vectors, b.vectors, rtol=1e-7, atol=5e-7)  # "%f" and float32 rounding


def gensim_kv(words, vectors) -> GensimKV:
    g = GensimKV(vectors.shape[1])
    g.add_vectors(words, vectors)
    return g


# ---------------------------------------------------------------- layouts


def test_binary_layout_is_the_c_tools(tmp_path):
    KeyedVectors(["a", "é"], np.array([[1.5, -2], [0, 0.25]], np.float32)) \
        .save_word2vec_format(tmp_path / "v", binary=True)
    expected = b"2 2\na " + struct.pack("<2f", 1.5, -2) + b"\n\xc3\xa9 " + struct.pack("<2f", 0, 0.25) + b"\n"
    assert (tmp_path / "v").read_bytes() == expected


def test_text_layout_is_the_c_tools(tmp_path):
    kv = KeyedVectors(["a", "é"], np.array([[1.5, -2], [-0.0, 1 / 3]], np.float32))
    kv.save_word2vec_format(tmp_path / "v", binary=False)
    assert (tmp_path / "v").read_bytes() == "2 2\na 1.500000 -2.000000 \né -0.000000 0.333333 \n".encode()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.floats(width=32) | st.sampled_from([1 / 128, 3 / 128, -0.0, 2.0**42, 1e-45, 0.5e-6]),
                       min_size=6, max_size=6), rows=st.integers(1, 3))
def test_text_values_are_printed_as_printf_does(tmp_path, values, rows):
    """The numba formatter of the default layout (and Python, for values it
    leaves: infinities, nan, 2**42 and beyond) print what C's "%f" prints."""
    vectors = np.array([values] * rows, np.float32)
    vectors[-1, 0] = 0.25
    words = [f"r{i}" for i in range(rows)]
    KeyedVectors(words, vectors).save_word2vec_format(tmp_path / "v.txt", binary=False)
    lines = [f"{w} " + "".join("%f " % v for v in row) + "\n" for w, row in zip(words, vectors.tolist())]
    assert (tmp_path / "v.txt").read_text() == f"{rows} 6\n" + "".join(lines)


def test_text_precision_options(tmp_path, kv):
    one = KeyedVectors(["x"], np.array([[np.float32(0.1), 1234.5678]], np.float32))
    one.save_word2vec_format(tmp_path / "p3", binary=False, precision=3)
    assert (tmp_path / "p3").read_bytes() == b"1 2\nx 0.1 1.23e+03 \n"
    one.save_word2vec_format(tmp_path / "exact", binary=False, precision="exact")
    assert (tmp_path / "exact").read_bytes() == b"1 2\nx 0.100000001 1234.56775 \n"
    for bad in (0, -1, "fast", 2.5, True):
        with pytest.raises(ValueError):
            kv.save_word2vec_format(tmp_path / "bad", binary=False, precision=bad)
    assert not (tmp_path / "bad").exists()


def test_glove_layout_has_no_header(tmp_path, kv):
    kv.save_word2vec_format(tmp_path / "g", binary=False, write_header=False)
    assert (tmp_path / "g").read_bytes().startswith("the ".encode())
    with pytest.raises(ValueError, match="binary"):
        kv.save_word2vec_format(tmp_path / "g", binary=True, write_header=False)


# ---------------------------------------------------------------- round trips


def test_binary_round_trip_is_exact(tmp_path, kv):
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    assert_same(load(tmp_path / "v.bin"), kv)
    assert_same(load(tmp_path / "v.bin", binary=True), kv)


def test_text_round_trip_to_six_decimals(tmp_path, kv):
    kv.save_word2vec_format(tmp_path / "v.txt", binary=False)
    assert_same(load(tmp_path / "v.txt"), kv, exact=False)
    assert_same(load(tmp_path / "v.txt", binary=False), kv, exact=False)


def test_text_round_trip_exact_precision(tmp_path, kv):
    kv.save_word2vec_format(tmp_path / "v.txt", binary=False, precision="exact")
    assert_same(load(tmp_path / "v.txt"), kv)
    wide = KeyedVectors(WORDS, np.random.default_rng(1).standard_normal((len(WORDS), 5)) * 1e-3)
    wide.save_word2vec_format(tmp_path / "w.txt", binary=False, precision="exact")
    assert_same(load(tmp_path / "w.txt", dtype=np.float64), wide)


def test_float64_output(tmp_path, kv):
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    loaded = load(tmp_path / "v.bin", dtype=np.float64)
    assert loaded.vectors.dtype == np.float64
    np.testing.assert_array_equal(loaded.vectors, kv.vectors.astype(np.float64))
    kv.save_word2vec_format(tmp_path / "v.txt", binary=False, precision="exact")
    assert load(tmp_path / "v.txt", dtype=np.float64).vectors.dtype == np.float64
    with pytest.raises(ValueError, match="dtype"):
        load(tmp_path / "v.bin", dtype=np.int32)


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
@pytest.mark.parametrize("binary", [True, False])
def test_compressed_files(tmp_path, kv, suffix, binary):
    path = tmp_path / f"v{suffix}"
    kv.save_word2vec_format(path, binary=binary, precision="exact")
    assert path.read_bytes()[:1] in (b"\x1f", b"B", b"\xfd")
    assert_same(load(path), kv)
    assert_same(load(path, limit=3), KeyedVectors(WORDS[:3], kv.vectors[:3]))


def test_limit(tmp_path, kv):
    for binary in (True, False):
        kv.save_word2vec_format(tmp_path / "v", binary=binary, precision="exact")
        assert_same(load(tmp_path / "v", limit=5), KeyedVectors(WORDS[:5], kv.vectors[:5]))
        assert_same(load(tmp_path / "v", limit=10**6), kv)
        empty = load(tmp_path / "v", limit=0)
        assert len(empty) == 0 and empty.vectors.shape == (0, 7)
        data = (tmp_path / "v").read_bytes()
        (tmp_path / "cut").write_bytes(data[: len(data) * 2 // 3])
        assert_same(load(tmp_path / "cut", limit=5), KeyedVectors(WORDS[:5], kv.vectors[:5]))
    with pytest.raises(ValueError, match="limit"):
        load(tmp_path / "v", limit=-1)


def test_records_split_across_many_buffer_refills(tmp_path, monkeypatch):
    """Tiny buffers exercise every resume point of the scanners, and long
    words the growth of the word buffer."""
    words = [f"{'long' * 30}-{i}-ü" for i in range(200)]
    kv = KeyedVectors(words, np.random.default_rng(2).standard_normal((200, 3)).astype(np.float32))
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    kv.save_word2vec_format(tmp_path / "v.txt", binary=False, precision="exact")
    monkeypatch.setattr(vectors_module, "BUFFER_BYTES", 8)
    for path in (tmp_path / "v.bin", tmp_path / "v.txt"):
        assert_same(load(path), kv)
        wide = load(path, dtype=np.float64, limit=150)
        assert_same(KeyedVectors(wide.index_to_key, wide.vectors.astype(np.float32)),
                    KeyedVectors(words[:150], kv.vectors[:150]))


def test_repeated_words_keep_their_first_vector(tmp_path):
    (tmp_path / "v").write_bytes(b"3 2\nx 1 2\ny 3 4\nx 5 6\n")
    with pytest.warns(UserWarning, match="1 repeated"):
        kv = load(tmp_path / "v")
    assert kv.index_to_key == ["x", "y"]
    np.testing.assert_array_equal(kv.vectors, [[1, 2], [3, 4]])
    assert kv.key_to_index == {"x": 0, "y": 1}


# ---------------------------------------------------------------- what other tools write


@pytest.mark.parametrize("binary", [True, False])
def test_gensim_reads_our_files(tmp_path, kv, binary):
    kv.save_word2vec_format(tmp_path / "v", binary=binary)
    theirs = GensimKV.load_word2vec_format(tmp_path / "v", binary=binary)
    assert_same(load(tmp_path / "v"), theirs)
    assert_same(kv, theirs, exact=binary)


@pytest.mark.parametrize("binary", [True, False])
def test_we_read_gensims_files(tmp_path, kv, binary):
    gensim_kv(WORDS, kv.vectors).save_word2vec_format(tmp_path / "g", binary=binary)
    theirs = GensimKV.load_word2vec_format(tmp_path / "g", binary=binary)
    assert_same(load(tmp_path / "g"), theirs)
    assert_same(load(tmp_path / "g", binary=binary), kv)


@pytest.mark.parametrize("name,binary,no_header,errors", [
    ("word2vec_pre_kv_c", False, False, "strict"),
    ("euclidean_vectors.bin", True, False, "strict"),
    ("poincare_vectors.bin", True, False, "strict"),
    ("high_precision.kv.bin", True, False, "strict"),
    ("high_precision.kv.txt", False, False, "strict"),
    ("test_glove.txt", False, True, "strict"),
    ("toy-model.vec", False, False, "strict"),
    ("lee_fasttext.vec", False, False, "strict"),
    ("crime-and-punishment.vec", False, False, "strict"),
    ("pang_lee_polarity_fasttext.vec", False, False, "replace"),  # words cut inside a character
    ("pang_lee_polarity_fasttext.vec", False, False, "ignore"),
    ("EN.1-10.cbow1_wind5_hs0_neg10_size300_smpl1e-05.txt", False, False, "strict"),
    ("IT.1-10.cbow1_wind5_hs0_neg10_size300_smpl1e-05.txt", False, False, "strict"),
])
def test_gensims_test_data_loads_as_gensim_loads_it(name, binary, no_header, errors):
    path = GENSIM_DATA / name
    for dtype in (np.float32, np.float64):
        theirs = GensimKV.load_word2vec_format(path, binary=binary, no_header=no_header, datatype=dtype,
                                               unicode_errors=errors)
        ours = load(path, dtype=dtype, unicode_errors=errors)  # format and header detected
        assert_same(ours, theirs)
        assert ours.vectors.dtype == dtype
        assert_same(load(path, binary=binary, no_header=no_header, dtype=dtype, unicode_errors=errors), theirs)


def test_gensims_broken_test_data_is_refused():
    with pytest.raises(VectorFileError, match=r"pang_lee_polarity_fasttext\.vec: line \d+: word .* not valid UTF-8"):
        load(GENSIM_DATA / "pang_lee_polarity_fasttext.vec")
    with pytest.raises(EOFError):  # its header declares 3 vectors, it holds 1
        GensimKV.load_word2vec_format(GENSIM_DATA / "pretrained.vec")
    with pytest.raises(VectorFileError, match=r"pretrained\.vec: line 3: file ends after 1 vectors, but its header declares 3"):
        load(GENSIM_DATA / "pretrained.vec")


def test_non_ascii_words_survive(tmp_path, kv):
    for binary in (True, False):
        kv.save_word2vec_format(tmp_path / "v", binary=binary)
        assert load(tmp_path / "v").index_to_key == WORDS
    assert "Ωμέγα" in load(tmp_path / "v")


def test_crlf_line_ends(tmp_path, kv):
    kv.save_word2vec_format(tmp_path / "v.txt", binary=False, precision="exact")
    (tmp_path / "crlf.txt").write_bytes((tmp_path / "v.txt").read_bytes().replace(b"\n", b"\r\n"))
    assert_same(load(tmp_path / "crlf.txt"), kv)
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    data = (tmp_path / "v.bin").read_bytes()
    (tmp_path / "crlf.bin").write_bytes(data.replace(b"\n", b"\r\n", 1))  # the header line only
    assert_same(load(tmp_path / "crlf.bin"), kv)


def test_spacing_variants(tmp_path):
    expected = KeyedVectors(["x", "y"], np.array([[1, -2.5], [3e-3, 4]], np.float32))
    for text in (b"2 2\nx 1 -2.5\ny 3e-3 4\n",  # gensim: no trailing space
                 b"2 2 \nx 1 -2.5 \ny 3e-3 4 \n",  # C tool: trailing spaces
                 b"2 2\n\nx\t1  -2.5\n  y 0.003 +4.0\n\n"):  # tabs, runs of spaces, blank lines
        (tmp_path / "v").write_bytes(text)
        assert_same(load(tmp_path / "v"), expected)


def test_binary_newlines_before_words(tmp_path, buffer_size):
    vec = struct.pack("<2f", 1, 2)
    expected = KeyedVectors(["x", "y"], np.array([[1, 2], [1, 2]], np.float32))
    for body in (b"x " + vec + b"y " + vec,  # gensim: no newline
                 b"x " + vec + b"\ny " + vec + b"\n",  # C tool
                 b"\nx " + vec + b"\n\ny " + vec + b"\n\n"):  # extra newlines
        (tmp_path / "v").write_bytes(b"2 2\n" + body)
        assert_same(load(tmp_path / "v"), expected)
        assert_same(load(tmp_path / "v", dtype=np.float64), expected)


def test_glove_files_are_detected(tmp_path, kv):
    kv.save_word2vec_format(tmp_path / "g.txt", binary=False, write_header=False, precision="exact")
    assert_same(load(tmp_path / "g.txt"), kv)
    assert_same(load(tmp_path / "g.txt", no_header=True), kv)
    assert_same(load(tmp_path / "g.txt", no_header=True, limit=4), KeyedVectors(WORDS[:4], kv.vectors[:4]))
    with pytest.raises(VectorFileError, match=r"g\.txt: line 1: expected a header"):
        load(tmp_path / "g.txt", no_header=False)
    with pytest.raises(ValueError, match="text"):
        load(tmp_path / "g.txt", no_header=True, binary=True)


# ---------------------------------------------------------------- unicode


def test_word_cut_inside_a_character(tmp_path):
    vec = struct.pack("<2f", 1, 2)
    (tmp_path / "v.bin").write_bytes(b"2 2\nok " + vec + b"\ncaf\xc3 " + vec + b"\n")
    with pytest.raises(VectorFileError, match=r"v\.bin: byte 19: word b'caf\\xc3' is not valid UTF-8"):
        load(tmp_path / "v.bin")
    assert load(tmp_path / "v.bin", unicode_errors="replace").index_to_key == ["ok", "caf\ufffd"]
    assert load(tmp_path / "v.bin", unicode_errors="ignore").index_to_key == ["ok", "caf"]
    (tmp_path / "v.txt").write_bytes(b"2 2\nok 1 2\ncaf\xc3 1 2\n")
    with pytest.raises(VectorFileError, match=r"v\.txt: line 3: .*not valid UTF-8"):
        load(tmp_path / "v.txt")
    assert load(tmp_path / "v.txt", unicode_errors="replace").index_to_key == ["ok", "caf\ufffd"]
    with pytest.raises(ValueError, match="unicode_errors"):
        load(tmp_path / "v.txt", unicode_errors="surrogateescape")


# ---------------------------------------------------------------- damaged files


def test_truncated_binary_names_the_offset(tmp_path, buffer_size, kv):
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    data = (tmp_path / "v.bin").read_bytes()
    third = data.index(b"\n\xe6\x9d\xb1") + 1  # start of the record of 東京
    (tmp_path / "cut.bin").write_bytes(data[: third + 10])
    for dtype in (np.float32, np.float64):
        with pytest.raises(VectorFileError, match=r"cut\.bin: byte \d+: file ends"):
            load(tmp_path / "cut.bin", dtype=dtype)
    with gzip.open(tmp_path / "cut.bin.gz", "wb") as f:
        f.write(data[: third + 10])
    with pytest.raises(VectorFileError, match=rf"cut\.bin\.gz: byte {third - 1}: file ends inside vector 3 of the 47"):
        load(tmp_path / "cut.bin.gz")


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
def test_damaged_compressed_files(tmp_path, kv, suffix):
    kv.save_word2vec_format(tmp_path / f"v{suffix}", binary=True)
    data = (tmp_path / f"v{suffix}").read_bytes()
    (tmp_path / f"cut{suffix}").write_bytes(data[: len(data) // 2])
    with pytest.raises(VectorFileError, match=rf"cut\{suffix}: byte \d+: "):
        load(tmp_path / f"cut{suffix}")
    (tmp_path / f"bad{suffix}").write_bytes(data[:20] + bytes(len(data) - 20))
    with pytest.raises(VectorFileError, match=rf"bad\{suffix}: byte \d+: "):
        load(tmp_path / f"bad{suffix}")


def test_header_disagreeing_with_the_body(tmp_path, buffer_size):
    vec = struct.pack("<2f", 1, 2)
    (tmp_path / "more.bin").write_bytes(b"1 2\nx " + vec + b"\ny " + vec + b"\n")
    with pytest.raises(VectorFileError, match=r"more\.bin: byte 15: more data after the 1 vectors"):
        load(tmp_path / "more.bin")
    (tmp_path / "fewer.bin").write_bytes(b"3 2\nx " + vec + b"\ny " + vec + b"\n")
    with pytest.raises(VectorFileError, match=r"fewer\.bin: byte \d+: file ends"):
        load(tmp_path / "fewer.bin")
    (tmp_path / "more.txt").write_bytes(b"1 2\nx 1 2\ny 1 2\n")
    with pytest.raises(VectorFileError, match=r"more\.txt: line 3: more data after the 1 vectors"):
        load(tmp_path / "more.txt")
    (tmp_path / "fewer.txt").write_bytes(b"3 2\nx 1 2\ny 1 2\n" + b" " * 40)
    with pytest.raises(VectorFileError, match=r"fewer\.txt: line 4: file ends after 2 vectors, but its header declares 3"):
        load(tmp_path / "fewer.txt")
    (tmp_path / "huge.bin").write_bytes(b"99999999999999999999 300\nx " + vec)
    with pytest.raises(VectorFileError, match=r"huge\.bin: byte \d+: file ends before"):
        load(tmp_path / "huge.bin")


@pytest.mark.parametrize("text,message", [
    (b"2 3\nx 1 2 3\ny 1 oops 3\n", r"line 3: value 2 is not a number: b'oops'"),
    (b"2 3\nx 1 2 3\ny 1 2\n", r"line 3: expected a word and 3 numbers, found 2"),
    (b"2 3\nx 1 2 3\ny 1 2 3 4\n", r"line 3: expected a word and 3 numbers, found 4"),
    (b"2 3\nx 1 2 3\ny 1 2 3", r"line 3: last line has no newline"),
    (b"2 3\nx 1 2 3\ny 1 2 3e\n", r"line 3: value 3 is not a number"),
    (b"x 1 2\ny 1 2 3\n", r"line 2: expected a word and 2 numbers, found 3"),
    (b"2 x\nx 1 2\n", r"line 1: expected a header"),
    (b"2 0\n", r"line 1: header declares dimension 0"),
    (b"-2 3\nx 1 2 3\ny 1 2 3\n", r"line 1: header b'-2 3' declares a negative size"),
    (b"", r"line 1: no header and no vectors"),
    (b"word\n", r"line 1: expected a word followed by numbers"),
])
def test_malformed_text(tmp_path, text, message):
    (tmp_path / "bad.txt").write_bytes(text)
    with pytest.raises(VectorFileError, match=r"bad\.txt: " + message):
        load(tmp_path / "bad.txt", no_header=False if text.startswith(b"2 x") else None)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.bin")


def _sample(binary):
    words = [f"{w}{i}" for i, w in enumerate(["alpha", "βeta", "gamma", "δelta", "eps"])]
    vectors = np.random.default_rng(3).standard_normal((5, 4)).astype(np.float32)
    return KeyedVectors(words, vectors)


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    """Bytes of a small file in each format, and the vectors they hold."""
    directory = tmp_path_factory.mktemp("samples")
    kv = _sample(True)
    out = {}
    for name, kw in {"bin": {"binary": True}, "txt": {"binary": False, "precision": "exact"},
                     "glove": {"binary": False, "precision": "exact", "write_header": False}}.items():
        kv.save_word2vec_format(directory / name, **kw)
        out[name] = (directory / name).read_bytes()
    return kv, out


def _load_bytes(tmp_path, data, **kw):
    path = tmp_path / "sample"
    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load(path, **kw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fmt=st.sampled_from(["bin", "txt"]), cut=st.integers(0, 10**6), dtype=st.sampled_from([np.float32, np.float64]))
def test_truncation_gives_the_vectors_or_an_error(tmp_path, samples, fmt, cut, dtype):
    kv, files = samples
    data = files[fmt]
    cut %= len(data)
    try:
        loaded = _load_bytes(tmp_path, data[:cut], dtype=dtype)
    except VectorFileError as e:
        assert "sample" in str(e) and ("byte" in str(e) or "line" in str(e))
        return
    assert_same(loaded, kv)  # only the final newline was cut


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fmt=st.sampled_from(["bin", "txt", "glove"]), where=st.integers(0, 10**6), byte=st.integers(0, 255),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_corruption_gives_consistent_vectors_or_an_error(tmp_path, samples, fmt, where, byte, dtype):
    _, files = samples
    data = bytearray(files[fmt])
    data[where % len(data)] = byte
    try:
        loaded = _load_bytes(tmp_path, bytes(data), dtype=dtype)
    except VectorFileError as e:
        assert "sample" in str(e)
        return
    header = vectors_module._parse_header(bytes(data).split(b"\n")[0])
    rows, dim = header if header else (len(bytes(data).split()) // 5, 4)
    assert loaded.vectors.shape == (len(loaded.index_to_key), dim)
    assert len(loaded.key_to_index) == len(loaded) <= rows
    assert loaded.vectors.dtype == dtype


# ---------------------------------------------------------------- writing


def test_unwritable_words_are_refused(tmp_path):
    for words, binary in ((["a b"], True), (["a\nb"], True), (["a\tb"], False), ([""], True)):
        kv = KeyedVectors(words, np.zeros((1, 2), np.float32))
        with pytest.raises(ValueError, match="cannot write"):
            kv.save_word2vec_format(tmp_path / "v", binary=binary)
    assert not (tmp_path / "v").exists()
    KeyedVectors(["a\tb"], np.ones((1, 2), np.float32)).save_word2vec_format(tmp_path / "v", binary=True)  # fine
    assert load(tmp_path / "v").index_to_key == ["a\tb"]


def test_failed_write_keeps_the_old_file(tmp_path, kv):
    kv.save_word2vec_format(tmp_path / "v", binary=True)
    before = (tmp_path / "v").read_bytes()
    with pytest.raises(UnicodeEncodeError):
        KeyedVectors(["ok", "\ud800"], np.zeros((2, 2), np.float32)).save_word2vec_format(tmp_path / "v",
                                                                                         binary=True)
    assert (tmp_path / "v").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["v"]


# ---------------------------------------------------------------- the object


def test_mapping_interface(kv):
    assert len(kv) == len(WORDS) and kv.vector_size == 7 and kv.counts is None
    assert "東京" in kv and "nope" not in kv
    assert kv.get_index("東京") == 2 and kv.key_to_index["the"] == 0
    assert kv.get_index("nope", default=-1) == -1
    with pytest.raises(KeyError, match="word 'nope' not in vocabulary"):
        kv.get_index("nope")
    with pytest.raises(KeyError, match="nope"):
        kv["nope"]
    np.testing.assert_array_equal(kv["a"], kv.vectors[5])
    with pytest.raises(ValueError):
        kv["a"][0] = 1  # read-only view
    np.testing.assert_array_equal(kv[["a", "the"]], kv.vectors[[5, 0]])
    assert "47 words x 7" in repr(kv)


def test_constructor_checks(kv):
    with pytest.raises(ValueError, match="more than once"):
        KeyedVectors(["a", "b", "a"], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="shape"):
        KeyedVectors(["a", "b"], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="counts"):
        KeyedVectors(["a", "b"], np.zeros((2, 2)), counts=[1])
    with_counts = KeyedVectors(["a", "b"], np.zeros((2, 2)), counts=[5, 3])
    assert with_counts.counts.tolist() == [5, 3]
    assert KeyedVectors(["a"], [[1, 2]]).vectors.dtype == np.float32
    with pytest.raises(ValueError, match="shape"):
        kv.vectors = np.zeros((3, 7))


def test_normed_vectors_are_cached_and_refreshed(kv):
    normed = kv.get_normed_vectors()
    assert normed is kv.get_normed_vectors()
    np.testing.assert_allclose(np.linalg.norm(normed, axis=1), 1, rtol=1e-6)
    replaced = kv.vectors * 2
    replaced[3] = 0
    kv.vectors = replaced
    fresh = kv.get_normed_vectors()
    assert fresh is not normed and not np.isnan(fresh).any()
    np.testing.assert_array_equal(fresh[3], 0)
    np.testing.assert_allclose(fresh[4], normed[4], rtol=1e-6)
    assert kv.similarity("Ωμέγα", "the") == 0.0
    assert all(np.isfinite(s) for _, s in kv.most_similar("Ωμέγα"))
    with pytest.raises(ValueError):
        fresh[0, 0] = 1


def _brute_force(kv, query, exclude, topn):
    normed = kv.vectors / np.linalg.norm(kv.vectors, axis=1, keepdims=True)
    sims = normed @ (query / np.linalg.norm(query))
    order = [i for i in np.argsort(-sims) if i not in exclude][:topn]
    return [kv.index_to_key[i] for i in order], sims[order]


def test_most_similar_matches_brute_force(kv):
    normed = kv.vectors / np.linalg.norm(kv.vectors, axis=1, keepdims=True)
    res = kv.most_similar(positive=["a", "the"], negative=["東京"], topn=6)
    words, sims = _brute_force(kv, normed[5] + normed[0] - normed[2], {0, 2, 5}, 6)
    assert [w for w, _ in res] == words
    np.testing.assert_allclose([s for _, s in res], sims, rtol=1e-5)
    assert kv.most_similar("a", topn=3) == kv.most_similar(positive=["a"], topn=3)
    assert "a" not in [w for w, _ in kv.most_similar("a", topn=len(kv))]
    assert len(kv.most_similar("a", topn=len(kv))) == len(kv) - 1
    restricted = kv.most_similar("a", topn=50, restrict_vocab=10)
    assert {w for w, _ in restricted} == set(WORDS[:10]) - {"a"}
    assert kv.most_similar("a", topn=0) == []
    everything = kv.most_similar("a", topn=None)
    assert everything.shape == (len(kv),) and everything[5] == pytest.approx(1)


def test_most_similar_accepts_vectors_and_weights(kv):
    normed = kv.get_normed_vectors()
    by_vector = kv.most_similar(positive=[normed[5] + normed[0]], topn=5)
    words, _ = _brute_force(kv, normed[5] + normed[0], set(), 5)
    assert [w for w, _ in by_vector] == words  # raw vectors exclude nothing
    assert [w for w, _ in kv.most_similar(normed[5], topn=1)] == ["a"]
    weighted = kv.most_similar(positive=[("a", 2.0), "the"], topn=5)
    words, _ = _brute_force(kv, 2 * normed[5] + normed[0], {0, 5}, 5)
    assert [w for w, _ in weighted] == words
    with pytest.raises(KeyError, match="word 'nope' not in vocabulary"):
        kv.most_similar(positive=["a", "nope"])
    with pytest.raises(ValueError, match="no input"):
        kv.most_similar()
    with pytest.raises(ValueError, match="shape"):
        kv.most_similar(positive=[np.ones(3)])


def test_batch_queries_match_single_ones(kv):
    queries = ["a", ["the", "東京"], "w7"]
    batch = kv.most_similar_batch(queries, topn=4)
    for q, got in zip(queries, batch):
        want = kv.most_similar(positive=[q] if isinstance(q, str) else q, topn=4)
        assert [w for w, _ in got] == [w for w, _ in want]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=1e-5)
    matrix = kv.vectors[[5, 0]]
    by_rows = kv.most_similar_batch(matrix, topn=3)
    assert [r[0][0] for r in by_rows] == ["a", "the"]
    skipped = kv.most_similar_batch(matrix, topn=3, exclude=[["a"], []])
    assert skipped[0][0][0] != "a" and skipped[1][0][0] == "the"
    with pytest.raises(KeyError):
        kv.most_similar_batch(["a", "nope"])
    with pytest.raises(ValueError):
        kv.most_similar_batch(np.ones((2, 3)))


def test_queries_agree_with_gensim(tmp_path, kv):
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    g = GensimKV.load_word2vec_format(tmp_path / "v.bin", binary=True)
    for pos, neg in ((["a"], []), (["a", "the"], ["東京"]), (["w1", "w2", "w3"], ["w4", "w5"])):
        for ours, theirs in ((kv.most_similar(pos, neg, topn=8), g.most_similar(pos, neg, topn=8)),
                             (kv.most_similar_cosmul(pos, neg, topn=8), g.most_similar_cosmul(pos, neg, topn=8)),
                             (kv.most_similar(pos, neg, topn=8, restrict_vocab=20),
                              g.most_similar(pos, neg, topn=8, restrict_vocab=20))):
            assert [w for w, _ in ours] == [w for w, _ in theirs]
            np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5)
    vector = kv.vectors[3] - kv.vectors[9]
    assert [w for w, _ in kv.most_similar([vector])] == [w for w, _ in g.most_similar([vector])]
    assert kv.similarity("a", "東京") == pytest.approx(float(g.similarity("a", "東京")), abs=1e-6)
    for words in (["a", "the", "東京", "w3"], WORDS[10:20]):
        assert kv.doesnt_match(words) == g.doesnt_match(words)


def test_cosmul_details(kv):
    with pytest.raises(ValueError, match="positive"):
        kv.most_similar_cosmul(negative=["a"])
    scores = kv.most_similar_cosmul(["a", "the"], ["w1"], topn=None)
    normed = kv.get_normed_vectors()
    cos = normed @ normed[[5, 0, 8]].T
    want = (1 + cos[:, 0]) / 2 * (1 + cos[:, 1]) / 2 / ((1 + cos[:, 2]) / 2 + 1e-6)
    np.testing.assert_allclose(scores, want, rtol=1e-5)
    top = kv.most_similar_cosmul(["a", "the"], ["w1"], topn=3, restrict_vocab=12)
    assert all(kv.get_index(w) < 12 and w not in ("a", "the", "w1") for w, _ in top)


def test_doesnt_match_and_unknown_words(kv):
    vectors = np.array([[1, 0], [0.9, 0.1], [0.95, 0], [0, 1]], np.float32)
    small = KeyedVectors(["a", "b", "c", "odd"], vectors)
    assert small.doesnt_match(["a", "odd", "b", "c"]) == "odd"
    with pytest.warns(UserWarning, match="zzz"):  # gensim leaves unknown words out, with a warning
        assert small.doesnt_match(["a", "odd", "zzz", "b"]) == "odd"
    with pytest.raises(ValueError), pytest.warns(UserWarning):
        small.doesnt_match(["zzz"])
    with pytest.raises(ValueError):
        small.doesnt_match([])
    with pytest.raises(KeyError, match="zzz"):
        small.similarity("a", "zzz")


# ---------------------------------------------------------------- gensim's methods, against gensim


@pytest.fixture
def pair_with_counts(kv):
    """Our vectors with counts, and gensim's KeyedVectors of the same words, vectors and counts."""
    counts = np.arange(len(WORDS), 0, -1) * 3
    ours = KeyedVectors(WORDS, kv.vectors.copy(), counts)
    g = gensim_kv(WORDS, kv.vectors.copy())
    for word, count in zip(WORDS, counts.tolist()):
        g.set_vecattr(word, "count", count)
    return ours, g


def _same_list(ours, theirs):
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-6, atol=1e-7)


def test_similarity_queries_agree_with_gensim(pair_with_counts):
    ours, g = pair_with_counts
    vector = ours.vectors[3] - 0.5 * ours.vectors[9]
    _same_list(ours.similar_by_word("a", topn=6), g.similar_by_word("a", topn=6))
    _same_list(ours.similar_by_key("東京", topn=6, restrict_vocab=20), g.similar_by_key("東京", topn=6, restrict_vocab=20))
    _same_list(ours.similar_by_vector(vector, topn=6), g.similar_by_vector(vector, topn=6))
    _same_list(ours.most_similar(positive=[5, "the"], negative=[2], topn=6),
               g.most_similar(positive=[5, "the"], negative=[2], topn=6))  # row numbers as keys
    for ws1, ws2 in ((["a", "the"], ["東京"]), (WORDS[5:12], WORDS[20:23]), (["a", "nope"], ["w1", "w2", "zzz"])):
        assert ours.n_similarity(ws1, ws2) == pytest.approx(float(g.n_similarity(ws1, ws2)), rel=1e-6)
    with pytest.raises(ZeroDivisionError):
        ours.n_similarity([], ["a"])
    assert ours.distance("a", "Zürich") == pytest.approx(float(g.distance("a", "Zürich")), rel=1e-6)
    for args in (("a",), ("a", ["the", "w3", "東京"]), (vector,), (vector, ["w7", "a"])):
        np.testing.assert_allclose(ours.distances(*args), g.distances(*args), rtol=1e-6, atol=1e-6)
    for w1, w2 in (("a", "the"), ("東京", "w39"), ("w5", "w6"), ("Zürich", "naïve")):
        assert ours.rank(w1, w2) == g.rank(w1, w2)
        assert ours.closer_than(w1, w2) == g.closer_than(w1, w2)
    for words in (["a", "the", "東京", "w3"], ["w1", "nope", "w2", "w30", "w31"]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert ours.doesnt_match(words) == g.doesnt_match(words)


def test_keys_indexes_norms_and_counts_agree_with_gensim(pair_with_counts):
    ours, g = pair_with_counts
    for key in ("a", "nope", 0, 5, len(WORDS) - 1, len(WORDS), -1, np.int64(3)):
        assert ours.has_index_for(key) == g.has_index_for(key) and (key in ours) == (key in g)
    np.testing.assert_array_equal(ours[0], g[0])
    np.testing.assert_array_equal(ours[[0, "a", 7]], g[[0, "a", 7]])
    np.testing.assert_array_equal(ours.get_vector(4, norm=True), g.get_vector(4, norm=True))
    assert ours.get_index("東京") == g.get_index("東京") and ours.get_index(9) == 9
    assert ours.get_index("nope", -1) == -1
    ours.fill_norms()
    g.fill_norms()
    np.testing.assert_allclose(ours.norms, g.norms, rtol=1e-6)
    assert [ours.get_vecattr(w, "count") for w in WORDS] == [g.get_vecattr(w, "count") for w in WORDS]
    ours.set_vecattr("a", "count", 1000)
    assert ours.get_vecattr("a", "count") == 1000 == ours.counts[5]
    with pytest.raises(KeyError, match="only the 'count'"):
        ours.get_vecattr("a", "sample_int")
    with pytest.raises(KeyError, match="no counts"):
        KeyedVectors(["x"], np.ones((1, 2))).get_vecattr("x", "count")


@pytest.mark.parametrize("options", [{}, {"pre_normalize": False}, {"post_normalize": True},
                                     {"weights": [2.0, -1.0, 0.5, 1.0]}, {"ignore_missing": False}])
def test_mean_vector_agrees_with_gensim(pair_with_counts, options):
    ours, g = pair_with_counts
    keys = ["a", 3, ours.vectors[9] * 2, "w5"]
    np.testing.assert_allclose(ours.get_mean_vector(keys, **options), g.get_mean_vector(keys, **options),
                               rtol=1e-5, atol=1e-6)
    with_missing = ["a", "nope", "w5"]
    if options.get("ignore_missing", True):
        np.testing.assert_allclose(ours.get_mean_vector(with_missing, **{**options, "weights": None}),
                                   g.get_mean_vector(with_missing, **{**options, "weights": None}), rtol=1e-5)
    else:
        with pytest.raises(KeyError, match="nope"):
            ours.get_mean_vector(with_missing, **options)
    with pytest.raises(ValueError, match="no input"):
        ours.get_mean_vector([])


def test_add_vectors_agrees_with_gensim(pair_with_counts):
    ours, g = pair_with_counts
    normed = ours.get_normed_vectors()
    rows = np.random.default_rng(3).standard_normal((3, 7)).astype(np.float32)
    for kv in (ours, g):
        kv.add_vectors(["new1", "a", "new2"], rows)             # "a" kept
        kv.add_vectors(["a", "w1"], rows[:2], replace=True)     # replaced
        kv["new3"] = rows[2]
    assert ours.index_to_key == g.index_to_key and ours.key_to_index == g.key_to_index
    np.testing.assert_array_equal(ours.vectors, g.vectors)
    assert ours.get_normed_vectors() is not normed  # caches follow the new vectors
    _same_list(ours.most_similar("new1", topn=5), g.most_similar("new1", topn=5))
    assert ours.counts[-3:].tolist() == [0, 0, 0]
    assert ours.add_vector("new4", rows[0]) == len(ours) - 1
    with pytest.raises(ValueError, match="shape"):
        ours.add_vectors(["x", "y"], rows)
    with pytest.raises(ValueError, match="more than once"):
        ours.add_vectors(["x", "x"], rows[:2])


def test_to_and_from_gensim(pair_with_counts, tmp_path):
    ours, g = pair_with_counts
    theirs = ours.to_gensim()
    assert isinstance(theirs, GensimKV) and theirs.index_to_key == ours.index_to_key
    assert theirs.vectors is ours.vectors  # shared, not copied
    assert [theirs.get_vecattr(w, "count") for w in WORDS] == ours.counts.tolist()
    _same_list(theirs.most_similar("a", topn=5), ours.most_similar("a", topn=5))
    back = KeyedVectors.from_gensim(g)
    assert back.index_to_key == WORDS and back.counts.tolist() == ours.counts.tolist()
    np.testing.assert_array_equal(back.vectors, g.vectors)
    no_counts = KeyedVectors.from_gensim(gensim_kv(WORDS, ours.vectors))
    assert no_counts.counts is None and no_counts.to_gensim().expandos == {}
    model = gensim.models.Word2Vec([["a", "b", "a"]] * 5, vector_size=4, min_count=1, workers=1)
    from_model = KeyedVectors.from_gensim(model)  # a model stands for its .wv
    assert from_model.index_to_key == ["a", "b"] and from_model.counts.tolist() == [10, 5]


def test_native_save_and_load(pair_with_counts, tmp_path):
    ours, g = pair_with_counts
    ours.save(tmp_path / "v.kv")
    again = KeyedVectors.load(tmp_path / "v.kv")
    assert_same(again, ours)
    assert again.counts.tolist() == ours.counts.tolist()
    mapped = KeyedVectors.load(tmp_path / "v.kv", mmap="r")
    assert isinstance(mapped.vectors.base, np.memmap) and not mapped.vectors.flags.writeable
    assert_same(mapped, ours)
    _same_list(mapped.most_similar("a"), ours.most_similar("a"))
    KeyedVectors(["x"], np.ones((1, 2))).save(tmp_path / "nocounts.kv")
    assert KeyedVectors.load(tmp_path / "nocounts.kv").counts is None
    g.save(str(tmp_path / "gensim.kv"))  # a pickle
    with pytest.raises(ValueError, match="gensim's KeyedVectors.save writes pickles"):
        KeyedVectors.load(tmp_path / "gensim.kv")
    with pytest.raises(ValueError, match="mmap"):
        KeyedVectors.load(tmp_path / "v.kv", mmap="r+")


def test_word2vec_files_with_gensims_defaults_and_fvocab(pair_with_counts, tmp_path):
    ours, g = pair_with_counts
    ours.save_word2vec_format(tmp_path / "v.txt", fvocab=tmp_path / "vocab.txt")  # text, as gensim's default
    assert (tmp_path / "v.txt").read_bytes().startswith(f"{len(WORDS)} 7\nthe ".encode())
    theirs = GensimKV.load_word2vec_format(str(tmp_path / "v.txt"), fvocab=str(tmp_path / "vocab.txt"))
    assert [theirs.get_vecattr(w, "count") for w in WORDS] == ours.counts.tolist()
    g.save_word2vec_format(str(tmp_path / "g.bin"), fvocab=str(tmp_path / "g.vocab"), binary=True)
    loaded = KeyedVectors.load_word2vec_format(tmp_path / "g.bin", tmp_path / "g.vocab", True, datatype=np.float64)
    assert loaded.vectors.dtype == np.float64
    assert {w: loaded.get_vecattr(w, "count") for w in WORDS} == {w: g.get_vecattr(w, "count") for w in WORDS}
    with pytest.raises(TypeError, match="not both"):
        KeyedVectors.load_word2vec_format(tmp_path / "g.bin", dtype=np.float64, datatype=np.float64)
    with pytest.raises(ValueError, match="no counts"):
        KeyedVectors(["x"], np.ones((1, 2))).save_word2vec_format(tmp_path / "x.txt", fvocab=tmp_path / "x.vocab")
