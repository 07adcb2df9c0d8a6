"""Remove what web copies of plan documents carry besides the plan: compiler blurbs, site ads, navigation.

Two kinds of rules, both general patterns rather than the literal strings seen so far:
whole lines that are navigation ("推荐访问:…", "下一篇:…", "责任编辑:…"), and sentences inside a line
that talk about the copy rather than the work ("以下是网友为您整理分享的…", "…供您参考!",
"来自某某,海量优质文字材料…").
"""

from __future__ import annotations

import re

_NAV_LINE = re.compile(
    r"^(推荐(访问|阅读|文章|下载)|相关(推荐|阅读|文章|范文|搜索|链接)|热门(推荐|文章|阅读)|猜你喜欢|"
    r"上一篇|下一篇|上一页|下一页|本文(链接|地址|标签)|原文(链接|地址)|文章来源|来源\s*[::]|"
    r"责任编辑|编辑\s*[::]|(免责)?声明\s*[::]|版权(所有|声明)|扫(码|一扫)|关注(公众号|微信)|"
    r"点击(下载|查看|阅读|进入)|阅读全文|展开全文|返回(顶部|首页|列表)|打印本页|关闭窗口|分享到|"
    r"标签\s*[::]|tags?\s*[::]|copyright|©)",
    re.IGNORECASE,
)

_BLURB = re.compile(
    r"((网友|小编|本站|编辑|笔者)[^。!?]{0,24}(整理|分享|收集|搜集|精选|推荐|编辑)|"
    r"(以下|下面)(是|为)[^。!?]{0,40}(范文|文章|资料|内容|整理|全文)|"
    r"(仅?供|以供)(您|大家|读者|各位)?(参考|借鉴|学习参考)|"
    r"欢迎(阅读|借鉴|下载|收藏|分享|参考)|"
    r"希望(对|能|可以)(您|大家|你)[^。!?]{0,12}(帮助|有所)|"
    r"来自[^,,。]{1,12}[,,]\s*(海量|更多|专业|优质|精品)|"
    r"海量[^。!?]{0,8}(材料|课件|范文|文档)|"
    r"(范文|文档|课件|材料)(下载|网|大全)|"
    r"本文(由|来自|转载|系|首发)|"
    r"更多[^。!?]{0,12}(请访问|尽在|敬请关注|请关注))"
)

_SENTENCE = re.compile(r"[^。!?]+[。!?]*|[。!?]+")


def is_navigation(line: str) -> bool:
    """A whole line of site navigation or copy credits."""
    return bool(_NAV_LINE.match(line.strip()))


def strip_blurbs(line: str) -> str:
    """The line without sentences that describe the web copy instead of the plan."""
    if not _BLURB.search(line):
        return line
    kept = [s for s in _SENTENCE.findall(line) if not _BLURB.search(s)]
    return "".join(kept).strip()


def clean_lines(lines: list[str]) -> tuple[list[str], int]:
    """Cleaned non-empty lines and how many lines or sentences were dropped."""
    out: list[str] = []
    dropped = 0
    for line in lines:
        if is_navigation(line):
            dropped += 1
            continue
        cleaned = strip_blurbs(line)
        if cleaned != line:
            dropped += 1
        if cleaned:
            out.append(cleaned)
    return out, dropped
