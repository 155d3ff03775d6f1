/* request.c - one HTTP request of back-auth0's API clients */
/*
 * auth0_request() builds the URL, keeps to the configured request rate
 * and to the tenant's x-ratelimit-* headers, retries 429, 5xx and
 * transport failures within ac_max_retries, and parses the JSON reply
 * (auth0-api.md sections 2 and 9).  The bearer token is the caller's
 * (apicall.c for the APIs, token.c asks for tokens without one).  An
 * error names the method, the path, the status and Auth0's own error and
 * message, never a token, secret or query string.  An auth0_api is never
 * shared between threads.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "model.h"
#include "http.h"
#include "api.h"

/* What auth0_api_call() does with an answer. */
enum { CALL_OK, CALL_RETRY, CALL_FAIL };

/* Counts what a streamed body delivered: such a call is never repeated. */
struct sunk {
	auth0_http_sink	*sk_sink;
	void		*sk_arg;
	size_t		sk_bytes;
};

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

/* Sends c once (bearer token, headers, rate limit); fills *r. */
static int
send_once( struct auth0_api *api, const struct auth0_call *c,
	const char *token, const char *url, struct sunk *sk,
	struct auth0_http_resp *r, char *errbuf )
{
	struct auth0_transport *tr = api->ap_tr;
	struct auth0_http_req rq;
	const char *hdrs[4];
	char *auth = NULL;
	size_t alen = 0;
	int n = 0;

	if ( token ) {
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
	int *rc, char *errbuf )
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
 * Performs c with token as its bearer (NULL: none).  On success c->ca_json
 * holds the parsed reply (the caller deletes it; NULL for a streamed
 * body).  Returns AUTH0_OK or an error with errbuf set; c->ca_status is
 * the last HTTP status (0 if none), c->ca_streamed what reached the sink.
 * A 401 is not retried here: renewing the token is the caller's.
 */
int
auth0_request( struct auth0_api *api, struct auth0_call *c,
	const char *token, char *errbuf )
{
	struct auth0_http_resp r;
	struct sunk sk = { c->ca_sink, c->ca_sink_arg, 0 };
	const char *base = c->ca_base ? c->ca_base : api->ap_conf.ac_base;
	char *url = NULL;
	int rc = AUTH0_OK, tries = 0, verdict;

	c->ca_json = NULL;
	c->ca_status = 0;
	c->ca_streamed = 0;
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
		rc = send_once( api, c, token, url, &sk, &r, errbuf );
		if ( rc )
			goto done;
		c->ca_status = r.rs_status;
		verdict = judge( api, c, &r, &sk, &tries, &rc, errbuf );
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
	c->ca_streamed = sk.sk_bytes;
	if ( c->ca_secret && r.rs_body )
		explicit_bzero( r.rs_body, r.rs_len );
	auth0_http_resp_free( &r );
	free( url );
	return rc;
}
