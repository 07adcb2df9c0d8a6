"""Print `run.py doctor` on a good set-up and on broken ones, against the WeCom double and the real app
served over HTTP (the outputs quoted in the issue-15 note):  .venv/bin/python scripts/doctor_demo.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.services import build_services  # noqa: E402
from bot.config import ROOT, build_settings  # noqa: E402
from bot.db.database import Database  # noqa: E402
from bot.testing.wecom_double import WeComDouble  # noqa: E402
from bot.web.app import create_app  # noqa: E402
from bot.wecom.sender import LogSender  # noqa: E402
from tests.helpers_http import free_port, serving  # noqa: E402

TOKEN, AES_KEY = "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


def migrated(path: Path, revision: str = "head") -> str:
    db = Database(f"sqlite:///{path}")
    db.upgrade(revision)
    db.dispose()
    return f"sqlite:///{path}"


def doctor(api: WeComDouble, url: str, database_url: str, **env_extra: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "DATABASE", "REDIS", "BOT_"))}
    env.update({"WECOM_CORP_ID": api.corp_id, "WECOM_SECRET": api.secret, "WECOM_AGENT_ID": str(api.agent_id),
                "WECOM_TOKEN": TOKEN, "WECOM_AES_KEY": AES_KEY, "WECOM_API_BASE": api.base_url,
                "DATABASE_URL": database_url, "BOT_ADMIN_PASSWORD": "a-long-password", **env_extra})
    done = subprocess.run([sys.executable, "run.py", "doctor", "--public-url", url], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    print(f"$ python run.py doctor --public-url {url}\n{done.stdout}(exit {done.returncode})\n", flush=True)


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    good_db = migrated(tmp / "bot.db")
    with WeComDouble() as api:
        wecom = {**api.wecom_settings(), "token": TOKEN, "aes_key": AES_KEY}
        settings = build_settings({"database_url": good_db, "data_dir": str(tmp / "data"), "wecom": wecom})
        services = build_services(settings, sender=LogSender())
        try:
            with serving(create_app(services)) as base:
                url = base + "/wecom/callback"
                print("=== good set-up ===")
                doctor(api, url, good_db)
                print("=== broken: IP not trusted, clock 7 minutes ahead, database behind, "
                      "callback token differs, Redis down ===")
                api.refuse_ip("203.0.113.7")
                api.skew_clock(-420)
                doctor(api, url, migrated(tmp / "old.db", "0001"), WECOM_TOKEN="anotherToken",
                       REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
                api.refuse_ip(None)
                api.skew_clock(0)
                print("=== broken: AgentId of another app ===")
                doctor(api, url, good_db, WECOM_AGENT_ID=str(api.agent_id + 7))
                print("=== broken: Secret of another app ===")
                doctor(api, url, good_db, WECOM_SECRET="secret-of-another-app")
        finally:
            services.close()


if __name__ == "__main__":
    main()
