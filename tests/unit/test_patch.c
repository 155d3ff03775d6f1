/* test_patch.c - unit tests of patch.c: the change feed's patch of a kept
 * model (users replaced, added, removed; role members; what is dirty) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "model.h"
#include "map.h"

static const struct auth0_mapconf mc = { "dc=example,dc=com", 100000,
	"/home/", "/bin/bash" };

static void
add_users( struct auth0_model *m, const char *json )
{
	char err[AUTH0_ERRLEN];
	cJSON *arr = cJSON_Parse( json ), *o;

	assert_non_null( arr );
	cJSON_ArrayForEach( o, arr )
		assert_int_equal( auth0_model_add_user( m, o, NULL, err ), AUTH0_OK );
	cJSON_Delete( arr );
}

/* A model as a refresh leaves it: a, b, c, d; role r1 = { a, b }. */
static void
build( struct auth0_model *m )
{
	char err[AUTH0_ERRLEN];
	cJSON *roles;

	auth0_model_init( m );
	add_users( m, "[{\"user_id\":\"auth0|a\",\"username\":\"anna\"},"
		"{\"user_id\":\"auth0|b\",\"username\":\"bert\"},"
		"{\"user_id\":\"auth0|c\",\"username\":\"cora\"},"
		"{\"user_id\":\"auth0|d\",\"email\":\"cora\"}]" );
	roles = cJSON_Parse( "[{\"id\":\"r1\",\"name\":\"Ops\",\"members\":"
		"[\"auth0|a\",\"auth0|b\"]},{\"id\":\"r2\",\"name\":\"Dev\","
		"\"members\":[]}]" );
	assert_int_equal( auth0_model_add_rbac_roles( m, roles, err ), AUTH0_OK );
	cJSON_Delete( roles );
	assert_int_equal( auth0_map_assign_uids( m, NULL ), AUTH0_OK );
	assert_int_equal( auth0_map_assign_cns( m, NULL ), AUTH0_OK );
	assert_int_equal( auth0_flatten( m ), AUTH0_OK );
	assert_int_equal( auth0_map_prepare_dns( m, &mc ), AUTH0_OK );
}

static const struct auth0_user *
user( const struct auth0_model *m, const char *id )
{
	size_t i = auth0_model_user_index( m, id );

	assert_int_not_equal( i, AUTH0_NOINDEX );
	return &m->sn_users[i];
}

static int
dirty( const struct auth0_model *m, const struct auth0_patch *pa,
	const char *id )
{
	return pa->pa_dirty[auth0_model_user_index( m, id )];
}

static void
test_users_replaced_added_removed( void **state )
{
	struct auth0_model m;
	struct auth0_patch pa;
	char *fetched[] = { "auth0|a", "auth0|c", "auth0|e", NULL };

	build( &m );
	/* d's uid is its user_id (c holds "cora"): gone, c frees "cora" */
	assert_string_equal( user( &m, "auth0|d" )->us_uid, "auth0|d" );
	auth0_patch_init( &pa );
	add_users( &pa.pa_fetched, "[{\"user_id\":\"auth0|a\",\"username\":"
		"\"anna\",\"family_name\":\"New\"},{\"user_id\":\"auth0|e\","
		"\"username\":\"emil\"}]" );
	assert_int_equal( auth0_patch_gone( &pa, "auth0|c" ), AUTH0_OK );
	assert_int_equal( auth0_patch_apply( &pa, &m, fetched, NULL, &mc ),
		AUTH0_OK );
	assert_int_equal( m.sn_nusers, 4 );
	assert_int_equal( auth0_model_user_index( &m, "auth0|c" ), AUTH0_NOINDEX );
	assert_string_equal( user( &m, "auth0|a" )->us_family, "New" );
	assert_string_equal( user( &m, "auth0|e" )->us_dn,
		"uid=emil,ou=people,dc=example,dc=com" );
	/* d takes the uid c left */
	assert_string_equal( user( &m, "auth0|d" )->us_uid, "cora" );
	assert_true( dirty( &m, &pa, "auth0|a" ) );
	assert_true( dirty( &m, &pa, "auth0|e" ) );
	assert_true( dirty( &m, &pa, "auth0|d" ) );
	assert_false( dirty( &m, &pa, "auth0|b" ) );
	assert_int_equal( pa.pa_ndirty, 3 );
	/* old DNs: a's (re-read), c's (gone) and d's (moved) */
	assert_true( auth0_strv_has( pa.pa_old_dns,
		"uid=cora,ou=people,dc=example,dc=com" ) );
	assert_true( auth0_strv_has( pa.pa_old_dns,
		"uid=auth0\\7Cd,ou=people,dc=example,dc=com" ) ||
		auth0_strv_has( pa.pa_old_dns,
		"uid=auth0|d,ou=people,dc=example,dc=com" ) );
	/* memberOf still right: a in r1 */
	assert_int_equal( user( &m, "auth0|a" )->us_nmemberof, 1 );
	auth0_patch_free( &pa );
	auth0_model_free( &m );
}

static void
test_role_members( void **state )
{
	struct auth0_model m;
	struct auth0_patch pa;
	char **members = calloc( 3, sizeof( char * ) );
	char *fetched[] = { NULL };

	build( &m );
	members[0] = strdup( "auth0|b" );
	members[1] = strdup( "auth0|c" );
	auth0_patch_init( &pa );
	assert_int_equal( auth0_patch_role( &pa, "r1", members ), AUTH0_OK );
	assert_int_equal( auth0_patch_apply( &pa, &m, fetched, NULL, &mc ),
		AUTH0_OK );
	/* a left the role, c joined it: both dirty (memberOf); b is not */
	assert_true( dirty( &m, &pa, "auth0|a" ) );
	assert_true( dirty( &m, &pa, "auth0|c" ) );
	assert_false( dirty( &m, &pa, "auth0|b" ) );
	assert_false( dirty( &m, &pa, "auth0|d" ) );
	assert_int_equal( user( &m, "auth0|a" )->us_nmemberof, 0 );
	assert_int_equal( user( &m, "auth0|c" )->us_nmemberof, 1 );
	/* r1's member list moved, r2's did not */
	assert_int_equal( pa.pa_ncdirty[AUTH0_ROLE], 1 );
	assert_true( pa.pa_cdirty[AUTH0_ROLE][user( &m, "auth0|c" )->us_memberof[0].rf_idx] );
	assert_null( pa.pa_old_dns );
	auth0_patch_free( &pa );
	auth0_model_free( &m );
}

static void
test_unknown_role( void **state )
{
	struct auth0_model m;
	struct auth0_patch pa;
	char *fetched[] = { NULL };

	build( &m );
	auth0_patch_init( &pa );
	assert_int_equal( auth0_patch_role( &pa, "r9", calloc( 1,
		sizeof( char * ) ) ), AUTH0_OK );
	/* a role the model does not know: the caller refreshes in full */
	assert_int_equal( auth0_patch_apply( &pa, &m, fetched, NULL, &mc ),
		AUTH0_ERR_DATA );
	auth0_patch_free( &pa );
	auth0_model_free( &m );
}

static void
test_nothing_changed( void **state )
{
	struct auth0_model m;
	struct auth0_patch pa;
	char *fetched[] = { "auth0|b", NULL };

	build( &m );
	auth0_patch_init( &pa );
	/* re-read, same record: compared (dirty), nothing else moves */
	add_users( &pa.pa_fetched, "[{\"user_id\":\"auth0|b\",\"username\":"
		"\"bert\"}]" );
	/* gone twice, and a user the model never had: harmless */
	assert_int_equal( auth0_patch_gone( &pa, "auth0|zz" ), AUTH0_OK );
	assert_int_equal( auth0_patch_apply( &pa, &m, fetched, NULL, &mc ),
		AUTH0_OK );
	assert_int_equal( m.sn_nusers, 4 );
	assert_int_equal( pa.pa_ndirty, 1 );
	assert_true( dirty( &m, &pa, "auth0|b" ) );
	auth0_patch_free( &pa );
	auth0_model_free( &m );
}

static void
test_in_place( void **state )
{
	struct auth0_model m;
	struct auth0_patch pa;
	char *fetched[] = { "auth0|b", NULL };
	const char *dn;

	build( &m );
	dn = user( &m, "auth0|b" )->us_dn;
	auth0_patch_init( &pa );
	/* a profile change that moves nothing: the record is swapped in */
	add_users( &pa.pa_fetched, "[{\"user_id\":\"auth0|b\",\"username\":"
		"\"bert\",\"family_name\":\"Blocked\",\"blocked\":true}]" );
	assert_int_equal( auth0_patch_apply( &pa, &m, fetched, NULL, &mc ),
		AUTH0_OK );
	assert_int_equal( pa.pa_ndirty, 1 );
	assert_true( dirty( &m, &pa, "auth0|b" ) );
	assert_ptr_equal( user( &m, "auth0|b" )->us_dn, dn );	/* kept */
	assert_string_equal( user( &m, "auth0|b" )->us_family, "Blocked" );
	assert_int_equal( user( &m, "auth0|b" )->us_blocked, 1 );
	assert_int_equal( user( &m, "auth0|b" )->us_nmemberof, 1 );
	assert_string_equal( user( &m, "auth0|b" )->us_uid, "bert" );
	assert_null( pa.pa_old_dns );
	assert_int_equal( pa.pa_ncdirty[AUTH0_ROLE], 0 );
	auth0_patch_free( &pa );
	auth0_model_free( &m );
}

int
main( void )
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test( test_users_replaced_added_removed ),
		cmocka_unit_test( test_role_members ),
		cmocka_unit_test( test_unknown_role ),
		cmocka_unit_test( test_nothing_changed ),
		cmocka_unit_test( test_in_place ),
	};
	return cmocka_run_group_tests( tests, NULL, NULL );
}
