"""Batch runs: the seed file, resuming a killed run, determinism, incremental re-runs, the CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import pipeline.run as run_module
from conftest import RAW, SEED
from pipeline.cli import app
from pipeline.config import Settings
from pipeline.inputs import discover
from pipeline.run import run_batch
from pipeline.tables import SCHEMAS

ROOT = Path(__file__).resolve().parents[1]

TABLES = ("files", "practices", "areas", "similar", "criteria")


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(out / f"{name}.parquet") for name in TABLES}


SEED_LAYOUT = Path(__file__).resolve().parent / "data" / "seed_layout" / "form-fr.txt"
SEED_CASES = [
    # (file, city, title): the shared seed file when it is beside the repository, and a form of the project's
    # own in the same layout (guide preamble, tab-separated cells, N/A values, inline sections, a trailing blank form)
    pytest.param(SEED, "Bergen", "Projet de recherche sur le racisme structurel", id="shared-seed",
                 marks=pytest.mark.skipif(not SEED.exists(), reason=f"the shared seed file is not at {SEED} "
                                          "(a clone without ../shared); the project's own form covers the same checks")),
    pytest.param(SEED_LAYOUT, "Tromsø", "Enquête sur les discriminations vécues dans les services municipaux",
                 id="project-form"),
]


@pytest.mark.parametrize("path, city, title", SEED_CASES)
def test_seed_layout_gives_one_practice_and_a_blank_form(tmp_path, path, city, title):
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path), "--no-analysis"])
    assert result.exit_code == 0, result.output
    files = pd.read_parquet(tmp_path / "files.parquet")
    practices = pd.read_parquet(tmp_path / "practices.parquet")
    assert list(files["status"]) == ["ok"]
    assert "1 blank form" in files.loc[0, "message"]
    assert len(practices) == 1, "the guide's preamble and area list are not practices"
    practice = practices.iloc[0]
    assert practice["city"] == city
    assert practice["title"] == title
    assert list(practice["declared_areas"]) == ["3", "13"]
    assert (practice["period_start"], practice["period_end"], bool(practice["ongoing"])) == (2020, 2021, False)
    for section in ("purpose", "starting_point", "process", "impact", "references"):
        assert isinstance(practice[section], str) and len(practice[section]) > 20, section
    assert practice["department"] is None or pd.isna(practice["department"]), "N/A means no value"
    assert practice["lang"] == "fr"


def test_tables_follow_the_contract(sample_out):
    for name in TABLES:
        table = pd.read_parquet(sample_out / f"{name}.parquet")
        assert list(table.columns)[: len(SCHEMAS[name])] == SCHEMAS[name].names
    practices = pd.read_parquet(sample_out / "practices.parquet")
    assert practices["practice_id"].is_unique
    assert len(practices) == 52
    files = pd.read_parquet(sample_out / "files.parquet")
    assert set(files["status"]) == {"ok", "empty_form"}
    assert (sample_out / "manifest.json").exists()
    # no hint is null, as every missing text is, never ''
    criteria = pd.read_parquet(sample_out / "criteria.parquet")
    hint = criteria["hint"]
    assert not (hint == "").any() and hint.isna().sum() == (criteria["level"] == 3).sum() > 0


def test_a_run_without_analysis_removes_the_reports_of_an_earlier_run_and_says_what_it_wrote(sample_out, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(sample_out, out)
    (out / "reports" / "cities" / "notes.txt").write_text("kept", encoding="utf-8")  # a file someone put there
    assert (out / "reports" / "summary.html").is_file() and list((out / "reports" / "cities").glob("*.html"))
    result = CliRunner().invoke(app, ["run", str(RAW), "--out", str(out), "--no-analysis"],
                                terminal_width=400, max_content_width=400)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert not (out / "reports" / "summary.html").exists() and not (out / "reports" / "summary.fr.html").exists()
    assert sorted(p.name for p in (out / "reports" / "cities").iterdir()) == ["notes.txt"]
    assert "Batch summary" not in said and "City reports" not in said
    n = len(json.loads((sample_out / "manifest.json").read_text(encoding="utf-8"))["reports"]) - 2
    assert (f"Removed the reports of an earlier run (reports/summary.html, reports/summary.fr.html, {n} city report "
            "files in reports/cities)") in said
    assert ("files.parquet, practices.parquet, manifest.json; areas.parquet, similar.parquet, criteria.parquet and "
            "guidelines.parquet are empty") in said


def test_a_run_ended_by_sigterm_stops_its_conversion_and_leaves_no_copy_of_a_submission(tmp_path):
    """`kill` (SIGTERM) during a LibreOffice conversion: the run says it was interrupted, the converter's process
    group is stopped and its temporary copy of the form removed, as with Ctrl-C."""
    import signal
    import subprocess
    import time

    tools = tmp_path / "bin"
    tools.mkdir()
    soffice = tools / "soffice"  # a converter that takes its time
    started = tmp_path / "converting"
    soffice.write_text(f"#!/bin/sh\ncase \"$*\" in *--version*) echo 'LibreOffice 7.0'; exit 0;; esac\n"
                       f"echo $$ > {started}\nexec sleep 60\n")
    soffice.chmod(0o755)
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "form.rtf").write_text(r"{\rtf1\ansi City: Oslo\par Title: Reading circles\par}", encoding="ascii")
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ICC_SOFFICE": str(soffice), "TMPDIR": str(temp)}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "run", str(inbox), "--out", str(tmp_path / "out"),
                             "--no-analysis"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert started.exists(), proc.communicate()[0]
    assert list(temp.glob("icc-convert-*")), "the conversion works on a copy in a folder of its own"
    proc.send_signal(signal.SIGTERM)
    output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 130 and "Interrupted" in output, output
    assert not list(temp.glob("icc-convert-*"))
    with pytest.raises(ProcessLookupError):  # the converter was stopped, not left running
        os.kill(int(started.read_text()), 0)


def test_killed_run_leaves_no_half_written_tables_and_resumes(tmp_path, monkeypatch):
    inputs = tmp_path / "in"
    shutil.copytree(RAW, inputs)
    out = tmp_path / "out"
    real = run_module.process_file
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(run_module, "process_file", dying)
    with pytest.raises(KeyboardInterrupt):
        run_batch([inputs], out, Settings(ingest_processes=1), analyse=False)  # killed in this process
    assert not (out / "practices.parquet").exists()
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))
    assert len(list((out / ".cache" / "files").glob("*.json"))) == 5
    # the command line says what to do after Ctrl-C (a few files: read in this process)
    calls["n"] = 0
    few = tmp_path / "few"
    few.mkdir()
    for path in sorted(RAW.glob("*.docx"))[:7]:
        shutil.copy(path, few)
    result = CliRunner().invoke(app, ["run", str(few), "--out", str(tmp_path / "cli-out"), "--no-analysis"])
    assert result.exit_code == 130 and "Interrupted" in result.output and "again" in result.output, result.output
    assert "holds no complete run yet" in " ".join(result.output.split()), "a first run: nothing to mix with"
    monkeypatch.setattr(run_module, "process_file", real)
    resumed = run_batch([inputs], out, analyse=False)
    assert resumed.cache_hits == 5
    clean = run_batch([inputs], tmp_path / "clean", analyse=False)
    for name in ("files", "practices"):
        pd.testing.assert_frame_equal(pd.read_parquet(out / f"{name}.parquet"), pd.read_parquet(tmp_path / "clean" / f"{name}.parquet"))
    assert clean.cache_hits == 0


def test_a_second_run_into_a_folder_in_use_is_refused_and_says_why(tmp_path):
    fcntl = pytest.importorskip("fcntl", reason="runs are locked only where the system has fcntl")
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    shutil.copy(RAW / "limassol-p3-04.txt", folder)
    out.mkdir()
    with (out / run_module.RUN_LOCK).open("a") as held:  # a run in progress
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(run_module.RunInProgress):
            run_batch([folder], out, analyse=False)
        result = CliRunner().invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"])
        assert result.exit_code == 2 and "Another run is writing" in result.output, result.output
        assert not (out / "files.parquet").exists()
    assert run_batch([folder], out, analyse=False).files[0].status == "ok"  # free again once it ends


def test_changed_file_is_read_again_and_others_come_from_cache(tmp_path):
    inputs = tmp_path / "in"
    shutil.copytree(RAW, inputs)
    out = tmp_path / "out"
    run_batch([inputs], out, analyse=False)
    target = next(inputs.glob("*.md"))
    target.write_text(target.read_text(encoding="utf-8").replace("**", "", 2), encoding="utf-8")
    again = run_batch([inputs], out, analyse=False)
    assert again.cache_hits == len(again.files) - 1


def _ingest(inputs: Path, out: Path, processes: int) -> list[dict]:
    from pipeline.run import discover, ingest_files

    results, _ = ingest_files(discover([inputs]), Settings(ingest_processes=processes), out)
    return [r.row() | {"practices": [p.to_dict() for p in r.practices]} for r in results]


def test_files_read_in_worker_processes_give_what_one_process_gives(tmp_path, monkeypatch):
    monkeypatch.setattr(run_module, "_PARALLEL_MIN_FILES", 2)
    inputs = tmp_path / "in"
    shutil.copytree(RAW, inputs)
    (inputs / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    shutil.copy(next(RAW.glob("*.docx")), inputs / "zz-copy.docx")
    alone = _ingest(inputs, tmp_path / "one", 1)
    assert [r["source_file"] for r in alone] == sorted(r["source_file"] for r in alone)
    assert {r["error_code"] for r in alone} >= {"duplicate_file", "corrupt_docx"}
    assert _ingest(inputs, tmp_path / "two", 2) == alone
    # Half from the cache, half read again by the workers: still the same rows, in the same order.
    for path in list((tmp_path / "two" / ".cache" / "files").glob("*.json"))[::2]:
        path.unlink()
    assert _ingest(inputs, tmp_path / "two", 2) == alone


def test_a_file_that_kills_its_reading_worker_is_an_error_row_and_the_others_are_read(tmp_path, monkeypatch):
    import multiprocessing
    import os

    monkeypatch.setattr(run_module, "_PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(run_module, "_worker_context", lambda: multiprocessing.get_context("fork"))
    parent = os.getpid()
    original = run_module.process_file

    names = sorted(p.name for p in RAW.iterdir())
    killers = {names[20], names[40]}

    def dies_in_a_worker(item, *args, **kwargs):
        if os.getpid() != parent and item.name in killers:
            os._exit(1)  # as a reader crashing the interpreter would
        return original(item, *args, **kwargs)

    monkeypatch.setattr(run_module, "process_file", dies_in_a_worker)
    rows = _ingest(RAW, tmp_path / "two", 2)
    alone = _ingest(RAW, tmp_path / "one", 1)
    assert len(rows) == len(alone) == len(names)
    crashed = [r for r in rows if r["error_code"] == "reader_crashed"]
    assert {r["source_file"] for r in crashed} == killers and len(crashed) == 2
    assert [r for r in rows if r not in crashed] == [r for r in alone if r["source_file"] not in killers]


def test_two_full_runs_give_identical_tables(sample_out, tmp_path):
    run_batch([RAW], tmp_path)
    first, second = _tables(sample_out), _tables(tmp_path)
    for name in TABLES:
        pd.testing.assert_frame_equal(first[name], second[name], obj=name)


def test_check_command_prints_fields_of_one_submission():
    sample = sorted(RAW.glob("*.docx"))[0]
    result = CliRunner().invoke(app, ["check", str(sample)])
    assert result.exit_code == 0, result.output
    assert "City" in result.output and "Purpose" in result.output
    for title in ("Action areas the text points to", "Criteria of a good practice", "Reporting guidelines"):
        assert title in result.output


def test_text_of_a_form_or_a_file_name_is_printed_as_written_not_read_as_markup(tmp_path):
    """'[/sites/icc/walks.pdf]' in a reference made check crash; a file named 'Lyon [red] draft.docx' was printed
    as 'Lyon  draft.docx', and '[/b]' in a name made run crash after writing its tables."""
    form = tmp_path / "in" / "walks [v2].txt"
    form.parent.mkdir()
    form.write_text("City: Lyon\nTitle of the practice: Walks [reverse]inverted[/reverse]\n"
                    "Purpose: Weekly welcome walks for newcomers with 40 volunteer guides; 300 people in 2023 [/b].\n"
                    "Key references: Evaluation report [/sites/icc/walks-2023.pdf]\n", encoding="utf-8")
    checked = CliRunner().invoke(app, ["check", str(form)])
    assert checked.exit_code == 0, checked.output
    output = "".join(checked.output.split())
    assert "[reverse]inverted[/reverse]" in output and "[/sites/icc/walks-2023.pdf]" in output
    (form.parent / "Lyon [red] draft.docx").write_bytes(b"")
    from email.message import EmailMessage

    mail = EmailMessage()
    mail["Subject"] = "Fiche"
    mail.set_content("Voir la fiche jointe.")
    mail.add_attachment(b"PK\x03\x04", maintype="application", subtype="octet-stream", filename="fiche [/b] Lyon.docx")
    (form.parent / "mail.eml").write_bytes(bytes(mail))
    ran = CliRunner().invoke(app, ["run", str(form.parent), "--out", str(tmp_path / "out")])
    assert ran.exit_code == 0, ran.output
    printed = "".join(ran.output.split())
    assert "Lyon[red]draft.docx" in printed and "fiche[/b]Lyon.docx" in printed


def test_check_command_explains_a_bad_file(tmp_path):
    bad = tmp_path / "old.doc"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    result = CliRunner().invoke(app, ["check", str(bad)])
    assert result.exit_code == 1
    assert "legacy_doc" in result.output
    # the file's language is not known: the reason is given in English and in French, with its detail
    assert "Cannot use this file" in result.output and "Fichier inutilisable" in result.output
    output = " ".join(result.output.split())
    assert "This Word 97-2003 .doc file is damaged and cannot be opened (" in output
    assert "Ce fichier Word 97-2003 .doc est endommagé et ne peut pas être ouvert (" in output
    assert "; enregistrez-le en .docx (Word : Fichier > Enregistrer sous) et renvoyez-le." in output
    from pipeline.cli import _file_error_fr

    assert _file_error_fr("corrupt_docx", "A message of an older run.") == "Le fichier Word est endommagé ou incomplet."
    # a city that knows its language reads one
    french = CliRunner().invoke(app, ["check", str(bad), "--lang", "fr"])
    assert french.exit_code == 1 and "Fichier inutilisable" in french.output and "Cannot use" not in french.output
    english = CliRunner().invoke(app, ["check", str(bad), "--lang", "en"])
    assert "Cannot use this file" in english.output and "Fichier" not in english.output
    assert CliRunner().invoke(app, ["check", str(bad), "--lang", "de"]).exit_code == 2


def test_system_files_are_ignored_and_listed(tmp_path):
    folder = tmp_path / "in"
    shutil.copytree(RAW, folder)
    for name in ("Thumbs.db", ".DS_Store", "~$lyon.docx", "desktop.ini", "~WRL0003.tmp"):
        (folder / name).write_bytes(b"\x00\x01junk")
    batch = run_batch([folder], tmp_path / "out", analyse=False)
    assert len(batch.files) == len(list(RAW.iterdir()))
    assert batch.manifest["counts"]["ignored_system_files"] == [".DS_Store", "Thumbs.db", "desktop.ini", "~$lyon.docx",
                                                                "~WRL0003.tmp"]


def test_a_link_to_a_vanished_file_is_an_error_row(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(RAW / "limassol-p3-04.txt", folder)
    (folder / "gone.docx").symlink_to(tmp_path / "nowhere.docx")
    result = CliRunner().invoke(app, ["run", str(folder), "--out", str(tmp_path / "out"), "--no-analysis"])
    assert result.exit_code == 0, result.output
    files = pd.read_parquet(tmp_path / "out" / "files.parquet").set_index("source_file")
    assert files.loc["gone.docx", "error_code"] == "unreadable_file"
    # the link and where it leads, in English and, read back from the catalogue, in French
    target = str(tmp_path / "nowhere.docx")
    said = files.loc["gone.docx", "message"]
    assert said == f"The file cannot be opened: it is a link to {target}, which does not exist."
    from pipeline.errors import error_phrasebook

    assert error_phrasebook().translation(said, "fr") == (
        f"Le fichier ne peut pas être ouvert : c'est un lien vers {target}, qui n'existe pas.")
    import errno

    from pipeline.errors import message, os_reason

    denied = message("unreadable_file", reason=os_reason(PermissionError(errno.EACCES, "Permission denied")))
    assert error_phrasebook().translation(denied, "fr") == "Le fichier ne peut pas être ouvert : pas la permission de le lire."
    assert files.loc["limassol-p3-04.txt", "status"] == "ok"
    practices = pd.read_parquet(tmp_path / "out" / "practices.parquet")
    assert practices["area_mismatch"].isna().all(), "no areas predicted: a mismatch is unknown, not False"


def test_files_of_one_name_in_two_input_folders_are_both_read(tmp_path):
    for year, sample in (("2023", "limassol-p3-04.txt"), ("2024", "ballarat-p4-05.docx")):
        (tmp_path / year).mkdir()
        shutil.copy(RAW / sample, tmp_path / year / "report.docx" if sample.endswith(".docx") else tmp_path / year / "report.txt")
    shutil.copy(RAW / "ballarat-p4-13.docx", tmp_path / "2023" / "report.docx")
    batch = run_batch([tmp_path / "2023", tmp_path / "2024", tmp_path / "2024" / "report.docx"], tmp_path / "out",
                      analyse=False)
    names = sorted(r.source_file for r in batch.files)
    assert names == ["2023/report.docx", "2024/report.docx", "report.txt"]  # the file given twice counts once
    assert len({r.sha256 for r in batch.files}) == 3


def test_a_folder_and_a_file_that_would_show_one_name_are_three_rows(tmp_path):
    """archive/report.docx, archive/late/report.docx and a late file inbox/late/report.docx given beside the
    folder: no two rows may share a name, or one file is lost."""
    for sample, target in (("ballarat-p4-13.docx", "archive/report.docx"), ("paris-p2-01.docx", "archive/late/report.docx"),
                           ("ballarat-p4-05.docx", "inbox/late/report.docx")):
        (tmp_path / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(RAW / sample, tmp_path / target)
    batch = run_batch([tmp_path / "archive", tmp_path / "inbox" / "late" / "report.docx"], tmp_path / "out",
                      analyse=False)
    names = [r.source_file for r in batch.files]
    assert len(names) == 3 and len(set(names)) == 3, names
    assert len({r.sha256 for r in batch.files}) == 3 and all(r.status == "ok" for r in batch.files)


def test_a_file_name_that_is_not_utf8_is_read_and_shown(tmp_path):
    """A name in Windows-1252 bytes (an old archive unpacked on Linux) is read, and shown as the city wrote it."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(RAW / "limassol-p3-04.txt", folder)
    with open(os.fsencode(folder) + b"/rapport_d\xe9cembre.docx", "wb") as fh:
        fh.write((RAW / "paris-p2-01.docx").read_bytes())
    batch = run_batch([folder], tmp_path / "out", analyse=False)
    assert sorted(r.source_file for r in batch.files) == ["limassol-p3-04.txt", "rapport_décembre.docx"]
    assert all(r.status == "ok" for r in batch.files)
    files = pd.read_parquet(tmp_path / "out" / "files.parquet")
    assert "rapport_décembre.docx" in set(files["source_file"])


def _without_root_powers(command: list[str]) -> list[str]:
    """The command as an ordinary account runs it: root writes and reads any folder, so it drops that power."""
    if os.geteuid() != 0:
        return command
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv, so no folder can be closed to this test")
    return ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search",
            *command]


def test_linked_and_closed_sub_folders_are_not_lost(tmp_path):
    """A linked sub-folder is followed (a loop ends); one the account cannot list is an error row naming it."""
    folder, share = tmp_path / "in", tmp_path / "share"
    (share / "2024").mkdir(parents=True)
    (folder / "locked").mkdir(parents=True)
    shutil.copy(RAW / "limassol-p3-04.txt", folder)
    shutil.copy(RAW / "ballarat-p4-13.docx", share / "2024")
    shutil.copy(RAW / "paris-p2-01.docx", folder / "locked")
    (folder / "2024").symlink_to(share / "2024")
    (share / "2024" / "loop").symlink_to(share)
    closed = tmp_path / "closed"
    closed.mkdir()
    shutil.copy(RAW / "ballarat-p4-05.docx", closed)
    os.chmod(folder / "locked", 0)
    os.chmod(closed, 0)
    script = ("import sys, json; from pipeline.inputs import discover; from pipeline.run import process_file; "
              "from pipeline.config import Settings; from pipeline.segment import Segmenter; "
              "files = discover(sys.argv[1:]); seg = Segmenter(); "
              "print(json.dumps([[f.name, process_file(f, Settings(), seg).error_code] for f in files]))")
    command = _without_root_powers([sys.executable, "-c", script, str(folder), str(closed)])
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    finally:
        os.chmod(folder / "locked", 0o755)
        os.chmod(closed, 0o755)
    assert done.returncode == 0, done.stderr
    rows = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    assert rows == {"2024/ballarat-p4-13.docx": None, "limassol-p3-04.txt": None, "locked/": "unreadable_folder",
                    "closed/": "unreadable_folder"}


def test_an_output_folder_inside_the_input_folder_is_not_read_back(tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    for name in ("limassol-p3-04.txt", "ballarat-p4-13.docx"):
        shutil.copy(RAW / name, folder)
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(app, ["run", str(folder), "--out", str(folder / "processed"), "--no-analysis"])
        assert result.exit_code == 0, result.output
    assert "Nothing changed" in result.output  # the first run's own tables are not new inputs
    files = pd.read_parquet(folder / "processed" / "files.parquet")
    assert sorted(files["source_file"]) == ["ballarat-p4-13.docx", "limassol-p3-04.txt"]
    manifest = json.loads((folder / "processed" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["ignored_system_files"] == []  # its cache and lock are not the city's files
    # the other way round: forms in a folder inside the output folder are read
    shutil.copytree(folder, tmp_path / "batch" / "forms", ignore=shutil.ignore_patterns("processed"))
    result = runner.invoke(app, ["run", str(tmp_path / "batch" / "forms"), "--out", str(tmp_path / "batch"),
                                 "--no-analysis"])
    assert result.exit_code == 0 and "2 files: 2 ok" in " ".join(result.output.split()), result.output


def test_a_folder_that_cannot_be_opened_is_counted_as_a_folder_not_a_file(tmp_path):
    from pipeline.report.summary import Words, _run_sentence

    folder, out = tmp_path / "in", tmp_path / "out"
    (folder / "locked").mkdir(parents=True)
    (folder / "closed").mkdir()
    shutil.copy(RAW / "limassol-p3-04.txt", folder)
    shutil.copy(RAW / "paris-p2-01.docx", folder / "locked")
    for name in ("locked", "closed"):
        os.chmod(folder / name, 0)
    command = [sys.executable, "-m", "pipeline", "run", str(folder), "--out", str(out), "--no-analysis"]
    try:
        done = subprocess.run(_without_root_powers(command), capture_output=True, text=True, timeout=120, cwd=ROOT,
                              env={**os.environ, "COLUMNS": "500"})
    finally:
        for name in ("locked", "closed"):
            os.chmod(folder / name, 0o755)
    assert done.returncode == 0, done.stderr
    assert ("1 file: 1 ok, 0 blank forms, 0 errors; 2 folders that could not be opened, their files not read -> "
            "1 practice") in done.stderr, done.stderr
    assert "unreadable_folder closed/: The folder cannot be opened" in done.stderr  # still listed, to chase
    counts = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["counts"]
    assert (counts["files"], counts["unreadable_folders"], counts["by_status"]) == \
        (1, 2, {"ok": 1, "empty_form": 0, "error": 0})
    assert len(pd.read_parquet(out / "files.parquet")) == 3  # each folder keeps its row
    sentence = _run_sentence({"files": 1, "ok": 1, "empty_form": 0, "error": 0, "folders": 2, "practices": 1,
                              "cities": 1}, Words("en"))
    assert sentence.startswith("1 file came in: 1 read, 0 blank forms, 0 that could not be used.")
    assert "Folders that could not be opened, the files in them not read (see the errors): 2 folders." in sentence


def test_the_outputs_of_earlier_runs_in_an_input_folder_are_skipped_and_listed_once(tmp_path):
    from pipeline.report.summary import Words, _run_sentence

    folder = tmp_path / "B"
    folder.mkdir()
    for name in ("limassol-p3-04.txt", "ballarat-p4-13.docx"):
        shutil.copy(RAW / name, folder)
    runner = CliRunner()
    earlier = folder / "results-2024"
    assert runner.invoke(app, ["run", str(folder), "--out", str(earlier), "--no-analysis"]).exit_code == 0
    # what a run with analysis writes beside its tables: city reports in Word, which read as blank forms
    (earlier / "reports" / "cities").mkdir(parents=True)
    shutil.copy(RAW / "paris-p2-01.docx", earlier / "reports" / "cities" / "paris.docx")
    (earlier / "reports" / "summary.html").write_text("<html></html>", encoding="utf-8")
    (earlier / ".cache" / "embeddings").mkdir()
    (earlier / ".cache" / "embeddings" / "part-1.npy").write_bytes(b"x")
    # a copy of a run's tables without its hidden lock and cache, and a folder of git's
    shutil.copytree(earlier, folder / "copied", ignore=shutil.ignore_patterns(".*"))
    (folder / ".git" / "objects").mkdir(parents=True)
    (folder / ".git" / "objects" / "ab12").write_bytes(b"x")
    result = runner.invoke(app, ["run", str(folder), "--out", str(folder / "results-2025"), "--no-analysis"])
    said = " ".join(result.output.split())
    assert result.exit_code == 0 and "2 files: 2 ok" in said and "copied/, results-2024/" in said, said
    manifest = json.loads((folder / "results-2025" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["skipped_output_folders"] == ["copied/", "results-2024/"]
    assert manifest["counts"]["ignored_system_files"] == [".git/"]  # once, not file by file
    files = pd.read_parquet(folder / "results-2025" / "files.parquet")
    assert sorted(files["source_file"]) == ["ballarat-p4-13.docx", "limassol-p3-04.txt"]
    assert "2 folders" in _run_sentence({**dict.fromkeys(("files", "ok", "empty_form", "error", "practices", "cities"),
                                                           2), "earlier_outputs": 2}, Words("en"))
    # a form put into an earlier run's folder by hand is still read: only what the run wrote is left out
    shutil.copy(RAW / "paris-p2-01.docx", earlier / "late.docx")
    batch = run_batch([folder], tmp_path / "out", analyse=False)
    assert sorted(r.source_file for r in batch.files) == ["ballarat-p4-13.docx", "limassol-p3-04.txt",
                                                          "results-2024/late.docx"]


def test_what_a_run_writes_is_among_the_outputs_left_unread():
    from pipeline.inputs import RUN_OUTPUTS
    from pipeline.report import CITY_REPORTS_DIR, SUMMARY_FILE
    from pipeline.run_key import REVIEWS_TABLE
    from pipeline.web.settings import REVIEWS_FILE

    written = {f"{name}.parquet" for name in SCHEMAS} | {"manifest.json", REVIEWS_TABLE, REVIEWS_FILE,
                                                         Path(CITY_REPORTS_DIR).parts[0], Path(SUMMARY_FILE).parts[0]}
    assert written <= RUN_OUTPUTS


def test_an_input_folder_is_refused_as_the_output_folder(tmp_path):
    folder = tmp_path / "C"
    folder.mkdir()
    shutil.copy(RAW / "limassol-p3-04.txt", folder)
    result = CliRunner().invoke(app, ["run", str(folder), "--out", str(folder) + "/", "--no-analysis"])
    said = "".join(result.output.split())  # a long path may be wrapped anywhere
    assert result.exit_code == 2 and f"Notrun:Theoutputfolder{folder}istheinputfolder" in said, result.output
    assert f"forexample{folder / 'results'}(" in said
    assert sorted(p.name for p in folder.iterdir()) == ["limassol-p3-04.txt"]  # nothing written among the forms
    with pytest.raises(run_module.OutputFolderError):
        run_batch([folder], folder, analyse=False)
    assert sorted(p.name for p in folder.iterdir()) == ["limassol-p3-04.txt"]


def test_a_file_is_named_by_its_real_folder_rather_than_a_link_to_it(tmp_path):
    folder = tmp_path / "in"
    (folder / "2024").mkdir(parents=True)
    shutil.copy(RAW / "limassol-p3-04.txt", folder / "2024" / "report.txt")
    for name in ("0-link", "aa-link", "zz-link"):
        (folder / name).symlink_to(folder / "2024")
    assert [f.name for f in discover([folder])] == ["2024/report.txt"]


def test_names_in_bytes_that_are_not_utf8_stay_readable_and_apart(tmp_path):
    folder = tmp_path / "in"
    sub = os.fsencode(folder) + "/Année".encode()
    os.makedirs(sub)
    for name in (b"/d\xe9c.txt", b"/a\x81.txt", b"/a\x8d.txt"):
        with open(sub + name, "wb") as fh:
            fh.write((RAW / "limassol-p3-04.txt").read_bytes())
    assert [f.name for f in discover([folder])] == ["Année/a\\x81.txt", "Année/a\\x8d.txt", "Année/déc.txt"]


def test_one_late_file_run_into_a_batch_folder_is_refused_unless_it_is_to_replace_the_batch(tmp_path):
    import pandas as pd

    folder, out = tmp_path / "batch", tmp_path / "out"
    folder.mkdir()
    for name in ("limassol-p3-04.txt", "ballarat-p4-05.docx"):
        shutil.copy(RAW / name, folder / name)
    runner = CliRunner()
    assert runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"]).exit_code == 0
    late = runner.invoke(app, ["run", str(RAW / "ballarat-p4-13.docx"), "--out", str(out), "--no-analysis"])
    said = " ".join(late.output.split())
    assert late.exit_code == 2 and "read 2 files; this one reads 1" in said and "--replace" in said, late.output
    assert len(pd.read_parquet(out / "files.parquet")) == 2  # the batch's tables are as they were
    replaced = runner.invoke(app, ["run", str(RAW / "ballarat-p4-13.docx"), "--out", str(out), "--no-analysis",
                                   "--replace"])
    assert replaced.exit_code == 0 and "Replaced" in replaced.output, replaced.output
    assert len(pd.read_parquet(out / "files.parquet")) == 1
    # the batch's folder again: as large as the last run, but the late file's practice would go, so it is named
    again = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"])
    said = " ".join(again.output.split())
    assert again.exit_code == 2 and "this one reads" not in said and "(ballarat-p4-13.docx)" in said, again.output
    again = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis", "--replace"])
    assert again.exit_code == 0 and len(pd.read_parquet(out / "files.parquet")) == 2


def test_an_output_folder_that_cannot_be_written_is_said_in_one_line_before_any_file_is_read(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(RAW / "limassol-p3-04.txt", folder)
    (tmp_path / "outfile").write_text("not a folder", encoding="utf-8")
    runner = CliRunner()
    for out in (tmp_path / "outfile", tmp_path / "outfile" / "sub"):
        result = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"])
        said = "".join(result.output.split())  # a long path may be wrapped anywhere
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
        assert "Notrun:" in said and f"{tmp_path / 'outfile'}isafile,notafolder" in said, result.output
    # an earlier run's folder made read-only, its lock and cache still open: found out before reading, not after
    out = tmp_path / "out"
    assert runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"]).exit_code == 0
    shutil.copy(RAW / "ballarat-p4-13.docx", folder)
    cached = sorted((out / ".cache" / "files").iterdir())
    closed = tmp_path / "closed"
    closed.mkdir()
    for path in (out / ".cache", out / ".cache" / "files"):
        os.chmod(path, 0o777)
    os.chmod(out / run_module.RUN_LOCK, 0o666)
    os.chmod(out, 0o555)
    os.chmod(closed, 0o555)
    command = [sys.executable, "-m", "pipeline", "run", str(folder), "--out", str(out), "--no-analysis"]
    script = ("import sys; from pipeline.run import OutputFolderError, make_output_folder\n"
              "try: make_output_folder(sys.argv[1])\nexcept OutputFolderError as exc: print(exc)")
    try:
        done = subprocess.run(_without_root_powers(command), capture_output=True, text=True, timeout=120, cwd=ROOT,
                              env={**os.environ, "COLUMNS": "500"})
        made = subprocess.run(_without_root_powers([sys.executable, "-c", script, str(closed / "out")]),
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
    finally:
        os.chmod(out, 0o755)
        os.chmod(closed, 0o755)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    said = done.stderr.strip()
    assert said == (f"Not run: Cannot write in the output folder {out}: no permission to write there. Give the run a "
                    "folder it can write to; no file was read."), said
    assert sorted((out / ".cache" / "files").iterdir()) == cached  # the new file was not read
    assert made.stdout.strip() == (f"The output folder {closed / 'out'} cannot be made: no permission to write there. "
                                   "Give the run a folder it can write to."), made.stderr


def test_a_batch_run_again_with_files_gone_from_its_folder_names_them_before_replacing_its_tables(tmp_path):
    folder, out = tmp_path / "batch", tmp_path / "out"
    folder.mkdir()
    names = ("limassol-p3-04.txt", "ballarat-p4-05.docx", "ballarat-p4-13.docx", "paris-p2-01.docx", "oslo-p1-13.docx")
    for name in names:
        shutil.copy(RAW / name, folder / name)
    runner = CliRunner()
    assert runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"]).exit_code == 0
    (folder / "oslo-p1-13.docx").unlink()
    again = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"])
    said = "".join(again.output.split())  # a long path may be wrapped anywhere
    assert again.exit_code == 2, again.output
    expected = (f"1 file has gone from {folder} since the last run in {out} read it (oslo-p1-13.docx): this run's "
                "tables would no longer hold its practices. If it was removed on purpose, add --replace.")
    assert "".join(expected.split()) in said and "Toaddafile" not in said, again.output
    assert len(pd.read_parquet(out / "files.parquet")) == 5  # the batch's tables are as they were
    for name in names[:4]:
        (folder / name).unlink()
    shutil.copy(RAW / "bergen-p3-07.docx", folder)
    again = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"])
    said = " ".join(again.output.split())
    assert again.exit_code == 2 and "5 files have gone" in said, again.output
    assert "(ballarat-p4-05.docx, ballarat-p4-13.docx, limassol-p3-04.txt and 2 more)" in said
    replaced = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis", "--replace"])
    assert replaced.exit_code == 0 and "Replaced, as --replace asks" in " ".join(replaced.output.split())
    assert list(pd.read_parquet(out / "files.parquet")["source_file"]) == ["bergen-p3-07.docx"]


def test_a_file_gone_that_gave_no_practice_is_not_said_to_take_practices_with_it(tmp_path):
    folder, out = tmp_path / "batch", tmp_path / "out"
    folder.mkdir()
    shutil.copy(RAW / "limassol-p3-04.txt", folder)
    (folder / "broken.docx").write_bytes(b"not a word file")
    (folder / "blank.docx").write_bytes((RAW / "formulaire-vierge.docx").read_bytes())
    runner = CliRunner()
    assert runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"]).exit_code == 0
    (folder / "broken.docx").unlink()
    again = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"])
    said = " ".join(again.output.split())
    assert again.exit_code == 2 and "(broken.docx)" in said, again.output
    assert "would no longer list it (no practice was read from it)" in said and "its practices" not in said, said
    (folder / "blank.docx").unlink()
    (folder / "limassol-p3-04.txt").unlink()
    shutil.copy(RAW / "oslo-p1-13.docx", folder)
    again = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"])
    said = " ".join(again.output.split())
    assert again.exit_code == 2 and "would no longer hold the practices of 1 of them" in said, said


def test_a_file_gone_while_another_came_in_is_named_too(tmp_path):
    """One form removed and one added: the same count of files, but the removed form's practices would vanish from
    the tables; the run names it as when files only went."""
    folder, out = tmp_path / "batch", tmp_path / "out"
    folder.mkdir()
    for name in ("paris-p2-01.docx", "oslo-p1-13.docx"):
        shutil.copy(RAW / name, folder / name)
    runner = CliRunner()
    assert runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"]).exit_code == 0
    (folder / "oslo-p1-13.docx").unlink()
    shutil.copy(RAW / "bergen-p3-07.docx", folder)
    again = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"])
    said = " ".join(again.output.split())
    assert again.exit_code == 2 and "1 file has gone" in said and "(oslo-p1-13.docx)" in said, again.output
    assert sorted(pd.read_parquet(out / "files.parquet")["source_file"]) == ["oslo-p1-13.docx", "paris-p2-01.docx"]
    # a file added alone is no file gone; the run names what it read anew
    shutil.copy(RAW / "oslo-p1-13.docx", folder)
    added = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"])
    assert added.exit_code == 0 and len(pd.read_parquet(out / "files.parquet")) == 3
    assert "Since the last run: 1 new (bergen-p3-07.docx)." in " ".join(added.output.split()), added.output
    shutil.copy(RAW / "paris-p2-10.docx", folder / "paris-p2-01.docx")  # the same name, another form
    changed = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"])
    said = " ".join(changed.output.split())
    assert changed.exit_code == 0 and "Since the last run: 1 changed (paris-p2-01.docx)." in said, changed.output
    # a file renamed is read under its new name: nothing is gone, and the run says it was renamed
    (folder / "oslo-p1-13.docx").rename(folder / "Oslo form 2024.docx")
    renamed = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"])
    said = " ".join(renamed.output.split())
    assert renamed.exit_code == 0 and "1 renamed (oslo-p1-13.docx -> Oslo form 2024.docx)" in said, renamed.output
    assert "Since the last run: 1 renamed (oslo-p1-13.docx -> Oslo form 2024.docx)." in said
    assert "Also changed since the last run" not in said
    # new settings (or models, after `train`): practices whose files did not change may differ too, and it is said
    tuned = runner.invoke(app, ["--setting", "segment.short_description_words=30", "run", str(folder), "--out",
                                str(out), "--no-analysis"])
    said = " ".join(tuned.output.split())
    assert tuned.exit_code == 0 and "Also changed since the last run: the settings:" in said, tuned.output
    # other inputs that leave out a file the last run read: named, not dropped
    extra = tmp_path / "extra"
    extra.mkdir()
    shutil.copy(RAW / "lublin-p1-02.docx", extra)
    (folder / "bergen-p3-07.docx").unlink()
    other = runner.invoke(app, ["run", str(folder), str(extra), "--out", str(out), "--no-analysis"])
    said = " ".join(other.output.split())
    assert other.exit_code == 2 and "not among this run's inputs" in said and "bergen-p3-07.docx" in said, said


def test_a_run_stopped_while_replacing_its_tables_is_not_kept_as_unchanged(tmp_path, monkeypatch):
    """A run stopped after its first table was replaced leaves tables of two runs: the folder's manifest says it is
    unfinished, so the same inputs run again are read again instead of "Nothing changed … kept", and the
    interruption says the outputs may mix; stopped before any table, the last run's outputs are said intact."""
    import pipeline.tables as tables_module

    folder, out = tmp_path / "batch", tmp_path / "out"
    folder.mkdir()
    shutil.copy(RAW / "paris-p2-01.docx", folder)
    runner = CliRunner()
    assert runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"]).exit_code == 0
    shutil.copy(RAW / "oslo-p1-13.docx", folder)
    real = tables_module.write_table
    written = []

    def dying(path, table):
        if written:
            raise KeyboardInterrupt("killed")
        written.append(path)
        return real(path, table)

    monkeypatch.setattr(run_module, "write_table", dying)
    stopped = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"])
    assert stopped.exit_code == 130 and "may mix it with the last one" in " ".join(stopped.output.split())
    assert len(pd.read_parquet(out / "files.parquet")) == 2 and len(pd.read_parquet(out / "practices.parquet")) == 1
    monkeypatch.setattr(run_module, "write_table", real)
    (folder / "oslo-p1-13.docx").unlink()  # the inputs of the last complete run again
    again = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"])
    # the stopped run's files table read the form now gone: named, not kept as unchanged
    assert again.exit_code == 2 and "(oslo-p1-13.docx)" in again.output, again.output
    again = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis", "--replace"])
    assert again.exit_code == 0 and "Nothing changed" not in again.output, again.output
    assert len(pd.read_parquet(out / "files.parquet")) == 1
    assert "unfinished" not in json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    # stopped while reading a new form: nothing was replaced
    shutil.copy(RAW / "bergen-p3-07.docx", folder)
    monkeypatch.setattr(run_module, "process_file", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    early = runner.invoke(app, ["run", str(folder), "--out", str(out), "--no-analysis"])
    assert early.exit_code == 130 and "outputs in" in early.output and "are as it left them" in " ".join(
        early.output.split()), early.output


def test_an_empty_input_folder_is_said_and_writes_nothing(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / ".DS_Store").write_bytes(b"x")
    result = CliRunner().invoke(app, ["run", str(tmp_path / "in"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "No submissions in" in result.output
    assert not (tmp_path / "out").exists()


def test_check_speaks_the_language_of_a_french_form():
    sample = RAW / "strasbourg-p3-01.docx"
    result = CliRunner().invoke(app, ["check", str(sample)])
    assert result.exit_code == 0, result.output
    for words in ("Ville", "Point de départ", "Critères d'une bonne pratique", "phrase à l'appui", "français"):
        assert words in result.output
    assert re.search(r"Domaines? déclarés? +│ \d+[a-c]?\. [A-Z]", result.output), "a declared area by number and name"
    assert "indice" not in result.output
    assert re.search(r"\d+ mots : \S", result.output)  # French spacing before the colon
    assert re.search(r"\b[01],\d\d\b", result.output)  # probabilities with a decimal comma


MISMATCHED_FORM = (
    "Ville : Grenoble\nDépartement : Direction de l'aménagement urbain\nDate du formulaire : 18/01/2024\n"
    "Titre : Passerelles Emploi – mentorat professionnel pour personnes réfugiées\n"
    "Principal domaine d'action : Espace public\n"
    "Principal objectif : Faciliter l'accès à un emploi qualifié des personnes réfugiées diplômées\n"
    "Période de mise en œuvre : 2023\n"
    "But : Aider les personnes réfugiées qui ont un diplôme ou une expérience professionnelle dans leur pays à "
    "retrouver un emploi qui correspond à leurs compétences, au lieu de rester dans des emplois peu qualifiés.\n"
    "Point de départ : Les conseillères de la Mission locale et de France Travail constataient que des ingénieurs, "
    "des infirmières ou des comptables syriens, afghans ou soudanais travaillaient dans le nettoyage ou la "
    "restauration, faute de réseau professionnel et de reconnaissance de leurs diplômes, et cela depuis des années "
    "dans la plupart des quartiers de la ville.\n"
    "Processus : Chaque personne réfugiée est mise en binôme avec un·e salarié·e d'une entreprise du même secteur "
    "pendant six mois : relecture du CV, préparation aux entretiens, visite de l'entreprise.\n"
    "Impact : 34 mentoré·e·s ont trouvé un emploi qualifié dans leur domaine dans les six mois.\n")


def test_check_names_the_declared_and_the_pointed_areas_and_shows_whole_sentences(tmp_path):
    form = tmp_path / "passerelles.txt"
    form.write_text(MISMATCHED_FORM, encoding="utf-8")
    # a wide terminal: area names and labels stay on one line of their cells
    result = CliRunner().invoke(app, ["check", str(form)], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    said = re.search(r"Vous avez déclaré .*?Vérifiez le domaine déclaré\.", output).group(0)
    # the areas named are those of the table above it, the likeliest first, and no more
    rows = re.findall(r"│ (\d+[a-c]?\. [^│]+?) +│ [01],\d\d", output)
    # the main area is tagged, and the declared one, which the text does not suggest, is listed last
    assert rows[0] == "8. Entreprise, emploi et diversité (principal)"
    assert rows[-1] == "6. Espace public (déclaré, non suggéré)"
    # at a probability of 0,00 the declared area shows no sentence, which would seem to support it
    assert re.search(r"6\. Espace public \(déclaré, non suggéré\) +│ 0,0\d +│ - +│", output), output
    listed = [re.sub(r" \(principal\)$", "", row) for row in rows[:-1]]
    assert said == ("Vous avez déclaré 6. Espace public ; le texte décrit plutôt "
                    + (listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} ou {listed[-1]}")
                    + ". Vérifiez le domaine déclaré."), said
    assert "Domaine déclaré │ 6. Espace public" in output
    assert "Période (années) │ 2023 │" in output, "one year, not '2023 - 2023'"
    assert "phrase à l'appui" in output and "indice" not in output
    # evidence sentences are shown whole (the starting point's first one has 281 characters)
    criteria = output.split("Critères d'une bonne pratique")[1].split("Lignes directrices")[0]
    assert "…" not in criteria
    for cut in re.findall(r"(\S+)…", output):  # whatever is cut is cut after a whole word
        assert any(word.startswith(cut) and (word == cut or word[len(cut)] in " ,.;:")
                   for word in MISMATCHED_FORM.split()), cut


BILINGUAL_FORM = """English version

City: Geneva
Title of the good practice: Neighbourhood mediators in Les Pâquis
Main area of action: 6
Purpose: Since 2019 twelve volunteer mediators trained by the Bureau de l'intégration meet tenants of the Pâquis estates every month and help them settle disputes over noise and shared spaces.
Impact: 340 conflicts were settled in 2022.

Version française

Ville : Genève
Titre de la bonne pratique : Voisins d’accueil aux Pâquis
Principal domaine d'action : 6
But : Depuis 2019, douze habitants bénévoles formés par le Bureau de l'intégration accueillent chaque mois les familles nouvellement arrivées dans les immeubles des Pâquis, leur présentent le quartier et les services.
Résultats : 340 familles accueillies en 2022.
"""


def test_check_gives_the_two_versions_of_a_practice_in_one_file_one_main_area(tmp_path):
    from pipeline.cli import _check_areas, _check_models
    from pipeline.config import AreaSettings
    from pipeline.run import InputFile, process_file
    from pipeline.segment import Segmenter

    form = tmp_path / "geneve.txt"
    form.write_text(BILINGUAL_FORM, encoding="utf-8")
    practices = process_file(InputFile(form, form.name), Settings(), Segmenter()).practices
    assert [p.lang for p in practices] == ["en", "fr"]
    embedder, classifier, _ = _check_models(Settings())
    mains = {}
    for share in (False, True):
        areas = _check_areas(practices, Settings(areas=AreaSettings(versions_share_main=share)), embedder, classifier)
        mains[share] = [areas[p.practice_id][0].main_area_pred for p in practices]
        for suggestion, rows in areas.values():  # the table printed lists the suggested areas, main area first
            assert suggestion.predicted_areas[0] == suggestion.main_area_pred and set(rows) >= set(suggestion.predicted_areas)
    assert mains[False][0] != mains[False][1], "read apart, the two texts point to different areas"
    assert mains[True][0] == mains[True][1] and mains[True][0] in mains[False]
    result = CliRunner().invoke(app, ["check", str(form)], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output


def test_check_warnings_are_worded_in_the_form_language():
    from pipeline.cli import warning_text

    french = warning_text("converted:text-only", "fr")
    assert "texte seul" in french and "text-only" not in french
    assert "text only" in warning_text("converted:text-only", "en")
    assert warning_text("missing_section:impact", "fr") == "rubrique manquante : Impact"


def test_check_says_when_the_period_gives_no_year(tmp_path):
    form = tmp_path / "form.txt"
    form.write_text("Ville : Sion\nTitre : Fête des cultures\nPériode de mise en œuvre : chaque été\n"
                    "But : réunir les habitants de toutes origines autour de la cuisine, de la musique et des jeux, "
                    "avec les associations du quartier et les écoles qui préparent les stands ensemble.\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(form)])
    assert result.exit_code == 0, result.output
    assert "aucune année trouvée" in result.output and "? - ?" not in result.output


def test_check_predicts_without_importing_scikit_learn_or_pandas():
    """A cold `check` reads its saved models into the numpy-only fitted classes and keeps its rows out of Arrow
    tables: scikit-learn with SciPy take about a second to import, pandas almost half a second, as long as the
    analysis of one form."""
    sample = RAW / "strasbourg-p3-01.docx"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "pipeline.cli", "check", str(sample)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Critères d'une bonne pratique" in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "pipeline.criteria" in imported and "pipeline.classify" in imported
    assert not {name for name in imported if name.split(".")[0] in ("sklearn", "scipy", "pandas")}
    # torch is installed beside the test extras; spaCy's thinc imported it (1.4 s of a 3.3 s check), unused
    import importlib.util

    assert importlib.util.find_spec("torch") is not None, "the test extras hold torch: the point of this check"
    assert "torch.nn" not in imported and not {name for name in imported if name.startswith("torch.")}


def test_spacy_imported_without_torch_leaves_torch_importable():
    """The sentence-transformers encoder still imports torch after spaCy was imported without it."""
    script = ("import sys; from pipeline.criteria import import_spacy; import_spacy(); "
              "assert 'torch' not in sys.modules; import thinc.compat as c; assert not c.has_torch; "
              "import torch; print(torch.zeros(2).sum().item())")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0 and done.stdout.strip() == "0.0", done.stderr[-2000:]


def test_odd_practices_go_through_every_stage(tmp_path):
    """A title alone, a one-word description, a German text without a city, a 3,000-word text."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "title-only.txt").write_text("City: Lyon\nTitle: Only a title here\n", encoding="utf-8")
    (folder / "one-word.txt").write_text("Ville : Lyon\nTitre : Cafés\nBut : Oui.\n", encoding="utf-8")
    (folder / "german.txt").write_text(
        "Title: Willkommenskultur\nPurpose: Die Stadt hat ein Willkommenszentrum für neue Einwohnerinnen und "
        "Einwohner eröffnet, das in zwölf Sprachen berät und jedes Jahr mehr als 3000 Menschen unterstützt.\n",
        encoding="utf-8")
    words = "the city opened a welcome desk for newcomers with volunteers and language cafes in three districts".split()
    long_text = " ".join(words[i % len(words)] for i in range(3000))
    (folder / "long.txt").write_text(f"City: Oslo\nTitle: Long one\nProcess: {long_text}.\n", encoding="utf-8")
    out = tmp_path / "out"
    batch = run_batch([folder], out)
    assert len(batch.practices) == 4
    tables = {name: pd.read_parquet(out / f"{name}.parquet") for name in TABLES}
    assert all(len(codes) > 0 for codes in tables["practices"]["predicted_areas"])
    assert tables["criteria"].groupby("practice_id").size().eq(6).all() and tables["criteria"]["practice_id"].nunique() == 4
    assert tables["areas"]["practice_id"].nunique() == 4
    assert (out / "reports" / "summary.html").exists()
    assert tables["practices"].set_index("source_file").loc["german.txt", "lang"] == "de"


def test_a_failing_stage_costs_only_its_own_table(tmp_path, monkeypatch):
    import pipeline.stages as stages

    def broken(*args, **kwargs):
        raise RuntimeError("similarity index unavailable")

    monkeypatch.setattr(stages, "similar_stage", broken)
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("oslo-p1-13.docx", "paris-p2-01.docx"):
        shutil.copy(RAW / name, folder / name)
    batch = run_batch([folder], tmp_path / "out")
    assert batch.manifest["stage_errors"] == {"similar": "RuntimeError: similarity index unavailable"}
    tables = _tables(tmp_path / "out")
    assert len(tables["similar"]) == 0
    assert len(tables["practices"]) == 2 and len(tables["criteria"]) == 12 and len(tables["areas"]) > 0
    summary = (tmp_path / "out" / "reports" / "summary.html").read_text(encoding="utf-8")
    assert "similarity index unavailable" in summary


def test_a_missing_trained_model_is_said_aloud(tmp_path):
    from pipeline.config import Settings
    from pipeline.stages import model_fallbacks

    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("dublin-p2-05.docx", "strasbourg-p1-01.docx"):
        shutil.copy(RAW / name, inputs / name)
    settings = Settings(model_dir=tmp_path / "no-area-model", criteria_model_dir=tmp_path / "no-criteria-model")
    batch = run_batch([inputs], tmp_path / "out", settings)
    notes = model_fallbacks(batch.manifest["models"])
    assert set(notes) == {"areas", "criteria"}
    assert "no trained model" in notes["areas"] and "zero-shot" in notes["areas"]
    assert "no learned model" in notes["criteria"]
    summary = (tmp_path / "out" / "reports" / "summary.html").read_text(encoding="utf-8")
    assert 'id="model-fallbacks"' in summary and "zero-shot classifier" in summary
    # with the shipped models nothing is flagged
    assert model_fallbacks({"area_classifier": "area-classifier:abc:use-multilingual-v3",
                            "criteria": "criteria:ordinal:abc:use-multilingual-v3"}) == {}


def test_manifest_records_every_setting(sample_out):
    import json
    from dataclasses import fields

    from pipeline.config import Limits, Settings

    recorded = json.loads((sample_out / "manifest.json").read_text(encoding="utf-8"))["settings"]
    assert {f.name for f in fields(Settings)} <= set(recorded)
    assert {f.name for f in fields(Limits)} <= set(recorded["limits"])
    assert recorded["model_dir"].endswith("area-classifier") and recorded["criteria_model_dir"].endswith("criteria")


def test_the_manifest_gives_the_memory_high_water_mark_of_each_stage(sample_out):
    manifest = json.loads((Path(sample_out) / "manifest.json").read_text())
    memory = manifest["peak_rss_mb"]
    stages = ["ingest_segment", "areas", "similar", "criteria", "reports"]
    assert sorted(memory) == sorted([*stages, "ingest_segment_with_workers"])  # 50 files: read by 2 workers
    marks = [memory[s] for s in stages]
    assert all(m > 50 for m in marks) and marks == sorted(marks), "a high-water mark never goes down"
    assert memory["ingest_segment_with_workers"] > memory["ingest_segment"] + 2 * 20


def test_atomic_write_of_pieces_is_whole_or_absent(tmp_path):
    from pipeline.tables import atomic_write_bytes

    target = tmp_path / "page.html"
    atomic_write_bytes(target, (piece.encode() for piece in ("<p>", "é", "</p>")))
    assert target.read_text(encoding="utf-8") == "<p>é</p>"

    def failing():
        yield b"<p>new"
        raise RuntimeError("template error")

    with pytest.raises(RuntimeError):
        atomic_write_bytes(target, failing())
    assert target.read_text(encoding="utf-8") == "<p>é</p>"  # the old page stays whole
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]  # no temporary file left


def test_cached_file_results_are_read_again_when_the_reading_code_changes(tmp_path, monkeypatch):
    """A change to the readers, the segmenter or their resources reads cached files again, even where the
    segmenter version was not raised with it."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(RAW / "limassol-p3-04.txt", folder)
    assert run_batch([folder], tmp_path / "out", analyse=False).cache_hits == 0
    assert run_batch([folder], tmp_path / "out", analyse=False).cache_hits == 1
    monkeypatch.setattr(run_module, "reading_code_digest", lambda: "another reader")
    assert run_batch([folder], tmp_path / "out", analyse=False).cache_hits == 0
