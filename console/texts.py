"""Words on the admin pages."""

TITLE = "统战助手 · 管理"
DISABLED = "管理页面未启用：请设置环境变量 BOT_ADMIN_PASSWORD（至少8位）后重启服务。"
LOGIN_REQUIRED = "请输入管理密码（用户名任意）。"
LOCKED_OUT = "密码错误次数过多，已暂时锁定，请 {minutes} 分钟后再试。"
CSRF_REFUSED = "请求来源无法确认（可能是跨站请求），已拒绝。请回到管理页面重新操作。"
NAV = (("/admin/", "进度总览"), ("/admin/reports", "报送记录"), ("/admin/tasks", "任务清单"),
       ("/admin/questions", "未答问题与反馈"))
PROGRESS_HEAD = ("村居", "任务", "周期", "联络员", "已达标", "完成/目标")
REPORT_HEAD = ("编号", "报送人", "村居", "活动日期", "活动内容", "人数", "任务", "照片", "状态")
TASK_HEAD = ("任务", "周期", "目标", "对象", "关键词", "出处")
QUESTION_HEAD = ("时间", "账号", "问题", "最接近的条款")
FEEDBACK_HEAD = ("时间", "账号", "问题", "评价", "回答")
EXPORT_XLSX = "导出 Excel"
EXPORT_CSV = "导出 CSV"
FILTER = "筛选"
SINCE = "起始日期"
VILLAGE = "村居"
RELOAD = "重新加载知识库"
RELOADED = "知识库已重新加载：{clauses} 条条款，{files} 个文件。"
RELOAD_ERRORS = "以下文件无法读取：{names}"
EMPTY = "暂无数据"
CADENCE = {"weekly": "每周", "semimonthly": "每半月", "monthly": "每月", "quarterly": "每季度",
           "half-yearly": "每半年", "yearly": "每年", "once": "一次性"}
AUDIENCE = {"liaisons": "联络员", "office": "办公室"}
STATUS = {"active": "有效", "withdrawn": "已撤回"}
HELPFUL = {True: "有用", False: "没用"}
