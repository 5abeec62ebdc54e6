"""The package's public API: every exported name resolves, lazily."""

from __future__ import annotations

import subprocess
import sys

import forecast


def test_every_exported_name_resolves():
    missing = [name for name in forecast.__all__ if getattr(forecast, name, None) is None]
    assert missing == []


def test_unknown_names_raise_attribute_error():
    try:
        forecast.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_importing_the_package_does_not_load_the_heavy_modules():
    code = ("import sys, forecast; heavy = [m for m in ('pandas', 'scipy', 'numba', 'prophet') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_public_submodule_is_an_attribute_without_importing_it():
    import pkgutil

    names = [m.name for m in pkgutil.iter_modules(forecast.__path__) if not m.name.startswith("_")]
    assert "backtest" in names
    code = (f"import forecast; print(','.join(n for n in {names!r} if "
            "getattr(forecast, n, None) is None))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_model_building_blocks_are_exported():
    from forecast.forecasters import Forecaster, build_model, model_from_dict

    assert (forecast.build_model, forecast.model_from_dict, forecast.Forecaster) == (
        build_model, model_from_dict, Forecaster)
    assert {"build_model", "model_from_dict", "Forecaster"} <= set(forecast.__all__)
