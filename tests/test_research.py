"""The notebooks' helpers: versions of one practice count once, a city once, list columns export as text."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from pipeline.research import (NO_CITY, city_labels, csv_ready, distinct_practices, load_table, practice_keys,
                               practice_levels, weakest_criteria, written_parts)


def similar_rows(*rows):
    return pd.DataFrame(rows, columns=["practice_id", "neighbour_id", "rank", "relation"])


def test_versions_are_joined_transitively_and_cross_city_duplicates_stay_apart():
    practices = pd.DataFrame({"practice_id": ["a-1", "b-1", "c-1", "d-1", "e-1"],
                              "city": ["Geneva", "Genève", "Genf", "Paris", "Lyon"]})
    similar = similar_rows(("b-1", "a-1", 0, "version"), ("c-1", "b-1", 0, "near_duplicate"),
                           ("d-1", "e-1", 1, "near_duplicate"), ("d-1", "a-1", 2, "similar"))
    assert practice_keys(practices, similar).tolist() == ["a-1", "a-1", "a-1", "d-1", "e-1"]
    distinct = distinct_practices(practices, similar)
    assert distinct["practice_id"].tolist() == ["a-1", "d-1", "e-1"]
    assert distinct["versions"].tolist() == [3, 1, 1]


def test_the_practice_keeps_the_header_fields_of_any_version_whatever_the_row_order():
    """A translation whose file name sorts first stands for the practice, with the declared areas and the period
    only the original form gives; shuffling the rows changes neither the keys nor the rows kept."""
    practices = pd.DataFrame({
        "practice_id": ["o-1", "t-1", "x-1"], "source_file": ["oslo.docx", "oslo-en.md", "lyon.docx"],
        "practice_index": [1, 1, 1], "lang": ["fr", "en", "fr"], "city": ["Oslo", "Oslo", "Lyon"],
        "department": ["Culture", None, None], "declared_area_text": ["Éducation", None, None],
        "declared_areas": [["6"], [], []], "period_text": ["2019-2021", None, None],
        "period_start": pd.array([2019, None, None], "Int64"), "period_end": pd.array([2021, None, None], "Int64"),
        "ongoing": [False, False, False], "area_mismatch": [True, False, False]})
    similar = similar_rows(("t-1", "o-1", 0, "version"), ("o-1", "t-1", 0, "version"))
    distinct = distinct_practices(practices, similar)
    assert distinct["practice_id"].tolist() == ["x-1", "t-1"]  # file name order: 'lyon.docx', 'oslo-en.md'
    kept = distinct.set_index("practice_id").loc["t-1"]
    assert kept["lang"] == "en" and kept["versions"] == 2 and kept["department"] == "Culture"
    assert list(kept["declared_areas"]) == ["6"] and kept["declared_area_text"] == "Éducation"
    assert (kept["period_start"], kept["period_end"], kept["area_mismatch"]) == (2019, 2021, True)
    assert pd.isna(distinct.set_index("practice_id").loc["x-1", "department"])  # a practice of one form keeps its own
    for order in ([2, 1, 0], [1, 2, 0], [0, 2, 1]):
        shuffled = practices.iloc[order]
        assert practice_keys(shuffled, similar).sort_index().tolist() == ["t-1", "t-1", "x-1"]
        pd.testing.assert_frame_equal(distinct_practices(shuffled, similar), distinct)
    arrow = distinct_practices(practices.convert_dtypes(dtype_backend="pyarrow"), similar)  # as load_table reads
    assert arrow["period_start"].dtype == "int64[pyarrow]" and arrow["period_start"].isna().tolist() == [True, False]
    assert arrow["declared_areas"].tolist() == [[], ["6"]]


def test_a_short_summary_sent_beside_the_full_form_does_not_stand_for_the_practice():
    """A 116-word English summary of a 524-word form sorted first and stood for the practice, with the summary's
    lower levels; versions of like length keep the file name order."""
    practices = pd.DataFrame({"practice_id": ["s-1", "f-1", "t-1", "u-1"], "practice_index": [1, 1, 1, 1],
                              "source_file": ["strasbourg-en-summary.txt", "strasbourg-p3.docx", "oslo-en.md",
                                              "oslo-fr.docx"],
                              "city": ["Strasbourg", "Strasbourg", "Oslo", "Oslo"], "n_words": [116, 524, 400, 460]})
    similar = similar_rows(("s-1", "f-1", 0, "version"), ("t-1", "u-1", 0, "version"))
    assert practice_keys(practices, similar).tolist() == ["f-1", "f-1", "t-1", "t-1"]
    assert distinct_practices(practices, similar)["practice_id"].tolist() == ["t-1", "f-1"]


def test_a_practice_sent_in_two_languages_has_the_levels_of_the_version_kept():
    """Not the mean of its versions' levels: the version `distinct_practices` keeps, as the batch summary counts it;
    a practice no criterion was scored for has no row."""
    practices = pd.DataFrame({"practice_id": ["fr-1", "en-1", "x-1", "y-1"], "practice_index": [1, 1, 1, 1],
                              "source_file": ["ville-de-lyon-fr.docx", "lyon-en.txt", "oslo.docx", "paris.docx"],
                              "city": ["Ville de Lyon", "Lyon", "Oslo", "Paris"]})
    similar = similar_rows(("fr-1", "en-1", 0, "version"), ("en-1", "fr-1", 0, "version"))
    criteria = pd.DataFrame({"practice_id": ["fr-1", "fr-1", "en-1", "en-1", "x-1", "x-1"],
                             "criterion": ["context_sensitive", "targeted"] * 3,
                             "level": pd.array([3, 3, 2, None, 1, 0], dtype=pd.ArrowDtype(pa.int64()))})
    levels = practice_levels(criteria, distinct_practices(practices, similar))
    assert levels.index.tolist() == ["en-1", "x-1"] and levels.index.name == "practice_key"
    assert levels.columns.tolist() == ["context_sensitive", "targeted"]
    assert levels.loc["en-1", "context_sensitive"] == 2.0 and pd.isna(levels.loc["en-1", "targeted"])
    assert levels.loc["x-1"].tolist() == [1.0, 0.0]
    shuffled = practice_levels(criteria.iloc[::-1], distinct_practices(practices.iloc[::-1], similar))
    pd.testing.assert_frame_equal(shuffled.sort_index(axis=1), levels)
    assert practice_levels(criteria.iloc[:0], distinct_practices(practices, similar)).empty


def test_a_criterion_at_the_top_level_is_no_city_s_weakest():
    means = pd.DataFrame({"targeted": [3.0, 2.5, 2.0, None, 3.0], "transferable": [3.0, 1.5, 2.0, None, None],
                          "high_impact": [3.0, 3.0, 2.5, None, 3.0]},
                         index=["Lyon", "Oslo", "Bergen", "Nowhere", "Paris"])  # a city's mean levels
    assert weakest_criteria(means).to_dict() == {"Lyon": [], "Oslo": ["transferable"], "Nowhere": [], "Paris": [],
                                                 "Bergen": ["targeted", "transferable"]}
    assert weakest_criteria(means, top=4).loc["Lyon"] == ["targeted", "transferable", "high_impact"]


def test_a_part_is_written_as_the_criteria_and_the_guideline_checks_read_it():
    """A references part that names no document fails the references check ("names no document") and is no
    references part for the criteria: it is not written, nor is a part that only points elsewhere or puts it off."""
    forms = pd.DataFrame({
        "references": ["See the city website.", "Aucun pour le moment.", "To be defined.", "Bilan 2022, Ville de Lyon.",
                       "See the city website: https://www.example.org/lyon", None],
        "impact": ["See above.", "En cours.", "120 families took part.", "", "   ", None],
        "title": ["See above.", "Jardins", None, "x", "y", "z"]})
    written = written_parts(forms, ["references", "impact", "title"])
    assert written["references"].tolist() == [False, False, False, True, True, False]
    assert written["impact"].tolist() == [False, False, True, False, False, False]
    assert written["title"].tolist() == [True, True, False, True, True, True]  # a title is a name, never a claim
    assert written.dtypes.tolist() == [bool] * 3 and written.index.equals(forms.index)


def test_an_older_similar_table_without_relation_weak_or_rank(tmp_path):
    """A run from before `relation` and `weak`: load_table reads them from `near_duplicate`, and the versions it
    links at rank 0 are one practice for the helpers, the reports' view and the export alike; a frame without
    `rank` links the practice's own city's rows."""
    import openpyxl

    from pipeline.report.export import workbook_bytes
    from pipeline.report.view import build_view
    from pipeline.tables import to_table, write_table

    practices = pd.DataFrame({"practice_id": ["a-1", "b-1", "c-1"], "source_file": ["a.docx", "b.docx", "c.docx"],
                              "practice_index": [1, 1, 1], "city": ["Genève", "Geneva", "Oslo"],
                              "declared_areas": [[], ["3"], ["4"]], "warnings": [[], [], []]})
    similar = pd.DataFrame({"practice_id": ["a-1", "b-1", "a-1"], "neighbour_id": ["b-1", "a-1", "c-1"],
                            "rank": [0, 0, 1], "score": [0.9, 0.9, 0.5], "near_duplicate": [True, True, False]})
    write_table(tmp_path / "practices.parquet", to_table("practices", practices))
    write_table(tmp_path / "similar.parquet", to_table("similar", similar).drop_columns(["relation", "weak"]))
    table = load_table(tmp_path, "similar")
    assert table["relation"].tolist() == ["near_duplicate", "near_duplicate", "similar"]
    assert table["weak"].tolist() == [False] * 3 and list(table.columns)[-2:] == ["relation", "weak"]
    loaded = load_table(tmp_path, "practices")
    assert practice_keys(loaded, table).tolist() == ["a-1", "a-1", "c-1"]
    assert practice_keys(loaded, similar).tolist() == ["a-1", "a-1", "c-1"]  # as read by pd.read_parquet
    assert practice_keys(loaded, similar.drop(columns=["rank"])).tolist() == ["a-1", "a-1", "c-1"]
    distinct = distinct_practices(loaded, similar.drop(columns=["rank", "near_duplicate"]))
    assert distinct["practice_id"].tolist() == ["a-1", "b-1", "c-1"]  # nothing says they are one practice
    assert build_view(tmp_path).practice_keys == {"a-1": "a-1", "b-1": "a-1", "c-1": "c-1"}
    sheet = openpyxl.load_workbook(io.BytesIO(workbook_bytes(tmp_path)))["practices"]
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["a-1", "a-1", "c-1"]


def test_a_city_is_one_label_whatever_its_spelling():
    cities = pd.Series(["Geneva", "Genève", "Ville de Genève", "Nowhere Town", "nowhere  town", "Nowhere Town", None])
    assert city_labels(cities).tolist() == ["Geneva"] * 3 + ["Nowhere Town"] * 3 + [NO_CITY]
    assert city_labels(cities, "fr").tolist()[:3] == ["Genève"] * 3


def test_city_labels_are_the_names_of_the_export_and_the_english_reports():
    from pipeline.cities import city_name

    written = pd.Series(["Genève", "Zürich", "Bruxelles", "Québec", "Tanger", "Dunkerque", "Oslo kommune",
                         "Tartu, Estonia", "Springfield, Ohio"])
    assert city_labels(written).tolist() == [city_name(c, "en") for c in written]


def test_city_countries_name_the_country_of_each_city_however_it_is_written():
    from pipeline.research import city_countries

    written = pd.Series(["Ville de Genève", "Oslo kommune", "Tartu, Estonia", "Atlantis", None])
    countries = city_countries(written)
    assert countries.tolist()[:3] == ["Switzerland", "Norway", "Estonia"] and countries[3:].isna().all()
    assert city_countries(written, "fr").tolist()[:2] == ["Suisse", "Norvège"]
    # cities of one country written together, and a French metropolis named for its city
    joint = city_countries(pd.Series(["Lyon / Grenoble", "Geneva / Zurich", "Lyon / Geneva", "Eurométropole de Strasbourg"]))
    assert joint.tolist()[:2] == ["France", "Switzerland"] and pd.isna(joint[2]) and joint[3] == "France"
    more = city_countries(pd.Series(["Lyon & Grenoble", "Geneva and Zurich", "Ville et Eurométropole de Strasbourg",
                                     "Nantes Métropole", "Grand Lyon"]))
    assert more.tolist() == ["France", "Switzerland", "France", "France", "France"]
    assert city_labels(pd.Series(["Ville et Eurométropole de Strasbourg", "Lyon Métropole"])).tolist() == [
        "Strasbourg", "Lyon"]
    # one joint practice however its cities are joined: one city in counts and reports
    assert city_labels(pd.Series(["Lyon & Grenoble", "Lyon and Grenoble", "Lyon / Grenoble"])).nunique() == 1
    # in either order, and a city with its metropolis named beside it is that city
    labels = city_labels(pd.Series(["Lyon & Grenoble", "Grenoble & Lyon", "Grenoble / Lyon", "Ville de Lyon et Métropole de Lyon",
                                    "Grand Lyon la Métropole", "Lyon"]))
    assert labels.nunique() == 2 and labels.tolist()[3:] == ["Lyon"] * 3
    assert city_countries(pd.Series(["Grenoble & Lyon", "Oslo, Bergen"])).tolist() == ["France", "Norway"]


def test_form_years_read_the_year_of_a_date_however_it_is_written():
    from pipeline.research import form_years

    dates = pd.Series(["2 November 2023", "15/08/2023", "03/02/25", "2024-01-22", "5 mai 2023", "JJ/MM/YYYY", None])
    years = form_years(dates)
    assert years.dtype == "Int64" and years.tolist()[:5] == [2023, 2023, 2025, 2024, 2023]
    assert years[5:].isna().all()


def test_list_columns_are_joined_for_csv(tmp_path):
    frame = load_table(tmp_path, "practices")  # no run there: an empty table with the table's columns and types
    assert list(frame.columns)[:2] == ["practice_id", "source_file"] and len(frame) == 0
    rows = pd.DataFrame({"id": ["x", "y"], "areas": [["14", "14b"], []], "year": pd.array([2021, None], "Int64")})
    assert csv_ready(rows).to_csv(index=False).splitlines() == ["id,areas,year", "x,14; 14b,2021", "y,,"]
    arrow = rows.assign(areas=pd.array([["14", "14b"], None], dtype=pd.ArrowDtype(pa.list_(pa.string()))))
    assert csv_ready(arrow).to_csv(index=False).splitlines() == ["id,areas,year", "x,14; 14b,2021", "y,,"]


def test_the_spellings_notebook_1_gives_as_apart_are_apart():
    import nbformat

    notebook = nbformat.read(Path(__file__).resolve().parents[1] / "notebooks" / "01_corpus_overview.ipynb", 4)
    said = " ".join(notebook.cells[0].source.split())
    assert '"Roterdão" is not Rotterdam' in said and '"Springfield, Ohio" (a region' in said
    labels = city_labels(pd.Series(["Roterdão", "Rotterdam", "Springfield, Ohio", "Springfield"])).tolist()
    assert labels[0] != labels[1] and labels[2] != labels[3]


def test_load_table_names_a_mistyped_folder_or_table(tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such-run"):
        load_table(tmp_path / "no-such-run", "practices")
    for name in ("practice", "manifest"):
        with pytest.raises(ValueError, match=f"No table named '{name}'.*files, practices, areas, similar"):
            load_table(tmp_path, name)
    assert list(load_table(tmp_path, "guidelines").columns) == ["practice_id", "check", "passed", "detail"]


def test_no_hint_is_null_also_in_a_table_that_wrote_an_empty_string(tmp_path):
    from pipeline.tables import to_table, write_table

    rows = [{"practice_id": "a-1", "criterion": "targeted", "level": level, "score": level / 3, "evidence": [],
             "hint": hint} for level, hint in ((3, ""), (1, "Say who it is for."))]
    write_table(tmp_path / "criteria.parquet", to_table("criteria", rows))
    hint = load_table(tmp_path, "criteria")["hint"]
    assert hint.isna().tolist() == [True, False] and hint.dtype == "string[pyarrow]"


def test_a_sample_form_sent_again_with_another_date_is_still_the_area_model_s_training_text(tmp_path):
    """Notebook 2 sets apart the practices the area model learned from: by their text, not their file's bytes."""
    from pipeline.config import DEFAULT_INPUT, Settings
    from pipeline.research import in_sample
    from pipeline.run import discover, ingest_files

    original = (DEFAULT_INPUT / "neuchatel-p2-04.txt").read_text(encoding="utf-8")
    assert "12.09.2023" in original
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "neuchatel-p2-04-v2.txt").write_text(original.replace("12.09.2023", "15.10.2023"), encoding="utf-8")
    (folder / "new.txt").write_text(original.split("Description")[0] + "Description\nUne tout autre pratique, "
                                    "menée avec les écoles du quartier pendant deux ans.\n", encoding="utf-8")
    results, _ = ingest_files(discover([folder]), Settings(), tmp_path / "out")
    forms = pd.DataFrame([p.to_dict() for r in results for p in r.practices]).set_index("source_file")
    assert forms.loc["neuchatel-p2-04-v2.txt", "form_date"] == "15.10.2023"
    assert in_sample(forms).to_dict() == {"neuchatel-p2-04-v2.txt": True, "new.txt": False}


def test_the_version_that_stands_for_a_practice_does_not_depend_on_file_names():
    """Paris's French form stands for its practice, not the English translation whose file name sorts first; of two
    French forms of Montréal, the one sent first, not the resubmission named so that it sorts first."""
    rows = [("p-en", "a-paris-assembly-en.md", "en", "Paris", "2024-03-01"),
            ("p-fr", "paris-p4-10.docx", "fr", "Paris", "2024-01-15"),
            ("m-new", "a-montreal-2024.md", "fr", "Ville de Montréal", "1 juin 2024"),
            ("m-old", "montreal-p1-07.md", "fr", "Montréal", "12/10/2023"),
            ("o-en", "oslo-b.docx", "en", "Oslo", None), ("o-fr", "oslo-a-fr.docx", "fr", "Oslo", None)]
    practices = pd.DataFrame([{"practice_id": pid, "source_file": f, "practice_index": 1, "lang": lang, "city": city,
                               "form_date": date, "n_words": 300} for pid, f, lang, city, date in rows])
    similar = pd.DataFrame([{"practice_id": a, "neighbour_id": b, "rank": 0, "relation": relation,
                             "near_duplicate": True}
                            for a, b, relation in (("p-en", "p-fr", "version"), ("m-new", "m-old", "near_duplicate"),
                                                   ("o-en", "o-fr", "version"))])
    keys = practice_keys(practices, similar)
    assert keys.tolist() == ["p-fr", "p-fr", "m-old", "m-old", "o-en", "o-en"]
    # the rows' order and the file names' order change nothing
    shuffled = practices.iloc[::-1].assign(source_file=lambda df: "z-" + df["source_file"])
    assert practice_keys(shuffled, similar).tolist() == keys.iloc[::-1].tolist()
    kept = distinct_practices(practices, similar)
    assert sorted(kept["practice_id"]) == ["m-old", "o-en", "p-fr"]
    assert kept.set_index("practice_id").loc["m-old", "form_date"] == "12/10/2023"
