"""Staff over SSH (issue 12 item 2; cli.md "Signing in, permissions and privacy": keys and
ssh-session), end to end with a real OpenSSH server on 127.0.0.1, real key pairs made by
`ssh-keygen` and the real `ssh` client.

The server is started by the tests with its own config and host key. The account it lets in
is root with `PermitRootLogin forced-commands-only` (root may log in with a key only where its
authorized_keys line forces a command: just what `keys install` writes). A dedicated service
account is what the README tells a school to make; here it could not run this checkout's
Python, which may live under a root-only home (/root/.pyenv), so root stands in for it. The
authorized_keys file is under root's home, because StrictModes refuses a file below /tmp (a
world-writable directory on its way up).

Without sshd (or not as root: sshd must switch to the account) these tests are skipped; CI
installs openssh-server and runs as root.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from test_cli import PROGRAM, clean_env

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
needs_sshd = pytest.mark.skipif(
    SSHD is None or shutil.which("ssh") is None or not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="needs openssh-server and the ssh client, as root (CI installs them and runs as root)",
)
needs_keygen = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen (openssh-client)")
PASSWORD = "password123"


# --- the store and its keys, through the real command line -------------------------------------


class Box:
    """A store in a directory of its own: its data key, the admin's session, key pairs."""

    def __init__(self, root: Path):
        self.root = root
        self.store = str(root / "school.sqlite")
        self.env = clean_env({"CARETERM_KEY_FILE": str(root / "data.key"), "XDG_STATE_HOME": str(root / "state"),
                              "HOME": str(root / "home")})
        (root / "home").mkdir(mode=0o700, exist_ok=True)

    def run(self, *args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
        done = subprocess.run([*PROGRAM, "--store", self.store, *args], input=stdin, capture_output=True, text=True,
                              env={**self.env, **(env or {})}, timeout=120)
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def ok(self, *args: str, **kw) -> subprocess.CompletedProcess:
        done = self.run(*args, **kw)
        assert done.returncode == 0, (args, done.returncode, done.stdout, done.stderr)
        return done

    def keypair(self, name: str) -> Path:
        path = self.root / f"id_{name}"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@laptop", "-f", str(path)],
                       check=True, capture_output=True)
        return path

    def fingerprint(self, key: Path) -> str:
        """As `ssh-keygen -lf` prints it: the bits, then SHA256:…"""
        return subprocess.run(["ssh-keygen", "-lf", f"{key}.pub"], capture_output=True, text=True, check=True).stdout.split()[1]


def make_school(root: Path) -> Box:
    """admin (admin, leader); T1 and T2 teachers, GONE a teacher; P1 paired with T1."""
    box = Box(root)
    box.ok("--as", "admin", "init", "--school", "石砚小学", "--name", "校长", "--password-stdin", stdin=PASSWORD + "\n")
    box.ok("login", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    for staff, name in (("T1", "王老师"), ("T2", "李老师"), ("GONE", "周老师")):
        box.ok("staff", "add", staff, "--name", name)
    box.ok("pupil", "add", "P1", "--name", "小明", "--gender", "M", "--birth", "2016-03-01", "--grade", "3",
           "--class", "2", "--category", "left_behind", "--guardian", "张奶奶,祖母,13800000000")
    box.ok("pair", "T1", "P1")
    return box


# --- keys add | list | revoke | install, without a server ------------------------------------


def test_keys_add_has_its_own_key_file_and_every_other_command_keeps_the_global_one():
    """`keys add --key-file` is the SSH key's file, the global `--key-file` (the store's data
    key) goes before the command; taking the global out of `keys add` leaves every other
    command's parser as it was (argparse's "resolve" stripped the shared option everywhere and
    made it a positional PATH of all the others: `contact P1` then read P1 as the key file)."""
    from careterm.cli import build_parser

    parser = build_parser()
    add = parser.parse_args(["--key-file", "data.key", "keys", "add", "T1", "--key-file", "t1.pub"])
    assert (add.key_file, add.ssh_key_file, add.staff_id) == ("data.key", "t1.pub", "T1")
    contact = parser.parse_args(["contact", "P1", "--kind", "talk", "--key-file", "data.key"])
    assert (contact.pupil_id, contact.key_file) == ("P1", "data.key")
    stats = parser.parse_args(["stats", "--key-file", "data.key"])
    assert stats.key_file == "data.key"



@needs_keygen
def test_keys_are_bound_by_events_with_ssh_keygens_fingerprint(tmp_path):
    """keys add takes --key or --key-file, says the fingerprint ssh-keygen -lf says; keys list
    holds {"staff","fingerprint","added"}; the audit trail shows who bound and revoked it."""
    box = make_school(tmp_path)
    key = box.keypair("t1")
    added = json.loads(box.ok("keys", "add", "T1", "--key-file", f"{key}.pub", "--json").stdout)
    assert [(e["type"], e["subject"], e["actor"]) for e in added] == [("KeyAdded", "staff/T1", "admin")]
    listed = json.loads(box.ok("keys", "list", "--json").stdout)
    [row] = listed["keys"]
    assert set(row) == {"staff", "fingerprint", "added"}
    assert (row["staff"], row["fingerprint"]) == ("T1", box.fingerprint(key))
    other = box.keypair("t2")
    box.ok("keys", "add", "T2", "--key", (other.with_suffix(".pub")).read_text().strip())
    box.ok("keys", "revoke", box.fingerprint(other))
    assert [r["staff"] for r in json.loads(box.ok("keys", "list", "--json").stdout)["keys"]] == ["T1"]
    audit = json.loads(box.ok("audit", "--type", "KeyRevoked", "--json").stdout)["events"]
    assert [(e["subject"], e["actor"]) for e in audit] == [("staff/T2", "admin")]


@needs_keygen
def test_keys_add_refuses_what_is_not_a_usable_key(tmp_path):
    """Refused, naming the option, nothing written (exit 1): a key bound twice (to anyone), a
    revoked key bound again, a staff member who left, a DSA key, an RSA key of 1024 bits, a
    private key, a line with authorized_keys options, a truncated key, both --key and
    --key-file, neither; and a teacher may not bind keys (admins only)."""
    box = make_school(tmp_path)
    key = box.keypair("t1")
    public = key.with_suffix(".pub").read_text().strip()
    box.ok("keys", "add", "T1", "--key", public)
    small = tmp_path / "small"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "1024", "-N", "", "-f", str(small)], check=True, capture_output=True)
    kind, blob = public.split()[:2]
    box.ok("staff", "leave", "GONE")
    cases = [
        (("keys", "add", "T2", "--key", public), "--key"),
        (("keys", "add", "GONE", "--key", public), "STAFF_ID"),
        (("keys", "add", "T2", "--key", "ssh-dss " + blob), "--key"),
        (("keys", "add", "T2", "--key-file", f"{small}.pub"), "--key-file"),
        (("keys", "add", "T2", "--key-file", str(key)), "--key-file"),
        (("keys", "add", "T2", "--key", f'command="/bin/sh" {public}'), "--key"),
        (("keys", "add", "T2", "--key", f"{kind} {blob[:-8]}"), "--key"),
        (("keys", "add", "T2", "--key", public, "--key-file", f"{key}.pub"), "--key"),
        (("keys", "add", "T2"), "--key"),
        (("keys", "add", "T2", "--key-file", str(tmp_path / "missing.pub")), "--key-file"),
    ]
    before = json.loads(box.ok("verify", "--json").stdout)
    for argv, field in cases:
        done = box.run(*argv)
        assert done.returncode == 1 and field in done.stderr and done.stdout == "", (argv, done.returncode, done.stderr)
    box.ok("keys", "revoke", box.fingerprint(key))
    again = box.run("keys", "add", "T2", "--key", public)
    assert again.returncode == 1 and "--key" in again.stderr
    assert json.loads(box.ok("verify", "--json").stdout)["events"] == before["events"] + 1  # the revocation only
    box.ok("staff", "password", "T1", "--password-stdin", stdin=PASSWORD + "\n")
    box.ok("login", "T1", "--password-stdin", stdin=PASSWORD + "\n")
    for argv in (("keys", "add", "T1", "--key", box.keypair("t1b").with_suffix(".pub").read_text()), ("keys", "list"),
                 ("keys", "install", "--file", str(tmp_path / "ak"))):
        done = box.run(*argv)
        assert done.returncode == 1 and "--as" in done.stderr, (argv, done.stderr)
    assert not (tmp_path / "ak").exists()


@needs_keygen
def test_keys_install_writes_a_managed_block_and_leaves_the_rest(tmp_path):
    """The default file is ~/.ssh/authorized_keys (~/.ssh made 0700, the file 0600); a person's
    own lines before and after the block stay; a second install replaces the block, not adds
    one; each line forces ssh-session of its key with restrict,pty; a begin line without its end
    is refused (exit 1) and the file left as it was."""
    box = make_school(tmp_path)
    key = box.keypair("t1")
    box.ok("keys", "add", "T1", "--key-file", f"{key}.pub")
    ssh_dir = tmp_path / "home" / ".ssh"
    ssh_dir.mkdir(mode=0o755)
    target = ssh_dir / "authorized_keys"
    target.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwn own-key\n")
    os.chmod(target, 0o644)
    box.ok("keys", "install")
    target.write_text(target.read_text() + "# my own line after\n")
    box.ok("keys", "install")
    text = target.read_text()
    assert stat.S_IMODE(os.stat(ssh_dir).st_mode) == 0o700 and stat.S_IMODE(os.stat(target).st_mode) == 0o600
    lines = text.splitlines()
    assert lines[0].endswith("own-key") and "# my own line after" in lines
    assert sum(line.startswith("# careterm keys begin") for line in lines) == 1
    [forced] = [line for line in lines if line.startswith("command=")]
    fingerprint = box.fingerprint(key)
    assert forced.startswith(f'command="{PROGRAM[0]}') and f"ssh-session {fingerprint}\",restrict,pty ssh-ed25519 " in forced
    assert f"--store {box.store}" in forced
    begin = next(line for line in lines if line.startswith("# careterm keys begin"))
    target.write_text(f"{begin}\nsomeone's line\n")
    done = box.run("keys", "install")
    assert done.returncode == 1 and "--file" in done.stderr
    assert target.read_text() == f"{begin}\nsomeone's line\n"


# --- a real sshd -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, root: Path, keys_file: Path):
        self.root, self.port = root, _free_port()
        host_key = root / "host_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True, capture_output=True)
        config = root / "sshd_config"
        config.write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {host_key}", f"PidFile {root / 'sshd.pid'}",
            f"AuthorizedKeysFile {keys_file}", "PermitRootLogin forced-commands-only", "AllowUsers root",
            "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
            "StrictModes yes", "PermitUserEnvironment no",
            # a careless AcceptEnv: a client's CARETERM_* must still not choose who it is
            "AcceptEnv LANG LC_* CARETERM_*", "LogLevel VERBOSE", "",
        ]))
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        self.log = open(root / "sshd.log", "w")
        self.process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert self.process.poll() is None, (root / "sshd.log").read_text()
                time.sleep(0.1)
        raise AssertionError("sshd did not start: " + (root / "sshd.log").read_text())

    def ssh_argv(self, key: Path, *options: str) -> list[str]:
        return ["ssh", "-i", str(key), "-p", str(self.port), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={self.root / 'known_hosts'}",
                "-o", "LogLevel=ERROR", "-F", "/dev/null", *options, "root@127.0.0.1"]

    def ssh(self, key: Path, *command: str, options: tuple[str, ...] = (), stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([*self.ssh_argv(key, *options), *command], capture_output=True, text=True, timeout=120,
                              input=stdin)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()


@pytest.fixture(scope="module")
def site():
    """A school, three staff keys installed by `keys install` into the authorized_keys sshd
    reads (under root's home: see the module's docstring), and the server."""
    root = Path(tempfile.mkdtemp(prefix=".careterm-ssh-test-", dir=pwd.getpwuid(0).pw_dir))
    try:
        box = make_school(root)
        box.keys = {name: box.keypair(name) for name in ("T1", "T2", "GONE")}
        for staff, key in box.keys.items():
            box.ok("keys", "add", staff, "--key-file", f"{key}.pub")
        box.ok("keys", "install")
        keys_file = root / "home" / ".ssh" / "authorized_keys"
        server = Server(root, keys_file)
        try:
            yield box, server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@needs_sshd
def test_the_key_signs_in_its_staff_member_and_what_they_record_is_theirs(site):
    """`ssh school careterm whoami --json` is T1 via ssh; a contact recorded over ssh has the
    actor T1; `--as T1` is allowed (it names the one signed in), `--as admin` is exit 4."""
    box, server = site
    who = server.ssh(box.keys["T1"], "careterm", "whoami", "--json")
    assert who.returncode == 0, (who.stdout, who.stderr)
    assert {k: json.loads(who.stdout)[k] for k in ("staff", "via")} == {"staff": "T1", "via": "ssh"}
    done = server.ssh(box.keys["T1"], "careterm", "--as", "T1", "contact", "P1", "--kind", "talk", "--json")
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)
    assert (row["type"], row["actor"]) == ("ContactMade", "T1")
    for argv in (("careterm", "--as", "admin", "whoami"), ("careterm", "whoami", "--as=admin"),
                 ("careterm", "contact", "P1", "--kind", "talk", "--as", "admin")):
        refused = server.ssh(box.keys["T1"], *argv)
        assert refused.returncode == 4 and "admin" in refused.stderr, (argv, refused.returncode, refused.stderr)
    mine = json.loads(box.ok("audit", "--type", "ContactMade", "--json").stdout)["events"]
    assert [e["actor"] for e in mine] == ["T1"]  # the refused ones wrote nothing


@needs_sshd
def test_anything_but_a_careterm_command_as_oneself_is_refused(site):
    """Another program (exit 2, and never run), another store or a server file (2), `init --id`
    (a school of one's own in the store, 2), ssh-session run without sshd (4), sign-in
    commands and another key's session (4), a token in the environment (4), a remote port forward
    (restrict: the server refuses it, ssh gives up with 255)."""
    box, server = site
    marker = box.root / "ran"
    t2 = box.fingerprint(box.keys["T2"])
    cases = [
        ((f"touch {marker}",), 2), (("ls", "/"), 2), (("sh", "-c", "id"), 2),
        (("careterm", "--store", str(box.root / "other.sqlite"), "whoami"), 2),
        (("careterm", "--sto", str(box.root / "other.sqlite"), "whoami"), 2),
        (("careterm", "--key-file", "/etc/passwd", "whoami"), 2),
        (("careterm", "keys", "install", "--file", str(box.root / "x")), 2),
        (("careterm", "login", "admin"), 4), (("careterm", "logout"), 4),
        (("careterm", "ssh-session", t2), 4),
        (("careterm", "init", "--id", "s2", "--school", "我的学校", "--password-stdin"), 2),
    ]
    for argv, code in cases:
        done = server.ssh(box.keys["T1"], *argv, stdin=PASSWORD + "\n")  # init's password, were it read
        assert done.returncode == code and done.stdout == "", (argv, done.returncode, done.stdout, done.stderr)
    assert not marker.exists() and not (box.root / "other.sqlite").exists() and not (box.root / "x").exists()
    assert json.loads(box.ok("schools", "--json").stdout)["schools"][0]["school"] == "s1"
    assert len(json.loads(box.ok("schools", "--json").stdout)["schools"]) == 1
    # at the account's own prompt (no sshd, no SSH_CONNECTION) naming T2's key: not T2
    local = box.run("ssh-session", t2, env={"SSH_ORIGINAL_COMMAND": "careterm whoami"})
    assert local.returncode == 4 and local.stdout == "", local.stderr
    token = server.ssh(box.keys["T1"], "careterm", "whoami", options=("-o", "SetEnv=CARETERM_TOKEN=ct_whatever"))
    assert token.returncode == 4, token.stderr
    user = server.ssh(box.keys["T1"], "careterm", "whoami", "--json", options=("-o", "SetEnv=CARETERM_USER=admin"))
    assert user.returncode == 0 and json.loads(user.stdout)["staff"] == "T1", user.stderr
    port = _free_port()
    forward = server.ssh(box.keys["T1"], "careterm", "whoami",
                         options=("-o", "ExitOnForwardFailure=yes", "-R", f"{port}:127.0.0.1:{server.port}"))
    assert forward.returncode == 255, (forward.returncode, forward.stderr)


@needs_sshd
def test_a_revoked_key_or_one_of_staff_who_left_is_refused(site):
    """T2's key revoked in the store, its line still in the file: exit 4. After `keys install`
    the line is gone and sshd itself refuses the key (255). GONE's key after GONE left: 4."""
    box, server = site
    assert server.ssh(box.keys["T2"], "careterm", "whoami").returncode == 0
    box.ok("keys", "revoke", box.fingerprint(box.keys["T2"]))
    still = server.ssh(box.keys["T2"], "careterm", "whoami")
    assert still.returncode == 4 and still.stdout == "", still.stderr
    tui = server.ssh(box.keys["T2"])
    assert tui.returncode == 4, tui.stderr
    box.ok("keys", "install")
    gone = server.ssh(box.keys["T2"], "careterm", "whoami")
    assert gone.returncode == 255 and "Permission denied" in gone.stderr, gone.stderr
    box.ok("staff", "leave", "GONE")
    left = server.ssh(box.keys["GONE"], "careterm", "whoami")
    assert left.returncode == 4, left.stderr
    assert server.ssh(box.keys["T1"], "careterm", "whoami").returncode == 0


@needs_sshd
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (CI has it)")
def test_the_app_paints_over_the_connection(site):
    """`ssh -tt school` with no command opens the app on the connection's terminal (tmux,
    80×24): T1's own day is painted under the school's name and T1, and ^q ends the app and
    the connection."""
    box, server = site
    sock = str(box.root / "tmux.sock")

    def tmux(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-S", sock, *args], capture_output=True, text=True, timeout=30)

    tmux("-f", "/dev/null", "new-session", "-d", "-s", "ssh", "-x", "80", "-y", "24", "env", "TERM=xterm-256color",
         *server.ssh_argv(box.keys["T1"], "-tt"))
    try:
        deadline, screen = time.monotonic() + 30, ""
        while time.monotonic() < deadline:
            screen = tmux("capture-pane", "-p", "-t", "ssh").stdout
            if "王老师，" in screen:
                break
            time.sleep(0.3)
        assert "石砚小学 — T1" in screen and "王老师，" in screen and "小明(P1)" in screen, screen  # T1's own day
        tmux("send-keys", "-t", "ssh", "C-q")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and tmux("has-session", "-t", "ssh").returncode == 0:
            time.sleep(0.2)
        assert tmux("has-session", "-t", "ssh").returncode != 0, "the app and the connection did not end"
    finally:
        tmux("kill-server")
