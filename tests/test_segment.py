"""Segmentation of template forms: labels, layouts, several practices, blank forms, normalised values."""

from __future__ import annotations

import re

import pytest

from docx_factory import cell, p, row, sdt, table, write_docx
from pipeline.ingest import read_blocks
from pipeline.normalize import detect_language, parse_period, value_or_none
from pipeline.records import Block
from pipeline.segment import match_label, segment
from pipeline.taxonomy import load_taxonomy

DESCRIPTION_FR = (
    "La ville a ouvert un atelier de conversation pour les parents allophones dans trois écoles. "
    "Les rencontres ont lieu chaque semaine avec des bénévoles formés et une médiatrice."
)
DESCRIPTION_EN = (
    "The city opened a conversation workshop for parents who are learning the language in three schools. "
    "Meetings take place every week with trained volunteers and a mediator."
)


def lines(*texts: str) -> list[Block]:
    return [Block(t, "paragraph", i) for i, t in enumerate(texts)]


def table_then_text(rows: list[tuple[str, str]], text: str) -> list[Block]:
    """A header table of label | value rows, then a paragraph of text."""
    cells = [Block(t, "cell", 2 * r + c, 1, r, c) for r, pair in enumerate(rows) for c, t in enumerate(pair)]
    return [*cells, Block(text, "paragraph", len(cells))]


@pytest.mark.parametrize(
    "text, name, inline",
    [
        ("Ville:", "city", None),
        ("VILLE :", "city", None),
        ("Ville\u00a0: Lyon", "city", "Lyon"),
        ("Période de mise en œuvre :", "period_text", None),
        ("periode de mise en oeuvre: 2020", "period_text", "2020"),
        ("Principal domaine d’action", "declared_area_text", None),
        ("Main area of action: Education", "declared_area_text", "Education"),
        ("Stimulus/Rationale: a survey", "starting_point", "a survey"),
        ("Stimulus / Rationale", "starting_point", None),
        ("Foundation:", "starting_point", None),
        ("Objectif : réduire l'isolement", "purpose", "réduire l'isolement"),
        ("Principal objectif : réduire l'isolement", "main_objective", "réduire l'isolement"),
        ("Date of the form (dd/mm/yyyy):", "form_date", None),
        ("- Process: step one", "process", "step one"),
        # labels named for the project, and wordings of the header fields outside the template
        ("Intitulé du projet :", "title", None),
        ("Titre de l’action : Jardins partagés", "title", "Jardins partagés"),
        ("Objectif principal du projet : réduire l'isolement", "main_objective", "réduire l'isolement"),
        ("Durée du projet : 2022-2024", "period_text", "2022-2024"),
        ("Dates : 2022-2024", "period_text", "2022-2024"),
        ("Impact of the project:", "impact", None),
        ("Personne responsable : Julie Marchal", "contact_person", "Julie Marchal"),
        ("Person in charge: Claire Dubois", "contact_person", "Claire Dubois"),
        ("Service communal : Cohésion sociale", "department", "Cohésion sociale"),
        # the references part under the names forms give it, and labels of one part written together
        ("Références / liens : https://www.nancy.fr", "references", "https://www.nancy.fr"),
        ("Références et liens :", "references", None),
        ("Liens : https://www.nancy.fr", "references", "https://www.nancy.fr"),
        ("Liens et références", "references", None),
        ("References / links: https://example.org", "references", "https://example.org"),
        ("Links:", "references", None),
        ("Ville / City : Nancy", "city", "Nancy"),
        # labels cities write in their own words for the template's
        ("Responsible unit: Community Section", "department", "Community Section"),
        ("Key aims: to open the city's heritage", "main_objective", "to open the city's heritage"),
        ("Timeline: 2022-2024", "period_text", "2022-2024"),
        ("Background to the project:", "starting_point", None),
        ("How we did it:", "process", None),
        ("What changed:", "impact", None),
        ("Further reading:", "references", None),
        ("Références clés :", "references", None),
        ("Area: Sport", "declared_area_text", "Sport"),
        ("Domaine : Éducation", "declared_area_text", "Éducation"),
    ],
)
def test_label_variants(text, name, inline):
    hit = match_label(text)
    assert hit is not None and hit.label.name == name
    assert hit.inline == inline


@pytest.mark.parametrize("text", ["Impact was measured by a survey of 200 people.", "The city of Lyon", "Processus long et complexe",
                                  "City.", "ville.", "Nom du participant : Marie", "Impact of the project was large.",
                                  "Contexte et objectifs : deux parties", "Formation et accompagnement"])
def test_sentences_starting_with_a_label_word_are_not_labels(text):
    assert match_label(text) is None


def test_language_headings_of_a_bilingual_file_belong_to_no_section():
    result = segment(lines(
        "Version française", "Ville : Fribourg", "Titre : Mentorat", f"But : {DESCRIPTION_FR}", "Impact : 40 familles.",
        "English version", "City: Fribourg", "Title: Mentoring", f"Purpose: {DESCRIPTION_EN}", "Impact: 40 families.",
    ))
    french, english = result.practices
    assert (french.lang, english.lang) == ("fr", "en")
    assert french.impact == "40 familles." and english.impact == "40 families."
    assert french.title == "Mentorat"


def test_a_language_heading_does_not_stop_a_report_without_labels_from_being_read():
    result = segment([Block("English version", "paragraph", 0), Block("Buddy runs in the park", "heading", 1),
                      Block(f"{DESCRIPTION_EN} " * 3, "paragraph", 2)])
    (practice,) = result.practices
    assert practice.title == "Buddy runs in the park"


def test_label_then_value_paragraphs_and_inline_sections():
    result = segment(lines(
        "Guide text that comes before the form and must be ignored.",
        "Ville", "Lyon", "Titre :", "Ateliers de conversation", "Période de mise en œuvre", "depuis 2019",
        "Description de la bonne pratique", f"But : {DESCRIPTION_FR}", "Processus :", DESCRIPTION_FR, "Impact : 40 familles.",
    ))
    (practice,) = result.practices
    assert practice.city == "Lyon"
    assert practice.title == "Ateliers de conversation"
    assert (practice.period_start, practice.period_end, practice.ongoing) == (2019, None, True)
    assert practice.purpose.startswith("La ville a ouvert")
    assert practice.process == DESCRIPTION_FR
    assert practice.impact == "40 familles."
    assert practice.lang == "fr"
    assert "Guide text" not in (practice.description or "")


def test_header_value_takes_one_block_then_free_text_is_description():
    result = segment(table_then_text([("City:", "Oslo"), ("Title:", "Language cafés")], DESCRIPTION_EN))
    (practice,) = result.practices
    assert practice.title == "Language cafés"
    assert practice.description == DESCRIPTION_EN
    assert "no_description_sections" in practice.warnings


def test_two_practices_in_one_file_and_trailing_blank_form():
    form = ["Ville :", "Genève", "Titre :", "{title}", "Description", f"But : {DESCRIPTION_FR}"]
    blank = ["Ville :", "", "Date du formulaire :", "JJ/MM/YYYY", "Titre :", "N/A", "But :"]
    texts = [t.format(title="Premier") for t in form] + [t.format(title="Second") for t in form] + blank
    result = segment(lines(*[t for t in texts if t]))
    assert [p.title for p in result.practices] == ["Premier", "Second"]
    assert [p.practice_index for p in result.practices] == [1, 2]
    assert result.n_empty_forms == 1
    assert len({p.practice_id for p in result.practices}) == 2


@pytest.mark.parametrize("second_title_field", [True, False], ids=["titled", "heading-only"])
def test_the_heading_between_two_joined_forms_opens_the_second(tmp_path, second_title_field):
    def form(title, city, titled=True):
        return "\n".join([f"# {title}", "", f"**City:** {city}", *([f"**Title:** {title}"] if titled else []),
                          "## Description of the good practice", "### Purpose", "", DESCRIPTION_EN, "",
                          "### Key references", "", f"Annual report of {city}, 2023", ""])

    path = tmp_path / "joined.md"
    path.write_text(form("Parents' workshops", "Oslo") + "\n" + form("Welcome desk", "Bergen", second_title_field),
                    encoding="utf-8")
    first, second = segment(read_blocks(path)).practices
    assert first.references == "Annual report of Oslo, 2023"
    assert (first.title, second.title, second.city) == ("Parents' workshops", "Welcome desk", "Bergen")
    assert ("title_from_heading" in second.warnings) is not second_title_field


def test_of_several_headings_before_a_form_the_nearest_is_its_title_and_none_is_lost(tmp_path):
    def form(city, refs, title=None):
        return [f"**City:** {city}", *([f"**Title:** {title}"] if title else []), "### Purpose", "", DESCRIPTION_EN, "",
                "### Key references", "", refs, ""]

    path = tmp_path / "three.md"
    path.write_text("\n".join([
        "# Good practices of Lyon 2024", "## Language cafés", "", *form("Lyon", "Annual report 2023"),
        "# Part II: Education", "## Homework help", "", *form("Bergen", "City plan 2022"),
        "### Survey of parents, Oslo 2023 (annex 2)", "", *form("Oslo", "School report", title="Homework clubs")]),
        encoding="utf-8")
    first, second, third = segment(read_blocks(path)).practices
    assert [p.title for p in (first, second, third)] == ["Language cafés", "Homework help", "Homework clubs"]
    # a heading that is no form's title stays in the part it was read in, as before
    assert first.references == "Annual report 2023\nPart II: Education"
    assert second.references == "City plan 2022\nSurvey of parents, Oslo 2023 (annex 2)"


def test_a_form_pasted_twice_is_kept_and_named():
    form = ["Ville :", "Genève", "Titre :", "Ateliers", "Description", f"But : {DESCRIPTION_FR}"]
    other = ["Ville :", "Genève", "Titre :", "Ateliers", "Description", f"But : {DESCRIPTION_FR} Deux écoles ont suivi."]
    first, copy, changed = segment(lines(*form, *form, *other)).practices
    assert "repeats:1" in copy.warnings and not any(w.startswith("repeats") for w in first.warnings + changed.warnings)
    from pipeline.cli import warning_text
    assert "pasted twice" in warning_text("repeats:1", "en") and "collé deux fois" in warning_text("repeats:1", "fr")


def test_city_carried_over_to_second_practice_with_warning():
    result = segment(lines("City: Lisbon", "Title: One", f"Purpose: {DESCRIPTION_EN}", "Title: Two", f"Purpose: {DESCRIPTION_EN}"))
    assert [p.city for p in result.practices] == ["Lisbon", "Lisbon"]
    assert "inherited:city" in result.practices[1].warnings


def test_a_field_written_n_a_in_a_later_practice_is_not_taken_from_the_one_before():
    first = ("City: Lisbon", "Department: Culture", "Contact person: Ana Lima", "Title: One",
             f"Purpose: {DESCRIPTION_EN}")
    said_none = segment(lines(*first, "Department: N/A", "Contact person: none", "Date: Sans objet", "Title: Two",
                              f"Purpose: {DESCRIPTION_EN}")).practices[1]
    assert (said_none.city, said_none.department, said_none.contact_person, said_none.form_date) == \
        ("Lisbon", None, None, None)
    assert said_none.warnings.count("inherited:city") == 1 and not any(
        w in said_none.warnings for w in ("inherited:department", "inherited:contact_person", "inherited:form_date"))
    # the contact block after a practice that wrote N/A in its own is the next practice's, not that practice's
    third = ("Department: Youth Office", "Date: 05/2024", "Contact person: John Murphy", "Title: Three",
             f"Purpose: {DESCRIPTION_EN}")
    _, said_none, own = segment(lines(*first, "Department: N/A", "Date: n/a", "Contact person: N/A", "Title: Two",
                                      f"Purpose: {DESCRIPTION_EN}", *third)).practices
    assert (said_none.department, said_none.form_date, said_none.contact_person) == (None, None, None)
    assert (own.department, own.form_date, own.contact_person) == ("Youth Office", "05/2024", "John Murphy")
    assert not [w for w in own.warnings if w.startswith("inherited:") and w != "inherited:city"]
    assert segment(lines(*first, "Date: Néant", "Title: Two", f"Purpose: {DESCRIPTION_EN}")).practices[1].form_date \
        is None
    # left empty, or pointing above: taken from the practice before, and said
    left_empty = segment(lines(*first, "Department:", "Contact person: same as above", "Title: Two",
                               f"Purpose: {DESCRIPTION_EN}")).practices[1]
    assert (left_empty.department, left_empty.contact_person) == ("Culture", "Ana Lima")
    assert {"inherited:department", "inherited:contact_person"} <= set(left_empty.warnings)


def test_blank_form_alone_is_empty_not_a_practice():
    result = segment(lines("Ville:", "Département:", "Date du formulaire:", "JJ/MM/YYYY", "Personne de contact:", "Titre :", "But :"))
    assert result.practices == []
    assert result.n_empty_forms == 1


def test_placeholders_mean_no_value():
    for text in ("N/A", "n/a", "JJ/MM/YYYY", "Click or tap here to enter text.", " - ", "…"):
        assert value_or_none(text) is None, text
    assert value_or_none("N/A (see annex)") == "N/A (see annex)"


def test_text_without_labels_becomes_one_practice_with_warning():
    text = ("Neighbourhood dinners\n" + DESCRIPTION_EN + " " + DESCRIPTION_EN)
    result = segment(lines(*text.split("\n")))
    (practice,) = result.practices
    assert practice.title == "Neighbourhood dinners"
    assert "no_template_labels" in practice.warnings


PROSE_EN = ["Neighbourhood dinners", DESCRIPTION_EN, DESCRIPTION_EN, "A third paragraph tells how it went on."]


@pytest.mark.parametrize("texts, city, references", [
    (["City: Oslo", *PROSE_EN], "Oslo", None),
    ([*PROSE_EN, "Contact person: Kari Nordmann, integration office"], None, None),
    ([*PROSE_EN[:-1], "Key reference documents:", PROSE_EN[-1]], None, PROSE_EN[-1]),
], ids=["city-above", "contact-below", "references-before-last-paragraph"])
def test_report_without_the_template_but_a_few_labels_is_read_whole(texts, city, references):
    (practice,) = segment(lines(*texts)).practices
    assert practice.title == "Neighbourhood dinners"
    assert practice.city == city
    assert practice.references == references
    for paragraph in PROSE_EN[1:]:
        assert paragraph in practice.description
    assert practice.n_words >= 2 * len(DESCRIPTION_EN.split())


def test_guide_text_before_a_filled_template_stays_out_of_the_practice():
    guide = "Les villes du réseau décrivent ici une action qui a fonctionné. " * 8
    form = ["Ville :", "Genève", "Titre :", "Cafés", "Principal objectif :", "Rencontres", f"But : {DESCRIPTION_FR}"]
    (practice,) = segment(lines(guide, *form)).practices
    assert practice.description == DESCRIPTION_FR
    blank = ["Ville :", "Département :", "Titre :", "But :"]
    assert segment(lines(guide, *blank)).practices == []


def test_column_header_table_pairs_labels_with_values():
    blocks = [
        Block("City", "cell", 0, 1, 0, 0), Block("Department", "cell", 1, 1, 0, 1), Block("Title", "cell", 2, 1, 0, 2),
        Block("Patras", "cell", 3, 1, 1, 0), Block("Culture", "cell", 4, 1, 1, 1), Block("Open kitchens", "cell", 5, 1, 1, 2),
        Block(f"Purpose: {DESCRIPTION_EN}", "paragraph", 6),
    ]
    (practice,) = segment(blocks).practices
    assert (practice.city, practice.department, practice.title) == ("Patras", "Culture", "Open kitchens")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2020-2021", (2020, 2021, False)),
        ("depuis 2014", (2014, None, True)),
        ("Since 2018", (2018, None, True)),
        ("2018-ongoing", (2018, None, True)),
        ("2019", (2019, 2019, False)),
        ("sept. 2021 – juin 2023", (2021, 2023, False)),
        ("2019/20", (2019, 2020, False)),
        ("from 2017 (permanent)", (2017, None, True)),
        # a year in brackets comments on the period outside them
        ("January 2019 – ongoing (evaluation period 2019–2023)", (2019, None, True)),
        ("Septembre 2021 – en cours (bilan à mi-parcours 2023)", (2021, None, True)),
        ("(2021) ongoing", (2021, None, True)),
        ("Every September since 2017 (edition described: 2023)", (2017, None, True)),
        ("autumn 2021 – spring 2024 (continuing)", (2021, 2024, True)),
        ("en cours", (None, None, True)),
        ("N/A", (None, None, False)),
        # a later year after an open start is a step of the running practice, not its end
        ("Depuis 2021, projet pilote dans trois arrondissements puis étendu en 2023", (2021, None, True)),
        ("Since 2016; extended citywide in 2020 and 2022", (2016, None, True)),
        ("Depuis 2019, la phase pilote a été prolongée en 2021", (2019, None, True)),
        ("2021-2023, ongoing", (2021, 2023, True)),
        # a word that ends it: the last year is its end, and it is not running
        ("Depuis 2016 ; arrêté en 2020 faute de financement", (2016, 2020, False)),
        ("Depuis 2016 ; clôturé en 2020", (2016, 2020, False)),
        ("Since 2016 to 2020", (2016, 2020, False)),
        ("Since 2016-2020", (2016, 2020, False)),
        ("Depuis 2016 (terminé en 2020)", (2016, 2020, False)),
        ("Since January 2019; evaluation 2019-2022", (2019, 2022, True)),
        # the day of a date after a dash is no two-digit end year
        ("1 February 2023 - 31 December 2024", (2023, 2024, False)),
        ("1er février 2023 – 30 juin 2024", (2023, 2024, False)),
        ("01.02.2023 - 31 12 2024", (2023, 2024, False)),
        ("Since 2019, ended in 2023", (2019, 2023, False)),
        ("since 2017 until 2023", (2017, 2023, False)),
        # a start and a planned length: the length ends it, in either language
        ("À partir du 1er février 2023, pour 24 mois", (2023, 2025, False)),
        ("From 1 February 2023 for 24 months", (2023, 2025, False)),
        ("Septembre 2023, sur une période de 18 mois", (2023, 2025, False)),
        ("2023, for two years", (2023, 2024, False)),
        ("A 3-year programme starting in 2021", (2021, 2023, False)),
        ("01/09/2022 for 12 months", (2022, 2023, False)),
        ("From 1 Feb. 2023, duration: 24 months", (2023, 2025, False)),
        ("Duration 24 months from 01/02/2023", (2023, 2025, False)),
        ("1 February 2023 + 24 months", (2023, 2025, False)),
        ("From February 2023 for a duration of 24 months", (2023, 2025, False)),
        ("Duration of 24 months, starting February 2023", (2023, 2025, False)),
        ("February 2023 onwards, 24 months", (2023, 2025, False)),
        ("From February 2023 onwards, for 24 months", (2023, 2025, False)),
        ("à partir de février 2023, 2 ans", (2023, 2025, False)),
        ("Start: February 2023 ; End: January 2025", (2023, 2025, False)),
        ("Phase 1: Feb 2023 – Jan 2024 ; Phase 2: Feb 2024 – Jan 2025", (2023, 2025, False)),
        # how long it has run, or a rhythm, is no end
        ("since 2015 (10 years)", (2015, None, True)),
        ("From 2020 onwards (4 years so far)", (2020, None, True)),
        # a season of two years in a running period is its start
        ("depuis la rentrée 2020/21", (2020, None, True)),
        ("since the 2021/22 school year", (2021, None, True)),
        ("Depuis l'année scolaire 2018-2019", (2018, None, True)),
        ("Winter 2022/23 – ongoing", (2022, None, True)),
        ("2019/20 school year", (2019, 2020, False)),
        ("since 2019-2020", (2019, 2020, False)),
        ("since 2021/22", (2021, None, True)),
        ("depuis 2021-22", (2021, None, True)),
        ("2021/22 – present", (2021, None, True)),
        ("From the 2021/22 school year", (2021, None, True)),
        ("From 2019-20 to 2021-22", (2019, 2022, False)),
        # a start told under a word of its own, and no end: no end year, not said to run
        ("Start: February 2023", (2023, None, False)),
        ("Start: February 2023 ; End: to be confirmed", (2023, None, False)),
        ("1 September 2021 ; End date: to be confirmed", (2021, None, False)),
        ("janvier 2022 ; Date de fin : à définir", (2022, None, False)),
        # an end left blank or queried: not known, not running ("2022 -" alone runs on)
        ("Start: March 2022 ; End: -", (2022, None, False)),
        ("Début : mars 2022 ; Fin : ?", (2022, None, False)),
        ("2022 - ?", (2022, None, False)),
        ("2022 – n/a", (2022, None, False)),
        ("2022 –", (2022, None, True)),
        ("Start: 2022, ongoing ; End: -", (2022, None, True)),
        # renewed: still running
        ("01/09/2022 au 30/06/2024, reconduit", (2022, None, True)),
        ("2022, action reconduite chaque année", (2022, None, True)),
        ("01/09/2022 au 30/06/2024, non reconduit", (2022, 2024, False)),
        ("2021-2023, not renewed", (2021, 2023, False)),
        ("2020 - 2022 (pas reconduit faute de budget)", (2020, 2022, False)),
        ("Launched: March 2020 ; Completed: December 2022", (2020, 2022, False)),
        ("Pilot phase: 2020–2021 ; Roll-out phase: 2022–2024", (2020, 2024, False)),
        ("Phase 1: 2019 – 2020 ; Phase 2: 2021 – ongoing", (2019, None, True)),
        ("Lancement : mars 2023 ; Fin prévue : juin 2025", (2023, 2025, False)),
        ("Phase 1 (pilot): 2021-2022 ; Phase 2 (extension): 2023-2025", (2021, 2025, False)),
        ("2022-2024 (prolongation prévue en 2025)", (2022, 2024, False)),
        ("2015 onwards", (2015, None, True)),
        ("tous les deux ans depuis 2016", (2016, None, True)),
        ("2022 (6 months pilot), now permanent", (2022, None, True)),
    ],
)
def test_period_parsing(text, expected):
    period = parse_period(value_or_none(text))
    assert (period.start, period.end, period.ongoing) == expected


@pytest.mark.parametrize(
    "text, codes",
    [
        ("Anti-discrimination et égalité; (intelligence interculturelle)", ["3", "13"]),
        ("5. Education", ["5"]),
        ("3.b", ["3", "3b"]),
        ("Area 11 – Language", ["11"]),
        ("Services publics – santé ; médiation interculturelle", ["7", "7a", "10"]),
        ("Welcoming newcomers (refugees) / Employment", ["14", "14a", "8"]),
        ("Edcation", ["5"]),
        ("16 Interaction / 6 Public space", ["16", "6"]),
        ("Something else entirely", []),
    ],
)
def test_declared_area_codes(text, codes):
    assert load_taxonomy().parse_declared(text) == codes


def test_a_declared_text_parsed_again_gives_the_same_codes():
    from pipeline.taxonomy import Taxonomy

    taxonomy = Taxonomy.load()
    first = taxonomy.parse_declared("Services publics – santé ; médiation interculturelle")
    first.append("16")  # the caller's list: the remembered answer does not change with it
    assert taxonomy.parse_declared("Services publics – santé ; médiation interculturelle") == ["7", "7a", "10"]


def test_language_detection():
    assert detect_language(DESCRIPTION_FR) == "fr"
    assert detect_language(DESCRIPTION_EN) == "en"
    assert detect_language("Lyon") == "und"


def test_a_short_french_form_is_french_though_its_words_are_spanish_and_german_ones_too():
    """'que', 'se' and 'en' are Spanish stop words too, 'des' a German one: a short form on the French template
    stays French; a German text on it, or on the English one, is still German."""
    nantes = segment(lines("Ville : Nantes", "Titre : Fête des voisins interculturelle",
                           "Principal objectif : que les familles se rencontrent", "Période de mise en œuvre : 2023",
                           "Description de la bonne pratique", "But : que les familles se rencontrent en ville.",
                           "Processus : repas en mairie, en juin.", "Impact : 300 personnes en 2023.")).practices[0]
    assert nantes.lang == "fr" and not [w for w in nantes.warnings if w.startswith("other_language")]
    short = segment(lines("Ville : Nantes", "Titre : Repas", "But : des repas.", "Processus : on fait des repas.",
                          "Impact : ça marche bien.")).practices[0]
    assert short.lang == "fr"
    assert detect_language("que se en des repas en juin") == "fr", "a tie goes to the template's languages"
    german = ("Die Stadt hat mit den Vereinen und den Schulen ein Programm für die Familien aufgebaut, das seit drei "
              "Jahren läuft und von der Verwaltung getragen wird.")
    for label in ("But", "Purpose"):
        assert segment(lines("Ville : Berlin", f"{label} : {german}")).practices[0].lang == "de", label
    assert detect_language(german, labels="fr") == "de" and detect_language("Lyon", labels="fr") == "fr"
    # short Spanish and Italian texts on the French template stay Spanish and Italian
    spanish = "que las familias se encuentren en la ciudad y compartan una comida. una comida en el ayuntamiento, en junio."
    italian = ("Le famiglie appena arrivate incontrano i vicini a una cena mensile nel quartiere. I volontari cucinano "
               "con le famiglie; il comune mette a disposizione la sala.")
    assert detect_language(spanish, labels="fr") == "es" and detect_language(italian, labels="fr") == "it"
    assert detect_language("Más de 200 familias participaron con sus vecinos en el barrio.") == "es"


def test_a_practice_in_a_language_the_models_do_not_read_is_warned_about():
    german = ("Die Stadt hat mit den Vereinen und den Schulen ein Programm für die Familien aufgebaut, das seit drei "
              "Jahren läuft und von der Verwaltung und den Bürgern getragen wird.")
    form = segment(lines("City: Berlin", "Title: Nachbarschaftshilfe", f"Purpose: {german}")).practices[0]
    prose = segment(lines("Nachbarschaftshilfe in Berlin", german, german)).practices[0]
    for practice in (form, prose):
        assert practice.lang == "de" and "other_language:de" in practice.warnings
    english = segment(lines("City: Leeds", "Title: Conversation workshops", f"Purpose: {DESCRIPTION_EN}")).practices[0]
    assert not any(w.startswith("other_language") for w in english.warnings)


@pytest.mark.parametrize("lang, labels, text", [
    ("de", ("Stadt", "Abteilung", "Datum", "Kontaktperson", "Titel", "Hauptaktionsbereich", "Hauptziel",
            "Umsetzungszeitraum", "Zweck", "Ausgangspunkt", "Prozess", "Wirkung", "Referenzdokumente"),
     "Die Stadt hat mit den Vereinen und den Schulen ein Programm für die Familien aufgebaut, das seit drei Jahren "
     "läuft und von der Verwaltung getragen wird."),
    ("es", ("Ciudad", "Departamento", "Fecha del formulario", "Persona de contacto", "Título",
            "Ámbito principal de actuación", "Objetivo principal", "Periodo de ejecución", "Finalidad",
            "Punto de partida", "Proceso", "Impacto", "Documentos de referencia"),
     "En el barrio conviven vecinos de más de sesenta nacionalidades, pero apenas se conocen y no comparten "
     "ningún espacio común."),
    ("it", ("Città", "Dipartimento", "Data del modulo", "Persona di contatto", "Titolo",
            "Area principale di intervento", "Obiettivo principale", "Periodo di attuazione", "Obiettivo",
            "Contesto", "Processo", "Impatto", "Documenti di riferimento"),
     "Le famiglie appena arrivate incontrano i vicini a una cena mensile nel quartiere; i volontari cucinano con "
     "le famiglie e il comune mette a disposizione la sala."),
    ("pt", ("Cidade", "Departamento", "Data do formulário", "Pessoa de contacto", "Título",
            "Domínio de ação principal", "Objetivo principal", "Período de implementação", "Objetivo",
            "Contexto", "Processo", "Impacto", "Principais documentos de referência"),
     "A cidade criou hortas comunitárias nos bairros com mais de quarenta nacionalidades; as famílias participam "
     "nas assembleias e o projeto não parou desde 2021."),
])
def test_a_form_whose_labels_a_city_translated_is_read_field_by_field(lang, labels, text):
    """A city may fill in the template with its labels in its own language: read as the template, not as a form
    without text (the English headings of the template left above them made it one)."""
    values = ("Mannheim", "Integration", "03.07.2024", "Jonas Keller", "Sprachpaten", "11. Langue; 5. Éducation",
              "Neue Nachbarn üben die Sprache", "2023-2024", text, text, text, text, "Jahresbericht 2023")
    practice = segment(lines("Contact details", *(f"{label} : {value}" for label, value in zip(labels, values)),
                             )).practices
    (practice,) = practice
    assert (practice.city, practice.department, practice.form_date, practice.contact_person, practice.title) == \
        values[:5]
    assert practice.declared_areas == ["11", "5"] and (practice.period_start, practice.period_end) == (2023, 2024)
    assert [getattr(practice, name) for name in ("purpose", "starting_point", "process", "impact")] == [text] * 4
    assert practice.references == "Jahresbericht 2023"
    assert practice.lang == lang and f"other_language:{lang}" in practice.warnings


def test_docx_content_controls_text_boxes_merged_and_nested_cells(tmp_path):
    body = (
        p("Coordonnées", "Heading2")
        + table(
            row(cell(p("Ville :")), cell(sdt(p("Strasbourg")))),
            row(cell(p("Département :")), cell(sdt(p("Cliquez ici"), placeholder=True))),
            row(cell(p("Titre :")), cell(p("Jardins partagés"), extra='<w:vMerge w:val="restart"/>')),
            row(cell(p("Note")), cell(p("Jardins partagés"), extra="<w:vMerge/>")),
            row(cell(p("Période :")), cell(table(row(cell(p("2021-2022")))))),
        )
        + '<w:p><w:r><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml"><v:textbox><w:txbxContent>'
        + p("Personne de contact : Anne Roth")
        + "</w:txbxContent></v:textbox></v:shape></w:pict></w:r></w:p>"
        + p("Description de la bonne pratique", "Heading2")
        + p(f"But : {DESCRIPTION_FR}")
    )
    path = write_docx(tmp_path / "form.docx", body)
    blocks = read_blocks(path)
    texts = [b.text for b in blocks]
    assert texts.count("Jardins partagés") == 1, "a vertically merged cell is read once"
    assert "Cliquez ici" not in texts, "a content control showing its placeholder has no value"
    (practice,) = segment(blocks, "form.docx", "a" * 64).practices
    assert practice.city == "Strasbourg"
    assert practice.department is None
    assert practice.title == "Jardins partagés"
    assert (practice.period_start, practice.period_end) == (2021, 2022)
    assert practice.contact_person == "Anne Roth"
    assert practice.purpose.startswith("La ville a ouvert")


def test_instruction_under_a_label_is_not_the_value():
    blocks = [
        Block("City:\n(name of your city)", "cell", 0, 1, 0, 0), Block("Erlangen", "cell", 1, 1, 0, 1),
        Block("Title", "cell", 2, 1, 1, 0), Block("Welcome walks", "cell", 3, 1, 1, 1),
        Block(f"Purpose: {DESCRIPTION_EN}", "paragraph", 4),
    ]
    (practice,) = segment(blocks).practices
    assert practice.city == "Erlangen"


def test_numbered_practice_headings_do_not_leak_into_sections():
    result = segment(lines("Good practice 1", "Title: One", f"Impact: {DESCRIPTION_EN}", "Good practice 2", "Title: Two",
                           f"Impact: {DESCRIPTION_EN}"))
    assert [p.impact for p in result.practices] == [DESCRIPTION_EN, DESCRIPTION_EN]


def test_report_without_header_fields_takes_its_heading_as_title():
    blocks = [Block("Mobile library for newcomers", "heading", 0), Block("Background", "heading", 1),
              Block(DESCRIPTION_EN, "paragraph", 2), Block("Activities", "heading", 3), Block(DESCRIPTION_EN, "paragraph", 4),
              Block("Results", "heading", 5), Block("About 300 visitors a month.", "paragraph", 6)]
    (practice,) = segment(blocks).practices
    assert practice.title == "Mobile library for newcomers"
    assert "title_from_heading" in practice.warnings
    assert practice.starting_point == DESCRIPTION_EN and practice.process == DESCRIPTION_EN
    assert practice.impact == "About 300 visitors a month."


def test_checklist_of_areas_keeps_only_ticked_items():
    taxonomy = load_taxonomy()
    assert taxonomy.parse_declared("☐ Leadership ☒ Education ☐ Public space ☒ Language") == ["5", "11"]
    assert taxonomy.parse_declared("[x] Interaction [ ] Education") == ["16"]


def test_area_checklist_over_several_paragraphs():
    (practice,) = segment(lines("City: Oslo", "Title: Homework cafés", "Main area of action:", "☐ Leadership",
                                "☒ Education", "☒ Language", f"Purpose: {DESCRIPTION_EN}")).practices
    assert practice.declared_areas == ["5", "11"]
    assert practice.description == DESCRIPTION_EN


def test_pdf_table_rows_without_colons(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    with pdf.table(col_widths=(50, 110)) as grid:
        for label, value in [("City", "Bergen"), ("Main area of action", "Education"), ("Title", "Homework cafes in libraries")]:
            cells = grid.row()
            cells.cell(label)
            cells.cell(value)
    pdf.multi_cell(0, 5, "Purpose: " + DESCRIPTION_EN)
    path = tmp_path / "form.pdf"
    pdf.output(str(path))
    (practice,) = segment(read_blocks(path)).practices
    assert (practice.city, practice.title, practice.declared_areas) == ("Bergen", "Homework cafes in libraries", ["5"])
    assert practice.purpose.startswith("The city opened")


def test_pdf_running_header_footer_and_page_numbers_are_left_out(tmp_path):
    from fpdf import FPDF

    class Form(FPDF):
        def header(self):
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, "City of Bergen - Intercultural Cities good practice form")
            self.ln(8)

        def footer(self):
            self.set_y(-12)
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, f"Page {self.page_no()} of {{nb}}")

    pdf = Form()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for text in ("City: Bergen\nTitle: Homework cafes in libraries\nPeriod of implementation:\n2022",
                 "Purpose: " + " ".join([DESCRIPTION_EN] * 18), "Impact: " + " ".join([DESCRIPTION_EN] * 18)):
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    assert pdf.page_no() >= 2
    path = tmp_path / "form.pdf"
    pdf.output(str(path))
    (practice,) = segment(read_blocks(path)).practices
    assert practice.city == "Bergen" and practice.period_text == "2022"
    assert "Intercultural Cities good practice form" not in practice.description
    assert not re.search(r"Page \d", practice.description)
    assert practice.purpose.count(DESCRIPTION_EN.split(".")[0]) == 18


def test_pdf_sentence_starting_with_a_label_word_stays_in_its_section():
    blocks = [Block(t, "line", i) for i, t in enumerate([
        "City Lyon", "Title Family cafés", "Contact Marie Dupont", f"Purpose: {DESCRIPTION_EN}",
        "Contact with families was made through schools.", "City services helped."])]
    (practice,) = segment(blocks).practices
    assert practice.contact_person == "Marie Dupont"
    assert practice.purpose.endswith("City services helped.")


def test_sections_strung_together_in_one_paragraph():
    text = ("Purpose: To show there is more to a person than a first impression. Stimulus/Rationale: Process: "
            "Volunteers tell their stories in the library. Impact: 1,200 readers met 80 volunteers.")
    (practice,) = segment(lines("City: Leeds", "Title: Living library", text)).practices
    assert practice.purpose == "To show there is more to a person than a first impression."
    assert practice.starting_point is None
    assert practice.process == "Volunteers tell their stories in the library."
    assert practice.impact == "1,200 readers met 80 volunteers."


def test_lower_case_label_words_inside_a_sentence_do_not_split_it():
    text = f"Purpose: {DESCRIPTION_EN} The process: slow but steady. Results: see annex."
    (practice,) = segment(lines("City: Leeds", "Title: Living library", text)).practices
    assert "The process: slow but steady." in practice.purpose
    assert practice.impact == "see annex."


def _hard_wrapped_form(width: int) -> str:
    import textwrap

    first = ("Les cours de langue ont lieu deux soirs par semaine dans les écoles du quartier, pour que les parents "
             "deviennent autonomes avec l'école et avec les services de la ville.")
    second = "Les éducatrices formées accueillent chaque groupe de douze parents pendant que les enfants sont gardés."
    wrap = (lambda t: textwrap.fill(t, width)) if width else (lambda t: t)
    return "\n\n".join(["Ville : Tbilissi", "Titre : Cours pour les parents", "Principal domaine d'action",
                          "éducation", "Description de la bonne pratique", "But :", wrap(first), wrap(second),
                          "Processus :", wrap(first.replace("ville.", "City.")), wrap(second)])


@pytest.mark.parametrize("width", [42, 82])
def test_hard_wrapped_text_form_reads_like_the_same_form_unwrapped(tmp_path, width):
    """A plain-text form wrapped at a fixed width (a pasted e-mail) keeps one practice and its sections whole,
    though a line holds only the end of a sentence ("ville.", "City.")."""
    assert {"ville.", "City."} <= set(_hard_wrapped_form(width).splitlines())
    read = {}
    for name, w in (("plain", 0), ("wrapped", width)):
        path = tmp_path / f"{name}.txt"
        path.write_text(_hard_wrapped_form(w), encoding="utf-8")
        read[name] = segment(read_blocks(path)).practices
    (plain,), (wrapped,) = read["plain"], read["wrapped"]
    for name in ("city", "title", "declared_area_text", "purpose"):
        assert getattr(wrapped, name) == getattr(plain, name), name  # each paragraph on one line again
    # "City." starts in upper case, so it is not joined to its sentence, but it stays in the process
    assert wrapped.process.split() == plain.process.split()
    assert plain.declared_area_text == "éducation"  # a label line is never joined to its value


def test_hard_wrapped_lines_go_on_whatever_their_case_but_labels_and_items_keep_theirs(tmp_path):
    text = """City: Bilbao
Title: Roma mediators in the primary schools of three districts of the
2019-2023 school years
Purpose: a study carried out for the City in 2012 found that a third of
Roma pupils in the primary schools of Otxarkoaga, Txurdinaga and
Bilbao La Vieja missed more than a quarter of school days; the local
self-
government bodies asked the schools for a plan with three steps:
- recruit two mediators from the community for each of the schools;
- meet every family at home before the school year starts again;
Process: the mediators visit the families of pupils who missed a week,
with the teachers, and report to the school board once in each term.
"""
    path = tmp_path / "wrapped.txt"
    path.write_text(text, encoding="utf-8")
    (practice,) = segment(read_blocks(path)).practices
    assert practice.title == "Roma mediators in the primary schools of three districts of the 2019-2023 school years"
    assert "Txurdinaga and Bilbao La Vieja missed" in practice.purpose
    assert "local self-government bodies" in practice.purpose
    assert "three steps:\n- recruit" in practice.purpose and "schools;\n- meet" in practice.purpose
    assert practice.process.startswith("the mediators visit") and practice.process.endswith("once in each term.")


def test_period_that_becomes_permanent_has_no_end():
    period = parse_period("2019-2023 (pilot), permanent from 2024")
    assert (period.start, period.end, period.ongoing) == (2019, None, True)


@pytest.mark.parametrize("text", ["mars 2022 – décembre 2024, avec une prolongation prévue jusqu'en 2026",
                                  "2022-2024, extension planned until 2026"])
def test_a_planned_extension_is_not_the_end_of_the_period(text):
    period = parse_period(text)
    assert (period.start, period.end, period.ongoing) == (2022, 2024, False)
    # a plan alone is still the form's only year
    assert parse_period("Planned for 2025").start == 2025


def test_a_misspelt_first_label_in_a_table_keeps_the_value_beside_it():
    result = segment(table_then_text([("Vile :", "Neuchâtel"), ("Titre :", "Balades")], DESCRIPTION_FR))
    (practice,) = result.practices
    assert (practice.city, practice.title) == ("Neuchâtel", "Balades")


def test_every_blank_header_field_is_flagged():
    # A form that fills the city, the title and the period but leaves the rest of the header blank: each blank
    # field is named, so a city checking its form sees what to fill in.
    header = [("Ville :", "Lyon"), ("Service :", ""), ("Date du formulaire :", ""), ("Personne de contact :", ""),
              ("Titre :", "Ateliers de conversation"), ("Principal domaine d'action :", "Éducation"),
              ("Principal objectif :", ""), ("Période de mise en œuvre :", "2021-2023")]
    (practice,) = segment(table_then_text(header, DESCRIPTION_FR), "f.docx", "sha").practices
    missing = {w.split(":", 1)[1] for w in practice.warnings if w.startswith("missing:")}
    assert missing == {"department", "form_date", "contact_person", "main_objective"}
    given = {"Service :": "Service jeunesse", "Date du formulaire :": "12/03/2024",
             "Personne de contact :": "Marie Dupont", "Principal objectif :": "Rompre l'isolement des parents"}
    filled = [(label, value or given[label]) for label, value in header]
    (practice,) = segment(table_then_text(filled, DESCRIPTION_FR), "f.docx", "sha").practices
    assert not [w for w in practice.warnings if w.startswith("missing:")]


def test_prose_under_no_label_beside_labelled_parts_is_named_instead_of_each_part_missing():
    prose = " ".join([DESCRIPTION_EN] * 4)
    result = segment(lines("City:", "Mons", "Title:", "Neighbours cooking together", "Description", prose,
                           "References: Recipe book (2023)."))
    (practice,) = result.practices
    assert practice.references == "Recipe book (2023)."
    n = len(prose.split())
    assert f"unlabelled_text:{n}" in practice.warnings
    assert not any(w.startswith("missing_section:") for w in practice.warnings)
    # a short line under no label is no reason to doubt the parts: each missing one is still named
    short = segment(lines("City:", "Mons", "Title:", "Cooking", "Description", "In short.", f"Purpose: {DESCRIPTION_EN}"))
    assert "missing_section:impact" in short.practices[0].warnings
    # an introduction before every part, all labelled, is no reason for a warning
    parts = [f"{label}: {DESCRIPTION_EN}" for label in ("Purpose", "Stimulus/Rationale", "Process", "Impact")]
    complete = segment(lines("City:", "Mons", "Title:", "Cooking", "Description", prose, *parts))
    assert not any(w.startswith(("unlabelled_text", "missing_section:impact")) for w in complete.practices[0].warnings)


def test_a_form_filled_with_a_few_words_is_in_the_language_of_its_labels():
    # three words of value say nothing of the language; the template's labels do
    french = segment(lines("Ville :", "Lyon", "Titre :", "Un petit projet", "But :", "aider les gens."))
    english = segment(lines("City:", "Leeds", "Title:", "A small project", "Purpose:", "help people."))
    assert [p.lang for p in french.practices] == ["fr"]
    assert [p.lang for p in english.practices] == ["en"]
    # labels found in both lists ("Impact") decide nothing, and a written text still decides over the labels
    neutral = segment(lines("Impact:", "Lyon Leeds"))
    assert [p.lang for p in neutral.practices] == ["und"]
    written = segment(lines("Ville :", "Leeds", "Titre :", "Night buses",
                            "But :", "The buses run all night for the workers of the hospital and their families."))
    assert [p.lang for p in written.practices] == ["en"]


FORM_WITHOUT_CONTACT_FR = ["Titre : Cafés bilingues", "Principal domaine d'action : Langue",
                           "Principal objectif : faire pratiquer le français", "Période de mise en œuvre : 2022-2024",
                           "Description de la bonne pratique", f"But : {DESCRIPTION_FR}", "Impact : 48 rencontres."]
CONTACT_FR = ["Ville : Nancy", "Département : Cohésion sociale", "Date du formulaire : 20/03/2024",
              "Personne de contact : Luc Petit"]


@pytest.mark.parametrize("heading", ["Coordonnées", "Contact", None])
def test_header_fields_after_the_description_are_read_under_any_heading(heading):
    result = segment(lines(*FORM_WITHOUT_CONTACT_FR, *([heading] if heading else []), *CONTACT_FR))
    (practice,) = result.practices
    assert (practice.city, practice.department, practice.form_date, practice.contact_person) == (
        "Nancy", "Cohésion sociale", "20/03/2024", "Luc Petit")
    assert practice.impact == "48 rencontres."
    assert not [w for w in practice.warnings if w.startswith("missing:")]
    assert result.n_empty_forms == 0


def test_contact_details_after_the_description_of_an_english_word_form_are_read(tmp_path):
    def rows(*pairs):
        return table(*(row(cell(p(label)), cell(p(value))) for label, value in pairs))

    body = (p("Good practice", "Heading2") + rows(("Title", "Language cafés"), ("Main objective", "Speak with neighbours"))
            + p("Description of the good practice", "Heading2") + p(f"Purpose: {DESCRIPTION_EN}") + p("Impact: 48 meetings.")
            + p("Contact details", "Heading2") + rows(("City", "Nancy"), ("Contact person", "Luc Petit")))
    (practice,) = segment(read_blocks(write_docx(tmp_path / "form.docx", body))).practices
    assert (practice.title, practice.city, practice.contact_person) == ("Language cafés", "Nancy", "Luc Petit")
    assert practice.impact == "48 meetings."


def test_a_later_block_giving_another_value_of_a_field_is_named_not_dropped_unseen():
    from pipeline.cli import warning_text

    (practice,) = segment(lines("Ville : Metz", *FORM_WITHOUT_CONTACT_FR, "Coordonnées", *CONTACT_FR)).practices
    assert (practice.city, practice.department, practice.contact_person) == ("Metz", "Cohésion sociale", "Luc Petit")
    assert practice.warnings.count("other_value:city") == 1
    assert "Ville : une autre valeur figure plus loin" in warning_text("other_value:city", "fr")
    assert "City is given again further on" in warning_text("other_value:city", "en")
    # the same value given twice is no conflict
    (same,) = segment(lines("Ville : Nancy", *FORM_WITHOUT_CONTACT_FR, "Coordonnées", *CONTACT_FR)).practices
    assert not [w for w in same.warnings if w.startswith("other_value")]


@pytest.mark.parametrize("label", ["Références / liens", "Références et liens", "Liens", "Références clés", "Key references"])
def test_references_under_a_variant_of_their_label_are_not_read_as_impact(label):
    form = ["Ville : Nancy", "Titre : Cafés bilingues", "Description de la bonne pratique", f"But : {DESCRIPTION_FR}",
            "Impact : 48 rencontres."]
    for layout in ([f"{label} : https://www.nancy.fr/cafes"], [f"{label} :", "https://www.nancy.fr/cafes"]):
        (practice,) = segment(lines(*form, *layout)).practices
        assert (practice.impact, practice.references) == ("48 rencontres.", "https://www.nancy.fr/cafes")
        assert "missing_section:references" not in practice.warnings
    # strung after the impact in one paragraph
    (practice,) = segment(lines(*form[:-1], f"Impact : 48 rencontres. {label} : https://www.nancy.fr/cafes")).practices
    assert (practice.impact, practice.references) == ("48 rencontres.", "https://www.nancy.fr/cafes")


@pytest.mark.parametrize("label", ["Objectif(s)", "Objectifs", "Objective"])
def test_an_objective_row_of_the_header_table_is_the_main_objective(label):
    # the template's header table has « Principal objectif », its description « But »
    header = [("Titre :", "Parents à l'école"), (label, "Renforcer le lien entre les familles et l'école"),
              ("Période de mise en œuvre :", "2021-2023")]
    (practice,) = segment(table_then_text(header, f"But : {DESCRIPTION_FR}")).practices
    assert practice.main_objective == "Renforcer le lien entre les familles et l'école"
    assert practice.purpose == DESCRIPTION_FR
    assert "missing:main_objective" not in practice.warnings
    # beside a main objective row, before or after it, the row is the purpose
    for rows in ([header[0], ("Principal objectif :", "Réussite scolaire"), header[1]],
                 [header[0], header[1], ("Principal objectif :", "Réussite scolaire")]):
        (practice,) = segment(table_then_text(rows, f"Processus : {DESCRIPTION_FR}")).practices
        assert practice.main_objective == "Réussite scolaire"
        assert practice.purpose == "Renforcer le lien entre les familles et l'école"
    # in the description, in a table or not, it is the purpose
    described = [header[0], ("Description de la bonne pratique", ""), header[1]]
    (practice,) = segment(table_then_text(described, f"Processus : {DESCRIPTION_FR}")).practices
    assert (practice.main_objective, practice.purpose) == (None, "Renforcer le lien entre les familles et l'école")


def test_the_greeting_and_signature_of_a_form_pasted_into_an_e_mail_are_left_out():
    mail = segment(lines("Bonjour,", "Ville : Lyon", "Titre : Ambassadeurs de la langue",
                         "But : Des habitants bilingues accompagnent les nouveaux arrivants dans leurs démarches.",
                         "Impact : 600 personnes accompagnées en 2023.", "Cordialement,", "Sophie Martin",
                         "Mission égalité – Ville de Lyon")).practices[0]
    assert "Bonjour" not in mail.description and "Cordialement" not in mail.description
    assert "Sophie Martin" not in (mail.impact or "") and mail.impact == "600 personnes accompagnées en 2023."
    english = segment(lines("Dear colleagues,", "City: Leeds", "Title: Homes for all",
                            "Purpose: Tenants meet their neighbours.", "Best regards, Jane Doe", "Housing team"))
    assert english.practices[0].purpose == "Tenants meet their neighbours." and english.practices[0].city == "Leeds"
    # a sentence that starts like a formula stays
    kept = segment(lines("City: Leeds", "Title: Homes for all", "Purpose: Tenants meet their neighbours.",
                         "Impact: 80 families now help each other.", "Sincerely engaged tenants run it themselves.",
                         "Hello Neighbour, the tenants' paper, tells it.")).practices[0]
    assert kept.impact.endswith("Sincerely engaged tenants run it themselves.\nHello Neighbour, the tenants' paper, tells it.")
    # a title that starts like a greeting, and references that start like a closing, stay
    titled = segment([Block("Hello Neighbour!", "heading", 0), Block("City: Leeds", "paragraph", 1),
                      Block("Purpose: Tenants meet their neighbours.", "paragraph", 2)]).practices[0]
    assert titled.title == "Hello Neighbour!"
    crossed = segment(lines("Ville : Lyon", "Titre : Repas", "But : Des voisins se retrouvent chaque mois.",
                            "Références :", "Regards croisés, catalogue 2023", "https://lyon.example/regards")).practices[0]
    assert crossed.references == "Regards croisés, catalogue 2023\nhttps://lyon.example/regards"


def test_the_line_that_sends_a_form_by_e_mail_is_not_part_of_it():
    sent = segment(lines("Bonjour,", "Voici notre bonne pratique pour le réseau des Cités interculturelles.",
                         "Ville : Lyon", "Titre : Ambassadeurs de la langue",
                         "But : Des habitants bilingues accompagnent les nouveaux arrivants.", "Cordialement,",
                         "Sophie Martin")).practices[0]
    assert sent.description == "Des habitants bilingues accompagnent les nouveaux arrivants."
    body = ["Tenants meet their neighbours",
            "Every month, tenants of the Hyde Park estate cook a meal together in the community room. Newcomers are "
            "invited by the caretaker and by their neighbours, who speak eleven languages between them.",
            "Over two years, 300 people took part and 40 newcomers joined the tenants' committee."]
    # with no template label, the title is the practice's, not the e-mail's
    (plain,) = segment(lines("Dear colleagues,", "Please find below our good practice for the network.", *body,
                             "Best regards,", "Jane Doe")).practices
    assert plain.title == "Tenants meet their neighbours" and "Please find" not in (plain.description or "")
    # a first sentence that starts like it, in a text that does not greet, is the practice's
    (kept,) = segment(lines("Here is how tenants of Hyde Park welcome newcomers.", *body[1:])).practices
    assert "Here is how tenants" in (kept.title or "") + (kept.description or "")


@pytest.mark.parametrize("closing", ["Bonne journée,", "Belle journée,", "Merci d'avance et bonne journée,",
                                     "Avec mes meilleures salutations,", "Thanks in advance,", "Cheers,"])
def test_a_closing_of_the_day_and_the_courtesy_line_before_it_are_left_out_with_the_signature(closing):
    (mail,) = segment(lines("Bonjour,", "Ville : Lyon", "Titre : Mémoire des quartiers",
                            "But : Des habitants racontent l'histoire de leur quartier.",
                            "Impact : 96 récits enregistrés en trois ans.",
                            "N'hésitez pas à revenir vers moi pour toute question.", closing, "Sophie Garnier",
                            "Chargée de mission", "Ville de Lyon", "04 72 10 30 30")).practices
    assert mail.impact == "96 récits enregistrés en trois ans."
    # a signature line with two telephone numbers is still a signature's line, and "Let me know…" a courtesy
    (phones,) = segment(lines("Dear colleagues,", "City: Tampere", "Title: Welcome walks",
                              "Purpose: Newcomers walk the city with residents.",
                              "References: Welcome walks report 2023.", "Let me know if anything is unclear.",
                              closing, "Mikko Virtanen", "Tel. +358 40 123 4567 | Mob. +358 50 765 4321")).practices
    assert phones.references == "Welcome walks report 2023."
    # a confidentiality notice under the signature goes with it
    (notice,) = segment(lines("City: Tampere", "Title: Welcome walks", "Purpose: Newcomers walk the city with residents.",
                              "References: Welcome walks report 2023.", closing, "Mikko Virtanen", "Tel. +358 40 123 4567",
                              "This e-mail and any attachments are confidential and meant for the person it is sent "
                              "to. If you received it by mistake, tell the sender and delete it.")).practices
    assert notice.references == "Welcome walks report 2023."
    # a sentence of the practice that starts like a courtesy, with no closing after it, stays
    (kept,) = segment(lines("City: Leeds", "Title: Homes for all", "Purpose: Tenants meet their neighbours.",
                            "Impact: Feel free to visit: 80 families now help each other.")).practices
    assert kept.impact == "Feel free to visit: 80 families now help each other."


def test_a_contact_block_closing_a_file_of_two_practices_fills_both():
    """« Coordonnées » after the last of two practices gives both their city and contact, as it does at the top."""
    practices = segment(lines(
        "Bonne pratique", "Titre : Les repas des voisins", "But : Des familles rencontrent leurs voisins.",
        "Bonne pratique", "Titre : Le café des langues", "But : Des habitants pratiquent le français ensemble.",
        "Coordonnées", "Ville : Lyon", "Personne de contact : Sophie Martin")).practices
    assert [(p.title, p.city, p.contact_person) for p in practices] == [
        ("Les repas des voisins", "Lyon", "Sophie Martin"), ("Le café des langues", "Lyon", "Sophie Martin")]
    # a practice that gives its own city keeps it
    own = segment(lines(
        "Bonne pratique", "Ville : Nancy", "Titre : Les repas des voisins", "But : Des familles se rencontrent.",
        "Bonne pratique", "Titre : Le café des langues", "But : Des habitants pratiquent le français.",
        "Coordonnées", "Ville : Lyon")).practices
    assert [p.city for p in own] == ["Nancy", "Lyon"]


def test_a_budget_row_named_like_a_part_does_not_open_that_part(tmp_path):
    """"Evaluation | 0 | 4,000" in a budget table is a cost, not the impact part, as are "Impact | —" among budget
    lines and a funder "City" (not a second form's city); a header row whose value is a date or a year stays a
    field."""
    budget = table(row(cell(p("Item")), cell(p("2022 (EUR)")), cell(p("2023 (EUR)"))),
                   row(cell(p("Coordinator")), cell(p("24,000")), cell(p("25,000"))),
                   row(cell(p("Evaluation")), cell(p("0")), cell(p("4,000"))),
                   row(cell(p("Results")), cell(p("1 500 €"))),
                   row(cell(p("Impact")), cell(p("—")), cell(p("2 000 €"))),
                   row(cell(p("Outcomes")), cell(p("N/A")), cell(p("500"))),
                   row(cell(p("Evaluation")), cell(p("3,000")), cell(p("Cork University (in kind)"))),
                   row(cell(p("Interpreters")), cell(p("2,000")), cell(p("City"))),
                   row(cell(p("Impact")), cell(p("—")), cell(p("—"))),
                   row(cell(p("Total")), cell(p("24,000")), cell(p("29,000"))))
    body = (table(row(cell(p("City:")), cell(p("Limerick"))), row(cell(p("Date of the form:")), cell(p("20/02/2024"))),
                  row(cell(p("Implementation period:")), cell(p("2022")))) +
            p("Purpose: Volunteers accompany newly arrived families in their first months.") +
            p("Process: We trained 35 volunteers. The budget was as follows:") + budget +
            p("The Council funded the project.") +
            table(row(cell(p("Item")), cell(p("Amount"))), row(cell(p("Coordination")), cell(p("12,000"))),
                  row(cell(p("Evaluation")), cell(p("3,000"))), row(cell(p("Impact")), cell(p("—"))),
                  row(cell(p("Total")), cell(p("15,000")))) +
            p("Impact: 212 families were accompanied over two years."))
    (practice,) = segment(read_blocks(write_docx(tmp_path / "form.docx", body))).practices
    assert practice.impact == "212 families were accompanied over two years."
    assert "Evaluation" in practice.process and "The Council funded the project." in practice.process
    assert (practice.form_date, practice.period_text) == ("20/02/2024", "2022")
    assert "Cork University (in kind)" in practice.process and practice.city == "Limerick"
    assert practice.process.endswith("Total\n15,000")  # a two-column budget's "Impact | —" line stays in it


def test_a_budget_row_pasted_as_tab_separated_text_stays_in_its_part(tmp_path):
    """A budget pasted into a text file, one row per line with tabs, is a table as in Word: its "Evaluation" row,
    with a cost and a funder beside it, does not open the impact part; a tab-separated header is still read."""
    text = ("City:\tSwansea\nTitle:\tWelcome walks\n"
            "Process: Volunteers lead walks from the libraries. The budget was:\n"
            "Item\tCost (GBP)\tFunded by\nInterpreters\t6,200\tNation of Sanctuary grant\n"
            "Evaluation\t3,000\tSwansea University (in kind)\nTotal\t15,300\t\n"
            "Impact: 812 people took part in 71 walks.\n")
    path = tmp_path / "form.txt"
    path.write_text(text, encoding="utf-8")
    (practice,) = segment(read_blocks(path)).practices
    assert (practice.city, practice.title) == ("Swansea", "Welcome walks")
    assert practice.impact == "812 people took part in 71 walks."
    assert "Evaluation" in practice.process and "Swansea University (in kind)" in practice.process


def test_a_label_not_of_the_template_is_named_where_a_part_is_missing():
    """"Lead unit:" and "Our approach:" are not template labels: their text is read with the part before them, so
    the form is told which labels were not read, rather than only that a field or part is missing."""
    from pipeline.cli import warning_text

    form = segment(lines("City: Cork", "Title: Conversation cafés", "Lead partner:", "Cork City Libraries",
                         "Purpose: Newcomers practise English with residents.",
                         "Stimulus/Rationale: Many newcomers had no place to speak English outside class.",
                         "Our approach:", "Volunteers host a weekly café in ten branch libraries.",
                         "Impact: 400 people took part in 2023.")).practices[0]
    unknown = [w for w in form.warnings if w.startswith("unknown_label:")]
    assert unknown == ["unknown_label:Lead partner|Our approach"]  # one warning names them all
    assert warning_text(unknown[0], "en").startswith("“Lead partner”, “Our approach” are not labels of the template")
    assert warning_text(unknown[0], "fr").startswith("« Lead partner », « Our approach » ne sont pas des rubriques")
    assert warning_text("unknown_label:Partenaires", "fr").startswith("« Partenaires » n'est pas une rubrique")
    # a form whose header is complete and whose parts go under labels of its own names them
    own = segment(lines("Ville : Neuchâtel", "Département : Cohésion sociale", "Date du formulaire : 3 mars 2024",
                        "Personne de contact : Anne Roth", "Titre : Jardins des Libellules",
                        "Principal domaine d'action : Espace public", "Principal objectif : Cultiver ensemble.",
                        "Période de mise en œuvre : 2023", "Nos constats : Les familles du quartier se croisent peu.",
                        "Notre démarche : Des parcelles sont attribuées à des familles voisines.")).practices[0]
    assert "unknown_label:Nos constats|Notre démarche" in own.warnings
    # a heading of a few words on its own paragraph is named too
    heading = segment(lines("City: Cork", "Title: Conversation cafés", "Purpose: Newcomers practise English.",
                            "Partners", "Cork City Libraries and the Red Cross.",
                            "Impact: 400 people took part in 2023.")).practices[0]
    assert "unknown_label:Partners" in heading.warnings
    # a heading inside a part that is there, in a form with every part, is the city's own: nothing to say
    full = segment(lines("Ville : Lyon", "Département : Cohésion sociale", "Date du formulaire : 3 mars 2024",
                         "Personne de contact : Sophie Martin", "Titre : Cafés des langues",
                         "Principal domaine d'action : Langue", "Principal objectif : Parler français.",
                         "Période de mise en œuvre : 2023", "But : Des habitants pratiquent le français.",
                         "Point de départ : Peu de lieux pour parler.", "Processus : Des bénévoles animent.",
                         "Principales actions :", "Un café par semaine dans dix bibliothèques.",
                         "Impact : 400 participants.", "Principaux documents de référence : https://lyon.example/cafes",
                         )).practices[0]
    assert not [w for w in full.warnings if w.startswith("unknown_label:")]
    # a budget's rows and a sentence ending in a colon are no labels
    prose = segment(lines("City: Cork", "Title: Cafés", "Process: Volunteers host cafés. The cafés run in:",
                          "ten branch libraries and two community centres.")).practices[0]
    assert not [w for w in prose.warnings if w.startswith("unknown_label:")]


def test_a_budget_line_of_a_pdf_does_not_open_the_impact_part():
    """A PDF or a scan gives a budget table's cells as lines: "Evaluation" followed by "3,000" is a budget line,
    not the impact part's label; a references line ending "…renovation," before "2019." still opens its part."""
    def pdf(*texts: str) -> list[Block]:
        return [Block(t, "line", i) for i, t in enumerate(texts)]

    practice, = segment(pdf("City: Swansea", "Title: Welcome walks", "Process: Volunteers lead the walks.",
                            "The budget was:", "Interpreters", "6,200", "Evaluation", "3,000", "Total", "9,200",
                            "Impact: 812 people took part in 71 walks.",
                            "Key reference documents: Decision of the Council on socially sustainable renovation,",
                            "2019.")).practices
    assert practice.impact == "812 people took part in 71 walks."
    assert "Evaluation\n3,000" in practice.process
    assert practice.references and practice.references.startswith("Decision of the Council")


def test_a_budget_line_or_a_timetable_in_a_part_is_no_second_form(tmp_path):
    """« Ville | 18 000 € | Budget communal » in a budget is a cost, not a second form whose city is an amount, and
    « Date | Étape | Personne de contact » heading a timetable in the process part names its columns, not the form's
    date and contact; the form keeps its own, and its impact and references."""
    budget = table(row(cell(p("Poste")), cell(p("Montant")), cell(p("Financeur"))),
                   row(cell(p("Ville")), cell(p("18 000 €")), cell(p("Budget communal"))),
                   row(cell(p("Évaluation")), cell(p("2 000 €")), cell(p("Fondation"))))
    timetable = table(row(cell(p("Date")), cell(p("Étape")), cell(p("Personne de contact"))),
                      row(cell(p("Septembre 2021")), cell(p("Premier atelier")), cell(p("Claire Dumont"))))
    body = (table(row(cell(p("Ville :")), cell(p("Grenoble"))), row(cell(p("Date du formulaire :")), cell(p("14/03/2024"))),
                  row(cell(p("Personne de contact :")), cell(p("Claire Dumont, chargée de mission")))) +
            p("But : Des habitants cuisinent ensemble.") + p("Processus : Le budget est le suivant :") + budget +
            p("Le calendrier a été le suivant :") + timetable + p("Impact : 21 ateliers ont réuni 1 900 personnes.") +
            p("Principaux documents de référence : Bilan 2023."))
    (practice,) = segment(read_blocks(write_docx(tmp_path / "fiche.docx", body))).practices
    assert (practice.city, practice.form_date) == ("Grenoble", "14/03/2024")
    assert practice.contact_person == "Claire Dumont, chargée de mission"
    assert "18 000 €" in practice.process and "Septembre 2021" in practice.process
    assert practice.impact == "21 ateliers ont réuni 1 900 personnes." and practice.references == "Bilan 2023."


def test_a_four_column_timetable_naming_a_period_column_is_no_second_form(tmp_path):
    """« Phase | Période | Responsable | Volume », "Step | Timeline | Lead | Cost" heading a table of steps in the
    process part name its columns: the form keeps one practice, with its impact and references; a header row of
    the template's own labels still pairs with its values."""
    for header, lang in ((("Phase", "Période", "Responsable", "Volume"), "fr"), (("Step", "Timeline", "Lead", "Cost"), "en")):
        steps = table(row(*(cell(p(h)) for h in header)),
                      row(cell(p("Orientation")), cell(p("janvier-février")), cell(p("CCAS")), cell(p("142"))),
                      row(cell(p("Cours collectifs")), cell(p("mars-novembre")), cell(p("Le Relais")), cell(p("8"))))
        labels = (("Ville :", "Période de mise en œuvre :", "But :", "Processus :", "Impact :",
                   "Principaux documents de référence :") if lang == "fr" else
                  ("City:", "Implementation period:", "Purpose:", "Process:", "Impact:", "Key reference documents:"))
        body = (p(f"{labels[0]} Grenoble") + p(f"{labels[1]} 2023") + p(f"{labels[2]} {DESCRIPTION_FR}")
                + p(f"{labels[3]} Le parcours suit quatre phases.") + steps
                + p(f"{labels[4]} 131 personnes sont entrées dans le dispositif.") + p(f"{labels[5]} Bilan 2023."))
        (practice,) = segment(read_blocks(write_docx(tmp_path / f"fiche-{lang}.docx", body))).practices
        assert practice.period_text == "2023" and header[1] in practice.process, lang
        assert practice.impact == "131 personnes sont entrées dans le dispositif." and practice.references == "Bilan 2023."
    # two columns (« Période | Étape »), or two field names side by side (« Titre | Période | … ») once the form has
    # given those fields; a second form's header, labels and values alternating, still opens a second form
    form = ["Ville :", "Lyon", "Titre :", "Cafés", "Période de mise en œuvre :", "2023", "Processus :", "Quatre phases."]
    for header in (("Période", "Étape"), ("Titre", "Période", "Responsable", "Volume")):
        rows = [Block(h, "cell", 10 + k, 5, 0, k) for k, h in enumerate(header)]
        rows += [Block(v, "cell", 20 + k, 5, 1, k) for k, v in enumerate(("mars", "Cours", "CCAS", "8")[:len(header)])]
        blocks = [*lines(*form), *rows, *lines("Impact : 131 personnes sont entrées.")]
        (practice,) = segment(blocks).practices
        assert practice.impact == "131 personnes sont entrées." and header[-1] in practice.process, header
    # a two-column table whose first row alone holds labels (« Titre | Période », « Ville | Partenaire ») names its
    # columns
    for header in (("Titre", "Période"), ("Ville", "Partenaire")):
        rows = [Block(h, "cell", 10 + k, 7, 0, k) for k, h in enumerate(header)]
        rows += [Block(v, "cell", 20 + k, 7, 1, k) for k, v in enumerate(("Cours collectifs", "mars"))]
        (practice,) = segment([*lines(*form), *rows, *lines("Impact : 131 personnes sont entrées.")]).practices
        assert (practice.city, practice.title) == ("Lyon", "Cafés") and "Cours collectifs" in practice.process, header
    second = [Block(v, "cell", 30 + k, 6, 0, k) for k, v in enumerate(("Ville", "Grenoble", "Titre", "Jardins"))]
    assert [p.city for p in segment([*lines(*form), *second, *lines("But : Des jardins.")]).practices] == ["Lyon", "Grenoble"]


def test_a_line_announcing_a_list_is_no_label_of_the_forms_own():
    """"We tracked the following indicators:" and « Le calendrier a été le suivant : » announce what comes next:
    where a part is missing, they are not named as labels the template does not use; "Our approach:" still is."""
    for intro, lang_lines in (("We tracked the following indicators:", ("City: Cork", "Title: Conversation cafés",
                                                                        "Purpose: Newcomers practise English.")),
                              ("Le calendrier a été le suivant :", ("Ville : Lyon", "Titre : Cafés des langues",
                                                                    "But : Des habitants pratiquent le français."))):
        form = segment(lines(*lang_lines, intro, "Mars 2022 : premier atelier.", "Our approach:",
                             "Volunteers host a weekly café.")).practices[0]
        unknown = [w for w in form.warnings if w.startswith("unknown_label:")]
        assert unknown == ["unknown_label:Our approach"], (intro, form.warnings)


def _bergen_example() -> list[str]:
    return ["Ville:", "Bergen", "Département:", "N/A", "Titre :", "Projet de recherche sur le racisme structurel",
            "Principal objectif:", "Susciter le débat par des recherches sur le racisme structurel.",
            f"But : {DESCRIPTION_FR}", "Principaux documents de référence : Structural Racism in Bergen, 2021."]


def test_the_guides_example_left_above_a_filled_form_is_not_the_citys_practice():
    """A city that sends the whole template back (the guide, its Bergen example, then its own form filled in) has one
    practice: the example is left out and a warning says so; the example alone in its file, or above a blank form,
    is read as any form."""
    own = ["Ville:", "Lyon", "Titre :", "Réseau des agents anti-rumeurs", f"But : {DESCRIPTION_FR}"]
    (practice,) = segment(lines("GUIDE ET MODÈLE POUR LA COLLECTE DE BONNES PRATIQUES", *_bergen_example(),
                                "MODÈLE", *own)).practices
    assert (practice.city, practice.title) == ("Lyon", "Réseau des agents anti-rumeurs")
    assert "guide_example" in practice.warnings
    (alone,) = segment(lines(*_bergen_example())).practices
    assert alone.city == "Bergen" and "guide_example" not in alone.warnings
    blank = segment(lines(*_bergen_example(), "MODÈLE", "Ville:", "Titre :", "But :"))
    assert [p.city for p in blank.practices] == ["Bergen"] and blank.n_empty_forms == 1


def test_a_heading_that_names_the_form_is_not_the_practices_title():
    """"Fiche bonne pratique – Cités interculturelles" above a form whose title field is empty names the form: the
    title is reported missing rather than given that heading; a heading naming the practice is still its title."""
    form = ["Ville : Nantes", "Titre :", f"But : {DESCRIPTION_FR}"]
    for heading in ("Fiche bonne pratique – Cités interculturelles", "ICC Good practice form 2024"):
        (practice,) = segment([Block(heading, "heading", 0), *lines(*form)]).practices
        assert practice.title is None and "missing:title" in practice.warnings, heading
    (practice,) = segment([Block("Formation interculturelle de la police municipale", "heading", 0),
                           *lines(*form)]).practices
    assert practice.title == "Formation interculturelle de la police municipale"


def test_the_templates_instructions_left_in_brackets_are_not_read_as_answers():
    """"[Décrivez les besoins…]" above an answer, "(quels résultats ?) :" before it, "(JJ/MM/AAAA)" after a date and
    "[titre court et parlant]" after a title are the template's, not the city's; a bracket of the writer's own in a
    sentence stays."""
    (practice,) = segment(lines(
        "Ville : Liège", "Date du formulaire : 17/01/2024 (JJ/MM/AAAA)",
        "Titre : Parcours « Bienvenue à Liège » [titre court et parlant]",
        "Point de départ", "[Décrivez les besoins, le contexte local et les raisons. Évitez de décrire la ville.]",
        DESCRIPTION_FR, "Impact (quels résultats ?) : Nous avons formé 30 bénévoles (dont 11 anciens apprenants).",
        "Principaux documents de référence (sites web, publications) : Guide « Bienvenue » (8 langues), 2022.",
    )).practices
    assert practice.form_date == "17/01/2024" and practice.title == "Parcours « Bienvenue à Liège »"
    assert practice.starting_point == DESCRIPTION_FR
    assert practice.impact == "Nous avons formé 30 bénévoles (dont 11 anciens apprenants)."
    assert practice.references == "Guide « Bienvenue » (8 langues), 2022."
    (practice,) = segment(lines("City: Oslo", "Title: Walks",
                                "Process: We ran walks (up to 30 people each). (Please ask us for the route.)")).practices
    assert practice.process == "We ran walks (up to 30 people each). (Please ask us for the route.)"
    # the placeholders of a field's cell: who to name, in how many words, which years, a list to choose from
    (practice,) = segment(lines(
        "City: Oslo", "Title: Walks", "Contact person: [name, function, e-mail] Laura Virtanen, coordinator",
        "Main objective: [in one sentence] Every newcomer walks the city with a neighbour.",
        "Implementation period: [start – end] 2021 – ongoing",
        "Principal domaine d'action : [choisissez dans la liste des domaines d'action ci-dessus] 11. Langue",
        f"Process: {DESCRIPTION_EN}")).practices
    assert practice.contact_person == "Laura Virtanen, coordinator" and practice.period_text == "2021 – ongoing"
    assert practice.main_objective == "Every newcomer walks the city with a neighbour."
    assert practice.declared_area_text == "11. Langue" and practice.declared_areas == ["11"]


def test_the_templates_instructions_left_without_brackets_or_italics_are_not_answers():
    """A city that kept the template's request and wrote nothing under it ("Please describe the main results…",
    "Links to websites, publications, videos.") was told its results were stated and its references given; a
    bracketed instruction right after a label's colon was counted as its text."""
    (practice,) = segment(lines(
        "City: Bergamo", "Title: Condominium mediators",
        "Purpose:", "Please describe in a few lines what you wanted to achieve.", DESCRIPTION_EN,
        "Process: Six residents were trained as mediators and meet neighbours every week.",
        "Impact:", "Please describe the main results and achievements of the practice, with figures where possible.",
        "Key reference documents:", "Links to websites, publications, videos.",
    )).practices
    assert practice.purpose == DESCRIPTION_EN and practice.impact is None and practice.references is None
    assert {"template_text:purpose", "template_text:impact", "template_text:references",
            "missing_section:impact"} <= set(practice.warnings)
    assert "template_text:process" not in practice.warnings
    (practice,) = segment(lines(
        "Ville : Verviers", "Titre : Les Tandems du marché",
        "But : [Décrivez en quelques lignes ce que vous cherchiez à obtenir] Sortir les nouveaux habitants de l'isolement.",
        "Processus :", "Décrivez les étapes de la mise en œuvre.", DESCRIPTION_FR,
    )).practices
    assert practice.purpose == "Sortir les nouveaux habitants de l'isolement."
    assert practice.process == DESCRIPTION_FR and "template_text:process" in practice.warnings
    # an answer typed on the instruction's line keeps its words, and the instruction goes
    (practice,) = segment(lines("City: Oslo", "Title: Walks", "Purpose: Please describe in a few lines the aim of "
                                "the practice. We wanted young people to play together every week.")).practices
    assert practice.purpose == "We wanted young people to play together every week."
    assert "template_text:purpose" in practice.warnings
    # a city's own sentences that open like a request stay: an aim, the rules a practice gives its users (they speak
    # of none of the form's matters), a line with a figure or a link, a request further down a part
    own = ["Give migrant women a place to meet and learn.", "Indiquez votre quartier à l'accueil.",
           "Describe the project to newcomers at the first meeting.", "Décrivez votre ville en trois mots !",
           "Describe the results to your neighbours was the name of our closing workshop.",
           "Donnez votre avis sur la pratique du vélo dans votre quartier : c'est ainsi que tout a commencé.",
           "Describe the practice you would like to see: each postcard began so.",
           "Please describe your needs to the 3 mediators.", "Links to websites: www.example.org/tandems",
           "Please describe the results of the practice to the council.", "We met every month."]
    for first in range(len(own) - 2):
        (practice,) = segment(lines("City: Oslo", "Title: Walks", "Purpose:", *own[first:])).practices
        assert practice.purpose == "\n".join(own[first:]), own[first]
        assert not any(w.startswith("template_text") for w in practice.warnings), own[first]
    # the template's request left below the answer goes too
    (practice,) = segment(lines("City: Oslo", "Title: Walks", "Impact:", "1,500 cards were issued.",
                                "Please describe the results and impact of the practice.")).practices
    assert practice.impact == "1,500 cards were issued." and "template_text:impact" in practice.warnings
    # a question in brackets after a sentence's colon is the city's own
    (practice,) = segment(lines("City: Oslo", "Title: Walks", "Purpose: We asked residents one question: (What would "
                                "make this square yours?)")).practices
    assert practice.purpose == "We asked residents one question: (What would make this square yours?)"


def test_an_e_mail_pasted_into_a_part_is_left_out_and_never_takes_the_next_part():
    """Impact pasted from a colleague's e-mail, greeting to signature and notice, with the references after it: the
    signature took the references part away, and the greeting was read as the city's text."""
    figures = "Over two years, 46 sessions welcomed 2,300 visitors."
    notice = "This e-mail and any attachments are confidential and intended solely for the addressee."
    (practice,) = segment(lines(
        "City: Bergen", "Title: Living library", f"Process: {DESCRIPTION_EN}",
        "Impact:", "Hi Ingrid,", "Here are the figures you asked for, for the form.", figures,
        "Let me know if you need more.", "Best regards,", "Kari Nordmann", "Library services", notice,
        "Key reference documents: https://www.bergen.example.no/living-library",
    )).practices
    assert practice.impact == figures and practice.references == "https://www.bergen.example.no/living-library"
    (practice,) = segment(lines(
        "Ville : Rennes", "Titre : Médiation", "Processus :", "Bonjour Claire,", "Comme convenu, voici le texte.",
        DESCRIPTION_FR, "N'hésite pas à revenir vers moi si besoin.", "Bien cordialement,", "Marc Dupont",
        "Tél. 02 99 00 00 00", "Impact : 412 médiations menées.",
    )).practices
    assert practice.process == DESCRIPTION_FR and practice.impact == "412 médiations menées."
    # thanks above a list of partners is no signature, nor a letter a resident wrote, quoted in a part, with the
    # city's sentence after it
    partners = ["Many thanks to:", "City library", "Red Cross Bergen", "Youth club Sentrum"]
    (practice,) = segment(lines("City: Bergen", "Title: Living library", f"Process: {DESCRIPTION_EN}",
                                "Key reference documents:", *partners)).practices
    assert practice.references == "\n".join(partners)
    letter = ["Dear Mayor,", "Thanks to the workshops, I now know every family on my street.", "Best wishes,", "Fatima",
              "Her letter was read at the festival."]
    thanks = ["Merci aux bénévoles !", "Volunteer desk: Tel: 0114 273 4567"]
    (practice,) = segment(lines("City: Sheffield", "Title: Streets", "Process:", DESCRIPTION_EN, *thanks, "Impact:",
                                *letter, "Key reference documents:", "Many thanks to our partners", "Sheffield Libraries",
                                "Tel. 0114 273 0000")).practices
    assert practice.process == "\n".join([DESCRIPTION_EN, *thanks]) and practice.impact == "\n".join(letter)
    assert practice.references == "Many thanks to our partners\nSheffield Libraries\nTel. 0114 273 0000"


def test_a_reply_thread_and_a_signature_without_a_closing_formula_are_left_out():
    """A form pasted into a reply: the signature ('Name | Role | Service', 'Tel: …') and the confidentiality notice
    under it, the earlier message quoted under '-----Original Message-----' or « Le … a écrit : », and lines quoted
    with '>' are not part of the references."""
    form = ["City: Cardiff", "Title: Kick Off Together", f"Process: {DESCRIPTION_EN}",
            "Key reference documents:", "FAW Trust, Kick Off Together one-year report (2023)."]
    tails = [
        ["Gareth Evans | Community Cohesion Coordinator | Cardiff Council", "Tel: 029 2087 0000 | Twitter: @Cohesion",
         "This email and any files transmitted with it are confidential. Cardiff Council welcomes correspondence."],
        ["-----Original Message-----", "From: ICC Secretariat", "Sent: 01 March 2024 09:15",
         "> The description should cover the purpose, the starting point and key references.", "> Best, the team"],
        ["Le 1 mars 2024 à 09:15, Secrétariat ICC <icc@example.int> a écrit :", "Chers collègues, envoyez vos fiches."],
    ]
    for tail in tails:
        (practice,) = segment(lines(*form, *tail)).practices
        assert practice.references == "FAW Trust, Kick Off Together one-year report (2023).", tail[0]
    # the form's own words stay: a sentence that quotes someone, items marked with '>', a reference called
    # confidential, a line before the first label
    own = ["Le 12 mars, le maire a écrit :", "> Step 1: the council recruits coaches.",
           "Confidential report for the council, 2023."]
    (practice,) = segment(lines("> forwarded by the mayor's office", *form, *own)).practices
    assert practice.city == "Cardiff" and practice.references.endswith("\n".join(own))


def test_a_heading_numbering_the_practices_of_a_file_is_not_text_of_the_one_before():
    result = segment(lines("Good practice 1 of 2", "Title: One", f"Impact: {DESCRIPTION_EN}", "Good practice 2 of 2",
                           "Title: Two", f"Impact: {DESCRIPTION_EN}", "Bonne pratique 2 sur 2"))
    assert [p.impact for p in result.practices] == [DESCRIPTION_EN, DESCRIPTION_EN]


def test_a_city_named_in_a_page_header_is_no_label_and_value():
    """"Ville de Sherbrooke" at the top of a PDF's page names the city; read as the label « Ville » and the value
    « de Sherbrooke », it made a second city value that the form's own « Ville : Sherbrooke » was said to contradict."""
    assert match_label("Ville de Sherbrooke", loose=True) is None
    assert match_label("City of Oslo", loose=True) is None
    assert match_label("City Oslo", loose=True).inline == "Oslo"


def test_the_lines_a_printed_web_page_adds_are_not_part_of_the_form():
    form = ["City: Cork", "Title: Unity League", f"Process: {DESCRIPTION_EN}",
            "Key reference documents: Cork Sports Partnership, Unity League Season Report 2023."]
    page = ["Was this page helpful? Yes No", "© Cork City Council 2024 · City Hall, Anglesea Street · Cookies",
            "We use cookies to give you the best experience on our website. Accept all cookies Reject"]
    (practice,) = segment(lines(*form, *page)).practices
    assert practice.references == "Cork Sports Partnership, Unity League Season Report 2023."
    (practice,) = segment(lines(*form, "© Council of Europe 2019, Anti-rumour handbook.")).practices
    assert practice.references.endswith("© Council of Europe 2019, Anti-rumour handbook.")


def test_a_form_without_its_title_takes_it_from_the_file_name_when_the_name_holds_one():
    """The title field left empty, "Formation interculturelle de la police municipale - Nantes 2024.docx" gives the
    title without the city and the year, and says so; a name that only names the form, the city or a version
    ("ICC_bonne-pratique_Fribourg_2024", "StepIn_Malmo_ICC_draft_v3_LP") gives none."""
    form = lines("Ville : Nantes", "Titre :", f"But : {DESCRIPTION_FR}")
    (practice,) = segment(form, "Formation interculturelle de la police municipale - Nantes 2024.docx").practices
    assert practice.title == "Formation interculturelle de la police municipale"
    assert "title_from_file_name" in practice.warnings and "missing:title" not in practice.warnings
    for name in ("ICC_bonne-pratique_Nantes_2024.docx", "StepIn_Nantes_ICC_draft_v3_LP.docx", "scan0001.pdf"):
        (practice,) = segment(form, name).practices
        assert practice.title is None and "missing:title" in practice.warnings, name
    (practice,) = segment(lines("Ville : Nantes", "Titre : Agents d'accueil", f"But : {DESCRIPTION_FR}"),
                          "Formation interculturelle de la police municipale - Nantes 2024.docx").practices
    assert practice.title == "Agents d'accueil"


def test_a_page_header_naming_the_form_is_no_sentence_of_a_part():
    """"Cités interculturelles – bonne pratique" at the top of the next form's page in a merged PDF ended the
    previous form's references; « Bonne pratique » alone still opens a form, and a title with a dash stays."""
    result = segment(lines("Ville : Subotica", "Titre : Roma mediators", f"But : {DESCRIPTION_FR}",
                           "Principaux documents de référence : Local Action Plan 2018-2024.",
                           "Cités interculturelles – bonne pratique", "Coordonnées", "Ville : Marseille",
                           "Titre : Welcome walks – bonne pratique de quartier", f"But : {DESCRIPTION_FR}"))
    assert [p.references for p in result.practices] == ["Local Action Plan 2018-2024.", None]
    assert result.practices[1].title == "Welcome walks – bonne pratique de quartier"


@pytest.mark.parametrize("label, value, title", [
    ("Période de mise en œuvre :", "Durée : 24 mois à partir de février 2023", "Contes en langues"),
    ("Implementation period:", "Duration: 24 months from February 2023", "Story hours"),
])
def test_the_period_label_again_before_its_value_is_a_word_of_the_value(tmp_path, label, value, title):
    """« Période de mise en œuvre : » then « Durée : 24 mois à partir de février 2023 » on the next line: « Durée »
    names the period too, so it read as the field given a second time and opened a second form without a title."""
    city = "Ville :" if label.startswith("P") else "City:"
    name = "Titre :" if label.startswith("P") else "Title:"
    purpose = "But :" if label.startswith("P") else "Purpose:"
    path = tmp_path / "form.txt"
    path.write_text(f"{city} Lausanne\n{name} {title}\n{label}\n{value}\n\n"
                    f"{purpose} Faire entendre des histoires dans toutes les langues des familles du quartier.\n",
                    encoding="utf-8")
    (practice,) = segment(read_blocks(path)).practices
    assert practice.title == title and practice.purpose
    assert (practice.period_start, practice.period_end, practice.ongoing) == (2023, 2025, False)


@pytest.mark.parametrize("period_lines", [
    "Période de mise en œuvre : février 2023\nDurée : 24 mois",
    "Période de mise en œuvre : 2023-2025\nCalendrier : deux phases de douze mois",
    "Implementation period: 2023-2025\nDuration: 24 months",
    "Start date: February 2023\nEnd date: January 2025",
])
def test_a_period_told_in_parts_under_words_of_its_own_is_one_period(tmp_path, period_lines):
    """The period's value, then a line under another word for the period (« Durée : 24 mois », "End date: …"):
    one period of one form, not a second practice without a title."""
    path = tmp_path / "form.txt"
    path.write_text(f"City: Lausanne\nTitle: Story hours\n{period_lines}\n\n"
                    "Purpose: Stories read in every language the families of the district speak.\n", encoding="utf-8")
    (practice,) = segment(read_blocks(path)).practices
    assert practice.title == "Story hours" and practice.purpose
    assert (practice.period_start, practice.period_end, practice.ongoing) == (2023, 2025, False), practice.period_text


@pytest.mark.parametrize("period_lines, text", [
    ("Implementation period:\nStart: February 2023\nEnd: January 2025", "Start: February 2023 ; End: January 2025"),
    ("Implementation period: Start: February 2023\nEnd: January 2025", "Start: February 2023 ; End: January 2025"),
    ("Période de mise en œuvre :\nDébut : février 2023\nFin : janvier 2025", "Début : février 2023 ; Fin : janvier 2025"),
    ("Timeline: Phase 1: Feb 2023 – Jan 2024\nPhase 2: Feb 2024 – Jan 2025",
     "Phase 1: Feb 2023 – Jan 2024 ; Phase 2: Feb 2024 – Jan 2025"),
    ("Implementation period:\n• Start: February 2023\n• End: January 2025", "• Start: February 2023 ; • End: January 2025"),
    ("Implementation period: Phase 1 (pilot): Feb 2023 – Jan 2024\nPhase 2 (extension): Feb 2024 – Jan 2025",
     "Phase 1 (pilot): Feb 2023 – Jan 2024 ; Phase 2 (extension): Feb 2024 – Jan 2025"),
    ("Période de mise en œuvre : 1re phase : février 2023 – janvier 2024\n2e phase : février 2024 – janvier 2025",
     "1re phase : février 2023 – janvier 2024 ; 2e phase : février 2024 – janvier 2025"),
    ("Implementation period:\nLaunch: February 2023\nCompletion: January 2025", "Launch: February 2023 ; Completion: January 2025"),
    ("Implementation period:\nLaunched: February 2023\nCompleted: January 2025",
     "Launched: February 2023 ; Completed: January 2025"),
    ("Implementation period: Pilot phase: Feb 2023 – Jan 2024\nRoll-out phase: Feb 2024 – Jan 2025",
     "Pilot phase: Feb 2023 – Jan 2024 ; Roll-out phase: Feb 2024 – Jan 2025"),
])
def test_a_period_told_in_parts_under_bare_words_is_one_period(tmp_path, period_lines, text):
    """"Start:" and "End:" (« Début : », « Fin : », "Phase 2:") are no labels of the template: the end went to the
    description as an unknown label and the period read 2023-2023."""
    path = tmp_path / "form.txt"
    path.write_text(f"City: Lausanne\nTitle: Story hours\n{period_lines}\n\n"
                    "Purpose: Stories read in every language the families of the district speak.\n", encoding="utf-8")
    (practice,) = segment(read_blocks(path)).practices
    assert practice.period_text == text
    assert (practice.period_start, practice.period_end, practice.ongoing) == (2023, 2025, False)
    assert not [w for w in practice.warnings if w.startswith("unknown_label")]
    assert practice.purpose.startswith("Stories read")


@pytest.mark.parametrize("end", ["End: to be confirmed", "End: n/a", "Fin : non déterminée", "End: -", "Fin : ?"])
def test_an_end_not_known_yet_joins_the_period_without_an_end_year(tmp_path, end):
    path = tmp_path / "form.txt"
    path.write_text(f"City: Lausanne\nTitle: Story hours\nImplementation period:\nStart: February 2023\n{end}\n\n"
                    "Purpose: Stories read in every language the families of the district speak.\n", encoding="utf-8")
    (practice,) = segment(read_blocks(path)).practices
    assert practice.period_text == f"Start: February 2023 ; {end}" and practice.purpose.startswith("Stories")
    assert (practice.period_start, practice.period_end, practice.ongoing) == (2023, None, False)


@pytest.mark.parametrize("rows, text", [
    ([("Implementation period", "February 2023"), ("End", "January 2025")], "February 2023 ; End: January 2025"),
    ([("Implementation period", ""), ("Start", "February 2023"), ("End", "January 2025")],
     "Start: February 2023 ; End: January 2025"),
    ([("Période de mise en œuvre", "2023"), ("Fin", "2025")], "2023 ; Fin: 2025"),
])
def test_a_period_told_in_table_rows_under_bare_words_is_one_period(tmp_path, rows, text):
    cells = [("City", "Lausanne"), ("Title", "Story hours"), *rows, ("Contact person", "A. Roth")]
    body = table(*(row(cell(p(label)), cell(p(value) if value else "")) for label, value in cells)) \
        + p("Purpose: Stories read in every language the families of the district speak.")
    (practice,) = segment(read_blocks(write_docx(tmp_path / "form.docx", body))).practices
    assert practice.period_text == text and (practice.period_start, practice.period_end) == (2023, 2025)
    assert practice.contact_person == "A. Roth" and practice.purpose.startswith("Stories read")


@pytest.mark.parametrize("line", ["End of the first year: the families asked for more.",
                                  "From the start, parents read with the librarians.", "Fin de la phase pilote."])
def test_a_sentence_after_the_period_opening_with_a_word_of_its_parts_stays_out_of_it(tmp_path, line):
    path = tmp_path / "form.txt"
    path.write_text(f"City: Lausanne\nTitle: Story hours\nImplementation period: 2023-2025\n{line}\n\n"
                    "Purpose: Stories read in every language the families of the district speak.\n", encoding="utf-8")
    (practice,) = segment(read_blocks(path)).practices
    assert practice.period_text == "2023-2025"


SWAPPED_FORM = """Bonne pratique
Titre : {title}
Période de mise en œuvre : depuis janvier 2023 (en cours)
Principal domaine d'action : 10. Médiation interculturelle

Coordonnées
Personne de contact : Y. El Amrani
Ville : {city}

Description de la bonne pratique
Impact : En 2024, 310 conflits de voisinage ont été résolus sans appel à la police.
But : Une présence dialoguante dans la rue, le soir, dans les langues des habitants.
"""


def test_a_form_with_its_practice_block_before_its_contact_block_is_one_practice(tmp_path):
    """« Bonne pratique » and its fields, then « Coordonnées » and the city: the two blocks swapped, one form (it was
    cut into a practice without city or description and one without title)."""
    path = tmp_path / "form.txt"
    path.write_text(SWAPPED_FORM.format(title="Médiateurs de rue", city="Bruxelles"), encoding="utf-8")
    (practice,) = segment(read_blocks(path)).practices
    assert (practice.city, practice.title, practice.contact_person) == ("Bruxelles", "Médiateurs de rue", "Y. El Amrani")
    assert practice.purpose and practice.impact and practice.period_start == 2023
    two = tmp_path / "two.txt"
    two.write_text(SWAPPED_FORM.format(title="Médiateurs de rue", city="Bruxelles") + "\n"
                   + SWAPPED_FORM.format(title="Campagne contre les rumeurs", city="Liège"), encoding="utf-8")
    first, second = segment(read_blocks(two)).practices
    assert (first.city, first.title, second.city, second.title) == (
        "Bruxelles", "Médiateurs de rue", "Liège", "Campagne contre les rumeurs")


def test_forms_in_the_template_order_still_part_at_each_contact_block(tmp_path):
    one = ("Coordonnées\nVille : {city}\nBonne pratique\nTitre : {title}\n"
           "But : Une présence dialoguante dans la rue, le soir, dans les langues des habitants.\n")
    path = tmp_path / "two.txt"
    path.write_text(one.format(city="Bruxelles", title="Médiateurs") + one.format(city="Liège", title="Rumeurs"),
                    encoding="utf-8")
    assert [(p.city, p.title) for p in segment(read_blocks(path)).practices] == [
        ("Bruxelles", "Médiateurs"), ("Liège", "Rumeurs")]
    # a practice block with no contact nor description, then the next form's contact block
    path.write_text("Bonne pratique\nTitre : Médiateurs\nCoordonnées\nVille : Liège\nBonne pratique\nTitre : Rumeurs\n"
                    "But : Une présence dialoguante dans la rue, le soir, dans les langues des habitants.\n",
                    encoding="utf-8")
    assert [(p.city, p.title) for p in segment(read_blocks(path)).practices] == [
        ("Liège", "Médiateurs"), (None, "Rumeurs")] or len(segment(read_blocks(path)).practices) == 2


def test_main_reference_documents_is_the_references_label():
    hit = match_label("Main reference documents: Guide 'Opening a language café', 2024")
    assert hit is not None and hit.label.name == "references"


@pytest.mark.parametrize("value", ["see French version", "Voir la version française.", "Idem", "Voir ci-dessus.",
                                   "See above", "(see French version)", "Please see the French version.", "Ditto",
                                   "Same as French version", "Refer to the French version", "Idem ci-dessus",
                                   "Voir plus haut", "Cf. ci-dessus", "voir version FR", "See French form above"])
def test_a_field_that_points_to_another_version_or_above_is_not_filled(value):
    """"Contact person: see French version" is no contact: the field is missing here (and is taken from the version
    it points to where the run links them)."""
    assert value_or_none(value) is None
    (practice,) = segment(lines("City: Strasbourg", "Title: Street mediators", f"Contact person: {value}",
                                f"Starting point: {value}", "Purpose: Mediators who speak the residents' languages walk "
                                "the district every evening and settle quarrels before they grow.")).practices
    assert practice.contact_person is None and "missing:contact_person" in practice.warnings
    assert practice.starting_point is None



def test_a_period_written_end_first_is_read_and_warned_about():
    (practice,) = segment(lines("Ville : Liège", "Titre : Médiateurs de rue", "Période de mise en œuvre : 2024 - 2021",
                                "But : Des médiateurs qui parlent les langues des habitants parcourent le quartier "
                                "chaque soir.")).practices
    assert (practice.period_start, practice.period_end) == (2021, 2024)
    assert "period_reversed:2024-2021" in practice.warnings
    from pipeline.normalize import reversed_range

    assert reversed_range("décembre 2024 – janvier 2021") == "2024-2021" == reversed_range("December 2024 - January 2021")
    assert reversed_range("1 February 2023 - 31 December 2024") is None
    (practice,) = segment(lines("Ville : Liège", "Titre : Médiateurs", "Période de mise en œuvre : 2021 - 2024",
                                "But : Des médiateurs parcourent le quartier chaque soir.")).practices
    assert not [w for w in practice.warnings if w.startswith("period_reversed")]


@pytest.mark.parametrize("value", ["See the guide on our website", "As above, plus a French course for parents",
                                   "Voir le rapport annuel 2024", "See: www.example.org/en", "English and French classes",
                                   "see above for details of the 3 partners"])
def test_a_value_that_says_more_than_where_to_look_is_kept(value):
    assert value_or_none(value) == value



def test_forms_written_practice_first_and_contact_last_keep_their_own_contacts(tmp_path):
    """Two forms each closed by its contact block: the second's title went into the first's contact block, so the
    contacts were swapped between the two practices."""
    one = ("Bonne pratique\nTitre : {title}\n\nDescription de la bonne pratique\nBut : Des habitants de toutes "
           "origines se rencontrent autour d'un projet commun chaque semaine.\n\nCoordonnées\nVille : Lille\n"
           "Personne de contact : {contact}\n\n")
    path = tmp_path / "two.txt"
    path.write_text(one.format(title="Jardins partagés", contact="Julie Martin")
                    + one.format(title="Conseil des jeunes", contact="Paul Leroy"), encoding="utf-8")
    practices = segment(read_blocks(path)).practices
    assert [(p.title, p.contact_person) for p in practices] == [("Jardins partagés", "Julie Martin"),
                                                                ("Conseil des jeunes", "Paul Leroy")]
    assert not [w for p in practices for w in p.warnings if w.startswith("other_value")]


def test_a_status_line_after_the_period_and_main_reference_materials_are_read(tmp_path):
    path = tmp_path / "form.txt"
    path.write_text("City: Lausanne\nTitle: Story hours\nImplementation period: 2023\nStatus: ongoing\n\n"
                    "Purpose: Stories read in every language the families of the district speak.\n"
                    "Main reference materials: Guide for librarians, 2024.\n", encoding="utf-8")
    (practice,) = segment(read_blocks(path)).practices
    assert (practice.period_text, practice.period_end, practice.ongoing) == ("2023 ; Status: ongoing", None, True)
    assert practice.references == "Guide for librarians, 2024."


def test_a_status_line_saying_the_practice_ended_joins_the_period(tmp_path):
    path = tmp_path / "form.txt"
    path.write_text("City: Lausanne\nTitle: Story hours\nImplementation period: 2021-2023\nStatus: completed\n\n"
                    "Purpose: Stories read in every language the families of the district speak.\n", encoding="utf-8")
    (practice,) = segment(read_blocks(path)).practices
    assert (practice.period_text, practice.period_end, practice.ongoing) == ("2021-2023 ; Status: completed", 2023, False)
    assert not [w for w in practice.warnings if w.startswith("unknown_label")]
