"""The house's layout holds: no import cycle between the project's modules, the export
engine imports no app, and every feed's settings are checked when the site starts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from exports import registry
from exports.config import load_config

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("smplat", "reports", "telemetry", "exports")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Modules ``path`` imports, at the top or inside a function (a deferred import is an
    arrow too: it only hides a cycle from the interpreter, not from the reader)."""
    tree = ast.parse(path.read_text())
    type_only = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for child in ast.walk(node)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in type_only:  # annotations only, never run
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _graph() -> dict[str, set[str]]:
    files = [
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    ]
    modules = {_module_name(path): path for path in files}
    return {
        name: {m for m in _imports(path) if m in modules and m != name}
        for name, path in modules.items()
    }


def test_no_module_imports_itself_back_through_a_cycle():
    graph = _graph()
    state: dict[str, str] = {}
    cycles = []

    def visit(module: str, stack: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target, [*stack, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_export_engine_imports_no_app():
    """exports/ reaches feeds through the registry the apps fill, never their modules."""
    offenders = {
        module: sorted(t for t in targets if t.startswith(("reports", "telemetry")))
        for module, targets in _graph().items()
        if module.startswith("exports")
    }
    assert {module: found for module, found in offenders.items() if found} == {}


def test_operator_pages_sit_on_top_nothing_imports_them():
    importers = {
        module
        for module, targets in _graph().items()
        if any(t.startswith("reports.pages") for t in targets)
        and not module.startswith("reports.pages")
    }
    assert importers <= {"smplat.urls"}


def test_every_card_feed_is_declared_with_its_facts():
    names = [d.name for d in registry.card_feeds()]
    assert names == [
        "guardrail_followups",
        "quick_order_telemetry",
        "guardrail_workflow_telemetry",
        "onboarding_pricing_segments",
    ]
    for definition in registry.feeds():
        assert definition.config.feed == definition.name


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("GUARDRAIL_EXPORT_SINK", "webhok", "GUARDRAIL_EXPORT_SINK: 'webhok' is not a sink"),
        ("QUICK_ORDER_EXPORT_SCHEDULE_MINUTES", 0, "QUICK_ORDER_EXPORT_SCHEDULE_MINUTES: must be"),
        (
            "ONBOARDING_EXPORT_STATUS_S3_URI",
            "https://x/status.json",
            "ONBOARDING_EXPORT_STATUS_S3_URI",
        ),
        ("GUARDRAIL_EXPORT_CURSOR_S3_URI", "bucket/key", "must be an s3://bucket/prefix URI"),
    ],
)
def test_a_bad_feed_setting_is_refused_naming_its_variable(settings, name, value, message):
    setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured, match=message):
        registry.check_configuration()


def test_a_setting_a_feed_declares_but_settings_lack_is_refused(settings):
    del settings.GUARDRAIL_EXPORT_WORKFLOW_URL
    with pytest.raises(ImproperlyConfigured, match="GUARDRAIL_EXPORT_WORKFLOW_URL is not defined"):
        load_config(registry.feed("guardrail_followups"))


def test_a_bad_setting_stops_the_site_at_start_up(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "GUARDRAIL_EXPORT_SINK": "carrier-pigeon", "DEBUG": "true"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "GUARDRAIL_EXPORT_SINK: 'carrier-pigeon' is not a sink" in result.stderr
