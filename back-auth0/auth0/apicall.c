/* apicall.c - one authorised call to an Auth0 API for back-auth0 */
/*
 * Every API request of the clients (mgmt.c, export.c, authz.c) goes
 * through auth0_api_call(): it attaches the token of the call's audience
 * (token.c), sends the request (request.c) and renews the token once on
 * a 401.  auth0_api_init() sets the defaults of a tenant's settings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "model.h"
#include "http.h"
#include "api.h"

/* Defaults for settings left at 0 (or unset) by the caller. */
#define AUTH0_API_MAX_WAIT	60.0
#define AUTH0_API_POLL		1.0
#define AUTH0_API_EXPORT_TIME	3600.0
#define AUTH0_API_PAGE_CAP	1000
#define AUTH0_AUTHZ_AUDIENCE	"urn:auth0-authz-api"

static char *
concat( const char *a, const char *b )
{
	size_t la = strlen( a ), lb = strlen( b );
	char *s = malloc( la + lb + 1 );

	if ( s == NULL )
		return NULL;
	memcpy( s, a, la );
	memcpy( s + la, b, lb + 1 );
	return s;
}

void
auth0_api_init( struct auth0_api *api, const struct auth0_api_conf *conf,
	struct auth0_transport *tr )
{
	struct auth0_api_conf *c = &api->ap_conf;

	memset( api, 0, sizeof( *api ) );
	*c = *conf;
	api->ap_tr = tr;
	if ( c->ac_max_retries < 0 )
		c->ac_max_retries = 0;
	if ( c->ac_max_wait <= 0 )
		c->ac_max_wait = AUTH0_API_MAX_WAIT;
	if ( c->ac_poll_interval <= 0 )
		c->ac_poll_interval = AUTH0_API_POLL;
	if ( c->ac_export_timeout <= 0 )
		c->ac_export_timeout = AUTH0_API_EXPORT_TIME;
	if ( c->ac_page_cap <= 0 )
		c->ac_page_cap = AUTH0_API_PAGE_CAP;
	if ( c->ac_authz_audience == NULL )
		c->ac_authz_audience = AUTH0_AUTHZ_AUDIENCE;
	/* a NULL audience makes auth0_token_get() fail with a clear error */
	if ( c->ac_audience )
		api->ap_mgmt_token.tk_audience = strdup( c->ac_audience );
	else if ( c->ac_base )
		api->ap_mgmt_token.tk_audience = concat( c->ac_base,
			"/api/v2/" );
	api->ap_authz_token.tk_audience = strdup( c->ac_authz_audience );
}

void
auth0_api_destroy( struct auth0_api *api )
{
	auth0_token_free( &api->ap_mgmt_token );
	auth0_token_free( &api->ap_authz_token );
}

/*
 * Reports one warning about the data through m->sn_warn; with capped,
 * only while at most AUTH0_MAX_WARNINGS records were bad (as snapdir.c).
 */
void
auth0_api_warn( struct auth0_model *m, int capped, const char *fmt, ... )
{
	char msg[AUTH0_ERRLEN + 128];
	va_list ap;

	if ( m->sn_warn == NULL )
		return;
	if ( capped && m->sn_bad > AUTH0_MAX_WARNINGS )
		return;
	va_start( ap, fmt );
	vsnprintf( msg, sizeof( msg ), fmt, ap );
	va_end( ap );
	m->sn_warn( m->sn_warn_arg, msg );
}

/*
 * The result of adding one resource's records to m: a few bad records
 * (AUTH0_ERR_DATA) are reported and do not fail the resource; any other
 * error is copied into errbuf.
 */
int
auth0_api_result( struct auth0_model *m, int rc, const char *err,
	char *errbuf )
{
	if ( rc == AUTH0_ERR_DATA ) {
		auth0_api_warn( m, 0, "%s", err );
		return AUTH0_OK;
	}
	if ( rc )
		snprintf( errbuf, AUTH0_ERRLEN, "%s", err );
	return rc;
}

static struct auth0_token *
token_of( struct auth0_api *api, int auth )
{
	return auth == AUTH0_AUTH_AUTHZ ? &api->ap_authz_token :
		&api->ap_mgmt_token;
}

/*
 * Performs c with the token of its audience: on success c->ca_json holds
 * the parsed reply (the caller deletes it; NULL for a streamed body).
 * Returns AUTH0_OK or an error with errbuf set; c->ca_status is the last
 * HTTP status (0 if none).
 */
int
auth0_api_call( struct auth0_api *api, struct auth0_call *c, char *errbuf )
{
	const char *token = NULL;
	int rc, renewed = 0;

	for ( ;; ) {
		if ( c->ca_auth != AUTH0_AUTH_NONE ) {
			rc = auth0_token_get( api, token_of( api, c->ca_auth ),
				&token, errbuf );
			if ( rc )
				return rc;
		}
		rc = auth0_request( api, c, token, errbuf );
		if ( rc != AUTH0_ERR_HTTP || c->ca_status != 401 || token == NULL ||
				renewed || c->ca_streamed )
			return rc;
		/* expired or revoked early: one new token, one more try */
		renewed = 1;
		auth0_token_drop( token_of( api, c->ca_auth ) );
		api->ap_stats.as_retries++;
	}
}

/* One GET of the Management API with its token; the reply is in c->ca_json. */
int
auth0_api_get( struct auth0_api *api, struct auth0_call *c, const char *path,
	const char *const *query, char *errbuf )
{
	memset( c, 0, sizeof( *c ) );
	c->ca_method = "GET";
	c->ca_path = path;
	c->ca_query = query;
	c->ca_auth = AUTH0_AUTH_MGMT;
	return auth0_api_call( api, c, errbuf );
}
