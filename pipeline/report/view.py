"""One view of a run, built once and read by every report.

The tables of a run (in memory from `run_batch`, or read once from its output folder) with the indexes the reports
need: practices by id, the practice each is a version of, neighbours grouped by practice, cities by key, the
contact-name redactor, the taxonomy and the words of the report catalogue. Each index is built on first use and
then kept, so writing a report for every city costs one pass over the tables plus the work of each report, not a
pass per city.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.cities import CityInfo, city_info, city_key, city_name
from pipeline.config import RESOURCES_DIR, ReportSettings, load_yaml
from pipeline.records import SECTION_FIELDS
from pipeline.report.redact import Redactor, contacts_of
from pipeline.tables import SCHEMAS, is_missing

CATALOGUE_FILE = RESOURCES_DIR / "reports.yaml"
# The practices' long texts: no report shows them, and as Python strings they were most of the reports' memory
# on a large run.
_UNREPORTED_COLUMNS = {"practices": ("description", "main_objective", *SECTION_FIELDS)}
LANGS = ("en", "fr")
TABLE_NAMES = ("files", "practices", "areas", "similar", "criteria", "guidelines", "reviews")

Table = pa.Table | pd.DataFrame


def singular(n: int, lang: str) -> bool:
    """Whether a noun counted `n` takes the singular in `lang`: French puts 0 and 1 in the singular, English only 1."""
    return n <= 1 if lang == "fr" else n == 1


def counted(n: int, forms: list[str], lang: str) -> str:
    """`n` with the noun of `forms` ([one, many]) in the number it takes in `lang` ('1 pratique', '0 practices')."""
    one, many = forms
    return f"{n} {one if singular(n, lang) else many}"


def load_catalogue(path: Path = CATALOGUE_FILE) -> dict[str, dict]:
    """The words of the reports per language (resources/reports.yaml)."""
    return load_yaml(Path(path).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class CityGroup:
    """The practices of one city, whatever spelling each form used ('Geneva', 'Genève')."""

    key: str
    name: str  # the listed name (pipeline.cities.city_name), else the first spelling found in the practices table
    info: CityInfo | None
    practice_ids: tuple[str, ...]


@dataclass
class RunView:
    """The tables of one run and their indexes; build it with `build_view`."""

    out_dir: Path
    manifest: dict
    tables: dict[str, pa.Table | pd.DataFrame]
    catalogue: dict[str, dict] = field(default_factory=load_catalogue)

    # ---------------------------------------------------------------- tables

    def frame(self, name: str, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
        """A table as a DataFrame (empty with the contract's columns when the run has none); `columns`: only these."""
        frames = self.__dict__.setdefault("_frames", {})
        if (name, columns) not in frames:
            table = _select(self.tables[name], columns)
            frames[name, columns] = table.to_pandas() if isinstance(table, pa.Table) else table
        return frames[name, columns]

    def records(self, name: str, columns: tuple[str, ...] | None = None) -> list[dict]:
        """A table's rows as dicts, None for missing values and plain lists for list columns (without the
        practices' long texts, which no report shows); `columns`: only these (a large run's rows cost less)."""
        rows = self.__dict__.setdefault("_records", {})
        if (name, columns) not in rows:
            table = _select(self.tables[name], columns)
            names = table.column_names if isinstance(table, pa.Table) else list(table.columns)
            skip = [c for c in _UNREPORTED_COLUMNS.get(name, ()) if c in names]
            if isinstance(table, pa.Table):
                rows[name, columns] = table.drop_columns(skip).to_pylist()
            else:
                rows[name, columns] = _frame_records(table.drop(columns=skip))
        return rows[name, columns]

    def text(self, practice_id: str, name: str) -> str | None:
        """One field of one practice, the long texts included (read from the table, not kept as rows)."""
        if name not in _UNREPORTED_COLUMNS["practices"]:
            return (self.practices.get(practice_id) or {}).get(name)
        row = self._practice_rows.get(practice_id)
        table = self.tables["practices"]
        if row is None or name not in (table.column_names if isinstance(table, pa.Table) else table.columns):
            return None
        value = table.column(name)[row].as_py() if isinstance(table, pa.Table) else table[name].iloc[row]
        return None if is_missing(value) else value

    # ---------------------------------------------------------------- indexes

    @cached_property
    def _practice_rows(self) -> dict[str, int]:
        # table rows, as `practices` keeps them (the last of identical files wins in both)
        return {row["practice_id"]: i for i, row in enumerate(self.records("practices"))}

    @cached_property
    def practices(self) -> dict[str, dict]:
        """Practices by id, in table order."""
        return {row["practice_id"]: row for row in self.records("practices")}

    @cached_property
    def neighbours(self) -> dict[str, list[dict]]:
        """Rows of the similar table grouped by practice (one pass), each group in rank order."""
        groups: dict[str, list[dict]] = {}
        for row in self.records("similar"):
            groups.setdefault(row["practice_id"], []).append(row)
        for rows in groups.values():
            rows.sort(key=lambda r: r["rank"])
        return groups

    @cached_property
    def practice_keys(self) -> dict[str, str]:
        """The practice each practice id is a version of (`research.practice_keys`): language versions and copies
        sent again, linked at rank 0 of the similar table, share the id of the first full one in `version_order`."""
        from pipeline.similar import same_practice_pairs, version_keys, version_order, version_words

        rows = self.records("similar", ("practice_id", "neighbour_id", "rank", "relation", "near_duplicate"))
        ids = [p["practice_id"] for p in sorted(self.practices.values(), key=version_order)]
        return version_keys(ids, same_practice_pairs(rows), version_words(self.practices.values()))

    @property
    def n_distinct(self) -> int:
        """Practices of the run with each practice counted once, however many versions of it were sent."""
        return len(set(self.practice_keys.values()))

    def is_representative(self, practice_id: str) -> bool:
        """Whether the practice stands for its versions in counts (the first of them in `version_order`)."""
        return self.practice_keys.get(practice_id, practice_id) == practice_id

    @cached_property
    def city_of(self) -> dict[str, str]:
        """City key of every practice."""
        keys: dict[str | None, str] = {}  # each spelling is looked up once, not once per practice
        out = {}
        for pid, p in self.practices.items():
            name = p.get("city")
            if name not in keys:
                keys[name] = city_key(name)
            out[pid] = keys[name]
        return out

    @cached_property
    def cities(self) -> dict[str, CityGroup]:
        """Cities of the run by key, in key order; practices without a city are left out."""
        names: dict[str, str] = {}
        members: dict[str, list[str]] = {}
        for pid, p in self.practices.items():
            key = self.city_of[pid]
            if not key:
                continue
            if key not in names:
                names[key] = city_name(p["city"])
            members.setdefault(key, []).append(pid)
        return {key: CityGroup(key, names[key], city_info(names[key]), tuple(members[key])) for key in sorted(names)}

    @cached_property
    def redactor(self) -> Redactor:
        """Removes the contact names of every practice of the run (and addresses, phones) from a text."""
        return Redactor(c for p in self.practices.values() for c in contacts_of(p))

    @cached_property
    def taxonomy(self):
        """The action areas, or None when the file cannot be read (a report must not fail on it)."""
        try:
            from pipeline.taxonomy import load_taxonomy

            return load_taxonomy()
        except Exception:  # noqa: BLE001
            return None

    @property
    def n_cities(self) -> int:
        """Cities of the run, by city key: 'Geneva' and 'Genève' are one (the count the summary shows too)."""
        return len(self.cities)

    @cached_property
    def run_date(self) -> str:
        """Day the run's tables were written (from the manifest when it says, else the table's file time)."""
        date = self.manifest.get("generated_at") or self.manifest.get("finished_at")
        if date:
            return str(date)[:10]
        path = self.out_dir / "practices.parquet"
        if not path.exists():
            return "?"
        return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.timezone.utc).strftime("%Y-%m-%d")

    @property
    def report_settings(self) -> ReportSettings:
        """The run's report settings as its manifest recorded them (the defaults for an older manifest)."""
        recorded = (self.manifest.get("settings") or {}).get("reports") or {}
        known = {f.name for f in dataclasses.fields(ReportSettings)}
        return ReportSettings(**{k: v for k, v in recorded.items() if k in known})

    @property
    def min_similarity(self) -> float:
        return (self.manifest.get("settings") or {}).get("min_similarity", 0.3)

    @property
    def embedder(self) -> str:
        return (self.manifest.get("models") or {}).get("embedder") or (self.manifest.get("settings") or {}).get("embedder") or "?"

    def suggested_areas(self, practice_id: str) -> list[str]:
        """The area stage's suggestions for a practice, main area first (practices.predicted_areas)."""
        return list(self.practices.get(practice_id, {}).get("predicted_areas") or [])[:3]

    def words(self, lang: str) -> dict:
        return self.catalogue[lang if lang in self.catalogue else "en"]

    @cached_property
    def tables_digest(self) -> str:
        """Hash of the tables the city reports are written from, as stored in the output folder."""
        digest = hashlib.sha256()
        for name in ("practices", "similar", "areas"):
            path = self.out_dir / f"{name}.parquet"
            digest.update(path.read_bytes() if path.exists() else b"-")
        return digest.hexdigest()


def build_view(out_dir: Path, tables: Mapping[str, Table] | None = None, manifest: dict | None = None) -> RunView:
    """The view of the run in `out_dir`: tables given in memory are used as they are, the others are read once
    from the folder (an absent table is empty); the manifest likewise."""
    out_dir = Path(out_dir)
    given = dict(tables or {})
    loaded: dict[str, Table] = {}
    for name in TABLE_NAMES:
        if name in given and given[name] is not None:
            loaded[name] = given[name]
            continue
        path = out_dir / f"{name}.parquet"
        loaded[name] = pq.read_table(path) if path.exists() else SCHEMAS[name].empty_table()
    if manifest is None:
        try:
            manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = {}
    return RunView(out_dir, manifest if isinstance(manifest, dict) else {}, loaded)


def _select(table: Table, columns: tuple[str, ...] | None) -> Table:
    """The named columns of a table that has them (all columns when `columns` is None)."""
    if columns is None:
        return table
    names = table.column_names if isinstance(table, pa.Table) else list(table.columns)
    keep = [c for c in columns if c in names]
    return table.select(keep) if isinstance(table, pa.Table) else table[keep]


def _frame_records(df: pd.DataFrame) -> list[dict]:
    out = []
    for row in df.to_dict("records"):
        out.append({k: (list(v) if isinstance(v, np.ndarray) else None if is_missing(v) else v)
                    for k, v in row.items()})
    return out
