"""Text clean-up and value parsing shared by the ingest and segment stages."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache


from pipeline.config import LABELS_FILE, load_yaml
from pipeline.registry import loader

_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")  # the em space and its kin too
_LINE_SEPARATORS = re.compile(r"[\u2028\u2029\x85]")  # Word's and Unicode's other line ends
_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# no character at all (U+FFFE, U+FFFF, a lone surrogate: a spreadsheet refuses them), and the marks that reverse the
# order text is shown in ('Title \u202egnp.exe' shown as 'exe.png'), which a form in French or English never needs
_NOT_SHOWN = re.compile(r"[\ufffe\uffff\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
# a run of signs longer than any a text needs ('((((…' by the thousand): the tokenizer splits it one sign at a time,
# in time that grows with the square of its length
_SIGN_RUN = re.compile(r"[^\w\s]{65,}")
MAX_SIGN_RUN = 64
# A table cell that holds a figure only: "8 000 €", "4,000", "13 %", "2022", "1,5 FTE", "12 (EUR)".
FIGURE_CELL = re.compile(r"[\d\s.,'%€$£+-]*\d[\d\s.,'%€$£+-]*(?:\(?[A-Za-z]{1,5}\)?\.?)?")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'", "`": "'"})
_DASHES = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-"})


_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\ufb05": "st", "\ufb06": "st",
                            # the bullets of Word's Symbol and Wingdings fonts, which a PDF keeps as private-use
                            # characters no other font shows (U+F0B7 for "•")
                            "\uf0b7": "•", "\uf0a7": "▪", "\uf076": "•", "\uf0d8": "•", "\uf0a8": "•",
                            "\uf06e": "▪", "\uf0fc": "✓"})


def clean_text(text: str) -> str:
    """Visible text as a person reads it: no control, zero-width or direction-reversing characters, single spaces,
    ligatures a PDF keeps ('Oﬃcer', 'conﬂict') spelled out and its symbol fonts' bullets as bullets, a run of signs
    cut to MAX_SIGN_RUN."""
    text = _NOT_SHOWN.sub("", _ZERO_WIDTH.sub("", text)).translate(_LIGATURES)
    text = _CONTROL.sub(" ", text)
    text = _SIGN_RUN.sub(lambda m: m.group(0)[:MAX_SIGN_RUN], text)
    text = _LINE_SEPARATORS.sub("\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(lines).strip()


_SENTENCE_END = (".", ":", "!", "?", ";")
_CUT_AFTER_HYPHEN = re.compile(r"[^\W\d_]-$")
# A line that ends on a word no sentence ends on ("reported in" / "2018 that…", "Somali and" / "Syrian…") goes on
# whatever the next line starts with, a list item's marker aside.
# a word after a slash is no article: "N/A" ends a value
_ENDS_MID_SENTENCE = re.compile(
    r"(?<!/)\b(?:and|or|of|in|the|to|a|an|with|for|by|from|at|on|than|every|each|whom|whose|which|their|its|our|into|"
    r"between|among|et|ou|de|du|des|la|le|les|en|au|aux|dans|par|pour|avec|sur|un|une|que|qui|dont|chaque|leur|"
    r"leurs|notre|nos|ces|cette|entre|chez|vers)$", re.I)
_ITEM_START = re.compile(r"(?:[-•*–]\s|\d{1,2}[.)]\s|[a-z][.)]\s)")
# A count that goes on in lower case ("62 pupils", « 300 familles »): after a long line of prose ending on a word
# ("were placed"), the wrap fell before the number; a short line ("Participants") is a heading or a table's cell.
_COUNT_GOES_ON = re.compile(r"\d[\d  .,]*\s+[a-zà-ÿ]")
_PROSE_LINE_WORDS = 8
# "Starting point: Before 2021…", « Ville : »: a line opening with a label of a few words goes on no line (a scan
# may read a full stop as a comma); « Sproochentreff veut enlever cette peur : » is a sentence
_LABEL_START = re.compile(r"[^\W\d_][^\s:.;]*(?:\s+[^\s:.;]+){0,3}\s?:(?:\s|$)")


def ends_mid_sentence(line: str) -> bool:
    """Whether a line ends on a word no sentence ends on ("reported in", « de »)."""
    return bool(_ENDS_MID_SENTENCE.search(line))


def unwrap_lines(lines, min_words: int = 1, min_chars: int = 0, ends: tuple[str, ...] = _SENTENCE_END) -> list[str]:
    """Lines re-joined where a layout or a hard wrap broke a sentence: a line that starts in lower case, or follows
    a line ending on a comma or an opening quotation mark, with a bracket left open ("7. Services publics (a." / "Santé…) ; 10. Médiation") or
    on a word no sentence ends on ("in", « de ») and opens no list item or label, or
    starts with a count after a long line of prose ending on a word ("were placed" / "62 pupils…"), goes on the
    previous one when that one does not end with one of `ends` and has at least `min_words` words and `min_chars`
    characters."""
    # Each line of `out` as its pieces, with what the rules read of it kept up to date as lines join it (its words,
    # its brackets left open, its length, its end): reading the whole joined line again at each line took time
    # growing with the square of the lines.
    out: list[list[str]] = []
    words: list[int] = []
    depth: list[int] = []
    length: list[int] = []
    tail: list[str] = []
    for line in lines:
        previous = tail[-1] if out else ""
        # a bracket opening the line goes on too: « réalisées avec interprète » / « (contre 310 en 2020) »
        opens_anew = _ITEM_START.match(line) or _LABEL_START.match(line)  # "- a guide", "Ville :" after « REÇU LE »
        goes_on = (line[:1].islower() or line[:1] == "("
                   or (previous.endswith(",") and not opens_anew)
                   or previous.endswith(_OPENING_QUOTES)  # « Le projet « / Les Médiatrices » … »
                   or (ends_mid_sentence(previous) and not opens_anew)
                   or (previous[-1:].islower() and out and words[-1] >= _PROSE_LINE_WORDS
                       and _COUNT_GOES_ON.match(line) is not None and not opens_anew))
        # a bracket left open goes on whatever the line ends with ("7. Services publics (a." / "Santé…) ; 10. …")
        in_bracket = bool(out) and depth[-1] > 0 and not opens_anew
        if (out and length[-1] and ((goes_on and not previous.endswith(ends)) or in_bracket)
                and words[-1] >= min_words and length[-1] >= min_chars):
            # no space after a word cut at its hyphen, nor inside “ ” (« » has one in French)
            joint = "" if _CUT_AFTER_HYPHEN.search(previous) or previous.endswith(("“", "„")) else " "
            out[-1] += [joint, line]
            tail[-1] = (previous + joint + line)[-_TAIL:]
            length[-1] += len(joint) + len(line)
            # a word cut after its hyphen joins the next line's first word: one word of the two
            merged = not joint and line[:1] and not line[:1].isspace() and words[-1] and line.split()
            words[-1] += len(line.split()) - (1 if merged else 0)
            depth[-1] += line.count("(") - line.count(")")
        else:
            out.append([line])
            tail.append(line[-_TAIL:])
            length.append(len(line))
            words.append(len(line.split()))
            depth.append(line.count("(") - line.count(")"))
    return ["".join(pieces) for pieces in out]


_TAIL = 80  # what the rules read of the end of a line: its last word, its last sign
_OPENING_QUOTES = ("«", "“", "„", "‹")  # a quotation opened at a line's end goes on with the next line


def join_wrapped(previous: str, line: str) -> str:
    """Two pieces of one wrapped line: a word cut after its hyphen ("self-" + "government") is joined whole."""
    return f"{previous}{line}" if _CUT_AFTER_HYPHEN.search(previous) else f"{previous} {line}"


@lru_cache(maxsize=64)
def words_pattern(words: tuple[str, ...], at_start: bool = False) -> re.Pattern:
    """Any of `words` as whole words (the longest first, so « bien cordialement » wins over « cordialement »), at
    the start of the text with `at_start`; compiled once per list."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile((r"^(?:" if at_start else r"\b(?:") + alternatives + r")\b")


def is_singular(n: int, lang: str | None) -> bool:
    """Whether a count takes the singular in `lang`: 1, and in French 0 too ("0 mot", "1 word", "0 words")."""
    return n == 1 or (lang == "fr" and n == 0)


def shorten(text: str, limit: int) -> str:
    """The text on one line, at most `limit` characters: cut after its last whole word, with an ellipsis."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]  # room for the ellipsis
    if not text[limit - 1].isspace():
        space = cut.rfind(" ")
        end = text.find(" ", space + 1)
        word = text[space + 1:] if end < 0 else text[space + 1:end]
        if _LINK_OR_ADDRESS.search(word):
            # a link or an e-mail address is shown whole, or left out: cut inside, it would lead nowhere (one alone,
            # longer than the room, is cut all the same)
            cut = text[:space + 1 + len(word)] if len(word) <= limit else cut[:space] if space > 0 else cut
            if len(cut) >= len(text):
                return text
        else:
            # a single word longer than half the room is cut inside rather than dropped
            cut = cut[:space] if space > limit // 2 else cut
    return cut.rstrip(" ,;:([«\"'-–—") + "…"


def fold(text: str) -> str:
    """Key for matching labels and names: lower case, no accents, plain apostrophes and dashes."""
    # ligatures have no decomposition: spelled out, so that 'œuvre' meets 'oeuvre' and 'Bærum' 'Baerum'
    text = (text.translate(_APOSTROPHES).translate(_DASHES).replace("œ", "oe").replace("Œ", "oe")
            .replace("æ", "ae").replace("Æ", "ae"))
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        # One C-level pass over a long text instead of a Python test per character (astral marks are rare).
        if max(text) <= "\uffff":
            text = text.translate(_combining_marks())
        else:
            text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _SPACES.sub(" ", text.lower())
    return text.strip()


@lru_cache(maxsize=1)
def _combining_marks() -> dict[int, None]:
    """Every combining mark of the Basic Multilingual Plane, as a table that deletes them."""
    return {cp: None for cp in range(0x10000) if unicodedata.combining(chr(cp))}


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    return (fold(ch) or " ")[0]


def fold_chars(text: str) -> str:
    """fold() character for character, so the result keeps the length of the text (positions found in it are
    positions in the text): one character each, a space where fold() leaves nothing."""
    return "".join(map(_fold_char, text))


@loader("placeholders")
def _placeholders() -> frozenset[str]:
    data = load_yaml(LABELS_FILE.read_text(encoding="utf-8"))
    return frozenset(fold(p) for p in data["placeholders"])


@loader("period_unknown_end")
def unknown_end() -> re.Pattern:
    """labels.yaml `period_unknown_end`: an end not known yet ("to be confirmed", « à définir »), at the start of a
    folded text."""
    return words_pattern(tuple(load_yaml(LABELS_FILE.read_text(encoding="utf-8"))["period_unknown_end"]), at_start=True)


# a year and a dash, what follows it the end ("2022 - ?", "2022 – n/a")
_YEAR_DASH = re.compile(r"(?<!\d)(?:19[5-9]\d|20\d\d)\s*[-\u2013\u2014]\s*")
# an end left blank or queried after a word of the end ("End: -", « Fin : ? »)
_NO_END_VALUE = re.compile(r"^[\s\-\u2013\u2014?.\u2026]*$")


def end_not_told(rest: str) -> bool:
    """Whether what follows a word of the end tells no end year: "to be confirmed", "n/a", a dash or "?" alone."""
    folded = fold(rest)
    return bool(unknown_end().match(folded) or _NO_END_VALUE.match(folded.split("\n", 1)[0].split(";", 1)[0]))


@loader("instructions")
def instruction_starts() -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """The words that open a template's instruction (labels.yaml `instructions`): its imperatives, its placeholders
    and its questions, each at the start of a folded text."""
    data = load_yaml(LABELS_FILE.read_text(encoding="utf-8"))["instructions"]
    return tuple(words_pattern(tuple(data[key]), at_start=True) for key in ("imperatives", "placeholders", "questions"))


_INSTRUCTION_WORDS = 40  # an instruction is a sentence or two; an answer that opens so runs on longer
_FIRST_SENTENCE = re.compile(r"^(.+?[.?!])(?:\s+|$)")  # not at a colon: "Links to websites: www…" opens an answer


def reads_as_instruction(text: str) -> bool:
    """Whether a sentence is the template's instruction, with neither brackets nor italics (labels.yaml
    `instructions.plain`): a request to the writer that speaks as the form does (`plain_subjects`), "Please
    describe the main results of the practice.", « Décrivez en quelques lignes ce que vous cherchiez à obtenir. »
    A sentence holding a figure, a link or an exclamation, or going on after a colon, is an answer, and so is a
    request that speaks otherwise (« Indiquez votre quartier à l'accueil. », a rule the practice gives its users)."""
    folded = fold(text).strip(" \t-•*[]()")
    if not folded or len(folded.split()) > _INSTRUCTION_WORDS or re.search(r"\d", folded):
        return False
    # a slogan or a motto is exclaimed, and a sentence going on after a colon tells something of its own
    if folded.endswith("!") or re.search(r":\s*\w", folded):
        return False
    opening, subjects = _plain_instructions()
    return bool(opening.match(folded) and subjects.search(folded)) and not holds_link_or_address(folded)


def without_leading_instruction(line: str) -> str:
    """A part's line without the template's instruction it opens with (`reads_as_instruction`): "" for a line that
    is only that, the rest for an answer typed after it ("Please describe the aim of the practice. We wanted…"
    -> "We wanted…"), the line itself otherwise."""
    rest = line.strip()
    while rest:  # sentence by sentence: "Décrivez le contexte. Évitez de décrire la ville." is one instruction
        first = _FIRST_SENTENCE.match(rest)
        sentence = first.group(1) if first else rest
        if not reads_as_instruction(sentence):
            break
        rest = rest[first.end():] if first else ""
    return line if rest == line.strip() else rest


@loader("plain_instructions")
def _plain_instructions() -> tuple[re.Pattern, re.Pattern]:
    data = load_yaml(LABELS_FILE.read_text(encoding="utf-8"))["instructions"]
    return (words_pattern(tuple(data["plain"]), at_start=True), words_pattern(tuple(data["plain_subjects"])))


_ONLY_PUNCT = re.compile(r"^[\W_]*$")


_LINK_OR_ADDRESS = re.compile(r"https?:|www\.|@|\w\.\w{2,}/")


def holds_link_or_address(text: str | None) -> bool:
    """Whether a text holds a link or an e-mail address."""
    return bool(_LINK_OR_ADDRESS.search(text or ""))


@loader("pointers")
def _pointers() -> tuple[re.Pattern, re.Pattern, frozenset[str]]:
    data = load_yaml(LABELS_FILE.read_text(encoding="utf-8"))["pointers"]
    targets = "|".join(re.escape(w) for w in sorted(data["targets"], key=len, reverse=True))
    return (words_pattern(tuple(data["openings"]), at_start=True), re.compile(rf"\b(?:{targets})$"),
            frozenset(data["alone"]))


def points_elsewhere(text: str) -> bool:
    """Whether a value only points to another version or place ("see French version", « Voir plus haut »)."""
    folded = fold(text).strip(" .()[]")
    if _LINK_OR_ADDRESS.search(folded):
        return False  # "See: www.example.org/en" gives a link
    opening, target, alone = _pointers()
    return folded in alone or (count_words(folded) <= 8 and bool(opening.match(folded))
                               and bool(target.search(folded[opening.match(folded).end():].strip(" .)"))))


@loader("says_no_value")
def _no_value_words() -> frozenset[str]:
    return frozenset(fold(p) for p in load_yaml(LABELS_FILE.read_text(encoding="utf-8"))["says_no_value"])


def says_no_value(text: str | None) -> bool:
    """The value says the field has none ("N/A", « sans objet »), unlike a field left empty or a placeholder."""
    if not text:
        return False
    folded = fold(clean_text(text)).strip()
    return folded in _no_value_words() or folded.rstrip(" .") in _no_value_words()


_FORM_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")
# "03/02/25", "3.2.25": a two-digit year at the end of a numeric date
_SHORT_YEAR = re.compile(r"(?<!\d)\d{1,2}[./-]\d{1,2}[./-](\d\d)(?!\d)")


def form_year(text) -> int | None:
    """The year of a form's date as the city wrote it ("2 November 2023", "15/08/2023", "03/02/25", "2024-01-22"),
    None where none can be read. Only the year: whether "07-05-2024" is May or July cannot be told."""
    if not isinstance(text, str):
        return None
    found = _FORM_YEAR.search(text)
    if found:
        return int(found.group(1))
    short = _SHORT_YEAR.search(text)
    return 2000 + int(short.group(1)) if short else None


def value_or_none(text: str | None) -> str | None:
    """A field value, or None when it is empty, `N/A`, a template placeholder or a pointer to another version or
    place ("see French version")."""
    if text is None:
        return None
    text = clean_text(text)
    if not text or _ONLY_PUNCT.match(text):
        return None
    if fold(text).rstrip(" .") in _placeholders() or fold(text) in _placeholders() or points_elsewhere(text):
        return None
    return text


def count_words(text: str | None) -> int:
    return len(re.findall(r"\w+", text or ""))


def count_shown_words(text: str | None) -> int:
    """`count_words` as a person counts a part shown to them: a link or an e-mail address is one word."""
    return sum(1 if _LINK_OR_ADDRESS.search(token) else count_words(token) for token in (text or "").split())


# --- implementation period ---------------------------------------------------------------

_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")
# "2019/20", "2014-15"; not the day of a date ("2019 - 30/06/2022").
_SHORT_RANGE = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)\s*[-/]\s*(\d\d)(?![\d/.])"
                          # not the day of a date that follows ("1 February 2023 - 31 December 2024", "- 31 12 2024")
                          r"(?!\s*(?:\d|jan|feb|fev|mar|apr|avr|may|mai|jun|juin|jul|juil|aug|aout|sep|oct|nov|dec))")
_ONGOING = re.compile(
    r"\b(ongoing|on-going|en cours|depuis|since|present|today|to date|a ce jour|aujourd'hui|"
    r"permanent|permanente|continuing|continuous|toujours|still running|no end|sans fin|"
    r"open-ended|en continu|actuellement|currently|onwards|onward|until now|to present|ad oggi|"
    r"now|until further notice|to this day|jusqu'a present|jusqu'a maintenant|a nos jours|jusqu'a nouvel ordre|"
    r"mainstreamed|generalised|generalized|generalise|generalisee|perennise|perennisee)\b"
)
# renewed, so running still after the years it names (« 2022 au 2024, reconduit »), unless said not to be
_RENEWED = re.compile(r"\b(?:reconduit|reconduite|reconduits|reconduites|renouvele|renouvelee|renewed|se poursuit)\b")
_NOT_RENEWED = re.compile(r"\b(?:non|pas|not|never|jamais|plus)\s+(?:(?:ete|been)\s+)?(?:reconduit|reconduite|reconduits|"
                          r"reconduites|renouvele|renouvelee|renewed)\b")
# not the end of the period told as planned (« Fin prévue : juin 2025 »), nor the name of one of its phases ("Phase 2
# (extension): 2023-2025")
_PLANNED = re.compile(r"(?<!\bfin )(?<!\bend )(?<!\bend: )(?<!\bfin : )\b(prevue?s?|planned|envisagee?s?|expected|prolongation|extension|to be extended|"
                      r"sera prolongee?|will be extended|will continue until)\b(?!\)\s*:)")
_ENDED = re.compile(r"\b(arrete|arretee|arretes|termine|terminee|achevee?|ended|stopped|finished|ceased|closed|"
                    r"discontinued|fin du projet|fin de l'action|pris fin|a pris fin|until|till|through|jusqu'en|"
                    r"jusqu'a|abandoned|cancelled|canceled|wound down|completed|abandonne|abandonnee|supprime|"
                    r"supprimee|cloture|cloturee|interrompu|interrompue|terminated|concluded|phased out|"
                    r"last edition|derniere edition|fin en|fini|finie|clos|close|ferme|fermee|cesse|a cesse)\b")
# "since 2016 to 2020", "since 2016-2020": a range right after the first year ends a period opened by "since"
# alone, not one said to be running ("ongoing")
_TO = re.compile(r"\s*(?:to|au|a|[-\u2013\u2014])\s*")
_RANGE_CLOSE = re.compile(r"\b(to|until|till|through|jusqu|au)\b|[-\u2013\u2014/]")
_OPEN_START = re.compile(r"\b(depuis|since|from|des|starting|a partir de|started in|launched in|onwards|onward)\b")
# a period that tells its start under a word of its own ("Start: February 2023", « Début : mars 2023 »)
_START_TOLD = re.compile(r"^\W*(?:start|start date|begin|beginning|launch|launched|started|debut|date de debut|lancement|"
                         r"lance|commencement)\s*:")
# the end told as not known yet, after a word of the end ("End date: to be confirmed", « Fin : à définir »)
_END_WORD = re.compile(r"\b(?:end|end date|fin|date de fin|completion|until|jusqu'au)\s*:\s*")
# a last year open to the present: "Phase 2: 2021 – ongoing", "2019 - present"
_LAST_YEAR_OPEN = re.compile(r"(?:19[5-9]\d|20\d\d)\s*[-\u2013\u2014]\s*(?:ongoing|on-going|en cours|present|today|"
                             r"aujourd'hui|a ce jour|to date|now)\W*$")
# words that open a period without telling that it has run for some time, as "since" does
_START_ONLY = re.compile(r"\b(from|des|starting|a partir de|onwards|onward)\b")


# "from 1 February 2023 for 24 months", « pour 3 ans », "a 3-year programme", "(18 mois)": a planned length after
# the one year given ends the period; "every 2 years", « tous les deux ans » is a rhythm, not a length
_NUMBER_WORDS = {"one": 1, "un": 1, "une": 1, "two": 2, "deux": 2, "three": 3, "trois": 3, "four": 4, "quatre": 4,
                 "five": 5, "cinq": 5, "six": 6, "twelve": 12, "douze": 12, "eighteen": 18, "dix-huit": 18}
_AMOUNT = r"(\d{1,2}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + ")"
_UNIT = r"(years?|yrs?|ans?|annees?|months?|mois)"
_LENGTH_AFTER_WORD = re.compile(r"(?:\b(?:for|pour|over|sur|durant|during|pendant|lasting|duree de|duree|duration|de|"
                                r"d'une duree de)\s*:?|\+)"
                                r"\s*(?:(?:a|an|une?|the)\s+)?(?:(?:period|duration|periode|duree)\s+(?:of|de)\s+)?"
                                r"(?:of\s+)?" + _AMOUNT + r"\s+" + _UNIT + r"\b")
_LENGTH_ON_ITS_OWN = re.compile(r"(?:^|\(|,\s*|\ba\s+|\ban\s+)" + _AMOUNT + r"[\s-]+" + _UNIT + r"\b")
_RHYTHM = re.compile(r"\b(every|each|tous les|toutes les|chaque)\s+$")
_MONTH_NUMBER = {"jan": 1, "fe": 2, "mar": 3, "av": 4, "ap": 4, "mai": 5, "may": 5, "juin": 6, "jun": 6, "juil": 7,
                 "jul": 7, "ao": 8, "au": 8, "sep": 9, "oct": 10, "nov": 11, "de": 12}
_MONTH_BEFORE_YEAR = re.compile(r"\b(janv\w*|january|fev\w*|feb\w*|mars|march|avr\w*|apr\w*|mai|may|juin|june|"
                                r"juil\w*|july|aout|aug\w*|sept\w*|oct\w*|nov\w*|dec\w*)\.?\s+(?:de\s+|of\s+)?$")
_NUMERIC_DATE_BEFORE_YEAR = re.compile(r"(?<!\d)(\d{1,2})[./-]$")


def _start_month(folded: str, year_at: int) -> int:
    """The month a period starts in, from the words or digits right before its year; January when none is said."""
    before = folded[max(0, year_at - 20):year_at]
    named = _MONTH_BEFORE_YEAR.search(before)
    if named:
        word = named.group(1)
        return next(_MONTH_NUMBER[key] for key in sorted(_MONTH_NUMBER, key=len, reverse=True)
                    if word.startswith(key))
    numeric = _NUMERIC_DATE_BEFORE_YEAR.search(before)
    if numeric and 1 <= int(numeric.group(1)) <= 12:
        return int(numeric.group(1))
    return 1


_A_LENGTH = re.compile(r"(?<![\w-])" + _AMOUNT + r"[\s-]+" + _UNIT + r"\b")


def names_a_length(text: str) -> bool:
    """Whether a text gives a length of time ("24 months", « deux ans »), as a planned period's length does."""
    return bool(_A_LENGTH.search(fold(text)))


def _end_after_length(folded: str, year_match: re.Match) -> int | None:
    """The end year of a period given as a start and a length ("from 1 February 2023 for 24 months": 2025)."""
    found = _LENGTH_AFTER_WORD.search(folded)
    # "since 2015 (10 years)" tells how long it has run, not when it ends
    if not found and not _ONGOING.search(_START_ONLY.sub(" ", folded)):
        found = _LENGTH_ON_ITS_OWN.search(folded)
    if not found or _RHYTHM.search(folded[:found.start(1)]):
        return None
    amount = found.group(1)
    amount = int(amount) if amount.isdigit() else _NUMBER_WORDS[amount]
    months = amount * 12 if found.group(2).startswith(("y", "a")) else amount
    if not 0 < months <= 120:
        return None
    return int(year_match.group(1)) + (_start_month(folded, year_match.start()) - 1 + months - 1) // 12


def _expand_short_range(m: re.Match) -> str:
    start, short = m.group(1), m.group(2)
    if int(short) <= int(start[2:]):  # "2019-05" is a month, not a range ending in 2005
        return m.group(0)
    return f"{start}-{start[:2]}{short}"


# One season of two calendar years: "2020/21", « l'année scolaire 2018-2019 », "winter 2022/23". In a period
# said to run since then, it is the start, not a span that ended with its second year.
_SEASON_WORDS = re.compile(r"\b(rentree|scolaire|school|academic|season|saison|winter|hiver|term|semestre|"
                           r"semester|annee|year|campagne|campaign)\b")
_SEASON = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)\s*([-/])\s*((?:19|20)?\d\d)(?![\d/.])")


def _season_as_start(folded: str) -> str:
    """A running period's season ("since the 2021/22 school year") kept as its first year only."""
    def start_of(m: re.Match) -> str:
        first, second = int(m.group(1)), m.group(3)
        short = len(second) == 2  # "2021-22": a season however it is joined
        consecutive = (int(second) == (first + 1) % 100) if short else int(second) == first + 1
        near = folded[max(0, m.start() - 25):m.end() + 25]
        return m.group(1) if consecutive and (short or m.group(2) == "/" or _SEASON_WORDS.search(near)) else m.group(0)
    return _SEASON.sub(start_of, folded)


# a span of years, a day and a month allowed before its second year ("December 2024 - January 2021")
_RANGE = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)\s*(?:[-\u2013\u2014]|\bto\b|\bau\b|\ba\b)\s*"
                    r"(?:(?:\d{1,2}(?:er|st|nd|rd|th)?|[^\W\d]{3,10}\.?)\s+){0,2}(19[5-9]\d|20\d\d)(?!\d)")


def tells_an_end(text: str) -> bool:
    """Whether a text says a practice ended ("completed", « terminé », "discontinued")."""
    return bool(_ENDED.search(fold(text)))


def reversed_range(text: str) -> str | None:
    """A span of years written end first ("2024 - 2021"), as written folded, or None."""
    for m in _RANGE.finditer(fold(text)):
        if int(m.group(1)) > int(m.group(2)):
            return f"{m.group(1)}-{m.group(2)}"
    return None


@dataclass(frozen=True)
class Period:
    start: int | None
    end: int | None
    ongoing: bool


_BRACKETED_NOTE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")


def parse_period(text: str | None) -> Period:
    """Start and end years of an implementation period, and whether it is still running."""
    if not text:
        return Period(None, None, False)
    folded = fold(text)
    # "since 2021/22", "2021/22 - present", "from the 2021/22 school year": a running period's first season is its
    # start (read before "2021/22" becomes a span of two years)
    if (_ONGOING.search(folded) or _OPEN_START.search(folded)) and len(set(_YEAR.findall(folded))) <= 2 \
            and len(_SEASON.findall(folded)) == 1:
        folded = _season_as_start(folded)
    folded = _SHORT_RANGE.sub(_expand_short_range, folded)
    # "2022 - 2024, with an extension planned until 2026": a plan is not the period the practice ran
    planned = _PLANNED.search(folded)
    if planned and _YEAR.search(folded[:planned.start()]):
        folded = folded[:planned.start()]
    renewed = _RENEWED.search(folded) if not _NOT_RENEWED.search(folded) else None
    ongoing = bool(_ONGOING.search(folded)) or renewed is not None
    # "January 2019 - ongoing (evaluation period 2019-2023)", "since 2017 (edition described: 2023)": a year in
    # brackets comments on a running period written outside them ("2021 (ongoing since 2017)" is read whole)
    outside = _BRACKETED_NOTE.sub(" ", folded)
    if (outside != folded and _YEAR.search(outside) and not _ENDED.search(folded)
            and (_ONGOING.search(outside) or _OPEN_START.search(outside))):
        folded = outside
    years = [int(y) for y in _YEAR.findall(folded)]
    if not years:
        return Period(None, None, ongoing)
    start = min(years)
    # a start and a length, said to end (no word of a practice still running besides "since"/"from")
    if len(set(years)) == 1 and not _ONGOING.search(_OPEN_START.sub(" ", folded)):
        end = _end_after_length(folded, _YEAR.search(folded))
        if end is not None:
            return Period(start, end, False)
    if len(years) == 1:
        # after a dash only a word or "?" ("2019 – …" runs on)
        end_unknown = any(end_not_told(folded[m.end():]) for m in _END_WORD.finditer(folded)) or any(
            unknown_end().match(folded[m.end():]) or folded[m.end():].startswith("?")
            for m in _YEAR_DASH.finditer(folded))
        # "2022 -" runs on; "End: -" tells no end
        single_open = ongoing or bool(_OPEN_START.search(folded)) or (
            folded.rstrip(" .\u2026").endswith("-") and not end_unknown)
        if not single_open and (_START_TOLD.match(folded) or end_unknown):
            return Period(start, None, False)  # "Start: February 2023" (then "End: to be confirmed"): no end told
        return Period(start, None if single_open else start, single_open)
    end = max(years)
    last = max(m.start() for m in _YEAR.finditer(folded) if int(m.group(1)) == end)
    if renewed is not None and renewed.start() > last:
        return Period(start, None, True)  # « 01/09/2022 au 30/06/2024, reconduit »: it runs on
    # "Depuis 2016 ; arrêté en 2020 faute de financement", "since 2017 until 2023": the last year ends it
    first = _YEAR.search(folded)
    if _ENDED.search(folded[max(0, last - 30):last]) or (
            _TO.fullmatch(folded[first.end():last]) and not _ONGOING.search(_OPEN_START.sub(" ", folded))):
        return Period(start, end, False)
    if ongoing and _LAST_YEAR_OPEN.search(folded):
        return Period(start, None, True)  # "Phase 1: 2019 - 2020 ; Phase 2: 2021 - ongoing": it runs still
    # "2019-2023 (pilot), permanent from 2024": the last year opens a period that is still running.
    if ongoing and _OPEN_START.search(folded[max(0, last - 20):last]):
        return Period(start, None, True)
    # "Depuis 2021, projet pilote puis étendu en 2023": a later year after an open start, with no word or dash
    # closing a range, is a step of a practice still running, not its end
    if ongoing and _OPEN_START.search(folded[max(0, first.start() - 20):first.start()]) \
            and not _RANGE_CLOSE.search(folded[first.end():last]):
        return Period(start, None, True)
    return Period(start, end, ongoing)


# --- language -----------------------------------------------------------------------------

# Languages in the order a tie is settled in: the template's two first. A word several lists hold ('que', 'en',
# 'des') counts for each of them in part, so that a short French text is not read as Spanish or German.
_STOPWORDS = {
    "fr": set("le la les des du de un une et est sont pour dans par sur avec qui que ont été au aux ce cette ces "
              "leur leurs nous vous il elle ils elles ne pas plus être a à en on se sa son ses ou où mais comme "
              "entre d l qu n s c j".split()),
    "en": set("the of and to in for is are was were with on by that this these from at as an be been have has "
              "which their they it its or but not more who we our into than also".split()),
    "de": set("der die das und ist sind mit für von den dem des ein eine nicht auch sich auf werden wurde".split()),
    "es": set("el la los las lo de del al y en con para por un una uno que es son fue se su sus como pero más "
              "este esta entre sobre también muy ha han hay".split()),
    "it": set("il lo la le i gli di della delle dei del e a in da con per un una uno che è sono stato nel nella "
              "sulla come non si al alla anche ha hanno questo questa tra".split()),
    "pt": set("o os as do da dos das em no na nos nas um uma para pelo pela com que é são foi não seu sua seus "
              "suas como mas mais este esta entre sobre também muito ao aos".split()),
}
# Another language outweighs the language of the labels a form was written on only with this many stop words, and
# twice as many as the labels' language has.
_CLEAR_OTHER_LANGUAGE = 4.0


def _language_counts(words: list[str]) -> dict[str, float]:
    counts = dict.fromkeys(_STOPWORDS, 0.0)
    for word in words:
        holders = [lang for lang, stops in _STOPWORDS.items() if word in stops]
        for lang in holders:
            counts[lang] += 1 / len(holders)
    return counts


def detect_language(text: str | None, labels: str | None = None) -> str:
    """ISO code of the text's language by stop-word counts; 'und' when there is too little text. `labels` is the
    language of the template labels the text was written under: a text whose words say little (a few words, or
    words several languages share) is in that language unless another one clearly outweighs it."""
    words = re.findall(r"[a-zàáâäçéèêëíìîïñóòôöùúûüÿœß]+", (text or "").lower().replace("’", " ").replace("'", " "))
    if len(words) < 3:
        return labels or "und"
    counts = _language_counts(words)
    best = max(counts, key=lambda lang: counts[lang])  # the first of the highest, in the lists' order
    if labels in counts and best != labels and not (
            counts[best] >= _CLEAR_OTHER_LANGUAGE and counts[best] >= 2 * counts[labels]):
        return labels
    return best if counts[best] >= 2 else labels or "und"
