"""The runtime docs' examples run, type-check, and match the docs' code blocks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples" / "runtime").glob("*.py"))
DOCS = [
    ROOT / "docs" / "runtime" / name
    for name in ("model.md", "scheduling.md", "leases-and-recovery.md")
]
SRC = [ROOT / "packages" / name / "src" for name in ("workflow-core", "workflow-runtime")]
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_every_page_has_an_example() -> None:
    names = {example.stem for example in EXAMPLES}
    assert {"model", "scheduling", "leases_and_recovery"} <= names
    assert all(doc.is_file() for doc in DOCS)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(example: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(example)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_doc_code_blocks_come_from_runnable_examples(doc: Path) -> None:
    # Every ```python block is a verbatim excerpt of a script in examples/runtime, so the
    # docs cannot drift from code that runs.
    sources = [example.read_text() for example in EXAMPLES]
    blocks = PYTHON_BLOCK.findall(doc.read_text())
    assert blocks, f"{doc.name} has no python examples"
    for block in blocks:
        assert any(block in source for source in sources), (
            f"{doc.name}: not in examples/runtime:\n{block}"
        )


def test_examples_type_check_under_mypy_strict() -> None:
    cache = Path(tempfile.gettempdir()) / "tanstack-workflow-runtime-examples-mypy"
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
        env={**os.environ, "MYPYPATH": os.pathsep.join(map(str, SRC))},
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
