"""The notebooks' helpers: versions of one practice count once, a city once, list columns export as text."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from pipeline.research import NO_CITY, city_labels, csv_ready, distinct_practices, load_table, practice_keys


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


def test_a_city_is_one_label_whatever_its_spelling():
    cities = pd.Series(["Geneva", "Genève", "Ville de Genève", "Nowhere Town", "nowhere  town", "Nowhere Town", None])
    assert city_labels(cities).tolist() == ["Genève"] * 3 + ["Nowhere Town"] * 3 + [NO_CITY]


def test_list_columns_are_joined_for_csv(tmp_path):
    frame = load_table(tmp_path, "practices")  # no run there: an empty table with the table's columns and types
    assert list(frame.columns)[:2] == ["practice_id", "source_file"] and len(frame) == 0
    rows = pd.DataFrame({"id": ["x", "y"], "areas": [["14", "14b"], []], "year": pd.array([2021, None], "Int64")})
    assert csv_ready(rows).to_csv(index=False).splitlines() == ["id,areas,year", "x,14; 14b,2021", "y,,"]
    arrow = rows.assign(areas=pd.array([["14", "14b"], None], dtype=pd.ArrowDtype(pa.list_(pa.string()))))
    assert csv_ready(arrow).to_csv(index=False).splitlines() == ["id,areas,year", "x,14; 14b,2021", "y,,"]
