"""Messages stored in one language, said in the other from the templates that wrote them."""

from __future__ import annotations

from pipeline.criteria import criteria_phrasebook, load_cues
from pipeline.phrasebook import Phrasebook, pairs_of


def test_a_fixed_message_and_one_with_values_are_said_in_the_other_language():
    book = Phrasebook([{"en": "Add references.", "fr": "Ajoutez des références."},
                       {"en": "The PDF has {n:,} pages; the limit is {limit}.",
                        "fr": "Le PDF compte {n} pages ; la limite est de {limit}."}], number_fields=["n", "limit"])
    assert book.say("Add references.", "fr") == "Ajoutez des références."
    assert book.say("Ajoutez des références.", "en") == "Add references."
    assert book.say("The PDF has 1,204 pages; the limit is 300.", "fr") == "Le PDF compte 1\u202f204 pages ; la limite est de 300."
    assert book.say("The PDF has 1,204 pages; the limit is 300.", "en") == "The PDF has 1,204 pages; the limit is 300."


def test_a_text_no_template_wrote_is_left_as_it_is():
    book = Phrasebook([{"en": "The PDF has {n} pages.", "fr": "Le PDF compte {n} pages."}])
    for text in ("The PDF is fine.", "", None, "Le PDF a 3 pages."):
        assert book.say(text, "fr") == text


def test_the_longer_template_wins_over_one_its_text_also_fits():
    book = Phrasebook([{"en": "{what} failed.", "fr": "{what} a échoué."},
                       {"en": "OCR of page {n} failed.", "fr": "La reconnaissance de la page {n} a échoué."}])
    assert book.say("OCR of page 3 failed.", "fr") == "La reconnaissance de la page 3 a échoué."


def test_pairs_of_parallel_trees():
    assert pairs_of({"a": "A", "b": {"c": "C {n}"}, "d": "only English"},
                    {"a": "À", "b": {"c": "Ç {n}"}}) == [{"en": "A", "fr": "À"}, {"en": "C {n}", "fr": "Ç {n}"}]


def test_every_hint_and_check_detail_of_the_criteria_goes_both_ways():
    cues = load_cues()
    book = criteria_phrasebook(cues)
    for spec in cues["criteria"].values():
        for kind, text in spec["hints"]["en"].items():
            assert book.say(text, "fr") == spec["hints"]["fr"][kind]
            assert book.say(spec["hints"]["fr"][kind], "en") == text
        for gap in spec.get("gaps", ()):
            assert book.say(gap["en"], "fr") == gap["fr"] and book.say(gap["fr"], "en") == gap["en"]
    messages = cues["guidelines"]["messages"]
    detail = messages["en"]["process_no"].format(n=12)
    assert book.say(detail, "fr") == messages["fr"]["process_no"].format(n=12)
    quoted = messages["fr"]["city_no"].format(n=2, example="Lyon compte 500 000 habitants.")
    assert book.say(quoted, "en") == messages["en"]["city_no"].format(n=2, example="Lyon compte 500 000 habitants.")


def test_a_fragment_read_back_as_a_value_is_said_too_and_so_on_inside_it():
    fragments = [{"en": "install {tool} (apt-get install {package})", "fr": "installez {tool} (apt-get install {package})"},
                 {"en": "the OCR engine", "fr": "le moteur d'OCR"}]
    book = Phrasebook([{"en": "Scans are not read here: {fix}.", "fr": "Les scans ne sont pas lus ici : {fix}."}],
                      fragments, fragment_fields=["fix", "tool"])
    text = "Scans are not read here: install the OCR engine (apt-get install tesseract-ocr)."
    assert book.say(text, "fr") == "Les scans ne sont pas lus ici : installez le moteur d'OCR (apt-get install tesseract-ocr)."
    assert book.say("Scans are not read here: reboot.", "fr") == "Les scans ne sont pas lus ici : reboot."
    assert book.translation("install the OCR engine (apt-get install x)", "fr") is None, "a fragment is no message"


def test_the_reading_that_explains_most_of_the_text_wins():
    fragments = [{"en": "; {n} form(s) skipped{note}", "fr": " ; {n} formulaire(s) ignoré(s){note}"},
                 {"en": "; {note}", "fr": " ; {note}"},
                 {"en": "{n} page(s) without text were not read", "fr": "{n} page(s) sans texte n'ont pas été lues"}]
    book = Phrasebook([{"en": "{n} found{details}", "fr": "{n} trouvée(s){details}"}], fragments,
                      fragment_fields=["details", "note"], number_fields=["n"])
    assert (book.say("3 found; 2 form(s) skipped; 4 page(s) without text were not read", "fr")
            == "3 trouvée(s) ; 2 formulaire(s) ignoré(s) ; 4 page(s) sans texte n'ont pas été lues")


def test_only_a_value_that_is_a_number_is_written_the_french_way():
    book = Phrasebook([{"en": "{n:,} copies of {file}", "fr": "{n} copies de {file}"}], number_fields=["n"])
    assert book.say("1,204 copies of report 2.1, 1,000 words.docx", "fr") == "1\u202f204 copies de report 2.1, 1,000 words.docx"
    assert book.say("2.5 copies of x", "fr") == "2,5 copies de x"


def test_translation_is_none_for_a_text_no_template_wrote():
    book = Phrasebook([{"en": "The PDF has {n} pages.", "fr": "Le PDF compte {n} pages."}])
    assert book.translation("The PDF has 3 pages.", "fr") == "Le PDF compte 3 pages."
    for text in ("The PDF is fine.", "", None):
        assert book.translation(text, "fr") is None


def test_values_from_a_submission_are_shown_as_written():
    # File and part names come from whoever made the file: never read as fragments or numbers, and a name holding
    # the template's own words is not split there.
    from pipeline.errors import error_phrasebook

    book = error_phrasebook()
    said = book.say("Same content as exit code 3.txt; its practices are counted once.", "fr")
    assert said.startswith("Même contenu que exit code 3.txt ;"), said
    said = book.say("Same content as ; old copy.txt; its practices are counted once.", "fr")
    assert said.startswith("Même contenu que ; old copy.txt ;"), said


def test_a_value_that_nests_without_end_is_read_without_crashing():
    from pipeline.errors import error_phrasebook, message

    text = message("practices_found", n=1, details=message("note", note="; " * 3000 + "x"))
    assert error_phrasebook().say(text, "fr").startswith("1 pratique")  # never a RecursionError


def test_a_number_value_is_read_as_a_number():
    book = Phrasebook([{"en": "The part {part} is compressed {ratio}:1.", "fr": "La partie {part} est compressée à {ratio}:1."}],
                      number_fields=["ratio"])
    assert (book.say("The part media/a is compressed 9 is compressed 1000:1.", "fr")
            == "La partie media/a is compressed 9 est compressée à 1000:1.")
    assert book.say("The part 1.5 is compressed 1000:1.", "fr") == "La partie 1.5 est compressée à 1000:1."
