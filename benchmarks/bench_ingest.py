"""Ingest + segment throughput and peak memory over the sample corpus replicated to many files.

Each copy gets a unique trailing byte sequence (ignored by the readers) so that no two files share a hash and
nothing is served from the cache. Each size runs in a fresh process so peak memory is measured cleanly. The files
are read by the run's worker processes (`ingest_processes`); peak memory counts them (the manifest's
`ingest_segment_with_workers`: the main process plus each worker at the largest one's peak).

Usage: python benchmarks/bench_ingest.py [--sizes 500 2000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
RESULTS = ROOT / "benchmarks" / "results"


def replicate(target: Path, n_files: int) -> None:
    sources = sorted(p for p in RAW.iterdir() if p.is_file())
    for i in range(n_files):
        src = sources[i % len(sources)]
        data = src.read_bytes()
        # Bytes after a zip's directory or a PDF's %%EOF are ignored by readers; text files get a line of
        # spaces and tabs spelling the copy number in binary, which the readers collapse to nothing.
        invisible = "\n" + bin(i)[2:].replace("0", " ").replace("1", "\t") + "\n"
        tail = f"\n%{i}\n".encode()
        if src.suffix in (".txt", ".md"):
            tail = invisible.encode("utf-16-le" if data[:2] == b"\xff\xfe" else "utf-8")
        (target / f"{i:05d}-{src.name}").write_bytes(data + tail)


def measure(n_files: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from pipeline.config import Settings
    from pipeline.run import run_batch

    with tempfile.TemporaryDirectory() as tmp:
        inputs, out = Path(tmp) / "in", Path(tmp) / "out"
        inputs.mkdir()
        replicate(inputs, n_files)
        t0 = time.perf_counter()
        batch = run_batch([inputs], out, Settings(), analyse=False)
        seconds = time.perf_counter() - t0
    statuses = {s: sum(r.status == s for r in batch.files) for s in ("ok", "empty_form", "error")}
    return {
        "files": n_files,
        "practices": len(batch.practices),
        "statuses": statuses,
        "seconds": round(seconds, 2),
        "files_per_second": round(n_files / seconds, 1),
        "workers": Settings().ingest_processes,
        "main_process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_rss_mb": batch.manifest["peak_rss_mb"].get("ingest_segment_with_workers")
        or batch.manifest["peak_rss_mb"]["ingest_segment"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    rows = []
    for size in args.sizes:
        proc = subprocess.run([sys.executable, __file__, "--one", str(size)], capture_output=True, text=True, check=True)
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(rows[-1])
    result = {
        "benchmark": "ingest_segment",
        "runs": rows,
        "memory_ratio_largest_to_smallest": round(rows[-1]["peak_rss_mb"] / rows[0]["peak_rss_mb"], 3),
        "target_files_per_second": 50,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ingest.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["| files | practices | seconds | files/s | reading processes | peak RSS, with the workers (MB) | main process alone (MB) |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['files']} | {r['practices']} | {r['seconds']} | {r['files_per_second']} | {r['workers']} | "
              f"{r['peak_rss_mb']} | {r['main_process_peak_rss_mb']} |" for r in rows]
    lines.append(f"\nPeak memory ratio {rows[-1]['files']} / {rows[0]['files']} files: {result['memory_ratio_largest_to_smallest']}")
    (RESULTS / "ingest.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
