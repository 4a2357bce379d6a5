"""Typed records passed between pipeline stages."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Literal

BlockKind = Literal["paragraph", "cell", "heading", "line"]  # "line": a laid-out line of a PDF page
FileStatus = Literal["ok", "empty_form", "error"]
# The error code of a file with the same bytes as another file of the batch (read once, from the other copy).
DUPLICATE_FILE = "duplicate_file"
# The error code of a row naming a folder that could not be listed: a folder, not a file, in the counts.
UNREADABLE_FOLDER = "unreadable_folder"

SECTION_FIELDS = ("purpose", "starting_point", "process", "impact", "references")
HEADER_FIELDS = (
    "city",
    "department",
    "form_date",
    "contact_person",
    "title",
    "declared_area_text",
    "main_objective",
    "period_text",
)


@dataclass(frozen=True)
class Block:
    """One unit of text from a document, in reading order."""

    text: str
    kind: BlockKind = "paragraph"
    position: int = 0
    table: int | None = None
    row: int | None = None
    col: int | None = None


@dataclass
class Practice:
    """One good practice found in a submission, with its template fields."""

    practice_id: str
    source_file: str
    practice_index: int
    lang: str = "und"
    city: str | None = None
    department: str | None = None
    form_date: str | None = None
    contact_person: str | None = None
    title: str | None = None
    declared_area_text: str | None = None
    declared_areas: list[str] = field(default_factory=list)
    main_objective: str | None = None
    period_text: str | None = None
    period_start: int | None = None
    period_end: int | None = None
    ongoing: bool = False
    purpose: str | None = None
    starting_point: str | None = None
    process: str | None = None
    impact: str | None = None
    references: str | None = None
    description: str | None = None
    n_words: int = 0
    warnings: list[str] = field(default_factory=list)
    predicted_areas: list[str] = field(default_factory=list)
    main_area_pred: str | None = None
    area_mismatch: bool | None = None  # None: no area was predicted (--no-analysis, or the stage failed)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Practice":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        for key in ("declared_areas", "warnings", "predicted_areas"):
            if key in known and known[key] is not None:
                known[key] = list(known[key])
        return cls(**known)

    def unlabelled_prose(self) -> str | None:
        """The description's text outside its labelled sections (a city may label only some parts of it)."""
        rest = self.description or ""
        for name in SECTION_FIELDS:
            text = getattr(self, name)
            if text:
                # a section stands on lines of its own in the description (see `segment`)
                rest = re.sub(rf"(?m)^{re.escape(text)}$", "", rest, count=1)
        # a line of one or two words is a heading or a logo's text, not prose
        rest = "\n".join(line for line in rest.splitlines() if len(line.split()) >= 3)
        return rest or None

    def full_text(self) -> str:
        """Title, objective and description: the text the analysis stages read."""
        parts = [self.title, self.main_objective, self.description]
        return "\n".join(p for p in parts if p)


@dataclass
class FileResult:
    """What became of one input file."""

    source_file: str
    sha256: str
    status: FileStatus
    error_code: str | None = None
    message: str | None = None
    n_practices: int = 0
    practices: list[Practice] = field(default_factory=list)

    def row(self) -> dict:
        return {
            "source_file": self.source_file,
            "sha256": self.sha256,
            "status": self.status,
            "error_code": self.error_code,
            "message": self.message,
            "n_practices": self.n_practices,
        }


class IngestError(Exception):
    """A file that cannot be read; `code` is stable, `message` is for people. The readers raise it through
    `pipeline.errors.ingest_error`, so that each message has its French in resources/errors.yaml."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message
