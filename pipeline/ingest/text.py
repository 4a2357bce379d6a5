"""Plain-text and Markdown reader with encoding detection."""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser
from pathlib import Path

from charset_normalizer import from_bytes

from pipeline.config import Limits
from pipeline.errors import ingest_error
from pipeline.normalize import clean_text, join_wrapped, unwrap_lines
from pipeline.records import Block

_MD_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}")
# A line of a plain-text paragraph that starts in lower case is joined to the line before (a hard wrap) only when
# that one is longer than any template label (the longest, "Principaux documents de référence", has 33 characters)
# and does not end like a label with its instruction ("Contact person (name, email)"): a label keeps its own line.
_WRAPPED = {"min_words": 4, "min_chars": 34, "ends": (".", ":", "!", "?", ";", ")")}
# A file is hard-wrapped when at least half of its lines of five words or more end within this many characters of
# the longest one, itself at most _WRAP_MAX_WIDTH long (an e-mail wraps at 72 to 80).
_WRAP_SLACK = 20
_WRAP_MAX_WIDTH = 100
# In a hard-wrapped file a line that filled the width goes on the next whatever its case ("...in\nBilbao",
# "...Strategy\n2016-2020"), unless the next one opens a labelled value or a list item.
_OPENS_LABEL_OR_ITEM = re.compile(r"^(?:[^\W\d_][^:.!?\n]{0,40}:|[-\u2022\u00b7*\u25aa>]\s|\(?\d{1,2}[.)]\s)")
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
    text = raw.decode(best.encoding if best is not None else "cp1252", errors="replace")
    return raw.decode("mac_roman") if _reads_as_mac_roman(raw, text) else text


# Signs of a Mac Roman file read in a Western code page: letters its é, è, ü, ß and apostrophe become that a Western
# text never puts after a small letter ("cafŽ", "fŸr", "Stra§e", "cityÕs"), and bytes that code page leaves
# undefined or as controls.
_MAC_IN_WESTERN = re.compile("(?<=[a-z])[ŽˆŸ§]|(?<=[a-z])Õ(?=[a-z])|[\ufffd\u0080-\u009f]")
# Signs of a Western file read as Mac Roman: capitals or symbols where its accents were ("cafÈ", "‡ la").
_WESTERN_IN_MAC = re.compile("[√∆◊ı¯˘˙˚¸˝˛ˇﬁﬂ≈¬‡]|(?<=[a-z])[ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜÁÍÓÚÌÒÕ](?=[a-z])")


def _reads_as_mac_roman(raw: bytes, western: str) -> bool:
    """An old Mac file: its é, è, ü are "Ž", undefined bytes... in a Western code page (`western`, the bytes as that
    page reads them), and plain letters in Mac Roman. Curly quotes, dashes and Slavic letters of a Western text
    (Š, ž, ™) are no sign of one."""
    signs = len(_MAC_IN_WESTERN.findall(western))
    return signs >= 3 and 4 * len(_WESTERN_IN_MAC.findall(raw.decode("mac_roman"))) < signs


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
        raise ingest_error("binary_content")
    return text_blocks(text, limits, markdown=Path(path).suffix.lower() in (".md", ".markdown"))


def text_blocks(text: str, limits: Limits = Limits(), markdown: bool = False) -> list[Block]:
    """The blocks of a plain (or Markdown) text: paragraphs re-joined where a hard wrap broke them, headings, and
    the cells of tab-separated or Markdown table lines."""
    if len(text) > limits.max_text_chars:
        raise ingest_error("text_too_long", n=len(text), limit=limits.max_text_chars)
    blocks: list[Block] = []
    run: list[str] = []  # the plain lines of one paragraph, re-joined where a hard wrap broke a sentence

    # Cells of one row share a row number, rows in a run of table lines a table number, as a Word table's do.
    table = {"n": 0, "row": -1, "open": False}

    def add(text: str, kind: str, col: int | None = None) -> None:
        if kind != "cell":
            table["open"] = False
            blocks.append(Block(text, kind, len(blocks)))
            return
        blocks.append(Block(text, kind, len(blocks), table["n"], table["row"], col))

    def new_row() -> None:
        if not table["open"]:
            table["n"] += 1
            table["row"] = -1
            table["open"] = True
        table["row"] += 1

    width = _wrap_width(text)

    def end_paragraph() -> None:
        for line in unwrap_lines(_join_full_lines(run, width) if width else run, **_WRAPPED):
            add(line, "paragraph")
        run.clear()

    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if markdown:
            if _MD_TABLE_RULE.match(line.strip()):
                continue
            if line.lstrip().startswith("#"):
                end_paragraph()
                heading = clean_text(_MD_EMPHASIS.sub("", line.lstrip().lstrip("#")))
                if heading:
                    add(heading, "heading")
                continue
            if line.strip().startswith("|"):
                end_paragraph()
                new_row()
                for col, cell in enumerate(line.strip().strip("|").split("|")):
                    cell = clean_text(_MD_EMPHASIS.sub("", cell))
                    if cell:
                        add(cell, "cell", col)
                continue
            line = _MD_EMPHASIS.sub("", line)
        if "\t" in line.strip():
            # Tab-separated label/value cells, as in a plain-text export of a Word table.
            end_paragraph()
            new_row()
            for col, part in enumerate(line.split("\t")):
                part = clean_text(part)
                if part:
                    add(part, "cell", col)
            continue
        part = clean_text(line)
        if part:
            run.append(part)
        else:
            end_paragraph()
    end_paragraph()
    return blocks


def _wrap_width(text: str) -> int | None:
    """The width a hard-wrapped text was wrapped at, or None when its lines were not wrapped."""
    lengths = [len(line) for line in (clean_text(x) for x in text.splitlines()) if len(line.split()) >= 5]
    if len(lengths) < 5 or max(lengths) > _WRAP_MAX_WIDTH:
        return None
    width = max(lengths)
    return width if sum(n >= width - _WRAP_SLACK for n in lengths) >= len(lengths) / 2 else None


def _join_full_lines(lines: list[str], width: int) -> list[str]:
    """Each line that filled the wrap width joined to the next one of its paragraph."""
    out: list[str] = []
    for line in lines:
        previous = out[-1] if out else ""
        if (previous and len(previous) >= width - _WRAP_SLACK and not previous.endswith(":")
                and not _OPENS_LABEL_OR_ITEM.match(line)):
            out[-1] = join_wrapped(previous, line)
        else:
            out.append(line)
    return out


class _TextOfHtml(HTMLParser):
    """The text of an HTML page (an e-mail's, or a page saved under a Word name): block elements end a line, table cells are separated by tabs (as a table's
    text export is read)."""

    _BREAKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "head"):
            self._skip += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")
        elif tag == "td" or tag == "th":
            self.parts.append("\t")

    def handle_endtag(self, tag):
        if tag in ("style", "script", "head"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data.replace("\n", " "))


def html_text(html: str) -> str:
    """The text of an HTML page: a line per block element, a table's cells separated by tabs."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = ["\t".join(cell.strip() for cell in line.strip(" \t").split("\t")) if "\t" in line.strip(" \t")
             else line.strip() for line in "".join(parser.parts).split("\n")]
    return "\n".join(lines)
