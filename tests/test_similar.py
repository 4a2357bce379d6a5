"""Cross-city neighbours: exact top-k search, no same-city neighbours, near-duplicate flags, the table."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline.config import Settings
from pipeline.embed import make_embedder
from pipeline.records import Practice
from pipeline.similar import (SECTIONS, TermIndex, facts, find_neighbours, is_near_duplicate, same_practice_pairs,
                              similar_stage, top_k_exact, version_keys)
from pipeline.tables import SCHEMAS, to_table

ROOT = Path(__file__).resolve().parents[1]


def test_top_k_exact_matches_a_full_sort():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(300, 16)).astype(np.float32)
    queries = rng.normal(size=(40, 16)).astype(np.float32)
    exclude = rng.random((40, 300)) < 0.2
    idx, scores = top_k_exact(queries, base, 7, exclude=exclude, block=16)
    full = np.where(exclude, -np.inf, queries @ base.T)
    expected = np.argsort(-full, axis=1, kind="stable")[:, :7]
    np.testing.assert_allclose(scores, np.take_along_axis(full, expected, axis=1), rtol=1e-5)
    assert not exclude[np.arange(40)[:, None], idx].any()
    assert (np.diff(scores, axis=1) <= 1e-6).all()


def test_find_neighbours_never_offers_the_same_city():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(60, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    cities = [["Genève", "geneve", "Oslo", "Paris", "Lyon"][i % 5] for i in range(60)]
    rows = find_neighbours(vectors, cities, top_k=5, min_score=-1.0, near_duplicate=0.99)
    ranked = [r for r in rows if r.rank >= 1]
    assert len(ranked) == 60 * 5
    key = {"Genève": "geneve", "geneve": "geneve"}
    for r in ranked:
        assert key.get(cities[r.query], cities[r.query]) != key.get(cities[r.neighbour], cities[r.neighbour])
    for q in range(60):
        ranks = [r.rank for r in ranked if r.query == q]
        assert ranks == [1, 2, 3, 4, 5]


def test_min_score_never_drops_the_best_match():
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(12, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = find_neighbours(vectors, [f"C{i}" for i in range(12)], top_k=3, min_score=0.999, near_duplicate=0.9999)
    for q in range(12):
        mine = [r for r in rows if r.query == q and r.rank >= 1]
        assert len(mine) == 1 and mine[0].weak  # kept, marked weak, and nothing weaker added
    strong = find_neighbours(vectors, [f"C{i}" for i in range(12)], top_k=3, min_score=-1.0, near_duplicate=0.9999)
    assert not any(r.weak for r in strong)


def _practice(pid: str, city: str, lang: str = "en", **sections) -> Practice:
    text = "\n".join(v for v in sections.values() if v)
    return Practice(practice_id=pid, source_file=f"{pid}.docx", practice_index=1, lang=lang, city=city,
                    title=sections.pop("title", None) or f"Practice {pid}", description=text, **sections)


@pytest.fixture(scope="module")
def use():
    return make_embedder("use-multilingual", cache_dir=None)


@pytest.fixture(scope="module")
def originals(sample_out) -> dict[str, Practice]:
    """Sample practices from the session run, keyed by source id (p1-01 ...)."""
    expected = json.loads((ROOT / "tests" / "data" / "expected_corpus.json").read_text(encoding="utf-8"))
    table = pd.read_parquet(sample_out / "practices.parquet")
    out = {}
    for row in table.to_dict("records"):
        ids = [p["id"] for p in expected[row["source_file"]]["practices"]]
        data = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
        out[ids[int(row["practice_index"]) - 1]] = Practice.from_dict(data)
    return out


def _rewrite(source: Practice, item: dict) -> Practice:
    sections = {s: item.get(s) for s in SECTIONS}
    return replace(source, practice_id=f"xl-{item['id']}", lang=item["lang"], title=item["title"],
                   main_objective=item["main_objective"], description="\n".join(v for v in sections.values() if v),
                   references=None, **sections)


def test_resubmissions_and_translations_are_flagged_not_offered(originals, use):
    rewrites = {i["id"]: i for i in yaml.safe_load((ROOT / "data/eval/crosslingual/part1.yaml").read_text("utf-8"))}
    strasbourg = originals["p1-01"]  # French; its English rewrite is in part1.yaml
    translation = _rewrite(strasbourg, rewrites["p1-01"])
    resubmitted = replace(strasbourg, practice_id="resub-1",
                          process=strasbourg.process.replace("tous les deux mois", "chaque mois"))
    copied_elsewhere = replace(originals["p1-02"], practice_id="copy-lublin", city="Lublin ")
    pool = [originals[k] for k in ("p1-02", "p1-03", "p1-04", "p1-05", "p1-06", "p1-08")] + [
        strasbourg, translation, resubmitted, copied_elsewhere]
    rows = similar_stage(pool, Settings(top_k=3, min_similarity=0.0), use)
    by_pid = {p.practice_id: p for p in pool}
    flagged = {(r["practice_id"], r["neighbour_id"]) for r in rows if r["rank"] == 0}
    sid = strasbourg.practice_id
    assert {(sid, translation.practice_id), (sid, "resub-1"), (translation.practice_id, sid)} <= flagged
    relation = {(r["practice_id"], r["neighbour_id"]): r["relation"] for r in rows if r["rank"] == 0}
    assert relation[(sid, translation.practice_id)] == "version"
    assert relation[(sid, "resub-1")] == "near_duplicate"
    # the hubness taken off a pair score never lifts it above what a cosine can be
    assert all(-1.0 <= r["score"] <= 1.0 for r in rows)
    for r in rows:
        if r["rank"] >= 1:
            assert by_pid[r["practice_id"]].city.strip() != by_pid[r["neighbour_id"]].city.strip()
        else:
            assert r["near_duplicate"] and by_pid[r["practice_id"]].city.strip() == by_pid[r["neighbour_id"]].city.strip()
    # 'Lublin ' is the same city as 'Lublin': its copy is flagged, not offered.
    lublin = [r for r in rows if r["practice_id"] == originals["p1-02"].practice_id]
    assert ("copy-lublin", 0) in {(r["neighbour_id"], r["rank"]) for r in lublin}
    # Other cities see Strasbourg once, not three times (its versions fill one slot).
    for q in (originals["p1-03"].practice_id, originals["p1-04"].practice_id):
        listed = [r["neighbour_id"] for r in rows if r["practice_id"] == q and r["rank"] >= 1]
        assert sum(n in {sid, translation.practice_id, "resub-1"} for n in listed) <= 1
    # The translation and its original share key terms although they share almost no words.
    row = next(r for r in rows if r["practice_id"] == sid and r["neighbour_id"] == translation.practice_id)
    assert len(row["shared_terms"]) >= 2


def test_cross_city_copy_is_flagged_as_near_duplicate():
    v = np.eye(4, dtype=np.float32)
    v[1] = v[0]
    rows = find_neighbours(v, ["A", "B", "C", "D"], top_k=2, min_score=-1, near_duplicate=0.95)
    first = [r for r in rows if r.query == 0]
    assert first[0].neighbour == 1 and first[0].rank == 1 and first[0].relation == "near_duplicate"
    assert all(r.relation == "similar" for r in first[1:])


def test_facts_rule_needs_figures_on_both_sides():
    a = facts(_practice("a", "X", process="In 2021, 212 files were checked; 41 were sent back; 640 staff trained."))
    b = facts(_practice("b", "X", process="En 2021, 212 dossiers examinés, 41 renvoyés, 640 agent·e·s formé·e·s."))
    assert a == b == frozenset({"212", "41", "640"})  # the year is not a fact
    assert is_near_duplicate(0.70, a, b, 0.92)
    assert not is_near_duplicate(0.50, a, b, 0.92)
    assert not is_near_duplicate(0.70, frozenset({"212"}), frozenset({"212"}), 0.92)
    assert facts(_practice("c", "X", impact="a budget of 180 000 € and then 180,000")) == frozenset({"180000"})


def test_shared_terms_cross_languages_and_skip_common_words():
    texts = ["Volunteer mediators help tenants in social housing; mediators meet every month.",
             "Des médiateurs bénévoles aident les locataires du logement social.",
             "A football tournament for young people."] + ["The city works with residents."] * 6
    index = TermIndex().fit(texts, ["en", "fr", "en"] + ["en"] * 6)
    en_side = index.shared(0, 1)
    fr_side = index.shared(1, 0)
    # each side as its own text words them: words a city reads in its own practice
    assert {"mediator", "volunteer", "tenants"} <= set(en_side)
    assert {"médiateur", "bénévoles", "locataires"} <= set(fr_side)
    # a form both languages write alike keeps the accents of the practice's own language
    alike = TermIndex().fit(["La médiation de quartier règle les conflits.", "Neighbourhood mediation settles disputes.",
                             *["The city works with residents."] * 6], ["fr", "en"] + ["en"] * 6)
    assert "médiation" in alike.shared(0, 1) and "mediation" in alike.shared(1, 0)
    for side, text in ((en_side, texts[0]), (fr_side, texts[1])):
        assert all(term.lower() in text.lower() for term in side), side
    assert index.shared(0, 2) == []
    assert "city" not in index.shared(3, 4)


def test_a_stop_word_a_term_and_an_ending_spell_is_not_that_term():
    """« parce que » is no park: 'parc' with a feminine ending spells « parce »."""
    texts = ["Les femmes ne venaient pas parce que les horaires ne convenaient pas.",
             "Neighbours meet in the park and planted a garden in the park.",
             "Des voisins se retrouvent au parc et ont planté un jardin dans le parc.",
             *["The city works with residents."] * 6]
    index = TermIndex().fit(texts, ["fr", "en", "fr"] + ["en"] * 6)
    assert "parc" not in index.shared(0, 2) and "park" not in index.shared(1, 0)
    assert "parc" in index.shared(2, 1) and "park" in index.shared(1, 2)
    # « élevé » (high) folds to « élève » (pupil): no school term for a high rate
    high = TermIndex().fit(["Le taux de chômage reste élevé dans le quartier.",
                            "Pupils and teachers of two schools meet every month.",
                            *["The city works with residents."] * 6], ["fr", "en"] + ["en"] * 6)
    assert high.shared(0, 1) == [] and high.shared(1, 0) == []


_MOTHERS_EN = ("Neighbourhood mothers in Søndre Nordstrand are women with a migrant background trained to visit other "
               "women and guide them to health services. In Søndre Nordstrand 24 women took a course on health and "
               "rights; the mothers visited 240 families.")
_MOTHERS_FR = ("Les mères de quartier de Søndre Nordstrand sont des femmes issues de l'immigration formées pour rendre "
               "visite à d'autres femmes et les guider vers les services de santé. À Søndre Nordstrand, 24 femmes ont "
               "suivi une formation sur la santé et les droits ; les mères ont rendu visite à 240 familles.")
_UNRELATED = ["Language buddies pair pupils of Russian-speaking families with Estonian-speaking pupils; the buddies "
              "meet weekly and the pupils learn by play.",
              "Le guichet d'accueil reçoit les nouveaux arrivants ; le guichet répond dans dix langues sur le logement.",
              "Twelve neighbourhood centres in three towns exchange methods; the centres trained 48 animators.",
              "A football league brings teenagers together; the league plays every Saturday in Groruddalen."]


@pytest.mark.parametrize("others", [1, 2, 3, 4])
def test_a_translation_pair_shares_terms_in_a_small_batch(others):
    # two texts of five are 40% of the batch: the two sides of a pair are never too common to be its reason
    texts = [_MOTHERS_EN, _MOTHERS_FR, *_UNRELATED[:others]]
    index = TermIndex().fit(texts, ["en", "fr", "en", "fr", "en", "en"][:len(texts)])
    assert {"women", "nordstrand"} <= set(index.shared(0, 1))
    assert {"femmes", "nordstrand"} <= set(index.shared(1, 0))


def test_a_term_in_most_texts_of_a_large_batch_is_not_shown():
    filler = [f"Volunteers in district {chr(65 + i)} run a garden; the garden volunteers meet weekly." for i in range(10)]
    texts = [_MOTHERS_EN, _MOTHERS_FR, *filler]
    index = TermIndex().fit(texts, ["en", "fr"] + ["en"] * 10)
    # 'garden' and 'volunteer' are in 10 of 12 texts; 'women' only in the pair
    assert "garden" not in index.shared(2, 3) and "volunteers" not in index.shared(2, 3)
    assert "women" in index.shared(0, 1)
    # a term in 5 of 11 texts (over 35%) is too common too, as it always was
    index = TermIndex().fit(texts[:2] + filler[:5] + _UNRELATED, ["en", "fr"] + ["en"] * 5 + ["en", "fr", "en", "en"])
    assert index.shared(2, 3) == []


def test_a_small_batch_gives_its_translation_pair_shared_terms(use):
    en = _practice("m-en", "Oslo", title="Neighbourhood mothers in Søndre Nordstrand", process=_MOTHERS_EN)
    fr = _practice("m-fr", "Oslo", lang="fr", title="Mères de quartier à Søndre Nordstrand", process=_MOTHERS_FR)
    others = [_practice(f"o-{i}", city, lang=lang, process=text) for i, (city, lang, text) in
              enumerate(zip(("Tartu", "Genève", "Lyon"), ("en", "fr", "en"), _UNRELATED))]
    rows = similar_stage([en, fr, *others], Settings(top_k=3, min_similarity=0.0), use)
    pair = [r for r in rows if {r["practice_id"], r["neighbour_id"]} == {"m-en", "m-fr"}]
    assert len(pair) == 2 and all(r["relation"] == "version" for r in pair)
    assert all(r["shared_terms"] for r in pair), pair


def test_sample_run_table(sample_out):
    table = pd.read_parquet(sample_out / "similar.parquet")
    practices = pd.read_parquet(sample_out / "practices.parquet")
    assert list(table.columns) == SCHEMAS["similar"].names
    assert len(table) > 0
    city = dict(zip(practices["practice_id"], practices["city"]))
    ranked = table[table["rank"] >= 1]
    assert (ranked["practice_id"].map(city) != ranked["neighbour_id"].map(city)).all()
    assert (ranked["neighbour_city"] == ranked["neighbour_id"].map(city)).all()
    settings = Settings()
    assert ((ranked["score"] >= settings.min_similarity) | ranked["weak"]).all()
    # a weak match is only ever a practice's single best one
    assert (ranked[ranked["weak"]]["rank"] == 1).all()
    assert set(table["relation"]) <= {"similar", "near_duplicate", "version"}
    for _, group in ranked.groupby("practice_id"):
        assert list(group.sort_values("rank")["rank"]) == list(range(1, len(group) + 1))
        assert len(group) <= settings.top_k
        assert group.sort_values("rank")["score"].is_monotonic_decreasing
    assert set(ranked["matched_section"]) <= set(SECTIONS) | {"main_objective", "title"}
    # 52 distinct practices, no resubmissions in the sample: nothing is flagged.
    assert not table["near_duplicate"].any() and (table["relation"] == "similar").all()
    to_table("similar", table)  # round-trips through the contract schema


def test_geneva_and_geneve_are_one_city_everywhere(tmp_path):
    from pipeline.cities import city_info, city_key
    from pipeline.report.city import write_city_reports
    from pipeline.tables import write_json, write_table

    assert city_key("Geneva") == city_key("Genève") == city_key(" GENF ") == city_key("geneve")
    assert city_key("Geneva, Switzerland") == city_key("Genève (Suisse)") == city_key("Genève")
    assert city_info("Geneva").country == "Switzerland"
    # the similar stage: no neighbour from "the other" Geneva, with or without its country
    v = np.eye(4, dtype=np.float32)
    v[1] = v[0] * 0.999 + 0.001
    v[2] = v[0] * 0.998 + 0.002
    rows = find_neighbours(v, ["Geneva", "Genève", "Geneva, Switzerland", "Oslo"], top_k=2, min_score=-1,
                           near_duplicate=0.9999)
    assert not any(r.query in (0, 1, 2) and r.neighbour in (0, 1, 2) and r.rank >= 1 for r in rows)
    assert any(r.query == 2 and r.neighbour == 0 and r.rank == 0 for r in rows)
    # the city reports: one report for practices filed as Geneva and as Genève
    practices = [
        _practice("g1", "Geneva", process="Neighbourhood mediators meet tenants every month in Les Pâquis."),
        _practice("g2", "Genève", lang="fr", process="Des médiateurs de quartier rencontrent les locataires chaque mois."),
        _practice("g3", "Geneva, Switzerland", process="Neighbourhood mediators visit tenants in Les Pâquis."),
        _practice("o1", "Oslo", process="Volunteer mediators meet tenants in Grünerløkka."),
    ]
    for p in practices:
        p.n_words = len((p.description or "").split())
    write_table(tmp_path / "practices.parquet", to_table("practices", [p.to_dict() for p in practices]))
    for name in ("similar", "areas", "criteria", "files"):
        write_table(tmp_path / f"{name}.parquet", to_table(name, []))
    write_json(tmp_path / "manifest.json", {})
    paths = write_city_reports(tmp_path, None, formats=("html",))
    names = sorted(p.name for p in paths)
    assert names == ["geneve.html", "oslo.html"], names


def test_a_version_pair_is_linked_not_offered_as_another_citys_practice(use):
    en = _practice("v-en", "Geneva", title="Neighbourhood mediators in Les Pâquis",
                   process="Since 2019 twelve volunteer mediators trained by the Bureau de l'intégration meet tenants "
                           "of the Pâquis estates every month; 340 conflicts were settled in 2022.")
    fr = _practice("v-fr", "Genève", lang="fr", title="Médiateurs de quartier aux Pâquis",
                   process="Depuis 2019, douze médiateurs bénévoles formés par le Bureau de l'intégration rencontrent "
                           "chaque mois les locataires des immeubles des Pâquis ; 340 conflits réglés en 2022.")
    others = [_practice("o-1", "Oslo", process="A football league for teenagers of all backgrounds in Groruddalen."),
              _practice("o-2", "Lyon", lang="fr", process="Un festival de musique des quartiers est organisé chaque été."),
              _practice("o-3", "Bergen", process="Volunteer mediators help neighbours settle noise disputes.")]
    rows = similar_stage([en, fr, *others], Settings(top_k=3, min_similarity=0.0), use)
    pair = [r for r in rows if {r["practice_id"], r["neighbour_id"]} == {"v-en", "v-fr"}]
    assert pair and all(r["rank"] == 0 and r["relation"] == "version" for r in pair)
    assert len(pair) == 2  # linked both ways
    # other cities see the Geneva practice once, in one language, not twice
    for q in ("o-1", "o-3"):
        listed = [r["neighbour_id"] for r in rows if r["practice_id"] == q and r["rank"] >= 1]
        assert sum(n in {"v-en", "v-fr"} for n in listed) == 1


def test_ragged_vectors_give_back_each_practices_rows():
    from pipeline.similar import RaggedRows, RaggedSections

    rng = np.random.default_rng(0)
    blocks = [rng.normal(size=(k, 4)).astype(np.float32) for k in (3, 0, 1, 5, 2)]
    rows = RaggedRows()
    rows.add(blocks[:2], 4)
    rows.add(blocks[2:], 4)
    assert len(rows) == 5 and [len(r) for r in rows] == [3, 0, 1, 5, 2]
    for got, want in zip(rows, blocks):
        assert got.dtype == np.float16 and np.allclose(got, want, atol=1e-2)
    assert np.array_equal(rows[-1], rows[4]) and len(rows[1:3]) == 2
    with pytest.raises(IndexError):
        rows[5]
    sections = RaggedSections()
    sections.add([{"purpose": blocks[0][0], "impact": blocks[0][1]}, {}], 4)
    sections.add([{"process": blocks[3][2]}], 4)
    assert list(sections[0]) == ["purpose", "impact"] and sections[1] == {} and list(sections[2]) == ["process"]
    assert np.allclose(sections[2]["process"], blocks[3][2], atol=1e-2)


def test_two_practices_of_one_city_in_two_languages_are_not_taken_for_versions(use):
    # Geneva's only English text and only French text: each is the other's best match in its city whatever they
    # say, but each has a much closer match elsewhere, so they stay two practices
    en = _practice("g-en", "Geneva", title="Neighbourhood mediators in Les Pâquis",
                   purpose="Since 2019 twelve volunteer mediators trained by the Bureau de l'intégration meet tenants "
                           "of the Pâquis estates every month and help them settle disputes over noise and shared "
                           "spaces.", impact="340 conflicts were settled in 2022.")
    fr = _practice("g-fr", "Genève", lang="fr", title="Voisins d'accueil aux Pâquis",
                   purpose="Depuis 2019, douze habitants bénévoles formés par le Bureau de l'intégration accueillent "
                           "chaque mois les familles nouvellement arrivées dans les immeubles des Pâquis, leur "
                           "présentent le quartier et les services.", impact="340 familles accueillies en 2022.")
    oslo = _practice("o-1", "Oslo", title="Neighbourhood mediators in Grønland",
                     purpose="Since 2020 ten volunteer mediators trained by the integration office meet tenants of "
                             "the Grønland estates every month and help them settle disputes over noise and shared "
                             "spaces.", impact="280 conflicts were settled in 2022.")
    lyon = _practice("l-1", "Lyon", lang="fr", title="Voisins solidaires",
                     purpose="Depuis 2018, des habitants bénévoles accueillent les familles nouvellement arrivées à la "
                             "Guillotière et leur présentent le quartier et les services.",
                     impact="200 familles accueillies.")
    rows = similar_stage([en, fr, oslo, lyon], Settings(top_k=3, min_similarity=0.0), use)
    assert not [r for r in rows if r["rank"] == 0], "no version, no near duplicate"
    assert not [r for r in rows if {r["practice_id"], r["neighbour_id"]} == {"g-en", "g-fr"}], "one city, never listed"


def test_three_language_versions_are_one_practice(use):
    en = _practice("v-en", "Geneva", title="Neighbourhood mediators",
                   process="Since 2019 twelve volunteer mediators trained by the city's integration office meet "
                           "tenants of the social housing estates every month and help them settle disputes over noise "
                           "and shared spaces; 340 conflicts were settled in 2022 and the housing company now funds "
                           "the scheme.")
    fr = _practice("v-fr", "Genève", lang="fr", title="Médiateurs de quartier",
                   process="Depuis 2019, douze médiateurs bénévoles formés par le bureau de l'intégration rencontrent "
                           "chaque mois les locataires des immeubles sociaux et les aident à régler les conflits de "
                           "bruit et d'espaces communs ; 340 conflits réglés en 2022, et la régie finance désormais "
                           "le dispositif.")
    de = _practice("v-de", "Genf", lang="de", title="Nachbarschaftsmediatoren",
                   process="Seit 2019 treffen zwölf ehrenamtliche Mediatoren, die vom Integrationsbüro der Stadt "
                           "ausgebildet wurden, jeden Monat die Mieter der Sozialwohnungen und helfen ihnen, "
                           "Streitigkeiten über Lärm und gemeinsame Räume beizulegen; 2022 wurden 340 Konflikte "
                           "beigelegt, und die Wohnungsgesellschaft finanziert das Projekt nun.")
    other = _practice("x", "Lyon", lang="fr", process="Un festival de musique des quartiers chaque été.")
    batch = [en, fr, de, other]
    rows = similar_stage(batch, Settings(top_k=3, min_similarity=0.0), use)
    keys = version_keys([p.practice_id for p in batch], same_practice_pairs(rows))
    assert keys == {"v-en": "v-en", "v-fr": "v-en", "v-de": "v-en", "x": "x"}


def test_a_text_close_to_everything_loses_its_pull():
    from pipeline.config import SimilarSettings
    from pipeline.similar import hub_adjusted, hubness

    # practice 0 is close to every other (a broad strategy); 1 and 2 are each other's true counterpart
    scores = np.array([[1.00, 0.60, 0.60, 0.60, 0.60],
                       [0.60, 1.00, 0.58, 0.30, 0.30],
                       [0.60, 0.58, 1.00, 0.30, 0.30],
                       [0.60, 0.30, 0.30, 1.00, 0.45],
                       [0.60, 0.30, 0.30, 0.45, 1.00]])
    rules = SimilarSettings(hub_neighbours=3)
    hub = hubness([np.delete(scores[q], q) for q in range(len(scores))], rules)
    assert hub[0] == hub.max() and abs(hub.mean()) < 1e-9
    adjusted = hub_adjusted(scores, hub, rules)
    np.testing.assert_allclose(adjusted, adjusted.T)  # a pair scores the same both ways
    best = lambda m, q: int(np.argmax(np.where(np.arange(len(m)) == q, -np.inf, m[q])))  # noqa: E731
    assert best(scores, 1) == 0 and best(adjusted, 1) == 2
    assert (adjusted[0, 1:] < scores[0, 1:]).all()  # the broad text scores lower with every other


def test_copies_of_a_text_do_not_count_in_its_hubness():
    from pipeline.similar import top_mean

    others = np.array([0.5, 0.45, 0.4])
    # the same form sent as .odt and .pdf scores about 1 with it: it is not close to everything for that
    assert top_mean(np.array([0.99, 0.98, *others])) == pytest.approx(top_mean(others))
    assert top_mean(np.array([0.91, *others])) > top_mean(others)
    assert top_mean(np.array([0.99])) == 0.0
