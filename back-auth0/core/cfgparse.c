/* cfgparse.c - directive value parsers of back-auth0 (slapd-free) */
/*
 * What config.c checks about a directive's value, without slapd: whole
 * numbers and ranges, auth0-max-delete, auth0-request-rate, the bind
 * throttle, the OTP separator, trusted networks, host names, https URLs, ids, paths,
 * connection names and auth0-map-attribute rules.  config.c turns a
 * failure into a message naming the directive and the line; the cmocka
 * tests (tests/unit/test_cfgparse.c) and the libFuzzer target
 * (tests/fuzz/fuzz_config.c) call these directly.
 *
 * Every parser takes a NUL-terminated string of any content and length,
 * returns 0 when the value is acceptable (filling its outputs) and -1
 * when not (outputs untouched), allocates nothing and reads nothing past
 * the terminating NUL.  What is emitted back to cn=config (the *_str
 * functions) parses again to the same value.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "model.h"

/* Locale-free character classes: config values are ASCII. */
#define C_DIGIT( c )	( (c) >= '0' && (c) <= '9' )
#define C_ALPHA( c )	( ( (c) >= 'a' && (c) <= 'z' ) || \
			  ( (c) >= 'A' && (c) <= 'Z' ) )
#define C_ALNUM( c )	( C_ALPHA( c ) || C_DIGIT( c ) )
#define C_HEX( c )	( C_DIGIT( c ) || ( (c) >= 'a' && (c) <= 'f' ) || \
			  ( (c) >= 'A' && (c) <= 'F' ) )
#define C_GRAPH( c )	( (unsigned char)(c) > 0x20 && (unsigned char)(c) < 0x7f )

/* Strict unsigned decimal: digits only, no sign, no blank, no overflow. */
int
auth0_cfg_ulong( const char *s, unsigned long *out )
{
	unsigned long v = 0;
	const char *p;

	if ( s == NULL || !C_DIGIT( *s ) )
		return -1;
	for ( p = s; *p; p++ ) {
		if ( !C_DIGIT( *p ) )
			return -1;
		if ( v > ( (unsigned long)-1 - (unsigned long)( *p - '0' ) ) / 10 )
			return -1;
		v = v * 10 + (unsigned long)( *p - '0' );
	}
	*out = v;
	return 0;
}

/* A whole number from min to max (0 <= min <= max). */
int
auth0_cfg_number( const char *s, long min, long max, long *out )
{
	unsigned long v;

	if ( min < 0 || max < min || auth0_cfg_ulong( s, &v ) ||
			v < (unsigned long)min || v > (unsigned long)max )
		return -1;
	*out = (long)v;
	return 0;
}

/* "LOW-HIGH" with 0 < LOW <= HIGH < 2^31. */
int
auth0_cfg_range( const char *s, unsigned long *lo, unsigned long *hi )
{
	char buf[32];
	const char *dash;
	unsigned long l, h;
	size_t n;

	if ( s == NULL || ( dash = strchr( s, '-' ) ) == NULL )
		return -1;
	n = (size_t)( dash - s );
	if ( n >= sizeof( buf ) )
		return -1;
	memcpy( buf, s, n );
	buf[n] = '\0';
	if ( auth0_cfg_ulong( buf, &l ) || auth0_cfg_ulong( dash + 1, &h ) )
		return -1;
	if ( l == 0 || l > h || h > AUTH0_CFG_ID_MAX )
		return -1;
	*lo = l;
	*hi = h;
	return 0;
}

/* "COUNT" or "PERCENT%" (0-100). */
int
auth0_cfg_max_delete( const char *s, unsigned long *v, int *pct )
{
	char buf[32];
	size_t n = s ? strlen( s ) : 0;
	int p;
	unsigned long x;

	if ( n == 0 || n >= sizeof( buf ) )
		return -1;
	memcpy( buf, s, n + 1 );
	p = buf[n - 1] == '%';
	if ( p )
		buf[n - 1] = '\0';
	if ( auth0_cfg_ulong( buf, &x ) || ( p && x > 100 ) )
		return -1;
	*v = x;
	*pct = p;
	return 0;
}

/*
 * Requests per second: "N" or "N.F" with at most three decimals, 0 to
 * AUTH0_CFG_RATE_MAX.  No sign, exponent, hex, inf or nan (strtod
 * takes them all, and "%g" writes exponents this would not read back).
 */
int
auth0_cfg_rate( const char *s, double *out )
{
	unsigned long whole = 0, milli = 0;
	const char *p = s;
	int n;

	if ( s == NULL || !C_DIGIT( *p ) )
		return -1;
	for ( n = 0; C_DIGIT( *p ); p++, n++ ) {
		if ( n >= 5 )
			return -1;
		whole = whole * 10 + (unsigned long)( *p - '0' );
	}
	if ( *p == '.' ) {
		p++;
		for ( n = 0; C_DIGIT( *p ); p++, n++ ) {
			if ( n >= 3 )
				return -1;
			milli = milli * 10 + (unsigned long)( *p - '0' );
		}
		if ( n == 0 )
			return -1;
		for ( ; n < 3; n++ )
			milli *= 10;
	}
	if ( *p != '\0' )
		return -1;
	milli += whole * 1000;
	if ( milli > AUTH0_CFG_RATE_MAX * 1000UL )
		return -1;
	*out = (double)milli / 1000.0;
	return 0;
}

/* The rate as auth0_cfg_rate() reads it back: "2", "0.5", "0.125". */
void
auth0_cfg_rate_str( double rate, char *buf, size_t len )
{
	unsigned long milli;
	size_t n;

	if ( !( rate >= 0 ) )
		rate = 0;
	if ( rate > AUTH0_CFG_RATE_MAX )
		rate = AUTH0_CFG_RATE_MAX;
	milli = (unsigned long)( rate * 1000.0 + 0.5 );
	if ( milli % 1000 == 0 ) {
		snprintf( buf, len, "%lu", milli / 1000 );
		return;
	}
	snprintf( buf, len, "%lu.%03lu", milli / 1000, milli % 1000 );
	n = strlen( buf );
	while ( n > 0 && buf[n - 1] == '0' )
		buf[--n] = '\0';
}

/* "PER-DN PER-ADDRESS WINDOW": out[0..2]; 0 turns a limit off. */
int
auth0_cfg_throttle( const char *dn, const char *ip, const char *window,
	long out[3] )
{
	long d, i, w;

	if ( auth0_cfg_number( dn, 0, 10000, &d ) ||
			auth0_cfg_number( ip, 0, 100000, &i ) ||
			auth0_cfg_number( window, 1, 86400, &w ) )
		return -1;
	out[0] = d;
	out[1] = i;
	out[2] = w;
	return 0;
}

/* One printable, non-blank character other than a letter or digit. */
int
auth0_cfg_otp_separator( const char *s, char *out )
{
	if ( s == NULL || s[0] == '\0' || s[1] != '\0' || !C_GRAPH( s[0] ) ||
			C_ALNUM( s[0] ) )
		return -1;
	*out = s[0];
	return 0;
}

/* auth0-bind: 1 for password-realm, 0 for off, -1 otherwise. */
int
auth0_cfg_bind_mode( const char *s )
{
	if ( s == NULL )
		return -1;
	if ( strcasecmp( s, "password-realm" ) == 0 )
		return 1;
	if ( strcasecmp( s, "off" ) == 0 )
		return 0;
	return -1;
}

/* Not empty, no control character (log lines stay one line each). */
int
auth0_cfg_text( const char *s )
{
	const unsigned char *p;

	if ( s == NULL || *s == '\0' )
		return -1;
	for ( p = (const unsigned char *)s; *p; p++ )
		if ( *p < 0x20 || *p == 0x7f )
			return -1;
	return 0;
}

/* An id, secret-free audience and the like: printable, no blank. */
int
auth0_cfg_token( const char *s )
{
	const char *p;

	if ( s == NULL || *s == '\0' )
		return -1;
	for ( p = s; *p; p++ )
		if ( !C_GRAPH( *p ) )
			return -1;
	return 0;
}

/* An absolute path without control characters. */
int
auth0_cfg_abspath( const char *s )
{
	if ( s == NULL || s[0] != '/' || auth0_cfg_text( s ) )
		return -1;
	return 0;
}

/*
 * A host name (letters, digits and "-" in dot-separated labels of at
 * most 63, not starting or ending with "-"; 253 in all), an IPv4
 * address (which those rules accept), or "[IPv6]".  Exactly len bytes of
 * s are looked at.
 */
static int
host_valid( const char *s, size_t len )
{
	size_t i, label = 0, colons = 0;

	if ( len == 0 )
		return 0;
	if ( s[0] == '[' ) {
		if ( len < 4 || len > 47 || s[len - 1] != ']' )
			return 0;
		for ( i = 1; i < len - 1; i++ ) {
			if ( s[i] == ':' )
				colons++;
			else if ( !C_HEX( s[i] ) && s[i] != '.' )
				return 0;
		}
		return colons >= 2;
	}
	if ( len > 253 )
		return 0;
	for ( i = 0; i <= len; i++ ) {
		if ( i == len || s[i] == '.' ) {
			if ( label == 0 || s[i - 1] == '-' )
				return 0;
			label = 0;
			continue;
		}
		if ( !C_ALNUM( s[i] ) && !( s[i] == '-' && label > 0 ) )
			return 0;
		if ( ++label > 63 )
			return 0;
	}
	return 1;
}

/* An authority "host[:port]" of len bytes (port 1-65535). */
static int
authority_valid( const char *s, size_t len )
{
	const char *colon = NULL;
	size_t i, hostlen = len;
	unsigned long port = 0;

	if ( len > 0 && s[0] == '[' ) {
		const char *end = memchr( s, ']', len );
		if ( end == NULL )
			return 0;
		hostlen = (size_t)( end - s ) + 1;
		if ( hostlen < len )
			colon = end + 1;
	} else {
		colon = memchr( s, ':', len );
		if ( colon )
			hostlen = (size_t)( colon - s );
	}
	if ( !host_valid( s, hostlen ) )
		return 0;
	if ( colon == NULL )
		return 1;
	if ( *colon != ':' )
		return 0;
	len -= hostlen + 1;
	if ( len == 0 || len > 5 )
		return 0;
	for ( i = 0; i < len; i++ ) {
		if ( !C_DIGIT( colon[1 + i] ) )
			return 0;
		port = port * 10 + (unsigned long)( colon[1 + i] - '0' );
	}
	return port > 0 && port < 65536;
}

/* auth0-domain: "host", "host:port" or "[v6]:port"; no scheme, no path. */
int
auth0_cfg_domain( const char *s )
{
	if ( s == NULL || !authority_valid( s, strlen( s ) ) )
		return -1;
	return 0;
}

/*
 * "https://host[:port][/path]": no user or password (the URL is shown in
 * cn=config and logs), no query or fragment (paths are appended to it),
 * no blank, control or non-ASCII character, at most 2048 bytes.
 */
int
auth0_cfg_https_url( const char *s )
{
	const char *auth, *path;
	size_t len;

	if ( s == NULL || strncasecmp( s, "https://", 8 ) != 0 )
		return -1;
	len = strlen( s );
	if ( len > AUTH0_CFG_URL_MAX )
		return -1;
	auth = s + 8;
	path = strchr( auth, '/' );
	if ( path == NULL )
		path = s + len;
	if ( !authority_valid( auth, (size_t)( path - auth ) ) )
		return -1;
	for ( ; *path; path++ )
		if ( !C_GRAPH( *path ) || strchr( "?#\"<>\\^`{|}", *path ) )
			return -1;
	return 0;
}

/*
 * A proxy URL (auth0-proxy): http:// or https://, host[:port], an
 * optional "/" and nothing else: credentials come from a file, never
 * from the URL, so that they cannot end up in cn=config or a log.
 */
int
auth0_cfg_proxy_url( const char *s )
{
	const char *auth;
	size_t len, n;

	if ( s == NULL )
		return -1;
	if ( strncasecmp( s, "http://", 7 ) == 0 )
		auth = s + 7;
	else if ( strncasecmp( s, "https://", 8 ) == 0 )
		auth = s + 8;
	else
		return -1;
	len = strlen( s );
	if ( len > AUTH0_CFG_URL_MAX )
		return -1;
	n = strlen( auth );
	if ( n > 0 && auth[n - 1] == '/' )
		n--;
	if ( n == 0 || !authority_valid( auth, n ) )
		return -1;
	return 0;
}

/*
 * An Auth0 connection name: 1 to 128 printable characters without
 * blanks (Auth0 itself allows letters, digits and "-").
 */
int
auth0_cfg_connection( const char *s )
{
	if ( auth0_cfg_token( s ) || strlen( s ) > AUTH0_CFG_CONN_MAX )
		return -1;
	return 0;
}

/*
 * An attribute description as slapd takes it: a name (a letter, then
 * letters, digits and "-") or a numeric OID, with ";option"s; at most
 * AUTH0_CFG_ATTR_MAX bytes.
 */
int
auth0_cfg_attr_name( const char *s )
{
	const char *p = s;
	size_t n;

	if ( s == NULL || ( n = strlen( s ) ) == 0 || n > AUTH0_CFG_ATTR_MAX )
		return -1;
	if ( C_ALPHA( *p ) ) {
		while ( C_ALNUM( *p ) || *p == '-' )
			p++;
	} else {
		for ( ;; ) {
			if ( !C_DIGIT( *p ) )
				return -1;
			while ( C_DIGIT( *p ) )
				p++;
			if ( *p != '.' )
				break;
			p++;
		}
	}
	while ( *p == ';' ) {
		p++;
		if ( !( C_ALNUM( *p ) || *p == '-' ) )
			return -1;
		while ( C_ALNUM( *p ) || *p == '-' )
			p++;
	}
	return *p == '\0' ? 0 : -1;
}

/* Attributes the module sets itself: no auth0-map-attribute rule. */
static const char *const reserved_attrs[] = {
	"objectClass", "uid", "memberOf", "auth0UserId", "cn", "sn",
	"homeDirectory", NULL
};

/* 1 when the attribute type of name (options ignored) is reserved. */
int
auth0_cfg_reserved_attr( const char *name )
{
	size_t n;
	int i;

	if ( name == NULL )
		return 0;
	n = strcspn( name, ";" );
	for ( i = 0; reserved_attrs[i]; i++ )
		if ( strlen( reserved_attrs[i] ) == n &&
				strncasecmp( name, reserved_attrs[i], n ) == 0 )
			return 1;
	return 0;
}

/*
 * auth0-map-attribute ATTR PATH, as far as it can be told without the
 * schema: ATTR well formed and not reserved, PATH a dotted JSON path of
 * at most AUTH0_CFG_PATH_MAX bytes.  config.c then looks ATTR up in the
 * schema and checks its canonical name again.
 */
int
auth0_cfg_map_rule( const char *attr, const char *path )
{
	if ( auth0_cfg_attr_name( attr ) || auth0_cfg_reserved_attr( attr ) )
		return -1;
	if ( path == NULL || strlen( path ) > AUTH0_CFG_PATH_MAX ||
			!auth0_path_valid( path ) )
		return -1;
	return 0;
}

/*
 * "192.0.2.0/24", "2001:db8::/32", or one address (a full prefix).  Bits
 * set past the prefix are refused: "10.1.2.3/8" is a typo, not 10/8.
 */
int
auth0_cfg_cidr( const char *s, struct auth0_cidr *out )
{
	char buf[64];
	const char *slash;
	struct auth0_cidr c;
	size_t n;
	long bits;
	int i;

	if ( s == NULL || ( n = strcspn( s, "/" ) ) == 0 || n >= sizeof( buf ) )
		return -1;
	memcpy( buf, s, n );
	buf[n] = '\0';
	memset( &c, 0, sizeof( c ) );
	if ( inet_pton( AF_INET, buf, c.ci_addr ) == 1 )
		c.ci_family = 4;
	else if ( inet_pton( AF_INET6, buf, c.ci_addr ) == 1 )
		c.ci_family = 6;
	else
		return -1;
	c.ci_bits = c.ci_family == 4 ? 32 : 128;
	slash = s[n] == '/' ? s + n + 1 : NULL;
	if ( slash ) {
		if ( auth0_cfg_number( slash, 0, c.ci_bits, &bits ) )
			return -1;
		c.ci_bits = (int)bits;
	}
	for ( i = c.ci_bits; i < ( c.ci_family == 4 ? 32 : 128 ); i++ )
		if ( c.ci_addr[i / 8] & ( 0x80 >> ( i % 8 ) ) )
			return -1;
	*out = c;
	return 0;
}

int
auth0_cidr_match( const struct auth0_cidr *c, const char *ip )
{
	unsigned char a[16];
	const unsigned char *p = a;
	int family, i;

	if ( ip == NULL )
		return 0;
	if ( inet_pton( AF_INET, ip, a ) == 1 )
		family = 4;
	else if ( inet_pton( AF_INET6, ip, a ) == 1 )
		family = 6;
	else
		return 0;
	/* ::ffff:192.0.2.1 is an IPv4 client on a dual-stack socket */
	if ( family == 6 && c->ci_family == 4 && memcmp( a,
			"\0\0\0\0\0\0\0\0\0\0\xff\xff", 12 ) == 0 ) {
		family = 4;
		p = a + 12;
	}
	if ( family != c->ci_family )
		return 0;
	for ( i = 0; i < c->ci_bits; i++ )
		if ( ( p[i / 8] ^ c->ci_addr[i / 8] ) & ( 0x80 >> ( i % 8 ) ) )
			return 0;
	return 1;
}
