"""Reading a bundle off a stick without trusting anything on it.

The stick may have been made by anyone. So: no symbolic links, no device
files, FIFOs or sockets, no name with ``..`` or an absolute path, every
file within its size limit, and exactly the files the signature lists.
Each file is opened without following links, copied into a private
staging folder while its SHA-256 is computed, and compared with the
signed manifest; everything after that reads the private copy, so a file
changed on the stick after the check changes nothing. Nothing is ever
executed or sourced.

Example:
    >>> staged = read_bundle(Path("/media/stick/clinicbox-provision"), trusted, Path("/tmp/x"))  # doctest: +SKIP
    >>> staged.root / "provision.toml"                                                            # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from appliance.errors import ProvisioningError
from provisioning.signing import FileEntry, TrustedKeys, verify_signature

BUNDLE_DIR = "clinicbox-provision"
SIG_NAME = "provision.sig"
TOML_NAME = "provision.toml"
MAX_FILES = 2000
MAX_DEPTH = 6
MB = 1024 * 1024

#: Per-kind size limits, by file suffix; anything else is limited by DEFAULT_LIMIT.
LIMITS = {
    ".toml": 256 * 1024,
    ".wav": 32 * MB,
    ".csv": 64 * MB,
    ".crt": 256 * 1024,
    ".pem": 256 * 1024,
    ".key": 256 * 1024,
    ".tar": 16 * 1024 * MB,
}
DEFAULT_LIMIT = 1 * MB


def size_limit(name: str) -> int:
    return LIMITS.get(PurePosixPath(name).suffix.lower(), DEFAULT_LIMIT)


def check_name(name: str) -> None:
    """A manifest or provision.toml name must be a plain relative path inside the bundle.

    Raises:
        ProvisioningError: absolute, ``..``, empty parts, backslashes or control characters.
    """
    if not name or name.startswith("/") or "\\" in name:
        raise ProvisioningError(
            f"the bundle names the file {name!r}: only relative paths inside the bundle are allowed"
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ProvisioningError(f"the bundle names a file with control characters ({name!r}); rename it")
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ProvisioningError(
            f"the bundle names the file {name!r}: '..', '.' and empty path parts are not allowed "
            "(a bundle may not reach outside its folder)"
        )
    if len(parts) > MAX_DEPTH:
        raise ProvisioningError(f"{name!r} is nested deeper than {MAX_DEPTH} folders")


@dataclass(frozen=True)
class ScannedFile:
    name: str
    size: int


def scan(root: Path) -> list[ScannedFile]:
    """Every regular file under ``root`` (posix names), refusing anything else.

    Raises:
        ProvisioningError: a symlink, device, FIFO or socket; too many files or too deep.
    """
    try:
        st = os.lstat(root)
    except FileNotFoundError:
        raise ProvisioningError(f"no bundle folder at {root}") from None
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise ProvisioningError(f"{root} is not a plain folder (a symbolic link or a file); refusing it")
    found: list[ScannedFile] = []

    def walk(directory: Path, prefix: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise ProvisioningError(f"{prefix.rstrip('/')} is nested deeper than {MAX_DEPTH} folders")
        with os.scandir(directory) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                name = prefix + entry.name
                mode = entry.stat(follow_symlinks=False).st_mode
                if stat.S_ISLNK(mode):
                    raise ProvisioningError(f"{name} is a symbolic link; bundles may hold only plain files")
                if stat.S_ISDIR(mode):
                    walk(Path(entry.path), name + "/", depth + 1)
                elif stat.S_ISREG(mode):
                    found.append(ScannedFile(name, entry.stat(follow_symlinks=False).st_size))
                    if len(found) > MAX_FILES:
                        raise ProvisioningError(f"the bundle holds more than {MAX_FILES} files")
                else:
                    raise ProvisioningError(f"{name} is a device, FIFO or socket; bundles may hold only plain files")

    walk(Path(root), "", 1)
    return found


def _open_nofollow(root: Path, name: str) -> int:
    """Open ``root/name`` read-only, refusing a symlink at every step."""
    flags_dir = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(root, flags_dir)
    try:
        parts = name.split("/")
        for part in parts[:-1]:
            nxt = os.open(part, flags_dir, dir_fd=fd)
            os.close(fd)
            fd = nxt
        return os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=fd)
    finally:
        os.close(fd)


def copy_verified(root: Path, name: str, entry: FileEntry, dest: Path) -> None:
    """Copy one file into ``dest`` while hashing it; it must match the signed entry.

    Raises:
        ProvisioningError: not a regular file, too large, or changed after signing.
    """
    try:
        fd = _open_nofollow(root, name)
    except OSError as exc:
        raise ProvisioningError(
            f"{name} cannot be opened as a plain file ({exc.strerror}); refusing the bundle"
        ) from exc
    digest = hashlib.sha256()
    copied = 0
    limit = size_limit(name)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ProvisioningError(f"{name} is not a plain file; refusing the bundle")
        dest.parent.mkdir(parents=True, exist_ok=True)
        out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            while True:
                block = os.read(fd, 1 << 20)
                if not block:
                    break
                copied += len(block)
                if copied > entry.size or copied > limit:
                    raise ProvisioningError(
                        f"{name} is larger than signed or allowed; it was changed after signing or is oversized"
                    )
                digest.update(block)
                os.write(out, block)
        finally:
            os.close(out)
    finally:
        os.close(fd)
    if copied != entry.size or digest.hexdigest() != entry.sha256:
        raise ProvisioningError(
            f"{name} was changed after the bundle was signed (its SHA-256 does not match the manifest); "
            "nothing was changed on this box: sign the bundle again"
        )


@dataclass(frozen=True)
class StagedBundle:
    """A verified private copy of a bundle."""

    root: Path
    files: dict[str, FileEntry]
    signed_by: str
    source: Path

    def path(self, name: str) -> Path:
        """The staged copy of ``name``, which the manifest must list."""
        check_name(name)
        if name not in self.files:
            raise ProvisioningError(
                f"provision.toml names {name!r}, which the bundle does not contain (or is unsigned)"
            )
        return self.root / name


def check_manifest(files: dict[str, FileEntry], max_total: int) -> None:
    """Names and sizes of a manifest, before any byte is hashed."""
    if TOML_NAME not in files:
        raise ProvisioningError(f"the bundle has no {TOML_NAME}")
    total = 0
    for name, entry in files.items():
        check_name(name)
        if name == SIG_NAME:
            raise ProvisioningError(f"the manifest lists {SIG_NAME} itself; sign the bundle again")
        limit = size_limit(name)
        if entry.size > limit:
            raise ProvisioningError(
                f"{name} is {entry.size / MB:.1f} MB; files of this kind may be at most {limit / MB:.1f} MB"
            )
        total += entry.size
    if total > max_total:
        raise ProvisioningError(f"the bundle holds {total / MB:.0f} MB; at most {max_total / MB:.0f} MB is allowed")


def read_signature(root: Path) -> bytes:
    try:
        fd = _open_nofollow(root, SIG_NAME)
    except FileNotFoundError:
        raise ProvisioningError(
            f"the bundle is unsigned ({SIG_NAME} is missing); sign it with `clinicbox provision sign DIR --key KEY`"
        ) from None
    except OSError as exc:
        raise ProvisioningError(f"{SIG_NAME} cannot be opened as a plain file ({exc.strerror})") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ProvisioningError(f"{SIG_NAME} is not a plain file")
        return os.read(fd, 1024 * 1024 + 1)
    finally:
        os.close(fd)


def read_bundle(root: Path, trusted: TrustedKeys, staging: Path, max_total: int = 4096 * MB) -> StagedBundle:
    """Verify the bundle at ``root`` and copy it into ``staging`` (an empty private folder).

    Raises:
        ProvisioningError: with the reason; nothing outside ``staging`` was touched.
    """
    root = Path(root)
    present = scan(root)
    files, signer = verify_signature(read_signature(root), trusted)
    check_manifest(files, max_total)
    on_stick = {f.name for f in present if f.name != SIG_NAME}
    extra = sorted(on_stick - set(files))
    if extra:
        raise ProvisioningError(f"{extra[0]} is in the bundle but not covered by its signature; sign the bundle again")
    missing = sorted(set(files) - on_stick)
    if missing:
        raise ProvisioningError(f"{missing[0]} is listed in the signature but missing from the bundle")
    for name, entry in sorted(files.items()):
        copy_verified(root, name, entry, staging.joinpath(*name.split("/")))
    return StagedBundle(staging, files, signer, root)


def manifest_of(root: Path) -> dict[str, FileEntry]:
    """Hash every file of a bundle for signing (refusing what the box would refuse)."""
    files: dict[str, FileEntry] = {}
    for item in scan(root):
        if item.name == SIG_NAME:
            continue
        check_name(item.name)
        digest = hashlib.sha256()
        with open(_open_nofollow(root, item.name), "rb", closefd=True) as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        files[item.name] = FileEntry(item.size, digest.hexdigest())
    return files
