"""Word 97-2003 (.doc) reader.

The compound file is opened with olefile first: an encrypted document, one holding macros or embedded
OLE objects, or one whose text comes from another file (INCLUDETEXT, LINK, DDE fields) is refused
before any converter sees it. The document is then converted by LibreOffice and read by the Word
reader; without LibreOffice its main text is read from the piece table (text and table cells, no
formatting).
"""

from __future__ import annotations

import struct
from pathlib import Path

from pipeline.config import Limits
from pipeline.errors import cause, ingest_error, message
from pipeline.ingest.convert import read_converted
from pipeline.ingest.fields import refuse_external_fields
from pipeline.ingest.reading import Reading
from pipeline.normalize import clean_text
from pipeline.records import Block, IngestError

_WORD_MAGIC = 0xA5EC
_NFIB_WORD97 = 0x00C1
_FIB_FLAGS, _FIB_CCP_TEXT, _FIB_FC_CLX = 0x0A, 0x4C, 0x01A2  # byte offsets in the FIB
_ENCRYPTED, _WHICH_TABLE, _OBFUSCATED = 0x0100, 0x0200, 0x8000
_FIELD_BEGIN, _FIELD_SEPARATE, _FIELD_END = "\x13", "\x14", "\x15"
_CELL_END = "\x07"
# Word's in-text marks: line break, page/section break, non-breaking and soft hyphen.
_MARKS = str.maketrans({"\x0b": "\n", "\x0c": "\r", "\x1e": "-", "\x1f": None})


def _legacy(detail: str, install: bool = False, **values) -> IngestError:
    """A `legacy_doc` error; `detail`: the catalogue key of what is wrong with the file."""
    fix = (message("save_as_docx_or_install", install=message("install_libreoffice")) if install
           else message("save_as_docx"))
    return ingest_error("legacy_doc", detail=message(detail, **values), fix=fix)


def read_doc(path: Path, limits: Limits, soffice: str | None) -> Reading:
    text = _inspect(path, limits)
    if text is None and not soffice:
        raise _legacy("older_than_word97_no_libreoffice", install=True)

    def fallback() -> list[Block]:
        if text is None:
            raise _legacy("older_than_word97_not_converted")
        return doc_blocks(text)

    return read_converted(path, limits, soffice, fallback, "word97_doc")


def is_word97(path: Path) -> bool:
    """True for a compound file holding a Word document (whatever its name says)."""
    try:
        import olefile

        with olefile.OleFileIO(str(path)) as ole:
            return ole.exists("WordDocument")
    except Exception:  # noqa: BLE001 - any failure means "not a readable Word document"
        return False


def is_encrypted_package(path: Path) -> bool:
    """True for a compound file holding an encrypted Office document (a .docx saved with a password)."""
    try:
        import olefile

        with olefile.OleFileIO(str(path)) as ole:
            return ole.exists("EncryptedPackage") or ole.exists("EncryptionInfo")
    except Exception:  # noqa: BLE001 - any failure means "not one we can tell"
        return False


def _inspect(path: Path, limits: Limits) -> str | None:
    """Main text of the document (None for Word 6/95, which only LibreOffice reads), after the checks."""
    try:
        import olefile
    except ImportError:
        raise _legacy("needs_olefile", install=True) from None
    try:
        ole = olefile.OleFileIO(str(path))
    except (OSError, ValueError, IndexError, struct.error) as exc:
        raise _legacy("damaged_unopenable", cause=cause(exc)) from exc
    with ole:
        streams = ["/".join(entry) for entry in ole.listdir(streams=True, storages=True)]
        lowered = [s.lower() for s in streams]
        if "encryptedpackage" in lowered or "encryptioninfo" in lowered:
            raise ingest_error("office_protected")
        if "worddocument" not in lowered:
            raise ingest_error("old_office_not_word")
        if any(s.startswith(("macros", "_vba_project")) or "/vba" in s for s in lowered):
            raise ingest_error("doc_macros")
        if any(s.startswith("objectpool/") for s in lowered):
            raise ingest_error("doc_objects")
        try:
            text = _main_text(ole, limits)
        except IngestError:
            raise
        except (OSError, ValueError, IndexError, struct.error, UnicodeError) as exc:
            raise _legacy("damaged_unreadable", cause=cause(exc)) from exc
    if text is not None:
        refuse_external_fields(field_codes(text), "doc_file")
    return text


def _main_text(ole, limits: Limits) -> str | None:
    """The document's text from the piece table of the File Information Block ([MS-DOC] 2.5, 2.8.35):
    text boxes first (forms with a designed cover keep the contact block in one), then the main text."""
    word = ole.openstream("WordDocument").read()
    ident, nfib = struct.unpack_from("<HH", word, 0)
    if ident != _WORD_MAGIC:
        raise _legacy("no_word_header")
    flags = struct.unpack_from("<H", word, _FIB_FLAGS)[0]
    if flags & (_ENCRYPTED | _OBFUSCATED):
        raise ingest_error("word_protected")
    if nfib < _NFIB_WORD97:
        return None
    # Character counts of the stories, in their order in the text: main, footnotes, headers, (macros),
    # comments, endnotes, text boxes.
    main, footnotes, headers, macros, comments, endnotes, boxes = struct.unpack_from("<7i", word, _FIB_CCP_TEXT)
    if main + boxes > limits.max_text_chars:
        raise ingest_error("document_too_long", n=main + boxes, limit=limits.max_text_chars)
    fc_clx, lcb_clx = struct.unpack_from("<II", word, _FIB_FC_CLX)
    table_name = "1Table" if flags & _WHICH_TABLE else "0Table"
    if not ole.exists(table_name):
        raise _legacy("no_table_stream", stream=table_name)
    pieces = _pieces(ole.openstream(table_name).read()[fc_clx:fc_clx + lcb_clx])
    box_start = main + footnotes + headers + macros + comments + endnotes
    box_text = _story(word, pieces, box_start, box_start + boxes) if boxes > 0 else ""
    return box_text + _story(word, pieces, 0, main)


def _pieces(clx: bytes) -> list[tuple[int, int, int]]:
    """(first character, end character, file offset with its "compressed" bit) of every piece."""
    pos = 0
    while pos < len(clx) and clx[pos] == 0x01:  # Prc: formatting of pieces, not needed for text
        pos += 3 + struct.unpack_from("<H", clx, pos + 1)[0]
    if pos >= len(clx) or clx[pos] != 0x02:
        raise _legacy("no_piece_table")
    lcb = struct.unpack_from("<I", clx, pos + 1)[0]
    plc = clx[pos + 5:pos + 5 + lcb]
    n = (len(plc) - 4) // 12
    cps = struct.unpack_from(f"<{n + 1}I", plc, 0)
    return [(cps[i], cps[i + 1], struct.unpack_from("<I", plc, 4 * (n + 1) + 8 * i + 2)[0]) for i in range(n)]


def _story(word: bytes, pieces: list[tuple[int, int, int]], start: int, end: int) -> str:
    parts: list[str] = []
    for first, last, fc in pieces:
        lo, hi = max(first, start), min(last, end)
        if lo >= hi:
            continue
        if fc & 0x40000000:  # "compressed": one byte per character, Windows-1252
            offset = (fc & 0x3FFFFFFF) // 2 + (lo - first)
            parts.append(word[offset:offset + hi - lo].decode("cp1252", errors="replace"))
        else:
            offset = fc + 2 * (lo - first)
            parts.append(word[offset:offset + 2 * (hi - lo)].decode("utf-16-le", errors="replace"))
    return "".join(parts)


def doc_blocks(text: str) -> list[Block]:
    """Paragraph and cell blocks from a .doc's main text: paragraphs end with \\r, cells with \\x07, and a
    second \\x07 ends a table row. Field instructions are left out and their shown results kept."""
    text = _drop_field_codes(text).translate(_MARKS)
    blocks: list[Block] = []
    table, row, col = 0, 0, 0
    in_table = False  # a cell was read and no paragraph outside a row since
    in_row = False  # after a cell mark, before the row's end: paragraphs belong to the next cell
    pending: list[str] = []
    unit: list[str] = []
    for ch in text:
        if ch not in ("\r", _CELL_END):
            unit.append(ch)
            continue
        piece, unit = "".join(unit), []
        if ch == "\r":
            if in_row:
                pending.append(piece)
            elif _add(blocks, piece, "paragraph"):
                in_table = False
        elif in_row and not piece and not pending:  # the mark that ends a row
            row, col, in_row = row + 1, 0, False
        else:
            if not in_table:
                table, row, col, in_table = table + 1, 0, 0, True
            _add(blocks, "\n".join([*pending, piece]), "cell", table, row, col)
            pending, col, in_row = [], col + 1, True
    for piece in [*pending, "".join(unit)]:
        _add(blocks, piece, "paragraph")
    return blocks


def _add(blocks: list[Block], text: str, kind: str, table: int | None = None, row: int | None = None, col: int | None = None) -> bool:
    text = clean_text("".join(ch for ch in text if ch >= " " or ch in "\t\n"))
    if text:
        blocks.append(Block(text, kind, len(blocks), table, row, col))  # type: ignore[arg-type]
    return bool(text)


def _drop_field_codes(text: str) -> str:
    """Text with each field's instruction removed and its result kept; nested fields are handled."""
    out: list[str] = []
    stack: list[bool] = []  # per open field: still in its instruction part?
    for ch in text:
        if ch == _FIELD_BEGIN:
            stack.append(True)
        elif ch == _FIELD_SEPARATE and stack:
            stack[-1] = False
        elif ch == _FIELD_END and stack:
            stack.pop()
        elif not any(stack):
            out.append(ch)
    return "".join(out)


def field_codes(text: str) -> list[str]:
    """The instruction of every field ("INCLUDETEXT \\"c:\\\\x.doc\\"", "PAGE" ...), nested ones included."""
    codes: list[str] = []
    open_fields: list[list[str] | None] = []  # per open field: its instruction so far, None once past it
    for ch in text:
        if ch == _FIELD_BEGIN:
            open_fields.append([])
        elif ch in (_FIELD_SEPARATE, _FIELD_END) and open_fields:
            if open_fields[-1] is not None:
                codes.append("".join(open_fields[-1]).strip())
            if ch == _FIELD_END:
                open_fields.pop()
            else:
                open_fields[-1] = None
        elif open_fields and open_fields[-1] is not None:
            open_fields[-1].append(ch)
    return codes
