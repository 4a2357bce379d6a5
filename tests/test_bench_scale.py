"""The scale benchmark's corpus builder: N distinct practices, the same for one seed, from many cities."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from conftest import load_script
from pipeline.cities import city_key
from pipeline.config import Settings
from pipeline.run import run_batch

N = 30


@pytest.fixture(scope="module")
def bench():
    return load_script("benchmarks/bench_scale.py", register=True)  # the corpus writer's workers import it by name


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_practices_distinct_with_many_cities(bench):
    practices = bench.build_practices(N, seed=5)
    assert len(practices) == N
    texts = {"\n".join(str(p.get(f)) for f in ("title", "purpose", "starting_point", "process", "impact"))
             for p in practices}
    assert len(texts) == N
    cities = {city_key(p["city"]) for p in practices}
    assert len(cities) >= N // 4
    # every copy of a source differs from the source it came from
    sources = {s["id"]: s for s in bench.corpus.load_sources()}
    first = practices[0]
    assert first["city"] != sources["p1-01"]["city"] or first["process"] != sources["p1-01"]["process"]
    assert bench.build_practices(N, seed=6) != practices


def test_city_pool_has_listed_and_generated_cities(bench):
    import random

    pool = bench.city_pool(300, random.Random(1))
    keys = [city_key(c.name) for c in pool]
    assert len(set(keys)) == 300
    listed = {city_key(c.name) for c in bench.listed_cities()}
    assert 50 < len(listed & set(keys)) < 300


def test_written_corpus_deterministic_and_readable(bench, tmp_path):
    practices = bench.build_practices(N, seed=5)
    paths = bench.write_corpus(practices, tmp_path / "a", seed=5)
    bench.write_corpus(bench.build_practices(N, seed=5), tmp_path / "b", seed=5, jobs=2)
    assert len(paths) == N
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    assert {p.suffix for p in paths} == {".docx", ".txt"}
    # the pipeline reads every file back as one practice of the intended city
    batch = run_batch([tmp_path / "a"], tmp_path / "out", Settings(), analyse=False)
    assert [r.status for r in batch.files].count("ok") == N
    by_file = {p.source_file.split("/")[-1]: p for p in batch.practices}
    assert len(by_file) == N
    for path, p in zip(paths, practices):
        assert city_key(by_file[path.name].city) == city_key(p["city"])


def test_the_report_shows_where_the_memory_peak_is_reached(bench, tmp_path):
    def cold(n, wall, marks):
        return {"practices": n, "wall_s": wall, "practices_per_s": n / wall, "peak_rss_mb": max(marks.values()),
                "cpu_s": wall, "load_avg_at_start": 0.5, "stages_s": {"areas": 1.0, "criteria": 2.0},
                "stages_peak_rss_mb": marks, "stage_errors": {}}
    rows = [{"n": 10, "cities": 10, "docx_files": 9, "txt_files": 1,
             "cold": cold(10, 5.0, {"ingest_segment": 200, "areas": 300, "criteria": 500})},
            {"n": 10_000, "cities": 900, "docx_files": 8750, "txt_files": 1250,
             "cold": cold(10_000, 800.0, {"ingest_segment": 300, "areas": 450, "criteria": 990})}]
    results = {"command": "bench", "machine": {"cpus": 2, "note": "test"}, "sizes": rows, "ratios": bench.ratios(rows)}
    bench.write_results(results, tmp_path)
    text = (tmp_path / "scale.md").read_text(encoding="utf-8")
    assert "| practices | ingest_segment | areas | criteria |" in text
    assert "| 10,000 | 300 MB | 450 MB | 990 MB |" in text
    assert "peak memory 990 MB (target under 1024 MB): met" in text


def test_copies_change_only_the_city(bench):
    practices = bench.build_copies(6, 3, seed=5)
    assert len(practices) == 18
    cities = [city_key(p["city"]) for p in practices]
    assert len(set(cities)) == 18  # a city of its own for every practice of every copy
    first, copy = practices[0], practices[6]
    assert copy["purpose"].replace(copy["city"], "@") == first["purpose"].replace(first["city"], "@")
    assert copy["purpose"] != practices[1]["purpose"].replace(practices[1]["city"], copy["city"])
    assert (copy["lang"], copy["contact_person"], copy["period"]) == (
        first["lang"], first["contact_person"], first["period"])


def test_copies_with_only_the_city_field_changed_keep_their_text(bench):
    renamed = bench.build_copies(6, 3, seed=5)
    kept = bench.build_copies(6, 3, seed=5, rename_in_text=False)
    assert kept[:6] == renamed[:6]  # the first copy is the same set either way
    assert [p["city"] for p in kept] == [p["city"] for p in renamed]
    assert all(kept[k]["purpose"] == kept[k % 6]["purpose"] for k in range(18))
