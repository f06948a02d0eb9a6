/*
 * audit.c -- the audit log: every authenticated (or refused) request becomes a row of
 * planar_service_audit. Rows are buffered and written by a background thread in one catalog
 * transaction every audit_flush_ms (or when 256 are waiting), and once more at shutdown, so a
 * request never waits for the audit write. A failed flush is logged on stderr with its row count.
 * A crash (kill -9) loses the rows still buffered, at most audit_flush_ms of requests, except
 * for group-committed ingests: their rows are written by the committer in the catalog
 * transaction that settles the group (batcher.c), before the 201 is sent, so an acknowledged
 * ingest always has its audit row (marked r->audited; its status is the 201 it is answered).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ids.h"
#include "core/str.h"
#include "server/internal.h"

static void row_free(pl_service_audit *a)
{
	free((char *)a->request_id);
	free((char *)a->at);
	free((char *)a->token_id);
	free((char *)a->tenant_id);
	free((char *)a->method);
	free((char *)a->route);
	free((char *)a->target);
}

static void flush_rows(pl_srv *s, pl_service_audit *rows, size_t n)
{
	pl_err err;
	pl_err_clear(&err);
	int rc = pl_service_audit_append(s->lake.audit_svc, rows, n, &err); /* only this thread uses it */
	if (rc)
		fprintf(stderr, "{\"event\":\"audit_flush_failed\",\"rows\":%zu,\"reason\":\"%s\"}\n", n,
			"catalog write failed");
}

static void *flusher(void *arg)
{
	pl_srv *s = arg;
	pl_srv_audit_buf *b = &s->audit;
	pthread_mutex_lock(&b->lock);
	for (;;) {
		if (b->n == 0 && b->stop)
			break;
		if (b->n < 256 && !b->stop) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += (long)(s->cfg.audit_flush_ms % 1000) * 1000000L;
			ts.tv_sec += s->cfg.audit_flush_ms / 1000 + ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&b->cond, &b->lock, &ts);
		}
		if (b->n == 0)
			continue;
		pl_service_audit *rows = b->rows;
		size_t n = b->n;
		b->rows = NULL;
		b->n = b->cap = 0;
		pthread_mutex_unlock(&b->lock);
		flush_rows(s, rows, n);
		for (size_t i = 0; i < n; i++)
			row_free(&rows[i]);
		free(rows);
		pthread_mutex_lock(&b->lock);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

int pl_srv_audit_start(pl_srv *s)
{
	pl_srv_audit_buf *b = &s->audit;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	if (pthread_create(&b->thread, NULL, flusher, s) != 0)
		return PLANAR_ERROR;
	b->started = true;
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? pl_strdup(s) : NULL;
}

void pl_srv_audit_row(const pl_req *r, int status, int64_t rows, pl_service_audit *out)
{
	char now[32];
	pl_now_timestamptz(now);
	struct timespec end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	*out = (pl_service_audit){
		.request_id = pl_strdup(r->id),
		.at = pl_strdup(now),
		.token_id = dup_or_null(r->token_id),
		.tenant_id = dup_or_null(r->tenant_id),
		.method = pl_strdup(r->method),
		.route = pl_strdup(r->route ? r->route : "?"),
		.target = dup_or_null(r->target),
		.status = status,
		.rows = rows,
		.duration_ms = (end.tv_sec - r->start.tv_sec) * 1000 + (end.tv_nsec - r->start.tv_nsec) / 1000000,
	};
}

void pl_srv_audit_row_free(pl_service_audit *a)
{
	row_free(a);
}

void pl_srv_audit_push_row(pl_srv *s, pl_service_audit *a)
{
	pl_srv_audit_buf *b = &s->audit;
	pthread_mutex_lock(&b->lock);
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		pl_service_audit *p = realloc(b->rows, cap * sizeof *p);
		if (p) {
			b->rows = p;
			b->cap = cap;
		}
	}
	if (b->n < b->cap) {
		b->rows[b->n++] = *a;
		if (b->n >= 256)
			pthread_cond_signal(&b->cond);
	} else {
		fprintf(stderr, "{\"event\":\"audit_row_dropped\",\"request_id\":\"%s\",\"reason\":\"out of memory\"}\n",
			a->request_id ? a->request_id : "?");
		row_free(a);
	}
	pthread_mutex_unlock(&b->lock);
	memset(a, 0, sizeof *a);
}

void pl_srv_audit_push(pl_srv *s, const pl_req *r)
{
	if (r->audited) /* written with its group commit (batcher.c) */
		return;
	pl_service_audit a;
	pl_srv_audit_row(r, r->status, r->rows, &a);
	pl_srv_audit_push_row(s, &a);
}

void pl_srv_audit_stop(pl_srv *s)
{
	pl_srv_audit_buf *b = &s->audit;
	if (!b->started)
		return;
	pthread_mutex_lock(&b->lock);
	b->stop = true;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
	pthread_join(b->thread, NULL);
	b->started = false;
}
