"""Remove what copies of plan documents carry besides the plan: page furniture, navigation, site blurbs.

Every rule describes what such a line looks like, never a string of one page:

* navigation: breadcrumbs (short segments joined by > / >> / »), link bars (short items joined by |),
  "上一篇/下一篇/推荐第N篇" lines;
* publishing data: "key: value" runs whose keys are publishing words (发布时间, 来源, 作者, 浏览次数 …),
  also with empty values ("作者:"), contact lines, bare dates, bylines ("(某某)", "name 2012-05-04");
* buttons and counters: short lines made (almost) only of site-action words (分享, 打印, 收藏, 评论,
  字体 大 中 小, 扫一扫 …) and numbers ("0条评论", "献花(0");
* site data: copyright, ICP/police records, "主办单位/技术支持", site names and welcomes, disclaimers;
* paywalls: "未完/全文共N字/继续阅读/还剩N页" and advertising calls ("…神器! 立即了解");
* page counters of PDFs ("第 1 页 共 2 页", "…_第3页");
* blurbs inside a line: sentences about the copy rather than the work ("以下是网友为您整理…",
  "…供您参考!", "来自某某,海量优质文字材料…").

Lines are judged on their simplified-character form (OpenCC t2s), so a traditional-character page
is cleaned by the same rules; what is kept is the page's own text. `classify_line` says why a line
is furniture (a reason shown in the load report) or None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from knowledge import texts

_NAV_LINE = re.compile(
    r"^(推荐(访问|阅读|文章|下载)|推荐第[\d一二三四五六七八九十]+篇|相关(推荐|阅读|文章|范文|搜索|链接)|"
    r"热门(推荐|文章|阅读)|猜你喜欢|上一篇|下一篇|上一页|下一页|本文(链接|地址|标签)|原文(链接|地址)|"
    r"文章来源|来源\s*[::]|责任编辑|编辑\s*[::]|(免责)?声明\s*[::]|版权(所有|声明|说明)|扫(码|一扫)|"
    r"关注(公众号|微信)|点击(下载|查看|阅读|进入)|阅读全文|展开全文|返回(顶部|首页|列表)|打印本页|关闭窗口|"
    r"分享到|标签\s*[::]|tags?\s*[::]|copyright|©|(当前|您的|你的|所在)?位置\s*[::])",
    re.IGNORECASE,
)
_BREADCRUMB_SEP = re.compile(r"\s*(?:>>|>|»|›|→)\s*")
_BAR_SEP = re.compile(r"\s*[|｜]\s*")
_SENTENCE_MARK = re.compile(r"[。;!?]")

_META_KEYS = (
    "发布时间|发布日期|发布于|发表时间|更新时间|时间|日期|来源|信息来源|文章来源|作者|撰稿|编辑|责任编辑|审核人?|"
    "一审|二审|三审|终审|供稿|摄影|录入|点击(?:数量|数|量|率)?|浏览(?:次数|数|量)?|阅读(?:次数|数|量)?|访问量|"
    "字号|字体|移动端|分类|标签|关键词|关键字|索引号|发文日期|出处|所属栏目|栏目"
)
_META_START = re.compile(rf"^[【\[•·|\s]*(?:\d{{4}}-\d{{2}}-\d{{2}}[\s\d:]*)?(?:{_META_KEYS})\s*[::]")
_CONTACT = re.compile(r"^(联系人|联系电话|电话|传真|邮箱|电子邮箱|邮编|地址|联系方式)\s*[::]")
_DATE_ONLY = re.compile(
    r"^[\s|]*\d{4}\s*[-./年]\s*\d{1,2}\s*[-./月]\s*\d{1,2}\s*日?(\s+\d{1,2}:\d{2}(:\d{2})?)?[\s|]*$")
_BLANK_DATE = re.compile(r"^[年月日\s]+$")
_BYLINE = re.compile(r"^[((][\u4e00-\u9fff]{2,4}[))]$|^\S{1,10}\s+\d{4}-\d{1,2}-\d{1,2}$")
_TRAILING_BYLINE = re.compile(r"(?<=[。!?”])\s*[((][\u4e00-\u9fff]{2,3}[))]$")
_PAGE_COUNTER = re.compile(r"^(第\s*\d+\s*页(\s*[,/]?\s*共\s*\d+\s*页)?|-\s*\d+\s*-|\d+\s*/\s*\d+|.{2,60}_第\d+页)$")
_FORM_FIELD = re.compile(r"^.{0,12}(签名|签字|盖章|签章)[^。]{0,10}[::]?$")
_SITE_DATA = re.compile(r"版权所有|©|copyright|ICP[备证]|公网安备|网安备|技术支持\s*[::]|主办单位\s*[::]|"
                        r"承办单位\s*[::]|许可证\s*[::]|举报电话|违法和不良信息", re.IGNORECASE)
_DISCLAIMER = re.compile(r"(本站|本网)(是|部分|所有|内容|信息|文章|转载)|不代表本(站|网)观点|不承担任何(保证)?责任|"
                         r"一键举报|请注意甄别|联系本(站|网)|由(用户|会员|网友)(提供|上传|分享|发布)")
_SITE_NAME = re.compile(r"(欢迎(访问|光临|来到))|((范文|文库|文档|写作|资料|文秘|公文)(网|站|大全))|"
                        r"((网|网站|门户|官网|频道|文库)[!!]?$)")
_PAYWALL = re.compile(r"未完|全文共\s*\d+\s*字|当前显示\s*\d+\s*字|继续(免费)?阅读|还剩\s*\d+\s*页|已阅读\s*\d+\s*页|"
                      r"立即(了解|下载|购买|开通|查看)|开通会员|VIP|神器|下载本文档|查看全文|阅读全文|付费")
# Words of buttons, counters and link bars; a short line made only of these (and numbers) is furniture.
_ACTION_WORDS = re.compile(
    r"分享到|分享|打印(本页|正文|文章)?|关闭(窗口|本页)?|收藏(本文|本页)?|下载(本文档|本文)?|手机版|转藏|献花|"
    r"发表(评论)?|条评论|评论(公约)?|请遵守用户|点赞|举报|字体|字号|[大中小](\s+[大中小])+|默认|"
    r"扫一扫|在手机(上)?打开当前页|用户登录|登录|立即注册|注册|账号|密码|还没有账号|友情链接|关于我们|联系我们|"
    r"网站地图|法律声明|法律顾问|版权声明|隐私政策|返回顶部|上一篇|下一篇|类似文章|相关文章|相关阅读|更多|"
    r"编者按|文档简介|推广|微信|微博|朋友圈|APP下载|打开APP|浏览量|点击量|阅读量|次数|阅读|浏览|点击|顶部",
    re.IGNORECASE,
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_FILLER = re.compile(r"[\s::()()【】\[\]|·•+?!!\d次人]+")
_SHORT = 24

_BLURB = re.compile(
    r"((网友|小编|本站|编辑|笔者)[^。!?]{0,24}(整理|分享|收集|搜集|精选|推荐|编辑)|"
    r"(以下|下面)(是|为)[^。!?]{0,40}(范文|文章|资料|内容|整理|全文)|"
    r"(仅?供|以供)(您|大家|读者|各位)?(参考|借鉴|学习参考)|"
    r"欢迎(阅读|借鉴|下载|收藏|分享|参考)|"
    r"希望(对|能|可以)(您|大家|你)[^。!?]{0,12}(帮助|有所)|"
    r"(为您|为你|为大家)(提供|整理|精选|推荐)|"
    r"来自[^,,。]{1,12}[,,]\s*(海量|更多|专业|优质|精品)|"
    r"海量[^。!?]{0,8}(材料|课件|范文|文档)|"
    r"(范文|文档|课件|材料)(下载|网|大全)|"
    r"可在线阅读|由会员分享|"
    r"本文(由|来自|转载|系|首发)|"
    r"更多[^。!?]{0,12}(请访问|尽在|敬请关注|请关注))"
)
_SENTENCE = re.compile(r"[^。!?]+[。!?]*|[。!?]+")


@dataclass(frozen=True)
class Dropped:
    """A line (or part of one) left out of the plan, and why (a phrase from texts.py)."""

    text: str
    reason: str


@lru_cache(maxsize=1)
def _t2s():  # noqa: ANN202 - opencc has no type hints
    import opencc  # pinned; the tables ship inside the wheel

    return opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """The simplified-character form of `text`, for judging it (never for showing it)."""
    if not text or text.isascii():
        return text
    return _t2s().convert(text)


def tidy(line: str) -> str:
    """A line without table-drawing pipes at its ends ("标题 | ||||" -> "标题")."""
    return re.sub(r"^[\s|｜]+|[\s|｜]+$", "", line) if "|" in line or "｜" in line else line


def _is_breadcrumb(line: str) -> bool:
    parts = [p for p in _BREADCRUMB_SEP.split(line) if p]
    if len(parts) < 2 or _SENTENCE_MARK.search(line) or line.count(">") + line.count("»") + line.count("›") < 1:
        return False
    return len(line) <= 80 and sum(len(p) for p in parts) / len(parts) <= 16


def _is_link_bar(line: str) -> bool:
    parts = [p for p in _BAR_SEP.split(line) if p]
    return len(parts) >= 3 and all(len(p) <= 8 for p in parts) and not _SENTENCE_MARK.search(line)


def _only_action_words(line: str) -> bool:
    if len(line) > _SHORT:
        return False
    rest = _ACTION_WORDS.sub("", line)
    return len(_CJK.findall(rest)) <= 1 and len(_FILLER.sub("", rest)) <= 2


def classify_line(line: str) -> str | None:
    """Why `line` (display form) is page furniture, or None when it is plan text."""
    text = fold(line.strip())
    if not text:
        return None
    short = len(text) <= 60 and not _SENTENCE_MARK.search(text[:-1])
    if _PAGE_COUNTER.match(text):
        return texts.DROP_PAGE
    if _DATE_ONLY.match(text) or _BLANK_DATE.match(text):
        return texts.DROP_DATE
    if not _CJK.search(text) and len(text) <= 40 and not re.search(r"[A-Za-z]{4,}", text):
        return texts.DROP_FRAGMENT
    if _BYLINE.match(text):
        return texts.DROP_BYLINE
    if _META_START.match(text) and (short or len(text) <= 120):
        return texts.DROP_META
    if _CONTACT.match(text) and len(text) <= 60:
        return texts.DROP_CONTACT
    if _NAV_LINE.match(text) or _is_breadcrumb(text) or _is_link_bar(text):
        return texts.DROP_NAV
    if _only_action_words(text):
        return texts.DROP_BUTTONS
    if _SITE_DATA.search(text) and len(text) <= 160:
        return texts.DROP_SITE
    if _DISCLAIMER.search(text) and len(text) <= 200:
        return texts.DROP_DISCLAIMER
    if short and len(text) <= 40 and _SITE_NAME.search(text):
        return texts.DROP_SITE
    if len(text) <= 40 and _PAYWALL.search(text):
        return texts.DROP_PAYWALL
    if _FORM_FIELD.match(text):
        return texts.DROP_FORM
    return None


def is_navigation(line: str) -> bool:
    """A whole line of site navigation or copy credits."""
    return bool(_NAV_LINE.match(line.strip()))


def strip_blurbs(line: str) -> str:
    """The line without sentences that describe the web copy instead of the plan."""
    if not _BLURB.search(fold(line)):
        return line
    kept = [s for s in _SENTENCE.findall(line) if not _BLURB.search(fold(s))]
    return "".join(kept).strip()


def clean_line(line: str) -> tuple[str, list[Dropped]]:
    """The plan text of one display line ("" when it is all furniture) and what was dropped from it."""
    line = tidy(line)
    reason = classify_line(line)
    if reason is not None:
        return "", [Dropped(line, reason)]
    dropped: list[Dropped] = []
    cleaned = strip_blurbs(line)
    if cleaned != line:
        dropped.append(Dropped(line, texts.DROP_BLURB))
    tail = _TRAILING_BYLINE.search(cleaned)
    if tail:
        dropped.append(Dropped(tail.group(0).strip(), texts.DROP_BYLINE))
        cleaned = cleaned[: tail.start()].rstrip()
    if cleaned and classify_line(cleaned) is not None:  # what is left of a blurb line is a fragment
        dropped.append(Dropped(cleaned, classify_line(cleaned) or texts.DROP_FRAGMENT))
        cleaned = ""
    return cleaned, dropped


def clean_lines(lines: list[str]) -> tuple[list[str], int]:
    """Cleaned non-empty lines and how many lines or sentences were dropped."""
    out: list[str] = []
    dropped = 0
    for line in lines:
        cleaned, gone = clean_line(line)
        dropped += len(gone)
        if cleaned:
            out.append(cleaned)
    return out, dropped
