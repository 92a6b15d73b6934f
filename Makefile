# octopus -- build, test, demo, bench.
#
#   make                 build build/5.4/octopus/core.so (Lua 5.4; add build/5.4/?.so to package.cpath)
#   make LUA=luajit      build build/luajit/octopus/core.so (Lua 5.1 ABI: LuaJIT, Neovim, LÖVE)
#   make nvim            the Neovim plugin's build step: LuaJIT core installed as lua/octopus/core.so
#   make deps            install the Debian packages the project needs (as root, idempotent)
#   make test            deps + busted under Lua 5.4, LuaJIT and 5.1-5.3 + ASan/UBSan + luarocks install check
#   make demo            deps + build + sandbox + examples/demo.lua against it
#   make test-valgrind   the C core under valgrind memcheck (part of make test)
#   make lint            luacheck over lua/ spec/ bin/ bench/ examples/ tools/ (part of make test)
#   make bench           all benchmarks (bench-json, ...)
#   make fuzz            libFuzzer on the JSON codec and the auth decoders (FUZZ_SECONDS each, default 60)

LUA      ?= lua5.4
CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes
CURL_CFLAGS := $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS   := $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)

ifeq ($(LUA),luajit)
  LUA_INC := $(shell pkg-config --cflags luajit 2>/dev/null || echo -I/usr/include/luajit-2.1)
  OUT     := build/luajit
else ifeq ($(LUA),lua5.1)
  LUA_INC := -I/usr/include/lua5.1
  OUT     := build/5.1
else
  V       := $(patsubst lua%,%,$(LUA))
  LUA_INC := -I/usr/include/lua$(V)
  OUT     := build/$(V)
endif

SRCS := $(wildcard csrc/*.c)
HDRS := $(wildcard csrc/*.h)
SO   := $(OUT)/octopus/core.so

BUSTED  := /usr/bin/busted
DEBIAN_PACKAGES := build-essential pkg-config lua5.4 liblua5.4-dev luajit libluajit-5.1-dev \
  lua5.1 liblua5.1-0-dev lua5.2 liblua5.2-dev lua5.3 liblua5.3-dev libcurl4-openssl-dev libsqlite3-dev lua-cjson lua-dkjson lua-busted lua-socket lua-sec \
  luarocks nginx-light openssl clang libclang-rt-14-dev valgrind neovim love zip ca-certificates \
  lua-argparse tmux chromium lua-check python3-requests python3-aiohttp

.PHONY: all build nvim deps lint test test-lua test-jit test-compat test-asan test-valgrind test-rock rockspec demo sandbox bench bench-json fuzz clean

all: build
build: $(SO)
	@# no ./octopus/core.so link any more: it shadowed the LuaJIT core in nvim started here
	@if [ -L octopus/core.so ]; then rm -f octopus/core.so; rmdir octopus 2>/dev/null || true; fi

$(SO): $(SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -std=gnu99 -fPIC -fvisibility=hidden $(LUA_INC) $(CURL_CFLAGS) \
	  -shared -o $@ $(SRCS) $(CURL_LIBS)

# The Neovim plugin's build step (lazy.nvim `build = "make nvim"`, packer `run = "make nvim"`):
# the LuaJIT core (and octopus.sqlite) copied to lua/octopus/core.so (sqlite.so), where Neovim's runtimepath loader
# (lua/?.so in every runtimepath entry) finds it. A copy, not a link: it survives `make clean`.
nvim:
	@$(MAKE) --no-print-directory build LUA=luajit
	@for m in core sqlite; do src=build/luajit/octopus/$$m.so dst=lua/octopus/$$m.so; \
	  [ -f $$src ] || continue; cmp -s $$src $$dst || { cp $$src $$dst.tmp && mv $$dst.tmp $$dst && \
	  echo "make nvim: installed $$dst (LuaJIT)"; } || exit 1; done

# Installs only what is missing, so it is quick on a ready machine.
deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	  grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing $$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root (or install: $$missing)"; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# Each run appends busted's own counts to build/counts (read by .ci/run).
BUSTED_RUN = $(BUSTED) --output=spec/count_handler.lua
# Every run goes on even when an earlier one failed; the summary decides.
# The runs are independent (each starts its own sandboxes on free ports, temp dirs of
# its own), so they go three at a time: most of a spec's time is waiting on sockets and
# child processes, not CPU. Each run's output is printed whole when it ends (-O); every
# run goes on even when another failed (-k); the summary counts what busted counted.
COMPAT_LUAS := lua5.3 lua5.2 lua5.1
TEST_RUNS := lint test-lua test-jit $(addprefix test-compat-,$(COMPAT_LUAS)) test-asan test-valgrind \
  test-rock soak-short
TEST_JOBS ?= 3
test: deps
	@rm -f build/counts
	$(MAKE) build LUA=lua5.4
	$(MAKE) nvim
	@for l in $(COMPAT_LUAS); do $(MAKE) --no-print-directory build LUA=$$l >/dev/null || exit 1; done
	@fail=0; $(MAKE) --no-print-directory -k -j$(TEST_JOBS) -O $(TEST_RUNS) || fail=1; \
	awk '{p+=$$1; f+=$$2} END {printf "all runs: %d passed, %d failed\n", p, f}' build/counts; \
	exit $$fail

# luacheck (Debian's lua-check) over every Lua file we write; .luacheckrc says how.
lint:
	luacheck -q lua spec bin bench examples tools

# Which specs run under which Lua. The library's specs (LIB_SPECS) run under every Lua;
# the rest once, where the Lua that runs busted makes no difference:
#  * ONCE_SPECS under 5.4: the sandbox (a 5.4 program), the command (bin/octopus is 5.4),
#    the examples and the demo (lua5.4), and the static checks of the tree;
#  * HOST_SPECS under LuaJIT: real Neovim and LÖVE processes;
#  * HEAVY_SPECS (long end-to-end runs of library code) under 5.4 and LuaJIT, not 5.1-5.3.
ALL_SPECS   := $(sort $(wildcard spec/*_spec.lua))
ONCE_SPECS  := spec/server_spec.lua $(wildcard spec/sandbox_*_spec.lua) spec/graphql_engine_spec.lua \
  $(wildcard spec/cli*_spec.lua) spec/demo_spec.lua spec/money_examples_spec.lua spec/documents_spec.lua \
  spec/annotations_spec.lua spec/api_doc_spec.lua spec/layers_spec.lua spec/error_codes_spec.lua \
  spec/rockspec_spec.lua
HOST_SPECS  := spec/hosts_spec.lua spec/nvim_plugin_spec.lua
HEAVY_SPECS := spec/chaos_spec.lua spec/money_client_spec.lua
LIB_SPECS   := $(filter-out $(ONCE_SPECS) $(HOST_SPECS) $(HEAVY_SPECS),$(ALL_SPECS))

test-lua: test-lua-lib test-lua-once
test-lua-lib:
	OCTOPUS_LUA=lua5.4 lua5.4 $(BUSTED_RUN) --lua=lua5.4 $(LIB_SPECS) $(HEAVY_SPECS)
test-lua-once:
	OCTOPUS_LUA=lua5.4 lua5.4 $(BUSTED_RUN) --lua=lua5.4 $(ONCE_SPECS)
test-jit:
	OCTOPUS_LUA=luajit luajit $(BUSTED_RUN) $(LIB_SPECS) $(HEAVY_SPECS) $(HOST_SPECS)
# The library's specs on the older ABIs (each with its own core build).
test-compat: $(addprefix test-compat-,$(COMPAT_LUAS))
test-compat-%:
	@$(MAKE) --no-print-directory build LUA=$* >/dev/null
	OCTOPUS_LUA=$* $* $(BUSTED_RUN) --lua=$* $(LIB_SPECS)

# The C-facing specs under AddressSanitizer + UndefinedBehaviorSanitizer.
ASAN_SO := build/asan/octopus/core.so
ASAN_RT := $(shell clang -print-file-name=libclang_rt.asan-x86_64.so 2>/dev/null)
$(ASAN_SO): $(SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	clang -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	  $(WARN) -fPIC -shared -fvisibility=hidden -I/usr/include/lua5.4 $(CURL_CFLAGS) -o $@ $(SRCS) $(CURL_LIBS)
test-asan: $(ASAN_SO)
	LD_PRELOAD=$(ASAN_RT) ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  OCTOPUS_CPATH=build/asan/?.so OCTOPUS_LUA=lua5.4 lua5.4 $(BUSTED_RUN) --tags=core spec

# Every tools/valgrind_*.lua script under memcheck with the 5.4 build: no leak
# and no invalid access in our code (tools/valgrind.supp lists the one-time
# library initialisation that is not ours).
VALGRIND := valgrind -q --suppressions=tools/valgrind.supp --keep-debuginfo=yes --leak-check=full \
  --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99
test-valgrind: build
	@fail=0; for s in tools/valgrind_*.lua; do echo "valgrind $$s"; \
	  $(VALGRIND) lua5.4 $$s || fail=1; done; exit $$fail

test-rock:
	sh spec/rock_check.sh

# Regenerates the rockspec's module list from lua/ and csrc/.
rockspec:
	sh tools/gen_rockspec.sh

demo: deps build
	lua5.4 examples/demo.lua

sandbox: deps build
	lua5.4 bin/octopus sandbox

bench: bench-json bench-client bench-async bench-bill bench-store bench-readings
bench-json: build
	lua5.4 bench/json_bench.lua
	luajit bench/json_bench.lua

# Sequential GETs against a throwaway nginx (bench/nginx.sh, pinned to CPU 0):
# the client vs plain C with one libcurl handle, LuaSocket and curl processes.
# The client side runs on CPU 1 when taskset exists.
bench-client: build
	$(MAKE) --no-print-directory build LUA=luajit
	@mkdir -p build/bench
	$(CC) -O2 $(WARN) -o build/bench/c_limit bench/c_limit.c $(CURL_CFLAGS) $(CURL_LIBS)
	@pin=$$(command -v taskset >/dev/null 2>&1 && echo "taskset -c 1"); \
	$$pin lua5.4 bench/client_bench.lua && $$pin luajit bench/client_bench.lua

# The async layer: 100 GETs with 50 ms latency, sequential vs client:map (concurrency
# 100), and the per-request overhead of a task vs a blocking call (against nginx).
bench-async: build
	$(MAKE) --no-print-directory build LUA=luajit
	lua5.4 bench/async_bench.lua
	luajit bench/async_bench.lua

# ---- octopus.sqlite (issue 12): its own module, so the HTTP client alone never needs
# libsqlite3. csrc/sqlite/*.c is outside core.so's $(wildcard csrc/*.c); error.c is
# compiled into both (its symbols are hidden).
SQLITE_SRCS := $(wildcard csrc/sqlite/*.c) csrc/error.c
SQLITE_LIBS := $(shell pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)
SQLITE_SO   := $(OUT)/octopus/sqlite.so
ASAN_SQLITE_SO := build/asan/octopus/sqlite.so
build: $(SQLITE_SO)
$(SQLITE_SO): $(SQLITE_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -std=gnu99 -fPIC -fvisibility=hidden $(LUA_INC) $(CURL_CFLAGS) \
	  -shared -o $@ $(SQLITE_SRCS) $(SQLITE_LIBS)
	@# no ./octopus/sqlite.so link (as for core.so: it would shadow the LuaJIT build in nvim)
	@if [ -L octopus/sqlite.so ]; then rm -f octopus/sqlite.so; rmdir octopus 2>/dev/null || true; fi
test-asan: $(ASAN_SQLITE_SO)
$(ASAN_SQLITE_SO): $(SQLITE_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	clang -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	  $(WARN) -fPIC -shared -fvisibility=hidden -I/usr/include/lua5.4 $(CURL_CFLAGS) -o $@ $(SQLITE_SRCS) $(SQLITE_LIBS)
# insert / read / by-day / export a decade / re-sync against the sandbox (bench/store_bench.lua)
.PHONY: bench-store
bench-store: build
	lua5.4 bench/store_bench.lua
	$(MAKE) --no-print-directory build LUA=luajit
	luajit bench/store_bench.lua
# ---- end octopus.sqlite

# The bill engine: a year of half hours (17,520 rows) on one tariff and on ten (pure Lua),
# then client:compare over 12 months against the sandbox (TLS): fetching vs pricing.
.PHONY: bench-bill
bench-bill: build
	$(MAKE) --no-print-directory build LUA=luajit
	BENCH_SANDBOX=1 lua5.4 bench/bill_bench.lua
	BENCH_SANDBOX=1 luajit bench/bill_bench.lua

FUZZ_SECONDS ?= 60
FUZZ_CC := clang -O1 -g -fsanitize=fuzzer,address,undefined -I/usr/include/lua5.4 -Icsrc
fuzz:
	@mkdir -p build/fuzz fuzz/corpus fuzz/corpus-auth
	$(FUZZ_CC) fuzz/json_fuzz.c csrc/json.c csrc/error.c -llua5.4 -o build/fuzz/json_fuzz
	$(FUZZ_CC) fuzz/auth_fuzz.c csrc/auth.c csrc/json.c csrc/error.c -llua5.4 -o build/fuzz/auth_fuzz
	build/fuzz/json_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=131072 fuzz/corpus fuzz/seeds
	build/fuzz/auth_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 fuzz/corpus-auth fuzz/seeds-auth

# ---- octopus.core under injected allocation failures (fuzz/oom_multi.c, ASan/UBSan and
# LeakSanitizer): a raise inside a multi's collect loses no completion. Runs with test-asan.
OOM_BIN := build/asan/oom_multi
$(OOM_BIN): fuzz/oom_multi.c $(SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	clang -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	  $(WARN) -I/usr/include/lua5.4 -Icsrc $(CURL_CFLAGS) -o $@ fuzz/oom_multi.c $(SRCS) -llua5.4 $(CURL_LIBS)
test-oom: $(OOM_BIN)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 $(OOM_BIN)
test-asan: test-oom
.PHONY: test-oom
# ---- end octopus.core allocation failures

# ---- soak, chaos and sandbox fuzz (issue 15): tools/soak.lua runs tools/soak_worker.lua on
# Lua 5.4, LuaJIT and inside headless Neovim at once, each against its own sandbox
# (--access-ttl 3 --refresh-ttl 8) behind its own chaos proxy (tools/chaos_proxy.lua),
# and fails on an undocumented error code, a POST delivered twice, a task left running,
# or RSS/fd growth (a slope over the run). soak-short (30 s) runs inside make test.
SOAK_SECONDS ?= 300
.PHONY: soak soak-short fuzz-sandbox bench-readings
soak: build
	$(MAKE) --no-print-directory build LUA=luajit
	lua5.4 tools/soak.lua $(SOAK_SECONDS)
soak-short: build
	$(MAKE) --no-print-directory build LUA=luajit
	lua5.4 tools/soak.lua 30
# the sandbox under random and mutated HTTP requests and GraphQL documents (spec/sandbox_fuzz_spec.lua
# runs a short one): no crash, no 500 from malformed input, no request slower than 2 s
fuzz-sandbox: build
	lua5.4 tools/sandbox_fuzz.lua $(FUZZ_SECONDS)
# bytes per reading row held by :all(), ten years iterated in flat memory, a year with 100 ms latency
bench-readings: build
	$(MAKE) --no-print-directory build LUA=luajit
	lua5.4 bench/readings_memory.lua
	luajit bench/readings_memory.lua
# ---- end soak, chaos and sandbox fuzz

clean:
	rm -rf build octopus lua/octopus/core.so lua/octopus/sqlite.so
