"""What CI can check of the image recipe without building an image: the overlay compiles, the
boot config matches the panel's pins, every script passes shellcheck, the recipe's dry run stages
a complete image tree, a missing keyring, a wrong package pin or a malformed package list is
refused, the pjproject build is pinned and configured for a clinic's call load. The image itself
is built and booted by `make image-test` (tests/image)."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from appliance.config import defaults_text, load_config
from provisioning.signing import generate_keypair

ROOT = Path(__file__).resolve().parents[3]
FIRMWARE = ROOT / "firmware"
OVERLAY = FIRMWARE / "overlays/clinicbox-panel-overlay.dts"
CONFIG_TXT = FIRMWARE / "boot/config.txt"


def _scripts() -> list[Path]:
    found = []
    for path in sorted(FIRMWARE.rglob("*")):
        if path.is_file() and path.read_bytes()[:2] == b"#!":
            found.append(path)
    return found


def test_overlay_compiles_with_dtc_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "clinicbox-panel.dtbo"
    done = subprocess.run(
        ["dtc", "-@", "-I", "dts", "-O", "dtb", "-o", str(out), str(OVERLAY)], capture_output=True, text=True
    )
    assert done.returncode == 0 and not done.stderr, done.stderr
    dts = subprocess.run(["dtc", "-I", "dtb", "-O", "dts", str(out)], capture_output=True, text=True, check=True).stdout
    assert 'compatible = "gpio-leds"' in dts and 'compatible = "gpio-keys"' in dts
    assert 'linux,default-trigger = "heartbeat"' in dts
    assert "linux,code = <0x74>" in dts  # KEY_POWER
    assert re.search(r"heartbeat_pin = <", dts) and re.search(r"power_pin = <", dts)
    assert re.search(r'gpio = ".*heartbeat:gpios:0.*power:gpios:0"', dts)  # resolved against the Pi's &gpio


def test_config_txt_turns_the_watchdog_on_and_matches_the_panel_pins() -> None:
    lines = [line.strip() for line in CONFIG_TXT.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert "dtparam=watchdog=on" in lines
    assert "dtoverlay=clinicbox-panel" in lines
    assert "enable_uart=1" in lines and "dtparam=i2c_arm=on" in lines
    panel = tomllib.loads(defaults_text())["panel"]
    led_pins = {panel[f"{c}_pin"] for c in ("green", "amber", "red", "blue")}
    (outputs,) = [line for line in lines if line.startswith("gpio=") and line.endswith("=op,dl")]
    assert {int(p) for p in outputs[5:].split("=")[0].split(",")} == led_pins
    (inputs,) = [line for line in lines if line.startswith("gpio=") and line.endswith("=ip,pu")]
    button_pins = {int(p) for p in inputs[5:].split("=")[0].split(",")}
    kernel_pins = {int(m) for m in re.findall(r"<&gpio (\d+) ", OVERLAY.read_text())}
    assert kernel_pins == {24, 25}
    assert not (led_pins & button_pins) and not (kernel_pins & (led_pins | button_pins))


@pytest.mark.parametrize("script", _scripts(), ids=lambda p: str(p.relative_to(FIRMWARE)))
def test_shellcheck(script: Path) -> None:
    done = subprocess.run(["shellcheck", "-x", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_there_are_scripts_to_check() -> None:
    names = {p.name for p in _scripts()}
    assert {
        "build-image.sh",
        "clear-root.sh",
        "customize-image.sh",
        "make-disk.sh",
        "install-in-chroot.sh",
        "build-wheels-in-chroot.sh",
        "build-pjproject.sh",
        "first-boot",
        "ensure-tls-cert",
    } <= names


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("image")
    keys = tmp / "keys"
    generate_keypair(keys / "installer")
    out = tmp / "out"
    argv = [str(FIRMWARE / "image/build-image.sh"), "--dry-run", "--arch", "arm64", "--board", "pi"]
    done = subprocess.run(
        [*argv, "--out", str(out), "--keys", str(keys)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def test_dry_run_stages_a_complete_image_tree(dry_run: tuple[Path, str]) -> None:
    out, _ = dry_run
    stage = out / "stage-arm64-pi"
    units = {p.name for p in (ROOT / "systemd").iterdir() if p.suffix in (".service", ".timer", ".path")}
    assert units <= {p.name for p in (stage / "root/usr/lib/systemd/system").iterdir()}
    for rel in (
        "boot/config.txt",
        "boot/cmdline.txt",
        "boot/overlays/clinicbox-panel.dtbo",
        "root/usr/lib/udev/rules.d/90-clinicbox.rules",
        "root/usr/lib/sysusers.d/clinicbox.conf",
        "root/usr/lib/tmpfiles.d/clinicbox.conf",
        "root/etc/nginx/sites-available/clinicbox",
        "root/etc/systemd/system.conf.d/clinicbox.conf",
        "root/etc/systemd/network/20-wired.network",
        "root/usr/share/clinicbox/installer-keys/installer.pub",
        "root/usr/share/clinicbox/requirements.txt",
        "data/etc-clinicbox/clinicbox.toml",
    ):
        assert (stage / rel).is_file(), rel
    assert (stage / "data/state").is_dir()
    assert (stage / "root/usr/lib/clinicbox/first-boot").stat().st_mode & 0o111
    # Only the boot tests' image (--test-access) lets a test log in.
    assert not (stage / "root/usr/lib/clinicbox/test-access").exists()
    # The manifest lists every staged file with its digest.
    check = subprocess.run(["sha256sum", "-c", "--quiet", "MANIFEST"], cwd=stage, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_dry_run_makes_root_read_only_and_data_a_journaled_ext4_partition(dry_run: tuple[Path, str]) -> None:
    out, plan = dry_run
    stage = out / "stage-arm64-pi"
    fstab = [line.split() for line in (stage / "root/etc/fstab").read_text().splitlines() if line[:1] not in ("#", "")]
    by_mount = {f[1]: f for f in fstab}
    assert "ro" in by_mount["/"][3].split(",") and by_mount["/"][2] == "ext4"
    assert by_mount["/data"][2] == "ext4" and by_mount["/data"][0] == "LABEL=clinicbox-data"
    assert by_mount["/var/lib/clinicbox"][0] == "/data/state" and "bind" in by_mount["/var/lib/clinicbox"][3]
    assert by_mount["/etc/clinicbox"][0] == "/data/etc-clinicbox"
    # A damaged data partition must not stop the boot (clinicbox-data-fault.service reports it),
    # and the mounts stay ordered before local-fs.target, which every unit relies on.
    for mount in ("/data", "/var/lib/clinicbox", "/etc/clinicbox"):
        options = by_mount[mount][3].split(",")
        assert "nofail" in options and "x-systemd.before=local-fs.target" in options, by_mount[mount]
    assert (stage / "root/usr/lib/clinicbox/data-fault").stat().st_mode & 0o111
    assert (stage / "root/etc/overlayroot.local.conf").read_text().strip() == 'overlayroot="tmpfs:recurse=0"'
    assert "root=LABEL=clinicbox-root ro" in (stage / "boot/cmdline.txt").read_text()
    assert "make-disk.sh" in plan
    assert "mkfs.ext4 -q -F -j -L clinicbox-data" in (FIRMWARE / "image/make-disk.sh").read_text()


def test_dry_run_runs_nothing_that_needs_arm_or_root(dry_run: tuple[Path, str]) -> None:
    out, plan = dry_run
    assert not list(out.glob("*.img")) and not (out / "root-arm64-pi").exists()
    assert not (out / "wheelhouse-arm64").exists() and not (out / "source").exists()
    (boot,) = [line for line in plan.splitlines() if line.startswith("+ env ") and " mmdebstrap " in line]
    assert "--architectures=arm64" in boot and " bookworm " in boot
    assert "raspi-firmware=1.20220830+ds-1" in boot and "linux-image-arm64=" in boot
    assert "openssh-server" not in boot  # the boot tests' access is not on a box
    assert re.search(r"--customize-hook=\S*/customize-image\.sh", boot)
    for step in range(1, 5):
        assert f"== {step} " in plan


def test_every_wheel_is_built_inside_the_image_root(dry_run: tuple[Path, str]) -> None:
    _, plan = dry_run
    # Nothing is compiled or resolved on the build host (x86 wheels, host environment markers).
    for line in plan.splitlines():
        assert "pip wheel" not in line and "pip install" not in line, line
        assert "build-pjproject.sh" not in line, line
    # The customize hook builds the wheels in the chroot, then installs from them.
    hook = (FIRMWARE / "image/customize-image.sh").read_text()
    build = hook.index('in_root "$tmp/src/firmware/image/build-wheels-in-chroot.sh"')
    install = hook.index('in_root "$tmp/src/firmware/image/install-in-chroot.sh"')
    assert build < install and 'chroot "$root"' in hook
    done = subprocess.run(
        [str(FIRMWARE / "image/build-wheels-in-chroot.sh"), "--dry-run", "--wheelhouse", "/tmp/clinicbox/wheelhouse"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    inside = done.stdout.splitlines()
    pj = next(i for i, line in enumerate(inside) if line.startswith("+ ") and "build-pjproject.sh" in line)
    own = next(i for i, line in enumerate(inside) if re.match(r"\+ \S+/pip wheel --no-deps ", line))
    deps = next(i for i, line in enumerate(inside) if re.match(r"\+ \S+/pip wheel .*-r /usr/share/clinicbox/", line))
    assert pj < own < deps
    assert "--wheelhouse /tmp/clinicbox/wheelhouse" in inside[pj]
    assert any("apt-get install" in line and "swig" in line for line in inside)  # the engine's build deps
    assert any(line == "+ check_platforms" for line in inside)
    # ...which install-in-chroot.sh installs from, without an index, then removes the compilers.
    install_script = (FIRMWARE / "image/install-in-chroot.sh").read_text()
    assert '--no-index --find-links "$wheelhouse"' in install_script
    assert "apt-get purge" in install_script


def test_a_real_build_without_installer_keys_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "keys"
    bad.mkdir()
    (bad / "oops.pub").write_text("not a key\n")
    done = subprocess.run(
        [str(FIRMWARE / "image/build-image.sh"), "--dry-run", "--out", str(tmp_path / "o"), "--keys", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "is not a PEM public key" in done.stderr


def _check_only(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FIRMWARE / "image/build-image.sh"), "--check-only", "--out", str(tmp_path / "o"), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_build_without_the_archive_keyring_is_refused_before_any_download(tmp_path: Path) -> None:
    done = _check_only(tmp_path, "--keyring", str(tmp_path / "missing.gpg"))
    assert done.returncode == 1
    assert f"the Debian archive keyring {tmp_path / 'missing.gpg'} is missing" in done.stderr
    assert not (tmp_path / "o/apt-amd64/lists").exists()


@pytest.mark.slow
def test_a_keyring_that_did_not_sign_the_archive_is_refused(tmp_path: Path) -> None:
    done = _check_only(tmp_path, "--keyring", "/usr/share/keyrings/debian-archive-removed-keys.gpg")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "apt cannot read Debian bookworm" in done.stderr and "must be signed by a key in it" in done.stderr


@pytest.mark.slow
def test_a_wrong_package_pin_is_refused_with_the_versions_the_archive_has(tmp_path: Path) -> None:
    pins = (FIRMWARE / "image/packages.txt").read_text().replace("nginx=1.22.1-9+deb12u12", "nginx=1.99.0-1")
    (tmp_path / "packages.txt").write_text(pins)
    done = _check_only(tmp_path, "--packages", str(tmp_path / "packages.txt"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(r"nginx 1\.99\.0-1 \(the archive has: .*1\.22\.1-9\+deb12u12", done.stderr), done.stderr
    assert "1 pin(s) in" in done.stderr
    # The pins as shipped are all in the archive.
    good = _check_only(tmp_path)
    assert good.returncode == 0, good.stderr
    assert re.search(r"\d+ pinned packages found in bookworm for amd64", good.stdout)


def test_a_malformed_package_list_is_refused(tmp_path: Path) -> None:
    (tmp_path / "packages.txt").write_text("nginx\npython3=3.11.2-1+b1\n")
    done = _check_only(tmp_path, "--packages", str(tmp_path / "packages.txt"))
    assert done.returncode == 1
    assert 'line 1: "nginx" is not NAME=VERSION [TAG...]' in done.stderr


def _site_macros() -> dict[str, str]:
    done = subprocess.run(
        ["cc", "-dM", "-E", str(FIRMWARE / "pjproject/config_site.h")], capture_output=True, text=True, check=True
    )
    macros = {}
    for line in done.stdout.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3:
            macros[parts[1]] = parts[2]
    return macros


def test_config_site_raises_the_call_limits_and_enables_alsa_tls_srtp() -> None:
    m = _site_macros()
    calls, players, recorders = int(m["PJSUA_MAX_CALLS"]), int(m["PJSUA_MAX_PLAYERS"]), int(m["PJSUA_MAX_RECORDERS"])
    assert calls >= 128 and players >= 128 and recorders >= 128
    assert int(m["PJSUA_MAX_CONF_PORTS"]) >= calls + players + recorders
    assert int(m["PJ_IOQUEUE_MAX_HANDLES"]) >= 4 * calls
    for flag in ("PJMEDIA_AUDIO_DEV_HAS_ALSA", "PJ_HAS_SSL_SOCK", "PJMEDIA_HAS_SRTP"):
        assert m[flag] == "1", flag
    assert m["PJMEDIA_HAS_VIDEO"] == "0"


def test_pjproject_recipe_is_pinned_to_debians_source_and_its_dry_run_checks_config_site(tmp_path: Path) -> None:
    script = FIRMWARE / "pjproject/build-pjproject.sh"
    text = script.read_text()
    assert "RING_VERSION=${CLINICBOX_RING_VERSION:-20230206.0~ds2-1.1+deb12u1}\n" in text
    assert "PJ_COMMIT=3b78ef1c48732d238ba284cdccb04dc6de79c54f\n" in text
    assert "github" not in text.lower() and "curl" not in text  # Debian's archive only
    done = subprocess.run(
        [str(script), "--dry-run", "--work", str(tmp_path / "w"), "--wheelhouse", str(tmp_path / "wh")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "PJSUA_MAX_CALLS=256" in done.stdout
    assert "apt-get source ring=20230206.0~ds2-1.1+deb12u1" in done.stdout
    assert "--enable-epoll" in done.stdout and "config_site.h" in done.stdout
    assert "0001-pjsua2-audio-media-port.patch" in done.stdout
    assert "USE_THREADS=-threads" in done.stdout  # media callbacks come from PJMEDIA's clock thread
    assert not (tmp_path / "w").exists() and not (tmp_path / "wh").exists()


def test_the_engine_recipe_names_the_packages_it_needs() -> None:
    done = subprocess.run(
        [str(FIRMWARE / "pjproject/build-pjproject.sh"), "--print-deps"], capture_output=True, text=True, timeout=10
    )
    assert done.returncode == 0
    deps = done.stdout.split()
    assert {"swig", "libasound2-dev", "libsrtp2-dev", "dpkg-dev"} <= set(deps)
    assert deps == sorted(set(deps), key=deps.index)  # one line each, no repeats


def test_image_requirements_pin_every_dependency_pyproject_allows() -> None:
    pins = {}
    for line in (FIRMWARE / "image/requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", line
            pins[re.sub(r"[-_.]+", "-", req.name).lower()] = spec.version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for dep in project["dependencies"]:
        req = Requirement(dep)
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        assert name in pins, f"{name} is not pinned in firmware/image/requirements.txt"
        assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} violates {dep}"


def test_the_appliance_config_is_valid() -> None:
    text = (FIRMWARE / "image/files/usr/share/clinicbox/clinicbox.toml").read_text()
    cfg = load_config(text=text, use_secrets=False, use_overlay=False)
    assert cfg.simulate is False and cfg.web.behind_tls and cfg.control.socket_group == "clinicbox-web"
    assert cfg.provisioning.service_manager == "systemctl"


def test_the_virt_board_turns_only_the_panel_off_and_keeps_the_sip_edge(tmp_path: Path) -> None:
    # Found under the booted image: the virt board's "no GPIO panel" edit also
    # turned [edge] off, and clinicbox-edge.service then failed every few seconds.
    keys = tmp_path / "keys"
    generate_keypair(keys / "installer")
    argv = [str(FIRMWARE / "image/build-image.sh"), "--dry-run", "--arch", "amd64", "--board", "virt"]
    done = subprocess.run(
        [*argv, "--out", str(tmp_path / "out"), "--keys", str(keys)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    staged = tmp_path / "out/stage-amd64-virt/data/etc-clinicbox/clinicbox.toml"
    cfg = tomllib.loads(staged.read_text())
    assert cfg["panel"]["enabled"] is False
    assert cfg["edge"]["enabled"] is True
