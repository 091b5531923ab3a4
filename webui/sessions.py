"""Server-side sessions, idle logout and login throttling.

The browser holds only a signed, random session id (cookie ``HttpOnly``,
``SameSite=Strict``, ``Secure`` behind TLS); the session itself lives in
this process's memory. So logging out, resetting a user's password or
disabling an account ends their sessions at once, and idle logout is
decided by the server, not by a cookie the browser could replay. A restart
of the web process logs everyone out, which on an appliance is acceptable
and safer than persisting sessions.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, Signer
from werkzeug.datastructures import CallbackDict

Monotonic = Callable[[], float]


@dataclass
class _Record:
    data: dict[str, Any]
    created: float
    last_seen: float


class SessionStore:
    """Sessions by id. Logged-in sessions expire after ``idle_s`` without
    activity; anonymous ones (a login form's CSRF token) after ``anon_ttl_s``."""

    def __init__(
        self,
        idle_s: float,
        *,
        monotonic: Monotonic = time.monotonic,
        anon_ttl_s: float = 3600,
        max_sessions: int = 5000,
    ) -> None:
        self.idle_s = idle_s
        self.anon_ttl_s = anon_ttl_s
        self.max_sessions = max_sessions
        self._mono = monotonic
        self._lock = threading.Lock()
        self._records: dict[str, _Record] = {}
        self._last_purge = monotonic()

    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(32)

    def _expired(self, rec: _Record, now: float) -> bool:
        limit = self.idle_s if rec.data.get("uid") else self.anon_ttl_s
        return now - rec.last_seen > limit

    def get(self, sid: str) -> dict[str, Any] | None:
        """The session's data, or ``None`` if unknown or expired (then dropped)."""
        now = self._mono()
        with self._lock:
            rec = self._records.get(sid)
            if rec is None:
                return None
            if self._expired(rec, now):
                del self._records[sid]
                return None
            return dict(rec.data)

    def idle_seconds(self, sid: str) -> float:
        with self._lock:
            rec = self._records.get(sid)
            return self._mono() - rec.last_seen if rec else float("inf")

    def alive(self, sid: str) -> bool:
        return self.get(sid) is not None

    def save(self, sid: str, data: dict[str, Any]) -> None:
        now = self._mono()
        with self._lock:
            rec = self._records.get(sid)
            if rec is None:
                if len(self._records) >= self.max_sessions:
                    self._evict(now)
                self._records[sid] = _Record(dict(data), now, now)
            else:
                rec.data = dict(data)
            if now - self._last_purge > 60:
                self._purge(now)

    def touch(self, sid: str) -> None:
        """Count activity (a page or an action, not a live-update stream)."""
        with self._lock:
            rec = self._records.get(sid)
            if rec is not None:
                rec.last_seen = self._mono()

    def drop(self, sid: str) -> None:
        with self._lock:
            self._records.pop(sid, None)

    def drop_user(self, uid: int, keep: str | None = None) -> int:
        """End every session of one user (password reset, disabled, role change)."""
        with self._lock:
            doomed = [s for s, r in self._records.items() if r.data.get("uid") == uid and s != keep]
            for s in doomed:
                del self._records[s]
            return len(doomed)

    def count(self) -> int:
        with self._lock:
            return len(self._records)

    def _purge(self, now: float) -> None:
        for sid in [s for s, r in self._records.items() if self._expired(r, now)]:
            del self._records[sid]
        self._last_purge = now

    def _evict(self, now: float) -> None:
        self._purge(now)
        if len(self._records) >= self.max_sessions:
            # Anonymous sessions go first, oldest first: a flood of login-page
            # visits must not log out the staff.
            anon = sorted((r.last_seen, s) for s, r in self._records.items() if not r.data.get("uid"))
            for _, sid in anon[: max(1, len(anon) // 2)]:
                del self._records[sid]


class ServerSession(CallbackDict, SessionMixin):  # type: ignore[type-arg]
    def __init__(self, data: dict[str, Any] | None, sid: str, new: bool) -> None:
        def on_update(_: Any) -> None:
            self.modified = True

        super().__init__(data or {}, on_update)
        self.sid = sid
        self.new = new
        self.modified = False
        self.regenerated_from: str | None = None
        self.ended = False

    def regenerate(self) -> None:
        """A new id for the same data (after login: no session fixation)."""
        self.regenerated_from = self.sid
        self.sid = SessionStore.new_id()
        self.modified = True


class ServerSessionInterface(SessionInterface):
    """Flask session interface over a :class:`SessionStore`."""

    def __init__(self, store: SessionStore, secure: bool) -> None:
        self.store = store
        self.secure = secure

    def cookie_name(self) -> str:
        # __Host- pins the cookie to this origin, path / and HTTPS.
        return "__Host-cbx" if self.secure else "cbx_session"

    def _signer(self, app: Flask) -> Signer:
        return Signer(app.secret_key, salt="clinicbox-session")  # type: ignore[arg-type]

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        raw = request.cookies.get(self.cookie_name())
        if raw:
            try:
                sid = self._signer(app).unsign(raw).decode("ascii")
            except (BadSignature, UnicodeDecodeError):
                sid = ""
            data = self.store.get(sid) if sid else None
            if data is not None:
                return ServerSession(data, sid, new=False)
            fresh = ServerSession(None, SessionStore.new_id(), new=True)
            fresh.ended = bool(sid)  # a genuine cookie whose session ended (idle, logout, restart)
            return fresh
        return ServerSession(None, SessionStore.new_id(), new=True)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        name = self.cookie_name()
        if session.regenerated_from:
            self.store.drop(session.regenerated_from)
        if not session:
            if not session.new:
                self.store.drop(session.sid)
                response.delete_cookie(name, path="/", secure=self.secure, httponly=True, samesite="Strict")
            return
        if session.modified or session.new:
            self.store.save(session.sid, dict(session))
        if session.new or session.regenerated_from:
            response.set_cookie(
                name,
                self._signer(app).sign(session.sid.encode("ascii")).decode("ascii"),
                httponly=True,
                secure=self.secure,
                samesite="Strict",
                path="/",
            )


@dataclass
class LoginThrottle:
    """Failed logins per client address in a sliding window.

    The store locks an *account* after repeated failures; this stops one
    address trying many accounts (password spraying) or hammering the
    unlock page.
    """

    limit: int = 10
    window_s: float = 600
    monotonic: Monotonic = time.monotonic
    _fails: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again (0 = now)."""
        now = self.monotonic()
        with self._lock:
            q = self._fails.get(key)
            if not q:
                return 0.0
            while q and now - q[0] > self.window_s:
                q.popleft()
            if len(q) < self.limit:
                return 0.0
            return self.window_s - (now - q[0])

    def failed(self, key: str) -> None:
        with self._lock:
            self._fails.setdefault(key, deque()).append(self.monotonic())
            if len(self._fails) > 10000:
                self._fails.pop(next(iter(self._fails)))

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._fails.pop(key, None)
