"""Retention deletes what is past its limit, media files included, and nothing else."""

from __future__ import annotations

from datetime import timedelta

from appliance.clock import FakeClock
from appliance.config import Config
from appliance.store import calls
from appliance.store.audit import AuditLog
from appliance.store.repos import Repos
from appliance.store.retention import apply_retention
from appliance.store.timefmt import to_db
from tests.conftest import run_cli


def test_old_data_goes_recent_data_stays(cfg: Config, repos: Repos, clock: FakeClock) -> None:
    now = clock.now()
    old, recent = now - timedelta(days=cfg.retention.calls_days + 1), now - timedelta(days=1)
    vault = repos.media
    with repos.store.transaction() as conn:
        for name, started in (("old", old), ("new", recent)):
            calls.insert(conn, uuid=name, direction="inbound", started_at=to_db(started), caller="+48601234567")
            cid = calls.call_id(conn, name)
            vm_at = now - timedelta(days=cfg.retention.voicemail_days + 1) if name == "old" else recent
            conn.execute(
                "INSERT INTO voicemail(mailbox, call_id, caller, received_at, duration_s, media_file)"
                " VALUES ('general', ?, '+48601234567', ?, 3, ?)",
                (cid, to_db(vm_at), f"voicemail/{name}.wav"),
            )
            expires = now - timedelta(seconds=1) if name == "old" else now + timedelta(days=5)
            conn.execute(
                "INSERT INTO recordings(call_id, started_at, duration_s, media_file, expires_at) VALUES (?,?,3,?,?)",
                (cid, to_db(started), f"recordings/{name}.wav", to_db(expires)),
            )
    for name in ("old", "new"):
        vault.write_bytes(f"voicemail/{name}.wav", b"RIFF" + b"x" * 100)
        vault.write_bytes(f"recordings/{name}.wav", b"RIFF" + b"x" * 100)
    audit = AuditLog(repos.store)
    clock.set(now - timedelta(days=cfg.retention.audit_days + 2))
    audit.record("alice", "view", "patient", 1)
    clock.set(now)
    audit.record("bob", "view", "patient", 2)

    report = apply_retention(cfg, repos.store, now)
    assert (report.recordings, report.voicemail, report.calls, report.audit_rows) == (1, 1, 1, 1)
    assert [r[0] for r in repos.store.query("SELECT uuid FROM calls")] == ["new"]
    assert repos.store.query("SELECT media_file FROM voicemail")[0][0] == "voicemail/new.wav"
    assert not vault.exists("voicemail/old.wav") and not vault.exists("recordings/old.wav")
    assert vault.exists("voicemail/new.wav") and vault.exists("recordings/new.wav")
    assert audit.verify().ok  # the chain is re-anchored, not broken
    assert [e.action for e in audit.search(limit=1)] == ["retention"]


def test_backup_into_the_box_folder_keeps_backup_keep(tmp_path, cfg: Config) -> None:
    from appliance.demo.seed import seed

    result = seed(tmp_path / "clinic")
    config = str(result.config_path)
    backups = tmp_path / "clinic" / "backups"
    for _ in range(3):
        out = run_cli("--config", config, "db", "backup", "--to", str(backups))
        assert out.returncode == 0, out.stderr
        (tmp_path / "clinic" / "settings.toml").write_text("[store]\nbackup_keep = 2\n")
    assert len(list(backups.glob("clinicbox-*.tar"))) == 2
    out = run_cli("--config", config, "db", "retention")
    assert out.returncode == 0 and "deleted 0 recordings" in out.stdout
