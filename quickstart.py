#!/usr/bin/env python3
"""careterm quickstart: set up the virtual environment and run things in it.

    python3 quickstart.py demo [careterm args]   # careterm on a demo school
    python3 quickstart.py test [pytest args]     # the whole test suite
    python3 quickstart.py bench [args]           # district figures (benchmarks/district.py)
    python3 quickstart.py shell [command]        # a shell (or one command) with careterm on PATH

Standard library only, Python 3.11+. Each subcommand is a function registered in SUBCOMMANDS;
add one there (e.g. `demo`) to extend the script.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
STAMP = VENV / ".careterm-install-stamp"


def say(message: str) -> None:
    print(f"quickstart: {message}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kwargs)


# --- the virtual environment ---------------------------------------------------------------


def ensure_venv() -> Path:
    """Create .venv if missing; install the project when pyproject.toml changed since last time."""
    if not VENV_PYTHON.exists():
        say(f"creating {VENV}")
        run([sys.executable, "-m", "venv", str(VENV)])
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != digest:
        say("installing the project (pip install -e '.[test]')")
        run([str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "-e", ".[test]"], cwd=ROOT)
        STAMP.write_text(digest + "\n")
    return VENV_PYTHON


# --- a throwaway PostgreSQL server ---------------------------------------------------------


def _pg_bindir() -> Path | None:
    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.parent.name
        return tuple(int(p) for p in name.split(".") if p.isdigit())

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    for initdb in reversed(found):
        bindir = Path(initdb).parent
        if (bindir / "pg_ctl").exists():
            return bindir
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str | None]:
    """Start a private PostgreSQL server in a temp dir; yield its URL (None if impossible)."""
    bindir = _pg_bindir()
    if bindir is None:
        say("no PostgreSQL binaries under /usr/lib/postgresql/*/bin: the PostgreSQL tests will be skipped")
        yield None
        return
    as_postgres: list[str] = []
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # initdb refuses to run as root: run the server as the postgres system user
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            say("running as root with no postgres user: the PostgreSQL tests will be skipped")
            yield None
            return
        if shutil.which("runuser") is None:
            say("running as root without runuser: the PostgreSQL tests will be skipped")
            yield None
            return
        as_postgres = ["runuser", "-u", "postgres", "--"]
    # as root, keep the server's dir in /tmp: the postgres user may not reach $TMPDIR
    base = "/tmp" if as_postgres and os.path.isdir("/tmp") else None
    tmp = Path(tempfile.mkdtemp(prefix="careterm-pg-", dir=base))
    data, sockets, log = tmp / "data", tmp / "sock", tmp / "server.log"
    started = False
    try:
        sockets.mkdir()
        if as_postgres:
            pw = pwd.getpwnam("postgres")
            for path in (tmp, sockets):
                os.chown(path, pw.pw_uid, pw.pw_gid)
        run(
            as_postgres
            + [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
               "-E", "UTF8", "--locale=C", "--no-sync"],
            stdout=subprocess.DEVNULL,
        )
        for attempt in range(5):
            port = _free_port()
            options = (
                f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c max_connections=300"
                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            result = subprocess.run(
                as_postgres + [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log),
                               "-o", options, "-w", "-t", "60", "start"],
                stdout=subprocess.DEVNULL,
            )
            if result.returncode == 0:
                started = True
                break
            time.sleep(0.2)  # the port may have been taken in between: try another
        if not started:
            say(f"PostgreSQL did not start; its log:\n{log.read_text() if log.exists() else '(none)'}")
            raise SystemExit(3)
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        say(f"throwaway PostgreSQL {bindir.parent.name} at {url}")
        yield url
    finally:
        if started:
            subprocess.run(
                as_postgres + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        shutil.rmtree(tmp, ignore_errors=True)


# --- subcommands ---------------------------------------------------------------------------


@contextlib.contextmanager
def with_test_postgres() -> Iterator[dict[str, str]]:
    """The environment, with CARETERM_TEST_PG naming a throwaway server unless one is given."""
    env = dict(os.environ)
    with contextlib.ExitStack() as stack:
        if not env.get("CARETERM_TEST_PG"):
            url = stack.enter_context(throwaway_postgres())
            if url:
                env["CARETERM_TEST_PG"] = url
        yield env


def cmd_test(args: list[str]) -> int:
    """Run the test suite (pytest args pass through), with a throwaway PostgreSQL if possible."""
    python = ensure_venv()
    with with_test_postgres() as env:
        pytest = subprocess.Popen([str(python), "-m", "pytest", *args], cwd=ROOT, env=env)
        try:
            return pytest.wait()
        except KeyboardInterrupt as e:
            # Ctrl-C reached pytest too; a SIGTERM/SIGHUP sent to us alone is passed on.
            # Let pytest print its summary, then make sure it is gone.
            if isinstance(e, Terminated):
                pytest.terminate()
            try:
                pytest.wait(timeout=15)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                pytest.kill()
                pytest.wait()
            raise


DEMO_STORE = ROOT / ".demo" / "careterm-demo.sqlite"


def cmd_demo(args: list[str]) -> int:
    """Open careterm on a demo school (built once into .demo/; args go to careterm)."""
    python = ensure_venv()
    env = dict(os.environ, CARETERM_STORE=str(DEMO_STORE))
    env.setdefault("CARETERM_USER", "admin")
    if not DEMO_STORE.exists():
        DEMO_STORE.parent.mkdir(exist_ok=True)
        say(f"building the demo school into {DEMO_STORE}")
        built = subprocess.call([str(python), "-m", "careterm.cli", "demo"], cwd=ROOT, env=env)
        if built != 0:
            DEMO_STORE.unlink(missing_ok=True)
            return built
    # the demo's leader signs in by itself (every demo password is demo1234): a session for
    # this OS user on the demo store, as `careterm login` makes it
    login = subprocess.run([str(python), "-m", "careterm.cli", "login", env["CARETERM_USER"], "--password-stdin"],
                           cwd=ROOT, env=env, input="demo1234\n", text=True, capture_output=True)
    if login.returncode != 0:
        sys.stderr.write(login.stderr)
        return login.returncode
    return subprocess.call([str(python), "-m", "careterm.cli", *args], cwd=ROOT, env=env)


def cmd_bench(args: list[str]) -> int:
    """District benchmark on SQLite and a throwaway PostgreSQL (args go to benchmarks/district.py)."""
    python = ensure_venv()
    with with_test_postgres() as env:
        return subprocess.call([str(python), "benchmarks/district.py", *args], cwd=ROOT, env=env)


def venv_env() -> dict[str, str]:
    """The environment of an activated .venv: its bin first on PATH, as `. .venv/bin/activate`."""
    bindir = VENV_PYTHON.parent
    env = dict(os.environ, VIRTUAL_ENV=str(VENV), PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("PYTHONHOME", None)
    return env


def cmd_shell(args: list[str]) -> int:
    """A shell with careterm on PATH (.venv activated); with arguments, runs that one command."""
    ensure_venv()
    if args:
        return subprocess.call(args, env=venv_env())
    shell = os.environ.get("SHELL") or ("cmd.exe" if os.name == "nt" else "/bin/sh")
    say(f"careterm is on PATH in this shell ({shell}); `exit` to leave it")
    return subprocess.call([shell], env=venv_env())


SUBCOMMANDS: dict[str, Callable[[list[str]], int]] = {
    "bench": cmd_bench,
    "demo": cmd_demo,
    "shell": cmd_shell,
    "test": cmd_test,
}


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: unwind like Ctrl-C so that the cleanups run."""


def _terminate(signum, frame):
    raise Terminated


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in SUBCOMMANDS:
        names = "|".join(SUBCOMMANDS)
        print(f"usage: python3 quickstart.py {{{names}}} [args]", file=sys.stderr)
        for name, func in SUBCOMMANDS.items():
            print(f"  {name:8} {(func.__doc__ or '').strip().splitlines()[0]}", file=sys.stderr)
        return 2
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, _terminate)
    try:
        return SUBCOMMANDS[argv[0]](argv[1:])
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    except subprocess.CalledProcessError as e:
        say(f"failed: {' '.join(map(str, e.cmd))} (exit {e.returncode})")
        return e.returncode or 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
