/* fold.c - uids folded as slapd's schema compares them, for back-auth0 */
/*
 * The model (core/) chooses uids and cns without slapd; it is given this
 * fold so that two names the uid attribute's equality rule calls equal
 * (DN matching) never become two entries.  Used by the full refresh
 * (refresh.c) and by the change feed's patch (feed.c).
 */
#include "portable.h"

#include <ac/string.h>

#include "back-auth0.h"

/* Folds a uid as the uid attribute's equality rule does (DN matching). */
char *
auth0_fold_uid( const char *s )
{
	AttributeDescription *ad = NULL;
	const char *text;
	struct berval bv, nv = BER_BVNULL;
	char *out;

	ber_str2bv( s, 0, 0, &bv );
	if ( slap_str2ad( "uid", &ad, &text ) != LDAP_SUCCESS ||
			attr_normalize_one( ad, &bv, &nv, NULL ) != LDAP_SUCCESS ||
			BER_BVISNULL( &nv ) )
		return auth0_map_fold_ascii( s );
	out = strdup( nv.bv_val );
	ch_free( nv.bv_val );
	return out;
}
