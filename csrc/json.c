/* json.c -- placeholder until implemented. */
#include "octopus.h"

void octopus_open_json(lua_State *L) { (void)L; }
