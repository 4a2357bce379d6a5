"""The words `icc-practices check` and the web check share: field labels as the template prints them, the
declared areas and the area mismatch by number and name, the years of a period, and values cut after a whole word.
Words only: no model is loaded."""

from __future__ import annotations

from pipeline.normalize import shorten


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
