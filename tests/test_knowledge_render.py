"""Phone replies: clause + source, numbered runners-up, 2048-byte limit, declines with topics."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from knowledge.render import MAX_REPLY_BYTES, preview, render_answer, render_decline, render_hit, utf8_len
from knowledge.retriever import Hit, SearchResult


def hit(text: str, score: float, section: str = "五、宗教工作 > (三)着力提高宗教事务法治化管理水平") -> Hit:
    return Hit(text=text, doc="乡镇街道2024年统战工作要点", section=section, score=score, clause_id="000.txt#1")


def test_answer_shows_clause_source_and_feedback_hint() -> None:
    result = SearchResult("宗教信息员培训几次", True, [hit("5.组织宗教三级网络信息员参加宗教工作专题培训,全年不少于4次。", 0.9)], [])
    reply, choices = render_answer(result)
    assert reply.startswith("5.组织宗教三级网络信息员参加宗教工作专题培训,全年不少于4次。\n")
    assert "出处：《乡镇街道2024年统战工作要点》 五、宗教工作 > (三)着力提高宗教事务法治化管理水平" in reply
    assert "有用" in reply and "回复数字" not in reply
    assert choices == []


def test_close_runners_up_are_numbered_and_distant_ones_left_out() -> None:
    hits = [hit("2.党工委全年研究民族工作不少于两次。", 0.80), hit("3.落实民族工作责任制,与各村居签订责任状。", 0.74),
            hit("(八)做好督查检查工作。", 0.55)]
    reply, choices = render_answer(SearchResult("民族工作", True, hits, []))
    assert "回复数字查看" in reply
    assert "2. 落实民族工作责任制,与各村居签订责任状。" in reply  # numbering of the clause itself dropped
    assert "督查" not in reply
    assert choices == hits[:2]


def test_decline_lists_topics() -> None:
    text = render_decline(SearchResult("天气", False, [], ["民族工作", "宗教工作"]))
    assert text.startswith("没有找到相关规定") and "民族工作、宗教工作" in text
    assert "没有找到相关规定" in render_decline(SearchResult("天气", False, [], []))


def test_preview_is_short_and_drops_numbering() -> None:
    assert preview("(二)建立统战工作领导小组。明确领导分管,统战委员、统战干事、统战信息员到位。") == \
        "建立统战工作领导小组。明确领导分管,统战委员、统战…"


@given(st.text(alphabet="统战工作要点民族宗教，。abc123", min_size=1, max_size=3000),
       st.text(alphabet="统战工作要点 >", max_size=300))
def test_every_reply_fits_2048_bytes(text: str, section: str) -> None:
    big = hit(text, 0.9, section=section)
    others = [(i, hit(text, 0.85)) for i in range(2, 4)]
    reply = render_hit(big, others)
    assert utf8_len(reply) <= MAX_REPLY_BYTES
    assert "出处" in reply  # the source line is never the part that is cut
