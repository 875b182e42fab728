"""Phase 1 of a school: who is there (staff, pupils and their families), who leaves, who is paired."""

from __future__ import annotations

import datetime as dt
from typing import Any

from careterm.demo.calendar import DAY, _school_year
from careterm.demo.records import CAPACITY, Pairing, Pupil, Staff, _ordered
from careterm.demo.words import _AWAY, _BOY, _DISABILITY, _ELDER_F, _ELDER_M, _EVIDENCE, _GIRL, _HOME, _PARENT_F, _PARENT_M, _PHONE_PREFIX, _SURNAMES, _TEACHER_F, _TEACHER_M, _TRANSFER_TO
from events import rules
from events.types import Person


class PeoplePlan:
    """The plan of a school's people (a part of `School`)."""

    # -- small helpers ---------------------------------------------------------------------

    def phone(self) -> str:
        r = self.rng
        return r.choice(_PHONE_PREFIX) + "".join(str(r.randrange(10)) for _ in range(8))

    def person_name(self, surname: str | None, given: tuple[str, ...] | str, two: float = 0.7) -> str:
        r = self.rng
        surname = surname or r.choice(_SURNAMES)
        if isinstance(given, str):  # characters: draw one or two
            return surname + (r.choice(given) + r.choice(given) if r.random() < two else r.choice(given))
        return surname + r.choice(given)

    def unique_name(self, surname: str | None, given, two: float = 0.7) -> str:
        for _ in range(50):
            name = self.person_name(surname, given, two)
            if name not in self.names and name[1:2] != name[2:3]:
                break
        self.names.add(name)
        return name

    def plan_staff(self) -> None:
        r = self.rng
        opened = self.opened
        pname = self.person_name(None, _TEACHER_M)
        self.names.add(pname)
        principal = Staff(self.principal_id, pname, ("admin", "leader"), opened, title="校长")
        self.staff[principal.id] = principal
        counter = iter(range(1, 1000))

        def add(title: str, roles: tuple[str, ...], **kw) -> Staff:
            given = _TEACHER_F if r.random() < 0.6 else _TEACHER_M
            s = Staff(f"t{next(counter):02d}", self.unique_name(None, given), roles, kw.pop("joined", opened),
                       title=title, **kw)
            self.staff[s.id] = s
            return s

        self.vice = add("副校长", ("leader", "teacher"))
        self.dean = add("教导主任", ("leader", "admin", "teacher"))
        self.counselor = add("心理健康教师", ("counselor", "teacher"))
        self.auditor = add("工会主席(督导)", ("auditor", "teacher"))
        self.pioneer = add("少先队大队辅导员", ("teacher",))
        # classes by cohort (the school year a class entered grade 1); class teachers follow
        # their class up to grade 6, then take a new grade 1
        sy0 = _school_year(self.setup[0])
        self.classes: dict[int, int] = {}
        self.class_teacher: dict[tuple[int, int], Staff] = {}
        for grade in range(1, 7):
            entry = sy0 - grade + 1
            self.classes[entry] = r.choice((2, 3, 3))
            for c in range(1, self.classes[entry] + 1):
                self.class_teacher[(entry, c)] = add(
                    f"{'一二三四五六'[grade - 1]}年级({c})班班主任", ("class_teacher", "teacher"), grade=grade, cls=c
                )
        while len(self.staff) < 40 + r.randint(-1, 1):
            add(r.choice(("语文教师", "数学教师", "英语教师", "科学教师", "体育教师", "音乐教师", "美术教师")), ("teacher",))
        plain = [s for s in self.staff.values() if s.roles == ("teacher",) and s is not self.pioneer]
        everyone = list(self.staff.values())
        r.shuffle(everyone)
        # recording habits: two teachers fill their handbook just before each inspection, a few
        # are often late, some write the week up on Sunday evening, the rest are prompt or normal
        for s in r.sample(plain, 2):
            s.style = "burst"
        rest = [s for s in everyone if s.style != "burst"]
        for s, style in zip(rest, ["laggard"] * 4 + ["weekly"] * 6 + ["prompt"] * 12):
            s.style = style
        for s in self.staff.values():
            self.draw_habits(s)
        principal.diligence = r.uniform(0.6, 0.8)
        # who leaves: a teacher moved to another school mid-term, another retires in summer
        stable = [s for s in plain if s.style in ("prompt", "normal")]
        r.shuffle(stable)
        self.mover, self.retiree = stable[0], stable[1]
        self.mover.left = self.workday_at(0.58)
        self.new_staff: list[Staff] = []
        joined = self.workday_on_or_after(self.mover.left + 12 * DAY)
        if joined is not None:
            self.new_staff.append(add("数学教师(接任)", ("teacher",), joined=joined))
            self.draw_habits(self.new_staff[-1])
        for term in self.terms:
            if term.name.endswith("春季学期") and term.end > self.paired_first + 60 * DAY and term.end + 37 * DAY <= self.until:
                self.retiree.left = term.end + 7 * DAY
                break
        # new teachers (特岗教师) every September
        for term in self.terms:
            if term.name.endswith("秋季学期") and self.setup[-1] < term.start <= self.until:
                for _ in range(2):
                    s = add(r.choice(("语文教师(特岗)", "数学教师(特岗)", "英语教师(特岗)")), ("teacher",),
                            joined=term.start - 3 * DAY)
                    self.draw_habits(s)
                    self.new_staff.append(s)

    def draw_habits(self, s: Staff) -> None:
        r = self.rng
        low, high = {"prompt": (0.85, 0.98), "normal": (0.75, 0.95), "weekly": (0.75, 0.92),
                     "laggard": (0.55, 0.8), "burst": (0.45, 0.7)}[s.style]
        s.diligence = r.uniform(low, high)
        s.call_day = r.randrange(5)
        s.parity = r.randrange(2)
        gaps = 1 if r.random() < 0.3 else 0
        if s.style in ("laggard", "burst") and r.random() < 0.6:
            gaps += 1
        for _ in range(gaps):
            start = r.choice(self.workdays[len(self.workdays) // 8:])
            s.gaps.append((start, start + r.randint(14, 35) * DAY))

    def new_pupil(self, entry: int, cls: int, number: int, registered: dt.date, primary: str | None = None,
                  transfer_in: bool = False) -> Pupil:
        r = self.rng
        if primary is None:
            primary = r.choices(
                ("left_behind", "economic_hardship", "learning_difficulty", "in_difficulty", "disabled", "orphan",
                 "psychological", "other"),
                (55, 17, 6, 7, 3, 2, 3, 3),
            )[0]
        cats = {primary}
        second = {
            "left_behind": (0.35, ("economic_hardship", "learning_difficulty", "psychological"), (5, 3.5, 1.5)),
            "economic_hardship": (0.25, ("learning_difficulty",), (1,)),
            "orphan": (0.6, ("economic_hardship",), (1,)),
            "in_difficulty": (0.5, ("left_behind", "economic_hardship"), (1, 1)),
            "disabled": (0.5, ("economic_hardship",), (1,)),
            "learning_difficulty": (0.15, ("psychological",), (1,)),
            "psychological": (0.2, ("left_behind",), (1,)),
            "other": (0.0, (), ()),
        }[primary]
        if r.random() < second[0]:
            cats.add(r.choices(second[1], second[2])[0])
        cats_t = _ordered(cats)
        gender = "M" if r.random() < 0.53 else "F"
        surname = r.choice(_SURNAMES)
        name = self.unique_name(surname, _BOY if gender == "M" else _GIRL)
        first = dt.date(entry - 7, 9, 1)
        if r.random() < 0.08:
            first = dt.date(entry - 8, 9, 1)  # started school late or repeated a year
        birth = first + r.randrange(365) * DAY
        # the family
        away = r.choice(_AWAY)
        mother_surname = r.choice(_SURNAMES)
        father = Person(f"{surname}{r.choice(_PARENT_M)}", "父亲", self.phone(), "")
        mother = Person(f"{mother_surname}{r.choice(_PARENT_F)}", "母亲", self.phone(), "")
        relation = r.choices(("爷爷", "奶奶", "外公", "外婆", "叔叔", "姑姑"), (25, 40, 8, 15, 7, 5))[0]
        g_surname = {"爷爷": surname, "叔叔": surname, "姑姑": surname, "外公": mother_surname}.get(
            relation) or r.choice(_SURNAMES)
        g_given = {"爷爷": _ELDER_M, "外公": _ELDER_M, "奶奶": _ELDER_F, "外婆": _ELDER_F,
                   "叔叔": _PARENT_M, "姑姑": _PARENT_F}[relation]
        guardian = Person(f"{g_surname}{r.choice(g_given)}", relation, self.phone(), "")
        basis = None
        family = ""
        if "orphan" in cats:
            parents: list[Person] = []
            family = (f"父亲{r.choice(('因车祸去世', '因病去世', '在工地事故中去世'))},"
                      f"母亲{r.choice(('病故', '改嫁后下落不明', '因病去世'))},现由{relation}抚养,"
                      "家庭收入主要靠务农及孤儿基本生活保障金。")
            basis = "special"
        elif "in_difficulty" in cats:
            work = away if "left_behind" in cats else r.choice(_HOME)
            parents = [Person(father.name, "父亲", father.phone, work)]
            family = (f"父母离异,母亲离家后长期联系不上,父亲{'在' + work + '务工' if 'left_behind' in cats else work},"
                      f"孩子主要由{relation}照看,监护缺失。")
        elif "left_behind" in cats:
            same = r.random() < 0.6
            parents = [Person(father.name, "父亲", father.phone, away),
                       Person(mother.name, "母亲", mother.phone, away if same else r.choice(_AWAY))]
            family = (f"父母{'均在' + away if same else '分别在外省'}务工,一般春节回家一次,孩子由{relation}照顾。"
                      f"{relation}年近{r.randint(60, 75)}岁,{r.choice(('身体尚可', '患有高血压', '腿脚不便', '身体一般'))}。"
                      f"{r.choice(('家中还有一个弟弟', '家中还有一个妹妹', '独生子女', '家中还有一个姐姐在读初中'))}。")
            if r.random() < 0.25:
                basis = "poverty_certificate"
        else:
            parents = [Person(father.name, "父亲", father.phone, r.choice(_HOME)),
                       Person(mother.name, "母亲", mother.phone, r.choice(_HOME))]
            guardian = mother if r.random() < 0.6 else father
            family = "父母在家,以务农和打零工为主。"
        if "economic_hardship" in cats:
            basis = r.choices(tuple(_EVIDENCE), (4, 3, 2, 2))[0]
            family += _EVIDENCE[basis] + "。"
        profile = {"family": family}
        if "learning_difficulty" in cats:
            profile["study"] = r.choice(("数学基础薄弱,计算能力差,期末数学不及格", "识字量少,阅读理解困难",
                                         "学习习惯差,作业经常不能按时完成", "注意力不集中,各科成绩偏低"))
        else:
            profile["study"] = r.choice(("学习态度端正,成绩中等", "成绩中上,语文较好", "成绩一般,上课能认真听讲",
                                         "数学较好,语文作文偏弱"))
        profile["behaviour"] = r.choice(("遵守纪律,尊敬老师", "课间喜欢一个人待着", "偶有迟到,作业拖欠",
                                         "热心班级事务", "好动,上课爱说话"))
        profile["personality"] = r.choice(("内向,不爱说话", "开朗活泼", "敏感,自尊心强", "倔强,做事有主见", "懂事,乐于助人"))
        profile["health"] = (r.choice(_DISABILITY) if "disabled" in cats else
                             r.choice(("身体健康", "身体健康", "体质较弱,易感冒", "有哮喘病史", "身体健康,偏瘦")))
        if "psychological" in cats:
            profile["mental"] = r.choice(("情绪低落,时常想念父母,偶有厌学情绪", "与同学交往困难,容易紧张焦虑",
                                          "父母离异后性格变得孤僻,常独自哭泣"))
        elif "left_behind" in cats:
            profile["mental"] = r.choice(("想念父母,总体稳定", "心理状态良好", "缺乏安全感,渴望关注"))
        if "other" in cats:
            profile["health"] = r.choice(("患先天性心脏病,术后恢复中", "患肾病综合征,需长期服药", "患癫痫,需按时服药"))
        if transfer_in:
            profile["family"] = "原随父母在广东东莞就读,本学期转回老家就读。" + family
        pid = f"{entry}{cls:02d}{number:02d}"
        return Pupil(pid, name, gender, birth, entry, cls, registered, [(registered, cats_t)], basis, guardian,
                      parents, profile, guardian.phone if r.random() < 0.3 else "")

    def plan_pupils(self) -> None:
        r = self.rng
        numbers: dict[tuple[int, int], int] = {}

        def number(entry: int, cls: int) -> int:
            numbers[(entry, cls)] = numbers.get((entry, cls), 0) + 1
            return numbers[(entry, cls)]

        classes = [(entry, c) for entry in sorted(self.classes) for c in range(1, self.classes[entry] + 1)]
        total = r.randint(146, 154)
        quota = [("orphan", 3), ("disabled", 4), ("in_difficulty", 8), ("psychological", 6), ("other", 3),
                 ("learning_difficulty", 18), ("economic_hardship", 25)]
        primaries = [cat for cat, n in quota for _ in range(n)]
        primaries += ["left_behind"] * (total - len(primaries))
        r.shuffle(primaries)
        k = 0
        for i, (entry, c) in enumerate(classes):
            size = total // len(classes) + (1 if i < total % len(classes) else 0)
            day = r.choice(self.setup)
            for _ in range(size):
                self.pupils.append(self.new_pupil(entry, c, number(entry, c), day, primaries[k]))
                k += 1
        # new grade-1 classes every September; the teachers of the leaving grade 6 take them
        for term in self.terms:
            if term.name.endswith("秋季学期") and self.setup[-1] < term.start <= self.until:
                entry = term.start.year
                self.classes[entry] = self.classes.get(entry - 6, 2)
                for c in range(1, self.classes[entry] + 1):
                    self.class_teacher[(entry, c)] = self.class_teacher.get((entry - 6, c)) or self.dean
                    day = self.workday_on_or_after(term.start + r.randint(7, 16) * DAY)
                    if day is None:
                        continue
                    for _ in range(r.randint(7, 11)):
                        self.pupils.append(self.new_pupil(entry, c, number(entry, c), day))
        # two pupils come back from the cities mid-year (their parents went back to work)
        springs = [t for t in self.terms if t.name.endswith("春季学期") and t.start > self.setup[-1]
                   and t.start + 40 * DAY <= self.until]
        if springs:
            term = springs[-1]
            for _ in range(2):
                entry = _school_year(term.start) - r.randint(1, 4) + 1
                c = r.randint(1, self.classes.get(entry, 2))
                day = self.workday_on_or_after(term.start + r.randint(3, 10) * DAY)
                self.pupils.append(self.new_pupil(entry, c, number(entry, c), day, "left_behind", transfer_in=True))
        # every category present, whatever the draw
        for cat in rules.CATEGORIES:
            if not any(cat in p.cats[0][1] for p in self.pupils):
                p = self.pupils[r.randrange(len(self.pupils))]
                p.cats[0] = (p.cats[0][0], _ordered(set(p.cats[0][1]) | {cat}))

    def pick(self, day: dt.date, cats: tuple[str, ...], grades: tuple[int, ...], enrolled_until: dt.date,
             without: frozenset[str] = frozenset()) -> Pupil | None:
        """A pupil for a scenario: enrolled from `day` to `enrolled_until` (as planned so far), in
        one of `cats` and none of `without`, not taken by another scenario."""
        candidates = [
            p for p in self.pupils
            if not p.busy and p.registered <= day - 30 * DAY and p.grade_on(day) in grades
            and p.enrolled(day) and set(cats) & set(p.categories_on(day)) and p.enrolled(enrolled_until)
            and not without & set(p.categories_on(day))
            and p.grade_on(enrolled_until) <= 6 and not (p.grade_on(day) == 6 and enrolled_until.month in (7, 8))
        ]
        if not candidates:
            return None
        p = self.rng.choice(candidates)
        p.busy = True
        return p

    def plan_exits(self) -> None:
        r = self.rng
        self.scenarios: dict[str, Any] = {}
        # a dropout who is persuaded to come back (劝返复学), and one still away at the end
        d1 = self.workday_at(0.33)
        d2 = self.workday_on_or_after(d1 + r.randint(30, 42) * DAY)
        p = self.pick(d1, ("left_behind", "in_difficulty"), (3, 4, 5), d2 + 30 * DAY)
        if p is not None:
            p.statuses += [(d1, "dropped_out"), (d2, "enrolled")]
            self.scenarios["dropout_returned"] = (p, d1, d2)
        d3 = self.workday_at(0.9)
        p = self.pick(d3, ("left_behind", "in_difficulty", "learning_difficulty"), (4, 5, 6), d3)
        if p is not None:
            p.statuses.append((d3, "dropped_out"))
            self.scenarios["dropout"] = (p, d3)
        self.scenarios["transfers"] = []
        for fraction in (0.25, 0.5, 0.62, 0.8):
            day = self.workday_at(fraction)
            p = self.pick(day, rules.CATEGORIES, (1, 2, 3, 4, 5), day)
            if p is not None:
                p.statuses.append((day, "transferred"))
                self.scenarios["transfers"].append((p, day, r.choice(_TRANSFER_TO)))
        # incidents and category changes, for pupils who stay
        for name, fraction, cats in (("custody", 0.3, ("left_behind",)), ("accommodation", 0.52, rules.CATEGORIES),
                                     ("supplies", 0.78, rules.CATEGORIES)):
            day = self.workday_at(fraction)
            p = self.pick(day, cats, (1, 2, 3, 4, 5), day + 45 * DAY)
            if p is not None:
                self.scenarios[name] = (p, day)
        day = self.workday_at(0.2)
        p = self.pick(day, ("left_behind",), (1, 2, 3, 4, 5), day + 30 * DAY, rules.HARDSHIP_CATEGORIES)
        if p is not None:
            p.cats.append((day, _ordered(set(p.categories_on(day)) | {"economic_hardship"})))
            p.basis = "illness_or_accident"
            self.scenarios["hardship_added"] = (p, day)
        day = self.workday_at(0.42)
        candidates = [q for q in self.pupils if not q.busy and q.enrolled(day) and q.registered < day - 30 * DAY
                      and "left_behind" in q.categories_on(day) and len(q.categories_on(day)) > 1]
        if candidates:
            p = r.choice(candidates)
            p.busy = True
            p.cats.append((day, _ordered(set(p.categories_on(day)) - {"left_behind"})))
            self.scenarios["parents_back"] = (p, day)
        # graduations: every grade-6 pupil still enrolled on the last day of the spring term
        self.graduations: list[tuple[dt.date, list[Pupil]]] = []
        for term in self.terms:
            if term.name.endswith("春季学期") and self.setup[-1] < term.end <= self.until:
                leaving = [p for p in self.pupils if p.grade_on(term.end) == 6 and p.enrolled(term.end)
                           and p.registered < term.end]
                for p in leaving:
                    p.statuses.append((term.end, "graduated"))
                    p.statuses.sort(key=lambda s: s[0])
                self.graduations.append((term.end, leaving))
        for p in self.pupils:
            p.statuses.sort(key=lambda s: s[0])

    def plan_pairings(self) -> None:
        r = self.rng
        reviews = {self.paired_first, self.capacity_day}
        day = self.paired_first
        while True:
            day = self.workday_on_or_after(day + 14 * DAY)
            if day is None:
                break
            reviews.add(day)
        staff = list(self.staff.values())
        for day in sorted(reviews):
            capacity = 1 if day < self.capacity_day else CAPACITY
            # no new pupil for a teacher about to move, nor in a retiring teacher's last term
            mentors = [s for s in staff if s.joined <= day and (
                s.left is None or s.left > day + (150 if s is self.retiree else 30) * DAY)]
            load = {s.id: 0 for s in mentors}
            waiting = []
            for p in self.pupils:
                current = p.paired_on(day)
                if current is not None:
                    if current.staff.id in load:
                        load[current.staff.id] += 1
                    continue
                if p.registered <= day - 2 * DAY and p.enrolled(day):
                    since = max([p.registered] + [q.end for q in p.pairings if q.end is not None]
                                + [w for w, what in p.statuses if what == "enrolled" and w <= day])
                    if since > day - 7 * DAY and p.pairings and p.pairings[-1].reason == "mentor_left":
                        continue  # the leadership group reassigns at its next meeting
                    waiting.append((rules.need_rank(p.categories_on(day)), since, p.id, p))
            waiting.sort(key=lambda w: w[:3])
            for _, _, _, p in waiting:
                free = [s for s in mentors if load[s.id] < capacity]
                if not free:
                    break
                previous = p.pairings[-1].staff if p.pairings else None
                teacher = self.class_teacher.get((p.entry, p.cls))
                if previous in free:
                    mentor = previous
                elif teacher in free and r.random() < 0.7:
                    mentor = teacher
                else:
                    least = min(load[s.id] for s in free)
                    mentor = r.choice([s for s in free if load[s.id] == least])
                load[mentor.id] += 1
                end, reason = None, None
                exit_ = p.exit_after(day)
                if exit_ is not None:
                    end, reason = exit_
                if mentor.left is not None and (end is None or mentor.left < end):
                    end, reason = mentor.left, "mentor_left"
                pairing = Pairing(mentor, p, day, end, reason)
                p.pairings.append(pairing)
        self.pairings = [q for p in self.pupils for q in p.pairings]
        self.pairings.sort(key=lambda q: (q.start, q.pupil.id))
