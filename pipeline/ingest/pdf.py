"""PDF reader: the text layer, page by page; pages without one (scans) are read by OCR where Tesseract
is installed."""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path

from pipeline.config import Limits
from pipeline.errors import cause, ingest_error, message
from pipeline.ingest.ocr import ocr_pages, ocr_unavailable
from pipeline.ingest.reading import OCR, UNREAD_SCANS, Reading
from pipeline.ingest.tools import Tools
from pipeline.normalize import clean_text, unwrap_lines
from pipeline.records import Block, IngestError

logging.getLogger("pypdf").setLevel(logging.ERROR)

# A page whose text layer holds fewer letters than this is a scan (at most a stamped page number).
_MIN_LAYER_LETTERS = 20
# Running headers and footers are looked for among the first and last lines of each page.
_EDGE_LINES = 2
# Up to three digits: a year alone on a line ("2023") is a form's value, not a page number.
_PAGE_NUMBER = re.compile(r"^(?:page|p\.|seite)?\s*\d{1,3}\s*(?:(?:/|of|sur|de|von)\s*\d{1,3})?$|^[-–]\s*\d{1,3}\s*[-–]$", re.I)


def read_pdf(path: Path, limits: Limits = Limits(), tools: Tools = Tools()) -> Reading:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path), strict=False)
        # a PDF restricted only for printing or editing opens with an empty password, as in any viewer
        if reader.is_encrypted and not _opens_without_password(reader):
            raise ingest_error("pdf_protected")
        if len(reader.pages) > limits.max_pdf_pages:
            raise ingest_error("pdf_too_many_pages", n=len(reader.pages), limit=limits.max_pdf_pages)
        pages = [_page_text(page) for page in reader.pages]
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError, AssertionError) as exc:
        raise ingest_error("pdf_damaged", cause=cause(exc)) from exc
    scanned = [i for i, text in enumerate(pages) if sum(ch.isalpha() for ch in text) < _MIN_LAYER_LETTERS]
    warnings: tuple[str, ...] = ()
    note = ""
    if scanned:
        missing = ocr_unavailable(tools)
        if missing is None:
            if len(scanned) > limits.max_ocr_pages:
                raise ingest_error("pdf_too_many_scans", n=len(scanned), limit=limits.max_ocr_pages)
            for index, text in ocr_pages(path, scanned, limits, tools.tesseract).items():
                # Keep a short text layer (a page number) only where OCR found nothing better.
                pages[index] = text if text.strip() else pages[index]
            warnings, note = (OCR,), message("scans_read", n=len(scanned))
        elif len(scanned) < len(pages):
            warnings, note = (UNREAD_SCANS,), message("scans_not_read", n=len(scanned), missing=missing)
    lines = [line for page in without_running_lines(pages) for line in page]
    blocks = [Block(t, "line", i) for i, t in enumerate(unwrap_lines(filter(None, (clean_text(x) for x in lines))))]
    if not blocks:
        if scanned and ocr_unavailable(tools) is None:
            raise ingest_error("pdf_blank_scans")
        if scanned:
            raise ingest_error("pdf_no_text_layer_no_ocr", missing=ocr_unavailable(tools))
        raise ingest_error("pdf_no_text_layer")
    return Reading(blocks, warnings, note)


def _page_text(page) -> str:
    """The page's text; on a fillable form, with the answers typed in its fields, which live in the field widgets
    and not in the page text. The page text stays as read; each answer joins the line of the label left of its box,
    or follows the nearest line above its box. A form whose fields cannot be made out is read without them."""
    text = page.extract_text() or ""
    try:
        fields = _filled_fields(page)
    except Exception:  # a damaged annotation: the page text alone, as before fillable forms were read
        return text
    if not fields:
        return text
    located: list[tuple[float, float, str]] = []  # baseline, x, text of each piece of page text

    def visit(piece, cm, tm, font, size) -> None:
        if piece.strip():
            located.append((tm[5] * cm[3] + tm[4] * cm[1] + cm[5], tm[4] * cm[0] + tm[5] * cm[2] + cm[4], piece))

    page.extract_text(visitor_text=visit)
    lines = text.split("\n")
    key = lambda line: "".join(line.split())  # noqa: E731  the same words, however spaced
    after: dict[int, list[str]] = {}  # line index -> answers on new lines after it
    for left, bottom, top, answer in sorted(fields, key=lambda f: (-f[2], f[0])):
        beside = [(y, x, t) for y, x, t in located if bottom - 1 <= y <= top + 1 and x < left]
        above = [(y, x, t) for y, x, t in located if y > top + 1]
        anchor = max(beside, key=lambda p: (p[0], p[1])) if beside else min(above, key=lambda p: (p[0], -p[1]), default=None)
        label = key(anchor[2].split("\n")[-1]) if anchor else ""
        index = next((i for i, line in enumerate(lines) if label and key(line) == label),
                     next((i for i, line in enumerate(lines) if label and label in key(line)), None))
        answer = " ".join(answer.split())
        if index is None:
            after.setdefault(len(lines) - 1, []).append(answer)
        elif beside:
            lines[index] = f"{lines[index]} {answer}"
        else:
            after.setdefault(index, []).append(answer)
    out: list[str] = []
    for i, line in enumerate(lines):
        out += [line, *after.get(i, [])]
    return "\n".join(out)


def _filled_fields(page) -> list[tuple[float, float, float, str]]:
    """(left, bottom, top, answer) of each text or choice field of the page that holds an answer; a field's kind
    and answer may sit on a parent field."""
    out = []
    for annot in page.get("/Annots") or []:
        annot = annot.get_object()
        if not hasattr(annot, "get") or annot.get("/Subtype") != "/Widget" or "/Rect" not in annot:
            continue
        value, kind, node = None, None, annot
        for _ in range(10):  # up the parent chain, which is short
            value = node.get("/V") if value is None else value
            kind = node.get("/FT") if kind is None else kind
            parent = node.get("/Parent")
            if parent is None or (value is not None and kind is not None):
                break
            node = parent.get_object()
        if value is None or kind not in ("/Tx", "/Ch"):
            continue
        value = " ".join(map(str, value)) if isinstance(value, list) else str(value)
        if value.strip():
            x0, y0, x1, y1 = (float(v) for v in annot["/Rect"])
            out.append((min(x0, x1), min(y0, y1), max(y0, y1), value))
    return out


def _opens_without_password(reader) -> bool:
    from pypdf.errors import DependencyError, PdfReadError

    try:
        if not reader.decrypt(""):
            return False
        if len(reader.pages):
            reader.pages[0].extract_text()  # the cipher must be undone too, not only the password checked
        return True
    except (DependencyError, PdfReadError, NotImplementedError):  # a cipher pypdf cannot undo here
        return False


def without_running_lines(pages: list[str]) -> list[list[str]]:
    """Each page's lines without its running header and footer and its page number.

    A running line stands among the first or last lines of at least half of the pages (two at least) and is the
    same on each apart from its digits ("Page 2 of 5"); a page number stands alone at a page's edge. A document
    of one page keeps all its lines.
    """
    lines = [[line for line in text.split("\n") if line.strip()] for text in pages]

    def key(line: str) -> str:
        return re.sub(r"\d+", "#", " ".join(line.split()).lower())

    def edges(page: list[str]) -> set[int]:
        return set(range(min(_EDGE_LINES, len(page)))) | set(range(max(0, len(page) - _EDGE_LINES), len(page)))

    if len(lines) < 2:
        return lines
    page_edges = [edges(page) for page in lines]
    seen = Counter(k for page, at in zip(lines, page_edges) for k in {key(page[i]) for i in at})
    running = {k for k, n in seen.items() if n >= max(2, len(lines) / 2)}
    return [[line for i, line in enumerate(page)
             if i not in at or not (key(line) in running or _PAGE_NUMBER.match(line.strip()))]
            for page, at in zip(lines, page_edges)]
