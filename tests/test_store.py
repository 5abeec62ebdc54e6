"""The model store: fitting per queue, and reading stored models back."""

from __future__ import annotations

import json

import pytest

from forecast.config import load_config
from forecast.exceptions import ConfigError, DataValidationError
from forecast.store import fit_models, load_models


@pytest.fixture(scope="module")
def config(tmp_path_factory, fast_config):
    return load_config(fast_config(tmp_path_factory.mktemp("store")))


def test_fitting_a_queue_that_is_not_in_the_data_is_a_config_error(config, tmp_path):
    with pytest.raises(ConfigError, match="queue 'nope' is not in the data; queues found: "
                                          "chat, email, social, voice"):
        fit_models(config, tmp_path / "models", queues=["nope"])
    assert not (tmp_path / "models").exists()


def test_a_single_queue_name_fits_that_queue(config, tmp_path):
    fit_models(config, tmp_path / "models", queues="voice")
    assert sorted(p.name for p in (tmp_path / "models").glob("*.json")) == ["voice.json"]


@pytest.mark.parametrize("section", ["model", "metadata"])
def test_a_model_file_missing_a_section_names_the_file(config, tmp_path, section):
    fit_models(config, tmp_path, queues=["voice"])
    path = tmp_path / "voice.json"
    record = json.loads(path.read_text())
    del record[section]
    path.write_text(json.dumps(record))
    with pytest.raises(DataValidationError, match=f"voice.json.*without its '{section}' "
                                                  "section"):
        load_models(tmp_path, ["voice"])


@pytest.mark.parametrize("change, text", [
    ({"interval_min": 60}, "fitted on 30-minute intervals, but this run plans 60-minute"),
    ({"timezone": "Europe/Paris"}, "fitted in time zone Europe/London, but this run plans in "
                                   "Europe/Paris"),
])
def test_a_model_fitted_for_another_interval_or_time_zone_is_refused(config, tmp_path, change,
                                                                     text):
    import dataclasses

    fit_models(config, tmp_path, queues=["voice"])
    other = dataclasses.replace(config, **change)
    with pytest.raises(DataValidationError, match=f"voice.json: {text}"):
        load_models(tmp_path, ["voice"], config=other)
    assert load_models(tmp_path, ["voice"], config=config)  # the same settings load


def test_a_plan_from_stale_models_records_the_warning_in_the_manifest(tmp_path, fast_config):
    import pandas as pd
    from click.testing import CliRunner

    from forecast.cli import wfm

    centre = fast_config(tmp_path)
    run = CliRunner().invoke
    assert run(wfm, ["fit", str(centre), "--models", str(tmp_path / "m")]).exit_code == 0
    volumes = tmp_path / "volumes.csv.gz"
    table = pd.read_csv(volumes)
    table.loc[len(table) // 2, "volume"] += 1  # the data changes after fitting
    table.to_csv(volumes, index=False)
    result = run(wfm, ["plan", str(centre), "--models", str(tmp_path / "m"), "--no-charts",
                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert any("the data changed since the stored model was fitted" in w
               for w in manifest["warnings"])
