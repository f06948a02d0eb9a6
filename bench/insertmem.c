/*
 * insertmem.c -- peak memory of a large INSERT ... SELECT into a lake table, next to DuckDB
 * writing the same rows to Parquet itself.
 *
 * Sides, each run in its own child process (fork() before any database is opened, so that every
 * side starts from the same empty process and one side's peak cannot hide another's):
 *   insert  INSERT INTO lake.main.t SELECT <rows> (SQLite catalog): Planar's write path
 *   ctas    CREATE TABLE lake.main.c AS SELECT <rows>
 *   copy    COPY (SELECT <rows>) TO 'out.parquet' (FORMAT parquet): DuckDB alone, same engine
 * where <rows> is `range AS id, (range % 1000)::INTEGER AS k, (range % 10007) * 0.25 AS v,
 * 'name' || (range % 5000) AS s FROM range(N)` (4 columns, N rows, default 20 million).
 *
 * Reported per side: the process's peak resident set (VmHWM from /proc/self/status) over the
 * whole run, its resident set just before the statement (the engine and the lake opened), the
 * peak during the statement alone (VmHWM reset through /proc/self/clear_refs where the kernel
 * allows it, else "-"), the statement's wall time, and the rows and files written. The target
 * for the lake sides is a peak of at most 300 MB (MiB here); the program only reports.
 *
 * Usage: insertmem [--rows N] [--reps N] (reps: runs per side; the median of each figure).
 */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#define DEFAULT_ROWS 20000000LL
#define TARGET_MB 300.0

static const char *const side_names[] = {"insert", "ctas", "copy"};
#define NSIDES 3

typedef struct figures {
	double hwm_mb, before_mb, stmt_mb, ms;
	long long rows, files;
	int stmt_known;
} figures;

/* A field of /proc/self/status in MiB (kB in the file), -1 when absent. */
static double status_mb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	double out = -1;
	size_t n = strlen(field);
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			out = atof(line + n + 1) / 1024.0;
	if (f)
		fclose(f);
	return out;
}

/* Resets VmHWM to the current RSS (Linux: "5" > clear_refs); false when not allowed. */
static int reset_hwm(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");
	if (!f)
		return 0;
	int ok = fputs("5", f) >= 0;
	return fclose(f) == 0 && ok;
}

static const char *rows_sql =
	"SELECT range AS id, (range % 1000)::INTEGER AS k, (range % 10007) * 0.25 AS v, 'name' || (range % 5000) AS s "
	"FROM range(%lld)";

static int run_side(int side, const char *dir, long long rows, figures *out)
{
	planar_db *db = NULL;
	planar_conn *conn = NULL;
	strbuf q = {0}, sel = {0};
	int rc = open_planar(&db, &conn);
	sb_printf(&sel, rows_sql, rows);
	if (rc == 0 && side != 2) {
		sb_printf(&q, "ATTACH 'ducklake:sqlite:%s/meta.sqlite' AS lake (DATA_PATH '%s/data/')", dir, dir);
		rc = run(conn, "ATTACH", q.ptr, NULL);
	}
	if (rc == 0 && side == 0)
		rc = run(conn, "CREATE TABLE", "CREATE TABLE lake.main.t (id BIGINT, k INTEGER, v DOUBLE, s VARCHAR)", NULL);
	free(q.ptr);
	memset(&q, 0, sizeof(q));
	if (side == 0)
		sb_printf(&q, "INSERT INTO lake.main.t %s", sel.ptr);
	else if (side == 1)
		sb_printf(&q, "CREATE TABLE lake.main.c AS %s", sel.ptr);
	else
		sb_printf(&q, "COPY (%s) TO '%s/out.parquet' (FORMAT parquet)", sel.ptr, dir);
	out->before_mb = status_mb("VmRSS");
	out->stmt_known = reset_hwm();
	double t0 = now_ms();
	if (rc == 0)
		rc = run(conn, side_names[side], q.ptr, NULL);
	out->ms = now_ms() - t0;
	out->stmt_mb = status_mb("VmHWM");
	if (rc == 0 && side != 2) {
		const char *tbl = side == 0 ? "t" : "c";
		free(q.ptr);
		memset(&q, 0, sizeof(q));
		sb_printf(&q, "SELECT count(*) FROM lake.main.%s", tbl);
		rc = scalar_ll(conn, "counting rows", q.ptr, &out->rows);
		free(q.ptr);
		memset(&q, 0, sizeof(q));
		sb_printf(&q, "SELECT file_count FROM ducklake_table_info('lake') WHERE table_name = '%s'", tbl);
		if (rc == 0)
			rc = scalar_ll(conn, "counting files", q.ptr, &out->files);
	} else if (rc == 0) {
		free(q.ptr);
		memset(&q, 0, sizeof(q));
		sb_printf(&q, "SELECT count(*) FROM '%s/out.parquet'", dir);
		rc = scalar_ll(conn, "counting rows", q.ptr, &out->rows);
		out->files = 1;
	}
	if (rc == 0 && out->rows != rows) {
		fprintf(stderr, "%s: %s wrote %lld rows, expected %lld\n", bench_prog, side_names[side], out->rows, rows);
		rc = -1;
	}
	out->hwm_mb = status_mb("VmHWM");
	sb_free(&q);
	sb_free(&sel);
	planar_conn_free(conn);
	planar_db_free(db);
	return rc;
}

/* Runs one side in a child process in a fresh subdirectory; the figures come back by pipe. */
static int run_child(int side, const char *root, int rep, long long rows, figures *out)
{
	strbuf dir = {0};
	int fds[2];
	sb_printf(&dir, "%s/%s-%d", root, side_names[side], rep);
	if (mkdir(dir.ptr, 0700) != 0 || pipe(fds) != 0) {
		sb_free(&dir);
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(fds[0]);
		figures f = {0};
		int rc = run_side(side, dir.ptr, rows, &f);
		if (rc == 0 && write(fds[1], &f, sizeof(f)) != (ssize_t)sizeof(f))
			rc = -1;
		_exit(rc == 0 ? 0 : 1);
	}
	close(fds[1]);
	ssize_t got = read(fds[0], out, sizeof(*out));
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	sb_free(&dir);
	return got == (ssize_t)sizeof(*out) && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: insertmem [--rows N] [--reps N]\n"
		   "  --rows N  rows written by each side (default %lld)\n"
		   "  --reps N  runs per side, medians reported (default 1)\n",
		DEFAULT_ROWS);
}

int main(int argc, char **argv)
{
	bench_prog = "insertmem";
	long long rows = DEFAULT_ROWS, reps = 1;
	const bench_option opts[] = {
		{"--rows", 1, 2000000000LL, &rows},
		{"--reps", 1, 100, &reps},
	};
	int status = parse_options(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), usage);
	if (status >= 0)
		return status;
	strbuf dir = {0};
	if (make_temp_dir(&dir)) {
		sb_free(&dir);
		return 1;
	}
	print_load("at start");
	figures *all = calloc((size_t)(reps * NSIDES), sizeof(*all));
	if (!all)
		die_oom();
	int rc = 0;
	fprintf(stderr, "%s: %lld rows x 4 columns, %lld run(s) per side...\n", bench_prog, rows, reps);
	for (long long r = 0; rc == 0 && r < reps; r++)
		for (int s = 0; rc == 0 && s < NSIDES; s++) {
			rc = run_child(s, dir.ptr, (int)r, rows, &all[r * NSIDES + s]);
			if (rc)
				fprintf(stderr, "%s: the %s side failed\n", bench_prog, side_names[s]);
		}
	if (rc == 0) {
		printf("peak memory writing %lld rows x 4 columns (BIGINT, INTEGER, DOUBLE, VARCHAR); MiB, medians of %lld\n",
		       rows, reps);
		printf("%-8s %10s %10s %10s %10s %8s %12s\n", "side", "peak RSS", "before", "statement", "time ms", "files",
		       "target");
		for (int s = 0; s < NSIDES; s++) {
			double *v = calloc((size_t)reps * 4, sizeof(double));
			if (!v)
				die_oom();
			for (long long r = 0; r < reps; r++) {
				v[r] = all[r * NSIDES + s].hwm_mb;
				v[reps + r] = all[r * NSIDES + s].before_mb;
				v[2 * reps + r] = all[r * NSIDES + s].stmt_mb;
				v[3 * reps + r] = all[r * NSIDES + s].ms;
			}
			double hwm = median(v, (size_t)reps), before = median(v + reps, (size_t)reps);
			double stmt = median(v + 2 * reps, (size_t)reps), ms = median(v + 3 * reps, (size_t)reps);
			char stmt_text[32] = "-", target[32] = "";
			if (all[s].stmt_known)
				snprintf(stmt_text, sizeof(stmt_text), "%.1f", stmt);
			if (s != 2)
				snprintf(target, sizeof(target), "%s %.0f", hwm <= TARGET_MB ? "<=" : "ABOVE", TARGET_MB);
			printf("%-8s %10.1f %10.1f %10s %10.0f %8lld %12s\n", side_names[s], hwm, before, stmt_text, ms,
			       all[s].files, target);
			free(v);
		}
		printf("(peak RSS: VmHWM of the side's process over its whole run; before: VmRSS just before the "
		       "statement; statement: VmHWM reset just before it)\n");
		print_load("at end");
	}
	free(all);
	remove_temp_dir(dir.ptr);
	sb_free(&dir);
	return rc == 0 ? 0 : 1;
}
