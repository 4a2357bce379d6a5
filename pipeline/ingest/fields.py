"""Fields whose text comes from another file: refused in .doc and .rtf before any converter sees them."""

from __future__ import annotations

import re
from typing import Iterable

from pipeline.errors import ingest_error, message

# INCLUDETEXT and LINK pull text (or a whole document) from a path or URL, DDE/DDEAUTO from another
# program; their stored result is not what the city saw, and a converter might refresh it.
_EXTERNAL = re.compile(r"^\s*(INCLUDETEXT|INCLUDE|LINK|DDEAUTO|DDE|IMPORT)\b", re.IGNORECASE)


def refuse_external_fields(codes: Iterable[str], kind: str) -> None:
    """`kind`: the catalogue key of the file's kind (resources/errors.yaml), for the message."""
    for code in codes:
        match = _EXTERNAL.match(code)
        if match:
            raise ingest_error("external_field", kind=message(kind), field=match.group(1).upper())
