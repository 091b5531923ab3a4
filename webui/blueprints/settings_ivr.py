"""Settings: the phone menu (IVR) tree and the prompts.

The IVR steps are one wholesale-replaced table (``ivr.nodes``); every edit
rewrites it in the overlay and is validated as a whole, so a menu key can
never point to a step that does not exist. Prompts: custom recordings
(upload or record in the browser), per-language texts, and a
text-to-speech preview.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, send_file, url_for

from appliance.config import IvrNode
from appliance.config.callflow import NODE_TYPES
from appliance.errors import ClinicBoxError, NotFoundError, ValidationError
from webui import auth
from webui.auth import MANAGER, requires
from webui.blueprints.settings import overlay, save
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.services import ivr_tree, prompts
from webui.services import settings_forms as forms
from webui.services.overlay import to_toml
from webui.views import json_error, notice, render_error

bp = Blueprint("settings_ivr", __name__, url_prefix="/settings")

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def _nodes_table() -> dict[str, Any]:
    return {name: to_toml(node) for name, node in runtime().cfg.ivr.nodes.items()}


def _save_nodes(table: dict[str, Any], version: str, what: str) -> list[str] | None:
    ov = overlay()
    data, _v = ov.read()
    return save(ov.with_collection(data, ("ivr", "nodes"), table), version, what)


@bp.get("/ivr")
@requires(MANAGER)
def ivr() -> Any:
    rt = runtime()
    ivr_cfg = rt.cfg.ivr
    return render_template(
        "settings/ivr.html",
        tree=ivr_tree.tree(ivr_cfg),
        nodes=ivr_cfg.nodes,
        entry=ivr_cfg.entry,
        unreachable=ivr_tree.unreachable(ivr_cfg),
        summary=ivr_tree.summary,
        node_types=NODE_TYPES,
        version=overlay().version(),
    )


@bp.post("/ivr/entry")
@requires(MANAGER)
def set_entry() -> Any:
    ov = overlay()
    data, _v = ov.read()
    problems = save(
        ov.with_section(data, "ivr", {"entry": request.form.get("entry", "")}),
        request.form.get("version", ""),
        "ivr.entry",
    )
    if problems:
        notice("error", "; ".join(problems))
    return redirect(url_for("settings_ivr.ivr"))


@bp.post("/ivr/add")
@requires(MANAGER)
def add_node() -> Any:
    name = request.form.get("name", "").strip().lower()
    kind = request.form.get("type", "")
    if not _ID.match(name):
        notice("error", _("Use 1 to 32 lowercase letters, digits, '-' or '_' for the id."))
        return redirect(url_for("settings_ivr.ivr"))
    if kind not in NODE_TYPES:
        notice("error", _("Choose a type from the list."))
        return redirect(url_for("settings_ivr.ivr"))
    table = _nodes_table()
    if name in table:
        notice("error", _("That id is already used."))
        return redirect(url_for("settings_ivr.ivr"))
    # A new step starts as a hang-up (always valid); the editor then opens
    # with the chosen type so the manager fills in where it leads.
    table[name] = {"type": "hangup"}
    problems = _save_nodes(table, request.form.get("version", ""), f"ivr.nodes.{name}")
    if problems:
        notice("error", "; ".join(problems))
        return redirect(url_for("settings_ivr.ivr"))
    return redirect(url_for("settings_ivr.node", name=name, type=kind))


@bp.route("/ivr/node/<name>", methods=["GET", "POST"])
@requires(MANAGER)
def node(name: str) -> Any:
    rt = runtime()
    current = rt.cfg.ivr.nodes.get(name)
    if current is None:
        return render_error(404)
    specs = forms.fields(IvrNode, current)
    wanted_type = request.args.get("type")
    if request.method == "GET":
        for spec in specs:
            if spec.name == "type" and wanted_type in NODE_TYPES:
                spec.value = wanted_type
        return _node_page(name, specs)
    version = request.form.get("version", "")
    kind = request.form.get("type", current.type)
    used = set(ivr_tree.TYPE_FIELDS.get(kind, ())) | {"type"}
    # Only the fields of the chosen type count; the others are hidden in the form.
    values, errors = forms.parse(request.form, [s for s in specs if s.name in used])
    others: list[str] = []
    if not errors:
        table = _nodes_table()
        table[name] = values
        problems = _save_nodes(table, version, f"ivr.nodes.{name}")
        if problems is None:
            return redirect(url_for("settings_ivr.ivr"))
        if not problems:  # someone saved first: their version is the base now
            version = overlay().version()
        errors, others = forms.problems_by_field(problems, f"ivr.nodes.{name}.")
    forms.apply_errors(specs, errors, request.form)
    return _node_page(name, specs, 400, version=version, others=others, failed=True)


def _node_choices(specs: list[forms.FormField]) -> None:
    """Pick lists for fields that name another step, a queue or a mailbox."""
    cfg = runtime().cfg
    lists = {
        "next": sorted(cfg.ivr.nodes),
        "fallback": sorted(cfg.ivr.nodes),
        "if_open": sorted(cfg.ivr.nodes),
        "if_closed": sorted(cfg.ivr.nodes),
        "queue": sorted(cfg.queues),
        "mailbox": list(cfg.voicemail.mailboxes),
    }
    for spec in specs:
        if spec.name in lists:
            spec.kind, spec.choices = "choice", ("", *lists[spec.name])


def _node_page(name: str, specs: list[forms.FormField], status: int = 200, **extra: Any) -> Any:
    rt = runtime()
    _node_choices(specs)
    return (
        render_template(
            "settings/ivr_node.html",
            name=name,
            specs=specs,
            type_fields=ivr_tree.TYPE_FIELDS,
            node_names=sorted(rt.cfg.ivr.nodes),
            queues=rt.cfg.queues,
            mailboxes=rt.cfg.voicemail.mailboxes,
            prompt_keys=prompts.keys_in_use(rt.cfg),
            version=extra.pop("version", overlay().version()),
            **extra,
        ),
        status,
    )


@bp.post("/ivr/node/<name>/delete")
@requires(MANAGER)
def delete_node(name: str) -> Any:
    table = _nodes_table()
    if name not in table:
        return render_error(404)
    del table[name]
    problems = _save_nodes(table, request.form.get("version", ""), f"ivr.nodes.{name}")
    if problems:
        notice("error", _("Not deleted: %(problems)s", problems="; ".join(problems)))
    return redirect(url_for("settings_ivr.ivr"))


# -- prompts -------------------------------------------------------------------
@bp.get("/prompts", endpoint="prompts")
@requires(MANAGER)
def prompts_screen() -> Any:
    rt = runtime()
    return render_template(
        "settings/prompts.html",
        custom=prompts.custom_prompts(rt.cfg),
        keys=prompts.keys_in_use(rt.cfg),
        texts=rt.cfg.prompts.texts,
        defaults=prompts.default_texts(rt.cfg),
        clinic_languages=rt.cfg.clinic.languages,
        version=overlay().version(),
    )


@bp.post("/prompts/upload")
@requires(MANAGER)
def upload_prompt() -> Any:
    rt = runtime()
    upload = request.files.get("file")
    name = request.form.get("name", "").strip().lower()
    language = request.form.get("language", "")
    wants_json = request.headers.get("X-Requested-With") == "fetch"
    try:
        if upload is None:
            raise ValidationError("choose a WAV file")
        prompts.save(rt.cfg, name, language, upload.read())
    except ValidationError as exc:
        if wants_json:
            return json_error(str(exc))
        notice("error", str(exc))
        return redirect(url_for("settings_ivr.prompts"))
    rt.repos.audit.record(auth.actor(), "prompt-upload", "prompt", f"{language or '*'}/{name}")
    if wants_json:
        return {"ok": True}
    notice("ok", _("Recording saved."))
    return redirect(url_for("settings_ivr.prompts"))


@bp.get("/prompts/audio/<name>.wav")
@requires(MANAGER)
def prompt_audio(name: str) -> Any:
    try:
        path = prompts.path_of(runtime().cfg, name, request.args.get("lang", ""))
    except (ValidationError, NotFoundError):
        return render_error(404)
    return send_file(path, mimetype="audio/wav")


@bp.post("/prompts/delete")
@requires(MANAGER)
def delete_prompt() -> Any:
    rt = runtime()
    name, language = request.form.get("name", ""), request.form.get("language", "")
    try:
        prompts.delete(rt.cfg, name, language)
    except (ValidationError, NotFoundError):
        return render_error(404)
    rt.repos.audit.record(auth.actor(), "prompt-delete", "prompt", f"{language or '*'}/{name}")
    notice("ok", _("Recording deleted."))
    return redirect(url_for("settings_ivr.prompts"))


@bp.post("/prompts/texts")
@requires(MANAGER)
def save_texts() -> Any:
    rt = runtime()
    texts: dict[str, dict[str, str]] = {lang: dict(values) for lang, values in rt.cfg.prompts.texts.items()}
    for field, value in request.form.items():
        if not field.startswith("text:"):
            continue
        _prefix, lang, key = field.split(":", 2)
        if lang not in rt.cfg.clinic.languages or not prompts.NAME.match(key):
            continue
        value = value.strip()
        if len(value) > 1000:
            notice("error", _("A prompt text is too long (1000 characters at most)."))
            return redirect(url_for("settings_ivr.prompts"))
        if value:
            texts.setdefault(lang, {})[key] = value
        else:
            texts.get(lang, {}).pop(key, None)
    texts = {lang: values for lang, values in texts.items() if values}
    ov = overlay()
    data, _v = ov.read()
    problems = save(ov.with_collection(data, ("prompts", "texts"), texts), request.form.get("version", ""), "prompts")
    if problems:
        notice("error", "; ".join(problems))
    return redirect(url_for("settings_ivr.prompts"))


@bp.post("/prompts/preview")
@requires(MANAGER)
def preview() -> Any:
    rt = runtime()
    try:
        audio = prompts.preview(rt.cfg, request.form.get("text", ""), request.form.get("language", ""))
    except ValidationError as exc:
        return json_error(str(exc))
    except ClinicBoxError as exc:
        return json_error(str(exc), 503)
    return Response(audio, mimetype="audio/wav")
