"""Voicemail and call recordings: lists, playback, "handled".

Audio stays encrypted on disk: playback streams
:meth:`appliance.store.media.MediaVault.read_chunks`, decrypting one chunk
at a time straight into the response, and every play is audited. The
file a row points to is checked by :meth:`MediaVault.path` (no absolute
paths, no ``..``) before anything is opened, so a tampered row cannot
make the web UI read another file.

Rows are written by their owner, :mod:`appliance.store.voicemail`; the
list queries (reads) live here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from appliance.errors import NotFoundError
from appliance.store import voicemail as vm_rows
from appliance.store.repos import Repos

STATUSES = ("new", "handled", "all")


@dataclass(frozen=True)
class Voicemail:
    id: int
    mailbox: str
    caller: str
    patient_id: int | None
    patient_name: str | None
    received_at: str
    duration_s: float
    language: str | None
    status: str
    handled_by: str | None
    handled_at: str | None


@dataclass(frozen=True)
class Recording:
    id: int
    call_uuid: str | None
    caller: str | None
    patient_id: int | None
    patient_name: str | None
    queue: str | None
    agent: str | None
    started_at: str
    duration_s: float
    expires_at: str


def voicemails(repos: Repos, actor: str, status: str = "new", mailbox: str = "", limit: int = 200) -> list[Voicemail]:
    where: list[str] = []
    params: list[object] = []
    if status in ("new", "handled"):
        where.append("v.status = ?")
        params.append(status)
    if mailbox:
        where.append("v.mailbox = ?")
        params.append(mailbox)
    sql = (
        "SELECT v.id, v.mailbox, v.caller, v.patient_id, p.display_name, v.received_at, v.duration_s, v.language,"
        " v.status, v.handled_by, v.handled_at FROM voicemail v LEFT JOIN patients p ON p.id = v.patient_id"
    )
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY v.received_at DESC LIMIT ?"
    params.append(limit)
    items = [Voicemail(*r) for r in repos.store.query(sql, tuple(params))]
    repos.audit.record(actor, "view", "voicemail-list", "", f"{len(items)} messages")
    return items


def recordings(repos: Repos, actor: str, limit: int = 200) -> list[Recording]:
    rows = repos.store.query(
        "SELECT r.id, c.uuid, c.caller, r.patient_id, p.display_name, r.queue, r.agent, r.started_at, r.duration_s,"
        " r.expires_at FROM recordings r LEFT JOIN calls c ON c.id = r.call_id"
        " LEFT JOIN patients p ON p.id = r.patient_id ORDER BY r.started_at DESC LIMIT ?",
        (limit,),
    )
    items = [Recording(*r) for r in rows]
    repos.audit.record(actor, "view", "recording-list", "", f"{len(items)} recordings")
    return items


def _media_name(repos: Repos, table: str, item_id: int) -> str:
    row = repos.store.query_one(f"SELECT media_file FROM {table} WHERE id = ?", (item_id,))
    if row is None:
        raise NotFoundError(f"no {table} entry {item_id}")
    return str(row[0])


def open_audio(repos: Repos, kind: str, item_id: int, actor: str) -> tuple[str, Iterator[bytes]]:
    """Audit the play and return (content type, decrypted chunks).

    The first chunk is decrypted before returning, so a missing or damaged
    file is an error page rather than a broken stream.

    Raises:
        NotFoundError: no such entry, or its file is gone.
        ValidationError: the entry's file name is not a safe relative path.
        CorruptStoreError: the file is damaged or was tampered with.
    """
    table = {"voicemail": "voicemail", "recording": "recordings"}[kind]
    name = _media_name(repos, table, item_id)
    path = repos.media.path(name)  # refuses absolute paths and ".."
    if not path.is_file():
        raise NotFoundError(f"the audio file of {kind} {item_id} is missing")
    chunks = repos.media.read_chunks(name)
    first = next(chunks, b"")
    repos.audit.record(actor, "play", kind, item_id)

    def stream() -> Iterator[bytes]:
        yield first
        yield from chunks

    return content_type(first), stream()


def content_type(head: bytes) -> str:
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"OggS":
        return "audio/ogg"
    if head[:3] == b"ID3" or head[:2] == b"\xff\xfb":
        return "audio/mpeg"
    return "application/octet-stream"


def mark_handled(repos: Repos, voicemail_id: int, actor: str, handled: bool = True) -> None:
    vm_rows.mark_handled(repos.store, repos.audit, voicemail_id, actor, handled)
