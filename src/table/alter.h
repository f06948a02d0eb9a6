/*
 * alter.h -- ALTER TABLE on lake tables: schema evolution without rewriting data files.
 *
 *   ADD [COLUMN] [IF NOT EXISTS] name|struct.field type [DEFAULT x] [NOT NULL]
 *   DROP [COLUMN] [IF EXISTS] name|struct.field
 *   RENAME [COLUMN] name|struct.field TO new     RENAME TO new_table_name
 *   ALTER [COLUMN] name [SET DATA] TYPE t        (widening promotions only)
 *   ALTER [COLUMN] name SET DEFAULT x | DROP DEFAULT | SET NOT NULL | DROP NOT NULL
 *
 * Each change ends the affected column versions and adds new versions with the same column ids
 * (new ids for added columns), so old files keep being read through field ids. The change is
 * one pl_alter of a pl_txn, which the caller commits.
 */
#ifndef PL_TABLE_ALTER_H
#define PL_TABLE_ALTER_H

#include <stdbool.h>

#include "catalog/commit.h"
#include "catalog/model.h"
#include "table/context.h"

typedef enum pl_alter_kind {
	PL_ALTER_ADD_COLUMN,
	PL_ALTER_DROP_COLUMN,
	PL_ALTER_RENAME_COLUMN,
	PL_ALTER_RENAME_TABLE,
	PL_ALTER_SET_TYPE,
	PL_ALTER_SET_NOT_NULL,
	PL_ALTER_DROP_NOT_NULL,
	PL_ALTER_SET_DEFAULT,
	PL_ALTER_DROP_DEFAULT,
	PL_ALTER_COLUMN_OTHER, /* an ALTER COLUMN action lakes do not support */
} pl_alter_kind;

typedef struct pl_alter_request {
	pl_alter_kind kind;
	char *const *path; /* the column: its name, or a struct field's path (npath names) */
	size_t npath;
	bool if_exists;    /* ADD: IF NOT EXISTS; DROP: IF EXISTS */
	/* ADD: the column's definition (type [DEFAULT x] [NOT NULL]); SET TYPE: the type; SET
	 * DEFAULT: the expression; RENAME: the new name */
	const char *text;
	bool using_clause; /* SET TYPE ... USING (a rewrite: refused) */
	bool well_formed;  /* SET / DROP DEFAULT written as it should be */
} pl_alter_request;

/* Plans the change of table t (of model m, in schema `schema`) into txn. *noop: IF [NOT] EXISTS
 * made it nothing to do (txn then holds no change). */
int pl_alter_plan(const pl_table_ctx *ctx, const pl_model *m, const char *schema, const pl_table *t,
		  const pl_alter_request *req, pl_txn *txn, bool *noop, pl_err *err);

#endif
