/* auth.c -- placeholder until implemented. */
#include "octopus.h"

void octopus_open_auth(lua_State *L) { (void)L; }
