"""Build the bundled sample submissions in data/raw from data/sources/practices/*.yaml.

Each practice is rendered in one of several layouts that real submissions use (Word tables, content
controls, paragraphs, column headers, text boxes, a guide preamble, two practices in one file, a
trailing blank form, plain text in several encodings, Markdown, PDF). The layout is chosen from the
practice's position, so the output is the same on every run. The expected fields of every file are
written to tests/data/expected_corpus.json, taken from the sources, not from the parser.

Usage: python scripts/build_corpus.py
"""

from __future__ import annotations

import io
import json
import shutil
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import yaml
from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Pt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from pipeline.taxonomy import load_taxonomy  # noqa: E402

SOURCES = ROOT / "data" / "sources" / "practices"
RAW = ROOT / "data" / "raw"
EXPECTED = ROOT / "tests" / "data" / "expected_corpus.json"
FIXED_ZIP_TIME = (2024, 1, 1, 0, 0, 0)

HEADER = ["city", "department", "form_date", "contact_person"]
PRACTICE = ["title", "declared_area_text", "main_objective", "period_text"]
SECTIONS = ["purpose", "starting_point", "process", "impact", "references"]

# Label sets: the official template wording and variants seen in submissions.
LABELS = {
    "fr": [
        {"city": "Ville", "department": "Département", "form_date": "Date du formulaire", "contact_person": "Personne de contact",
         "title": "Titre", "declared_area_text": "Principal domaine d’action", "main_objective": "Principal objectif",
         "period_text": "Période de mise en œuvre", "purpose": "But", "starting_point": "Point de départ",
         "process": "Processus", "impact": "Impact", "references": "Principaux documents de référence",
         "_contact": "Coordonnées", "_practice": "Bonne pratique", "_description": "Description de la bonne pratique"},
        {"city": "VILLE", "department": "Service", "form_date": "Date", "contact_person": "Contact",
         "title": "Titre de la bonne pratique", "declared_area_text": "Domaine d'action principal", "main_objective": "Objectif principal",
         "period_text": "Période", "purpose": "Objectif", "starting_point": "Contexte",
         "process": "Mise en œuvre", "impact": "Résultats", "references": "Documents de référence",
         "_contact": "COORDONNÉES", "_practice": "BONNE PRATIQUE", "_description": "Description"},
    ],
    "en": [
        {"city": "City", "department": "Department", "form_date": "Date of the form", "contact_person": "Contact person",
         "title": "Title", "declared_area_text": "Main area of action", "main_objective": "Main objective",
         "period_text": "Implementation period", "purpose": "Purpose", "starting_point": "Stimulus/Rationale",
         "process": "Process", "impact": "Impact", "references": "Key reference documents",
         "_contact": "Contact details", "_practice": "Good practice", "_description": "Description of the good practice"},
        {"city": "CITY", "department": "Department / unit", "form_date": "Date", "contact_person": "Contact",
         "title": "Title of the practice", "declared_area_text": "Main area", "main_objective": "Main aim",
         "period_text": "Period of implementation", "purpose": "Aim", "starting_point": "Foundation",
         "process": "Implementation", "impact": "Results", "references": "References",
         "_contact": "CONTACT DETAILS", "_practice": "GOOD PRACTICE", "_description": "Description"},
    ],
}

PREAMBLE = {
    "fr": [
        "Guide pour la collecte de bonnes pratiques",
        "Les villes du réseau partagent ici leurs actions réussies afin que d’autres puissent s’en inspirer.",
        "Une bonne pratique est ciblée, part de besoins identifiés, tient compte du contexte local, produit des effets mesurables, repose sur des étapes claires et peut être adaptée ailleurs.",
        "Conseils : restez bref et précis ; décrivez les défis, les objectifs, les étapes et les résultats ; ajoutez vos références.",
        "Domaines d’action",
        "1. Leadership et engagement politique",
        "5. Éducation",
        "11. Langue",
        "16. Interaction",
    ],
    "en": [
        "Guide for collecting good practices",
        "Cities of the network share successful actions here so that others can learn from them.",
        "A good practice is targeted, starts from identified needs, fits its local context, has measurable effects, rests on clear steps and can be adapted elsewhere.",
        "Tips: keep it short and precise; describe the challenges, objectives, steps and results; add your references.",
        "Areas of action",
        "1. Leadership and political commitment",
        "5. Education",
        "11. Language",
        "16. Interaction",
    ],
}

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


# --- layouts -----------------------------------------------------------------------------

def _labels(p: dict, variant: int) -> dict:
    return LABELS[p["lang"]][variant % 2]


def _value(v) -> str:
    return "" if v is None else str(v).strip()


def _colon(lang: str) -> str:
    return "\u00a0:" if lang == "fr" else ":"


def _paras(text) -> list[str]:
    return [t.strip() for t in _value(text).split("\n\n") if t.strip()]


def _new_doc() -> Document:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(11)
    return doc


def _table(doc, rows: list[tuple[str, str]], sdt: bool = False):
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].text = label
        if sdt:
            _fill_sdt(cells[1], value)
        else:
            cells[1].text = value
    return table


def _fill_sdt(cell, value: str) -> None:
    """Put the value in a plain-text content control, as forms built with Word's developer tools do."""
    tc = cell._tc
    for p in list(tc.findall(qn("w:p"))):
        tc.remove(p)
    placeholder = "<w:showingPlcHdr/>" if not value else ""
    text = value or "Click or tap here to enter text."
    runs = "".join(
        f'<w:r><w:t xml:space="preserve">{_xml_escape(line)}</w:t></w:r>' + ("<w:r><w:br/></w:r>" if i < len(text.split("\n")) - 1 else "")
        for i, line in enumerate(text.split("\n"))
    )
    sdt = parse_xml(
        f'<w:sdt {nsdecls("w")}><w:sdtPr><w:alias w:val="field"/>{placeholder}<w:text w:multiLine="1"/></w:sdtPr>'
        f"<w:sdtContent><w:p>{runs}</w:p></w:sdtContent></w:sdt>"
    )
    tc.append(sdt)


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section_paragraphs(doc, p: dict, labels: dict, inline: bool, heading: bool = False) -> None:
    colon = _colon(p["lang"])
    for name in SECTIONS:
        paras = _paras(p.get(name))
        if not paras:
            continue
        if inline:
            first = doc.add_paragraph()
            run = first.add_run(f"{labels[name]}{colon} ")
            run.bold = True
            first.add_run(paras[0])
            for extra in paras[1:]:
                doc.add_paragraph(extra)
        else:
            if heading:
                doc.add_heading(labels[name], level=3)
            else:
                doc.add_paragraph().add_run(labels[name]).bold = True
            for extra in paras:
                doc.add_paragraph(extra)


def _header_rows(p: dict, labels: dict, names: list[str]) -> list[tuple[str, str]]:
    colon = ":" if labels is LABELS[p["lang"]][0] else ""
    return [(f"{labels[n]}{colon}", _value(p.get(n))) for n in names]


def docx_form(doc, p: dict, variant: int, sdt: bool = False) -> None:
    labels = _labels(p, variant)
    doc.add_heading(labels["_contact"], level=2)
    _table(doc, _header_rows(p, labels, HEADER), sdt=sdt)
    doc.add_heading(labels["_practice"], level=2)
    _table(doc, _header_rows(p, labels, PRACTICE), sdt=sdt)
    doc.add_heading(labels["_description"], level=2)
    _section_paragraphs(doc, p, labels, inline=not sdt)


def docx_paragraph_form(doc, p: dict, variant: int) -> None:
    labels = _labels(p, variant)
    colon = _colon(p["lang"])
    doc.add_heading(labels["_practice"], level=1)
    for name in HEADER + PRACTICE:
        para = doc.add_paragraph()
        para.add_run(f"{labels[name]}{colon} ").bold = True
        para.add_run(_value(p.get(name)) or "N/A")
    doc.add_heading(labels["_description"], level=2)
    _section_paragraphs(doc, p, labels, inline=False, heading=True)


def docx_column_header_form(doc, p: dict, variant: int) -> None:
    """Header fields as a row of labels above a row of values."""
    labels = _labels(p, variant)
    for names in (HEADER, PRACTICE):
        table = doc.add_table(rows=2, cols=len(names))
        table.style = "Table Grid"
        for i, name in enumerate(names):
            table.rows[0].cells[i].text = labels[name]
            table.rows[1].cells[i].text = _value(p.get(name))
        doc.add_paragraph("")
    doc.add_heading(labels["_description"], level=2)
    _section_paragraphs(doc, p, labels, inline=True)


def docx_merged_form(doc, p: dict, variant: int) -> None:
    """Header table with a merged title cell spanning two rows, as some cities redesign the form."""
    labels = _labels(p, variant)
    colon = _colon(p["lang"])
    rows = _header_rows(p, labels, HEADER + PRACTICE)
    table = doc.add_table(rows=len(rows) + 1, cols=3)
    table.style = "Table Grid"
    for i, (label, value) in enumerate(rows):
        table.rows[i].cells[0].text = label
        table.rows[i].cells[1].text = value
    # a side note column merged vertically over all rows
    note = table.cell(0, 2).merge(table.cell(len(rows) - 1, 2))
    note.text = "ICC" if p["lang"] == "en" else "ICC"
    last = table.rows[len(rows)].cells
    merged = last[0].merge(last[2])
    merged.text = labels["_description"]
    for name in SECTIONS:
        paras = _paras(p.get(name))
        if paras:
            doc.add_paragraph(f"{labels[name]}{colon} {paras[0]}")
            for extra in paras[1:]:
                doc.add_paragraph(extra)


def docx_textbox_form(doc, p: dict, variant: int) -> None:
    """The contact block sits in a text box, as in forms with a designed cover."""
    labels = _labels(p, variant)
    colon = _colon(p["lang"])
    lines = [f"{labels[n]}{colon} {_value(p.get(n)) or 'N/A'}" for n in HEADER]
    inner = "".join(f'<w:p><w:r><w:t xml:space="preserve">{_xml_escape(t)}</w:t></w:r></w:p>' for t in lines)
    para = doc.add_paragraph()
    para._p.append(parse_xml(
        f'<w:r {nsdecls("w")} xmlns:v="urn:schemas-microsoft-com:vml"><w:pict><v:shape style="width:300pt;height:90pt">'
        f"<v:textbox><w:txbxContent>{inner}</w:txbxContent></v:textbox></v:shape></w:pict></w:r>"
    ))
    _table(doc, _header_rows(p, labels, PRACTICE))
    doc.add_heading(labels["_description"], level=2)
    _section_paragraphs(doc, p, labels, inline=True)


def blank_form(doc, lang: str) -> None:
    labels = LABELS[lang][0]
    doc.add_heading(labels["_contact"], level=2)
    date = "JJ/MM/YYYY" if lang == "fr" else "DD/MM/YYYY"
    _table(doc, [(labels["city"] + ":", ""), (labels["department"] + ":", ""), (labels["form_date"] + ":", date),
                 (labels["contact_person"] + ":", "")])
    doc.add_heading(labels["_practice"], level=2)
    _table(doc, [(labels[n] + ":", "") for n in PRACTICE])
    doc.add_heading(labels["_description"], level=2)
    for name in SECTIONS:
        doc.add_paragraph(f"{labels[name]}{_colon(lang)} ")


def text_form(p: dict, variant: int) -> str:
    labels = _labels(p, variant)
    colon = _colon(p["lang"])
    out = [labels["_contact"]]
    for name in HEADER:
        out += [f"\t{labels[name]}:", f"\t{_value(p.get(name)) or 'N/A'}", ""]
    out.append(labels["_practice"])
    for name in PRACTICE:
        out += [f"\t{labels[name]}{colon}", f"\t{_value(p.get(name)) or 'N/A'}", ""]
    out += ["", labels["_description"]]
    for name in SECTIONS:
        paras = _paras(p.get(name))
        if paras:
            out.append(f"{labels[name]}{colon} {paras[0]}")
            out.extend(paras[1:])
    return "\n".join(out) + "\n"


def markdown_form(p: dict, variant: int) -> str:
    labels = _labels(p, variant)
    out = [f"# {_value(p.get('title'))}", ""]
    for name in HEADER + PRACTICE:
        out.append(f"**{labels[name]}:** {_value(p.get(name)) or 'N/A'}  ")
    out += ["", f"## {labels['_description']}", ""]
    for name in SECTIONS:
        paras = _paras(p.get(name))
        if paras:
            out += [f"### {labels[name]}", ""]
            for para in paras:
                out += [para, ""]
    return "\n".join(out)


def pdf_form(p: dict, variant: int) -> bytes:
    from fpdf import FPDF

    labels = _labels(p, variant)
    pdf = FPDF()
    pdf.set_creation_date(datetime(2024, 1, 1, tzinfo=timezone.utc))
    pdf.set_producer("icc-practices sample builder")
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def write(text: str, bold: bool = False) -> None:
        pdf.set_font("Helvetica", style="B" if bold else "", size=10)
        pdf.multi_cell(width, 5, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    write(labels["_practice"], bold=True)
    for name in HEADER + PRACTICE:
        write(f"{labels[name]}: {_value(p.get(name)) or 'N/A'}")
    write(labels["_description"], bold=True)
    for name in SECTIONS:
        paras = _paras(p.get(name))
        if paras:
            write(f"{labels[name]}: {paras[0]}")
            for para in paras[1:]:
                write(para)
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    table = {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u2026": "...",
             "\u0153": "oe", "\u0152": "OE", "\u202f": " ", "\u2009": " ", "\u20ac": "EUR", "\u2011": "-"}
    text = "".join(table.get(ch, ch) for ch in text)
    return text.encode("latin-1", errors="replace").decode("latin-1")


# --- writing -----------------------------------------------------------------------------

def save_docx(doc, path: Path) -> None:
    """Save with fixed zip timestamps so the same sources give byte-identical files."""
    buf = io.BytesIO()
    doc.core_properties.created = datetime(2024, 1, 1)
    doc.core_properties.modified = datetime(2024, 1, 1)
    doc.core_properties.last_modified_by = "city"
    doc.core_properties.author = "city"
    doc.core_properties.revision = 1
    doc.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    path.write_bytes(out.getvalue())


def expected_practice(p: dict) -> dict:
    taxonomy = load_taxonomy()
    # Written in the sources by a reader of period_text, so the period tests can catch a parser bug.
    period = p["period"]
    return {
        "id": p["id"],
        "lang": p["lang"],
        "city": p["city"],
        "title": _value(p.get("title")),
        "declared_areas": taxonomy.with_parents([str(c) for c in p["declared_areas"]]),
        "period_start": period["start"],
        "period_end": period["end"],
        "ongoing": period["ongoing"],
        "sections": {n: _paras(p.get(n))[0][:60] if _paras(p.get(n)) else None for n in SECTIONS},
        "main_objective": _value(p.get("main_objective"))[:60] or None,
    }


def load_sources() -> list[dict]:
    practices = []
    for path in sorted(SOURCES.glob("*.yaml")):
        practices.extend(yaml.safe_load(path.read_text(encoding="utf-8")))
    return practices


def slug(p: dict) -> str:
    city = "".join(ch for ch in p["city"].lower() if ch.isalnum() or ch == " ").replace(" ", "-")
    import unicodedata

    city = unicodedata.normalize("NFKD", city).encode("ascii", "ignore").decode()
    return f"{city}-{p['id']}"


LAYOUTS = ["docx-table", "docx-sdt", "docx-paragraphs", "txt", "docx-table", "docx-sdt", "md", "pdf",
           "docx-columns", "docx-paragraphs", "docx-textbox", "docx-merged", "docx-preamble-blank"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252"]


def build() -> dict:
    practices = load_sources()
    if RAW.exists():
        shutil.rmtree(RAW)
    RAW.mkdir(parents=True)
    expected: dict[str, dict] = {}
    by_city: dict[str, list[dict]] = {}
    for p in practices:
        by_city.setdefault(p["city"], []).append(p)
    # Two practices of one city in one file, for three cities with three or more practices.
    pairs = {}
    for city in sorted(by_city):
        group = by_city[city]
        if len(group) >= 2 and len(pairs) < 3 and group[1]["lang"] == group[0]["lang"]:
            pairs[group[1]["id"]] = group[0]
    paired_second = set(pairs)
    paired_first = {p["id"] for p in pairs.values()}
    text_count = 0
    for i, p in enumerate(practices):
        if p["id"] in paired_second:
            continue
        variant = i
        layout = LAYOUTS[i % len(LAYOUTS)]
        items = [p]
        if p["id"] in paired_first:
            layout = "docx-two"
            items = [p] + [q for q in practices if q["id"] in pairs and pairs[q["id"]]["id"] == p["id"]]
        name = slug(p)
        status = "ok"
        if layout.startswith("docx") or layout == "docx-two":
            doc = _new_doc()
            if layout == "docx-table":
                docx_form(doc, p, variant)
            elif layout == "docx-sdt":
                docx_form(doc, p, variant, sdt=True)
            elif layout == "docx-paragraphs":
                docx_paragraph_form(doc, p, variant)
            elif layout == "docx-columns":
                docx_column_header_form(doc, p, variant)
            elif layout == "docx-textbox":
                docx_textbox_form(doc, p, variant)
            elif layout == "docx-merged":
                docx_merged_form(doc, p, variant)
            elif layout == "docx-preamble-blank":
                for line in PREAMBLE[p["lang"]]:
                    doc.add_paragraph(line)
                docx_form(doc, p, 0)
                doc.add_page_break()
                blank_form(doc, p["lang"])
            elif layout == "docx-two":
                docx_form(doc, items[0], 0)
                doc.add_page_break()
                docx_form(doc, items[1], 0)
            filename = f"{name}.docx"
            save_docx(doc, RAW / filename)
        elif layout == "txt":
            encoding = ENCODINGS[text_count % len(ENCODINGS)]
            text_count += 1
            text = text_form(p, variant)
            if encoding == "cp1252":
                text = text.replace("\u202f", " ")
            filename = f"{name}.txt"
            (RAW / filename).write_bytes(text.encode(encoding, errors="replace"))
            layout = f"txt-{encoding}"
        elif layout == "md":
            filename = f"{name}.md"
            (RAW / filename).write_text(markdown_form(p, variant), encoding="utf-8")
        elif layout == "pdf":
            filename = f"{name}.pdf"
            (RAW / filename).write_bytes(pdf_form(p, variant))
        expected[filename] = {"layout": layout, "status": status, "practices": [expected_practice(q) for q in items]}
    # A blank form sent on its own.
    doc = _new_doc()
    blank_form(doc, "fr")
    save_docx(doc, RAW / "formulaire-vierge.docx")
    expected["formulaire-vierge.docx"] = {"layout": "docx-blank", "status": "empty_form", "practices": []}
    EXPECTED.parent.mkdir(parents=True, exist_ok=True)
    EXPECTED.write_text(json.dumps(expected, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return expected


if __name__ == "__main__":
    result = build()
    n_practices = sum(len(v["practices"]) for v in result.values())
    print(f"{len(result)} files, {n_practices} practices written to {RAW.relative_to(ROOT)}")
