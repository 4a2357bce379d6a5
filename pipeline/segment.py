"""Blocks -> Practices: template fields, description sections, provenance and warnings.

A form is a run of labelled values. A header field that repeats starts the next form, so a file
may hold several practices; text before the first label (the guide's preamble) is skipped, and a
form whose title and description are empty is counted as a blank form, not a practice. A report written
without the template but with a few labelled values is read whole (see `_prose_with_few_labels`).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path


from pipeline.config import LABELS_FILE, SegmentSettings, load_yaml
from pipeline.normalize import (FIGURE_CELL, clean_text, count_words, detect_language, end_not_told, fold, fold_chars,
                                instruction_starts, names_a_length, parse_period, reads_as_instruction,
                                reversed_range, says_no_value, tells_an_end, value_or_none, without_leading_instruction,
                                words_pattern)
from pipeline.records import HEADER_FIELDS, SECTION_FIELDS, Block, Practice
from pipeline.registry import loader
from pipeline.taxonomy import Taxonomy, load_taxonomy

# Bullets and numbering before a label: "- ", "3) ", "3.1 ", "b. ", "(c) ".
_BULLET = re.compile(r"^\s*(?:[-\u2022\u00b7*\u25aa\u25e6\u2023>]+|\(?\d{1,2}(?:\.\d{1,2})*[.)]?|\(?[a-h][.)])\s+")
_COLON = re.compile(r"\s*[:\uff1a]\s*")
# "Intitulé du projet", "Durée de l'action", "Impact of the project": a template label named for the project
_QUALIFIER = re.compile(r"\s+(?:du|de la|de l'|des|of the|of this)\s*(?:projet|bonne pratique|pratique|action|initiative|"
                        r"dispositif|project|good practice|practice|initiative|scheme)$")
# Between two labels of one field or section written together: "références/liens", "links and references".
_JOINED = re.compile(r"\s*[/&+,]\s*|\s+(?:et|and)\s+")
# The word after a label that makes the line a name ("Ville de Sherbrooke", "City of Oslo"), not a label and value
_NAME_OF = re.compile(r"(?:de|d'|du|des|of)(?:\b|$)")
_NUMBERED = re.compile(r"^(.*?)\s*(?:n°|no\.?|nr\.?|#)?\s*\d{1,2}(?:\s*(?:of|sur|de|/)\s*\d{1,2})?$")
_LIST_ITEM = re.compile(r"^\s*(?:[\u2610-\u2612\u2713\u2714\u25a0\u25a1\u2022\u00b7*-]|\[[xX ]\])\s*\S")
_DASH_SEPARATOR = re.compile(r"\s+[-\u2013\u2014]\s+")
_LETTER_WORD = re.compile(r"[^\W\d_]{2,}")
# a label's shape: a capital, a few words (at most 49 characters), no figures and no sentence punctuation
_UNKNOWN_LABEL = re.compile(r"[A-ZÀ-Ý][^\d.!?:;,]{1,48}")
_HINT = re.compile(r"^\s*[\(\[].*[\)\]]\s*$")
# Thresholds of label matching and of the fallback for free text: Settings.segment (pipeline/config.py).
_DEFAULTS = SegmentSettings()
# The languages the models read; a practice in another one is warned about ("other_language:de"), not refused.
READ_LANGUAGES = ("en", "fr", "und")
# Opening quote -> closing quotes accepted around a whole title: « Cafés des langues », “Buddy Runs”.
_QUOTE_PAIRS = {"\u00ab": "\u00bb", "\u201c": "\u201d\u201c", "\u201e": "\u201c\u201d", '"': '"', "\u2039": "\u203a",
                "\u2018": "\u2019", "'": "'"}
# Fields a person carries over when one file holds several practices of the same city.
_INHERITED = ("city", "department", "form_date", "contact_person")


@dataclass(frozen=True)
class Label:
    kind: str  # "field" | "section" | "marker"
    name: str


@dataclass(frozen=True)
class LabelHit:
    label: Label
    inline: str | None
    fuzzy: bool = False  # matched a misspelt label: trusted only where a label is expected


@dataclass
class _Form:
    fields: dict[str, str | None] = field(default_factory=dict)
    sections: dict[str, list[str]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # description parts in reading order
    intro: list[str] = field(default_factory=list)
    saw_description_marker: bool = False
    title_from_heading: bool = False
    heading: str | None = None  # the heading just before the form's first label: its title where no label gives one
    heading_from: list[str] | None = field(default=None, repr=False)  # the previous form's part it was taken from
    intro_is_prose: bool = False  # the intro is the report's prose, though no description heading came before it
    label_keys: list[str] = field(default_factory=list, repr=False)  # the template's labels as written here
    objective_from_row: bool = False  # the main objective was read from an « Objectif(s) » row of the header table
    other_values: list[str] = field(default_factory=list)  # fields a later header block gives another value of
    # lines written as labels the template does not use, whether each stands among the header's rows, and the
    # block of one alone on its line (-1 for one with its text after it)
    unknown_labels: list[tuple[str, bool, int]] = field(default_factory=list)

    def has_content(self) -> bool:
        """A title, a description section, or text under the description heading."""
        sections = " ".join(" ".join(v) for v in self.sections.values())
        intro = " ".join(self.intro) if self.saw_description_marker or self.intro_is_prose else ""
        return bool(value_or_none(self.fields.get("title")) or value_or_none(sections) or value_or_none(intro))

    def is_blank_form(self) -> bool:
        """Several template labels and nothing under them: a blank form, not a stray label."""
        return self.n_labels() >= 2

    def n_labels(self) -> int:
        return len(self.fields) + len(self.sections) + self.saw_description_marker

    def has_value(self) -> bool:
        return any(value_or_none(v) for v in self.fields.values()) or any(
            value_or_none(" ".join(v)) for v in self.sections.values())


@dataclass
class SegmentResult:
    practices: list[Practice]
    n_forms: int
    n_empty_forms: int
    used_labels: bool


# The description's parts a form is expected to label (references are often left out).
_MAIN_PARTS = ("purpose", "starting_point", "process", "impact")

def _unquote(text: str | None) -> str | None:
    """A value wrapped whole in quotation marks, without them."""
    if not text or len(text) < 3:
        return text
    closing = _QUOTE_PAIRS.get(text[0])
    inner = text[1:-1]
    if closing and text[-1] in closing and not any(q in inner for q in (text[0], *closing)):
        return inner.strip() or text
    return text


def _without_trailing_brackets(key: str) -> str:
    """`key` without a bracketed note at its end and the spaces before it ("Title (max. 15 words)"): the last
    opening bracket after the last but one closing bracket starts it. Scanned once from the end, as a regular
    expression tried from every bracket of a line of thousands of them took minutes."""
    end = key.rstrip()
    if not end.endswith((")", "]")):
        return key
    body = end[:-1]
    after = max(body.rfind(")"), body.rfind("]")) + 1
    opens = [i for i in (body.find("(", after), body.find("[", after)) if i >= 0]
    return key[:min(opens)].rstrip() if opens else key


def _label_key(text: str) -> str:
    key = fold(text)
    key = _BULLET.sub("", key)
    key = _without_trailing_brackets(key)
    key = re.sub(r"\s*/\s*", "/", key)
    return key.strip(" .*_-\t")


@loader("labels")
def _label_table(path: Path = LABELS_FILE) -> dict[str, Label]:
    data = load_yaml(path.read_text(encoding="utf-8"))
    table: dict[str, Label] = {}
    for kind, group in (("field", "fields"), ("section", "sections")):
        for name, variants in data[group].items():
            for v in variants:
                table.setdefault(_label_key(v), Label(kind, name))
    for name, variants in data["markers"].items():
        for v in variants:
            table.setdefault(_label_key(v), Label("marker", name))
    return table


@loader("header_objective_labels")
def _header_objective_labels(path: Path = LABELS_FILE) -> frozenset[str]:
    """Keys of the purpose labels that stand for the main objective as a header table's row (labels.yaml)."""
    return frozenset(_label_key(v) for v in load_yaml(path.read_text(encoding="utf-8"))["header_objective"])


@loader("period_parts")
def _period_part(path: Path = LABELS_FILE) -> re.Pattern:
    """A line opening with a word of labels.yaml `period_parts` ("End: January 2025", « Phase 2 : … », a table's
    "Start" cell): group 1 holds what follows its colon or dash, empty for the word alone."""
    data = load_yaml(path.read_text(encoding="utf-8"))
    words = "|".join(sorted((re.escape(fold(w)) for w in data["period_parts"]), key=len, reverse=True))
    # "Phase 1 (pilot):", "Second phase:", « 2e phase : »
    ordinal = r"(?:(?:first|second|third|fourth|1st|2nd|3rd|4th|premiere|deuxieme|seconde|troisieme|1re|1ere|\d+e|\d+eme)\s+)?"
    return re.compile(rf"^{ordinal}(?:{words})(?:\s+(?:date|one|two|three|\d{{1,2}}|[ivx]{{1,4}}))?(?:\s*\([^()]{{1,40}}\))?"
                      r"\s*(?:$|[:\uff1a\u2013\u2014-]\s*(.*)$)")



def _continues_the_period(line: "_Line") -> bool:
    """A line right after the period's value that tells more of it: a part word and a year, a length or a word of
    a practice still running ("End: January 2025"), or a part word alone in a cell with its value beside."""
    found = _period_part().match(fold(_BULLET.sub("", line.text.strip())))
    if found is None:
        return False
    rest = found.group(1) or ""
    if not rest:
        return line.kind == "cell" and line.value_beside
    period = parse_period(rest)
    return count_words(rest) <= 12 and (period.start is not None or period.ongoing or names_a_length(rest)
                                        or end_not_told(rest) or tells_an_end(rest))


@loader("list_introductions")
def _list_introduction(path: Path = LABELS_FILE) -> re.Pattern:
    """The words of labels.yaml `list_introductions`, as whole words of a folded line."""
    return words_pattern(tuple(load_yaml(path.read_text(encoding="utf-8"))["list_introductions"]))


_BRACKETED = re.compile(r"\s*(?:\[([^\[\]]{2,400})\]|\(([^()]{2,400})\))(\s*:)?")


def without_instructions(text: str) -> str:
    """A line without the template's instructions left in brackets beside its label or answer (labels.yaml
    `instructions`): "But (que cherchiez-vous à obtenir ?) : Le parcours…" -> "But : Le parcours…"."""
    if "[" not in text and "(" not in text:
        return text
    imperative, placeholder, _ = instruction_starts()

    def drop(match: re.Match) -> str:
        inner = fold(match.group(1) or match.group(2))
        # the line's start, before a colon or just after a label's ("But : [Décrivez…] Le parcours…"; not after a
        # sentence's colon: "We asked one question: (What would make this square yours?)")
        before = text[:match.start()].rstrip()
        label = match_label(before) if before.endswith(":") else None
        opens = match.start() == 0 or match.group(3) is not None or (label is not None and not label.inline)
        if placeholder.match(inner) or (opens and (imperative.match(inner) or "?" in inner)):
            return " :" if match.group(3) and match.start() > 0 else " "
        return match.group(0)

    out = _BRACKETED.sub(drop, text)
    return text if out == text else " ".join(out.split()).removeprefix(": ").strip()


@loader("web_page_lines")
def _web_page_line(path: Path = LABELS_FILE) -> re.Pattern:
    """The start of a line a printed web page adds (labels.yaml `web_page_lines`): "Was this page helpful?",
    "We use cookies…"."""
    return words_pattern(tuple(fold(w) for w in load_yaml(path.read_text(encoding="utf-8"))["web_page_lines"]),
                         at_start=True)


# A web site's copyright footer ("© Cork City Council 2024 · City Hall · Privacy statement"); "© Council of Europe
# 2019, Anti-rumour handbook" is a reference
_SITE_FOOTER = re.compile(
    r"^\s*(?:©|\(c\))(?=.*(?:\s[·|]\s|rights reserved|droits réservés|privacy|cookies|accessibilit))", re.I)


@loader("guide_example_titles")
def _guide_example_titles(path: Path = LABELS_FILE) -> frozenset[str]:
    """The titles of the guide's worked example (labels.yaml `guide_example_titles`), folded."""
    return frozenset(fold(t) for t in load_yaml(path.read_text(encoding="utf-8"))["guide_example_titles"])


@loader("form_heading_words")
def _form_heading_words(path: Path = LABELS_FILE) -> re.Pattern:
    """The words of a heading that names the form, not the practice (labels.yaml `form_heading_words`)."""
    return words_pattern(tuple(fold(w) for w in load_yaml(path.read_text(encoding="utf-8"))["form_heading_words"]))


@loader("file_name_words")
def _file_name_words(path: Path = LABELS_FILE) -> frozenset[str]:
    """Words of a file's name that name the form, the e-mail or the version (labels.yaml `file_name_words`)."""
    return frozenset(fold(w) for w in load_yaml(path.read_text(encoding="utf-8"))["file_name_words"])


_FILE_TITLE_WORDS = 3  # fewer words left than this are no title ("StepIn LP")
_EDGE_WORDS = frozenset("de du des la le les l d of the and et for pour a an".split())


def title_from_file_name(source_file: str, city: str | None = None) -> str | None:
    """A practice's title from its file's name, without the city, years, versions and words naming the form
    ("Formation interculturelle de la police municipale - Nantes 2024.docx" -> "Formation interculturelle de la
    police municipale"); None when too little is left ("ICC_bonne-pratique_Fribourg_2024", "StepIn_Malmo_v3_LP")."""
    name = Path(source_file).name
    stem = name[: name.rfind(".")] if "." in name else name
    city_words = set(fold(city or "").split())

    def noise(token: str) -> bool:
        parts = [fold(part) for part in re.split(r"[-–.]", token.strip(" ,()[]")) if part]
        return not parts or all(part in _file_name_words() or part in city_words or re.fullmatch(r"v?\d+", part)
                                for part in parts)

    kept = [t for t in re.split(r"[\s_]+", stem) if t and not noise(t) or t in ("-", "–")]
    while kept and (kept[0] in ("-", "–") or fold(kept[0]) in _EDGE_WORDS):
        kept.pop(0)
    while kept and (kept[-1] in ("-", "–") or fold(kept[-1]) in _EDGE_WORDS):
        kept.pop()
    letters = [t for t in kept if re.search(r"[^\W\d_]{2,}", t)]
    return " ".join(kept) if len(letters) >= _FILE_TITLE_WORDS else None


def _a_running_header(text: str, rules: SegmentSettings = _DEFAULTS) -> bool:
    """A line of the form's words only, with a dash or a bar between them ("Cités interculturelles – bonne
    pratique", "ICC | Good practice form"): a page's header, not a label (« Bonne pratique » alone opens a form) and
    not a sentence of any part."""
    return (bool(re.search(r"\s[-–—|·]\s", text)) and _names_the_form(text)
            and bool(_form_heading_words().search(fold(text))) and match_label(text, rules=rules) is None)


def _names_the_form(heading: str) -> bool:
    """Whether a heading only names the form ("Fiche bonne pratique – Cités interculturelles 2024")."""
    rest = _form_heading_words().sub(" ", fold(heading))
    return not re.search(r"[^\W\d_]", rest)


def _is_guide_example(form: "_Form") -> bool:
    title = value_or_none(form.fields.get("title"))
    return title is not None and fold(_unquote(title)).rstrip(" .") in _guide_example_titles()


@loader("letter_lines")
def _letter_patterns(path: Path = LABELS_FILE) -> tuple[re.Pattern, ...]:
    """The greeting, the line sending the form, the closing formula, the courtesy line and the confidentiality
    notice of a letter (labels.yaml `letter`), each at the start of a folded line."""
    letter = load_yaml(path.read_text(encoding="utf-8"))["letter"]
    return tuple(words_pattern(tuple(letter[k]), at_start=True)
                 for k in ("greetings", "covers", "closings", "courtesies", "disclaimers"))


@loader("reply_lines")
def _reply_patterns(path: Path = LABELS_FILE) -> tuple[re.Pattern, re.Pattern]:
    """The line that opens a quoted earlier message (labels.yaml `letter.replies`, with dashes around it or not),
    and the "On …, X wrote:" line (`letter.replies_wrote`), on a folded line."""
    letter = load_yaml(path.read_text(encoding="utf-8"))["letter"]
    replies = "|".join(re.escape(w) for w in letter["replies"])
    wrote = "|".join(re.escape(w) for w in letter["replies_wrote"])
    # "On …, X wrote:" names its sender's address or the time it was sent: « Le 12 mars, le maire a écrit : » in a
    # form is a sentence of it
    return (re.compile(rf"^[-_=* ]*(?:{replies})[-_=* ]*$"),
            re.compile(rf"^(?:on|le|am)\b(?=.*(?:@|\d{{1,2}}[:h]\d{{2}})).{{4,160}}\b(?:{wrote})\s*:$"))


_NOTICE_WORDS = 12  # a confidentiality notice without a closing formula before it is at least this long
# A signature's line: 'Name | Role | Service', a telephone number, an e-mail address
_SIGNATURE_LINE = re.compile(r"\S\s*\|\s*\S|\b(?:tel|tél|phone|mobile|portable|fax)\b\.?\s*:?\s*[+\d(]|@\w", re.I)


def _without_thread(lines: list[_Line], rules: SegmentSettings = _DEFAULTS) -> list[_Line]:
    """The lines without the messages quoted under a reply: after the form's first label, from a line that opens
    an earlier message on ('>' alone is no sign of one: some forms mark their list items so)."""
    opens, wrote = _reply_patterns()
    labelled = False
    for k, line in enumerate(lines):
        if labelled:
            folded = fold(line.text).strip()
            if opens.match(folded) or wrote.match(folded):
                return lines[:k]
        labelled = labelled or match_label(line.text, rules=rules) is not None
    return lines


def _without_letter_lines(lines: list[_Line], rules: SegmentSettings = _DEFAULTS) -> list[_Line]:
    """The lines without the greeting and the signature of a form pasted into an e-mail ("Bonjour," ...
    "Cordialement, Sophie Martin, Mission égalité"): a first line that greets in a few words (and the line after it
    when it sends the form: "Voici notre bonne pratique pour le réseau."), and a closing
    formula among the last lines with only short lines after it (a name, a service, a telephone number), with the
    courtesy lines just before it ("N'hésitez pas à revenir vers moi."); without a closing formula, a
    confidentiality notice among the last lines, with the signature's lines before it. The messages quoted under a
    reply go first (`_without_thread`)."""
    greeting, cover, closing, courtesy, disclaimer = _letter_patterns()
    short = rules.letter_line_words
    lines = _without_thread(lines, rules)

    first = lines[0].text.strip() if lines else ""
    if first and _greets(first, rules):
        lines = lines[1:]
        # the line that sends the form, before its first label
        if lines and cover.match(fold(lines[0].text)) and match_label(lines[0].text) is None \
                and count_words(lines[0].text) <= rules.letter_cover_words:
            lines = lines[1:]
    for k in range(max(0, len(lines) - rules.letter_signature_lines), len(lines)):
        # a signature's lines are short, telephone numbers aside ("Tél. 04 76 76 36 36 | Port. 06 12 34 56 78"),
        # and a confidentiality notice may close it ("This e-mail and any attachments are confidential…"); a
        # template's label after them opens a part of the form: the letter was pasted into the part before it
        after = lines[k + 1:]
        notice = next((j for j, line in enumerate(after) if disclaimer.match(fold(line.text))), len(after))
        if _letter_formula(closing, lines[k].text, rules) and all(len(_LETTER_WORD.findall(line.text)) <= short
                                                   for line in after[:notice]) \
                and not any(match_label(line.text, rules=rules) for line in after):
            # and the courtesy lines just before it ("Je reste à votre disposition pour tout complément.")
            while k > 0 and courtesy.match(fold(lines[k - 1].text)) and match_label(lines[k - 1].text) is None \
                    and count_words(lines[k - 1].text) <= rules.letter_cover_words:
                k -= 1
            return lines[:k]
    # no closing formula: a confidentiality notice among the last lines, with the signature's lines just before it
    # ("Gareth Evans | Community Cohesion Coordinator", "Tel: 029 2087 0000")
    for k in range(max(0, len(lines) - rules.letter_signature_lines), len(lines)):
        # a notice is a long sentence ("This email and any files transmitted with it are confidential…"); a
        # reference may start with « Confidential report… »
        if (disclaimer.match(fold(lines[k].text)) and match_label(lines[k].text) is None
                and count_words(lines[k].text) >= _NOTICE_WORDS
                and not any(match_label(line.text, rules=rules) for line in lines[k + 1:])):
            while k > 0 and _SIGNATURE_LINE.search(lines[k - 1].text) and count_words(lines[k - 1].text) <= 2 * short \
                    and match_label(lines[k - 1].text) is None:
                k -= 1
            return lines[:k]
    return lines


def _letter_formula(pattern: re.Pattern, text: str, rules: SegmentSettings = _DEFAULTS) -> bool:
    """A letter's formula with a name or two after it ("Cordialement, Sophie Martin"), not a sentence opening so,
    nor one that opens a list ("Many thanks to:")."""
    found = pattern.match(fold(text))
    rest = fold(text)[found.end():].strip(" ,") if found is not None else ""
    # thanks to someone ("Many thanks to our partners", « Merci aux bénévoles ! ») thanks them: no sign-off
    return found is not None and count_words(rest) <= rules.letter_words_after_formula \
        and not text.rstrip().endswith(":") and not re.match(r"(?:to|for|a|aux|au|pour)\b", rest)


def _greets(text: str, rules: SegmentSettings = _DEFAULTS) -> bool:
    """"Dear colleagues," or "Bonjour" greets; "Hello Neighbour!" may be a title."""
    greeting = _letter_patterns()[0]
    text = text.strip()
    return _letter_formula(greeting, text, rules) and (text.endswith(",")
                                                       or count_words(greeting.sub("", fold(text))) == 0)


def _without_template_requests(lines: list[str]) -> tuple[list[str], bool]:
    """A part's lines without the template's request left where the part starts (alone, or before the answer on its
    line) or below the answer (`reads_as_instruction`), and whether there was one."""
    kept, left = list(lines), False
    while kept and (rest := without_leading_instruction(kept[0])) != kept[0]:
        left = True
        kept = [rest, *kept[1:]] if rest.strip() else kept[1:]
    while kept and reads_as_instruction(kept[-1]):
        left = True
        kept = kept[:-1]
    return kept, left


def _without_pasted_letter(texts: list[str], rules: SegmentSettings = _DEFAULTS) -> list[str]:
    """A part's lines without an e-mail pasted into it: its greeting (and the line that sends the text: "Hi Ingrid,"
    / "Here are the figures you asked for."), and from its closing formula on, with the courtesy lines before it.
    Only a whole e-mail: a greeting opens the part, and a signature follows the formula to the part's end (short
    lines, one of them a telephone number, an address or 'Name | Role', or a confidentiality notice). A letter a
    resident wrote, quoted in a part ("Dear Mayor," … "Best wishes," / "Fatima"), thanks and lists of partners stay."""
    _, cover, closing, courtesy, disclaimer = _letter_patterns()
    if not texts or not _greets(texts[0], rules):
        return texts
    start = 2 if len(texts) > 1 and cover.match(fold(texts[1])) and count_words(texts[1]) <= rules.letter_cover_words \
        else 1
    for k in range(start, len(texts)):
        after = texts[k + 1:]
        notice = next((j for j, t in enumerate(after) if disclaimer.match(fold(t))), len(after))
        signed = notice < len(after) or any(_SIGNATURE_LINE.search(t) for t in after)
        if _letter_formula(closing, texts[k], rules) and signed and all(
                len(_LETTER_WORD.findall(t)) <= rules.letter_line_words for t in after[:notice]):
            while k > start and courtesy.match(fold(texts[k - 1])) and count_words(texts[k - 1]) <= rules.letter_cover_words:
                k -= 1
            return texts[start:k]
    return texts


@loader("label_languages")
def _label_languages(path: Path = LABELS_FILE) -> dict[str, str]:
    """Label key -> the one language it belongs to (labels of both lists are left out)."""
    data = load_yaml(path.read_text(encoding="utf-8"))["label_languages"]
    langs: dict[str, set[str]] = {}
    for lang, labels in data.items():
        for label in labels:
            langs.setdefault(_label_key(label), set()).add(lang)
    return {key: next(iter(found)) for key, found in langs.items() if len(found) == 1}


def _label_language(keys: list[str]) -> str | None:
    """The language most of a form's labels are written in; None on a tie or without any."""
    counts = Counter(lang for key in keys if (lang := _label_languages().get(key)))
    ranked = counts.most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def _lookup(table: dict[str, Label], key: str) -> Label | None:
    """The label of a key as written, or of the key without a qualifier naming the project, or of labels of one
    field or section joined ("Références / liens", "Liens et références", "Ville / City")."""
    label = _lookup_one(table, key)
    if label is None and _JOINED.search(key):
        labels = {_lookup_one(table, part) for part in _JOINED.split(key)}
        if len(labels) == 1 and None not in labels:
            label = labels.pop()
    return label


def _lookup_one(table: dict[str, Label], key: str) -> Label | None:
    label = table.get(key)
    if label is None and _QUALIFIER.search(key):
        label = table.get(_QUALIFIER.sub("", key))
    return label


@loader("fuzzy_labels")
def _fuzzy_matcher(cutoff: float, max_words: int):
    """The label a misspelt key stands for (never the form-start heading, never a mere plural), memoised per
    key: the same headings come back in every form. Reset with the label table."""
    table = _label_table()
    candidates = [k for k, v in table.items() if len(k) >= 4 and v.name not in ("form_start", "language_version")]

    @lru_cache(maxsize=8192)
    def find(key: str) -> Label | None:
        if len(key) < 4 or len(key.split()) > max_words or not re.search(r"[a-z]{3}", key):
            return None
        close = difflib.get_close_matches(key, candidates, n=1, cutoff=cutoff)
        if not close or (" " not in key and key == close[0] + "s"):
            return None
        return table[close[0]]

    return find


def _fuzzy_label(key: str, rules: SegmentSettings = _DEFAULTS) -> Label | None:
    return _fuzzy_matcher(rules.fuzzy_cutoff, rules.fuzzy_max_words)(key)


@lru_cache(maxsize=8192)  # a table's cells are matched by the header pairing, the line flags and the forms alike
def match_label(line: str, loose: bool = False, rules: SegmentSettings = _DEFAULTS) -> LabelHit | None:
    """The template label a line starts with, and the value written after it on the same line.

    `loose` also accepts a header label followed by its value without a colon ("City Bergen"), as a
    table row comes out of a PDF's text layer.
    """
    table = _label_table()
    max_words = rules.fuzzy_max_words
    whole = _label_key(_COLON.sub(" ", line).strip()) if line.rstrip().endswith((":", "\uff1a")) else _label_key(line)
    # "...the services of the City." wrapped onto a line of its own ends a sentence; no label ends with a full stop.
    if _lookup(table, whole) is not None and len(line) < 120 and not line.rstrip().endswith("."):
        return LabelHit(_lookup(table, whole), None)
    numbered = _NUMBERED.match(whole)
    if numbered and table.get(numbered.group(1), Label("", "")).kind == "marker":
        return LabelHit(table[numbered.group(1)], None)
    parts = _COLON.split(line, maxsplit=1)
    if len(parts) == 2 and len(parts[0]) <= 80:
        label = _lookup(table, _label_key(parts[0]))
        if label is not None and label.kind != "marker":
            return LabelHit(label, clean_text(parts[1]) or None)
        if label is not None and label.name == "description":
            return LabelHit(label, clean_text(parts[1]) or None)
    if len(parts) == 1:
        # "Title – Buddy Runs": a spaced dash after an exact label stands for the colon.
        dashed = _DASH_SEPARATOR.split(line, maxsplit=1)
        if len(dashed) == 2 and len(dashed[0].split()) <= max_words:
            label = _lookup(table, _label_key(dashed[0]))
            if label is not None and label.kind != "marker" and clean_text(dashed[1]):
                return LabelHit(label, clean_text(dashed[1]))
    ends_with_colon = line.rstrip().endswith((":", "\uff1a"))
    if ends_with_colon or (len(line.split()) <= max_words and not re.search(r"[.!?;,]\s*$", line)):
        label = _fuzzy_label(whole, rules)
        if label is not None:
            return LabelHit(label, None, fuzzy=True)
    if len(parts) == 2 and len(parts[0]) <= 60 and not ends_with_colon:
        label = _fuzzy_label(_label_key(parts[0]), rules)
        # Only header fields: "Réalisation (2022) : ..." inside a description is a sub-heading, not "Réalisations".
        if label is not None and label.kind == "field":
            return LabelHit(label, clean_text(parts[1]) or None, fuzzy=True)
    if loose:
        words = line.split()
        for n in range(min(6, len(words) - 1), 0, -1):
            label = table.get(_label_key(" ".join(words[:n])))
            # "Ville de Sherbrooke", "City of Oslo" (a page's header) name a city; "City Oslo" is a label and value
            if label is not None and label.kind == "field" and len(_label_key(" ".join(words[:n]))) >= 4 \
                    and not _NAME_OF.match(fold(words[n])):
                return LabelHit(label, clean_text(" ".join(words[n:])) or None)
    return None


def opens_with_label(line: str) -> bool:
    """Whether a line opens with a template label and its colon ("Références / liens : https://…"), as written
    (no misspelt label: a sentence that merely starts with a word and a colon is not one)."""
    parts = _COLON.split(line.strip(), maxsplit=1)
    return len(parts) == 2 and len(parts[0]) <= 80 and _lookup(_label_table(), _label_key(parts[0])) is not None


@dataclass(frozen=True)
class _Line:
    text: str
    block: int
    kind: str = "paragraph"
    value_beside: bool = False  # a table cell whose row goes on with another cell, where the value is
    figures_beside: bool = False  # a table cell whose row's other cells hold figures only (a budget, a timetable)
    figure_cell: bool = False  # a later cell of such a row ("City" as a budget line's funder): never a label
    in_wide_table: bool = False  # a cell of a table of three columns or more than four, which the template has not
    # the one cell matching a field's label in a row of three cells or more ("Phase | Période | Responsable")
    lone_label_in_row: bool = False
    # the fields whose labels a row of two cells or more holds, where two of them stand side by side with no
    # value between them ("Titre | Période | Responsable | Volume": a table's column names, not label and value)
    row_fields: tuple[str, ...] = ()
    # a cell of the one row of its table (of two rows or more) that holds a field's label: a table of steps with its
    # column names (« Ville | Partenaire » over « Lyon | Association X »), not a form's header, which has several
    only_label_row: bool = False
    wrapped: bool = False  # a later line of a PDF's table cell (pipeline/ingest/pdf.py): its value goes on
    alone: bool = False  # the whole text of a paragraph or heading: a heading when it is a few words


def _lines(blocks: list[Block], rules: SegmentSettings = _DEFAULTS) -> list[_Line]:
    paired = _pair_header_rows(blocks, rules)
    data_rows = _figure_rows(paired)
    columns: Counter = Counter()
    row_cells: Counter = Counter()
    row_fields: dict[tuple, list[tuple[int, str]]] = {}  # (table, row) -> (column, field) of its labels
    table_rows: dict[int, set] = {}
    for b in paired:
        if b.kind == "cell" and b.table is not None and b.col is not None:
            columns[b.table] = max(columns[b.table], b.col + 1)
            row_cells[(b.table, b.row)] += 1
            table_rows.setdefault(b.table, set()).add(b.row)
            hit = match_label(b.text, rules=rules)
            if hit is not None and hit.label.kind == "field":
                row_fields.setdefault((b.table, b.row), []).append((b.col, hit.label.name))
    label_rows = Counter(table for table, _ in row_fields)  # rows holding a field's label, per table
    lines = [
        _Line(piece, i, b.kind, _value_beside(paired, i), (b.table, b.row) in data_rows and b.col == 0,
              figure_cell=(b.table, b.row) in data_rows and bool(b.col),
              in_wide_table=b.kind == "cell" and (columns[b.table] == 3 or columns[b.table] > 4),
              lone_label_in_row=b.kind == "cell" and row_cells[(b.table, b.row)] >= 3
              and len(row_fields.get((b.table, b.row), ())) == 1,
              row_fields=_side_by_side(row_fields.get((b.table, b.row), ()))
              if b.kind == "cell" and row_cells[(b.table, b.row)] >= 2 else (),
              only_label_row=b.kind == "cell" and len(table_rows.get(b.table, ())) >= 2
              and label_rows[b.table] == 1 and (b.table, b.row) in row_fields,
              wrapped=b.kind == "line" and n > 0 and k == 0,
              alone=b.kind in ("paragraph", "heading") and piece.strip() == b.text.strip())
        for i, b in enumerate(paired)
        for n, t in enumerate(line for line in map(without_instructions, b.text.split("\n")) if line.strip())
        for k, piece in enumerate(split_inline_sections(t))
    ]
    # A PDF or a scan gives a table's cells as lines: a name of a few words alone on its line followed by an amount
    # alone ("Evaluation" / "3,000", not "…renovation," / "2019.") is a budget line, as a Word table's row is
    return [replace(line, figures_beside=True)
            if line.kind == "line" == nxt.kind and _BUDGET_NAME.fullmatch(line.text.strip())
            and FIGURE_CELL.fullmatch(nxt.text.strip()) and not _YEAR_ALONE.fullmatch(nxt.text.strip()) else line
            for line, nxt in zip(lines, lines[1:] + [_Line("", -1)])]


def _names_a_column(hit: LabelHit, line: _Line, current: "_Form | None") -> bool:
    """Whether a field's label in a table inside a part of the description names a column of that table (a
    timetable's « Date | Étape | Personne de contact », "Phase | Période | Responsable | Volume", « Période |
    Étape », « Titre | Période | Responsable », « Ville | Partenaire » over rows of steps) rather than opening a
    second form, whose header alternates labels and values (« Ville | Lyon | Date | 12/03/2024 »)."""
    if hit.label.kind != "field" or current is None or not current.sections:
        return False
    given = hit.label.name in current.fields
    return (line.in_wide_table or line.lone_label_in_row
            or (given and line.kind == "cell" and hit.inline is None
                and (hit.label.name in _COLUMN_NAMED_FIELDS or line.only_label_row))
            or bool(line.row_fields) and all(name in current.fields for name in line.row_fields))


def _side_by_side(fields: list[tuple[int, str]] | tuple) -> tuple[str, ...]:
    """The fields of a row's labels (column, field) when two of them are in adjacent cells, else ()."""
    columns = sorted(col for col, _ in fields)
    return tuple(name for _, name in fields) if any(b - a == 1 for a, b in zip(columns, columns[1:])) else ()


# Fields a table of steps names a column after (« Période », "Dates"): once the form has given them, such a cell in
# a part of the description is that column's name
_COLUMN_NAMED_FIELDS = frozenset({"period_text", "form_date"})
# Fields whose value may be a figure alone: a date, a year, an area's number, a telephone number
# the fields of the template's contact block (« Coordonnées »)
_CONTACT_FIELDS = frozenset({"city", "department", "form_date", "contact_person"})
_FIELDS_OF_FIGURES = frozenset({"form_date", "period_text", "declared_area_text", "contact_person"})
_BUDGET_NAME = re.compile(r"[^\W\d][^:;,.\d]{0,40}")  # a few words, no figure and no punctuation
_YEAR_ALONE = re.compile(r"(?:19|20)\d\d\.?")


def _figure_rows(blocks: list[Block]) -> set[tuple[int, int]]:
    """(table, row) of the rows with a cell after the first that is a figure alone ("Evaluation | 0 | 4,000",
    "Evaluation | 3,000 | University (in kind)"), and of the rows with only dashes or N/A after the first cell in a
    table that has such a row, or in a wider one ("Impact | —" among budget lines, "Impact | — | —"): a budget's
    line names a cost, not the form's impact part."""
    rows: dict[tuple[int, int], list[Block]] = {}
    for b in blocks:
        if b.kind == "cell" and b.table is not None:
            rows.setdefault((b.table, b.row), []).append(b)
    out, blank, lines = set(), [], Counter()
    for key, cells in rows.items():
        rest = [c.text.strip() for c in cells if c.col != 0 and c.text.strip()]
        # a year with no spending is often a dash or N/A ("Impact | — | 2 000 €")
        figures = [text for text in rest if value_or_none(text) is not None]
        if any(FIGURE_CELL.fullmatch(text) for text in figures):
            out.add(key)
            first = next((c.text for c in cells if c.col == 0), "")
            lines[key[0]] += match_label(first) is None  # a budget line ("Coordination"), not "Period | 2022-2023"
        elif rest and not figures:
            blank.append((key, len(rest)))
    out |= {key for key, n in blank if n >= 2 or lines[key[0]] >= 2}
    return out


def _value_beside(blocks: list[Block], i: int) -> bool:
    b, nxt = blocks[i], blocks[i + 1] if i + 1 < len(blocks) else None
    return (b.kind == "cell" and b.table is not None and nxt is not None and nxt.kind == "cell"
            and (nxt.table, nxt.row) == (b.table, b.row))


@loader("inline_section_pattern")
def _inline_section_pattern() -> re.Pattern:
    labels = sorted((k for k, v in _label_table().items() if v.kind == "section"), key=len, reverse=True)
    alternatives = "|".join(re.escape(k).replace("/", r"\s*/\s*") for k in labels)
    # After the end of a sentence or another label's colon: "... its cover. Stimulus/Rationale: Process: ..."
    return re.compile(rf"(?<=[.!?;:\"'\u201d\u00bb)])\s+(?=(?:{alternatives})\s*:)")


def split_inline_sections(line: str) -> list[str]:
    """A paragraph that strings several sections together, cut before each capitalised section label."""
    folded = fold_chars(line)
    cuts = [m.end() for m in _inline_section_pattern().finditer(folded) if line[m.end()].isupper()]
    if not cuts:
        return [line]
    bounds = [0, *cuts, len(line)]
    return [line[a:b].strip() for a, b in zip(bounds, bounds[1:]) if line[a:b].strip()]


def _is_language_heading(text: str, rules: SegmentSettings = _DEFAULTS) -> bool:
    hit = match_label(text, rules=rules)
    return hit is not None and hit.label.name == "language_version"


def _leading_heading(lines: list[_Line], rules: SegmentSettings = _DEFAULTS) -> str | None:
    """The first short heading before any label: the title of a report written without the form."""
    for line in lines:
        if match_label(line.text, rules=rules) is not None:
            return None
        if line.kind == "heading" and 0 < count_words(line.text) <= 20:
            return line.text
    return None


def _pair_header_rows(blocks: list[Block], rules: SegmentSettings = _DEFAULTS) -> list[Block]:
    """A table row of labels above a row of values becomes label, value, label, value."""
    out: list[Block] = []
    i = 0
    while i < len(blocks):
        row = _row_at(blocks, i)
        if row and all((hit := match_label(b.text, rules=rules)) and hit.inline is None for b in row):
            nxt = _row_at(blocks, i + len(row))
            if nxt and len(nxt) == len(row) and nxt[0].row == row[0].row + 1 and not any(match_label(b.text, rules=rules) for b in nxt):
                for label_block, value_block in zip(row, nxt):
                    out.extend([label_block, value_block])
                i += 2 * len(row)
                continue
        out.append(blocks[i])
        i += 1
    return out


def _row_at(blocks: list[Block], i: int) -> list[Block]:
    first = blocks[i] if i < len(blocks) else None
    if first is None or first.kind != "cell" or first.table is None or first.col != 0:
        return []
    row = [first]
    for b in blocks[i + 1:]:
        if b.kind == "cell" and b.table == first.table and b.row == first.row:
            row.append(b)
        else:
            break
    return row if len(row) > 1 else []


def _forms(lines: list[_Line], rules: SegmentSettings = _DEFAULTS) -> tuple[list[_Form], bool, list[str]]:
    """Forms in reading order, whether any template label was seen at all, and the lines before the first form."""
    forms: list[_Form] = []
    preamble: list[str] = []
    current: _Form | None = None
    target: tuple[str, str] | None = None  # where following lines go: ("field"|"section"|"intro", name)
    field_block: int | None = None  # a header value is the rest of its label's block or the next block
    used_labels = False
    label_block: int | None = None
    # The heading last read, with nothing after it, and the part of a form holding it (None: the preamble, or no
    # part): a heading just before the next form's first label is that form's ("# Second practice" between two
    # joined forms), not the end of the previous one's last part.
    last_heading: tuple[list[str] | None, str] | None = None
    previous_block = -1
    for line in lines:
        prior_block, previous_block = previous_block, line.block
        # Colon-less labels are only trusted in a PDF's header area, before any description text.
        in_header = current is None or not (current.sections or current.intro)
        hit = match_label(line.text, loose=line.kind == "line" and in_header, rules=rules)
        if hit is not None and line.figures_beside and (hit.label.kind != "field"
                                                        or hit.label.name not in _FIELDS_OF_FIGURES):
            hit = None  # a budget's "Evaluation | 4,000" or "City | 18 000 €" row; a date or a year may be a field's
        if hit is not None and _names_a_column(hit, line, current):
            hit = None
        if line.figure_cell:
            hit = None  # "Coordination | 12,000 | City": the funder, not the city field
        if line.wrapped and target is not None and target[0] == "field" and line.block == field_block:
            hit = None  # a header value wrapped in its cell, even on a line that reads as a label ("City")
        if hit is not None and hit.label.kind == "field" and hit.inline and current is not None \
                and line.kind == "line" and hit.label.name in current.fields and match_label(line.text, rules=rules) is None:
            hit = None  # a sentence that merely starts with a label word
        if hit is not None and hit.fuzzy and (
                (current is None and not (hit.label.kind == "field" and (hit.inline or line.value_beside)))
                or (current is not None and hit.label.kind == "field" and (hit.label.name in current.fields or current.sections))
                or (current is not None and hit.label.name in current.sections)):
            # A misspelt label opens a form only with its value beside it ("Citty: Oslo", or "Vile :" in a table
            # cell with the value in the next one; not a guide's "Areas of action" heading); it never repeats a
            # field or reopens a section.
            hit = None
        if hit is None and line.block == label_block and (_HINT.match(line.text) or line.value_beside):
            continue  # an instruction printed under the label, e.g. "(name of your city)", its value in the next cell
        label_block = line.block if hit is not None and hit.inline is None else None
        if hit is not None:
            heading_before, last_heading = last_heading, None
            used_labels = True
            label_key = _label_key(_COLON.split(line.text, maxsplit=1)[0])
            from_row = (line.kind == "cell" and not hit.fuzzy and hit.label.kind == "section"
                        and label_key in _header_objective_labels()
                        and (current is None or not (current.sections or current.intro or current.saw_description_marker
                                                     or "main_objective" in current.fields)))
            if from_row:
                hit = LabelHit(Label("field", "main_objective"), hit.inline)
            kind, name = hit.label.kind, hit.label.name
            if kind == "field" and name == "main_objective" and current is not None and current.objective_from_row \
                    and not from_row:
                # the header names its main objective after all: the « Objectif(s) » row was the purpose
                _objective_row_to_purpose(current)
            if kind == "field" and current is not None and target == ("field", name):
                # the field's label again, no other label between: before its value (« Période de mise en œuvre : »
                # then « Durée : 24 mois à partir de février 2023 ») a word of the value; after it, a period told
                # in parts (« … : février 2023 » then « Durée : 24 mois »). Not a second form.
                value = current.fields.get(name)
                if field_block is None and not value:
                    if hit.inline:
                        current.fields[name], field_block = hit.inline, line.block
                    current.label_keys.append(label_key)
                    continue
                if name == "period_text" and value:
                    current.fields[name], field_block = f"{value} ; {line.text}", line.block
                    current.label_keys.append(label_key)
                    continue
            if kind == "field":
                if current is None or name in current.fields:
                    current = _Form()
                    if heading_before is not None:
                        current.heading_from, current.heading = heading_before
                        if current.heading_from is not None:
                            current.heading_from.pop()
                    forms.append(current)
                current.fields[name] = hit.inline
                current.objective_from_row = from_row or (current.objective_from_row and name != "main_objective")
                target, field_block = ("field", name), (line.block if hit.inline else None)
            elif kind == "section":
                if current is None:
                    current = _Form()
                    forms.append(current)
                if name not in current.sections:
                    current.sections[name] = []
                    current.order.append(name)
                if hit.inline:
                    current.sections[name].append(hit.inline)
                target = ("section", name)
            else:
                if name == "form_start" and current is not None and current.has_content() and (
                        current.sections or current.saw_description_marker or _CONTACT_FIELDS & current.fields.keys()):
                    # « Coordonnées » after a practice block with no contact yet is that form's other block (the two
                    # blocks swapped), not the next form
                    current, target = None, None
                elif name == "form_start" and current is not None and _trailing_contact_block(current, forms):
                    # the contact block that closes the form before it: the next form starts here (the block is
                    # given to its practice by _attach_header_blocks)
                    current, target = None, None
                elif current is not None and name == "description":
                    current.saw_description_marker = True
                    target = ("intro", "intro")
                    if hit.inline:
                        current.intro.append(hit.inline)
                elif current is not None and target and target[0] == "field":
                    target = None
            if current is not None:
                current.label_keys.append(label_key)
            continue
        last_heading = (None, line.text) if line.kind == "heading" else None
        if current is None and not forms:
            preamble.append(line.text)
        if current is None or target is None:
            continue
        kind, name = target
        if kind == "field":
            if name == "period_text" and (field_block is None or current.fields.get(name)) \
                    and _continues_the_period(line):
                # "Start: February 2023" then "End: January 2025": the period told in parts, a line (or a table's
                # row: its value is the next cell) each
                previous, word_alone = current.fields.get(name), line.kind == "cell" and line.value_beside
                part = f"{line.text.strip().rstrip(':')}:" if word_alone else line.text
                current.fields[name] = f"{previous} ; {part}" if previous else part
                field_block = line.block + 1 if word_alone else line.block
                continue
            if field_block is None:
                field_block = line.block
            if line.block == field_block or (name == "declared_area_text" and _LIST_ITEM.match(line.text)):
                previous = current.fields.get(name)
                current.fields[name] = f"{previous} {line.text}" if previous else line.text
                continue
            target = ("intro", "intro")
            kind = "intro"
        if kind == "section":
            held = current.sections[name]
        else:
            if not current.intro and "_intro" not in current.order:
                current.order.insert(0, "_intro")
            held = current.intro
        held.append(line.text)
        if line.kind == "heading":
            last_heading = (held, line.text)
        header = not (current.sections or current.saw_description_marker)
        # the line after a label alone on its line is that label's value ("Lead partner:" / "Cork City Libraries")
        after_label = bool(current.unknown_labels) and current.unknown_labels[-1][2] == prior_block
        if not after_label and _looks_like_label(line, header):
            label_alone = line.text.strip().endswith(":") or ":" not in line.text
            current.unknown_labels.append((_COLON.split(line.text.strip(), maxsplit=1)[0], header,
                                           line.block if label_alone else -1))
    return forms, used_labels, preamble


def _trailing_contact_block(current: _Form, forms: list[_Form]) -> bool:
    """Whether `current` holds only a contact block's values that follow a practice without contact: the block that
    closes that practice (its form written practice first, contact last). A practice that wrote "N/A" there has
    its contact block: the next one opens the next practice."""
    filled = {name for name, value in current.fields.items() if value_or_none(value)}
    previous = forms[-2] if len(forms) >= 2 and forms[-1] is current else None
    return (not current.has_content() and not current.sections and bool(filled) and filled <= _CONTACT_FIELDS
            and previous is not None and previous.has_content()
            and not any(value_or_none(previous.fields.get(name)) or says_no_value(previous.fields.get(name))
                        for name in _CONTACT_FIELDS))


def _looks_like_label(line: _Line, header: bool) -> bool:
    """A line written as a label the template does not use ("Responsible unit:", "How we did it: With…"), whose
    text is then read as prose under the label before it: a few words and a colon, alone on their line or before a
    capitalised text, up to three words alone in their paragraph ("Partenaires"), or, among the header's rows, a
    cell of a few words with its value in the next cell."""
    text = line.text.strip()
    head, colon, rest = text.partition(":")
    if line.figures_beside or not _UNKNOWN_LABEL.fullmatch(head.strip()) or _list_introduction().search(fold(head)):
        return False
    if colon:
        # "How we did it: With the museum we…": a label and its text on one line, not "Note that: …"
        return not rest.strip() or (count_words(head) <= 5 and rest.strip()[:1].isupper())
    # a heading of a few words on its own ("Partenaires"), or a header row's cell with its value beside it
    return (line.alone and count_words(text) <= 3) or (header and line.kind == "cell" and line.value_beside)


def _objective_row_to_purpose(form: _Form) -> None:
    """The value of an « Objectif(s) » row read as the main objective becomes the purpose, first of the parts."""
    value = form.fields.pop("main_objective", None)
    form.objective_from_row = False
    if "purpose" not in form.sections:
        form.sections["purpose"] = []
        form.order.insert(0, "purpose")
    if value:
        form.sections["purpose"].insert(0, value)


def _attach_header_blocks(forms: list[_Form]) -> list[_Form]:
    """The forms, each block of header values that stands apart given to the practice it belongs to.

    A block of header values with no title or description of its own (« Coordonnées » or "Contact details" after
    the description, a contact block at the end) is the practice's before it, or after it when no practice comes
    before. Its values fill the fields that practice leaves empty; a value that differs from one the practice
    already gives is kept out and named (`other_value`), never dropped unseen. A block after the last practice of
    a file of several also fills the fields the earlier ones leave empty, as a block at the top is passed on to the
    practices after it. A block of empty fields stays a blank form.
    """
    blocks = [i for i, form in enumerate(forms)
              if not form.has_content() and any(value_or_none(v) for v in form.fields.values())]
    for i in blocks:
        block = forms[i]
        before = [form for form in forms[:i] if form.has_content()]
        after = [form for form in forms[i + 1:] if form.has_content()]
        owner = before[-1] if before else after[0] if after else None
        if owner is None:
            continue
        earlier = before[:-1] if not after else []  # the file's closing block: the earlier practices' too
        for name, value in block.fields.items():
            value = value_or_none(value)
            if value is None:
                continue
            given = value_or_none(owner.fields.get(name))
            if given is None:
                owner.fields[name] = value
            elif fold(given) != fold(value) and name not in owner.other_values:
                owner.other_values.append(name)
            for form in earlier:
                if value_or_none(form.fields.get(name)) is None:
                    form.fields[name] = value
        owner.label_keys.extend(block.label_keys)
        if block.heading is not None and block.heading_from is not None:
            block.heading_from.append(block.heading)  # the heading above the block stays where it was read
        block.fields.clear()
    return [form for k, form in enumerate(forms) if k not in blocks or form.fields]


def _prose_with_few_labels(forms: list[_Form], preamble: list[str], rules: SegmentSettings = _DEFAULTS) -> bool:
    """One form of a few labels, at least one filled, around prose: a report written without the template with
    a line such as "City: Oslo" or "Key references:" added. A filled template has many more labels, and the
    guide's preamble stands before a form of its own (SegmentSettings.max_labels_in_prose)."""
    if len(forms) != 1:
        return False
    form = forms[0]
    return (form.n_labels() <= rules.max_labels_in_prose and form.has_value()
            and count_words(" ".join(preamble + form.intro)) >= rules.min_fallback_words)


def _read_prose(form: _Form, preamble: list[str]) -> None:
    """The prose of a report with a few labels becomes its description, in reading order; its first line is the
    title where no label gives one and the line is short, as for a report without any label."""
    prose = preamble + form.intro
    if not value_or_none(form.fields.get("title")) and prose and count_words(prose[0]) <= 20:
        form.fields["title"] = prose[0]
        form.title_from_heading = True
        if preamble:
            preamble = preamble[1:]
        else:
            form.intro = form.intro[1:]
    form.intro = preamble + form.intro
    form.intro_is_prose = True
    if "_intro" in form.order:
        form.order.remove("_intro")
    if form.intro:
        form.order.insert(0, "_intro")


class Segmenter:
    """Splits the blocks of one file into practices."""

    def __init__(self, taxonomy: Taxonomy | None = None, rules: SegmentSettings | None = None):
        self.taxonomy = taxonomy or load_taxonomy()
        self.rules = rules or _DEFAULTS

    def segment(self, blocks: list[Block], source_file: str, sha256: str) -> SegmentResult:
        # "English version" over one language's text of a bilingual file belongs to no section and titles nothing
        lines = [line for line in _lines(blocks, self.rules) if not _is_language_heading(line.text, self.rules)]
        lines = _without_letter_lines(lines, self.rules)
        lines = [line for line in lines
                 if not _web_page_line().match(fold(line.text)) and not _SITE_FOOTER.match(line.text)
                 and not _a_running_header(line.text, self.rules)]
        forms, used_labels, preamble = _forms(lines, self.rules)
        forms = _attach_header_blocks(forms)
        # the template sent back whole with the city's form filled in: the guide's example above it is not the city's
        # practice (with the form left blank, the example is what the file holds, and is read as before)
        example_left_out = (any(_is_guide_example(f) for f in forms)
                            and any(f.has_content() and not _is_guide_example(f) for f in forms))
        if example_left_out:
            forms = [f for f in forms if not _is_guide_example(f)]
        if _prose_with_few_labels(forms, preamble, self.rules):
            _read_prose(forms[0], preamble)
        practices: list[Practice] = []
        n_empty = 0
        previous: Practice | None = None
        heading = _leading_heading(lines, self.rules)
        for form in forms:
            # a form with its own title label: the heading before it goes back where it was read (nothing is dropped),
            # unless it only says that title again
            title = value_or_none(form.fields.get("title"))
            if form.heading is not None and title is not None:
                if form.heading_from is not None and fold(form.heading) != fold(title):
                    form.heading_from.append(form.heading)
                form.heading = None
        for form in forms:
            if not form.has_content():
                n_empty += form.is_blank_form()
                continue
            # the heading just before the form; for the first, else the document's first heading
            heading_here = form.heading or (heading if not practices else None)
            if heading_here and not value_or_none(form.fields.get("title")) and not _names_the_form(heading_here):
                form.fields["title"] = heading_here
                form.title_from_heading = True
            practice = self._practice(form, source_file, sha256, len(practices) + 1, previous)
            # the same form pasted twice: kept (nothing is dropped), and named so a reader can remove the copy
            same = next((p for p in practices if (p.title, p.description) == (practice.title, practice.description)), None)
            if same is not None and practice.description:
                practice.warnings.append(f"repeats:{same.practice_index}")
            if example_left_out and not practices:
                practice.warnings.append("guide_example")
            practices.append(practice)
            previous = practice
        if len(practices) == 1 and practices[0].title is None:
            # a form sent without its title often carries it in the file's name
            named = title_from_file_name(source_file, practices[0].city)
            if named:
                practices[0] = replace(practices[0], title=named, warnings=[
                    "title_from_file_name" if w == "missing:title" else w for w in practices[0].warnings])
        if not forms and not used_labels:
            fallback = self._free_text(lines, source_file, sha256)
            if fallback is not None:
                practices.append(fallback)
        return SegmentResult(practices, len(forms), n_empty, used_labels)

    def _practice(self, form: _Form, source_file: str, sha256: str, index: int, previous: Practice | None) -> Practice:
        values = {name: value_or_none(form.fields.get(name)) for name in HEADER_FIELDS}
        values["title"] = _unquote(values["title"])
        warnings: list[str] = ["title_from_heading"] if form.title_from_heading else []
        sections = {}
        for name in SECTION_FIELDS:
            lines, left = _without_template_requests(form.sections.get(name, []))
            if left:
                warnings.append(f"template_text:{name}")
            sections[name] = value_or_none("\n".join(_without_pasted_letter(lines, self.rules)))
        if previous is not None:
            for name in _INHERITED:
                if values[name] is None and getattr(previous, name) and not says_no_value(form.fields.get(name)):
                    values[name] = getattr(previous, name)
                    warnings.append(f"inherited:{name}")
        parts = []
        for name in form.order:
            text = value_or_none("\n".join(form.intro)) if name == "_intro" else sections.get(name)
            if text:
                parts.append(text)
        description = "\n".join(parts) or None
        period = parse_period(values["period_text"])
        declared = self.taxonomy.parse_declared(values["declared_area_text"])
        # a form filled in with a few words is in the language of the template's labels it was written on
        lang = detect_language(description or " ".join(filter(None, [values["title"], values["main_objective"]])),
                               labels=_label_language(form.label_keys))
        if lang not in READ_LANGUAGES:
            warnings.append(f"other_language:{lang}")
        # every field of the template's header: a city checking its form sees what it left blank
        for name in ("city", "department", "form_date", "contact_person", "title", "declared_area_text",
                     "main_objective", "period_text"):
            if values[name] is None:
                warnings.append(f"missing:{name}")
        warnings.extend(f"other_value:{name}" for name in form.other_values)
        # a label not of the template matters where a field or part is missing: its text may be that one
        missing_part = description is not None and any(sections[name] is None for name in _MAIN_PARTS)
        missing_field = any(w.startswith("missing:") for w in warnings)
        unknown = dict.fromkeys(label.replace("|", "/") for label, header, _ in form.unknown_labels
                                if missing_part or (header and missing_field))
        if unknown:
            warnings.append("unknown_label:" + "|".join(unknown))  # one warning naming them all
        if values["declared_area_text"] and not declared:
            warnings.append("unrecognised_area")
        if values["period_text"] and period.start is None:
            warnings.append("unparsed_period")
        if values["period_text"] and (backwards := reversed_range(values["period_text"])):
            warnings.append(f"period_reversed:{backwards}")  # "2024 - 2021": read as 2021-2024, the city checks
        if description is None:
            warnings.append("missing:description")
        elif not any(sections.values()):
            warnings.append("no_description_sections")
        elif (any(sections[name] is None for name in _MAIN_PARTS)
              and (unlabelled := count_words(value_or_none("\n".join(form.intro)))) >= self.rules.unlabelled_text_words):
            # a part not found may well be in that prose: one warning says so, not one "section missing" per part
            warnings.append(f"unlabelled_text:{unlabelled}")
        else:
            warnings.extend(f"missing_section:{name}" for name in SECTION_FIELDS if sections[name] is None)
        n_words = count_words(description)
        if description and n_words < self.rules.short_description_words:
            warnings.append("short_description")
        return Practice(
            practice_id=f"{sha256[:12]}-{index}",
            source_file=source_file,
            practice_index=index,
            lang=lang,
            **values,
            declared_areas=declared,
            period_start=period.start,
            period_end=period.end,
            ongoing=period.ongoing,
            **sections,
            description=description,
            n_words=n_words,
            warnings=warnings,
        )

    def _free_text(self, lines: list[_Line], source_file: str, sha256: str) -> Practice | None:
        """A submission written without the template: one practice, the whole text as description."""
        texts = [line.text for line in lines]
        if count_words(" ".join(texts)) < self.rules.min_fallback_words:
            return None
        title = texts[0] if count_words(texts[0]) <= 20 else None
        body = texts[1:] if title else texts
        description = "\n".join(body)
        lang = detect_language(description)
        return Practice(
            practice_id=f"{sha256[:12]}-1",
            source_file=source_file,
            practice_index=1,
            lang=lang,
            title=title,
            description=description,
            n_words=count_words(description),
            warnings=["no_template_labels"] + ([] if title else ["missing:title"])
            + ([] if lang in READ_LANGUAGES else [f"other_language:{lang}"]),
        )


def segment(blocks: list[Block], source_file: str = "", sha256: str = "0" * 64) -> SegmentResult:
    return Segmenter().segment(blocks, source_file, sha256)
