/*
 * serve.c -- `planar serve`: configuration (command line over environment), start, and the
 * SIGTERM/SIGINT drain.
 *
 * Configuration file (--config FILE or PLANAR_SERVE_CONFIG): lines "name = value" with the
 * option names below without their dashes (e.g. "listen = 127.0.0.1:8080"), '#' comments and
 * blank lines. Precedence: the file, then the environment, then the command line.
 *
 * Environment variables (a command-line option wins):
 *   PLANAR_SERVE_LAKE            the lake URI (--lake)
 *   PLANAR_SERVE_DATA_PATH       its data path (--data-path)
 *   PLANAR_SERVE_LISTEN          HOST:PORT (--listen; default 127.0.0.1:8080; port 0 picks one)
 *   PLANAR_SERVE_THREADS         HTTP worker threads (--threads; default 8)
 *   PLANAR_SERVE_MAX_BODY        largest request body in bytes (--max-body; default 16 MiB)
 *   PLANAR_SERVE_TIMEOUT         idle connection timeout in seconds (--timeout; default 30)
 *   PLANAR_SERVE_DRAIN           longest wait for requests in flight at SIGTERM, s (--drain; 30)
 *   PLANAR_SERVE_MAX_CONNECTIONS most open connections (--max-connections; default 1024)
 *   PLANAR_SERVE_ROW_CAP         most rows one query returns (--row-cap; default 100000)
 *   PLANAR_SERVE_AUDIT_FLUSH_MS  how often the audit log is written (default 200)
 *   PLANAR_SERVE_QUERY_TIMEOUT_MS  longest a query may run, ms; 0: no limit (default 30000)
 *   PLANAR_SERVE_MAX_IN_FLIGHT   most /data requests served at once; more get 429 (default 256)
 *   PLANAR_SERVE_RETENTION_INTERVAL  seconds between retention passes; 0: none (default 3600)
 *   PLANAR_SERVE_INLINE_ROWS     the lake's data inlining limit for ingests: a group commit of at most
 *                                this many rows is inlined into the catalog (--inline-rows; 1000)
 *   PLANAR_SERVE_FLUSH_ROWS      inlined rows of a table that start a flush to Parquet (--flush-rows;
 *                                20000; 0: no background flush)
 *   PLANAR_SERVE_FLUSH_SECS      longest inlined rows wait for that flush, s (--flush-secs; 60)
 *   PLANAR_SERVE_FLUSH_ON_STOP   1: SIGTERM flushes every table's inlined rows (--flush-on-stop; 1)
 *   PLANAR_SERVE_TLS_CERT, PLANAR_SERVE_TLS_KEY  PEM certificate and key: HTTPS (--tls-cert/--tls-key)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "server/internal.h"
#include "server/policy.h"
#include "server/server.h"

typedef struct opt_def {
	const char *flag, *env;
	int kind; /* 0 text, 1 unsigned, 2 listen */
	const char *help;
} opt_def;

static const opt_def opts[] = {
	{"--lake", "PLANAR_SERVE_LAKE", 0, "lake URI, as planar --lake takes it (required)"},
	{"--data-path", "PLANAR_SERVE_DATA_PATH", 0, "DATA_PATH of the lake"},
	{"--tls-cert", "PLANAR_SERVE_TLS_CERT", 0, "PEM certificate file: serve HTTPS (with --tls-key)"},
	{"--tls-key", "PLANAR_SERVE_TLS_KEY", 0, "PEM private key file of --tls-cert"},
	{"--listen", "PLANAR_SERVE_LISTEN", 2, "HOST:PORT to listen on (default 127.0.0.1:8080; port 0: any)"},
	{"--threads", "PLANAR_SERVE_THREADS", 1, "HTTP worker threads (default 8)"},
	{"--max-body", "PLANAR_SERVE_MAX_BODY", 1, "largest request body in bytes (default 16777216)"},
	{"--timeout", "PLANAR_SERVE_TIMEOUT", 1, "idle connection timeout in seconds (default 30)"},
	{"--drain", "PLANAR_SERVE_DRAIN", 1, "longest wait for requests in flight on SIGTERM, seconds (default 30)"},
	{"--max-connections", "PLANAR_SERVE_MAX_CONNECTIONS", 1, "most open connections (default 1024)"},
	{"--max-in-flight", "PLANAR_SERVE_MAX_IN_FLIGHT", 1, "most /data requests served at once; more get 429 (default 256)"},
	{"--row-cap", "PLANAR_SERVE_ROW_CAP", 1, "most rows one query returns (default 100000)"},
	{"--audit-flush-ms", "PLANAR_SERVE_AUDIT_FLUSH_MS", 1, "how often the audit log is written (default 200)"},
	{"--query-timeout-ms", "PLANAR_SERVE_QUERY_TIMEOUT_MS", 1, "longest a query may run, ms; 0: none (default 30000)"},
	{"--retention-interval", "PLANAR_SERVE_RETENTION_INTERVAL", 1, "seconds between retention passes; 0: none (default 3600)"},
	{"--inline-rows", "PLANAR_SERVE_INLINE_ROWS", 1, "group commits of at most this many rows are inlined (default 1000)"},
	{"--flush-rows", "PLANAR_SERVE_FLUSH_ROWS", 1, "inlined rows of a table that start a flush to Parquet; 0: none (default 20000)"},
	{"--flush-secs", "PLANAR_SERVE_FLUSH_SECS", 1, "longest inlined rows wait for a flush, seconds (default 60)"},
	{"--flush-on-stop", "PLANAR_SERVE_FLUSH_ON_STOP", 1, "1: SIGTERM flushes inlined rows to Parquet; 0: not (default 1)"},
};
#define NOPTS (sizeof opts / sizeof opts[0])

static void usage(FILE *out)
{
	fputs("Usage: planar serve --lake URI [--data-path P] [--listen HOST:PORT] [--config FILE] [options]\n\n"
	      "The data-plane HTTP service. Options (each also read from its environment variable, and from\n"
	      "\"name = value\" lines of --config FILE / PLANAR_SERVE_CONFIG; the command line wins, then the\n"
	      "environment, then the file):\n",
	      out);
	for (size_t i = 0; i < NOPTS; i++)
		fprintf(out, "  %-18s %-30s %s\n", opts[i].flag, opts[i].env, opts[i].help);
}

static int set_opt(pl_srv_config *cfg, size_t i, const char *v)
{
	if (opts[i].kind == 0) {
		const char *f = opts[i].flag;
		if (strcmp(f, "--lake") == 0)
			cfg->lake = v;
		else if (strcmp(f, "--data-path") == 0)
			cfg->data_path = v;
		else if (strcmp(f, "--tls-cert") == 0)
			cfg->tls_cert = v;
		else
			cfg->tls_key = v;
		return 0;
	}
	if (opts[i].kind == 2) {
		const char *colon = strrchr(v, ':');
		if (!colon || colon == v)
			return -1;
		char *end = NULL;
		unsigned long port = strtoul(colon + 1, &end, 10);
		if (!colon[1] || *end || port > 65535)
			return -1;
		free(cfg->host);
		cfg->host = pl_strndup(v, (size_t)(colon - v));
		if (strcmp(cfg->host, "localhost") == 0) {
			free(cfg->host);
			cfg->host = pl_strdup("127.0.0.1");
		}
		cfg->port = (int)port;
		return cfg->host ? 0 : -1;
	}
	char *end = NULL;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (!*v || *end || errno || v[0] == '-')
		return -1;
	const char *f = opts[i].flag;
	if (strcmp(f, "--threads") == 0 && n >= 1 && n <= 1024)
		cfg->threads = (unsigned)n;
	else if (strcmp(f, "--max-body") == 0 && n >= 1)
		cfg->max_body = n;
	else if (strcmp(f, "--timeout") == 0 && n >= 1 && n <= 86400)
		cfg->timeout_s = (unsigned)n;
	else if (strcmp(f, "--drain") == 0 && n <= 86400)
		cfg->drain_s = (unsigned)n;
	else if (strcmp(f, "--max-connections") == 0 && n >= 1 && n <= 1000000)
		cfg->max_conns = (unsigned)n;
	else if (strcmp(f, "--max-in-flight") == 0 && n >= 1 && n <= 1000000)
		cfg->max_in_flight = (unsigned)n;
	else if (strcmp(f, "--row-cap") == 0 && n >= 1 && n <= INT64_MAX)
		cfg->row_cap = (int64_t)n;
	else if (strcmp(f, "--audit-flush-ms") == 0 && n >= 1 && n <= 3600000)
		cfg->audit_flush_ms = (unsigned)n;
	else if (strcmp(f, "--query-timeout-ms") == 0 && n <= 86400000)
		cfg->query_timeout_ms = (unsigned)n;
	else if (strcmp(f, "--retention-interval") == 0 && n <= 31536000)
		cfg->retention_interval_s = (unsigned)n;
	else if (strcmp(f, "--inline-rows") == 0 && n >= 1 && n <= 1000000)
		cfg->inline_rows = (unsigned)n;
	else if (strcmp(f, "--flush-rows") == 0)
		cfg->flush_rows = n;
	else if (strcmp(f, "--flush-secs") == 0 && n >= 1 && n <= 86400 * 7)
		cfg->flush_secs = (unsigned)n;
	else if (strcmp(f, "--flush-on-stop") == 0 && n <= 1)
		cfg->flush_on_stop = n == 1;
	else
		return -1;
	return 0;
}

/* Reads the configuration file; the values it keeps live in *keep (freed by the caller). */
static int read_config(pl_srv_config *cfg, const char *path, char **keep)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "Error: cannot open the configuration file %s\n", path);
		return -1;
	}
	char line[4096];
	int lineno = 0, rc = 0;
	pl_buf all = PL_BUF_INIT; /* every value, NUL-separated, kept in one block */
	size_t offs[64], n = 0;
	size_t which[64];
	while (rc == 0 && fgets(line, sizeof line, f)) {
		lineno++;
		char *p = line + strspn(line, " \t");
		p[strcspn(p, "\r\n")] = '\0';
		if (*p == '#' || *p == '\0')
			continue;
		char *eq = strchr(p, '=');
		char *end = eq ? eq : p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		size_t i = 0;
		while (i < NOPTS && !(strlen(opts[i].flag + 2) == (size_t)(end - p) && strncmp(opts[i].flag + 2, p, (size_t)(end - p)) == 0))
			i++;
		if (!eq || i == NOPTS || n == 64) {
			fprintf(stderr, "Error: %s:%d: expected \"name = value\" with a planar serve option name\n", path, lineno);
			rc = -1;
			break;
		}
		char *v = eq + 1 + strspn(eq + 1, " \t");
		size_t vl = strlen(v);
		while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		offs[n] = all.len;
		which[n++] = i;
		pl_buf_put(&all, v, vl);
		pl_buf_putc(&all, '\0');
	}
	fclose(f);
	if (rc == 0 && pl_buf_oom(&all))
		rc = -1;
	for (size_t k = 0; rc == 0 && k < n; k++) {
		if (set_opt(cfg, which[k], all.ptr + offs[k]) != 0) {
			fprintf(stderr, "Error: %s: invalid value of %s: \"%s\"\n", path, opts[which[k]].flag + 2, all.ptr + offs[k]);
			rc = -1;
		}
	}
	*keep = pl_buf_detach(&all);
	return rc;
}

int pl_server_serve_main(int argc, char **argv)
{
	pl_srv *s = calloc(1, sizeof *s);
	if (!s) {
		fprintf(stderr, "Error: out of memory\n");
		return 1;
	}
	pl_srv_config *cfg = &s->cfg;
	cfg->host = pl_strdup("127.0.0.1");
	cfg->port = 8080;
	cfg->threads = 8;
	cfg->max_body = 16u << 20;
	cfg->timeout_s = 30;
	cfg->drain_s = 30;
	cfg->max_conns = 1024;
	cfg->row_cap = 100000;
	cfg->max_in_flight = 256;
	cfg->audit_flush_ms = 200;
	cfg->query_timeout_ms = 30000;
	cfg->retention_interval_s = 3600;
	cfg->inline_rows = 1000;
	cfg->flush_rows = 20000;
	cfg->flush_secs = 60;
	cfg->flush_on_stop = true;
	int status = 2;
	char *config_text = NULL;
	const char *config = getenv("PLANAR_SERVE_CONFIG");
	for (int a = 1; a + 1 < argc; a++)
		if (strcmp(argv[a], "--config") == 0)
			config = argv[a + 1];
	if (config && read_config(cfg, config, &config_text) != 0)
		goto out;
	for (size_t i = 0; i < NOPTS; i++) {
		const char *v = getenv(opts[i].env);
		if (v && set_opt(cfg, i, v) != 0) {
			fprintf(stderr, "Error: invalid value of %s: \"%s\"\n", opts[i].env, v);
			goto out;
		}
	}
	for (int a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
			usage(stdout);
			status = 0;
			goto out;
		}
		if (strcmp(argv[a], "--config") == 0 && a + 1 < argc) {
			a++;
			continue;
		}
		size_t i = 0;
		while (i < NOPTS && strcmp(argv[a], opts[i].flag) != 0)
			i++;
		if (i == NOPTS) {
			fprintf(stderr, "Error: unknown argument \"%s\"; see planar serve --help\n", argv[a]);
			goto out;
		}
		if (a + 1 >= argc || set_opt(cfg, i, argv[a + 1]) != 0) {
			fprintf(stderr, "Error: %s needs a valid value (%s)\n", opts[i].flag, opts[i].help);
			goto out;
		}
		a++;
	}
	if (!cfg->lake) {
		fprintf(stderr, "Error: --lake URI (or PLANAR_SERVE_LAKE) is required\n");
		goto out;
	}
	if (!cfg->tls_cert != !cfg->tls_key) {
		fprintf(stderr, "Error: --tls-cert and --tls-key go together\n");
		goto out;
	}
	status = 1;
	/* Block the stop signals in every thread; this one waits for them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	char *msg = NULL;
	if (pl_srv_lake_open(&s->lake, cfg->lake, cfg->data_path, cfg->inline_rows, &msg) != 0) {
		fprintf(stderr, "Error: %s\n", msg ? msg : "cannot open the lake");
		planar_free(msg);
		goto out;
	}
	if (pl_srv_dataplane_start(s, &msg) != 0) {
		fprintf(stderr, "Error: %s\n", msg ? msg : "cannot prepare the data-plane tables");
		free(msg);
		goto out;
	}
	if (pl_srv_metrics_init(s) != 0 || pl_srv_audit_start(s) != 0) {
		fprintf(stderr, "Error: cannot start the audit writer\n");
		goto out;
	}
	if (pl_srv_batch_start(s) != 0) {
		fprintf(stderr, "Error: cannot start the group committer\n");
		goto out;
	}
	if (pl_srv_watch_start(s) != 0) {
		fprintf(stderr, "Error: cannot start the query watchdog\n");
		goto out;
	}
	if (pl_srv_http_start(s, &msg) != 0) {
		fprintf(stderr, "Error: %s\n", msg ? msg : "cannot start the HTTP server");
		free(msg);
		goto out;
	}
	fprintf(stderr, "{\"event\":\"listening\",\"host\":\"%s\",\"port\":%d,\"threads\":%u}\n", cfg->host, cfg->port,
		cfg->threads);
	fflush(stderr);
	int sig = 0;
	sigwait(&set, &sig);
	fprintf(stderr, "{\"event\":\"draining\",\"signal\":%d,\"in_flight\":%ld}\n", sig, (long)atomic_load(&s->inflight));
	fflush(stderr);
	pl_srv_http_drain(s);
	status = 0;
out:
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	pl_srv_batch_stop(s); /* commits what is queued, flushes inlined rows */
	pl_srv_dataplane_stop(s);
	pl_srv_audit_stop(s);
	pl_srv_watch_stop(s);
	pl_srv_metrics_free(s);
	free(s->tls_pem[0]);
	free(s->tls_pem[1]);
	if (s->lake.db)
		pl_srv_lake_close(&s->lake);
	if (status == 0) {
		fprintf(stderr, "{\"event\":\"stopped\"}\n");
	}
	free(cfg->host);
	free(config_text);
	free(s);
	return status;
}
