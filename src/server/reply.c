/*
 * reply.c -- JSON replies and the service's one mapping of errors to HTTP statuses:
 *
 *   bad_request 400, unauthorized 401, forbidden 403, not_found 404, method_not_allowed 405,
 *   conflict 409, payload_too_large 413, unsupported_media_type 415, unprocessable 422,
 *   too_many_requests 429, unavailable 503 (with Retry-After), internal 500, insufficient_storage 507.
 *
 * Every error body is {"error": {"code": "<name above>", "message": "...", "details": {...}}}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/internal.h"

static const struct {
	int status;
	const char *code;
} err_table[] = {
	[PL_SRV_BAD_REQUEST] = {400, "bad_request"},
	[PL_SRV_UNAUTHORIZED] = {401, "unauthorized"},
	[PL_SRV_FORBIDDEN] = {403, "forbidden"},
	[PL_SRV_NOT_FOUND] = {404, "not_found"},
	[PL_SRV_METHOD] = {405, "method_not_allowed"},
	[PL_SRV_CONFLICT] = {409, "conflict"},
	[PL_SRV_TOO_LARGE] = {413, "payload_too_large"},
	[PL_SRV_MEDIA_TYPE] = {415, "unsupported_media_type"},
	[PL_SRV_INVALID] = {422, "unprocessable"},
	[PL_SRV_TOO_MANY] = {429, "too_many_requests"},
	[PL_SRV_UNAVAILABLE] = {503, "unavailable"},
	[PL_SRV_INTERNAL] = {500, "internal"},
	[PL_SRV_STORAGE] = {507, "insufficient_storage"},
};

int pl_srv_err_status(pl_srv_err e)
{
	return err_table[e].status;
}

const char *pl_srv_err_code(pl_srv_err e)
{
	return err_table[e].code;
}

pl_srv_err pl_srv_err_of_planar(int code)
{
	switch (code) {
	case PLANAR_EINVALID:
	case PLANAR_EUNSUPPORTED:
	case PLANAR_ERROR:
		return PL_SRV_BAD_REQUEST;
	case PLANAR_ENOTFOUND:
		return PL_SRV_NOT_FOUND;
	case PLANAR_EEXISTS:
	case PLANAR_ECONFLICT:
		return PL_SRV_CONFLICT;
	case PLANAR_EBUSY:
	case PLANAR_EIO:
	case PLANAR_ECATALOG:
	case PLANAR_ECANCELED:
	case PLANAR_ENOMEM:
		return PL_SRV_UNAVAILABLE;
	default:
		return PL_SRV_INTERNAL;
	}
}

static enum MHD_Result queue_text(struct MHD_Connection *c, pl_req *r, int status, char *text, bool retry)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "X-Request-Id", r->id);
	if (retry)
		MHD_add_response_header(resp, "Retry-After", "1");
	r->status = status;
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result pl_srv_reply_json(struct MHD_Connection *c, pl_req *r, int status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (!text)
		return MHD_NO;
	size_t n = strlen(text);
	char *t = realloc(text, n + 2);
	if (!t) {
		free(text);
		return MHD_NO;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	return queue_text(c, r, status, t, false);
}

enum MHD_Result pl_srv_reply_error(struct MHD_Connection *c, pl_req *r, pl_srv_err e, const char *message,
				   json_t *details)
{
	json_t *err = json_pack("{s:s,s:s,s:o}", "code", pl_srv_err_code(e), "message", message ? message : "",
				"details", details ? details : json_object());
	if (!err) /* e.g. a message that is not UTF-8 */
		err = json_pack("{s:s,s:s,s:{}}", "code", pl_srv_err_code(e), "message", "(message not shown)", "details");
	snprintf(r->error_code, sizeof r->error_code, "%s", pl_srv_err_code(e));
	json_t *body = json_pack("{s:o}", "error", err);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return MHD_NO;
	size_t n = strlen(text);
	char *t = realloc(text, n + 2);
	if (!t) {
		free(text);
		return MHD_NO;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	return queue_text(c, r, pl_srv_err_status(e), t, e == PL_SRV_UNAVAILABLE || e == PL_SRV_TOO_MANY);
}

bool pl_srv_is_json(struct MHD_Connection *c)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	if (!ct)
		return false;
	size_t n = strcspn(ct, ";");
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return n == strlen("application/json") && strncasecmp(ct, "application/json", n) == 0;
}

json_t *pl_srv_body_object(struct MHD_Connection *c, pl_req *r, enum MHD_Result *ret)
{
	if (!pl_srv_is_json(c)) {
		*ret = pl_srv_reply_error(c, r, PL_SRV_MEDIA_TYPE, "the body must be JSON (Content-Type: application/json)",
					  NULL);
		return NULL;
	}
	json_error_t jerr;
	json_t *v = json_loadb(r->body.ptr ? r->body.ptr : "", r->body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v) {
		*ret = pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, "the body is not valid JSON",
					  json_pack("{s:s,s:i,s:i}", "reason", jerr.text, "line", jerr.line, "column",
						    jerr.column));
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		*ret = pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, "the body must be a JSON object", NULL);
		return NULL;
	}
	return v;
}

bool pl_srv_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned char c = p[i];
		size_t len;
		uint32_t cp;
		if (c < 0x80) {
			if (c == 0)
				return false;
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			len = 2, cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3, cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4, cp = c & 0x07;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

void pl_srv_timestamp_iso(int64_t micros, bool tz, char out[40])
{
	int64_t secs = micros / 1000000, us = micros % 1000000;
	if (us < 0) {
		us += 1000000;
		secs--;
	}
	int64_t days = secs / 86400, rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	/* civil from days (proleptic Gregorian) */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	char frac[16] = "";
	if (us)
		snprintf(frac, sizeof frac, ".%06lld", (long long)us);
	snprintf(out, 40, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld%s%s", (long long)y, (long long)m, (long long)d,
		 (long long)(rem / 3600), (long long)(rem % 3600 / 60), (long long)(rem % 60), frac, tz ? "Z" : "");
}
