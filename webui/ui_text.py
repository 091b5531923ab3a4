"""Translated labels for the box's enumerations (roles, agent and call states,
outcomes...), shared by templates and the page scripts.

Scripts get them through a JSON data block (``cbx-i18n``) in every page,
so the live views speak the user's language without inline script.
"""

from __future__ import annotations

from webui.i18n import gettext as _


def role_label(role: str) -> str:
    return {
        "manager": _("Manager"),
        "front-desk": _("Front desk"),
        "technician": _("Technician"),
    }.get(role, role)


def agent_states() -> dict[str, str]:
    return {
        "logged-out": _("Logged out"),
        "available": _("Available"),
        "paused": _("Paused"),
        "ringing": _("Ringing"),
        "on-call": _("On a call"),
        "wrap-up": _("Wrap-up"),
        "unavailable": _("Unreachable"),
    }


def call_states() -> dict[str, str]:
    return {
        "ivr": _("In the menu"),
        "queued": _("Waiting"),
        "ringing": _("Ringing"),
        "talking": _("Talking"),
        "held": _("On hold"),
        "voicemail": _("Leaving a message"),
        "dialing": _("Dialling"),
    }


def trunk_states() -> dict[str, str]:
    return {
        "up": _("Connected"),
        "down": _("Down"),
        "registering": _("Connecting"),
        "disabled": _("Not configured"),
    }


def modem_states() -> dict[str, str]:
    return {
        "ready": _("Ready"),
        "absent": _("Not found"),
        "no-sim": _("No SIM card"),
        "searching": _("Searching for network"),
        "recovering": _("Restarting"),
        "disabled": _("Not configured"),
    }


def box_parts() -> dict[str, str]:
    """Parts of the box the core can go on without (its ``box.faults``)."""
    return {"panel": _("Status panel")}


def routes() -> dict[str, str]:
    return {"trunk": _("SIP trunk"), "gsm": _("GSM fallback"), "none": _("No line")}


def dispositions() -> dict[str, str]:
    return {
        "answered": _("Answered"),
        "abandoned": _("Hung up while waiting"),
        "voicemail": _("Voicemail"),
        "callback": _("Callback requested"),
        "overflow": _("Overflow"),
        "ivr": _("Ended in the menu"),
        "transferred": _("Transferred"),
        "busy": _("Busy"),
        "failed": _("Failed"),
        "refused": _("Refused"),
        "no-answer": _("No answer"),
    }


def contact_kinds() -> dict[str, str]:
    return {
        "call-in": _("Call in"),
        "call-out": _("Call out"),
        "reminder": _("Reminder"),
        "callback": _("Callback"),
        "sms-in": _("SMS in"),
        "sms-out": _("SMS out"),
    }


def callback_sources() -> dict[str, str]:
    return {
        "abandoned": _("Hung up while waiting"),
        "requested": _("Asked to be called back"),
        "after-hours": _("Called after hours"),
        "overflow": _("Queue full"),
        "busy": _("All lines were busy"),
        "voicemail": _("Left a voicemail"),
    }


def callback_outcomes() -> dict[str, str]:
    return {
        "reached": _("Reached the caller"),
        "no-answer": _("No answer"),
        "left-message": _("Left a message"),
        "wrong-number": _("Wrong number"),
        "not-needed": _("No longer needed"),
    }


def callback_results() -> dict[str, str]:
    """How closed callbacks ended, for the list (staff's outcomes plus the box's own)."""
    return {
        **callback_outcomes(),
        "answered": _("Reached the caller"),
        "called-in": _("Called in again and was answered"),
        "cancelled": _("Cancelled"),
    }


def appointment_statuses() -> dict[str, str]:
    return {
        "booked": _("Booked"),
        "confirmed": _("Confirmed"),
        "cancelled": _("Cancelled"),
        "no-show": _("No-show"),
        "attended": _("Attended"),
    }


def reminder_outcomes() -> dict[str, str]:
    return {
        "confirmed": _("Confirmed"),
        "cancelled": _("Cancelled"),
        "desk": _("Asked for the front desk"),
        "no-answer": _("No answer"),
        "busy": _("Busy"),
        "voicemail": _("Reached voicemail"),
        "failed": _("Failed"),
        "opted-out": _("Opted out"),
        "sent": _("Sent"),
        "delivered": _("Delivered"),
        "unclear-reply": _("Unclear reply"),
        "interrupted": _("Interrupted"),
        "": _("Pending"),
    }


def reminder_statuses() -> dict[str, str]:
    return {
        "pending": _("Pending"),
        "active": _("In progress"),
        "done": _("Done"),
        "cancelled": _("Cancelled"),
        "expired": _("Expired"),
        "failed": _("Failed"),
    }


def channels() -> dict[str, str]:
    return {"voice": _("Voice call"), "sms": _("SMS"), "both": _("Call and SMS"), "none": _("No reminders")}


def js_strings() -> dict[str, object]:
    """Everything the page scripts display."""
    return {
        "agent": agent_states(),
        "call": call_states(),
        "trunk": trunk_states(),
        "modem": modem_states(),
        "route": routes(),
        "disposition": dispositions(),
        "core_up": _("Core running"),
        "core_down": _("Core not running"),
        "core_down_detail": _(
            "The ClinicBox core is not running: calls cannot be controlled from here until it is back."
        ),
        "no_callers": _("Nobody is waiting"),
        "no_agents": _("No agents"),
        "waiting": _("waiting"),
        "position": _("Position"),
        "callback_keeps_place": _("Callback keeps place"),
        "unknown_caller": _("Unknown number"),
        "agents_available": _("available"),
        "on_hold": _("on hold"),
        "unreachable": _("headset not reachable"),
        "signal": _("Signal"),
        "failover_active": _("Calls are using the GSM fallback"),
        "night_mode": _("Night mode"),
        "reminders_paused": _("Reminders paused"),
        "ringing_from": _("Call from"),
        "saved": _("Saved"),
        "failed": _("Failed"),
        "session_ended": _("Your session has ended. Log in again."),
        "confirm": _("Are you sure?"),
        "recording": _("Recording… press Stop when done"),
        "mic_denied": _("The browser did not allow the microphone."),
        "queue": _("Queue"),
        "since": _("since"),
        "none": _("none"),
        "calls_per_hour": _("Calls per hour"),
    }


def reply_reasons() -> dict[str, str]:
    """Why the reminders left a patient's text for the front desk (``sms_messages.reply_reason``)."""
    return {
        "empty": _("Empty message"),
        "too-long": _("Too long to read automatically"),
        "no-words": _("Only emoji or symbols"),
        "unknown-language": _("Not in a language the box reads"),
        "question": _("Asks a question"),
        "reschedule": _("Asks to change the time"),
        "date": _("Mentions a date"),
        "time": _("Mentions a time or a number"),
        "yes-and-no": _("Yes and no together"),
        "several-answers": _("Several answers together"),
        "unsure": _("Unsure or with a condition (maybe, if, but)"),
        "negated-answer": _("A negated answer (for example: don't cancel)"),
        "ambiguous": _("A word that can mean yes or no"),
        "other-words": _("Says more than yes or no"),
        "not-understood": _("No yes, no or stop in it"),
        "already-answered": _("The reminder was already answered"),
        "visit-changed": _("The visit was cancelled or moved since the reminder"),
        "no-reminder": _("Not a reply to a reminder"),
        "textback-reply": _("A reply to a missed-call text, not a clear yes"),
        "followup-reply": _("A reply to a no-show follow-up: on the worklist"),
        "waitlist-reply": _("A reply to a waitlist offer, not a clear yes or no"),
        "waitlist-request": _("Asks for the waitlist; not a reply to a reminder or a text-back of a known patient"),
    }


def message_kinds() -> dict[str, str]:
    """The kinds of message in a message trace (``contact_log.kind``)."""
    return {
        "reminder": _("Reminder SMS"),
        "textback": _("Missed-call text"),
        "textback-yes": _("Replied yes: on the callback list"),
        "stop-confirm": _("STOP confirmation"),
        "start-confirm": _("START confirmation"),
        "help": _("HELP answer"),
        "followup": _("No-show follow-up"),
        "waitlist": _("Waitlist offer"),
        "ack": _("Answer to the patient's reply"),
    }


def message_outcomes() -> dict[str, str]:
    return {
        "waiting": _("waiting for the contact window"),
        "queued": _("queued"),
        "sent": _("sent"),
        "delivered": _("delivered"),
        "skipped": _("not sent"),
        "failed": _("failed"),
    }


def skip_reasons() -> dict[str, str]:
    """Why a message was not sent (:data:`appliance.contact.REASONS` and the text-back's own)."""
    return {
        "opted-out": _("opted out (STOP)"),
        "landline": _("not a mobile number"),
        "withheld": _("number withheld"),
        "short-code": _("short code"),
        "emergency": _("emergency number"),
        "quiet-hours": _("quiet hours"),
        "cap-day": _("daily limit reached"),
        "cap-week": _("weekly limit reached"),
        "recent": _("already texted in this period"),
        "stale": _("too late: the contact window opened too long after the call"),
        "already": _("already confirmed"),
        # the no-show follow-up (appliance.reminders.followup)
        "planned": _("planned: after the visit's end and the set delay"),
        "visit-not-over": _("the visit had not started when it was marked"),
        "visit-changed": _("the visit is no longer a no-show"),
        "no-channel": _("the patient takes no reminders"),
        "no-phone": _("no phone number"),
        "no-phone-line": _("no phone line for calls"),
        "too-late": _("too late: not sent in time after the no-show"),
        "call": _("by phone call"),
        "landline-call": _("not a mobile: called instead"),
        "no-answer": _("nobody answered"),
        "busy": _("the line was busy"),
    }


def consent_actions() -> dict[str, str]:
    return {"opt-out": _("Opted out"), "opt-in": _("Opted in")}


def consent_via() -> dict[str, str]:
    return {"sms": _("by SMS"), "web": _("in the web UI"), "import": _("by import"), "phone": _("by phone")}
