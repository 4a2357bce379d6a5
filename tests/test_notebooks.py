"""The researchers' notebooks run top to bottom on freshly produced outputs and draw their figures."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient


ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
EXPECTED = ["01_corpus_overview", "02_action_areas", "03_similarity", "04_criteria"]


def execute(path: Path, processed: Path) -> nbformat.NotebookNode:
    """Run a notebook in a fresh kernel that reads its tables from `processed`."""
    nb = nbformat.read(path, as_version=4)
    old = os.environ.get("ICC_PROCESSED")
    os.environ["ICC_PROCESSED"] = str(processed)  # the kernel inherits the environment
    try:
        NotebookClient(nb, timeout=180, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        if old is None:
            os.environ.pop("ICC_PROCESSED", None)
        else:
            os.environ["ICC_PROCESSED"] = old
    return nb


def outputs_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def test_the_four_notebooks_exist():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code), "clear the outputs before committing"
    assert nb.cells[0].cell_type == "markdown", "the notebook opens with text that says what it shows"
    assert "ICC_PROCESSED" in code[0].source, "the first code cell sets the folder of the tables"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_on_sample_outputs_and_draws_figures(path, sample_out):
    nb = execute(path, sample_out)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert str(Path(sample_out).resolve()) in outputs_text(code[0]), "the notebook did not read ICC_PROCESSED"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    figures = [c for c in code if "figure" in c.metadata.get("tags", [])]
    assert len(figures) >= 3
    for cell in figures:
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert images, f"cell {cell.id} drew nothing; it printed: {outputs_text(cell)[:300]}"
        assert len(images[0]["data"]["image/png"]) > 5000  # base64 of a real plot, not an empty canvas
        assert "is empty" not in outputs_text(cell) and "did not run" not in outputs_text(cell)



@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_when_every_file_failed(path, failed_run):
    nb = execute(path, failed_run)  # raises CellExecutionError on any failing cell
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]


def test_the_similarity_notebook_runs_on_an_older_run(sample_out, tmp_path):
    """A run from before `similar.parquet` said each row's relation and weak matches: the notebook still runs."""
    import shutil

    import pyarrow.parquet as pq

    for path in [*Path(sample_out).glob("*.parquet"), Path(sample_out) / "manifest.json"]:
        shutil.copy(path, tmp_path / path.name)
    older = pq.read_table(tmp_path / "similar.parquet").drop_columns(["relation", "weak"])
    pq.write_table(older, tmp_path / "similar.parquet")
    nb = execute(NOTEBOOK_DIR / "03_similarity.ipynb", tmp_path)
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]


def test_a_folder_without_a_run_stops_at_the_first_cell(tmp_path):
    from nbclient.exceptions import CellExecutionError

    with pytest.raises(CellExecutionError, match="No run in"):
        execute(NOTEBOOKS[0], tmp_path / "mistyped")
