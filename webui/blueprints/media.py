"""Voicemail and recordings: list, play (decrypted on the fly), mark handled."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for

from appliance.errors import CorruptStoreError, NotFoundError, ValidationError
from webui import auth
from webui.auth import MANAGER, STAFF, requires
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.services import media as service
from webui.views import notice, render_error

bp = Blueprint("media", __name__)


@bp.get("/voicemail")
@requires(*STAFF)
def voicemail() -> Any:
    rt = runtime()
    status = request.args.get("status", "new")
    if status not in service.STATUSES:
        status = "new"
    mailbox = request.args.get("mailbox", "")
    if mailbox not in rt.cfg.voicemail.mailboxes:
        mailbox = ""
    items = service.voicemails(rt.repos, auth.actor(), status, mailbox)
    return render_template(
        "media/voicemail.html", items=items, status=status, mailbox=mailbox, mailboxes=rt.cfg.voicemail.mailboxes
    )


@bp.get("/recordings")
@requires(MANAGER)
def recordings() -> Any:
    rt = runtime()
    return render_template("media/recordings.html", items=service.recordings(rt.repos, auth.actor()))


def _play(kind: str, item_id: int) -> Any:
    rt = runtime()
    try:
        mimetype, chunks = service.open_audio(rt.repos, kind, item_id, auth.actor())
    except NotFoundError:
        return render_error(404)
    except ValidationError:
        return render_error(400, _("The audio file's name in the database is not valid; ask a technician."))
    except CorruptStoreError:
        return render_error(500, _("The audio file is damaged and cannot be played."))
    return Response(
        chunks,
        mimetype=mimetype,
        headers={"Content-Disposition": "inline", "Accept-Ranges": "none"},
        direct_passthrough=True,
    )


@bp.get("/voicemail/<int:voicemail_id>/audio")
@requires(*STAFF)
def voicemail_audio(voicemail_id: int) -> Any:
    return _play("voicemail", voicemail_id)


@bp.get("/recordings/<int:recording_id>/audio")
@requires(MANAGER)
def recording_audio(recording_id: int) -> Any:
    return _play("recording", recording_id)


@bp.post("/voicemail/<int:voicemail_id>/handled")
@requires(*STAFF)
def handled(voicemail_id: int) -> Any:
    rt = runtime()
    done = request.form.get("handled", "1") == "1"
    try:
        service.mark_handled(rt.repos, voicemail_id, auth.actor(), done)
    except NotFoundError:
        return render_error(404)
    notice("ok", _("Saved"))
    return redirect(url_for("media.voicemail", status=request.form.get("status", "new")))
