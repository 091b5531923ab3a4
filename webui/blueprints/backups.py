"""Settings › Backups (managers only): the backups on the box, their download,
the backup passphrase, and "Back up now to USB stick".

The page lists the backups in the box's backup folder (time, size, and
whether the report written after reading it back says it was verified).
A download streams the encrypted .tar as it is (useless without the
backup passphrase or the store key) and is audited first: who, which
backup. The backup passphrase and the stick backup are done by the core
(``store.backup_passphrase``, ``store.backup`` with ``to = "usb"``), which
holds the unlocked store key; the passphrase is never logged, audited or
shown. Front-desk users and technicians get 403 on every page here.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import Blueprint, redirect, render_template, request, send_file, url_for

from appliance.control import ControlClient
from appliance.store import backup_key, sticks
from appliance.store.backup_job import cause_text, read_status
from appliance.store.backup_list import listing
from appliance.store.timefmt import from_db
from webui import auth
from webui.auth import MANAGER, requires
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.views import control, core_down_message, notice, render_error

bp = Blueprint("backups", __name__, url_prefix="/settings/backups")

#: A backup takes seconds on a demo clinic and minutes on a very large one.
BACKUP_TIMEOUT_S = 1800.0
_NAME = re.compile(r"^clinicbox-[0-9A-Za-z._-]{1,120}\.tar$")


def _when(value: str) -> datetime | str:
    try:
        return from_db(value) or value
    except ValueError:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value


def _page(status: int = 200, error: str = "") -> Any:
    rt = runtime()
    key = None if rt.store.locked else rt.store.key
    jobs = read_status(rt.cfg.paths.state_dir)
    rows = [
        {"name": e.path.name, "at": _when(e.created_at), "mb": e.size / 2**20, "verified": e.verified}
        for e in listing(rt.cfg.backup_dir)
    ]
    stick = jobs.stick
    return (
        render_template(
            "settings/backups.html",
            rows=rows,
            passphrase=backup_key.state(rt.cfg.paths.state_dir, key),
            min_chars=backup_key.MIN_PASSPHRASE,
            sticks=[s.name for s in sticks.sticks(rt.cfg)],
            stick=stick,
            stick_name=stick.file.rsplit("/", 1)[-1] if stick else "",
            stick_cause=cause_text(stick.cause) if stick and not stick.ok else "",
            error=error,
        ),
        status,
    )


@bp.get("")
@requires(MANAGER)
def index() -> Any:
    return _page()


@bp.get("/download/<name>")
@requires(MANAGER)
def download(name: str) -> Any:
    rt = runtime()
    found = {e.path.name: e for e in listing(rt.cfg.backup_dir)} if _NAME.match(name) else {}
    entry = found.get(name)
    if entry is None:
        return render_error(404)
    rt.repos.audit.record(auth.actor(), "backup-download", "backup", name, f"{entry.size} bytes")
    return send_file(
        entry.path,
        mimetype="application/x-tar",
        as_attachment=True,
        download_name=name,
        max_age=0,
        conditional=False,
        etag=False,
    )


@bp.post("/usb")
@requires(MANAGER)
def to_usb() -> Any:
    rt = runtime()
    client = ControlClient(rt.cfg.control_socket, timeout=BACKUP_TIMEOUT_S)
    ok, message, result = control(lambda: client.call("store.backup", to=sticks.USB))
    if not ok:
        rt.repos.audit.record(auth.actor(), "backup-usb", "backup", "", "failed")
        status = 409
        if message == core_down_message():
            status, message = 503, _("The ClinicBox core is not running, and only it can make a backup.")
        return _page(status, _("No backup was made: %(reason)s", reason=message))
    name = str(result["path"]).rsplit("/", 1)[-1]
    rt.repos.audit.record(auth.actor(), "backup-usb", "backup", name, "verified" if result.get("verified") else "")
    notice(
        "ok",
        _(
            "Backup written to the USB stick: %(name)s, %(mb).1f MB, read back and verified. "
            "It restores on a new box with the backup passphrase.",
            name=name,
            mb=int(result.get("size", 0)) / 2**20,
        ),
    )
    return redirect(url_for("backups.index"))


@bp.post("/passphrase")
@requires(MANAGER)
def passphrase() -> Any:
    rt = runtime()
    value = request.form.get("passphrase", "")
    if value != request.form.get("repeat", ""):
        return _page(400, _("The two passphrases differ; nothing was changed."))
    problem = backup_key.passphrase_problem(value)
    if problem:
        return _page(400, _("Not set: %(reason)s", reason=problem))
    ok, message, _result = control(lambda: rt.control.call("store.backup_passphrase", passphrase=value))
    if not ok:
        return _page(409, _("Not set: %(reason)s", reason=message))
    rt.repos.audit.record(auth.actor(), "backup-passphrase-set", "backup")
    notice("ok", _("The backup passphrase is set. Keep it apart from the box: a new box needs it to restore a backup."))
    return redirect(url_for("backups.index"))
