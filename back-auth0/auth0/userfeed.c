/* userfeed.c - users handed to the model, from search pages or exports */
/*
 * Both ways of reading users end here: mgmt.c's search pages and
 * export.c's NDJSON lines.  A user found through a connection it is only
 * linked to is left to its primary connection's read.
 */
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "model.h"
#include "http.h"
#include "api.h"

/* identities[0].connection, else "connection" (as model.c reads it). */
static const char *
primary_connection( const cJSON *obj )
{
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive( obj,
		"identities" );
	const cJSON *first = cJSON_IsArray( ids ) ? cJSON_GetArrayItem( ids, 0 )
		: NULL;
	const char *conn = first ? auth0_json_str( first, "connection" ) : NULL;

	return conn ? conn : auth0_json_str( obj, "connection" );
}

/*
 * Hands one user record to the model.  Search by identities.connection
 * also finds users merely linked to the connection: a user whose primary
 * connection is another selected one comes from that connection's search.
 * Returns what auth0_model_add_user() returns.
 */
int
auth0_feed_user( struct auth0_feed *fd, const cJSON *obj, char *errbuf )
{
	struct auth0_api *api = fd->fd_api;
	const char *primary;
	int rc;

	if ( fd->fd_conn && cJSON_IsObject( obj ) &&
			( primary = primary_connection( obj ) ) != NULL &&
			strcmp( primary, fd->fd_conn ) != 0 &&
			auth0_model_selected( fd->fd_sel, primary ) ) {
		fd->fd_m->sn_skipped++;
		return AUTH0_OK;
	}
	rc = auth0_model_add_user( fd->fd_m, obj, fd->fd_sel, errbuf );
	fd->fd_done++;
	if ( api->ap_progress && fd->fd_done % AUTH0_PROGRESS_STEP == 0 )
		api->ap_progress( api->ap_progress_arg, "users", fd->fd_done,
			fd->fd_total );
	return rc;
}
