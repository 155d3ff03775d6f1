/* test_cfgparse.c - unit tests of cfgparse.c (directive value parsers) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model.h"

static void
whole_numbers( void **state )
{
	unsigned long u;
	long v = -7;

	assert_int_equal( auth0_cfg_ulong( "0", &u ), 0 );
	assert_int_equal( u, 0 );
	assert_int_equal( auth0_cfg_ulong( "18446744073709551615", &u ), 0 );
	assert_true( u == (unsigned long)-1 );
	assert_int_equal( auth0_cfg_ulong( "18446744073709551616", &u ), -1 );
	assert_int_equal( auth0_cfg_ulong( "99999999999999999999999", &u ), -1 );
	assert_int_equal( auth0_cfg_ulong( "", &u ), -1 );
	assert_int_equal( auth0_cfg_ulong( NULL, &u ), -1 );
	assert_int_equal( auth0_cfg_ulong( "-1", &u ), -1 );
	assert_int_equal( auth0_cfg_ulong( "+1", &u ), -1 );
	assert_int_equal( auth0_cfg_ulong( " 1", &u ), -1 );
	assert_int_equal( auth0_cfg_ulong( "1 ", &u ), -1 );
	assert_int_equal( auth0_cfg_ulong( "0x10", &u ), -1 );
	assert_int_equal( auth0_cfg_ulong( "15m", &u ), -1 );

	assert_int_equal( auth0_cfg_number( "30", 1, 3600, &v ), 0 );
	assert_int_equal( v, 30 );
	assert_int_equal( auth0_cfg_number( "0", 1, 3600, &v ), -1 );
	assert_int_equal( auth0_cfg_number( "3601", 1, 3600, &v ), -1 );
	/* a value beyond LONG_MAX must not wrap to a negative in range */
	assert_int_equal( auth0_cfg_number( "18446744073709551615", 0, 10,
		&v ), -1 );
	assert_int_equal( v, 30 );	/* untouched on failure */
	assert_int_equal( auth0_cfg_number( "5", 6, 5, &v ), -1 );
}

static void
ranges( void **state )
{
	unsigned long lo = 0, hi = 0;

	assert_int_equal( auth0_cfg_range( "100000-199999", &lo, &hi ), 0 );
	assert_int_equal( lo, 100000 );
	assert_int_equal( hi, 199999 );
	assert_int_equal( auth0_cfg_range( "5-5", &lo, &hi ), 0 );
	assert_int_equal( auth0_cfg_range( "1-2147483647", &lo, &hi ), 0 );
	assert_int_equal( auth0_cfg_range( "1-2147483648", &lo, &hi ), -1 );
	assert_int_equal( auth0_cfg_range( "0-10", &lo, &hi ), -1 );
	assert_int_equal( auth0_cfg_range( "2000-1000", &lo, &hi ), -1 );
	assert_int_equal( auth0_cfg_range( "abc", &lo, &hi ), -1 );
	assert_int_equal( auth0_cfg_range( "-5", &lo, &hi ), -1 );
	assert_int_equal( auth0_cfg_range( "5-", &lo, &hi ), -1 );
	assert_int_equal( auth0_cfg_range( "1-2-3", &lo, &hi ), -1 );
	assert_int_equal( auth0_cfg_range( "1--3", &lo, &hi ), -1 );
	/* a long low part is refused, not truncated into a valid one */
	assert_int_equal( auth0_cfg_range(
		"000000000000000000000000000000000000001-5", &lo, &hi ), -1 );
	assert_int_equal( lo, 1 );
	assert_int_equal( hi, 2147483647 );
}

static void
max_delete( void **state )
{
	unsigned long v = 0;
	int pct = -1;

	assert_int_equal( auth0_cfg_max_delete( "10%", &v, &pct ), 0 );
	assert_int_equal( v, 10 );
	assert_int_equal( pct, 1 );
	assert_int_equal( auth0_cfg_max_delete( "250", &v, &pct ), 0 );
	assert_int_equal( v, 250 );
	assert_int_equal( pct, 0 );
	assert_int_equal( auth0_cfg_max_delete( "100%", &v, &pct ), 0 );
	assert_int_equal( auth0_cfg_max_delete( "101%", &v, &pct ), -1 );
	assert_int_equal( auth0_cfg_max_delete( "%", &v, &pct ), -1 );
	assert_int_equal( auth0_cfg_max_delete( "", &v, &pct ), -1 );
	assert_int_equal( auth0_cfg_max_delete( "5%%", &v, &pct ), -1 );
	assert_int_equal( auth0_cfg_max_delete( "-1", &v, &pct ), -1 );
}

static void
rates_round_trip( void **state )
{
	static const char *const good[] = { "0", "2", "0.5", "0.125", "1000",
		"999.999", "0.001", "16", NULL };
	static const char *const bad[] = { "", "-1", "-0", "1000.001", "1e3",
		"1e-07", "0x10", "inf", "nan", " 2", "2 ", ".5", "5.", "0.0001",
		"1,5", "+2", "100000", NULL };
	char buf[32];
	double d, e;
	int i;

	for ( i = 0; good[i]; i++ ) {
		assert_int_equal( auth0_cfg_rate( good[i], &d ), 0 );
		auth0_cfg_rate_str( d, buf, sizeof( buf ) );
		assert_int_equal( auth0_cfg_rate( buf, &e ), 0 );
		assert_true( d == e );
	}
	for ( i = 0; bad[i]; i++ ) {
		d = 42;
		assert_int_equal( auth0_cfg_rate( bad[i], &d ), -1 );
		assert_true( d == 42 );
	}
	auth0_cfg_rate_str( 0.5, buf, sizeof( buf ) );
	assert_string_equal( buf, "0.5" );
	auth0_cfg_rate_str( 2, buf, sizeof( buf ) );
	assert_string_equal( buf, "2" );
	/* the old "%g" wrote 1e-07 here, which no parser read back */
	auth0_cfg_rate_str( 0.001, buf, sizeof( buf ) );
	assert_string_equal( buf, "0.001" );
}

static void
throttle_separator_bind( void **state )
{
	long t[3] = { -1, -1, -1 };
	char sep = 'x';

	assert_int_equal( auth0_cfg_throttle( "5", "20", "300", t ), 0 );
	assert_int_equal( t[0], 5 );
	assert_int_equal( t[1], 20 );
	assert_int_equal( t[2], 300 );
	assert_int_equal( auth0_cfg_throttle( "0", "0", "1", t ), 0 );
	assert_int_equal( auth0_cfg_throttle( "0", "0", "0", t ), -1 );
	assert_int_equal( auth0_cfg_throttle( "10001", "0", "1", t ), -1 );
	assert_int_equal( auth0_cfg_throttle( "1", "100001", "1", t ), -1 );
	assert_int_equal( auth0_cfg_throttle( "1", "1", "86401", t ), -1 );

	assert_int_equal( auth0_cfg_otp_separator( ",", &sep ), 0 );
	assert_int_equal( sep, ',' );
	assert_int_equal( auth0_cfg_otp_separator( "#", &sep ), 0 );
	assert_int_equal( auth0_cfg_otp_separator( "a", &sep ), -1 );
	assert_int_equal( auth0_cfg_otp_separator( "7", &sep ), -1 );
	assert_int_equal( auth0_cfg_otp_separator( " ", &sep ), -1 );
	assert_int_equal( auth0_cfg_otp_separator( "\t", &sep ), -1 );
	assert_int_equal( auth0_cfg_otp_separator( ",,", &sep ), -1 );
	assert_int_equal( auth0_cfg_otp_separator( "", &sep ), -1 );
	assert_int_equal( auth0_cfg_otp_separator( "\xc3\xa9", &sep ), -1 );
	assert_int_equal( sep, '#' );

	assert_int_equal( auth0_cfg_bind_mode( "password-realm" ), 1 );
	assert_int_equal( auth0_cfg_bind_mode( "Password-Realm" ), 1 );
	assert_int_equal( auth0_cfg_bind_mode( "off" ), 0 );
	assert_int_equal( auth0_cfg_bind_mode( "on" ), -1 );
	assert_int_equal( auth0_cfg_bind_mode( "" ), -1 );
}

static void
domains( void **state )
{
	static const char *const good[] = { "example.eu.auth0.com",
		"acme.auth0.com:443", "127.0.0.1:8443", "localhost", "[::1]:443",
		"[::1]", "a-b.example.com", "x", NULL };
	static const char *const bad[] = { "", "https://example.auth0.com",
		"example.auth0.com/", "example.auth0.com:", "example.auth0.com:0",
		"example.auth0.com:65536", "example.auth0.com:+1",
		"example.auth0.com:99999999999999999999", ".", "a..b", "-a.com",
		"a-.com", "a.com.", "exa mple.com", "[]", "[ ]:443", "[::1",
		"[::1]x", "[::1]:", "[g::1]", "[1.2.3.4]", "user@host.com",
		"host.com:443:1", "h\xc3\xa9.com", ":443", NULL };
	char big[300];
	int i;

	for ( i = 0; good[i]; i++ )
		assert_int_equal( auth0_cfg_domain( good[i] ), 0 );
	for ( i = 0; bad[i]; i++ ) {
		if ( auth0_cfg_domain( bad[i] ) != -1 )
			fail_msg( "domain \"%s\" accepted", bad[i] );
	}
	/* a 64-byte label, a 254-byte name */
	memset( big, 'a', 64 );
	strcpy( big + 64, ".com" );
	assert_int_equal( auth0_cfg_domain( big ), -1 );
	for ( i = 0; i < 254; i++ )
		big[i] = i % 2 ? '.' : 'a';
	big[253] = 'a';
	big[254] = '\0';
	assert_int_equal( auth0_cfg_domain( big ), -1 );
	big[252] = '\0';	/* "a.a. ... a" of 251 bytes */
	assert_int_equal( auth0_cfg_domain( big ), -1 );	/* ends in "." */
	big[251] = '\0';
	assert_int_equal( auth0_cfg_domain( big ), 0 );
}

static void
urls( void **state )
{
	static const char *const good[] = {
		"https://example.eu.webtask.run/adf6e2f2b84784b57522e3b19dfc9201/api",
		"https://127.0.0.1:8443/authz/api", "HTTPS://host", "https://[::1]:1/x",
		NULL };
	static const char *const bad[] = { "", "http://example.com/api",
		"https://", "https:///api", "https://user:pw@example.com/api",
		"https://example.com/api?x=1", "https://example.com/api#f",
		"https://example.com/a b", "https://example.com/a\nb",
		"https://exa mple.com/", "https://example.com:0/api",
		"ftp://example.com", "https//example.com", "https://a..b/",
		"https://example.com/\xc3\xa9", NULL };
	int i;

	for ( i = 0; good[i]; i++ )
		assert_int_equal( auth0_cfg_https_url( good[i] ), 0 );
	for ( i = 0; bad[i]; i++ ) {
		if ( auth0_cfg_https_url( bad[i] ) != -1 )
			fail_msg( "URL \"%s\" accepted", bad[i] );
	}
}

static void
proxy_urls( void **state )
{
	static const char *const good[] = { "http://127.0.0.1:3128",
		"https://proxy.example.com:8443/", "HTTP://[::1]:8080", "http://p",
		NULL };
	static const char *const bad[] = { "", "127.0.0.1:3128",
		"socks5://127.0.0.1:1080", "http://user:pw@p:3128", "http://",
		"http://p:3128/path", "http://p:3128?x", "http://p:0",
		"http://p q:1", NULL };
	int i;

	for ( i = 0; good[i]; i++ )
		assert_int_equal( auth0_cfg_proxy_url( good[i] ), 0 );
	for ( i = 0; bad[i]; i++ )
		if ( auth0_cfg_proxy_url( bad[i] ) != -1 )
			fail_msg( "proxy \"%s\" accepted", bad[i] );
}

static void
strings_paths_connections( void **state )
{
	char big[200];

	assert_int_equal( auth0_cfg_token( "sim-m2m-client" ), 0 );
	assert_int_equal( auth0_cfg_token( "https://x/api/v2/" ), 0 );
	assert_int_equal( auth0_cfg_token( "a b" ), -1 );
	assert_int_equal( auth0_cfg_token( "a\tb" ), -1 );
	assert_int_equal( auth0_cfg_token( "" ), -1 );
	assert_int_equal( auth0_cfg_token( "\xc3\xa9" ), -1 );

	assert_int_equal( auth0_cfg_text( "/var/lib/auth0 snapshot" ), 0 );
	assert_int_equal( auth0_cfg_text( "x\ny" ), -1 );
	assert_int_equal( auth0_cfg_text( "x\x7f" ), -1 );
	assert_int_equal( auth0_cfg_text( "" ), -1 );

	assert_int_equal( auth0_cfg_abspath( "/etc/ldap/auth0.secret" ), 0 );
	assert_int_equal( auth0_cfg_abspath( "auth0.secret" ), -1 );
	assert_int_equal( auth0_cfg_abspath( "/etc/\r/x" ), -1 );
	assert_int_equal( auth0_cfg_abspath( "" ), -1 );

	assert_int_equal( auth0_cfg_connection(
		"Username-Password-Authentication" ), 0 );
	assert_int_equal( auth0_cfg_connection( "google-oauth2" ), 0 );
	assert_int_equal( auth0_cfg_connection( "" ), -1 );
	assert_int_equal( auth0_cfg_connection( "two words" ), -1 );
	memset( big, 'c', 128 );
	big[128] = '\0';
	assert_int_equal( auth0_cfg_connection( big ), 0 );
	big[128] = 'c';
	big[129] = '\0';
	assert_int_equal( auth0_cfg_connection( big ), -1 );
}

static void
map_rules( void **state )
{
	char path[300];

	assert_int_equal( auth0_cfg_attr_name( "employeeNumber" ), 0 );
	assert_int_equal( auth0_cfg_attr_name( "description;lang-en" ), 0 );
	assert_int_equal( auth0_cfg_attr_name( "2.5.4.3" ), 0 );
	assert_int_equal( auth0_cfg_attr_name( "2.5.4." ), -1 );
	assert_int_equal( auth0_cfg_attr_name( "1employee" ), -1 );
	assert_int_equal( auth0_cfg_attr_name( "employee number" ), -1 );
	assert_int_equal( auth0_cfg_attr_name( "cn;" ), -1 );
	assert_int_equal( auth0_cfg_attr_name( "" ), -1 );

	assert_true( auth0_cfg_reserved_attr( "uid" ) );
	assert_true( auth0_cfg_reserved_attr( "CN" ) );
	assert_true( auth0_cfg_reserved_attr( "objectclass" ) );
	/* an option does not make a reserved attribute another one */
	assert_true( auth0_cfg_reserved_attr( "cn;lang-en" ) );
	assert_false( auth0_cfg_reserved_attr( "cname" ) );
	assert_false( auth0_cfg_reserved_attr( "c" ) );
	assert_false( auth0_cfg_reserved_attr( "employeeNumber" ) );

	assert_int_equal( auth0_cfg_map_rule( "employeeNumber",
		"app_metadata.employee_id" ), 0 );
	assert_int_equal( auth0_cfg_map_rule( "sn", "family_name" ), -1 );
	assert_int_equal( auth0_cfg_map_rule( "employeeNumber",
		"app_metadata..id" ), -1 );
	assert_int_equal( auth0_cfg_map_rule( "employeeNumber", "" ), -1 );
	assert_int_equal( auth0_cfg_map_rule( "employeeNumber",
		"app_metadata.a b" ), -1 );
	memset( path, 'a', 257 );
	path[257] = '\0';
	assert_int_equal( auth0_cfg_map_rule( "employeeNumber", path ), -1 );
	path[256] = '\0';
	assert_int_equal( auth0_cfg_map_rule( "employeeNumber", path ), 0 );
}

/* auth0-bind-trusted-ip: IPv4 and IPv6 networks, and matching. */
static void
trusted_networks( void **state )
{
	struct auth0_cidr c;

	assert_int_equal( auth0_cfg_cidr( "10.0.0.0/8", &c ), 0 );
	assert_int_equal( c.ci_family, 4 );
	assert_int_equal( c.ci_bits, 8 );
	assert_true( auth0_cidr_match( &c, "10.200.3.4" ) );
	assert_false( auth0_cidr_match( &c, "11.0.0.1" ) );
	assert_true( auth0_cidr_match( &c, "::ffff:10.1.2.3" ) );	/* mapped */
	assert_false( auth0_cidr_match( &c, "::1" ) );
	assert_false( auth0_cidr_match( &c, "not an address" ) );
	assert_false( auth0_cidr_match( &c, NULL ) );
	assert_int_equal( auth0_cfg_cidr( "192.0.2.7", &c ), 0 );	/* a host */
	assert_int_equal( c.ci_bits, 32 );
	assert_true( auth0_cidr_match( &c, "192.0.2.7" ) );
	assert_false( auth0_cidr_match( &c, "192.0.2.8" ) );
	assert_int_equal( auth0_cfg_cidr( "2001:db8::/32", &c ), 0 );
	assert_int_equal( c.ci_family, 6 );
	assert_true( auth0_cidr_match( &c, "2001:db8:ffff::1" ) );
	assert_false( auth0_cidr_match( &c, "2001:db9::1" ) );
	assert_false( auth0_cidr_match( &c, "10.0.0.1" ) );
	assert_int_equal( auth0_cfg_cidr( "::1", &c ), 0 );
	assert_int_equal( c.ci_bits, 128 );
	assert_true( auth0_cidr_match( &c, "::1" ) );
	assert_int_equal( auth0_cfg_cidr( "0.0.0.0/0", &c ), 0 );
	assert_true( auth0_cidr_match( &c, "203.0.113.9" ) );
	assert_int_equal( auth0_cfg_cidr( "2001:db8::1/127", &c ), -1 ); /* host bits */
	assert_int_equal( auth0_cfg_cidr( "10.1.2.3/8", &c ), -1 );
	assert_int_equal( auth0_cfg_cidr( "10.0.0.0/33", &c ), -1 );
	assert_int_equal( auth0_cfg_cidr( "10.0.0.0/", &c ), -1 );
	assert_int_equal( auth0_cfg_cidr( "10.0.0.0/8/8", &c ), -1 );
	assert_int_equal( auth0_cfg_cidr( "/8", &c ), -1 );
	assert_int_equal( auth0_cfg_cidr( "", &c ), -1 );
	assert_int_equal( auth0_cfg_cidr( "example.com", &c ), -1 );
	assert_int_equal( auth0_cfg_cidr( "fe80::1%eth0", &c ), -1 );
	assert_int_equal( auth0_cfg_cidr( NULL, &c ), -1 );
}

int
main( void )
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test( whole_numbers ),
		cmocka_unit_test( ranges ),
		cmocka_unit_test( max_delete ),
		cmocka_unit_test( rates_round_trip ),
		cmocka_unit_test( throttle_separator_bind ),
		cmocka_unit_test( domains ),
		cmocka_unit_test( urls ),
		cmocka_unit_test( proxy_urls ),
		cmocka_unit_test( strings_paths_connections ),
		cmocka_unit_test( map_rules ),
		cmocka_unit_test( trusted_networks ),
	};

	return cmocka_run_group_tests( tests, NULL, NULL );
}
