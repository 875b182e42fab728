"""What was said in the demo's contacts, as mentors write it in the handbook (帮扶工作手册).

Drawn from a random stream of its own (`School.said_rng`), so that adding what was said moved
nothing else of the demo: the same seed gives the same contacts, days and times as before, and
now also the same summaries, topics, medium, minutes, the semester reports' 学习、思想、生活情况
and the birthdays' gifts. A careful mentor writes nearly every time, a sloppy one less.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from careterm.demo.records import Pupil, Staff

_SUBJECTS = ("语文", "数学", "英语")

# kind -> (media with weights, minutes range or None when a length is not written)
_HOW: dict[str, tuple[tuple[tuple[str, ...], tuple[int, ...]], tuple[int, int] | None]] = {
    "parent_call": ((("video", "phone"), (45, 55)), (5, 15)),
    "talk": ((("in_person",), (1,)), (10, 30)),
    "parent_phone_visit": ((("phone", "video", "message"), (75, 10, 15)), (8, 25)),
    "semester_report": ((("message", "in_person", "phone"), (50, 30, 20)), (15, 40)),
    "birthday": ((("in_person", "video"), (85, 15)), (20, 40)),
    "home_visit": ((("in_person",), (1,)), (40, 90)),
    "guardian_contact": ((("phone", "in_person", "message"), (60, 30, 10)), (5, 15)),
    "tutoring": ((("in_person",), (1,)), (30, 60)),
    "counseling": ((("in_person",), (1,)), (30, 50)),
    "homework_signature": ((("message", "in_person"), (50, 50)), None),
}

# kind -> topics it is most often about (the first ones the likeliest)
_TOPICS = {
    "parent_call": ("family", "thoughts", "study"),
    "talk": ("study", "thoughts", "life", "safety", "family"),
    "parent_phone_visit": ("study", "life", "family", "health"),
    "semester_report": ("study", "thoughts", "life"),
    "birthday": ("thoughts", "family", "life"),
    "home_visit": ("family", "safety", "life", "study", "health"),
    "guardian_contact": ("study", "life", "health", "safety"),
    "tutoring": ("study",),
    "counseling": ("thoughts", "family", "life"),
    "homework_signature": ("study",),
}

# kind -> summaries; {g} the guardian's relation (奶奶), {p} a parent (爸爸/妈妈), {s} a subject
_SUMMARIES = {
    "parent_call": (
        "phone|在办公室用亲情电话给{p}打电话，孩子讲了这周考试和在学校的事，{p}叮嘱孩子听{g}的话。",
        "video|和{p}视频通话约十分钟。孩子一开始有点害羞，后来主动给{p}看了自己画的画。",
        "孩子告诉{p}这次{s}单元测验有进步，{p}很高兴，答应过年回来给孩子买新书包。",
        "phone|帮孩子给在外务工的{p}打电话。孩子说想{p}了，通话后情绪有些低落，陪{ta}在操场走了一圈。",
        "video|用学校的平板和{p}视频，{p}看到孩子长高了很高兴，叮嘱孩子按时吃饭、听{g}的话。",
    ),
    "talk": (
        "课间找孩子谈心，了解这周的学习和生活。孩子说{s}作业有几道题不会，在家{g}也辅导不了。",
        "谈心。孩子说晚上经常想爸爸妈妈，有时偷偷哭。给予安慰，约定想家时可以来找老师。",
        "孩子和同桌因为借橡皮的事闹了矛盾，分别听了两人的说法，引导他们互相道歉，已和好。",
        "了解孩子在家吃饭、睡觉的情况。{g}做饭比较简单，孩子早上经常不吃早饭就来上学。",
        "表扬孩子最近上课举手发言多了，鼓励{ta}参加学校的书法兴趣小组，孩子答应试一试。",
        "孩子最近作业拖欠，问原因，说放学后帮{g}干农活，回家太晚。和孩子一起排了放学后的时间表。",
        "谈到周末和假期的安全：不到河边、水塘玩水，不玩火，过马路看车。孩子能说出防溺水“六不”。",
        "孩子说班上有同学叫{ta}外号，心里不舒服。告诉{ta}遇到这种事要及时告诉老师，已提醒班主任关注。",
    ),
    "parent_phone_visit": (
        "phone|电话访{p}，通报孩子本月在校学习、思想和生活情况：上课认真，{s}成绩有提高，和同学相处融洽。",
        "phone|给{p}打电话，反映孩子{s}成绩下滑、作业完成不好的情况，商量{p}每周和孩子通一次电话督促。",
        "phone|电话访{p}，反馈孩子近期进步明显，能按时完成作业。{p}表示会多和孩子联系，多鼓励。",
        "phone|和{p}通电话，提醒天气转凉给孩子寄冬衣，并请{p}多关心孩子的情绪，不要只问成绩。",
        "message|通过微信给{p}发了孩子本月在校的情况和两张课堂照片，{p}回复会督促孩子按时完成作业。",
        "video|和{p}视频，通报孩子本月在校的学习、思想和生活情况，{p}也和孩子说了几句话。",
    ),
    "semester_report": (
        "message|填写本学期学生情况信息表，通过微信发给在外务工的{p}，{p}回复会在寒假多陪孩子学习。",
        "in_person|期末家长会上把学期情况信息表交给{g}，当面说明孩子这学期的学习、思想和生活情况。",
        "phone|学期情况信息表填好后给{p}打电话逐项说明，{p}表示会多和孩子联系。",
    ),
    "birthday": (
        "in_person|孩子生日，中午在办公室给{ta}过了一个小小的生日，送上礼物，同学们一起唱了生日歌。",
        "in_person|陪孩子过生日，送了小礼物，孩子很开心，说这是第一次有老师给{ta}过生日。",
        "video|孩子生日当天和{p}视频，一起给孩子唱生日歌，送上小礼物。",
    ),
    "home_visit": (
        "到孩子家家访。家里只有孩子和{g}，房子是老房子，孩子在堂屋的小桌上写作业。和{g}交流了监护要注意的事。",
        "家访：查看住房、用电安全，宣传防溺水知识，叮嘱{g}看好孩子，周末不让孩子单独去河边。",
        "家访，与{g}沟通孩子在家的学习情况，{g}说孩子回家先看电视，作业要催好几遍。",
        "寒假家访，给孩子带去了课外书，了解假期作业完成情况和作息。",
    ),
    "guardian_contact": (
        "phone|和{g}电话沟通孩子在家作业完成情况，{g}说孩子最近回家能主动写作业了。",
        "联系{g}，提醒注意孩子饮食和作息，晚上不要看手机太晚。",
        "in_person|放学时和{g}当面聊了几句，{g}反映孩子最近咳嗽，提醒带去卫生院看看。",
        "message|给{g}发短信，提醒明天学校体检要吃早饭，{g}回复收到。",
    ),
    "tutoring": (
        "课后辅导{s}，讲解本周错题，重点练习了计算。",
        "辅导语文阅读理解，教孩子先找中心句，再回答问题。",
        "辅导拼音和生字，听写十个词语，错了三个，当场订正。",
        "课后辅导英语单词和课文朗读，孩子读得比上次流利。",
    ),
    "counseling": (
        "心理辅导：孩子说在家里没人说话，很孤单。主要是倾听，让孩子把心里话说出来。",
        "沙盘游戏，孩子摆了一座房子和很多小动物，说是想象中的家。建立了初步的信任。",
        "人际交往训练：练习怎样邀请同学一起玩、被拒绝时怎么办。孩子愿意下周课间试一试。",
        "孩子近期情绪波动大，和{ta}一起做了放松练习，教了深呼吸的方法。",
    ),
    "homework_signature": (
        "检查作业家长签字情况，本周有两天没签，联系{g}补签。",
        "作业家长签字落实到位，{g}签字认真。",
        "{p}在外务工无法签字，由{g}代签，已和{g}说明签字前要看一看作业。",
    ),
}

# (problem found, help given, follow-up): drawn together, most contacts have none
_PROBLEMS = (
    ("{s}基础薄弱，计算经常出错", "每周二、四课后辅导{s}，建立错题本", "月底检查错题本，看单元测验成绩"),
    ("作业拖欠，在家无人督促", "和孩子一起制定放学后作息表，请{g}每天问一问作业", "下周一检查作业完成情况"),
    ("想念父母，情绪低落", "安排每周三在办公室和{p}视频通话，多和孩子聊天", "两周后再次谈心，留意情绪变化"),
    ("与同学相处不融洽，课间常一个人待着", "安排热心的同学做同伴，课间一起活动", "请班主任留意课间情况"),
    ("早上常不吃早饭，上课注意力不集中", "和{g}沟通早饭问题，学校营养餐多给一份牛奶", "一周后再问孩子早饭情况"),
    ("周末常独自到河边玩", "讲防溺水安全知识，告知{g}看管好孩子", "放假前再做一次安全提醒"),
    ("冬衣单薄", "从学校爱心衣物中挑了一件棉衣给孩子", "联系{p}寄冬衣回来"),
    ("回家看手机时间太长，睡得晚", "和孩子约定每天看手机不超过半小时，请{g}监督", "下次家访了解执行情况"),
)

_GIFTS = ("笔记本和一盒彩笔", "一本《安徒生童话》", "一个新书包", "文具盒和一套铅笔", "小蛋糕和一张贺卡",
          "一套课外读物（《十万个为什么》）", "跳绳和一副羽毛球拍", "一本字典", "保温水杯", "围巾和手套")

# a semester report's three parts: (good, middling, struggling) phrasings of each
_STUDY = (
    "学习态度端正，上课认真听讲，能按时完成作业。期末语文{a}分、数学{b}分，比上学期有进步。",
    "{s}成绩较好，期末{s}{a}分、{s2}{b}分。{s2}还要加强，作业书写有时潦草。",
    "基础比较薄弱，期末语文{a}分、数学{b}分。经过课后辅导，计算正确率有提高，识字量还需增加。",
)
_THOUGHTS = (
    "尊敬老师，团结同学，热爱集体，积极参加学校活动，本学期被评为“文明学生”。",
    "懂礼貌，能遵守学校纪律。性格有些内向，在老师鼓励下开始主动举手发言。",
    "想念父母，偶尔情绪低落，经过谈心疏导情绪基本稳定。和同学的关系有所改善。",
)
_LIFE = (
    "身体健康，生活能自理，能帮{g}做些力所能及的家务。",
    "在校午餐正常，按时到校，个人卫生有进步，天冷时衣服穿得偏少。",
    "由{g}照顾，生活基本有保障。早饭有时不吃，已和{g}沟通。",
)


def _texts(template: str, r: random.Random, pupil: Pupil, **more: Any) -> str:
    """A template with its words: {g} the guardian (奶奶), {p} a parent (爸爸), {ta} 他 or 她,
    {s} and {s2} two subjects; a medium prefix ("phone|") is not part of the text."""
    parent = r.choice(pupil.parents).relation if pupil.parents else "家长"
    parent = {"父亲": "爸爸", "母亲": "妈妈"}.get(parent, parent)
    subject, other = r.sample(_SUBJECTS, 2)
    words = dict(g=pupil.guardian.relation or "家长", p=parent, s=subject, s2=other, ta="她" if pupil.gender == "F" else "他")
    return template.rpartition("|")[2].format(**{**words, **more})


def _fits(template: str, medium: str | None) -> bool:
    """A summary written for one medium ("video|和爸爸视频…") fits only that one."""
    wanted, sep, _ = template.partition("|")
    return not sep or wanted == medium


def _writes(staff: Staff) -> float:
    """How often a mentor writes what was said: the careful nearly always, the sloppy less."""
    return {"laggard": 0.55, "burst": 0.5}.get(staff.style, 0.75 + 0.2 * staff.diligence)


def what_was_said(r: random.Random, staff: Staff, pupil: Pupil, day: dt.date, kind: str) -> dict[str, Any]:
    """The options of `contact` a mentor fills in for this contact (none at all sometimes)."""
    said: dict[str, Any] = {}

    def pick(options: tuple) -> Any:  # an orphan's handbook never speaks of calling the parents
        usable = [o for o in options if pupil.parents or "{p}" not in str(o)]
        return r.choice(usable or options)

    if kind == "semester_report":  # the sheet home to the parents: its three parts are the point
        if r.random() < 0.95:
            level = 2 if {"learning_difficulty"} & set(pupil.categories_on(day)) else r.choice((0, 0, 1, 1, 2))
            low, high = ((85, 98), (72, 88), (55, 72))[level]
            s, s2 = r.sample(("语文", "数学"), 2)  # the two subjects with marks
            a, b = r.randint(low, high), r.randint(low, high)
            if level == 1:  # "{s} is the better one": its mark is
                a, b = max(a, b) + 6, min(a, b)
            said["study"] = _texts(_STUDY[level], r, pupil, a=a, b=b, s=s, s2=s2)
            said["thoughts"] = _texts(pick(_THOUGHTS), r, pupil)
            said["life"] = _texts(pick(_LIFE), r, pupil)
    elif kind == "birthday" and r.random() < 0.9:
        said["gift"] = r.choice(_GIFTS)
    if r.random() > _writes(staff):
        return said
    (media, weights), minutes = _HOW[kind]
    said["medium"] = r.choices(media, weights)[0]
    if minutes is not None and said["medium"] != "message" and r.random() < 0.7:
        said["minutes"] = r.randint(*minutes)
    topics = _TOPICS[kind]
    said["topics"] = sorted(set(r.sample(topics, min(len(topics), r.choice((1, 1, 2, 2, 3))))), key=topics.index)
    said["summary"] = _texts(pick(tuple(t for t in _SUMMARIES[kind] if _fits(t, said["medium"]))), r, pupil)
    if kind in ("talk", "home_visit", "parent_phone_visit", "counseling") and r.random() < 0.35:
        problem, help_given, follow_up = (_texts(x, r, pupil) for x in pick(_PROBLEMS))
        said.update(problem=problem, help_given=help_given)
        if r.random() < 0.6:
            said["follow_up"] = follow_up
    return said
