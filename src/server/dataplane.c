/*
 * dataplane.c -- the data-plane tables `planar serve` creates in the lake when they are missing
 * (one lake transaction; two servers starting at once on one lake: the one that loses the
 * commit race looks again and finds them), and the policy tables in its catalog.
 *
 *   event_log.ros_navigation_trials  one Nav2 navigation trial      (partitioned by day(started_at))
 *   event_log.object_detections      one detection of a frame       (partitioned by day(detected_at))
 *   event_log.agent_traces           one span of an agent's work    (partitioned by day(started_at))
 *   world_model.snapshots            WorldModelSnapshot at a decision point, pinned to the lake
 *                                    snapshot current when it was stored (partitioned by day)
 *   main.experiments                 the experiment registry
 *   main.simulation_runs             one simulator run
 *   main.job_outcomes                one finished job of the user plane
 * Every table has tenant_id; timestamps are TIMESTAMPTZ, free-form documents JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/policy.h"
#include "core/str.h"
#include "server/policy.h"

static const struct dp_table {
	const char *schema, *name, *columns, *partition;
} dp_tables[] = {
	{"event_log", "ros_navigation_trials",
	 "trial_id VARCHAR NOT NULL, tenant_id VARCHAR, job_id VARCHAR, intent_id VARCHAR, robot_id VARCHAR, "
	 "map_name VARCHAR, goal_x DOUBLE, goal_y DOUBLE, goal_yaw DOUBLE, outcome VARCHAR, duration_s DOUBLE, "
	 "path_length_m DOUBLE, recoveries INTEGER, started_at TIMESTAMPTZ, ended_at TIMESTAMPTZ, metadata JSON",
	 "day(started_at)"},
	{"event_log", "object_detections",
	 "detection_id VARCHAR NOT NULL, tenant_id VARCHAR, job_id VARCHAR, robot_id VARCHAR, frame_id VARCHAR, "
	 "camera VARCHAR, model VARCHAR, class_name VARCHAR, confidence DOUBLE, bbox_x1 DOUBLE, bbox_y1 DOUBLE, "
	 "bbox_x2 DOUBLE, bbox_y2 DOUBLE, detected_at TIMESTAMPTZ, metadata JSON",
	 "day(detected_at)"},
	{"event_log", "agent_traces",
	 "trace_id VARCHAR NOT NULL, span_id VARCHAR, parent_span_id VARCHAR, tenant_id VARCHAR, intent_id VARCHAR, "
	 "job_id VARCHAR, agent_role VARCHAR, event VARCHAR, tool_name VARCHAR, status VARCHAR, input JSON, "
	 "output JSON, started_at TIMESTAMPTZ, duration_ms DOUBLE",
	 "day(started_at)"},
	{"world_model", "snapshots",
	 "snapshot_id VARCHAR, tenant_id VARCHAR, intent_id VARCHAR, \"timestamp\" TIMESTAMPTZ, agents_active JSON, "
	 "user_plane JSON, causal_chain JSON, lake_snapshot_id BIGINT",
	 "day(\"timestamp\")"},
	{"main", "experiments",
	 "id VARCHAR NOT NULL, tenant_id VARCHAR, project VARCHAR, description VARCHAR, created_at TIMESTAMPTZ, "
	 "config JSON",
	 NULL},
	{"main", "simulation_runs",
	 "run_id VARCHAR NOT NULL, tenant_id VARCHAR, experiment_id VARCHAR, simulator VARCHAR, s3_prefix VARCHAR, "
	 "status VARCHAR, config JSON, started_at TIMESTAMPTZ, completed_at TIMESTAMPTZ",
	 NULL},
	{"main", "job_outcomes",
	 "job_id VARCHAR NOT NULL, tenant_id VARCHAR, intent_id VARCHAR, cluster VARCHAR, kind VARCHAR, "
	 "status VARCHAR, summary VARCHAR, outcome VARCHAR, wandb_run_id VARCHAR, started_at TIMESTAMPTZ, "
	 "completed_at TIMESTAMPTZ, metadata JSON",
	 NULL},
};
#define NDP (sizeof dp_tables / sizeof dp_tables[0])

/* Which data-plane tables the lake lacks (missing[i]); *n their count. */
static int find_missing(planar_conn *conn, bool missing[NDP], size_t *n, char **errmsg)
{
	planar_result *res = NULL;
	int rc = planar_conn_query(conn,
				   "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = '" PL_SRV_LAKE "'",
				   &res);
	if (rc) {
		*errmsg = pl_strdup(planar_conn_errmsg(conn));
		return rc;
	}
	*n = 0;
	for (size_t i = 0; i < NDP; i++) {
		missing[i] = true;
		for (uint64_t k = 0; k < planar_result_row_count(res); k++) {
			char *s = planar_result_value_string(res, 0, k), *t = planar_result_value_string(res, 1, k);
			if (s && t && strcmp(s, dp_tables[i].schema) == 0 && strcmp(t, dp_tables[i].name) == 0)
				missing[i] = false;
			planar_free(s);
			planar_free(t);
		}
		*n += missing[i];
	}
	planar_result_free(res);
	return 0;
}

/* Creates, in one transaction, the tables that transaction's snapshot lacks (another server may
 * have created them since the caller looked); *created: how many. */
static int create_missing(planar_conn *conn, bool missing[NDP], size_t *created, char **errmsg)
{
	pl_buf q = PL_BUF_INIT;
	*created = 0;
	int rc = planar_conn_query(conn, "BEGIN TRANSACTION", NULL);
	if (rc == 0)
		rc = find_missing(conn, missing, created, errmsg);
	if (rc == 0 && *created == 0) {
		planar_conn_query(conn, "ROLLBACK", NULL);
		return 0;
	}
	const char *done_schemas[NDP];
	size_t nds = 0;
	for (size_t i = 0; rc == 0 && i < NDP; i++) {
		if (!missing[i])
			continue;
		const struct dp_table *t = &dp_tables[i];
		bool have = false;
		for (size_t k = 0; k < nds; k++)
			have = have || strcmp(done_schemas[k], t->schema) == 0;
		pl_buf_truncate(&q, 0);
		if (!have && strcmp(t->schema, "main") != 0) {
			done_schemas[nds++] = t->schema;
			pl_buf_printf(&q, "CREATE SCHEMA IF NOT EXISTS " PL_SRV_LAKE ".%s", t->schema);
			rc = pl_buf_oom(&q) ? PLANAR_ENOMEM : planar_conn_query(conn, q.ptr, NULL);
			pl_buf_truncate(&q, 0);
		}
		if (rc == 0) {
			pl_buf_printf(&q, "CREATE TABLE IF NOT EXISTS " PL_SRV_LAKE ".%s.%s (%s)", t->schema, t->name, t->columns);
			rc = pl_buf_oom(&q) ? PLANAR_ENOMEM : planar_conn_query(conn, q.ptr, NULL);
		}
		if (rc == 0 && t->partition) {
			pl_buf_truncate(&q, 0);
			pl_buf_printf(&q, "ALTER TABLE " PL_SRV_LAKE ".%s.%s SET PARTITIONED BY (%s)", t->schema, t->name,
				      t->partition);
			rc = pl_buf_oom(&q) ? PLANAR_ENOMEM : planar_conn_query(conn, q.ptr, NULL);
		}
	}
	if (rc == 0)
		rc = planar_conn_query(conn, "COMMIT", NULL);
	if (rc) {
		if (!*errmsg)
			*errmsg = pl_strdup(rc == PLANAR_ENOMEM ? "out of memory" : planar_conn_errmsg(conn));
		planar_conn_query(conn, "ROLLBACK", NULL);
	}
	pl_buf_dispose(&q);
	return rc;
}

static int create_tables(pl_srv *s, char **errmsg)
{
	planar_conn *conn = NULL;
	int rc = pl_srv_conn_get(&s->lake, &conn, errmsg);
	if (rc)
		return rc;
	bool missing[NDP];
	size_t n = 0;
	for (int attempt = 0; attempt < 20; attempt++) {
		free(*errmsg);
		*errmsg = NULL;
		rc = find_missing(conn, missing, &n, errmsg);
		if (rc || n == 0)
			break;
		rc = create_missing(conn, missing, &n, errmsg);
		if (rc == 0) {
			if (n > 0)
				fprintf(stderr, "{\"event\":\"data_plane_tables_created\",\"tables\":%zu}\n", n);
			break;
		}
		/* another server committed first (a conflict): look again after a pause */
		struct timespec d = {0, (long)(20 + 30 * attempt) * 1000000L};
		nanosleep(&d, NULL);
	}
	pl_srv_conn_put(&s->lake, conn, rc == 0);
	return rc;
}

int pl_srv_retention_start(pl_srv *s);
void pl_srv_retention_stop(pl_srv *s);

int pl_srv_dataplane_start(pl_srv *s, char **errmsg)
{
	pl_err err;
	pl_err_clear(&err);
	pthread_mutex_lock(&s->lake.svc_lock);
	int rc = pl_policy_init(s->lake.svc, &err);
	pthread_mutex_unlock(&s->lake.svc_lock);
	if (rc) {
		*errmsg = pl_strdup(err.msg);
		return rc;
	}
	rc = create_tables(s, errmsg);
	if (rc) {
		char *m = *errmsg;
		pl_buf b = PL_BUF_INIT;
		pl_buf_printf(&b, "cannot create the data-plane tables: %s", m ? m : "unknown error");
		free(m);
		*errmsg = pl_buf_detach(&b);
		return rc;
	}
	if (pl_srv_retention_start(s) != 0) {
		*errmsg = pl_strdup("cannot start the retention thread");
		return PLANAR_ENOMEM;
	}
	return 0;
}

void pl_srv_dataplane_stop(pl_srv *s)
{
	pl_srv_retention_stop(s);
}
