/*
 * http.c -- core.session(opts) -> Session: a blocking HTTP client owning one
 * CURL easy handle, reused across requests (keep-alive, connection cache,
 * TLS session and CA cache).
 *
 *   session:request{ method, url, headers, body, timeout, connect_timeout,
 *                    max_body, on_progress, fresh_connect }
 *                                             -> status, headers, body, info
 *                                             | nil, err
 *   session:close()   idempotent; also __gc and __close
 *
 * Invariants (liolib.c style): the box is created closed (easy == NULL)
 * before anything is acquired, so a failure half-way leaves nothing
 * dangling; everything the session allocates is freed by session_close.
 * A request cannot start while another runs on the same session (an
 * on_progress callback calling back in): that raises, as does closing it
 * then. The request logic itself lives in transfer.c.
 */
#include <stdlib.h>

#include "octopus.h"

typedef struct {
    CURL *easy;  /* NULL when closed */
    int busy;    /* inside curl_easy_perform */
    struct octopus_http_opts opts;
    struct octopus_transfer t;
} Session;

static Session *check_session(lua_State *L) {
    Session *s = luaL_checkudata(L, 1, OCTOPUS_SESSION_MT);
    if (s->easy == NULL) luaL_error(L, "attempt to use a closed session");
    return s;
}

/* core.session([opts]): the box first, then the handle. */
static int session_new(lua_State *L) {
    Session *s;
    lua_settop(L, 1);
    s = lua_newuserdata(L, sizeof *s);
    s->easy = NULL;
    s->busy = 0;
    octopus_http_opts_init(&s->opts);
    octopus_transfer_init(&s->t);
    octopus_setmetatable(L, OCTOPUS_SESSION_MT);
    octopus_http_opts_parse(L, 1, &s->opts);
    s->easy = curl_easy_init();
    if (s->easy == NULL) return luaL_error(L, "curl_easy_init failed");
    if (octopus_easy_configure(s->easy, &s->opts) != CURLE_OK)
        return luaL_error(L, "libcurl refused the session settings");
    return 1;
}

/* session:request(req): stack 1 = session, 2 = request table. */
static int session_request(lua_State *L) {
    Session *s = check_session(L);
    CURLcode rc;
    int n;
    luaL_checktype(L, 2, LUA_TTABLE);
    if (s->busy) return luaL_error(L, "session is busy (request called from its own callback)");
    octopus_transfer_setup(L, 2, &s->t, s->easy, &s->opts);
    s->busy = 1;
    s->t.L = L;
    rc = curl_easy_perform(s->easy);
    s->t.L = NULL;
    s->busy = 0;
    n = octopus_transfer_push_result(L, &s->t, rc);
    octopus_transfer_done(L, &s->t);
    return n;
}

static int session_close(lua_State *L) {
    Session *s = luaL_checkudata(L, 1, OCTOPUS_SESSION_MT);
    if (s->busy) return luaL_error(L, "cannot close a session while its request runs");
    octopus_transfer_cleanup(L, &s->t);
    s->t.easy = NULL;
    if (s->easy != NULL) {
        curl_easy_cleanup(s->easy);
        s->easy = NULL;
    }
    octopus_http_opts_free(&s->opts);
    return 0;
}

static int session_gc(lua_State *L) {
    Session *s = luaL_checkudata(L, 1, OCTOPUS_SESSION_MT);
    s->busy = 0;  /* unreachable, so no request can be running */
    return session_close(L);
}

static int session_tostring(lua_State *L) {
    Session *s = luaL_checkudata(L, 1, OCTOPUS_SESSION_MT);
    if (s->easy == NULL) lua_pushliteral(L, "octopus.Session (closed)");
    else lua_pushfstring(L, "octopus.Session (%p)", (void *)s);
    return 1;
}

static const luaL_Reg session_methods[] = {
    {"request", session_request},
    {"close", session_close},
    {NULL, NULL}};

static const luaL_Reg session_meta[] = {
    {"__gc", session_gc},
    {"__close", session_close},
    {"__tostring", session_tostring},
    {NULL, NULL}};

void octopus_open_http(lua_State *L) {
    if (luaL_newmetatable(L, OCTOPUS_SESSION_MT)) {
        octopus_setfuncs(L, session_meta, 0);
        octopus_newlib(L, session_methods);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, session_new);
    lua_setfield(L, -2, "session");
}
