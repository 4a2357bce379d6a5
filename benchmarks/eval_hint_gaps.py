"""Do the criteria hints know what a text already says? Each gap of criteria.yaml (what a hint asks for: the group
served, how the need became known, the local actors, who did what...) is either said by the text, and then the
hint moves on, or not said, and then the hint asks for it.

data/eval/gaps holds single sentences of the kind city officers write, each for one gap: sentences that state it
(plainly, in other words, or on the side of another point) and near misses that could sit in the same part of a
report without stating it (WRITING.md). Two writers wrote the tune half (`tune.yaml`), a third the test half
(`test.yaml`); a reader who saw neither the writers' labels nor their brief said for each sentence whether it
states its gap (RATING.md);
only the sentences where writer and reader agree are scored.

Two readings of a gap, side by side on the test half (no model has read it):
- cues: a cue of the gap's groups in the sentence (the lexicons and detectors of criteria.yaml), the baseline;
- cues or model: that, or a gap model of models/criteria/gaps.json (pipeline/hint_gaps.py, trained on the tune
  half) reading the sentence as saying it.
"Said" on a sentence that states its gap is a hint spared; "said" on a near miss is a hint lost. A model may also
fire on sentences about another criterion, which a long report gives it many chances to do: that rate is shown.
Then, on the realistic test half, how many of the hints shown change when the gap models are used.
Writes benchmarks/results/hint_gaps.{json,md}.

    .venv/bin/python benchmarks/eval_hint_gaps.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.config import DEFAULT_CRITERIA_MODEL_DIR, load_yaml  # noqa: E402
from pipeline.criteria import CriteriaScorer  # noqa: E402
from pipeline.hint_gaps import (GAPS_DIR, cue_said, cued, load_gap_model, load_gap_sentences, other_criteria_said,  # noqa: E402
                                said_rates)
from pipeline.realistic import load_realistic, read_back  # noqa: E402
from pipeline.registry import shared_embedder  # noqa: E402

DRAWS = 2000


def read_half(items: list[dict], embedder, model) -> dict:
    """Per sentence: the cues' reading and the model's chance for its own gap; and how often a gap model fires on a
    sentence written for another criterion."""
    vectors = np.asarray(embedder.encode([item["text"] for item in items]), dtype=np.float64)
    elements = np.array([item["element"] for item in items])
    chances = model.chances(vectors)
    own = np.array([chances[e][k] for k, e in enumerate(elements)])
    return {"cues": cue_said(items), "own": own, "elements": elements,
            "other_criteria_said": other_criteria_said(model.models, vectors, elements, model.threshold),
            "langs": np.array([item["lang"] for item in items]),
            "states": np.array([bool(item["states"]) for item in items])}


def gain_interval(cues: np.ndarray, model: np.ndarray, states: np.ndarray, seed: int = 0) -> list[float]:
    """95% bootstrap interval of the gain in balanced accuracy (cues or model, minus cues), sentences drawn again."""
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(states), np.flatnonzero(~states)
    p, n = rng.choice(pos, (DRAWS, len(pos))), rng.choice(neg, (DRAWS, len(neg)))
    gains = ((model[p].mean(1) - cues[p].mean(1)) - (model[n].mean(1) - cues[n].mean(1))) / 2
    return [round(float(x), 3) for x in np.percentile(gains, [2.5, 97.5])]


def half_figures(read: dict, threshold: float) -> dict:
    cues, states = read["cues"], read["states"]
    said = cues | (read["own"] >= threshold)
    out = {"all": {"cues": said_rates(cues, states), "cues_or_model": said_rates(said, states),
                   "gain_interval": gain_interval(cues, said, states)},
           "other_criteria_said": read["other_criteria_said"],
           "by_language": {}, "by_gap": {}}
    for lang in ("en", "fr"):
        keep = read["langs"] == lang
        out["by_language"][lang] = {"cues": said_rates(cues[keep], states[keep]),
                                    "cues_or_model": said_rates(said[keep], states[keep])}
    for gap in sorted(set(read["elements"])):
        keep = read["elements"] == gap
        out["by_gap"][gap] = {"cues": said_rates(cues[keep], states[keep]),
                              "cues_or_model": said_rates(said[keep], states[keep])}
    return out


def realistic_hints(embedder) -> dict:
    """The hints shown on the realistic test half with and without the gap models: how many change, and to what."""
    practices = list(read_back([t for t in load_realistic().rated() if t.split == "test"]).values())
    class CuesOnlyHints(CriteriaScorer):
        """The same levels (the criteria model reads the gap models too); only the hints' reading of a gap differs."""

        def gap_said(self, crit, gap, features, analysis):
            return cued(gap, features)

    rows = {}
    for name, kind in (("cues", CuesOnlyHints), ("cues_or_model", CriteriaScorer)):
        scorer = kind(embedder=embedder, model_dir=DEFAULT_CRITERIA_MODEL_DIR)
        rows[name] = {(r["practice_id"], r["criterion"]): (r["level"], r["hint"]) for r in scorer.score(practices)}
    assert all(rows["cues"][k][0] == level for k, (level, _) in rows["cues_or_model"].items()), "levels differ"
    rows = {name: {k: hint for k, (_, hint) in found.items()} for name, found in rows.items()}
    shown = [k for k, h in rows["cues"].items() if h]
    changed = [k for k in shown if rows["cues"][k] != rows["cues_or_model"][k]]
    cues = load_yaml((ROOT / "pipeline" / "resources" / "criteria.yaml").read_text(encoding="utf-8"))["criteria"]
    more = {h for spec in cues.values() for h in spec["hints"].values() for h in [h.get("more")] if h}
    return {"texts": len(practices), "hints_shown": len(shown), "changed": len(changed),
            "changed_to_more": sum(rows["cues_or_model"][k] in more for k in changed),
            "by_criterion": {c: sum(k[1] == c for k in changed) for c in cues}}


def markdown(result: dict) -> str:
    def row(name: str, figures: dict) -> str:
        c, m = figures["cues"], figures["cues_or_model"]
        return (f"| {name} | {c['n_states']} / {c['n_near_miss']} | {c['said_when_stated']:.2f} | "
                f"{m['said_when_stated']:.2f} | {c['said_when_not']:.2f} | {m['said_when_not']:.2f} | "
                f"{c['balanced_accuracy']:.2f} | {m['balanced_accuracy']:.2f} |")

    head = ("| | stating / near misses | said when stated: cues | cues or model | "
            "said on a near miss: cues | cues or model | balanced accuracy: cues | cues or model |\n"
            "|---|---|---|---|---|---|---|---|")
    test, hints = result["test"], result["realistic_test_hints"]
    lines = ["# Do the hints know what a text already says?", "",
             "Sentences of `data/eval/gaps`, each written for one gap that a criterion's hint may ask for; kept where "
             "the writer and a reader who saw neither the labels nor the writing brief agree whether it states the gap "
             f"({result['agreement']['tune']:.0%} of the tune half, {result['agreement']['test']:.0%} of the test half: "
             "the sentences were written to be clear cases, so these figures are for clear cases). 'Said when stated' is "
             "the share of hints spared where the sentence says the thing; 'said on a near miss' the share of hints lost "
             "where it does not. Baseline: the cues alone. Gap models: `models/criteria/gaps.json` "
             f"(threshold {result['threshold']:.2f}, chosen on the tune half; see GAPS_MODEL_CARD.md).", "",
             "## Test half", "", head, row("all gaps", test["all"]),
             *(row(lang, f) for lang, f in test["by_language"].items()), "",
             f"Gain in balanced accuracy: 95% interval {test['all']['gain_interval']} (sentences drawn again). "
             f"A gap model reads {test['other_criteria_said']:.2%} of the sentences written for another criterion as "
             "saying its gap.", "",
             "### By gap", "", head, *(row(gap, f) for gap, f in test["by_gap"].items()), "",
             "## Hints on the realistic test half", "",
             f"Of {hints['hints_shown']} hints shown on the {hints['texts']} texts with the cues alone, "
             f"{hints['changed']} change when the gap models are used ({hints['changed_to_more']} of them to the "
             "criterion's `more` hint, as every gap is then read as said): "
             + ", ".join(f"{c} {n}" for c, n in hints["by_criterion"].items()) + ".", "",
             "## Tune half (the models were fitted here: a check, not a figure)", "", head,
             row("all gaps", result["tune"]["all"]), ""]
    return "\n".join(lines) + "\n"


def main() -> None:
    embedder = shared_embedder("use-multilingual", 2)
    model, model_id = load_gap_model(DEFAULT_CRITERIA_MODEL_DIR)
    if model is None:
        raise SystemExit(f"No gap model: {model_id}. Run `icc-practices train --hint-gaps` first.")
    result = {"model": model_id, "threshold": model.threshold, "agreement": {}}
    for half in ("tune", "test"):
        written = load_yaml((GAPS_DIR / f"{half}.yaml").read_text(encoding="utf-8"))
        items = load_gap_sentences(half)
        result["agreement"][half] = round(len(items) / len(written), 3)
        result[half] = half_figures(read_half(items, embedder, model), model.threshold)
    result["realistic_test_hints"] = realistic_hints(embedder)
    results = ROOT / "benchmarks" / "results"
    (results / "hint_gaps.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    text = markdown(result)
    (results / "hint_gaps.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
