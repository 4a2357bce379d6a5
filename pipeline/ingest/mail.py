"""A saved e-mail (.eml): the form pasted into its text is read as a text submission; forms attached to it are
named, to be saved and run as files of their own (a file's row holds one file's practices)."""

from __future__ import annotations

import email
import email.policy
import io
from pathlib import Path

from pipeline.config import Limits
from pipeline.errors import ingest_error
from pipeline.records import Block

from pipeline.ingest.package import CARRIED_SUFFIXES, forms_in_zip, named_files
from pipeline.ingest.text import html_text, text_blocks

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
            text = html_text(text)
    if not text.strip():
        raise ingest_error("email_without_form")
    return text_blocks(text, limits)


def _may_hold_a_form(name: str, part) -> bool:
    """A form, or a .zip with a form in it (or one that cannot be looked into), or a saved e-mail."""
    if Path(name).suffix.lower() != ".zip":
        return True
    forms = forms_in_zip(io.BytesIO(part.get_payload(decode=True) or b""))
    return forms is None or bool(forms)

