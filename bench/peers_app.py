"""The plain peers bench/bench_peers.py compares the bot with: what people usually write instead.

A WeCom callback answered with wechatpy's crypto, `parse_message` and `create_reply`, and the
closest clause by `rapidfuzz.process.extractOne`: no dedupe, no log, no state. One handler, served
by Flask (under gunicorn) or FastAPI (under uvicorn). Runs in the peers' own virtualenv, so it
imports nothing of the bot; the clauses come from the JSON file the bench exports (BENCH_CLAUSES),
the same clauses the bot answers from.
"""

# No `from __future__ import annotations`: FastAPI reads the handler's annotations at run time.
import json
import os

from rapidfuzz import fuzz, process
from wechatpy.enterprise import create_reply, parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException

CRYPTO = WeChatCrypto(os.environ["BENCH_TOKEN"], os.environ["BENCH_AES_KEY"], os.environ["BENCH_CORP"])
with open(os.environ["BENCH_CLAUSES"], encoding="utf-8") as handle:
    CLAUSES: list[str] = json.load(handle)
NOT_FOUND = "没有找到相关规定。"


def answer(query: dict[str, str], body: bytes) -> tuple[int, str]:
    """(status, body) for one callback, as a typical hand-written endpoint does it."""
    try:
        xml = CRYPTO.decrypt_message(body, query["msg_signature"], query["timestamp"], query["nonce"])
    except (InvalidSignatureException, KeyError):
        return 403, ""
    msg = parse_message(xml)
    if msg.type != "text":
        return 200, ""
    best = process.extractOne(msg.content, CLAUSES, scorer=fuzz.WRatio, score_cutoff=60)
    text = ("根据方案：" + best[0]) if best else NOT_FOUND
    reply = create_reply(text, msg).render()
    return 200, CRYPTO.encrypt_message(reply, query["nonce"], query["timestamp"])


def _flask_app():  # noqa: ANN202 - flask.Flask, imported only when served by gunicorn
    from flask import Flask, Response, request

    app = Flask("peer")

    @app.post("/wecom/callback")
    def callback() -> Response:
        status, text = answer(request.args.to_dict(), request.get_data())
        return Response(text, status=status, mimetype="application/xml")

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    return app


def _fastapi_app():  # noqa: ANN202 - fastapi.FastAPI
    from fastapi import FastAPI, Request, Response

    app = FastAPI()

    @app.post("/wecom/callback")
    async def callback(request: Request) -> Response:
        status, text = answer(dict(request.query_params), await request.body())
        return Response(text, status_code=status, media_type="application/xml")

    @app.get("/healthz")
    async def healthz() -> str:
        return "ok"

    return app


def __getattr__(name: str):  # noqa: ANN202 - module attributes built on first use
    if name == "flask_app":
        return _flask_app()
    if name == "fastapi_app":
        return _fastapi_app()
    raise AttributeError(name)
