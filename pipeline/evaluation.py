"""Metrics of area suggestions and cross-validation of the area classifier.

Gold labels are code lists per practice, main area first; sub-areas imply their parents.
- top-1 / top-3: the gold main area's top-level code is the best / among the three best top-level predictions;
- micro / macro F1 over the suggested sets (all codes, parents included); macro averages the codes that
  occur in the gold labels;
- per-label precision, recall, and how many times the label was suggested versus filed (over-prediction);
- confusion: gold main area -> predicted main area, for the misses.

`review_agreement` sets a run's suggestions against the secretariat's reviews of them, beside plain baselines
(the declared area for areas, word count for criteria levels): the only figures on real submissions a user has.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.metrics import f1_score, precision_score, recall_score
from sklearn.model_selection import KFold

from pipeline.records import Practice
from pipeline.taxonomy import load_taxonomy


def area_metrics(gold: Sequence[Sequence[str]], proba: np.ndarray, suggested: np.ndarray, classes: Sequence[str],
                 main_ranking: Sequence[Sequence[str]] | None = None) -> dict:
    """Metrics of one set of predictions (rows follow `gold`, columns follow `classes`); the main area is ranked
    by `main_ranking` when given, else by probability."""
    taxonomy = load_taxonomy()
    classes = [str(c) for c in classes]
    index = {c: j for j, c in enumerate(classes)}
    Y = np.zeros((len(gold), len(classes)), dtype=int)
    for i, codes in enumerate(gold):
        for code in taxonomy.with_parents(list(codes)):
            Y[i, index[code]] = 1
    S = np.asarray(suggested).astype(int)
    top_cols = [j for j, c in enumerate(classes) if taxonomy.parent(c) == c]
    top1 = top3 = 0
    confusions: Counter = Counter()
    for i, codes in enumerate(gold):
        main = taxonomy.parent(codes[0])
        order = list(main_ranking[i]) if main_ranking is not None else \
            [classes[top_cols[k]] for k in np.argsort(-proba[i, top_cols], kind="stable")]
        top1 += order[0] == main
        top3 += main in order[:3]
        if order[0] != main:
            confusions[(main, order[0])] += 1
    present = [j for j in range(len(classes)) if Y[:, j].any()]
    per_label = {}
    for j, code in enumerate(classes):
        per_label[code] = {
            "gold": int(Y[:, j].sum()),
            "suggested": int(S[:, j].sum()),
            "precision": float(precision_score(Y[:, j], S[:, j], zero_division=0)),
            "recall": float(recall_score(Y[:, j], S[:, j], zero_division=0)),
            "f1": float(f1_score(Y[:, j], S[:, j], zero_division=0)),
        }
    n = max(len(gold), 1)
    return {
        "n_practices": len(gold),
        "top1_main": top1 / n,
        "top3_main": top3 / n,
        "micro_f1": float(f1_score(Y, S, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(Y[:, present], S[:, present], average="macro", zero_division=0)) if present else 0.0,
        "micro_precision": float(precision_score(Y, S, average="micro", zero_division=0)),
        "micro_recall": float(recall_score(Y, S, average="micro", zero_division=0)),
        "mean_suggested": float(S.sum(axis=1).mean()) if len(S) else 0.0,
        "mean_gold": float(Y.sum(axis=1).mean()) if len(Y) else 0.0,
        "per_label": per_label,
        "confusions": [{"gold_main": g, "predicted_main": p, "count": c}
                       for (g, p), c in sorted(confusions.items(), key=lambda kv: (-kv[1], kv[0]))],
    }


def cross_validate(params: dict, practices: Sequence[Practice], labels: Sequence[Sequence[str]], embedder,
                   n_splits: int = 5, seed: int = 13) -> dict:
    """Out-of-fold area metrics of `make_area_classifier(embedder, **params)`: each fold's model never sees
    the practices it is scored on."""
    from pipeline.classify import encode_practices, predict_areas
    from pipeline.estimators import make_area_classifier

    enc = encode_practices(list(practices), embedder)
    n = len(practices)
    classes = list(load_taxonomy().codes)
    proba = np.zeros((n, len(classes)))
    suggested = np.zeros_like(proba, dtype=int)
    mains: list[list[str]] = [[] for _ in range(n)]
    folds = KFold(n_splits=min(n_splits, n), shuffle=True, random_state=seed)
    for train, test in folds.split(np.arange(n)):
        model = make_area_classifier(embedder, **params).fit(enc.subset(train), [labels[i] for i in train])
        pred = predict_areas(model, enc.subset(test))
        proba[test], suggested[test] = pred.proba, pred.suggested
        for k, i in enumerate(test):
            mains[i] = pred.main_ranking[k]
    metrics = area_metrics(labels, proba, suggested, classes, main_ranking=mains)
    metrics["n_splits"] = folds.get_n_splits()
    return metrics


def metrics_table(metrics: dict, title: str = "") -> str:
    """Markdown: headline figures, then per-label precision/recall."""
    lines = [f"### {title}" if title else "", "",
             "| practices | top-1 main | top-3 main | micro-F1 | macro-F1 | micro-P | micro-R | suggested/practice | gold/practice |",
             "|---|---|---|---|---|---|---|---|---|",
             f"| {metrics['n_practices']} | {metrics['top1_main']:.3f} | {metrics['top3_main']:.3f} | "
             f"{metrics['micro_f1']:.3f} | {metrics['macro_f1']:.3f} | {metrics['micro_precision']:.3f} | "
             f"{metrics['micro_recall']:.3f} | {metrics['mean_suggested']:.2f} | {metrics['mean_gold']:.2f} |",
             "", "| area | gold | suggested | precision | recall | F1 |", "|---|---|---|---|---|---|"]
    for code, row in metrics["per_label"].items():
        if row["gold"] or row["suggested"]:
            lines.append(f"| {code} | {row['gold']} | {row['suggested']} | {row['precision']:.2f} | "
                         f"{row['recall']:.2f} | {row['f1']:.2f} |")
    if metrics.get("confusions"):
        lines += ["", "Main-area misses (gold -> predicted): " + ", ".join(
            f"{c['gold_main']}->{c['predicted_main']} ({c['count']})" for c in metrics["confusions"][:12])]
    return "\n".join(lines).strip() + "\n"


def load_eval_practices(folder: Path, split: str | None = None) -> tuple[list[Practice], list[list[str]]]:
    """Practices of the evaluation set (data/eval/areas/part*.yaml) and their gold codes, main first; only
    the `tune` or `test` part of split.yaml when `split` is given."""
    from pipeline.config import load_yaml

    parts = load_yaml((Path(folder) / "split.yaml").read_text(encoding="utf-8"))["ids"] if split else {}
    practices, gold = [], []
    for path in sorted(Path(folder).glob("part*.yaml")):
        for item in load_yaml(path.read_text(encoding="utf-8")) or []:
            if split and parts.get(str(item["id"])) != split:
                continue
            sections = {k: (item.get(k) or None) for k in ("purpose", "starting_point", "process", "impact")}
            description = "\n".join(v for v in sections.values() if v)
            practices.append(Practice(
                practice_id=str(item["id"]), source_file=path.name, practice_index=0, lang=item.get("lang", "und"),
                city=item.get("city"), title=item.get("title"), main_objective=item.get("main_objective"),
                description=description, n_words=len(description.split()), **sections))
            gold.append([str(c) for c in item["areas"]])
    return practices, gold


def review_agreement(data_dir: Path, reviews: Path) -> dict:
    """A run's suggested areas and criteria levels against the reviews of its practices (a review store or
    reviews.parquet), beside the declared areas and word count.

    Areas: where the main area was reviewed, top-1 (its top-level code is the suggested main area's, or the declared
    one's), and where the area set was reviewed its F1 with parents added. Criteria, per criterion reviewed: Spearman of the score (and of word count) with
    the reviewed level (None where it cannot be computed), exact agreement and agreement within one level. Reviews of
    practices not in the run are counted apart.
    """
    import pyarrow.parquet as pq

    from pipeline.criteria import CRITERIA
    from pipeline.realistic import set_f1
    from pipeline.web.reviews import load_reviews

    taxonomy = load_taxonomy()
    data_dir = Path(data_dir)
    practices = {r["practice_id"]: r for r in pq.read_table(
        data_dir / "practices.parquet",
        columns=["practice_id", "n_words", "declared_areas", "predicted_areas", "main_area_pred"]).to_pylist()}
    levels = {(r["practice_id"], r["criterion"]): r for r in pq.read_table(
        data_dir / "criteria.parquet", columns=["practice_id", "criterion", "level", "score"]).to_pylist()}
    every = load_reviews(reviews)
    found = [r for r in every if r.practice_id in practices]
    out: dict = {"n_reviewed": len(found), "not_in_run": len(every) - len(found)}
    mains, sets = [], []
    # two reviewers whose areas do not fit together give no area label, as in training: joined, their values would
    # be a set neither chose
    out["areas_disagreeing"] = sorted(r.practice_id for r in found if r.disagreement())
    for review in found:
        practice = practices[review.practice_id]
        if review.practice_id in out["areas_disagreeing"]:
            continue
        declared = list(practice["declared_areas"] or [])
        if review.main_area:  # an area set alone names no main area: its first box is only the lowest-numbered
            main = taxonomy.parent(review.main_area)
            suggested = practice["main_area_pred"]
            mains.append({"model_top1": bool(suggested) and taxonomy.parent(suggested) == main,
                          "declared_top1": bool(declared) and taxonomy.parent(declared[0]) == main})
        if review.areas:  # a main area alone says nothing of the rest of the set
            gold = set(taxonomy.with_parents(review.reviewed_set()))
            predicted = set(taxonomy.with_parents(list(practice["predicted_areas"] or [])))
            sets.append({"model_set_f1": set_f1(predicted, gold),
                         "declared_set_f1": set_f1(set(taxonomy.with_parents(declared)), gold)})
    out["areas"] = {"n": len(mains), "n_sets": len(sets)}
    # which reviewed practices each figure reads, to tell how many of them a model learned from
    out["ids"] = {"areas": sorted(r.practice_id for r in found if (r.main_area or r.areas)
                                  and r.practice_id not in out["areas_disagreeing"]),
                  "criteria": sorted(r.practice_id for r in found if r.criteria)}
    for rows in (mains, sets):
        for key in (rows[0] if rows else {}):
            out["areas"][key] = round(float(np.mean([r[key] for r in rows])), 3)
    out["criteria"] = {}
    for crit in CRITERIA:
        pairs = [(levels[(r.practice_id, crit)], practices[r.practice_id]["n_words"] or 0, r.criteria[crit])
                 for r in found if crit in r.criteria and (r.practice_id, crit) in levels]
        if not pairs:
            continue
        given = np.array([p[0]["level"] for p in pairs])
        reviewed = np.array([p[2] for p in pairs])
        out["criteria"][crit] = {
            "n": len(pairs),
            "spearman": _ranked_agreement([p[0]["score"] for p in pairs], reviewed),
            "word_count": _ranked_agreement([p[1] for p in pairs], reviewed),
            "exact": round(float(np.mean(given == reviewed)), 3),
            "within_one": round(float(np.mean(np.abs(given - reviewed) <= 1)), 3),
        }
    return out


def _ranked_agreement(x, reviewed) -> float | None:
    """Spearman of `x` with the reviewed levels; None without three reviews, or when either side is constant (no
    ranking to agree with: 0.00 would read as no agreement)."""
    from pipeline.realistic import spearman

    if len(reviewed) < 3 or np.ptp(np.asarray(x, float)) == 0 or np.ptp(reviewed) == 0:
        return None
    return spearman(x, reviewed)


def _n(count: int, word: str, plural: str | None = None) -> str:
    """'1 practice', '2 practices'."""
    return f"{count} {word if count == 1 else plural or word + 's'}"


def criteria_model_of_run(data_dir: Path) -> dict | None:
    """The card (model_card.json) of the criteria model a run used, found through its manifest; None when the run
    used no learned criteria model or that model has changed since (its file no longer gives the run's model id)."""
    import hashlib
    import json

    manifest = json.loads((Path(data_dir) / "manifest.json").read_text(encoding="utf-8"))
    model_id = (manifest.get("models") or {}).get("criteria") or ""
    folder = Path((manifest.get("settings") or {}).get("criteria_model_dir") or "")
    if not model_id.startswith("criteria:ordinal:") or not (folder / "model.json").is_file():
        return None
    if hashlib.sha256((folder / "model.json").read_bytes()).hexdigest()[:12] != model_id.split(":")[2]:
        return None
    return json.loads((folder / "model_card.json").read_text(encoding="utf-8"))


def area_model_of_run(data_dir: Path) -> dict | None:
    """The card (model_card.json) of the area model a run used, found through its manifest; {} when the run used
    the zero-shot classifier (which learned from nothing), None when that model has changed since (its files no
    longer give the run's model id)."""
    import json

    from pipeline.classify import model_tag

    manifest = json.loads((Path(data_dir) / "manifest.json").read_text(encoding="utf-8"))
    model_id = (manifest.get("models") or {}).get("area_classifier") or ""
    folder = Path((manifest.get("settings") or {}).get("model_dir") or "")
    if model_id.startswith("area-classifier:zero-shot:"):
        return {}
    if not model_id.startswith("area-classifier:") or not (folder / "model_card.json").is_file():
        return None
    if model_tag(folder) != model_id.split(":")[1]:
        return None
    return json.loads((folder / "model_card.json").read_text(encoding="utf-8"))


def models_trained_on_reviews(data_dir: Path) -> dict:
    """Whether the run's area and criteria models learned from reviews (None: cannot be told; so for a run
    without a manifest), and the reviewed practices each learned from (`areas_ids`, `criteria_ids`; empty when
    none or not told)."""
    if not (Path(data_dir) / "manifest.json").is_file():
        return {"areas": None, "criteria": None, "areas_ids": [], "criteria_ids": []}
    areas, criteria = area_model_of_run(data_dir), criteria_model_of_run(data_dir)
    return {"areas": None if areas is None else "reviewed" in (areas.get("sources") or {}),
            "criteria": None if criteria is None else bool(criteria["n_texts"].get("reviewed")),
            "areas_ids": list(((areas or {}).get("reviewed") or {}).get("used_ids") or []),
            "criteria_ids": list((criteria or {}).get("reviewed_ids") or [])}


def review_agreement_markdown(result: dict, trained_on_reviews: bool | None = False,
                              areas_trained_on_reviews: bool | None = False, learned_from: dict | None = None) -> str:
    """The review agreement as a Markdown report, with what the figures can and cannot say (`trained_on_reviews`
    and `areas_trained_on_reviews`: whether the run's criteria model learned from reviewed levels, and its area
    model from reviewed areas; None when that cannot be told; `learned_from`: the reviewed practices each learned
    from, `models_trained_on_reviews`' `areas_ids` and `criteria_ids`, to say how many of these it read)."""
    learned_from = learned_from or {}

    def learned(kind: str, figures: str) -> str:
        """What a model trained with reviews means for these figures: how many of the reviewed practices measured
        here it learned from, when its card names them."""
        known = set(learned_from.get(f"{kind}_ids") or [])
        measured = (result.get("ids") or {}).get(kind) or []
        if not known or not measured:
            return (f"where these are the same reviews, the {figures} figures are measured on texts the model learned "
                    "from and look better than they are.")
        n = sum(pid in known for pid in measured)
        if not n:
            return f"none of the {len(measured)} reviewed practices measured here is a text it learned from."
        return (f"{n} of the {len(measured)} reviewed practices measured here are texts it learned from, so the "
                f"{figures} figures look better than they are.")

    lines = ["# The run's suggestions against the secretariat's reviews", "",
             f"{_n(result['n_reviewed'], 'reviewed practice')} of the run"
             + (f" (reviews of {_n(result['not_in_run'], 'practice')} not in it are left out)."
                if result["not_in_run"] else "."),
             "Reviewed practices are the ones someone chose to review, often where a suggestion looked wrong: the",
             "figures describe them, not every practice of the run. Spearman needs at least three reviews with",
             "different levels, and scores or word counts that differ (n/a otherwise)."]
    # a model that learned from these reviews is measured on its own training labels
    if areas_trained_on_reviews:
        lines += ["", "The area model was trained with reviewed areas: " + learned("areas", "main area and area set")]
    elif areas_trained_on_reviews is None:
        lines += ["", "Whether the run's area model learned from reviewed areas cannot be told: its model files have",
                  "changed since the run."]
    if trained_on_reviews:
        lines += ["", "The criteria model was trained with reviewed levels: " + learned("criteria", "criteria")]
    elif trained_on_reviews is None:
        lines += ["", "Whether the run's criteria model learned from reviewed levels cannot be told: its model file",
                  "has changed since the run, or the run used the hand-set cut points."]
    areas = result["areas"]
    lines += ["", "## Areas", ""]
    if result.get("areas_disagreeing"):
        lines += [f"{_n(len(result['areas_disagreeing']), 'reviewed practice')} left out, as in training: one "
                  "reviewer's main area is outside the area set another chose "
                  f"({', '.join(result['areas_disagreeing'])}).", ""]
    if areas["n"] or areas["n_sets"]:  # an area set may be reviewed without a main area, and the other way round
        top1 = lambda key: f"{areas[key]:.2f}" if areas["n"] else "-"  # noqa: E731
        f1 = lambda key: f"{areas[key]:.2f}" if areas["n_sets"] else "-"  # noqa: E731
        lines += [f"{_n(areas['n'], 'practice')} with a reviewed main area, {areas['n_sets']} with a reviewed area "
                  "set.", "",
                  "| | main area right (top-1) | area set F1 |", "|---|---|---|",
                  f"| suggested | {top1('model_top1')} | {f1('model_set_f1')} |",
                  f"| declared by the city | {top1('declared_top1')} | {f1('declared_set_f1')} |"]
    else:
        lines.append("No reviewed area.")
    lines += ["", "## Criteria levels", ""]
    if result["criteria"]:
        lines += ["| criterion | reviews | Spearman, score | Spearman, word count | exact | within one |",
                  "|---|---|---|---|---|---|"]
        rho = lambda value: "n/a" if value is None else f"{value:.2f}"  # noqa: E731
        lines += [f"| {c} | {v['n']} | {rho(v['spearman'])} | {rho(v['word_count'])} | {v['exact']:.2f} | "
                  f"{v['within_one']:.2f} |" for c, v in result["criteria"].items()]
    else:
        lines.append("No reviewed level.")
    return "\n".join(lines) + "\n"
