/* http.c -- placeholder until implemented. */
#include "octopus.h"

void octopus_open_http(lua_State *L) { (void)L; }
