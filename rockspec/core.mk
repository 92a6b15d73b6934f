# rockspec/core.mk: builds and installs octopus.core (csrc/*.c on libcurl) and
# octopus.sqlite (csrc/sqlite/*.c on libsqlite3, a module of its own) for
# `luarocks make rockspec/octopus-scm-1.rockspec` (the rock's `make` build type).
#
# luarocks passes CC, CFLAGS, LIBFLAG, LUA_INCDIR and CURL_LIBDIR (build) and LIBDIR
# (install). libcurl is found the way the system lays it out: pkg-config first (on
# Debian that covers the multiarch include and lib directories, which the compiler
# searches anyway), else -lcurl in CURL_LIBDIR or the default search path. No variable
# needs to be given by hand.
CC         ?= cc
CFLAGS     ?= -O2 -fPIC
LIBFLAG    ?= -shared
LUA_INCDIR ?= /usr/include/lua5.4
CURL_LIBDIR ?=
SQLITE_LIBDIR ?=

CURL_CFLAGS := $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS   := $(shell pkg-config --libs libcurl 2>/dev/null || echo $(if $(CURL_LIBDIR),-L$(CURL_LIBDIR)) -lcurl)
SRCS        := $(wildcard csrc/*.c)
SQLITE_LIBS := $(shell pkg-config --libs sqlite3 2>/dev/null || echo $(if $(SQLITE_LIBDIR),-L$(SQLITE_LIBDIR)) -lsqlite3)
SQLITE_SRCS := $(wildcard csrc/sqlite/*.c) csrc/error.c
# one output directory per Lua ABI, so a 5.4 and a LuaJIT build never mix
OUT         := build/rock/$(notdir $(LUA_INCDIR))

.PHONY: core install
core:
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -std=gnu99 -fPIC -fvisibility=hidden -Icsrc -I$(LUA_INCDIR) $(CURL_CFLAGS) \
	  $(LIBFLAG) -o $(OUT)/core.so $(SRCS) $(CURL_LIBS)
	$(CC) $(CFLAGS) -std=gnu99 -fPIC -fvisibility=hidden -Icsrc -I$(LUA_INCDIR) \
	  $(LIBFLAG) -o $(OUT)/sqlite.so $(SQLITE_SRCS) $(SQLITE_LIBS)

install:
	@mkdir -p $(LIBDIR)/octopus
	cp $(OUT)/core.so $(LIBDIR)/octopus/core.so
	cp $(OUT)/sqlite.so $(LIBDIR)/octopus/sqlite.so
