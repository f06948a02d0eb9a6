/*
 * retention.c -- removing what a tenant's retention_days no longer keeps: for every tenant with
 * a retention, the rows of its ingests older than the retention (by the ingest's time in the
 * lineage table; a request's rows are the row ids its lake snapshot inserted, and only the
 * tenant's rows when the table has a tenant_id column) are deleted in one lake commit
 * ("retention <tenant>"); then every snapshot from the oldest such ingest up to the one before
 * that commit is expired (each of them could still show the rows), and the files no snapshot
 * references any more are deleted. Passes run on a background thread every
 * --retention-interval seconds, and once on POST /data/retention (admin); one at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/policy.h"
#include "core/ids.h"
#include "core/str.h"
#include "server/policy.h"

struct pl_srv_retention {
	pthread_mutex_t lock; /* one pass at a time; guards stop */
	pthread_cond_t cond;
	pthread_t thread;
	bool started, stop;
};

static int run_sql(planar_conn *conn, const char *sql, char **errmsg)
{
	int rc = planar_conn_query(conn, sql, NULL);
	if (rc && !*errmsg)
		*errmsg = pl_strdup(planar_conn_errmsg(conn));
	return rc;
}

/* The first and last row id snapshot snap inserted into schema.table; false when none (the
 * lake's change feed function, which takes literal arguments). */
static bool inserted_range(planar_conn *conn, const char *schema, const char *table, int64_t snap, int64_t *lo,
			   int64_t *hi)
{
	pl_buf q = PL_BUF_INIT;
	planar_result *res = NULL;
	bool found = false;
	pl_buf_puts(&q, "SELECT min(rowid), max(rowid) FROM "
			"ducklake_table_insertions('" PL_SRV_LAKE "', ");
	pl_buf_put_literal(&q, schema);
	pl_buf_puts(&q, ", ");
	pl_buf_put_literal(&q, table);
	pl_buf_printf(&q, ", %lld, %lld)", (long long)snap, (long long)snap);
	int rc = pl_buf_oom(&q) ? PLANAR_ENOMEM : planar_conn_query(conn, q.ptr, &res);
	if (rc == 0 && planar_result_row_count(res) > 0) {
		char *a = planar_result_value_string(res, 0, 0), *b = planar_result_value_string(res, 1, 0);
		if (a && b) {
			*lo = strtoll(a, NULL, 10);
			*hi = strtoll(b, NULL, 10);
			found = true;
		}
		planar_free(a);
		planar_free(b);
	}
	planar_result_free(res);
	pl_buf_dispose(&q);
	return found;
}

static bool has_tenant_column(planar_conn *conn, const char *schema, const char *table)
{
	planar_result *res = NULL;
	bool yes = false;
	const char *args[] = {schema, table};
	if (pl_srv_query_texts(conn,
			       "SELECT count(*) FROM duckdb_columns() WHERE database_name = '" PL_SRV_LAKE
			       "' AND schema_name = $1 AND table_name = $2 AND column_name = 'tenant_id'",
			       args, 2, &res) == 0) {
		char *v = planar_result_value_string(res, 0, 0);
		yes = v && strcmp(v, "0") != 0;
		planar_free(v);
	}
	planar_result_free(res);
	return yes;
}

/* The ISO text (as the lineage table stores it) of now minus days. */
static void cutoff_text(int64_t days, char out[32])
{
	time_t now = time(NULL) - (time_t)days * 86400;
	struct tm tm;
	gmtime_r(&now, &tm);
	char date[24];
	strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out, 32, "%.19s.000000+00", date);
}

static int tenant_pass(pl_srv *s, planar_conn *conn, const char *tenant, int64_t days, pl_srv_retention_stats *st,
		       char **errmsg)
{
	pl_srv_lake *l = &s->lake;
	char before[32];
	cutoff_text(days, before);
	pl_rows *old = NULL;
	pl_err err;
	pl_err_clear(&err);
	pthread_mutex_lock(&l->svc_lock);
	int rc = pl_policy_expired_ingests(l->svc, tenant, before, &old, &err);
	pthread_mutex_unlock(&l->svc_lock);
	if (rc) {
		*errmsg = pl_strdup(err.msg);
		return rc;
	}
	if (old->nrows == 0) {
		pl_rows_free(old);
		return 0;
	}
	/* one commit deletes the rows of every expired ingest of the tenant */
	pl_buf q = PL_BUF_INIT;
	int64_t first_snap = -1, deleted = 0;
	rc = run_sql(conn, "BEGIN TRANSACTION", errmsg);
	for (size_t i = 0; rc == 0 && i < old->nrows; i++) {
		const char *table = pl_rows_get(old, i, 1);
		int64_t snap = pl_rows_int(old, i, 2, -1);
		if (!table)
			continue;
		if (first_snap < 0 || snap < first_snap)
			first_snap = snap;
		const char *dot = strchr(table, '.');
		char *schema = dot ? pl_strndup(table, (size_t)(dot - table)) : pl_strdup("main");
		const char *name = dot ? dot + 1 : table;
		int64_t lo = 0, hi = -1;
		if (schema && inserted_range(conn, schema, name, snap, &lo, &hi)) {
			planar_stmt *del = NULL;
			planar_result *res = NULL;
			bool tcol = has_tenant_column(conn, schema, name);
			pl_buf_truncate(&q, 0);
			pl_buf_puts(&q, "DELETE FROM " PL_SRV_LAKE ".");
			pl_buf_put_ident(&q, schema);
			pl_buf_putc(&q, '.');
			pl_buf_put_ident(&q, name);
			pl_buf_puts(&q, " WHERE rowid BETWEEN $1 AND $2");
			if (tcol)
				pl_buf_puts(&q, " AND tenant_id = $3");
			rc = pl_buf_oom(&q) ? PLANAR_ENOMEM : planar_prepare(conn, q.ptr, &del);
			if (rc == 0)
				rc = planar_stmt_bind_int64(del, 1, lo);
			if (rc == 0)
				rc = planar_stmt_bind_int64(del, 2, hi);
			if (rc == 0 && tcol)
				rc = planar_stmt_bind_text(del, 3, tenant, strlen(tenant));
			if (rc == 0)
				rc = planar_stmt_execute(del, &res);
			if (rc == 0) {
				char *n = planar_result_value_string(res, 0, 0);
				deleted += n ? strtoll(n, NULL, 10) : 0;
				planar_free(n);
			} else if (!*errmsg) {
				*errmsg = pl_strdup(planar_conn_errmsg(conn));
			}
			planar_result_free(res);
			planar_stmt_free(del);
		}
		free(schema);
	}
	if (rc == 0) {
		planar_stmt *cm = NULL;
		char msg[300];
		snprintf(msg, sizeof msg, "retention %.200s", tenant);
		rc = planar_prepare(conn, "CALL " PL_SRV_LAKE ".set_commit_message('planar serve', $1)", &cm);
		if (rc == 0)
			rc = planar_stmt_bind_text(cm, 1, msg, strlen(msg));
		if (rc == 0)
			rc = planar_stmt_execute(cm, NULL);
		planar_stmt_free(cm);
		if (rc && !*errmsg)
			*errmsg = pl_strdup(planar_conn_errmsg(conn));
	}
	if (rc == 0)
		rc = run_sql(conn, "COMMIT", errmsg);
	if (rc) {
		planar_conn_query(conn, "ROLLBACK", NULL);
		pl_rows_free(old);
		pl_buf_dispose(&q);
		return rc;
	}
	int64_t del_snap = deleted > 0 ? pl_srv_last_committed(conn) : -1;
	char now[32];
	pl_now_timestamptz(now);
	pthread_mutex_lock(&l->svc_lock);
	for (size_t i = 0; rc == 0 && i < old->nrows; i++)
		rc = pl_policy_retire(l->svc, pl_rows_get(old, i, 0), tenant, pl_rows_get(old, i, 1), pl_rows_int(old, i, 2, -1),
				      del_snap, now, &err);
	pl_rows *snaps = NULL;
	if (rc == 0 && del_snap > 0 && first_snap >= 0)
		rc = pl_policy_snapshots_between(l->svc, first_snap, del_snap - 1, &snaps, &err);
	pthread_mutex_unlock(&l->svc_lock);
	if (rc && !*errmsg)
		*errmsg = pl_strdup(err.msg);
	st->tenants++;
	st->ingests += (int64_t)old->nrows;
	st->rows += deleted;
	/* expire the snapshots that could still show the rows */
	if (rc == 0 && snaps && snaps->nrows > 0) {
		pl_buf_truncate(&q, 0);
		pl_buf_puts(&q, "CALL ducklake_expire_snapshots('" PL_SRV_LAKE "', versions => [");
		for (size_t i = 0; i < snaps->nrows; i++)
			pl_buf_printf(&q, "%s%lld", i ? ", " : "", (long long)pl_rows_int(snaps, i, 0, 0));
		pl_buf_puts(&q, "])");
		planar_result *res = NULL;
		rc = pl_buf_oom(&q) ? PLANAR_ENOMEM : planar_conn_query(conn, q.ptr, &res);
		if (rc == 0)
			st->snapshots_expired += (int64_t)planar_result_row_count(res);
		else if (!*errmsg)
			*errmsg = pl_strdup(planar_conn_errmsg(conn));
		planar_result_free(res);
	}
	pl_rows_free(snaps);
	pl_rows_free(old);
	pl_buf_dispose(&q);
	return rc;
}

static int pass_locked(pl_srv *s, pl_srv_retention_stats *st, char **errmsg)
{
	memset(st, 0, sizeof *st);
	pl_srv_lake *l = &s->lake;
	pl_rows *pols = NULL;
	pl_err err;
	pl_err_clear(&err);
	pthread_mutex_lock(&l->svc_lock);
	int rc = pl_policy_with_retention(l->svc, &pols, &err);
	pthread_mutex_unlock(&l->svc_lock);
	if (rc) {
		*errmsg = pl_strdup(err.msg);
		return rc;
	}
	planar_conn *conn = NULL;
	rc = pols->nrows ? pl_srv_conn_get(l, &conn, errmsg) : 0;
	for (size_t i = 0; rc == 0 && i < pols->nrows; i++)
		rc = tenant_pass(s, conn, pl_rows_get(pols, i, 0), pl_rows_int(pols, i, 1, 0), st, errmsg);
	if (rc == 0 && st->rows > 0) {
		planar_result *res = NULL;
		rc = planar_conn_query(conn, "CALL ducklake_cleanup_old_files('" PL_SRV_LAKE "', cleanup_all => true)", &res);
		if (rc == 0)
			st->files_deleted = (int64_t)planar_result_row_count(res);
		else
			*errmsg = pl_strdup(planar_conn_errmsg(conn));
		planar_result_free(res);
	}
	pl_srv_conn_put(l, conn, rc == 0);
	pl_rows_free(pols);
	return rc;
}

static void log_pass(const pl_srv_retention_stats *st, int rc, const char *msg)
{
	json_t *o = json_pack("{s:s,s:b,s:I,s:I,s:I,s:I,s:I}", "event", "retention", "ok", rc == 0, "tenants",
			      (json_int_t)st->tenants, "ingests", (json_int_t)st->ingests, "rows", (json_int_t)st->rows,
			      "snapshots_expired", (json_int_t)st->snapshots_expired, "files_deleted",
			      (json_int_t)st->files_deleted);
	if (o && rc)
		json_object_set_new(o, "error", json_string(msg ? msg : "unknown error"));
	char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (t)
		fprintf(stderr, "%s\n", t);
	free(t);
	json_decref(o);
}

int pl_srv_retention_run(pl_srv *s, pl_srv_retention_stats *st, char **errmsg)
{
	*errmsg = NULL;
	struct pl_srv_retention *r = s->retention;
	if (r)
		pthread_mutex_lock(&r->lock);
	int rc = pass_locked(s, st, errmsg);
	if (r)
		pthread_mutex_unlock(&r->lock);
	log_pass(st, rc, *errmsg);
	return rc;
}

static void *retention_main(void *arg)
{
	pl_srv *s = arg;
	struct pl_srv_retention *r = s->retention;
	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)s->cfg.retention_interval_s;
		while (!r->stop && pthread_cond_timedwait(&r->cond, &r->lock, &until) == 0)
			;
		if (r->stop)
			break;
		pl_srv_retention_stats st;
		char *msg = NULL;
		int rc = pass_locked(s, &st, &msg);
		log_pass(&st, rc, msg);
		free(msg);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int pl_srv_retention_start(pl_srv *s);
void pl_srv_retention_stop(pl_srv *s);

int pl_srv_retention_start(pl_srv *s)
{
	struct pl_srv_retention *r = calloc(1, sizeof *r);
	if (!r)
		return PLANAR_ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	s->retention = r;
	if (s->cfg.retention_interval_s == 0)
		return 0;
	if (pthread_create(&r->thread, NULL, retention_main, s) != 0)
		return PLANAR_ENOMEM;
	r->started = true;
	return 0;
}

void pl_srv_retention_stop(pl_srv *s)
{
	struct pl_srv_retention *r = s->retention;
	if (!r)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->lock);
		r->stop = true;
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
	s->retention = NULL;
}

enum MHD_Result pl_srv_route_retention(struct MHD_Connection *c, pl_req *r)
{
	if (!r->role || strcmp(r->role, "admin") != 0)
		return pl_srv_reply_error(c, r, PL_SRV_FORBIDDEN, "only an admin token may run retention", NULL);
	pl_srv_retention_stats st;
	char *msg = NULL;
	int rc = pl_srv_retention_run(r->srv, &st, &msg);
	enum MHD_Result ret;
	if (rc)
		ret = pl_srv_reply_error(c, r, pl_srv_err_of_planar(rc) == PL_SRV_CONFLICT ? PL_SRV_CONFLICT : PL_SRV_UNAVAILABLE,
					 msg ? msg : "the retention pass failed", NULL);
	else
		ret = pl_srv_reply_json(c, r, 200,
					json_pack("{s:I,s:I,s:I,s:I,s:I}", "tenants", (json_int_t)st.tenants, "ingests",
						  (json_int_t)st.ingests, "rows_deleted", (json_int_t)st.rows,
						  "snapshots_expired", (json_int_t)st.snapshots_expired, "files_deleted",
						  (json_int_t)st.files_deleted));
	r->rows = st.rows;
	free(msg);
	return ret;
}
