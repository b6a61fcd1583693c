"""Released migrations never change, and migration numbers have no gaps.

See migrations/README.md. ``migrations/lock.json`` maps
``<package dir>/<path inside the package>`` to the sha256 of a released migration file
(line endings normalized to LF, so a Windows checkout hashes the same).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ROOT / "packages"
LOCK = ROOT / "migrations" / "lock.json"
NUMBERED = re.compile(r"(\d{4})_[a-z0-9_]+\.sql\Z")


def file_hash(path: Path) -> str:
    """The locked checksum of a migration file."""
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def load_lock() -> dict[str, str]:
    lock: dict[str, str] = json.loads(LOCK.read_text())
    return lock


def migration_dirs() -> list[Path]:
    """Every ``migrations/`` directory inside a package's ``src/``."""
    return sorted(p for p in PACKAGES.glob("*/src/**/migrations") if p.is_dir())


def test_lock_entries_point_at_package_migrations() -> None:
    for key in load_lock():
        parts = Path(key).parts
        assert "migrations" in parts[:-1], f"{key}: not inside a migrations/ directory"
        assert (PACKAGES / parts[0]).is_dir(), f"{key}: no package {parts[0]!r}"
        assert NUMBERED.match(parts[-1]), f"{key}: not a NNNN_name.sql file"


@pytest.mark.parametrize("key", sorted(load_lock()))
def test_released_migration_is_unchanged(key: str) -> None:
    path = PACKAGES / key
    assert path.is_file(), f"released migration {key} was deleted or moved"
    assert file_hash(path) == load_lock()[key], (
        f"released migration {key} changed: never edit a released migration, add the "
        "next numbered file instead (migrations/README.md)"
    )


@pytest.mark.parametrize("directory", migration_dirs(), ids=lambda p: str(p.relative_to(PACKAGES)))
def test_migration_numbers_have_no_gaps(directory: Path) -> None:
    names = sorted(p.name for p in directory.glob("*.sql"))
    for name in names:
        assert NUMBERED.match(name), f"{directory}/{name}: expected NNNN_name.sql"
    numbers = [int(name[:4]) for name in names]
    assert numbers == list(range(len(numbers))), (
        f"{directory}: numbers {numbers} have gaps or repeats"
    )


def test_locked_files_come_first() -> None:
    """In each migrations/ directory the locked files are a prefix: only new ones are unlocked."""
    lock = load_lock()
    for directory in migration_dirs():
        keys = [str(p.relative_to(PACKAGES)) for p in sorted(directory.glob("*.sql"))]
        locked = [key in lock for key in keys]
        first_unlocked = locked.index(False) if False in locked else len(locked)
        assert not any(locked[first_unlocked:]), f"{directory}: lock migrations in order"
