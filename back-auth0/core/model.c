/* model.c - in-memory model of an Auth0 tenant for back-auth0 */
/*
 * A refresh builds one model from a source (snapshot directory or the
 * APIs), maps it to entries and frees it whole.  Records are copied out of
 * their cJSON tree as they are parsed, so a source can stream: only one
 * JSON object is alive at a time.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "model.h"

void
auth0_model_init( struct auth0_model *m )
{
	memset( m, 0, sizeof( *m ) );
	m->sn_complete = 1;
}

void
auth0_user_free( struct auth0_user *u )
{
	size_t i;

	free( u->us_id );
	free( u->us_connection );
	free( u->us_email );
	free( u->us_username );
	free( u->us_name );
	free( u->us_given );
	free( u->us_family );
	free( u->us_nickname );
	free( u->us_phone );
	free( u->us_created );
	free( u->us_updated );
	free( u->us_last_login );
	free( u->us_app_md );
	free( u->us_user_md );
	free( u->us_uid );
	free( u->us_dn );
	auth0_strv_free( u->us_idp_groups );
	free( u->us_memberof );
	for ( i = 0; u->us_mapped && u->us_mapped[i]; i++ )
		auth0_strv_free( u->us_mapped[i] );
	free( u->us_mapped );
	memset( u, 0, sizeof( *u ) );
}

void
auth0_group_free( struct auth0_group *g )
{
	size_t i;

	free( g->gr_id );
	free( g->gr_name );
	free( g->gr_desc );
	auth0_strv_free( g->gr_members );
	auth0_strv_free( g->gr_nested );
	auth0_strv_free( g->gr_roles );
	for ( i = 0; i < g->gr_nmappings; i++ ) {
		free( g->gr_mappings[i].mp_connection );
		free( g->gr_mappings[i].mp_group );
	}
	free( g->gr_mappings );
	auth0_uset_free( &g->gr_flat );
	free( g->gr_cn );
	free( g->gr_dn );
	free( g->gr_type );
	free( g->gr_conn_id );
	free( g->gr_external );
}

static void
role_free( struct auth0_role *r )
{
	free( r->ro_id );
	free( r->ro_name );
	free( r->ro_desc );
	free( r->ro_client );
	auth0_strv_free( r->ro_perms );
	auth0_strv_free( r->ro_users );
	auth0_uset_free( &r->ro_flat );
	free( r->ro_cn );
	free( r->ro_dn );
}

static void
client_free( struct auth0_client *c )
{
	free( c->cl_id );
	free( c->cl_name );
	free( c->cl_desc );
	free( c->cl_type );
	auth0_uset_free( &c->cl_flat );
	free( c->cl_cn );
	free( c->cl_dn );
	auth0_strv_free( c->cl_conns );
}

void
auth0_org_free( struct auth0_org *og )
{
	size_t i;

	free( og->og_id );
	free( og->og_name );
	free( og->og_display );
	for ( i = 0; i < og->og_nmembers; i++ ) {
		free( og->og_members[i].om_user );
		auth0_strv_free( og->og_members[i].om_roles );
	}
	free( og->og_members );
	auth0_strv_free( og->og_rids );
	auth0_strv_free( og->og_rnames );
	auth0_uset_free( &og->og_flat );
	free( og->og_dn );
	memset( og, 0, sizeof( *og ) );
}

static void
orgrole_free( struct auth0_orgrole *r )
{
	free( r->or_role );
	free( r->or_name );
	free( r->or_key );
	auth0_uset_free( &r->or_flat );
	free( r->or_cn );
	free( r->or_dn );
}

void
auth0_orgroles_free( struct auth0_model *m )
{
	size_t i;

	for ( i = 0; i < m->sn_norgroles; i++ )
		orgrole_free( &m->sn_orgroles[i] );
	free( m->sn_orgroles );
	m->sn_orgroles = NULL;
	m->sn_norgroles = 0;
}

/* Frees the connections and organizations (native.c fills them). */
static void
native_free( struct auth0_model *m )
{
	size_t i;

	for ( i = 0; i < m->sn_nconns; i++ ) {
		free( m->sn_conns[i].cn_id );
		free( m->sn_conns[i].cn_name );
		auth0_strv_free( m->sn_conns[i].cn_clients );
	}
	free( m->sn_conns );
	for ( i = 0; i < m->sn_norgs; i++ )
		auth0_org_free( &m->sn_orgs[i] );
	free( m->sn_orgs );
	auth0_orgroles_free( m );
	m->sn_conns = NULL;
	m->sn_nconns = 0;
	m->sn_orgs = NULL;
	m->sn_norgs = 0;
}

void
auth0_model_free( struct auth0_model *m )
{
	size_t i;

	for ( i = 0; i < m->sn_nusers; i++ )
		auth0_user_free( &m->sn_users[i] );
	for ( i = 0; i < m->sn_ngroups; i++ )
		auth0_group_free( &m->sn_groups[i] );
	for ( i = 0; i < m->sn_nroles; i++ )
		role_free( &m->sn_roles[i] );
	for ( i = 0; i < m->sn_nclients; i++ )
		client_free( &m->sn_clients[i] );
	free( m->sn_users );
	free( m->sn_groups );
	free( m->sn_roles );
	free( m->sn_clients );
	native_free( m );
	auth0_model_init( m );
}

/* 1 when the connection is one the administrator selected. */
int
auth0_model_selected( const struct auth0_select *sel, const char *connection )
{
	char **c;

	if ( sel == NULL || sel->se_connections == NULL ||
			sel->se_connections[0] == NULL )
		return 1;
	if ( connection == NULL )
		return 0;
	for ( c = sel->se_connections; *c; c++ ) {
		if ( strcmp( *c, connection ) == 0 )
			return 1;
	}
	return 0;
}

/* Copies an optional string; 0 on success (also when absent). */
static int
dup_opt( const char *s, char **out )
{
	*out = NULL;
	if ( s == NULL || *s == '\0' )
		return 0;
	*out = strdup( s );
	return *out ? 0 : -1;
}

static const char *
user_connection( const cJSON *obj )
{
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive( obj, "identities" );
	const cJSON *first = cJSON_IsArray( ids ) ? cJSON_GetArrayItem( ids, 0 )
		: NULL;
	const char *conn = first ? auth0_json_str( first, "connection" ) : NULL;

	/* an export job may name it "connection" or export it as "provider" */
	if ( conn == NULL )
		conn = auth0_json_str( obj, "connection" );
	return conn;
}

/*
 * Fills *u from a user object.  On failure *u is left empty and errbuf
 * says why.  A user needs a non-empty user_id; everything else is optional.
 */
int
auth0_user_parse( const cJSON *obj, struct auth0_user *u, char *errbuf )
{
	int rc = 0;

	memset( u, 0, sizeof( *u ) );
	if ( !cJSON_IsObject( obj ) ) {
		snprintf( errbuf, AUTH0_ERRLEN, "user record is not a JSON object" );
		return AUTH0_ERR_JSON;
	}
	if ( auth0_json_str( obj, "user_id" ) == NULL ||
			auth0_json_str( obj, "user_id" )[0] == '\0' ) {
		snprintf( errbuf, AUTH0_ERRLEN, "user record has no user_id" );
		return AUTH0_ERR_DATA;
	}
	rc |= dup_opt( auth0_json_str( obj, "user_id" ), &u->us_id );
	rc |= dup_opt( user_connection( obj ), &u->us_connection );
	rc |= dup_opt( auth0_json_str( obj, "email" ), &u->us_email );
	rc |= dup_opt( auth0_json_str( obj, "username" ), &u->us_username );
	rc |= dup_opt( auth0_json_str( obj, "name" ), &u->us_name );
	rc |= dup_opt( auth0_json_str( obj, "given_name" ), &u->us_given );
	rc |= dup_opt( auth0_json_str( obj, "family_name" ), &u->us_family );
	rc |= dup_opt( auth0_json_str( obj, "nickname" ), &u->us_nickname );
	rc |= dup_opt( auth0_json_str( obj, "phone_number" ), &u->us_phone );
	rc |= dup_opt( auth0_json_str( obj, "created_at" ), &u->us_created );
	rc |= dup_opt( auth0_json_str( obj, "updated_at" ), &u->us_updated );
	rc |= dup_opt( auth0_json_str( obj, "last_login" ), &u->us_last_login );
	u->us_app_md = auth0_json_compact( obj, "app_metadata" );
	u->us_user_md = auth0_json_compact( obj, "user_metadata" );
	u->us_logins = auth0_json_long( obj, "logins_count", -1 );
	u->us_email_verified = auth0_json_bool( obj, "email_verified" );
	u->us_blocked = auth0_json_bool( obj, "blocked" );
	/* IdP groups (SAML, AD, ...) for Authorization Extension mappings */
	if ( cJSON_IsArray( cJSON_GetObjectItemCaseSensitive( obj, "groups" ) ) ) {
		u->us_idp_groups = auth0_strv_from_json(
			cJSON_GetObjectItemCaseSensitive( obj, "groups" ), NULL );
		rc |= u->us_idp_groups == NULL;
	}
	if ( rc ) {
		auth0_user_free( u );
		snprintf( errbuf, AUTH0_ERRLEN, "out of memory" );
		return AUTH0_ERR_NOMEM;
	}
	return AUTH0_OK;
}

static int
model_grow( struct auth0_model *m )
{
	size_t cap = m->sn_cap ? m->sn_cap * 2 : 256;
	struct auth0_user *n;

	n = realloc( m->sn_users, cap * sizeof( *n ) );
	if ( n == NULL )
		return AUTH0_ERR_NOMEM;
	m->sn_users = n;
	m->sn_cap = cap;
	return AUTH0_OK;
}

/* One vector of values per auth0-map-attribute rule (NULL-terminated). */
static int
user_map_rules( const struct auth0_model *m, const cJSON *obj,
	struct auth0_user *u )
{
	size_t i;

	u->us_mapped = calloc( m->sn_nrules + 1, sizeof( char ** ) );
	if ( u->us_mapped == NULL )
		return -1;
	for ( i = 0; i < m->sn_nrules; i++ ) {
		u->us_mapped[i] = auth0_json_path_values( obj,
			m->sn_rules[i].mr_path );
		if ( u->us_mapped[i] == NULL )
			return -1;
	}
	return 0;
}

/*
 * The number a rule maps to attr (uidNumber, gidNumber) for u: the first
 * value when it is a plain decimal in 1..2147483647, else -1.
 */
long
auth0_user_mapped_number( const struct auth0_model *m,
	const struct auth0_user *u, const char *attr )
{
	size_t i;
	char *end;
	long v;

	for ( i = 0; u->us_mapped && i < m->sn_nrules; i++ ) {
		const char *s = u->us_mapped[i][0];
		if ( strcasecmp( m->sn_rules[i].mr_attr, attr ) || s == NULL )
			continue;
		if ( *s < '0' || *s > '9' )
			return -1;
		v = strtol( s, &end, 10 );
		return ( *end || v < 1 || v > 2147483647L ) ? -1 : v;
	}
	return -1;
}

/*
 * Adds the user if its connection is selected.  A record that cannot be
 * parsed is counted in sn_bad, marks the model incomplete and is reported
 * through errbuf; the caller decides how loudly.
 */
int
auth0_model_add_user( struct auth0_model *m, const cJSON *obj,
	const struct auth0_select *sel, char *errbuf )
{
	struct auth0_user u;
	int rc;

	rc = auth0_user_parse( obj, &u, errbuf );
	if ( rc ) {
		m->sn_bad++;
		m->sn_complete = 0;
		return rc;
	}
	if ( !auth0_model_selected( sel, u.us_connection ) ) {
		m->sn_skipped++;
		auth0_user_free( &u );
		return AUTH0_OK;
	}
	if ( m->sn_nrules && user_map_rules( m, obj, &u ) ) {
		auth0_user_free( &u );
		snprintf( errbuf, AUTH0_ERRLEN, "out of memory" );
		return AUTH0_ERR_NOMEM;
	}
	if ( m->sn_nusers == m->sn_cap && model_grow( m ) ) {
		auth0_user_free( &u );
		snprintf( errbuf, AUTH0_ERRLEN, "out of memory" );
		return AUTH0_ERR_NOMEM;
	}
	m->sn_users[m->sn_nusers++] = u;
	return AUTH0_OK;
}

static int
cmp_user_id( const void *a, const void *b )
{
	const struct auth0_user *x = a, *y = b;

	return strcmp( x->us_id, y->us_id );
}

/* Sorts users by user_id: every later step relies on that order. */
/* Appends a parsed user to m, which owns it on success. */
int
auth0_model_append_user( struct auth0_model *m, const struct auth0_user *u )
{
	if ( m->sn_nusers == m->sn_cap && model_grow( m ) )
		return AUTH0_ERR_NOMEM;
	m->sn_users[m->sn_nusers++] = *u;
	return AUTH0_OK;
}

void
auth0_model_sort_users( struct auth0_model *m )
{
	auth0_sort( m->sn_users, m->sn_nusers, sizeof( *m->sn_users ),
		cmp_user_id );
}

/* Index of the user with this user_id (users sorted), or AUTH0_NOINDEX. */
size_t
auth0_model_user_index( const struct auth0_model *m, const char *id )
{
	struct auth0_user key;
	const struct auth0_user *u;

	if ( m->sn_nusers == 0 )
		return AUTH0_NOINDEX;
	key.us_id = (char *)id;
	u = bsearch( &key, m->sn_users, m->sn_nusers, sizeof( key ),
		cmp_user_id );
	return u ? (size_t)( u - m->sn_users ) : AUTH0_NOINDEX;
}

/* Room for one more of n elements: 8, then doubling (n is the count). */
void *
auth0_grow( void *arr, size_t n, size_t size )
{
	if ( n == 0 )
		return realloc( arr, 8 * size );
	if ( n < 8 || ( n & ( n - 1 ) ) )
		return arr;
	return realloc( arr, n * 2 * size );
}

static int
dup_req( const cJSON *o, const char *key, char **out )
{
	const char *s = auth0_json_str( o, key );

	*out = NULL;
	if ( s == NULL || *s == '\0' )
		return -1;
	*out = strdup( s );
	return *out ? 0 : -1;
}

/* One role of roles.json: {id, name, description, members, permissions}. */
static int
rbac_role( struct auth0_role *r, const cJSON *o )
{
	int rc = 0;

	memset( r, 0, sizeof( *r ) );
	r->ro_kind = AUTH0_ROLE_RBAC;
	if ( dup_req( o, "id", &r->ro_id ) || dup_req( o, "name", &r->ro_name ) )
		return -1;
	rc |= dup_opt( auth0_json_str( o, "description" ), &r->ro_desc );
	r->ro_users = auth0_strv_from_json(
		cJSON_GetObjectItemCaseSensitive( o, "members" ), NULL );
	r->ro_perms = auth0_strv_from_json(
		cJSON_GetObjectItemCaseSensitive( o, "permissions" ),
		"permission_name" );
	return ( rc || !r->ro_users || !r->ro_perms ) ? -1 : 0;
}

static int
add_role( struct auth0_model *m, struct auth0_role *r )
{
	struct auth0_role *n = auth0_grow( m->sn_roles, m->sn_nroles, sizeof( *n ) );

	if ( n == NULL )
		return -1;
	m->sn_roles = n;
	m->sn_roles[m->sn_nroles++] = *r;
	return 0;
}

/*
 * Adds the Management API roles of arr (roles.json, or the pages of GET
 * /api/v2/roles with each role's members added).  A role without id or
 * name is skipped and reported; the rest are kept.
 */
int
auth0_model_add_rbac_roles( struct auth0_model *m, const cJSON *arr,
	char *errbuf )
{
	const cJSON *o;
	int bad = 0;

	if ( !cJSON_IsArray( arr ) ) {
		snprintf( errbuf, AUTH0_ERRLEN, "roles: not a JSON array" );
		return AUTH0_ERR_JSON;
	}
	cJSON_ArrayForEach( o, arr ) {
		struct auth0_role r;
		if ( rbac_role( &r, o ) || add_role( m, &r ) ) {
			role_free( &r );
			bad++;
		}
	}
	if ( bad )
		snprintf( errbuf, AUTH0_ERRLEN, "roles: %d role(s) without id or "
			"name skipped", bad );
	return bad ? AUTH0_ERR_DATA : AUTH0_OK;
}

static int
one_client( struct auth0_client *c, const cJSON *o )
{
	int rc = 0;

	memset( c, 0, sizeof( *c ) );
	if ( dup_req( o, "client_id", &c->cl_id ) )
		return -1;
	rc |= dup_opt( auth0_json_str( o, "name" ), &c->cl_name );
	rc |= dup_opt( auth0_json_str( o, "description" ), &c->cl_desc );
	rc |= dup_opt( auth0_json_str( o, "app_type" ), &c->cl_type );
	if ( c->cl_name == NULL )
		rc |= dup_opt( c->cl_id, &c->cl_name );
	return rc ? -1 : 0;
}

/* Adds the applications of arr (clients.json or GET /api/v2/clients). */
int
auth0_model_add_clients( struct auth0_model *m, const cJSON *arr,
	char *errbuf )
{
	const cJSON *o;
	int bad = 0;

	if ( !cJSON_IsArray( arr ) ) {
		snprintf( errbuf, AUTH0_ERRLEN, "clients: not a JSON array" );
		return AUTH0_ERR_JSON;
	}
	cJSON_ArrayForEach( o, arr ) {
		struct auth0_client c, *n;
		if ( one_client( &c, o ) ||
				!( n = auth0_grow( m->sn_clients, m->sn_nclients,
					sizeof( *n ) ) ) ) {
			client_free( &c );
			bad++;
			continue;
		}
		m->sn_clients = n;
		m->sn_clients[m->sn_nclients++] = c;
	}
	if ( bad )
		snprintf( errbuf, AUTH0_ERRLEN, "clients: %d client(s) without "
			"client_id skipped", bad );
	return bad ? AUTH0_ERR_DATA : AUTH0_OK;
}

static int
group_mappings( struct auth0_group *g, const cJSON *arr )
{
	const cJSON *o;
	int n = cJSON_GetArraySize( arr );

	g->gr_mappings = calloc( (size_t)n + 1, sizeof( *g->gr_mappings ) );
	if ( g->gr_mappings == NULL )
		return -1;
	cJSON_ArrayForEach( o, arr ) {
		struct auth0_mapping *mp = &g->gr_mappings[g->gr_nmappings];
		if ( dup_req( o, "connectionName", &mp->mp_connection ) ||
				dup_req( o, "groupName", &mp->mp_group ) ) {
			free( mp->mp_connection );
			free( mp->mp_group );
			memset( mp, 0, sizeof( *mp ) );
			continue;
		}
		g->gr_nmappings++;
	}
	return 0;
}

static int
authz_group( struct auth0_group *g, const cJSON *o )
{
	int rc = 0;

	memset( g, 0, sizeof( *g ) );
	if ( dup_req( o, "_id", &g->gr_id ) || dup_req( o, "name", &g->gr_name ) )
		return -1;
	rc |= dup_opt( auth0_json_str( o, "description" ), &g->gr_desc );
	g->gr_members = auth0_strv_from_json(
		cJSON_GetObjectItemCaseSensitive( o, "members" ), NULL );
	g->gr_nested = auth0_strv_from_json(
		cJSON_GetObjectItemCaseSensitive( o, "nested" ), NULL );
	g->gr_roles = auth0_strv_from_json(
		cJSON_GetObjectItemCaseSensitive( o, "roles" ), NULL );
	rc |= group_mappings( g,
		cJSON_GetObjectItemCaseSensitive( o, "mappings" ) );
	return ( rc || !g->gr_members || !g->gr_nested || !g->gr_roles ) ?
		-1 : 0;
}

/* The name of permission id in the export's permissions, or NULL. */
static const char *
perm_name( const cJSON *perms, const char *id )
{
	const cJSON *p;

	cJSON_ArrayForEach( p, perms ) {
		const char *pid = auth0_json_str( p, "_id" );
		if ( pid && strcmp( pid, id ) == 0 )
			return auth0_json_str( p, "name" );
	}
	return NULL;
}

static int
authz_role( struct auth0_role *r, const cJSON *o, const cJSON *perms )
{
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive( o, "permissions" );
	const char *type = auth0_json_str( o, "applicationType" );
	const cJSON *id;
	size_t n = 0;
	int rc = 0;

	memset( r, 0, sizeof( *r ) );
	r->ro_kind = AUTH0_ROLE_AUTHZ;
	if ( dup_req( o, "_id", &r->ro_id ) || dup_req( o, "name", &r->ro_name ) )
		return -1;
	rc |= dup_opt( auth0_json_str( o, "description" ), &r->ro_desc );
	if ( type == NULL || strcmp( type, "client" ) == 0 )
		rc |= dup_opt( auth0_json_str( o, "applicationId" ),
			&r->ro_client );
	r->ro_users = auth0_strv_from_json(
		cJSON_GetObjectItemCaseSensitive( o, "users" ), NULL );
	r->ro_perms = calloc( (size_t)cJSON_GetArraySize( ids ) + 1,
		sizeof( char * ) );
	if ( r->ro_users == NULL || r->ro_perms == NULL )
		return -1;
	cJSON_ArrayForEach( id, ids ) {
		const char *name = cJSON_IsString( id ) ?
			perm_name( perms, id->valuestring ) : NULL;
		if ( name && !auth0_strv_has( r->ro_perms, name ) &&
				!( r->ro_perms[n++] = strdup( name ) ) )
			return -1;
	}
	return rc ? -1 : 0;
}

/*
 * Adds the groups and roles of an Authorization Extension export
 * ({groups, roles, permissions, ...}, GET /configuration/export).
 */
int
auth0_model_add_authz( struct auth0_model *m, const cJSON *exp,
	char *errbuf )
{
	const cJSON *perms = cJSON_GetObjectItemCaseSensitive( exp,
		"permissions" );
	const cJSON *o;
	int bad = 0;

	if ( !cJSON_IsObject( exp ) ) {
		snprintf( errbuf, AUTH0_ERRLEN, "authz: not a JSON object" );
		return AUTH0_ERR_JSON;
	}
	cJSON_ArrayForEach( o, cJSON_GetObjectItemCaseSensitive( exp,
			"groups" ) ) {
		struct auth0_group g, *n;
		if ( authz_group( &g, o ) ||
				!( n = auth0_grow( m->sn_groups, m->sn_ngroups,
					sizeof( *n ) ) ) ) {
			auth0_group_free( &g );
			bad++;
			continue;
		}
		m->sn_groups = n;
		m->sn_groups[m->sn_ngroups++] = g;
	}
	cJSON_ArrayForEach( o, cJSON_GetObjectItemCaseSensitive( exp,
			"roles" ) ) {
		struct auth0_role r;
		if ( authz_role( &r, o, perms ) || add_role( m, &r ) ) {
			role_free( &r );
			bad++;
		}
	}
	if ( bad )
		snprintf( errbuf, AUTH0_ERRLEN, "authz: %d group(s) or role(s) "
			"without _id or name skipped", bad );
	return bad ? AUTH0_ERR_DATA : AUTH0_OK;
}
