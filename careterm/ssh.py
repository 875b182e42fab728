"""Staff over SSH, the way gitolite and Gitea do it: one service account, one authorized_keys
line per staff key, each forcing `careterm ... ssh-session FINGERPRINT`.

- `keys install` writes the lines as a managed block (between a begin and an end line) of the
  service account's authorized_keys; every other line of the file stays as it was. The file is
  written whole into a temporary file beside it and moved into place (a reader never sees half
  a file), mode 0600 in a 0700 ~/.ssh.
- `ssh-session FINGERPRINT` is what sshd runs for such a key: it looks the key up in the store
  (a key revoked since the file was written, or whose staff member has left, gets exit 4), signs
  that staff member in for this process alone (careterm.identity.Proven, via "ssh"), and opens
  the app, or runs the careterm command the client asked for (SSH_ORIGINAL_COMMAND) as them.
  Whatever would choose another identity, store or server file is refused before anything runs.

No Textual here (the app is started by the command line, in this process).
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from events import sshkeys
from events.errors import Refused

EXIT_USAGE, EXIT_SIGNIN = 2, 4
BEGIN, END = "# careterm keys begin", "# careterm keys end"
# the careterm commands the key itself stands in for: signing in and out, or being another key
NOT_OVER_SSH = frozenset({"login", "logout", "ssh-session"})
# what the server's administrator does on the server, never a staff member over SSH (`init --id`
# would add a school of which the caller is the admin to the store)
SERVER_COMMANDS = frozenset({"init", "demo"})
# options that name a file or a store of the server: the account's, not the caller's
SERVER_PATHS = {"store": "--store", "key_file": "--key-file", "ssh_key_file": "--key-file", "file": "--file"}
# what the client's environment may not bring in (sshd passes only what AcceptEnv allows, but
# a careless AcceptEnv must not let a client choose who or where it is)
SCRUBBED = ("CARETERM_USER", "CARETERM_TOKEN", "CARETERM_STORE", "CARETERM_SCHOOL", "CARETERM_KEY_FILE")


# --- the keys as the store has them ----------------------------------------------------------


def check_admin(s: Any) -> tuple[Any, str, dt.date]:
    """(model, school, today) for `keys list|install`: an admin who is current staff."""
    from events import permissions
    from events.saved import load

    actor = s.require_actor()
    school = s.school_id()
    model = load(s.store(), school)
    today = s.today(school)
    permissions.check(model, actor, today, "staff")
    return model, school, today


def key_rows(model: Any, today: dt.date) -> list[dict]:
    """`keys list`: the keys that sign someone in today, by staff member then date."""
    return [{"staff": k.staff, "fingerprint": k.fingerprint, "added": k.added.isoformat()}
            for k in sshkeys.active_keys(model, today)]


# --- authorized_keys ---------------------------------------------------------------------------


def program() -> list[str]:
    """This careterm, as sshd must start it: the console script by its full path, else this
    Python with `-m careterm.cli`."""
    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0) == "careterm" and os.path.isfile(argv0):
        return [os.path.abspath(argv0)]
    found = shutil.which("careterm", path=os.path.dirname(sys.executable))
    if found:
        return [os.path.abspath(found)]
    return [os.path.abspath(sys.executable), "-m", "careterm.cli"]


def _safe(word: str, field: str) -> str:
    """One word of the forced command, quoted for the account's shell. Inside command="..."
    a double quote or a backslash would need escaping of its own, a line break ends the line:
    such a path is refused rather than escaped twice."""
    if any(c in word for c in '"\\\n\r') or not word.isprintable():
        raise Refused(field, "ssh_unsafe_path", path=word.encode("unicode_escape").decode("ascii")[:80])
    return shlex.quote(word)


def store_words(s: Any, school: str, several: bool) -> list[tuple[str, str]]:
    """(word, field) pairs naming the store (its full path), its key file where the command
    line takes one, and the school of a district store."""
    from events.store import is_postgres

    url = s.url if is_postgres(s.url) else os.path.abspath(os.path.expanduser(s.url))
    words = [("--store", "--store"), (url, "--store")]
    key_path = _key_path(s)
    if key_path is not None and _takes_key_file(s):
        words += [("--key-file", "--key-file"), (key_path, "--key-file")]
    if several:
        words += [("--school", "--school"), (school, "--school")]
    return words


def _key_path(s: Any) -> str | None:
    """The full path of the store's key file (encryption at rest), if it has one."""
    found = getattr(s.store(), "key_path", None)
    return os.path.abspath(str(found)) if found is not None else None


def _takes_key_file(s: Any) -> bool:
    parser = getattr(getattr(s, "args", None), "_parser", None)
    return parser is not None and any("--key-file" in a.option_strings for a in parser._actions)


def forced_command(s: Any, school: str, several: bool) -> str:
    """The command sshd runs for every key of this store, less `ssh-session FINGERPRINT`. The
    store's key file goes with it (the account's shell starts it with no environment of ours):
    as an option where the command line takes one, else as CARETERM_KEY_FILE."""
    words = [_safe(w, "--store") for w in program()]
    words += [_safe(w, f) for w, f in store_words(s, school, several)]
    key_path = _key_path(s)
    if key_path is not None and not _takes_key_file(s):
        words.insert(0, "CARETERM_KEY_FILE=" + _safe(key_path, "--key-file"))
    return " ".join(words)


def key_line(command: str, key: Any) -> str:
    """command="… ssh-session FP",restrict,pty TYPE BASE64 careterm:STAFF. `restrict` takes away
    every forwarding, the agent, X11 and user rc; `pty` gives the app its terminal back."""
    words = f"{command} ssh-session {_safe(key.fingerprint, 'FINGERPRINT')}"
    staff = "".join(c if c.isprintable() and not c.isspace() else "_" for c in key.staff)
    return f'command="{words}",restrict,pty {key.key} careterm:{staff}'


def block_tag(s: Any, school: str) -> str:
    """What names this store's (and school's) block: several stores may share one account."""
    from careterm.identity import store_identity

    return f"{store_identity(s.url)} {school}"


def render(existing: str, tag: str, lines: list[str], field: str = "--file") -> str:
    """The file with this tag's block replaced by `lines` (or appended), all else untouched. A
    begin line without its end is refused: the lines after it may be a person's own."""
    begin, end = f"{BEGIN} {tag}", f"{END} {tag}"
    kept: list[str] = []
    inside = False
    for line in existing.splitlines():
        if line == begin and not inside:
            inside = True
            continue
        if inside:
            if line == end:
                inside = False
            continue
        kept.append(line)
    if inside:
        raise Refused(field, "ssh_block_unclosed", marker=begin)
    block = [begin, "# " + "written by `careterm keys install`: changes inside this block are lost", *lines, end]
    return "\n".join(kept + block) + "\n"


def default_file() -> Path:
    return Path(os.path.expanduser("~")) / ".ssh" / "authorized_keys"


def write_atomically(path: Path, text: str, *, ssh_dir: bool) -> None:
    """The whole file into a temporary file beside it (0600), then moved into its place; the
    owner of a file that was there stays its owner. `ssh_dir`: the parent is ~/.ssh (0700)."""
    target = Path(os.path.realpath(path))
    parent = target.parent
    if ssh_dir:
        parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(parent, 0o700)
    try:
        before = os.stat(target)
    except FileNotFoundError:
        before = None
    fd, tmp = tempfile.mkstemp(prefix=".authorized_keys.", dir=parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if before is not None and hasattr(os, "chown") and os.geteuid() == 0:
            os.chown(tmp, before.st_uid, before.st_gid)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def install(s: Any, file: str | None) -> dict:
    """`keys install`: {"file", "keys"} once the block is written."""
    model, school, today = check_admin(s)
    path = Path(os.path.expanduser(file)) if file else default_file()
    several = len(s.schools()) > 1
    command = forced_command(s, school, several)
    lines = [key_line(command, k) for k in sshkeys.active_keys(model, today)]
    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError):
        raise Refused("--file", "unreadable_file", path=str(path)) from None
    text = render(existing, block_tag(s, school), lines)
    try:
        write_atomically(path, text, ssh_dir=file is None)
    except OSError:
        raise Refused("--file", "unwritable_file", path=str(path)) from None
    return {"file": str(path), "keys": len(lines)}


# --- the forced command ------------------------------------------------------------------------


class Denied(Exception):
    """Refused over SSH before anything ran: the exit code and the catalog sentence."""

    def __init__(self, code: int, key: str, **params: Any):
        super().__init__(key)
        self.code, self.key, self.params = code, key, params


def requested(original: str | None, staff: str, school: str, lang: str) -> list[str]:
    """The careterm command line the client asked for (without the program's name), checked: []
    opens the app. Raises Denied for another program, another identity or school, a token, a
    store or a server file, or a command the key stands in for."""
    if original is None or not original.strip():
        return []
    try:
        words = shlex.split(original)
    except ValueError:  # an unclosed quote (shlex's own words are English: not shown)
        raise Denied(EXIT_USAGE, "ssh.unreadable_command") from None
    if not words or words[0] != "careterm":
        raise Denied(EXIT_USAGE, "ssh.only_careterm", program=(words or [""])[0][:60])
    argv = words[1:]
    if not argv:
        return []
    args = _parsed(argv, lang)
    for dest, option in SERVER_PATHS.items():
        if getattr(args, dest, None) is not None:
            raise Denied(EXIT_USAGE, "ssh.server_path", option=option)
    if getattr(args, "token", None) is not None:
        raise Denied(EXIT_SIGNIN, "ssh.no_token")
    if getattr(args, "command", None) in SERVER_COMMANDS:
        raise Denied(EXIT_USAGE, "ssh.server_command", command=args.command)
    if getattr(args, "command", None) in NOT_OVER_SSH:
        raise Denied(EXIT_SIGNIN, "ssh.not_over_ssh", command=args.command)
    if getattr(args, "actor", None) not in (None, staff):
        raise Denied(EXIT_SIGNIN, "ssh.other_actor", staff=staff, other=args.actor)
    if getattr(args, "school", None) not in (None, school):
        raise Denied(EXIT_SIGNIN, "ssh.other_school", staff=staff, school=school)
    return argv


def _parsed(argv: list[str], lang: str):
    """The request read by the very parser that will run it (so an abbreviated `--sto` or an
    `--as=X` is seen as what it is). Bad usage or --help end here, as the command line ends."""
    from careterm.cli import build_parser, joined_words
    from careterm.i18n import Translator

    try:
        return build_parser(Translator(lang)).parse_args(joined_words(list(argv)))
    except SystemExit as ended:
        raise Denied(int(ended.code or 0), "") from None


def session(s: Any, fingerprint: str) -> int:
    """`ssh-session FINGERPRINT`: the forced command of a staff key."""
    from careterm.identity import Proven
    from events.saved import load

    if not os.environ.get("SSH_CONNECTION"):
        # sshd sets it; without it this is someone at the account's own prompt naming a key
        # they may not hold (the account's own users can do anything with its store anyway:
        # nobody should log in to it but through the forced command)
        return _say(s, Denied(EXIT_SIGNIN, "ssh.not_from_sshd"))
    if os.environ.get("CARETERM_TOKEN"):
        return _say(s, Denied(EXIT_SIGNIN, "ssh.no_token"))
    for name in SCRUBBED:
        os.environ.pop(name, None)
    school = s.school_id()
    s.set_language()
    model = load(s.store(), school)
    key = sshkeys.usable(model, fingerprint, s.today(school))
    if key is None:
        return _say(s, Denied(EXIT_SIGNIN, "ssh.key_refused"))
    try:
        argv = requested(os.environ.get("SSH_ORIGINAL_COMMAND"), key.staff, school, s.t.lang)
    except Denied as denied:
        return _say(s, denied)
    words = [w for w, _ in store_words(s, school, True)]
    key_path = _key_path(s)
    if key_path is not None:  # the very key file this process opened the store with
        os.environ["CARETERM_KEY_FILE"] = key_path
    if "--as" not in argv and not any(a.startswith("--as=") for a in argv):
        words += ["--as", key.staff]
    s.close()  # the command opens the store itself
    from careterm import cli

    stdout = sys.stdout
    sys.stdout = getattr(stdout, "_stream", stdout)  # the app draws its own screen
    try:
        return cli.main(words + argv, proven=Proven(key.staff, "ssh", school))
    finally:
        sys.stdout = stdout


def _say(s: Any, denied: Denied) -> int:
    if denied.key:
        print(f"{s.t('error')}: {s.t(denied.key, **denied.params)}", file=sys.stderr)
    return denied.code


__all__ = ["install", "key_rows", "render", "requested", "session"]
