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
