#!/bin/sh
# Checks that `luarocks make` installs a module a clean lua5.4 can require.
set -eu
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
luarocks --lua-version=5.4 make rockspec/octopus-scm-1.rockspec --deps-mode=none --tree "$tree" \
  CURL_INCDIR=/usr/include/x86_64-linux-gnu CURL_LIBDIR=/usr/lib/x86_64-linux-gnu >"$tree/log" 2>&1 \
  || { cat "$tree/log"; exit 1; }
cd /
LUA_PATH="$tree/share/lua/5.4/?.lua;$tree/share/lua/5.4/?/init.lua;;" \
LUA_CPATH="$tree/lib/lua/5.4/?.so;;" \
  lua5.4 -e 'local o = require "octopus"; assert(o.version == require("octopus.core").version)
             assert(o.json.encode(o.json.decode("[1,2]")) == "[1,2]")
             local g = require "octopus.graphql"
             assert(g.documents.viewer:find("viewer", 1, true), "shipped .graphql documents installed")
             assert(require("octopus.async") and require("octopus.graphql.token_file"))
             print("rock ok: octopus " .. o.version)'
