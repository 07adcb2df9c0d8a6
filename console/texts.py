"""Words on the console's pages (Chinese), in one place for review; templates read them as `t`."""

TITLE = "统战助手 · 管理"
DISABLED = "管理页面未启用：请设置环境变量 BOT_ADMIN_PASSWORD（至少8位）后重启服务。"
LOGIN_REQUIRED = "请输入管理密码（用户名任意）。"
TOO_MANY = "尝试次数过多，请一分钟后再试。"
LOCKED_OUT = "密码错误次数过多，已暂时锁定，请 {minutes} 分钟后再试。"
CSRF_TITLE = "请求已失效"
CSRF_REFUSED = "请求来源无法确认或页面已过期，未做任何修改。请回到管理页面刷新后重新操作。"
NAV = (("/admin/", "进度"), ("/admin/reports", "报送"), ("/admin/roster", "名单"), ("/admin/tasks", "任务"),
       ("/admin/knowledge", "知识库"), ("/admin/questions", "未答问题"), ("/admin/audit", "操作记录"))

# sign-in
LOGIN = "登录"
LOGOUT = "退出"
LOGIN_NAME = "您的姓名或账号（记入操作记录）"
LOGIN_PASSWORD = "管理密码"
LOGIN_FAILED = "密码不正确。"
SIGNED_IN_AS = "当前：{name}"

# progress
PROGRESS = "进度总览"
VIEW_NAMES = {"month": "月", "quarter": "季度", "half": "半年", "year": "年"}
PREVIOUS = "‹ 上一期"
NEXT = "下一期 ›"
CURRENT = "本期"
VILLAGE = "村居"
OFFICE_ROW = "街道统战办"
NO_VILLAGE = "未填村居"
DEADLINE = "截止 {due}"
CELL_HINT = "完成/目标，点击查看人员与报送"
BEHIND = "未完成名单"
BEHIND_NONE = "全部完成"
REMIND = "立即提醒未完成的 {n} 人"
REMIND_DONE = "已提醒 {sent} 人；今天已手动提醒过 {already} 人；发送失败 {failed} 人。"
REMIND_PAST = "该期已结束，不能再提醒。"
TREND = "{year}年各月报送数（条）"
TREND_TARGET = "每月目标合计"
PEOPLE = "人员"
DONE_TARGET = "完成/目标"
NO_TASKS = "暂无启用的任务。"
PERSON_REPORTS = "本期报送"

# reports
REPORTS = "报送记录"
FILTER = "筛选"
RESET = "清除"
PERIOD_ALL = "全部时间"
NAME_OR_ID = "报送人"
TASK = "任务"
ALL = "全部"
STATUS_LABEL = "状态"
STATUS = {"active": "有效", "withdrawn": "已撤回"}
EXPORT_XLSX = "导出 Excel"
EXPORT_CSV = "导出 CSV"
REPORT_HEAD = ("编号", "报送人", "村居", "活动日期", "活动内容", "人数", "任务", "照片", "状态")
PAGE_OF = "第 {page}/{pages} 页，共 {total} 条"
PREV_PAGE = "上一页"
NEXT_PAGE = "下一页"
PHOTO_PENDING = "照片获取中"
PHOTO_FAILED = "照片获取失败"
EMPTY = "暂无数据"
SINCE = "起始日期"
UNTIL = "截止日期"

# roster
ROSTER = "名单"
ROSTER_UPLOAD = "上传名单（CSV / Excel / 企业微信通讯录导出）"
ROSTER_PREVIEW = "导入预览：确认后才会生效"
ROSTER_ADDED = "新增"
ROSTER_UPDATED = "更新"
ROSTER_UNCHANGED = "无变化"
ROSTER_NOT_IN_FILE = "名单中有但文件中没有（不会删除，可在下方停用）"
ROSTER_ERRORS = "无法读取的行"
ROSTER_ROW = "第{row}行：{reason}"
ROSTER_APPLY = "确认导入"
ROSTER_APPLIED = "已导入：新增 {created} 人，更新 {updated} 人，无变化 {unchanged} 人。"
ROSTER_EXPIRED = "预览已过期，请重新上传。"
ROSTER_BAD_FILE = "无法读取文件：{reason}"
ROSTER_SYNC = "从企业微信通讯录同步"
ROSTER_SYNC_HINT = "读取本应用可见范围内的部门与成员，部门名作为村居。"
ROSTER_SYNC_OFF = "未配置 WECOM_SECRET，无法连接企业微信通讯录。"
ROSTER_SYNC_FAILED = "企业微信通讯录读取失败：{error}"
ROSTER_HEAD = ("账号", "姓名", "村居", "角色", "状态")
ROLE = {"liaison": "联络员", "admin": "管理员"}
ACTIVE = {True: "在册", False: "已停用"}
EDIT = "修改"
SAVE = "保存"
SAVED = "已保存。"
DEACTIVATE = "停用"
REACTIVATE = "重新启用"
NAME = "姓名"
ROLE_LABEL = "角色"
USERID = "账号"
CHANGES = "变化"

# tasks
TASKS = "任务清单"
TASK_HEAD = ("任务", "周期", "目标", "截止", "对象", "提醒", "状态")
CADENCE = {"weekly": "每周", "semimonthly": "每半月", "monthly": "每月", "quarterly": "每季度",
           "half-yearly": "每半年", "yearly": "每年", "once": "一次性"}
AUDIENCE = {"liaisons": "联络员", "office": "办公室", "other": "其他"}
TASK_STATUS = {"active": "启用", "inactive": "停用", "proposed": "待审核"}
TITLE_LABEL = "名称"
TARGET_LABEL = "每期目标（次）"
CADENCE_LABEL = "周期"
DEADLINE_DAY_LABEL = "每月截止日（留空为期末）"
DUE_DATE_LABEL = "一次性任务截止日期"
STAGES_LABEL = "提醒时间（每行一个：提前天数 时间，如「7 09:30」；留空用系统默认）"
ACTIVE_LABEL = "启用"
DEFAULT_STAGES = "系统默认"
STAGE_ITEM = "提前{days}天 {time}"
SOURCE = "出处"
TASK_INVALID = "未保存：{reason}"
TASK_SAVED = "任务已保存，已写入 tasks.yaml。"
APPROVE = "批准"
APPROVE_ALL = "全部批准"
PROPOSED = "待确认的任务（从新上传的工作要点中读出，批准后才会提醒和统计）"
TASKS_APPROVED = "已批准 {n} 项任务。"
TASKS_FILE_NOTE = "任务以 tasks.yaml 为准：在此修改会写回该文件。"

# knowledge
KNOWLEDGE = "知识库"
KN_FILES = "工作要点文件"
KN_UPLOAD = "上传文件（.docx / .txt / .md / .pdf，不超过 {mb} MB）"
KN_CHECK = "检查文件"
KN_REPORT = "加载报告：{name}"
KN_CLAUSES = "条款 {n} 条"
KN_SECTIONS = "章节"
KN_DROPPED = "清理掉的页眉页脚等（{n} 行）"
KN_TASKS = "可能的任务"
KN_GO_LIVE = "确认上线"
KN_REPLACES = "将替换同名文件"
KN_LIVE = "已上线：{name}，知识库现有 {clauses} 条条款。"
KN_REMOVE = "移除"
KN_REMOVE_CONFIRM = "确认移除"
KN_FILE = "文件"
KN_DOC = "标题"
KN_CLAUSE_N = "条款"
KN_SIZE = "大小"
KN_SUMMARY = "知识库现有 {files} 个文件，{clauses} 条条款。"
KN_REMOVED = "已移除：{name}。"
KN_BAD_TYPE = "不能上传这个文件：{reason}"
KN_PROPOSED = "从工作要点中读出 {n} 项新任务，请到「任务」页确认。"
KN_TITLE = "标题：{title}"
KN_NO_TITLE = "（没有找到标题行，用文件名代替）"
KN_TOO_BIG = "文件超过 {mb} MB。"
KN_UNREADABLE = "无法读取该文件：{reason}"
KN_EMPTY = "文件中没有读到正文。"
KN_EXPIRED = "检查结果已过期，请重新上传。"
KN_BROWSE = "浏览条款"
KN_RELOAD = "重新加载知识库"
RELOADED = "知识库已重新加载：{clauses} 条条款，{files} 个文件。"
RELOAD_ERRORS = "以下文件无法读取：{names}"
HIT_TEST = "命中测试"
HIT_PLACEHOLDER = "输入联络员可能会问的问题"
HIT_RUN = "测试"
HIT_THRESHOLD = "回答阈值 {threshold:.2f}"
HIT_DECISION = {"answer": "机器人会直接回答", "suggest": "机器人会列出“您是不是想问”", "decline": "机器人会说找不到"}
HIT_TERMS = "识别出的词"
HIT_TERMS_NOTE = "绿色：条款中有此词或它的同义说法（≈ 后）；红色：所有条款都没有（可在下方「添加同义词」）。"
HIT_UNKNOWN = "条款中没有的词占 {share}%"
HIT_LEARNED = {"answer": "已按办公室或联络员的关联回答", "not_in_plans": "已标记为工作要点不涉及"}
HIT_MATCHED = "命中的词"
ALT_KIND = {"synonym": "同义词", "colloquial": "口语", "slip": "错别字/同音"}
HIT_SCORE = "得分"
HIT_NONE = "没有相关条款。"
FEEDBACK_COUNTS = "有用 {up} · 没用 {down}"

SYN_TITLE = "添加同义词"
SYN_WORD = "联络员的说法"
SYN_EQUIV = "工作要点里的说法（可填多个，用逗号分开）"
SYN_SAVE = "添加"
SYN_ADDED = "已添加同义词：{word} ≈ {equivalents}，立即生效。"
SYN_BAD = "不能添加：「{word}」应为 1–20 个汉字、字母或数字，且要填工作要点里的说法。"

# questions
QUESTIONS = "未答问题"
Q_GROUP = "{n} 次相似提问"
Q_NEAREST = "最接近的条款"
Q_LINK = "关联到此条款"
Q_LINKED = "已关联：以后类似问题将回答该条款。"
Q_TEST_OR_SYNONYM = "命中测试 / 添加同义词"
Q_LINK_OFF = "关联功能不可用。"
Q_NOT_IN_PLANS = "工作要点不涉及"
Q_NOT_IN_PLANS_DONE = "已标记：以后类似问题机器人会如实说明工作要点不涉及。"
Q_TAUGHT = "已处理：{what}"
Q_TAUGHT_NONE = "工作要点不涉及"
Q_SEARCH_CLAUSE = "搜索其他条款"
FEEDBACK = "回答评价"
FEEDBACK_HEAD = ("条款", "有用", "没用")

# audit
AUDIT = "操作记录"
AUDIT_HEAD = ("时间", "操作人", "操作", "对象", "详情")
ACTIONS = {"login": "登录", "logout": "退出", "login-failed": "登录失败", "roster-import": "导入名单",
           "person-edit": "修改人员", "task-edit": "修改任务", "task-approve": "批准任务",
           "knowledge-upload": "上线文件", "knowledge-remove": "移除文件", "knowledge-reload": "重新加载知识库",
           "remind": "手动提醒", "question-link": "关联问题", "question-not-in-plans": "标记不涉及", "synonym-add": "添加同义词", "roster-sync": "同步通讯录", "export": "导出报送"}
