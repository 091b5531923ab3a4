"""A minimal kamailio 5.6 around the box's ``route[SECURITY]``, for testing it alone.

The script loads what ``appliance/edge/kamailio/security.cfg`` says the main
script provides (modules, ``EDGE_TRUSTED``, the ``seclog`` table, the shared
counters), includes the file itself, and behind ``route(SECURITY)`` plays a
plain core: OPTIONS 200, INVITE 486 (busy, a business refusal), REGISTER a
401 digest challenge, other known methods 481. Every request that gets past
the security route is logged as ``PASSED <Call-ID>`` (test data only), so a
test can say what would have reached PJSUA. UDP and TCP on the same port;
jsonrpc on a datagram socket for counters and memory.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from tests.integration.sip.peers.common import REPO, free_port, stop, tail
from tests.integration.sip.peers.kamailio import modules_dir

SECURITY_CFG = REPO / "appliance" / "edge" / "kamailio" / "security.cfg"

TEMPLATE = """#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=2
tcp_children=2
auto_aliases=no
dns=no
rev_dns=no
use_dns_cache=off
listen=udp:127.0.0.1:@PORT@
listen=tcp:127.0.0.1:@PORT@
alias="127.0.0.1:@PORT@"

#!substdef "!EDGE_TRUSTED!@TRUSTED@!g"

loadpath "@MODULES@"
loadmodule "jsonrpcs.so"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "auth.so"
loadmodule "htable.so"
loadmodule "pike.so"
loadmodule "ipops.so"

modparam("jsonrpcs", "transport", 4)
modparam("jsonrpcs", "dgram_socket", "@DIR@/rpc.sock")
modparam("htable", "htable", "seclog=>size=8;autoexpire=60;")
modparam("pv", "shvset", "sec_malformed=i:0")
modparam("pv", "shvset", "sec_flood=i:0")
modparam("pv", "shvset", "sec_untrusted=i:0")
modparam("pike", "sampling_time_unit", 2)
modparam("pike", "reqs_density_per_unit", 30)
modparam("pike", "remove_latency", 4)

include_file "@SECURITY@"

request_route {
    route(SECURITY);
    xlog("L_INFO", "PASSED $si $ci\\n");
    if (is_method("ACK")) {
        exit;
    }
    if (is_method("OPTIONS")) {
        sl_send_reply("200", "OK");
        exit;
    }
    if (is_method("INVITE")) {
        sl_send_reply("486", "Busy Here");
        exit;
    }
    if (is_method("REGISTER")) {
        auth_challenge("clinicbox.test", "0");
        exit;
    }
    sl_send_reply("481", "Call/Transaction Does Not Exist");
}
"""


def _answers_options(source_ip: str, port: int, timeout: float = 0.2) -> bool:
    """Whether 127.0.0.1:``port`` answers an OPTIONS sent from ``source_ip``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source_ip, 0))
        s.settimeout(timeout)
        lport = s.getsockname()[1]
        msg = (
            f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {source_ip}:{lport};branch=z9hG4bK{uuid.uuid4().hex[:12]};rport\r\n"
            f"From: <sip:probe@{source_ip}>;tag=p{lport}\r\nTo: <sip:127.0.0.1:{port}>\r\n"
            f"Call-ID: {uuid.uuid4().hex}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        s.sendto(msg.encode(), ("127.0.0.1", port))
        try:
            return s.recv(4096).startswith(b"SIP/2.0 200")
        except OSError:
            return False


class SecurityEdge:
    """kamailio with the box's security route on 127.0.0.1:``port`` (UDP and TCP).

    Args:
        workdir: its cfg, log and jsonrpc socket.
        trusted: the networks EDGE_TRUSTED stands for.
        probe_ip: a trusted address the start-up check sends its OPTIONS from.
        security_cfg: the file under test (the tree's own by default).
    """

    def __init__(
        self,
        workdir: Path,
        *,
        trusted: str = "127.0.0.1/32",
        probe_ip: str = "127.0.0.1",
        security_cfg: Path = SECURITY_CFG,
        start_timeout: float = 10.0,
    ) -> None:
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.cfg = self.dir / "kamailio.cfg"
        self.cfg.write_text(
            TEMPLATE.replace("@PORT@", str(self.port))
            .replace("@TRUSTED@", trusted)
            .replace("@MODULES@", modules_dir() + "/")
            .replace("@DIR@", str(self.dir))
            .replace("@SECURITY@", str(security_cfg)),
            encoding="utf-8",
        )
        self.log = self.dir / "kamailio.log"
        self._logfh = self.log.open("wb")
        argv = ["kamailio", "-f", str(self.cfg), "-DD", "-E", "-w", str(self.dir)]
        argv += ["-P", str(self.dir / "kamailio.pid"), "-Y", str(self.dir)]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._logfh, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + start_timeout
        while not _answers_options(probe_ip, self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise AssertionError(f"kamailio did not start on 127.0.0.1:{self.port}:\n{tail(self.log)}")

    def running(self) -> bool:
        return self.proc.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def rpc(self, method: str, *params: Any, timeout: float = 3.0) -> Any:
        """One jsonrpc call over the datagram socket; its ``result``."""
        me = self.dir / f"rpc-{uuid.uuid4().hex[:8]}.sock"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.bind(str(me))
            try:
                s.settimeout(timeout)
                req = {"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1}
                s.sendto(json.dumps(req).encode(), str(self.dir / "rpc.sock"))
                reply = json.loads(s.recv(65536).decode())
            finally:
                me.unlink(missing_ok=True)
        if "error" in reply:
            raise AssertionError(f"jsonrpc {method}: {reply['error']}")
        return reply["result"]

    def counter(self, name: str) -> int:
        """A shared counter of the security route (``pv.shvGet``)."""
        result = self.rpc("pv.shvGet", name)
        rows = result if isinstance(result, list) else [result]
        return int(rows[0]["value"])

    def close(self) -> None:
        stop(self.proc, timeout=5)
        self._logfh.close()

    def __enter__(self) -> SecurityEdge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
