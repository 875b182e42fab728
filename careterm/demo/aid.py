"""Aid: grants through the year, a second similar aid with a leader's override."""

from __future__ import annotations

import datetime as dt

from careterm.demo.calendar import DAY
from careterm.demo.records import DemoError, Ref
from careterm.demo.words import _CLOTHES
from events import commands as C
from events import rules
from events.errors import Refused


class Aid:
    """Aid actions (a part of `School`)."""

    def gen_aid(self) -> None:
        r = self.rng
        P = self.staff[self.principal_id]
        dean = self.dean
        first_round = True
        for term in self.terms:
            begin = max(term.start, self.setup[-1] + DAY)
            if begin > term.end:
                continue
            # free textbooks (policy waiver), by the class teachers, at the start of the term
            day = self.workday_on_or_after(begin + 2 * DAY)
            if day is not None and day <= term.end:
                for p in self.enrolled_pupils(day, frozenset({"economic_hardship", "orphan", "in_difficulty", "disabled"})):
                    teacher = self.class_teacher.get((p.entry, p.cls)) or dean
                    self.push(self.office_ts(day), teacher.id, day, C.grant_aid, (p.id,),
                              {"kind": "free_textbooks", "items": "免费教科书及作业本一套", "fund": "国家免费教科书政策"})
            # after the family survey (家庭经济状况调查核实): subsidies and grants, one per pupil
            day = self.workday_on_or_after(begin + 25 * DAY)
            if day is None or day > term.end - 10 * DAY:
                continue
            subsidised = []
            for p in self.enrolled_pupils(day):
                cats = set(p.categories_on(day))
                hardship = cats & rules.HARDSHIP_CATEGORIES
                if hardship and r.random() < 0.9:
                    basis = p.basis if p.basis != "special" else None
                    if p.grade_on(day) >= 5 and r.random() < 0.1:
                        kw = {"kind": "scholarship", "amount": "400.00", "fund": "品学兼优困难学生奖学金"}
                    else:
                        boarding = bool(cats & {"orphan", "in_difficulty"})
                        kw = {"kind": "living_subsidy", "amount": "500.00" if boarding else "250.00",
                              "fund": "义务教育家庭经济困难学生生活补助"}
                    if basis:
                        kw["basis"] = basis
                    key = f"g{self.n}"
                    if self.push(self.office_ts(day), dean.id, day, C.grant_aid, (p.id,), kw, key=key,
                                 note="经家庭经济状况调查核实,已公示") and kw["kind"] == "living_subsidy":
                        subsidised.append((p, key))
                    if cats & {"orphan", "in_difficulty"}:
                        self.push(self.office_ts(day), dean.id, day, C.grant_aid, (p.id,),
                                  {"kind": "tuition_waiver", "amount": "300.00", "fund": "课后服务费减免"})
                elif "left_behind" in cats and p.basis == "poverty_certificate" and r.random() < 0.7:
                    self.push(self.office_ts(day), dean.id, day, C.grant_aid, (p.id,),
                              {"kind": "grant", "amount": "300.00", "fund": "爱心企业捐助(县工商联)",
                               "basis": "poverty_certificate"}, note="建档立卡户,爱心助学")
            # a subsidy revoked after the check (the first round), a double aid by a leader's override
            if first_round and subsidised:
                p, key = subsidised[r.randrange(len(subsidised))]
                when = self.workday_on_or_after(day + r.randint(15, 25) * DAY)
                if when is not None and when <= min(self.until, term.end):
                    self.push(self.office_ts(when), dean.id, when, C.revoke_aid, (Ref(f"{self.sid}:{key}"),),
                              {"reason": "复核发现该生本学期已在原就读学校领取生活补助,属重复申报,予以撤销并追回"})
                    subsidised = [s for s in subsidised if s[0] is not p]
                    first_round = False
            elif "override" not in self.marks and subsidised:
                when = self.workday_on_or_after(day + r.randint(14, 28) * DAY)
                p, _ = subsidised[r.randrange(len(subsidised))]
                if when is not None and when <= min(self.until, term.end) and p.enrolled(when):
                    self.marks["override"] = 1
                    self.push(self.office_ts(when), P.id, when, _double_aid, (p.id,),
                              {"kind": "grant", "amount": "1000.00", "fund": "爱心企业捐助(助学金)",
                               "basis": "illness_or_accident",
                               "override": "该生父亲重病住院,家庭特别困难,经领导小组研究同意在生活补助之外推荐发放助学金"},
                              note="家庭特别困难的可以推荐(扶贫帮困制度)")
            # winter clothes in the autumn term
            if term.name.endswith("秋季学期"):
                day = self.workday_on_or_after(dt.date(term.start.year, 11, 20))
                if day is not None and day <= term.end:
                    for p in self.enrolled_pupils(day):
                        cats = set(p.categories_on(day))
                        hardship = bool(cats & rules.HARDSHIP_CATEGORIES)
                        if (hardship or p.basis) and ("left_behind" in cats or hardship) and r.random() < 0.6:
                            kw = {"kind": "material", "items": r.choice(_CLOTHES), "fund": "爱心企业捐助"}
                            if not hardship:
                                kw["basis"] = p.basis
                            self.push(self.office_ts(day), dean.id, day, C.grant_aid, (p.id,), kw, note="冬季送温暖")


def _double_aid(state, ctx: C.Context, pupil_id: str, *, override: str, **kw) -> list:
    """A second similar aid in a semester: refused as it stands, granted with a leader's override."""
    try:
        C.grant_aid(state, ctx, pupil_id, **kw)
    except Refused as refused:
        if refused.code != "similar_aid_this_semester":
            raise
    else:
        raise DemoError(f"expected the double aid for {pupil_id} on {ctx.date} to be refused without override")
    return C.grant_aid(state, ctx, pupil_id, override=override, **kw)

