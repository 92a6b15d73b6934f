/*
 * sqlite.c -- octopus.sqlite: a small SQLite binding (prepared statements,
 * bound parameters, transactions through SQL, a busy timeout, WAL through
 * PRAGMA). Its own shared object, so users of the HTTP client alone never
 * need libsqlite3; error.c is compiled in beside it for octopus_push_error.
 *
 *   sqlite.open(path [, { mode = "rwc"|"rw"|"ro", busy_timeout = ms (5000),
 *                         private = false }]) -> Db | nil, err
 *     private = true: missing parent directories are created 0700, a new file
 *     0600, and an existing file (and its -wal/-shm) that others could read
 *     has its group/other bits removed; symbolic links are refused.
 *   db:exec(sql) -> true | nil, err           (one or more statements, no rows)
 *   db:prepare(sql) -> Stmt | nil, err         (exactly one statement)
 *   db:rows(sql [, binds...]) -> iterator of rows over a fresh statement, finalized
 *     at the end or an error (raises the error object); also returns the statement
 *     as a 5.4 for-loop's to-be-closed value, so a break closes it
 *   db:changes(), db:last_insert_rowid(), db:readonly() -> bool,
 *   db:in_transaction() -> bool, db:busy_timeout(ms), db:close()
 *   stmt:bind(v1, v2, ...) | stmt:bind{ name = v, ... } -> true | nil, err
 *   stmt:step() -> row | nil (done) | nil, err ; stmt:reset() ; stmt:close()
 *   stmt:rows([binds...]) -> iterator of rows (raises the error object)
 *   stmt:run([binds...]) -> rows changed | nil, err  (steps to the end, resets)
 *   stmt:columns() -> { names }
 *   sqlite.blob(s) -> a value that binds as a BLOB (plain strings bind as TEXT)
 *
 * Values: INTEGER -> integer on 5.3+, a double on 5.1/5.2/LuaJIT (exact within
 * 2^53); REAL -> number; TEXT and BLOB -> string; NULL -> the key is absent
 * from the row (nil). Binding: nil or octopus.core's null -> NULL, booleans ->
 * 0/1, integral numbers within 2^53 -> INTEGER (on 5.1/LuaJIT too).
 *
 * Errors: nil, err with err.kind "storage", err.sqlite_code (extended code)
 * and err.code BUSY (SQLITE_BUSY/LOCKED), READONLY, DISK_FULL, CONSTRAINT,
 * CANTOPEN, CORRUPT (CORRUPT/NOTADB), IO (IOERR), SQLITE (anything else).
 * Usage errors (wrong types, unknown parameter names, a closed handle) raise.
 *
 * Invariants (liolib.c style): each box is created closed before anything is
 * acquired. A Db tracks its live statements and finalizes them before it
 * closes; a Stmt's uservalue holds its Db, so the Db outlives it. No callback
 * into Lua is ever registered with SQLite (the busy timeout is SQLite's own).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../octopus.h"

#define DB_MT   "octopus.sqlite.Db"
#define STMT_MT "octopus.sqlite.Stmt"
#define BLOB_MT "octopus.sqlite.Blob"

OCTOPUS_API int luaopen_octopus_sqlite(lua_State *L);

typedef struct Stmt Stmt;

typedef struct {
    sqlite3 *db;   /* NULL when closed */
    Stmt *stmts;   /* live statements (doubly linked) */
} Db;

struct Stmt {
    sqlite3_stmt *st;  /* NULL when closed */
    Db *db;            /* owner; valid while st != NULL */
    Stmt *prev, *next;
    int ncols;
};

/* ------------------------------------------------------------------------
 * errors */

static const char *code_name(int rc) {
    switch (rc & 0xff) {
    case SQLITE_BUSY: case SQLITE_LOCKED: return "BUSY";
    case SQLITE_READONLY: return "READONLY";
    case SQLITE_FULL: return "DISK_FULL";
    case SQLITE_CONSTRAINT: return "CONSTRAINT";
    case SQLITE_CANTOPEN: return "CANTOPEN";
    case SQLITE_CORRUPT: case SQLITE_NOTADB: return "CORRUPT";
    case SQLITE_IOERR: return "IO";
    default: return "SQLITE";
    }
}

/* Pushes nil, err for rc (db may be NULL: then only sqlite3_errstr is known). */
static int push_db_error(lua_State *L, sqlite3 *db, int rc, const char *what) {
    const char *msg = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    octopus_push_error(L, code_name(rc), "storage", "%s: %s", what, msg);
    lua_pushinteger(L, rc);
    lua_setfield(L, -2, "sqlite_code");
    return 2;
}

static int push_errno_error(lua_State *L, const char *what, const char *path) {
    return octopus_push_error(L, "CANTOPEN", "storage", "%s %s: %s", what, path, strerror(errno));
}

/* ------------------------------------------------------------------------
 * private files: the same rules as core.write_private (file.c) */

/* mkdir -p of path's parents, each new one 0700; path restored. 0 or -1/errno. */
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

/* Removes group/other bits from an existing file; 0 when absent or done. */
static int make_private(const char *path, int *is_link) {
    struct stat st;
    *is_link = 0;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (S_ISLNK(st.st_mode)) {
        *is_link = 1;
        errno = ELOOP;
        return -1;
    }
    if ((st.st_mode & 077) == 0) return 0;
    return chmod(path, st.st_mode & 0700);
}

/* Before sqlite3_open_v2 in private mode. Returns 0, or pushes nil, err and 2. */
static int prepare_private(lua_State *L, const char *path, size_t plen, int create) {
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    char *buf = lua_newuserdata(L, plen + 16);  /* scratch, owned by Lua */
    size_t i;
    int is_link;
    memcpy(buf, path, plen + 1);
    if (create && make_parents(buf) != 0)
        return push_errno_error(L, "cannot create the directories of", path);
    for (i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        memcpy(buf + plen, sfx[i], strlen(sfx[i]) + 1);
        if (make_private(buf, &is_link) != 0)
            return push_errno_error(L, is_link ? "refusing the symbolic link" :
                                    "cannot make private", buf);
    }
    if (create) {
        int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) close(fd);
        else if (errno != EEXIST) return push_errno_error(L, "cannot create", path);
    }
    lua_pop(L, 1);
    return 0;
}

/* ------------------------------------------------------------------------
 * Db */

static Db *check_db(lua_State *L) {
    Db *d = luaL_checkudata(L, 1, DB_MT);
    if (d->db == NULL) luaL_error(L, "attempt to use a closed " DB_MT);
    return d;
}

static void stmt_finalize(Stmt *s) {
    if (s->st == NULL) return;
    sqlite3_finalize(s->st);
    s->st = NULL;
    if (s->prev) s->prev->next = s->next;
    else s->db->stmts = s->next;
    if (s->next) s->next->prev = s->prev;
    s->prev = s->next = NULL;
    s->db = NULL;
}

/* Finalizes every statement first, so the close never leaves a zombie. */
static int db_close(lua_State *L) {
    Db *d = luaL_checkudata(L, 1, DB_MT);
    if (d->db != NULL) {
        while (d->stmts) stmt_finalize(d->stmts);
        sqlite3_close_v2(d->db);
        d->db = NULL;
    }
    return 0;
}

static int opt_int_field(lua_State *L, int idx, const char *k, int def) {
    int v = def;
    lua_getfield(L, idx, k);
    if (!lua_isnil(L, -1)) {
        lua_Number n;
        if (lua_type(L, -1) != LUA_TNUMBER) luaL_error(L, "sqlite.open: option '%s' must be a number", k);
        n = lua_tonumber(L, -1);
        if (n < 0 || n > 2147483647.0 || n != floor(n))
            luaL_error(L, "sqlite.open: option '%s' must be a whole number >= 0", k);
        v = (int)n;
    }
    lua_pop(L, 1);
    return v;
}

/* sqlite.open(path [, opts]): stack 1 = path, 2 = opts, 3 = the Db box. */
static int db_open(lua_State *L) {
    size_t plen;
    const char *path = luaL_checklstring(L, 1, &plen);
    const char *mode = "rwc";
    int flags, timeout = 5000, priv = 0, rc;
    Db *d;
    luaL_argcheck(L, plen > 0 && strlen(path) == plen, 1, "path must be a non-empty string without NUL");
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, 2)) {
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
            if (strcmp(k, "mode") && strcmp(k, "busy_timeout") && strcmp(k, "private"))
                return luaL_error(L, "sqlite.open: unknown option '%s'", k);
            lua_pop(L, 1);
        }
        lua_getfield(L, 2, "mode");
        if (!lua_isnil(L, -1)) {
            if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "sqlite.open: option 'mode' must be a string");
            mode = lua_tostring(L, -1);
        }
        lua_pop(L, 1);
        timeout = opt_int_field(L, 2, "busy_timeout", timeout);
        lua_getfield(L, 2, "private");
        priv = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    if (strcmp(mode, "rwc") == 0) flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    else if (strcmp(mode, "rw") == 0) flags = SQLITE_OPEN_READWRITE;
    else if (strcmp(mode, "ro") == 0) flags = SQLITE_OPEN_READONLY;
    else return luaL_error(L, "sqlite.open: option 'mode' must be \"rwc\", \"rw\" or \"ro\" (got \"%s\")", mode);
    lua_settop(L, 2);
    d = lua_newuserdata(L, sizeof *d);
    d->db = NULL;
    d->stmts = NULL;
    octopus_setmetatable(L, DB_MT);
    if (priv && strcmp(path, ":memory:") != 0) {  /* no file to make private */
        if (prepare_private(L, path, plen, (flags & SQLITE_OPEN_CREATE) != 0) != 0) return 2;
        flags |= SQLITE_OPEN_NOFOLLOW;
    }
    /* NOMUTEX: a Db belongs to one lua_State, which is single-threaded anyway; the
     * per-call mutex of the serialized mode cost 12% of a row read */
    rc = sqlite3_open_v2(path, &d->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        const char *what = lua_pushfstring(L, "cannot open %s", path);
        if (d->db == NULL) return push_db_error(L, NULL, rc, what);
        push_db_error(L, d->db, rc, what);
        sqlite3_close_v2(d->db);
        d->db = NULL;
        return 2;
    }
    sqlite3_extended_result_codes(d->db, 1);
    sqlite3_busy_timeout(d->db, timeout);
    return 1;
}

static int db_exec(lua_State *L) {
    Db *d = check_db(L);
    const char *sql = luaL_checkstring(L, 2);
    int rc = sqlite3_exec(d->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) return push_db_error(L, d->db, rc, "exec");
    lua_pushboolean(L, 1);
    return 1;
}

static int db_changes(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)sqlite3_changes(check_db(L)->db));
    return 1;
}

static int db_last_insert_rowid(lua_State *L) {
    sqlite3_int64 id = sqlite3_last_insert_rowid(check_db(L)->db);
#if OCTOPUS_HAS_INTEGERS
    lua_pushinteger(L, (lua_Integer)id);
#else
    lua_pushnumber(L, (lua_Number)id);
#endif
    return 1;
}

static int db_readonly(lua_State *L) {
    lua_pushboolean(L, sqlite3_db_readonly(check_db(L)->db, "main") == 1);
    return 1;
}

static int db_in_transaction(lua_State *L) {
    lua_pushboolean(L, sqlite3_get_autocommit(check_db(L)->db) == 0);
    return 1;
}

static int db_busy_timeout(lua_State *L) {
    Db *d = check_db(L);
    lua_Integer ms = luaL_checkinteger(L, 2);
    luaL_argcheck(L, ms >= 0 && ms <= 2147483647, 2, "milliseconds from 0 to 2^31-1");
    sqlite3_busy_timeout(d->db, (int)ms);
    return 0;
}

static int db_tostring(lua_State *L) {
    Db *d = luaL_checkudata(L, 1, DB_MT);
    if (d->db == NULL) lua_pushliteral(L, DB_MT " (closed)");
    else lua_pushfstring(L, DB_MT " (%p)", (void *)d);
    return 1;
}

/* Pushes a Stmt box for the SQL at sqlidx (uservalue { db, column names... }; the
 * box exists before the statement, liolib style) and returns 1, or pushes nil, err
 * and returns 2. The Db is at stack index 1. */
static int new_stmt(lua_State *L, Db *d, int sqlidx) {
    size_t len;
    const char *sql = luaL_checklstring(L, sqlidx, &len);
    const char *tail = NULL;
    Stmt *s;
    int rc, i, box;
    s = lua_newuserdata(L, sizeof *s);
    box = lua_gettop(L);
    s->st = NULL;
    s->db = NULL;
    s->prev = s->next = NULL;
    s->ncols = 0;
    octopus_setmetatable(L, STMT_MT);
    lua_createtable(L, 8, 0);
    lua_pushvalue(L, 1);
    lua_rawseti(L, -2, 1);
    octopus_setuservalue(L, box);
    rc = sqlite3_prepare_v2(d->db, sql, (int)len, &s->st, &tail);
    if (rc != SQLITE_OK) {
        s->st = NULL;
        return push_db_error(L, d->db, rc, "prepare");
    }
    if (s->st == NULL) return luaL_argerror(L, sqlidx, "no SQL statement");
    while (tail && *tail && strchr(" \t\r\n;", *tail)) tail++;
    if (tail && *tail) {
        sqlite3_finalize(s->st);
        s->st = NULL;
        return luaL_argerror(L, sqlidx, "exactly one SQL statement expected");
    }
    s->db = d;
    s->next = d->stmts;
    if (d->stmts) d->stmts->prev = s;
    d->stmts = s;
    s->ncols = sqlite3_column_count(s->st);
    octopus_getuservalue(L, box);
    for (i = 0; i < s->ncols; i++) {
        lua_pushstring(L, sqlite3_column_name(s->st, i));
        lua_rawseti(L, -2, i + 2);
    }
    lua_pop(L, 1);
    return 1;
}

static int db_prepare(lua_State *L) {
    Db *d = check_db(L);
    lua_settop(L, 2);
    return new_stmt(L, d, 2);
}

/* ------------------------------------------------------------------------
 * Stmt */

static Stmt *check_stmt(lua_State *L) {
    Stmt *s = luaL_checkudata(L, 1, STMT_MT);
    if (s->st == NULL) luaL_error(L, "attempt to use a closed " STMT_MT);
    return s;
}

static int stmt_close(lua_State *L) {
    stmt_finalize(luaL_checkudata(L, 1, STMT_MT));
    return 0;
}

static int stmt_tostring(lua_State *L) {
    Stmt *s = luaL_checkudata(L, 1, STMT_MT);
    if (s->st == NULL) lua_pushliteral(L, STMT_MT " (closed)");
    else lua_pushfstring(L, STMT_MT " (%p)", (void *)s);
    return 1;
}

/* Binds the value at idx to parameter n; raises on a type it cannot bind.
 * keep: SQLITE_TRANSIENT (SQLite copies strings), or SQLITE_STATIC when the caller
 * steps while the values are still on its stack and clears the bindings after. */
static int bind_one(lua_State *L, Stmt *s, int n, int idx, int argno, sqlite3_destructor_type keep) {
    sqlite3_stmt *st = s->st;
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return sqlite3_bind_null(st, n);
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == NULL) return sqlite3_bind_null(st, n);
        break;
    case LUA_TBOOLEAN:
        return sqlite3_bind_int(st, n, lua_toboolean(L, idx));
    case LUA_TNUMBER: {
#if OCTOPUS_HAS_INTEGERS
        if (lua_isinteger(L, idx)) return sqlite3_bind_int64(st, n, (sqlite3_int64)lua_tointeger(L, idx));
#endif
        lua_Number x = lua_tonumber(L, idx);
        if (x == floor(x) && fabs(x) <= 9007199254740992.0)
            return sqlite3_bind_int64(st, n, (sqlite3_int64)x);
        return sqlite3_bind_double(st, n, (double)x);
    }
    case LUA_TSTRING: {
        size_t len;
        const char *p = lua_tolstring(L, idx, &len);
        return sqlite3_bind_text64(st, n, p, (sqlite3_uint64)len, keep, SQLITE_UTF8);
    }
    case LUA_TTABLE:
        if (lua_getmetatable(L, idx)) {
            luaL_getmetatable(L, BLOB_MT);
            if (lua_rawequal(L, -1, -2)) {
                size_t len;
                const char *p;
                lua_pop(L, 2);
                lua_rawgeti(L, idx, 1);
                p = lua_tolstring(L, -1, &len);
                n = sqlite3_bind_blob64(st, n, p, (sqlite3_uint64)len, keep);
                lua_pop(L, 1);
                return n;
            }
            lua_pop(L, 2);
        }
        break;
    default:
        break;
    }
    /* clear first: with SQLITE_STATIC, earlier parameters point into values the
     * raise lets go of, and a later step must never read them */
    sqlite3_clear_bindings(st);
    return luaL_argerror(L, argno, lua_pushfstring(L, "cannot bind a %s", luaL_typename(L, idx)));
}

/* Resets the statement and binds args from..top: one plain table binds by name
 * (":name", "@name" or "$name") and by position; otherwise positional.
 * Returns SQLITE_OK or the failing code. */
static int bind_args(lua_State *L, Stmt *s, int from, sqlite3_destructor_type keep) {
    /* keep applies to positional values; named ones are always copied */
    int top = lua_gettop(L), nparams, rc = SQLITE_OK, i, by_name;
    sqlite3_reset(s->st);
    nparams = sqlite3_bind_parameter_count(s->st);
    by_name = top == from && lua_type(L, from) == LUA_TTABLE;
    if (by_name && lua_getmetatable(L, from)) {  /* a blob: one positional value */
        lua_pop(L, 1);
        by_name = 0;
    }
    /* unbound parameters are NULL; a value for every one replaces them all (the
     * clear cost ~1% of an insert, where stmt:run clears after stepping anyway) */
    if (by_name || top - from + 1 != nparams) sqlite3_clear_bindings(s->st);
    if (top < from) return SQLITE_OK;
    if (by_name) {
        lua_pushnil(L);
        while (rc == SQLITE_OK && lua_next(L, from)) {
            int n = 0;
            if (lua_type(L, -2) == LUA_TSTRING) {
                size_t klen;
                const char *k = lua_tolstring(L, -2, &klen);
                static const char prefixes[] = ":@$";
                for (i = 0; i < 3 && n == 0; i++) {
                    luaL_Buffer b;
                    luaL_buffinit(L, &b);
                    luaL_addchar(&b, prefixes[i]);
                    luaL_addlstring(&b, k, klen);
                    luaL_pushresult(&b);
                    n = sqlite3_bind_parameter_index(s->st, lua_tostring(L, -1));
                    lua_pop(L, 1);
                }
                if (n == 0) {
                    sqlite3_clear_bindings(s->st);
                    return luaL_error(L, "bind: the statement has no parameter named '%s'", k);
                }
            } else if (lua_type(L, -2) == LUA_TNUMBER) {
                lua_Number x = lua_tonumber(L, -2);
                if (x != floor(x) || x < 1 || x > nparams) {
                    sqlite3_clear_bindings(s->st);
                    return luaL_error(L, "bind: no parameter at position %f", (double)x);
                }
                n = (int)x;
            } else {
                sqlite3_clear_bindings(s->st);
                return luaL_error(L, "bind: parameter keys must be names or positions");
            }
            rc = bind_one(L, s, n, lua_gettop(L), from, SQLITE_TRANSIENT);  /* names allocate */
            lua_pop(L, 1);
        }
        return rc;
    }
    if (top - from + 1 > nparams)
        return luaL_error(L, "bind: %d values for %d parameters", top - from + 1, nparams);
    for (i = from; i <= top && rc == SQLITE_OK; i++) rc = bind_one(L, s, i - from + 1, i, i, keep);
    return rc;
}

static int stmt_bind(lua_State *L) {
    Stmt *s = check_stmt(L);
    int rc = bind_args(L, s, 2, SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) {
        push_db_error(L, s->db->db, rc, "bind");
        sqlite3_clear_bindings(s->st);  /* no half-bound statement: the rest were not NULLed */
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* Pushes the current row as a table keyed by column name (NULL columns absent).
 * The column names sit in the statement's uservalue at 2..ncols+1. Values are read
 * through sqlite3_column_value and the sqlite3_value_* accessors: each
 * sqlite3_column_* call enters and leaves the connection's mutex and checks for a
 * malloc failure, three times a column with type, value and length; the unprotected
 * value is safe here, on the connection's own thread (NOMUTEX) and before the next
 * step. Reading a year of 11-column rows: 10.1k -> 9.3k instructions a row
 * (callgrind, Lua 5.4). */
static void push_row(lua_State *L, Stmt *s, int self) {
    int i;
    octopus_getuservalue(L, self);
    lua_createtable(L, 0, s->ncols);
    for (i = 0; i < s->ncols; i++) {
        sqlite3_value *v = sqlite3_column_value(s->st, i);
        int t = sqlite3_value_type(v);
        if (t == SQLITE_NULL) continue;
        lua_rawgeti(L, -2, i + 2);
        switch (t) {
        case SQLITE_INTEGER:
#if OCTOPUS_HAS_INTEGERS
            lua_pushinteger(L, (lua_Integer)sqlite3_value_int64(v));
#else
            lua_pushnumber(L, (lua_Number)sqlite3_value_int64(v));
#endif
            break;
        case SQLITE_FLOAT:
            lua_pushnumber(L, (lua_Number)sqlite3_value_double(v));
            break;
        default: {  /* TEXT, BLOB */
            const char *p = (const char *)(t == SQLITE_BLOB ? sqlite3_value_blob(v)
                                                            : (const void *)sqlite3_value_text(v));
            int n = sqlite3_value_bytes(v);
            lua_pushlstring(L, p ? p : "", (size_t)n);
        }
        }
        lua_rawset(L, -3);
    }
    lua_remove(L, -2);
}

/* One step: pushes the row (1), nothing for done (0), or nil, err (2, reset). */
static int step_once(lua_State *L, Stmt *s, int self) {
    int rc;
    luaL_checkstack(L, 8, "step");
    rc = sqlite3_step(s->st);
    if (rc == SQLITE_ROW) {
        push_row(L, s, self);
        return 1;
    }
    if (rc == SQLITE_DONE) return 0;
    push_db_error(L, s->db->db, rc, "step");
    sqlite3_reset(s->st);
    return 2;
}

static int stmt_step(lua_State *L) {
    Stmt *s = check_stmt(L);
    int n = step_once(L, s, 1);
    if (n == 0) lua_pushnil(L);
    return n == 0 ? 1 : n;
}

static int stmt_reset(lua_State *L) {
    sqlite3_reset(check_stmt(L)->st);
    lua_pushboolean(L, 1);
    return 1;
}

/* stmt:run(binds...): the values stay on this call's stack while it steps, so
 * positional strings are bound SQLITE_STATIC (no copy); nothing between the bind
 * and the final sqlite3_clear_bindings allocates in Lua (rows are not built), so
 * no raise can leave a parameter pointing at a released string. Binding nothing
 * keeps the previous bindings. Returns the number of rows changed (sqlite3_changes:
 * a number, so truthy) or nil, err. */
static int stmt_run(lua_State *L) {
    Stmt *s = check_stmt(L);
    int has_args = lua_gettop(L) >= 2, rc;
    luaL_checkstack(L, 8, "run");
    if (has_args) {
        rc = bind_args(L, s, 2, SQLITE_STATIC);
        if (rc != SQLITE_OK) {
            sqlite3_clear_bindings(s->st);
            return push_db_error(L, s->db->db, rc, "bind");
        }
    } else {
        sqlite3_reset(s->st);
    }
    while ((rc = sqlite3_step(s->st)) == SQLITE_ROW) continue;
    sqlite3_reset(s->st);
    if (has_args) sqlite3_clear_bindings(s->st);
    if (rc != SQLITE_DONE) return push_db_error(L, s->db->db, rc, "step");
    lua_pushinteger(L, (lua_Integer)sqlite3_changes(s->db->db));
    return 1;
}

/* The iterator of stmt:rows and db:rows: upvalue 1 = the statement (always a Stmt:
 * only those two make this closure, so no checkudata per row), upvalue 2 = whether
 * the iterator owns it (db:rows: finalized at the end or at an error, and a call
 * after that ends the loop again instead of raising). */
static int rows_next(lua_State *L) {
    Stmt *s = lua_touserdata(L, lua_upvalueindex(1));
    int owned = lua_toboolean(L, lua_upvalueindex(2)), n;
    if (s->st == NULL) {
        if (owned) return 0;
        return luaL_error(L, "attempt to use a closed " STMT_MT);
    }
    lua_settop(L, 0);
    lua_pushvalue(L, lua_upvalueindex(1));
    n = step_once(L, s, 1);
    if (n == 1) return 1;
    if (owned) stmt_finalize(s);
    if (n == 2) return lua_error(L);  /* the error object; the statement was reset */
    if (!owned) sqlite3_reset(s->st);
    return 0;
}

/* Binds args from..top to the Stmt at idx (raising the error object on a failure)
 * and pushes the rows_next closure over it. */
static void push_rows(lua_State *L, Stmt *s, int idx, int from, int owned) {
    int rc = bind_args(L, s, from, SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) {
        push_db_error(L, s->db->db, rc, "bind");
        if (owned) stmt_finalize(s);
        lua_error(L);
    }
    lua_pushvalue(L, idx);
    lua_pushboolean(L, owned);
    lua_pushcclosure(L, rows_next, 2);
}

static int stmt_rows(lua_State *L) {
    Stmt *s = check_stmt(L);
    push_rows(L, s, 1, 2, 0);
    return 1;
}

/* db:rows(sql, binds...): a fresh statement iterated once and finalized at the end,
 * at an error, or (5.4) by the for-loop's close: returns the iterator, nil, nil and
 * the Stmt as the to-be-closed value. Raises the error object if the SQL does not
 * prepare. Replaces a Lua closure around stmt:rows that cost a call per row.
 * Stack: 1 = db, 2 = sql, 3.. = binds, then the box moved to 3. */
static int db_rows(lua_State *L) {
    Db *d = check_db(L);
    Stmt *s;
    if (new_stmt(L, d, 2) == 2) return lua_error(L);
    s = lua_touserdata(L, -1);
    lua_insert(L, 3);
    push_rows(L, s, 3, 4, 1);
    lua_pushnil(L);
    lua_pushnil(L);
    lua_pushvalue(L, 3);
    return 4;
}

static int stmt_columns(lua_State *L) {
    Stmt *s = check_stmt(L);
    int i;
    lua_createtable(L, s->ncols, 0);
    for (i = 0; i < s->ncols; i++) {
        lua_pushstring(L, sqlite3_column_name(s->st, i));
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* ------------------------------------------------------------------------
 * module */

static int l_blob(lua_State *L) {
    luaL_checktype(L, 1, LUA_TSTRING);
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, 1);
    lua_rawseti(L, -2, 1);
    octopus_setmetatable(L, BLOB_MT);
    return 1;
}

static const luaL_Reg db_methods[] = {
    {"exec", db_exec}, {"prepare", db_prepare}, {"rows", db_rows}, {"changes", db_changes},
    {"last_insert_rowid", db_last_insert_rowid}, {"readonly", db_readonly},
    {"in_transaction", db_in_transaction}, {"busy_timeout", db_busy_timeout},
    {"close", db_close}, {NULL, NULL}};

static const luaL_Reg stmt_methods[] = {
    {"bind", stmt_bind}, {"step", stmt_step}, {"reset", stmt_reset}, {"run", stmt_run},
    {"rows", stmt_rows}, {"columns", stmt_columns}, {"close", stmt_close}, {NULL, NULL}};

static const luaL_Reg funcs[] = {{"open", db_open}, {"blob", l_blob}, {NULL, NULL}};

static void new_class(lua_State *L, const char *name, const luaL_Reg *methods,
                      lua_CFunction close, lua_CFunction tostring) {
    luaL_newmetatable(L, name);
    lua_newtable(L);
    octopus_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
}

OCTOPUS_API int luaopen_octopus_sqlite(lua_State *L) {
    new_class(L, DB_MT, db_methods, db_close, db_tostring);
    new_class(L, STMT_MT, stmt_methods, stmt_close, stmt_tostring);
    luaL_newmetatable(L, BLOB_MT);
    lua_pop(L, 1);
    octopus_newlib(L, funcs);
    lua_pushstring(L, sqlite3_libversion());
    lua_setfield(L, -2, "sqlite_version");
    lua_pushliteral(L, OCTOPUS_VERSION);
    lua_setfield(L, -2, "version");
    octopus_open_error(L);  /* the shared octopus.Error metatable, as sqlite.error_mt */
    return 1;
}
