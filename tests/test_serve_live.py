"""The server as users run it: a real process on a loopback port, driven by headless Chromium and fuzzed from
its own OpenAPI schema."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from lstm_sentiment.serve.background import background_server

pytestmark = pytest.mark.slow
SCREENSHOTS = Path(__file__).resolve().parents[1] / "build" / "screenshots"
REVIEW = ("I went in expecting nothing and came out delighted. The acting is superb, the story is moving, "
          "and the last scene is one of the best I have seen this year.")


def post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with background_server("--device", "cpu", "--max-chars", "2000", "--max-texts", "16", log=log) as url:
        yield url


def chromium():
    """Headless Chromium through Debian's chromium and chromedriver (.ci/run installs them)."""
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver):
        if os.environ.get("LSTM_SENTIMENT_REQUIRE_BROWSER"):
            pytest.fail("chromium and chromedriver are required here (apt-get install chromium chromium-driver)")
        pytest.skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1100,1150", "--force-device-scale-factor=1"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(driver))


@pytest.fixture(scope="module")
def browser():
    driver = chromium()
    yield driver
    driver.quit()


def wait_for_explanation(browser, previous_label=None):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 90).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#explanation svg")
                                     and d.find_element(By.ID, "analyze").is_enabled())
    return browser.find_element(By.ID, "label").text


def test_page_in_a_real_browser_labels_explains_and_saves_a_screenshot(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(server + "/")
    review = browser.find_element(By.ID, "review")
    review.send_keys(REVIEW)
    browser.find_element(By.ID, "analyze").click()
    label = wait_for_explanation(browser)
    expected = post_json(server + "/predict", {"texts": [REVIEW]})["predictions"][0]
    assert label == expected["label"] == "positive"
    assert f"{expected['probability']:.3f}" in browser.find_element(By.ID, "result").text
    explained = post_json(server + "/explain", {"text": REVIEW})
    assert len(browser.find_elements(By.CSS_SELECTOR, "#explanation .review span")) == len(explained["tokens"])
    # the shipped model has an n-gram member: its contributions get a section of their own
    ngrams = explained.get("ngram_contributions") or []
    assert len(browser.find_elements(By.CSS_SELECTOR, "#explanation .ngrams span")) == len(ngrams)
    assert "Model default" in browser.find_element(By.ID, "model").text
    problems = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not problems, problems  # no script errors and no blocked (external) requests
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "serve-page.png"))
    assert (SCREENSHOTS / "serve-page.png").stat().st_size > 10_000


def test_page_works_from_the_keyboard_and_on_a_phone_width_screen(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.set_window_size(390, 844)
    try:
        browser.get(server + "/")
        review = browser.find_element(By.ID, "review")
        assert browser.switch_to.active_element != review
        review.send_keys("A dull, boring waste of time with awful acting.")
        review.send_keys(Keys.CONTROL, Keys.ENTER)  # Ctrl+Enter submits without the mouse
        assert wait_for_explanation(browser) == "negative"
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page scrolls sideways by {overflow}px at phone width"
        browser.find_element(By.ID, "review").clear()
        browser.find_element(By.ID, "review").send_keys(Keys.TAB)  # focus moves on to the button
        assert browser.switch_to.active_element.get_attribute("id") == "analyze"
        browser.switch_to.active_element.send_keys(Keys.ENTER)
        assert "Type or paste a review" in browser.find_element(By.ID, "error").text
        browser.save_screenshot(str(SCREENSHOTS / "serve-page-phone.png"))
    finally:
        browser.set_window_size(1100, 1150)


def test_fuzzing_from_the_openapi_schema_finds_no_server_errors(server, tmp_path):
    """schemathesis sends schema-valid and schema-violating requests to every operation; responses must be
    documented, well-typed, and never 5xx. (Whitespace-only reviews are valid JSON but have no words to
    explain, so accepting every schema-valid body is the one check left out.)"""
    command = [sys.executable, "-m", "schemathesis.cli", "run", server + "/openapi.json", "--checks", "all",
               "--exclude-checks", "positive_data_acceptance", "--max-examples", "60", "--seed", "7",
               "--workers", "1", "--no-color", "--request-timeout", "60",
               "--suppress-health-check", "too_slow", "--generation-database", "none"]
    result = subprocess.run(command, check=False, capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_several_worker_processes_serve_the_same_model(tmp_path):
    with background_server("--device", "cpu", "--workers", "2", log=tmp_path / "server.log") as url:
        answers = [post_json(url + "/predict", {"texts": [REVIEW]}) for _ in range(6)]
    assert {a["predictions"][0]["label"] for a in answers} == {"positive"}
    assert len({a["predictions"][0]["probability"] for a in answers}) == 1


def children_of(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], check=False, capture_output=True, text=True).stdout.split()
    return [int(child) for child in found]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def start_server(port: int, *flags: str) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "lstm_sentiment", "serve", "--port", str(port), "--device",
                                "cpu", *flags], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    assert wait_until(healthy, 120), "the server did not start"
    return process


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGTERM"])
def test_workers_die_with_their_server_and_a_served_port_is_refused(signal_name):
    import signal

    from lstm_sentiment.serve.background import free_port

    port = free_port()
    server = start_server(port, "--workers", "2")
    try:
        workers = children_of(server.pid)
        assert len(workers) >= 2
        second = subprocess.run([sys.executable, "-m", "lstm_sentiment", "serve", "--port", str(port), "--workers",
                                 "2", "--device", "cpu"], check=False, capture_output=True, text=True, timeout=120)
        assert second.returncode == 2 and "cannot listen on" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
        server.send_signal(getattr(signal, signal_name))
        server.wait(30)
        assert wait_until(lambda: not any(alive(worker) for worker in workers), 20), "workers outlived the server"
    finally:
        server.kill()
        server.wait()


def test_scoring_workers_die_with_predict(tmp_path):
    import signal

    reviews = tmp_path / "reviews.txt"
    reviews.write_text("\n".join(f"{REVIEW} number {i}" for i in range(200_000)) + "\n")
    process = subprocess.Popen([sys.executable, "-m", "lstm_sentiment", "predict", "--file", str(reviews), "--out",
                                str(tmp_path / "scored.csv"), "--workers", "2"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: len(children_of(process.pid)) >= 2, 60)
        workers = children_of(process.pid)
        time.sleep(3)  # the workers load their models and start scoring
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        assert wait_until(lambda: not any(alive(worker) for worker in workers), 20), "workers outlived predict"
    finally:
        process.kill()
        process.wait()


def raw_exchange(url: str, payload: bytes, seconds: float, trickle: bytes = b"") -> tuple[bytes, float]:
    """Send raw bytes (then `trickle` one byte a second); return what the server answered and when it closed."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=seconds) as connection:
        started = time.monotonic()
        connection.sendall(payload)
        for byte in trickle:
            try:
                connection.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(1)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except OSError:
            pass
        return received, time.monotonic() - started


def test_slow_and_partial_clients_are_cut_off_and_bad_headers_get_json(tmp_path):
    with background_server("--device", "cpu", "--read-timeout", "1", log=tmp_path / "server.log") as url:
        head = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        answer, took = raw_exchange(url, head, 30)  # the head never ends
        assert answer == b"" and took < 10
        answer, took = raw_exchange(url, head + b"Content-Length: 100\r\n\r\n" + b'{"texts": ', 30)
        assert b" 408 " in answer.split(b"\r\n")[0] and b'"field": "body"' in answer and took < 10
        answer, took = raw_exchange(url, head + b"Content-Length: 40\r\n\r\n", 60, trickle=b'{"texts": ["x' + b"y" * 27)
        assert b" 408 " in answer.split(b"\r\n")[0] and took < 20  # 1 byte a second: the whole-body deadline
        answer, _ = raw_exchange(url, head + b"Content-Length: 12abc\r\n\r\n{}", 30)
        assert b" 400 " in answer.split(b"\r\n")[0] and b"application/json" in answer and b'"field": "headers"' in answer
        assert post_json(url + "/predict", {"texts": [REVIEW]})["predictions"][0]["label"] == "positive"
