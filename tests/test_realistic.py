"""The realistic evaluation set and `evaluate --set realistic`: the set's shape, the metrics, the command."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from conftest import ROOT, load_script
from pipeline.realistic import (
    CRITERIA,
    READERS,
    Reading,
    agreement,
    area_scores,
    criteria_scores,
    crosslingual_scores,
    gap_interval,
    load_quote_levels,
    load_quotes,
    load_realistic,
    quoted,
    read_back,
    set_f1,
)
from pipeline.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def data():
    return load_realistic()


def test_set_has_the_promised_shape(data):
    texts = data.texts
    assert len(texts) >= 160
    assert sum(t.lang == "fr" for t in texts) >= 60
    assert sum(t.free_prose for t in texts) >= 50
    assert len(data.pairs()) >= 40
    assert len({t.id for t in texts}) == len(texts)
    # both versions of a practice fall in the same half, and both halves are used
    halves = {}
    for t in texts:
        assert halves.setdefault(t.unit, t.split) == t.split
    assert set(halves.values()) == {"tune", "test"}
    # every text is read by both readers, and every area is somebody's main area
    assert len(data.rated()) == len(texts)
    mains = Counter(load_taxonomy().parent(data.readings["a"][t.id].main_area) for t in texts)
    assert set(mains) == {str(i) for i in range(1, 17)}


def test_readings_are_well_formed(data):
    taxonomy = load_taxonomy()
    for reader in READERS:
        for text_id, reading in data.readings[reader].items():
            assert reading.main_area in taxonomy.codes, (reader, text_id)
            assert taxonomy.parent(reading.main_area) in reading.areas
            assert set(reading.criteria) == set(CRITERIA)
            assert all(0 <= v <= 3 for v in reading.criteria.values())


def test_texts_read_back_through_the_word_form(data):
    sample = [next(t for t in data.texts if t.free_prose and t.lang == "fr"),
              next(t for t in data.texts if not t.free_prose and t.lang == "en")]
    practices = read_back(sample)
    for text in sample:
        p = practices[text.id]
        assert p.lang == text.lang
        assert p.city == text.city
        assert not p.declared_areas
        # every word of the description is found in what the pipeline read
        words = set(text.description().split())
        read = set(" ".join(filter(None, [p.description, p.purpose, p.starting_point, p.process, p.impact, p.references])).split())
        assert len(words & read) / len(words) > 0.97
    labelled = practices[sample[1].id]
    assert labelled.purpose or labelled.process


@pytest.mark.parametrize("layout", [{"wrap": 72}, {"wrap": 72, "plain_text": True}])
def test_texts_read_back_from_wrapped_lines_as_from_the_word_form(data, layout):
    """A Word form with a paragraph per line and a plain-text form wrapped at 72 characters give the sections
    of the Word form as written, word for word."""
    sample = [t for t in data.texts if t.sections and t.split == "tune"][:6]
    written, wrapped = read_back(sample), read_back(sample, **layout)
    for text in sample:
        for name in ("title", "purpose", "starting_point", "process", "impact", "references"):
            assert (getattr(wrapped[text.id], name) or "").split() == (getattr(written[text.id], name) or "").split()


def _reading(main: str, areas=(), level: int = 1) -> Reading:
    codes = load_taxonomy().with_parents([main, *areas])
    return Reading(main, tuple(codes), {c: level for c in CRITERIA})


def test_area_scores_perfect_and_constant():
    refs = [[_reading("1", ["3b"]), _reading("1", ["3b"])], [_reading("5"), _reading("5")],
            [_reading("14a"), _reading("9")]]
    perfect = area_scores([["1", "3"], ["5"], ["14", "9"]], [{"1", "3b"}, {"5"}, {"14a"}], refs)
    assert perfect["top1"] == pytest.approx((1 + 1 + 0.5) / 3, abs=1e-3)
    assert perfect["top3"] == 1.0
    always_one = area_scores([["1"]] * 3, [{"1"}] * 3, refs)
    assert always_one["top1"] == pytest.approx(1 / 3, abs=1e-3)
    # F1 of {1} against {1, 3, 3b} is 2/4; against {5} and {14, 14a} or {9} it is 0
    assert always_one["set_f1"] == pytest.approx(0.5 / 3, abs=1e-3)
    assert set_f1({"1"}, {"1"}) == 1.0 and set_f1(set(), set()) == 1.0


def test_criteria_scores_perfect_and_constant():
    ref = {c: [0, 1, 2, 3, 1.5] for c in CRITERIA}
    assert criteria_scores(ref, ref)["mean"] == 1.0
    constant = criteria_scores({c: [2] * 5 for c in CRITERIA}, ref)
    assert constant["mean"] == 0.0
    reversed_ = criteria_scores({c: [3, 2, 1, 0, 1.5] for c in CRITERIA}, ref)
    assert reversed_["mean"] == -1.0


def test_gap_interval_is_paired_seeded_and_resamples_whole_practices():
    rng = np.random.default_rng(1)
    reference = rng.integers(0, 4, 60).astype(float)
    noise = rng.normal(size=60)
    groups = [f"u{k // 2}" for k in range(60)]
    good = gap_interval(reference + 0.1 * noise, noise, reference, groups, draws=300)
    assert good["gap"] > 0.5 and 0.0 < good["low"] <= good["gap"] <= good["high"] <= 1.5
    # the same system on both sides: every paired draw gives a gap of exactly 0
    same = gap_interval(noise, noise, reference, groups, draws=300)
    assert same == {"gap": 0.0, "low": 0.0, "high": 0.0}
    assert gap_interval(reference + noise, noise, reference, groups, draws=300) == \
        gap_interval(reference + noise, noise, reference, groups, draws=300)
    # fewer independent units (two versions of one practice drawn together) give a wider interval
    reference, noise = np.repeat(reference[:30], 2), np.repeat(noise[:30], 2)
    wide = gap_interval(reference + noise, noise, reference, groups, draws=500)
    narrow = gap_interval(reference + noise, noise, reference, [f"u{k}" for k in range(60)], draws=500)
    assert wide["high"] - wide["low"] > narrow["high"] - narrow["low"]


def test_draws_are_scored_as_spearman_scores_each_one():
    """The bootstrap scores all draws at once; each must be what `spearman` gives on that draw alone, with ties,
    draws of unequal length, constant draws and draws of fewer than three texts."""
    from pipeline.realistic import _drawn_spearman, spearman

    rng = np.random.default_rng(3)
    x = np.concatenate([rng.integers(0, 3, 20), rng.normal(size=20)])
    y = rng.integers(0, 7, 40) / 2
    y[:4] = 1.5
    drawn = [rng.integers(0, 40, rng.integers(1, 60)) for _ in range(300)]
    drawn += [np.array([0, 1, 2, 3]), np.array([5, 5, 5]), np.array([7, 9])]
    expected = [spearman(x[rows], y[rows]) for rows in drawn]
    assert _drawn_spearman(x, y, drawn).tolist() == expected
    assert sum(e == 0.0 for e in expected) >= 3 and len({round(e, 2) for e in expected}) > 50


def test_crosslingual_scores_perfect_and_constant():
    pairs = [(0, 1), (2, 3)]
    sims = np.eye(4)
    sims[0, 1] = sims[1, 0] = sims[2, 3] = sims[3, 2] = 0.9
    assert crosslingual_scores(sims, pairs) == {"r1": 1.0, "mrr": 1.0, "queries": 4, "not_in_top10": 0}
    # ties count against the model: a constant similarity ranks the target after every other text
    flat = crosslingual_scores(np.ones((4, 4)), pairs)
    assert flat["r1"] == 0.0 and flat["mrr"] == pytest.approx(1 / 3, abs=1e-3)
    # every other text closer than the counterpart: rank 3 of 3 for each query
    worst = np.full((4, 4), 0.5)
    worst[0, 1] = worst[1, 0] = worst[2, 3] = worst[3, 2] = 0.1
    scores = crosslingual_scores(worst, pairs)
    assert scores["r1"] == 0.0 and scores["mrr"] == pytest.approx(1 / 3, abs=1e-3)


def test_agreement_of_identical_readings_is_perfect(data):
    ids = [t.id for t in data.texts[:12]]
    same = type(data)(data.texts, {"a": data.readings["a"], "b": data.readings["a"]})
    a = agreement(same, ids)
    assert a["main_area"] == 1.0 and a["set_f1"] == 1.0 and a["criteria_exact"] == 1.0


def test_evaluate_command_on_a_slice(tmp_path):
    from pipeline.cli import app

    out = tmp_path / "realistic.md"
    result = CliRunner().invoke(app, ["evaluate", "--set", "realistic", "--limit", "12", "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(payload["counts"]) == {"practices", "french", "pairs", "free_prose"}
    assert {"main_area", "set_f1", "criteria"} <= set(payload["agreement"])
    assert set(payload["areas"]["model"]) >= {"top1", "top3", "set_f1"}
    assert set(payload["areas"]["baselines"]) == {"zero_shot", "tfidf"}
    assert set(payload["criteria"]["model"]) >= set(CRITERIA)
    assert set(payload["criteria"]["baselines"]["word_count"]) >= set(CRITERIA)
    for gap in payload["criteria"]["over_word_count"].values():
        assert gap["low"] <= gap["high"]
    assert set(payload["crosslingual"]["model"]) >= {"r1", "mrr"}
    assert set(payload["crosslingual"]["baselines"]) == {"whole_text_use", "tfidf"}
    assert payload["counts"]["practices"] + payload["tune"]["counts"]["practices"] == 12
    for value in (payload["areas"]["model"]["top1"], payload["criteria"]["model"]["mean"]):
        assert -1.0 <= value <= 1.0
    assert out.exists() and "Action areas" in out.read_text(encoding="utf-8")


def test_briefs_script_draws_the_committed_briefs_and_split(tmp_path):
    """The briefs and the split come from the seeded script as committed: later draws only add tune units,
    so the test half is the one first drawn."""
    module = load_script("scripts/realistic_briefs.py")
    module.OUT = tmp_path / "briefs.yaml"
    module.main()
    folder = ROOT / "data" / "eval" / "realistic"
    assert module.OUT.read_bytes() == (folder / "briefs.yaml").read_bytes()
    assert (tmp_path / "split.yaml").read_bytes() == (folder / "split.yaml").read_bytes()
    first_draw = module.N_PAIRS + module.N_SINGLE_FR + module.N_SINGLE_EN
    briefs = yaml.safe_load(module.OUT.read_text(encoding="utf-8"))["briefs"]
    later = [b for b in briefs if int(b["unit"][1:]) > first_draw]
    assert later and all(b["split"] == "tune" for b in later)


def test_new_draw_takes_the_place_of_the_test_half(data):
    module = load_script("benchmarks/eval_new_draw.py")
    held = module.held_out_draw(data, "u263", "u292")
    scored = {t.id for t in held.texts if t.split == "test"}
    assert scored and all("u263" <= t[:4] <= "u292" for t in scored)
    original_test = {t.id for t in data.texts if t.split == "test"}
    assert not original_test & {t.id for t in held.texts}
    with pytest.raises(SystemExit):
        module.held_out_draw(data, "u900", "u999")


def _plain_words(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def _seen_by_readers() -> dict[str, str]:
    """What a reader saw: each text as its packet renders it (header lines with their labels)."""
    packets = load_script("scripts/realistic_packets.py")
    return {item["id"]: _plain_words(packets.render(item))
            for path in (ROOT / "data" / "eval" / "realistic" / "texts").glob("w*.yaml")
            for item in yaml.safe_load(path.read_text(encoding="utf-8"))}


def test_quotes_come_from_tune_texts_and_stand_in_them(data):
    quotes = load_quotes()
    seen = _seen_by_readers()
    tune = [t.id for t in data.texts if t.split == "tune"]
    # every tune text was read for its modelable sentences, and no test text was read at all
    assert set(quotes) == set(tune)
    for text_id, found in quotes.items():
        assert set(found) <= set(CRITERIA)
        for sentence in (q for qs in found.values() for q in qs):
            assert _plain_words(sentence) in seen[text_id], (text_id, sentence)
    assert sum(bool(found.get("modelable")) for found in quotes.values()) > 0.9 * len(tune)
    # the quote readers' levels: a third reading of every tune text, every criterion
    levels = load_quote_levels()
    assert set(levels) == set(tune)
    assert all(set(lv) == set(CRITERIA) and all(0 <= v <= 3 for v in lv.values()) for lv in levels.values())


def test_third_reading_of_the_test_half_is_complete_and_kept_apart(data):
    folder = ROOT / "data" / "eval" / "realistic" / "third_reading" / "test"
    levels, quotes = load_quote_levels(folder), load_quotes(folder)
    test = {t.id for t in data.texts if t.split == "test"}
    # every test text, every criterion, and nothing of the tune half
    assert set(levels) == test
    assert all(set(lv) == set(CRITERIA) and all(0 <= v <= 3 for v in lv.values()) for lv in levels.values())
    seen = _seen_by_readers()
    for text_id, found in quotes.items():
        for sentence in (q for qs in found.values() for q in qs):
            assert _plain_words(sentence) in seen[text_id], (text_id, sentence)
    # what training reads (the default quotes folder) holds no test text
    assert not set(load_quotes()) & test and not set(load_quote_levels()) & test


def test_evidence_on_the_test_half_counts_the_first_sentence_against_the_readers_quotes():
    module = load_script("benchmarks/eval_third_reading.py")
    ids = ["a", "b", "c"]
    third = {i: {c: 2 for c in CRITERIA} for i in ids} | {"c": {c: 0 for c in CRITERIA}}
    quotes = {"a": {"modelable": ["Volunteers meet each family twice a month."]},
              "b": {"modelable": ["The city pays a coordinator for two days a week."]},
              "c": {"modelable": ["Nothing counts here, the level is 0."]}}
    sentences = {"a": ["The aim is cohesion.", "Volunteers meet each family twice a month."],
                 "b": ["The city pays a coordinator for two days a week.", "It works.", "People liked it.", "Thanks."],
                 "c": ["Nothing counts here, the level is 0."]}
    rows = {"model": {("a", "modelable"): {"evidence": ["Volunteers meet each family twice a month.", "The aim is cohesion."]},
                      ("b", "modelable"): {"evidence": ["It works."]},
                      ("c", "modelable"): {"evidence": ["Nothing counts here, the level is 0."]}},
            "rules": {("a", "modelable"): {"evidence": []},
                      ("b", "modelable"): {"evidence": ["The city pays a coordinator for two days a week."]},
                      ("c", "modelable"): {"evidence": []}}}
    out = module._first_evidence_quoted(rows, sentences, quotes, third, ids)["modelable"]
    # text c is left out (level 0); a: the model's first sentence is quoted, b: only the rules' is
    assert out == {"texts": 2, "model": 0.5, "hand_set_cues": 0.5, "random_sentence": round((1 / 2 + 1 / 4) / 2, 3)}
    assert module._first_evidence_quoted(rows, sentences, quotes, third, ids)["targeted"]["texts"] == 0


def test_quoted_sentences_match_loosely_but_not_anything():
    sentences = ["2. Tutors are trained in a two-day course by the coordinator.",
                 "The clubs help pupils.",
                 "Each club meets twice a week for two hours, in the district library on Main Street."]
    quotes = ["Tutors are trained in a two-day course by the coordinator",
              "Each club meets twice a week for two hours, in the district library on Main Street; the city pays."]
    assert quoted(sentences, quotes).tolist() == [True, False, True]
    assert not quoted(sentences, []).any()
