"""The spreadsheet of a run (`icc-practices export`): each sheet's cells under the right headers, and the files that
could not be used on a sheet of their own."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipeline.report.export import SHEETS, workbook_bytes
from pipeline.tables import to_table, write_table


@pytest.fixture()
def run(tmp_path) -> Path:
    practice = {"practice_id": "p1", "source_file": "oslo.docx", "practice_index": 1, "lang": "en", "city": "Oslo",
                "title": "Coffee and facts", "declared_areas": ["4"], "warnings": [], "predicted_areas": ["4"],
                "n_words": 30, "ongoing": False, "area_mismatch": False}
    files = [
        {"source_file": "oslo.docx", "sha256": "1" * 64, "status": "ok", "message": "1 practice(s) found",
         "n_practices": 1},
        {"source_file": "broken.docx", "sha256": "2" * 64, "status": "error", "error_code": "corrupt_docx",
         "message": "The Word file is damaged.", "n_practices": 0},
        {"source_file": "blank.docx", "sha256": "3" * 64, "status": "empty_form",
         "message": "The form is blank: no title or description was filled in.", "n_practices": 0},
    ]
    write_table(tmp_path / "practices.parquet", to_table("practices", [practice]))
    write_table(tmp_path / "files.parquet", to_table("files", files))
    return tmp_path


def _sheet(book, name: str) -> list[dict]:
    rows = list(book[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def test_review_cells_are_under_their_headers(run):
    review = {"practice_id": "p1", "main_area": "4", "areas": ["4"], "reviewer": "A. Officer", "n_reviews": 1}
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(run, [review])))
    [row] = _sheet(book, "reviews")
    assert row["city"] == "Oslo" and row["title"] == "Coffee and facts"
    assert row["main_area"] == "4" and row["reviewer"] == "A. Officer"


def test_the_review_time_is_said_to_be_utc_in_its_header_and_cells(run):
    """Excel holds no time zone: a review made at 23:30 UTC (01:30 the next day in Paris) is written as 23:30 and says
    UTC, rather than pass for local time."""
    from datetime import datetime, timezone

    when = datetime(2026, 3, 14, 23, 30, tzinfo=timezone.utc)
    review = {"practice_id": "p1", "main_area": "4", "reviewer": "A. Officer", "reviewed_at": when, "n_reviews": 1}
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(run, [review])))
    header = [c.value for c in book["reviews"][1]]
    assert "reviewed_at_utc" in header and "reviewed_at" not in header
    cell = book["reviews"].cell(row=2, column=header.index("reviewed_at_utc") + 1)
    assert cell.value == datetime(2026, 3, 14, 23, 30) and cell.number_format == 'yyyy-mm-dd hh:mm "UTC"'


def test_files_sheet_lists_every_file_with_its_status(run):
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(run)))
    assert book.sheetnames == list(SHEETS) and "files" in SHEETS
    assert book["files"].freeze_panes == "A2" and book["files"].auto_filter.ref == "A1:F4"
    rows = {r["source_file"]: r for r in _sheet(book, "files")}
    assert list(next(iter(rows.values()))) == ["source_file", "city_listed", "status", "error_code", "message", "n_practices"]
    assert rows["broken.docx"] == {"source_file": "broken.docx", "city_listed": None, "status": "error",
                                   "error_code": "corrupt_docx", "message": "The Word file is damaged.",
                                   "n_practices": 0}
    assert rows["blank.docx"]["status"] == "empty_form" and rows["oslo.docx"]["n_practices"] == 1
    assert rows["oslo.docx"]["city_listed"] == "Oslo"


def test_the_files_sheet_names_the_city_of_a_file_that_gave_no_practice_by_its_path(run):
    """A blank or broken form gives no practice to read its city from: the city its folder or name gives, so that
    the secretariat knows whom to ask for a new one."""
    files = pd.read_parquet(run / "files.parquet")
    files.loc[files["source_file"] == "blank.docx", "source_file"] = "2024/patras/Patras_blank_form.docx"
    files.loc[files["source_file"] == "broken.docx", "source_file"] = "2024/inbox/fiche (3).docx"
    files.to_parquet(run / "files.parquet", index=False)
    for lang, patras in (("en", "Patras"), ("fr", "Patras")):
        rows = {r["source_file"]: r for r in _sheet(openpyxl.load_workbook(io.BytesIO(workbook_bytes(run, lang=lang))),
                                                        "files")}
        assert rows["2024/patras/Patras_blank_form.docx"]["city_listed"] == patras
        assert rows["2024/inbox/fiche (3).docx"]["city_listed"] is None


def test_a_run_without_files_table_has_an_empty_files_sheet(tmp_path):
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(tmp_path)))
    assert [c.value for c in book["files"][1]] == ["source_file", "city_listed", "status", "error_code", "message",
                                                   "n_practices"]
    assert book["files"].max_row == 1


def test_versions_of_one_practice_share_their_practice_key(run):
    """An English and a French version of one practice, and a copy of the French one sent as another file: the
    practices sheet names one practice for the three rows, the key `research.practice_keys` gives (the form whose
    file name sorts first, 'oslo.docx', though the rows are not in that order); a practice with no other version is
    its own key."""
    from pipeline.research import load_table, practice_keys

    base = {"practice_index": 1, "declared_areas": ["4"], "warnings": [], "predicted_areas": ["4"], "n_words": 30,
            "ongoing": False, "area_mismatch": False}
    practices = [{**base, "practice_id": "p1", "source_file": "oslo.docx", "lang": "en", "city": "Oslo",
                  "title": "Coffee and facts"},
                 {**base, "practice_id": "p2", "source_file": "oslo_fr.docx", "lang": "fr", "city": "Oslo",
                  "title": "Café et faits"},
                 {**base, "practice_id": "p3", "source_file": "oslo_fr (copie).docx", "lang": "fr", "city": "Oslo",
                  "title": "Café et faits"},
                 {**base, "practice_id": "p4", "source_file": "lyon.docx", "lang": "fr", "city": "Lyon",
                  "title": "Cafés des langues"}]
    pair = {"score": 0.93, "matched_section": "process", "shared_terms": [], "neighbour_city": "Oslo",
            "near_duplicate": True, "weak": False}
    similar = [{**pair, "practice_id": "p2", "neighbour_id": "p1", "rank": 0, "relation": "version"},
               {**pair, "practice_id": "p2", "neighbour_id": "p3", "rank": 0, "relation": "near_duplicate"},
               {**pair, "practice_id": "p1", "neighbour_id": "p4", "rank": 1, "relation": "similar",
                "near_duplicate": False, "neighbour_city": "Lyon"}]
    write_table(run / "practices.parquet", to_table("practices", practices))
    write_table(run / "similar.parquet", to_table("similar", similar))
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(run)))
    assert [c.value for c in book["practices"][1]][:2] == ["practice_id", "practice_key"]
    keys = {r["practice_id"]: r["practice_key"] for r in _sheet(book, "practices")}
    assert keys == {"p1": "p1", "p2": "p1", "p3": "p1", "p4": "p4"}
    table = load_table(run, "practices")
    expected = practice_keys(table, load_table(run, "similar"))
    assert keys == dict(zip(table["practice_id"], expected))
    # the areas and criteria sheets carry the same key
    areas = [{"practice_id": pid, "area": "4", "probability": 0.8, "suggested": True, "evidence": None}
             for pid in ("p1", "p3", "p4")]
    criteria = [{"practice_id": pid, "criterion": "targeted", "level": 2, "score": 0.6, "evidence": [], "hint": None}
                for pid in ("p2", "p4")]
    write_table(run / "areas.parquet", to_table("areas", areas))
    write_table(run / "criteria.parquet", to_table("criteria", criteria))
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(run)))
    assert [(r["practice_id"], r["practice_key"]) for r in _sheet(book, "areas")] == [("p1", "p1"), ("p3", "p1"),
                                                                                      ("p4", "p4")]
    assert [(r["practice_id"], r["practice_key"]) for r in _sheet(book, "criteria")] == [("p2", "p1"), ("p4", "p4")]
    # a short summary ('oslo.docx', a third of the words) stands for nothing: the first full version in name order
    practices[0]["n_words"] = 10
    write_table(run / "practices.parquet", to_table("practices", practices))
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(run)))
    keys = {r["practice_id"]: r["practice_key"] for r in _sheet(book, "practices")}
    assert keys == {"p1": "p3", "p2": "p3", "p3": "p3", "p4": "p4"}
    table = load_table(run, "practices")
    assert keys == dict(zip(table["practice_id"], practice_keys(table, load_table(run, "similar"))))


def test_every_city_column_has_the_listed_name_beside_the_city_as_written(run):
    """Two forms of Geneva written differently, and a city the directory does not list: `city` keeps what each form
    wrote, `city_listed` beside it (on every sheet with a city) gives the one name the reports use (in English in an
    English workbook), or the name as written for a city not listed."""
    base = {"practice_index": 1, "declared_areas": ["4"], "warnings": [], "predicted_areas": ["4"], "n_words": 30,
            "ongoing": False, "area_mismatch": False}
    practices = [{**base, "practice_id": "g1", "source_file": "ge.docx", "lang": "fr", "city": "Ville de Genève",
                  "title": "Bibliothèques vivantes"},
                 {**base, "practice_id": "g2", "source_file": "geneva.docx", "lang": "en",
                  "city": "Geneva, Switzerland", "title": "Welcome desks"},
                 {**base, "practice_id": "b1", "source_file": "ballarat.docx", "lang": "en", "city": "Ballarat",
                  "title": "Skilled arrivals"}]
    similar = [{"practice_id": "g1", "neighbour_id": "b1", "rank": 1, "score": 0.6, "matched_section": "process",
                "shared_terms": [], "neighbour_city": "Ballarat", "near_duplicate": False, "relation": "similar",
                "weak": False},
               {"practice_id": "b1", "neighbour_id": "g2", "rank": 1, "score": 0.6, "matched_section": "process",
                "shared_terms": [], "neighbour_city": "Geneva, Switzerland", "near_duplicate": False,
                "relation": "similar", "weak": False}]
    areas = [{"practice_id": pid, "area": "4", "probability": 0.9, "suggested": True, "evidence": None}
             for pid in ("g1", "g2")]
    criteria = [{"practice_id": pid, "criterion": "targeted", "level": 2, "score": 2.1, "evidence": [], "hint": ""}
                for pid in ("g1", "g2")]
    write_table(run / "practices.parquet", to_table("practices", practices))
    write_table(run / "similar.parquet", to_table("similar", similar))
    write_table(run / "areas.parquet", to_table("areas", areas))
    write_table(run / "criteria.parquet", to_table("criteria", criteria))
    reviews = [{"practice_id": "g2", "main_area": "4", "reviewer": "Anna", "n_reviews": 1},
               {"practice_id": "gone-1", "city": "Genf", "title": "Old desks", "main_area": "4", "reviewer": "Anna",
                "n_reviews": 1}]  # no longer in the run: its city as stored with the review
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(run, reviews)))
    for name in SHEETS:
        header = [c.value for c in book[name][1]]
        if "city" in header:
            assert header[header.index("city") + 1] == "city_listed", name
    assert name == "files" and "city" not in header

    rows = {r["practice_id"]: r for r in _sheet(book, "practices")}
    assert {pid: (r["city"], r["city_listed"]) for pid, r in rows.items()} == {
        "g1": ("Ville de Genève", "Geneva"), "g2": ("Geneva, Switzerland", "Geneva"), "b1": ("Ballarat", "Ballarat")}
    for name in ("areas", "criteria"):
        assert {(r["city"], r["city_listed"]) for r in _sheet(book, name)} == {
            ("Ville de Genève", "Geneva"), ("Geneva, Switzerland", "Geneva")}, name
    pairs = {(r["practice_id"], r["neighbour_id"]): r for r in _sheet(book, "similar")}
    assert pairs["g1", "b1"]["city_listed"] == "Geneva" and pairs["g1", "b1"]["neighbour_city_listed"] == "Ballarat"
    assert pairs["b1", "g2"]["neighbour_city"] == "Geneva, Switzerland"
    assert pairs["b1", "g2"]["neighbour_city_listed"] == "Geneva"
    stored = {r["practice_id"]: (r["city"], r["city_listed"]) for r in _sheet(book, "reviews")}
    assert stored == {"g2": ("Geneva, Switzerland", "Geneva"), "gone-1": ("Genf", "Geneva")}


def test_a_similar_table_written_before_rows_said_their_relation_is_exported(run):
    """Older runs' similar.parquet has no relation (nor weak) column: the sheet leaves those cells empty and links
    no versions, as the summary and the city reports do."""
    import pandas as pd

    row = {"practice_id": "p1", "neighbour_id": "p9", "rank": 0, "score": 0.7, "matched_section": "process",
           "shared_terms": ["mediators"]}
    pd.DataFrame([row]).to_parquet(run / "similar.parquet", index=False)
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(run)))
    [similar] = _sheet(book, "similar")
    assert similar["neighbour_id"] == "p9" and similar["relation"] is None and similar["weak"] is None
    assert [r["practice_key"] for r in _sheet(book, "practices")] == ["p1"]


def test_an_unlisted_city_has_the_country_its_form_wrote_after_it(run):
    import pandas as pd

    table = pd.read_parquet(run / "practices.parquet")
    table.loc[0, "city"] = "City of Larnaka, Cyprus"
    table.to_parquet(run / "practices.parquet", index=False)
    [row] = _sheet(openpyxl.load_workbook(io.BytesIO(workbook_bytes(run))), "practices")
    assert (row["city"], row["city_listed"], row["country"]) == ("City of Larnaka, Cyprus", "Larnaka", "Cyprus")


def test_a_french_workbook_names_cities_countries_and_areas_in_french(tmp_path):
    """A French-speaking secretariat reads 'Bruxelles', 'Belgique' and the area's French name; the headers stay the
    tables' column names in both languages, so a notebook reads either workbook alike."""
    practice = {"practice_id": "b1", "source_file": "bxl.docx", "practice_index": 1, "lang": "fr",
                "city": "Brussel", "title": "Cafés des langues", "declared_areas": ["4"], "warnings": [],
                "predicted_areas": ["4"], "n_words": 30, "ongoing": False, "area_mismatch": False}
    area = {"practice_id": "b1", "area": "4", "probability": 0.8, "suggested": True, "evidence": "Un café des langues."}
    write_table(tmp_path / "practices.parquet", to_table("practices", [practice]))
    write_table(tmp_path / "areas.parquet", to_table("areas", [area]))
    from pipeline.taxonomy import load_taxonomy

    name = load_taxonomy().areas["4"]
    books = {lang: openpyxl.load_workbook(io.BytesIO(workbook_bytes(tmp_path, lang=lang))) for lang in ("en", "fr")}
    for lang, listed, country in (("en", "Brussels", "Belgium"), ("fr", "Bruxelles", "Belgique")):
        [row] = _sheet(books[lang], "practices")
        assert (row["city"], row["city_listed"], row["country"]) == ("Brussel", listed, country)
        [areas] = _sheet(books[lang], "areas")
        assert areas["area_name"] == name.name(lang) and areas["city_listed"] == listed
    assert name.en != name.fr
    assert [c.value for c in books["fr"]["practices"][1]] == [c.value for c in books["en"]["practices"][1]]
    with pytest.raises(ValueError, match="English or French"):
        workbook_bytes(tmp_path, lang="de")


def test_the_files_sheet_gives_each_message_in_the_workbook_language(tmp_path):
    """The run writes its messages in English; a French workbook says each in French from the catalogue that wrote
    it (resources/errors.yaml), detail included, as the French summary does. A message no entry wrote (a run of an
    older version) is kept as written; the English workbook keeps the run's text."""
    from pipeline.errors import message

    converted = message("note", note=message("converted_by_libreoffice", kind=message("opendocument_odt")))
    files = [
        {"source_file": "liege.odt", "sha256": "1" * 64, "status": "ok", "n_practices": 1,
         "message": message("practices_found", n=1, details=converted)},
        {"source_file": "two.docx", "sha256": "2" * 64, "status": "ok", "n_practices": 2,
         "message": message("practices_found", n=2, details="")},
        {"source_file": "blank.docx", "sha256": "3" * 64, "status": "empty_form", "n_practices": 0,
         "message": message("form_blank", note="")},
        {"source_file": "old.docx", "sha256": "4" * 64, "status": "error", "error_code": "corrupt_docx",
         "message": "Something an older version wrote.", "n_practices": 0},
    ]
    write_table(tmp_path / "files.parquet", to_table("files", files))
    said = {lang: {r["source_file"]: r["message"]
                   for r in _sheet(openpyxl.load_workbook(io.BytesIO(workbook_bytes(tmp_path, lang=lang))), "files")}
            for lang in ("en", "fr")}
    assert said["en"] == {f["source_file"]: f["message"] for f in files}
    assert said["fr"] == {
        "liege.odt": "1 pratique(s) trouvée(s) ; fichier OpenDocument .odt converti en .docx par LibreOffice",
        "two.docx": "2 pratique(s) trouvée(s)",
        "blank.docx": "Le formulaire est vide : ni titre ni description n'ont été remplis.",
        "old.docx": "Something an older version wrote.",
    }


def test_the_criteria_sheet_names_each_criterion_in_the_workbook_language(run):
    """Beside its code, each criterion has its name as `check` and the site give it, in the workbook's language, as
    the areas sheet has `area_name` beside `area`."""
    from pipeline.criteria import CRITERIA

    rows = [{"practice_id": "p1", "criterion": c, "level": 2, "score": 0.6, "evidence": [], "hint": None}
            for c in CRITERIA]
    write_table(run / "criteria.parquet", to_table("criteria", rows))
    names = {}
    for lang in ("en", "fr"):
        book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(run, lang=lang)))
        header = [c.value for c in book["criteria"][1]]
        assert header[header.index("criterion") + 1] == "criterion_name"
        names[lang] = {r["criterion"]: r["criterion_name"] for r in _sheet(book, "criteria")}
    assert names["en"]["targeted"] == "Targeted" and names["en"]["needs_based"] == "Needs-based"
    assert names["fr"]["targeted"] == "Ciblée" and names["fr"]["needs_based"] == "Répond aux besoins"
    assert set(names["fr"]) == set(CRITERIA) and all(names["fr"].values())
    # a reviewed level stands beside the model's, as the reviewed areas do on the practices sheet
    review = {"practice_id": "p1", "targeted": 3, "reviewer": "Anna", "n_reviews": 1}
    rows = {r["criterion"]: r for r in _sheet(openpyxl.load_workbook(io.BytesIO(workbook_bytes(run, [review]))),
                                              "criteria")}
    assert (rows["targeted"]["level"], rows["targeted"]["level_reviewed"]) == (2, 3)
    assert rows["modelable"]["level_reviewed"] is None


def test_the_practices_sheet_says_each_warning_in_words_beside_its_code(run):
    """`warnings` keeps the codes as practices.parquet holds them; `warnings_text` beside it says each as `check` and
    the site say it, in the workbook's language."""
    import pandas as pd

    table = pd.read_parquet(run / "practices.parquet")
    table.at[0, "warnings"] = ["missing:contact_person", "missing_section:process", "converted:libreoffice"]
    table.to_parquet(run / "practices.parquet", index=False)
    rows = {}
    for lang in ("en", "fr"):
        book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(run, lang=lang)))
        header = [c.value for c in book["practices"][1]]
        assert header[header.index("warnings") + 1] == "warnings_text"
        [rows[lang]] = _sheet(book, "practices")
        assert rows[lang]["warnings"] == "missing:contact_person; missing_section:process; converted:libreoffice"
    assert rows["en"]["warnings_text"] == (
        "missing: Contact person; section missing: Process; the file was read after conversion by LibreOffice: "
        "check that the fields match the original")
    assert rows["fr"]["warnings_text"] == (
        "manquant : Personne de contact\u00a0; rubrique manquante : Processus\u00a0; le fichier a été lu après "
        "conversion par LibreOffice : vérifiez que les champs correspondent à l'original")
    # a practice without warnings has neither
    table.at[0, "warnings"] = []
    table.to_parquet(run / "practices.parquet", index=False)
    [row] = _sheet(openpyxl.load_workbook(io.BytesIO(workbook_bytes(run, lang="fr"))), "practices")
    assert row["warnings"] is None and row["warnings_text"] is None


def test_city_listed_is_the_listed_name_in_the_workbook_language_as_the_readme_says(run):
    """The workbook speaks its language: a French one names Ghent 'Gand' in city_listed, beside 'Belgique' and the
    French area names, as the French pages and reports do; the README says so."""
    import pandas as pd

    table = pd.read_parquet(run / "practices.parquet")
    table.loc[0, "city"] = "Ghent"
    table.to_parquet(run / "practices.parquet", index=False)
    listed = {lang: _sheet(openpyxl.load_workbook(io.BytesIO(workbook_bytes(run, lang=lang))), "practices")[0]
              for lang in ("en", "fr")}
    assert [(r["city"], r["city_listed"], r["country"]) for r in listed.values()] == [
        ("Ghent", "Ghent", "Belgium"), ("Ghent", "Gand", "Belgique")]
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    download = readme.split("- **Download**", 1)[1].split("\n- ", 1)[0].split("\n\n", 1)[0]
    said = " ".join(download.split())
    sentence = said[said.index("Every `city` column"):].split(". ", 1)[0]
    assert "the city in the workbook's language" in sentence and "the city in English" not in sentence, sentence


def test_the_criteria_sheet_gives_each_hint_in_the_workbook_language(run):
    """A hint is stored in its practice's language; the workbook says it in its own, as the summary and the site do
    (the evidence stays the practice's own words). A hint no template wrote is kept as stored."""
    from pipeline.criteria import criteria_phrasebook

    english = "Add the resources it took: budget, staff time, funding."
    french = criteria_phrasebook().say(english, "fr")
    assert french != english
    rows = [{"practice_id": "p1", "criterion": "high_impact", "level": 1, "score": 0.4,
             "evidence": ["The city funded it."], "hint": english},
            {"practice_id": "p1", "criterion": "modelable", "level": 1, "score": 0.4, "evidence": [],
             "hint": "A hint of an older version."}]
    write_table(run / "criteria.parquet", to_table("criteria", rows))
    for lang, said in (("en", english), ("fr", french)):
        sheet = _sheet(openpyxl.load_workbook(io.BytesIO(workbook_bytes(run, lang=lang))), "criteria")
        assert [(r["hint"], r["evidence"]) for r in sheet] == [(said, "The city funded it."),
                                                               ("A hint of an older version.", None)], lang


def test_a_character_no_sheet_can_hold_does_not_stop_the_workbook():
    """A run written before such characters were left out may still hold one (U+FFFE in a title): the workbook is
    written, the character left out of its cell."""
    from openpyxl import Workbook

    from pipeline.report.export import _cell_value

    book = Workbook()
    book.active["A1"] = _cell_value("Welcome walks \ufffe\uffff \x07")
    book.save(io.BytesIO())  # openpyxl refuses what XML cannot hold: this raised ValueError
    assert book.active["A1"].value.split() == ["Welcome", "walks"]


def test_a_text_longer_than_a_cell_is_cut_after_a_word_and_says_so(tmp_path):
    process = " ".join(f"interpreters{i} for Turkish and Arabic" for i in range(2000))  # 70,000 characters
    practice = {"practice_id": "p1", "source_file": "rotterdam.docx", "practice_index": 1, "lang": "fr",
                "city": "Rotterdam", "title": "Evaluation", "process": process, "description": process,
                "declared_areas": [], "warnings": [], "predicted_areas": [], "n_words": 8000, "ongoing": False,
                "area_mismatch": False}
    write_table(tmp_path / "practices.parquet", to_table("practices", [practice]))
    for lang, said in (("en", f"the whole text has {len(process):,} characters"),
                       ("fr", f"le texte entier compte {len(process)} caractères")):
        book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(tmp_path, lang=lang)))
        cell = _sheet(book, "practices")[0]["process"]
        assert len(cell) <= 32_767 and cell.endswith("practices.parquet]") and said in cell
        kept = cell.split(" […] ")[0]
        assert process.startswith(kept) and process[len(kept)] == " ", "cut after a whole word"
    short = _sheet(openpyxl.load_workbook(io.BytesIO(workbook_bytes(tmp_path))), "practices")[0]["title"]
    assert short == "Evaluation"
    links = "\n".join(f"https://www.example.org/reports/{i:05d}/annual-evaluation.pdf" for i in range(1200))
    write_table(tmp_path / "practices.parquet", to_table("practices", [{**practice, "references": links}]))
    cell = _sheet(openpyxl.load_workbook(io.BytesIO(workbook_bytes(tmp_path))), "practices")[0]["references"]
    assert cell.split(" […] ")[0].endswith("annual-evaluation.pdf"), "cut between two links, not inside one"


def test_a_value_one_reviewer_set_and_another_changed_stays_in_sight(run, tmp_path):
    """Anna set main area 5 with a note; Ben set 11 later: the reviews sheet holds Ben's 11 only, so the workbook
    lists every stored review with what a later one replaced, and says where two reviewers' areas do not fit."""
    from pipeline.web.reviews import ReviewInput, ReviewStore, review_history, review_rows

    store = ReviewStore(tmp_path / "reviews.sqlite")
    store.add("p1", ReviewInput(main_area="5", areas=["5", "14"], note="School workshops: education first."), "Anna")
    store.add("p1", ReviewInput(main_area="11"), "Ben")
    store.add("p1", ReviewInput(criteria={"targeted": 2}), "Ben")
    store.close()
    history = review_history(tmp_path / "reviews.sqlite")
    assert [h["reviewer"] for h in history] == ["Anna", "Ben", "Ben"]
    assert history[0]["replaced"] == {"main_area": ("11", "Ben")} and history[1]["replaced"] == {}
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(run, review_rows(tmp_path / "reviews.sqlite"),
                                                            history=history)))
    rows = _sheet(book, "review_history")
    assert [(r["reviewer"], r["main_area"], r["note"]) for r in rows] == [
        ("Anna", "5", "School workshops: education first."), ("Ben", "11", None), ("Ben", None, None)]
    assert rows[0]["replaced_later"] == "main_area -> 11 (Ben)" and rows[0]["city"] == "Oslo"
    assert rows[2]["targeted"] == 2 and rows[0]["reviewed_at_utc"] is not None
    [review] = _sheet(book, "reviews")
    assert review["main_area"] == "11" and review["disagreement"] == \
        "main area 11 (Ben) is outside the area set 5, 14 (Anna)"
