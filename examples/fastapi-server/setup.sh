#!/bin/sh
# Create .venv next to this script and install the server's dependencies from PyPI.
set -eu
cd "$(dirname "$0")"
PY="${PYTHON:-python3}"
"$PY" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
.venv/bin/python -c 'import fastapi, uvicorn, prometheus_client; print("fastapi-server venv ready:", fastapi.__version__)'
