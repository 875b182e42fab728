"""The language catalogs (careterm/locale/{zh,en}.json) against each other and against the code.

A refusal or label without its catalog entry shows the bare key to a user; a placeholder one
language has and the other lacks shows "{name}" in the message. These checks read the source
(regular expressions and the AST), so a new refusal code or event type cannot ship without words.
"""

from __future__ import annotations

import ast
import json
import re
import string
from pathlib import Path

import pytest

from events import rules
from events.types import EVENT_TYPES

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "careterm" / "locale"
LANGS = ("zh", "en")
SOURCES = sorted(
    p for folder in ("events", "careterm", "projections") for p in (ROOT / folder).rglob("*.py")
    if "__pycache__" not in p.parts
)
CJK = re.compile(r"[\u4e00-\u9fff]")


def load(lang: str) -> dict[str, str]:
    with open(LOCALE / f"{lang}.json", encoding="utf-8") as f:
        return json.load(f)


CATALOGS = {lang: load(lang) for lang in LANGS}


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def source(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# --- the two catalogs ---------------------------------------------------------------------------


def test_same_keys_in_both_languages():
    zh, en = set(CATALOGS["zh"]), set(CATALOGS["en"])
    assert sorted(zh - en) == [], "in zh.json only"
    assert sorted(en - zh) == [], "in en.json only"


def test_no_duplicate_keys_in_the_files():
    for lang in LANGS:
        seen: list[str] = []

        def hook(pairs, seen=seen):
            seen.extend(k for k, _ in pairs)
            return dict(pairs)

        json.loads((LOCALE / f"{lang}.json").read_text(encoding="utf-8"), object_pairs_hook=hook)
        duplicates = sorted({k for k in seen if seen.count(k) > 1})
        assert duplicates == [], f"{lang}.json repeats keys (the last one silently wins)"


@pytest.mark.parametrize("lang", LANGS)
def test_values_are_well_formed_text(lang):
    for key, value in CATALOGS[lang].items():
        assert isinstance(value, str) and value.strip(), key
        placeholders(value)  # raises ValueError on a stray brace


def test_same_placeholders_in_both_languages():
    differ = {
        key: (sorted(placeholders(CATALOGS["zh"][key])), sorted(placeholders(CATALOGS["en"][key])))
        for key in set(CATALOGS["zh"]) & set(CATALOGS["en"])
        if placeholders(CATALOGS["zh"][key]) != placeholders(CATALOGS["en"][key])
    }
    assert differ == {}


def test_chinese_refusals_are_chinese_and_english_ones_are_not():
    for key in CATALOGS["zh"]:
        if key.startswith("refused."):
            assert CJK.search(CATALOGS["zh"][key]), f"zh {key} has no Chinese"
            assert not CJK.search(CATALOGS["en"][key]), f"en {key} has Chinese"


# --- refusal codes used by the code --------------------------------------------------------------

REFUSED = re.compile(r"""\bRefused\(\s*(?:[^,()]+|f?"[^"]*"|'[^']*'),\s*["']([a-z_]+)["']""")


def refusal_codes() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in SOURCES:
        for code in REFUSED.findall(source(path)):
            found.setdefault(code, []).append(str(path.relative_to(ROOT)))
    return found


def test_the_regex_finds_the_refusals():
    codes = refusal_codes()
    # a few that certainly exist: if these vanish, the regex (not the code) is broken
    assert {"future_date", "unknown_pupil", "pupil_has_mentor", "mentor_full", "bad_amount"} <= set(codes)
    assert len(codes) >= 40


@pytest.mark.parametrize("lang", LANGS)
def test_every_refusal_code_has_words(lang):
    missing = {code: where for code, where in refusal_codes().items() if f"refused.{code}" not in CATALOGS[lang]}
    assert missing == {}, f"codes without refused.<code> in {lang}.json"


def _refused_calls() -> list[tuple[str, int, str, set[str] | None]]:
    """(file, line, code, keyword names or None when **params are passed) of every Refused(…)."""
    calls = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(source(path), filename=str(path))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Refused"):
                continue
            if len(node.args) < 2 or not isinstance(node.args[1], ast.Constant) or not isinstance(node.args[1].value, str):
                continue
            names = {k.arg for k in node.keywords}
            calls.append((str(path.relative_to(ROOT)), node.lineno, node.args[1].value, None if None in names else names))
    return calls


def test_ast_sees_the_same_codes_as_the_regex():
    assert {code for _, _, code, _ in _refused_calls()} == set(refusal_codes())


@pytest.mark.parametrize("lang", LANGS)
def test_every_refusal_message_gets_its_values(lang):
    """Each placeholder of refused.<code> is passed by every `Refused(field, code, …)` raising it."""
    unfilled = []
    for where, line, code, names in _refused_calls():
        template = CATALOGS[lang].get(f"refused.{code}")
        if template is None or names is None:
            continue
        lacking = placeholders(template) - names
        if lacking:
            unfilled.append(f"{where}:{line} {code} lacks {sorted(lacking)}")
    assert unfilled == []


# --- event types and the other families of labels ---------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_event_type_has_a_name(lang):
    names = [cls.__name__ for cls in EVENT_TYPES]
    assert len(names) >= 25
    missing = [n for n in names if f"type.{n}" not in CATALOGS[lang]]
    assert missing == []


FAMILIES = {
    "category": rules.CATEGORIES,
    "aid": rules.AID_KINDS,
    "basis": rules.BASES,
    "status": rules.PUPIL_STATUSES,
    "duty": rules.DUTIES,
    "kind": rules.ACTIVITY_KINDS,
    "need": rules.INCIDENT_NEEDS,
    "result": rules.INSPECTION_RESULTS,
    "reason": rules.EXIT_REASONS + ("unpaired", "new"),  # cli.md: the queue's reasons
    "verify": ("altered", "removed", "inserted", "head_not_found"),  # events.chain.ChainBroken.problem
    "duty_status": ("ok", "due_soon", "overdue", "met", "pending"),  # cli.md: duty status
}


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("lang", LANGS)
def test_every_value_of_an_enumeration_has_a_label(lang, family):
    """The code builds these keys as f"{family}.{value}"; each value the domain has needs words."""
    if not any(k.startswith(family + ".") for k in CATALOGS[lang]):
        pytest.skip(f"no {family}.* labels in the catalogs")
    missing = [v for v in FAMILIES[family] if f"{family}.{v}" not in CATALOGS[lang]]
    assert missing == []


LITERAL_KEY = re.compile(r"""\bt\(\s*(["'])([a-z_]+(?:\.[a-z_]+)+)\1\s*[,)]""")


def test_every_literal_key_in_the_code_exists():
    used: dict[str, str] = {}
    for path in SOURCES:
        for _, key in LITERAL_KEY.findall(source(path)):
            used.setdefault(key, str(path.relative_to(ROOT)))
    assert {"store.missing", "verify.ok"} <= set(used)  # the regex works
    for lang in LANGS:
        missing = {k: where for k, where in used.items() if k not in CATALOGS[lang]}
        assert missing == {}, lang
