"""Run every benchmark of this folder in turn; each writes its figures to benchmarks/results/.

    .venv/bin/python benchmarks/run_all.py [--only NAME ...]

bench_ann needs faiss (`pip install -e ".[scale]"`) and is skipped, with a note, without it. bench_scale runs the
whole pipeline on 1,000, 3,000 and 10,000 practices and on ten copies of a set of 176: on 2 cores it is by far the
longest; run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ("eval_areas", "eval_version_links", "eval_version_areas", "eval_declared_flag", "eval_search", "eval_version_criteria", "eval_criteria", "eval_said_features", "eval_criteria_variants", "eval_hint_gaps", "bench_crosslingual", "bench_embed", "bench_criteria", "bench_ingest", "bench_formats", "bench_check", "bench_web",
         "bench_search", "bench_rerun", "bench_ann", "bench_scale")
# Benchmarks that need an optional extra: skipped, and said so, when it is not installed.
OPTIONAL = {"bench_ann": ("faiss", "pip install -e '.[scale]'")}
# Arguments beyond a benchmark's defaults: the scale benchmark also measures the ten copies of one set.
ARGS = {"bench_scale": ["--copies", "176x10"]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*", default=None, help="Benchmark names (file names without .py).")
    args = parser.parse_args()
    names = args.only or [n for n in ORDER if (HERE / f"{n}.py").exists()]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    failed, skipped = [], []
    for name in names:
        module, how = OPTIONAL.get(name, (None, ""))
        if module and importlib.util.find_spec(module) is None:
            print(f"== {name}: skipped ({module} is not installed: {how})", flush=True)
            skipped.append(name)
            continue
        t0 = time.perf_counter()
        print(f"== {name}", flush=True)
        code = subprocess.call([sys.executable, str(HERE / f"{name}.py"), *ARGS.get(name, [])], env=env)
        print(f"== {name}: {'ok' if code == 0 else f'failed ({code})'} in {time.perf_counter() - t0:.0f} s", flush=True)
        if code:
            failed.append(name)
    if skipped:
        print("skipped: " + ", ".join(skipped))
    print("failed: " + ", ".join(failed) if failed else "all other benchmarks ran" if skipped else "all benchmarks ran")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
