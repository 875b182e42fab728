"""The structure of a school: its opening, terms and rules, staff, registrations, pairings, exits."""

from __future__ import annotations


from careterm.demo.calendar import DAY, _school_year
from careterm.demo.records import CAPACITY
from events import commands as C
from events import rules


class Structure:
    """Structural actions (a part of `School`)."""

    def file_keeper(self, p, day):
        """Who registers or amends the pupil on the day: their class teacher when the staff record
        says they teach the pupil's grade and class that day (events.permissions: the pupil's
        class teacher or a leader; a class teacher's recorded grade stays the one they joined
        with while the class moves up), else the dean (a leader)."""
        teacher = self.class_teacher.get((p.entry, p.cls))
        if teacher is not None and (teacher.grade, teacher.cls) == (p.grade_on(day), p.cls):
            return teacher
        return self.dean

    def gen_structure(self) -> None:
        r = self.rng
        P = self.principal_id
        principal = self.staff[P]
        opened = self.opened
        self.struct(opened, 0, P, C.init, name=self.name, admin_name=principal.name,
                    note="学校关爱弱势群体工作档案启用")
        self.struct(opened, 1, P, C.set_rules, capacity=1, late_days=rules.DEFAULT_LATE_DAYS,
                    note="依据《教师和留守儿童“一对一”帮扶工作制度》:每名教职工结队帮扶1名")
        # the current term (or the one just ended) at once, and the next one too in a holiday;
        # later terms a week or three before they start
        current = max((t for t in self.terms if t.start <= opened), key=lambda t: t.start)
        following = [t for t in self.terms if t.start > current.start]
        for term in [current] + following:
            if term is current or (opened > current.end and term is following[0]):
                added = opened
            else:
                added = max(opened, term.start - r.randint(7, 20) * DAY)
            if added <= self.until:
                self.struct(added, 1, P, C.add_term, name=term.name, start=term.start, end=term.end)
        for s in self.staff.values():
            if s.id == P:
                continue
            self.struct(s.joined, 2, P, C.add_staff, s.id, name=s.name, roles=s.roles, grade=s.grade, class_=s.cls,
                        note=s.title)
        for p in self.pupils:
            teacher = self.file_keeper(p, p.registered)
            self.struct(p.registered, 3, teacher.id, C.add_pupil, p.id, name=p.name, gender=p.gender, birth=p.birth,
                        grade=p.grade_on(p.registered), class_=p.cls, categories=p.cats[0][1], phone=p.phone,
                        guardian=p.guardian, parents=p.parents, profile=p.profile,
                        note="班主任摸底建档" if p.registered <= self.setup[-1] else "新生入学建档")
        # grades go up every September
        for term in self.terms:
            if term.name.endswith("秋季学期") and self.setup[-1] < term.start <= self.until:
                for p in self.pupils:
                    if p.registered < term.start and p.enrolled(term.start):
                        self.struct(term.start, 4, self.dean.id, C.amend_pupil, p.id,
                                    changes={"grade": p.grade_on(term.start)}, note="新学年升级")
        if "hardship_added" in self.scenarios:
            p, day = self.scenarios["hardship_added"]
            self.struct(day, 4, self.file_keeper(p, day).id, C.amend_pupil, p.id,
                        changes={"family": p.profile["family"] + "近期父亲在工地摔伤,丧失劳动能力,家庭陷入困难。"},
                        add_categories=["economic_hardship"], note="家庭突发变故,经调查核实增列家庭经济困难")
        if "parents_back" in self.scenarios:
            p, day = self.scenarios["parents_back"]
            self.struct(day, 4, self.file_keeper(p, day).id, C.amend_pupil, p.id,
                        changes={"family": "父母已返乡,在县城工业园就业,孩子由父母照顾。"},
                        remove_categories=["left_behind"], note="父母返乡就业,不再属于留守儿童")
        # exits and returns
        for day, leaving in self.graduations:
            for p in leaving:
                teacher = self.class_teacher.get((p.entry, p.cls)) or self.dean
                self.struct(day, 5, teacher.id, C.graduate, p.id, note="小学毕业")
        for p, day, to in self.scenarios["transfers"]:
            self.struct(day, 5, self.class_teacher[(p.entry, p.cls)].id, C.transfer, p.id, to=to,
                        note="办理转学手续")
        if "dropout_returned" in self.scenarios:
            p, d1, d2 = self.scenarios["dropout_returned"]
            teacher = self.class_teacher[(p.entry, p.cls)].id
            self.struct(d1, 5, teacher, C.drop_out, p.id, reason="随父母外出,连续多日未到校,经联系家长拒绝返校",
                        note="已上报控辍保学领导小组")
            self.struct(d2, 6, teacher, C.return_pupil, p.id, note="经班主任、帮扶教师多次家访劝返,复学")
            if _school_year(d2) != _school_year(d1):
                self.struct(d2, 8, self.dean.id, C.amend_pupil, p.id, changes={"grade": p.grade_on(d2)},
                            note="复学后按新学年编班")
        if "dropout" in self.scenarios:
            p, day = self.scenarios["dropout"]
            self.struct(day, 5, self.class_teacher[(p.entry, p.cls)].id, C.drop_out, p.id,
                        reason="厌学,在家帮忙务农,多次劝返未果", note="已上报乡镇控辍保学工作组")
        for s in (self.mover, self.retiree):
            if s.left is not None and s.left <= self.until:
                self.struct(s.left, 7, P, C.staff_leave, s.id,
                            note="调往县城实验小学" if s is self.mover else "退休")
        # the capacity is raised and the waiting pupils are paired
        self.struct(self.capacity_day, 1, P, C.set_rules, capacity=CAPACITY,
                    note=f"帮扶对象约{len([p for p in self.pupils if p.registered <= self.setup[-1]])}名、"
                         f"教职工{len(self.staff) - len(self.new_staff)}名,经领导小组研究,"
                         f"每名教职工帮扶人数上限调整为{CAPACITY}名,确保帮扶全覆盖")
        leaders = [P, self.vice.id]
        for q in self.pairings:
            if q.start <= self.until:
                self.struct(q.start, 9, leaders[q.start.toordinal() % 2], C.pair, q.staff.id, q.pupil.id,
                            note="结对帮扶")
        self.flush_structural()
