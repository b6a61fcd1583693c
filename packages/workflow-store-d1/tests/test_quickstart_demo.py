"""The README's demo command (``hatch run demo``) runs the quickstart on a local D1 file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_quickstart_demo_completes_on_a_local_d1_file(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite"
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart" / "app.py"), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "deliver_approval             -> completed" in done.stdout
    assert "same signal again            -> duplicate" in done.stdout
    assert "RUN_FINISHED" in done.stdout
    assert db.exists()
