/* bindcache.c - verified passwords as keyed hashes, and failure counts */
/*
 * A successful verification is remembered per DN as HMAC-SHA-256 of the
 * password under a random key made when the process starts (never the
 * password itself), compared in constant time; an entry may carry its
 * own shorter life (a password with a one-time code).  Failures are
 * counted per key (a DN or a client address, itself kept only as an HMAC,
 * so every entry has the same size) in a fixed window that starts at the
 * key's first failure: AUTH0_FAIL_MAX entries at most, oldest window
 * first out, so a spray of distinct DNs or addresses cannot grow it.
 * Both live in hash tables guarded by one mutex; callers are slapd's
 * worker threads.
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

#define FAIL_BUCKETS	65536

struct slot {
	struct slot	*sl_next;
	char		*sl_key;
	unsigned char	sl_mac[MAC_LEN];
	time_t		sl_time;	/* verified at */
	time_t		sl_max_age;	/* 0: the caller's TTL alone */
};

/* One failure count; on the hash chain and on the list oldest first. */
struct fail {
	struct fail	*fl_next;		/* hash chain */
	struct fail	*fl_older, *fl_newer;	/* by window start */
	unsigned char	fl_key[MAC_LEN];	/* HMAC of the DN or address */
	time_t		fl_start;		/* window start */
	int		fl_count;		/* failures in the window */
};

struct auth0_bindcache {
	pthread_mutex_t	bc_mutex;
	unsigned char	bc_secret[32];
	struct slot	*bc_ok[NBUCKETS];	/* verified passwords */
	struct fail	*bc_fail[FAIL_BUCKETS];	/* failure counts */
	struct fail	*bc_oldest, *bc_newest;
	size_t		bc_nfail;
	float		bc_lat[AUTH0_LAT_WINDOW];	/* ms, a ring */
	unsigned long	bc_nlat;
};

size_t
auth0_bindcache_fail_entry_size( void )
{
	return sizeof( struct fail );
}

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
	while ( bc->bc_oldest ) {
		struct fail *f = bc->bc_oldest;
		bc->bc_oldest = f->fl_newer;
		free( f );
	}
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

/*
 * HMAC over tag, dn NUL password, so a hash is bound to its DN and a
 * password hash never equals a failure key.
 */
static int
mac( struct auth0_bindcache *bc, const char *tag, const char *dn,
	const char *pw, unsigned char out[MAC_LEN] )
{
	gnutls_hmac_hd_t h;

	if ( gnutls_hmac_init( &h, GNUTLS_MAC_SHA256, bc->bc_secret,
			sizeof( bc->bc_secret ) ) != 0 )
		return -1;
	gnutls_hmac( h, tag, strlen( tag ) + 1 );
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

	if ( max_age <= 0 || mac( bc, "ok", dn, password, m ) != 0 )
		return 0;
	pthread_mutex_lock( &bc->bc_mutex );
	s = lookup( bc->bc_ok, dn, 0 );
	if ( s && s->sl_max_age > 0 && s->sl_max_age < max_age )
		max_age = s->sl_max_age;
	if ( s && now - s->sl_time <= max_age && now >= s->sl_time )
		ok = equal_ct( s->sl_mac, m, MAC_LEN );
	pthread_mutex_unlock( &bc->bc_mutex );
	explicit_bzero( m, sizeof( m ) );
	return ok;
}

void
auth0_bindcache_store( struct auth0_bindcache *bc, const char *dn,
	const char *password, time_t now, time_t max_age )
{
	unsigned char m[MAC_LEN];
	struct slot *s;

	if ( mac( bc, "ok", dn, password, m ) != 0 )
		return;
	pthread_mutex_lock( &bc->bc_mutex );
	s = lookup( bc->bc_ok, dn, 1 );
	if ( s ) {
		memcpy( s->sl_mac, m, MAC_LEN );
		s->sl_time = now;
		s->sl_max_age = max_age;
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

/* ---- failure counts ---- */

static unsigned
fail_bucket( const unsigned char key[MAC_LEN] )
{
	unsigned h;

	memcpy( &h, key, sizeof( h ) );	/* keyed hash: no chosen collisions */
	return h % FAIL_BUCKETS;
}

static void
fail_unlist( struct auth0_bindcache *bc, struct fail *f )
{
	if ( f->fl_older )
		f->fl_older->fl_newer = f->fl_newer;
	else
		bc->bc_oldest = f->fl_newer;
	if ( f->fl_newer )
		f->fl_newer->fl_older = f->fl_older;
	else
		bc->bc_newest = f->fl_older;
	f->fl_older = f->fl_newer = NULL;
}

static void
fail_list_newest( struct auth0_bindcache *bc, struct fail *f )
{
	f->fl_older = bc->bc_newest;
	f->fl_newer = NULL;
	if ( bc->bc_newest )
		bc->bc_newest->fl_newer = f;
	else
		bc->bc_oldest = f;
	bc->bc_newest = f;
}

static void
fail_remove( struct auth0_bindcache *bc, struct fail *f )
{
	struct fail **p = &bc->bc_fail[fail_bucket( f->fl_key )];

	for ( ; *p; p = &( *p )->fl_next )
		if ( *p == f ) {
			*p = f->fl_next;
			break;
		}
	fail_unlist( bc, f );
	bc->bc_nfail--;
	free( f );
}

/* Drops windows that ended; the list is ordered by window start. */
static void
fail_expire( struct auth0_bindcache *bc, time_t now, time_t window )
{
	while ( bc->bc_oldest && now - bc->bc_oldest->fl_start >= window )
		fail_remove( bc, bc->bc_oldest );
}

static struct fail *
fail_find( struct auth0_bindcache *bc, const unsigned char key[MAC_LEN] )
{
	struct fail *f;

	for ( f = bc->bc_fail[fail_bucket( key )]; f; f = f->fl_next )
		if ( memcmp( f->fl_key, key, MAC_LEN ) == 0 )
			return f;
	return NULL;
}

int
auth0_bindcache_throttled( struct auth0_bindcache *bc, const char *key,
	time_t now, int max, time_t window )
{
	unsigned char k[MAC_LEN];
	struct fail *f;
	int hit = 0;

	if ( max <= 0 || mac( bc, "fail", key, "", k ) != 0 )
		return 0;
	pthread_mutex_lock( &bc->bc_mutex );
	fail_expire( bc, now, window );
	f = fail_find( bc, k );
	if ( f && now - f->fl_start < window )
		hit = f->fl_count >= max;
	pthread_mutex_unlock( &bc->bc_mutex );
	return hit;
}

void
auth0_bindcache_failed( struct auth0_bindcache *bc, const char *key,
	time_t now, time_t window )
{
	unsigned char k[MAC_LEN];
	struct fail *f;

	if ( mac( bc, "fail", key, "", k ) != 0 )
		return;
	pthread_mutex_lock( &bc->bc_mutex );
	fail_expire( bc, now, window );
	f = fail_find( bc, k );
	if ( f == NULL ) {
		/* full: the oldest window goes first */
		if ( bc->bc_nfail >= AUTH0_FAIL_MAX )
			fail_remove( bc, bc->bc_oldest );
		f = calloc( 1, sizeof( *f ) );
		if ( f ) {
			unsigned b = fail_bucket( k );
			memcpy( f->fl_key, k, MAC_LEN );
			f->fl_start = now;
			f->fl_next = bc->bc_fail[b];
			bc->bc_fail[b] = f;
			fail_list_newest( bc, f );
			bc->bc_nfail++;
		}
	}
	if ( f )
		f->fl_count++;
	pthread_mutex_unlock( &bc->bc_mutex );
}

void
auth0_bindcache_reset( struct auth0_bindcache *bc, const char *key )
{
	unsigned char k[MAC_LEN];
	struct fail *f;

	if ( mac( bc, "fail", key, "", k ) != 0 )
		return;
	pthread_mutex_lock( &bc->bc_mutex );
	if ( ( f = fail_find( bc, k ) ) != NULL )
		fail_remove( bc, f );
	pthread_mutex_unlock( &bc->bc_mutex );
}

size_t
auth0_bindcache_failures( struct auth0_bindcache *bc )
{
	size_t n;

	pthread_mutex_lock( &bc->bc_mutex );
	n = bc->bc_nfail;
	pthread_mutex_unlock( &bc->bc_mutex );
	return n;
}

/* ---- upstream latency ---- */

void
auth0_bindcache_latency_add( struct auth0_bindcache *bc, double ms )
{
	pthread_mutex_lock( &bc->bc_mutex );
	bc->bc_lat[bc->bc_nlat++ % AUTH0_LAT_WINDOW] = (float)ms;
	pthread_mutex_unlock( &bc->bc_mutex );
}

static int
cmp_float( const void *a, const void *b )
{
	float x = *(const float *)a, y = *(const float *)b;

	return ( x > y ) - ( x < y );
}

void
auth0_bindcache_latency( struct auth0_bindcache *bc, double *p50,
	double *p99 )
{
	float v[AUTH0_LAT_WINDOW];
	size_t n;

	pthread_mutex_lock( &bc->bc_mutex );
	n = bc->bc_nlat < AUTH0_LAT_WINDOW ? bc->bc_nlat : AUTH0_LAT_WINDOW;
	memcpy( v, bc->bc_lat, n * sizeof( *v ) );
	pthread_mutex_unlock( &bc->bc_mutex );
	*p50 = *p99 = 0;
	if ( n == 0 )
		return;
	qsort( v, n, sizeof( *v ), cmp_float );
	*p50 = v[( n - 1 ) / 2];
	*p99 = v[( n * 99 - 1 ) / 100];
}
