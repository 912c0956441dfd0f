#!/bin/bash
# Runs once in docker-compose (the `certs` service, Elasticsearch image): a CA and
# certificates for the elasticsearch and kibana hosts, with Elastic's own certutil,
# into the `certs` volume. Re-running keeps what exists.
set -euo pipefail
cd /usr/share/elasticsearch
out=config/certs
if [ ! -f "$out/ca/ca.crt" ]; then
  echo "certs: creating the CA"
  bin/elasticsearch-certutil ca --silent --pem --out "$out/ca.zip"
  unzip -q -o "$out/ca.zip" -d "$out"
fi
if [ ! -f "$out/elasticsearch/elasticsearch.crt" ]; then
  echo "certs: creating the elasticsearch and kibana certificates"
  cat > "$out/instances.yml" <<'YAML'
instances:
  - name: elasticsearch
    dns: [elasticsearch, localhost]
    ip: [127.0.0.1]
  - name: kibana
    dns: [kibana, localhost]
    ip: [127.0.0.1]
YAML
  bin/elasticsearch-certutil cert --silent --pem --in "$out/instances.yml" \
    --ca-cert "$out/ca/ca.crt" --ca-key "$out/ca/ca.key" --out "$out/certs.zip"
  unzip -q -o "$out/certs.zip" -d "$out"
fi
chown -R 1000:0 "$out"
find "$out" -type d -exec chmod 750 {} +
find "$out" -type f -exec chmod 640 {} +
# The CA certificate is public: every client (Fluentd runs as uid 999, mlmon's jobs,
# Kibana) must read it. Keys and the other certificates stay 1000:0, 640.
chmod 755 "$out" "$out/ca"
chmod 644 "$out/ca/ca.crt"
echo "certs: ready"
