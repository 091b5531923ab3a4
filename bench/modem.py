"""GSM modem benchmark: SMS codec throughput and trunk-failure-to-SMS latency.

Run: ``.venv/bin/python -m bench.modem [--messages 10000] [--failovers 5]``

1. Encode + decode + reassemble N multilingual multipart messages (English,
   Spanish, Polish, Turkish, Korean, Chinese, emoji; 2-4 parts each):
   every part is encoded to an SMS-SUBMIT PDU and decoded back, then joined
   by the reassembler. Target: more than 5,000 messages/s.
2. Failover latency: the modem service runs on the simulator over a pty, with
   a real SQLCipher store. A stand-in for the reminder dispatcher listens to
   ``failover.changed`` and queues a reminder SMS when the route becomes
   ``gsm``. The clock starts when ``trunk.down`` is published and stops
   when the simulated network has the SMS (the modem answered +CMGS).
   Target: under 10 s.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from appliance.clock import SystemClock
from appliance.config import load_config
from appliance.events import Event, EventBus
from appliance.modem.service import ModemService
from appliance.modem.sim import Simulation
from appliance.modem.wire.concat import IncomingPart, Reassembler
from appliance.modem.wire.pdu import SmsSubmit, decode_pdu, encode_sms
from appliance.store import Store

TEXTS = [
    "Reminder: your visit with Dr Smith is tomorrow at 10:30 at the Main Street clinic. Reply YES to confirm or NO "
    "to cancel. Please bring your insurance card and a list of your medicines. ",
    "Recordatorio: su cita con la Dra. Núñez es mañana a las 10:30. ¿Confirma? Responda SÍ o NO. Traiga su tarjeta "
    "del seguro, por favor. ",
    "Przypomnienie: wizyta u dr. Wiśniewskiej jutro o 10:30. Odpowiedz TAK, aby potwierdzić, lub NIE, aby odwołać. ",
    "Hatırlatma: yarın saat 10:30'da Dr. Şükrü Çağlayan ile randevunuz var. Onaylamak için EVET, iptal için HAYIR. ",
    "알림: 내일 오전 10시 30분 김민준 선생님 진료 예약이 있습니다. 확인하시려면 예, 취소하시려면 아니오라고 답장해 주세요. ",
    "提醒：您明天上午10:30与王医生有预约。确认请回复“是”，取消请回复“否”。请携带医保卡。谢谢！",
    "See you tomorrow 😀👍🏽 Reply 1 to confirm, 2 to cancel 🙏 ",
]


_T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def corpus(count: int) -> list[str]:
    out = []
    for i in range(count):
        base = TEXTS[i % len(TEXTS)]
        repeat = 2 + (i // len(TEXTS)) % 3  # 2-4 copies: 2-4 parts
        out.append((base * repeat).strip() + f" #{i}")
    return out


def codec_throughput(count: int) -> tuple[float, int]:
    messages = corpus(count)
    reassembler = Reassembler(timeout_s=600, keep_max=100)
    parts_total = 0
    start = time.perf_counter()
    for i, text in enumerate(messages):
        sms = encode_sms("+48601234567", text, concat_ref=i & 0xFF, status_report=True, validity=48)
        parts_total += len(sms.parts)
        joined = None
        for part in sms.parts:
            decoded = decode_pdu(part.hex)
            assert isinstance(decoded, SmsSubmit)
            incoming = IncomingPart(str(i), decoded.concat, decoded.text, decoded.encoding, _T0)
            for outcome in reassembler.add(incoming, now=0.0):
                joined = outcome.text
        if joined != text:
            raise AssertionError(f"message {i} did not survive encode/decode")
    elapsed = time.perf_counter() - start
    return count / elapsed, parts_total


def failover_latency(runs: int) -> list[float]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cfg = load_config(
            overrides={
                "simulate": True,
                "clinic": {"country": "PL", "timezone": "Europe/Warsaw"},
                "paths": {"state_dir": str(root / "state"), "run_dir": str(root / "run"), "key_file": str(root / "k")},
                "trunk": {"enabled": True, "registrar": "sip:127.0.0.1", "username": "clinic"},
                "modem": {"enabled": True, "simulate": True, "sms_per_minute": 60},
            },
            use_secrets=False,
        )
        clock = SystemClock(assume_synced=True)
        store = Store.create(cfg.db_path, cfg.paths.key_file, clock=clock)
        bus = EventBus()
        simulation = Simulation.for_config(cfg)
        svc = ModemService(cfg, bus, store, clock, simulator=simulation)
        svc.start()
        try:
            _wait(lambda: svc.status.state == "ready", 10)
            sim = simulation.pty.modem

            def dispatcher(event: Event) -> None:  # the reminder dispatcher's part in this
                if event.data["route"] == "gsm":
                    svc.send_sms("+48601234567", "Przypomnienie: wizyta jutro o 10:30. Odpisz TAK lub NIE")

            bus.subscribe(dispatcher, "failover.changed")
            for _ in range(runs):
                bus.emit("trunk.up")
                time.sleep(0.2)
                before = len(sim.sent)
                start = time.perf_counter()
                bus.emit("trunk.down", reason="benchmark: SIP OPTIONS timeout")
                _wait(lambda: len(sim.sent) > before, 10)  # noqa: B023
                results.append(time.perf_counter() - start)
        finally:
            svc.stop()
            store.close()
    return results


def _wait(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("timed out")
        time.sleep(0.001)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--failovers", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    rate, parts = codec_throughput(args.messages)
    print(f"SMS codec: {args.messages} multilingual multipart messages ({parts} PDUs) encoded, decoded and reassembled")
    print(f"  {rate:,.0f} messages/s  ({rate * parts / args.messages:,.0f} PDUs/s)   target > 5,000 messages/s")
    latencies = failover_latency(args.failovers)
    print(f"Trunk failure -> first reminder SMS accepted by the (simulated) modem, {len(latencies)} runs:")
    print(f"  median {statistics.median(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms   target < 10 s")


if __name__ == "__main__":
    main()
