"""Write pipeline/report/templates/city-report.docx: the Word template of the city reports.

It is python-docx's default document with a footer, reduced to what a report uses: the styles the reports name
(with the styles they are based on, linked to or followed by), no second copy of the styles for Word 2010, no
thumbnail. A report copies its parts and writes its own body, footer and properties (pipeline/report/writers.py,
templates/city-report.xml.j2). Restyle the reports by editing the styles in Word; keep the style names.

    .venv/bin/python scripts/make_report_template.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.shared import Pt

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "pipeline" / "report" / "templates" / "city-report.docx"
USED_STYLES = ("Normal", "Title", "Heading 1", "Heading 2", "List Bullet", "Table Grid", "Footer",
               "Default Paragraph Font", "Normal Table", "No List")


def build(target: Path = TARGET) -> Path:
    doc = Document()
    doc.sections[0].footer.paragraphs[0]  # a footer of its own, which each report fills
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10.5)
    styles = doc.styles.element
    by_id = {s.get(qn("w:styleId")): s for s in styles.iter(qn("w:style"))}
    keep = {doc.styles[name].style_id for name in USED_STYLES}
    todo = list(keep)
    while todo:  # styles a kept one depends on
        style = by_id.get(todo.pop())
        if style is None:
            continue
        for tag in ("w:basedOn", "w:link", "w:next"):
            ref = style.find(qn(tag))
            if ref is not None and ref.get(qn("w:val")) not in keep:
                keep.add(ref.get(qn("w:val")))
                todo.append(ref.get(qn("w:val")))
    for style_id, style in by_id.items():
        if style_id not in keep:
            styles.remove(style)
    latent = styles.find(qn("w:latentStyles"))
    if latent is not None:
        styles.remove(latent)
    for rel_id, rel in list(doc.part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            doc.part.drop_rel(rel_id)
    package_rels = doc.part.package.rels
    for rel_id, rel in list(package_rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package_rels.pop(rel_id)
    doc.core_properties.title = ""
    doc.core_properties.author = ""
    target.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(target))
    return target


if __name__ == "__main__":
    path = build(Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET)
    print(f"wrote {path} ({path.stat().st_size:,} bytes)")
