"""The area and criteria stages work through a large batch in slices (bounded memory): the slicing must not change
what they find."""

from __future__ import annotations

import pytest

import pipeline.classify as classify
import pipeline.stages as stages
from conftest import RAW
from pipeline.config import Settings
from pipeline.embed import make_embedder
from pipeline.run import discover, ingest_files


@pytest.fixture(scope="module")
def practices(tmp_path_factory):
    results, _ = ingest_files(discover([RAW]), Settings(), tmp_path_factory.mktemp("ingest"))
    return [p for r in results for p in r.practices][:12]


@pytest.fixture(scope="module")
def embedder(practices):
    emb = make_embedder("tfidf")
    return emb.fit([p.full_text() for p in practices])


def test_areas_in_slices_decide_as_in_one_batch(practices, embedder, monkeypatch):
    whole_table, whole, _ = classify.area_stage(practices, Settings(), embedder)
    monkeypatch.setattr(classify, "_STAGE_BATCH", 5)
    table, sliced, _ = classify.area_stage(practices, Settings(), embedder)
    rows, whole_rows = table.to_pylist(), whole_table.to_pylist()
    assert sliced == whole
    assert [(r["practice_id"], r["area"], r["suggested"], r["evidence"]) for r in rows] == \
        [(r["practice_id"], r["area"], r["suggested"], r["evidence"]) for r in whole_rows]
    assert max(abs(a["probability"] - b["probability"]) for a, b in zip(rows, whole_rows)) < 1e-6


def test_criteria_in_slices_give_the_same_rows(practices, embedder, tmp_path, monkeypatch):
    whole = stages._criteria_cached(practices, Settings(), embedder, tmp_path / "one")
    monkeypatch.setattr(stages, "_CRITERIA_BATCH", 5)
    sliced = stages._criteria_cached(practices, Settings(), embedder, tmp_path / "sliced")
    assert sliced[0].to_pylist() == whole[0].to_pylist() and sliced[1].to_pylist() == whole[1].to_pylist()
    assert whole[0].num_rows == 6 * len(practices)
    assert {r["practice_id"] for r in whole[0].to_pylist()} == {p.practice_id for p in practices}
    # A second run reads every practice's rows from the cache and gives the same tables.
    again = stages._criteria_cached(practices, Settings(), embedder, tmp_path / "sliced")
    assert again[0].to_pylist() == whole[0].to_pylist() and again[1].to_pylist() == whole[1].to_pylist()
    assert len(list((tmp_path / "sliced").glob("*.json"))) == len(practices)


def test_identical_practices_each_get_their_criteria_rows(practices, embedder, tmp_path, monkeypatch):
    """Two copies of one file give one practice id twice: both copies keep their rows, across slices too."""
    monkeypatch.setattr(stages, "_CRITERIA_BATCH", 2)
    twice = [practices[0], practices[1], practices[0]]
    table = stages._criteria_cached(twice, Settings(), embedder, tmp_path)[0].to_pylist()
    ids = [r["practice_id"] for r in table]
    assert len(table) == 18 and ids.count(practices[0].practice_id) == 12


def test_the_language_pipelines_leave_once_the_criteria_are_scored(practices, tmp_path):
    from pipeline.registry import registry

    result = stages.run_stages(practices[:2], Settings(embedder="tfidf"), tmp_path, {})
    assert result.tables["criteria"].num_rows == 12 and not result.errors
    assert registry.loaded("spacy") == [] and registry.loaded("cue_matcher") == []


def test_a_damaged_cache_entry_is_recomputed_and_the_rest_read(practices, embedder, tmp_path):
    whole = stages._criteria_cached(practices[:4], Settings(), embedder, tmp_path)
    files = sorted(tmp_path.glob("*.json"))
    files[0].write_text("{not json", encoding="utf-8")
    files[1].write_text('{"criteria": 3}', encoding="utf-8")
    again = stages._criteria_cached(practices[:4], Settings(), embedder, tmp_path)
    assert again[0].to_pylist() == whole[0].to_pylist() and again[1].to_pylist() == whole[1].to_pylist()
    assert all(f.read_text(encoding="utf-8").startswith("{") and '"criteria": [' in f.read_text(encoding="utf-8")
               for f in files[:2])


@pytest.fixture()
def analysed(monkeypatch) -> list[str]:
    """The ids of the practices the criteria stage analyses (not read from its cache), in order."""
    seen: list[str] = []
    real = stages.criteria_with_guidelines

    def counting(batch, *args):
        seen.extend(p.practice_id for p in batch)
        return real(batch, *args)

    monkeypatch.setattr(stages, "criteria_with_guidelines", counting)
    return seen


def test_identical_practices_in_one_slice_are_analysed_once(practices, embedder, tmp_path, analysed):
    twice = [practices[0], practices[1], practices[0]]
    table = stages._criteria_cached(twice, Settings(), embedder, tmp_path)[0].to_pylist()
    assert sorted(analysed) == sorted({practices[0].practice_id, practices[1].practice_id})
    assert [r["practice_id"] for r in table].count(practices[0].practice_id) == 12


def test_the_same_text_filed_for_another_city_is_analysed_once(practices, embedder, tmp_path, monkeypatch,
                                                               analysed):
    import dataclasses

    monkeypatch.setattr(stages, "_CRITERIA_BATCH", 2)
    first = practices[0]
    other_city = dataclasses.replace(first, practice_id="copy-1", city="Somewhere Else", source_file="copy.docx")
    changed = dataclasses.replace(first, practice_id="copy-2", impact=(first.impact or "") + " A new sentence.")
    criteria, guidelines, *_ = stages._criteria_cached([first, practices[1], other_city, changed], Settings(),
                                                      embedder, tmp_path)
    assert sorted(analysed) == sorted([first.practice_id, practices[1].practice_id, "copy-2"])
    rows = criteria.to_pylist()
    mine = [{k: v for k, v in r.items() if k != "practice_id"} for r in rows if r["practice_id"] == first.practice_id]
    copy = [{k: v for k, v in r.items() if k != "practice_id"} for r in rows if r["practice_id"] == "copy-1"]
    assert mine == copy and len(copy) == 6
    assert {r["practice_id"] for r in guidelines.to_pylist()} == {first.practice_id, practices[1].practice_id,
                                                                  "copy-1", "copy-2"}

