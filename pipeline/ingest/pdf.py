"""PDF reader: the text layer, page by page; pages without one (scans) are read by OCR where Tesseract
is installed."""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.config import Limits
from pipeline.ingest.ocr import ocr_pages, ocr_unavailable
from pipeline.ingest.reading import OCR, UNREAD_SCANS, Reading
from pipeline.ingest.tools import Tools
from pipeline.normalize import clean_text
from pipeline.records import Block, IngestError

logging.getLogger("pypdf").setLevel(logging.ERROR)

# A page whose text layer holds fewer letters than this is a scan (at most a stamped page number).
_MIN_LAYER_LETTERS = 20


def read_pdf(path: Path, limits: Limits = Limits(), tools: Tools = Tools()) -> Reading:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            raise IngestError("encrypted_pdf", "The PDF is password-protected; send an unprotected copy.")
        if len(reader.pages) > limits.max_pdf_pages:
            raise IngestError("too_many_pages", f"The PDF has {len(reader.pages)} pages; the limit is {limits.max_pdf_pages}.")
        pages = [page.extract_text() or "" for page in reader.pages]
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError, AssertionError) as exc:
        raise IngestError("corrupt_pdf", f"The PDF cannot be read (damaged or not a real PDF): {type(exc).__name__}.") from exc
    scanned = [i for i, text in enumerate(pages) if sum(ch.isalpha() for ch in text) < _MIN_LAYER_LETTERS]
    warnings: tuple[str, ...] = ()
    note = ""
    if scanned:
        missing = ocr_unavailable(tools)
        if missing is None:
            if len(scanned) > limits.max_ocr_pages:
                raise IngestError("too_many_pages", f"The PDF has {len(scanned)} scanned pages; OCR reads at most {limits.max_ocr_pages}.")
            for index, text in ocr_pages(path, scanned, limits, tools.tesseract).items():
                # Keep a short text layer (a page number) only where OCR found nothing better.
                pages[index] = text if text.strip() else pages[index]
            warnings, note = (OCR,), f"{len(scanned)} scanned page(s) read by OCR"
        elif len(scanned) < len(pages):
            warnings, note = (UNREAD_SCANS,), f"{len(scanned)} page(s) without text were not read. {missing}"
    lines = [line for text in pages for line in text.split("\n")]
    blocks = [Block(t, "line", i) for i, t in enumerate(_unwrap(filter(None, (clean_text(x) for x in lines))))]
    if not blocks:
        if scanned and ocr_unavailable(tools) is None:
            raise IngestError("pdf_no_text", "The PDF's pages are images and OCR found no text on them (blank or unreadable scans).")
        hint = f" {ocr_unavailable(tools)}." if scanned else ""
        raise IngestError(
            "pdf_no_text",
            f"The PDF has no text layer (a scanned image?); send the Word form or a PDF saved from Word.{hint}",
        )
    return Reading(blocks, warnings, note)


def _unwrap(lines) -> list[str]:
    """Re-join lines that the PDF layout wrapped in the middle of a sentence."""
    out: list[str] = []
    for line in lines:
        if out and not out[-1].endswith((".", ":", "!", "?", ";")) and line[:1].islower():
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out
