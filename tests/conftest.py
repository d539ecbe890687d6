import os
from pathlib import Path

import pytest
import torch

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolate(monkeypatch, tmp_path):
    """No test reads the user's cache or downloads: the cache points into tmp_path."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("REWIRE_DATA", raising=False)
    torch.manual_seed(0)


@pytest.fixture
def shared_data() -> Path:
    path = Path(os.environ.get("REWIRE_TEST_DATA", SHARED_DATA))
    if not (path / "SHA256SUMS").is_file():
        pytest.skip(f"real data folder not found at {path} (set REWIRE_TEST_DATA)")
    return path


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 8×8 digits (embedded, offline) with the library's fixed splits."""
    from rewire.data import load_dataset

    return load_dataset("digits")
