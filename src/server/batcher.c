/*
 * batcher.c -- group commit and background flush of `planar serve`'s ingests.
 *
 * Request threads check their records (ingest.c), queue them here and suspend their connection.
 * One committer thread takes everything queued and writes the requests of one table and one
 * tenant as ONE INSERT: one lake snapshot, inlined into the catalog when the rows are within the service's
 * inlining limit (--inline-rows; a group never goes past it unless one request alone does).
 * Every request of the group is answered with that snapshot id and its own partition_id and
 * row_count; the snapshot's extra info lists the requests (partition_id, tenant_id, job_id,
 * table, idempotency_key, row_offset, row_count, ingested_at): a request's rows are the
 * row_count rows from row_offset of the rows the snapshot inserted, in row id order.
 *
 * Idempotency under group commit: before the lake commit the committer records a pending
 * planar_service_ingest row for every request with an Idempotency-Key, naming the commit
 * message ("ingest <batch id>", a UUIDv7) the lake commit will carry; after the commit the rows
 * are settled with the answer. A retry finds the settled row, or a pending row whose commit is
 * in the lake (a crash in between: the answer is rebuilt from the commit), or a pending row
 * whose commit never happened (a crash before the commit: nothing was written, the request is
 * written anew). The committer looks every key up again before writing, and a key that
 * appears twice in one round waits for the next round, so one server never writes a key twice.
 *
 * A group whose commit fails on a conflict is tried again (5 times); one that fails otherwise
 * is split and each request committed alone, so a bad request fails alone.
 *
 * The flusher: a table whose inlined rows (counted as this server commits them) pass
 * --flush-rows, or have waited --flush-secs, is flushed to Parquet with
 * ducklake_flush_inlined_data on a session of its own; at SIGTERM every table with inlined rows
 * is flushed (unless --flush-on-stop 0).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/str.h"
#include "server/ingest.h"
#include "server/policy.h"
#include "sql/service.h"

#define MAX_FLUSH_TABLES 64
#define COMMIT_TRIES 5

typedef struct flush_table {
	char *schema, *table;
	int64_t rows;
	struct timespec since;
} flush_table;

typedef struct pl_srv_batcher {
	pl_srv *s;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* work queued, or stop */
	pthread_cond_t done; /* an item of a waiting thread is done */
	pl_srv_item *head, *tail;
	size_t nqueued;	   /* items from head */
	size_t last_round; /* items the last round took */
	double last_ms;	   /* how long the last round took */
	bool stop, started;
	pthread_t thread;
	planar_conn *conn;
	pl_catdb *db;
	/* flusher */
	pthread_mutex_t flock;
	pthread_cond_t fcond;
	bool fstop, fstarted;
	pthread_t fthread;
	flush_table ft[MAX_FLUSH_TABLES];
	size_t nft;
	planar_conn *fconn;
} pl_srv_batcher;

/* One JSON log line; ms >= 0: how long it took. */
static void log_event_ms(const char *event, const char *detail, int64_t n, double ms)
{
	json_t *d = json_string(detail ? detail : "");
	char *t = d ? json_dumps(d, JSON_ENCODE_ANY) : NULL;
	char took[40] = "";
	if (ms >= 0)
		snprintf(took, sizeof took, ",\"ms\":%.1f", ms);
	fprintf(stderr, "{\"event\":\"%s\",\"detail\":%s,\"n\":%lld%s}\n", event, t ? t : "\"\"", (long long)n, took);
	fflush(stderr);
	free(t);
	json_decref(d);
}

static void log_event(const char *event, const char *detail, int64_t n)
{
	log_event_ms(event, detail, n, -1);
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void item_fail(pl_srv_item *it, pl_srv_err e, const char *msg, json_t *details)
{
	free(it->errmsg);
	it->errmsg = pl_strdup(msg ? msg : "the ingest failed");
	it->err = e;
	json_decref(it->reply);
	it->reply = details;
	it->status = pl_srv_err_status(e);
}

static void item_answer(pl_srv_item *it, json_t *answer)
{
	json_decref(it->reply);
	it->reply = answer;
	it->status = 201;
}

static void item_finish(pl_srv_batcher *b, pl_srv_item *it)
{
	if (it->c) {
		MHD_resume_connection(it->c); /* the item belongs to the request from here on */
		return;
	}
	pthread_mutex_lock(&b->lock);
	it->done = true;
	pthread_cond_broadcast(&b->done);
	pthread_mutex_unlock(&b->lock);
}

static void enqueue(pl_srv_batcher *b, pl_srv_item *it)
{
	pthread_mutex_lock(&b->lock);
	it->next = NULL;
	if (b->tail)
		b->tail->next = it;
	else
		b->head = it;
	b->tail = it;
	b->nqueued++;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static bool same_key(const pl_srv_item *a, const pl_srv_item *b)
{
	return a->key && b->key && strcmp(a->key, b->key) == 0 && strcmp(a->tenant, b->tenant) == 0;
}

/* One group: one table and one tenant, so a snapshot never holds two tenants' rows (retention
 * deletes the rows a tenant's snapshot inserted). */
static bool same_table(const pl_srv_item *a, const pl_srv_item *b)
{
	return strcmp(a->schema, b->schema) == 0 && strcmp(a->name, b->name) == 0 && strcmp(a->tenant, b->tenant) == 0;
}

static int get_conn(pl_srv_batcher *b, char **msg)
{
	if (b->conn)
		return 0;
	return pl_srv_conn_get(&b->s->lake, &b->conn, msg);
}

static void drop_conn(pl_srv_batcher *b)
{
	/* its pending commit message must not reach another commit */
	pl_srv_conn_put(&b->s->lake, b->conn, false);
	b->conn = NULL;
}

/* One try at committing the group: 0, or a PLANAR_E* code with *msg set. */
static int commit_once(pl_srv_batcher *b, pl_srv_item **g, size_t m, char **msg)
{
	pl_err err;
	pl_err_clear(&err);
	char bid[PL_UUID_STRLEN + 1], cmsg[80];
	if (pl_uuid_v7(bid, &err) != 0) {
		*msg = pl_strdup(err.msg);
		return PLANAR_EIO;
	}
	snprintf(cmsg, sizeof cmsg, "ingest %s", bid);
	pl_service_ingest *rows = calloc(m, sizeof *rows);
	char **texts = calloc(m, sizeof *texts);
	const char **pids = calloc(m, sizeof *pids);
	bool *used = calloc(g[0]->cols.n ? g[0]->cols.n : 1, sizeof *used);
	pl_buf sql = PL_BUF_INIT;
	planar_stmt *st = NULL, *cm = NULL;
	planar_result *res = NULL;
	char *extra_text = NULL;
	size_t npend = 0;
	bool pending_written = false;
	int rc = rows && texts && pids && used ? 0 : PLANAR_ENOMEM;
	double t0 = now_ms(), t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5 = 0, c0 = cpu_ms();
	/* 1. pending rows of the keyed requests */
	for (size_t k = 0; rc == 0 && k < m; k++) {
		pl_srv_item *it = g[k];
		if (!it->key)
			continue;
		json_t *p = json_pack("{s:s,s:s}", "pending_commit", cmsg, "partition_id", it->pid);
		texts[npend] = p ? json_dumps(p, JSON_COMPACT) : NULL;
		json_decref(p);
		if (!texts[npend]) {
			rc = PLANAR_ENOMEM;
			break;
		}
		pids[npend] = it->pid;
		rows[npend] = (pl_service_ingest){it->pid, it->tenant, it->job, it->table, it->key,
						  it->now,  texts[npend], (int64_t)it->nrec, -1};
		npend++;
	}
	if (rc == 0 && npend > 0) {
		if (pl_service_ingest_pending(b->db, rows, npend, &err) != 0) {
			*msg = pl_strdup(err.msg);
			rc = PLANAR_ECATALOG;
		} else {
			pending_written = true;
		}
	}
	/* 2. the INSERT, with the lineage in the snapshot's commit message and extra info */
	if (rc == 0 && (rc = get_conn(b, msg)) == 0) {
		rc = g[0]->spool_kind ? pl_srv_build_spool(g[0], &sql) : pl_srv_build_insert(g, m, &sql, used);
		if (rc == PLANAR_EINVALID)
			*msg = pl_strdup("the records have no fields");
	}
	if (rc == 0) {
		json_t *reqs = json_array();
		size_t off = 0;
		for (size_t k = 0; reqs && k < m; k++) {
			pl_srv_item *it = g[k];
			json_array_append_new(reqs, json_pack("{s:s,s:s,s:s,s:s,s:s?,s:I,s:I,s:s}", "partition_id", it->pid,
							      "tenant_id", it->tenant, "job_id", it->job, "table", it->table,
							      "idempotency_key", it->key, "row_offset", (json_int_t)off,
							      "row_count", (json_int_t)it->nrec, "ingested_at", it->now));
			off += it->nrec;
		}
		json_t *extra = reqs ? json_pack("{s:s,s:o}", "batch", bid, "requests", reqs) : NULL;
		extra_text = extra ? json_dumps(extra, JSON_COMPACT) : NULL;
		json_decref(extra);
		rc = extra_text ? 0 : PLANAR_ENOMEM;
	}
	if (rc == 0) {
		t1 = now_ms();
		rc = planar_prepare(b->conn, sql.ptr, &st);
		t2 = now_ms();
		if (rc == 0)
			rc = planar_prepare(b->conn, "CALL " PL_SRV_LAKE ".set_commit_message($1, $2, extra_info => $3)", &cm);
		if (rc == 0)
			rc = planar_stmt_bind_text(cm, 1, PL_SRV_INGEST_AUTHOR, strlen(PL_SRV_INGEST_AUTHOR));
		if (rc == 0)
			rc = planar_stmt_bind_text(cm, 2, cmsg, strlen(cmsg));
		if (rc == 0)
			rc = planar_stmt_bind_text(cm, 3, extra_text, strlen(extra_text));
		if (rc == 0)
			rc = planar_stmt_execute(cm, &res);
		planar_result_free(res);
		res = NULL;
		t3 = now_ms();
		if (rc == 0)
			rc = planar_stmt_execute(st, &res);
		t4 = now_ms();
		planar_result_free(res);
		res = NULL;
		if (rc) {
			*msg = pl_strdup(planar_conn_errmsg(b->conn));
			drop_conn(b);
		}
	}
	planar_stmt_free(st);
	planar_stmt_free(cm);
	if (rc) {
		pl_err ignored;
		if (pending_written && pl_service_ingest_drop(b->db, pids, npend, &ignored) != 0)
			log_event("pending_drop_failed", ignored.msg, (int64_t)npend);
		goto out;
	}
	for (size_t k = 0; k < m; k++)
		g[k]->committed = true;
	/* 3. the snapshot is the one committed with this message (another session may commit too) */
	int64_t snap = -1;
	pl_rows *found = NULL;
	if (pl_service_ingest_find_commit(b->db, PL_SRV_INGEST_AUTHOR, cmsg, &found, &err) == 0 && found->nrows > 0)
		snap = pl_rows_int(found, 0, 0, -1);
	pl_rows_free(found);
	/* 4. answers, and in one catalog transaction the settled lineage rows, the tenants' usage
	 * rows and the requests' audit rows (an acknowledged request always has its audit row) */
	int64_t total = 0;
	size_t nsettle = 0, naudit = 0;
	pl_service_audit *audit = calloc(m, sizeof *audit);
	pl_req **audited = calloc(m, sizeof *audited);
	int64_t *usage = calloc(m, sizeof *usage);
	for (size_t k = 0; k < m; k++) {
		pl_srv_item *it = g[k];
		json_t *answer = json_pack("{s:s,s:I,s:I,s:s,s:s}", "partition_id", it->pid, "row_count",
					   (json_int_t)it->nrec, "snapshot_id", (json_int_t)snap, "table", it->table,
					   "job_id", it->job);
		free(texts[k]);
		texts[k] = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
		if (texts[k] && usage) {
			usage[nsettle] = it->bytes;
			rows[nsettle++] = (pl_service_ingest){it->pid, it->tenant, it->job, it->table, it->key,
							      it->now,  texts[k],  (int64_t)it->nrec, snap};
		} else if (snap >= 0) { /* no lineage row: the usage row alone */
			pl_srv_policy_written(b->s, it->tenant, it->table, it->pid, it->bytes, snap);
		}
		if (audit && audited && it->r && !it->r->audited) {
			audited[naudit] = it->r;
			pl_srv_audit_row(it->r, 201, (int64_t)it->nrec, &audit[naudit++]);
		}
		item_answer(it, answer);
		total += (int64_t)it->nrec;
	}
	double ts0 = now_ms();
	if (snap < 0 || pl_service_group_settle(b->db, rows, usage, nsettle, audit, naudit, &err) != 0) {
		log_event("lineage_write_failed", snap < 0 ? cmsg : err.msg, snap);
		for (size_t k = 0; k < naudit; k++) /* the audit rows go the way of every other request's */
			pl_srv_audit_push_row(b->s, &audit[k]);
		naudit = 0;
	}
	for (size_t k = 0; k < naudit; k++) {
		audited[k]->audited = true;
		pl_srv_audit_row_free(&audit[k]);
	}
	free(audit);
	free(audited);
	free(usage);
	double settle_ms = now_ms() - ts0;
	t5 = now_ms();
	if (getenv("PLANAR_SERVE_TRACE"))
		fprintf(stderr, "{\"event\":\"group_commit\",\"requests\":%zu,\"rows\":%lld,\"pending_ms\":%.2f,\"prepare_ms\":%.2f,\"bind_ms\":%.2f,\"insert_ms\":%.2f,\"find_ms\":%.2f,\"settle_ms\":%.2f,\"cpu_ms\":%.2f}\n",
			m, (long long)total, t1 - t0, t2 - t1, t3 - t2, t4 - t3, ts0 - t4, settle_ms, cpu_ms() - c0);
	(void)t5;
	if (total <= (int64_t)b->s->cfg.inline_rows && g[0]->spool_kind != 2)
		pl_srv_flush_note(b->s, g[0]->schema, g[0]->name, total);
out:
	for (size_t k = 0; texts && k < m; k++)
		free(texts[k]);
	free(texts);
	free(rows);
	free(pids);
	free(used);
	free(extra_text);
	pl_buf_dispose(&sql);
	return rc;
}

static void commit_group(pl_srv_batcher *b, pl_srv_item **g, size_t n)
{
	size_t m = 0;
	for (size_t k = 0; k < n; k++) {
		pl_srv_item *it = g[k];
		if (it->key) {
			bool unavailable = false;
			char *why = NULL;
			json_t *prev = pl_srv_replay_find(&b->s->lake, b->db, it->tenant, it->key, &unavailable, &why);
			if (unavailable) {
				item_fail(it, PL_SRV_UNAVAILABLE, "the catalog cannot be reached",
					  json_pack("{s:s}", "reason", why ? why : "?"));
				free(why);
				continue;
			}
			free(why);
			if (prev) {
				item_answer(it, prev);
				continue;
			}
		}
		g[m++] = it;
	}
	if (m == 0)
		return;
	int rc = 0;
	char *msg = NULL;
	for (int tries = 0; tries < COMMIT_TRIES; tries++) {
		free(msg);
		msg = NULL;
		rc = commit_once(b, g, m, &msg);
		if (rc != PLANAR_ECONFLICT && rc != PLANAR_EBUSY)
			break;
		struct timespec d = {0, (long)(tries + 1) * 2000000L};
		nanosleep(&d, NULL);
	}
	if (rc && m > 1) {
		/* one bad request must not fail the others: each alone */
		free(msg);
		for (size_t k = 0; k < m; k++)
			commit_group(b, &g[k], 1);
		return;
	}
	pl_srv_err fe;
	char *fmsg = NULL;
	json_t *fdetails = NULL;
	if (rc && pl_srv_rows_failure(g[0], &fe, &fmsg, &fdetails)) {
		/* a record of a body read as columns does not fit: answered as the checks before a
		 * commit answer it */
		item_fail(g[0], fe, fmsg, fdetails);
		free(fmsg);
	} else if (rc) {
		pl_srv_err e = pl_srv_err_of_planar(rc);
		if (e == PL_SRV_BAD_REQUEST || rc == PLANAR_EINVALID)
			e = PL_SRV_INVALID;
		item_fail(g[0], e, msg, NULL);
	}
	free(msg);
}

/* Commits everything in list: the requests of one table together (up to the inlining limit). */
static void run_round(pl_srv_batcher *b, pl_srv_item *list)
{
	size_t n = 0;
	for (pl_srv_item *it = list; it; it = it->next)
		n++;
	pl_srv_item **all = calloc(n, sizeof *all), **g = calloc(n, sizeof *g);
	bool *taken = calloc(n, sizeof *taken);
	if (!all || !g || !taken) {
		for (pl_srv_item *it = list, *next; it; it = next) {
			next = it->next;
			item_fail(it, PL_SRV_UNAVAILABLE, "out of memory", NULL);
			item_finish(b, it);
		}
		free(all);
		free(g);
		free(taken);
		return;
	}
	n = 0;
	for (pl_srv_item *it = list; it; it = it->next)
		all[n++] = it;
	/* a key seen earlier in this round waits for the next one (it will find the answer) */
	pl_srv_item *later = NULL, *last = NULL;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < i && !taken[i]; k++) {
			if (!taken[k] && same_key(all[i], all[k])) {
				taken[i] = true;
				all[i]->next = NULL;
				if (last)
					last->next = all[i];
				else
					later = all[i];
				last = all[i];
			}
		}
	}
	uint64_t limit = b->s->cfg.inline_rows ? b->s->cfg.inline_rows : 1;
	for (size_t i = 0; i < n; i++) {
		if (taken[i])
			continue;
		size_t m = 0;
		uint64_t rows = 0;
		for (size_t k = i; k < n; k++) {
			if (taken[k] || !same_table(all[i], all[k]))
				continue;
			if (m > 0 && (all[k]->spool_kind || g[0]->spool_kind))
				continue;
			if (m > 0 && rows + all[k]->nrec > limit)
				continue;
			g[m++] = all[k];
			rows += all[k]->nrec;
			taken[k] = true;
		}
		commit_group(b, g, m);
		for (size_t k = 0; k < m; k++)
			item_finish(b, g[k]);
	}
	if (later) {
		pthread_mutex_lock(&b->lock);
		last->next = b->head;
		if (!b->head)
			b->tail = last;
		b->head = later;
		for (pl_srv_item *it = later; it != last->next; it = it->next)
			b->nqueued++;
		pthread_mutex_unlock(&b->lock);
	}
	free(all);
	free(g);
	free(taken);
}

static void *committer(void *arg)
{
	pl_srv_batcher *b = arg;
	for (;;) {
		pthread_mutex_lock(&b->lock);
		while (!b->head && !b->stop)
			pthread_cond_wait(&b->cond, &b->lock);
		/* Busy (the last round took several requests): gather a little longer, until as many
		 * are queued as the last round took, at most a quarter of the last round's time and 2
		 * ms. Larger groups make fewer commits; an idle server commits at once. */
		if (b->last_round > 1 && b->nqueued < b->last_round && !b->stop) {
			double wait_ms = b->last_ms / 4 < 2.0 ? b->last_ms / 4 : 2.0;
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			long ns = until.tv_nsec + (long)(wait_ms * 1e6);
			until.tv_sec += ns / 1000000000L;
			until.tv_nsec = ns % 1000000000L;
			while (b->nqueued < b->last_round && !b->stop)
				if (pthread_cond_timedwait(&b->cond, &b->lock, &until) != 0)
					break;
		}
		pl_srv_item *list = b->head;
		size_t n = b->nqueued;
		b->head = b->tail = NULL;
		b->nqueued = 0;
		pthread_mutex_unlock(&b->lock);
		if (!list)
			break; /* stopped, nothing queued */
		double t0 = now_ms();
		run_round(b, list);
		b->last_round = n;
		b->last_ms = now_ms() - t0;
	}
	return NULL;
}

/* ---- the flusher ---- */

void pl_srv_flush_note(pl_srv *s, const char *schema, const char *table, int64_t rows)
{
	pl_srv_batcher *b = s->batch;
	if (!b || rows <= 0)
		return;
	pthread_mutex_lock(&b->flock);
	size_t i = 0;
	while (i < b->nft && !(strcmp(b->ft[i].schema, schema) == 0 && strcmp(b->ft[i].table, table) == 0))
		i++;
	if (i == b->nft && b->nft < MAX_FLUSH_TABLES) {
		b->ft[i].schema = pl_strdup(schema);
		b->ft[i].table = pl_strdup(table);
		b->ft[i].rows = 0;
		if (b->ft[i].schema && b->ft[i].table)
			b->nft++;
		else {
			free(b->ft[i].schema);
			free(b->ft[i].table);
		}
	}
	if (i < b->nft) {
		if (b->ft[i].rows == 0)
			clock_gettime(CLOCK_MONOTONIC, &b->ft[i].since);
		b->ft[i].rows += rows;
		if (s->cfg.flush_rows && (uint64_t)b->ft[i].rows >= s->cfg.flush_rows)
			pthread_cond_signal(&b->fcond);
	}
	pthread_mutex_unlock(&b->flock);
}

static int flush_table_now(pl_srv_batcher *b, const char *schema, const char *table, char **msg)
{
	int rc = 0;
	if (!b->fconn && (rc = pl_srv_conn_get(&b->s->lake, &b->fconn, msg)) != 0)
		return rc;
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "CALL ducklake_flush_inlined_data('" PL_SRV_LAKE "', schema_name => ");
	pl_buf_put_literal(&q, schema);
	pl_buf_puts(&q, ", table_name => ");
	pl_buf_put_literal(&q, table);
	pl_buf_putc(&q, ')');
	rc = pl_buf_oom(&q) ? PLANAR_ENOMEM : planar_conn_query(b->fconn, q.ptr, NULL);
	if (rc) {
		*msg = pl_strdup(planar_conn_errmsg(b->fconn));
		pl_srv_conn_put(&b->s->lake, b->fconn, false);
		b->fconn = NULL;
	}
	pl_buf_dispose(&q);
	return rc;
}

static void *flusher(void *arg)
{
	pl_srv_batcher *b = arg;
	const pl_srv_config *cfg = &b->s->cfg;
	pthread_mutex_lock(&b->flock);
	for (;;) {
		struct timespec now, until;
		clock_gettime(CLOCK_MONOTONIC, &now);
		size_t due = b->nft;
		for (size_t i = 0; i < b->nft && due == b->nft; i++) {
			flush_table *t = &b->ft[i];
			if (t->rows <= 0)
				continue;
			if ((b->fstop && cfg->flush_on_stop) || (cfg->flush_rows && (uint64_t)t->rows >= cfg->flush_rows) ||
			    (cfg->flush_rows && now.tv_sec - t->since.tv_sec >= (time_t)cfg->flush_secs))
				due = i;
		}
		if (due == b->nft) {
			if (b->fstop)
				break;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			pthread_cond_timedwait(&b->fcond, &b->flock, &until);
			continue;
		}
		char *schema = pl_strdup(b->ft[due].schema), *table = pl_strdup(b->ft[due].table);
		int64_t rows = b->ft[due].rows;
		b->ft[due].rows = 0;
		pthread_mutex_unlock(&b->flock);
		char *msg = NULL;
		double f0 = now_ms();
		int rc = schema && table ? flush_table_now(b, schema, table, &msg) : PLANAR_ENOMEM;
		log_event_ms(rc ? "flush_failed" : "flushed", rc ? msg : table, rows, now_ms() - f0);
		free(msg);
		pthread_mutex_lock(&b->flock);
		if (rc && !b->fstop) {
			/* tried again later (a conflict with a commit, or the catalog away) */
			if (b->ft[due].rows == 0)
				clock_gettime(CLOCK_MONOTONIC, &b->ft[due].since);
			b->ft[due].rows += rows;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			pthread_cond_timedwait(&b->fcond, &b->flock, &until);
		}
		free(schema);
		free(table);
	}
	pthread_mutex_unlock(&b->flock);
	return NULL;
}

int pl_srv_batch_start(pl_srv *s)
{
	pl_srv_batcher *b = calloc(1, sizeof *b);
	if (!b)
		return PLANAR_ENOMEM;
	b->s = s;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	pthread_cond_init(&b->done, NULL);
	pthread_mutex_init(&b->flock, NULL);
	pthread_cond_init(&b->fcond, NULL);
	s->batch = b;
	pl_err err;
	pl_err_clear(&err);
	if (pl_service_catalog_open(s->lake.db, PL_SRV_LAKE, &b->db, &err) != 0) {
		fprintf(stderr, "Error: %s\n", err.msg);
		return PLANAR_ECATALOG;
	}
	if (pthread_create(&b->thread, NULL, committer, b) != 0)
		return PLANAR_ERROR;
	b->started = true;
	if (pthread_create(&b->fthread, NULL, flusher, b) != 0)
		return PLANAR_ERROR;
	b->fstarted = true;
	return 0;
}

void pl_srv_batch_stop(pl_srv *s)
{
	pl_srv_batcher *b = s->batch;
	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	b->stop = true;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	if (b->started)
		pthread_join(b->thread, NULL);
	/* anything queued after the committer stopped */
	pthread_mutex_lock(&b->lock);
	pl_srv_item *list = b->head;
	b->head = b->tail = NULL;
	b->nqueued = 0;
	pthread_mutex_unlock(&b->lock);
	if (list && b->db)
		run_round(b, list);
	pthread_mutex_lock(&b->flock);
	b->fstop = true;
	pthread_cond_broadcast(&b->fcond);
	pthread_mutex_unlock(&b->flock);
	if (b->fstarted)
		pthread_join(b->fthread, NULL);
	for (size_t i = 0; i < b->nft; i++) {
		free(b->ft[i].schema);
		free(b->ft[i].table);
	}
	if (b->conn)
		pl_srv_conn_put(&s->lake, b->conn, true);
	if (b->fconn)
		pl_srv_conn_put(&s->lake, b->fconn, true);
	if (b->db)
		pl_catdb_close(b->db);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->cond);
	pthread_cond_destroy(&b->done);
	pthread_mutex_destroy(&b->flock);
	pthread_cond_destroy(&b->fcond);
	free(b);
	s->batch = NULL;
}

void pl_srv_batch_submit(pl_srv *s, pl_srv_item *it)
{
	MHD_suspend_connection(it->c);
	it->r->resume = pl_srv_batch_reply;
	it->r->resume_arg = it;
	enqueue(s->batch, it);
}

void pl_srv_batch_wait(pl_srv *s, pl_srv_item *it)
{
	pl_srv_batcher *b = s->batch;
	it->c = NULL;
	it->done = false;
	enqueue(b, it);
	pthread_mutex_lock(&b->lock);
	while (!it->done)
		pthread_cond_wait(&b->done, &b->lock);
	pthread_mutex_unlock(&b->lock);
}

enum MHD_Result pl_srv_batch_reply(struct MHD_Connection *c, pl_req *r)
{
	pl_srv_item *it = r->resume_arg;
	r->resume = NULL;
	r->resume_arg = NULL;
	enum MHD_Result ret;
	json_t *reply = it->reply;
	it->reply = NULL;
	if (it->errmsg) {
		ret = pl_srv_reply_error(c, r, it->err, it->errmsg, reply);
	} else {
		r->rows = (int64_t)it->nrec;
		ret = pl_srv_reply_json(c, r, it->status, reply);
	}
	pl_srv_item_free(it);
	return ret;
}
