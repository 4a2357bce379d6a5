"""Whether a text already says what a criterion's hint would ask for: the gaps of criteria.yaml.

A hint names the first gap of its criterion that the text does not say (`CriteriaScorer._hint` in
pipeline/criteria.py): the group served, how the need became known, the local actors, who did what... Cues (the
lexicons and detectors of criteria.yaml) miss what is said in other words ("Request of two primary schools" says
how a need became known), so each gap also has a logistic model on sentence vectors: a gap is said when a cue of
its groups is found or one sentence's chance reaches the threshold.

The models learn from the tune half of data/eval/gaps: sentences written for one gap, either stating it or a near
miss that could stand in the same part of a report, kept where an independent reader agrees with the writer.
The regularisation and the threshold are chosen by cross-validation on that half, against the cues alone; the
test half is left to benchmarks/eval_hint_gaps.py. Saved as JSON beside the criteria model (no pickle) and read
back on numpy alone, like the criteria model.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from pipeline.config import PROJECT_DIR, load_yaml
from pipeline.ordinal import FittedSentenceClassifier
from pipeline.records import Practice
from pipeline.tables import atomic_write_bytes

GAPS_DIR = PROJECT_DIR / "data" / "eval" / "gaps"
GAP_MODEL_FILE = "gaps.json"
GAP_MODEL_FORMAT = 1
C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)
THRESHOLD_GRID = tuple(round(float(t), 2) for t in np.arange(0.30, 0.951, 0.05))
FOLDS = 5
# A report has dozens of sentences, each a chance for a gap model to fire on something else: at 0.5% per sentence,
# a 20-sentence report reads a gap as said in about one case in ten where it is not.
MAX_OTHER_SAID = 0.005


def load_gap_sentences(half: str, folder: Path = GAPS_DIR) -> list[dict]:
    """The sentences of one half ("tune" or "test") on which writer and reader agree."""
    items = load_yaml((Path(folder) / f"{half}.yaml").read_text(encoding="utf-8"))
    return [item for item in items if bool(item["states"]) == bool(item["rated_states"])]


@dataclass
class GapModel:
    """One sentence model per gap ("criterion:gap"), and the chance from which a sentence says its gap."""

    embedder_id: str
    threshold: float
    models: dict[str, FittedSentenceClassifier]

    def chances(self, vectors: np.ndarray) -> dict[str, np.ndarray]:
        """Each gap's chance for each sentence vector (n_sentences)."""
        return {gap: model.probability(vectors) for gap, model in self.models.items()}

    def to_dict(self) -> dict:
        return {"format": GAP_MODEL_FORMAT, "embedder_id": self.embedder_id, "threshold": self.threshold,
                "gaps": {gap: model.to_dict() for gap, model in self.models.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> "GapModel":
        if data.get("format") != GAP_MODEL_FORMAT:
            raise ValueError(f"gap model of format {data.get('format')}; this version reads {GAP_MODEL_FORMAT}")
        return cls(data["embedder_id"], float(data["threshold"]),
                   {gap: FittedSentenceClassifier.from_dict(model) for gap, model in data["gaps"].items()})


def load_gap_model(model_dir: Path | str | None) -> tuple[GapModel | None, str]:
    """The gap model saved in `model_dir` and its id (file hash), or None and why not."""
    if model_dir is None:
        return None, "hint-gaps:cues (no model folder)"
    path = Path(model_dir) / GAP_MODEL_FILE
    try:
        raw = path.read_bytes()
        model = GapModel.from_dict(json.loads(raw))
    except FileNotFoundError:
        return None, f"hint-gaps:cues (no gap model in {model_dir})"
    except (OSError, ValueError, KeyError) as exc:
        return None, f"hint-gaps:cues (gap model unreadable: {exc})"
    return model, f"hint-gaps:{hashlib.sha256(raw).hexdigest()[:12]}:{model.embedder_id}"


# ---------------------------------------------------------------------------------------------- training

def cued(gap: dict, features: dict) -> bool:
    """Whether a cue of the gap's groups (criteria.yaml) was found: `features` of the criterion's rule row."""
    return any(features.get(group, 0.0) > 0.0 for group in gap["groups"])


def cue_said(items: Sequence[dict]) -> np.ndarray:
    """Whether a cue of its gap's groups is found in each sentence (the hints' reading without the models)."""
    from pipeline.criteria import CriteriaScorer

    scorer = CriteriaScorer(embedder=None, model_dir=None)
    practices = [Practice(practice_id=item["id"], source_file=f"{item['id']}.txt", practice_index=1,
                          lang=item["lang"], description=item["text"]) for item in items]
    rows = {(r["practice_id"], r["criterion"]): r["features"]
            for r in scorer.score_analyses(scorer.analyse(practices), explain=True)}
    said = np.zeros(len(items), bool)
    for k, item in enumerate(items):
        crit, name = item["element"].split(":")
        gap = next(g for g in scorer.cues["criteria"][crit]["gaps"] if g["name"] == name)
        said[k] = cued(gap, rows[(item["id"], crit)])
    return said


def said_rates(said: np.ndarray, states: np.ndarray) -> dict:
    """How often a gap is read as said where the sentence states it (a hint spared) and where it does not (a
    hint lost), and their balance."""
    spared = float(said[states].mean()) if states.any() else float("nan")
    lost = float(said[~states].mean()) if (~states).any() else float("nan")
    return {"n_states": int(states.sum()), "n_near_miss": int((~states).sum()), "said_when_stated": round(spared, 3),
            "said_when_not": round(lost, 3), "balanced_accuracy": round((spared + 1 - lost) / 2, 3)}


def _fit_gaps(vectors: np.ndarray, elements: np.ndarray, states: np.ndarray, C: float) -> dict:
    """One model per gap: the sentences stating it against every other sentence, weighed to balance."""
    from pipeline.estimators import SentenceClassifier

    models = {}
    for gap in sorted(set(elements)):
        y = (elements == gap) & states
        weight = np.where(y, 0.5 / max(y.sum(), 1), 0.5 / max((~y).sum(), 1)) * len(y)
        models[gap] = SentenceClassifier(C=C).fit(vectors, y.astype(int), sample_weight=weight)
    return models


def _own_chance(models: dict, vectors: np.ndarray, elements: np.ndarray) -> np.ndarray:
    """Each sentence's chance under the model of the gap it was written for."""
    out = np.zeros(len(elements))
    for gap, model in models.items():
        rows = elements == gap
        if rows.any():
            out[rows] = model.probability(vectors[rows])
    return out


def other_criteria_said(models: dict, vectors: np.ndarray, elements: np.ndarray, threshold: float) -> float:
    """Share of (sentence, gap of another criterion) pairs read as said: how often a model fires on a sentence
    about something else, which a long text gives it many chances to do."""
    criteria = np.array([e.split(":")[0] for e in elements])
    fired, pairs = 0, 0
    for gap, model in models.items():
        rows = criteria != gap.split(":")[0]
        fired += int((model.probability(vectors[rows]) >= threshold).sum())
        pairs += int(rows.sum())
    return round(fired / max(pairs, 1), 4)


def cross_validate_gaps(vectors: np.ndarray, elements: np.ndarray, states: np.ndarray, cues: np.ndarray,
                        seed: int = 0) -> dict:
    """Out-of-fold chances for each C, and the rates of every (C, threshold) against the cues alone."""
    from sklearn.model_selection import StratifiedKFold

    strata = np.array([f"{e}|{s}" for e, s in zip(elements, states)])
    folds = list(StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(vectors, strata))
    settings = {}
    for C in C_GRID:
        chance = np.zeros(len(elements))
        other = []
        for train, held in folds:
            models = _fit_gaps(vectors[train], elements[train], states[train], C)
            chance[held] = _own_chance(models, vectors[held], elements[held])
            other.append((models, held))
        for t in THRESHOLD_GRID:
            rates = said_rates(cues | (chance >= t), states)
            rates["other_criteria_said"] = round(float(np.mean(
                [other_criteria_said(m, vectors[h], elements[h], t) for m, h in other])), 4)
            settings[f"C={C:g} t={t:.2f}"] = {"C": C, "threshold": t, **rates}
    return settings


def _chosen(settings: dict) -> dict:
    """The best balanced accuracy among the settings that fire on at most MAX_OTHER_SAID of the sentences about
    another criterion; among equals the higher threshold (fewer hints lost), then the smaller C."""
    allowed = [s for s in settings.values() if s["other_criteria_said"] <= MAX_OTHER_SAID]
    # none so quiet (other data): the quietest, which fires least on what it should not
    allowed = allowed or [min(settings.values(), key=lambda s: (s["other_criteria_said"], -s["balanced_accuracy"]))]
    return max(allowed, key=lambda s: (s["balanced_accuracy"], s["threshold"], -s["C"]))


def train_gap_model(model_dir: Path, embedder, folder: Path = GAPS_DIR) -> dict:
    """Fit the gap models on the tune half, save gaps.json and its card in `model_dir`; returns the card."""
    items = load_gap_sentences("tune", folder)
    vectors = np.asarray(embedder.encode([item["text"] for item in items]), dtype=np.float64)
    elements = np.array([item["element"] for item in items])
    states = np.array([bool(item["states"]) for item in items])
    cues = cue_said(items)
    settings = cross_validate_gaps(vectors, elements, states, cues)
    chosen = _chosen(settings)
    models = _fit_gaps(vectors, elements, states, chosen["C"])
    model = GapModel(embedder.model_id, chosen["threshold"], {gap: m for gap, m in models.items()})
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(model_dir / GAP_MODEL_FILE, (json.dumps(model.to_dict()) + "\n").encode("utf-8"))
    card = {"embedder_id": embedder.model_id, "n_sentences": len(items), "n_written": len(load_yaml(
                (Path(folder) / "tune.yaml").read_text(encoding="utf-8"))),
            "gaps": sorted(models), "C": chosen["C"], "threshold": chosen["threshold"],
            "cv_cues": said_rates(cues, states), "cv_chosen": chosen,
            "max_other_criteria_said": MAX_OTHER_SAID,
            "cv_by_C": {f"{C:g}": _chosen({k: s for k, s in settings.items() if s["C"] == C}) for C in C_GRID}}
    atomic_write_bytes(model_dir / "gaps_card.json", (json.dumps(card, indent=2) + "\n").encode("utf-8"))
    write_gap_card(model_dir, card)
    return card


def write_gap_card(model_dir: Path, card: dict) -> Path:
    """GAPS_MODEL_CARD.md from the card's figures."""
    def row(name: str, r: dict) -> str:
        other = f"{r['other_criteria_said']:.3f}" if "other_criteria_said" in r else "–"
        return (f"| {name} | {r['said_when_stated']:.2f} | {r['said_when_not']:.2f} | {r['balanced_accuracy']:.2f} | "
                f"{other} |")

    lines = ["# Hint gap models", "",
             "Whether a text already says what a criterion's hint would ask for (see pipeline/hint_gaps.py). One "
             "logistic model per gap on the sentence vectors of "
             f"`{card['embedder_id']}`; a gap is said when a cue of its groups is found or a sentence's chance "
             f"reaches {card['threshold']:.2f}.", "",
             "## Data", "",
             f"The tune half of `data/eval/gaps`: {card['n_sentences']} of {card['n_written']} sentences (those on "
             "which the writer and an independent reader agree), each written for one gap, either stating it or a "
             "near miss. The test half is not read here (`benchmarks/eval_hint_gaps.py` reports it).", "",
             f"## Cross-validation on the tune half ({FOLDS} folds; chosen: C={card['C']:g}, threshold "
             f"{card['threshold']:.2f})", "",
             "The best balanced accuracy among the settings that read a gap as said on at most "
             f"{card['max_other_criteria_said']:.1%} of the sentences written for another criterion.", "",
             "| reading | said when stated | said on a near miss | balanced accuracy | said on another criterion's sentence |",
             "|---|---|---|---|---|",
             row("cues alone (baseline)", card["cv_cues"]), row("cues or model", card["cv_chosen"]),
             *(row(f"cues or model, C={C} (its best threshold, {r['threshold']:.2f})", r)
               for C, r in card["cv_by_C"].items()), "",
             "## Intended use", "",
             "Choosing which gap a criterion's hint names: a hint never asks for what a sentence of the text says. "
             "It sets no level by itself, but the criteria model of transferable reads its chances as features "
             "(`said:<gap>`), so retraining it calls for training the criteria model again. Sentences here are short and each written for one gap; in a long "
             "report a model has many sentences to fire on (last column), so a gap is sometimes read as said where "
             "it is not, and the hint moves on to the next gap.", ""]
    path = Path(model_dir) / "GAPS_MODEL_CARD.md"
    atomic_write_bytes(path, "\n".join(lines).encode("utf-8"))
    return path
