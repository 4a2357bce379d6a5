"""The web app in a real headless Chromium, served by uvicorn on 127.0.0.1: a city checks a form; a visitor
searches, filters by an area, opens a practice and follows a similar one; a reviewer logs in and saves a review.
No page may log a console error or fail a request. Screenshots are kept in each test's temporary folder; with
ICC_UPDATE_SCREENSHOT=1 the check page is also copied to docs/check-page.png for the README (a test run otherwise
leaves the working tree as it found it).

Chromium comes from Debian (`apt-get install -y chromium`), driven by Playwright's Python package.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from test_web import TOKEN, copy_run

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
DOCS_SHOT = ROOT / "docs" / "check-page.png"
CHECKED_FORM = RAW / "dublin-p2-09.docx"  # one English practice: a readable screenshot
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def find_chromium() -> str | None:
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


def have_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


CHROMIUM = find_chromium()
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (Debian: apt-get install -y chromium)"),
    pytest.mark.skipif(not have_playwright(), reason="the playwright Python package is not installed"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(sample_out, tmp_path_factory):
    """uvicorn serving a copy of the sample run on 127.0.0.1, in a thread of this process."""
    import uvicorn

    from pipeline.config import Settings
    from pipeline.web.app import create_app
    from pipeline.web.models import AnalysisModels
    from pipeline.web.settings import WebSettings

    data = copy_run(Path(sample_out), tmp_path_factory.mktemp("browser-run"))
    app = create_app(WebSettings(data_dir=data, review_token=TOKEN), AnalysisModels.load(Settings()))
    port = free_port()
    uvicorn_server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 180
    while not uvicorn_server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    uvicorn_server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser):
    """A fresh English-speaking tab that records console errors, page errors and failed requests."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    tab = context.new_page()
    tab.problems = []
    tab.on("console", lambda m: tab.problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    tab.on("pageerror", lambda e: tab.problems.append(f"pageerror: {e}"))
    tab.on("requestfailed", lambda r: tab.problems.append(f"requestfailed: {r.url}"))
    yield tab
    context.close()


def test_a_city_uploads_a_form_and_sees_its_title_and_criteria(server, page, tmp_path):
    page.goto(f"{server}/check")
    page.screenshot(path=str(tmp_path / "check-form.png"), full_page=True)
    page.set_input_files("#file", str(CHECKED_FORM))
    with page.expect_navigation():
        page.click("#check-form button[type=submit]")
    assert page.inner_text("h2.practice-title").startswith("Community Safety Mediators")
    rows = page.locator("tr[data-criterion]")
    assert rows.count() == 6
    assert "Needs-based" in page.inner_text(".criteria-result")
    assert page.locator(".criteria-result .level").first.inner_text().endswith("/3")
    assert page.locator("ol.similar a.similar-link").count() >= 1
    shot = tmp_path / "check-page.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("ICC_UPDATE_SCREENSHOT") == "1":
        DOCS_SHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, DOCS_SHOT)
    assert shot.stat().st_size > 50_000, "a blank page compresses to almost nothing"
    assert page.problems == []
    print(f"screenshots: {tmp_path}")


def test_a_visitor_searches_filters_opens_a_practice_and_follows_a_similar_one(server, page, tmp_path):
    page.goto(f"{server}/")
    page.fill("#q", "mediation")
    with page.expect_navigation():
        page.press("#q", "Enter")
    unfiltered = page.locator("li.hit").count()
    assert unfiltered >= 4
    page.select_option("#f-area", "10")
    with page.expect_navigation():  # the filters apply with their button, never on a change alone
        page.click("aside.facets button.apply")
    assert "area=10" in page.url
    hits = page.locator("li.hit")
    assert 1 <= hits.count() <= unfiltered
    for i in range(hits.count()):
        assert "10. " in hits.nth(i).inner_text(), "every hit has the area, declared or suggested"
    page.screenshot(path=str(tmp_path / "search.png"), full_page=True)

    first_city = hits.first.locator(".meta span").first.inner_text().split(",")[0]
    with page.expect_navigation():
        hits.first.locator("a.title").click()
    assert page.locator("#criteria tbody tr").count() == 6
    assert page.locator("#areas tbody tr").count() >= 1
    page.screenshot(path=str(tmp_path / "practice.png"), full_page=True)
    title = page.inner_text("h1")
    similar = page.locator("a.similar-link").first
    with page.expect_navigation():
        similar.click()
    assert page.inner_text("h1") != title
    assert page.inner_text("article .meta span").split(",")[0] != first_city, "a similar practice of another city"
    page.screenshot(path=str(tmp_path / "similar.png"), full_page=True)
    assert page.problems == []


def test_a_keyboard_moves_through_a_filters_options_without_reloading_the_page(server, page):
    """One arrow key on a filter reloaded the results and sent the focus back to the top (WCAG 3.2.2): a filter
    applies with its button, which is in sight and in the keyboard's path."""
    page.goto(f"{server}/?q=mediation")
    before = page.url
    page.focus("#f-city")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(300)
    assert page.url == before and page.evaluate("document.activeElement.id") == "f-city"
    chosen = page.eval_on_selector("#f-city", "s => s.value")
    assert chosen, "the arrows chose a city"
    button = page.locator("aside.facets button.apply")
    assert button.bounding_box()["width"] > 40, "in sight"
    page.focus("#f-level")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('apply')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"city={chosen}" in page.url and page.title().split(" ")[0].isdigit(), page.title()
    assert page.problems == []


def test_pages_fit_a_phone_320_pixels_wide(server, browser, tmp_path):
    """At 320 px the search button, the check result's fields and a practice's tables pushed the page wide
    (WCAG 1.4.10): nothing scrolls sideways but a table inside its own box."""
    context = browser.new_context(viewport={"width": 320, "height": 640})
    tab = context.new_page()
    wide = "document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"
    try:
        tab.goto(f"{server}/?q=mediation")
        assert not tab.evaluate(wide), "search"
        tab.goto(f"{server}/check")
        tab.set_input_files("#file", str(CHECKED_FORM))
        with tab.expect_navigation():
            tab.click("#check-form button[type=submit]")
        tab.screenshot(path=str(tmp_path / "check-320.png"), full_page=True)
        assert not tab.evaluate(wide), "check result"
        with tab.expect_navigation():
            tab.locator("ol.similar a.similar-link").first.click()
        tab.screenshot(path=str(tmp_path / "practice-320.png"), full_page=True)
        assert not tab.evaluate(wide), "practice"
        # a table wider than the screen scrolls in a box the keyboard reaches, named
        boxes = tab.locator("#criteria .table-scroll")
        assert boxes.get_attribute("tabindex") == "0" and boxes.get_attribute("aria-label")
        _log_in_and_open_a_practice(server, tab, "Anna Keller")
        tab.screenshot(path=str(tmp_path / "review-320.png"), full_page=True)
        assert not tab.evaluate(wide), "a practice with its review form"
    finally:
        context.close()


def _log_in_and_open_a_practice(server: str, page, reviewer: str) -> None:
    """Log in from the login page, then open the first practice of the search page with its review form."""
    page.goto(f"{server}/review/login")
    page.fill("#reviewer", reviewer)
    page.fill("#token", TOKEN)
    with page.expect_navigation():
        page.click("form.login button")
    page.click("li.hit a.title >> nth=0")
    page.wait_for_selector("form.review-form")


def test_a_reviewer_logs_in_and_saves_a_review(server, page, tmp_path):
    _log_in_and_open_a_practice(server, page, "Sam")
    page.select_option("#level_targeted", "1")
    page.fill("#note", "levels checked against the city's report")
    with page.expect_navigation():
        page.click("form.review-form button")
    assert page.locator("p.saved").is_visible()
    assert "Sam" in page.inner_text("#review")
    page.screenshot(path=str(tmp_path / "reviewed.png"), full_page=True)
    assert page.problems == []


def test_a_review_sent_after_the_session_ended_survives_a_language_switch_on_the_login_page(server, page, tmp_path):
    _log_in_and_open_a_practice(server, page, "Ines")
    page.fill("#note", "typed before the session ended")
    page.context.clear_cookies(name="icc_review_session")  # the session ends while the reviewer types
    with page.expect_navigation():
        page.click("form.review-form button")
    assert page.inner_text("h1") == "Secretariat login" and "no longer logged in" in page.inner_text("main")
    with page.expect_navigation():
        page.click("header button.lang")  # the switch, drawn as the link it is on every other page
    assert page.inner_text("h1") == "Connexion du secrétariat" and "plus connecté" in page.inner_text("main")
    page.screenshot(path=str(tmp_path / "connexion.png"), full_page=True)
    page.fill("#reviewer", "Ines")
    page.fill("#token", TOKEN)
    with page.expect_navigation():
        page.press("#token", "Enter")  # Enter logs in: the header's switch is a form of its own
    assert page.locator("p.saved").is_visible()
    assert "typed before the session ended" in page.inner_text("#review")
    # the one console line: Chromium's note that the page saying the session ended came with its 401
    assert [p for p in page.problems if "status of 401" not in p] == [] and len(page.problems) == 1


def test_french_visitors_get_french_pages(server, browser, tmp_path):
    context = browser.new_context(locale="fr-FR", extra_http_headers={"accept-language": "fr-FR,fr;q=0.9"})
    try:
        tab = context.new_page()
        tab.goto(f"{server}/?area=3")
        assert tab.inner_text("h1") == "Chercher parmi les bonnes pratiques"
        tab.screenshot(path=str(tab_shot := tmp_path / "recherche.png"), full_page=True)
        assert tab_shot.exists()
        tab.goto(f"{server}/check")
        assert tab.inner_text("h1") == "Vérifiez votre formulaire avant de l'envoyer"
        with tab.expect_navigation():
            tab.click("a.lang")
        assert tab.inner_text("h1") == "Check your form before sending it"
    finally:
        context.close()


def test_the_live_server_answers_an_announced_oversized_upload_at_once(server):
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /api/check HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: multipart/form-data; boundary=x\r\n"
                     b"Content-Length: 11534336\r\n\r\n" + b"x" * 1024)
        started = time.monotonic()
        answer = b""
        while b"file_too_large" not in answer and time.monotonic() - started < 10:
            chunk = sock.recv(4096)  # the server closes the connection after its answer
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"file_too_large" in answer
    assert time.monotonic() - started < 5, "answered without waiting for the 11 MB"
    with urllib.request.urlopen(f"{server}/healthz", timeout=10) as response:
        assert response.status == 200
