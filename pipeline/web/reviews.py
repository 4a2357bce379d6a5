"""The secretariat's reviews: confirmed or corrected main area, area set and criteria levels, with a note.

Reviews are kept in a SQLite file beside the run's tables (path configurable), one row per submitted review so
the history stays; a practice's reviewed values are its reviews folded in order, a field left out of a review
keeping its earlier value. `export_reviews` writes them as reviews.parquet; `load_reviewed_labels` gives
training the reviewed area labels, main area first, and `load_reviewed_levels` the reviewed criteria levels.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from pipeline.criteria import CRITERIA
from pipeline.tables import SCHEMAS, write_table
from pipeline.taxonomy import load_taxonomy

SCHEMA_VERSION = 1
REVIEWS_TABLE = "reviews.parquet"
MAX_NOTE_CHARS = 4000

_MIGRATIONS = {
    1: """
        CREATE TABLE reviews (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            practice_id TEXT NOT NULL,
            main_area TEXT,          -- NULL: not reviewed in this review
            areas TEXT,              -- JSON list of codes, main area first; NULL: not reviewed
            criteria TEXT,           -- JSON object criterion -> level 0-3; NULL: none reviewed
            note TEXT,
            reviewer TEXT NOT NULL,
            reviewed_at TEXT NOT NULL  -- ISO 8601, UTC
        );
        CREATE INDEX reviews_by_practice ON reviews (practice_id, id);
    """,
}

# The columns of reviews.parquet, declared with the other output tables.
REVIEWS_SCHEMA = SCHEMAS["reviews"]


class ReviewInput(BaseModel):
    """One review as the API takes it; a field left out stays unreviewed. Unknown codes or levels are refused.

    The area set is stored with the parent of each sub-area in it ('3b' brings '3'), main area first. `reviewer`
    names who reviewed through the API (else "api"); the HTML form records the logged-in reviewer instead.
    """

    model_config = ConfigDict(extra="forbid")

    main_area: str | None = None
    areas: list[str] | None = Field(default=None, max_length=40)
    criteria: dict[str, StrictInt] | None = None
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)
    reviewer: str | None = Field(default=None, min_length=1, max_length=80)

    @field_validator("main_area")
    @classmethod
    def _known_area(cls, code: str | None) -> str | None:
        if code is not None and code not in load_taxonomy().areas:
            raise ValueError(f"unknown area code {code!r}")
        return code

    @field_validator("areas")
    @classmethod
    def _known_areas(cls, codes: list[str] | None) -> list[str] | None:
        if codes is None:
            return None
        unknown = [c for c in codes if c not in load_taxonomy().areas]
        if unknown:
            raise ValueError(f"unknown area codes {unknown}")
        if not codes:
            raise ValueError("an area set needs at least one area")
        return load_taxonomy().with_parents(codes)  # a sub-area implies its parent, as everywhere else

    @field_validator("criteria")
    @classmethod
    def _known_levels(cls, levels: dict[str, int] | None) -> dict[str, int] | None:
        if levels is None:
            return None
        unknown = sorted(set(levels) - set(CRITERIA))
        if unknown:
            raise ValueError(f"unknown criteria {unknown}; the criteria are {list(CRITERIA)}")
        bad = {k: v for k, v in levels.items() if not 0 <= v <= 3}
        if bad:
            raise ValueError(f"levels run from 0 to 3: {bad}")
        return levels

    @model_validator(mode="after")
    def _something_reviewed(self) -> "ReviewInput":
        if self.main_area is None and self.areas is None and not self.criteria and not (self.note or "").strip():
            raise ValueError("nothing to review: give main_area, areas, criteria or a note")
        if self.main_area is not None and self.areas is not None:
            # The main area belongs to the set, first, and a main sub-area brings its parent along.
            codes = load_taxonomy().with_parents([self.main_area, *self.areas])
            self.areas = [self.main_area, *(c for c in codes if c != self.main_area)]
        return self


@dataclass
class PracticeReview:
    """A practice's reviewed values (its reviews folded in order) and who reviewed it last, when."""

    practice_id: str
    main_area: str | None = None
    areas: list[str] | None = None
    criteria: dict[str, int] = field(default_factory=dict)
    note: str | None = None
    reviewer: str | None = None
    reviewed_at: str | None = None
    n_reviews: int = 0

    def labels(self) -> list[str]:
        """Reviewed area codes, main area first ([] when no area was reviewed)."""
        if self.areas:
            main = self.main_area or self.areas[0]
            return [main, *(c for c in self.areas if c != main)]
        return [self.main_area] if self.main_area else []

    def row(self) -> dict:
        return {"practice_id": self.practice_id, "main_area": self.main_area, "areas": self.areas,
                **{name: self.criteria.get(name) for name in CRITERIA}, "note": self.note, "reviewer": self.reviewer,
                "reviewed_at": datetime.fromisoformat(self.reviewed_at) if self.reviewed_at else None,
                "n_reviews": self.n_reviews}


class ReviewStore:
    """Reviews in one SQLite file; one connection shared by request threads behind a lock."""

    def __init__(self, path: Path, read_only: bool = False):
        self.path = Path(path)
        self._lock = threading.Lock()
        if read_only:
            self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
            self._check_version()
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")  # readers are not blocked while a review is written
            self._migrate()
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        self._db.close()

    def _version(self) -> int:
        try:
            row = self._db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        except sqlite3.OperationalError:  # no such table: a new file
            return 0
        return int(row[0] or 0)

    def _check_version(self) -> int:
        version = self._version()
        if version > SCHEMA_VERSION:
            raise RuntimeError(f"{self.path} holds reviews of schema {version}; "
                               f"this version reads up to {SCHEMA_VERSION}")
        return version

    def _migrate(self) -> None:
        with self._lock:
            self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            self._db.commit()
            for version in range(self._check_version() + 1, SCHEMA_VERSION + 1):
                # One transaction per step: a file is never left half-migrated.
                self._db.executescript(
                    f"BEGIN; {_MIGRATIONS[version]} INSERT INTO schema_version VALUES ({version}); COMMIT;")

    def add(self, practice_id: str, review: ReviewInput, reviewer: str) -> PracticeReview:
        when = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO reviews (practice_id, main_area, areas, criteria, note, reviewer, reviewed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (practice_id, review.main_area, json.dumps(review.areas) if review.areas is not None else None,
                 json.dumps(review.criteria) if review.criteria else None, (review.note or "").strip() or None,
                 reviewer, when))
        return self.current(practice_id)

    def history(self, practice_id: str) -> list[dict]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM reviews WHERE practice_id = ? ORDER BY id",
                                    (practice_id,)).fetchall()
        return [_decoded(r) for r in rows]

    def current(self, practice_id: str) -> PracticeReview | None:
        return _fold(practice_id, self.history(practice_id))

    def all_current(self) -> dict[str, PracticeReview]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM reviews ORDER BY practice_id, id").fetchall()
        grouped: dict[str, list[dict]] = {}
        for row in rows:
            grouped.setdefault(row["practice_id"], []).append(_decoded(row))
        return {pid: _fold(pid, items) for pid, items in grouped.items()}


def _decoded(row: sqlite3.Row) -> dict:
    item = dict(row)
    item["areas"] = json.loads(item["areas"]) if item["areas"] else None
    item["criteria"] = json.loads(item["criteria"]) if item["criteria"] else {}
    return item


def _fold(practice_id: str, reviews: list[dict]) -> PracticeReview | None:
    if not reviews:
        return None
    state = PracticeReview(practice_id)
    for item in reviews:
        state.main_area = item["main_area"] if item["main_area"] is not None else state.main_area
        state.areas = item["areas"] if item["areas"] is not None else state.areas
        state.criteria = {**state.criteria, **item["criteria"]}
        state.note = item["note"] if item["note"] is not None else state.note
        state.reviewer, state.reviewed_at = item["reviewer"], item["reviewed_at"]
    state.n_reviews = len(reviews)
    return state


def review_rows(db_path: Path) -> list[dict]:
    """reviews.parquet rows from a review store (none when the file does not exist)."""
    if not Path(db_path).exists():
        return []
    store = ReviewStore(db_path, read_only=True)
    try:
        return [review.row() for _, review in sorted(store.all_current().items())]
    finally:
        store.close()


def export_reviews(db_path: Path, out_dir: Path) -> Path:
    """Write the reviewed values of every reviewed practice to out_dir/reviews.parquet (atomically)."""
    path = Path(out_dir) / REVIEWS_TABLE
    rows = review_rows(db_path)
    table = pa.Table.from_pylist(rows, schema=REVIEWS_SCHEMA) if rows else REVIEWS_SCHEMA.empty_table()
    write_table(path, table)
    return path


def load_reviews(source: Path) -> list[PracticeReview]:
    """The reviewed values of every reviewed practice, from a review store (.sqlite) or reviews.parquet."""
    source = Path(source)
    if not source.exists():
        return []
    rows = pq.read_table(source).to_pylist() if source.suffix == ".parquet" else review_rows(source)
    return [PracticeReview(r["practice_id"], r["main_area"], r["areas"],
                           {c: int(r[c]) for c in CRITERIA if r.get(c) is not None}) for r in rows]


def load_reviewed_labels(source: Path) -> dict[str, list[str]]:
    """Reviewed area labels by practice id, main area first, from a review store (.sqlite) or reviews.parquet.

    Practices whose areas were never reviewed are left out, so training keeps their declared areas.
    """
    return {r.practice_id: r.labels() for r in load_reviews(source) if r.labels()}


def load_reviewed_levels(source: Path) -> dict[str, dict[str, int]]:
    """Reviewed criteria levels by practice id ({criterion: level}, only the criteria reviewed), from a review
    store (.sqlite) or reviews.parquet. Practices with no reviewed level are left out."""
    return {r.practice_id: dict(r.criteria) for r in load_reviews(source) if r.criteria}
