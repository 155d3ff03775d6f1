/* json.c - typed getters over cJSON for back-auth0 */
/*
 * Every getter tolerates a missing key or a value of the wrong type and
 * answers "absent" instead, so one odd field never fails a whole record.
 * Strings returned are borrowed from the cJSON tree.
 */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "model.h"

const char *
auth0_json_str( const cJSON *o, const char *key )
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive( o, key );

	if ( !cJSON_IsString( v ) || v->valuestring == NULL )
		return NULL;
	return v->valuestring;
}

int
auth0_json_bool( const cJSON *o, const char *key )
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive( o, key );

	if ( cJSON_IsTrue( v ) )
		return 1;
	if ( cJSON_IsFalse( v ) )
		return 0;
	return AUTH0_UNSET;
}

long
auth0_json_long( const cJSON *o, const char *key, long dflt )
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive( o, key );

	if ( !cJSON_IsNumber( v ) )
		return dflt;
	/* cJSON keeps numbers as double; reject what a long cannot hold */
	if ( v->valuedouble < -9.0e18 || v->valuedouble > 9.0e18 )
		return dflt;
	return (long)v->valuedouble;
}

/* Returns the member as compact JSON (malloc'd), or NULL when absent. */
char *
auth0_json_compact( const cJSON *o, const char *key )
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive( o, key );

	if ( v == NULL || cJSON_IsNull( v ) )
		return NULL;
	return cJSON_PrintUnformatted( v );
}

/* 1 when path is name(.name)* with names of letters, digits, "_" or "-". */
int
auth0_path_valid( const char *path )
{
	const char *p;
	int seg = 0;

	if ( path == NULL || *path == '\0' )
		return 0;
	for ( p = path; ; p++ ) {
		if ( *p == '.' || *p == '\0' ) {
			if ( seg == 0 )
				return 0;
			if ( *p == '\0' )
				return 1;
			seg = 0;
			continue;
		}
		if ( !( ( *p >= 'a' && *p <= 'z' ) || ( *p >= 'A' && *p <= 'Z' ) ||
				( *p >= '0' && *p <= '9' ) || *p == '_' || *p == '-' ) )
			return 0;
		seg++;
	}
}

/* The text of a scalar; objects and arrays nested deeper become JSON. */
static char *
scalar_text( const cJSON *v )
{
	char buf[64];

	if ( cJSON_IsString( v ) )
		return strdup( v->valuestring );
	if ( cJSON_IsBool( v ) )
		return strdup( cJSON_IsTrue( v ) ? "TRUE" : "FALSE" );
	if ( cJSON_IsNumber( v ) ) {
		/* cast only what a long long holds: 1e300 is UB otherwise */
		if ( v->valuedouble > -9.0e18 && v->valuedouble < 9.0e18 &&
				v->valuedouble == (double)(long long)v->valuedouble )
			snprintf( buf, sizeof( buf ), "%lld",
				(long long)v->valuedouble );
		else
			snprintf( buf, sizeof( buf ), "%.17g", v->valuedouble );
		return strdup( buf );
	}
	if ( cJSON_IsNull( v ) )
		return NULL;
	return cJSON_PrintUnformatted( v );
}

/*
 * The values at a dotted path of obj, as a NULL-terminated vector
 * (malloc'd, possibly empty): an array gives one value per element, a
 * scalar one value; absent, null and empty strings give none.  NULL only
 * when out of memory.
 */
char **
auth0_json_path_values( const cJSON *obj, const char *path )
{
	const cJSON *v = obj, *it;
	char seg[128], **out;
	const char *p = path;
	size_t n = 0, len;

	while ( v && *p ) {
		len = strcspn( p, "." );
		if ( len >= sizeof( seg ) )
			v = NULL;
		else {
			memcpy( seg, p, len );
			seg[len] = '\0';
			v = cJSON_IsObject( v ) ?
				cJSON_GetObjectItemCaseSensitive( v, seg ) : NULL;
		}
		p += len + ( p[len] == '.' );
	}
	out = calloc( (size_t)( cJSON_IsArray( v ) ? cJSON_GetArraySize( v ) : 1 )
		+ 1, sizeof( char * ) );
	if ( out == NULL || v == NULL )
		return out;
	if ( !cJSON_IsArray( v ) ) {
		out[0] = scalar_text( v );
		if ( out[0] && out[0][0] == '\0' ) {
			free( out[0] );
			out[0] = NULL;
		}
		return out;
	}
	cJSON_ArrayForEach( it, v ) {
		char *t = scalar_text( it );
		if ( t && *t )
			out[n++] = t;
		else
			free( t );
	}
	return out;
}
