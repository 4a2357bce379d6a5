"""The words `icc-practices check` and the web check share: field labels as the template prints them, the
declared areas and the area mismatch by number and name, the years of a period, and values cut after a whole word.
Words only: no model is loaded."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.cli import _counted_words, _declared_areas, _texts, _years
from pipeline.normalize import shorten
from pipeline.records import HEADER_FIELDS, Practice
from pipeline.taxonomy import load_taxonomy
from pipeline.web.i18n import Messages, area_mismatch_words, declared_beside, main_not_likeliest, years_words

SEED_LAYOUT = Path(__file__).resolve().parent / "data" / "seed_layout" / "form-fr.txt"
# The English template's header labels, in its order.
ENGLISH_TEMPLATE = ["City", "Department", "Date of the form", "Contact person", "Title", "Main area of action",
                    "Main objective", "Implementation period"]


def template_labels(path: Path) -> list[str]:
    """The header labels of the French template, as its first form prints them (a tab-indented cell ending ':')."""
    labels = []
    for line in path.read_text(encoding="utf-8").split("Description de la bonne pratique")[0].splitlines():
        if line.startswith("\t") and line.rstrip().endswith(":"):
            labels.append(line.strip().rstrip(":").strip().replace("\u2019", "'"))
    return labels


def test_header_fields_are_named_as_the_template_names_them():
    french = template_labels(SEED_LAYOUT)
    assert french == ["Ville", "Département", "Date du formulaire", "Personne de contact", "Titre",
                      "Principal domaine d'action", "Principal objectif", "Période de mise en œuvre"]
    for lang, labels in (("fr", french), ("en", ENGLISH_TEMPLATE)):
        fields = _texts(lang)["fields"]
        assert [fields[name] for name in HEADER_FIELDS] == labels, lang
        t = Messages.load().translator(lang)
        assert [t.field(name) for name in HEADER_FIELDS] == labels, f"the web check, {lang}"


@pytest.mark.parametrize("lang, expected", [
    ("fr", "Vous avez déclaré 6. Espace public ; le texte décrit plutôt 8. Entreprise, emploi et diversité. "
           "Vérifiez le domaine déclaré."),
    ("en", "You declared 6. Public space; the text is mostly about 8. Business, employment and diversity. "
           "Check the declared area."),
])
def test_a_mismatch_names_the_declared_area_and_where_the_text_points(lang, expected):
    words = area_mismatch_words(_texts(lang), load_taxonomy(), lang, ["6"], ["8"])
    assert words == expected
    assert words == Messages.load().translator(lang).area_mismatch(["6"], ["8"]), "the web says it the same way"
    assert not re.search(r"\b(three|trois)\b", words)


def test_a_mismatch_lists_only_the_areas_given_and_never_the_declared_one():
    taxonomy = load_taxonomy()
    # the declared area's sub-area (7b) is not where the text points "instead"
    two = area_mismatch_words(_texts("fr"), taxonomy, "fr", ["7"], ["8", "7b", "11"])
    assert two == ("Vous avez déclaré 7. Services publics ; le texte décrit plutôt 8. Entreprise, emploi et "
                   "diversité ou 11. Langue. Vérifiez le domaine déclaré.")
    three = area_mismatch_words(_texts("en"), taxonomy, "en", ["6"], ["8", "11", "14", "5", "16"])
    # area names hold commas: the areas are set apart by semicolons
    assert three == ("You declared 6. Public space; the text is mostly about 8. Business, employment and diversity; "
                     "11. Language or 14. Welcoming newcomers. Check the declared area."), "at most three areas"
    assert area_mismatch_words(_texts("en"), taxonomy, "en", [], ["8"]) is None
    assert area_mismatch_words(_texts("en"), taxonomy, "en", ["8"], ["8"]) is None


def test_a_mismatch_names_the_declared_sub_area_and_each_area_once():
    taxonomy = load_taxonomy()
    # "Roms et Gens du Voyage" is declared as 3 and 3b; the text's 9 and then 9a are one area, named by the
    # suggested sub-area, which says more than its parent
    words = area_mismatch_words(_texts("en"), taxonomy, "en", ["3", "3b"], ["9", "9a", "5"])
    assert words == ("You declared 3b. Roma and Travellers; the text is mostly about 9a. Interreligious dialogue "
                     "or 5. Education. Check the declared area.")
    # every declared area is left out of where the text points instead
    assert "Education" not in area_mismatch_words(_texts("en"), taxonomy, "en", ["3", "5"], ["9", "5", "16"])


def test_declared_areas_are_shown_by_number_and_name():
    one = Practice(practice_id="x-1", source_file="x.txt", practice_index=1, lang="fr", declared_areas=["11"])
    assert _declared_areas(one, _texts("fr")) == ("Domaine déclaré", "11. Langue")
    two = Practice(practice_id="x-1", source_file="x.txt", practice_index=1, lang="en", declared_areas=["3", "13"])
    assert _declared_areas(two, _texts("en")) == (
        "Declared areas", "3. Anti-discrimination and equality; 13. Intercultural intelligence and competence")
    none = Practice(practice_id="x-1", source_file="x.txt", practice_index=1, lang="fr")
    assert _declared_areas(none, _texts("fr")) == ("Domaine déclaré", "-")


def test_a_period_of_one_year_reads_as_that_year():
    assert years_words(2023, 2023, False, "en cours") == "2023"
    assert years_words(2022, 2023, False, "en cours") == "2022–2023"
    assert years_words(2021, None, True, "en cours") == "2021–en cours"
    assert years_words(None, None, False, "ongoing") is None
    practice = Practice(practice_id="x-1", source_file="x.txt", practice_index=1, lang="fr", period_start=2023,
                        period_end=2023)
    assert _years(practice, _texts("fr")) == "2023"
    assert Messages.load().translator("fr").years(2023, 2023, False) == "2023", "the web pages say it the same way"


def test_a_long_value_is_cut_after_a_whole_word():
    sentence = ("Les conseillères constataient que des ingénieurs travaillaient dans la restauration, faute de "
                "réseau professionnel et de reconnaissance de leurs diplômes.")
    cut = shorten(sentence, 100)
    assert len(cut) <= 100 and cut.endswith("…")
    assert sentence.startswith(cut[:-1]) and sentence[len(cut) - 1] == " ", cut
    assert shorten("faute de réseau professionnel et", 31) == "faute de réseau professionnel…"
    assert shorten("a, b", 3) == "a…", "no comma left before the ellipsis"
    assert shorten(sentence, 1000) == sentence
    assert shorten("https://" + "x" * 60, 20) == "https://xxxxxxxxxxx…", "one long word is cut inside"
    # a link or an e-mail address past the limit is shown whole, or left out when longer than the room
    assert shorten("Contact: ana.berg@ville-dunkerque.example.fr, 03 28 26 27 28", 40) == \
        "Contact: ana.berg@ville-dunkerque.example.fr…"
    assert shorten("See the guide at https://example.org/" + "x" * 80 + " and more", 60) == "See the guide at…"


@pytest.mark.parametrize("lang, value, expected", [
    ("fr", "https://www.nancy.fr/cafes", "1 mot : https://www.nancy.fr/cafes"),
    ("fr", "Rapport 2023", "2 mots : Rapport 2023"),
    ("en", "https://example.org", "1 word: https://example.org"),
    ("en", "Annual report", "2 words: Annual report"),
])
def test_a_part_of_one_word_is_counted_in_the_singular(lang, value, expected):
    assert _counted_words(_texts(lang), lang, value) == expected


def test_the_field_table_counts_a_part_as_the_guideline_checks_do():
    """« Processus 29 mots » in the table and « le processus compte 32 mots » below it: one count for both."""
    from pipeline.normalize import count_words

    process = "Formation de 25 agents d'accueil en deux sessions ; l'équipe a suivi 3 ateliers."
    shown = _counted_words(_texts("fr"), "fr", process)
    assert shown.startswith(f"{count_words(process)} mots : ") and count_words(process) != len(process.split())


def test_the_declared_area_is_listed_once_and_the_main_area_note_is_given_when_another_is_likelier():
    # every declared area the text does not suggest is listed, the main one first (« 5 ; 11 ; 14 » showed 5 only)
    assert declared_beside(["16", "5"], ["6", "9"]) == ["16", "5", "6", "9"]
    assert declared_beside(["5", "14a"], ["5", "11", "14"]) == ["5", "14a", "11"]
    assert declared_beside(["16"], ["1", "2", "3", "4"]) == ["16", "1", "2", "3"]
    assert declared_beside(["16", "6"], ["6"]) == ["16", "6"] and declared_beside(["16"], []) == ["16"]
    # a declared sub-area is listed as declared, and not at all when its family is suggested
    assert declared_beside(["16"], ["7", "7c"]) == ["16", "7c"] and declared_beside(["7", "16"], ["7", "7c"]) == ["7", "16"]
    label, words = _declared_areas(Practice(practice_id="p", source_file="f", practice_index=1, lang="fr",
                                            declared_areas=["7", "7c"]), _texts("fr"))
    assert (label, words) == ("Domaine déclaré", "7c. " + load_taxonomy().areas["7c"].name("fr"))
    assert main_not_likeliest("11", {"11": 0.17, "16": 0.59})
    assert not main_not_likeliest("16", {"11": 0.17, "16": 0.59}) and not main_not_likeliest(None, {"16": 0.5})
    for lang in ("en", "fr"):
        assert _texts(lang)["main_note"] and _texts(lang)["declared_tag"] and _texts(lang)["main_tag"]


def test_a_conversion_by_libreoffice_is_said_to_a_city_only_where_something_was_not_found():
    """« Check that the fields match the original » has something to check only where a field or a part is missing
    or a label was not read; a text-only reading (the layout lost) is always said; the tables keep every warning."""
    from pipeline.web.checking import CheckedPractice
    from pipeline.web.i18n import warnings_for_a_city

    assert warnings_for_a_city(["converted:libreoffice"]) == []
    assert warnings_for_a_city(["converted:libreoffice", "ocr"]) == ["ocr"]
    for lost in ("missing:title", "missing_section:impact", "unknown_label:Partenaires"):
        assert warnings_for_a_city(["converted:libreoffice", lost]) == ["converted:libreoffice", lost]
    assert warnings_for_a_city(["converted:text-only"]) == ["converted:text-only"]
    # the web check lists what `check` lists
    practice = Practice(practice_id="p", source_file="f.odt", practice_index=1, lang="fr",
                        warnings=["converted:libreoffice", "missing_section:impact"])
    checked = CheckedPractice(practice, None, False, [], [], [])
    assert checked.other_warnings == ["converted:libreoffice"]
    checked.practice.warnings = ["converted:libreoffice"]
    assert checked.other_warnings == []


def test_a_practices_page_says_what_the_form_declared_not_what_you_declared():
    """The secretariat read "You declared 6. Public space" on a city's practice page: the page speaks of the form."""
    from pipeline.web.i18n import Messages

    for lang, start in (("en", "The form declared 6. Public space; the text is mostly about 8. Business"),
                        ("fr", "Le formulaire déclare 6. Espace public ; le texte décrit plutôt 8. Entreprise")):
        t = Messages.load().translator(lang)
        page = t.area_mismatch(["6"], ["8", "11"], to_the_city=False)
        assert page.startswith(start) and "Check" not in page and "Vérifiez" not in page
        assert t.area_mismatch(["6"], ["8", "11"]).startswith(("You declared", "Vous avez déclaré"))
