"""First-run setup › Restore from a USB backup stick (a technician replacing a broken box).

Only while setup is open (no manager; every page here is 404 afterwards)
and after the setup code was entered in this browser session. The page
shows the newest verified backup on the plugged-in backup stick; the
backup passphrase is checked here against that backup (the sealed key
opens, the archive reads back as its manifest says) before anything is
asked of the box. Then the request goes to the root helper
(:mod:`provisioning.restore_request`), which stops the core and the web
UI, restores and starts them again: the web UI cannot do it itself, it
can neither stop the core nor write the store key. The passphrase is
never logged, audited or shown.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for

from appliance.errors import ClinicBoxError
from appliance.store import backup, backup_key
from provisioning.restore_request import read_status, stick_backup, write_request
from webui import auth
from webui.auth import public
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.services import setup as svc
from webui.views import render_error

log = logging.getLogger(__name__)
bp = Blueprint("setup_restore", __name__, url_prefix="/setup/restore")


@bp.before_request
def _gone_once_set_up() -> Any:
    if not svc.is_open(runtime()):
        return render_error(404)
    state = session.get("setup")
    if not (isinstance(state, dict) and state.get("claimed")):
        return redirect(url_for("setup.start"))
    return None


def _page(status: int = 200, error: str = "", requested: bool = False) -> Any:
    rt = runtime()
    tar = stick_backup(rt.cfg)
    entry = None
    if tar is not None:
        entry = {"name": tar.name, "mb": tar.stat().st_size / 2**20, "at": backup.inspect(tar).get("created_at", "")}
    last = read_status(rt.cfg)
    failed = str(last["reason"]) if last and not last.get("ok") else ""
    return (
        render_template(
            "setup/restore.html", entry=entry, error=error, requested=requested, failed=failed, step="restore"
        ),
        status,
    )


@bp.get("")
@public
def index() -> Any:
    return _page()


@bp.post("")
@public
def start() -> Any:
    rt = runtime()
    tar = stick_backup(rt.cfg)
    if tar is None:
        return _page(409, _("No backup stick with a verified backup is plugged in."))
    passphrase = request.form.get("passphrase", "")[: backup_key.MAX_PASSPHRASE]
    try:
        sealed = backup.sealed_key_in(tar)
        if sealed is None:
            return _page(409, _("This backup was made before a backup passphrase was set; it cannot be restored here."))
        backup.verify_archive(tar, backup_key.open_sealed(sealed, passphrase))
    except ClinicBoxError as exc:
        log.warning("restore at setup refused: %s", type(exc).__name__)
        return _page(400, _("Not restored: %(reason)s", reason=str(exc)))
    write_request(rt.cfg, tar, passphrase)
    rt.repos.audit.record(f"web:{auth.client_address()}", "setup-restore-requested", "backup", tar.name)
    return redirect(url_for("setup_restore.requested"))


@bp.get("/requested")
@public
def requested() -> Any:
    return _page(requested=True)
