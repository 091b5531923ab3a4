"""Soak: demo-like traffic at 30 concurrent calls for N minutes on the real core.

    python -m bench.soak [--minutes 60] [--concurrent 30] [--agents 8]

SIPp callers keep 30 calls going: each hears the greeting, presses 0, waits
in the queue (music) or talks to one of the desks (one SIPp UAS answering
as 8 stations), for 5 to 40 s, and hangs up. The core's RSS is sampled
every 15 s. At the end the traffic drains and the core is idle again.

Prints RSS growth per hour (least-squares slope over the run after a 10 %
warm-up; target < 5 MB/h), the box's PJSUA2 objects and bridge ports after
the last call compared with before the first (target: no more than the idle
set), and SIPp's failed calls (target 0). Not a test; never in CI.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.calls import Core, rss_mb
from tests.integration.sip.peers.sipp import PCAPS, SippScenario, desk_stations, uac_xml, uas_xml


def caller_xml() -> str:
    """Greeting (13 s of caller audio), 0, then 5-40 s in the queue or with a desk, then BYE."""
    xml = uac_xml(caller="+12125550001", steps=[("audio", 13.0), ("dtmf", "0"), ("audio", 0.0)])
    stay = (
        f'<nop><action><exec play_pcap_audio="{PCAPS / "g711a.pcap"}"/></action></nop>\n'
        '  <pause distribution="uniform" min="5000" max="40000"/>'
    )
    marker = '<pause milliseconds="0"/>'
    assert marker in xml
    return xml.replace(marker, stay, 1)


def slope_mb_per_hour(samples: list[tuple[float, float]]) -> float:
    if len(samples) < 3:
        return float("nan")
    n = len(samples)
    mt = sum(t for t, _ in samples) / n
    mr = sum(r for _, r in samples) / n
    var = sum((t - mt) ** 2 for t, _ in samples)
    cov = sum((t - mt) * (r - mr) for t, r in samples)
    return cov / var * 3600 if var else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--concurrent", type=int, default=30)
    ap.add_argument("--agents", type=int, default=8)
    args = ap.parse_args()
    duration = args.minutes * 60
    mean_call_s = 13.0 + 0.3 + 22.5 + 1.0
    total_calls = max(args.concurrent, int(duration / mean_call_s * args.concurrent))
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        uas = SippScenario(uas_xml(), d / "desks", calls=10**7, concurrent=args.agents * 4, timeout_s=duration + 3600)
        stations = desk_stations(args.agents, uas.port, "desk")
        core = Core(d / "core", stations, 64)
        try:
            idle = core.status()["capacity"]["media"]
            print(
                f"idle before: {idle['pjsua2_objects']} PJSUA2 objects, {idle['bridge_ports']} bridge ports, "
                f"RSS {rss_mb(core.proc.pid):.1f} MB"
            )
            period_ms = int(mean_call_s * 1000 / args.concurrent)
            callers = SippScenario(
                caller_xml(),
                d / "callers",
                target=f"127.0.0.1:{core.sip_port}",
                service="+12125550100",
                calls=total_calls,
                concurrent=args.concurrent,
                rate=1,
                timeout_s=duration + 600,
                extra=["-rp", str(period_ms)],
            )
            t0 = time.monotonic()
            samples: list[tuple[float, float]] = []
            blocks: list[tuple[float, float]] = []  # thousands of Python heap blocks
            sqlite: list[tuple[float, float]] = []  # MB SQLCipher holds (page caches)
            peak_calls = 0
            while callers.proc.poll() is None:
                now = time.monotonic() - t0
                samples.append((now, rss_mb(core.proc.pid)))
                status = core.status()
                peak_calls = max(peak_calls, len(status["calls"]))
                blocks.append((now, status["capacity"]["media"]["python_blocks"] / 1000))
                sqlite.append((now, (status["capacity"]["media"]["sqlite_bytes"] or 0) / 2**20))
                if int(now) // 300 != int(now - 15) // 300:
                    print(
                        f"  {now / 60:5.1f} min: RSS {samples[-1][1]:.1f} MB, SQLCipher {sqlite[-1][1]:.1f} MB, "
                        f"Python heap {blocks[-1][1]:.0f}k blocks, "
                        f"{peak_calls} calls at most so far",
                        flush=True,
                    )
                time.sleep(15)
            result = callers.wait(60)
            wall = time.monotonic() - t0
            time.sleep(10)  # the last hang-ups, wrap-up and the snapshot
            end = core.status()
            media = end["capacity"]["media"]
            warm = [s for s in samples if s[0] >= wall * 0.1]
            print(
                f"soak {wall / 60:.1f} min, {result.successful} calls established, {result.failed} failed, "
                f"up to {peak_calls} at once"
            )
            print(
                f"RSS {samples[0][1]:.1f} MB at start, {samples[-1][1]:.1f} MB at the end, "
                f"growth {slope_mb_per_hour(warm):.2f} MB/h (least squares after 10 % warm-up)"
            )
            warm_blocks = [b for b in blocks if b[0] >= wall * 0.1]
            print(
                f"Python heap {blocks[0][1]:.0f}k blocks at start, {blocks[-1][1]:.0f}k at the end, "
                f"growth {slope_mb_per_hour(warm_blocks):.1f}k blocks/h"
            )
            warm_sqlite = [q for q in sqlite if q[0] >= wall * 0.1]
            print(
                f"SQLCipher {sqlite[0][1]:.1f} MB at start, {sqlite[-1][1]:.1f} MB at the end, "
                f"growth {slope_mb_per_hour(warm_sqlite):.2f} MB/h; RSS growth without it "
                f"{slope_mb_per_hour([(t, r - q) for (t, r), (_, q) in zip(warm, warm_sqlite, strict=False)]):.2f} MB/h"
            )
            print(
                f"after the last call: {len(end['calls'])} calls, {media['pjsua2_objects']} PJSUA2 objects "
                f"(idle {idle['pjsua2_objects']}), {media['bridge_ports']} bridge ports (idle {idle['bridge_ports']}), "
                f"{media['prompt_players']} prompt players, {media['music_players']} music players, "
                f"{media['errors']} media errors; {len(core.media_errors_in_log())} player/port errors in the log"
            )
        finally:
            core.stop()
            uas.close()


if __name__ == "__main__":
    main()
