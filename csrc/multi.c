/*
 * multi.c -- core.multi(opts) -> Multi: many HTTP transfers at once over one
 * curl_multi handle, never blocking longer than asked.
 *
 *   m = core.multi{ max_connections (total cap, also the idle cache size),
 *                   max_host_connections, + every core.session option (ca_file, max_body, user_agent,
 *                   timeout, connect_timeout) }
 *   m:add(request) -> id          request table as for session:request
 *   m:perform()    -> completions non-blocking step
 *   m:poll(ms)     -> completions waits up to ms for activity (also when idle:
 *                                 it doubles as a sleep), then performs
 *   m:socket_action(fd|nil, "r"|"w"|"rw"|nil) -> completions  (event-driven hosts;
 *                                 fd nil = curl's timeout fired)
 *   m:fds()        -> { { fd = n, events = "r"|"w"|"rw", gen = n }, ... }  sockets curl
 *                                 waits on (kept by CURLMOPT_SOCKETFUNCTION: valid with
 *                                 socket_action); gen differs when curl closed an fd and
 *                                 opened a new socket under the same number
 *   m:timeout()    -> ms          when curl wants socket_action(nil) / perform (-1: no timer)
 *   m:cancel(id)   -> bool        removes and frees a transfer; no completion is reported
 *   m:count()      -> n           transfers in flight
 *   m:now()        -> seconds     monotonic clock (float), the scheduler's time base
 *   m:close()                     idempotent; also __gc and __close; frees transfers in flight
 *                                 (an on_progress callback in flight is a registry ref: if it
 *                                 refers to the multi, only close() frees them, not __gc)
 *   completions: array of { id = n, status =, headers =, body =, info = } or
 *                { id = n, err = err } (err exactly as session:request's).
 *
 * Invariants: every transfer is a Lua userdata ("octopus.Multi.transfer")
 * owning its easy handle and buffers, anchored in the multi's uservalue table
 * (env[id] until its completion is delivered; env[0] is the pool of idle
 * ones, reused with their easy handles), so a raise at any point leaks
 * nothing. Every curl_multi_* call that can run callbacks happens with
 * m->busy set and t->L pointing at the running state; on_progress runs under
 * lua_pcall (transfer.c), and calling back into the multi from it raises (its
 * error aborts only that transfer). Completions are read after curl returns,
 * never from inside libcurl.
 * Collecting is raise-safe: a finished transfer moves (pure C) to the done
 * list and stays there, in env[id], cancellable, until the completions array
 * holding its result is complete; only then are the transfers retired, by
 * code that allocates nothing (the pool's array part is preallocated). A raise
 * (Lua out of memory) while the array is built loses nothing: the next
 * perform/poll/socket_action reports the same completions.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "octopus.h"

#define TRANSFER_MT "octopus.Multi.transfer"
#define POOL_MAX 32  /* idle transfers (easy handles) kept for reuse */

typedef struct Transfer Transfer;

typedef struct {
    CURLM *multi;  /* NULL when closed */
    int busy;      /* inside a curl_multi_* call that may run callbacks */
    int count;     /* transfers in flight or done but not yet reported */
    int npool;     /* idle transfers in env[0][1..npool] */
    lua_Integer next_id;
    Transfer *head;  /* in-flight list (doubly linked) */
    Transfer *done_head, *done_tail;  /* finished, result not yet delivered (FIFO) */
    struct octopus_http_opts opts;
    struct sockrec { curl_socket_t fd; int what; unsigned long gen; } *socks;  /* malloc'd */
    size_t nsocks, capsocks;
    unsigned long sock_gen;  /* bumped per new socket: a reused fd number is a new socket */
    int sock_oom;
} Multi;

struct Transfer {
    struct octopus_transfer t;
    CURL *easy;      /* owned; NULL once freed */
    Multi *m;        /* set from add until retired or cancelled */
    lua_Integer id;
    Transfer *prev, *next;  /* in-flight list */
    Transfer *next_done;    /* done list */
    int added;       /* easy is in m->multi */
    int done;        /* on the done list, rc holds curl's result */
    CURLcode rc;
};

/* ---- socket bookkeeping (CURLMOPT_SOCKETFUNCTION) --------------------- */

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *ud, void *sockp) {
    Multi *m = ud;
    size_t i;
    (void)easy; (void)sockp;
    for (i = 0; i < m->nsocks; i++)
        if (m->socks[i].fd == fd) break;
    if (what == CURL_POLL_REMOVE) {
        if (i < m->nsocks) m->socks[i] = m->socks[--m->nsocks];
        return 0;
    }
    if (i == m->nsocks) {
        if (m->nsocks == m->capsocks) {
            size_t cap = m->capsocks ? m->capsocks * 2 : 16;
            struct sockrec *p = realloc(m->socks, cap * sizeof *p);
            if (p == NULL) { m->sock_oom = 1; return -1; }
            m->socks = p;
            m->capsocks = cap;
        }
        m->socks[m->nsocks].fd = fd;
        m->socks[m->nsocks].gen = ++m->sock_gen;
        m->nsocks++;
    }
    m->socks[i].what = what;
    return 0;
}

/* ---- transfers ------------------------------------------------------- */

/* Takes tr off whichever list holds it and out of curl (pure C). The caller
 * settles tr->m and m->count. */
static void detach(Multi *m, Transfer *tr) {
    if (tr->done) {
        Transfer **pp = &m->done_head, *prev = NULL;
        while (*pp != NULL && *pp != tr) { prev = *pp; pp = &(*pp)->next_done; }
        if (*pp == tr) *pp = tr->next_done;
        if (m->done_tail == tr) m->done_tail = prev;
        tr->next_done = NULL;
        tr->done = 0;
    } else {
        if (tr->prev) tr->prev->next = tr->next;
        else if (m->head == tr) m->head = tr->next;
        if (tr->next) tr->next->prev = tr->prev;
        tr->prev = tr->next = NULL;
    }
    if (tr->added) {
        (void)curl_multi_remove_handle(m->multi, tr->easy);
        tr->added = 0;
    }
}

static void unlink_transfer(Multi *m, Transfer *tr) {
    detach(m, tr);
    tr->m = NULL;
    m->count--;
}

/* Frees everything a transfer owns; safe twice. */
static void transfer_free(lua_State *L, Transfer *tr) {
    if (tr->easy == NULL) return;
    if (tr->m != NULL && tr->m->multi != NULL) unlink_transfer(tr->m, tr);
    tr->m = NULL;
    octopus_transfer_cleanup(L, &tr->t);
    tr->t.easy = NULL;
    curl_easy_cleanup(tr->easy);
    tr->easy = NULL;
}

static int transfer_gc(lua_State *L) {
    transfer_free(L, luaL_checkudata(L, 1, TRANSFER_MT));
    return 0;
}

/* ---- the multi ------------------------------------------------------- */

static Multi *check_multi(lua_State *L) {
    Multi *m = luaL_checkudata(L, 1, OCTOPUS_MULTI_MT);
    if (m->multi == NULL) luaL_error(L, "attempt to use a closed multi");
    if (m->busy) luaL_error(L, "multi is busy (called from its own on_progress callback)");
    return m;
}

static long opt_count(lua_State *L, int idx, const char *name) {
    lua_Number n;
    lua_getfield(L, idx, name);
    if (lua_isnil(L, -1)) { lua_pop(L, 1); return 0; }
    if (lua_type(L, -1) != LUA_TNUMBER) luaL_error(L, "option '%s' must be a number", name);
    n = lua_tonumber(L, -1);
    if (!(n >= 0 && n <= 1e6) || n != (lua_Number)(long)n)
        luaL_error(L, "option '%s' must be a non-negative integer", name);
    lua_pop(L, 1);
    /* the session options parser rejects unknown keys: hide ours from it */
    lua_pushnil(L);
    lua_setfield(L, idx, name);
    return (long)n;
}

/* core.multi([opts]): stack 1 = opts (copied, so ours can be removed). */
static int multi_new(lua_State *L) {
    Multi *m;
    long maxconn = 0, maxhost = 0;
    lua_settop(L, 1);
    if (!lua_isnil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_newtable(L);  /* 2: a copy */
        lua_pushnil(L);
        while (lua_next(L, 1) != 0) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_settable(L, 2);
        }
        maxconn = opt_count(L, 2, "max_connections");
        maxhost = opt_count(L, 2, "max_host_connections");
        lua_replace(L, 1);
    }
    m = lua_newuserdata(L, sizeof *m);  /* 2 */
    memset(m, 0, sizeof *m);
    m->next_id = 1;
    octopus_http_opts_init(&m->opts);
    octopus_setmetatable(L, OCTOPUS_MULTI_MT);
    lua_newtable(L);
    lua_createtable(L, POOL_MAX, 0);  /* array part sized once: storing never allocates */
    lua_rawseti(L, -2, 0);
    octopus_setuservalue(L, 2);
    octopus_http_opts_parse(L, 1, &m->opts);
    m->multi = curl_multi_init();
    if (m->multi == NULL) return luaL_error(L, "curl_multi_init failed");
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, (void *)m);
    if (maxconn > 0) {
        curl_multi_setopt(m->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxconn);
        curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, maxconn);
    }
    if (maxhost > 0) curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxhost);
    return 1;
}

/* Pushes the multi's env table (uservalue of the userdata at 1). */
static void push_env(lua_State *L) {
    octopus_getuservalue(L, 1);
}

/* m:add(req) -> id. An idle pooled transfer is reused (its easy handle keeps
 * TLS session and settings); the connection pool itself lives in the multi.
 * The transfer is anchored in env[id] before curl or the list know it, so a
 * raise half-way leaves nothing running unreachable. */
static int multi_add(lua_State *L) {
    Multi *m = check_multi(L);
    Transfer *tr = NULL;
    lua_Integer id;
    CURLMcode mc;
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    push_env(L);                        /* 3 */
    lua_rawgeti(L, 3, 0);               /* 4: the pool */
    if (m->npool > 0) {
        lua_rawgeti(L, 4, m->npool);    /* 5 */
        tr = lua_touserdata(L, 5);
        lua_pushnil(L);
        lua_rawseti(L, 4, m->npool);
        m->npool--;
    } else {
        tr = lua_newuserdata(L, sizeof *tr);  /* 5 */
        memset(tr, 0, sizeof *tr);
        octopus_transfer_init(&tr->t);
        octopus_setmetatable(L, TRANSFER_MT);
        tr->easy = curl_easy_init();
        if (tr->easy == NULL) return luaL_error(L, "curl_easy_init failed");
        if (octopus_easy_configure(tr->easy, &m->opts) != CURLE_OK)
            return luaL_error(L, "libcurl refused the multi's settings");
        curl_easy_setopt(tr->easy, CURLOPT_PRIVATE, (void *)tr);
    }
    octopus_transfer_setup(L, 2, &tr->t, tr->easy, &m->opts);
    id = m->next_id;
    lua_pushinteger(L, id);
    lua_pushvalue(L, 5);
    lua_rawset(L, 3);                   /* env[id] = transfer (may raise: nothing runs yet) */
    tr->t.L = L;
    mc = curl_multi_add_handle(m->multi, tr->easy);
    if (mc != CURLM_OK) {
        lua_pushinteger(L, id);
        lua_pushnil(L);
        lua_rawset(L, 3);
        octopus_transfer_cleanup(L, &tr->t);
        return luaL_error(L, "curl_multi_add_handle failed: %s", curl_multi_strerror(mc));
    }
    m->next_id++;
    tr->id = id;
    tr->m = m;
    tr->added = 1;
    tr->done = 0;
    tr->next_done = NULL;
    tr->prev = NULL;
    tr->next = m->head;
    if (m->head) m->head->prev = tr;
    m->head = tr;
    m->count++;
    lua_pushinteger(L, id);
    return 1;
}

/* Transfer delivered or cancelled: out of the lists and env[id]; back to the
 * pool (or freed). env is at env_idx; needs 3 stack slots. Allocates nothing,
 * so it cannot raise: the pool's array part was sized at creation, and
 * clearing env[id] only writes nil. */
static void retire(lua_State *L, Multi *m, int env_idx, Transfer *tr) {
    lua_Integer id = tr->id;
    unlink_transfer(m, tr);
    octopus_transfer_cleanup(L, &tr->t);  /* refs and buffers go */
    if (m->npool < POOL_MAX) {
        lua_rawgeti(L, env_idx, 0);         /* the pool */
        lua_pushinteger(L, id);
        lua_rawget(L, env_idx);             /* the transfer userdata */
        lua_rawseti(L, -2, ++m->npool);
        lua_pop(L, 1);
    } else {
        transfer_free(L, tr);
    }
    lua_pushinteger(L, id);
    lua_pushnil(L);
    lua_rawset(L, env_idx);
}

/* Moves curl's finished transfers to the done list (pure C, cannot raise:
 * from here on a completion is never lost, even if what follows raises). */
static void drain(Multi *m) {
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
        Transfer *tr = NULL;
        if (msg->msg != CURLMSG_DONE) continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&tr);
        if (tr == NULL || tr->m != m || tr->done) continue;
        tr->rc = msg->data.result;
        detach(m, tr);                  /* off the in-flight list, out of curl */
        tr->done = 1;
        tr->next_done = NULL;
        if (m->done_tail) m->done_tail->next_done = tr;
        else m->done_head = tr;
        m->done_tail = tr;
    }
}

/* Pushes the completions array of every done transfer, then retires them.
 * Building the array may raise (Lua out of memory): the done list is then
 * untouched and the next call reports it all again; retiring cannot raise. */
static void collect(lua_State *L, Multi *m) {
    Transfer *tr;
    int k = 0, env_idx, res;
    drain(m);
    if (!lua_checkstack(L, 12)) luaL_error(L, "stack overflow (collecting completions)");
    lua_newtable(L);
    push_env(L);
    env_idx = lua_gettop(L);
    for (tr = m->done_head; tr != NULL; tr = tr->next_done) {
        lua_createtable(L, 0, 5);
        lua_pushinteger(L, tr->id);
        lua_setfield(L, -2, "id");
        res = octopus_transfer_push_result(L, &tr->t, tr->rc);
        if (res == 4) {
            lua_setfield(L, -5, "info");
            lua_setfield(L, -4, "body");
            lua_setfield(L, -3, "headers");
            lua_setfield(L, -2, "status");
        } else {
            lua_setfield(L, -3, "err");
            lua_pop(L, 1);
        }
        lua_rawseti(L, env_idx - 1, ++k);
    }
    while ((tr = m->done_head) != NULL) retire(L, m, env_idx, tr);
    lua_pop(L, 1);
}

/* Points every in-flight transfer's callbacks at the running state. */
static void enter(lua_State *L, Multi *m) {
    Transfer *tr;
    for (tr = m->head; tr; tr = tr->next) tr->t.L = L;
    m->busy = 1;
}

static void leave(Multi *m) {
    m->busy = 0;
}

static int check_mc(lua_State *L, Multi *m, CURLMcode mc, const char *what) {
    if (m->sock_oom) {
        m->sock_oom = 0;
        return luaL_error(L, "not enough memory");
    }
    if (mc != CURLM_OK && mc != CURLM_CALL_MULTI_PERFORM)
        return luaL_error(L, "%s failed: %s", what, curl_multi_strerror(mc));
    return 0;
}

/* one curl_multi_perform, then pushes the array of completions */
static void perform_collect(lua_State *L, Multi *m) {
    int running;
    CURLMcode mc;
    enter(L, m);
    mc = curl_multi_perform(m->multi, &running);
    leave(m);
    check_mc(L, m, mc, "curl_multi_perform");
    collect(L, m);
}

static int multi_perform(lua_State *L) {
    perform_collect(L, check_multi(L));
    return 1;
}

/* m:poll(ms): a perform first (starts new transfers, and finished ones return
 * at once); else wait for activity up to ms (curl's own timer may cut it
 * short), then perform again. */
static int multi_poll(lua_State *L) {
    Multi *m = check_multi(L);
    lua_Number ms = luaL_optnumber(L, 2, 0);
    CURLMcode mc;
    if (!(ms >= 0)) return luaL_argerror(L, 2, "timeout must be >= 0 (milliseconds)");
    if (ms > 86400000) ms = 86400000;
    perform_collect(L, m);
    if (octopus_rawlen(L, -1) > 0 || ms == 0) return 1;
    lua_pop(L, 1);
    mc = curl_multi_poll(m->multi, NULL, 0, (int)ms, NULL);
    check_mc(L, m, mc, "curl_multi_poll");
    perform_collect(L, m);
    return 1;
}

static int multi_socket_action(lua_State *L) {
    Multi *m = check_multi(L);
    curl_socket_t fd = CURL_SOCKET_TIMEOUT;
    int ev = 0, running;
    CURLMcode mc;
    if (!lua_isnoneornil(L, 2)) fd = (curl_socket_t)luaL_checkinteger(L, 2);
    if (!lua_isnoneornil(L, 3)) {
        const char *e = luaL_checkstring(L, 3);
        if (strcmp(e, "r") == 0) ev = CURL_CSELECT_IN;
        else if (strcmp(e, "w") == 0) ev = CURL_CSELECT_OUT;
        else if (strcmp(e, "rw") == 0) ev = CURL_CSELECT_IN | CURL_CSELECT_OUT;
        else if (strcmp(e, "e") == 0) ev = CURL_CSELECT_ERR;
        else return luaL_argerror(L, 3, "events must be \"r\", \"w\", \"rw\" or \"e\"");
    }
    enter(L, m);
    mc = curl_multi_socket_action(m->multi, fd, ev, &running);
    leave(m);
    check_mc(L, m, mc, "curl_multi_socket_action");
    collect(L, m);
    return 1;
}

static int multi_fds(lua_State *L) {
    Multi *m = check_multi(L);
    size_t i;
    lua_createtable(L, (int)m->nsocks, 0);
    for (i = 0; i < m->nsocks; i++) {
        int w = m->socks[i].what;
        lua_createtable(L, 0, 3);
        lua_pushinteger(L, (lua_Integer)m->socks[i].fd);
        lua_setfield(L, -2, "fd");
        lua_pushnumber(L, (lua_Number)m->socks[i].gen);
        lua_setfield(L, -2, "gen");
        lua_pushstring(L, w == CURL_POLL_IN ? "r" : w == CURL_POLL_OUT ? "w" : "rw");
        lua_setfield(L, -2, "events");
        lua_rawseti(L, -2, (int)i + 1);
    }
    return 1;
}

static int multi_timeout(lua_State *L) {
    Multi *m = check_multi(L);
    long ms = -1;
    curl_multi_timeout(m->multi, &ms);
    lua_pushinteger(L, (lua_Integer)ms);
    return 1;
}

/* m:cancel(id) -> true if it was in flight (removed and freed, no completion). */
static int multi_cancel(lua_State *L) {
    Multi *m = check_multi(L);
    Transfer *tr;
    lua_Integer id = luaL_checkinteger(L, 2);
    lua_settop(L, 2);
    push_env(L);                        /* 3 */
    lua_pushinteger(L, id);
    lua_rawget(L, 3);
    tr = lua_isuserdata(L, -1) ? lua_touserdata(L, -1) : NULL;
    lua_pop(L, 1);
    if (tr == NULL || tr->m != m) {
        lua_pushboolean(L, 0);
        return 1;
    }
    retire(L, m, 3, tr);
    lua_pushboolean(L, 1);
    return 1;
}

static int multi_count(lua_State *L) {
    Multi *m = check_multi(L);
    lua_pushinteger(L, m->count);
    return 1;
}

static int multi_now(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

/* Frees every transfer (in flight or pooled), then the multi. Idempotent; also
 * frees what a constructor that raised half-way had parsed. */
static int multi_close(lua_State *L) {
    Multi *m = luaL_checkudata(L, 1, OCTOPUS_MULTI_MT);
    if (m->busy) return luaL_error(L, "cannot close a multi from its own on_progress callback");
    octopus_http_opts_free(&m->opts);
    if (m->multi == NULL) return 0;
    lua_settop(L, 1);
    push_env(L);                        /* 2 */
    if (lua_istable(L, 2)) {
        lua_pushnil(L);
        while (lua_next(L, 2) != 0) {
            if (lua_isuserdata(L, -1)) {
                transfer_free(L, lua_touserdata(L, -1));
            } else if (lua_istable(L, -1)) {  /* the pool, env[0] */
                int i;
                for (i = 1; i <= m->npool; i++) {
                    lua_rawgeti(L, -1, i);
                    transfer_free(L, lua_touserdata(L, -1));
                    lua_pop(L, 1);
                }
            }
            lua_pop(L, 1);
        }
    }
    curl_multi_cleanup(m->multi);
    m->multi = NULL;
    m->head = m->done_head = m->done_tail = NULL;
    m->count = m->npool = 0;
    free(m->socks);
    m->socks = NULL;
    m->nsocks = m->capsocks = 0;
    lua_newtable(L);
    octopus_setuservalue(L, 1);  /* drop the transfers (their __gc is a no-op now) */
    return 0;
}

static int multi_gc(lua_State *L) {
    Multi *m = luaL_checkudata(L, 1, OCTOPUS_MULTI_MT);
    m->busy = 0;  /* unreachable, so nothing runs inside it */
    return multi_close(L);
}

static int multi_tostring(lua_State *L) {
    Multi *m = luaL_checkudata(L, 1, OCTOPUS_MULTI_MT);
    if (m->multi == NULL) lua_pushliteral(L, "octopus.Multi (closed)");
    else lua_pushfstring(L, "octopus.Multi (%p)", (void *)m);
    return 1;
}

static const luaL_Reg multi_methods[] = {
    {"add", multi_add},
    {"perform", multi_perform},
    {"poll", multi_poll},
    {"socket_action", multi_socket_action},
    {"fds", multi_fds},
    {"timeout", multi_timeout},
    {"cancel", multi_cancel},
    {"count", multi_count},
    {"now", multi_now},
    {"close", multi_close},
    {NULL, NULL}};

static const luaL_Reg multi_meta[] = {
    {"__gc", multi_gc},
    {"__close", multi_close},
    {"__tostring", multi_tostring},
    {NULL, NULL}};

void octopus_open_multi(lua_State *L) {
    if (luaL_newmetatable(L, OCTOPUS_MULTI_MT)) {
        octopus_setfuncs(L, multi_meta, 0);
        octopus_newlib(L, multi_methods);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, TRANSFER_MT)) {
        lua_pushcfunction(L, transfer_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    /* retire() releases registry refs while it must not allocate: on 5.1 and
     * LuaJIT the first luaL_unref ever creates the registry's free-list key,
     * so create it now (a ref released once). */
    lua_pushboolean(L, 1);
    luaL_unref(L, LUA_REGISTRYINDEX, luaL_ref(L, LUA_REGISTRYINDEX));
    lua_pushcfunction(L, multi_new);
    lua_setfield(L, -2, "multi");
}
