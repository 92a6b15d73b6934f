/*
 * json.c -- core.json: a strict RFC 8259 decoder and a deterministic encoder.
 *
 * Decoding builds values straight onto the Lua stack (no intermediate tree).
 * Invariants:
 *  - every decode failure returns `nil, err` (error.c) with err.code
 *    JSON_SYNTAX | JSON_UTF8 | JSON_DEPTH, kind "decode", err.offset (0-based)
 *    and a message ending "at byte N"; only out-of-memory raises;
 *  - scratch memory lives in Lua (luaL_Buffer, userdata on the call's stack),
 *    so a raise half-way leaks nothing;
 *  - decoded arrays/objects carry OCTOPUS_ARRAY_MT / OCTOPUS_OBJECT_MT, so
 *    encode(decode(s)) keeps [] and {} apart; null is lightuserdata NULL;
 *  - integers that fit int64 decode as Lua integers on 5.3+, numbers with a
 *    fraction or exponent as floats; floats re-encode so they round-trip;
 *  - the input is a Lua string, hence NUL-terminated: the scanners rely on
 *    that byte (never a digit, quote or continuation byte) to stop at the end.
 * Encoding raises (naming the path, "$.results[3].x") on what JSON cannot
 * hold; strings are checked to be UTF-8 and emitted as is, apart from the
 * escapes for '"', '\\' and control characters.
 */
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "octopus.h"

#define JSON_DEFAULT_DEPTH 1000
#define JSON_DEPTH_LIMIT   10000   /* bounds the C recursion of both directions */

#define EXACT_INT 9007199254740992.0   /* 2^53: integers below are exact doubles */

static const double pow10_tab[23] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
    1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Byte classes inside a JSON string while decoding: 0 plain ASCII,
 * 1 '"', 2 '\\', 3 control (and the NUL terminator), 4 non-ASCII. */
static unsigned char str_class[256];
/* While encoding: 0 copy as is, 1 escape, 4 non-ASCII (validate). */
static unsigned char esc_class[256];
static unsigned char ws_class[256];
static char esc_short[256];   /* the one-letter escape of a byte, if any */

static void init_tables(void) {
    int c;
    for (c = 0; c < 256; c++) {
        str_class[c] = c < 0x20 ? 3 : c >= 0x80 ? 4 : 0;
        esc_class[c] = c < 0x20 ? 1 : c >= 0x80 ? 4 : 0;
    }
    str_class['"'] = 1, str_class['\\'] = 2;
    esc_class['"'] = esc_class['\\'] = 1;
    ws_class[' '] = ws_class['\t'] = ws_class['\n'] = ws_class['\r'] = 1;
    esc_short['"'] = '"', esc_short['\\'] = '\\', esc_short['\b'] = 'b';
    esc_short['\f'] = 'f', esc_short['\n'] = 'n', esc_short['\r'] = 'r', esc_short['\t'] = 't';
}

/* Length (2..4) of the well-formed UTF-8 sequence at p (p[0] >= 0x80), or 0.
 * Short-circuits on the first bad byte, so it never reads past a NUL. */
static int utf8_len(const unsigned char *p) {
    unsigned c = p[0];
    if (c >= 0xC2 && c <= 0xDF)
        return (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 &&
               (p[3] & 0xC0) == 0x80 ? 4 : 0;
    }
    return 0;
}

/* Reads the optional { max_depth = N, sort_keys = b } table at idx. */
static void read_opts(lua_State *L, int idx, int *max_depth, int *sort_keys) {
    if (lua_isnoneornil(L, idx)) return;
    luaL_checktype(L, idx, LUA_TTABLE);
    for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
        lua_Number n = lua_tonumber(L, -1);
        if (strcmp(k, "max_depth") == 0) {
            luaL_argcheck(L, lua_type(L, -1) == LUA_TNUMBER && n == floor(n) && n >= 1 &&
                          n <= JSON_DEPTH_LIMIT, idx, "max_depth must be an integer in 1..10000");
            *max_depth = (int)n;
        } else if (sort_keys != NULL && strcmp(k, "sort_keys") == 0) {
            luaL_argcheck(L, lua_type(L, -1) == LUA_TBOOLEAN, idx, "sort_keys must be a boolean");
            *sort_keys = lua_toboolean(L, -1);
        } else {
            luaL_argerror(L, idx, lua_pushfstring(L, "unknown option '%s'", k));
        }
    }
}

/* ====================================================================
 * Decoding. Each dec_* function pushes one value and returns 1, or records
 * the failure in the decoder and returns 0 (the caller resets the stack).
 * ==================================================================== */
#define DEC_HINTS 16

typedef struct {
    lua_State *L;
    const unsigned char *start, *p, *end;
    int depth, max_depth;
    int amt, omt;              /* stack slots holding the marker metatables */
    int hint[DEC_HINTS];       /* key count of the last object per depth */
    int ahint[DEC_HINTS];      /* length of the last array per depth */
    const char *code;          /* failure: code, offset and message */
    size_t off;
    char msg[80];
} decoder;

static int dec_fail(decoder *d, const char *code, const unsigned char *at,
                    const char *msg) {
    d->code = code, d->off = (size_t)(at - d->start);
    snprintf(d->msg, sizeof d->msg, "%s", msg);
    return 0;
}

/* "unexpected character 'x'" / "unexpected end of input" at p. */
static int dec_unexpected(decoder *d, const unsigned char *p, const char *what) {
    char m[80];
    if (p >= d->end)
        snprintf(m, sizeof m, "unexpected end of input (expected %s)", what);
    else if (*p >= 0x20 && *p < 0x7F)
        snprintf(m, sizeof m, "unexpected character '%c' (expected %s)", *p, what);
    else
        snprintf(m, sizeof m, "unexpected byte 0x%02X (expected %s)", *p, what);
    return dec_fail(d, "JSON_SYNTAX", p, m);
}

#define SKIP_WS(p) while (ws_class[*(p)]) (p)++

static int dec_value(decoder *d);

/* The 4 hex digits at p (stops at a NUL), or -1. */
static int hex4(const unsigned char *p) {
    int i, v = 0;
    for (i = 0; i < 4; i++) {
        int c = p[i], l = c | 0x20;
        int x = c >= '0' && c <= '9' ? c - '0' : l >= 'a' && l <= 'f' ? l - 'a' + 10 : -1;
        if (x < 0) return -1;
        v = v * 16 + x;
    }
    return v;
}

/* Appends the escape at p (p[0] == '\\') to b; returns its length or 0. */
static int dec_escape(decoder *d, luaL_Buffer *b, const unsigned char *p) {
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *s = p[1] ? strchr(from, p[1]) : NULL;
    char out[4];
    int len = 6, cp, lo, n, i;
    if (s != NULL) { luaL_addchar(b, to[s - from]); return 2; }
    if (p[1] != 'u') return dec_fail(d, "JSON_SYNTAX", p, "invalid escape in string");
    if ((cp = hex4(p + 2)) < 0) return dec_fail(d, "JSON_SYNTAX", p, "invalid \\u escape");
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return dec_fail(d, "JSON_UTF8", p, "lone low surrogate in \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (p[6] != '\\' || p[7] != 'u' || (lo = hex4(p + 8)) < 0xDC00 || lo > 0xDFFF)
            return dec_fail(d, "JSON_UTF8", p, "lone high surrogate in \\u escape");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        len = 12;
    }
    if (cp < 0x80) { out[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { out[0] = (char)(0xC0 | (cp >> 6)); n = 2; }
    else if (cp < 0x10000) { out[0] = (char)(0xE0 | (cp >> 12)); n = 3; }
    else { out[0] = (char)(0xF0 | (cp >> 18)); n = 4; }
    for (i = 1; i < n; i++) out[i] = (char)(0x80 | ((cp >> (6 * (n - 1 - i))) & 0x3F));
    luaL_addlstring(b, out, (size_t)n);
    return len;
}

/* Checks the byte at p that stopped a plain run: non-ASCII, control or end. */
static int dec_string_stop(decoder *d, const unsigned char *p, int *len) {
    if (*p >= 0x80)
        return (*len = utf8_len(p)) ? 1 : dec_fail(d, "JSON_UTF8", p, "invalid UTF-8 in string");
    if (p >= d->end) return dec_fail(d, "JSON_SYNTAX", p, "unterminated string");
    return dec_fail(d, "JSON_SYNTAX", p, "control character in string");
}

/* d->p at the opening quote. Without escapes the string is pushed straight
 * from the input; with escapes it is assembled in a luaL_Buffer. */
static int dec_string(decoder *d) {
    const unsigned char *p = d->p + 1, *run;
    luaL_Buffer b;
    int n;
    for (;;) {
        while (str_class[*p] == 0) p++;
        if (*p == '"') {
            lua_pushlstring(d->L, (const char *)d->p + 1, (size_t)(p - d->p - 1));
            d->p = p + 1;
            return 1;
        }
        if (*p == '\\') break;
        if (!dec_string_stop(d, p, &n)) return 0;
        p += n;
    }
    luaL_buffinit(d->L, &b);
    luaL_addlstring(&b, (const char *)d->p + 1, (size_t)(p - d->p - 1));
    for (;;) {
        if (*p == '\\') {
            if ((n = dec_escape(d, &b, p)) == 0) return 0;
            p += n;
            continue;
        }
        run = p;   /* plain ASCII and well-formed UTF-8 */
        while (str_class[*p] == 0 || (*p >= 0x80 && (n = utf8_len(p)) > 0))
            p += str_class[*p] == 0 ? 1 : n;
        luaL_addlstring(&b, (const char *)run, (size_t)(p - run));
        if (*p == '"') break;
        if (*p != '\\' && !dec_string_stop(d, p, &n)) return 0;
    }
    luaL_pushresult(&b);
    d->p = p + 1;
    return 1;
}

/* strtod on [s, e) in the C locale's syntax, whatever the current locale. */
static double dec_strtod(lua_State *L, const unsigned char *s, const unsigned char *e) {
    char local[64], *buf = local, *dot;
    size_t n = (size_t)(e - s);
    double v;
    if (n >= sizeof local) buf = (char *)lua_newuserdata(L, n + 1);
    memcpy(buf, s, n);
    buf[n] = '\0';
    if ((dot = strchr(buf, '.')) != NULL) *dot = localeconv()->decimal_point[0];
    v = strtod(buf, NULL);
    if (buf != local) lua_pop(L, 1);
    return v;
}

/* The exponent's digits saturate here: far beyond any offset the digits of
 * an input can add to e10 (one per byte), so the sign and the magnitude
 * class of e10 stay right ("0.<99999 zeros>1e1000000000" is out of range). */
#define EXP_SATURATE 1000000000000000LL   /* 1e15 */

/* RFC 8259 number at d->p. Integers (no fraction/exponent) that fit int64
 * stay integers on 5.3+; others are doubles, exact via the fast path when
 * the significand and the power of ten are both exact, else strtod (which
 * reads the whole text, so e10 only has to pick the path correctly). */
static int dec_number(decoder *d) {
    const unsigned char *p = d->p;
    uint64_t m = 0;
    int neg = 0, nd = 0, dropped = 0, isfloat = 0;
    long long e10 = 0, ex = 0;
    double v;
    if (*p == '-') { neg = 1; p++; }
    if (*p == '0') {
        p++;
        if (*p >= '0' && *p <= '9')
            return dec_fail(d, "JSON_SYNTAX", p - 1, "leading zero in number");
    } else if (*p >= '1' && *p <= '9') {
        for (; *p >= '0' && *p <= '9'; p++) {
            if (nd < 19) { m = m * 10 + (uint64_t)(*p - '0'); nd++; }
            else { dropped = 1; e10++; }
        }
    } else {
        return dec_unexpected(d, p, "a digit");
    }
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') return dec_unexpected(d, p, "a digit after '.'");
        for (; *p >= '0' && *p <= '9'; p++) {
            if (m == 0 && *p == '0') { e10--; continue; }
            if (nd < 19) { m = m * 10 + (uint64_t)(*p - '0'); nd++; e10--; }
            else dropped = 1;
        }
        isfloat = 1;
    }
    if (*p == 'e' || *p == 'E') {
        int eneg = 0;
        p++;
        if (*p == '+' || *p == '-') eneg = *p++ == '-';
        if (*p < '0' || *p > '9') return dec_unexpected(d, p, "a digit in the exponent");
        for (; *p >= '0' && *p <= '9'; p++)
            if (ex < EXP_SATURATE) ex = ex * 10 + (*p - '0');
        e10 += eneg ? -ex : ex;
        isfloat = 1;
    }
    if (!isfloat && !dropped) {
        if (m == 0 && neg) {
            lua_pushnumber(d->L, -0.0);  /* keep the sign: "-0" is a float */
        } else if (m <= (uint64_t)INT64_MAX || (neg && m == (uint64_t)INT64_MAX + 1)) {
#if OCTOPUS_HAS_INTEGERS
            lua_pushinteger(d->L, neg ? (lua_Integer)(0 - m) : (lua_Integer)m);
#else
            lua_pushnumber(d->L, neg ? -(double)m : (double)m);
#endif
        } else {
            lua_pushnumber(d->L, dec_strtod(d->L, d->p, p));
        }
        d->p = p;
        return 1;
    }
    if (m == 0) {
        v = 0.0;
    } else if (!dropped && nd <= 15 && e10 >= -22 && e10 <= 22) {
        v = e10 < 0 ? (double)m / pow10_tab[-e10] : (double)m * pow10_tab[e10];
    } else {
        v = dec_strtod(d->L, d->p, p);  /* signed already */
        if (isinf(v)) return dec_fail(d, "JSON_SYNTAX", d->p, "number out of range");
        neg = 0;
    }
    lua_pushnumber(d->L, neg ? -v : v);
    d->p = p;
    return 1;
}

/* Enters a container at d->p: depth guard, stack room, a new table with
 * the marker. Objects and arrays are presized from the last one closed at
 * the same depth (records in an array share their shape; pages of a list
 * share their length): fewer rehashes. */
static int dec_open(decoder *d, int mt, int narr, int nrec) {
    if (++d->depth > d->max_depth) {
        char m[64];
        snprintf(m, sizeof m, "nesting deeper than %d", d->max_depth);
        return dec_fail(d, "JSON_DEPTH", d->p, m);
    }
    if (!lua_checkstack(d->L, 24))
        return dec_fail(d, "JSON_DEPTH", d->p, "nesting too deep for the Lua stack");
    lua_createtable(d->L, narr, nrec);
    lua_pushvalue(d->L, mt);
    lua_setmetatable(d->L, -2);
    d->p++;
    SKIP_WS(d->p);
    return 1;
}

static int dec_array(decoder *d) {
    int i = 0, h = d->depth < DEC_HINTS ? d->depth : DEC_HINTS - 1;
    if (!dec_open(d, d->amt, d->ahint[h], 0)) return 0;
    if (*d->p == ']') { d->p++; d->depth--; return 1; }
    for (;;) {
        if (!dec_value(d)) return 0;
        lua_rawseti(d->L, -2, ++i);
        SKIP_WS(d->p);
        if (*d->p == ',') { d->p++; SKIP_WS(d->p); continue; }
        if (*d->p == ']') break;
        return dec_unexpected(d, d->p, "',' or ']'");
    }
    d->p++;
    d->depth--;
    d->ahint[h] = i < 256 ? i : 256;
    return 1;
}

static int dec_object(decoder *d) {
    int n = 0, h = d->depth < DEC_HINTS ? d->depth : DEC_HINTS - 1;
    if (!dec_open(d, d->omt, 0, d->hint[h])) return 0;
    if (*d->p == '}') { d->p++; d->depth--; return 1; }
    for (;; n++) {
        if (*d->p != '"') return dec_unexpected(d, d->p, "a string key");
        if (!dec_string(d)) return 0;
        SKIP_WS(d->p);
        if (*d->p != ':') return dec_unexpected(d, d->p, "':'");
        d->p++;
        SKIP_WS(d->p);
        if (!dec_value(d)) return 0;
        lua_rawset(d->L, -3);
        SKIP_WS(d->p);
        if (*d->p == ',') { d->p++; SKIP_WS(d->p); continue; }
        if (*d->p == '}') break;
        return dec_unexpected(d, d->p, "',' or '}'");
    }
    d->p++;
    d->depth--;
    d->hint[h] = n < 64 ? n + 1 : 64;
    return 1;
}

/* true, false or null at d->p: pushes the value. */
static int dec_literal(decoder *d, const char *word) {
    size_t n = strlen(word), i = 0;
    if ((size_t)(d->end - d->p) < n || memcmp(d->p, word, n) != 0) {
        while (d->p + i < d->end && i < n && d->p[i] == (unsigned char)word[i]) i++;
        return dec_unexpected(d, d->p + i, "a value");
    }
    d->p += n;
    if (word[0] == 'n') lua_pushlightuserdata(d->L, NULL);
    else lua_pushboolean(d->L, word[0] == 't');
    return 1;
}

/* One value at d->p (whitespace already skipped). */
static int dec_value(decoder *d) {
    switch (*d->p) {
    case '"': return dec_string(d);
    case '{': return dec_object(d);
    case '[': return dec_array(d);
    case 't': return dec_literal(d, "true");
    case 'f': return dec_literal(d, "false");
    case 'n': return dec_literal(d, "null");
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return dec_number(d);
    default:
        return dec_unexpected(d, d->p, "a value");
    }
}

/* json.decode(s [, opts]) -> value | nil, err */
static int json_decode(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    decoder d;
    d.max_depth = JSON_DEFAULT_DEPTH;
    read_opts(L, 2, &d.max_depth, NULL);
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));   /* 3: array_mt */
    lua_pushvalue(L, lua_upvalueindex(2));   /* 4: object_mt */
    d.L = L, d.amt = 3, d.omt = 4, d.depth = 0;
    d.start = d.p = (const unsigned char *)s;
    d.end = d.start + len;
    memset(d.hint, 0, sizeof d.hint);
    memset(d.ahint, 0, sizeof d.ahint);
    SKIP_WS(d.p);
    if (dec_value(&d)) {
        SKIP_WS(d.p);
        if (d.p == d.end) return 1;
        dec_fail(&d, "JSON_SYNTAX", d.p, "trailing characters after the value");
    }
    lua_settop(L, 4);
    octopus_push_error(L, d.code, "decode", "%s at byte %lu", d.msg, (unsigned long)d.off);
    lua_pushinteger(L, (lua_Integer)d.off);
    lua_setfield(L, -2, "offset");
    return 2;
}

/* ====================================================================
 * Encoding. Output goes to a buffer on the C stack, moved into a userdata
 * (stack slot bufidx, replaced as it grows) once it outgrows it. Frames
 * record where we are, only to name the path in error messages.
 * ==================================================================== */
typedef struct {
    int keyidx;           /* objects: stack slot of the current key, else 0 */
    lua_Integer index;    /* arrays: 0-based index of the current item */
} enc_frame;

#define ENC_FRAMES 40   /* a path deeper than this is cut short in messages */

typedef struct {
    lua_State *L;
    char *b;
    size_t len, cap;
    int bufidx, amt, omt;
    int depth, max_depth, sort_keys;
    enc_frame frames[ENC_FRAMES + 1];   /* frames[1..depth]; deeper share the last */
    char local[4096];
} encoder;

static void enc_grow(encoder *e, size_t n) {
    size_t cap = e->cap * 2 > e->len + n ? e->cap * 2 : e->len + n;
    char *nb;
    if (n > ((size_t)-1) / 4 - e->len) luaL_error(e->L, "json.encode: output too large");
    nb = (char *)lua_newuserdata(e->L, cap);
    memcpy(nb, e->b, e->len);
    lua_replace(e->L, e->bufidx);
    e->b = nb, e->cap = cap;
}

#define ENC_RESERVE(e, n) \
    do { if ((e)->cap - (e)->len < (size_t)(n)) enc_grow((e), (n)); } while (0)

static void enc_add(encoder *e, const char *s, size_t n) {
    ENC_RESERVE(e, n);
    memcpy(e->b + e->len, s, n);
    e->len += n;
}

/* Raises "json.encode: <what> at $.a[3].b" (frames 1..depth). */
static void enc_error(encoder *e, const char *what) {
    char path[200];
    size_t n = 1;
    int i;
    path[0] = '$';
    for (i = 1; i <= e->depth && i < ENC_FRAMES && n < sizeof path - 48; i++) {
        enc_frame *f = &e->frames[i];
        if (f->keyidx == 0) {
            n += (size_t)snprintf(path + n, sizeof path - n, "[%lld]", (long long)f->index);
        } else {
            size_t kl, j;
            const char *k = lua_tolstring(e->L, f->keyidx, &kl);
            int plain = kl > 0 && kl <= 32 && !(k[0] >= '0' && k[0] <= '9');
            for (j = 0; j < kl && plain; j++)
                plain = k[j] == '_' || (k[j] >= '0' && k[j] <= '9') ||
                        ((k[j] | 0x20) >= 'a' && (k[j] | 0x20) <= 'z');
            if (plain) {
                n += (size_t)snprintf(path + n, sizeof path - n, ".%s", k);
            } else {
                path[n++] = '[';
                path[n++] = '"';
                for (j = 0; j < kl && j < 32; j++)
                    path[n++] = k[j] >= 0x20 && k[j] < 0x7F && k[j] != '"' ? k[j] : '?';
                n += (size_t)snprintf(path + n, sizeof path - n, "%s\"]", j < kl ? "..." : "");
            }
        }
    }
    if (i <= e->depth) snprintf(path + n, sizeof path - n, "...");
    else path[n] = '\0';
    luaL_error(e->L, "json.encode: %s at %s", what, path);
}

static void enc_string(encoder *e, const unsigned char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = s, *end = s + n, *run;
    char *o;
    ENC_RESERVE(e, n + 2);
    e->b[e->len++] = '"';
    for (;;) {
        run = p;
        while (esc_class[*p] == 0) p++;
        memcpy(e->b + e->len, run, (size_t)(p - run));
        e->len += (size_t)(p - run);
        if (p >= end) break;      /* the NUL terminator (or an embedded NUL) */
        if (*p >= 0x80) {
            int k = utf8_len(p);
            if (k == 0 || p + k > end) enc_error(e, "invalid UTF-8 in string");
            memcpy(e->b + e->len, p, (size_t)k);
            e->len += (size_t)k;
            p += k;
            continue;
        }
        ENC_RESERVE(e, (size_t)(end - p) + 7);
        o = e->b + e->len;
        *o++ = '\\';
        if (esc_short[*p]) {
            *o++ = esc_short[*p];
        } else {
            *o++ = 'u', *o++ = '0', *o++ = '0';
            *o++ = hex[*p >> 4], *o++ = hex[*p & 15];
        }
        e->len = (size_t)(o - e->b);
        p++;
    }
    e->b[e->len++] = '"';
}

/* Appends [-]u with k decimals ("12.34" for u = 1234, k = 2; k < 0: none). */
static void enc_digits(encoder *e, int neg, unsigned long long u, int k) {
    char tmp[48], *q = tmp + sizeof tmp;
    int nd = 0;
    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
        if (++nd == k) *--q = '.';
    } while (u || nd < k);
    if (nd == k) *--q = '0';
    if (neg) *--q = '-';
    enc_add(e, q, (size_t)(tmp + sizeof tmp - q));
}

static void enc_integer(encoder *e, long long v) {
    enc_digits(e, v < 0, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v, -1);
}

/* Shortest exact form first: m / 10^k with m < 2^53 and k <= 15 parses back
 * to d exactly (both are exact doubles and one division rounds correctly),
 * so "m with k decimals" round-trips. Otherwise %.14g if it reads back equal,
 * else %.17g. On 5.3+ a float always shows a '.' or an exponent. */
static void enc_double(encoder *e, double d) {
    char buf[48];
    int k, n;
    if (d != d) enc_error(e, "cannot encode NaN");
    if (isinf(d)) enc_error(e, "cannot encode infinity");
#if !OCTOPUS_HAS_INTEGERS
    if (d == floor(d) && fabs(d) < 1e15) { enc_integer(e, (long long)d); return; }
#endif
    if (fabs(d) < 1e15) {
        for (k = 0; k <= 15; k++) {
            double t = fabs(d) * pow10_tab[k], m;
            if (t >= EXACT_INT) break;
            m = floor(t + 0.5);
            if (m / pow10_tab[k] == fabs(d)) {   /* k = 0: "m.0" */
                enc_digits(e, signbit(d) != 0, (unsigned long long)(k ? m : m * 10), k ? k : 1);
                return;
            }
        }
    }
    n = snprintf(buf, sizeof buf, "%.14g", d);
    if (strtod(buf, NULL) != d) n = snprintf(buf, sizeof buf, "%.17g", d);
    for (k = 0; k < n; k++)   /* a locale's decimal comma back to '.' */
        if (!((buf[k] >= '0' && buf[k] <= '9') || buf[k] == '-' || buf[k] == '+' ||
              buf[k] == 'e')) buf[k] = '.';
#if OCTOPUS_HAS_INTEGERS
    if (strpbrk(buf, ".e") == NULL) { buf[n++] = '.'; buf[n++] = '0'; }
#endif
    enc_add(e, buf, (size_t)n);
}

static void enc_value(encoder *e, int idx);

static void enc_bad_key(encoder *e, int t) {
    enc_error(e, t == LUA_TNUMBER || t == LUA_TSTRING ? "mixed table (string and integer keys)"
                                                      : "table key is neither a string nor an integer");
}

/* Checks that the table at idx is a sequence 1..n; returns n. */
static lua_Integer enc_seq_len(encoder *e, int idx) {
    lua_State *L = e->L;
    lua_Integer n = 0, max = 0, k;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        k = 0;
        if (lua_type(L, -1) == LUA_TNUMBER) {
#if OCTOPUS_HAS_INTEGERS
            if (lua_isinteger(L, -1)) k = lua_tointeger(L, -1);
#else
            lua_Number x = lua_tonumber(L, -1);
            if (x == floor(x) && x >= 1 && x < EXACT_INT) k = (lua_Integer)x;
#endif
            if (k < 1) enc_error(e, "array key is not a positive integer");
        } else {
            enc_bad_key(e, lua_type(L, -1));
        }
        n++;
        if (k > max) max = k;
    }
    if (max != n) enc_error(e, "sparse array (holes between integer keys)");
    return n;
}

/* Enters a container: its frame (the last one is shared beyond ENC_FRAMES). */
static enc_frame *enc_push_frame(encoder *e) {
    enc_frame *f = &e->frames[++e->depth < ENC_FRAMES ? e->depth : ENC_FRAMES];
    f->keyidx = 0;
    f->index = 0;
    return f;
}

static void enc_array(encoder *e, int idx, lua_Integer n) {
    lua_Integer i;
    enc_frame *f = enc_push_frame(e);
    enc_add(e, "[", 1);
    for (i = 1; i <= n; i++) {
        if (i > 1) enc_add(e, ",", 1);
        f->index = i - 1;
        lua_rawgeti(e->L, idx, (int)i);
        enc_value(e, lua_gettop(e->L));
        lua_pop(e->L, 1);
    }
    e->depth--;
    enc_add(e, "]", 1);
}

static void enc_key_check(encoder *e, int kidx) {
    if (lua_type(e->L, kidx) == LUA_TSTRING) return;
    e->depth--;   /* the error is the table's, not the key's */
    enc_bad_key(e, lua_type(e->L, kidx));
}

static void enc_member(encoder *e, enc_frame *f, int kidx, int first) {
    size_t kl;
    const char *k = lua_tolstring(e->L, kidx, &kl);
    if (!first) enc_add(e, ",", 1);
    f->keyidx = kidx;
    enc_string(e, (const unsigned char *)k, kl);
    enc_add(e, ":", 1);
    enc_value(e, lua_gettop(e->L));
}

typedef struct { const char *s; size_t n; } enc_key;

static int enc_key_cmp(const void *a, const void *b) {
    const enc_key *x = (const enc_key *)a, *y = (const enc_key *)b;
    int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
    return c != 0 ? c : (x->n > y->n) - (x->n < y->n);
}

static void enc_object(encoder *e, int idx) {
    lua_State *L = e->L;
    int first = 1;
    enc_frame *f = enc_push_frame(e);
    enc_add(e, "{", 1);
    lua_pushnil(L);
    if (!e->sort_keys) {
        while (lua_next(L, idx)) {
            enc_key_check(e, -2);
            enc_member(e, f, lua_gettop(L) - 1, first);
            first = 0;
            lua_pop(L, 1);
        }
    } else {   /* keys sorted by bytes (the table anchors the strings) */
        int n = 0, i;
        enc_key *ks;
        while (lua_next(L, idx)) { enc_key_check(e, -2); lua_pop(L, 1); n++; }
        ks = (enc_key *)lua_newuserdata(L, sizeof(enc_key) * (size_t)(n ? n : 1));
        lua_pushnil(L);
        for (i = 0; lua_next(L, idx); i++, lua_pop(L, 1))
            ks[i].s = lua_tolstring(L, -2, &ks[i].n);
        qsort(ks, (size_t)n, sizeof *ks, enc_key_cmp);
        for (i = 0; i < n; i++) {
            lua_pushlstring(L, ks[i].s, ks[i].n);
            lua_pushvalue(L, -1);
            lua_rawget(L, idx);
            enc_member(e, f, lua_gettop(L) - 1, i == 0);
            lua_pop(L, 2);
        }
        lua_pop(L, 1);
    }
    e->depth--;
    enc_add(e, "}", 1);
}

/* Tables: marked ones as marked (arrays checked to be sequences); unmarked
 * ones by their keys: none -> {}, strings -> object, 1..n -> array. */
static void enc_table(encoder *e, int idx) {
    lua_State *L = e->L;
    int kind = 0;   /* 1 array, 2 object */
    if (!lua_checkstack(L, 12)) enc_error(e, "nesting too deep for the Lua stack");
    if (e->depth >= e->max_depth)
        enc_error(e, lua_pushfstring(L, "nesting deeper than %d (a cycle?)", e->max_depth));
    if (lua_getmetatable(L, idx)) {
        if (lua_rawequal(L, -1, e->amt)) kind = 1;
        else if (lua_rawequal(L, -1, e->omt)) kind = 2;
        lua_pop(L, 1);
    }
    if (kind == 0) {
        int t;
        lua_pushnil(L);
        if (!lua_next(L, idx)) { enc_add(e, "{}", 2); return; }
        t = lua_type(L, -2);
        lua_pop(L, 2);
        if (t != LUA_TSTRING && t != LUA_TNUMBER) enc_bad_key(e, t);
        kind = t == LUA_TSTRING ? 2 : 1;
    }
    if (kind == 1) enc_array(e, idx, enc_seq_len(e, idx));
    else enc_object(e, idx);
}

static void enc_value(encoder *e, int idx) {
    lua_State *L = e->L;
    size_t n;
    const char *s;
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        s = lua_tolstring(L, idx, &n);
        enc_string(e, (const unsigned char *)s, n);
        return;
    case LUA_TNUMBER:
#if OCTOPUS_HAS_INTEGERS
        if (lua_isinteger(L, idx)) { enc_integer(e, (long long)lua_tointeger(L, idx)); return; }
#endif
        enc_double(e, (double)lua_tonumber(L, idx));
        return;
    case LUA_TBOOLEAN:
        if (lua_toboolean(L, idx)) enc_add(e, "true", 4);
        else enc_add(e, "false", 5);
        return;
    case LUA_TTABLE: enc_table(e, idx); return;
    case LUA_TNIL: enc_add(e, "null", 4); return;
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == NULL) { enc_add(e, "null", 4); return; }
        enc_error(e, "cannot encode a light userdata other than json.null");
    }
    enc_error(e, lua_pushfstring(L, "cannot encode a %s", luaL_typename(L, idx)));
}

/* json.encode(v [, { sort_keys = false, max_depth = 1000 }]) -> string */
static int json_encode(lua_State *L) {
    encoder e;
    e.max_depth = JSON_DEFAULT_DEPTH;
    e.sort_keys = 0;
    luaL_checkany(L, 1);
    read_opts(L, 2, &e.max_depth, &e.sort_keys);
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_pushnil(L);   /* 5: the output buffer once it outgrows e.local */
    e.L = L;
    e.amt = 3, e.omt = 4, e.bufidx = 5;
    e.b = e.local, e.len = 0, e.cap = sizeof e.local;
    e.depth = 0;
    enc_value(&e, 1);
    lua_pushlstring(L, e.b, e.len);
    return 1;
}

/* json.array([t]) / json.object([t]): set the marker, return t. */
static int json_mark(lua_State *L, int up) {
    if (lua_isnoneornil(L, 1)) { lua_settop(L, 0); lua_newtable(L); }  /* array() */
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(up));
    lua_setmetatable(L, 1);
    return 1;
}
static int json_array(lua_State *L) { return json_mark(L, 1); }
static int json_object(lua_State *L) { return json_mark(L, 2); }

void octopus_open_json(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"decode", json_decode}, {"encode", json_encode},
        {"array", json_array}, {"object", json_object}, {NULL, NULL}};
    init_tables();
    lua_newtable(L);
    luaL_newmetatable(L, OCTOPUS_ARRAY_MT);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "array_mt");
    luaL_newmetatable(L, OCTOPUS_OBJECT_MT);
    lua_pushvalue(L, -1);
    lua_setfield(L, -4, "object_mt");
    octopus_setfuncs(L, fns, 2);   /* both metatables are upvalues */
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");
    lua_setfield(L, -2, "json");
}
