"""Shared test fixtures: project paths and the real data sets in ../shared/data.

Tests that read a real data set use the ``shared_data`` fixture, which skips the
test cleanly when the file is absent (set FORECAST_SHARED_DATA to point elsewhere).
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SHARED_DATA = Path(os.environ.get("FORECAST_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def shared_data():
    """Return a function mapping a file name in ../shared/data to its path, or skip."""

    def get(name: str) -> Path:
        path = SHARED_DATA / name
        if not path.is_file():
            pytest.skip(f"real data set {name} not present in {SHARED_DATA}")
        return path

    return get
