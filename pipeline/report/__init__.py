"""Reports: city similarity reports (HTML and DOCX), the batch summary page and the spreadsheet.

- view.py: one view of a run (tables and their indexes), built once per run and read by every report;
- city.py / summary.py: what each report shows, computed from the view (view-models);
- writers.py: HTML (Jinja2 templates in templates/) and DOCX writers over the view-models;
- redact.py: the rule for personal data; export.py: the spreadsheet.
The words of the city reports and the summary are in resources/reports.yaml (English and French).
"""

from __future__ import annotations

from pipeline.cities import city_key


def city_slug(city: str | None) -> str:
    """File-name form of a city name: 'Genève' and 'Geneva, Switzerland' -> 'geneve', 'Reggio Emilia' ->
    'reggio-emilia', 'Πάτρα' -> 'πατρα'. The city key with hyphens (pipeline.cities.city_key): one file per city,
    and two cities never share one."""
    return city_key(city).replace(" ", "-") or "unknown"


# Where the reports of one run live, relative to its output folder.
REPORTS_DIR = "reports"
CITY_REPORTS_DIR = "reports/cities"
SUMMARY_FILE = "reports/summary.html"
