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
        """A refusal in words (see `refusal_params`); an option that has a name says it beside
        the option (操作人 --as)."""
        field_shown = catalog(self.lang).get(f"field.{field}", field)
        return self("refused.prefix", field=field_shown) + self(f"refused.{code}", **self.refusal_params(params))

    def refusal_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """A refusal's values as people read them: roles, types, categories and kinds by their
        names ("学校领导", not "leader"), for the command line and the app alike."""
        words = catalog(self.lang)
        shown = dict(params)
        for key, prefixes in _NAMED_PARAMS.items():
            if key in shown:
                for prefix in prefixes:  # the first catalog that names the code
                    named = _named(shown[key], prefix, words)
                    if named != shown[key] and named != list(shown[key] or ()):
                        shown[key] = named
                        break
        return shown

    def names(self, values: Any, prefix: str) -> Any:
        """Codes (one or a list) shown by their names where the catalog has one."""
        return _named(values, prefix, catalog(self.lang))


# which parameters of a refusal hold codes, and the catalog prefixes that name them
_NAMED_PARAMS = {
    "role": ("role.",),
    "roles": ("role.",),
    "type": ("type.",),
    "rule": ("conflict.",),
    "category": ("category.",),
    "kind": ("aid.", "kind."),
    "kinds": ("aid.",),
    "state": ("aid_status.",),
    "states": ("aid_status.",),
}


def _named(values: Any, prefix: str, words: dict[str, str]) -> Any:
    if isinstance(values, str):
        return words.get(prefix + values, values)
    if isinstance(values, (list, tuple, set, frozenset)):
        return [words.get(prefix + v, v) if isinstance(v, str) else v for v in values]
    return values
