"""The office's web admin pages (behind BOT_ADMIN_PASSWORD): progress, reports, exports, questions."""
