/*
 * store-vfs.h -- the store's SQLite VFS (store-vfs.c): the system's, with
 * a transaction's WAL writes gathered into one.
 */
#ifndef PUR_STORE_VFS_H
#define PUR_STORE_VFS_H

#define PUR_STORE_VFS "purchase"

/* Registers the VFS (once per process; not the default one) and returns
 * its name, or NULL when it cannot (then the system's is used). */
const char *pur_store_vfs(void);

/* Writes out the gathered WAL writes of this thread's connections: before
 * a connection is handed to another thread. An SQLite result code. */
int pur_store_vfs_flush(void);

#endif
