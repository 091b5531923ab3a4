"""Reports (managers): KPIs for a period, calls per hour of week, Erlang C
staffing for the busiest hours, and a CSV export of the same figures."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request

from appliance.errors import ValidationError
from webui import auth
from webui.auth import MANAGER, requires
from webui.i18n import weekday_names
from webui.runtime import runtime
from webui.services import reports as service
from webui.views import notice

bp = Blueprint("reports", __name__)


def _period() -> service.Period:
    rt = runtime()
    tz = ZoneInfo(rt.cfg.clinic.timezone)
    today = rt.clock.now().astimezone(tz).date()
    args = request.args
    try:
        return service.period(args.get("preset", "7d"), args.get("from", ""), args.get("to", ""), today, tz)
    except ValidationError as exc:
        notice("error", str(exc))
        return service.period("7d", "", "", today, tz)


@bp.get("/reports")
@requires(MANAGER)
def reports() -> Any:
    rt = runtime()
    p = _period()
    rep = service.report(rt.cfg, rt.reports, p, rt.clock.now())
    rt.repos.audit.record(auth.actor(), "view", "report", "", f"{p.first.isoformat()}..{p.last.isoformat()}")
    chart = {
        "weekdays": weekday_names(),
        "calls": [list(row) for row in rep.heatmap.calls],
        "weeks": rep.heatmap.weeks,
    }
    return render_template("reports.html", r=rep, p=p, presets=service.PRESETS, chart=chart, weekdays=weekday_names())


@bp.get("/reports.csv")
@requires(MANAGER)
def reports_csv() -> Any:
    rt = runtime()
    p = _period()
    rep = service.report(rt.cfg, rt.reports, p, rt.clock.now())
    rt.repos.audit.record(auth.actor(), "export", "report", "", f"{p.first.isoformat()}..{p.last.isoformat()}")
    name = f"clinicbox-report-{p.first.isoformat()}-{p.last.isoformat()}.csv"
    return Response(
        "\ufeff" + service.to_csv(rep, p),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
