"""Build the .doc, .odt, .rtf and scanned-PDF samples of tests/test_formats.py, and the hostile files.

Samples are made from the sample corpus's Word files (data/raw, themselves built from data/sources):
LibreOffice converts each to .doc, .odt or .rtf; a scan is the form printed to PDF by LibreOffice, each
page rasterised at 200 dpi in black and white (as an office scanner's text mode does) and put back
together as an image-only PDF. expected.json names, for every sample, its source file and the source
practice ids, with the fields the corpus expects of the source (tests/data/expected_corpus.json, taken
from data/sources, not from the parser).

Hostile files: a .doc holding a VBA project, .odt files with a zip bomb, macros or a linked section, .rtf
files with an embedded OLE object or an INCLUDETEXT field, and PDFs of 25 and 500 blank scanned pages.

Needs LibreOffice (soffice). The content is the same on every run; the bytes of the converted files
differ by the timestamps LibreOffice writes. Usage: python tests/data/formats/build.py

The samples stay out of data/raw: they repeat practices of the sample corpus, so there the similar stage would
link them as versions, and the corpus counts asserted by the tests and benchmarks would change. To make them part
of the corpus, build them in scripts/build_corpus.py from practices of data/sources that no other file uses, add
their expected fields to tests/data/expected_corpus.json and update the counts.
"""

from __future__ import annotations

import io
import json
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
RAW = ROOT / "data" / "raw"
CORPUS_EXPECTED = ROOT / "tests" / "data" / "expected_corpus.json"
FIXED_ZIP_TIME = (2024, 1, 1, 0, 0, 0)
SCAN_DPI = 200

# (target format, source in data/raw): French and English, template tables, paragraphs, content controls,
# text boxes and labels above values. No text box for .rtf: LibreOffice's RTF export drops it.
SAMPLES = [
    ("doc", "strasbourg-p1-01.docx"),
    ("doc", "oslo-p1-03.docx"),
    ("doc", "neuchatel-p2-11.docx"),
    ("odt", "geneve-p4-01.docx"),
    ("odt", "botkyrka-p2-02.docx"),
    ("odt", "dublin-p2-09.docx"),
    ("rtf", "paris-p2-01.docx"),
    ("rtf", "limassol-p3-10.docx"),
    ("rtf", "lisbon-p3-02.docx"),
    ("pdf", "strasbourg-p3-05.docx"),
    ("pdf", "dublin-p2-05.docx"),
    ("pdf", "montreal-p2-03.docx"),
]


def soffice_convert(sources: list[Path], target: str, out_dir: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        sys.exit("LibreOffice (soffice) is needed: apt-get install libreoffice-writer-nogui")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
                        "--convert-to", target, "--outdir", str(out_dir), *map(str, sources)],
                       check=True, capture_output=True, timeout=600)


def scan(pdf: Path, rotate: float = 0.0) -> bytes:
    """An image-only PDF of `pdf`: pages rasterised, thresholded to black and white, slightly skewed."""
    import pypdfium2
    from PIL import Image

    pages = []
    document = pypdfium2.PdfDocument(str(pdf))
    for index in range(len(document)):
        image = document[index].render(scale=SCAN_DPI / 72, grayscale=True).to_pil().convert("L")
        if rotate:
            image = image.rotate(rotate, resample=Image.BICUBIC, expand=False, fillcolor=255)
        pages.append(image.point(lambda v: 255 if v > 160 else 0).convert("1"))
    document.close()
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", save_all=True, append_images=pages[1:], resolution=SCAN_DPI)
    return buffer.getvalue()


def blank_scans(n_pages: int) -> bytes:
    """A PDF of `n_pages` blank scanned pages (a few specks of dust each); one image shared by all pages."""
    from PIL import Image
    from pypdf import PdfReader, PdfWriter

    rng = random.Random(n_pages)
    page = Image.new("1", (1700, 2200), 1)
    for _ in range(40):
        page.putpixel((rng.randrange(1700), rng.randrange(2200)), 0)
    one = io.BytesIO()
    page.save(one, "PDF", resolution=SCAN_DPI)
    source = PdfReader(io.BytesIO(one.getvalue())).pages[0]
    writer = PdfWriter()
    for _ in range(n_pages):
        writer.add_page(source)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- a .doc with a VBA project --------------------------------------------------------------------
# No converter writes macros into a .doc, so the compound file is assembled here from a real .doc's
# streams plus a Macros storage, as Word stores a document's VBA project.

_FREE, _END, _FAT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
_SECTOR = 512


def write_compound_file(streams: dict[str, bytes]) -> bytes:
    """A version-3 compound file holding `streams` ("Macros/VBA/dir" makes the storages on the way).
    Streams are padded to 4096 bytes so none goes to the mini stream; siblings form a sorted chain."""
    entries: list[dict] = [{"name": "Root Entry", "type": 5, "children": [], "data": b""}]
    index = {"": 0}
    for path in sorted(streams):
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            key = "/".join(parts[:depth])
            if key not in index:
                is_stream = depth == len(parts)
                index[key] = len(entries)
                entries.append({"name": parts[depth - 1], "type": 2 if is_stream else 1, "children": [],
                                "data": streams[path].ljust(4096, b"\0") if is_stream else b""})
                entries[index["/".join(parts[:depth - 1])]]["children"].append(index[key])
    sectors: list[bytes] = []
    chains: list[tuple[int, int]] = []  # (first sector, count) per stream
    for entry in entries:
        data = entry["data"]
        if entry["type"] != 2:
            entry["start"] = _END
            continue
        count = -(-len(data) // _SECTOR)
        entry["start"] = len(sectors)
        chains.append((len(sectors), count))
        sectors += [data[i * _SECTOR:(i + 1) * _SECTOR].ljust(_SECTOR, b"\0") for i in range(count)]
    for entry in entries:  # siblings as a right-leaning chain in the format's name order
        kids = sorted(entry["children"], key=lambda i: (len(entries[i]["name"]), entries[i]["name"].upper()))
        entry["child"] = kids[0] if kids else _FREE
        for a, b in zip(kids, kids[1:] + [None]):
            entries[a]["right"] = b if b is not None else _FREE
    directory = b"".join(_dir_entry(e) for e in entries)
    directory = directory.ljust(-(-len(directory) // _SECTOR) * _SECTOR, b"\0")
    dir_start, dir_count = len(sectors), len(directory) // _SECTOR
    sectors += [directory[i * _SECTOR:(i + 1) * _SECTOR] for i in range(dir_count)]
    chains.append((dir_start, dir_count))
    n_fat = 1
    while (len(sectors) + n_fat) > n_fat * (_SECTOR // 4):
        n_fat += 1
    fat = [_FREE] * (n_fat * _SECTOR // 4)
    for first, count in chains:
        for i in range(count):
            fat[first + i] = first + i + 1 if i < count - 1 else _END
    fat_start = len(sectors)
    for i in range(n_fat):
        fat[fat_start + i] = _FAT
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)
    difat = [fat_start + i for i in range(n_fat)] + [_FREE] * (109 - n_fat)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, n_fat, dir_start, 0, 4096, _END, 0, _END, 0) + struct.pack("<109I", *difat))
    return header + b"".join(sectors) + fat_bytes


def _dir_entry(entry: dict) -> bytes:
    name = entry["name"].encode("utf-16-le") + b"\0\0"
    size = len(entry["data"]) if entry["type"] == 2 else 0
    return (name.ljust(64, b"\0") + struct.pack("<HBB", len(name), entry["type"], 1)
            + struct.pack("<III", _FREE, entry.get("right", _FREE), entry.get("child", _FREE))
            + b"\0" * 16 + b"\0" * 4 + b"\0" * 16 + struct.pack("<IQ", entry["start"], size))


def doc_with_macros(doc: Path) -> bytes:
    import olefile

    with olefile.OleFileIO(str(doc)) as ole:
        streams = {"/".join(path): ole.openstream(path).read() for path in ole.listdir(streams=True, storages=False)}
    # A harmless stand-in for a VBA module: the reader must refuse the file for holding one at all.
    streams["Macros/PROJECT"] = b'ID="{00000000-0000-0000-0000-000000000000}"\r\nDocument=ThisDocument/&H00000000\r\nName="Project"\r\n'
    streams["Macros/VBA/dir"] = b"\x01" + b"\0" * 64
    streams["Macros/VBA/ThisDocument"] = b"Attribute VB_Name = \"ThisDocument\"\r\nSub AutoOpen()\r\nEnd Sub\r\n"
    return write_compound_file(streams)


# --- hostile OpenDocument and RTF files -----------------------------------------------------------

ODT_CONTENT = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
               'xmlns:xlink="http://www.w3.org/1999/xlink" office:version="1.3"><office:body><office:text>{}'
               '</office:text></office:body></office:document-content>')
ODT_FORM = "<text:p>City: Lyon</text:p><text:p>Title: Neighbourhood gardens</text:p><text:p>Purpose: " + "word " * 40 + "</text:p>"


def odt(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("mimetype", FIXED_ZIP_TIME)
        zf.writestr(info, "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        for name, data in parts.items():
            zf.writestr(zipfile.ZipInfo(name, FIXED_ZIP_TIME), data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def hostile_files() -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, expected error code)."""
    include = '{\\field{\\*\\fldinst INCLUDETEXT "/etc/hostname"}{\\fldrslt stored text}}'
    ole_object = "{\\object\\objemb{\\*\\objclass Package}\\objw100\\objh100{\\*\\objdata 01050000020000000800000050616b6167650000}}"
    rtf = "{{\\rtf1\\ansi\\deff0{{\\fonttbl{{\\f0 Arial;}}}}\\pard City: Lyon\\par Title: Neighbourhood gardens\\par Purpose: {} {}\\par}}"
    return {
        "bomb.odt": (odt({"content.xml": ODT_CONTENT.format(" " * 30_000_000).encode()}), "zip_bomb"),
        "macros.odt": (odt({"content.xml": ODT_CONTENT.format(ODT_FORM).encode(),
                            "Basic/Standard/Module1.xml": b"<script:module>Sub Main\nEnd Sub</script:module>"}), "active_content"),
        "linked-section.odt": (odt({"content.xml": ODT_CONTENT.format(
            ODT_FORM + '<text:section text:name="S"><text:section-source xlink:href="file:///etc/hostname"/></text:section>').encode()}),
            "active_content"),
        "object.rtf": (rtf.format("word " * 40, ole_object).encode(), "active_content"),
        "include.rtf": (rtf.format("word " * 40, include).encode(), "active_content"),
        "blank-500.pdf": (blank_scans(500), "too_many_pages"),
        "blank-25.pdf": (blank_scans(25), "pdf_no_text"),
    }


# --- expected fields ------------------------------------------------------------------------------

def main() -> None:
    corpus = json.loads(CORPUS_EXPECTED.read_text(encoding="utf-8"))
    expected: dict[str, dict] = {"samples": {}, "hostile": {}}
    for old in HERE.glob("*"):
        if old.suffix in (".doc", ".odt", ".rtf", ".pdf"):
            old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for target in ("doc", "odt", "rtf", "pdf"):
            sources = [RAW / name for fmt, name in SAMPLES if fmt == target]
            soffice_convert(sources, target, work)
        for i, (fmt, name) in enumerate(SAMPLES):
            stem = Path(name).stem
            if fmt == "pdf":
                out = HERE / f"{stem}-scan.pdf"
                out.write_bytes(scan(work / f"{stem}.pdf", rotate=0.4 if i % 2 else 0.0))
            else:
                out = HERE / f"{stem}.{fmt}"
                shutil.copyfile(work / f"{stem}.{fmt}", out)
            source = corpus[name]
            expected["samples"][out.name] = {"format": fmt, "source": name, "practices": source["practices"]}
        macros = HERE / "macros.doc"
        macros.write_bytes(doc_with_macros(HERE / "strasbourg-p1-01.doc"))
        expected["hostile"]["macros.doc"] = "active_content"
    for name, (data, code) in hostile_files().items():
        (HERE / name).write_bytes(data)
        expected["hostile"][name] = code
    (HERE / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in HERE.iterdir() if p.suffix in (".doc", ".odt", ".rtf", ".pdf"))
    print(f"{len(expected['samples'])} samples and {len(expected['hostile'])} hostile files, {total / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
