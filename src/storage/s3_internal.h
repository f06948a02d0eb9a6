/*
 * s3_internal.h -- pieces shared by the files of the S3 client (s3.c, s3_xml.c); not for other
 * modules: the client's state, one request (s3_request.c), XML answers (s3_xml.c). The XML readers take the raw response body (possibly NULL/empty or not XML at all)
 * and never fail on bad input: they find nothing.
 */
#ifndef PL_STORAGE_S3_INTERNAL_H
#define PL_STORAGE_S3_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "storage/s3.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>

#include "core/buf.h"

#define PL_S3_MAX_ERROR_BODY (64 * 1024)

struct pl_s3 {
	pl_s3_config cfg;
	CURL *h;
	char *scheme;  /* "http" | "https" */
	char *host;    /* host[:port] */
	char *sigv4;   /* "aws:amz:<region>:s3" */
	unsigned seed;
	pl_s3_stats stats;
	pthread_t owner; /* the thread running a multipart upload's own requests */
};

typedef struct s3_req {
	const char *op;     /* for messages: "upload", "download", ... */
	const char *method; /* GET PUT HEAD DELETE POST */
	const char *bucket, *key;
	const char *shown_key; /* named in messages when key is NULL (a listing's prefix) */
	const char *query;  /* encoded, parameters in sorted order; NULL for none */
	const char *if_none_match;
	const char *content_type;
	/* request body: a file range, or memory */
	int src_fd;
	int64_t src_off, src_len, src_pos;
	const char *body;
	size_t body_len;
	/* response body: to a file when the answer is 2xx, else into `resp` */
	int out_fd;
	int64_t written;
	size_t max_resp; /* most bytes of a 2xx body kept in `resp` */
	bool resp_too_big, body_too_big;
	/* statuses other than 2xx the caller handles itself */
	int accept[3];
	/* results */
	CURL *h;
	long status;
	pl_buf resp;
	char etag[256];
	char request_id[128];
	int64_t content_length;
	long retry_after_s;
	int attempts;
} s3_req;

void pl_s3_req_init(s3_req *r, const char *op, const char *method, const char *bucket, const char *key);
/* Sends the request, retrying what may succeed later; 0 when a 2xx or accepted answer came,
 * else the failure's code and message (pl_s3_fail). r->resp must be disposed by the caller. */
int pl_s3_perform(pl_s3 *c, s3_req *r, pl_err *err);
/* Fills err with the message of a failed request (cc: the transfer's curl code, 0 when an
 * answer came and r->status and r->resp tell what it was). Returns the code. */
int pl_s3_fail(pl_s3 *c, s3_req *r, int cc, const char *curl_msg, pl_err *err);

void pl_s3_xml_init(void);
/* Code, Message and Region of an S3 <Error> body (each NULL when absent; malloc'd). */
void pl_s3_xml_error(const char *body, size_t len, char **code, char **message, char **region);
bool pl_s3_xml_error_code_is(const char *body, size_t len, const char *code);
/* Whether the body's root element is <Error>. */
bool pl_s3_xml_is_error(const char *body, size_t len);
/* The text of the first element of that name anywhere in the body (malloc'd), or NULL. */
char *pl_s3_xml_text(const char *body, size_t len, const char *name);
/* Appends the <Contents> of a ListObjectsV2 answer to out; truncated and the next continuation
 * token (malloc'd, NULL when absent). PL_EIO when the body is not a listing. */
int pl_s3_xml_list(const char *body, size_t len, pl_s3_listing *out, bool *truncated, char **next_token,
		   pl_err *err);

#endif
