"""Call benchmark: SIPp callers through the real IVR and queue, agents answering.

    python -m bench.calls [--hold 20] [--ivr N] [--pairs M]

Phase 1 (IVR and queue): N callers at once, each hears the greeting, presses
0 (RFC 4733), waits in the queue with music and announcements, hangs up.
Phase 2 (bridged): M callers connected to M agents (SIPp answering as desk
phones), talking, then hanging up. N and M default to what the build
allows (the wheel: 4 lines, so 4 IVR callers and 2 bridged pairs; a
production build with a 256-call cap: 100 and 20).

Prints established/failed, call setup p50/p95 (INVITE to 200, from SIPp),
the box's own answer delay and DTMF-to-prompt latency p50/p95, core CPU
seconds per call-second, and core RSS. Not a test; never in CI.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import tomli_w

from appliance.control import ControlClient
from appliance.demo.seed import seed
from appliance.errors import ControlError
from tests.conftest import free_port
from tests.integration.sip.peers.sipp import SippScenario, uac_xml, uas_xml

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Core:
    def __init__(self, directory: Path, stations: dict[str, Any], max_calls: int) -> None:
        self.sip_port = free_port()
        import socket

        result = seed(
            directory,
            web_port=free_port(socket.SOCK_STREAM),
            sip_port=self.sip_port,
            rtp_port=30000,
            pstn_port=free_port(),
        )
        every_day = {
            d: ["00:00-24:00"] for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        }
        overlay = {
            "modem": {"enabled": False},
            "panel": {"enabled": False},
            "hours": {**every_day, "holidays": []},
            "trunk": {"keepalive_interval_s": 0},
            "sip": {"max_calls": max_calls, "rtp_port_range": 4000},
            "stations": stations,
        }
        (directory / "settings.toml").write_text(tomli_w.dumps(overlay))
        self.log = (directory / "core.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "appliance", "--config", str(result.config_path), "run"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.control = ControlClient(directory / "run" / "control.sock")
        deadline = time.monotonic() + 60
        while True:
            try:
                self.status()
                break
            except ControlError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.2)
        time.sleep(10)  # let the prompt cache warm (first start generates every prompt)

    def status(self) -> dict[str, Any]:
        return self.control.status()  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def setup_times(workdir: Path) -> list[float]:
    """INVITE→200 response times (ms) from SIPp's -trace_rtt files."""
    out: list[float] = []
    for path in workdir.glob("*_rtt.csv"):
        with path.open() as fh:
            for row in csv.reader(fh, delimiter=";"):  # Date_ms;response_time_ms;rtd_no
                if len(row) >= 2 and row[1].replace(".", "").isdigit():
                    out.append(float(row[1]))
    return out


def pct(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100)[p - 1]


def run_phase(name: str, core: Core, workdir: Path, callers: int, hold_s: float) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    idle_before, idle_t0 = cpu_seconds(core.proc.pid), time.monotonic()
    time.sleep(10)
    idle = (cpu_seconds(core.proc.pid) - idle_before) / (time.monotonic() - idle_t0)  # cores with no call
    before = cpu_seconds(core.proc.pid)
    t0 = time.monotonic()
    # Press 0 once the menu plays (greeting and emergency notice take ~11 s in English).
    xml = uac_xml(caller="+12125550001", steps=[("audio", 13.0), ("dtmf", "0"), ("audio", hold_s)])
    run = SippScenario(
        xml,
        workdir,
        target=f"127.0.0.1:{core.sip_port}",
        service="+12125550100",
        calls=callers,
        concurrent=callers,
        rate=max(10, callers * 2),
        timeout_s=hold_s + 60,
        extra=["-trace_rtt", "-rtt_freq", "1"],
    )
    peak_rss = 0.0
    while run.proc.poll() is None:
        peak_rss = max(peak_rss, rss_mb(core.proc.pid))
        time.sleep(0.5)
    result = run.wait(10)
    wall = time.monotonic() - t0
    cpu = cpu_seconds(core.proc.pid) - before
    status = core.status()
    metrics = status["metrics"]
    call_seconds = result.successful * (hold_s + 13.5)
    setup = setup_times(workdir)
    print(
        f"[{name}] callers {callers}: established {result.successful}, failed {result.failed} "
        f"(cap {status['capacity']['allowed']} lines, {wall:.1f} s)"
    )
    if setup:
        print(f"[{name}] call setup INVITE→200 (SIPp): p50 {pct(setup, 50):.1f} ms  p95 {pct(setup, 95):.1f} ms")
    ans, dtmf = metrics["answer_delay_ms"], metrics["dtmf_to_prompt_ms"]
    print(f"[{name}] box answer delay: p50 {ans['p50']} ms  p95 {ans['p95']} ms ({ans['count']} calls)")
    print(f"[{name}] DTMF to prompt: p50 {dtmf['p50']} ms  p95 {dtmf['p95']} ms ({dtmf['count']} digits)")
    if call_seconds:
        net = max(0.0, cpu - idle * wall)
        print(
            f"[{name}] core CPU {cpu:.2f} s for {call_seconds:.0f} call-seconds = "
            f"{cpu / call_seconds:.4f} CPU-s per call-second ({cpu / wall:.3f} cores); the idle core "
            f"uses {idle:.3f} cores, so the calls themselves cost {net / call_seconds:.4f} CPU-s per call-second"
        )
    print(f"[{name}] core RSS peak {peak_rss:.1f} MB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hold", type=float, default=20.0, help="seconds each caller stays after pressing 0")
    ap.add_argument("--ivr", type=int, default=0, help="IVR/queue callers (default: what the build allows)")
    ap.add_argument("--pairs", type=int, default=0, help="bridged pairs (default: what the build allows)")
    ap.add_argument("--max-calls", type=int, default=256, help="sip.max_calls to ask for")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        core = Core(d / "ivr", {}, args.max_calls)
        try:
            allowed = core.status()["capacity"]["allowed"]
            run_phase("ivr+queue", core, d / "sipp-ivr", args.ivr or min(100, allowed), args.hold)
        finally:
            core.stop()
        uas_port = free_port()
        uas = subprocess.Popen(
            [
                "sipp",
                "-sf",
                str(_write(d / "uas.xml", uas_xml())),
                "-i",
                "127.0.0.1",
                "-mi",
                "127.0.0.1",
                "-p",
                str(uas_port),
                "-mp",
                str(free_port()),
                "-nostdin",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        pairs = args.pairs or min(20, allowed // 2)
        stations = {
            f"agent{i}": {
                "name": f"Agent {i}",
                "contact": f"sip:agent{i}@127.0.0.1:{uas_port}",
                "queues": ["front-desk"],
                "answer_mode": "auto",
            }
            for i in range(pairs)
        }
        core = Core(d / "bridged", stations, args.max_calls)
        try:
            run_phase("bridged", core, d / "sipp-bridged", pairs, args.hold)
        finally:
            core.stop()
            uas.terminate()
            uas.wait(timeout=10)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


if __name__ == "__main__":
    main()
