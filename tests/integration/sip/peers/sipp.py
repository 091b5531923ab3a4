"""SIPp (Debian's sip-tester) with inline XML scenarios.

:func:`uac_xml` builds a caller: INVITE with a chosen caller ID and extra
headers, then a list of steps (G.711 audio and RFC 4733 digits replayed
from the pcaps sip-tester ships, pauses), then BYE — or it waits for the
far end's BYE. :func:`uas_xml` builds a callee for the box's outgoing
calls. :class:`SippScenario` runs one with free ports and reads SIPp's
statistics file for the counts.
"""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from tests.integration.sip.peers.common import free_port, stop, tail

PCAPS = Path("/usr/share/sip-tester")
_DIGIT_PCAP = {
    **{str(d): f"dtmf_2833_{d}.pcap" for d in range(10)},
    "#": "dtmf_2833_pound.pcap",
    "*": "dtmf_2833_star.pcap",
}

#: A step: ("audio", seconds) plays G.711 A-law speech; ("dtmf", "12#") sends
#: RFC 4733 digits 300 ms apart; ("pause", ms) waits.
Step = tuple[str, object]

_SDP = """v=0
o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
"""


def _steps(steps: Sequence[Step]) -> str:
    out = []
    for kind, value in steps:
        if kind == "audio":
            out.append(f'<nop><action><exec play_pcap_audio="{PCAPS / "g711a.pcap"}"/></action></nop>')
            out.append(f'<pause milliseconds="{int(float(str(value)) * 1000)}"/>')
        elif kind == "dtmf":
            for digit in str(value):
                out.append(f'<nop><action><exec play_pcap_audio="{PCAPS / _DIGIT_PCAP[digit]}"/></action></nop>')
                out.append('<pause milliseconds="300"/>')
        elif kind == "pause":
            out.append(f'<pause milliseconds="{int(str(value))}"/>')
        else:
            raise ValueError(f"unknown SIPp step {kind!r}; use audio, dtmf or pause")
    return "\n  ".join(out)


def uac_xml(
    *,
    caller: str = "+12125550100",
    headers: dict[str, str] | None = None,
    steps: Sequence[Step] = (("audio", 1.0),),
    hangup: bool = True,
    expect: int = 200,
    follow_routes: bool = False,
) -> str:
    """A calling scenario. With ``expect`` other than 200 the call must be
    refused with that code (e.g. 403) and the scenario ends there. With
    ``follow_routes`` the ACK and BYE go along the 200's Record-Route to its
    Contact, as a provider's proxy sends them (RFC 3261 12.2.1.1); without,
    to the address called, as a simple trunk does."""
    extra = "".join(f"{escape(k)}: {escape(v)}\n      " for k, v in (headers or {}).items())
    invite = f"""<send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
      {extra}Content-Type: application/sdp
      Content-Length: [len]

      {_SDP}]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>"""
    target = "[next_url]" if follow_routes else "sip:[service]@[remote_ip]:[remote_port]"
    routes = "[routes]\n      " if follow_routes else ""
    ack = (
        """<send><![CDATA[
      ACK {target} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      {routes}Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
      ]]></send>""".replace("{caller}", caller)
        .replace("{target}", target)
        .replace("{routes}", routes)
    )
    if expect != 200:
        body = f'<recv response="{expect}"/>\n  {ack}'
    else:
        if hangup:
            end = f"""<send retrans="500"><![CDATA[
      BYE {target} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      {routes}Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0
      ]]></send>
  <recv response="200" crlf="true"/>"""
        else:
            end = """<recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
      ]]></send>"""
        rrs = ' rrs="true"' if follow_routes else ""
        body = f'<recv response="200" rtd="true"{rrs}/>\n  {ack}\n  {_steps(steps)}\n  {end}'
    return f'<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="clinicbox-uac">\n  {invite}\n  {body}\n</scenario>\n'


def desk_stations(count: int, port: int, prefix: str = "desk") -> dict[str, dict[str, object]]:
    """``count`` front-desk stations that are desk phones played by one SIPp UAS on ``port`` (auto answer)."""
    return {
        f"{prefix}{i}": {
            "name": f"{prefix.title()} {i}",
            "contact": f"sip:{prefix}{i}@127.0.0.1:{port}",
            "queues": ["front-desk"],
            "answer_mode": "auto",
        }
        for i in range(count)
    }


def uas_xml(*, ring_ms: int = 0, steps: Sequence[Step] = (), hangup: bool = False) -> str:
    """A callee: answers one INVITE (after ``ring_ms`` of ringing), runs the
    steps, then hangs up itself (``hangup``) or waits for the BYE.

    Raises:
        ValueError: a ``dtmf`` step. sip-tester's digit pcaps carry RTP payload
            type 101, and a PJSUA2 caller offers 120 for telephone-event, so the
            digits would be dropped; use :class:`SipUA` as the callee instead.
    """
    if any(kind == "dtmf" for kind, _ in steps):
        raise ValueError("SIPp as callee cannot send digits to a PJSUA2 caller (pcap payload type 101 vs 120)")
    reply = """<send><![CDATA[
      SIP/2.0 {code}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:sipp@[local_ip]:[local_port]>
      {tail}
      ]]></send>"""
    ringing = reply.format(code="180 Ringing", tail="Content-Length: 0\n")
    ok = reply.format(code="200 OK", tail=f"Content-Type: application/sdp\n      Content-Length: [len]\n\n      {_SDP}")
    capture = ""
    if hangup:
        capture = (
            '<action><ereg regexp=".*" search_in="hdr" header="From:" assign_to="remote_from"/>'
            '<ereg regexp=".*" search_in="hdr" header="To:" assign_to="local_to"/></action>'
        )
        end = """<send retrans="500"><![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$local_to];tag=[pid]SIPpTag01[call_number]
      To: [$remote_from]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0
      ]]></send>
  <recv response="200"/>"""
    else:
        end = """<recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
      ]]></send>"""
    pause = f'<pause milliseconds="{ring_ms}"/>' if ring_ms else ""
    return (
        '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="clinicbox-uas">\n'
        f'  <recv request="INVITE" crlf="true" rrs="true">{capture}</recv>\n  {ringing}\n  {pause}\n  {ok}\n'
        f'  <recv request="ACK" crlf="true"/>\n  {_steps(steps)}\n  {end}\n</scenario>\n'
    )


@dataclass(frozen=True)
class SippResult:
    returncode: int
    successful: int
    failed: int
    log: str


class SippScenario:
    """One SIPp run on 127.0.0.1.

    Example:
        >>> with SippScenario(uac_xml(steps=[("dtmf", "1")]), tmp_path, target=f"127.0.0.1:{port}") as s:  # doctest: +SKIP
        ...     assert s.wait(10).successful == 1
    """

    def __init__(
        self,
        xml: str,
        workdir: Path,
        *,
        target: str = "",
        service: str = "100",
        calls: int = 1,
        concurrent: int = 1,
        rate: float = 10.0,
        port: int = 0,
        timeout_s: float = 30.0,
        extra: Sequence[str] = (),
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.media_port = free_port()
        name = f"sipp-{self.port}"
        self.scenario = self.workdir / f"{name}.xml"
        self.scenario.write_text(xml, encoding="ascii")
        self.stats = self.workdir / f"{name}-stats.csv"
        self.log = self.workdir / f"{name}.log"
        argv = ["sipp", "-sf", str(self.scenario), "-i", "127.0.0.1", "-mi", "127.0.0.1"]
        argv += ["-p", str(self.port), "-mp", str(self.media_port), "-m", str(calls), "-l", str(concurrent)]
        argv += ["-r", str(rate), "-s", service, "-timeout", f"{int(timeout_s)}s", "-timeout_error"]
        argv += ["-trace_stat", "-stf", str(self.stats), "-fd", "1", "-nostdin", *extra]
        if target:
            argv.append(target)
        self.argv = argv
        self._logfh = self.log.open("wb")
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=self._logfh, stderr=subprocess.STDOUT, cwd=self.workdir
        )

    @property
    def uri(self) -> str:
        """Where to call this SIPp (as a callee)."""
        return f"sip:sipp@127.0.0.1:{self.port}"

    def wait(self, timeout: float = 30.0) -> SippResult:
        """Wait for SIPp to finish its calls; its counts from the statistics file."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = stop(self.proc)
        self._logfh.close()
        ok, failed = _counts(self.stats)
        return SippResult(code, ok, failed, tail(self.log, 60))

    def close(self) -> None:
        stop(self.proc, timeout=3)
        if not self._logfh.closed:
            self._logfh.close()

    def __enter__(self) -> SippScenario:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _counts(stats: Path) -> tuple[int, int]:
    """(successful, failed) calls from SIPp's ``-stf`` CSV (its last row)."""
    try:
        rows = list(csv.reader(stats.read_text(encoding="ascii", errors="replace").splitlines(), delimiter=";"))
    except OSError:
        return 0, 0
    if len(rows) < 2:
        return 0, 0
    head, last = rows[0], rows[-1]
    row = dict(zip(head, last, strict=False))
    return int(row.get("SuccessfulCall(C)", 0) or 0), int(row.get("FailedCall(C)", 0) or 0)
