/*
 * lake.c -- the service's lake: one planar_db with the lake attached as `lake`, a pool of
 * sessions whose current database is the lake, and a catalog connection for the service tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "server/internal.h"
#include "server/policy.h"
#include "server/mcp.h"
#include "sql/service.h"

static char *dup_msg(const char *m)
{
	char *s = pl_strdup(m ? m : "out of memory");
	return s;
}

static int lake_open(pl_srv_lake *l, const char *uri, const char *data_path, bool read_only, unsigned inline_rows,
		     char **errmsg);

int pl_srv_lake_open(pl_srv_lake *l, const char *uri, const char *data_path, unsigned inline_rows, char **errmsg)
{
	return lake_open(l, uri, data_path, false, inline_rows, errmsg);
}

int pl_srv_lake_open_mode(pl_srv_lake *l, const char *uri, const char *data_path, bool read_only, char **errmsg)
{
	return lake_open(l, uri, data_path, read_only, 0, errmsg);
}

static int lake_open(pl_srv_lake *l, const char *uri, const char *data_path, bool read_only, unsigned inline_rows,
		     char **errmsg)
{
	memset(l, 0, sizeof *l);
	pthread_mutex_init(&l->pool_lock, NULL);
	pthread_mutex_init(&l->svc_lock, NULL);
	pthread_mutex_init(&l->ingest_lock, NULL);
	pthread_mutex_init(&l->asof_lock, NULL);
	pthread_mutex_init(&l->tables_lock, NULL);
	pthread_mutex_init(&l->cols_lock, NULL);
	l->uri = pl_strdup(uri);
	l->data_path = data_path ? pl_strdup(data_path) : NULL;
	int rc = planar_db_open(&l->db, NULL, errmsg);
	if (rc)
		return rc;
	pl_err rerr;
	pl_err_clear(&rerr);
	if (pl_service_rows_enable(l->db, &rerr) != 0) { /* bulk JSON bodies read as columns */
		if (errmsg)
			*errmsg = pl_strdup(rerr.msg);
		return PLANAR_ERROR;
	}
	planar_conn *c = NULL;
	rc = planar_conn_open(&c, l->db, errmsg);
	if (rc)
		return rc;
	pl_buf q = PL_BUF_INIT, target = PL_BUF_INIT;
	if (strncmp(uri, "ducklake:", 9) != 0)
		pl_buf_puts(&target, "ducklake:");
	pl_buf_puts(&target, uri);
	pl_buf_puts(&q, "ATTACH ");
	pl_buf_put_literal(&q, pl_buf_cstr(&target));
	pl_buf_puts(&q, " AS " PL_SRV_LAKE);
	if (data_path || read_only || inline_rows) {
		const char *sep = " (";
		if (read_only) {
			pl_buf_puts(&q, " (READ_ONLY");
			sep = ", ";
		}
		if (data_path) {
			pl_buf_puts(&q, sep);
			pl_buf_puts(&q, "DATA_PATH ");
			pl_buf_put_literal(&q, data_path);
			sep = ", ";
		}
		if (inline_rows) {
			pl_buf_puts(&q, sep);
			pl_buf_printf(&q, "DATA_INLINING_ROW_LIMIT %u", inline_rows);
		}
		pl_buf_puts(&q, ")");
	}
	if (pl_buf_oom(&q) || pl_buf_oom(&target)) {
		rc = PLANAR_ENOMEM;
		*errmsg = dup_msg(NULL);
	} else {
		rc = planar_conn_query(c, q.ptr, NULL);
		if (rc)
			*errmsg = dup_msg(planar_conn_errmsg(c));
	}
	pl_buf_dispose(&q);
	pl_buf_dispose(&target);
	planar_conn_free(c);
	if (rc)
		return rc;
	pl_err err;
	pl_err_clear(&err);
	rc = pl_service_catalog_open(l->db, PL_SRV_LAKE, &l->svc, &err);
	if (rc == 0 && !read_only)
		rc = pl_service_init(l->svc, &err);
	if (rc == 0)
		rc = pl_service_catalog_open(l->db, PL_SRV_LAKE, &l->audit_svc, &err);
	if (rc)
		*errmsg = dup_msg(err.msg);
	return rc;
}

void pl_srv_lake_close(pl_srv_lake *l)
{
	for (size_t i = 0; i < l->npool; i++)
		planar_conn_free(l->pool[i]);
	free(l->pool);
	l->pool = NULL;
	l->npool = l->cappool = 0;
	if (l->svc)
		pl_catdb_close(l->svc);
	if (l->audit_svc)
		pl_catdb_close(l->audit_svc);
	l->svc = l->audit_svc = NULL;
	planar_db_free(l->db);
	l->db = NULL;
	pl_srv_sandbox_dispose(l);
	pl_srv_ingest_dispose(l);
	pl_srv_auth_dispose(l);
	pl_srv_policy_dispose(l);
	free(l->uri);
	free(l->data_path);
	l->uri = l->data_path = NULL;
}

int pl_srv_lake_at(pl_srv_lake *l, int64_t id, char *db_out, char **errmsg)
{
	snprintf(db_out, 64, PL_SRV_LAKE "_at_%lld", (long long)id);
	pthread_mutex_lock(&l->asof_lock);
	for (size_t i = 0; i < l->nasof; i++) {
		if (l->asof[i] == id) {
			l->asof_refs[i]++;
			pthread_mutex_unlock(&l->asof_lock);
			return 0;
		}
	}
	int rc = 0;
	planar_conn *c = NULL;
	if (l->nasof == PL_SRV_MAX_ASOF) { /* make room: detach one no session uses */
		size_t k = 0;
		while (k < l->nasof && l->asof_refs[k] > 0)
			k++;
		char old[64];
		snprintf(old, sizeof old, "DETACH " PL_SRV_LAKE "_at_%lld", (long long)(k < l->nasof ? l->asof[k] : 0));
		if (k == l->nasof) {
			*errmsg = pl_strdup("too many different as_of snapshots are in use at once; retry later");
			rc = PLANAR_EBUSY;
		} else if ((rc = planar_conn_open(&c, l->db, errmsg)) != 0) {
			rc = PLANAR_EBUSY;
		} else if (planar_conn_query(c, old, NULL) != 0) {
			*errmsg = dup_msg(planar_conn_errmsg(c));
			rc = PLANAR_EBUSY;
		} else {
			l->asof[k] = l->asof[l->nasof - 1];
			l->asof_refs[k] = l->asof_refs[l->nasof - 1];
			l->nasof--;
		}
		planar_conn_free(c);
		c = NULL;
	}
	if (rc == 0)
		rc = planar_conn_open(&c, l->db, errmsg);
	pl_buf q = PL_BUF_INIT, target = PL_BUF_INIT;
	if (rc == 0) {
		if (strncmp(l->uri, "ducklake:", 9) != 0)
			pl_buf_puts(&target, "ducklake:");
		pl_buf_puts(&target, l->uri);
		pl_buf_puts(&q, "ATTACH IF NOT EXISTS ");
		pl_buf_put_literal(&q, pl_buf_cstr(&target));
		pl_buf_printf(&q, " AS %s (READ_ONLY, SNAPSHOT_VERSION %lld", db_out, (long long)id);
		if (l->data_path) {
			pl_buf_puts(&q, ", DATA_PATH ");
			pl_buf_put_literal(&q, l->data_path);
		}
		pl_buf_putc(&q, ')');
		if (pl_buf_oom(&q) || pl_buf_oom(&target)) {
			rc = PLANAR_ENOMEM;
			*errmsg = dup_msg(NULL);
		} else if ((rc = planar_conn_query(c, q.ptr, NULL)) != 0) {
			*errmsg = dup_msg(planar_conn_errmsg(c));
		}
	}
	if (rc == 0) {
		l->asof_refs[l->nasof] = 1;
		l->asof[l->nasof++] = id;
	}
	pthread_mutex_unlock(&l->asof_lock);
	pl_buf_dispose(&q);
	pl_buf_dispose(&target);
	planar_conn_free(c);
	return rc;
}

int pl_srv_conn_get(pl_srv_lake *l, planar_conn **out, char **errmsg)
{
	*out = NULL;
	pthread_mutex_lock(&l->pool_lock);
	if (l->npool > 0)
		*out = l->pool[--l->npool];
	pthread_mutex_unlock(&l->pool_lock);
	if (*out)
		return 0;
	planar_conn *c = NULL;
	int rc = planar_conn_open(&c, l->db, errmsg);
	if (rc)
		return rc;
	rc = planar_conn_query(c, "USE " PL_SRV_LAKE, NULL);
	if (rc) {
		*errmsg = dup_msg(planar_conn_errmsg(c));
		planar_conn_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void pl_srv_conn_put(pl_srv_lake *l, planar_conn *c, bool ok)
{
	if (!c)
		return;
	if (ok) {
		pthread_mutex_lock(&l->pool_lock);
		if (l->npool == l->cappool) {
			size_t cap = l->cappool ? l->cappool * 2 : 16;
			planar_conn **p = realloc(l->pool, cap * sizeof *p);
			if (p) {
				l->pool = p;
				l->cappool = cap;
			}
		}
		if (l->npool < l->cappool) {
			l->pool[l->npool++] = c;
			c = NULL;
		}
		pthread_mutex_unlock(&l->pool_lock);
	}
	planar_conn_free(c);
}

void pl_srv_lake_at_done(pl_srv_lake *l, int64_t id)
{
	pthread_mutex_lock(&l->asof_lock);
	for (size_t i = 0; i < l->nasof; i++)
		if (l->asof[i] == id && l->asof_refs[i] > 0)
			l->asof_refs[i]--;
	pthread_mutex_unlock(&l->asof_lock);
}

int pl_srv_query_texts(planar_conn *conn, const char *sql, const char *const *args, size_t n, planar_result **res)
{
	planar_stmt *st = NULL;
	*res = NULL;
	int rc = planar_prepare(conn, sql, &st);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = args[i] ? planar_stmt_bind_text(st, i + 1, args[i], strlen(args[i])) : planar_stmt_bind_null(st, i + 1);
	if (rc == 0)
		rc = planar_stmt_execute(st, res);
	planar_stmt_free(st);
	return rc;
}

int64_t pl_srv_last_committed(planar_conn *conn)
{
	planar_result *res = NULL;
	int64_t id = -1;
	if (planar_conn_query(conn, "SELECT id FROM " PL_SRV_LAKE ".last_committed_snapshot()", &res) == 0) {
		char *v = planar_result_value_string(res, 0, 0);
		id = v ? strtoll(v, NULL, 10) : -1;
		planar_free(v);
	}
	planar_result_free(res);
	return id;
}
