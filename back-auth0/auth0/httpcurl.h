/* httpcurl.h - the libcurl implementation of struct auth0_transport */
#ifndef AUTH0_HTTPCURL_H
#define AUTH0_HTTPCURL_H

#include "http.h"

struct auth0_transport *auth0_curl_new( const char *ca_file, long timeout );
void auth0_curl_free( struct auth0_transport *tr );
int auth0_curl_proxy( struct auth0_transport *tr, const char *url,
	const char *cred );

/*
 * Told after each request: host, the URL's path without query or
 * fragment, the status (0: none arrived), milliseconds, and the transport
 * error (NULL when a status arrived).  Never a header, body or query.
 */
typedef void (auth0_curl_trace_fn)( void *arg, const char *method,
	const char *host, const char *path, long status, long ms,
	const char *error );
void auth0_curl_trace( struct auth0_transport *tr, auth0_curl_trace_fn *fn,
	void *arg );

#endif /* AUTH0_HTTPCURL_H */
