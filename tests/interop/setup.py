"""Install the interop tests' node packages (Fedify): `python -m tests.interop.setup`.

Runs `npm ci` in tests/interop when node_modules is missing or older than package-lock.json
(`npm install` when there is no lock yet); does nothing, quickly, when it is up to date.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
LOCK = HERE / "package-lock.json"
# npm writes this file at the end of every successful install.
INSTALLED_MARKER = NODE_MODULES / ".package-lock.json"
MIN_NODE_MAJOR = 20
INSTALL_HINT = "install Node.js 20+ and npm (apt-get install nodejs npm)"


def needs_install() -> bool:
    """True when node_modules is missing or older than package-lock.json."""
    if not INSTALLED_MARKER.exists():
        return True
    return LOCK.exists() and LOCK.stat().st_mtime > INSTALLED_MARKER.stat().st_mtime


def node_problem() -> str | None:
    """Why node/npm cannot run the interop tests, or None when they can."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(n for n, p in (("node", node), ("npm", npm)) if p is None)
        return f"{missing} not found: {INSTALL_HINT}"
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    major = version.lstrip("v").split(".")[0]
    if not major.isdigit() or int(major) < MIN_NODE_MAJOR:
        return f"node {version or '(unknown version)'} is too old: {INSTALL_HINT}"
    return None


def main() -> int:
    problem = node_problem()
    if problem is not None:
        print(f"tests/interop: {problem}", file=sys.stderr)
        return 1
    if not needs_install():
        return 0
    command = ["npm", "ci"] if LOCK.exists() else ["npm", "install"]
    print(f"tests/interop: {' '.join(command)} (Fedify for the interop tests)...", flush=True)
    # Fedify declares node>=22 but runs on 20; keep npm's engine warnings out of the output.
    result = subprocess.run(
        [shutil.which("npm") or "npm", *command[1:], "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=HERE,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        print(result.stdout + result.stderr, file=sys.stderr)
        print(f"tests/interop: {' '.join(command)} failed", file=sys.stderr)
        return result.returncode
    INSTALLED_MARKER.touch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
