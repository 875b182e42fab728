"""What every export command shares: the views' --as-of/--known-at, and saying where the file is
(with --json: the writer's result as JSON)."""

from __future__ import annotations

from careterm.values import parse_date, parse_time


def when(s) -> dict:
    """The moment the export shows: --as-of and --known-at, as every view reads them."""
    return {"as_of": parse_date(getattr(s.args, "as_of", None), "--as-of"),
            "known_at": parse_time(getattr(s.args, "known_at", None), "--known-at")}


def said(s, result: dict, key: str) -> int:
    """The writer's result: JSON, or its sentence (catalog `key`) and the file's place."""
    if s.json:
        from careterm.cli import print_json

        print_json(result)
    else:
        print(s.t(key, **result))
        print(s.t("export.written", path=result["out"]))
    return 0
