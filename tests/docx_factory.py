"""Minimal .docx packages written from body XML, for reader tests."""

from __future__ import annotations

import zipfile
from pathlib import Path

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)


def p(text: str, style: str | None = None) -> str:
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f'<w:p>{ppr}<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def cell(*paragraphs: str, extra: str = "") -> str:
    return f"<w:tc><w:tcPr>{extra}</w:tcPr>{''.join(paragraphs) or '<w:p/>'}</w:tc>"


def row(*cells: str) -> str:
    return f"<w:tr>{''.join(cells)}</w:tr>"


def table(*rows: str) -> str:
    return f"<w:tbl>{''.join(rows)}</w:tbl>"


def sdt(content: str, placeholder: bool = False) -> str:
    flag = "<w:showingPlcHdr/>" if placeholder else ""
    return f"<w:sdt><w:sdtPr>{flag}</w:sdtPr><w:sdtContent>{content}</w:sdtContent></w:sdt>"


def document_xml(body: str, prolog: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}'
        f"<w:document {W}><w:body>{body}</w:body></w:document>"
    )


def write_docx(path: Path, body: str, prolog: str = "", extra_parts: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        zf.writestr("word/document.xml", document_xml(body, prolog))
        for name, data in (extra_parts or {}).items():
            zf.writestr(name, data)
    return path


def write_docx_under_review(path: Path, lines: list[str], purpose: str, comment: str, inserted: str,
                            deleted: str | None = None) -> Path:
    """A Word file still under review, saved by python-docx: `lines`, then the purpose with a reviewer's comment on
    it, a sentence inserted and (optionally) one deleted as tracked changes."""
    from docx import Document
    from docx.oxml import parse_xml

    doc = Document()
    for line in lines:
        doc.add_paragraph(line)
    paragraph = doc.add_paragraph(purpose)
    doc.add_comment(paragraph.runs, text=comment, author="An")
    change = f'{W} w:author="An" w:date="2024-05-02T10:00:00Z"'
    paragraph._p.append(parse_xml(f'<w:ins {change} w:id="1"><w:r><w:t>{inserted}</w:t></w:r></w:ins>'))
    if deleted:
        paragraph._p.append(parse_xml(f'<w:del {change} w:id="2"><w:r><w:delText>{deleted}</w:delText></w:r></w:del>'))
    doc.save(str(path))
    return path
