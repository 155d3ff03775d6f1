/* secret.c - back-auth0's secrets: read from a file, wiped when freed */
/*
 * The client secrets and the proxy credentials live in files named by the
 * configuration (never in slapd.conf itself nor in argv).  config.c reads
 * them when a directive is set, init.c again when the database opens, and
 * whoever holds a copy (bind.c's pool) wipes it with auth0_secret_free.
 */
#include "portable.h"

#include <ac/string.h>
#include <ac/ctype.h>
#include <errno.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "back-auth0.h"

/*
 * Reads a secret from path into *out (ch_malloc'd; the caller wipes it).
 * The file must be a regular file of at most 4 KiB; trailing white space
 * is dropped.  A file its group or others may read gets a warning.
 * Never logs the secret itself.
 */
int
auth0_secret_read( const char *path, const char *directive, char **out,
	char *errbuf, size_t errlen )
{
	char buf[4097];
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	*out = NULL;
	fd = open( path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW );
	if ( fd < 0 ) {
		snprintf( errbuf, errlen, "%s: cannot open \"%s\": %s", directive,
			path, strerror( errno ) );
		return -1;
	}
	if ( fstat( fd, &st ) != 0 || !S_ISREG( st.st_mode ) ) {
		snprintf( errbuf, errlen, "%s: \"%s\" is not a regular file",
			directive, path );
		goto done;
	}
	if ( st.st_mode & S_IROTH )
		Debug( LDAP_DEBUG_ANY, "auth0: warning: %s \"%s\" is readable by "
			"every user of this machine; chmod 600 it\n", directive, path );
	else if ( st.st_mode & S_IRGRP )
		Debug( LDAP_DEBUG_ANY, "auth0: warning: %s \"%s\" is readable by "
			"the members of group %lu; chmod 600 it\n", directive, path,
			(unsigned long)st.st_gid );
	n = read( fd, buf, sizeof( buf ) );
	if ( n < 0 || n > 4096 ) {
		snprintf( errbuf, errlen, "%s: \"%s\": %s", directive, path,
			n < 0 ? strerror( errno ) : "larger than 4 KiB" );
		goto done;
	}
	while ( n > 0 && isspace( (unsigned char)buf[n - 1] ) )
		n--;
	buf[n] = '\0';
	if ( n == 0 ) {
		snprintf( errbuf, errlen, "%s: \"%s\" is empty", directive, path );
		goto done;
	}
	*out = ch_strdup( buf );
	rc = 0;
done:
	explicit_bzero( buf, sizeof( buf ) );
	close( fd );
	return rc;
}

void
auth0_secret_free( char **secret )
{
	if ( *secret ) {
		explicit_bzero( *secret, strlen( *secret ) );
		ch_free( *secret );
		*secret = NULL;
	}
}
