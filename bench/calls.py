"""Call benchmark: SIPp callers through the real IVR and queue, agents answering.

    python -m bench.calls [--hold 20] [--ivr 100] [--pairs 20] [--rate 20] [--skip-baseline]

Three runs with the same SIPp caller (greeting, "0" by RFC 4733, music):

1. **baseline**: ``bench.raw_ivr``, the least a PJSUA2 program can do for
   these callers (same binding), to put the box's CPU in proportion;
2. **ivr**: the box with N callers in the IVR and then the queue (no agent);
3. **load**: the box with N + M callers at once and M desk phones (one SIPp
   UAS) answering: M callers bridged to agents, N waiting with music.

For each: established/failed (SIPp), call setup INVITE→200 p50/p95 (SIPp
-trace_rtt), call-seconds from SIPp's own measured call lengths, CPU per
call-second, RSS peak; for the box also the digits acted on (from the call
log), its answer delay and DTMF-to-prompt latency, media errors and any
player or port error in its log. Not a test; never in CI.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from appliance.control import ControlClient
from appliance.demo.seed import seed
from appliance.errors import ControlError
from appliance.store import Store, calls
from appliance.switchboard.media import _write_wav, write_music
from tests.conftest import free_port
from tests.integration.sip.peers.sipp import SippScenario, desk_stations, uac_xml, uas_xml

TICK = os.sysconf("SC_CLK_TCK")
GREETING_S = 13.0  # the English greeting and emergency notice take ~11 s; press 0 after
MEDIA_ERRORS = re.compile(r"Too many objects|PJ_ETOOMANY|no media port|player.*(failed|error)", re.IGNORECASE)


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
        self.dir = directory
        self.sip_port = free_port()
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
            # Queues are replaced wholesale: the defaults' four, the front desk long enough for the load.
            "queues": {
                "front-desk": {"name": "Front desk", "max_wait_s": 600, "max_length": 200, "mailbox": "general"},
                "appointments": {"name": "Appointments", "mailbox": "general"},
                "results": {"name": "Prescriptions and results", "mailbox": "general"},
                "billing": {"name": "Billing", "mailbox": "general"},
            },
            "stations": stations,
        }
        (directory / "settings.toml").write_text(tomli_w.dumps(overlay))
        self.log_path = directory / "core.log"
        self.log = self.log_path.open("wb")
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

    def call_log(self) -> list[calls.CallRecord]:
        store = Store.open(self.dir / "clinicbox.db", self.dir / "store.key", media_dir=self.dir / "media")
        try:
            return [r for r in calls.recent(store, 5000) if r.direction == "inbound"]
        finally:
            store.close()

    def media_errors_in_log(self) -> list[str]:
        return [line for line in self.log_path.read_text(errors="replace").splitlines() if MEDIA_ERRORS.search(line)]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


class Baseline:
    """bench.raw_ivr in its own process."""

    def __init__(self, directory: Path, max_calls: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        prompt = _write_wav(directory / "prompt.wav", [(440.0, 0.5, 0.2), (0.0, 0.2, 0.0)] * 15)  # ~10.5 s
        music = write_music(directory / "music.wav")
        self.sip_port = free_port()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.raw_ivr",
                "--port",
                str(self.sip_port),
                "--rtp-port",
                "46000",
                "--prompt",
                str(prompt),
                "--music",
                str(music),
                "--max-calls",
                str(max_calls),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        seen = []
        for line in self.proc.stdout:  # pjlib prints its banner before any log setting applies
            if line.strip() == "ready":
                break
            seen.append(line.strip())
        else:
            raise RuntimeError(f"the baseline did not start: {seen[-3:]!r}")

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        return out.strip()


@dataclass
class Run:
    name: str
    callers: int
    successful: int
    failed: int
    wall_s: float
    cpu_s: float
    idle_cores: float
    call_seconds: float
    setup_ms: list[float]
    peak_rss_mb: float

    @property
    def cpu_per_call_s(self) -> float:
        return self.cpu_s / self.call_seconds if self.call_seconds else float("nan")

    @property
    def net_per_call_s(self) -> float:
        net = max(0.0, self.cpu_s - self.idle_cores * self.wall_s)
        return net / self.call_seconds if self.call_seconds else float("nan")

    def print(self) -> None:
        print(
            f"[{self.name}] callers {self.callers}: established {self.successful}, failed {self.failed} ({self.wall_s:.1f} s)"
        )
        if self.setup_ms:
            print(
                f"[{self.name}] call setup INVITE→200 (SIPp): p50 {pct(self.setup_ms, 50):.1f} ms  "
                f"p95 {pct(self.setup_ms, 95):.1f} ms ({len(self.setup_ms)} calls)"
            )
        print(
            f"[{self.name}] CPU {self.cpu_s:.2f} s for {self.call_seconds:.0f} call-seconds (SIPp's call lengths) = "
            f"{self.cpu_per_call_s:.4f} CPU-s per call-second; idle {self.idle_cores:.3f} cores, "
            f"so the calls themselves {self.net_per_call_s:.4f}"
        )
        print(f"[{self.name}] RSS peak {self.peak_rss_mb:.1f} MB")


def setup_times(workdir: Path) -> list[float]:
    """INVITE→200 response times (ms) from SIPp's -trace_rtt files."""
    out: list[float] = []
    for path in workdir.glob("*_rtt.csv"):
        with path.open() as fh:
            for row in csv.reader(fh, delimiter=";"):  # Date_ms;response_time_ms;rtd_no
                if len(row) >= 2 and row[1].replace(".", "").isdigit():
                    out.append(float(row[1]))
    return out


def sipp_call_seconds(stats: Path) -> float:
    """Successful calls x SIPp's measured mean call length (its -stf CallLength(C), HH:MM:SS:micro)."""
    rows = list(csv.reader(stats.read_text(errors="replace").splitlines(), delimiter=";"))
    row = dict(zip(rows[0], rows[-1], strict=False))
    h, m, s, micro = (int(x) for x in row["CallLength(C)"].split(":"))
    mean = h * 3600 + m * 60 + s + micro / 1e6
    return mean * int(row.get("SuccessfulCall(C)", 0) or 0)


def pct(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100)[p - 1]


def run_callers(name: str, pid: int, port: int, workdir: Path, callers: int, hold_s: float, rate: int) -> Run:
    workdir.mkdir(parents=True, exist_ok=True)
    idle_before, idle_t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(10)
    idle = (cpu_seconds(pid) - idle_before) / (time.monotonic() - idle_t0)  # cores with no call
    before = cpu_seconds(pid)
    t0 = time.monotonic()
    xml = uac_xml(caller="+12125550001", steps=[("audio", GREETING_S), ("dtmf", "0"), ("audio", hold_s)])
    run = SippScenario(
        xml,
        workdir,
        target=f"127.0.0.1:{port}",
        service="+12125550100",
        calls=callers,
        concurrent=callers,
        rate=rate,
        timeout_s=hold_s + 60,
        extra=["-trace_rtt", "-rtt_freq", "1"],
    )
    peak_rss = 0.0
    while run.proc.poll() is None:
        peak_rss = max(peak_rss, rss_mb(pid))
        time.sleep(0.5)
    result = run.wait(10)
    wall = time.monotonic() - t0
    cpu = cpu_seconds(pid) - before
    return Run(
        name,
        callers,
        result.successful,
        result.failed,
        wall,
        cpu,
        idle,
        sipp_call_seconds(run.stats),
        setup_times(workdir),
        peak_rss,
    )


def report_box(core: Core, run: Run) -> None:
    run.print()
    status = core.status()
    metrics = status["metrics"]
    rows = core.call_log()
    acted = sum(1 for r in rows if "key:0" in r.ivr_path and r.queue == "front-desk")
    print(f"[{run.name}] digits acted on: {acted} of {len(rows)} calls in the call log ({run.successful} SIPp calls)")
    ans, dtmf = metrics["answer_delay_ms"], metrics["dtmf_to_prompt_ms"]
    print(f"[{run.name}] box answer delay: p50 {ans['p50']} ms  p95 {ans['p95']} ms ({ans['count']} calls)")
    print(f"[{run.name}] DTMF to prompt: p50 {dtmf['p50']} ms  p95 {dtmf['p95']} ms ({dtmf['count']} digits)")
    snap = metrics["snapshot_build_ms"]
    print(f"[{run.name}] status snapshot rebuild (PJSUA2 thread): p50 {snap['p50']} ms  p95 {snap['p95']} ms")
    media = status["capacity"].get("media", {})
    errors = core.media_errors_in_log()
    print(
        f"[{run.name}] media errors: {media.get('errors')} (switchboard), {len(errors)} player/port lines in the log; "
        f"music players {media.get('music_players')}"
    )
    for line in errors[:5]:
        print(f"    {line}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hold", type=float, default=20.0, help="seconds each caller stays after pressing 0")
    ap.add_argument("--ivr", type=int, default=100, help="callers in the IVR and queue")
    ap.add_argument("--pairs", type=int, default=20, help="callers bridged to agents in the load run")
    ap.add_argument("--max-calls", type=int, default=256, help="sip.max_calls to ask for")
    ap.add_argument("--rate", type=int, default=20, help="new callers per second (SIPp -r)")
    ap.add_argument("--skip-baseline", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        baseline_run = None
        if not args.skip_baseline:
            base = Baseline(d / "baseline", args.max_calls)
            try:
                baseline_run = run_callers(
                    "baseline", base.proc.pid, base.sip_port, d / "sipp-base", args.ivr, args.hold, args.rate
                )
            finally:
                print(f"[baseline] {base.stop()}")
            baseline_run.print()

        core = Core(d / "ivr", {}, args.max_calls)
        try:
            allowed = core.status()["capacity"]["allowed"]
            ivr_run = run_callers(
                "ivr", core.proc.pid, core.sip_port, d / "sipp-ivr", min(args.ivr, allowed), args.hold, args.rate
            )
            report_box(core, ivr_run)
        finally:
            core.stop()
        if baseline_run is not None:
            print(
                f"[ratio] box / raw PJSUA2 CPU per call-second: {ivr_run.cpu_per_call_s / baseline_run.cpu_per_call_s:.2f}x "
                f"all in, {ivr_run.net_per_call_s / baseline_run.net_per_call_s:.2f}x for the calls alone"
            )

        uas = SippScenario(uas_xml(), d / "desks", calls=100000, concurrent=args.pairs * 2, timeout_s=3600)
        stations = desk_stations(args.pairs, uas.port, "agent")
        core = Core(d / "load", stations, args.max_calls)
        try:
            callers = min(args.ivr + args.pairs, core.status()["capacity"]["allowed"] - args.pairs)
            load_run = run_callers("load", core.proc.pid, core.sip_port, d / "sipp-load", callers, args.hold, args.rate)
            report_box(core, load_run)
        finally:
            core.stop()
            uas.close()


if __name__ == "__main__":
    main()
