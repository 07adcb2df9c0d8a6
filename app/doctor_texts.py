"""What `run.py doctor` says: the title of each check, what it found and how to fix it (Chinese)."""

from __future__ import annotations

HEADER = "统战助手 自检"
STATUS = {"pass": "通过", "warn": "注意", "fail": "失败", "skip": "跳过"}
FIX = "处理："
SUMMARY_OK = "结果：全部通过（{passed} 项通过，{warned} 项注意，{skipped} 项跳过）"
SUMMARY_FAIL = "结果：{failed} 项失败（{passed} 项通过，{warned} 项注意，{skipped} 项跳过）"

TITLES = {
    "config": "配置文件",
    "wecom_settings": "企业微信参数",
    "database": "数据库",
    "storage": "数据目录",
    "redis": "Redis",
    "corpus": "知识库",
    "wecom_token": "Secret（gettoken）",
    "wecom_ip": "企业可信IP",
    "wecom_agent": "AgentId 与 Secret 是否同一应用",
    "time_skew": "服务器时间",
    "callback": "回调地址（URL 验证）",
}

ENV_FILE = "/etc/ztbot/ztbot.env"

CONFIG_OK = "{path} 有效"
CONFIG_BAD = "配置无效：{error}"
CONFIG_BAD_FIX = "按提示改正 config.yaml（或 BOT_CONFIG 指向的文件）或环境变量中该项，再运行本命令"
ADMIN_UNSET = "；未设置 BOT_ADMIN_PASSWORD，管理页面和 /metrics 拒绝所有人"
SKIP_NO_CONFIG = "配置无效，未检查"

WECOM_ALL_SET = "WECOM_CORP_ID、WECOM_AGENT_ID、WECOM_SECRET、WECOM_TOKEN、WECOM_AES_KEY 均已设置"
WECOM_MISSING = "未设置：{names}"
WECOM_MISSING_FIX = ("在企业微信管理后台「我的企业」查企业ID，「应用管理 → 自建应用」查 AgentId 和 Secret，"
                     "「接收消息 → 设置API接收」取 Token 和 EncodingAESKey；写入环境文件 " + ENV_FILE
                     + "（权限 0600），不要写进 config.yaml")
SKIP_WECOM_UNSET = "企业微信参数未设置完整，未检查"

DB_OK = "{backend} 可连接，数据库版本 {current}（最新）"
DB_NO_FILE = "数据库文件 {path} 还不存在"
DB_NO_FILE_FIX = "运行 python run.py db upgrade（首次 serve 也会自动创建）"
DB_DOWN = "连不上数据库：{error}"
DB_DOWN_FIX = "检查 DATABASE_URL（主机、端口、用户、密码、库名）和数据库服务是否在运行、防火墙是否放行"
DB_OLD = "数据库版本 {current}，代码需要 {head}"
DB_OLD_FIX = "停止服务后运行 python run.py db upgrade，再启动"
DB_AHEAD = "数据库版本 {current} 比代码认识的 {head} 更新（代码是旧版本？）"
DB_AHEAD_FIX = "部署与数据库相同或更新版本的代码"

STORAGE_OK = "{path} 可写，剩余 {free:.1f} GB"
STORAGE_NEW = "{path} 还不存在，首次启动时创建（上级目录可写，剩余 {free:.1f} GB）"
STORAGE_READONLY = "{path} 不可写：照片、暂存报送和备份都存在这里"
STORAGE_READONLY_FIX = "chown -R ztbot:ztbot {path}（systemd 服务用 StateDirectory=ztbot 时自动创建）"
STORAGE_LOW = "{path} 所在磁盘只剩 {free:.2f} GB"
STORAGE_LOW_FIX = "清理旧备份（backup.keep 调小）或扩容；磁盘写满时报送只能暂存，照片会下载失败"
REDIS_UNSET = "未设置 REDIS_URL：状态存放在本机状态文件 data_dir/state.db，同一台机器上的多个进程（--workers N）共用；多台服务器时才需要 Redis"
REDIS_OK = "可连接（{url}）"
REDIS_DOWN = "连不上 Redis（{url}）：{error}"
REDIS_DOWN_FIX = "检查 REDIS_URL 和 Redis 服务（systemctl status redis-server），或去掉 REDIS_URL 改用本机状态文件（仅限单台服务器）"

CORPUS_OK = "{files} 个文件，{clauses} 条条款：{per_file}"
CORPUS_EMPTY = "{folder} 中没有可读的文件"
CORPUS_EMPTY_FIX = "把方案文件（.txt .md .docx .pdf）放进 knowledge.corpus_dir 指向的文件夹"
CORPUS_ERRORS = "{files} 个文件已读，{clauses} 条条款；读不了：{problems}"
CORPUS_ERRORS_FIX = "用 python run.py knowledge check 文件名 查看原因，另存为 .docx 或 .txt（UTF-8）后替换"

NET_DOWN = "连不上 {host}：{error}"
NET_TLS = "TLS 证书校验失败（{reason}）"
NET_TIMEOUT = "连接超时"
NET_REFUSED = "连接被拒绝（端口上没有服务在监听，或防火墙拒绝）"
NET_DNS = "域名解析失败"
CALLBACK_TLS_FIX = ("证书须由公认的 CA 签发、未过期、包含该域名，并配置完整证书链（ssl_certificate 用 fullchain）；"
                    "企业微信不接受自签名证书")
NET_DOWN_FIX = ("确认服务器能访问外网 HTTPS（{host}:443），检查 DNS、防火墙和出口代理；"
                "必须经代理时把 WECOM_API_BASE 指向代理")
TOKEN_OK = "gettoken 成功（企业ID和 Secret 正确）"
TOKEN_BAD_CORP = "企业ID不对（40013 invalid corpid）"
TOKEN_BAD_CORP_FIX = "WECOM_CORP_ID 应为「我的企业 → 企业信息」最下方的企业ID（ww 开头）"
TOKEN_BAD_SECRET = "Secret 不对（40001 invalid credential）"
TOKEN_BAD_SECRET_FIX = ("WECOM_SECRET 应为本应用「应用管理 → 自建应用 → Secret」的值（在企业微信里查看，"
                        "重置后旧值失效）；注意不要多复制空格")
TOKEN_OTHER = "gettoken 返回 {errcode}：{errmsg}"
TOKEN_OTHER_FIX = "按 https://open.work.weixin.qq.com/devtool/query?e={errcode} 的说明处理"
SKIP_NO_TOKEN = "没有拿到 access_token，未检查"

IP_OK = "本服务器出口 IP 已在企业可信IP中"
IP_REFUSED = "本服务器出口 IP {ip} 不在企业可信IP中（60020），所有发送都会失败"
IP_REFUSED_FIX = ("企业微信管理后台「应用管理 → 自建应用 → 企业可信IP → 配置」，加入 {ip}；"
                  "此前须先配置「可信域名」或「接收消息服务器URL」；出口 IP 会变的网络须改用固定 IP 或固定出口代理")
SKIP_IP_REFUSED = "可信IP未通过，企业微信不回答此项"

AGENT_OK = "AgentId {agent_id} 是本 Secret 的应用「{name}」"
AGENT_MISMATCH = "AgentId {agent_id} 不是这个 Secret 所属的应用（{errcode}）"
AGENT_MISMATCH_FIX = "WECOM_AGENT_ID 和 WECOM_SECRET 必须取自同一个自建应用的详情页"
AGENT_OTHER = "agent/get 返回 {errcode}：{errmsg}"
AGENT_OTHER_FIX = "按 https://open.work.weixin.qq.com/devtool/query?e={errcode} 的说明处理"
AGENT_CLOSED = "应用「{name}」已停用"
AGENT_CLOSED_FIX = "在「应用管理」中启用该应用"

SKEW_SAME = "本机时钟与企业微信服务器一致（相差不到 1 秒）"
SKEW_OK = "本机时钟比企业微信服务器{way} {secs} 秒"
SKEW_WARN = "本机时钟比企业微信服务器{way} {secs} 秒，回调时间窗为 ±{window} 秒"
SKEW_BAD = "本机时钟比企业微信服务器{way} {secs} 秒，超过回调时间窗 ±{window} 秒的一半，回调会被拒（403）"
SKEW_AHEAD, SKEW_BEHIND = "快", "慢"
SKEW_FIX = "开启时间同步：timedatectl set-ntp true（或安装 chrony 并指向单位的 NTP 服务器）"
SKEW_NO_DATE = "企业微信的回答没有 Date 头，无法比较"
SKIP_NO_ANSWER = "企业微信没有回答，未检查"

CALLBACK_NOT_ASKED = "未给 --public-url，未检查（部署后用 --public-url https://域名/wecom/callback 再运行）"
CALLBACK_OK = "{url} 正确回答了签名的 URL 验证"
CALLBACK_DOWN = "连不上 {url}：{error}"
CALLBACK_DOWN_FIX = ("检查域名解析、443 端口防火墙、Nginx 是否运行（nginx -t && systemctl status nginx）、"
                     "证书是否有效且链完整，以及服务是否在运行（systemctl status ztbot）")
CALLBACK_STATUS = "{url} 回答 HTTP {status}"
CALLBACK_503_FIX = "运行中的服务没有读到 WECOM_CORP_ID/WECOM_TOKEN/WECOM_AES_KEY：检查环境文件后 systemctl restart ztbot"
CALLBACK_403_FIX = ("运行中的服务的 Token/EncodingAESKey/企业ID 与本机配置不同，或其时钟不准：核对环境文件后重启服务，"
                    "并检查时间同步")
CALLBACK_OTHER_FIX = "检查 Nginx 的 location /wecom/callback 是否转发到服务（proxy_pass http://127.0.0.1:8000）"
CALLBACK_WRONG_BODY = "{url} 的回答不是解密后的 echostr（收到：{body}）"
CALLBACK_WRONG_BODY_FIX = ("该地址后面不是本服务，或中间有页面改写了回答：检查 Nginx 转发和 URL 路径"
                           "（应为 /wecom/callback）")
