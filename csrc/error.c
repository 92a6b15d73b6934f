/*
 * error.c -- the one place that builds the error values the C core returns.
 *
 * An error is a plain table { code, kind, message } with the shared
 * metatable "octopus.Error"; Lua (octopus.errors) adds fields and methods to
 * the same metatable, so C and Lua errors look alike. __tostring reads
 * "CODE: message".
 */
#include <stdarg.h>
#include <stdio.h>

#include "octopus.h"

int octopus_push_error(lua_State *L, const char *code, const char *kind,
                       const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lua_pushnil(L);
    lua_createtable(L, 0, 4);
    lua_pushstring(L, code);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, msg);
    lua_setfield(L, -2, "message");
    octopus_setmetatable(L, OCTOPUS_ERROR_MT);
    return 2;
}

static int error_tostring(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "code");
    lua_getfield(L, 1, "message");
    lua_pushfstring(L, "%s: %s", luaL_optstring(L, -2, "ERROR"),
                    luaL_optstring(L, -1, "(no message)"));
    return 1;
}

void octopus_open_error(lua_State *L) {
    if (luaL_newmetatable(L, OCTOPUS_ERROR_MT)) {
        lua_pushcfunction(L, error_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_newtable(L);
        lua_setfield(L, -2, "__index");
        lua_pushliteral(L, "octopus.Error");
        lua_setfield(L, -2, "__name");
    }
    lua_setfield(L, -2, "error_mt");  /* core.error_mt */
}
