"""The synonym table: how liaisons say it (一年, 村里, 咋) versus how the plans write it (全年, 村居, 怎么).

Built-in defaults below are general colloquial/official equivalents; the office adds its own in
config.yaml under `knowledge.synonyms` (word -> list of equivalents), merged on top. Each entry makes
its words mutual equivalents (one hop, not a transitive closure, so 村 ~ 社区 does not drag in
everything else that 社区 is like).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from knowledge.normalize import index_text

COLLOQUIAL = Path(__file__).resolve().parent / "lexicon" / "colloquial.txt"
SYNONYM_FACTOR = 0.9  # an entry of the built-in or the office's table
COLLOQUIAL_FACTOR = 0.75  # an everyday paraphrase from lexicon/colloquial.txt: looser, so it counts less


@lru_cache(maxsize=1)
def colloquial_entries() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """lexicon/colloquial.txt: `official: everyday everyday …` per line, '#' starts a comment."""
    entries = []
    for line in COLLOQUIAL.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, _, rest = line.partition(":")
        entries.append((key.strip(), tuple(rest.split())))
    return tuple(entries)

DEFAULT_SYNONYMS: dict[str, list[str]] = {
    # time and frequency
    "全年": ["一年", "每年", "年度", "一整年"],
    "每月": ["每个月", "一个月", "月度", "按月"],
    "每季度": ["每个季度", "一个季度", "一季度", "季度", "按季度"],
    "年初": ["年头", "开年"],
    "年终": ["年底", "年末"],
    "不少于": ["至少", "最少", "起码", "不低于"],
    "几次": ["不少于", "至少", "次数", "多少次", "几回", "几遍", "多少回"],
    "几篇": ["不少于", "至少", "篇数", "多少篇"],
    "次": ["回", "趟", "遍"],
    "定期": ["经常", "按时"],
    "多久": ["每月", "每季度", "全年", "每年", "每周", "定期", "多长时间", "多少天"],
    # places and people
    "村居": ["村里", "社区", "村", "村委会", "居委会", "村委"],
    "联络员": ["信息员", "网格员"],
    "工作人员": ["干部", "同志", "专人", "专职人员"],
    "分管": ["负责", "主管", "牵头", "管"],
    "民营企业家": ["老板", "企业主", "企业家"],
    "民营经济人士": ["民营企业家", "企业家", "民营企业主"],
    "民营企业": ["私企", "民企", "私营企业"],
    "民营经济": ["非公经济", "非公有制经济", "私营经济"],
    "留学归国人员": ["留学回国人员", "海归", "留学回来的人", "归国留学人员"],
    "归侨侨眷": ["侨眷", "侨属", "归侨", "华侨家属"],
    "台胞台属": ["台胞", "台属", "台湾同胞"],
    "新的社会阶层": ["新阶层", "新社会阶层"],
    "宗教活动场所": ["寺庙", "教堂", "清真寺", "庙宇", "宗教场所"],
    "统一战线": ["统战"],
    "民主党派": ["党派", "民革", "民盟", "民建", "民进", "农工党", "致公党", "九三学社", "台盟"],
    "党外人士": ["非党员", "民主人士", "党外朋友"],
    "工商联": ["工商业联合会"],
    "网络人士": ["网红", "主播", "博主", "网络大v"],
    "知识分子": ["专家", "学者"],
    "华侨": ["侨胞", "海外华人"],
    "党工委": ["党委", "街道党委"],
    # actions
    "报送": ["报", "上报", "交", "提交", "报给"],
    "开展": ["搞", "办", "举办", "组织"],
    "建立": ["建", "成立", "搭建", "组建"],
    "制定": ["定", "出台", "订", "制订"],
    "纳入": ["放进", "列入", "放入", "加入", "纳进", "放到", "写进"],
    "议程": ["日程"],
    "研究": ["讨论", "商量", "研讨"],
    "会议": ["开会", "例会"],
    "培训": ["轮训", "学习班", "培训班", "上课"],
    "宣讲": ["讲座", "宣讲会"],
    "总结": ["小结"],
    "考评": ["考核", "评比", "打分"],
    "督查": ["督导", "巡查"],
    "信息": ["稿件", "稿子", "简报"],
    "示范点": ["示范基地", "样板", "典型"],
    "领导小组": ["工作小组"],
    "学习": ["学"],
    "慰问": ["看望", "探望"],
    "治理": ["整治", "整顿"],
    "排查": ["摸排", "摸底", "检查"],
    "宣传": ["宣讲", "宣传教育"],
    "处置": ["处理", "应对"],
    "掌握": ["摸清", "了解", "摸底", "熟悉", "知道"],
    "落实": ["执行", "实行", "做到"],
    "完善": ["健全", "改进", "优化"],
    "推动": ["推进", "促进"],
    "协助": ["配合", "协同", "帮助"],
    "化解": ["解决", "消除"],
    "调研": ["调查", "考察"],
    "走访": ["上门", "入户", "拜访"],
    "交流": ["沟通", "往来"],
    "联系": ["联络", "对接"],
    "召开": ["举行"],
    "打造": ["创建", "建成"],
    "群众": ["老百姓", "居民", "村民"],
    "困难": ["难处", "难题"],
    "街道": ["乡镇", "镇街", "镇里"],
    "制度": ["机制", "办法"],
    "境外": ["国外", "海外"],
    "归国": ["回国"],
    "年轻干部": ["青年干部"],
    "安全隐患": ["隐患", "安全问题"],
    "消防": ["防火"],
    "动态": ["情况", "状况", "近况"],
    # things
    "信息库": ["数据库", "人才库", "资料库", "台账", "名册"],
    "方案": ["计划", "预案"],
    "责任状": ["责任书"],
    "突发事件": ["突发情况", "紧急情况"],
    "矛盾纠纷": ["纠纷", "矛盾"],
    # question words
    "怎么": ["咋", "怎样", "如何", "怎么样"],
    "什么": ["啥", "啥子"],
}


class SynonymTable:
    """Equivalents of a word, all in index form (see knowledge.normalize.index_text), each with the
    factor a match through it earns (the best of the entries that make two words equivalent)."""

    def __init__(self, entries: Iterable[tuple[str, Iterable[str]]],
                 loose: Iterable[tuple[str, Iterable[str]]] = ()) -> None:
        weighted: dict[str, dict[str, float]] = {}
        for factor, source in ((SYNONYM_FACTOR, entries), (COLLOQUIAL_FACTOR, loose)):
            for key, values in source:
                group = {index_text(w) for w in [key, *values]} - {""}
                for word in group:
                    mine = weighted.setdefault(word, {})
                    for other in group - {word}:
                        mine[other] = max(mine.get(other, 0.0), factor)
        self._weighted = weighted
        self._neighbours = {w: frozenset(alts) for w, alts in weighted.items()}
        self.phrases = frozenset(w for w in self._neighbours if len(w) >= 2)
        self.max_phrase_len = max((len(p) for p in self.phrases), default=0)

    @classmethod
    def build(cls, extra: Mapping[str, Iterable[str]] | None = None, defaults: bool = True) -> SynonymTable:
        """Built-in defaults (unless `defaults` is False) merged with the office's own table."""
        entries: list[tuple[str, Iterable[str]]] = list(DEFAULT_SYNONYMS.items()) if defaults else []
        for key, values in (extra or {}).items():
            if isinstance(values, str):
                values = [values]
            entries.append((str(key), [str(v) for v in values or []]))
        return cls(entries, colloquial_entries() if defaults else ())

    def alternatives(self, word: str) -> frozenset[str]:
        """Equivalents of `word` (index form), not including the word itself."""
        return self._neighbours.get(word, frozenset())

    def factor(self, word: str, alternative: str) -> float:
        """The factor of a match of `word` through `alternative` (0 when they are not equivalent)."""
        return self._weighted.get(word, {}).get(alternative, 0.0)

    def __contains__(self, word: object) -> bool:
        return word in self._neighbours

    def __len__(self) -> int:
        return len(self._neighbours)
