"""The demo's passwords: every staff member's is DEMO_PASSWORD (README, cli.md).

One argon2id hash made once and kept for all (44 staff hashed one by one would take tens of
seconds). The demo records no PasswordSet events: its log is the school's story, and the
password is the same documented one for everybody.
"""

from __future__ import annotations

DEMO_PASSWORD = "demo1234"


def set_demo_passwords(store, models) -> int:
    """Give every staff member of every school in `models` (school id -> model) the demo's
    password; returns how many."""
    from careterm.identity import hash_password, set_password

    hashed = hash_password(DEMO_PASSWORD)
    count = 0
    for school, model in models.items():
        for staff in model.staff:
            set_password(store, school, staff, hashed=hashed)
            count += 1
    return count
