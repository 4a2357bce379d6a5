"""The realistic evaluation set: texts shaped like real published practices, read twice by independent readers.

`data/eval/realistic/` holds the texts (`texts/*.yaml`), two readings of each (`readings/a`, `readings/b`: main
area, area set, criteria levels) and a fixed split by practice (`split.yaml`; both language versions of a practice
fall in the same half). This module lays every text into a Word form without a declared area, reads it back through
the pipeline (ingest and segment, as a city's submission would be read), runs the models and their plain baselines,
and scores them against the readings:

- areas: top-1 and top-3 of the main area and F1 of the suggested set, each averaged over the two readings;
  baselines: the zero-shot prior alone, and a TF-IDF one-vs-rest classifier trained on the sample corpus and the
  tune half (the model also learns from the texts of data/train/areas and the own area set's tune part);
- criteria: Spearman of the model's score with the mean of the two readings; baseline: word count;
- cross-lingual: each EN/FR version of one practice queries the whole set for the other (R@1, MRR);
  baselines: one USE vector per whole text, and TF-IDF.
The agreement of the two readings with each other is the ceiling the models aim at.

The metric functions take plain predictions, so a perfect or a constant predictor can be scored directly.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Collection, Sequence

import numpy as np
from scipy.stats import rankdata, spearmanr

from pipeline.config import PROJECT_DIR, SEED, Settings, load_yaml
from pipeline.records import Practice

REALISTIC_DIR = PROJECT_DIR / "data" / "eval" / "realistic"
READERS = ("a", "b")
CRITERIA = ("targeted", "needs_based", "context_sensitive", "high_impact", "modelable", "transferable")
# The criteria model's target on the test half: each criterion's Spearman at least this far above word count's.
TARGET_OVER_WORD_COUNT = 0.15
SECTIONS = ("purpose", "starting_point", "process", "impact", "references")

# The official template labels (facts the parser needs); the form is laid out as the Word template does.
FORM_LABELS = {
    "en": {"city": "City", "department": "Department", "form_date": "Date of the form", "contact_person": "Contact person",
           "title": "Title", "main_objective": "Main objective", "period": "Implementation period",
           "_contact": "Contact details", "_practice": "Good practice", "_description": "Description of the good practice",
           "purpose": "Purpose", "starting_point": "Stimulus/Rationale", "process": "Process", "impact": "Impact",
           "references": "Key reference documents"},
    "fr": {"city": "Ville", "department": "Département", "form_date": "Date du formulaire", "contact_person": "Personne de contact",
           "title": "Titre", "main_objective": "Principal objectif", "period": "Période de mise en œuvre",
           "_contact": "Coordonnées", "_practice": "Bonne pratique", "_description": "Description de la bonne pratique",
           "purpose": "But", "starting_point": "Point de départ", "process": "Processus", "impact": "Impact",
           "references": "Principaux documents de référence"},
}


# ----------------------------------------------------------------------------- the set


@dataclass(frozen=True)
class EvalText:
    """One language version of one practice of the set."""

    id: str
    unit: str
    lang: str
    city: str
    country: str
    title: str
    split: str
    header: dict = field(default_factory=dict)
    sections: dict | None = None
    text: str | None = None

    @property
    def free_prose(self) -> bool:
        return not self.sections

    def description(self) -> str:
        if self.sections:
            return "\n".join(v.strip() for k, v in self.sections.items() if v and k in SECTIONS)
        return (self.text or "").strip()


@dataclass(frozen=True)
class Reading:
    """What one reader found in one text."""

    main_area: str
    areas: tuple[str, ...]
    criteria: dict


@dataclass
class RealisticSet:
    texts: list[EvalText]
    readings: dict[str, dict[str, Reading]]  # reader -> text id -> reading

    def pairs(self) -> list[tuple[str, str]]:
        """(English id, French id) of the practices written in both languages."""
        by_unit: dict[str, dict[str, str]] = defaultdict(dict)
        for t in self.texts:
            by_unit[t.unit][t.lang] = t.id
        return [(v["en"], v["fr"]) for _, v in sorted(by_unit.items()) if "en" in v and "fr" in v]

    def rated(self) -> list[EvalText]:
        """Texts with a reading from every reader."""
        return [t for t in self.texts if all(t.id in self.readings.get(r, {}) for r in READERS)]

    def subset(self, ids: set[str]) -> "RealisticSet":
        return RealisticSet([t for t in self.texts if t.id in ids], self.readings)


def _yaml_items(folder: Path) -> list[dict]:
    items: list[dict] = []
    for path in sorted(folder.glob("*.yaml")):
        items += load_yaml(path.read_text(encoding="utf-8")) or []
    return items


def brief_keys(keys: Sequence[str], folder: Path = REALISTIC_DIR) -> dict[str, frozenset[str]]:
    """Per unit, which of `keys` its writing brief sets (the briefs stay apart from the texts and readings)."""
    briefs = load_yaml((folder / "briefs.yaml").read_text(encoding="utf-8"))["briefs"]
    return {b["unit"]: frozenset(k for k in keys if b.get(k)) for b in briefs}


def load_realistic(folder: Path = REALISTIC_DIR) -> RealisticSet:
    """The texts, the split and the readings of the realistic set."""
    from pipeline.taxonomy import load_taxonomy

    split = load_yaml((folder / "split.yaml").read_text(encoding="utf-8"))["units"]
    texts = []
    for item in _yaml_items(folder / "texts"):
        texts.append(EvalText(
            id=item["id"], unit=item["unit"], lang=item["lang"], city=item["city"], country=item.get("country", ""),
            title=" ".join(str(item.get("title") or "").split()), split=split[item["unit"]],
            header={k: str(v) for k, v in (item.get("header") or {}).items() if v},
            sections={k: str(v) for k, v in item["sections"].items() if v} if item.get("sections") else None,
            text=item.get("text")))
    texts.sort(key=lambda t: t.id)
    taxonomy = load_taxonomy()
    readings: dict[str, dict[str, Reading]] = {}
    for reader in READERS:
        readings[reader] = {}
        for item in _yaml_items(folder / "readings" / reader):
            main = str(item["main_area"])
            areas = [str(a) for a in item.get("areas") or []]
            codes = taxonomy.with_parents([main] + [a for a in areas if a != main])
            crit = {c: int(item["criteria"][c]) for c in CRITERIA}
            readings[reader][item["id"]] = Reading(main, tuple(codes), crit)
    return RealisticSet(texts, readings)


def load_quotes(folder: Path = REALISTIC_DIR / "quotes") -> dict[str, dict[str, list[str]]]:
    """The sentences readers quoted as showing each criterion, by text id and criterion (tune half only).

    Two readings (QUOTE_RULES.md): `modelable/` gives one list of quotes and a level per text, `criteria/` a
    list per criterion for the other five.
    """
    quotes: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for item in _yaml_items(folder / "modelable"):
        quotes[item["id"]]["modelable"] = [str(q) for q in item.get("quotes") or []]
    for item in _yaml_items(folder / "criteria"):
        for crit, found in (item.get("quotes") or {}).items():
            if crit not in CRITERIA:
                raise ValueError(f"{item['id']}: unknown criterion {crit!r} in the quotes")
            quotes[item["id"]][crit] = [str(q) for q in found or []]
    return dict(quotes)


def load_quote_levels(folder: Path = REALISTIC_DIR / "quotes") -> dict[str, dict[str, int]]:
    """The levels the quote readers gave along with their quotes: a third reading of the tune texts."""
    levels: dict[str, dict[str, int]] = defaultdict(dict)
    for item in _yaml_items(folder / "modelable"):
        levels[item["id"]]["modelable"] = int(item["modelable"])
    for item in _yaml_items(folder / "criteria"):
        levels[item["id"]].update({c: int(v) for c, v in (item.get("levels") or {}).items()})
    return dict(levels)


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(re.sub(r"[\"“”«»'’]", "", text).translate(_PUNCT_TO_SPACE).split())


_PUNCT_TO_SPACE = {ord(c): " " for c in "!#$%&()*+,./:;<=>?@[\\]^_`{|}~-–—…"}


def quoted(sentences: Sequence[str], quotes: Sequence[str]) -> np.ndarray:
    """Which sentences a reader quoted: one contains the other, or they share 80% of the shorter one's words.

    The pipeline splits sentences its own way (a quote may run over two of them, or a list item may be one
    sentence of a longer one), so a match is looser than equality.
    """
    plain_quotes = [q for q in (_plain(q) for q in quotes) if q]
    out = np.zeros(len(sentences), dtype=bool)
    for j, sentence in enumerate(sentences):
        s = _plain(sentence)
        if len(s) < 8:
            continue
        words = set(s.split())
        for q in plain_quotes:
            if s in q or q in s:
                out[j] = True
                break
            other = set(q.split())
            shorter = min(len(words), len(other))
            if shorter >= 5 and len(words & other) / shorter >= 0.8:
                out[j] = True
                break
    return out


# ----------------------------------------------------------------------------- laid into forms, read back


def write_form(text: EvalText, path: Path, labelled: Collection[str] | None = None, wrap: int | None = None,
               bullets: bool = False) -> Path:
    """The text laid into the Word template: header table (no declared area), then the description.

    `labelled` names the description sections whose label is written (default: all); the others stand as plain
    paragraphs, as in a form whose writer labelled only some parts. With `wrap`, each line of a description
    paragraph wrapped at `wrap` characters is a Word paragraph of its own, as in text pasted from a PDF. With
    `bullets`, each sentence of the process is a bullet point of its own.
    """
    import textwrap

    from docx import Document

    labels = FORM_LABELS["fr" if text.lang == "fr" else "en"]
    doc = Document()
    doc.add_paragraph(labels["_contact"])
    rows = [("city", text.city)] + [(k, text.header[k]) for k in ("department", "form_date", "contact_person") if text.header.get(k)]
    table = doc.add_table(rows=0, cols=2)
    for key, value in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = labels[key], value
    doc.add_paragraph(labels["_practice"])
    table = doc.add_table(rows=0, cols=2)
    rows = [("title", text.title)] + [(k, text.header[k]) for k in ("main_objective", "period") if text.header.get(k)]
    for key, value in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = labels[key], value
    doc.add_paragraph(labels["_description"])
    colon = " :" if text.lang == "fr" else ":"
    if text.sections:
        for key in SECTIONS:
            value = (text.sections.get(key) or "").strip()
            if value:
                if labelled is None or key in labelled:
                    doc.add_paragraph(labels[key] + colon)
                for para in value.split("\n\n"):
                    para = " ".join(para.split())
                    if bullets and key == "process":
                        lines = [f"\u2022 {sentence}" for sentence in _SENTENCE_BREAK.split(para)]
                    else:
                        lines = textwrap.wrap(para, wrap, break_on_hyphens=False) if wrap else [para]
                    for line in lines:
                        doc.add_paragraph(line)
    else:
        for para in (text.text or "").strip().split("\n\n"):
            para = " ".join(para.split())
            for line in textwrap.wrap(para, wrap, break_on_hyphens=False) if wrap else [para]:
                doc.add_paragraph(line)
    doc.save(str(path))
    return path


_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý])")


def write_text_form(text: EvalText, path: Path, width: int, labelled: Collection[str] | None = None) -> Path:
    """The form as a plain-text file whose lines are wrapped at `width` characters, as in a pasted e-mail:
    one label or paragraph after another, a blank line between them (`labelled`: see `write_form`)."""
    import textwrap

    labels = FORM_LABELS["fr" if text.lang == "fr" else "en"]
    colon = " :" if text.lang == "fr" else ":"
    header = [("city", text.city), ("title", text.title)] + [
        (k, text.header[k]) for k in ("department", "form_date", "contact_person", "main_objective", "period")
        if text.header.get(k)]
    paragraphs = [f"{labels[key]}{colon} {value}" for key, value in header] + [labels["_description"]]
    if text.sections:
        for key in SECTIONS:
            value = (text.sections.get(key) or "").strip()
            if value:
                if labelled is None or key in labelled:
                    paragraphs.append(labels[key] + colon)
                paragraphs += value.split("\n\n")
    else:
        paragraphs += (text.text or "").strip().split("\n\n")
    wrapped = (textwrap.fill(" ".join(p.split()), width, break_on_hyphens=False) for p in paragraphs)
    path.write_text("\n\n".join(wrapped) + "\n", encoding="utf-8")
    return path


def read_back(texts: Sequence[EvalText], settings: Settings | None = None, labelled: Collection[str] | None = None,
              wrap: int | None = None, plain_text: bool = False, bullets: bool = False) -> dict[str, Practice]:
    """Each text as the pipeline reads it from its Word form (practice id = text id; `labelled`, `wrap` and
    `bullets`: see `write_form`), or with `plain_text` from a plain-text form wrapped at `wrap` characters
    (`write_text_form`)."""
    from pipeline.run import InputFile, process_file
    from pipeline.segment import Segmenter

    settings = settings or Settings()
    segmenter = Segmenter()
    out: dict[str, Practice] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for text in texts:
            path = (write_text_form(text, Path(tmp) / f"{text.id}.txt", wrap or 72, labelled) if plain_text
                    else write_form(text, Path(tmp) / f"{text.id}.docx", labelled, wrap, bullets))
            result = process_file(InputFile(path, path.name), settings, segmenter)
            if not result.practices:
                raise ValueError(f"{text.id}: the form was not read back ({result.error_code}: {result.message})")
            practice = result.practices[0]
            practice.practice_id = text.id
            out[text.id] = practice
    return out


# ----------------------------------------------------------------------------- metrics


def set_f1(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return 2 * len(a & b) / (len(a) + len(b))


def area_scores(ranked: Sequence[Sequence[str]], suggested: Sequence[set[str]], references: Sequence[Sequence[Reading]]) -> dict:
    """Top-1 and top-3 of the main area and F1 of the suggested set, averaged over each practice's readings.

    `ranked`: top-level codes best first; `suggested`: codes (parents are added here).
    """
    from pipeline.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    top1, top3, f1 = [], [], []
    for order, chosen, reads in zip(ranked, suggested, references):
        chosen = set(taxonomy.with_parents(list(chosen)))
        order = list(order)
        top1.append(np.mean([bool(order) and order[0] == taxonomy.parent(r.main_area) for r in reads]))
        top3.append(np.mean([taxonomy.parent(r.main_area) in order[:3] for r in reads]))
        f1.append(np.mean([set_f1(chosen, set(r.areas)) for r in reads]))
    n = len(top1)
    return {"top1": _r(np.mean(top1)) if n else 0.0, "top3": _r(np.mean(top3)) if n else 0.0,
            "set_f1": _r(np.mean(f1)) if n else 0.0, "n": n}


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho; 0.0 when either side is constant (no ranking to agree with)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    return _r(spearmanr(x, y).statistic)


def criteria_scores(predicted: dict[str, Sequence[float]], reference: dict[str, Sequence[float]]) -> dict:
    """Spearman per criterion and their mean."""
    out = {c: spearman(predicted[c], reference[c]) for c in CRITERIA}
    out["mean"] = _r(np.mean([out[c] for c in CRITERIA]))
    return out


def partial_spearman(x: Sequence[float], y: Sequence[float], z: Sequence[float]) -> float:
    """Spearman of x and y with z held fixed (partial correlation of the ranks)."""
    rxy, rxz, ryz = spearman(x, y), spearman(x, z), spearman(y, z)
    denominator = np.sqrt(max(1e-12, (1 - rxz ** 2) * (1 - ryz ** 2)))
    return _r(np.clip((rxy - rxz * ryz) / denominator, -1.0, 1.0))


def gap_interval(system: Sequence[float], baseline: Sequence[float], reference: Sequence[float],
                 groups: Sequence[str], draws: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """How far `system` ranks above `baseline` (difference of Spearman with `reference`), with an interval.

    Paired bootstrap: each draw resamples whole groups (both language versions of a practice go together, as
    they are not independent texts) and scores both systems on the same draw. Returns the gap on the full set
    and the `level` interval of the drawn gaps.
    """
    system, baseline, reference = (np.asarray(v, float) for v in (system, baseline, reference))
    names, index = np.unique(np.asarray(groups), return_inverse=True)
    members = [np.flatnonzero(index == g) for g in range(len(names))]
    rng = np.random.default_rng(seed)
    drawn = [np.concatenate([members[g] for g in rng.integers(0, len(names), len(names))]) for _ in range(draws)]
    gaps = _drawn_spearman(system, reference, drawn) - _drawn_spearman(baseline, reference, drawn)
    tail = (1 - level) / 2
    low, high = np.quantile(gaps, [tail, 1 - tail]) if len(gaps) else (0.0, 0.0)
    return {"gap": _r(spearman(system, reference) - spearman(baseline, reference)), "low": _r(low), "high": _r(high)}


def _drawn_spearman(x: np.ndarray, y: np.ndarray, drawn: Sequence[np.ndarray]) -> np.ndarray:
    """`spearman(x[rows], y[rows])` for each `rows` of `drawn`, all draws at once (one call per draw took most of
    an evaluation). Draws of unequal length are padded with +inf, which ranks after every value and is masked
    out of the correlation, so each draw's ranks are those of its own values."""
    if not drawn:
        return np.zeros(0)
    lengths = np.array([len(rows) for rows in drawn])
    mask = np.arange(lengths.max()) < lengths[:, None]
    index = np.zeros(mask.shape, dtype=int)
    index[mask] = np.concatenate(drawn)

    def centred_ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        picked = np.where(mask, values[index], np.inf)
        spread = np.where(mask, picked, -np.inf).max(axis=1) - np.where(mask, picked, np.inf).min(axis=1)
        ranks = np.where(mask, rankdata(picked, axis=1), 0.0)
        ranks = np.where(mask, ranks - ranks.sum(axis=1, keepdims=True) / lengths[:, None], 0.0)
        return ranks, spread

    (rx, spread_x), (ry, spread_y) = centred_ranks(x), centred_ranks(y)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (rx * ry).sum(axis=1) / np.sqrt((rx * rx).sum(axis=1) * (ry * ry).sum(axis=1))
    # as `spearman`: 0.0 for a constant side or fewer than three texts, rounded like every figure
    rho = np.where((lengths < 3) | (spread_x == 0) | (spread_y == 0), 0.0, rho)
    return np.array([_r(v) for v in rho])


def level_shares(levels: Sequence[int]) -> list[float]:
    """Share of texts at levels 0, 1, 2, 3."""
    counts = np.bincount(np.clip(np.asarray(levels, dtype=int), 0, 3), minlength=4)
    return [_r(c / max(1, counts.sum())) for c in counts]


def crosslingual_scores(similarity: np.ndarray, pairs: Sequence[tuple[int, int]]) -> dict:
    """R@1 and MRR of each version finding the other among all texts (itself left out), both directions."""
    sims = np.array(similarity, dtype=float, copy=True)
    np.fill_diagonal(sims, -np.inf)
    ranks = []
    for q, target in list(pairs) + [(b, a) for a, b in pairs]:
        # ties count against the target: a constant similarity finds nothing
        ranks.append(int((sims[q] >= sims[q, target]).sum()))
    ranks = np.asarray(ranks)
    if not len(ranks):
        return {"r1": 0.0, "mrr": 0.0, "queries": 0, "not_in_top10": 0}
    return {"r1": _r(np.mean(ranks == 1)), "mrr": _r(np.mean(1.0 / ranks)), "queries": int(len(ranks)),
            "not_in_top10": int((ranks > 10).sum())}


def agreement(data: RealisticSet, ids: Sequence[str]) -> dict:
    """How far the two readings agree: the ceiling of the models."""
    from pipeline.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    a = [data.readings["a"][i] for i in ids]
    b = [data.readings["b"][i] for i in ids]
    main = np.mean([taxonomy.parent(x.main_area) == taxonomy.parent(y.main_area) for x, y in zip(a, b)]) if ids else 0.0
    f1 = np.mean([set_f1(set(x.areas), set(y.areas)) for x, y in zip(a, b)]) if ids else 0.0
    crit = {c: spearman([x.criteria[c] for x in a], [y.criteria[c] for y in b]) for c in CRITERIA}
    crit["mean"] = _r(np.mean([crit[c] for c in CRITERIA]))
    exact = np.mean([x.criteria[c] == y.criteria[c] for x, y in zip(a, b) for c in CRITERIA]) if ids else 0.0
    return {"main_area": _r(main), "set_f1": _r(f1), "criteria": crit, "criteria_exact": _r(exact)}


def reference_levels(data: RealisticSet, ids: Sequence[str]) -> dict[str, list[float]]:
    """Criteria reference: the mean of the two readings."""
    return {c: [float(np.mean([data.readings[r][i].criteria[c] for r in READERS])) for i in ids] for c in CRITERIA}


def _r(x) -> float:
    return round(float(x), 3)


# ----------------------------------------------------------------------------- models and baselines


@dataclass
class Predictions:
    """What one system says about the practices of the set (rows follow `ids`)."""

    ranked: list[list[str]] | None = None
    suggested: list[set[str]] | None = None
    criteria: dict[str, list[float]] | None = None
    levels: dict[str, list[int]] | None = None
    similarity: np.ndarray | None = None


def _area_predictions(classifier, practices) -> tuple[list[list[str]], list[set[str]]]:
    from pipeline.classify import predict_areas

    pred = predict_areas(classifier, practices)
    suggested = [{c for c, s in zip(pred.classes, row) if s} for row in pred.suggested]
    return pred.main_ranking, suggested


def _shared_area_predictions(classifier, practices: list[Practice], settings: Settings,
                             embedder) -> tuple[list[list[str]], list[set[str]]]:
    """Main-area rankings and area sets as the batch run gives them: the versions the similar stage finds share
    their main area (`classify.harmonise_versions`)."""
    from pipeline.classify import area_rows, harmonise_versions
    from pipeline.similar import same_practice_pairs, similar_stage, version_keys

    _, suggestions = area_rows(practices, classifier, settings)
    if settings.areas.versions_share_main:
        keys = version_keys([p.practice_id for p in practices],
                            same_practice_pairs(similar_stage(practices, settings, embedder)))
        suggestions = harmonise_versions(suggestions, practices, keys, settings)
    ranked = [sorted(s.main_scores, key=lambda c: -s.main_scores[c]) for s in suggestions]
    return ranked, [set(s.predicted_areas) for s in suggestions]


def model_predictions(practices: Sequence[Practice], settings: Settings, embedder) -> Predictions:
    """The shipped models, as the batch run uses them."""
    from pipeline.classify import load_or_zero_shot
    from pipeline.criteria import scorer_for
    from pipeline.similar import practice_similarity

    classifier, _ = load_or_zero_shot(settings, embedder)
    ranked, suggested = _shared_area_predictions(classifier, list(practices), settings, embedder)
    rows = scorer_for(settings, embedder).score(list(practices))
    by = {(r["practice_id"], r["criterion"]): r for r in rows}
    crit = {c: [by[(p.practice_id, c)]["score"] for p in practices] for c in CRITERIA}
    levels = {c: [by[(p.practice_id, c)]["level"] for p in practices] for c in CRITERIA}
    return Predictions(ranked, suggested, crit, levels, practice_similarity(practices, embedder))


def zero_shot_predictions(practices: Sequence[Practice], embedder) -> Predictions:
    from pipeline.estimators import zero_shot_classifier

    ranked, suggested = _area_predictions(zero_shot_classifier(embedder), list(practices))
    return Predictions(ranked, suggested)


def tfidf_area_predictions(train_texts: Sequence[str], train_labels: Sequence[Sequence[str]],
                           test_texts: Sequence[str]) -> Predictions:
    """A plain TF-IDF + one-vs-rest logistic regression classifier; the best area is always suggested."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer

    from pipeline.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    binarizer = MultiLabelBinarizer()
    Y = binarizer.fit_transform([taxonomy.with_parents(list(l)) for l in train_labels])
    keep = Y.sum(axis=0) > 0
    vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=1, ngram_range=(1, 2), max_features=20000)
    X = vectorizer.fit_transform(train_texts)
    # liblinear: exact and fast on sparse TF-IDF (lbfgs took a minute on 20,000 columns)
    clf = OneVsRestClassifier(LogisticRegression(C=10.0, solver="liblinear", random_state=SEED)).fit(X, Y[:, keep])
    classes = [c for c, k in zip(binarizer.classes_, keep) if k]
    proba = clf.predict_proba(vectorizer.transform(test_texts))
    top = [j for j, c in enumerate(classes) if taxonomy.parent(c) == c]
    ranked, suggested = [], []
    for row in proba:
        order = [classes[top[k]] for k in np.argsort(-row[top], kind="stable")]
        chosen = {classes[j] for j in range(len(classes)) if row[j] >= 0.5} | {order[0]}
        ranked.append(order)
        suggested.append(chosen)
    return Predictions(ranked, suggested)


def whole_text_use(practices: Sequence[Practice], threads: int = 2) -> np.ndarray:
    """One USE vector per practice, from its whole text in one piece."""
    from pipeline.embed import UseMultilingualEmbedder

    vectors = UseMultilingualEmbedder(threads=threads).encode_documents([p.full_text() or " " for p in practices])
    return vectors @ vectors.T


def tfidf_similarity(practices: Sequence[Practice]) -> np.ndarray:
    from pipeline.embed import TfidfEmbedder

    texts = [p.full_text() for p in practices]
    vectors = TfidfEmbedder().fit(texts).encode(texts)
    return vectors @ vectors.T


def sample_training_data(settings: Settings) -> tuple[list[str], list[list[str]]]:
    """Texts and declared areas of the bundled sample corpus: what the shipped area model learned from."""
    from pipeline.config import DEFAULT_INPUT
    from pipeline.training import training_labels
    from pipeline.run import discover, ingest_files

    with tempfile.TemporaryDirectory() as tmp:
        results, _ = ingest_files(discover([DEFAULT_INPUT]), settings, Path(tmp))
    practices, labels = training_labels([p for r in results for p in r.practices])
    return [p.full_text() for p in practices], labels


# ----------------------------------------------------------------------------- the evaluation


def reading_labels(data: RealisticSet, text_id: str) -> list[str]:
    """Training labels from the readings: the codes both readers gave, and each reader's main area."""
    a, b = (data.readings[r][text_id] for r in READERS)
    return sorted((set(a.areas) & set(b.areas)) | {a.main_area, b.main_area})


def evaluate_realistic(data: RealisticSet | None = None, settings: Settings | None = None, embedder=None,
                       limit: int | None = None, progress: Callable[[str], None] | None = None) -> dict:
    """Models and baselines on the test half (and the tune half beside it), with the readings' agreement."""
    from pipeline.embed import make_embedder

    data = data or load_realistic()
    settings = settings or Settings()
    say = progress or (lambda _msg: None)
    rated = data.rated()
    if limit:
        rated = [t for t in rated if t.split == "tune"][: limit // 2] + [t for t in rated if t.split == "test"][: limit - limit // 2]
    if not rated:
        raise ValueError("The realistic set has no text read by both readers.")
    embedder = embedder or make_embedder(settings.embedder, None, settings.threads)
    say(f"reading {len(rated)} forms")
    practices = read_back(rated, settings)
    ids = [t.id for t in rated]
    plist = [practices[i] for i in ids]
    position = {i: k for k, i in enumerate(ids)}
    pairs_all = [(position[e], position[f]) for e, f in data.subset(set(ids)).pairs()]
    say("running the models")
    model = model_predictions(plist, settings, embedder)
    zero = zero_shot_predictions(plist, embedder)
    say("running the baselines")
    whole = whole_text_use(plist, settings.threads)
    tfidf_sim = tfidf_similarity(plist)
    sample_texts, sample_labels = sample_training_data(settings)
    split_of = {t.id: t.split for t in rated}
    tune_ids = [i for i in ids if split_of[i] == "tune"]
    test_ids = [i for i in ids if split_of[i] == "test"]
    tfidf_areas = _tfidf_cross_fitted(data, practices, tune_ids, test_ids, sample_texts, sample_labels)

    def half(half_ids: list[str], intervals: bool) -> dict:
        rows = [position[i] for i in half_ids]
        refs = [[data.readings[r][i] for r in READERS] for i in half_ids]
        pick = lambda p: ([p.ranked[k] for k in rows], [p.suggested[k] for k in rows])  # noqa: E731
        ref_levels = reference_levels(data, half_ids)
        words = [float(plist[k].n_words) for k in rows]
        in_half = set(rows)
        pairs = [(a, b) for a, b in pairs_all if a in in_half]
        texts = [t for t in rated if t.id in set(half_ids)]
        unit = {t.id: t.unit for t in texts}
        return {
            "counts": {"practices": len(half_ids), "french": sum(t.lang == "fr" for t in texts),
                       "pairs": len(pairs), "free_prose": sum(t.free_prose for t in texts)},
            "agreement": agreement(data, half_ids),
            "areas": {"model": area_scores(*pick(model), refs),
                      "baselines": {"zero_shot": area_scores(*pick(zero), refs),
                                    "tfidf": area_scores(*tfidf_areas(half_ids), refs)}},
            "criteria": {"model": criteria_scores({c: [model.criteria[c][k] for k in rows] for c in CRITERIA}, ref_levels),
                         "model_length_held": {c: partial_spearman([model.criteria[c][k] for k in rows], ref_levels[c], words)
                                               for c in CRITERIA},
                         "baselines": {"word_count": criteria_scores({c: words for c in CRITERIA}, ref_levels)},
                         # intervals on the held-out half only: the tune half is the model's training data
                         "over_word_count": {c: gap_interval([model.criteria[c][k] for k in rows], words, ref_levels[c],
                                                             [unit[i] for i in half_ids]) for c in CRITERIA}
                         if intervals else {},
                         "levels": {"model": {c: level_shares([model.levels[c][k] for k in rows]) for c in CRITERIA},
                                    "readers": {c: level_shares([data.readings[r][i].criteria[c] for i in half_ids for r in READERS])
                                                for c in CRITERIA}}},
            "crosslingual": {"model": crosslingual_scores(model.similarity, pairs),
                             "baselines": {"whole_text_use": crosslingual_scores(whole, pairs),
                                           "tfidf": crosslingual_scores(tfidf_sim, pairs)}},
        }

    result = half(test_ids, intervals=True)
    result["split"] = "test"
    result["pool"] = len(ids)
    result["tune"] = half(tune_ids, intervals=False)
    return result


def _tfidf_cross_fitted(data: RealisticSet, practices: dict[str, Practice], tune_ids: list[str], test_ids: list[str],
                        sample_texts: list[str], sample_labels: list[list[str]]):
    """TF-IDF baseline trained on the sample corpus and the tune half (fewer texts than the model, which also learns
    from data/train/areas and the own area set's tune part).

    The test half is predicted by a classifier fitted on sample + tune; the tune half by 5-fold
    cross-fitting within it (both versions of a practice in the same fold).
    """
    from sklearn.model_selection import GroupKFold

    text = lambda i: practices[i].full_text()  # noqa: E731
    unit = {t.id: t.unit for t in data.texts}
    predictions: dict[str, tuple[list[str], set[str]]] = {}
    if test_ids:
        fitted = tfidf_area_predictions(sample_texts + [text(i) for i in tune_ids],
                                        sample_labels + [reading_labels(data, i) for i in tune_ids],
                                        [text(i) for i in test_ids])
        predictions.update({i: (r, s) for i, r, s in zip(test_ids, fitted.ranked, fitted.suggested)})
    groups = [unit[i] for i in tune_ids]
    n_splits = min(5, len(set(groups)))
    if n_splits >= 2:
        for train, held in GroupKFold(n_splits=n_splits).split(tune_ids, groups=groups):
            fitted = tfidf_area_predictions(sample_texts + [text(tune_ids[k]) for k in train],
                                            sample_labels + [reading_labels(data, tune_ids[k]) for k in train],
                                            [text(tune_ids[k]) for k in held])
            predictions.update({tune_ids[k]: (r, s) for k, r, s in zip(held, fitted.ranked, fitted.suggested)})
    else:
        fitted = tfidf_area_predictions(sample_texts, sample_labels, [text(i) for i in tune_ids])
        predictions.update({i: (r, s) for i, r, s in zip(tune_ids, fitted.ranked, fitted.suggested)})

    def pick(half_ids: list[str]):
        return [predictions[i][0] for i in half_ids], [predictions[i][1] for i in half_ids]

    return pick


# ----------------------------------------------------------------------------- report


def markdown_report(result: dict, title: str = "Realistic set") -> str:
    """The evaluation as Markdown tables: test half, tune half beside it."""
    t, u = result, result["tune"]
    c = t["counts"]
    lines = [f"## {title}", "",
             f"Test half: {c['practices']} texts ({c['french']} French, {c['free_prose']} free prose, {c['pairs']} EN/FR pairs); "
             f"tune half: {u['counts']['practices']} texts. Cross-lingual queries search all {t['pool']} texts.", "",
             "The shipped models are trained on the tune half, so their tune figures are read on their own training "
             "texts; the cross-validated tune figures are in the model cards. The TF-IDF baseline's tune figures are "
             "cross-fitted (5 folds by practice), so in the tune columns it is not compared like for like. It is "
             "trained on the sample corpus and the tune half, fewer texts than the area model learns from.", "",
             "### Agreement of the two readings (the ceiling)", "",
             "| half | main area | set F1 | criteria mean Spearman | exact level |", "|---|---|---|---|---|"]
    for name, h in (("test", t), ("tune", u)):
        a = h["agreement"]
        lines.append(f"| {name} | {a['main_area']:.2f} | {a['set_f1']:.2f} | {a['criteria']['mean']:.2f} | {a['criteria_exact']:.2f} |")
    lines += ["", "### Action areas", "", "| system | test top-1 | test top-3 | test set F1 | tune top-1 | tune top-3 | tune set F1 |",
              "|---|---|---|---|---|---|---|"]
    systems = [("model", lambda h: h["areas"]["model"]), ("zero-shot prior", lambda h: h["areas"]["baselines"]["zero_shot"]),
               ("TF-IDF classifier", lambda h: h["areas"]["baselines"]["tfidf"]), ("readers (agreement)", None)]
    for name, get in systems:
        if get is None:
            lines.append(f"| {name} | {t['agreement']['main_area']:.2f} | - | {t['agreement']['set_f1']:.2f} | "
                         f"{u['agreement']['main_area']:.2f} | - | {u['agreement']['set_f1']:.2f} |")
            continue
        a, b = get(t), get(u)
        lines.append(f"| {name} | {a['top1']:.2f} | {a['top3']:.2f} | {a['set_f1']:.2f} | {b['top1']:.2f} | {b['top3']:.2f} | {b['set_f1']:.2f} |")
    lines += ["", "### Criteria (Spearman with the mean of the two readings)", "",
              "| criterion | test model | test word count | test readers | tune model | tune word count | tune readers |",
              "|---|---|---|---|---|---|---|"]
    for crit in CRITERIA + ("mean",):
        row = [t["criteria"]["model"][crit], t["criteria"]["baselines"]["word_count"][crit], t["agreement"]["criteria"][crit],
               u["criteria"]["model"][crit], u["criteria"]["baselines"]["word_count"][crit], u["agreement"]["criteria"][crit]]
        label = f"**{crit}**" if crit == "mean" else crit
        lines.append(f"| {label} | " + " | ".join(f"{v:.2f}" for v in row) + " |")
    lines += ["", "Model minus word count on the test half, with a 95% interval from 2,000 paired bootstrap draws "
              "of its practices (both language versions of one drawn together, seed 0):", "",
              "| criterion | gap | interval |", "|---|---|---|"]
    for crit in CRITERIA:
        a = t["criteria"]["over_word_count"][crit]
        lines.append(f"| {crit} | {a['gap']:+.2f} | {a['low']:+.2f} to {a['high']:+.2f} |")
    lines += ["", "Partial Spearman of the model with length (word count) held fixed:",
              "", "| criterion | test | tune |", "|---|---|---|"]
    for crit in CRITERIA:
        lines.append(f"| {crit} | {t['criteria']['model_length_held'][crit]:.2f} | {u['criteria']['model_length_held'][crit]:.2f} |")
    lines += ["", "Level shares 0 / 1 / 2 / 3, test half (model | both readings):", "",
              "| criterion | model | readers |", "|---|---|---|"]
    for crit in CRITERIA:
        m, r = t["criteria"]["levels"]["model"][crit], t["criteria"]["levels"]["readers"][crit]
        lines.append(f"| {crit} | {' / '.join(f'{v:.2f}' for v in m)} | {' / '.join(f'{v:.2f}' for v in r)} |")
    lines += ["", "### EN/FR versions of one practice (each version queries all texts for the other)", "",
              "| system | test R@1 | test MRR | test not in top 10 | tune R@1 | tune MRR |", "|---|---|---|---|---|---|"]
    for name, key in (("model (similar stage vectors)", None), ("one USE vector per whole text", "whole_text_use"), ("TF-IDF", "tfidf")):
        a = t["crosslingual"]["model"] if key is None else t["crosslingual"]["baselines"][key]
        b = u["crosslingual"]["model"] if key is None else u["crosslingual"]["baselines"][key]
        lines.append(f"| {name} | {a['r1']:.2f} | {a['mrr']:.2f} | {a['not_in_top10']}/{a['queries']} | {b['r1']:.2f} | {b['mrr']:.2f} |")
    return "\n".join(lines) + "\n"
