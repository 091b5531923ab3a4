"""KPIs and Erlang C staffing from the call log.

Definitions follow shared/DOMAIN.md exactly; see :mod:`appliance.reports.kpis`
for each formula and :mod:`appliance.reports.erlang` for Erlang C. Pure
calculation functions work on plain rows (:mod:`appliance.reports.rows`);
:mod:`appliance.reports.query` reads those rows from the store with a few
indexed range queries and :func:`kpi_report_for` returns one
:class:`KpiReport` for a period (``as_dict()`` for JSON).

CDR semantics the switchboard writes (one ``calls`` row per call):
``started_at`` INVITE received; ``answered_at`` the box answered;
``queued_at`` entered a queue; ``agent_answered_at`` connected to an agent;
``ended_at``; ``disposition`` answered / abandoned / callback / voicemail /
overflow / ivr / transferred / busy / refused / failed; ``hold_seconds``;
``wrap_seconds``. Talk = ended - agent_answered - hold; wait =
agent_answered - queued (answered) or ended - queued (not answered).

Example:
    >>> report = kpi_report_for(cfg, store, start, end)   # doctest: +SKIP
    >>> report.queue.asa_s, report.staffing[0].agents     # doctest: +SKIP
    (14.2, 3)
"""

from appliance.reports.adherence import AdherenceKpis, AgentAdherence, schedule_adherence
from appliance.reports.erlang import (
    Staffing,
    agents_for_service_level,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    service_level,
)
from appliance.reports.heatmap import HeatMap, hour_of_week
from appliance.reports.kpis import (
    CallbackKpis,
    FcrKpis,
    QueueKpis,
    QueueTally,
    ReminderKpis,
    callback_kpis,
    first_call_resolution,
    queue_kpis,
    reminder_kpis,
)
from appliance.reports.query import kpi_report, kpi_report_for
from appliance.reports.report import KpiReport, StaffingRow, build_report, report_from_calls
from appliance.reports.rows import AbandonRow, AgentEventRow, CallbackRow, CallRow, ContactRow, ReminderAttemptRow
from appliance.reports.runner import ReportRunner

__all__ = [
    "AbandonRow",
    "AdherenceKpis",
    "AgentAdherence",
    "AgentEventRow",
    "CallRow",
    "CallbackKpis",
    "CallbackRow",
    "ContactRow",
    "FcrKpis",
    "HeatMap",
    "KpiReport",
    "QueueKpis",
    "QueueTally",
    "ReminderAttemptRow",
    "ReminderKpis",
    "ReportRunner",
    "Staffing",
    "StaffingRow",
    "agents_for_service_level",
    "average_speed_of_answer",
    "build_report",
    "callback_kpis",
    "erlang_b",
    "erlang_c",
    "first_call_resolution",
    "hour_of_week",
    "kpi_report",
    "kpi_report_for",
    "queue_kpis",
    "reminder_kpis",
    "report_from_calls",
    "schedule_adherence",
    "service_level",
]
