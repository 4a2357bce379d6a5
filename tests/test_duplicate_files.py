"""Files sent twice (the same bytes under two names): the copy a person would call the original is the one read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import Settings
from pipeline.inputs import discover
from pipeline.run import ingest_files

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"


def test_the_shallowest_shortest_copy_is_read(tmp_path):
    folder = tmp_path / "in"
    (folder / "2024").mkdir(parents=True)
    (folder / "archive").mkdir()
    form = RAW / "limassol-p3-04.txt"
    for name in ("zz.txt", "2024/copie de zz.txt", "archive/zz.txt", "aa-copy-of-zz.txt"):
        shutil.copy(form, folder / name)
    files = discover([folder])
    assert files[0].name == "2024/copie de zz.txt"  # first in name order: it used to be the copy read
    results, _ = ingest_files(files, Settings(), tmp_path / "out")
    by_name = {r.source_file: r for r in results}
    assert by_name["zz.txt"].status == "ok" and by_name["zz.txt"].practices
    for name in ("2024/copie de zz.txt", "archive/zz.txt", "aa-copy-of-zz.txt"):
        assert by_name[name].error_code == "duplicate_file" and not by_name[name].practices
        assert by_name[name].message.startswith("Same content as zz.txt;")


def test_the_copy_named_as_a_format_that_is_read_is_read(tmp_path):
    """A form saved again as 'ballarat.zip' by a mail filter, or without its suffix: the copy that can be read
    gives the practices, wherever it lies."""
    folder = tmp_path / "in"
    (folder / "2024").mkdir(parents=True)
    shutil.copy(RAW / "ballarat-p4-05.docx", folder / "ballarat.zip")
    shutil.copy(RAW / "ballarat-p4-05.docx", folder / "2024" / "ballarat.docx")
    shutil.copy(RAW / "limassol-p3-04.txt", folder / "notes")
    shutil.copy(RAW / "limassol-p3-04.txt", folder / "2024" / "notes.txt")
    results, _ = ingest_files(discover([folder]), Settings(), tmp_path / "out")
    by_name = {r.source_file: r for r in results}
    assert by_name["2024/ballarat.docx"].status == "ok" and by_name["2024/notes.txt"].status == "ok"
    assert by_name["2024/ballarat.docx"].practices and by_name["2024/notes.txt"].practices
    for copy, used in (("ballarat.zip", "2024/ballarat.docx"), ("notes", "2024/notes.txt")):
        assert by_name[copy].error_code == "duplicate_file" and not by_name[copy].practices
        assert by_name[copy].message.startswith(f"Same content as {used};")


def test_a_copy_that_reads_gives_the_practices_where_the_first_choice_cannot_be_read(tmp_path):
    """The same bytes as x.docx (text under a Word name, which would be read with a warning) and as 2024/x.txt: the
    copy named as what it holds is read, the other is its copy."""
    folder = tmp_path / "in"
    (folder / "2024").mkdir(parents=True)
    shutil.copy(RAW / "limassol-p3-04.txt", folder / "x.docx")
    shutil.copy(RAW / "limassol-p3-04.txt", folder / "2024" / "x.txt")
    results, _ = ingest_files(discover([folder]), Settings(), tmp_path / "out")
    by_name = {r.source_file: r for r in results}
    assert by_name["2024/x.txt"].status == "ok" and by_name["x.docx"].error_code == "duplicate_file"
    # two copies that cannot be read each keep their own error
    for name in ("a.docx", "b.docx"):
        (folder / name).write_bytes(b"PK\x03\x04 not really a zip")
    results, _ = ingest_files(discover([folder]), Settings(), tmp_path / "out")
    assert {r.source_file: r.error_code for r in results if r.source_file in ("a.docx", "b.docx")} == \
        {"a.docx": "corrupt_docx", "b.docx": "corrupt_docx"}


def test_a_copy_of_another_file_is_counted_apart_from_the_errors(tmp_path):
    folder = tmp_path / "in"
    (folder / "2024").mkdir(parents=True)
    shutil.copy(RAW / "limassol-p3-04.txt", folder)
    shutil.copy(RAW / "limassol-p3-04.txt", folder / "2024" / "copie de limassol.txt")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    result = CliRunner().invoke(app, ["run", str(folder), "--out", str(tmp_path / "out"), "--no-analysis"],
                                terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "3 files: 1 ok, 0 blank forms, 1 error, 1 copy of another file -> 1 practice " in result.output
    assert "copy 2024/copie de limassol.txt: Same content as limassol-p3-04.txt" in result.output
    counts = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))["counts"]
    assert counts["by_status"]["error"] == 2 and counts["duplicate_files"] == 1  # files.parquet's statuses


def test_a_link_to_a_file_of_the_batch_under_another_name_is_a_row_naming_the_file_read(tmp_path):
    """The counts add up to what the folder holds: a link beside the file it points to is a copy, not nothing."""
    folder = tmp_path / "L"
    (folder / "a").mkdir(parents=True)
    (folder / "b").mkdir()
    shutil.copy(RAW / "oslo-p1-13.docx", folder / "a")
    (folder / "b" / "oslo-renamed.docx").symlink_to("../a/oslo-p1-13.docx")
    (folder / "0-first.docx").symlink_to(folder / "a" / "oslo-p1-13.docx")  # a link first in name order
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"])
    said = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "3 files: 1 ok, 0 blank forms, 0 errors, 2 copies of another file -> 1 practice " in said
    assert ("copy b/oslo-renamed.docx: A link to a/oslo-p1-13.docx, which is read under that name; its practices are "
            "counted once.") in said
    counts = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["counts"]
    assert counts["files"] == 3 and counts["duplicate_files"] == 2
    # a run again gives the same rows (a link's row is not taken from the cache), and the file read stays read
    # when its link is all that is left of it
    (folder / "0-first.docx").unlink()
    (folder / "a" / "oslo-p1-13.docx").rename(tmp_path / "oslo.docx")
    (folder / "b" / "oslo-renamed.docx").unlink()
    (folder / "b" / "oslo-renamed.docx").symlink_to(tmp_path / "oslo.docx")
    results, _ = ingest_files(discover([folder]), Settings(), out)
    assert [(r.source_file, r.status) for r in results] == [("b/oslo-renamed.docx", "ok")]
    # a file given beside its folder is still one row
    assert [f.name for f in discover([folder, folder / "b" / "oslo-renamed.docx"])] == ["b/oslo-renamed.docx"]


def test_the_blank_template_sent_by_two_cities_is_two_blank_forms(tmp_path):
    """Two cities sending the unfilled template: both are forms to chase, not one of them a copy to ignore."""
    folder = tmp_path / "in"
    for city in ("lisbon", "oslo"):
        (folder / city).mkdir(parents=True)
        shutil.copy(RAW / "formulaire-vierge.docx", folder / city / f"{city}-form.docx")
    results, _ = ingest_files(discover([folder]), Settings(), tmp_path / "out")
    assert [(r.source_file, r.status, r.error_code) for r in results] == [
        ("lisbon/lisbon-form.docx", "empty_form", None), ("oslo/oslo-form.docx", "empty_form", None)]
