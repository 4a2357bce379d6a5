"""The hints' gap models: saved and read back offline, they tell a hint what a text says in other words."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.config import DEFAULT_CRITERIA_MODEL_DIR, load_yaml
from pipeline.criteria import CriteriaScorer
from pipeline.hint_gaps import GAP_MODEL_FILE, GAPS_DIR, GapModel, load_gap_model, load_gap_sentences, said_rates, train_gap_model
from pipeline.records import Practice


@pytest.fixture(scope="module")
def scorer() -> CriteriaScorer:
    return CriteriaScorer()


def practice(pid: str, lang: str, text: str, **parts) -> Practice:
    return Practice(practice_id=pid, source_file=f"{pid}.txt", practice_index=1, lang=lang, description=text, **parts)


def gap_reading(scorer: CriteriaScorer, crit: str, name: str, lang: str, text: str) -> tuple[bool, bool]:
    """(a cue of the gap is found, the gap is read as said) for one text."""
    (analysis,) = scorer.analyse([practice("g", lang, text)])
    features = next(r for r in scorer.score_analyses([analysis], explain=True) if r["criterion"] == crit)["features"]
    gap = next(g for g in scorer.cues["criteria"][crit]["gaps"] if g["name"] == name)
    return any(features.get(group, 0.0) > 0 for group in gap["groups"]), scorer.gap_said(crit, gap, features, analysis)


def test_every_gap_of_the_hints_has_a_model_read_back_offline(scorer):
    model, model_id = load_gap_model(DEFAULT_CRITERIA_MODEL_DIR)
    assert model is not None and model_id.startswith("hint-gaps:") and model_id.endswith("use-multilingual-v3")
    gaps = {f"{crit}:{gap['name']}" for crit, spec in scorer.cues["criteria"].items() for gap in spec["gaps"]}
    assert set(model.models) == gaps
    assert 0.0 < model.threshold < 1.0 and scorer.gap_model_id == model_id
    chances = model.chances(np.zeros((3, 512)))
    assert all(c.shape == (3,) and ((0 <= c) & (c <= 1)).all() for c in chances.values())


@pytest.mark.parametrize("crit, name, lang, text", [
    ("needs_based", "evidence", "en", "Two primary schools alerted us."),
    ("needs_based", "evidence", "fr", "Ce sont les directrices de deux écoles qui nous ont alertés."),
    ("transferable", "conditions", "en",
     "A town that wants to start the same scheme mainly needs a sports club willing to lend its hall."),
    ("transferable", "conditions", "fr",
     "Une commune qui voudrait se lancer a surtout besoin d'un club prêt à prêter sa salle."),
], ids=["evidence-en", "evidence-fr", "conditions-en", "conditions-fr"])
def test_a_gap_said_in_other_words_than_the_cues_is_read_as_said(scorer, crit, name, lang, text):
    cue, said = gap_reading(scorer, crit, name, lang, text)
    assert not cue and said


@pytest.mark.parametrize("crit, name, lang, text", [
    ("needs_based", "evidence", "en", "Many parents did not come to school meetings and felt unwelcome."),
    ("transferable", "conditions", "en", "The hall of the sports club is open on Saturday mornings."),
    ("context_sensitive", "adaptation", "fr", "Les ateliers ont lieu le samedi matin à la maison de quartier."),
], ids=["evidence-en", "conditions-en", "adaptation-fr"])
def test_a_near_miss_is_not_read_as_said(scorer, crit, name, lang, text):
    assert gap_reading(scorer, crit, name, lang, text) == (False, False)


def cues_only_scorer(folder) -> CriteriaScorer:
    """The shipped criteria model without the gap models beside it."""
    (folder / "model.json").write_bytes((DEFAULT_CRITERIA_MODEL_DIR / "model.json").read_bytes())
    return CriteriaScorer(model_dir=folder)


def test_without_the_gap_models_only_cues_say_a_gap(tmp_path):
    cues_only = cues_only_scorer(tmp_path)
    assert cues_only.gap_model_id.startswith("hint-gaps:cues")
    assert gap_reading(cues_only, "needs_based", "evidence", "en", "Two primary schools alerted us.") == (False, False)


def test_the_hint_no_longer_asks_how_the_need_became_known_beside_a_request(scorer, tmp_path):
    # The starting point says the need and who raised it, in words no cue knows: with the cues alone the hint
    # asked how the need became known; with the gap models it moves on to the next gap.
    parts = dict(
        purpose="Homework support for children of newly arrived families in the Nord district.",
        starting_point="Children of newly arrived families fell behind at school because nobody at home could help "
                       "with homework. Two primary schools alerted us.",
        process="Volunteers from the library meet the children twice a week after school; a coordinator from the "
                "city matches each child with a volunteer.",
        impact="Thirty children took part in the first year; most now hand in their homework, their teachers say.")
    form = practice("homework", "en", " ".join(parts.values()), **parts)
    gaps = {g["name"]: g["en"] for g in scorer.cues["criteria"]["needs_based"]["gaps"]}
    hint = {s: next(r["hint"] for r in s.score([form]) if r["criterion"] == "needs_based")
            for s in (cues_only_scorer(tmp_path), scorer)}
    before, after = hint.values()
    assert before == gaps["evidence"]
    assert after not in ("", gaps["evidence"], gaps["need"])


@pytest.mark.parametrize("lang, text, cued", [
    ("en", "Request of two primary schools.", True),
    ("fr", "À la demande de deux écoles primaires du quartier.", True),
    ("fr", "Le projet est né d'une demande du conseil de quartier.", True),
    ("fr", "Les parents ont demandé de l'aide à la mairie.", True),
    ("fr", "La plupart des familles ont une demande d'asile en cours.", False),
], ids=["request-en", "demande-fr", "demande-du-fr", "ont-demande-fr", "asile-fr"])
def test_a_request_of_those_concerned_says_how_the_need_became_known(scorer, lang, text, cued):
    cue, said = gap_reading(scorer, "needs_based", "evidence", lang, text)
    assert cue is cued and (said or not cued)


@pytest.mark.parametrize("sentence", ["La ville a demandé une subvention à la région.",
                                      "Les participants ont demandé davantage de séances.",
                                      "La ville a sollicité un financement européen."])
def test_a_request_outside_the_starting_point_says_nothing_of_the_need(scorer, sentence):
    # a French form whose need is stated but not how it became known: a request in the process part changes nothing
    parts = dict(purpose="Aide aux devoirs pour les enfants des familles nouvellement arrivées du quartier Nord.",
                 starting_point="Les enfants des familles arrivées récemment prenaient du retard, faute d'aide à la "
                                "maison pour les devoirs.",
                 process="Des bénévoles de la bibliothèque reçoivent les enfants deux fois par semaine.")
    with_request = dict(parts, process=f"{parts['process']} {sentence}")
    hints = [next(r["hint"] for r in scorer.score([practice(pid, "fr", " ".join(p.values()), **p)])
                  if r["criterion"] == "needs_based") for pid, p in (("plain", parts), ("request", with_request))]
    assert hints[0] == hints[1]


def test_said_rates():
    said = np.array([True, True, False, True, False, False])
    states = np.array([True, True, True, False, False, False])
    rates = said_rates(said, states)
    assert (rates["said_when_stated"], rates["said_when_not"]) == (round(2 / 3, 3), round(1 / 3, 3))
    assert rates["balanced_accuracy"] == round((2 / 3 + 2 / 3) / 2, 3)


def test_training_writes_a_model_that_reads_back_and_is_deterministic(tmp_path):
    # Three gaps of the tune half, trained twice: the same file, read back as the scorer reads it.
    items = load_yaml((GAPS_DIR / "tune.yaml").read_text(encoding="utf-8"))
    kept = {"needs_based:evidence", "targeted:goal", "transferable:conditions"}
    folder = tmp_path / "gaps"
    folder.mkdir()
    import yaml

    (folder / "tune.yaml").write_text(yaml.safe_dump([i for i in items if i["element"] in kept], allow_unicode=True),
                                      encoding="utf-8")
    from pipeline.registry import shared_embedder

    embedder = shared_embedder("use-multilingual", 2)
    outputs = []
    for run in ("a", "b"):
        card = train_gap_model(tmp_path / run, embedder, folder=folder)
        outputs.append((tmp_path / run / GAP_MODEL_FILE).read_bytes())
    assert outputs[0] == outputs[1]
    model = GapModel.from_dict(json.loads(outputs[0]))
    assert set(model.models) == kept and model.threshold == card["threshold"]
    assert card["n_sentences"] == len(load_gap_sentences("tune", folder))
    assert card["cv_chosen"]["other_criteria_said"] <= card["max_other_criteria_said"]
    assert (tmp_path / "a" / "GAPS_MODEL_CARD.md").read_text(encoding="utf-8").count("| cues alone (baseline) |") == 1


def test_the_quietest_setting_is_chosen_when_none_is_quiet_enough():
    from pipeline.hint_gaps import MAX_OTHER_SAID, _chosen

    loud = {f"C={C} t={t}": {"C": C, "threshold": t, "balanced_accuracy": 0.9 - t / 10,
                              "other_criteria_said": MAX_OTHER_SAID * (4 - 2 * t)}
            for C in (1.0, 3.0) for t in (0.4, 0.6)}
    chosen = _chosen(loud)
    assert chosen["threshold"] == 0.6 and chosen["C"] == 1.0


def test_train_hint_gaps_refuses_the_other_training_options():
    from typer.testing import CliRunner

    from pipeline.cli import app

    result = CliRunner().invoke(app, ["train", "--hint-gaps", "--criteria"])
    assert result.exit_code == 2 and "--hint-gaps trains on data/eval/gaps alone" in result.output


@pytest.mark.parametrize("lang, references, read", [
    ("fr", "Bilan Passerelles Emploi 2022-2023, Ville de Grenoble.", False),
    ("en", "Evaluation report 2021-2022, City of Bergen, www.bergen.kommune.no/report.", False),
    ("fr", "Guide « Un café, une langue » à l'usage des bénévoles, BLI, 2022 ; Rapport d'évaluation 2023, Ville de "
           "Lausanne ; vidéo sur le site de la Ville de Genève", False),
    ("en", "Eskilstuna has copied the model.", True),
    ("en", "Eskilstuna copied the model in 2021.", True),
], ids=["title-fr", "title-en", "list-fr", "statement-en", "statement-with-year-en"])
def test_a_reference_entry_is_read_by_the_replication_model_only_as_a_statement(scorer, lang, references, read):
    """A document's title names a city without saying that the city took the practice up."""
    text = ("The youth office runs weekly homework clubs with volunteer students in two libraries." if lang == "en"
            else "Le service jeunesse anime chaque semaine des clubs de devoirs avec des étudiants bénévoles.")
    (analysis,) = scorer.analyse([practice("r", lang, text, process=text, references=references)])
    (entry,) = [s for s in analysis.sentences if s.section == "references"]
    if read:
        assert entry.said["transferable:replicated"] > 0.2
    else:
        assert entry.said["transferable:replicated"] == 0.0 == entry.said["transferable:conditions"]
        # elsewhere the same words are still read by the model: the part, not the words, sets it aside
        (moved,) = scorer.analyse([practice("m", lang, text, process=text, impact=references)])
        assert any(s.said["transferable:replicated"] > 0 for s in moved.sentences if s.section == "impact")
