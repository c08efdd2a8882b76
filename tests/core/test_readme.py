"""The README's configuration table lists every environment variable the code reads."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "bot", "adapters", "storage")
# Calls whose first argument names an environment variable: os.environ.get, os.getenv, env.get
# (a copy of os.environ), and bot.config.env_setting, which every typed setting goes through.
READERS = {"get", "getenv", "env_setting"}
ENV_RECEIVERS = {"environ", "env"}


def _constants(tree: ast.Module, follow: bool = True) -> dict[str, str]:
    """Module-level NAME = "string" assignments (e.g. UNSAFE_ENV = "CODEGEN_UNSAFE_NO_SANDBOX"),
    and such names imported from our own modules (``from bot.sandbox.local import UNSAFE_ENV``)."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            out.update({t.id: node.value.value for t in node.targets if isinstance(t, ast.Name)})
        elif follow and isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
            source = ROOT.joinpath(*node.module.split(".")).with_suffix(".py")
            if source.is_file():
                theirs = _constants(ast.parse(source.read_text()), follow=False)
                out.update({a.asname or a.name: theirs[a.name] for a in node.names if a.name in theirs})
    return out


def _receiver(node: ast.expr) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else None


def variables_read(path: Path) -> set[str]:
    """Every environment variable name ``path`` reads."""
    tree = ast.parse(path.read_text(), str(path))
    constants = _constants(tree)
    names: set[str] = set()

    def literal(node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return constants.get(node.id) if isinstance(node, ast.Name) else None

    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            by_name = isinstance(func, ast.Name) and func.id in ("env_setting", "getenv")
            by_attribute = isinstance(func, ast.Attribute) and func.attr in READERS and (
                func.attr in ("getenv", "env_setting") or _receiver(func.value) in ENV_RECEIVERS)
            if by_name or by_attribute:
                name = literal(node.args[0])
        elif isinstance(node, ast.Subscript) and _receiver(node.value) in ENV_RECEIVERS:
            name = literal(node.slice)
        if name and re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
            names.add(name)
    return names


def readme_table() -> set[str]:
    """The variables named in the README's Configuration table."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_every_environment_variable_the_code_reads_is_in_the_readme_table() -> None:
    read = {name: path.relative_to(ROOT) for package in PACKAGES for path in (ROOT / package).rglob("*.py")
            for name in variables_read(path)}
    missing = {name: str(where) for name, where in read.items() if name not in readme_table()}
    assert missing == {}, f"add these to the README's Configuration table: {missing}"


def test_the_scan_finds_the_ways_the_code_reads_variables() -> None:
    """The scanner itself: each reading style is recognised (so the test above can fail)."""
    found = variables_read(ROOT / "bot" / "config.py") | variables_read(ROOT / "bot" / "sandbox" / "service.py") | \
        variables_read(ROOT / "bot" / "sandbox" / "local.py") | variables_read(ROOT / "adapters" / "slack" / "serve.py") | \
        variables_read(ROOT / "app" / "web.py")
    assert {"CODEGEN_HOME", "CODEGEN_MAX_TASK_CHARS", "LEADERBOARD_TZ"} <= found  # os.environ.get, env_setting
    assert {"SANDBOX_BWRAP", "CODEGEN_UNSAFE_NO_SANDBOX"} <= found  # a literal, an imported constant
    assert {"SLACK_BOT_TOKEN", "HOST", "PORT"} <= found  # env.get on a copy of os.environ


def test_readme_points_at_no_missing_design_file() -> None:
    text = (ROOT / "README.md").read_text()
    assert "DESIGN.md" not in text or (ROOT / "DESIGN.md").exists()
    assert ".venv/bin/codegen-bot" in text
