"""The native model and vectors files.

A model file holds everything needed to use a model or continue training
it: a numpy ``.npz`` archive (no pickles) holding a magic string and a format
version, the configuration as JSON, the vocabulary (UTF-8 words and counts),
the weight matrices that exist, the per-epoch history, the corpus sizes
gensim reports (``corpus_count``, ``corpus_total_words``) and, for
checkpoints, the position reached in the training schedule.  A vectors file
(``KeyedVectors.save``) is the same kind of archive with the words, their
vectors and counts.  Readers refuse files with another magic or a newer
version instead of guessing.  Archives are stored uncompressed, so the
vectors of a vectors file can be memory-mapped where they lie.
"""
from __future__ import annotations

import json
import struct
import zipfile
from dataclasses import asdict

import numpy as np

from .config import Config
from .files import output_file
from .vocab import Vocabulary

MAGIC = "fastw2v-model"
VECTORS_MAGIC = "fastw2v-vectors"
VERSION = 1
WEIGHTS = ("syn0", "syn1neg", "syn1", "syn1soft")


class ModelFileError(ValueError):
    """A file that is not a readable fastw2v model."""


def _pack_words(words) -> tuple[np.ndarray, np.ndarray]:
    encoded = [w.encode("utf-8") for w in words]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def _unpack_words(blob: np.ndarray, offsets: np.ndarray) -> list[str]:
    data = blob.tobytes()
    return [data[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]


def save_model(model, path, training_state: dict | None = None, outputs=None) -> None:
    """Write `model` (a Word2Vec) atomically (or staged in `outputs`, a
    files.OutputSet); `training_state` marks a checkpoint."""
    blob, offsets = _pack_words(model.vocab.words)
    meta = {"magic": MAGIC, "version": VERSION, "config": model.config.to_dict(),
            "history": [asdict(s) for s in model.history], "training_state": training_state,
            "corpus_count": model.corpus_count, "corpus_total_words": model.corpus_total_words}
    arrays = {"meta": np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
              "words": blob, "word_offsets": offsets, "counts": model.vocab.counts}
    for name in WEIGHTS:
        value = getattr(model, name)
        if value is not None:
            arrays[name] = value
    with output_file(path, outputs) as f:
        np.savez(f, **arrays)


def load_model(path):
    """Read a model file; returns (Word2Vec, training_state or None)."""
    from .train import EpochStats, Word2Vec

    try:
        with open(path, "rb") as f:
            if f.read(4) != b"PK\x03\x04":
                raise ModelFileError(f"{path}: not a fastw2v model file (not an .npz archive)")
        with np.load(path, allow_pickle=False) as data:
            if "meta" not in data:
                raise ModelFileError(f"{path}: not a fastw2v model file (no metadata)")
            meta = json.loads(data["meta"].tobytes().decode("utf-8"))
            if meta.get("magic") != MAGIC:
                raise ModelFileError(f"{path}: not a fastw2v model file")
            if meta.get("version", 0) > VERSION:
                raise ModelFileError(f"{path}: model format version {meta['version']} is newer than this "
                                     f"fastw2v reads ({VERSION}); upgrade fastw2v")
            words = _unpack_words(data["words"], data["word_offsets"])
            vocab = Vocabulary(words, data["counts"])
            weights = {name: (np.ascontiguousarray(data[name]) if name in data else None) for name in WEIGHTS}
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, UnicodeDecodeError) as e:
        if isinstance(e, ModelFileError):
            raise
        raise ModelFileError(f"{path}: not a readable fastw2v model file ({e})") from None
    config = Config(**meta["config"])
    model = Word2Vec.from_arrays(config, vocab, weights["syn0"], weights["syn1neg"], weights["syn1"],
                                 weights["syn1soft"])
    model.history = [EpochStats(**s) for s in meta["history"]]
    model.corpus_count = meta.get("corpus_count")
    model.corpus_total_words = meta.get("corpus_total_words")
    return model, meta.get("training_state")


def save_vectors(kv, path, outputs=None) -> None:
    """Write a KeyedVectors (words, vectors, counts if known) atomically (or
    staged in `outputs`, a files.OutputSet)."""
    blob, offsets = _pack_words(kv.index_to_key)
    meta = {"magic": VECTORS_MAGIC, "version": VERSION}
    arrays = {"meta": np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
              "words": blob, "word_offsets": offsets, "vectors": np.ascontiguousarray(kv.vectors)}
    if kv.counts is not None:
        arrays["counts"] = kv.counts
    with output_file(path, outputs) as f:
        np.savez(f, **arrays)


def _mapped_member(path, name):
    """A read-only memory map of array `name` of an uncompressed .npz archive."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name + ".npy")
    if info.compress_type != zipfile.ZIP_STORED:
        raise ModelFileError(f"{path}: {name} is compressed and cannot be memory-mapped")
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        local = f.read(30)
        name_length, extra_length = struct.unpack("<HH", local[26:30])
        f.seek(info.header_offset + 30 + name_length + extra_length)
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise ModelFileError(f"{path}: {name} is stored in .npy format {version}, which cannot be memory-mapped")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
            np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(f)
        offset = f.tell()
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C")


def load_vectors(path, mmap=None):
    """Read a vectors file; returns (words, vectors, counts or None).
    mmap='r' maps the vectors read-only instead of reading them."""
    if mmap not in (None, "r"):
        raise ValueError(f"mmap must be None or 'r' (the vectors file is opened read-only), not {mmap!r}")
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"PK\x03\x04":
                raise ModelFileError(f"{path}: not a fastw2v vectors file (not an .npz archive; "
                                     f"gensim's KeyedVectors.save writes pickles: load those with gensim and "
                                     f"convert with KeyedVectors.from_gensim)")
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes().decode("utf-8")) if "meta" in data else {}
            if meta.get("magic") != VECTORS_MAGIC:
                what = "a fastw2v model file: load it with Word2Vec.load" if meta.get("magic") == MAGIC else \
                    "not a fastw2v vectors file"
                raise ModelFileError(f"{path}: {what}")
            if meta.get("version", 0) > VERSION:
                raise ModelFileError(f"{path}: vectors format version {meta['version']} is newer than this "
                                     f"fastw2v reads ({VERSION}); upgrade fastw2v")
            words = _unpack_words(data["words"], data["word_offsets"])
            counts = data["counts"] if "counts" in data else None
            vectors = _mapped_member(path, "vectors") if mmap else data["vectors"]
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, UnicodeDecodeError) as e:
        if isinstance(e, ModelFileError):
            raise
        raise ModelFileError(f"{path}: not a readable fastw2v vectors file ({e})") from None
    return words, vectors, counts
