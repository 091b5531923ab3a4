"""The trunk's PJSUA2 accounts: created at start, re-registered live on a reload.

A changed registrar, user name, password, realm, proxy, interval or caller
ID is applied with ``Account.modify``: PJSIP unregisters from the old
registrar, registers with the new one, and leaves the calls in progress on
the account alone (they keep their dialog and media). A trunk enabled by a
reload gets its accounts at once; a disabled one unregisters, and its
account objects stay alive until the core stops, so a call still on them
ends normally. Only the transport (UDP or TLS) waits for a restart: the
SIP transports are opened at start.

Runs on the PJSUA2 thread only.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pjsua2 as pj

from appliance.config import Config
from appliance.errors import ValidationError
from appliance.switchboard.accounts import caller_id_account_config, edge_proxy, trunk_account_config
from appliance.switchboard.legs import SbAccount
from appliance.switchboard.siptls import secure_trunk_account

if TYPE_CHECKING:
    from appliance.switchboard.service import SwitchboardService

log = logging.getLogger(__name__)

#: Trunk settings that take a new registration (``Account.modify``) rather than a restart.
REGISTRATION = (
    "enabled",
    "registrar",
    "username",
    "password",
    "realm",
    "proxy",
    "register",
    "register_interval_s",
    "caller_id",
)


def reregisters(old: Config, new: Config) -> bool:
    """Does the reload change how the trunk registers? (Not: provider networks, keep-alive.)"""
    return any(getattr(old.trunk, name) != getattr(new.trunk, name) for name in REGISTRATION)


def verify_uris(sb: SwitchboardService, cfg: Config) -> None:
    """Refuse URIs PJSIP cannot parse before anything is applied.

    Raises:
        ValidationError: one of the trunk's or the stations' URIs (its key is in the message).
    """
    ep = sb.loop.ep
    uris = {"trunk.registrar": cfg.trunk.registrar, "trunk.proxy": cfg.trunk.proxy}
    uris |= {f"stations.{sid}.contact": st.contact for sid, st in cfg.stations.items()}
    for key, uri in uris.items():
        if uri and ep.utilVerifySipUri(uri) != 0:
            raise ValidationError(f"{key}: PJSIP cannot parse {uri!r}; the box would not reach it")


def create(sb: SwitchboardService, cfg: Config) -> None:
    """The trunk account (and the caller-ID one) for ``cfg``, as at start."""
    c = sb.controller
    tls_missing = cfg.trunk.transport == "tls" and (not sb.capacity.tls or sb.loop.tls_error)
    if cfg.trunk.enabled and cfg.trunk.registrar and tls_missing:
        detail = sb.loop.tls_error or "this PJSUA2 build has no TLS"
        sb.trunk.on_registration(503, f"trunk.transport = tls but {detail}", False)
    elif cfg.trunk.enabled and cfg.trunk.registrar:
        trunk = SbAccount(c, "trunk")
        tacc = trunk_account_config(cfg.trunk, _edge(cfg))
        sb._media_config(tacc)
        _secure(sb, tacc, cfg)
        trunk.create(tacc, False)
        c.trunk = trunk
        _caller_account(sb, cfg)


def _caller_account(sb: SwitchboardService, cfg: Config) -> None:
    c = sb.controller
    cacc = caller_id_account_config(cfg.trunk, _edge(cfg))
    if cacc is None:
        if c.trunk_caller is not None:
            sb.loop.keepalive.append(c.trunk_caller)
            c.trunk_caller = None
        return
    sb._media_config(cacc)
    _secure(sb, cacc, cfg)
    if c.trunk_caller is not None:
        c.trunk_caller.modify(cacc)
        return
    caller = SbAccount(c, "trunk-caller-id")
    caller.create(cacc, False)
    c.trunk_caller = caller


def apply(sb: SwitchboardService, old: Config, new: Config) -> None:
    """Follow the reloaded ``[trunk]``; calls in progress keep their account."""
    if not reregisters(old, new):
        return
    c = sb.controller
    on = new.trunk.enabled and bool(new.trunk.registrar)
    if c.trunk is None:
        if on:
            log.info("trunk enabled by a reload: registering")
            create(sb, new)
        return
    if not on:
        log.info("trunk disabled by a reload: unregistering (calls in progress go on)")
        _retire(sb, c.trunk, registered=old.trunk.register)
        c.trunk = None
        if c.trunk_caller is not None:
            sb.loop.keepalive.append(c.trunk_caller)
            c.trunk_caller = None
        return
    tacc: Any = trunk_account_config(new.trunk, _edge(new))
    sb._media_config(tacc)
    _secure(sb, tacc, new)
    log.info("trunk settings changed: registering again with %s", new.trunk.registrar)
    if old.trunk.register and not new.trunk.register:
        _unregister(c.trunk)
    c.trunk.modify(tacc)
    _caller_account(sb, new)


def _edge(cfg: Config) -> str:
    """The edge as outbound proxy for a UDP/TCP trunk when the box runs one (accounts.edge_proxy)."""
    return edge_proxy(cfg.sip.port) if cfg.edge.enabled else ""


def _secure(sb: SwitchboardService, acc: Any, cfg: Config) -> None:
    """TLS trunk accounts: bound to the TLS transport, SRTP as configured (siptls)."""
    secure_trunk_account(acc, cfg, sb.loop.tls_transport, sb.capacity.srtp)


def _unregister(account: SbAccount) -> None:
    try:
        account.setRegistration(False)
    except pj.Error as exc:
        log.info("trunk unregistration: %s", exc.reason)


def _retire(sb: SwitchboardService, account: SbAccount, *, registered: bool) -> None:
    if registered:
        _unregister(account)
    sb.loop.keepalive.append(account)
