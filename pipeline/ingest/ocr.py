"""Text of scanned pages: each page rendered by PDFium (pypdfium2) and read by Tesseract.

Tesseract runs once per page as a subprocess with one thread (OpenMP threads on a small machine make
it several times slower), two pages at a time, all within the OCR time limit of `Limits`. Blank pages
are skipped before Tesseract sees them, so a file of empty scans costs little. A page read with little
confidence, or wider than high, is checked for its orientation (Tesseract's `osd`, where installed) and read
again turned: a form fed to the scanner upside down or sideways.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from io import BytesIO
from pathlib import Path

from pipeline.config import Limits
from pipeline.errors import ingest_error, message
from pipeline.ingest.tools import Tools, run_bounded, tool_version
from pipeline.records import IngestError
from pipeline.registry import loader

OCR_DPI = Limits().ocr_dpi  # the default; a run's resolution is `Limits.ocr_dpi`
WANTED_LANGUAGES = ("fra", "eng")  # the template's two languages; others are left out to keep OCR fast
_MAX_PIXELS = 40_000_000  # a page larger than A0 is rendered below OCR_DPI rather than filling memory
_INK_LEVEL = 128  # grey levels below this count as ink
_BLANK_INK_SHARE = 0.0005  # a page with less ink than this (dust, a punch hole) is blank
_COLUMN_GAP = 2.5  # a gap wider than this many line heights separates table columns, not words
_SPECK = 0.25  # a mark smaller than this share of the page's text height, both ways, is dust (a colon is twice that)
_RULE_AT_EDGE = re.compile(r"^[_|¦]*[|¦]|[|¦][_|¦]*$")  # a table's rule read as a word or touching one: "_|", "|Cork"
_SEMICOLON_LABEL = re.compile(r"([A-ZÀ-Ý][\w'’/-]*(?: [\w'’/-]+){0,3});(?= )")  # "Process;", "Key references;"
_MARKS_ONLY = re.compile(r"[|¦_:;.,\s]+")  # a cell holding only these is what is left of a rule or of dust
# A cell of one or two short words that Tesseract reads with less confidence than this is noise of a coarse scan
# (a cell border, a shadow: "ei", "i.", "RE Nr" between a label and its value on a 100-dpi page); a real short
# value ("Oslo", "2023", "N/A") reads at 80 or more.
_NOISE_CONFIDENCE = 60.0
_NOISE_CELL_LENGTH = 3  # longest word of a cell of noise
_NOISE_EDGE_LENGTH = 2  # longest word of noise at a cell's edge ("One" of a title, read at 26, stays)
# A cell after the first of its line read with a mean confidence below this is a stamp or a smudge ("ecr far:"
# beside a date); the first cell, where a label stands, stays however badly it reads.
_SMUDGE_CONFIDENCE = 40.0
# A page read with less mean confidence than this is checked for its orientation (upright print reads at 90 or
# more, a page turned sideways or upside down at about 40)
_LOW_CONFIDENCE = 70.0


@loader("tesseract_installed_languages")
def _installed_languages(tesseract: str) -> frozenset[str]:
    """The language data Tesseract has here (and 'osd', its orientation check, when installed)."""
    try:
        done = run_bounded([tesseract, "--list-langs"], timeout=30, what=message("listing_tesseract_languages"))
    except (OSError, IngestError):
        return frozenset()
    return frozenset(line.strip() for line in (done.stdout + done.stderr).decode("utf-8", "replace").splitlines())


def tesseract_languages(tesseract: str) -> tuple[str, ...]:
    """The wanted languages whose data is installed, in WANTED_LANGUAGES order."""
    installed = _installed_languages(tesseract)
    return tuple(lang for lang in WANTED_LANGUAGES if lang in installed)


def mean_confidence(tsv: str) -> float | None:
    """Tesseract's mean confidence (0-100) in the words of a page's word table; None without a word. An upright
    page of print reads at 90 or more, a page turned sideways or upside down at about 40."""
    found = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) >= 12 and cols[0] == "5" and cols[11].strip():
            try:
                confidence = float(cols[10])
            except ValueError:
                continue
            if confidence >= 0:
                found.append(confidence)
    return sum(found) / len(found) if found else None


def rotation_from_osd(osd: str) -> int:
    """The clockwise turn (90, 180 or 270 degrees) Tesseract's orientation check asks for; 0 when none."""
    found = re.search(r"^Rotate:\s*(\d+)", osd, re.M)
    turn = int(found.group(1)) % 360 if found else 0
    return turn if turn in (90, 180, 270) else 0


def _landscape(image: bytes) -> bool:
    """Whether a rendered page (PPM) is wider than high: a portrait form scanned a quarter turned."""
    from PIL import Image

    width, height = Image.open(BytesIO(image)).size
    return width > height


def _turned(image: bytes, clockwise: int) -> bytes:
    from PIL import Image

    turned = Image.open(BytesIO(image)).rotate(-clockwise, expand=True)
    buffer = BytesIO()
    turned.save(buffer, format="PPM")
    return buffer.getvalue()


def ocr_unavailable(tools: Tools) -> str | None:
    """Why scans cannot be read by OCR here, as a sentence that says what to install; None when they can."""
    if not tools.tesseract:
        return message("tesseract_missing", install=message("install_tesseract"))
    if not tesseract_languages(tools.tesseract):
        return message("tesseract_no_languages", install=message("install_tesseract"))
    try:
        import pypdfium2  # noqa: F401
    except ImportError:
        return message("pypdfium2_missing")
    return None


def ocr_info(tools: Tools | None = None, limits: Limits | None = None) -> dict:
    """How scanned pages are read on this machine, for the run's manifest."""
    tools = tools or Tools.find()
    limits = limits or Limits()
    missing = ocr_unavailable(tools)
    if missing:
        return {"engine": None, "languages": [], "unavailable": missing}
    version = tool_version([tools.tesseract, "--version"]) or ""
    return {
        "engine": "tesseract",
        "version": version.removeprefix("tesseract").strip(),
        "languages": list(tesseract_languages(tools.tesseract)),
        "orientation_check": "osd" in _installed_languages(tools.tesseract),  # pages scanned turned are read upright
        "dpi": limits.ocr_dpi,
        "workers": limits.ocr_workers,
        "renderer": f"pypdfium2 {metadata.version('pypdfium2')}",
    }


def ocr_pages(path: Path, pages: list[int], limits: Limits, tesseract: str) -> dict[int, str]:
    """Recognised text of the given pages (0-based) of a PDF; blank pages give ""."""
    import pypdfium2

    deadline = time.monotonic() + limits.max_ocr_seconds
    langs = "+".join(tesseract_languages(tesseract))
    installed = _installed_languages(tesseract)
    lock = threading.Lock()  # PDFium is not thread-safe: one page is rendered at a time
    try:
        document = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as exc:
        raise ingest_error("ocr_unrenderable", error=exc) from exc

    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OMP_THREAD_LIMIT": "1", "LANG": "C.UTF-8"}

    def tesseract_run(index: int, image: bytes, *args: str, config: tuple[str, ...] = ("tsv",)) -> str:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _too_slow(limits)
        # the output config ("tsv") comes last: Tesseract reads every argument after it as another config
        cmd = [tesseract, "stdin", "stdout", *args, "--dpi", str(limits.ocr_dpi), *config]
        done = run_bounded(cmd, timeout=remaining, what=message("reading_scans"), env=env, stdin=image)
        if done.returncode != 0:
            raise ingest_error("ocr_failed", page=index + 1, detail=done.stderr.decode("utf-8", "replace").strip()[:200])
        return done.stdout.decode("utf-8", "replace")

    def read(index: int) -> str:
        with lock:
            image = _render(document, index, limits.ocr_dpi)
        if image is None:
            return ""
        tsv = tesseract_run(index, image, "-l", langs, "--psm", "3")
        confidence = mean_confidence(tsv)
        if confidence is not None and "osd" in installed and (confidence < _LOW_CONFIDENCE or _landscape(image)):
            # a page scanned sideways or upside down reads as nonsense (or, turned a quarter, as words out of
            # order): turned as Tesseract's orientation check says, it is read again; the turned reading is kept
            # unless it reads worse
            turn = rotation_from_osd(tesseract_run(index, image, "--psm", "0", config=()))
            if turn:
                again = tesseract_run(index, _turned(image, turn), "-l", langs, "--psm", "3")
                if (mean_confidence(again) or 0.0) >= min(confidence, _LOW_CONFIDENCE):
                    tsv = again
        return lines_from_tsv(tsv)

    try:
        with ThreadPoolExecutor(max_workers=max(1, limits.ocr_workers)) as pool:
            futures = {index: pool.submit(read, index) for index in pages}
            try:
                return {index: future.result() for index, future in futures.items()}
            except IngestError:
                for future in futures.values():
                    future.cancel()
                raise
    finally:
        document.close()


def lines_from_tsv(tsv: str) -> str:
    """Text lines from Tesseract's word table, cut where a wide gap separates two columns: a form's label
    cell and value cell side by side become a label line and a value line. A line that continues a
    value cell (it starts where that value started, in the same paragraph) is joined to the value. Table
    rules and specks of dust that Tesseract reads as "|", "_|", "." or ":" are left out, as is a cell of one or
    two short words read with low confidence."""
    found = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        left, width, height = int(cols[6]), int(cols[8]), int(cols[9])
        found.append(((cols[2], cols[3], cols[4]), left, width, height, float(cols[10]),
                      _RULE_AT_EDGE.sub("", cols[11].strip())))
    text_height = sorted(f[3] for f in found)[len(found) // 2] if found else 0
    lines: dict[tuple[str, str, str], list[tuple[int, int, int, str, float]]] = {}
    for key, left, width, height, confidence, text in found:
        # a speck is much smaller than the page's letters both ways, whatever Tesseract reads in it
        if text.strip("_") and max(width, height) >= _SPECK * text_height:
            lines.setdefault(key, []).append((left, width, height, text, confidence))
    out: list[list[list]] = []  # lines of segments [left, words]
    previous: tuple[str, str] | None = None
    for (block, par, _), words in lines.items():
        words.sort()
        height = sorted(h for _, _, h, _, _ in words)[len(words) // 2]
        cells = [[words[0]]]
        for before, word in zip(words, words[1:]):
            if word[0] - (before[0] + before[1]) > _COLUMN_GAP * height:
                cells.append([])
            cells[-1].append(word)
        segments = [[cell[0][0], [w[3] for w in cell]] for cell in _without_noise(cells)]
        segments = [s for s in segments if not _MARKS_ONLY.fullmatch(" ".join(s[1]))]
        if not segments:
            continue
        last = out[-1] if out else None
        if (last and previous == (block, par) and len(segments) == 1 and len(last) > 1
                and abs(segments[0][0] - last[-1][0]) < 1.5 * height):
            last[-1][1].extend(segments[0][1])
        else:
            out.append(segments)
        previous = (block, par)
    return "\n".join(_label_colon(" ".join(words)) if k == 0 else " ".join(words)
                     for segments in out for k, (_, words) in enumerate(segments))


def _label_colon(line: str) -> str:
    """A line opening with a capitalised label whose colon a coarse scan read as a semicolon ("Process; The
    desk opened…"), with its colon back: the segmenter still decides whether the words before it are a label."""
    match = _SEMICOLON_LABEL.match(line)
    return f"{match.group(1)}:{line[match.end():]}" if match else line


def _noisy(word: tuple[int, int, int, str, float], length: int) -> bool:
    return len(word[3]) <= length and word[4] < _NOISE_CONFIDENCE


def _without_noise(cells: list[list[tuple]]) -> list[list[tuple]]:
    """A line's cells (words left to right) without what a coarse scan's borders, shadows and stamps read as
    words (see _NOISE_CONFIDENCE): a cell of one or two such words, such a word at a cell's edge that faces
    another cell ("Implementation period: i." | "September 2021"), and a smudged cell after the first."""
    kept = []
    for k, cell in enumerate(cells):
        if len(cell) <= 2 and all(_noisy(w, _NOISE_CELL_LENGTH) for w in cell):
            continue
        start, end = 0, len(cell)
        while k > 0 and start < end - 1 and _noisy(cell[start], _NOISE_EDGE_LENGTH):
            start += 1
        while k < len(cells) - 1 and end > start + 1 and _noisy(cell[end - 1], _NOISE_EDGE_LENGTH):
            end -= 1
        if k > 0 and sum(w[4] for w in cell[start:end]) < _SMUDGE_CONFIDENCE * (end - start):
            continue
        kept.append(cell[start:end])
    return kept


def _render(document, index: int, dpi: int = OCR_DPI) -> bytes | None:
    """The page as a greyscale PGM image for Tesseract, or None when the page is blank."""
    page = document[index]
    try:
        width, height = page.get_size()
        scale = min(dpi / 72, math.sqrt(_MAX_PIXELS / max(width * height, 1.0)))
        image = page.render(scale=scale, grayscale=True).to_pil().convert("L")
    finally:
        page.close()
    ink = sum(image.histogram()[:_INK_LEVEL])
    if ink < _BLANK_INK_SHARE * image.width * image.height:
        return None
    buffer = BytesIO()
    image.save(buffer, format="PPM")  # uncompressed: encoding PNG would cost more than it saves
    return buffer.getvalue()


def _too_slow(limits: Limits) -> IngestError:
    return ingest_error("time_limit", what=message("reading_scans"), seconds=limits.max_ocr_seconds)
