"""Browser tests: a real demo clinic, the real ``clinicbox web`` process,
Debian's chromium driven by Playwright, and (where a core is needed) the
:class:`~tests.webui.fakecore.FakeCore` test double on the control socket.

Never runs ``playwright install``: the browser is /usr/bin/chromium.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from appliance.config import Config, load_config
from appliance.demo.seed import seed
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: F401 - re-exported for test modules
from tests.webui.fakecore import FakeCore

SCREENSHOTS = Path(__file__).resolve().parents[1] / "output" / "screenshots"


@dataclass
class Clinic:
    directory: Path
    config_path: Path
    cfg: Config
    logins: dict[str, str]  # username -> password
    base_url: str = ""
    process: subprocess.Popen[bytes] | None = None
    core: FakeCore | None = None


def demo_logins(directory: Path, manager_password: str) -> dict[str, str]:
    logins = {"manager": manager_password}
    for line in (directory / "demo-logins.txt").read_text(encoding="utf-8").splitlines():
        name, _, password = line.partition(": ")
        logins[name.split(" ")[0]] = password.strip()
    return logins


def make_clinic() -> Clinic:
    # A short path: the control socket's path must fit AF_UNIX's 108 bytes.
    directory = Path(tempfile.mkdtemp(prefix="cbxw")) / "c"
    result = seed(directory, web_port=free_port(), sip_port=free_port(), rtp_port=30000, pstn_port=free_port())
    cfg = load_config(result.config_path)
    return Clinic(directory, result.config_path, cfg, demo_logins(directory, result.password))


def remove_clinic(clinic: Clinic) -> None:
    """Delete what :func:`make_clinic` made (its temporary folder)."""
    shutil.rmtree(clinic.directory.parent, ignore_errors=True)


def start_web(clinic: Clinic) -> None:
    port = free_port(kind=__import__("socket").SOCK_STREAM)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    log = open(clinic.directory / "web.log", "wb")  # noqa: SIM115 - closed with the process
    clinic.process = subprocess.Popen(
        [sys.executable, "-m", "appliance", "--config", str(clinic.config_path), "web", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    clinic.base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if clinic.process.poll() is not None:
            raise RuntimeError("clinicbox web exited: " + (clinic.directory / "web.log").read_text())
        try:
            with urllib.request.urlopen(clinic.base_url + "/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("clinicbox web did not answer within 20 s")


def stop_web(clinic: Clinic) -> None:
    if clinic.process is not None and clinic.process.poll() is None:
        clinic.process.send_signal(signal.SIGTERM)
        try:
            clinic.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            clinic.process.kill()
            clinic.process.wait()


@pytest.fixture(scope="module")
def clinic() -> Iterator[Clinic]:
    """A demo clinic with a fake core and the real web process (shared by a module)."""
    c = make_clinic()
    c.core = FakeCore(
        c.cfg.control_socket,
        stations={sid: st.name for sid, st in c.cfg.stations.items()},
        queues={qid: q.name for qid, q in c.cfg.queues.items()},
    ).start()
    start_web(c)
    yield c
    stop_web(c)
    c.core.stop()
    remove_clinic(c)


def login(page: object, clinic: Clinic, username: str) -> None:
    page.goto(clinic.base_url + "/login")  # type: ignore[attr-defined]
    page.fill("#username", username)  # type: ignore[attr-defined]
    page.fill("#password", clinic.logins[username])  # type: ignore[attr-defined]
    page.click("[data-testid=login-submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("[data-testid=logout]")  # type: ignore[attr-defined]


def screenshot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
