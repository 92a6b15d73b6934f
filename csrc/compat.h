/*
 * compat.h -- one source for Lua 5.1/LuaJIT, 5.2, 5.3 and 5.4.
 *
 * Shims are static functions under octopus_ names (never the real Lua API
 * names), so linking next to another module's compat layer cannot clash.
 */
#ifndef OCTOPUS_COMPAT_H
#define OCTOPUS_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM >= 503
#define OCTOPUS_HAS_INTEGERS 1
#else
#define OCTOPUS_HAS_INTEGERS 0
#endif

#if LUA_VERSION_NUM == 501
#define octopus_rawlen(L, i) lua_objlen((L), (i))
#define octopus_getuservalue(L, i) lua_getfenv((L), (i))
#define octopus_setuservalue(L, i) lua_setfenv((L), (i))

static inline void octopus_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
    luaL_checkstack(L, nup, "too many upvalues");
    for (; l->name != NULL; l++) {
        int i;
        for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
        lua_pushcclosure(L, l->func, nup);
        lua_setfield(L, -(nup + 2), l->name);
    }
    lua_pop(L, nup);
}

#define octopus_newlib(L, l) (lua_newtable(L), octopus_setfuncs((L), (l), 0))
#else
#define octopus_rawlen(L, i) lua_rawlen((L), (i))
#define octopus_getuservalue(L, i) ((void)lua_getuservalue((L), (i)))
#define octopus_setuservalue(L, i) lua_setuservalue((L), (i))
#define octopus_setfuncs(L, l, n) luaL_setfuncs((L), (l), (n))
#define octopus_newlib(L, l) luaL_newlib((L), (l))
#endif

/* Set the metatable registered under tname on the value at the top. */
static inline void octopus_setmetatable(lua_State *L, const char *tname) {
    luaL_getmetatable(L, tname);
    lua_setmetatable(L, -2);
}

#endif
