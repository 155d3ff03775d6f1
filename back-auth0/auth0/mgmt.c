/* mgmt.c - Management API resources for back-auth0 */
/*
 * Users of the selected connections, roles with their members and
 * permissions, and clients (auth0-api.md sections 3, 5, 6 and 9), each
 * with the fewest requests the API allows:
 *
 *   users    GET /api/v2/users per connection, 100 a page, handed to the
 *            model page by page (no page is kept).  The first page tells
 *            the total: beyond ac_page_cap, which search cannot page
 *            through, the connection goes to an export job (export.c).
 *            With no connection selected one search (or one export job)
 *            covers the tenant.  Connections are listed only when an
 *            export job needs a connection's id.
 *   roles    GET /api/v2/roles (offset paging), then per role its members
 *            (checkpoint paging) and permissions (offset paging).
 *   clients  GET /api/v2/clients (offset paging), four fields.
 *
 * Roles and clients are collected whole and given to the model only once
 * every page arrived, so a failed resource adds nothing.  Runs in the
 * refresh task's thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "model.h"
#include "http.h"
#include "api.h"

/* the most a page holds: offset paging (per_page), checkpoint (take) */
#define AUTH0_PER_PAGE		100
#define AUTH0_PER_PAGE_S	"100"
#define AUTH0_TAKE_MEMBERS	"100"
#define AUTH0_TAKE_CONNS	"50"	/* as auth0-api.md section 9 */
#define AUTH0_MAX_QUERY		16	/* query slots: names and values */

/* Connections by name, listed once when an export job needs an id. */
struct conns {
	cJSON	*cs_list;
};

/* fixed + extra (name, value pairs) into q, NULL-terminated. */
static void
query_join( const char **q, const char *const *fixed,
	const char *const *extra )
{
	size_t n = 0;

	while ( fixed && *fixed && n < AUTH0_MAX_QUERY - 1 )
		q[n++] = *fixed++;
	while ( extra && *extra && n < AUTH0_MAX_QUERY - 1 )
		q[n++] = *extra++;
	q[n] = NULL;
}

static int
unexpected( const char *path, const char *key, char *errbuf )
{
	snprintf( errbuf, AUTH0_ERRLEN, "reply has no \"%s\" array (GET %s)",
		key, path );
	return AUTH0_ERR_JSON;
}

/* Moves the items of arr to out; with pick, only their member pick. */
static int
take_items( cJSON *arr, const char *pick, cJSON *out )
{
	cJSON *it, *s;
	const char *v;

	while ( arr->child ) {
		it = cJSON_DetachItemViaPointer( arr, arr->child );
		if ( pick == NULL ) {
			cJSON_AddItemToArray( out, it );
			continue;
		}
		/* a member without one (no user_id) is left out */
		v = auth0_json_str( it, pick );
		s = v ? cJSON_CreateString( v ) : NULL;
		cJSON_Delete( it );
		if ( v && s == NULL )
			return AUTH0_ERR_NOMEM;
		if ( s )
			cJSON_AddItemToArray( out, s );
	}
	return AUTH0_OK;
}

/*
 * Follows offset paging (page, per_page and include_totals; auth0-api.md
 * section 2) over path until start + length reaches total or a page is
 * empty, appending the items of key to out.
 */
static int
offset_all( struct auth0_api *api, const char *path,
	const char *const *fixed, const char *key, cJSON *out, char *errbuf )
{
	const char *q[AUTH0_MAX_QUERY];
	char page[24];
	const char *paging[] = { "per_page", AUTH0_PER_PAGE_S, "page", page,
		"include_totals", "true", NULL };
	struct auth0_call c;
	cJSON *items;
	long k, n, total;
	int rc = AUTH0_OK;

	query_join( q, fixed, paging );
	for ( k = 0; ; k++ ) {
		snprintf( page, sizeof( page ), "%ld", k );
		rc = auth0_api_get( api, &c, path, q, errbuf );
		if ( rc )
			break;
		items = cJSON_GetObjectItemCaseSensitive( c.ca_json, key );
		total = auth0_json_long( c.ca_json, "total", -1 );
		if ( !cJSON_IsArray( items ) || total < 0 ) {
			rc = unexpected( path, key, errbuf );
			cJSON_Delete( c.ca_json );
			break;
		}
		n = cJSON_GetArraySize( items );
		rc = take_items( items, NULL, out );
		cJSON_Delete( c.ca_json );
		if ( rc || n == 0 || k * AUTH0_PER_PAGE + n >= total )
			break;
	}
	return rc;
}

/*
 * Follows checkpoint paging (from/take; auth0-api.md section 2) over path
 * until a page has no "next", appending the items of key (with pick,
 * their member pick) to out.
 */
static int
checkpoint_all( struct auth0_api *api, const char *path,
	const char *const *fixed, const char *take, const char *key,
	const char *pick, cJSON *out, long *status, char *errbuf )
{
	const char *q[AUTH0_MAX_QUERY], *next;
	const char *paging[] = { "take", take, NULL, NULL, NULL };
	struct auth0_call c;
	char *from = NULL;
	cJSON *items;
	int rc = AUTH0_OK, n;

	for ( ;; ) {
		paging[2] = from ? "from" : NULL;
		paging[3] = from;
		query_join( q, fixed, paging );
		rc = auth0_api_get( api, &c, path, q, errbuf );
		if ( status )
			*status = c.ca_status;
		if ( rc )
			break;
		items = cJSON_GetObjectItemCaseSensitive( c.ca_json, key );
		if ( !cJSON_IsArray( items ) ) {
			rc = unexpected( path, key, errbuf );
			cJSON_Delete( c.ca_json );
			break;
		}
		n = cJSON_GetArraySize( items );
		rc = take_items( items, pick, out );
		next = auth0_json_str( c.ca_json, "next" );
		/* an empty page or a repeated checkpoint cannot lead further */
		if ( rc || n == 0 || next == NULL || next[0] == '\0' ||
				( from && strcmp( from, next ) == 0 ) )
			next = NULL;
		free( from );
		from = next ? strdup( next ) : NULL;
		cJSON_Delete( c.ca_json );
		if ( next && from == NULL )
			rc = AUTH0_ERR_NOMEM;
		if ( rc || from == NULL )
			break;
	}
	free( from );
	return rc;
}

/* One page of users to the model; bad records are reported, not fatal. */
static int
feed_page( struct auth0_feed *fd, const cJSON *items, long k )
{
	char err[AUTH0_ERRLEN];
	const cJSON *o;
	long i = 0;
	int rc;

	cJSON_ArrayForEach( o, items ) {
		i++;
		rc = auth0_feed_user( fd, o, err );
		if ( rc == AUTH0_ERR_NOMEM )
			return rc;
		if ( rc )
			auth0_api_warn( fd->fd_m, 1, "users of %s, page %ld, "
				"record %ld: %s, record skipped", fd->fd_conn ?
				fd->fd_conn : "the tenant", k, i, err );
	}
	return AUTH0_OK;
}

/* The id of connection name; lists the connections on first use. */
static int
connection_id( struct auth0_api *api, struct conns *cs, const char *name,
	const char **id, char *errbuf )
{
	static const char *const fixed[] = { "fields", "id,name",
		"include_fields", "true", NULL };
	const cJSON *o;
	int rc;

	if ( cs->cs_list == NULL ) {
		cs->cs_list = cJSON_CreateArray();
		if ( cs->cs_list == NULL )
			return AUTH0_ERR_NOMEM;
		rc = checkpoint_all( api, "/api/v2/connections", fixed,
			AUTH0_TAKE_CONNS, "connections", NULL, cs->cs_list,
			NULL, errbuf );
		if ( rc )
			return rc;
	}
	cJSON_ArrayForEach( o, cs->cs_list ) {
		const char *n = auth0_json_str( o, "name" );
		if ( n && strcmp( n, name ) == 0 &&
				( *id = auth0_json_str( o, "id" ) ) != NULL )
			return AUTH0_OK;
	}
	snprintf( errbuf, AUTH0_ERRLEN, "connection %.100s has more users than "
		"search returns, but GET /api/v2/connections does not list it",
		name );
	return AUTH0_ERR_DATA;
}

/* identities.connection:"name", quotes and backslashes escaped. */
static char *
connection_query( const char *name )
{
	static const char pre[] = "identities.connection:\"";
	char *q = malloc( sizeof( pre ) + 2 * strlen( name ) + 2 ), *p;

	if ( q == NULL )
		return NULL;
	p = stpcpy( q, pre );
	for ( ; *name; name++ ) {
		if ( *name == '"' || *name == '\\' )
			*p++ = '\\';
		*p++ = *name;
	}
	strcpy( p, "\"" );
	return q;
}

/* Page k of the search q (NULL: every user) in *out. */
static int
users_page( struct auth0_api *api, const char *q, long k, cJSON **out,
	long *total, char *errbuf )
{
	char page[24];
	const char *query[] = { "search_engine", "v3",
		"per_page", AUTH0_PER_PAGE_S, "page", page,
		"include_totals", "true", "sort", "created_at:1",
		NULL, NULL, NULL };
	struct auth0_call c;
	int rc;

	snprintf( page, sizeof( page ), "%ld", k );
	if ( q ) {
		query[10] = "q";
		query[11] = q;
	}
	rc = auth0_api_get( api, &c, "/api/v2/users", query, errbuf );
	if ( rc )
		return rc;
	*total = auth0_json_long( c.ca_json, "total", -1 );
	if ( !cJSON_IsArray( cJSON_GetObjectItemCaseSensitive( c.ca_json,
			"users" ) ) || *total < 0 ) {
		cJSON_Delete( c.ca_json );
		return unexpected( "/api/v2/users", "users", errbuf );
	}
	*out = c.ca_json;
	return AUTH0_OK;
}

/* More users than search reaches: one export job instead. */
static int
users_export( struct auth0_api *api, struct conns *cs,
	struct auth0_feed *fd, char *errbuf )
{
	const char *id = NULL;
	int rc;

	if ( fd->fd_conn ) {
		rc = connection_id( api, cs, fd->fd_conn, &id, errbuf );
		if ( rc )
			return rc;
	}
	return auth0_export_users( api, id, fd, errbuf );
}

/*
 * The users of one connection (conn NULL: of the tenant).  A total that
 * moves while paging means a user may have been missed: the model is
 * then marked incomplete, so that this refresh deletes nobody.
 */
static int
connection_users( struct auth0_api *api, struct conns *cs, const char *conn,
	const struct auth0_select *sel, struct auth0_model *m, char *errbuf )
{
	struct auth0_feed fd = { api, m, sel, conn, 0, 0 };
	long k, n, total, first = -1, cap = api->ap_conf.ac_page_cap;
	char *q = NULL;
	cJSON *page = NULL;
	int rc = AUTH0_OK, moved = 0;

	if ( conn && ( q = connection_query( conn ) ) == NULL )
		return AUTH0_ERR_NOMEM;
	for ( k = 0; ; k++ ) {
		rc = users_page( api, q, k, &page, &total, errbuf );
		if ( rc )
			break;
		if ( k == 0 && total > cap ) {
			/* only now is this first page wasted */
			cJSON_Delete( page );
			fd.fd_total = (unsigned long)total;
			rc = users_export( api, cs, &fd, errbuf );
			break;
		}
		if ( k == 0 )
			first = fd.fd_total = (unsigned long)total;
		moved |= total != first;
		n = cJSON_GetArraySize( cJSON_GetObjectItemCaseSensitive( page,
			"users" ) );
		rc = feed_page( &fd, cJSON_GetObjectItemCaseSensitive( page,
			"users" ), k );
		cJSON_Delete( page );
		if ( rc || n == 0 || k * AUTH0_PER_PAGE + n >= total )
			break;
		/* the next page would be past the cap: the total moved */
		if ( ( k + 2 ) * AUTH0_PER_PAGE > cap ) {
			moved = 1;
			break;
		}
	}
	if ( rc == AUTH0_OK && moved ) {
		m->sn_complete = 0;
		auth0_api_warn( m, 0, "users of %s changed while being "
			"paged; nobody is deleted this time",
			conn ? conn : "the tenant" );
	}
	free( q );
	return rc;
}

/* Users of the connections in sel (all of the tenant when none). */
int
auth0_mgmt_users( struct auth0_api *api, const struct auth0_select *sel,
	struct auth0_model *m, char *errbuf )
{
	struct conns cs = { NULL };
	char **c, **d;
	int rc = AUTH0_OK;

	if ( sel == NULL || sel->se_connections == NULL ||
			sel->se_connections[0] == NULL ) {
		rc = connection_users( api, &cs, NULL, sel, m, errbuf );
		goto done;
	}
	for ( c = sel->se_connections; *c && rc == AUTH0_OK; c++ ) {
		for ( d = sel->se_connections; d < c && strcmp( *d, *c ); d++ )
			;
		if ( d == c )
			rc = connection_users( api, &cs, *c, sel, m, errbuf );
	}
done:
	cJSON_Delete( cs.cs_list );
	return rc;
}

/* Adds "members" (user_ids) and "permissions" to one role object. */
static int
role_details( struct auth0_api *api, cJSON *role, char *errbuf )
{
	const char *id = auth0_json_str( role, "id" );
	cJSON *members = cJSON_CreateArray(), *perms = cJSON_CreateArray();
	char *eid = NULL, *path = NULL;
	int rc = AUTH0_ERR_NOMEM;

	if ( members == NULL || perms == NULL )
		goto done;
	if ( id == NULL ) {
		/* the model reports the role without an id */
		rc = AUTH0_OK;
		goto done;
	}
	eid = auth0_api_escape( id );
	path = eid ? malloc( strlen( eid ) +
		sizeof( "/api/v2/roles//permissions" ) ) : NULL;
	if ( path == NULL )
		goto done;
	sprintf( path, "/api/v2/roles/%s/users", eid );
	rc = checkpoint_all( api, path, NULL, AUTH0_TAKE_MEMBERS, "users",
		"user_id", members, NULL, errbuf );
	if ( rc )
		goto done;
	sprintf( path, "/api/v2/roles/%s/permissions", eid );
	rc = offset_all( api, path, NULL, "permissions", perms, errbuf );
	if ( rc )
		goto done;
	cJSON_DeleteItemFromObjectCaseSensitive( role, "members" );
	cJSON_DeleteItemFromObjectCaseSensitive( role, "permissions" );
	cJSON_AddItemToObject( role, "members", members );
	cJSON_AddItemToObject( role, "permissions", perms );
	members = perms = NULL;
done:
	if ( rc == AUTH0_ERR_NOMEM )
		snprintf( errbuf, AUTH0_ERRLEN, "out of memory" );
	cJSON_Delete( members );
	cJSON_Delete( perms );
	free( path );
	free( eid );
	return rc;
}

/*
 * The members (user_ids, into the array out) of one role, for the change
 * feed; *status is 404 when the role is gone.
 */
int
auth0_mgmt_role_members( struct auth0_api *api, const char *id, cJSON *out,
	long *status, char *errbuf )
{
	char *eid = auth0_api_escape( id ), *path;
	int rc;

	*status = 0;
	path = eid ? malloc( strlen( eid ) + sizeof( "/api/v2/roles//users" ) ) :
		NULL;
	if ( path == NULL ) {
		free( eid );
		return AUTH0_ERR_NOMEM;
	}
	sprintf( path, "/api/v2/roles/%s/users", eid );
	rc = checkpoint_all( api, path, NULL, AUTH0_TAKE_MEMBERS, "users",
		"user_id", out, status, errbuf );
	free( path );
	free( eid );
	return rc;
}

/* Roles (roles.json's shape: members and permissions added) to m. */
int
auth0_mgmt_roles( struct auth0_api *api, struct auth0_model *m,
	char *errbuf )
{
	char err[AUTH0_ERRLEN];
	cJSON *roles = cJSON_CreateArray(), *r;
	int rc;

	if ( roles == NULL )
		return AUTH0_ERR_NOMEM;
	rc = offset_all( api, "/api/v2/roles", NULL, "roles", roles, errbuf );
	cJSON_ArrayForEach( r, roles ) {
		if ( rc )
			break;
		rc = role_details( api, r, errbuf );
	}
	if ( rc == AUTH0_OK ) {
		err[0] = '\0';
		rc = auth0_model_add_rbac_roles( m, roles, err );
		rc = auth0_api_result( m, rc, err, errbuf );
	}
	cJSON_Delete( roles );
	return rc;
}

/* Applications: the four fields any scope may read (auth0-api.md 6). */
int
auth0_mgmt_clients( struct auth0_api *api, struct auth0_model *m,
	char *errbuf )
{
	static const char *const fixed[] = { "fields",
		"client_id,name,description,app_type", "include_fields", "true",
		NULL };
	char err[AUTH0_ERRLEN];
	cJSON *clients = cJSON_CreateArray();
	int rc;

	if ( clients == NULL )
		return AUTH0_ERR_NOMEM;
	rc = offset_all( api, "/api/v2/clients", fixed, "clients", clients,
		errbuf );
	if ( rc == AUTH0_OK ) {
		err[0] = '\0';
		rc = auth0_model_add_clients( m, clients, err );
		rc = auth0_api_result( m, rc, err, errbuf );
	}
	cJSON_Delete( clients );
	return rc;
}

/* Checkpoint paging for the other Management API files (nativeapi.c). */
int
auth0_mgmt_checkpoint( struct auth0_api *api, const char *path,
	const char *const *fixed, const char *take, const char *key,
	const char *pick, cJSON *out, char *errbuf )
{
	return checkpoint_all( api, path, fixed, take, key, pick, out,
		NULL, errbuf );
}
