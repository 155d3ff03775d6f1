/* fuzz_users.c - libFuzzer target: NDJSON users -> model -> entries */
/*
 * The input is a users.ndjson stream (what a snapshot directory or a
 * users-export job gives).  Every user that parses is given a uid and
 * mapped to an entry with a map-attribute rule over its metadata, the
 * path a refresh takes before slapd is involved.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"

static const struct auth0_maprule rules[] = {
	{ "employeeNumber", "app_metadata.employee_id" },
	{ "uidNumber", "app_metadata.uid_number" },
	{ "mobile", "user_metadata.phones" },
};

static const struct auth0_mapconf mc = {
	"dc=example,dc=com", 100000, "/home/", "/bin/bash"
};

int
LLVMFuzzerTestOneInput( const uint8_t *data, size_t size )
{
	struct auth0_model m;
	FILE *fp = fmemopen( (void *)data, size, "r" );
	size_t i;

	if ( fp == NULL || size == 0 ) {
		if ( fp )
			fclose( fp );
		return 0;
	}
	auth0_model_init( &m );
	m.sn_rules = rules;
	m.sn_nrules = sizeof( rules ) / sizeof( rules[0] );
	auth0_snapdir_read_stream( fp, "fuzz", NULL, &m );
	fclose( fp );
	if ( auth0_map_assign_uids( &m, NULL ) == AUTH0_OK &&
			auth0_flatten( &m ) == AUTH0_OK ) {
		for ( i = 0; i < m.sn_nusers; i++ ) {
			struct auth0_entry e;
			unsigned char dg[16];
			if ( auth0_map_user( &m, &m.sn_users[i], 100000 + (long)i,
					&mc, &e ) != AUTH0_OK )
				continue;
			auth0_entry_digest( &e, auth0_map_user_attrs, dg );
			auth0_entry_free( &e );
		}
	}
	auth0_model_free( &m );
	return 0;
}
