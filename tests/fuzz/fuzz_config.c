/* fuzz_config.c - libFuzzer target: directive value parsers (cfgparse.c) */
/*
 * The input is one directive value (what follows the directive name on a
 * slapd.conf line, or an olcAuth0* value).  Every parser of cfgparse.c
 * gets it whole; the directives of several arguments (auth0-bind-throttle,
 * auth0-map-attribute) get it split at blanks as slapd splits a line.
 * Each copy is allocated to its exact size, so ASan sees a read past the
 * terminating NUL.  Besides crashes, UB and leaks, the target checks what
 * the parsers promise:
 *   - an accepted value is within its bounds;
 *   - what config.c emits to cn=config for a value parses back to it;
 *   - a domain that passes makes the URLs the module builds from it
 *     (https://DOMAIN/api/v2/) pass the URL check;
 *   - an accepted string has no control character, an accepted URL no
 *     user (an "@" before the path), query or fragment;
 *   - a map rule's JSON path can be walked over a user object.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "model.h"

#define CHECK( cond ) do { if ( !( cond ) ) { \
	fprintf( stderr, "fuzz_config: %s:%d: %s\n", __FILE__, __LINE__, \
		#cond ); abort(); } } while ( 0 )

static cJSON *user;

static char *
dup_exact( const char *s, size_t n )
{
	char *p = malloc( n + 1 );

	if ( p ) {
		memcpy( p, s, n );
		p[n] = '\0';
	}
	return p;
}

static int
has_control( const char *s )
{
	for ( ; *s; s++ )
		if ( (unsigned char)*s < 0x20 || *s == 0x7f )
			return 1;
	return 0;
}

static void
numbers( const char *v )
{
	char buf[64];
	unsigned long u, lo, hi, u2, lo2, hi2;
	long n;
	int pct, pct2;
	double d, d2;

	if ( auth0_cfg_ulong( v, &u ) == 0 ) {
		snprintf( buf, sizeof( buf ), "%lu", u );
		CHECK( auth0_cfg_ulong( buf, &u2 ) == 0 && u2 == u );
	}
	if ( auth0_cfg_number( v, 1, 3600, &n ) == 0 )
		CHECK( n >= 1 && n <= 3600 );
	if ( auth0_cfg_number( v, 0, 31536000L, &n ) == 0 )
		CHECK( n >= 0 && n <= 31536000L );
	if ( auth0_cfg_range( v, &lo, &hi ) == 0 ) {
		CHECK( lo > 0 && lo <= hi && hi <= AUTH0_CFG_ID_MAX );
		snprintf( buf, sizeof( buf ), "%lu-%lu", lo, hi );
		CHECK( auth0_cfg_range( buf, &lo2, &hi2 ) == 0 &&
			lo2 == lo && hi2 == hi );
	}
	if ( auth0_cfg_max_delete( v, &u, &pct ) == 0 ) {
		CHECK( !pct || u <= 100 );
		snprintf( buf, sizeof( buf ), "%lu%s", u, pct ? "%" : "" );
		CHECK( auth0_cfg_max_delete( buf, &u2, &pct2 ) == 0 &&
			u2 == u && pct2 == pct );
	}
	if ( auth0_cfg_rate( v, &d ) == 0 ) {
		CHECK( d >= 0 && d <= AUTH0_CFG_RATE_MAX );
		auth0_cfg_rate_str( d, buf, sizeof( buf ) );
		CHECK( auth0_cfg_rate( buf, &d2 ) == 0 && d2 == d );
	}
}

static void
strings( const char *v )
{
	char c, *url;
	size_t n = strlen( v );
	struct auth0_cidr net = { 4, { 0 }, 0 };	/* 0.0.0.0/0 */

	/* a trusted network matches its own address, and nothing bad breaks */
	if ( auth0_cfg_cidr( v, &net ) == 0 ) {
		char addr[64];
		size_t k = strcspn( v, "/" );
		CHECK( net.ci_family == 4 || net.ci_family == 6 );
		CHECK( net.ci_bits >= 0 && net.ci_bits <= ( net.ci_family == 4 ?
			32 : 128 ) );
		CHECK( k < sizeof( addr ) );
		memcpy( addr, v, k );
		addr[k] = '\0';
		CHECK( auth0_cidr_match( &net, addr ) );
	}
	(void)auth0_cidr_match( &net, v );
	if ( auth0_cfg_otp_separator( v, &c ) == 0 )
		CHECK( n == 1 && c == v[0] && c > ' ' && c < 0x7f );
	(void)auth0_cfg_bind_mode( v );
	if ( auth0_cfg_text( v ) == 0 )
		CHECK( n > 0 && !has_control( v ) );
	if ( auth0_cfg_token( v ) == 0 )
		CHECK( n > 0 && !has_control( v ) && !strchr( v, ' ' ) );
	if ( auth0_cfg_abspath( v ) == 0 )
		CHECK( v[0] == '/' && !has_control( v ) );
	if ( auth0_cfg_connection( v ) == 0 )
		CHECK( n > 0 && n <= AUTH0_CFG_CONN_MAX && !strchr( v, ' ' ) );
	if ( auth0_cfg_https_url( v ) == 0 ) {
		/* "@" may appear in the path, never in the authority */
		size_t auth = 8 + strcspn( v + 8, "/" );
		CHECK( n <= AUTH0_CFG_URL_MAX && !has_control( v ) &&
			!memchr( v, '@', auth ) && !strchr( v, '?' ) &&
			!strchr( v, '#' ) && !strchr( v, ' ' ) );
	}
	if ( auth0_cfg_domain( v ) == 0 ) {
		CHECK( n > 0 && !strchr( v, '/' ) && !strchr( v, '@' ) );
		/* source.c builds the audience and the base URL from it */
		url = malloc( n + sizeof( "https:///api/v2/" ) );
		if ( url ) {
			sprintf( url, "https://%s/api/v2/", v );
			CHECK( auth0_cfg_https_url( url ) == 0 );
			sprintf( url, "https://%s", v );
			CHECK( auth0_cfg_https_url( url ) == 0 );
			free( url );
		}
	}
}

/* A line "ARG1 ARG2 ..." split at blanks, as slapd splits directives. */
static int
split( const char *v, char **argv, int max )
{
	int n = 0;
	size_t len;

	while ( *v && n < max ) {
		while ( *v == ' ' || *v == '\t' )
			v++;
		if ( *v == '\0' )
			break;
		len = strcspn( v, " \t" );
		argv[n] = dup_exact( v, len );
		if ( argv[n] == NULL )
			break;
		n++;
		v += len;
	}
	return n;
}

static void
arguments( const char *v )
{
	char *argv[4];
	long t[3];
	char **vals;
	int n, i;

	n = split( v, argv, 4 );
	if ( n == 3 && auth0_cfg_throttle( argv[0], argv[1], argv[2], t ) == 0 )
		CHECK( t[0] >= 0 && t[0] <= 10000 && t[1] >= 0 &&
			t[1] <= 100000 && t[2] >= 1 && t[2] <= 86400 );
	if ( n == 2 && auth0_cfg_map_rule( argv[0], argv[1] ) == 0 ) {
		CHECK( !auth0_cfg_reserved_attr( argv[0] ) );
		CHECK( auth0_path_valid( argv[1] ) );
		CHECK( strlen( argv[1] ) <= AUTH0_CFG_PATH_MAX );
		vals = auth0_json_path_values( user, argv[1] );
		if ( vals ) {
			for ( i = 0; vals[i]; i++ )
				CHECK( strlen( vals[i] ) < 65536 );
			auth0_strv_free( vals );
		}
	}
	for ( i = 0; i < n; i++ )
		free( argv[i] );
}

int
LLVMFuzzerInitialize( int *argc, char ***argv )
{
	user = cJSON_Parse( "{\"user_id\":\"auth0|1\",\"email\":\"a@x.com\","
		"\"app_metadata\":{\"employee_id\":\"E1\",\"uid_number\":1001,"
		"\"big\":1e300,\"neg\":-1e300,\"tags\":[\"a\",\"b\",{\"c\":1}],"
		"\"deep\":{\"deeper\":{\"deepest\":[1,2.5,true,null]}}},"
		"\"user_metadata\":{\"ssh_keys\":[\"ssh-ed25519 AAAA\"],"
		"\"phones\":[]}}" );
	return user ? 0 : -1;
}

int
LLVMFuzzerTestOneInput( const uint8_t *data, size_t size )
{
	const char *nul = memchr( data, 0, size );
	char *v = dup_exact( (const char *)data,
		nul ? (size_t)( nul - (const char *)data ) : size );

	if ( v == NULL )
		return 0;
	numbers( v );
	strings( v );
	arguments( v );
	free( v );
	return 0;
}
