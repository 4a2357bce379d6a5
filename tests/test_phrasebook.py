"""Messages stored in one language, said in the other from the templates that wrote them."""

from __future__ import annotations

from pipeline.criteria import criteria_phrasebook, load_cues
from pipeline.phrasebook import Phrasebook, pairs_of


def test_a_fixed_message_and_one_with_values_are_said_in_the_other_language():
    book = Phrasebook([{"en": "Add references.", "fr": "Ajoutez des références."},
                       {"en": "The PDF has {n:,} pages; the limit is {limit}.",
                        "fr": "Le PDF compte {n} pages ; la limite est de {limit}."}])
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
