"""Readers: one per format, each turning a file into ordered Blocks.

The format is decided from the file's first bytes, and the suffix only where bytes cannot tell
(plain text), so a renamed file is read for what it is or refused with a clear error code.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Limits
from pipeline.records import Block, IngestError

from pipeline.ingest.docx import read_docx
from pipeline.ingest.pdf import read_pdf
from pipeline.ingest.text import read_text

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
PDF_MAGIC = b"%PDF-"

__all__ = ["read_blocks", "read_docx", "read_pdf", "read_text"]


def read_blocks(path: Path, limits: Limits = Limits()) -> list[Block]:
    """Ordered blocks of one submission, or IngestError saying why it cannot be read."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError("unreadable_file", f"The file cannot be opened: {exc.strerror or exc}.") from exc
    if size == 0:
        raise IngestError("empty_file", "The file is empty (0 bytes).")
    if size > limits.max_file_bytes:
        raise IngestError(
            "file_too_large",
            f"The file is {size / 1e6:.1f} MB; the limit is {limits.max_file_bytes / 1e6:.0f} MB.",
        )
    with path.open("rb") as fh:
        head = fh.read(8)
    suffix = path.suffix.lower()
    if head.startswith(OLE_MAGIC):
        if suffix in (".doc", ".dot"):
            raise IngestError(
                "legacy_doc",
                "This is a legacy Word 97-2003 .doc file; save it as .docx (Word: File > Save As) and submit again.",
            )
        raise IngestError(
            "encrypted_or_legacy_office",
            "This is a password-protected Office file or an old binary Office format; "
            "remove the password or save it as .docx and submit again.",
        )
    if head.startswith(ZIP_MAGIC):
        if suffix not in (".docx", ".docm", ".dotx", ""):
            if suffix in (".xlsx", ".pptx", ".odt", ".zip"):
                raise IngestError("unsupported_format", f"{suffix} files are not read; submit the form as .docx.")
        return read_docx(path, limits)
    if head.startswith(PDF_MAGIC):
        return read_pdf(path, limits)
    if suffix in (".docx", ".pdf"):
        kind = "Word" if suffix == ".docx" else "PDF"
        raise IngestError("corrupt_file", f"The file is named {suffix} but is not a valid {kind} file (damaged or renamed).")
    if suffix in (".txt", ".md", ".markdown", ".text"):
        return read_text(path, limits)
    if suffix in (".doc", ".rtf", ".odt", ".xls", ".xlsx", ".ppt", ".pptx"):
        raise IngestError("unsupported_format", f"{suffix} files are not read; submit the form as .docx, .pdf or .txt.")
    raise IngestError(
        "unsupported_format",
        f"Unknown file type '{suffix or 'no suffix'}'; the pipeline reads .docx, .pdf, .txt and .md.",
    )
