"""Personal data in texts: e-mail addresses, phone numbers and the names of contact persons.

One rule for every output that leaves the secretariat (city reports, the spreadsheet, the web app).
"""

from __future__ import annotations

import re
from typing import Iterable

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# International numbers (+47 22 33 44 55), French-style ones (01 23 45 67 89), national ones with a trunk 0 and
# spaced groups (Swiss 021 315 72 45, Irish 01 222 4800, British 020 7946 0958: 9 to 12 digits, checked by
# `_phone`), and any number after a word that announces one ("Tel.", « répond au ») ; not years, dates or amounts.
PHONE = re.compile(r"(?<!\w)\(?\+\d[\d ().-]{5,}\d(?!\w)|(?<![\w.,])0\d(?:[ .-]?\d{2}){4}(?!\d)"
                   # a number broken at a line's end goes on with the next line ("03 89 20" / "68 68")
                   r"|(?<![\w.,/])\(?0(?:\d{1,4}| \d{3})\)?(?:(?:[ /-]|\n)?\d{2,6}){1,4}(?![\d/])"
                   # North American: (514) 872-1111, 514 872-1111
                   r"|(?<![\w.,/])\(?\d{3}\)?[ .-]\d{3}-\d{4}(?!\d)"
                   # a bank account (IBAN): FR76 3000 6000 0112 3456 7890 189
                   r"|\b[A-Z]{2}\d{2}(?: ?[0-9A-Z]{4}){3,7}(?: ?[0-9A-Z]{1,3})?\b")
# Words that announce a number written right after them (patterns): "Tel." or « Tél : » with its mark (the French
# word « tel » is no phone), a label, « au numéro »
_NUMBER_LABELS = (r"t[eé]l\s*[.:]", "phone", "telephone", "téléphone", "mobile", "portable", "whatsapp", "sms",
                  "dial", r"au\s+num[eé]ro")
# Verbs of calling or reaching (words): a few words may stand between them and 'on', 'at', « au », « sur »,
# « le » or ':' before the number ("call the library on …", « les familles joignent l'équipe au … »,
# "Contact the team: …"); not 'contacts', 'calls' or 'texts', nouns that count ('Contacts: 12 345 678')
_CALLING_VERBS = ("call", "calling", "phone", "phoning", "telephone", "ring", "reach", "reaches", "reachable",
                  "in touch", "contact", "contacting", "text", "texting", "whatsapp", "sms",
                  "appelez", "appeler", "appelle", "appellent", "rappelez", "rappeler", "joindre", "joignez",
                  "joignent", "joignable", "joignables", "contactez", "contacter", "contacte", "contactent",
                  "téléphonez", "téléphoner", "téléphone", "composez", "composer", "répond", "répondent")
_VERBS = "|".join(re.escape(verb).replace(r"\ ", r"\s+") for verb in _CALLING_VERBS)
_WORD = r"[^\W\d]+(?:['’-][^\W\d]+)*"  # « l'équipe », 'drop-in'; no figure: a count or a date ends the search
_ANNOUNCED_PHONE = re.compile(rf"(?i)(?:\b(?:{'|'.join(_NUMBER_LABELS)})\s*:?"
                              # a verb may carry its pronoun: « contactez-nous au … »
                              rf"|\b(?:{_VERBS})(?:-[^\W\d]+)?\b(?:\s+{_WORD}){{0,4}}?"
                              r"(?:\s+(?:on|at|au|le|sur)(?:\s+(?:num[eé]ro|number))?|\s*:))"
                              r"\s*(\(?\d[\d ()./-]{6,}\d)")
# A local number of seven digits, announced: '742 1234', '742-12-34'
_LOCAL_PHONE = re.compile(r"\d{3}[ .-]\d{4}|\d{3}(?:[ .-]\d{2}){2}")
# not a phone even when announced: a date in spaced figures, opening hours, years alone, an amount or a share, an
# identifier
_SPACED_DATE = re.compile(r"\b\d{1,2} \d{1,2} (?:19|20)\d\d\b")
_HOURS = re.compile(r"(?:[01]\d|2[0-3])[ h:.][0-5]\d\s*[-–]\s*(?:[01]\d|2[0-3])[ h:.][0-5]\d")
_YEARS = re.compile(r"(?:(?:19|20)\d\d\W*)+")
_AMOUNT_AFTER = re.compile(r"\s*(?:[%€$£]|(?:euros?|eur|chf|nok|sek|dkk|usd|gbp|kr|percent|pour ?cent)\b)", re.I)
_IDENTIFIER_BEFORE = re.compile(r"\b(?:siret|siren|isbn|issn|iban|rna|tva|vat)\W*$", re.I)
_DATE = re.compile(r"\b\d{1,2}[./]\d{1,2}[./](?:19|20)\d\d\b|\b(?:19|20)\d\d\s*[-/–]\s*(?:19|20)\d\d\b")
_TITLES = re.compile(r"^(?:dr|prof|mme|mr|mrs|ms|m)\.?\s+", re.I)


def contact_name(contact: str | None) -> str | None:
    """The person's name in a contact field: 'Dr. Ingrid Solheim, adviser, i.s@x.org' -> 'Ingrid Solheim'."""
    if not isinstance(contact, str) or not contact.strip():
        return None
    head = EMAIL.sub("", contact.strip()).split(",")[0].strip(" ;()-")
    head = _TITLES.sub("", head)
    return head if len(head) >= 4 else None  # shorter heads are initials or titles, not names to look for


def names_pattern(names: Iterable[str]) -> re.Pattern | None:
    """One pattern for many literal names, as a trie: at each position the regex engine follows one branch per
    next character instead of trying every name, so the cost of a text does not grow with the number of names.
    The longest name wins where several start at the same place (the optional tails are greedy)."""
    trie: dict = {}
    for name in set(names):
        node = trie
        for ch in name:
            node = node.setdefault(ch, {})
        node[""] = {}

    def pattern(node: dict) -> str:
        literal = []
        while "" not in node and len(node) == 1:  # a run of single letters needs no group (nor recursion)
            (ch, node), = node.items()
            literal.append(re.escape(ch))
        branches = [re.escape(ch) + pattern(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return "".join(literal)
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return "".join(literal) + (f"(?:{body})?" if "" in node else body)

    return re.compile(pattern(trie)) if trie else None


def _phone(match: re.Match) -> str:
    """A number the phone pattern found, left out where it has as many digits as a phone number and holds no
    date or span of years (« le 01.02.2023 14 familles », '2022-2023')."""
    text = match.group(0)
    digits = sum(ch.isdigit() for ch in text)
    # an international number may be short ("(+352) 4796-1", the city hall of Luxembourg); an IBAN is long
    least = 7 if "+" in text else 9
    most = 34 if text[:2].isalpha() else 15
    return "[…]" if least <= digits <= most and not _DATE.search(text) else text


def _announced(match: re.Match) -> str:
    """A number after a word that announces one, left out where it has a phone number's digits: eight or more,
    or seven grouped as a local number ('742 1234'); not a date, hours, years, an amount or an identifier."""
    number, before = match.group(1), match.group(0)[:match.start(1) - match.start(0)]
    digits = sum(ch.isdigit() for ch in number)
    if digits < 8 and not _LOCAL_PHONE.fullmatch(number):
        return match.group(0)
    if _DATE.search(number) or _SPACED_DATE.search(number) or _HOURS.fullmatch(number) or _YEARS.fullmatch(number) \
            or _AMOUNT_AFTER.match(match.string, match.end()) or _IDENTIFIER_BEFORE.search(before):
        return match.group(0)
    return before + "[…]"


class Redactor:
    """Removes e-mail addresses, phone numbers and the names of contact persons from texts."""

    def __init__(self, contacts: Iterable[str | None]):
        self._names = names_pattern(n for n in map(contact_name, contacts) if n)

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return text
        text = EMAIL.sub("[…]", text)
        text = _ANNOUNCED_PHONE.sub(_announced, text)
        text = PHONE.sub(_phone, text)
        if self._names is not None:
            text = self._names.sub("[…]", text)
        return text
