/*
 * retrieval_tune.c -- weighing the hybrid fusion of the search index (src/text) on Debian's
 * package descriptions, without the lake around it: the descriptions go into one in-memory
 * index, and each sampled package is searched for by its one-line summary (its own description
 * is the relevant document), as bench/retrieval.c does through SQL.
 *
 * The sample is split by a hash of the package name into a tuning half and a held-out half:
 * choose the fusion's parameters on the first, report both. Built by bench/retrieval_tune.sh
 * with the text layer compiled with PL_TEXT_TUNE (the fusion reads pl_text_tune[]).
 *   bench_retrieval_tune FILE.tsv N W0 W1 RELATIVE WORDS_FIRST BM25_FIRST TOP_K_ONLY [...]
 * With N negative: speed of the index alone at -N documents (the descriptions repeated, each
 * copy with one extra word, as bench/retrieval.c does): adds per second (CPU time), and the
 * median and p95 CPU time of top-10 bm25 and hybrid queries (the summaries of 200 packages).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "text/index.h"

double pl_text_tune[6] = {0.05, 0, 0, 1, 1, 1};

typedef struct pkg {
	char *name, *summary;
	uint64_t h;
} pkg;

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

static int by_hash(const void *a, const void *b)
{
	const pkg *x = a, *y = b;
	return x->h < y->h ? -1 : x->h > y->h;
}

/* recall@10 and MRR@10 of mode over qs[0..n). */
static void measure(pl_tindex *x, const pkg *qs, size_t n, pl_search_mode mode, double *recall, double *mrr)
{
	size_t found = 0;
	double rr = 0;
	for (size_t i = 0; i < n; i++) {
		pl_tquery q = {qs[i].summary, NULL, 0, mode, 10, 1, NULL};
		pl_thit *hits = NULL;
		size_t nh = 0;
		pl_err err = {0};
		if (pl_tindex_search(x, &q, &hits, &nh, &err)) {
			fprintf(stderr, "search: %s\n", err.msg);
			exit(1);
		}
		for (size_t r = 0; r < nh && r < 10; r++)
			if (strcmp(pl_tindex_id(x, hits[r].doc), qs[i].name) == 0) {
				found++;
				rr += 1.0 / (double)(r + 1);
				break;
			}
		free(hits);
	}
	*recall = n ? (double)found / (double)n : 0;
	*mrr = n ? rr / (double)n : 0;
}

static double cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int speed(FILE *f, size_t ndocs)
{
	char **descs = NULL, **sums = NULL;
	size_t n = 0, cap = 0;
	char *line = NULL;
	size_t lcap = 0;
	while (getline(&line, &lcap, f) > 0) {
		char *name = strtok(line, "\t"), *summary = strtok(NULL, "\t"), *desc = strtok(NULL, "\n");
		if (!name || !summary || !desc)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			descs = realloc(descs, cap * sizeof(*descs));
			sums = realloc(sums, cap * sizeof(*sums));
		}
		descs[n] = strdup(desc);
		sums[n++] = strdup(summary);
	}
	free(line);
	pl_tindex *x = NULL;
	pl_err err = {0};
	if (pl_tindex_new(&x, "builtin", false, &err))
		return fprintf(stderr, "%s\n", err.msg), 1;
	double t0 = cpu_ms();
	char id[32], *text = NULL;
	size_t tcap = 0;
	for (size_t i = 0; i < ndocs; i++) {
		const char *d = descs[i % n];
		size_t len = strlen(d) + 32;
		if (len > tcap)
			text = realloc(text, tcap = len * 2);
		snprintf(text, tcap, "%s copy%zu", d, i / n);
		snprintf(id, sizeof(id), "%zu", i);
		pl_tdoc doc = {(int64_t)i, 1, id, text, NULL, NULL, 0};
		if (pl_tindex_add(x, &doc, &err))
			return fprintf(stderr, "%s\n", err.msg), 1;
	}
	double ms = cpu_ms() - t0;
	printf("%zu documents: %.0f ms CPU (%.0f documents/s)\n", ndocs, ms, ndocs / (ms / 1000.0));
	pl_search_mode modes[] = {PL_SEARCH_BM25, PL_SEARCH_HYBRID};
	const char *names[] = {"bm25", "hybrid"};
	for (int m = 0; m < 2; m++) {
		double lat[200];
		for (size_t i = 0; i < 200; i++) {
			pl_tquery q = {sums[(i * 7919) % n], NULL, 0, modes[m], 10, 1, NULL};
			pl_thit *hits = NULL;
			size_t nh = 0;
			double s = cpu_ms();
			if (pl_tindex_search(x, &q, &hits, &nh, &err))
				return fprintf(stderr, "%s\n", err.msg), 1;
			lat[i] = cpu_ms() - s;
			free(hits);
		}
		qsort(lat, 200, sizeof(double), cmp_double);
		printf("%-6s top-10: median %.2f ms, p95 %.2f ms (CPU)\n", names[m], lat[100], lat[190]);
	}
	pl_tindex_free(x);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && atol(argv[2]) < 0) {
		FILE *f = fopen(argv[1], "r");
		if (!f)
			return perror(argv[1]), 1;
		int rc = speed(f, (size_t)-atol(argv[2]));
		fclose(f);
		return rc;
	}
	if (argc < 3 || (argc - 3) % 6 != 0) {
		fprintf(stderr, "usage: bench_retrieval_tune FILE.tsv N [W0 W1 RELATIVE WORDS_FIRST BM25_FIRST TOP_K_ONLY]...\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "r");
	if (!f)
		return perror(argv[1]), 1;
	size_t nq = (size_t)atol(argv[2]);
	pl_tindex *x = NULL;
	pl_err err = {0};
	if (pl_tindex_new(&x, "builtin", false, &err))
		return fprintf(stderr, "%s\n", err.msg), 1;
	pkg *all = NULL;
	size_t n = 0, cap = 0;
	char *line = NULL;
	size_t lcap = 0;
	while (getline(&line, &lcap, f) > 0) {
		char *name = strtok(line, "\t"), *summary = strtok(NULL, "\t"), *desc = strtok(NULL, "\n");
		if (!name || !summary || !desc)
			continue;
		pl_tdoc d = {(int64_t)n, 1, name, desc, NULL, NULL, 0};
		if (pl_tindex_add(x, &d, &err))
			return fprintf(stderr, "%s\n", err.msg), 1;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			all = realloc(all, cap * sizeof(*all));
		}
		all[n++] = (pkg){strdup(name), strdup(summary), fnv(name)};
	}
	free(line);
	fclose(f);
	qsort(all, n, sizeof(*all), by_hash);
	/* tuning: even hashes; held out: odd hashes */
	pkg *tune = malloc(nq * sizeof(*tune)), *held = malloc(nq * sizeof(*held));
	size_t nt = 0, nh = 0;
	for (size_t i = 0; i < n && (nt < nq || nh < nq); i++) {
		if (all[i].h % 2 == 0 && nt < nq)
			tune[nt++] = all[i];
		else if (all[i].h % 2 == 1 && nh < nq)
			held[nh++] = all[i];
	}
	printf("%zu documents; %zu tuning and %zu held-out queries\n", n, nt, nh);
	double r1, m1, r2, m2;
	measure(x, tune, nt, PL_SEARCH_BM25, &r1, &m1);
	measure(x, held, nh, PL_SEARCH_BM25, &r2, &m2);
	printf("bm25                         tune %.3f/%.3f  held-out %.3f/%.3f\n", r1, m1, r2, m2);
	measure(x, tune, nt, PL_SEARCH_VECTOR, &r1, &m1);
	measure(x, held, nh, PL_SEARCH_VECTOR, &r2, &m2);
	printf("vector                       tune %.3f/%.3f  held-out %.3f/%.3f\n", r1, m1, r2, m2);
	for (int a = 3; a + 5 < argc; a += 6) {
		for (int k = 0; k < 6; k++)
			pl_text_tune[k] = atof(argv[a + k]);
		measure(x, tune, nt, PL_SEARCH_HYBRID, &r1, &m1);
		measure(x, held, nh, PL_SEARCH_HYBRID, &r2, &m2);
		printf("hybrid %5.3f %5.3f %d %5.3f %d %d   tune %.3f/%.3f  held-out %.3f/%.3f\n", pl_text_tune[0],
		       pl_text_tune[1], (int)pl_text_tune[2], pl_text_tune[3], (int)pl_text_tune[4], (int)pl_text_tune[5], r1,
		       m1, r2, m2);
		fflush(stdout);
	}
	pl_tindex_free(x);
	return 0;
}
