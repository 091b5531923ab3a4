"""The RFC 4475 torture messages are byte-exact and each has an expected outcome.

The integration tests send these files to the SIP edge; if a checkout or an
editor rewrote a line ending, a message the RFC wants refused could turn into
one that must be accepted, and the tests would prove the wrong thing.
Source: tests/fixtures/rfc4475/SOURCE.md.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rfc4475"
OUTCOMES = {"drop", "final"}


def _sums() -> dict[str, str]:
    rows = (line.split() for line in (FIXTURES / "SHA256SUMS").read_text().splitlines() if line.strip())
    return {name: digest for digest, name in rows}


def test_all_49_messages_match_the_published_hashes() -> None:
    sums = _sums()
    assert len(sums) == 49
    for name, digest in sums.items():
        data = (FIXTURES / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, f"{name} is not byte-exact (line endings rewritten?)"


def test_the_messages_keep_their_crlf_and_raw_octets() -> None:
    assert b"\r\n" in (FIXTURES / "wsinv.dat").read_bytes()
    intmeth = (FIXTURES / "intmeth.dat").read_bytes()
    assert b"\x00" in intmeth and b"\x07" in intmeth and b"\x7f" in intmeth


def test_every_message_has_an_expected_outcome() -> None:
    table = tomllib.loads((FIXTURES / "expected.toml").read_text(encoding="utf-8"))
    assert set(table) == {n.removesuffix(".dat") for n in _sums()}
    for name, row in table.items():
        assert row["kind"] in ("request", "response"), name
        assert row["section"].split(".")[0] == "3", name
        for transport in ("udp", "tcp"):
            for outcome in row[transport]:
                assert outcome in OUTCOMES or (outcome.isdigit() and len(outcome) == 3), (name, outcome)
        for outcome in row.get("edge", []):
            assert outcome in OUTCOMES or (outcome.isdigit() and len(outcome) == 3), (name, outcome)
        if "edge" in row:
            assert row.get("note"), f"{name}: a deviation from the RFC says why"
        if row["kind"] == "response":
            assert row["udp"] == ["drop"] and row["tcp"] == ["drop"], f"{name}: a response is never answered"
