"""Readers: one per format, each turning a file into ordered Blocks.

The format is decided from the file's first bytes, and the suffix only where bytes cannot tell
(plain text), so a renamed file is read for what it is or refused with a clear error code.
.docx, .pdf, .txt and .md are read directly; .doc, .odt and .rtf are converted by LibreOffice and read by
the Word reader (or read as text where LibreOffice is missing); scanned PDF pages are read by OCR.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from pipeline.config import Limits
from pipeline.errors import ingest_error, os_reason
from pipeline.records import Block

from pipeline.ingest.doc import is_encrypted_package, is_word97, read_doc
from pipeline.ingest.docx import read_docx, read_docx_marked
from pipeline.ingest.mail import read_email
from pipeline.ingest.odt import odf_mimetype, read_odt
from pipeline.ingest.pdf import read_pdf
from pipeline.ingest.reading import CONVERTED_LIBREOFFICE, CONVERTED_TEXT_ONLY, NAMED_AS_ANOTHER_FORMAT, OCR, Reading
from pipeline.ingest.rtf import RTF_MAGIC, read_rtf
from pipeline.ingest.text import decode_bytes, html_text, read_text, text_blocks
from pipeline.ingest.tools import Tools

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
PDF_MAGIC = b"%PDF-"
# A photo or scan saved as an image (often renamed .docx or sent as is): no document to read
IMAGE_MAGIC = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG", b"GIF8": "GIF", b"II*\x00": "TIFF",
               b"MM\x00*": "TIFF", b"BM": "BMP"}

__all__ = [
    "CONVERTED_LIBREOFFICE", "CONVERTED_TEXT_ONLY", "OCR", "Reading", "Tools", "formats_info", "read_blocks",
    "read_doc", "read_document", "read_docx", "read_odt", "read_pdf", "read_rtf", "read_text",
]


def read_blocks(path: Path, limits: Limits = Limits(), tools: Tools | None = None) -> list[Block]:
    """Ordered blocks of one submission, or IngestError saying why it cannot be read."""
    return read_document(path, limits, tools).blocks


_MB = 1024 * 1024  # the limit is set in these units (Limits.max_file_bytes)


def read_document(path: Path, limits: Limits = Limits(), tools: Tools | None = None) -> Reading:
    """Blocks of one submission with how they were read (warnings for its practices, a note for its row),
    or IngestError saying why it cannot be read. `tools` defaults to the programs found on PATH."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ingest_error("unreadable_file", reason=os_reason(exc, path)) from exc
    if size == 0:
        raise ingest_error("empty_file")
    if size > limits.max_file_bytes:
        raise ingest_error("file_too_large", size=size / _MB, limit=limits.max_file_bytes / _MB)
    with path.open("rb") as fh:
        head = fh.read(8)
    suffix = path.suffix.lower()
    tools = tools if tools is not None else Tools.find()
    if head.startswith(OLE_MAGIC):
        if suffix in (".doc", ".dot") or is_word97(path):  # also a .doc renamed .docx
            return read_doc(path, limits, tools.soffice)
        # Outlook's .msg and the old .xls and .ppt are OLE files too
        if suffix == ".msg":
            raise ingest_error("email_file", suffix=suffix)
        if suffix in (".xls", ".ppt"):
            raise ingest_error("sheet_or_slides", suffix=suffix)
        if is_encrypted_package(path):  # a password makes Word save even a .docx as a compound file
            raise ingest_error("office_password")
        raise ingest_error("office_protected_or_old")
    if head.startswith(ZIP_MAGIC):
        if _is_opendocument(path):
            return read_odt(path, limits, tools.soffice)
        if suffix == ".odt":
            raise ingest_error("odt_not_opendocument")
        if suffix == ".zip" and not _is_word_package(path):
            raise _zip_archive_error(path)
        if suffix in (".xlsx", ".pptx"):
            raise ingest_error("sheet_or_slides", suffix=suffix)
        blocks, marks = read_docx_marked(path, limits)
        return Reading(blocks, warnings=marks)
    if head.startswith(PDF_MAGIC):
        return read_pdf(path, limits, tools)
    image = next((kind for magic, kind in IMAGE_MAGIC.items() if head.startswith(magic)), None)
    if image and suffix not in (".txt", ".md", ".markdown", ".text"):
        raise ingest_error("image_file", image=image)
    if head.startswith(RTF_MAGIC):
        return read_rtf(path, limits, tools.soffice)
    if suffix in (".docx", ".pdf", ".doc", ".odt", ".rtf"):
        # a form typed in a text editor and saved under a Word name is read for what it is, with a warning
        text = _plain_text(path)
        if text is not None:
            return Reading(text_blocks(text, limits), warnings=(f"{NAMED_AS_ANOTHER_FORMAT}:{suffix}",))
        kind = {".docx": "Word", ".pdf": "PDF", ".doc": "Word .doc", ".odt": "OpenDocument", ".rtf": "RTF"}[suffix]
        raise ingest_error("misnamed_file", suffix=suffix, kind=kind)
    if suffix in (".txt", ".md", ".markdown", ".text"):
        return Reading(read_text(path, limits))
    if suffix in (".xls", ".xlsx", ".ppt", ".pptx"):
        raise ingest_error("sheet_or_slides", suffix=suffix)
    if suffix == ".eml":
        return Reading(read_email(path, limits))
    if suffix == ".msg":
        raise ingest_error("email_file", suffix=suffix)
    raise ingest_error("unknown_suffix", suffix=suffix) if suffix else ingest_error("no_suffix")


# an HTML page saved under a Word name (web tools export "Word" files so)
_HTML = re.compile(r"<(?:!doctype\s+html|html|body|head|p|div|table|br)\b", re.I)


def _plain_text(path: Path) -> str | None:
    """The file's text when it holds plain text (UTF-8, UTF-16 or a code page, decoded with next to no unreadable
    character), that of an HTML page read as the e-mails' HTML is; None for anything else."""
    text = decode_bytes(path.read_bytes())
    readable = sum(ch.isprintable() or ch in "\n\r\t" for ch in text)
    if not text.strip() or "\x00" in text or "\ufffd" in text or readable < 0.98 * len(text):
        return None
    return html_text(text) if len(_HTML.findall(text[:20_000])) >= 2 else text


def _is_opendocument(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return odf_mimetype(zf) is not None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False  # the Word reader says what is wrong with it


def _zip_archive_error(path: Path):
    """A .zip of forms is not opened (a file's row holds one file's practices): the error names the forms in it."""
    from pipeline.ingest.package import forms_in_zip, named_files

    names = forms_in_zip(path)
    if names is None:
        return ingest_error("zip_archive_damaged")
    if not names:
        return ingest_error("zip_archive_no_forms")
    return ingest_error("zip_archive_forms", files=named_files(names))


def _is_word_package(path: Path) -> bool:
    """A Word document renamed .zip (a mail filter's doing) is read as the Word file it is."""
    try:
        with zipfile.ZipFile(path) as zf:
            return "word/document.xml" in zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def formats_info(tools: Tools | None = None, limits: Limits | None = None) -> dict:
    """How this machine reads the formats that need outside programs, for the run's manifest:
    the converter of .doc/.odt/.rtf and the OCR engine with its languages (and the run's OCR settings)."""
    from importlib import metadata

    from pipeline.ingest.convert import libreoffice_version
    from pipeline.ingest.ocr import ocr_info
    from pipeline.ingest.tools import network_jail

    tools = tools or Tools.find()
    fallbacks = {}
    for dist in ("olefile", "striprtf", "pypdfium2"):
        try:
            fallbacks[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            fallbacks[dist] = None
    converter = (
        {"engine": "libreoffice", "version": (libreoffice_version(tools.soffice) or "").removeprefix("LibreOffice").strip(),
         "network_isolated": bool(network_jail())}
        if tools.soffice else {"engine": None, "fallback": "text-only (olefile, striprtf, built-in .odt reader)"}
    )
    return {"converter": converter, "ocr": ocr_info(tools, limits), "python_readers": fallbacks}
