"""Outputs are written whole or not at all."""

from __future__ import annotations

import pandas as pd
import pytest

from forecast.atomic import atomic_path, write_csv, write_text


def test_write_csv_creates_the_file_and_leaves_no_temporary(tmp_path):
    target = write_csv(pd.DataFrame({"a": [1, 2]}), tmp_path / "out" / "x.csv")
    assert target.read_text() == "a\n1\n2\n"
    assert [p.name for p in target.parent.iterdir()] == ["x.csv"]


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    target = tmp_path / "plan.csv"
    write_text("previous\n", target)
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half a fi")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.csv"]
