"""How far a new reader gets from the two readings, beside word count: the criteria targets in context.

The quote readers (data/eval/realistic/QUOTE_RULES.md) also gave each tune text a level per criterion. Read as
a third reading, their levels show how closely an independent reader follows the mean of the two readings, and
how far above word count that is. On the tune half only (the test half was never quote-read), for all tune
texts and for those of the first draw (units up to u132), the kind of text the test half holds.
Writes benchmarks/results/third_reading.{json,md}.

    .venv/bin/python benchmarks/eval_third_reading.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.realistic import CRITERIA, READERS, load_quote_levels, load_realistic, spearman  # noqa: E402

FIRST_DRAW_LAST_UNIT = "u132"


def figures(data, third: dict, ids: list[str]) -> dict:
    texts = {t.id: t for t in data.texts}
    words = [len(texts[i].description().split()) for i in ids]
    out = {}
    for crit in CRITERIA:
        mean = [np.mean([data.readings[r][i].criteria[crit] for r in READERS]) for i in ids]
        out[crit] = {
            "third_reader": spearman([third[i][crit] for i in ids], mean),
            "word_count": spearman(words, mean),
            "two_readings": spearman(*[[data.readings[r][i].criteria[crit] for i in ids] for r in READERS]),
        }
    return out


def main() -> None:
    data = load_realistic()
    third = load_quote_levels()
    tune = sorted(t.id for t in data.texts if t.split == "tune" and set(CRITERIA) <= set(third.get(t.id, {})))
    first = [i for i in tune if i.split("-")[0] <= FIRST_DRAW_LAST_UNIT]
    result = {"all tune texts": {"n": len(tune), **figures(data, third, tune)},
              "first draw's tune texts": {"n": len(first), **figures(data, third, first)}}
    lines = ["# A third reading beside word count (realistic tune half)", "",
             "Spearman with the mean of the two readings: the quote readers' levels (a third, independent reading),",
             "word count, and the two readings with each other. `benchmarks/eval_third_reading.py`.", ""]
    for name, block in result.items():
        lines += [f"## {name} ({block['n']})", "",
                  "| criterion | third reader | word count | third reader - word count | the two readings |",
                  "|---|---|---|---|---|"]
        for crit in CRITERIA:
            f = block[crit]
            lines.append(f"| {crit} | {f['third_reader']:.2f} | {f['word_count']:.2f} | "
                         f"{f['third_reader'] - f['word_count']:+.2f} | {f['two_readings']:.2f} |")
        lines.append("")
    results = ROOT / "benchmarks" / "results"
    (results / "third_reading.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (results / "third_reading.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
