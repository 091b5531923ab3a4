"""The web UI's defences that apply to every request.

- The secret key that signs session ids is generated once into
  ``<state_dir>/web-secret.key`` (0600); it is never a constant, so two
  boxes never share one and a source leak reveals nothing.
- CSRF: every state-changing request (POST, PUT, PATCH, DELETE) carries
  the session's token, in a form field ``csrf_token`` or an
  ``X-CSRF-Token`` header (fetch requests), and a cross-origin
  ``Origin`` header is refused outright.
- Headers: a Content-Security-Policy without inline script or style,
  framing denied, no MIME sniffing, no referrer, and ``no-store`` on every
  page (patient data must not linger in a shared front-desk browser's
  cache); static assets alone are cacheable.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import stat
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Request, Response, abort, request, session

log = logging.getLogger(__name__)

SECRET_NAME = "web-secret.key"
SECRET_BYTES = 64
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def load_secret_key(state_dir: Path) -> bytes:
    """Read the web secret, creating it (0600, atomically) on first start."""
    path = Path(state_dir) / SECRET_NAME
    try:
        st = path.stat()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(SECRET_BYTES)
        tmp = path.with_name(f".{SECRET_NAME}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # never replaces a key another process just wrote
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        log.info("generated the web UI's secret key in %s", path)
        return path.read_bytes()
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        os.chmod(path, 0o600)
        log.warning("%s was readable by others; its mode is now 0600", path)
    key = path.read_bytes()
    if len(key) < 32:
        raise OSError(f"{path} is shorter than 32 bytes; delete it and restart the web UI to make a new one")
    return key


def csrf_token() -> str:
    """This session's CSRF token (created on first use)."""
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return str(token)


def _same_origin(req: Request) -> bool:
    """False only for a request that says it comes from another site.

    A missing or opaque (``null``) origin proves nothing either way; the
    CSRF token still has to match.
    """
    origin = req.headers.get("Origin")
    if not origin or origin == "null":
        return True
    return urlsplit(origin).netloc == req.host


def check_csrf() -> None:
    """``before_request``: refuse state changes without the session's token."""
    if request.method not in UNSAFE_METHODS:
        return
    if not _same_origin(request):
        abort(403, description="cross-site request refused")
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not sent or not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, description="csrf")


def set_headers(response: Response, behind_tls: bool) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), geolocation=(), payment=(), microphone=(self)"
    if behind_tls:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if request.endpoint == "static":
        headers["Cache-Control"] = "public, max-age=3600"
    else:
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response


def install(app: Flask, behind_tls: bool) -> None:
    app.before_request(check_csrf)
    app.after_request(lambda response: set_headers(response, behind_tls))
    app.jinja_env.globals["csrf_token"] = csrf_token
