/* test_bindcall.c - bind verification (Guardian push) and the bind cache */
/*
 * bindcall.c's push flow against canned replies (fakes/fake_transport.c,
 * whose clock only tr_sleep advances, so intervals are exact): the polling
 * interval, slow_down, approval, denial, the timeout and an outage; and
 * bindcache.c: the bounded failure table, per-entry lifetimes, latency
 * percentiles.  Slapd-free.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>

#include "model.h"
#include "bindcall.h"
#include "bindcache.h"
#include "fakes/fake_transport.h"

#define BASE		"https://tenant.example"
#define TOKEN_URL	BASE "/oauth/token"
#define MFA		"{\"error\":\"mfa_required\",\"error_description\":" \
			"\"Multifactor authentication required\"," \
			"\"mfa_token\":\"Fe26.mfa\"}"
#define AUTHS		"[{\"id\":\"totp|x\",\"authenticator_type\":\"otp\"," \
			"\"active\":true},{\"id\":\"push|dev_1\"," \
			"\"authenticator_type\":\"oob\",\"oob_channel\":\"auth0\"," \
			"\"active\":true}]"
#define CHALLENGE	"{\"challenge_type\":\"oob\",\"oob_code\":\"oob_1\"}"
#define PENDING		"{\"error\":\"authorization_pending\"," \
			"\"error_description\":\"Authorization pending\"}"
#define SLOW		"{\"error\":\"slow_down\",\"error_description\":" \
			"\"You are polling faster than allowed.\"}"
#define DENIED		"{\"error\":\"invalid_grant\",\"error_description\":" \
			"\"MFA Authorization rejected.\"}"
#define TOKEN		"{\"access_token\":\"eyJ.x.y\",\"token_type\":\"Bearer\"}"

static const struct auth0_bind_conf conf = { BASE, "cid", "csecret" };

static void
add( struct fake_transport *ft, const char *method, const char *url,
	long status, const char *body, int times )
{
	struct fake_reply r = { .fr_method = method, .fr_url = url,
		.fr_status = status, .fr_body = body, .fr_times = times };

	fake_add( ft, &r );
}

/* A push bind up to the challenge; then the replies to the polls. */
static struct fake_transport *
push_world( void )
{
	struct fake_transport *ft = fake_new();

	add( ft, "POST", TOKEN_URL, 403, MFA, 1 );
	add( ft, "GET", BASE "/mfa/authenticators", 200, AUTHS, 1 );
	add( ft, "POST", BASE "/mfa/challenge", 200, CHALLENGE, 1 );
	return ft;
}

static enum auth0_verdict
push_bind( struct fake_transport *ft, double timeout, char *detail )
{
	struct auth0_bind_req br = { "db", "bob@example.com", "pw", NULL,
		"192.0.2.1", 1, timeout };

	return auth0_bind_verify( &ft->ft_tr, &conf, &br, detail,
		AUTH0_ERRLEN );
}

static void
push_approved_after_slow_down( void **state )
{
	struct fake_transport *ft = push_world();
	const struct fake_sent *s;
	char detail[AUTH0_ERRLEN];

	add( ft, "POST", TOKEN_URL, 400, PENDING, 1 );
	add( ft, "POST", TOKEN_URL, 400, SLOW, 1 );
	add( ft, "POST", TOKEN_URL, 400, PENDING, 1 );
	add( ft, "POST", TOKEN_URL, 200, TOKEN, 1 );
	assert_int_equal( push_bind( ft, 30, detail ), AUTH0_V_OK );
	/* polls at 2, 4 (slow_down), then 4 + 7, 11 + 7 */
	assert_int_equal( fake_count( ft, "POST", TOKEN_URL ), 5 );
	assert_true( ft->ft_slept == 18.0 );
	s = fake_find( ft, "GET", BASE "/mfa/authenticators", 0 );
	assert_non_null( strstr( s->fs_headers, "Authorization: Bearer Fe26.mfa" ) );
	s = fake_find( ft, "POST", BASE "/mfa/challenge", 0 );
	assert_non_null( strstr( s->fs_body, "challenge_type=oob" ) );
	assert_non_null( strstr( s->fs_body, "authenticator_id=push%7Cdev_1" ) );
	s = fake_find( ft, "POST", TOKEN_URL, 4 );
	assert_non_null( strstr( s->fs_body, "mfa-oob" ) );
	assert_non_null( strstr( s->fs_body, "oob_code=oob_1" ) );
	assert_true( s->fs_time == FAKE_EPOCH + 18.0 );
	fake_free( ft );
}

static void
push_denied( void **state )
{
	struct fake_transport *ft = push_world();
	char detail[AUTH0_ERRLEN];

	add( ft, "POST", TOKEN_URL, 400, PENDING, 1 );
	add( ft, "POST", TOKEN_URL, 403, DENIED, 1 );
	assert_int_equal( push_bind( ft, 30, detail ), AUTH0_V_PUSH_DENIED );
	fake_free( ft );
}

static void
push_times_out( void **state )
{
	struct fake_transport *ft = push_world();
	char detail[AUTH0_ERRLEN];

	add( ft, "POST", TOKEN_URL, 400, PENDING, 0 );
	assert_int_equal( push_bind( ft, 7, detail ), AUTH0_V_PUSH_TIMEOUT );
	assert_true( ft->ft_slept == 7.0 );	/* 2, 4, 6, then the last 1 */
	assert_int_equal( fake_count( ft, "POST", TOKEN_URL ), 1 + 4 );
	assert_non_null( strstr( detail, "no answer in 7 s" ) );
	fake_free( ft );
}

static void
push_outage_and_no_enrollment( void **state )
{
	struct fake_transport *ft = push_world();
	char detail[AUTH0_ERRLEN];

	add( ft, "POST", TOKEN_URL, 400, PENDING, 1 );
	add( ft, "POST", TOKEN_URL, 503, "{}", 0 );
	assert_int_equal( push_bind( ft, 30, detail ), AUTH0_V_UNAVAILABLE );
	fake_free( ft );

	ft = fake_new();
	add( ft, "POST", TOKEN_URL, 403, MFA, 1 );
	add( ft, "GET", BASE "/mfa/authenticators", 200,
		"[{\"id\":\"totp|x\",\"authenticator_type\":\"otp\"}]", 1 );
	assert_int_equal( push_bind( ft, 30, detail ), AUTH0_V_NO_PUSH );
	assert_int_equal( fake_count( ft, "POST", BASE "/mfa/challenge" ), 0 );
	fake_free( ft );

	ft = fake_new();		/* a wrong password never sends a push */
	add( ft, "POST", TOKEN_URL, 403, "{\"error\":\"invalid_grant\","
		"\"error_description\":\"Wrong email or password.\"}", 1 );
	assert_int_equal( push_bind( ft, 30, detail ), AUTH0_V_WRONG );
	assert_int_equal( fake_count( ft, "GET", BASE "/mfa/authenticators" ), 0 );
	fake_free( ft );
}

static void
failure_table_is_bounded( void **state )
{
	struct auth0_bindcache *bc = auth0_bindcache_new();
	char key[64];
	int i;

	assert_non_null( bc );
	for ( i = 0; i < AUTH0_FAIL_MAX + 1000; i++ ) {
		snprintf( key, sizeof( key ), "uid=u%d,ou=people", i );
		auth0_bindcache_failed( bc, key, 1000 + i / 1000, 300 );
	}
	assert_int_equal( auth0_bindcache_failures( bc ), AUTH0_FAIL_MAX );
	/* the oldest went first: u0 no longer counts, the newest does */
	assert_false( auth0_bindcache_throttled( bc, "uid=u0,ou=people", 1070,
		1, 300 ) );
	assert_true( auth0_bindcache_throttled( bc, key, 1070, 1, 300 ) );
	/* windows end: everything expires at once */
	auth0_bindcache_failed( bc, "another", 2000, 300 );
	assert_int_equal( auth0_bindcache_failures( bc ), 1 );
	/* a fixed window: failures at 0, 100, 200 s count together ... */
	auth0_bindcache_failed( bc, "x", 3000, 300 );
	auth0_bindcache_failed( bc, "x", 3100, 300 );
	auth0_bindcache_failed( bc, "x", 3200, 300 );
	assert_true( auth0_bindcache_throttled( bc, "x", 3299, 3, 300 ) );
	/* ... and end 300 s after the first one */
	assert_false( auth0_bindcache_throttled( bc, "x", 3300, 3, 300 ) );
	auth0_bindcache_free( bc );
	assert_true( auth0_bindcache_fail_entry_size() <= 80 );
}

static void
cache_entry_lifetimes( void **state )
{
	struct auth0_bindcache *bc = auth0_bindcache_new();

	auth0_bindcache_store( bc, "uid=a", "pw", 100, 0 );
	assert_true( auth0_bindcache_check( bc, "uid=a", "pw", 350, 300 ) );
	assert_false( auth0_bindcache_check( bc, "uid=a", "pw2", 101, 300 ) );
	assert_false( auth0_bindcache_check( bc, "uid=b", "pw", 101, 300 ) );
	/* a password with a one-time code: its own, shorter life */
	auth0_bindcache_store( bc, "uid=a", "pw,123456", 100, 30 );
	assert_true( auth0_bindcache_check( bc, "uid=a", "pw,123456", 130, 300 ) );
	assert_false( auth0_bindcache_check( bc, "uid=a", "pw,123456", 131, 300 ) );
	assert_false( auth0_bindcache_check( bc, "uid=a", "pw,123456", 120, 10 ) );
	auth0_bindcache_free( bc );
}

static void
latency_percentiles( void **state )
{
	struct auth0_bindcache *bc = auth0_bindcache_new();
	double p50, p99;
	int i;

	auth0_bindcache_latency( bc, &p50, &p99 );
	assert_true( p50 == 0 && p99 == 0 );
	for ( i = 1; i <= 100; i++ )
		auth0_bindcache_latency_add( bc, i );
	auth0_bindcache_latency( bc, &p50, &p99 );
	assert_true( p50 == 50 && p99 == 99 );
	for ( i = 0; i < AUTH0_LAT_WINDOW; i++ )	/* the window moves on */
		auth0_bindcache_latency_add( bc, 7 );
	auth0_bindcache_latency( bc, &p50, &p99 );
	assert_true( p50 == 7 && p99 == 7 );
	auth0_bindcache_free( bc );
}

int
main( void )
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test( push_approved_after_slow_down ),
		cmocka_unit_test( push_denied ),
		cmocka_unit_test( push_times_out ),
		cmocka_unit_test( push_outage_and_no_enrollment ),
		cmocka_unit_test( failure_table_is_bounded ),
		cmocka_unit_test( cache_entry_lifetimes ),
		cmocka_unit_test( latency_percentiles ),
	};

	return cmocka_run_group_tests( tests, NULL, NULL );
}
