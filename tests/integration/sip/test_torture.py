"""RFC 4475's torture messages meet the box's SIP edge rules, over UDP and TCP.

The messages are the RFC's own files (source: tests/fixtures/rfc4475/SOURCE.md),
sent byte for byte except the top Via's sent-by. The element under test is
kamailio running ``appliance/edge/kamailio/security.cfg`` in a minimal script
(tests/integration/sip/peers/security_edge.py) whose stand-in core answers
what gets past the route; ``test_edge_core.py`` repeats this through the real
edge to the real core.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.sip.conftest import need
from tests.integration.sip.peers import svmap, svwar
from tests.integration.sip.peers.common import tail
from tests.integration.sip.peers.security_edge import SecurityEdge
from tests.integration.sip.torture import Torture, answer_time, exchange, load, rewrite_top_via, run_all, table

#: What the stand-in core behind the route answers: a request that got these got past the route.
CORE_ANSWERS = {200, 401, 481, 486}
_CALL_ID = re.compile(rb"(?im)^(?:call-id|i)[ \t]*:[ \t]*(\S+)")
#: Valid messages the edge may answer otherwise than the RFC says: none since security.cfg
#: unfolds folded header lines (wsinv) before Kamailio's parser sees them.
KNOWN_DEVIATIONS: set[str] = set()
#: Every security log line: the source address and what happened, never a URI, a user or a number.
_SECURITY_LINE = re.compile(
    r"edge-security: (?:(?:malformed request|refused request|untrusted [A-Z]+|untrusted request) from [0-9.]+:[0-9]+, "
    r"(?:answered(?: [0-9]{3})?|dropped)|(?:scanner|flood) from [0-9.]+, (?:dropped|blocked))$"
)


def _security_lines(edge: SecurityEdge) -> list[str]:
    return [line.split("<script>: ", 1)[-1] for line in edge.log_text().splitlines() if "edge-security:" in line]


@pytest.fixture
def edge(peer_dir: Path) -> Iterator[SecurityEdge]:
    need("kamailio")
    with SecurityEdge(peer_dir / "edge") as e:
        yield e


def _call_id(msg: Torture) -> str | None:
    m = _CALL_ID.search(msg.data)
    return m.group(1).decode("latin-1") if m else None


def _passed(edge: SecurityEdge) -> set[tuple[str, str]]:
    """(source address, Call-ID) of every request the route let through to the core."""
    return set(re.findall(r"PASSED (\S+) (\S+)", edge.log_text()))


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_every_torture_message_gets_the_outcome_the_rfc_describes(edge: SecurityEdge, transport: str) -> None:
    messages = load()
    results = run_all("127.0.0.1", edge.port, transport, messages)
    report = table(results)

    assert len(results) == 49
    assert all(r.as_expected for r in results), report
    assert all(r.options_answered for r in results), "an OPTIONS went unanswered after a message:\n" + report
    assert {r.name for r in results if r.deviates} <= KNOWN_DEVIATIONS, report
    assert edge.running(), tail(edge.log)

    # Garbage never reaches the core: what the route refused was not passed on, what it passed got a core answer.
    passed = {cid for _, cid in _passed(edge)}
    for msg, r in zip(messages, results, strict=True):
        cid = _call_id(msg)
        if cid is None or msg.kind == "response":
            continue
        if r.final in CORE_ANSWERS:
            assert cid in passed, f"{msg.name}: answered {r.final} but not by the core?\n{report}"
        else:
            assert cid not in passed, f"{msg.name}: refused ({r.outcome}) yet passed to the core\n{report}"
    assert edge.counter("sec_malformed") > 0
    assert edge.counter("sec_refused") > 0
    assert edge.counter("sec_untrusted") == 0
    # RFC 4475 3.3.10: the 200 whose next Via is 255.255.255.255 is not forwarded there.
    assert "255.255.255.255" not in edge.log_text()
    # One line per address and kind and minute, carrying the address only.
    lines = _security_lines(edge)
    assert lines and all(_SECURITY_LINE.match(line) for line in lines), lines
    assert len(lines) <= 4, lines


def test_an_untrusted_sender_gets_silence_for_the_same_messages(edge: SecurityEdge) -> None:
    """From an address outside EDGE_TRUSTED even the RFC's error answers are withheld.

    REGISTER is the exception by design: it goes on to the registrar, which
    answers every unknown phone with the same digest challenge. wsinv and
    badinv01 are dropped by Kamailio's own parser before any counter; past
    pike's limit (30 requests in 2 s here) a sender counts as a flood.
    """
    skip = {"wsinv", "badinv01"}
    requests = [m for m in load() if m.kind == "request" and not m.data.startswith(b"REGISTER ") and m.name not in skip]
    answers: list[tuple[str, list[int]]] = []
    for msg in requests:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.2", 0))
            s.settimeout(0.3)
            s.sendto(rewrite_top_via(msg.data, "127.0.0.2", s.getsockname()[1]), ("127.0.0.1", edge.port))
            try:
                answers.append((msg.name, [int(s.recv(65536)[8:11])]))
            except TimeoutError:
                pass
    assert answers == []
    counted = sum(edge.counter(n) for n in ("sec_untrusted", "sec_malformed", "sec_flood"))
    assert counted == len(requests)
    assert not [src for src, _ in _passed(edge) if src == "127.0.0.2"]


def test_sipvicious_from_an_untrusted_address_finds_nothing_and_is_counted(peer_dir: Path, scanner_home: Path) -> None:
    """svmap and svwar get silence and are counted as scans.

    svwar ignores its -b option and always sends from 127.0.0.1, so here only
    127.0.0.3 is trusted and the scanners come from 127.0.0.1.
    """
    need("kamailio")
    with SecurityEdge(peer_dir / "edge", trusted="127.0.0.3/32", probe_ip="127.0.0.3") as edge:
        scans = [edge.counter("sec_scan")]
        found = svmap(edge.port, scanner_home)
        assert found.rows == [], found.output
        scans.append(edge.counter("sec_scan"))
        war = svwar(edge.port, scanner_home, extensions="100-102")
        assert war.rows == [], war.output
        scans.append(edge.counter("sec_scan"))
        war_invite = svwar(edge.port, scanner_home, extensions="100-102", method="INVITE", force=True)
        assert war_invite.rows == [], war_invite.output
        scans.append(edge.counter("sec_scan"))

        assert scans[0] == 0 and scans[1] > scans[0] and scans[2] > scans[1] and scans[3] > scans[2], scans
        assert not [src for src, _ in _passed(edge) if src != "127.0.0.3"]
        assert "edge-security: scanner from 127.0.0.1, dropped" in edge.log_text()
        assert edge.running()


def _memory(edge: SecurityEdge) -> tuple[int, int]:
    shm = int(edge.rpc("core.shmmem")["real_used"])
    pkg = sum(int(p["real_used"]) for p in edge.rpc("pkg.stats"))
    return shm, pkg


@pytest.mark.serial
def test_bad_input_at_rate_leaves_a_real_caller_answered_quickly_and_memory_flat(edge: SecurityEdge) -> None:
    malformed = [m for m in load() if m.kind == "request" and m.expected["udp"][0] in ("400", "505", "416")]
    assert len(malformed) >= 15
    # one round first, so the baseline includes what the first messages allocate once
    for msg in malformed:
        exchange("127.0.0.1", edge.port, msg.data, "udp", wait=0.3)
    shm_before, pkg_before = _memory(edge)

    sent = 0
    stop = threading.Event()

    def blast() -> None:
        nonlocal sent
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            payloads = [rewrite_top_via(m.data, "127.0.0.1", s.getsockname()[1]) for m in malformed]
            start = time.monotonic()
            while sent < 1000 and not stop.is_set():
                s.sendto(payloads[sent % len(payloads)], ("127.0.0.1", edge.port))
                sent += 1
                time.sleep(max(0.0, start + sent * 0.01 - time.monotonic()))

    sender = threading.Thread(target=blast, daemon=True)
    started = time.monotonic()
    sender.start()
    latencies: list[float] = []
    try:
        while sender.is_alive():
            status, seconds = answer_time("127.0.0.1", edge.port)
            latencies.append(seconds if status == 486 else float("inf"))
            time.sleep(0.4)
    finally:
        stop.set()
        sender.join(timeout=15)
    elapsed = time.monotonic() - started

    assert sent == 1000
    assert elapsed < 12.0
    assert len(latencies) >= 10
    assert max(latencies) < 0.2, f"a caller's INVITE waited {max(latencies):.3f} s under bad input"
    assert edge.running(), tail(edge.log)
    assert len(_security_lines(edge)) <= 4, "the log is rate-limited: " + "\n".join(_security_lines(edge))
    time.sleep(0.5)
    shm_after, pkg_after = _memory(edge)
    assert shm_after - shm_before < 512 * 1024, (shm_before, shm_after)
    assert pkg_after - pkg_before < 512 * 1024, (pkg_before, pkg_after)


def test_a_phones_keepalive_is_not_taken_for_an_attack(edge: SecurityEdge) -> None:
    """CRLF keepalives (RFC 5626) meet the raw gate too: no answer over UDP, the pong over TCP, no counter."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        s.sendto(b"\r\n\r\n", ("127.0.0.1", edge.port))
        with pytest.raises(TimeoutError):
            s.recv(1000)
    with socket.create_connection(("127.0.0.1", edge.port), timeout=1.0) as s:
        s.sendall(b"\r\n\r\n")
        assert s.recv(1000) == b"\r\n"
    assert edge.counter("sec_malformed") == 0
    assert _security_lines(edge) == []
