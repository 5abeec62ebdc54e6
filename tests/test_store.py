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
