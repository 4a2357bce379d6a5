"""Embedding backends: normalised vectors of the stated size, chunking, and the on-disk cache."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.embed import CachedEmbedder, chunk_text, make_embedder, split_sentences

TEXTS = [
    "The city trains volunteer mediators who help neighbours settle conflicts.",
    "La ville forme des médiateurs bénévoles qui aident les voisins à régler leurs conflits.",
    "Summer jobs with a mentor for young people aged 15 to 19.",
]
LONG = " ".join(f"Sentence number {i} describes one more step of the project in some detail." for i in range(120))


def _assert_normalised(matrix: np.ndarray, rows: int, dim: int) -> None:
    assert matrix.shape == (rows, dim)
    assert matrix.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-4)


@pytest.fixture(scope="module")
def use():
    return make_embedder("use-multilingual", cache_dir=None)


@pytest.fixture(scope="module")
def minilm():
    return make_embedder("sentence-transformers:minilm", cache_dir=None)


def test_use_multilingual_vectors(use):
    assert use.dim == 512 and use.model_id == "use-multilingual-v3"
    vectors = use.encode(TEXTS + [LONG, ""])
    _assert_normalised(vectors, 5, 512)
    # The French sentence is the English one's closest text: the point of the default backend.
    sims = vectors[:3] @ vectors[:3].T
    assert sims[0, 1] > sims[0, 2] and sims[0, 1] > 0.5


def test_batches_encoded_side_by_side_give_the_vectors_of_one_at_a_time():
    from pipeline.embed import UseMultilingualEmbedder

    texts = [f"{t} ({i})" for i in range(40) for t in TEXTS] + [LONG]
    both, single = UseMultilingualEmbedder(threads=2), UseMultilingualEmbedder(threads=1)
    assert both.workers == 2
    vectors = both.encode_documents(texts)
    # the same vectors, whichever thread encodes which batch: run to run, and against one batch at a time
    np.testing.assert_array_equal(vectors, both.encode_documents(texts))
    np.testing.assert_allclose(vectors, single.encode_documents(texts), atol=1e-5)
    np.testing.assert_allclose(both.encode(TEXTS), single.encode(TEXTS), atol=1e-5)


def test_word_memo_tokenizer_gives_the_ids_of_the_tokenizer_it_wraps(use):
    """Segmenting each word once must not change a single id: checked on every sample practice, sentence by
    sentence and whole, in both languages, and on awkward strings."""
    from pathlib import Path

    from pipeline.embed import WordMemoTokenizer

    memo = use.inner._model._tokenizer
    assert isinstance(memo, WordMemoTokenizer)
    plain = memo._inner
    import yaml

    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)

    sources = sorted(Path(__file__).resolve().parents[1].joinpath("data/sources/practices").glob("*.yaml"))
    practices = [p for path in sources for p in yaml.safe_load(path.read_text(encoding="utf-8"))]
    assert len(practices) >= 40
    texts = ["\n".join(strings(p)) for p in practices]
    texts += [s for t in texts for s in split_sentences(t)]
    texts += ["", " ", "  two   spaces ", "\u2581mark", "l’été—très «cher»", "中文 テスト 😀", "\t\n tab", "A" * 300]
    assert memo.encode(texts) == plain.encode(texts)
    assert memo.encode("Genève, 2024.") == plain.encode("Genève, 2024.")
    assert memo.encode(texts[:3], out_type=str) == plain.encode(texts[:3], out_type=str)


def test_sentence_transformers_minilm_vectors(minilm):
    assert minilm.dim == 384 and minilm.model_id == "sentence-transformers:all-MiniLM-L6-v2"
    _assert_normalised(minilm.encode(TEXTS + [LONG]), 4, 384)


def test_tfidf_vectors_have_the_fitted_size():
    emb = make_embedder("tfidf").fit(TEXTS)
    vectors = emb.encode(TEXTS)
    _assert_normalised(vectors, 3, emb.dim)
    assert emb.dim == len(emb.inner._vectoriser.vocabulary_)
    assert emb.model_id.startswith("tfidf-")


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="Unknown embedder"):
        make_embedder("word2vec")


def test_long_texts_are_chunked_within_the_limit():
    chunks = chunk_text(LONG, 50)
    assert len(chunks) > 10
    assert all(len(c.split()) <= 50 for c in chunks)
    assert " ".join(chunks).split() == LONG.split()  # nothing lost, nothing repeated
    assert chunk_text("one " * 130, 50)[0].split() == ["one"] * 50  # a sentence longer than the limit is cut
    assert split_sentences("First point.\n- Second point. Third one!") == ["First point.", "Second point.", "Third one!"]


class _Counting:
    """A tiny deterministic embedder that records what it is asked to embed."""

    model_id = "counting-test"
    dim = 8

    def __init__(self):
        self.calls: list[list[str]] = []

    def encode(self, texts):
        self.calls.append(list(texts))
        rng = [np.random.default_rng(abs(hash(t)) % (2**32)).normal(size=self.dim) for t in texts]
        m = np.asarray(rng, dtype=np.float32)
        return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_cache_hits_and_misses_survive_a_restart(tmp_path):
    first = CachedEmbedder(_Counting(), tmp_path)
    a = first.encode(["alpha", "beta", "alpha"])
    assert (first.misses, first.hits) == (2, 1)
    assert first.inner.calls == [["alpha", "beta"]] or sorted(first.inner.calls[0]) == ["alpha", "beta"]
    assert list(tmp_path.rglob("part-*.npy")), "the cache is written to disk"

    # A new process (new wrapper) re-uses the stored vectors and embeds only the changed text.
    second = CachedEmbedder(_Counting(), tmp_path)
    b = second.encode(["alpha", "beta", "gamma"])
    assert second.inner.calls == [["gamma"]]
    assert (second.hits, second.misses) == (2, 1)
    np.testing.assert_array_equal(a[:2], b[:2])

    # Another model never reads this model's vectors.
    other = _Counting()
    other.model_id = "another-model"
    third = CachedEmbedder(other, tmp_path)
    third.encode(["alpha"])
    assert third.misses == 1 and other.calls == [["alpha"]]


def test_a_text_whose_key_ends_in_a_zero_byte_is_found_after_a_restart(tmp_path):
    # Fixed-width byte strings drop trailing zero bytes when read back; 1 key in 256 ends with one.
    import hashlib

    text = "sentence 347"
    assert hashlib.sha256(text.encode()).digest()[15] == 0
    CachedEmbedder(_Counting(), tmp_path).encode([text, "alpha"])
    again = CachedEmbedder(_Counting(), tmp_path)
    again.encode([text, "alpha"])
    assert (again.hits, again.misses) == (2, 0) and again.inner.calls == []


def test_corrupt_cache_file_is_rebuilt(tmp_path):
    emb = CachedEmbedder(_Counting(), tmp_path)
    emb.encode(["alpha"])
    next(tmp_path.rglob("part-*.npy")).write_bytes(b"not an array file")
    again = CachedEmbedder(_Counting(), tmp_path)
    _assert_normalised(again.encode(["alpha"]), 1, 8)
    assert again.misses == 1


def test_a_save_appends_only_the_new_vectors_and_a_restart_merges_the_parts(tmp_path, monkeypatch):
    import pipeline.embed as embed_module

    emb = CachedEmbedder(_Counting(), tmp_path)
    for i in range(5):
        emb.encode([f"text {i}", f"other {i}"])
    folder = tmp_path / "counting-test"
    parts = sorted(folder.glob("part-*.npy"))
    assert len(parts) == 5
    assert len(np.load(parts[-1])) == 2  # only what that call computed, not the whole cache again

    monkeypatch.setattr(embed_module, "_MAX_CACHE_PARTS", 3)
    again = CachedEmbedder(_Counting(), tmp_path)
    vectors = again.encode([f"text {i}" for i in range(5)])
    assert again.misses == 0 and again.inner.calls == []
    merged = sorted(folder.glob("part-*.npy"))
    assert len(merged) == 1 and len(np.load(merged[0])) == 10  # merged into one file at start
    np.testing.assert_array_equal(vectors, emb.encode([f"text {i}" for i in range(5)]))
    np.testing.assert_array_equal(vectors, CachedEmbedder(_Counting(), None).encode([f"text {i}" for i in range(5)]))


def test_the_cache_keeps_vectors_on_disk_not_in_memory(tmp_path):
    """A run over a whole archive asks for hundreds of thousands of sentence vectors: the cache must not hold
    them all. What stays in memory per text is where its vector lies, a small fraction of the vector."""
    import tracemalloc

    inner = _Counting()
    inner.dim = 512
    emb = CachedEmbedder(inner, tmp_path)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for batch in range(4):
            emb.encode([f"sentence {batch} {i}" for i in range(1000)])
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    vector_bytes = 4000 * 512 * 4
    assert kept < vector_bytes / 5, kept
    # ... and gives them back exactly, in this process and the next.
    sample = [f"sentence 2 {i}" for i in range(0, 1000, 97)]
    fresh = _Counting()
    fresh.dim = 512
    np.testing.assert_array_equal(emb.encode(sample), fresh.encode(sample))
    restarted = CachedEmbedder(fresh, tmp_path)
    np.testing.assert_array_equal(restarted.encode(sample), emb.encode(sample))
    assert restarted.misses == 0


def test_cache_files_of_the_earlier_layout_are_dropped(tmp_path):
    (tmp_path / "counting-test").mkdir()
    (tmp_path / "counting-test.npz").write_bytes(b"old merged archive")
    (tmp_path / "counting-test" / "part-1.npz").write_bytes(b"old part")
    emb = CachedEmbedder(_Counting(), tmp_path)
    _assert_normalised(emb.encode(["alpha"]), 1, 8)
    assert emb.misses == 1 and not list(tmp_path.rglob("*.npz"))
