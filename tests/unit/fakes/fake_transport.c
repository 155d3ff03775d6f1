/* fake_transport.c - canned HTTP replies for back-auth0's unit tests */
/*
 * See fake_transport.h.  Requests no reply matches get a 404 with an
 * Auth0-shaped body and are counted in ft_unmatched, so a test can check
 * that the code asked for nothing unexpected.
 */
#include <stdlib.h>
#include <string.h>

#include "fake_transport.h"

static char *
dup_n( const char *s, size_t n )
{
	char *d = malloc( n + 1 );

	if ( d == NULL )
		abort();
	if ( n )
		memcpy( d, s, n );
	d[n] = '\0';
	return d;
}

static size_t
body_len( const struct fake_reply *r )
{
	if ( r->fr_body == NULL )
		return 0;
	return r->fr_len ? r->fr_len : strlen( r->fr_body );
}

static char *
join_headers( const char *const *h )
{
	size_t len = 1, i;
	char *s;

	for ( i = 0; h && h[i]; i++ )
		len += strlen( h[i] ) + 1;
	s = malloc( len );
	if ( s == NULL )
		abort();
	s[0] = '\0';
	for ( i = 0; h && h[i]; i++ ) {
		strcat( s, h[i] );
		strcat( s, "\n" );
	}
	return s;
}

static void
record( struct fake_transport *ft, const struct auth0_http_req *req,
	int sink )
{
	struct fake_sent *s;

	ft->ft_sent = realloc( ft->ft_sent,
		( ft->ft_nsent + 1 ) * sizeof( *ft->ft_sent ) );
	if ( ft->ft_sent == NULL )
		abort();
	s = &ft->ft_sent[ft->ft_nsent++];
	s->fs_method = dup_n( req->rq_method, strlen( req->rq_method ) );
	s->fs_url = dup_n( req->rq_url, strlen( req->rq_url ) );
	s->fs_headers = join_headers( req->rq_headers );
	s->fs_body = req->rq_body ? dup_n( req->rq_body, req->rq_body_len ) :
		NULL;
	s->fs_no_auth = req->rq_no_auth;
	s->fs_sink = sink;
	s->fs_time = ft->ft_now;
}

static struct fake_reply *
match( struct fake_transport *ft, const struct auth0_http_req *req )
{
	size_t i;

	for ( i = 0; i < ft->ft_nreplies; i++ ) {
		struct fake_reply *r = &ft->ft_replies[i];
		if ( r->fr_method && strcmp( r->fr_method, req->rq_method ) )
			continue;
		if ( strncmp( r->fr_url, req->rq_url, strlen( r->fr_url ) ) )
			continue;
		if ( r->fr_times && ft->ft_used[i] >= r->fr_times )
			continue;
		ft->ft_used[i]++;
		return r;
	}
	return NULL;
}

/* Delivers body to the sink in small chunks, as a network would. */
static int
stream( struct fake_transport *ft, const struct fake_reply *r,
	auth0_http_sink *sink, void *arg )
{
	size_t chunk = ft->ft_chunk ? ft->ft_chunk : 7, off = 0, n;
	size_t len = body_len( r );

	while ( off < len ) {
		n = len - off < chunk ? len - off : chunk;
		if ( sink( arg, r->fr_body + off, n ) )
			return AUTH0_HTTP_E_SINK;
		off += n;
	}
	return 0;
}

static int
fake_request( void *ctx, const struct auth0_http_req *req,
	auth0_http_sink *sink, void *sink_arg, struct auth0_http_resp *resp )
{
	static const struct fake_reply none = { .fr_url = "",
		.fr_status = 404, .fr_body = "{\"statusCode\":404,\"error\":"
		"\"Not Found\",\"message\":\"no fake reply\"}" };
	struct fake_transport *ft = ctx;
	const struct fake_reply *r;

	record( ft, req, sink != NULL );
	memset( resp, 0, sizeof( *resp ) );
	resp->rs_rl_remaining = -1;
	resp->rs_retry_after = -1;
	r = match( ft, req );
	if ( r == NULL ) {
		ft->ft_unmatched++;
		r = &none;
	}
	if ( r->fr_transport ) {
		resp->rs_transport = r->fr_transport;
		strcpy( resp->rs_error, "connection reset by fake peer" );
		return r->fr_transport;
	}
	resp->rs_status = r->fr_status;
	if ( r->fr_limited ) {
		resp->rs_rl_remaining = 0;
		resp->rs_rl_reset = (time_t)( ft->ft_now + r->fr_reset_in );
	}
	if ( r->fr_retry_after > 0 )
		resp->rs_retry_after = r->fr_retry_after;
	if ( sink ) {
		resp->rs_transport = stream( ft, r, sink, sink_arg );
		return resp->rs_transport;
	}
	resp->rs_len = body_len( r );
	resp->rs_body = dup_n( r->fr_body ? r->fr_body : "", resp->rs_len );
	return 0;
}

static void
fake_sleep( void *ctx, double seconds )
{
	struct fake_transport *ft = ctx;

	if ( seconds > 0 ) {
		ft->ft_now += seconds;
		ft->ft_slept += seconds;
	}
}

static double
fake_now( void *ctx )
{
	struct fake_transport *ft = ctx;

	return ft->ft_now;
}

struct fake_transport *
fake_new( void )
{
	struct fake_transport *ft = calloc( 1, sizeof( *ft ) );

	if ( ft == NULL )
		abort();
	ft->ft_now = FAKE_EPOCH;
	ft->ft_tr.tr_request = fake_request;
	ft->ft_tr.tr_sleep = fake_sleep;
	ft->ft_tr.tr_now = fake_now;
	ft->ft_tr.tr_ctx = ft;
	return ft;
}

void
fake_add( struct fake_transport *ft, const struct fake_reply *r )
{
	struct fake_reply *c;

	ft->ft_replies = realloc( ft->ft_replies,
		( ft->ft_nreplies + 1 ) * sizeof( *ft->ft_replies ) );
	ft->ft_used = realloc( ft->ft_used,
		( ft->ft_nreplies + 1 ) * sizeof( *ft->ft_used ) );
	if ( ft->ft_replies == NULL || ft->ft_used == NULL )
		abort();
	c = &ft->ft_replies[ft->ft_nreplies];
	*c = *r;
	if ( r->fr_body ) {
		if ( c->fr_len == 0 )
			c->fr_len = strlen( r->fr_body );
		c->fr_body = dup_n( r->fr_body, c->fr_len );
	}
	c->fr_url = dup_n( r->fr_url, strlen( r->fr_url ) );
	ft->ft_used[ft->ft_nreplies++] = 0;
}

void
fake_add_all( struct fake_transport *ft, const struct fake_reply *r,
	size_t n )
{
	size_t i;

	for ( i = 0; i < n; i++ )
		fake_add( ft, &r[i] );
}

/* Requests sent with this method (NULL: any) and URL prefix. */
size_t
fake_count( const struct fake_transport *ft, const char *method,
	const char *url_prefix )
{
	size_t i, n = 0;

	for ( i = 0; i < ft->ft_nsent; i++ )
		if ( ( method == NULL || !strcmp( method,
				ft->ft_sent[i].fs_method ) ) &&
				!strncmp( url_prefix, ft->ft_sent[i].fs_url,
					strlen( url_prefix ) ) )
			n++;
	return n;
}

/* The nth (from 0) such request, or NULL. */
const struct fake_sent *
fake_find( const struct fake_transport *ft, const char *method,
	const char *url_prefix, size_t nth )
{
	size_t i;

	for ( i = 0; i < ft->ft_nsent; i++ )
		if ( ( method == NULL || !strcmp( method,
				ft->ft_sent[i].fs_method ) ) &&
				!strncmp( url_prefix, ft->ft_sent[i].fs_url,
					strlen( url_prefix ) ) && nth-- == 0 )
			return &ft->ft_sent[i];
	return NULL;
}

void
fake_free( struct fake_transport *ft )
{
	size_t i;

	for ( i = 0; i < ft->ft_nreplies; i++ ) {
		free( (char *)ft->ft_replies[i].fr_body );
		free( (char *)ft->ft_replies[i].fr_url );
	}
	for ( i = 0; i < ft->ft_nsent; i++ ) {
		free( ft->ft_sent[i].fs_method );
		free( ft->ft_sent[i].fs_url );
		free( ft->ft_sent[i].fs_headers );
		free( ft->ft_sent[i].fs_body );
	}
	free( ft->ft_replies );
	free( ft->ft_used );
	free( ft->ft_sent );
	free( ft );
}
