"""Who may record what: one table, pure functions over the school's model (events.model).

Each write action names its permission (careterm/actions.py: `Action.role`, and `Field.role` for
an option that needs more, a key of PERMISSIONS); its command checks it with one call, `check`.
A permission is the roles that may always (leaders may record all of the care), and for anyone
else a rule about the subject (the pupil, the pupils, the person named by --by) that says why
not, naming the field at fault. cli.md "Signing in, permissions and privacy": who may record.

No Textual, nothing heavy: the commands import this.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

from events import model as M
from events import rules
from events.errors import Refused
from events.model import PupilRec, SchoolModel, StaffRec

LEADERS = frozenset({"leader"})
# the contact kinds a counselor records for any pupil
COUNSELOR_KINDS = frozenset({"counseling", "talk"})

# (field, reason code, params) of a refusal, or None: allowed
Verdict = tuple[str, str, dict[str, Any]] | None


def class_teacher_of(staff: StaffRec, pupil: PupilRec, day: dt.date) -> bool:
    """The pupil's class teacher on the day: the class_teacher role, and the staff member's grade
    and class are the pupil's on that day."""
    profile = M.profile_on(pupil, day)
    return teaches(staff, profile.get("grade"), profile.get("class"))


def teaches(staff: StaffRec, grade: Any, class_: Any) -> bool:
    """A class teacher of that grade and class."""
    return "class_teacher" in staff.roles and staff.grade is not None and (staff.grade, staff.class_) == (grade, class_)


def mentor_of(staff: StaffRec, pupil: PupilRec, day: dt.date) -> bool:
    """The pupil's mentor on the day. The exit day is the pupil's last day at school
    (M.at_school_on) and the exit ends the pairing that same day: its mentor still counts then,
    so a talk that morning is theirs to record whether the exit was recorded first or not."""
    if M.mentor_on(pupil, day) == staff.id:
        return True
    return M.at_school_on(pupil, day) and any(
        p.staff == staff.id and p.end == day and p.reason == M.status_on(pupil, day) for p in pupil.pairings
    )


# --- the rules for those the roles do not let through -----------------------------------------


def _contact(school: SchoolModel, staff: StaffRec, day: dt.date, *, pupil: PupilRec, kind: str, **_: Any) -> Verdict:
    """A contact: the pupil's mentor on the day, their class teacher, a counselor (counselling and
    talks)."""
    if mentor_of(staff, pupil, day) or class_teacher_of(staff, pupil, day):
        return None
    if "counselor" in staff.roles and kind in COUNSELOR_KINDS:
        return None
    return "PUPIL_ID", "not_your_pupil", {"staff": staff.id, "pupil": pupil.id}


def _by_other(school: SchoolModel, staff: StaffRec, day: dt.date, *, by: str, **_: Any) -> Verdict:
    """--by someone else: only leaders and class teachers (the roles); recording for oneself is
    always --by oneself."""
    if by == staff.id:
        return None
    return "--by", "by_other_not_allowed", {"staff": staff.id, "by": by}


def _activity(school: SchoolModel, staff: StaffRec, day: dt.date, *, pupils: list[PupilRec], **_: Any) -> Verdict:
    """A collective activity: class teachers (the role) for any pupils, a mentor for their own
    mentees on the day."""
    for pupil in pupils:
        if not mentor_of(staff, pupil, day):
            return "--pupils", "not_your_mentee", {"staff": staff.id, "pupil": pupil.id}
    return None


def _pupil_file(
    school: SchoolModel, staff: StaffRec, day: dt.date, *, pupil: PupilRec | None = None, pupil_id: str = "",
    grade: Any = None, class_: Any = None, **_: Any,
) -> Verdict:
    """A registration (the grade and class it gives) or an amendment (the pupil's grade and class
    on the day): that class's class teacher."""
    if pupil is not None:
        profile = M.profile_on(pupil, day)
        grade, class_, pupil_id = profile.get("grade"), profile.get("class"), pupil.id
    if teaches(staff, grade, class_):
        return None
    return "PUPIL_ID", "not_your_class", {"staff": staff.id, "pupil": pupil_id, "grade": grade, "class": class_}


def _aid_apply(school: SchoolModel, staff: StaffRec, day: dt.date, *, pupil: PupilRec, **_: Any) -> Verdict:
    """An aid application: the pupil's class teacher or mentor on the day (leaders: any pupil)."""
    if mentor_of(staff, pupil, day) or class_teacher_of(staff, pupil, day):
        return None
    return "PUPIL_ID", "not_your_pupil_aid", {"staff": staff.id, "pupil": pupil.id}


@dataclass(frozen=True)
class Permission:
    roles: frozenset[str]  # who may, whatever the subject
    rule: Callable[..., Verdict] | None = None  # for the others: allowed (None) or why not
    rule_roles: frozenset[str] | None = None  # whom the rule is for (None: every staff member)

    @property
    def who(self) -> list[str]:
        """The roles that may do it, at least for some subjects (a refusal names them)."""
        return sorted(self.roles | (self.rule_roles or frozenset()))


# the table: every permission an action or an option names. Those of events.rules.ACTION_ROLES
# need their role only; the care needs the pupil to be the person's own.
PERMISSIONS: dict[str, Permission] = {
    **{name: Permission(roles) for name, roles in rules.ACTION_ROLES.items()},
    "contact": Permission(LEADERS, _contact),
    "contact_by": Permission(LEADERS | {"class_teacher"}, _by_other),
    "activity": Permission(LEADERS | {"class_teacher"}, _activity),
    "pupil_file": Permission(LEADERS, _pupil_file, rule_roles=frozenset({"class_teacher"})),
    "aid_apply": Permission(LEADERS, _aid_apply),
}


# the permission each step of the aid procedure needs (events.aid_rules.next_step; None: any
# current staff member may record an objection)
AID_STEPS: dict[str, str | None] = {"survey": "aid_survey", "decide": "aid_decide", "grant": "aid_grant", "object": None}
# the steps Home puts before each role (domain.md: the leadership decides and grants, the class
# teacher surveys the families of the class)
HOME_STEPS: dict[str, frozenset[str]] = {"leader": frozenset({"decide", "grant"}), "class_teacher": frozenset({"survey"})}


def may_take_step(school: SchoolModel, actor: str, step: str | None, day: dt.date) -> bool:
    """Whether the actor may take this step of an application on the day (the faces offer it)."""
    if step is None or step not in AID_STEPS:
        return False
    name = AID_STEPS[step]
    staff = school.staff.get(actor)
    if staff is None or not M.staff_active_on(staff, day):
        return False
    return name is None or verdict(school, staff, name, day) is None


def current_staff(school: SchoolModel, staff_id: str, today: dt.date) -> StaffRec:
    """Every action needs a current staff member."""
    staff = school.staff.get(staff_id)
    if staff is None or (staff.left is not None and staff.left <= today):
        raise Refused("--as", "actor_not_staff", staff=staff_id)
    return staff


def verdict(school: SchoolModel, staff: StaffRec, name: str, day: dt.date, **subject: Any) -> Verdict:
    """Whether `staff` may do `name` about `subject` on `day`: None, or (field, code, params)."""
    permission = PERMISSIONS[name]
    roles = set(staff.roles)
    if permission.roles & roles:
        return None
    if permission.rule is None or (permission.rule_roles is not None and not permission.rule_roles & roles):
        return "--as", "actor_lacks_role", {"staff": staff.id, "roles": permission.who}
    found = permission.rule(school, staff, day, **subject)
    if found is not None and found[1] == "by_other_not_allowed":
        found[2]["roles"] = permission.who
    return found


def check(school: SchoolModel, actor: str, today: dt.date, name: str | None, day: dt.date | None = None, **subject: Any) -> StaffRec:
    """The one call a command makes: the actor is current staff and, for `name`, may do it about
    the subject on `day` (the entry's date; today if not given); else Refused naming the field."""
    staff = current_staff(school, actor, today)
    if name is not None:
        found = verdict(school, staff, name, day or today, **subject)
        if found is not None:
            field, code, params = found
            raise Refused(field, code, **params)
    return staff


def may(school: SchoolModel, actor: str, name: str, day: dt.date, **subject: Any) -> bool:
    """For the faces (offer only what the person may do): the same verdict as `check`."""
    staff = school.staff.get(actor)
    return staff is not None and M.staff_active_on(staff, day) and verdict(school, staff, name, day, **subject) is None
