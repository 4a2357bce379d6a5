"""Area classifier: cold start, training, thresholds, the mismatch flag, persistence and the run's tables."""

from __future__ import annotations

import copy
import json
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from pipeline.classify import (AreaSuggestion, EncodedPractices, area_stage, encode_practices, harmonise_versions,
                               load_area_classifier, load_or_zero_shot, predict_areas, with_suggested_as_listed)
from pipeline.estimators import AreaModel, PracticeEncoder, make_area_classifier
from pipeline.config import DEFAULT_MODEL_DIR, Settings
from pipeline.embed import make_embedder
from pipeline.records import Practice
from pipeline.run import discover, ingest_files
from pipeline.taxonomy import load_taxonomy
from pipeline.training import LabelledPractices, area_data_hash, area_training_set, train_area_model, training_labels

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def raw_practices() -> list[Practice]:
    with tempfile.TemporaryDirectory() as tmp:
        results, _ = ingest_files(discover([ROOT / "data" / "raw"]), Settings(), Path(tmp))
    return [p for r in results for p in r.practices]


@pytest.fixture(scope="module")
def use_embedder(sample_out):
    """The default embedder, reading the cache the sample run filled (so no text is embedded twice)."""
    return make_embedder("use-multilingual", sample_out / ".cache" / "embeddings")


@pytest.fixture(scope="module")
def encoded(raw_practices, use_embedder) -> tuple[list[Practice], list[list[str]], EncodedPractices]:
    """The sample practices with their declared areas as labels, and their arrays."""
    practices, labels = training_labels(raw_practices)
    return practices, labels, encode_practices(practices, use_embedder)


@pytest.fixture(scope="module")
def fitted(encoded, use_embedder):
    """The default classifier fitted once on the sample; tests that change a decision parameter (which the fit
    does not read) take a copy."""
    _, labels, enc = encoded
    return make_area_classifier(use_embedder).fit(enc, labels)


def _with_decision(model: Pipeline, **params) -> Pipeline:
    """`model` with other decision parameters: the same encoder, a copy of its fitted area model."""
    return Pipeline([("encode", model.named_steps["encode"]),
                     ("areas", copy.deepcopy(model.named_steps["areas"]).set_params(**params))])


def _practice(title: str, text: str, declared: list[str], pid: str = "t-1") -> Practice:
    return Practice(practice_id=pid, source_file="t.txt", practice_index=0, lang="en", title=title,
                    declared_areas=declared, purpose=text, description=text)


def test_cold_start_without_labels_ranks_declared_areas(raw_practices, use_embedder):
    model = make_area_classifier(use_embedder).fit(raw_practices)  # no labels at all
    areas = model.named_steps["areas"]
    assert areas.threshold_source_ == "default" and not areas.supervised_.any() and areas.main_coef_ is None
    pred = predict_areas(model, raw_practices)
    assert pred.proba.shape == (len(raw_practices), len(load_taxonomy().codes))
    assert (pred.suggested.sum(axis=1) >= 1).all()
    taxonomy = load_taxonomy()
    hits = sum(taxonomy.parent(p.declared_areas[0]) in pred.main_ranking[i][:3]
               for i, p in enumerate(raw_practices) if p.declared_areas)
    assert hits / sum(bool(p.declared_areas) for p in raw_practices) >= 0.75


def test_training_is_deterministic(encoded, fitted, use_embedder):
    _, labels, enc = encoded
    a, b = fitted, make_area_classifier(use_embedder).fit(enc, labels)
    np.testing.assert_array_equal(a.named_steps["areas"].thresholds_, b.named_steps["areas"].thresholds_)
    np.testing.assert_allclose(a.named_steps["areas"].sup_coef_, b.named_steps["areas"].sup_coef_)
    np.testing.assert_allclose(predict_areas(a, enc).proba, predict_areas(b, enc).proba)


def test_thresholds_come_from_cross_validation(encoded, fitted, use_embedder):
    _, labels, enc = encoded
    model = fitted.named_steps["areas"]
    assert model.threshold_source_ == "cross-validation"
    assert len(np.unique(np.round(model.thresholds_, 3))) >= 4
    assert not np.allclose(model.thresholds_, 0.5)
    assert ((model.thresholds_ > 0.05) & (model.thresholds_ < 0.95)).all()
    other = make_area_classifier(use_embedder, random_state=1).fit(enc, labels).named_steps["areas"]
    assert not np.allclose(model.thresholds_, other.thresholds_)


def test_main_area_is_its_own_decision_and_suggestions_are_capped(encoded, fitted):
    practices, _, enc = encoded
    model = _with_decision(fitted, max_suggested=2)
    areas = model.named_steps["areas"]
    assert areas.main_coef_ is not None and areas.main_coef_.shape[0] == 16
    pred = predict_areas(model, enc)
    classes = list(pred.classes)
    taxonomy = load_taxonomy()
    top = [j for j, c in enumerate(classes) if taxonomy.parent(c) == c]
    for i in range(len(practices)):
        chosen = [j for j in top if pred.suggested[i, j]]
        strong = [j for j in chosen if pred.proba[i, j] >= areas.strong]
        assert 1 <= len(chosen) <= max(2, len(strong) + 1)
        assert pred.suggested[i, classes.index(pred.main_ranking[i][0])]  # the main area is always suggested
        assert pred.ranked(i)[0] == pred.main_ranking[i][0]
        for j, code in enumerate(classes):  # a sub-area only under its suggested parent
            if taxonomy.parent(code) != code and pred.suggested[i, j]:
                assert pred.suggested[i, classes.index(taxonomy.parent(code))]


def test_further_areas_need_a_share_of_the_main_area(encoded, fitted):
    practices, _, enc = encoded
    model = _with_decision(fitted, threshold_scale=0.8, relative_to_main=0.5)
    areas = model.named_steps["areas"]
    pred = predict_areas(model, enc)
    classes = list(pred.classes)
    top = [j for j, c in enumerate(classes) if load_taxonomy().parent(c) == c]
    for i in range(len(practices)):
        main = classes.index(pred.main_ranking[i][0])
        further = [j for j in np.flatnonzero(pred.suggested[i]) if j != main]
        for j in further:
            if j in top:  # sub-areas refine a suggested parent and need only their threshold
                assert pred.proba[i, j] >= 0.5 * pred.proba[i, main] - 1e-12
            assert pred.proba[i, j] >= 0.8 * areas.thresholds_[j] - 1e-12
        chosen = [j for j in top if pred.suggested[i, j]]
        assert len(chosen) <= max(areas.max_suggested, 1 + sum(pred.proba[i, j] >= areas.strong for j in chosen))
    # a larger share can only remove further areas; a share of 0 brings the plain thresholds back
    ranking = [r[0] for r in pred.main_ranking]
    areas.set_params(relative_to_main=0.9)
    strict = areas.decide(pred.proba, ranking)
    assert (strict <= pred.suggested).all() and strict.sum() < pred.suggested.sum()
    areas.set_params(relative_to_main=0.0, threshold_scale=1.0, max_suggested=99)
    plain = areas.decide(pred.proba, ranking)
    for i in range(len(practices)):
        above = {j for j in range(len(classes)) if pred.proba[i, j] >= areas.thresholds_[j]}
        assert {j for j in np.flatnonzero(plain[i]) if j != classes.index(ranking[i])} <= above


def test_a_practice_gets_the_same_area_rows_alone_and_in_a_batch(raw_practices):
    """A text embedded alone (a re-run that reads one changed file) and with others (a fresh run) differs in the
    eighth decimal; areas.parquet is the same either way."""
    from pipeline.classify import area_rows, load_or_zero_shot

    settings = Settings()
    embedder = make_embedder("use-multilingual", None)  # no cache: each call embeds
    classifier, _ = load_or_zero_shot(settings, embedder)
    practices = sorted(raw_practices, key=lambda p: -(p.n_words or 0))[:6]
    together, _ = area_rows(practices, classifier, settings)
    for practice in practices[:3]:
        alone, _ = area_rows([practice], classifier, settings)
        assert alone == [r for r in together if r["practice_id"] == practice.practice_id]


def test_set_diagnostics_count_sizes_and_confusions():
    from pipeline.realistic import Reading
    from pipeline.training import area_set_diagnostics

    refs = [[Reading("1", ("1", "13"), {}), Reading("1", ("1",), {})], [Reading("14", ("14", "14a", "5"), {})]]
    perfect = area_set_diagnostics([["1", "13"], ["14", "5"]], [{"1", "13"}, {"14a", "5"}], [refs[0][:1], refs[1]])
    assert perfect["set_precision"] == perfect["set_recall"] == 1.0 and not perfect["main_confusions"]
    assert perfect["set_size"] == perfect["reader_set_size"] == 2.0
    out = area_set_diagnostics([["3", "1"], ["14"]], [{"3", "1", "13"}, {"14"}], refs)
    assert out["main_confusions"] == {"1->3": 1.0}
    assert out["set_size"] == pytest.approx((3 + 3 + 1) / 3, abs=0.01) and out["reader_set_size"] == pytest.approx(5 / 3, abs=0.01)
    assert out["suggested_vs_read"]["13"] == [1.0, 0.5] and out["suggested_vs_read"]["5"] == [0.0, 1.0]
    assert 0 < out["set_recall"] < 1 and 0 < out["set_precision"] < 1


def test_mismatch_flag(use_embedder, tmp_path):
    text = ("Mediators from the neighbourhood settle disputes between tenants in the social housing estate: "
            "noise, shared stairwells and rubbish. They meet both sides, listen and help them agree on rules. "
            "Conflicts brought to the housing company fell by a third.")
    right = _practice("Tenant mediation in the estate", text, ["10"], "t-1")
    wrong = _practice("Tenant mediation in the estate", text, ["12"], "t-2")
    undeclared = _practice("Tenant mediation in the estate", text, [], "t-3")
    for settings in (Settings(), Settings(model_dir=tmp_path / "none")):  # shipped model and zero-shot
        table, suggestions, model_id = area_stage([right, wrong, undeclared], settings, use_embedder)
        rows = table.to_pylist()
        flags = {s.practice_id: s.area_mismatch for s in suggestions}
        assert flags == {"t-1": False, "t-2": True, "t-3": False}
        assert right.predicted_areas == []  # the stage returns records, it does not change the practices
        first = suggestions[0]
        assert first.predicted_areas and first.main_area_pred in load_taxonomy().top_codes
        assert first.predicted_areas[0] == first.main_area_pred
        top = sorted((r for r in rows if r["practice_id"] == "t-1" and r["area"] in load_taxonomy().top_codes),
                     key=lambda r: -r["probability"])
        assert "10" in [r["area"] for r in top[:3]]
        assert len(rows) == 3 * len(load_taxonomy().codes)
    assert "zero-shot" in model_id and "no trained model" in model_id


def _suggestion(pid: str, areas: list[str], scores: dict[str, float], mismatch: bool = False) -> AreaSuggestion:
    return AreaSuggestion(pid, areas, areas[0], mismatch, scores)


TOP_ONE = Settings(area_top_n_for_mismatch=1)


def test_a_declared_area_agrees_when_any_declared_area_is_one_the_text_is_likely_about():
    """Every declared area counts ("Sport and leisure / refugees" for a text chiefly about refugees is no mismatch,
    in either order), and a place among the three likeliest main areas at a chance of 0.00 is no agreement."""
    from pipeline.classify import declared_area_mismatch

    main = {"14": 0.93, "9": 0.04, "12": 0.003, "5": 0.001}
    probabilities = {"14": 0.9, "14a": 0.7, "9": 0.25, "12": 0.04, "5": 0.02, "11": 0.13}
    suggested = ["14", "14a", "16"]

    def flagged(declared: list[str]) -> bool:
        form = _practice("Kick and talk", "x", declared, "en")
        return declared_area_mismatch(form, main, probabilities, suggested, Settings())

    assert not flagged(["9", "14", "14a"]) and not flagged(["14a", "9"]) and not flagged(["9"])  # 0.25: likely
    assert flagged(["12"]), "third of the main areas at 0.003, probability 0.04: the text is not about it"
    assert flagged(["5"]) and flagged(["11"]) and not flagged([])
    assert not flagged(["16"]), "suggested"
    # compared as shown: an area shown at 0.20 is not called unlikely at 0.1991
    probabilities["11"] = 0.1991
    assert not flagged(["11"])


def test_versions_of_one_practice_share_their_main_area():
    english = _suggestion("en", ["10"], {"10": 0.55, "6": 0.40, "12": 0.05})
    french = _suggestion("fr", ["6", "16"], {"10": 0.30, "6": 0.65, "12": 0.05})
    other = _suggestion("other", ["6"], {"10": 0.1, "6": 0.8, "12": 0.1})
    forms = [_practice("Mediation", "x", ["6"], "en"), _practice("Médiation", "x", ["12"], "fr"),
             _practice("Other", "x", [], "other")]
    keys = {"en": "en", "fr": "en", "other": "other"}
    shared = harmonise_versions([english, french, other], forms, keys, TOP_ONE)
    by_id = {s.practice_id: s for s in shared}
    # mean chances: 6 -> 0.525, 10 -> 0.425
    assert by_id["en"].main_area_pred == by_id["fr"].main_area_pred == "6"
    # a form with one area: the shared main area takes its place (no form gets more areas than the model gave it)
    assert by_id["en"].predicted_areas == ["6"]
    assert by_id["fr"].predicted_areas == ["6", "16"]
    # the declared area is read against the shared ranking: 6 is first, 12 is not in the top 1
    assert (by_id["en"].area_mismatch, by_id["fr"].area_mismatch) == (False, True)
    assert by_id["other"] == other and [s.practice_id for s in shared] == ["en", "fr", "other"]
    # a main area the form did not suggest takes the place of its least likely further area (with its sub-areas)
    wide = _suggestion("wide", ["10", "12", "7", "7b"], {"10": 0.5, "6": 0.4, "12": 0.1})
    narrow = _suggestion("narrow", ["6"], {"10": 0.1, "6": 0.9, "12": 0.0})
    shared = harmonise_versions([wide, narrow], forms, {"wide": "wide", "narrow": "wide"}, TOP_ONE)
    assert [s.predicted_areas for s in shared] == [["6", "10", "12"], ["6"]]
    odd = _suggestion("odd", ["10", "10z"], {"10": 0.2, "6": 0.8})  # a code the taxonomy does not know: no error
    assert harmonise_versions([odd, narrow], forms, {"odd": "odd", "narrow": "odd"}, TOP_ONE)[0].predicted_areas == ["6", "10"]
    # a practice alone, or forms without main-area chances, are left as they are
    assert harmonise_versions([english, french], forms, {"en": "en", "fr": "fr"}, TOP_ONE) == [english, french]
    bare = [AreaSuggestion("en", ["10"], "10", False), AreaSuggestion("fr", ["6"], "6", False)]
    assert harmonise_versions(bare, forms, keys, TOP_ONE) == bare


def test_areas_table_marks_a_shared_main_area_suggested():
    import pyarrow as pa

    table = pa.table({"practice_id": ["en", "en", "fr", "fr"], "area": ["6", "10", "6", "10"],
                      "probability": [0.4, 0.6, 0.7, 0.2], "suggested": [False, True, True, False],
                      "evidence": ["a", "b", "c", "d"]})
    marked = with_suggested_as_listed(table, [_suggestion("en", ["6", "10"], {}), _suggestion("fr", ["6"], {})])
    assert marked.column("suggested").to_pylist() == [True, True, True, False]
    # an area that made way for the shared main area is no longer marked
    assert with_suggested_as_listed(table, [_suggestion("en", ["6"], {})]).column("suggested").to_pylist() == [
        True, False, True, False]
    assert marked.schema == table.schema
    assert with_suggested_as_listed(table, [_suggestion("en", ["10"], {})]) is table


def test_a_batch_gives_two_language_versions_one_main_area(tmp_path):
    from pipeline.config import AreaSettings
    from pipeline.stages import run_stages

    def form(pid, city, lang, title, text):
        return Practice(practice_id=pid, source_file=f"{pid}.docx", practice_index=1, lang=lang, city=city,
                        title=title, description=text, process=text)

    # one practice told twice: the English text dwells on disputes, the French one on welcoming families
    english = form("v-en", "Geneva", "en", "Neighbourhood mediators in Les Pâquis",
                   "Since 2019 twelve volunteer mediators trained by the Bureau de l'intégration meet tenants of the "
                   "Pâquis estates every month and help them settle disputes over noise and shared spaces; 340 "
                   "conflicts were settled in 2022.")
    french = form("v-fr", "Genève", "fr", "Voisins d’accueil aux Pâquis",
                  "Depuis 2019, douze habitants bénévoles formés par le Bureau de l'intégration accueillent chaque mois "
                  "les familles nouvellement arrivées dans les immeubles des Pâquis, leur présentent le quartier et "
                  "les services ; 340 familles accueillies en 2022.")
    others = [form("o-1", "Oslo", "en", "Football", "A football league for teenagers of all backgrounds in Groruddalen."),
              form("o-2", "Lyon", "fr", "Festival", "Un festival de musique des quartiers est organisé chaque été."),
              form("o-3", "Bergen", "en", "Mediation", "Volunteer mediators help neighbours settle noise disputes.")]
    main = {}
    for share in (False, True):
        result = run_stages([english, french, *others], Settings(areas=AreaSettings(versions_share_main=share)),
                            tmp_path / str(share), {})
        assert {(r["practice_id"], r["relation"]) for r in result.tables["similar"].to_pylist() if r["rank"] == 0} == {
            ("v-en", "version"), ("v-fr", "version")}
        columns = result.practice_columns
        main[share] = (columns["v-en"]["main_area_pred"], columns["v-fr"]["main_area_pred"])
        areas = result.tables["areas"].to_pylist()
        for pid in ("v-en", "v-fr"):
            suggested = {r["area"] for r in areas if r["practice_id"] == pid and r["suggested"]}
            assert set(columns[pid]["predicted_areas"]) == suggested
            assert columns[pid]["predicted_areas"][0] == columns[pid]["main_area_pred"]
        assert columns["o-3"]["main_area_pred"] == "10"  # the others as read alone
    assert main[False][0] != main[False][1], "read apart, the two texts point to different areas"
    assert main[True][0] == main[True][1] and main[True][0] in main[False]


def test_model_card_written_and_reloads(raw_practices, use_embedder, tmp_path):
    practices, labels = training_labels(raw_practices)
    data = LabelledPractices([], [], [], [], [])
    data.add(practices, labels, 1.0, "declared")
    model, card = train_area_model(tmp_path, use_embedder, data=data, cross_validate=False)
    saved = json.loads((tmp_path / "model_card.json").read_text(encoding="utf-8"))
    assert saved["training_data_sha256"] == card["training_data_sha256"] and len(card["training_data_sha256"]) == 64
    assert saved["embedder_id"] == use_embedder.model_id
    assert saved["label_counts"]["7"] == sum("7" in load_taxonomy().with_parents(p.declared_areas) for p in practices)
    assert "scikit-learn" in saved["versions"]
    assert "Model card" in (tmp_path / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert not list(tmp_path.glob("*.pkl"))
    reloaded = load_area_classifier(tmp_path, embedder=use_embedder)
    a, b = predict_areas(model, practices), predict_areas(reloaded, practices)
    np.testing.assert_allclose(a.proba, b.proba, atol=1e-5)
    np.testing.assert_array_equal(a.suggested, b.suggested)
    assert a.main_ranking == b.main_ranking

    # the manifest's model id follows the saved model itself, not only its training data
    settings = Settings().with_(model_dir=tmp_path)
    _, model_id = load_or_zero_shot(settings, use_embedder)
    assert model_id.startswith("area-classifier:") and "zero-shot" not in model_id
    saved_model = tmp_path / "model.json"
    saved_model.write_text(saved_model.read_text(encoding="utf-8") + " ", encoding="utf-8")
    changed = load_or_zero_shot(settings, use_embedder)[1]
    assert changed != model_id and "zero-shot" not in changed


def test_shipped_model_is_trained_without_any_test_part():
    card = json.loads((DEFAULT_MODEL_DIR / "model_card.json").read_text(encoding="utf-8"))
    assert card["embedder_id"] == "use-multilingual-v3"
    assert card["threshold_source"] == "cross-validation"
    assert set(card["sources"]) == {"sample", "area_set_tune", "written", "realistic_tune"}
    # the shipped model was fitted on exactly the tune parts: the hash of today's training set is the card's
    assert area_data_hash(area_training_set()) == card["training_data_sha256"]
    size = sum(f.stat().st_size for f in DEFAULT_MODEL_DIR.iterdir())
    assert size < 8 * 1024 * 1024


def test_sample_run_area_tables(sample_out):
    practices = pd.read_parquet(sample_out / "practices.parquet")
    areas = pd.read_parquet(sample_out / "areas.parquet")
    manifest = json.loads((sample_out / "manifest.json").read_text(encoding="utf-8"))
    codes = load_taxonomy().codes
    assert len(areas) == len(practices) * len(codes)
    assert practices["predicted_areas"].map(len).min() >= 1
    assert practices["main_area_pred"].isin(load_taxonomy().top_codes).all()
    assert set(areas.columns) == {"practice_id", "area", "probability", "suggested", "evidence"}
    assert areas["probability"].between(0, 1).all()
    suggested = areas[areas["suggested"]]
    assert suggested["evidence"].str.len().min() > 10
    # a sentence only beside an area suggested or at 0.20 or more: beside an unlikely one it would seem to support it
    shown = areas["suggested"] | (areas["probability"].round(2) >= 0.20)
    assert areas["evidence"].notna().equals(shown) and (~shown).any()
    # no fragment is shown as evidence ("Le" cut by a PDF line break, a list number "2.")
    words = areas["evidence"].dropna().map(lambda text: len(re.findall(r"[^\W\d_]{2,}", text)))
    assert words.min() >= 3, areas.loc[words.idxmin(), "evidence"]
    # predicted_areas lists exactly the suggested codes: the main area (its own decision) first, then by probability
    for _, row in practices.iterrows():
        mine = suggested[suggested["practice_id"] == row["practice_id"]]
        mine = mine.sort_values("probability", ascending=False, kind="stable")
        rest = [c for c in mine["area"] if c != row["main_area_pred"]]
        assert list(row["predicted_areas"]) == [row["main_area_pred"], *rest]
    model_id = json.dumps(manifest)
    assert "area-classifier:" in model_id and "zero-shot" not in model_id
    # Few declared main areas should be flagged on the corpus the model was trained on.
    assert practices["area_mismatch"].sum() <= 0.2 * len(practices)


def test_sklearn_estimator_checks():
    """The checks that apply to the area model on arrays (plain embeddings, no prior columns).

    Not applicable: checks that fit random 1-D class labels and expect them predicted back or single-output
    (classifiers_train, supervised_y_2d, classifiers_one_label: the classes are the taxonomy's fixed area codes
    and the output is multi-label), and checks that expect fitting without labels or samples to fail (no labels
    = the zero-shot cold start).
    """
    from sklearn.utils import estimator_checks as ec

    estimator = AreaModel()
    for check in (ec.check_no_attributes_set_in_init, ec.check_parameters_default_constructible,
                  ec.check_get_params_invariance, ec.check_set_params, ec.check_estimators_unfitted,
                  ec.check_dont_overwrite_parameters, ec.check_estimators_overwrite_params,
                  ec.check_fit_idempotent, ec.check_n_features_in, ec.check_estimators_dtypes,
                  ec.check_dict_unchanged, ec.check_fit_check_is_fitted, ec.check_estimators_nan_inf,
                  ec.check_fit2d_predict1d, ec.check_fit2d_1sample, ec.check_fit2d_1feature,
                  ec.check_methods_subset_invariance, ec.check_methods_sample_order_invariance,
                  ec.check_estimators_pickle, ec.check_readonly_memmap_input, ec.check_fit_score_takes_y,
                  ec.check_pipeline_consistency, ec.check_estimator_sparse_array, ec.check_mixin_order,
                  ec.check_estimator_cloneable, ec.check_n_features_in_after_fitting):
        check("AreaModel", estimator)
    for check in (ec.check_no_attributes_set_in_init, ec.check_parameters_default_constructible,
                  ec.check_get_params_invariance, ec.check_set_params, ec.check_estimator_cloneable):
        check("PracticeEncoder", PracticeEncoder(embedder=None))


def test_encoder_counts_the_areas_a_text_names():
    """The area-name columns: per code, the sentences naming one of its terms (any case or accents, French or
    English), over the square root of the sentences; keyword_scale=0 leaves them out."""
    encoder = PracticeEncoder(embedder=None).fit()
    codes = list(encoder.classes_)
    sentences = ["Volunteers ran an Anti-Rumour workshop in two schools.",
                 "Des médiateurs interviennent dans les conflits de voisinage.",
                 "The weather was fine."]
    per_sentence = encoder.sentence_keywords(sentences)
    assert per_sentence[0, codes.index("4")] == 1 and per_sentence[0, codes.index("5")] == 1
    assert per_sentence[1, codes.index("10")] == 1 and per_sentence[1, codes.index("4")] == 0
    assert not per_sentence[2].any()
    enc = EncodedPractices(np.zeros((1, 4), np.float32), [sentences],
                           [np.zeros((3, 4), np.float32)])
    hits = encoder.keyword_hits(enc)
    assert hits[0, codes.index("4")] == pytest.approx(1 / np.sqrt(3))
    X = encoder.transform(enc)
    assert X.shape == (1, encoder.n_features_out(4)) == (1, 4 + len(codes))
    assert X[0, 4 + codes.index("10")] == pytest.approx(encoder.keyword_scale / np.sqrt(3))
    plain = PracticeEncoder(embedder=None, keyword_scale=0).fit()
    assert plain.transform(enc).shape == (1, 4) == (1, plain.n_features_out(4))


def test_shipped_model_reads_area_names(use_embedder):
    """Naming a strand raises its area: the same practice with an anti-rumour sentence added gets a higher
    probability for area 4 from the shipped model."""
    model = load_area_classifier(DEFAULT_MODEL_DIR, embedder=use_embedder)
    assert model.named_steps["encode"].keyword_terms_ is not None
    base = ("The city opened a welcome desk for newcomers, with volunteers who guide them through their first "
            "weeks. Staff were trained and a leaflet was printed in six languages.")
    plus = base + " Volunteers also ran anti-rumour workshops against prejudice and hate speech."
    codes = list(model.named_steps["areas"].classes_)
    proba = predict_areas(model, [_practice("Welcome desk", base, []),
                                  _practice("Welcome desk", plus, [], pid="t-2")]).proba
    assert proba[1, codes.index("4")] > proba[0, codes.index("4")]


def test_area_keywords_are_features_not_declared_areas():
    """The keywords of areas.yaml feed the area-name columns only: a declared area written as a keyword is not
    parsed as that area, while its official name still is."""
    taxonomy = load_taxonomy()
    assert "football" in taxonomy.areas["9"].keywords and "mediator" in taxonomy.areas["10"].keywords
    assert taxonomy.parse_declared("Football") == []
    assert taxonomy.parse_declared("Intercultural mediation and conflict resolution") == ["10"]
    encoder = PracticeEncoder(embedder=None).fit()
    codes = list(encoder.classes_)
    hits = encoder.sentence_keywords(["Two mediators helped neighbours settle the dispute over the football pitch."])
    assert hits[0, codes.index("10")] == 1 and hits[0, codes.index("9")] == 1


def test_prose_beside_a_labelled_part_is_read_for_the_areas():
    from pipeline.classify import practice_sentences
    from pipeline.records import Practice

    prose = "Newcomers are paired with families who invite them to dinner at home in their neighbourhood."
    impact = "Two hundred dinners took place in the first year."
    partly = Practice(practice_id="p", source_file="f", practice_index=1, title="Dinners", impact=impact,
                      description=f"{prose}\n{impact}\nThe host guide of the city.", references="The host guide of the city.")
    sentences = practice_sentences(partly)
    assert prose in sentences and impact in sentences
    assert not any("host guide" in s for s in sentences), "references list other documents, not this practice"


def test_evaluate_says_where_it_writes_by_default(tmp_path, monkeypatch):
    import shutil

    from typer.testing import CliRunner

    from conftest import RAW
    from pipeline.cli import app

    labelled = tmp_path / "in"
    labelled.mkdir()
    for path in sorted(RAW.glob("*.txt"))[:4] + sorted(RAW.glob("*.docx"))[:4]:
        shutil.copy(path, labelled)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["evaluate", str(labelled), "--embedder", "tfidf", "--folds", "2"])
    assert result.exit_code == 0, result.output
    written = tmp_path / "data" / "processed" / "area_evaluation.md"
    assert written.is_file() and json.loads(written.with_suffix(".json").read_text(encoding="utf-8"))["blend"]
    said = "".join(result.output.split())  # the path may be wrapped anywhere
    assert f"Writtento{written}andarea_evaluation.jsonbesideit" in said
    help_text = " ".join(CliRunner().invoke(app, ["evaluate", "--help"]).output.split())
    assert "(default: data/processed/area_evaluation.md;" in help_text
    # an input that is not there is said to be missing, not "no practice declares an area"
    missing = CliRunner().invoke(app, ["evaluate", str(tmp_path / "nowhere"), "--embedder", "tfidf"])
    assert missing.exit_code == 2 and "Input not found" in missing.output
    assert "the bundled sample corpus" in help_text


def test_cells_of_a_budget_table_are_no_area_evidence(use_embedder):
    """A Word table's cells come in one per line: "Formation des enseignants" above "8 000 €" names a cost, not
    what the practice does, and is not shown as the reason for an area; list numbers do not make a table."""
    from pipeline.classify import table_cells

    lines = ["Budget", "Poste", "Montant", "Salaires des médiatrices scolaires", "120 000 €",
             "Formation des enseignants", "8 000 €", "Staff | 12 000 EUR", "2.", "Recrutement de six médiatrices",
             "La participation est passée de 60 % à 85 %."]
    assert [s for s, cell in zip(lines, table_cells(lines)) if cell] == [
        "Salaires des médiatrices scolaires", "Formation des enseignants", "Staff | 12 000 EUR"]
    table = "\n".join(["Budget", "Poste", "Montant", "Formation des enseignants", "8 000 €",
                       "Cours de langue pour les parents", "12 000 €", "Livres scolaires bilingues", "3 000 €"])
    text = ("Des médiatrices accueillent les familles nouvellement arrivées à la porte de l'école.\n" + table +
            "\nLes parents viennent davantage aux réunions avec les enseignants.")
    practice = Practice(practice_id="b-1", source_file="b.docx", practice_index=1, lang="fr",
                        title="Médiatrices scolaires", process=text, description=text)
    model = load_area_classifier(DEFAULT_MODEL_DIR, embedder=use_embedder)
    evidence = predict_areas(model, [practice]).evidence[0]
    cells = set(table.split("\n"))
    assert all(e not in cells for e in evidence if e), evidence
    # nor do they move the areas: the practice without its costs (its table's heading kept) gets the same
    lines = [line for line in text.split("\n") if line not in cells or line in ("Budget", "Poste", "Montant")]
    bare = "\n".join(lines)
    without = Practice(practice_id="b-2", source_file="b2.docx", practice_index=1, lang="fr",
                       title="Médiatrices scolaires", process=bare, description=bare)
    proba = predict_areas(model, [practice, without]).proba
    assert np.allclose(proba[0], proba[1], atol=1e-6)


def test_an_area_is_likely_enough_as_its_probability_is_shown():
    """The check showed a declared area at 0,20 without its sentence (0.1991), where areas.parquet gave one: every
    place compares the probability as it is shown, to two decimals."""
    from pipeline.classify import likely_enough
    from pipeline.config import Settings

    settings = Settings()
    assert settings.areas.mismatch_min_probability == 0.2
    assert likely_enough(0.1991, settings) and likely_enough(0.2, settings) and not likely_enough(0.194, settings)
