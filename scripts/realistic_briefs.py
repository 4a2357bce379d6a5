"""Draw the writing briefs of the realistic evaluation set (data/eval/realistic/briefs.yaml).

A brief is the intended profile of one practice (or of the two language versions of one practice):
city, era, layout, length, main and other areas, evidence, writer's role and fluency. Briefs are kept
apart from the texts: readers rate the texts without seeing them. The draw is seeded, so the same
briefs come out on every run; the tune/test split is drawn here too, per unit, so both versions of a
practice fall in the same half. Later draws (each its own seed) add units to the tune half only, so that the
models learn from more texts while the test half stays exactly as it was first drawn and scored.

Usage: python scripts/realistic_briefs.py
"""

from __future__ import annotations

import random
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "eval" / "realistic" / "briefs.yaml"  # and split.yaml beside it
SEED = 20261201
N_PAIRS, N_SINGLE_FR, N_SINGLE_EN = 44, 24, 64
# Later draws, tune units only (u133 on, u173 on, u203 on, u233 on, u263 on, u293 on, u323 on): each its seed, its numbers of pairs,
# French and English texts, and what its briefs also fix (see `extra_briefs`): "context" = how the text treats its
# local context and how much it says about how the practice runs, apart from its length, so that long texts are not
# always the detailed ones; "areas" = one to three further areas worked on in substance and one or two only mentioned
# in passing, so that a named area is not always a worked one; "forms" = a city's own submission on the template, at
# the length of a filled form (the guide's own example runs to about 600 words), not of a published summary.
LATER_DRAWS = [(SEED + 2, (14, 8, 18), None), (SEED + 3, (10, 6, 14), None), (SEED + 4, (10, 6, 14), "context"),
               (SEED + 5, (10, 6, 14), "areas"), (SEED + 6, (10, 6, 14), "forms"), (SEED + 7, (10, 6, 14), "mixed forms"),
               (SEED + 8, (10, 6, 14), None)]

# city, country, size, local language(s)
CITIES = [
    ("Lyon", "France", "large", "fr"), ("Grenoble", "France", "medium", "fr"), ("Rennes", "France", "medium", "fr"),
    ("Mulhouse", "France", "medium", "fr"), ("Montreuil", "France", "medium", "fr"), ("Liège", "Belgium", "medium", "fr"),
    ("Charleroi", "Belgium", "medium", "fr"), ("Lausanne", "Switzerland", "medium", "fr"), ("Fribourg", "Switzerland", "small", "fr"),
    ("Esch-sur-Alzette", "Luxembourg", "small", "fr"), ("Québec", "Canada", "large", "fr"), ("Laval", "Canada", "large", "fr"),
    ("Agadir", "Morocco", "large", "fr"), ("Ghent", "Belgium", "medium", "nl"), ("Rotterdam", "Netherlands", "large", "nl"),
    ("Utrecht", "Netherlands", "large", "nl"), ("Copenhagen", "Denmark", "large", "da"), ("Aarhus", "Denmark", "medium", "da"),
    ("Malmö", "Sweden", "large", "sv"), ("Västerås", "Sweden", "medium", "sv"), ("Drammen", "Norway", "small", "no"),
    ("Stavanger", "Norway", "medium", "no"), ("Turku", "Finland", "medium", "fi"), ("Tartu", "Estonia", "small", "et"),
    ("Riga", "Latvia", "large", "lv"), ("Gdańsk", "Poland", "large", "pl"), ("Wrocław", "Poland", "large", "pl"),
    ("Brno", "Czechia", "large", "cs"), ("Ljubljana", "Slovenia", "medium", "sl"), ("Rijeka", "Croatia", "medium", "hr"),
    ("Subotica", "Serbia", "small", "sr"), ("Sabac", "Serbia", "small", "sr"), ("Tirana", "Albania", "large", "sq"),
    ("Thessaloniki", "Greece", "large", "el"), ("Ioannina", "Greece", "small", "el"), ("Larnaca", "Cyprus", "small", "el"),
    ("Valletta", "Malta", "small", "mt"), ("Bilbao", "Spain", "large", "es"), ("Getxo", "Spain", "small", "es"),
    ("Sabadell", "Spain", "medium", "ca"), ("Cartagena", "Spain", "medium", "es"), ("Palermo", "Italy", "large", "it"),
    ("Turin", "Italy", "large", "it"), ("Bergamo", "Italy", "medium", "it"), ("Pompei", "Italy", "small", "it"),
    ("Braga", "Portugal", "medium", "pt"), ("Amadora", "Portugal", "medium", "pt"), ("Setúbal", "Portugal", "medium", "pt"),
    ("Cork", "Ireland", "medium", "en"), ("Limerick", "Ireland", "small", "en"), ("Bradford", "United Kingdom", "large", "en"),
    ("Swansea", "United Kingdom", "medium", "en"), ("Hamburg", "Germany", "large", "de"), ("Stuttgart", "Germany", "large", "de"),
    ("Offenburg", "Germany", "small", "de"), ("Graz", "Austria", "large", "de"), ("Izmir", "Türkiye", "large", "tr"),
    ("Lublin", "Poland", "large", "pl"), ("Kharkiv", "Ukraine", "large", "uk"), ("Chisinau", "Moldova", "large", "ro"),
    ("Tbilisi", "Georgia", "large", "ka"), ("Melton", "Australia", "medium", "en"), ("Hamamatsu", "Japan", "large", "ja"),
    ("Guro", "South Korea", "medium", "ko"), ("Mexico City", "Mexico", "large", "es"), ("Haifa", "Israel", "large", "he"),
]

# Main-area weights of a city network (not uniform) and topic seeds, each a few words only.
AREAS = {
    "1": (12, ["intercultural strategy adopted by council", "city-wide action plan with budget", "charter signed by the mayor and partners",
               "inclusion unit in the mayor's office", "diversity recruitment in city hall", "network of cities led by the municipality"]),
    "2": (8, ["poster and social media campaign", "work with local journalists", "yearly award for residents", "city magazine series on residents' stories"]),
    "3": (9, ["discrimination reporting office", "situation testing in housing", "anti-racism plan", "equality data survey",
               "women of migrant origin and employment (3a)", "Roma school mediators (3b)", "young people and police stops (3c)"]),
    "4": (6, ["anti-rumour agents trained", "campaign against online hate speech", "hate crime reporting with police", "anti-rumour theatre in schools"]),
    "5": (9, ["mother-tongue classes in schools", "parents' involvement in diverse schools", "school segregation plan", "homework clubs with volunteers"]),
    "6": (5, ["redesign of a square with residents", "intercultural garden", "park used by rival groups", "street names and monuments"]),
    "7": (7, ["one-stop shop for services", "interpreters in health centres (7a)", "housing allocation and mixing (7b)",
               "community policing (7c)", "social workers' training on family support (7a)"]),
    "8": (6, ["migrant entrepreneurs' support", "diversity charter for employers", "procurement clauses", "job mentoring programme"]),
    "9": (8, ["festival co-organised by communities", "museum collecting migrants' objects", "library programme", "sports league",
               "interfaith council (9a)", "open days at places of worship (9a)"]),
    "10": (4, ["neighbourhood mediators", "conflict in a housing estate", "mediation in schools"]),
    "11": (5, ["language cafés", "host-language courses for parents", "multilingual signage and documents", "recognition of minority languages"]),
    "12": (3, ["partnership with a city of origin", "diaspora business links", "international students' welcome"]),
    "13": (6, ["intercultural competence training for staff", "observatory and diversity data", "intercultural index follow-up", "research with university"]),
    "14": (9, ["welcome desk for newcomers", "refugee reception and housing (14a)", "buddy programme (14c)",
                "orientation course for migrants (14b)", "welcome ceremony for new residents"]),
    "15": (5, ["foreigners' advisory council", "participatory budget open to non-citizens", "voter registration drive", "youth council"]),
    "16": (5, ["neighbourhood meals", "intercultural dialogue circles", "twinning of associations", "community centre programme"]),
}
OTHER_AREAS = list(AREAS)

ROLES = [
    "intercultural officer of the city", "communications officer", "head of a city department", "partner NGO coordinator",
    "external consultant who evaluated it", "network secretariat editor summarising the city's report", "project manager in a district office",
]
FLUENCY = ["native", "native", "fluent non-native", "fluent non-native", "uneven non-native (typos, calques, odd word order)"]
IMPACT = [
    "says it was a success or well received, no figures", "says it was a success or well received, no figures",
    "a few participation numbers, no evaluation", "a few participation numbers, no evaluation",
    "qualitative results from participants' feedback", "figures from an evaluation or survey, before and after",
    "no results at all (impact not reported)", "continuation: now funded permanently or taken over by a partner",
]
NEED = [
    "vague: 'growing diversity' or 'challenges'", "a political decision or a law triggered it", "an incident or a conflict triggered it",
    "a survey, study or data with a figure", "requests from residents or associations", "none stated",
]
REFS = [
    "none", "none", "none", "a council decision or a strategy document by name", "a web page or a report title",
    "a toolkit or handbook offered to others", "another city adopted or copied it",
]
LOCAL_CONTEXT = [
    "background on the city (history, population) that the practice itself does not build on",
    "one named local condition shaped the design: say what was done differently because of it",
    "generic: nothing local beyond the city's name",
    "local partners, places and constraints named all through the process",
]
HOW_DESCRIBED = [
    "steps, roles, means and timeline spelled out",
    "an outline: what was done, little on who did it, how long it took or with what means",
    "mostly results and reactions, little on how it ran",
]


def draw_length(rng: random.Random, short: bool = False) -> int:
    """Characters, roughly 300-2,700 with a median near 1,800; shorter for older versions."""
    if short:
        return int(rng.triangular(300, 1700, 900))
    return int(min(2700, max(300, rng.triangular(600, 2700, 2100))))


def draw_areas(rng: random.Random, k: int = N_PAIRS + N_SINGLE_FR + N_SINGLE_EN) -> list[str]:
    codes = list(AREAS)
    weights = [AREAS[c][0] for c in codes]
    return rng.choices(codes, weights=weights, k=k)


def brief(rng: random.Random, uid: str, main: str, kind: str) -> dict:
    topic = rng.choice(AREAS[main][1])
    strategy = main == "1" or rng.random() < 0.1
    n_other = rng.choices([0, 1, 2, 3], weights=[3, 4, 3, 1 + 2 * strategy])[0]
    others = [c for c in rng.sample(OTHER_AREAS, 6) if c != main][:n_other]
    if kind == "pair":
        city = rng.choice(CITIES)
    elif kind == "fr":
        city = rng.choice([c for c in CITIES if c[3] == "fr"] * 3 + CITIES)
    else:
        city = rng.choice([c for c in CITIES if c[3] != "fr"])
    era = rng.choice(["older (2010-2017)", "newer (2018-2024)"])
    b = {
        "unit": uid, "kind": kind, "city": city[0], "country": city[1], "city_size": city[2], "city_language": city[3],
        "main_area": main, "other_areas": others, "topic_seed": topic, "strategy_or_plan": strategy,
        "writer_role": rng.choice(ROLES), "fluency": rng.choice(FLUENCY), "era": era,
        "need": rng.choice(NEED), "impact": rng.choice(IMPACT), "references": rng.choice(REFS),
        "header_block": rng.random() < 0.35, "title_in_city_language": city[3] not in ("en", "fr") and rng.random() < 0.3,
        "oddity": rng.choice([None, None, None, None, "cut short at the end", "starts mid-story", "reads like a case study with its own headings",
                              "one-line subtitle under the title", "long list of partners", "mostly about the city, little about the practice"]),
    }
    if kind == "pair":
        first = rng.choice(["en", "fr"])
        older = rng.random() < 0.65
        b["versions"] = [
            {"lang": first, "layout": "free prose" if older else "labelled", "length": draw_length(rng, short=older),
             "note": "the older, shorter text" if older else "a version written at the same time"},
            {"lang": "fr" if first == "en" else "en", "layout": "labelled" if older or rng.random() < 0.5 else "free prose",
             "length": draw_length(rng), "note": "revised later into the form: details, figures and order differ" if older
             else "not a translation: written separately, details and order differ"},
        ]
    else:
        free = era.startswith("older") and rng.random() < 0.85
        b["versions"] = [{"lang": "fr" if kind == "fr" else "en", "layout": "free prose" if free else "labelled",
                          "length": draw_length(rng), "note": ""}]
    return b


def main() -> None:
    rng = random.Random(SEED)
    mains = draw_areas(rng)
    # every area at least three times as main area
    for code in AREAS:
        while mains.count(code) < 3:
            top = max(set(mains), key=mains.count)
            mains[mains.index(top)] = code
    kinds = ["pair"] * N_PAIRS + ["fr"] * N_SINGLE_FR + ["en"] * N_SINGLE_EN
    rng.shuffle(kinds)
    briefs = [brief(rng, f"u{i + 1:03d}", m, k) for i, (m, k) in enumerate(zip(mains, kinds))]
    units = [b["unit"] for b in briefs]
    test = set(random.Random(SEED + 1).sample(units, len(units) // 2))
    for b in briefs:
        b["split"] = "test" if b["unit"] in test else "tune"
    for seed, counts, contrast in LATER_DRAWS:
        briefs += extra_briefs(len(briefs), seed, counts, contrast)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    header = "# Writing briefs of the realistic set: kept apart from the texts, never shown to readers.\n"
    OUT.write_text(header + yaml.safe_dump({"seed": SEED, "briefs": briefs}, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")
    split = {b["unit"]: b["split"] for b in briefs}
    (OUT.parent / "split.yaml").write_text(
        "# Fixed split by practice: `tune` fits and chooses settings, `test` is only reported.\n"
        + yaml.safe_dump({"seed": SEED + 1, "units": split}, sort_keys=True), encoding="utf-8")
    n_texts = sum(len(b["versions"]) for b in briefs)
    n_fr = sum(v["lang"] == "fr" for b in briefs for v in b["versions"])
    n_free = sum(v["layout"] == "free prose" for b in briefs for v in b["versions"])
    n_pairs = sum(b["kind"] == "pair" for b in briefs)
    print(f"{len(briefs)} units, {n_texts} texts, {n_fr} French, {n_free} free prose, {n_pairs} pairs")
    from collections import Counter
    print(sorted(Counter(b["main_area"] for b in briefs).items(), key=lambda kv: int(kv[0])))


def _fix_areas(rng: random.Random, b: dict, n_other: tuple[list[int], list[int]], n_passing: list[int]) -> None:
    """Further areas worked in with substance (a count drawn with weights), areas only mentioned in passing, and
    how much the text says about how the practice runs."""
    others = [c for c in rng.sample(OTHER_AREAS, 8) if c != b["main_area"]]
    n = rng.choices(n_other[0], weights=n_other[1])[0]
    b["other_areas"] = others[:n]
    b["passing_mentions"] = others[n:n + rng.choice(n_passing)]
    b["how_described"] = rng.choice(HOW_DESCRIBED)


def _as_form(rng: random.Random, b: dict, length: tuple[int, int, int]) -> None:
    """The city's own submission: header fields, labelled sections, a length (characters: low, high, mode)."""
    b["header_block"] = True
    b["form"] = "the city's own submission on the template: header fields and the description's labelled sections"
    for v in b["versions"]:
        v["layout"] = "labelled"
        v["length"] = int(rng.triangular(*length))


def extra_briefs(first: int, seed: int, counts: tuple[int, int, int], contrast: str | None = None) -> list[dict]:
    """A later draw (its own seed), numbered after the first `first` units, all in the tune half; a contrast
    draw also fixes its briefs' local context and how much they say about how the practice runs ("context"),
    their further areas and the areas they only mention in passing ("areas"), or makes them filled forms at a
    submission's length ("forms")."""
    rng = random.Random(seed)
    pairs, single_fr, single_en = counts
    kinds = ["pair"] * pairs + ["fr"] * single_fr + ["en"] * single_en
    mains = draw_areas(rng, len(kinds))
    rng.shuffle(kinds)
    briefs = [brief(rng, f"u{first + i + 1:03d}", m, k) for i, (m, k) in enumerate(zip(mains, kinds))]
    for b in briefs:
        if contrast == "context":
            b["local_context"] = rng.choice(LOCAL_CONTEXT)
            b["how_described"] = rng.choice(HOW_DESCRIBED)
        elif contrast == "areas":
            _fix_areas(rng, b, n_other=([1, 2, 3], [3, 4, 2]), n_passing=[1, 2])
        elif contrast == "forms":
            _as_form(rng, b, (2500, 6500, 4000))
        elif contrast == "mixed forms":
            _fix_areas(rng, b, n_other=([0, 1, 2, 3], [2, 3, 3, 2]), n_passing=[0, 1, 2])
            _as_form(rng, b, (1000, 6500, 2500))
        b["split"] = "tune"
    return briefs


if __name__ == "__main__":
    main()
