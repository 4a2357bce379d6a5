"""Say a message written in one language in the other, from the pairs of templates it was written with.

The tables keep each hint, check detail and error message in the language it was written in (a practice's
language, or English for the run's messages). A page in another language finds the template that wrote the text,
reads back the values put into it and writes the other language's template with them. A text no template wrote is
returned as it is.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

LANGS = ("en", "fr")
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+")


@dataclass(frozen=True)
class _Entry:
    pattern: re.Pattern
    lang: str  # the language of the template the pattern was made from
    templates: Mapping[str, str]


def _pattern(template: str) -> re.Pattern:
    """The template as a regular expression: its literal text, and a named group for each value."""
    parts, seen = [], set()
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.*?)")
            seen.add(name)
    return re.compile("".join(parts), re.DOTALL)


def _fill(template: str, values: Mapping[str, str], lang: str) -> str:
    """The template with the values read back (as text: their format was applied when first written)."""
    out = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        out.append(literal)
        if name is not None:
            value = values.get(name, "")
            if lang == "fr":  # 1,234.5 -> 1 234,5
                value = _NUMBER.sub(lambda m: m.group().replace(",", "\u202f").replace(".", ","), value)
            out.append(value)
    return "".join(out)


class Phrasebook:
    """Pairs of templates ({"en": ..., "fr": ...}); `say(text, lang)` gives `text` in `lang`.

    Templates without values are looked up directly; the others are tried longest first, so that a template
    is never taken for a shorter one that its text happens to fit.
    """

    def __init__(self, pairs: Iterable[Mapping[str, str]]):
        self._fixed: dict[str, Mapping[str, str]] = {}
        entries = []
        for pair in pairs:
            for lang in LANGS:
                template = pair.get(lang)
                if not template:
                    continue
                if "{" in template:
                    entries.append(_Entry(_pattern(template), lang, pair))
                else:
                    self._fixed.setdefault(template, pair)
        self._entries = sorted(entries, key=lambda e: -len(e.pattern.pattern))

    def say(self, text: str | None, lang: str) -> str | None:
        if not text:
            return text
        pair = self._fixed.get(text)
        if pair is not None:
            return pair.get(lang) or text
        for entry in self._entries:
            match = entry.pattern.fullmatch(text)
            if match and entry.templates.get(lang):
                if entry.lang == lang:
                    return text
                return _fill(entry.templates[lang], match.groupdict(), lang)
        return text


def pairs_of(en: Mapping, fr: Mapping) -> list[dict[str, str]]:
    """The pairs of two parallel trees of templates (same keys, one per language)."""
    pairs = []
    for key, value in en.items():
        other = fr.get(key)
        if isinstance(value, Mapping) and isinstance(other, Mapping):
            pairs += pairs_of(value, other)
        elif isinstance(value, str) and isinstance(other, str):
            pairs.append({"en": value, "fr": other})
    return pairs
