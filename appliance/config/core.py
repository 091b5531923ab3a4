"""Config sections every part of the box reads: the clinic, paths, store, logs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from appliance.config import checks
from appliance.config.schema import setting


@dataclass(frozen=True)
class ClinicSettings:
    name: str = setting(doc="The clinic's name, spoken in greetings and reminders.")
    country: str = setting(
        doc="ISO 3166 country code; sets phone number format and emergency number.",
        check=checks.country,
    )
    timezone: str = setting(doc="IANA time zone for business hours and reminders.", check=checks.timezone)
    languages: list[str] = setting(
        doc="Languages patients can choose (en, es, pl, tr, ko, zh).", choices=checks.LANGUAGES
    )
    default_language: str = setting(
        doc="Language of the greeting and of patients with none set.", choices=checks.LANGUAGES
    )
    phone_number: str = setting(
        doc="The clinic's public number (E.164), read out as the callback number.",
        check=checks.e164_or_empty,
    )
    emergency_number: str = setting(
        doc="Emergency number announced by the IVR; empty = by country (112/911/119/120).",
        check=checks.dial_string,
    )


@dataclass(frozen=True)
class PathsSettings:
    state_dir: Path = setting(doc="Where the database, voicemail, recordings, prompt cache and backups live.")
    run_dir: Path = setting(doc="Runtime directory: control socket, pid files.")
    key_file: Path = setting(doc="The store key file (0600). Under systemd, $CREDENTIALS_DIRECTORY/store.key wins.")
    secrets_file: Path = setting(
        doc="TOML with the secrets (trunk password, modem PIN, station passwords), 0600, read and written"
        " only by the core; each station's password is copied to station-secrets/<id>.password beside it."
    )
    edge_dir: Path = setting(
        doc="The SIP edge's runtime folder: its rendered kamailio.cfg, pid file, RPC socket, and the"
        " desk phones' digest hashes (credentials/, written by the core, read by the edge)."
    )
    edge_state_dir: Path = setting(
        doc="The SIP edge's own lasting files: the self-signed TLS certificate it makes when"
        " edge.tls_port is set and edge.tls_cert_file is empty (tls/edge.crt, tls/edge.key)."
    )


@dataclass(frozen=True)
class StoreSettings:
    busy_timeout_ms: int = setting(doc="How long a writer waits for a lock before failing.", min=100, max=60000)
    backup_keep: int = setting(doc="How many nightly backups to keep in state_dir/backups.", min=1, max=365)
    min_free_mb: int = setting(doc="Refuse imports and recordings when less disk than this is free.", min=1, max=100000)
    cache_mb: int = setting(
        doc="Page cache (decrypted pages) per ordinary database connection, in MB.", min=2, max=1024
    )
    lookup_cache_mb: int = setting(doc="Page cache of the core's caller-ID lookup connection, in MB.", min=8, max=2048)
    report_cache_mb: int = setting(doc="Page cache of the connection KPI reports run on, in MB.", min=8, max=2048)


@dataclass(frozen=True)
class RetentionSettings:
    calls_days: int = setting(doc="Keep call records this many days.", min=30, max=3650)
    recordings_days: int = setting(doc="Delete call recordings after this many days.", min=1, max=3650)
    voicemail_days: int = setting(doc="Delete voicemail after this many days.", min=1, max=3650)
    audit_days: int = setting(doc="Keep the audit log this many days (law often requires years).", min=365, max=36500)


@dataclass(frozen=True)
class ClockSettings:
    assume_synced: bool = setting(doc="Trust the system clock without NTP (simulation, dev machines only).")


@dataclass(frozen=True)
class LoggingSettings:
    level: str = setting(doc="DEBUG, INFO, WARNING or ERROR.", check=checks.log_level)
    sip_trace: bool = setting(doc="Log every SIP message to the clinicbox.wire.sip logger (numbers masked).")
    at_trace: bool = setting(doc="Log modem AT traffic to the clinicbox.wire.at logger (numbers and text masked).")


@dataclass(frozen=True)
class WebSettings:
    host: str = setting(doc="Address waitress listens on (nginx terminates TLS in front of it).")
    port: int = setting(doc="TCP port of the web UI.", min=1, max=65535)
    unix_socket: str = setting(doc="Listen on this Unix socket instead of host:port (appliance behind nginx).")
    threads: int = setting(doc="waitress worker threads.", min=1, max=64)
    idle_logout_min: int = setting(doc="Log a user out after this many idle minutes.", min=1, max=720)
    login_max_failures: int = setting(doc="Failed logins before the account is locked for a while.", min=3, max=20)
    lockout_min: int = setting(doc="How long a locked account stays locked.", min=1, max=1440)
    behind_tls: bool = setting(
        doc="Set Secure cookies and HSTS, and take the client address from nginx's X-Forwarded-For"
        " (loopback peer only); true when nginx serves HTTPS in front."
    )
    live_streams: int = setting(
        doc="Live-update connections (dashboards, consoles) served at once; each has a waitress thread of its own.",
        min=1,
        max=200,
    )
    max_upload_mb: int = setting(doc="Largest upload accepted (CSV import, prompt recording).", min=1, max=64)


@dataclass(frozen=True)
class ControlSettings:
    socket_group: str = setting(
        doc="Unix group allowed to use the control socket (the web UI's group); empty = owner only."
    )
    allowed_users: list[str] = setting(
        doc="Users besides root and the core's own user who may command the core (a technician's account);"
        " stations never belong here."
    )
