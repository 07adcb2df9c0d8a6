"""统战助手: a WeCom self-built-app bot for a township's united-front work office."""
