"""The care history: handbook inspections, the mentors' contacts, activities, help plans, incidents."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right

from careterm.demo.calendar import DAY, _hm, _local_day, _mid_autumn, _monday_on_or_after, _spring_festival, _ts
from careterm.demo.aid import incident_aid
from careterm.demo.records import _KIND_KW, Pupil, Ref, Staff
from careterm.demo.said import what_was_said
from careterm.demo.words import _NOTES, _PLAN, _PLAN_REVIEW
from events import commands as C


class CareHistory:
    """The actions of the care itself (a part of `School`)."""

    def gen_inspections(self) -> None:
        """Handbook inspections (帮扶工作手册备查): mid-term and before the end of every term."""
        self.rounds: list[dt.date] = []
        for term in self.terms:
            for target in (term.start + 56 * DAY, term.end - 16 * DAY):
                day = self.workday_on_or_after(max(target, term.start))
                if day is None or day > term.end or day < self.paired_first + 20 * DAY:
                    continue
                days = [d for d in self.workdays_between(day, day + 7 * DAY)][:3]
                mentors = [s for s in self.staff.values() if any(
                    q.start <= day and (q.end is None or q.end > day + 3 * DAY) for q in self.pairings if q.staff is s)]
                for i, s in enumerate(mentors):
                    inspect_day = days[i % len(days)]
                    if s.left is not None and s.left <= inspect_day:
                        continue
                    s.inspections.append(inspect_day)
                    self.rounds.append(inspect_day)
        for s in self.staff.values():
            s.inspections.sort()

    def record_inspections(self) -> None:
        r = self.rng
        inspectors = [self.staff[self.principal_id], self.vice, self.dean, self.auditor]
        for s in self.staff.values():
            for day in s.inspections:
                inspector = r.choice([i for i in inspectors if i is not s])
                bad = {"laggard": 0.4, "burst": 0.25, "normal": 0.05, "weekly": 0.1, "prompt": 0.02}[s.style]
                result = "needs_improvement" if r.random() < bad else "ok"
                note = "手册填写完整,记录及时" if result == "ok" else r.choice(
                    ("亲情通话记录不全,限期整改", "谈心记录间隔过长,部分记录为事后补录", "手册填写不规范,需补充学期信息表"))
                self.push(self.office_ts(day), inspector.id, day, C.inspect_handbook, (s.id,), {"result": result},
                          note=note)

    def contact(self, staff: Staff, pupil: Pupil, day: dt.date, kind: str, actor: Staff | None = None) -> None:
        r = self.rng
        actor = actor or staff
        ts = self.when(actor, day)
        if ts is None:
            return
        # what was said: from a stream of its own, so that nothing else of the demo moved with it
        said = {**_KIND_KW[kind], **what_was_said(self.said_rng, staff, pupil, day, kind)}
        note = r.choice(_NOTES[kind]) if r.random() < 0.35 else ""
        # a few scenarios: a wrong kind, a wrong date, a duplicate; each corrected later
        scenario = None
        if (r.random() < 0.004 and actor.left is None and actor.style != "burst"
                and day > self.opened + 90 * DAY):
            exit_ = pupil.exit_after(day)
            rec_day = _local_day(ts)
            fits = exit_ is None or exit_[0] > rec_day + 20 * DAY
            options = [s for s, quota in (("kind", 3), ("date", 2), ("duplicate", 3))
                       if self.marks.get(s, 0) < quota]
            if fits and options and rec_day + 20 * DAY <= self.until:
                scenario = r.choice(options)
                if scenario == "date" and (rec_day - day).days < 2:
                    scenario = None
                if scenario == "kind" and kind not in ("talk", "parent_call", "parent_phone_visit"):
                    scenario = None
        if scenario is None:
            self.push(ts, actor.id, day, C.contact, (pupil.id,), said, note=note)
            return
        self.marks[scenario] = self.marks.get(scenario, 0) + 1
        key = f"c{self.n}"
        leader = self.marks[scenario] == 1 and scenario != "date"  # one of each is found on inspection
        fixer = self.dean if leader else actor
        later = _ts(_local_day(ts) + r.randint(1, 12) * DAY, r.randint(_hm(12, 10), _hm(21, 30)))
        if scenario == "kind":
            wrong = {"talk": "parent_call", "parent_call": "talk", "parent_phone_visit": "guardian_contact"}[kind]
            self.push(ts, actor.id, day, C.contact, (pupil.id,), {**said, "kind": wrong}, key=key, note=note)
            reason = (f"手册检查发现:该记录实为{'谈心' if kind == 'talk' else '与父母通话' if kind == 'parent_call' else '电话访父母'},更正类别"
                      if leader else "录入时选错了类别,更正")
            self.push(later, fixer.id, _local_day(later), C.correct, (Ref(f"{self.sid}:{key}"),),
                      {"reason": reason, "to_kind": kind})
        elif scenario == "date":
            wrong = _local_day(ts)
            self.push(ts, actor.id, wrong, C.contact, (pupil.id,), said, key=key, note=note)
            self.push(later, fixer.id, _local_day(later), C.correct, (Ref(f"{self.sid}:{key}"),),
                      {"reason": f"日期录入错误:实际为{day.month}月{day.day}日,补录时误用了录入当天的日期",
                       "to_date": day})
        else:
            self.push(ts, actor.id, day, C.contact, (pupil.id,), said, note=note)
            self.push(ts + r.randint(40, 300), actor.id, day, C.contact, (pupil.id,), said, key=key, note=note)
            reason = f"检查发现与{day.month}月{day.day}日记录重复,撤销" if leader else "重复录入,撤销"
            self.push(later, fixer.id, _local_day(later), C.retract, (Ref(f"{self.sid}:{key}"),), {"reason": reason})

    def gen_contacts(self) -> None:
        r = self.rng
        self.record_inspections()
        weeks: list[list[dt.date]] = []
        for day in self.workdays:
            if weeks and day.isocalendar()[:2] == weeks[-1][0].isocalendar()[:2]:
                weeks[-1].append(day)
            else:
                weeks.append([day])
        week_starts = [w[0] for w in weeks]
        holidays = self.holidays()
        for q in self.pairings:
            s, p = q.staff, q.pupil
            end = min(q.end or self.until + DAY, self.until + DAY)
            days = [d for d in self.workdays_between(q.start, end) if not s.in_gap(d)]
            if not days:
                continue
            lo = max(0, bisect_right(week_starts, q.start) - 1)
            hi = bisect_left(week_starts, end)
            for wi in range(lo, hi):
                week = [d for d in weeks[wi] if q.start <= d < end and not s.in_gap(d)]
                if not week:
                    continue
                cats = p.categories_on(week[0])
                left_behind = "left_behind" in cats
                if left_behind and r.random() < s.diligence:
                    on_day = [d for d in week if d.weekday() == s.call_day]
                    self.contact(s, p, on_day[0] if on_day else r.choice(week), "parent_call")
                # a talk every two weeks, and the informal ones some mentors write down too
                if r.random() < (s.diligence if wi % 2 == s.parity else 0.3 * s.diligence):
                    self.contact(s, p, r.choice(week), "talk")
                if r.random() < (0.2 if left_behind else 0.08):
                    self.contact(s, p, r.choice(week), "homework_signature")
                if "learning_difficulty" in cats and r.random() < 0.5:
                    self.contact(s, p, r.choice(week), "tutoring")
                if r.random() < 0.1:
                    self.contact(s, p, r.choice(week), "guardian_contact")
            # monthly: a phone call to the parents (电话访父母)
            months: dict[tuple[int, int], list[dt.date]] = {}
            for d in days:
                months.setdefault((d.year, d.month), []).append(d)
            for month_days in months.values():
                if "left_behind" in p.categories_on(month_days[0]) and r.random() < min(0.98, s.diligence + 0.1):
                    self.contact(s, p, r.choice(month_days), "parent_phone_visit")
            # each term: the information sheet to the parents, a home visit
            for term in self.terms:
                in_term = [d for d in days if term.start <= d <= term.end]
                if not in_term:
                    continue
                last = [d for d in in_term if d >= term.end - 21 * DAY]
                if last and r.random() < (0.95 if s.diligence > 0.75 else 0.7):
                    self.contact(s, p, r.choice(last), "semester_report")
                if r.random() < 0.25 + 0.4 * s.diligence:
                    self.contact(s, p, r.choice(in_term), "home_visit")
            # a visit in the winter holiday (寒假家访)
            for first, last in holidays:
                if first.month in (1, 2) and q.start <= first and end > last and r.random() < 0.2:
                    visit = first + r.randint(2, max(2, (last - first).days - 2)) * DAY
                    if visit <= self.until and visit.weekday() < 5:
                        self.contact(s, p, visit, "home_visit")
            # the birthday, on the day when it is a school day
            for year in range(q.start.year, end.year + 1):
                try:
                    birthday = p.birth.replace(year=year)
                except ValueError:
                    birthday = dt.date(year, 2, 28)
                if q.start <= birthday < end and birthday in self._workday_set() and not s.in_gap(birthday) \
                        and r.random() < 0.3:
                    self.contact(s, p, birthday, "birthday")
        # the counselor sees the pupils with psychological difficulties every two weeks
        c = self.counselor
        for p in self.pupils:
            if not any("psychological" in cats for _, cats in p.cats):
                continue
            start = p.registered + 14 * DAY
            for week in weeks[::2]:
                d = r.choice(week)
                if d >= start and "psychological" in p.categories_on(d) and p.enrolled(d) and not c.in_gap(d) \
                        and r.random() < 0.8:
                    self.contact(c, p, d, "counseling")

    def _workday_set(self) -> set[dt.date]:
        if not hasattr(self, "_wdset"):
            self._wdset = set(self.workdays)
        return self._wdset

    def holidays(self) -> list[tuple[dt.date, dt.date]]:
        """The holidays between consecutive terms (first and last day)."""
        out = []
        for a, b in zip(self.terms, self.terms[1:]):
            out.append((a.end + DAY, b.start - DAY))
        return out

    def enrolled_pupils(self, day: dt.date, cats: frozenset[str] | None = None) -> list[Pupil]:
        return [p for p in self.pupils if p.enrolled(day) and p.registered <= day
                and (cats is None or set(p.categories_on(day)) & cats)]

    def activity(self, day: dt.date | None, actor: Staff, kind: str, pupils: list[Pupil], note: str) -> None:
        if day is None or day < self.opened or day > self.until or not pupils:
            return
        ts = self.office_ts(day) if self.rng.random() < 0.7 else self.when(actor, day)
        if ts is not None:
            self.push(ts, actor.id, day, C.activity, (), {"kind": kind, "pupils": [p.id for p in pupils]},
                      note=note)

    def gen_activities(self) -> None:
        r = self.rng
        P = self.staff[self.principal_id]
        # the Young Pioneers' activities are for pupils of every class: a leader records them (a
        # plain teacher records activities only for their own mentees: events.permissions)
        organiser = self.vice
        start = self.setup[-1] + DAY
        # collective birthdays (集体生日): the last school day of each month, for the pupils born
        # in that month; the birthdays of the holidays are kept at the last party before them
        parties: list[tuple[dt.date, tuple[int, ...]]] = []
        by_month: dict[tuple[int, int], list[dt.date]] = {}
        for d in self.workdays:
            if d >= start:
                by_month.setdefault((d.year, d.month), []).append(d)
        party_months = [ym for ym, ds in sorted(by_month.items()) if len(ds) >= 5]
        for i, (y, m) in enumerate(party_months):
            nxt = party_months[i + 1] if i + 1 < len(party_months) else None
            months = [m]
            mm, yy = m, y
            while True:
                mm, yy = (1, yy + 1) if mm == 12 else (mm + 1, yy)
                if (yy, mm) == nxt or mm == 9 or (nxt is None and (yy, mm) > (self.until.year, self.until.month)):
                    break
                months.append(mm)
            parties.append((by_month[(y, m)][-1], tuple(months)))
        for day, months in parties:
            if day > self.until:
                continue
            pupils = [p for p in self.enrolled_pupils(day) if p.birth.month in months]
            label = "、".join(f"{m}月" for m in months)
            self.activity(day, organiser, "birthday", pupils, f"{label}集体生日会:唱生日歌、分蛋糕,每人一份小礼物")
        for year in range(self.opened.year, self.until.year + 1):
            # Spring Festival visits (春节慰问) to the poorest families, with a donation for orphans
            sf = _spring_festival(year)
            day = sf - r.randint(5, 9) * DAY
            if self.opened <= day <= self.until and day > start:
                pupils = self.enrolled_pupils(day, frozenset({"orphan", "in_difficulty", "disabled", "economic_hardship"}))
                self.activity(day, P, "holiday_visit", pupils, "春节前夕校领导带队走访慰问困境儿童、孤儿、残疾儿童家庭,送去米、油和慰问品")
                applied = self.workday_on_or_after(day - 24 * DAY)
                for p in pupils:
                    cats = p.categories_on(day)
                    if applied is not None and applied < day and ("orphan" in cats or "in_difficulty" in cats):
                        self.procedure(p, P, applied, {"kind": "donation", "amount": "1000.00" if "orphan" in cats else "500.00",
                                                       "fund": "县慈善总会春节慰问金"}, reason="春节慰问", note="春节慰问")
            # Mid-Autumn: a video call with the parents for every left-behind pupil (亲情通话)
            ma = _mid_autumn(year)
            day = max((d for d in self.workdays if ma - 12 * DAY <= d < ma), default=None)
            if day is not None and day > start:
                pupils = self.enrolled_pupils(day, frozenset({"left_behind"}))
                self.activity(day, organiser, "parent_call", pupils, "中秋节亲情视频通话活动,并为留守儿童送月饼")
            # 六一 performance for all the pupils in care
            day = max((d for d in self.workdays if dt.date(year, 5, 25) <= d <= dt.date(year, 6, 1)), default=None)
            if day is not None and day > start:
                self.activity(day, organiser, "performance", self.enrolled_pupils(day),
                              "庆六一关爱留守儿童文艺汇演,为每位帮扶对象送书包和文具")
            # a summer visit to the orphans and disabled pupils
            day = _monday_on_or_after(dt.date(year, 7, 14))
            if start < day <= self.until:
                pupils = self.enrolled_pupils(day, frozenset({"orphan", "disabled"}))
                self.activity(day, P, "holiday_visit", pupils, "暑期走访慰问,宣传防溺水安全知识")

    def gen_plans(self) -> None:
        """Help plans (帮扶计划) for the pupils with the heaviest needs, reviewed at term end."""
        r = self.rng
        planned: set[str] = set()
        for q in self.pairings:
            p, s = q.pupil, q.staff
            end = min(q.end or self.until + DAY, self.until + DAY)
            cats = [c for c in p.categories_on(q.start) if c in _PLAN]
            if not cats:
                continue
            if p.id not in planned:
                day = self.workday_on_or_after(q.start + r.randint(10, 25) * DAY)
                if day is None or day >= end:
                    continue
                goals, measures = _PLAN[cats[0]]
                ts = self.when(s, day) if s.style != "burst" else self.office_ts(day)
                if ts is not None and self.push(ts, s.id, day, C.set_plan, (p.id,),
                                                {"goals": goals, "measures": measures, "responsible": s.id}):
                    planned.add(p.id)
            if p.id not in planned:
                continue
            for term in self.terms:
                day = self.workday_on_or_after(term.end - 10 * DAY)
                if day is not None and q.start + 30 * DAY <= day < end and day <= term.end and r.random() < 0.75:
                    ts = self.when(s, day) if s.style != "burst" else self.office_ts(day)
                    if ts is not None:
                        self.push(ts, s.id, day, C.review_plan, (p.id,), {"result": r.choice(_PLAN_REVIEW)})

    def gen_incidents(self) -> None:
        r = self.rng
        P = self.staff[self.principal_id]
        texts = {
            "custody": ("代理监护人奶奶突发脑溢血住院,孩子无人照看,父母在外务工一时无法返回",
                        "emergency", "800.00", "学校临时救助金", "父亲已返乡照料,孩子生活恢复正常", (10, 18)),
            "accommodation": ("家中房屋失火,无处居住,暂住学校宿舍,由生活老师托管",
                              "emergency", "1500.00", "县民政临时救助", "房屋修缮完毕,学生已回家居住", (25, 40)),
            "supplies": ("家中遭遇暴雨洪涝,书包、课本、衣被受损", "material", None, "爱心企业捐助",
                         "已发放书包文具和衣被,学习生活恢复正常", (5, 10)),
        }
        for need, (desc, kind, amount, fund, resolution, (a, b)) in texts.items():
            if need not in self.scenarios:
                continue
            p, day = self.scenarios[need]
            teacher = self.class_teacher.get((p.entry, p.cls)) or self.dean
            key = f"i{need}"
            ts = _ts(day, r.randint(_hm(9, 0), _hm(11, 30)) + _hm(3, 0))
            if not self.push(ts, teacher.id, day, C.report_incident, (p.id,), {"need": need, "description": desc},
                             key=key, note="家庭突发事件,及时报告学校"):
                continue
            # emergency or material aid at once, by the principal, answering the incident
            aid_day = self.workday_on_or_after(day + DAY)
            funded = day >= self.setup[-1]
            if aid_day is not None:
                kw = {"kind": kind, "fund": fund if funded else ""}
                kw.update({"amount": amount} if amount else {"items": "书包文具一套、校服两套、被褥一床"})
                if amount and funded:
                    self.demand(fund, amount)
                self.push(self.office_ts(aid_day), P.id, aid_day, incident_aid, (Ref(f"{self.sid}:{key}"),), kw,
                          note="临时救助")
            if need == "accommodation":
                self.push(self.office_ts(day) + 1800, P.id, day, incident_aid, (Ref(f"{self.sid}:{key}"),),
                          {"kind": "material", "items": "被褥两床、冬衣两套、书包文具一套",
                           "fund": "爱心企业捐助" if funded else ""}, note="火灾后紧急送去生活用品")
            done = self.workday_on_or_after(day + r.randint(a, b) * DAY)
            if done is not None:
                self.push(self.office_ts(done), teacher.id, done, C.resolve_incident, (Ref(f"{self.sid}:{key}"),),
                          {"resolution": resolution})

