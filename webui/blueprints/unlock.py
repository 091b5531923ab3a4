"""The unlock page: a passphrase-locked store after a reboot.

While the store key is wrapped by the manager passphrase and nobody has
unlocked it, no one can log in (the accounts are inside the encrypted
store), so this page is open without a login: knowing the passphrase is
the credential. Attempts are throttled per address. After unlocking here,
the web UI tells the core over the control socket (``store.unlock``
with the passphrase, or ``store.unlocked`` where the core re-reads the key
file itself), so calls get their screen pop and reminders resume.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from appliance.control import COMMANDS, ControlClient
from appliance.errors import StoreError, WrongPassphraseError
from webui import auth
from webui.auth import public
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.views import control, notice

log = logging.getLogger(__name__)
bp = Blueprint("unlock", __name__)


def tell_core(client: ControlClient, passphrase: str) -> object:
    """Let the core unlock too: with the passphrase where the protocol takes
    it (``store.unlock``), else by a notice that it re-reads the key file."""
    if "store.unlock" in COMMANDS:
        return client.call("store.unlock", passphrase=passphrase)
    return client.call("store.unlocked")


@bp.route("/unlock", methods=["GET", "POST"])
@public
def unlock() -> Any:
    rt = runtime()
    if not rt.store.locked:
        return redirect(url_for("dashboard.home"))
    error = ""
    status = 200
    if request.method == "POST":
        where = "unlock:" + auth.client_address()
        wait = rt.throttle.retry_after(where)
        passphrase = request.form.get("passphrase", "")[:1024]
        if wait > 0:
            error = _("Too many wrong passphrases. Wait %(minutes)s minutes.", minutes=int(wait // 60) + 1)
            status = 429
        elif not passphrase:
            error, status = _("Enter the passphrase."), 400
        else:
            try:
                rt.store.unlock(passphrase)
            except WrongPassphraseError:
                rt.throttle.failed(where)
                error, status = _("That is not the passphrase of this store."), 401
            except StoreError as exc:
                error, status = str(exc), 500
            else:
                rt.throttle.succeeded(where)
                rt.repos.audit.record(f"web:{auth.client_address()}", "unlock", "store")
                log.info("store unlocked from the web UI")
                ok, message, _result = control(lambda: tell_core(rt.control, passphrase))
                notice("ok", _("The store is unlocked. Log in to continue."))
                if not ok:
                    notice("info", message)
                return redirect(url_for("auth.login"))
    return render_template("auth/unlock.html", error=error), status
