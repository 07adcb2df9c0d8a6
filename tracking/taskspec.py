"""One task as tasks.yaml holds it, and the keywords that file a report under it.

A task read from a plan starts as `status: proposed` (listed with its source clause, never
reminded); the office makes it `active` (`tasks approve`, the admin pages) or `inactive`.
`deadline_day` is the day of the period's last month by which the count is due (null: the
period's end); `source.file` names the plan file it came from, so removing that file can retire
its proposals.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

STATUSES = ("proposed", "active", "inactive")
AUDIENCES = ("liaisons", "office", "other")
STOPWORDS = {"工作", "类", "或", "和", "及", "的", "有", "会议", "信息", "召开", "组织", "参加", "开展", "专题", "研究"}
RELATED = {"总结": ["做法", "经验"], "经验总结": ["经验", "总结", "做法"], "亮点": ["典型", "创新", "品牌"],
           "培训": ["授课", "培训班"], "研讨": ["研判", "分析会"], "计划": ["方案", "年度计划"], "学习": ["专题学习", "学习会"]}
# A "工作动态" report is any activity a liaison did; these words make it the natural match.
ACTIVITY_WORDS = ["活动", "开展", "组织", "举办", "宣讲", "宣传", "走访", "慰问", "座谈", "调研", "联谊",
                  "志愿", "服务", "动态", "讲座", "参观", "交流", "节日", "会议", "召开", "检查", "排查",
                  "培训", "学习", "庆祝", "文艺", "演出", "比赛", "竞赛", "义诊", "帮扶", "入户", "联欢", "晚会"]


@dataclass
class TaskSpec:
    """One task as written in tasks.yaml."""

    key: str
    title: str
    cadence: str
    target: int
    audience: str = "liaisons"
    keywords: list[str] = field(default_factory=list)
    due_date: date | None = None
    audience_filter: dict[str, list[str]] = field(default_factory=dict)
    reminder_stages: list[dict[str, Any]] | None = None
    status: str = "active"
    source_doc: str = ""
    source_section: str = ""
    source_text: str = ""
    deadline_day: int | None = None
    source_file: str = ""

    @property
    def active(self) -> bool:
        """Reminded and counted: only an approved task that was not switched off."""
        return self.status == "active"

    def to_yaml(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "title": self.title, "cadence": self.cadence,
                               "target": self.target, "audience": self.audience}
        if self.due_date:
            out["due_date"] = self.due_date.isoformat()
        if self.deadline_day is not None:
            out["deadline_day"] = self.deadline_day
        out["keywords"] = list(self.keywords)
        if self.audience_filter:
            out["audience_filter"] = self.audience_filter
        out["reminder_stages"] = self.reminder_stages
        out["status"] = self.status
        source = {"doc": self.source_doc, "section": self.source_section, "clause": self.source_text}
        if self.source_file:
            source["file"] = self.source_file
        out["source"] = source
        return out

    def row(self) -> dict[str, Any]:
        """The INTERFACE.md row of `tasks extract --json` / `tasks list --json`."""
        return {"key": self.key, "title": self.title, "cadence": self.cadence, "target": self.target,
                "deadline_day": self.deadline_day,
                "due_date": self.due_date.isoformat() if self.due_date else None,
                "audience": self.audience, "status": self.status,
                "source": {"doc": self.source_doc, "file": self.source_file, "section": self.source_section,
                           "clause": self.source_text}}


def keywords_for(title: str) -> list[str]:
    """Words that file a report under the task: the title's words, related words, and for a
    "动态" task every common activity word."""
    import jieba  # slow to load; only the extractor needs it

    jieba.setLogLevel(logging.WARNING)  # its dictionary chatter is not the office's business

    words: list[str] = []
    for w in jieba.lcut(title):
        if len(w) >= 2 and w not in STOPWORDS and w not in words:
            words.append(w)
        for extra in RELATED.get(w, []):
            if extra not in words:
                words.append(extra)
    if "动态" in title:
        words += [w for w in ACTIVITY_WORDS if w not in words]
    if title.startswith("研究") and "研究" not in words:
        words.append("研究")
    return words
