"""Schemas of the output tables (a contract read by notebooks, reports and outside tools) and atomic writes."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:  # pandas is imported where a table is read or given as a frame: `check` does neither
    import pandas as pd

_str = pa.string()
_strs = pa.list_(pa.string())

SCHEMAS: dict[str, pa.Schema] = {
    "files": pa.schema([
        ("source_file", _str), ("sha256", _str), ("status", _str), ("error_code", _str),
        ("message", _str), ("n_practices", pa.int64()),
    ]),
    "practices": pa.schema([
        ("practice_id", _str), ("source_file", _str), ("practice_index", pa.int64()), ("lang", _str),
        ("city", _str), ("department", _str), ("form_date", _str), ("contact_person", _str),
        ("title", _str), ("declared_area_text", _str), ("declared_areas", _strs), ("main_objective", _str),
        ("period_text", _str), ("period_start", pa.int64()), ("period_end", pa.int64()), ("ongoing", pa.bool_()),
        ("purpose", _str), ("starting_point", _str), ("process", _str), ("impact", _str), ("references", _str),
        ("description", _str), ("n_words", pa.int64()), ("warnings", _strs),
        ("predicted_areas", _strs), ("main_area_pred", _str), ("area_mismatch", pa.bool_()),
    ]),
    "areas": pa.schema([
        ("practice_id", _str), ("area", _str), ("probability", pa.float64()), ("suggested", pa.bool_()),
        ("evidence", _str),
    ]),
    "similar": pa.schema([
        ("practice_id", _str), ("neighbour_id", _str), ("rank", pa.int64()), ("score", pa.float64()),
        ("matched_section", _str), ("shared_terms", _strs), ("neighbour_city", _str), ("near_duplicate", pa.bool_()),
        ("relation", _str), ("weak", pa.bool_()),
    ]),
    "criteria": pa.schema([
        ("practice_id", _str), ("criterion", _str), ("level", pa.int64()), ("score", pa.float64()),
        ("evidence", _strs), ("hint", _str),
    ]),
    # Written from the web app's review store: a practice's reviewed values (its reviews folded in order), with
    # the city and title it had when it was reviewed (empty for reviews stored before they were kept). reviewer and
    # reviewed_at: the last review; reviewers: everyone whose values the row holds; set_by: who set each value.
    "reviews": pa.schema([
        ("practice_id", _str), ("city", _str), ("title", _str), ("main_area", _str), ("areas", _strs),
        ("targeted", pa.int64()), ("needs_based", pa.int64()), ("context_sensitive", pa.int64()),
        ("high_impact", pa.int64()), ("modelable", pa.int64()), ("transferable", pa.int64()),
        ("note", _str), ("reviewer", _str), ("reviewed_at", pa.timestamp("ms", tz="UTC")), ("n_reviews", pa.int64()),
        ("reviewers", _strs),
        ("set_by", pa.struct([(name, _str) for name in (
            "main_area", "areas", "targeted", "needs_based", "context_sensitive", "high_impact", "modelable",
            "transferable", "note")])),
    ]),
    # Reporting-guideline checks shown beside the criteria (an extra table, not one of those other tools read by name).
    "guidelines": pa.schema([
        ("practice_id", _str), ("check", _str), ("passed", pa.bool_()), ("detail", _str),
    ]),
}


def to_table(name: str, rows: list[dict] | pd.DataFrame | pa.Table) -> pa.Table:
    """Rows as an Arrow table with the contract's column names and types, in the contract's order."""
    schema = SCHEMAS[name]
    if isinstance(rows, pa.Table):
        return rows.select(schema.names).cast(schema)
    if hasattr(rows, "to_dict"):  # a pandas DataFrame
        rows = rows.to_dict("records")
    columns = {f.name: [_clean(r.get(f.name)) for r in rows] for f in schema}
    return pa.Table.from_pydict(columns, schema=schema)


def _clean(value):
    if not isinstance(value, (list, tuple, str, dict)) and is_missing(value):
        return None
    return value.tolist() if hasattr(value, "tolist") else value


def is_missing(value) -> bool:
    """An empty cell: None, NaN (Python or numpy), pandas' NA or NaT. Lists and arrays are values."""
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return bool(value != value)
    return type(value).__name__ in ("NAType", "NaTType")


def atomic_write_bytes(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write via a temporary file in the same folder and rename: readers never see half a file. `data`: bytes,
    or pieces of bytes written as they come (a large page need not be in memory whole)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb", buffering=1 << 16) as fh:
            if isinstance(data, (bytes, bytearray, memoryview)):
                fh.write(data)
            else:
                for piece in data:
                    fh.write(piece)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; outputs are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_table(path: Path, table: pa.Table) -> None:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    atomic_write_bytes(path, sink.getvalue().to_pybytes())


def write_json(path: Path, data) -> None:
    atomic_write_bytes(path, (json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))


def read_table(out_dir: Path, name: str) -> "pd.DataFrame":
    import pandas as pd

    return pd.read_parquet(Path(out_dir) / f"{name}.parquet")
