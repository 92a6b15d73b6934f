#!/bin/sh
# bench/nginx.sh -- a throwaway nginx on loopback for the client benchmark.
#
#   sh bench/nginx.sh start     -> prints one line: DIR HTTP_PORT HTTPS_PORT CA_FILE
#   sh bench/nginx.sh stop DIR  -> stops that nginx (by its pid file) and removes DIR
#
# Invariants: everything (config, pid, logs, temp paths, the static JSON, a
# self-signed certificate for 127.0.0.1 that doubles as the CA file) lives in
# one mktemp directory; nginx listens on 127.0.0.1 only, one worker pinned to
# CPU 0 when taskset exists, access_log off, keepalive_requests 100000.
# Every /v1/... path answers the same ~2 KB JSON document (HTTP/1.1 only, so
# every peer speaks the same protocol).
set -eu
NGINX=${NGINX:-/usr/sbin/nginx}

free_port() {
  lua5.4 -e 'local s = assert(require("socket").bind("127.0.0.1", 0)); local _, p = s:getsockname(); s:close(); print(p)'
}

start() {
  dir=$(mktemp -d /tmp/octopus-bench-nginx.XXXXXX)
  chmod 755 "$dir"
  mkdir -p "$dir/www" "$dir/tmp" "$dir/logs"
  # ~2 KB product list shaped like /v1/products/
  lua5.4 -e '
    local items = {}
    for i = 1, 7 do
      items[i] = string.format("{\"code\":\"JPN_KK_OCTOPUS_%02d\",\"full_name\":\"Octopus Electricity %d\",\"display_name\":\"Octopus %d\",\"description\":\"A simple electricity tariff with stepped unit rates.\",\"is_variable\":true,\"is_green\":%s,\"term\":null,\"available_from\":\"2026-04-01T00:00:00+09:00\",\"available_to\":null,\"brand\":\"OCTOPUS_ENERGY\"}", i, i, i, i % 2 == 0 and "true" or "false")
    end
    io.write("{\"count\":7,\"next\":null,\"previous\":null,\"results\":[", table.concat(items, ","), "]}\n")
  ' > "$dir/www/products.json"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1
  chmod 644 "$dir/key.pem" "$dir/cert.pem" "$dir/www/products.json"
  http=$(free_port); https=$(free_port)
  while [ "$https" = "$http" ]; do https=$(free_port); done
  cat > "$dir/nginx.conf" <<EOF
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 100000;
  keepalive_timeout 60s;
  sendfile on;
  tcp_nodelay on;
  gzip off;
  ssl_certificate $dir/cert.pem;
  ssl_certificate_key $dir/key.pem;
  ssl_session_cache shared:SSL:1m;
  server {
    listen 127.0.0.1:$http;
    listen 127.0.0.1:$https ssl;
    root $dir/www;
    location /v1/ { default_type application/json; try_files /products.json =404; }
    location / { return 404; }
  }
}
EOF
  pin=""
  if command -v taskset >/dev/null 2>&1; then pin="taskset -c 0"; fi
  $pin "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" >"$dir/logs/start.log" 2>&1 || {
    cat "$dir/logs/start.log" >&2; rm -rf "$dir"; exit 1; }
  # wait (bounded) until the pid file and the port answer
  i=0
  while [ $i -lt 50 ]; do
    if [ -s "$dir/nginx.pid" ] && curl -s -o /dev/null "http://127.0.0.1:$http/v1/products/"; then
      echo "$dir $http $https $dir/cert.pem"
      return 0
    fi
    i=$((i + 1)); sleep 0.1
  done
  echo "bench/nginx.sh: nginx did not come up" >&2
  stop "$dir"
  exit 1
}

stop() {
  dir=$1
  case "$dir" in /tmp/octopus-bench-nginx.*) ;; *) echo "bench/nginx.sh: refusing to stop '$dir'" >&2; exit 2;; esac
  if [ -s "$dir/nginx.pid" ]; then
    pid=$(cat "$dir/nginx.pid")
    kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do i=$((i + 1)); sleep 0.1; done
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:?usage: nginx.sh stop DIR}" ;;
  *) echo "usage: sh bench/nginx.sh start | stop DIR" >&2; exit 2 ;;
esac
