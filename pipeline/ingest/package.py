"""Checks on zip packages (.docx, .odt) made from the central directory, before anything is inflated."""

from __future__ import annotations

import re
import zipfile

from pipeline.config import SUPPORTED_SUFFIXES, Limits
from pipeline.errors import ingest_error, message

# Parts this small cannot hurt whatever their ratio (a page of spaces compresses 1000:1).
_SMALL_PART = 1_000_000


def check_zip(zf: zipfile.ZipFile, limits: Limits, kind: str = "word_document") -> dict[str, zipfile.ZipInfo]:
    """The package's entries by name, or IngestError("zip_bomb") if it holds too many parts, would expand
    beyond the size limit, or has a part compressed far beyond what text compresses to. `kind`: the catalogue key
    of what the package holds (resources/errors.yaml)."""
    infos = zf.infolist()
    if len(infos) > limits.max_zip_entries:
        raise ingest_error("zip_too_many_parts", n=len(infos), kind=message(kind))
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed_bytes:
        raise ingest_error("zip_too_large", size=total / 1e6, limit=limits.max_uncompressed_bytes / 1e6)
    for info in infos:
        if info.file_size > _SMALL_PART and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1):
            raise ingest_error("zip_ratio", part=info.filename, ratio=info.file_size // max(info.compress_size, 1))
    return {i.filename: i for i in infos}


def read_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """One part, inflated at most to `limit` bytes: the sizes in a zip's directory are the sender's word."""
    with zf.open(info) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ingest_error("zip_part_too_large", part=info.filename)
    return data


# what a zip of submissions, or an e-mail, may carry: the formats read, and archives and e-mails holding more
CARRIED_SUFFIXES = (*SUPPORTED_SUFFIXES, ".zip", ".eml")


# files that come with an archive to explain it, not submissions: a "readme.txt" or « lisez-moi.txt » beside the forms
_NOT_FORMS = re.compile(r"(?i)^(read[ _-]?me|lisez[ _-]?moi|licen[cs]e|changelog|manifest)(\b|_|$)")


def forms_in_zip(source) -> list[str] | None:
    """The names of the forms (and the archives and e-mails that may hold some) in a zip archive, a path or a file
    object; None when it cannot be opened. Only its directory is read: nothing is inflated."""
    from pathlib import PurePosixPath

    try:
        with zipfile.ZipFile(source) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    return [PurePosixPath(n).name for n in names if PurePosixPath(n).suffix.lower() in CARRIED_SUFFIXES
            and not PurePosixPath(n).name.startswith((".", "~$")) and "__MACOSX" not in n
            and not _NOT_FORMS.match(PurePosixPath(n).stem)]


def named_files(names: list[str], limit: int = 5) -> str:
    """Names for a message: the first `limit`, then how many more ("a.docx, b.pdf (+3)")."""
    return ", ".join(names[:limit]) + (f" (+{len(names) - limit})" if len(names) > limit else "")
