"""The guide's 16 action areas and their sub-areas, loaded from resources/areas.yaml."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import AREAS_FILE, load_yaml
from pipeline.normalize import fold
from pipeline.registry import loader


@dataclass(frozen=True)
class Area:
    code: str
    en: str
    fr: str
    parent: str | None
    short: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()  # classifier features only, never parsed as a declared area
    description: dict = field(default_factory=dict, hash=False, compare=False)
    examples: dict = field(default_factory=dict, hash=False, compare=False)
    sentences: dict = field(default_factory=dict, hash=False, compare=False)  # `prototypes` of areas.yaml

    def name(self, lang: str = "en") -> str:
        return self.fr if lang == "fr" else self.en

    def prototypes(self) -> list[str]:
        """Texts that describe the area, both languages, for zero-shot matching."""
        texts = [self.en, self.fr]
        for lang in ("en", "fr"):
            if self.description.get(lang):
                texts.append(self.description[lang])
            texts.extend(self.examples.get(lang, []))
            texts.extend(self.sentences.get(lang, []))
        return texts


class Taxonomy:
    """Area codes ("1".."16", sub-areas like "3b") with names and the parser for declared areas."""

    def __init__(self, areas: list[Area]):
        self.areas = {a.code: a for a in areas}
        self.codes = [a.code for a in areas]
        self.top_codes = [a.code for a in areas if a.parent is None]
        self._aliases = self._build_aliases()
        # Each alias's pattern compiled once (a form names one or two of several hundred aliases).
        self._alias_patterns = [(alias, re.compile(rf"(?<![\w-]){re.escape(alias)}(?![\w-])"), code)
                                for alias, code in self._aliases]
        self._declared: dict[str, list[str]] = {}  # parsed texts: most forms name their area in the same words

    @classmethod
    def load(cls, path: Path = AREAS_FILE) -> "Taxonomy":
        data = load_yaml(path.read_text(encoding="utf-8"))
        areas: list[Area] = []
        for item in data["areas"]:
            areas.append(_area(item, None))
            for sub in item.get("subareas", []):
                areas.append(_area(sub, item["code"]))
        return cls(areas)

    def parent(self, code: str) -> str:
        return self.areas[code].parent or code

    def with_parents(self, codes: list[str]) -> list[str]:
        """Codes in order, each sub-area preceded by its parent, without repeats."""
        out: list[str] = []
        for code in codes:
            for c in (self.parent(code), code):
                if c not in out:
                    out.append(c)
        return out

    def _build_aliases(self) -> list[tuple[str, str]]:
        pairs: dict[str, str] = {}
        for area in self.areas.values():
            for name in (area.en, area.fr, *area.short, *area.aliases):
                key = fold(name)
                # A name shared by an area and its sub-area keeps the more specific code.
                if key not in pairs or self.areas[pairs[key]].parent is None:
                    pairs[key] = area.code
        return sorted(pairs.items(), key=lambda kv: -len(kv[0]))

    def parse_declared(self, text: str | None) -> list[str]:
        """Area codes named in a free-text 'main area of action', main area first."""
        if not text:
            return []
        known = self._declared.get(text)
        if known is None:
            known = self._parse_declared(text)
            if len(self._declared) < _DECLARED_MEMO:
                self._declared[text] = known
        return list(known)

    def _parse_declared(self, text: str) -> list[str]:
        text = _checked_items(text)
        folded = fold(text)
        found: list[tuple[int, str]] = []
        masked = folded
        for alias, pattern, code in self._alias_patterns:
            if alias not in masked:
                continue
            for m in pattern.finditer(masked):
                found.append((m.start(), code))
                masked = masked[: m.start()] + " " * len(alias) + masked[m.end():]
        for m in _CODE.finditer(masked):
            number, letter = m.group(1), (m.group(2) or "").lower()
            code = f"{int(number)}{letter}"
            if code in self.areas:
                found.append((m.start(), code))
            elif str(int(number)) in self.areas:
                found.append((m.start(), str(int(number))))
        found.extend(self._fuzzy(masked))
        found.sort(key=lambda pc: pc[0])
        return self.with_parents([code for _, code in found])

    def _fuzzy(self, masked: str) -> list[tuple[int, str]]:
        """Misspelt names: close matches of each remaining segment."""
        keys = [alias for alias, _ in self._aliases]
        lookup = dict(self._aliases)
        found = []
        for m in re.finditer(r"[^;,/|()\n]+", masked):
            segment = m.group(0).strip(" .-:")
            if len(segment) < 6 or not re.search(r"[a-z]{4}", segment):
                continue
            close = difflib.get_close_matches(segment, keys, n=1, cutoff=0.86)
            if close:
                found.append((m.start(), lookup[close[0]]))
        return found


_DECLARED_MEMO = 20_000  # distinct declared-area texts remembered by a taxonomy
_CHECKED = "\u2612\u2611\u2714\u2713\u25a0\u25c9"  # ☒ ☑ ✔ ✓ ■ ◉
_UNCHECKED = "\u2610\u25a1\u25cb\u274f"  # ☐ □ ○ ❏
_BOX = re.compile(rf"([{_CHECKED}{_UNCHECKED}]|\[[xX ]\])")


def _checked_items(text: str) -> str:
    """From a checklist of areas ("☒ Education ☐ Language"), only the ticked items; other text as it is."""
    parts = _BOX.split(text)
    if len(parts) < 3:
        return text
    kept = [parts[0]]
    for mark, item in zip(parts[1::2], parts[2::2]):
        if mark in _CHECKED or mark.lower() == "[x]":
            kept.append(item)
    return " ; ".join(k for k in kept if k.strip())


_CODE = re.compile(r"(?<![\w.])(1[0-6]|0?[1-9])\s*(?:[.)]\s*|\s)?([a-cA-C])?(?![\w])")


def _area(item: dict, parent: str | None) -> Area:
    return Area(
        code=str(item["code"]),
        en=item["en"],
        fr=item["fr"],
        parent=parent,
        short=tuple(item.get("short", [])),
        aliases=tuple(item.get("aliases", [])),
        keywords=tuple(item.get("keywords", [])),
        description=item.get("description", {}),
        examples=item.get("examples", {}),
        sentences=item.get("prototypes", {}),
    )


@loader("taxonomy")
def load_taxonomy() -> Taxonomy:
    """The areas of resources/areas.yaml, loaded once (tests swap it with registry.override("taxonomy", ...))."""
    return Taxonomy.load()
