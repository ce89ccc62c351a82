"""The native model file: everything needed to use a model or continue training it.

A numpy ``.npz`` archive (no pickles) holding a magic string and a format
version, the configuration as JSON, the vocabulary (UTF-8 words and counts),
the weight matrices that exist, the per-epoch history and, for checkpoints,
the position reached in the training schedule.  Readers refuse files with
another magic or a newer version instead of guessing.
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import asdict

import numpy as np

from .config import Config
from .files import output_file
from .vocab import Vocabulary

MAGIC = "fastw2v-model"
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
            "history": [asdict(s) for s in model.history], "training_state": training_state}
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
    model = Word2Vec(config, vocab, weights["syn0"], weights["syn1neg"], weights["syn1"], weights["syn1soft"])
    model.history = [EpochStats(**s) for s in meta["history"]]
    return model, meta.get("training_state")
