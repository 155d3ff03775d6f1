/* http.c - the libcurl transport of back-auth0 */
/*
 * Implements struct auth0_transport (http.h) with one libcurl easy handle
 * per transport, so a refresh or a bind thread reuses its connection
 * (keep-alive) and no handle is ever shared between threads.  Only https
 * is allowed, the peer and host name are always verified (auth0-ca-file
 * adds a trust anchor to the system's), signals are off (slapd is
 * threaded), and an in-memory body is capped.  The caller may be told
 * of each request (auth0_curl_trace) without its query, headers or body.  A proxy is used only
 * when configured (auth0_curl_proxy): https_proxy, ALL_PROXY and NO_PROXY
 * from slapd's environment are ignored.  Nothing here logs: the
 * callers decide what to say, and never a header, a body or a query.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>

#include "model.h"
#include "http.h"
#include "httpcurl.h"

struct auth0_curl {
	CURL	*cu_easy;
	char	*cu_ca_file;
	long	cu_timeout;		/* seconds per request */
	char	*cu_proxy;		/* NULL: no proxy at all */
	char	*cu_proxy_cred;		/* user:password, or NULL */
	auth0_curl_trace_fn	*cu_trace;	/* or NULL */
	void	*cu_trace_arg;
};

/* Where the body of the transfer in progress goes. */
struct body {
	auth0_http_sink		*bd_sink;
	void			*bd_arg;
	char			*bd_buf;
	size_t			bd_len, bd_cap;
	int			bd_err;		/* AUTH0_HTTP_E_* */
};

static size_t
on_body( char *data, size_t size, size_t n, void *arg )
{
	struct body *b = arg;
	size_t len = size * n;

	if ( b->bd_sink ) {
		if ( b->bd_sink( b->bd_arg, data, len ) ) {
			b->bd_err = AUTH0_HTTP_E_SINK;
			return 0;
		}
		return len;
	}
	if ( b->bd_len + len > (size_t)AUTH0_HTTP_MAX_BODY ) {
		b->bd_err = AUTH0_HTTP_E_TOOBIG;
		return 0;
	}
	if ( b->bd_len + len + 1 > b->bd_cap ) {
		size_t cap = ( b->bd_len + len + 1 ) * 2;
		char *n2 = realloc( b->bd_buf, cap );
		if ( n2 == NULL ) {
			b->bd_err = AUTH0_HTTP_E_TOOBIG;
			return 0;
		}
		b->bd_buf = n2;
		b->bd_cap = cap;
	}
	memcpy( b->bd_buf + b->bd_len, data, len );
	b->bd_len += len;
	b->bd_buf[b->bd_len] = '\0';
	return len;
}

/* Header value as a long when the line is "name: value". */
static int
header_long( const char *line, size_t len, const char *name, long *out )
{
	size_t n = strlen( name );
	char buf[32];
	size_t i, j = 0;

	if ( len <= n || strncasecmp( line, name, n ) != 0 || line[n] != ':' )
		return 0;
	for ( i = n + 1; i < len && j < sizeof( buf ) - 1; i++ )
		if ( line[i] >= '0' && line[i] <= '9' )
			buf[j++] = line[i];
		else if ( j > 0 )
			break;
	if ( j == 0 )
		return 0;
	buf[j] = '\0';
	*out = strtol( buf, NULL, 10 );
	return 1;
}

static size_t
on_header( char *line, size_t size, size_t n, void *arg )
{
	struct auth0_http_resp *r = arg;
	size_t len = size * n;
	long v;

	if ( header_long( line, len, "x-ratelimit-remaining", &v ) )
		r->rs_rl_remaining = v;
	else if ( header_long( line, len, "x-ratelimit-reset", &v ) )
		r->rs_rl_reset = (time_t)v;
	else if ( header_long( line, len, "retry-after", &v ) )
		r->rs_retry_after = v;
	return len;
}

static int
classify( CURLcode cc )
{
	switch ( cc ) {
	case CURLE_OPERATION_TIMEDOUT:
		return AUTH0_HTTP_E_TIMEOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return AUTH0_HTTP_E_TLS;
	default:
		return AUTH0_HTTP_E_NETWORK;
	}
}

/* Only the configured proxy: an empty CURLOPT_PROXY stops libcurl from
 * reading one from the environment, an empty CURLOPT_NOPROXY from
 * exempting hosts by no_proxy. */
static void
set_proxy( struct auth0_curl *cu, CURL *h )
{
	curl_easy_setopt( h, CURLOPT_PROXY, cu->cu_proxy ? cu->cu_proxy : "" );
	curl_easy_setopt( h, CURLOPT_NOPROXY, "" );
	if ( cu->cu_proxy == NULL )
		return;
	curl_easy_setopt( h, CURLOPT_PROXY_SSL_VERIFYPEER, 1L );
	curl_easy_setopt( h, CURLOPT_PROXY_SSL_VERIFYHOST, 2L );
	if ( cu->cu_ca_file ) {
		curl_easy_setopt( h, CURLOPT_PROXY_CAINFO, cu->cu_ca_file );
		curl_easy_setopt( h, CURLOPT_PROXY_CAPATH, "/etc/ssl/certs" );
	}
	if ( cu->cu_proxy_cred ) {
		curl_easy_setopt( h, CURLOPT_PROXYUSERPWD, cu->cu_proxy_cred );
		curl_easy_setopt( h, CURLOPT_PROXYAUTH, CURLAUTH_BASIC );
	}
}

static void
set_options( struct auth0_curl *cu, const struct auth0_http_req *req,
	struct curl_slist *hdrs, struct body *b, struct auth0_http_resp *r,
	char *errbuf )
{
	CURL *h = cu->cu_easy;

	curl_easy_reset( h );
	curl_easy_setopt( h, CURLOPT_URL, req->rq_url );
	curl_easy_setopt( h, CURLOPT_PROTOCOLS_STR, "https" );
	curl_easy_setopt( h, CURLOPT_NOSIGNAL, 1L );
	curl_easy_setopt( h, CURLOPT_SSL_VERIFYPEER, 1L );
	curl_easy_setopt( h, CURLOPT_SSL_VERIFYHOST, 2L );
	if ( cu->cu_ca_file ) {
		/* an extra anchor: the system's stay trusted as well */
		curl_easy_setopt( h, CURLOPT_CAINFO, cu->cu_ca_file );
		curl_easy_setopt( h, CURLOPT_CAPATH, "/etc/ssl/certs" );
	}
	set_proxy( cu, h );
	if ( req->rq_low_speed > 0 && req->rq_low_speed_time > 0 ) {
		curl_easy_setopt( h, CURLOPT_TIMEOUT, 0L );
		curl_easy_setopt( h, CURLOPT_LOW_SPEED_LIMIT, req->rq_low_speed );
		curl_easy_setopt( h, CURLOPT_LOW_SPEED_TIME,
			req->rq_low_speed_time );
	} else {
		curl_easy_setopt( h, CURLOPT_TIMEOUT, cu->cu_timeout );
	}
	curl_easy_setopt( h, CURLOPT_CONNECTTIMEOUT, cu->cu_timeout );
	curl_easy_setopt( h, CURLOPT_HTTPHEADER, hdrs );
	curl_easy_setopt( h, CURLOPT_WRITEFUNCTION, on_body );
	curl_easy_setopt( h, CURLOPT_WRITEDATA, b );
	curl_easy_setopt( h, CURLOPT_HEADERFUNCTION, on_header );
	curl_easy_setopt( h, CURLOPT_HEADERDATA, r );
	curl_easy_setopt( h, CURLOPT_ERRORBUFFER, errbuf );
	curl_easy_setopt( h, CURLOPT_USERAGENT, "back-auth0" );
	/* no Accept-Encoding: zlib's crc32 would bind to slapd's own crc32
	 * (export.c inflates raw deflate for that reason) */
	if ( req->rq_body ) {
		curl_easy_setopt( h, CURLOPT_POSTFIELDS, req->rq_body );
		curl_easy_setopt( h, CURLOPT_POSTFIELDSIZE, (long)req->rq_body_len );
	}
	if ( req->rq_method && strcmp( req->rq_method, "GET" ) != 0 &&
			strcmp( req->rq_method, "POST" ) != 0 )
		curl_easy_setopt( h, CURLOPT_CUSTOMREQUEST, req->rq_method );
}

static long
ms_since( const struct timespec *t0 )
{
	struct timespec t1;

	clock_gettime( CLOCK_MONOTONIC, &t1 );
	return (long)( t1.tv_sec - t0->tv_sec ) * 1000 +
		( t1.tv_nsec - t0->tv_nsec ) / 1000000;
}

/* Tells the trace hook: host and path cut out of the URL, no query (a
 * pre-signed download URL carries its signature there). */
static void
trace( struct auth0_curl *cu, const struct auth0_http_req *req, long status,
	const struct timespec *t0, const char *error )
{
	const char *u = req->rq_url, *h, *p;
	char host[256], path[512];
	size_t n;

	if ( cu->cu_trace == NULL || u == NULL )
		return;
	h = strstr( u, "://" );
	h = h ? h + 3 : u;
	n = strcspn( h, "/?#" );
	snprintf( host, sizeof( host ), "%.*s", (int)n, h );
	p = h + n;
	n = strcspn( p, "?#" );
	if ( n == 0 )
		snprintf( path, sizeof( path ), "/" );
	else
		snprintf( path, sizeof( path ), "%.*s", (int)n, p );
	cu->cu_trace( cu->cu_trace_arg, req->rq_method ? req->rq_method : "GET",
		host, path, status, ms_since( t0 ), error );
}

static int
curl_request( void *ctx, const struct auth0_http_req *req,
	auth0_http_sink *sink, void *sink_arg, struct auth0_http_resp *r )
{
	struct auth0_curl *cu = ctx;
	struct body b = { sink, sink_arg, NULL, 0, 0, 0 };
	struct curl_slist *hdrs = NULL;
	const char *const *hp;
	char errbuf[CURL_ERROR_SIZE];
	struct timespec t0;
	CURLcode cc;

	clock_gettime( CLOCK_MONOTONIC, &t0 );
	memset( r, 0, sizeof( *r ) );
	r->rs_rl_remaining = -1;
	r->rs_retry_after = -1;
	errbuf[0] = '\0';
	for ( hp = req->rq_headers; hp && *hp; hp++ )
		hdrs = curl_slist_append( hdrs, *hp );
	set_options( cu, req, hdrs, &b, r, errbuf );
	cc = curl_easy_perform( cu->cu_easy );
	/* the request's headers may hold a token: do not keep them around */
	curl_easy_setopt( cu->cu_easy, CURLOPT_HTTPHEADER, NULL );
	curl_easy_setopt( cu->cu_easy, CURLOPT_POSTFIELDS, NULL );
	curl_slist_free_all( hdrs );
	if ( cc == CURLE_OK ) {
		curl_easy_getinfo( cu->cu_easy, CURLINFO_RESPONSE_CODE,
			&r->rs_status );
		r->rs_body = b.bd_buf ? b.bd_buf : ( sink ? NULL : strdup( "" ) );
		r->rs_len = b.bd_len;
		trace( cu, req, r->rs_status, &t0, NULL );
		return 0;
	}
	free( b.bd_buf );
	r->rs_transport = b.bd_err ? b.bd_err : classify( cc );
	snprintf( r->rs_error, sizeof( r->rs_error ), "%s",
		errbuf[0] ? errbuf : curl_easy_strerror( cc ) );
	trace( cu, req, 0, &t0, r->rs_error );
	return r->rs_transport;
}

static void
curl_sleep( void *ctx, double seconds )
{
	struct timespec ts;

	if ( seconds <= 0 )
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)( ( seconds - (double)ts.tv_sec ) * 1e9 );
	while ( nanosleep( &ts, &ts ) != 0 && errno == EINTR )
		;
}

static double
curl_now( void *ctx )
{
	struct timespec ts;

	clock_gettime( CLOCK_REALTIME, &ts );
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A transport over a new easy handle.  ca_file may be NULL; timeout is
 * seconds per request.  Returns NULL when libcurl cannot make a handle.
 */
struct auth0_transport *
auth0_curl_new( const char *ca_file, long timeout )
{
	struct auth0_transport *tr = calloc( 1, sizeof( *tr ) );
	struct auth0_curl *cu = calloc( 1, sizeof( *cu ) );

	if ( tr == NULL || cu == NULL ||
			( cu->cu_easy = curl_easy_init() ) == NULL ||
			( ca_file && ( cu->cu_ca_file = strdup( ca_file ) ) == NULL ) ) {
		if ( cu && cu->cu_easy )
			curl_easy_cleanup( cu->cu_easy );
		free( cu );
		free( tr );
		return NULL;
	}
	cu->cu_timeout = timeout > 0 ? timeout : 30;
	tr->tr_request = curl_request;
	tr->tr_sleep = curl_sleep;
	tr->tr_now = curl_now;
	tr->tr_ctx = cu;
	return tr;
}

static void
wipe_free( char *s )
{
	if ( s ) {
		memset( s, 0, strlen( s ) );
		free( s );
	}
}

/*
 * Sends every request of tr through the proxy url (NULL: none, the
 * environment's neither), authenticated with cred ("user:password", may
 * be NULL).  0, or -1 when out of memory (then no proxy is set).
 */
int
auth0_curl_proxy( struct auth0_transport *tr, const char *url,
	const char *cred )
{
	struct auth0_curl *cu = tr->tr_ctx;
	char *u = url ? strdup( url ) : NULL;
	char *c = url && cred ? strdup( cred ) : NULL;

	if ( ( url && u == NULL ) || ( url && cred && c == NULL ) ) {
		free( u );
		wipe_free( c );
		return -1;
	}
	free( cu->cu_proxy );
	wipe_free( cu->cu_proxy_cred );
	cu->cu_proxy = u;
	cu->cu_proxy_cred = c;
	return 0;
}

void
auth0_curl_trace( struct auth0_transport *tr, auth0_curl_trace_fn *fn,
	void *arg )
{
	struct auth0_curl *cu = tr->tr_ctx;

	cu->cu_trace = fn;
	cu->cu_trace_arg = arg;
}

void
auth0_curl_free( struct auth0_transport *tr )
{
	struct auth0_curl *cu;

	if ( tr == NULL )
		return;
	cu = tr->tr_ctx;
	curl_easy_cleanup( cu->cu_easy );
	free( cu->cu_ca_file );
	free( cu->cu_proxy );
	wipe_free( cu->cu_proxy_cred );
	free( cu );
	free( tr );
}

void
auth0_http_resp_free( struct auth0_http_resp *resp )
{
	free( resp->rs_body );
	resp->rs_body = NULL;
	resp->rs_len = 0;
}
