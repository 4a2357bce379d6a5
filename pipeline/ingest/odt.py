"""OpenDocument text (.odt) reader.

The package is checked like a .docx before anything is inflated (entry count, expanded size, ratio),
and a document holding macros or sections linked to other files is refused before any converter sees
it. The file is then converted by LibreOffice and read by the Word reader; without LibreOffice,
content.xml is walked here in document order (paragraphs, headings, lists, tables, text boxes); an item of a
list starts with a bullet ("• "), so it stays an item of its own.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from lxml import etree

from pipeline.config import Limits
from pipeline.errors import cause, ingest_error, message
from pipeline.ingest.convert import read_converted
from pipeline.ingest.package import check_zip, read_part
from pipeline.ingest.reading import BlockCollector, Reading
from pipeline.records import Block, IngestError

ODF_TEXT_TYPES = ("application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.text-template")
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
_MAX_SPACES = 100  # a text:s element may ask for any number of spaces


def _t(tag: str) -> str:
    return f"{{{TEXT}}}{tag}"


def _tb(tag: str) -> str:
    return f"{{{TABLE}}}{tag}"


def _o(tag: str) -> str:
    return f"{{{OFFICE}}}{tag}"


def _d(tag: str) -> str:
    return f"{{{DRAW}}}{tag}"


# Not part of the visible text: deleted text of tracked changes, notes, comments, index bodies' templates.
_SKIP = {_t("tracked-changes"), _t("note"), _o("annotation"), _t("sequence-decls"), _t("variable-decls"),
         _t("user-field-decls"), _t("alphabetical-index-source"), _t("table-of-content-source")}
_BLOCK_TAGS = {_t("p"), _t("h"), _t("list"), _tb("table")}
_ROW_GROUPS = {_tb("table-header-rows"), _tb("table-rows"), _tb("table-row-group")}
_BULLET = "\u2022 "


def odf_mimetype(zf: zipfile.ZipFile) -> str | None:
    """The package's declared type (the `mimetype` entry), or None for a zip that is no OpenDocument."""
    try:
        info = zf.getinfo("mimetype")
    except KeyError:
        return None
    if info.file_size > 200:
        return None
    return zf.read(info).decode("ascii", errors="replace").strip()


def read_odt(path: Path, limits: Limits, soffice: str | None) -> Reading:
    content = _checked_content(path, limits)
    return read_converted(path, limits, soffice, lambda: odt_blocks(content), "opendocument_odt")


def _checked_content(path: Path, limits: Limits) -> bytes:
    try:
        with zipfile.ZipFile(path) as zf:
            names = check_zip(zf, limits, "text_document")
            kind = odf_mimetype(zf)
            if kind not in ODF_TEXT_TYPES:
                raise ingest_error("odt_not_text", kind=kind or message("no_type"))
            if any(n.startswith(("Basic/", "Scripts/")) for n in names):
                raise ingest_error("odt_macros")
            if "content.xml" not in names:
                raise ingest_error("odt_no_content")
            manifest = read_part(zf, names["META-INF/manifest.xml"], 1_000_000) if "META-INF/manifest.xml" in names else b""
            content = read_part(zf, names["content.xml"], limits.max_uncompressed_bytes)
    except IngestError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, OSError, NotImplementedError) as exc:
        raise ingest_error("odt_damaged", cause=cause(exc)) from exc
    if b"encryption-data" in manifest:
        raise ingest_error("odt_protected")
    if b"<!DOCTYPE" in content[:4096] or b"<!ENTITY" in content:
        raise ingest_error("odt_entities")
    if b"section-source" in content:
        raise ingest_error("odt_linked_sections")
    return content


def odt_blocks(content: bytes) -> list[Block]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise ingest_error("odt_xml_damaged", error=exc.msg) from exc
    body = root.find(f"{_o('body')}/{_o('text')}")
    if body is None:
        raise ingest_error("odt_no_body")
    walker = _Walker()
    walker.container(body)
    return walker.blocks


class _Walker(BlockCollector):

    def container(self, element, item: bool = False) -> None:
        """Paragraphs, headings, lists, sections and tables, in document order (`item`: a list item, whose first
        paragraph shows its bullet)."""
        for child in element:
            tag = child.tag
            if tag in _SKIP or not isinstance(tag, str):
                continue
            if tag in (_t("p"), _t("h")):
                boxes: list = []
                text = _inline(child, boxes)
                self.add(_BULLET + text if item and text.strip() else text, "heading" if tag == _t("h") else "paragraph")
                item = False
                for box in boxes:
                    self.container(box)
            elif tag == _tb("table"):
                self.table(child)
            else:  # lists, list items, sections, index bodies: their paragraphs count
                self.container(child, item=tag == _t("list-item"))

    def table(self, table) -> None:
        self.n_tables += 1
        number = self.n_tables
        for r, row in enumerate(_rows(table)):
            col = 0
            for cell in row:
                if cell.tag == _tb("covered-table-cell"):  # hidden by a merged cell: its text is in the first one
                    col += 1
                    continue
                if cell.tag != _tb("table-cell"):
                    continue
                texts, nested, boxes = [], [], []
                for item in cell:
                    if item.tag in (_t("p"), _t("h")):
                        texts.append(_inline(item, boxes))
                    elif item.tag == _tb("table"):
                        nested.append(item)
                    elif item.tag == _t("list"):
                        firsts = [li.find(_t("p")) for li in item.iter(_t("list-item"))]
                        for p in item.iter(_t("p")):
                            text = _inline(p, boxes)
                            texts.append(_BULLET + text if text.strip() and any(p is f for f in firsts) else text)
                self.add("\n".join(texts), "cell", number, r, col)
                for item in nested:
                    self.table(item)
                for box in boxes:
                    self.container(box)
                col += 1


def _rows(table):
    for child in table:
        if child.tag == _tb("table-row"):
            yield child
        elif child.tag in _ROW_GROUPS:
            yield from _rows(child)


def _inline(paragraph, boxes: list) -> str:
    """Text of a paragraph with its spaces, tabs and line breaks; the paragraphs of text boxes and shapes
    anchored in it are collected in `boxes`."""
    parts: list[str] = [paragraph.text or ""]

    def walk(node) -> None:
        for child in node:
            tag = child.tag
            if tag == _t("s"):
                count = child.get(_t("c"), "1")
                parts.append(" " * min(int(count) if count.isdigit() else 1, _MAX_SPACES))
            elif tag == _t("tab"):
                parts.append("\t")
            elif tag == _t("line-break"):
                parts.append("\n")
            elif tag in _BLOCK_TAGS:  # a paragraph or table inside a shape or text box: read after this one
                boxes.append([child])
            elif isinstance(tag, str) and tag not in _SKIP:
                parts.append(child.text or "")
                walk(child)
            parts.append(child.tail or "")

    walk(paragraph)
    return "".join(parts)
