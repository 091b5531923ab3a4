"""The web UI (Flask test client, the real web app) on a running test core's clinic."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from appliance.clock import SystemClock
from appliance.config import load_config
from tests.integration.switchboard.box import Box
from tests.unit.webui.conftest import login_as, post
from webui import create_app
from webui.runtime import EXTENSION


class Ui:
    """A manager logged in to the web UI of ``box``'s clinic."""

    def __init__(self, app: Flask, client: FlaskClient, token: str) -> None:
        self.app, self.client, self.token = app, client, token

    def version(self, path: str) -> str:
        html = self.client.get(path).get_data(as_text=True)
        return html.split('name="version" value="', 1)[1].split('"', 1)[0]

    def post(self, path: str, data: dict[str, Any], version_of: str) -> Any:
        return post(self.client, path, {**data, "version": self.version(version_of)}, self.token)

    def notices(self) -> str:
        """The notices the next page shows (after a save's redirect)."""
        html = self.client.get("/settings").get_data(as_text=True)
        return " ".join(re.findall(r'data-testid="notice-\w+">([^<]*)<', html)).replace("&#39;", "'")

    def settings_page(self) -> str:
        return self.client.get("/settings").get_data(as_text=True)


@contextmanager
def manager_ui(box: Box, live: bool = False) -> Iterator[Ui]:
    """``live``: follow the core's status as the web process does (the pages that show it need it)."""
    app = create_app(
        load_config(box.config, use_secrets=False), box.config, clock=SystemClock(assume_synced=True), start_live=live
    )
    app.config["TESTING"] = True
    client = app.test_client()
    rt = app.extensions[EXTENSION]
    try:
        if live:
            deadline = time.monotonic() + 10
            while rt.hub.snapshot() is None:
                assert time.monotonic() < deadline, f"the web UI never heard from the core: {rt.hub.core_state()}"
                time.sleep(0.1)
        yield Ui(app, client, login_as(client, app, "manager"))
    finally:
        if live:
            rt.hub.stop()
        rt.store.close()


class _FormReader(HTMLParser):
    """The fields of the page's settings form, as a browser would submit them unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, Any] = {}
        self._in_form = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("data-testid") == "settings-form":
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name", "")
        if tag == "input" and name and name not in ("csrf_token", "version"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.values.setdefault(name, []).append(a.get("value", "on"))
            else:
                self.values[name] = a.get("value", "")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and ("selected" in a or self._select not in self.values):
            self.values[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def form_values(ui: Ui, path: str) -> dict[str, Any]:
    """What the settings form at ``path`` holds now."""
    reader = _FormReader()
    reader.feed(ui.client.get(path).get_data(as_text=True))
    return {k: (v[0] if isinstance(v, list) and len(v) == 1 and v == ["on"] else v) for k, v in reader.values.items()}
