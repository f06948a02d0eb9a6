/*
 * errors.h -- the stable set of error codes returned by libplanar. Never renumbered.
 * Fallible functions return 0 on success or one of these (negative) codes.
 */
#ifndef PLANAR_ERRORS_H
#define PLANAR_ERRORS_H

enum {
	PLANAR_OK = 0,
	PLANAR_ERROR = -1,       /* generic failure */
	PLANAR_ENOTFOUND = -3,   /* a named object does not exist */
	PLANAR_EEXISTS = -4,     /* an object of that name already exists */
	PLANAR_EINVALID = -5,    /* malformed input: SQL, options, arguments */
	PLANAR_ECONFLICT = -6,   /* a concurrent commit conflicts with this one */
	PLANAR_EBUSY = -7,       /* a lock or timeout; retrying may succeed */
	PLANAR_EIO = -8,         /* storage or file-system failure */
	PLANAR_ENOMEM = -9,      /* out of memory */
	PLANAR_EUNSUPPORTED = -10, /* valid request that Planar does not support (yet) */
	PLANAR_ECANCELED = -11,  /* interrupted */
	PLANAR_ECATALOG = -12,   /* the catalog database failed or is not a valid lake */
};

#endif
