"""User-facing words of the knowledge base (answers, declines, choices, feedback), kept in one place."""

NOT_FOUND = "没有找到相关规定。您可以换个说法再问，或联系街道统战办。"
NOT_FOUND_SUGGEST = "没有找到相关规定。您可以换个说法再问，或问问这些方面：{topics}"
TOPIC_SEPARATOR = "、"

SOURCE = "—— 出处：《{doc}》{section}"
CONTINUES = "（原文此段未完，下文见同一出处）"

MORE_HEADER = "其他相关条目（回复数字查看）："
MORE_ITEM = "{n}. {preview}"
FEEDBACK_HINT = "（回复「有用」或「没用」帮我们改进）"

CHOICE_OUT_OF_RANGE = "请回复 1～{n} 之间的数字查看对应条目。"

FEEDBACK_THANKS = "谢谢反馈，很高兴能帮上忙！"
FEEDBACK_SORRY = "谢谢反馈，我们会改进。您可以换个说法再问，或联系街道统战办。"
FEEDBACK_NOTHING = "还没有可以评价的回答。请先提问，例如「统战信息每个月要报几篇」。"

ASK_QUESTION = "问：{question}"
ASK_HIT = "{n}. {text}\n   出处：《{doc}》{section}（相关度 {score:.2f}）"

# Load report: why a plan file was not read, and what to do (shown on `knowledge check` and the admin pages).
READ_OLD_WORD = "旧版 Word 文件（.doc）无法读取：请用 Word 或 WPS 打开后“另存为” .docx 再放入"
READ_WPS = "WPS 文字文件（.wps）无法读取：请在 WPS 中“另存为” .docx 再放入"
READ_SHEET = "表格文件无法作为工作要点读取：请把条文另存为 .docx 或 .txt 再放入"
READ_SLIDES = "演示文稿无法读取：请把条文另存为 .docx 或 .txt 再放入"
READ_IMAGE = "图片中的文字无法读取：请提供 .docx、.txt 或带文字层的 PDF"
READ_OFD = "OFD 版式文件无法读取：请另存为 .docx 或导出带文字层的 PDF 再放入"
READ_HTML = "网页文件无法直接读取：请把正文复制到 .txt 或 .docx 再放入"
READ_UNKNOWN = "不支持的文件类型 {suffix}：请另存为 .docx、.txt、.md 或带文字层的 PDF"
READ_BINARY = "不是文本文件：请另存为 .docx 或 .txt 再放入"
READ_ENCODING = "文字编码无法识别（不是 UTF-8 或 GB18030）：请另存为 UTF-8 编码的 .txt"
READ_BAD_DOCX = "不是有效的 .docx 文件（可能已损坏或只是改了扩展名）：请用 Word 重新另存为 .docx"
READ_BAD_PDF = "PDF 文件已损坏或无法解析：请重新导出 PDF，或另存为 .docx"
READ_PDF_LOCKED = "PDF 文件已加密：请提供未加密的 PDF 或 .docx"
READ_SCANNED_PDF = "扫描版 PDF（没有文字层），无法读取文字：请提供原始 Word 文件（.docx）或可复制文字的 PDF"
READ_TOO_LARGE = "文件过大（{size} 字节）：请拆分后再放入"
READ_NO_TEXT = "文件中没有文字"

# Load report: why a line was left out of the plan as page furniture.
DROP_NAV = "导航（面包屑、链接栏、上一篇/下一篇）"
DROP_META = "发布信息（时间、来源、作者、浏览数等）"
DROP_CONTACT = "联系方式"
DROP_DATE = "单独的日期"
DROP_BYLINE = "署名"
DROP_BUTTONS = "页面按钮或计数（分享、打印、评论、字体等）"
DROP_SITE = "网站信息（名称、版权、备案、主办单位）"
DROP_DISCLAIMER = "网站声明"
DROP_PAYWALL = "付费或未完提示、广告"
DROP_PAGE = "页码"
DROP_FORM = "表单签名栏"
DROP_BLURB = "网站推介语"
DROP_FRAGMENT = "残留符号"
DROP_HEADER = "标题前的页眉"
DROP_TITLE_AGAIN = "重复的标题"

# `knowledge list` / `knowledge check` (what an office reads on the terminal).
LIST_ROW = "{file}｜《{doc}》{section}\n  {text}"
LIST_NO_FILE = "知识库中没有读到文件 {file}"
CHECK_PROBLEM = "{file}：{reason}"
CHECK_TITLE = "文件：{file}\n标题：{title}"
CHECK_TITLE_FALLBACK = "（未找到标题行，暂用文件名）"
CHECK_CLAUSES = "读到条文 {n} 条："
CHECK_CLAUSE = "  [{section}] {text}"
CHECK_DROPPED = "作为页面杂项去掉 {n} 行："
CHECK_DROP = "  （{reason}）{text}"
CHECK_TASKS = "可提取的任务 {n} 项（加入后为“待确认”，确认前不提醒）："
CHECK_TASK = "  · {title}：{cadence} {target} 次{deadline}，对象：{audience}\n    原文：{clause}"
CHECK_DEADLINE = "，每期{day}日前"
CHECK_DUE = "，{due}前"
CADENCE_WORDS = {"weekly": "每周", "semimonthly": "每半月", "monthly": "每月", "quarterly": "每季度",
                 "half-yearly": "每半年", "yearly": "每年", "once": "一次性"}
AUDIENCE_WORDS = {"liaisons": "村居联络员", "office": "街道统战办", "other": "其他单位（不提醒）"}

DID_YOU_MEAN_HEADER = "没有找到确定的答案。您是不是想问："
DID_YOU_MEAN_ITEM = "{n}. {preview}"
DID_YOU_MEAN_FOOTER = "回复数字查看对应条目；都不是的话，换个说法再问，或联系街道统战办。"
DID_YOU_MEAN_TITLE = "您是不是想问"
ASK_DID_YOU_MEAN = "没有确定的答案，您是不是想问："
