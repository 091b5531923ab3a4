"""The demo's phone traffic: patients calling in, and the "PSTN" answering the box.

So a newcomer sees the queue, the wallboard and the LEDs move, ``clinicbox
demo`` runs this next to the core. It plays the provider's side of the
trunk: a SIP user agent on ``trunk.registrar`` (127.0.0.1:5080 in the demo)
that calls the clinic's number a few times a minute with the demo
patients' numbers (and some unknown ones), walks the menu, waits in the
queue, sometimes gives up or asks to be called back; and that answers the
box's own calls (callbacks, reminders) after a few rings, pressing 1, 2, 3
or nothing. It also starts the demo's stations and plays their agents
through the control socket: log in, accept ringing calls on manual
stations, talk a while, hang up, finish wrap-up.

PJSUA2 allows one endpoint per process, so the user agent and each station
are child processes (``appliance.demo.sipua``, ``clinicbox station``); this
process only scripts them and never loads PJSUA2. If one of them dies, it
stops the rest and exits 1, and the demo supervisor restarts it.

Run: ``python -m appliance.demo.traffic --config var/demo/clinicbox.toml
[--calls-per-min 3] [--speed 1] [--seed N] [--duration S] [--no-stations]``
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from appliance.config import Config, load_config
from appliance.control import CommandRefused, ControlClient
from appliance.demo.mobile import MobileNetwork
from appliance.errors import ClinicBoxError
from appliance.privacy import mask_phone
from appliance.sip import host_port
from appliance.station.options import GATEWAY_STATION

log = logging.getLogger("appliance.demo.traffic")

#: Calls this process places at once; the user agent's fourth line stays
#: free for the box's callbacks and reminder calls.
MAX_OUTGOING = 3
Step = tuple[str, Any]  # ("wait", seconds) | ("dtmf", digits) | ("hangup", None)


@dataclass(frozen=True)
class CallPlan:
    kind: str  # queue, abandon-ivr, abandon-queue, callback
    caller: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class AnswerPlan:
    answer: bool
    delay_s: float
    digit: str  # "" = press nothing
    digit_after_s: float
    max_s: float


def unknown_number(rng: random.Random) -> str:
    return f"+1917555{rng.randrange(10000):04d}"


def plan_call(
    rng: random.Random, numbers: Sequence[str], menu_digits: Sequence[str], callback_key: str, speed: float = 1.0
) -> CallPlan:
    """One caller's script. Pure: all randomness comes from ``rng``."""
    caller = rng.choice(numbers) if numbers and rng.random() < 0.75 else unknown_number(rng)

    def wait(lo: float, hi: float) -> Step:
        return ("wait", round(rng.uniform(lo, hi) / speed, 2))

    r = rng.random()
    if r < 0.1 or not menu_digits:
        return CallPlan("abandon-ivr", caller, (wait(2, 5), ("hangup", None)))
    menu = (wait(6, 11), ("dtmf", rng.choice(list(menu_digits))))
    if r < 0.3 and callback_key:
        steps = (*menu, wait(8, 15), ("dtmf", callback_key), wait(6, 8), ("hangup", None))
        return CallPlan("callback", caller, steps)
    if r < 0.5:
        return CallPlan("abandon-queue", caller, (*menu, wait(10, 40), ("hangup", None)))
    return CallPlan("queue", caller, (*menu, wait(90, 180), ("hangup", None)))


def plan_answer(rng: random.Random, speed: float = 1.0) -> AnswerPlan:
    """How "the patient" picks up a callback or reminder call. Pure."""
    return AnswerPlan(
        answer=rng.random() >= 0.1,
        delay_s=round(rng.uniform(1, 6) / speed, 2),
        digit=rng.choice(["1", "2", "3", ""]),
        digit_after_s=round(rng.uniform(3, 8) / speed, 2),
        max_s=round(120 / speed, 2),
    )


def menu_digits(cfg: Config) -> tuple[list[str], str]:
    """The digits of the first menu that lead to a queue, and that queue's callback key."""
    nodes, seen, todo = cfg.ivr.nodes, set(), [cfg.ivr.entry]
    while todo:
        name = todo.pop(0)
        node = nodes.get(name)
        if node is None or name in seen:
            continue
        seen.add(name)
        if node.type == "menu":
            queued = {d: nodes[t].queue for d, t in node.options.items() if t in nodes and nodes[t].type == "queue"}
            if queued:
                keys = {cfg.queues[q].callback_key for q in queued.values() if q in cfg.queues}
                return sorted(queued), (keys.pop() if len(keys) == 1 else "")
        todo += [n for n in (node.if_open, node.next, node.fallback, *node.options.values()) if n]
    return [], ""


def patient_numbers(cfg: Config) -> list[str]:
    """The demo patients' primary numbers (the store may be locked: then none)."""
    from appliance.clock import SystemClock
    from appliance.store import Store

    try:
        store = Store.open(cfg.db_path, cfg.paths.key_file, clock=SystemClock(assume_synced=True))
    except ClinicBoxError as exc:
        log.warning("no patient numbers (%s); calling with unknown numbers only", exc)
        return []
    try:
        if store.locked:
            return []
        return [str(r[0]) for r in store.query("SELECT e164 FROM patient_phones WHERE is_primary = 1")]
    finally:
        store.close()


class UserAgent:
    """A sipua child process; its events are routed to per-call queues."""

    def __init__(self, argv: list[str], on_incoming: Any) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._on_incoming = on_incoming
        self._lock = threading.Lock()
        self._tags: dict[str, threading.Event] = {}
        self._serials: dict[str, int] = {}
        self.ended: dict[int, threading.Event] = {}
        self.ready = threading.Event()
        threading.Thread(target=self._read, name="sipua-reader", daemon=True).start()

    def _read(self) -> None:
        out: IO[bytes] = self.proc.stdout  # type: ignore[assignment]
        for raw in out:
            try:
                ev = json.loads(raw)
            except json.JSONDecodeError:
                continue
            kind = ev.get("event")
            with self._lock:
                if kind == "ready":
                    self.ready.set()
                elif kind == "calling" and ev.get("tag") in self._tags:
                    self._serials[ev["tag"]] = int(ev["call"])
                    self.ended.setdefault(int(ev["call"]), threading.Event())
                    self._tags[ev["tag"]].set()
                elif kind == "incoming":
                    self.ended.setdefault(int(ev["call"]), threading.Event())
                elif kind == "state" and ev.get("state") == "DISCONNECTED":
                    self.ended.setdefault(int(ev["call"]), threading.Event()).set()
            if kind == "incoming":
                self._on_incoming(ev)
        self.ready.set()

    def send(self, cmd: str, **args: Any) -> None:
        stdin: IO[bytes] = self.proc.stdin  # type: ignore[assignment]
        with self._lock:
            try:
                stdin.write((json.dumps({"cmd": cmd, **args}) + "\n").encode())
                stdin.flush()
            except (BrokenPipeError, ValueError):
                pass

    def call(self, uri: str, caller: str, timeout: float = 5.0) -> int | None:
        tag = f"c{random.getrandbits(40)}"
        placed = threading.Event()
        with self._lock:
            self._tags[tag] = placed
        self.send("call", uri=uri, from_user=caller, tag=tag)
        placed.wait(timeout)
        with self._lock:
            self._tags.pop(tag, None)
            return self._serials.pop(tag, None)

    def close(self) -> None:
        self.send("quit")
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Traffic:
    def __init__(self, args: argparse.Namespace, cfg: Config) -> None:
        self.args, self.cfg = args, cfg
        self.rng = random.Random(args.seed)  # the main thread's: callers
        self.answer_rng = random.Random(None if args.seed is None else args.seed + 1)  # the reader thread's
        self.agent_rng = random.Random(None if args.seed is None else args.seed + 2)  # the agents thread's
        self.stop = threading.Event()
        self.speed = max(args.speed, 0.01)
        pstn_host, self.pstn_port = host_port(cfg.trunk.registrar or "sip:127.0.0.1:5080")
        self.pstn_host = "127.0.0.1" if pstn_host == "localhost" else pstn_host
        did = cfg.clinic.phone_number or "100"
        self.box_uri = f"sip:{did}@{cfg.sip.public_address or cfg.sip.bind_address}:{cfg.sip.port}"
        self.numbers = patient_numbers(cfg)
        self.digits, self.callback_key = menu_digits(cfg)
        self.active = threading.BoundedSemaphore(MAX_OUTGOING)
        self.stations: list[subprocess.Popen[bytes]] = []
        self.ua: UserAgent | None = None

    # -- processes -------------------------------------------------------------------
    def start(self) -> None:
        self.ua = UserAgent(
            [
                sys.executable,
                "-m",
                "appliance.demo.sipua",
                "--port",
                str(self.pstn_port),
                "--bind",
                self.pstn_host,
                "--user-agent",
                "ClinicBox-demo-PSTN",
            ],
            self._incoming,
        )
        if not self.ua.ready.wait(15) or self.ua.proc.poll() is not None:
            raise ClinicBoxError(f"the demo PSTN user agent could not start on {self.pstn_host}:{self.pstn_port}")
        if self.args.stations:
            exe = [sys.executable, "-m", "appliance", "--config", str(self.args.config), "station", "--station"]
            for sid, st in self.cfg.stations.items():
                if not st.contact and st.password and sid != GATEWAY_STATION:  # headsets only
                    self.stations.append(subprocess.Popen([*exe, sid], stdin=subprocess.DEVNULL))
        log.info(
            "demo traffic: PSTN at %s:%s calls %s about %.1f times a minute (%d patient numbers, menu keys %s)",
            self.pstn_host,
            self.pstn_port,
            self.box_uri,
            self.args.calls_per_min,
            len(self.numbers),
            ",".join(self.digits) or "none",
        )

    def children_alive(self) -> bool:
        procs = [p for p in ([self.ua.proc] if self.ua else []) + self.stations]
        return all(p.poll() is None for p in procs)

    def close(self) -> None:
        self.stop.set()
        if self.ua is not None:
            self.ua.close()
        for proc in self.stations:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.stations:
            try:
                proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                proc.kill()

    # -- calls into the box ----------------------------------------------------------
    def place_call(self) -> None:
        if not self.active.acquire(blocking=False):
            return
        plan = plan_call(self.rng, self.numbers, self.digits, self.callback_key, self.speed)
        threading.Thread(target=self._run_call, args=(plan,), name="caller", daemon=True).start()

    def _run_call(self, plan: CallPlan) -> None:
        ua = self.ua
        try:
            assert ua is not None
            serial = ua.call(self.box_uri, plan.caller)
            if serial is None:
                return
            log.info("call %s: %s from %s", serial, plan.kind, mask_phone(plan.caller))
            ended = ua.ended[serial]
            for kind, value in plan.steps:
                if kind == "wait" and (ended.wait(value) or self.stop.is_set()):
                    return
                if kind == "dtmf":
                    ua.send("dtmf", call=serial, digits=value)
                if kind == "hangup":
                    ua.send("hangup", call=serial)
        finally:
            self.active.release()

    # -- the box calling out ---------------------------------------------------------
    def _incoming(self, ev: dict[str, Any]) -> None:
        plan = plan_answer(self.answer_rng, self.speed)
        threading.Thread(target=self._answer, args=(int(ev["call"]), plan), name="callee", daemon=True).start()

    def _answer(self, serial: int, plan: AnswerPlan) -> None:
        ua = self.ua
        assert ua is not None
        ended = ua.ended[serial]
        if not plan.answer or ended.wait(plan.delay_s):
            log.info("box's call %s: not answered", serial)
            return
        ua.send("answer", call=serial)
        log.info("box's call %s: answered, then %s", serial, f"key {plan.digit}" if plan.digit else "no key")
        if plan.digit and not ended.wait(plan.digit_after_s):
            # A reminder names only the clinic until the patient presses a key; then it
            # gives the day and time and asks for 1, 2 or 3. (A callback ignores both.)
            ua.send("dtmf", call=serial, digits="1")
            if not ended.wait(round(10 / self.speed, 2)):
                ua.send("dtmf", call=serial, digits=plan.digit)
        if not ended.wait(plan.max_s):
            ua.send("hangup", call=serial)

    # -- the agents ------------------------------------------------------------------
    def agents(self) -> None:
        """Play the front desk through the control socket (a look every second, or faster when sped up)."""
        client = ControlClient(self.cfg.control_socket, timeout=3)
        seen: dict[str, tuple[str, str, float]] = {}  # station -> (state, call, act at)
        elapsed, tick = 0.0, max(0.2, 1.0 / self.speed)
        while not self.stop.wait(tick):
            elapsed += tick
            try:
                snapshot = client.status()
            except ClinicBoxError:
                continue  # core not (yet) running
            manual = {sid for sid, st in self.cfg.stations.items() if st.answer_mode == "manual"}
            for agent in snapshot.get("agents", []):
                sid, state, call = str(agent.get("station")), str(agent.get("state")), str(agent.get("call_id"))
                if sid not in self.cfg.stations:
                    continue
                if seen.get(sid, ("", "", 0.0))[:2] != (state, call):
                    delay = {"ringing": (2, 6), "on-call": (15, 60), "wrap-up": (3, 8)}.get(state, (0, 0))
                    seen[sid] = (state, call, elapsed + self.agent_rng.uniform(*delay) / self.speed)
                if elapsed < seen[sid][2]:
                    continue
                try:
                    if state == "logged-out":
                        client.login(sid)
                    elif state == "ringing" and sid in manual:
                        client.answer(sid)
                    elif state == "on-call":
                        client.hangup(sid)
                    elif state == "wrap-up":
                        client.wrapup_done(sid, note="demo")
                    else:
                        continue
                    seen[sid] = (state, call, elapsed + 5.0 / self.speed)  # do not repeat at once
                except CommandRefused as exc:
                    log.debug("%s %s refused: %s", sid, state, exc)
                except ClinicBoxError:
                    break

    # -- main ------------------------------------------------------------------------
    def run(self) -> int:
        self.start()
        # The mobile network texts and rings the simulated modem now and then.
        mobile = MobileNetwork(
            self.cfg.paths.run_dir / "modem-sim.sock",
            patient_numbers(self.cfg),
            random.Random(None if self.args.seed is None else self.args.seed + 7),
            self.stop,
            every_s=90.0 / max(0.1, self.speed),
        )
        threading.Thread(target=mobile.run, name="mobile", daemon=True).start()
        threading.Thread(target=self.agents, name="agents", daemon=True).start()
        mean_gap = 60.0 / max(self.args.calls_per_min, 0.01)
        started = time.monotonic()
        next_call = started + self.rng.expovariate(1 / mean_gap)
        try:
            while not self.stop.wait(0.25):
                now = time.monotonic()
                if self.args.duration is not None and now - started >= self.args.duration:
                    break
                if not self.children_alive():
                    log.error("a demo SIP process died; stopping the traffic generator")
                    return 1
                if now >= next_call:
                    self.place_call()
                    next_call = now + self.rng.expovariate(1 / mean_gap)
        finally:
            self.close()
        return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m appliance.demo.traffic", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True, type=Path, help="the demo clinic's clinicbox.toml")
    p.add_argument("--calls-per-min", type=float, default=3.0, help="average new calls per minute (default 3)")
    p.add_argument("--speed", type=float, default=1.0, help="divide every wait by this (tests use 5-10)")
    p.add_argument("--seed", type=int, default=None, help="random seed, for a repeatable demo")
    p.add_argument(
        "--duration", type=float, default=None, help="stop after so many seconds (default: run until signalled)"
    )
    p.add_argument("--no-stations", dest="stations", action="store_false", help="do not start the demo's stations")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        traffic = Traffic(args, load_config(args.config))
    except ClinicBoxError as exc:
        print(f"traffic: error: {exc}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: traffic.stop.set())
    signal.signal(signal.SIGINT, lambda *_: traffic.stop.set())
    try:
        return traffic.run()
    except ClinicBoxError as exc:
        print(f"traffic: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
