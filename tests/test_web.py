"""`careterm web` in a real browser (issue 15, item 5): headless Chromium (Debian's `chromium`,
installed by .ci/run) against the real server, a subprocess on a demo store.

The browser is driven through its DevTools protocol (a websocket; aiohttp's client, which
textual-serve brings): it opens the page, types with Input.insertText and presses Enter with
Input.dispatchKeyEvent as a keyboard does, and takes screenshots (Page.captureScreenshot, saved
in the test's tmp_path). The page draws the terminal on a canvas, so its text is read from
xterm.js's own buffer: textual.js keeps the Terminal in an object of a class of its module,
reached from the closure of the window.onresize handler it sets, and Runtime.queryObjects
finds that object.

The server's OS user has a session (`careterm login admin`), and the server runs with a valid
token of admin in CARETERM_TOKEN and CARETERM_USER=admin: the browser must still be asked for a
password. Demo passwords: demo1234 (careterm/demo/passwords.py).

Without chromium the browser tests are skipped; the command-line checks run anyway.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from careterm.i18n import catalog
from test_cli import PROGRAM

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (CI installs it)")
ZH = catalog("zh")
LEADER, PASSWORD = "admin", "demo1234"
MENTOR = "t01"  # the lockout test's staff member (so that admin stays usable)
MASK = "•"  # how Textual draws a password's characters


# --- the programs ---------------------------------------------------------------------------------


def environment(home: Path, **extra: str) -> dict[str, str]:
    """A home of its own: the data key, sessions and tokens of this OS user live there."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARETERM_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share"),
               XDG_STATE_HOME=str(home / ".local/state"), PYTHONIOENCODING="utf-8", **extra)
    return env


def careterm(env: dict[str, str], *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*PROGRAM, *args], env=env, input=input, capture_output=True, text=True, timeout=120)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sessions(home: Path) -> dict[str, bytes]:
    folder = home / ".local/state/careterm/sessions"
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*"))} if folder.exists() else {}


@contextlib.contextmanager
def web_server(env: dict[str, str], store: Path, log: Path, *words: str):
    """`careterm --store STORE web --port FREE …` until the block ends (then SIGTERM)."""
    port = free_port()
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen([*PROGRAM, "--store", str(store), "web", "--port", str(port), *words],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"the server ended: {log.read_text(encoding='utf-8')}"
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            assert time.monotonic() < deadline, "the server did not listen within 60 s"
            time.sleep(0.2)
        yield port, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo store; the OS user signed in as admin; a token of admin."""
    root = tmp_path_factory.mktemp("web")
    home = root / "home"
    home.mkdir()
    env = environment(home)
    store = root / "demo.sqlite"
    made = careterm(env, "--store", str(store), "demo")
    assert made.returncode == 0, made.stderr
    signed = careterm(env, "--store", str(store), "login", LEADER, "--password-stdin", input=PASSWORD + "\n")
    assert signed.returncode == 0, signed.stderr
    token = json.loads(careterm(env, "--store", str(store), "--json", "token", "create", "--name", "web-test").stdout)["token"]
    me = json.loads(careterm(env, "--store", str(store), "--json", "whoami").stdout)
    assert me["via"] == "session"  # this OS user really is signed in ...
    by_token = json.loads(careterm({**env, "CARETERM_TOKEN": token}, "--store", str(store), "--json", "whoami").stdout)
    assert by_token["via"] == "token" and by_token["staff"] == LEADER  # ... and the token really works
    return {"root": root, "home": home, "env": env, "store": store, "token": token, "name": me["name"]}


@pytest.fixture(scope="module")
def server(demo):
    """The server as its OS user would start it with a session and a token at hand."""
    env = {**demo["env"], "CARETERM_TOKEN": demo["token"], "CARETERM_USER": LEADER}
    with web_server(env, demo["store"], demo["root"] / "server.log") as (port, proc):
        yield {"port": port, "url": f"http://127.0.0.1:{port}/", "proc": proc, "log": demo["root"] / "server.log"}


# --- the browser ----------------------------------------------------------------------------------

# the terminal's visible rows, as text (wide characters once)
READ_ROWS = """(() => { const t = window.__careterm_terminal, b = t.buffer.active, rows = [];
  for (let i = 0; i < t.rows; i++) rows.push(b.getLine(b.viewportY + i).translateToString(true));
  return rows.join(String.fromCharCode(10)); })()"""


class Chromium:
    """Headless Chromium and one page of it, by the DevTools protocol."""

    def __init__(self, shots: Path):
        self.shots = shots
        self.profile = tempfile.mkdtemp(prefix="careterm-chromium-")
        self.proc: subprocess.Popen | None = None
        self.next_id = 0

    async def __aenter__(self) -> "Chromium":
        import aiohttp

        flags = ["--headless", "--disable-gpu", "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
                 "--window-size=1000,700", "--no-first-run", "--no-default-browser-check", "about:blank"]
        if os.geteuid() == 0:
            flags.insert(0, "--no-sandbox")  # Chromium's sandbox will not run as root (CI is root)
        self.proc = subprocess.Popen([CHROMIUM, *flags], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        active = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (active.exists() and active.read_text().strip()):
            assert self.proc.poll() is None and time.monotonic() < deadline, "chromium did not start"
            await asyncio.sleep(0.1)
        port = int(active.read_text().split()[0])
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        page = next(t for t in targets if t["type"] == "page")
        self.http = aiohttp.ClientSession()
        self.ws = await self.http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)
        await self.call("Page.enable")
        return self

    async def __aexit__(self, *exc) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
            await self.http.close()
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    async def call(self, method: str, **params) -> dict:
        self.next_id += 1
        asked = self.next_id
        await self.ws.send_json({"id": asked, "method": method, "params": params})
        while True:  # events (Page.*) come in between: only the answer counts
            answer = json.loads((await asyncio.wait_for(self.ws.receive(), 30)).data)
            if answer.get("id") == asked:
                assert "error" not in answer, (method, answer["error"])
                return answer["result"]

    async def js(self, expression: str):
        found = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in found, found
        return found["result"].get("value")

    async def open(self, url: str) -> None:
        await self.call("Page.navigate", url=url)
        await self.find_terminal()

    async def find_terminal(self) -> None:
        """window.__careterm_terminal: the xterm.js Terminal of the page (see the docstring)."""
        deadline = time.monotonic() + 30
        while not await self.js("typeof window.onresize === 'function'"):
            assert time.monotonic() < deadline, "the page made no terminal"
            await asyncio.sleep(0.1)
        handler = (await self.call("Runtime.evaluate", expression="window.onresize"))["result"]["objectId"]
        inner = await self.call("Runtime.getProperties", objectId=handler, ownProperties=True)
        scopes = next(p for p in inner["internalProperties"] if p["name"] == "[[Scopes]]")["value"]["objectId"]
        for scope in (await self.call("Runtime.getProperties", objectId=scopes, ownProperties=True))["result"]:
            names = await self.call("Runtime.getProperties", objectId=scope["value"]["objectId"], ownProperties=True)
            for name in names["result"]:
                value = name.get("value", {})
                if value.get("type") != "function" or not value.get("description", "").startswith("class"):
                    continue
                proto = await self.call("Runtime.callFunctionOn", objectId=value["objectId"],
                                        functionDeclaration="function () { return this.prototype; }")
                made = await self.call("Runtime.queryObjects", prototypeObjectId=proto["result"]["objectId"])
                kept = await self.call("Runtime.callFunctionOn", objectId=made["objects"]["objectId"], returnByValue=True,
                                       functionDeclaration="function () { const o = this.find(x => x && x.terminal);"
                                                           " if (o) window.__careterm_terminal = o.terminal; return !!o; }")
                if kept["result"]["value"]:
                    return
        raise AssertionError("no xterm.js terminal found in the page")

    async def screen(self) -> str:
        return await self.js(READ_ROWS)

    async def wait_for(self, what: str, test, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = await self.screen()
            if test(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not seen in {timeout} s; the screen:\n{text}")
            await asyncio.sleep(0.2)

    async def type(self, text: str) -> None:
        await self.call("Input.insertText", text=text)

    async def enter(self) -> None:
        keys = dict(key="Enter", code="Enter", windowsVirtualKeyCode=13, nativeVirtualKeyCode=13)
        await self.call("Input.dispatchKeyEvent", type="keyDown", text="\r", **keys)
        await self.call("Input.dispatchKeyEvent", type="keyUp", **keys)

    async def screenshot(self, name: str) -> Path:
        shot = await self.call("Page.captureScreenshot", format="png")
        path = self.shots / f"{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    async def sign_in(self, staff: str, password: str) -> None:
        """The staff id, Enter, the password, Enter: as a person types them. The password is seen
        arriving masked in its own box before Enter (the id's Enter moves the focus there)."""
        await self.js("window.__careterm_terminal.focus()")
        await self.type(staff)
        await self.enter()
        await asyncio.sleep(0.5)
        await self.type(password)
        await self.wait_for("the password, masked", lambda s: MASK * len(password) in s)
        await self.enter()


def signin_shown(text: str) -> bool:
    return ZH["signin.title"] in text and ZH["field.signin_staff"] in text and ZH["signin.prompt"] in text


def home_shown(text: str) -> bool:
    return f"1 {ZH['tab.home']}" in text and f"6 {ZH['tab.audit']}" in text


def run(coroutine) -> None:
    asyncio.run(asyncio.wait_for(coroutine, 180))


# --- the tests ------------------------------------------------------------------------------------


@needs_chromium
def test_the_browser_opens_on_the_sign_in_screen_though_the_server_holds_a_session_and_a_token(demo, server, tmp_path):
    """The server's OS user is signed in as admin and its environment holds admin's token and
    CARETERM_USER=admin (both checked working in the fixture): the browser still gets the
    sign-in screen, in Chinese, and the page's own words are the catalog's."""

    async def go():
        async with Chromium(tmp_path) as browser:
            await browser.open(server["url"])
            text = await browser.wait_for("the sign-in screen", signin_shown)
            assert not home_shown(text) and LEADER not in text
            shot = await browser.screenshot("signin")
            assert shot.stat().st_size > 5000
            assert await browser.js("document.title") == "careterm"
            assert await browser.js("document.documentElement.lang") == "zh-CN"
            ended = await browser.js("document.querySelector('.closed-dialog .message').textContent")
            assert ended == ZH["web.page.ended"]

    run(go())


@needs_chromium
def test_a_wrong_password_is_refused_and_the_right_one_opens_home(demo, server, tmp_path):
    """admin with a wrong password: the sign-in's own refusal (the id and the password not told
    apart), still the sign-in screen, and the failure is in `signins` like any other. Then
    demo1234: the Home screen of the school, as admin (their name on it). The server's OS user's
    session file is the same bytes after as before: the browser wrote none."""
    before = sessions(demo["home"])
    assert before  # the fixture's `login`

    async def go():
        async with Chromium(tmp_path) as browser:
            await browser.open(server["url"])
            await browser.wait_for("the sign-in screen", signin_shown)
            await browser.sign_in(LEADER, "not-the-password")
            text = await browser.wait_for("the refusal", lambda s: ZH["signin.failed"] in s)
            assert signin_shown(text) and not home_shown(text)
            await browser.screenshot("wrong-password")
            await browser.type(PASSWORD)  # the refusal put the cursor back in the password box
            await browser.wait_for("the password, masked", lambda s: MASK * len(PASSWORD) in s)
            await browser.enter()
            text = await browser.wait_for("the Home screen", home_shown)
            await browser.wait_for("admin's own Home", lambda s: demo["name"] in s)
            assert LEADER in text  # the header: who is signed in
            await browser.screenshot("home")

    run(go())
    assert sessions(demo["home"]) == before
    env = {**demo["env"], "CARETERM_TOKEN": demo["token"]}
    failed = json.loads(careterm(env, "--store", str(demo["store"]), "--json", "signins").stdout)["signins"]
    assert any(row["staff"] == LEADER and not row["locked"] for row in failed)


@needs_chromium
def test_five_wrong_passwords_lock_the_id_in_the_browser_too(demo, server, tmp_path):
    """identity.LOCK_AFTER = 5 wrong passwords within 15 minutes lock t01: the fifth answer says
    locked, and then the right password (demo1234) is refused as locked too."""

    async def go():
        async with Chromium(tmp_path) as browser:
            await browser.open(server["url"])
            await browser.wait_for("the sign-in screen", signin_shown)
            await browser.sign_in(MENTOR, "wrong-1")
            await browser.wait_for("the first refusal", lambda s: ZH["signin.failed"] in s and MASK not in s)
            for i in range(2, 5):
                await browser.type(f"wrong-{i}")
                await browser.wait_for("the password, masked", lambda s: MASK * 7 in s)
                await browser.enter()
                await browser.wait_for(f"refusal {i}", lambda s: ZH["signin.failed"] in s and MASK not in s)
            await browser.type("wrong-5")
            await browser.wait_for("the password, masked", lambda s: MASK * 7 in s)
            await browser.enter()
            await browser.wait_for("the lock", lambda s: ZH["signin.locked"] in s)
            await browser.type(PASSWORD)
            await browser.wait_for("the password, masked", lambda s: MASK * len(PASSWORD) in s)
            await browser.enter()
            text = await browser.wait_for("still locked", lambda s: ZH["signin.locked"] in s and MASK not in s)
            assert not home_shown(text)
            await browser.screenshot("locked")

    run(go())


@needs_chromium
def test_what_is_recorded_in_the_browser_is_the_signed_in_persons_and_says_web(demo, server, tmp_path):
    """admin signs in, `n` (record a contact), the pupil 20230107 (one of admin's mentees on the
    demo's Home), Ctrl+S: the app says recorded, and the audit trail's newest entry of that pupil
    is a ContactMade by admin with source "web"."""
    pupil = "20230107"

    async def go():
        async with Chromium(tmp_path) as browser:
            await browser.open(server["url"])
            await browser.wait_for("the sign-in screen", signin_shown)
            await browser.sign_in(LEADER, PASSWORD)
            await browser.wait_for("admin's Home", lambda s: home_shown(s) and pupil in s)
            await browser.type("n")
            await browser.wait_for("the contact form", lambda s: ZH["form.contact"] in s)
            await browser.type(pupil)
            await asyncio.sleep(0.3)
            for kind in ("keyDown", "keyUp"):  # Ctrl+S
                await browser.call("Input.dispatchKeyEvent", type=kind, key="s", code="KeyS",
                                   windowsVirtualKeyCode=83, modifiers=2)
            await browser.wait_for("recorded", lambda s: ZH["recorded"] in s)
            await browser.screenshot("recorded")

    run(go())
    env = {**demo["env"], "CARETERM_TOKEN": demo["token"]}
    rows = json.loads(careterm(env, "--store", str(demo["store"]), "--json", "audit", "--pupil", pupil).stdout)["events"]
    newest = max(rows, key=lambda row: row["seq"])
    assert (newest["type"], newest["actor"], newest["source"]) == ("ContactMade", LEADER, "web")


@needs_chromium
def test_an_export_in_the_browser_is_downloaded_and_leaves_no_copy_on_the_server(demo, server, tmp_path):
    """admin signs in and presses `x` on Home (the statistics table): the browser receives the
    .xlsx as a download (Browser.setDownloadBehavior into a folder of the test), openpyxl reads
    it, and no .xlsx is left anywhere in the server's home (its export folder included)."""
    downloads = tmp_path / "downloads"
    downloads.mkdir()

    async def go():
        async with Chromium(tmp_path) as browser:
            await browser.call("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(downloads))
            await browser.open(server["url"])
            await browser.wait_for("the sign-in screen", signin_shown)
            await browser.sign_in(LEADER, PASSWORD)
            await browser.wait_for("admin's Home", lambda s: home_shown(s) and "20230107" in s)
            keys = dict(key="Tab", code="Tab", windowsVirtualKeyCode=9, nativeVirtualKeyCode=9)
            for kind in ("keyDown", "keyUp"):  # into the Home tab's first table, whose keys `x` is one of
                await browser.call("Input.dispatchKeyEvent", type=kind, **keys)
            await asyncio.sleep(0.3)
            await browser.type("x")
            await browser.wait_for("the download said", lambda s: ZH["export.delivered"].split("}")[1][:8] in s)
            deadline = time.monotonic() + 60
            while not [p for p in downloads.glob("*.xlsx")]:
                assert time.monotonic() < deadline, f"no download; the screen:\n{await browser.screen()}"
                await asyncio.sleep(0.3)
            await browser.screenshot("downloaded")

    run(go())
    [got] = list(downloads.glob("*.xlsx"))
    time.sleep(0.5)  # the browser renames the partial file when done
    import openpyxl

    book = openpyxl.load_workbook(got, read_only=True)
    assert book.sheetnames
    assert not list(demo["home"].rglob("*.xlsx")), list(demo["home"].rglob("*.xlsx"))


def listening(port: int) -> set[str]:
    """The local addresses with a socket listening on this TCP port (Linux's /proc/net)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table, encoding="ascii") as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    found.add(address)
    return found


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads Linux's /proc/net/tcp")
def test_the_server_listens_on_127_0_0_1_only_by_default(server):
    """Without --host: one listening socket, on 127.0.0.1 (0100007F in /proc/net/tcp), none on
    0.0.0.0 nor on any IPv6 address; the server says where it is."""
    assert listening(server["port"]) == {"0100007F"}
    said = server["log"].read_text(encoding="utf-8")
    assert f"http://127.0.0.1:{server['port']}" in said


def test_the_page_is_in_chinese_fetches_nothing_elsewhere_and_may_not_be_framed(server):
    with urllib.request.urlopen(server["url"], timeout=10) as answer:
        page = answer.read().decode("utf-8")
        headers = answer.headers
    assert "googleapis" not in page and "Session ended" not in page
    assert ZH["web.page.ended"] in page and ZH["web.page.restart"] in page
    assert f"ws://127.0.0.1:{server['port']}/ws" in page  # the websocket textual-serve's script opens
    assert headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_a_websocket_from_another_site_is_refused(server):
    """A page of another site open in a staff member's browser could open the app's websocket
    (browsers allow it across sites) and type into it: its Origin is refused with 403; the
    page's own Origin gets the app (bytes of its screen)."""
    import aiohttp

    ws_url = f"ws://127.0.0.1:{server['port']}/ws?width=80&height=24"

    async def go():
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(ws_url, origin="http://evil.example")
            assert refused.value.status == 403
            async with http.ws_connect(ws_url, origin=f"http://127.0.0.1:{server['port']}") as ws:
                message = await asyncio.wait_for(ws.receive(), 30)
                assert message.type == aiohttp.WSMsgType.BINARY and message.data

    run(go())


def test_no_more_browsers_than_max_sessions_are_served_at_once(demo, tmp_path):
    """`--max-sessions 2`: two websockets get an app each; a third, while they are open, is
    refused with 503 and starts no process; once one closes, a new one gets in. A bad number is
    refused naming the option."""
    import aiohttp

    refused = careterm(demo["env"], "--store", str(demo["store"]), "web", "--max-sessions", "0")
    assert refused.returncode == 1 and "--max-sessions" in refused.stderr, refused

    async def go(port: int, proc) -> None:
        url = f"ws://127.0.0.1:{port}/ws?width=80&height=24"
        async with aiohttp.ClientSession() as http:
            first = await http.ws_connect(url)
            second = await http.ws_connect(url)
            for ws in (first, second):
                assert (await asyncio.wait_for(ws.receive(), 30)).type == aiohttp.WSMsgType.BINARY
            with pytest.raises(aiohttp.WSServerHandshakeError) as busy:
                await http.ws_connect(url)
            assert busy.value.status == 503
            assert len(app_processes(proc.pid)) == 2
            await first.close()
            deadline = time.monotonic() + 30
            while True:
                try:
                    third = await http.ws_connect(url)
                    break
                except aiohttp.WSServerHandshakeError:
                    assert time.monotonic() < deadline, "the freed place was never given again"
                    await asyncio.sleep(0.3)
            assert (await asyncio.wait_for(third.receive(), 30)).type == aiohttp.WSMsgType.BINARY
            await third.close()
            await second.close()

    with web_server(demo["env"], demo["store"], tmp_path / "web.log", "--max-sessions", "2") as (port, proc):
        run(go(port, proc))


def app_processes(server_pid: int) -> list[int]:
    """The server's children: one app process per browser connection."""
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(server_pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in found.split()]


def ended(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            return any(line.startswith("State:") and "Z" in line.split()[1] for line in f)  # a zombie
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads Linux's /proc")
def test_a_killed_server_leaves_no_app_behind(demo, tmp_path):
    """Two browser connections, two app processes (children of the server itself: the shell
    execs careterm). The server killed with SIGKILL can tell them nothing; each sees its parent
    gone and quits (web.end_with_the_server, checked every second) instead of living on signed
    in, holding the store open, reachable by nobody."""
    import signal

    import aiohttp

    with web_server(demo["env"], demo["store"], tmp_path / "server.log") as (port, proc):

        async def go():
            async with aiohttp.ClientSession() as http:
                url, origin = f"ws://127.0.0.1:{port}/ws?width=80&height=24", f"http://127.0.0.1:{port}"
                sockets = [await http.ws_connect(url, origin=origin) for _ in range(2)]
                for ws in sockets:
                    await asyncio.wait_for(ws.receive(), 30)  # each app has drawn something
                apps = app_processes(proc.pid)
                assert len(apps) == 2, apps
                os.kill(proc.pid, signal.SIGKILL)
                deadline = time.monotonic() + 15
                try:
                    while not all(ended(pid) for pid in apps):
                        assert time.monotonic() < deadline, f"apps still running: {apps}"
                        await asyncio.sleep(0.2)
                finally:  # a failure leaves no process of ours behind
                    for pid in apps:
                        with contextlib.suppress(ProcessLookupError):
                            if not ended(pid):
                                os.kill(pid, signal.SIGKILL)

        run(go())


@pytest.mark.parametrize(("words", "option"), [
    (["--port", "70000"], "--port"),
    (["--port", "http"], "--port"),
    (["--port", "0"], "--port"),
    (["--host", "0.0.0.0"], "--public-url"),
    (["--public-url", "care.example.edu.cn"], "--public-url"),
])
def test_a_bad_address_is_refused_naming_the_option(demo, words, option):
    got = careterm(demo["env"], "--store", str(demo["store"]), "web", *words)
    assert got.returncode == 1, got
    assert option in got.stderr and "Traceback" not in got.stderr


def test_a_port_in_use_is_refused_naming_port(demo):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        got = careterm(demo["env"], "--store", str(demo["store"]), "web", "--port", str(port))
    assert got.returncode == 1, got
    assert "--port" in got.stderr and str(port) in got.stderr and "Traceback" not in got.stderr


def test_a_missing_store_is_said_before_serving(tmp_path):
    got = careterm(environment(tmp_path), "--store", str(tmp_path / "none.sqlite"), "web", "--port", str(free_port()))
    assert got.returncode == 3, got
    assert str(tmp_path / "none.sqlite") in got.stderr


@needs_chromium
def test_a_district_school_served_with_school_signs_in_its_own_staff(tmp_path):
    """A two-school demo district: ids repeat across its schools (both have t01), so a server for
    one school is started with --school s2; t01 signs in there with demo1234 and sees s2's Home,
    with s2's name in the title. The school key (s) is not offered and does nothing: s1's t01 is
    another person, whom s2's t01 must not become (they did, before: the app switched school
    under the same id)."""
    home = tmp_path / "home"
    home.mkdir()
    env = environment(home)
    store = tmp_path / "district.sqlite"
    made = careterm(env, "--store", str(store), "--json", "demo", "--schools", "2")
    assert made.returncode == 0, made.stderr
    signed = careterm(env, "--store", str(store), "--school", "s2", "login", MENTOR, "--password-stdin", input=PASSWORD + "\n")
    assert signed.returncode == 0, signed.stderr
    schools = json.loads(careterm(env, "--store", str(store), "--school", "s2", "--json", "schools").stdout)["schools"]
    name = next(s["name"] for s in schools if s["school"] == "s2")

    async def go(port):
        async with Chromium(tmp_path) as browser:
            await browser.open(f"http://127.0.0.1:{port}/")
            await browser.wait_for("the sign-in screen", signin_shown)
            await browser.sign_in(MENTOR, PASSWORD)
            text = await browser.wait_for("s2's Home", lambda s: home_shown(s) and name in s)
            assert ZH["key.switch_school"] not in text
            await browser.type("s")
            await asyncio.sleep(1.5)
            text = await browser.screen()
            assert name in text and "(s1)" not in text and "(s2)" not in text  # no school menu
            await browser.screenshot("district-home")

    with web_server(env, store, tmp_path / "server.log", "--school", "s2") as (port, _):
        run(go(port))


async def reverse_proxy(port: int, upstream: int, prefix: str):
    """A small reverse proxy (aiohttp) on PORT, as a county would put nginx in front: PREFIX/…
    goes to the server's /…, websockets included, passing Host and Origin on. Returns its runner."""
    import aiohttp
    from aiohttp import web

    async def handle(request):
        path = request.rel_url.path_qs
        if not path.startswith(prefix + "/"):
            return web.Response(status=404)
        target = f"http://127.0.0.1:{upstream}{path[len(prefix):]}"
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("origin", "host", "user-agent")}
        async with aiohttp.ClientSession() as http:
            if request.headers.get("Upgrade", "").lower() == "websocket":
                try:
                    up = await http.ws_connect("ws" + target[4:], headers=headers, max_msg_size=0)
                except aiohttp.WSServerHandshakeError as refused:
                    return web.Response(status=refused.status)
                down = web.WebSocketResponse(max_msg_size=0)
                await down.prepare(request)

                async def pump(source, sink):
                    async for m in source:
                        if m.type == aiohttp.WSMsgType.TEXT:
                            await sink.send_str(m.data)
                        elif m.type == aiohttp.WSMsgType.BINARY:
                            await sink.send_bytes(m.data)
                    await sink.close()

                await asyncio.gather(pump(up, down), pump(down, up), return_exceptions=True)
                return down
            async with http.get(target, headers=headers) as answer:
                kept = {k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "x-frame-options")}
                return web.Response(body=await answer.read(), status=answer.status, headers=kept)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


@needs_chromium
def test_behind_a_reverse_proxy_at_a_prefix_with_public_url(demo, tmp_path):
    """`web --public-url http://127.0.0.1:P/s7` behind a proxy that sends /s7/… to the server:
    the page asks for its script and its websocket at the public address (through the proxy),
    the browser signs in there and gets Home. A websocket opened through the proxy from another
    site's page is refused (the server checks the Origin the proxy passes on)."""
    import aiohttp

    proxy_port = free_port()
    public = f"http://127.0.0.1:{proxy_port}/s7"

    async def go(port):
        runner = await reverse_proxy(proxy_port, port, "/s7")
        try:
            async with Chromium(tmp_path) as browser:
                await browser.open(public + "/")
                await browser.wait_for("the sign-in screen", signin_shown)
                scripts = await browser.js("[...document.scripts].map(s => s.src).join(' ')")
                assert f"{public}/static/js/textual.js" in scripts
                await browser.sign_in(LEADER, PASSWORD)
                await browser.wait_for("admin's Home", lambda s: home_shown(s) and demo["name"] in s)
                await browser.screenshot("proxied-home")
            async with aiohttp.ClientSession() as http:
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(f"ws://127.0.0.1:{proxy_port}/s7/ws", origin="http://evil.example")
                assert refused.value.status == 403
        finally:
            await runner.cleanup()

    with web_server(demo["env"], demo["store"], tmp_path / "server.log", "--public-url", public) as (port, _):
        run(go(port))


@needs_chromium
def test_on_a_postgresql_store(pg_url, tmp_path):
    """The same path on a PostgreSQL store (a fresh schema on the test server): a school made with
    `init` (its admin zhang, password zhang-pass-2025); the server gets the store's URL from the
    environment, the browser signs zhang in and gets Home with the school's name."""
    home = tmp_path / "home"
    home.mkdir()
    env = environment(home)
    made = careterm(env, "--store", pg_url, "--as", "zhang", "init", "--school", "石砚小学", "--name", "张校长",
                    "--password-stdin", input="zhang-pass-2025\n")
    assert made.returncode == 0, made.stderr

    async def go(port):
        async with Chromium(tmp_path) as browser:
            await browser.open(f"http://127.0.0.1:{port}/")
            await browser.wait_for("the sign-in screen", signin_shown)
            await browser.sign_in("zhang", "zhang-pass-2025")
            await browser.wait_for("the school's Home", lambda s: home_shown(s) and "石砚小学" in s and "张校长" in s)
            await browser.screenshot("postgres-home")

    with web_server(env, pg_url, tmp_path / "server.log") as (port, _):
        run(go(port))
