"""Personal data in texts: e-mail addresses, phone numbers and the names of contact persons.

One rule for every output that leaves the secretariat (city reports, the spreadsheet, the web app).
"""

from __future__ import annotations

import re
from typing import Iterable

from pipeline.normalize import fold

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# International numbers (+47 22 33 44 55), French-style ones (01 23 45 67 89), national ones with a trunk 0 and
# spaced groups (Swiss 021 315 72 45, Irish 01 222 4800, British 020 7946 0958: 9 to 12 digits, checked by
# `_phone`); a number broken at a line's end goes on with the next line ("03 89 20" / "68 68", "+47 22 33" / "44 55")
PHONE = re.compile(r"(?<!\w)\(?\+\d(?:[\d ().-]|\n(?=\d)){5,}\d(?!\w)|(?<![\w.,])0\d(?:[ .-]?\d{2}){4}(?!\d)"
                   r"|(?<![\w.,/])\(?0(?:\d{1,4}| \d{3})\)?(?:(?:[ /-]|\n)?\d{2,6}){1,4}(?![\d/])"
                   # North American: (514) 872-1111, 514 872-1111
                   r"|(?<![\w.,/])\(?\d{3}\)?[ .-]\d{3}-\d{4}(?!\d)"
                   # a bank account (IBAN): FR76 3000 6000 0112 3456 7890 189
                   r"|\b[A-Z]{2}\d{2}(?: ?[0-9A-Z]{4}){3,7}(?: ?[0-9A-Z]{1,3})?\b")

# Words that announce a phone number (patterns, case ignored), labels and words of calling or reaching alike; not
# 'contacts', 'calls' or 'texts', nouns that count ('Contacts: 12 345 678'), nor « appel » (« appel à projets »)
_PHONE_LABELS = (r"t[eé]l", "tlf", "tfn", "telefon", "phone", "telephone", "téléphone", "téléphonique", "mobile",
                 "mobil", "portable", "gsm", "fax", "whatsapp", "sms", "helpline", "hotline", "infoline",
                 r"phone\s+line", r"ligne\s+d['’]écoute", r"(?:num[eé]ro|n[°º])\s+(?:vert|unique|azur)")
_CALLING_WORDS = ("call", "calling", "phoning", "phoned", "rang", "called", "ring", "dial", "reach", "reaches", "reachable", r"in\s+touch",
                  "contact", "contacting", "contacted", "text", "texting", "available",
                  "appelez", "appeler", "appelle", "appellent", "rappelez", "rappeler", "joindre", "joignez",
                  "joignent", "joignable", "joignables", "contactez", "contacter", "contacte", "contactent",
                  "téléphonez", "téléphoner", "composez", "composer", "répond", "répondent", "disponible",
                  "disponibles")
# Between such a word and the number: nothing, or at most four words and one of these ("call the project line at …",
# « les familles joignent l'équipe au … », "Call Fatima (…)"); a word alone would take in counts
# (« contacter les 22 33 44 55 familles »)
_BEFORE_NUMBER = (r"\s+(?:on|at|to|au|le|sur|is|est)\b", r"\s*:", r"\s*\(", r"\s*,", r"\s+[-\u2013\u2014]")
# Words naming the number itself: "Phone number …", "Tel. no. …", « joignable au numéro … »
_NUMBER_WORDS = (r"num[eé]ro\b", r"number\b", r"n[°º]", r"no\.", r"nr\b\.?")
# A word in the window: « l'équipe », 'drop-in', and times of availability (« 7j/7 », '24/7'); other figures end
# the search, so a count or a date is never passed over
_WORD = r"(?:[^\W\d]+(?:['’-][^\W\d]+)*|\d{1,2}[jh]?/\d{1,2}[jh]?(?![\w/]))"
# A number: digit groups joined by one space, dot, dash, slash or line break, an area code in brackets first; a
# group followed by a letter or a slash is a time after the number ('24/7', « 24h/24 »), not part of it
_SEP = r"[ \u00a0\u202f./\n-]"
_NUMBER = rf"(?=(?:{_SEP}{{0,2}}[()]?\d){{7}})(?:\(\d+\)\s?)?\d+(?:{_SEP}\d+(?![\w/]))*"
_ANNOUNCED_PHONE = re.compile(
    rf"(?i)\b(?:{'|'.join(_PHONE_LABELS + _CALLING_WORDS)})(?:-[^\W\d]+)?\b"  # « contactez-nous »
    rf"(?:(?:\s+{_WORD}){{0,4}}?(?:{'|'.join(_BEFORE_NUMBER)})|\.?\s*:?)"
    rf"(?:\s*(?:{'|'.join(_NUMBER_WORDS)}))?\s*({_NUMBER})")
# A number chained to one left out, with only 'or', 'and', a comma, a semicolon or a slash between, and a note in
# brackets: "on 742 1234 or 742 1235", « au 22 33 44 55 ou au 22 33 44 56 », "22 33 44 55 (day) / 22 33 44 56"
_NOTE = r"(?:\s*\([^()\d\n]{1,20}\))?"
_CHAINED_PHONE = re.compile(rf"(?i)\[…\](?:{_NOTE}\s*(?:[,/;&]|(?:or|ou|and|et)\b){_NOTE}"
                            rf"(?:\s*(?:on|at|au|le|sur)\b)?\s*)({_NUMBER})")
# A phone number's shape: seven digits grouped as a local number ('742 1234', '742-12-34'), or eight to fifteen
_LOCAL_PHONE = re.compile(r"\d{3}[ \u00a0\u202f.\n-]\d{4}|\d{3}(?:[ \u00a0\u202f.\n-]\d{2}){2}")
# not a phone even when announced: a count or an amount grouped in thousands after one or two figures ('12 500 000',
# '1 234 567'; '912 345 678' is a Spanish phone number), a date in spaced figures or ISO form, opening hours, years
# alone, an amount or a share, an identifier
_COUNT = re.compile(r"[1-9]\d?(?:[ \u00a0\u202f.,]\d{3})+")
_SPACED_DATE = re.compile(r"\b\d{1,2} \d{1,2} (?:19|20)\d\d\b")
_HOURS = re.compile(r"(?:[01]\d|2[0-3])[ h:.][0-5]\d\s*[-–]\s*(?:[01]\d|2[0-3])[ h:.][0-5]\d")
_YEARS = re.compile(r"(?:(?:19|20)\d\d\W*)+")
_AMOUNT_AFTER = re.compile(r"\s*(?:[%€$£]|(?:euros?|eur|chf|nok|sek|dkk|usd|gbp|kr|percent|pour ?cent)\b)", re.I)
_IDENTIFIER_BEFORE = re.compile(r"\b(?:siret|siren|isbn|issn|iban|rna|tva|vat)\W*$", re.I)
# a file or record number, not announced as a phone: « Dossier n° 0123 456 789 », 'Report no. 0123 4567 89'
_FILE_NUMBER_BEFORE = re.compile(r"(?:\bn[°º]|\bno\.|\bnr\b\.?|\bref\.|\bréf\.|\bdossier|\bfile|\bcase|\bréférence"
                                 r"|\breference|\bbudget line|\bligne budgétaire)\s*:?\s*$", re.I)
_DATE = re.compile(r"\b\d{1,2}[./]\d{1,2}[./](?:19|20)\d\d\b|\b(?:19|20)\d\d\s*[-/–]\s*(?:19|20)\d\d\b"
                   r"|\b(?:19|20)\d\d-[01]\d-[0-3]\d\b")
_TITLES = re.compile(r"^(?:dr|dre|prof|mme|mlle|mr|mrs|ms|miss|m|herr|frau|fru|sr|sra)\.?\s+", re.I)
# Words of a role or an organisation, never of a person's name (folded): 'Welcome Centre', 'Service jeunesse' and
# 'Project coordinator' in a contact field are no names to leave out of every text of the run
_NOT_NAME_WORDS = frozenset("""
    centre center service services team equipe office bureau department departement direction division unit unite
    cellule mission project projet programme program city ville municipality mairie commune council conseil
    association maison house welcome accueil coordinator coordinatrice coordinateur coordonnatrice manager officer
    head chef cheffe adviser advisor conseiller conseillere responsable charge chargee director directeur directrice
    secretary secretaire senior junior deputy assistant agent agente mayor maire youth jeunesse community
    communaute social sociale network reseau platform plateforme desk helpline hotline line ligne contact email
    mail courriel phone tel telephone name nom intercultural interculturel interculturelle liaison policy
    development developpement relations international diversity diversite integration inclusion education culture
    cultural health sante public municipal urban urbain
    """.split())
# What a contact field says besides names: a label, and the marks between a name, a role and an address
_CONTACT_LABEL = re.compile(r"(?i)\b(?:name|nom|contact(?: person)?|personne de contact|e-?mail|courriel|tel|t[eé]l[eé]phone|"
                            r"phone|mobile)\s*[.:]\s*")
_ROLE_SEPARATOR = re.compile(r"[,(){}\[\]\n\u2013\u2014|/]|\s-\s")
_NAMES_SEPARATOR = re.compile(r";|\s+(?:and|et|&|\+)\s+")
_PARTICLES = frozenset("d' de del della da das do dos du van von der den el al bin ben ter ten y".split())
_CAPITALISED = re.compile(r"^[^\W\d_][\w'’.-]*$")


def contact_names(contact: str | None) -> list[str]:
    """The persons' names in a contact field: 'Dr. Ingrid Solheim, adviser, i.s@x.org' -> ['Ingrid Solheim'];
    'Sigrid Moe Project coordinator +47 …' -> ['Sigrid Moe']; 'Tor Lie; Eva Strand' -> both. A name is two to
    four capitalised words (particles between), the first words of the field or of a person listed after ';' or
    'and'; a team or a role ('Welcome Centre', 'Service jeunesse') is none."""
    if not isinstance(contact, str) or not contact.strip():
        return []
    text = _CONTACT_LABEL.sub(" ", PHONE.sub(" ", EMAIL.sub(" ", contact)))
    names = []
    for k, person in enumerate(_NAMES_SEPARATOR.split(text)):
        head = _ROLE_SEPARATOR.split(person.strip(), maxsplit=1)[0]
        words = _TITLES.sub("", head.strip()).split()
        name: list[str] = []
        for word in words:
            key = fold(word).strip(".")
            if key in _PARTICLES and name:
                name.append(word)
            elif _CAPITALISED.match(word) and word[0].isupper() and key not in _NOT_NAME_WORDS:
                name.append(word)
            else:
                break
        while name and fold(name[-1]) in _PARTICLES:
            name.pop()
        # a person listed after the first is taken only when nothing but a name stands there
        whole = len(name) == len(words) or k == 0
        if 2 <= len(name) <= 4 and whole and len(" ".join(name)) >= 4:
            names.append(" ".join(name))
    return names


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


def _line_head(number: str, is_phone) -> str:
    """The part of a number to leave out: up to its first line break where that part is already a phone number (the
    next line's figures are then something else), the whole number otherwise."""
    head = number.split("\n", 1)[0]
    return head if head != number and is_phone(head) else number


def _phone(match: re.Match) -> str:
    """A number the phone pattern found, left out where it has as many digits as a phone number and holds no
    date or span of years (« le 01.02.2023 14 familles », '2022-2023'), and does not follow « n° » or 'no.'."""
    def is_phone(text: str) -> bool:
        digits = sum(ch.isdigit() for ch in text)
        # an international number may be short ("(+352) 4796-1", the city hall of Luxembourg); an IBAN is long
        least = 7 if "+" in text else 9
        most = 34 if text[:2].isalpha() else 15
        return least <= digits <= most and not _DATE.search(text)

    text = match.group(0)
    if _FILE_NUMBER_BEFORE.search(match.string, max(0, match.start() - 20), match.start()):
        return text
    head = _line_head(text, is_phone)
    return "[…]" + text[len(head):] if is_phone(head) else text


def _announced_phone(number: str, before: str) -> bool:
    """Whether a number after a word that announces one (or chained to one left out) is a phone number: seven
    digits grouped as a local number, or eight to fifteen digits; not a count, a date, hours, years or an
    identifier."""
    digits = sum(ch.isdigit() for ch in number)
    if not (8 <= digits <= 15 or _LOCAL_PHONE.fullmatch(number)):
        return False
    return not (_COUNT.fullmatch(number) or _DATE.search(number) or _SPACED_DATE.search(number)
                or _HOURS.fullmatch(number) or _YEARS.fullmatch(number) or _IDENTIFIER_BEFORE.search(before))


def _leave_out_number(match: re.Match) -> str:
    """The match with its number (group 1) left out where it is a phone number, not an amount or a share."""
    number, before = match.group(1), match.group(0)[:match.start(1) - match.start(0)]
    head = _line_head(number, lambda part: _announced_phone(part, before))
    if not _announced_phone(head, before) or head == number and _AMOUNT_AFTER.match(match.string, match.end()):
        return match.group(0)
    return before + "[…]" + number[len(head):]


class Redactor:
    """Removes e-mail addresses, phone numbers and the names of contact persons from texts."""

    def __init__(self, contacts: Iterable[str | None]):
        self._names = names_pattern(name for contact in contacts for name in contact_names(contact))

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return text
        text = EMAIL.sub("[…]", text)
        text = _ANNOUNCED_PHONE.sub(_leave_out_number, text)
        text = PHONE.sub(_phone, text)
        while True:  # each number left out may carry the next one of a list
            chained = _CHAINED_PHONE.sub(_leave_out_number, text)
            if chained == text:
                break
            text = chained
        if self._names is not None:
            text = self._names.sub("[…]", text)
        return text
