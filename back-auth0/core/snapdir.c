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
#include "digest.h"

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
		snprintf( errbuf, AUTH0_ERRLEN, "cannot open %.160s: %s", path,
			strerror( errno ) );
		return AUTH0_ERR_IO;
	}
	rc = auth0_snapdir_read_stream( fp, "users.ndjson", sel, m );
	if ( rc )
		snprintf( errbuf, AUTH0_ERRLEN, "error reading %.160s: %s", path,
			strerror( errno ) );
	fclose( fp );
	return rc;
}

/* At most this much JSON is read from one whole-file resource. */
#define AUTH0_MAX_JSON_FILE	(256L * 1024 * 1024)

/*
 * Parses dir/name whole.  A missing file is *out = NULL and AUTH0_OK (the
 * resource is empty); an unreadable, oversized or malformed one an error.
 */
static int
read_json_file( const char *dir, const char *name, cJSON **out,
	char *errbuf )
{
	char path[4096], *buf = NULL;
	FILE *fp;
	long len;
	int rc = AUTH0_ERR_IO;

	*out = NULL;
	snprintf( path, sizeof( path ), "%s/%s", dir, name );
	fp = fopen( path, "r" );
	if ( fp == NULL && errno == ENOENT )
		return AUTH0_OK;
	if ( fp == NULL ) {
		snprintf( errbuf, AUTH0_ERRLEN, "cannot open %s: %s", name,
			strerror( errno ) );
		return AUTH0_ERR_IO;
	}
	if ( fseek( fp, 0, SEEK_END ) || ( len = ftell( fp ) ) < 0 ||
			len > AUTH0_MAX_JSON_FILE || fseek( fp, 0, SEEK_SET ) ) {
		snprintf( errbuf, AUTH0_ERRLEN, "%s: unreadable or too large",
			name );
		goto done;
	}
	buf = malloc( (size_t)len + 1 );
	if ( buf == NULL || fread( buf, 1, (size_t)len, fp ) != (size_t)len ) {
		snprintf( errbuf, AUTH0_ERRLEN, "%s: read failed", name );
		goto done;
	}
	*out = cJSON_ParseWithLength( buf, (size_t)len );
	rc = *out ? AUTH0_OK : AUTH0_ERR_JSON;
	if ( rc )
		snprintf( errbuf, AUTH0_ERRLEN, "%s: malformed JSON", name );
done:
	free( buf );
	fclose( fp );
	return rc;
}

typedef int (add_fn)( struct auth0_model *m, const cJSON *json,
	char *errbuf );

/* Reads one resource; a failure marks it failed and is reported. */
static void
read_resource( const char *dir, const char *name, add_fn *add,
	unsigned res, struct auth0_model *m )
{
	char errbuf[AUTH0_ERRLEN], msg[AUTH0_ERRLEN + 64];
	cJSON *json = NULL;
	int rc;

	errbuf[0] = '\0';
	rc = read_json_file( dir, name, &json, errbuf );
	if ( rc == AUTH0_OK && json )
		rc = add( m, json, errbuf );
	cJSON_Delete( json );
	if ( rc == AUTH0_OK )
		return;
	/* a few bad records are reported but do not fail the resource */
	if ( rc != AUTH0_ERR_DATA )
		m->sn_failed |= res;
	if ( m->sn_warn ) {
		snprintf( msg, sizeof( msg ), "%s%s", errbuf,
			rc == AUTH0_ERR_DATA ? "" : "; its stored data is kept" );
		m->sn_warn( m->sn_warn_arg, msg );
	}
}

/*
 * Reads roles.json, clients.json, authz.json, connections.json,
 * groups.json and organizations.json (each optional: a missing
 * file is an empty resource).  A resource that cannot be read whole is
 * flagged in sn_failed; the others are still read.
 */
int
auth0_snapdir_read_tenant( const char *dir, struct auth0_model *m,
	char *errbuf )
{
	read_resource( dir, "roles.json", auth0_model_add_rbac_roles,
		AUTH0_RES_ROLES, m );
	read_resource( dir, "clients.json", auth0_model_add_clients,
		AUTH0_RES_CLIENTS, m );
	read_resource( dir, "authz.json", auth0_model_add_authz,
		AUTH0_RES_AUTHZ, m );
	read_resource( dir, "connections.json", auth0_model_add_connections,
		AUTH0_RES_CONNS, m );
	read_resource( dir, "groups.json", auth0_model_add_native_groups,
		AUTH0_RES_GROUPS, m );
	read_resource( dir, "organizations.json", auth0_model_add_orgs,
		AUTH0_RES_ORGS, m );
	return AUTH0_OK;
}

/* Every file a snapshot is read from. */
static const char *const snap_files[] = {
	"users.ndjson", "roles.json", "clients.json", "authz.json",
	"connections.json", "groups.json", "organizations.json", NULL
};

/* Feeds one file's name and bytes (or that it is absent) into d. */
static int
digest_file( struct auth0_digest *d, const char *dir, const char *name )
{
	char path[4096], *buf;
	size_t n;
	FILE *fp;
	int rc = AUTH0_OK, absent;

	if ( (size_t)snprintf( path, sizeof( path ), "%s/%s", dir, name ) >=
			sizeof( path ) )
		return AUTH0_ERR_CONFIG;
	fp = fopen( path, "r" );
	absent = fp == NULL && errno == ENOENT;
	auth0_digest_attr( d, name, fp != NULL );	/* empty is not absent */
	if ( fp == NULL )
		return absent ? AUTH0_OK : AUTH0_ERR_IO;
	buf = malloc( 1 << 20 );
	if ( buf == NULL ) {
		fclose( fp );
		return AUTH0_ERR_NOMEM;
	}
	while ( ( n = fread( buf, 1, 1 << 20, fp ) ) > 0 )
		auth0_digest_value( d, buf, n );
	if ( ferror( fp ) )
		rc = AUTH0_ERR_IO;
	free( buf );
	fclose( fp );
	return rc;
}

/*
 * Feeds the bytes of every snapshot file into d, so that a refresh can
 * tell that nothing changed since the last one without parsing anything.
 */
int
auth0_snapdir_fingerprint( const char *dir, struct auth0_digest *d )
{
	int i, rc = AUTH0_OK;

	for ( i = 0; snap_files[i] && rc == AUTH0_OK; i++ )
		rc = digest_file( d, dir, snap_files[i] );
	return rc;
}
