/*
 * fs_copy.c -- checksums and durable copies of local files (fs.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "storage/fs.h"

#define CHUNK (1 << 20)

static void to_hex(const unsigned char *d, unsigned n, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	for (unsigned i = 0; i < n && i < 32; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[64] = '\0';
}

/* Reads fd to its end, hashing, and writing to out_fd when it is >= 0. */
static int pump(int fd, int out_fd, const char *from, const char *to, char hex[65], int64_t *size, pl_err *err)
{
	unsigned char *buf = malloc(CHUNK);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = 0;
	int64_t total = 0;
	if (!buf || !md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		free(buf);
		EVP_MD_CTX_free(md);
		return pl_err_nomem(err);
	}
	for (;;) {
		ssize_t n = read(fd, buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = pl_err_set(err, PL_EIO, "cannot read '%s': %s", from, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		total += n;
		EVP_DigestUpdate(md, buf, (size_t)n);
		for (ssize_t done = 0; out_fd >= 0 && done < n;) {
			ssize_t w = write(out_fd, buf + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				rc = pl_err_set(err, PL_EIO, "cannot write '%s': %s", to, strerror(errno));
				break;
			}
			done += w;
		}
		if (rc)
			break;
	}
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned dn = 0;
	if (rc == 0 && EVP_DigestFinal_ex(md, d, &dn) == 1 && hex)
		to_hex(d, dn, hex);
	if (size)
		*size = total;
	EVP_MD_CTX_free(md);
	free(buf);
	return rc;
}

int pl_fs_sha256_file(const char *path, char hex[65], int64_t *size, pl_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pl_err_set(err, errno == ENOENT ? PL_ENOTFOUND : PL_EIO, "cannot open '%s': %s", path,
				  strerror(errno));
	int rc = pump(fd, -1, path, NULL, hex, size, err);
	close(fd);
	return rc;
}

int pl_fs_copy_file(const char *from, const char *to, bool exclusive, char hex[65], pl_err *err)
{
	if (exclusive && access(to, F_OK) == 0)
		return pl_err_set(err, PL_EEXISTS, "'%s' already exists", to);
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return pl_err_set(err, errno == ENOENT ? PL_ENOTFOUND : PL_EIO, "cannot open '%s': %s", from,
				  strerror(errno));
	pl_buf tmp = PL_BUF_INIT;
	pl_buf_printf(&tmp, "%s.planar-tmp-XXXXXX", to);
	int rc = pl_fs_mkdirs_parent(to, err);
	int out = -1;
	if (rc == 0 && pl_buf_oom(&tmp))
		rc = pl_err_nomem(err);
	if (rc == 0 && (out = mkstemp(tmp.ptr)) < 0)
		rc = pl_err_set(err, PL_EIO, "cannot create '%s': %s", tmp.ptr, strerror(errno));
	if (rc == 0 && fchmod(out, 0644) != 0)
		rc = pl_err_set(err, PL_EIO, "cannot set the mode of '%s': %s", tmp.ptr, strerror(errno));
	if (rc == 0)
		rc = pump(in, out, from, to, hex, NULL, err);
	if (rc == 0 && fsync(out) != 0)
		rc = pl_err_set(err, PL_EIO, "cannot sync '%s': %s", tmp.ptr, strerror(errno));
	if (out >= 0 && close(out) != 0 && rc == 0)
		rc = pl_err_set(err, PL_EIO, "cannot write '%s': %s", tmp.ptr, strerror(errno));
	if (rc == 0) {
		/* link() refuses an existing target, so an exclusive copy never replaces a file */
		if (exclusive) {
			if (link(tmp.ptr, to) != 0)
				rc = pl_err_set(err, errno == EEXIST ? PL_EEXISTS : PL_EIO, "cannot create '%s': %s", to,
						strerror(errno));
			unlink(tmp.ptr);
		} else if (rename(tmp.ptr, to) != 0) {
			rc = pl_err_set(err, PL_EIO, "cannot rename to '%s': %s", to, strerror(errno));
		}
	}
	if (rc != 0 && out >= 0)
		unlink(tmp.ptr);
	if (rc == 0)
		rc = pl_fs_sync_file(to, err);
	close(in);
	pl_buf_dispose(&tmp);
	return rc;
}
