/* test_map.c - unit tests of map.c: uid rules, escaping, ids, mapping */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "map.h"

static void
add_json( struct auth0_model *m, const char *json )
{
	char err[AUTH0_ERRLEN];
	cJSON *o = cJSON_Parse( json );

	assert_non_null( o );
	assert_int_equal( auth0_model_add_user( m, o, NULL, err ), AUTH0_OK );
	cJSON_Delete( o );
}

static struct auth0_user *
by_id( struct auth0_model *m, const char *id )
{
	size_t i;

	for ( i = 0; i < m->sn_nusers; i++ )
		if ( strcmp( m->sn_users[i].us_id, id ) == 0 )
			return &m->sn_users[i];
	fail_msg( "no user %s", id );
	return NULL;
}

static void
uid_prefers_username_then_email_then_id( void **state )
{
	struct auth0_model m;

	auth0_model_init( &m );
	add_json( &m, "{\"user_id\":\"auth0|1\",\"username\":\"jane\","
		"\"email\":\"jane@x.com\"}" );
	add_json( &m, "{\"user_id\":\"auth0|2\",\"email\":\"bob@x.com\"}" );
	add_json( &m, "{\"user_id\":\"samlp|idp|z\"}" );
	assert_int_equal( auth0_map_assign_uids( &m, NULL ), AUTH0_OK );
	assert_string_equal( by_id( &m, "auth0|1" )->us_uid, "jane" );
	assert_string_equal( by_id( &m, "auth0|2" )->us_uid, "bob@x.com" );
	assert_string_equal( by_id( &m, "samlp|idp|z" )->us_uid,
		"samlp|idp|z" );
	assert_int_equal( by_id( &m, "auth0|2" )->us_uid_fallback, 0 );
	auth0_model_free( &m );
}

static void
uid_collision_lower_user_id_keeps_it( void **state )
{
	struct auth0_model m;

	auth0_model_init( &m );
	/* added in reverse order: the outcome must not depend on it */
	add_json( &m, "{\"user_id\":\"auth0|b\",\"username\":\"Sam\"}" );
	add_json( &m, "{\"user_id\":\"auth0|a\",\"username\":\"sam\"}" );
	add_json( &m, "{\"user_id\":\"auth0|c\",\"email\":\"sam\"}" );
	assert_int_equal( auth0_map_assign_uids( &m, NULL ), AUTH0_OK );
	assert_string_equal( by_id( &m, "auth0|a" )->us_uid, "sam" );
	assert_string_equal( by_id( &m, "auth0|b" )->us_uid, "auth0|b" );
	assert_string_equal( by_id( &m, "auth0|c" )->us_uid, "auth0|c" );
	assert_int_equal( by_id( &m, "auth0|b" )->us_uid_fallback, 1 );
	assert_int_equal( by_id( &m, "auth0|a" )->us_uid_fallback, 0 );
	/* sorted by user_id afterwards */
	assert_string_equal( m.sn_users[0].us_id, "auth0|a" );
	auth0_model_free( &m );
}

static void
rdn_escaping( void **state )
{
	static const struct { const char *in, *out; } cases[] = {
		{ "jane", "uid=jane" },
		/* RFC 4514 escapes, written as hex pairs by libldap */
		{ "a,b+c", "uid=a\\2Cb\\2Bc" },
		{ "q\"x\\y", "uid=q\\22x\\5Cy" },
		{ "<x>;=", "uid=\\3Cx\\3E\\3B\\3D" },
		{ "#lead", "uid=\\23lead" },
		{ " sp ", "uid=\\20sp\\20" },
		{ "auth0|123", "uid=auth0|123" },
		{ "Jos\xc3\xa9", "uid=Jos\xc3\xa9" },
	};
	size_t i;

	for ( i = 0; i < sizeof( cases ) / sizeof( cases[0] ); i++ ) {
		char *rdn = NULL;
		assert_int_equal( auth0_map_rdn( "uid", cases[i].in, &rdn ),
			AUTH0_OK );
		assert_string_equal( rdn, cases[i].out );
		free( rdn );
	}
}

static void
entryuuid_is_stable_v5( void **state )
{
	char a[37], b[37], c[37];

	auth0_map_entryuuid( "auth0|1", a );
	auth0_map_entryuuid( "auth0|1", b );
	auth0_map_entryuuid( "auth0|2", c );
	assert_string_equal( a, b );
	assert_string_not_equal( a, c );
	assert_int_equal( strlen( a ), 36 );
	assert_int_equal( a[14], '5' );		/* version 5 */
	assert_non_null( strchr( "89ab", a[19] ) );	/* RFC 4122 variant */
	assert_int_equal( a[8], '-' );
	assert_int_equal( a[23], '-' );
}

static void
gentime_conversion( void **state )
{
	char buf[40];

	assert_int_equal( auth0_map_gentime( "2017-06-08T15:30:41.237Z", buf,
		sizeof( buf ) ), AUTH0_OK );
	assert_string_equal( buf, "20170608153041.237Z" );
	assert_int_equal( auth0_map_gentime( "2017-06-08T15:30:41Z", buf,
		sizeof( buf ) ), AUTH0_OK );
	assert_string_equal( buf, "20170608153041Z" );
	assert_int_not_equal( auth0_map_gentime( "2017-06-08 15:30:41Z", buf,
		sizeof( buf ) ), AUTH0_OK );
	assert_int_not_equal( auth0_map_gentime( "2017-06-08T15:30:41+02:00",
		buf, sizeof( buf ) ), AUTH0_OK );
	assert_int_not_equal( auth0_map_gentime( "yesterday", buf,
		sizeof( buf ) ), AUTH0_OK );
	assert_int_not_equal( auth0_map_gentime( NULL, buf, sizeof( buf ) ),
		AUTH0_OK );
}

static const struct auth0_mapconf mc = {
	"dc=example,dc=com", 100000, "/home/", "/bin/bash"
};

static void
user_entry_attributes( void **state )
{
	struct auth0_model m;
	struct auth0_entry e;
	struct auth0_eattr *oc;

	auth0_model_init( &m );
	add_json( &m, "{\"user_id\":\"auth0|59\",\"email\":\"jane@example.com\","
		"\"email_verified\":true,\"username\":\"jane\",\"phone_number\":"
		"\"+15551234567\",\"name\":\"Jane Doe\",\"given_name\":\"Jane\","
		"\"family_name\":\"Doe\",\"created_at\":\"2017-06-08T15:30:41.237Z\","
		"\"updated_at\":\"2017-06-25T07:28:54.719Z\",\"last_login\":"
		"\"2017-06-25T07:28:54.719Z\",\"logins_count\":12,\"blocked\":false,"
		"\"identities\":[{\"connection\":\"Username-Password-Authentication\","
		"\"provider\":\"auth0\",\"user_id\":\"59\",\"isSocial\":false}],"
		"\"app_metadata\":{\"plan\":\"gold\"},\"user_metadata\":{}}" );
	assert_int_equal( auth0_map_assign_uids( &m, NULL ), AUTH0_OK );
	assert_int_equal( auth0_map_user( NULL, &m.sn_users[0], 100042, &mc, &e ),
		AUTH0_OK );
	assert_string_equal( e.en_dn, "uid=jane,ou=people,dc=example,dc=com" );
	oc = auth0_entry_find( &e, "objectClass" );
	assert_non_null( oc );
	assert_int_equal( oc->ea_nvals, 4 );
	assert_string_equal( auth0_entry_first( &e, "cn" ), "Jane Doe" );
	assert_string_equal( auth0_entry_first( &e, "sn" ), "Doe" );
	assert_string_equal( auth0_entry_first( &e, "givenName" ), "Jane" );
	assert_string_equal( auth0_entry_first( &e, "mail" ),
		"jane@example.com" );
	assert_string_equal( auth0_entry_first( &e, "telephoneNumber" ),
		"+15551234567" );
	assert_string_equal( auth0_entry_first( &e, "auth0UserId" ),
		"auth0|59" );
	assert_string_equal( auth0_entry_first( &e, "auth0Connection" ),
		"Username-Password-Authentication" );
	assert_string_equal( auth0_entry_first( &e, "auth0EmailVerified" ),
		"TRUE" );
	assert_string_equal( auth0_entry_first( &e, "auth0Blocked" ),
		"FALSE" );
	assert_string_equal( auth0_entry_first( &e, "auth0LoginsCount" ),
		"12" );
	assert_string_equal( auth0_entry_first( &e, "auth0CreatedAt" ),
		"20170608153041.237Z" );
	assert_string_equal( auth0_entry_first( &e, "auth0AppMetadata" ),
		"{\"plan\":\"gold\"}" );
	assert_null( auth0_entry_find( &e, "auth0UserMetadata" ) );
	assert_string_equal( auth0_entry_first( &e, "uidNumber" ), "100042" );
	assert_string_equal( auth0_entry_first( &e, "gidNumber" ), "100000" );
	assert_string_equal( auth0_entry_first( &e, "homeDirectory" ),
		"/home/jane" );
	auth0_entry_free( &e );
	auth0_model_free( &m );
}

static void
user_entry_fallbacks( void **state )
{
	struct auth0_model m;
	struct auth0_entry e;

	auth0_model_init( &m );
	/* no name, no family_name, odd uid: cn/sn fall back, home is safe */
	add_json( &m, "{\"user_id\":\"samlp|corp|..x y\"}" );
	assert_int_equal( auth0_map_assign_uids( &m, NULL ), AUTH0_OK );
	assert_int_equal( auth0_map_user( NULL, &m.sn_users[0], 7, &mc, &e ),
		AUTH0_OK );
	assert_string_equal( auth0_entry_first( &e, "cn" ), "samlp|corp|..x y" );
	assert_string_equal( auth0_entry_first( &e, "sn" ), "samlp|corp|..x y" );
	assert_string_equal( auth0_entry_first( &e, "homeDirectory" ),
		"/home/samlp_corp_..x_y" );
	assert_null( auth0_entry_find( &e, "mail" ) );
	assert_null( auth0_entry_find( &e, "auth0EmailVerified" ) );
	assert_string_equal( auth0_entry_first( &e, "auth0Blocked" ),
		"FALSE" );
	auth0_entry_free( &e );
	auth0_model_free( &m );
}

static void
home_never_dot_dot( void **state )
{
	struct auth0_model m;
	struct auth0_entry e;

	auth0_model_init( &m );
	add_json( &m, "{\"user_id\":\"x\",\"username\":\"..\"}" );
	assert_int_equal( auth0_map_assign_uids( &m, NULL ), AUTH0_OK );
	assert_int_equal( auth0_map_user( NULL, &m.sn_users[0], 7, &mc, &e ),
		AUTH0_OK );
	assert_string_equal( auth0_entry_first( &e, "homeDirectory" ),
		"/home/_." );
	auth0_entry_free( &e );
	auth0_model_free( &m );
}

static void
selection_by_connection( void **state )
{
	char *conns[] = { "db", NULL };
	struct auth0_select sel = { conns };
	struct auth0_model m;
	char err[AUTH0_ERRLEN];
	cJSON *a = cJSON_Parse( "{\"user_id\":\"1\",\"identities\":"
		"[{\"connection\":\"db\"}]}" );
	cJSON *b = cJSON_Parse( "{\"user_id\":\"2\",\"identities\":"
		"[{\"connection\":\"google-oauth2\"}]}" );

	auth0_model_init( &m );
	assert_int_equal( auth0_model_add_user( &m, a, &sel, err ), 0 );
	assert_int_equal( auth0_model_add_user( &m, b, &sel, err ), 0 );
	assert_int_equal( m.sn_nusers, 1 );
	assert_int_equal( m.sn_skipped, 1 );
	assert_string_equal( m.sn_users[0].us_connection, "db" );
	assert_true( auth0_model_selected( NULL, "anything" ) );
	cJSON_Delete( a );
	cJSON_Delete( b );
	auth0_model_free( &m );
}

int
main( void )
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test( uid_prefers_username_then_email_then_id ),
		cmocka_unit_test( uid_collision_lower_user_id_keeps_it ),
		cmocka_unit_test( rdn_escaping ),
		cmocka_unit_test( entryuuid_is_stable_v5 ),
		cmocka_unit_test( gentime_conversion ),
		cmocka_unit_test( user_entry_attributes ),
		cmocka_unit_test( user_entry_fallbacks ),
		cmocka_unit_test( home_never_dot_dot ),
		cmocka_unit_test( selection_by_connection ),
	};

	return cmocka_run_group_tests( tests, NULL, NULL );
}
