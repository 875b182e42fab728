"""The command line (every command: docs/commands.en.md). No business rules here: it parses, calls a command or a
view, and prints. Textual is imported only when the TUI is opened (start-up on old machines).

Exit codes: 0 done; 1 refused by a rule or bad data; 2 bad usage; 3 store unreachable or damaged;
4 not signed in (careterm.identity.NotSignedIn).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any, Callable, Sequence

from careterm import shown
from careterm.i18n import LANGS, Translator
from careterm.identity import NotSignedIn, Proven
from careterm.values import parse_date, parse_int, parse_time
from careterm.workspace import Workspace
from events.errors import Refused
from events.store import StoreError, StoreMissing, is_postgres

if TYPE_CHECKING:  # the write side is imported by the commands that write (start-up time)
    from careterm import actions
    from events import commands as C

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_STORE, EXIT_SIGNIN = 0, 1, 2, 3, 4


# --- the session: store, service, language -------------------------------------------------


class Session(Workspace):
    """A workspace driven by the parsed command line."""

    def __init__(self, args: argparse.Namespace, proven: "Proven | None" = None):
        super().__init__(
            url=args.store,
            actor=args.actor,
            lang=args.lang,
            school=getattr(args, "school", None),
            source="cli",
        )
        self.args = args
        self.given_proven = proven  # proved by the caller (ssh-session): no other sign-in is looked for
        self.json = bool(getattr(args, "json", False))
        self.key_file = getattr(args, "key_file", None)  # the store's data key (events.keys)
        # school -> model of the other schools of the district a history read (a pupil's earlier school)
        self.models_elsewhere: dict = {}

    def view(self):
        """(read model, as-of date) for a view command: current, or replayed as known at a time."""
        known_at = parse_time(getattr(self.args, "known_at", None), "--known-at")
        as_of = parse_date(getattr(self.args, "as_of", None), "--as-of")
        return self.model_as_of(as_of, known_at)

    def emit(self, data: dict, text: Callable[[dict], None]) -> int:
        if self.json:
            print_json(data)
        else:
            text(data)
        return EXIT_OK

    def require_actor(self) -> str:
        if not self.actor:
            raise UsageError(self.t("usage.need_actor"))
        return self.actor

    def write(self, build: Callable[[Any, C.Context], list]) -> int:
        self.require_actor()
        day = parse_date(getattr(self.args, "date", None), "--date")
        if day is None:
            self.check_clock_day()
        events = self.record(build, date=day, note=getattr(self.args, "note", None) or "")
        self.print_events(events)
        return EXIT_OK

    def print_events(self, events: Sequence) -> None:
        from projections.audit import full_row

        seq_of = self.service.seq_of
        rows = [full_row(seq_of.get(e.id), e) for e in events]
        if self.json:
            print_json(rows)
            return
        for row in rows:
            print(
                f"{self.t('recorded')} #{row['seq']}  {self.t('type.' + row['type'])}  "
                f"{row['subject']}  {row['date']}  {row['id']}"
            )


class UsageError(Exception):
    """Bad usage (exit 2)."""


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, default=str))
    sys.stdout.write("\n")


# --- command handlers ----------------------------------------------------------------------


def cmd_init(s: Session) -> int:
    from events.keys import KeyProblem

    a = s.args
    s.require_actor()
    hashed = _new_password(s)  # the first admin's password, before anything is made
    new_file = not is_postgres(s.url) and not os.path.exists(s.url)
    try:
        return _init(s, a, hashed)
    except (Refused, KeyProblem):
        if new_file:  # a refused init (or one with no key to make) leaves no empty store behind
            s.close()
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(s.url + suffix):
                    os.remove(s.url + suffix)
        raise


def _said_key_made(s: Session, store) -> None:
    """A new data key: said once, on stderr, with its place (never the key itself)."""
    if store.key_made:
        print(s.t("key.made", path=store.key_path), file=sys.stderr)


def _init(s: Session, a: argparse.Namespace, hashed: str) -> int:
    store = s.store(create=True)
    _said_key_made(s, store)
    if not store.is_empty() and not a.school_id:
        # cli.md: `init` makes a new store. With --id it adds a school to a district's store.
        raise Refused("--store", "not_empty")
    actor = s.require_actor()
    from events.service import Service

    # adding a school to a district: its own streams are all the write side needs to read
    service = Service(store, school=a.school_id) if a.school_id else Service(store)
    s._service = service
    today = service.today(None)
    from events import commands as C

    ctx = C.Context(
        school=a.school_id or "s1",
        actor=actor,
        today=today,
        date=parse_date(a.date, "--date") or today,
        note=a.note or "",
    )
    events = service.execute(
        lambda state: C.init(
            state,
            ctx,
            name=a.school_name,
            admin_name=a.name or actor,
            lang=a.school_lang or "zh",
            timezone=a.timezone or "Asia/Shanghai",
        )
    )
    from careterm.identity import set_password

    # the founder's password: its hash beside the log (the opening records who they are)
    set_password(store, ctx.school, actor, hashed=hashed, now=store.clock())
    if s.json:
        s.print_events(events)
    else:
        s.t = Translator(s.lang_override or a.school_lang or "zh")
        print(s.t("init.done", name=a.school_name, actor=actor))
    return EXIT_OK


def cmd_demo(s: Session) -> int:
    a = s.args
    from events import rules

    schools = parse_int(a.schools, "--schools")
    schools = 1 if schools is None else schools
    if schools not in range(1, rules.MAX_SCHOOLS + 1):
        raise Refused("--schools", "out_of_range", value=schools, low=1, high=rules.MAX_SCHOOLS)
    store = s.store(create=True)
    _said_key_made(s, store)
    if not store.is_empty():
        raise Refused("--store", "not_empty")
    today = s.today(None)  # the demo school's date (Asia/Shanghai), not the machine's
    until = parse_date(a.until, "--until") or today
    if until > today:
        raise Refused("--until", "future_date", date=until, today=today)
    seed = parse_int(a.seed, "--seed") or 2026
    started = time.perf_counter()
    summary = _build_demo_whole(s, schools=schools, seed=seed, until=until, actor=s.actor or "admin")
    seconds = round(time.perf_counter() - started, 2)
    if s.json:
        print_json({**summary, "seconds": seconds})
    else:
        print(s.t("demo.done", seconds=seconds, **{k: summary.get(k, "") for k in ("schools", "staff", "pupils", "events")}))
    return EXIT_OK


def _build_demo_whole(s: Session, **options: Any) -> dict:
    """The demo appears whole or not at all: on SQLite it is built in a hidden file beside the
    store and moved into its place when complete (a killed demo left a half-built store that
    `verify` called intact and `demo` refused to redo). On PostgreSQL it is built in place."""
    from careterm.demo import build_demo
    from events.service import Service
    from events.store import Store

    from careterm.demo.passwords import set_demo_passwords

    if is_postgres(s.url):
        service = Service(s.store())
        summary = build_demo(service, **options)
        set_demo_passwords(service.store, service.models)  # every staff member's: demo1234
        return summary
    target = os.path.abspath(os.path.expanduser(s.url))
    prefix = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.building-")
    _remove_abandoned(prefix)
    building = f"{prefix}{os.getpid()}"
    s.close()
    try:
        with Store(building, create=True, key_file=s.key_file) as store:
            service = Service(store)
            summary = build_demo(service, **options)
            set_demo_passwords(store, service.models)  # every staff member's: demo1234
        import sqlite3

        with sqlite3.connect(building) as db:  # everything in the main file before it moves
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for suffix in ("-wal", "-shm"):
            if os.path.exists(target + suffix):
                os.remove(target + suffix)
        os.replace(building, target)
    finally:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(building + suffix):
                os.remove(building + suffix)
    return summary


def _remove_abandoned(prefix: str) -> None:
    """Half-built demos of killed processes (their pid no longer runs)."""
    import glob

    for path in glob.glob(glob.escape(prefix) + "*"):
        pid = path[len(prefix):].split("-")[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            os.remove(path)
        except PermissionError:
            pass


def cmd_action(s: Session) -> int:
    """Any declared write action (careterm/actions.py): its options' values, then its command.
    A second identical entry that day (a contact, an activity) is recorded and said on stderr."""
    from careterm import actions

    action = s.args.declared
    values = actions.values_from(action, lambda f: getattr(s.args, f.key, None))
    repeats = actions.repeated_entries(action, values)
    earlier = _same_entries(s, *repeats) if repeats else {}
    done = s.write(actions.build(action, values))
    if earlier:  # recorded, not refused: a second talk on one day can be real, but is most often a slip
        day = parse_date(s.args.date, "--date") or s.today()
        for who, ids in earlier.values():
            print(s.t("contact.same_day", pupil=who, date=day, kind=s.t(f"kind.{repeats[1]}"), ids=ids), file=sys.stderr)
    return done


def _same_entries(s: Session, pupils: list[str], kind: str) -> dict[str, tuple[str, list[str]]]:
    """pupil -> (the pupil as people read it, ids of the standing entries of this kind already
    recorded for them on the entry's day)."""
    from projections.views import same_entries

    s.require_actor()
    day = parse_date(getattr(s.args, "date", None), "--date") or s.today()
    model = s.model()
    found = {p: same_entries(model, p, kind, day) for p in pupils if p in model.pupils}  # an unknown one: the command refuses it
    return {p: (_named(s, model, f"pupil/{p}"), ids) for p, ids in found.items() if ids}


def _viewer(s: Session, model: Any):
    """Who reads: the signed-in staff member (the workspace's actor), as the visibility table
    needs them (projections/visibility.py). Every view is asked for through this."""
    from projections.visibility import viewer_of

    return viewer_of(model, s.actor)


def cmd_staff_list(s: Session) -> int:
    from projections.views import staff_list

    model, day = s.view()
    cols = ("staff", "name", "roles", "active", "mentees")
    return s.emit(staff_list(model, day, _viewer(s, model)), lambda d: _table(s, [dict(m, roles=s.t.names(m["roles"], "role.")) for m in d["staff"]], cols))


# --- views ---------------------------------------------------------------------------------


def _table(s: Session, rows: list[dict], cols: Sequence[str]) -> None:
    def show(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, bool):
            return "✓" if value else "✗"
        if isinstance(value, (list, tuple)):
            return ",".join(show(v) for v in value)
        if isinstance(value, dict):
            return ",".join(f"{k}:{show(v)}" for k, v in value.items())
        return str(value)

    print("\t".join(s.t(f"col.{c}") for c in cols))
    for row in rows:
        print("\t".join(show(row.get(c)) for c in cols))


def cmd_archive(s: Session) -> int:
    from projections.views import archive

    model, day = s.view()
    found = archive(model, day, _viewer(s, model))
    if getattr(s.args, "incomplete", False):
        return _incomplete_files(s, found)
    cols = ("pupil", "name", "gender", "grade", "class", "categories", "status", "mentor")

    def text(d: dict) -> None:
        rows = [
            # a pupil outside the reader's view: name, grade, class and status, and a word saying so
            dict(r, categories=s.t("archive.restricted"), status=s.t(f"status.{r['status']}"), gender="", mentor="")
            if r.get("restricted") else
            dict(r, categories=s.t.names(r["categories"], "category."), status=s.t(f"status.{r['status']}"),
                 gender=s.t.names(r.get("gender"), "gender."))
            for r in d["pupils"]
        ]
        _table(s, rows, cols)

    return s.emit(found, text)


def _incomplete_files(s: Session, found: dict) -> int:
    """`archive --incomplete`: the class teacher's list of left-behind pupils whose file lacks a
    guardian or a parent's workplace or phone (projections.completeness), with what is missing."""
    data = dict(found, pupils=[r for r in found["pupils"] if r.get("incomplete")])

    def text(d: dict) -> None:
        if not d["pupils"]:
            print(s.t("archive.incomplete_none"))
            return
        rows = [dict(r, incomplete=s.t.names(r["incomplete"], "missing.")) for r in d["pupils"]]
        _table(s, rows, ("pupil", "name", "grade", "class", "mentor", "incomplete"))

    return s.emit(data, text)


def cmd_stats(s: Session) -> int:
    from projections.stats import stats

    model, day = s.view()

    def text(d: dict) -> None:
        # narrow tables one under another (80 columns): the school by category, the grades and
        # classes with their totals, then each class's categories that have pupils
        rows = [{"category": s.t(f"category.{c}"), **v} for c, v in d["by_category"].items()]
        _table(s, rows, ("category", "total", "with_mentor"))
        counts = ("total", "with_mentor", "dropouts", "incomplete")
        print()
        _table(s, [{"grade": g, **v} for g, v in d["by_grade"].items()], ("grade", *counts))
        print()
        _table(s, [{"class": k, **v} for k, v in d["class_totals"].items()], ("class", *counts))
        print()
        cells = [
            {"class": k, "category": s.t(f"category.{c}"), **v}
            for k, columns in d["by_class"].items() for c, v in columns.items() if v["total"]
        ]
        _table(s, cells, ("class", "category", "total", "with_mentor"))
        print()
        _table(s, [{"kind": s.t(f"aid.{k}"), "amount": shown.money(v, s.t.lang)} for k, v in d["aid"].items()], ("kind", "amount"))
        print()
        print(s.t("stats.dropouts", dropouts=d["dropouts"]))
        print(s.t("stats.incomplete", incomplete=d["incomplete"]))

    return s.emit(stats(model, day), text)


def cmd_queue(s: Session) -> int:
    from projections.views import queue

    model, day = s.view()

    def text(d: dict) -> None:
        pupils = [dict(p, categories=[s.t(f"category.{c}") for c in p["categories"]], reason=s.t(f"reason.{p['reason']}")) for p in d["pupils"]]
        _table(s, pupils, ("pupil", "name", "categories", "waiting_since", "reason"))
        print()
        mentors = [dict(m, reason=s.t(f"reason.{m['reason']}")) for m in d["mentors"]]
        _table(s, mentors, ("staff", "name", "free_places", "waiting_since", "reason"))
        print()
        _table(s, d["suggestions"], ("staff", "pupil"))

    return s.emit(queue(model, day, _viewer(s, model)), text)


def cmd_transfers(s: Session) -> int:
    """The pupils sent to this school by other schools of the store, and those it sent."""
    model, day = s.view()
    found = s.transfers(model, day, _viewer(s, model))

    def text(d: dict) -> None:
        for part in ("incoming", "outgoing"):
            print(s.t(f"transfers.{part}"))
            rows = [
                dict(r, from_school=s.t("named", name=r["from_name"], id=r["from"]),
                     to_school=s.t("named", name=r["to_name"], id=r["to"]),
                     accepted=r["accepted"] or s.t("transfers.withdrawn" if r["withdrawn"] else
                                                   "transfers.overdue" if r["overdue"] else "transfers.waiting"))
                for r in d[part]
            ]
            _table(s, rows, ("pupil", "name", "from_school", "to_school", "sent", "accepted"))
            print()

    return s.emit(found, text)


def cmd_compliance(s: Session) -> int:
    from projections.compliance import compliance, shown_duties

    model, day = s.view()
    start, end = parse_date(s.args.range_from, "--from"), parse_date(s.args.range_to, "--to")
    if start and end and end < start:
        raise Refused("--to", "end_before_start", start=start, end=end)

    def text(d: dict) -> None:
        rows = [
            {"staff": p["staff"], "pupil": p["pupil"], **{k: s.t(f"duty_status.{v['status']}") for k, v in p["duties"].items()}}
            for p in d["pairings"]
        ]
        _table(s, rows, ("staff", "pupil", *shown_duties(d)))
        print()
        _table(s, [dict(m, rate=shown.rate(m["rate"])) for m in d["mentors"]], ("staff", "name", "rate"))
        print()
        _table(s, [dict(c, rate=shown.rate(c["rate"])) for c in d.get("classes", [])], ("grade", "class", "rate"))
        print()
        print(s.t("compliance.summary", start=d["from"], end=d["to"], rate=shown.rate(d["school"]["rate"])))

    return s.emit(compliance(model, day, start, end, viewer=_viewer(s, model)), text)


def cmd_aid_list(s: Session) -> int:
    from projections.views import aid_list

    model, day = s.view()
    cols = ("id", "pupil", "kind", "amount", "items", "date", "fund", "revoked")

    def text(d: dict) -> None:
        rows = [dict(g, kind=s.t(f"aid.{g['kind']}"), amount=shown.money(g["amount"], s.t.lang)) for g in d["grants"]]
        _table(s, rows, cols)
        if d["applications"]:
            print()
            apps = [
                dict(a, kind=s.t(f"aid.{a['kind']}"), amount=shown.money(a["amount"], s.t.lang) if a["amount"] else a["items"],
                     aid_state=s.t(f"aid_status.{a['status']}"), next=s.t(f"aid_step.{a['next']}") if a["next"] else "",
                     applied=a["steps"][0]["date"])
                for a in d["applications"]
            ]
            _table(s, apps, ("id", "pupil", "kind", "amount", "fund", "applied", "aid_state", "next"))

    return s.emit(aid_list(model, day, _viewer(s, model)), text)


def cmd_fund_list(s: Session) -> int:
    from projections.aid import fund_list

    model, day = s.view()

    def text(d: dict) -> None:
        rows = [
            dict(f, fund_name=f["name"], budget=shown.money(f["budget"], s.t.lang), spent=shown.money(f["spent"], s.t.lang),
                 remaining=shown.money(f["remaining"], s.t.lang), kinds="、".join(s.t(f"aid.{k}") for k in f["kinds"]),
                 source=s.t(f"source.{f['source']}"))
            for f in d["funds"]
        ]
        _table(s, rows, ("fund_name", "source", "budget", "spent", "remaining", "kinds"))

    return s.emit(fund_list(model, day, _viewer(s, model)), text)


def cmd_aid_notice(s: Session) -> int:
    from projections.views import aid_notice

    model, day = s.view()
    notice = aid_notice(model, day, s.args.semester, _viewer(s, model))
    if notice is None:
        raise Refused("--semester", "unknown_semester", semester=s.args.semester)

    def text(d: dict) -> None:
        print(s.t("notice.title", semester=d["semester"]))
        rows = [
            dict(r, kind=s.t(f"aid.{r['kind']}"), amount=shown.money(r["amount"], s.t.lang) if r["amount"] else s.t("notice.in_kind"),
                 start=r["start"] or "", end=r["end"] or "")
            for r in d["notice"]
        ]
        _table(s, rows, ("name", "class", "kind", "amount", "start", "end"))

    return s.emit(notice, text)


def cmd_rebuild(s: Session) -> int:
    from projections.readmodel import rebuild

    started = time.perf_counter()
    counted = rebuild(s.store())
    seconds = round(time.perf_counter() - started, 3)
    data = {"schools": counted, "events": sum(counted.values()), "seconds": seconds}
    return s.emit(data, lambda d: print(s.t("rebuild.done", events=d["events"], seconds=d["seconds"])))


def _log_rows(s: Session, *, with_data: bool = False, **filters) -> tuple[Any, list[dict]]:
    """(read model, audit rows) straight from the log, as of a date and as known at a time, with flags."""
    from zoneinfo import ZoneInfo

    from projections.audit import audit_row, full_row, trail
    from events.saved import load

    store = s.store()
    school = s.school_id()
    model = load(store, school)
    rows = trail(
        store.read(school=school),
        school=school,
        late_days_on=lambda day: model.rules_on(day).late_days,
        zone=ZoneInfo(model.timezone),
        as_of=parse_date(getattr(s.args, "as_of", None), "--as-of"),
        known_at=parse_time(getattr(s.args, "known_at", None), "--known-at"),
        **filters,
    )
    row = full_row if with_data else audit_row
    return model, [dict(row(seq, e), flags=flags) for seq, e, flags in rows]


def cmd_audit(s: Session) -> int:
    a = s.args
    from events.types import BY_NAME
    from projections.audit import FLAGS
    from events.saved import load

    s.set_language()
    for name in a.type or []:
        if name not in BY_NAME:
            raise Refused("--type", "unknown_value", value=name, allowed=sorted(BY_NAME))
    if a.flag is not None and a.flag not in FLAGS:
        raise Refused("--flag", "unknown_value", value=a.flag, allowed=[s.t(f"flag.{f}") for f in FLAGS])
    from projections.visibility import require_view

    school = load(s.store(), s.school_id())
    require_view(_viewer(s, school), "audit")  # leaders and auditors
    if a.pupil is not None and a.pupil not in school.pupils:
        raise Refused("--pupil", "unknown_pupil", pupil=a.pupil)
    model, rows = _log_rows(s, pupil=a.pupil, actor=a.actor_filter, types=a.type or [], flag=a.flag)
    if s.json:
        print_json({"events": rows})
    else:
        _print_table(s, model, rows)
    return EXIT_OK


def cmd_history(s: Session) -> int:
    a = s.args
    from careterm.access import log_opening
    from events.saved import load

    s.set_language()
    model = load(s.store(), s.school_id())
    if a.pupil_id not in model.pupils:
        raise Refused("PUPIL_ID", "unknown_pupil", pupil=a.pupil_id)
    model, rows = _visible_history(s, a.pupil_id)
    gaps = _file_gaps(s, a.pupil_id)
    log_opening(s, a.pupil_id, "history")  # who looked: before the file is shown (careterm/access.py)
    if s.json:
        print_json({"pupil": a.pupil_id, "incomplete": gaps, "events": rows})
    else:
        print(s.t("history.of_pupil", who=_named(s, model, f"pupil/{a.pupil_id}")))
        if gaps:
            print(s.t("file.incomplete", missing=s.t.names(gaps, "missing.")))
        for school in s.models_elsewhere:
            print(s.t("history.earlier_school", school=s.t("named", name=s.models_elsewhere[school].name, id=school)))
        _print_table(s, model, rows, notes=True)
    return EXIT_OK


def _visible_history(s: Session, pupil: str) -> tuple[Any, list[dict]]:
    """The pupil's history as the reader may read it (projections/visibility.py): refused naming
    the pupil outside their view, but for a former mentee's entries they recorded themselves;
    counselling content and the mental state withheld unless they may read them."""
    from projections import visibility as V

    current, day = s.view()
    viewer = _viewer(s, current)
    own = V.own_entries_only(viewer, current, pupil, day)
    if not own:
        V.require_pupil(viewer, current, pupil, day)
    model, rows = _log_rows(s, pupil=pupil, with_data=True, actor=s.actor if own else None)
    shown_rows = [dict(V.visible_data(viewer, current, r), school=model.id) for r in rows]
    if not own:
        # the record of the schools of the district the pupil came from: read only, marked
        from projections.audit import full_row

        elsewhere = V.from_elsewhere(viewer)
        known_at = parse_time(getattr(s.args, "known_at", None), "--known-at")
        as_of = parse_date(getattr(s.args, "as_of", None), "--as-of")
        for school, earlier, found in s.earlier_records(current, pupil, as_of=as_of, known_at=known_at):
            s.models_elsewhere[school] = earlier
            shown_rows[:0] = [dict(V.visible_data(elsewhere, earlier, dict(full_row(seq, e), flags=flags)), school=school)
                              for seq, e, flags in found]
    return model, shown_rows


def _file_gaps(s: Session, pupil: str) -> list[str]:
    """What the pupil's file lacks as of --as-of (and as known at --known-at)."""
    from projections.completeness import incomplete_on

    model, day = s.view()
    return incomplete_on(model.pupils[pupil], day) if pupil in model.pupils else []


def _named(s: Session, model: Any, subject: str) -> str:
    """A subject for people: "小明（P1）" for pupil/P1, "王老师（T1）" for staff/T1, the school's name."""
    from events.model import profile_on

    kind, _, ident = subject.partition("/")
    name = None
    if kind == "pupil" and ident in model.pupils:
        name = profile_on(model.pupils[ident], dt.date.max).get("name")
    elif kind == "staff" and ident in model.staff:
        name = model.staff[ident].name
    elif kind == "school":
        return model.name or subject
    return s.t("named", name=name, id=ident) if name else subject


def _width(text: str) -> int:
    """Columns a terminal gives the text (CJK characters take two)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _indented(label: str, text: str) -> list[str]:
    """A labelled text of one or more lines, under its row: every line starts in the same column."""
    head = f"    {label}："
    lines = text.splitlines() or [""]
    return [head + lines[0]] + [" " * _width(head) + line for line in lines[1:]]


def _print_table(s: Session, model: Any, rows: list[dict], *, notes: bool = False) -> None:
    cols = ("seq", "type", "subject", "date", "recorded_at", "actor", "corrects", "flags")
    if s.models_elsewhere:  # a history with another school's entries: each row says whose
        cols = ("entry_school",) + cols
    for r in rows:
        r.setdefault("school", model.id)
    print("\t".join(s.t(f"col.{c}") for c in cols))
    for r in rows:
        whose = s.models_elsewhere.get(r["school"], model)
        shown_row = dict(
            r,
            entry_school=whose.name or r["school"],
            type=s.t(f"type.{r['type']}"),
            subject=_named(s, whose, r["subject"]),
            recorded_at=shown.local_time(r["recorded_at"], whose.timezone),
            corrects=r["corrects"] or "",
            flags=",".join(s.t(f"flag.{f}") for f in r.get("flags", [])),
        )
        print("\t".join(str(shown_row[c]) for c in cols))
        data = r.get("data") or {}
        if notes and r["type"] == "ContactMade":  # what was said (careterm/said.py), each part under the row
            from careterm.said import said_parts

            for label, text in said_parts(s.t, data):
                print("\n".join(_indented(label, text)))
        if notes:
            for key, label in (("reason", "col.reason"), ("note", "col.note"), ("to_note", "col.to_note")):
                if data.get(key):
                    print("\n".join(_indented(s.t(label), str(data[key]))))


def cmd_schools(s: Session) -> int:
    """Every school of the store (a district): how to find the id that --school takes."""
    from events.model import status_on
    from events.saved import load

    store = s.store()
    heads = store.recorder.heads()  # the last log position of each school
    rows = []
    for sid, (name, _lang, zone) in sorted(s.schools().items(), key=lambda item: (len(item[0]), item[0])):
        model = load(store, sid)
        today = s.today(sid)
        last = next((e.recorded_at for _, e in store.read(heads[sid] - 1, upto=heads[sid])), None) if heads.get(sid) else None
        rows.append({
            "school": sid,
            "name": name,
            "pupils": sum(status_on(p, today) == "enrolled" for p in model.pupils.values()),
            "staff": sum(m.joined <= today and (m.left is None or m.left > today) for m in model.staff.values()),
            "last_entry": last.isoformat() if last else None,
            "_zone": zone,
        })
    if s.json:
        print_json({"schools": [{k: v for k, v in r.items() if k != "_zone"} for r in rows]})
        return EXIT_OK
    shown_rows = [
        {"school_id": r["school"], "school_name": r["name"], "pupil_count": r["pupils"], "staff_count": r["staff"],
         "last_entry": shown.local_time(r["last_entry"], r["_zone"])}
        for r in rows
    ]
    _table(s, shown_rows, ("school_id", "school_name", "pupil_count", "staff_count", "last_entry"))
    return EXIT_OK


def cmd_verify(s: Session) -> int:
    from events.chain import ChainBroken

    store = s.store()
    try:
        result = store.verify(head=s.args.head)
    except ChainBroken as broken:
        print(f"{s.t('error')}: " + s.t("verify.bad", seq=broken.seq, problem=s.t(f"verify.{broken.problem}")), file=sys.stderr)
        return EXIT_STORE
    access = _verify_access(s, store)
    if access is None:
        return EXIT_STORE
    if store.key_problem is not None:  # no key here: the chain alone was checked
        print(s.t("verify.no_key", path=store.key_problem.path), file=sys.stderr)
    elif store.encrypted is False:
        print(s.t("verify.plaintext"), file=sys.stderr)
    if s.json:
        # "clock" and "access" only when there is something to say: {"events","head"} is the contract's shape
        print_json({"events": result.events, "head": result.head, **({"clock": list(result.clock)} if result.clock else {}),
                    **({"access": access} if access["rows"] else {})})
    else:
        print(s.t("verify.ok", events=result.events, head=result.head))
        if access["rows"]:
            print(s.t("verify.access_ok", rows=access["rows"], head=access["head"]))
    if result.clock:  # reported, not a failure: the entries are intact, their times doubtful
        shown_seqs = "、".join(f"#{seq}" for seq in result.clock[:10]) + ("…" if len(result.clock) > 10 else "")
        print(s.t("verify.clock", count=len(result.clock), seqs=shown_seqs), file=sys.stderr)
    return EXIT_OK


def _verify_access(s: Session, store) -> dict | None:
    """The access log's chain (who looked): {"rows","head"}, or None once a broken row is said."""
    bad = store.verify_access()
    if bad is not None:
        print(f"{s.t('error')}: " + s.t("verify.access_bad", row=bad), file=sys.stderr)
        return None
    rows = store.access_rows()
    return {"rows": len(rows), "head": rows[-1][2] if rows else None}


def cmd_access(s: Session) -> int:
    """Who opened which pupil's file, when and how (leaders and auditors)."""
    from careterm.access import openings
    from events.saved import load
    from projections.access import access, refusal

    a = s.args
    s.set_language()
    store = s.store()
    school = s.school_id()
    model = load(store, school)
    why = refusal(model, s.actor, s.today(school))
    if why is not None:  # said as a read refusal ("未记录" would be wrong here), exit 1
        print(f"{s.t('error')}: " + s.t(f"access.{why}", staff=s.actor or "-"), file=sys.stderr)
        return EXIT_REFUSED
    if a.pupil is not None and a.pupil not in model.pupils:
        raise Refused("--pupil", "unknown_pupil", pupil=a.pupil)

    def text(d: dict) -> None:
        if not d["access"]:
            print(s.t("access.none"))
            return
        print("\t".join(s.t(f"col.{c}") for c in ("opened_at", "opened_by", "opened_pupil", "via")))
        for r in d["access"]:
            print("\t".join((
                shown.local_time(r["at"], model.timezone),
                _named(s, model, f"staff/{r['actor']}") if r["actor"] else "-",
                _named(s, model, f"pupil/{r['pupil']}"),
                s.t(f"via.{r['via']}"),
            )))

    return s.emit(access(openings(store), school=school, pupil=a.pupil, actor=a.actor_filter), text)


# --- signing in (careterm/identity.py keeps the secrets; the log only says that they were set) ---

# the commands that need no signed-in staff member (cli.md "Signing in"): a parser default
# `signin=False` (init, demo, login, logout, verify, rebuild; the app signs in on its own screen)


def _read_password(s: Session, *, confirm: bool = True, prompt: str = "signin.prompt") -> str:
    """A password: a line of standard input with --password-stdin, else asked on the terminal
    (twice for a new one). Never echoed, never an argument (it would show in `ps`)."""
    if getattr(s.args, "password_stdin", False):
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UsageError(s.t("usage.password_stdin"))
    import getpass

    first = getpass.getpass(s.t(prompt) + " ")
    if confirm and getpass.getpass(s.t("signin.again") + " ") != first:
        raise Refused("--password", "passwords_differ")
    return first


def _new_password(s: Session, prompt: str = "signin.new_prompt") -> str:
    from careterm.identity import hash_password

    return hash_password(_read_password(s, prompt=prompt))


def _now(s: Session) -> dt.datetime:
    return s.store().clock()


def sign_in(s: Session) -> "Proven":
    """Settle who runs this command: the identity the caller proved (ssh-session), else
    CARETERM_TOKEN, else this OS user's session on the store. --as (or CARETERM_USER) only
    says whom the command expects; a staff member who has left is signed in no more."""
    from careterm import identity as I

    store = s.store()
    proven = s.given_proven
    if proven is None:
        token = os.environ.get("CARETERM_TOKEN")
        proven = I.token_identity(store, token, now=_now(s)) if token else I.session_identity(store, s.url, now=_now(s))
    if proven is None:
        raise NotSignedIn("none")
    expected = s.actor
    if expected and expected != proven.staff:
        raise NotSignedIn("mismatch", staff=expected)
    if proven.school and s.wanted_school and s.wanted_school != proven.school:
        raise NotSignedIn("mismatch", staff=expected or proven.staff)
    s.proven, s.actor = proven, proven.staff
    if proven.school:
        s.wanted_school = proven.school
    staff = _staff_now(s, proven.staff)
    if staff is None:
        raise NotSignedIn("failed")
    return proven


def _staff_now(s: Session, staff_id: str):
    return s.staff_now(staff_id)


def _login_school(s: Session, staff_id: str) -> str:
    """The school whose staff member signs in: --school, the store's only one, or the one school
    of a district that ever had this id (else --school is needed, as for any command)."""
    schools = s.schools()
    if not s.wanted_school and len(schools) > 1:
        mine = [sid for sid in s.store().schools_of_staff(staff_id) if sid in schools]
        if len(mine) == 1:
            s.wanted_school = mine[0]
    return s.school_id()


def cmd_login(s: Session) -> int:
    staff_id = s.args.staff_id
    _login_school(s, staff_id)
    password = _read_password(s, confirm=False)
    proven = s.sign_in_password(staff_id, password, lambda: _read_password(s, prompt="signin.new_prompt"))
    name = s.staff_now(staff_id).name
    return s.emit({"staff": staff_id, "name": name, "school": proven.school, "via": "session"},
                  lambda d: print(s.t("signin.done", name=_named_staff(s, d["name"], staff_id))))


def _named_staff(s: Session, name: str, staff_id: str) -> str:
    return s.t("named", name=name, id=staff_id) if name else staff_id


def _record_password(s: Session, school: str, staff_id: str, hashed: str, *, once: bool) -> list:
    from careterm import identity as I
    from events import commands as C

    events = s.record(lambda schools, ctx: C.set_password(schools, ctx, staff_id, once=once))
    I.set_password(s.store(), school, staff_id, hashed=hashed, once=once, now=_now(s))
    return events


def cmd_logout(s: Session) -> int:
    from careterm import identity as I

    done = I.close_session(s.store(), s.url)
    return s.emit({"signed_out": done}, lambda d: print(s.t("signin.out" if done else "signin.not_in")))


def cmd_whoami(s: Session) -> int:
    staff = _staff_now(s, s.actor)
    data = {"staff": s.actor, "name": staff.name, "roles": list(staff.roles), "school": s.school_id(),
            "via": s.proven.via}
    return s.emit(data, lambda d: print(s.t("signin.whoami", name=_named_staff(s, d["name"], d["staff"]),
                                             roles=s.t.names(d["roles"], "role."), school=d["school"],
                                             via=s.t(f"signin.via.{d['via']}"))))


def cmd_staff_password(s: Session) -> int:
    """`staff password STAFF_ID [--once]`: one's own, or (an admin) anyone's."""
    from careterm import actions

    action = s.args.declared
    values = actions.values_from(action, lambda f: getattr(s.args, f.key, None))
    staff_id, once = values["STAFF_ID"], values["--once"]
    hashed = _new_password(s)  # slow and refusable: before anything is recorded
    school = s.school_id()
    events = _record_password(s, school, staff_id, hashed, once=once)
    if staff_id == s.actor and s.proven.via == "session":  # a new password ends the sessions, but this one
        from careterm import identity as I

        I.open_session(s.store(), s.url, school, staff_id, now=_now(s))
    s.print_events(events)
    return EXIT_OK


def _live_tokens(s: Session) -> list[dict]:
    from careterm import identity as I

    now = _now(s)
    return [t for t in I.tokens(s.store(), s.school_id(), s.actor) if dt.datetime.fromisoformat(t["expires"]) > now]


def cmd_token_create(s: Session) -> int:
    from careterm import actions
    from careterm import identity as I

    values = actions.values_from(s.args.declared, lambda f: getattr(s.args, f.key, None))
    days = I.token_days(values["--days"])
    now = _now(s)
    expires = now + dt.timedelta(days=days)
    taken = [t["name"] for t in I.tokens(s.store(), s.school_id(), s.actor)]
    from events import commands as C

    events = s.record(lambda schools, ctx: C.create_token(schools, ctx, name=values["--name"], expires=expires, taken=taken))
    name = events[0].name
    token = I.new_token(s.store(), s.school_id(), s.actor, name, expires, now=now)
    data = {"name": name, "staff": s.actor, "token": token, "expires": expires.isoformat()}
    return s.emit(data, lambda d: (print(d["token"]), print(s.t("token.once", name=name, expires=d["expires"][:10]), file=sys.stderr)))


def cmd_token_list(s: Session) -> int:
    from careterm import identity as I

    now = _now(s)
    rows = [
        {"name": t["name"], "staff": t["staff"], "created": t["created"], "expires": t["expires"],
         "expired": dt.datetime.fromisoformat(t["expires"]) <= now}
        for t in I.tokens(s.store(), s.school_id(), s.actor)
    ]
    return s.emit({"tokens": rows}, lambda d: _table(s, d["tokens"], ("name", "created", "expires", "expired")))


def cmd_token_revoke(s: Session) -> int:
    from careterm import identity as I

    name = s.args.name
    key = I.find_token(s.store(), s.school_id(), s.actor, name)
    known = [name] if key is not None else []
    from events import commands as C

    events = s.record(lambda schools, ctx: C.revoke_token(schools, ctx, name=name, known=known))
    I.drop_token(s.store(), key)
    s.print_events(events)
    return EXIT_OK


SIGNIN_READERS = frozenset({"leader", "auditor"})


def cmd_signins(s: Session) -> int:
    """Failed sign-ins of the school (leaders and auditors): when, which id, during a lock."""
    from careterm import identity as I

    staff = _staff_now(s, s.actor)
    if not SIGNIN_READERS & set(staff.roles):
        raise Refused("--as", "actor_lacks_role", staff=s.actor, roles=sorted(SIGNIN_READERS))
    rows = [{"at": r["at"], "staff": r["staff"], "locked": bool(r.get("locked"))} for r in I.failures(s.store(), s.school_id())]
    return s.emit({"signins": rows}, lambda d: _table(s, d["signins"], ("at", "staff", "locked")))


def signin_problem(t: Translator, problem: NotSignedIn) -> str:
    """Exit 4 in words: never which of the id and the password was wrong."""
    return t(f"signin.{problem.reason}", **{k: str(v)[:16] for k, v in problem.params.items()})


def cmd_keys_list(s: Session) -> int:
    """The SSH keys that sign staff in (admins): {"keys":[{"staff","fingerprint","added"}]}."""
    from careterm import ssh

    model, _school, today = ssh.check_admin(s)
    return s.emit({"keys": ssh.key_rows(model, today)}, lambda d: _table(s, d["keys"], ("staff", "fingerprint", "added"))
                  if d["keys"] else print(s.t("keys.none")))


def cmd_keys_install(s: Session) -> int:
    """The managed block of the service account's authorized_keys (careterm/ssh.py)."""
    from careterm import ssh

    return s.emit(ssh.install(s, s.args.file), lambda d: print(s.t("keys.installed", file=d["file"], keys=d["keys"])))


def cmd_ssh_session(s: Session) -> int:
    """sshd's forced command for one staff key: signs them in for this process (careterm/ssh.py)."""
    from careterm import ssh

    return ssh.session(s, s.args.fingerprint)


def cmd_web(s: Session) -> int:
    """The app in browsers: careterm/web.py (textual-serve is imported there, when this runs)."""
    from careterm import web

    return web.main(s)


def cmd_open(s: Session) -> int:
    """No command: the terminal app on the store."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # no terminal (a pipe, cron, /dev/null): the app would wait for keys for ever
        print(s.t("open.no_terminal"), file=sys.stderr)
        return EXIT_USAGE
    s.store()  # a missing store is said here, before the screen is taken over
    schools = s.schools()
    wanted = s.wanted_school
    try:  # a session, a token or an SSH key settles who it is (and their school); else the app asks
        sign_in(s)
    except (NotSignedIn, Refused):  # Refused: a district's school not known yet
        s.proven, s.actor, s.wanted_school = None, None, wanted
    if schools and s.school_id(required=False) is None:
        # a district store and no school named: open on the first; `s` switches
        s.wanted_school = min(schools, key=lambda sid: (len(sid), sid))
    s.set_language()
    s.source = "tui"  # what is recorded from the app says so in the audit trail
    return run_app(s)


def run_app(ws: Workspace) -> int:
    """The app on a workspace whose store and school are settled (here, and for a browser:
    careterm/web.py). The command line is the program's entry: the one place it starts the app."""
    from careterm.tui.app import run
    from careterm.tui.keymap import load_keymap

    return run(ws, keymap=load_keymap())


# --- the parser ----------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own usage errors: exit 2
        self.print_usage(sys.stderr)
        print(f"careterm: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _globals(p: argparse.ArgumentParser, default: Any, *, school: bool = True) -> None:
    p.add_argument("--store", default=default)
    p.add_argument("--as", dest="actor", default=default, metavar="STAFF_ID")
    if school:  # `init` uses --school and --lang for the new school's name and language
        p.add_argument("--lang", default=default, metavar="zh|en")
        p.add_argument("--school", default=default, metavar="ID")
    p.add_argument("--json", action="store_true", default=default)
    p.add_argument("--key-file", dest="key_file", default=default, metavar="PATH")


class _Skipped:
    """A subcommand not built: `build_parser(only=…)` builds the one command being run (every
    subcommand's parser costs the start-up of each command line), and this takes the calls
    that would have built the others."""

    def __getattr__(self, name: str):
        return lambda *args, **kw: self


_SKIPPED = _Skipped()


def command_word(argv: Sequence[str]) -> tuple[int, str | None]:
    """Where the command is in a command line, and its first word: the first word that is
    neither an option nor a global option's value."""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        i += 1 if "=" in argv[i] or argv[i] in ("--json", "-h", "--help") else 2
    return i, (argv[i] if i < len(argv) else None)


def build_parser(t: Translator | None = None, only: str | None = None, *, _actions: bool = False) -> argparse.ArgumentParser:
    """The command line in one language (t: its catalog; default Chinese). `only`: the first
    word of the command to run: the other commands are left out (unknown, the whole tree is
    built, for the message listing them)."""
    t = t or Translator()
    _speak(t)
    parser = Parser(prog="careterm")
    _globals(parser, None)
    common = argparse.ArgumentParser(add_help=False)
    _globals(common, argparse.SUPPRESS)
    writing = argparse.ArgumentParser(add_help=False, parents=[common])
    writing.add_argument("--date")
    writing.add_argument("--note")
    founding = argparse.ArgumentParser(add_help=False)
    _globals(founding, argparse.SUPPRESS, school=False)
    founding.add_argument("--date")
    founding.add_argument("--note")
    viewing = argparse.ArgumentParser(add_help=False, parents=[common])
    viewing.add_argument("--as-of", metavar="DATE")
    viewing.add_argument("--known-at", metavar="TIME")


    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    made: set[str] = set()  # the top-level commands built

    def command(name: str, handler, *, write: bool = True, parent=sub, parents=None, signin: bool = True,
                **kw) -> argparse.ArgumentParser:
        if parent is sub:
            if only is not None and name != only:
                return _SKIPPED  # type: ignore[return-value]
            made.add(name)
        p = parent.add_parser(name, parents=parents or [writing if write else common], **kw)
        p.set_defaults(handler=handler, signin=signin)  # signin: a signed-in staff member is needed
        return p

    p = command("init", cmd_init, parents=[founding], signin=False)
    p.add_argument("--password-stdin", action="store_true")
    p.add_argument("--school", dest="school_name", required=True, metavar="NAME")
    p.add_argument(
        "--id", dest="school_id", metavar="SCHOOL_ID",
    )
    p.add_argument("--name")
    p.add_argument("--lang", dest="school_lang", metavar="zh|en")
    p.add_argument("--timezone")

    # the write actions, each from its one declaration (careterm/actions.py); `staff add` and
    # the like go into a group of subcommands, which the group's views join below
    groups: dict[str, Any] = {}

    def group(word: str):
        if only is not None and word != only:
            return _SKIPPED
        if word not in groups:
            made.add(word)
            groups[word] = sub.add_parser(word).add_subparsers(dest=f"{word}_command", parser_class=Parser, required=True)
        return groups[word]

    def write_actions() -> None:
        from careterm import actions

        for action in actions.ACTIONS:
            *head, last = action.words
            handler = globals()[f"cmd_{action.handler}"] if action.handler else cmd_action
            if action.spaced:
                head, last = [], action.path
            p = command(last, handler, parent=group(head[0]) if head else sub)
            if p is not _SKIPPED:
                p.set_defaults(declared=action)
                _declared_options(p, action)

    if only is None or _actions:
        write_actions()
    staff, aid = group("staff"), group("aid")
    command("list", cmd_staff_list, parent=staff, parents=[viewing])
    command("list", cmd_keys_list, parent=group("keys"), write=False)
    command("install", cmd_keys_install, parent=group("keys"), write=False).add_argument("--file", metavar="PATH")
    # the forced command of a staff key (careterm/ssh.py): the key is the sign-in
    command("ssh-session", cmd_ssh_session, write=False, signin=False).add_argument("fingerprint", metavar="FINGERPRINT")

    p = command("demo", cmd_demo, write=False, signin=False)
    p.add_argument("--schools")
    p.add_argument("--seed")
    p.add_argument("--until", metavar="DATE")

    def view(name: str, handler, *, parent=sub, **kw) -> argparse.ArgumentParser:
        return command(name, handler, parent=parent, parents=[viewing], **kw)

    view("archive", cmd_archive).add_argument("--incomplete", action="store_true")
    view("stats", cmd_stats)
    view("queue", cmd_queue)
    view("transfers", cmd_transfers)
    p = view("compliance", cmd_compliance)
    p.add_argument("--from", dest="range_from", metavar="DATE")
    p.add_argument("--to", dest="range_to", metavar="DATE")
    view("list", cmd_aid_list, parent=aid)
    view("list", cmd_fund_list, parent=group("fund"))
    p = view("notice", cmd_aid_notice, parent=aid)
    p.add_argument("--semester", required=True, metavar="NAME")
    command("rebuild", cmd_rebuild, write=False, signin=False)
    p = command("login", cmd_login, write=False, signin=False)
    p.add_argument("staff_id", metavar="STAFF_ID")
    p.add_argument("--password-stdin", action="store_true")
    command("logout", cmd_logout, write=False, signin=False)
    command("whoami", cmd_whoami, write=False)
    command("list", cmd_token_list, parent=group("token"), write=False)
    command("signins", cmd_signins, write=False)

    p = command("audit", cmd_audit, parents=[viewing])
    p.add_argument("--pupil")
    p.add_argument("--actor", dest="actor_filter", metavar="STAFF_ID")
    p.add_argument("--type", action="append")
    p.add_argument("--flag", metavar="late|backfill")
    p = command("history", cmd_history, parents=[viewing])
    p.add_argument("pupil_id", metavar="PUPIL_ID")
    command("schools", cmd_schools, write=False)
    p = command("access", cmd_access, write=False)
    p.add_argument("--pupil")
    p.add_argument("--actor", dest="actor_filter", metavar="STAFF_ID")
    p = command("verify", cmd_verify, write=False, signin=False)
    p.add_argument("--head", metavar="HASH")
    p = command("web", cmd_web, write=False, signin=False)  # every browser signs in (careterm/web.py)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", default="8000")
    p.add_argument("--public-url", metavar="URL")
    p.add_argument("--max-sessions", metavar="N")
    p.add_argument("--browser-session", action="store_true")
    _paperwork_commands(command, view, group)
    _district_commands(command, group)
    if only is not None and not _actions and (only not in made or only in groups):
        # a write action, or a group holding some (`staff add` beside `staff list`): built again
        # with the actions in their place, so a group lists its subcommands in the same order
        return build_parser(t, only, _actions=True)
    if only is not None and only not in made:
        return build_parser(t)  # no such command: argparse names them all
    for found in groups.values():
        found.metavar = "|".join(found.choices)
    _words(parser, t, "")
    return parser


def _paperwork(module: str, name: str) -> Callable[[Session], int]:
    """A paperwork command's handler (careterm/paperwork/MODULE.py), imported only when it runs:
    openpyxl and python-docx are heavy, and every other command starts without them."""

    def handler(s: Session) -> int:
        import importlib

        return getattr(importlib.import_module(f"careterm.paperwork.{module}"), name)(s)

    handler.__name__ = f"cmd_{name}"
    return handler


def _district(name: str) -> Callable[[Session], int]:
    """A handler of careterm/district_cli.py, imported only when its command runs."""

    def handler(s: Session) -> int:
        from careterm import district_cli

        return getattr(district_cli, name)(s)

    handler.__name__ = f"cmd_{name}"
    return handler


def _district_commands(command, group) -> None:
    """`bundle export|import` and `backup` (cli.md "District and deployment")."""
    bundle = group("bundle")
    p = command("export", _district("bundle_export"), parent=bundle, write=False)
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--since", metavar="HEAD")
    p = command("import", _district("bundle_import"), parent=bundle, write=False, signin=False)
    p.add_argument("file", metavar="FILE")
    p.add_argument("--password-stdin", action="store_true")
    command("backup", _district("backup"), write=False, signin=False).add_argument("file", metavar="FILE")


def _paperwork_commands(command, view, group) -> None:
    """`import pupils|staff FILE` and `export WHAT … --out FILE` (cli.md "Import", "Export")."""
    importing = group("import")
    for what in ("pupils", "staff"):
        p = command(what, _paperwork("import_cli", f"import_{what}"), parent=importing)
        p.add_argument("file", metavar="FILE")
        p.add_argument("--dry-run", action="store_true")
        p.add_argument("--sheet", metavar="NAME")
    exporting = group("export")

    def export(what: str, module: str, *positional: str) -> argparse.ArgumentParser:
        p = view(what, _paperwork(module, f"export_{what}"), parent=exporting)
        for name in positional:
            p.add_argument(name.lower(), metavar=name)
        p.add_argument("--out", required=True, metavar="FILE")
        return p

    p = export("template", "import_cli")
    p.add_argument("what", choices=("pupils", "staff"), metavar="pupils|staff")
    export("stats", "tables_cli")
    p = export("notice", "tables_cli")
    p.add_argument("--semester", required=True, metavar="NAME")
    for what, module in (("compliance", "tables_cli"), ("handbook", "documents_cli")):
        p = export(what, module, *(("STAFF_ID",) if what == "handbook" else ()))
        p.add_argument("--from", dest="range_from", metavar="DATE")
        p.add_argument("--to", dest="range_to", metavar="DATE")
    p = export("report", "documents_cli", "PUPIL_ID")
    p.add_argument("--semester", required=True, metavar="NAME")
    export("archive", "documents_cli", "PUPIL_ID")


def _declared_options(p: argparse.ArgumentParser, action: "actions.Action") -> None:
    """A write action's arguments and options, as declared."""
    for f in action.fields:
        if f.positional:
            p.add_argument(f.key, metavar=f.metavar or f.name)
            continue
        options: dict[str, Any] = {"dest": f.key}
        if f.kind == "flag":
            p.add_argument(f.name, dest=f.key, action="store_true")
            continue
        if f.required:
            options["required"] = True
        if f.repeated:
            options["action"] = "append"
        if f.metavar:
            options["metavar"] = f.metavar
        inherited = p._option_string_actions.get(f.name)
        if inherited is not None:  # `keys add --key-file` (an SSH key) over the global data key's
            _drop_inherited(p, inherited)
        p.add_argument(f.name, **options)


def _drop_inherited(p: argparse.ArgumentParser, inherited: argparse.Action) -> None:
    """Take a global option out of this one parser (the data key's `--key-file` out of `keys
    add`, whose own --key-file is the SSH key's file; the data key is then given before the
    command). The action object is shared by every subcommand's parser: argparse's "resolve"
    would strip its option strings everywhere and turn it into a positional of all the others."""
    for option in inherited.option_strings:
        p._option_string_actions.pop(option, None)
    p._actions.remove(inherited)
    for group in p._action_groups:
        if inherited in group._group_actions:
            group._group_actions.remove(inherited)


# argparse's own messages, by their English text (argparse looks its module-global `_` up when it
# speaks, so they follow the language of the parser built last)
ARGPARSE_TEXTS = {
    "usage: ": "argparse.usage",
    "positional arguments": "argparse.positionals",
    "options": "argparse.options",
    "show this help message and exit": "argparse.help",
    "the following arguments are required: %s": "argparse.required",
    "invalid choice: %(value)r (choose from %(choices)s)": "argparse.invalid_choice",
    "unrecognized arguments: %s": "argparse.unrecognized",
    "argument %(argument_name)s: %(message)s": "argparse.argument",
    "expected one argument": "argparse.expected_one",
    "expected at most one argument": "argparse.expected_at_most_one",
    "expected at least one argument": "argparse.expected_at_least_one",
    "expected %s argument": "argparse.expected_n",
    "expected %s arguments": "argparse.expected_n",
    "ambiguous option: %(option)s could match %(matches)s": "argparse.ambiguous",
    "not allowed with argument %s": "argparse.not_allowed_with",
    "ignored explicit argument %r": "argparse.ignored_explicit",
    "one of the arguments %s is required": "argparse.one_of_required",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "argparse.unknown_parser",
    "invalid %(type)s value: %(value)r": "argparse.invalid_type",
    "unexpected option string: %s": "argparse.unexpected_option",
}


def _speak(t: Translator) -> None:
    """argparse speaks the catalog's language: its `_` and `ngettext` become lookups."""
    from careterm.i18n import catalog

    def text(message: str) -> str:
        key = ARGPARSE_TEXTS.get(message)
        return catalog(t.lang).get(key, message) if key else message

    argparse._ = text  # type: ignore[attr-defined]
    argparse.ngettext = lambda one, many, n: text(one if n == 1 else many)  # type: ignore[attr-defined]


def _words(parser: argparse.ArgumentParser, t: Translator, path: str) -> None:
    """Every help text and placeholder of the parser from the catalog: a command's words are
    `cmd.PATH` (`cmd.staff add`), an option's `opt.PATH.DEST` or else `opt.DEST`, a value's
    placeholder `meta.PATH.DEST` or else `meta.DEST` (a positional's: `meta.METAVAR`)."""
    from careterm.i18n import catalog

    words = catalog(t.lang)

    def first(*keys: str) -> str | None:
        return next((words[k] for k in keys if k in words), None)

    parser.description = first(f"cmd.{path}" if path else "cmd.careterm")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            action.metavar = first(f"meta.{action.metavar}") or action.metavar
            # every command listed in the help, with its words (argparse lists only those
            # added with help=)
            action._choices_actions[:] = [
                action._ChoicesPseudoAction(name, (), first(f"cmd.{(path + ' ' + name).strip()}"))
                for name in action.choices
            ]
            for name, sub in action.choices.items():
                _words(sub, t, (path + " " + name).strip())
        elif action.dest == "help":
            continue
        elif action.option_strings:
            action.help = first(f"opt.{path}.{action.dest}", f"opt.{action.dest}")
            if action.nargs != 0:
                action.metavar = first(f"meta.{path}.{action.dest}", f"meta.{action.dest}") or action.metavar
        else:
            action.metavar = first(f"meta.{action.metavar}") or action.metavar


def _language_and_probe(argv: Sequence[str]) -> "tuple[str, Workspace | None]":
    """The language to build the parser in, known before parsing: --lang, else CARETERM_LANG,
    else the store's language (a SQLite file's directory is cheap to read), else Chinese. With
    it, the workspace opened on a SQLite store to read it (None when none was): the command's
    session takes its open store over rather than opening it again."""
    from careterm.i18n import DEFAULT_LANG

    def option(name: str) -> str | None:
        for i, arg in enumerate(argv):
            if arg == name and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(name + "="):
                return arg.partition("=")[2]
        return None

    lang = option("--lang") or os.environ.get("CARETERM_LANG")
    if lang:
        return (lang if lang in LANGS else DEFAULT_LANG), None
    url = option("--store") or os.environ.get("CARETERM_STORE")
    probe = None
    try:
        if url is None:
            from events.store import default_store_path

            url = str(default_store_path())
        if is_postgres(url) or not os.path.isfile(os.path.expanduser(url)):
            return DEFAULT_LANG, None  # a server is not asked only for the words of the help
        probe = Workspace(url, school=option("--school"))
        probe.set_language()
        return probe.t.lang, probe
    except Exception:  # noqa: BLE001 - any trouble with the store is said later, in words
        if probe is not None:
            probe.close()
        return DEFAULT_LANG, None


# --- enumerated values by code or by name -----------------------------------------------------


def _view_enumerations() -> dict[str, tuple[str, Sequence[str]]]:
    """A view's enumerated option dest -> (catalog prefix of its names, the codes it allows). The
    write actions' enumerated fields are declared with their choices (careterm/actions.py)."""
    from events.types import BY_NAME
    from projections.audit import FLAGS

    return {"type": ("type.", tuple(BY_NAME)), "flag": ("flag.", FLAGS)}


def code_of(value: str, prefix: str, codes):
    """The code a person meant, by its code or its name in either catalog (careterm.actions)."""
    from careterm import actions

    return actions.code_of(value, prefix, codes)


def by_name(args: argparse.Namespace) -> None:
    """Enumerated options of a view given by name become their codes, in place (a write
    action's fields become codes as their values are read: actions.value_of)."""
    if getattr(args, "declared", None) is not None:
        return
    for dest, (prefix, codes) in _view_enumerations().items():
        value = getattr(args, dest, None)
        if isinstance(value, str):
            setattr(args, dest, code_of(value, prefix, codes))
        elif isinstance(value, list):
            setattr(args, dest, [code_of(v, prefix, codes) if isinstance(v, str) else v for v in value])


def _allowed_by_name(t: Translator, args: argparse.Namespace, refused: Refused) -> dict:
    """An unknown value of an enumerated option: the allowed values by their names."""
    params = dict(refused.params)
    declared = getattr(args, "declared", None)
    found = declared.field(refused.field) if declared is not None else None
    if found is not None:
        prefix = found.prefix if found.choices else None
    else:
        prefix = _view_enumerations().get(refused.field.lstrip("-").replace("-", "_"), (None,))[0]
    if prefix is not None and isinstance(params.get("allowed"), (list, tuple)):
        params["allowed"] = t.names(list(params["allowed"]), prefix)
    return params


# the first words of the actions of two words joined into one command (actions.Action.spaced): a
# command line that starts otherwise is not looked at (and careterm.actions not imported); a test
# checks this against the declarations
SPACED_FIRST_WORDS = ("transfer",)


def joined_words(argv: list[str]) -> list[str]:
    """`transfer accept P1` as the one command `transfer accept` (actions.Action.spaced): its
    first word is also a command of its own (`transfer P1 --to S`)."""
    i, word = command_word(argv)
    if word not in SPACED_FIRST_WORDS:
        return argv
    from careterm import actions

    for action in actions.ACTIONS:
        words = list(action.words)
        rest = argv[i + len(words):]
        if action.spaced and argv[i:i + len(words)] == words and not any(a == "--to" or a.startswith("--to=") for a in rest):
            return argv[:i] + [action.path] + argv[i + len(words):]
    return argv


def main(argv: Sequence[str] | None = None, *, proven: "Proven | None" = None) -> int:
    """Run one command line. `proven`: an identity the caller has already proven (the SSH
    forced command's key), used instead of a session or a token."""
    argv = joined_words(sys.argv[1:] if argv is None else list(argv))
    word = command_word(argv)[1]
    # the parser of the command run, or the whole tree for the help (no command, or -h before it)
    only = None if word is None or "-h" in argv[:argv.index(word)] or "--help" in argv[:argv.index(word)] else word
    lang, probe = _language_and_probe(argv)
    try:
        parser = build_parser(Translator(lang), only)
        args = parser.parse_args(argv)
        args._parser = parser
        by_name(args)
        if getattr(args, "store", None) is not None and not str(args.store).strip():
            # `--store ""` (an unset variable in a script) silently meant the default store
            parser.error(Translator(lang)("usage.empty_store"))
        session = Session(args, proven)
        if (probe is not None and probe.url == session.url and session.key_file is None
                and getattr(args, "signin", False)):  # a command on a store that exists (not init, demo)
            session.take_store(probe)  # the store read for the language, opened once
            probe = None
    finally:
        if probe is not None:
            probe.close()
    if session.lang_override and session.lang_override not in LANGS:
        message = session.t.refusal("--lang", "unknown_value", {"value": session.lang_override, "allowed": list(LANGS)})
        print(f"{session.t('error')}: {message}", file=sys.stderr)
        session.close()
        return EXIT_REFUSED
    handler = getattr(args, "handler", cmd_open)
    if handler is not cmd_open and getattr(args, "signin", False):  # a view or a write, not the app nor `web`
        from events import saved

        saved.one_command()
    stdout = sys.stdout
    if handler is not cmd_open and not isinstance(stdout, _Printable):
        sys.stdout = _Printable(stdout)  # the app draws its own screen; text output is guarded
    try:
        if handler is not cmd_open and getattr(args, "signin", True):
            sign_in(session)
        return handler(session)
    except NotSignedIn as problem:
        with contextlib.suppress(Exception):  # the store's language, if it can be read
            session.set_language()
        print(f"{session.t('error')}: {signin_problem(session.t, problem)}", file=sys.stderr)
        return EXIT_SIGNIN
    except Refused as refused:
        params = _allowed_by_name(session.t, args, refused)
        print(f"{session.t('error')}: " + session.t.refusal(refused.field, refused.code, params), file=sys.stderr)
        return EXIT_REFUSED
    except UsageError as usage:
        print(f"careterm: {usage}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as problem:
        message = store_problem(session.t, problem, session.url)
        print(f"{session.t('error')}: {message}", file=sys.stderr)
        return EXIT_STORE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (e.g. `| head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as bug:  # never a traceback for the user; details on request
        if os.environ.get("CARETERM_DEBUG"):
            raise
        from events.store import damage_of

        damaged = damage_of(bug)
        if damaged is not None:  # a damaged file met outside `verify`: say so, never "internal error"
            print(f"{session.t('error')}: {store_problem(session.t, damaged, session.url)}", file=sys.stderr)
            return EXIT_STORE
        print(f"{session.t('error')}: " + session.t("internal.error", message=type(bug).__name__), file=sys.stderr)
        return EXIT_STORE
    finally:
        sys.stdout = stdout
        session.close()


class _Printable:
    """Standard output that never passes a control character of stored text to a terminal:
    an escape code in a name stored before careterm refused them is printed as `\\x1b`. Tabs
    (the columns of text output) and line breaks pass; JSON escapes its own."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        from careterm.shown import printable

        return self._stream.write("\t".join(printable(part) for part in text.split("\t")))

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def store_problem(t: Translator, problem: StoreError, url: str) -> str:
    """A store problem in words: missing, not a store, damaged, unreachable, busy, cannot be
    opened or written. The library's own text (English) only with CARETERM_DEBUG."""
    from events.keys import KeyMissing, KeyNotMade, WrongKey
    from events.store import NotAStore, damage_of

    if isinstance(problem, KeyMissing):
        return t("store.key_missing", path=problem.path)
    if isinstance(problem, KeyNotMade):
        return t("store.key_not_made", path=problem.path)
    if isinstance(problem, WrongKey):
        return t("store.wrong_key", path=problem.path)
    if isinstance(problem, StoreMissing):
        return t("store.missing", path=url)
    if isinstance(problem, NotAStore):
        return t("store.not_a_store", path=problem.path)
    damaged = damage_of(problem)
    if damaged is not None:
        return t("store.damaged", part=t(f"store.part.{damaged.part}"), detail=damaged.detail)
    message = t(f"store.{_store_problem_kind(problem)}", path=_shown_url(url))
    if os.environ.get("CARETERM_DEBUG"):
        message += f" ({problem})"
    return message


def _store_problem_kind(problem: BaseException) -> str:
    """Which catalog sentence a store error is: the server unreachable, the file busy, the store
    not opened or not written, an entry that cannot be read, or something else."""
    text = str(problem)
    seen: BaseException | None = problem
    while seen is not None:
        if type(seen).__module__.startswith(("psycopg", "psycopg_pool")):
            return "unreachable"
        seen = seen.__cause__ or seen.__context__
    if "locked" in text or "busy" in text:
        return "busy"
    if text.startswith("cannot open the store"):
        return "cannot_open"
    if text.startswith("cannot write"):
        return "cannot_write"
    if text.startswith("event #"):
        return "unreadable_event"
    return "error"


def _shown_url(url: str) -> str:
    """A store's place for people: a PostgreSQL URL without its password."""
    from urllib.parse import urlparse, urlunparse

    if not is_postgres(url):
        return url
    u = urlparse(url)
    if u.password:
        u = u._replace(netloc=u.netloc.replace(f":{u.password}@", ":***@"))
    return urlunparse(u)


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
