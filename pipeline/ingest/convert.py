"""LibreOffice in headless mode: .doc, .odt and .rtf to .docx, so the Word reader reads them.

Each conversion runs in a subprocess with a throw-away profile folder set to refuse macros and never
update links or fields, in a network namespace of its own where the system allows it, under a time
limit. The input is copied into a private folder first: LibreOffice sees nothing else of the batch.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from pipeline.config import Limits
from pipeline.errors import message
from pipeline.ingest.reading import CONVERTED_LIBREOFFICE, CONVERTED_TEXT_ONLY, Reading
from pipeline.records import Block
from pipeline.ingest.tools import network_jail, run_bounded, tool_version
from pipeline.registry import loader

# The profile of every conversion: macros never run (security level "very high" and execution off),
# links and fields keep the values stored in the file, and referer-less links are blocked.
_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update"><prop oor:name="Link" oor:op="fuse"><value>2</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update"><prop oor:name="Field" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""


class Conversion:
    """A .docx made from `source` by LibreOffice, in a temporary folder removed on exit.

    with Conversion(soffice, path, limits) as docx: read_docx(docx, limits)
    """

    def __init__(self, soffice: str, source: Path, limits: Limits) -> None:
        self.soffice, self.source, self.limits = soffice, Path(source), limits
        self._tmp: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> Path:
        self._tmp = tempfile.TemporaryDirectory(prefix="icc-convert-")
        try:
            return self._convert(Path(self._tmp.name))
        except BaseException:
            self._tmp.cleanup()
            raise

    def __exit__(self, *exc) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()

    def _convert(self, work: Path) -> Path:
        profile, inbox, outbox = work / "profile", work / "in", work / "out"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_PROFILE, encoding="utf-8")
        inbox.mkdir()
        # A plain name: LibreOffice reads some characters of a file name as URL syntax.
        source = inbox / f"input{self.source.suffix.lower()}"
        shutil.copyfile(self.source, source)
        cmd = [
            *network_jail(), self.soffice, f"-env:UserInstallation={profile.as_uri()}",
            "--headless", "--invisible", "--nologo", "--norestore", "--nodefault", "--nolockcheck",
            "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(outbox), str(source),
        ]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "LANG": "C.UTF-8",
               "TMPDIR": str(work), "SAL_USE_VCLPLUGIN": "svp"}
        done = run_bounded(cmd, timeout=self.limits.max_convert_seconds, what=message("converting_with_libreoffice"),
                           env=env)
        out = outbox / "input.docx"
        if not out.is_file() or out.stat().st_size == 0:
            detail = (done.stderr or b"").decode("utf-8", "replace").strip().splitlines()
            raise ConversionFailed(detail[-1] if detail else message("exit_code", code=done.returncode))
        return out


class ConversionFailed(Exception):
    """LibreOffice ran but wrote no document (it could not read the input)."""


def convert_and_read(soffice: str, path: Path, limits: Limits) -> list[Block]:
    """Blocks of `path` read through LibreOffice and the Word reader."""
    return convert_and_read_marked(soffice, path, limits)[0]


def convert_and_read_marked(soffice: str, path: Path, limits: Limits) -> tuple[list[Block], tuple[str, ...]]:
    """Blocks of `path` read through LibreOffice and the Word reader, and the marks of a file under review
    (comments, changes not accepted) that the conversion kept."""
    from pipeline.ingest.docx import read_docx_marked

    with Conversion(soffice, path, limits) as docx:
        return read_docx_marked(docx, limits)


@loader("libreoffice_version")
def libreoffice_version(soffice: str) -> str | None:
    """The version line ("LibreOffice 7.4.7.2 ...") for the manifest, asked with a throw-away profile."""
    with tempfile.TemporaryDirectory(prefix="icc-convert-") as work:
        return tool_version([soffice, f"-env:UserInstallation={Path(work).as_uri()}", "--version"])


def read_converted(path: Path, limits: Limits, soffice: str | None, fallback: Callable[[], list[Block]], kind: str) -> Reading:
    """Read through LibreOffice where it is installed; otherwise, or where it fails on the file, through
    the format's own pure-Python reader, which keeps the text but not the layout. `kind`: the catalogue key of the
    format's name (resources/errors.yaml), for the row's note."""
    failed = ""
    if soffice:
        try:
            blocks, marks = convert_and_read_marked(soffice, path, limits)
            return Reading(blocks, (CONVERTED_LIBREOFFICE, *marks), message("converted_by_libreoffice", kind=message(kind)))
        except ConversionFailed as exc:
            failed = message("libreoffice_failed", reason=exc)
    blocks = fallback()
    return Reading(blocks, (CONVERTED_TEXT_ONLY,), message("read_as_text_only", kind=message(kind), failed=failed))
