/*
 * store-vfs.c -- the store's SQLite VFS: the system's ("unix"), except that
 * the writes of a transaction to the WAL reach the file as one write.
 *
 * SQLite writes each WAL frame as two pwrite calls, its 24-byte header and
 * its page, while it holds the database's one write lock: a purchase's
 * three transactions made 24 of them, and every other process waiting for
 * that lock waited for them too (issue 11). Here a WAL file keeps the
 * frames written one after the other in a buffer and writes them out at
 * once:
 *
 *   - with the page of a transaction's commit frame (whose header says it
 *     is one), so that a failure to write -- a full disk -- is reported
 *     to SQLite by that write, where it would have been;
 *   - before any other use of the file -- a read, a sync, a truncation, its
 *     size, its close, a write that does not follow on;
 *   - when the process touches the database's shared-memory index
 *     (xShmBarrier, xShmLock): SQLite publishes a commit there (the
 *     index's header, written on both sides of a barrier) and nothing of
 *     a transaction is visible to another process before; so the frames
 *     are in the file before any other process can know of them.
 *
 * So the file holds what SQLite wrote, in the order it wrote it, whenever
 * anyone may look, and what a crash of the process loses is what SQLite
 * itself would lose: frames of a transaction not yet committed. Everything
 * else (locks, the shared memory, memory mapping) is the system VFS's.
 * A connection is used by one thread at a time (the store lends it to a
 * thread for a request's database work, not across a provider call): the
 * list of WAL files with writes gathered is the thread's, so that touching
 * the shared index flushes the frames of that thread's connection, which
 * are the only ones it can publish (another connection's pending frames are
 * its own uncommitted transaction, published by its own thread's barrier).
 * Before a connection goes to another thread the store calls
 * pur_store_vfs_flush, so that no list of a thread holds a file it no
 * longer uses (after a commit there is nothing to flush).
 */
#include "autoconfig.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store-vfs.h"

#define BUF_MIN (16 * 1024)  /* four frames; doubled as a transaction needs */
#define BUF_MAX (512 * 1024) /* more than any of our transactions writes */

struct wfile {
	sqlite3_file base;
	sqlite3_file *real;  /* the system VFS's file, right after this struct */
	int wal;             /* a WAL file: its writes are gathered */
	char *buf;           /* the gathered writes, for [off, off + len) */
	size_t len;
	size_t cap;          /* buf's size: grown on demand, not BUF_MAX at once
	                      * (a purchase's transactions write a few pages;
	                      * a worker has a pool of connections) */
	sqlite3_int64 off;
	int commit;          /* the last write was a commit frame's header */
	struct wfile *next;  /* the thread's WAL files with writes gathered */
};

static sqlite3_vfs vfs, *sys;
static sqlite3_io_methods methods;
static _Thread_local struct wfile *pending; /* WAL files whose buffer is not empty */

static int
flush(struct wfile *f)
{
	struct wfile **pp;
	size_t len = f->len;

	if (len == 0)
		return SQLITE_OK;
	f->len = 0;
	for (pp = &pending; *pp != NULL; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	return f->real->pMethods->xWrite(f->real, f->buf, (int)len, f->off);
}

/* Every WAL file of the thread, before the shared index is touched. */
static int
flush_all(void)
{
	int rc = SQLITE_OK, r;

	while (pending != NULL)
		if ((r = flush(pending)) != SQLITE_OK)
			rc = r;
	return rc;
}

/* A WAL frame's 24-byte header (SQLite writes it on its own, then the
 * page) is a commit's when its second word, the database's size in pages
 * after the commit, is not 0 (the WAL file format, sqlite.org/fileformat). */
static int
is_commit_header(const void *data, int amt)
{
	const unsigned char *h = data;

	return amt == 24 && (h[4] | h[5] | h[6] | h[7]) != 0;
}

#define REAL(p) (((struct wfile *)(p))->real)

/* What reads the file, or its size, or changes it otherwise: on the file
 * with the gathered writes in it. */
#define AFTER_FLUSH(p, call)                                          \
	do {                                                          \
		int rc_ = flush((struct wfile *)(p));                 \
		return rc_ != SQLITE_OK ? rc_ : REAL(p)->pMethods->call; \
	} while (0)

static int
x_close(sqlite3_file *p)
{
	struct wfile *f = (struct wfile *)p;
	int rc = flush(f), r;

	r = f->real->pMethods->xClose(f->real);
	free(f->buf);
	f->buf = NULL;
	return rc != SQLITE_OK ? rc : r;
}

/* Room in f's buffer for n more bytes: 0 when there is none (past
 * BUF_MAX, or no memory). */
static int
room(struct wfile *f, size_t n)
{
	size_t cap = f->cap > 0 ? f->cap : BUF_MIN;
	char *b;

	if (f->len + n <= f->cap)
		return 1;
	if (f->len + n > BUF_MAX)
		return 0;
	while (cap < f->len + n)
		cap *= 2;
	if (cap > BUF_MAX)
		cap = BUF_MAX;
	if ((b = realloc(f->buf, cap)) == NULL)
		return 0;
	f->buf = b;
	f->cap = cap;
	return 1;
}

static int
x_write(sqlite3_file *p, const void *data, int amt, sqlite3_int64 off)
{
	struct wfile *f = (struct wfile *)p;
	int rc;

	if (f->wal && amt > 0 && (size_t)amt <= BUF_MAX) {
		if (f->len > 0 && off == f->off + (sqlite3_int64)f->len && room(f, (size_t)amt)) {
			memcpy(f->buf + f->len, data, (size_t)amt);
			f->len += (size_t)amt;
			/* The page of a commit frame: the transaction is all
			 * here; written now, so that a failure (a full disk)
			 * is SQLite's to hear, as for its own writes. */
			if (f->commit) {
				f->commit = 0;
				return flush(f);
			}
			f->commit = is_commit_header(data, amt);
			return SQLITE_OK;
		}
		if ((rc = flush(f)) != SQLITE_OK)
			return rc;
		if (!room(f, (size_t)amt))
			return f->real->pMethods->xWrite(f->real, data, amt, off);
		memcpy(f->buf, data, (size_t)amt);
		f->off = off;
		f->len = (size_t)amt;
		f->next = pending;
		pending = f;
		f->commit = is_commit_header(data, amt);
		return SQLITE_OK;
	}
	f->commit = 0;
	AFTER_FLUSH(p, xWrite(REAL(p), data, amt, off));
}

static int
x_read(sqlite3_file *p, void *out, int amt, sqlite3_int64 off)
{
	AFTER_FLUSH(p, xRead(REAL(p), out, amt, off));
}

static int
x_truncate(sqlite3_file *p, sqlite3_int64 size)
{
	AFTER_FLUSH(p, xTruncate(REAL(p), size));
}

static int
x_sync(sqlite3_file *p, int flags)
{
	AFTER_FLUSH(p, xSync(REAL(p), flags));
}

static int
x_file_size(sqlite3_file *p, sqlite3_int64 *size)
{
	AFTER_FLUSH(p, xFileSize(REAL(p), size));
}

static int
x_file_control(sqlite3_file *p, int op, void *arg)
{
	AFTER_FLUSH(p, xFileControl(REAL(p), op, arg));
}

/* The rest as the system's, on the real file. */

static int
x_lock(sqlite3_file *p, int l)
{
	return REAL(p)->pMethods->xLock(REAL(p), l);
}

static int
x_unlock(sqlite3_file *p, int l)
{
	return REAL(p)->pMethods->xUnlock(REAL(p), l);
}

static int
x_check_reserved(sqlite3_file *p, int *out)
{
	return REAL(p)->pMethods->xCheckReservedLock(REAL(p), out);
}

static int
x_sector_size(sqlite3_file *p)
{
	return REAL(p)->pMethods->xSectorSize(REAL(p));
}

static int
x_device_characteristics(sqlite3_file *p)
{
	return REAL(p)->pMethods->xDeviceCharacteristics(REAL(p));
}

static int
x_shm_map(sqlite3_file *p, int region, int size, int extend, void volatile **out)
{
	return REAL(p)->pMethods->xShmMap(REAL(p), region, size, extend, out);
}

static int
x_shm_lock(sqlite3_file *p, int offset, int n, int flags)
{
	int rc = flush_all();

	if (rc != SQLITE_OK)
		return rc;
	return REAL(p)->pMethods->xShmLock(REAL(p), offset, n, flags);
}

static void
x_shm_barrier(sqlite3_file *p)
{
	/* SQLite publishes a commit right after this barrier and has no way
	 * to hear of a failure here: frames that could not be written must
	 * not be published. The process stops instead (the disk failed
	 * under it); the next one rebuilds the index from what the WAL
	 * holds, without this transaction. */
	if (flush_all() != SQLITE_OK) {
		static const char msg[] = "purchase: cannot write the WAL: stopping\n";
		(void)!write(2, msg, sizeof(msg) - 1);
		abort();
	}
	REAL(p)->pMethods->xShmBarrier(REAL(p));
}

static int
x_shm_unmap(sqlite3_file *p, int del)
{
	return REAL(p)->pMethods->xShmUnmap(REAL(p), del);
}

static int
x_fetch(sqlite3_file *p, sqlite3_int64 off, int amt, void **out)
{
	return REAL(p)->pMethods->xFetch(REAL(p), off, amt, out);
}

static int
x_unfetch(sqlite3_file *p, sqlite3_int64 off, void *page)
{
	return REAL(p)->pMethods->xUnfetch(REAL(p), off, page);
}

static int
x_open(sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *p, int flags, int *out_flags)
{
	struct wfile *f = (struct wfile *)p;
	int rc;

	(void)v;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	rc = sys->xOpen(sys, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK || f->real->pMethods == NULL) {
		/* SQLite calls xClose only when pMethods is set. */
		if (f->real->pMethods != NULL)
			f->real->pMethods->xClose(f->real);
		p->pMethods = NULL;
		return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
	}
	f->wal = (flags & SQLITE_OPEN_WAL) != 0;
	if (methods.iVersion == 0 || methods.iVersion > f->real->pMethods->iVersion) {
		/* (a file whose methods lack what ours pass on gets none of
		 * ours: the system VFS gives every file the same version) */
		methods.iVersion = f->real->pMethods->iVersion < 3 ? f->real->pMethods->iVersion : 3;
	}
	p->pMethods = &methods;
	return SQLITE_OK;
}

/* What a VFS passes on unchanged to the system's. */
static int
x_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
	(void)v;
	return sys->xDelete(sys, name, sync_dir);
}

static int
x_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	(void)v;
	return sys->xAccess(sys, name, flags, out);
}

static int
x_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
	(void)v;
	return sys->xFullPathname(sys, name, n, out);
}

static void *
x_dlopen(sqlite3_vfs *v, const char *name)
{
	(void)v;
	return sys->xDlOpen(sys, name);
}

static void
x_dlerror(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	sys->xDlError(sys, n, out);
}

static void (*x_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
	(void)v;
	return sys->xDlSym(sys, h, sym);
}

static void
x_dlclose(sqlite3_vfs *v, void *h)
{
	(void)v;
	sys->xDlClose(sys, h);
}

static int
x_randomness(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return sys->xRandomness(sys, n, out);
}

static int
x_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return sys->xSleep(sys, us);
}

static int
x_current_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return sys->xCurrentTime(sys, out);
}

static int
x_get_last_error(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return sys->xGetLastError ? sys->xGetLastError(sys, n, out) : 0;
}

static int
x_current_time_int64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	return sys->xCurrentTimeInt64(sys, out);
}

static int registered = -1;

static void
vfs_register(void)
{
	if ((sys = sqlite3_vfs_find(NULL)) == NULL || sys->iVersion < 2 ||
	    sys->xCurrentTimeInt64 == NULL)
		return;
	methods = (sqlite3_io_methods){0, x_close, x_read, x_write, x_truncate, x_sync,
	    x_file_size, x_lock, x_unlock, x_check_reserved, x_file_control, x_sector_size,
	    x_device_characteristics, x_shm_map, x_shm_lock, x_shm_barrier, x_shm_unmap, x_fetch,
	    x_unfetch};
	vfs = (sqlite3_vfs){2, (int)sizeof(struct wfile) + sys->szOsFile, sys->mxPathname, NULL,
	    PUR_STORE_VFS, NULL, x_open, x_delete, x_access, x_full_pathname, x_dlopen, x_dlerror,
	    x_dlsym, x_dlclose, x_randomness, x_sleep, x_current_time, x_get_last_error,
	    x_current_time_int64, NULL, NULL, NULL};
	if (sqlite3_vfs_register(&vfs, 0) == SQLITE_OK)
		registered = 1;
}

int
pur_store_vfs_flush(void)
{
	return flush_all();
}

/* Registered once per process, whichever thread opens the first store. */
const char *
pur_store_vfs(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, vfs_register);
	return registered > 0 ? PUR_STORE_VFS : NULL;
}
