/* logs.c - the change feed: Auth0's tenant log for back-auth0 */
/*
 * An incremental refresh reads GET /api/v2/logs?from=<checkpoint>&take=100
 * (auth0-api.md sections 8 and 9) until a page comes back short, and
 * turns the events into a change set: which users to re-read
 * (GET /api/v2/users/{id}, 404 = deleted), which roles' members to
 * re-read, and which resources only a whole refetch can bring up to date.
 * The mapping is a pure function of the events, the selected connections
 * and which users are already held (auth0_logs_map), so it is tested
 * without any HTTP.  Slapd-free; never knows about entries.
 *
 * Event types (auth0-api.md section 8):
 *   ss, sdu, scp, sce, scu, limit_wc, limit_mu, limit_sul, ublkdu
 *        the event's user is re-read; all but ss and ublkdu also drop
 *        that user's cached passwords
 *   sapi a Management API write, by details.request.path:
 *        /api/v2/users/{id}[/...]     the user (cached passwords dropped);
 *        /api/v2/users/{id}/roles     the roles named in the request
 *                                     body, else every role's members;
 *        /api/v2/users (a create)     the event's user_id, else all users;
 *        /api/v2/roles/{id}/users     that role's members;
 *        other /api/v2/roles...       roles whole (names, permissions);
 *        /api/v2/clients..., /connections..., /groups...,
 *        /organizations..., /jobs/users-imports   that resource whole;
 *        anything else (rules, actions, tenant settings) changes nothing
 *        we import and is ignored; a read (method get) too
 *   s    a successful login: counted, not fetched.  auth0LastLogin and
 *        auth0LoginsCount follow with the full refresh: fetching the
 *        user on every login would spend one request per login of the
 *        tenant, which the feed's budget (a handful per change) cannot
 *        carry on a busy tenant
 *   else ignored (failed logins, rate-limit notices, ...)
 * An event of a connection that is not selected is skipped without a
 * fetch, unless its user is one already held (it may have just moved to
 * that connection).  An event that is not an object or has no log_id or
 * type cannot be placed: the change set then asks for a full refresh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "model.h"
#include "http.h"
#include "api.h"

#define AUTH0_LOGS_TAKE		100
#define AUTH0_LOGS_TAKE_S	"100"

/* user ids collected before sorting */
struct pick {
	char	*pk_id;
	int	pk_forget;
};

void
auth0_changes_init( struct auth0_changes *ch )
{
	memset( ch, 0, sizeof( *ch ) );
}

void
auth0_changes_free( struct auth0_changes *ch )
{
	size_t i;

	for ( i = 0; i < ch->ch_nusers; i++ )
		free( ch->ch_users[i] );
	for ( i = 0; i < ch->ch_nroles; i++ )
		free( ch->ch_roles[i] );
	free( ch->ch_users );
	free( ch->ch_forget );
	free( ch->ch_roles );
	free( ch->ch_checkpoint );
	free( ch->ch_newest_date );
	memset( ch, 0, sizeof( *ch ) );
}

/* Asks for resource(s) whole; the first reason is kept for the log. */
static void
whole( struct auth0_changes *ch, unsigned what, const char *why,
	const char *log_id )
{
	if ( ( ch->ch_whole & what ) == what )
		return;
	if ( ch->ch_why[0] == '\0' )
		snprintf( ch->ch_why, sizeof( ch->ch_why ), "%s (log_id %.40s)",
			why, log_id ? log_id : "?" );
	ch->ch_whole |= what;
}

static int
push( char ***arr, size_t *n, const char *s )
{
	char **p;
	size_t i;

	for ( i = 0; i < *n; i++ )
		if ( strcmp( ( *arr )[i], s ) == 0 )
			return AUTH0_OK;
	p = realloc( *arr, ( *n + 1 ) * sizeof( char * ) );
	if ( p == NULL )
		return AUTH0_ERR_NOMEM;
	*arr = p;
	if ( ( p[*n] = strdup( s ) ) == NULL )
		return AUTH0_ERR_NOMEM;
	( *n )++;
	return AUTH0_OK;
}

/* Adds a user to re-read (kept unsorted until auth0_logs_map ends). */
static int
add_user( struct auth0_changes *ch, const char *id, int forget )
{
	unsigned char *f;
	size_t i, n = ch->ch_nusers;

	for ( i = 0; i < n; i++ )
		if ( strcmp( ch->ch_users[i], id ) == 0 ) {
			ch->ch_forget[i] |= forget;
			return AUTH0_OK;
		}
	f = realloc( ch->ch_forget, n + 1 );
	if ( f == NULL )
		return AUTH0_ERR_NOMEM;
	ch->ch_forget = f;
	if ( push( &ch->ch_users, &ch->ch_nusers, id ) )
		return AUTH0_ERR_NOMEM;
	ch->ch_forget[n] = (unsigned char)forget;
	return AUTH0_OK;
}

static int
hexval( int c )
{
	if ( c >= '0' && c <= '9' )
		return c - '0';
	if ( c >= 'a' && c <= 'f' )
		return c - 'a' + 10;
	if ( c >= 'A' && c <= 'F' )
		return c - 'A' + 10;
	return -1;
}

/* %XX decoded in place (a malformed escape is kept as it is). */
static char *
unescape( char *s )
{
	char *r = s, *w = s;

	while ( *r ) {
		if ( r[0] == '%' && hexval( r[1] ) >= 0 && hexval( r[2] ) >= 0 ) {
			*w++ = (char)( hexval( r[1] ) * 16 + hexval( r[2] ) );
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return s;
}

/* The text after prefix in path up to the next '/' (URL-decoded), or NULL. */
static char *
path_id( const char *path, const char *prefix, const char **rest )
{
	size_t n = strlen( prefix ), len;
	char *enc, *id;

	*rest = "";
	if ( strncmp( path, prefix, n ) || path[n] == '\0' || path[n] == '/' )
		return NULL;
	len = strcspn( path + n, "/?" );
	*rest = path + n + len;
	enc = strndup( path + n, len );
	if ( enc == NULL )
		return NULL;
	id = unescape( enc );
	return id;
}

static int
starts( const char *path, const char *prefix )
{
	size_t n = strlen( prefix );

	return strncmp( path, prefix, n ) == 0 &&
		( path[n] == '\0' || path[n] == '/' || path[n] == '?' );
}

/* sapi on /users/{id}/roles: the roles of the request body, else all. */
static int
user_roles( struct auth0_changes *ch, const cJSON *req, const char *log_id )
{
	const cJSON *body = cJSON_GetObjectItemCaseSensitive( req, "body" );
	const cJSON *roles = cJSON_GetObjectItemCaseSensitive( body, "roles" );
	const cJSON *r;
	int n = 0;

	if ( !cJSON_IsArray( roles ) )
		roles = NULL;
	cJSON_ArrayForEach( r, roles ) {
		if ( !cJSON_IsString( r ) || r->valuestring[0] == '\0' ) {
			n = 0;
			break;
		}
		n++;
	}
	if ( n == 0 ) {
		whole( ch, AUTH0_CH_ROLES, "a user's roles changed, the event "
			"does not say which", log_id );
		return AUTH0_OK;
	}
	cJSON_ArrayForEach( r, roles )
		if ( push( &ch->ch_roles, &ch->ch_nroles, r->valuestring ) )
			return AUTH0_ERR_NOMEM;
	return AUTH0_OK;
}

/* A Management API write (sapi), by the path it wrote to. */
static int
map_sapi( struct auth0_changes *ch, const cJSON *ev, const char *user_id,
	const char *log_id )
{
	const cJSON *det = cJSON_GetObjectItemCaseSensitive( ev, "details" );
	const cJSON *req = cJSON_GetObjectItemCaseSensitive( det, "request" );
	const char *path = auth0_json_str( req, "path" );
	const char *method = auth0_json_str( req, "method" );
	const char *rest = NULL;
	char *id = NULL;
	int rc = AUTH0_OK;

	if ( path == NULL ) {
		whole( ch, AUTH0_CH_ALL, "a Management API write without a "
			"path", log_id );
		return AUTH0_OK;
	}
	if ( method && strcasecmp( method, "get" ) == 0 ) {
		ch->ch_ignored++;
		return AUTH0_OK;
	}
	if ( ( id = path_id( path, "/api/v2/users/", &rest ) ) != NULL ) {
		if ( starts( rest, "/roles" ) )
			rc = user_roles( ch, req, log_id );
		else
			rc = add_user( ch, id, 1 );
	} else if ( starts( path, "/api/v2/users" ) ) {
		if ( user_id )
			rc = add_user( ch, user_id, 1 );
		else
			whole( ch, AUTH0_CH_USERS, "a user was created, the event "
				"does not say who", log_id );
	} else if ( ( id = path_id( path, "/api/v2/roles/", &rest ) ) != NULL &&
			strcmp( rest, "/users" ) == 0 ) {
		rc = push( &ch->ch_roles, &ch->ch_nroles, id );
	} else if ( starts( path, "/api/v2/roles" ) ) {
		whole( ch, AUTH0_CH_ROLES, "roles changed", log_id );
	} else if ( starts( path, "/api/v2/clients" ) ) {
		whole( ch, AUTH0_CH_CLIENTS, "applications changed", log_id );
	} else if ( starts( path, "/api/v2/connections" ) ) {
		whole( ch, AUTH0_CH_CONNECTIONS, "connections changed", log_id );
	} else if ( starts( path, "/api/v2/groups" ) ) {
		whole( ch, AUTH0_CH_GROUPS, "groups changed", log_id );
	} else if ( starts( path, "/api/v2/organizations" ) ) {
		whole( ch, AUTH0_CH_ORGS, "organizations changed", log_id );
	} else if ( starts( path, "/api/v2/jobs/users-imports" ) ) {
		whole( ch, AUTH0_CH_USERS, "a users import job ran", log_id );
	} else {
		ch->ch_ignored++;
	}
	free( id );
	return rc;
}

/* Event types that change a user (auth0-api.md section 8); forget: 1. */
static const struct {
	const char	*ut_type;
	int		ut_forget;
} user_types[] = {
	{ "ss", 0 }, { "ublkdu", 0 },
	{ "sdu", 1 }, { "scp", 1 }, { "sce", 1 }, { "scu", 1 },
	{ "limit_wc", 1 }, { "limit_mu", 1 }, { "limit_sul", 1 },
	{ NULL, 0 }
};

static int
map_one( struct auth0_changes *ch, const cJSON *ev,
	const struct auth0_select *sel, auth0_known_fn *known, void *arg )
{
	const char *log_id = auth0_json_str( ev, "log_id" );
	const char *type = auth0_json_str( ev, "type" );
	const char *user_id = auth0_json_str( ev, "user_id" );
	const char *conn = auth0_json_str( ev, "connection" );
	int i;

	if ( !cJSON_IsObject( ev ) || log_id == NULL || type == NULL ) {
		ch->ch_bad++;
		whole( ch, AUTH0_CH_ALL, "a log event without log_id or type",
			log_id );
		return AUTH0_OK;
	}
	if ( user_id && *user_id == '\0' )
		user_id = NULL;
	/* another connection's user that we do not hold: nothing to do */
	if ( conn && *conn && !auth0_model_selected( sel, conn ) &&
			( user_id == NULL || known == NULL ||
			!known( arg, user_id ) ) ) {
		ch->ch_skipped++;
		return AUTH0_OK;
	}
	if ( strcmp( type, "s" ) == 0 ) {
		ch->ch_logins++;
		return AUTH0_OK;
	}
	if ( strcmp( type, "sapi" ) == 0 )
		return map_sapi( ch, ev, user_id, log_id );
	for ( i = 0; user_types[i].ut_type; i++ )
		if ( strcmp( type, user_types[i].ut_type ) == 0 )
			break;
	if ( user_types[i].ut_type == NULL ) {
		ch->ch_ignored++;
		return AUTH0_OK;
	}
	if ( user_id == NULL ) {
		whole( ch, AUTH0_CH_USERS, "a user event without user_id",
			log_id );
		return AUTH0_OK;
	}
	return add_user( ch, user_id, user_types[i].ut_forget );
}

static int
cmp_str( const void *a, const void *b )
{
	return strcmp( *(char *const *)a, *(char *const *)b );
}

/* Users sorted by id with their forget flags (kept in step). */
static int
sort_users( struct auth0_changes *ch )
{
	struct pick *pk;
	size_t i, n = ch->ch_nusers;

	if ( n < 2 )
		return AUTH0_OK;
	pk = malloc( n * sizeof( *pk ) );
	if ( pk == NULL )
		return AUTH0_ERR_NOMEM;
	for ( i = 0; i < n; i++ ) {
		pk[i].pk_id = ch->ch_users[i];
		pk[i].pk_forget = ch->ch_forget[i];
	}
	qsort( pk, n, sizeof( *pk ), cmp_str );
	for ( i = 0; i < n; i++ ) {
		ch->ch_users[i] = pk[i].pk_id;
		ch->ch_forget[i] = (unsigned char)pk[i].pk_forget;
	}
	free( pk );
	qsort( ch->ch_roles, ch->ch_nroles, sizeof( char * ), cmp_str );
	return AUTH0_OK;
}

/*
 * Adds the events (a JSON array, oldest first) to ch.  The checkpoint
 * becomes the last event's log_id.  Returns AUTH0_OK, AUTH0_ERR_JSON when
 * events is not an array, or AUTH0_ERR_NOMEM.
 */
int
auth0_logs_map( const cJSON *events, const struct auth0_select *sel,
	auth0_known_fn *known, void *arg, struct auth0_changes *ch )
{
	const cJSON *ev;
	const char *id, *date;
	int rc = AUTH0_OK;

	if ( !cJSON_IsArray( events ) )
		return AUTH0_ERR_JSON;
	cJSON_ArrayForEach( ev, events ) {
		ch->ch_events++;
		rc = map_one( ch, ev, sel, known, arg );
		if ( rc )
			return rc;
		if ( ( id = auth0_json_str( ev, "log_id" ) ) == NULL )
			continue;
		free( ch->ch_checkpoint );
		ch->ch_checkpoint = strdup( id );
		date = auth0_json_str( ev, "date" );
		free( ch->ch_newest_date );
		ch->ch_newest_date = date ? strdup( date ) : NULL;
		if ( ch->ch_checkpoint == NULL )
			return AUTH0_ERR_NOMEM;
	}
	return sort_users( ch );
}

/* One user's index in ch (sorted), or -1. */
long
auth0_changes_user( const struct auth0_changes *ch, const char *id )
{
	char **p = ch->ch_nusers ? bsearch( &id, ch->ch_users, ch->ch_nusers,
		sizeof( char * ), cmp_str ) : NULL;

	return p ? (long)( p - ch->ch_users ) : -1;
}

/* 1 when s is a plausible log_id: 1 to 64 digits. */
int
auth0_logs_valid_id( const char *s )
{
	size_t n = s ? strspn( s, "0123456789" ) : 0;

	return n > 0 && n <= 64 && s[n] == '\0';
}

/*
 * Reads the events after from, 100 a page, until a page comes back short
 * or max events arrived (*more is then 1), appending them to out (an
 * array).  *status is the HTTP status of a refused read (400 or 404: the
 * checkpoint is older than the log retention; 403: no read:logs).
 */
int
auth0_logs_read( struct auth0_api *api, const char *from, size_t max,
	cJSON *out, int *more, long *status, char *errbuf )
{
	const char *q[] = { "from", NULL, "take", AUTH0_LOGS_TAKE_S, NULL };
	struct auth0_call c;
	char *cur = strdup( from );
	const char *last;
	cJSON *ev;
	int rc = AUTH0_OK, n;

	*more = 0;
	*status = 0;
	if ( cur == NULL )
		return AUTH0_ERR_NOMEM;
	for ( ;; ) {
		q[1] = cur;
		rc = auth0_api_get( api, &c, "/api/v2/logs", q, errbuf );
		*status = c.ca_status;
		if ( rc )
			break;
		if ( !cJSON_IsArray( c.ca_json ) ) {
			snprintf( errbuf, AUTH0_ERRLEN, "GET /api/v2/logs: the "
				"reply is not an array of log events" );
			cJSON_Delete( c.ca_json );
			rc = AUTH0_ERR_JSON;
			break;
		}
		n = cJSON_GetArraySize( c.ca_json );
		ev = cJSON_GetArrayItem( c.ca_json, n - 1 );
		last = n ? auth0_json_str( ev, "log_id" ) : NULL;
		if ( n && !auth0_logs_valid_id( last ) ) {
			snprintf( errbuf, AUTH0_ERRLEN, "GET /api/v2/logs: the "
				"last event of a page has no valid log_id" );
			cJSON_Delete( c.ca_json );
			rc = AUTH0_ERR_JSON;
			break;
		}
		free( cur );
		cur = n ? strdup( last ) : NULL;
		while ( c.ca_json->child )
			cJSON_AddItemToArray( out, cJSON_DetachItemViaPointer(
				c.ca_json, c.ca_json->child ) );
		cJSON_Delete( c.ca_json );
		if ( n && cur == NULL ) {
			rc = AUTH0_ERR_NOMEM;
			break;
		}
		if ( n < AUTH0_LOGS_TAKE )
			break;
		if ( (size_t)cJSON_GetArraySize( out ) >= max ) {
			*more = 1;
			break;
		}
	}
	free( cur );
	return rc;
}

/*
 * The newest log_id of the tenant (a full refresh's starting point for
 * the feed), or "0" when the log is empty: one search-mode request.
 */
int
auth0_logs_head( struct auth0_api *api, char **log_id, char *errbuf )
{
	static const char *const q[] = { "sort", "date:-1", "per_page", "1",
		"page", "0", NULL };
	struct auth0_call c;
	const char *id;
	int rc;

	*log_id = NULL;
	rc = auth0_api_get( api, &c, "/api/v2/logs", q, errbuf );
	if ( rc )
		return rc;
	if ( !cJSON_IsArray( c.ca_json ) ) {
		snprintf( errbuf, AUTH0_ERRLEN, "GET /api/v2/logs: the reply is "
			"not an array of log events" );
		cJSON_Delete( c.ca_json );
		return AUTH0_ERR_JSON;
	}
	id = auth0_json_str( cJSON_GetArrayItem( c.ca_json, 0 ), "log_id" );
	if ( cJSON_GetArraySize( c.ca_json ) > 0 && !auth0_logs_valid_id( id ) ) {
		snprintf( errbuf, AUTH0_ERRLEN, "GET /api/v2/logs: the newest "
			"event has no valid log_id" );
		cJSON_Delete( c.ca_json );
		return AUTH0_ERR_JSON;
	}
	*log_id = strdup( id ? id : "0" );
	cJSON_Delete( c.ca_json );
	return *log_id ? AUTH0_OK : AUTH0_ERR_NOMEM;
}

/* GET /api/v2/users/{id}: *user is the record, or NULL when it is gone. */
int
auth0_logs_user( struct auth0_api *api, const char *id, cJSON **user,
	char *errbuf )
{
	struct auth0_call c;
	char *eid = auth0_api_escape( id ), *path;
	int rc;

	*user = NULL;
	path = eid ? malloc( strlen( eid ) + sizeof( "/api/v2/users/" ) ) : NULL;
	if ( path == NULL ) {
		free( eid );
		return AUTH0_ERR_NOMEM;
	}
	sprintf( path, "/api/v2/users/%s", eid );
	rc = auth0_api_get( api, &c, path, NULL, errbuf );
	if ( rc && c.ca_status == 404 ) {
		rc = AUTH0_OK;
	} else if ( rc == AUTH0_OK && !cJSON_IsObject( c.ca_json ) ) {
		snprintf( errbuf, AUTH0_ERRLEN, "GET /api/v2/users/{id}: the "
			"reply is not a user object" );
		cJSON_Delete( c.ca_json );
		rc = AUTH0_ERR_JSON;
	} else if ( rc == AUTH0_OK ) {
		*user = c.ca_json;
	}
	free( path );
	free( eid );
	return rc;
}
