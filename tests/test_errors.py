"""The catalogue of files.parquet's messages (resources/errors.yaml): the same values in both languages, documented
codes, every reader's message taken from it, and every message said back in French."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from pipeline.errors import cause, error_phrasebook, ingest_error, load_errors, message
from pipeline.phrasebook import Phrasebook
from pipeline.records import IngestError

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pipeline"
ENTRIES = [(section, key, entry) for section in ("messages", "fragments") for key, entry in load_errors()[section].items()]


def placeholders(template: str) -> dict[str, str]:
    """{name: format spec} of a template."""
    return {name: spec for _, name, spec, _ in string.Formatter().parse(template) if name is not None}


def readme_codes() -> set[str]:
    table = (ROOT / "README.md").read_text(encoding="utf-8").split("### Error codes", 1)[1].split("\n\n", 2)[1]
    return {code for row in table.splitlines()[2:] for code in re.findall(r"`([a-z_]+)`", row.split("|")[1])}


def test_every_entry_has_the_same_values_in_both_languages_and_a_documented_code():
    errors = load_errors()
    assert set(errors) == {"messages", "fragments", "fragment_fields", "number_fields", "causes"}
    assert set(errors["causes"].values()) <= set(errors["fragments"]), "a cause names a fragment"
    used = {name for _, _, entry in ENTRIES for name in placeholders(entry["en"])}
    assert set(errors["fragment_fields"]) | set(errors["number_fields"]) <= used
    assert not set(errors["messages"]) & set(errors["fragments"]), "a key names one entry"
    codes = readme_codes()
    for section, key, entry in ENTRIES:
        en, fr = entry["en"], entry["fr"]
        assert set(placeholders(en)) == set(placeholders(fr)), key
        assert not any(placeholders(fr).values()), f"{key}: the French shows each value as the English wrote it"
        for template in (en, fr):  # a template of values alone would fit any text
            assert any(literal.strip() for literal, *_ in string.Formatter().parse(template)), key
        # French puts a space before : ; ? ! and quotes with « »
        assert not re.search(r"[^\s{][:;?!](?:\s|$)", fr) and "'{" not in fr, f"{key}: {fr}"
        if section == "messages":
            assert entry.get("code") in codes if "code" in entry else entry.get("status") in ("ok", "empty_form"), key
        else:
            assert set(entry) == {"en", "fr"}, key


def _imported_from_errors(tree: ast.Module) -> set[str]:
    return {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            and node.module == "pipeline.errors" for alias in node.names}


def _name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def test_every_message_a_file_gets_comes_from_the_catalogue():
    """No reader builds an IngestError or an error row from its own text; every key it names is in the catalogue,
    with the values its template takes."""
    errors = load_errors()
    english = {key: entry["en"] for _, key, entry in ENTRIES}
    problems, keys_used = [], set()
    for path in sorted(PACKAGE.rglob("*.py")):
        if path in (PACKAGE / "errors.py", PACKAGE / "records.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        catalogue_calls = _imported_from_errors(tree) & {"ingest_error", "message"}
        where = lambda node: f"{path.relative_to(ROOT)}:{node.lineno}"  # noqa: E731
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            name = _name(call)
            if name == "IngestError":
                problems.append(f"{where(call)}: IngestError(...) instead of ingest_error(key, ...)")
            elif name == "FileResult":
                text = call.args[4] if len(call.args) > 4 else next((k.value for k in call.keywords
                                                                     if k.arg == "message"), None)
                if isinstance(text, ast.JoinedStr) or isinstance(text, ast.Constant) and isinstance(text.value, str):
                    problems.append(f"{where(call)}: a row's message written in place")
            elif name in catalogue_calls and call.args and isinstance(call.args[0], ast.Constant):
                key = call.args[0].value
                keys_used.add(key)
                if key not in english:
                    problems.append(f"{where(call)}: no entry {key!r}")
                elif not any(k.arg is None for k in call.keywords):
                    given = {k.arg for k in call.keywords}
                    if given != set(placeholders(english[key])):
                        problems.append(f"{where(call)}: {key!r} takes {sorted(placeholders(english[key]))}, "
                                        f"given {sorted(given)}")
                if name == "ingest_error" and key in errors["fragments"]:
                    problems.append(f"{where(call)}: {key!r} is a fragment, with no error code")
    assert not problems, "\n".join(problems)
    assert len(keys_used) > 60


def test_ingest_error_keeps_the_exception_callers_know():
    error = ingest_error("pdf_too_many_pages", n=412, limit=300)
    assert isinstance(error, IngestError) and error.code == "too_many_pages"
    assert error.message == str(error) == "The PDF has 412 pages; the limit is 300."
    legacy = IngestError("empty_file", "The file is empty (0 bytes).")
    assert (legacy.code, legacy.message) == ("empty_file", "The file is empty (0 bytes).")
    with pytest.raises(KeyError):
        message("no_such_entry")


def _samples(template: str) -> dict:
    """A value for each placeholder: a number where the template formats one, else a text of its own."""
    numbers = set(load_errors()["number_fields"])
    return {name: 1234567.25 if spec else 42 if name in numbers else f"«{name} 1.5»"
            for name, spec in placeholders(template).items()}


def _french(template_en: str, template_fr: str, values: dict) -> str:
    """The French template with the values as the English wrote them, numbers written the French way."""
    specs = placeholders(template_en)
    shown = {name: format(value, specs[name]).replace(",", "\u202f").replace(".", ",") if specs[name] else value
             for name, value in values.items()}
    return template_fr.format(**shown)


@pytest.mark.parametrize("key", [key for section, key, _ in ENTRIES if section == "messages"])
def test_every_message_is_said_back_in_french(key):
    entry = load_errors()["messages"][key]
    values = _samples(entry["en"])
    written = entry["en"].format(**values)
    assert error_phrasebook().say(written, "fr") == _french(entry["en"], entry["fr"], values)
    if not any(placeholders(entry["en"]).values()):
        assert error_phrasebook().say(entry["fr"].format(**values), "en") == written


@pytest.mark.parametrize("key", [key for section, key, _ in ENTRIES if section == "fragments"])
def test_every_fragment_is_said_in_french_where_a_message_holds_it(key):
    entry = load_errors()["fragments"][key]
    errors = load_errors()
    book = Phrasebook([{"en": "Because {why}.", "fr": "Parce que {why}."}], errors["fragments"].values(),
                      fragment_fields=["why", *errors["fragment_fields"]], number_fields=errors["number_fields"])
    values = _samples(entry["en"])
    said = book.say(f"Because {entry['en'].format(**values)}.", "fr")
    assert said == f"Parce que {_french(entry['en'], entry['fr'], values)}."


def test_fragments_inside_fragments_are_said_in_french():
    book = error_phrasebook()
    legacy = ingest_error("legacy_doc", detail=message("damaged_unopenable", cause=cause(OSError())),
                          fix=message("save_as_docx_or_install", install=message("install_libreoffice"))).message
    assert book.say(legacy, "fr") == (
        "Ce fichier Word 97-2003 .doc est endommagé et ne peut pas être ouvert (erreur technique OSError) ; "
        "enregistrez-le en .docx "
        "(Word : Fichier > Enregistrer sous) et renvoyez-le, ou installez LibreOffice (Debian/Ubuntu : apt-get "
        "install libreoffice-writer-nogui) pour qu'il soit converti.")
    failed = message("libreoffice_failed", reason=message("exit_code", code=77))
    note = message("note", note=message("read_as_text_only", kind=message("word97_doc"), failed=failed))
    assert book.say(message("form_blank", note=note), "fr") == (
        "Le formulaire est vide : ni titre ni description n'ont été remplis ; fichier Word 97-2003 .doc lu comme "
        "texte seul, sans LibreOffice ; LibreOffice n'a pas pu le convertir (code de sortie 77).")
    scans = message("scans_not_read", n=2, missing=message("tesseract_missing", install=message("install_tesseract")))
    found = message("practices_found", n=3, details=message("blank_forms_skipped", n=2,
                                                            note=message("note", note=scans)))
    assert book.say(found, "fr") == (
        "3 pratique(s) trouvée(s) ; 2 formulaire(s) vide(s) ignoré(s) ; 2 page(s) sans texte n'ont pas été lues. "
        "Tesseract n'est pas installé ici : pour que les scans soient lus par OCR, installez Tesseract avec les "
        "données du français et de l'anglais (Debian/Ubuntu : apt-get install tesseract-ocr tesseract-ocr-fra "
        "tesseract-ocr-eng tesseract-ocr-osd)")


def test_a_value_that_is_no_fragment_stays_as_it_is():
    book = error_phrasebook()
    crash = ingest_error("internal_error", error="ValueError: 1.5 is not a page; see 2,000 rows").message
    assert book.say(crash, "fr") == "Erreur inattendue pendant la lecture : ValueError: 1.5 is not a page; see 2,000 rows"
    copy = ingest_error("duplicate_file", file="2024/rapport 1.2.docx").message
    assert book.say(copy, "fr") == "Même contenu que 2024/rapport 1.2.docx ; ses pratiques ne sont comptées qu'une fois."
    assert book.translation("The file was eaten by the dog.", "fr") is None


def test_a_damaged_file_says_why_in_words(tmp_path):
    import struct
    import zipfile

    from pipeline.ingest import read_blocks

    assert cause(zipfile.BadZipFile()) == "its zip archive is corrupt"
    assert cause(struct.error()) == "its internal structure is invalid"
    assert cause(UnicodeDecodeError("utf-8", b"", 0, 1, "x")) == "its characters cannot be decoded"  # a subclass
    assert cause(ValueError()) == "technical error ValueError"
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK\x03\x04" + bytes(200))
    with pytest.raises(IngestError) as caught:
        read_blocks(broken)
    said = caught.value.message
    assert said == "The Word file is damaged or truncated and cannot be opened (its zip archive is corrupt)."
    assert error_phrasebook().say(said, "fr") == (
        "Le fichier Word est endommagé ou tronqué et ne peut pas être ouvert (son archive zip est corrompue).")


@pytest.mark.parametrize("name, data, words", [
    ("budget.xlsx", b"PK\x03\x04" + b"\x00" * 40, "annex"),
    ("budget.xls", b"plain bytes of an old sheet", "annex"),
])
def test_an_annex_or_a_saved_email_is_named_as_such(tmp_path, name, data, words):
    from pipeline.ingest import read_blocks

    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(Exception) as caught:
        read_blocks(path)
    assert getattr(caught.value, "code", None) == "unsupported_format" and words in str(caught.value)


@pytest.mark.parametrize("name, words", [("mail.msg", "attached"), ("budget.xls", "annex"), ("slides.ppt", "annex")])
def test_an_ole_email_sheet_or_slides_is_named_as_such(tmp_path, name, words):
    """Outlook's .msg and the old .xls and .ppt are OLE files, like a password-protected Word file."""
    from pipeline.ingest import OLE_MAGIC, read_blocks

    path = tmp_path / name
    path.write_bytes(OLE_MAGIC + b"\x00" * 504)
    with pytest.raises(Exception) as caught:
        read_blocks(path)
    assert getattr(caught.value, "code", None) == "unsupported_format" and words in str(caught.value)


@pytest.mark.parametrize("name, data", [
    ("budget.xlsx", b"PK\x03\x04" + b"\x00" * 40),  # an annex: the message says what the form comes as
    ("notes.abc", b"some text"),
    ("notes", b"some text"),
], ids=["annex", "unknown suffix", "no suffix"])
def test_a_message_that_names_the_formats_read_names_every_one_in_both_languages(tmp_path, name, data):
    from pipeline.config import SUPPORTED_SUFFIXES
    from pipeline.ingest import read_blocks

    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(IngestError) as caught:
        read_blocks(path)
    said = str(caught.value)
    for text in (said, error_phrasebook().say(said, "fr")):
        assert set(SUPPORTED_SUFFIXES) <= set(re.findall(r"\.[a-z]+\b", text)), text
