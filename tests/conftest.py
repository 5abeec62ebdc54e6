"""Shared test fixtures: project paths and the real data sets in ../shared/data.

Tests that read a real data set use the ``shared_data`` fixture, which skips the
test cleanly when the file is absent (set FORECAST_SHARED_DATA to point elsewhere).
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest
from hypothesis import settings

matplotlib.use("Agg")

# Property tests draw the same examples on every run, so CI is reproducible; set
# HYPOTHESIS_PROFILE=explore to search fresh examples locally.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

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


def make_fast_config(folder: Path, *, model: str = "slot_mean", extra: str = "") -> Path:
    """Copy the example centre into ``folder`` with a fixed fast model and a one-week horizon."""
    import re
    import shutil

    example = FIXTURES / "example"
    for name in ("volumes.csv.gz", "events.csv"):
        shutil.copy(example / name, folder / name)
    text = (example / "centre.toml").read_text()
    text = re.sub(r'model = "auto"', f'model = "{model}"', text)
    text = re.sub(r"horizon_days = \d+", "horizon_days = 7", text)
    path = folder / "centre.toml"
    path.write_text(text + extra)
    return path


@pytest.fixture(scope="session")
def fast_config():
    """``fast_config(folder, model=..., extra=...)`` -> path of a quick example config."""
    return make_fast_config
