"""Known typos of the plan documents, fixed in the *index* text only (the reply shows the original).

Web copies of plans carry input-method slips (千部 for 干部, 扽 for 等, 贫因 for 贫困 …). A user who types
the right word must still find the clause, so both the clause's index text and the question pass through
the same table. Each rule is a regular expression with context guards, so that legitimate text such as
"关于部署" or "数千部" is left alone. Offices add rules here when they find new slips.
"""

from __future__ import annotations

import re

# (pattern, replacement). Applied in order, on NFKC-normalised, lower-cased text.
TYPO_RULES: tuple[tuple[str, str], ...] = (
    # 千部 / 于部 -> 干部 (not "数千部", "关于部署", "属于部门" …)
    (r"(?<![一二两三四五六七八九十百数上几\d])千部(?![分])", "干部"),
    (r"(?<![关属对由至终基等位归出处用])于部(?![署门分长委])", "干部"),
    (r"扽", "等"),
    (r"贫因", "贫困"),
    (r"(?<!识)知分子", "知识分子"),
    (r"(?<![意构心])思相(?![同近似关通像比符反一])", "思想"),
    (r"通话中那", "统战"),
    (r"加党对", "加强党对"),
    (r"进一步高(?![度效])", "进一步提高"),
    (r"健(?=无党派)", "健全"),
    (r"和论斗争", "舆论斗争"),
    (r"党外部队伍", "党外干部队伍"),
    (r"捐赠情统计", "捐赠情况统计"),
    (r"实施方(?=\()", "实施方案"),
    (r"两点特色", "亮点特色"),
    (r"重要知识批示", "重要指示批示"),
)

_LOOKAROUND = re.compile(r"\(\?<?[=!][^)]*\)")


def _trigger(pattern: str) -> str:
    """The literal core of a rule (pattern without its look-arounds), checked before running the regex."""
    return _LOOKAROUND.sub("", pattern)


_COMPILED = tuple((_trigger(p), re.compile(p), r) for p, r in TYPO_RULES)


def fix_typos(text: str) -> str:
    """Apply the typo table; the text must already be width-normalised."""
    for trigger, pattern, replacement in _COMPILED:
        if trigger in text:
            text = pattern.sub(replacement, text)
    return text
