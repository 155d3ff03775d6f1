/* digest.h - content fingerprints of entries for back-auth0 */
#ifndef AUTH0_DIGEST_H
#define AUTH0_DIGEST_H

#include <stddef.h>

/* Feed attributes in a fixed order: name, value count, then each value.
 * The values of an attribute begun with auth0_digest_attr_set() are a
 * set: their order does not change the fingerprint. */
struct auth0_digest {
	void		*dg_hash;	/* gnutls_hash_hd_t */
	int		dg_set;		/* values of the current attribute */
	unsigned char	dg_sum[32];	/* ... summed, when a set */
};

int auth0_digest_init( struct auth0_digest *d );
void auth0_digest_attr( struct auth0_digest *d, const char *name, int nvals );
void auth0_digest_attr_set( struct auth0_digest *d, const char *name,
	int nvals );
void auth0_digest_value( struct auth0_digest *d, const char *v, size_t len );
void auth0_digest_final( struct auth0_digest *d, unsigned char out[16] );

#endif /* AUTH0_DIGEST_H */
