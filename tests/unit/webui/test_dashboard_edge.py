"""The dashboard's "SIP edge" figures: what the core reads from the edge (``edge.status``).

The core side (the edge's counters over its RPC, a real sipvicious scan
counted) is proven in tests/integration/edge/test_hostile.py; here the web
UI shows what the core answers, and says so when the edge does not answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.clock import FakeClock
from tests.unit.webui.conftest import Clinic, build_app, login_as, rt
from tests.webui.fakecore import FakeCore

FETCH = {"X-Requested-With": "fetch"}


@pytest.fixture
def edge_app(clinic: Clinic, clock: FakeClock) -> Iterator[Flask]:
    application = build_app(clinic, clock, edge={"enabled": True})
    application.config["TESTING"] = True
    yield application
    rt(application).store.close()


def _figure(html: str, testid: str) -> str:
    m = re.search(rf'data-testid="{testid}">([^<]*)<', html)
    assert m, f"{testid} not on the dashboard:\n{html}"
    return m.group(1).strip()


def test_the_dashboard_shows_the_edge_figures_the_core_reads(edge_app: Flask, core: FakeCore) -> None:
    core.answers["edge.status"] = {
        "reachable": True,
        "error": "",
        "registered": ["desk1", "desk2"],
        "counters": {"sec_malformed": 7, "sec_refused": 2, "sec_untrusted": 40, "sec_flood": 1, "sec_scan": 31},
        "waiting": [],
    }
    client: FlaskClient = edge_app.test_client()
    login_as(client, edge_app, "manager")
    html = client.get("/dashboard/today", headers=FETCH).get_data(as_text=True)
    assert _figure(html, "kpi-edge-phones") == "2"
    assert _figure(html, "kpi-edge-refused") == "9"
    assert _figure(html, "kpi-edge-untrusted") == "40"
    assert _figure(html, "kpi-edge-flood") == "1"
    assert _figure(html, "kpi-edge-scans") == "31"
    assert ("edge.status", {}) in core.commands


def test_the_dashboard_says_when_the_edge_figures_cannot_be_read(edge_app: Flask, core: FakeCore) -> None:
    core.refusals["edge.status"] = ("refused", "edge.status is not supported by this box")
    client = edge_app.test_client()
    login_as(client, edge_app, "manager")
    html = client.get("/dashboard/today", headers=FETCH).get_data(as_text=True)
    assert _figure(html, "kpi-edge-phones") == "edge not answering"


def test_without_the_edge_the_dashboard_shows_no_edge_figures(app: Flask, core: FakeCore) -> None:
    client = app.test_client()
    login_as(client, app, "manager")
    html = client.get("/dashboard/today", headers=FETCH).get_data(as_text=True)
    assert 'data-testid="today-edge"' not in html
    assert all(cmd != "edge.status" for cmd, _ in core.commands)
