"""Staff accounts: argon2 hashes, lockout, last manager."""

from __future__ import annotations

import pytest

from appliance.clock import FakeClock
from appliance.errors import AuthError, ValidationError
from appliance.store.repos import Repos


def test_password_is_hashed_with_argon2id(repos: Repos) -> None:
    repos.users.add("anna", "manager", "cli", password="correct horse battery")
    stored = repos.store.query_one("SELECT password_hash FROM users WHERE username = 'anna'")[0]
    assert stored.startswith("$argon2id$") and "correct" not in stored
    assert repos.users.authenticate("anna", "correct horse battery").role == "manager"


def test_lockout_after_repeated_failures_and_release_later(repos: Repos, clock: FakeClock) -> None:
    repos.users.add("anna", "front-desk", "cli", password="correct horse battery")
    for _ in range(repos.users.max_failures):
        with pytest.raises(AuthError, match="wrong user name or password"):
            repos.users.authenticate("anna", "nope nope nope")
    with pytest.raises(AuthError, match="locked"):
        repos.users.authenticate("anna", "correct horse battery")
    clock.advance(repos.users.lockout.total_seconds() + 1)
    assert repos.users.authenticate("anna", "correct horse battery").username == "anna"
    actions = [e.action for e in repos.audit.search(object_type="user")]
    assert "login-failed" in actions and "login" in actions


def test_unknown_user_gets_the_same_message(repos: Repos) -> None:
    with pytest.raises(AuthError, match="^wrong user name or password$"):
        repos.users.authenticate("ghost", "whatever-whatever")


def test_generated_password_must_be_changed(repos: Repos) -> None:
    password = repos.users.add("ben", "technician", "cli")
    assert len(password) >= 16
    assert repos.users.get("ben").must_change_password


@pytest.mark.parametrize(
    ("name", "role", "password", "message"),
    [
        ("a", "manager", "long enough pw", "user names"),
        ("anna", "admin", "long enough pw", "role must be"),
        ("anna", "manager", "short", "at least 10"),
    ],
)
def test_bad_user_input(repos: Repos, name: str, role: str, password: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        repos.users.add(name, role, "cli", password=password)


def test_last_manager_cannot_be_demoted(repos: Repos) -> None:
    repos.users.add("anna", "manager", "cli", password="correct horse battery")
    with pytest.raises(ValidationError, match="last manager"):
        repos.users.update("anna", "cli", role="front-desk")


def test_the_first_manager_is_created_once(repos: Repos) -> None:
    assert not repos.users.has_manager()
    repos.users.add("desk", "front-desk", "cli", password="long enough pw")
    assert not repos.users.has_manager()
    user = repos.users.add_first_manager("amira", "setup", password="correct horse battery")
    assert user.role == "manager" and not user.must_change_password and repos.users.has_manager()
    with pytest.raises(ValidationError, match="manager exists already"):
        repos.users.add_first_manager("other", "setup", password="correct horse battery")
    assert [u.username for u in repos.users.list() if u.role == "manager"] == ["amira"]


def test_the_first_manager_from_a_hash_logs_in_with_its_password(repos: Repos) -> None:
    from appliance.store.users import hash_password

    repos.users.add_first_manager("amira", "provisioning", password_hash=hash_password("correct horse battery"))
    assert repos.users.authenticate("amira", "correct horse battery").role == "manager"


@pytest.mark.parametrize(
    "value",
    ["correct horse battery", "$2b$12$abcdefghijklmnopqrstuv", "$argon2i$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2g"],
)
def test_only_an_argon2id_hash_is_accepted(repos: Repos, value: str) -> None:
    with pytest.raises(ValidationError, match="argon2id"):
        repos.users.add_first_manager("amira", "provisioning", password_hash=value)
    assert repos.users.list() == []
