"""Word (.docx) reader: walks the body XML in document order.

Values in content controls (w:sdt), text boxes and nested tables are kept; vertically merged
cells are read once; tracked deletions are dropped and insertions kept. Ticked boxes (legacy form
fields, Wingdings symbols) become ☒/☐. An item of a bulleted or numbered list starts with the bullet
or number Word shows ("• ", "2. "), so it stays an item of its own. A short bold lead-in or a tab after a short label ("City⇥Oslo")
is put on its own line, so a label written without a colon is still seen as one. The package is
checked for size and entry count before anything is inflated.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

from lxml import etree

from pipeline.config import Limits
from pipeline.errors import cause, ingest_error
from pipeline.ingest.package import check_zip, read_part
from pipeline.ingest.reading import BlockCollector
from pipeline.normalize import fold, instruction_starts
from pipeline.records import Block, IngestError

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_w = lambda tag: f"{{{W}}}{tag}"  # noqa: E731

_TEXT_TAGS = {_w("t"): None, _w("tab"): "\t", _w("br"): "\n", _w("cr"): "\n", _w("noBreakHyphen"): "-"}
_SKIP = {_w("del"), _w("moveFrom"), _w("sdtPr"), _w("rPr"), _w("pPr"), _w("instrText"), _w("fldData")}
_CHECKED, _UNCHECKED = "\u2612", "\u2610"
# Box glyphs of the symbol fonts Word offers for tick lists (w:sym char codes, upper case).
_SYMBOL_BOXES = {
    "wingdings": {"F0FE": _CHECKED, "F0FD": _CHECKED, "F078": _CHECKED, "F0A8": _UNCHECKED, "F06F": _UNCHECKED},
    "wingdings 2": {"F052": _CHECKED, "F054": _CHECKED, "F051": _CHECKED, "F0A3": _UNCHECKED, "F02A": _UNCHECKED},
}
# A lead-in that reads as a label: a few words, no sentence punctuation at its end.
_LEAD_LABEL = re.compile(r"^[^\W\d_][^.!?;:,\n]{0,60}$")
_MAX_LEAD_WORDS = 6


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True)


def _check_package(zf: zipfile.ZipFile, limits: Limits) -> zipfile.ZipInfo:
    names = check_zip(zf, limits)
    if "word/document.xml" not in names:
        if any(n.startswith(("xl/", "ppt/")) for n in names):
            raise ingest_error("excel_or_powerpoint")
        raise ingest_error("zip_without_word")
    return names["word/document.xml"]


# Fewer letters than this beside a picture: the form is the picture (a scan pasted into Word).
_MIN_LETTERS = 20


def read_docx(path: Path, limits: Limits = Limits()) -> list[Block]:
    return read_docx_marked(path, limits)[0]


# Practice warnings of a Word file still under review: comments left in it, changes not accepted (its text is read
# as if they were: inserted text in, deleted text out).
REVIEW_COMMENTS = "review_comments"
TRACKED_CHANGES = "tracked_changes"


def read_docx_marked(path: Path, limits: Limits = Limits()) -> tuple[list[Block], tuple[str, ...]]:
    """The blocks of a Word file, and the warnings saying it is a draft under review (`review_comments:<n>`,
    `tracked_changes`)."""
    try:
        with zipfile.ZipFile(path) as zf:
            info = _check_package(zf, limits)
            if info.flag_bits & 0x1:
                raise ingest_error("docx_encrypted")
            xml = zf.read(info)
            lists = _Lists.read(zf, limits)
            links = _external_links(zf)
            comments = _comments(zf, limits)
    except IngestError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, OSError, NotImplementedError) as exc:
        raise ingest_error("docx_damaged", cause=cause(exc)) from exc
    if b"<!DOCTYPE" in xml[:4096] or b"<!ENTITY" in xml:
        raise ingest_error("docx_entities")
    try:
        root = etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError as exc:
        # libxml2 stops at 256 levels of elements: a form that deep is nested, not damaged.
        if "Excessive depth" in (exc.msg or ""):
            raise ingest_error("docx_too_deep") from exc
        raise ingest_error("docx_xml_damaged", error=exc.msg) from exc
    body = root.find(_w("body"))
    if body is None:
        raise ingest_error("docx_no_body")
    walker = _Walker(lists, links)
    walker.container(body)
    letters = sum(ch.isalpha() for block in walker.blocks for ch in block.text)
    if letters < _MIN_LETTERS and next(body.iter(_w("drawing"), _w("pict")), None) is not None:
        raise ingest_error("docx_pictures_only")
    marks = (f"{REVIEW_COMMENTS}:{comments}",) if comments else ()
    if next(body.iter(_w("ins"), _w("del"), _w("moveFrom"), _w("moveTo")), None) is not None:
        marks += (TRACKED_CHANGES,)
    return walker.blocks, marks


def _comments(zf: zipfile.ZipFile, limits: Limits) -> int:
    """How many comments the file holds (0 when its comments part cannot be read: they are no part of the form)."""
    try:
        data = read_part(zf, zf.getinfo("word/comments.xml"), limits.max_uncompressed_bytes)
        return sum(1 for _ in etree.fromstring(data, _parser()).iter(_w("comment")))
    except (KeyError, IngestError, etree.XMLSyntaxError, zipfile.BadZipFile, zlib.error, OSError, ValueError):
        return 0


# Style ids of a picture's or table's caption: Word's "Caption", « Légende » in a French Word ("Lgende")
_CAPTION_STYLES = ("caption", "legende", "lgende", "légende")


class _Lists:
    """Which paragraphs are list items, and the bullet or number each shows: from the paragraph's own numbering
    (w:numPr) or its style's (word/styles.xml), in the formats of word/numbering.xml."""

    def __init__(self, style_numbering: dict[str, tuple[str, str | None]] | None = None,
                 formats: dict[tuple[str, str], tuple[str, int]] | None = None):
        self.style_numbering = style_numbering or {}  # style id -> (numId, ilvl or None)
        self.formats = formats or {}  # (numId, ilvl) -> (numFmt, start)
        self.counters: dict[tuple[str, str], int] = {}

    @classmethod
    def read(cls, zf: zipfile.ZipFile, limits: Limits) -> "_Lists":
        """The lists of a package; a part that is missing or cannot be read leaves its items unmarked."""
        names = set(zf.namelist())

        def part(name: str):
            if name not in names:
                return None
            data = read_part(zf, zf.getinfo(name), limits.max_uncompressed_bytes)
            if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data:
                return None
            try:
                return etree.fromstring(data, _parser())
            except etree.XMLSyntaxError:
                return None

        styles, numbering = part("word/styles.xml"), part("word/numbering.xml")
        return cls(_style_numbering(styles) if styles is not None else None,
                   _numbering_formats(numbering) if numbering is not None else None)

    def marker(self, p) -> str:
        """'• ', '3. ', 'b) ' or '' for a paragraph (w:p)."""
        num = p.find(f"{_w('pPr')}/{_w('numPr')}")
        num_id = _val(num.find(_w("numId"))) if num is not None else None
        ilvl = _val(num.find(_w("ilvl"))) if num is not None else None
        if num_id is None:
            style = _val(p.find(f"{_w('pPr')}/{_w('pStyle')}"))
            num_id, style_ilvl = self.style_numbering.get(style or "", (None, None))
            ilvl = ilvl or style_ilvl
        if num_id is None or num_id == "0":
            return ""
        ilvl = ilvl or "0"
        fmt, start = self.formats.get((num_id, ilvl), ("bullet", 1))
        if fmt == "none":
            return ""
        if fmt == "bullet":
            return "\u2022 "
        # a new item restarts the numbering of the levels below it
        for key in [k for k in self.counters if k[0] == num_id and int(k[1]) > int(ilvl)]:
            del self.counters[key]
        n = self.counters[(num_id, ilvl)] = self.counters.get((num_id, ilvl), start - 1) + 1
        if fmt == "lowerLetter" and n <= 26:
            return f"{chr(ord('a') + n - 1)}) "
        return f"{n}. "  # other numberings (roman, ordinal words) shown as plain numbers


def _val(element) -> str | None:
    return element.get(_w("val")) if element is not None else None


def _style_numbering(styles) -> dict[str, tuple[str, str | None]]:
    """Style id -> the numbering its paragraphs take, through the styles it is based on."""
    own: dict[str, tuple[str | None, str | None]] = {}
    based_on: dict[str, str] = {}
    for style in styles.iter(_w("style")):
        sid = style.get(_w("styleId"))
        if not sid:
            continue
        num = style.find(f"{_w('pPr')}/{_w('numPr')}")
        if num is not None:
            own[sid] = (_val(num.find(_w("numId"))), _val(num.find(_w("ilvl"))))
        parent = _val(style.find(_w("basedOn")))
        if parent:
            based_on[sid] = parent
    out: dict[str, tuple[str, str | None]] = {}
    for sid in set(own) | set(based_on):
        seen, current = set(), sid
        while current and current not in own and current not in seen:
            seen.add(current)
            current = based_on.get(current)
        num_id, ilvl = own.get(current or "", (None, None))
        if num_id is not None:
            out[sid] = (num_id, ilvl)
    return out


def _numbering_formats(numbering) -> dict[tuple[str, str], tuple[str, int]]:
    """(numId, ilvl) -> (numFmt, start) of each list definition."""
    abstract: dict[str, dict[str, tuple[str, int]]] = {}
    for definition in numbering.iter(_w("abstractNum")):
        levels = {}
        for lvl in definition.iter(_w("lvl")):
            start = _val(lvl.find(_w("start")))
            levels[lvl.get(_w("ilvl"), "0")] = (_val(lvl.find(_w("numFmt"))) or "decimal",
                                                 int(start) if start and start.isdigit() else 1)
        abstract[definition.get(_w("abstractNumId"), "")] = levels
    out: dict[tuple[str, str], tuple[str, int]] = {}
    for num in numbering.iter(_w("num")):
        levels = abstract.get(_val(num.find(_w("abstractNumId"))) or "", {})
        for ilvl, fmt in levels.items():
            out[(num.get(_w("numId"), ""), ilvl)] = fmt
    return out


class _Walker(BlockCollector):

    def __init__(self, lists: _Lists | None = None, links: dict[str, str] | None = None) -> None:
        super().__init__()
        self.lists = lists or _Lists()
        self.links = links or {}

    def item_text(self, p, boxes: list) -> str:
        """A paragraph's text, after the bullet or number it shows when it is a list item."""
        text = _paragraph_text(p, boxes, self.links)
        return self.lists.marker(p) + text if text.strip() else text

    def container(self, element) -> None:
        """Paragraphs and tables of a body, cell, text box or content control, in order."""
        for child in element:
            if child.tag == _w("p"):
                self.paragraph(child)
            elif child.tag == _w("tbl"):
                self.table(child)
            elif child.tag == _w("sdt"):
                content = child.find(_w("sdtContent"))
                if content is not None and not _showing_placeholder(child):
                    self.container(content)
            elif child.tag in (_w("customXml"), _w("smartTag")) or child.tag == f"{{{MC}}}AlternateContent":
                self.container(_choice(child))

    def paragraph(self, p) -> None:
        style = p.find(f"{_w('pPr')}/{_w('pStyle')}")
        style_name = (style.get(_w("val")) or "") if style is not None else ""
        if style_name.lower().startswith(_CAPTION_STYLES):
            return  # a picture's caption ("Photo 1: the choir at the Milk Market") is no sentence of the form
        kind = "heading" if style_name.lower().startswith(("heading", "titre", "title")) else "paragraph"
        boxes: list = []
        # a numbered heading keeps its words alone: it may be read as a title
        self.add(_paragraph_text(p, boxes, self.links) if kind == "heading" else self.item_text(p, boxes), kind)
        for box in boxes:
            self.container(box)

    def table(self, tbl) -> None:
        self.n_tables += 1
        table_no = self.n_tables
        for r, tr in enumerate(_rows(tbl)):
            for c, tc in enumerate(_cells(tr)):
                merge = tc.find(f"{_w('tcPr')}/{_w('vMerge')}")
                if merge is not None and merge.get(_w("val")) in (None, "continue"):
                    continue  # continuation of a vertically merged cell: its text is in the first one
                texts, nested = [], []
                for child in _cell_items(tc):
                    if child.tag == _w("p"):
                        boxes: list = []
                        texts.append(self.item_text(child, boxes))
                        nested.extend(boxes)
                    else:
                        nested.append(child)
                self.add("\n".join(texts), "cell", table_no, r, c)
                for item in nested:
                    self.container([item] if item.tag == _w("tbl") else item)


def _cell_items(tc):
    """Paragraphs, nested tables and text boxes of a cell, looking through content controls."""
    for child in tc:
        if child.tag in (_w("p"), _w("tbl")):
            yield child
        elif child.tag == _w("sdt") and not _showing_placeholder(child):
            content = child.find(_w("sdtContent"))
            if content is not None:
                yield from _cell_items(content)


def _choice(element):
    """Content of an mc:AlternateContent (its first Choice) or a transparent wrapper."""
    if element.tag == f"{{{MC}}}AlternateContent":
        choice = element.find(f"{{{MC}}}Choice")
        return choice if choice is not None else element
    return element


def _showing_placeholder(sdt) -> bool:
    pr = sdt.find(_w("sdtPr"))
    return pr is not None and pr.find(_w("showingPlcHdr")) is not None


def _rows(tbl):
    for child in tbl:
        if child.tag == _w("tr"):
            yield child
        elif child.tag == _w("sdt"):
            content = child.find(_w("sdtContent"))
            if content is not None:
                yield from _rows(content)


def _cells(tr):
    for child in tr:
        if child.tag == _w("tc"):
            yield child
        elif child.tag == _w("sdt"):
            if _showing_placeholder(child):
                continue
            content = child.find(_w("sdtContent"))
            if content is not None:
                yield from _cells(content)


def _external_links(zf: zipfile.ZipFile) -> dict[str, str]:
    """Relationship id -> web address of the document's hyperlinks (word/_rels/document.xml.rels)."""
    try:
        rels = etree.fromstring(zf.read("word/_rels/document.xml.rels"), _parser())
    except (KeyError, etree.XMLSyntaxError):
        return {}
    return {rel.get("Id"): rel.get("Target") for rel in rels
            if (rel.get("Type") or "").endswith("/hyperlink") and rel.get("TargetMode") == "External"
            and (rel.get("Target") or "").lower().startswith(("http://", "https://", "www."))}


def _with_address(shown: str, address: str) -> str:
    """A link's words with its address after them when they do not show it ("programme page" -> "programme page
    (https://malmo.se/stepin)"): a reader of the references, and the criteria's count of links, need it."""
    bare = address.split("://", 1)[-1].removeprefix("www.").rstrip("/").lower()
    # words that are an address themselves (a link's own address, an e-mail address) need none after them
    if not shown.strip() or bare in shown.lower() or re.fullmatch(r"\s*\S+@\S+\s*|\s*(?:https?://|www\.)\S+\s*", shown):
        return shown
    stripped = shown.rstrip()
    return f"{stripped} ({address}){shown[len(stripped):]}"


def _paragraph_text(p, boxes: list, links: dict[str, str] | None = None) -> str:
    """Text of a paragraph; text boxes met inside it are collected in `boxes` to be read after it; a hyperlink's
    address (`links`: relationship id -> address) follows its words where they do not show it."""
    parts: list[str] = []
    runs: list[tuple[int, bool]] = []  # (index in parts, bold) of each run that shows text

    def walk(node):
        for child in node:
            tag = child.tag
            if tag == _w("hyperlink") and links and child.get(f"{{{_R}}}id") in links:
                start = len(parts)
                walk(child)
                shown = "".join(parts[start:])
                del parts[start:]
                parts.append(_with_address(shown, links[child.get(f"{{{_R}}}id")]))
                runs[:] = [(i, bold) for i, bold in runs if i <= start]  # the link's runs are one part now
                continue
            if tag == _w("fldChar"):
                box = _legacy_checkbox(child)
                if box:
                    parts.append(box + " ")
                continue
            if tag == _w("sym"):
                parts.append(_symbol_box(child))
                continue
            if tag in _SKIP or not isinstance(tag, str):
                continue
            if tag == _w("txbxContent"):
                boxes.append(child)
                continue
            if tag == f"{{{MC}}}Fallback":
                continue  # the Fallback repeats the Choice (text boxes in VML)
            if tag == _w("sdt"):
                if _showing_placeholder(child):
                    continue
                content = child.find(_w("sdtContent"))
                if content is not None:
                    walk(content)
                continue
            if tag in _TEXT_TAGS:
                parts.append(child.text or "" if _TEXT_TAGS[tag] is None else _TEXT_TAGS[tag])
                continue
            if tag == _w("r") and _run_has_text(child):
                runs.append((len(parts), _is_bold(child)))
                italic.append(_is_italic(child))
            walk(child)

    italic: list[bool] = []
    walk(p)
    text = "".join(parts)
    if italic and all(italic) and _is_guidance(text):
        return ""  # the template's guidance in italics above an answer ("Expliquez de manière claire…")
    # "City Oslo" with "City" in bold: the bold lead-in is a label written without a colon.
    if runs and runs[0][1]:
        cut = next((i for i, bold in runs if not bold), None)
        if cut is not None:
            head, rest = "".join(parts[:cut]), "".join(parts[cut:])
            # A lower-case continuation is a sentence with an emphasised first word, not a value.
            if _reads_as_label(head) and rest.strip() and not rest.strip()[0].islower():
                return f"{head.strip()}\n{rest.strip()}"
    head, tab, rest = text.strip().partition("\t")
    if tab and rest.strip() and _reads_as_label(head):
        return f"{head.strip()}\n{rest.strip()}"
    return text


def _reads_as_label(text: str) -> bool:
    text = text.strip()
    return bool(_LEAD_LABEL.match(text)) and len(text.split()) <= _MAX_LEAD_WORDS


def _is_italic(r) -> bool:
    return _run_property_on(r, "i")


_GUIDANCE_WORDS = 40  # guidance is a sentence or two; an italic testimony may be longer


def _is_guidance(text: str) -> bool:
    """Whether an italic paragraph reads as the template's guidance: it opens with an instruction's imperative
    ("Décrivez…", "Add links…") or asks a question ("Quels sont les principaux résultats ?"); a quoted testimony
    opens with its quotation mark."""
    imperative, _, question = instruction_starts()
    folded = fold(text).strip()
    if not folded or len(folded.split()) > _GUIDANCE_WORDS:
        return False
    return bool(imperative.match(folded) or (question.match(folded) and "?" in folded))


def _is_bold(r) -> bool:
    return _run_property_on(r, "b")


def _run_property_on(r, name: str) -> bool:
    """Whether a run's toggle property (w:b, w:i) is set: present, and not switched off by its value."""
    found = r.find(f"{_w('rPr')}/{_w(name)}")
    return found is not None and found.get(_w("val"), "true").lower() not in ("0", "false", "off")


def _run_has_text(r) -> bool:
    return any((t.text or "").strip() for t in r.iter(_w("t")))


def _legacy_checkbox(fld_char) -> str:
    """☒ or ☐ for a legacy check-box form field (FORMCHECKBOX), which shows no text of its own."""
    box = fld_char.find(f"{_w('ffData')}/{_w('checkBox')}")
    if box is None:
        return ""
    state = box.find(_w("checked"))
    if state is None:
        state = box.find(_w("default"))
    on = state is not None and state.get(_w("val"), "1").lower() not in ("0", "false", "off")
    return _CHECKED if on else _UNCHECKED


def _symbol_box(sym) -> str:
    font = (sym.get(_w("font")) or "").lower()
    char = (sym.get(_w("char")) or "").upper()
    if len(char) == 2:
        char = "F0" + char
    return _SYMBOL_BOXES.get(font, {}).get(char, "")
