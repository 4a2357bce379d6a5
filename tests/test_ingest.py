"""Readers: encodings, formats, and every kind of bad input becoming one clear error row."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from docx_factory import CONTENT_TYPES, RELS, cell, p, row, table, write_docx
from pipeline.config import Limits, Settings
from pipeline.ingest import read_blocks
from pipeline.normalize import fold
from pipeline.records import IngestError
from pipeline.run import InputFile, process_file, run_batch
from pipeline.segment import Segmenter

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
EXPECTED = json.loads((ROOT / "tests" / "data" / "expected_corpus.json").read_text(encoding="utf-8"))
FORM_TEXT = "Ville :\tMontréal\nTitre :\tCafés de quartier « ouverts »\nBut : Réunir des voisins d’origines différentes autour d’un café chaque samedi, à l’écoute des besoins.\n"


def _norm(text: str | None) -> str:
    return " ".join(fold(text or "").replace('"', "'").split())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_corpus_file_matches_expected_fields(name):
    expected = EXPECTED[name]
    result = process_file(InputFile(RAW / name, name), Settings(), Segmenter())
    assert result.status == expected["status"], result.message
    assert len(result.practices) == len(expected["practices"])
    for practice, want in zip(result.practices, expected["practices"]):
        for key in ("lang", "city", "declared_areas", "period_start", "period_end", "ongoing"):
            assert getattr(practice, key) == want[key], (key, want["id"])
        assert _norm(practice.title) == _norm(want["title"])
        if want["main_objective"]:
            assert _norm(practice.main_objective).startswith(_norm(want["main_objective"])[:40])
        for section, start in want["sections"].items():
            got = getattr(practice, section)
            if start is None:
                assert got is None, (section, want["id"])
            else:
                assert _norm(got).startswith(_norm(start)[:40]), (section, want["id"])


def test_sample_corpus_covers_the_issue_requirements():
    layouts = {v["layout"].split("-")[0] + ("-" + v["layout"].split("-")[1] if "-" in v["layout"] else "") for v in EXPECTED.values()}
    practices = [q for v in EXPECTED.values() for q in v["practices"]]
    assert len(practices) >= 48
    main_areas = pd.Series([q["declared_areas"][0] for q in practices]).value_counts()
    assert all(main_areas.get(str(code), 0) >= 3 for code in range(1, 17)), main_areas
    assert len({q["city"] for q in practices}) >= 16
    assert sum(q["lang"] == "fr" for q in practices) >= len(practices) / 3
    assert {"docx-table", "docx-sdt", "docx-paragraphs", "docx-two", "docx-preamble", "txt-utf", "md", "pdf"} <= layouts
    subareas = {c for q in practices for c in q["declared_areas"] if c[-1].isalpha()}
    assert {"3a", "3b", "3c", "7a", "7b", "7c", "9a", "14a", "14b", "14c"} <= subareas


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252", "latin-1", "mac_roman"])
def test_text_encodings_are_detected(tmp_path, encoding):
    text = FORM_TEXT.replace("’", "'").replace("«", '"').replace("»", '"') if encoding == "latin-1" else FORM_TEXT
    path = tmp_path / "form.txt"
    path.write_bytes(text.encode(encoding))
    result = process_file(InputFile(path, path.name), Settings(), Segmenter())
    (practice,) = result.practices
    assert practice.city == "Montréal"
    assert "voisins" in practice.purpose and "\ufffd" not in practice.purpose
    assert practice.purpose in text and practice.title in text  # every accent and quote as written


@pytest.mark.parametrize("text, encoding", [
    ("Intercultural Cities in Košice and Šibenik: the “welcome desk” opened in Žilina – a model for Prešov. "
     "The city’s App™, Café Lingua™ and Café™; 14‰, 12‰ and 3‰.", "cp1252"),
    ("Für die Straße und schöne Grüße aus München, für alle Familien der Straße.", "cp1252"),
    ("Für die Straße und schöne Grüße aus München, für alle Familien der Straße.", "mac_roman"),
    ("The city’s “welcome desk” doesn’t close – it’s open to all, and the council’s team isn’t far.", "mac_roman"),
], ids=["en-cp1252", "de-cp1252", "de-mac", "en-mac"])
def test_mac_roman_is_told_apart_from_a_western_code_page(text, encoding):
    from pipeline.ingest.text import decode_bytes

    assert decode_bytes(text.encode(encoding)) == text


def _docx_bytes(body: str = p("Ville : Lyon")) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        zf.writestr("word/document.xml", f'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>')
    return buf.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
XXE = (
    '<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY secret SYSTEM "file:///etc/hostname">]>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    "<w:p><w:r><w:t>Ville : &secret;</w:t></w:r></w:p></w:body></w:document>"
)
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    "<w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>"
)

BAD_INPUTS = {
    "empty.docx": (b"", "empty_file"),
    "random.docx": (os.urandom(3000), "corrupt_file"),
    "truncated.docx": (None, "corrupt_docx"),
    "protected.docx": (OLE, "encrypted_or_legacy_office"),
    "legacy.doc": (OLE, "legacy_doc"),
    "archive.docx": (_zip({"readme.txt": b"hello"}), "not_a_word_document"),
    "xxe.docx": (_zip({"word/document.xml": XXE.encode()}), "unsafe_xml"),
    "laughs.docx": (_zip({"word/document.xml": LAUGHS.encode()}), "unsafe_xml"),
    "bomb.docx": (_zip({"word/document.xml": b"<" + b"\x00" * 30_000_000}), "zip_bomb"),
    "junk.txt": (bytes(range(256)) * 40, "binary_content"),
    "notes.xyz": (b"some text", "unsupported_format"),
    "scan.pdf": (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "corrupt_pdf"),
    "tiny.txt": (b"Hello.", "no_content"),
    "deep.docx": ("deep", "too_deeply_nested"),
    "photo.docx": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(2000), "unsupported_format"),
}


@pytest.mark.parametrize("name", ["form.docx", "form.pdf", "form.odt"])
def test_a_form_typed_as_plain_text_under_a_word_name_is_read_with_a_warning(tmp_path, name):
    """A form saved from a text editor as 'form.docx' was refused as a damaged Word file: its text is read, and its
    practices say it was read as text."""
    from pipeline.ingest import read_document
    from pipeline.segment import segment

    path = tmp_path / name
    path.write_text("Ville : Liège\nTitre : Médiateurs de rue\n\nBut : Des médiateurs qui parlent les langues des "
                    "habitants parcourent le quartier chaque soir.\n", encoding="cp1252")
    reading = read_document(path)
    assert reading.warnings == (f"plain_text_named:{Path(name).suffix}",)
    (practice,) = segment(reading.blocks).practices
    assert (practice.city, practice.title) == ("Liège", "Médiateurs de rue")
    # Notepad's "Unicode" (UTF-16), and a web page saved as a Word file, read as their text
    path.write_text(path.read_text(encoding="cp1252"), encoding="utf-16")
    assert [p.city for p in segment(read_document(path).blocks).practices] == ["Liège"]
    page = tmp_path / "page.doc"
    page.write_text("<html><body><p>Ville : Liège</p><p>Titre : <b>Médiateurs</b> de rue</p><p>But : Des médiateurs "
                    "qui parlent les langues des habitants parcourent le quartier chaque soir.</p></body></html>",
                    encoding="utf-8")
    reading = read_document(page)
    (practice,) = segment(reading.blocks).practices
    assert (practice.city, practice.title) == ("Liège", "Médiateurs de rue") and "<" not in practice.purpose
    assert reading.warnings == ("plain_text_named:.doc",)
    binary = tmp_path / "binary.docx"
    binary.write_bytes(b"\x01\x02\x03" * 400)
    with pytest.raises(IngestError) as caught:
        read_document(binary)
    assert caught.value.code == "corrupt_file"


def test_an_archive_or_a_name_without_suffix_is_told_what_to_do(tmp_path):
    from pipeline.ingest import read_document

    archive = tmp_path / "forms.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("lyon.docx", b"not read")
    bare = tmp_path / "notes"
    bare.write_bytes(b"\x00\x01\x02 binary")
    messages = {}
    for path in (archive, bare):
        with pytest.raises(IngestError) as error:
            read_document(path)
        assert error.value.code == "unsupported_format"
        messages[path.name] = str(error.value)
    assert "unzip it" in messages["forms.zip"] and "no suffix" in messages["notes"] and "'" not in messages["notes"]


def test_a_docx_saved_with_a_password_is_told_to_remove_it_not_to_save_as_docx(tmp_path):
    """Word saves a .docx with a password as a compound file holding the encrypted package: the city is told to
    remove the password, not to save as .docx what already is one; other compound files keep the general message."""
    import importlib.util

    from pipeline.cli import _file_error_fr
    from pipeline.ingest import read_document

    spec = importlib.util.spec_from_file_location("formats_build", Path(__file__).parent / "data/formats/build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    protected = tmp_path / "rapport.docx"
    protected.write_bytes(build.write_compound_file({"EncryptionInfo": b"\x04\x00\x04\x00" + b"\x00" * 60,
                                                     "EncryptedPackage": os.urandom(2000)}))
    other = tmp_path / "other.docx"
    other.write_bytes(build.write_compound_file({"Workbook": b"\x00" * 100}))
    with pytest.raises(IngestError) as error:
        read_document(protected)
    assert error.value.code == "encrypted_or_legacy_office"
    assert "remove the password" in str(error.value) and ".docx" not in str(error.value)
    assert "retirez le mot de passe" in _file_error_fr(error.value.code, str(error.value))
    with pytest.raises(IngestError) as general:
        read_document(other)
    assert general.value.code == "encrypted_or_legacy_office" and "save it as .docx" in str(general.value)


def test_a_word_file_holding_only_a_pasted_scan_is_called_so(tmp_path):
    from docx import Document
    from PIL import Image

    from pipeline.ingest import read_document

    picture = tmp_path / "scan.png"
    Image.new("L", (200, 280), 255).save(picture)
    scan = Document()
    scan.add_picture(str(picture))
    scan.add_paragraph("p. 1")
    scan.save(tmp_path / "scan.docx")
    with pytest.raises(IngestError) as error:
        read_document(tmp_path / "scan.docx")
    assert error.value.code == "no_content" and "pictures" in str(error.value) and "OCR" in str(error.value)
    # a logo beside the form's text is no scan
    form = Document()
    form.add_picture(str(picture))
    form.add_paragraph("City: Lyon")
    form.add_paragraph("Title: Neighbourhood mediators in the eighth district")
    form.save(tmp_path / "form.docx")
    assert "Lyon" in " ".join(b.text for b in read_document(tmp_path / "form.docx").blocks)


def test_an_image_renamed_docx_is_called_an_image(tmp_path):
    from pipeline.ingest import read_document
    from pipeline.records import IngestError

    photo = tmp_path / "formulaire.docx"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(500))
    with pytest.raises(IngestError) as error:
        read_document(photo)
    assert error.value.code == "unsupported_format" and "PNG image" in str(error.value)


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_a_pdf_locked_only_for_printing_is_read_and_one_needing_a_password_is_not(tmp_path, algorithm):
    from pypdf import PdfReader, PdfWriter

    from pipeline.ingest import read_document

    source = RAW / "geneve-p4-08.pdf"
    expected = " ".join(b.text for b in read_document(source).blocks)

    def protected(name: str, user_password: str) -> Path:
        writer = PdfWriter()
        for page in PdfReader(source).pages:
            writer.add_page(page)
        writer.encrypt(user_password=user_password, owner_password="owner-secret", permissions_flag=0b0100,
                       algorithm=algorithm)
        path = tmp_path / name
        with path.open("wb") as fh:
            writer.write(fh)
        return path

    restricted = protected("restricted.pdf", "")
    assert PdfReader(restricted).is_encrypted
    assert " ".join(b.text for b in read_document(restricted).blocks) == expected
    with pytest.raises(IngestError) as error:
        read_document(protected("locked.pdf", "secret"))
    assert error.value.code == "encrypted_pdf"


def _fillable_form(path: Path, answers: dict[str, str], tall: set[str]) -> None:
    """A one-page PDF form: each label with a text field, right of it or (labels in `tall`) in a box below it."""
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, NumberObject, TextStringObject

    pdf, boxes, y = FPDF(unit="pt"), [], 40.0
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    for label in answers:
        pdf.set_xy(30, y)
        pdf.cell(150, 14, label)
        top = 842 - y  # PDF points from the bottom of an A4 page
        boxes.append((30, top - 70, 560, top - 16) if label in tall else (190, top - 16, 560, top + 2))
        y += 90 if label in tall else 26
    base = path.with_suffix(".base.pdf")
    pdf.output(str(base))
    writer = PdfWriter(clone_from=PdfReader(base))
    page, fields = writer.pages[0], ArrayObject()
    for i, box in enumerate(boxes):
        fields.append(writer._add_object(DictionaryObject({
            NameObject("/FT"): NameObject("/Tx"), NameObject("/T"): TextStringObject(f"field{i}"),
            NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Widget"),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in box]), NameObject("/F"): NumberObject(4),
            NameObject("/DA"): TextStringObject("/Helv 9 Tf 0 g"), NameObject("/P"): page.indirect_reference})))
    page[NameObject("/Annots")] = fields
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject({
        NameObject("/Fields"): fields, NameObject("/DA"): TextStringObject("/Helv 9 Tf 0 g")})
    writer.update_page_form_field_values(page, {f"field{i}": v for i, v in enumerate(answers.values())},
                                         auto_regenerate=False)
    with path.open("wb") as fh:
        writer.write(fh)


def test_answers_typed_in_the_fields_of_a_pdf_form_are_read(tmp_path):
    answers = {"City:": "Oslo", "Title:": "Homework cafes with volunteer students",
               "Main area of action:": "Education", "Implementation period:": "2021 - ongoing",
               "Purpose:": "The cafes give every pupil in Grorud a quiet place and a helper for homework.",
               "Impact:": "In two years 600 pupils took part; 70 percent of them passed the year."}
    path = tmp_path / "fillable.pdf"
    _fillable_form(path, answers, tall={"Purpose:", "Impact:"})
    result = process_file(InputFile(path, path.name), Settings(), Segmenter())
    assert result.status == "ok", result.message
    practice = result.practices[0]
    assert (practice.city, practice.title, practice.period_start) == ("Oslo", answers["Title:"], 2021)
    assert practice.purpose == answers["Purpose:"] and practice.impact == answers["Impact:"]


def _with_widget(source: Path, path: Path, rect: list[float], field: dict, parent: dict | None = None) -> None:
    """`source` with one form-field widget added to its first page (`field`: its own keys; `parent`: keys of a
    parent field it inherits from)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, TextStringObject

    def pdf_dict(keys: dict) -> DictionaryObject:
        return DictionaryObject({NameObject(k): (NameObject(v) if v.startswith("/") else TextStringObject(v))
                                 for k, v in keys.items()})

    writer = PdfWriter(clone_from=PdfReader(source))
    page = writer.pages[0]
    widget = pdf_dict({"/Type": "/Annot", "/Subtype": "/Widget", **field})
    widget[NameObject("/Rect")] = ArrayObject([FloatObject(v) for v in rect])
    if parent is not None:
        widget[NameObject("/Parent")] = writer._add_object(pdf_dict(parent))
    page[NameObject("/Annots")] = ArrayObject([writer._add_object(widget)])
    with path.open("wb") as fh:
        writer.write(fh)


def test_one_filled_field_adds_its_answer_and_leaves_the_page_text_as_it_was(tmp_path):
    from pipeline.ingest import read_document

    source = RAW / "geneve-p4-08.pdf"
    before = [b.text for b in read_document(source).blocks]
    answer = "Answer typed in a box at the foot of the page"
    for name, field, parent in (("own.pdf", {"/FT": "/Tx", "/T": "note", "/V": answer}, None),
                                ("inherited.pdf", {"/T": "note"}, {"/FT": "/Tx", "/T": "form", "/V": answer})):
        _with_widget(source, tmp_path / name, [300, 40, 560, 60], field, parent)
        after = [b.text for b in read_document(tmp_path / name).blocks]
        assert answer in " ".join(after), name
        assert len(after) >= len(before) and sum(a == b for a, b in zip(after, before)) >= len(before) - 2, name
    # a damaged annotation list reads as the page text alone
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, NameObject, NullObject

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.pages[0][NameObject("/Annots")] = ArrayObject([NullObject()])
    with (tmp_path / "damaged.pdf").open("wb") as fh:
        writer.write(fh)
    assert [b.text for b in read_document(tmp_path / "damaged.pdf").blocks] == before


# A header table as a PDF of the Word template gives it: values run over several lines of their cell. The
# cell's lines start at the value's left edge; one is a label's word alone, one goes on after a hyphen.
WRAPPED_HEADER = {
    "City:": "Limerick",
    "Department:": "Community Development Directorate,\nLimerick City and County Council",
    "Contact person:": "Aoife Ryan, Senior Executive Officer,\naoife.ryan@example.ie,\n+353 61 000 000",
    "Title:": "Welcome Ambassadors in Limerick\nCity",
    "Main objective:": "To give every newly arrived family a\nlocal volunteer for its first months.",
    "Implementation period:": "January 2022-\nDecember 2023",
}


def _wrapped_header_pdf(path: Path, v_align: str) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    with pdf.table(col_widths=(50, 90), first_row_as_headings=False, text_align="LEFT", v_align=v_align) as grid:
        for label, value in WRAPPED_HEADER.items():
            cells = grid.row()
            cells.cell(label)
            cells.cell(value)
    pdf.ln(6)
    pdf.multi_cell(0, 5, "Description of the good practice\nPurpose: Volunteers from the host community accompany "
                         "newly arrived families in their first three months.\nImpact: 212 families took part.")
    pdf.output(str(path))


@pytest.mark.parametrize("v_align", ["TOP", "MIDDLE"])
def test_a_pdf_value_wrapped_in_its_table_cell_stays_with_its_label(tmp_path, v_align):
    path = tmp_path / "wrapped.pdf"
    _wrapped_header_pdf(path, v_align)
    result = Segmenter().segment(read_blocks(path), path.name, "0" * 64)
    (practice,) = result.practices
    assert practice.city == "Limerick"
    assert practice.department == "Community Development Directorate, Limerick City and County Council"
    assert practice.contact_person == "Aoife Ryan, Senior Executive Officer, aoife.ryan@example.ie, +353 61 000 000"
    assert practice.title == "Welcome Ambassadors in Limerick City"
    assert practice.main_objective == "To give every newly arrived family a local volunteer for its first months."
    assert practice.period_text == "January 2022-December 2023"
    assert practice.description == ("Volunteers from the host community accompany newly arrived families in their "
                                    "first three months.\n212 families took part.")


@pytest.fixture()
def bad_folder(tmp_path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name, (data, _) in BAD_INPUTS.items():
        if data is None:
            data = _docx_bytes(p("Ville : Lyon") * 50)[:300]
        elif data == "deep":  # a table nested 3,000 levels deep
            inner = p("Titre : profond")
            for _ in range(3000):
                inner = table(row(cell(inner)))
            data = _docx_bytes(inner)
        (folder / name).write_bytes(data)
    return folder


def test_every_bad_input_becomes_one_error_row_and_the_batch_goes_on(bad_folder, tmp_path):
    good = write_docx(bad_folder / "good.docx", p("Ville : Lyon") + p("Titre : Jardins") + p("But : " + "mot " * 30))
    out = tmp_path / "out"
    run_batch([bad_folder], out, analyse=False)
    files = pd.read_parquet(out / "files.parquet").set_index("source_file")
    assert len(files) == len(BAD_INPUTS) + 1
    for name, (_, code) in BAD_INPUTS.items():
        assert files.loc[name, "status"] == "error", name
        assert files.loc[name, "error_code"] == code, (name, files.loc[name, "message"])
        assert len(files.loc[name, "message"]) > 20
    assert files.loc[good.name, "status"] == "ok"
    practices = pd.read_parquet(out / "practices.parquet")
    assert list(practices["city"]) == ["Lyon"]
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else "\x00"
    dump = practices.to_json() + files.to_json()
    assert hostname not in dump, "nothing from outside the file may enter the outputs"


def test_size_limits_are_checked_before_reading(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 5000)
    with pytest.raises(IngestError) as err:
        read_blocks(big, Limits(max_file_bytes=1000))
    assert err.value.code == "file_too_large"
    big.write_bytes(b"a" * (6 * 1024 * 1024))
    with pytest.raises(IngestError) as err:  # the message counts in the unit the limit is set in
        read_blocks(big, Limits(max_file_bytes=4 * 1024 * 1024))
    assert "6.0 MB; the limit is 4 MB" in str(err.value)
    ratio = tmp_path / "ratio.docx"
    ratio.write_bytes(_zip({"word/document.xml": b" " * 2_000_000}))
    with pytest.raises(IngestError) as err:
        read_blocks(ratio, Limits(max_compression_ratio=50))
    assert err.value.code == "zip_bomb"
    many = tmp_path / "many.docx"
    many.write_bytes(_zip({f"part{i}.xml": b"x" for i in range(30)} | {"word/document.xml": b"<a/>"}))
    with pytest.raises(IngestError) as err:
        read_blocks(many, Limits(max_zip_entries=10))
    assert err.value.code == "zip_bomb"


def test_duplicate_submission_is_counted_once(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    body = p("City: Oslo") + p("Title: Language cafés") + p("Purpose: " + "word " * 30)
    write_docx(folder / "a.docx", body)
    (folder / "b.docx").write_bytes((folder / "a.docx").read_bytes())
    batch = run_batch([folder], tmp_path / "out", analyse=False)
    assert [r.status for r in batch.files] == ["ok", "error"]
    assert batch.files[1].error_code == "duplicate_file"
    assert len(batch.practices) == 1


W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _item(text: str, num_id: str | None = None, style: str | None = None, ilvl: str = "0") -> str:
    props = (f'<w:pStyle w:val="{style}"/>' if style else "") + (
        f'<w:numPr><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>' if num_id else "")
    return f"<w:p><w:pPr>{props}</w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>"


def test_list_items_of_a_word_file_keep_their_bullet_or_number(tmp_path):
    # a bulleted list by style (as Word's "List Bullet"), a numbered list by its own numbering, a numbered heading
    styles = (f'<w:styles {W_NS}><w:style w:type="paragraph" w:styleId="ListBullet"><w:pPr><w:numPr>'
              '<w:numId w:val="1"/></w:numPr></w:pPr></w:style><w:style w:type="paragraph" w:styleId="Puces">'
              '<w:basedOn w:val="ListBullet"/></w:style></w:styles>')
    numbering = (f'<w:numbering {W_NS}><w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/>'
                 '</w:lvl></w:abstractNum><w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:start w:val="1"/>'
                 '<w:numFmt w:val="decimal"/></w:lvl><w:lvl w:ilvl="1"><w:numFmt w:val="lowerLetter"/></w:lvl>'
                 '</w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>'
                 '<w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num></w:numbering>')
    body = (p("Impact : 140 mères. Parmi elles :") + _item("87 % de mères", style="ListBullet")
            + _item("la participation a doublé", style="Puces") + _item("", style="ListBullet")
            + p("Processus :") + _item("Recruter", "2") + _item("en ligne", "2", ilvl="1") + _item("Former", "2")
            + _item("Évaluer", "0") + _item("Titre numéroté", "2", style="Heading1"))
    path = write_docx(tmp_path / "lists.docx", body,
                      extra_parts={"word/styles.xml": styles.encode(), "word/numbering.xml": numbering.encode()})
    assert [b.text for b in read_blocks(path)] == [
        "Impact : 140 mères. Parmi elles :", "• 87 % de mères", "• la participation a doublé", "Processus :",
        "1. Recruter", "a) en ligne", "2. Former", "Évaluer", "Titre numéroté"]
    # without the numbering part, an item shows a bullet
    plain = write_docx(tmp_path / "plain.docx", _item("Recruter", "3"))
    assert [b.text for b in read_blocks(plain)] == ["• Recruter"]


def test_list_items_of_an_opendocument_read_without_libreoffice_keep_a_bullet():
    from pipeline.ingest.odt import odt_blocks

    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"')
    items = "<text:list><text:list-item><text:p>Recruter</text:p></text:list-item>" \
            "<text:list-item><text:p>Former</text:p></text:list-item></text:list>"
    content = (f"<office:document-content {ns}><office:body><office:text><text:p>Processus :</text:p>{items}"
               f"<table:table><table:table-row><table:table-cell><text:p>Étapes :</text:p>{items}</table:table-cell>"
               "</table:table-row></table:table></office:text></office:body></office:document-content>")
    assert [b.text for b in odt_blocks(content.encode())] == [
        "Processus :", "• Recruter", "• Former", "Étapes :\n• Recruter\n• Former"]


def _practice_of_pdf_lines(path: Path, lines: tuple[str, ...]):
    """The one practice read from a PDF of `lines`, one per line, as a text layer gives them."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for line in lines:
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    (practice,) = Segmenter().segment(read_blocks(path), path.name, "0" * 64).practices
    return practice


def test_a_pdf_sentence_wrapped_after_a_word_no_sentence_ends_on_is_read_whole(tmp_path):
    """"reported in" / "2018 that…" and « au » / « Sproochentreff… » are one sentence each: the next line goes on
    whatever it starts with; a list item after such a line keeps its own line."""
    from pipeline.normalize import unwrap_lines

    practice = _practice_of_pdf_lines(tmp_path / "wrapped.pdf", (
        "City: Rotterdam", "Title: Neighbourhood mothers",
        "Purpose: The health service reported in", "2018 that one family in five missed its check-ups.",
        "Impact: Mothers from the Somali and", "Syrian communities now visit 300 families a year."))
    assert practice.purpose == "The health service reported in 2018 that one family in five missed its check-ups."
    assert practice.impact == "Mothers from the Somali and Syrian communities now visit 300 families a year."
    assert unwrap_lines(["The steps are set out in", "- a guide", "- a film"]) == [
        "The steps are set out in", "- a guide", "- a film"]


def test_a_line_ending_on_every_or_whom_or_followed_by_a_bracket_goes_on():
    """A PDF line broken after "every", "of whom" or « dont », or before a bracket, is one sentence with the next line;
    a line ending a sentence, and a list item, stay apart."""
    from pipeline.normalize import unwrap_lines

    assert unwrap_lines(["A walk of 90 minutes ran every", "Saturday, from a library."]) == [
        "A walk of 90 minutes ran every Saturday, from a library."]
    assert unwrap_lines(["812 people took part, of whom", "455 were newcomers."]) == [
        "812 people took part, of whom 455 were newcomers."]
    assert unwrap_lines(["4 200 consultations avec interprète", "(contre 310 en 2020) ont eu lieu."]) == [
        "4 200 consultations avec interprète (contre 310 en 2020) ont eu lieu."]
    assert unwrap_lines(["Les partenaires sont les suivants, dont", "- la Croix-Rouge"]) == [
        "Les partenaires sont les suivants, dont", "- la Croix-Rouge"]
    assert unwrap_lines(["It ended in 2023.", "(A second edition is planned.)"]) == [
        "It ended in 2023.", "(A second edition is planned.)"]


def test_a_count_after_a_long_line_of_prose_goes_on_but_not_after_a_heading_or_before_a_name():
    """"The 2020 reading test placed" / "62 pupils below their age level…" is one sentence (a PDF's wrap before the
    number); a heading before a count, a count before a funder's name in a budget table, and a numbered item keep
    their lines."""
    from pipeline.normalize import unwrap_lines

    assert unwrap_lines(["Teachers told us so. The 2020 reading test in both schools placed",
                         "62 pupils below their age level."]) == [
        "Teachers told us so. The 2020 reading test in both schools placed 62 pupils below their age level."]
    assert unwrap_lines(["Le dispositif a été ouvert dans trois quartiers de la ville et a accueilli",
                         "300 familles la première année."]) == [
        "Le dispositif a été ouvert dans trois quartiers de la ville et a accueilli 300 familles la première année."]
    assert unwrap_lines(["Participants", "62 pupils"]) == ["Participants", "62 pupils"]
    assert unwrap_lines(["Item Cost (GBP) Funded by Volunteer training and expenses", "4,800 Welsh Government"]) == [
        "Item Cost (GBP) Funded by Volunteer training and expenses", "4,800 Welsh Government"]
    assert unwrap_lines(["We ran the work in three steps over the two years of the project",
                         "1. recruit volunteers"]) == [
        "We ran the work in three steps over the two years of the project", "1. recruit volunteers"]


def test_a_line_ending_on_a_comma_goes_on_unless_the_next_opens_with_a_label():
    """"By the end of 2023," / "64 employers had signed." is one sentence; a scan that read a full stop as a comma
    before "Starting point: …" keeps the label on its line."""
    from pipeline.normalize import unwrap_lines

    assert unwrap_lines(["By the end of 2023,", "64 employers had signed."]) == ["By the end of 2023, 64 employers had signed."]
    assert unwrap_lines(["the city is glad they came,", "Starting point: Before 2021 a family…"]) == [
        "the city is glad they came,", "Starting point: Before 2021 a family…"]
    assert unwrap_lines(["Partners were,", "- the library"]) == ["Partners were,", "- the library"]


def test_ligatures_of_a_pdf_are_spelled_out():
    from pipeline.normalize import clean_text

    assert clean_text("Sports Inclusion Oﬃcer, conﬂict, oﬀers, ﬁrst") == "Sports Inclusion Officer, conflict, offers, first"
    # Word's Symbol-font bullet, kept by a PDF as a private-use character nothing shows
    assert clean_text("\uf0b7 make council services usable") == "• make council services usable"


def test_characters_no_page_or_sheet_can_show_are_left_out_and_a_run_of_signs_is_cut(tmp_path):
    """U+FFFE broke the workbook, a right-to-left override showed 'Title gnp.exe' reversed, and a line of
    thousands of '(' took the tokenizer minutes (one sign at a time, in time growing with its square)."""
    import time

    from pipeline.normalize import MAX_SIGN_RUN, clean_text
    from pipeline.segment import segment

    assert clean_text("Welcome walks \ufffe\uffff") == "Welcome walks"
    assert clean_text("Title \u202egnp.exe\u202c") == "Title gnp.exe"
    assert clean_text("x " + "(" * 100_000 + " y") == "x " + "(" * MAX_SIGN_RUN + " y"
    assert clean_text("Budget ---- 2023 … ok — voir « plus »") == "Budget ---- 2023 … ok — voir « plus »"
    path = tmp_path / "form.txt"
    path.write_text("City:\nLyon\nTitle of the practice:\nOdd text\nPurpose: " + "(" * 100_000 + "x" + ")" * 100_000
                    + "\n", encoding="utf-8")
    started = time.perf_counter()
    (practice,) = segment(read_blocks(path)).practices
    assert practice.purpose == "(" * MAX_SIGN_RUN + "x" + ")" * MAX_SIGN_RUN
    assert time.perf_counter() - started < 30  # minutes before; milliseconds now


def test_a_label_keeps_all_but_its_last_bracketed_note_as_before():
    """The note in brackets at a label's end ("Title (max. 15 words)") is read off from the end, as the regular
    expression it replaces did, whatever brackets come before it."""
    import random
    import re

    from pipeline.segment import _without_trailing_brackets

    before = re.compile(r"\s*[\(\[][^)\]]*[\)\]]\s*$")
    draw = random.Random(0)
    for _ in range(5000):
        text = "".join(draw.choice("ab ()[]") for _ in range(draw.randint(0, 12)))
        assert _without_trailing_brackets(text) == before.sub("", text), text


def test_a_footer_naming_its_page_is_left_out_of_a_one_page_pdf(tmp_path):
    """"Botkyrka kommun — Page 1 of 1" at the foot of a one-page PDF is no part of its references; a sentence that
    mentions a page stays."""
    practice = _practice_of_pdf_lines(tmp_path / "one-page.pdf", (
        "City: Botkyrka", "Title: Diversity charter", "Process: Employers sign the charter and train their staff.",
        "Key reference documents: Charter text, see the guide on page 3", "Botkyrka kommun - Page 1 of 1"))
    assert practice.references == "Charter text, see the guide on page 3"


def test_a_typed_answer_goes_beside_a_label_that_ends_its_line_in_the_page_text():
    """LibreOffice writes a label as a piece ending its line ("Ville :\\n"): the answer typed in the box right of it
    is that label's value, not a line added after the last line of the page."""
    from pipeline.ingest.pdf import _with_answers

    lines = ["Ville :", "Titre :", "But : Le budget participatif consacre une part du budget aux habitants."]
    located = [(741.6, 72.6, "Ville :\n"), (596.2, 72.6, "Titre :\n"), (399.2, 68.4, "But :")]
    fields = [(212.1, 730.9, 755.2, "Grenoble"), (212.1, 585.0, 609.8, "Budget participatif ouvert à tous")]
    assert _with_answers(lines, located, fields).split("\n") == [
        "Ville : Grenoble", "Titre : Budget participatif ouvert à tous", lines[2]]


def test_a_bracket_left_open_at_a_line_end_goes_on_with_the_next_line():
    """A header value wrapped inside its bracket ("7. Services publics (a." / "Santé, aide sociale…) ; 10. …") is one
    value, whatever the line ends with; a label on the next line still opens its own."""
    from pipeline.normalize import unwrap_lines

    assert unwrap_lines(["Principal domaine d’action : 7. Services publics (a.",
                         "Santé, aide sociale et aide aux familles) ; 10. Médiation interculturelle"]) == [
        "Principal domaine d’action : 7. Services publics (a. Santé, aide sociale et aide aux familles) ; "
        "10. Médiation interculturelle"]
    assert unwrap_lines(["Budget: €38,500 (Council plus", "Programme: Community Enhancement)"]) == [
        "Budget: €38,500 (Council plus", "Programme: Community Enhancement)"]


def test_footnotes_of_a_pdf_are_left_out_with_their_markers(tmp_path):
    """A Word or LibreOffice PDF sets its footnotes in small type at the foot of the page: read in place, a note cut
    the sentence running onto the next page, and its marker stuck to a word ("intake sheet1"). The notes are left out,
    as a Word file's are, and so are the markers; a figure in the text stays."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt")
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.set_xy(40, 40)
    pdf.cell(0, 16, "City: Limerick", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(40)
    pdf.cell(0, 16, "Title: One Door welcome desk", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(40)
    pdf.cell(pdf.get_string_width("Process: A shared intake sheet"), 16, "Process: A shared intake sheet")
    pdf.set_font("helvetica", size=7)
    pdf.cell(pdf.get_string_width("1"), 10, "1")
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 16, " was designed with 12 partners, and 41 buddies were trained in the first two",
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=8)
    pdf.set_xy(40, 760)
    pdf.cell(pdf.get_string_width("1"), 10, "1")
    pdf.cell(0, 10, "The intake sheet is available in English and Irish.")
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.set_xy(40, 40)
    pdf.cell(0, 16, "years. Impact: 3,000 newcomers were received.", new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "notes.pdf"
    pdf.output(str(path))
    (practice,) = Segmenter().segment(read_blocks(path), path.name, "0" * 64).practices
    assert practice.process == ("A shared intake sheet was designed with 12 partners, and 41 buddies were trained in "
                                "the first two years.")
    assert practice.impact.startswith("3,000 newcomers were received.")
    assert "intake sheet is available" not in practice.description


def test_a_pictures_caption_is_not_read_as_a_sentence_of_the_form(tmp_path):
    """"Photo 1: The choir at the Milk Market…" (Word's Caption style, « Légende » in French) under a picture in the
    process part was read as its last sentence."""
    body = (p("City: Limerick") + p("Title: Many Voices") + p("Process: Choirs rehearse weekly in four districts.")
            + p("Photo 1: The Many Voices choir at the Milk Market, September 2023", "Caption")
            + p("Photo 2 : la chorale au marché", "Lgende") + p("Impact: 400 singers took part."))
    path = write_docx(tmp_path / "captions.docx", body)
    (practice,) = Segmenter().segment(read_blocks(path), path.name, "0" * 64).practices
    assert practice.process == "Choirs rehearse weekly in four districts."
    assert practice.impact == "400 singers took part."


def test_a_word_hyperlink_keeps_its_address_after_its_words(tmp_path):
    """A reference written as a hyperlink ("programme page") kept only its words: the address, which a reader of
    the references and the criteria's count of links need, follows them; a link showing its address is unchanged."""
    r_ns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'

    def link(rid: str, words: str) -> str:
        return f'<w:hyperlink {r_ns} r:id="{rid}"><w:r><w:t>{words}</w:t></w:r></w:hyperlink>'

    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId9" TargetMode="External" Target="https://malmo.example.se/stepin" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"/>'
            '<Relationship Id="rId10" TargetMode="External" Target="https://www.example.org/report" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"/></Relationships>')
    body = (p("City: Malmö") + p("Title: Step In") + p("Key reference documents:")
            + f'<w:p><w:r><w:t xml:space="preserve">Step In – </w:t></w:r>{link("rId9", "programme page")}</w:p>'
            + f"<w:p>{link('rId10', 'www.example.org/report')}</w:p>")
    path = write_docx(tmp_path / "links.docx", body, extra_parts={"word/_rels/document.xml.rels": rels.encode()})
    (practice,) = Segmenter().segment(read_blocks(path), path.name, "0" * 64).practices
    assert practice.references == ("Step In – programme page (https://malmo.example.se/stepin)\n"
                                   "www.example.org/report")


def test_the_templates_guidance_in_italics_is_not_read_as_an_answer(tmp_path):
    """A city's copy of the template with its guidance in italics above each answer ("Décrivez les besoins…",
    "Quels sont les principaux résultats ?", "Please describe briefly…"): the guidance is not read as the answer,
    and was quoted as evidence; an italic testimony, and a sentence partly in italics, stay."""
    def italic(text: str) -> str:
        return f'<w:p><w:r><w:rPr><w:i/></w:rPr><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'

    body = (p("Ville : Villeurbanne") + p("Titre : Parents en classe") + p("Point de départ :")
            + italic("Décrivez les besoins et les circonstances qui ont motivé l'action.")
            + p("En 2020, six écoles ont signalé que les parents allophones ne venaient plus aux réunions.")
            + italic("« Je ne comprenais rien aux réunions, alors je n'y allais plus », dit une mère.")
            + p("Impact :") + italic("Quels sont les principaux résultats et réalisations ?")
            + '<w:p><w:r><w:t xml:space="preserve">En trois ans, 212 parents ont suivi les ateliers </w:t></w:r>'
              '<w:r><w:rPr><w:i/></w:rPr><w:t>(bilan 2023)</w:t></w:r></w:p>'
            + p("Key reference documents:") + italic("Please describe briefly the documents others could use.")
            + p("Bilan 2022-2023 des ateliers, Ville de Villeurbanne."))
    path = write_docx(tmp_path / "guidance.docx", body)
    (practice,) = Segmenter().segment(read_blocks(path), path.name, "0" * 64).practices
    assert practice.starting_point == (
        "En 2020, six écoles ont signalé que les parents allophones ne venaient plus aux réunions.\n"
        "« Je ne comprenais rien aux réunions, alors je n'y allais plus », dit une mère.")
    assert practice.impact == "En trois ans, 212 parents ont suivi les ateliers (bilan 2023)"
    assert practice.references == "Bilan 2022-2023 des ateliers, Ville de Villeurbanne."


def test_a_hyphen_a_justified_pdf_put_at_a_line_end_goes_where_the_document_writes_the_word_whole():
    """"in-terculturels" and "Mont-réal" (a justified layout's hyphens, kept when the wrapped line was joined) are
    written whole where the document writes them so; "self-government", inclusive writing (« intervenant-e-s ») and a
    name ("Saint-Denis") keep their hyphens."""
    from pipeline.ingest.pdf import _without_wrap_hyphens

    texts = ["Titre : Médiateurs interculturels à Montréal",
             "But : Le projet place des médiateurs in-terculturels dans trois hôpitaux de Mont-réal.",
             "Les intervenant-e-s et les intervenantes de Saint-Denis parlent de self-government."]
    assert _without_wrap_hyphens(texts) == [
        texts[0], "But : Le projet place des médiateurs interculturels dans trois hôpitaux de Montréal.", texts[2]]


def _email(body: str | None = None, html: str | None = None, attachments: tuple[str, ...] = ()) -> bytes:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "ville@example.org", "icc@example.org", "Bonne pratique"
    if body is not None:
        message.set_content(body)
    if html is not None:
        if body is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for name in attachments:
        message.add_attachment(b"PK\x03\x04" + bytes(40), maintype="application", subtype="octet-stream", filename=name)
    return bytes(message)


PASTED_FORM = ("Bonjour,\n\nVoici notre formulaire.\n\nVille : Montréal\nTitre : Cafés de quartier\n"
               "Période de mise en œuvre : 2022-2024\nDescription\n"
               "But : Réunir des voisins d'origines différentes autour d'un café chaque samedi.\n"
               "Processus : Les bibliothèques accueillent les cafés ; des bénévoles animent les tables.\n")


def test_a_form_pasted_into_a_saved_email_is_read(tmp_path):
    """A saved e-mail (.eml) whose text is the form: read as a text submission, in plain text or in HTML only (a
    table of labels and values), with the quoted-printable accents decoded."""
    plain = tmp_path / "Bonne pratique Montréal.eml"
    plain.write_bytes(_email(PASTED_FORM))
    html = tmp_path / "html.eml"
    html.write_bytes(_email(html="<html><head><style>p{color:red}</style></head><body><p>Bonjour,</p><table>"
                                 "<tr><td>Ville :</td><td>Montr&eacute;al</td></tr>"
                                 "<tr><td>Titre :</td><td>Cafés de quartier</td></tr></table>"
                                 "<p>But : Réunir des voisins d'origines différentes autour d'un café.</p>"
                                 "<p>Processus : Les bibliothèques accueillent les cafés chaque samedi.</p></body></html>"))
    for path in (plain, html):
        result = process_file(InputFile(path, path.name), Settings(), Segmenter())
        assert result.status == "ok", result.message
        (practice,) = result.practices
        assert (practice.city, practice.title) == ("Montréal", "Cafés de quartier"), path.name
        assert practice.process.startswith("Les bibliothèques accueillent les cafés"), practice.process
        assert "color" not in (practice.description or "")


def test_a_saved_email_with_forms_attached_names_them(tmp_path):
    """The forms attached to a saved e-mail are named, to be saved and run as files of their own (a logo is no
    form); an e-mail with neither text nor form says so."""
    path = tmp_path / "forms.eml"
    path.write_bytes(_email("Please find our two forms attached.", attachments=("Lisbon form.docx", "logo.png",
                                                                                 "Lisbon 2.pdf")))
    with pytest.raises(IngestError) as caught:
        read_blocks(path)
    assert caught.value.code == "unsupported_format"
    assert "(Lisbon form.docx, Lisbon 2.pdf)" in caught.value.message and "logo" not in caught.value.message
    empty = tmp_path / "empty.eml"
    empty.write_bytes(_email(" "))
    result = process_file(InputFile(empty, empty.name), Settings(), Segmenter())
    assert (result.status, result.error_code) == ("error", "no_content") and "e-mail" in result.message


def test_a_zip_of_forms_names_the_forms_in_it(tmp_path):
    path = tmp_path / "forms-from-lisbon.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("forms/lisbon-p3-02.docx", b"x")
        zf.writestr("forms/lisbon-p3-09.odt", b"x")
        zf.writestr("__MACOSX/forms/._lisbon-p3-02.docx", b"x")
        zf.writestr("forms/photo.jpg", b"x")
        zf.writestr("README.txt", b"Forms of 2024, one per practice.")
        zf.writestr("forms/lisez-moi.md", b"x")
    with pytest.raises(IngestError) as caught:
        read_blocks(path)
    assert caught.value.code == "unsupported_format"
    assert "(lisbon-p3-02.docx, lisbon-p3-09.odt)" in caught.value.message, caught.value.message
    # an archive of no form says so, rather than ask to run the forms inside
    none = tmp_path / "photos.zip"
    with zipfile.ZipFile(none, "w") as zf:
        zf.writestr("photo.jpg", b"x")
    with pytest.raises(IngestError) as caught:
        read_blocks(none)
    assert "holds no form" in caught.value.message and "run the forms" not in caught.value.message
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(path.read_bytes()[:60])
    with pytest.raises(IngestError) as caught:
        read_blocks(damaged)
    assert caught.value.code == "corrupt_file" and "damaged" in caught.value.message, caught.value.message


def test_a_form_attached_inside_a_forwarded_email_or_zipped_is_named(tmp_path):
    from email.message import EmailMessage

    forwarded = EmailMessage()
    forwarded["Subject"] = "Fwd: good practice"
    forwarded.set_content("See the message below.")
    inner = EmailMessage()
    inner["Subject"] = "Good practice"
    inner.set_content("Our form is attached.")
    inner.add_attachment(b"PK\x03\x04" + bytes(40), maintype="application", subtype="octet-stream",
                         filename="Patras form.docx")
    forwarded.add_attachment(inner)
    path = tmp_path / "fwd.eml"
    path.write_bytes(bytes(forwarded))
    with pytest.raises(IngestError) as caught:
        read_blocks(path)
    assert "(Patras form.docx)" in caught.value.message, caught.value.message
    path.write_bytes(_email("Two forms, zipped.", attachments=("forms.zip", "first e-mail.eml")))
    with pytest.raises(IngestError) as caught:
        read_blocks(path)
    assert "(forms.zip, first e-mail.eml)" in caught.value.message and "its text included" in caught.value.message
    # a zip of photos is no form: the e-mail's own text is read
    photos = io.BytesIO()
    with zipfile.ZipFile(photos, "w") as zf:
        zf.writestr("photo.jpg", b"x")
    from email.message import EmailMessage

    message = EmailMessage()
    message.set_content(PASTED_FORM)
    message.add_attachment(photos.getvalue(), maintype="application", subtype="zip", filename="photos.zip")
    path.write_bytes(bytes(message))
    result = process_file(InputFile(path, path.name), Settings(), Segmenter())
    assert result.status == "ok" and result.practices[0].city == "Montréal", result.message


# The line re-joining as first written, reading the whole joined line again at each line: the reference the
# one-pass reading must give the same lines as.
from pipeline.normalize import (_COUNT_GOES_ON, _CUT_AFTER_HYPHEN, _ITEM_START, _LABEL_START,  # noqa: E402
                                _PROSE_LINE_WORDS, _SENTENCE_END, ends_mid_sentence)


def _plain_unwrap(lines, min_words: int = 1, min_chars: int = 0, ends: tuple[str, ...] = _SENTENCE_END) -> list[str]:
    """Lines re-joined where a layout or a hard wrap broke a sentence: a line that starts in lower case, or follows
    a line ending on a comma, with a bracket left open ("7. Services publics (a." / "Santé…) ; 10. Médiation") or
    on a word no sentence ends on ("in", « de ») and opens no list item or label, or
    starts with a count after a long line of prose ending on a word ("were placed" / "62 pupils…"), goes on the
    previous one when that one does not end with one of `ends` and has at least `min_words` words and `min_chars`
    characters."""
    out: list[str] = []
    for line in lines:
        previous = out[-1] if out else ""
        # a bracket opening the line goes on too: « réalisées avec interprète » / « (contre 310 en 2020) »
        opens_anew = _ITEM_START.match(line) or _LABEL_START.match(line)  # "- a guide", "Ville :" after « REÇU LE »
        goes_on = (line[:1].islower() or line[:1] == "("
                   or (previous.endswith(",") and not opens_anew)
                   or previous.endswith(("«", "“", "„", "‹"))
                   or (ends_mid_sentence(previous) and not opens_anew)
                   or (previous[-1:].islower() and len(previous.split()) >= _PROSE_LINE_WORDS
                       and _COUNT_GOES_ON.match(line) is not None and not opens_anew))
        # a bracket left open goes on whatever the line ends with ("7. Services publics (a." / "Santé…) ; 10. …")
        in_bracket = previous.count("(") > previous.count(")") and not opens_anew
        if (previous and ((goes_on and not previous.endswith(ends)) or in_bracket)
                and len(previous.split()) >= min_words and len(previous) >= min_chars):
            out[-1] = _plain_join(previous, line)
        else:
            out.append(line)
    return out



def _plain_join(previous: str, line: str) -> str:
    """Two pieces of one wrapped line: a word cut after its hyphen ("self-" + "government") is joined whole."""
    return (f"{previous}{line}" if _CUT_AFTER_HYPHEN.search(previous) or previous.endswith(("“", "„"))
            else f"{previous} {line}")


def test_lines_are_rejoined_in_one_pass_as_the_plain_reading_rejoins_them():
    """40,000 lines ending on a comma took minutes: what the rules read of a joined line is now kept as lines join
    it. On random lines, the same lines as reading the whole joined line again each time."""
    import random

    from pipeline.normalize import unwrap_lines

    pieces = ["and", "de", "the city", "Ville :", "- a guide", "1. Item", "(contre 310", "en 2020)", "self-",
              "government", "62 pupils were", "were placed", "Santé…) ; 10.", "7. Services publics (a.", "ends.", "a,",
              "Word", "word", "x" * 90 + "and", "", " lead", "A long line of prose that goes on with many words here",
              "(", ")", "Le projet «", "Les Médiatrices »", "called it “", "self-“"]
    draw = random.Random(0)
    for _ in range(3000):
        lines = [draw.choice(pieces) for _ in range(draw.randint(0, 8))]
        options = draw.choice([{}, {"min_words": 3}, {"min_chars": 20}, {"ends": (".",)}])
        assert unwrap_lines(list(lines), **options) == _plain_unwrap(list(lines), **options), (lines, options)
    assert len(unwrap_lines(["word,"] * 40_000)) == 1


def test_a_quotation_opened_at_a_line_end_goes_on_with_the_next_line():
    """A PDF broke « Le projet « / Les Médiatrices du Rhône » forme… » after the opening guillemet."""
    from pipeline.normalize import unwrap_lines

    assert unwrap_lines(["Le projet «", "Les Médiatrices du Rhône » forme des femmes-relais."]) == [
        "Le projet « Les Médiatrices du Rhône » forme des femmes-relais."]
    assert unwrap_lines(["We called it “", "Open Doors” in 2022."]) == ["We called it “Open Doors” in 2022."]
    assert unwrap_lines(["Le projet « Voisins ».", "Les Médiatrices"]) == ["Le projet « Voisins ».", "Les Médiatrices"]


def test_an_amount_is_counted_from_the_first_figure_of_its_number():
    """A pattern tried from each digit of a 100,000-digit number took minutes; amounts count as before."""
    from pipeline.classify import table_cells
    from pipeline.criteria import _MONEY
    from pipeline.normalize import clean_text

    for text, n in (("Budget 12 345 € and 8 000 EUR, 1,5 FTE; 3 ETP", 4), ("€45,000, €15,000", 2), ("2023 12 000 €", 1),
                    ("1 2 3 4 €", 1), ("1" * 100_000, 0), ("1 " * 50_000, 0)):
        assert len(_MONEY.findall(text)) == n, text
    assert table_cells(["Formation | 8 000 €", "1" * 100_000, "Les ateliers ont réuni 40 familles."]).tolist() == [
        True, False, False]
    # the em space and Word's line separator are a space and a line end
    assert clean_text("a\u2003\u2003b\u2028c\x85d") == "a b\nc\nd"


def test_a_word_file_still_under_review_says_so(tmp_path):
    """Comments left in and changes not accepted: the text is read as if they were accepted, and every practice of
    the file says the form may be a draft."""
    from docx_factory import write_docx_under_review
    from pipeline.ingest import read_document

    path = write_docx_under_review(
        tmp_path / "ghent_FINAL_v2.docx", ["City: Ghent", "Title: Buddy system for newcomers"],
        "Purpose: Volunteers meet newcomers every week to practise Dutch in the library. ",
        "Please check these figures with HR before sending!!", "Forty pairs met in 2023.", " Twelve pairs met.")
    reading = read_document(path)
    assert set(reading.warnings) == {"review_comments:1", "tracked_changes"}
    text = " ".join(b.text for b in reading.blocks)
    assert "Forty pairs met in 2023." in text and "Twelve" not in text and "HR" not in text
    (practice,) = process_file(InputFile(path, path.name), Settings(), Segmenter()).practices
    assert {"review_comments:1", "tracked_changes"} <= set(practice.warnings)
    from pipeline.cli import warning_text
    assert "final version" in warning_text("review_comments:1", "en")
    assert "version définitive" in warning_text("tracked_changes", "fr")

    from docx import Document

    clean = Document()
    clean.add_paragraph("City: Ghent")
    clean.save(str(tmp_path / "clean.docx"))
    assert read_document(tmp_path / "clean.docx").warnings == ()


def test_a_form_on_each_page_keeps_the_lines_that_open_each_page():
    """One practice per page, each opening with "Contact details" and "City: Bergen": the form's lines, not a
    running header (the city was lost); a header line on every page still goes."""
    from pipeline.ingest.pdf import without_running_lines

    def page(title: str) -> list[tuple[str, ...]]:
        return [("Bergen kommune – ICC good practices",), ("Contact details",), ("City: Bergen",),
                (f"Title: {title}",), ("Purpose: Neighbours meet every week.",), ("Page 1 of 3",)]

    kept = without_running_lines([page("Dialogue circles"), page("Diversity map"), page("Stua")])
    assert [[" ".join(line) for line in p][:2] for p in kept] == [["Contact details", "City: Bergen"]] * 3
    assert not any("Bergen kommune" in " ".join(line) or "Page" in " ".join(line) for p in kept for line in p)


def test_a_value_written_n_a_ends_its_line():
    """'Contact person: N/A' then 'Good practice': the heading is not read as the end of the contact's value."""
    from pipeline.normalize import ends_mid_sentence, unwrap_lines

    assert not ends_mid_sentence("Contact person: N/A") and ends_mid_sentence("the people we met in")
    assert unwrap_lines(["Contact person: N/A", "Good practice"]) == ["Contact person: N/A", "Good practice"]
