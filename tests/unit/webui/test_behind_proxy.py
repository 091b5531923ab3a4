"""Who is the client behind nginx: the login throttle and the audit log.

On the appliance nginx terminates TLS and proxies to waitress on
127.0.0.1, so every connection waitress sees comes from 127.0.0.1. These
tests drive the WSGI stack exactly as ``clinicbox web`` builds it
(waitress's proxy-header handling around the app, from
:func:`appliance.cli.web.make_server`), with the socket peer set the way
waitress sets it: one person's failed logins must not lock out the rest
of the clinic, and a forged ``X-Forwarded-For`` must never be believed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import Client

from appliance.cli.web import make_server
from appliance.clock import FakeClock
from tests.unit.webui.conftest import Clinic, build_app, repos, rt

NGINX = "127.0.0.1"  # nginx's proxy_pass peer (systemd/nginx/clinicbox.conf)
DESK_A = "192.168.1.23"
DESK_B = "192.168.1.42"


@dataclass
class Box:
    app: Flask
    wsgi: Any  # what waitress calls for each request


@contextmanager
def _box(clinic: Clinic, clock: FakeClock, **web: Any) -> Iterator[Box]:
    app = build_app(clinic, clock, web=web)
    server, _where = make_server(app, rt(app).cfg, host="127.0.0.1", port=0)
    try:
        yield Box(app, server.application)
    finally:
        server.close()
        server.task_dispatcher.shutdown()
        rt(app).store.close()


@pytest.fixture
def proxied(clinic: Clinic, clock: FakeClock) -> Iterator[Box]:
    with _box(clinic, clock, behind_tls=True) as box:
        yield box


@pytest.fixture
def direct(clinic: Clinic, clock: FakeClock) -> Iterator[Box]:
    with _box(clinic, clock, behind_tls=False) as box:
        yield box


class Browser:
    """One computer's browser: its own cookies, its connection's peer, and
    what it puts in ``X-Forwarded-For`` itself (nginx appends the address it
    saw, as ``$proxy_add_x_forwarded_for`` does)."""

    def __init__(self, box: Box, peer: str, forwarded_by_nginx: str | None = None) -> None:
        self.client = Client(box.wsgi)
        self.peer = peer
        self.forwarded_by_nginx = forwarded_by_nginx
        self.base = "https://localhost" if rt(box.app).cfg.web.behind_tls else "http://localhost"

    def _kw(self, spoofed: str = "") -> dict[str, Any]:
        chain = [x for x in (spoofed, self.forwarded_by_nginx) if x]
        headers = {"X-Forwarded-For": ", ".join(chain)} if chain else {}
        return {"base_url": self.base, "headers": headers, "environ_base": {"REMOTE_ADDR": self.peer}}

    def login(self, username: str, password: str, spoofed: str = "") -> Any:
        html = self.client.get("/login", **self._kw(spoofed)).get_data(as_text=True)
        match = re.search(r'name="csrf-token" content="([^"]+)"', html)
        assert match, "no CSRF token on the login page"
        form = {"username": username, "password": password, "csrf_token": match.group(1)}
        return self.client.post("/login", data=form, **self._kw(spoofed))


def _fail_until_throttled(box: Box, browser: Browser, spoof: bool = False, already: int = 0) -> None:
    for i in range(rt(box.app).throttle.limit - already):
        spoofed = f"10.66.0.{i}" if spoof else ""
        assert browser.login(f"guess{i}", "wrong-wrong-wrong", spoofed).status_code == 401


def test_behind_nginx_one_desks_failures_do_not_lock_out_another(proxied: Box, clinic: Clinic) -> None:
    desk_a = Browser(proxied, NGINX, DESK_A)
    desk_b = Browser(proxied, NGINX, DESK_B)
    _fail_until_throttled(proxied, desk_a)
    assert desk_a.login("manager", clinic.logins["manager"]).status_code == 429
    assert desk_b.login("frontdesk", clinic.logins["frontdesk"]).status_code == 302
    logins = repos(proxied.app).audit.search(action="login")
    assert logins[0].actor == "frontdesk" and logins[0].detail == f"web:{DESK_B}"


def test_behind_nginx_the_audit_names_the_desk_that_failed(proxied: Box) -> None:
    Browser(proxied, NGINX, DESK_A).login("frontdesk", "wrong-wrong-wrong")
    failed = repos(proxied.app).audit.search(action="login-failed")
    assert [e.actor for e in failed] == [f"web:{DESK_A}:frontdesk"]


def test_behind_nginx_only_the_address_nginx_saw_counts(proxied: Box, clinic: Clinic) -> None:
    # Desk A forges a different X-Forwarded-For on every try; nginx appends
    # the real address, and only that last entry is believed.
    desk_a = Browser(proxied, NGINX, DESK_A)
    assert desk_a.login("frontdesk", "wrong-wrong-wrong", spoofed=DESK_B).status_code == 401
    failed = repos(proxied.app).audit.search(action="login-failed")
    assert [e.actor for e in failed] == [f"web:{DESK_A}:frontdesk"]
    _fail_until_throttled(proxied, desk_a, spoof=True, already=1)
    assert desk_a.login("manager", clinic.logins["manager"], spoofed=DESK_B).status_code == 429
    assert Browser(proxied, NGINX, DESK_B).login("manager", clinic.logins["manager"]).status_code == 302


def test_behind_nginx_a_lan_client_reaching_waitress_directly_cannot_forge_its_address(
    proxied: Box, clinic: Clinic
) -> None:
    intruder = Browser(proxied, DESK_A)  # not the loopback proxy: its header is not trusted
    assert intruder.login("frontdesk", "wrong-wrong-wrong", spoofed=DESK_B).status_code == 401
    failed = repos(proxied.app).audit.search(action="login-failed")
    assert [e.actor for e in failed] == [f"web:{DESK_A}:frontdesk"]
    _fail_until_throttled(proxied, intruder, spoof=True, already=1)
    assert intruder.login("manager", clinic.logins["manager"], spoofed=DESK_B).status_code == 429


def test_without_the_proxy_a_forged_forwarded_for_is_ignored(direct: Box, clinic: Clinic) -> None:
    desk_a = Browser(direct, DESK_A)
    _fail_until_throttled(direct, desk_a, spoof=True)
    assert desk_a.login("manager", clinic.logins["manager"], spoofed=DESK_B).status_code == 429
    # Even a request from the loopback (a local dev setup) is not believed.
    local = Browser(direct, NGINX)
    assert local.login("frontdesk", clinic.logins["frontdesk"], spoofed=DESK_B).status_code == 302
    logins = repos(direct.app).audit.search(action="login")
    assert logins[0].detail == f"web:{NGINX}"


def test_behind_nginx_on_a_unix_socket_the_forwarded_address_counts(clinic: Clinic, clock: FakeClock) -> None:
    # waitress names every peer on its Unix socket "localhost".
    sock = str(clinic.directory / "web.sock")
    with _box(clinic, clock, behind_tls=True, unix_socket=sock) as box:
        Browser(box, "localhost", DESK_A).login("frontdesk", "wrong-wrong-wrong")
        failed = repos(box.app).audit.search(action="login-failed")
        assert [e.actor for e in failed] == [f"web:{DESK_A}:frontdesk"]
