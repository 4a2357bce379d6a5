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
    # a second reviewer's main area outside the first one's set: no label to measure against, as in training
    store = ReviewStore(tmp_path / "reviews.sqlite")
    store.add("p1", ReviewInput(main_area="9"), "Ben")
    store.close()
    result = review_agreement(run, Path(tmp_path / "reviews.sqlite"))
    assert result["areas_disagreeing"] == ["p1"] and (result["areas"]["n"], result["areas"]["n_sets"]) == (0, 0)
    assert "1 reviewed practice left out, as in training: one reviewer's main area is outside the area set another " \
           "chose (p1)." in " ".join(review_agreement_markdown(result).split())


# ------------------------------------------------------------------------- the reviewed run's practices in training

@pytest.fixture()
def reviewed_run(samples, tmp_path) -> tuple[Path, list[Practice]]:
    """A run of three practices that are not among the samples (new ids: their files changed), as its
    practices.parquet holds them, with their suggested main area."""
    from dataclasses import replace

    chosen = [replace(p, practice_id=f"{i:012x}-1", main_area_pred=p.declared_areas[0])
              for i, p in enumerate(samples[:3], start=0xabc000000000)]
    run = tmp_path / "run2"
    write_table(run / "practices.parquet", to_table("practices", [p.to_dict() for p in chosen]))
    return run, chosen


def _store_reviews(path: Path, practices: list[Practice]) -> dict[str, str]:
    """A main area for each practice, a review of a practice in no run, and an area set of the first practice
    that holds neither its declared nor its suggested main area; the main areas reviewed by practice id."""
    taxonomy = load_taxonomy()
    store = ReviewStore(path)
    mains = {}
    for p in practices:
        mains[p.practice_id] = next(c for c in taxonomy.top_codes if c not in p.declared_areas)
        store.add(p.practice_id, ReviewInput(main_area=mains[p.practice_id]), "Élodie")
    store.add("0123456789ab-1", ReviewInput(main_area="5"), "Élodie")
    declared = {taxonomy.parent(c) for c in practices[0].declared_areas}
    store.add("ffffffffffff-1", ReviewInput(areas=[next(c for c in taxonomy.top_codes if c not in declared)]), "Jean")
    store.close()
    return mains


def test_the_practices_reviewed_in_a_run_of_other_files_join_area_training(reviewed_run, tmp_path):
    from pipeline.training import REVIEWED_WEIGHT, area_data_hash

    run, practices = reviewed_run
    mains = _store_reviews(run / "reviews.sqlite", practices)
    before = area_training_set(include_realistic=False, include_written=False)
    data = area_training_set(include_realistic=False, include_written=False, reviews=run / "reviews.sqlite",
                             reviewed_run=run)
    assert data.sources.count("reviewed") == 3 and data.sources.count("sample") == before.sources.count("sample")
    for p in practices:
        [label] = _labels(data, p.practice_id)
        assert label == load_taxonomy().with_parents([mains[p.practice_id], *p.declared_areas])
        assert data.weights[data.practices.index(next(q for q in data.practices if q.practice_id == p.practice_id))] \
            == REVIEWED_WEIGHT
    assert data.reviewed == {"reviews": 5, "used": 3, "not_found": 2, "no_main_area": 0, "disagreeing": 0,
                             "disagreeing_ids": [],
                             "held_out": 0,
                             "weight": REVIEWED_WEIGHT, "used_ids": sorted(p.practice_id for p in practices),
                             "held_out_texts": {}}
    assert area_data_hash(data) != area_data_hash(before)


@pytest.fixture()
def quick_training(monkeypatch, tmp_path):
    """`train` on the samples, the area set's tune part and the reviewed practices, without cross-validation (it
    needs the realistic tune half), run from an empty folder."""
    import pipeline.training as training

    full_set, full_fit = training.area_training_set, training.train_area_model
    monkeypatch.setattr(training, "area_training_set",
                        lambda *a, **k: full_set(*a, **k, include_realistic=False, include_written=False))
    monkeypatch.setattr(training, "train_area_model", lambda *a, **k: full_fit(*a, **{**k, "cross_validate": False}))
    monkeypatch.chdir(tmp_path)


def _train(*args: str):
    from typer.testing import CliRunner

    from pipeline.cli import app

    result = CliRunner().invoke(app, ["train", "--embedder", "tfidf", *args])
    assert "Traceback" not in result.output and not isinstance(result.exception, KeyError), result.output
    return result, _flat(result.output)


def _flat(text: str) -> str:
    """The output without its spaces and line breaks: the console breaks a long path anywhere."""
    return "".join(text.split())


def test_train_with_reviews_uses_the_reviewed_run_beside_the_store_and_says_what_it_used(reviewed_run, tmp_path,
                                                                                         quick_training):
    import json

    run, practices = reviewed_run
    _store_reviews(run / "reviews.sqlite", practices)
    result, said = _train("--reviews", str(run / "reviews.sqlite"), "--model-dir", str(tmp_path / "m2"))
    assert result.exit_code == 0, result.output
    assert _flat(f"5 practice(s) with reviewed areas in {run / 'reviews.sqlite'}; 3 found in the run in {run} or "
                 "the samples of the project's data/raw; 3 used for training") in said
    assert _flat("2 reviewed practice(s) not in the run") in said
    assert _flat("give the output folder of the reviewed run with --data") in said
    assert _flat("Trained on 79 labelled rows (area_set_tune 24, reviewed 3, sample 52)") in said
    card = json.loads((tmp_path / "m2" / "model_card.json").read_text(encoding="utf-8"))
    assert card["sources"]["reviewed"] == 3 and card["reviewed"]["used"] == 3
    text = " ".join((tmp_path / "m2" / "MODEL_CARD.md").read_text(encoding="utf-8").split())
    assert "`reviewed`: 3 practices whose main area or area set the secretariat reviewed" in text
    assert "left out: 2 of practices in neither the reviewed run nor data/raw" in text


def test_train_with_reviews_of_no_practice_it_can_find_says_so_and_trains_nothing(reviewed_run, tmp_path,
                                                                                  quick_training):
    run, practices = reviewed_run
    store = ReviewStore(tmp_path / "elsewhere" / "reviews.sqlite")
    store.add(practices[0].practice_id, ReviewInput(main_area="5", criteria={"targeted": 2}), "Élodie")
    store.close()
    # the store is not beside the run: the default run (data/processed of this empty folder) is not there
    result, said = _train("--reviews", str(store.path), "--model-dir", str(tmp_path / "m"))
    assert result.exit_code == 2 and _flat("No run in data/processed: give the output folder of the reviewed run "
                                           "with --data") in said
    other = tmp_path / "other-run"
    write_table(other / "practices.parquet", to_table("practices", []))
    for args, what in ((["--model-dir", str(tmp_path / "m")], "reviewed areas"),
                       (["--criteria", "--criteria-model-dir", str(tmp_path / "m")], "reviewed levels")):
        result, said = _train(*args, "--reviews", str(store.path), "--data", str(other))
        assert result.exit_code == 2, result.output
        assert _flat(f"1 practice(s) with {what} in {store.path}; 0 found in the run in {other}") in said
        assert _flat(f"None of the {what} in {store.path} can be used: nothing trained") in said
    assert not (tmp_path / "m").exists()
    # a store beside one run, trained with another: said before anything is read from the other
    _store_reviews(run / "reviews.sqlite", practices)
    result, said = _train("--reviews", str(run / "reviews.sqlite"), "--data", str(other), "--model-dir",
                          str(tmp_path / "m"))
    assert result.exit_code == 2 and _flat(f"The reviews sit beside the run in {run}, not in {other}") in said
    assert _flat(f"give --data {run} to use the run that was reviewed") in said
    # a store without any reviewed area says so
    levels_only = ReviewStore(tmp_path / "levels" / "reviews.sqlite")
    levels_only.add(practices[0].practice_id, ReviewInput(criteria={"targeted": 2}), "Élodie")
    levels_only.close()
    result, said = _train("--reviews", str(levels_only.path), "--data", str(run), "--model-dir", str(tmp_path / "m"))
    assert result.exit_code == 2 and _flat("No practice with reviewed areas in") in said
    assert not (tmp_path / "m").exists()


def test_evaluate_with_reviews_warns_when_the_area_model_learned_from_reviews(tmp_path):
    import json

    from typer.testing import CliRunner

    from pipeline.classify import model_tag
    from pipeline.cli import app

    run = tmp_path / "run"
    practice = {"practice_id": "p1", "source_file": "oslo.docx", "practice_index": 1, "lang": "en", "city": "Oslo",
                "title": "Coffee and facts", "declared_areas": ["4"], "warnings": [], "predicted_areas": ["4"],
                "main_area_pred": "4", "n_words": 30, "ongoing": False, "area_mismatch": False}
    write_table(run / "practices.parquet", to_table("practices", [practice]))
    write_table(run / "criteria.parquet", to_table("criteria", []))
    store = ReviewStore(tmp_path / "reviews.sqlite")
    store.add("p1", ReviewInput(main_area="4"), "Élodie")
    store.close()
    models = tmp_path / "area-model"
    models.mkdir()
    (models / "model.json").write_text("{}", encoding="utf-8")
    (models / "model.npz").write_bytes(b"weights")

    def evaluate(model_id: str, sources: dict, used: list[str] | None = None) -> str:
        card = {"sources": sources} | ({"reviewed": {"used_ids": used}} if used is not None else {})
        (models / "model_card.json").write_text(json.dumps(card), encoding="utf-8")
        (run / "manifest.json").write_text(json.dumps({"models": {"area_classifier": model_id},
                                                       "settings": {"model_dir": str(models)}}), encoding="utf-8")
        result = CliRunner().invoke(app, ["evaluate", "--reviews", str(store.path), "--data", str(run)])
        assert result.exit_code == 0, result.output
        return " ".join((run / "review_agreement.md").read_text(encoding="utf-8").split())

    trained = f"area-classifier:{model_tag(models)}:use-multilingual-v3"
    warning = ("The area model was trained with reviewed areas: where these are the same reviews, the main area and "
               "area set figures are measured on texts the model learned from and look better than they are.")
    assert warning in evaluate(trained, {"sample": 52, "reviewed": 1})
    # the card names the reviews the model learned from: how many of those measured here, counted
    assert ("The area model was trained with reviewed areas: 1 of the 1 reviewed practices measured here are texts "
            "it learned from, so the main area and area set figures look better than they are.") in \
        evaluate(trained, {"sample": 52, "reviewed": 1}, ["p1"])
    assert "none of the 1 reviewed practices measured here is a text it learned from." in evaluate(
        trained, {"sample": 52, "reviewed": 1}, ["p9"])
    text = evaluate(trained, {"sample": 52})
    assert "area model was trained" not in text and "area model learned" not in text
    assert "area model" not in evaluate("area-classifier:zero-shot:use-multilingual-v3 (no trained model)", {})
    (models / "model.npz").write_bytes(b"other weights")  # retrained since the run
    assert "Whether the run's area model learned from reviewed areas cannot be told" in evaluate(trained,
                                                                                                 {"sample": 52})


def test_a_reviewed_practice_that_repeats_a_test_text_is_kept_out_of_training(reviewed_run, tmp_path, quick_training):
    """A realistic test-half text sent in as a form and reviewed would otherwise become a training text, and the
    test figures would flatter: it is left out, named, and the card says which reviews the model learned from.
    Training again keeps the model it replaces beside it, and says how many reviewed main areas the model follows."""
    import json
    from dataclasses import replace

    from pipeline.realistic import load_realistic
    from pipeline.training import reviewed_rated_texts

    run, practices = reviewed_run
    test_text = next(t for t in load_realistic().texts if t.split == "test" and t.lang == "en")
    copied = replace(practices[0], practice_id="0000000000aa-1", title=test_text.title,
                     description="Contact: the city's office\n" + test_text.description())
    write_table(run / "practices.parquet", to_table("practices", [p.to_dict() for p in [*practices, copied]]))
    store = ReviewStore(run / "reviews.sqlite")
    for p in [*practices, copied]:
        store.add(p.practice_id, ReviewInput(main_area="4", criteria={"targeted": 3}), "Anna")
    store.close()
    result, said = _train("--reviews", str(run / "reviews.sqlite"), "--model-dir", str(tmp_path / "m"))
    assert result.exit_code == 0, result.output
    assert _flat(f"1 reviewed practice(s) left out: a text the figures are measured on must not be learned from "
                 f"(0000000000aa-1 repeats realistic {test_text.id})") in said
    assert _flat("4 found in the run") in said and _flat("3 used for training") in said
    assert _flat("The new model ranks first") in said and _flat("of the 3 reviewed main areas") in said
    assert _flat("The areas suggested for practices no one reviewed may change too") in said
    assert _flat("Training the area model on") in said and _flat("it says when it is done") in said
    card = json.loads((tmp_path / "m" / "model_card.json").read_text(encoding="utf-8"))
    assert card["reviewed"]["held_out"] == 1 and card["reviewed"]["used_ids"] == sorted(p.practice_id for p in practices)
    assert "Practices used: " + ", ".join(sorted(p.practice_id for p in practices)) in " ".join(
        (tmp_path / "m" / "MODEL_CARD.md").read_text(encoding="utf-8").split())
    # the criteria reviews leave it out too; the other practices' texts stay
    rated = reviewed_rated_texts([*practices, copied], {p.practice_id: {"targeted": 3} for p in [*practices, copied]})
    assert rated.held_out == {"0000000000aa-1": f"realistic {test_text.id}"} and len(rated.practices) == 3
    # trained again: the model it replaces is kept beside it
    first = (tmp_path / "m" / "model_card.json").read_bytes()
    result, said = _train("--reviews", str(run / "reviews.sqlite"), "--model-dir", str(tmp_path / "m"))
    assert result.exit_code == 0 and _flat(f"The model it replaced is kept in {tmp_path / 'm.previous'}") in said
    assert (tmp_path / "m.previous" / "model_card.json").read_bytes() == first
    # a training that trains nothing (its one review repeats a test text) leaves the kept model as it was
    only = tmp_path / "only" / "reviews.sqlite"
    store = ReviewStore(only)
    store.add(copied.practice_id, ReviewInput(main_area="4"), "Anna")
    store.close()
    result, said = _train("--reviews", str(only), "--data", str(run), "--model-dir", str(tmp_path / "m"))
    assert result.exit_code == 2 and _flat("nothing trained") in said, result.output
    assert (tmp_path / "m.previous" / "model_card.json").read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [], "no copy left behind"


def test_training_names_the_practices_two_reviewers_disagree_on(reviewed_run, tmp_path, quick_training):
    run, practices = reviewed_run
    store = ReviewStore(run / "reviews.sqlite")
    store.add(practices[0].practice_id, ReviewInput(main_area="5", areas=["5", "14"]), "Anna")
    store.add(practices[0].practice_id, ReviewInput(main_area="6"), "Ben")
    store.add(practices[1].practice_id, ReviewInput(main_area="4"), "Anna")
    store.close()
    result, said = _train("--reviews", str(run / "reviews.sqlite"), "--model-dir", str(tmp_path / "m"))
    assert result.exit_code == 0, result.output
    assert _flat(f"1 reviewed practice(s) left out: one reviewer's main area is outside the area set another chose; "
                 f"review both together on the practice's page ({practices[0].practice_id})") in said
    assert _flat("1 used for training") in said


def test_a_training_stopped_midway_leaves_no_copy_of_the_model_behind(tmp_path, quick_training, monkeypatch):
    """Ctrl-C (or SIGTERM, which `train` takes as Ctrl-C) while the model is fitted: the copy of the model it would
    replace is removed, and the model and any `.previous` stay as they were."""
    import pipeline.training as training

    model = tmp_path / "m"
    model.mkdir()
    (model / "model_card.json").write_text("{}", encoding="utf-8")

    def stopped(*args, **kwargs):
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".m.")], "copied aside before fitting"
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "train_area_model", stopped)
    result, _ = _train("--model-dir", str(model))
    assert result.exit_code != 0
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert not (tmp_path / "m.previous").exists() and (model / "model_card.json").read_text(encoding="utf-8") == "{}"
