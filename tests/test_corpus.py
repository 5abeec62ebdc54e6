"""The bad-input corpus: every real-world-shaped broken file has one documented outcome.

Each case in tests/corpus/manifest.toml runs through ``wfm check`` and (for rejected
files) ``wfm plan`` with the example centre's config pointing at it. Either the file
is accepted (maybe repaired, with a warning saying what was done), or the command
exits 1 with a single ``error: ...`` line naming the file, row and column, prints no
traceback, and writes nothing into ``--out``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from forecast.cli import wfm
from forecast.exceptions import DataRepairWarning

CORPUS = Path(__file__).parent / "corpus"
CASES = tomllib.loads((CORPUS / "manifest.toml").read_text(encoding="utf-8"))["case"]
GOOD_VOLUMES = CORPUS / "volumes_clean.csv"


def case_id(case: dict) -> str:
    extra = "+" + "".join(case.get("args", [])).replace("-", "") if case.get("args") else ""
    return f"{case['file']}{extra}"


def check_args(case: dict) -> list[str]:
    path = str(CORPUS / case["file"])
    extra = list(case.get("args", []))
    if case["kind"] == "volumes":
        return ["check", path, *extra]
    if case["kind"] == "events":
        return ["check", str(GOOD_VOLUMES), "--events", path, *extra]
    return ["check", "--config", path, *extra]


def invoke(args: list[str]):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = CliRunner().invoke(wfm, args)
    return result, [str(w.message) for w in caught if issubclass(w.category, DataRepairWarning)]


def assert_one_line_error(result, case: dict) -> None:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("error: ")
    assert case["message"] in line
    if case["kind"] != "config":
        assert case["file"] in line  # the file is named
    if "row" in case:
        assert f", row {case['row']}" in line
    if "column" in case:
        assert f"column '{case['column']}'" in line


def test_the_manifest_covers_every_file_in_the_corpus():
    listed = {c["file"] for c in CASES}
    on_disk = {p.name for p in CORPUS.iterdir()
               if p.suffix not in (".py", ".md") and p.name != "manifest.toml"}
    assert on_disk == listed


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_wfm_check(case):
    result, repairs = invoke(check_args(case))
    if case["exit"] == 1:
        assert_one_line_error(result, case)
        assert result.stdout == ""
        return
    assert result.exit_code == 0, result.output
    assert case["message"] in result.stdout
    assert "Traceback" not in result.output
    if "warning" in case:
        assert any(case["warning"] in w for w in repairs), repairs
    else:
        assert repairs == [] or all("filled" in w or "outside" in w for w in repairs)


def point_config_at(case: dict, folder: Path, fast_config) -> Path:
    """The quick example config with its volumes or events replaced by the case's file."""
    if case["kind"] == "config":
        return CORPUS / case["file"]
    config = fast_config(folder)
    text = config.read_text()
    target = (CORPUS / case["file"]).as_posix()
    if case["kind"] == "volumes":
        text = text.replace('volumes = "volumes.csv.gz"', f'volumes = "{target}"')
    else:
        text = text.replace('events = "events.csv"', f'events = "{target}"')
    config.write_text(text)
    return config


def written(out: Path) -> list[str]:
    """Files a run left in ``out`` other than its hidden lock file."""
    if not out.exists():
        return []
    return sorted(p.name for p in out.iterdir() if p.name != ".wfm.lock")


@pytest.mark.parametrize("case", [c for c in CASES if c.get("plan", True)], ids=case_id)
def test_wfm_plan_refuses_and_writes_nothing(case, tmp_path, fast_config):
    config = point_config_at(case, tmp_path, fast_config)
    out = tmp_path / "out"
    result, _ = invoke(["plan", str(config), "--out", str(out), "--no-charts"])
    assert_one_line_error(result, case)
    assert written(out) == []


@pytest.mark.parametrize("name", ["truncated.csv.gz", "excel_dates_ambiguous.csv",
                                  "events_end_before_start.csv"])
def test_the_installed_command_prints_one_line_and_no_traceback(name, tmp_path, fast_config):
    case = next(c for c in CASES if c["file"] == name and c["exit"] == 1)
    config = point_config_at(case, tmp_path, fast_config)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-c", "from forecast.cli import main; main()", "plan", str(config),
         "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert re.fullmatch(r"error: [^\n]+\n", proc.stderr), proc.stderr
    assert case["message"] in proc.stderr
    assert written(out) == []


def test_a_repaired_file_plans_with_its_warning_shown(tmp_path, fast_config):
    """End to end: the concatenated export plans, and the run says what was repaired."""
    config = fast_config(tmp_path)
    exported = tmp_path / "volumes.csv.gz"
    import gzip

    text = gzip.decompress(exported.read_bytes()).decode()
    lines = text.splitlines()
    header, body = lines[0], lines[1:]
    joined = "\n".join([header, *body[: len(body) // 2 + 50], header,
                        *body[len(body) // 2:]]) + "\nTotal,,12345,\n"
    exported.write_bytes(gzip.compress(joined.encode()))
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-c", "from forecast.cli import main; main()", "plan", str(config),
         "--out", str(out), "--no-charts", "--horizon-days", "2"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "warning:" in proc.stderr and "repeated header row(s)" in proc.stderr
    assert "exact duplicate row(s)" in proc.stderr and "totals row" in proc.stderr
    assert (out / "plan.csv").is_file()
