"""A SIP provider over TLS for tests: a throwaway CA and a TLS registrar.

:class:`TestCA` makes a CA and server certificates with the ``openssl``
command in a test's tmp dir (nothing is committed, keys die with the dir).
:class:`TlsRegistrar` is a registrar on 127.0.0.1 speaking SIP over TLS
with one of those certificates: it challenges a REGISTER (digest MD5),
accepts the right answer, and records every byte it received after a
handshake, so a test can show that a client which refused the certificate
sent nothing (no REGISTER, no credentials).
"""

from __future__ import annotations

import hashlib
import secrets
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from appliance import sip


@dataclass
class CertPair:
    cert: Path
    key: Path


class TestCA:
    """A CA in ``directory``; :meth:`issue` signs server certificates for given names."""

    __test__ = False  # not a pytest class

    def __init__(self, directory: Path, name: str = "ClinicBox Test CA") -> None:
        self.dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.cert, self.key = directory / "ca.crt", directory / "ca.key"
        self._openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(self.key), "-out", str(self.cert), "-days", "2", "-subj", f"/CN={name}",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )  # fmt: skip

    def issue(self, stem: str, cn: str, dns: list[str]) -> CertPair:
        key, csr, cert = self.dir / f"{stem}.key", self.dir / f"{stem}.csr", self.dir / f"{stem}.crt"
        ext = self.dir / f"{stem}.ext"
        alt = ",".join(f"DNS:{n}" for n in dns)
        ext.write_text(f"subjectAltName={alt}\nextendedKeyUsage=serverAuth,clientAuth\n" if dns else "")
        self._openssl(
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={cn}",
        )  # fmt: skip
        self._openssl(
            "x509", "-req", "-in", str(csr), "-CA", str(self.cert), "-CAkey", str(self.key),
            "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext),
        )  # fmt: skip
        return CertPair(cert, key)

    @staticmethod
    def _openssl(*args: str) -> None:
        done = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=30, check=False)
        if done.returncode != 0:
            raise AssertionError(f"openssl {' '.join(args[:2])} failed: {done.stderr}")


@dataclass
class Connection:
    handshake: str = "pending"  # done, or the server-side error
    opened: float = field(default_factory=time.monotonic)  # when the client connected
    received: bytearray = field(default_factory=bytearray)


class TlsRegistrar:
    """SIP registrar over TLS on 127.0.0.1:``port`` (user ``user`` / ``password``)."""

    def __init__(self, pair: CertPair, user: str, password: str, realm: str = "provider.test") -> None:
        self.user, self.password, self.realm = user, password, realm
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(pair.cert), str(pair.key))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = int(self.sock.getsockname()[1])
        self.connections: list[Connection] = []
        self.registers: list[sip.SipMessage] = []
        self.registered_at: list[float] = []
        self._lock = threading.Lock()
        self._closing = False
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def received(self) -> bytes:
        with self._lock:
            return b"".join(bytes(c.received) for c in self.connections)

    def wait(self, predicate: object, timeout: float = 10.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if callable(predicate) and predicate():
                return
            time.sleep(0.05)
        raise AssertionError(f"registrar: timed out waiting for {what}; connections: {self.connections}")

    def _accept(self) -> None:
        while not self._closing:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        conn = Connection()
        with self._lock:
            self.connections.append(conn)
        raw.settimeout(30)
        try:
            tls = self.ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            conn.handshake = f"failed: {exc}"
            raw.close()
            return
        conn.handshake = "done"
        self._open.append(tls)
        buf = b""
        while True:
            try:
                chunk = tls.recv(65535)
            except (ssl.SSLError, OSError):
                break
            if not chunk:
                break
            with self._lock:
                conn.received.extend(chunk)
            buf += chunk
            while (msg := _one_message(buf)) is not None:
                data, buf = msg
                reply = self._answer(data)
                if reply:
                    tls.sendall(reply)
        try:
            tls.close()
        except OSError:
            pass

    def _answer(self, data: bytes) -> bytes:
        try:
            msg = sip.parse(data)
        except sip.SipParseError:
            return b""
        if msg.method != "REGISTER":
            return b""  # keep-alives, responses
        self.registers.append(msg)
        auth = msg.header("authorization")
        if not auth:
            nonce = secrets.token_hex(8)
            extra = f'WWW-Authenticate: Digest realm="{self.realm}", nonce="{nonce}", algorithm=MD5\r\n'
            return _response(msg, 401, "Unauthorized", extra)
        if not self._digest_ok(auth):
            return _response(msg, 403, "Forbidden")
        self.registered_at.append(time.monotonic())
        contact = msg.header("contact")
        return _response(msg, 200, "OK", f"Contact: {contact};expires=300\r\n")

    def _digest_ok(self, auth: str) -> bool:
        fields = dict(
            (k.strip(), v.strip().strip('"'))
            for k, _, v in (part.partition("=") for part in auth.split(" ", 1)[1].split(","))
        )
        ha1 = _md5(f"{self.user}:{self.realm}:{self.password}")
        ha2 = _md5(f"REGISTER:{fields.get('uri', '')}")
        return fields.get("username") == self.user and fields.get("response") == _md5(
            f"{ha1}:{fields.get('nonce', '')}:{ha2}"
        )

    def close(self) -> None:
        self._closing = True
        self.sock.close()
        for s in self._open:
            try:
                s.close()
            except OSError:
                pass


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _one_message(buf: bytes) -> tuple[bytes, bytes] | None:
    buf = buf.lstrip(b"\r\n")
    head, sep, rest = buf.partition(b"\r\n\r\n")
    if not sep:
        return None
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"content-length", b"l"):
            length = int(value.strip() or 0)
    if len(rest) < length:
        return None
    return head + sep + rest[:length], rest[length:]


def _response(req: sip.SipMessage, code: int, reason: str, extra: str = "") -> bytes:
    to = req.header("to")
    if ";tag=" not in to:
        to += ";tag=reg" + secrets.token_hex(4)
    lines = [f"SIP/2.0 {code} {reason}"]
    lines += [f"Via: {v}" for v in req.all("via")]
    lines += [f"From: {req.header('from')}", f"To: {to}", f"Call-ID: {req.header('call-id')}"]
    lines += [f"CSeq: {req.header('cseq')}"]
    return ("\r\n".join(lines) + "\r\n" + extra + "Content-Length: 0\r\n\r\n").encode()
