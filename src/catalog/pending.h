/*
 * pending.h -- the catalog as an open transaction sees it: the model of its BEGIN snapshot with
 * the changes of its statements applied in memory.
 *
 * A transaction writes nothing to the catalog before COMMIT (DuckLake's optimistic commit): each
 * statement's changes stay in its pl_txn, and the next statement plans on a pending model built
 * here. Objects the transaction creates get local ids (PL_LOCAL_ID_BASE and up); the pl_txn
 * records them in its assigned_id fields, later statements refer to them by those ids, and
 * pl_commit_many replaces them by catalog ids. The pending model keeps the base's snapshot id
 * (rows it adds begin at snapshot_id + 1) and shares the tables the changes leave alone.
 */
#ifndef PL_CATALOG_PENDING_H
#define PL_CATALOG_PENDING_H

#include <stdint.h>

#include "catalog/commit.h"
#include "catalog/model.h"

/* A new model: base (which gains references for what it shares) with txn applied. Sets the
 * assigned_id of txn's new schemas, tables, views, data files and delete files to local ids from
 * *next_local (advanced). data_path is the lake's resolved data path (ends in '/'). Fails with
 * PL_EINVALID when txn names an object base does not have. */
int pl_model_apply_txn(pl_model *base, pl_txn *txn, const char *data_path, int64_t *next_local,
		       pl_model **out, pl_err *err);

#endif
