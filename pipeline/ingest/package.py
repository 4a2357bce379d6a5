"""Checks on zip packages (.docx, .odt) made from the central directory, before anything is inflated."""

from __future__ import annotations

import zipfile

from pipeline.config import Limits
from pipeline.records import IngestError

# Parts this small cannot hurt whatever their ratio (a page of spaces compresses 1000:1).
_SMALL_PART = 1_000_000


def check_zip(zf: zipfile.ZipFile, limits: Limits, kind: str = "Word document") -> dict[str, zipfile.ZipInfo]:
    """The package's entries by name, or IngestError("zip_bomb") if it holds too many parts, would expand
    beyond the size limit, or has a part compressed far beyond what text compresses to."""
    infos = zf.infolist()
    if len(infos) > limits.max_zip_entries:
        raise IngestError("zip_bomb", f"The file holds {len(infos)} parts; a {kind} has far fewer. It was not opened.")
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed_bytes:
        raise IngestError(
            "zip_bomb",
            f"The file would expand to {total / 1e6:.0f} MB; the limit is {limits.max_uncompressed_bytes / 1e6:.0f} MB. It was not opened.",
        )
    for info in infos:
        if info.file_size > _SMALL_PART and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1):
            raise IngestError("zip_bomb", f"The part {info.filename} is compressed {info.file_size // max(info.compress_size, 1)}:1, a sign of a zip bomb. It was not opened.")
    return {i.filename: i for i in infos}


def read_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """One part, inflated at most to `limit` bytes: the sizes in a zip's directory are the sender's word."""
    with zf.open(info) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise IngestError("zip_bomb", f"The part {info.filename} expands beyond what its package declares. It was not read.")
    return data
