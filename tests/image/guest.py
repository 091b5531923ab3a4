"""One ClinicBox image booted under QEMU, driven over SSH: the boot tests' machine.

The image (``build-image.sh --test-access``) stays untouched: the guest writes
to a qcow2 overlay (a raw copy on the pi board, see :class:`Guest`), so a power
cut or a reboot acts on the copy as on an SD card. QEMU's user-mode network forwards the box's SIP port (UDP), SSH
and HTTPS to ports on 127.0.0.1 of this machine; the guest reaches this
machine as 10.0.2.2. Root's SSH key is generated per test session and
handed to the guest through fw_cfg (``opt/clinicbox/ssh-key``), which only
the test image reads. Everything the guest prints on its serial console
goes to ``console.log``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.conftest import free_port

OVMF = Path("/usr/share/ovmf/OVMF.fd")
AAVMF = Path("/usr/share/AAVMF/AAVMF_CODE.fd")
#: The address QEMU's user network gives this machine, as the guest sees it.
HOST_FROM_GUEST = "10.0.2.2"


def accelerator() -> str:
    """kvm when this machine can run KVM guests, else tcg (QEMU's emulator, several times slower).

    /dev/kvm alone is not enough: inside a VM without nested virtualisation
    (no vmx/svm flag) KVM guests stop at their first instructions.
    $CLINICBOX_QEMU_ACCEL overrides.
    """
    wanted = os.environ.get("CLINICBOX_QEMU_ACCEL", "")
    if wanted in ("kvm", "tcg"):
        return wanted
    flags = Path("/proc/cpuinfo").read_text()
    nested = " vmx" in flags or " svm" in flags
    return "kvm" if nested and os.access("/dev/kvm", os.R_OK | os.W_OK) else "tcg"


def _env_or_name(variable: str, choices: tuple[str, str], image: Path, named: bool) -> str:
    """$``variable`` when set (one of ``choices``), else ``choices[1]`` if ``named``
    (the image's name says so), else ``choices[0]``."""
    wanted = os.environ.get(variable, "")
    if wanted:
        if wanted not in choices:
            raise GuestError(f"{variable}={wanted!r}: {' or '.join(choices)}")
        return wanted
    return choices[1] if named else choices[0]


def _names(image: Path) -> str:
    return f"{image.name} {image.resolve().name}"


def image_arch(image: Path) -> str:
    """The image's architecture: $CLINICBOX_IMAGE_ARCH, else its name
    (build-image.sh names it clinicbox-ARCH-BOARD-HASH.img, linked as ARCH-BOARD.img)."""
    return _env_or_name("CLINICBOX_IMAGE_ARCH", ("amd64", "arm64"), image, "arm64" in _names(image))


def image_board(image: Path) -> str:
    """The image's board: $CLINICBOX_IMAGE_BOARD, else its name: ``virt`` (UEFI, booted
    under -M q35 or -M virt) or ``pi`` (the Raspberry Pi board, booted under QEMU's
    -M raspi3b the way the Pi's firmware would)."""
    names = _names(image)
    return _env_or_name("CLINICBOX_IMAGE_BOARD", ("virt", "pi"), image, "-pi-" in names or "-pi." in names)


def _slowdown() -> int:
    """How much slower than KVM the waits may be: 4 under TCG, 8 for an arm64 guest
    (always TCG on this x86 machine, and emulating another instruction set)."""
    image = os.environ.get("CLINICBOX_IMAGE", "")
    if image and image_arch(Path(image)) == "arm64":
        return 8
    return 1 if accelerator() == "kvm" else 4


def _halts(console: bytes) -> int:
    """How often the kernel has finished a shutdown on this console (halt or power-off)."""
    return console.count(b"reboot: Power down") + console.count(b"reboot: System halted")


class GuestError(RuntimeError):
    """The guest did not boot, answer or stop in time."""


#: How much slower than KVM the waits may be under TCG.
SLOWDOWN = _slowdown()


class Guest:
    """A QEMU virtual machine booting one ClinicBox disk image."""

    def __init__(
        self,
        image: Path,
        work: Path,
        *,
        arch: str = "amd64",
        board: str = "virt",
        disk_gb: int = 4,
        memory_mb: int = 1024,
    ):
        self.image, self.work, self.arch, self.board = image, work, arch, board
        if board == "pi" and (arch != "arm64" or disk_gb & (disk_gb - 1) or memory_mb != 1024):
            # QEMU's raspi3b: a Pi 3 Model B's 1 GiB, and an SD card of a power-of-two size.
            raise GuestError("the pi board boots an arm64 image with 1024 MiB and a power-of-two disk")
        #: The guest's disk, as its kernel names it: virtio on virt, the SD card on the Pi.
        self.disk_dev = "mmcblk0" if board == "pi" else "vda"
        self.memory_mb = memory_mb
        self.accel = accelerator() if arch == "amd64" else "tcg"
        work.mkdir(parents=True, exist_ok=True)
        if board == "pi":
            # A raw copy (sparse), not a qcow2 overlay: QEMU's SD card sends no cache flush,
            # so a qcow2 overlay's new cluster mappings would stay in QEMU's memory and a
            # power cut (SIGKILL) would lose data the guest had written and synced, which a
            # real SD card keeps. A raw file has no such metadata: every completed write is
            # in this machine's page cache, whatever happens to QEMU.
            self.disk, self.disk_format = work / "disk.img", "raw"
            subprocess.run(["cp", "--sparse=always", str(image.resolve()), str(self.disk)], check=True)
            os.truncate(self.disk, disk_gb << 30)
        else:
            self.disk, self.disk_format = work / "disk.qcow2", "qcow2"
            backing = ["-F", "raw", "-b", str(image.resolve())]
            subprocess.run(
                ["qemu-img", "create", "-q", "-f", "qcow2", *backing, str(self.disk), f"{disk_gb}G"], check=True
            )
        self.key = work / "id_ed25519"
        if not self.key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key)], check=True)
        self.ssh_port = free_port(socket.SOCK_STREAM)
        self.https_port = free_port(socket.SOCK_STREAM)
        self.sip_port = free_port()
        self.console = work / "console.log"
        self.qmp = work / "qmp.sock"
        self.proc: subprocess.Popen[bytes] | None = None
        self.boots = 0
        self._pi_boot: dict[str, str] | None = None

    # -- power ---------------------------------------------------------------------
    def command(self) -> list[str]:
        fwd = (
            f"user,id=n0,hostfwd=udp:127.0.0.1:{self.sip_port}-:5060,"
            f"hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22,hostfwd=tcp:127.0.0.1:{self.https_port}-:443"
        )
        # This machine's side, on every board: the serial console to a file, QMP for
        # USB sticks plugged in at run time, the sound behind hot-plugged USB headsets.
        host = ["-display", "none", "-no-user-config", "-nodefaults"]
        host += ["-chardev", f"file,id=con,path={self.console},append=on", "-serial", "chardev:con"]
        host += ["-qmp", f"unix:{self.qmp},server=on,wait=off", "-audiodev", "none,id=snd0"]
        if self.board == "pi":
            return self._raspi_command(fwd, host)
        common = ["-m", str(self.memory_mb), "-smp", "2", *host]
        common += ["-drive", f"file={self.disk},if=virtio,format=qcow2,cache=writeback,discard=unmap"]
        common += ["-netdev", fwd, "-device", "virtio-net-pci,netdev=n0", "-device", "virtio-rng-pci"]
        common += ["-device", "qemu-xhci"]  # a USB bus, as on the Pi (USB reset, provisioning sticks)
        common += ["-fw_cfg", f"name=opt/clinicbox/ssh-key,file={self.key}.pub"]
        if self.arch == "amd64":
            # UEFI (OVMF) then the image's systemd-boot, as on a PC.
            accel = (
                ["-accel", "kvm", "-cpu", "host"]
                if self.accel == "kvm"
                else ["-accel", "tcg,thread=multi", "-cpu", "max"]
            )
            return ["qemu-system-x86_64", *accel, "-machine", "q35", "-bios", str(OVMF), *common]
        # arm64: TCG on this x86 machine, UEFI (AAVMF) then systemd-boot, as on an arm64 server.
        code = self.work / "aavmf-code.fd"
        if not code.exists():
            shutil.copy(AAVMF, code)
            subprocess.run(["truncate", "-s", "64M", str(code)], check=True)
        flash = ["-drive", f"if=pflash,format=raw,readonly=on,file={code}"]
        # cortex-a72 (the Pi 4's core): "max" adds pointer authentication, which TCG emulates slowly.
        accel = ["-accel", "tcg,thread=multi", "-cpu", "cortex-a72"]
        return ["qemu-system-aarch64", *accel, "-machine", "virt", *flash, *common]

    def partition(self, number: int) -> str:
        """The kernel's name of the disk's partition NUMBER (vda3, mmcblk0p3)."""
        return f"{self.disk_dev}p{number}" if self.disk_dev[-1].isdigit() else f"{self.disk_dev}{number}"

    def _raspi_command(self, fwd: str, host: list[str]) -> list[str]:
        """QEMU's Raspberry Pi 3 Model B, started the way the Pi's firmware starts the image.

        QEMU does not run the Pi's GPU firmware, so this does its part: it reads
        the image's own boot partition (p1, FAT) and starts the kernel and initrd
        its config.txt names (kernel=, initramfs), with the board's device tree
        from the same partition and the partition's cmdline.txt. The image then
        boots from the emulated SD card with its own initramfs and overlayroot;
        the network is a USB Ethernet adapter (the Pi 3's own is on USB too).
        Two additions on the command line, both for the emulator: the test's SSH
        key (raspi3b has no fw_cfg), and modprobe.blacklist=bcm2835_wdt, because
        QEMU's BCM2835 power manager resets the machine the moment a watchdog is
        armed instead of counting down, so systemd's RuntimeWatchdogSec would
        reboot it in a loop (on a Pi the hardware watchdog counts 15 s).
        """
        if self._pi_boot is None:  # read once: every power-on boots the same partition
            self._pi_boot = pi_boot_files(self.image, self.work / "pi-boot")
        files = self._pi_boot
        key_type, blob = Path(f"{self.key}.pub").read_text().split()[:2]
        append = f"{files['cmdline']} modprobe.blacklist=bcm2835_wdt clinicbox.test_ssh_key={key_type}:{blob}"
        argv = ["qemu-system-aarch64", "-accel", "tcg,thread=multi", "-machine", "raspi3b", "-m", "1024", *host]
        argv += ["-kernel", files["kernel"], "-initrd", files["initrd"], "-dtb", files["dtb"], "-append", append]
        argv += ["-drive", f"file={self.disk},if=sd,format=raw,cache=writeback"]
        argv += ["-netdev", fwd, "-device", "usb-net,netdev=n0"]
        return argv

    def start(self) -> float:
        """Power on; returns the monotonic time of power-on."""
        if self.proc is not None and self.proc.poll() is None:
            raise GuestError("the guest is already running")
        with self.console.open("ab") as log:
            log.write(f"\n===== power on #{self.boots + 1} =====\n".encode())
        started = time.monotonic()
        self.proc = subprocess.Popen(
            ["nice", "-n", "5", *self.command()], stdin=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.boots += 1
        return started

    def power_cut(self) -> None:
        """Pull the plug: QEMU is killed, nothing in the guest gets to flush."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None

    def poweroff(self, timeout: float = 120) -> None:
        """A clean shutdown from inside; QEMU exits when the guest powers off.

        On the pi board the kernel's power-off handler is the BCM2835 watchdog
        driver, which the emulator cannot load (see _raspi_command), so the
        kernel halts instead ("reboot: System halted"; "reboot: Power down" with
        a handler). Either line comes after systemd-shutdown has synced and
        unmounted everything; the test then switches QEMU off."""
        if self.board == "pi":
            halted = _halts(self.console.read_bytes())
            self.ssh("systemctl poweroff", check=False, timeout=15)
            until = time.monotonic() + timeout
            while _halts(self.console.read_bytes()) == halted:
                if time.monotonic() > until:
                    self.power_cut()
                    raise GuestError(f"the guest did not halt within {timeout:.0f} s")
                time.sleep(1)
            self.power_cut()
            return
        self.ssh("systemctl poweroff", check=False, timeout=15)
        self._wait_exit(timeout)

    def _wait_exit(self, timeout: float) -> None:
        assert self.proc is not None
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.power_cut()
            raise GuestError(f"the guest did not power off within {timeout:.0f} s") from None
        self.proc = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- USB sticks ------------------------------------------------------------------------
    def monitor(self, command: str) -> str:
        """Run a QEMU monitor command (through QMP); returns what the monitor printed."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(30)
            sock.connect(str(self.qmp))
            stream = sock.makefile("rwb")
            json.loads(stream.readline())  # the greeting
            reply: dict[str, object] = {}
            for message in (
                {"execute": "qmp_capabilities"},
                {"execute": "human-monitor-command", "arguments": {"command-line": command}},
            ):
                stream.write(json.dumps(message).encode() + b"\n")
                stream.flush()
                reply = {}
                while "return" not in reply and "error" not in reply:
                    reply = json.loads(stream.readline())  # events come in between
            if "error" in reply:
                raise GuestError(f"QEMU refused {command!r}: {reply['error']}")
            return str(reply["return"])

    def plug_usb_disk(self, image: Path, name: str) -> None:
        """Plug a raw disk image in as a USB mass-storage stick (udev sees an "add")."""
        for command in (
            f"drive_add 0 if=none,id={name},format=raw,file={image.resolve()}",
            f"device_add usb-storage,id={name}-usb,drive={name},removable=on",
        ):
            out = self.monitor(command).strip()
            if out not in ("", "OK"):
                raise GuestError(f"{command!r}: {out}")

    def unplug_usb_disk(self, name: str) -> None:
        out = self.monitor(f"device_del {name}-usb").strip()
        if out:
            raise GuestError(f"unplugging {name}: {out}")

    def plug_usb_audio(self, name: str) -> None:
        """Plug a USB sound card in (QEMU's usb-audio, a USB Audio Class device on the
        xHCI bus): the guest's snd-usb-audio makes an ALSA card of it, as of a headset."""
        out = self.monitor(f"device_add usb-audio,id={name},audiodev=snd0").strip()
        if out not in ("", "OK"):
            raise GuestError(f"plugging the USB sound card {name} in: {out}")

    def unplug_usb_device(self, name: str) -> None:
        out = self.monitor(f"device_del {name}").strip()
        if out:
            raise GuestError(f"unplugging {name}: {out}")

    # -- access ------------------------------------------------------------------------
    def ssh_argv(self, command: str, timeout: float = 60) -> list[str]:
        opts = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"]
        opts += ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={min(10, int(timeout))}", "-o", "ServerAliveInterval=5"]
        return ["ssh", *opts, "-i", str(self.key), "-p", str(self.ssh_port), "root@127.0.0.1", command]

    def ssh(self, command: str, *, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a shell command on the guest as root."""
        done = subprocess.run(self.ssh_argv(command, timeout), capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise GuestError(f"{command!r} on the guest exited {done.returncode}: {done.stdout}{done.stderr}")
        return done

    def wait_ssh(self, timeout: float = 180) -> float:
        """Wait until the guest answers over SSH; returns the monotonic time it did."""
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            if not self.alive():
                raise GuestError(f"QEMU exited: {self.qemu_errors()}")
            try:
                if self.ssh("true", check=False, timeout=15).returncode == 0:
                    return time.monotonic()
            except subprocess.TimeoutExpired:
                pass
            time.sleep(1)
        raise GuestError(f"no SSH from the guest within {timeout:.0f} s; console: {self.console_tail()}")

    def wait_active(self, unit: str, timeout: float = 120) -> None:
        until = time.monotonic() + timeout
        state = ""
        while time.monotonic() < until:
            state = self.ssh(f"systemctl is-active {unit}", check=False).stdout.strip()
            if state == "active":
                return
            time.sleep(1)
        raise GuestError(f"{unit} is {state!r} after {timeout:.0f} s")

    def read(self, path: str) -> str:
        return self.ssh(f"cat {path}").stdout

    def qemu_errors(self) -> str:
        if self.proc is None or self.proc.stderr is None or self.proc.poll() is None:
            return ""
        return self.proc.stderr.read().decode(errors="replace")[-2000:]

    def console_tail(self, chars: int = 3000) -> str:
        if not self.console.exists():
            return ""
        return self.console.read_bytes()[-chars:].decode(errors="replace")

    def save_journal(self, dest: Path) -> None:
        """The guest's ``journalctl -b`` (the test artefact of a failure), and its console."""
        dest.mkdir(parents=True, exist_ok=True)
        if self.alive():
            try:
                done = self.ssh("journalctl -b --no-pager -o short-monotonic", check=False, timeout=60)
                (dest / "journalctl-b.txt").write_text(done.stdout + done.stderr)
            except (subprocess.TimeoutExpired, OSError) as exc:
                (dest / "journalctl-b.txt").write_text(f"could not read the journal: {exc}\n")
        if self.console.exists():
            shutil.copy(self.console, dest / "console.log")

    def close(self) -> None:
        self.power_cut()


#: The device tree QEMU's raspi3b needs, as Debian's raspi-firmware installs it.
PI_DTB = "bcm2837-rpi-3-b.dtb"


def _fat_offset(image: Path) -> int:
    """The byte offset of the image's first partition (the FAT boot partition), from its MBR."""
    with image.open("rb") as disk:
        mbr = disk.read(512)
    if mbr[510:512] != b"\x55\xaa":
        raise GuestError(f"{image} has no MBR partition table")
    return int.from_bytes(mbr[446 + 8 : 446 + 12], "little") * 512


def pi_boot_files(image: Path, dest: Path) -> dict[str, str]:
    """What the Pi's firmware reads from the image's boot partition: config.txt's
    kernel= and initramfs files, the device tree and cmdline.txt (mtools, no mount)."""
    dest.mkdir(parents=True, exist_ok=True)
    fat = f"{image.resolve()}@@{_fat_offset(image.resolve())}"

    def fetch(name: str) -> Path:
        out = dest / name
        done = subprocess.run(["mcopy", "-n", "-o", "-i", fat, f"::{name}", str(out)], capture_output=True, text=True)
        if done.returncode != 0:
            raise GuestError(f"the boot partition has no {name}: {done.stderr.strip()}")
        return out

    config = fetch("config.txt").read_text()
    kernel = re.findall(r"^kernel=(\S+)$", config, re.M)
    initrd = re.findall(r"^initramfs (\S+)", config, re.M)
    if len(kernel) != 1 or len(initrd) != 1:
        raise GuestError(f"config.txt names {kernel} as kernel and {initrd} as initramfs: one of each expected")
    dtb = fetch(PI_DTB)
    # What the Pi's firmware adds to the device tree it hands the kernel: the
    # board's revision code and serial number (gpiozero reads the revision to
    # know the board's pins; the box's serial comes from the CPU's). A Pi 3
    # Model B 1.2 by Sony UK: revision a02082.
    for command in (
        ["fdtput", "-c", str(dtb), "/system"],
        ["fdtput", "-t", "x", str(dtb), "/system", "linux,revision", "a02082"],
        ["fdtput", "-t", "x", str(dtb), "/system", "linux,serial", "0", "c1b0c5e1"],
    ):
        subprocess.run(command, check=True, capture_output=True)
    return {
        "kernel": str(fetch(kernel[0])),
        "initrd": str(fetch(initrd[0])),
        "dtb": str(dtb),
        "cmdline": fetch("cmdline.txt").read_text().strip(),
    }


def image_from_env() -> Path | None:
    """The image the boot tests run on: $CLINICBOX_IMAGE (make image-test sets it)."""
    value = os.environ.get("CLINICBOX_IMAGE", "")
    return Path(value) if value else None
