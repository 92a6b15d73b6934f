/*
 * oom_multi.c -- allocation failures injected into a multi's perform/collect
 * (csrc/multi.c), run by `make test-oom` under ASan/UBSan (part of make test-asan).
 *
 * A PUC Lua state (5.4 in make; it builds for 5.1-5.3 too) whose allocator can be
 * told to fail every allocation after the next k; octopus.core linked in. For
 * k = 0, 1, 2, ... : five transfers to a
 * loopback LuaSocket server in the same process get their whole responses into
 * the kernel's buffers, then m:perform() runs with the allocator failing after k
 * allocations (so curl finishes the transfers and collect() raises at every
 * possible point in turn). Then, with the allocator healthy again:
 *  - every transfer is reported exactly once by later perform() calls (a raise
 *    mid-collect loses nothing, also what that batch had already gathered);
 *  - a finished but unreported transfer can still be cancelled (m:cancel -> true,
 *    and it is never reported afterwards);
 *  - nothing leaks (LeakSanitizer) and no access is invalid (ASan).
 * Stops when a perform() no longer hits the injected failure (every point covered).
 * Exit status 0 on success, 1 with a message on the first violation.
 */
#include <stdio.h>
#include <stdlib.h>

#include <lualib.h>

#include "octopus.h"

static long fail_after = -1;   /* -1: never fail; n: n more allocations succeed */
static int failed = 0;         /* an allocation was refused since the last reset */

static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    /* ptr == NULL: a new object (osize is its type then); else a resize */
    if (fail_after >= 0 && (ptr == NULL || nsize > osize)) {
        if (fail_after == 0) {
            failed = 1;
            return NULL;
        }
        fail_after--;
    }
    return realloc(ptr, nsize);
}

/* fail_after(n): n >= 0 arms the failure, -1 disarms; returns whether an
 * allocation was refused since the last call. */
static int l_fail_after(lua_State *L) {
    long n = (long)luaL_checkinteger(L, 1);
    int was = failed;
    failed = 0;
    fail_after = n;
    lua_pushboolean(L, was);
    return 1;
}

static const char script[] =
    "local socket = require 'socket'\n"
    "local core = require 'octopus.core'\n"
    "local fail_after = ...\n"
    "local N = 5\n"
    "local server = assert(socket.bind('127.0.0.1', 0))\n"
    "server:settimeout(0)\n"
    "local _, port = server:getsockname()\n"
    "local url = 'http://127.0.0.1:' .. port .. '/'\n"
    "local reply = 'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nX-Test: yes\\r\\n\\r\\nok'\n"
    "local covered = false\n"
    "for k = 0, 3000 do\n"
    "  local m = core.multi()\n"
    "  local pending, conns, heads = {}, {}, {}\n"
    "  for i = 1, N do pending[m:add{ url = url .. i }] = true end\n"
    "  -- drive curl until the server holds every request head\n"
    "  local complete = 0\n"
    "  for _ = 1, 2000 do\n"
    "    assert(#m:perform() == 0, 'a transfer finished before its reply')\n"
    "    local c = server:accept()\n"
    "    if c then c:settimeout(0); conns[#conns + 1] = c; heads[c] = '' end\n"
    "    complete = 0\n"
    "    for _, cc in ipairs(conns) do\n"
    "      local _, _, part = cc:receive('*a')\n"
    "      heads[cc] = heads[cc] .. (part or '')\n"
    "      if heads[cc]:find('\\r\\n\\r\\n', 1, true) then complete = complete + 1 end\n"
    "    end\n"
    "    if complete == N then break end\n"
    "    socket.sleep(0.001)\n"
    "  end\n"
    "  assert(complete == N, 'requests did not arrive')\n"
    "  for _, c in ipairs(conns) do c:settimeout(1); assert(c:send(reply)) end\n"
    "  socket.sleep(0.005)\n"
    "  collectgarbage()\n"
    "  fail_after(k)\n"
    "  local ok, res = pcall(m.perform, m)\n"
    "  local hit = fail_after(-1)\n"
    "  local got, n, cancelled = {}, 0, nil\n"
    "  local function take(list)\n"
    "    for _, c in ipairs(list) do\n"
    "      if not pending[c.id] then error(('k=%d: id %s reported twice or unknown'):format(k, tostring(c.id))) end\n"
    "      if c.status ~= 200 or c.body ~= 'ok' or c.headers['x-test'] ~= 'yes' then\n"
    "        error(('k=%d: bad completion %s'):format(k, tostring(c.err)))\n"
    "      end\n"
    "      pending[c.id] = nil\n"
    "      n = n + 1\n"
    "    end\n"
    "  end\n"
    "  if ok then take(res)\n"
    "  elseif k % 2 == 1 then\n"
    "    -- a finished, unreported transfer is still known: cancel it\n"
    "    local id = next(pending)\n"
    "    if not m:cancel(id) then error(('k=%d: transfer %d lost (cannot cancel it)'):format(k, id)) end\n"
    "    pending[id] = nil\n"
    "    cancelled = id\n"
    "  end\n"
    "  for _ = 1, 2000 do\n"
    "    if next(pending) == nil then break end\n"
    "    take(m:perform())\n"
    "    socket.sleep(0.001)\n"
    "  end\n"
    "  if next(pending) ~= nil then\n"
    "    error(('k=%d: completion %d lost after a raise in perform (%s)'):format(k, next(pending), tostring(res)))\n"
    "  end\n"
    "  if m:count() ~= 0 then error(('k=%d: count %d after every completion'):format(k, m:count())) end\n"
    "  if cancelled and m:cancel(cancelled) then error('cancelled twice') end\n"
    "  m:close()\n"
    "  for _, c in ipairs(conns) do c:close() end\n"
    "  if not hit then covered = k break end\n"
    "end\n"
    "server:close()\n"
    "assert(covered, 'the injected failure never stopped firing')\n"
    "return covered\n";

int main(void) {
    lua_State *L = lua_newstate(limited_alloc, NULL);
    int rc = 0;
    if (L == NULL) return 1;
    luaL_openlibs(L);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, luaopen_octopus_core);
    lua_setfield(L, -2, "octopus.core");
    lua_pop(L, 2);
    if (luaL_loadbuffer(L, script, sizeof script - 1, "=oom_multi") != 0) {
        fprintf(stderr, "oom_multi: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return 1;
    }
    lua_pushcfunction(L, l_fail_after);
    if (lua_pcall(L, 1, 1, 0) != 0) {
        fprintf(stderr, "oom_multi: FAILED: %s\n", lua_tostring(L, -1));
        rc = 1;
    } else {
        printf("oom_multi: ok (an allocation failure at each of the first %d allocations of "
               "a perform that completes 5 transfers)\n", (int)lua_tointeger(L, -1));
    }
    lua_close(L);
    return rc;
}
