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
from functools import lru_cache

LANGS = ("en", "fr")
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+")
# A value that holds a number is read back as one: text around it cannot be taken for the value.
_NUMBER_VALUE = r"-?\d[\d,.\u202f\u00a0]*"
# Fragments inside fragments: the run nests them up to five deep; a deeper reading is a value that only looks like them.
_MAX_DEPTH = 6


@dataclass(frozen=True)
class _Entry:
    pattern: re.Pattern
    lang: str  # the language of the template the pattern was made from
    templates: Mapping[str, str]
    literal: int  # how many characters of a text the template writes itself
    prefix: str  # the template's text before its first value, and after its last: a cheap test before the pattern
    suffix: str


def _pattern(template: str, numbers: frozenset[str]) -> re.Pattern:
    """The template as a regular expression: its literal text, and a named group for each value."""
    parts, seen = [], set()
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            value = _NUMBER_VALUE if name in numbers else ".*?"
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>{value})")
            seen.add(name)
    return re.compile("".join(parts), re.DOTALL)


def _entry(template: str, lang: str, pair: Mapping[str, str], numbers: frozenset[str]) -> _Entry:
    pieces = list(string.Formatter().parse(template))
    suffix = pieces[-1][0] if pieces[-1][1] is None else ""
    return _Entry(_pattern(template, numbers), lang, pair, sum(len(p[0]) for p in pieces), pieces[0][0], suffix)


def _french_number(value: str) -> str:
    """A number written the English way (1,234.5), the French way (1 234,5)."""
    if not _NUMBER.fullmatch(value):
        return value
    return value.replace(",", "\u202f").replace(".", ",")


class _Index:
    """Templates of both languages: those without values looked up directly, the others tried longest first."""

    def __init__(self, pairs: Iterable[Mapping[str, str]], numbers: frozenset[str]):
        self.fixed: dict[str, Mapping[str, str]] = {}
        entries = []
        for pair in pairs:
            for lang in LANGS:
                template = pair.get(lang)
                if not template:
                    continue
                if "{" in template:
                    entries.append(_entry(template, lang, pair, numbers))
                else:
                    self.fixed.setdefault(template, pair)
        self.entries = sorted(entries, key=lambda e: -len(e.pattern.pattern))


class Phrasebook:
    """Pairs of templates ({"en": ..., "fr": ...}); `say(text, lang)` gives `text` in `lang`.

    `fragments`: pairs of pieces that the templates take as values (a reason, what to install); a value of one of
    the `fragment_fields` read back is said in `lang` too when it is one of them, and so on inside it. Other values
    (a file name, an exception's text) stay as written, even where they look like a fragment. Values of the
    `number_fields` are read back as numbers and written the French way in French (1,234 -> 1 234).
    """

    def __init__(self, pairs: Iterable[Mapping[str, str]], fragments: Iterable[Mapping[str, str]] = (),
                 fragment_fields: Iterable[str] = (), number_fields: Iterable[str] = ()):
        numbers = frozenset(number_fields)
        self._numbers = numbers
        self._whole = _Index(pairs, numbers)
        self._parts = _Index(fragments, numbers)
        self._fragment_fields = frozenset(fragment_fields)
        self._translation = lru_cache(maxsize=4096)(self._translate)

    def say(self, text: str | None, lang: str) -> str | None:
        said = self.translation(text, lang)
        return text if said is None else said

    def translation(self, text: str | None, lang: str) -> str | None:
        """`text` in `lang`, or None when no template of the book wrote it (to fall back on a more general text)."""
        return self._translation(text, lang) if text else None

    def _translate(self, text: str, lang: str) -> str | None:
        read = self._read(self._whole, text, lang, 0)
        return read[1] if read else None

    def _read(self, index: _Index, text: str, lang: str, depth: int) -> tuple[int, str] | None:
        """`text` in `lang`, with how many of its characters templates wrote (its fragments included); None when
        no template wrote it.

        The longest template that fits wins, so that a template is never taken for a shorter one that its text
        happens to fit. Where values may be fragments, the one that explains most of the text wins, so that a
        fragment whose first value swallows the start of the text ("{n} pages ..." fits "; 2 forms skipped; 3 pages
        ...") is not taken for the one that wrote that start.
        """
        pair = index.fixed.get(text)
        if pair is not None:
            return len(text), pair.get(lang) or text
        best: tuple[int, str] | None = None
        for entry in index.entries:
            if not (text.startswith(entry.prefix) and text.endswith(entry.suffix)) or not entry.templates.get(lang):
                continue
            match = entry.pattern.fullmatch(text)
            if not match:
                continue
            if entry.lang == lang:
                return len(text), text
            read = self._fill(entry, match.groupdict(), lang, depth)
            if read[0] == len(text):  # nothing better to find
                return read
            if best is None or read[0] > best[0]:
                best = read
        return best

    def _fill(self, entry: _Entry, values: Mapping[str, str], lang: str, depth: int) -> tuple[int, str]:
        """The other language's template with the values read back (as text: their format was applied when first
        written), each fragment said in `lang`; and how much of the text the templates explain."""
        out, explained = [], entry.literal
        for literal, name, _spec, _conversion in string.Formatter().parse(entry.templates[lang]):
            out.append(literal)
            if name is not None:
                value = values.get(name, "")
                read = None
                if value and name in self._fragment_fields and depth < _MAX_DEPTH:
                    read = self._read(self._parts, value, lang, depth + 1)
                if read is not None:
                    explained += read[0]
                    value = read[1]
                elif lang == "fr" and name in self._numbers:
                    value = _french_number(value)
                out.append(value)
        return explained, "".join(out)


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
