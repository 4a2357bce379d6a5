"""Rich Text Format (.rtf) reader.

The source is scanned first: embedded or linked OLE objects and fields that pull text from other files
are refused before any converter sees them. The file is then converted by LibreOffice and read by the
Word reader; without LibreOffice, striprtf keeps its text, with table cells as cells.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.config import Limits
from pipeline.errors import cause, ingest_error, message
from pipeline.ingest.convert import read_converted
from pipeline.ingest.fields import refuse_external_fields
from pipeline.ingest.reading import Reading
from pipeline.normalize import clean_text
from pipeline.records import Block

RTF_MAGIC = b"{\\rtf"
# \object starts an OLE object (\objemb embedded, \objlink / \objautlink linked to a file or URL).
_OBJECT = re.compile(rb"\\(object|objdata|objemb|objlink|objautlink|objupdate)(?![a-z])")
_FIELD_INSTRUCTION = re.compile(rb"\\fldinst\b((?:[^{}]|\{[^{}]*\})*)")
_CONTROL_WORD = re.compile(r"\\[a-z]+-?\d* ?|[{}]")
# Cells are marked with a private-use character before striprtf runs, so a "|" in the text stays text.
_CELL_MARK = "\ue000"
_CELL_WORD = re.compile(r"\\(?:nest)?cell(?![a-z]) ?")


def read_rtf(path: Path, limits: Limits, soffice: str | None) -> Reading:
    raw = Path(path).read_bytes()
    if _OBJECT.search(raw):
        raise ingest_error("rtf_objects")
    instructions = (_CONTROL_WORD.sub("", m.group(1).decode("latin-1")) for m in _FIELD_INSTRUCTION.finditer(raw))
    refuse_external_fields(instructions, "rtf_file")
    return read_converted(path, limits, soffice, lambda: rtf_blocks(raw, limits), "rich_text_rtf")


def rtf_blocks(raw: bytes, limits: Limits) -> list[Block]:
    """Paragraph and cell blocks of an RTF document, through striprtf (no layout, no formatting)."""
    try:
        from striprtf.striprtf import rtf_to_text
    except ImportError:
        raise ingest_error("rtf_no_reader", install=message("install_libreoffice")) from None
    # RTF is 7-bit text; stray 8-bit bytes from careless writers are most often Windows-1252.
    source = _CELL_WORD.sub(_CELL_MARK, raw.decode("cp1252", errors="replace"))
    try:
        text = rtf_to_text(source, errors="replace")
    except (ValueError, IndexError, LookupError) as exc:
        raise ingest_error("rtf_damaged", cause=cause(exc)) from exc
    if len(text) > limits.max_text_chars:
        raise ingest_error("text_too_long", n=len(text), limit=limits.max_text_chars)
    blocks: list[Block] = []
    table = row = 0
    in_table = False
    for line in text.replace("\r\n", "\n").split("\n"):
        if _CELL_MARK not in line:
            if _add(blocks, line, "paragraph"):
                in_table = False
            continue
        if not in_table:
            table, row, in_table = table + 1, 0, True
        *cells, rest = line.split(_CELL_MARK)
        for col, cell in enumerate(cells):
            _add(blocks, cell, "cell", table, row, col)
        _add(blocks, rest, "paragraph")
        row += 1
    return blocks


def _add(blocks: list[Block], text: str, kind: str, table: int | None = None, row: int | None = None, col: int | None = None) -> bool:
    text = clean_text(text)
    if text:
        blocks.append(Block(text, kind, len(blocks), table, row, col))  # type: ignore[arg-type]
    return bool(text)
