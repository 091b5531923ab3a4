"""Who may command the core: the control socket's peer check (SO_PEERCRED).

The socket's file mode is the first fence (0660, group
``control.socket_group``); this is the second, for a socket whose mode
was loosened or a folder someone else can reach. Each accepted connection's
peer is identified by the kernel (``SO_PEERCRED``: pid, uid, gid; its
supplementary groups by ``SO_PEERGROUPS``), never by anything it says.

Allowed: root, the core's own user (the web UI on the appliance, and the
single user the demo and the tests run everything as), members of the
socket's group, and the users named in ``control.allowed_users``. A
headset station runs as ``clinicbox-station`` on the appliance and is
refused: a station cannot command the core.

Example:
    >>> policy = PeerPolicy(uids=frozenset({0, 999}), gids=frozenset({998}))
    >>> policy.allows(PeerCred(pid=1, uid=999, gid=999))
    True
    >>> policy.allows(PeerCred(pid=1, uid=65534, gid=65534))
    False
"""

from __future__ import annotations

import grp
import logging
import os
import pwd
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: Linux's SO_PEERGROUPS (the peer's supplementary groups); not in every Python's socket module.
_SO_PEERGROUPS = getattr(socket, "SO_PEERGROUPS", 59)


@dataclass(frozen=True)
class PeerCred:
    """The process at the other end of a connection, as the kernel names it."""

    pid: int
    uid: int
    gid: int
    groups: tuple[int, ...] = ()


@dataclass(frozen=True)
class PeerPolicy:
    """The uids and gids allowed to command the core."""

    uids: frozenset[int]
    gids: frozenset[int] = frozenset()

    @classmethod
    def for_config(cls, socket_group: str = "", allowed_users: Sequence[str] = ()) -> PeerPolicy:
        """Root, this process's own user, ``socket_group``'s members and ``allowed_users``.

        A group or user that does not exist is logged and left out (never
        an error: the phone line starts whatever the socket's settings say).
        """
        uids = {0, os.getuid(), os.geteuid()}
        gids: set[int] = set()
        if socket_group:
            try:
                gids.add(grp.getgrnam(socket_group).gr_gid)
            except KeyError:
                log.warning("control.socket_group %s does not exist; its members are not allowed", socket_group)
        for name in allowed_users:
            try:
                uids.add(pwd.getpwnam(name).pw_uid)
            except KeyError:
                log.warning("control.allowed_users: no user %s; left out", name)
        return cls(frozenset(uids), frozenset(gids))

    def allows(self, peer: PeerCred) -> bool:
        if peer.uid in self.uids:
            return True
        return bool(self.gids and ({peer.gid, *peer.groups} & self.gids))


def peer_credentials(conn: socket.socket) -> PeerCred:
    """The kernel's record of who connected (``SO_PEERCRED``, plus ``SO_PEERGROUPS`` where Linux has it).

    Raises:
        OSError: not a Unix socket, or the kernel has no credentials for it.
    """
    size = struct.calcsize("3i")
    pid, uid, gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, size))
    groups: tuple[int, ...] = ()
    try:
        raw = conn.getsockopt(socket.SOL_SOCKET, _SO_PEERGROUPS, 4 * 256)
        groups = struct.unpack(f"{len(raw) // 4}I", raw[: len(raw) // 4 * 4])
    except OSError:
        pass  # an older kernel: the primary group only
    return PeerCred(pid=pid, uid=uid, gid=gid, groups=groups)
