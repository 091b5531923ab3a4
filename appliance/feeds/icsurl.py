"""A read-only calendar published at an http(s) URL (an "ICS feed" or ``webcal://`` link).

Many booking calendars offer a subscription link but no CalDAV. :class:`IcsUrlSource`
is the calendar port for them: it fetches the whole calendar with a conditional
GET (``If-None-Match`` / ``If-Modified-Since`` from the last answer's ETag and
Last-Modified), so an unchanged calendar costs one small request and changes
nothing; a server that ignores them and sends the same bytes again changes
nothing either (the token carries the body's hash). A calendar that changed is
split by :func:`split` into one object per UID (a repeating event stays with its
moved occurrences and the VTIMEZONEs), keyed ``<url>#<UID>``, and handed to
:class:`~appliance.feeds.calsync.CalendarSync` as a full read, so the sync's own
rules hold: an event gone from the calendar cancels its visits, while a server
that is down, answers something that is not iCalendar, or suddenly publishes an
empty calendar changes nothing. The box cannot write to such a calendar: what it
changes stays on the front desk's worklist.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import urllib.error
import urllib.request
from urllib.parse import quote

import icalendar

from appliance.feeds import calmap
from appliance.feeds.calsync import Fetched

log = logging.getLogger(__name__)
#: The largest calendar read (a clinic's year of visits is a few MB).
MAX_BYTES = 32 * 1024 * 1024


def http_url(url: str) -> str:
    """The URL to fetch: ``webcal://`` is https by convention."""
    return "https://" + url[len("webcal://") :] if url.startswith("webcal://") else url


def split(data: bytes | str, url: str) -> list[tuple[str, str]]:
    """One VCALENDAR per UID, as ``(href, text)``, in the calendar's order.

    An event without a UID keeps its own object (keyed by its hash), so the
    mapping lists it as unusable rather than the split dropping it.

    Raises:
        ValueError: the data is not an iCalendar VCALENDAR.
    """
    calendar = calmap.parse(data)
    if calendar.name != "VCALENDAR":
        raise ValueError("the answer is not a VCALENDAR")
    zones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]
    groups: dict[str, list[icalendar.cal.Component]] = {}
    for component in calendar.subcomponents:
        if component.name != "VEVENT":
            continue
        uid = str(component.get("UID") or "")
        key = uid or "no-uid-" + hashlib.sha256(component.to_ical()).hexdigest()[:16]
        groups.setdefault(key, []).append(component)
    out: list[tuple[str, str]] = []
    for key, events in groups.items():
        part = icalendar.Calendar()
        part.add("VERSION", "2.0")
        part.add("PRODID", str(calendar.get("PRODID") or "-//ClinicBox//ics-url//EN"))
        for component in [*zones, *events]:
            part.add_component(component)
        out.append((f"{url}#{quote(key, safe='@.-_')}", part.to_ical().decode("utf-8")))
    return out


class IcsUrlSource:
    """The calendar at ``url`` (``http``, ``https`` or ``webcal``), read with a conditional GET."""

    writable = False

    def __init__(self, url: str, username: str = "", password: str = "", timeout: float = 60.0) -> None:
        self.url = url
        self.username = username
        self.password = password
        self.timeout = timeout

    def fetch(self, token: str | None) -> Fetched:
        """Everything, when the calendar changed since ``token``; nothing when it did not.

        Raises:
            OSError: the server is down, or answered with an HTTP error.
            ValueError: the answer is too large or not iCalendar.
        """
        last = _token(token)
        url = http_url(self.url)
        if not url.startswith(("http://", "https://")):
            raise ValueError("the calendar's URL is not an http(s) URL")
        request = urllib.request.Request(url, headers=self._headers(last))
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read(MAX_BYTES + 1)
                etag = response.headers.get("ETag") or ""
                modified = response.headers.get("Last-Modified") or ""
        except urllib.error.HTTPError as exc:
            if exc.code == 304 and token:
                return Fetched(token, [], [], full=False)
            raise
        if len(body) > MAX_BYTES:
            raise ValueError(f"the calendar is larger than {MAX_BYTES // (1024 * 1024)} MB")
        digest = hashlib.sha256(body).hexdigest()
        new = json.dumps({"etag": etag, "modified": modified, "sha256": digest})
        if token and last.get("sha256") == digest:
            return Fetched(new, [], [], full=False)
        return Fetched(new, split(body, self.url), [], full=True)

    def put(self, href: str, data: str) -> None:
        raise PermissionError("a calendar published at a URL is read-only; the change stays on the worklist")

    def _headers(self, last: dict[str, str]) -> dict[str, str]:
        headers = {"Accept": "text/calendar, */*;q=0.5", "User-Agent": "ClinicBox calendar feed"}
        if last.get("etag"):
            headers["If-None-Match"] = last["etag"]
        if last.get("modified"):
            headers["If-Modified-Since"] = last["modified"]
        if self.username:
            pair = f"{self.username}:{self.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        return headers


def _token(token: str | None) -> dict[str, str]:
    """The last answer's validators (an unreadable token is no token: the next read is a full one)."""
    if not token:
        return {}
    try:
        data = json.loads(token)
    except ValueError:
        return {}
    return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
