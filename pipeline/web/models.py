"""The models a check needs, loaded once when the app starts and shared by every request.

The three analysis steps of a check (areas, similar practices, criteria) embed many of the same sentences.
`MemoEmbedder` remembers vectors for the duration of one check only (a context variable, so concurrent checks
in other threads keep their own), which keeps a warm check under a second and memory flat.

spaCy keeps every new word a pipeline reads in its string store, so a server reading uploads would grow
without end; the criteria step of a check runs in spaCy memory zones, which forget the words of that check.
"""

from __future__ import annotations

import contextvars
import hashlib
import threading
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
from sklearn.pipeline import Pipeline

from pipeline.classify import load_or_zero_shot
from pipeline.config import Settings
from pipeline.criteria import LEXICAL_LANGS, CriteriaScorer, criteria_with_guidelines, load_nlp, scorer_for
from pipeline.embed import make_embedder
from pipeline.records import Practice
from pipeline.segment import Segmenter
from pipeline.web.reloading import ReloadingStore

_check_memo: contextvars.ContextVar[dict[str, np.ndarray] | None] = contextvars.ContextVar("check_memo", default=None)


class MemoEmbedder:
    """An embedder that, inside `memo()`, embeds each distinct text once."""

    def __init__(self, inner):
        self.inner = inner

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dim(self) -> int:
        return self.inner.dim

    @contextmanager
    def memo(self) -> Iterator[None]:
        token = _check_memo.set({})
        try:
            yield
        finally:
            _check_memo.reset(token)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self._remembered(texts, "sentence", self.inner.encode)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._remembered(texts, "document", getattr(self.inner, "encode_documents", self.inner.encode))

    def _remembered(self, texts: Sequence[str], kind: str, encode) -> np.ndarray:
        texts = list(texts)
        memo = _check_memo.get()
        if memo is None:
            return encode(texts)
        keys = [hashlib.sha1(f"{kind}\x00{t}".encode("utf-8")).hexdigest() for t in texts]
        todo = {k: t for k, t in zip(keys, texts) if k not in memo}
        if todo:
            memo.update(zip(todo, np.asarray(encode(list(todo.values())), dtype=np.float32)))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([memo[k] for k in keys])


@dataclass
class AnalysisModels:
    """Embedder, area classifier, criteria scorer and segmenter, with the pipeline settings they were made for."""

    settings: Settings
    embedder: MemoEmbedder
    classifier: Pipeline
    classifier_id: str
    scorer: CriteriaScorer
    segmenter: Segmenter
    # A memory zone belongs to a pipeline, not to a thread: the spaCy part of checks runs one at a time.
    _criteria_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _prepared_langs: set[str] = field(default_factory=set, repr=False)

    @classmethod
    def load(cls, settings: Settings) -> "AnalysisModels":
        # No disk cache for uploads: their vectors must not outlive the check.
        embedder = MemoEmbedder(make_embedder(settings.embedder, None, settings.threads).inner)
        classifier, classifier_id = load_or_zero_shot(settings, embedder)
        return cls(settings, embedder, classifier, classifier_id, scorer_for(settings, embedder), Segmenter())

    def reloaded(self) -> "AnalysisModels":
        """The same embedder and segmenter with the area and criteria models read again from their folders; the
        spaCy pipelines are shared, and so is the lock of their memory zones."""
        classifier, classifier_id = load_or_zero_shot(self.settings, self.embedder)
        return AnalysisModels(self.settings, self.embedder, classifier, classifier_id,
                              scorer_for(self.settings, self.embedder), self.segmenter, self._criteria_lock)

    def warm_up(self) -> None:
        """Load spaCy's pipelines and cue matchers, the criteria descriptions and the encoder's weights before the
        first check."""
        from pipeline.web.checking import analyse_practices

        samples = [
            Practice("warm-up-en", "warm-up", 1, lang="en", city="-", title="Language cafe for new residents",
                     purpose="Neighbours meet every week to practise the language.",
                     impact="About 40 people took part in 2023."),
            Practice("warm-up-fr", "warm-up", 1, lang="fr", city="-",
                     title="Café des langues pour les nouveaux habitants",
                     purpose="Des voisins se retrouvent chaque semaine pour pratiquer la langue.",
                     impact="Environ 40 personnes ont participé en 2023."),
            # A form in neither language is read by spaCy's multilingual pipeline: warm it up too.
            Practice("warm-up-xx", "warm-up", 1, lang="und", city="-", title="Sprachcafé für neue Nachbarn",
                     purpose="Nachbarn treffen sich jede Woche, um die Sprache zu üben."),
        ]
        for _ in range(2):  # the second pass warms the encoder's buffers for texts of every size seen
            analyse_practices(samples, self, None)

    def criteria(self, practices: list[Practice]) -> tuple[list[dict], list[dict]]:
        """Criteria and guideline rows; spaCy forgets the words of these practices afterwards."""
        langs = sorted({p.lang if p.lang in LEXICAL_LANGS else "xx" for p in practices})
        with self._criteria_lock:
            for lang in set(langs) - self._prepared_langs:
                # The cue matchers are built on a pipeline's first use and must keep their words: outside a zone.
                self.scorer.analyse([Practice(f"prepare-{lang}", "-", 1, lang=lang, title="-", purpose="-")])
                self._prepared_langs.add(lang)
            with ExitStack() as zones:
                for lang in langs:
                    zones.enter_context(load_nlp(lang).memory_zone())
                return criteria_with_guidelines(practices, self.settings, self.embedder, self.scorer)


def model_files_signature(settings: Settings) -> tuple:
    """What changes when `train` writes the area or criteria model: the names, times and sizes of their files."""
    out = []
    for folder in (Path(settings.model_dir), Path(settings.criteria_model_dir)):
        try:
            out.append(tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in sorted(folder.iterdir())))
        except OSError:
            out.append(())
    return tuple(out)


def model_store(models: AnalysisModels, check_seconds: float = 2.0) -> ReloadingStore[AnalysisModels]:
    """The models a check uses, read again when `train` writes new ones, so that a check agrees with a run made
    after retraining without restarting the site; a check under way keeps the models it started with."""
    return ReloadingStore(models.reloaded, lambda: model_files_signature(models.settings), check_seconds,
                          current=models, what="area and criteria models")
