"""Personal data in texts: e-mail addresses, phone numbers and the names of contact persons.

One rule for every output that leaves the secretariat (city reports, the spreadsheet, the web app).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
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
                 "mobil", "mob", "portable", "gsm", "fax", "whatsapp", "sms", "helpline", "hotline", "infoline",
                 r"help\s+line", r"info\s+line", r"phone\s+line", r"ligne\s+d['’]écoute",
                 r"(?:num[eé]ro|n[°º])\s+(?:vert|unique|azur)", "standard", "renseignements", "inscriptions",
                 r"our\s+number", r"notre\s+num[eé]ro")
_CALLING_WORDS = ("call", "calling", "phoning", "phoned", "rang", "called", "ring", "dial", "reach", "reaches",
                  "reachable", r"in\s+touch",
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
    r"(?:\s*\((?:[^()\d\n]|\d{1,2}[/h]\d{1,2})+\))?"  # a note: 'Helpline (free): …', 'Hotline (24/7): …'
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
_TITLES = re.compile(r"^(?:(?:dr|dre|drs|prof|pr|mme|mlle|mr|mrs|ms|mx|miss|m|me|madame|monsieur|mademoiselle|herr|frau|"
                     r"fru|sr|sra|sir|cllr|dott|sig)\.?\s+)+", re.I)
# Words of a role (folded): before a name they are skipped ('Coordinator: Aoife Walsh', 'Team Leader Sara Holm'),
# after one they end it ('Sigrid Moe Project coordinator')
_ROLE_WORDS = frozenset("""
    coordinator coordinatrice coordinateur coordonnatrice manager officer head chef cheffe adviser advisor conseiller
    conseillere responsable charge chargee director directeur directrice secretary secretaire senior junior deputy
    assistant agent agente mayor maire leader lead project projet programme program team equipe contact email mail
    courriel phone tel telephone name nom referent referente animateur animatrice mediateur mediatrice worker
    """.split())
# Words of an organisation (folded): a name followed by one is that organisation's ('Human Rights Office', 'Open
# Doors Initiative', 'Oslo Kommune'), and a name holding one is none ('Welcome Centre', 'Service jeunesse')
_ORGANISATION_WORDS = frozenset("""
    centre center service services office bureau department departement direction division unit unite cellule
    mission city ville municipality mairie commune kommune kommun bydel council conseil association maison
    welcome accueil youth jeunesse community communaute social sociale network reseau platform plateforme desk
    helpline hotline committee comite initiative agence agency foundation fondation trust festival forum academy
    circle advice buro ufficio delegation relais
    club institute institut school ecole library bibliotheque museum musee pole intercultural interculturel
    interculturelle liaison policy development developpement relations international diversity diversite integration
    inclusion education culture cultural health sante public municipal urban urbain region regional regionale
    government gouvernement ministry ministere rights droits
    """.split())
# What a contact field says besides names: a label, and the marks between a name, a role and an address
_LEADING_LABEL = re.compile(r"^[^:]{1,40}:\s*")  # 'Coordinator: Aoife Walsh', « Service jeunesse : Paul Martin »
_PERSON_SEPARATOR = re.compile(r"[,;(){}\[\]\n\u2013\u2014|/]|\s-\s|\s+(?:and|et|og|und|&|\+)\s+")
_PARTICLES = frozenset("d' d’ de del della da das do dos du des la le van von der den ten ter el al bin ben y".split())
_NAME_WORD = re.compile(r"^(?:[dD]['’])?[^\W\d_][\w'’.-]*$")


@lru_cache(maxsize=1)
def _inflected_words() -> frozenset[str]:
    """English and French plurals ('mothers', 'days', « ambassadeurs »): a programme's name ends with one
    ('Neighbourhood Mothers', « Jeunes Ambassadeurs »), a person's name alone rarely does."""
    import gzip
    import json

    import spacy_lookups_data

    folder = Path(spacy_lookups_data.__file__).parent / "data"
    words: set[str] = set()
    for lang in ("en", "fr"):
        with gzip.open(folder / f"{lang}_lemma_lookup.json.gz", "rt", encoding="utf-8") as fh:
            words.update(key for key, lemma in json.load(fh).items() if key[-1:] in "sx" and lemma != key)
    return frozenset(words)


def _known_place(word: str) -> bool:
    from pipeline.cities import city_country, city_info

    return city_info(word) is not None or city_country(f"X, {word}") is not None


def contact_names(contact: str | None) -> list[str]:
    """The persons' names in a contact field: 'Dr. Ingrid Solheim, adviser, i.s@x.org' -> ['Ingrid Solheim'];
    'Sigrid Moe Project coordinator +47 …' -> ['Sigrid Moe']; 'Tor Lie; Eva Strand', 'Siobhan Kelly, Liam Byrne'
    -> both; 'Coordinator: Aoife Walsh', 'Integration Officer Anna Lind' -> the person; 'Dupont, Jean' -> ['Jean
    Dupont']. A name is two to five capitalised words (particles between); a team, an organisation or a role
    ('Welcome Centre', 'Human Rights Office', 'Oslo Kommune') is none, nor a programme's name ending with an
    inflected word ('Neighbourhood Mothers') unless a title, a role or the e-mail address says it is a person."""
    if not isinstance(contact, str) or not contact.strip():
        return []
    local_parts = {part for m in EMAIL.finditer(contact) for part in re.split(r"[._-]", fold(m.group(0).split("@")[0]))}
    text = PHONE.sub(" ", EMAIL.sub(" ", contact))
    has_role = any(fold(w).strip(".,():") in _ROLE_WORDS for w in text.split())
    chunks = [c.strip() for c in _PERSON_SEPARATOR.split(text)]
    names: list[str] = []
    singles: list[tuple[int, str]] = []
    for k, chunk in enumerate(chunks):
        chunk = _LEADING_LABEL.sub("", chunk).strip()
        titled = bool(_TITLES.match(chunk))
        words = _TITLES.sub("", chunk).split()
        # the person after a role or an organisation: 'Integration Officer Anna Lind', 'Welcome Centre Ahmed Yusuf'
        marks = [n for n, w in enumerate(words) if fold(w).strip(".,") in _ROLE_WORDS | _ORGANISATION_WORDS]
        if marks and marks[-1] + 1 < len(words) and marks[0] == 0:
            words = words[marks[-1] + 1:]
        words = _TITLES.sub("", " ".join(words)).split()
        name, rest = _leading_name(words)
        following = fold(rest[0]).strip(".,") if rest else ""
        capitals = [w for w in name if fold(w) not in _PARTICLES]
        if len(capitals) == 1 and not rest:
            singles.append((k, capitals[0]))
        evidence = titled or has_role or any(fold(w) in local_parts for w in capitals)
        person = (2 <= len(capitals) <= 5 and following not in _ORGANISATION_WORDS
                  and not any(_known_place(w) for w in capitals)
                  and (evidence or fold(capitals[-1]) not in _inflected_words())
                  # a later part of the field is a person only when it is a name alone ('…, Liam Byrne (…)')
                  and (k == 0 or not rest or following in _ROLE_WORDS))
        if person:
            names.append(" ".join(name))
            if len(capitals) >= 3:  # 'Ingrid Solheim Rådgiver': a role read as a name; the first two are hers
                names.append(" ".join(name[:name.index(capitals[1]) + 1]))
            if capitals[0].isupper() and len(capitals) == 2:  # 'DUPONT Jean': written 'Jean Dupont' in texts
                names.append(f"{capitals[1]} {capitals[0]}")
    # 'Dupont, Jean, chargé de mission': a surname, then a first name
    if not names and len(singles) >= 2 and singles[0][0] == 0 and singles[1][0] == 1:
        names.append(f"{singles[1][1]} {singles[0][1]}")
    return names


def _leading_name(words: list[str]) -> tuple[list[str], list[str]]:
    """The capitalised words a list opens with (particles between), and the words after them."""
    name: list[str] = []
    for n, word in enumerate(words):
        key = fold(word).strip(".,")
        if key in _PARTICLES and name:
            name.append(word)
        elif _NAME_WORD.match(word) and re.sub(r"^[dD]['’]", "", word)[:1].isupper() and key not in _ROLE_WORDS \
                and key not in _ORGANISATION_WORDS:
            name.append(word)
        else:
            return _without_trailing_particles(name), words[n:]
    return _without_trailing_particles(name), []


def _without_trailing_particles(name: list[str]) -> list[str]:
    while name and fold(name[-1]) in _PARTICLES:  # 'Anna van' before a role: the name is 'Anna'
        name = name[:-1]
    return name


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

    # a name in any case and spacing ('SIGRID MOE', 'Sigrid\nMoe'), as a whole ('Eva Strandberg' is no 'Eva Strand')
    return re.compile(r"(?<!\w)(?:" + pattern(trie).replace(r"\ ", r"\s+") + r")(?!\w)", re.I) if trie else None


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


# a contact written into another field after a word saying so ('CCAS - Pôle santé, contact : Karima Benali')
_CONTACT_IN_FIELD = re.compile(
    r"\b(?:(?i:contact(?:\s+person)?|personne\s+de\s+contact|interlocut(?:eur|rice)|r[ée]f[ée]rente?|referent|"
    r"responsable|renseignements|coordinat(?:eur|rice|or)|charg[ée]e?\s+de\s+(?:mission|projet))\s*[:\uff1a\u2013\u2014-]|"
    r"(?i:aupr[èe]s\s+d[e'])|(?=(?:M\.|Mme|Mlle|Mr\.?|Mrs\.?|Ms\.?|Dr\.?)\s+[A-ZÀ-Ý]))\s*(?P<contact>\S.*)$", re.S)
# header fields where officers write a contact when the contact field seems too narrow for it
_FIELDS_WITH_CONTACTS = ("department",)


def contacts_of(practice: dict) -> list[str | None]:
    """The contacts a practice's form gives: its contact field, and what a header field says after a word of contact
    ('Département : CCAS - Pôle santé, contact : Karima Benali 06 12 34 56 78')."""
    found = [practice.get("contact_person")]
    for name in _FIELDS_WITH_CONTACTS:
        value = practice.get(name)
        match = _CONTACT_IN_FIELD.search(value) if isinstance(value, str) else None
        if match:
            found.append(match["contact"])
    return found


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
