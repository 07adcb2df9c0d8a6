"""Every Chinese word the reports, roster and progress features show a user or an office operator."""

WEEKDAY_NAMES = "一二三四五六日"

NOT_ON_ROSTER = (
    "您还不在统战助手的联络员名册中，暂时不能报送。\n"
    "请联系街道统战办，把您的企业微信账号（{userid}）加入名册后再试。"
)
ROSTER_INACTIVE = (
    "您的账号（{userid}）在名册中已停用，暂时不能报送。如需恢复，请联系街道统战办。"
)

REPORT_USAGE = (
    "请用一两句话描述活动，例如：\n"
    "「报送 昨天在红山郡社区开展民族团结宣讲，40人参加」\n"
    "可写明日期、人数、村居；用「#任务名」指定任务，如「#动态信息」。"
)
ASK_ACTIVITY = "请简单说一下开展了什么活动（如「在社区开展民族团结宣讲，40人参加」）。回复「取消」放弃本次报送。"
ASK_FUTURE_DATE = (
    "您写的活动日期是{date}，还没到，这是活动计划吗？\n"
    "是计划请回复「是」（计划先不计入任务，活动开展后再报送即可）；日期写错了请直接发正确日期（如「{example}」）。"
)
PLAN_NOTED = "好的，这是{date}的活动计划，先不计入任务。活动开展后再发一条报送即可计入。"
ASK_RECORD = "要记为一条报送吗？回复「是」记录，回复「不是」忽略。\n{preview}"
RECORD_DROPPED = "好的，不记录。"
ASK_WHICH_DAY = "这条活动是哪一天开展的？请回复日期（如「{example}」），回复「取消」放弃。\n{preview}"
ASK_DAY_AGAIN = "没看懂这个日期，请写成「{example}」「昨天」这样的形式，或回复「取消」放弃。"
ASK_DUPLICATE = "这条和报送 {id}（{date} {activity}）一样，是重复发送吗？\n是重复请回复「是」（不再记录）；是另一次活动请回复「不是」。"
DUPLICATE_DROPPED = "好的，不重复记录。报送 {id} 仍然有效。"
PENDING_STILL = "（您刚才的报送还没完成：{question}）"
PENDING_REPLACED = "（上一条未完成的报送已放弃。）"
OLD_PERIOD_NOTE = "活动在{day}，计入{period}。"
OK_NOTED = "好的 👌"
ASK_TASK = "这条报送算哪项任务？请回复编号：\n{choices}\n0. 都不是（不计入任务）"
ASK_TASK_AGAIN = "没看懂您选的编号，请回复 0 到 {n} 之间的数字（或「任务 编号」），或回复「取消」放弃。"
ASK_DATE_AGAIN = "没看懂这个日期，请回复「是」确认{date}，或发正确日期（如「{example}」）。"

CONFIRM_TITLE = "已记录，报送编号 {id}"
CONFIRM = (
    "✅ 已记录，报送编号 {id}\n"
    "日期：{date}\n"
    "人数：{participants}\n"
    "村居：{village}\n"
    "任务：{task}\n"
    "内容：{activity}"
)
CONFIRM_PROGRESS = "{period}{title} {done}/{target}{tail}"
PROGRESS_DONE_TAIL = "，已完成 👍"
PROGRESS_LEFT_TAIL = "，还差{left}"
CONFIRM_FOOTER = "10分钟内发照片会附在这条报送上；有误请回复「修改 {id} 人数 45」之类，或「撤回 {id}」。"
NO_PARTICIPANTS = "未写（可回复「修改 {id} 人数 N」补上）"
NO_TASK = "未归入任务（可回复「修改 {id} 任务 #任务名」）"
DUPLICATE_NOTE = "（这条消息之前已记录，不会重复计数）"

SPOOLED = (
    "系统数据库暂时连不上，您的报送已暂存在本机，恢复后会自动记录，"
    "届时会发消息告诉您报送编号，无需重发。"
)
SPOOL_DRAINED = "您之前暂存的报送已记录，编号 {id}：{date} {activity}"
DB_DOWN = "系统数据库暂时连不上，请过几分钟再试。"

WITHDRAWN = "已撤回报送 {id}（{date} {activity}）。{progress}\n撤错了可在一天内回复「恢复 {id}」。"
WITHDRAW_ASK = "撤回 {id}？（{date} {activity}）回复「是」确认，回复「不是」保留。"
WITHDRAW_KEPT = "好的，报送 {id} 保留不变。"
RESTORED = "已恢复报送 {id}（{date} {activity}）。{progress}"
RESTORE_NONE = "您没有一天内撤回的报送可以恢复。"
RESTORE_TOO_LATE = "报送 {id} 撤回已超过一天，不能恢复，请重新报送。"
RESTORE_NOT_WITHDRAWN = "报送 {id} 没有撤回，无需恢复。"
OWNER_WITHDRAWN = "您的报送 {id}（{date} {activity}）已由{who}撤回。如有疑问请联系街道统战办。"
OWNER_MODIFIED = "您的报送 {id} 已由{who}修改：{field} {old} → {new}。"
OWNER_RESTORED = "您的报送 {id}（{date} {activity}）已由{who}恢复。"
MODIFY_BAD_VILLAGE = "「{value}」不在名册的村居中。可选村居：{villages}"
WITHDRAW_NONE = "您还没有可撤回的报送。"
ALREADY_WITHDRAWN = "报送 {id} 已经撤回过了。"
NOT_FOUND = "没有找到编号为 {id} 的报送。回复「我的报送」查看您的报送编号。"
NOT_YOURS = "报送 {id} 不是您提交的，不能操作。"

MODIFY_USAGE = (
    "修改格式：「修改 编号 项目 新值」，项目可以是 日期、人数、任务、内容、村居。例如：\n"
    "修改 12 日期 3月6日\n修改 12 人数 45\n修改 12 任务 #动态信息\n不写编号则修改最近一条。"
)
MODIFY_BAD_DATE = "没看懂日期「{value}」，请写成「3月6日」「昨天」这样的形式。"
MODIFY_FUTURE_DATE = "活动日期{date}还没到，不能改成未来的日期。"
MODIFY_BAD_NUMBER = "没看懂人数「{value}」，请写数字，如「修改 {id} 人数 45」。"
MODIFY_BAD_TASK = "没找到任务「{value}」。可选任务：\n{choices}"
MODIFY_WITHDRAWN = "报送 {id} 已撤回，不能再修改。"
MODIFIED = "已修改报送 {id}：{field} {old} → {new}。{progress}"
FIELD_NAMES = {"activity_date": "日期", "participants": "人数", "task": "任务", "activity": "内容",
               "village": "村居"}

MY_REPORTS_EMPTY = "您还没有报送记录。以「报送」开头发一句话即可，如「报送 今天在社区开展宣讲，30人参加」。"
MY_REPORTS_HEAD = "您最近的报送（共{total}条，显示最近{n}条）："
ALL_REPORTS_HEAD = "全部报送（共{total}条，显示最近{n}条）："
REPORT_LINE = "{id}. {date} {village} {activity}{participants}｜{task}{photos}{status}"
REPORT_WITHDRAWN_MARK = "（已撤回）"
REPORT_PHOTOS = " 📷{n}"
REPORTS_FOOTER = "撤回：「撤回 编号」；修改：「修改 编号 人数 45」。"

PHOTO_ATTACHED = "照片已附在报送 {id}（{activity}）上，共{n}张。"
PHOTO_HELD = "照片已收到，完成当前报送后会附在上面。"
PHOTO_NO_REPORT = (
    "收到照片，但10分钟内没有找到您的报送，不知道该附在哪条上。\n"
    "请先发文字报送（以「报送」开头），再在10分钟内发照片。"
)
PHOTO_DUPLICATE = "这张照片已经附在报送 {id} 上了。"
PHOTO_FAILED_LATER = "照片暂时没取到，系统会自动重试。"

PROGRESS_HEAD = "{name}（{village}）本期任务进度："
PROGRESS_LINE = "{i}. {title}：{period} {done}/{target}，截止{due}{tail}"
PROGRESS_EMPTY = "目前没有分配给您的任务。"
PROGRESS_OFFICE_HEAD = "各村居完成情况："
PROGRESS_OFFICE_LINE = "· {title}（{period}）：{complete}/{people}人已完成"
PROGRESS_FOOTER = "以「报送」开头发一句话即可计入，如「报送 今天开展宣讲 #动态信息」。"

PERIOD_LABEL_CURRENT = {"weekly": "本周", "semimonthly": "本半月", "monthly": "本月", "quarterly": "本季度",
                        "half-yearly": "本半年", "yearly": "本年度", "once": ""}
UNKNOWN = "未填"

# ---- command line (office operators read these too)
CLI_ROSTER_SUMMARY = "读取 {rows} 人：新增 {created}，更新 {updated}，未变 {unchanged}，出错 {errors} 行"
CLI_ROSTER_REACTIVATED = "重新启用：{who}"
CLI_ROSTER_ROW_ERROR = "第{row}行：{reason}"
CLI_ROSTER_NOT_IN_FILE = "不在文件中（保持原状，未停用）{n} 人："
CLI_ROSTER_NOTHING = "没有读到任何人员"
CLI_EXPORTED = "已导出 {n} 条报送到 {path}"
CLI_TASKS_SYNCED = "任务清单：{path}（{n} 项）"
CLI_TASKS_PROPOSED = "任务清单：{path}（共 {n} 项；新增待确认 {added} 项，撤下待确认 {retired} 项）。确认：python run.py tasks approve KEY 或 all"
CLI_TASKS_APPROVED = "已确认 {n} 项任务：{keys}"
CLI_TASK_DEADLINE = "，每期{day}日前"
CLI_PLAN_PROBLEM = "{file}：{reason}"

EXPORT_HEADERS = ["编号", "报送人", "账号", "村居", "活动日期", "活动内容", "参加人数", "对应任务", "照片数", "状态",
                  "报送时间"]
PROGRESS_SHEET = "任务进度"
PROGRESS_HEADERS = ["任务", "周期", "村居", "姓名", "账号", "已完成", "目标", "截止"]
BUTTON_YES = "是"
BUTTON_NO = "不是"
BUTTON_WITHDRAW = "撤回"
BUTTON_OK = "没问题"
BUTTON_NONE_TASK = "都不是"
FIELD_LABELS = ("日期", "人数", "村居", "任务", "内容")
STATUS_NAMES = {"active": "有效", "withdrawn": "已撤回"}
ROLE_NAMES = {"liaison": "联络员", "admin": "管理员"}
CADENCE_LABELS = {"weekly": "每周", "semimonthly": "每半月", "monthly": "每月", "quarterly": "每季度",
                  "half-yearly": "每半年", "yearly": "每年", "once": "一次性"}
AUDIENCE_LABELS = {"liaisons": "村居联络员", "office": "街道统战办", "other": "其他单位（不提醒）"}
STATUS_LABELS = {"proposed": "待确认", "active": "已启用", "inactive": "已停用"}
