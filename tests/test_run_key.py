"""An unchanged re-run keeps the last outputs; any change to inputs, settings, models or the reviews exported into
the output folder runs again.
Also the stored compilation of large regular expressions that speeds up a cold French `check`."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from conftest import RAW
from pipeline import regex_store
from pipeline.cli import app
from pipeline.config import Settings
from pipeline.run_key import key_of, run_key, run_key_parts, unchanged_outputs
from pipeline.tables import to_table, write_table
from pipeline.web.reviews import ReviewInput, ReviewStore, export_reviews


def _copy_inputs(tmp_path: Path, n: int = 3) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for path in sorted(RAW.glob("*.docx"))[:n]:
        shutil.copy(path, folder / path.name)
    return folder


def _copy_models(tmp_path: Path, settings: Settings) -> Settings:
    area, criteria = tmp_path / "area-model", tmp_path / "criteria-model"
    shutil.copytree(settings.model_dir, area)
    shutil.copytree(settings.criteria_model_dir, criteria)
    return settings.with_(model_dir=area, criteria_model_dir=criteria)


def test_the_key_follows_inputs_settings_and_models(tmp_path):
    folder = _copy_inputs(tmp_path)
    settings = _copy_models(tmp_path, Settings())
    key = run_key([folder], settings)
    assert run_key([folder], settings) == key

    assert run_key([folder], settings.with_(top_k=settings.top_k + 1)) != key
    assert run_key([folder], settings, analyse=False) != key

    card = Path(settings.criteria_model_dir) / "model.json"
    original = card.read_bytes()
    card.write_bytes(original + b" ")
    assert run_key([folder], settings) != key
    card.write_bytes(original)
    assert run_key([folder], settings) == key

    first = sorted(folder.iterdir())[0]
    first.write_bytes(first.read_bytes() + b"\0")
    assert run_key([folder], settings) != key
    (folder / ".~lock.x.docx#").write_text("lock")  # system files are not inputs
    changed = run_key([folder], settings)
    (folder / "new.txt").write_text("A new submission.", encoding="utf-8")
    assert run_key([folder], settings) != changed


def test_the_key_parts_name_what_changed(tmp_path):
    folder = _copy_inputs(tmp_path)
    settings = _copy_models(tmp_path, Settings())
    parts = run_key_parts([folder], settings)
    assert key_of(parts) == run_key([folder], settings)
    (folder / "new.txt").write_text("A new submission.", encoding="utf-8")
    after = run_key_parts([folder], settings.with_(top_k=settings.top_k + 1))
    assert {name for name in parts if parts[name] != after[name]} == {"inputs", "settings"}


def test_the_reviews_exported_into_the_output_folder_count_only_where_reports_are_written(tmp_path):
    folder, out = _copy_inputs(tmp_path, 1), tmp_path / "out"
    out.mkdir()
    settings = Settings()
    before = run_key_parts([folder], settings, skip=out)
    write_table(out / "reviews.parquet", to_table("reviews", [{"practice_id": "x-1", "main_area": "5", "n_reviews": 1}]))
    after = run_key_parts([folder], settings, skip=out)
    assert {name for name in before if before[name] != after[name]} == {"reviews"}
    # a run without reports (or analysis) shows no review: exporting reviews does not make it again
    assert run_key([folder], settings, reports=False, skip=out) == run_key([folder], settings, reports=False)
    assert run_key([folder], settings, analyse=False, skip=out) == run_key([folder], settings, analyse=False)


def test_a_run_after_reviews_were_exported_writes_them_into_the_summary(tmp_path):
    folder, out = _copy_inputs(tmp_path, 1), tmp_path / "out"
    runner = CliRunner()
    first = runner.invoke(app, ["run", str(folder), "--out", str(out), "--embedder", "tfidf"])
    assert first.exit_code == 0, first.output
    assert "No review yet" in (out / "reports" / "summary.html").read_text(encoding="utf-8")
    unreviewed = json.loads((out / "manifest.json").read_text())["run_key_parts"]
    practice_id = pq.read_table(out / "practices.parquet", columns=["practice_id"]).column(0)[0].as_py()
    store = ReviewStore(tmp_path / "reviews.sqlite")
    store.add(practice_id, ReviewInput(main_area="5", note="checked"), "A. Officer")
    store.close()
    export_reviews(tmp_path / "reviews.sqlite", out)

    second = runner.invoke(app, ["run", str(folder), "--out", str(out), "--embedder", "tfidf"])
    assert second.exit_code == 0 and "Nothing changed" not in second.output, second.output
    summary = (out / "reports" / "summary.html").read_text(encoding="utf-8")
    assert "No review yet" not in summary and "1 practice(s) reviewed" in summary
    parts = json.loads((out / "manifest.json").read_text())["run_key_parts"]
    assert {name for name in parts if parts[name] != unreviewed[name]} == {"reviews"}

    export_reviews(tmp_path / "reviews.sqlite", out)  # the same reviews again: the same bytes, nothing to redo
    third = runner.invoke(app, ["run", str(folder), "--out", str(out), "--embedder", "tfidf"])
    assert "Nothing changed" in third.output, third.output


def test_unchanged_rerun_keeps_the_outputs_and_force_runs_again(tmp_path):
    folder, out = _copy_inputs(tmp_path), tmp_path / "out"
    runner = CliRunner()
    first = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"])
    assert first.exit_code == 0, first.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["run_key"] == key_of(manifest["run_key_parts"])
    assert manifest["finished_at"].endswith("+00:00")
    assert {"spacy-lookups-data", "jinja2", "spacy"} <= set(manifest["versions"])
    written = (out / "manifest.json").stat().st_mtime_ns

    again = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"])
    assert again.exit_code == 0, again.output
    assert "Nothing changed" in again.output
    assert (out / "manifest.json").stat().st_mtime_ns == written

    forced = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis", "--force"])
    assert forced.exit_code == 0 and "Nothing changed" not in forced.output
    assert (out / "manifest.json").stat().st_mtime_ns != written

    (out / "practices.parquet").unlink()  # an output gone: the run is made again
    assert unchanged_outputs(out, manifest["run_key"]) is None
    rebuilt = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"])
    assert "Nothing changed" not in rebuilt.output and (out / "practices.parquet").is_file()


def test_a_failed_stage_is_never_kept(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"run_key": "k", "stage_errors": {"areas": "boom"}}))
    assert unchanged_outputs(tmp_path, "k") is None


def test_a_stored_regex_is_handed_back_to_re(tmp_path):
    source = "(?iu)" + "|".join(f"(?:mot{i}-[a-zé]+)" for i in range(3000))
    compiled = re.compile(source)
    if regex_store.store("test-pattern", compiled, tmp_path) is None:
        import pytest

        pytest.skip("this Python's regex engine cannot be stored (not CPython)")
    re.purge()
    restored = regex_store.restore("test-pattern", tmp_path)
    assert restored is not None
    assert re.compile(source) is restored  # the next compile is served from re's cache
    for text in ("MOT12-été", "mot2999-x", "mot3000-x", "autre"):
        assert bool(restored.match(text)) == bool(compiled.match(text))
    assert restored.flags == compiled.flags


def test_a_damaged_regex_store_falls_back(tmp_path):
    path = regex_store.store("broken", re.compile("a+b"), tmp_path)
    if path is None:
        return
    path.write_bytes(b"not marshal data")
    assert regex_store.restore("broken", tmp_path) is None
    assert regex_store.restore("never-stored", tmp_path) is None
