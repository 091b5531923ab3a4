"""A reloaded config applied to the running switchboard: stations, queues, the trunk.

Everything here runs on the PJSUA2 thread, from
:meth:`SwitchboardService.reconfigure`, and never touches a call in
progress:

* queues and agents: the ACD is rebuilt in place (:mod:`appliance.acd.rebuild`);
* stations: a new one is known at once (a desk phone with a static contact
  is reachable on the next call; a station program as soon as it sends a
  heartbeat); a changed one keeps its call and takes its new name, contact,
  password and answer mode; a removed one gets nothing new, keeps the call
  it is on until it ends, and is then forgotten (:func:`forget_retired`);
* the trunk: see :mod:`appliance.switchboard.trunk_live`.

The GSM gateway (``stations.gsm``) is a line, not an agent: it is wired at
start, so adding or removing it waits for a restart; its password and
contact apply at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from appliance.acd.rebuild import AgentSpec
from appliance.acd.rebuild import check as check_acd
from appliance.config import Applied, Config
from appliance.config.telephony import StationSettings
from appliance.ivr import Ivr
from appliance.switchboard import trunk_live
from appliance.switchboard.agents import GATEWAY_STATION, AgentDesk, Station

if TYPE_CHECKING:
    from appliance.switchboard.service import SwitchboardService

log = logging.getLogger(__name__)

#: What a reload applies to new calls (calls in progress keep going); the rest of these
#: sections waits for a restart: the SIP and RTP transports, the line count, the
#: trunk's transport, the caller lookup's cache and the SIP trace are set up at start.
LIVE = ("clinic", "hours", "ivr", "voicemail", "prompts", "retention.recordings_days", "trunk", "stations", "queues")
LIVE_SIP = (
    "sip.trusted_networks",
    "sip.untrusted_limit_per_min",
    "sip.rtp_timeout_s",
    "sip.max_call_duration_s",
    "sip.internal_ring_s",
)
RESTART = ("sip", "trunk.transport", "trunk.tls_ca_file", "store.lookup_cache_mb", "logging.sip_trace")


def sort_out(old: Config, new: Config) -> Applied:
    """The switchboard's part of the ``config.reload`` answer: what it applied, what waits."""
    # A new transport (UDP or TLS) needs the SIP transports opened at start: the whole trunk waits.
    same = old.trunk.transport == new.trunk.transport
    names = LIVE if same else tuple(n for n in LIVE if n != "trunk")
    applied = Applied.sort_out(old, new, live=(*names, *LIVE_SIP), restart=RESTART if same else (*RESTART, "trunk"))
    if gateway_change(old, new):
        applied = applied.merge(Applied(restart=["stations.gsm"]))
    return applied


def agent_specs(cfg: Config) -> dict[str, AgentSpec]:
    """The ACD's agents of ``cfg``: every station but the GSM gateway."""
    return {
        sid: (tuple(st.queues), st.name or sid) for sid, st in sorted(cfg.stations.items()) if sid != GATEWAY_STATION
    }


def fallback_queue(cfg: Config) -> str:
    """Where callers of a removed queue go: the front desk (the first queue without one)."""
    return "front-desk" if "front-desk" in cfg.queues else next(iter(cfg.queues), "")


def gateway_change(old: Config, new: Config) -> bool:
    """Is the GSM gateway added or removed? (That waits for a restart.)"""
    return (GATEWAY_STATION in old.stations) != (GATEWAY_STATION in new.stations)


def apply_stations(desk: AgentDesk, stations: Mapping[str, StationSettings]) -> None:
    """Add, change and retire the desk's stations (the ACD knows the new agents already)."""
    if desk.gateway is not None and GATEWAY_STATION in stations:
        gw = stations[GATEWAY_STATION]
        desk.gateway.password = gw.password
        desk.gateway.contact = desk.gateway.contact or gw.contact
    wanted = {sid: st for sid, st in stations.items() if sid != GATEWAY_STATION}
    for sid, settings in wanted.items():
        st = desk.stations.get(sid)
        if st is None or st.retired:
            if st is not None and (st.leg is not None or st.call is not None):
                log.info("station %s is back in the config while still on its last call", sid)
            fresh = _station(sid, settings)
            if st is not None:  # a removed station added again before its last call ended
                fresh.leg, fresh.call, fresh.ringing, fresh.last_call = st.leg, st.call, st.ringing, st.last_call
            desk.stations[sid] = fresh
            log.info("station %s added", sid)
            if fresh.kind == "phone":
                desk._up(fresh, "static contact")
            continue
        _update(desk, st, settings)
    for sid, st in list(desk.stations.items()):
        if sid not in wanted and not st.retired:
            st.retired = True
            if st.reachable:
                st.reachable = False
                desk.c.notify.agents.station(station=st.id, reachable=False)
            log.info("station %s removed%s", sid, " after its call" if st.leg or st.call else "")
    forget_retired(desk)


def forget_retired(desk: AgentDesk) -> None:
    """Drop removed stations whose last call is over (each tick, and after a reload)."""
    for sid, st in list(desk.stations.items()):
        if st.retired and st.leg is None and st.call is None and st.ringing is None:
            del desk.stations[sid]
            desk.c.dirty = True


def _station(sid: str, st: StationSettings) -> Station:
    return Station(
        id=sid,
        name=st.name or sid,
        password=st.password,
        kind="phone" if st.contact else "program",
        answer_mode=st.answer_mode,
        contact=st.contact,
    )


def _update(desk: AgentDesk, st: Station, settings: StationSettings) -> None:
    kind = "phone" if settings.contact else "program"
    st.name, st.password, st.answer_mode = settings.name or st.id, settings.password, settings.answer_mode
    if kind == "phone" and settings.contact != st.contact:
        st.contact, st.messenger, st.down_at = settings.contact, None, None
    if kind != st.kind:
        st.kind = kind
        st.contact = settings.contact
        st.messenger = None
        if kind == "phone":
            desk._up(st, "static contact")
        else:  # now a station program: reachable once it sends a heartbeat
            desk._down(st, "now a station program; waiting for its heartbeat")
    desk.c.dirty = True


def refuse(sb: SwitchboardService, cfg: Config) -> None:
    """Refuse what cannot apply, before anything changes (loop thread)."""
    check_acd(cfg.queues, agent_specs(cfg), fallback_queue(cfg))
    trunk_live.verify_uris(sb, cfg)


def apply(sb: SwitchboardService, old: Config, cfg: Config) -> None:
    """Take ``cfg`` on the loop thread: IVR, admission, queues and stations, the trunk."""
    c = sb.controller
    night = c.ivr.night_mode
    c.cfg = cfg
    c.ivr = Ivr.from_config(cfg, sb.clock, night_mode=night)
    t = cfg.trunk
    c.admission.reconfigure(t.provider_networks, cfg.sip.trusted_networks, t.registrar, cfg.sip.untrusted_limit_per_min)
    if old.queues != cfg.queues or old.stations != cfg.stations:
        c.run(c.acd.reconfigure(cfg.queues, agent_specs(cfg), fallback_queue(cfg)), "acd")
        apply_stations(c.agents, cfg.stations)
    if old.trunk.transport == cfg.trunk.transport:
        trunk_live.apply(sb, old, cfg)
    sb.cfg = cfg
    c.dirty = True
