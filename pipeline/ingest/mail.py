"""A saved e-mail (.eml): the form pasted into its text is read as a text submission; forms attached to it are
named, to be saved and run as files of their own (a file's row holds one file's practices)."""

from __future__ import annotations

import email
import email.policy
import io
from html.parser import HTMLParser
from pathlib import Path

from pipeline.config import Limits
from pipeline.errors import ingest_error
from pipeline.records import Block

from pipeline.ingest.package import CARRIED_SUFFIXES, forms_in_zip, named_files
from pipeline.ingest.text import text_blocks

def read_email(path: Path, limits: Limits = Limits()) -> list[Block]:
    """The blocks of the text of a saved e-mail, or IngestError naming the forms attached to it."""
    message = email.message_from_bytes(Path(path).read_bytes(), policy=email.policy.default)
    # every part with a file name, a forwarded message's too; a .zip holding forms and a saved e-mail are named too
    attached = [name for name, part in ((part.get_filename(), part) for part in message.walk()) if name
                and Path(name).suffix.lower() in CARRIED_SUFFIXES and _may_hold_a_form(name, part)]
    if attached:
        raise ingest_error("email_with_forms", files=named_files(attached))
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        text = body.get_content()
        if body.get_content_subtype() == "html":
            text = _html_text(text)
    if not text.strip():
        raise ingest_error("email_without_form")
    return text_blocks(text, limits)


def _may_hold_a_form(name: str, part) -> bool:
    """A form, or a .zip with a form in it (or one that cannot be looked into), or a saved e-mail."""
    if Path(name).suffix.lower() != ".zip":
        return True
    forms = forms_in_zip(io.BytesIO(part.get_payload(decode=True) or b""))
    return forms is None or bool(forms)


class _TextOfHtml(HTMLParser):
    """The text of an HTML e-mail: block elements end a line, table cells are separated by tabs (as a table's
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


def _html_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = ["\t".join(cell.strip() for cell in line.strip(" \t").split("\t")) if "\t" in line.strip(" \t")
             else line.strip() for line in "".join(parser.parts).split("\n")]
    return "\n".join(lines)
