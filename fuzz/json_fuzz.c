/*
 * json_fuzz.c -- libFuzzer target for core.json (csrc/json.c).
 *
 * Each input is decoded in a fresh lua_State holding only the json table.
 * Invariants checked (abort() on violation):
 *  - decode never raises; a failure is `nil, err` with err.code one of
 *    JSON_SYNTAX / JSON_UTF8 / JSON_DEPTH and 0 <= err.offset <= #input;
 *  - a decoded value re-encodes (sort_keys) and round-trips:
 *    encode(decode(encode(v))) == encode(v);
 *  - a number decodes to what strtod reads from the same text (correctly
 *    rounded), and is refused exactly when strtod overflows (inf).
 * Build and run: `make fuzz` (FUZZ_SECONDS=600 for ten minutes).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lualib.h>

#include "octopus.h"

/* encode(v at top, {sort_keys=true}) under pcall; pushes the string. */
static void encode_sorted(lua_State *L, int encode) {
    lua_pushvalue(L, encode);
    lua_insert(L, -2);
    lua_createtable(L, 0, 1);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "sort_keys");
    if (lua_pcall(L, 2, 1, 0) != LUA_OK || lua_type(L, -1) != LUA_TSTRING) abort();
}

/* strtod of the input when it is one JSON number between whitespace (the
 * decoder's grammar is a subset of strtod's); 0 if it is not one. */
static int reference_number(const uint8_t *data, size_t size, double *out) {
    char *buf, *end;
    size_t i = 0, j = size;
    while (i < j && strchr(" \t\r\n", data[i]) && data[i]) i++;
    while (j > i && strchr(" \t\r\n", data[j - 1]) && data[j - 1]) j--;
    if (i == j || !(data[i] == '-' || (data[i] >= '0' && data[i] <= '9'))) return 0;
    buf = malloc(j - i + 1);
    if (buf == NULL) return 0;
    memcpy(buf, data + i, j - i);
    buf[j - i] = '\0';
    *out = strtod(buf, &end);
    i = (size_t)(end - buf) == j - i;
    free(buf);
    return (int)i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lua_State *L = luaL_newstate();
    int decode, encode;
    if (L == NULL) return 0;
    lua_newtable(L);
    octopus_open_error(L);
    octopus_open_json(L);
    lua_getfield(L, -1, "json");
    lua_getfield(L, -1, "decode");
    decode = lua_gettop(L);
    lua_getfield(L, -2, "encode");
    encode = lua_gettop(L);

    lua_pushvalue(L, decode);
    lua_pushlstring(L, (const char *)data, size);
    if (lua_pcall(L, 1, 2, 0) != LUA_OK) abort();
    if (lua_isnil(L, -2)) {
        const char *code;
        lua_Integer off;
        if (!lua_istable(L, -1)) abort();
        lua_getfield(L, -1, "code");
        code = lua_tostring(L, -1);
        if (code == NULL || (strcmp(code, "JSON_SYNTAX") && strcmp(code, "JSON_UTF8") &&
                             strcmp(code, "JSON_DEPTH"))) abort();
        lua_getfield(L, -2, "offset");
        off = lua_tointeger(L, -1);
        if (off < 0 || (size_t)off > size) abort();
        lua_getfield(L, -3, "message");
        if (strncmp(lua_tostring(L, -1), "number out of range", 19) == 0) {
            double ref;
            if (reference_number(data, size, &ref) && !isinf(ref)) abort();
        }
    } else {
        size_t n1, n2;
        const char *e1, *e2;
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TNUMBER) {
            double ref, got = (double)lua_tonumber(L, -1);
            if (!reference_number(data, size, &ref) || isinf(ref) ||
                (got != ref && !(got != got && ref != ref))) abort();
        }
        encode_sorted(L, encode);               /* e1 = encode(v) */
        lua_pushvalue(L, decode);
        lua_pushvalue(L, -2);
        if (lua_pcall(L, 1, 2, 0) != LUA_OK || lua_isnil(L, -2)) abort();
        lua_pop(L, 1);
        encode_sorted(L, encode);               /* e2 = encode(decode(e1)) */
        e1 = lua_tolstring(L, -2, &n1);
        e2 = lua_tolstring(L, -1, &n2);
        if (n1 != n2 || memcmp(e1, e2, n1) != 0) abort();
    }
    lua_close(L);
    return 0;
}
