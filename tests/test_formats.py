""".doc, .odt, .rtf and scanned PDFs: the samples give the fields of their Word sources, hostile files
end as error rows within the limits, and a missing tool gives the format's error code with a hint.

Samples and hostile files are built by tests/data/formats/build.py. Tests that need LibreOffice or
Tesseract skip, saying what to install, only where the tool is missing.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from docx_factory import cell, p, row, table, write_docx
from pipeline.config import Limits, Settings
from pipeline.ingest import CONVERTED_LIBREOFFICE, CONVERTED_TEXT_ONLY, OCR, Tools, formats_info, read_document
from pipeline.ingest import convert as convert_module
from pipeline.ingest.doc import doc_blocks, field_codes
from pipeline.ingest.ocr import lines_from_tsv, ocr_unavailable
from pipeline.normalize import fold
from pipeline.records import HEADER_FIELDS, SECTION_FIELDS, IngestError
from pipeline.run import InputFile, process_file, run_batch
from pipeline.segment import Segmenter

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "formats"
RAW = ROOT / "data" / "raw"
EXPECTED = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))
SAMPLES = EXPECTED["samples"]
CONVERTED = sorted(n for n, s in SAMPLES.items() if s["format"] != "pdf")
SCANNED = sorted(n for n, s in SAMPLES.items() if s["format"] == "pdf")
FIELDS = (*HEADER_FIELDS, *SECTION_FIELDS, "lang", "declared_areas", "period_start", "period_end", "ongoing", "description")

FOUND = Tools.find()
NO_TOOLS = Tools()
NO_OCR = ocr_unavailable(FOUND)
needs_libreoffice = pytest.mark.skipif(
    FOUND.soffice is None, reason="LibreOffice is not installed: apt-get install libreoffice-writer-nogui")
needs_ocr = pytest.mark.skipif(NO_OCR is not None, reason=NO_OCR or "")
# The pure-Python readers used where LibreOffice is missing (dependencies of the package).
PY_READERS = {".doc": "olefile", ".rtf": "striprtf"}


def _reader_missing(name: str) -> str | None:
    module = PY_READERS.get(Path(name).suffix)
    if module and importlib.util.find_spec(module) is None:
        return f"the {module} package is not installed: pip install {module}"
    return None


def _with_reader(names: list[str]) -> list:
    return [pytest.param(n, marks=pytest.mark.skipif(bool(_reader_missing(n)), reason=_reader_missing(n) or "")) for n in names]


def _practices(path: Path, tools: Tools, limits: Limits = Limits()):
    """Practices of one file with the file's reading warnings, as the batch run attaches them."""
    reading = read_document(path, limits, tools)
    practices = Segmenter().segment(reading.blocks, path.name, "0" * 64).practices
    for practice in practices:
        practice.warnings.extend(reading.warnings)
    return reading, practices


def _source_practices(name: str):
    return _practices(RAW / SAMPLES[name]["source"], NO_TOOLS)[1]


def _norm(text: str | None) -> str:
    return " ".join(fold(text or "").replace('"', "'").split())


def _assert_same_fields(got, want, label: str) -> None:
    assert len(got) == len(want), label
    for a, b in zip(got, want):
        for name in FIELDS:
            assert getattr(a, name) == getattr(b, name), (label, name)


def _assert_expected_from_sources(practices, name: str) -> None:
    """The fields the sample corpus expects of the source file (taken from data/sources)."""
    for practice, want in zip(practices, SAMPLES[name]["practices"], strict=True):
        for key in ("lang", "city", "declared_areas", "period_start", "period_end", "ongoing"):
            assert getattr(practice, key) == want[key], (name, key)
        assert _norm(practice.title) == _norm(want["title"])
        for section, start in want["sections"].items():
            got = getattr(practice, section)
            assert (got is None) if start is None else _norm(got).startswith(_norm(start)[:40]), (name, section)


# --- samples ---------------------------------------------------------------------------------------

def test_samples_cover_every_format():
    assert Counter(s["format"] for s in SAMPLES.values()) == {"doc": 3, "odt": 3, "rtf": 3, "pdf": 3}
    assert {p["lang"] for s in SAMPLES.values() for p in s["practices"]} == {"fr", "en"}


@needs_libreoffice
@pytest.mark.parametrize("name", CONVERTED)
def test_converted_sample_gives_the_fields_of_its_docx_source(name):
    reading, practices = _practices(DATA / name, FOUND)
    assert reading.warnings == (CONVERTED_LIBREOFFICE,)
    assert "LibreOffice" in reading.note
    _assert_same_fields(practices, _source_practices(name), name)
    _assert_expected_from_sources(practices, name)
    assert all(CONVERTED_LIBREOFFICE in p.warnings for p in practices)


@pytest.mark.parametrize("name", _with_reader(CONVERTED))
def test_without_libreoffice_the_text_only_reader_gives_the_same_fields(name):
    reading, practices = _practices(DATA / name, NO_TOOLS)
    assert reading.warnings == (CONVERTED_TEXT_ONLY,)
    assert "without LibreOffice" in reading.note
    _assert_same_fields(practices, _source_practices(name), name)
    _assert_expected_from_sources(practices, name)


def _words(text: str | None) -> Counter:
    return Counter(re.findall(r"\w+", fold(text or "")))


@needs_ocr
@pytest.mark.parametrize("name", SCANNED)
def test_scanned_sample_is_read_by_ocr(name):
    reading, practices = _practices(DATA / name, FOUND)
    (want,) = _source_practices(name)
    (got,) = practices
    assert OCR in got.warnings and reading.warnings == (OCR,)
    assert _norm(got.title) == _norm(want.title)
    assert got.city == want.city
    source_words = _words(want.description)
    recall = sum((source_words & _words(got.description)).values()) / sum(source_words.values())
    assert recall >= 0.95, f"{name}: {recall:.1%} of the description's words"


@pytest.mark.skipif(bool(_reader_missing("x.doc")), reason=_reader_missing("x.doc") or "")
def test_a_renamed_doc_is_read_for_what_it_is(tmp_path):
    renamed = tmp_path / "form.docx"
    shutil.copyfile(DATA / "oslo-p1-03.doc", renamed)
    reading, practices = _practices(renamed, NO_TOOLS)
    assert reading.warnings == (CONVERTED_TEXT_ONLY,) and practices[0].city == "Oslo"


# --- hostile files ---------------------------------------------------------------------------------

@pytest.fixture()
def no_converter_runs(monkeypatch):
    """Fail the test if LibreOffice is started: hostile files must be refused before it sees them."""
    def refuse(*args, **kwargs):
        raise AssertionError("LibreOffice was started on a file that should have been refused")

    monkeypatch.setattr(convert_module, "convert_and_read", refuse)


@pytest.mark.parametrize("name", _with_reader(sorted(EXPECTED["hostile"])))
def test_hostile_file_ends_as_its_error_row_quickly(name, no_converter_runs):
    started = time.perf_counter()
    result = process_file(InputFile(DATA / name, name), Settings(), Segmenter())
    assert (result.status, result.error_code) == ("error", EXPECTED["hostile"][name]), result.message
    assert len(result.message) > 30
    assert time.perf_counter() - started < 20, "hostile files are refused within the limits, fast"


def test_nothing_from_outside_the_files_enters_the_outputs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    hostile = {name: code for name, code in EXPECTED["hostile"].items() if not _reader_missing(name)}
    for name in hostile:
        shutil.copyfile(DATA / name, folder / name)
    run_batch([folder], tmp_path / "out", analyse=False)
    files = pd.read_parquet(tmp_path / "out" / "files.parquet").set_index("source_file")
    assert dict(files["error_code"]) == hostile
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else "\x00"
    assert hostname not in files.to_json() + pd.read_parquet(tmp_path / "out" / "practices.parquet").to_json()


@needs_libreoffice
def test_a_pdf_saved_from_the_word_form_gives_its_header_values_whole(tmp_path):
    """Values too long for their cell wrap in the PDF (LibreOffice's export, as a city saves it): each is read whole
    under its label, as from the Word file, and none of it starts the description."""
    header = {"City:": "Cork", "Department:": "Community, Culture and Placemaking Directorate, Cork City Council",
              "Contact person:": "Siobhán Murphy, Intercultural Officer, siobhan.murphy@example.ie, +353 21 492 0000",
              "Title:": "Conversation Cafés for newcomers in the branch libraries of Cork City",
              "Implementation period:": "September 2021 - ongoing"}
    body = (table(*(row(cell(p(label)), cell(p(value))) for label, value in header.items()))
            + p("Description of the good practice")
            + p("Purpose: Volunteers talk with adults who are learning English, one hour a week in each library.")
            + p("Impact: 1,140 learners from 52 countries took part between 2021 and 2023."))
    source = write_docx(tmp_path / "cork.docx", body)
    subprocess.run([FOUND.soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--norestore", "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=120)
    from pypdf import PdfReader

    page = PdfReader(tmp_path / "cork.pdf").pages[0].extract_text()
    assert "Council" not in next(line for line in page.splitlines() if line.startswith("Department"))  # it wrapped
    from_word, from_pdf = (Segmenter().segment(read_document(path).blocks, path.name, "0" * 64).practices
                           for path in (source, tmp_path / "cork.pdf"))
    assert len(from_pdf) == 1
    assert [(name, getattr(from_pdf[0], name)) for name in FIELDS] == [(name, getattr(from_word[0], name)) for name in FIELDS]
    assert from_pdf[0].description.startswith("Volunteers talk")


@needs_libreoffice
def test_libreoffice_does_not_follow_an_include_field_even_unchecked(tmp_path):
    """Defence in depth: a field pulling in another file keeps its stored text when converted."""
    secret = tmp_path / "secret.txt"
    secret.write_text("CANARY-4242", encoding="utf-8")
    rtf = tmp_path / "include.rtf"
    rtf.write_text("{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}\\pard City: Lyon\\par "
                   f'{{\\field{{\\*\\fldinst INCLUDETEXT "{secret}"}}{{\\fldrslt stored}}}}\\par}}', encoding="ascii")
    blocks = convert_module.convert_and_read(FOUND.soffice, rtf, Limits())
    text = " ".join(b.text for b in blocks)
    assert "stored" in text and "CANARY" not in text


@needs_libreoffice
def test_a_conversion_over_its_time_limit_is_stopped(tmp_path, monkeypatch):
    # a private temporary folder: other conversions running at the same time (test workers) leave theirs in /tmp
    monkeypatch.setattr(convert_module.tempfile, "tempdir", str(tmp_path))
    started = time.perf_counter()
    with pytest.raises(IngestError) as err:
        read_document(DATA / "oslo-p1-03.doc", Limits(max_convert_seconds=0.05), FOUND)
    assert err.value.code == "time_limit"
    assert time.perf_counter() - started < 5
    assert not list(tmp_path.glob("icc-convert-*/in")), "the work folder is removed"


@needs_ocr
def test_ocr_over_its_time_or_page_limit_is_stopped():
    started = time.perf_counter()
    with pytest.raises(IngestError) as err:
        read_document(DATA / SCANNED[0], Limits(max_ocr_seconds=0.3), FOUND)
    assert err.value.code == "time_limit" and time.perf_counter() - started < 5
    with pytest.raises(IngestError) as err:
        read_document(DATA / "blank-25.pdf", Limits(max_ocr_pages=5), FOUND)
    assert err.value.code == "too_many_pages" and "OCR" in err.value.message


# --- missing tools ---------------------------------------------------------------------------------

@pytest.fixture()
def nothing_installed(monkeypatch):
    """No LibreOffice or Tesseract on PATH and none of the pure-Python readers installed."""
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    monkeypatch.delenv("ICC_SOFFICE", raising=False)
    monkeypatch.delenv("ICC_TESSERACT", raising=False)
    for module in ("olefile", "striprtf", "striprtf.striprtf"):
        monkeypatch.setitem(sys.modules, module, None)


@pytest.mark.parametrize(("name", "code", "hint"), [
    ("strasbourg-p1-01.doc", "legacy_doc", "apt-get install libreoffice-writer-nogui"),
    ("paris-p2-01.rtf", "unsupported_format", "apt-get install libreoffice-writer-nogui"),
    (SCANNED[0], "pdf_no_text", "apt-get install tesseract-ocr tesseract-ocr-fra tesseract-ocr-eng"),
])
def test_a_missing_tool_gives_the_formats_error_code_and_what_to_install(name, code, hint, nothing_installed):
    result = process_file(InputFile(DATA / name, name), Settings(), Segmenter())
    assert (result.status, result.error_code) == ("error", code)
    assert hint in result.message


def test_odt_needs_no_outside_tool(nothing_installed):
    reading, practices = _practices(DATA / "geneve-p4-01.odt", Tools.find())
    assert reading.warnings == (CONVERTED_TEXT_ONLY,) and practices[0].city == "Genève"


def test_a_tool_can_be_turned_off_by_its_setting(monkeypatch):
    monkeypatch.setenv("ICC_SOFFICE", "")
    monkeypatch.setenv("ICC_TESSERACT", "/nowhere/tesseract")
    assert Tools.find() == Tools(None, None)


def test_formats_info_for_the_manifest():
    info = formats_info(NO_TOOLS)
    assert info["converter"]["engine"] is None and info["ocr"]["engine"] is None
    assert "tesseract-ocr-fra" in info["ocr"]["unavailable"]
    if NO_OCR is None:
        found = formats_info(FOUND)["ocr"]
        assert found["engine"] == "tesseract" and found["languages"] == ["fra", "eng"] and found["version"]
    if FOUND.soffice:
        assert formats_info(FOUND)["converter"]["version"].startswith(tuple("0123456789"))


# --- the pure-Python pieces ------------------------------------------------------------------------

def test_doc_text_gives_cells_rows_and_field_results():
    text = 'Intro\r\x13 INCLUDETEXT "x" \x14shown\x15 text\rCity:\x07Oslo\x07\x07Title:\x07Gardens\x07\x07After\r'
    blocks = doc_blocks(text)
    assert [(b.text, b.kind, b.row, b.col) for b in blocks] == [
        ("Intro", "paragraph", None, None), ("shown text", "paragraph", None, None),
        ("City:", "cell", 0, 0), ("Oslo", "cell", 0, 1), ("Title:", "cell", 1, 0), ("Gardens", "cell", 1, 1),
        ("After", "paragraph", None, None),
    ]
    assert field_codes(text) == ['INCLUDETEXT "x"']


def test_ocr_lines_split_label_and_value_columns():
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    words = [("City", 100, 40), ("Dublin", 900, 120), ("Purpose:", 100, 160), ("to", 280, 40), ("meet", 340, 80)]
    rows = [f"5\t1\t1\t1\t{1 if i < 2 else 2}\t{i}\t{left}\t0\t{width}\t40\t95\t{text}" for i, (text, left, width) in enumerate(words)]
    assert lines_from_tsv("\n".join([header, *rows])) == "City\nDublin\nPurpose: to meet"


def test_ocr_lines_leave_out_table_rules_and_specks_of_dust():
    """Dust between a label and its value, read as ".", "_|" or ":", is no cell of its own, and a rule touching a
    value is no part of it; a real colon, of a letter's height, stays."""
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    lines = [[("City:", 100, 98, 45), (".", 220, 3, 2), ("_|", 900, 2, 3), ("Swansea", 1270, 198, 37)],
             [("Title:", 100, 111, 54), (":", 1110, 2, 3), ("|Binômes", 1270, 192, 38), ("santé", 1480, 123, 38),
              (":", 1620, 6, 25), ("des", 1650, 78, 37)],
             [("Department:", 100, 285, 54), ("|", 900, 3, 3), ("Direction", 1270, 201, 37), ("et", 1490, 44, 34)],
             [(":", 100, 5, 2), ("environnementale", 1270, 415, 40)]]
    rows = [f"5\t1\t1\t1\t{n}\t{i}\t{left}\t0\t{width}\t{height}\t90\t{text}"
            for n, line in enumerate(lines) for i, (text, left, width, height) in enumerate(line)]
    assert lines_from_tsv("\n".join([header, *rows])) == (
        "City:\nSwansea\nTitle:\nBinômes santé : des\nDepartment:\nDirection et environnementale")


def test_ocr_lines_leave_out_what_a_coarse_scan_reads_in_borders_and_stamps():
    """On a 100-dpi scan a cell border read as "ei" stood between a label and its value and became the value,
    "i." ended the period's label line, a stamp beside the date read "ecr far:", and "Process;" hid a label.
    Short words read with confidence inside prose, a poorly read label and a real short value stay."""
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    lines = [[("Department:", 100, 240, 40, 95), ("ei", 620, 40, 60, 32), ("Community", 900, 200, 40, 94),
              ("Office", 1110, 120, 40, 95)],
             [("Implementation", 100, 280, 40, 82), ("period:", 395, 120, 40, 95), ("i.", 540, 25, 60, 57),
              ("September", 900, 180, 40, 97), ("2021", 1090, 80, 40, 92)],
             [("Date:", 100, 100, 40, 96), ("02/05/2023", 900, 190, 40, 96), ("ecr", 1700, 120, 45, 37),
              ("far:", 1830, 120, 40, 0)],
             [("Nicks", 100, 90, 40, 32), ("arca:", 200, 80, 40, 30), ("City", 900, 80, 40, 95), ("Oslo", 990, 80, 40, 95)],
             [("Process;", 100, 150, 40, 90), ("we", 260, 40, 40, 45), ("met", 310, 60, 40, 96)],
             [("Title:", 100, 100, 40, 90), ("in", 570, 15, 15, 24), ("One", 900, 70, 40, 26), ("Door", 980, 90, 40, 90)]]
    rows = [f"5\t1\t1\t1\t{n}\t{i}\t{left}\t0\t{width}\t{height}\t{conf}\t{text}"
            for n, line in enumerate(lines) for i, (text, left, width, height, conf) in enumerate(line)]
    assert lines_from_tsv("\n".join([header, *rows])) == (
        "Department:\nCommunity Office\nImplementation period:\nSeptember 2021\nDate:\n02/05/2023\n"
        "Nicks arca:\nCity Oslo\nProcess: we met\nTitle:\nOne Door")


@needs_ocr
def test_dust_on_a_scanned_form_leaves_its_header_values_beside_their_labels(tmp_path):
    """A speck in each label cell, on the text's line, was read as a value of its own ("|", ".", "_"): every field
    came out missing. The scan is read as the form was filled."""
    from fpdf import FPDF
    import pypdfium2
    from PIL import ImageDraw

    header = {"City:": "Swansea", "Department:": "Libraries and Cultural Services", "Contact person:": "Gareth Price",
              "Title:": "Welcome Walks", "Main objective:": "Help newly arrived refugees meet local residents."}
    pdf = FPDF(unit="pt")
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.set_xy(40, 40)
    for label, value in header.items():
        pdf.set_x(40)
        pdf.cell(230, 18, label, border=1)
        pdf.multi_cell(280, 18, value, border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(40, pdf.get_y() + 10)
    pdf.multi_cell(510, 18, "Description of the good practice\nPurpose: Newcomers and residents walk together.")
    pdf.output(str(tmp_path / "form.pdf"))
    document = pypdfium2.PdfDocument(str(tmp_path / "form.pdf"))
    scale = 200 / 72  # an office scanner's 200 dpi
    image = document[0].render(scale=scale, grayscale=True).to_pil().convert("L")
    document.close()
    for i in range(len(header)):  # a 2-pixel speck in each label cell, on the text's baseline
        x, y = (130 + 20 * i) * scale, (40 + 18 * i + 13) * scale
        ImageDraw.Draw(image).rectangle((x, y, x + 1, y + 1), fill=0)
    scan = tmp_path / "form-scan.pdf"
    image.save(scan, "PDF", resolution=200)
    (got,) = process_file(InputFile(scan, scan.name), Settings(), Segmenter()).practices
    assert [got.city, got.department, got.contact_person, got.title, got.main_objective] == list(header.values())
    assert OCR in got.warnings

def test_the_batch_says_how_a_file_was_read():
    result = process_file(InputFile(DATA / "oslo-p1-03.doc", "oslo-p1-03.doc"), Settings(), Segmenter())
    assert result.status == "ok"
    how = [w for w in result.practices[0].warnings if w.startswith("converted:")]
    assert how in (["converted:libreoffice"], ["converted:text-only"])
    assert ("without LibreOffice" in result.message) == (how == ["converted:text-only"])
    assert ".doc" in result.message


def test_the_orientation_check_reads_tesseracts_answers():
    from pipeline.ingest.ocr import mean_confidence, rotation_from_osd

    osd = "Page number: 0\nOrientation in degrees: 270\nRotate: 90\nOrientation confidence: 19.37\nScript: Latin\n"
    assert rotation_from_osd(osd) == 90 and rotation_from_osd("Rotate: 0\n") == 0 and rotation_from_osd("") == 0
    head = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [f"5\t1\t1\t1\t1\t{k}\t0\t0\t10\t10\t{conf}\t{word}" for k, (conf, word) in enumerate(
        [(96.0, "City:"), (40.0, "Oslo"), (-1, "")], start=1)]
    assert mean_confidence("\n".join([head, *rows])) == 68.0 and mean_confidence(head) is None


@needs_ocr
@pytest.mark.parametrize("turn", [90, 180])
def test_a_page_scanned_upside_down_or_sideways_is_read_upright(tmp_path, turn):
    """A form fed to the scanner upside down, or a portrait page scanned sideways, read as nonsense ("ANOSÀ
    ,eHOJNEI"): Tesseract's orientation check turns it, and its fields and parts are read as on an upright page."""
    from fpdf import FPDF
    import pypdfium2

    header = {"City:": "Lausanne", "Title:": "Shared gardens in the neighbourhoods",
              "Main objective:": "Bring residents of many origins together around gardens they tend in common."}
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    for label, value in header.items():
        pdf.multi_cell(0, 8, f"{label} {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 8, "Impact: Six gardens are tended by 140 households, and two associations now run their own "
                         "garden without the city's help.", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "form.pdf"))
    document = pypdfium2.PdfDocument(str(tmp_path / "form.pdf"))
    image = document[0].render(scale=200 / 72, grayscale=True).to_pil().convert("L").rotate(turn, expand=True)
    document.close()
    scan = tmp_path / "form-scan.pdf"
    image.save(scan, "PDF", resolution=200)
    (got,) = process_file(InputFile(scan, scan.name), Settings(), Segmenter()).practices
    assert [got.city, got.title, got.main_objective] == list(header.values())
    assert got.impact.startswith("Six gardens are tended by 140 households")


FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@needs_ocr
@pytest.mark.skipif(not FONT.exists(), reason=f"no TrueType font at {FONT} to set the page in")
def test_a_text_layer_without_a_character_map_is_read_by_ocr(tmp_path):
    """A PDF whose font has no character map gives its text without accents ("D partement", "fran ais"): labels
    were missed and values misspelt. Where OCR can read the page, it reads it instead, and says so."""
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    pdf = FPDF()
    pdf.add_font("dejavu", fname=str(FONT))
    pdf.add_page()
    pdf.set_font("dejavu", size=13)
    for line in ("Ville : Sherbrooke", "Département : Service des loisirs", "Titre : Cours de français à l'école",
                 "Point de départ : Les mères participaient peu aux cours offerts en centre-ville."):
        pdf.multi_cell(0, 9, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "mapped.pdf"))
    writer = PdfWriter(clone_from=PdfReader(tmp_path / "mapped.pdf"))
    for font in writer.pages[0]["/Resources"]["/Font"].values():
        font.get_object().pop(NameObject("/ToUnicode"), None)
    path = tmp_path / "unmapped.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    from pipeline.ingest.pdf import _unmapped_fonts

    assert _unmapped_fonts(PdfReader(path).pages[0]) and not _unmapped_fonts(PdfReader(tmp_path / "mapped.pdf").pages[0])
    result = process_file(InputFile(path, path.name), Settings(), Segmenter())
    (got,) = result.practices
    assert (got.city, got.department) == ("Sherbrooke", "Service des loisirs")
    assert got.title == "Cours de français à l'école" and got.starting_point.startswith("Les mères participaient")
    assert OCR in got.warnings and "OCR" in result.message


@needs_libreoffice
def test_an_opendocument_or_word97_file_under_review_says_so_as_a_word_file_does(tmp_path):
    """Comments and changes not accepted survive the conversion: the .odt and .doc say the form may be a draft."""
    from docx_factory import write_docx_under_review

    source = write_docx_under_review(tmp_path / "ghent.docx", ["City: Ghent"],
                                     "Purpose: Volunteers meet newcomers every week to practise Dutch. ",
                                     "Check the figures before sending", "Forty pairs met in 2023.")
    for target in ("odt", "doc"):
        subprocess.run([FOUND.soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                        "--norestore", "--convert-to", target, "--outdir", str(tmp_path), str(source)],
                       check=True, capture_output=True, timeout=120)
        reading = read_document(tmp_path / f"ghent.{target}", tools=FOUND)
        assert {"review_comments:1", "tracked_changes"} <= set(reading.warnings), (target, reading.warnings)
        assert "Forty pairs met in 2023." in " ".join(b.text for b in reading.blocks)
