/* bindcache.c - verified passwords as keyed hashes, and failure counts */
/*
 * A successful verification is remembered per DN as HMAC-SHA-256 of the
 * password under a random key made when the process starts (never the
 * password itself), compared in constant time.  Failures are counted per
 * key (a DN or a client address) in a sliding window for throttling.
 * Both live in hash tables (hsearch would not let entries go) guarded by
 * one mutex; callers are slapd's worker threads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "model.h"
#include "bindcache.h"

#define NBUCKETS	4096
#define MAC_LEN		32

struct slot {
	struct slot	*sl_next;
	char		*sl_key;
	unsigned char	sl_mac[MAC_LEN];
	time_t		sl_time;	/* verified at / window start */
	int		sl_count;	/* failures in the window */
};

struct auth0_bindcache {
	pthread_mutex_t	bc_mutex;
	unsigned char	bc_secret[32];
	struct slot	*bc_ok[NBUCKETS];	/* verified passwords */
	struct slot	*bc_fail[NBUCKETS];	/* failure counts */
};

static unsigned
bucket( const char *key )
{
	unsigned h = 2166136261u;

	for ( ; *key; key++ )
		h = ( h ^ (unsigned char)*key ) * 16777619u;
	return h % NBUCKETS;
}

struct auth0_bindcache *
auth0_bindcache_new( void )
{
	struct auth0_bindcache *bc = calloc( 1, sizeof( *bc ) );

	if ( bc == NULL )
		return NULL;
	if ( gnutls_rnd( GNUTLS_RND_KEY, bc->bc_secret,
			sizeof( bc->bc_secret ) ) != 0 ) {
		free( bc );
		return NULL;
	}
	pthread_mutex_init( &bc->bc_mutex, NULL );
	return bc;
}

static void
slots_free( struct slot **tab )
{
	size_t i;

	for ( i = 0; i < NBUCKETS; i++ )
		while ( tab[i] ) {
			struct slot *n = tab[i]->sl_next;
			explicit_bzero( tab[i]->sl_mac, MAC_LEN );
			free( tab[i]->sl_key );
			free( tab[i] );
			tab[i] = n;
		}
}

void
auth0_bindcache_free( struct auth0_bindcache *bc )
{
	if ( bc == NULL )
		return;
	slots_free( bc->bc_ok );
	slots_free( bc->bc_fail );
	explicit_bzero( bc->bc_secret, sizeof( bc->bc_secret ) );
	pthread_mutex_destroy( &bc->bc_mutex );
	free( bc );
}

/* The slot of key in tab; with create, made when missing (NULL: no memory). */
static struct slot *
lookup( struct slot **tab, const char *key, int create )
{
	struct slot **p = &tab[bucket( key )], *s;

	for ( s = *p; s; s = s->sl_next )
		if ( strcmp( s->sl_key, key ) == 0 )
			return s;
	if ( !create || ( s = calloc( 1, sizeof( *s ) ) ) == NULL )
		return NULL;
	if ( ( s->sl_key = strdup( key ) ) == NULL ) {
		free( s );
		return NULL;
	}
	s->sl_next = *p;
	*p = s;
	return s;
}

static void
unlink_slot( struct slot **tab, const char *key )
{
	struct slot **p = &tab[bucket( key )], *s;

	for ( ; ( s = *p ); p = &s->sl_next )
		if ( strcmp( s->sl_key, key ) == 0 ) {
			*p = s->sl_next;
			explicit_bzero( s->sl_mac, MAC_LEN );
			free( s->sl_key );
			free( s );
			return;
		}
}

/* HMAC over dn NUL password, so a hash is bound to its DN. */
static int
mac( struct auth0_bindcache *bc, const char *dn, const char *pw,
	unsigned char out[MAC_LEN] )
{
	gnutls_hmac_hd_t h;

	if ( gnutls_hmac_init( &h, GNUTLS_MAC_SHA256, bc->bc_secret,
			sizeof( bc->bc_secret ) ) != 0 )
		return -1;
	gnutls_hmac( h, dn, strlen( dn ) + 1 );
	gnutls_hmac( h, pw, strlen( pw ) );
	gnutls_hmac_deinit( h, out );
	return 0;
}

static int
equal_ct( const unsigned char *a, const unsigned char *b, size_t n )
{
	unsigned char d = 0;
	size_t i;

	for ( i = 0; i < n; i++ )
		d |= a[i] ^ b[i];
	return d == 0;
}

int
auth0_bindcache_check( struct auth0_bindcache *bc, const char *dn,
	const char *password, time_t now, time_t max_age )
{
	unsigned char m[MAC_LEN];
	struct slot *s;
	int ok = 0;

	if ( max_age <= 0 || mac( bc, dn, password, m ) != 0 )
		return 0;
	pthread_mutex_lock( &bc->bc_mutex );
	s = lookup( bc->bc_ok, dn, 0 );
	if ( s && now - s->sl_time <= max_age && now >= s->sl_time )
		ok = equal_ct( s->sl_mac, m, MAC_LEN );
	pthread_mutex_unlock( &bc->bc_mutex );
	explicit_bzero( m, sizeof( m ) );
	return ok;
}

void
auth0_bindcache_store( struct auth0_bindcache *bc, const char *dn,
	const char *password, time_t now )
{
	unsigned char m[MAC_LEN];
	struct slot *s;

	if ( mac( bc, dn, password, m ) != 0 )
		return;
	pthread_mutex_lock( &bc->bc_mutex );
	s = lookup( bc->bc_ok, dn, 1 );
	if ( s ) {
		memcpy( s->sl_mac, m, MAC_LEN );
		s->sl_time = now;
	}
	pthread_mutex_unlock( &bc->bc_mutex );
	explicit_bzero( m, sizeof( m ) );
}

void
auth0_bindcache_forget( struct auth0_bindcache *bc, const char *dn )
{
	pthread_mutex_lock( &bc->bc_mutex );
	unlink_slot( bc->bc_ok, dn );
	pthread_mutex_unlock( &bc->bc_mutex );
}

void
auth0_bindcache_forget_all( struct auth0_bindcache *bc )
{
	pthread_mutex_lock( &bc->bc_mutex );
	slots_free( bc->bc_ok );
	pthread_mutex_unlock( &bc->bc_mutex );
}

int
auth0_bindcache_throttled( struct auth0_bindcache *bc, const char *key,
	time_t now, int max, time_t window )
{
	struct slot *s;
	int hit = 0;

	if ( max <= 0 )
		return 0;
	pthread_mutex_lock( &bc->bc_mutex );
	s = lookup( bc->bc_fail, key, 0 );
	if ( s && now - s->sl_time < window )
		hit = s->sl_count >= max;
	pthread_mutex_unlock( &bc->bc_mutex );
	return hit;
}

void
auth0_bindcache_failed( struct auth0_bindcache *bc, const char *key,
	time_t now, time_t window )
{
	struct slot *s;

	pthread_mutex_lock( &bc->bc_mutex );
	s = lookup( bc->bc_fail, key, 1 );
	if ( s ) {
		/* a window starts at the first failure after the last one ended */
		if ( s->sl_count == 0 || now - s->sl_time >= window ) {
			s->sl_time = now;
			s->sl_count = 0;
		}
		s->sl_count++;
	}
	pthread_mutex_unlock( &bc->bc_mutex );
}

void
auth0_bindcache_reset( struct auth0_bindcache *bc, const char *key )
{
	pthread_mutex_lock( &bc->bc_mutex );
	unlink_slot( bc->bc_fail, key );
	pthread_mutex_unlock( &bc->bc_mutex );
}
