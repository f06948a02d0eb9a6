/*
 * blob.c -- `planar blob ...` (blob.h): parses the verb's arguments, opens the lake as the shell's
 * --lake does, and prints what the API returns. Errors go to stderr with a non-zero exit code.
 */
#include "cli/blob.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/shell.h"
#include "planar/planar.h"

static const char usage[] =
	"Usage: planar blob put DIR NAME --kind dataset|checkpoint [--metadata JSON] [--job-id ID] [--root URI]\n"
	"       planar blob get NAME[:vN|:alias] DIR\n"
	"       planar blob list [NAME]\n"
	"       planar blob alias NAME:vN ALIAS\n"
	"       planar blob verify NAME[:vN|:alias]\n"
	"Every verb also takes --lake URI [--data-path DIR] [--lake-name NAME] (the lake, as for the shell).\n"
	"put uploads DIR under ROOT/datasets|checkpoints/NAME/vN/ with the next free N and records it in\n"
	"the lake; ROOT is a local directory or s3://bucket/prefix (default: $PLANAR_BLOB_ROOT, else\n"
	"blobs/ beside the lake's data path). S3 settings come from the environment (AWS_ACCESS_KEY_ID,\n"
	"AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AWS_REGION; R2_*; MINIO_*).\n";

typedef struct blob_args {
	const char *pos[3];
	int npos;
	const char *kind, *metadata, *job_id, *root, *lake, *data_path, *lake_name;
} blob_args;

static int parse(blob_args *a, int argc, char **argv)
{
	memset(a, 0, sizeof *a);
	a->lake_name = "lake";
	for (int i = 2; i < argc; i++) {
		const char *arg = argv[i];
		if (arg[0] == '-' && arg[1] == '-') {
			const char *name = arg + 2, *eq = strchr(name, '=');
			size_t n = eq ? (size_t)(eq - name) : strlen(name);
			const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
			const char **slot = NULL;
			static const char *const names[] = {"kind", "metadata", "job-id", "root", "lake", "data-path",
							    "lake-name"};
			const char **slots[] = {&a->kind, &a->metadata, &a->job_id, &a->root, &a->lake, &a->data_path,
						&a->lake_name};
			for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
				if (strlen(names[k]) == n && strncmp(names[k], name, n) == 0)
					slot = slots[k];
			if (!slot) {
				fprintf(stderr, "Error: unknown option %s\n%s", arg, usage);
				return 1;
			}
			if (!value) {
				fprintf(stderr, "Error: option %s needs a value\n", arg);
				return 1;
			}
			*slot = value;
		} else if (a->npos < 3) {
			a->pos[a->npos++] = arg;
		} else {
			fprintf(stderr, "Error: too many arguments\n%s", usage);
			return 1;
		}
	}
	if (!a->lake) {
		fprintf(stderr, "Error: give the lake with --lake URI\n%s", usage);
		return 1;
	}
	return 0;
}

static int need(const blob_args *a, int min, int max)
{
	if (a->npos < min || a->npos > max) {
		fprintf(stderr, "Error: wrong number of arguments\n%s", usage);
		return 1;
	}
	return 0;
}

int pl_cli_blob_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	const char *verb = argv[1];
	blob_args a;
	if (parse(&a, argc, argv) != 0)
		return 1;
	int bad = 0;
	if (strcmp(verb, "put") == 0)
		bad = need(&a, 2, 2) || (!a.kind && (fprintf(stderr, "Error: put needs --kind dataset|checkpoint\n"), 1));
	else if (strcmp(verb, "get") == 0 || strcmp(verb, "alias") == 0)
		bad = need(&a, 2, 2);
	else if (strcmp(verb, "list") == 0)
		bad = need(&a, 0, 1);
	else if (strcmp(verb, "verify") == 0)
		bad = need(&a, 1, 1);
	else {
		fprintf(stderr, "Error: unknown blob command '%s'\n%s", verb, usage);
		return 1;
	}
	if (bad)
		return 1;
	pl_cli_shell sh;
	if (pl_cli_shell_open(&sh, NULL, stdout, stderr) != 0)
		return 1;
	sh.bail = true;
	int rc = pl_cli_shell_attach_lake(&sh, a.lake, a.data_path, a.lake_name);
	char *out = NULL;
	int64_t problems = 0;
	if (rc == 0) {
		if (strcmp(verb, "put") == 0) {
			planar_blob_put_opts o = {a.lake_name, a.pos[0], a.pos[1], a.kind, a.metadata, a.job_id, a.root};
			rc = planar_blob_put(sh.conn, &o, NULL, &out);
		} else if (strcmp(verb, "get") == 0) {
			rc = planar_blob_get(sh.conn, a.lake_name, a.pos[0], a.pos[1], &out);
		} else if (strcmp(verb, "alias") == 0) {
			rc = planar_blob_alias(sh.conn, a.lake_name, a.pos[0], a.pos[1], &out);
		} else if (strcmp(verb, "list") == 0) {
			rc = planar_blob_list(sh.conn, a.lake_name, a.npos ? a.pos[0] : NULL, &out);
		} else {
			rc = planar_blob_verify(sh.conn, a.lake_name, a.pos[0], &out, &problems);
		}
		if (rc != 0)
			fprintf(stderr, "Error: %s\n", planar_conn_errmsg(sh.conn));
	}
	if (rc == 0 && out) {
		fputs(out, stdout);
		if (*out && out[strlen(out) - 1] != '\n')
			fputc('\n', stdout);
	}
	if (rc == 0 && strcmp(verb, "verify") == 0) {
		if (problems)
			fprintf(stderr, "Error: %lld object%s of %s changed or vanished\n", (long long)problems,
				problems == 1 ? "" : "s", a.pos[0]);
		else
			printf("%s: every object matches its manifest\n", a.pos[0]);
	}
	planar_free(out);
	pl_cli_shell_close(&sh);
	return rc != 0 || problems != 0 ? 1 : 0;
}
