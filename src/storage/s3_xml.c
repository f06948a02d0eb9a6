/*
 * s3_xml.c -- reading S3's XML answers (error bodies, ListObjectsV2, multipart results) with
 * libxml2. Parsing never touches the network, expands no external entity and prints nothing.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/str.h"
#include "storage/s3_internal.h"

#define PARSE_OPTS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA)

void pl_s3_xml_init(void)
{
	xmlInitParser();
}

static xmlDocPtr parse(const char *body, size_t len)
{
	if (!body || len == 0 || len > (size_t)2147483647)
		return NULL;
	return xmlReadMemory(body, (int)len, "s3.xml", NULL, PARSE_OPTS);
}

static bool named(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->name && strcmp((const char *)n->name, name) == 0;
}

/* The first element of that name at or below n, depth first. */
static xmlNode *find(xmlNode *n, const char *name)
{
	for (; n; n = n->next) {
		if (named(n, name))
			return n;
		xmlNode *c = find(n->children, name);
		if (c)
			return c;
	}
	return NULL;
}

static xmlNode *child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (named(c, name))
			return c;
	return NULL;
}

/* The element's text as our own malloc'd string (NULL when n is NULL or out of memory). */
static char *text_of(xmlNode *n)
{
	if (!n)
		return NULL;
	xmlChar *t = xmlNodeGetContent(n);
	char *s = pl_strdup(t ? (const char *)t : "");
	xmlFree(t);
	return s;
}

void pl_s3_xml_error(const char *body, size_t len, char **code, char **message, char **region)
{
	*code = *message = *region = NULL;
	xmlDocPtr doc = parse(body, len);
	if (!doc)
		return;
	xmlNode *root = xmlDocGetRootElement(doc);
	if (root && named(root, "Error")) {
		*code = text_of(child(root, "Code"));
		*message = text_of(child(root, "Message"));
		*region = text_of(child(root, "Region"));
	}
	xmlFreeDoc(doc);
}

bool pl_s3_xml_error_code_is(const char *body, size_t len, const char *code)
{
	char *c, *m, *r;
	pl_s3_xml_error(body, len, &c, &m, &r);
	bool is = c && strcmp(c, code) == 0;
	free(c);
	free(m);
	free(r);
	return is;
}

bool pl_s3_xml_is_error(const char *body, size_t len)
{
	xmlDocPtr doc = parse(body, len);
	if (!doc)
		return false;
	xmlNode *root = xmlDocGetRootElement(doc);
	bool is = root && named(root, "Error");
	xmlFreeDoc(doc);
	return is;
}

char *pl_s3_xml_text(const char *body, size_t len, const char *name)
{
	xmlDocPtr doc = parse(body, len);
	if (!doc)
		return NULL;
	char *s = text_of(find(xmlDocGetRootElement(doc), name));
	xmlFreeDoc(doc);
	return s;
}

static char *unquote_owned(char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
	return s;
}

int pl_s3_xml_list(const char *body, size_t len, pl_s3_listing *out, bool *truncated, char **next_token,
		   pl_err *err)
{
	*truncated = false;
	*next_token = NULL;
	xmlDocPtr doc = parse(body, len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root || !named(root, "ListBucketResult")) {
		if (doc)
			xmlFreeDoc(doc);
		return pl_err_set(err, PL_EIO, "S3 list: the server's answer is not a ListBucketResult");
	}
	int rc = 0;
	for (xmlNode *c = root->children; c && rc == 0; c = c->next) {
		if (!named(c, "Contents"))
			continue;
		char *key = text_of(child(c, "Key")), *size = text_of(child(c, "Size"));
		char *etag = unquote_owned(text_of(child(c, "ETag")));
		if (!key || !size) {
			free(key);
			free(size);
			free(etag);
			continue;
		}
		if (out->len == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 64;
			pl_s3_object *items = realloc(out->items, cap * sizeof *items);
			if (!items) {
				free(key);
				free(size);
				free(etag);
				rc = pl_err_nomem(err);
				break;
			}
			out->items = items;
			out->cap = cap;
		}
		pl_s3_object *o = &out->items[out->len++];
		o->key = key;
		o->size = strtoll(size, NULL, 10);
		o->etag = etag ? etag : pl_strdup("");
		o->mtime_us = 0;
		char *lm = text_of(child(c, "LastModified"));
		struct tm tm = {0};
		char *rest = lm ? strptime(lm, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
		if (rest)
			o->mtime_us = (int64_t)timegm(&tm) * 1000000;
		free(lm);
		free(size);
	}
	if (rc == 0) {
		char *t = text_of(child(root, "IsTruncated"));
		*truncated = t && strcmp(t, "true") == 0;
		free(t);
		*next_token = text_of(child(root, "NextContinuationToken"));
	}
	xmlFreeDoc(doc);
	return rc;
}
