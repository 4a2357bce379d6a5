"""Similar practices of other cities for a checked form, found in the loaded run.

The run's practices are embedded once per loaded run (`CorpusVectors`); a checked practice is embedded with the
same embedder and scored with the similar stage's own pair score (`PracticeVectors.pair_scores`) against the
candidates of an exact whole-text search. Practices of the form's own city are never offered
(`pipeline.cities.city_key`), and two versions of one practice elsewhere fill one slot.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from pipeline.cities import city_key
from pipeline.records import Practice
from pipeline.config import Settings
from pipeline.similar import (PracticeVectors, candidate_count, embed_practices, hub_means, matched_section,
                              top_k_exact, top_mean)


@dataclass(frozen=True)
class CorpusVectors:
    """The vectors of a run's practices, in the order of `ids`."""

    ids: np.ndarray  # practice ids (str)
    city_keys: np.ndarray  # pipeline.cities.city_key of each practice's city ('' when it has none)
    vectors: PracticeVectors
    anchor_counts: Counter  # in how many practices each anchor occurs (for the anchor IDF)
    hub: np.ndarray  # each practice's hubness before centring (pipeline.similar.hub_means), as the run ranked
    settings: Settings  # the run's: its similar-stage weights and hubness, its top_k

    @classmethod
    def build(cls, practices: list[Practice], embedder, settings: Settings | None = None) -> "CorpusVectors":
        settings = settings or Settings()
        vectors = embed_practices(practices, embedder, settings.similar)
        counts = Counter(a for anchors in vectors.anchors for a in anchors)
        return cls(np.array([p.practice_id for p in practices], dtype=object),
                   np.array([city_key(p.city) for p in practices], dtype=object), vectors, counts,
                   hub_means(vectors, candidate_count(settings.top_k), settings.similar), settings)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class SimilarPractice:
    practice_id: str
    score: float
    weak: bool  # below the run's min score: kept only as the best match
    matched_section: str | None


def similar_elsewhere(practices: list[Practice], embedder, corpus: CorpusVectors | None, top_k: int,
                      min_score: float, versions: dict[str, set[str]] | None = None) -> list[list[SimilarPractice]]:
    """For each practice, up to `top_k` practices of other cities, best first (the best is kept even if weak)."""
    if corpus is None or not len(corpus) or not practices:
        return [[] for _ in practices]
    query = embed_practices(practices, embedder, corpus.settings.similar)
    return [_for_one(query, i, city_key(p.city), p.practice_id, corpus, top_k, min_score, versions or {})
            for i, p in enumerate(practices)]


def _for_one(query: PracticeVectors, q: int, own_city: str, own_id: str, corpus: CorpusVectors, top_k: int,
             min_score: float, versions: dict[str, set[str]]) -> list[SimilarPractice]:
    others = corpus.ids != own_id
    allowed = np.flatnonzero(others & (corpus.city_keys != own_city) if own_city else others)
    if not len(allowed):
        return []
    rules, n_hub = corpus.settings.similar, candidate_count(corpus.settings.top_k)
    n_candidates = min(len(allowed), max(top_k * 4 + 20, n_hub))
    index, _ = top_k_exact(query.whole[q:q + 1], corpus.vectors.whole[allowed], n_candidates)
    candidates = [int(allowed[k]) for k in index[0]]
    in_run = not others.all()  # the form is one of the run's own practices (same file, same id)
    scores = _pair_scores(query, q, corpus, candidates, in_run)
    # as the similar stage ranks: both sides' hubness, centred on the run's, taken off the pair score; the
    # query's own is over its nearest practices whatever their city, as the run's are (`hub_means`)
    near = np.flatnonzero(others)
    index, _ = top_k_exact(query.whole[q:q + 1], corpus.vectors.whole[near], min(len(near), n_hub))
    query_hub = top_mean(_pair_scores(query, q, corpus, [int(near[k]) for k in index[0]], in_run), rules)
    centre = float(corpus.hub.mean())
    scores = scores - rules.hub_weight * ((query_hub - centre) + (corpus.hub[candidates] - centre))
    chosen: list[SimilarPractice] = []
    taken: set[str] = set()
    for k in np.argsort(-scores, kind="stable"):
        j, score = candidates[k], float(scores[k])
        pid = str(corpus.ids[j])
        if len(chosen) == top_k or (score < min_score and chosen):
            break
        if pid in taken:
            continue  # another version of a practice already listed
        taken |= {pid, *versions.get(pid, ())}
        section, _ = matched_section(query.sections[q], corpus.vectors.sections[j])
        chosen.append(SimilarPractice(pid, round(score, 4), score < min_score, section))
    return chosen


def _pair_scores(query: PracticeVectors, q: int, corpus: CorpusVectors, candidates: list[int],
                 in_run: bool = False) -> np.ndarray:
    """The similar stage's pair score of query q with each candidate, computed on a small joint collection
    (the query first), with anchor IDFs counted over the run plus the query (the run alone when the query is one
    of its practices, counted there already)."""
    c = corpus.vectors
    anchors = [query.anchors[q], *(c.anchors[j] for j in candidates)]
    extra = 0 if in_run else 1
    n = len(corpus) + extra
    idf = {a: math.log((n + 1) / (corpus.anchor_counts.get(a, 0) + extra * (a in query.anchors[q]) + 0.5))
           for a in set().union(*anchors)}
    joint = PracticeVectors(
        whole=np.vstack([query.whole[q:q + 1], c.whole[candidates]]),
        chunks=[query.chunks[q], *(c.chunks[j] for j in candidates)],
        sections=[query.sections[q], *(c.sections[j] for j in candidates)],
        anchors=anchors,
        idf=idf,
        weights=query.weights,
    )
    return joint.pair_scores(0, range(1, len(candidates) + 1))
