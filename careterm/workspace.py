"""A person's session on a store, shared by the command line and the TUI (no Textual here).

It opens the store, knows the schools (from a small persisted directory), the school's date and
language, folds the write side when something is recorded, and loads read models for views.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING, Any, Callable
from zoneinfo import ZoneInfo

from careterm.i18n import Translator
from events.errors import Refused
from events.store import Store, StoreMissing, default_store_path

if TYPE_CHECKING:  # the write side is imported by the commands that write (start-up time)
    from events import commands as C


class Workspace:
    # a password signs in for this OS user, with a session file (`login`, the terminal app); a
    # face whose OS user is not the person at the keyboard (the browser, careterm/web.py) says
    # False: the sign-in holds for its one process, and no session is written or read
    keeps_sessions = True

    def __init__(
        self,
        url: str | None = None,
        *,
        actor: str | None = None,
        lang: str | None = None,
        school: str | None = None,
        source: str = "cli",
        proven=None,
    ):
        self.url = url or os.environ.get("CARETERM_STORE") or str(default_store_path())
        self.actor = actor or os.environ.get("CARETERM_USER")
        self.lang_override = lang or os.environ.get("CARETERM_LANG")
        self.wanted_school = school or os.environ.get("CARETERM_SCHOOL")
        self.source = source
        # the identity the face proved (careterm.identity.Proven), or None until it is; with one,
        # `actor` is its staff member
        self.proven = proven
        if proven is not None:
            self.actor = proven.staff
            if proven.school and not self.wanted_school:
                self.wanted_school = proven.school
        self.t = Translator(self.lang_override or "zh")
        self._store: Store | None = None
        self._service = None
        self._schools: dict | None = None
        self._kept = None  # the read models loaded in this session (events.saved.Kept)
        # a session that saves its read models when idle (`save_due`), not while someone waits
        # for a screen: the TUI
        self.defer_saves = False

    # -- the store ---------------------------------------------------------------------------

    def store(self, *, create: bool = False) -> Store:
        if self._store is None:
            # the data key's file: --key-file, else CARETERM_KEY_FILE, else the user config directory
            self._store = Store(self.url, create=create, key_file=getattr(self, "key_file", None))
        return self._store

    @property
    def service(self):
        """The write side: folds the log to check commands against it (incremental)."""
        if self._service is None:
            from events.service import Service

            # one school's write side: a district store's other schools cost nothing here
            self._service = Service(self.store(), school=self.school_id(required=False))
            self._service.catch_up()
            self.set_language()
        return self._service

    def take_store(self, other: "Workspace") -> None:
        """Use the store another workspace opened on the same place (and its schools' directory)."""
        self._store, other._store = other._store, None
        self._schools = other._schools

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
            self._service = None
            self._kept = None

    # -- schools, language, date ---------------------------------------------------------------

    def schools(self, *, refresh: bool = False) -> dict[str, tuple[str, str, str]]:
        """id -> (name, language, time zone), from the persisted directory (cheap)."""
        if self._schools is None or refresh:
            from projections.readmodel import directory

            self._schools = directory(self.store()).schools
        return self._schools

    def set_language(self) -> None:
        if self.lang_override:
            return
        school = self.schools().get(self.school_id(required=False) or "")
        if school is not None:
            self.t = Translator(school[1])

    def school_id(self, *, required: bool = True) -> str | None:
        schools = self.schools()
        if self.wanted_school:
            if required and self.wanted_school not in schools:
                raise Refused("--school", "unknown_school", school=self.wanted_school)
            return self.wanted_school
        if len(schools) == 1:
            return next(iter(schools))
        if not schools:
            if required:
                raise StoreMissing(self.url)
            return None
        if self.actor:
            # a district store: the school of the acting user, if only one has them
            mine = [sid for sid in self.store().schools_of_staff(self.actor) if sid in schools]
            if len(mine) == 1:
                return mine[0]
        if required:
            raise Refused("--school", "several_schools", schools=sorted(schools), count=len(schools))
        return None

    def zone(self, school: str | None = None) -> ZoneInfo:
        return ZoneInfo(self.schools().get(school or self.school_id(required=False) or "", ("", "", "Asia/Shanghai"))[2])

    def today(self, school: str | None = None) -> dt.date:
        """The school's date now, in its time zone."""
        return self.store().clock().astimezone(self.zone(school)).date()

    # -- reading -------------------------------------------------------------------------------

    def model(self, known_at: dt.datetime | None = None):
        from events import saved

        if self._kept is None:
            self._kept = saved.Kept()
        school = self.school_id()
        return saved.load(self.store(), school, known_at=known_at, kept=self._kept, save=not self.defer_saves)

    def save_due(self) -> int:
        """Save the read models a deferred load left unsaved (see `defer_saves`)."""
        from events import saved

        return saved.save_due(self.store(), self._kept) if self._kept is not None else 0

    def model_as_of(self, as_of: dt.date | None = None, known_at: dt.datetime | None = None):
        """(read model, as-of date): current, or replayed as known at a time.

        With only `known_at`, the date asked is the day of that time (the record on that day).
        """
        school = self.school_id()
        self.set_language()
        if as_of is None:
            as_of = self.today(school)
            if known_at is not None:
                as_of = min(as_of, known_at.astimezone(self.zone(school)).date())
        return self.model(known_at), as_of

    def transfers(self, model, day: dt.date, viewer) -> dict:
        """The transfers inside the district this school sees (projections/transfers.py), the
        sending schools of those not yet accepted read for their pupils' names and standing."""
        from events import saved, transfers as T
        from projections.transfers import transfers

        store = self.store()
        index = T.index(store)
        others = {sid: saved.load(store, sid, kept=self._kept, save=False) for sid in index.senders_to(model.id)}
        names = {sid: found[0] for sid, found in self.schools().items()}
        return transfers(index, model, others, names, day, viewer)

    def earlier_records(self, model, pupil_id: str, *, as_of: dt.date | None = None,
                        known_at: dt.datetime | None = None) -> list[tuple[str, Any, list]]:
        """The pupil's record at the schools of the district they came from, nearest first:
        (school, its model, its trail rows about the pupil: (seq, event, flags)), read only.
        A pupil sent A -> B -> C has B's record, then A's."""
        from zoneinfo import ZoneInfo

        from events import saved
        from projections.audit import trail

        store, found, seen = self.store(), [], {model.id}
        while True:
            arrival = next((a for a in model.arrivals.values() if a.pupil == pupil_id), None)
            if arrival is None or arrival.school in seen:
                return found
            seen.add(arrival.school)
            model, pupil_id = saved.load(store, arrival.school, kept=self._kept, save=False), arrival.from_pupil
            rows = trail(store.read(school=model.id), school=model.id, late_days_on=lambda d, m=model: m.rules_on(d).late_days,
                         zone=ZoneInfo(model.timezone), as_of=as_of, known_at=known_at, pupil=pupil_id)
            found.append((model.id, model, rows))

    # -- writing -------------------------------------------------------------------------------

    def require_actor(self) -> str:
        if not self.actor:
            raise Refused("--as", "actor_not_staff", staff="")
        return self.actor

    def context(self, *, date: dt.date | None = None, note: str = "") -> C.Context:
        school = self.school_id()
        today = self.today(school)
        from events import commands as C

        return C.Context(
            school=school,
            actor=self.require_actor(),
            today=today,
            date=date or today,
            source=self.source,
            note=note,
        )

    def check_clock_day(self) -> None:
        """Before a write dated by the clock alone: refused naming --date when the clock's day is
        more than a day past the latest entry's recording day (events.rules.clock_ran_ahead), so
        a clock that ran ahead cannot date an entry, or stamp the log, in the future."""
        from events import rules

        last = self.store().last_recorded_at()
        if last is None:
            return
        zone = self.zone()
        today, last_day = self.today(), last.astimezone(zone).date()
        if rules.clock_ran_ahead(today, last_day):
            raise Refused("--date", "clock_ran_ahead", today=today.isoformat(), last=last_day.isoformat(),
                          days=(today - last_day).days)

    def record(self, build: Callable[[Any, C.Context], list], *, date: dt.date | None = None, note: str = "") -> list:
        """Check and store one action; returns the events as stored, or raises Refused."""
        self.require_actor()
        return self.service.execute(lambda state: build(state, self.context(date=date, note=note)))

    # -- signing in (careterm/identity.py) -----------------------------------------------------

    def sign_in_password(self, staff_id: str, password: str, new_password: Callable[[], str | None]):
        """Sign in with a password and open a session for this OS user on the store (the command
        line's `login`, the app's sign-in screen). A password given with --once must be replaced
        now: `new_password()` says the new one (None or "": NotSignedIn, nothing changes).
        Raises careterm.identity.NotSignedIn (exit 4), or Refused for a new password too short."""
        from careterm import identity as I

        store = self.store()
        school = self.school_id()
        now = store.clock()
        record = I.sign_in(store, school, staff_id, password, current=self.staff_now(staff_id) is not None, now=now)
        if record.get("once"):  # the password an admin gave must be changed now
            new = new_password()
            if not new:
                raise I.NotSignedIn("change_password")
            hashed = I.hash_password(new)
            self.actor = staff_id
            from events import commands as C

            self.record(lambda schools, ctx: C.set_password(schools, ctx, staff_id, once=False))
            I.set_password(store, school, staff_id, hashed=hashed, now=now)
        if self.keeps_sessions:
            I.open_session(store, self.url, school, staff_id, now=now)
        self.proven = I.Proven(staff_id, "session" if self.keeps_sessions else "web", school)
        self.actor = staff_id
        return self.proven

    def staff_now(self, staff_id: str):
        """The staff member of the school if they are staff today, else None."""
        school = self.school_id()
        staff = self.model().staff.get(staff_id)
        if staff is None or (staff.left is not None and staff.left <= self.today(school)):
            return None
        return staff
