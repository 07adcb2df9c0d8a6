"""User-facing words of the WeCom transport (Chinese), kept in one place for review."""

# Appended when a passive reply had to be cut to WeCom's 2048-byte limit.
REPLY_TRUNCATED = "…（内容过长，未完整显示）"
