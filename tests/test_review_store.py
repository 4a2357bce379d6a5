"""Files given as the review store that are not one (a copy made without its -wal file, a reviews.parquet, a
mistyped path, another database): every command that reads reviews stops and says what the file is and what to
give, without a traceback and without making a new store."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.tables import to_table, write_table
from pipeline.web.reviews import (ReviewInput, ReviewStore, ReviewStoreError, export_reviews, load_reviews,
                                  review_rows)


@pytest.fixture()
def run(tmp_path) -> Path:
    out = tmp_path / "out"
    practice = {"practice_id": "p1", "source_file": "oslo.docx", "practice_index": 1, "lang": "en", "city": "Oslo",
                "title": "Coffee and facts", "declared_areas": ["4"], "warnings": [], "predicted_areas": ["4"],
                "n_words": 30, "ongoing": False, "area_mismatch": False}
    write_table(out / "practices.parquet", to_table("practices", [practice]))
    write_table(out / "files.parquet", to_table("files", [{"source_file": "oslo.docx", "sha256": "1" * 64,
                                                           "status": "ok", "n_practices": 1}]))
    write_table(out / "criteria.parquet", to_table("criteria", []))
    return out


@pytest.fixture()
def live_store(tmp_path):
    """A store in use: one review written and still in its -wal file (as while `serve` runs)."""
    store = ReviewStore(tmp_path / "live" / "reviews.sqlite")
    store._db.execute("PRAGMA wal_autocheckpoint=0")  # keep every page in the -wal file, as a busy server may
    store.add("p1", ReviewInput(main_area="5"), "Anna")
    yield store
    store.close()


def _invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output and not isinstance(result.exception, (sqlite3.Error, KeyError)), result.output
    return result


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_a_copy_made_without_the_wal_file_is_refused_and_the_store_itself_is_read(live_store, run, tmp_path):
    copy = tmp_path / "copy.sqlite"
    shutil.copy(live_store.path, copy)
    with pytest.raises(ReviewStoreError, match="-wal"):
        review_rows(copy)
    # the web app opens its store for writing: such a copy must not become a new, empty store either
    with pytest.raises(ReviewStoreError, match="-wal"):
        ReviewStore(copy)
    with pytest.raises(ReviewStoreError, match="-wal"):
        review_rows(copy)  # still refused: nothing was written into it
    for args in (["export", "--xlsx", str(tmp_path / "x.xlsx"), "--data", str(run)],
                 ["evaluate", "--data", str(run)],
                 ["train", "--criteria", "--data", str(run), "--criteria-model-dir", str(tmp_path / "cm")]):
        result = _invoke(*args, "--reviews", str(copy))
        assert result.exit_code == 2, result.output
        assert "copy of a store in use made without its -wal file" in _flat(result.output)
    assert not (tmp_path / "x.xlsx").exists() and not (tmp_path / "cm").exists()
    # the store itself is read while the server holds it, and so is a copy made with its -wal file
    assert [r["main_area"] for r in review_rows(live_store.path)] == ["5"]
    shutil.copy(live_store.path.with_name("reviews.sqlite-wal"), tmp_path / "copy.sqlite-wal")
    assert [r["main_area"] for r in review_rows(copy)] == ["5"]
    result = _invoke("export", "--xlsx", str(tmp_path / "x.xlsx"), "--data", str(run), "--reviews", str(copy))
    assert result.exit_code == 0 and "(1 reviewed practice)" in _flat(result.output)
    # the table written beside the run is said, with what it changes
    said = "".join(result.output.split())
    assert (run / "reviews.parquet").is_file() and f"Written{run / 'reviews.parquet'}" in said
    assert f"thenext`run`into{run}runsagainiftheychanged" in said


def test_evaluate_of_one_review_says_it_in_the_singular_and_gives_no_spearman(run, tmp_path):
    write_table(run / "criteria.parquet", to_table("criteria", [
        {"practice_id": "p1", "criterion": "targeted", "level": 2, "score": 0.6, "evidence": [], "hint": ""}]))
    store = ReviewStore(tmp_path / "reviews.sqlite")
    store.add("p1", ReviewInput(main_area="4", criteria={"targeted": 2}), "Anna")
    store.close()
    result = _invoke("evaluate", "--reviews", str(store.path), "--data", str(run))
    assert result.exit_code == 0, result.output
    text = (run / "review_agreement.md").read_text(encoding="utf-8")
    assert "1 reviewed practice of the run." in text and "1 practice with a reviewed main area" in text
    assert "| targeted | 1 | n/a | n/a | 1.00 | 1.00 |" in text
    figures = json.loads((run / "review_agreement.json").read_text(encoding="utf-8"))
    assert figures["criteria"]["targeted"]["spearman"] is None
    said = "".join(result.output.split())
    assert f"Writtento{run / 'review_agreement.md'}andreview_agreement.jsonbesideit" in said
    # a store beside the run's tables is of that run: --data may be left out
    (run / "review_agreement.md").unlink()
    shutil.copy(store.path, run / "reviews.sqlite")
    assert _invoke("evaluate", "--reviews", str(run / "reviews.sqlite")).exit_code == 0
    assert "1 reviewed practice of the run." in (run / "review_agreement.md").read_text(encoding="utf-8")


def test_export_refuses_a_reviews_parquet_and_says_to_give_the_store(live_store, run, tmp_path):
    parquet = export_reviews(live_store.path, run)
    result = _invoke("export", "--xlsx", str(tmp_path / "x.xlsx"), "--data", str(run), "--reviews", str(parquet))
    assert result.exit_code == 2 and not (tmp_path / "x.xlsx").exists()
    assert "is a Parquet table" in _flat(result.output) and "`icc-practices serve` writes" in _flat(result.output)
    # training and evaluation read a reviews.parquet as well as a store
    assert [r.main_area for r in load_reviews(parquet)] == ["5"]
    with pytest.raises(ReviewStoreError, match="not reviews.parquet"):
        load_reviews(run / "practices.parquet")


def test_a_mistyped_store_path_is_an_error_and_no_file_is_made(run, tmp_path):
    typo = tmp_path / "typo.sqlite"
    for args in (["export", "--xlsx", str(tmp_path / "x.xlsx"), "--data", str(run)],
                 ["evaluate", "--data", str(run)], ["train", "--criteria", "--data", str(run)], ["train"]):
        result = _invoke(*args, "--reviews", str(typo))
        # a long path may be wrapped anywhere by the console: compare without spaces
        assert result.exit_code == 2 and f"Noreviewstoreat{typo}" in "".join(result.output.split()), result.output
    assert not typo.exists() and not (tmp_path / "x.xlsx").exists()
    # without --reviews and no store beside the run there is simply no review yet
    result = _invoke("export", "--xlsx", str(tmp_path / "x.xlsx"), "--data", str(run))
    assert result.exit_code == 0 and "(0 reviewed practices)" in _flat(result.output)


@pytest.mark.parametrize("content, said", [
    (b"", "is an empty file"),
    (b"practice_id,main_area\np1,5\n", "is not a SQLite database"),
])
def test_a_file_of_another_kind_is_not_read_as_a_store(tmp_path, content, said):
    path = tmp_path / "reviews.sqlite"
    path.write_bytes(content)
    with pytest.raises(ReviewStoreError, match=said):
        review_rows(path)


def test_another_database_is_neither_read_nor_written_as_a_store(tmp_path):
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE contacts (name TEXT)")
    db.close()
    for read_only in (True, False):
        with pytest.raises(ReviewStoreError, match="without a reviews table"):
            ReviewStore(other, read_only=read_only)
    with sqlite3.connect(other) as db:
        assert {r[0] for r in db.execute("SELECT name FROM sqlite_master")} == {"contacts"}
    db.close()


def test_serve_refuses_a_file_that_is_not_a_store_before_loading_models(live_store, run, tmp_path):
    parquet = export_reviews(live_store.path, run)
    result = _invoke("serve", "--data", str(run), "--reviews", str(parquet), "--port", "1")
    assert result.exit_code == 2 and "is a Parquet table" in _flat(result.output)
    # a store that does not exist yet is made, as a new one, by the server
    store = ReviewStore(tmp_path / "new" / "reviews.sqlite")
    assert store.all_current() == {}
    store.close()


# ---------------------------------------------------------------- reviews of practices no longer in the run


def test_a_store_of_schema_1_gains_the_city_and_title_and_keeps_its_reviews(tmp_path):
    from pipeline.web.reviews import _MIGRATIONS

    path = tmp_path / "reviews.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(f"CREATE TABLE schema_version (version INTEGER NOT NULL); {_MIGRATIONS[1]} "
                         "INSERT INTO schema_version VALUES (1); INSERT INTO reviews (practice_id, main_area, "
                         "reviewer, reviewed_at) VALUES ('old-1', '5', 'Anna', '2024-05-01T10:00:00+00:00');")
    db.close()
    assert review_rows(path)[0]["city"] is None  # read as it is, without migrating it
    store = ReviewStore(path)
    store.add("new-1", ReviewInput(main_area="4"), "Jon", "Oslo", "Coffee and facts")
    assert (store.current("old-1").main_area, store.current("old-1").city) == ("5", None)
    assert (store.current("new-1").city, store.current("new-1").title) == ("Oslo", "Coffee and facts")
    store.close()
    rows = {r["practice_id"]: r for r in review_rows(path)}
    assert rows["new-1"]["title"] == "Coffee and facts" and rows["old-1"]["main_area"] == "5"


def test_copies_of_a_reviewed_practice_are_its_rank_0_links_or_else_its_city_and_title():
    from pipeline.review_copies import copies_of_reviewed, reviewed_copies_of

    practices = {"a-1": {"city": "Genève", "title": "Budget participatif"},
                 "b-1": {"city": "Geneva", "title": "BUDGET  participatif"},
                 "c-1": {"city": "Lyon", "title": "Budget participatif"},
                 "d-1": {"city": "Genève", "title": "Participatory budget"}}
    similar = [{"practice_id": "a-1", "neighbour_id": "d-1", "rank": 0, "relation": "version"},
               {"practice_id": "a-1", "neighbour_id": "c-1", "rank": 1, "relation": "similar"}]
    reviews = [{"practice_id": "a-1", "city": "Genève", "title": "Budget participatif"},
               # its file changed: found again by the city (an alias) and title stored with the review
               {"practice_id": "gone-1", "city": "Genf", "title": "Budget participatif"},
               {"practice_id": "gone-2", "city": None, "title": None},  # stored before they were kept
               {"practice_id": "gone-3", "city": "Oslo", "title": "Budget participatif"}]
    copies = copies_of_reviewed(reviews, practices, similar)
    assert copies == {"a-1": [{"practice_id": "d-1", "relation": "version"}],
                      "gone-1": [{"practice_id": "a-1", "relation": "same_title"},
                                 {"practice_id": "b-1", "relation": "same_title"}]}
    assert reviewed_copies_of("b-1", copies) == [{"practice_id": "gone-1", "relation": "same_title"}]
    assert reviewed_copies_of("c-1", copies) == []


def test_export_names_the_reviews_of_practices_no_longer_in_the_run(run, tmp_path):
    store = ReviewStore(tmp_path / "reviews.sqlite")
    store.add("p1", ReviewInput(main_area="4"), "Anna", "Oslo", "Coffee and facts")
    store.add("old-1", ReviewInput(main_area="5"), "Anna", "Oslo", "Coffee and Facts")  # an earlier copy of p1
    store.close()
    out = tmp_path / "x.xlsx"
    result = _invoke("export", "--xlsx", str(out), "--data", str(run), "--reviews", str(tmp_path / "reviews.sqlite"))
    said = _flat(result.output)
    assert result.exit_code == 0 and "1 review(s) of practices no longer in this run" in said, said
    assert "old-1: Oslo, Coffee and Facts (same city and title in this run: p1)" in said
    import openpyxl

    rows = list(openpyxl.load_workbook(out)["reviews"].iter_rows(values_only=True))
    sheet = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert sheet["old-1"]["in_run"] is False and sheet["old-1"]["copies_in_run"] == "p1 (same_title)"
    assert (sheet["old-1"]["city"], sheet["old-1"]["title"]) == ("Oslo", "Coffee and Facts")
    assert sheet["p1"]["in_run"] is True and sheet["p1"]["copies_in_run"] is None


def test_serve_on_a_port_in_use_says_so_at_once_without_loading_the_models(run, monkeypatch):
    import socket

    import pipeline.web.app as web_app

    monkeypatch.setattr(web_app, "create_app", lambda *args, **kwargs: pytest.fail("the models were loaded"))
    with socket.socket() as held:  # another server on the port
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = _invoke("serve", "--data", str(run), "--port", str(port))
    assert result.exit_code == 2, result.output
    said = _flat(result.output)
    assert f"Cannot serve on 127.0.0.1:{port}: port {port} is in use" in said and "Nothing was loaded." in said


def test_serve_refuses_a_missing_folder_or_a_damaged_table_before_loading_the_models(run, tmp_path, monkeypatch):
    """A mistyped --data served an empty site (and made the folder and a store in it); a table cut short gave a
    40-line traceback once the models had loaded."""
    import shutil

    import pipeline.web.app as web_app

    monkeypatch.setattr(web_app, "create_app", lambda *args, **kwargs: pytest.fail("the models were loaded"))
    missing = tmp_path / "procesed"
    result = _invoke("serve", "--data", str(missing), "--port", "1")
    # the console may wrap a long path anywhere: compared without spaces
    assert result.exit_code == 2 and not missing.exists()
    assert "".join(f"No folder {missing}".split()) in "".join(result.output.split()), result.output
    damaged = tmp_path / "damaged"
    shutil.copytree(run, damaged)
    with (damaged / "practices.parquet").open("r+b") as table:
        table.truncate(1000)
    result = _invoke("serve", "--data", str(damaged), "--port", "1")
    assert result.exit_code == 2, result.output
    assert "practices.parquet cannot be read" in _flat(result.output) and "Traceback" not in result.output
