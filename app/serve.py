"""Run the app under uvicorn (httptools + uvloop).

One worker by default. Several workers share dedupe keys, per-user locks, rate limits and
conversations through the state store: Redis when REDIS_URL is set, else the SQLite state file
(data_dir/state.db), which every process on this machine opens. Each worker process builds its own
services from the same configuration (config.yaml / BOT_CONFIG + environment).

The schema is migrated once, here, before any worker starts, under the database's migration lock
(so two servers started together cannot race either); workers never migrate.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import uvicorn

from bot.processor import PENDING
from bot.web.app import create_app

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from bot.config import Settings
    from bot.context import Services

log = logging.getLogger(__name__)

# Hooks other packages (e.g. the reminder scheduler) add: called with the services once the
# process starts; may return a stop function called at shutdown.
StartHook = Callable[["Services"], "Callable[[], None] | None"]


def build_app(settings: Settings, hooks: Iterable[StartHook] = (), *, migrate: bool = True) -> Starlette:
    """Services + app for this process; services are closed (message log flushed) at shutdown."""
    from app.services import build_services

    services = build_services(settings, migrate=migrate)
    stops: list[Callable[[], None]] = []

    def start() -> None:
        for hook in hooks:
            stop = hook(services)
            if stop is not None:
                stops.append(stop)

    def stop_all() -> None:
        for stop in reversed(stops):
            stop()
        services.close()

    from console.routes import admin_routes

    return create_app(services, extra_routes=admin_routes(services), on_startup=[start], on_shutdown=[stop_all])


HOOKS_ENV = "BOT_SERVE_HOOKS"  # comma-separated "module:function" hooks, handed to worker processes


def _resolve(hook: str | StartHook) -> StartHook:
    if callable(hook):
        return hook
    module, _, name = hook.partition(":")
    return getattr(importlib.import_module(module), name)


def worker_app() -> Starlette:
    """uvicorn factory for multi-worker mode: each worker process loads the same settings and hooks."""
    from bot.config import load_settings
    from bot.logs import configure_logging

    names = [h for h in os.environ.get(HOOKS_ENV, "").split(",") if h]
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)  # a spawned worker starts unconfigured
    return build_app(settings, [_resolve(h) for h in names], migrate=False)


def prepare(settings: Settings) -> None:
    """Once per server, before any worker: migrate under the lock, settle what dead processes left.

    No worker of this server runs yet, so a dedupe claim still marked pending in the local state file
    belongs to a process that died mid-message (kill -9): it is dropped, so WeCom's retry runs the
    message again instead of waiting on a claim nobody will finish.
    """
    from bot.db.database import Database
    from bot.state import build_state_store

    db = Database(settings.database_url)
    try:
        db.upgrade()
    finally:
        db.dispose()
    if not settings.redis_url:
        from bot.state.sqlite import SQLiteStateStore

        state = build_state_store(settings)
        try:
            dropped = state.drop_pending("dedupe:", PENDING) if isinstance(state, SQLiteStateStore) else 0
            if dropped:
                log.warning("%d messages were mid-processing when the last server stopped; retries will rerun them",
                            dropped)
        finally:
            state.close()


def serve(settings: Settings, host: str, port: int, workers: int = 1, *,
          hooks: Iterable[str | StartHook] = ()) -> int:
    """Serve until interrupted; returns the exit status (2 for a configuration that cannot work).

    `hooks` are "module:function" strings (or, with one worker, callables) run with the services
    at start-up. With several workers every worker runs them, so a hook that must run once (the
    reminder scheduler) needs its own cross-process lock.
    """
    hooks = list(hooks)
    if workers < 1:
        print("serve: --workers must be at least 1", file=sys.stderr)
        return 2
    common = {
        "host": host,
        "port": port,
        "loop": "uvloop",
        "http": "httptools",
        "access_log": False,  # one log line per callback is noise at thousands per second
        "log_level": settings.log_level.lower(),
        "timeout_keep_alive": 15,
        "backlog": 2048,
        "server_header": False,
        "proxy_headers": False,  # X-Forwarded-For is judged by console.security against trusted_proxies
    }
    if any(callable(h) for h in hooks) and workers > 1:
        print("serve: with --workers > 1, hooks must be 'module:function' strings", file=sys.stderr)
        return 2
    prepare(settings)
    if workers == 1:
        uvicorn.run(build_app(settings, [_resolve(h) for h in hooks], migrate=False), **common)
        return 0
    os.environ[HOOKS_ENV] = ",".join(hooks)  # type: ignore[arg-type]
    uvicorn.run("app.serve:worker_app", factory=True, workers=workers, **common)
    return 0
