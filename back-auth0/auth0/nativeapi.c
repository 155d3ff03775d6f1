/* nativeapi.c - native groups, organizations and connections from the API */
/*
 * DESIGN.md 8.3, auth0-api.md sections 6 and 10.  Every list is read with
 * checkpoint paging, 100 a page (connections 50), which is the fewest
 * requests the API allows:
 *
 *   connections  GET /api/v2/connections (id, name), then per connection
 *                GET /connections/{id}/clients (enabled_clients is gone)
 *   groups       GET /api/v2/groups, per group /groups/{id}/members
 *                (resource "group members"), and when there are groups
 *                per Management API role /roles/{id}/groups (the roles
 *                assigned to groups)
 *   orgs         GET /api/v2/organizations, per organization
 *                /organizations/{id}/members?fields=user_id,roles
 *                (resource "organization members")
 *
 * Each is put together in the shape of its snapshot file and handed to the
 * model only once every page arrived, so a failed resource adds nothing.
 * Runs in the refresh task's thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "model.h"
#include "http.h"
#include "api.h"

#define TAKE		"100"
#define TAKE_CONNS	"50"

/* "/api/v2/<what>/<escaped id>/<sub>", malloc'd. */
static char *
item_path( const char *what, const char *id, const char *sub )
{
	char *eid = auth0_api_escape( id ), *path = NULL;
	size_t len;

	if ( eid == NULL )
		return NULL;
	len = strlen( what ) + strlen( eid ) + strlen( sub ) + 16;
	path = malloc( len );
	if ( path )
		snprintf( path, len, "/api/v2/%s/%s/%s", what, eid, sub );
	free( eid );
	return path;
}

/* Every page of path's list key into a new array *out. */
static int
list_all( struct auth0_api *api, const char *path, const char *const *fixed,
	const char *take, const char *key, const char *pick, cJSON **out,
	char *errbuf )
{
	int rc;

	*out = cJSON_CreateArray();
	if ( *out == NULL ) {
		snprintf( errbuf, AUTH0_ERRLEN, "out of memory" );
		return AUTH0_ERR_NOMEM;
	}
	rc = auth0_mgmt_checkpoint( api, path, fixed, take, key, pick, *out,
		errbuf );
	if ( rc ) {
		cJSON_Delete( *out );
		*out = NULL;
	}
	return rc;
}

/* GET /api/v2/<what>/{id}/<sub> into obj[as] (replacing it). */
static int
add_sublist( struct auth0_api *api, cJSON *obj, const char *what,
	const char *sub, const char *const *fixed, const char *key,
	const char *pick, const char *as, char *errbuf )
{
	const char *id = auth0_json_str( obj, "id" );
	char *path;
	cJSON *arr = NULL;
	int rc;

	if ( id == NULL || *id == '\0' )
		return AUTH0_OK;	/* the model reports it */
	path = item_path( what, id, sub );
	if ( path == NULL ) {
		snprintf( errbuf, AUTH0_ERRLEN, "out of memory" );
		return AUTH0_ERR_NOMEM;
	}
	rc = list_all( api, path, fixed, TAKE, key, pick, &arr, errbuf );
	free( path );
	if ( rc )
		return rc;
	cJSON_DeleteItemFromObjectCaseSensitive( obj, as );
	cJSON_AddItemToObject( obj, as, arr );
	return AUTH0_OK;
}

/* Connections with their enabled clients, as connections.json. */
int
auth0_mgmt_connections( struct auth0_api *api, struct auth0_model *m,
	char *errbuf )
{
	static const char *const fixed[] = { "fields", "id,name",
		"include_fields", "true", NULL };
	char err[AUTH0_ERRLEN];
	cJSON *conns = NULL, *c;
	int rc;

	rc = list_all( api, "/api/v2/connections", fixed, TAKE_CONNS,
		"connections", NULL, &conns, errbuf );
	cJSON_ArrayForEach( c, conns ) {
		if ( rc )
			break;
		rc = add_sublist( api, c, "connections", "clients", NULL,
			"clients", "client_id", "enabled_clients", errbuf );
	}
	if ( rc == AUTH0_OK ) {
		err[0] = '\0';
		rc = auth0_model_add_connections( m, conns, err );
		rc = auth0_api_result( m, rc, err, errbuf );
	}
	cJSON_Delete( conns );
	return rc;
}

/* The group of groups with this id, or NULL. */
static cJSON *
group_by_id( cJSON *groups, const char *id )
{
	cJSON *g;

	cJSON_ArrayForEach( g, groups ) {
		const char *gid = auth0_json_str( g, "id" );
		if ( gid && strcmp( gid, id ) == 0 )
			return g;
	}
	return NULL;
}

/* Adds role id to the "roles" of every group of gids found in groups. */
static int
assign_role( cJSON *groups, const cJSON *gids, const char *role )
{
	const cJSON *gid;

	cJSON_ArrayForEach( gid, gids ) {
		cJSON *g = cJSON_IsString( gid ) ?
			group_by_id( groups, gid->valuestring ) : NULL;
		cJSON *roles = g ? cJSON_GetObjectItemCaseSensitive( g, "roles" ) :
			NULL;
		if ( g == NULL )
			continue;	/* created since the list was read */
		if ( !cJSON_IsArray( roles ) ) {
			cJSON_DeleteItemFromObjectCaseSensitive( g, "roles" );
			roles = cJSON_AddArrayToObject( g, "roles" );
		}
		if ( roles == NULL ||
				!cJSON_AddItemToArray( roles, cJSON_CreateString( role ) ) )
			return AUTH0_ERR_NOMEM;
	}
	return AUTH0_OK;
}

/* The Management API roles (already read) assigned to each group. */
static int
group_roles( struct auth0_api *api, struct auth0_model *m, cJSON *groups,
	char *errbuf )
{
	size_t i;
	int rc = AUTH0_OK;

	for ( i = 0; i < m->sn_nroles && rc == AUTH0_OK; i++ ) {
		const struct auth0_role *r = &m->sn_roles[i];
		char *path;
		cJSON *gids = NULL;

		if ( r->ro_kind != AUTH0_ROLE_RBAC )
			continue;
		path = item_path( "roles", r->ro_id, "groups" );
		if ( path == NULL ) {
			snprintf( errbuf, AUTH0_ERRLEN, "out of memory" );
			return AUTH0_ERR_NOMEM;
		}
		rc = list_all( api, path, NULL, TAKE, "groups", "id", &gids,
			errbuf );
		free( path );
		if ( rc == AUTH0_OK )
			rc = assign_role( groups, gids, r->ro_id );
		cJSON_Delete( gids );
	}
	return rc;
}

/*
 * Native groups with their members and roles, as groups.json.  Needs the
 * Management API roles read first (auth0_mgmt_roles()).
 */
int
auth0_mgmt_groups( struct auth0_api *api, struct auth0_model *m,
	unsigned *res, char *errbuf )
{
	char err[AUTH0_ERRLEN];
	cJSON *groups = NULL, *g;
	int rc;

	*res = AUTH0_RES_GROUPS;
	rc = list_all( api, "/api/v2/groups", NULL, TAKE, "groups", NULL,
		&groups, errbuf );
	/* no group, no role assigned to one: the roles need not be asked */
	if ( rc == AUTH0_OK && cJSON_GetArraySize( groups ) > 0 )
		rc = group_roles( api, m, groups, errbuf );
	if ( rc == AUTH0_OK )
		*res = AUTH0_RES_GROUP_MEMBERS;
	cJSON_ArrayForEach( g, groups ) {
		if ( rc )
			break;
		rc = add_sublist( api, g, "groups", "members", NULL, "members",
			NULL, "members", errbuf );
	}
	if ( rc == AUTH0_OK ) {
		err[0] = '\0';
		rc = auth0_model_add_native_groups( m, groups, err );
		rc = auth0_api_result( m, rc, err, errbuf );
	}
	cJSON_Delete( groups );
	return rc;
}

/* Organizations with their members' roles, as organizations.json. */
int
auth0_mgmt_orgs( struct auth0_api *api, struct auth0_model *m,
	unsigned *res, char *errbuf )
{
	static const char *const fixed[] = { "fields", "user_id,roles",
		"include_fields", "true", NULL };
	char err[AUTH0_ERRLEN];
	cJSON *orgs = NULL, *o;
	int rc;

	*res = AUTH0_RES_ORGS;
	rc = list_all( api, "/api/v2/organizations", NULL, TAKE,
		"organizations", NULL, &orgs, errbuf );
	if ( rc == AUTH0_OK )
		*res = AUTH0_RES_ORG_MEMBERS;
	cJSON_ArrayForEach( o, orgs ) {
		if ( rc )
			break;
		rc = add_sublist( api, o, "organizations", "members", fixed,
			"members", NULL, "members", errbuf );
	}
	if ( rc == AUTH0_OK ) {
		err[0] = '\0';
		rc = auth0_model_add_orgs( m, orgs, err );
		rc = auth0_api_result( m, rc, err, errbuf );
	}
	cJSON_Delete( orgs );
	return rc;
}
