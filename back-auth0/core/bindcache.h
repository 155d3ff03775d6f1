/* bindcache.h - verified passwords and failure counts of binds */
/*
 * Slapd-free core: bindcache.c remembers passwords Auth0 verified as keyed
 * hashes (never the passwords) and counts failures for throttling.  Used
 * by bind.c, and by the diff to forget users that changed.
 */
#ifndef AUTH0_BINDCACHE_H
#define AUTH0_BINDCACHE_H

#include <time.h>

struct auth0_bindcache;

struct auth0_bindcache *auth0_bindcache_new( void );
void auth0_bindcache_free( struct auth0_bindcache *bc );

/* 1 when dn's password matches a verification younger than max_age s. */
int auth0_bindcache_check( struct auth0_bindcache *bc, const char *dn,
	const char *password, time_t now, time_t max_age );
void auth0_bindcache_store( struct auth0_bindcache *bc, const char *dn,
	const char *password, time_t now );
void auth0_bindcache_forget( struct auth0_bindcache *bc, const char *dn );
/* Forgets every verified password (auth0-domain moved to another tenant). */
void auth0_bindcache_forget_all( struct auth0_bindcache *bc );

/*
 * Failure throttling: auth0_bindcache_throttled() says whether key (a DN
 * or an IP) had at least max failures within window seconds;
 * auth0_bindcache_failed() records one; auth0_bindcache_reset() clears
 * a key after a success.
 */
int auth0_bindcache_throttled( struct auth0_bindcache *bc, const char *key,
	time_t now, int max, time_t window );
void auth0_bindcache_failed( struct auth0_bindcache *bc, const char *key,
	time_t now, time_t window );
void auth0_bindcache_reset( struct auth0_bindcache *bc, const char *key );

#endif /* AUTH0_BINDCACHE_H */
