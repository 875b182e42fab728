"""What was said in a contact, in words: the parts of a ContactMade the handbook holds, as
(label, text) for `history` and the pupil's file (cli.md "What was said").

Read from a history row's `data` (a dict) or from the stored event itself; the parts left
empty are left out, so an old contact (schema 1, upcast with every part empty) shows none.
"""

from __future__ import annotations

from typing import Any

# the texts, in the handbook's order: the summary, a semester report's three parts (学习、思想、
# 生活情况), what was found and done about it, a birthday's gift
TEXTS = ("summary", "study", "thoughts", "life", "problem", "help_given", "follow_up", "gift")


def _get(source: Any, key: str) -> Any:
    return source.get(key) if isinstance(source, dict) else getattr(source, key, None)


def said_parts(t, source: Any) -> list[tuple[str, str]]:
    """(label, text) of what was said, by names from the catalog (never a code): how it was held,
    how long, the topics, then each text of one or more lines. Empty when nothing was said."""
    return [(label, text) for _, label, text in keyed_parts(t, source)]


def named(t, prefix: str, code: Any) -> str:
    """A code by its name in the reader's catalog (`medium.phone` -> 电话); a code it does not name
    (free text, something typed) as it is; None as empty."""
    from careterm.i18n import catalog

    key = f"{prefix}{code}"
    return t(key) if key in catalog(t.lang) else ("" if code is None else str(code))


def keyed_parts(t, source: Any) -> list[tuple[str, str, str]]:
    """said_parts with each part's field name first (medium, minutes, topics, summary, …)."""

    def name(prefix: str, code: str) -> str:
        return named(t, prefix, code)

    sep = "、" if t.lang == "zh" else ", "
    parts: list[tuple[str, str, str]] = []
    if _get(source, "medium"):
        parts.append(("medium", t("entry.medium"), name("medium.", _get(source, "medium"))))
    if _get(source, "minutes") is not None:
        parts.append(("minutes", t("entry.minutes"), t("said.minutes", n=_get(source, "minutes"))))
    if _get(source, "topics"):
        parts.append(("topics", t("entry.topics"), sep.join(name("topic.", c) for c in _get(source, "topics"))))
    for key in TEXTS:
        text = _get(source, key)
        if isinstance(text, str) and text.strip():
            parts.append((key, t(f"entry.{key}"), text))
    return parts


FACTS = ("medium", "minutes", "topics")  # the short parts, shown on one line where there is room
FIELDS = FACTS + TEXTS  # every part, by the names `history --json` shows under `data`


def has_said(source: Any) -> bool:
    """Whether anything of what was said is there (an old contact, or one recorded without it: no)."""
    return any(_get(source, key) not in (None, "", []) for key in FACTS + TEXTS)
