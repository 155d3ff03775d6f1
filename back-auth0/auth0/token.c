/* token.c - client-credentials tokens for back-auth0's API clients */
/*
 * One token per audience (the Management API, the Authorization
 * Extension), obtained from POST /oauth/token with the client-credentials
 * grant (auth0-api.md 1.1) and cached until a minute before it expires;
 * apicall.c drops it on a 401 and asks once more.  The request body holds
 * the client secret and the reply the token: both are wiped before their
 * memory is freed, and neither ever appears in a message.  Errors name
 * the audience, since a refused grant is about one API.  Runs in the
 * refresh task's thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "model.h"
#include "http.h"
#include "api.h"

#define AUTH0_TOKEN_MARGIN	60.0	/* renewed this long before expiry */
#define AUTH0_TOKEN_TTL		86400	/* when expires_in is absent */

static void
wipe_str( char *s )
{
	if ( s )
		explicit_bzero( s, strlen( s ) );
}

void
auth0_token_drop( struct auth0_token *tk )
{
	if ( tk->tk_value ) {
		wipe_str( tk->tk_value );
		free( tk->tk_value );
	}
	tk->tk_value = NULL;
	tk->tk_expires = 0;
}

void
auth0_token_free( struct auth0_token *tk )
{
	auth0_token_drop( tk );
	free( tk->tk_audience );
	tk->tk_audience = NULL;
}

/*
 * The grant as JSON text, printed into a buffer of our own so that no
 * copy of the secret is left in freed memory.  The caller wipes and
 * frees it; NULL when out of memory.
 */
static char *
grant_body( const struct auth0_api_conf *ac, const char *audience,
	size_t *size )
{
	cJSON *o = cJSON_CreateObject(), *sec;
	char *text = NULL;

	/* JSON escaping makes a character at most 6 bytes long */
	*size = 128 + 6 * ( strlen( ac->ac_client_id ) +
		strlen( ac->ac_client_secret ) + strlen( audience ) );
	if ( o == NULL )
		return NULL;
	if ( cJSON_AddStringToObject( o, "grant_type", "client_credentials" ) &&
			cJSON_AddStringToObject( o, "client_id",
				ac->ac_client_id ) &&
			cJSON_AddStringToObject( o, "client_secret",
				ac->ac_client_secret ) &&
			cJSON_AddStringToObject( o, "audience", audience ) )
		text = calloc( 1, *size );
	if ( text && !cJSON_PrintPreallocated( o, text, (int)*size, 0 ) ) {
		free( text );
		text = NULL;
	}
	sec = cJSON_GetObjectItemCaseSensitive( o, "client_secret" );
	if ( cJSON_IsString( sec ) )
		wipe_str( sec->valuestring );
	cJSON_Delete( o );
	return text;
}

/* errbuf: what went wrong, for which audience, and a hint when clear. */
static int
token_error( const struct auth0_token *tk, int rc, long status,
	const char *err, char *errbuf )
{
	const char *hint = "";
	size_t n;

	if ( status == 401 )
		hint = "; check the client id and secret";
	else if ( status == 403 && strstr( err, "client-grant" ) )
		hint = "; the client needs a grant for this API";
	/* the audience first: a long reason may be cut, never the API */
	snprintf( errbuf, AUTH0_ERRLEN, "token for %.100s: ", tk->tk_audience );
	n = strlen( errbuf );
	snprintf( errbuf + n, AUTH0_ERRLEN - n, "%s%s", err, hint );
	/* a refusal (4xx) is about credentials or grants, not the network */
	if ( rc == AUTH0_ERR_HTTP && status >= 400 && status < 500 &&
			status != 429 )
		return AUTH0_ERR_AUTH;
	return rc;
}

/* POST /oauth/token; on success tk holds a fresh token. */
static int
token_request( struct auth0_api *api, struct auth0_token *tk, double t0,
	char *errbuf )
{
	const struct auth0_api_conf *ac = &api->ap_conf;
	struct auth0_call c;
	char err[AUTH0_ERRLEN], *body = NULL;
	cJSON *v;
	size_t size = 0;
	int rc;

	memset( &c, 0, sizeof( c ) );
	if ( tk->tk_audience == NULL || ac->ac_client_id == NULL ||
			ac->ac_client_secret == NULL ) {
		snprintf( errbuf, AUTH0_ERRLEN, "token: no client id, client "
			"secret or audience configured" );
		return AUTH0_ERR_CONFIG;
	}
	body = grant_body( ac, tk->tk_audience, &size );
	if ( body == NULL ) {
		snprintf( errbuf, AUTH0_ERRLEN, "out of memory" );
		return AUTH0_ERR_NOMEM;
	}
	c.ca_method = "POST";
	c.ca_path = "/oauth/token";
	c.ca_body = body;
	c.ca_auth = AUTH0_AUTH_NONE;
	c.ca_secret = 1;
	rc = auth0_request( api, &c, NULL, err );
	explicit_bzero( body, size );
	free( body );
	if ( rc ) {
		rc = token_error( tk, rc, c.ca_status, err, errbuf );
		goto done;
	}
	v = cJSON_GetObjectItemCaseSensitive( c.ca_json, "access_token" );
	if ( !cJSON_IsString( v ) || v->valuestring[0] == '\0' ) {
		snprintf( errbuf, AUTH0_ERRLEN, "token for %s: the reply has "
			"no access_token (POST /oauth/token)", tk->tk_audience );
		rc = AUTH0_ERR_AUTH;
		goto done;
	}
	tk->tk_value = strdup( v->valuestring );
	wipe_str( v->valuestring );
	if ( tk->tk_value == NULL ) {
		snprintf( errbuf, AUTH0_ERRLEN, "out of memory" );
		rc = AUTH0_ERR_NOMEM;
		goto done;
	}
	/* measured from before the request: errs on the early side */
	tk->tk_expires = t0 + (double)auth0_json_long( c.ca_json, "expires_in",
		AUTH0_TOKEN_TTL );
	api->ap_stats.as_tokens++;
done:
	cJSON_Delete( c.ca_json );
	return rc;
}

/*
 * The token for tk's audience in *value (borrowed: valid until the next
 * call for this audience): the cached one while it has more than a
 * minute left, else a new one.
 */
int
auth0_token_get( struct auth0_api *api, struct auth0_token *tk,
	const char **value, char *errbuf )
{
	struct auth0_transport *tr = api->ap_tr;
	double t = tr->tr_now( tr->tr_ctx );
	int rc;

	if ( tk->tk_value && t + AUTH0_TOKEN_MARGIN < tk->tk_expires ) {
		*value = tk->tk_value;
		return AUTH0_OK;
	}
	auth0_token_drop( tk );
	rc = token_request( api, tk, t, errbuf );
	if ( rc == AUTH0_OK )
		*value = tk->tk_value;
	return rc;
}
