"""Writes the tricky submissions of tests/test_tricky_forms.py and their expected fields (expected.json).

Each file imitates a way city officers fill in the ICC good-practice form: instructions left in,
bold labels, tables with several paragraphs per cell, tracked changes, checkboxes, typos, and so on.
The programmes and texts are fictional. Run: .venv/bin/python tests/data/tricky/build.py
"""

from __future__ import annotations

import json
from pathlib import Path

import docx
from docx.oxml import parse_xml
from docx.shared import Pt

HERE = Path(__file__).resolve().parent
W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
W14_NS = 'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml"'
R_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
NBSP = "\u00a0"
SECTIONS = ("purpose", "starting_point", "process", "impact", "references")


def expect(city, title, areas, period, sections, absent=()):
    """Expected values of one practice; a section is None (must be empty) or its first words."""
    missing = set(sections) - set(SECTIONS)
    assert not missing, missing
    return {
        "city": city,
        "title": title,
        "declared_areas": areas,
        "period": list(period),
        "sections": {name: sections.get(name) for name in SECTIONS},
        "absent": list(absent),
    }


def raw(document, xml: str) -> None:
    """Append raw body XML (one or more w:p / w:tbl elements) before the section properties."""
    body = document.element.body
    wrapper = parse_xml(f"<w:body {W_NS} {W14_NS} {R_NS}>{xml}</w:body>")
    for child in list(wrapper):
        body.sectPr.addprevious(child) if body.sectPr is not None else body.append(child)


def bold_lead(document, label: str, value: str, style: str | None = None):
    par = document.add_paragraph(style=style)
    par.add_run(label).bold = True
    par.add_run(value)
    return par


def xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def run(text: str, extra: str = "") -> str:
    return f'<w:r>{extra}<w:t xml:space="preserve">{xml_escape(text)}</w:t></w:r>'


def para(*runs: str, style: str | None = None) -> str:
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f"<w:p>{ppr}{''.join(runs)}</w:p>"


# --- 1. English template with the instructions left in ------------------------------------------

def en_instructions(path: Path):
    d = docx.Document()
    d.add_paragraph("Intercultural Cities – Good practice template", style="Title")
    d.add_paragraph("Please fill in one form per practice and send it to the ICC secretariat.")
    d.add_heading("Contact details", 2)
    for label, value in [
        ("City (name of the city or municipality):", "Tampere"),
        ("Department (unit responsible for the practice):", "Culture and Youth Services"),
        ("Date of the form (dd/mm/yyyy):", "14/03/2023"),
        ("Contact person (name, e-mail):", "Aino Virtanen, aino.virtanen@example.org"),
    ]:
        d.add_paragraph(label)
        d.add_paragraph(value)
    d.add_heading("Good practice", 2)
    for label, value in [
        ("Title (short name of the practice):", "Neighbour Mentors"),
        ("Main area of action (choose one from the list in the guide):", "Welcoming newcomers"),
        ("Main objective (one sentence):", "Pair every newly arrived family with a resident who knows the district."),
        ("Implementation period (start and end dates, or 'ongoing'):", "2010 onwards"),
    ]:
        d.add_paragraph(label)
        d.add_paragraph(value)
    d.add_heading("Description of the good practice (max. 2 pages)", 2)
    d.add_paragraph("Purpose (what did the practice aim to achieve?):")
    d.add_paragraph("The mentors programme aims to shorten the lonely first months of families who settle in Tampere. "
                    "Each family gets a volunteer mentor who lives nearby and can explain how daily life works.")
    d.add_paragraph("Stimulus/Rationale (why was the practice started?):")
    d.add_paragraph("Social workers noticed that newcomers knew the services but did not know any neighbours. "
                    "A survey in 2009 showed that half of them had no Finnish-speaking contact after a year.")
    d.add_paragraph("Process (how was it implemented? who took part?):")
    d.add_paragraph("Volunteers are recruited through residents' associations and trained in two evenings. "
                    "The city's welcome office introduces each mentor to a family during the first month.")
    d.add_paragraph("Mentors and families meet at least twice a month for six months, and the office calls both sides "
                    "after three months to see how things are going.")
    d.add_paragraph("Impact (what has changed? please give figures):")
    d.add_paragraph("Since 2010 more than 900 families have taken part, and 70% still meet their mentor after the "
                    "formal six months.")
    d.add_paragraph("Key reference documents (links, reports, evaluations):")
    d.add_paragraph("Neighbour Mentors evaluation report, Tampere 2019 (in Finnish).")
    d.save(path)
    return [expect("Tampere", "Neighbour Mentors", ["14"], (2010, None, True), {
        "purpose": "The mentors programme aims", "starting_point": "Social workers noticed",
        "process": "Volunteers are recruited", "impact": "Since 2010 more than 900",
        "references": "Neighbour Mentors evaluation report"},
        absent=["what did the practice aim", "please give figures", "Please fill in one form"])]


# --- 2. Bold labels with the value in the same paragraph ----------------------------------------

def en_bold_inline(path: Path):
    d = docx.Document()
    d.add_heading("Good practice form", 1)
    bold_lead(d, "City: ", "Ljubljana")
    bold_lead(d, "Department: ", "Office for Equal Opportunities")
    bold_lead(d, "Contact person ", "Maja Novak")
    bold_lead(d, "Title ", "Intercultural Story Walks")
    par = d.add_paragraph()
    par.add_run("Main area of action").bold = True
    par.add_run("\t")
    par.add_run("Public space")
    bold_lead(d, "Main objective: ", "Bring residents of different origins to discover each other's places in the city.")
    bold_lead(d, "Implementation period: ", "Since 2017 - Ongoing")
    d.add_heading("Description of the good practice", 2)
    bold_lead(d, "Purpose: ", "To show residents that every street corner holds stories from many cultures, told by "
              "the people who live there.")
    bold_lead(d, "Stimulus/Rationale: ", "A 2016 survey found that most residents never visited neighbourhoods where "
              "migrants had settled.")
    bold_lead(d, "Process ", "The walks start from a library and stop at a shop, a place of worship and a community "
              "garden, where residents tell their own story.")
    d.add_paragraph("Guides are volunteers who followed a short storytelling course offered by the city library.")
    bold_lead(d, "Impact: ", "About 2,400 people joined 160 walks; two walks are now part of the school curriculum.")
    bold_lead(d, "Key reference documents: ", "Story Walks map and guide, City of Ljubljana, 2021.")
    d.save(path)
    return [expect("Ljubljana", "Intercultural Story Walks", ["6"], (2017, None, True), {
        "purpose": "To show residents that every street", "starting_point": "A 2016 survey found",
        "process": "The walks start from a library", "impact": "About 2,400 people joined",
        "references": "Story Walks map and guide"})]


# --- 3. Two-column table, value cells with several paragraphs and bullet lists ------------------

def en_table_multipara(path: Path):
    d = docx.Document()
    d.add_paragraph("GOOD PRACTICE FORM", style="Title")
    t = d.add_table(rows=0, cols=2)
    t.style = "Table Grid"

    def row(label, *values, bullets=()):
        cells = t.add_row().cells
        cells[0].text = label
        cells[1].text = values[0] if values else ""
        for v in values[1:]:
            cells[1].add_paragraph(v)
        for b in bullets:
            cells[1].add_paragraph(b, style="List Bullet")

    row("City", "Aarhus")
    row("Department", "Children and Young People")
    row("Date of the form", "03/10/2023")
    row("Contact person", "Lars Holm")
    row("Title", "Homework Clubs in Public Libraries")
    row("Main area of action", "Education; Language")
    row("Main objective", "Give pupils whose parents do not speak Danish a quiet place and a helper for homework.",
        "The clubs also aim to make the library a familiar place for the families.")
    row("Implementation period", "2019/20 - 2022/23")
    row("Description of the good practice")
    row("Purpose", "Pupils from multilingual families often have no one at home who can help with Danish homework.",
        "The clubs offer help four afternoons a week in six branch libraries.")
    row("Stimulus/Rationale", "School results of multilingual pupils were well below the city average.",
        bullets=["reading tests in grade 3 showed the largest gap;", "teachers asked for help outside school hours."])
    row("Process", "The clubs are run by the libraries with volunteers from the university:",
        bullets=["students are trained by a teacher from the language centre;",
                 "each club has two paid coordinators;", "parents are invited to a monthly family evening."],
        )
    row("Impact", "• 1,150 pupils used the clubs in four school years.", "• Library cards among the families doubled.",
        "A follow-up of 200 pupils showed better reading results than a comparison group.")
    row("Key reference documents", "Homework Clubs – final report (2023), Aarhus Libraries.",
        "https://example.org/homework-clubs")
    d.save(path)
    return [expect("Aarhus", "Homework Clubs in Public Libraries", ["5", "11"], (2019, 2023, False), {
        "purpose": "Pupils from multilingual families", "starting_point": "School results of multilingual pupils",
        "process": "The clubs are run by the libraries", "impact": "• 1,150 pupils used the clubs",
        "references": "Homework Clubs – final report"})]


# --- 4. Four-column header table: label, value, label, value ------------------------------------

def en_four_columns(path: Path):
    d = docx.Document()
    d.add_heading("Intercultural Cities – Good practice", 1)
    rows = [
        ("City", "Leuven", "Department", "Diversity and Inclusion Office"),
        ("Date of the form", "02/05/2023", "Contact person", "Jan Peeters"),
        ("Title", "Buddy Runs", "Main area of action", "Interaction"),
        ("Main objective", "Use a weekly running group to create friendships across origins.",
         "Implementation period", "Social network - ongoing / Assessment - 2017"),
    ]
    t = d.add_table(rows=0, cols=4)
    for values in rows:
        cells = t.add_row().cells
        for c, v in zip(cells, values):
            c.text = v
    d.add_heading("Description of the good practice", 2)
    d.add_paragraph("Purpose: Running together is easy to join and needs no common language at first.")
    d.add_paragraph("Stimulus/Rationale: A sports club noticed that newcomers joined its events but never its teams.")
    d.add_paragraph("Process: Every Sunday morning a local runner and a newcomer run together at their own pace, "
                    "followed by coffee offered by the club.")
    d.add_paragraph("Impact: In 2017 an assessment counted 310 pairs, and a third of the newcomers later joined a club.")
    d.add_paragraph("Key reference documents: Buddy Runs assessment 2017.")
    d.save(path)
    return [expect("Leuven", "Buddy Runs", ["16"], (2017, None, True), {
        "purpose": "Running together is easy", "starting_point": "A sports club noticed",
        "process": "Every Sunday morning", "impact": "In 2017 an assessment", "references": "Buddy Runs assessment"})]


# --- 5. The whole description inside one table cell ----------------------------------------------

def en_description_one_cell(path: Path):
    d = docx.Document()
    t = d.add_table(rows=0, cols=2)
    for label, value in [("City:", "Cascais"), ("Department:", "Social Cohesion"), ("Contact person:", "Rita Sousa"),
                         ("Title:", "Rumour Stoppers"), ("Main area of action:", "Anti-rumour strategy"),
                         ("Main objective:", "Answer common rumours about migrants with facts and conversation."),
                         ("Implementation period:", "2021 (ongoing since 2017)")]:
        cells = t.add_row().cells
        cells[0].text, cells[1].text = label, value
    d.add_paragraph("")
    t2 = d.add_table(rows=2, cols=1)
    t2.cell(0, 0).text = "Description of the good practice"
    c = t2.cell(1, 0)
    c.text = "Purpose: To give residents simple answers to the rumours they hear at work, in cafés and online."
    for text in [
        "Stimulus/Rationale:",
        "After a local election campaign, rumours about housing benefits for migrants spread widely.",
        "Process: Volunteers called rumour stoppers take a twelve-hour course on conversation and on facts.",
        "They then run stands at markets and answer posts in neighbourhood groups.",
        "Impact: 180 rumour stoppers have been trained and reached about 15,000 people.",
        "Key reference documents:",
        "Anti-rumour handbook, Cascais 2019; evaluation by the university, 2021.",
    ]:
        c.add_paragraph(text)
    d.save(path)
    return [expect("Cascais", "Rumour Stoppers", ["4"], (2017, 2021, True), {
        "purpose": "To give residents simple answers", "starting_point": "After a local election campaign",
        "process": "Volunteers called rumour stoppers", "impact": "180 rumour stoppers",
        "references": "Anti-rumour handbook"})]


# --- 6. Sections as numbered Word headings ---------------------------------------------------------

def en_numbered_headings(path: Path):
    d = docx.Document()
    d.add_heading("1. Contact details", 1)
    d.add_paragraph("City: Mechelen")
    d.add_paragraph("Department: Youth and Participation")
    d.add_paragraph("Contact person: Els Janssens")
    d.add_heading("2. The practice", 1)
    d.add_paragraph("Title: Youth Council of Many Voices")
    d.add_paragraph("Main area of action: 15. Public and political participation")
    d.add_paragraph("Implementation period: 2015-2019")
    d.add_heading("3. Description of the good practice", 1)
    d.add_heading("3.1 Purpose", 2)
    d.add_paragraph("The council gives young people of all origins a real say in the city's youth budget.")
    d.add_heading("3.2 Stimulus / Rationale", 2)
    d.add_paragraph("The old youth council had 20 members, none of them from a migrant family.")
    d.add_heading("3.3 Process", 2)
    d.add_paragraph("Members are drawn by lot from volunteers in every secondary school and youth club.")
    d.add_heading("3.4 Impact", 2)
    d.add_paragraph("Two thirds of the members now have a migrant background and they decided on 40 projects.")
    d.add_heading("3.5 Key reference documents", 2)
    d.add_paragraph("Youth council rules, Mechelen 2015.")
    d.save(path)
    return [expect("Mechelen", "Youth Council of Many Voices", ["15"], (2015, 2019, False), {
        "purpose": "The council gives young people", "starting_point": "The old youth council",
        "process": "Members are drawn by lot", "impact": "Two thirds of the members",
        "references": "Youth council rules"})]


# --- 7. Labels in capitals ---------------------------------------------------------------------------

def en_all_caps(path: Path):
    d = docx.Document()
    for text in ["CITY: Sabadell", "DEPARTMENT: COMMUNITY MEDIATION SERVICE", "CONTACT PERSON: Núria Puig",
                 "TITLE: Kitchen Table Conversations",
                 "MAIN AREA OF ACTION: Intercultural mediation and conflict resolution",
                 "MAIN OBJECTIVE: Settle conflicts between neighbours before they reach the police.",
                 "IMPLEMENTATION PERIOD: September 2020 – June 2022", "DESCRIPTION OF THE GOOD PRACTICE", "PURPOSE:",
                 "Neighbours in conflict meet at the kitchen table of one of them, with two trained mediators.",
                 "STIMULUS/RATIONALE:", "Complaints about noise and shared spaces in mixed housing blocks doubled.",
                 "PROCESS:", "Mediators are residents who speak the main languages of the district.",
                 "IMPACT:", "Of 214 cases, 160 ended with a written agreement between the neighbours.",
                 "KEY REFERENCE DOCUMENTS:", "Mediation service yearly report 2022."]:
        d.add_paragraph(text)
    d.save(path)
    return [expect("Sabadell", "Kitchen Table Conversations", ["10"], (2020, 2022, False), {
        "purpose": "Neighbours in conflict meet", "starting_point": "Complaints about noise",
        "process": "Mediators are residents", "impact": "Of 214 cases", "references": "Mediation service"})]


# --- 8. No Title row; the document's title heading names the practice ---------------------------

def en_title_heading(path: Path):
    d = docx.Document()
    d.add_paragraph("Welcome Cafés for New Residents", style="Title")
    t = d.add_table(rows=0, cols=2)
    for label, value in [("City", "Ravenna"), ("Department", "Social Services"), ("Date of the form", "21/11/2022"),
                         ("Contact person", "Giulia Conti"), ("Main area of action", "Welcoming newcomers – migrants"),
                         ("Main objective", "Offer new residents an informal first contact with the city."),
                         ("Implementation period", "2018-2023")]:
        cells = t.add_row().cells
        cells[0].text, cells[1].text = label, value
    d.add_heading("Description of the good practice", 2)
    d.add_paragraph("Purpose: A monthly café where people who just registered in Ravenna meet officials and residents.")
    d.add_paragraph("Stimulus/Rationale: New residents told us that the registry office was their only contact.")
    d.add_paragraph("Process: Every new resident receives a letter in five languages inviting them to the café.")
    d.add_paragraph("Impact: 1,300 people came to 55 cafés; many joined language courses afterwards.")
    d.save(path)
    return [expect("Ravenna", "Welcome Cafés for New Residents", ["14", "14b"], (2018, 2023, False), {
        "purpose": "A monthly café", "starting_point": "New residents told us", "process": "Every new resident",
        "impact": "1,300 people came", "references": None})]


# --- 9. Two practices, each under "Good practice 1/2" --------------------------------------------

def en_two_practices(path: Path):
    d = docx.Document()
    d.add_heading("Good practice 1", 1)
    for text in ["City: Bilbao", "Department: Youth", "Title: Youth Radio in Five Languages",
                 "Main area of action: Communication and public awareness", "Implementation period: 2016 – 2018",
                 "Description of the good practice",
                 "Purpose: Young people produce a weekly radio show in the languages spoken in their families.",
                 "Process: A community radio station trains groups of eight teenagers for three months.",
                 "Impact: 96 shows were broadcast and the station kept two of the presenters."]:
        d.add_paragraph(text)
    d.add_heading("GOOD PRACTICE 2", 1)
    for text in ["Title: Shared Allotments", "Main area of action: Public space",
                 "Implementation period: since 2020", "Description of the good practice",
                 "Purpose: Allotment plots are given to mixed pairs of gardeners, one local and one newcomer.",
                 "Stimulus/Rationale: The waiting list for allotments was long and almost only local families applied.",
                 "Process: Pairs are formed at an information evening and share tools kept in a common shed.",
                 "Impact: 64 pairs garden together and organise a harvest festival each autumn."]:
        d.add_paragraph(text)
    d.save(path)
    return [
        expect("Bilbao", "Youth Radio in Five Languages", ["2"], (2016, 2018, False), {
            "purpose": "Young people produce a weekly radio", "starting_point": None,
            "process": "A community radio station", "impact": "96 shows were broadcast", "references": None}),
        expect("Bilbao", "Shared Allotments", ["6"], (2020, None, True), {
            "purpose": "Allotment plots are given", "starting_point": "The waiting list",
            "process": "Pairs are formed", "impact": "64 pairs garden together", "references": None}),
    ]


# --- 10. French form with guillemets and non-breaking spaces --------------------------------------

def fr_guillemets(path: Path):
    d = docx.Document()
    d.add_heading("Fiche de bonne pratique", 1)
    d.add_heading("Coordonnées", 2)
    for label, value in [("Ville", "Rennes"), ("Département", "Direction de la cohésion sociale"),
                         ("Date du formulaire", "12/06/2023"), ("Personne de contact", "Claire Le Goff"),
                         ("Titre", f"«{NBSP}Cafés des langues{NBSP}»"),
                         ("Principal domaine d’action", "Langue ; Interaction"),
                         ("Principal objectif", "Faire de chaque langue parlée à Rennes une occasion de rencontre."),
                         ("Période de mise en œuvre", f"depuis septembre{NBSP}2018")]:
        d.add_paragraph(f"{label}{NBSP}:")
        d.add_paragraph(value)
    d.add_heading("Description de la bonne pratique", 2)
    d.add_paragraph(f"But{NBSP}: permettre aux habitantes et habitants de pratiquer une langue avec des locuteurs "
                    f"natifs, dans un café de quartier, sans inscription.")
    d.add_paragraph(f"Point de départ{NBSP}: les cours de langue municipaux étaient complets et les personnes "
                    f"apprenantes manquaient d’occasions de parler.")
    d.add_paragraph(f"Processus{NBSP}: chaque semaine, une table par langue est animée par une personne bénévole "
                    f"qui parle la langue depuis l’enfance.")
    d.add_paragraph(f"Impact{NBSP}: 22{NBSP}langues ont été proposées et environ 3{NBSP}000 personnes sont venues "
                    f"au moins une fois.")
    d.add_paragraph(f"Principaux documents de référence{NBSP}: «{NBSP}Bilan des cafés des langues{NBSP}», Ville de "
                    f"Rennes, 2022.")
    d.save(path)
    return [expect("Rennes", "Cafés des langues", ["11", "16"], (2018, None, True), {
        "purpose": "permettre aux habitantes", "starting_point": "les cours de langue municipaux",
        "process": "chaque semaine, une table", "impact": "22 langues ont été proposées",
        "references": "« Bilan des cafés des langues »"})]


# --- 11. Tracked changes -----------------------------------------------------------------------------

def en_tracked_changes(path: Path):
    d = docx.Document()
    ins = lambda text: f'<w:ins w:id="1" w:author="Editor" w:date="2023-04-01T10:00:00Z">{run(text)}</w:ins>'  # noqa: E731
    dele = lambda text: (f'<w:del w:id="2" w:author="Editor" w:date="2023-04-01T10:00:00Z"><w:r>'  # noqa: E731
                         f'<w:delText xml:space="preserve">{text}</w:delText></w:r></w:del>')
    raw(d, "".join([
        para(run("City: Malmö")),
        para(run("Department: "), dele("Integration Unit"), ins("Department of Labour Market and Social Services")),
        para(run("Title: "), dele("Job Shadow Days"), ins("Work Shadowing for Newcomers")),
        para(run("Main area of action: "), ins("Business, employment and diversity")),
        para(run("Implementation period: "), dele("2019"), ins("2020"), run("–2023")),
        para(run("Description of the good practice")),
        para(run("Purpose: "), ins("Newcomers spend "), run("three days beside an employee in a job they trained for abroad.")),
        para(run("Stimulus/Rationale: Many newcomers had diplomas but no Swedish work experience to show.")),
        # A paragraph deleted as a whole, paragraph mark included.
        '<w:p><w:pPr><w:rPr><w:del w:id="3" w:author="Editor" w:date="2023-04-01T10:00:00Z"/></w:rPr></w:pPr>'
        + dele("This paragraph was removed by the editor.") + "</w:p>",
        para(run("Process: Employers sign up through the business office, which matches them with candidates.")),
        para(ins("Impact: 420 shadowing periods led to 130 job offers.")),
        para(run("Key reference documents: "), dele("draft memo"), ins("Work shadowing evaluation, Malmö 2023.")),
    ]))
    d.save(path)
    return [expect("Malmö", "Work Shadowing for Newcomers", ["8"], (2020, 2023, False), {
        "purpose": "Newcomers spend three days", "starting_point": "Many newcomers had diplomas",
        "process": "Employers sign up", "impact": "420 shadowing periods", "references": "Work shadowing evaluation"},
        absent=["removed by the editor", "Job Shadow Days", "draft memo"])]


# --- 12. Hyperlinks in the references -------------------------------------------------------------

def en_hyperlinks(path: Path):
    d = docx.Document()
    rid = d.part.relate_to("https://example.org/dialogue", docx.opc.constants.RELATIONSHIP_TYPE.HYPERLINK,
                           is_external=True)
    style = '<w:rPr><w:rStyle w:val="Hyperlink"/></w:rPr>'
    link = f'<w:hyperlink r:id="{rid}" w:history="1">{run("Dialogue Tables handbook", style)}</w:hyperlink>'
    simple = f'<w:fldSimple w:instr=" HYPERLINK &quot;https://example.org/report&quot; ">{run("Evaluation report 2022")}</w:fldSimple>'
    field = ('<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> HYPERLINK '
             '"https://example.org/video" </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r>'
             + run("short film") + '<w:r><w:fldChar w:fldCharType="end"/></w:r>')
    mail = f'<w:hyperlink r:id="{rid}">{run("s.brandt@example.org")}</w:hyperlink>'
    raw(d, "".join([
        para(run("City: Erfurt")),
        para(run("Contact person: Sabine Brandt, "), mail),
        para(run("Title: Dialogue Tables")),
        para(run("Main area of action: Interreligious dialogue")),
        para(run("Implementation period: 2014 - present")),
        para(run("Description of the good practice")),
        para(run("Purpose: Members of different faith communities share a meal and talk about one question.")),
        para(run("Stimulus/Rationale: Tension rose after an attack on a place of worship in a nearby town.")),
        para(run("Process: Each table seats eight people from at least three communities and one host.")),
        para(run("Impact: 75 tables took place, and the communities now meet on their own initiative.")),
        para(run("Key reference documents: "), link, run("; "), simple, run("; a "), field, run(" about the tables.")),
    ]))
    d.save(path)
    return [expect("Erfurt", "Dialogue Tables", ["9", "9a"], (2014, None, True), {
        "purpose": "Members of different faith", "starting_point": "Tension rose",
        "process": "Each table seats eight", "impact": "75 tables took place",
        "references": "Dialogue Tables handbook (https://example.org/dialogue); Evaluation report 2022; a short film "
                      "about the tables."},
        absent=["HYPERLINK", "example.org/video"])]


# --- 13. Content-control checkboxes for the main area, in a table cell ---------------------------

AREA_LIST = [
    "1. Leadership and political commitment", "2. Communication and public awareness",
    "3. Anti-discrimination and equality", "a. Gender and intersectionality", "b. Roma and Travellers", "c. Youth",
    "4. Anti-rumour strategies", "5. Education", "6. Public space", "7. Public services", "8. Business, employment",
    "9. Cultural and social life", "10. Intercultural mediation", "11. Language", "12. International outlook",
    "13. Intercultural intelligence and competence", "14. Welcoming newcomers", "15. Public and political participation",
    "16. Interaction",
]


def _checkbox_sdt(checked: bool) -> str:
    glyph = "\u2612" if checked else "\u2610"
    return (f'<w:sdt><w:sdtPr><w:id w:val="{1000 + checked}"/><w14:checkbox><w14:checked w14:val="{int(checked)}"/>'
            '<w14:checkedState w14:val="2612" w14:font="MS Gothic"/><w14:uncheckedState w14:val="2610" '
            'w14:font="MS Gothic"/></w14:checkbox></w:sdtPr><w:sdtContent><w:r><w:rPr><w:rFonts '
            f'w:ascii="MS Gothic" w:hAnsi="MS Gothic"/></w:rPr><w:t>{glyph}</w:t></w:r></w:sdtContent></w:sdt>')


def en_checkbox_sdt(path: Path):
    d = docx.Document()
    ticked = {"3. Anti-discrimination and equality", "c. Youth"}
    area_cell = "".join(para(_checkbox_sdt(item in ticked), run(" " + item)) for item in AREA_LIST)
    rows = [("City", para(run("Botevgrad"))), ("Title", para(run("Young Equality Reporters"))),
            ("Main area of action", area_cell), ("Implementation period", para(run("2022")))]
    raw(d, "<w:tbl>" + "".join(f"<w:tr><w:tc>{para(run(label))}</w:tc><w:tc>{value}</w:tc></w:tr>"
                                for label, value in rows) + "</w:tbl>")
    raw(d, "".join([
        para(run("Description of the good practice"), style="Heading2"),
        para(run("Purpose: Teenagers learn to recognise discrimination and report on it for a youth news site.")),
        para(run("Process: Ten workshops with a journalist and a lawyer, then a month of reporting in pairs.")),
        para(run("Impact: 30 reporters published 41 stories; the school board changed its complaints procedure.")),
    ]))
    d.save(path)
    return [expect("Botevgrad", "Young Equality Reporters", ["3", "3c"], (2022, 2022, False), {
        "purpose": "Teenagers learn to recognise", "starting_point": None, "process": "Ten workshops",
        "impact": "30 reporters published", "references": None})]


# --- 14. Legacy form checkboxes and Wingdings boxes for the main area ----------------------------

def _legacy_checkbox(checked: bool) -> str:
    state = '<w:default w:val="1"/>' if checked else '<w:default w:val="0"/>'
    return ('<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Check1"/><w:enabled/>'
            f'<w:calcOnExit w:val="0"/><w:checkBox><w:sizeAuto/>{state}</w:checkBox></w:ffData></w:fldChar></w:r>'
            '<w:r><w:instrText xml:space="preserve"> FORMCHECKBOX </w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="end"/></w:r>')


def _wingdings(checked: bool) -> str:
    char = "F0FE" if checked else "F0A8"
    return f'<w:r><w:sym w:font="Wingdings" w:char="{char}"/></w:r>'


def en_legacy_checkboxes(path: Path):
    d = docx.Document()
    raw(d, "".join([
        para(run("City: Limerick")),
        para(run("Title: Library of Languages")),
        para(run("Main area of action (tick one or more):")),
        *(para(_legacy_checkbox(item in {"11. Language"}), run(" " + item)) for item in AREA_LIST[:14]),
        *(para(_wingdings(item == "14. Welcoming newcomers"), run(" " + item)) for item in AREA_LIST[14:]),
        para(run("Implementation period: 2019 - 2021")),
        para(run("Description of the good practice")),
        para(run("Purpose: Lend books in the home languages of the city's residents and show these languages off.")),
        para(run("Process: Communities chose and donated books; the library catalogued them in six months.")),
        para(run("Impact: 4,000 books in 31 languages, borrowed 9,000 times in two years.")),
    ]))
    d.save(path)
    return [expect("Limerick", "Library of Languages", ["11", "14"], (2019, 2021, False), {
        "purpose": "Lend books in the home languages", "starting_point": None, "process": "Communities chose",
        "impact": "4,000 books in 31 languages", "references": None})]


# --- 15. Merged cells ---------------------------------------------------------------------------------

def en_merged_cells(path: Path):
    d = docx.Document()
    t = d.add_table(rows=6, cols=2)
    t.style = "Table Grid"
    head = t.cell(0, 0).merge(t.cell(0, 1))
    head.text = "CONTACT DETAILS"
    for r, (label, value) in enumerate([("City", "Bergamo"), ("Department", "Culture"),
                                        ("Title", "Neighbourhood Choirs"), ("Main area of action", "Cultural and social life"),
                                        ("Implementation period", "2016–2020")], start=1):
        t.cell(r, 0).text, t.cell(r, 1).text = label, value
    d.add_paragraph("")
    t2 = d.add_table(rows=5, cols=3)
    t2.style = "Table Grid"
    side = t2.cell(0, 0).merge(t2.cell(4, 0))
    side.text = "Description of the good practice"
    for r, (label, value) in enumerate([
        ("Purpose", "Choirs open to anyone sing songs from the countries of their members."),
        ("Stimulus/Rationale", "Music teachers saw that parents from different origins never met at school events."),
        ("Process", "A conductor and a musician from a migrant community lead each choir; rehearsals are weekly."),
        ("Impact", "Seven choirs with 260 singers; a yearly concert fills the city theatre."),
        ("Key reference documents", "Neighbourhood Choirs songbook, 2020."),
    ]):
        t2.cell(r, 1).text, t2.cell(r, 2).text = label, value
    d.save(path)
    return [expect("Bergamo", "Neighbourhood Choirs", ["9"], (2016, 2020, False), {
        "purpose": "Choirs open to anyone", "starting_point": "Music teachers saw", "process": "A conductor and a musician",
        "impact": "Seven choirs", "references": "Neighbourhood Choirs songbook"})]


# --- 16. Page header and footer carrying the city's name -------------------------------------------

def en_header_footer(path: Path):
    d = docx.Document()
    section = d.sections[0]
    section.header.paragraphs[0].text = "City of Cork – Intercultural Cities Programme"
    section.footer.paragraphs[0].text = "Good practice form – City of Cork – page 1"
    section.different_first_page_header_footer = True
    section.first_page_header.paragraphs[0].text = "CORK CITY COUNCIL"
    d.add_paragraph("CORK CITY COUNCIL").runs[0].font.size = Pt(16)
    for text in ["City: Cork", "Department: Community, Culture and Placemaking", "Title: Festival Volunteers",
                 "Main area of action: Cultural and social life", "Implementation period: 2019-2022",
                 "Description of the good practice",
                 "Purpose: Newcomers volunteer at the city's festivals and meet residents while doing so.",
                 "Stimulus/Rationale: Festival volunteers were almost all Irish-born and over fifty.",
                 "Process: The volunteer centre runs sessions in direct provision centres and language schools.",
                 "Impact: 340 newcomers volunteered at 12 festivals; 40 later took paid festival jobs."]:
        d.add_paragraph(text)
    d.save(path)
    return [expect("Cork", "Festival Volunteers", ["9"], (2019, 2022, False), {
        "purpose": "Newcomers volunteer", "starting_point": "Festival volunteers were", "process": "The volunteer centre",
        "impact": "340 newcomers volunteered", "references": None},
        absent=["Intercultural Cities Programme", "page 1", "CORK CITY COUNCIL"])]


# --- 17. "N/A" and "-" values ------------------------------------------------------------------------

def en_na_values(path: Path):
    d = docx.Document()
    t = d.add_table(rows=0, cols=2)
    for label, value in [("City", "Lisburn"), ("Department", "N/A"), ("Date of the form", "-"),
                         ("Contact person", "n/a"), ("Title", "Health Champions"),
                         ("Main area of action", "Public services; Health"), ("Main objective", "--"),
                         ("Implementation period", "2022"), ("Description of the good practice", ""),
                         ("Purpose", "Residents from minority communities are trained to pass on health information."),
                         ("Stimulus/Rationale", "-"),
                         ("Process", "Champions follow a course with the health trust and then hold sessions at home."),
                         ("Impact", "N/A – the evaluation starts next year."),
                         ("Key reference documents", "N/A")]:
        cells = t.add_row().cells
        cells[0].text, cells[1].text = label, value
    d.save(path)
    return [expect("Lisburn", "Health Champions", ["7", "7a"], (2022, 2022, False), {
        "purpose": "Residents from minority", "starting_point": None, "process": "Champions follow a course",
        "impact": "N/A – the evaluation starts", "references": None})]


# --- 18. Label typos of a non-native writer --------------------------------------------------------

def en_typos(path: Path):
    d = docx.Document()
    for text in ["Citty: Timisoara", "Departement: Direction for Social Assistance", "Contact persone: Ana Popescu",
                 "Tittle: Intercultural Kindergarten Week", "Main area of actions: Education",
                 "Main objectif: To make kindergarten children curious about the cultures of their classmates.",
                 "Implemantation period: 2018 - 2019", "Description of the good pratice",
                 "Purpouse:", "Children discover each week the songs, food and games of another family of the group.",
                 "Stimulus / rational:", "Educators told that children from Roma and migrant families were left alone in play.",
                 "Proces:", "Each family is invited to prepare one day with the educators, with help of a mediator.",
                 "Impacts and results:", "All 38 kindergartens took part and parents' participation rose strongly.",
                 "Key references documents:", "Report of the kindergarten inspectorate, 2019."]:
        d.add_paragraph(text)
    d.save(path)
    return [expect("Timisoara", "Intercultural Kindergarten Week", ["5"], (2018, 2019, False), {
        "purpose": "Children discover each week", "starting_point": "Educators told",
        "process": "Each family is invited", "impact": "All 38 kindergartens", "references": "Report of the kindergarten"})]


# --- 19. A long practice with sub-headings inside the sections ----------------------------------------

LONG_PARAGRAPHS = {
    "purpose": [
        "The Open Doors programme wants every resident of the northern districts to have at least one place outside "
        "home where they feel expected and welcome. The districts grew quickly in the last twenty years, and most of "
        "the people who moved in came from abroad or from other regions. Services were built, but the places where "
        "people could simply meet did not follow at the same pace.",
        "We wanted the programme to rest on things people already do: cooking, repairing, sewing, playing football, "
        "reading to children. Instead of inventing new activities, the city offers rooms, small grants and a "
        "coordinator so that residents can open what they know to their neighbours. The intercultural part is not "
        "an extra topic; it is the way the groups are formed and run.",
        "A second aim is to change how the city works in these districts. Departments that used to act alone now "
        "plan together with the groups, and they use the programme to hear early about problems in the area.",
        "Finally, the programme is meant to be easy to copy. Its rules fit on two pages, its budget lines are ordinary "
        "ones, and the tools it uses, from the booking system to the one-page grant form, are published so that other "
        "districts and other cities can take them over and adapt them to their own situation.",
    ],
    "starting_point": [
        "In 2015 a study of the northern districts showed that residents felt safe but lonely. Six out of ten people "
        "said they did not know the name of a neighbour, and the figure was higher among newcomers. At the same time, "
        "the district's community centre was used mostly by older residents who had lived there for decades.",
        "Several associations of migrants ran their own activities in rented basements, often in good spirit but "
        "without contact with other groups. When a conflict about the use of a sports field broke out in 2016, the "
        "city realised that nobody had a picture of who met where and why.",
        "The council decided to test a different approach in two districts before deciding on a larger programme. "
        "The youth, culture, social and sports departments agreed to share a budget and a coordinator.",
        "The test ran in 2017 in the two districts with the highest share of newcomers. It was deliberately small: "
        "one coordinator, a budget for rooms and twenty grants. An advisory group of residents, researchers and staff "
        "met every quarter to look at what worked. After a year the group recommended keeping the simple grant rules, "
        "hiring a second coordinator who speaks Arabic and Somali, and opening the programme to all six northern "
        "districts, which the council approved in its 2018 budget.",
        "Residents also pushed for the programme. A petition signed by 1,100 people in 2016 asked for evening access "
        "to school buildings, and the parents' associations of three schools offered to act as key holders. Their "
        "offer gave the departments the confidence that opening public buildings would not cause damage or conflict.",
    ],
    "process": [
        "Phase 1 – Listening. During the first six months two coordinators visited every association, school, place "
        "of worship and shop that accepted to talk to them. They asked three questions: what do you do, who takes "
        "part, and what would you like to share with others. Over 180 conversations were written up and discussed "
        "at an open evening.",
        "Phase 2 – Opening rooms. The city made an inventory of its own premises in the districts and found that many "
        "rooms were empty in the evening and at weekends. Schools, libraries and the sports hall agreed on a simple "
        "booking system, with a key holder from the neighbourhood and insurance paid by the city.",
        "Phase 3 – Small grants. Any group of at least three residents from two different backgrounds can apply for "
        "up to 1,500 euros a year. The application is one page long and can be made orally at the district office. "
        "A jury of residents, renewed each year, decides in public meetings.",
        "Phase 4 – Working across departments. The coordinators meet the departments every two months and bring the "
        "questions raised by the groups: a broken streetlight, a lack of childcare during courses, a wish for a "
        "football goal. Each department names one person who answers within a month.",
        "Training is offered to the group leaders on running meetings, welcoming people who do not share a language "
        "and dealing with conflict. It is given in the evening and childcare is provided. Leaders who want to can "
        "also visit groups in other cities of the network.",
        "The programme pays particular attention to people who rarely take part: older migrant women, young men who "
        "have left school, and residents who work at night. Coordinators go to them rather than waiting for them, "
        "for example by holding information sessions in launderettes and at the bus depot.",
        "The budget has grown from 120,000 euros in the test year to 450,000 euros now, shared by four departments "
        "and a foundation. About one third goes to the small grants, one third to staff and one third to rooms, "
        "training and communication in eight languages.",
        "Communication was a lesson in itself. Leaflets in eight languages reached few people, while a stand at the "
        "Saturday market and messages passed on by group leaders in their own networks reached many. The coordinators "
        "now keep a list of about sixty 'relays', residents who agree to pass on news in their language and who are "
        "invited twice a year to hear what is planned.",
        "Phase 5 – Sharing the programme with residents. Since 2020 a residents' board of twelve members, drawn from "
        "the groups, sets the priorities for the coming year. The board chose to reserve part of the grants for "
        "activities led by young people and to hold one large district festival instead of many small ones. Board "
        "members receive a small allowance and training in budgeting.",
        "During the pandemic most groups stopped meeting in person. The coordinators helped leaders move to phone "
        "chains and outdoor meetings, and several groups turned into mutual help networks that delivered shopping "
        "and translated health information. Afterwards the city kept a small emergency fund that groups can use when "
        "something unexpected happens in the district.",
        "Partners outside the city administration play a growing part. The housing company offers two ground-floor "
        "flats as meeting rooms, a foundation finances the training of leaders, and the adult education centre "
        "recognises the time volunteers give as part of its courses for community workers.",
    ],
    "impact": [
        "Between 2017 and 2023 the programme supported 212 groups, of which 140 are still active. They range from a "
        "bicycle repair workshop to a women's choir and a chess club that meets in the library. About 6,500 "
        "residents take part in at least one group each year.",
        "A survey repeated in 2022 found that the share of residents who know at least one neighbour by name rose "
        "from 40% to 61%. The gain was largest among residents who arrived less than five years ago. Complaints "
        "about the use of public spaces fell by a quarter.",
        "Inside the city administration, the programme changed habits. The departments now plan their activities "
        "in the districts together, and the housing company uses the groups to consult residents before renovations.",
        "There are also limits. Some groups depend on one person and stop when that person moves away. The booking "
        "system works well for schools but less for the sports hall, where clubs feel that their time is being taken. "
        "The evaluation recommends more support for group leaders and a clearer rule for sharing the hall.",
        "The groups also became a door to other services. Coordinators counted about 900 referrals a year to language "
        "courses, job counselling, health services and debt advice, made by group leaders who knew the person and "
        "could go with them to the first meeting. Staff of these services say that people referred in this way come "
        "back more often than those who were only given a leaflet.",
        "Group leaders themselves changed. Of the 85 leaders interviewed for the evaluation, 30 had never led anything "
        "before, and a dozen later stood for the district council or joined the board of an association. Several said "
        "that the training on conflict helped them at work and at home as well.",
        "The district festival, organised by the residents' board since 2021, brings about 4,000 visitors each "
        "September. Stalls are run by the groups, and the programme is chosen in open meetings. Visitors from other "
        "parts of the city now come too, which slowly changes the image of the northern districts in local media.",
        "Costs per participant are modest compared with other programmes of the city: about 70 euros per resident "
        "and year, a figure that includes staff. The council has made the programme permanent in its budget and "
        "decided to extend it to two southern districts from 2025, with the same rules and a separate residents' board.",
    ],
    "references": [
        "Open Doors – external evaluation, University of the North, 2023.",
        "District survey on social ties, 2015 and 2022 editions.",
        "Programme rules, grant form and booking guide (2023), available from the district office on request.",
    ],
}


def en_long(path: Path):
    d = docx.Document()
    d.add_paragraph("Open Doors in the Northern Districts", style="Title")
    t = d.add_table(rows=0, cols=2)
    for label, value in [("City", "Vantaa"), ("Department", "Culture, sports and youth"),
                         ("Title", "Open Doors in the Northern Districts"),
                         ("Main area of action", "Interaction; Public space"),
                         ("Main objective", "Every resident has a place near home where they are expected and welcome."),
                         ("Implementation period", "2017 - ongoing")]:
        cells = t.add_row().cells
        cells[0].text, cells[1].text = label, value
    d.add_heading("Description of the good practice", 1)
    labels = {"purpose": "Purpose", "starting_point": "Stimulus/Rationale", "process": "Process", "impact": "Impact",
              "references": "Key reference documents"}
    for name, paragraphs in LONG_PARAGRAPHS.items():
        d.add_heading(labels[name], 2)
        for text in paragraphs:
            if text.startswith("Phase"):
                lead, rest = text.split(". ", 1)
                bold_lead(d, lead + ". ", rest)
            else:
                d.add_paragraph(text)
    d.save(path)
    first = {name: " ".join(ps[0].split()[:4]) for name, ps in LONG_PARAGRAPHS.items()}
    return [expect("Vantaa", "Open Doors in the Northern Districts", ["16", "6"], (2017, None, True), first,
                   absent=[])]


# --- 20. Plain text: sections strung together, as copied from a web page ---------------------------

def txt_strung(path: Path):
    text = "\n".join([
        "City: Malaga",
        "Title: The People Library",
        "Main area of action: Anti-discrimination",
        "Implementation period: Since 2017 - Ongoing",
        "",
        "Description of the good practice",
        "Purpose: To show that there is more to a person than the label others put on them. "
        "Stimulus/Rationale: Process: The People Library is an event where visitors borrow a person instead of a book "
        "and talk with them for half an hour. The 'books' are residents who often face prejudice. "
        "Impact: Over 5,000 conversations took place at 40 events.",
    ])
    path.write_text(text + "\n", encoding="utf-8")
    return [expect("Malaga", "The People Library", ["3"], (2017, None, True), {
        "purpose": "To show that there is more", "starting_point": None, "process": "The People Library is an event",
        "impact": "Over 5,000 conversations", "references": None})]


# --- 21. Markdown with a header table and numbered section headings ---------------------------------

def md_form(path: Path):
    text = "\n".join([
        "# Good practice form",
        "",
        "| Field | Answer |",
        "|---|---|",
        "| **City** | Ghent |",
        "| **Department** | Education |",
        "| **Title** | Parents' Language Corner |",
        "| **Main area of action** | Language |",
        "| **Implementation period** | 2019 – 2024 |",
        "",
        "## Description of the good practice",
        "",
        "### 1. Purpose",
        "Parents learn Dutch in the school of their children, during school hours.",
        "",
        "### 2. Stimulus / Rationale",
        "Parents could not attend evening courses because of shifts and childcare.",
        "",
        "### 3. Process",
        "- A teacher from the adult school comes twice a week.",
        "- Lessons use the school's own letters and events as material.",
        "",
        "### 4. Impact",
        "Around 300 parents took part; teachers report easier contact with families.",
    ])
    path.write_text(text + "\n", encoding="utf-8")
    return [expect("Ghent", "Parents' Language Corner", ["11"], (2019, 2024, False), {
        "purpose": "Parents learn Dutch", "starting_point": "Parents could not attend",
        "process": "- A teacher from the adult school", "impact": "Around 300 parents", "references": None})]


# --- 22. PDF saved from Word ---------------------------------------------------------------------------

def pdf_form(path: Path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for text in [
        "City: Mannheim", "Department: Integration Office", "Title: Welcome Guides at the Railway Station",
        "Main area of action: Welcoming newcomers - refugees",
        "Implementation period: 2021 (ongoing since 2017)", "Description of the good practice",
        "Purpose:",
        "Volunteer guides meet refugees who arrive by train and accompany them to their first appointments in town, "
        "so that nobody has to find the offices alone in the first week.",
        "Stimulus/Rationale:",
        "In 2016 many people arrived at the station without knowing where to go and were sent from office to office.",
        "Process:",
        "Guides speak at least one of the main languages of the arrivals and are trained by the integration office.",
        "Impact:",
        "More than 2,000 people were accompanied; waiting times at the registry fell by half.",
    ]:
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return [expect("Mannheim", "Welcome Guides at the Railway Station", ["14", "14a"], (2017, 2021, True), {
        "purpose": "Volunteer guides meet refugees", "starting_point": "In 2016 many people arrived",
        "process": "Guides speak at least one", "impact": "More than 2,000 people", "references": None})]


CASES = {
    "en-instructions.docx": en_instructions,
    "en-bold-inline.docx": en_bold_inline,
    "en-table-multipara.docx": en_table_multipara,
    "en-four-columns.docx": en_four_columns,
    "en-description-one-cell.docx": en_description_one_cell,
    "en-numbered-headings.docx": en_numbered_headings,
    "en-all-caps.docx": en_all_caps,
    "en-title-heading.docx": en_title_heading,
    "en-two-practices.docx": en_two_practices,
    "fr-guillemets.docx": fr_guillemets,
    "en-tracked-changes.docx": en_tracked_changes,
    "en-hyperlinks.docx": en_hyperlinks,
    "en-checkbox-sdt.docx": en_checkbox_sdt,
    "en-legacy-checkboxes.docx": en_legacy_checkboxes,
    "en-merged-cells.docx": en_merged_cells,
    "en-header-footer.docx": en_header_footer,
    "en-na-values.docx": en_na_values,
    "en-typos.docx": en_typos,
    "en-long.docx": en_long,
    "txt-strung.txt": txt_strung,
    "md-form.md": md_form,
    "pdf-form.pdf": pdf_form,
}


def main() -> None:
    expected = {}
    for name, build in CASES.items():
        expected[name] = build(HERE / name)
    (HERE / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(expected)} files to {HERE}")


if __name__ == "__main__":
    main()
