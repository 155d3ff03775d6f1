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
	d->dg_set = 0;
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

/* Ends a set of values: their sum goes into the fingerprint. */
static void
set_end( struct auth0_digest *d )
{
	if ( d->dg_set ) {
		gnutls_hash( (gnutls_hash_hd_t)d->dg_hash, d->dg_sum,
			sizeof( d->dg_sum ) );
		d->dg_set = 0;
	}
}

void
auth0_digest_attr( struct auth0_digest *d, const char *name, int nvals )
{
	char low[128];
	size_t n = strlen( name ), i;

	if ( n >= sizeof( low ) )
		n = sizeof( low ) - 1;
	set_end( d );
	for ( i = 0; i < n; i++ )
		low[i] = (char)tolower( (unsigned char)name[i] );
	feed_len( d, n );
	gnutls_hash( (gnutls_hash_hd_t)d->dg_hash, low, n );
	feed_len( d, (size_t)nvals );
}

/*
 * As auth0_digest_attr(), for an attribute whose values are a set (slapd
 * keeps sortvals attributes sorted, the mapper does not): each value is
 * hashed alone and the hashes are added up, byte-wise with carries, which
 * does not depend on their order.
 */
void
auth0_digest_attr_set( struct auth0_digest *d, const char *name, int nvals )
{
	auth0_digest_attr( d, name, nvals );
	memset( d->dg_sum, 0, sizeof( d->dg_sum ) );
	d->dg_set = 1;
}

static void
set_add( struct auth0_digest *d, const char *v, size_t len )
{
	unsigned char md[32];
	unsigned carry = 0;
	int i;

	if ( gnutls_hash_fast( GNUTLS_DIG_SHA256, v, len, md ) != 0 )
		memset( md, 0xff, sizeof( md ) );
	for ( i = 0; i < 32; i++ ) {
		carry += d->dg_sum[i] + md[i];
		d->dg_sum[i] = (unsigned char)carry;
		carry >>= 8;
	}
}

void
auth0_digest_value( struct auth0_digest *d, const char *v, size_t len )
{
	if ( d->dg_set ) {
		set_add( d, v, len );
		return;
	}
	feed_len( d, len );
	gnutls_hash( (gnutls_hash_hd_t)d->dg_hash, v, len );
}

void
auth0_digest_final( struct auth0_digest *d, unsigned char out[16] )
{
	unsigned char md[32];

	set_end( d );
	gnutls_hash_deinit( (gnutls_hash_hd_t)d->dg_hash, md );
	memcpy( out, md, 16 );
	d->dg_hash = NULL;
}
