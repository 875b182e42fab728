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
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

from events import commands as C
from events import rules
from events.calendar import Term
from events.errors import Refused
from events.service import Service
from events.types import Person

__all__ = ["build_demo", "DemoError", "CAPACITY"]

DAY = dt.timedelta(days=1)
_LOCAL = 8 * 3600  # Asia/Shanghai: UTC+8 all year (no daylight saving)
_EPOCH = dt.date(1970, 1, 1).toordinal()
_EPOCH_DT = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_FLUSH = 5000  # actions per stored transaction

# The policy says 每名教职工结队帮扶1名 (capacity 1, the default), and the school starts with that.
# With ~40 staff for ~150 pupils in care, most pupils would wait for a mentor for years; like many
# rural schools, the leadership group raises the limit a few weeks later so that every pupil in
# the archive has a mentor (150 / 40 ≈ 3.75, hence 4).
CAPACITY = 4


class DemoError(RuntimeError):
    """The generator produced an action a rule refused: a bug in the demo, not in the rules."""


# --- the school calendar ----------------------------------------------------------------------

_SPRING_FESTIVAL = {
    2015: (2, 19), 2016: (2, 8), 2017: (1, 28), 2018: (2, 16), 2019: (2, 5), 2020: (1, 25),
    2021: (2, 12), 2022: (2, 1), 2023: (1, 22), 2024: (2, 10), 2025: (1, 29), 2026: (2, 17),
    2027: (2, 6), 2028: (1, 26), 2029: (2, 13), 2030: (2, 3), 2031: (1, 23), 2032: (2, 11),
    2033: (1, 31), 2034: (2, 19), 2035: (2, 8), 2036: (1, 28), 2037: (2, 15), 2038: (2, 4),
}
_MID_AUTUMN = {
    2015: (9, 27), 2016: (9, 15), 2017: (10, 4), 2018: (9, 24), 2019: (9, 13), 2020: (10, 1),
    2021: (9, 21), 2022: (9, 10), 2023: (9, 29), 2024: (9, 17), 2025: (10, 6), 2026: (9, 25),
    2027: (9, 15), 2028: (10, 3), 2029: (9, 22), 2030: (9, 12), 2031: (10, 1), 2032: (9, 19),
    2033: (9, 8), 2034: (9, 27), 2035: (9, 16), 2036: (10, 4), 2037: (9, 24), 2038: (9, 13),
}


def _spring_festival(year: int) -> dt.date:
    return dt.date(year, *_SPRING_FESTIVAL.get(year, (2, 5)))


def _mid_autumn(year: int) -> dt.date:
    return dt.date(year, *_MID_AUTUMN.get(year, (9, 20)))


def _monday_on_or_after(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(-day.weekday()) % 7)


def _friday_on_or_before(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - 4) % 7)


def school_terms(first_year: int, last_year: int) -> list[Term]:
    """春季学期 from after the Lantern Festival to early July, 秋季学期 from 1 September to
    before the Spring Festival; winter and summer holidays between."""
    out = []
    for year in range(first_year, last_year + 1):
        start = _monday_on_or_after(max(_spring_festival(year) + 12 * DAY, dt.date(year, 2, 16)))
        out.append(Term(f"{year}春季学期", start, _friday_on_or_before(dt.date(year, 7, 4))))
        winter = _spring_festival(year + 1) - 10 * DAY
        end = _friday_on_or_before(max(min(winter, dt.date(year + 1, 1, 24)), dt.date(year + 1, 1, 12)))
        out.append(Term(f"{year}秋季学期", dt.date(year, 9, 1), end))
    return out


def _public_holiday(day: dt.date) -> bool:
    md = (day.month, day.day)
    return (
        (day.month == 10 and day.day <= 7)  # 国庆
        or (day.month == 5 and day.day <= 5)  # 劳动节
        or md == (1, 1)
        or (day.month == 4 and 4 <= day.day <= 6)  # 清明
        or day == _mid_autumn(day.year)
    )


def _school_year(day: dt.date) -> int:
    return day.year if day.month >= 9 else day.year - 1


def _ts(day: dt.date, secs: int) -> int:
    """A local (Asia/Shanghai) time of day as seconds since the epoch, UTC."""
    return (day.toordinal() - _EPOCH) * 86400 + secs - _LOCAL


def _local_day(ts: int) -> dt.date:
    return dt.date.fromordinal(_EPOCH + (ts + _LOCAL) // 86400)


def _hm(h: int, m: int) -> int:
    return h * 3600 + m * 60


# --- words ------------------------------------------------------------------------------------

_SURNAMES = (
    "王王王李李李张张张刘刘陈陈杨杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
    "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺"
    "顾毛郝龚邵万覃武戴莫孔向汤"
)
_BOY = "子浩宇轩俊博文杰明涛鑫磊晨睿泽阳鹏辉豪然诚凯瑞航铭程宁天毅峰强伟勇斌洋帅锦皓逸思嘉家志昊宏新梓一乐安成佳亮"
_GIRL = "欣雨梓涵萱怡佳琪婷雪思诗悦晴瑶梦可馨语妍彤芳丽静颖璐晨子紫若一诺琳慧嘉敏倩蕊月春燕甜心蓉"
_ELDER_M = ("德贵", "长生", "国强", "建国", "永福", "有才", "福生", "春生", "根生", "金山", "玉林", "光明",
            "志刚", "保国", "树林", "明德", "水生", "德胜", "福来", "茂林")
_ELDER_F = ("秀英", "桂兰", "玉兰", "秀兰", "春花", "桂英", "翠花", "凤英", "玉珍", "秀珍", "金凤", "兰英",
            "美华", "素芬", "菊香", "冬梅", "月娥", "腊梅")
_PARENT_M = ("建华", "海峰", "伟", "勇", "军", "强", "斌", "磊", "涛", "鹏", "亮", "刚", "超", "浩", "波",
             "平", "志强", "小龙", "文军", "春雷", "红兵", "建军")
_PARENT_F = ("丽", "娟", "芳", "艳", "霞", "燕", "敏", "静", "红", "玲", "婷", "萍", "梅", "琴", "莉",
             "小梅", "春燕", "秋菊", "丽萍", "海燕", "金花")
_TEACHER_M = ("建军", "志强", "国华", "海涛", "文斌", "立新", "永刚", "红军", "卫东", "小平", "明辉",
              "俊峰", "长江", "晓东", "德明", "家旺", "远航", "振华")
_TEACHER_F = ("丽华", "晓燕", "玉梅", "秀芳", "海霞", "春兰", "红梅", "丽娟", "小琴", "晓红", "静",
              "雪梅", "慧", "艳红", "婷婷", "文娟", "丹", "倩", "莉莉", "佳", "亚楠")

_AWAY = (
    "广东东莞电子厂", "广东深圳龙华电子厂", "广东广州白云区制衣厂", "广东佛山家具厂", "广东中山灯具厂",
    "浙江义乌小商品市场", "浙江宁波服装厂", "浙江温州鞋厂", "浙江杭州快递分拣中心", "福建晋江鞋厂",
    "福建厦门餐馆", "福建泉州石材厂", "上海建筑工地", "上海松江物流园", "江苏苏州工业园区电子厂",
    "江苏昆山电子厂", "北京朝阳区装修队", "天津外卖配送", "湖北武汉建筑工地", "新疆阿克苏摘棉花(季节性)",
)
_HOME = ("在家务农", "镇上打零工", "县城餐馆帮工", "在家务农兼照顾老人")
_PHONE_PREFIX = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                 "155", "156", "158", "159", "177", "180", "182", "186", "187", "189", "199")

_SCHOOL_PLACES = ("青山镇", "白沙", "柳溪", "枫林", "河口镇", "石桥", "龙潭", "杨家坪", "梅岭", "桃源",
                  "清水", "黄土岭", "大坪", "新田", "双河镇", "高桥", "松林", "金竹", "红岩", "马鞍山")
_SCHOOL_KINDS = ("中心小学", "小学", "完全小学")

_TRANSFER_TO = (
    "广东省东莞市长安镇中心小学(随父母就读)", "浙江省义乌市稠城第三小学(随父母就读)",
    "县城关第二小学", "福建省晋江市第二实验小学(随父母就读)", "县实验小学",
    "江苏省昆山市周市镇中心小学(随父母就读)",
)
_CLOTHES = ("冬衣两套", "棉衣一件、棉鞋一双", "棉被一床、冬衣一套", "羽绒服一件、手套围巾一套")

_NOTES: dict[str, tuple[str, ...]] = {
    "parent_call": ("在办公室用亲情电话为孩子接通父母,通话约十分钟", "组织与父母视频通话,孩子很开心",
                    "孩子与妈妈通话,诉说想念之情", "帮孩子给在外务工的爸爸打电话,汇报考试成绩",
                    "与父母视频,父母叮嘱孩子听爷爷奶奶的话"),
    "talk": ("谈心:了解近期学习和生活情况", "谈心:孩子说想爸爸妈妈,给予安慰和鼓励",
             "谈心:与同学闹矛盾,进行疏导", "谈心:作业拖欠,提醒按时完成", "谈心:鼓励参加学校兴趣小组",
             "谈心:了解在家吃饭、睡觉情况"),
    "parent_phone_visit": ("电话访家长,通报孩子在校学习、思想、生活情况", "电话家访:与父亲沟通孩子数学成绩下滑问题",
                           "电话访母亲,反馈孩子近期进步明显", "电话访父母,提醒多与孩子联系"),
    "semester_report": ("填写学期情况信息表并反馈家长", "学期信息表已通过微信发送给在外务工的父母"),
    "birthday": ("生日当天送上笔记本和文具,陪孩子过生日", "为孩子准备了小蛋糕和一本课外书"),
    "home_visit": ("家访:了解家庭生活情况,与监护人交流监护注意事项", "家访:查看住房安全情况,宣传防溺水知识",
                   "家访:与爷爷奶奶沟通孩子在家学习情况"),
    "guardian_contact": ("与代理监护人沟通孩子在家作业完成情况", "提醒监护人注意孩子饮食与作息"),
    "tutoring": ("课后辅导数学计算", "辅导语文阅读理解", "辅导拼音和生字", "课后辅导英语单词"),
    "counseling": ("心理辅导:情绪疏导", "心理辅导:沙盘游戏,建立信任", "心理辅导:人际交往训练"),
    "homework_signature": ("检查作业家长签字情况,联系监护人补签", "作业家长签字落实到位"),
}

_DISABILITY = ("先天性听力障碍(二级),佩戴助听器", "右下肢肢体残疾,行动不便", "轻度智力障碍",
               "视力残疾(低视力)", "语言障碍,口齿不清")
_EVIDENCE = {
    "dibao": "家庭享受农村低保",
    "poverty_certificate": "建档立卡贫困户",
    "parents_unable_to_work": "父亲因病丧失劳动能力,母亲在家照顾,无稳定收入",
    "illness_or_accident": "母亲患重病长期治疗,家中负债较多",
}
_PLAN = {
    "orphan": ("保障基本生活和学习用品,不辍学,感受到家的温暖",
               "落实生活补助和社会捐助;每月家访一次;节日慰问;每两周谈心"),
    "in_difficulty": ("落实监护责任,保障按时到校,不辍学",
                      "联系村委会和监护人落实监护;每周谈心;申请生活补助"),
    "disabled": ("适应校园生活,学业跟上进度",
                 "安排同伴帮扶;与家长沟通康复训练;作业分层、个别辅导"),
    "psychological": ("情绪稳定,能主动与同学交往",
                      "每两周一次心理辅导;安排同伴互助;每周谈心;与家长沟通"),
    "learning_difficulty": ("期末语文、数学成绩达到及格,养成按时完成作业的习惯",
                            "每周两次课后辅导;建立错题本;每周与监护人沟通作业签字情况"),
}
_PLAN_REVIEW = ("目标基本达成,继续保持", "数学成绩由48分提高到67分,下学期继续辅导", "情绪明显好转,能参加集体活动",
                "进步不明显,调整措施:增加辅导次数", "按时到校,未出现旷课,生活有保障", "识字量明显增加,阅读仍需加强")


# --- the plan of one school -------------------------------------------------------------------


class _Ref(NamedTuple):
    """Stands for the id of an event recorded earlier in the build (known only at execution)."""

    key: str


_NO_KW: dict[str, Any] = {}
_KIND_KW = {kind: {"kind": kind} for kind in rules.ACTIVITY_KINDS}


@dataclass(eq=False)
class _Staff:
    id: str
    name: str
    roles: tuple[str, ...]
    joined: dt.date
    title: str = "教师"
    grade: int | None = None
    cls: int | None = None
    left: dt.date | None = None
    style: str = "normal"  # prompt | normal | weekly | laggard | burst
    diligence: float = 0.85
    gaps: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    call_day: int = 2
    parity: int = 0
    inspections: list[dt.date] = field(default_factory=list)

    def in_gap(self, day: dt.date) -> bool:
        return any(a <= day <= b for a, b in self.gaps)


@dataclass(eq=False)
class _Pairing:
    staff: _Staff
    pupil: "_Pupil"
    start: dt.date
    end: dt.date | None  # holds on [start, end)
    reason: str | None


@dataclass(eq=False)
class _Pupil:
    id: str
    name: str
    gender: str
    birth: dt.date
    entry: int  # the school year the pupil entered grade 1
    cls: int
    registered: dt.date
    cats: list[tuple[dt.date, tuple[str, ...]]]  # category timeline, first at registration
    basis: str | None
    guardian: Person
    parents: list[Person]
    profile: dict[str, str]
    phone: str
    statuses: list[tuple[dt.date, str]] = field(default_factory=list)  # after registration
    pairings: list[_Pairing] = field(default_factory=list)
    busy: bool = False  # taken by a scenario (exit, incident, category change)

    def categories_on(self, day: dt.date) -> tuple[str, ...]:
        found = self.cats[0][1]
        for when, cats in self.cats:
            if when <= day:
                found = cats
        return found

    def status_on(self, day: dt.date) -> str | None:
        if day < self.registered:
            return None
        status = "enrolled"
        for when, what in self.statuses:
            if when <= day:
                status = what
        return status

    def enrolled(self, day: dt.date) -> bool:
        return self.status_on(day) == "enrolled"

    def exit_after(self, day: dt.date) -> tuple[dt.date, str] | None:
        for when, what in self.statuses:
            if when > day and what != "enrolled":
                return when, what
        return None

    def grade_on(self, day: dt.date) -> int:
        return _school_year(day) - self.entry + 1

    def paired_on(self, day: dt.date) -> _Pairing | None:
        for p in self.pairings:
            if p.start <= day and (p.end is None or day < p.end):
                return p
        return None


def _ordered(cats) -> tuple[str, ...]:
    return tuple(c for c in rules.CATEGORIES if c in cats)


class _School:
    """Draws the plan of one school and turns it into timed actions."""

    def __init__(self, index: int, seed: int, until: dt.date, principal: str, name: str):
        self.index = index
        self.sid = f"s{index}"
        self.rng = random.Random(seed + index)
        self.until = until
        self.principal_id = principal
        self.name = name
        self.actions: list[tuple] = []
        self.n = 0
        self.slots: dict[dt.date, int] = {}
        self.structural: list[tuple] = []
        self.staff: dict[str, _Staff] = {}
        self.pupils: list[_Pupil] = []
        self.names: set[str] = set()
        self.marks: dict[str, int] = {}  # scenario -> how many were drawn

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

    def workday_on_or_after(self, day: dt.date) -> dt.date | None:
        i = bisect_left(self.workdays, day)
        return self.workdays[i] if i < len(self.workdays) else None

    def workday_at(self, fraction: float) -> dt.date | None:
        return self.workday_on_or_after(self.opened + dt.timedelta(days=int(self.span * fraction)))

    def workdays_between(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Workdays in [start, end)."""
        return self.workdays[bisect_left(self.workdays, start):bisect_left(self.workdays, end)]

    def term_of(self, day: dt.date) -> Term | None:
        for term in self.terms:
            if term.start <= day <= term.end:
                return term
        return None

    # -- recording ---------------------------------------------------------------------------

    def push(self, ts: int, actor: str, day: dt.date, fn: Callable, args: tuple = (), kw: dict = _NO_KW,
             key: str | None = None, note: str = "") -> int | None:
        """Queue one action recorded at `ts`; None if it would be recorded after `until` or by a
        staff member who has left by then (their late entries are handed in the day before)."""
        rec_day = _local_day(ts)
        staff = self.staff.get(actor)
        if staff is not None and staff.left is not None and rec_day >= staff.left:
            if day >= staff.left:
                return None
            rec_day = staff.left - DAY
            ts = _ts(rec_day, _hm(20, 0) + self.n % 3000)
        if rec_day > self.until:
            return None
        assert rec_day >= day, (fn, day, rec_day)
        self.n += 1
        self.actions.append((ts, self.index, self.n, actor, day, fn, args, kw, key and f"{self.sid}:{key}", note))
        return ts

    def struct(self, day: dt.date, priority: int, actor: str, fn: Callable, *args, **kw) -> None:
        """A structural action, recorded on its own date in the morning, in priority order."""
        self.structural.append((day, priority, len(self.structural), actor, fn, args, kw))

    def flush_structural(self) -> None:
        for day, _, _, actor, fn, args, kw in sorted(self.structural, key=lambda s: s[:3]):
            slot = self.slots.get(day, 0)
            self.slots[day] = slot + 1
            note = kw.pop("note", "")
            self.push(_ts(day, _hm(8, 0) + slot * 12), actor, day, fn, args, kw, note=note)
        self.structural = []

    def office_ts(self, day: dt.date) -> int:
        """Official business (aid, activities, inspections): the same afternoon."""
        return _ts(day, self.rng.randint(_hm(14, 0), _hm(17, 30)))

    def _time_of_day(self, same_day: bool) -> int:
        r = self.rng
        x = r.random()
        if same_day:
            if x < 0.25:
                return r.randint(_hm(12, 5), _hm(13, 40))
            if x < 0.55:
                return r.randint(_hm(16, 40), _hm(18, 30))
            return r.randint(_hm(19, 30), _hm(22, 50))
        if x < 0.15:
            return r.randint(_hm(8, 10), _hm(11, 30))
        if x < 0.35:
            return r.randint(_hm(12, 5), _hm(13, 40))
        if x < 0.6:
            return r.randint(_hm(16, 40), _hm(18, 30))
        return r.randint(_hm(19, 30), _hm(23, 20))

    def when(self, staff: _Staff, day: dt.date) -> int | None:
        """When `staff` records something done on `day`, by their habits; None: never (yet)."""
        r = self.rng
        style = staff.style
        if style == "burst" and r.random() < 0.8:
            # fills the handbook in the days before the next inspection of their handbook
            i = bisect_right(staff.inspections, day)
            if i == len(staff.inspections):
                if r.random() < 0.5:
                    return None
                rec = day + r.randint(8, 20) * DAY
            else:
                inspection = staff.inspections[i]
                lo, hi = max(day, inspection - 6 * DAY), inspection - DAY
                rec = day if hi < lo else lo + r.randint(0, (hi - lo).days) * DAY
        elif style == "weekly":
            rec = day + (6 - day.weekday()) * DAY  # Sunday evening, for the whole week
            if r.random() < 0.15:
                rec += 7 * DAY
        else:
            x = r.random()
            same, short, week = {
                "prompt": (0.7, 0.95, 1.0),
                "normal": (0.45, 0.8, 0.92),
                "laggard": (0.2, 0.5, 0.75),
                "burst": (0.3, 0.7, 0.9),
            }[style]
            if x < same:
                rec = day
            elif x < short:
                rec = day + r.randint(1, 3) * DAY
            elif x < week:
                rec = day + r.randint(4, 7) * DAY
            else:
                rec = day + r.randint(8, 30) * DAY
        return _ts(rec, self._time_of_day(rec == day))

    # -- phase 1: the plan -------------------------------------------------------------------

    def plan(self) -> None:
        r = self.rng
        until = self.until
        y, m = until.year, until.month - 18
        while m < 1:
            m += 12
            y -= 1
        opened = dt.date(y, m, min(until.day, 28)) - r.randint(0, 6) * DAY
        while opened.weekday() >= 5:
            opened += DAY
        self.opened = opened
        self.span = (until - opened).days
        self.terms = [t for t in school_terms(opened.year - 1, until.year + 1)
                      if t.end >= opened - 200 * DAY and t.start <= until + 60 * DAY]
        self.terms.sort(key=lambda t: t.start)
        self.workdays = []
        day = opened
        while day <= until:
            if day.weekday() < 5 and not _public_holiday(day) and self.term_of(day) is not None:
                self.workdays.append(day)
            day += DAY
        self.setup = self.workdays[:8]
        self.paired_first = self.workdays[9]
        self.capacity_day = self.workday_on_or_after(self.paired_first + 42 * DAY)
        self.plan_staff()
        self.plan_pupils()
        self.plan_exits()
        self.plan_pairings()

    def plan_staff(self) -> None:
        r = self.rng
        opened = self.opened
        pname = self.person_name(None, _TEACHER_M)
        self.names.add(pname)
        principal = _Staff(self.principal_id, pname, ("admin", "leader"), opened, title="校长")
        self.staff[principal.id] = principal
        counter = iter(range(1, 1000))

        def add(title: str, roles: tuple[str, ...], **kw) -> _Staff:
            given = _TEACHER_F if r.random() < 0.6 else _TEACHER_M
            s = _Staff(f"t{next(counter):02d}", self.unique_name(None, given), roles, kw.pop("joined", opened),
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
        self.class_teacher: dict[tuple[int, int], _Staff] = {}
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
        self.new_staff: list[_Staff] = []
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

    def draw_habits(self, s: _Staff) -> None:
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
                  transfer_in: bool = False) -> _Pupil:
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
        return _Pupil(pid, name, gender, birth, entry, cls, registered, [(registered, cats_t)], basis, guardian,
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
             without: frozenset[str] = frozenset()) -> _Pupil | None:
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
        self.graduations: list[tuple[dt.date, list[_Pupil]]] = []
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
                pairing = _Pairing(mentor, p, day, end, reason)
                p.pairings.append(pairing)
        self.pairings = [q for p in self.pupils for q in p.pairings]
        self.pairings.sort(key=lambda q: (q.start, q.pupil.id))

    # -- phase 2: the actions ----------------------------------------------------------------

    def generate(self) -> list[tuple]:
        self.plan()
        self.gen_structure()
        self.gen_inspections()
        self.gen_contacts()
        self.gen_activities()
        self.gen_aid()
        self.gen_plans()
        self.gen_incidents()
        self.actions.sort(key=lambda a: a[:3])
        return self.actions

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
            teacher = self.class_teacher.get((p.entry, p.cls)) or self.dean
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
            self.struct(day, 4, self.class_teacher[(p.entry, p.cls)].id, C.amend_pupil, p.id,
                        changes={"family": p.profile["family"] + "近期父亲在工地摔伤,丧失劳动能力,家庭陷入困难。"},
                        add_categories=["economic_hardship"], note="家庭突发变故,经调查核实增列家庭经济困难")
        if "parents_back" in self.scenarios:
            p, day = self.scenarios["parents_back"]
            self.struct(day, 4, self.class_teacher[(p.entry, p.cls)].id, C.amend_pupil, p.id,
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

    def contact(self, staff: _Staff, pupil: _Pupil, day: dt.date, kind: str, actor: _Staff | None = None) -> None:
        r = self.rng
        actor = actor or staff
        ts = self.when(actor, day)
        if ts is None:
            return
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
            self.push(ts, actor.id, day, C.contact, (pupil.id,), _KIND_KW[kind], note=note)
            return
        self.marks[scenario] = self.marks.get(scenario, 0) + 1
        key = f"c{self.n}"
        leader = self.marks[scenario] == 1 and scenario != "date"  # one of each is found on inspection
        fixer = self.dean if leader else actor
        later = _ts(_local_day(ts) + r.randint(1, 12) * DAY, r.randint(_hm(12, 10), _hm(21, 30)))
        if scenario == "kind":
            wrong = {"talk": "parent_call", "parent_call": "talk", "parent_phone_visit": "guardian_contact"}[kind]
            self.push(ts, actor.id, day, C.contact, (pupil.id,), _KIND_KW[wrong], key=key, note=note)
            reason = (f"手册检查发现:该记录实为{'谈心' if kind == 'talk' else '与父母通话' if kind == 'parent_call' else '电话访父母'},更正类别"
                      if leader else "录入时选错了类别,更正")
            self.push(later, fixer.id, _local_day(later), C.correct, (_Ref(f"{self.sid}:{key}"),),
                      {"reason": reason, "to_kind": kind})
        elif scenario == "date":
            wrong = _local_day(ts)
            self.push(ts, actor.id, wrong, C.contact, (pupil.id,), _KIND_KW[kind], key=key, note=note)
            self.push(later, fixer.id, _local_day(later), C.correct, (_Ref(f"{self.sid}:{key}"),),
                      {"reason": f"日期录入错误:实际为{day.month}月{day.day}日,补录时误用了录入当天的日期",
                       "to_date": day})
        else:
            self.push(ts, actor.id, day, C.contact, (pupil.id,), _KIND_KW[kind], note=note)
            self.push(ts + r.randint(40, 300), actor.id, day, C.contact, (pupil.id,), _KIND_KW[kind], key=key,
                      note=note)
            reason = f"检查发现与{day.month}月{day.day}日记录重复,撤销" if leader else "重复录入,撤销"
            self.push(later, fixer.id, _local_day(later), C.retract, (_Ref(f"{self.sid}:{key}"),), {"reason": reason})

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

    def enrolled_pupils(self, day: dt.date, cats: frozenset[str] | None = None) -> list[_Pupil]:
        return [p for p in self.pupils if p.enrolled(day) and p.registered <= day
                and (cats is None or set(p.categories_on(day)) & cats)]

    def activity(self, day: dt.date | None, actor: _Staff, kind: str, pupils: list[_Pupil], note: str) -> None:
        if day is None or day < self.opened or day > self.until or not pupils:
            return
        ts = self.office_ts(day) if self.rng.random() < 0.7 else self.when(actor, day)
        if ts is not None:
            self.push(ts, actor.id, day, C.activity, (), {"kind": kind, "pupils": [p.id for p in pupils]},
                      note=note)

    def gen_activities(self) -> None:
        r = self.rng
        P = self.staff[self.principal_id]
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
            self.activity(day, self.pioneer, "birthday", pupils, f"{label}集体生日会:唱生日歌、分蛋糕,每人一份小礼物")
        for year in range(self.opened.year, self.until.year + 1):
            # Spring Festival visits (春节慰问) to the poorest families, with a donation for orphans
            sf = _spring_festival(year)
            day = sf - r.randint(5, 9) * DAY
            if self.opened <= day <= self.until and day > start:
                pupils = self.enrolled_pupils(day, frozenset({"orphan", "in_difficulty", "disabled", "economic_hardship"}))
                self.activity(day, P, "holiday_visit", pupils, "春节前夕校领导带队走访慰问困境儿童、孤儿、残疾儿童家庭,送去米、油和慰问品")
                for p in pupils:
                    cats = p.categories_on(day)
                    if "orphan" in cats or "in_difficulty" in cats:
                        self.push(self.office_ts(day), P.id, day, C.grant_aid, (p.id,),
                                  {"kind": "donation", "amount": "1000.00" if "orphan" in cats else "500.00",
                                   "fund": "县慈善总会春节慰问金"}, note="春节慰问")
            # Mid-Autumn: a video call with the parents for every left-behind pupil (亲情通话)
            ma = _mid_autumn(year)
            day = max((d for d in self.workdays if ma - 12 * DAY <= d < ma), default=None)
            if day is not None and day > start:
                pupils = self.enrolled_pupils(day, frozenset({"left_behind"}))
                self.activity(day, self.pioneer, "parent_call", pupils, "中秋节亲情视频通话活动,并为留守儿童送月饼")
            # 六一 performance for all the pupils in care
            day = max((d for d in self.workdays if dt.date(year, 5, 25) <= d <= dt.date(year, 6, 1)), default=None)
            if day is not None and day > start:
                self.activity(day, self.pioneer, "performance", self.enrolled_pupils(day),
                              "庆六一关爱留守儿童文艺汇演,为每位帮扶对象送书包和文具")
            # a summer visit to the orphans and disabled pupils
            day = _monday_on_or_after(dt.date(year, 7, 14))
            if start < day <= self.until:
                pupils = self.enrolled_pupils(day, frozenset({"orphan", "disabled"}))
                self.activity(day, P, "holiday_visit", pupils, "暑期走访慰问,宣传防溺水安全知识")

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
                    self.push(self.office_ts(when), dean.id, when, C.revoke_aid, (_Ref(f"{self.sid}:{key}"),),
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
            aid_day = self.workday_on_or_after(day + DAY)
            if aid_day is not None:
                kw = {"kind": kind, "fund": fund, "basis": "illness_or_accident"}
                kw.update({"amount": amount} if amount else {"items": "书包文具一套、校服两套、被褥一床"})
                self.push(self.office_ts(aid_day), P.id, aid_day, C.grant_aid, (p.id,), kw, note="临时救助")
            if need == "accommodation":
                self.push(self.office_ts(day), P.id, day, C.grant_aid, (p.id,),
                          {"kind": "material", "items": "被褥两床、冬衣两套、书包文具一套", "fund": "爱心企业捐助",
                           "basis": "illness_or_accident"}, note="火灾后紧急送去生活用品")
            done = self.workday_on_or_after(day + r.randint(a, b) * DAY)
            if done is not None:
                self.push(self.office_ts(done), teacher.id, done, C.resolve_incident, (_Ref(f"{self.sid}:{key}"),),
                          {"resolution": resolution})


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


def _school_name(index: int, rng: random.Random, used: set[str]) -> str:
    if index == 1:
        return "石砚小学"
    for attempt in range(100):
        name = rng.choice(_SCHOOL_PLACES) + rng.choice(_SCHOOL_KINDS)
        if name not in used:
            return name
    return f"{rng.choice(_SCHOOL_PLACES)}第{index}小学"


# --- the build ----------------------------------------------------------------------------------


def build_demo(service: Service, *, schools: int = 1, seed: int = 2026, until: dt.date, actor: str = "admin") -> dict:
    """Write a demo school (or `schools` schools "s1".."sN") into the empty store of `service`.

    Returns a summary: {"schools", "school_ids", "events", "staff", "pupils", "enrolled",
    "opened", "until", "by_type"}. Raises ValueError for a store that is not empty or an
    `until` after today, DemoError if a rule refused an action (a bug of the generator).
    """
    if schools < 1:
        raise ValueError("schools must be at least 1")
    service.catch_up()
    if service.state.position or not service.store.is_empty():
        raise ValueError("the store is not empty")
    now = service.store.clock()
    now_ts = int((now - _EPOCH_DT).total_seconds())
    if until > _local_day(now_ts):
        raise ValueError(f"until {until} is after today {_local_day(now_ts)}")
    names: set[str] = set()
    district = random.Random(seed)
    plans = []
    for index in range(1, schools + 1):
        name = _school_name(index, district, names)
        names.add(name)
        plans.append(_School(index, seed, until, actor, name))
    streams = []
    for plan in plans:
        streams.append(plan.generate())
    by_type = _execute(service, heapq.merge(*streams), now_ts)
    state = service.state
    enrolled = sum(1 for school in state.schools.values() for p in school.pupils.values()
                   if p.status_on(until) == "enrolled")
    return {
        "schools": len(state.schools),
        "school_ids": sorted(state.schools),
        "events": sum(by_type.values()),
        "staff": sum(len(school.staff) for school in state.schools.values()),
        "pupils": sum(len(school.pupils) for school in state.schools.values()),
        "enrolled": enrolled,
        "opened": min(school.opened for school in state.schools.values()).isoformat(),
        "until": until.isoformat(),
        "by_type": dict(sorted(by_type.items())),
    }


def _execute(service: Service, actions, now_ts: int) -> dict[str, int]:
    store = service.store
    saved = store.clock
    moment: list[dt.datetime] = [saved()]
    store.clock = lambda: moment[0]
    ids: dict[str, str] = {}
    by_type: dict[str, int] = {}
    it = iter(actions)
    try:
        done = False
        while not done:
            with service.batch():
                count = 0
                for ts, index, _, actor, day, fn, args, kw, key, note in it:
                    if ts > now_ts:  # not recorded yet
                        done = True
                        break
                    moment[0] = _EPOCH_DT + dt.timedelta(seconds=ts)
                    ctx = C.Context(school=f"s{index}", actor=actor, today=_local_day(ts), date=day,
                                    source="demo", note=note)
                    if args and isinstance(args[0], _Ref):
                        args = (ids[args[0].key],) + args[1:]
                    try:
                        events = service.execute(lambda state: fn(state, ctx, *args, **kw))
                    except Refused as refused:
                        raise DemoError(
                            f"s{index}: {fn.__name__}{args} {kw} dated {day}, recorded "
                            f"{moment[0].isoformat()} by {actor}: refused {refused.field} {refused.code} "
                            f"{refused.params}") from refused
                    if key:
                        ids[key] = events[0].id
                    for event in events:
                        name = type(event).__name__
                        by_type[name] = by_type.get(name, 0) + 1
                    count += 1
                    if count >= _FLUSH:
                        break
                else:
                    done = True
    finally:
        store.clock = saved
    return by_type
