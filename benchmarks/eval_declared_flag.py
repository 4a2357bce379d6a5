"""How often `area_mismatch` flags a declared area, by how the declaration relates to the readers' areas.

The realistic texts declare no area, so declarations are made from the two readings of each text whose readers
agree on its main area: that main area ("right"), with an area both readers gave beside it, in either order, or
that other area alone; and every top-level area neither reader gave, alone ("wrong") or before the right one. A
good flag fires on the wrong declarations and stays quiet on the others. The tune half is read out of fold (5
folds by practice, as `cross_validate_areas`); the test half by the shipped model. Beside the shipped rule
(`classify.declared_area_mismatch`), the earlier one: the first declared area missing from the three likeliest
main areas, whatever their chances. Writes benchmarks/results/declared_flag.{json,md}.

    .venv/bin/python benchmarks/eval_declared_flag.py
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.classify import declared_area_mismatch, load_or_zero_shot, predict_areas  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.embed import make_embedder  # noqa: E402
from pipeline.realistic import READERS, load_realistic, read_back  # noqa: E402
from pipeline.records import Practice  # noqa: E402
from pipeline.taxonomy import load_taxonomy  # noqa: E402
from pipeline.training import AREA_PARAMS, area_training_set, out_of_fold_areas  # noqa: E402

OUT = ROOT / "benchmarks" / "results"
KINDS = ("right", "right, then another read", "another read, then right", "another read alone", "wrong",
         "wrong, then right")


def declarations(readings: list, tops: list[str]) -> list[tuple[str, list[str]]]:
    """(kind, declared codes) made from the readings of one text; none where the readers' main areas differ."""
    taxonomy = load_taxonomy()
    mains = {taxonomy.parent(r.main_area) for r in readings}
    if len(mains) != 1:
        return []
    (main,) = mains
    sets = [{taxonomy.parent(a) for a in r.areas} | {taxonomy.parent(r.main_area)} for r in readings]
    both, either = set.intersection(*sets), set.union(*sets)
    out = [("right", [main])]
    for other in sorted(both - {main}):
        out += [("right, then another read", [main, other]), ("another read, then right", [other, main]),
                ("another read alone", [other])]
    for wrong in sorted(set(tops) - either):
        out += [("wrong", [wrong]), ("wrong, then right", [wrong, main])]
    return out


def earlier_rule(declared: list[str], main_scores: dict[str, float]) -> bool:
    ranking = sorted(main_scores, key=lambda c: -main_scores[c])
    return load_taxonomy().parent(declared[0]) not in ranking[:3]


def flag_rates(items: list[tuple[list, object, int]], settings: Settings) -> dict:
    """Share flagged per kind of declaration, by the earlier and the shipped rule."""
    counts = {rule: {k: [0, 0] for k in KINDS} for rule in ("earlier", "shipped")}
    for readings, pred, k in items:
        main_scores = dict(zip(pred.main_classes, map(float, pred.main_proba[k])))
        probabilities = dict(zip(pred.classes, map(float, pred.proba[k])))
        suggested = pred.ranked(k)
        for kind, declared in declarations(readings, pred.main_classes):
            form = Practice(practice_id="x", source_file="x", practice_index=0, declared_areas=declared)
            for rule, flagged in (("earlier", earlier_rule(declared, main_scores)),
                                  ("shipped", declared_area_mismatch(form, main_scores, probabilities, suggested,
                                                                     settings))):
                counts[rule][kind][0] += flagged
                counts[rule][kind][1] += 1
    return {rule: {k: {"flagged": n, "of": total, "share": round(n / total, 3) if total else None}
                   for k, (n, total) in by_kind.items()} for rule, by_kind in counts.items()}


def main() -> dict:
    settings = Settings()
    embedder = make_embedder(settings.embedder, None, settings.threads)
    data = load_realistic()
    readings = lambda tid: [data.readings[r][tid] for r in READERS]  # noqa: E731
    tune = area_training_set(settings)
    tune_items = [(readings(tune.practices[i].practice_id), pred, k)
                  for held, pred in out_of_fold_areas(tune, embedder, AREA_PARAMS) for k, i in enumerate(held)]
    test = [t for t in data.rated() if t.split == "test"]
    read = read_back(test, settings)
    classifier, _ = load_or_zero_shot(settings, embedder)
    pred = predict_areas(classifier, [read[t.id] for t in test])
    test_items = [(readings(t.id), pred, k) for k, t in enumerate(test)]
    result = {"tune (out of fold)": flag_rates(tune_items, settings), "test (shipped model)": flag_rates(test_items, settings),
              "settings": {"area_top_n_for_mismatch": settings.area_top_n_for_mismatch,
                           "mismatch_min_probability": settings.areas.mismatch_min_probability,
                           "mismatch_min_main_chance": settings.areas.mismatch_min_main_chance}}
    (OUT / "declared_flag.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    lines = ["# The declared-area flag, by how the declaration relates to the readers' areas", "",
             "Declarations made from the two readings of each realistic text whose readers agree on its main area "
             "(`benchmarks/eval_declared_flag.py`). Share of declarations flagged (`area_mismatch`); the wrong ones "
             "should be flagged, the others not. Earlier rule: the first declared area missing from the three "
             "likeliest main areas. Shipped: no declared area suggested, with a probability of "
             f"{settings.areas.mismatch_min_probability:.2f} or more, or among the three likeliest main areas with a "
             f"chance of {settings.areas.mismatch_min_main_chance:.2f} or more.", ""]
    for half in ("tune (out of fold)", "test (shipped model)"):
        lines += [f"## {half}", "", "| declared | declarations | earlier rule | shipped rule |", "|---|---|---|---|"]
        for kind in KINDS:
            a, b = result[half]["earlier"][kind], result[half]["shipped"][kind]
            lines.append(f"| {kind} | {a['of']} | {a['share']:.3f} | {b['share']:.3f} |")
        lines.append("")
    (OUT / "declared_flag.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return result


if __name__ == "__main__":
    main()
