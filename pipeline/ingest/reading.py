"""What a reader hands on: the blocks of a file, and how they were read."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.normalize import clean_text
from pipeline.records import Block

# Practice warnings saying how a file was read (copied onto every practice of the file).
CONVERTED_LIBREOFFICE = "converted:libreoffice"  # converted to .docx, then read by the Word reader
CONVERTED_TEXT_ONLY = "converted:text-only"  # read without LibreOffice: text and table cells, no formatting
OCR = "ocr"  # text recognised on page images: words may be misread
NAMED_AS_ANOTHER_FORMAT = "plain_text_named"  # ":.docx": plain text saved under another format's name, read as text
UNREAD_SCANS = "unread_scanned_pages"  # a PDF with text on some pages and scans, not read (no OCR here), on others


@dataclass(frozen=True)
class Reading:
    """The ordered blocks of one file, the warnings every practice found in it should carry, and a
    short note for the file's row saying which path read it (empty for the direct readers)."""

    blocks: list[Block]
    warnings: tuple[str, ...] = ()
    note: str = ""


class BlockCollector:
    """Blocks in reading order, as the document walkers find them (empty text is dropped)."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.n_tables = 0

    def add(self, text: str, kind: str, table: int | None = None, row: int | None = None, col: int | None = None) -> None:
        text = clean_text(text)
        if text:
            self.blocks.append(Block(text, kind, len(self.blocks), table, row, col))  # type: ignore[arg-type]
