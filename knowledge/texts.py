"""User-facing words of the knowledge base (answers, declines, choices, feedback), kept in one place."""

NOT_FOUND = "没有找到相关规定。您可以换个说法再问，或联系街道统战办。"
NOT_FOUND_SUGGEST = "没有找到相关规定。您可以换个说法再问，或问问这些方面：{topics}"
TOPIC_SEPARATOR = "、"

SOURCE = "—— 出处：《{doc}》{section}"

MORE_HEADER = "其他相关条目（回复数字查看）："
MORE_ITEM = "{n}. {preview}"
FEEDBACK_HINT = "（回复「有用」或「没用」帮我们改进）"

CHOICE_OUT_OF_RANGE = "请回复 1～{n} 之间的数字查看对应条目。"

FEEDBACK_THANKS = "谢谢反馈，很高兴能帮上忙！"
FEEDBACK_SORRY = "谢谢反馈，我们会改进。您可以换个说法再问，或联系街道统战办。"
FEEDBACK_NOTHING = "还没有可以评价的回答。请先提问，例如「统战信息每个月要报几篇」。"

ASK_QUESTION = "问：{question}"
ASK_HIT = "{n}. {text}\n   出处：《{doc}》{section}（相关度 {score:.2f}）"

DID_YOU_MEAN_HEADER = "没有找到确定的答案。您是不是想问："
DID_YOU_MEAN_ITEM = "{n}. {preview}"
DID_YOU_MEAN_FOOTER = "回复数字查看对应条目；都不是的话，换个说法再问，或联系街道统战办。"
DID_YOU_MEAN_TITLE = "您是不是想问"
ASK_DID_YOU_MEAN = "没有确定的答案，您是不是想问："
