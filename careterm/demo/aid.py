"""Aid through the procedure (申请 → 核实 → 认定 → 公示 → 发放) from the school's funds: free
textbooks and subsidies each term, a rejected application, an objection during a notice, a second
similar aid approved by a leader's override, a subsidy revoked, winter clothes granted directly, a
disciplinary record cleared; the funds' budgets, one of them nearly spent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from careterm.demo.calendar import DAY
from careterm.demo.records import DemoError, Ref
from careterm.demo.words import _CLOTHES
from events import aid_rules
from events import commands as C
from events import rules
from events.errors import Refused

# name -> (source, kinds, how much more than planned the budget holds)
FUNDS = {
    "国家免费教科书政策": ("government", ["free_textbooks"], Decimal("1.5")),
    "义务教育家庭经济困难学生生活补助": ("government", ["living_subsidy", "boarding_meal"], Decimal("1.3")),
    "品学兼优困难学生奖学金": ("school", ["scholarship"], Decimal("1.5")),
    "课后服务费减免": ("school", ["tuition_waiver"], Decimal("1.5")),
    # the donors' fund pays grants, clothes and emergencies: nearly spent by the end
    "爱心企业捐助": ("donation", ["grant", "material", "emergency"], Decimal("1.02")),
    "县慈善总会春节慰问金": ("donation", ["donation"], Decimal("1.2")),
    "学校临时救助金": ("school", ["emergency"], Decimal("2")),
    "县民政临时救助": ("government", ["emergency"], Decimal("2")),
}
DONORS = "爱心企业捐助"
HARDSHIP = frozenset(rules.HARDSHIP_CATEGORIES)


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
            # free textbooks (policy waiver) at the start of the term, applied for by the class teachers
            day = self.workday_on_or_after(begin + 2 * DAY)
            if day is not None and day <= term.end:
                for p in self.enrolled_pupils(day, HARDSHIP):
                    self.procedure(p, self.teacher_of(p, day), day, {"kind": "free_textbooks", "items": "免费教科书及作业本一套",
                                                                 "fund": "国家免费教科书政策"}, method="documents")
            # subsidies and grants, one similar aid per pupil, after the family survey
            day = self.workday_on_or_after(begin + 10 * DAY)
            if day is None or day > term.end - 25 * DAY:
                continue
            subsidised = []
            rejected = objected = False
            for p in self.enrolled_pupils(day):
                cats = set(p.categories_on(day))
                hardship = cats & HARDSHIP
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
                    if not rejected and not basis and r.random() < 0.3:
                        # the survey finds the family's situation otherwise: not approved
                        self.procedure(p, self.teacher_of(p, day), day, kw, result="not_confirmed",
                                       reason="家庭经济困难,申请生活补助")
                        rejected = True
                        continue
                    objection = not objected and r.random() < 0.2
                    key = self.procedure(p, self.teacher_of(p, day), day, kw, objection=objection,
                                         reason="家庭经济困难,申请生活补助", note="经家庭经济状况调查核实,已公示")
                    objected = objected or (objection and key is not None)
                    if key is not None and kw["kind"] == "living_subsidy":
                        subsidised.append((p, key))
                    if cats & {"orphan", "in_difficulty"}:
                        self.procedure(p, self.teacher_of(p, day), day, {"kind": "tuition_waiver", "amount": "300.00",
                                                                     "fund": "课后服务费减免"})
                elif "left_behind" in cats and p.basis == "poverty_certificate" and r.random() < 0.7:
                    self.procedure(p, self.teacher_of(p, day), day, {"kind": "grant", "amount": "300.00", "fund": DONORS,
                                                                 "basis": "poverty_certificate"},
                                   reason="建档立卡户,爱心助学", note="建档立卡户,爱心助学")
            # a subsidy revoked after the check (the first round), a double aid by a leader's override
            if first_round and subsidised:
                p, key = subsidised[r.randrange(len(subsidised))]
                when = self.workday_on_or_after(self.grant_days[key] + r.randint(15, 25) * DAY)
                if when is not None and when <= min(self.until, term.end) and p.enrolled(when):
                    self.push(self.office_ts(when), dean.id, when, C.revoke_aid, (Ref(f"{self.sid}:{key}"),),
                              {"reason": "复核发现该生本学期已在原就读学校领取生活补助,属重复申报,予以撤销并追回"})
                    subsidised = [s for s in subsidised if s[0] is not p]
                    first_round = False
            elif "override" not in self.marks and subsidised:
                when = self.workday_on_or_after(day + r.randint(14, 28) * DAY)
                p, _ = subsidised[r.randrange(len(subsidised))]
                if when is not None and when <= min(self.until, term.end) and p.enrolled(when):
                    self.marks["override"] = 1
                    self.procedure(p, P, when, {"kind": "grant", "amount": "1000.00", "fund": DONORS,
                                                "basis": "illness_or_accident"},
                                   override="该生父亲重病住院,家庭特别困难,经领导小组研究同意在生活补助之外推荐发放助学金",
                                   reason="父亲重病住院", note="家庭特别困难的可以推荐(扶贫帮困制度)")
            # winter clothes in the autumn term: material aid, granted directly
            if term.name.endswith("秋季学期"):
                day = self.workday_on_or_after(dt.date(term.start.year, 11, 20))
                if day is not None and day <= term.end:
                    for p in self.enrolled_pupils(day):
                        cats = set(p.categories_on(day))
                        hardship = bool(cats & HARDSHIP)
                        if (hardship or p.basis) and ("left_behind" in cats or hardship) and r.random() < 0.6:
                            kw = {"kind": "material", "items": r.choice(_CLOTHES), "fund": DONORS}
                            self.push(self.office_ts(day), dean.id, day, C.grant_aid, (p.id,), kw, note="冬季送温暖")
        self.gen_pending()
        self.gen_conduct()

    def gen_pending(self) -> None:
        """Boarding and meal subsidies applied for in the demo's last days: one awaits its
        survey, one the decision, one stands in notice or awaits its grant."""
        for back, p in zip((1, 5, 9), [p for p in self.enrolled_pupils(self.until, HARDSHIP) if not p.busy][:3]):
            day = self.workday_on_or_after(self.until - back * DAY)
            if day is not None:
                self.procedure(p, self.teacher_of(p, day), day, {"kind": "boarding_meal", "amount": "200.00",
                                                                  "fund": "义务教育家庭经济困难学生生活补助"},
                               reason="寄宿生营养餐补助")

    def demand(self, fund: str, amount: str) -> None:
        """What the plan draws from a fund: its budget is made from it (`gen_funds`)."""
        self.fund_demand = getattr(self, "fund_demand", {})
        self.fund_demand[fund] = self.fund_demand.get(fund, Decimal("0")) + Decimal(amount)

    def teacher_of(self, p, day: dt.date | None = None):
        """Who applies: the pupil's class teacher while they teach the pupil's class (the staff
        records keep the grade they joined with), else the dean."""
        teacher = self.class_teacher.get((p.entry, p.cls))
        if teacher is None or (day is not None and (teacher.grade, teacher.cls) != (p.grade_on(day), p.cls)):
            return self.dean
        return teacher

    def procedure(self, p, applicant, day: dt.date, kw: dict, *, result: str = "confirmed", method: str = "home_visit",
                  objection: bool = False, override: str | None = None, reason: str = "", note: str = "") -> str | None:
        """One application from `day` on: apply, survey (2 days later), the dean's decision (3 days
        after that), the grant once the notice is over. Every step falls on a school workday
        while the pupil is at school; the steps that would not are left out (an application still
        under way on the demo's last day). Returns the grant's key, or None if not granted."""
        steps = [day]
        for gap in (2, 3):
            steps.append(steps[-1] and self.workday_on_or_after(steps[-1] + gap * DAY))
        applied, surveyed, decided = steps
        if not self._at_school(p, [d for d in steps if d]):
            return None
        if decided and not (set(p.categories_on(decided)) & HARDSHIP) and not kw.get("basis") \
                and kw["kind"] not in rules.POLICY_WAIVERS:
            return None
        if kw.get("fund") and applied < self.setup[-1]:
            return None
        self.n_app = getattr(self, "n_app", 0) + 1
        app = f"a{self.n_app}"
        teacher = applicant if "class_teacher" in applicant.roles or "leader" in applicant.roles else self.dean
        if not self.push(self.office_ts(applied), applicant.id, applied, C.apply_aid, (p.id,), dict(kw, reason=reason),
                         key=app) or surveyed is None:
            return None  # on the demo's last days: still under way
        ref = (Ref(f"{self.sid}:{app}"),)
        self.push(self.office_ts(surveyed), teacher.id, surveyed, C.survey_aid, ref, {"result": result, "method": method},
                  note="入户核实家庭经济状况" if method == "home_visit" else "")
        if decided is None:
            return None
        if result != "confirmed":
            self.push(self.office_ts(decided), self.dean.id, decided, C.decide_aid, ref, {"reject": True},
                      note="核实不属实,不予认定")
            return None
        decide = _approve_with_override if override else C.decide_aid
        extra = {"override": override} if override else {}
        if not self.push(self.office_ts(decided), self.dean.id, decided, decide, ref, {"approve": True, **extra},
                         note="领导小组认定"):
            return None
        if kw.get("amount") and kw.get("fund"):
            self.demand(kw["fund"], kw["amount"])
        if objection:
            start, end = aid_rules.notice_window(decided)
            objected = self.workday_on_or_after(start + DAY)
            again = objected and self.workday_on_or_after(objected + 3 * DAY)
            if not again or objected > end or not self._at_school(p, [again]):
                return None
            someone = self.teacher_of(p)
            self.push(self.office_ts(objected), someone.id, objected, C.object_aid, ref,
                      note="有家长反映该生家庭近期收入有所好转,请复核")
            self.push(self.office_ts(again), self.dean.id, again, C.decide_aid, ref, {"approve": True},
                      note="复核属实,维持认定,重新公示")
            decided = again
        granted = self.workday_on_or_after(aid_rules.grantable_from(decided))
        if granted is None or not self._at_school(p, [granted]):
            return None
        key = f"g{self.n_app}"
        if not self.push(self.office_ts(granted), self.dean.id, granted, C.grant_aid, ref, key=key, note=note):
            return None
        self.grant_days = getattr(self, "grant_days", {})
        self.grant_days[key] = granted
        return key

    def _at_school(self, p, days: list[dt.date]) -> bool:
        """Enrolled on each day, and no exit on or before the last (an exit may not come before
        an entry dated after it)."""
        if not all(p.enrolled(d) and p.registered <= d for d in days):
            return False
        leaving = p.exit_after(days[0] - DAY)
        return leaving is None or leaving[0] > days[-1]

    def gen_conduct(self) -> None:
        """A disciplinary record for a pupil who gets no aid, cleared the next term."""
        r = self.rng
        plain = [p for p in self.pupils if not p.basis and not any(set(c) & HARDSHIP for _, c in p.cats)]
        day = self.workday_on_or_after(self.setup[-1] + 40 * DAY)
        if not plain or day is None:
            return
        later = self.workday_on_or_after(day + 120 * DAY)
        plain = [p for p in plain if self._at_school(p, [day] + ([later] if later else []))]
        if not plain:
            return
        p = plain[r.randrange(len(plain))]
        teacher = self.teacher_of(p)
        if self.push(self.office_ts(day), teacher.id, day, C.record_conduct, (p.id,), key="conduct",
                     note="课间追逐打闹致同学受伤,给予警告处分") and later is not None:
            self.push(self.office_ts(later), teacher.id, later, C.clear_conduct, (Ref(f"{self.sid}:conduct"),),
                      {"reason": "该生认识到错误,表现良好,撤销处分"})

    def gen_funds(self) -> None:
        """The funds, added by the principal on the last day of the setup, each with a budget for
        what the plan draws from it (the donors' fund only just enough)."""
        day = self.setup[-1]
        P = self.staff[self.principal_id]
        for name, (source, kinds, room) in FUNDS.items():
            planned = getattr(self, "fund_demand", {}).get(name, Decimal("0"))
            budget = max(Decimal("1000"), (planned * room / 100).to_integral_value(rounding="ROUND_CEILING") * 100)
            if name == DONORS:
                budget = planned + 400
            self.push(self.office_ts(day) - 3600, P.id, day, C.add_fund, (name,),
                      {"budget": f"{budget:.2f}", "kinds": list(kinds), "source": source})


def _approve_with_override(state, ctx: C.Context, app_id: str, *, approve: bool, override: str) -> list:
    """A second similar aid in a semester: refused as it stands, approved with a leader's override."""
    try:
        C.decide_aid(state, ctx, app_id, approve=approve)
    except Refused as refused:
        if refused.code != "similar_aid_this_semester":
            raise
    else:
        raise DemoError(f"expected the double aid {app_id} on {ctx.date} to be refused without override")
    return C.decide_aid(state, ctx, app_id, approve=approve, override=override)


def incident_aid(state, ctx: C.Context, incident_id: str, **kw) -> list:
    """Emergency or material aid granted directly for the incident it answers."""
    pupil = state[ctx.school].entries[incident_id].pupils[0]
    return C.grant_aid(state, ctx, pupil, incident=incident_id, **kw)
