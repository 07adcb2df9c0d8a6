"""Reply text -> the plain passive-reply XML, and its encrypted envelope. Pure apart from the crypto.

wechatpy's StringField writes `<![CDATA[{value}]]>` without escaping, so a reply containing
"]]>" (e.g. echoing the user's text) would inject XML; here "]]>" is split across two CDATA
sections and characters XML 1.0 forbids are dropped.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from bot.wecom.texts import REPLY_TRUNCATED
from bot.wecom.textsplit import TEXT_LIMIT_BYTES, truncate_bytes

if TYPE_CHECKING:
    from bot.wecom.crypto import CallbackCrypto

log = logging.getLogger(__name__)

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TEMPLATE = (
    "<xml><ToUserName>{to}</ToUserName><FromUserName>{frm}</FromUserName>"
    "<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content>{content}</Content>{agent}</xml>"
)


def cdata(value: str) -> str:
    """`value` as CDATA, safe for any text (handles "]]>" and illegal control characters)."""
    clean = _XML_ILLEGAL.sub("", value)
    return "<![CDATA[" + clean.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def fit_reply(text: str, limit: int = TEXT_LIMIT_BYTES) -> str:
    """The reply cut to WeCom's text limit, with a note when cut (long answers belong in the send API)."""
    fitted = truncate_bytes(text, limit, REPLY_TRUNCATED)
    if fitted is not text:
        log.warning("passive reply of %d bytes truncated to %d", len(text.encode("utf-8")), limit)
    return fitted


def render_text_reply(to_user: str, corp_id: str, content: str, create_time: int,
                      agent_id: str | None = None) -> str:
    """The plain (unencrypted) passive text reply XML."""
    agent = f"<AgentID>{int(agent_id)}</AgentID>" if agent_id and agent_id.isdigit() else ""
    return _TEMPLATE.format(
        to=cdata(to_user), frm=cdata(corp_id), ts=int(create_time), content=cdata(fit_reply(content)), agent=agent
    )


def encrypted_text_reply(crypto: CallbackCrypto, to_user: str, content: str, create_time: int,
                         agent_id: str | None = None, nonce: str | None = None) -> str:
    """The encrypted, signed envelope for a passive text reply."""
    plain = render_text_reply(to_user, crypto.corp_id, content, create_time, agent_id)
    return crypto.encrypt_reply(plain, nonce=nonce, timestamp=create_time)
