/* snapdir.c - the auth0-snapshot-dir source of back-auth0 */
/*
 * Reads a tenant snapshot directory (DESIGN.md section 2).  users.ndjson is
 * read line by line, one cJSON object alive at a time, so a 100k-user file
 * is never held whole in memory.  A malformed line is reported with its
 * number and skipped; the model is then marked incomplete, which keeps the
 * refresh from deleting anything (a skipped line may be a user we hold).
 * Runs in the refresh task's thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "model.h"

static void
warn( struct auth0_model *m, const char *fmt, const char *name,
	unsigned long line, const char *why )
{
	char msg[AUTH0_ERRLEN + 128];

	if ( m->sn_warn == NULL )
		return;
	if ( m->sn_bad > AUTH0_MAX_WARNINGS )
		return;
	snprintf( msg, sizeof( msg ), fmt, name, line, why );
	m->sn_warn( m->sn_warn_arg, msg );
}

/* Parses one line; blank lines are allowed and ignored. */
static void
read_line( struct auth0_model *m, const char *buf, size_t len,
	const char *name, unsigned long lineno, const struct auth0_select *sel )
{
	char errbuf[AUTH0_ERRLEN];
	cJSON *obj;
	size_t i;

	for ( i = 0; i < len && ( buf[i] == ' ' || buf[i] == '\t' ||
			buf[i] == '\r' || buf[i] == '\n' ); i++ )
		;
	if ( i == len )
		return;
	obj = cJSON_ParseWithLength( buf, len );
	if ( obj == NULL ) {
		m->sn_bad++;
		m->sn_complete = 0;
		warn( m, "%s line %lu: %s, line skipped", name, lineno,
			"malformed JSON" );
		return;
	}
	if ( auth0_model_add_user( m, obj, sel, errbuf ) != AUTH0_OK )
		warn( m, "%s line %lu: %s, line skipped", name, lineno, errbuf );
	cJSON_Delete( obj );
}

/*
 * Reads NDJSON users from fp.  Returns AUTH0_OK even when some lines were
 * bad (see sn_bad / sn_complete); an error only for a failed read.
 */
int
auth0_snapdir_read_stream( FILE *fp, const char *name,
	const struct auth0_select *sel, struct auth0_model *m )
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	int rc = AUTH0_OK;

	while ( ( len = getline( &buf, &cap, fp ) ) >= 0 ) {
		lineno++;
		read_line( m, buf, (size_t)len, name, lineno, sel );
	}
	if ( ferror( fp ) ) {
		m->sn_complete = 0;
		rc = AUTH0_ERR_IO;
	}
	free( buf );
	return rc;
}

int
auth0_snapdir_read_users( const char *dir, const struct auth0_select *sel,
	struct auth0_model *m, char *errbuf )
{
	char path[4096];
	FILE *fp;
	int rc;

	if ( dir == NULL || *dir == '\0' ) {
		snprintf( errbuf, AUTH0_ERRLEN, "no snapshot directory configured" );
		return AUTH0_ERR_CONFIG;
	}
	if ( (size_t)snprintf( path, sizeof( path ), "%s/users.ndjson", dir ) >=
			sizeof( path ) ) {
		snprintf( errbuf, AUTH0_ERRLEN, "snapshot path too long" );
		return AUTH0_ERR_CONFIG;
	}
	fp = fopen( path, "r" );
	if ( fp == NULL ) {
		snprintf( errbuf, AUTH0_ERRLEN, "cannot open %s: %s", path,
			strerror( errno ) );
		return AUTH0_ERR_IO;
	}
	rc = auth0_snapdir_read_stream( fp, "users.ndjson", sel, m );
	if ( rc )
		snprintf( errbuf, AUTH0_ERRLEN, "error reading %s: %s", path,
			strerror( errno ) );
	fclose( fp );
	return rc;
}
