/*
 * ids.h -- identifiers and clocks: UUIDv7 strings (time-ordered, as DuckLake file names use)
 * and the current time as a catalog timestamp.
 */
#ifndef PL_CORE_IDS_H
#define PL_CORE_IDS_H

#include "core/err.h"

#define PL_UUID_STRLEN 36

/* Writes a UUIDv7 ("01a2...-....") into out (PL_UUID_STRLEN + 1 bytes). */
int pl_uuid_v7(char out[PL_UUID_STRLEN + 1], pl_err *err);
/* Writes a random UUIDv4 into out. */
int pl_uuid_v4(char out[PL_UUID_STRLEN + 1], pl_err *err);
/* Current UTC time as "YYYY-MM-DD HH:MM:SS.ffffff+00" into out (32 bytes). */
void pl_now_timestamptz(char out[32]);

#endif
