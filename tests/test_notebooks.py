"""The researchers' notebooks run top to bottom on freshly produced outputs and draw their figures."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient


ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
EXPECTED = ["01_corpus_overview", "02_action_areas", "03_similarity", "04_criteria"]


def execute(path: Path, processed: Path, probe: str | None = None) -> nbformat.NotebookNode:
    """Run a notebook in a fresh kernel that reads its tables from `processed`; `probe`, a cell run after the
    notebook's own, prints what a test reads of the kernel's state."""
    nb = nbformat.read(path, as_version=4)
    if probe:
        nb.cells.append(nbformat.v4.new_code_cell(probe))
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


def cell_output(nb: nbformat.NotebookNode, cell_id: str) -> str:
    return outputs_text(next(c for c in nb.cells if c.get("id") == cell_id))


# the French form is kept (`similar.version_order`: Lyon's own language), the English translation is not
LYON_KEPT, LYON_OTHER = "1a0000000000-1", "1b0000000000-1"


@pytest.fixture(scope="module")
def versions_run(sample_out, tmp_path_factory) -> Path:
    """The sample run with one more practice, sent by Lyon in French and in English: the French form, in the city's
    own language, is at level 3 on every criterion, the English one lower on two (its file name sorts first); the
    French form's references part names no document."""
    import shutil

    import pyarrow.parquet as pq

    from pipeline.tables import to_table, write_table

    out = tmp_path_factory.mktemp("versions-run")
    for path in [*Path(sample_out).glob("*.parquet"), Path(sample_out) / "manifest.json"]:
        shutil.copy(path, out / path.name)

    def add(name, rows):
        write_table(out / f"{name}.parquet", to_table(name, pq.read_table(out / f"{name}.parquet").to_pylist() + rows))

    template = pq.read_table(out / "practices.parquet").to_pylist()[0]
    forms = [(LYON_OTHER, "lyon-world-gardens-en.txt", "en", "Lyon"),
             (LYON_KEPT, "ville-de-lyon-jardins-fr.docx", "fr", "Ville de Lyon")]
    add("files", [{"source_file": f, "sha256": pid * 2, "status": "ok", "n_practices": 1} for pid, f, _, _ in forms])
    add("practices", [dict(template, practice_id=pid, source_file=f, lang=lang, city=city,
                           title=f"World Gardens ({lang})",
                           references="Voir le site de la ville." if lang == "fr" else template["references"])
                      for pid, f, lang, city in forms])
    criteria = ("targeted", "needs_based", "context_sensitive", "high_impact", "modelable", "transferable")
    lower = {"context_sensitive": 1, "transferable": 1}  # the English version's levels on these, its scores higher
    add("criteria", [{"practice_id": pid, "criterion": c, "level": level,
                      "score": level / 3 * (0.9 if lang == "fr" else 1.0), "evidence": [], "hint": None}
                     for pid, _, lang, _ in forms for c in criteria
                     for level in [lower.get(c, 3) if lang == "en" else 3]])
    add("similar", [{"practice_id": a, "neighbour_id": b, "rank": 0, "score": 0.9, "matched_section": "description",
                     "shared_terms": [], "neighbour_city": city, "near_duplicate": False, "relation": "version",
                     "weak": False}
                    for a, b, city in ((LYON_OTHER, LYON_KEPT, "Ville de Lyon"), (LYON_KEPT, LYON_OTHER, "Lyon"))])
    return out


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


@pytest.fixture(scope="module")
def criteria_notebook(versions_run) -> nbformat.NotebookNode:
    """Notebook 4 run on `versions_run`, its last cell printing the levels it holds for Lyon's practice and city."""
    return execute(NOTEBOOK_DIR / "04_criteria.ipynb", versions_run, probe=(
        f"print(per_practice.loc['{LYON_KEPT}', ORDER].tolist(), by_city.loc['Lyon'].tolist(), "
        f"first.loc[first['practice_id'] == '{LYON_OTHER}'].shape[0], "
        f"sum('(en)' in e['practice'] for e in examples))"))


def test_the_criteria_of_a_practice_sent_in_two_languages_are_those_of_the_version_kept(criteria_notebook):
    """Notebook 4 counts a practice once, with the levels of the version `distinct_practices` keeps (as the batch
    summary does), in the distribution, the city and the area charts alike: its versions are not averaged."""
    nb = criteria_notebook
    assert outputs_text(nb.cells[-1]).split() == ["[3.0,", "3.0,", "3.0,", "3.0,", "3.0,", "3.0]",
                                                  "[3.0,", "3.0,", "3.0,", "3.0,", "3.0,", "3.0]", "0", "0"]
    said = " ".join(nb.cells[0].source.split())
    assert "the version `distinct_practices` keeps" in said and "averaged" not in said.replace("not averaged", "")


def test_a_city_at_the_top_level_on_every_criterion_has_no_weakest_criterion(criteria_notebook):
    """Lyon's one practice is at level 3 on every criterion: no criterion is its weakest, nor is it counted in a tie;
    the notebook says how many cities have no weakest criterion."""
    said = cell_output(criteria_notebook, "cell-06")
    assert "Lyon:" not in said, said
    top = [line for line in said.splitlines() if "no weakest criterion" in line]
    assert len(top) == 1 and top[0].strip().startswith("1 city") and top[0].rstrip().endswith(": Lyon"), said


def test_the_city_chart_says_how_many_levels_are_at_the_top_and_how_many_practices_make_each_row(criteria_notebook,
                                                                                                versions_run):
    import pyarrow.parquet as pq

    criteria = pq.read_table(versions_run / "criteria.parquet").to_pandas()
    kept = criteria[criteria["practice_id"] != LYON_OTHER]  # the version distinct_practices keeps
    at_top = int((kept["level"] == 3).sum())
    said = " ".join(cell_output(criteria_notebook, "cell-06").split())
    assert f"{at_top} of {len(kept)} levels ({at_top / len(kept):.0%}) are at the top level 3" in said, said
    transferable = kept.loc[kept["criterion"] == "transferable", "level"]
    assert re.search(rf"transferable \*? ?{(transferable == 3).mean():.0%}", said), said
    assert "Practices behind each city's row: 1 for 1 city (Lyon);" in said, said


def test_the_similarity_notebook_finds_the_measured_score_bands_from_a_copy_of_the_notebooks(sample_out, tmp_path,
                                                                                             monkeypatch):
    """Run from a copy of the notebooks folder, notebook 3 reads the score bands the benchmark measured from the
    project of the `pipeline` package it loads; where that project has none, its text claims no table."""
    import shutil

    copy = tmp_path / "my-notebooks"
    copy.mkdir()
    shutil.copy(NOTEBOOK_DIR / "03_similarity.ipynb", copy)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernel loads this project's package, as if installed
    probe = "print(axes[0].get_xlabel())"
    nb = execute(copy / "03_similarity.ipynb", sample_out, probe=probe)
    said = cell_output(nb, "cab64f90")
    assert "same main area" in said and "not there" not in said and "No benchmarks" not in said, said
    assert "table above" in outputs_text(nb.cells[-1])

    project = tmp_path / "project"  # a project of the package alone, without its benchmark results
    shutil.copytree(ROOT / "pipeline", project / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    (project / "notebooks").mkdir()
    shutil.copy(NOTEBOOK_DIR / "03_similarity.ipynb", project / "notebooks")
    monkeypatch.delenv("PYTHONPATH")
    nb = execute(project / "notebooks" / "03_similarity.ipynb", sample_out,
                 probe="import pipeline; print(pipeline.__file__); " + probe)
    said = cell_output(nb, "cab64f90")
    assert "No benchmarks/results/neighbour_areas.json" in said and "same main area" not in said, said
    loaded, label = outputs_text(nb.cells[-1]).strip().splitlines()
    assert Path(loaded).resolve().is_relative_to(project.resolve()) and "table above" not in label, label


def test_a_references_part_that_names_no_document_is_not_counted_as_filled(versions_run):
    """Notebook 1 counts a form's parts as the criteria and the guideline checks read them: « Voir le site de la ville. »
    is no references part, as the references check says ("names no document"), and the chart's note says so."""
    import pyarrow.parquet as pq

    nb = execute(NOTEBOOK_DIR / "01_corpus_overview.ipynb", versions_run, probe=(
        f"print(filled.loc[(distinct['practice_id'] == '{LYON_KEPT}').to_numpy(), 'references'].tolist()); "
        f"print(int(filled['references'].sum())); print(note)"))
    kept, count, *note = outputs_text(nb.cells[-1]).strip().splitlines()
    references = pq.read_table(versions_run / "practices.parquet").to_pandas().query("practice_id != @LYON_OTHER")
    assert kept == "[False]" and int(count) == references["references"].notna().sum() - 1
    note = " ".join(note)
    assert "names no document" in note and "(here: references 1)" in note, note
