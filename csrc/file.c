/*
 * file.c -- files that hold secrets (token state), readable by their owner only.
 *
 *   core.write_private(path, data) -> true | nil, err   (code FILE, kind io)
 *     Creates missing parent directories with mode 0700, writes data to a new
 *     file created with mode 0600 beside path (mkstemp), fsyncs it and renames it over
 *     path: the secret is never, even briefly, in a file others can read, and a
 *     crash leaves the old file or the new one, never half of one.
 *   core.file_mode(path) -> permission bits (e.g. 384 = 0600) | nil, err
 *     (lstat: a symbolic link is an error, so nobody is led to read a secret
 *     through a link someone else planted)
 *
 * Errors name the path and strerror(errno), never the data.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "octopus.h"

static int file_error(lua_State *L, const char *what, const char *path) {
    return octopus_push_error(L, "FILE", "io", "%s %s: %s", what, path, strerror(errno));
}

/* mkdir -p of path's parent directories, each new one 0700; path is modified
 * in place and restored. Returns 0, or -1 with errno set. */
static int make_parents(char *path) {
    char *p;
    for (p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            *p = '/';
            return -1;
        }
        *p = '/';
    }
    return 0;
}

static int write_all(int fd, const char *data, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        data += w;
        n -= (size_t)w;
    }
    return 0;
}

static int l_write_private(lua_State *L) {
    size_t plen, n;
    const char *path = luaL_checklstring(L, 1, &plen);
    const char *data = luaL_checklstring(L, 2, &n);
    char *tmp;
    int fd, saved;
    luaL_argcheck(L, plen > 0 && strlen(path) == plen, 1, "path must be a non-empty string without NUL");
    tmp = lua_newuserdata(L, plen + 8);  /* path + ".XXXXXX" + NUL */
    memcpy(tmp, path, plen + 1);
    if (make_parents(tmp) != 0) return file_error(L, "cannot create the directories of", path);
    memcpy(tmp + plen, ".XXXXXX", 8);
    /* mkstemp: a new, unique file (O_EXCL) with mode 0600, so two writers in one
     * process (threads with their own Lua states) never share a temporary file */
    fd = mkstemp(tmp);
    if (fd < 0) return file_error(L, "cannot create a temporary file beside", path);
    if (fchmod(fd, 0600) != 0 || write_all(fd, data, n) != 0 || fsync(fd) != 0) {
        saved = errno;
        close(fd);
        unlink(tmp);
        errno = saved;
        return file_error(L, "cannot write", tmp);
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        saved = errno;
        unlink(tmp);
        errno = saved;
        return file_error(L, "cannot replace", path);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int l_file_mode(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    struct stat st;
    if (lstat(path, &st) != 0) return file_error(L, "cannot stat", path);
    if (S_ISLNK(st.st_mode)) {
        errno = ELOOP;
        return file_error(L, "refusing the symbolic link", path);
    }
    lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
    return 1;
}

static const luaL_Reg file_funcs[] = {
    {"write_private", l_write_private},
    {"file_mode", l_file_mode},
    {NULL, NULL}};

void octopus_open_file(lua_State *L) { octopus_setfuncs(L, file_funcs, 0); }
