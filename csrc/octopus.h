/*
 * octopus.h -- internal header of the octopus.core C module.
 *
 * Everything here is hidden (-fvisibility=hidden); the only exported symbol
 * is luaopen_octopus_core (OCTOPUS_API).
 */
#ifndef OCTOPUS_H
#define OCTOPUS_H

#include <curl/curl.h>

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
void octopus_open_file(lua_State *L);   /* sets core.write_private, file_mode */
void octopus_open_clock(lua_State *L);  /* sets core.monotonic, wall, sleep */
void octopus_open_crypto(lua_State *L); /* sets core.sha256, fingerprint, random_bytes */

/* ------------------------------------------------------------------------
 * transfer.c: one HTTP request on a CURL easy handle, shared by the blocking
 * session (http.c) and the multi handle (multi.c).
 *
 * Memory: every allocation hangs off a struct that lives inside a Lua
 * userdata (the session, or one multi transfer), so a Lua error raised
 * half-way leaks nothing; octopus_transfer_cleanup, called from that
 * userdata's close/__gc, frees it. No Lua error ever unwinds through libcurl:
 * the write/header callbacks are pure C, on_progress runs under lua_pcall.
 * ---------------------------------------------------------------------- */
/* A growable byte buffer (malloc'd, owned by the enclosing userdata). */
struct octopus_buf {
    char *data;
    size_t len, cap;
};

/* Session-level settings (core.session opts; multi may reuse them). */
struct octopus_http_opts {
    char *ca_file;          /* malloc'd copy or NULL (system CA store) */
    char *user_agent;       /* malloc'd copy or NULL ("octopus/<version>") */
    double timeout;         /* seconds, default 30; 0 = no limit */
    double connect_timeout; /* seconds, default 10 */
    curl_off_t max_body;    /* bytes, default 64 MiB */
};

struct octopus_transfer {
    CURL *easy;                 /* not owned */
    lua_State *L;               /* state on_progress runs in: set it before
                                   curl_easy_perform / curl_multi_perform */
    struct curl_slist *headers; /* request header list (owned); kept for the next
                                   request on the handle when its headers are equal */
    int headers_n;              /* entries of headers from the caller's table ... */
    int headers_expect;         /* ... followed by our "Expect:" */
    struct octopus_buf body;    /* response body, decoded */
    struct octopus_buf head;    /* raw header lines of the final response */
    curl_off_t max_body;
    int progress_ref;           /* registry ref to on_progress, or LUA_NOREF */
    int body_ref;               /* registry ref anchoring the request body */
    int url_ref;                /* registry ref to the URL (for redaction) */
    size_t head_total;          /* header bytes of every response so far (1xx too) */
    curl_off_t length;          /* the final response's Content-Length ... */
    int length_seen;            /* ... once one was seen */
    int too_large;              /* body over max_body (write callback, or curl) */
    int head_too_large;         /* headers over MAX_HEAD_BYTES (header callback) */
    int oom;                    /* a response buffer could not grow */
    const char *proto_err;      /* static text: the response broke HTTP framing */
    int fresh_connect;          /* this request asked for a new connection */
    int aborted;                /* 1: on_progress returned true; 2: it raised */
    char cb_msg[256];           /* on_progress's error message when aborted == 2 */
    char errbuf[CURL_ERROR_SIZE];
};

/* Zero a transfer: no buffers, LUA_NOREF refs. Call once, before anything else. */
void octopus_transfer_init(struct octopus_transfer *t);

/* Read session opts from the table at opts_idx (or defaults if it is none or
 * nil) into *o; raises "unknown option 'x'" / bad types naming the option.
 * Strings are malloc'd into *o: free with octopus_http_opts_free (make *o
 * part of a userdata first so a raise cannot leak). */
void octopus_http_opts_init(struct octopus_http_opts *o);
void octopus_http_opts_parse(lua_State *L, int opts_idx, struct octopus_http_opts *o);
void octopus_http_opts_free(struct octopus_http_opts *o);

/* Once per easy handle: TLS verification on, ca_file (no CAPATH then, CA
 * cache), HTTP/2 over TLS, Accept-Encoding "", no redirects, http/https only,
 * NOSIGNAL, TCP_NODELAY, user agent. Returns the first failing CURLcode. */
CURLcode octopus_easy_configure(CURL *easy, const struct octopus_http_opts *o);

/* Per request: parse the request table at req_idx (method, url, headers, body,
 * timeout, connect_timeout, max_body, on_progress, fresh_connect), raising on usage errors
 * naming the argument, and set every per-request option on easy explicitly
 * (the handle is reused without curl_easy_reset). Frees what the previous
 * request on t left behind. Leaves the stack as it found it. */
void octopus_transfer_setup(lua_State *L, int req_idx, struct octopus_transfer *t,
                            CURL *easy, const struct octopus_http_opts *o);

/* After curl finished the transfer with rc: pushes `status, headers, body,
 * info` (returns 4) or `nil, err` (returns 2; err.code CONNECT | DNS |
 * TIMEOUT | TLS | TOO_LARGE | BAD_URL | PROTOCOL | NETWORK | ABORTED, kind
 * "network"; CALLBACK, kind "usage", when on_progress raised; err.sent).
 * Raises only when Lua runs out of memory, and leaves t as it was, so a
 * second call gives the same result. t->easy must still be valid. */
int octopus_transfer_push_result(lua_State *L, struct octopus_transfer *t, CURLcode rc);

/* Once the result is safely delivered: release the per-request refs and
 * oversized buffers. */
void octopus_transfer_done(lua_State *L, struct octopus_transfer *t);

/* Free everything t owns (buffers, header list, refs); t stays reusable. */
void octopus_transfer_cleanup(lua_State *L, struct octopus_transfer *t);

OCTOPUS_API int luaopen_octopus_core(lua_State *L);

#endif
