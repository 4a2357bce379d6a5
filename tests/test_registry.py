"""The loader registry: lazy cached instances per key, overrides for tests, clearing."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from pipeline.registry import Registry, registry, shared_embedder


def test_instances_are_built_once_per_key_and_cleared():
    reg = Registry()
    calls = []

    @reg.loader("double")
    def double(x: int) -> list[int]:
        calls.append(x)
        return [x * 2]

    assert double(2) == [4] and double(2) is double(2) and double(3) == [6]
    assert calls == [2, 3] and sorted(reg.loaded("double")) == [(2,), (3,)]
    reg.clear("double")
    assert double(2) == [4] and calls == [2, 3, 2]
    reg.clear()
    assert reg.loaded("double") == []
    with pytest.raises(KeyError, match="No loader named 'tripple'"):
        reg.get("tripple")
    with pytest.raises(ValueError, match="already registered"):
        reg.register("double", lambda x: x)


def test_override_is_scoped_and_forgets_what_it_built():
    reg = Registry()
    reg.register("model", lambda: "real")
    assert reg.get("model") == "real"
    with reg.override("model", lambda: "fake"):
        assert reg.get("model") == "fake"
        with reg.override("model", lambda: "inner"):
            assert reg.get("model") == "inner"
        assert reg.get("model") == "fake"
    assert reg.get("model") == "real"
    with pytest.raises(KeyError):
        with reg.override("modle", lambda: "typo"):
            pass


def test_concurrent_first_use_loads_once_and_different_loaders_do_not_wait():
    reg = Registry()
    calls = []
    slow_started = threading.Event()

    def slow():
        slow_started.set()
        time.sleep(0.3)
        calls.append("slow")
        return object()

    reg.register("slow", slow)
    reg.register("fast", lambda: "fast")
    results = []
    threads = [threading.Thread(target=lambda: results.append(reg.get("slow"))) for _ in range(4)]
    for t in threads:
        t.start()
    slow_started.wait(5)
    t0 = time.perf_counter()
    assert reg.get("fast") == "fast"
    assert time.perf_counter() - t0 < 0.2  # not blocked behind the slow load
    for t in threads:
        t.join()
    assert calls == ["slow"] and len({id(r) for r in results}) == 1


def test_pipeline_loaders_are_registered():
    import pipeline.cli  # noqa: F401  (each module registers its loaders when imported)
    import pipeline.ingest.convert  # noqa: F401
    import pipeline.ingest.ocr  # noqa: F401
    import pipeline.run  # noqa: F401
    import pipeline.similar  # noqa: F401

    assert {"taxonomy", "labels", "placeholders", "city_directory", "term_concepts", "network_jail",
            "tesseract_installed_languages", "libreoffice_version", "embedder", "cli_messages"} <= set(registry.names())


def test_overriding_the_taxonomy_reaches_the_segmenter():
    from pipeline.records import Block
    from pipeline.segment import Segmenter
    from pipeline.taxonomy import Taxonomy, load_taxonomy

    real = load_taxonomy()
    # A taxonomy in which area 5 has lost its names: a declared "Education" is no longer recognised.
    fake = Taxonomy([replace(a, en="Zzz", fr="Zzz", short=(), aliases=()) if a.code == "5" else a
                     for a in real.areas.values()])
    blocks = [Block(text=t, kind="paragraph") for t in (
        "Title: Homework club", "City: Bergen", "Main area of action: Education",
        "Purpose: Pupils of every origin do their homework together after school with volunteer tutors.")]

    def declared() -> list[str]:
        return Segmenter().segment(blocks, "x", "0" * 64).practices[0].declared_areas

    assert declared() == ["5"]
    with registry.override("taxonomy", lambda: fake):
        assert load_taxonomy() is fake
        assert "5" not in declared()
    assert load_taxonomy() is not fake and declared() == ["5"]


def test_overriding_the_embedder_reaches_the_shared_embedder():
    class Fake:
        model_id, dim = "fake", 4

        def encode(self, texts):
            return np.ones((len(texts), 4), np.float32) / 2

    with registry.override("embedder", lambda spec, threads: Fake()):
        emb = shared_embedder("use-multilingual", 2)
        assert emb.model_id == "fake" and shared_embedder("use-multilingual") is emb
    assert ("use-multilingual", 2) not in registry.loaded("embedder")
