"""Writers: each turns a report's view-model into the bytes of one file through a Jinja2 template (HTML, or the
body of a Word file in the styles of templates/city-report.docx). They compute nothing about the run; what they
show is decided by the view-models."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from collections.abc import Iterator
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from pipeline.registry import loader

if TYPE_CHECKING:
    from pipeline.report.city import CityReport

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# Word template of the city reports: only the styles a report uses (scripts/make_report_template.py writes it).
DOCX_TEMPLATE = TEMPLATES_DIR / "city-report.docx"


def _fmt(message: str, **values) -> Markup:
    """A catalogue message with its {placeholders} filled in; values are escaped unless they are Markup."""
    return Markup(escape(message)).format(**values)


def _code(text) -> Markup:
    return Markup("<code>{}</code>").format(text)


# Characters XML 1.0 does not allow (control characters a PDF or an old Word file can carry): left out of a run.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _word_run(text, b: bool = False, i: bool = False, sz: int | None = None, hl: str | None = None) -> Markup:
    """One run of WordprocessingML: bold, italic, size in half-points, highlight; a line break for each newline."""
    props = ("<w:b/>" if b else "") + ("<w:i/>" if i else "") + (f'<w:sz w:val="{sz}"/>' if sz else "") + (
        f'<w:highlight w:val="{hl}"/>' if hl else "")
    body = "<w:br/>".join(f'<w:t xml:space="preserve">{escape(line)}</w:t>' if line else ""
                          for line in _NOT_XML.sub("", str(text)).split("\n"))
    return Markup(f"<w:r>{'<w:rPr>' + props + '</w:rPr>' if props else ''}{body}</w:r>")


def _word_paragraph(text: str | None = "", style: str | None = None) -> Markup:
    """One paragraph of one plain run, in a style of the template (by its id)."""
    head = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return Markup(f"<w:p>{head}{_word_run(text) if text else ''}</w:p>")


@loader("report_templates")
def environment():
    """The Jinja2 environment of the report templates (compiled templates are kept for the process)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = _fmt
    env.globals["code"] = _code
    env.globals["w_run"] = _word_run
    env.globals["w_para"] = _word_paragraph
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


_CORE = {"title": "{http://purl.org/dc/elements/1.1/}title", "author": "{http://purl.org/dc/elements/1.1/}creator",
         "language": "{http://purl.org/dc/elements/1.1/}language"}
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed: the same report gives the same bytes


@dataclass(frozen=True)
class _WordTemplate:
    """The parts of city-report.docx a report copies, and the pieces of the three it writes anew."""

    parts: dict[str, bytes]  # every part, by name, in the template's order
    head: str  # word/document.xml up to and including <w:body>
    tail: str  # the section properties (page, margins, footer reference) to the end
    cell_width: int  # twips of each of the two columns of a comparison table
    footer_name: str
    footer_head: str  # the footer part up to its paragraph's properties
    footer_tail: str
    core: bytes


@loader("docx_template")
def word_template() -> _WordTemplate:
    """city-report.docx read once: its parts, and where a report's body, footer text and properties go."""
    import zipfile

    with zipfile.ZipFile(DOCX_TEMPLATE) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    document = parts["word/document.xml"].decode("utf-8")
    body = document.index("<w:body>") + len("<w:body>")
    rels = parts["word/_rels/document.xml.rels"].decode("utf-8")
    footer = re.search(r'Target="(footer\d*\.xml)"', rels)
    if footer is None or "<w:sectPr" not in document:
        raise ValueError(f"{DOCX_TEMPLATE}: the report template needs a body and a footer "
                         "(scripts/make_report_template.py writes one)")
    footer_name = f"word/{footer.group(1)}"
    footer_xml = parts[footer_name].decode("utf-8")
    cut = footer_xml.index("</w:pPr>") + len("</w:pPr>")
    size = re.search(r'<w:pgSz w:w="(\d+)"', document)
    margins = re.search(r'<w:pgMar[^>]*w:right="(\d+)"[^>]*w:left="(\d+)"', document)
    width = int(size.group(1)) - int(margins.group(1)) - int(margins.group(2)) if size and margins else 8640
    return _WordTemplate(parts, document[:body], document[document.index("<w:sectPr"):], width // 2, footer_name,
                         footer_xml[:cut], footer_xml[cut:], parts["docProps/core.xml"])


def _core_properties(template: _WordTemplate, **values: str) -> bytes:
    from lxml import etree

    root = etree.fromstring(template.core)
    for name, value in values.items():
        node = root.find(_CORE[name])
        if node is None:
            node = etree.SubElement(root, _CORE[name])
        node.text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def render_city_docx(report: "CityReport") -> bytes:
    """A city report as a Word file: the body from city-report.xml.j2 in the styles of city-report.docx."""
    import io
    import zipfile

    template = word_template()
    context = {f.name: getattr(report, f.name) for f in fields(report)}
    body = environment().get_template("city-report.xml.j2").render(**context, cell_width=template.cell_width)
    s = report.s
    footer = (f'{template.footer_head}<w:r><w:rPr><w:color w:val="555555"/><w:sz w:val="16"/></w:rPr>'
              f'<w:t xml:space="preserve">{escape(_NOT_XML.sub("", s["footer"] + " – " + report.city))}</w:t></w:r>'
              f'{template.footer_tail}')
    written = {
        "word/document.xml": (template.head + body + template.tail).encode("utf-8"),
        template.footer_name: footer.encode("utf-8"),
        "docProps/core.xml": _core_properties(template, title=f"{s['title']} – {report.city}", author=s["footer"],
                                              language=report.lang),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in template.parts.items():
            info = zipfile.ZipInfo(name, _ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, written.get(name, data))
    return buf.getvalue()


