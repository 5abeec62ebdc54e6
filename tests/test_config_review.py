"""forecast.config: mistakes a planner makes in centre.toml are errors naming the file,
the key and what was expected, found when the config is loaded."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from forecast.config import check_queues, config_from_dict, load_config
from forecast.exceptions import ConfigError


def write_config(tmp_path, text: str):
    path = tmp_path / "centre.toml"
    path.write_text('[data]\nvolumes = "v.csv"\n' + text)
    return path


def load_error(tmp_path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, text))
    return str(caught.value)


# --------------------------------------------------------------------------- model names


def test_a_misspelt_model_is_an_error_naming_the_file_key_and_the_closest_model(tmp_path):
    message = load_error(tmp_path, '[forecast]\nmodel = "prophett"\n')
    assert "centre.toml, key 'forecast.model': unknown model 'prophett'; expected one of auto," \
        in message
    assert "slot_mean" in message and message.endswith("(did you mean 'prophet'?)")


def test_a_misspelt_candidate_is_an_error_naming_the_candidates_key(tmp_path):
    message = load_error(tmp_path, '[forecast]\ncandidates = ["topdown", "holt_winter"]\n')
    assert "centre.toml, key 'forecast.candidates': unknown model 'holt_winter'" in message
    assert "(did you mean 'holt_winters'?)" in message
    assert "auto" not in message.split("expected one of")[1]  # a candidate is a model


def test_every_registered_model_and_auto_are_accepted():
    from forecast.forecasters import MODELS

    for name in ["auto", *MODELS]:
        raw = {"data": {"volumes": "v.csv"}, "forecast": {"model": name}}
        assert config_from_dict(raw).forecast.model == name
    raw = {"data": {"volumes": "v.csv"}, "forecast": {"candidates": sorted(MODELS)}}
    assert config_from_dict(raw).forecast.candidates == tuple(sorted(MODELS))


def test_checking_model_names_does_not_import_the_model_libraries(fixtures_dir):
    code = ("import sys; from forecast.config import load_config; "
            f"load_config({str(fixtures_dir / 'example' / 'centre.toml')!r}); "
            "print(','.join(m for m in ('statsmodels', 'prophet', 'cmdstanpy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


# --------------------------------------------------------------------------- holidays


def test_an_unknown_holiday_subdivision_names_its_own_key_and_the_allowed_regions(tmp_path):
    message = load_error(tmp_path, '[centre]\nholidays_country = "GB"\n'
                                   'holidays_subdivision = "XYZ"\n')
    assert "centre.toml, key 'centre.holidays_subdivision': unknown subdivision 'XYZ' of GB" \
        in message
    assert "expected one of ENG, NIR, SCT, WLS" in message
    assert "holidays_country" not in message


def test_an_unknown_holiday_country_names_the_file_and_the_country_key(tmp_path):
    message = load_error(tmp_path, '[centre]\nholidays_country = "XX"\n')
    assert "centre.toml, key 'centre.holidays_country': unknown country code 'XX'" in message


def test_a_holiday_subdivision_needs_a_country(tmp_path):
    message = load_error(tmp_path, '[centre]\nholidays_subdivision = "ENG"\n')
    assert "key 'centre.holidays_subdivision': needs centre.holidays_country" in message


def test_known_holiday_regions_load(tmp_path):
    c = load_config(write_config(tmp_path, '[centre]\nholidays_country = "US"\n'
                                           'holidays_subdivision = "CA"\n'))
    assert (c.holidays_country, c.holidays_subdivision) == ("US", "CA")


# --------------------------------------------------------------------------- hours grid


def test_hours_off_the_interval_grid_are_an_error_naming_the_day(tmp_path):
    message = load_error(tmp_path, '[centre]\ninterval_min = 30\n[queues.voice]\n'
                                   'hours = { default = "08:00-20:00", sat = "09:10-17:00" }\n')
    assert "centre.toml, key 'queues.voice.hours.sat': '09:10-17:00' must start and end on " \
           "the 30-minute grid" in message


@pytest.mark.parametrize("section, key", [
    ('[defaults]\nhours = "08:00-20:10"\n', "defaults.hours"),
    ('[queues.email]\narrival_hours = "00:05-24:00"\n', "queues.email.arrival_hours"),
])
def test_every_hours_key_is_checked_against_the_grid(tmp_path, section, key):
    message = load_error(tmp_path, "[centre]\ninterval_min = 15\n" + section)
    assert f"key '{key}'" in message and "15-minute grid" in message


def test_hours_on_a_finer_interval_grid_load(tmp_path):
    c = load_config(write_config(tmp_path, '[centre]\ninterval_min = 10\n[queues.voice]\n'
                                           'hours = "09:10-17:00"\n'))
    assert c.queues["voice"].hours.by_weekday[0] == (550, 1020)


# --------------------------------------------------------------------------- sections vs data


def sections_config(tmp_path, *names: str):
    text = "".join(f'[queues.{n}]\nchannel = "voice"\n' for n in names)
    return load_config(write_config(tmp_path, text))


def test_a_section_for_a_queue_not_in_the_data_is_an_error_naming_the_file_and_key(tmp_path):
    config = sections_config(tmp_path, "voic", "chat")
    with pytest.raises(ConfigError, match=re.escape(
            "centre.toml, key 'queues.voic': no such queue in the volumes (queues in the data: "
            "chat, email, social, voice); did you mean 'voice'?")):
        check_queues(config, ["voice", "chat", "email", "social"])


def test_a_run_restricted_to_some_queues_needs_data_for_those_only(tmp_path):
    config = sections_config(tmp_path, "voic", "chat")
    assert check_queues(config, ["voice", "chat"], selected=["chat"]) == {}


def test_a_data_queue_without_a_section_is_planned_on_the_defaults_with_a_warning(tmp_path):
    config = sections_config(tmp_path, "chat")
    notes = check_queues(config, ["voice", "chat"])
    assert notes == {"voice": "no [queues.voice] section in centre.toml: planned with "
                              "[defaults], channel voice"}


def test_a_config_without_sections_plans_every_queue_on_the_defaults_silently(tmp_path):
    assert check_queues(sections_config(tmp_path), ["voice", "chat"]) == {}
