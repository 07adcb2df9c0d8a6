"""User-facing words of reminders and office summaries (Chinese), in one place for review."""

REMINDER_HEAD = "【统战助手提醒】您有{n}项任务本期还未完成："
REMINDER_LINE = "{i}. {title}：已完成 {done}/{target}，还差{missing}，截止 {due}（{left}）"
DAYS_LEFT = "还剩{days}天"
LAST_DAY = "今天截止"
HOW_TO_REPORT = "报送方法：直接回复「报送 日期 地点 活动内容 人数」，如「报送 昨天在红山村开展民族团结宣讲，40人参加」。"
SEE_PROGRESS = "回复「进度」可随时查看各项任务完成情况。"

ESCALATION_HEAD = "【统战助手】上期任务未完成情况（{when}）"
ESCALATION_TASK = "■ {title}（{period}，目标 {target}，截止 {due}）：{behind}人未完成"
ESCALATION_VILLAGE = "  {village}：{people}"
ESCALATION_PERSON = "{name}{done}/{target}"
ESCALATION_NO_VILLAGE = "未填村居"
ESCALATION_MORE = "……另有{n}人未列出，完整名单请在管理后台「进度总览」查看或导出报送记录。"

UNDELIVERED_HEAD = "【统战助手】以下人员的任务提醒未能送达，请核对企业微信通讯录和花名册："
UNDELIVERED_LINE = "· {name}（{village}，账号 {userid}）：{reason}"
UNDELIVERED_INVALID = "企业微信账号无效或不在应用可见范围"
UNDELIVERED_INACTIVE = "已不在花名册"
UNDELIVERED_FAILED = "多次发送失败（{error}）"
UNDELIVERED_MORE = "……另有{n}人，详见服务日志。"

DATE_FMT = "{m}月{d}日"
