/*
 * transfer.c -- one HTTP request on a reused CURL easy handle: option
 * parsing, per-request curl options, the write/header/progress callbacks,
 * and turning the outcome into `status, headers, body, info` or `nil, err`.
 * Shared by the blocking session (http.c) and the multi handle (multi.c).
 *
 * Invariants:
 * - every allocation is reachable from a struct octopus_transfer (or
 *   octopus_http_opts) that lives inside a Lua userdata, so a Lua error
 *   raised at any point leaks nothing: the userdata's close/__gc frees it;
 * - no Lua error unwinds through libcurl: the write and header callbacks are
 *   pure C, on_progress runs under lua_pcall and aborts the transfer;
 * - the easy handle is never curl_easy_reset: every per-request option is
 *   set explicitly on each request, so session settings and the connection
 *   cache survive;
 * - error messages never contain the URL's userinfo, query or fragment;
 * - nothing the server sends raises: oversized headers or bodies are
 *   TOO_LARGE, replies that break HTTP are PROTOCOL (both with sent = true);
 *   only Lua itself running out of memory raises.
 */
#define _GNU_SOURCE 1  /* memmem */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "octopus.h"

/* lua_absindex is 5.2+. */
#define abs_index(L, i) \
    ((i) > 0 || (i) <= LUA_REGISTRYINDEX ? (i) : lua_gettop(L) + (i) + 1)

#define DEFAULT_MAX_BODY ((curl_off_t)64 * 1024 * 1024)
/* All header bytes of one request, 1xx responses included (a flood of
 * "100 Continue" counts). Below libcurl's own 300 KB total (7.88+), so the
 * cap is ours and reported as TOO_LARGE, whatever the libcurl version. */
#define MAX_HEAD_BYTES   ((size_t)256 * 1024)
/* Longest timeout in seconds: its milliseconds fit a 32-bit long. */
#define MAX_TIMEOUT_S    1000000.0
#define KEEP_BODY_CAP    ((size_t)1024 * 1024)  /* larger buffers are freed */
#define KEEP_HEAD_CAP    ((size_t)64 * 1024)

/* ---- small helpers --------------------------------------------------- */

static void buf_free(struct octopus_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Append n bytes; returns 0 on success, -1 when out of memory. */
static int buf_append(struct octopus_buf *b, const char *p, size_t n) {
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 16 * 1024;
        char *d;
        while (cap - b->len < n) {
            if (cap > ((size_t)-1) / 2) return -1;
            cap *= 2;
        }
        d = realloc(b->data, cap);
        if (d == NULL) return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static void unref(lua_State *L, int *ref) {
    if (*ref != LUA_NOREF && *ref != LUA_REFNIL && L != NULL)
        luaL_unref(L, LUA_REGISTRYINDEX, *ref);
    *ref = LUA_NOREF;
}

static char *dup_string(lua_State *L, int idx) {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    char *d = malloc(n + 1);
    if (d == NULL) luaL_error(L, "not enough memory");
    memcpy(d, s, n + 1);
    return d;
}

/* Seconds (float ok) at idx -> milliseconds for curl; 0 means no limit.
 * At most MAX_TIMEOUT_S, so the milliseconds fit a 32-bit long. */
static long check_seconds(lua_State *L, int idx, const char *name) {
    double s;
    if (lua_type(L, idx) != LUA_TNUMBER)
        luaL_error(L, "option '%s' must be a number of seconds", name);
    s = lua_tonumber(L, idx);
    if (!(s >= 0)) luaL_error(L, "option '%s' must be >= 0", name);
    if (s > MAX_TIMEOUT_S)
        luaL_error(L, "option '%s' must be at most %d seconds (0 = no limit)", name,
                   (int)MAX_TIMEOUT_S);
    return (long)ceil(s * 1000.0);
}

static curl_off_t check_size(lua_State *L, int idx, const char *name) {
    double n;
    if (lua_type(L, idx) != LUA_TNUMBER)
        luaL_error(L, "option '%s' must be a number of bytes", name);
    n = lua_tonumber(L, idx);
    if (!(n >= 1) || n > 9e15) luaL_error(L, "option '%s' must be a positive size", name);
    return (curl_off_t)n;
}

static int name_is(const char *key, const char *const *names) {
    for (; *names; names++)
        if (strcmp(key, *names) == 0) return 1;
    return 0;
}

/* Raise "unknown option 'x'" for any key of the table at idx not in names. */
static void check_keys(lua_State *L, int idx, const char *const *names) {
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING || !name_is(lua_tostring(L, -1), names)) {
            if (lua_type(L, -1) == LUA_TSTRING)
                luaL_error(L, "unknown option '%s'", lua_tostring(L, -1));
            luaL_error(L, "unknown option (a %s key)", luaL_typename(L, -1));
        }
    }
}

/* ---- session options ------------------------------------------------- */

static const char *const session_keys[] = {
    "ca_file", "max_body", "user_agent", "timeout", "connect_timeout", NULL};

void octopus_http_opts_init(struct octopus_http_opts *o) {
    o->ca_file = NULL;
    o->user_agent = NULL;
    o->timeout = 30;
    o->connect_timeout = 10;
    o->max_body = DEFAULT_MAX_BODY;
}

void octopus_http_opts_free(struct octopus_http_opts *o) {
    free(o->ca_file);
    free(o->user_agent);
    o->ca_file = o->user_agent = NULL;
}

void octopus_http_opts_parse(lua_State *L, int idx, struct octopus_http_opts *o) {
    if (lua_isnoneornil(L, idx)) return;
    luaL_checktype(L, idx, LUA_TTABLE);
    idx = abs_index(L, idx);
    check_keys(L, idx, session_keys);
    lua_getfield(L, idx, "timeout");
    if (!lua_isnil(L, -1)) o->timeout = check_seconds(L, -1, "timeout") / 1000.0;
    lua_getfield(L, idx, "connect_timeout");
    if (!lua_isnil(L, -1))
        o->connect_timeout = check_seconds(L, -1, "connect_timeout") / 1000.0;
    lua_getfield(L, idx, "max_body");
    if (!lua_isnil(L, -1)) o->max_body = check_size(L, -1, "max_body");
    lua_getfield(L, idx, "user_agent");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING || strchr(lua_tostring(L, -1), '\r') ||
            strchr(lua_tostring(L, -1), '\n'))
            luaL_error(L, "option 'user_agent' must be a string without CR or LF");
        free(o->user_agent);
        o->user_agent = NULL;
        o->user_agent = dup_string(L, -1);
    }
    lua_getfield(L, idx, "ca_file");
    if (!lua_isnil(L, -1)) {
        FILE *f;
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "option 'ca_file' must be a string (a path)");
        f = fopen(lua_tostring(L, -1), "rb");
        if (f == NULL) luaL_error(L, "option 'ca_file': cannot read '%s'", lua_tostring(L, -1));
        fclose(f);
        free(o->ca_file);
        o->ca_file = NULL;
        o->ca_file = dup_string(L, -1);
    }
    lua_pop(L, 5);
}

CURLcode octopus_easy_configure(CURL *e, const struct octopus_http_opts *o) {
    CURLcode rc = CURLE_OK, r;
#define SET(opt, val) do { r = curl_easy_setopt(e, opt, val); if (rc == CURLE_OK) rc = r; } while (0)
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_TCP_NODELAY, 1L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_ACCEPT_ENCODING, "");
    SET(CURLOPT_USERAGENT, o->user_agent ? o->user_agent : "octopus/" OCTOPUS_VERSION);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    if (o->ca_file != NULL) {
        SET(CURLOPT_CAINFO, o->ca_file);
        SET(CURLOPT_CAPATH, (char *)NULL);
    }
#if LIBCURL_VERSION_NUM >= 0x075700
    SET(CURLOPT_CA_CACHE_TIMEOUT, 24L * 3600L);
#endif
#undef SET
    /* HTTP/2 is optional: a libcurl without nghttp2 refuses it, that is fine. */
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    return rc;
}

/* ---- callbacks (pure C, or Lua under pcall) -------------------------- */

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ud) {
    struct octopus_transfer *t = ud;
    size_t n = size * nmemb;
    if ((curl_off_t)n > t->max_body - (curl_off_t)t->body.len) {
        t->too_large = 1;
        return 0;
    }
    if (buf_append(&t->body, p, n) != 0) {
        t->oom = 1;
        return 0;
    }
    return n;
}

/* The Content-Length values in a header line ("5" or "5, 5"): each must
 * equal the first one seen in this response (RFC 9110 8.6: differing values
 * are an unrecoverable framing error). Returns 0, or -1 on a conflict.
 * Values that are not digits are left to libcurl. */
static int check_length(struct octopus_transfer *t, const char *v, const char *end) {
    while (v < end) {
        unsigned long long n = 0;
        int digits = 0;
        while (v < end && (*v == ' ' || *v == '\t' || *v == ',')) v++;
        while (v < end && *v >= '0' && *v <= '9') {
            if (n > 999999999999999ULL) return 0;  /* absurd: libcurl refuses it */
            n = n * 10 + (unsigned long long)(*v++ - '0');
            digits = 1;
        }
        if (!digits) return 0;
        while (v < end && (*v == ' ' || *v == '\t')) v++;
        if (v < end && *v != ',') return 0;
        if (t->length_seen && (curl_off_t)n != t->length) return -1;
        t->length = (curl_off_t)n;
        t->length_seen = 1;
    }
    return 0;
}

/* Keeps only the final response's header lines: a status line restarts.
 * Caps the header bytes of the whole request (1xx responses included) and
 * refuses conflicting Content-Length values. */
static size_t header_cb(char *p, size_t size, size_t nmemb, void *ud) {
    struct octopus_transfer *t = ud;
    size_t n = size * nmemb;
    if (n > MAX_HEAD_BYTES - t->head_total) {
        t->head_too_large = 1;
        return 0;
    }
    t->head_total += n;
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        t->head.len = 0;
        t->length_seen = 0;
    } else if (n > 15 && strncasecmp(p, "content-length:", 15) == 0) {
        const char *end = p + n;
        while (end > p + 15 && (end[-1] == '\r' || end[-1] == '\n')) end--;
        if (check_length(t, p + 15, end) != 0) {
            t->proto_err = "conflicting Content-Length headers in the response";
            return 0;
        }
    }
    if (buf_append(&t->head, p, n) != 0) {
        t->oom = 1;
        return 0;
    }
    return n;
}

static void push_off(lua_State *L, curl_off_t v) {
#if OCTOPUS_HAS_INTEGERS
    lua_pushinteger(L, (lua_Integer)v);
#else
    lua_pushnumber(L, (lua_Number)v);
#endif
}

/* on_progress(dl_now, dl_total, ul_now, ul_total), protected: a true return
 * aborts (ABORTED), an error aborts and is kept for the result (CALLBACK). */
static int xferinfo_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow) {
    struct octopus_transfer *t = ud;
    lua_State *L = t->L;
    int top, stop;
    if (t->aborted) return 1;
    if (L == NULL || t->progress_ref == LUA_NOREF) return 0;
    if (!lua_checkstack(L, 8)) {
        t->aborted = 2;
        strcpy(t->cb_msg, "stack overflow");
        return 1;
    }
    top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->progress_ref);
    push_off(L, dlnow);
    push_off(L, dltotal);
    push_off(L, ulnow);
    push_off(L, ultotal);
    if (lua_pcall(L, 4, 1, 0) != 0) {
        const char *m = lua_tostring(L, -1);
        if (m == NULL) m = lua_isnil(L, -1) ? "nil" : "(error object is not a string)";
        snprintf(t->cb_msg, sizeof t->cb_msg, "%s", m);
        t->aborted = 2;
        lua_settop(L, top);
        return 1;
    }
    stop = lua_toboolean(L, -1);
    lua_settop(L, top);
    if (stop) t->aborted = 1;
    return stop;
}

/* ---- per-request setup ---------------------------------------------- */

static const char *const request_keys[] = {
    "method", "url", "headers", "body", "timeout", "connect_timeout",
    "max_body", "on_progress", "fresh_connect", NULL};

void octopus_transfer_init(struct octopus_transfer *t) {
    memset(t, 0, sizeof *t);
    t->progress_ref = t->body_ref = t->url_ref = LUA_NOREF;
    t->max_body = DEFAULT_MAX_BODY;
}

static void release_refs(lua_State *L, struct octopus_transfer *t) {
    unref(L, &t->progress_ref);
    unref(L, &t->body_ref);
    unref(L, &t->url_ref);
}

static int is_token(const char *s, size_t n) {
    size_t i;
    if (n == 0) return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 32 || c >= 127 || strchr("\"(),/:;<=>?@[\\]{}", c)) return 0;
    }
    return 1;
}

/* Does the headers table at idx (or nil) give exactly the list in t->headers,
 * entry for entry in iteration order? Then the list is reused as it is: the
 * common case, the pipeline's own (cached) header table on every request.
 * Never raises and changes nothing: anything odd is "no", and build_headers
 * then checks it. Every cached entry was checked when it was built. */
static int headers_match(lua_State *L, int idx, const struct octopus_transfer *t) {
    const struct curl_slist *node = t->headers;
    int n = 0;
    if (node == NULL) return 0;
    if (!lua_isnil(L, idx)) {
        if (!lua_istable(L, idx)) return 0;
        lua_pushnil(L);
        while (lua_next(L, idx) != 0) {
            size_t nn, vn;
            const char *name, *value, *d;
            if (node == NULL || n == t->headers_n || lua_type(L, -2) != LUA_TSTRING ||
                lua_type(L, -1) != LUA_TSTRING) {
                lua_pop(L, 2);
                return 0;
            }
            name = lua_tolstring(L, -2, &nn);
            value = lua_tolstring(L, -1, &vn);
            d = node->data;
            /* "Name: value", or "Name;" for an empty value (as built below) */
            if (strlen(d) != (vn == 0 ? nn + 1 : nn + 2 + vn) || memcmp(d, name, nn) != 0 ||
                (vn == 0 ? d[nn] != ';'
                         : (d[nn] != ':' || d[nn + 1] != ' ' || memcmp(d + nn + 2, value, vn) != 0))) {
                lua_pop(L, 2);
                return 0;
            }
            lua_pop(L, 1);
            node = node->next;
            n++;
        }
    }
    if (n != t->headers_n) return 0;
    if (t->headers_expect) return node != NULL && node->next == NULL;
    return node == NULL;
}

/* Headers table at idx -> t->headers ("Name: value"); "Expect:" unless given. */
static void build_headers(lua_State *L, int idx, struct octopus_transfer *t) {
    int has_expect = 0, n = 0;
    struct curl_slist *l;
    if (lua_isnil(L, idx)) goto done;
    if (!lua_istable(L, idx)) luaL_error(L, "option 'headers' must be a table");
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        size_t nn, vn;
        const char *name, *value;
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "header names must be strings (got a %s)", luaL_typename(L, -2));
        name = lua_tolstring(L, -2, &nn);
        if (memchr(name, '\r', nn) || memchr(name, '\n', nn))
            luaL_error(L, "header name contains CR or LF");
        if (!is_token(name, nn)) luaL_error(L, "header name '%s' is not a valid token", name);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "header '%s' must be a string (got a %s)", name, luaL_typename(L, -1));
        value = lua_tolstring(L, -1, &vn);
        if (memchr(value, '\r', vn) || memchr(value, '\n', vn))
            luaL_error(L, "header '%s' contains CR or LF", name);
        if (strlen(value) != vn) luaL_error(L, "header '%s' contains NUL", name);
        if (nn == 6 && strncasecmp(name, "expect", 6) == 0) has_expect = 1;
        /* curl sends "Name;" as an empty header, "Name:" removes it */
        if (vn == 0) lua_pushfstring(L, "%s;", name);
        else lua_pushfstring(L, "%s: %s", name, value);
        l = curl_slist_append(t->headers, lua_tostring(L, -1));
        if (l == NULL) luaL_error(L, "not enough memory");
        t->headers = l;
        n++;
        lua_pop(L, 2);
    }
done:
    if (!has_expect) {  /* no 100-continue round trip for large bodies */
        l = curl_slist_append(t->headers, "Expect:");
        if (l == NULL) luaL_error(L, "not enough memory");
        t->headers = l;
    }
    t->headers_n = n;  /* only now: a half-built list (a raise above) never matches */
    t->headers_expect = !has_expect;
}

void octopus_transfer_setup(lua_State *L, int idx, struct octopus_transfer *t,
                            CURL *e, const struct octopus_http_opts *o) {
    const char *method = "GET", *url, *body = NULL;
    size_t mlen = 3, ulen, blen = 0;
    long timeout_ms = (long)ceil(o->timeout * 1000.0);
    long connect_ms = (long)ceil(o->connect_timeout * 1000.0);
    int top = lua_gettop(L);

    idx = abs_index(L, idx);
    luaL_checktype(L, idx, LUA_TTABLE);
    release_refs(L, t);
    t->easy = e;
    t->max_body = o->max_body;
    t->too_large = t->head_too_large = t->oom = t->aborted = 0;
    t->head_total = 0;
    t->length = 0;
    t->length_seen = 0;
    t->proto_err = NULL;
    t->fresh_connect = 0;
    t->cb_msg[0] = t->errbuf[0] = '\0';
    t->body.len = t->head.len = 0;

    check_keys(L, idx, request_keys);
    lua_getfield(L, idx, "method");                     /* top+1 */
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "option 'method' must be a string");
        method = lua_tolstring(L, -1, &mlen);
        if (!is_token(method, mlen)) luaL_error(L, "option 'method' is not a valid HTTP method");
    }
    lua_getfield(L, idx, "url");                        /* top+2 */
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "option 'url' must be a string");
    url = lua_tolstring(L, -1, &ulen);
    if (strlen(url) != ulen) luaL_error(L, "option 'url' contains NUL");
    lua_getfield(L, idx, "body");                       /* top+3 */
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "option 'body' must be a string");
        body = lua_tolstring(L, -1, &blen);
    }
    lua_getfield(L, idx, "timeout");                    /* top+4 */
    if (!lua_isnil(L, -1)) timeout_ms = check_seconds(L, -1, "timeout");
    lua_getfield(L, idx, "connect_timeout");            /* top+5 */
    if (!lua_isnil(L, -1)) connect_ms = check_seconds(L, -1, "connect_timeout");
    lua_getfield(L, idx, "max_body");                   /* top+6 */
    if (!lua_isnil(L, -1)) t->max_body = check_size(L, -1, "max_body");
    lua_getfield(L, idx, "on_progress");                /* top+7 */
    if (!lua_isnil(L, -1) && !lua_isfunction(L, -1))
        luaL_error(L, "option 'on_progress' must be a function");
    lua_getfield(L, idx, "fresh_connect");              /* top+8 */
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TBOOLEAN) luaL_error(L, "option 'fresh_connect' must be a boolean");
        t->fresh_connect = lua_toboolean(L, -1);
    }
    lua_getfield(L, idx, "headers");                    /* top+9 */
    if (!headers_match(L, top + 9, t)) {
        /* curl must not hold the old list while it is freed, nor a half-built one */
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
        curl_slist_free_all(t->headers);
        t->headers = NULL;
        t->headers_n = -1;
        t->headers_expect = 0;
        build_headers(L, top + 9, t);
    }

    /* Nothing raises past this point. */
    lua_pushvalue(L, top + 7);
    t->progress_ref = lua_isnil(L, -1) ? (lua_pop(L, 1), LUA_NOREF)
                                       : luaL_ref(L, LUA_REGISTRYINDEX);
    if (body != NULL) {
        lua_pushvalue(L, top + 3);
        t->body_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_pushvalue(L, top + 2);
    t->url_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)t);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, (void *)t);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, t->progress_ref == LUA_NOREF ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    /* A new connection: libcurl re-sends a request by itself when a reused
     * connection dies before any response byte, whatever the method; on a
     * fresh connection it never does, so the request reaches the server at
     * most once. The connection is cached afterwards as usual. */
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, t->fresh_connect ? 1L : 0L);

    /* Method and body: reset from whatever the previous request left. */
    curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, (char *)NULL);
    if (body == NULL && (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
                         strcmp(method, "PATCH") == 0)) {
        body = "";  /* sends Content-Length: 0 */
        blen = 0;
    }
    if (body != NULL) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    }
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "POST") != 0 && (strcmp(method, "GET") != 0 || body != NULL)) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    /* Content-Length over the cap fails early; HEAD has no body to cap. */
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                     strcmp(method, "HEAD") == 0 ? (curl_off_t)0 : t->max_body);
    lua_settop(L, top);
}

/* ---- results --------------------------------------------------------- */

/* Parse t->head ("HTTP/x 200 ..\r\nName: v\r\n..") into a table at the top:
 * lower-cased names, values trimmed, repeats joined with ", ". The table is
 * sized for one entry per line (the status and blank lines overcount by
 * two), so filling it never rehashes. */
static void push_headers(lua_State *L, struct octopus_transfer *t) {
    const char *p = t->head.data, *end = p + t->head.len, *q;
    int lines = 0;
    for (q = p; q < end && (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++) lines++;
    lua_createtable(L, 0, lines);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end, *colon, *v, *ve;
        char name[256];
        size_t nn, i;
        if (line_end > p && line_end[-1] == '\r') line_end--;
        colon = memchr(p, ':', (size_t)(line_end - p));
        if (colon != NULL && !(end - p >= 5 && memcmp(p, "HTTP/", 5) == 0)) {
            nn = (size_t)(colon - p);
            while (nn > 0 && (p[nn - 1] == ' ' || p[nn - 1] == '\t')) nn--;
            if (nn > 0 && nn <= sizeof name) {
                for (i = 0; i < nn; i++) name[i] = (char)tolower((unsigned char)p[i]);
                v = colon + 1;
                ve = line_end;
                while (v < ve && (*v == ' ' || *v == '\t')) v++;
                while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
                lua_pushlstring(L, name, nn);
                lua_pushvalue(L, -1);
                lua_rawget(L, -3);
                if (lua_isnil(L, -1)) {
                    lua_pop(L, 1);
                    lua_pushlstring(L, v, (size_t)(ve - v));
                } else {
                    lua_pushliteral(L, ", ");
                    lua_pushlstring(L, v, (size_t)(ve - v));
                    lua_concat(L, 3);
                }
                lua_rawset(L, -3);
            }
        }
        p = eol ? eol + 1 : end;
    }
}

static void set_num(lua_State *L, const char *k, double v) {
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

static void push_info(lua_State *L, struct octopus_transfer *t) {
    CURL *e = t->easy;
    long ver = 0, connects = 0;
    double d;
    lua_createtable(L, 0, 7);
    curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &ver);
    lua_pushstring(L, ver == CURL_HTTP_VERSION_2_0 ? "2" :
                      ver == CURL_HTTP_VERSION_1_0 ? "1.0" :
#ifdef CURL_HTTP_VERSION_3
                      ver == CURL_HTTP_VERSION_3 ? "3" :
#endif
                      "1.1");
    lua_setfield(L, -2, "http_version");
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
    lua_pushboolean(L, connects == 0);
    lua_setfield(L, -2, "reused");
    d = 0; curl_easy_getinfo(e, CURLINFO_TOTAL_TIME, &d); set_num(L, "total_time", d);
    d = 0; curl_easy_getinfo(e, CURLINFO_CONNECT_TIME, &d); set_num(L, "connect_time", d);
    d = 0; curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME, &d); set_num(L, "tls_time", d);
    d = 0; curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME, &d); set_num(L, "start_time", d);
    push_off(L, (curl_off_t)t->body.len);
    lua_setfield(L, -2, "size");
}

/* Replace every occurrence of needle[0..n) in msg by "***" (in place; n >= 3
 * so the message never grows). */
static void redact(char *msg, const char *needle, size_t n) {
    char *hit;
    if (n < 3) return;
    while ((hit = memmem(msg, strlen(msg), needle, n)) != NULL) {
        memmove(hit + 3, hit + n, strlen(hit + n) + 1);
        memcpy(hit, "***", 3);
    }
}

/* The URL's secrets (userinfo, query, fragment) never reach a message. */
static void redact_url(lua_State *L, struct octopus_transfer *t, char *msg) {
    const char *url, *auth, *at, *q, *end;
    size_t n;
    if (t->url_ref == LUA_NOREF) return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->url_ref);
    url = lua_tolstring(L, -1, &n);
    if (url != NULL) {
        end = url + n;
        auth = strstr(url, "://");
        auth = auth ? auth + 3 : url;
        at = NULL;
        for (q = auth; q < end && *q != '/' && *q != '?' && *q != '#'; q++)
            if (*q == '@') at = q;
        if (at != NULL) redact(msg, auth, (size_t)(at - auth));
        q = strpbrk(url, "?#");
        if (q != NULL) redact(msg, q + 1, (size_t)(end - q - 1));
    }
    lua_pop(L, 1);
}

/* Pushes the outcome. Never raises for anything the server sent or the
 * transfer's own state (only when Lua itself runs out of memory), and
 * changes nothing in t: calling it again after a raise gives the same
 * result (multi.c relies on that). octopus_transfer_done releases. */
int octopus_transfer_push_result(lua_State *L, struct octopus_transfer *t, CURLcode rc) {
    const char *code = "NETWORK", *kind = "network";
    char msg[CURL_ERROR_SIZE + 320];
    long request_size = 0, status = 0;
    int sent, too_large = t->too_large, redact_it = 0;

    if (rc == CURLE_OK && !too_large && !t->head_too_large && !t->oom && !t->proto_err) {
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        lua_pushinteger(L, (lua_Integer)status);
        push_headers(L, t);
        lua_pushlstring(L, t->body.data ? t->body.data : "", t->body.len);
        push_info(L, t);
        return 4;
    }

    curl_easy_getinfo(t->easy, CURLINFO_REQUEST_SIZE, &request_size);
    sent = request_size > 0;
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
        code = "CONNECT"; sent = 0; break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        code = "DNS"; sent = 0; break;
    case CURLE_OPERATION_TIMEDOUT:
        code = "TIMEOUT"; break;
    case CURLE_URL_MALFORMAT:
        code = "BAD_URL"; sent = 0; break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        /* before sending: a scheme other than http(s); after: the reply was
         * not HTTP (HTTP/0.9, a status line libcurl cannot read) */
        code = sent ? "PROTOCOL" : "BAD_URL"; break;
    case CURLE_WEIRD_SERVER_REPLY:    /* header without colon, bad Content-Length */
    case CURLE_BAD_CONTENT_ENCODING:  /* a body that does not gunzip */
        code = "PROTOCOL"; break;
    case CURLE_RECV_ERROR:            /* a reset; or (libcurl's only sign) bad chunking */
        if (strstr(t->errbuf, "chunked-encoding") != NULL) code = "PROTOCOL";
        break;
    case CURLE_FILESIZE_EXCEEDED:
        too_large = 1; break;
    case CURLE_ABORTED_BY_CALLBACK:
        break;
    case CURLE_SSL_CONNECT_ERROR: case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM: case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE: case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED: case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED: case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR: case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS: case CURLE_USE_SSL_FAILED:
#if LIBCURL_VERSION_NUM >= 0x074700
    case CURLE_SSL_CLIENTCERT:
#endif
        code = "TLS"; break;
    default:
        break;
    }
    if (t->head_too_large) {
        code = "TOO_LARGE";
        snprintf(msg, sizeof msg, "response headers exceed %lu bytes", (unsigned long)MAX_HEAD_BYTES);
    } else if (too_large) {
        code = "TOO_LARGE";
        snprintf(msg, sizeof msg, "response exceeds max_body (%.0f bytes)", (double)t->max_body);
    } else if (t->proto_err != NULL) {
        code = "PROTOCOL";
        snprintf(msg, sizeof msg, "%s", t->proto_err);
    } else if (t->oom) {
        code = "TOO_LARGE";
        snprintf(msg, sizeof msg, "response does not fit in memory (%.0f bytes buffered)",
                 (double)(t->body.len + t->head.len));
    } else if (t->aborted == 1) {
        code = "ABORTED";
        snprintf(msg, sizeof msg, "transfer aborted by on_progress");
    } else if (t->aborted == 2) {
        code = "CALLBACK"; kind = "usage";
        snprintf(msg, sizeof msg, "on_progress raised: %s", t->cb_msg);
    } else if (rc == CURLE_OUT_OF_MEMORY && sent) {
        /* libcurl (before 8.6) says "out of memory" for a response header
         * line over its 100 KB limit: what the server sent, not a crash */
        code = "TOO_LARGE";
        snprintf(msg, sizeof msg, "response header line exceeds libcurl's limit (%d bytes)",
                 CURL_MAX_HTTP_HEADER);
#if LIBCURL_VERSION_NUM >= 0x080600
    } else if (rc == CURLE_TOO_LARGE) {
        code = "TOO_LARGE";
        snprintf(msg, sizeof msg, "response headers exceed libcurl's limits");
#endif
    } else if (rc == CURLE_RECV_ERROR && strncmp(t->errbuf, "Too large response headers", 26) == 0) {
        code = "TOO_LARGE";  /* libcurl's 300 KB total cap, if it ever fires first */
        snprintf(msg, sizeof msg, "response headers exceed libcurl's limit (%s)", t->errbuf);
    } else {
        snprintf(msg, sizeof msg, "%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
        redact_it = 1;
    }
    if (redact_it) redact_url(L, t, msg);
    octopus_push_error(L, code, kind, "%s", msg);
    lua_pushboolean(L, sent);
    lua_setfield(L, -2, "sent");
    return 2;
}

void octopus_transfer_done(lua_State *L, struct octopus_transfer *t) {
    release_refs(L, t);
    if (t->body.cap > KEEP_BODY_CAP) buf_free(&t->body);
    if (t->head.cap > KEEP_HEAD_CAP) buf_free(&t->head);
}

void octopus_transfer_cleanup(lua_State *L, struct octopus_transfer *t) {
    release_refs(L, t);
    if (t->easy != NULL)
        curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    curl_slist_free_all(t->headers);
    t->headers = NULL;
    t->headers_n = t->headers_expect = 0;
    buf_free(&t->body);
    buf_free(&t->head);
}
