"""The MLLP listener with Debian's ``mllp_send`` (python3-hl7 0.4.5) and raw sockets as senders.

``mllp_send --loose -f FILE`` reads plain HL7 text (``\\n`` or ``\\r\\n``
allowed) and sends each message without its last segment's CR; without
``--loose`` it reads MLLP-framed files and strips the final CR the same way.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hl7
import pytest

from appliance.config import Config
from appliance.feeds.service import FeedService
from appliance.store.connection import Store
from appliance.store.repos import Repos
from tests.conftest import clinic_config, free_port

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "hl7"
MLLP_SEND = "/usr/bin/mllp_send"
SB, EB, CR = b"\x0b", b"\x1c", b"\r"


def hl7_config(tmp: Path, **hl7_settings: Any) -> Config:
    settings = {"enabled": True, "port": free_port(socket.SOCK_STREAM), "allowed_senders": ["127.0.0.1"]}
    return clinic_config(tmp, feeds={"hl7": {**settings, **hl7_settings}})


@pytest.fixture
def make_service(tmp_path: Path, store: Store, repos: Repos) -> Iterator[Callable[..., FeedService]]:
    started: list[FeedService] = []

    def make(**hl7_settings: Any) -> FeedService:
        service = FeedService(hl7_config(tmp_path, **hl7_settings), repos, store.clock)
        service.start()
        started.append(service)
        return service

    yield make
    for service in started:
        service.stop()


def mllp_send(port: int, path: Path, *, loose: bool = True) -> list[hl7.Message]:
    args = [MLLP_SEND, *(["--loose"] if loose else []), "-f", str(path), "-p", str(port), "127.0.0.1"]
    done = subprocess.run(args, capture_output=True, timeout=30, check=True)
    frames = [f.strip(b"\r\n\x0b") for f in done.stdout.split(EB) if f.strip(b"\r\n\x0b")]
    return [hl7.parse(f.decode("utf-8")) for f in frames]


def exchange(port: int, payload: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(payload)
        data = b""
        while not data.endswith(EB + CR):
            try:
                chunk = conn.recv(65536)
            except ConnectionResetError:  # the box hung up on a sender it does not allow
                break
            if not chunk:
                break
            data += chunk
    return data


def framed(path: Path, folder: Path) -> Path:
    """``path`` in MLLP framing, as ``mllp_send`` without ``--loose`` reads it."""
    out = folder / f"framed-{path.name}"
    out.write_bytes(SB + path.read_bytes() + EB + CR)
    return out


def msa(ack: hl7.Message) -> tuple[str, str]:
    return str(ack.segment("MSA")[1]), str(ack.segment("MSA")[2])


def counts(store: Store) -> tuple[int, int, int]:
    q = store.query_tuples
    return (
        q("SELECT count(*) FROM patients")[0][0],
        q("SELECT count(*) FROM appointments")[0][0],
        q("SELECT count(*) FROM audit_log")[0][0],
    )


@pytest.mark.serial
def test_mllp_send_delivers_six_languages_in_one_file_each_acked_after_commit(
    make_service: Callable[..., FeedService], store: Store, tmp_path: Path
) -> None:
    service = make_service()
    # --loose finds messages by "MSH|^~\\&|": the Turkish one (other encoding characters) goes framed, below.
    names = ["s12_pl_cr", "s12_ko_lf", "s12_zh_crlf_noeol", "s12_en_repeats"]
    batch = tmp_path / "batch.hl7"
    batch.write_bytes(b"\n".join((CORPUS / f"{n}.hl7").read_bytes() for n in names))
    started = time.monotonic()
    acks = mllp_send(service.listener.port, batch)  # type: ignore[union-attr]
    elapsed = time.monotonic() - started
    assert [msa(a) for a in acks] == [
        ("AA", "PL-0001"),
        ("AA", "KO-0001"),
        ("AA", "ZH-0001"),
        ("AA", "EN-0001"),
    ]
    assert [str(a.segment("MSH")[12]) for a in acks] == ["2.5.1", "2.4", "2.6", "2.3"]
    assert elapsed < 5  # four messages, each ACKed well within 1 s (plus the client's start-up)
    rows = store.query_tuples("SELECT filler_id FROM appointments ORDER BY filler_id")
    assert [r[0] for r in rows] == ["F1001", "F2001", "F3001", "F6001"]


def test_mllp_send_framed_file_without_the_last_cr_other_encoding_characters_and_latin1(
    make_service: Callable[..., FeedService], store: Store, tmp_path: Path
) -> None:
    service = make_service()
    framed = tmp_path / "framed.hl7"
    framed.write_bytes(
        b"".join(SB + (CORPUS / name).read_bytes() + EB + CR for name in ("s12_es_latin1.hl7", "s12_tr_encoding.hl7"))
    )
    acks = mllp_send(service.listener.port, framed, loose=False)  # type: ignore[union-attr]
    assert [msa(a) for a in acks] == [("AA", "ES-0001"), ("AA", "TR-0001")]
    names = store.query_tuples("SELECT display_name FROM patients ORDER BY id")
    assert names == [("José Núñez",), ("Şükrü Öztürk",)]


@pytest.mark.parametrize("separator", [b"\r", b"\n", b"\r\n"])
def test_raw_frames_with_any_segment_separator_and_no_final_one(
    make_service: Callable[..., FeedService], store: Store, separator: bytes
) -> None:
    service = make_service()
    text = (CORPUS / "s12_pl_cr.hl7").read_bytes().rstrip(b"\r").replace(b"\r", separator)
    answer = exchange(service.listener.port, SB + text + EB + CR)  # type: ignore[union-attr]
    ack = hl7.parse(answer.strip(SB + EB + CR).decode())
    assert msa(ack) == ("AA", "PL-0001")
    assert counts(store)[1] == 1


def test_an_oversized_message_is_refused_and_changes_nothing(
    make_service: Callable[..., FeedService], store: Store
) -> None:
    service = make_service(max_message_kb=4)
    before = counts(store)
    big = (CORPUS / "s12_pl_cr.hl7").read_bytes() + b"NTE|1||" + b"x" * 6000 + b"\r"
    answer = exchange(service.listener.port, SB + big + EB + CR)  # type: ignore[union-attr]
    ack = hl7.parse(answer.strip(SB + EB + CR).decode())
    assert msa(ack) == ("AR", "PL-0001")
    assert "larger than 4 KB" in str(ack.segment("ERR")[8])
    assert counts(store) == before
    assert service.status()["needs_attention"][0]["reason"].startswith("the message is larger than 4 KB")


def test_a_frame_that_never_ends_times_out_and_commits_nothing(
    make_service: Callable[..., FeedService], store: Store
) -> None:
    service = make_service(read_timeout_s=0.5)
    before = counts(store)
    with socket.create_connection(("127.0.0.1", service.listener.port), timeout=5) as conn:  # type: ignore[union-attr]
        conn.sendall(SB + (CORPUS / "s12_pl_cr.hl7").read_bytes())  # no end block
        started = time.monotonic()
        assert conn.recv(100) == b""  # the box hangs up, no ACK
        assert 0.4 < time.monotonic() - started < 3
    assert counts(store) == before
    assert service.status()["counters"]["timeouts"] == 1


def test_a_sender_not_on_the_allow_list_is_cut_off_unanswered(
    make_service: Callable[..., FeedService], store: Store
) -> None:
    service = make_service(allowed_senders=["10.1.2.3"])
    before = counts(store)
    assert exchange(service.listener.port, SB + (CORPUS / "s12_pl_cr.hl7").read_bytes() + EB + CR) == b""  # type: ignore[union-attr]
    assert counts(store) == before
    status = service.status()
    assert status["counters"]["refused_senders"] == 1 and status["counters"]["last_refused"] == "127.0.0.1"


def test_bad_messages_over_mllp_get_the_reason_in_the_ack(
    make_service: Callable[..., FeedService], store: Store, tmp_path: Path
) -> None:
    service = make_service()
    port = service.listener.port  # type: ignore[union-attr]
    # --loose would put "MSH|^~\\&|" in front of a message that lacks it: the malformed MSH goes framed.
    (ack,) = mllp_send(port, framed(CORPUS / "bad_msh.hl7", tmp_path), loose=False)
    assert msa(ack) == ("AR", "") and "MSH" in str(ack.segment("ERR")[8])
    expected = {
        "bad_version.hl7": ("AR", "BAD-0003", "version"),
        "bad_trigger.hl7": ("AR", "BAD-0004", "S16"),
        "bad_no_appointment_id.hl7": ("AE", "BAD-0005", "appointment ID"),
        "bad_date.hl7": ("AE", "BAD-0006", "timestamp"),
        "bad_offset.hl7": ("AE", "BAD-0007", "time zone"),
    }
    for name, (code, control, words) in expected.items():
        (ack,) = mllp_send(port, CORPUS / name)
        assert msa(ack) == (code, control), name
        assert words in str(ack.segment("ERR")[8]), name
    assert counts(store) == (0, 0, 0)


def test_turning_the_listener_on_and_changing_the_allow_list_apply_live(
    tmp_path: Path, store: Store, repos: Repos
) -> None:
    off = clinic_config(tmp_path)
    service = FeedService(off, repos, store.clock)
    service.start()
    try:
        assert service.listener is None and service.status()["listening"] is False
        on = hl7_config(tmp_path, allowed_senders=["10.1.2.3"])
        applied = service.reconfigure(on)
        assert {"feeds.hl7.enabled", "feeds.hl7.allowed_senders"} <= set(applied.applied) and not applied.restart
        port = service.listener.port  # type: ignore[union-attr]
        assert exchange(port, SB + (CORPUS / "s12_pl_cr.hl7").read_bytes() + EB + CR) == b""
        allowed = hl7_config(tmp_path, port=on.feeds.hl7.port)
        assert service.reconfigure(allowed).applied == ["feeds.hl7.allowed_senders"]
        assert msa(mllp_send(port, CORPUS / "s12_pl_cr.hl7")[0]) == ("AA", "PL-0001")
    finally:
        service.stop()


def test_mllp_over_tls(make_service: Callable[..., FeedService], store: Store, tmp_path: Path) -> None:
    import ssl

    cert, key = tmp_path / "box.pem", tmp_path / "box.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    service = make_service(tls_cert_file=str(cert), tls_key_file=str(key), read_timeout_s=2.0)
    port = service.listener.port  # type: ignore[union-attr]
    context = ssl.create_default_context(cafile=str(cert))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as conn,
    ):
        conn.sendall(SB + (CORPUS / "s12_pl_cr.hl7").read_bytes() + EB + CR)
        data = b""
        while not data.endswith(EB + CR):
            data += conn.recv(65536)
    assert msa(hl7.parse(data.strip(SB + EB + CR).decode())) == ("AA", "PL-0001")
    # A plain-TCP sender gets no ACK and changes nothing.
    before = counts(store)
    assert exchange(port, SB + (CORPUS / "s12_ko_lf.hl7").read_bytes() + EB + CR) == b""
    assert counts(store) == before
