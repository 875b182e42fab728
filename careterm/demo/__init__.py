"""A realistic demo school (or a district of schools) with a year and a half of history.

`build_demo(service, until=...)` writes into an empty store what a rural primary school's care
programme (关爱弱势群体 / 一对一帮扶) would have recorded over the eighteen months ending at `until`:
the school opened in the system, its terms and rules, about forty staff, about 150 vulnerable
pupils with their families, pairings, the mentors' contacts (diligent, sloppy, late, back-filled
before a handbook inspection), collective activities, aid, incidents, exits and returns, help
plans and corrections.

How it works: a plan per school is drawn first (the calendar, who is registered, paired, leaves,
when), then every intended action becomes `(recorded time, command)`. The actions of all schools
are merged by recording time and executed through `Service.execute` with the store's clock set
to each recording time, so every event carries a realistic `recorded_at`. Every action goes
through the ordinary commands and their rules: the demo never writes around them.

Everything is deterministic from `seed` and `until` (one `random.Random(seed + school index)` per
school); only the event ids (uuid4, from `events.commands.new_id`) differ between two builds.
When `until` is the real today, actions whose recording time is still in the future are left out.

The package, by what each part generates: `calendar` (terms, public holidays, local times of
day), `words` (names, places, notes), `records` (what a plan is made of), `people` (staff,
pupils, families, exits, pairings), `structure` (the school, its terms and rules, registrations),
`care` (inspections, contacts, activities, help plans, incidents), `aid`, `school` (one school:
its plan, then its timed actions) and `district` (the build: the schools merged and executed).
"""

from careterm.demo.district import build_demo
from careterm.demo.records import CAPACITY, DemoError

__all__ = ["build_demo", "DemoError", "CAPACITY"]
