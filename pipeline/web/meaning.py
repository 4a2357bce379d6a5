"""Finding practices by what a query means, in either language: the query and each practice's passages (its title,
its objective and runs of a few sentences) embedded by the run's multilingual encoder.

The words of a query find a practice only where the text holds them (or a form of a key term in the other
language, `terms.yaml`); a city asking for "Cape Verde" in English, "hate speech" of a French text or "migration
stories museum" of « Objets de passage » needs the meaning. The search joins both (`pipeline.web.search`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from pipeline.config import SearchSettings
from pipeline.embed import l2_normalise, split_sentences
from pipeline.records import Practice


# fewer practices than this give no spread for a score to stand out from: the words alone find them
MIN_PRACTICES = 10


@dataclass(frozen=True)
class MeaningIndex:
    """Each practice's passage vectors (unit rows, half precision), in the order of `ids`."""

    ids: tuple[str, ...]
    passages: np.ndarray  # every practice's passages, one after another
    texts: tuple[str, ...]  # each passage's text, in the order of `passages` (what a hit is shown by)
    starts: np.ndarray  # where each practice's passages start in `passages`
    counts: np.ndarray  # how many passages each practice has
    embedder: object
    settings: SearchSettings

    @classmethod
    def build(cls, practices: Sequence[Practice], embedder, settings: SearchSettings | None = None,
              chunk_sentences: int = 3) -> "MeaningIndex":
        """`practices` as the site shows them (contacts left out), so that no query finds one by a contact."""
        settings = settings or SearchSettings()
        dim = int(embedder.dim)
        texts: list[str] = []
        spans: list[tuple[int, int, int]] = []  # per practice: first text, number of heads, number of sentences
        for p in practices:
            heads = [t for t in (p.title, p.main_objective) if t and t.strip()]
            sentences = split_sentences(p.description)
            spans.append((len(texts), len(heads), len(sentences)))
            texts += heads + sentences
        vectors = np.asarray(embedder.encode(texts), dtype=np.float32) if texts else np.zeros((0, dim), np.float32)
        passages, shown = [], []
        for first, n_heads, n_sentences in spans:
            heads = vectors[first:first + n_heads]
            body = vectors[first + n_heads:first + n_heads + n_sentences]
            runs = [body[i:i + chunk_sentences].mean(axis=0) for i in range(0, len(body), chunk_sentences)]
            passages.append(np.vstack([heads, *runs]) if n_heads or runs else np.zeros((0, dim), np.float32))
            sentences = texts[first + n_heads:first + n_heads + n_sentences]
            shown += texts[first:first + n_heads] + [" ".join(sentences[i:i + chunk_sentences])
                                                      for i in range(0, len(sentences), chunk_sentences)]
        counts = np.array([len(rows) for rows in passages], dtype=np.int64)
        matrix = np.vstack(passages) if passages else np.zeros((0, dim), np.float32)
        matrix = (l2_normalise(matrix) if len(matrix) else matrix).astype(np.float16)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(counts) else counts
        return cls(tuple(p.practice_id for p in practices), matrix, tuple(shown), starts, counts, embedder, settings)

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, text: str) -> np.ndarray:
        """Each practice's score for a query: the cosine of its passage closest to the query (0 without any)."""
        return self._scored(text)[0]

    def _scored(self, text: str) -> tuple[np.ndarray, np.ndarray | None]:
        """Each practice's score, and every passage's cosine (None for an empty query)."""
        if not text.strip() or not self.ids:
            return np.zeros(len(self.ids), np.float32), None
        query = l2_normalise(np.asarray(self.embedder.encode([text]), dtype=np.float32))[0]
        scores = np.zeros(len(self.ids), np.float32)
        has = self.counts > 0
        cosines = (self.passages @ query).astype(np.float32)
        if has.any():
            # one product for every passage, then each practice's best (practices without a passage left at 0)
            scores[has] = np.maximum.reduceat(cosines, self.starts[has])
        return scores, cosines

    def hits(self, text: str) -> list[tuple[str, float, str]]:
        """The practices a query means, best first, at most `max_hits` of them, each with its passage closest to the
        query: a score of `min_score` or more that stands out from the query's scores over all practices by
        `min_z` standard deviations. A name or a word the encoder does not know scores every practice alike: none
        stands out, none is a hit."""
        if len(self.ids) < MIN_PRACTICES:
            return []
        scores, cosines = self._scored(text)
        spread = float(scores.std())
        if not spread or cosines is None:
            return []
        standing = (scores - float(scores.mean())) / spread
        order = np.argsort(-scores, kind="stable")[: self.settings.meaning_max_hits]
        return [(self.ids[i], float(scores[i]), self._best_passage(i, cosines)) for i in order
                if scores[i] >= self.settings.meaning_min_score and standing[i] >= self.settings.meaning_min_z]

    def _best_passage(self, i: int, cosines: np.ndarray) -> str:
        start, count = int(self.starts[i]), int(self.counts[i])
        return self.texts[start + int(np.argmax(cosines[start:start + count]))] if count else ""
