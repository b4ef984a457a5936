"""The demo from the outside: its server started as a user starts it, and its page driven in a real browser
(headless Chromium through Playwright) the way a user works it. The tests and `python -m bench demo` use these.

Chromium comes from the system (Debian: `apt-get install chromium`; elsewhere set `KERAS_APPS_CHROMIUM` to a
Chromium or Chrome binary); Playwright only drives it, so no browser is downloaded.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from keras_apps.errors import UserError

# Headless, and quiet on a closed network: without the background-networking flags Chromium keeps trying to
# reach Google's services.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"]


def chromium():
    """The path of the Chromium to drive: `$KERAS_APPS_CHROMIUM`, else the first of the usual names on PATH."""
    configured = os.environ.get("KERAS_APPS_CHROMIUM")
    if configured:
        if not os.access(configured, os.X_OK):
            raise UserError(f"KERAS_APPS_CHROMIUM={configured} is not an executable file")
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    raise UserError("no Chromium found: install it (Debian: apt-get install chromium) or set KERAS_APPS_CHROMIUM")


def free_port():
    """A TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DemoServer:
    """`python -m tasks.demo` over `exports` in a child process, on a free port; a context manager that stops it.

    `seconds_to_ready` is the time from the command's start to the page answering its first request.
    """

    def __init__(self, exports, *, timeout=180, env=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = ""
        start = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tasks.demo", "--exports", str(exports), "--port", str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )
        try:
            self._wait_until_ready(timeout)
        except BaseException:
            self.stop()
            raise
        self.seconds_to_ready = time.perf_counter() - start

    def _wait_until_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the demo exited with status {self.process.returncode}:\n{self.stop()}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.25)
        raise TimeoutError(f"the demo did not answer on {self.url} within {timeout} s:\n{self.stop()}")

    def stop(self):
        """Stops the server; returns what it printed."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log += self.process.stdout.read() if self.process.stdout else ""
        return self.log

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class DemoPage:
    """The demo's page open in headless Chromium; each method is what a user does on it."""

    def __init__(self, url, *, timeout_seconds=60):
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_FLAGS)
            self.page = self._browser.new_page(viewport={"width": 1280, "height": 1000})
            self.page.set_default_timeout(timeout_seconds * 1000)
            self.page.goto(url, wait_until="networkidle")
        except BaseException:
            self.close()
            raise

    def open_tab(self, task):
        """Opens the tab of `task` (Gradio draws a tab's content only once it is opened)."""
        self.page.locator(f"#{task}-tab-button").click()
        self.page.locator(f"#{task}-tab").wait_for()

    def tab_text(self, task):
        """The text the tab of `task` shows."""
        self.open_tab(task)
        return self.page.locator(f"#{task}-tab").inner_text()

    def score_review(self, review):
        """Types `review`, presses Score, and returns the P(positive) the page shows, as it shows it."""
        self.open_tab("imdb")
        self.page.locator("#review-text textarea").fill(review)
        return self._answer("#review-submit", "#review-probability input", "value", r"^[-+.0-9eE]+$")

    def submit_review(self, review):
        """Types `review` and presses Score, without waiting for an answer (see `error_after`)."""
        self.open_tab("imdb")
        self.page.locator("#review-text textarea").fill(review)
        self.page.locator("#review-submit").click()

    def classify_digit(self, png_path):
        """Uploads the image file `png_path`, presses Classify, and returns the page's answer line."""
        self.open_tab("mnist")
        self.page.locator("#digit-picture input[type=file]").set_input_files(str(png_path))
        self.page.locator("#digit-picture canvas").first.wait_for()
        return self._answer("#digit-submit", "#digit-answer", "innerText", r"^[0-9], probability [0-9.]+$")

    def translate(self, sentence):
        """Types `sentence`, presses Translate, and returns the translation the page shows."""
        self.open_tab("translate")
        self.page.locator("#sentence-text textarea").fill(sentence)
        return self._answer("#sentence-submit", "#translation textarea", "value", ".")

    def generate(self, prompt):
        """Types `prompt`, presses Generate (the page's length, temperature and seed), and returns the text shown."""
        self.open_tab("gpt")
        self.page.locator("#prompt-text textarea").fill(prompt)
        return self._answer("#prompt-submit", "#generated textarea", "value", ".")

    def error_after(self, action):
        """Runs `action()` (typing, clicking) and returns the text of the error it makes the page show."""
        # Gradio gathers errors into one toast, a message each: the messages shown before the action are marked.
        self.page.evaluate(
            "() => document.querySelectorAll('[data-testid=toast-text]').forEach(text => text.dataset.seen = 1)")
        action()
        new = self.page.locator("[data-testid=toast-text]:not([data-seen])").first
        new.wait_for()
        return new.inner_text()

    def screenshot(self, path):
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def _answer(self, button, answer, read, pattern):
        """Clicks `button` and waits until the `read` property of `answer` changes to text matching the regular
        expression `pattern` (not the progress timer Gradio shows meanwhile); returns that text."""
        element = self.page.locator(answer)
        before = element.evaluate(f"node => node.{read}")
        self.page.locator(button).click()
        self.page.wait_for_function(
            f"([selector, before, pattern]) => {{ const node = document.querySelector(selector);"
            f" return node !== null && node.{read} !== before && new RegExp(pattern).test(node.{read}.trim()); }}",
            arg=[answer, before, pattern])
        return element.evaluate(f"node => node.{read}").strip()

    def close(self):
        if getattr(self, "_browser", None) is not None:
            self._browser.close()
        self._playwright.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
