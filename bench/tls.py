"""TLS trunk benchmark: registration and TLS+SRTP call setup against a local TLS provider.

    python -m bench.tls [--starts 3] [--calls 10]

Each start is a fresh core (real PJSUA2) with ``trunk.transport = tls`` to a
TLS registrar on 127.0.0.1 whose certificate a throwaway CA signed (made
with openssl in a temporary folder). Registration time: from the core's TCP
connect to the 200 OK (TLS handshake with certificate and name checks, the
401 challenge, the authenticated REGISTER). Call setup: a PJSUA2 provider
process calls the clinic's number over a new TLS connection with mandatory
SRTP, from ``makeCall`` to CONFIRMED (TCP + TLS handshake, INVITE with
a=crypto, the box's IVR answering with SRTP). Not a test; never in CI.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from tests.integration.sip.peers.tlsprovider import TestCA, TlsRegistrar
from tests.integration.switchboard.box import Box
from tests.integration.switchboard.tls import PASSWORD, USER, provider_call, tls_overlay


def _summary(name: str, values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"{name}: n={len(values)} min {values[0]:.0f} ms, p50 {statistics.median(values):.0f} ms, p95 {p95:.0f} ms"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--starts", type=int, default=3, help="core starts (one TLS registration each)")
    ap.add_argument("--calls", type=int, default=10, help="TLS+SRTP calls per start")
    args = ap.parse_args()
    registrations: list[float] = []
    setups: list[float] = []
    with tempfile.TemporaryDirectory(prefix="cbx-tls-bench-") as tmp:
        ca = TestCA(Path(tmp) / "ca")
        pair = ca.issue("provider", "localhost", ["localhost"])
        for start in range(args.starts):
            provider = TlsRegistrar(pair, USER, PASSWORD)
            box = Box(Path(tmp) / f"clinic{start}", overlay=tls_overlay(provider.port, ca.cert, srtp="mandatory"))
            try:
                box.wait(lambda s: s["trunk"]["state"] == "up", timeout=15, what="the TLS trunk up")
                provider.wait(lambda p=provider: p.registered_at, what="the registration")
                registrations.append((provider.registered_at[0] - provider.connections[0].opened) * 1000)
                for _ in range(args.calls):
                    result = provider_call(box, pair, "mandatory", hold_s=0.5)
                    if result.get("code_confirmed") != 200 or "SRTP status: Active" not in result.get("dump", ""):
                        raise SystemExit(f"a call failed: {result}")
                    setups.append(float(result["setup_ms"]))
            finally:
                box.stop()
                provider.close()
    print(_summary("TLS registration (connect to 200 OK)", registrations))
    print(_summary("TLS+SRTP call setup (makeCall to CONFIRMED)", setups))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
