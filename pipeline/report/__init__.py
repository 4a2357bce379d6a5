"""Reports: city similarity reports (HTML and DOCX) and the batch summary page."""

from __future__ import annotations

import re
import unicodedata


def city_slug(city: str | None) -> str:
    """File-name form of a city name: 'Genève' -> 'geneve', 'Reggio Emilia' -> 'reggio-emilia'."""
    text = unicodedata.normalize("NFKD", city or "unknown").encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "unknown"


# Where the reports of one run live, relative to its output folder.
REPORTS_DIR = "reports"
CITY_REPORTS_DIR = "reports/cities"
SUMMARY_FILE = "reports/summary.html"
