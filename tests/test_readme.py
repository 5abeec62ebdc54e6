"""The examples a user copies out of README.md are valid input."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from forecast.config import load_config
from forecast.data import read_volumes
from forecast.events import read_events

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), re.S)


def test_the_readme_config_loads_with_the_settings_it_describes(tmp_path):
    (toml,) = _blocks("toml")
    path = tmp_path / "centre.toml"
    path.write_text(toml)
    cfg = load_config(path)
    voice = cfg.queues["voice"]
    assert voice.hours.by_weekday[0] == (8 * 60, 20 * 60)  # mon 08:00-20:00
    assert voice.hours.by_weekday[5] == (9 * 60, 17 * 60)  # sat 09:00-17:00
    assert voice.hours.by_weekday[6] is None  # sunday left out: closed
    assert voice.patience_s == 180
    assert cfg.queues["chat"].concurrency == 3


def test_the_readme_volumes_and_events_examples_read(tmp_path):
    volumes, events = _blocks("csv")
    (tmp_path / "volumes.csv").write_text(volumes)
    (tmp_path / "events.csv").write_text(events)
    vol = read_volumes(tmp_path / "volumes.csv")
    assert sorted(vol["queue"].unique()) == ["chat", "voice"]
    ev = read_events(tmp_path / "events.csv").set_index("name")
    # a date-only end includes that day; an end with a time is exclusive
    assert ev.loc["Christmas Day", "end"] == pd.Timestamp("2026-12-26")
    assert ev.loc["Black Friday promo", "end"] == pd.Timestamp("2026-12-01")
    assert ev.loc["Broadband outage", "end"] == pd.Timestamp("2026-03-12 13:00")


@pytest.mark.parametrize("minutes", [5, 10, 15, 30, 60])
def test_every_interval_the_readme_lists_is_accepted(tmp_path, minutes):
    (toml,) = _blocks("toml")
    path = tmp_path / "centre.toml"
    path.write_text(re.sub(r"interval_min = \d+", f"interval_min = {minutes}", toml))
    assert load_config(path).interval_min == minutes
