"""The language catalogs (Chinese by default, English available) and message formatting."""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from careterm.shown import printable

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
_DIR = Path(__file__).parent / "locale"


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    with open(_DIR / f"{lang}.json", encoding="utf-8") as f:
        return json.load(f)


def _show(value: Any, lang: str) -> str:
    if value is None:
        return catalog(lang)["status.none"]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return ("、" if lang == "zh" else ", ").join(_show(v, lang) for v in value)
    if isinstance(value, str) and f"status.{value}" in catalog(lang):
        return catalog(lang)[f"status.{value}"]
    # a value quoted back (what someone typed, a stored name) never carries an escape code
    return printable(str(value))


class Translator:
    def __init__(self, lang: str = DEFAULT_LANG):
        self.lang = lang if lang in LANGS else DEFAULT_LANG

    def __call__(self, key: str, **params: Any) -> str:
        template = catalog(self.lang).get(key) or catalog(DEFAULT_LANG).get(key) or key
        shown = {k: _show(v, self.lang) for k, v in params.items()}
        try:
            return template.format(**shown)
        except (KeyError, IndexError):
            return template

    def refusal(self, field: str, code: str, params: dict[str, Any]) -> str:
        """A refusal in words: a role is named by its name, not its code ("学校领导", not
        "leader"); an option that has a name says it beside the option (操作人 --as)."""
        words = catalog(self.lang)
        shown = dict(params)
        for key in ("role", "roles"):
            if key in shown:
                shown[key] = _named(shown[key], "role.", words)
        field_shown = words.get(f"field.{field}", field)
        return self("refused.prefix", field=field_shown) + self(f"refused.{code}", **shown)

    def names(self, values: Any, prefix: str) -> Any:
        """Codes (one or a list) shown by their names where the catalog has one."""
        return _named(values, prefix, catalog(self.lang))


def _named(values: Any, prefix: str, words: dict[str, str]) -> Any:
    if isinstance(values, str):
        return words.get(prefix + values, values)
    if isinstance(values, (list, tuple, set, frozenset)):
        return [words.get(prefix + v, v) if isinstance(v, str) else v for v in values]
    return values
