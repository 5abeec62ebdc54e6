"""Scale out: the same plan, byte for byte, whichever runner plans the queues."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.cli import wfm

N_QUEUES = 200


@pytest.fixture(scope="module")
def many_queues(tmp_path_factory):
    """200 small voice queues: 6 weeks of weekday half-hours, each its own size."""
    folder = tmp_path_factory.mktemp("many")
    rng = np.random.default_rng(7)
    days = pd.bdate_range("2026-09-28", periods=30)
    slots = pd.to_timedelta(np.arange(16) * 30 + 9 * 60, unit="min")
    ds = (days.to_numpy()[:, None] + slots.to_numpy()[None, :]).ravel()
    shape = np.sin(np.linspace(0.3, 2.8, 16))
    frames = [pd.DataFrame({"queue": f"q{q:03d}", "timestamp": ds,
                            "volume": rng.poisson(np.tile(shape, 30) * rng.uniform(2, 80))})
              for q in range(N_QUEUES)]
    pd.concat(frames).to_csv(folder / "volumes.csv.gz", index=False)
    (folder / "centre.toml").write_text(
        '[centre]\ntimezone = "Europe/London"\n[data]\nvolumes = "volumes.csv.gz"\n'
        '[forecast]\nmodel = "slot_mean"\nhorizon_days = 4\n'
        '[defaults]\naht_s = 240\n'
        'hours = { default = "09:00-17:00", sat = "closed", sun = "closed" }\n')
    return folder


def plan(folder, out, *extra):
    result = CliRunner().invoke(wfm, ["plan", str(folder / "centre.toml"), "--out", str(out),
                                      "--no-charts", *extra])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.slow
def test_serial_process_pool_and_dask_give_byte_identical_plans(many_queues, tmp_path):
    pytest.importorskip("dask.distributed")
    serial = plan(many_queues, tmp_path / "serial")
    pooled = plan(many_queues, tmp_path / "pool", "--workers", "2")
    dask = plan(many_queues, tmp_path / "dask", "--scheduler", "local", "--workers", "2")
    queues = pd.read_csv(serial / "plan.csv")["queue"].unique()
    assert len(queues) == N_QUEUES
    for name in ("plan.csv", "daily.csv", "manifest.json"):
        reference = (serial / name).read_bytes()
        assert (pooled / name).read_bytes() == reference, name
        assert (dask / name).read_bytes() == reference, name
