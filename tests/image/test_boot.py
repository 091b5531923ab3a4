"""The amd64 image under KVM with real systemd: first boot, every unit, READY=1 and
the watchdog, the sandboxing, HTTPS, a SIP call from this machine and the
read-only root across a power cycle. The tests run in file order on one guest;
figures go to tests/output/image/figures.json and the test output.

Run by ``make image-test``; not in ``make test``. QEMU uses KVM where this machine
can run KVM guests, else TCG (tests/image/guest.py says which; the figures name it).
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port
from tests.image.conftest import ARTEFACTS
from tests.image.guest import (
    HOST_FROM_GUEST,
    SLOWDOWN,
    Guest,
    accelerator,
    image_arch,
    image_board,
    image_from_env,
)

# Under TCG a boot takes minutes: far beyond pytest's default timeout (pyproject: 300 s).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

FIGURES: dict[str, float] = {}
FIRST: dict[str, str] = {}
UNITS = (
    "clinicbox-first-boot.service",
    "clinicbox-core.service",
    "clinicbox-edge.service",
    "clinicbox-web.service",
    "nginx.service",
    "chrony.service",
    "systemd-networkd.service",
    "clinicbox-usb-reset.path",
    "clinicbox-backup.timer",
)
# The box's record of itself that must survive a power cycle unchanged.
FINGERPRINT = (
    "sha256sum /etc/clinicbox/store.key /etc/clinicbox/tls/web.crt /etc/clinicbox/tls/web.key; "
    "stat -c '%n %i %W' /var/lib/clinicbox/clinicbox.db /etc/clinicbox/store.key /etc/clinicbox/tls/web.crt"
)
# The provider sends the ACK and BYE along the edge's Record-Route, as RFC 3261 asks of it.
SIPP_CALL = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="clinicbox-image-call">
  <send retrans="500"><![CDATA[
    INVITE sip:+15550100@[remote_ip]:[remote_port] SIP/2.0
    Via: SIP/2.0/[transport] [local_ip]:[local_port];rport;branch=[branch]
    From: <sip:+12125550100@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
    To: <sip:+15550100@[remote_ip]:[remote_port]>
    Call-ID: [call_id]
    CSeq: 1 INVITE
    Contact: <sip:+12125550100@[local_ip]:[local_port]>
    Max-Forwards: 70
    Content-Type: application/sdp
    Content-Length: [len]

    v=0
    o=sipp 1 1 IN IP[local_ip_type] [local_ip]
    s=-
    c=IN IP[media_ip_type] [media_ip]
    t=0 0
    m=audio [media_port] RTP/AVP 8 0
    a=rtpmap:8 PCMA/8000
    a=rtpmap:0 PCMU/8000
  ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send><![CDATA[
    ACK [next_url] SIP/2.0
    Via: SIP/2.0/[transport] [local_ip]:[local_port];rport;branch=[branch]
    From: <sip:+12125550100@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
    [last_To:]
    [routes]
    Call-ID: [call_id]
    CSeq: 1 ACK
    Max-Forwards: 70
    Content-Length: 0
  ]]></send>
  <pause milliseconds="1000"/>
  <send retrans="500"><![CDATA[
    BYE [next_url] SIP/2.0
    Via: SIP/2.0/[transport] [local_ip]:[local_port];rport;branch=[branch]
    From: <sip:+12125550100@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
    [last_To:]
    [routes]
    Call-ID: [call_id]
    CSeq: 2 BYE
    Max-Forwards: 70
    Content-Length: 0
  ]]></send>
  <recv response="200" crlf="true"/>
</scenario>
"""
# This machine plays the clinic's SIP provider (IP-authenticated, no registration).
TRUNK = f"""
[trunk]
enabled = true
register = false
registrar = "sip:{HOST_FROM_GUEST}:5999"
provider_networks = ["{HOST_FROM_GUEST}/32"]
keepalive_interval_s = 0
"""


def _figure(name: str, value: float) -> None:
    image = image_from_env()
    if image is not None and image_board(image) == "pi":
        name = f"{image_arch(image)}_pi_{name}"  # the Pi board's figures (QEMU's raspi3b) beside the others
    elif image is not None and image_arch(image) != "amd64":
        name = f"{image_arch(image)}_{name}"  # the arm64 guest's figures beside the amd64 ones
    FIGURES[name] = round(value, 1)
    FIGURES["accelerator_" + accelerator()] = 1
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / "figures.json"
    old: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**old, **FIGURES}, indent=2) + "\n")
    print(f"figure: {name} = {value:.1f}")


def _show(guest: Guest, unit: str, *props: str) -> dict[str, str]:
    out = guest.ssh(f"systemctl show {unit} " + " ".join(f"-p {p}" for p in props)).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def _call(guest: Guest, work: Path, timeout_s: int = 6) -> subprocess.CompletedProcess[str]:
    scenario = work / "call.xml"
    scenario.write_text(SIPP_CALL)
    argv = ["sipp", "-sf", str(scenario), "-m", "1", "-l", "1", "-i", "127.0.0.1", "-p", str(free_port())]
    argv += ["-timeout", f"{timeout_s}s", "-timeout_error", "-recv_timeout", "4000", "-nostdin", "-bg"]
    argv = [a for a in argv if a != "-bg"]
    argv.append(f"127.0.0.1:{guest.sip_port}")
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s + 10, cwd=work)


@pytest.fixture(scope="module")
def box(guest: Guest) -> Guest:
    """The guest after its first boot: SSH up and the core active."""
    started = guest.start()
    guest.wait_ssh(timeout=240 * SLOWDOWN)
    guest.wait_active("clinicbox-core.service", timeout=180 * SLOWDOWN)
    _figure("first_boot_to_core_active_s", time.monotonic() - started)
    return guest


def test_first_boot_creates_the_store_the_certificate_and_a_setup_code(box: Guest) -> None:
    ran = _show(box, "clinicbox-first-boot.service", "ActiveState", "Result", "ConditionResult")
    assert ran == {"ActiveState": "active", "Result": "success", "ConditionResult": "yes"}, ran
    listing = box.ssh(
        "stat -c '%n %U:%G %a' /var/lib/clinicbox/clinicbox.db /etc/clinicbox/store.key "
        "/etc/clinicbox/tls/web.crt /etc/clinicbox/tls/web.key /var/lib/clinicbox/setup-code.json"
    ).stdout.split("\n")
    owners = {line.split()[0]: line.split()[1:] for line in listing if line}
    FIRST["fingerprint"] = box.ssh(FINGERPRINT).stdout
    assert owners["/etc/clinicbox/store.key"] == ["root:root", "600"]
    assert owners["/etc/clinicbox/tls/web.key"][1] == "600"
    assert owners["/var/lib/clinicbox/clinicbox.db"][0] == "clinicbox:clinicbox"
    codes = json.loads(box.read("/var/lib/clinicbox/setup-code.json"))["codes"]
    assert list(codes) == ["console"]  # one code, from the core's first start
    # The code reached the box's screen (the serial console here), logged just after READY=1.
    until = time.monotonic() + 30 * SLOWDOWN
    while not re.search(r"enter the setup code [0-9A-Z]{4}-", box.console_tail(400_000)):
        assert time.monotonic() < until, "the setup code never reached the console"
        time.sleep(1)
    # The data partition and its filesystem grew to the end of the 4 GB disk (from 256 MiB).
    disk, start, size = (
        int(x)
        for x in box.ssh(
            f"cat /sys/class/block/{box.disk_dev}/size /sys/class/block/{box.partition(3)}/{{start,size}}"
        ).stdout.split()
    )
    assert disk - (start + size) < 2048, (disk, start, size)  # sectors: less than 1 MiB left
    fs = int(box.ssh("df -B1 --output=size /data | tail -n1").stdout)
    assert fs > 2 * 1024**3, fs
    verify = box.ssh("clinicbox --config /etc/clinicbox/clinicbox.toml db verify", check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_the_guest_runs_the_images_own_architecture_and_engine(box: Guest) -> None:
    """An arm64 image boots an aarch64 kernel and runs its own aarch64 engine (not a copy of the host's)."""
    image = image_from_env()
    arch = image_arch(image) if image is not None else "amd64"
    machine = {"amd64": "x86_64", "arm64": "aarch64"}[arch]
    where = "/opt/clinicbox/bin/python -c 'import _pjsua2; print(_pjsua2.__file__)'"
    # ELF e_machine (bytes 18-19): b7 00 is aarch64, 3e 00 is x86-64
    out = box.ssh(f'uname -m; dpkg --print-architecture; od -An -tx1 -j18 -N2 "$({where})"')
    kernel, dpkg_arch, engine = [line.strip() for line in out.stdout.strip().splitlines()[:3]]
    assert (kernel, dpkg_arch) == (machine, arch), out.stdout
    assert engine == {"x86_64": "3e 00", "aarch64": "b7 00"}[machine], out.stdout


def test_the_board_boots_its_kernel_from_its_own_disk(box: Guest) -> None:
    """virt: the root from the virtio disk. pi: from the SD card, on the Pi 3's device
    tree, with the kernel its config.txt names (read by the test, as the Pi's firmware would)."""
    assert box.ssh("findmnt -n -o SOURCE /media/root-ro").stdout.strip() == f"/dev/{box.partition(2)}"
    assert "root=LABEL=clinicbox-root" in box.read("/proc/cmdline")
    if box.board == "pi":
        model = box.ssh("tr -d '\\000' < /proc/device-tree/model").stdout
        assert model.startswith("Raspberry Pi 3 Model B"), model
        release = box.ssh("uname -r").stdout.strip()
        config = box.ssh("mount -o ro /boot/firmware && cat /boot/firmware/config.txt; umount /boot/firmware").stdout
        assert f"kernel=vmlinuz-{release}" in config.splitlines(), config


def test_every_unit_is_active_and_none_failed(box: Guest) -> None:
    states = box.ssh("systemctl is-active " + " ".join(UNITS), check=False).stdout.split()
    assert dict(zip(UNITS, states, strict=True)) == dict.fromkeys(UNITS, "active")
    failed = box.ssh("systemctl list-units --failed --plain --no-legend").stdout.strip()
    assert failed == "", failed
    assert box.ssh("systemctl is-system-running", check=False).stdout.strip() == "running"


def test_the_core_sent_ready_and_pets_the_watchdog(box: Guest) -> None:
    props = ("Type", "NotifyAccess", "StatusText", "WatchdogUSec", "WatchdogTimestampMonotonic", "NRestarts")
    first = _show(box, "clinicbox-core.service", *props)
    assert first["Type"] == "notify" and first["WatchdogUSec"] == "30s"
    # Type=notify units are active only after READY=1; STATUS= came with it.
    assert first["StatusText"] == "ClinicBox core running"
    time.sleep(12)
    second = _show(box, "clinicbox-core.service", *props)
    pets = int(second["WatchdogTimestampMonotonic"]) - int(first["WatchdogTimestampMonotonic"])
    assert pets > 0, "no WATCHDOG=1 in 12 s"
    assert second["NRestarts"] == first["NRestarts"] == "0"


def _in_unit(box: Guest, unit: str, command: str) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in the unit's mount namespace as its user and groups."""
    pid = _show(box, unit, "MainPID")["MainPID"]
    return box.ssh(
        f"nsenter -t {pid} -m -- setpriv --reuid=$(stat -c %u /proc/{pid}) --regid=$(stat -c %g /proc/{pid}) "
        f"--groups=$(ps -o supgid= -p {pid} | tr -d ' ') --inh-caps=-all --bounding-set=-all -- sh -c '{command}'",
        check=False,
    )


def test_the_core_writes_only_its_read_write_paths(box: Guest) -> None:
    pid = _show(box, "clinicbox-core.service", "MainPID")["MainPID"]
    status = box.read(f"/proc/{pid}/status")
    assert re.search(r"^CapEff:\s+0+$", status, re.M) and re.search(r"^NoNewPrivs:\s+1$", status, re.M)
    assert re.search(r"^Seccomp:\s+2$", status, re.M)
    # As root in the core's mount namespace: the system is read-only there.
    for path in ("/etc/probe", "/usr/probe", "/opt/clinicbox/probe", "/data/probe", "/var/tmp/../probe"):
        done = box.ssh(f"nsenter -t {pid} -m -- touch {path}", check=False)
        assert done.returncode != 0 and "Read-only file system" in done.stderr, (path, done.stderr)
    ok = _in_unit(box, "clinicbox-core.service", "touch /var/lib/clinicbox/.probe && rm /var/lib/clinicbox/.probe")
    assert ok.returncode == 0, ok.stderr
    assert _in_unit(box, "clinicbox-core.service", "ls /root").returncode != 0  # ProtectHome


def test_the_web_ui_cannot_read_the_store_key_or_the_secrets(box: Guest) -> None:
    key = _in_unit(box, "clinicbox-web.service", "cat /etc/clinicbox/store.key")
    assert key.returncode != 0 and "Permission denied" in key.stderr, key
    secrets = _in_unit(box, "clinicbox-web.service", "ls /etc/clinicbox/secrets")
    assert secrets.returncode != 0 and "Permission denied" in secrets.stderr, secrets
    # The same user outside the sandbox would list it: the unit is what forbids it.
    assert (
        box.ssh("setpriv --reuid=clinicbox --regid=clinicbox --init-groups ls /etc/clinicbox/secrets").returncode == 0
    )


def test_nginx_serves_the_web_ui_with_the_first_boot_certificate(box: Guest) -> None:
    served = ssl.get_server_certificate(("127.0.0.1", box.https_port), timeout=10)
    on_box = box.read("/etc/clinicbox/tls/web.crt")
    assert ssl.PEM_cert_to_DER_cert(served) == ssl.PEM_cert_to_DER_cert(on_box)
    code = subprocess.run(
        ["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", f"https://127.0.0.1:{box.https_port}/setup"],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    assert code == "200", code


def _usb_reset(box: Guest, request: str) -> dict[str, Any]:
    """Write a USB reset request as the core does (user clinicbox, /run/clinicbox); the path unit serves it."""
    box.ssh("rm -f /run/clinicbox/usb-reset.result")
    encoded = base64.b64encode(request.encode()).decode()
    box.ssh(
        "setpriv --reuid=clinicbox --regid=clinicbox --init-groups sh -c "
        f"'umask 027; echo {encoded} | base64 -d > /run/clinicbox/.request && "
        "mv /run/clinicbox/.request /run/clinicbox/usb-reset.request'"
    )
    until = time.monotonic() + 30 * SLOWDOWN
    while time.monotonic() < until:
        done = box.ssh("cat /run/clinicbox/usb-reset.result", check=False)
        if done.returncode == 0 and done.stdout:
            assert box.ssh("test -e /run/clinicbox/usb-reset.request", check=False).returncode == 1
            result: dict[str, Any] = json.loads(done.stdout)
            return result
        time.sleep(1)
    raise AssertionError(
        f"no answer to {request!r}: {box.ssh('systemctl status clinicbox-usb-reset.service', check=False).stdout}"
    )


def test_usb_reset_requests_are_served_by_the_path_unit_and_bad_ones_refused(box: Guest) -> None:
    nonce = "0123456789abcdef0123"
    # A well-formed request for a port with no modem behind it (the VM has none): refused by the root helper.
    absent = _usb_reset(box, json.dumps({"port": "1-1", "nonce": nonce}))
    assert absent["nonce"] == nonce and absent["ok"] is False and "1-1" in absent["detail"], absent
    # Garbage: refused with no nonce; the helper never touches sysfs for it.
    garbage = _usb_reset(box, '{"port": "../../../power/state", "nonce": "x"}')
    assert garbage == {"nonce": "", "ok": False, "detail": garbage["detail"]} and garbage["detail"], garbage
    # The path unit fired once per request, and stays armed.
    assert box.ssh("systemctl is-active clinicbox-usb-reset.path").stdout.strip() == "active"
    journal = box.ssh("journalctl -b -u clinicbox-usb-reset.service --no-pager -o cat").stdout
    assert journal.count("USB reset request refused") >= 2, journal


def test_a_stopped_core_is_restarted_by_the_watchdog(box: Guest) -> None:
    before = _show(box, "clinicbox-core.service", "MainPID", "NRestarts")
    box.ssh(f"kill -STOP {before['MainPID']}")
    stopped = time.monotonic()
    killed = ready = 0.0
    while time.monotonic() - stopped < 90 * SLOWDOWN:
        now = _show(box, "clinicbox-core.service", "MainPID", "ActiveState", "SubState")
        if not killed and now["MainPID"] != before["MainPID"]:
            killed = time.monotonic() - stopped
        if killed and now["ActiveState"] == "active" and now["SubState"] == "running":
            ready = time.monotonic() - stopped
            break
        time.sleep(0.5)
    assert killed and ready, f"the core was not restarted within {90 * SLOWDOWN} s: {now}"
    journal = box.ssh("journalctl -b -u clinicbox-core --no-pager -o cat").stdout
    assert "Watchdog timeout (limit 30s)!" in journal
    after = _show(box, "clinicbox-core.service", "NRestarts")
    assert int(after["NRestarts"]) == int(before["NRestarts"]) + 1
    _figure("watchdog_stop_to_kill_s", killed)
    _figure("watchdog_stop_to_core_ready_s", ready)
    # WatchdogSec=30: systemd kills the silent core within the watchdog period (plus this loop's polling).
    assert killed <= 30 + 3


def test_cold_boot_answers_a_call_and_the_root_keeps_no_change(box: Guest, tmp_path: Path) -> None:
    # The clinic's provider (this machine) is configured on the data partition, as a bundle would.
    box.ssh(f"cat >> /etc/clinicbox/clinicbox.toml <<'EOF'\n{TRUNK}EOF")
    # Changes to the system: they land in the RAM overlay only.
    box.ssh("touch /etc/ro-probe /usr/ro-probe /opt/clinicbox/ro-probe && echo changed > /etc/hostname")
    # The edge's state (desk phones' registrations, its TLS pair) is on the data partition.
    box.ssh("echo kept > /var/lib/clinicbox-edge/power-cycle-probe")
    assert box.ssh("test -e /usr/ro-probe", check=False).returncode == 0
    box.poweroff()
    started = box.start()
    answered = 0.0
    while time.monotonic() - started < 240 * SLOWDOWN:
        if not box.alive():
            pytest.fail(f"QEMU exited: {box.qemu_errors()}")
        if _call(box, tmp_path).returncode == 0:
            answered = time.monotonic() - started
            break
        time.sleep(0.5)
    assert answered, f"no call answered within {240 * SLOWDOWN} s; console: {box.console_tail()}"
    _figure("power_on_to_answered_call_s", answered)
    box.wait_ssh(timeout=60 * SLOWDOWN)
    left = box.ssh("ls /etc/ro-probe /usr/ro-probe /opt/clinicbox/ro-probe 2>&1; cat /etc/hostname", check=False)
    assert left.stdout.count("No such file") == 3 and left.stdout.strip().endswith("clinicbox"), left.stdout
    assert box.ssh("findmnt -n -o FSTYPE /").stdout.strip() == "overlay"
    assert "ro" in box.ssh("findmnt -n -o OPTIONS /media/root-ro").stdout.split(",")
    assert "/edge-state" in box.ssh("findmnt -n -o SOURCE /var/lib/clinicbox-edge").stdout
    assert box.read("/var/lib/clinicbox-edge/power-cycle-probe").strip() == "kept"
    assert box.ssh("test -f /var/lib/clinicbox-edge/registrations/location", check=False).returncode == 0
    box.ssh("rm /var/lib/clinicbox-edge/power-cycle-probe")
    # First boot ran once: the store, its key and the certificate are the first boot's.
    ran = _show(box, "clinicbox-first-boot.service", "ConditionResult")
    assert ran["ConditionResult"] == "no"
    assert box.ssh(FINGERPRINT).stdout == FIRST["fingerprint"]
    codes = json.loads(box.read("/var/lib/clinicbox/setup-code.json"))["codes"]
    assert list(codes) == ["console"]
    # The core recorded the call in the store on the data partition (it may still be closing the record).
    until = time.monotonic() + 30
    while time.monotonic() < until:
        rows = json.loads(box.ssh("clinicbox --config /etc/clinicbox/clinicbox.toml calls --json").stdout)
        if rows:
            break
        time.sleep(1)
    assert rows and rows[0]["direction"] == "inbound", rows
