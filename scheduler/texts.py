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

# Reminder cards (one per task) and their buttons; the text twin lists the buttons as replies to type.
CARD_TITLE = "任务提醒：{title}"
CARD_TEXT = "【统战助手提醒】{title}：已完成 {done}/{target}，还差{missing}，截止 {due}（{left}）。"
CARD_FIELD_DONE = "已完成"
CARD_FIELD_LEFT = "剩余"
CARD_FIELD_DUE = "截止"
CARD_DONE_VALUE = "{done}/{target}"
BUTTON_PROGRESS = "查看我的进度"
BUTTON_HOW = "怎么报送"
BUTTON_SNOOZE = "明天再提醒"
COMMAND_PROGRESS = "进度"
COMMAND_HOW = "怎么报送 {task_id}"
COMMAND_SNOOZE = "明天再提醒 {task_id}"

# 怎么报送 / 明天再提醒 replies.
HOW_EXAMPLE = ("「{title}」这样报送：直接回复一句话，如\n"
               "「报送 今天在{village}开展{title}，30人参加」\n"
               "日期、地点、活动内容、人数写清楚即可，可再发现场照片。本期还差{missing}。")
HOW_GENERIC = HOW_TO_REPORT
HOW_VILLAGE_DEFAULT = "村里"
SNOOZED = "好的，{when}再提醒您「{title}」（截止 {due}）。"
SNOOZE_ALREADY = "「{title}」这一轮已经推迟过一次了，{when}会再提醒您。"
SNOOZE_USED = "「{title}」这一轮已经推迟过一次了。"
SNOOZE_NONE = "「{title}」目前没有待处理的提醒，不需要推迟。"
SNOOZE_TOO_LATE = "「{title}」{due}就截止了，来不及推迟到明天，请尽快报送。"
SNOOZE_DONE = "「{title}」本期已完成，不需要再提醒。"
TASK_UNKNOWN = "没有找到这项任务，回复「进度」查看您的任务。"
WHEN_FMT = "{m}月{d}日 {hh:02d}:{mm:02d}"
