"""User-facing words of the knowledge base (answers, declines, the `ask` verb), kept in one place."""

NOT_FOUND = "没有找到相关规定。"
NOT_FOUND_SUGGEST = "没有找到相关规定。您可以换个说法，或问问这些方面：{topics}"
TOPIC_SEPARATOR = "、"

SOURCE = "出处：《{doc}》{section}"
SECTION_PREFIX = " "

MORE_HEADER = "其他相关条目（回复数字查看）："
MORE_ITEM = "{n}. {preview}"

ASK_QUESTION = "问：{question}"
ASK_HIT = "{n}. {text}\n   出处：《{doc}》{section}（相关度 {score:.2f}）"
