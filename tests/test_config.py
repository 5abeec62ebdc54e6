"""forecast.config: the plan configuration and its errors."""

from __future__ import annotations

import pandas as pd
import pytest

from forecast.config import (
    CHANNELS,
    OpeningHours,
    PlanConfig,
    config_from_dict,
    load_config,
    parse_hours,
)
from forecast.exceptions import ConfigError


def cfg(**sections) -> PlanConfig:
    raw = {"data": {"volumes": "v.csv"}}
    raw.update(sections)
    return config_from_dict(raw, base_dir="/centre")


def test_example_centre(fixtures_dir):
    c = load_config(fixtures_dir / "example" / "centre.toml")
    assert c.timezone == "Europe/London" and c.interval_s == 1800
    assert c.forecast.horizon_days == 42 and c.holidays_country == "GB"
    assert c.holidays_subdivision == "ENG"
    assert c.data.volumes == fixtures_dir / "example" / "volumes.csv.gz"
    assert {q: c.queues[q].channel for q in c.queues} == {
        "voice": "voice", "chat": "chat", "email": "email", "social": "social"}
    voice, chat, email, social = (c.queue(q) for q in ("voice", "chat", "email", "social"))
    assert voice.hours.by_weekday[5] == (540, 1020) and voice.hours.by_weekday[6] is None
    assert voice.patience_s == 180 and chat.concurrency == 2
    assert email.is_deferred and email.answer_s == 8 * 3600
    assert email.arrival_hours == OpeningHours.always() and voice.arrival_hours is None
    assert social.shrinkage == 0.32  # inherited from [defaults]
    assert social.service_level == 0.9 and social.answer_s == 3600


def test_defaults_apply_to_unlisted_queues():
    c = cfg(defaults={"aht_s": 200, "shrinkage": 0.25}, queues={"a": {"aht_s": 100}})
    assert c.queue("a").aht_s == 100 and c.queue("a").shrinkage == 0.25
    other = c.queue("b")
    assert other.name == "b" and other.aht_s == 200


def test_relative_paths_resolve_against_the_config(tmp_path):
    path = tmp_path / "centre.toml"
    path.write_text('[data]\nvolumes = "in/v.csv"\nevents = "ev.csv"\n'
                    'timestamps = "local"\n')
    c = load_config(path)
    assert c.data.volumes == tmp_path / "in" / "v.csv" and c.data.events == tmp_path / "ev.csv"
    assert c.data.timestamps == "local"


@pytest.mark.parametrize("sections, key, text", [
    ({"centre": {"colour": "red"}}, "centre.colour", "unknown key"),
    ({"queues": {"v": {"chanel": "voice"}}}, "queues.v.chanel", "unknown key"),
    ({"queues": {"v": {"channel": "fax"}}}, "queues.v.channel",
     "unknown channel 'fax'; expected one of " + ", ".join(CHANNELS)),
    ({"centre": {"timezone": "Europe/Londn"}}, "centre.timezone", "unknown time zone"),
    ({"centre": {"interval_min": 7}}, "centre.interval_min", "expected one of 5, 10, 15"),
    ({"defaults": {"service_level": 1.5}}, "defaults.service_level", "in (0, 1)"),
    ({"defaults": {"shrinkage": 1.0}}, "defaults.shrinkage", "in [0, 1)"),
    ({"defaults": {"aht_s": -3}}, "defaults.aht_s", "a number > 0"),
    ({"defaults": {"aht_s": "long"}}, "defaults.aht_s", "expected a number"),
    ({"queues": {"v": {"hours": "8-20"}}}, "queues.v.hours", "expected 'HH:MM-HH:MM'"),
    ({"queues": {"v": {"hours": "20:00-08:00"}}}, "queues.v.hours", "open before it closes"),
    ({"queues": {"v": {"hours": {"monday": "08:00-20:00"}}}}, "queues.v.hours",
     "unknown day 'monday'"),
    ({"queues": {"v": {"channel": "voice", "concurrency": 2}}}, "queues.v.concurrency",
     "chat queues only"),
    ({"forecast": {"quantiles": [0.5, 1.2]}}, "forecast.quantiles", "strictly between 0 and 1"),
    ({"forecast": {"horizon_days": 0}}, "forecast.horizon_days", "from 1 to 366"),
])
def test_errors_name_the_key_and_what_is_allowed(sections, key, text):
    with pytest.raises(ConfigError) as err:
        cfg(**sections)
    assert f"key '{key}'" in str(err.value) and text in str(err.value)
    assert "\n" not in str(err.value)


def test_bad_timestamp_mode_and_missing_data():
    with pytest.raises(ConfigError, match=r"key 'data.timestamps'.*expected one of auto, local"):
        cfg(data={"volumes": "v.csv", "timestamps": "utc"})
    with pytest.raises(ConfigError, match=r"missing section \[data\]"):
        config_from_dict({})


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[centre\nname = 1\n")
    with pytest.raises(ConfigError, match=rf"{bad}: not valid TOML"):
        load_config(bad)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[data]\nvolumes = "v.csv"\n[queues.v]\nchannel = "pigeon"\n')
    with pytest.raises(ConfigError, match=rf"{wrong}, key 'queues.v.channel'"):
        load_config(wrong)


def test_parse_hours_forms():
    assert parse_hours("24h") == OpeningHours.always()
    assert parse_hours("closed").by_weekday == (None,) * 7
    h = parse_hours({"default": "08:00-20:00", "sat": "09:00-17:00", "sun": "closed"})
    assert h.by_weekday == ((480, 1200),) * 5 + ((540, 1020), None)
    assert h.open_minutes_per_week() == 5 * 720 + 480
    assert "sat 09:00-17:00" in h.describe() and "sun closed" in h.describe()


def test_opening_hours_mask():
    h = parse_hours({"mon": "08:00-09:00"})
    starts = pd.to_datetime(["2026-11-16 07:30", "2026-11-16 08:00", "2026-11-16 08:30",
                             "2026-11-16 09:00", "2026-11-17 08:00"])  # Mon x4, Tue
    assert h.is_open(starts).tolist() == [False, True, True, False, False]

