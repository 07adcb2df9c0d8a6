"""User-facing words of the WeCom transport (Chinese), kept in one place for review."""

# Appended when a passive reply had to be cut to WeCom's 2048-byte limit.
REPLY_TRUNCATED = "…（内容过长，未完整显示）"

# Template cards (bot/wecom/cards.py).
CARD_SOURCE = "统战助手"
CARD_DEFAULT_TITLE = "统战助手"
# The greyed button a card shows once a button was tapped, by the tapped button's label; others get CARD_DONE.
CARD_DONE_BY_LABEL = {
    "撤回": "已撤回",
    "没问题": "已确认",
    "明天再提醒": "明天再提醒您",
    "确认": "已确认",
    "取消": "已取消",
}
CARD_DONE = "已选：{label}"
# The text twin: a card's buttons as replies a user can type.
TWIN_RULE = "——"
TWIN_BUTTON = "回复「{command}」{label}"
TWIN_BUTTON_SAME = "回复「{command}」"
# When a card's response code is used up or older than 72 hours.
CARD_EXPIRED = "这张卡片已过期，无法更新。{reply}"
