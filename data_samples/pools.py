"""Pools the synthetic world draws from: names, characters, region codes, districts, employers.

What belongs here: constant vocabularies and the small lookups derived from them (homophone groups).
What does not: any randomness (`world.py`, `defects.py`) or file layout (`writers.py`).
"""

from functools import cache

from pypinyin import Style, lazy_pinyin

# (surname, weight): common surnames with rough frequencies, plus a few compound surnames.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.2), ("李", 7.1), ("张", 6.8), ("刘", 5.4), ("陈", 4.5), ("杨", 3.1), ("黄", 2.3), ("赵", 2.3),
    ("吴", 2.0), ("周", 1.9), ("徐", 1.5), ("孙", 1.5), ("马", 1.5), ("朱", 1.3), ("胡", 1.3), ("郭", 1.2),
    ("何", 1.2), ("高", 1.1), ("林", 1.1), ("罗", 1.1), ("郑", 1.0), ("梁", 1.0), ("谢", 0.8), ("宋", 0.8),
    ("唐", 0.8), ("许", 0.7), ("韩", 0.7), ("冯", 0.7), ("邓", 0.7), ("曹", 0.7), ("彭", 0.6), ("曾", 0.6),
    ("肖", 0.6), ("田", 0.6), ("董", 0.5), ("袁", 0.5), ("潘", 0.5), ("于", 0.5), ("蒋", 0.5), ("蔡", 0.5),
    ("余", 0.5), ("杜", 0.5), ("叶", 0.5), ("程", 0.5), ("苏", 0.4), ("魏", 0.4), ("吕", 0.4), ("丁", 0.4),
    ("任", 0.4), ("沈", 0.4), ("姚", 0.4), ("卢", 0.4), ("姜", 0.3), ("崔", 0.3), ("钟", 0.3), ("谭", 0.3),
    ("陆", 0.3), ("汪", 0.3), ("范", 0.3), ("金", 0.3), ("石", 0.3), ("廖", 0.3), ("贾", 0.3), ("夏", 0.3),
    ("韦", 0.3), ("方", 0.3), ("白", 0.3), ("邹", 0.3), ("孟", 0.2), ("熊", 0.2), ("秦", 0.2), ("邱", 0.2),
    ("江", 0.2), ("尹", 0.2), ("薛", 0.2), ("段", 0.2), ("雷", 0.2), ("侯", 0.2), ("龙", 0.2), ("史", 0.2),
    ("欧阳", 0.05), ("司马", 0.02), ("诸葛", 0.02), ("上官", 0.02),
)  # fmt: skip

# Given-name characters by sex; several have a similar-shape or homophone twin in the pools below.
MALE_CHARS = (
    "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林阳建国志文海峰亮成东"
    "天大士玉庆春利立力晨晓永德福贵生新刚毅义兴宏泽"
)
FEMALE_CHARS = (
    "芳娜敏静丽艳娟霞秀玲桂英萍红燕婷雪琳晶慧颖倩洁佳梅莉兰凤琴云丹玉春晓丽利晴清月美如欣怡宁华秋菊珍"
)
# Extra characters that only serve as homophone substitutes (同音字) for the name characters.
HOMOPHONE_EXTRAS = "力立莉例历厉励隶砺卫位未味魏薇伟维韦炜苇惟娟捐涓鹃军君钧筠均玲灵铃凌龄伶羚静敬境靖径竞"

# Minority (Uyghur) names are written "<given>·<father's name>".
MINORITY_PARTS = (
    "买买提", "艾力", "阿不都", "热合曼", "古丽", "努尔", "阿依古丽", "吐尔逊", "艾买提", "帕提古丽",
    "迪丽拜尔", "麦麦提", "依明", "阿卜杜拉", "赛买提", "玉素甫", "阿里木", "排尔哈提",
)  # fmt: skip
MINORITY_REGIONS = ("650102", "650103", "652801", "653101")
ETHNICITIES: tuple[tuple[str, float], ...] = (
    ("汉族", 0.93),
    ("回族", 0.03),
    ("满族", 0.025),
    ("蒙古族", 0.015),
)

# Middle-dot variants seen in minority names (the normalized form is U+00B7).
DOT_VARIANTS = ("•", "‧", "・", "．", ".")

# 形近字: similar-shape characters a typist confuses.
SIMILAR_SHAPES: dict[str, str] = {
    "己": "已", "已": "巳", "未": "末", "末": "未", "士": "土", "土": "士", "戊": "戌", "戌": "戊",
    "王": "玉", "玉": "王", "大": "太", "太": "大", "天": "夭", "千": "干", "干": "千", "日": "曰",
    "晴": "睛", "清": "请", "杨": "扬", "伟": "玮", "明": "朋", "春": "舂", "林": "材", "东": "乐",
}  # fmt: skip

# The city whose departments export the extracts: district -> (region code, streets).
DISTRICTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "东城区": ("110101", ("东华门街道", "景山街道", "和平里街道")),
    "西城区": ("110102", ("西长安街街道", "新街口街道", "月坛街道")),
    "朝阳区": ("110105", ("建外街道", "三里屯街道", "望京街道")),
    "海淀区": ("110108", ("中关村街道", "学院路街道", "清河街道")),
}
COMMUNITIES = ("第一社区", "第二社区", "花园社区", "新村社区", "南里社区")

# Real county-level codes of a few provinces, for people born outside the city.
OTHER_REGIONS = (
    "130102", "130104", "130105", "370102", "370103", "370104", "410102", "410103", "410105",
    "440103", "440104", "440106", "440524", "510104", "510105", "420102", "420106", "330102",
    "330106", "330421", "320102", "320106",
)  # fmt: skip

EMPLOYER_PREFIXES = (
    "北京",
    "京华",
    "中关",
    "长安",
    "燕京",
    "首都",
    "鼎信",
    "恒通",
    "华瑞",
    "金桥",
    "博远",
    "新元",
)
EMPLOYER_TRADES = (
    "科技",
    "商贸",
    "物业管理",
    "餐饮",
    "建筑工程",
    "物流",
    "文化传媒",
    "医药",
    "机械",
    "家政服务",
)
EMPLOYER_SUFFIXES = ("有限公司", "有限责任公司", "股份有限公司")

CLERKS = ("张某", "李某", "王某")


@cache
def homophones() -> dict[str, tuple[str, ...]]:
    """同音字: each pool character -> the other pool characters with the same toned pinyin."""
    chars = sorted(set(MALE_CHARS + FEMALE_CHARS + HOMOPHONE_EXTRAS + "".join(s for s, _ in SURNAMES)))
    groups: dict[str, list[str]] = {}
    for char in chars:
        groups.setdefault(lazy_pinyin(char, style=Style.TONE3)[0], []).append(char)
    return {
        c: tuple(o for o in group if o != c) for group in groups.values() for c in group if len(group) > 1
    }
