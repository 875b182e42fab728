"""When a view's read model is saved back to the store after a catch-up.

A view read after each new entry must not rewrite the whole saved model each time; a longer
catch-up, or one far behind the log, is saved so the next reader starts from there.
"""

from __future__ import annotations

import datetime as dt

from events import commands as C
from events.service import Service
from events.store import Store
from events import saved
from events.model import SCHEMA
from tests.helpers import SCHOOL, ctx, setup_school


def _contacts(service: Service, n: int) -> None:
    for _ in range(n):
        service.execute(lambda s: C.contact(s, ctx(), "p1", kind="talk"))


def test_a_short_catch_up_is_folded_but_not_saved_and_a_long_one_is_saved(store_url):
    with Store(store_url, create=True) as store:
        service = Service(store)
        setup_school(service, staff=["T1"], pupils=["p1"])
        saved.load(store, SCHOOL)  # folded from zero: saved
        saved_at = store.load_view(f"school:{SCHOOL}")[1]
        assert saved_at == store.head()

        _contacts(service, 3)
        model = saved.load(store, SCHOOL, save_from=5)
        assert model.position == store.head() == saved_at + 3
        assert len(model.pupils["p1"].entries) == 3
        assert store.load_view(f"school:{SCHOOL}")[1] == saved_at  # not rewritten

        _contacts(service, 2)  # 5 behind the saved position now
        model = saved.load(store, SCHOOL, save_from=5)
        assert len(model.pupils["p1"].entries) == 5
        schema, position, state = store.load_view(f"school:{SCHOOL}")
        assert (schema, position) == (SCHEMA, store.head())
        assert state == saved.encoder.encode(model)


def test_a_model_far_behind_the_log_is_saved_even_with_nothing_to_fold(sqlite_url, monkeypatch):
    # another school's entries move the log; this school's saved position is refreshed once
    # the distance is reached, so its readers stop reading the other rows again and again
    monkeypatch.setattr(saved, "SAVE_DISTANCE", 4)
    with Store(sqlite_url, create=True) as store:
        service = Service(store)
        setup_school(service, staff=["T1"], pupils=["p1"])
        other = C.Context(school="s2", actor="admin", today=ctx().today, date=ctx().date)
        service.execute(lambda s: C.init(s, other, name="另一所学校", admin_name="校长"))
        saved.load(store, SCHOOL)
        saved_at = store.load_view(f"school:{SCHOOL}")[1]
        for i in range(4):
            service.execute(
                lambda s, i=i: C.add_pupil(
                    s, other, f"q{i}", name=f"学生{i}", gender="M", birth=dt.date(2016, 1, 1), grade=2, class_=1
                )
            )
        saved.load(store, SCHOOL)
        assert store.load_view(f"school:{SCHOOL}")[1] == store.head() >= saved_at + 4


def test_a_kept_model_is_caught_up_in_place_and_equals_a_fresh_load(store_url):
    with Store(store_url, create=True) as store, Store(store_url) as other:
        service = Service(store)
        setup_school(service, staff=["T1"], pupils=["p1"])
        kept = saved.Kept()
        first = saved.load(other, SCHOOL, kept=kept)
        assert saved.load(other, SCHOOL, kept=kept) is first  # nothing new: the same model

        _contacts(service, 2)  # written by another connection
        again = saved.load(other, SCHOOL, kept=kept)
        assert again is first and len(again.pupils["p1"].entries) == 2
        fresh = saved.load(other, SCHOOL, save=False)
        assert saved.encoder.encode(again) == saved.encoder.encode(fresh)
        assert again.position == store.head()


def test_a_session_that_defers_saving_saves_when_asked_and_only_what_is_due(sqlite_url):
    with Store(sqlite_url, create=True) as store:
        service = Service(store)
        setup_school(service, staff=["T1"], pupils=["p1"])
        kept = saved.Kept()
        model = saved.load(store, SCHOOL, kept=kept, save=False)  # folded from zero, not saved
        assert store.load_view(f"school:{SCHOOL}") is None
        assert saved.save_due(store, kept, save_from=3) == 1
        assert store.load_view(f"school:{SCHOOL}") == (SCHEMA, store.head(), saved.encoder.encode(model))
        saved_at = store.head()

        _contacts(service, 2)
        saved.load(store, SCHOOL, kept=kept, save=False)
        assert saved.save_due(store, kept, save_from=3) == 0  # 2 events: not worth a save
        _contacts(service, 1)
        saved.load(store, SCHOOL, kept=kept, save=False)
        assert store.load_view(f"school:{SCHOOL}")[1] == saved_at
        assert saved.save_due(store, kept, save_from=3) == 1
        assert store.load_view(f"school:{SCHOOL}")[1] == store.head() == saved_at + 3
        assert saved.save_due(store, kept, save_from=3) == 0
