"""PDF reader: the text layer, page by page; pages without one (scans) are read by OCR where Tesseract
is installed."""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path

from pipeline.config import LABELS_FILE, Limits, load_yaml
from pipeline.errors import cause, ingest_error, message
from pipeline.ingest.ocr import ocr_pages, ocr_unavailable
from pipeline.ingest.reading import OCR, UNREAD_SCANS, Reading
from pipeline.ingest.tools import Tools
from pipeline.normalize import clean_text, fold, unwrap_lines
from pipeline.records import Block, IngestError
from pipeline.registry import loader

logging.getLogger("pypdf").setLevel(logging.ERROR)

# A page whose text layer holds fewer letters than this is a scan (at most a stamped page number).
_MIN_LAYER_LETTERS = 20
# Running headers and footers are looked for among the first and last lines of each page.
_EDGE_LINES = 2
# Up to three digits: a year alone on a line ("2023") is a form's value, not a page number.
_PAGE_NUMBER = re.compile(r"^(?:page|p\.|seite)?\s*\d{1,3}\s*(?:(?:/|of|sur|de|von)\s*\d{1,3})?$|^[-–]\s*\d{1,3}\s*[-–]$", re.I)
# A footer naming its page after a dash or a bar ("Botkyrka kommun — Page 1 of 2", "Ville de Lausanne | page 1"),
# or "Page 1" alone: at a page's edge, on a document of one page too.
# ("sut" for "sur": a scan's reading)
_NAMED_PAGE = re.compile(r"(?:^|[-–—|·•]\s*)(?:page|seite)\s*\d{1,3}\s*(?:(?:/|[^\W\d_]{2,3})\W*\d{1,3})?\s*$",
                         re.I)
# A value cell of a label | value table wrapped over several lines: each line after the first starts within
# _CELL_EDGE points of where the value starts beside its label, nothing stands left of it, and it sits at most
# _CELL_LINE_GAP font sizes below the line above (the next row's label, at the left, ends the cell).
_CELL_EDGE = 1.5
_CELL_LINE_GAP = 2.0
# The label beside the value: a few words with letters, not a list's bullet or number with its text beside it.
_LABEL_MAX_WORDS = 12

# A cell's line that ends in a word and a hyphen was wrapped there: "Anti-" / "Rumour team", "2022-" / "2026".
_WRAPPED_AT_HYPHEN = re.compile(r"[^\W_]-$")

# A page's text: each entry one line, or the lines of one table cell, kept together so the cell stays one block.
PageLines = list[tuple[str, ...]]


def read_pdf(path: Path, limits: Limits = Limits(), tools: Tools = Tools()) -> Reading:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path), strict=False)
        # a PDF restricted only for printing or editing opens with an empty password, as in any viewer
        if reader.is_encrypted and not _opens_without_password(reader):
            raise ingest_error("pdf_protected")
        if len(reader.pages) > limits.max_pdf_pages:
            raise ingest_error("pdf_too_many_pages", n=len(reader.pages), limit=limits.max_pdf_pages)
        pages = [_page_lines(page) for page in reader.pages]
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError, AssertionError) as exc:
        raise ingest_error("pdf_damaged", cause=cause(exc)) from exc
    scanned = [i for i, page in enumerate(pages)
               if sum(ch.isalpha() for entry in page for line in entry for ch in line) < _MIN_LAYER_LETTERS]
    warnings: tuple[str, ...] = ()
    note = ""
    # a text layer set in a font without a character map loses its accented letters ("fran ais", "D partement"):
    # where OCR can read the page, it reads it instead
    unmapped = [i for i, page in enumerate(reader.pages) if i not in scanned and _unmapped_fonts(page)]
    if unmapped and ocr_unavailable(tools) is None and len(scanned) + len(unmapped) <= limits.max_ocr_pages:
        for index, text in ocr_pages(path, unmapped, limits, tools.tesseract).items():
            if text.strip():
                pages[index] = [(line,) for line in text.split("\n")]
        warnings, note = (OCR,), message("unmapped_read", n=len(unmapped))
    if scanned:
        missing = ocr_unavailable(tools)
        if missing is None:
            if len(scanned) > limits.max_ocr_pages:
                raise ingest_error("pdf_too_many_scans", n=len(scanned), limit=limits.max_ocr_pages)
            for index, text in ocr_pages(path, scanned, limits, tools.tesseract).items():
                # Keep a short text layer (a page number) only where OCR found nothing better.
                pages[index] = [(line,) for line in text.split("\n")] if text.strip() else pages[index]
            note = "; ".join(filter(None, [note, message("scans_read", n=len(scanned))]))
            warnings = (OCR,)
        elif len(scanned) < len(pages):
            warnings, note = (UNREAD_SCANS,), message("scans_not_read", n=len(scanned), missing=missing)
    texts: list[str] = []
    loose: list[str] = []  # lines outside a value cell, re-joined where a sentence wraps
    for entry in (entry for page in without_running_lines(pages) for entry in page):
        if len(entry) == 1:
            loose += filter(None, [clean_text(entry[0])])
            continue
        texts += unwrap_lines(loose)
        loose = []
        # one block, a line each: a header value takes the lines of its block, a section keeps them as lines
        texts.append("\n".join(_cell_lines(filter(None, (clean_text(x) for x in entry)))))
    texts += unwrap_lines(loose)
    texts = _without_wrap_hyphens(texts)
    blocks = [Block(t, "line", i) for i, t in enumerate(filter(None, texts))]
    if not blocks:
        if scanned and ocr_unavailable(tools) is None:
            raise ingest_error("pdf_blank_scans")
        if scanned:
            raise ingest_error("pdf_no_text_layer_no_ocr", missing=ocr_unavailable(tools))
        raise ingest_error("pdf_no_text_layer")
    return Reading(blocks, warnings, note)


# a word cut at a hyphen, not a compound of three parts or inclusive writing (« intervenant-e-s »)
_HYPHENATED = re.compile(r"(?<![-\w])([^\W\d_]{2,})-([^\W\d_A-ZÀ-Ý][^\W\d_]{2,})(?![-\w])")


def _without_wrap_hyphens(texts: list[str]) -> list[str]:
    """The texts with the hyphens a justified layout put at line ends taken out where the document writes the word
    whole elsewhere ("in-terculturels" where "interculturels" is in the title, "Mont-réal"); a hyphen the document
    keeps ("self-government" written so elsewhere, or nowhere whole) stays."""
    words = Counter(fold(w) for text in texts for w in re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", text))

    def join(match: re.Match) -> str:
        whole = match.group(1) + match.group(2)
        if words[fold(whole)] and not words[fold(match.group(0))] > 1:
            return whole
        return match.group(0)

    return [_HYPHENATED.sub(join, text) for text in texts]


def _unmapped_fonts(page) -> bool:
    """Whether the page sets text in a subset TrueType or composite font with neither a character map (ToUnicode)
    nor a standard encoding: its text layer gives the glyphs the font numbers its own way, accents lost."""
    try:
        fonts = page["/Resources"]["/Font"]
        for font in fonts.values():
            font = font.get_object()
            encoding = font.get("/Encoding")
            if ("/ToUnicode" not in font and font.get("/Subtype") in ("/TrueType", "/Type0")
                    and (encoding is None or str(encoding).startswith("/Identity"))):
                return True
    except (KeyError, TypeError, AttributeError):
        return False
    return False


def _cell_lines(lines) -> list[str]:
    """The lines of one value cell, re-joined where a sentence or a word was wrapped."""
    out: list[str] = []
    for line in unwrap_lines(lines):
        if out and _WRAPPED_AT_HYPHEN.search(out[-1]) and line[:1].isalnum():
            out[-1] += line
        else:
            out.append(line)
    return out


def _page_lines(page) -> PageLines:
    """The page's lines, the lines of one wrapped value cell together (`_value_cells`); on a fillable form, with
    the answers typed in its fields, which live in the field widgets and not in the page text. A form whose
    fields cannot be made out is read without them. Its footnotes are left out (`_without_footnotes`), as a Word file's
    are: between two pages they cut a sentence, and at the end they would read as the references."""
    located: list[tuple[float, float, float, str]] = []  # baseline, x, font size (0: not upright), text

    def visit(piece, cm, tm, font, size) -> None:
        if piece.strip():
            located.append(_placed(piece, cm, tm, size))

    text = page.extract_text(visitor_text=visit) or ""
    lines = _without_footnotes(text.split("\n"), located)
    try:
        fields = _filled_fields(page)
    except Exception:  # a damaged annotation: the page text alone, as before fillable forms were read
        fields = []
    if fields:
        # the answers join the lines after the page text is read: cells are not looked for on a fillable form
        pieces = [(y, x, t) for y, x, _, t in located]
        return [(line,) for line in _with_answers(lines, pieces, fields).split("\n")]
    return _value_cells(lines, located)


def _without_footnotes(lines: list[str], located: list[tuple[float, float, float, str]]) -> list[str]:
    """The page's lines without its footnotes ("1The intake sheet is available…") and their markers.

    A footnote's number is a piece of one or two digits in a smaller type than the page's text, below every line
    of that text; its note is the line that starts with it and goes on in that smaller type, below the text. In
    the text, the marker glued to the word it follows ("intake sheet1", "'buddy2'") is that number after a letter.
    """
    sizes = sorted(size for _, _, size, text in located if size > 0 for _ in range(len(text.strip())))
    if not sizes:
        return lines
    body = sizes[len(sizes) // 2]
    lowest_text = min((y for y, _, size, text in located if size >= 0.9 * body and len(text.strip()) > 3),
                      default=None)
    if lowest_text is None:
        return lines
    numbers = {text.strip() for y, _, size, text in located
               if re.fullmatch(r"\d{1,2}", text.strip()) and 0 < size < 0.85 * body and y < lowest_text}
    if not numbers:
        return lines
    note = re.compile(rf"^({'|'.join(sorted(numbers, key=len, reverse=True))})\s?(?=[^\W\d_])")
    marker = re.compile(rf"(?<=[^\W\d_])(?:{'|'.join(sorted(numbers, key=len, reverse=True))})(?!\d)")
    small = [_key(text)[:12] for y, _, size, text in located
             if y < lowest_text and 0 < size < 0.9 * body and len(text.strip()) > 3]
    kept = []
    for line in lines:
        found = note.match(line)
        if not (found and any(_key(line[found.end():]).startswith(start) for start in small)):
            kept.append(marker.sub("", line))
    return kept


def _placed(piece: str, cm, tm, size) -> tuple[float, float, float, str]:
    """Baseline, x and font size in page points of a piece of text; the size is 0 where it is not set upright."""
    y, x = tm[5] * cm[3] + tm[4] * cm[1] + cm[5], tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
    m = [tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3],
         tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3]]
    upright = m[0] > 0 and m[3] > 0 and abs(m[1]) <= 1e-3 * m[0] and abs(m[2]) <= 1e-3 * m[3]
    return y, x, abs(float(size)) * m[3] if upright else 0.0, piece


def _key(text: str) -> str:
    return "".join(text.split())


def _value_cells(lines: list[str], located: list[tuple[float, float, float, str]]) -> PageLines:
    """The page's lines, those of one value cell of a label | value table as one entry.

    A PDF keeps no cells, only placed text: a value too long for its cell goes on under it, and each line is read
    on its own, so its label would keep only the first. The lines under the value (same left edge, nothing left
    of it, close below) are its cell's. The page text's lines are matched to the placed pieces; where they cannot
    all be matched (text not set upright, a piece over two lines), the lines are kept as they are.
    """
    lines = [line for line in lines if line.strip()]
    as_read: PageLines = [(line,) for line in lines]
    if any(size <= 0 for _, _, size, _ in located):
        return as_read
    rows: list[list[tuple[float, float, float, str]]] = []
    pieces = iter(located)
    for line in lines:
        row, key = [], ""
        while len(key) < len(_key(line)):
            piece = next(pieces, None)
            if piece is None or "\n" in piece[3].strip():
                return as_read
            row.append(piece)
            key += _key(piece[3])
        if key != _key(line) or any(abs(y - row[0][0]) > 0.5 * size for y, _, size, _ in row):
            return as_read
        rows.append(sorted(row, key=lambda p: p[1]))
    if next(pieces, None) is not None:
        return as_read
    out: PageLines = []
    i = 0
    while i < len(rows):
        j = _cell_end(rows, i)
        out.append(tuple(lines[i:j]))
        i = j
    return out


def _cell_end(rows: list[list[tuple[float, float, float, str]]], i: int) -> int:
    """The index after the last line of the label | value row that starts at line i, i + 1 where none does.

    The value starts beside its label and goes on under itself; or, in a cell centred on its height, its lines
    (two at least) run from above the label's line to below it."""
    if i + 1 >= len(rows):
        return i + 1
    row, edge = rows[i], rows[i + 1][0][1]
    label = " ".join(p[3] for p in row if p[1] < edge - _CELL_EDGE)
    if sum(ch.isalpha() for ch in label) < 2 or len(label.split()) > _LABEL_MAX_WORDS:
        return i + 1
    beside = any(abs(p[1] - edge) <= _CELL_EDGE for p in row)
    if not beside and any(p[1] > edge for p in row):
        return i + 1
    j = i + 1 if beside else i + 2
    while j < len(rows) and _goes_on(rows[j - 1], rows[j], edge):
        j += 1
    if beside:
        return j
    y, size = row[0][0], max(p[2] for p in row)
    centred = rows[i + 1][0][0] + 0.5 * size >= y >= rows[j - 1][0][0] - 0.5 * size
    return j if j - i > 2 and centred else i + 1


def _goes_on(above: list, row: list, edge: float) -> bool:
    """Whether `row` is the next line of a cell whose text starts at `edge`, under the line `above`."""
    drop = above[0][0] - row[0][0]
    size = max(p[2] for p in above + row)
    return 0 < drop <= _CELL_LINE_GAP * size and abs(row[0][1] - edge) <= _CELL_EDGE


def _with_answers(lines: list[str], located: list[tuple[float, float, str]],
                  fields: list[tuple[float, float, float, str]]) -> str:
    """The page text with each typed answer on the line of the label left of its box, or after the nearest line
    above its box; the page text stays as read."""
    key = lambda line: "".join(line.split())  # noqa: E731  the same words, however spaced
    after: dict[int, list[str]] = {}  # line index -> answers on new lines after it
    for left, bottom, top, answer in sorted(fields, key=lambda f: (-f[2], f[0])):
        beside = [(y, x, t) for y, x, t in located if bottom - 1 <= y <= top + 1 and x < left]
        above = [(y, x, t) for y, x, t in located if y > top + 1]
        anchor = max(beside, key=lambda p: (p[0], p[1])) if beside else min(above, key=lambda p: (p[0], -p[1]), default=None)
        # a piece may end its line ("Ville :\n", as LibreOffice writes a label): its last line with words
        label = key(anchor[2].strip().split("\n")[-1]) if anchor else ""
        index = next((i for i, line in enumerate(lines) if label and key(line) == label),
                     next((i for i, line in enumerate(lines) if label and label in key(line)), None))
        answer = " ".join(answer.split())
        if index is None:
            after.setdefault(len(lines) - 1, []).append(answer)
        elif beside:
            lines[index] = f"{lines[index]} {answer}"
        else:
            after.setdefault(index, []).append(answer)
    out: list[str] = []
    for i, line in enumerate(lines):
        out += [line, *after.get(i, [])]
    return "\n".join(out)


def _filled_fields(page) -> list[tuple[float, float, float, str]]:
    """(left, bottom, top, answer) of each text or choice field of the page that holds an answer; a field's kind
    and answer may sit on a parent field."""
    out = []
    for annot in page.get("/Annots") or []:
        annot = annot.get_object()
        if not hasattr(annot, "get") or annot.get("/Subtype") != "/Widget" or "/Rect" not in annot:
            continue
        value, kind, node = None, None, annot
        for _ in range(10):  # up the parent chain, which is short
            value = node.get("/V") if value is None else value
            kind = node.get("/FT") if kind is None else kind
            parent = node.get("/Parent")
            if parent is None or (value is not None and kind is not None):
                break
            node = parent.get_object()
        if value is None or kind not in ("/Tx", "/Ch"):
            continue
        value = " ".join(map(str, value)) if isinstance(value, list) else str(value)
        if value.strip():
            x0, y0, x1, y1 = (float(v) for v in annot["/Rect"])
            out.append((min(x0, x1), min(y0, y1), max(y0, y1), value))
    return out


def _opens_without_password(reader) -> bool:
    from pypdf.errors import DependencyError, PdfReadError

    try:
        if not reader.decrypt(""):
            return False
        if len(reader.pages):
            reader.pages[0].extract_text()  # the cipher must be undone too, not only the password checked
        return True
    except (DependencyError, PdfReadError, NotImplementedError):  # a cipher pypdf cannot undo here
        return False


@loader("pdf_template_labels")
def _template_labels() -> frozenset[str]:
    """The template's field labels and headings (resources/labels.yaml), folded."""
    data = load_yaml(LABELS_FILE.read_text(encoding="utf-8"))
    groups = [*data["fields"].values(), *data["markers"].values()]
    return frozenset(fold(label).strip() for group in groups for label in group)


def _template_line(text: str) -> bool:
    """Whether a line is a label of the template, alone or with its value ("city: bergen")."""
    head = fold(text).split(":", 1)[0].strip(" .*#")
    return head in _template_labels()


def without_running_lines(pages: list[PageLines]) -> list[PageLines]:
    """Each page's lines without its running header and footer and its page number.

    A running line stands among the first or last lines of at least half of the pages (two at least) and is the
    same on each apart from its digits ("Page 2 of 5"); a page number stands alone at a page's edge, or after a
    footer's name and a dash ("Botkyrka kommun — Page 1 of 2"). A document of one page keeps all its lines but
    such a page line. The lines of a value cell count as one.
    """
    lines = [[entry for entry in page if "".join(entry).strip()] for page in pages]

    def key(entry: tuple[str, ...]) -> str:
        return re.sub(r"\d+", "#", " ".join(" ".join(entry).split()).lower())

    def edges(page: PageLines) -> set[int]:
        return set(range(min(_EDGE_LINES, len(page)))) | set(range(max(0, len(page) - _EDGE_LINES), len(page)))

    if len(lines) < 2:
        return [[line for i, line in enumerate(page) if i not in edges(page) or not _NAMED_PAGE.search(" ".join(line))]
                for page in lines]
    page_edges = [edges(page) for page in lines]
    seen = Counter(k for page, at in zip(lines, page_edges) for k in {key(page[i]) for i in at})
    # a form on each page opens each with the same lines ("Contact details", "City: Bergen"): the form's, not a header
    running = {k for k, n in seen.items() if n >= max(2, len(lines) / 2) and not _template_line(k)}
    return [[line for i, line in enumerate(page)
             if i not in at or not (key(line) in running or _PAGE_NUMBER.match(" ".join(line).strip())
                                    or _NAMED_PAGE.search(" ".join(line)))]
            for page, at in zip(lines, page_edges)]
