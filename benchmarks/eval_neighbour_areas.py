"""What a neighbour's score says: how often the practices listed as similar work in the same area.

For every text of the realistic tune half, its five best neighbours in other cities (other practices, as the
similar stage ranks them by pair score), grouped by score band: the share whose main area of action the readers
put in the same top-level area, and the share with any top-level area in common, beside pairs of texts drawn at
random. The bands give the words of the city reports (ReportSettings.close_score and related_score).
Writes benchmarks/results/neighbour_areas.{json,md}.

    .venv/bin/python benchmarks/eval_neighbour_areas.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.config import ReportSettings  # noqa: E402
from pipeline.embed import make_embedder  # noqa: E402
from pipeline.realistic import load_realistic, read_back  # noqa: E402
from pipeline.similar import practice_similarity  # noqa: E402
from pipeline.taxonomy import load_taxonomy  # noqa: E402

BANDS = [(0.0, 0.45), (0.45, 0.50), (0.50, 0.55), (0.55, 0.60), (0.60, 2.0)]
TOP = 5


def main() -> dict:
    taxonomy = load_taxonomy()
    data = load_realistic()
    texts = [t for t in data.texts if t.split == "tune"]
    practices = read_back(texts)
    ids = [t.id for t in texts]
    scores = practice_similarity([practices[i] for i in ids], make_embedder("use-multilingual"))
    units = np.array([t.unit for t in texts])
    cities = np.array([t.city for t in texts])
    main_areas = {i: {taxonomy.parent(r[i].main_area) for r in data.readings.values()} for i in ids}
    any_areas = {i: {taxonomy.parent(a) for r in data.readings.values() for a in r[i].areas} for i in ids}

    rows = []  # score, same main area, any area in common
    for q in range(len(ids)):
        others = [j for j in np.argsort(-scores[q], kind="stable") if units[j] != units[q] and cities[j] != cities[q]]
        for j in others[:TOP]:
            a, b = ids[q], ids[j]
            rows.append((scores[q, j], bool(main_areas[a] & main_areas[b]), bool(any_areas[a] & any_areas[b])))
    rows = np.array(rows, dtype=float)
    rng = np.random.default_rng(20261204)
    pairs = [(a, b) for a, b in rng.integers(0, len(ids), (5000, 2)) if units[a] != units[b] and cities[a] != cities[b]]
    random_main = float(np.mean([bool(main_areas[ids[a]] & main_areas[ids[b]]) for a, b in pairs]))
    random_any = float(np.mean([bool(any_areas[ids[a]] & any_areas[ids[b]]) for a, b in pairs]))
    bands = []
    for lo, hi in BANDS:
        mask = (rows[:, 0] >= lo) & (rows[:, 0] < hi)
        bands.append({"from": lo, "to": hi, "n": int(mask.sum()),
                      "same_main_area": round(float(rows[mask, 1].mean()), 3) if mask.any() else None,
                      "area_in_common": round(float(rows[mask, 2].mean()), 3) if mask.any() else None})
    result = {"texts": len(ids), "neighbours": len(rows), "bands": bands,
              "random_pairs": {"n": len(pairs), "same_main_area": round(random_main, 3), "area_in_common": round(random_any, 3)},
              "report_words": {"close": ReportSettings().close_score, "related": ReportSettings().related_score}}
    write(result)
    return result


def write(result: dict) -> None:
    out = ROOT / "benchmarks" / "results"
    (out / "neighbour_areas.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# What a neighbour's score says (realistic tune half)", "",
        f"The {TOP} best neighbours in other cities of each of the {result['texts']} tune texts "
        f"({result['neighbours']} pairs), by pair score: the share whose readers' main areas fall in the same "
        "top-level area, and the share with any top-level area in common. `benchmarks/eval_neighbour_areas.py`.", "",
        "| score | pairs | same main area | an area in common |", "|---|---|---|---|",
    ]
    for band in result["bands"]:
        hi = "" if band["to"] >= 2 else f"{band['to']:.2f}"
        lines.append(f"| {band['from']:.2f} - {hi} | {band['n']} | {band['same_main_area']} | {band['area_in_common']} |")
    r = result["random_pairs"]
    lines += [f"| two texts at random | {r['n']} | {r['same_main_area']} | {r['area_in_common']} |", "",
              f"City reports call a neighbour close from {result['report_words']['close']:.2f}, related from "
              f"{result['report_words']['related']:.2f}, and loosely related below (`ReportSettings`)."]
    (out / "neighbour_areas.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
