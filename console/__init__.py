"""The office's web console under /admin (a face over the domains, beside handlers/): sign-in,
进度, 报送, 名单, 任务, 知识库, 未答问题 and 操作记录, server-rendered with Jinja2 templates."""
