"""Reviews as training labels and as a measure of a run: what a half-filled review teaches, and where the reviewed
practices' texts come from."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.records import Practice
from pipeline.tables import to_table, write_table
from pipeline.taxonomy import load_taxonomy
from pipeline.training import area_training_set
from pipeline.web.reviews import ReviewInput, ReviewStore


def _in_page_order(codes) -> list[str]:
    """Ticked boxes as a browser sends them: in the page's (the taxonomy's) order."""
    return [c for c in load_taxonomy().codes if c in set(codes)]


def _labels(data, practice_id: str) -> list[list[str]]:
    return [label for p, label in zip(data.practices, data.labels) if p.practice_id == practice_id]


@pytest.fixture(scope="module")
def samples() -> list[Practice]:
    """The sample practices as area training reads them, by whether they declare a main area."""
    data = area_training_set(include_realistic=False, include_written=False)
    return [p for p, s in zip(data.practices, data.sources) if s == "sample"]


def test_a_half_filled_area_review_keeps_what_the_form_declared_and_never_invents_a_main_area(samples, tmp_path):
    taxonomy = load_taxonomy()
    # a practice whose declared main area is not the lowest-numbered area of the set ticked for it
    first = next(p for p in samples if taxonomy.parent(p.declared_areas[0]) not in ("1", "2"))
    main = first.declared_areas[0]
    ticked = _in_page_order(["2", main])
    second, third = [p for p in samples if p is not first and len(p.declared_areas) >= 2][:2]
    store = ReviewStore(tmp_path / "reviews.sqlite")
    store.add(first.practice_id, ReviewInput(areas=ticked), "Élodie")  # the set, main area left unreviewed
    # a set without the declared main area, and no main area reviewed: nobody said which is main
    elsewhere = next(c for c in taxonomy.top_codes if c not in {taxonomy.parent(a) for a in second.declared_areas})
    store.add(second.practice_id, ReviewInput(areas=[elsewhere]), "Élodie")
    other_main = next(c for c in taxonomy.top_codes if c not in {taxonomy.parent(a) for a in third.declared_areas})
    store.add(third.practice_id, ReviewInput(main_area=other_main), "Jean")  # the main area, set left unreviewed
    store.close()

    data = area_training_set(include_realistic=False, include_written=False, reviews=tmp_path / "reviews.sqlite")
    # (a) the declared main area stays main: the first ticked box was only the lowest-numbered
    assert ticked[0] != main
    assert _labels(data, first.practice_id) == [taxonomy.with_parents([main, *(c for c in ticked if c != main)])]
    # no main area can be told: the review corrected the declared areas, so the practice is left out
    assert _labels(data, second.practice_id) == []
    # (b) the declared areas stay in the set, the reviewed main area first
    assert _labels(data, third.practice_id) == [taxonomy.with_parents([other_main, *third.declared_areas])]


def test_an_unreviewed_main_area_is_the_declared_one_else_the_suggested_one_if_the_reviewed_set_holds_it():
    from pipeline.web.reviews import PracticeReview

    areas_only = PracticeReview("p-1", areas=["3", "3a", "7", "14"])
    assert areas_only.labels(["14", "7"], "3") == ["14", "3", "3a", "7"]
    assert areas_only.labels([], "7") == ["7", "3", "3a", "14"]  # no declared area: the run's suggestion
    assert areas_only.labels(["5"], "7") == [], "the declared main area is not in the set: none is told"
    assert areas_only.labels([], "5") == [] and areas_only.labels([], None) == []
    assert areas_only.labels(["3b"], None) == ["3", "3a", "7", "14"], "a declared sub-area left out: its parent"
    both = PracticeReview("p-1", main_area="7", areas=["3", "7"])
    assert both.labels(["14"], "3") == ["7", "3"], "what was reviewed is the label"
    assert PracticeReview("p-1", main_area="5").labels(["14", "7"]) == ["5", "14", "7"]
    assert PracticeReview("p-1", main_area="5").labels([]) == ["5"]
    assert PracticeReview("p-1", criteria={"targeted": 2}).labels(["14"], "14") == []


def test_an_area_set_reviewed_alone_is_not_measured_as_a_main_area(tmp_path):
    from pipeline.evaluation import review_agreement, review_agreement_markdown

    run = tmp_path / "run"
    practice = {"practice_id": "p1", "source_file": "oslo.docx", "practice_index": 1, "lang": "en", "city": "Oslo",
                "title": "Coffee and facts", "declared_areas": ["4", "1"], "warnings": [],
                "predicted_areas": ["4", "1"], "main_area_pred": "4", "n_words": 30, "ongoing": False,
                "area_mismatch": False}
    write_table(run / "practices.parquet", to_table("practices", [practice]))
    write_table(run / "criteria.parquet", to_table("criteria", []))
    store = ReviewStore(tmp_path / "reviews.sqlite")
    store.add("p1", ReviewInput(areas=["1", "4"]), "Élodie")  # boxes ticked in page order, main area unreviewed
    store.close()
    result = review_agreement(run, Path(tmp_path / "reviews.sqlite"))
    assert result["areas"]["n"] == 0, "no main area was reviewed: '1' is only the first box ticked"
    assert result["areas"]["n_sets"] == 1 and result["areas"]["model_set_f1"] == 1.0
    text = review_agreement_markdown(result)
    assert "0 practices with a reviewed main area, 1 with a reviewed area set." in text
    assert "| suggested | - | 1.00 |" in text
