"""OpenSSH public keys, as `keys add` takes them: read, checked, fingerprinted.

A key is one line `TYPE BASE64 [COMMENT]` (what `ssh-keygen` writes to `id_*.pub`). It is taken
only if it is of a type the school accepts, its blob decodes to the very structure its type has
(so a pasted private key, a certificate, a line with authorized_keys options or a truncated key
is refused, never written into `authorized_keys`), and an RSA key has at least 2048 bits. The
fingerprint is what `ssh-keygen -lf` prints: "SHA256:" and the unpadded base64 of the blob's
SHA-256.

Pure: no files, no processes (the command line reads `--key-file`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
import unicodedata
from dataclasses import dataclass

from events.errors import Refused

MIN_RSA_BITS = 2048
# type -> what its blob holds after the type name (each a length-prefixed string or mpint)
_ECDSA = {"ecdsa-sha2-nistp256": (b"nistp256", 65), "ecdsa-sha2-nistp384": (b"nistp384", 97),
          "ecdsa-sha2-nistp521": (b"nistp521", 133)}
ACCEPTED = ("ssh-ed25519", "sk-ssh-ed25519@openssh.com", *_ECDSA, "sk-ecdsa-sha2-nistp256@openssh.com", "ssh-rsa")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
MAX_LINE = 16384  # an RSA key of 16384 bits is about 2.8 kB of text


@dataclass(frozen=True)
class PublicKey:
    type: str
    blob: bytes
    comment: str = ""

    @property
    def text(self) -> str:
        """The key as an authorized_keys line ends: TYPE BASE64 (no comment: it is not ours)."""
        return f"{self.type} {base64.b64encode(self.blob).decode('ascii')}"

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.blob)


def fingerprint_of(blob: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")


def _refuse(field: str, code: str, **params) -> Refused:
    return Refused(field, code, **params)


class _Reader:
    """The SSH wire format: uint32 length, then that many bytes."""

    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def string(self) -> bytes:
        if self.at + 4 > len(self.data):
            raise ValueError("short")
        (size,) = struct.unpack(">I", self.data[self.at:self.at + 4])
        start, self.at = self.at + 4, self.at + 4 + size
        if self.at > len(self.data):
            raise ValueError("short")
        return self.data[start:self.at]

    def done(self) -> bool:
        return self.at == len(self.data)


def _check_blob(kind: str, blob: bytes, field: str) -> None:
    r = _Reader(blob)
    try:
        if r.string() != kind.encode("ascii"):
            raise ValueError("type")
        if kind in ("ssh-ed25519", "sk-ssh-ed25519@openssh.com"):
            if len(r.string()) != 32:
                raise ValueError("ed25519")
        elif kind.startswith("ecdsa-") or kind.startswith("sk-ecdsa-"):
            curve, size = _ECDSA.get(kind, _ECDSA["ecdsa-sha2-nistp256"])
            point = r.string() if r.string() == curve else b""
            if len(point) != size or point[:1] != b"\x04":
                raise ValueError("ecdsa")
        elif kind == "ssh-rsa":
            exponent, modulus = r.string(), r.string()
            if not exponent or not modulus:
                raise ValueError("rsa")
            bits = int.from_bytes(modulus, "big").bit_length()
            if bits < MIN_RSA_BITS:
                raise _refuse(field, "ssh_key_too_short", bits=bits, minimum=MIN_RSA_BITS)
        if kind.startswith("sk-") and not r.string().startswith(b"ssh:"):
            raise ValueError("application")
        if not r.done():
            raise ValueError("trailing")
    except ValueError:
        raise _refuse(field, "bad_ssh_key") from None


def parse_public_key(text: str | None, field: str = "--key") -> PublicKey:
    """One OpenSSH public key line -> the key, or Refused naming `field`."""
    if text is None or not text.strip():
        raise _refuse(field, "empty")
    line = text.strip()
    if len(line) > MAX_LINE or "\n" in line or "\r" in line:
        raise _refuse(field, "bad_ssh_key")
    parts = line.split(None, 2)
    kind = parts[0]
    if kind not in ACCEPTED:
        shown = kind if len(kind) <= 40 and kind.isprintable() else kind[:40].encode("unicode_escape").decode("ascii")
        raise _refuse(field, "ssh_key_type", type=shown, allowed=list(ACCEPTED))
    if len(parts) < 2 or not _BASE64.match(parts[1]):
        raise _refuse(field, "bad_ssh_key")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise _refuse(field, "bad_ssh_key") from None
    _check_blob(kind, blob, field)
    comment = parts[2].strip() if len(parts) > 2 else ""
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in comment):
        raise _refuse(field, "bad_ssh_key")
    return PublicKey(kind, blob, comment)


def key_in_file(text: str, field: str = "--key-file") -> PublicKey:
    """The one key of a `.pub` file (blank lines and # comments aside); several keys refused."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if len(lines) != 1:
        raise _refuse(field, "ssh_key_file_lines", count=len(lines))
    return parse_public_key(lines[0], field)


# --- which keys sign someone in (the one rule, for `keys list`, `keys install`, `ssh-session`) ---


def usable(model, fingerprint: str, today):
    """The key (events.model.KeyRec) if it signs its staff member in today: bound, not revoked,
    and its staff member still on the staff; else None."""
    key = model.keys.get(fingerprint)
    if key is None or key.revoked is not None:
        return None
    staff = model.staff.get(key.staff)
    if staff is None or (staff.left is not None and staff.left <= today):
        return None
    return key


def active_keys(model, today) -> list:
    """Every key that signs someone in today, by staff member, then as added."""
    found = [k for k in model.keys.values() if usable(model, k.fingerprint, today) is not None]
    return sorted(found, key=lambda k: (k.staff, k.added, k.fingerprint))


__all__ = ["ACCEPTED", "active_keys", "usable", "PublicKey", "fingerprint_of", "key_in_file", "parse_public_key"]
