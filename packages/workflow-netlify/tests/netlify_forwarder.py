"""Run the packaged TypeScript forwarder in Node.js, as Netlify would call it on a tick.

Node 20 cannot run TypeScript, and no compiler is installed here, so the test removes
the template's three type annotations (each must be found exactly once, so a template
change that adds TypeScript syntax fails loudly); everything else runs unchanged.
Netlify's scheduler and its ``Netlify.env`` global are simulated by ``call.mjs``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

TYPE_ANNOTATIONS = (
    (re.compile(r"^declare const Netlify: .*\n", re.MULTILINE), ""),
    (re.compile(r"const DEFAULT_ENDPOINT: string ="), "const DEFAULT_ENDPOINT ="),
    (re.compile(r"async \(req: Request\): Promise<Response> =>"), "async (req) =>"),
)

CALL = """
// Calls the forwarder like Netlify's scheduler: a POST whose body is the tick.
globalThis.Netlify = { env: { get: (name) => process.env[name] } };
const [moduleUrl, tick] = process.argv.slice(2);
const { default: forward } = await import(moduleUrl);
const request = new Request("https://site.netlify.app/.netlify/functions/workflow-sweep", {
  method: "POST",
  body: tick,
});
const response = await forward(request);
console.log("RESULT " + JSON.stringify({ status: response.status, body: await response.text() }));
"""


@dataclass
class Forwarded:
    status: int
    body: str
    logs: list[str]


def strip_types(typescript: str) -> str:
    """The template as JavaScript (see the module docstring)."""
    for pattern, replacement in TYPE_ANNOTATIONS:
        typescript, count = pattern.subn(replacement, typescript)
        assert count == 1, f"expected one match of {pattern.pattern!r} in the template"
    return typescript


def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.skip("Node.js is not installed: the forwarder is TypeScript run by Node")
    return found


def write_scripts(function_file: Path, workdir: Path) -> tuple[Path, Path]:
    """The forwarder as ``.mjs`` and the calling script, written into ``workdir``."""
    script = workdir / "workflow-sweep.mjs"
    script.write_text(strip_types(function_file.read_text()))
    call = workdir / "call.mjs"
    call.write_text(CALL)
    return script, call


async def forward_tick(function_file: Path, workdir: Path, tick: str, **env: str) -> Forwarded:
    """Run ``function_file`` in Node with ``env`` as ``Netlify.env``; return its response."""
    script, call = write_scripts(function_file, workdir)
    process = await asyncio.create_subprocess_exec(
        node(),
        str(call),
        script.as_uri(),
        tick,
        env={"PATH": os.environ.get("PATH", ""), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    lines = (out.decode() + err.decode()).splitlines()
    results = [line for line in lines if line.startswith("RESULT ")]
    assert process.returncode == 0, "\n".join(lines)
    assert results, "\n".join(lines)
    result = json.loads(results[0][len("RESULT ") :])
    return Forwarded(result["status"], result["body"], [x for x in lines if x not in results])
