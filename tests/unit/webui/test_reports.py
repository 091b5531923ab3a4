"""The reports screen: KPIs of a period from appliance.reports, charts data,
Erlang C staffing, CSV export, bad periods."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.errors import ValidationError
from tests.unit.webui.conftest import NOW, login_as, repos
from tests.webui.data import add_calls
from webui.services.reports import period


def test_the_report_shows_the_periods_kpis_and_chart_data(client: FlaskClient, app: Flask) -> None:
    made = add_calls(repos(app), NOW, days=10, per_day=10)
    login_as(client, app, "manager")
    page = client.get("/reports?preset=30d").get_data(as_text=True)
    queued = re.search(r'data-testid="kpi-queued">([\d,]+)<', page).group(1)  # type: ignore[union-attr]
    assert int(queued.replace(",", "")) == made
    chart = json.loads(re.search(r'id="report-data">(.*?)</script>', page).group(1))  # type: ignore[union-attr]
    assert len(chart["calls"]) == 7 and all(len(row) == 24 for row in chart["calls"])
    assert chart["weekdays"][0] == "Monday"
    assert 'data-testid="staffing"' in page
    assert repos(app).audit.search(action="view", object_type="report")


def test_the_csv_export_has_the_same_figures(client: FlaskClient, app: Flask) -> None:
    made = add_calls(repos(app), NOW, days=10, per_day=10)
    login_as(client, app, "manager")
    response = client.get("/reports.csv?preset=30d")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert ["queue", "queued", str(made)] in rows
    assert any(row and row[0] == "Mon" and len(row) == 25 for row in rows)


def test_a_bad_custom_period_falls_back_with_a_message(client: FlaskClient, app: Flask) -> None:
    login_as(client, app, "manager")
    page = client.get("/reports?preset=custom&from=2026-03-10&to=2026-03-01").get_data(as_text=True)
    assert "the last day is before the first" in page and 'data-testid="report-kpis"' in page


@pytest.mark.parametrize(
    ("preset", "first", "last"),
    [
        ("7d", date(2026, 2, 26), date(2026, 3, 4)),
        ("30d", date(2026, 2, 3), date(2026, 3, 4)),
        ("this-month", date(2026, 3, 1), date(2026, 3, 4)),
        ("last-month", date(2026, 2, 1), date(2026, 2, 28)),
        ("anything", date(2026, 2, 26), date(2026, 3, 4)),
    ],
)
def test_periods_are_whole_local_days(preset: str, first: date, last: date) -> None:
    tz = ZoneInfo("America/New_York")
    p = period(preset, "", "", date(2026, 3, 4), tz)
    assert (p.first, p.last) == (first, last)
    assert p.start.tzinfo == tz and p.start.hour == 0 and (p.end - p.start).days == (last - first).days + 1


def test_a_custom_period_is_limited() -> None:
    tz = ZoneInfo("UTC")
    with pytest.raises(ValidationError):
        period("custom", "2024-01-01", "2026-01-01", date(2026, 3, 4), tz)
    with pytest.raises(ValidationError):
        period("custom", "yesterday", "today", date(2026, 3, 4), tz)
