"""CSV import of patients and appointments.

Files come from the clinic's old system or a spreadsheet: UTF-8 with or
without BOM, comma or semicolon separated (Polish and Turkish Excel use
';'), names in any script. Every bad row is reported with its line
number and reason (never its content: it is patient data). By default
nothing is committed if any row is bad; ``skip_bad`` commits the good
rows. Re-importing the same file changes nothing and adds no duplicates,
because rows are matched on the clinic's id or on name + birth date.

Patient columns (header names are case-insensitive; aliases in brackets):
``external_id`` [id, patient_id, mrn], ``family_name`` [last_name,
surname], ``given_name`` [first_name], ``name`` [full_name],
``date_of_birth`` [dob, birth_date], ``phone`` [phones, mobile; several
separated by ';' or '|'], ``language`` [lang], ``reminder_channel``
[channel], ``consent_reminders`` [consent], ``notes``.

Appointment columns: ``external_id`` [appointment_id], the patient by
``patient_external_id`` [patient_ref, mrn] or by ``patient_name`` +
``patient_dob``, ``start`` [starts_at] and ``end`` [ends_at] or
``duration_min``, ``provider``, ``location``, ``reason``. Times without
an offset are in the clinic's time zone.
"""

from __future__ import annotations

import csv
import io
import shutil
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from appliance.errors import DiskFullError, ImportFileError, NotFoundError, ValidationError
from appliance.store import appointments as appts
from appliance.store import patients as pats
from appliance.store.audit import AuditLog
from appliance.store.connection import Connection, Store
from appliance.store.importpool import check_all
from appliance.store.patient_input import PatientInput
from appliance.store.timefmt import to_db

MAX_BYTES = 64 * 1024 * 1024
MAX_ROWS = 500_000
#: Rows written per batch (one round of bulk statements).
BATCH = 500

PATIENT_ALIASES = {
    "external_id": ("external_id", "id", "patient_id", "mrn"),
    "family_name": ("family_name", "last_name", "surname", "lastname"),
    "given_name": ("given_name", "first_name", "firstname"),
    "name": ("name", "full_name", "fullname"),
    "date_of_birth": ("date_of_birth", "dob", "birth_date", "birthdate"),
    "phone": ("phone", "phones", "mobile", "phone_number"),
    "language": ("language", "lang"),
    "reminder_channel": ("reminder_channel", "channel"),
    "consent_reminders": ("consent_reminders", "consent"),
    "notes": ("notes", "note"),
}
APPOINTMENT_ALIASES = {
    "external_id": ("external_id", "appointment_id", "id"),
    "patient_external_id": ("patient_external_id", "patient_ref", "mrn"),
    "patient_name": ("patient_name",),
    "patient_dob": ("patient_dob", "patient_date_of_birth"),
    "start": ("start", "starts_at", "start_time"),
    "end": ("end", "ends_at", "end_time"),
    "duration_min": ("duration_min", "duration"),
    "provider": ("provider", "doctor"),
    "location": ("location", "room"),
    "reason": ("reason",),
}


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def committed(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def summary(self) -> str:
        text = (
            f"{self.kind}: {self.rows} rows read, {self.inserted} added, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )
        if self.errors:
            text += f", {len(self.errors)} bad rows skipped"
        return text


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ImportFileError([(0, f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError([(line, "not UTF-8 text; save the file as 'CSV UTF-8'")]) from exc


def _rows(
    text: str, aliases: dict[str, tuple[str, ...]], required: Callable[[set[str]], str | None]
) -> Iterator[tuple[int, dict[str, str] | str]]:
    """Yield (line number, normalised row) or (line, error message)."""
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ImportFileError([(line, "contains a NUL byte: this is not a text CSV file")])
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ("\t" if first.count("\t") > first.count(",") else ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError([(1, "the file is empty")]) from None
    except csv.Error as exc:
        raise ImportFileError([(1, f"the header line is not valid CSV ({exc})")]) from None
    lookup = {alias: canon for canon, names in aliases.items() for alias in names}
    columns: list[str | None] = []
    seen: set[str] = set()
    unknown = []
    for raw in header:
        name = raw.strip().lower().replace(" ", "_").replace("-", "_")
        canon = lookup.get(name)
        if canon is None and name:
            unknown.append(raw.strip())
        if canon in seen:
            raise ImportFileError([(1, f"column {raw.strip()!r} appears twice")])
        if canon:
            seen.add(canon)
        columns.append(canon)
    if unknown:
        known = ", ".join(sorted(aliases))
        raise ImportFileError([(1, f"unknown columns: {', '.join(unknown)}; known: {known}")])
    problem = required(seen)
    if problem:
        raise ImportFileError([(1, problem)])
    count = 0
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, f"not valid CSV ({exc})"
            continue
        line = reader.line_num if reader.line_num >= line else line
        if not any(cell.strip() for cell in record):
            continue
        count += 1
        if count > MAX_ROWS:
            raise ImportFileError([(line, f"more than {MAX_ROWS} rows; split the file")])
        if len(record) != len(columns):
            yield line, f"has {len(record)} fields but the header has {len(columns)}"
            continue
        yield line, {c: v.strip() for c, v in zip(columns, record, strict=True) if c}


def _patient_required(cols: set[str]) -> str | None:
    if not ({"name"} & cols or {"family_name", "given_name"} & cols):
        return "a patient file needs a 'name' column or 'family_name'/'given_name' columns"
    return None


def _appointment_required(cols: set[str]) -> str | None:
    if "start" not in cols:
        return "an appointment file needs a 'start' column"
    if "patient_external_id" not in cols and not {"patient_name", "patient_dob"} <= cols:
        return "an appointment file needs 'patient_external_id', or 'patient_name' and 'patient_dob'"
    return None


def _check_disk(store: Store, min_free_mb: int) -> None:
    free = shutil.disk_usage(store.db_path.parent).free // (1024 * 1024)
    if free < min_free_mb:
        raise DiskFullError(f"only {free} MB free on the data disk (need {min_free_mb} MB); nothing was imported")


class Importer:
    def __init__(
        self,
        store: Store,
        audit: AuditLog,
        region: str,
        default_language: str,
        timezone: str,
        appointment_hooks: list[appts.AppointmentHook] | None = None,
        min_free_mb: int = 50,
    ) -> None:
        self.store = store
        self.audit = audit
        self.region = region
        self.default_language = default_language
        self.tz = zoneinfo.ZoneInfo(timezone)
        self.hooks = list(appointment_hooks or [])
        self.min_free_mb = min_free_mb

    def _run(
        self,
        kind: str,
        data: bytes,
        actor: str,
        skip_bad: bool,
        aliases: dict[str, tuple[str, ...]],
        required: Callable[[set[str]], str | None],
        parse: Callable[[Connection, dict[str, str]], tuple[str, Any]],
        write: Callable[[Connection, list[Any], str], list[str]],
    ) -> ImportReport:
        """Check every row (``parse`` gives its import key and item), then
        ``write`` the good ones in batches, all in one transaction."""
        _check_disk(self.store, self.min_free_mb)
        text = _decode(data)
        report = ImportReport(kind)
        now = to_db(self.store.clock.now())
        with self.store.transaction() as conn:
            seen: dict[str, int] = {}
            good: list[Any] = []
            for line, row in _rows(text, aliases, required):
                report.rows += 1
                if isinstance(row, str):
                    report.errors.append((line, row))
                    continue
                try:
                    key, item = parse(conn, row)
                except (ValidationError, NotFoundError) as exc:
                    report.errors.append((line, str(exc)))
                    continue
                if key in seen:
                    report.errors.append((line, f"the same {kind[:-1]} as line {seen[key]}"))
                    continue
                seen[key] = line
                good.append(item)
            if report.errors and not skip_bad:
                raise ImportFileError(report.errors)  # rolls the whole import back
            for first in range(0, len(good), BATCH):
                for status in write(conn, good[first : first + BATCH], now):
                    setattr(report, status, getattr(report, status) + 1)
            self.audit.append(conn, actor, "import", kind, "", report.summary())
        return report

    # -- patients --------------------------------------------------------------
    def patients(self, data: bytes, actor: str, skip_bad: bool = False) -> ImportReport:
        """Import patients; large files are checked by worker processes (see importpool)."""
        _check_disk(self.store, self.min_free_mb)
        text = _decode(data)
        report = ImportReport("patients")
        rows: list[tuple[int, dict[str, str]]] = []
        for line, row in _rows(text, PATIENT_ALIASES, _patient_required):
            report.rows += 1
            if isinstance(row, str):
                report.errors.append((line, row))
            else:
                rows.append((line, row))
        now = to_db(self.store.clock.now())
        with self.store.transaction() as conn:
            seen: dict[str, int] = {}
            batch: list[PatientInput] = []
            for line, key, item, error in check_all(rows, self.region, self.default_language):
                if error is not None or key is None:
                    report.errors.append((line, error or "invalid"))
                    continue
                if key in seen:
                    report.errors.append((line, f"the same patient as line {seen[key]}"))
                    continue
                seen[key] = line
                if report.errors and not skip_bad:
                    continue  # keep checking (to report every bad row); nothing will be written
                batch.append(item)
                if len(batch) >= BATCH:
                    self._count(report, self.write_patients(conn, batch, now))
                    batch = []
            if report.errors and not skip_bad:
                report.errors.sort()
                raise ImportFileError(report.errors)  # rolls the whole import back
            if batch:
                self._count(report, self.write_patients(conn, batch, now))
            report.errors.sort()
            self.audit.append(conn, actor, "import", "patients", "", report.summary())
        return report

    def write_patients(self, conn: Connection, items: list[PatientInput], now: str) -> list[str]:
        """Write checked patients (inside the caller's transaction), matched on their
        import key; returns each one's status (inserted, updated, unchanged).

        The write half of every patient import (CSV here, the demo clinic's seed)."""
        return pats.upsert_many(conn, items, now)

    @staticmethod
    def _count(report: ImportReport, statuses: list[str]) -> None:
        for status in statuses:
            setattr(report, status, getattr(report, status) + 1)

    # -- appointments ------------------------------------------------------------
    def _time(self, value: str, name: str) -> datetime:
        text = value.strip().replace(" ", "T", 1)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError(f"{name}: not a date and time; write 'YYYY-MM-DD HH:MM'") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=self.tz)

    def appointments(self, data: bytes, actor: str, skip_bad: bool = False) -> ImportReport:
        def parse(conn: Connection, row: dict[str, str]) -> tuple[str, appts.AppointmentInput]:
            patient_id = self._find_patient(conn, row)
            start = self._time(row.get("start", ""), "start")
            end = self._time(row["end"], "end") if row.get("end") else None
            duration = row.get("duration_min", "")
            if duration and not duration.isdigit():
                raise ValidationError("duration_min: write a whole number of minutes")
            item = appts.AppointmentInput(
                patient_id=patient_id,
                starts_at=start,
                ends_at=end,
                duration_min=int(duration or 15),
                provider=row.get("provider", ""),
                location=row.get("location", ""),
                reason=row.get("reason", ""),
                external_id=row.get("external_id", ""),
                source="csv",
            ).validated()
            return item.import_key(), item

        def write(conn: Connection, items: list[appts.AppointmentInput], now: str) -> list[str]:
            return [status for _, status in self.write_appointments(conn, items, now)]

        return self._run(
            "appointments", data, actor, skip_bad, APPOINTMENT_ALIASES, _appointment_required, parse, write
        )

    def write_appointments(
        self, conn: Connection, items: list[appts.AppointmentInput], now: str
    ) -> list[tuple[int, str]]:
        """Write checked appointments (inside the caller's transaction), matched on their
        import key; a new or changed one runs the appointment hooks ("imported"), so its
        reminders are planned at once. Returns each one's (id, status).

        The write half of every appointment import (CSV here, the demo clinic's seed)."""
        out = []
        for item in items:
            aid, status = appts.upsert(conn, item, now)
            if status != "unchanged":
                for hook in self.hooks:
                    hook(conn, aid, "imported")
            out.append((aid, status))
        return out

    @staticmethod
    def patient_by_external_id(conn: Connection, external_id: str) -> int:
        """The patient an appointment row names by the clinic's id.

        Raises:
            NotFoundError: no patient has that id.
        """
        found = conn.execute("SELECT id FROM patients WHERE external_id = ?", (external_id,)).fetchone()
        if found is None:
            raise NotFoundError("patient_external_id: no patient with that clinic id (import patients first)")
        return int(found[0])

    def _find_patient(self, conn: Connection, row: dict[str, str]) -> int:
        ext = row.get("patient_external_id", "")
        if ext:
            return self.patient_by_external_id(conn, ext)
        key = PatientInput(name=row.get("patient_name", ""), date_of_birth=row.get("patient_dob", "")).import_key()
        found = conn.execute("SELECT id FROM patients WHERE import_key = ?", (key,)).fetchone()
        if found is None:
            raise NotFoundError("patient_name/patient_dob: no such patient (import patients first)")
        return int(found[0])


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError([(0, f"{path} does not exist")]) from None
    except OSError as exc:
        raise ImportFileError([(0, f"cannot read {path}: {exc.strerror}")]) from None


def describe_columns() -> dict[str, Any]:
    return {"patients": PATIENT_ALIASES, "appointments": APPOINTMENT_ALIASES}
