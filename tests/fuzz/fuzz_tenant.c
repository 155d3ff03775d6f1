/* fuzz_tenant.c - libFuzzer target: roles, clients, the extension's
 * export, native groups and organizations -> model -> flattened
 * memberships -> group/role/app/organization entries */
/*
 * The input is split at the first three NUL bytes into users.ndjson,
 * roles/clients (one JSON array of role-or-client objects), authz.json and
 * one JSON array read as groups.json, organizations.json and
 * connections.json, so the fuzzer can grow nesting, cycles, mappings and
 * odd names together.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "map.h"

static const struct auth0_mapconf mc = {
	"dc=example,dc=com", 100000, "/home/", "/bin/bash"
};

static const uint8_t *
part( const uint8_t **p, size_t *left, size_t *len )
{
	const uint8_t *start = *p, *nul = memchr( *p, 0, *left );

	*len = nul ? (size_t)( nul - start ) : *left;
	*p += *len + ( nul != NULL );
	*left -= *len + ( nul != NULL );
	return start;
}

static void
map_all( struct auth0_model *m )
{
	struct auth0_entry e;
	size_t i;

	for ( i = 0; i < m->sn_ngroups; i++ )
		if ( auth0_map_group( m, &m->sn_groups[i], 100001, &mc, &e ) == 0 )
			auth0_entry_free( &e );
	for ( i = 0; i < m->sn_nroles; i++ )
		if ( auth0_map_role( m, &m->sn_roles[i], 100002, &mc, &e ) == 0 )
			auth0_entry_free( &e );
	for ( i = 0; i < m->sn_nclients; i++ )
		if ( auth0_map_client( m, &m->sn_clients[i], &mc, &e ) == 0 )
			auth0_entry_free( &e );
	for ( i = 0; i < m->sn_norgs; i++ )
		if ( auth0_map_org( m, &m->sn_orgs[i], &mc, &e ) == 0 )
			auth0_entry_free( &e );
	for ( i = 0; i < m->sn_norgroles; i++ )
		if ( auth0_map_orgrole( m, &m->sn_orgroles[i], &mc, &e ) == 0 )
			auth0_entry_free( &e );
	for ( i = 0; i < m->sn_nusers; i++ )
		if ( auth0_map_user( m, &m->sn_users[i], 1, &mc, &e ) == 0 )
			auth0_entry_free( &e );
}

int
LLVMFuzzerTestOneInput( const uint8_t *data, size_t size )
{
	struct auth0_model m;
	char err[AUTH0_ERRLEN];
	size_t left = size, lu, lr, la, ln;
	const uint8_t *p = data, *u = part( &p, &left, &lu ),
		*r = part( &p, &left, &lr ), *a = part( &p, &left, &la ),
		*n = part( &p, &left, &ln );
	FILE *fp = lu ? fmemopen( (void *)u, lu, "r" ) : NULL;
	cJSON *roles = cJSON_ParseWithLength( (const char *)r, lr );
	cJSON *authz = cJSON_ParseWithLength( (const char *)a, la );
	cJSON *native = cJSON_ParseWithLength( (const char *)n, ln );

	auth0_model_init( &m );
	if ( fp ) {
		auth0_snapdir_read_stream( fp, "fuzz", NULL, &m );
		fclose( fp );
	}
	if ( roles ) {
		auth0_model_add_rbac_roles( &m, roles, err );
		auth0_model_add_clients( &m, roles, err );
	}
	if ( authz )
		auth0_model_add_authz( &m, authz, err );
	if ( native ) {
		auth0_model_add_native_groups( &m, native, err );
		auth0_model_add_orgs( &m, native, err );
		auth0_model_add_connections( &m, native, err );
	}
	if ( auth0_map_assign_uids( &m, NULL ) == 0 &&
			auth0_map_assign_cns( &m, NULL ) == 0 &&
			auth0_flatten( &m ) == 0 )
		map_all( &m );
	cJSON_Delete( roles );
	cJSON_Delete( authz );
	cJSON_Delete( native );
	auth0_model_free( &m );
	return 0;
}
