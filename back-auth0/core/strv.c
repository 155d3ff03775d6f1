/* strv.c - string vectors and user sets for back-auth0's core */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "model.h"

/*
 * The strings of a JSON array as a NULL-terminated vector (malloc'd).  With
 * member set, array items are objects and their string member is taken
 * (e.g. "permission_name").  Items of other types are skipped.  NULL when
 * out of memory; an empty vector when arr is absent.
 */
char **
auth0_strv_from_json( const cJSON *arr, const char *member )
{
	const cJSON *it;
	char **v;
	size_t n = 0;

	v = calloc( (size_t)cJSON_GetArraySize( arr ) + 1, sizeof( *v ) );
	if ( v == NULL )
		return NULL;
	cJSON_ArrayForEach( it, arr ) {
		const char *s = member ? auth0_json_str( it, member )
			: cJSON_IsString( it ) ? it->valuestring : NULL;
		if ( s == NULL || *s == '\0' )
			continue;
		v[n] = strdup( s );
		if ( v[n] == NULL ) {
			auth0_strv_free( v );
			return NULL;
		}
		n++;
	}
	return v;
}

size_t
auth0_strv_len( char *const *v )
{
	size_t n = 0;

	while ( v && v[n] )
		n++;
	return n;
}

int
auth0_strv_has( char *const *v, const char *s )
{
	for ( ; v && *v; v++ )
		if ( strcmp( *v, s ) == 0 )
			return 1;
	return 0;
}

void
auth0_strv_free( char **v )
{
	char **p;

	for ( p = v; p && *p; p++ )
		free( *p );
	free( v );
}

void
auth0_uset_free( struct auth0_uset *s )
{
	free( s->ut_idx );
	s->ut_idx = NULL;
	s->ut_n = 0;
}

/* qsort() that accepts an empty array (NULL base is undefined there). */
void
auth0_sort( void *base, size_t n, size_t size,
	int (*cmp)( const void *, const void * ) )
{
	if ( n > 1 )
		qsort( base, n, size, cmp );
}
