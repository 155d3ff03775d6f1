/* native.c - Auth0's native groups, organizations and connections */
/*
 * DESIGN.md 8.3.  groups.json / the pages of GET /api/v2/groups, each with
 * its members ({id, member_type user|group}) and roles (role ids), become
 * struct auth0_group with gr_source AUTH0_GSRC_NATIVE: members of type
 * group are its nested groups, so flatten.c treats both sources alike.
 * organizations.json / GET /api/v2/organizations with each member's roles
 * become struct auth0_org; auth0_orgs_prepare() lists the roles held in
 * each organization (struct auth0_orgrole, one entry each).  connections
 * give native groups their connection's name and applications the names
 * of their enabled connections.  Pure: no slapd.
 */
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "model.h"

/* Copies o[key] when it is a non-empty string; 0 also when absent. */
static int
dup_opt( const cJSON *o, const char *key, char **out )
{
	const char *s = auth0_json_str( o, key );

	*out = NULL;
	if ( s == NULL || *s == '\0' )
		return 0;
	*out = strdup( s );
	return *out ? 0 : -1;
}

static int
dup_req( const cJSON *o, const char *key, char **out )
{
	return ( dup_opt( o, key, out ) || *out == NULL ) ? -1 : 0;
}

/* Appends a copy of s to the NULL-terminated vector *v. */
static int
strv_push( char ***v, const char *s )
{
	size_t n = auth0_strv_len( *v );
	char **nv = realloc( *v, ( n + 2 ) * sizeof( char * ) );

	if ( nv == NULL )
		return -1;
	*v = nv;
	nv[n + 1] = NULL;
	nv[n] = strdup( s );
	return nv[n] ? 0 : -1;
}

/* The type Auth0 gives, or the one its ids imply. */
static const char *
group_type( const cJSON *o )
{
	const char *t = auth0_json_str( o, "type" );

	if ( t && ( strcmp( t, "connection" ) == 0 ||
			strcmp( t, "organization" ) == 0 ||
			strcmp( t, "tenant" ) == 0 ) )
		return t;
	if ( auth0_json_str( o, "connection_id" ) )
		return "connection";
	if ( auth0_json_str( o, "organization_id" ) )
		return "organization";
	return "tenant";
}

/* members: [{id, member_type}]; an unknown member_type is bad data. */
static int
group_members( struct auth0_group *g, const cJSON *arr, int *bad )
{
	const cJSON *it;

	g->gr_members = calloc( 1, sizeof( char * ) );
	g->gr_nested = calloc( 1, sizeof( char * ) );
	if ( g->gr_members == NULL || g->gr_nested == NULL )
		return -1;
	if ( arr != NULL && !cJSON_IsArray( arr ) ) {
		(*bad)++;
		return 0;
	}
	cJSON_ArrayForEach( it, arr ) {
		const char *id = auth0_json_str( it, "id" );
		const char *type = auth0_json_str( it, "member_type" );
		char ***into = NULL;

		if ( id && *id && type && strcmp( type, "user" ) == 0 )
			into = &g->gr_members;
		else if ( id && *id && type && strcmp( type, "group" ) == 0 )
			into = &g->gr_nested;
		if ( into == NULL )
			(*bad)++;
		else if ( !auth0_strv_has( *into, id ) && strv_push( into, id ) )
			return -1;
	}
	return 0;
}

/* roles: role ids, or role objects with an id. */
static char **
role_ids( const cJSON *arr )
{
	const cJSON *first = cJSON_IsArray( arr ) ? arr->child : NULL;

	return auth0_strv_from_json( arr,
		cJSON_IsObject( first ) ? "id" : NULL );
}

static int
native_group( struct auth0_group *g, const cJSON *o, int *bad )
{
	int rc = 0;

	memset( g, 0, sizeof( *g ) );
	g->gr_source = AUTH0_GSRC_NATIVE;
	if ( !cJSON_IsObject( o ) || dup_req( o, "id", &g->gr_id ) ||
			dup_req( o, "name", &g->gr_name ) )
		return -1;
	rc |= dup_opt( o, "description", &g->gr_desc );
	rc |= dup_opt( o, "external_id", &g->gr_external );
	rc |= dup_opt( o, "connection_id", &g->gr_conn_id );
	g->gr_type = strdup( group_type( o ) );
	rc |= g->gr_type == NULL;
	rc |= group_members( g, cJSON_GetObjectItemCaseSensitive( o,
		"members" ), bad );
	g->gr_roles = role_ids( cJSON_GetObjectItemCaseSensitive( o, "roles" ) );
	return ( rc || g->gr_roles == NULL ) ? -1 : 0;
}

static int
native_known( const struct auth0_model *m, const char *id )
{
	size_t i;

	for ( i = 0; i < m->sn_ngroups; i++ )
		if ( m->sn_groups[i].gr_source == AUTH0_GSRC_NATIVE &&
				strcmp( m->sn_groups[i].gr_id, id ) == 0 )
			return 1;
	return 0;
}

/*
 * Adds the native groups of arr (groups.json, or the API's groups with
 * their members and roles added).  A group without id or name, or repeating
 * an id, is skipped; a member without id or with an unknown member_type is
 * left out; both are reported.
 */
int
auth0_model_add_native_groups( struct auth0_model *m, const cJSON *arr,
	char *errbuf )
{
	const cJSON *o;
	int bad = 0, badmembers = 0;

	if ( !cJSON_IsArray( arr ) ) {
		snprintf( errbuf, AUTH0_ERRLEN, "groups: not a JSON array" );
		return AUTH0_ERR_JSON;
	}
	cJSON_ArrayForEach( o, arr ) {
		struct auth0_group g, *n = NULL;
		if ( native_group( &g, o, &badmembers ) ||
				native_known( m, g.gr_id ) ||
				!( n = auth0_grow( m->sn_groups, m->sn_ngroups,
					sizeof( *n ) ) ) ) {
			auth0_group_free( &g );
			bad++;
			continue;
		}
		m->sn_groups = n;
		m->sn_groups[m->sn_ngroups++] = g;
	}
	if ( bad || badmembers )
		snprintf( errbuf, AUTH0_ERRLEN, "groups: %d group(s) without id "
			"or name or repeating an id skipped, %d member(s) without "
			"id or member_type user|group left out", bad, badmembers );
	return ( bad || badmembers ) ? AUTH0_ERR_DATA : AUTH0_OK;
}

/* Connections: [{id, name, enabled_clients}]. */
int
auth0_model_add_connections( struct auth0_model *m, const cJSON *arr,
	char *errbuf )
{
	const cJSON *o;
	int bad = 0;

	if ( !cJSON_IsArray( arr ) ) {
		snprintf( errbuf, AUTH0_ERRLEN, "connections: not a JSON array" );
		return AUTH0_ERR_JSON;
	}
	cJSON_ArrayForEach( o, arr ) {
		struct auth0_conn c, *n = NULL;
		memset( &c, 0, sizeof( c ) );
		if ( !cJSON_IsObject( o ) || dup_req( o, "id", &c.cn_id ) ||
				dup_req( o, "name", &c.cn_name ) ||
				!( c.cn_clients = auth0_strv_from_json(
					cJSON_GetObjectItemCaseSensitive( o,
						"enabled_clients" ), NULL ) ) ||
				!( n = auth0_grow( m->sn_conns, m->sn_nconns,
					sizeof( *n ) ) ) ) {
			free( c.cn_id );
			free( c.cn_name );
			auth0_strv_free( c.cn_clients );
			bad++;
			continue;
		}
		m->sn_conns = n;
		m->sn_conns[m->sn_nconns++] = c;
	}
	if ( bad )
		snprintf( errbuf, AUTH0_ERRLEN, "connections: %d connection(s) "
			"without id or name skipped", bad );
	return bad ? AUTH0_ERR_DATA : AUTH0_OK;
}

/* The name of connection id, or NULL when it is not known. */
const char *
auth0_model_conn_name( const struct auth0_model *m, const char *id )
{
	size_t i;

	for ( i = 0; id && i < m->sn_nconns; i++ )
		if ( strcmp( m->sn_conns[i].cn_id, id ) == 0 )
			return m->sn_conns[i].cn_name;
	return NULL;
}

/* One member: {user_id, roles: [{id, name}]}; its roles join the org's. */
static int
org_member( struct auth0_org *og, const cJSON *o, int *bad )
{
	struct auth0_orgmember *om = &og->og_members[og->og_nmembers];
	const cJSON *r;
	int rc = 0;

	memset( om, 0, sizeof( *om ) );
	if ( !cJSON_IsObject( o ) || dup_req( o, "user_id", &om->om_user ) ) {
		(*bad)++;
		return 0;
	}
	om->om_roles = calloc( 1, sizeof( char * ) );
	if ( om->om_roles == NULL )
		rc = -1;
	cJSON_ArrayForEach( r, cJSON_GetObjectItemCaseSensitive( o, "roles" ) ) {
		const char *id = auth0_json_str( r, "id" );
		const char *name = auth0_json_str( r, "name" );
		if ( rc )
			break;
		if ( id == NULL || *id == '\0' || name == NULL || *name == '\0' ) {
			(*bad)++;
			continue;
		}
		if ( !auth0_strv_has( om->om_roles, id ) )
			rc |= strv_push( &om->om_roles, id );
		if ( !auth0_strv_has( og->og_rids, id ) )
			rc |= strv_push( &og->og_rids, id ) |
				strv_push( &og->og_rnames, name );
	}
	og->og_nmembers++;
	return rc;
}

static int
one_org( struct auth0_org *og, const cJSON *o, int *bad )
{
	const cJSON *members, *it;
	int rc = 0;

	memset( og, 0, sizeof( *og ) );
	if ( !cJSON_IsObject( o ) || dup_req( o, "id", &og->og_id ) ||
			dup_req( o, "name", &og->og_name ) )
		return -1;
	rc |= dup_opt( o, "display_name", &og->og_display );
	members = cJSON_GetObjectItemCaseSensitive( o, "members" );
	if ( members != NULL && !cJSON_IsArray( members ) ) {
		(*bad)++;
		members = NULL;
	}
	og->og_members = calloc( (size_t)cJSON_GetArraySize( members ) + 1,
		sizeof( *og->og_members ) );
	og->og_rids = calloc( 1, sizeof( char * ) );
	og->og_rnames = calloc( 1, sizeof( char * ) );
	if ( !og->og_members || !og->og_rids || !og->og_rnames )
		return -1;
	cJSON_ArrayForEach( it, members )
		if ( !rc )
			rc = org_member( og, it, bad );
	return rc;
}

/*
 * Adds the organizations of arr (organizations.json, or the API's with
 * their members added).  An organization without id or name or repeating
 * one is skipped, a member without user_id or a role without id and name
 * left out; both are reported.
 */
int
auth0_model_add_orgs( struct auth0_model *m, const cJSON *arr, char *errbuf )
{
	const cJSON *o;
	int bad = 0, badmembers = 0;

	if ( !cJSON_IsArray( arr ) ) {
		snprintf( errbuf, AUTH0_ERRLEN, "organizations: not a JSON "
			"array" );
		return AUTH0_ERR_JSON;
	}
	cJSON_ArrayForEach( o, arr ) {
		struct auth0_org og, *n = NULL;
		size_t i;
		int dup = 0;

		if ( one_org( &og, o, &badmembers ) == 0 )
			for ( i = 0; i < m->sn_norgs && !dup; i++ )
				dup = strcmp( m->sn_orgs[i].og_id, og.og_id ) == 0 ||
					strcmp( m->sn_orgs[i].og_name,
						og.og_name ) == 0;
		else
			dup = 1;
		if ( dup || !( n = auth0_grow( m->sn_orgs, m->sn_norgs,
				sizeof( *n ) ) ) ) {
			auth0_org_free( &og );
			bad++;
			continue;
		}
		m->sn_orgs = n;
		m->sn_orgs[m->sn_norgs++] = og;
	}
	if ( bad || badmembers )
		snprintf( errbuf, AUTH0_ERRLEN, "organizations: %d "
			"organization(s) without id or name or repeating one "
			"skipped, %d member(s) or role(s) without user_id, id or "
			"name left out", bad, badmembers );
	return ( bad || badmembers ) ? AUTH0_ERR_DATA : AUTH0_OK;
}

static int
cmp_org( const void *a, const void *b )
{
	const struct auth0_org *x = a, *y = b;

	return strcmp( x->og_id, y->og_id );
}

static int
cmp_orgrole( const void *a, const void *b )
{
	const struct auth0_orgrole *x = a, *y = b;

	return strcmp( x->or_key, y->or_key );
}

static int
cmp_str( const void *a, const void *b )
{
	return strcmp( a, b );
}

/* The cn of an org role: its name, or "name (id)" when taken in the org. */
static char *
orgrole_cn( void **taken, const char *name, const char *id,
	auth0_fold_fn *fold )
{
	char *key = fold( name ), *alt;
	size_t len;

	if ( key && tfind( key, taken, cmp_str ) == NULL &&
			tsearch( key, taken, cmp_str ) )
		return strdup( name );
	free( key );
	len = strlen( name ) + strlen( id ) + 4;
	alt = malloc( len );
	if ( alt )
		snprintf( alt, len, "%s (%s)", name, id );
	return alt;
}

static void
free_node( void *p )
{
	free( p );
}

/* The org roles of og, appended to sn_orgroles in order of role id. */
static int
org_roles( struct auth0_model *m, size_t oi, auth0_fold_fn *fold )
{
	struct auth0_org *og = &m->sn_orgs[oi];
	size_t i, n = auth0_strv_len( og->og_rids ), first = m->sn_norgroles;
	void *taken = NULL;
	int rc = 0;

	for ( i = 0; i < n && !rc; i++ ) {
		struct auth0_orgrole *r, *nr = realloc( m->sn_orgroles,
			( m->sn_norgroles + 1 ) * sizeof( *nr ) );
		size_t len = strlen( og->og_id ) + strlen( og->og_rids[i] ) + 2;
		if ( nr == NULL )
			return -1;
		m->sn_orgroles = nr;
		r = &nr[m->sn_norgroles++];
		memset( r, 0, sizeof( *r ) );
		r->or_org = oi;
		r->or_role = strdup( og->og_rids[i] );
		r->or_name = strdup( og->og_rnames[i] );
		r->or_key = malloc( len );
		if ( !r->or_role || !r->or_name || !r->or_key )
			rc = -1;
		else
			snprintf( r->or_key, len, "%s/%s", og->og_id, r->or_role );
	}
	if ( rc == 0 && m->sn_norgroles > first )
		auth0_sort( m->sn_orgroles + first, m->sn_norgroles - first,
			sizeof( *m->sn_orgroles ), cmp_orgrole );
	for ( i = first; i < m->sn_norgroles && !rc; i++ ) {
		struct auth0_orgrole *r = &m->sn_orgroles[i];
		r->or_cn = orgrole_cn( &taken, r->or_name, r->or_role, fold );
		rc = r->or_cn ? 0 : -1;
	}
	tdestroy( taken, free_node );
	return rc;
}

/*
 * Sorts the organizations by id and lists the roles held in each, one
 * struct auth0_orgrole per (organization, role), named within its
 * organization by the roles' rule.  AUTH0_ERR_NOMEM on failure.
 */
int
auth0_orgs_prepare( struct auth0_model *m, auth0_fold_fn *fold )
{
	size_t i;
	int rc = 0;

	auth0_orgroles_free( m );
	auth0_sort( m->sn_orgs, m->sn_norgs, sizeof( *m->sn_orgs ), cmp_org );
	for ( i = 0; i < m->sn_norgs && !rc; i++ )
		rc = org_roles( m, i, fold );
	return rc ? AUTH0_ERR_NOMEM : AUTH0_OK;
}
