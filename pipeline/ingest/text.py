"""Plain-text and Markdown reader with encoding detection."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from charset_normalizer import from_bytes

from pipeline.config import Limits
from pipeline.normalize import clean_text
from pipeline.records import Block, IngestError

_MD_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}")
_MD_EMPHASIS = re.compile(r"(\*\*|__|(?<!\w)\*(?!\s)|(?<!\w)_(?!\s))")


def decode_bytes(raw: bytes) -> str:
    """Text of a file in UTF-8 (with or without BOM), UTF-16 or a Western 8-bit code page."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf-8", errors="replace")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16", errors="replace")
    if len(raw) >= 4 and raw[1::2].count(0) > len(raw) * 0.4 and raw[0::2].count(0) < len(raw) * 0.05:
        return raw.decode("utf-16-le", errors="replace")
    if len(raw) >= 4 and raw[0::2].count(0) > len(raw) * 0.4 and raw[1::2].count(0) < len(raw) * 0.05:
        return raw.decode("utf-16-be", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(raw, cp_isolation=["cp1252", "latin_1", "iso8859_15", "utf_8"]).best()
    encoding = best.encoding if best is not None else "cp1252"
    return raw.decode(encoding, errors="replace")


def _looks_binary(text: str) -> bool:
    sample = text[:20000]
    if not sample:
        return False
    bad = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r\f") or ch == "\ufffd")
    return bad / len(sample) > 0.05


def read_text(path: Path, limits: Limits = Limits()) -> list[Block]:
    raw = Path(path).read_bytes()
    text = decode_bytes(raw)
    if _looks_binary(text):
        raise IngestError(
            "binary_content",
            "The file holds binary data, not text; it may be a renamed or damaged file.",
        )
    if len(text) > limits.max_text_chars:
        raise IngestError("text_too_long", f"The text has {len(text):,} characters; the limit is {limits.max_text_chars:,}.")
    markdown = Path(path).suffix.lower() in (".md", ".markdown")
    blocks: list[Block] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        kind = "paragraph"
        if markdown:
            if _MD_TABLE_RULE.match(line.strip()):
                continue
            if line.lstrip().startswith("#"):
                kind = "heading"
                line = line.lstrip().lstrip("#")
            if line.strip().startswith("|"):
                for cell in line.strip().strip("|").split("|"):
                    cell = clean_text(_MD_EMPHASIS.sub("", cell))
                    if cell:
                        blocks.append(Block(cell, "cell", len(blocks)))
                continue
            line = _MD_EMPHASIS.sub("", line)
        # Tab-separated label/value cells, as in a plain-text export of a Word table.
        for part in line.split("\t") if "\t" in line.strip() else [line]:
            part = clean_text(part)
            if part:
                blocks.append(Block(part, "cell" if "\t" in line.strip() else kind, len(blocks)))
    return blocks
