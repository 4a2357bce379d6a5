"""The messages of files.parquet, from one catalogue in English and French (resources/errors.yaml).

The run writes each message in English from its entry; a page in French finds the entry back from the text
(`error_phrasebook`) and shows it in French, so a French reader keeps the detail (the page count, the file name).
"""

from __future__ import annotations

import errno
import os
from functools import cache
from pathlib import Path

from pipeline.config import RESOURCES_DIR, load_yaml
from pipeline.phrasebook import Phrasebook
from pipeline.records import IngestError

ERRORS_FILE = RESOURCES_DIR / "errors.yaml"


@cache
def load_errors() -> dict:
    """{"messages": {key: {code or status, en, fr}}, "fragments": {key: {en, fr}}}."""
    return load_yaml(ERRORS_FILE.read_text(encoding="utf-8"))


def entry(key: str) -> dict:
    errors = load_errors()
    found = errors["messages"].get(key) or errors["fragments"].get(key)
    if found is None:
        raise KeyError(f"no entry {key!r} in {ERRORS_FILE.name}")
    return found


def message(key: str, **values) -> str:
    """The English text of a message or fragment, with its values."""
    return entry(key)["en"].format(**values)


# advice for whoever runs the pipeline, not for the city whose form it is: the web check leaves it out
_SERVER_NOTES = ("tesseract_missing", "tesseract_no_languages", "pypdfium2_missing")


def for_visitors(text: str | None) -> str | None:
    """A message as a city reads it on the web check: without what to install on the server ("apt-get install
    tesseract-ocr"); the form's own fix ("send the Word form", "save it as .docx") stays."""
    if not text:
        return text
    for key in _SERVER_NOTES:
        note = message(key, install=message("install_tesseract"))
        text = text.replace(f" {note}.", "").replace(f" {note}", "")
    return text.replace(message("save_as_docx_or_install", install=message("install_libreoffice")),
                        message("save_as_docx"))


def ingest_error(key: str, **values) -> IngestError:
    """The IngestError of a message with an error code: its code, and its English text."""
    return IngestError(entry(key)["code"], message(key, **values))


def cause(exc: BaseException) -> str:
    """Why a damaged file could not be read, in words (`causes` of the catalogue), from the exception its reader
    raised; an exception the catalogue does not name is given by its name."""
    causes = load_errors()["causes"]
    for cls in type(exc).__mro__:
        key = causes.get(f"{cls.__module__}.{cls.__qualname__}") or causes.get(cls.__qualname__)
        if key:
            return message(key)
    return message("cause_other", name=type(exc).__name__)


_OS_REASONS = {errno.ENOENT: "os_missing", errno.EACCES: "os_permission", errno.EPERM: "os_permission",
               errno.ELOOP: "os_link_loop", errno.EIO: "os_io", errno.ENAMETOOLONG: "os_name_too_long"}


def os_reason(exc: OSError, path: Path | None = None) -> str:
    """Why the system could not open a file, in words the French catalogue also has; the system's own words for
    an error it does not name."""
    if exc.errno == errno.ENOENT and path is not None and path.is_symlink():
        return message("os_broken_link", target=os.readlink(path))
    key = _OS_REASONS.get(exc.errno)
    return message(key) if key else str(exc.strerror or exc)


@cache
def error_phrasebook() -> Phrasebook:
    """Every message and fragment of the catalogue; a fragment read back inside a message is said too."""
    errors = load_errors()
    pairs = lambda section: [{"en": e["en"], "fr": e["fr"]} for e in errors[section].values()]  # noqa: E731
    return Phrasebook(pairs("messages"), fragments=pairs("fragments"), fragment_fields=errors["fragment_fields"],
                      number_fields=errors["number_fields"])
