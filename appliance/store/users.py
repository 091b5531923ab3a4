"""Staff accounts: argon2id password hashes, roles, lockout after failures.

Roles: ``manager`` (everything), ``front-desk`` (console, patients,
schedule, callbacks, voicemail), ``technician`` (diagnostics, never
patient data).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from appliance.errors import AuthError, NotFoundError, ValidationError
from appliance.store.audit import AuditLog
from appliance.store.connection import Store
from appliance.store.timefmt import from_db, to_db

ROLES = ("manager", "front-desk", "technician")
#: A user name: 2-32 characters, letters, digits, ".", "_" or "-", not starting with a sign.
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,31}")
MIN_PASSWORD = 10
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2)
#: Verified against when the user does not exist, so timing does not tell.
_DUMMY_HASH = _hasher.hash("clinicbox-timing-equaliser")


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: str
    language: str
    station: str | None
    disabled: bool
    must_change_password: bool
    locked_until: str | None
    last_login_at: str | None


def generate_password() -> str:
    """A readable random password (for first logins and resets)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def check_password(password: str) -> None:
    """The password policy: every password a person sets passes here.

    Raises:
        ValidationError: too short or too long.
    """
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > 256:
        raise ValidationError("the password is too long (256 characters at most)")


def check_username(username: str) -> None:
    """A user name as :data:`USERNAME` allows.

    Raises:
        ValidationError: not 2-32 letters, digits, '.', '_' or '-'.
    """
    if not USERNAME.fullmatch(username):
        raise ValidationError("user names are 2-32 letters, digits, '.', '_' or '-'")


def hash_password(password: str) -> str:
    """The stored form of ``password`` (argon2id), after the policy check; for
    a provisioning bundle's ``[manager] password_hash``."""
    check_password(password)
    return _hasher.hash(password)


def check_password_hash(value: str) -> None:
    """A hash as the users table stores it: an argon2id PHC string.

    Raises:
        ValidationError: anything else (a clear password above all).
    """
    try:
        params = extract_parameters(value)
    except (InvalidHashError, ValueError):
        raise ValidationError(
            "is not an argon2id password hash ($argon2id$v=19$m=...); make one with: clinicbox user hash-password"
        ) from None
    if params.type is not Type.ID:
        raise ValidationError(
            "must be an argon2id hash (not argon2i or argon2d); make one with: clinicbox user hash-password"
        )


_COLS = (
    "id, username, display_name, role, language, station, disabled, must_change_password, locked_until, last_login_at"
)


def _user(row: object) -> User:
    r = row  # type: ignore[assignment]
    return User(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), bool(r[7]), r[8], r[9])  # type: ignore[index]


class Users:
    def __init__(
        self,
        store: Store,
        audit: AuditLog,
        max_failures: int = 5,
        lockout: timedelta = timedelta(minutes=15),
    ) -> None:
        self.store = store
        self.audit = audit
        self.max_failures = max_failures
        self.lockout = lockout

    def _now(self) -> datetime:
        return self.store.clock.now()

    def add(
        self,
        username: str,
        role: str,
        actor: str,
        password: str | None = None,
        display_name: str = "",
        language: str = "en",
        station: str | None = None,
        must_change: bool | None = None,
    ) -> str:
        """Create a user; returns the password (generated when not given).

        A generated password must be changed at the first login unless
        ``must_change`` says otherwise (the demo clinic's logins)."""
        check_username(username)
        if role not in ROLES:
            raise ValidationError(f"role must be one of {', '.join(ROLES)}")
        generated = password is None
        password = password or generate_password()
        check_password(password)
        now = to_db(self._now())
        with self.store.transaction() as conn:
            if conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
                raise ValidationError(f"user {username!r} already exists")
            cur = conn.execute(
                "INSERT INTO users(username, display_name, role, password_hash, language, station,"
                " must_change_password, password_changed_at, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    username,
                    display_name or username,
                    role,
                    _hasher.hash(password),
                    language,
                    station,
                    int(generated if must_change is None else must_change),
                    now,
                    now,
                ),
            )
            self.audit.append(conn, actor, "user-add", "user", cur.lastrowid, f"role {role}")
        return password

    def has_manager(self) -> bool:
        """Whether any manager account exists (enabled or not): the box is set up."""
        return self.store.query_one("SELECT 1 FROM users WHERE role = 'manager' LIMIT 1") is not None

    def add_first_manager(
        self,
        username: str,
        actor: str,
        *,
        password: str | None = None,
        password_hash: str | None = None,
        display_name: str = "",
        language: str = "en",
    ) -> User:
        """Create the box's first manager (first-run setup, a provisioning bundle).

        Exactly one of ``password`` (checked by the password policy) or
        ``password_hash`` (an argon2id hash, from a bundle) is given. The
        check that no manager exists and the insert are one transaction, so
        two setups racing cannot both win.

        Raises:
            ValidationError: a bad user name, password or hash, or a manager
                exists already (nothing is changed).
        """
        check_username(username)
        if (password is None) == (password_hash is None):
            raise ValueError("give a password or a password hash")
        if password is not None:
            check_password(password)
            stored = _hasher.hash(password)
        else:
            assert password_hash is not None
            check_password_hash(password_hash)
            stored = password_hash
        now = to_db(self._now())
        with self.store.transaction() as conn:
            if conn.execute("SELECT 1 FROM users WHERE role = 'manager' LIMIT 1").fetchone():
                raise ValidationError("a manager exists already: this box is set up")
            if conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
                raise ValidationError(f"user {username!r} already exists")
            cur = conn.execute(
                "INSERT INTO users(username, display_name, role, password_hash, language, station,"
                " must_change_password, password_changed_at, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (username, display_name or username, "manager", stored, language, None, 0, now, now),
            )
            self.audit.append(conn, actor, "user-add", "user", cur.lastrowid, "role manager (first manager)")
        return self.get(username)

    def set_password(self, username: str, password: str | None, actor: str, must_change: bool | None = None) -> str:
        """Set (or generate) a password; returns it."""
        generated = password is None
        password = password or generate_password()
        check_password(password)
        with self.store.transaction() as conn:
            row = conn.execute("SELECT id FROM users WHERE username = ?", (username,)).fetchone()
            if row is None:
                raise NotFoundError(f"no user {username!r}")
            conn.execute(
                "UPDATE users SET password_hash=?, password_changed_at=?, must_change_password=?, failed_logins=0,"
                " locked_until=NULL WHERE id=?",
                (
                    _hasher.hash(password),
                    to_db(self._now()),
                    int(generated if must_change is None else must_change),
                    row[0],
                ),
            )
            self.audit.append(conn, actor, "password-set", "user", row[0])
        return password

    def authenticate(self, username: str, password: str, source: str = "web") -> User:
        """Check a login; count failures and lock the account after too many.

        Raises:
            AuthError: wrong user or password, disabled or locked (the
                message does not say which of user/password was wrong).
        """
        now = self._now()
        row = self.store.query_one(
            f"SELECT {_COLS}, password_hash, failed_logins FROM users WHERE username = ?",
            (username,),
        )
        if row is None:
            try:
                _hasher.verify(_DUMMY_HASH, password)
            except VerificationError:
                pass
            raise AuthError("wrong user name or password")
        user = _user(row)
        locked = from_db(user.locked_until)
        if locked and locked > now:
            raise AuthError("this account is locked after too many failed logins; try again later or ask a manager")
        if user.disabled:
            raise AuthError("this account is disabled")
        try:
            _hasher.verify(row[10], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            with self.store.transaction() as conn:
                failures = int(row[11]) + 1
                lock_until = to_db(now + self.lockout) if failures >= self.max_failures else None
                conn.execute(
                    "UPDATE users SET failed_logins=?, locked_until=? WHERE id=?",
                    (0 if lock_until else failures, lock_until, user.id),
                )
                self.audit.append(
                    conn,
                    f"{source}:{username}",
                    "login-failed",
                    "user",
                    user.id,
                    "locked" if lock_until else "",
                )
            raise AuthError("wrong user name or password") from None
        with self.store.transaction() as conn:
            if _hasher.check_needs_rehash(row[10]):
                conn.execute("UPDATE users SET password_hash=? WHERE id=?", (_hasher.hash(password), user.id))
            conn.execute(
                "UPDATE users SET failed_logins=0, locked_until=NULL, last_login_at=? WHERE id=?",
                (to_db(now), user.id),
            )
            self.audit.append(conn, username, "login", "user", user.id, source)
        return self.get(username)

    def get(self, username: str) -> User:
        row = self.store.query_one(f"SELECT {_COLS} FROM users WHERE username = ?", (username,))
        if row is None:
            raise NotFoundError(f"no user {username!r}")
        return _user(row)

    def get_by_id(self, user_id: int) -> User:
        row = self.store.query_one(f"SELECT {_COLS} FROM users WHERE id = ?", (user_id,))
        if row is None:
            raise NotFoundError(f"no user with id {user_id}")
        return _user(row)

    def list(self) -> list[User]:
        return [_user(r) for r in self.store.query(f"SELECT {_COLS} FROM users ORDER BY username")]

    def update(
        self,
        username: str,
        actor: str,
        *,
        role: str | None = None,
        disabled: bool | None = None,
        language: str | None = None,
        station: str | None = None,
        display_name: str | None = None,
    ) -> None:
        if role is not None and role not in ROLES:
            raise ValidationError(f"role must be one of {', '.join(ROLES)}")
        with self.store.transaction() as conn:
            row = conn.execute("SELECT id, role FROM users WHERE username = ?", (username,)).fetchone()
            if row is None:
                raise NotFoundError(f"no user {username!r}")
            if (role not in (None, "manager") or disabled) and row[1] == "manager":
                managers = conn.execute("SELECT count(*) FROM users WHERE role='manager' AND disabled=0").fetchone()[0]
                if managers <= 1:
                    raise ValidationError("this is the last manager; add another manager first")
            for column, value in (
                ("role", role),
                ("disabled", None if disabled is None else int(disabled)),
                ("language", language),
                ("station", station),
                ("display_name", display_name),
            ):
                if value is not None:
                    conn.execute(f"UPDATE users SET {column} = ? WHERE id = ?", (value, row[0]))
            self.audit.append(conn, actor, "user-update", "user", row[0])
