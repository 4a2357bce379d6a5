"""Cross-city neighbours: for every practice, the most similar practices of other cities.

Rows of similar.parquet (schema SCHEMAS["similar"]):
- rank 1..k: the top-k practices of *other* cities with a score >= min_similarity, best first.
  Two versions of one practice from the same neighbouring city (a resubmission or a translation) fill
  one slot, not two: the better-scoring version is kept.
- rank 0: a near-duplicate from the practice's *own* city (score >= near_duplicate_threshold): the same
  practice resubmitted or written in the other language. It is flagged, never offered as a practice
  "from elsewhere". A neighbour from another city that scores above the threshold keeps its rank and is
  flagged too (near_duplicate=True).
Each row says which section matched best (the same template section on both sides, compared by
embedding) and the key terms the two texts share (in the practice's own language; French and English
terms are matched through resources/terms.yaml, so a French practice and an English one share terms too).

The search is exact (numpy, blocked matrix products). benchmarks/bench_search.py measures it at 1k, 10k
and 100k practices and compares an approximate index; see benchmarks/results/search.md.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
import yaml

from pipeline.config import RESOURCES_DIR, Settings
from pipeline.embed import split_sentences
from pipeline.normalize import fold
from pipeline.records import Practice

TERMS_FILE = RESOURCES_DIR / "terms.yaml"

# Sections compared one to one; the title and objective only count when no section is shared.
SECTIONS = ("purpose", "starting_point", "process", "impact")
FALLBACK_SECTIONS = ("main_objective", "title")
MAX_SHARED_TERMS = 6


def practice_text(practice: Practice) -> str:
    """The text a practice is compared on (title, objective and description)."""
    return practice.full_text()


def city_key(city: str | None) -> str:
    """Cities compared without case, accents or spacing: 'Genève' == 'geneve'. A missing city (None, or the
    NaN pandas hands over) gives ''."""
    return re.sub(r"[^a-z0-9]+", " ", fold(city if isinstance(city, str) else "")).strip()


# --------------------------------------------------------------------------- exact top-k search


def top_k_exact(queries: np.ndarray, base: np.ndarray, k: int, exclude: np.ndarray | None = None,
                block: int | None = None, query_groups: np.ndarray | None = None,
                base_groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the k highest inner products of each query row in `base`, best first.

    Pairs that must never be returned are given either as a (queries x base) boolean `exclude` matrix
    (small collections) or as group ids: a query never gets a base row of its own group (its city).
    Scores are computed in blocks of query rows, so memory stays near 256 MB whatever the collection size.
    Excluded or missing candidates come back with score -inf.
    """
    n_q, n_b = len(queries), len(base)
    k = max(0, min(k, n_b))
    indices = np.zeros((n_q, k), dtype=np.int64)
    scores = np.zeros((n_q, k), dtype=np.float32)
    if k == 0:
        return indices, scores
    block = block or max(1, min(n_q, (64 << 20) // max(n_b, 1)))
    for start in range(0, n_q, block):
        stop = min(start + block, n_q)
        sims = queries[start:stop] @ base.T
        if exclude is not None:
            sims[exclude[start:stop]] = -np.inf
        if query_groups is not None and base_groups is not None:
            sims[query_groups[start:stop, None] == base_groups[None, :]] = -np.inf
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < n_b else np.tile(np.arange(n_b), (stop - start, 1))
        part_scores = np.take_along_axis(sims, part, axis=1)
        order = np.argsort(-part_scores, axis=1, kind="stable")
        indices[start:stop] = np.take_along_axis(part, order, axis=1)
        scores[start:stop] = np.take_along_axis(part_scores, order, axis=1)
    return indices, scores


def city_groups(cities: Sequence[str | None]) -> np.ndarray:
    """A group id per practice: one per city; a practice without a city is its own group."""
    ids: dict[str, int] = {}
    out = np.empty(len(cities), dtype=np.int64)
    for i, city in enumerate(cities):
        key = city_key(city)
        out[i] = ids.setdefault(key, len(ids)) if key else -(i + 1)
    return out


# --------------------------------------------------------------------------- shared terms


@dataclass(frozen=True)
class _Concept:
    key: str
    labels: dict  # lang -> display label
    patterns: tuple  # compiled regexes on folded lower-case text


@lru_cache(maxsize=1)
def _concepts(path: Path = TERMS_FILE) -> tuple[_Concept, ...]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    concepts = []
    for key, item in data["concepts"].items():
        forms = [f for lang in ("en", "fr") for f in item.get(lang, [])]
        patterns = tuple(re.compile(r"\b" + re.escape(fold(f).lower()).replace(r"\ ", r"[\s-]+") + r"(?:s|e|es|x)?\b")
                         for f in forms)
        concepts.append(_Concept(key, {lang: item[lang][0] for lang in ("en", "fr") if item.get(lang)}, patterns))
    return tuple(concepts)


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    data = yaml.safe_load(TERMS_FILE.read_text(encoding="utf-8"))
    words = set()
    for lang in ("en", "fr"):
        words.update(fold(w).lower() for w in data["stopwords"][lang].split())
    return frozenset(words)


def _form_key(form: str) -> str:
    """Folded form with hyphens and runs of spaces as single spaces ('co-design' == 'co design')."""
    return " ".join(fold(form).lower().replace("-", " ").split())


@lru_cache(maxsize=1)
def _concept_regex() -> tuple[re.Pattern, dict[str, str]]:
    """One alternation of every concept form (longest first) and the concept of each form: one scan per text."""
    forms: dict[str, str] = {}
    data = yaml.safe_load(TERMS_FILE.read_text(encoding="utf-8"))
    for key, item in data["concepts"].items():
        for lang in ("en", "fr"):
            for form in item.get(lang, []):
                forms.setdefault(_form_key(form), key)
    alternatives = sorted(forms, key=len, reverse=True)
    body = "|".join(re.escape(f).replace(r"\ ", r"[\s-]+") for f in alternatives)
    return re.compile(r"\b(" + body + r")(?:s|e|es|x)?\b"), forms


@lru_cache(maxsize=20000)
def _is_concept_word(folded_word: str) -> bool:
    return _concept_regex()[0].fullmatch(folded_word) is not None


_WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W\d_]", re.UNICODE)


def _stem(word: str) -> str:
    """A crude plural-folding stem so 'mediators' meets 'mediator' (same language only)."""
    for suffix in ("ies", "es", "s", "x"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


class TermIndex:
    """Key terms of each practice: bilingual concepts from terms.yaml plus same-language content words.

    `fit` learns document frequencies over the collection so that terms every practice uses
    ('city', 'intercultural') are not offered as the reason two practices match.
    """

    def __init__(self, max_df: float = 0.35):
        self.max_df = max_df

    def fit(self, texts: Sequence[str], langs: Sequence[str]) -> "TermIndex":
        self.langs_ = list(langs)
        self.concepts_ = [self._concepts_in(t) for t in texts]
        self.words_ = [self._words_in(t) for t in texts]
        n = max(len(texts), 1)
        df: Counter = Counter()
        for c, w in zip(self.concepts_, self.words_):
            df.update(set(c))
            df.update(set(w))
        self.idf_ = {t: math.log((1 + n) / (1 + f)) + 1.0 for t, f in df.items()}
        self.common_ = {t for t, f in df.items() if f / n > self.max_df and n >= 5}
        return self

    @staticmethod
    def _concepts_in(text: str) -> dict[str, int]:
        pattern, forms = _concept_regex()
        found: Counter = Counter()
        for form in pattern.findall(fold(text or "").lower()):
            found[forms[_form_key(form)]] += 1
        return dict(found)

    @staticmethod
    def _words_in(text: str) -> dict[str, tuple[int, str]]:
        stop = _stopwords()
        counts: Counter = Counter()
        surface: dict[str, str] = {}
        for match in _WORD.finditer(text or ""):
            word = match.group(0).replace("’", "'")
            low = fold(word).lower()
            if len(low) < 4 or low in stop or "'" in low or _is_concept_word(low):
                continue
            key = _stem(low)
            counts[key] += 1
            surface.setdefault(key, word.lower() if not word.isupper() else word)
        return {k: (c, surface[k]) for k, c in counts.items()}

    def shared(self, i: int, j: int, limit: int = MAX_SHARED_TERMS) -> list[str]:
        """Terms practice i and practice j share, most specific first, in practice i's language."""
        lang = self.langs_[i] if self.langs_[i] in ("en", "fr") else "en"
        scored: list[tuple[float, str]] = []
        labels = {c.key: c.labels for c in _concepts()}
        for key in set(self.concepts_[i]) & set(self.concepts_[j]):
            if key in self.common_:
                continue
            weight = self.idf_.get(key, 1.0) * (1 + math.log(min(self.concepts_[i][key], self.concepts_[j][key])))
            scored.append((weight + 0.5, labels[key].get(lang) or next(iter(labels[key].values()))))
        for key in set(self.words_[i]) & set(self.words_[j]):
            # A word both texts use once is often incidental ('found', 'month'): ask for repetition.
            if key in self.common_ or min(self.words_[i][key][0], self.words_[j][key][0]) < 2:
                continue
            weight = self.idf_.get(key, 1.0) * (1 + math.log(min(self.words_[i][key][0], self.words_[j][key][0])))
            scored.append((weight, self.words_[i][key][1]))
        out: list[str] = []
        for _, term in sorted(scored, key=lambda x: (-x[0], x[1])):
            folded = fold(term).lower()
            # A word already covered by a chosen concept label adds nothing ('mediation' after 'mediator').
            if any(folded[:5] == fold(t).lower()[:5] for t in out):
                continue
            out.append(term)
            if len(out) == limit:
                break
        return out


# --------------------------------------------------------------------------- the stage


def embed_practices(practices: Sequence[Practice], embedder) -> tuple[np.ndarray, list[dict[str, np.ndarray]]]:
    """A vector per practice and per template section, from sentence embeddings.

    Sentences are the unit the area classifier and the criteria scorer embed too, so with the shared
    cache this stage mostly re-uses their vectors. A section is the mean of its sentences; a practice is
    the mean of all its sentences, title and objective included.
    """
    names = FALLBACK_SECTIONS[::-1] + SECTIONS
    units: list[tuple[int, str]] = []
    texts: list[str] = []
    for i, p in enumerate(practices):
        for name in names:
            value = getattr(p, name)
            if not value or not value.strip():
                continue
            parts = [" ".join(value.split())] if name in FALLBACK_SECTIONS else (split_sentences(value) or [value])
            units.extend((i, name) for _ in parts)
            texts.extend(parts)
        if not any(getattr(p, name) for name in names) and (p.description or "").strip():
            parts = split_sentences(p.description) or [p.description]
            units.extend((i, "description") for _ in parts)
            texts.extend(parts)
    dim = int(embedder.dim)
    matrix = embedder.encode(texts) if texts else np.zeros((0, dim), np.float32)
    width = matrix.shape[1] if matrix.size else dim
    docs = np.zeros((len(practices), width), dtype=np.float32)
    sums: list[dict[str, np.ndarray]] = [{} for _ in practices]
    for (i, name), vector in zip(units, matrix):
        docs[i] += vector
        sums[i][name] = sums[i].get(name, 0) + vector
    sections = [{k: v / max(float(np.linalg.norm(v)), 1e-12) for k, v in d.items() if k != "description"} for d in sums]
    norms = np.linalg.norm(docs, axis=1, keepdims=True)
    return (docs / np.maximum(norms, 1e-12)).astype(np.float32), sections


def matched_section(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> tuple[str | None, float]:
    """The template section the two practices are closest on (same section on both sides)."""
    for names in (SECTIONS, FALLBACK_SECTIONS):
        common = [s for s in names if s in a and s in b]
        if common:
            scores = [float(a[s] @ b[s]) for s in common]
            best = int(np.argmax(scores))
            return common[best], scores[best]
    return None, 0.0


# --------------------------------------------------------------------------- near-duplicates

# A translation is not close enough in embedding space to pass a cosine threshold on its own (the
# FR/EN pairs of data/eval/crosslingual reach 0.67-0.96 with USE, unrelated practices up to 0.76), but
# it keeps the facts: counts, amounts, durations. Shared numbers plus a fair cosine flag it.
FACT_MIN_COSINE = 0.60
FACT_MIN_JACCARD = 0.40
FACT_MIN_COUNT = 3
_THOUSANDS = re.compile(r"(?<=\d)[\s\u202f\u00a0,.'’](?=\d{3}\b)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def facts(practice: Practice) -> frozenset[str]:
    """Numbers a practice reports (years left out: every practice has them), thousands separators removed."""
    text = " ".join(filter(None, [practice.title, practice.main_objective] + [getattr(practice, s) for s in SECTIONS]))
    text = _THOUSANDS.sub("", text)
    return frozenset(n.replace(",", ".") for n in _NUMBER.findall(text)
                     if not (len(n) == 4 and n[:2] in ("19", "20")))


def is_near_duplicate(score: float, facts_a: frozenset[str] | None, facts_b: frozenset[str] | None,
                      threshold: float) -> bool:
    """Same practice twice: very close embeddings, or close ones that report the same figures."""
    if score >= threshold:
        return True
    if facts_a is None or facts_b is None or min(len(facts_a), len(facts_b)) < FACT_MIN_COUNT:
        return False
    jaccard = len(facts_a & facts_b) / len(facts_a | facts_b)
    return score >= FACT_MIN_COSINE and jaccard >= FACT_MIN_JACCARD


def find_neighbours(vectors: np.ndarray, cities: Sequence[str | None], top_k: int, min_score: float,
                    near_duplicate: float, fact_sets: Sequence[frozenset[str]] | None = None,
                    ) -> list[tuple[int, int, int, float, bool]]:
    """(query, neighbour, rank, score, near_duplicate) for every practice; rank 0 = same-city near-duplicate."""
    n = len(vectors)

    def dup(a: int, b: int, score: float) -> bool:
        return is_near_duplicate(score, fact_sets[a] if fact_sets else None, fact_sets[b] if fact_sets else None,
                                 near_duplicate)

    groups = city_groups(cities)
    members: dict[int, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(int(g), []).append(i)
    # Extra candidates so that collapsed versions of one practice do not leave the list short.
    idx, sc = top_k_exact(vectors, vectors, min(n, top_k * 3 + 2), query_groups=groups, base_groups=groups)
    rows: list[tuple[int, int, int, float, bool]] = []
    for q in range(n):
        chosen: list[int] = []
        for j, s in zip(idx[q], sc[q]):
            if not np.isfinite(s) or s < min_score or len(chosen) == top_k:
                break
            if any(groups[c] == groups[j] and dup(c, j, float(vectors[c] @ vectors[j])) for c in chosen):
                continue  # another version of a practice already listed
            chosen.append(int(j))
            rows.append((q, int(j), len(chosen), float(s), dup(q, int(j), float(s))))
        own = np.array([j for j in members[int(groups[q])] if j != q], dtype=np.int64)
        if len(own):
            own_scores = vectors[own] @ vectors[q]
            for j, s in sorted(zip(own, own_scores), key=lambda x: -x[1]):
                if dup(q, int(j), float(s)):
                    rows.append((q, int(j), 0, float(s), True))
    return rows


def similar_stage(practices: list[Practice], settings: Settings, embedder) -> list[dict]:
    """Rows of similar.parquet for a batch of practices."""
    if not practices:
        return []
    texts = [practice_text(p) for p in practices]
    vectors, sections = embed_practices(practices, embedder)
    terms = TermIndex().fit(texts, [p.lang for p in practices])
    rows = []
    found = find_neighbours(vectors, [p.city for p in practices], settings.top_k, settings.min_similarity,
                            settings.near_duplicate_threshold, [facts(p) for p in practices])
    for q, j, rank, score, dup in found:
        section, _ = matched_section(sections[q], sections[j])
        rows.append({
            "practice_id": practices[q].practice_id,
            "neighbour_id": practices[j].practice_id,
            "rank": rank,
            "score": round(score, 4),
            "matched_section": section,
            "shared_terms": terms.shared(q, j),
            "neighbour_city": practices[j].city,
            "near_duplicate": dup,
        })
    return rows
