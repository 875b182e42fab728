"""What the app (careterm.tui) asks of the store, behind one lock. No Textual here: the
backend sits below the TUI (tests/test_layers.py).

Every call runs in a worker thread, never on the UI thread; the lock keeps the one workspace
(store connection, write-side state, the read model it keeps and catches up in place) used by
one thread at a time, views included. The views are the same functions the command line prints,
asked for the signed-in person (the workspace's actor): each shows what projections/visibility.py
lets them see, and the panes paint what comes back.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any, Callable

from careterm.workspace import Workspace
from events import permissions
from events.model import SchoolModel
from projections import aid as aid_views
from projections import views
from projections import visibility as V
from projections.audit import audit_row, trail
from projections.compliance import compliance


@dataclass(frozen=True)
class When:
    """The time travel control: None, None is now; otherwise history, clearly marked."""

    as_of: dt.date | None = None
    known_at: dt.datetime | None = None

    @property
    def is_history(self) -> bool:
        return self.as_of is not None or self.known_at is not None


class Backend:
    def __init__(self, workspace: Workspace):
        self.ws = workspace
        workspace.defer_saves = True  # a read model is saved by `save_due`, after the screen is painted
        self.lock = threading.RLock()  # a view may ask for another (the pupil file: its history)

    def _locked(self, fn: Callable[[], Any]) -> Any:
        with self.lock:
            return fn()

    # -- cheap questions ---------------------------------------------------------------------

    def head(self) -> int:
        """The log position: when it moves, someone recorded something."""
        return self._locked(lambda: self.ws.store().head())

    def save_due(self) -> int:
        """Save the read models loaded since they were last saved, if it is time (idle work)."""
        return self._locked(self.ws.save_due)

    def zone(self):
        """The school's time zone (recording times are shown in it)."""
        return self._locked(self.ws.zone)

    def today(self) -> dt.date:
        return self._locked(self.ws.today)

    def schools(self) -> list[tuple[str, str]]:
        """(id, name) of every school in the store."""
        found = self._locked(lambda: self.ws.schools(refresh=True))
        return sorted(((sid, value[0]) for sid, value in found.items()), key=lambda x: (len(x[0]), x[0]))

    def event_id_of(self, seq: int) -> str | None:
        """The id of the entry at a place in the log (forms accept the number the audit shows)."""

        def find() -> str | None:
            for _, event in self.ws.store().read(seq - 1, upto=seq):
                return event.id
            return None

        return self._locked(find)

    def switch_school(self, school: str) -> None:
        def switch() -> None:
            self.ws.wanted_school = school
            self.ws._service = None  # the write side is one school's
            self.ws.set_language()

        self._locked(switch)

    # -- views -------------------------------------------------------------------------------

    def model(self, when: When) -> tuple[SchoolModel, dt.date]:
        return self._locked(lambda: self.ws.model_as_of(when.as_of, when.known_at))

    def people(self) -> tuple[str, dt.date, list[tuple[str, str]], list[tuple[str, str]]]:
        """The school's name, its date, and (id, name) of its pupils and staff (for suggestions)."""

        def read() -> tuple[str, dt.date, list[tuple[str, str]], list[tuple[str, str]]]:
            model, day = self.ws.model_as_of(None, None)
            pupils = [(p.id, p.base.get("name", "")) for p in model.pupils.values()]
            return model.name, day, pupils, [(st.id, st.name) for st in model.staff.values()]

        return self._locked(read)

    def viewer(self, model: SchoolModel) -> V.Viewer:
        """Who reads: the signed-in staff member."""
        return V.viewer_of(model, self.ws.actor)

    def may_view(self, name: str) -> bool:
        """Whether the signed-in person may open a view (audit: leaders and auditors; queue: leaders)."""

        def ask() -> bool:
            model, _ = self.ws.model_as_of(None, None)
            return V.view_allowed(self.viewer(model), name)

        return self._locked(ask)

    def view(self, name: str, when: When, **kw: Any) -> dict:
        return self._locked(lambda: self._view(name, when, **kw))

    def _view(self, name: str, when: When, **kw: Any) -> dict:
        model, day = self.model(when)
        viewer = self.viewer(model)
        if name == "compliance":
            return compliance(model, day, kw.get("start"), kw.get("end"), viewer=viewer)
        if name == "aid_list":
            ledger = views.aid_list(model, day, viewer)
            for app in ledger["applications"]:  # whether the signed-in person may take its next step
                app["mine"] = permissions.may_take_step(model, self.ws.actor or "", app["next"], day)
            return ledger
        if name == "notice":
            return views.aid_notice(model, day, kw["semester"], viewer) or {"semester": kw["semester"], "notice": []}
        if name == "queue" and not V.view_allowed(viewer, "queue"):
            # not a leader's: an empty queue that says so (the pane shows it in words)
            return {"as_of": day.isoformat(), "mentors": [], "pupils": [], "suggestions": [], "restricted": True}
        return getattr(views, name)(model, day, viewer)

    def home(self, when: When) -> dict:
        return self._locked(lambda: self._home(when))

    def _home(self, when: When) -> dict:
        """What needs doing: my pupils' duties due or overdue; for a leader, the school's."""
        model, day = self.model(when)
        viewer = self.viewer(model)
        comp = compliance(model, day, viewer=viewer)
        me = self.ws.actor
        mine = []
        for pairing in comp["pairings"]:
            for duty, result in pairing["duties"].items():
                if result["status"] in ("overdue", "due_soon", "pending") and (pairing["staff"] == me):
                    mine.append({"pupil": pairing["pupil"], "duty": duty, **result})
        overdue = [
            {"staff": p["staff"], "pupil": p["pupil"], "duty": d, **r}
            for p in comp["pairings"]
            for d, r in p["duties"].items()
            if r["status"] == "overdue"
        ]
        queue = views.queue(model, day, viewer) if V.view_allowed(viewer, "queue") else {"pupils": [], "mentors": []}
        archive = views.archive(model, day, viewer)["pupils"]
        dropped = [p for p in archive if p["status"] == "dropped_out"]
        incidents = [
            e
            for e in model.entries.values()
            if e.type == "IncidentReported" and not e.retracted and e.date <= day and (e.follow_up_date is None or e.follow_up_date > day)
            and V.in_view(viewer, model, e.pupils[0], day)
        ]
        names = {p["pupil"]: p["name"] for p in archive}
        me_staff = model.staff.get(me or "")
        steps = set().union(*(permissions.HOME_STEPS.get(r, frozenset()) for r in (me_staff.roles if me_staff else ())))
        waiting = [a for a in aid_views.awaiting(model, day, viewer, steps)
                   if permissions.may_take_step(model, me or "", a["next"], day)]
        # pupils other schools of the district sent here, waiting for a leader to accept them
        transfers = []
        if V.view_allowed(viewer, "transfers") and len(self.ws.schools()) > 1:
            from projections.transfers import pending_incoming

            transfers = pending_incoming(self.ws.transfers(model, day, viewer))
        return {
            "as_of": day,
            "school": model.name,
            "transfers": transfers,
            "me": me_staff.name if me_staff else me,
            # the school's overview: for those who see every pupil (leaders, auditors)
            "leader": viewer.sees_all,
            "my_pupils": [p.pupil for p in (me_staff.pairings if me_staff else []) if p.active_on(day)],
            "mine": mine,
            "overdue": overdue,
            "waiting_pupils": queue["pupils"],
            "waiting_mentors": queue["mentors"],
            "dropped_out": dropped,
            "incidents": [{"id": e.id, "pupil": e.pupils[0], "need": e.kind, "date": e.date} for e in incidents],
            "aid": waiting,  # the applications waiting for a step of mine (a decision, a grant, a survey)
            "names": names,
        }

    def pupil_file(self, pupil: str, when: When) -> dict:
        return self._locked(lambda: self._pupil_file(pupil, when))

    def _pupil_file(self, pupil: str, when: When) -> dict:
        model, day = self.model(when)
        rec = model.pupils[pupil]
        viewer = self.viewer(model)
        row = views.visible_row(model, rec, day, viewer)
        if row.get("restricted"):
            # outside the reader's view: name, grade, class and status, nothing of the file
            timeline = self.history(pupil, when) if V.own_entries_only(viewer, model, pupil, day) else []
            return {"pupil": row, "duties": {}, "aid": [], "timeline": timeline, "as_of": day, "zone": self.ws.zone()}
        comp = compliance(model, day, viewer=viewer)
        duties = next((p["duties"] for p in comp["pairings"] if p["pupil"] == pupil), {})
        aid = [g for g in views.aid_list(model, day, viewer)["grants"] if g["pupil"] == pupil]
        timeline = self.history(pupil, when)
        return {"pupil": row, "duties": duties, "aid": aid, "timeline": timeline, "as_of": day, "zone": self.ws.zone()}

    def history(
        self, pupil: str | None, when: When, *, actor: str | None = None, types: tuple[str, ...] = (), flag: str | None = None
    ) -> list[dict]:
        def read() -> list[dict]:
            model = self.ws.model()
            viewer = self.viewer(model)
            day = when.as_of or self.ws.today()
            nonlocal actor
            if pupil is None:
                if not V.view_allowed(viewer, "audit"):
                    return []  # the whole trail: leaders and auditors (the pane says so)
            elif V.own_entries_only(viewer, model, pupil, day):
                actor = viewer.staff  # a former mentee: the entries they recorded themselves
            elif not V.in_view(viewer, model, pupil, day):
                return []
            rows = trail(
                self.ws.store().read(school=self.ws.school_id()),
                school=self.ws.school_id(),
                late_days_on=lambda d: model.rules_on(d).late_days,
                zone=self.ws.zone(),
                as_of=when.as_of,
                known_at=when.known_at,
                pupil=pupil,
                actor=actor,
                types=types,
                flag=flag,
            )
            shown = []
            for seq, e, flags in rows:
                event, withheld = V.visible_event(viewer, model, e)
                shown.append(dict(audit_row(seq, event), flags=flags, event=event, **({"withheld": True} if withheld else {})))
            if pupil is not None and actor is None:
                # the record of the schools of the district the pupil came from: read only, marked
                elsewhere = V.from_elsewhere(viewer)
                for school, earlier, found in self.ws.earlier_records(model, pupil, as_of=when.as_of, known_at=when.known_at):
                    before = []
                    for seq, e, flags in found:
                        event, withheld = V.visible_event(elsewhere, earlier, e)
                        before.append(dict(audit_row(seq, event), flags=flags, event=event, school=school,
                                           school_name=earlier.name, **({"withheld": True} if withheld else {})))
                    shown[:0] = before
            return shown

        return self._locked(read)

    # -- recording ---------------------------------------------------------------------------

    def same_entries(self, pupils: list[str], kind: str, day: dt.date) -> dict[str, list[str]]:
        """pupil -> ids of the standing entries of this kind that day (a repeat is asked about)."""

        def read() -> dict[str, list[str]]:
            model, _ = self.ws.model_as_of(None, None)
            found = {p: views.same_entries(model, p, kind, day) for p in pupils}
            return {p: ids for p, ids in found.items() if ids}

        return self._locked(read)

    def export(self, write: Callable[[Workspace], Any]) -> Any:
        """Run an export or an import check (careterm/paperwork) on the workspace, behind the lock:
        the same functions the command line calls, for the signed-in person."""
        return self._locked(lambda: write(self.ws))

    def record(self, build, *, date: dt.date | None = None, note: str = "") -> list:
        """Check and store an action; raises events.errors.Refused with the field at fault."""
        return self._locked(lambda: self.ws.record(build, date=date, note=note))

    def close(self) -> None:
        self._locked(self.ws.close)
