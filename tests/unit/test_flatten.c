/* test_flatten.c - unit tests of flatten.c: nesting, cycles, diamonds,
 * mappings, role and application edges, memberOf */
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

static void
authz( struct auth0_model *m, const char *json )
{
	char err[AUTH0_ERRLEN];
	cJSON *o = cJSON_Parse( json );

	assert_non_null( o );
	assert_int_equal( auth0_model_add_authz( m, o, err ), AUTH0_OK );
	cJSON_Delete( o );
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

/* The user_ids of a set, joined with spaces, in user_id order. */
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
	"{\"user_id\":\"u3\"},{\"user_id\":\"u4\"},{\"user_id\":\"u5\","
	"\"identities\":[{\"connection\":\"corp\"}],\"groups\":[\"IdP-A\"]},"
	"{\"user_id\":\"u6\",\"identities\":[{\"connection\":\"other\"}],"
	"\"groups\":[\"IdP-A\"]}]";

static void
nesting_at_depth_and_diamond( void **state )
{
	struct auth0_model m;

	auth0_model_init( &m );
	users( &m, U );
	/* A > B > C > D, and A > E > D (a diamond at D) */
	authz( &m, "{\"groups\":["
		"{\"_id\":\"A\",\"name\":\"A\",\"members\":[\"u1\"],\"nested\":[\"B\",\"E\"]},"
		"{\"_id\":\"B\",\"name\":\"B\",\"members\":[\"u2\"],\"nested\":[\"C\"]},"
		"{\"_id\":\"C\",\"name\":\"C\",\"members\":[],\"nested\":[\"D\"]},"
		"{\"_id\":\"D\",\"name\":\"D\",\"members\":[\"u3\",\"u1\"]},"
		"{\"_id\":\"E\",\"name\":\"E\",\"members\":[\"u3\"],\"nested\":[\"D\",\"missing\"]}]}" );
	assert_int_equal( auth0_flatten( &m ), AUTH0_OK );
	assert_string_equal( ids( &m, &group( &m, "A" )->gr_flat ), "u1 u2 u3" );
	assert_string_equal( ids( &m, &group( &m, "B" )->gr_flat ), "u1 u2 u3" );
	assert_string_equal( ids( &m, &group( &m, "C" )->gr_flat ), "u1 u3" );
	assert_string_equal( ids( &m, &group( &m, "E" )->gr_flat ), "u1 u3" );
	assert_int_equal( m.sn_cycles, 0 );
	auth0_model_free( &m );
}

static void
cycle_ends_and_is_counted( void **state )
{
	struct auth0_model m;

	auth0_model_init( &m );
	users( &m, U );
	authz( &m, "{\"groups\":["
		"{\"_id\":\"X\",\"name\":\"X\",\"members\":[\"u1\"],\"nested\":[\"Y\"]},"
		"{\"_id\":\"Y\",\"name\":\"Y\",\"members\":[\"u2\"],\"nested\":[\"Z\"]},"
		"{\"_id\":\"Z\",\"name\":\"Z\",\"members\":[\"u3\"],\"nested\":[\"X\"]},"
		"{\"_id\":\"S\",\"name\":\"S\",\"members\":[\"u4\"],\"nested\":[\"S\"]},"
		"{\"_id\":\"T\",\"name\":\"T\",\"members\":[],\"nested\":[\"X\"]}]}" );
	assert_int_equal( auth0_flatten( &m ), AUTH0_OK );
	assert_string_equal( ids( &m, &group( &m, "X" )->gr_flat ), "u1 u2 u3" );
	assert_string_equal( ids( &m, &group( &m, "Z" )->gr_flat ), "u1 u2 u3" );
	assert_string_equal( ids( &m, &group( &m, "S" )->gr_flat ), "u4" );
	assert_string_equal( ids( &m, &group( &m, "T" )->gr_flat ), "u1 u2 u3" );
	/* X, Y, Z and S are on a cycle; T only reaches one */
	assert_int_equal( m.sn_cycles, 4 );
	assert_false( group( &m, "T" )->gr_in_cycle );
	auth0_model_free( &m );
}

static void
mappings_place_users_by_connection_and_idp_group( void **state )
{
	struct auth0_model m;

	auth0_model_init( &m );
	users( &m, U );
	authz( &m, "{\"groups\":["
		"{\"_id\":\"M\",\"name\":\"M\",\"members\":[],\"mappings\":["
		"{\"_id\":\"m1\",\"groupName\":\"IdP-A\",\"connectionName\":\"corp\"}]},"
		"{\"_id\":\"N\",\"name\":\"N\",\"members\":[],\"mappings\":["
		"{\"_id\":\"m2\",\"groupName\":\"IdP-A\",\"connectionName\":\"other (samlp)\"}]},"
		"{\"_id\":\"P\",\"name\":\"P\",\"members\":[\"u1\"],\"nested\":[\"M\"],"
		"\"mappings\":[{\"_id\":\"m3\",\"groupName\":\"idp-a\",\"connectionName\":\"corp\"}]}]}" );
	assert_int_equal( auth0_flatten( &m ), AUTH0_OK );
	assert_string_equal( ids( &m, &group( &m, "M" )->gr_flat ), "u5" );
	assert_string_equal( ids( &m, &group( &m, "N" )->gr_flat ), "u6" );
	/* nested mapping flows up; group names match exactly (case too) */
	assert_string_equal( ids( &m, &group( &m, "P" )->gr_flat ), "u1 u5" );
	auth0_model_free( &m );
}

static void
roles_and_applications_through_groups( void **state )
{
	struct auth0_model m;
	char err[AUTH0_ERRLEN];
	cJSON *rbac = cJSON_Parse( "[{\"id\":\"rol_1\",\"name\":\"Admin\","
		"\"members\":[\"u4\",\"ghost\"],\"permissions\":[{\"permission_name\":"
		"\"read:x\"}]}]" );
	cJSON *clients = cJSON_Parse( "[{\"client_id\":\"app1\",\"name\":\"Jenkins\"},"
		"{\"client_id\":\"app2\",\"name\":\"Other\"}]" );
	size_t i, r_authz = 0, r_rbac = 0;

	auth0_model_init( &m );
	users( &m, U );
	assert_int_equal( auth0_model_add_rbac_roles( &m, rbac, err ), AUTH0_OK );
	assert_int_equal( auth0_model_add_clients( &m, clients, err ), AUTH0_OK );
	authz( &m, "{\"groups\":["
		"{\"_id\":\"G\",\"name\":\"G\",\"members\":[\"u1\"],\"nested\":[\"H\"],\"roles\":[\"r1\"]},"
		"{\"_id\":\"H\",\"name\":\"H\",\"members\":[\"u2\"]}],"
		"\"roles\":[{\"_id\":\"r1\",\"name\":\"Deploy\",\"applicationType\":\"client\","
		"\"applicationId\":\"app1\",\"permissions\":[\"p1\",\"p1\"],\"users\":[\"u3\"]}],"
		"\"permissions\":[{\"_id\":\"p1\",\"name\":\"deploy\"}]}" );
	assert_int_equal( auth0_flatten( &m ), AUTH0_OK );
	for ( i = 0; i < m.sn_nroles; i++ ) {
		if ( m.sn_roles[i].ro_kind == AUTH0_ROLE_AUTHZ )
			r_authz = i;
		else
			r_rbac = i;
	}
	/* direct holder + the group's effective members (nested H too) */
	assert_string_equal( ids( &m, &m.sn_roles[r_authz].ro_flat ), "u1 u2 u3" );
	assert_string_equal( m.sn_roles[r_authz].ro_perms[0], "deploy" );
	assert_null( m.sn_roles[r_authz].ro_perms[1] );
	assert_string_equal( ids( &m, &m.sn_roles[r_rbac].ro_flat ), "u4" );
	for ( i = 0; i < m.sn_nclients; i++ )
		assert_string_equal( ids( &m, &m.sn_clients[i].cl_flat ),
			strcmp( m.sn_clients[i].cl_id, "app1" ) == 0 ? "u1 u2 u3" : "" );
	/* memberOf of u2: H, G, the role and the application */
	for ( i = 0; i < m.sn_nusers; i++ )
		if ( strcmp( m.sn_users[i].us_id, "u2" ) == 0 )
			assert_int_equal( m.sn_users[i].us_nmemberof, 4 );
	cJSON_Delete( rbac );
	cJSON_Delete( clients );
	auth0_model_free( &m );
}

static void
cn_rule_for_clashing_names( void **state )
{
	struct auth0_model m;
	char err[AUTH0_ERRLEN];
	cJSON *rbac = cJSON_Parse( "[{\"id\":\"rol_9\",\"name\":\"Admin\"},"
		"{\"id\":\"rol_1\",\"name\":\"ADMIN\"}]" );
	size_t i;

	auth0_model_init( &m );
	assert_int_equal( auth0_model_add_rbac_roles( &m, rbac, err ), AUTH0_OK );
	authz( &m, "{\"roles\":[{\"_id\":\"r0\",\"name\":\"Admin\"}]}" );
	assert_int_equal( auth0_map_assign_cns( &m, NULL ), AUTH0_OK );
	for ( i = 0; i < m.sn_nroles; i++ ) {
		const char *id = m.sn_roles[i].ro_id, *cn = m.sn_roles[i].ro_cn;
		if ( strcmp( id, "rol_1" ) == 0 )
			assert_string_equal( cn, "ADMIN" );	/* lowest id first */
		else if ( strcmp( id, "rol_9" ) == 0 )
			assert_string_equal( cn, "Admin (rol_9)" );
		else
			assert_string_equal( cn, "Admin (r0)" );	/* extension after */
	}
	cJSON_Delete( rbac );
	auth0_model_free( &m );
}

int
main( void )
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test( nesting_at_depth_and_diamond ),
		cmocka_unit_test( cycle_ends_and_is_counted ),
		cmocka_unit_test( mappings_place_users_by_connection_and_idp_group ),
		cmocka_unit_test( roles_and_applications_through_groups ),
		cmocka_unit_test( cn_rule_for_clashing_names ),
	};

	return cmocka_run_group_tests( tests, NULL, NULL );
}
