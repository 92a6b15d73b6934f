#!/bin/sh
# spec/rock_check.sh (make test-rock): both rocks install with `luarocks make` and no
# variables, and work from outside the checkout.
#   * octopus into a Lua 5.4 tree and a LuaJIT tree, octopus-sandbox into the 5.4 tree;
#   * from `cd /`, with LUA_PATH/LUA_CPATH naming only the temporary tree (plus the
#     system defaults, for LuaSocket and LuaSec), a clean lua5.4 and luajit require the
#     client and read its shipped GraphQL documents;
#   * the installed `octopus-sandbox` serves the sandbox app and the echo app: one HTTP
#     request each (curl), one HTTPS request with the printed CA file, then shutdown.
# Every wait is bounded (10 s to start, 10 s to stop).
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "rock check: $*" >&2; exit 1; }

# luarocks for LuaJIT: the 5.1 ABI with LuaJIT's interpreter and headers
jit_inc=$(pkg-config --variable=includedir luajit 2>/dev/null || echo /usr/include/luajit-2.1)
cat > "$work/luajit-config.lua" <<EOF
lua_interpreter = "luajit"
variables = { LUA_DIR = "/usr", LUA_BINDIR = "/usr/bin", LUA_INCDIR = "$jit_inc" }
EOF

make_rock() {  # make_rock <tree> <lua-version> <rockspec> [config]
  log="$work/$(basename "$3").$2.log"
  ( cd "$repo" && env ${4:+LUAROCKS_CONFIG=$4} luarocks --lua-version="$2" make "$3" \
      --deps-mode=none --tree "$1" ) >"$log" 2>&1 || { cat "$log"; fail "luarocks make $3 ($2) failed"; }
}

t54="$work/tree-5.4" tjit="$work/tree-luajit"
make_rock "$t54" 5.4 rockspec/octopus-scm-1.rockspec
make_rock "$tjit" 5.1 rockspec/octopus-scm-1.rockspec "$work/luajit-config.lua"

client_check='
  local o = require "octopus"
  assert(o.version == require("octopus.core").version, "core and facade versions agree")
  assert(o.json.encode(o.json.decode("[1,2]")) == "[1,2]")
  local g = require "octopus.graphql"
  assert(g.documents.viewer:find("viewer", 1, true), "shipped .graphql documents installed")
  assert(require("octopus.async") and require("octopus.graphql.token_file"))
  assert(not pcall(require, "octopus.sandbox"), "the sandbox is not part of the client rock")
  local db = assert(require("octopus.sqlite").open(":memory:"))
  assert(db:exec("create table t (x)")) db:close()
  assert(require("octopus.history.store") and require("octopus.money.bill"))
  print("rock ok: octopus " .. o.version .. " on " .. (jit and jit.version or _VERSION))'
(cd / && LUA_PATH="$t54/share/lua/5.4/?.lua;$t54/share/lua/5.4/?/init.lua;;" \
  LUA_CPATH="$t54/lib/lua/5.4/?.so;;" lua5.4 -e "$client_check")
(cd / && LUA_PATH="$tjit/share/lua/5.1/?.lua;$tjit/share/lua/5.1/?/init.lua;;" \
  LUA_CPATH="$tjit/lib/lua/5.1/?.so;;" luajit -e "$client_check")

# then the sandbox rock into the 5.4 tree, beside the client it depends on
make_rock "$t54" 5.4 rockspec/octopus-sandbox-scm-1.rockspec
cd /

# the installed octopus-sandbox, on 5.4: one app at a time
export LUA_PATH="$t54/share/lua/5.4/?.lua;$t54/share/lua/5.4/?/init.lua;;"
export LUA_CPATH="$t54/lib/lua/5.4/?.so;;"
field() {  # field <json file> <name>: a string or number field of the first line
  lua5.4 -e "local j = require('octopus.core').json.decode(io.open('$1'):read('l'))
             io.write(tostring(j['$2']))"
}
serve() {  # serve <app> <path> <expected text>
  out="$work/$1.out"
  "$t54/bin/octopus-sandbox" --app "$1" --json --ttl 60 >"$out" 2>"$work/$1.err" &
  pid=$!
  pids="$pids $pid"
  i=0
  until [ -s "$out" ] && grep -q '}$' "$out"; do
    i=$((i + 1))
    [ $i -le 100 ] && kill -0 "$pid" 2>/dev/null || { cat "$work/$1.err"; fail "octopus-sandbox --app $1 did not start"; }
    sleep 0.1
  done
  http=$(field "$out" http)
  body=$(curl -sS --max-time 10 -f "$http$2") || fail "GET $http$2 failed"
  case "$body" in *"$3"*) ;; *) fail "GET $2 on the $1 app: unexpected $body" ;; esac
  if [ "$1" = sandbox ]; then
    gql=$(field "$out" graphql_url) ca=$(field "$out" ca_file)
    body=$(curl -sS --max-time 10 -f --cacert "$ca" -H 'Content-Type: application/json' \
      -d '{"query":"{ __typename }"}' "$gql") || fail "POST $gql (HTTPS) failed"
    case "$body" in *'"Query"'*) ;; *) fail "GraphQL over HTTPS: unexpected $body" ;; esac
  fi
  curl -sS --max-time 10 -f -X POST "$http/_sandbox/shutdown" >/dev/null || fail "shutdown failed"
  i=0
  while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1)); [ $i -le 100 ] || fail "octopus-sandbox --app $1 did not stop"; sleep 0.1
  done
  wait "$pid" || fail "octopus-sandbox --app $1 exited with status $?"
  echo "rock ok: octopus-sandbox --app $1 served GET $2"
}
serve sandbox /v1/products/ JPN_KK_
serve echo "/echo?rock=1" '"rock":"1"'
