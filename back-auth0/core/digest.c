/* digest.c - content fingerprints of entries for back-auth0 */
/*
 * SHA-256 (GnuTLS) over a length-prefixed serialisation, truncated to 128
 * bits: names are folded to lower case, lengths keep "ab","c" apart from
 * "a","bc".  Used to tell whether a stored entry already holds what the
 * mapper wants, without keeping stored entries in memory.
 */
#include <ctype.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "model.h"
#include "digest.h"

int
auth0_digest_init( struct auth0_digest *d )
{
	gnutls_hash_hd_t h;

	if ( gnutls_hash_init( &h, GNUTLS_DIG_SHA256 ) != 0 )
		return AUTH0_ERR_NOMEM;
	d->dg_hash = h;
	return AUTH0_OK;
}

static void
feed_len( struct auth0_digest *d, size_t len )
{
	unsigned char b[8];
	int i;

	for ( i = 0; i < 8; i++ )
		b[i] = (unsigned char)( len >> ( 8 * i ) );
	gnutls_hash( (gnutls_hash_hd_t)d->dg_hash, b, sizeof( b ) );
}

void
auth0_digest_attr( struct auth0_digest *d, const char *name, int nvals )
{
	char low[128];
	size_t n = strlen( name ), i;

	if ( n >= sizeof( low ) )
		n = sizeof( low ) - 1;
	for ( i = 0; i < n; i++ )
		low[i] = (char)tolower( (unsigned char)name[i] );
	feed_len( d, n );
	gnutls_hash( (gnutls_hash_hd_t)d->dg_hash, low, n );
	feed_len( d, (size_t)nvals );
}

void
auth0_digest_value( struct auth0_digest *d, const char *v, size_t len )
{
	feed_len( d, len );
	gnutls_hash( (gnutls_hash_hd_t)d->dg_hash, v, len );
}

void
auth0_digest_final( struct auth0_digest *d, unsigned char out[16] )
{
	unsigned char md[32];

	gnutls_hash_deinit( (gnutls_hash_hd_t)d->dg_hash, md );
	memcpy( out, md, 16 );
	d->dg_hash = NULL;
}
