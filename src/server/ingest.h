/*
 * ingest.h -- what the ingest routes share: a table's columns as ingest checks records against
 * them (ingest.c), and the group committer (batcher.c) that writes the checked records of many
 * requests in one lake commit.
 */
#ifndef PL_SERVER_INGEST_H
#define PL_SERVER_INGEST_H

#include "core/ids.h"
#include "server/internal.h"
#include "server/jscan.h"
#include "sql/service.h"

typedef struct pl_srv_col {
	char *name, *type; /* DuckDB type, as SQL */
	bool nullable, has_default;
} pl_srv_col;

typedef struct pl_srv_cols {
	pl_srv_col *v;
	size_t n;
} pl_srv_cols;

void pl_srv_cols_free(pl_srv_cols *c);
/* The columns of schema.table (none: no such table), cached while the lake's schema version is
 * the same. */
int pl_srv_cols_load(pl_srv_lake *l, planar_conn *conn, const char *schema, const char *table, int64_t version,
		     pl_srv_cols *out, char **msg);
bool pl_srv_type_nested(const char *t);
/* Why rec cannot be written into a table of these columns (*field: the field), or NULL. buf
 * holds the reason when it is composed. */
const char *pl_srv_check_record(const pl_srv_cols *cl, json_t *rec, const char **field, char *buf, size_t bufn);
/* Binds one JSON value as parameter idx of an INSERT whose placeholder is CAST($idx AS type). */
int pl_srv_bind_json(planar_stmt *st, size_t idx, const char *type, const json_t *v);

/* One checked ingest request waiting for its commit. */
typedef struct pl_srv_item {
	struct pl_srv_item *next;
	pl_req *r;
	struct MHD_Connection *c; /* suspended until the commit is done (NULL: a waiting thread) */
	char *schema, *name, *table, *tenant, *job, *key;
	json_t *records; /* array of checked objects (NULL: a spooled body) */
	size_t nrec;
	/* a body spooled to a file (committed alone): 1 NDJSON lines, 2 a Parquet file registered
	 * as it is, 3 no file: the rows as columns (rows); used[] names the columns the INSERT names */
	int spool_kind;
	char *spool;
	int spool_parts; /* > 1: the NDJSON lines are in spool, spool.1, ... (in record order) */
	bool *spool_used;
	size_t spool_maxline; /* the longest NDJSON line (0: not known) */
	bool committed; /* its rows (or file) are in the lake */
	struct pl_srv_rows *rows; /* spool_kind 3: the records as columns, read by __planar_rows (ingest_rows.c) */
	pl_srv_cols cols;
	char pid[PL_UUID_STRLEN + 1];
	char now[32];
	int64_t bytes; /* the request body's size (the tenant's usage) */
	/* the outcome */
	bool done;
	int status;    /* HTTP status of the reply */
	json_t *reply; /* the answer (201) or the error's details */
	pl_srv_err err;
	char *errmsg; /* set: an error reply */
} pl_srv_item;

void pl_srv_item_free(pl_srv_item *it);

/* The statement that writes group g of m items (batch_sql.c): INSERT INTO lake.s.t (columns any
 * record names) VALUES (...) with the values as literals; *used says which columns it names. */
int pl_srv_build_insert(pl_srv_item **g, size_t m, pl_buf *sql, bool *used);
/* The statement that writes a spooled body: INSERT ... SELECT FROM read_json of the NDJSON file,
 * or ducklake_add_data_files of the Parquet file. */
int pl_srv_build_spool(pl_srv_item *it, pl_buf *sql);

/* The author of every ingest commit. */
#define PL_SRV_INGEST_AUTHOR "planar serve"

/* "create": true and no such table: creates schema.name with columns and types inferred from
 * the records (create.c). On failure queues the reply (*ret) and returns nonzero. */
int pl_srv_ingest_create(struct MHD_Connection *c, pl_req *r, planar_conn *conn, const char *schema,
			 const char *name, json_t *records, enum MHD_Result *ret);

/* Creates schema.name (and the schema when missing; main always exists) with columns cols of
 * types (SQL type texts the caller composed; names are quoted here), then, when partition is
 * not NULL, sets its partitioning (a SET PARTITIONED BY list the caller composed). exclusive:
 * CREATE TABLE without IF NOT EXISTS, all in one transaction (a table that exists fails with
 * PLANAR_EEXISTS and nothing changes); else a table created meanwhile counts as created. A
 * PLANAR_E* code and *errmsg (caller frees) on failure. */
int pl_srv_create_table(planar_conn *conn, const char *schema, const char *name, const char *const *cols,
			const char *const *types, size_t n, const char *partition, bool exclusive, char **errmsg);

/* The group committer: one thread that takes every queued item, writes the items of one table
 * as one INSERT (one lake snapshot, inlined when under the lake's inlining limit), records their
 * lineage and answers them; and a flusher that writes a table's inlined rows to Parquet when
 * they pass a threshold or wait too long. */
int pl_srv_batch_start(pl_srv *s);
/* Commits what is queued, flushes inlined rows when asked to, stops both threads. */
void pl_srv_batch_stop(pl_srv *s);
/* Queues an item; its connection is suspended and resumed when the item is done (the route is
 * then called again: pl_srv_batch_reply queues the answer). */
void pl_srv_batch_submit(pl_srv *s, pl_srv_item *it);
/* Queues an item and waits for it (no connection to suspend). */
void pl_srv_batch_wait(pl_srv *s, pl_srv_item *it);
enum MHD_Result pl_srv_batch_reply(struct MHD_Connection *c, pl_req *r);
/* Tells the flusher that rows were inlined into schema.table (it flushes past a threshold). */
void pl_srv_flush_note(pl_srv *s, const char *schema, const char *table, int64_t rows);

/* Bulk bodies on the validating scanner (ingest_bulk.c). */
/* The scanner's view of the columns (names and types point into cl). */
int pl_srv_jscan_cols(const pl_srv_cols *cl, pl_jscan_col **out);
/* The span of a body's "records" array: [start, end) of the body, count elements. */
#define PL_SRV_BULK_SPLITS 3
typedef struct pl_srv_bulk {
	size_t start, end, count;
	/* top-level commas near a quarter, half and three quarters of the body, where the records
	 * can be checked and spooled in parts at once: split_pos[k] is the comma's offset, the
	 * record after it is split_rec[k] */
	size_t nsplit, split_pos[PL_SRV_BULK_SPLITS], split_rec[PL_SRV_BULK_SPLITS];
} pl_srv_bulk;
/* A JSON object body whose "records" array has more than min_records elements and no "create":
 * true, its other members valid JSON: those members as an object (*b: the records, whose syntax
 * pl_srv_bulk_spool checks), else NULL (the body is then parsed the general way). */
json_t *pl_srv_bulk_body(const char *p, size_t n, size_t min_records, pl_srv_bulk *b);
/* A record that does not fit (or, syntax, is not valid JSON). */
typedef struct pl_srv_misfit {
	size_t rec;
	bool syntax;
	char *field, *reason;
} pl_srv_misfit;
/* Checks the records of b against it->cols and writes them to it's NDJSON spool file (sets
 * spool, spool_used, nrec). PLANAR_EINVALID: *bad says which record and why (free its
 * strings). */
int pl_srv_bulk_spool(pl_srv_item *it, const char *p, const pl_srv_bulk *b, pl_srv_misfit *bad);

/* The rows path of large JSON and NDJSON bodies (ingest_rows.c). */
#define PL_SRV_MAX_LINE (16u << 20) /* the longest NDJSON line */
/* Whether a table of these columns can take it (integers, FLOAT/DOUBLE, BOOLEAN, VARCHAR; no
 * defaults). */
bool pl_srv_rows_fit(const pl_srv_cols *cl);
/* Cuts the records of b (in body p, alive as long as it) into parts and registers them as the
 * row source it->pid (sets rows, spool_kind 3, spool_used): the INSERT that reads them checks
 * each record as it reads it, and fails at a record that does not fit. */
int pl_srv_rows_start(pl_srv_item *it, const char *p, const pl_srv_bulk *b);
/* The same for an NDJSON body written, as it came, to the file path (its records counted in
 * it->nrec): the file is mapped and cut into parts at line ends. */
int pl_srv_rows_start_ndjson(pl_srv_item *it, const char *path);
/* After a failed INSERT: when a record that does not fit (or is not valid JSON) was the cause,
 * the reply as the checks before a commit give it (*msg: the caller frees). */
bool pl_srv_rows_failure(pl_srv_item *it, pl_srv_err *e, char **msg, json_t **details);
/* Unregisters and frees the rows (pl_srv_item_free). */
void pl_srv_rows_free(struct pl_srv_rows *rs);

/* The answer of an earlier request with this key, or NULL (*unavailable: the catalog failed,
 * then *why is set). Settles a pending record whose commit is in the lake. */
json_t *pl_srv_replay_find(pl_srv_lake *l, pl_catdb *db, const char *tenant, const char *key, bool *unavailable,
			   char **why);

#endif
