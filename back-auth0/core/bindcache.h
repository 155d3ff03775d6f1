/* bindcache.h - verified passwords and failure counts of binds */
/*
 * Slapd-free core: bindcache.c remembers passwords Auth0 verified as keyed
 * hashes (never the passwords), counts failures for throttling in a bounded
 * table and keeps the latency of the last upstream bind calls.  Used
 * by bind.c, and by the diff to forget users that changed.
 */
#ifndef AUTH0_BINDCACHE_H
#define AUTH0_BINDCACHE_H

#include <stddef.h>
#include <time.h>

struct auth0_bindcache;

struct auth0_bindcache *auth0_bindcache_new( void );
void auth0_bindcache_free( struct auth0_bindcache *bc );

/*
 * 1 when dn's password matches a verification younger than max_age s
 * (and younger than the entry's own max_age, when it was stored with one).
 */
int auth0_bindcache_check( struct auth0_bindcache *bc, const char *dn,
	const char *password, time_t now, time_t max_age );
/* max_age 0: the entry lives as long as the caller's TTL says. */
void auth0_bindcache_store( struct auth0_bindcache *bc, const char *dn,
	const char *password, time_t now, time_t max_age );
void auth0_bindcache_forget( struct auth0_bindcache *bc, const char *dn );
/* Forgets every verified password (auth0-domain moved to another tenant). */
void auth0_bindcache_forget_all( struct auth0_bindcache *bc );

/*
 * Failure throttling: auth0_bindcache_throttled() says whether key (a DN
 * or an IP) had at least max failures in its window (fixed, window
 * seconds from the key's first failure); auth0_bindcache_failed() records
 * one; auth0_bindcache_reset() clears a key after a success.  The table
 * holds at most AUTH0_FAIL_MAX keys (the oldest window goes first) of
 * auth0_bindcache_fail_entry_size() bytes each;
 * auth0_bindcache_failures() is how many it holds now.
 */
#define AUTH0_FAIL_MAX	65536
int auth0_bindcache_throttled( struct auth0_bindcache *bc, const char *key,
	time_t now, int max, time_t window );
void auth0_bindcache_failed( struct auth0_bindcache *bc, const char *key,
	time_t now, time_t window );
void auth0_bindcache_reset( struct auth0_bindcache *bc, const char *key );
size_t auth0_bindcache_failures( struct auth0_bindcache *bc );
size_t auth0_bindcache_fail_entry_size( void );

/*
 * Latency of upstream bind calls: the last AUTH0_LAT_WINDOW kept;
 * auth0_bindcache_latency() gives their median and 99th percentile in
 * milliseconds (0 when none yet).
 */
#define AUTH0_LAT_WINDOW	1024
void auth0_bindcache_latency_add( struct auth0_bindcache *bc, double ms );
void auth0_bindcache_latency( struct auth0_bindcache *bc, double *p50,
	double *p99 );

#endif /* AUTH0_BINDCACHE_H */
