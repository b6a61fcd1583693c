"""The documentation's examples run, type-check, and match the docs' code blocks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples" / "core").glob("*.py"))
DOCS = [
    *sorted((ROOT / "docs" / "core").glob("*.md")),
    ROOT / "packages" / "workflow-core" / "README.md",
]
CORE_SRC = ROOT / "packages" / "workflow-core" / "src"
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_examples_exist() -> None:
    assert len(EXAMPLES) >= 9
    assert len(DOCS) == 7


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(example: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(example)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_doc_code_blocks_come_from_runnable_examples(doc: Path) -> None:
    # Every ```python block in the docs is a verbatim excerpt of a script in
    # examples/core, so the docs cannot drift from code that runs.
    sources = [example.read_text() for example in EXAMPLES]
    blocks = PYTHON_BLOCK.findall(doc.read_text())
    assert blocks, f"{doc.name} has no python examples"
    for block in blocks:
        assert any(block in source for source in sources), (
            f"{doc.name}: not in examples/core:\n{block}"
        )


def test_examples_type_check_under_mypy_strict() -> None:
    # Checks the public API's annotations from a user's point of view.
    cache = Path(tempfile.gettempdir()) / "tanstack-workflow-core-examples-mypy"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(cache),
            *map(str, EXAMPLES),
        ],
        cwd=ROOT,
        env={**os.environ, "MYPYPATH": str(CORE_SRC)},
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
