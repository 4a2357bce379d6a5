"""What a budget table in a form does to its criteria levels.

Forms often carry a table of costs or a timetable. Its figures say how much was spent, not that a need was
shown or an impact measured, and a reader would not rate the practice higher on those criteria for it. Each
realistic text is read back from its Word form, then given a twelve-row budget table (item, amount, share of
the total) at the end of its process part, or of its description when it has no labelled parts, as the Word
reader gives a table's cells: one per line. Reports, per criterion, the mean change of level and the Spearman
with the mean of the two readings with and without the table. Writes benchmarks/results/budget_table.{json,md}.

    .venv/bin/python benchmarks/eval_budget_table.py
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.realistic import CRITERIA, load_realistic, read_back, reference_levels, spearman  # noqa: E402

ITEMS = ("Staff", "Venue", "Printing", "Translation", "Catering", "Travel", "Materials", "Evaluation", "Website",
         "Childcare", "Insurance", "Contingency")


def budget_cells() -> str:
    total = sum(1500 * (k + 1) for k in range(len(ITEMS)))
    cells = []
    for k, item in enumerate(ITEMS):
        amount = 1500 * (k + 1)
        cells += [item, f"{amount:,} €".replace(",", " "), f"{round(100 * amount / total)} %"]
    return "\n".join(cells)


def with_table(practice):
    table = budget_cells()
    if practice.process:
        process = practice.process + "\n" + table
        return replace(practice, practice_id=practice.practice_id + "+table", process=process,
                       description=(practice.description or "").replace(practice.process, process))
    return replace(practice, practice_id=practice.practice_id + "+table",
                   description=(practice.description or "") + "\n" + table)


def half_figures(data, split: str) -> dict:
    from pipeline.config import Settings
    from pipeline.criteria import scorer_for
    from pipeline.embed import make_embedder

    texts = [t for t in data.rated() if t.split == split]
    ids = [t.id for t in texts]
    settings = Settings()
    scorer = scorer_for(settings, make_embedder(settings.embedder, None, settings.threads))
    practices = read_back(texts, settings)
    plain = [practices[i] for i in ids]
    tabled = [with_table(p) for p in plain]
    rows = {(r["practice_id"], r["criterion"]): r for r in scorer.score(plain + tabled)}
    mean = reference_levels(data, ids)
    out: dict = {"n": len(ids)}
    for crit in CRITERIA:
        before = [rows[(p.practice_id, crit)] for p in plain]
        after = [rows[(p.practice_id, crit)] for p in tabled]
        change = np.array([a["level"] - b["level"] for a, b in zip(after, before)])
        out[crit] = {"level_change": round(float(change.mean()), 3),
                     "raised_two_or_more": round(float((change >= 2).mean()), 3),
                     "spearman_without": spearman([r["score"] for r in before], mean[crit]),
                     "spearman_with": spearman([r["score"] for r in after], mean[crit])}
    return out


def markdown(result: dict) -> str:
    lines = ["# A budget table in the form (realistic set)", "",
             "Each text read back from its Word form, then with a twelve-row budget table (item, amount, share) in its",
             "process part, cells one per line as the Word reader gives them (`benchmarks/eval_budget_table.py`).", ""]
    for split, block in result.items():
        lines += [f"## {split} half ({block['n']} texts)", "",
                  "| criterion | mean level change | raised by 2 or more | Spearman without the table | with it |",
                  "|---|---|---|---|---|"]
        for crit in CRITERIA:
            f = block[crit]
            lines.append(f"| {crit} | {f['level_change']:+.2f} | {f['raised_two_or_more']:.2f} | "
                         f"{f['spearman_without']:.2f} | {f['spearman_with']:.2f} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    data = load_realistic()
    result = {split: half_figures(data, split) for split in ("test", "tune")}
    out = ROOT / "benchmarks" / "results" / "budget_table"
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))


if __name__ == "__main__":
    main()
