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
