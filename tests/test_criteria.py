"""Criteria scorer: cues, levels, hints, languages, determinism, the stage and the guideline checks."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from pipeline.config import Settings
from pipeline.criteria import (CRITERIA, GUIDELINE_CHECKS, CriteriaScorer, check_guidelines, criteria_stage,
                               guidelines_stage)
from pipeline.records import Practice


def practice(pid="t-1", lang="en", **sections) -> Practice:
    # as `segment` builds it: the description's parts, without the title
    text = "\n".join(v for k, v in sections.items() if v and k != "title")
    return Practice(practice_id=pid, source_file=f"{pid}.txt", practice_index=1, lang=lang, description=text,
                    n_words=len(text.split()), **sections)


STRONG_EN = practice(
    "strong-en",
    title="Homework Clubs for Refugee Teenagers",
    purpose="The clubs are for refugee teenagers aged 13-17 in the Westmoor and Riverside districts, so that they "
            "pass into mainstream classes within two years.",
    starting_point="A 2021 survey of 260 refugee pupils by the education office found that 57% had nowhere quiet "
                   "to study and 40% lacked help with homework; teachers reported the same problem.",
    process="Because most families live far from the central library, the clubs were built on the two district "
            "libraries, which already ran youth evenings.\n1. The education office recruits 24 volunteer tutors.\n"
            "2. Tutors are trained in a two-day course by the coordinator.\n3. Each club meets twice a week for two "
            "hours.\nBudget: EUR 40,000 a year.",
    impact="An evaluation by the university (2023) followed 180 pupils: 72% moved into mainstream classes within "
           "two years, against 45% before. Twelve former pupils now volunteer as tutors, and since 2024 the clubs "
           "are funded from the regular education budget.",
    references="The tutors' handbook can be downloaded from www.example.org/clubs. The town of Eastfield replicated "
               "the clubs in 2023 with the same handbook.",
)
WEAK_EN = practice(
    "weak-en",
    title="Festival of Friendship",
    purpose="The festival promotes diversity for all residents.",
    process="Various activities were organised.",
    impact="It was a great success and very positive.",
)
STRONG_FR = practice(
    "strong-fr", lang="fr",
    title="Ateliers de français pour les mères du quartier des Tilleuls",
    purpose="Le projet s'adresse aux mères nouvellement arrivées du quartier des Tilleuls, afin de rompre leur "
            "isolement et de les amener vers les cours de français dans un délai d'un an.",
    starting_point="En 2022, une enquête du centre social auprès de 150 familles a montré que 64 % des mères ne "
                   "suivaient aucun cours, faute de garde d'enfants.",
    process="Comme le quartier ne compte aucune crèche, les ateliers ont lieu à la maison de quartier, avec une "
            "garde d'enfants sur place.\n1. Les infirmières de la PMI orientent les mères.\n2. Deux formatrices "
            "animent deux séances par semaine.\n3. Un bilan a lieu avec chaque mère après dix semaines.\n"
            "Budget : 35 000 € par an.",
    impact="Entre 2022 et 2024, 120 mères ont participé : 58 % se sont inscrites à un cours de français, contre "
           "12 % avant. Dix bénévoles sont devenues marraines, et la ville finance désormais les ateliers sur son "
           "budget ordinaire.",
    references="Le guide des ateliers est disponible sur www.example.org/ateliers ; la ville de Saint-Clair a "
               "repris le dispositif en 2024 avec le même guide.",
)
WEAK_FR = practice(
    "weak-fr", lang="fr",
    title="Fête des voisins",
    purpose="Promouvoir le vivre-ensemble pour tous les habitants.",
    process="Des actions ont été mises en place.",
    impact="L'initiative a rencontré un grand succès.",
)


@pytest.fixture(scope="module")
def lexical() -> CriteriaScorer:
    """Without the semantic cue: fast and independent of the embedder."""
    return CriteriaScorer(embedder=None)


@pytest.fixture(scope="module")
def semantic() -> CriteriaScorer:
    return CriteriaScorer(embedder="use-multilingual")


def sentence_cues(scorer: CriteriaScorer, text: str, lang: str = "en", section: str = "process"):
    analysis = scorer.analyse([practice(lang=lang, **{section: text})])[0]
    cues = {}
    for s in analysis.sentences:
        for k, v in s.cues.items():
            cues[k] = cues.get(k, 0) + v
    return cues


def by_criterion(rows):
    return {r["criterion"]: r for r in rows}


NEUTRAL = "The old building has a blue door and a large window."

STRUCTURAL = {
    "percent": "Of the people asked, 64% agreed.",
    "figures": "They printed 350 leaflets.",
    "years": "It started in 2019.",
    "money": "The budget was EUR 12,000.",
    "urls": "See www.example.org for details.",
    "titles": 'The results are in the report "Living Together in Ostend".',
    "steps": "The work has three parts:\n1. recruit tutors\n2. train them",
    "durations": "Each session lasts two hours.",
    "ages": "It is open to children aged 6-12.",
    "participants": "In total 140 participants took part.",
    "names": "The work is led with Caritas Ostend and the Red Cross.",
}


@pytest.mark.parametrize("cue", sorted(STRUCTURAL))
def test_structural_cue_fires_on_its_sentence_not_on_neutral(lexical, cue):
    assert sentence_cues(lexical, STRUCTURAL[cue]).get(f"struct:{cue}", 0) >= 1
    assert sentence_cues(lexical, NEUTRAL).get(f"struct:{cue}", 0) == 0


LEXICAL = {
    ("en", "needs_based:evidence"): "A survey of residents found that many lacked childcare.",
    ("en", "context_sensitive:adaptation"): "Because the estate had no bus line, the sessions were moved to the school.",
    ("en", "high_impact:reach"): "Volunteers became multipliers and the action continues on the regular budget.",
    ("en", "transferable:replicated"): "The method was replicated in Ghent with the same toolkit.",
    ("en", "modelable:roles"): "A coordinator recruits and trains the volunteers.",
    ("en", "targeted:group"): "The project is for newly arrived mothers and refugee teenagers.",
    ("en", "high_impact:vague"): "It was a great success and very positive.",
    ("fr", "needs_based:evidence"): "Une enquête auprès des habitants a montré un manque de places.",
    ("fr", "transferable:replicated"): "Le dispositif a été repris par la ville de Nantes.",
    ("fr", "high_impact:reach"): "Les bénévoles sont devenus multiplicateurs et l'action sera poursuivie.",
    ("fr", "targeted:group"): "Le projet s'adresse aux mères nouvellement arrivées.",
}


@pytest.mark.parametrize("lang,label", sorted(LEXICAL))
def test_lexical_cue_fires_on_its_sentence_not_on_neutral(lexical, lang, label):
    assert sentence_cues(lexical, LEXICAL[(lang, label)], lang).get(label, 0) >= 1
    neutral = NEUTRAL if lang == "en" else "Le vieux bâtiment a une porte bleue et une grande fenêtre."
    assert sentence_cues(lexical, neutral, lang).get(label, 0) == 0


def test_a_french_article_is_no_count_of_people(lexical):
    """« un événement », « une famille »: spaCy reads « un », « une » as numbers, but they are articles here."""
    for text in ("La fête est un événement qui rassemble le quartier.", "Une famille sur deux vit seule."):
        assert sentence_cues(lexical, text, "fr").get("struct:participants", 0) == 0, text
    assert sentence_cues(lexical, "La fête a rassemblé 300 habitants et 40 familles.", "fr").get("struct:participants", 0) == 2


def test_french_lemmas_match_inflected_forms(lexical):
    # "enquêtes" and "ont montré" must match the lemma cues "enquête" and "montrer".
    cues = sentence_cues(lexical, "Plusieurs enquêtes ont montré des difficultés.", "fr")
    assert cues.get("needs_based:evidence", 0) >= 2


def test_vague_phrase_hides_cues_inside_it(lexical):
    cues = sentence_cues(lexical, "The activities were adapted to the local context.")
    assert cues.get("context_sensitive:vague", 0) >= 1
    assert cues.get("context_sensitive:local", 0) == 0


def test_city_description_cue(lexical):
    assert sentence_cues(lexical, "Founded in the 12th century, the city has 300,000 inhabitants.").get("lex:city_description", 0) >= 1
    assert sentence_cues(lexical, NEUTRAL).get("lex:city_description", 0) == 0


def test_semantic_cue_prefers_sentences_about_the_criterion(semantic):
    about = semantic.analyse([practice(impact="An evaluation showed that more participants found jobs than before.")])[0]
    neutral = semantic.analyse([practice(impact=NEUTRAL)])[0]
    assert about.sentences[0].semantic["high_impact"] > neutral.sentences[0].semantic["high_impact"] + 0.1


@pytest.mark.parametrize("strong,weak", [(STRONG_EN, WEAK_EN), (STRONG_FR, WEAK_FR)], ids=["en", "fr"])
def test_strong_and_weak_practices_in_both_languages(lexical, strong, weak):
    good = by_criterion(lexical.score_practice(strong))
    bad = by_criterion(lexical.score_practice(weak))
    for crit in CRITERIA:
        assert good[crit]["score"] > bad[crit]["score"], crit
        assert good[crit]["level"] >= 2, crit
        assert bad[crit]["level"] <= 1, crit
        assert bad[crit]["hint"], crit
    assert sum(good[c]["level"] == 3 for c in CRITERIA) >= 4
    assert good["needs_based"]["evidence"] and bad["needs_based"]["evidence"] == []


def test_hints_are_in_the_practice_language(lexical):
    fr = by_criterion(lexical.score_practice(WEAK_FR))
    en = by_criterion(lexical.score_practice(WEAK_EN))
    assert "Ajoutez" in fr["needs_based"]["hint"] and "Add" in en["needs_based"]["hint"]


def test_a_vague_impact_hint_quotes_the_praise_its_impact_part_uses(lexical):
    """« Remplacez « apprécié » … » for an impact part that praises; no such hint for « la réussite des élèves » in
    the purpose, which is no praise of the impact."""
    def impact(text: str) -> dict:
        return by_criterion(lexical.score_practice(practice(
            "vague", lang="fr", title="Soutien scolaire", purpose="Améliorer la réussite des élèves du quartier.",
            process="Des étudiants bénévoles aident les élèves deux soirs par semaine.", impact=text)))["high_impact"]

    praised = impact("Un beau succès, très apprécié des familles.")
    assert praised["level"] <= 1 and praised["hint"].startswith(("Remplacez « apprécié »", "Remplacez « succès »"))
    plain = impact("Les familles sont contentes.")
    assert plain["level"] <= 1 and "réussite" not in plain["hint"] and "succès" not in plain["hint"]


def test_no_impact_section_gives_low_impact_level_and_hint(semantic):
    sections = {k: getattr(STRONG_EN, k) for k in ("title", "purpose", "starting_point", "process", "references")}
    rows = by_criterion(semantic.score_practice(practice("no-impact", **sections)))
    full = by_criterion(semantic.score_practice(STRONG_EN))
    assert rows["high_impact"]["level"] < full["high_impact"]["level"]
    assert rows["high_impact"]["score"] < full["high_impact"]["score"] - 0.3
    assert "Impact" in rows["high_impact"]["hint"]
    assert rows["modelable"]["level"] >= 2  # other criteria are unaffected


def test_other_language_is_scored_by_the_semantic_cue(semantic):
    strong = practice("es-strong", lang="es",
                      impact="Una evaluación de la universidad mostró que el 70 % de las participantes encontró "
                             "empleo, frente al 30 % antes del programa. Las voluntarias forman ahora a nuevas "
                             "mentoras y el ayuntamiento financia el programa con su presupuesto ordinario.")
    weak = practice("es-weak", lang="es", impact="La fiesta del barrio tuvo lugar en verano.")
    good = by_criterion(semantic.score_practice(strong))["high_impact"]
    bad = by_criterion(semantic.score_practice(weak))["high_impact"]
    assert good["score"] > bad["score"] + 0.2
    assert good["evidence"]
    assert bad["hint"].startswith(("Add", "Replace", "Give"))  # English hints for languages without their own


def test_scores_are_deterministic(semantic):
    first = semantic.score([STRONG_EN, WEAK_FR])
    second = CriteriaScorer(embedder="use-multilingual").score([STRONG_EN, WEAK_FR])
    assert first == second


def test_fit_learns_cut_points_and_returns_self(lexical):
    scorer = CriteriaScorer(embedder=None)
    practices = [STRONG_EN, WEAK_EN, STRONG_FR, WEAK_FR]
    ratings = [{c: 3 for c in CRITERIA}, {c: 0 for c in CRITERIA}, {c: 3 for c in CRITERIA}, {c: 0 for c in CRITERIA}]
    assert scorer.fit(practices, ratings) is scorer
    assert set(scorer.cut_points_) == set(CRITERIA)
    assert all(len(v) == 3 and v == sorted(v) for v in scorer.cut_points_.values())
    levels = by_criterion(scorer.score_practice(WEAK_FR))
    assert all(levels[c]["level"] == 0 for c in CRITERIA)
    assert not hasattr(CriteriaScorer(embedder=None), "cut_points_")


def test_guideline_checks():
    rows = {r["check"]: r for r in check_guidelines(WEAK_EN)}
    assert list(rows) == list(GUIDELINE_CHECKS)
    assert not rows["length"]["passed"] and "too short" in rows["length"]["detail"]
    assert not rows["challenges_stated"]["passed"] and not rows["references"]["passed"]
    assert not rows["process_explained"]["passed"]
    good = {r["check"]: r["passed"] for r in check_guidelines(STRONG_EN)}
    assert good == {**{c: True for c in GUIDELINE_CHECKS}, "length": True}
    city = practice("city", purpose="Our city was founded in the 12th century. It has 300,000 inhabitants of "
                                    "120 nationalities. The old town is a listed heritage site.")
    assert not {r["check"]: r for r in check_guidelines(city)}["describes_city"]["passed"]
    fr = {r["check"]: r for r in check_guidelines(WEAK_FR)}
    assert "Ajoutez" in fr["references"]["detail"]


def test_a_link_outside_an_empty_references_part_fails_the_references_check_as_the_part_shows_missing():
    from dataclasses import replace

    impact = STRONG_FR.impact + " Plus d'informations sur https://www.nancy.fr/ateliers."
    moved = replace(STRONG_FR, impact=impact, references=None)
    check = {r["check"]: r for r in check_guidelines(moved)}["references"]
    assert not check["passed"]
    assert "https://www.nancy.fr/ateliers" in check["detail"] and "Principaux documents de référence" in check["detail"]
    assert {r["check"]: r for r in check_guidelines(STRONG_FR)}["references"]["passed"]
    # a report written without the parts gives its links in its prose
    prose = Practice(practice_id="prose", source_file="prose.txt", practice_index=1, lang="fr",
                     description=impact, n_words=len(impact.split()))
    assert {r["check"]: r for r in check_guidelines(prose)}["references"]["passed"]


def test_guideline_checks_read_prose_without_labelled_parts():
    # The same texts written without labelled parts: the prose is checked, not a missing part's word count.
    for strong, weak in ((STRONG_EN, WEAK_EN), (STRONG_FR, WEAK_FR)):
        prose = [Practice(practice_id=p.practice_id + "-prose", source_file="p.txt", practice_index=1, lang=p.lang,
                          title=p.title, description=p.description, n_words=p.n_words) for p in (strong, weak)]
        good, bad = ({r["check"]: r for r in check_guidelines(p)} for p in prose)
        assert good["process_explained"]["passed"] and good["challenges_stated"]["passed"]
        assert good["results_stated"]["passed"]
        assert not bad["process_explained"]["passed"] and not bad["challenges_stated"]["passed"]
        for row in (good["process_explained"], bad["process_explained"], good["challenges_stated"]):
            assert not re.search(r"\d", row["detail"]), row  # no word count of a part the form does not have
        # a labelled form without its impact part: the needs' figures in its starting point are not results
        no_impact = practice(strong.practice_id + "-no-impact", lang=strong.lang,
                             **{k: getattr(strong, k) for k in ("title", "purpose", "starting_point", "process")})
        assert not {r["check"]: r for r in check_guidelines(no_impact)}["results_stated"]["passed"]
        lang_word = "étapes" if strong.lang == "fr" else "steps"
        assert lang_word in good["process_explained"]["detail"] and lang_word in bad["process_explained"]["detail"]


def test_stages_on_sample_corpus(sample_out):
    practices = pd.read_parquet(sample_out / "practices.parquet")
    criteria = pd.read_parquet(sample_out / "criteria.parquet")
    assert len(criteria) == 6 * len(practices)
    assert set(criteria["criterion"]) == set(CRITERIA)
    assert criteria["level"].between(0, 3).all() and criteria["score"].between(0, 1).all()
    assert ((criteria["level"] == 3) == criteria["hint"].isna()).all()  # no hint is null in the table
    # The sample corpus has strong and weak practices: levels must spread.
    assert criteria.groupby("criterion")["level"].nunique().min() >= 2
    # Practices with no impact section score lower on impact than those with one.
    merged = criteria[criteria["criterion"] == "high_impact"].merge(practices, on="practice_id")
    has = merged["impact"].notna()
    assert has.any() and (~has).any()
    assert merged.loc[~has, "level"].max() <= 1 < merged.loc[has, "level"].mean() + 1
    assert merged.loc[~has, "score"].mean() < merged.loc[has, "score"].mean()


def test_guidelines_stage_rows():
    rows = guidelines_stage([STRONG_EN, WEAK_FR])
    assert len(rows) == 2 * len(GUIDELINE_CHECKS)
    assert {r["practice_id"] for r in rows} == {"strong-en", "weak-fr"}


def test_criteria_stage_with_an_embedder_object():
    class Constant:
        model_id = "constant"
        dim = 4

        def encode(self, texts):
            return np.tile(np.array([1, 0, 0, 0], dtype=np.float32), (len(texts), 1))

    rows = criteria_stage([STRONG_EN], Settings(), Constant())
    assert [r["criterion"] for r in rows] == list(CRITERIA)
    assert set(rows[0]) == {"practice_id", "criterion", "level", "score", "evidence", "hint"}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_words_of_analysed_texts_do_not_stay_in_the_vocabulary(lang):
    """A run over thousands of texts must not keep every word it has seen: the analysis forgets them."""
    from pipeline.criteria import load_nlp

    scorer = CriteriaScorer(embedder=None)
    scorer.analyse([WEAK_EN if lang == "en" else WEAK_FR])  # pipelines and matchers loaded
    strings = load_nlp(lang).vocab.strings
    novel = [f"zqxv{i}word" for i in range(50)]
    text = practice("novel", lang=lang, purpose="The " + " ".join(novel) + " project trains 20 mediators.",
                    process="Volunteers meet twice a week.")
    before = len(strings)
    analysis = scorer.analyse([text])[0]
    assert any("zqxv0word" in s.text for s in analysis.sentences)
    assert not any(word in strings for word in novel)
    assert len(strings) <= before + 5


def test_analyses_in_two_threads_at_once_find_what_one_finds():
    """The web app checks two forms at once: their analyses must not disturb each other."""
    from concurrent.futures import ThreadPoolExecutor

    scorer = CriteriaScorer(embedder=None)
    texts = [STRONG_EN, WEAK_FR, WEAK_EN, STRONG_EN, WEAK_FR, WEAK_EN]

    def cues(practice):
        return [(s.text, sorted(s.cues.items())) for s in scorer.analyse([practice])[0].sentences]

    alone = [cues(p) for p in texts]
    with ThreadPoolExecutor(max_workers=2) as pool:
        together = list(pool.map(cues, texts * 3))
    assert together == alone * 3


def test_a_text_as_long_as_the_reading_limits_allow_is_analysed():
    # spaCy refuses texts over 1,000,000 characters unless told otherwise; the reading limits allow 2,000,000
    from pipeline.config import Limits
    from pipeline.criteria import load_nlp

    for lang in ("fr", "en", "de"):
        assert load_nlp(lang).max_length > Limits().max_text_chars
    doc = load_nlp("en")("Volunteers meet tenants every month. " * 30_000)  # 1,110,000 characters
    assert len(list(doc.sents)) == 30_000


def test_an_objective_said_only_in_the_purpose_names_the_empty_main_objective_field():
    checks = {r["check"]: r for r in check_guidelines(STRONG_FR)}
    assert checks["objectives_stated"]["passed"] and "Principal objectif" in checks["objectives_stated"]["detail"]
    from dataclasses import replace
    given = {r["check"]: r for r in check_guidelines(replace(STRONG_FR, main_objective="Rompre l'isolement des mères"))}
    assert given["objectives_stated"]["detail"] == "L'objectif est indiqué."


def test_guideline_details_count_one_word_in_the_singular():
    one = {r["check"]: r["detail"] for r in check_guidelines(practice("one", lang="fr", process="Ateliers."))}
    assert one["process_explained"].endswith("(le processus compte 1 mot).")
    assert one["length"].startswith("1 mot : trop court")
    two = {r["check"]: r["detail"] for r in check_guidelines(practice("two", lang="en", process="Weekly workshops."))}
    assert two["process_explained"].endswith("(the process has 2 words).") and two["length"].startswith("2 words:")


def test_a_list_item_is_one_sentence_at_most_and_no_sentence_runs_into_a_label():
    impact = ("En deux ans, les ateliers ont touché 140 mères. Parmi elles :\n• 87 % ont suivi un cours de français\n"
              "• la participation aux réunions de parents a doublé\n- 12 mères sont devenues déléguées de parents\n"
              "2) une crèche a ouvert\nRéférences / liens : https://www.nancy.fr/ateliers")
    # a line of a PDF or of a paragraph pasted line by line ends in mid-sentence: it stays in its sentence
    process = "Les ateliers ont lieu à la maison de quartier de\nBellevue, avec une garde d'enfants sur place."
    analysis = CriteriaScorer(embedder=None).analyse([practice("items", lang="fr", impact=impact, process=process)])[0]
    texts = [s.text for s in analysis.sentences]
    assert texts == ["Les ateliers ont lieu à la maison de quartier de\nBellevue, avec une garde d'enfants sur place.",
                     "En deux ans, les ateliers ont touché 140 mères.", "Parmi elles :",
                     "• 87 % ont suivi un cours de français", "• la participation aux réunions de parents a doublé",
                     "- 12 mères sont devenues déléguées de parents", "2) une crèche a ouvert",
                     "Références / liens : https://www.nancy.fr/ateliers"]
    # the pieces of one sentence of punctuation still count as that sentence for the readers' quotes
    assert [s.unit for s in analysis.sentences] == [0, 1, 2, 2, 2, 2, 2, 2]


def test_a_list_of_steps_or_a_desk_located_somewhere_is_no_portrait_of_the_city():
    """"A clear list of the steps" (the lemma of "listed") and "a desk located in the social services building"
    describe the practice; where the city lies ("located in the heart of Flanders") still describes the city."""
    practice_text = ("At the desk they leave with a clear list of the steps they need to take. The desk is located in "
                     "the district's social services building. Each list of contacts is checked every month.")
    rows = {r["check"]: r for r in check_guidelines(practice("desk", purpose=practice_text))}
    assert rows["describes_city"]["passed"], rows["describes_city"]["detail"]
    portrait = ("Our city was founded in the 12th century. It is located in the heart of Flanders. The old town "
                "has many listed buildings.")
    rows = {r["check"]: r for r in check_guidelines(practice("portrait", purpose=portrait))}
    assert not rows["describes_city"]["passed"]
