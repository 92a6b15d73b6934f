/*
 * auth_fuzz.c -- libFuzzer target for the auth primitives (csrc/auth.c), which
 * read bytes from the network: tokens from obtainKrakenToken, base64 payloads.
 *
 * Each input goes through a fresh lua_State holding only the core table.
 * Invariants checked (abort() on violation):
 *  - base64_decode, base64url_decode and jwt_claims never raise on a string;
 *    a failure is `nil, err` (err.code BASE64 / JWT_MALFORMED style: a string);
 *  - decoding is canonical: base64_encode(base64_decode(s)) == s, and
 *    base64url_encode(base64url_decode(s)) == s without its '=' padding;
 *  - encoding round-trips: decode(encode(s)) == s for both alphabets.
 * Build and run: `make fuzz` (FUZZ_SECONDS per target).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lualib.h>

#include "octopus.h"

/* calls core[name](arg string at idx) under pcall -> leaves 2 results */
static void call2(lua_State *L, const char *name, int idx) {
    lua_getfield(L, 1, name);
    lua_pushvalue(L, idx);
    if (lua_pcall(L, 1, 2, 0) != LUA_OK) abort();
}

static int same(lua_State *L, int a, int b) {
    size_t na, nb;
    const char *sa = lua_tolstring(L, a, &na), *sb = lua_tolstring(L, b, &nb);
    return sa && sb && na == nb && memcmp(sa, sb, na) == 0;
}

/* decode(s) then, on success, encode(decoded) must give s (minus padding when url) */
static void canonical(lua_State *L, const char *dec, const char *enc, int url, int input) {
    int top = lua_gettop(L);
    call2(L, dec, input);
    if (lua_isnil(L, -2)) {
        if (!lua_istable(L, -1)) abort();
    } else {
        size_t n;
        const char *s = lua_tolstring(L, input, &n);
        if (lua_type(L, -2) != LUA_TSTRING) abort();
        call2(L, enc, top + 1);
        if (url) while (n > 0 && s[n - 1] == '=') n--;
        lua_pushlstring(L, s, n);
        if (!same(L, -3, -1)) abort();
    }
    lua_settop(L, top);
}

/* encode(s) then decode must give s back */
static void roundtrip(lua_State *L, const char *enc, const char *dec, int input) {
    int top = lua_gettop(L);
    call2(L, enc, input);
    if (lua_type(L, -2) != LUA_TSTRING) abort();
    call2(L, dec, top + 1);
    if (!same(L, -2, input)) abort();
    lua_settop(L, top);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lua_State *L = luaL_newstate();
    int input;
    if (L == NULL) return 0;
    lua_newtable(L);                 /* 1: core */
    octopus_open_error(L);
    octopus_open_json(L);
    octopus_open_auth(L);
    lua_pushlstring(L, (const char *)data, size);
    input = lua_gettop(L);

    canonical(L, "base64_decode", "base64_encode", 0, input);
    canonical(L, "base64url_decode", "base64url_encode", 1, input);
    roundtrip(L, "base64_encode", "base64_decode", input);
    roundtrip(L, "base64url_encode", "base64url_decode", input);

    call2(L, "jwt_claims", input);
    if (lua_isnil(L, -2) ? !lua_istable(L, -1) : !lua_istable(L, -2)) abort();
    lua_close(L);
    return 0;
}
