/* test_logs.c - unit tests of the change feed's client (logs.c) */
/*
 * auth0_logs_map() is pure: events (JSON text written here) in, a change
 * set out.  The readers run the real client code through the fake
 * transport (fakes/fake_transport.c), as test_api.c does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "model.h"
#include "http.h"
#include "api.h"
#include "fakes/fake_transport.h"

#define BASE		"https://t.test"
#define TOKEN_URL	BASE "/oauth/token"
#define TOKEN_OK	"{\"access_token\":\"tok1\",\"expires_in\":86400," \
			"\"token_type\":\"Bearer\"}"
#define LOGS		BASE "/api/v2/logs?from="

static char *db_only[] = { "db", NULL };
static const struct auth0_select sel_db = { db_only };

/* The users the model "holds" in these tests. */
static int
known( void *arg, const char *id )
{
	return strcmp( id, "auth0|held" ) == 0;
}

static void
map_text( const char *json, struct auth0_changes *ch )
{
	cJSON *ev = cJSON_Parse( json );

	assert_non_null( ev );
	auth0_changes_init( ch );
	assert_int_equal( auth0_logs_map( ev, &sel_db, known, NULL, ch ),
		AUTH0_OK );
	cJSON_Delete( ev );
}

static void
test_user_events( void **state )
{
	struct auth0_changes ch;

	map_text( "[{\"log_id\":\"901\",\"type\":\"ss\",\"user_id\":\"auth0|b\","
		"\"connection\":\"db\",\"date\":\"2026-12-03T09:00:00.000Z\"},"
		"{\"log_id\":\"902\",\"type\":\"scp\",\"user_id\":\"auth0|a\"},"
		"{\"log_id\":\"903\",\"type\":\"limit_wc\",\"user_id\":\"auth0|b\"},"
		"{\"log_id\":\"904\",\"type\":\"sdu\",\"user_id\":\"auth0|c\","
		"\"date\":\"2026-12-03T09:00:04.000Z\"}]", &ch );
	assert_int_equal( ch.ch_events, 4 );
	assert_int_equal( ch.ch_nusers, 3 );
	assert_string_equal( ch.ch_users[0], "auth0|a" );
	assert_string_equal( ch.ch_users[1], "auth0|b" );
	assert_string_equal( ch.ch_users[2], "auth0|c" );
	/* a signup alone keeps the cache; the block after it does not */
	assert_int_equal( ch.ch_forget[0], 1 );
	assert_int_equal( ch.ch_forget[1], 1 );
	assert_int_equal( ch.ch_forget[2], 1 );
	assert_int_equal( ch.ch_whole, 0 );
	assert_string_equal( ch.ch_checkpoint, "904" );
	assert_string_equal( ch.ch_newest_date, "2026-12-03T09:00:04.000Z" );
	assert_int_equal( auth0_changes_user( &ch, "auth0|b" ), 1 );
	assert_int_equal( auth0_changes_user( &ch, "auth0|zz" ), -1 );
	auth0_changes_free( &ch );
}

static void
test_signup_keeps_cache( void **state )
{
	struct auth0_changes ch;

	map_text( "[{\"log_id\":\"1\",\"type\":\"ss\",\"user_id\":\"auth0|n\"}]",
		&ch );
	assert_int_equal( ch.ch_nusers, 1 );
	assert_int_equal( ch.ch_forget[0], 0 );
	auth0_changes_free( &ch );
}

static void
test_sapi_paths( void **state )
{
	struct auth0_changes ch;

	map_text( "["
		"{\"log_id\":\"1\",\"type\":\"sapi\",\"details\":{\"request\":"
		"{\"method\":\"patch\",\"path\":\"/api/v2/users/auth0%7Cx1\"}}},"
		"{\"log_id\":\"2\",\"type\":\"sapi\",\"details\":{\"request\":"
		"{\"method\":\"post\",\"path\":\"/api/v2/roles/rol_1/users\"}}},"
		"{\"log_id\":\"3\",\"type\":\"sapi\",\"details\":{\"request\":"
		"{\"method\":\"delete\",\"path\":\"/api/v2/users/auth0%7Cx2/roles\","
		"\"body\":{\"roles\":[\"rol_2\",\"rol_1\"]}}}},"
		"{\"log_id\":\"4\",\"type\":\"sapi\",\"details\":{\"request\":"
		"{\"method\":\"get\",\"path\":\"/api/v2/users/auth0%7Cx3\"}}},"
		"{\"log_id\":\"5\",\"type\":\"sapi\",\"details\":{\"request\":"
		"{\"method\":\"patch\",\"path\":\"/api/v2/rules/rul_1\"}}},"
		"{\"log_id\":\"6\",\"type\":\"s\",\"user_id\":\"auth0|x4\"},"
		"{\"log_id\":\"7\",\"type\":\"fp\",\"user_id\":\"auth0|x4\"}"
		"]", &ch );
	assert_int_equal( ch.ch_nusers, 1 );
	assert_string_equal( ch.ch_users[0], "auth0|x1" );
	assert_int_equal( ch.ch_forget[0], 1 );
	assert_int_equal( ch.ch_nroles, 2 );
	assert_string_equal( ch.ch_roles[0], "rol_1" );
	assert_string_equal( ch.ch_roles[1], "rol_2" );
	assert_int_equal( ch.ch_whole, 0 );
	assert_int_equal( ch.ch_logins, 1 );
	assert_int_equal( ch.ch_ignored, 3 );
	assert_string_equal( ch.ch_checkpoint, "7" );
	auth0_changes_free( &ch );
}

static void
test_whole_resources( void **state )
{
	struct auth0_changes ch;

	map_text( "["
		"{\"log_id\":\"1\",\"type\":\"sapi\",\"details\":{\"request\":"
		"{\"method\":\"patch\",\"path\":\"/api/v2/roles/rol_1\"}}},"
		"{\"log_id\":\"2\",\"type\":\"sapi\",\"details\":{\"request\":"
		"{\"method\":\"post\",\"path\":\"/api/v2/clients\"}}},"
		"{\"log_id\":\"3\",\"type\":\"sapi\",\"details\":{\"request\":"
		"{\"method\":\"post\",\"path\":\"/api/v2/groups/grp_1/members\"}}},"
		"{\"log_id\":\"4\",\"type\":\"sapi\",\"details\":{\"request\":"
		"{\"method\":\"post\",\"path\":\"/api/v2/organizations/org_1/members\"}}},"
		"{\"log_id\":\"5\",\"type\":\"sapi\",\"details\":{\"request\":"
		"{\"method\":\"delete\",\"path\":\"/api/v2/users/auth0%7Cx/roles\"}}}"
		"]", &ch );
	assert_int_equal( ch.ch_whole, AUTH0_CH_ROLES | AUTH0_CH_CLIENTS |
		AUTH0_CH_GROUPS | AUTH0_CH_ORGS );
	assert_non_null( strstr( ch.ch_why, "roles changed" ) );
	assert_non_null( strstr( ch.ch_why, "log_id 1" ) );
	assert_int_equal( ch.ch_nusers, 0 );
	auth0_changes_free( &ch );
}

static void
test_unselected_connection( void **state )
{
	struct auth0_changes ch;

	/* another connection's users: skipped, unless the model holds them */
	map_text( "["
		"{\"log_id\":\"1\",\"type\":\"ss\",\"user_id\":\"google|1\","
		"\"connection\":\"google-oauth2\"},"
		"{\"log_id\":\"2\",\"type\":\"sapi\",\"user_id\":\"google|1\","
		"\"connection\":\"google-oauth2\",\"details\":{\"request\":"
		"{\"method\":\"patch\",\"path\":\"/api/v2/users/google%7C1\"}}},"
		"{\"log_id\":\"3\",\"type\":\"sapi\",\"user_id\":\"auth0|held\","
		"\"connection\":\"google-oauth2\",\"details\":{\"request\":"
		"{\"method\":\"patch\",\"path\":\"/api/v2/users/auth0%7Cheld\"}}},"
		"{\"log_id\":\"4\",\"type\":\"scp\",\"user_id\":\"auth0|d\","
		"\"connection\":\"db\"}"
		"]", &ch );
	assert_int_equal( ch.ch_skipped, 2 );
	assert_int_equal( ch.ch_nusers, 2 );
	assert_string_equal( ch.ch_users[0], "auth0|d" );
	assert_string_equal( ch.ch_users[1], "auth0|held" );
	auth0_changes_free( &ch );
}

static void
test_malformed_events( void **state )
{
	struct auth0_changes ch;
	cJSON *obj = cJSON_Parse( "{\"log_id\":\"1\"}" );

	/* not an array */
	auth0_changes_init( &ch );
	assert_int_equal( auth0_logs_map( obj, &sel_db, known, NULL, &ch ),
		AUTH0_ERR_JSON );
	cJSON_Delete( obj );
	auth0_changes_free( &ch );
	/* events that cannot be placed ask for everything */
	map_text( "[7, {\"type\":\"ss\",\"user_id\":\"a\"},"
		"{\"log_id\":\"3\",\"type\":\"sapi\"},"
		"{\"log_id\":\"4\",\"type\":\"scp\"},"
		"{\"log_id\":\"5\",\"type\":\"sapi\",\"details\":{\"request\":"
		"{\"path\":\"/api/v2/users/\"}}}]", &ch );
	assert_int_equal( ch.ch_bad, 2 );
	assert_int_equal( ch.ch_whole, AUTH0_CH_ALL );
	assert_non_null( strstr( ch.ch_why, "without log_id" ) );
	assert_string_equal( ch.ch_checkpoint, "5" );
	auth0_changes_free( &ch );
	map_text( "[]", &ch );
	assert_int_equal( ch.ch_events, 0 );
	assert_null( ch.ch_checkpoint );
	auth0_changes_free( &ch );
}

static void
test_valid_id( void **state )
{
	assert_true( auth0_logs_valid_id( "0" ) );
	assert_true( auth0_logs_valid_id( "90020231203090000000000000123" ) );
	assert_false( auth0_logs_valid_id( "" ) );
	assert_false( auth0_logs_valid_id( NULL ) );
	assert_false( auth0_logs_valid_id( "12a" ) );
	assert_false( auth0_logs_valid_id( "1&take=1" ) );
}

/* -- readers, through the fake transport */

struct fx {
	struct fake_transport	*ft;
	struct auth0_api	api;
	struct auth0_api_conf	conf;
	char			err[AUTH0_ERRLEN];
};

static int
setup( void **state )
{
	struct fx *f = calloc( 1, sizeof( *f ) );

	f->ft = fake_new();
	f->conf.ac_base = BASE;
	f->conf.ac_client_id = "cid";
	f->conf.ac_client_secret = "sec";
	f->conf.ac_audience = BASE "/api/v2/";
	f->conf.ac_max_retries = 2;
	f->conf.ac_max_wait = 60;
	auth0_api_init( &f->api, &f->conf, &f->ft->ft_tr );
	*state = f;
	return 0;
}

static int
teardown( void **state )
{
	struct fx *f = *state;

	auth0_api_destroy( &f->api );
	fake_free( f->ft );
	free( f );
	return 0;
}

static void
reply( struct fx *f, const char *url, long status, const char *body,
	int times )
{
	struct fake_reply r = { .fr_method = "GET", .fr_url = url,
		.fr_status = status, .fr_body = body, .fr_times = times };

	fake_add( f->ft, &r );
}

static void
token_ok( struct fx *f )
{
	struct fake_reply r = { .fr_method = "POST", .fr_url = TOKEN_URL,
		.fr_status = 200, .fr_body = TOKEN_OK };

	fake_add( f->ft, &r );
}

/* A page of n events with log_ids first .. first + n - 1. */
static char *
page( int first, int n )
{
	char *s = NULL;
	size_t len;
	FILE *fp = open_memstream( &s, &len );
	int i;

	fputc( '[', fp );
	for ( i = 0; i < n; i++ )
		fprintf( fp, "%s{\"log_id\":\"%d\",\"type\":\"ss\","
			"\"user_id\":\"auth0|u%d\"}", i ? "," : "", first + i,
			first + i );
	fputc( ']', fp );
	fclose( fp );
	return s;
}

static void
test_read_pages( void **state )
{
	struct fx *f = *state;
	char *p1 = page( 1001, 100 ), *p2 = page( 1101, 100 ), *p3 = page( 1201, 7 );
	cJSON *out = cJSON_CreateArray();
	long status;
	int more;

	token_ok( f );
	reply( f, LOGS "1000&take=100", 200, p1, 1 );
	reply( f, LOGS "1100&take=100", 200, p2, 1 );
	reply( f, LOGS "1200&take=100", 200, p3, 1 );
	assert_int_equal( auth0_logs_read( &f->api, "1000", 10000, out, &more,
		&status, f->err ), AUTH0_OK );
	assert_int_equal( cJSON_GetArraySize( out ), 207 );
	assert_int_equal( more, 0 );
	/* a short page ends it: no call for an empty one */
	assert_int_equal( fake_count( f->ft, "GET", LOGS ), 3 );
	assert_int_equal( f->ft->ft_unmatched, 0 );
	cJSON_Delete( out );
	/* bounded: stops after max events, says more are waiting */
	out = cJSON_CreateArray();
	reply( f, LOGS "1000&take=100", 200, p1, 1 );
	reply( f, LOGS "1100&take=100", 200, p2, 1 );
	assert_int_equal( auth0_logs_read( &f->api, "1000", 150, out, &more,
		&status, f->err ), AUTH0_OK );
	assert_int_equal( cJSON_GetArraySize( out ), 200 );
	assert_int_equal( more, 1 );
	cJSON_Delete( out );
	free( p1 );
	free( p2 );
	free( p3 );
}

static void
test_read_refused( void **state )
{
	struct fx *f = *state;
	cJSON *out = cJSON_CreateArray();
	long status;
	int more;

	token_ok( f );
	reply( f, LOGS "5&take=100", 400, "{\"statusCode\":400,\"error\":"
		"\"Bad Request\",\"message\":\"too old\"}", 1 );
	assert_int_equal( auth0_logs_read( &f->api, "5", 1000, out, &more,
		&status, f->err ), AUTH0_ERR_HTTP );
	assert_int_equal( status, 400 );
	reply( f, LOGS "5&take=100", 403, "{\"statusCode\":403,\"error\":"
		"\"Forbidden\",\"message\":\"Insufficient scope, expected any "
		"of: read:logs\",\"errorCode\":\"insufficient_scope\"}", 1 );
	assert_int_equal( auth0_logs_read( &f->api, "5", 1000, out, &more,
		&status, f->err ), AUTH0_ERR_HTTP );
	assert_int_equal( status, 403 );
	assert_non_null( strstr( f->err, "read:logs" ) );
	assert_int_equal( cJSON_GetArraySize( out ), 0 );
	cJSON_Delete( out );
}

static void
test_read_malformed( void **state )
{
	struct fx *f = *state;
	cJSON *out = cJSON_CreateArray();
	long status;
	int more;

	token_ok( f );
	reply( f, LOGS "5&take=100", 200, "{\"logs\":[]}", 1 );
	assert_int_equal( auth0_logs_read( &f->api, "5", 1000, out, &more,
		&status, f->err ), AUTH0_ERR_JSON );
	reply( f, LOGS "5&take=100", 200, "[{\"log_id\":\"6\"},{\"type\":"
		"\"ss\"}]", 1 );
	assert_int_equal( auth0_logs_read( &f->api, "5", 1000, out, &more,
		&status, f->err ), AUTH0_ERR_JSON );
	assert_non_null( strstr( f->err, "log_id" ) );
	reply( f, LOGS "5&take=100", 200, "[{\"log_id\":\"6\"", 1 );
	assert_int_not_equal( auth0_logs_read( &f->api, "5", 1000, out, &more,
		&status, f->err ), AUTH0_OK );
	assert_int_equal( cJSON_GetArraySize( out ), 0 );
	cJSON_Delete( out );
}

static void
test_head_and_user( void **state )
{
	struct fx *f = *state;
	cJSON *user;
	char *id;

	token_ok( f );
	reply( f, BASE "/api/v2/logs?sort=date%3A-1&per_page=1&page=0", 200,
		"[{\"log_id\":\"777\",\"type\":\"s\"}]", 1 );
	assert_int_equal( auth0_logs_head( &f->api, &id, f->err ), AUTH0_OK );
	assert_string_equal( id, "777" );
	free( id );
	reply( f, BASE "/api/v2/logs?sort=date%3A-1&per_page=1&page=0", 200,
		"[]", 1 );
	assert_int_equal( auth0_logs_head( &f->api, &id, f->err ), AUTH0_OK );
	assert_string_equal( id, "0" );
	free( id );
	reply( f, BASE "/api/v2/users/auth0%7Ca", 200,
		"{\"user_id\":\"auth0|a\"}", 1 );
	assert_int_equal( auth0_logs_user( &f->api, "auth0|a", &user, f->err ),
		AUTH0_OK );
	assert_non_null( user );
	cJSON_Delete( user );
	reply( f, BASE "/api/v2/users/auth0%7Cgone", 404, "{\"statusCode\":404,"
		"\"error\":\"Not Found\",\"message\":\"The user does not exist.\","
		"\"errorCode\":\"inexistent_user\"}", 1 );
	assert_int_equal( auth0_logs_user( &f->api, "auth0|gone", &user,
		f->err ), AUTH0_OK );
	assert_null( user );
	reply( f, BASE "/api/v2/users/auth0%7Cbad", 200, "[1]", 1 );
	assert_int_equal( auth0_logs_user( &f->api, "auth0|bad", &user, f->err ),
		AUTH0_ERR_JSON );
	assert_null( user );
}

int
main( void )
{
#define T( name ) cmocka_unit_test_setup_teardown( name, setup, teardown )
	const struct CMUnitTest tests[] = {
		cmocka_unit_test( test_user_events ),
		cmocka_unit_test( test_signup_keeps_cache ),
		cmocka_unit_test( test_sapi_paths ),
		cmocka_unit_test( test_whole_resources ),
		cmocka_unit_test( test_unselected_connection ),
		cmocka_unit_test( test_malformed_events ),
		cmocka_unit_test( test_valid_id ),
		T( test_read_pages ),
		T( test_read_refused ),
		T( test_read_malformed ),
		T( test_head_and_user ),
	};
	return cmocka_run_group_tests( tests, NULL, NULL );
}
