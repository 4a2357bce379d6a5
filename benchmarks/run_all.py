"""Run every benchmark of this folder in turn; each writes its figures to benchmarks/results/.

    .venv/bin/python benchmarks/run_all.py [--only NAME ...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ("eval_areas", "eval_criteria", "bench_crosslingual", "bench_embed", "bench_criteria", "bench_ingest", "bench_formats", "bench_web",
         "bench_search", "bench_rerun")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*", default=None, help="Benchmark names (file names without .py).")
    args = parser.parse_args()
    names = args.only or [n for n in ORDER if (HERE / f"{n}.py").exists()]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    failed = []
    for name in names:
        t0 = time.perf_counter()
        print(f"== {name}", flush=True)
        code = subprocess.call([sys.executable, str(HERE / f"{name}.py")], env=env)
        print(f"== {name}: {'ok' if code == 0 else f'failed ({code})'} in {time.perf_counter() - t0:.0f} s", flush=True)
        if code:
            failed.append(name)
    print("failed: " + ", ".join(failed) if failed else "all benchmarks ran")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
