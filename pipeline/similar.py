"""Cross-city neighbours: for every practice, the most similar practices of other cities.

Two practices are compared by a pair score (`PracticeVectors.pair_scores`): the cosine of one vector per whole
text, the best-matching pair of sentence chunks, and the language-independent anchors both share (proper names,
numbers, years, acronyms), weighted as chosen on the tune half of data/eval/realistic. Both sides' hubness
(`hubness`: how close a practice is to everything) is taken off it, so that a broad text is not every list's
first neighbour. A version of a practice
that was revised later, or is shorter, keeps its whole-text vector, its chunks and its names; a mean of sentence
vectors drifts towards other long texts of the same language.

Rows of similar.parquet (schema SCHEMAS["similar"]):
- rank 1..k: the top-k practices of *other* cities, best first. The best one is always kept; below
  `min_similarity` it is marked `weak`, and nothing weaker is added. Two versions of one practice from the same
  neighbouring city fill one slot, not two.
- rank 0: another version of the practice from its *own* city, `relation` = `version` (a translation or a
  rewrite: each the other's best match, in different languages) or `near_duplicate` (the same text again). They
  are linked, never offered as a practice "from elsewhere". A neighbour from another city that is a
  near-duplicate keeps its rank and is flagged too.
"The same city" follows one rule everywhere (`pipeline.cities.city_key`: case, accents, aliases).
Each row says which section matched best and the key terms the two texts share (French and English terms are
matched through resources/terms.yaml).

Candidates come from an exact search on the whole-text vectors (numpy, blocked matrix products), then are
re-ranked by the pair score. benchmarks/bench_search.py measures the search at 1k, 10k and 100k practices.
The weights, thresholds and sizes are `Settings.similar` (pipeline/config.py); the term tables are loaded once
through the registry (pipeline/registry.py).
"""

from __future__ import annotations

import bisect
import math
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.config import RESOURCES_DIR, Settings, SimilarSettings, load_yaml
from pipeline.embed import l2_normalise, split_sentences
from pipeline.cities import city_info, city_key
from pipeline.normalize import fold, form_year
from pipeline.records import Practice
from pipeline.registry import loader
from pipeline.tables import is_missing

TERMS_FILE = RESOURCES_DIR / "terms.yaml"

# Sections compared one to one; the title and objective only count when no section is shared.
SECTIONS = ("purpose", "starting_point", "process", "impact")
FALLBACK_SECTIONS = ("main_objective", "title")
_DEFAULTS = SimilarSettings()
MAX_SHARED_TERMS = _DEFAULTS.max_shared_terms


def practice_text(practice: Practice) -> str:
    """The text a practice is compared on (title, objective and description)."""
    return practice.full_text()


# --------------------------------------------------------------------------- exact top-k search


def top_k_exact(queries: np.ndarray, base: np.ndarray, k: int, exclude: np.ndarray | None = None,
                block: int | None = None, query_groups: np.ndarray | None = None,
                base_groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the k highest inner products of each query row in `base`, best first.

    Pairs that must never be returned are given either as a (queries x base) boolean `exclude` matrix
    (small collections) or as group ids: a query never gets a base row of its own group (its city).
    Scores are computed in blocks of query rows of about four million scores (with the partial sort's
    temporaries about 70 MB), whatever the collection size.
    Excluded or missing candidates come back with score -inf.
    """
    n_q, n_b = len(queries), len(base)
    k = max(0, min(k, n_b))
    indices = np.zeros((n_q, k), dtype=np.int64)
    scores = np.zeros((n_q, k), dtype=np.float32)
    if k == 0:
        return indices, scores
    block = block or max(1, min(n_q, (4 << 20) // max(n_b, 1)))
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
    forms: tuple = ()  # every form, as terms.yaml writes it


@loader("term_concepts")
def term_concepts(path: Path = TERMS_FILE) -> tuple[_Concept, ...]:
    """The FR/EN concepts of resources/terms.yaml, with the patterns of all their forms."""
    data = load_yaml(Path(path).read_text(encoding="utf-8"))
    concepts = []
    for key, item in data["concepts"].items():
        forms = [f for lang in ("en", "fr") for f in item.get(lang, [])]
        patterns = tuple(re.compile(_not_a_stop_word() + re.escape(fold(f).lower()).replace(r"\ ", r"[\s-]+")
                                    + r"(?:s|e|es|x)?\b") for f in forms)
        concepts.append(_Concept(key, {lang: item[lang][0] for lang in ("en", "fr") if item.get(lang)}, patterns,
                                 tuple(forms)))
    return tuple(concepts)


@loader("term_stopwords")
def _stopwords() -> frozenset[str]:
    data = load_yaml(TERMS_FILE.read_text(encoding="utf-8"))
    words = set()
    for lang in ("en", "fr"):
        words.update(fold(w).lower() for w in data["stopwords"][lang].split())
    return frozenset(words)


def _form_key(form: str) -> str:
    """Folded form with hyphens and runs of spaces as single spaces ('co-design' == 'co design')."""
    return " ".join(fold(form).lower().replace("-", " ").split())


@loader("term_concept_regex")
def _concept_regex() -> tuple[re.Pattern, dict[str, str]]:
    """One alternation of every concept form (longest first) and the concept of each form: one scan per text."""
    forms: dict[str, str] = {}
    data = load_yaml(TERMS_FILE.read_text(encoding="utf-8"))
    for key, item in data["concepts"].items():
        for lang in ("en", "fr"):
            for form in item.get(lang, []):
                forms.setdefault(_form_key(form), key)
    alternatives = sorted(forms, key=len, reverse=True)
    body = "|".join(re.escape(f).replace(r"\ ", r"[\s-]+") for f in alternatives)
    return re.compile(_not_a_stop_word() + r"(" + body + r")(?:s|e|es|x)?\b"), forms


@loader("term_blocked_words")
def _not_a_stop_word() -> str:
    """The start of a concept pattern: a word boundary, then not a stop word that a form and an ending spell
    (« parce » of « parce que » is 'parc' and '-e')."""
    data = load_yaml(TERMS_FILE.read_text(encoding="utf-8"))
    forms = {_form_key(f) for item in data["concepts"].values() for lang in ("en", "fr") for f in item.get(lang, [])}
    spelled = re.compile(r"(?:" + "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)) +
                         r")(?:s|e|es|x)")
    blocked = sorted(w for w in _stopwords() if w not in forms and spelled.fullmatch(w))
    return r"\b(?!(?:" + "|".join(map(re.escape, blocked)) + r")\b)" if blocked else r"\b"


@loader("term_written_forms")
def _written_forms() -> dict[str, dict[str, str]]:
    """Each concept form as terms.yaml writes it in each language (with its accents), by its key (`_form_key`):
    'mediation' is « médiation » in French."""
    written: dict[str, dict[str, str]] = {}
    data = load_yaml(TERMS_FILE.read_text(encoding="utf-8"))
    for item in data["concepts"].values():
        for lang in ("en", "fr"):
            for form in item.get(lang, []):
                written.setdefault(_form_key(form), {}).setdefault(lang, form)
    return written


@loader("term_concept_words")
def _concept_word_test():
    """Whether a folded word is a concept form; memoised per word, and reset with the term tables."""
    pattern = _concept_regex()[0]
    return lru_cache(maxsize=20000)(lambda folded_word: pattern.fullmatch(folded_word) is not None)


def _is_concept_word(folded_word: str) -> bool:
    return _concept_word_test()(folded_word)


@loader("term_word_keys")
def _word_key_function():
    """The stem under which a word is counted as a content word, or None when it is not one (too short, a stop
    word, an elision, a concept form); memoised per surface form, since words recur across a batch's texts."""
    stop = _stopwords()

    def word_key(word: str) -> str | None:
        low = fold(word).lower()
        if len(low) < 4 or low in stop or "'" in low or _is_concept_word(low):
            return None
        return _stem(low)

    return lru_cache(maxsize=200_000)(word_key)


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
    ('city', 'intercultural') are not offered as the reason two practices match; a term in no more texts than
    `max_df_floor` (a pair's two) always may be.
    """

    def __init__(self, max_df: float = _DEFAULTS.term_max_df, max_df_floor: int = _DEFAULTS.term_max_df_floor):
        self.max_df = max_df
        self.max_df_floor = max_df_floor

    def fit(self, texts: Iterable[str], langs: Sequence[str]) -> "TermIndex":
        """`texts` may be a generator: a large batch's texts need not all be in memory at once."""
        self.langs_ = list(langs)
        self.concepts_ = []
        self.words_ = []
        df: Counter = Counter()
        n = 0
        for text in texts:
            n += 1
            concepts, words = self._concepts_in(text), self._words_in(text)
            df.update(concepts.keys())
            df.update(words.keys())
            self.concepts_.append(concepts)
            # Only repeated words can be offered as shared (see `shared`): the others are counted, not kept.
            self.words_.append({k: v for k, v in words.items() if v[0] >= 2})
        n = max(n, 1)
        self.idf_ = {t: math.log((1 + n) / (1 + f)) + 1.0 for t, f in df.items()}
        # a count, not a share: in a small batch a share counts a pair's own two texts as common
        ceiling = max(self.max_df * n, self.max_df_floor)
        self.common_ = {t for t, f in df.items() if f > ceiling}
        return self

    @staticmethod
    def _concepts_in(text: str) -> dict[str, tuple[int, str]]:
        """Concept -> (how often the text names it, the key of the form it uses most)."""
        pattern, forms = _concept_regex()
        used: Counter = Counter(_form_key(form) for form in pattern.findall(fold(text or "").lower()))
        found: dict[str, tuple[int, str]] = {}
        for form, n in used.most_common():  # the most used form first (then the first met)
            count, shown = found.get(forms[form], (0, form))
            found[forms[form]] = (count + n, shown)
        return found

    @staticmethod
    def _words_in(text: str) -> dict[str, tuple[int, str]]:
        word_key = _word_key_function()
        counts: Counter = Counter()
        surface: dict[str, str] = {}
        for match in _WORD.finditer(text or ""):
            word = match.group(0).replace("’", "'")
            key = word_key(word)
            if key is None:
                continue
            counts[key] += 1
            surface.setdefault(key, word.lower() if not word.isupper() else word)
        return {k: (c, surface[k]) for k, c in counts.items()}

    def shared(self, i: int, j: int, limit: int = MAX_SHARED_TERMS) -> list[str]:
        """Terms practice i and practice j share, most specific first, as practice i words them: a concept both
        name (in either language) by the form practice i uses most ('locataires' for housing, not 'logement')."""
        scored: list[tuple[float, str]] = []
        for key in set(self.concepts_[i]) & set(self.concepts_[j]):
            if key in self.common_:
                continue
            (mine, form), (theirs, _) = self.concepts_[i][key], self.concepts_[j][key]
            weight = self.idf_.get(key, 1.0) * (1 + math.log(min(mine, theirs)))
            # as terms.yaml writes the form in practice i's language (« médiation », not 'mediation')
            written = _written_forms()[form]
            scored.append((weight + 0.5, written.get(self.langs_[i]) or next(iter(written.values()))))
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


# Relations of `similar.parquet` (at rank 0) between forms of one practice.
SAME_PRACTICE = ("version", "near_duplicate")


def same_practice_pairs(rows: Iterable) -> list[tuple[str, str]]:
    """(practice_id, neighbour_id) of the rows of similar.parquet that join two forms of one practice. A table
    written before rows said their relation marks them with `near_duplicate` alone (rank 0 was already the
    practice's own city)."""
    out = []
    for r in rows:
        rank, relation, flagged = r.get("rank"), r.get("relation"), r.get("near_duplicate")
        if is_missing(rank) or rank != 0:
            continue
        # an older table has no relation: its near_duplicate flag says the same
        same = relation in SAME_PRACTICE if isinstance(relation, str) else (not is_missing(flagged) and bool(flagged))
        if same:
            out.append((str(r["practice_id"]), str(r["neighbour_id"])))
    return out


def version_keys(ids: list[str], pairs: list[tuple[str, str]], words: Mapping[str, int] | None = None) -> dict[str, str]:
    """Each id's practice: of the ids `pairs` join, directly or through others, the first of `ids` among the
    fullest ones. `words`: each id's description length; a version stands for its practice only when it has at
    least FULL_VERSION_SHARE of the longest version's words (a short summary does not stand for the full form)."""
    parent = {p: p for p in ids}

    def root(p: str) -> str:
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    for a, b in pairs:
        if a in parent and b in parent:
            parent[root(b)] = root(a)
    size = {p: int((words or {}).get(p) or 0) for p in ids}
    longest: dict[str, int] = {}
    for p in ids:
        longest[root(p)] = max(longest.get(root(p), 0), size[p])
    first: dict[str, str] = {}
    for p in ids:  # in order: the first met of the full versions stands for its group
        if size[p] >= FULL_VERSION_SHARE * longest[root(p)]:
            first.setdefault(root(p), p)
    return {p: first[root(p)] for p in ids}


# a version with fewer than this share of the longest version's words (a summary) does not stand for its practice
FULL_VERSION_SHARE = 2 / 3


def version_words(rows: Iterable[Mapping]) -> dict[str, int]:
    """Each practice's description length by id (`version_keys`' `words`), from rows of practices.parquet."""
    return {str(r["practice_id"]): 0 if is_missing(r.get("n_words")) else int(r["n_words"]) for r in rows}


def version_order(row: Mapping) -> tuple[int, int, str, int, str]:
    """The order in which the forms of one practice are taken (`version_keys`, `fill_from_versions`), whatever their
    file names and the order of a table's rows: first a form in its city's own language (that of its reports in
    cities.yaml: a translation made for the network comes after the form it translates), then the earliest by the
    year of its form date (a form sent again later does not take the practice's place, nor its date; no date last),
    then by file name and place in the file."""
    name, index, city = row.get("source_file"), row.get("practice_index"), row.get("city")
    info = city_info(city) if isinstance(city, str) else None
    own_language = 0 if info is not None and row.get("lang") == info.report_lang else 1
    year = form_year(row.get("form_date")) or 9999
    return (own_language, year, "" if is_missing(name) else str(name), -1 if is_missing(index) else int(index),
            str(row.get("practice_id")))


# Header fields that the form standing for a practice takes from its other versions where its own form left them
# empty (a translation often carries the description alone). Each group is taken whole from one version, the
# first in `version_order` that has any of its first fields: a period's years come with the text they were read
# from, and `area_mismatch` with the declared areas it was judged against.
VERSION_FILLED = (
    (("title",), ()), (("department",), ()), (("form_date",), ()), (("contact_person",), ()),
    (("main_objective",), ()),
    (("declared_area_text", "declared_areas"), ("area_mismatch",)),
    (("period_text", "period_start", "period_end"), ("ongoing",)),
)


def _empty(value) -> bool:
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, np.ndarray)):
        return len(value) == 0
    return is_missing(value)


def fill_from_versions(rows: Sequence[Mapping], keys: Mapping[str, str]) -> dict[str, dict]:
    """What the representative of each practice takes from its other versions: {representative id: {field:
    value}} for each group of VERSION_FILLED that is empty on the representative, from the first other version
    (in `version_order`) where it is not. `keys`: each practice id's representative (`version_keys`)."""
    groups: dict[str, list[Mapping]] = {}
    for row in sorted(rows, key=version_order):
        groups.setdefault(keys.get(str(row["practice_id"]), str(row["practice_id"])), []).append(row)
    out: dict[str, dict] = {}
    for key, members in groups.items():
        first = next((r for r in members if str(r["practice_id"]) == key), None)
        if first is None or len(members) < 2:
            continue
        for checked, carried in VERSION_FILLED:
            if not all(name in first for name in checked) or not all(_empty(first[n]) for n in checked):
                continue
            donor = next((r for r in members if r is not first and not all(_empty(r.get(n)) for n in checked)), None)
            if donor is not None:
                out.setdefault(key, {}).update({n: donor.get(n) for n in (*checked, *carried) if n in first})
    return out


def versions_among(practices: Sequence[Practice], settings: Settings, embedder) -> dict[str, str]:
    """`version_keys` of a few practices read together (one file holding a practice in two languages), by the
    similar stage's own rule; nothing is embedded unless two of them share a city and differ in language."""
    ids = [p.practice_id for p in practices]
    keys = [(city_key(p.city), p.lang) for p in practices]
    if not any(a[0] and a[0] == b[0] and a[1] != b[1] for i, a in enumerate(keys) for b in keys[i + 1:]):
        return {pid: pid for pid in ids}
    return version_keys(ids, same_practice_pairs(similar_stage(list(practices), settings, embedder)))


# --------------------------------------------------------------------------- the stage


# The defaults of Settings.similar (weights chosen on the tune half of data/eval/realistic; see pipeline/config.py).
WHOLE_WEIGHT, CHUNK_WEIGHT, ANCHOR_WEIGHT = _DEFAULTS.whole_weight, _DEFAULTS.chunk_weight, _DEFAULTS.anchor_weight
CHUNK_SENTENCES = _DEFAULTS.chunk_sentences
# Two practices of one city in different languages are versions of one practice (a translation or a rewrite)
# when each is the other's best match among the city's practices in another language and their pair score
# reaches this. Different practices of one city can score as high (shared places and partners), so the score
# alone is not enough (see Settings.version_min_score and benchmarks/results/version_links.md).
VERSION_MIN_SCORE = Settings().version_min_score
_EMBED_SLICE = 512  # practices embedded at once by the similar stage
_ANCHOR_TOKEN = re.compile(r"[\w’'-]+")
_CLAUSE = re.compile(r"(?<=[.!?:;])\s+|\n")


class RaggedRows(Sequence):
    """Per practice, a block of rows (chunk vectors), stored as one matrix per slice of practices: a few large
    arrays instead of one small array per practice, so a large batch's vectors leave memory whole when freed."""

    def __init__(self) -> None:
        self._blocks: list[tuple[np.ndarray, np.ndarray]] = []  # (matrix, offsets of each practice's rows)
        self._starts: list[int] = []  # index of each block's first practice
        self._n = 0

    def add(self, rows: Sequence[np.ndarray], dim: int, dtype=np.float16) -> None:
        """Append the row blocks of the next practices."""
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(r) for r in rows], out=offsets[1:])
        matrix = np.vstack(rows).astype(dtype, copy=False) if offsets[-1] else np.zeros((0, dim), dtype)
        self._blocks.append((matrix, offsets))
        self._starts.append(self._n)
        self._n += len(rows)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._n))]
        i = int(i) + (self._n if i < 0 else 0)
        if not 0 <= i < self._n:
            raise IndexError(i)
        b = bisect.bisect_right(self._starts, i) - 1
        matrix, offsets = self._blocks[b]
        local = i - self._starts[b]
        return matrix[offsets[local]:offsets[local + 1]]


class RaggedSections(Sequence):
    """Per practice, its template sections' vectors ({section: vector}), stored like `RaggedRows`."""

    def __init__(self) -> None:
        self._rows = RaggedRows()
        self._names: list[tuple[str, ...]] = []

    def add(self, sections: Sequence[dict[str, np.ndarray]], dim: int) -> None:
        self._names.extend(tuple(d) for d in sections)
        self._rows.add([np.vstack(list(d.values())) if d else np.zeros((0, dim), np.float32) for d in sections], dim)

    def __len__(self) -> int:
        return len(self._names)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        return dict(zip(self._names[i], self._rows[i]))


@dataclass
class PracticeVectors:
    """What the similar stage compares: one vector per whole text, chunks of sentences, sections, anchors."""

    whole: np.ndarray  # (n, dim), L2-normalised
    chunks: Sequence[np.ndarray]  # per practice: (n_chunks, dim), groups of `chunk_sentences` sentences (float16)
    sections: Sequence[dict[str, np.ndarray]]  # per practice: template section -> vector (float16)
    anchors: list[frozenset[str]]  # per practice: names, numbers, years and acronyms (language-independent)
    idf: dict[str, float]
    weights: tuple[float, float, float] = (WHOLE_WEIGHT, CHUNK_WEIGHT, ANCHOR_WEIGHT)  # whole, chunk, anchor

    def __len__(self) -> int:
        return len(self.whole)

    def anchor_overlap(self, q: int, j: int) -> float:
        """IDF-weighted Jaccard of the anchors two texts share (0 when either has none)."""
        a, b = self.anchors[q], self.anchors[j]
        union = sum(self.idf.get(x, 0.0) for x in a | b)
        return sum(self.idf.get(x, 0.0) for x in a & b) / union if union else 0.0

    def pair_scores(self, q: int, candidates: Sequence[int]) -> np.ndarray:
        """The pair score of `q` with each candidate: whole-text cosine, best chunk pair and shared anchors."""
        candidates = list(candidates)
        if not candidates:
            return np.zeros(0)
        whole = self.whole[candidates] @ self.whole[q]
        mine = np.asarray(self.chunks[q], dtype=np.float32)
        # float32 @ float16 computes in float32 (numpy promotes the half-precision side).
        chunk = np.array([float((mine @ self.chunks[j].T).max()) if len(mine) and len(self.chunks[j])
                          else float(w) for j, w in zip(candidates, whole)])
        anchor = np.array([self.anchor_overlap(q, j) for j in candidates])
        w_whole, w_chunk, w_anchor = self.weights
        return w_whole * whole + w_chunk * chunk + w_anchor * anchor


def anchors(practice: Practice) -> frozenset[str]:
    """Tokens two language versions of one practice share whatever the language: proper names (capitalised
    words inside a sentence), numbers of two digits or more, years and acronyms."""
    text = " ".join(filter(None, [practice.title, practice.main_objective, practice.description]))
    anchor_of = _anchor_function()
    out: set[str] = set()
    for clause in _CLAUSE.split(text):
        for k, token in enumerate(_ANCHOR_TOKEN.findall(clause)):
            anchor = anchor_of(token)
            # A capital at the start of a clause says nothing about a name.
            if anchor is not None and (k > 0 or not anchor.startswith("name:")):
                out.add(anchor)
    return frozenset(out)


@loader("anchor_tokens")
def _anchor_function():
    """The anchor a token gives inside a clause (None for an ordinary word); memoised per token. Its results are
    interned: the same names and numbers recur across thousands of practices of a large batch."""
    stop = _stopwords()

    def anchor_of(token: str) -> str | None:
        digits = token.replace(".", "").replace(",", "")
        if re.fullmatch(r"(?:19|20)\d\d", token):
            return sys.intern("year:" + token)
        if digits.isdigit():
            return sys.intern("number:" + digits) if len(digits) >= 2 else None
        if re.fullmatch(r"[A-Z]{2,6}s?", token):
            return sys.intern("acronym:" + token.rstrip("s"))
        if token[:1].isupper() and len(token) > 2:
            key = fold(token).lower()
            return None if key in stop else sys.intern("name:" + key)
        return None

    return lru_cache(maxsize=200_000)(anchor_of)


def embed_practices(practices: Sequence[Practice], embedder, rules: SimilarSettings = _DEFAULTS) -> PracticeVectors:
    """Vectors of each practice: the whole text in one piece (where the model reads long texts), chunks of
    sentences, and one vector per template section (mean of its sentences, for the matched section).

    A whole-text vector survives versions of different length and detail better than a mean of sentence
    vectors, which drifts towards other long texts in the same language. A chunk is the mean of the vectors of
    `chunk_sentences` consecutive sentences, which the area stage and the sections have already embedded: on
    the tune half of data/eval/realistic and on data/eval/crosslingual it matched versions as well as embedding
    each chunk's text anew (R@1 1.00 either way, a slightly wider margin), for one pass over the text fewer.
    """
    dim = int(embedder.dim)
    whole, chunks, sections = [], RaggedRows(), RaggedSections()
    # In slices of practices: the sentence vectors behind the chunk and section means are dropped slice by slice.
    for start in range(0, len(practices), _EMBED_SLICE):
        part = practices[start:start + _EMBED_SLICE]
        texts = [practice_text(p) for p in part]
        whole.append(np.asarray(embedder.encode_documents(texts), dtype=np.float32))
        sentences = [split_sentences(t) for t in texts]
        flat = [x for group in sentences for x in group]
        matrix = np.asarray(embedder.encode(flat), dtype=np.float32) if flat else np.zeros((0, dim), np.float32)
        del flat
        offset, size, blocks = 0, rules.chunk_sentences, []
        for group in sentences:
            vectors = matrix[offset:offset + len(group)]
            offset += len(group)
            means = [vectors[i:i + size].mean(axis=0) for i in range(0, len(group), size)]
            blocks.append(l2_normalise(np.vstack(means)) if means else np.zeros((0, dim), np.float32))
        # Kept in half precision (a thousandth on a cosine; half the memory of a large batch).
        chunks.add(blocks, dim)
        del matrix, sentences, blocks, texts
        sections.add(_section_vectors(part, embedder), dim)
    whole = np.vstack(whole) if whole else np.zeros((0, dim), np.float32)
    anchor_sets = [anchors(p) for p in practices]
    df = Counter(a for s in anchor_sets for a in s)
    n = len(practices)
    idf = {a: math.log((n + 1) / (c + 0.5)) for a, c in df.items()}
    return PracticeVectors(whole, chunks, sections, anchor_sets, idf,
                           (rules.whole_weight, rules.chunk_weight, rules.anchor_weight))


def practice_similarity(practices: Sequence[Practice], embedder, rules: SimilarSettings = _DEFAULTS) -> np.ndarray:
    """The score of every two practices (n x n) as the similar stage ranks them: the pair score less both
    sides' hubness (`hubness`)."""
    vectors = embed_practices(practices, embedder, rules)
    n = len(vectors)
    out = np.zeros((n, n))
    for q in range(n):
        out[q] = vectors.pair_scores(q, range(n))
    off_diagonal = [np.delete(out[q], q) for q in range(n)]
    return hub_adjusted(out, hubness(off_diagonal, rules), rules)


def hubness(candidate_scores: Sequence[np.ndarray], rules: SimilarSettings = _DEFAULTS) -> np.ndarray:
    """Each practice's mean of its `hub_neighbours` best pair scores with the others, less the batch's mean of
    that: how far a practice is close to everything (a broad text becomes everyone's neighbour)."""
    means = np.array([top_mean(s, rules) for s in candidate_scores])
    return means - (means.mean() if len(means) else 0.0)


def top_mean(scores: np.ndarray, rules: SimilarSettings = _DEFAULTS) -> float:
    """The mean of the `hub_neighbours` best of one practice's pair scores (0 without any), copies of its text
    (`hub_copy_score` or more) left out."""
    scores = np.asarray(scores, dtype=float)
    scores = scores[scores < rules.hub_copy_score]
    return float(np.sort(scores)[-rules.hub_neighbours:].mean()) if len(scores) else 0.0


def hub_means(pv: "PracticeVectors", n_candidates: int, rules: SimilarSettings = _DEFAULTS) -> np.ndarray:
    """`top_mean` of every practice over its `n_candidates` nearest others by whole-text vector, whatever their
    city: the hubness of a batch before centring, as the similar stage and the web app's check compute it."""
    n = len(pv)
    if n < 2:
        return np.zeros(n)
    idx, _ = top_k_exact(pv.whole, pv.whole, min(n, n_candidates + 1))
    return np.array([top_mean(pv.pair_scores(q, idx[q][idx[q] != q]), rules) for q in range(n)])


def candidate_count(top_k: int) -> int:
    """How many nearest practices by whole-text vector are scored for a list of `top_k`."""
    return top_k * 4 + 20


def hub_adjusted(scores: np.ndarray, hub: np.ndarray, rules: SimilarSettings = _DEFAULTS) -> np.ndarray:
    """An n x n matrix of pair scores less `hub_weight` times both sides' hubness (a pair scores the same both
    ways)."""
    return scores - rules.hub_weight * (hub[:, None] + hub[None, :])


def _section_vectors(practices: Sequence[Practice], embedder) -> list[dict[str, np.ndarray]]:
    """One vector per template section: the mean of its sentence vectors."""
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
    matrix = embedder.encode(texts) if texts else np.zeros((0, int(embedder.dim)), np.float32)
    sums: list[dict[str, np.ndarray]] = [{} for _ in practices]
    for (i, name), vector in zip(units, matrix):
        sums[i][name] = sums[i].get(name, 0) + vector
    return [{k: v / max(float(np.linalg.norm(v)), 1e-12) for k, v in d.items()} for d in sums]


def matched_section(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> tuple[str | None, float]:
    """The template section the two practices are closest on (same section on both sides)."""
    for names in (SECTIONS, FALLBACK_SECTIONS):
        common = [s for s in names if s in a and s in b]
        if common:
            scores = [float(np.dot(a[s].astype(np.float32), b[s].astype(np.float32))) for s in common]
            best = int(np.argmax(scores))
            return common[best], scores[best]
    return None, 0.0


# --------------------------------------------------------------------------- near-duplicates

# A translation is not close enough in embedding space to pass a cosine threshold on its own (the
# FR/EN pairs of data/eval/crosslingual reach 0.67-0.96 with USE, unrelated practices up to 0.76), but
# it keeps the facts: counts, amounts, durations. Shared numbers plus a fair cosine flag it
# (Settings.similar.fact_min_*).
FACT_MIN_COSINE = _DEFAULTS.fact_min_cosine
FACT_MIN_JACCARD = _DEFAULTS.fact_min_jaccard
FACT_MIN_COUNT = _DEFAULTS.fact_min_count
_THOUSANDS = re.compile(r"(?<=\d)[\s\u202f\u00a0,.'’](?=\d{3}\b)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def facts(practice: Practice) -> frozenset[str]:
    """Numbers a practice reports (years left out: every practice has them), thousands separators removed."""
    text = " ".join(filter(None, [practice.title, practice.main_objective] + [getattr(practice, s) for s in SECTIONS]))
    text = _THOUSANDS.sub("", text)
    return frozenset(n.replace(",", ".") for n in _NUMBER.findall(text)
                     if not (len(n) == 4 and n[:2] in ("19", "20")))


def is_near_duplicate(score: float, facts_a: frozenset[str] | None, facts_b: frozenset[str] | None,
                      threshold: float, rules: SimilarSettings = _DEFAULTS) -> bool:
    """Same practice twice: very close embeddings, or close ones that report the same figures."""
    if score >= threshold:
        return True
    if facts_a is None or facts_b is None or min(len(facts_a), len(facts_b)) < rules.fact_min_count:
        return False
    jaccard = len(facts_a & facts_b) / len(facts_a | facts_b)
    return score >= rules.fact_min_cosine and jaccard >= rules.fact_min_jaccard


@dataclass(frozen=True)
class Neighbour:
    query: int
    neighbour: int
    rank: int  # 1..k for other cities; 0 for a version or near-duplicate of the same city
    score: float
    relation: str  # similar | near_duplicate | version
    weak: bool  # below --min-score: kept only because it is the practice's best match


def _as_vectors(vectors) -> PracticeVectors:
    """Plain arrays (tests, benchmarks) are compared by cosine alone."""
    if isinstance(vectors, PracticeVectors):
        return vectors
    vectors = np.asarray(vectors, dtype=np.float32)
    n = len(vectors)
    return _CosineOnly(vectors, [np.zeros((0, vectors.shape[1]), np.float32)] * n, [{}] * n, [frozenset()] * n, {})


class _CosineOnly(PracticeVectors):
    def pair_scores(self, q: int, candidates: Sequence[int]) -> np.ndarray:
        candidates = list(candidates)
        return self.whole[candidates] @ self.whole[q] if candidates else np.zeros(0)


def find_neighbours(vectors, cities: Sequence[str | None], top_k: int, min_score: float, near_duplicate: float,
                    fact_sets: Sequence[frozenset[str]] | None = None, langs: Sequence[str | None] | None = None,
                    version_min: float = VERSION_MIN_SCORE, rules: SimilarSettings = _DEFAULTS) -> list[Neighbour]:
    """Every practice's neighbours: ranks 1..k from other cities, rank 0 for versions of its own city.

    Candidates come from an exact search on the whole-text vectors and are re-ranked by the pair score.
    Another city's practice listed twice (a resubmission or a translation) fills one slot. The best match of
    another city is always kept: below `min_score` it is marked weak instead of dropped. A same-city practice
    is a `version` (another language, or a rewrite) or a `near_duplicate` (the same text again); an unrelated
    practice of the same city is never listed.
    """
    pv = _as_vectors(vectors)
    n = len(pv)
    groups = city_groups(cities)
    langs = list(langs) if langs is not None else [None] * n

    def dup(a: int, b: int, score: float) -> bool:
        return is_near_duplicate(score, fact_sets[a] if fact_sets else None, fact_sets[b] if fact_sets else None,
                                 near_duplicate, rules)

    n_candidates = candidate_count(top_k)
    # the nearest others by whole-text vector, whatever their city (self comes first and is left out)
    idx, _ = top_k_exact(pv.whole, pv.whole, min(n, n_candidates + 1))
    members: dict[int, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(int(g), []).append(i)
    # Candidates as arrays, not lists of Python ints: a large batch keeps them for every practice.
    scored: list[tuple[np.ndarray, np.ndarray, list[int], np.ndarray]] = []
    means = np.zeros(n)
    for q in range(n):
        nearest = idx[q][idx[q] != q]
        nearest_scores = pv.pair_scores(q, nearest)
        means[q] = top_mean(nearest_scores, rules)  # = hub_means(pv, n_candidates, rules)[q], from the same scores
        elsewhere = groups[nearest] != groups[q]
        own = [j for j in members[int(groups[q])] if j != q]
        scored.append((nearest[elsewhere], nearest_scores[elsewhere], own, pv.pair_scores(q, own)))
    # A practice close to every other would top every list: both sides' hubness is taken off the pair score.
    # Plain vectors (tests, benchmarks of the search) are compared by cosine alone.
    hub = np.zeros(n) if isinstance(pv, _CosineOnly) else means - means.mean()
    weight = rules.hub_weight

    adjusted = [(raw - weight * (hub[q] + hub[others]), own_raw - weight * (hub[q] + hub[np.asarray(own, dtype=int)]))
                for q, (others, raw, own, own_raw) in enumerate(scored)]
    # Each practice's best match among its city's practices in each other language: a version's counterpart
    # need not be its best match in the whole batch, where a close practice elsewhere may win by a little. With
    # one text of the city in that language the choice says nothing, so a pair must also come within
    # `version_margin` of either side's best match elsewhere.
    best: list[dict[str | None, int]] = [{} for _ in range(n)]
    own_adjusted: list[dict[int, float]] = []
    for q, ((_, _, own, _), (_, own_scores)) in enumerate(zip(scored, adjusted)):
        for k in np.argsort(-own_scores, kind="stable"):
            best[q].setdefault(langs[own[k]], own[k])
        own_adjusted.append(dict(zip(own, own_scores.tolist())))
    best_elsewhere = np.array([float(other.max()) if len(other) else -np.inf for other, _ in adjusted])

    # Thresholds (near-duplicate, version) read the pair score itself; ranks, `weak` and the table read the
    # hub-adjusted score.
    def same_practice(a: int, b: int, raw: float) -> str | None:
        if dup(a, b, raw):
            return "near_duplicate" if langs[a] == langs[b] or langs[a] is None else "version"
        if langs[a] == langs[b] or isinstance(pv, _CosineOnly):
            return None
        mutual = best[a].get(langs[b]) == b and best[b].get(langs[a]) == a
        close = own_adjusted[a][b] >= max(best_elsewhere[a], best_elsewhere[b]) - rules.version_margin
        return "version" if mutual and close and raw >= version_min else None

    rows: list[Neighbour] = []
    for q, ((others, raw_scores, own, own_raw), (scores, own_scores)) in enumerate(zip(scored, adjusted)):
        chosen: list[int] = []
        for k in np.argsort(-scores, kind="stable"):
            j, score = int(others[k]), float(scores[k])
            if len(chosen) == top_k:
                break
            weak = score < min_score
            if weak and chosen:
                break
            if any(groups[c] == groups[j] and same_practice(c, j, float(pv.pair_scores(c, [j])[0])) for c in chosen):
                continue  # another version of a practice already listed
            chosen.append(j)
            relation = "near_duplicate" if dup(q, j, float(raw_scores[k])) else "similar"
            # a pair score is a cosine at heart: with the hubness taken off, the same text twice may pass 1
            rows.append(Neighbour(q, j, len(chosen), min(score, 1.0), relation, weak))
        for k in np.argsort(-own_scores, kind="stable"):
            relation = same_practice(q, own[k], float(own_raw[k]))
            if relation:
                rows.append(Neighbour(q, own[k], 0, min(float(own_scores[k]), 1.0), relation, False))
    return rows


def similar_stage(practices: list[Practice], settings: Settings, embedder) -> list[dict]:
    """Rows of similar.parquet for a batch of practices."""
    if not practices:
        return []
    rules = settings.similar
    langs = [p.lang for p in practices]
    vectors = embed_practices(practices, embedder, rules)
    found = find_neighbours(vectors, [p.city for p in practices], settings.top_k, settings.min_similarity,
                            settings.near_duplicate_threshold, [facts(p) for p in practices], langs,
                            settings.version_min_score, rules)
    # Only the section vectors are read from here on: the chunk vectors leave before the term index is built.
    sections = vectors.sections
    del vectors
    terms = TermIndex(rules.term_max_df, rules.term_max_df_floor).fit((practice_text(p) for p in practices), langs)
    rows = []
    for hit in found:
        q, j = hit.query, hit.neighbour
        section, _ = matched_section(sections[q], sections[j])
        rows.append({
            "practice_id": practices[q].practice_id,
            "neighbour_id": practices[j].practice_id,
            "rank": hit.rank,
            "score": round(hit.score, 4),
            "matched_section": section,
            "shared_terms": terms.shared(q, j, rules.max_shared_terms),
            "neighbour_city": practices[j].city,
            "near_duplicate": hit.relation != "similar",
            "relation": hit.relation,
            "weak": hit.weak,
        })
    return rows
