"""Staff with only a browser: `careterm web [--host H] [--port N] [--public-url URL]`.

textual-serve (imported here, only when the server starts) serves a page that draws a terminal
(xterm.js) and, for each browser connection (a websocket), starts one process of the command it
was given and pipes keys and screen between the two. That command is this program's
`web --browser-session`: the terminal app in a process of its own for that browser alone, which
opens on the sign-in screen and takes no identity but the staff id and password typed into it.

textual-serve has no sign-in of its own, and everything a browser process has, it has from the
server: the server's environment and the server's OS user. So the browser process
- never reads nor writes a session of that OS user (`careterm login` as the server's account
  signs no browser in: Workspace.keeps_sessions is False, the sign-in holds for the process),
- ignores a token and a staff id in the environment (CARETERM_TOKEN, CARETERM_USER: the server
  drops them from its own environment too) and --as on its command line,
- is started with the server's store, data key, school and language only (as CARETERM_STORE,
  CARETERM_KEY_FILE, … in the environment, not on a command line `ps` shows: a PostgreSQL URL
  may hold a password).
The browser's URL says nothing but the terminal's size. Failed sign-ins count towards the lock
as everywhere (careterm.identity.sign_in), and what is recorded says it came from the browser
(source "web").

The server listens on 127.0.0.1 unless --host says otherwise. Passwords cross the network in
the clear over plain HTTP: anything beyond this computer goes through a reverse proxy with TLS
(README, "In a browser"), with --public-url naming the address browsers use, which textual-serve
writes into the page (its scripts and its websocket, wss:// for https://). A websocket whose
Origin is not that address is refused: another web site open in a staff member's browser
cannot drive (or guess passwords into) the app.
"""

from __future__ import annotations

import errno
import html
import ipaddress
import os
import re
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from careterm.cli import EXIT_OK, Session
from careterm.values import parse_int
from events.errors import Refused
from events.store import is_postgres

PORTS = range(1, 65536)
# browsers served at once by default (`--max-sessions`): each is an app process of its own, and
# one that has not signed in yet costs as much as one that has, so a page opened in a loop by
# anyone who can reach the server must not start processes without end
MAX_SESSIONS = 20
SESSIONS = range(1, 1001)
# what a browser process never takes from the server's environment: who it is
IDENTITY_ENV = ("CARETERM_TOKEN", "CARETERM_USER")
# hosts that mean every address of the machine: the page then needs the address browsers use
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def main(s: Session) -> int:
    a = s.args
    if a.browser_session:
        return browser_session(s)
    return serve(s)


# --- the server ---------------------------------------------------------------------------------


def check_port(value: str) -> int:
    port = parse_int(value, "--port")
    if port not in PORTS:
        raise Refused("--port", "out_of_range", value=value, low=PORTS.start, high=PORTS.stop - 1)
    return port


def url_host(host: str) -> str:
    """A host as it is written in a URL (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def public_url(host: str, port: int, given: str | None) -> str:
    """The address browsers use, as textual-serve writes it into the page: --public-url (behind a
    proxy), else the address listened on. On every address of the machine (0.0.0.0) the page
    cannot know it: --public-url is needed."""
    if given is not None:
        parts = urlsplit(given.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise Refused("--public-url", "web_public_url", value=given)
        return given.strip().rstrip("/")
    if host in WILDCARD_HOSTS:
        raise Refused("--public-url", "web_public_url_needed", host=host or "*")
    return f"http://{url_host(host)}:{port}"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed_origins(host: str, port: int, public: str) -> frozenset[str]:
    """The pages whose scripts may open an app: the public address; on a loopback address also
    the names this computer has for itself (a browser on the server may type localhost)."""
    found = {origin_of(public)}
    if is_loopback(host):
        found |= {f"http://{name}:{port}" for name in ("localhost", "127.0.0.1", "[::1]")}
    return frozenset(found)


def origin_allowed(origin: str | None, allowed: frozenset[str]) -> bool:
    """A browser always sends Origin with a websocket; a program without one is no other site's
    page (and meets the sign-in like anyone)."""
    return origin is None or origin.lower().rstrip("/") in allowed


def browser_command() -> str:
    """What textual-serve runs (through the shell) for each browser: this careterm, in the
    shell's place (so that its parent is the server: see end_with_the_server)."""
    from careterm.ssh import program

    return "exec " + shlex.join([*program(), "web", "--browser-session"])


def browser_environment(s: Session) -> dict[str, str | None]:
    """The variables the server sets (None: removes) in its own environment, which every browser
    process inherits: the store, its data key, the school and language the server was given;
    never an identity."""
    url = s.url if is_postgres(s.url) else os.path.abspath(os.path.expanduser(s.url))
    key_path = getattr(s.store(), "key_path", None)
    values: dict[str, str | None] = {name: None for name in IDENTITY_ENV}
    values.update(
        CARETERM_STORE=url,
        CARETERM_KEY_FILE=os.path.abspath(str(key_path)) if key_path is not None else None,
        CARETERM_SCHOOL=s.wanted_school or None,
        CARETERM_LANG=s.lang_override or None,
    )
    return values


def serve(s: Session) -> int:
    a = s.args
    port = check_port(a.port)
    host = a.host.strip()
    public = public_url(host, port, a.public_url)
    most = parse_int(a.max_sessions, "--max-sessions") if a.max_sessions is not None else MAX_SESSIONS
    if most not in SESSIONS:
        raise Refused("--max-sessions", "out_of_range", value=most, low=SESSIONS.start, high=SESSIONS.stop - 1)
    s.store()  # a missing store, or its missing key, is said now, not in each browser
    s.schools()
    s.set_language()
    for name, value in browser_environment(s).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    t = s.t
    folder = page_folder(t)
    server = _server_class()(
        browser_command(), host=host, port=port, title="careterm", public_url=public, templates_path=folder,
        allowed=allowed_origins(host, port, public), most=most,
        said=t("web.serving", url=public, host=url_host(host), port=port, store=_shown_store(os.environ["CARETERM_STORE"])),
    )
    s.close()  # each browser process opens the store itself
    try:
        server.serve()
    except OSError as problem:  # the address: taken, not this machine's, or not ours to take
        if problem.errno == errno.EADDRINUSE:
            raise Refused("--port", "web_port_in_use", port=port) from None
        if problem.errno == errno.EACCES:
            raise Refused("--port", "web_port_denied", port=port) from None
        raise Refused("--host", "web_host_unusable", host=host) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return EXIT_OK


def _shown_store(url: str) -> str:
    """The store as the server says it: a server's URL without its password."""
    from careterm.identity import store_identity

    return store_identity(url) if is_postgres(url) else url


GOOGLE_FONTS = re.compile(r"<link\s[^>]*fonts\.googleapis\.com[^>]*>\s*", re.S)


def page(original: str, t) -> str:
    """textual-serve's page in the user's language, with a title, and without the font it
    fetches from Google (blocked in China: the page would wait for it; the terminal falls back
    to the computer's own monospace and CJK fonts)."""
    words = {key: html.escape(t(f"web.page.{key}")) for key in ("start", "ended", "restart")}
    text = GOOGLE_FONTS.sub("", original)
    text = text.replace("<html>", f'<html lang="{"zh-CN" if t.lang == "zh" else "en"}">', 1)
    text = text.replace("<head>", '<head>\n    <meta charset="utf-8" />\n    <title>careterm</title>', 1)
    text = text.replace(">Start</button>", f">{words['start']}</button>")
    text = text.replace("Session ended.", words["ended"])
    return text.replace(">Restart</button>", f">{words['restart']}</button>")


def page_folder(t) -> str:
    """A folder holding the page (textual-serve reads its template from a folder)."""
    import textual_serve

    original = Path(textual_serve.__file__).parent / "templates" / "app_index.html"
    folder = tempfile.mkdtemp(prefix="careterm-web-")
    (Path(folder) / "app_index.html").write_text(page(original.read_text(encoding="utf-8"), t), encoding="utf-8")
    return folder


# the page may not be framed by another site's (a hidden sign-in under a decoy), nor say where
# its users go
PAGE_HEADERS = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'",
                "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}


def _server_class():
    """textual-serve's Server, with its words ours and the Origin of each websocket checked."""
    from aiohttp import web
    from textual_serve.server import Server

    class CaretermServer(Server):
        def __init__(self, command: str, *, allowed: frozenset[str], said: str, most: int, **kw: Any):
            super().__init__(command, **kw)
            self.allowed, self.said, self.most = allowed, said, most
            self.open = 0  # browsers served now (each an app process)

        async def on_startup(self, app) -> None:
            print(self.said, flush=True)  # instead of textual-serve's banner (English)

        async def handle_index(self, request):
            response = await super().handle_index(request)
            response.headers.update(PAGE_HEADERS)
            return response

        async def handle_websocket(self, request):
            if not origin_allowed(request.headers.get("Origin"), self.allowed):
                raise web.HTTPForbidden()
            if self.open >= self.most:  # the page says the session ended; the next try may get in
                raise web.HTTPServiceUnavailable()
            self.open += 1
            try:
                return await super().handle_websocket(request)
            finally:
                self.open -= 1

    return CaretermServer


# --- one browser's process ----------------------------------------------------------------------


class BrowserSession(Session):
    """The workspace of one browser's app: signed in by its password alone, for this process."""

    keeps_sessions = False

    def __init__(self, args):
        super().__init__(args, None)
        self.actor, self.proven = None, None  # --as or CARETERM_USER names nobody here
        self.given_school = self.wanted_school  # the server's --school, if it was given one
        self.source = "web"  # what is recorded here says it came from a browser

    def sign_in_password(self, staff_id: str, password: str, new_password):
        """In a district store served without --school, the school is the one that has this id
        (as `login` finds it). An id that several schools have cannot say whose it is: it fails
        (serve such a school with --school); one that none has fails as a wrong password does."""
        if self.given_school is None:
            from careterm.identity import NotSignedIn

            schools = self.schools()
            mine = [sid for sid in self.store().schools_of_staff(staff_id) if sid in schools]
            if len(mine) > 1:
                raise NotSignedIn("failed")
            school = mine[0] if mine else first_school(schools)
            if school != self.wanted_school:
                self.wanted_school, self._service = school, None  # the write side is one school's
        return super().sign_in_password(staff_id, password, new_password)


def first_school(schools) -> str | None:
    return min(schools, key=lambda sid: (len(sid), sid)) if schools else None


def end_with_the_server(every: float = 1.0) -> None:
    """A server that stops tells each app to quit; one that is killed cannot. Its apps would
    live on, reachable by nobody, signed in and holding the store open: when the parent is no
    longer the server, the app is ended the web driver's own way (SIGTERM: it quits cleanly)."""
    import signal
    import threading
    import time

    server = os.getppid()

    def watch() -> None:
        while os.getppid() == server:
            time.sleep(every)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="careterm-web-server-watch", daemon=True).start()


def browser_session(s: Session) -> int:
    """`web --browser-session`: the app on the sign-in screen, for one browser (textual-serve's
    web driver speaks to it through stdin and stdout)."""
    end_with_the_server()
    for name in IDENTITY_ENV:
        os.environ.pop(name, None)
    s.close()
    ws = BrowserSession(s.args)
    ws.store()
    if ws.given_school is None and len(ws.schools()) > 1:
        ws.wanted_school = first_school(ws.schools())  # until the sign-in finds the person's own
    ws.set_language()
    from careterm.cli import run_app

    stdout = sys.stdout
    sys.stdout = getattr(stdout, "_stream", stdout)  # the app draws its own screen
    try:
        return run_app(ws)
    finally:
        sys.stdout = stdout


__all__ = ["main", "serve", "browser_session", "allowed_origins", "origin_allowed", "public_url"]
