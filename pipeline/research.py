"""Reading the output tables for analysis: the notebooks of `notebooks/` use these, and so can one's own code.

- `load_table` reads a table with Arrow-backed columns: a year left blank stays an integer column with <NA>,
  a list column (`declared_areas`, `warnings`, `evidence`) holds Python lists.
- `practice_keys` / `distinct_practices`: a practice sent in two languages (or twice) is one practice.
- `city_labels`: one name per city, whatever the spelling on the form (the export's `city_listed` in its language).
- `csv_ready`: list columns joined into readable text, for a CSV file.
- `in_sample`: whether a practice's text is one of the bundled sample's, which the area model learned from.
- `practice_levels`: the criteria levels of each practice, those of the version `distinct_practices` keeps.
- `weakest_criteria`: the criteria at a city's or an area's lowest mean level, none where that is the top level.
- `written_parts`: whether each part of a form is written, as the criteria and the guideline checks read it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.cities import city_country, city_info, city_key, city_name, country_name
from pipeline.criteria import CLAIM_FIELDS, is_empty_claim, is_empty_reference, load_cues
from pipeline.normalize import fold, form_year
from pipeline.similar import (SAME_PRACTICE, VERSION_FILLED, fill_from_versions, same_practice_pairs, version_keys,
                              version_order, version_words)
from pipeline.tables import SCHEMAS

__all__ = ["NO_CITY", "SAME_PRACTICE", "TOP_LEVEL", "VERSION_FILLED", "city_countries", "city_labels", "csv_ready",
           "distinct_practices", "form_years", "in_sample", "load_table", "practice_keys", "practice_levels", "text_key",
           "version_keys", "weakest_criteria", "written_parts"]

NO_CITY = "(no city)"
# Criteria levels run from 0 (the text says nothing of the criterion) to 3 (it gives concrete detail).
TOP_LEVEL = 3


def load_table(folder: str | Path, name: str) -> pd.DataFrame:
    """One output table of a run folder with Arrow-backed columns; an empty table with the same columns and
    types when the run did not write it. A table of an older run gets the columns added since: in
    `similar`, `relation` is read from `near_duplicate` ('near_duplicate' or 'similar': those runs did not tell a
    language version from a copy) and `weak` is false (they kept no match below the minimum score); any other is
    null. A criterion without a hint has a null `hint`, also in a table of a run that wrote '' for it.

    A folder that does not exist raises FileNotFoundError, and a name that is not a table's ValueError: a mistyped
    folder or name would otherwise pass for a run without practices."""
    if name not in SCHEMAS:
        raise ValueError(f"No table named {name!r}: the tables are {', '.join(SCHEMAS)} "
                         "(manifest.json is JSON, read it with json.loads)")
    if not Path(folder).is_dir():
        raise FileNotFoundError(f"No folder {Path(folder).resolve()}: give the --out folder of an icc-practices run")
    path = Path(folder) / f"{name}.parquet"
    if path.exists():
        frame = _as_current(name, pd.read_parquet(path, dtype_backend="pyarrow"))
        if name == "criteria" and len(frame):  # runs before hints were null wrote '' for none
            frame["hint"] = frame["hint"].mask(frame["hint"] == "")
        return frame
    return SCHEMAS[name].empty_table().to_pandas(types_mapper=pd.ArrowDtype)


def _as_current(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    missing = [f for f in SCHEMAS[name] if f.name not in frame.columns]
    if not missing:
        return frame
    frame = frame.copy()
    flagged = frame["near_duplicate"].fillna(False).astype(bool).tolist() if "near_duplicate" in frame else None
    for field in missing:
        if name == "similar" and field.name == "relation" and flagged is not None:
            values = ["near_duplicate" if f else "similar" for f in flagged]
        elif name == "similar" and field.name == "weak":
            values = [False] * len(frame)
        else:
            values = [None] * len(frame)
        frame[field.name] = pd.Series(values, index=frame.index, dtype=pd.ArrowDtype(field.type))
    names = SCHEMAS[name].names
    return frame[[*names, *(c for c in frame.columns if c not in names)]]


def _version_rows(practices: pd.DataFrame, fields: tuple[str, ...] = ()) -> list[dict]:
    names = ["practice_id", *dict.fromkeys(c for c in ("source_file", "practice_index", "city", "lang", "form_date",
                                                       "n_words", *fields) if c in practices.columns)]
    return practices[names].to_dict("records")


def _keys(rows: list[dict], similar: pd.DataFrame) -> dict[str, str]:
    ids = [str(r["practice_id"]) for r in sorted(rows, key=version_order)]
    names = [c for c in ("practice_id", "neighbour_id", "rank", "relation", "near_duplicate") if c in similar.columns]
    links = similar[names].to_dict("records") if len(similar) else []
    if links and "rank" not in names:  # a frame without ranks: rank 0 rows are those of the practice's own city
        city = {str(r["practice_id"]): city_key(r["city"]) if isinstance(r.get("city"), str) else "" for r in rows}
        for link in links:
            mine = city.get(str(link["practice_id"]))
            link["rank"] = 0 if mine and mine == city.get(str(link["neighbour_id"])) else 1
    return version_keys(ids, same_practice_pairs(links), version_words(rows))


def practice_keys(practices: pd.DataFrame, similar: pd.DataFrame) -> pd.Series:
    """For each row of `practices`, the practice_id that stands for its practice.

    Versions of one practice are the pairs `similar.parquet` lists at rank 0: the same city's text in another
    language or rewritten (`version`) or sent again (`near_duplicate`). They are joined transitively (an English,
    a French and a German version are one practice) and share the id of the first version in `version_order` (its
    city's own language, then the earliest form year, then the file name and place in it) among the fullest (a
    version with fewer than two thirds of the longest one's words, such as a summary, does not stand for the
    practice), whatever the order of the rows: these are the
    export's `practice_key` and the versions the reports count once. Near duplicates from two different cities stay two practices, one per city.
    """
    keys = _keys(_version_rows(practices), similar)
    return pd.Series([keys[str(p)] for p in practices["practice_id"]], index=practices.index, name="practice_key")


def distinct_practices(practices: pd.DataFrame, similar: pd.DataFrame) -> pd.DataFrame:
    """One row per practice, in `version_order` (see `practice_keys`), with `practice_key` and `versions` (how many
    forms of it the run read).

    The row is that of the version `practice_keys` names, with the header fields its form left empty taken from
    the other versions, the first in that order that has them (`similar.VERSION_FILLED`: title, department,
    form date, contact person, main objective; the declared areas with their text and `area_mismatch`; the period
    with its years and `ongoing`), so a translation that carries the description alone does not lose the
    practice's declared areas or period. The description, its sections, the language, the predicted areas and
    `warnings` stay those of the version's own form.
    """
    fields = tuple(name for checked, carried in VERSION_FILLED for name in (*checked, *carried))
    rows = _version_rows(practices, fields)
    keys = _keys(rows, similar)
    order = sorted(range(len(rows)), key=lambda i: version_order(rows[i]))
    out = practices.iloc[order]
    key_column = [keys[str(p)] for p in out["practice_id"]]
    out = out.assign(practice_key=key_column,
                     versions=pd.Series(key_column, index=out.index).map(pd.Series(key_column).value_counts()))
    out = out[out["practice_id"].astype(str) == out["practice_key"]]
    filled = fill_from_versions(rows, keys)
    if filled:
        position = {str(p): i for i, p in enumerate(out["practice_id"])}
        for name in {n for values in filled.values() for n in values}:
            values = out[name].tolist()
            for pid, given in filled.items():
                if name in given:
                    values[position[pid]] = given[name]
            try:
                out[name] = pd.Series(values, index=out.index, dtype=out[name].dtype)
            except (TypeError, ValueError):  # a missing value where the column's type holds none
                out[name] = pd.Series(values, index=out.index, dtype=object)
    return out


def practice_levels(criteria: pd.DataFrame, distinct: pd.DataFrame) -> pd.DataFrame:
    """The criteria levels of each practice of `distinct` (from `distinct_practices`) that was scored: one row per
    practice, indexed by its `practice_key` in the order of `distinct`, one float column per criterion (NaN where
    that criterion has no level).

    A practice sent in several languages has the levels of the version `distinct_practices` keeps, as the batch
    summary counts it: its versions' levels are not averaged. Each version is scored on its own text and two
    versions need not say the same; out of fold, giving both the mean of their levels lowers their Spearman with
    the readers (modelable 0.80 -> 0.56, `benchmarks/eval_version_criteria.py`)."""
    kept = list(dict.fromkeys(distinct["practice_id"].astype(str)))  # the version kept: its id is the practice's key
    rows = criteria[criteria["practice_id"].astype(str).isin(kept)]
    levels = pd.DataFrame({"practice_key": rows["practice_id"].astype(str).to_numpy(),
                           "criterion": rows["criterion"].astype(str).to_numpy(),
                           "level": rows["level"].astype("float64").to_numpy()})
    names = list(dict.fromkeys(levels["criterion"]))
    levels = levels.pivot(index="practice_key", columns="criterion", values="level")
    return levels.reindex(index=pd.Index([k for k in kept if k in levels.index], name="practice_key"),
                          columns=pd.Index(names, name="criterion"))


def weakest_criteria(means: pd.DataFrame, top: float = TOP_LEVEL) -> pd.Series:
    """For each row of `means` (mean levels of a city or an area, one column per criterion), the criteria at its
    lowest mean, in column order: a tie gives several. A row whose lowest mean is the top level has none (a
    criterion at the top is no weakness), and neither has a row without a mean."""
    def lowest(row: pd.Series) -> list[str]:
        values = row.dropna().astype(float)
        if values.empty or values.min() >= top - 1e-9:
            return []
        return [str(c) for c, v in values.items() if np.isclose(v, values.min())]

    return pd.Series([lowest(row) for _, row in means.iterrows()], index=means.index, name="weakest", dtype=object)


def written_parts(practices: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Whether each of `columns` is written in each row of `practices`, as the criteria and the guideline checks
    read the form: a missing or blank part is not, nor a references part that names no document ("See the city
    website.", "To be defined.": `criteria.is_empty_reference`, which fails the references check), nor an objective
    or a description part that says nothing of its own ("See above.", « En cours. »: `criteria.is_empty_claim`)."""
    cues = load_cues()

    def written(name: str, text) -> bool:
        if not isinstance(text, str) or not text.strip():
            return False
        if name == "references":
            return not is_empty_reference(text, cues)
        return not (name in CLAIM_FIELDS and is_empty_claim(text, cues))

    return pd.DataFrame({name: [written(name, t) for t in practices[name]] for name in columns},
                        index=practices.index, columns=list(columns), dtype=bool)


def city_labels(cities: pd.Series, lang: str = "en") -> pd.Series:
    """One name per city for grouping and display, the name the English export's `city_listed` and the English
    reports give it (the French export's with lang='fr'): a member city of `resources/cities.yaml` under its listed
    name in `lang` ('Geneva', 'Genf' and 'Ville de Genève' are 'Geneva'; 'Genève' with lang='fr'); another city
    under the spelling met most often among those that differ only in case, accents or spacing, without the country
    after it; NO_CITY where the form names none."""
    keys = cities.map(lambda c: city_key(c) if isinstance(c, str) else "")
    named: dict[str, str] = {}
    for key, group in cities.groupby(keys.to_numpy(), sort=False):
        info = city_info(str(group.dropna().iloc[0])) if group.notna().any() else None
        if info is not None:
            named[key] = info.name_in(lang)
        elif key:
            # as the summary and the reports name it: 'Tartu, Estonia' is Tartu
            named[key] = str(group.dropna().astype(str).map(city_name).value_counts().idxmax())
    return pd.Series([named.get(k, NO_CITY) for k in keys], index=cities.index, name="city_label")


def city_countries(cities: pd.Series, lang: str = "en") -> pd.Series:
    """The country of each city, as the workbook's `country` column and the reports name it ('Ville de Genève' is in
    Switzerland, « Suisse » with lang='fr'; 'Tartu, Estonia', not listed, in Estonia); <NA> where neither the list of
    member cities nor the form says it. For similar.parquet's `neighbour_city` as for practices' `city`."""
    named = {c: country_name(city_country(c), lang) for c in cities.dropna().unique()}
    return pd.Series([named.get(c) if isinstance(c, str) else None for c in cities], index=cities.index,
                     name="country", dtype="string")




def form_years(form_dates: pd.Series) -> pd.Series:
    """The year of each form's date as the city wrote it ("2 November 2023", "15/08/2023", "03/02/25", "2024-01-22"),
    <NA> where none can be read. Only the year: whether "07-05-2024" is May or July cannot be told."""
    return pd.Series([form_year(t) for t in form_dates], index=form_dates.index, name="form_year", dtype="Int64")


def text_key(text) -> str | None:
    """A practice's description without case, accents or spacing, to find the same text in two forms (a copy sent
    again with another date or file name); None for no description."""
    if not isinstance(text, str) or not text.strip():
        return None
    return " ".join(fold(text).split())


@lru_cache(maxsize=1)
def _sample_texts() -> frozenset[str]:
    from pipeline.config import DEFAULT_INPUT, Settings
    from pipeline.run import discover, ingest_files

    if not DEFAULT_INPUT.exists():
        return frozenset()
    with tempfile.TemporaryDirectory() as tmp:
        results, _ = ingest_files(discover([DEFAULT_INPUT]), Settings(), Path(tmp))
    return frozenset(k for r in results for p in r.practices if (k := text_key(p.description)))


def in_sample(practices: pd.DataFrame) -> pd.Series:
    """For each row of `practices`, whether its description is that of a practice of the bundled sample
    (`data/raw`), whose declared areas the shipped area model learned from: compared by text, so a copy of a
    sample form sent again with another date or under another name counts, and a translation does not."""
    texts = _sample_texts()
    return pd.Series([text_key(t) in texts for t in practices["description"]], index=practices.index,
                     name="in_sample", dtype=bool)


def _is_list(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def _is_list_column(column: pd.Series) -> bool:
    dtype = column.dtype
    if isinstance(dtype, pd.ArrowDtype):
        return pa.types.is_list(dtype.pyarrow_dtype) or pa.types.is_large_list(dtype.pyarrow_dtype)
    return dtype == object and any(_is_list(v) for v in column)


def csv_ready(frame: pd.DataFrame, sep: str = "; ") -> pd.DataFrame:
    """A copy whose list columns are joined with `sep` ("14; 14b; 8"), so a CSV file or a spreadsheet shows them
    as text rather than as a Python or numpy list; an empty or missing list gives an empty cell."""
    out = frame.copy()
    for name in out.columns:
        if _is_list_column(out[name]):
            out[name] = pd.Series([sep.join(str(x) for x in v) if _is_list(v) and len(v) else None for v in out[name]],
                                  index=out.index, dtype=object)
    return out
