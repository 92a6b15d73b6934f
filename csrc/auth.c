/*
 * auth.c -- auth primitives: base64 / base64url (RFC 4648), the Basic
 * header value for an API key, and a JWT's claims (payload only, no
 * signature check: the Lua side uses `exp` to refresh ahead of time).
 *
 *   core.base64_encode(s) -> s          (standard alphabet, padded)
 *   core.base64_decode(s) -> s | nil, err   (strict: padded, canonical)
 *   core.base64url_encode(s) -> s       (url alphabet, no padding)
 *   core.base64url_decode(s) -> s | nil, err   (padding optional)
 *   core.basic_auth(api_key) -> "Basic " .. base64(api_key .. ":")
 *   core.jwt_claims(token) -> table | nil, err
 *   (core.fingerprint, the credential hash, is in crypto.c)
 *
 * Invariants: scratch memory is a Lua userdata (collected if anything
 * raises); no error message ever contains the input (it may be a secret):
 * decode errors name a byte offset, JWT errors say which part is wrong.
 */
#include <string.h>

#include "octopus.h"

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Encode src[0..n) into dst (room for 4 * ceil(n / 3)); returns the length. */
static size_t b64_encode(char *dst, const unsigned char *src, size_t n,
                         const char *alpha, int pad) {
    char *d = dst;
    size_t i;
    for (i = 0; i + 2 < n; i += 3) {
        unsigned long v = ((unsigned long)src[i] << 16) | (src[i + 1] << 8) | src[i + 2];
        *d++ = alpha[(v >> 18) & 63];
        *d++ = alpha[(v >> 12) & 63];
        *d++ = alpha[(v >> 6) & 63];
        *d++ = alpha[v & 63];
    }
    if (i < n) {
        unsigned long v = (unsigned long)src[i] << 16;
        if (i + 1 < n) v |= (unsigned long)src[i + 1] << 8;
        *d++ = alpha[(v >> 18) & 63];
        *d++ = alpha[(v >> 12) & 63];
        if (i + 1 < n) *d++ = alpha[(v >> 6) & 63];
        else if (pad) *d++ = '=';
        if (pad) *d++ = '=';
    }
    return (size_t)(d - dst);
}

static int encode(lua_State *L, const char *alpha, int pad) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    char *dst = lua_newuserdata(L, (n + 2) / 3 * 4 + 1);
    size_t len = b64_encode(dst, (const unsigned char *)s, n, alpha, pad);
    lua_pushlstring(L, dst, len);
    return 1;
}

static int l_base64_encode(lua_State *L) { return encode(L, b64_std, 1); }
static int l_base64url_encode(lua_State *L) { return encode(L, b64_url, 0); }

static int b64_value(unsigned char c, int url) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == (url ? '-' : '+')) return 62;
    if (c == (url ? '_' : '/')) return 63;
    return -1;
}

/* Decode s[0..n) into dst (room for 3 * n / 4 + 3). url: url alphabet with
 * optional padding; otherwise padding is required. Returns the length, or
 * -1 with *why set (and *at the byte offset for a bad character). */
static long b64_decode(unsigned char *dst, const char *s, size_t n, int url,
                       const char **why, size_t *at) {
    size_t data = n, i, len = 0;
    unsigned long acc = 0;
    int bits = 0;
    while (data > 0 && s[data - 1] == '=') data--;
    if (n - data > 2) { *why = "invalid padding"; return -1; }
    if (n - data > 0 && n % 4 != 0) { *why = "invalid padding"; return -1; }
    if (!url && n % 4 != 0) { *why = "invalid length (not padded to a multiple of 4)"; return -1; }
    if (data % 4 == 1) { *why = "invalid length"; return -1; }
    if (n != data && (data + (4 - data % 4) % 4) != n) { *why = "invalid padding"; return -1; }
    for (i = 0; i < data; i++) {
        int v = b64_value((unsigned char)s[i], url);
        if (v < 0) {
            *why = s[i] == '=' ? "invalid padding" : "invalid character";
            *at = i;
            return -1;
        }
        acc = ((acc << 6) | (unsigned long)v) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[len++] = (unsigned char)((acc >> bits) & 0xFF);
        }
    }
    /* leftover bits must be zero (canonical encoding) */
    if (bits > 0 && (acc & ((1UL << bits) - 1)) != 0) {
        *why = "non-zero trailing bits";
        return -1;
    }
    return (long)len;
}

/* Pushes the decoded string (returns 1) or nil, err (returns 2). */
static int decode(lua_State *L, const char *s, size_t n, int url) {
    const char *why = NULL;
    size_t at = (size_t)-1;
    unsigned char *dst = lua_newuserdata(L, n / 4 * 3 + 3);
    long len = b64_decode(dst, s, n, url, &why, &at);
    if (len < 0) {
        lua_pop(L, 1);
        if (at != (size_t)-1)
            return octopus_push_error(L, "BASE64", "decode", "%s at byte %lu", why,
                                      (unsigned long)at);
        return octopus_push_error(L, "BASE64", "decode", "%s", why);
    }
    lua_pushlstring(L, (const char *)dst, (size_t)len);
    lua_remove(L, -2);
    return 1;
}

static int l_base64_decode(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    return decode(L, s, n, 0);
}

static int l_base64url_decode(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    return decode(L, s, n, 1);
}

/* basic_auth(api_key): Kraken's REST auth is the key as user, no password. */
static int l_basic_auth(lua_State *L) {
    size_t n;
    const char *key;
    char *buf;
    size_t len;
    if (lua_type(L, 1) != LUA_TSTRING || octopus_rawlen(L, 1) == 0)
        return luaL_argerror(L, 1, "api_key must be a non-empty string");
    key = lua_tolstring(L, 1, &n);
    buf = lua_newuserdata(L, 6 + (n + 3) / 3 * 4 + 1);
    memcpy(buf, "Basic ", 6);
    /* base64(key .. ":") without building key .. ":" : encode the whole
     * 3-byte groups of key, then the tail plus ':' */
    len = b64_encode(buf + 6, (const unsigned char *)key, n - n % 3, b64_std, 1);
    {
        unsigned char tail[3];
        size_t r = n % 3;
        memcpy(tail, key + n - r, r);
        tail[r] = ':';
        len += b64_encode(buf + 6 + len, tail, r + 1, b64_std, 1);
    }
    lua_pushlstring(L, buf, 6 + len);
    return 1;
}

static int jwt_malformed(lua_State *L, const char *why) {
    return octopus_push_error(L, "JWT_MALFORMED", "auth", "malformed JWT: %s", why);
}

/* jwt_claims(token): upvalue 1 is the module table (for json.decode). */
static int l_jwt_claims(lua_State *L) {
    size_t n, i, dots[2], nd = 0;
    const char *tok;
    int top;
    if (lua_type(L, 1) != LUA_TSTRING)
        return luaL_argerror(L, 1, "token must be a string");
    tok = lua_tolstring(L, 1, &n);
    for (i = 0; i < n; i++) {
        if (tok[i] == '.') {
            if (nd == 2) return jwt_malformed(L, "expected three dot-separated parts");
            dots[nd++] = i;
        }
    }
    if (nd != 2) return jwt_malformed(L, "expected three dot-separated parts");
    if (dots[0] == 0 || dots[1] == dots[0] + 1)
        return jwt_malformed(L, "empty header or payload");
    top = lua_gettop(L);
    if (decode(L, tok, dots[0], 1) != 1) {
        lua_settop(L, top);
        return jwt_malformed(L, "header is not base64url");
    }
    if (decode(L, tok + dots[0] + 1, dots[1] - dots[0] - 1, 1) != 1) {
        lua_settop(L, top);
        return jwt_malformed(L, "payload is not base64url");
    }
    /* stack: token, header, payload */
    lua_getfield(L, lua_upvalueindex(1), "json");
    if (lua_istable(L, -1)) lua_getfield(L, -1, "decode");
    else lua_pushnil(L);
    if (!lua_isfunction(L, -1)) return luaL_error(L, "octopus.core: json.decode is unavailable");
    lua_pushvalue(L, top + 2);
    /* decode returns nil, err on bad JSON; protected anyway, so a decoder
     * that raises cannot turn a bad token into an error carrying its text */
    if (lua_pcall(L, 1, 1, 0) != 0 || !lua_istable(L, -1))
        return jwt_malformed(L, "payload is not a JSON object");
    /* decoded arrays carry json.array_mt: not an object */
    if (lua_getmetatable(L, -1)) {
        lua_getfield(L, top + 3, "array_mt");
        if (lua_rawequal(L, -1, -2)) return jwt_malformed(L, "payload is not a JSON object");
        lua_pop(L, 2);
    } else if (octopus_rawlen(L, -1) > 0) {
        return jwt_malformed(L, "payload is not a JSON object");
    }
    return 1;
}

static const luaL_Reg auth_funcs[] = {
    {"base64_encode", l_base64_encode},
    {"base64_decode", l_base64_decode},
    {"base64url_encode", l_base64url_encode},
    {"base64url_decode", l_base64url_decode},
    {"basic_auth", l_basic_auth},
    {NULL, NULL}};

void octopus_open_auth(lua_State *L) {
    octopus_setfuncs(L, auth_funcs, 0);
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, l_jwt_claims, 1);
    lua_setfield(L, -2, "jwt_claims");
}
