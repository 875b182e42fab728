"""Why a command was refused. The faces turn `code` into words through their language catalogs."""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    """A command broke a rule or carried bad data; nothing was written (exit code 1).

    `field` names the option or value at fault (e.g. "--date", "PUPIL_ID"); `code` is the reason,
    a key of the catalogs (`refused.<code>`); `params` fill the message.
    """

    def __init__(self, field: str, code: str, **params: Any):
        super().__init__(f"{field}: {code} {params}")
        self.field = field
        self.code = code
        self.params = params
