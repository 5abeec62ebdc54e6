"""Outputs are written whole or not at all."""

from __future__ import annotations

import pandas as pd
import pytest

from forecast.atomic import atomic_path, output_lock, sweep_temporaries, write_csv, write_text


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


def test_temporaries_have_a_name_only_this_tool_uses(tmp_path):
    with atomic_path(tmp_path / "plan.csv") as tmp:
        assert tmp.name.startswith(".plan.csv.") and tmp.name.endswith(".wfm-tmp")


def test_the_sweep_removes_our_temporaries_and_keeps_a_users_own_tmp_files(tmp_path):
    ours = tmp_path / ".plan.csv.k1ll3d.wfm-tmp"
    users = [tmp_path / ".my-upload.tmp", tmp_path / "notes.tmp", tmp_path / ".x.wfm-tmp.bak"]
    for path in [ours, *users]:
        path.write_text("x")
    assert sweep_temporaries(tmp_path) == [ours]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in users)


def test_a_run_keeps_a_users_tmp_file_in_the_output_folder(tmp_path):
    users = tmp_path / ".my-upload.tmp"
    users.write_text("x\n")
    with output_lock(tmp_path):
        write_text("new\n", tmp_path / "plan.csv")
    assert users.read_text() == "x\n"
