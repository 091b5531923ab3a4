"""The README's runbook "A new clinic in 15 minutes", walked on a fresh box.

A freshly imaged box (a store with no user) runs the real core behind the real
SIP edge (Kamailio), the real ``clinicbox web`` and Debian's Chromium. The
technician's steps, in the README's order, each a function below:

1. flash the card ......... the image tier, ``make image-test`` (tests/image/), and
                             tests/integration/appliance/test_firmware.py; not repeated here
2. plug in, read the panel . tests/unit/panel/test_panel_patterns.py (red steady: no line)
3. get the setup code ...... :func:`step_setup_code` (``clinicbox setup-code``); the screen:
                             tests/unit/setup/test_first_start.py; the USB report:
                             tests/unit/provisioning/test_provision_manager.py
4. set up in the web UI .... :func:`step_setup_in_the_browser` (/setup); wrong code and weak
                             password: tests/webui/test_first_start.py
5. check the trunk ......... :func:`step_trunk_registers` (Dashboard, "SIP trunk: Connected")
6. stations: headsets ...... tests/integration/station/test_station.py
                             (test_udev_start_by_card_and_unplug), test_alsa_audio.py
   or desk phones .......... :func:`step_desk_phone_registers` (Settings › Stations, Settings ›
                             Secrets, baresip); more: tests/integration/edge/test_desk_phones.py
7. hours and the menu ...... :func:`step_opening_hours` (Settings › Opening hours and holidays:
                             the box starts closed, the test call needs it open); the menu:
                             tests/integration/switchboard/test_live_settings.py,
                             tests/integration/switchboard/test_ivr_paths.py
8. the first test call ..... :func:`step_first_test_call` (provider → IVR → key 0 → desk phone)
                             and :func:`step_call_log_shows_it` (Call log)
9. a backup stick .......... tests/integration/appliance/test_backup_stick.py,
                             tests/webui/test_backups_browser.py
10. when a step fails ...... tests/integration/appliance/test_appliance_doctor.py,
                             tests/webui/test_screens.py (Diagnostics › Run the self-test)
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from appliance.config import load_config
from appliance.store import Store
from tests.integration.edge.conftest import Edge, wait_registered, wait_rtp
from tests.integration.edge.test_provider import provider_caller_xml
from tests.integration.sip.conftest import need
from tests.integration.sip.peers.common import child_env
from tests.integration.switchboard.box import REPO, Box
from tests.webui.conftest import Clinic, start_web, stop_web

pytestmark = pytest.mark.timeout(240)

MANAGER = ("amira", "a long manager password")
DESK_PASSWORD = "desk-phone-pass-7"
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class FreshBox(Box):
    """A clinic's files as the image ships them: the store exists but holds no user,
    no station is configured (no station password either), the trunk is off."""

    _fresh = False

    def _spawn(self) -> None:
        if not self._fresh:  # only the first start: a restart keeps what setup made
            cfg = load_config(self.config)
            for path in (cfg.db_path, Path(f"{cfg.db_path}-wal"), Path(f"{cfg.db_path}-shm")):
                path.unlink(missing_ok=True)
            cfg.db_path.with_name(cfg.db_path.name + ".keyid").unlink(missing_ok=True)
            cfg.paths.key_file.unlink()
            Store.create(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir).close()
            secrets = self.dir / "secrets.toml"  # the demo seed's station passwords
            data = tomllib.loads(secrets.read_text())
            data.pop("stations", None)
            secrets.write_text(tomli_w.dumps(data))
            self._fresh = True
        super()._spawn()


@pytest.fixture
def fresh_box(tmp_path: Path) -> Iterator[tuple[FreshBox, Edge, Clinic]]:
    need("kamailio")
    from tests.conftest import free_port

    overlay: dict[str, Any] = {
        "edge": {"enabled": True, "core_port": free_port(), "poll_interval_s": 0.5},
        # The image's trunk: off, registering, no provider yet (the demo seed's differs).
        "trunk": {"enabled": False, "register": True, "registrar": "", "provider_networks": []},
        "stations": {},
        "hours": {**{day: [] for day in DAYS}, "holidays": []},  # closed: step 7 opens the clinic
    }
    b = FreshBox(tmp_path / "box", overlay)
    edge = Edge(b, supervise=True)  # as systemd restarts clinicbox-edge on the box
    web = Clinic(b.dir, b.config, load_config(b.config), {})
    start_web(web)
    yield b, edge, web
    stop_web(web)
    edge.close()
    assert b.stop() == 0, f"the core did not stop cleanly; log:\n{b.tail()}"


def step_setup_code(b: Box) -> str:
    """Step 3: ``clinicbox setup-code`` prints a one-time code while no manager exists."""
    assert b.query("SELECT count(*) FROM users") == [(0,)]
    out = subprocess.run(
        [sys.executable, "-m", "appliance", "--config", str(b.config), "setup-code"],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=REPO,
        timeout=30,
        check=True,
    ).stdout
    found = re.search(r"setup code: (\S+)", out)
    assert found, out
    return found.group(1)


def step_setup_in_the_browser(ui: Any, web: Clinic, code: str, registrar: str) -> None:
    """Step 4: /setup creates the manager, the clinic (name, time zone, country,
    languages) and the trunk with its password, then is gone."""
    ui.goto(web.base_url + "/")
    ui.click("[data-testid=setup-link]")
    ui.fill("#code", code)
    ui.click("[data-testid=setup-claim]")
    ui.wait_for_selector("[data-testid=setup-manager-form]")
    ui.fill("#username", MANAGER[0])
    ui.fill("#display_name", "Amira Haddad")
    ui.fill("#password", MANAGER[1])
    ui.fill("#repeat", MANAGER[1])
    ui.click("[data-testid=setup-next]")

    ui.wait_for_selector("[data-testid=setup-clinic-form]")
    ui.fill("#f-name", "Lakeside Family Practice")
    ui.fill("#f-timezone", "Europe/Warsaw")
    ui.fill("#f-country", "PL")
    for box in ui.query_selector_all("input[name=languages]"):
        if box.get_attribute("value") in ("en", "pl"):
            box.check()
        else:
            box.uncheck()
    ui.select_option("select[name=default_language]", "en")
    ui.click("[data-testid=setup-next]")

    ui.wait_for_selector("[data-testid=setup-trunk-form]")
    ui.check("#f-enabled")
    ui.fill("#f-registrar", registrar)
    ui.fill("#f-username", "trunk1")
    ui.fill("#f-password", "secret")
    ui.click("[data-testid=setup-next]")

    summary = ui.inner_text("[data-testid=setup-summary]")
    assert "Lakeside Family Practice" in summary and "Europe/Warsaw" in summary and "en, pl" in summary, summary
    ui.click("[data-testid=setup-finish]")
    ui.wait_for_selector("[data-testid=logout]")
    assert "This box is set up" in ui.inner_text("[data-testid=notice-ok]")
    assert ui.goto(web.base_url + "/setup").status == 404
    cfg = load_config(web.config_path)
    assert cfg.clinic.name == "Lakeside Family Practice" and cfg.clinic.timezone == "Europe/Warsaw"
    assert cfg.clinic.languages == ["en", "pl"] and cfg.clinic.country == "PL"


def step_trunk_registers(ui: Any, b: Box, web: Clinic) -> None:
    """Step 5: the core registers at the provider, and the dashboard says so."""
    b.wait(lambda s: s["trunk"]["state"] == "up", timeout=20, what="the trunk registered at the provider")
    ui.click("[data-testid=nav-dashboard]")
    ui.wait_for_selector("#trunk-state.state-up")
    assert ui.inner_text("[data-testid=trunk-state]") == "Connected"


def step_desk_phone_registers(ui: Any, b: Box, edge: Edge, phones: Any) -> Any:
    """Step 6: Settings › Stations adds desk1 for the front-desk queue, Settings › Secrets
    sets its password; a desk phone (baresip) with server = the box, user = the
    station id and that password registers."""
    assert b.status()["agents"] == []  # the image has no station
    ui.click("[data-testid=nav-index]")  # "Settings" in the menu
    ui.click("[data-testid=settings-stations]")
    ui.fill("#new-id", "desk1")
    ui.fill("#new-name", "Front desk 1")
    ui.click("button:text-is('Add')")
    ui.wait_for_selector("[data-testid=settings-form]")
    ui.check("input[name=queues][value=front-desk]")
    assert ui.input_value("select[name=answer_mode]") == "manual"
    ui.click("[data-testid=settings-save]")
    assert "Applied now" in ui.inner_text("[data-testid=notice-ok]")
    b.wait(lambda s: [a["station"] for a in s["agents"]] == ["desk1"], timeout=5, what="the new station in the core")
    ui.click("[data-testid=nav-index]")
    ui.click("[data-testid=settings-secrets]")
    name = "stations.desk1.password"
    assert ui.inner_text(f'[data-testid="secret-{name}"] td:first-child') == "Password of station Front desk 1"
    ui.fill(f'[data-testid="secret-{name}"] input[name=value]', DESK_PASSWORD)
    ui.click(f'[data-testid="secret-save-{name}"]')
    assert "is set" in ui.inner_text("[data-testid=notice-ok]")
    assert ui.inner_text(f'[data-testid="secret-state-{name}"]') == "set"
    assert DESK_PASSWORD not in ui.content()
    phone = phones(user="desk1", registrar=f"sip:127.0.0.1:{b.sip_port}", password=DESK_PASSWORD)
    wait_registered(edge, "desk1")
    b.wait(lambda s: b.agent("desk1")["reachable"], timeout=10, what="desk1 reachable once its phone registered")
    return phone


def step_opening_hours(ui: Any, b: Box) -> None:
    """Step 7: Settings › Opening hours and holidays opens the clinic every day, all day
    (so the test call finds it open whenever this runs), applied without a restart."""
    ui.click("[data-testid=nav-index]")
    ui.click("[data-testid=settings-hours]")
    assert ui.inner_text("h1") == "Opening hours and holidays"
    for day in DAYS:
        ui.fill(f"#f-{day}", "00:00-24:00")
    ui.fill("#f-holidays", "")
    ui.click("[data-testid=settings-save]")
    assert "Applied now" in ui.inner_text("[data-testid=notice-ok]")
    assert load_config(b.config).hours.monday == ["00:00-24:00"]


def step_first_test_call(b: Box, provider: Any, sipp_run: Any, phone: Any) -> None:
    """Step 8: a caller at the provider dials the clinic's number, hears the IVR,
    presses 0 (front desk); the desk phone rings and answers."""
    run = sipp_run(
        provider_caller_xml([("audio", 1.0), ("dtmf", "0"), ("audio", 2.0)]),
        target=f"127.0.0.1:{provider.port}",
        service="trunk1",
        extra=["-au", "caller", "-ap", "callerpw"],
    )
    phone.wait_event("CALL_INCOMING", timeout=25)
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", timeout=5)
    wait_rtp(phone)
    b.wait(
        lambda s: any(c["agent"] == "desk1" and c["state"] == "talking" for c in s["calls"]),
        timeout=5,
        what="the provider's caller bridged to desk1",
    )
    time.sleep(3.0)  # the caller's scenario stops talking and waits for the BYE
    phone.hangup()
    result = run.wait(30)
    assert result.successful == 1, result.log
    rec = b.call_record(lambda r: r.agent == "desk1")
    assert (rec.route, rec.disposition, rec.queue) == ("trunk", "answered", "front-desk")
    assert rec.ivr_path[0] == "hours" and "closed" not in rec.ivr_path, rec.ivr_path


def step_call_log_shows_it(ui: Any) -> None:
    """Step 8, seen by the manager: the Call log lists the answered call."""
    ui.click("[data-testid=nav-calls]")
    row = ui.inner_text("[data-testid=call-row]")  # the newest call, the only one
    assert "front-desk" in row and "desk1" in row and "answered" in row.lower(), row


def test_a_new_clinic_in_15_minutes(page, fresh_box, kamailio, baresip, sipp) -> None:
    b, edge, web = fresh_box
    code = step_setup_code(b)
    step_setup_in_the_browser(page, web, code, kamailio.uri)
    step_trunk_registers(page, b, web)
    phone = step_desk_phone_registers(page, b, edge, baresip)
    step_opening_hours(page, b)
    step_first_test_call(b, kamailio, sipp, phone)
    step_call_log_shows_it(page)
    assert DESK_PASSWORD not in edge.text() and DESK_PASSWORD not in (b.dir / "web.log").read_text()
