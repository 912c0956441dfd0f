#!/bin/sh
# Runs once in docker-compose: waits for Elasticsearch, installs mlmon's index
# templates. (The kibana-setup service imports the dashboards with the same image.)
set -eu
url="${MLMON_ES_URL:-http://elasticsearch:9200}"
echo "mlmon setup: waiting for Elasticsearch at $url"
tries=0
until mlmon stack status >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then echo "Elasticsearch at $url did not answer in 5 minutes" >&2; exit 3; fi
  sleep 5
done
mlmon setup
