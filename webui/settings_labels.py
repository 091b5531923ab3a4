"""Translated labels for the settings screens' fields.

The config schema's ``doc`` strings are English and stay the reference
(they are shown as the field's hint); the short labels here are what a
manager reads in their language. A field without a label here (a section
added later) shows its key name and English doc.
"""

from __future__ import annotations

from webui.i18n import gettext as _


def section_titles() -> dict[str, str]:
    return {
        "clinic": _("Clinic"),
        "hours": _("Opening hours and holidays"),
        "voicemail": _("Voicemail"),
        "retention": _("Data retention"),
        "trunk": _("SIP trunk"),
        "modem": _("GSM modem"),
        "reminders": _("Reminder policy"),
        "queues": _("Queues"),
        "stations": _("Stations"),
        "ivr": _("Phone menu (IVR)"),
        "prompts": _("Prompts"),
        "feeds": _("Appointment feed (HL7)"),
        "contact": _("Contact rules (all messages)"),
        "textback": _("Missed-call text-back"),
        "followup": _("No-show follow-up"),
        "waitlist": _("Waitlist fill"),
    }


def field_labels() -> dict[str, str]:
    return {
        # clinic
        "name": _("Name"),
        "country": _("Country code"),
        "timezone": _("Time zone"),
        "languages": _("Languages callers can choose"),
        "default_language": _("Default language"),
        "phone_number": _("Public phone number"),
        "emergency_number": _("Emergency number (empty: by country)"),
        # hours
        "monday": _("Monday"),
        "tuesday": _("Tuesday"),
        "wednesday": _("Wednesday"),
        "thursday": _("Thursday"),
        "friday": _("Friday"),
        "saturday": _("Saturday"),
        "sunday": _("Sunday"),
        "holidays": _("Holidays (YYYY-MM-DD, or MM-DD every year)"),
        # voicemail
        "mailboxes": _("Mailboxes"),
        "max_seconds": _("Longest message (seconds)"),
        "min_seconds": _("Shorter messages are discarded (seconds)"),
        # retention
        "calls_days": _("Keep call records (days)"),
        "recordings_days": _("Keep recordings (days)"),
        "voicemail_days": _("Keep voicemail (days)"),
        "audit_days": _("Keep the audit log (days)"),
        # trunk
        "enabled": _("Enabled"),
        "registrar": _("Registrar"),
        "proxy": _("Outbound proxy"),
        "username": _("User name"),
        "realm": _("Realm"),
        "register_interval_s": _("Registration interval (seconds)"),
        "keepalive_interval_s": _("Keep-alive interval (seconds, 0 = off)"),
        "provider_networks": _("Provider addresses"),
        "caller_id": _("Caller ID on outgoing calls"),
        "caller_id_header": _("Caller ID sent in (From, P-Asserted-Identity or both)"),
        "dial_prefix": _("Dial prefix"),
        # queue
        "ring_timeout_s": _("Ring an agent for (seconds)"),
        "wrap_up_s": _("Wrap-up time (seconds)"),
        "max_wait_s": _("Longest wait (seconds)"),
        "max_length": _("Most callers waiting"),
        "announce_every_s": _("Announce the position every (seconds, 0 = never)"),
        "callback_key": _("Key for “call me back” (empty = off)"),
        "overflow": _("When the queue is full or the wait too long"),
        "mailbox": _("Mailbox"),
        "record": _("Record calls"),
        "music": _("Music on hold (WAV file)"),
        # station
        "contact": _("Desk phone address (empty: the station registers)"),
        "queues": _("Queues served"),
        "answer_mode": _("Answer mode"),
        "audio_device": _("Headset (ALSA card name)"),
        # ivr
        "entry": _("First step"),
        "dtmf_inter_digit_s": _("Seconds between digits"),
        "type": _("Type"),
        "prompt": _("Prompt"),
        "next": _("Then go to"),
        "options": _("Keys (one per line: key = step)"),
        "timeout_s": _("Wait for a key (seconds)"),
        "retries": _("Repeats"),
        "fallback": _("After the repeats, go to"),
        "if_open": _("When open, go to"),
        "if_closed": _("When closed, go to"),
        "queue": _("Queue"),
        "priority": _("Priority (higher first)"),
        "number": _("Number to transfer to"),
        # contact rules and the missed-call text-back
        "per_day": _("Messages per patient a day (all kinds)"),
        "per_week": _("Messages per patient in 7 days (all kinds)"),
        "text_ambiguous_numbers": _("Text numbers that may be landlines (US, Canada)"),
        "sources": _("Missed calls that get a text"),
        "period_h": _("At most one text per number in (hours)"),
        "stale_min": _("Drop a text still waiting after (minutes)"),
        "texts": _("Texts per language (see Missed-call text)"),
        "include_reason": _("Texts name the reason for the visit"),
        "delay_min": _("Send after the visit's end (minutes)"),
        "stale_h": _("Drop a follow-up not sent within (hours)"),
        "reply_h": _("Replies go to the worklist within (hours)"),
        # waitlist
        "expiry_min": _("An offer stays open for (minutes)"),
        "batch": _("Offer a slot to this many patients at once"),
        "min_notice_min": _("Never offer a slot starting within (minutes)"),
        "join_by_reply": _("A WAITLIST reply puts the patient on the list"),
        "offer_texts": _("Offer texts per language (see Waitlist › Offer text)"),
    }


def choice_labels() -> dict[str, str]:
    return {
        "voicemail": _("Voicemail"),
        "callback": _("Callback"),
        "manual": _("Agent accepts"),
        "auto": _("Connect with a tone"),
        "playback": _("Play a prompt"),
        "menu": _("Menu (press a key)"),
        "language": _("Language choice"),
        "time_condition": _("Open or closed?"),
        "queue": _("Queue"),
        "transfer": _("Transfer to a number"),
        "hangup": _("Hang up"),
    }


def label(name: str) -> str:
    key = name.rsplit(".", 1)[-1]
    return field_labels().get(key, key.replace("_", " "))


def choice(value: str) -> str:
    return choice_labels().get(value, value)
