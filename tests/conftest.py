import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parent.parent
REAL_DATA = os.environ.get("BENCHMARK_DATA")  # read once: tests of fixtures unset it for themselves


@pytest.fixture(autouse=True)
def _deterministic():
    torch.use_deterministic_algorithms(True)
    yield


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def data_root() -> Path | None:
    """The real data when CI points BENCHMARK_DATA at it; None otherwise (tests then make their own fixtures)."""
    return Path(REAL_DATA) if REAL_DATA and Path(REAL_DATA).is_dir() else None
