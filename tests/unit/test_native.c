/* test_native.c - unit tests of native.c and its use in flatten.c and
 * map.c: native groups nested through member_type group (depth, diamond,
 * cycle), roles inherited through them, name clashes, organizations and
 * their roles, applications' connections, bad input */
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
users( struct auth0_model *m, const char *json )
{
	char err[AUTH0_ERRLEN];
	cJSON *arr = cJSON_Parse( json ), *o;

	assert_non_null( arr );
	cJSON_ArrayForEach( o, arr )
		assert_int_equal( auth0_model_add_user( m, o, NULL, err ), AUTH0_OK );
	cJSON_Delete( arr );
}

typedef int (add_fn)( struct auth0_model *, const cJSON *, char * );

static int
add( struct auth0_model *m, add_fn *fn, const char *json, char *err )
{
	cJSON *o = cJSON_Parse( json );
	int rc;

	assert_non_null( o );
	err[0] = '\0';
	rc = fn( m, o, err );
	cJSON_Delete( o );
	return rc;
}

static struct auth0_group *
group( struct auth0_model *m, const char *id )
{
	size_t i;

	for ( i = 0; i < m->sn_ngroups; i++ )
		if ( strcmp( m->sn_groups[i].gr_id, id ) == 0 )
			return &m->sn_groups[i];
	fail_msg( "no group %s", id );
	return NULL;
}

static char *
ids( struct auth0_model *m, const struct auth0_uset *s )
{
	static char buf[1024];
	size_t i;

	buf[0] = '\0';
	for ( i = 0; i < s->ut_n; i++ ) {
		if ( i )
			strcat( buf, " " );
		strcat( buf, m->sn_users[s->ut_idx[i]].us_id );
	}
	return buf;
}

static const char *const U = "[{\"user_id\":\"u1\"},{\"user_id\":\"u2\"},"
	"{\"user_id\":\"u3\"},{\"user_id\":\"u4\"},{\"user_id\":\"u5\"}]";

#define UM( id ) "{\"id\":\"" id "\",\"member_type\":\"user\"}"
#define GM( id ) "{\"id\":\"" id "\",\"member_type\":\"group\"}"

/* A > B > C > D, A > E > D (a diamond), and F <> G (a cycle). */
static const char *const G = "["
	"{\"id\":\"grp_A\",\"name\":\"A\",\"members\":[" UM( "u1" ) "," GM( "grp_B" )
		"," GM( "grp_E" ) "],\"roles\":[\"rol_1\"]},"
	"{\"id\":\"grp_B\",\"name\":\"B\",\"members\":[" GM( "grp_C" ) "]},"
	"{\"id\":\"grp_C\",\"name\":\"C\",\"members\":[" UM( "u2" ) "," GM( "grp_D" )
		"]},"
	"{\"id\":\"grp_D\",\"name\":\"D\",\"members\":[" UM( "u3" ) "," UM( "nobody" )
		"]},"
	"{\"id\":\"grp_E\",\"name\":\"E\",\"members\":[" GM( "grp_D" ) "]},"
	"{\"id\":\"grp_F\",\"name\":\"F\",\"members\":[" UM( "u4" ) "," GM( "grp_G" )
		"]},"
	"{\"id\":\"grp_G\",\"name\":\"G\",\"members\":[" UM( "u5" ) "," GM( "grp_F" )
		"],\"roles\":[{\"id\":\"rol_2\"}]}]";

static void
nested_native_groups( void **state )
{
	struct auth0_model m;
	char err[AUTH0_ERRLEN];
	struct auth0_group *a;

	auth0_model_init( &m );
	users( &m, U );
	assert_int_equal( add( &m, auth0_model_add_native_groups, G, err ),
		AUTH0_OK );
	assert_int_equal( add( &m, auth0_model_add_rbac_roles,
		"[{\"id\":\"rol_1\",\"name\":\"Ops\",\"members\":[\"u5\"]},"
		"{\"id\":\"rol_2\",\"name\":\"Ring\"}]", err ), AUTH0_OK );
	assert_int_equal( auth0_map_assign_cns( &m, NULL ), AUTH0_OK );
	assert_int_equal( auth0_flatten( &m ), AUTH0_OK );
	a = group( &m, "grp_A" );
	assert_int_equal( a->gr_source, AUTH0_GSRC_NATIVE );
	/* depth 3 through B and C, and D once though reached twice */
	assert_string_equal( ids( &m, &a->gr_flat ), "u1 u2 u3" );
	assert_string_equal( ids( &m, &group( &m, "grp_E" )->gr_flat ), "u3" );
	assert_string_equal( ids( &m, &group( &m, "grp_F" )->gr_flat ), "u4 u5" );
	assert_string_equal( ids( &m, &group( &m, "grp_G" )->gr_flat ), "u4 u5" );
	assert_int_equal( m.sn_cycles, 2 );
	assert_true( group( &m, "grp_F" )->gr_in_cycle );
	assert_false( a->gr_in_cycle );
	/* a role's holders: direct, and inherited through nested groups */
	for ( size_t i = 0; i < m.sn_nroles; i++ ) {
		const char *want = strcmp( m.sn_roles[i].ro_id, "rol_1" ) == 0 ?
			"u1 u2 u3 u5" : "u4 u5";
		assert_string_equal( ids( &m, &m.sn_roles[i].ro_flat ), want );
	}
	/* u3: A, B, C, D, E and the role Ops */
	assert_int_equal( m.sn_users[2].us_nmemberof, 6 );
	auth0_model_free( &m );
}

static void
native_group_entry( void **state )
{
	struct auth0_model m;
	struct auth0_mapconf mc = { "dc=x", 10000, "/home/", "/bin/sh" };
	struct auth0_entry e;
	char err[AUTH0_ERRLEN];
	size_t i;

	auth0_model_init( &m );
	users( &m, U );
	assert_int_equal( add( &m, auth0_model_add_connections,
		"[{\"id\":\"con_1\",\"name\":\"corp\",\"enabled_clients\":[\"c1\"]},"
		"{\"id\":\"con_2\",\"name\":\"db\",\"enabled_clients\":[\"c1\","
		"\"c2\"]}]", err ), AUTH0_OK );
	assert_int_equal( add( &m, auth0_model_add_clients,
		"[{\"client_id\":\"c1\",\"name\":\"App\"},{\"client_id\":\"c3\","
		"\"name\":\"Lone\"}]", err ), AUTH0_OK );
	assert_int_equal( add( &m, auth0_model_add_native_groups,
		"[{\"id\":\"grp_1\",\"name\":\"Eng\",\"connection_id\":\"con_1\","
		"\"external_id\":\"x-1\",\"description\":\"d\",\"members\":["
		UM( "u1" ) "," GM( "grp_2" ) "]},"
		"{\"id\":\"grp_2\",\"name\":\"All\",\"tenant_name\":\"acme\","
		"\"members\":[" UM( "u2" ) "]}]", err ), AUTH0_OK );
	assert_int_equal( auth0_map_assign_uids( &m, NULL ), AUTH0_OK );
	assert_int_equal( auth0_map_assign_cns( &m, NULL ), AUTH0_OK );
	assert_int_equal( auth0_flatten( &m ), AUTH0_OK );
	assert_int_equal( auth0_map_prepare_dns( &m, &mc ), AUTH0_OK );
	for ( i = 0; i < m.sn_ngroups; i++ )
		if ( strcmp( m.sn_groups[i].gr_id, "grp_1" ) == 0 )
			break;
	assert_int_equal( auth0_map_group( &m, &m.sn_groups[i], 10005, &mc, &e ),
		AUTH0_OK );
	assert_string_equal( e.en_dn, "cn=Eng,ou=groups,dc=x" );
	assert_string_equal( auth0_entry_first( &e, "auth0GroupSource" ), "auth0" );
	assert_string_equal( auth0_entry_first( &e, "auth0GroupType" ),
		"connection" );
	assert_string_equal( auth0_entry_first( &e, "auth0Connection" ), "corp" );
	assert_string_equal( auth0_entry_first( &e, "auth0ExternalId" ), "x-1" );
	assert_string_equal( auth0_entry_first( &e, "auth0NestedGroup" ),
		"cn=All,ou=groups,dc=x" );
	assert_true( auth0_entry_has( &e, "memberUid", "u2" ) );
	assert_true( auth0_entry_has( &e, "objectClass", "posixGroup" ) );
	auth0_entry_free( &e );
	i = i == 0 ? 1 : 0;
	assert_int_equal( auth0_map_group( &m, &m.sn_groups[i], 10006, &mc, &e ),
		AUTH0_OK );
	assert_string_equal( auth0_entry_first( &e, "auth0GroupType" ), "tenant" );
	assert_null( auth0_entry_find( &e, "auth0Connection" ) );
	auth0_entry_free( &e );
	/* applications carry their enabled connections */
	assert_int_equal( auth0_map_client( &m, &m.sn_clients[0], &mc, &e ),
		AUTH0_OK );
	assert_true( auth0_entry_has( &e, "auth0Connection", "corp" ) );
	assert_true( auth0_entry_has( &e, "auth0Connection", "db" ) );
	auth0_entry_free( &e );
	assert_int_equal( auth0_map_client( &m, &m.sn_clients[1], &mc, &e ),
		AUTH0_OK );
	assert_null( auth0_entry_find( &e, "auth0Connection" ) );
	auth0_entry_free( &e );
	auth0_model_free( &m );
}

static void
name_clashes( void **state )
{
	struct auth0_model m;
	char err[AUTH0_ERRLEN];
	size_t i, seen = 0;

	auth0_model_init( &m );
	/* an extension group keeps its name; native ones by id after it */
	assert_int_equal( add( &m, auth0_model_add_authz,
		"{\"groups\":[{\"_id\":\"zz-uuid\",\"name\":\"Eng\"}]}", err ),
		AUTH0_OK );
	assert_int_equal( add( &m, auth0_model_add_native_groups,
		"[{\"id\":\"grp_b\",\"name\":\"eng\",\"connection_id\":\"con_2\"},"
		"{\"id\":\"grp_a\",\"name\":\"Eng\",\"connection_id\":\"con_1\"},"
		"{\"id\":\"grp_c\",\"name\":\"Ops\"}]", err ), AUTH0_OK );
	assert_int_equal( auth0_map_assign_cns( &m, NULL ), AUTH0_OK );
	for ( i = 0; i < m.sn_ngroups; i++ ) {
		const char *id = m.sn_groups[i].gr_id, *cn = m.sn_groups[i].gr_cn;
		if ( strcmp( id, "zz-uuid" ) == 0 )
			assert_string_equal( cn, "Eng" );
		else if ( strcmp( id, "grp_a" ) == 0 )
			assert_string_equal( cn, "Eng (grp_a)" );
		else if ( strcmp( id, "grp_b" ) == 0 )
			assert_string_equal( cn, "eng (grp_b)" );
		else
			assert_string_equal( cn, "Ops" );
		seen++;
	}
	assert_int_equal( seen, 4 );
	auth0_model_free( &m );
}

static void
organizations_and_roles( void **state )
{
	struct auth0_model m;
	struct auth0_mapconf mc = { "dc=x", 10000, "/home/", "/bin/sh" };
	struct auth0_entry e;
	char err[AUTH0_ERRLEN];

	auth0_model_init( &m );
	users( &m, U );
	assert_int_equal( add( &m, auth0_model_add_rbac_roles,
		"[{\"id\":\"rol_1\",\"name\":\"Admin\"}]", err ), AUTH0_OK );
	assert_int_equal( add( &m, auth0_model_add_orgs,
		"[{\"id\":\"org_b\",\"name\":\"beta\",\"display_name\":\"Beta\","
		"\"members\":[{\"user_id\":\"u1\",\"roles\":[{\"id\":\"rol_1\","
		"\"name\":\"Admin\"}]},{\"user_id\":\"u2\",\"roles\":[]},"
		"{\"user_id\":\"gone\",\"roles\":[{\"id\":\"rol_1\",\"name\":"
		"\"Admin\"}]}]},"
		"{\"id\":\"org_a\",\"name\":\"alpha\",\"members\":[{\"user_id\":"
		"\"u3\",\"roles\":[{\"id\":\"rol_1\",\"name\":\"Admin\"},{\"id\":"
		"\"rol_9\",\"name\":\"Viewer\"}]}]}]", err ), AUTH0_OK );
	assert_int_equal( auth0_map_assign_uids( &m, NULL ), AUTH0_OK );
	assert_int_equal( auth0_map_assign_cns( &m, NULL ), AUTH0_OK );
	assert_int_equal( auth0_flatten( &m ), AUTH0_OK );
	assert_int_equal( auth0_map_prepare_dns( &m, &mc ), AUTH0_OK );
	assert_int_equal( m.sn_norgs, 2 );
	assert_string_equal( m.sn_orgs[0].og_id, "org_a" );
	assert_int_equal( m.sn_norgroles, 3 );
	assert_string_equal( m.sn_orgroles[0].or_key, "org_a/rol_1" );
	assert_string_equal( m.sn_orgroles[1].or_key, "org_a/rol_9" );
	assert_string_equal( ids( &m, &m.sn_orgs[1].og_flat ), "u1 u2" );
	assert_string_equal( ids( &m, &m.sn_orgroles[2].or_flat ), "u1" );
	assert_int_equal( auth0_map_org( &m, &m.sn_orgs[1], &mc, &e ), AUTH0_OK );
	assert_string_equal( e.en_dn, "cn=beta,ou=organizations,dc=x" );
	assert_string_equal( auth0_entry_first( &e, "displayName" ), "Beta" );
	assert_string_equal( auth0_entry_first( &e, "auth0OrganizationId" ),
		"org_b" );
	assert_true( auth0_entry_has( &e, "member", "uid=u2,ou=people,dc=x" ) );
	assert_null( auth0_entry_find( &e, "gidNumber" ) );
	auth0_entry_free( &e );
	assert_int_equal( auth0_map_orgrole( &m, &m.sn_orgroles[1], &mc, &e ),
		AUTH0_OK );
	assert_string_equal( e.en_dn,
		"cn=Viewer,cn=alpha,ou=organizations,dc=x" );
	assert_null( auth0_entry_find( &e, "auth0RoleRef" ) );	/* not a role */
	auth0_entry_free( &e );
	assert_int_equal( auth0_map_orgrole( &m, &m.sn_orgroles[0], &mc, &e ),
		AUTH0_OK );
	assert_string_equal( auth0_entry_first( &e, "auth0RoleRef" ),
		"cn=Admin,ou=roles,dc=x" );
	auth0_entry_free( &e );
	/* u1: org beta and its Admin role */
	assert_int_equal( auth0_map_user( &m, &m.sn_users[0], 1, &mc, &e ),
		AUTH0_OK );
	assert_true( auth0_entry_has( &e, "memberOf",
		"cn=beta,ou=organizations,dc=x" ) );
	assert_true( auth0_entry_has( &e, "memberOf",
		"cn=Admin,cn=beta,ou=organizations,dc=x" ) );
	auth0_entry_free( &e );
	auth0_model_free( &m );
}

static void
bad_input_is_reported( void **state )
{
	struct auth0_model m;
	char err[AUTH0_ERRLEN];

	auth0_model_init( &m );
	assert_int_equal( add( &m, auth0_model_add_native_groups, "{}", err ),
		AUTH0_ERR_JSON );
	assert_non_null( strstr( err, "not a JSON array" ) );
	assert_int_equal( add( &m, auth0_model_add_native_groups,
		"[{\"name\":\"no id\"},{\"id\":\"grp_1\",\"name\":\"ok\",\"members\":["
		"{\"id\":\"u1\",\"member_type\":\"robot\"}," UM( "u2" ) "]},"
		"{\"id\":\"grp_1\",\"name\":\"again\"},7]", err ), AUTH0_ERR_DATA );
	assert_non_null( strstr( err, "3 group(s)" ) );
	assert_non_null( strstr( err, "1 member(s)" ) );
	assert_int_equal( m.sn_ngroups, 1 );
	assert_string_equal( m.sn_groups[0].gr_members[0], "u2" );
	assert_int_equal( add( &m, auth0_model_add_orgs, "\"x\"", err ),
		AUTH0_ERR_JSON );
	assert_int_equal( add( &m, auth0_model_add_orgs,
		"[{\"id\":\"org_1\",\"name\":\"a\"},{\"id\":\"org_2\",\"name\":\"a\"},"
		"{\"id\":\"org_3\",\"name\":\"c\",\"members\":[{\"roles\":[]}]}]",
		err ), AUTH0_ERR_DATA );
	assert_int_equal( m.sn_norgs, 2 );
	assert_int_equal( add( &m, auth0_model_add_connections, "[{\"id\":1}]",
		err ), AUTH0_ERR_DATA );
	auth0_model_free( &m );
}

int
main( void )
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test( nested_native_groups ),
		cmocka_unit_test( native_group_entry ),
		cmocka_unit_test( name_clashes ),
		cmocka_unit_test( organizations_and_roles ),
		cmocka_unit_test( bad_input_is_reported ),
	};

	return cmocka_run_group_tests( tests, NULL, NULL );
}
