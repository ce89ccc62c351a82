"""Shared fixtures: paths to the project's shared corpora and evaluation sets."""
import tarfile
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
EVAL = SHARED / "eval"


@pytest.fixture(scope="session")
def ptb_train(tmp_path_factory) -> Path:
    """ptb.train.txt unpacked from ../shared/corpora/ptb/ptb.tar.xz."""
    archive = SHARED / "corpora" / "ptb" / "ptb.tar.xz"
    if not archive.exists():
        pytest.fail(f"missing {archive}: the tests need the shared corpora next to the repository")
    out = tmp_path_factory.mktemp("ptb")
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("ptb.train.txt"))
        member.name = "ptb.train.txt"
        tar.extract(member, out, filter="data")
    return out / "ptb.train.txt"
