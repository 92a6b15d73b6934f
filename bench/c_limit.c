/*
 * bench/c_limit.c -- the practical limit for sequential GETs: one reused
 * libcurl easy handle in plain C, no Lua.
 *
 *   c_limit URL N [CA_FILE]
 *
 * Does one untimed warm-up request (connection + TLS handshake), then N timed
 * sequential GETs on the same handle, and prints one line:
 *   "elapsed=<seconds> cpu=<seconds of this process's user+sys> requests=<N> bytes=<total body bytes>"
 * Exits non-zero (message on stderr) if any request fails or is not a 200.
 * Options mirror what octopus.core sets on its handle (TLS verification on,
 * Accept-Encoding offered, no Expect), so the comparison is like for like.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct sink { size_t bytes; };

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud) {
    struct sink *s = ud;
    (void)ptr;
    s->bytes += size * nmemb;
    return size * nmemb;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* this process's CPU time (user + sys), for CPU per request next to the rate */
static double cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int get(CURL *easy) {
    long status = 0;
    CURLcode rc = curl_easy_perform(easy);
    if (rc != CURLE_OK) {
        fprintf(stderr, "c_limit: %s\n", curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        fprintf(stderr, "c_limit: HTTP %ld\n", status);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    struct sink s = { 0 };
    struct curl_slist *headers = NULL;
    CURL *easy;
    long i, n;
    double t0, t1, c0, c1;

    if (argc < 3) {
        fprintf(stderr, "usage: c_limit URL N [CA_FILE]\n");
        return 2;
    }
    n = strtol(argv[2], NULL, 10);
    if (n < 1 || n > 10000000) {
        fprintf(stderr, "c_limit: N must be 1..10000000\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    easy = curl_easy_init();
    if (!easy) return 1;
    headers = curl_slist_append(headers, "Expect:");
    headers = curl_slist_append(headers, "Accept: application/json");
    curl_easy_setopt(easy, CURLOPT_URL, argv[1]);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    if (argc > 3) curl_easy_setopt(easy, CURLOPT_CAINFO, argv[3]);

    if (get(easy) != 0) return 1;           /* warm-up: connect (+ handshake) */
    s.bytes = 0;
    t0 = now();
    c0 = cpu();
    for (i = 0; i < n; i++)
        if (get(easy) != 0) return 1;
    c1 = cpu();
    t1 = now();
    printf("elapsed=%.6f cpu=%.6f requests=%ld bytes=%zu\n", t1 - t0, c1 - c0, n, s.bytes);

    curl_slist_free_all(headers);
    curl_easy_cleanup(easy);
    curl_global_cleanup();
    return 0;
}
