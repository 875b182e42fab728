"""Who looked (issue 12, item 5): every opening of one pupil's file is logged (who, when, which
pupil, how) in the store's access log; `access` shows it to leaders and auditors only; `verify`
checks the log's chain. On a SQLite file and on PostgreSQL (the `school` fixture) where the
store matters; the app's pupil file on the deterministic demo (Textual Pilot, 80x24).

The base school (tests/test_cli.py, build_base): T1 mentors P1; CT is the class teacher of 3-2;
L1 a leader; AU an auditor; GONE a teacher who left on 2025-12-31; admin is admin and leader.
"""

from __future__ import annotations

import datetime as dt

import pytest

from test_cli import (  # noqa: F401 - fixtures are used by name
    CJK,
    careterm,
    school,
    sqlite_base,
    sqlite_school,
)

UTC = dt.timezone.utc


def access(school, *filters: str, actor: str = "L1") -> list[dict]:
    run = school("access", *filters, "--json", actor=actor)
    assert run.code == 0, run
    found = run.json()
    assert set(found) == {"access"}, found
    for row in found["access"]:
        assert set(row) == {"at", "actor", "pupil", "via"}, row
    return found["access"]


def opened(school, pupil: str, actor: str) -> int:
    """`history PUPIL` as `actor`; returns its exit code."""
    return school("history", pupil, "--json", actor=actor).code


def test_history_logs_one_opening_with_who_when_which_pupil_and_how(school):
    """T1 opens P1's file with `history`: one row, actor T1, pupil P1, via "history", at a UTC time
    between just before and just after the command; a second `history` adds a second row."""
    assert access(school) == []
    before = dt.datetime.now(UTC)
    assert opened(school, "P1", "T1") == 0
    after = dt.datetime.now(UTC)
    [row] = access(school)
    assert (row["actor"], row["pupil"], row["via"]) == ("T1", "P1", "history"), row
    at = dt.datetime.fromisoformat(row["at"])
    assert at.utcoffset() == dt.timedelta(0) and before - dt.timedelta(seconds=2) <= at <= after, (row, before, after)
    assert opened(school, "P1", "T1") == 0
    assert [r["actor"] for r in access(school)] == ["T1", "T1"]


def test_a_refused_history_is_not_an_opening(school):
    """`history P9` (no such pupil) is refused and logs nothing. T2 asking for P1's file (T1's
    mentee, not T2's; T2 teaches no class): the file is logged exactly when it is shown (exit 0),
    never when it is refused as outside T2's view (exit 1)."""
    assert opened(school, "P9", "T1") == 1
    assert access(school) == []
    code = opened(school, "P1", "T2")
    assert code in (0, 1)
    assert len(access(school)) == (1 if code == 0 else 0)


def test_access_filters_by_pupil_and_by_actor(school):
    """Openings in this order: T1→P1, admin→P2, admin→P1, CT→P2 (CT's class 3-2). `--pupil P1` gives T1's and
    admin's (in that order); `--actor admin` gives P2 then P1; both filters together give admin's
    P1 alone; an unknown `--pupil` is refused (exit 1, naming --pupil)."""
    for pupil, actor in (("P1", "T1"), ("P2", "admin"), ("P1", "admin"), ("P2", "CT")):
        assert opened(school, pupil, actor) == 0
    pairs = lambda rows: [(r["actor"], r["pupil"]) for r in rows]  # noqa: E731
    assert pairs(access(school)) == [("T1", "P1"), ("admin", "P2"), ("admin", "P1"), ("CT", "P2")]
    assert pairs(access(school, "--pupil", "P1")) == [("T1", "P1"), ("admin", "P1")]
    assert pairs(access(school, "--actor", "admin")) == [("admin", "P2"), ("admin", "P1")]
    assert pairs(access(school, "--pupil", "P1", "--actor", "admin")) == [("admin", "P1")]
    assert pairs(access(school, "--actor", "T3")) == []
    run = school("access", "--pupil", "P9", actor="L1")
    assert run.code == 1 and "--pupil" in run.err and run.out == "", run


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_access_text_reads_at_80_columns(sqlite_school, lang):
    """No opening yet: one line saying so. Then the text table: a header and one line per
    opening, names with ids (王老师（T1）, 小明（P1）), the way said in words, each line within 80
    columns (tabs at 8, CJK two columns wide)."""
    import unicodedata

    empty = sqlite_school("access", actor="L1", lang=lang)
    assert empty.code == 0 and empty.out.strip() == {"zh": "没有查阅记录", "en": "no pupil's file has been opened"}[lang], empty
    assert opened(sqlite_school, "P1", "T1") == 0
    run = sqlite_school("access", actor="AU", lang=lang)
    assert run.code == 0 and run.err == "", run
    lines = run.out.splitlines()
    assert len(lines) == 2, run
    expected = {"zh": ("查阅时间", "王老师（T1）", "小明（P1）", "命令行查档案"),
                "en": ("opened at", "王老师 (T1)", "小明 (P1)", "history command")}[lang]
    assert expected[0] in lines[0] and all(w in lines[1] for w in expected[1:]), run
    if lang == "en":
        assert not CJK.search(lines[0]), run

    def width(line: str) -> int:
        col = 0
        for c in line:
            col = (col // 8 + 1) * 8 if c == "\t" else col + (2 if unicodedata.east_asian_width(c) in "WF" else 1)
        return col

    assert all(width(line) <= 80 for line in lines), run


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_only_leaders_and_auditors_read_who_looked(sqlite_school, lang):
    """L1 (leader), AU (auditor) and admin (admin and leader) read the log; T1 (teacher), CT
    (class teacher) are refused with exit 1 saying it is for school leaders and auditors; GONE
    (left 2025-12-31) reads nothing either (the sign-in refuses them). Nothing on stdout when
    refused."""
    assert opened(sqlite_school, "P1", "T1") == 0
    for reader in ("L1", "AU", "admin"):
        assert len(access(sqlite_school, actor=reader)) == 1
    roles = {"zh": ("学校领导", "审计员"), "en": ("school leaders", "auditors")}[lang]
    for who in ("T1", "CT"):
        run = sqlite_school("access", actor=who, lang=lang)
        assert run.code == 1 and run.out == "", run
        assert who in run.err and all(r in run.err for r in roles), run
        assert bool(CJK.search(run.err)) == (lang == "zh"), run
    gone = sqlite_school("access", actor="GONE", lang=lang)  # refused at sign-in already (exit 4)
    assert gone.code in (1, 4) and gone.out == "", gone


def test_verify_checks_the_access_log_and_names_an_edited_row(school):
    """Two openings: `verify --json` adds "access": {"rows": 2, "head": <64 hex>} (no key while
    the log is empty: the contract's {"events","head"}); text says the access log is intact. Row 1's
    bytes changed with SQL behind careterm's back: verify exits 3 naming row #1."""
    from helpers import RawDB

    assert "access" not in school.verify()
    assert opened(school, "P1", "T1") == 0 and opened(school, "P2", "L1") == 0
    found = school.verify()
    assert found["access"]["rows"] == 2 and len(found["access"]["head"]) == 64, found
    text = school("verify", actor=None, lang="en")
    assert text.code == 0 and "the access log is intact: 2 rows" in text.out, text
    with RawDB(school.url) as db:
        [first, _] = db.sql("SELECT id FROM careterm_access ORDER BY id")
        db.sql("UPDATE careterm_access SET state = ? WHERE id = ?", (b'{"forged":1}', first[0]))
    run = school("verify", "--json", actor=None, lang="en")
    assert run.code == 3 and run.out == "", run
    assert f"row #{first[0]}" in run.err and "access log" in run.err, run
    zh = school("verify", actor=None)
    assert zh.code == 3 and f"第 {first[0]} 条" in zh.err, zh


def test_verify_names_the_row_after_a_removed_one(sqlite_school):
    """Three openings, the middle row deleted with SQL: the third row's link no longer follows
    the first's, so verify exits 3 naming row #3."""
    from helpers import RawDB

    for pupil in ("P1", "P2", "P3"):
        assert opened(sqlite_school, pupil, "L1") == 0
    with RawDB(sqlite_school.url) as db:
        ids = [r[0] for r in db.sql("SELECT id FROM careterm_access ORDER BY id")]
        db.sql("DELETE FROM careterm_access WHERE id = ?", (ids[1],))
    run = sqlite_school("verify", actor=None, lang="en")
    assert run.code == 3 and f"row #{ids[2]}" in run.err, run


def test_careterm_cannot_edit_or_delete_the_access_log():
    """The store offers only appending and reading the log (and checking it); no source file of
    careterm updates or deletes a row of its table."""
    import re
    from pathlib import Path

    from events.store import Store

    assert {n for n in dir(Store) if "access" in n} == {"log_access", "access_rows", "verify_access"}
    root = Path(__file__).resolve().parent.parent
    writes = re.compile(r"(UPDATE|DELETE\s+FROM)\s+[^;\n]*(careterm_access|ACCESS_TABLE)", re.I)
    found = [str(p) for d in ("events", "careterm", "projections") for p in (root / d).rglob("*.py")
             if writes.search(p.read_text(encoding="utf-8"))]
    assert found == []


# --- the app's pupil file ---------------------------------------------------------------------


def test_the_apps_pupil_file_logs_one_opening_per_opening(facts, store_path):
    """The demo's mentor opens their pupil's file in the app: one row (actor the mentor, that pupil,
    via "tui", at the store's fixed clock NOW in UTC); the file reloading (as when someone records)
    adds none; leaving and opening it again adds a second."""
    import tui_support as S
    from careterm.tui.screens.pupil import PupilScreen

    mentor, pupil = facts["mentor"], facts["pupil"]

    async def open_file(app, pilot) -> None:
        app.open_pupil(pupil)
        await S.wait_for(pilot, lambda: isinstance(app.screen, PupilScreen), 5, "the pupil file")
        await S.settle(pilot)

    async def scenario() -> None:
        app = S.make_app(store_path, mentor)
        async with app.run_test(size=S.SIZE) as pilot:
            await S.started(app, pilot)
            await open_file(app, pilot)
            assert rows() == [(mentor, pupil, "tui", S.NOW)]
            app.screen.reload()
            await S.settle(pilot)
            assert len(rows()) == 1
            await S.send_keys(pilot, "escape")
            await S.settle(pilot)
            await open_file(app, pilot)
            assert len(rows()) == 2

    def rows() -> list[tuple]:
        return logged(store_path, facts)

    S.run(scenario())


def logged(store_path, facts) -> list[tuple]:
    """(actor, pupil, via, at) of every opening, by `access --json` as the demo's first leader."""
    found = careterm("access", "--json", store=str(store_path), actor=facts["leaders"][0])
    assert found.code == 0, found
    return [(r["actor"], r["pupil"], r["via"], dt.datetime.fromisoformat(r["at"])) for r in found.json()["access"]]


def test_a_restricted_file_in_the_app_is_not_an_opening(facts, store_path):
    """A plain teacher of the demo (no class, not a counselor) opens a pupil's file outside their
    view: the app shows name, grade, class and status only, and nothing is logged; their own
    mentee's file is logged (one row, via "tui")."""
    import tui_support as S
    from careterm.backend import When
    from careterm.tui.screens.pupil import PupilScreen
    from events.model import current_pairing

    ws = S.workspace(store_path, facts["leaders"][0])
    try:
        model = ws.model()
        teacher = next(st.id for st in sorted(model.staff.values(), key=lambda st: st.id)
                       if st.roles == ["teacher"] and st.left is None and st.grade is None
                       and any((c := current_pairing(p)) is not None and c.staff == st.id for p in model.pupils.values()))
        mine = sorted(p.id for p in model.pupils.values() if (c := current_pairing(p)) is not None and c.staff == teacher)[0]
    finally:
        ws.close()

    async def open_file(app, pilot, pupil: str) -> dict:
        app.open_pupil(pupil)
        await S.wait_for(pilot, lambda: isinstance(app.screen, PupilScreen), 5, "the pupil file")
        await S.settle(pilot)
        return app.backend.pupil_file(pupil, When())

    async def scenario() -> None:
        app = S.make_app(store_path, teacher)
        async with app.run_test(size=S.SIZE) as pilot:
            await S.started(app, pilot)
            hidden = next(p for p in facts["other_pupils"]
                          if app.backend.pupil_file(p, When())["pupil"].get("restricted")
                          and not app.backend.pupil_file(p, When())["timeline"])
            await open_file(app, pilot, hidden)
            assert logged(store_path, facts) == []
            await S.send_keys(pilot, "escape")
            await S.settle(pilot)
            await open_file(app, pilot, mine)
            assert [r[:3] for r in logged(store_path, facts)] == [(teacher, mine, "tui")]

    S.run(scenario())
