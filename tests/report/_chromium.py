"""A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (standard library only).

Opens one page in headless Chromium, records console messages, exceptions, log entries, JavaScript dialogs and
network requests, evaluates expressions and takes a screenshot. Used by the browser test and by the command that
regenerates docs/img/report.png.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageRecord:
    """What happened while the page loaded."""

    requests: list[str] = field(default_factory=list)
    console: list[dict[str, Any]] = field(default_factory=list)
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    log_entries: list[dict[str, Any]] = field(default_factory=list)
    dialogs: list[dict[str, Any]] = field(default_factory=list)
    evaluations: dict[str, Any] = field(default_factory=dict)
    screenshot: bytes = b""


class _Pipe:
    def __init__(self, write_fd: int, read_fd: int) -> None:
        self.write_fd, self.read_fd = write_fd, read_fd
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        reply = self._wait(lambda m: m.get("id") == self.next_id, timeout)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait_event(self, method: str, timeout: float) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        return self._wait(lambda m: m.get("method") == method, timeout)

    def drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._read(max(0.0, end - time.monotonic()))
            self._split()

    def _wait(self, predicate: Any, timeout: float) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while True:
            for message in self._split():
                if predicate(message):
                    return message
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no answer from Chromium")
            self._read(remaining)

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.read_fd], [], [], timeout)
        if ready:
            chunk = os.read(self.read_fd, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buffer += chunk

    def _split(self) -> list[dict[str, Any]]:
        out = []
        while b"\0" in self.buffer:
            raw, self.buffer = self.buffer.split(b"\0", 1)
            message = json.loads(raw)
            if "id" not in message:
                self.events.append(message)
            out.append(message)
        return out


def open_page(chromium: str, url: str, *, width: int = 1200, height: int = 1600,
              expressions: dict[str, str] | None = None, settle: float = 0.5) -> PageRecord:
    """Load ``url`` in a fresh headless Chromium profile and record what happened."""
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()

    def wire_fds() -> None:  # Chromium reads commands on fd 3 and writes replies on fd 4
        os.dup2(to_child_r, 3)
        os.dup2(from_child_w, 4)

    with tempfile.TemporaryDirectory(prefix="cart-outcomes-chromium-") as profile:
        args = [
            chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars",
            f"--user-data-dir={profile}", "--remote-debugging-pipe", f"--window-size={width},{height}",
            "about:blank",
        ]
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                pass_fds=(3, 4), preexec_fn=wire_fds)  # noqa: PLW1509 - fd wiring only
        os.close(to_child_r)
        os.close(from_child_w)
        pipe = _Pipe(to_child_w, from_child_r)
        record = PageRecord()
        try:
            target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Network", "Log"):
                pipe.send(f"{domain}.enable", session=session)
            pipe.send("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
            pipe.events.clear()
            pipe.send("Page.navigate", {"url": url}, session=session)
            pipe.wait_event("Page.loadEventFired", timeout=30)
            pipe.drain(settle)
            for name, expression in (expressions or {}).items():
                result = pipe.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                                   session=session)
                record.evaluations[name] = result.get("result", {}).get("value")
            shot = pipe.send("Page.captureScreenshot", {"format": "png"}, session=session)
            record.screenshot = base64.b64decode(shot["data"])
            pipe.drain(0.1)
            for event in pipe.events:
                method, params = event.get("method"), event.get("params", {})
                if method == "Network.requestWillBeSent":
                    record.requests.append(params["request"]["url"])
                elif method == "Runtime.consoleAPICalled":
                    record.console.append(params)
                elif method == "Runtime.exceptionThrown":
                    record.exceptions.append(params)
                elif method == "Log.entryAdded":
                    record.log_entries.append(params["entry"])
                elif method == "Page.javascriptDialogOpening":
                    record.dialogs.append(params)
            with contextlib.suppress(RuntimeError, TimeoutError):  # closing the pipe below ends it anyway
                pipe.send("Browser.close", timeout=5)
        finally:
            os.close(to_child_w)
            os.close(from_child_r)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return record


def file_url(path: Path) -> str:
    return path.resolve().as_uri()
