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
    literal: int  # how many characters of a text the template writes itself


def _pattern(template: str) -> re.Pattern:
    """The template as a regular expression: its literal text, and a named group for each value."""
    parts, seen = [], set()
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.*?)")
            seen.add(name)
    return re.compile("".join(parts), re.DOTALL)


def _literal(template: str) -> int:
    return sum(len(literal) for literal, *_ in string.Formatter().parse(template))


def _french_number(value: str) -> str:
    """A number written the English way (1,234.5), the French way (1 234,5); any other value as it is (a file
    name or an exception's text is not a number, even where it holds one)."""
    if not _NUMBER.fullmatch(value):
        return value
    return value.replace(",", "\u202f").replace(".", ",")


class _Index:
    """Templates of both languages: those without values looked up directly, the others tried longest first."""

    def __init__(self, pairs: Iterable[Mapping[str, str]]):
        self.fixed: dict[str, Mapping[str, str]] = {}
        entries = []
        for pair in pairs:
            for lang in LANGS:
                template = pair.get(lang)
                if not template:
                    continue
                if "{" in template:
                    entries.append(_Entry(_pattern(template), lang, pair, _literal(template)))
                else:
                    self.fixed.setdefault(template, pair)
        self.entries = sorted(entries, key=lambda e: -len(e.pattern.pattern))

    def read(self, text: str, lang: str, parts: "_Index | None") -> tuple[int, str] | None:
        """`text` in `lang`, with how many of its characters templates wrote (its values that `parts` knows
        included); None when no template wrote it.

        The longest template that fits wins, so that a template is never taken for a shorter one that its text
        happens to fit. Where values may be fragments, the one that explains most of the text wins, so that a
        fragment whose first value swallows the start of the text ("{n} pages ..." fits "; 2 forms skipped; 3 pages
        ...") is not taken for the one that wrote that start.
        """
        pair = self.fixed.get(text)
        if pair is not None:
            return len(text), pair.get(lang) or text
        best: tuple[int, str] | None = None
        for entry in self.entries:
            match = entry.pattern.fullmatch(text)
            if not match or not entry.templates.get(lang):
                continue
            if entry.lang == lang:
                return len(text), text
            read = _fill(entry, match.groupdict(), lang, parts)
            if parts is None or read[0] == len(text):  # nothing better to find
                return read
            if best is None or read[0] > best[0]:
                best = read
        return best


def _fill(entry: _Entry, values: Mapping[str, str], lang: str, parts: _Index | None) -> tuple[int, str]:
    """The other language's template with the values read back: as text (their format was applied when first
    written), each fragment of `parts` said in `lang`; and how much of the text the templates explain."""
    out, explained = [], entry.literal
    for literal, name, _spec, _conversion in string.Formatter().parse(entry.templates[lang]):
        out.append(literal)
        if name is not None:
            value = values.get(name, "")
            read = parts.read(value, lang, parts) if parts is not None and value else None
            if read is not None:
                explained += read[0]
                value = read[1]
            elif lang == "fr":  # 1,234.5 -> 1 234,5
                value = _french_number(value)
            out.append(value)
    return explained, "".join(out)


class Phrasebook:
    """Pairs of templates ({"en": ..., "fr": ...}); `say(text, lang)` gives `text` in `lang`.

    `fragments`: pairs of pieces that the templates take as values (a reason, what to install); a value read back
    that is one of them is said in `lang` as well, and so on inside it.
    """

    def __init__(self, pairs: Iterable[Mapping[str, str]], fragments: Iterable[Mapping[str, str]] = ()):
        self._whole = _Index(pairs)
        fragments = list(fragments)
        self._parts = _Index(fragments) if fragments else None

    def say(self, text: str | None, lang: str) -> str | None:
        said = self.translation(text, lang)
        return text if said is None else said

    def translation(self, text: str | None, lang: str) -> str | None:
        """`text` in `lang`, or None when no template of the book wrote it (to fall back on a more general text)."""
        read = self._whole.read(text, lang, self._parts) if text else None
        return read[1] if read else None


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
