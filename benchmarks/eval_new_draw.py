"""The shipped models on a new draw of the realistic set before they are trained on it: a held-out check.

The units from FIRST to LAST (tune units not yet trained on) take the place of the test half; the test half
itself stays out, and the other tune texts are the TF-IDF baseline's training data and the cross-lingual pool.
Run it after the draw is read and before `icc-practices train`. Writes benchmarks/results/<out>.json.

    .venv/bin/python benchmarks/eval_new_draw.py u263 u292 --out realistic-forms-before-training
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.realistic import RealisticSet, evaluate_realistic, load_realistic  # noqa: E402


def held_out_draw(data: RealisticSet, first: str, last: str) -> RealisticSet:
    """The tune texts, with units first..last as the half to score; the test half left out."""
    texts = [dataclasses.replace(t, split="test") if first <= t.unit <= last else t
             for t in data.texts if first <= t.unit <= last or t.split == "tune"]
    if not any(t.split == "test" for t in texts):
        raise SystemExit(f"No text with a unit from {first} to {last}.")
    return RealisticSet(texts, data.readings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first")
    parser.add_argument("last")
    parser.add_argument("--out", default="realistic-new-draw")
    args = parser.parse_args()
    result = evaluate_realistic(held_out_draw(load_realistic(), args.first, args.last))
    out = {"units": [args.first, args.last], **{k: result[k] for k in ("counts", "agreement", "areas", "criteria", "crosslingual")}}
    path = ROOT / "benchmarks" / "results" / f"{args.out}.json"
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    areas, criteria = result["areas"], result["criteria"]
    print("areas", areas["model"], "zero-shot", areas["baselines"]["zero_shot"])
    print("criteria", criteria["model"], "word count", criteria["baselines"]["word_count"])
    print("written", path)


if __name__ == "__main__":
    main()
