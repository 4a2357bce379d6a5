"""The secretariat's reviews: confirmed or corrected main area, area set and criteria levels, with a note.

Reviews are kept in a SQLite file beside the run's tables (path configurable), one row per submitted review so
the history stays; a practice's reviewed values are its reviews folded in order, a field left out of a review
keeping its earlier value. `export_reviews` writes them as reviews.parquet; `load_area_reviews` gives training
the reviews of areas (`PracticeReview.labels` fills a field left unreviewed from the form), and
`load_reviewed_levels` the reviewed criteria levels.
A file given as reviews that is not a store (a reviews.parquet, a copy made without its -wal file, another
database) raises ReviewStoreError, whose message says what the file is and what to give instead.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from pipeline.criteria import CRITERIA
from pipeline.tables import SCHEMAS, write_table
from pipeline.taxonomy import load_taxonomy

SCHEMA_VERSION = 3
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
    # The practice's city and title when it was reviewed: a practice id ends with its file, not its review.
    2: """
        ALTER TABLE reviews ADD COLUMN city TEXT;
        ALTER TABLE reviews ADD COLUMN title TEXT;
    """,
    # Logins ended by "log out" before they expire: a copy of the session cookie no longer opens the secretariat's
    # pages (every server on the store sees it).
    3: """
        CREATE TABLE ended_sessions (
            session_id TEXT PRIMARY KEY,
            expires INTEGER NOT NULL  -- Unix time the session would have ended at; forgotten after it
        );
    """,
}

# The columns of reviews.parquet, declared with the other output tables.
REVIEWS_SCHEMA = SCHEMAS["reviews"]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_PARQUET_MAGIC = b"PAR1"
_GIVE_STORE = ("give the review store that `icc-practices serve` writes (reviews.sqlite beside the run's tables, "
               "or the file given to `serve --reviews`)")


class ReviewStoreError(ValueError):
    """A file given as reviews that cannot be read as reviews; the message says what it is and what to give."""


def check_review_file(path: Path, parquet: bool = False) -> str:
    """What a file given as reviews is, "sqlite" or "parquet" (a reviews.parquet is taken only when `parquet`);
    ReviewStoreError, saying what it is and what to give, for a path that does not exist or another file."""
    path = Path(path)
    give = _GIVE_STORE + (", or a reviews.parquet written by `icc-practices export`" if parquet else "")
    if not path.exists():
        raise ReviewStoreError(f"No review store at {path}: {give}.")
    if path.is_dir():
        raise ReviewStoreError(f"{path} is a folder, not a review store: {give}.")
    try:
        with path.open("rb") as fh:
            head = fh.read(100)
    except OSError as exc:
        raise ReviewStoreError(f"{path} cannot be opened ({exc.strerror or exc}): {give}.") from None
    if head.startswith(_PARQUET_MAGIC):
        if parquet:
            return _check_reviews_parquet(path, give)
        raise ReviewStoreError(f"{path} is a Parquet table (reviews.parquet is what `icc-practices export` writes "
                               f"from the store), not a review store: {give}.")
    if not head:
        raise ReviewStoreError(f"{path} is an empty file, not a review store: {give}.")
    if not head.startswith(_SQLITE_MAGIC):
        kind = "neither a SQLite database nor a Parquet table" if parquet else "not a SQLite database"
        raise ReviewStoreError(f"{path} is {kind}: {give}.")
    return "sqlite"


def _check_reviews_parquet(path: Path, give: str) -> str:
    try:
        names = set(pq.read_schema(path).names)
    except (OSError, pa.ArrowException) as exc:
        raise ReviewStoreError(f"{path} is a damaged Parquet file ({exc}): {give}.") from None
    missing = [name for name in ("practice_id", "main_area", "areas") if name not in names]
    if missing:
        raise ReviewStoreError(f"{path} is a Parquet table but not reviews.parquet (no column "
                               f"{', '.join(missing)}): {give}.")
    return "parquet"


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

    @field_validator("note", mode="before")
    @classmethod
    def _one_character_per_line_break(cls, note):
        # A browser sends each line break of a textarea as CR LF but counts it as one character against maxlength:
        # measured and stored as LF, a note the form took is not refused as too long.
        return note.replace("\r\n", "\n").replace("\r", "\n") if isinstance(note, str) else note

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


# The reviewed fields, each credited to the person who set the value a practice's review holds.
REVIEWED_FIELDS = ("main_area", "areas", *CRITERIA, "note")


@dataclass
class PracticeReview:
    """A practice's reviewed values (its reviews folded in order), who reviewed it last and when, the city and
    title the practice had then, and who set each value: `set_by` and `set_at` (field -> reviewer, time; fields
    of REVIEWED_FIELDS) and `reviewers`, everyone whose values it holds, in the order they first set one."""

    practice_id: str
    main_area: str | None = None
    areas: list[str] | None = None
    criteria: dict[str, int] = field(default_factory=dict)
    note: str | None = None
    reviewer: str | None = None
    reviewed_at: str | None = None
    n_reviews: int = 0
    city: str | None = None
    title: str | None = None
    set_by: dict[str, str] = field(default_factory=dict)
    set_at: dict[str, str] = field(default_factory=dict)
    reviewers: list[str] = field(default_factory=list)

    def contributions(self) -> list[dict]:
        """Who set what, one item per review that set a value the practice's review still holds, oldest first:
        reviewer, reviewed_at, and of main_area, areas, criteria (criterion -> level) and note what it set."""
        out: dict[tuple[str, str], dict] = {}
        for name in self.set_by:  # oldest first (see _fold)
            key = (self.set_by[name], self.set_at.get(name) or "")
            item = out.setdefault(key, {"reviewer": key[0], "reviewed_at": key[1] or None, "criteria": {}})
            if name in CRITERIA:
                item["criteria"][name] = self.criteria[name]
            else:
                item[name] = getattr(self, name)
        return list(out.values())

    def disagreement(self) -> dict | None:
        """Two reviewers' values that do not fit together: a main area one set outside the area set another chose
        (main_area, main_by, areas, areas_by); None when they fit, or when one person set both (their own choice:
        the main area joins their set)."""
        if not (self.main_area and self.areas) or self.set_by.get("main_area") == self.set_by.get("areas"):
            return None
        taxonomy = load_taxonomy()
        if taxonomy.parent(self.main_area) in {taxonomy.parent(c) for c in self.areas}:
            return None
        return {"main_area": self.main_area, "main_by": self.set_by.get("main_area"), "areas": list(self.areas),
                "areas_by": self.set_by.get("areas")}

    def reviewed_set(self) -> list[str]:
        """The reviewed area set, the reviewed main area first when there is one ([] when no set was reviewed)."""
        if not self.areas:
            return []
        main = [self.main_area] if self.main_area else []
        return [*main, *(c for c in load_taxonomy().with_parents(self.areas) if c not in main)]

    def labels(self, declared: Sequence[str] = (), suggested_main: str | None = None) -> list[str]:
        """The practice's training label (area codes, main area first) from this review and, for a field left
        unreviewed, what the form declared; [] when no area was reviewed or no main area can be told.

        An unreviewed area set keeps the declared areas, the reviewed main area put first (dropping them would teach
        them as absent). An unreviewed main area is the declared main area, or, when the form declares none, the
        run's suggested main area, provided the reviewed set holds it: never an area nobody chose as main (a set's
        first ticked box is only the lowest-numbered). Two reviewers who disagree (`disagreement`) give no label:
        their values joined would be a set neither chose.
        """
        if self.disagreement():
            return []
        if self.areas:
            chosen = self.reviewed_set()
            main = self.main_area or _main_in(chosen, declared[0] if declared else suggested_main)
            if main is None:
                return []
            return [main, *(c for c in chosen if c != main)]
        if self.main_area:
            return [self.main_area, *(c for c in declared if c != self.main_area)]
        return []

    def row(self) -> dict:
        return {"practice_id": self.practice_id, "city": self.city, "title": self.title,
                "main_area": self.main_area, "areas": self.areas,
                **{name: self.criteria.get(name) for name in CRITERIA}, "note": self.note, "reviewer": self.reviewer,
                "reviewed_at": datetime.fromisoformat(self.reviewed_at) if self.reviewed_at else None,
                "n_reviews": self.n_reviews, "reviewers": list(self.reviewers),
                "set_by": {name: self.set_by.get(name) for name in REVIEWED_FIELDS}}


class ReviewStore:
    """Reviews in one SQLite file; one connection shared by request threads behind a lock."""

    def __init__(self, path: Path, read_only: bool = False):
        """Open the store; `read_only` reads an existing one (ReviewStoreError when the file is not a store), else
        a missing file becomes a new store (ReviewStoreError when the file is something else)."""
        self.path = Path(path)
        self._lock = threading.Lock()
        if read_only:
            check_review_file(self.path)
            self._db = self._connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                self._check_version()
                self._check_tables()
            except BaseException:
                self._db.close()
                raise
        else:
            existed = self.path.exists() and self.path.stat().st_size > 0
            if existed:
                check_review_file(self.path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # reviewers' names and notes: readable by the server's user only (SQLite gives its -wal and -shm files
            # the store's mode); a store made before this keeps its place but not its wider mode
            if not existed:
                self.path.touch(mode=0o600)
            try:
                self.path.chmod(0o600)
            except PermissionError:  # another user's store, opened to write: its owner sets its mode
                pass
            self._db = self._connect(self.path)
            try:
                self._db.execute("PRAGMA journal_mode=WAL")  # readers are not blocked while a review is written
                # only a file that did not exist, or was empty, is a new store: a copy of a store in use made
                # without its -wal file has no tables either, and must not become an empty store
                self._check_tables(new_ok=not existed)
                self._migrate()
            except sqlite3.DatabaseError as exc:
                self._db.close()
                raise ReviewStoreError(
                    f"{self.path} cannot be used as a review store ({exc}): {_GIVE_STORE}.") from None
            except BaseException:
                self._db.close()
                raise
        self._db.row_factory = sqlite3.Row

    def _connect(self, target: str | Path, uri: bool = False) -> sqlite3.Connection:
        try:
            return sqlite3.connect(target, uri=uri, check_same_thread=False)
        except sqlite3.Error as exc:
            raise ReviewStoreError(f"{self.path} cannot be opened as a review store ({exc}): {_GIVE_STORE}.") from None

    def _check_tables(self, new_ok: bool = False) -> None:
        """A store has the reviews table; a new one (`new_ok`: no table at all) gets it when it is migrated."""
        try:
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise ReviewStoreError(f"{self.path} cannot be read as a review store ({exc}): {_GIVE_STORE}.") from None
        if "reviews" in tables or (new_ok and not tables - {"schema_version"}):
            return
        wal = _wal_of(self.path)
        if not tables - {"schema_version"} and _in_wal_mode(self.path) and not (wal.exists() and wal.stat().st_size):
            # a store in WAL mode whose tables are not in the file: they were in a -wal file left behind (opening
            # the copy makes an empty one)
            raise ReviewStoreError(
                f"{self.path} holds no reviews table: it looks like a copy of a store in use made without its -wal "
                "file (reviews.sqlite-wal beside reviews.sqlite), where `serve` keeps the latest reviews. Give the "
                "store itself (it can be read while `serve` runs), or copy it together with its -wal file.")
        raise ReviewStoreError(f"{self.path} is a SQLite database without a reviews table, not a review store: "
                               f"{_GIVE_STORE}.")

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
            raise ReviewStoreError(f"{self.path} holds reviews of schema {version}; this version of icc-practices "
                                   f"reads up to {SCHEMA_VERSION}: upgrade it to read them")
        return version

    def _migrate(self) -> None:
        with self._lock:
            self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            self._db.commit()
            for version in range(self._check_version() + 1, SCHEMA_VERSION + 1):
                # One transaction per step: a file is never left half-migrated.
                self._db.executescript(
                    f"BEGIN; {_MIGRATIONS[version]} INSERT INTO schema_version VALUES ({version}); COMMIT;")

    def add(self, practice_id: str, review: ReviewInput, reviewer: str, city: str | None = None,
            title: str | None = None) -> PracticeReview:
        """Store a review; `city` and `title`: the practice's, kept to name it once its id leaves the run."""
        when = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO reviews (practice_id, main_area, areas, criteria, note, reviewer, reviewed_at, city, "
                "title) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (practice_id, review.main_area, json.dumps(review.areas) if review.areas is not None else None,
                 json.dumps(review.criteria) if review.criteria else None, (review.note or "").strip() or None,
                 reviewer, when, city, title))
        return self.current(practice_id)

    def end_session(self, session_id: str, expires: int) -> None:
        """Remember a login ended by its reviewer until it would have expired (and forget those past that)."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM ended_sessions WHERE expires < ?", (int(time.time()),))
            self._db.execute("INSERT OR IGNORE INTO ended_sessions VALUES (?, ?)", (session_id, int(expires)))

    def session_ended(self, session_id: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM ended_sessions WHERE session_id = ?", (session_id,)).fetchone() \
                is not None

    def history(self, practice_id: str) -> list[dict]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM reviews WHERE practice_id = ? ORDER BY id",
                                    (practice_id,)).fetchall()
        return [_decoded(r) for r in rows]

    def current(self, practice_id: str) -> PracticeReview | None:
        return _fold(practice_id, self.history(practice_id))

    def all_reviews(self) -> list[dict]:
        """Every stored review, by practice, oldest first."""
        with self._lock:
            try:
                rows = self._db.execute("SELECT * FROM reviews ORDER BY practice_id, id").fetchall()
            except sqlite3.DatabaseError as exc:  # a store damaged after it was opened
                raise ReviewStoreError(f"{self.path} cannot be read as a review store ({exc})") from None
        return [_decoded(row) for row in rows]

    def all_current(self) -> dict[str, PracticeReview]:
        grouped: dict[str, list[dict]] = {}
        for row in self.all_reviews():
            grouped.setdefault(row["practice_id"], []).append(row)
        return {pid: _fold(pid, items) for pid, items in grouped.items()}


def _wal_of(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def _in_wal_mode(path: Path) -> bool:
    """Whether the file's header marks a database in WAL mode (bytes 18-19, the file format versions, are 2)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(20)
    except OSError:
        return False
    return head[18:20] == b"\x02\x02"


def _decoded(row: sqlite3.Row) -> dict:
    item = dict(row)
    item["areas"] = json.loads(item["areas"]) if item["areas"] else None
    item["criteria"] = json.loads(item["criteria"]) if item["criteria"] else {}
    return item


def _fold(practice_id: str, reviews: list[dict]) -> PracticeReview | None:
    if not reviews:
        return None
    state = PracticeReview(practice_id)
    set_in: dict[str, int] = {}  # field -> the review that set the value kept
    for index, item in enumerate(reviews):
        state.main_area = item["main_area"] if item["main_area"] is not None else state.main_area
        state.areas = item["areas"] if item["areas"] is not None else state.areas
        state.criteria = {**state.criteria, **item["criteria"]}
        state.note = item["note"] if item["note"] is not None else state.note
        # each value is credited to whoever set it, not to whoever reviewed last
        for name in REVIEWED_FIELDS:
            if (item["criteria"].get(name) if name in CRITERIA else item[name]) is not None:
                set_in[name] = index
        state.reviewer, state.reviewed_at = item["reviewer"], item["reviewed_at"]
        # a store of schema 1 has no city or title
        state.city, state.title = item.get("city") or state.city, item.get("title") or state.title
    state.n_reviews = len(reviews)
    # oldest first, so that contributions() lists the reviews in the order they were made
    for name in sorted(set_in, key=lambda name: (set_in[name], REVIEWED_FIELDS.index(name))):
        state.set_by[name], state.set_at[name] = reviews[set_in[name]]["reviewer"], reviews[set_in[name]]["reviewed_at"]
    state.reviewers = list(dict.fromkeys(state.set_by.values()))
    return state


def _main_in(chosen: Sequence[str], candidate: str | None) -> str | None:
    """`candidate` as the main area of the reviewed set `chosen` (its parent when only the parent was ticked);
    None when the set does not hold it."""
    if not candidate:
        return None
    if candidate in chosen:
        return candidate
    parent = load_taxonomy().parent(candidate)
    return parent if parent in chosen else None


def review_rows(db_path: Path) -> list[dict]:
    """reviews.parquet rows from a review store (none when the file does not exist)."""
    if not Path(db_path).exists():
        return []
    store = ReviewStore(db_path, read_only=True)
    try:
        return [review.row() for _, review in sorted(store.all_current().items())]
    finally:
        store.close()


def row_disagreement(row: dict) -> dict | None:
    """`PracticeReview.disagreement` of a reviews.parquet row (`PracticeReview.row`)."""
    return PracticeReview(row["practice_id"], row.get("main_area"), row.get("areas"),
                          set_by={k: v for k, v in (row.get("set_by") or {}).items() if v}).disagreement()


def review_history(db_path: Path) -> list[dict]:
    """Every review the store holds, oldest first per practice, with what it set and `replaced`: each value of it
    that a later review set otherwise (field -> (the later value, who set it)), so that a value one reviewer set and
    another changed is not lost from sight ([] when the file does not exist)."""
    if not Path(db_path).exists():
        return []
    store = ReviewStore(db_path, read_only=True)
    try:
        return history_of(store.all_reviews())
    finally:
        store.close()


def history_of(rows: list[dict]) -> list[dict]:
    """`review_history` of the stored reviews `rows` (`ReviewStore.all_reviews`)."""
    out = []
    for k, item in enumerate(rows):
        values = _set_values(item)
        replaced = {}
        for later in rows[k + 1:]:
            if later["practice_id"] != item["practice_id"]:
                break
            for name, value in _set_values(later).items():
                if name in values and name not in replaced and value != values[name]:
                    replaced[name] = (value, later["reviewer"])
        out.append({"practice_id": item["practice_id"], "city": item.get("city"), "title": item.get("title"),
                    "reviewer": item["reviewer"], "reviewed_at": item["reviewed_at"], **values, "replaced": replaced})
    return out


def _set_values(item: dict) -> dict:
    """The values one stored review set (field -> value), the fields it left unreviewed left out."""
    values = {name: item[name] for name in ("main_area", "areas", "note") if item[name] is not None}
    return values | {name: level for name, level in item["criteria"].items() if level is not None}


def export_reviews(db_path: Path, out_dir: Path) -> Path:
    """Write the reviewed values of every reviewed practice to out_dir/reviews.parquet (atomically)."""
    path = Path(out_dir) / REVIEWS_TABLE
    rows = review_rows(db_path)
    table = pa.Table.from_pylist(rows, schema=REVIEWS_SCHEMA) if rows else REVIEWS_SCHEMA.empty_table()
    write_table(path, table)
    path.chmod(0o600)  # reviewers' names and notes, as in the store
    return path


def load_reviews(source: Path) -> list[PracticeReview]:
    """The reviewed values of every reviewed practice, from a review store (.sqlite) or reviews.parquet (none
    when the file does not exist; ReviewStoreError when it is neither)."""
    source = Path(source)
    if not source.exists():
        return []
    kind = check_review_file(source, parquet=True)
    rows = pq.read_table(source).to_pylist() if kind == "parquet" else review_rows(source)
    # who set each value: two reviewers whose areas do not fit together give no training label (`disagreement`)
    return [PracticeReview(r["practice_id"], r["main_area"], r["areas"],
                           {c: int(r[c]) for c in CRITERIA if r.get(c) is not None},
                           set_by={k: v for k, v in (r.get("set_by") or {}).items() if v}) for r in rows]


def load_area_reviews(source: Path) -> dict[str, PracticeReview]:
    """The reviews of a main area or an area set by practice id, from a review store (.sqlite) or reviews.parquet;
    `PracticeReview.labels` makes them training labels with what the practice's form declared. Practices whose
    areas were never reviewed are left out, so training keeps their declared areas."""
    return {r.practice_id: r for r in load_reviews(source) if r.main_area or r.areas}


def load_reviewed_levels(source: Path) -> dict[str, dict[str, int]]:
    """Reviewed criteria levels by practice id ({criterion: level}, only the criteria reviewed), from a review
    store (.sqlite) or reviews.parquet. Practices with no reviewed level are left out."""
    return {r.practice_id: dict(r.criteria) for r in load_reviews(source) if r.criteria}
