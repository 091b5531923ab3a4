"""``/health``: for nginx and monitoring; says nothing about patients."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from webui.auth import public
from webui.runtime import runtime

bp = Blueprint("health", __name__)


@bp.get("/health")
@public
def health() -> Any:
    rt = runtime()
    return jsonify(ok=True, store_locked=rt.store.locked, core_up=rt.hub.core_up)
