/*
 * tests/unit/table/scan.c -- cmocka tests of scan planning (src/table/scan.c) on hand-built models.
 *
 * Covers the typed empty SELECT of a table without files, the read_parquet() text with its schema
 * MAP (field ids, quoted names, nested types, initial defaults), inlined-data parts and UNION ALL,
 * unsupported types, the shared view's text (no file named; deleted rows filtered per layout
 * group), row positions by file index, and runs the generated SQL in DuckDB against Parquet
 * files written with field ids (renamed and added columns resolved by id) and a delete file;
 * whether a file's live rows hold a value (table/livebound.h), remembered once asked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "table/livebound.h"
#include "table/scan.h"

typedef struct fake {
	pl_column cols[8];
	pl_column *top[8], *kids[8];
	pl_data_file files[2];
	pl_inlined_table inl[1];
	pl_table t;
	pl_model m;
} fake;

static pl_column *col(fake *f, size_t i, int64_t id, const char *name, const char *type, const char *initial)
{
	pl_column *c = &f->cols[i];
	*c = (pl_column){.id = id, .order = id, .parent = -1, .name = (char *)name, .type = (char *)type,
			 .initial_default = (char *)initial, .nulls_allowed = true};
	return c;
}

/* Table "t": 1 "id" int64, 2 'na"me' varchar, 3 "s" struct(4 "a" int32). */
static void make_table(fake *f)
{
	memset(f, 0, sizeof(*f));
	f->top[0] = col(f, 0, 1, "id", "int64", NULL);
	f->top[1] = col(f, 1, 2, "na\"me", "varchar", NULL);
	f->top[2] = col(f, 2, 3, "s", "struct", NULL);
	f->kids[0] = col(f, 3, 4, "a", "int32", NULL);
	f->cols[3].parent = 3;
	f->cols[2].children = f->kids;
	f->cols[2].nchildren = 1;
	f->t = (pl_table){.id = 1, .name = "t", .columns = f->cols, .ncolumns = 4, .top = f->top, .ntop = 3};
	f->m = (pl_model){.snapshot_id = 5, .tables = &f->t, .ntables = 1};
}

static char *scan(fake *f, int expect_rc)
{
	pl_buf b = PL_BUF_INIT;
	pl_err err = {0};
	int rc = pl_scan_sql(&b, "lk", &f->m, &f->t, NULL, NULL, &err);
	if (rc != expect_rc)
		fail_msg("pl_scan_sql returned %d (%s), expected %d", rc, err.msg, expect_rc);
	return pl_buf_detach(&b);
}

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("missing <%s> in <%s>", (needle), (hay));                         \
	} while (0)

static void scan__no_files_gives_typed_empty_select(void **state)
{
	(void)state;
	fake f;
	make_table(&f);
	char *sql = scan(&f, 0);
	assert_string_equal(sql, "SELECT CAST(NULL AS BIGINT) AS \"id\", CAST(NULL AS VARCHAR) AS \"na\"\"me\", "
				 "CAST(NULL AS STRUCT(\"a\" INTEGER)) AS \"s\" WHERE false");
	free(sql);
}

static void scan__current_files_are_read_by_name(void **state)
{
	(void)state;
	fake f;
	make_table(&f);
	f.t.schema_since = 2; /* columns last changed at snapshot 2 */
	f.files[0] = (pl_data_file){.partial_max = -1, .id = 1, .begin_snapshot = 3, .path = "/lake/main/t/a.parquet"};
	f.files[1] = (pl_data_file){.partial_max = -1, .id = 2, .begin_snapshot = 4, .path = "/lake/main/t/it's.parquet"};
	f.t.files = f.files;
	f.t.nfiles = 2;
	char *sql = scan(&f, 0);
	assert_contains(sql, "SELECT CAST(");
	assert_contains(sql, "\"id\" AS BIGINT) AS \"id\"");
	assert_contains(sql, "\"na\"\"me\" AS VARCHAR) AS \"na\"\"me\"");
	assert_contains(sql, "\"s\" AS STRUCT(\"a\" INTEGER)) AS \"s\"");
	/* the paths travel as one string split at 0x1f, quotes doubled */
	assert_contains(sql, "read_parquet(string_split('/lake/main/t/a.parquet\x1f/lake/main/t/it''s.parquet', chr(31))");
	assert_contains(sql, "hive_partitioning = false)");
	assert_null(strstr(sql, "schema = MAP")); /* no field-id mapping needed */
	assert_null(strstr(sql, "UNION ALL"));
	assert_null(strstr(sql, "WHERE false"));
	free(sql);
}

static void scan__path_with_separator_uses_a_list(void **state)
{
	(void)state;
	fake f;
	make_table(&f);
	f.t.schema_since = 2;
	f.files[0] = (pl_data_file){.partial_max = -1, .id = 1, .begin_snapshot = 3, .path = "/lake/main/t/a.parquet"};
	f.files[1] = (pl_data_file){.partial_max = -1, .id = 2, .begin_snapshot = 4, .path = "/lake/main/t/odd\x1fname.parquet"};
	f.t.files = f.files;
	f.t.nfiles = 2;
	char *sql = scan(&f, 0);
	assert_contains(sql, "read_parquet(['/lake/main/t/a.parquet', '/lake/main/t/odd\x1fname.parquet']");
	assert_null(strstr(sql, "string_split"));
	free(sql);
}

static void scan__older_files_go_through_field_id_map(void **state)
{
	(void)state;
	fake f;
	make_table(&f);
	f.t.schema_since = 4;
	f.cols[0].initial_default = "42";
	f.cols[1].initial_default = "NULL";
	f.files[0] = (pl_data_file){.partial_max = -1, .id = 1, .begin_snapshot = 1, .path = "/lake/main/t/old.parquet"};
	f.files[1] = (pl_data_file){.partial_max = -1, .id = 2, .begin_snapshot = 5, .path = "/lake/main/t/new.parquet"};
	f.t.files = f.files;
	f.t.nfiles = 2;
	char *sql = scan(&f, 0);
	const char *map = strstr(sql, "schema = MAP {");
	assert_non_null(map);
	assert_contains(map, "1: {name: 'id', type: 'BIGINT', default_value: '42'}, ");
	assert_contains(map, "2: {name: 'na\"me', type: 'VARCHAR', default_value: CAST(NULL AS VARCHAR)}, ");
	assert_contains(map, "3: {name: 's', type: 'STRUCT(\"a\" INTEGER)', default_value: CAST(NULL AS VARCHAR)}}");
	assert_contains(sql, " UNION ALL "); /* one read_parquet per group */
	assert_contains(sql, "string_split('/lake/main/t/old.parquet', chr(31))");
	assert_contains(sql, "string_split('/lake/main/t/new.parquet', chr(31))");
	/* the old file is only in the mapped scan, the new one only in the by-name scan */
	const char *old = strstr(sql, "old.parquet"), *neu = strstr(sql, "new.parquet");
	assert_null(strstr(old + 1, "old.parquet"));
	assert_null(strstr(neu + 1, "new.parquet"));
	/* the older files come first (rows in the order they were written) */
	const char *u = strstr(sql, " UNION ALL ");
	assert_true(old < map && map < u && neu > u);
	free(sql);
}

static void scan__inlined_rows_are_unioned(void **state)
{
	(void)state;
	fake f;
	make_table(&f);
	f.inl[0] = (pl_inlined_table){.name = "ducklake_inlined_data_1_1", .schema_version = 1};
	f.t.inlined = f.inl;
	f.t.ninlined = 1;
	char *sql = scan(&f, 0); /* inlined only: no read_parquet, no empty select */
	assert_null(strstr(sql, "read_parquet"));
	assert_null(strstr(sql, "WHERE false"));
	assert_contains(sql, "SELECT CAST(\"id\" AS BIGINT) AS \"id\", CAST(\"na\"\"me\" AS VARCHAR) AS \"na\"\"me\"");
	/* the rows come from a fixed catalog read: the inlined table, the snapshot and the columns
	 * (separated by 0x1f: name, 0x1e, column id, 0x1e, type) are arguments, never SQL text */
	assert_contains(sql, "FROM __planar_inlined('lk', 'ducklake_inlined_data_1_1', '5', "
			     "'id\x1e" "1\x1eint64\x1fna\"me\x1e" "2\x1evarchar\x1fs\x1e" "3\x1estruct', '0')");
	free(sql);
	f.files[0] = (pl_data_file){.partial_max = -1, .id = 1, .path = "/x.parquet"};
	f.t.files = f.files;
	f.t.nfiles = 1;
	sql = scan(&f, 0);
	const char *u = strstr(sql, " UNION ALL SELECT CAST(\"id\" AS BIGINT)");
	assert_non_null(u);
	assert_true(strstr(sql, "read_parquet(") < u); /* files first, then inlined rows */
	assert_contains(u, "__planar_inlined(");
	free(sql);
}

static void scan__nested_and_decimal_types(void **state)
{
	(void)state;
	pl_column k = {.id = 2, .parent = 1, .name = "key", .type = "varchar"};
	pl_column v = {.id = 3, .parent = 1, .name = "value", .type = "decimal(18,3)"};
	pl_column *mk[] = {&k, &v};
	pl_column m = {.id = 1, .parent = -1, .name = "m", .type = "map", .children = mk, .nchildren = 2};
	pl_column e = {.id = 5, .parent = 4, .name = "element", .type = "timestamptz"};
	pl_column *lk[] = {&e};
	pl_column l = {.id = 4, .parent = -1, .name = "l", .type = "list", .children = lk, .nchildren = 1};
	pl_column *top[] = {&m, &l};
	pl_table t = {.name = "n", .top = top, .ntop = 2};
	pl_model model = {.snapshot_id = 1};
	pl_buf b = PL_BUF_INIT;
	pl_err err = {0};
	assert_int_equal(pl_scan_sql(&b, "lk", &model, &t, NULL, NULL, &err), 0);
	assert_string_equal(pl_buf_cstr(&b), "SELECT CAST(NULL AS MAP(VARCHAR, DECIMAL(18,3))) AS \"m\", "
					     "CAST(NULL AS TIMESTAMP WITH TIME ZONE[]) AS \"l\" WHERE false");
	pl_buf_dispose(&b);
}

static void scan__unknown_type_is_unsupported(void **state)
{
	(void)state;
	fake f;
	make_table(&f);
	f.cols[1].type = "hyperloglog";
	pl_buf b = PL_BUF_INIT;
	pl_err err = {0};
	assert_int_equal(pl_scan_sql(&b, "lk", &f.m, &f.t, NULL, NULL, &err), PL_EUNSUPPORTED);
	assert_contains(err.msg, "hyperloglog");
	assert_contains(err.msg, "na\"me");
	f.files[0] = (pl_data_file){.partial_max = -1, .id = 1, .path = "/x.parquet"};
	f.t.files = f.files;
	f.t.nfiles = 1;
	pl_err_clear(&err);
	pl_buf_truncate(&b, 0);
	assert_int_equal(pl_scan_sql(&b, "lk", &f.m, &f.t, NULL, NULL, &err), PL_EUNSUPPORTED);
	assert_contains(err.msg, "hyperloglog");
	pl_buf_dispose(&b);
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Two layouts, deleted rows only in the older one. */
static void make_two_layouts(fake *f)
{
	make_table(f);
	f->t.schema_since = 4;
	f->files[0] = (pl_data_file){.partial_max = -1, .id = 1, .begin_snapshot = 1, .path = "/lake/main/t/old.parquet",
				     .delete_path = "/lake/main/t/old-delete.parquet", .delete_format = "parquet",
				     .delete_partial_max = -1, .delete_count = 1, .record_count = 10};
	f->files[1] = (pl_data_file){.partial_max = -1, .id = 2, .begin_snapshot = 5, .path = "/lake/main/t/new.parquet",
				     .delete_partial_max = -1, .record_count = 5};
	f->t.files = f->files;
	f->t.nfiles = 2;
}

static void scan__shared_view_names_no_file(void **state)
{
	(void)state;
	fake f;
	make_two_layouts(&f);
	pl_buf b = PL_BUF_INIT;
	pl_err err = {0};
	assert_int_equal(pl_scan_view_sql(&b, "lk", &f.m, &f.t, &err), 0);
	const char *sql = pl_buf_cstr(&b);
	assert_null(strstr(sql, ".parquet"));
	assert_contains(sql, "read_parquet(__planar_view_files('lk', 1, 0, 4), hive_partitioning = false)");
	assert_contains(sql, "read_parquet(__planar_view_files('lk', 1, 1, 4), schema = MAP {");
	/* every part filters deleted rows with the map bound with its files; folded away when the
	 * part has no file (map -2) or no deleted row (map -1) */
	assert_int_equal(count_of(sql, "__planar_kept("), 2);
	assert_contains(sql, "WHERE __planar_delmap('lk', 1, 1) <> -2 AND (__planar_delmap('lk', 1, 1) = -1 OR "
			     "__planar_kept(d.file_index, d.file_row_number, __planar_delmap('lk', 1, 1)))");
	/* the same text whatever the files and deleted rows, as long as the columns stay */
	pl_buf again = PL_BUF_INIT;
	f.files[1].path = "/lake/main/t/other.parquet";
	f.files[0].delete_path = "/lake/main/t/old-delete-2.parquet";
	f.files[1].delete_path = "/lake/main/t/new-delete.parquet";
	assert_int_equal(pl_scan_view_sql(&again, "lk", &f.m, &f.t, &err), 0);
	assert_string_equal(pl_buf_cstr(&again), sql);
	f.files[1].delete_path = NULL;
	f.t.nfiles = 0; /* no file at all: both groups still there */
	pl_buf_truncate(&again, 0);
	assert_int_equal(pl_scan_view_sql(&again, "lk", &f.m, &f.t, &err), 0);
	assert_string_equal(pl_buf_cstr(&again), sql);
	f.t.nfiles = 2;
	const pl_data_file *files[2];
	assert_int_equal(pl_scan_group_files(&f.t, 0, files), 1);
	assert_ptr_equal(files[0], &f.files[1]);
	assert_int_equal(pl_scan_group_files(&f.t, 1, files), 1);
	assert_ptr_equal(files[0], &f.files[0]);
	assert_false(pl_scan_group_hides_rows(&f.m, &f.t, 0));
	assert_true(pl_scan_group_hides_rows(&f.m, &f.t, 1));
	pl_buf_dispose(&again);
	pl_buf_dispose(&b);
}

static void scan__deletes_filtered_inside_the_layout_scan(void **state)
{
	(void)state;
	fake f;
	make_two_layouts(&f);
	pl_buf b = PL_BUF_INIT;
	pl_err err = {0};
	int64_t maps[2] = {-1, 7};
	assert_int_equal(pl_scan_sql(&b, "lk", &f.m, &f.t, maps, NULL, &err), 0);
	const char *sql = pl_buf_cstr(&b);
	assert_int_equal(count_of(sql, "read_parquet("), 2); /* one scan per layout, not per file */
	assert_int_equal(count_of(sql, "__planar_kept("), 1);
	assert_contains(sql, "WHERE __planar_kept(d.file_index, d.file_row_number, 7)");
	pl_buf_truncate(&b, 0);
	/* without maps: an anti-join on the delete file by file index */
	assert_int_equal(pl_scan_sql(&b, "lk", &f.m, &f.t, NULL, NULL, &err), 0);
	sql = pl_buf_cstr(&b);
	assert_contains(sql, "ANTI JOIN (SELECT CAST(0 AS UBIGINT) AS i, pos FROM (SELECT pos FROM "
			     "read_parquet('/lake/main/t/old-delete.parquet'))) AS x ON d.file_index = x.i AND "
			     "d.file_row_number = x.pos");
	pl_buf_dispose(&b);
}

static void scan__positions_carry_file_index(void **state)
{
	(void)state;
	fake f;
	make_two_layouts(&f);
	f.files[1].row_id_start = 10;
	pl_buf b = PL_BUF_INIT;
	pl_err err = {0};
	assert_int_equal(pl_scan_positions_sql(&b, "lk", &f.m, &f.t, NULL, NULL, NULL, &err), 0);
	const char *sql = pl_buf_cstr(&b);
	assert_int_equal(count_of(sql, "read_parquet("), 2); /* the data files once, the delete file once */
	assert_contains(sql, "CAST(d.file_index AS BIGINT) AS __planar_file");
	assert_contains(sql, "d.file_row_number AS __planar_pos");
	assert_contains(sql, "coalesce(d._ducklake_internal_row_id, CAST([0,10] AS BIGINT[])[CAST(d.file_index AS "
			     "BIGINT) + 1] + d.file_row_number) AS __planar_rowid");
	assert_null(strstr(sql, "filename"));
	assert_null(strstr(sql, "VALUES"));
	pl_buf_dispose(&b);
}

/* Runs sql; returns the rows rendered "a|b;c|d" and the column types "BIGINT,VARCHAR". */
static void run(duckdb_connection con, const char *sql, char **rows, char **types)
{
	duckdb_result res;
	pl_err err = {0};
	if (pl_engine_query(con, sql, &res, &err))
		fail_msg("%s\n-> %s", sql, err.msg);
	pl_buf r = PL_BUF_INIT, t = PL_BUF_INIT;
	pl_buf_puts(&r, "");
	for (idx_t c = 0; c < duckdb_column_count(&res); c++) {
		duckdb_logical_type lt = duckdb_column_logical_type(&res, c);
		if (c)
			pl_buf_putc(&t, ',');
		pl_engine_type_sql(&t, lt);
		duckdb_destroy_logical_type(&lt);
	}
	for (idx_t i = 0; i < duckdb_row_count(&res); i++) {
		for (idx_t c = 0; c < duckdb_column_count(&res); c++) {
			bool oom = false;
			char *v = pl_engine_value_str(&res, c, i, &oom);
			pl_buf_puts(&r, c ? "|" : i ? ";" : "");
			pl_buf_puts(&r, v ? v : "NULL");
			free(v);
		}
	}
	duckdb_destroy_result(&res);
	*rows = pl_buf_detach(&r);
	*types = pl_buf_detach(&t);
}

/* An in-memory DuckDB and a new directory from the mkdtemp template dir. */
static void open_engine(duckdb_database *db, duckdb_connection *con, char *dir)
{
	pl_err err = {0};
	assert_int_equal(pl_engine_open(db, NULL, false, &err), 0);
	assert_int_equal(pl_engine_connect(con, *db, &err), 0);
	assert_non_null(mkdtemp(dir));
}

static void scan__generated_sql_runs_in_duckdb(void **state)
{
	(void)state;
	duckdb_database db = NULL;
	duckdb_connection con = NULL;
	pl_err err = {0};
	char dir[] = "/tmp/planar-unit-scan-XXXXXX", sql[512], p1[64], p2[64];
	open_engine(&db, &con, dir);
	snprintf(p1, sizeof(p1), "%s/f1.parquet", dir);
	snprintf(p2, sizeof(p2), "%s/f2.parquet", dir);
	/* file 1 was written when column 2 was called "nm" and column 3 did not exist yet */
	snprintf(sql, sizeof(sql), "COPY (SELECT 1::BIGINT AS id, 'x' AS nm) TO '%s' "
				   "(FORMAT parquet, FIELD_IDS {id: 1, nm: 2})", p1);
	assert_int_equal(pl_engine_exec(con, sql, &err), 0);
	snprintf(sql, sizeof(sql), "COPY (SELECT 2::BIGINT AS id, 'y' AS \"na\"\"me\", 7 AS n) TO '%s' "
				   "(FORMAT parquet, FIELD_IDS {id: 1, \"na\"\"me\": 2, n: 3})", p2);
	assert_int_equal(pl_engine_exec(con, sql, &err), 0);

	fake f;
	make_table(&f);
	f.t.ntop = 3;
	f.top[2] = col(&f, 2, 3, "n", "int32", "42");
	f.t.ncolumns = 3;
	char *text = scan(&f, 0), *rows, *types;
	run(con, text, &rows, &types);
	assert_string_equal(types, "BIGINT,VARCHAR,INTEGER");
	assert_string_equal(rows, "");
	free(text);
	free(rows);
	free(types);

	f.t.schema_since = 2; /* column 2 renamed and column 3 added at snapshot 2 */
	f.files[0] = (pl_data_file){.partial_max = -1, .id = 1, .begin_snapshot = 1, .path = p1};
	f.files[1] = (pl_data_file){.partial_max = -1, .id = 2, .begin_snapshot = 3, .path = p2};
	f.t.files = f.files;
	f.t.nfiles = 2;
	text = scan(&f, 0);
	pl_buf ordered = PL_BUF_INIT;
	pl_buf_printf(&ordered, "SELECT * FROM (%s) ORDER BY id", text);
	run(con, pl_buf_cstr(&ordered), &rows, &types);
	assert_string_equal(types, "BIGINT,VARCHAR,INTEGER");
	assert_string_equal(rows, "1|x|42;2|y|7"); /* renamed by field id; default for the old file */
	pl_buf_dispose(&ordered);
	free(text);
	free(rows);
	free(types);

	/* row 0 of the old file deleted (a positional delete file): gone from the scan, and the
	 * positions scan numbers the files in table order */
	char p3[64];
	snprintf(p3, sizeof(p3), "%s/d1.parquet", dir);
	snprintf(sql, sizeof(sql), "COPY (SELECT '%s' AS file_path, 0::BIGINT AS pos) TO '%s' (FORMAT parquet)", p1, p3);
	assert_int_equal(pl_engine_exec(con, sql, &err), 0);
	f.files[0].delete_path = p3;
	f.files[0].delete_format = "parquet";
	f.files[0].delete_partial_max = -1;
	f.files[1].delete_partial_max = -1;
	f.files[1].row_id_start = 100;
	text = scan(&f, 0);
	run(con, text, &rows, &types);
	assert_string_equal(rows, "2|y|7");
	free(text);
	free(rows);
	free(types);
	pl_buf pos = PL_BUF_INIT;
	pl_buf_puts(&pos, "SELECT id, __planar_file, __planar_pos, __planar_rowid FROM (");
	assert_int_equal(pl_scan_positions_sql(&pos, "lk", &f.m, &f.t, NULL, NULL, NULL, &err), 0);
	pl_buf_puts(&pos, ") ORDER BY id");
	run(con, pl_buf_cstr(&pos), &rows, &types);
	assert_string_equal(rows, "2|1|0|100");
	pl_buf_dispose(&pos);
	free(rows);
	free(types);
	unlink(p3);

	unlink(p1);
	unlink(p2);
	rmdir(dir);
	duckdb_disconnect(&con);
	duckdb_close(&db);
}

/* Whether `value` of column col_id is held by a live row of the file (its rows 0-99 have id = row
 * number and "na""me" = row mod 10; rows 0, 1, 2 and 99 deleted in the catalog). */
static bool live_holds(pl_delcache *c, duckdb_connection con, fake *f, pl_data_file *df, size_t col, const char *value)
{
	bool found = true;
	pl_err err = {0};
	if (pl_livebound_has(c, con, &f->m, &f->t, df, f->top[col], value, 4096, &found, &err))
		fail_msg("pl_livebound_has: %s", err.msg);
	return found;
}

static void scan__livebound_looks_past_deleted_rows_and_remembers(void **state)
{
	(void)state;
	duckdb_database db = NULL;
	duckdb_connection con = NULL;
	pl_err err = {0};
	char dir[] = "/tmp/planar-unit-live-XXXXXX", sql[512], p[64];
	open_engine(&db, &con, dir);
	snprintf(p, sizeof(p), "%s/f.parquet", dir);
	/* written when column 2 had another name: read by field id */
	snprintf(sql, sizeof(sql), "COPY (SELECT range AS id, CAST(range %% 10 AS VARCHAR) AS old FROM range(100)) "
				   "TO '%s' (FORMAT parquet, FIELD_IDS {id: 1, old: 2})", p);
	assert_int_equal(pl_engine_exec(con, sql, &err), 0);
	fake f;
	make_table(&f);
	f.t.ntop = 2;
	f.t.ncolumns = 2;
	int64_t deleted[] = {0, 1, 2, 99};
	pl_data_file df = {.partial_max = -1, .delete_partial_max = -1, .id = 1, .begin_snapshot = 1, .path = p,
			   .record_count = 100, .inlined_deletes = deleted, .ninlined_deletes = 4};
	pl_delcache c;
	pl_delcache_init(&c);
	assert_false(live_holds(&c, con, &f, &df, 0, "CAST(0 AS BIGINT)"));
	assert_false(live_holds(&c, con, &f, &df, 0, "CAST(99 AS BIGINT)"));
	assert_true(live_holds(&c, con, &f, &df, 0, "CAST(3 AS BIGINT)"));
	assert_true(live_holds(&c, con, &f, &df, 1, "'0'")); /* rows 0 and 10, 20, ... */
	assert_false(live_holds(&c, con, &f, &df, 0, "CAST(100 AS BIGINT)"));
	/* answers are remembered: asked again with the file gone, nothing is read */
	assert_int_equal(unlink(p), 0);
	assert_true(live_holds(&c, con, &f, &df, 0, "CAST(3 AS BIGINT)"));
	assert_false(live_holds(&c, con, &f, &df, 0, "CAST(0 AS BIGINT)"));
	bool found = false;
	assert_int_not_equal(pl_livebound_has(&c, con, &f.m, &f.t, &df, f.top[0], "CAST(4 AS BIGINT)", 4096, &found,
					      &err),
			     0); /* a new question reads the file */
	pl_delcache_dispose(&c);
	rmdir(dir);
	duckdb_disconnect(&con);
	duckdb_close(&db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scan__no_files_gives_typed_empty_select),
		cmocka_unit_test(scan__current_files_are_read_by_name),
		cmocka_unit_test(scan__path_with_separator_uses_a_list),
		cmocka_unit_test(scan__older_files_go_through_field_id_map),
		cmocka_unit_test(scan__inlined_rows_are_unioned),
		cmocka_unit_test(scan__nested_and_decimal_types),
		cmocka_unit_test(scan__unknown_type_is_unsupported),
		cmocka_unit_test(scan__shared_view_names_no_file),
		cmocka_unit_test(scan__deletes_filtered_inside_the_layout_scan),
		cmocka_unit_test(scan__positions_carry_file_index),
		cmocka_unit_test(scan__generated_sql_runs_in_duckdb),
		cmocka_unit_test(scan__livebound_looks_past_deleted_rows_and_remembers),
	};
	return cmocka_run_group_tests_name("table/scan", tests, NULL, NULL);
}
