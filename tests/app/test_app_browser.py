"""The app end to end in a real browser: Playwright driving Debian's Chromium (never a downloaded browser).

A clinician-style sheet (title row, "Pt ID", "Date of CAR-T", day/month dates, Male/Female, "Grade 2", one header
init cannot map) is uploaded; one mapping is corrected in its drop-down; "Run analysis" is pressed; the report shown
must be the report ``cart-outcomes run`` writes for the plan the app exports, and the downloaded ``results.json``
the same bytes. Set ``CART_OUTCOMES_APP_SCREENSHOT=docs/img/app.png`` to refresh the README's screenshot.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pandas as pd
import pytest

CHROMIUM = Path("/usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (apt-get install chromium)"),
]

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "cd7-tall" / "patients.csv"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
#: Startup bound checked here (the issue asks for under 3 s; the shared CI machine gets some slack).
STARTUP_LIMIT_S = 6.0


def _messy_sheet(path: Path) -> None:
    """The seed cohort as a clinician keeps it: a title row, clinical headers, dd/mm/yyyy text dates counted
    from a calendar infusion date, Male/Female, "Grade 2", and "Last news" (no synonym: unmapped by init)."""
    from openpyxl import Workbook

    seed = pd.read_csv(SEED)
    wb = Workbook()
    ws = wb.active
    ws.append(["CAR-T cohort export, haematology ward, 2024"])
    headers = ["Pt ID", "Age", "Sex", "dx", "CAR-T source", "D28 response", "Best response", "Date of CAR-T",
               "CR date", "Date of progression", "Date of death", "Cause of death", "Last news", "alloHSCT date",
               "HSCT intent", "CRS grade", "ICANS grade"]
    ws.append(headers)

    def date(day0: dt.date, days) -> str | None:
        return None if pd.isna(days) else (day0 + dt.timedelta(days=int(days))).strftime("%d/%m/%Y")

    for i, r in seed.iterrows():
        day0 = dt.date(2022, 3, 14) + dt.timedelta(days=23 * i)
        ws.append([r.patient_id, int(r.age_years), {"M": "Male", "F": "Female"}[r.sex], r.diagnosis, r.car_t_source,
                   r.day28_response, r.best_response, day0.strftime("%d/%m/%Y"), date(day0, r.cr_day),
                   date(day0, r.progression_day), date(day0, r.death_day),
                   None if pd.isna(r.death_cause) else r.death_cause, date(day0, r.last_followup_day),
                   date(day0, r.hsct_day), None if pd.isna(r.hsct_intent) else r.hsct_intent,
                   f"Grade {int(r.crs_grade)}", int(r.icans_grade)])
    wb.save(path)


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the listening TCP sockets on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(name).exists():
            continue
        for line in Path(name).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:
                found.add(address)
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``cart-outcomes app --no-browser`` on a free loopback port, its own TMPDIR; yields (url, port, tmpdir,
    seconds until the page was served)."""
    from cart_outcomes.app.server import free_port

    tmp = tmp_path_factory.mktemp("app-tmp")
    port = free_port()
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(ROOT / "src")}
    env.pop("SOURCE_DATE_EPOCH", None)
    start = time.monotonic()
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "cart_outcomes", "app", "--no-browser", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    try:
        url = proc.stdout.readline().strip()
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert answer.status == 200
        served = time.monotonic() - start
        yield url, port, tmp, served
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
        log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_serves_quickly_on_loopback_with_a_token(server):
    url, port, _, served = server
    assert re.fullmatch(rf"http://127\.0\.0\.1:{port}/\?token=[A-Za-z0-9_-]{{20,}}", url)
    assert served < STARTUP_LIMIT_S, f"page served {served:.2f} s after start"
    assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing on 0.0.0.0 or ::
    for bad in (f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{port}/?token=wrong",
                f"http://127.0.0.1:{port}/lib/shiny-1.8.0/shiny.js"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bad, timeout=10)
        refused.value.close()
        assert refused.value.code == 403


def test_upload_correct_run_read_download(server, browser, tmp_path):
    url, port, tmp, _ = server
    sheet = tmp_path / "ward cohort.xlsx"
    _messy_sheet(sheet)
    context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 1600})
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    other = context.new_page()  # a second tab: its own session
    page.goto(url)
    other.goto(url)
    page.set_input_files("#upload", str(sheet))
    page.wait_for_selector("#mapping-patients")
    last_news = page.locator("#mapping-patients tr", has_text="Last news").locator("select")
    assert last_news.input_value() == ""  # init could not map it
    page.wait_for_selector("#problem-table")
    assert "MISSING_COLUMN\tlast_followup_date" in page.inner_text("#problem-table")  # grouped by rule, column
    last_news.select_option("last_followup_date")
    page.wait_for_function("!document.querySelector('#problem-table') || "
                           "!document.querySelector('#problem-table').innerText.includes('MISSING_COLUMN')")
    page.get_by_role("button", name="Run analysis", exact=True).click()
    page.wait_for_selector("#summary", timeout=30_000)
    srcdoc = page.get_attribute("#report-frame", "srcdoc")
    frame_text = page.frame_locator("#report-frame").locator("body").inner_text()
    assert "Traceback" not in page.inner_text("body")
    if os.environ.get("CART_OUTCOMES_APP_SCREENSHOT"):
        page.locator("#mapping-patients").scroll_into_view_if_needed()
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=os.environ["CART_OUTCOMES_APP_SCREENSHOT"], full_page=False)
    summary = {el.get_attribute("id"): el.inner_text() for el in page.locator("#summary span").all()}
    with page.expect_download() as download:
        page.get_by_text("Download results", exact=True).click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    names = set(archive.namelist())
    assert {"study.yaml", "results.json", "report.html", "tables.xlsx", "report.docx"} <= names
    assert any(n.startswith("figures/") and n.endswith(".svg") for n in names)

    # the exported plan, next to the sheet, run from the command line
    (tmp_path / "study.yaml").write_bytes(archive.read("study.yaml"))
    plan = (tmp_path / "study.yaml").read_text()
    assert '"Last news": last_followup_date' in plan or "Last news: last_followup_date" in plan
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("SOURCE_DATE_EPOCH", None)
    subprocess.run([sys.executable, "-m", "cart_outcomes", "run", "study.yaml", "--out", "cli", "--quiet"],
                   cwd=tmp_path, env=env, check=True, capture_output=True)
    cli = tmp_path / "cli"
    assert archive.read("results.json") == (cli / "results.json").read_bytes()
    assert srcdoc == (cli / "report.html").read_text(encoding="utf-8")
    results = json.loads((cli / "results.json").read_text())
    assert summary["n-patients"] == str(results["input"]["n_patients"]) == "12"
    for rec in results["response"]:
        assert summary[f"resp-{rec['measure']}-{rec['column']}"] == f"{rec['responders']}/{rec['n']}"
    os_all = next(s for s in results["survival"] if s["endpoint"] == "os")["groups"][0]
    assert summary[f"median-os-{os_all['group']}"] == f"{os_all['median']:g}"
    assert "Overall survival" in frame_text or "OS" in frame_text

    # the second tab saw none of it; nothing left 127.0.0.1
    assert other.locator("#mapping-patients").count() == 0
    assert "Upload a sheet first." in other.inner_text("body")
    outside = [r for r in requests if not r.startswith((f"http://127.0.0.1:{port}/", f"ws://127.0.0.1:{port}/",
                                                       "data:", "blob:", "about:"))]
    assert outside == []

    # a malformed file: the located problem, never a traceback
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"this is not a workbook")
    page.set_input_files("#upload", str(bad))
    page.wait_for_selector("#load_status .error-text")
    message = page.inner_text("#load_status")
    assert "broken.xlsx" in message and "Traceback" not in page.inner_text("body")

    # closing the tabs ends the sessions: their temporary folders are removed
    page.close()
    other.close()
    context.close()
    deadline = time.monotonic() + 10
    while list(tmp.glob("cart-outcomes-app-*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(tmp.glob("cart-outcomes-app-*")) == []
