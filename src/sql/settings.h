/*
 * settings.h -- DuckLake's DuckDB settings (SET / RESET ducklake_..., current_setting()) as
 * Planar keeps them: global (the planar_db) and per session (the planar_conn), see settings.c.
 */
#ifndef PL_SQL_SETTINGS_H
#define PL_SQL_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

typedef enum pl_setting_id {
	PL_SET_MAX_RETRY_COUNT,
	PL_SET_RETRY_WAIT_MS,
	PL_SET_RETRY_BACKOFF,
	PL_SET_DEFAULT_INLINE_LIMIT,
	PL_SET_TARGET_FILE_SIZE,
	PL_SET_WRITE_DELETION_VECTORS,
	PL_SET_COUNT
} pl_setting_id;

/* Values SET at one scope: `set` has bit 1 << id for each one given; text is the value as
 * current_setting() shows it. */
typedef struct pl_settings {
	unsigned set;
	char text[PL_SET_COUNT][32];
} pl_settings;

#endif
