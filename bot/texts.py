"""User-facing words of the core bot, in one place so the office can review them without reading code."""

BOT_NAME = "统战助手"

HELP = (
    "您好，我是统战助手，可以帮您：\n"
    "1. 问政策：直接打字提问，如「统战信息每个月要报几篇」「宗教信息员一年培训几次」\n"
    "2. 报送活动：以「报送」开头，如「报送 昨天在红山郡社区开展民族团结宣讲，40人参加」，可再发照片\n"
    "3. 查进度：回复「进度」或「我的任务」\n"
    "4. 查报送：回复「我的报送」；「撤回」撤销最近一条，「修改 12 人数 45」更正\n"
    "回复「帮助」随时查看本说明。"
)

GREETING = "您好！" + HELP

ENTER_AGENT = "欢迎使用统战助手。直接提问政策，或以「报送」开头上报活动；回复「帮助」查看用法。"

UNSUPPORTED = "暂不支持{kind}消息。我能看懂文字和图片：直接打字提问，或以「报送」开头上报活动，回复「帮助」查看用法。"

KIND_NAMES = {
    "voice": "语音",
    "video": "视频",
    "file": "文件",
    "location": "位置",
    "link": "链接",
    "image": "图片",
    "event": "此类",
}

MENU_UNKNOWN = "这个菜单项暂时没有内容，回复「帮助」查看我能做什么。"

RATE_LIMITED = "您发送得太快了，请稍等一分钟再试。"

HANDLER_ERROR = "抱歉，处理您的消息时出了点问题，请稍后再试。如果一直不行，请联系街道统战办。"

BUSY = "系统正忙，您的消息已收到，请稍候片刻再试。"

EMPTY_TEXT = "没有看到内容哦。直接打字提问，或回复「帮助」查看用法。"

CANCELLED = "好的，已取消。"

NOTHING_TO_CANCEL = "当前没有进行中的操作。"

STATE_DOWN = "系统暂时故障，您的消息未能处理，请过几分钟再发一次。"

# Quick buttons on greetings and help (template cards; the text above already names each command).
QUICK_TITLE = "统战助手"
QUICK_BUTTONS = (("查看我的进度", "进度"), ("我的任务", "我的任务"), ("我的报送", "我的报送"))
