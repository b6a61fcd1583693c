"""Monorepo tooling: the one list of packages, and install / test / lint over it.

Usage: python scripts/workspace.py {install [--force] | test [pytest args] | lint | packages}
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Package:
    dir: str
    module: str
    extras: tuple[str, ...] = ()

    @property
    def dist(self) -> str:
        return f"tanstack-{self.dir}"

    @property
    def import_name(self) -> str:
        return f"tanstack_workflow.{self.module}"

    @property
    def path(self) -> Path:
        return ROOT / "packages" / self.dir

    @property
    def requirement(self) -> str:
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return f"{self.path}{extras}"


# Adding a package to the monorepo is one line here.
PACKAGES = [
    Package(dir="workflow-core", module="core", extras=("otel",)),
    Package(dir="workflow-runtime", module="runtime", extras=("contract",)),
    Package(dir="workflow-store-d1", module="store_d1"),
    Package(dir="workflow-store-postgres", module="store_postgres", extras=("binary", "test")),
    Package(dir="workflow-cloudflare", module="cloudflare"),
    Package(dir="workflow-railway", module="railway"),
    Package(dir="workflow-netlify", module="netlify"),
    Package(dir="workflow-vercel", module="vercel"),
]

DEV_REQUIREMENTS = [
    "pytest>=8",
    "pytest-asyncio>=0.24",  # 0.24 introduced asyncio_default_fixture_loop_scope
    "pytest-timeout",
    "hypothesis>=6.100",
    "mypy>=1.10",
    "ruff>=0.5",
    "opentelemetry-sdk",
    "types-croniter",
    "httpx>=0.27",  # the HTTP host adapters' tests call a real server
    "uvicorn>=0.30",
]

LINT_PATHS = ["packages", "scripts", "examples", "tests-contract"]
CONFIG = ROOT / "pyproject.toml"
# Written into the environment after a successful install; a different value means
# some package's pyproject.toml, extras or the dev requirements changed since.
STAMP = Path(sys.prefix) / ".tanstack-workflow-install"


def run(cmd: list[str], env: dict[str, str] | None = None) -> int:
    print("+", " ".join(cmd), flush=True)
    return subprocess.call(cmd, cwd=ROOT, env=env)


def python_module(name: str, *args: str) -> list[str]:
    """A tool run from this interpreter's environment, whatever PATH says."""
    return [sys.executable, "-m", name, *args]


def requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return match.group(0)


def install_fingerprint() -> str:
    digest = hashlib.sha256()
    for package in PACKAGES:
        digest.update(package.requirement.encode())
        digest.update((package.path / "pyproject.toml").read_bytes())
    digest.update("\n".join(DEV_REQUIREMENTS).encode())
    return digest.hexdigest()


def installed_editable_at(dist: str, path: Path) -> bool:
    try:
        raw = metadata.distribution(dist).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return False
    if raw is None:
        return False
    direct_url = json.loads(raw)
    editable = bool(direct_url.get("dir_info", {}).get("editable"))
    return editable and direct_url.get("url") == path.as_uri()


def is_synced() -> bool:
    if not STAMP.is_file() or STAMP.read_text() != install_fingerprint():
        return False
    if not all(installed_editable_at(p.dist, p.path) for p in PACKAGES):
        return False
    for requirement in DEV_REQUIREMENTS:
        try:
            metadata.distribution(requirement_name(requirement))
        except metadata.PackageNotFoundError:
            return False
    return True


def check_package_list() -> str | None:
    for package in PACKAGES:
        pyproject = package.path / "pyproject.toml"
        if not pyproject.is_file():
            return f"{pyproject} not found"
        name = tomllib.loads(pyproject.read_text()).get("project", {}).get("name")
        if name != package.dist:
            return f"{pyproject}: project name {name!r}, expected {package.dist!r}"
    return None


def install(force: bool = False) -> int:
    problem = check_package_list()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    if not force and is_synced():
        return 0
    # pip always rebuilds local editable projects, so --force needs no pip flag.
    cmd = python_module("pip", "install")
    for package in PACKAGES:
        cmd += ["-e", package.requirement]
    code = run(cmd + DEV_REQUIREMENTS)
    if code == 0:
        # A read-only interpreter prefix only loses the fast path.
        with contextlib.suppress(OSError):
            STAMP.write_text(install_fingerprint())
    return code


def test(pytest_args: list[str]) -> int:
    code = install()
    if code:
        return code
    paths = [str(p.path / "tests") for p in PACKAGES]
    missing = [path for path in paths if not Path(path).is_dir()]
    if missing:
        print(f"error: every listed package needs tests/; missing {missing}", file=sys.stderr)
        return 1
    if (ROOT / "tests-contract").is_dir():
        paths.append(str(ROOT / "tests-contract"))
    # -c/--rootdir pin the root config even if a package's pyproject grows a pytest table;
    # importlib mode lets same-named test modules live in different packages.
    config = ["-c", str(CONFIG), "--rootdir", str(ROOT), "--import-mode=importlib"]
    code = run(python_module("pytest", *config, *paths, *pytest_args))
    if code == 5:
        print("error: pytest collected no tests", file=sys.stderr)
    return code


def lint() -> int:
    paths = [p for p in LINT_PATHS if (ROOT / p).exists()]
    src_dirs = [str(p.path / "src") for p in PACKAGES]
    # Every src dir on MYPYPATH, so the tanstack_workflow namespace spans all packages.
    env = {**os.environ, "MYPYPATH": os.pathsep.join(src_dirs)}
    mypy_targets = [str(p.path / "src" / "tanstack_workflow" / p.module) for p in PACKAGES]
    mypy_targets.append(str(ROOT / "scripts"))
    codes = [
        run(python_module("ruff", "check", *paths)),
        run(python_module("ruff", "format", "--check", *paths)),
        run(python_module("mypy", "--config-file", str(CONFIG), *mypy_targets), env=env),
    ]
    return next((code for code in codes if code), 0)


def list_packages() -> int:
    for package in PACKAGES:
        print(package.dir, package.dist, package.import_name, sep="\t")
    return 0


def main(argv: list[str]) -> int:
    # Everything after "test" belongs to pytest, including -h and -k expressions.
    if argv[:1] == ["test"]:
        return test(argv[1:])
    parser = argparse.ArgumentParser(prog="workspace.py", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    install_parser = commands.add_parser("install", help="editable-install every package")
    install_parser.add_argument("--force", action="store_true", help="reinstall even if synced")
    commands.add_parser("test", help="install, then run pytest (extra args pass through)")
    commands.add_parser("lint", help="ruff check, ruff format --check, mypy --strict")
    commands.add_parser("packages", help="print dir, dist name and module of each package")
    args = parser.parse_args(argv)
    if args.command == "install":
        return install(force=args.force)
    if args.command == "lint":
        return lint()
    return list_packages()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
