#!/bin/sh
# Writes rockspec/octopus-scm-1.rockspec listing every Lua module under lua/ and
# every C source under csrc/ (spec/rockspec_spec.lua fails when one is missing).
# Run after adding a module or a C file: `make rockspec`.
set -eu
cd "$(dirname "$0")/.."
out=rockspec/octopus-scm-1.rockspec
{
  cat <<'HEAD'
package = "octopus"
version = "scm-1"
source = { url = "git+file:///work/main" }
description = {
  summary = "Octopus Energy Japan (Kraken) client: REST + GraphQL, C core on libcurl",
  license = "MIT",
}
dependencies = { "lua >= 5.1" }
external_dependencies = { CURL = { header = "curl/curl.h" } }
build = {
  type = "builtin",
  modules = {
    ["octopus.core"] = {
      sources = {
HEAD
  for f in $(ls csrc/*.c | LC_ALL=C sort); do echo "        \"$f\","; done
  cat <<'MID'
      },
      libraries = { "curl" },
      incdirs = { "csrc", "$(CURL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)" },
    },
MID
  for f in $(find lua -name '*.lua' | LC_ALL=C sort); do
    m=$(echo "$f" | sed -e 's|^lua/||' -e 's|\.lua$||' -e 's|/init$||' -e 's|/|.|g')
    echo "    [\"$m\"] = \"$f\","
  done
  cat <<'TAIL'
  },
  install = { bin = { octopus = "bin/octopus" } },
}
TAIL
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
