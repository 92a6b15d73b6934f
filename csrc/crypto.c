/*
 * crypto.c -- SHA-256 and the operating system's randomness.
 *
 *   core.sha256(s) -> 64 lower-case hex digits (FIPS 180-4)
 *   core.fingerprint(s) -> 16 hex digits: the first 64 bits of sha256(s); tells
 *       credentials apart in a token file without revealing them
 *   core.random_bytes(n) -> n bytes from getrandom(2) (/dev/urandom where it is
 *       missing) | nil, err (code RANDOM, kind io); n an integer in 0..65536
 *
 * Why SHA-256 by hand: the C core links libcurl only (the rock declares no
 * other library), and libcurl does not export its hash. The ~80 lines below
 * follow FIPS 180-4 section 6.2 and are checked against the NIST vectors
 * (spec/crypto_spec.lua) and OpenSSL's output for many lengths.
 *
 * Invariants: scratch memory is a Lua userdata; no error message ever
 * contains the input (it is a secret).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/random.h>
#define HAVE_GETRANDOM 1
#endif

#include "octopus.h"

/* ---- SHA-256 --------------------------------------------------------- */

typedef struct {
    uint32_t h[8];
    uint64_t bytes;        /* message length so far */
    unsigned char block[64];
    size_t fill;           /* bytes in block */
} sha256_ctx;

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(sha256_ctx *c, const unsigned char *p) {
    uint32_t w[64], a, b, cc, d, e, f, g, h, t1, t2;
    int i;
    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
    e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
    for (i = 0; i < 64; i++) {
        t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
        h = g, g = f, f = e, e = d + t1;
        d = cc, cc = b, b = a, a = t1 + t2;
    }
    c->h[0] += a, c->h[1] += b, c->h[2] += cc, c->h[3] += d;
    c->h[4] += e, c->h[5] += f, c->h[6] += g, c->h[7] += h;
}

static void sha256_init(sha256_ctx *c) {
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, h0, sizeof h0);
    c->bytes = 0;
    c->fill = 0;
}

static void sha256_update(sha256_ctx *c, const unsigned char *p, size_t n) {
    c->bytes += n;
    if (c->fill > 0) {
        size_t k = 64 - c->fill < n ? 64 - c->fill : n;
        memcpy(c->block + c->fill, p, k);
        c->fill += k, p += k, n -= k;
        if (c->fill < 64) return;
        sha256_block(c, c->block);
        c->fill = 0;
    }
    for (; n >= 64; p += 64, n -= 64) sha256_block(c, p);
    memcpy(c->block, p, n);
    c->fill = n;
}

/* Padding: 0x80, zeros, the bit length big-endian in the last 8 bytes. */
static void sha256_final(sha256_ctx *c, unsigned char out[32]) {
    uint64_t bits = c->bytes * 8;
    int i;
    c->block[c->fill++] = 0x80;
    if (c->fill > 56) {
        memset(c->block + c->fill, 0, 64 - c->fill);
        sha256_block(c, c->block);
        c->fill = 0;
    }
    memset(c->block + c->fill, 0, 56 - c->fill);
    for (i = 0; i < 8; i++) c->block[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
    sha256_block(c, c->block);
    for (i = 0; i < 32; i++) out[i] = (unsigned char)(c->h[i / 4] >> (24 - 8 * (i % 4)));
}

/* Pushes the first nbytes of sha256(arg 1) as lower-case hex. */
static int push_digest_hex(lua_State *L, int nbytes) {
    static const char hex[] = "0123456789abcdef";
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    sha256_ctx c;
    unsigned char d[32];
    char out[64];
    int i;
    sha256_init(&c);
    sha256_update(&c, (const unsigned char *)s, n);
    sha256_final(&c, d);
    for (i = 0; i < nbytes; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    lua_pushlstring(L, out, (size_t)nbytes * 2);
    return 1;
}

static int l_sha256(lua_State *L) { return push_digest_hex(L, 32); }

/* Only ever stored beside the token state it identifies (a 0600 file that
 * already holds a refresh token); 64 bits tell credentials apart. */
static int l_fingerprint(lua_State *L) { return push_digest_hex(L, 8); }

/* ---- randomness ------------------------------------------------------ */

#define RANDOM_MAX 65536

/* Fills buf[0..n) from the kernel; 0, or -1 with errno set. */
static int fill_random(unsigned char *buf, size_t n) {
    size_t got = 0;
    int fd;
#ifdef HAVE_GETRANDOM
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOSYS) break;  /* old kernel: fall back */
            return -1;
        }
        got += (size_t)r;
    }
    if (got == n) return 0;
#endif
    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int saved = r == 0 ? EIO : errno;
            close(fd);
            errno = saved;
            return -1;
        }
        got += (size_t)r;
    }
    close(fd);
    return 0;
}

static int l_random_bytes(lua_State *L) {
    lua_Number x = luaL_checknumber(L, 1);
    size_t n;
    unsigned char *buf;
    if (!(x >= 0 && x <= RANDOM_MAX) || x != (lua_Number)(long)x)
        return luaL_argerror(L, 1, "n must be an integer in 0..65536");
    n = (size_t)x;
    buf = lua_newuserdata(L, n ? n : 1);
    if (fill_random(buf, n) != 0)
        return octopus_push_error(L, "RANDOM", "io", "cannot read random bytes: %s", strerror(errno));
    lua_pushlstring(L, (const char *)buf, n);
    return 1;
}

static const luaL_Reg crypto_funcs[] = {
    {"sha256", l_sha256},
    {"fingerprint", l_fingerprint},
    {"random_bytes", l_random_bytes},
    {NULL, NULL}};

void octopus_open_crypto(lua_State *L) { octopus_setfuncs(L, crypto_funcs, 0); }
