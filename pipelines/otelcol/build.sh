#!/bin/sh
# Build mlmon's OpenTelemetry Collector (builder.yaml + the receiver patch) once and
# cache it in the stack directory; prints where it is. Same as `make otelcol`.
# Needs Go 1.23+ (on PATH or /usr/local/go/bin) and the Go module proxy.
set -e
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-.venv/bin/python}
exec "$PYTHON" -m mlmon.stack.collector build
