/*
 * driver.h -- the interface every catalog database driver implements (SQLite, DuckDB file,
 * PostgreSQL). The DuckLake SQL lives once in src/catalog; a driver only runs it: prepared
 * statements with '?' placeholders and bound values, transactions, and rows returned as text.
 *
 * Values come back as text as the database renders them; booleans may read "1"/"0" (SQLite) or
 * "true"/"false" (DuckDB): read them with pl_rows_bool(). A driver is used by one thread at a time.
 */
#ifndef PL_CATALOG_DRIVER_H
#define PL_CATALOG_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/stmtcache.h"

typedef enum pl_vkind { PL_V_NULL, PL_V_INT, PL_V_TEXT, PL_V_BOOL } pl_vkind;

typedef struct pl_val {
	pl_vkind kind;
	int64_t i;
	const char *s;
} pl_val;

#define PL_VNULL ((pl_val){PL_V_NULL, 0, NULL})
#define PL_VINT(x) ((pl_val){PL_V_INT, (int64_t)(x), NULL})
#define PL_VTEXT(x) pl_val_text(x)
#define PL_VBOOL(x) ((pl_val){PL_V_BOOL, (x) ? 1 : 0, NULL})
/* An int that is NULL when negative (for optional ids). */
#define PL_VOPTINT(x) ((x) < 0 ? PL_VNULL : PL_VINT(x))

static inline pl_val pl_val_text(const char *s)
{
	pl_val v = {s ? PL_V_TEXT : PL_V_NULL, 0, s};
	return v;
}

typedef struct pl_rows {
	size_t ncols, nrows;
	char **names; /* ncols */
	char **cells; /* nrows * ncols, row-major; NULL for SQL NULL */
} pl_rows;

const char *pl_rows_get(const pl_rows *r, size_t row, size_t col);
int64_t pl_rows_int(const pl_rows *r, size_t row, size_t col, int64_t if_null);
bool pl_rows_bool(const pl_rows *r, size_t row, size_t col, bool if_null);
bool pl_rows_is_null(const pl_rows *r, size_t row, size_t col);
void pl_rows_free(pl_rows *r);

/* Builder used by drivers. */
int pl_rows_new(pl_rows **out, size_t ncols);
/* Appends a row of ncols cells; takes ownership of the strings (also on failure). */
int pl_rows_append(pl_rows *r, char **cells);

typedef struct pl_catdb pl_catdb;

typedef struct pl_catdb_ops {
	const char *name; /* "sqlite", "duckdb", "postgres" */
	int (*exec)(pl_catdb *db, const char *sql, const pl_val *params, size_t n, pl_err *err);
	int (*query)(pl_catdb *db, const char *sql, const pl_val *params, size_t n, pl_rows **out,
		     pl_err *err);
	/* Starts a write transaction that excludes other writers (may wait for them). */
	int (*begin)(pl_catdb *db, pl_err *err);
	int (*commit)(pl_catdb *db, pl_err *err);
	int (*rollback)(pl_catdb *db, pl_err *err);
	int (*table_exists)(pl_catdb *db, const char *table, bool *out, pl_err *err);
	/* A second, independent connection to the same catalog (for a session's own transaction). */
	int (*clone)(pl_catdb *db, pl_catdb **out, pl_err *err);
	void (*close)(pl_catdb *db);
	/* See pl_catdb_generation; NULL: the driver cannot know (another process may write). */
	uint64_t (*generation)(pl_catdb *db);
} pl_catdb_ops;

#define PL_CATDB_INLINED_KEPT 8

/* A table's statistics row (ducklake_table_stats) as a commit left it, and (when known) all of
 * its statistics rows as the commit's statistics query would read them now (commit_files.c). */
typedef struct pl_noted_stats {
	int64_t table_id, record_count, next_row_id, file_size_bytes;
	pl_rows *rows; /* NULL: not known */
} pl_noted_stats;

/* The snapshot a commit made on top of snapshot `base` (the latest when it began): the row of
 * ducklake_snapshot, its changes_made, and the statistics rows of the tables it changed. */
typedef struct pl_commit_note {
	int64_t base, snapshot, schema_version, next_catalog_id, next_file_id;
	char time[32];
	char *changes;
	pl_noted_stats *stats; /* every table statistics row the commit wrote */
	size_t nstats;
	size_t delete_files; /* delete file rows it wrote */
	/* the data file rows it wrote that begin at its snapshot, with the columns and text of
	 * PL_MODEL_FILE_COLUMNS (model_rows.h); NULL: not known */
	pl_rows *files;
} pl_commit_note;

struct pl_catdb {
	const pl_catdb_ops *ops;
	bool read_only;
	/* planar_search_index was seen to exist (nothing drops it): searches skip asking again */
	bool search_index_table;
	/* Ids go into the text of statements that read a table, not into parameters (set by the
	 * DuckDB driver: DuckDB plans such a statement again at every run when it has parameters,
	 * about 0.2 ms, and keeps the plan of one without; the commit's ids repeat from one commit
	 * to the next). */
	bool ids_in_text;
	/* Answers kept while pl_catdb_generation() stays what it was when they were read (0: none
	 * kept): the latest snapshot id (model.c) and the rows of ducklake_metadata (options.c). */
	uint64_t latest_gen, options_gen;
	int64_t latest;
	pl_rows *options;
	/* Set by a driver with generations at each commit: the generation right after this
	 * connection's last commit landed (no other write in between), 0 when it failed. */
	uint64_t committed_gen;
	/* Inlined-data tables found for a table at a schema version of the catalog (inline.c): the
	 * answer holds for as long as that schema version is the latest. */
	struct {
		int64_t table_id, schema_version;
		char *name; /* NULL: free slot */
	} inlined[PL_CATDB_INLINED_KEPT];
	size_t inlined_next;
	/* What this connection's last commit wrote, for a model to advance to it without reading it
	 * back (model_advance.c); changes NULL: nothing noted. */
	pl_commit_note note;
};

typedef struct pl_catdb_options {
	const char *kind;     /* "duckdb" | "sqlite" | "postgres" */
	const char *location; /* file path or connection string */
	bool read_only;
	bool create;          /* may create the database file (or catalog schema) */
	const char *schema;   /* postgres: schema of the catalog tables (METADATA_SCHEMA) */
	const char *password_env; /* postgres: environment variable holding the password */
} pl_catdb_options;

/* sql with each '?' placeholder outside quotes replaced by what put(b, k, arg) appends for the
 * k-th one (from 0); NULL when memory runs out. For drivers that rewrite placeholders. */
char *pl_catdb_rewrite_placeholders(const char *sql, void (*put)(pl_buf *b, size_t k, void *arg), void *arg);

/* Opens a catalog database with the driver named by opts->kind. */
int pl_catdb_open(pl_catdb **out, const pl_catdb_options *opts, pl_err *err);
void pl_catdb_close(pl_catdb *db);

/* A number that changes whenever the catalog may have changed: a transaction or statement that
 * may have written through any connection to it (clones included) has ended since. Only a driver
 * that sees every writer knows it: a DuckDB file, which one process at a time holds open for
 * writing (and none while another reads it). 0 when the driver cannot know, and while this
 * connection is inside a transaction (its reads may differ from what others see). */
uint64_t pl_catdb_generation(pl_catdb *db);

/* Forgets every answer db keeps (a clone starts without them). */
void pl_catdb_forget_kept(pl_catdb *db);
/* Forgets the note of the last commit. */
void pl_catdb_forget_note(pl_catdb *db);

/* Convenience wrappers. */
int pl_catdb_exec(pl_catdb *db, const char *sql, const pl_val *params, size_t n, pl_err *err);
int pl_catdb_query(pl_catdb *db, const char *sql, const pl_val *params, size_t n, pl_rows **out,
		   pl_err *err);

/* Driver constructors (one per file driver_<name>.c). */
int pl_catdb_sqlite_open(pl_catdb **out, const pl_catdb_options *opts, pl_err *err);
int pl_catdb_duckdb_open(pl_catdb **out, const pl_catdb_options *opts, pl_err *err);
int pl_catdb_postgres_open(pl_catdb **out, const pl_catdb_options *opts, pl_err *err);
/* Which catalog an open connection reaches, as text that is equal for two connections to the
 * same catalog however they were named: "file:<device>:<inode>" for catalog files (location is
 * the path it was opened with), "postgres:<server address>:<port>:<database>:<schema>". */
int pl_catdb_identity(pl_catdb *db, const char *location, char **out, pl_err *err);
/* The file identity of path ("file:<device>:<inode>"), or NULL in *out when it does not exist. */
int pl_catdb_file_identity(const char *path, char **out, pl_err *err);
/* True for catalogs kept in a local file (duckdb, sqlite). */
bool pl_catdb_kind_is_file(const char *kind);

#endif
