"""Should the language versions of one practice share one main area? Out-of-fold on the realistic tune half.

The area model is fitted five times, as `cross_validate_areas` does (folds by practice, every other source always in
training), and each tune text's main-area chances are kept. A text's main area is then taken from its own chances
(read apart) or from the mean of its practice's versions (shared, as `classify.harmonise_versions` does), with the
versions the similar stage links, and scored against both readings. Beside it: how often the readers gave the two
versions of a practice one main area. Writes benchmarks/results/version_areas.{json,md}.

    .venv/bin/python benchmarks/eval_version_areas.py
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.config import Settings  # noqa: E402
from pipeline.embed import make_embedder  # noqa: E402
from pipeline.realistic import READERS, load_realistic  # noqa: E402
from pipeline.similar import same_practice_pairs, similar_stage, version_keys  # noqa: E402
from pipeline.taxonomy import load_taxonomy  # noqa: E402
from pipeline.training import AREA_PARAMS, area_training_set, out_of_fold_areas  # noqa: E402

OUT = ROOT / "benchmarks" / "results"


def out_of_fold_chances(settings: Settings, embedder) -> tuple[dict[str, np.ndarray], list[str], list]:
    """Each realistic tune text's main-area chances from a model fitted without its practice."""
    data = area_training_set(settings)
    chances, classes, practices = {}, [], []
    for held_rows, pred in out_of_fold_areas(data, embedder, AREA_PARAMS):
        classes = pred.main_classes
        for k, i in enumerate(held_rows):
            chances[data.practices[i].practice_id] = pred.main_proba[k]
            practices.append(data.practices[i])
    return chances, classes, sorted(practices, key=lambda p: p.practice_id)


def top1(chances: dict[str, np.ndarray], classes: list[str], keys: dict[str, str], reads: dict[str, list[str]],
         ids: list[str]) -> float:
    """Share of (text, reading) pairs whose read main area is ranked first, with chances shared by `keys`."""
    groups: dict[str, list[str]] = {}
    for t in chances:
        groups.setdefault(keys.get(t, t), []).append(t)
    hits = [classes[int(np.argmax(np.mean([chances[m] for m in groups[keys.get(t, t)]], axis=0)))] == r
            for t in ids for r in reads[t]]
    return round(float(np.mean(hits)), 3)


def main() -> dict:
    settings = Settings()
    embedder = make_embedder(settings.embedder, None, settings.threads)
    taxonomy = load_taxonomy()
    data = load_realistic()
    chances, classes, practices = out_of_fold_chances(settings, embedder)
    reads = {t: [taxonomy.parent(data.readings[r][t].main_area) for r in READERS] for t in chances}
    unit = {t.id: t.unit for t in data.texts}
    ids = sorted(chances)
    known = {t: unit[t] for t in ids}
    found = version_keys(ids, same_practice_pairs(similar_stage(practices, settings, embedder)))
    paired = [t for t in ids if sum(unit[u] == unit[t] for u in ids) > 1]
    pairs = sorted({unit[t] for t in paired})
    same_read = sum(data.readings[r][a].main_area == data.readings[r][b].main_area
                    for u in pairs for r in READERS
                    for a, b in [tuple(t for t in paired if unit[t] == u)[:2]])
    apart = {t: classes[int(np.argmax(chances[t]))] for t in ids}
    result = {
        "texts": len(ids), "pairs": len(pairs),
        "readers_one_main_area": [same_read, len(pairs) * len(READERS)],
        "pairs_two_main_areas_apart": sum(len({apart[t] for t in paired if unit[t] == u}) > 1 for u in pairs),
        "versions_found": sum(found[t] != t for t in ids),
        "top1": {
            "all": {"apart": top1(chances, classes, {}, reads, ids), "shared_found": top1(chances, classes, found, reads, ids),
                    "shared_known": top1(chances, classes, known, reads, ids)},
            "paired": {"apart": top1(chances, classes, {}, reads, paired),
                       "shared_found": top1(chances, classes, found, reads, paired),
                       "shared_known": top1(chances, classes, known, reads, paired)},
        },
    }
    (OUT / "version_areas.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    a, p = result["top1"]["all"], result["top1"]["paired"]
    lines = ["# One main area for the versions of one practice", "",
             f"Realistic tune half, out of fold (5 folds by practice): {len(ids)} texts, {len(pairs)} practices in two "
             f"languages. The readers gave both versions one main area in {same_read} of {len(pairs) * len(READERS)} "
             f"readings; read apart, the model gave {result['pairs_two_main_areas_apart']} of the {len(pairs)} pairs two "
             f"main areas. The similar stage linked {result['versions_found']} texts to another version.", "",
             "Main area ranked first, against both readings:", "",
             "| texts | read apart | shared (versions the similar stage links) | shared (the set's own pairs) |",
             "|---|---|---|---|",
             f"| all | {a['apart']:.3f} | {a['shared_found']:.3f} | {a['shared_known']:.3f} |",
             f"| in a pair | {p['apart']:.3f} | {p['shared_found']:.3f} | {p['shared_known']:.3f} |", ""]
    (OUT / "version_areas.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return result


if __name__ == "__main__":
    main()
