"""``clinicbox demo --seed-only DIR``: a complete demo clinic in one folder.

The folder holds ``clinicbox.toml``, ``secrets.toml``, the key file, the
encrypted database with demo patients and appointments (written through
the importer, as a clinic's own import would be), and
``first-login.txt`` (mode 0600) with the first manager's login. After
seeding, ``clinicbox --config DIR/clinicbox.toml ...`` works on it.
"""

from __future__ import annotations

import os
import random
import secrets
import socket
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from appliance.clock import SystemClock
from appliance.config import load_config
from appliance.demo.data import LOCATIONS, NAMES, PROVIDERS
from appliance.errors import ClinicBoxError
from appliance.reminders import ReminderPlanner
from appliance.store import Store, followups
from appliance.store.appointments import AppointmentInput
from appliance.store.patient_input import PatientInput
from appliance.store.repos import make_repos
from appliance.store.timefmt import to_db

DEMO_CONFIG = """\
# The ClinicBox demo clinic: simulated hardware, everything on 127.0.0.1.
config_version = 1
simulate = true

[clinic]
name = "Riverside Community Clinic"
country = "US"
timezone = "America/New_York"
languages = ["en", "es", "pl", "tr", "ko", "zh"]
default_language = "en"
phone_number = "+12125550100"

[paths]
state_dir = "."
run_dir = "run"
key_file = "store.key"
secrets_file = "secrets.toml"
edge_dir = "run/edge"
edge_state_dir = "edge-state"

[clock]
assume_synced = true

[web]
host = "127.0.0.1"
port = {web_port}

[sip]
bind_address = "127.0.0.1"
public_address = "127.0.0.1"
port = {sip_port}
rtp_port_start = {rtp_port}
max_calls = 32

[trunk]
# The demo's "provider" is the traffic generator on 127.0.0.1:5080: calls from
# 127.0.0.1 are trusted, outgoing calls (callbacks, reminders) go there.
enabled = true
register = false
registrar = "sip:127.0.0.1:{pstn_port}"
provider_networks = ["127.0.0.1/32"]

[hours]
# Open around the clock so the demo's queue and wallboard move at any hour;
# switch on night mode (web UI or the panel button) to hear the after-hours flow.
monday = ["00:00-24:00"]
tuesday = ["00:00-24:00"]
wednesday = ["00:00-24:00"]
thursday = ["00:00-24:00"]
friday = ["00:00-24:00"]
saturday = ["00:00-24:00"]
sunday = ["00:00-24:00"]
holidays = []

[modem]
# The simulated GSM modem (an EC25 on a pty inside the core): SMS replies and
# the fallback line work without hardware.
enabled = true
simulate = true

[stations.desk1]
name = "Front desk 1"
queues = ["front-desk", "appointments", "results", "billing"]
answer_mode = "manual"

[stations.desk2]
name = "Front desk 2"
queues = ["front-desk", "appointments"]
answer_mode = "auto"

# The GSM gateway: the modem's audio side; a line, not an agent.
[stations.gsm]
name = "GSM gateway"
"""

#: Appended to DEMO_CONFIG: the SIP edge, on for `clinicbox demo` (as on the box).
EDGE_CONFIG = """
# The SIP edge (Kamailio) on sip.port in front of the core, as on the box: desk
# phones register there as desk1/desk2 with their station passwords.
[edge]
enabled = {edge}
core_port = {core_port}
"""

#: The demo's HL7 listener (appended to :data:`DEMO_CONFIG`).
DEMO_HL7 = """
# The practice system's HL7 feed: send SIU/ADT messages here, e.g.
# mllp_send --loose -f message.hl7 -p {hl7_port} 127.0.0.1
[feeds.hl7]
enabled = true
host = "127.0.0.1"
port = {hl7_port}
allowed_senders = ["127.0.0.1"]
"""


@dataclass(frozen=True)
class SeedResult:
    directory: Path
    config_path: Path
    username: str
    password: str
    patients: int
    appointments: int


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def _free_udp_port() -> int:
    """A port nobody uses on 127.0.0.1 now: the core's behind the edge (demos side by side never share one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _phone(rng: random.Random, index: int) -> str:
    return f"+1212555{index % 100:04d}" if index < 100 else f"+1347555{index % 100:04d}"


def seed(
    directory: Path,
    *,
    web_port: int = 8080,
    sip_port: int = 5060,
    rtp_port: int = 16000,
    pstn_port: int = 5080,
    hl7_port: int = 2575,
    now: datetime | None = None,
    edge: bool = False,
    core_port: int = 0,
) -> SeedResult:
    """Write a complete demo clinic into ``directory``.

    Raises:
        ClinicBoxError: the folder already holds a clinic (nothing is overwritten).
    """
    directory = Path(directory).resolve()
    config_path = directory / "clinicbox.toml"
    if config_path.exists() or (directory / "clinicbox.db").exists():
        raise ClinicBoxError(f"{directory} already holds a clinic; choose an empty folder")
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    _write_private(
        config_path,
        DEMO_CONFIG.format(web_port=web_port, sip_port=sip_port, rtp_port=rtp_port, pstn_port=pstn_port)
        + EDGE_CONFIG.format(edge="true" if edge else "false", core_port=core_port or _free_udp_port())
        + DEMO_HL7.format(hl7_port=hl7_port),
    )
    station_secrets = "\n".join(
        f'[stations.{sid}]\npassword = "{secrets.token_urlsafe(12)}"\n' for sid in ("desk1", "desk2", "gsm")
    )
    _write_private(directory / "secrets.toml", station_secrets)
    cfg = load_config(config_path)
    clock = SystemClock(assume_synced=True)
    store = Store.create(cfg.db_path, cfg.paths.key_file, clock=clock, media_dir=cfg.media_dir)
    repos = make_repos(cfg, store, [ReminderPlanner(cfg, store.clock).on_appointment_change])
    rng = random.Random(20260302)
    tz = ZoneInfo(cfg.clinic.timezone)
    now = now or clock.now()
    today = now.astimezone(tz).date()
    stamp = to_db(now)
    people = []
    for i, (family, given, lang) in enumerate(NAMES):
        born = date(1940 + rng.randrange(70), rng.randrange(1, 13), rng.randrange(1, 29))
        people.append(
            PatientInput(
                family_name=family,
                given_name=given,
                date_of_birth=born.isoformat(),
                phones=[_phone(rng, i + 1)],
                language=lang,
                reminder_channel=rng.choice(["sms", "sms", "voice", "both"]),
                external_id=f"DEMO-{i + 1:04d}",
            ).validated(cfg.clinic.country, cfg.clinic.default_language)
        )
    importer = repos.importer
    with store.transaction() as conn:
        # The clinic comes in as an import would bring it: the importer's write path,
        # the appointment hooks (reminder planning) included.
        importer.write_patients(conn, people, stamp)
        patient_ids = [importer.patient_by_external_id(conn, p.external_id) for p in people]
        visits: list[AppointmentInput] = []
        outcomes: dict[int, str] = {}  # index in visits -> the status a past visit ended with
        for day_offset in range(-7, 15):
            day = today + timedelta(days=day_offset)
            if day.weekday() == 6:
                continue
            for slot in range(rng.randrange(3, 7)):
                start = datetime.combine(day, time(8 + slot, rng.choice([0, 30])), tz)
                visits.append(
                    AppointmentInput(
                        patient_id=rng.choice(patient_ids),
                        starts_at=start,
                        duration_min=30,
                        provider=rng.choice(PROVIDERS),
                        location=rng.choice(LOCATIONS),
                        external_id=f"DEMO-A{day_offset + 7:02d}{slot}",
                        source="csv",
                    ).validated()
                )
                if day_offset < 0:
                    outcomes[len(visits) - 1] = rng.choice(["attended", "attended", "attended", "no-show", "cancelled"])
        written = importer.write_appointments(conn, visits, stamp)
        for index, status in outcomes.items():
            repos.appointments.set_status(written[index][0], status, "demo", conn=conn)
        followups.drop_planned(conn, now, "too-late")  # the seeded no-shows are history: no follow-ups
        appointments = len(written)
        repos.audit.append(conn, "demo", "seed", "clinic", "", f"{len(patient_ids)} patients")
    # The demo's logins need not be changed on first use.
    username = "manager"
    password = repos.users.add(username, "manager", "demo", display_name="Clinic Manager", must_change=False)
    others = {
        "frontdesk": repos.users.add(
            "frontdesk", "front-desk", "demo", display_name="Front Desk", station="desk1", must_change=False
        ),
        "tech": repos.users.add("tech", "technician", "demo", display_name="Technician", must_change=False),
    }
    _write_private(directory / "first-login.txt", f"username: {username}\npassword: {password}\n")
    _write_private(
        directory / "demo-logins.txt",
        "".join(
            f"{name} ({role}): {pw}\n"
            for (name, pw), role in zip(others.items(), ("front-desk", "technician"), strict=True)
        ),
    )
    store.close()
    return SeedResult(directory, config_path, username, password, len(patient_ids), appointments)
