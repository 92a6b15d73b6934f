/*
 * octopus.h -- internal header of the octopus.core C module.
 *
 * Everything here is hidden (-fvisibility=hidden); the only exported symbol
 * is luaopen_octopus_core (OCTOPUS_API).
 */
#ifndef OCTOPUS_H
#define OCTOPUS_H

#include "compat.h"

/* The one version string; Lua reads it as octopus.core.version. */
#define OCTOPUS_VERSION "0.1.0"

#define OCTOPUS_API __attribute__((visibility("default")))

/* Registry names of the userdata / shared metatables. */
#define OCTOPUS_ERROR_MT   "octopus.Error"
#define OCTOPUS_SESSION_MT "octopus.Session"
#define OCTOPUS_MULTI_MT   "octopus.Multi"
#define OCTOPUS_ARRAY_MT   "octopus.json.array"
#define OCTOPUS_OBJECT_MT  "octopus.json.object"

/* error.c: the one place that builds error values.
 * octopus_push_error pushes nil and an error table
 * { code = code, kind = kind, message = <formatted> } carrying the
 * octopus.Error metatable, and returns 2 (so `return octopus_push_error(...)`).
 */
int octopus_push_error(lua_State *L, const char *code, const char *kind,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void octopus_open_error(lua_State *L);  /* registers OCTOPUS_ERROR_MT */

/* Each concept registers its functions into the module table at the top. */
void octopus_open_json(lua_State *L);   /* sets core.json = {...} */
void octopus_open_http(lua_State *L);   /* sets core.session */
void octopus_open_multi(lua_State *L);  /* sets core.multi */
void octopus_open_auth(lua_State *L);   /* sets core.base64_*, basic_auth, jwt_claims */

OCTOPUS_API int luaopen_octopus_core(lua_State *L);

#endif
