#!/bin/sh
# The Dockerfile's build steps, runnable outside Docker too (tests/test_deploy.py does, in a fresh venv):
#   VENV=/path/to/venv sh deploy/docker/build.sh deps   # the pinned runtime requirements
#   VENV=/path/to/venv sh deploy/docker/build.sh app    # byte-compile and smoke-test the code
set -eu
VENV="${VENV:-/opt/venv}"
case "${1:-}" in
deps)
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --no-cache-dir --disable-pip-version-check -q -r requirements.txt
    ;;
app)
    "$VENV/bin/python" -m compileall -q app bot console handlers knowledge scheduler tracking migrations run.py
    # Every verb parses and every import resolves; the shipped corpus loads.
    "$VENV/bin/python" run.py --help > /dev/null
    BOT_CONFIG=/dev/null "$VENV/bin/python" run.py ask --json "宗教活动场所" > /dev/null
    ;;
*)
    echo "usage: build.sh deps|app" >&2
    exit 2
    ;;
esac
