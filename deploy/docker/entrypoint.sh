#!/bin/sh
# Container start: seed the corpus volume from the image on first start, migrate, then run the verb.
set -eu
if [ ! -d /data/corpus ]; then
    cp -r /app/knowledge/corpus /data/corpus
fi
if [ "${1:-serve}" = "serve" ]; then
    python run.py db upgrade
fi
exec python run.py "$@"
