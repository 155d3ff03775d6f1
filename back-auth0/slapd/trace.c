/* trace.c - the trace log of back-auth0's HTTP calls */
/*
 * At loglevel trace each call to Auth0 (API, export download, bind) gets
 * one line: the database, method, host, path, status and milliseconds,
 * so an Auth0 problem can be followed without a packet capture.  What
 * could hold a secret never reaches it (http.c cuts the query and never
 * passes headers or bodies).
 */
#include "portable.h"

#include <ac/string.h>

#include "back-auth0.h"

void
auth0_trace_http( void *arg, const char *method, const char *host,
	const char *path, long status, long ms, const char *error )
{
	struct auth0_info *ai = arg;

	if ( error )
		Debug( LDAP_DEBUG_TRACE, "auth0: %s: HTTP %s https://%s%s: no "
			"answer after %ld ms (%s)\n", ai->ai_nsuffix.bv_val, method,
			host, path, ms, error );
	else
		Debug( LDAP_DEBUG_TRACE, "auth0: %s: HTTP %s https://%s%s: %ld in "
			"%ld ms\n", ai->ai_nsuffix.bv_val, method, host, path, status,
			ms );
}
