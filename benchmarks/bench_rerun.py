"""A full `run` over data/raw: share of time spent outside embedding, and a re-run of the unchanged corpus.

Each run is a fresh process (as a user would start it). Embedding time is the time spent inside the
embedding model (the cache wrapper's inner encoder, model weight loading on first use included).
Targets: outside-embedding share < 25% of the cold run; re-run < 10% of the cold run.

    .venv/bin/python benchmarks/bench_rerun.py [--embedder use-multilingual]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


class _Timed:
    """Forwards to an embedder and adds up the time spent encoding."""

    def __init__(self, inner):
        self._inner = inner
        self.seconds = 0.0

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def encode(self, texts):
        t0 = time.perf_counter()
        try:
            return self._inner.encode(texts)
        finally:
            self.seconds += time.perf_counter() - t0


def one_run(out: Path, embedder: str) -> dict:
    sys.path.insert(0, str(ROOT))
    import pipeline.stages as stages
    from pipeline.config import Settings
    from pipeline.run import run_batch

    timers: list[_Timed] = []
    original = stages.make_embedder

    def make(*args, **kwargs):
        cached = original(*args, **kwargs)
        cached.inner = _Timed(cached.inner)
        timers.append(cached.inner)
        return cached

    stages.make_embedder = make
    t0 = time.perf_counter()
    batch = run_batch([ROOT / "data" / "raw"], out, Settings(embedder=embedder))
    total = time.perf_counter() - t0
    embed = sum(t.seconds for t in timers)
    return {"run_batch_s": round(total, 2), "embedding_s": round(embed, 2),
            "outside_embedding_share": round((total - embed) / total, 4),
            "cache": {"hits": batch.manifest["counts"].get("embedding_cache_hits"),
                      "misses": batch.manifest["counts"].get("embedding_cache_misses")},
            "stages_s": batch.manifest["timings_seconds"], "practices": batch.manifest["counts"]["practices"]}


def _process(out: Path, embedder: str) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--one", str(out), "--embedder", embedder],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_s"] = round(time.perf_counter() - t0, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embedder", default="use-multilingual")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.one, args.embedder)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        cold = _process(Path(tmp), args.embedder)
        print("cold", cold, flush=True)
        warm = _process(Path(tmp), args.embedder)
        print("re-run", warm, flush=True)
    results = {"embedder": args.embedder, "cold": cold, "rerun": warm,
               "rerun_ratio_process": round(warm["process_s"] / cold["process_s"], 4),
               "rerun_ratio_run_batch": round(warm["run_batch_s"] / cold["run_batch_s"], 4)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "rerun.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    lines = [f"Full `run` over data/raw ({cold['practices']} practices, all stages and reports), embedder "
             f"{args.embedder}, each run a new process.", "",
             "| run | process wall | run_batch | in embedding model | outside embedding | cache hits / misses |",
             "|---|---|---|---|---|---|"]
    for name, r in (("cold", cold), ("re-run, unchanged corpus", warm)):
        c = r.get("cache") or {}
        lines.append(f"| {name} | {r['process_s']} s | {r['run_batch_s']} s | {r['embedding_s']} s | "
                     f"{r['outside_embedding_share']:.1%} | {c.get('hits', '-')} / {c.get('misses', '-')} |")
    lines += ["", f"Re-run / cold: {results['rerun_ratio_process']:.1%} (process wall), "
              f"{results['rerun_ratio_run_batch']:.1%} (run_batch).", "",
              "Stage times of the cold run (s): " + ", ".join(f"{k} {v}" for k, v in cold["stages_s"].items())]
    (RESULTS / "rerun.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
