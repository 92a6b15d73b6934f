/* multi.c -- placeholder until implemented. */
#include "octopus.h"

void octopus_open_multi(lua_State *L) { (void)L; }
