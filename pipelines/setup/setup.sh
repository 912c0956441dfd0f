#!/bin/sh
# Runs once in docker-compose: waits until Elasticsearch accepts mlmon setup, which
# installs the index templates, mlmon's roles and users, and kibana_system's password.
# (The kibana-setup service imports the dashboards with the same image.)
set -eu
echo "mlmon setup: waiting for Elasticsearch at ${MLMON_ES_URL}"
tries=0
until mlmon setup --security; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then echo "mlmon setup did not succeed in 5 minutes" >&2; exit 3; fi
  sleep 5
done
