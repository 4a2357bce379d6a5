"""Writers: each turns a report's view-model into the bytes of one file (HTML through Jinja2, DOCX through
python-docx). They compute nothing about the run; what they show is decided by the view-models."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from collections.abc import Iterator
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from pipeline.registry import loader

if TYPE_CHECKING:
    from pipeline.report.city import CityReport

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def _fmt(message: str, **values) -> Markup:
    """A catalogue message with its {placeholders} filled in; values are escaped unless they are Markup."""
    return Markup(escape(message)).format(**values)


def _code(text) -> Markup:
    return Markup("<code>{}</code>").format(text)


@loader("report_templates")
def environment():
    """The Jinja2 environment of the report templates (compiled templates are kept for the process)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = _fmt
    env.globals["code"] = _code
    return env


def render_city_html(report: "CityReport") -> str:
    """A city report as one self-contained HTML page."""
    return environment().get_template("city.html.j2").render(**{f.name: getattr(report, f.name) for f in fields(report)})


def render_summary_html(context: dict) -> str:
    """The batch summary page from its context (pipeline.report.summary.summary_context)."""
    return environment().get_template("summary.html.j2").render(**context)


def stream_summary_html(context: dict) -> Iterator[bytes]:
    """The same page in pieces, UTF-8 encoded: a whole archive's page is written without being held whole."""
    for piece in environment().get_template("summary.html.j2").generate(**context):
        yield piece.encode("utf-8")


def _add_run(paragraph, text: str, bold: bool = False, italic: bool = False, half_points: int | None = None,
             highlight: str | None = None):
    """Append a run to a python-docx paragraph as one XML element (what `paragraph.add_run` and the font setters
    build, without their look-ups of where each child goes: a report has hundreds of runs)."""
    from docx.oxml.ns import qn
    from lxml import etree

    run = etree.SubElement(paragraph._p, qn("w:r"))
    if bold or italic or half_points or highlight:
        props = etree.SubElement(run, qn("w:rPr"))
        # Children in the order of the schema (CT_RPr): b, i, sz, highlight.
        for on, tag in ((bold, "w:b"), (italic, "w:i")):
            if on:
                etree.SubElement(props, qn(tag))
        if half_points:
            etree.SubElement(props, qn("w:sz")).set(qn("w:val"), str(half_points))
        if highlight:
            etree.SubElement(props, qn("w:highlight")).set(qn("w:val"), highlight)
    for i, line in enumerate(text.split("\n")):
        if i:
            etree.SubElement(run, qn("w:br"))
        if line:
            node = etree.SubElement(run, qn("w:t"))
            node.text = line
            node.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    return run


def render_city_docx(report: "CityReport") -> bytes:
    """A city report as a Word file."""
    import io

    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Pt, RGBColor

    s = report.s
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(10.5)
    doc.core_properties.title = f"{s['title']} – {report.city}"
    doc.core_properties.author = s["footer"]
    doc.core_properties.language = report.lang
    # Styles set by id on the XML element: python-docx scans every style of the document each time a style
    # is given by name or object, which was most of the cost of a report.
    style_ids = {name: doc.styles[name].style_id for name in ("Title", "Heading 1", "Heading 2", "List Bullet",
                                                              "Table Grid")}

    def paragraph(text: str = "", style: str | None = None):
        p = doc.add_paragraph(text)
        if style:
            p._p.style = style_ids[style]
        return p

    paragraph(f"{report.city}: {s['title'].lower()}" if report.lang == "en"
              else f"{report.city} : {s['title'].lower()}", "Title")
    for text in (report.intro, report.method, report.contacts_note, report.run_note):
        doc.add_paragraph(text)

    grey = RGBColor(0x55, 0x55, 0x55)
    for item in report.items:
        paragraph(item.title, "Heading 1")
        meta = doc.add_paragraph()
        _add_run(meta, f"{s['period']}: " if report.lang == "en" else f"{s['period']} : ", bold=True)
        _add_run(meta, item.period)
        _add_run(meta, "\n")
        _add_run(meta, f"{s['areas']}: " if report.lang == "en" else f"{s['areas']} : ", bold=True)
        _add_run(meta, "; ".join(item.areas) or s["unknown"])
        for dup in item.duplicates:
            p = paragraph(style="List Bullet")
            _add_run(p, f"{s['duplicates']}: " if report.lang == "en" else f"{s['duplicates']} : ", italic=True)
            _add_run(p, f"{dup.title} ({dup.lang}, {dup.score_text})")
        if not item.neighbours:
            doc.add_paragraph(item.none_found).runs[0].italic = True
        for n in item.neighbours:
            where = ", ".join(x for x in (n.city, n.country) if x)
            paragraph(f"{n.rank}. {n.title} – {where}", "Heading 2")
            p = doc.add_paragraph()
            colon = ": " if report.lang == "en" else " : "
            _add_run(p, s["similarity"] + colon, bold=True)
            _add_run(p, f"{n.score_text} ({n.strength})")
            _add_run(p, "\n" + s["period"] + colon, bold=True)
            _add_run(p, n.period)
            _add_run(p, "\n" + s["areas"] + colon, bold=True)
            _add_run(p, "; ".join(n.areas) or s["unknown"])
            if n.contact or n.department:
                _add_run(p, "\n" + s["contact"] + colon, bold=True)
                _add_run(p, " – ".join(x for x in (n.contact, n.department) if x))
            why = doc.add_paragraph()
            _add_run(why, s["why"] + colon, bold=True)
            reasons = []
            if n.section_label:
                reasons.append(f"{s['closest_on']} « {n.section_label} »" if report.lang == "fr"
                               else f"{s['closest_on']} “{n.section_label}”")
            if n.shared_terms:
                reasons.append(f"{s['shared_terms']}{colon}{', '.join(n.shared_terms)}")
            _add_run(why, "; ".join(reasons) or "-")
            if n.section:
                table = doc.add_table(rows=2, cols=2)
                table._tbl.tblPr.style = style_ids["Table Grid"]
                table.alignment = WD_TABLE_ALIGNMENT.CENTER
                heads = (f"{s['your_practice']} – {n.section_label}",
                         f"{n.city} – {n.section_label}" + (f" ({n.lang_note})" if n.lang_note else ""))
                for cell, head in zip(table.rows[0].cells, heads):
                    _add_run(cell.paragraphs[0], head, bold=True)
                for cell, pieces in zip(table.rows[1].cells, (n.mine_text, n.their_text)):
                    for piece, marked in pieces or [("–", False)]:
                        _add_run(cell.paragraphs[0], piece, bold=marked, half_points=19,
                                 highlight="yellow" if marked else None)
                doc.add_paragraph()
    footer = doc.sections[0].footer.paragraphs[0]
    footer.text = f"{s['footer']} – {report.city}"
    footer.runs[0].font.color.rgb = grey
    footer.runs[0].font.size = Pt(8)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
