/* entry.c - plain entries (DN + string values) for back-auth0 */
/*
 * The mapper's output and the diff's input.  auth0_entry_digest() gives a
 * fingerprint of chosen attributes; write.c computes the same fingerprint
 * over a stored slapd Entry (auth0_digest_*), so an unchanged entry is
 * recognised without keeping stored entries in memory.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "map.h"
#include "digest.h"

void
auth0_entry_init( struct auth0_entry *e )
{
	memset( e, 0, sizeof( *e ) );
}

void
auth0_entry_free( struct auth0_entry *e )
{
	int i, j;

	for ( i = 0; i < e->en_nattrs; i++ ) {
		for ( j = 0; j < e->en_attrs[i].ea_nvals; j++ )
			free( e->en_attrs[i].ea_vals[j] );
		free( e->en_attrs[i].ea_vals );
		free( e->en_attrs[i].ea_name );
	}
	free( e->en_attrs );
	free( e->en_dn );
	auth0_entry_init( e );
}

struct auth0_eattr *
auth0_entry_find( const struct auth0_entry *e, const char *name )
{
	int i;

	for ( i = 0; i < e->en_nattrs; i++ )
		if ( strcasecmp( e->en_attrs[i].ea_name, name ) == 0 )
			return &e->en_attrs[i];
	return NULL;
}

const char *
auth0_entry_first( const struct auth0_entry *e, const char *name )
{
	struct auth0_eattr *a = auth0_entry_find( e, name );

	return ( a && a->ea_nvals ) ? a->ea_vals[0] : NULL;
}

static struct auth0_eattr *
entry_new_attr( struct auth0_entry *e, const char *name )
{
	struct auth0_eattr *a;

	if ( e->en_nattrs == e->en_cap ) {
		int cap = e->en_cap ? e->en_cap * 2 : 16;
		a = realloc( e->en_attrs, cap * sizeof( *a ) );
		if ( a == NULL )
			return NULL;
		e->en_attrs = a;
		e->en_cap = cap;
	}
	a = &e->en_attrs[e->en_nattrs];
	memset( a, 0, sizeof( *a ) );
	a->ea_name = strdup( name );
	if ( a->ea_name == NULL )
		return NULL;
	e->en_nattrs++;
	return a;
}

/* Appends value to attribute name (created on first use). */
int
auth0_entry_add( struct auth0_entry *e, const char *name, const char *value )
{
	struct auth0_eattr *a = auth0_entry_find( e, name );
	char **vals, *v;

	if ( a == NULL && ( a = entry_new_attr( e, name ) ) == NULL )
		return AUTH0_ERR_NOMEM;
	v = strdup( value );
	if ( v == NULL )
		return AUTH0_ERR_NOMEM;
	if ( a->ea_nvals == a->ea_cap ) {	/* doubling: groups are big */
		int cap = a->ea_cap ? a->ea_cap * 2 : 4;
		vals = realloc( a->ea_vals, ( cap + 1 ) * sizeof( *vals ) );
		if ( vals == NULL ) {
			free( v );
			return AUTH0_ERR_NOMEM;
		}
		a->ea_vals = vals;
		a->ea_cap = cap;
	}
	a->ea_vals[a->ea_nvals++] = v;
	a->ea_vals[a->ea_nvals] = NULL;
	return AUTH0_OK;
}

/* 1 when attribute name already holds value (exactly). */
int
auth0_entry_has( const struct auth0_entry *e, const char *name,
	const char *value )
{
	struct auth0_eattr *a = auth0_entry_find( e, name );
	int i;

	for ( i = 0; a && i < a->ea_nvals; i++ )
		if ( strcmp( a->ea_vals[i], value ) == 0 )
			return 1;
	return 0;
}

/* 1 when both hold the same values in the same order. */
int
auth0_eattr_equal( const struct auth0_eattr *a, const struct auth0_eattr *b )
{
	int i;

	if ( a == NULL || b == NULL )
		return a == b;
	if ( a->ea_nvals != b->ea_nvals )
		return 0;
	for ( i = 0; i < a->ea_nvals; i++ )
		if ( strcmp( a->ea_vals[i], b->ea_vals[i] ) != 0 )
			return 0;
	return 1;
}

/*
 * Fingerprint of the attributes named in names (NULL-terminated), in that
 * order; an absent attribute counts as having no values.
 */
int
auth0_entry_digest( const struct auth0_entry *e, const char *const *names,
	unsigned char out[16] )
{
	return auth0_entry_digest_sets( e, names, NULL, out );
}

/* As auth0_entry_digest(); where sets[i] is set, the values of names[i]
 * count as a set (auth0_digest_attr_set). */
int
auth0_entry_digest_sets( const struct auth0_entry *e,
	const char *const *names, const unsigned char *sets,
	unsigned char out[16] )
{
	struct auth0_digest d;
	int i, k, rc;

	rc = auth0_digest_init( &d );
	for ( k = 0; rc == AUTH0_OK && names[k]; k++ ) {
		struct auth0_eattr *a = auth0_entry_find( e, names[k] );
		if ( sets && sets[k] )
			auth0_digest_attr_set( &d, names[k], a ? a->ea_nvals : 0 );
		else
			auth0_digest_attr( &d, names[k], a ? a->ea_nvals : 0 );
		for ( i = 0; a && i < a->ea_nvals; i++ )
			auth0_digest_value( &d, a->ea_vals[i],
				strlen( a->ea_vals[i] ) );
	}
	if ( rc == AUTH0_OK )
		auth0_digest_final( &d, out );
	return rc;
}
