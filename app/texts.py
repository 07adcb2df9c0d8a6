"""What the wiring's own CLI verbs (backup, restore) print for people (Chinese first)."""

from __future__ import annotations

BACKUP_DONE = "已备份到 {file}：{database} 数据库（版本 {revision}），{rows}；另含 {files} 个文件（照片、暂存、知识库）"
BACKUP_FAILED = "备份失败：{error}"
RESTORE_DONE = "已从 {file} 恢复（备份于 {created_at}）：{rows}。请运行 python run.py db upgrade 后再启动服务"
RESTORE_FAILED = "恢复失败：{error}"
RESTORE_MISSING = "恢复失败：找不到备份文件 {file}"
ROWS = "报送 {reports} 条，人员 {people} 人，任务 {tasks} 项，照片 {report_photos} 张"
DB_UNREACHABLE = "数据库无法使用（请检查 DATABASE_URL 设置：{url}）：{reason}"
