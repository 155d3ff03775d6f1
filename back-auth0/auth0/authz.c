/* authz.c - the Authorization Extension API source of back-auth0 */
/*
 * With auth0-authz-url set: a token for the extension's audience, then
 * GET {url}/groups, /roles and /permissions (auth0-api.md section 7; all
 * three unpaginated, {"groups": [...], "total": N} and so on), put
 * together in the shape of the extension's configuration export and
 * handed to the model, which resolves permission ids to names and
 * flatten.c the nesting.  Nothing reaches the model unless all three
 * arrived.  Runs in the refresh task's thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "model.h"
#include "http.h"
#include "api.h"

static const char *const authz_lists[] = { "groups", "roles", "permissions",
	NULL };

/* GET {url}/name; moves its array "name" into all. */
static int
authz_list( struct auth0_api *api, const char *name, cJSON *all,
	char *errbuf )
{
	struct auth0_call c;
	char path[32];
	cJSON *arr;
	int rc;

	snprintf( path, sizeof( path ), "/%s", name );
	memset( &c, 0, sizeof( c ) );
	c.ca_method = "GET";
	c.ca_base = api->ap_conf.ac_authz_url;
	c.ca_path = path;
	c.ca_auth = AUTH0_AUTH_AUTHZ;
	rc = auth0_api_call( api, &c, errbuf );
	if ( rc )
		return rc;
	arr = cJSON_DetachItemFromObjectCaseSensitive( c.ca_json, name );
	cJSON_Delete( c.ca_json );
	if ( !cJSON_IsArray( arr ) ) {
		cJSON_Delete( arr );
		snprintf( errbuf, AUTH0_ERRLEN, "reply has no \"%s\" array "
			"(GET %s)", name, path );
		return AUTH0_ERR_JSON;
	}
	cJSON_AddItemToObject( all, name, arr );
	return AUTH0_OK;
}

/* Groups, roles and permissions of the extension to m. */
int
auth0_authz_fetch( struct auth0_api *api, struct auth0_model *m,
	char *errbuf )
{
	char err[AUTH0_ERRLEN];
	cJSON *all = cJSON_CreateObject();
	const char *const *n;
	int rc = AUTH0_OK;

	if ( all == NULL ) {
		snprintf( errbuf, AUTH0_ERRLEN, "out of memory" );
		return AUTH0_ERR_NOMEM;
	}
	for ( n = authz_lists; *n && rc == AUTH0_OK; n++ )
		rc = authz_list( api, *n, all, errbuf );
	if ( rc == AUTH0_OK ) {
		err[0] = '\0';
		rc = auth0_model_add_authz( m, all, err );
		/* a few bad records are reported; they do not fail it */
		if ( rc == AUTH0_ERR_DATA ) {
			auth0_api_warn( m, 0, "%s", err );
			rc = AUTH0_OK;
		} else if ( rc )
			snprintf( errbuf, AUTH0_ERRLEN, "%s", err );
	}
	cJSON_Delete( all );
	return rc;
}
