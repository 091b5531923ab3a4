"""``clinicbox modem status|send-sms|simulate|usb-reset``: the technician's modem tools."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path
from typing import Any

from appliance.cli import context
from appliance.config import Config
from appliance.doctor.modem_hardware import modem_adapter
from appliance.errors import ModemError, ValidationError
from appliance.events import EventBus
from appliance.modem.probe import open_modem, probe
from appliance.modem.sim import ControlServer, ModemSimulator, PtySimulator
from appliance.modem.smsservice import SmsService, recipient
from appliance.modem.status import read_status
from appliance.modem.transport import PortBusyError
from appliance.modem.usbreset import UsbResetError, check_modem_port, serve_request, unbind_bind
from appliance.modem.wire.pdu import encode_sms
from appliance.privacy import mask_phone
from appliance.store.sms import SmsRepo


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    m = sub.add_parser("modem", help="GSM/LTE modem: status, send a test SMS, run the simulator")
    msub = m.add_subparsers(dest="modem_command", metavar="ACTION", required=True)
    p = msub.add_parser("status", help="identity, SIM, registration and signal of the modem")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_status)
    p = msub.add_parser("send-sms", help="send a test SMS (queued through the core when it runs)")
    p.add_argument("number", help="recipient, e.g. +48601234567")
    p.add_argument("text", help="message text (any language; long texts are split)")
    p.set_defaults(func=cmd_send_sms)
    p = msub.add_parser("simulate", help="run the modem simulator on a pty until stopped")
    p.add_argument("--link", required=True, metavar="PATH", help="symlink kept pointing at the simulator's pty")
    p.add_argument("--profile", default="ec25", choices=("ec25", "sim7600"), help="modem family to imitate")
    p.add_argument("--pin", default="", help="make the simulated SIM ask for this PIN")
    p.add_argument("--control", metavar="SOCK", help="Unix socket taking JSON commands (inject SMS, calls, faults)")
    p.set_defaults(func=cmd_simulate)
    p = msub.add_parser("usb-reset", help="unbind and re-bind the modem's USB device (root)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--serve-request",
        action="store_true",
        help="carry out the core's pending request in the run folder (clinicbox-usb-reset.service)",
    )
    what.add_argument("--port", metavar="ID", help="reset this USB port now, e.g. 1-1.3 (a technician, as root)")
    p.add_argument("--sys-root", default="/sys", metavar="DIR", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_usb_reset)


def _running_core(cfg: Config) -> dict[str, Any] | None:
    return read_status(cfg.paths.run_dir)


def _print_status(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    dbm = f", {data['dbm']} dBm" if data.get("dbm") is not None else ""
    rows = [
        ("state", data.get("state", "")),
        ("modem", f"{data.get('model', '')} on {data.get('port', '')}"),
        ("IMEI", data.get("imei", "")),
        ("SIM", data.get("sim", "")),
        (
            "network",
            f"{'registered' if data.get('registered') else 'not registered'} {data.get('operator', '')}".strip(),
        ),
        ("signal", f"{data.get('signal', 0)}/5{dbm}"),
        ("call", data.get("call", "idle")),
    ]
    voice = data.get("voice_path")
    if isinstance(voice, dict) and voice.get("text"):
        rows.append(("voice", str(voice["text"]).removeprefix("voice path: ")))
    if data.get("detail"):
        rows.append(("detail", data["detail"]))
    recovery = data.get("last_recovery")
    if recovery:
        rows.append(
            ("last recovery", f"{recovery.get('step') or '-'}: {recovery.get('outcome')} ({recovery.get('reason')})")
        )
    for name, value in rows:
        print(f"{name:<14} {value}")


def cmd_status(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    if not cfg.modem.enabled:
        print("the modem is disabled (modem.enabled = false)")
        return 0
    running = _running_core(cfg)
    if running is not None:
        print(f"the modem is owned by the running ClinicBox core (pid {running.get('pid')}); its last status:")
        _print_status(running, args.json)
        return 0
    try:
        with modem_adapter(cfg) as hardware:
            data = probe(cfg, hardware)
    except PortBusyError as exc:
        print(f"{exc}; stop the core or read `clinicbox doctor`")
        return 0
    _print_status(data, args.json)
    return 0 if data.get("state") == "ready" else 1


def cmd_send_sms(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    if not cfg.modem.enabled:
        raise ModemError("the modem is disabled (modem.enabled = false)")
    if _running_core(cfg) is not None:
        store = context.open_store(cfg)
        clock = context.clock_for(cfg)
        service = SmsService(SmsRepo(store, clock), cfg.modem, clock, EventBus(), region=cfg.clinic.country)
        sms_id = service.send_sms(args.number, args.text)
        print(f"queued as SMS {sms_id}; the running core sends it within seconds")
        return 0
    number = recipient(args.number, cfg.clinic.country)
    try:
        encoded = encode_sms(number, args.text, status_report=False, validity=cfg.modem.sms_validity_hours)
    except ModemError as exc:
        raise ValidationError(f"the SMS cannot be sent: {exc}") from exc
    with modem_adapter(cfg) as hardware:
        modem = open_modem(cfg, hardware)
        try:
            modem.initialize()
            status = modem.wait_registered(15.0)
            if not (status.registration and status.registration.registered):
                raise ModemError("the modem is not registered to the network; check the antenna and the SIM")
            refs = [modem.send_pdu(part) for part in encoded.parts]
        finally:
            modem.close()
    print(
        f"sent to {mask_phone(number)}: {len(refs)} part(s), {encoded.encoding}, "
        f"network references {', '.join(map(str, refs))} (not stored: the core was not running)"
    )
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    sim = PtySimulator(ModemSimulator(profile=args.profile, pin=args.pin), link=Path(args.link))
    path = sim.start()
    control = ControlServer(sim, Path(args.control)) if args.control else None
    if control is not None:
        control.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"simulated {args.profile} modem on {path}, linked at {args.link}", flush=True)
    if control is not None:
        print(f"control socket: {args.control}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        if control is not None:
            control.stop()
        sim.stop()
    return 0


def cmd_usb_reset(args: argparse.Namespace) -> int:
    """The root side of a modem USB reset: the core's request, or a technician's port."""
    cfg = context.config(args)
    sys_root = Path(args.sys_root)
    if args.serve_request:
        result = serve_request(cfg.paths.run_dir, sys_root, usb_serial=cfg.modem.usb_serial)
        print(("reset: " if result.ok else "refused: ") + result.detail)
        return 0 if result.ok else 1
    what = check_modem_port(sys_root, args.port, cfg.modem.usb_serial)
    try:
        unbind_bind(sys_root, args.port, 2.0)
    except OSError as exc:
        raise UsbResetError(f"unbind/bind of {args.port} failed ({exc}); run it as root") from exc
    print(f"reset: {what} on USB {args.port} unbound and bound again")
    return 0
