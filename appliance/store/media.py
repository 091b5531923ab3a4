"""Encrypted media files: voicemail and call recordings.

Audio never touches the disk in clear. Each file is a stream of
AES-256-GCM chunks under a per-file key derived (HKDF) from the media
master key, which itself lives only inside the encrypted database (table
``vault``), so re-keying the database does not require re-encrypting
every recording, and a stolen SD card without the store key yields
nothing.

File layout::

    b"CBXMEDIA1\\n" | salt (16) | { length (4, big endian) | ciphertext+tag }*

Chunk *i* uses nonce ``i`` (12 bytes, big endian) and associated data
``i || final-flag``, so chunks cannot be reordered, and a file cut short
is detected (its last chunk lacks the final flag).

Example:
    >>> vault = MediaVault(store)                                  # doctest: +SKIP
    >>> with vault.writer("voicemail/2026/03/abc.wav") as w:        # doctest: +SKIP
    ...     w.write(wav_bytes)
    >>> b"".join(vault.read_chunks("voicemail/2026/03/abc.wav"))   # doctest: +SKIP
"""

from __future__ import annotations

import os
import secrets
import struct
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from types import TracebackType

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from appliance.errors import CorruptStoreError, ValidationError
from appliance.store.connection import Store

MAGIC = b"CBXMEDIA1\n"
CHUNK = 64 * 1024
_MASTER = "media-master-key"


def _file_key(master: bytes, salt: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"clinicbox media v1").derive(master)
    return AESGCM(key)


def _aad(index: int, final: bool) -> bytes:
    return struct.pack(">Q?", index, final)


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


class MediaWriter:
    """Buffers plaintext and writes sealed chunks; the file appears on close."""

    def __init__(self, aead: AESGCM, salt: bytes, path: Path) -> None:
        self._aead = aead
        self._path = path
        self._tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._fh = os.fdopen(fd, "wb")
        self._fh.write(MAGIC + salt)
        self._buf = bytearray()
        self._index = 0
        self._closed = False
        self.plain_bytes = 0

    def write(self, data: bytes) -> None:
        self._buf += data
        self.plain_bytes += len(data)
        while len(self._buf) > CHUNK:
            self._seal(bytes(self._buf[:CHUNK]), final=False)
            del self._buf[:CHUNK]

    def _seal(self, plain: bytes, final: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._index), plain, _aad(self._index, final))
        self._fh.write(struct.pack(">I", len(sealed)) + sealed)
        self._index += 1

    def close(self) -> None:
        if self._closed:
            return
        self._seal(bytes(self._buf), final=True)
        self._buf.clear()
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        os.replace(self._tmp, self._path)
        self._closed = True

    def abort(self) -> None:
        if not self._closed:
            self._fh.close()
            self._tmp.unlink(missing_ok=True)
            self._closed = True

    def __enter__(self) -> MediaWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class MediaVault:
    """Encrypted files under ``store.media_dir``, named by relative paths."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.root = store.media_dir
        self._master: bytes | None = None

    def master_key(self) -> bytes:
        if self._master is None:
            row = self.store.query_one("SELECT value FROM vault WHERE name = ?", (_MASTER,))
            if row is None:
                with self.store.transaction() as conn:
                    row = conn.execute("SELECT value FROM vault WHERE name = ?", (_MASTER,)).fetchone()
                    if row is None:
                        conn.execute(
                            "INSERT INTO vault(name, value) VALUES (?, ?)",
                            (_MASTER, secrets.token_bytes(32)),
                        )
                        row = conn.execute("SELECT value FROM vault WHERE name = ?", (_MASTER,)).fetchone()
            self._master = bytes(row[0])
        return self._master

    def path(self, name: str) -> Path:
        rel = PurePosixPath(name)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise ValidationError("media names are relative paths without '..'")
        return self.root.joinpath(*rel.parts)

    def writer(self, name: str) -> MediaWriter:
        salt = secrets.token_bytes(16)
        return MediaWriter(_file_key(self.master_key(), salt), salt, self.path(name))

    def write_bytes(self, name: str, data: bytes) -> None:
        with self.writer(name) as w:
            w.write(data)

    def read_chunks(self, name: str) -> Iterator[bytes]:
        """Decrypt chunk by chunk (for streaming to a browser)."""
        path = self.path(name)
        with open(path, "rb") as fh:
            head = fh.read(len(MAGIC) + 16)
            if not head.startswith(MAGIC) or len(head) != len(MAGIC) + 16:
                raise CorruptStoreError(f"media file {name} is not a ClinicBox encrypted file")
            aead = _file_key(self.master_key(), head[len(MAGIC) :])
            index = 0
            while True:
                size_raw = fh.read(4)
                if len(size_raw) < 4:
                    raise CorruptStoreError(f"media file {name} is truncated")
                (size,) = struct.unpack(">I", size_raw)
                if size > CHUNK + 16:
                    raise CorruptStoreError(f"media file {name} is damaged")
                sealed = fh.read(size)
                try:
                    plain = aead.decrypt(_nonce(index), sealed, _aad(index, False))
                    final = False
                except InvalidTag:
                    try:
                        plain = aead.decrypt(_nonce(index), sealed, _aad(index, True))
                        final = True
                    except InvalidTag as exc:
                        raise CorruptStoreError(f"media file {name} is damaged or was tampered with") from exc
                yield plain
                if final:
                    if fh.read(1):
                        raise CorruptStoreError(f"media file {name} has data after its end")
                    return
                index += 1

    def read_bytes(self, name: str) -> bytes:
        return b"".join(self.read_chunks(name))

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def exists(self, name: str) -> bool:
        return self.path(name).exists()
