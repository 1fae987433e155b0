"""The demo in a real browser: JupyterLab headless, notebook 05 opened and run in Chromium, a face uploaded
through the file input, Compose pressed, and what a student sees checked in the page; and one round of the
listening quiz played there.

Needs Chromium and its driver (Debian: `apt-get install chromium chromium-driver`) and Selenium (in
requirements.txt); skipped with that reason where they are absent. Saves 05_browser_demo.png in the plots folder (a
temporary one under the suite; `EMOLIB_FIGURES=figures python -m pytest tests/test_browser.py` renews the README's).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import HANG_GUARD

from emolib.config import ensure_dir, plots_dir

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="no Chromium/ChromeDriver on PATH: install them (Debian/Ubuntu: apt-get install chromium chromium-driver) "
           "to run the real-browser test of the demo",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on a free port, serving a copy of notebook 05 (the tracked file is never autosaved) and a
    one-cell notebook with the listening quiz; yields the address of a notebook by its name."""
    work = tmp_path / "lab"
    work.mkdir()
    shutil.copy(ROOT / "notebooks" / "05_pipeline_demo.ipynb", work / "demo.ipynb")
    quiz = ('from emolib.widgets import Quiz\n'
            'Quiz(1, folder="answers", models=("gan",), seed=0, critic=False)')
    (work / "quiz.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "execution_count": None, "metadata": {},
                                                            "outputs": [], "source": quiz}],
                                                 "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                             "language": "python"}},
                                                 "nbformat": 4, "nbformat_minor": 5}))
    port, token = _free_port(), "emolib-browser-test"
    env = dict(os.environ, EMOLIB_FAST="1", JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"), JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"))
    log = open(tmp_path / "lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                    json.load(r)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail("JupyterLab exited: " + (tmp_path / "lab.log").read_text()[-2000:])
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within 60 s: " + (tmp_path / "lab.log").read_text()[-2000:])
        yield lambda name: f"{url}/lab/tree/{name}?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture
def browser(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -r requirements.txt)")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-quic", "--window-size=1400,1800", f"--user-data-dir={tmp_path / 'chrome'}"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _wait(driver, what, seconds, message):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, poll_frequency=0.5).until(lambda d: what(d), message)


def _finder(browser):
    """css(selector): the page's elements that match."""
    from selenium.webdriver.common.by import By

    return lambda selector: browser.find_elements(By.CSS_SELECTOR, selector)


def _open_and_run_all(browser, url: str) -> None:
    """Open a notebook in JupyterLab and run it through Run > Run All Cells, the menu a student would use."""
    css = _finder(browser)

    browser.get(url)
    _wait(browser, lambda d: css(".jp-Notebook .jp-Cell"), 90, "the notebook did not open in JupyterLab")
    _wait(browser, lambda d: css(".jp-Notebook-ExecutionIndicator[data-status='idle']")
          or css(".jp-Toolbar-kernelStatus"), 90, "the kernel did not start")
    _wait(browser, lambda d: [m for m in css(".lm-MenuBar-item") if m.text.strip() == "Run"], 30, "no Run menu")
    [m for m in css(".lm-MenuBar-item") if m.text.strip() == "Run"][0].click()
    run_all = _wait(browser, lambda d: [i for i in css(".lm-Menu-item") if i.text.startswith("Run All Cells")],
                    10, "no 'Run All Cells' entry in the Run menu")
    run_all[0].click()


def test_a_listening_round_in_a_real_browser(lab, browser, tmp_path):
    """The quiz in Chromium: two audio players with sources, a choice, the answer revealed and saved."""
    css = _finder(browser)

    _open_and_run_all(browser, lab("quiz.ipynb"))
    _wait(browser, lambda d: css(".emolib-quiz-answer"), HANG_GUARD, "the quiz did not appear after running the notebook")
    players = _wait(browser, lambda d: [a for a in css(".emolib-quiz audio") if a.get_attribute("src")], 60,
                    "no audio players with a source")
    assert len(players) == 2
    assert "Round 1 of 1" in css(".emolib-quiz-title")[0].text
    assert not any(word in css(".emolib-quiz")[0].text for word in ("gan", "real folk tune"))  # nothing told yet
    [b for b in css(".emolib-quiz-choice button") if b.text.strip() == "A"][0].click()
    time.sleep(1.0)  # let the kernel see the choice
    css(".emolib-quiz-answer")[0].click()
    _wait(browser, lambda d: "was written by the gan" in css(".emolib-quiz-reveal")[0].text, HANG_GUARD,
          "no answer revealed after choosing A and pressing Answer")
    reveal = css(".emolib-quiz-reveal")[0].text
    assert reveal.startswith(("Right", "Wrong")) and "saved to answers" in reveal, reveal
    answers = (tmp_path / "lab" / "answers" / "listening_answers.csv").read_text().splitlines()
    assert len(answers) == 2 and answers[1].split(",")[7] == "A"  # the header and the round, choice A


def test_demo_works_in_a_real_browser(lab, browser):
    css = _finder(browser)

    _open_and_run_all(browser, lab("demo.ipynb"))
    _wait(browser, lambda d: css(".emolib-button"), HANG_GUARD, "the demo widget did not appear after running the notebook")

    # upload a face through the widget's own file input, then press Compose
    # ipywidgets' FileUpload keeps its <input type=file> out of the page and clicks it when the button is
    # pressed; we let that click put the very same input into the page, where the driver can fill it.
    browser.execute_script("""
        const click = HTMLInputElement.prototype.click;
        HTMLInputElement.prototype.click = function () {
            if (this.type !== 'file') return click.call(this);
            this.classList.add('emolib-test-file');
            this.style.cssText = 'position:fixed;left:0;top:0;opacity:0.01';
            document.body.appendChild(this);
        };""")
    upload_button = css(".emolib-upload")[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", upload_button)
    upload_button.click()
    file_input = _wait(browser, lambda d: css("input.emolib-test-file"), 10, "the upload button opened no file input")[0]
    file_input.send_keys(str(ROOT / "emolib" / "assets" / "astronaut.jpg"))
    _wait(browser, lambda d: "(1)" in css(".emolib-upload")[0].text, 30, "the upload was not registered")
    time.sleep(1.0)  # let the kernel see the upload (it switches the face source to the upload)
    button = css(".emolib-button")[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    _wait(browser, lambda d: "saved as" in css(".emolib-status")[0].text or "Sorry" in css(".emolib-status")[0].text,
          HANG_GUARD, "no result after pressing Compose")
    status = css(".emolib-status")[0].text
    assert "saved as" in status and "face" in status, status

    rows = css(".emolib-probabilities table tr")
    assert len(rows) == 1 + 7, f"expected a header and the 7 class probabilities, got {len(rows)} rows"
    probs = [float(r.find_elements("tag name", "td")[1].text) for r in rows[1:]]
    assert abs(sum(probs) - 1) < 0.01 and "valence" in css(".emolib-probabilities")[0].text
    images = _wait(browser, lambda d: css(".emolib-output img"), 30, "no figure (crop, probabilities, roll)")
    assert images[0].size["width"] > 300
    sources = [s.get_attribute("src") or "" for s in css(".emolib-output audio source, .emolib-output audio")]
    assert any(s.startswith("data:audio/wav") and len(s) > 10_000 for s in sources), "no audio player with a source"
    links = css(".emolib-download a[download]")
    assert {Path(a.get_attribute("download")).suffix for a in links} == {".mid", ".wav"}
    assert all((a.get_attribute("href") or "").startswith("data:audio/") for a in links)

    demo = css(".emolib-demo")[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'});", demo)
    time.sleep(0.5)
    demo.screenshot(str(ensure_dir(plots_dir()) / "05_browser_demo.png"))
