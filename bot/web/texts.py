"""What the platform's own HTTP endpoints say to people (Chinese first)."""

from __future__ import annotations

METRICS_DISABLED = "未设置 metrics_token 或 BOT_ADMIN_PASSWORD，/metrics 已关闭。"
METRICS_LOGIN = "需要 metrics_token（Authorization: Bearer …）或管理密码。"
