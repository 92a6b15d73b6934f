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
        "csrc/auth.c",
        "csrc/core.c",
        "csrc/error.c",
        "csrc/http.c",
        "csrc/json.c",
        "csrc/multi.c",
        "csrc/transfer.c",
      },
      libraries = { "curl" },
      incdirs = { "csrc", "$(CURL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)" },
    },
    ["octopus.cli"] = "lua/octopus/cli.lua",
    ["octopus.client"] = "lua/octopus/client.lua",
    ["octopus.errors"] = "lua/octopus/errors.lua",
    ["octopus"] = "lua/octopus/init.lua",
    ["octopus.page"] = "lua/octopus/page.lua",
    ["octopus.rest.accounts"] = "lua/octopus/rest/accounts.lua",
    ["octopus.rest.common"] = "lua/octopus/rest/common.lua",
    ["octopus.rest.industry"] = "lua/octopus/rest/industry.lua",
    ["octopus.rest.meters"] = "lua/octopus/rest/meters.lua",
    ["octopus.rest.products"] = "lua/octopus/rest/products.lua",
    ["octopus.rest.quotes"] = "lua/octopus/rest/quotes.lua",
    ["octopus.rest.tariffs"] = "lua/octopus/rest/tariffs.lua",
    ["octopus.sandbox.app"] = "lua/octopus/sandbox/app.lua",
    ["octopus.sandbox.certs"] = "lua/octopus/sandbox/certs.lua",
    ["octopus.sandbox.data"] = "lua/octopus/sandbox/data.lua",
    ["octopus.sandbox.faults"] = "lua/octopus/sandbox/faults.lua",
    ["octopus.sandbox.graphql.execute"] = "lua/octopus/sandbox/graphql/execute.lua",
    ["octopus.sandbox.graphql"] = "lua/octopus/sandbox/graphql/init.lua",
    ["octopus.sandbox.graphql.introspection"] = "lua/octopus/sandbox/graphql/introspection.lua",
    ["octopus.sandbox.graphql.lexer"] = "lua/octopus/sandbox/graphql/lexer.lua",
    ["octopus.sandbox.graphql.parser"] = "lua/octopus/sandbox/graphql/parser.lua",
    ["octopus.sandbox.graphql.schema"] = "lua/octopus/sandbox/graphql/schema.lua",
    ["octopus.sandbox.graphql.validate"] = "lua/octopus/sandbox/graphql/validate.lua",
    ["octopus.sandbox.graphql.values"] = "lua/octopus/sandbox/graphql/values.lua",
    ["octopus.sandbox.graphql_api"] = "lua/octopus/sandbox/graphql_api.lua",
    ["octopus.sandbox"] = "lua/octopus/sandbox/init.lua",
    ["octopus.sandbox.jwt"] = "lua/octopus/sandbox/jwt.lua",
    ["octopus.sandbox.ratelimit"] = "lua/octopus/sandbox/ratelimit.lua",
    ["octopus.sandbox.resolvers"] = "lua/octopus/sandbox/resolvers.lua",
    ["octopus.sandbox.rest"] = "lua/octopus/sandbox/rest.lua",
    ["octopus.sandbox.rest_tariffs"] = "lua/octopus/sandbox/rest_tariffs.lua",
    ["octopus.sandbox.server"] = "lua/octopus/sandbox/server.lua",
    ["octopus.time"] = "lua/octopus/time.lua",
    ["octopus.url"] = "lua/octopus/url.lua",
  },
  install = { bin = { octopus = "bin/octopus" } },
}
