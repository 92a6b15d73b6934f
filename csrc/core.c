/*
 * core.c -- luaopen_octopus_core: the module table, its version and null.
 *
 * octopus.core = {
 *   version, null (lightuserdata NULL, equal to cjson.null), error_mt,
 *   json = { decode, encode, array, object, null, array_mt, object_mt },
 *   session(opts) -> Session, multi(opts) -> Multi,
 *   base64_encode/decode, base64url_encode/decode, basic_auth, jwt_claims,
 *   write_private, file_mode (secrets on disk, file.c), curl_version,
 *   monotonic, wall, sleep (clock.c),
 *   sha256, fingerprint, random_bytes (crypto.c),
 * }
 */
#include <curl/curl.h>

#include "octopus.h"

OCTOPUS_API int luaopen_octopus_core(lua_State *L) {
    /* libcurl's global init is not thread-safe before 7.84; do it once here. */
    static int curl_ready = 0;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return luaL_error(L, "octopus.core: curl_global_init failed");
        curl_ready = 1;
    }
    lua_newtable(L);
    lua_pushliteral(L, OCTOPUS_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");
    lua_pushstring(L, curl_version());
    lua_setfield(L, -2, "curl_version");
    octopus_open_error(L);
    octopus_open_json(L);
    octopus_open_http(L);
    octopus_open_multi(L);
    octopus_open_auth(L);
    octopus_open_file(L);
    octopus_open_clock(L);
    octopus_open_crypto(L);
    return 1;
}
