"""The notebooks run top to bottom on the example centre, in this environment's Python."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 300


def test_the_three_notebooks_are_committed_without_outputs():
    assert [p.name for p in NOTEBOOKS] == ["backtest.ipynb", "sensitivity.ipynb",
                                           "whatif.ipynb"]
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        nbformat.validate(book)
        code = [c for c in book.cells if c.cell_type == "code"]
        assert code, path.name
        assert all(not c.outputs and c.execution_count is None for c in code), path.name


def test_notebooks_hold_no_logic_of_their_own():
    """Calls and plotting only: no functions or classes defined in a notebook."""
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        for cell in book.cells:
            if cell.cell_type == "code":
                assert "def " not in cell.source and "class " not in cell.source, path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path):
    book = nbformat.read(path, as_version=4)
    # a last cell reports which Python ran the notebook: it must be this environment's
    book.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.prefix)"))
    client = nbclient.NotebookClient(
        book, kernel_name="python3", timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(REPO)}})
    client.execute()
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    ran_with = book.cells[-1].outputs[0]["text"].strip()
    assert Path(ran_with) == Path(sys.prefix)
    # every plotting cell drew something
    images = [o for c in book.cells for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert images, f"{path.name} drew no chart"
