"""The hosted build, as Read the Docs runs it for the French project: shared by the tests.

:func:`build` runs the html command of ``.readthedocs.yaml`` for French, in a fresh copy of
the working tree (no build folder, no execution cache, so MyST-NB executes every page in a
kernel of its own), with no ``LMNOTES_*`` or ``HF_*`` variable, in a new network namespace
(``unshare --net``, loopback up). Two kinds of test read it: tests/test_reproducible.py (the
build passes offline and its pages read as the site under test) and tests/test_execute.py (each
page run alone, here, prints what the execute step printed for it).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class HostedBuild:
    returncode: int
    log: str
    html: Path
    cache: Path  # the execution cache MyST-NB wrote, one kernel per page


def offline_prefix() -> list[str] | str:
    """A command prefix that runs in a new network namespace with only loopback up, or why
    no namespace can be made here."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip") or "/usr/sbin/ip"
    probe = (
        subprocess.run(
            [unshare or "unshare", "--net", "--map-root-user", ip, "link", "set", "lo", "up"],
            capture_output=True,
            text=True,
            check=False,
        )
        if unshare
        else None
    )
    if probe is None or probe.returncode != 0:
        return "cannot create a network namespace (unshare --net): " + (
            probe.stderr if probe else "no unshare"
        )
    return [
        unshare,
        "--net",
        "--map-root-user",
        "sh",
        "-c",
        f'"{ip}" link set lo up && exec "$@"',
        "sh",
    ]


def read_the_docs_command(language: str, output: Path) -> list[str]:
    """The html command of ``.readthedocs.yaml``, its variables filled as Read the Docs does."""
    config = yaml.safe_load((ROOT / ".readthedocs.yaml").read_text("utf-8"))
    (line,) = config["build"]["jobs"]["build"]["html"]
    line = line.replace("$READTHEDOCS_LANGUAGE", language)
    line = line.replace("$READTHEDOCS_OUTPUT", str(output))
    command = shlex.split(line)
    if command[0] != "python":
        raise ValueError(f".readthedocs.yaml: the html command starts with {command[0]!r}: {line}")
    return [sys.executable, *command[1:]]


def build(clone: Path, prefix: list[str]) -> HostedBuild:
    """Build French in ``clone`` (a copy of the working tree) as Read the Docs would."""
    output = clone.parent / "rtd"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LMNOTES_", "HF_"))}
    result = subprocess.run(
        [*prefix, *read_the_docs_command("fr", output)],
        cwd=clone,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    keys = sorted((clone / "docs" / "_build" / ".jupyter_cache").glob("*/"))
    return HostedBuild(
        result.returncode,
        result.stdout[-4000:] + result.stderr[-4000:],
        output / "html",
        keys[0] if len(keys) == 1 else clone / "docs" / "_build" / ".jupyter_cache",
    )
