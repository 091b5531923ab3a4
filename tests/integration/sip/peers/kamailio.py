"""kamailio 5.6 as the clinic's SIP provider (ITSP): registrar + proxy with digest auth.

The routing script is the one the team checked on this machine
(``shared/peers/kamailio-itsp.cfg``), kept here as a template so the test
suite carries everything it needs: the listen port, the "PSTN" gateway
(where authenticated calls to numbers nobody registered go) and the user
table are filled in per test, and the work folder is the test's own.
"""

from __future__ import annotations

import glob
import socket
import subprocess
import time
import uuid
from pathlib import Path

from tests.integration.sip.peers.common import free_port, stop, tail

TEMPLATE = """#!KAMAILIO
# ClinicBox test provider: registrar + proxy + digest auth (users in an htable).
debug=2
log_stderror=yes
fork=yes
children=2
disable_tcp=yes
auto_aliases=no
listen=udp:127.0.0.1:@PORT@
alias="127.0.0.1:@PORT@"
dns=no
rev_dns=no
use_dns_cache=off

loadpath "@MODULES@"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "htable.so"

modparam("usrloc", "db_mode", 0)
modparam("registrar", "max_expires", 3600)
modparam("htable", "htable", "users=>size=4;")
#!define PSTN_GW "@PSTN_GW@"

event_route[htable:mod-init] {
@USERS@
}

request_route {
    if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
    if (!sanity_check("1511", "7")) { xlog("L_WARN", "malformed $rm from $si:$sp\\n"); exit; }
    xlog("L_INFO", "REQ $rm $ru from $fu ($si:$sp)\\n");

    if (has_totag()) {
        if (loose_route()) { t_relay(); exit; }
        if (is_method("ACK")) { if (t_check_trans()) t_relay(); exit; }
        sl_send_reply("404", "Not here");
        exit;
    }
    if (is_method("CANCEL")) { if (t_check_trans()) t_relay(); exit; }
    t_check_trans();

    if (is_method("REGISTER")) {
        if (!pv_auth_check("$fd", "$sht(users=>$fU)", "0", "1")) {
            auth_challenge("$fd", "1");
            exit;
        }
        consume_credentials();
        if (!save("location")) sl_reply_error();
        exit;
    }
    if (is_method("OPTIONS") && uri == myself && $rU == $null) { sl_send_reply("200", "OK"); exit; }

    if (is_method("INVITE|MESSAGE")) {
        if (!pv_auth_check("$fd", "$sht(users=>$fU)", "0", "1")) {
            proxy_challenge("$fd", "1");
            exit;
        }
        consume_credentials();
        record_route();
    }
    if (lookup("location")) { t_relay(); exit; }
    if (!is_method("INVITE|MESSAGE")) { sl_send_reply("404", "Not Found"); exit; }
    $ru = PSTN_GW;
    t_relay();
}
"""

#: The accounts of the checked script: the box's trunk and a "PSTN caller".
DEFAULT_USERS = {"trunk1": "secret", "caller": "callerpw"}


def modules_dir() -> str:
    """Where Debian put kamailio's modules (the path names the architecture)."""
    found = sorted(glob.glob("/usr/lib/*/kamailio/modules")) or sorted(glob.glob("/usr/lib/kamailio/modules"))
    if not found:
        raise AssertionError("kamailio modules not found; apt-get install kamailio")
    return found[0]


def render(port: int, pstn_gw: str, users: dict[str, str]) -> str:
    lines = "\n".join(f'    $sht(users=>{u}) = "{p}";' for u, p in users.items())
    return (
        TEMPLATE.replace("@PORT@", str(port))
        .replace("@MODULES@", modules_dir() + "/")
        .replace("@PSTN_GW@", pstn_gw)
        .replace("@USERS@", lines)
    )


def options_ping(port: int, timeout: float = 0.5) -> bool:
    """Whether something answers a SIP OPTIONS on 127.0.0.1:``port`` with 200."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(timeout)
        lport = s.getsockname()[1]
        branch, call_id = f"z9hG4bK{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
        msg = (
            f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch={branch};rport\r\n"
            f"From: <sip:probe@127.0.0.1:{lport}>;tag=p{lport}\r\nTo: <sip:127.0.0.1:{port}>\r\n"
            f"Call-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        s.sendto(msg.encode(), ("127.0.0.1", port))
        try:
            data = s.recv(4096)
        except OSError:
            return False
        return data.startswith(b"SIP/2.0 200")


class Kamailio:
    """The provider on 127.0.0.1:``port``.

    Args:
        workdir: its cfg, pid file and runtime folder.
        pstn_port: where calls to unregistered numbers go (a SipUA or SIPp
            playing "the PSTN"); 0 = a free port nobody listens on.
        users: user → password of its digest table.

    Example:
        >>> with Kamailio(tmp_path / "kam") as kam:                          # doctest: +SKIP
        ...     SipUA(tmp_path, registrar=kam.uri, user="caller", password="callerpw")
    """

    def __init__(
        self, workdir: Path, *, pstn_port: int = 0, users: dict[str, str] | None = None, start_timeout: float = 10.0
    ) -> None:
        self.dir = Path(workdir)
        (self.dir / "run").mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.pstn_port = pstn_port or free_port()
        self.users = dict(users or DEFAULT_USERS)
        self.cfg = self.dir / "kamailio.cfg"
        self.cfg.write_text(render(self.port, f"sip:127.0.0.1:{self.pstn_port}", self.users), encoding="utf-8")
        self.log = self.dir / "kamailio.log"
        self._logfh = self.log.open("wb")
        argv = ["kamailio", "-f", str(self.cfg), "-DD", "-E", "-w", str(self.dir)]
        argv += ["-P", str(self.dir / "kamailio.pid"), "-Y", str(self.dir / "run")]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._logfh, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + start_timeout
        while not options_ping(self.port, 0.2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise AssertionError(f"kamailio did not start on 127.0.0.1:{self.port}:\n{tail(self.log)}")

    @property
    def uri(self) -> str:
        """The registrar / outbound proxy URI: ``sip:127.0.0.1:PORT``."""
        return f"sip:127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        stop(self.proc, timeout=5)
        self._logfh.close()

    def __enter__(self) -> Kamailio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
