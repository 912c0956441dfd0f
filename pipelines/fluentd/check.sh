#!/usr/bin/env bash
# Run the committed fluent.conf on a real Fluentd, from sources, against a real
# Elasticsearch, and check what lands there (pipelines/fluentd/check.py).
#
#   bash pipelines/fluentd/check.sh FLUENTD_SRC PLUGIN_SRC [DEPENDENCY_SRC ...]
#
# FLUENTD_SRC: fluent/fluentd at v1.17.1; PLUGIN_SRC: uken/fluent-plugin-elasticsearch
# at v5.4.3; DEPENDENCY_SRC: source trees of the Ruby libraries Debian lacks or has
# too old (elasticsearch-ruby 8.15.x, elastic-transport-ruby 8.3.x, faraday 2.x,
# faraday-excon, faraday-net_http, serverengine >= 2.3.2). Each tree's lib/ and
# */lib/ go on RUBYLIB; Debian's ruby-* packages supply the rest.
#
# Environment: MLMON_ES_URL (default http://127.0.0.1:9200; security off),
# FLUENTD_PORT (forward, default 24224), FLUENTD_MONITOR_PORT (default 24220),
# PYTHON (default .venv/bin/python), FLUENTD_CHECK_LOG (the agent log, kept).
# A maintainer's check beside `make test`, not in
# it: CI cannot fetch the sources. Nothing fetched is kept in the repository.
set -euo pipefail

if [ "$#" -lt 2 ]; then
    echo "usage: bash pipelines/fluentd/check.sh FLUENTD_SRC PLUGIN_SRC [DEPENDENCY_SRC ...]" >&2
    exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
fluentd_src="$(cd "$1" && pwd)"
[ -x "$fluentd_src/bin/fluentd" ] || { echo "check.sh: $1 has no bin/fluentd" >&2; exit 2; }
[ -f "$2/lib/fluent/plugin/out_elasticsearch.rb" ] \
    || { echo "check.sh: $2 is not fluent-plugin-elasticsearch" >&2; exit 2; }

rubylib=""
for src in "$@"; do
    for lib in "$src/lib" "$src"/*/lib; do
        [ -d "$lib" ] && rubylib="$rubylib${rubylib:+:}$(cd "$lib" && pwd)"
    done
done
export RUBYLIB="$rubylib${RUBYLIB:+:$RUBYLIB}"
export MLMON_ES_URL="${MLMON_ES_URL:-http://127.0.0.1:9200}"
forward_port="${FLUENTD_PORT:-24224}"
monitor_port="${FLUENTD_MONITOR_PORT:-24220}"
python="${PYTHON:-$root/.venv/bin/python}"

for port in "$forward_port" "$monitor_port"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "check.sh: port $port is taken (set FLUENTD_PORT / FLUENTD_MONITOR_PORT)" >&2
        exit 2
    fi
done

work="$(mktemp -d /tmp/mlmon-fluentd-check.XXXXXX)"
agent=""
cleanup() {
    if [ -n "$agent" ] && kill -0 "$agent" 2>/dev/null; then
        kill -TERM "$agent"
        for _ in $(seq 30); do kill -0 "$agent" 2>/dev/null || break; sleep 1; done
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# The committed file, changed only where a local run must differ: buffer paths,
# loopback binds, ports. Each substitution must match, or the check stops.
conf="$work/fluent.conf"
sed -e "s#path /fluentd/buffer/#path $work/buffer/#" \
    -e "s#bind 0.0.0.0#bind 127.0.0.1#" \
    -e "s#port 24224\$#port $forward_port#" \
    -e "s#port 24220\$#port $monitor_port#" \
    "$here/fluent.conf" >"$conf"
for want in "path /fluentd/buffer/:3" "bind 0.0.0.0:2" "port 24224\$:1" "port 24220\$:1"; do
    found="$(grep -c "${want%:*}" "$here/fluent.conf" || true)"
    if [ "$found" != "${want##*:}" ]; then
        echo "check.sh: fluent.conf has $found lines '${want%:*}', expected ${want##*:}" >&2
        exit 1
    fi
done
echo "local copy of fluent.conf: $(diff "$here/fluent.conf" "$conf" | grep -c '^>' || true) lines changed (buffer paths, binds, ports)"

# -v: debug level, so the plugin's per-bulk counts (duplicates) reach the agent log.
log="${FLUENTD_CHECK_LOG:-/tmp/mlmon-fluentd-check-agent.log}"  # kept for reading after
echo "fluentd $(ruby "$fluentd_src/bin/fluentd" --version | awk '{print $2}'), Elasticsearch at $MLMON_ES_URL"
ruby "$fluentd_src/bin/fluentd" -c "$conf" -v >"$log" 2>&1 &
agent=$!
for _ in $(seq 120); do
    grep -q "fluentd worker is now running" "$log" && break
    kill -0 "$agent" 2>/dev/null || break
    sleep 1
done
if ! grep -q "fluentd worker is now running" "$log"; then
    echo "check.sh: Fluentd did not start; its log:" >&2
    tail -40 "$log" >&2
    exit 1
fi
warnings="$(grep -c '\[warn\]' "$log" || true)"
echo "agent started; $warnings warnings at start"
grep '\[warn\]' "$log" | head -5 || true

status=0
"$python" "$here/check.py" --forward "127.0.0.1:$forward_port" \
    --monitor "http://127.0.0.1:$monitor_port" --log "$log" || status=$?

kill -0 "$agent" 2>/dev/null && echo "agent alive at the end" || { echo "FAIL  agent exited"; status=1; }
crashes="$(grep -cE 'SyntaxError|Worker 0 exited|unexpected error' "$log" || true)"
echo "agent log: $(wc -l <"$log") lines, $crashes crash lines, $(grep -c '\[error\]' "$log" || true) error lines"
[ "$crashes" = 0 ] || { grep -E 'SyntaxError|Worker 0 exited|unexpected error' "$log" | head -5; status=1; }
if [ "$status" != 0 ]; then
    echo "--- agent log (last 40 lines)"
    tail -40 "$log"
fi
exit "$status"
