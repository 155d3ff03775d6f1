/* apicall.c - one call to an Auth0 API for back-auth0 */
/*
 * Every request of the API clients goes through auth0_api_call(): it
 * builds the URL, attaches the token of the call's audience, keeps to
 * the configured request rate and to the tenant's x-ratelimit-* headers,
 * retries 429, 5xx and transport failures within ac_max_retries, renews
 * the token once on 401, and parses the JSON reply (auth0-api.md sections
 * 2 and 9).  An error names the method, the path, the status and Auth0's
 * own error and message, never a token, secret or query string.
 *
 * auth0_api_fetch() runs the resources one after another; one that fails
 * is flagged in the model and the others still run.  Runs in the refresh
 * task's thread; an auth0_api is never shared between threads.
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

/* What auth0_api_call() does with an answer. */
enum { CALL_OK, CALL_RETRY, CALL_FAIL };

/* Counts what a streamed body delivered: such a call is never repeated. */
struct sunk {
	auth0_http_sink	*sk_sink;
	void		*sk_arg;
	size_t		sk_bytes;
};

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

static int
unreserved( unsigned char ch )
{
	return ( ch >= 'a' && ch <= 'z' ) || ( ch >= 'A' && ch <= 'Z' ) ||
		( ch >= '0' && ch <= '9' ) || ch == '-' || ch == '_' ||
		ch == '.' || ch == '~';
}

/* Percent-encodes s at out (room for 3 * strlen( s )); returns the end. */
static char *
escape_into( char *out, const char *s )
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for ( p = (const unsigned char *)s; *p; p++ ) {
		if ( unreserved( *p ) ) {
			*out++ = (char)*p;
			continue;
		}
		*out++ = '%';
		*out++ = hex[*p >> 4];
		*out++ = hex[*p & 15];
	}
	*out = '\0';
	return out;
}

/* s percent-encoded for a path segment or a query value (malloc'd). */
char *
auth0_api_escape( const char *s )
{
	char *out = malloc( strlen( s ) * 3 + 1 );

	if ( out )
		escape_into( out, s );
	return out;
}

/* base + path + "?name=value&..." with the values encoded (malloc'd). */
static char *
build_url( const char *base, const char *path, const char *const *query )
{
	size_t blen = strlen( base ), len, i;
	char *url, *p;

	/* an extension URL configured with a trailing slash */
	if ( blen && base[blen - 1] == '/' && path[0] == '/' )
		blen--;
	len = blen + strlen( path ) + 1;
	for ( i = 0; query && query[i] && query[i + 1]; i += 2 )
		len += 2 + strlen( query[i] ) + 3 * strlen( query[i + 1] );
	url = malloc( len );
	if ( url == NULL )
		return NULL;
	memcpy( url, base, blen );
	p = stpcpy( url + blen, path );
	for ( i = 0; query && query[i] && query[i + 1]; i += 2 ) {
		*p++ = i ? '&' : '?';
		p = stpcpy( p, query[i] );
		*p++ = '=';
		p = escape_into( p, query[i + 1] );
	}
	*p = '\0';
	return url;
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

static double
now( struct auth0_api *api )
{
	return api->ap_tr->tr_now( api->ap_tr->tr_ctx );
}

/* No request before t (at most ac_max_wait from now). */
static void
hold_until( struct auth0_api *api, double t )
{
	double limit = now( api ) + api->ap_conf.ac_max_wait;

	if ( t > limit )
		t = limit;
	if ( t > api->ap_next_slot )
		api->ap_next_slot = t;
}

/*
 * Waits for the next send slot: requests are spaced 1 / ac_rate apart,
 * and none goes out before a reset the tenant asked us to wait for.
 */
static void
rate_wait( struct auth0_api *api )
{
	struct auth0_transport *tr = api->ap_tr;
	double t = now( api );

	if ( api->ap_next_slot > t ) {
		tr->tr_sleep( tr->tr_ctx, api->ap_next_slot - t );
		t = now( api );
		if ( t < api->ap_next_slot )
			t = api->ap_next_slot;
	}
	if ( api->ap_conf.ac_rate > 0 )
		api->ap_next_slot = t + 1.0 / api->ap_conf.ac_rate;
}

/* Exponential backoff before retry number tries + 1: 0.5 s, 1 s, 2 s ... */
static void
backoff( struct auth0_api *api, int tries )
{
	double wait = 0.5;

	while ( tries-- > 0 && wait < api->ap_conf.ac_max_wait )
		wait *= 2;
	hold_until( api, now( api ) + wait );
}

/* After a 429: until the reset, else retry-after, else backoff. */
static void
wait_429( struct auth0_api *api, const struct auth0_http_resp *r, int tries )
{
	double t = now( api );

	if ( r->rs_rl_reset > 0 && (double)r->rs_rl_reset > t )
		hold_until( api, (double)r->rs_rl_reset );
	else if ( r->rs_retry_after > 0 )
		hold_until( api, t + (double)r->rs_retry_after );
	else
		backoff( api, tries );
}

static struct auth0_token *
token_of( struct auth0_api *api, int auth )
{
	return auth == AUTH0_AUTH_AUTHZ ? &api->ap_authz_token :
		&api->ap_mgmt_token;
}

static int
count_sink( void *arg, const char *data, size_t len )
{
	struct sunk *sk = arg;

	sk->sk_bytes += len;
	return sk->sk_sink( sk->sk_arg, data, len );
}

static void
wipe_free( char *s, size_t len )
{
	if ( s == NULL )
		return;
	explicit_bzero( s, len );
	free( s );
}

static const char *
what( const struct auth0_call *c )
{
	return c->ca_what ? c->ca_what : c->ca_path;
}

/* Sends c once (token, headers, rate limit); fills *r. */
static int
send_once( struct auth0_api *api, const struct auth0_call *c,
	const char *url, struct sunk *sk, struct auth0_http_resp *r,
	char *errbuf )
{
	struct auth0_transport *tr = api->ap_tr;
	struct auth0_http_req rq;
	const char *hdrs[4], *token = NULL;
	char *auth = NULL;
	size_t alen = 0;
	int n = 0, rc;

	if ( c->ca_auth != AUTH0_AUTH_NONE ) {
		rc = auth0_token_get( api, token_of( api, c->ca_auth ), &token,
			errbuf );
		if ( rc )
			return rc;
		alen = strlen( token ) + sizeof( "Authorization: Bearer " );
		auth = malloc( alen );
		if ( auth == NULL ) {
			snprintf( errbuf, AUTH0_ERRLEN, "out of memory" );
			return AUTH0_ERR_NOMEM;
		}
		snprintf( auth, alen, "Authorization: Bearer %s", token );
		hdrs[n++] = auth;
	}
	if ( c->ca_sink == NULL )
		hdrs[n++] = "Accept: application/json";
	if ( c->ca_body )
		hdrs[n++] = "Content-Type: application/json";
	hdrs[n] = NULL;
	memset( &rq, 0, sizeof( rq ) );
	rq.rq_method = c->ca_method;
	rq.rq_url = url;
	rq.rq_headers = hdrs;
	rq.rq_body = c->ca_body;
	rq.rq_body_len = c->ca_body ? strlen( c->ca_body ) : 0;
	rq.rq_no_auth = c->ca_auth == AUTH0_AUTH_NONE;
	rq.rq_low_speed = c->ca_low_speed;
	rq.rq_low_speed_time = c->ca_low_speed_time;
	rate_wait( api );
	api->ap_stats.as_requests++;
	memset( r, 0, sizeof( *r ) );
	r->rs_rl_remaining = -1;
	r->rs_retry_after = -1;
	tr->tr_request( tr->tr_ctx, &rq, c->ca_sink ? count_sink : NULL, sk,
		r );
	wipe_free( auth, alen );
	/* the bucket is empty: the next request waits for its refill */
	if ( r->rs_transport == 0 && r->rs_rl_remaining == 0 &&
			r->rs_rl_reset > 0 )
		hold_until( api, (double)r->rs_rl_reset );
	return AUTH0_OK;
}

static const char *
reason( long status )
{
	switch ( status ) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "HTTP error";
	}
}

/* Control characters from a remote body would garble a log line. */
static void
printable( char *s )
{
	for ( ; *s; s++ )
		if ( (unsigned char)*s < 0x20 || *s == 0x7f )
			*s = ' ';
}

/*
 * "403 insufficient_scope: Insufficient scope, expected any of:
 * read:users (GET /api/v2/users)": Auth0's errorCode (else error) and
 * message (else error_description), which names a missing scope.
 */
static void
status_error( const struct auth0_call *c, const struct auth0_http_resp *r,
	char *errbuf )
{
	cJSON *body = NULL;
	const char *code = NULL, *text = NULL;

	if ( c->ca_sink == NULL && r->rs_body && r->rs_len )
		body = cJSON_ParseWithLength( r->rs_body, r->rs_len );
	if ( cJSON_IsObject( body ) ) {
		code = auth0_json_str( body, "errorCode" );
		if ( code == NULL )
			code = auth0_json_str( body, "error" );
		text = auth0_json_str( body, "message" );
		if ( text == NULL )
			text = auth0_json_str( body, "error_description" );
	}
	if ( code && text )
		snprintf( errbuf, AUTH0_ERRLEN, "%ld %.40s: %.150s (%s %s)",
			r->rs_status, code, text, c->ca_method, what( c ) );
	else
		snprintf( errbuf, AUTH0_ERRLEN, "%ld %.150s (%s %s)",
			r->rs_status, code ? code : text ? text :
			reason( r->rs_status ), c->ca_method, what( c ) );
	printable( errbuf );
	cJSON_Delete( body );
}

static const char *
transport_text( const struct auth0_http_resp *r )
{
	if ( r->rs_error[0] )
		return r->rs_error;
	switch ( r->rs_transport ) {
	case AUTH0_HTTP_E_TIMEOUT: return "timed out";
	case AUTH0_HTTP_E_TLS: return "TLS failure";
	case AUTH0_HTTP_E_TOOBIG: return "reply too large";
	case AUTH0_HTTP_E_SINK: return "download aborted";
	default: return "network failure";
	}
}

/* Accept, retry (the wait is already set) or fail on an answer. */
static int
judge( struct auth0_api *api, const struct auth0_call *c,
	const struct auth0_http_resp *r, const struct sunk *sk, int *tries,
	int *renewed, int *rc, char *errbuf )
{
	/* a streamed body already went to the caller: never repeat it */
	int retry = *tries < api->ap_conf.ac_max_retries && sk->sk_bytes == 0;
	long st = r->rs_status;

	if ( r->rs_transport ) {
		snprintf( errbuf, AUTH0_ERRLEN, "%.160s (%s %s)",
			transport_text( r ), c->ca_method, what( c ) );
		printable( errbuf );
		*rc = AUTH0_ERR_NETWORK;
		/* a certificate that failed will fail again */
		if ( r->rs_transport == AUTH0_HTTP_E_TLS )
			retry = 0;
		if ( retry )
			backoff( api, (*tries)++ );
		return retry ? CALL_RETRY : CALL_FAIL;
	}
	if ( st == 401 && c->ca_auth != AUTH0_AUTH_NONE && !*renewed &&
			sk->sk_bytes == 0 ) {
		/* expired or revoked early: one new token, one more try */
		*renewed = 1;
		auth0_token_drop( token_of( api, c->ca_auth ) );
		return CALL_RETRY;
	}
	if ( st == 429 )
		api->ap_stats.as_429++;
	if ( st >= 200 && st < 300 )
		return CALL_OK;
	status_error( c, r, errbuf );
	*rc = st == 429 ? AUTH0_ERR_RATELIMIT : AUTH0_ERR_HTTP;
	if ( !retry || !( st == 429 || st == 408 || st >= 500 ) )
		return CALL_FAIL;
	if ( st == 429 )
		wait_429( api, r, (*tries)++ );
	else
		backoff( api, (*tries)++ );
	return CALL_RETRY;
}

/* The reply as JSON; malformed or truncated JSON is an error. */
static int
parse_reply( struct auth0_call *c, const struct auth0_http_resp *r,
	char *errbuf )
{
	/* rs_body is NUL-terminated: require that nothing follows the value */
	if ( r->rs_body )
		c->ca_json = cJSON_ParseWithLengthOpts( r->rs_body,
			r->rs_len + 1, NULL, 1 );
	if ( c->ca_json == NULL ) {
		snprintf( errbuf, AUTH0_ERRLEN, "%ld reply is not valid JSON "
			"(truncated or malformed) (%s %s)", r->rs_status,
			c->ca_method, what( c ) );
		return AUTH0_ERR_JSON;
	}
	return AUTH0_OK;
}

/*
 * Performs c: on success c->ca_json holds the parsed reply (the caller
 * deletes it; NULL for a streamed body).  Returns AUTH0_OK or an error
 * with errbuf set; c->ca_status is the last HTTP status (0 if none).
 */
int
auth0_api_call( struct auth0_api *api, struct auth0_call *c, char *errbuf )
{
	struct auth0_http_resp r;
	struct sunk sk = { c->ca_sink, c->ca_sink_arg, 0 };
	const char *base = c->ca_base ? c->ca_base : api->ap_conf.ac_base;
	char *url = NULL;
	int rc = AUTH0_OK, tries = 0, renewed = 0, verdict;

	c->ca_json = NULL;
	c->ca_status = 0;
	memset( &r, 0, sizeof( r ) );
	if ( base == NULL ) {
		snprintf( errbuf, AUTH0_ERRLEN, "no Auth0 domain configured" );
		return AUTH0_ERR_CONFIG;
	}
	url = build_url( base, c->ca_path, c->ca_query );
	if ( url == NULL ) {
		snprintf( errbuf, AUTH0_ERRLEN, "out of memory" );
		return AUTH0_ERR_NOMEM;
	}
	for ( ;; ) {
		rc = send_once( api, c, url, &sk, &r, errbuf );
		if ( rc )
			goto done;
		c->ca_status = r.rs_status;
		verdict = judge( api, c, &r, &sk, &tries, &renewed, &rc,
			errbuf );
		if ( verdict != CALL_RETRY )
			break;
		api->ap_stats.as_retries++;
		auth0_http_resp_free( &r );
	}
	if ( verdict == CALL_OK ) {
		rc = AUTH0_OK;
		if ( c->ca_sink == NULL )
			rc = parse_reply( c, &r, errbuf );
	}
done:
	if ( c->ca_secret && r.rs_body )
		explicit_bzero( r.rs_body, r.rs_len );
	auth0_http_resp_free( &r );
	free( url );
	return rc;
}

/* Marks a resource failed, reports it, keeps the first error. */
static void
failed( struct auth0_model *m, unsigned res, const char *name, int rc,
	const char *err, int *first, char *errbuf )
{
	m->sn_failed |= res;
	/* users missing from a failed fetch must not be deleted */
	if ( res == AUTH0_RES_USERS )
		m->sn_complete = 0;
	auth0_api_warn( m, 0, "%s: %s; the stored data is kept", name, err );
	if ( *first == AUTH0_OK ) {
		*first = rc;
		snprintf( errbuf, AUTH0_ERRLEN, "%s: %s", name, err );
	}
}

int
auth0_api_fetch( struct auth0_api *api, const struct auth0_select *sel,
	struct auth0_model *m, char *errbuf )
{
	char err[AUTH0_ERRLEN];
	const char *token;
	int rc, first = AUTH0_OK;

	errbuf[0] = '\0';
	err[0] = '\0';
	/* a refused token fails every Management API resource: ask once */
	rc = auth0_token_get( api, &api->ap_mgmt_token, &token, err );
	if ( rc ) {
		failed( m, AUTH0_RES_USERS, "users", rc, err, &first, errbuf );
		failed( m, AUTH0_RES_ROLES, "roles", rc, err, &first, errbuf );
		failed( m, AUTH0_RES_CLIENTS, "clients", rc, err, &first,
			errbuf );
	} else {
		rc = auth0_mgmt_users( api, sel, m, err );
		if ( rc )
			failed( m, AUTH0_RES_USERS, "users", rc, err, &first,
				errbuf );
		rc = auth0_mgmt_roles( api, m, err );
		if ( rc )
			failed( m, AUTH0_RES_ROLES, "roles", rc, err, &first,
				errbuf );
		rc = auth0_mgmt_clients( api, m, err );
		if ( rc )
			failed( m, AUTH0_RES_CLIENTS, "clients", rc, err, &first,
				errbuf );
	}
	if ( api->ap_conf.ac_authz_url ) {
		rc = auth0_authz_fetch( api, m, err );
		if ( rc )
			failed( m, AUTH0_RES_AUTHZ, "authz", rc, err, &first,
				errbuf );
	}
	return first;
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
