/*
 * filefns.h -- the table functions over a lake's files that its views and planner call:
 * __planar_dv (a deletion vector's positions) and __planar_fstats (per-file statistics).
 */
#ifndef PL_SQL_FILEFNS_H
#define PL_SQL_FILEFNS_H

#include "sql/session.h"

int pl_filefns_register(planar_db *db, pl_err *err);

#endif
