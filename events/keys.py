"""The store's data key and its cipher: AES-256-GCM (from `cryptography`), the key outside the store.

The key lives in a file (`--key-file`, else `CARETERM_KEY_FILE`, else `careterm.key` in the user
config directory), readable by its owner only. The store holds only a key check value (an HMAC of
a fixed text under the key, in its secrets): enough to tell the right key from a wrong one, nothing
that helps to find it.

What is encrypted (see `events.store`): every event's state (bound to its topic) and every saved
read model (bound to its name, schema and log position, so a saved copy moved to another position
no longer authenticates). The stored form is one version byte, a 96-bit random nonce, then the
ciphertext with its 16-byte tag. Like eventsourcing's own cipher hook (a `Mapper` with a `cipher`
whose `encrypt`/`decrypt` turn bytes into bytes), plus associated data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from events.store_base import StoreError

KEY_ENV = "CARETERM_KEY_FILE"
KEY_BYTES = 32  # AES-256
VERSION = b"\x01"  # first byte of every encrypted value (a plain JSON event starts with "{")
NONCE_BYTES = 12
TAG_BYTES = 16
CHECK_PREFIX = b"aes-256-gcm:"
_KEY_HEADER = (
    "# careterm data key (AES-256-GCM). Without this file the store cannot be read:\n"
    "# keep a copy somewhere safe (not beside the store), readable by its owner only.\n"
)


class KeyProblem(StoreError):
    """The store's key cannot be used (exit code 3); `path` is the key file."""

    def __init__(self, path: Path | str, text: str):
        super().__init__(text)
        self.path = str(path)


class KeyMissing(KeyProblem):
    """The store is encrypted and its key file is not there."""

    def __init__(self, path: Path | str):
        super().__init__(path, f"the store's key file {path} is missing")


class KeyNotMade(KeyProblem):
    """There is no key file, and none can be made at that place (no such folder, no right to write)."""

    def __init__(self, path: Path | str):
        super().__init__(path, f"the key file {path} cannot be made")


class WrongKey(KeyProblem):
    """The key file holds another key than the store's (or no key at all)."""

    def __init__(self, path: Path | str):
        super().__init__(path, f"the key in {path} is not this store's key")


class CannotDecrypt(ValueError):
    """A stored value does not authenticate under the key: forged, edited or damaged."""


def default_key_path() -> Path:
    chosen = os.environ.get(KEY_ENV, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("careterm", appauthor=False)) / "careterm.key"


def key_path(given: str | os.PathLike | None) -> Path:
    return Path(given).expanduser() if given else default_key_path()


def read_key(path: Path) -> bytes:
    """The key in the file; KeyMissing if there is none, WrongKey if it holds no key."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise KeyMissing(path) from None
    except (OSError, UnicodeDecodeError) as e:
        if isinstance(e, IsADirectoryError | NotADirectoryError | PermissionError):
            raise KeyMissing(path) from None
        raise WrongKey(path) from None
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    try:
        key = base64.b64decode(lines[0], validate=True) if len(lines) == 1 else b""
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise WrongKey(path)
    return key


def make_key(path: Path) -> tuple[bytes, bool]:
    """The key in the file, made first if there is none: (key, made now). The file appears whole
    and 0600 or not at all (written aside, then linked into place: of two processes making it at
    once, one key wins and both use it)."""
    try:
        return read_key(path), False
    except KeyMissing:
        pass
    key = os.urandom(KEY_BYTES)
    aside = path.with_name(f".{path.name}.{os.getpid()}.new")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError:
        raise KeyNotMade(path) from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(_KEY_HEADER + base64.b64encode(key).decode("ascii") + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(aside, 0o600)
        try:
            os.link(aside, path)
        except FileExistsError:
            return read_key(path), False
    finally:
        os.unlink(aside)
    return key, True


def key_check(key: bytes) -> bytes:
    """What the store keeps to know its key: an HMAC of a fixed text, never the key."""
    return CHECK_PREFIX + hmac.new(key, b"careterm store key check v1", hashlib.sha256).hexdigest()[:32].encode()


def is_encrypted(state: bytes) -> bool:
    return state[:1] == VERSION


class StoreCipher:
    """AES-256-GCM with associated data; one AESGCM object for the store's life (cheap calls)."""

    def __init__(self, key: bytes):
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(key)
        # kept here: an import statement in `decrypt` cost a microsecond per event, as much as
        # the decryption itself (a rebuild decrypts millions)
        self._invalid_tag = InvalidTag

    def encrypt(self, plaintext: bytes, aad: bytes = b"") -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return VERSION + nonce + self._aead.encrypt(nonce, plaintext, aad)

    def decrypt(self, stored: bytes, aad: bytes = b"") -> bytes:
        if stored[:1] != VERSION or len(stored) < 1 + NONCE_BYTES + TAG_BYTES:
            raise CannotDecrypt("not an encrypted value")
        try:
            return self._aead.decrypt(stored[1 : 1 + NONCE_BYTES], stored[1 + NONCE_BYTES :], aad)
        except self._invalid_tag:
            raise CannotDecrypt("does not authenticate under the key") from None


def event_aad(topic: str) -> bytes:
    return b"event\n" + topic.encode()


def view_aad(name: str, schema: int, position: int) -> bytes:
    return b"view\n%s\n%d\n%d" % (name.encode(), schema, position)
