/*
 * clock.c -- the system clock the Lua side reads through its clock seam
 * (octopus.pipeline.clock): core.monotonic() and core.wall() in seconds as
 * floats, core.sleep(seconds). No state.
 *
 * Why in C: Lua's os.time() has one-second resolution and there is no
 * monotonic clock or sub-second sleep in standard Lua; the client rock must
 * not depend on LuaSocket for them.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <time.h>

#include "octopus.h"

static double timespec_seconds(const struct timespec *ts) {
    return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

/* core.monotonic() -> seconds since an arbitrary point (CLOCK_MONOTONIC) */
static int clock_monotonic(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, timespec_seconds(&ts));
    return 1;
}

/* core.wall() -> Unix time in seconds, with the fraction (CLOCK_REALTIME) */
static int clock_wall(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushnumber(L, timespec_seconds(&ts));
    return 1;
}

/* core.sleep(seconds): sleeps the whole interval (restarts after signals);
 * raises on a negative, NaN or absurd (> 1 day) interval. */
static int clock_sleep(lua_State *L) {
    double s = luaL_checknumber(L, 1);
    struct timespec req;
    luaL_argcheck(L, s == s && s >= 0 && s <= 86400, 1, "seconds must be between 0 and 86400");
    req.tv_sec = (time_t)floor(s);
    req.tv_nsec = (long)((s - floor(s)) * 1e9);
    if (req.tv_nsec > 999999999L) req.tv_nsec = 999999999L;
    while (nanosleep(&req, &req) != 0 && errno == EINTR) {}
    return 0;
}

void octopus_open_clock(lua_State *L) {
    lua_pushcfunction(L, clock_monotonic);
    lua_setfield(L, -2, "monotonic");
    lua_pushcfunction(L, clock_wall);
    lua_setfield(L, -2, "wall");
    lua_pushcfunction(L, clock_sleep);
    lua_setfield(L, -2, "sleep");
}
