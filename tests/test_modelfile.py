"""The native model file round-trips everything and refuses what it cannot read."""
import json
import zipfile

import numpy as np
import pytest

import fastw2v
from fastw2v.modelfile import ModelFileError


@pytest.mark.parametrize("options", [dict(negative=3, hs=True), dict(negative=0, softmax=True)])
def test_round_trip(tmp_path, options):
    sentences = [["the", "caf\u00e9", "x y"] * 4] * 30  # tokens are kept as given, spaces included
    model = fastw2v.train(sentences, min_count=1, dim=8, epochs=2, threads=1, quiet=True, **options)
    model.save(tmp_path / "m.npz")
    again = fastw2v.Word2Vec.load(tmp_path / "m.npz")
    assert again.config == model.config and again.vocab.words == model.vocab.words
    assert np.array_equal(again.vocab.counts, model.vocab.counts)
    for name in ("syn0", "syn1neg", "syn1", "syn1soft"):
        a, b = getattr(model, name), getattr(again, name)
        assert (a is None and b is None) or np.array_equal(a, b)
    assert [s.loss for s in again.history] == [s.loss for s in model.history]
    assert again.most_similar("the", topn=2) == model.most_similar("the", topn=2)


def test_refuses_other_files(tmp_path):
    (tmp_path / "text.txt").write_text("2 3\na 1 2 3\n")
    np.save(tmp_path / "array.npy", np.zeros(3))
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    for name, message in (("text.txt", "not an .npz archive"), ("array.npy", "not an .npz archive"),
                          ("other.npz", "no metadata"), ("missing.npz", "No such file")):
        with pytest.raises(ModelFileError, match=message):
            fastw2v.Word2Vec.load(tmp_path / name)


def test_refuses_newer_version(tmp_path):
    model = fastw2v.train([["a", "b"]] * 10, min_count=1, dim=4, epochs=1, threads=1, quiet=True)
    model.save(tmp_path / "m.npz")
    with zipfile.ZipFile(tmp_path / "m.npz") as z:
        members = {n: z.read(n) for n in z.namelist()}
    meta_npy = members["meta.npy"]
    header_end = meta_npy.index(b"\n") + 1
    meta = json.loads(meta_npy[header_end:].decode())
    meta["version"] = 99
    body = json.dumps(meta).encode()
    np.save(tmp_path / "meta.npy", np.frombuffer(body, dtype=np.uint8))
    members["meta.npy"] = (tmp_path / "meta.npy").read_bytes()
    with zipfile.ZipFile(tmp_path / "newer.npz", "w") as z:
        for n, b in members.items():
            z.writestr(n, b)
    with pytest.raises(ModelFileError, match="version 99 is newer"):
        fastw2v.Word2Vec.load(tmp_path / "newer.npz")
