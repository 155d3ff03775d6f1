/* httpcurl.h - the libcurl implementation of struct auth0_transport */
#ifndef AUTH0_HTTPCURL_H
#define AUTH0_HTTPCURL_H

#include "http.h"

struct auth0_transport *auth0_curl_new( const char *ca_file, long timeout );
void auth0_curl_free( struct auth0_transport *tr );
int auth0_curl_proxy( struct auth0_transport *tr, const char *url,
	const char *cred );

#endif /* AUTH0_HTTPCURL_H */
