/* base.c - the import base (auth0-base) of back-auth0 */
/*
 * The containers of the imported tree sit below the import base: the
 * database suffix by default, or an entry below it set with auth0-base
 * (DESIGN.md section 8.5), so that imported entries live beside local ones
 * in one database.  Every rule that names the imported tree (read-only
 * subtree, binds, the diff, the containers) asks here where it is.
 * The base changes only with the server paused (cn=config) or before
 * db_open, so operation threads read it without a lock; the refresh task
 * takes a copy under ai_mutex (auth0_base_copy).
 */
#include "portable.h"

#include <ac/string.h>

#include "back-auth0.h"

/* The normalized base: auth0-base, else the suffix (set at db_open). */
struct berval *
auth0_base_ndn( struct auth0_info *ai )
{
	return BER_BVISNULL( &ai->ai_nbase ) ? &ai->ai_nsuffix : &ai->ai_nbase;
}

/* The instance of the overlay an operation or db callback runs in. */
struct auth0_info *
auth0_base_info( BackendDB *be )
{
	slap_overinst *on = (slap_overinst *)be->bd_info;

	return on->on_bi.bi_private;
}

/*
 * Checks and sets the base from its configured text (NULL: the suffix).
 * suffix is the database's normalized suffix, or NULL when not known yet
 * (checked again at db_open).  On error, err says why and nothing changes.
 */
int
auth0_base_set( struct auth0_info *ai, const char *dn,
	struct berval *suffix, char *err, size_t errlen )
{
	struct berval in, pretty = BER_BVNULL, norm = BER_BVNULL;

	if ( dn == NULL ) {
		ch_free( ai->ai_base.bv_val );
		ch_free( ai->ai_nbase.bv_val );
		BER_BVZERO( &ai->ai_base );
		BER_BVZERO( &ai->ai_nbase );
		return 0;
	}
	ber_str2bv( dn, 0, 0, &in );
	if ( dnPrettyNormal( NULL, &in, &pretty, &norm, NULL ) !=
			LDAP_SUCCESS || BER_BVISEMPTY( &norm ) ) {
		snprintf( err, errlen, "\"%.64s\" is not a DN", dn );
		goto fail;
	}
	if ( suffix && !BER_BVISEMPTY( suffix ) &&
			!dnIsSuffix( &norm, suffix ) ) {
		snprintf( err, errlen, "\"%.64s\" is not the database suffix "
			"or below it", dn );
		goto fail;
	}
	ch_free( ai->ai_base.bv_val );
	ch_free( ai->ai_nbase.bv_val );
	ai->ai_base = pretty;
	ai->ai_nbase = norm;
	return 0;
fail:
	ch_free( pretty.bv_val );
	ch_free( norm.bv_val );
	return -1;
}

/* The pretty base, ch_malloc'd, for a refresh (called under ai_mutex). */
char *
auth0_base_copy( struct auth0_info *ai, BackendDB *be )
{
	if ( !BER_BVISNULL( &ai->ai_base ) )
		return ch_strdup( ai->ai_base.bv_val );
	return ch_strdup( be->be_suffix[0].bv_val );
}

/* 1 when ndn is container ou (e.g. "people") of the base or below it;
 * with direct set, only an entry right below the container. */
int
auth0_base_in( struct auth0_info *ai, struct berval *ndn, const char *ou,
	int direct )
{
	struct berval *base = auth0_base_ndn( ai ), c, parent;
	char buf[SLAP_TEXT_BUFLEN];

	if ( !dnIsSuffix( ndn, base ) || ndn->bv_len == base->bv_len )
		return 0;
	c.bv_len = snprintf( buf, sizeof( buf ), "ou=%s,%s", ou, base->bv_val );
	c.bv_val = buf;
	if ( c.bv_len >= sizeof( buf ) )
		return 0;
	if ( !direct )
		return dnIsSuffix( ndn, &c );
	dnParent( ndn, &parent );
	return bvmatch( &parent, &c );
}
