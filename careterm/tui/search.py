"""Finding a pupil by what a teacher types: part of the name, the id, or pinyin initials."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4096)
def initials(name: str) -> str:
    """王小明 -> "wxm" (pypinyin is imported on first use, in a worker thread)."""
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()


def matches(text: str, row: dict) -> bool:
    if not text:
        return True
    text = text.lower()
    return (
        text in (row.get("name") or "").lower()
        or text in str(row.get("pupil", "")).lower()
        or row.get("initials", "").startswith(text)
    )
