"""Files per second and peak memory of the new reading paths, 50 files each (ingest + segment).

- conversion: .doc, .odt and .rtf samples converted by LibreOffice, then read by the Word reader;
- text-only: the same files read without LibreOffice (olefile, striprtf, the built-in .odt reader);
- ocr: scanned PDFs (1-3 pages at 200 dpi) rendered by pypdfium2 and read by Tesseract (fra+eng).

Inputs cycle through the samples of tests/data/formats. Each path runs in a fresh process; memory is
the peak resident size of that process, of its largest child (LibreOffice, Tesseract), and of the whole
process tree sampled every 20 ms.

Usage: python benchmarks/bench_formats.py [--files 50] [--paths conversion text-only ocr]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "formats"
RESULTS = ROOT / "benchmarks" / "results"
PATHS = ("conversion", "text-only", "ocr")


def _inputs(path: str, n_files: int) -> list[Path]:
    expected = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))["samples"]
    wanted = ("pdf",) if path == "ocr" else ("doc", "odt", "rtf")
    names = sorted(n for n, s in expected.items() if s["format"] in wanted)
    return [DATA / names[i % len(names)] for i in range(n_files)]


class TreeMemory:
    """Peak resident memory of this process and all its children, sampled in a background thread."""

    def __init__(self, interval: float = 0.02) -> None:
        import psutil

        self.process, self.interval, self.peak = psutil.Process(), interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            for proc in [self.process, *self.process.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(self.interval)

    def __enter__(self) -> "TreeMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def measure(path: str, n_files: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from pipeline.ingest import Tools, read_document
    from pipeline.segment import Segmenter

    tools = Tools.find() if path != "text-only" else Tools()
    if path == "conversion" and not tools.soffice:
        return {"path": path, "skipped": "LibreOffice is not installed"}
    segmenter = Segmenter()
    files = _inputs(path, n_files)
    practices = errors = 0
    with TreeMemory() as memory:
        started = time.perf_counter()
        for i, file in enumerate(files):
            try:
                reading = read_document(file, tools=tools)
                practices += len(segmenter.segment(reading.blocks, file.name, f"{i:064d}").practices)
            except Exception as exc:  # noqa: BLE001 - counted, the benchmark goes on
                errors += 1
                print(f"{file.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
        seconds = time.perf_counter() - started
    return {
        "path": path,
        "files": n_files,
        "practices": practices,
        "errors": errors,
        "seconds": round(seconds, 2),
        "files_per_second": round(n_files / seconds, 2),
        "seconds_per_file": round(seconds / n_files, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_child_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "peak_tree_rss_mb": round(memory.peak / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--paths", nargs="+", choices=PATHS, default=list(PATHS))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.files)))
        return
    sys.path.insert(0, str(ROOT))
    from pipeline.ingest import formats_info

    rows = []
    for path in args.paths:
        proc = subprocess.run([sys.executable, __file__, "--one", path, "--files", str(args.files)],
                              capture_output=True, text=True, check=True)
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    result = {"benchmark": "formats", "machine_cores": _cores(), "tools": formats_info(), "runs": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "formats.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lines = [
        "| path | files | practices | errors | seconds | files/s | s/file | peak RSS, Python (MB) | peak RSS, largest child (MB) | peak RSS, process tree (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['path']} | skipped: {r['skipped']} |||||||||")
            continue
        lines.append(f"| {r['path']} | {r['files']} | {r['practices']} | {r['errors']} | {r['seconds']} | {r['files_per_second']} "
                     f"| {r['seconds_per_file']} | {r['peak_rss_mb']} | {r['peak_child_rss_mb']} | {r['peak_tree_rss_mb']} |")
    converter, ocr = result["tools"]["converter"], result["tools"]["ocr"]
    lines.append(f"\nLibreOffice {converter.get('version') or '(absent)'}, network isolated: {converter.get('network_isolated')}; "
                 f"Tesseract {ocr.get('version') or '(absent)'} ({'+'.join(ocr.get('languages', []))}, {ocr.get('dpi')} dpi); "
                 f"{result['machine_cores']} cores.")
    (RESULTS / "formats.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def _cores() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
