"""Every table has one owner in ``appliance/store/``: no SQL write anywhere else.

The check reads the source (``ast``, nothing is imported): a string
literal holding INSERT, UPDATE, DELETE or REPLACE that reaches
``execute``/``executemany``/``executescript`` (or ``Store.query``) outside
``appliance/store/`` fails it, whether written in the call or kept in a
variable first. Read-only queries (the reports, the web UI's lists) pass;
migrations are ``.sql`` files under the store.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCANNED = ("appliance", "webui", "provisioning")
OWNER = ROOT / "appliance" / "store"
SQL_CALLS = frozenset({"execute", "executemany", "executescript", "query", "query_one"})
WRITE = re.compile(
    r"\b(INSERT\s+(OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b",
    re.IGNORECASE,
)


def _strings(node: ast.AST) -> list[str]:
    """Every string literal inside an expression; an f-string as one text, its fields as ``x``."""
    if isinstance(node, ast.Constant):
        return [node.value] if isinstance(node.value, str) else []
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value if isinstance(v, ast.Constant) else "x" for v in node.values)]
    return [text for child in ast.iter_child_nodes(node) for text in _strings(child)]


def sql_writes(source: str, filename: str = "<source>") -> list[str]:
    """``file:line`` of every SQL write passed to a database call in ``source``."""
    tree = ast.parse(source, filename)
    assigned: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).extend(_strings(node.value))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args):
            continue
        if node.func.attr not in SQL_CALLS:
            continue
        arg = node.args[0]
        texts = _strings(arg)
        texts += [s for name in ast.walk(arg) if isinstance(name, ast.Name) for s in assigned.get(name.id, [])]
        if any(WRITE.search(text) for text in texts):
            found.append(f"{filename}:{node.lineno}")
    return found


def _sources() -> list[Path]:
    files = [p for top in SCANNED for p in sorted((ROOT / top).rglob("*.py"))]
    return [p for p in files if OWNER not in p.parents]


@pytest.mark.parametrize(
    ("source", "writes"),
    [
        ('conn.execute("UPDATE calls SET note = ? WHERE uuid = ?", (n, u))', 1),
        ('conn.execute(\n    "INSERT INTO voicemail(mailbox) VALUES (?)", (m,))', 1),
        ('conn.execute("insert or replace into settings(key) values (?)", (k,))', 1),
        ('conn.executemany("DELETE FROM callbacks WHERE id = ?", rows)', 1),
        ('conn.execute(f"UPDATE {table} SET status = ?", (s,))', 1),
        ('SQL = "UPDATE users SET must_change_password = 0"\nconn.execute(SQL)', 1),
        ('sql = "SELECT id FROM calls"\nsql += " WHERE uuid = ?"\nstore.query(sql, (u,))', 0),
        ("store.query(\"SELECT count(*) FROM callbacks WHERE status IN ('open')\")", 0),
        ("self.agents.execute(action)", 0),
        ('log.info("UPDATE calls SET note")', 0),
    ],
)
def test_the_scan_finds_sql_writes(source: str, writes: int) -> None:
    assert len(sql_writes(source)) == writes


def test_no_sql_writes_outside_the_store() -> None:
    sources = _sources()
    assert any(p.name == "handler.py" for p in sources)  # the scan does reach the switchboard
    found = [hit for path in sources for hit in sql_writes(path.read_text("utf-8"), str(path.relative_to(ROOT)))]
    assert found == [], "SQL writes outside appliance/store/ (move them into the table's owner): " + ", ".join(found)


def test_the_store_imports_nothing_built_on_it() -> None:
    """The store knows no package above it: hooks such as reminder planning are handed in."""
    above = ("appliance.reminders", "appliance.switchboard", "appliance.modem", "appliance.app", "webui")
    found = []
    for path in sorted(OWNER.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [f"{path.name}: {n}" for n in names if n.startswith(above)]
    assert found == []
