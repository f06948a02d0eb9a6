/*
 * maintain.c -- `planar maintain` (see maintain.h).
 *
 * Each run is one `CHECKPOINT lake`: every step is a commit of its own, so a run stopped by a
 * signal or a crash leaves the lake consistent, and a step that meets a concurrent writer fails
 * with a conflict that the next run retries. A failed run is reported and the loop goes on; with
 * a single run, its failure is the exit status.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli/maintain.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/strbuf.h"
#include "planar/planar.h"

typedef struct maintain_args {
	const char *lake, *data_path, *name;
	double every; /* seconds; 0: one run */
	long runs;    /* with every: stop after this many runs; 0: until a signal */
} maintain_args;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *out)
{
	fputs("Usage: planar maintain --lake URI [--data-path DIR] [--every SECONDS [--runs N]]\n\n"
	      "Runs the lake's upkeep: CHECKPOINT, which flushes inlined data, expires snapshots older\n"
	      "than the lake option expire_older_than, merges adjacent small files, rewrites files\n"
	      "with many deleted rows (rewrite_delete_threshold), removes files scheduled for deletion\n"
	      "(delete_older_than) and deletes orphaned files. Once, or every SECONDS until SIGTERM or\n"
	      "SIGINT (or N runs). Prints one JSON line per run on standard output.\n\n"
	      "  --lake URI         the lake, as for the shell (ducklake: is optional)\n"
	      "  --data-path DIR    its DATA_PATH, for a lake the catalog does not name one for\n"
	      "  --every SECONDS    run again SECONDS after each run ends\n"
	      "  --runs N           with --every: stop after N runs\n",
	      out);
}

static int parse_args(int argc, char **argv, maintain_args *a)
{
	*a = (maintain_args){.name = "lake"};
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			usage(stdout);
			return 1;
		}
		if (!value) {
			fprintf(stderr, "Error: %s needs a value (planar maintain --help)\n", arg);
			return -1;
		}
		char *end = NULL;
		if (strcmp(arg, "--lake") == 0) {
			a->lake = value;
		} else if (strcmp(arg, "--data-path") == 0) {
			a->data_path = value;
		} else if (strcmp(arg, "--every") == 0) {
			errno = 0;
			a->every = strtod(value, &end);
			if (errno || end == value || *end || !(a->every > 0) || a->every > 365.0 * 86400) {
				fprintf(stderr, "Error: --every takes a number of seconds above 0, not '%s'\n", value);
				return -1;
			}
		} else if (strcmp(arg, "--runs") == 0) {
			errno = 0;
			a->runs = strtol(value, &end, 10);
			if (errno || end == value || *end || a->runs <= 0) {
				fprintf(stderr, "Error: --runs takes a whole number above 0, not '%s'\n", value);
				return -1;
			}
		} else {
			fprintf(stderr, "Error: unknown option '%s' (planar maintain --help)\n", arg);
			return -1;
		}
		i++;
	}
	if (!a->lake) {
		fprintf(stderr, "Error: planar maintain needs --lake URI (planar maintain --help)\n");
		return -1;
	}
	if (a->runs && !a->every) {
		fprintf(stderr, "Error: --runs needs --every\n");
		return -1;
	}
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* s as a JSON string (quotes included). */
static void put_json_string(pl_cli_buf *b, const char *s)
{
	pl_cli_buf_puts(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			pl_cli_buf_printf(b, "\\%c", *p);
		else if (*p == '\n')
			pl_cli_buf_puts(b, "\\n");
		else if (*p < 0x20)
			pl_cli_buf_printf(b, "\\u%04x", *p);
		else
			pl_cli_buf_printf(b, "%c", *p);
	}
	pl_cli_buf_puts(b, "\"");
}

static int exec(planar_conn *conn, const char *sql)
{
	planar_result *res = NULL;
	int rc = planar_conn_query(conn, sql, &res);
	planar_result_free(res);
	return rc;
}

/* The lake's latest snapshot id, -1 when it cannot be read. */
static int64_t latest_snapshot(planar_conn *conn)
{
	planar_result *res = NULL;
	int64_t id = -1;
	size_t n = 0;
	if (planar_conn_query(conn, "SELECT max(snapshot_id) FROM lake.snapshots()", &res) == 0 &&
	    planar_result_next_chunk(res, &n) == 0 && n > 0)
		planar_result_get_int64(res, 0, 0, &id);
	planar_result_free(res);
	return id;
}

/* One CHECKPOINT; prints its JSON line. */
static int run_once(planar_conn *conn, long run)
{
	char when[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	int64_t before = latest_snapshot(conn);
	double start = now_ms();
	int rc = exec(conn, "CHECKPOINT lake");
	double ms = now_ms() - start;
	pl_cli_buf line = {0};
	pl_cli_buf_printf(&line, "{\"run\": %ld, \"time\": \"%s\", \"ok\": %s, \"ms\": %.1f, \"snapshot_before\": %lld, "
				 "\"snapshot_after\": %lld",
			  run, when, rc == 0 ? "true" : "false", ms, (long long)before, (long long)latest_snapshot(conn));
	if (rc) {
		pl_cli_buf_puts(&line, ", \"error\": ");
		put_json_string(&line, planar_conn_errmsg(conn));
	}
	pl_cli_buf_puts(&line, "}\n");
	if (!line.oom) {
		fputs(line.ptr, stdout);
		fflush(stdout);
	}
	pl_cli_buf_dispose(&line);
	return rc;
}

/* Waits seconds, in short steps so that a signal ends the wait at once. */
static void wait_seconds(double seconds)
{
	double end = now_ms() + seconds * 1e3;
	while (!stop_requested && now_ms() < end) {
		double left = end - now_ms();
		double step = left < 100 ? left : 100;
		struct timespec ts = {0, (long)(step * 1e6)};
		nanosleep(&ts, NULL);
	}
}

int pl_cli_maintain_main(int argc, char **argv)
{
	maintain_args a;
	int prc = parse_args(argc, argv, &a);
	if (prc)
		return prc > 0 ? 0 : 2;
	planar_db *db = NULL;
	planar_conn *conn = NULL;
	char *msg = NULL;
	if (planar_db_open(&db, NULL, &msg) != 0 || planar_conn_open(&conn, db, &msg) != 0) {
		fprintf(stderr, "Error: %s\n", msg ? msg : "cannot start the engine");
		planar_free(msg);
		planar_conn_free(conn);
		planar_db_free(db);
		return 1;
	}
	pl_cli_buf attach = {0};
	pl_cli_buf target = {0};
	if (strncmp(a.lake, "ducklake:", 9) != 0)
		pl_cli_buf_puts(&target, "ducklake:");
	pl_cli_buf_puts(&target, a.lake);
	pl_cli_buf_puts(&attach, "ATTACH ");
	pl_cli_buf_put_quoted(&attach, target.oom ? "" : target.ptr, '\'');
	pl_cli_buf_puts(&attach, " AS lake");
	if (a.data_path) {
		pl_cli_buf_puts(&attach, " (DATA_PATH ");
		pl_cli_buf_put_quoted(&attach, a.data_path, '\'');
		pl_cli_buf_puts(&attach, ")");
	}
	int rc = attach.oom || target.oom ? 1 : exec(conn, attach.ptr);
	if (rc)
		fprintf(stderr, "Error: %s\n", attach.oom ? "out of memory" : planar_conn_errmsg(conn));
	pl_cli_buf_dispose(&attach);
	pl_cli_buf_dispose(&target);
	if (rc == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		long run = 0;
		do {
			rc = run_once(conn, ++run);
			if (!a.every || (a.runs && run >= a.runs))
				break;
			wait_seconds(a.every);
		} while (!stop_requested);
		if (a.every)
			rc = 0; /* a loop reports failed runs and goes on */
	}
	planar_conn_free(conn);
	planar_db_free(db);
	return rc ? 1 : 0;
}
