#!/usr/bin/env python3
"""Rehearse an image without a Docker engine: the builder stage's steps, then the image's commands as uid 10001.

    .venv/bin/python scripts/simulate-image-build.py services/company-registry [--serve]

Reads the Dockerfile with BuildKit's parser, copies what the build stages COPY into a scratch folder (every stage
but the final one, in order: the web's Node stage runs its npm ci with this machine's npm), runs their
RUN steps there with /opt/venv redirected to a scratch venv made by this machine's Python 3.11 (--python; not
the image's base: same minor version, not the same files), then checks the console script and its package data. With
--serve, runs the final stage's CMD as uid/gid 10001 with the final stage's ENV, HOME=/tmp and the repository
not writable, waits for the image's HEALTHCHECK command to pass, sends SIGTERM and expects exit 0.
What it cannot check: the base image itself, the apt-less slim system, the read-only root filesystem of a real
container, the build context filtering of .dockerignore. Root is needed for --serve (setpriv).

The commands it runs are the repository's own Dockerfiles' (hence the `noqa: S603` below).
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dockerfile

ROOT = Path(__file__).resolve().parents[1]


def stages(path: Path) -> list[list]:
    commands = list(dockerfile.parse_file(str(path)))
    indexes = [i for i, c in enumerate(commands) if c.cmd == "FROM"] + [len(commands)]
    return [commands[a:b] for a, b in itertools.pairwise(indexes)]


def _local(text: str, work: Path) -> str:
    """The image's absolute paths in the scratch folder: /opt/<name> -> <work>/opt-<name>, /src -> <work>/src."""
    text = re.sub(r"/opt/([\w.-]+)", lambda m: str(work / f"opt-{m.group(1)}"), text)
    return re.sub(r"(?<![\w.-])/src(?=/|\b)", str(work / "src"), text)


def build(folder: str, work: Path, python: str) -> Path:
    """Every stage but the final one, in order (the web's Node stage, then the builder), sharing one /src."""
    *build_stages, _ = stages(ROOT / folder / "Dockerfile")
    venv = work / "opt-venv"
    src = work / "src"
    src.mkdir()
    for stage in build_stages:
        cwd = src
        for command in stage:
            if command.cmd == "WORKDIR":
                cwd = Path(_local(command.value[0], work))
                cwd.mkdir(parents=True, exist_ok=True)
            elif command.cmd == "COPY":
                *sources, dest = command.value
                if any(flag.startswith("--from=") for flag in command.flags):
                    # From an earlier stage: the same scratch /src, so already in place.
                    assert all(Path(_local(p, work)).exists() for p in sources), command
                    continue
                for source in sources:
                    target = cwd / Path(source).name if dest in ("./", ".") else cwd / dest
                    if (ROOT / source).is_dir():
                        shutil.copytree(ROOT / source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
                            "tests", "__pycache__", "*.egg-info", "build", "dist", "node_modules"))
                    else:
                        shutil.copy2(ROOT / source, target)
            elif command.cmd == "RUN":
                line = _local(command.value[0], work).replace("python -m venv", f"{python} -m venv")
                print(f"+ {line}", flush=True)
                subprocess.run(["/bin/bash", "-euo", "pipefail", "-c", line], cwd=cwd, check=True)  # noqa: S603
    return venv


def smoke(folder: str, venv: Path, serve: bool) -> None:
    final = stages(ROOT / folder / "Dockerfile")[-1]
    cmd = next(c for c in reversed(final) if c.cmd == "CMD").value
    script = venv / "bin" / cmd[0]
    subprocess.run([str(script), "--help"], check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    print(f"ok: {cmd[0]} installed, --help answers")
    if not serve:
        return
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin"}
    for command in final:
        if command.cmd == "ENV":
            values = command.value
            for key, value in zip(values[::2], values[1::2], strict=True):
                env[key] = _local(value.replace("$PATH", env["PATH"]), venv.parent)
    tmp = Path(tempfile.mkdtemp(prefix="image-tmp-"))
    (tmp / "metrics").mkdir()
    os.chown(tmp, 10001, 10001)
    os.chown(tmp / "metrics", 10001, 10001)
    env.update(HOME=str(tmp), TMPDIR=str(tmp), PROMETHEUS_MULTIPROC_DIR=str(tmp / "metrics"))
    env.update(dict(item.split("=", 1) for item in os.environ.get("IMAGE_ENV", "").split() if "=" in item))
    healthcheck = next(c for c in final if c.cmd == "HEALTHCHECK").value[1:]
    as_user = ["/usr/bin/setpriv", "--reuid=10001", "--regid=10001", "--clear-groups"]
    process = subprocess.Popen([*as_user, *cmd], env=env, cwd="/", start_new_session=True)  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        while subprocess.run([*as_user, *healthcheck], env=env, capture_output=True).returncode:  # noqa: S603
            assert process.poll() is None, f"{cmd} exited with {process.returncode}"
            assert time.monotonic() < deadline, "the HEALTHCHECK never passed"
            time.sleep(0.5)
        print(f"ok: {' '.join(cmd)} runs as uid 10001 and passes the image's HEALTHCHECK")
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=40)
        assert code == 0, f"exit status {code} after SIGTERM"
        print("ok: SIGTERM, exit 0")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="gateway, web or services/<name>")
    parser.add_argument("--serve", action="store_true", help="also run the CMD as uid 10001 (needs root)")
    # A Python 3.11 that uid 10001 may run (a pyenv Python under /root is not), like /usr/local/bin's in the image.
    parser.add_argument("--python", default="/usr/bin/python3.11" if Path("/usr/bin/python3.11").exists()
                        else sys.executable)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="image-build-") as work:
        # Readable, not writable, by uid 10001: like /opt/venv in the image.
        os.chmod(work, 0o755)  # noqa: S103
        venv = build(args.folder, Path(work), args.python)
        smoke(args.folder, venv, args.serve)
    return 0


if __name__ == "__main__":
    sys.exit(main())
