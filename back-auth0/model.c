/* model.c - in-memory model of an Auth0 tenant for back-auth0 */
/*
 * A refresh builds one model from a source (snapshot directory or the
 * APIs), maps it to entries and frees it whole.  Records are copied out of
 * their cJSON tree as they are parsed, so a source can stream: only one
 * JSON object is alive at a time.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "model.h"

void
auth0_model_init( struct auth0_model *m )
{
	memset( m, 0, sizeof( *m ) );
	m->sn_complete = 1;
}

void
auth0_user_free( struct auth0_user *u )
{
	free( u->us_id );
	free( u->us_connection );
	free( u->us_email );
	free( u->us_username );
	free( u->us_name );
	free( u->us_given );
	free( u->us_family );
	free( u->us_nickname );
	free( u->us_phone );
	free( u->us_created );
	free( u->us_updated );
	free( u->us_last_login );
	free( u->us_app_md );
	free( u->us_user_md );
	free( u->us_uid );
	memset( u, 0, sizeof( *u ) );
}

void
auth0_model_free( struct auth0_model *m )
{
	size_t i;

	for ( i = 0; i < m->sn_nusers; i++ )
		auth0_user_free( &m->sn_users[i] );
	free( m->sn_users );
	auth0_model_init( m );
}

/* 1 when the connection is one the administrator selected. */
int
auth0_model_selected( const struct auth0_select *sel, const char *connection )
{
	char **c;

	if ( sel == NULL || sel->se_connections == NULL ||
			sel->se_connections[0] == NULL )
		return 1;
	if ( connection == NULL )
		return 0;
	for ( c = sel->se_connections; *c; c++ ) {
		if ( strcmp( *c, connection ) == 0 )
			return 1;
	}
	return 0;
}

/* Copies an optional string; 0 on success (also when absent). */
static int
dup_opt( const char *s, char **out )
{
	*out = NULL;
	if ( s == NULL || *s == '\0' )
		return 0;
	*out = strdup( s );
	return *out ? 0 : -1;
}

static const char *
user_connection( const cJSON *obj )
{
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive( obj, "identities" );
	const cJSON *first = cJSON_IsArray( ids ) ? cJSON_GetArrayItem( ids, 0 )
		: NULL;
	const char *conn = first ? auth0_json_str( first, "connection" ) : NULL;

	/* an export job may name it "connection" or export it as "provider" */
	if ( conn == NULL )
		conn = auth0_json_str( obj, "connection" );
	return conn;
}

/*
 * Fills *u from a user object.  On failure *u is left empty and errbuf
 * says why.  A user needs a non-empty user_id; everything else is optional.
 */
int
auth0_user_parse( const cJSON *obj, struct auth0_user *u, char *errbuf )
{
	int rc = 0;

	memset( u, 0, sizeof( *u ) );
	if ( !cJSON_IsObject( obj ) ) {
		snprintf( errbuf, AUTH0_ERRLEN, "user record is not a JSON object" );
		return AUTH0_ERR_JSON;
	}
	if ( auth0_json_str( obj, "user_id" ) == NULL ||
			auth0_json_str( obj, "user_id" )[0] == '\0' ) {
		snprintf( errbuf, AUTH0_ERRLEN, "user record has no user_id" );
		return AUTH0_ERR_DATA;
	}
	rc |= dup_opt( auth0_json_str( obj, "user_id" ), &u->us_id );
	rc |= dup_opt( user_connection( obj ), &u->us_connection );
	rc |= dup_opt( auth0_json_str( obj, "email" ), &u->us_email );
	rc |= dup_opt( auth0_json_str( obj, "username" ), &u->us_username );
	rc |= dup_opt( auth0_json_str( obj, "name" ), &u->us_name );
	rc |= dup_opt( auth0_json_str( obj, "given_name" ), &u->us_given );
	rc |= dup_opt( auth0_json_str( obj, "family_name" ), &u->us_family );
	rc |= dup_opt( auth0_json_str( obj, "nickname" ), &u->us_nickname );
	rc |= dup_opt( auth0_json_str( obj, "phone_number" ), &u->us_phone );
	rc |= dup_opt( auth0_json_str( obj, "created_at" ), &u->us_created );
	rc |= dup_opt( auth0_json_str( obj, "updated_at" ), &u->us_updated );
	rc |= dup_opt( auth0_json_str( obj, "last_login" ), &u->us_last_login );
	u->us_app_md = auth0_json_compact( obj, "app_metadata" );
	u->us_user_md = auth0_json_compact( obj, "user_metadata" );
	u->us_logins = auth0_json_long( obj, "logins_count", -1 );
	u->us_email_verified = auth0_json_bool( obj, "email_verified" );
	u->us_blocked = auth0_json_bool( obj, "blocked" );
	if ( rc ) {
		auth0_user_free( u );
		snprintf( errbuf, AUTH0_ERRLEN, "out of memory" );
		return AUTH0_ERR_NOMEM;
	}
	return AUTH0_OK;
}

static int
model_grow( struct auth0_model *m )
{
	size_t cap = m->sn_cap ? m->sn_cap * 2 : 256;
	struct auth0_user *n;

	n = realloc( m->sn_users, cap * sizeof( *n ) );
	if ( n == NULL )
		return AUTH0_ERR_NOMEM;
	m->sn_users = n;
	m->sn_cap = cap;
	return AUTH0_OK;
}

/*
 * Adds the user if its connection is selected.  A record that cannot be
 * parsed is counted in sn_bad, marks the model incomplete and is reported
 * through errbuf; the caller decides how loudly.
 */
int
auth0_model_add_user( struct auth0_model *m, const cJSON *obj,
	const struct auth0_select *sel, char *errbuf )
{
	struct auth0_user u;
	int rc;

	rc = auth0_user_parse( obj, &u, errbuf );
	if ( rc ) {
		m->sn_bad++;
		m->sn_complete = 0;
		return rc;
	}
	if ( !auth0_model_selected( sel, u.us_connection ) ) {
		m->sn_skipped++;
		auth0_user_free( &u );
		return AUTH0_OK;
	}
	if ( m->sn_nusers == m->sn_cap && model_grow( m ) ) {
		auth0_user_free( &u );
		snprintf( errbuf, AUTH0_ERRLEN, "out of memory" );
		return AUTH0_ERR_NOMEM;
	}
	m->sn_users[m->sn_nusers++] = u;
	return AUTH0_OK;
}
