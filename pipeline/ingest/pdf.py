"""PDF reader: the text layer, page by page."""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.config import Limits
from pipeline.normalize import clean_text
from pipeline.records import Block, IngestError

logging.getLogger("pypdf").setLevel(logging.ERROR)


def read_pdf(path: Path, limits: Limits = Limits()) -> list[Block]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            raise IngestError("encrypted_pdf", "The PDF is password-protected; send an unprotected copy.")
        if len(reader.pages) > limits.max_pdf_pages:
            raise IngestError("too_many_pages", f"The PDF has {len(reader.pages)} pages; the limit is {limits.max_pdf_pages}.")
        lines: list[str] = []
        for page in reader.pages:
            lines.extend((page.extract_text() or "").split("\n"))
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError, AssertionError) as exc:
        raise IngestError("corrupt_pdf", f"The PDF cannot be read (damaged or not a real PDF): {type(exc).__name__}.") from exc
    blocks = [Block(t, "line", i) for i, t in enumerate(_unwrap(filter(None, (clean_text(x) for x in lines))))]
    if not blocks:
        raise IngestError(
            "pdf_no_text",
            "The PDF has no text layer (a scanned image?); send the Word form or a PDF saved from Word.",
        )
    return blocks


def _unwrap(lines) -> list[str]:
    """Re-join lines that the PDF layout wrapped in the middle of a sentence."""
    out: list[str] = []
    for line in lines:
        if out and not out[-1].endswith((".", ":", "!", "?", ";")) and line[:1].islower():
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out
