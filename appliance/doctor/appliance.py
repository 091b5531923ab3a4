"""Doctor checks of the appliance's hardware and services: panel, headsets, web UI, provisioning.

Each check is fast and never blocks: it reads ``/proc`` and ``/dev``,
makes one TCP or Unix-socket connection with a short timeout, and never
claims a GPIO pin or an audio device (the running core and stations own
them). What a check reads comes through ``ctx.memo`` under a documented
key, so a test (or a bench) can hand it a fake:

* ``asound.cards``: text of ``/proc/asound/cards``;
* ``gpio.chips``: list of ``/dev/gpiochip*`` paths;
* ``board.model``: the device-tree model string ('' off a Pi);
* ``core-status``: the running core's snapshot (see
  :func:`appliance.doctor.switchboard.core_status`); a stored
  ``ControlError`` means the core does not answer;
* ``web.connect``: a callable ``() -> None`` that raises ``OSError`` when
  the web UI does not answer.

Checks also run inside sandboxed units (the web UI's diagnostics under
PrivateDevices=yes, the provisioning report under PrivateNetwork=yes and
RestrictAddressFamilies=AF_UNIX): what such a process cannot see is a WARN
saying so, never a FAIL with advice that would break a healthy box.
"""

from __future__ import annotations

import errno
import fnmatch
import re
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from appliance.board import board_model, resolve_factory_name
from appliance.config import Config
from appliance.doctor import Context, Result, check, fail, ok, warn
from appliance.doctor.switchboard import core_status
from appliance.errors import ClinicBoxError
from appliance.panel.patterns import PROVISIONING_STALE_S
from appliance.provision_status import read_status

ASOUND_CARDS = Path("/proc/asound/cards")
CONNECT_TIMEOUT_S = 0.5
_CARD = re.compile(r"^\s*(\d+)\s+\[([^\]]+?)\s*\]:\s*(.*)$")


def parse_cards(text: str) -> list[tuple[str, str]]:
    """``/proc/asound/cards`` -> [(card id, card name)], e.g. ("Headset", "Jabra EVOLVE 20 MS")."""
    cards = []
    for line in text.splitlines():
        m = _CARD.match(line)
        if m:
            _driver, _, name = m[3].partition(" - ")
            cards.append((m[2].strip(), (name or m[3]).strip()))
    return cards


def _read_cards() -> str:
    try:
        return ASOUND_CARDS.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def card_matches(pattern: str, card_id: str, name: str) -> bool:
    """A station's ``audio_device`` names a card by id or name, as a glob or a substring."""
    p = pattern.lower()
    for text in (card_id.lower(), name.lower()):
        if fnmatch.fnmatchcase(text, p) or (not any(c in p for c in "*?[") and p in text):
            return True
    return False


@check("station audio", order=60)
def station_audio(ctx: Context) -> list[Result]:
    stations = {sid: s for sid, s in sorted(ctx.cfg.stations.items()) if s.audio_device}
    if not stations:
        return [ok("station audio", "no station uses a headset on this box (desk phones or front-desk PCs)")]
    if ctx.cfg.simulate:
        return [
            warn(
                "station audio",
                f"simulated: headsets of {', '.join(stations)} are not checked",
                "set simulate = false on the appliance",
            )
        ]
    cards = parse_cards(ctx.memo("asound.cards", _read_cards))
    results = []
    for sid, station in stations.items():
        name = f"station audio {sid}"
        found = [cid for cid, long in cards if card_matches(station.audio_device, cid, long)]
        if found:
            results.append(ok(name, f"headset {station.audio_device!r} present (card {found[0]})"))
        else:
            present = ", ".join(cid for cid, _ in cards) or "no sound cards"
            results.append(
                fail(
                    name,
                    f"no sound card matches {station.audio_device!r} (present: {present})",
                    f"plug in {sid}'s USB headset, or fix stations.{sid}.audio_device (see `aplay -l`)",
                )
            )
    return results


def _gpio_chips() -> list[str]:
    return sorted(str(p) for p in Path("/dev").glob("gpiochip*"))


def _panel_pins(ctx: Context) -> str:
    panel = ctx.cfg.panel
    return f"green {panel.green_pin}, amber {panel.amber_pin}, red {panel.red_pin}, blue {panel.blue_pin}"


def _core_panel(ctx: Context) -> str | None:
    """What the running core says of its panel: '' = it drives the LEDs, a message = the
    panel's fault, None = no core answers. The core's view beats ours.

    The core opens the panel at start; when the board's GPIO cannot be
    opened it goes on without the LEDs and lists the fault in its status
    (``box.faults``). This process may not see ``/dev/gpiochip*`` at all
    (clinicbox-web runs with PrivateDevices=yes) and must not conclude
    anything from that.
    """
    try:
        status = core_status(ctx)
    except ClinicBoxError:
        return None
    return str(status["box"].get("faults", {}).get("panel", ""))


@check("status panel", order=61)
def status_panel(ctx: Context) -> Result:
    panel = ctx.cfg.panel
    if not panel.enabled:
        return ok("status panel", "disabled (panel.enabled = false)")
    model = ctx.memo("board.model", board_model)
    kind = resolve_factory_name(panel.pin_factory, ctx.cfg.simulate, model)
    if kind == "mock":
        return warn(
            "status panel",
            "simulated (gpiozero MockFactory): no LEDs light on this box",
            'on the appliance set simulate = false and panel.pin_factory = "auto"',
        )
    fault = _core_panel(ctx)
    if fault:
        return fail(
            "status panel",
            f"off: the running core could not open it ({fault}); calls go on without the LEDs",
            "read the core's log (`journalctl -u clinicbox-core | grep panel`), check the panel's cable "
            "and that no other program holds its pins, then `sudo systemctl restart clinicbox-core`; "
            "a box without a panel: set panel.enabled = false",
        )
    if fault is not None:
        return ok("status panel", f"driven by the running core ({kind} pin factory); LEDs on GPIO {_panel_pins(ctx)}")
    chips = ctx.memo("gpio.chips", _gpio_chips)
    if not chips:
        board = model or "board model unknown"
        return warn(
            "status panel",
            f"GPIO chip (/dev/gpiochip*) not visible from this process ({board}), and no running core "
            "reports the panel",
            "run `sudo clinicbox doctor` from a shell on the box (the web UI's diagnostics cannot see devices); "
            "if that also finds no GPIO chip and this box has no status panel, set panel.enabled = false",
        )
    if kind == "lgpio":
        try:
            import lgpio  # noqa: F401
        except ImportError:
            return fail("status panel", "the lgpio library is missing (Pi 5)", "install it: pip install lgpio")
    return ok("status panel", f"{kind} pin factory on {chips[0]}; LEDs on GPIO {_panel_pins(ctx)}")


def web_target(cfg: Config) -> tuple[str, str | tuple[str, int]]:
    """(description, address) of the web UI: its Unix socket or host:port."""
    if cfg.web.unix_socket:
        return cfg.web.unix_socket, cfg.web.unix_socket
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(cfg.web.host, cfg.web.host)
    return f"{host}:{cfg.web.port}", (host, cfg.web.port)


def _connector(cfg: Config) -> Callable[[], None]:
    _, address = web_target(cfg)

    def connect() -> None:
        if isinstance(address, str):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(CONNECT_TIMEOUT_S)
                sock.connect(address)
        else:
            with socket.create_connection(address, timeout=CONNECT_TIMEOUT_S):
                pass

    return connect


#: Errors that mean this process may not use the network at all (a sandbox or
#: a firewall), not that the web UI is down.
NO_NETWORK_ERRNOS = frozenset({errno.EAFNOSUPPORT, errno.EPERM, errno.EACCES})


@check("web UI", order=62)
def web_ui(ctx: Context) -> Result:
    where, _ = web_target(ctx.cfg)
    connect = ctx.memo("web.connect", lambda: _connector(ctx.cfg))
    try:
        connect()
    except OSError as exc:
        if exc.errno in NO_NETWORK_ERRNOS:
            return warn(
                "web UI",
                f"not checked: this process may not connect to {where} ({exc.strerror or exc}); "
                "it runs sandboxed (e.g. the USB provisioning unit has no network)",
                "run `sudo clinicbox doctor` from a shell on the box to check the web UI",
            )
        return fail(
            "web UI",
            f"nothing answers on {where} ({exc.strerror or exc})",
            "sudo systemctl restart clinicbox-web; then: journalctl -u clinicbox-web",
        )
    return ok("web UI", f"answers on {where}")


def _age_s(stamp: str, now: datetime) -> float | None:
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return (now - moment).total_seconds()


@check("provisioning", order=63)
def provisioning(ctx: Context) -> Result:
    status = read_status(ctx.cfg.paths.state_dir)
    if status is None:
        return ok("provisioning", "never provisioned from a USB stick")
    now = datetime.now(UTC)
    if status.state == "running":
        age = _age_s(status.started_at, now)
        if age is not None and age > PROVISIONING_STALE_S:
            return warn(
                "provisioning",
                f"a run started {status.started_at} never finished (power cut or crash)",
                "plug the stick in again; the bundle is applied from the start",
            )
        return ok("provisioning", f"a run is in progress (started {status.started_at})")
    label = f" ({status.bundle})" if status.bundle else ""
    if status.state == "succeeded":
        return ok("provisioning", f"last run {status.finished_at}{label} applied: {len(status.changes)} changes")
    return warn(
        "provisioning",
        f"last run {status.finished_at or '?'}{label} was refused: {status.reason.splitlines()[0] if status.reason else '?'}",
        "fix the bundle (clinicbox provision check DIR), sign it again and plug the stick in; "
        "the full reason is in the report on the stick",
    )
