/* plan.c - the change set of one refresh and the order of its renames */
/*
 * diff.c first computes which stored entries change (DESIGN.md 8.1) and
 * records them here; nothing is written while the set is being computed.
 * The renames are then queued in an order that cannot collide: an entry
 * whose current name another entry of the plan moves onto (a swap, a
 * cycle, a chain of names) first moves away to a temporary RDN of its
 * own, then every entry moves to its final name.  Each final rename
 * records its result, so that diff.c modifies an entry only at the name
 * it really has: a modify never lands on another user's entry.
 */
#include "portable.h"

#include <ac/string.h>
#include <search.h>

#include "back-auth0.h"

/* The value of a temporary RDN: of the object, never a real name. */
#define AUTH0_MOVING_PREFIX	"auth0-moving-"

struct auth0_plan {
	struct auth0_plan_item	*pl_items;
	size_t			pl_n, pl_max;
};

struct auth0_plan *
auth0_plan_new( void )
{
	return ch_calloc( 1, sizeof( struct auth0_plan ) );
}

void
auth0_plan_free( struct auth0_plan *pl )
{
	size_t i;

	if ( pl == NULL )
		return;
	for ( i = 0; i < pl->pl_n; i++ ) {
		ch_free( pl->pl_items[i].pi_ndn.bv_val );
		ch_free( pl->pl_items[i].pi_rdn.bv_val );
		ch_free( pl->pl_items[i].pi_nrdn.bv_val );
	}
	ch_free( pl->pl_items );
	ch_free( pl );
}

/*
 * Records that the stored entry sd (object idx of container ou) changes;
 * it stays where it is unless auth0_plan_set_rename() follows.  The item
 * is valid until the next call.
 */
struct auth0_plan_item *
auth0_plan_add( struct auth0_plan *pl, int ou, size_t idx,
	struct auth0_stored *sd )
{
	struct auth0_plan_item *pi;

	if ( pl->pl_n == pl->pl_max ) {
		pl->pl_max = pl->pl_max ? 2 * pl->pl_max : 64;
		pl->pl_items = ch_realloc( pl->pl_items,
			pl->pl_max * sizeof( *pl->pl_items ) );
	}
	pi = &pl->pl_items[pl->pl_n++];
	memset( pi, 0, sizeof( *pi ) );
	pi->pi_ou = ou;
	pi->pi_idx = idx;
	pi->pi_sd = sd;
	pi->pi_status = -1;
	ber_dupbv( &pi->pi_ndn, &sd->sd_ndn );
	return pi;
}

/* The entry of pi moves to dn (same parent); -1 when dn is invalid. */
int
auth0_plan_set_rename( struct auth0_plan_item *pi, const char *dn )
{
	struct berval bv, pdn, ndn, rdn;

	ber_str2bv( dn, 0, 0, &bv );
	if ( dnPrettyNormal( NULL, &bv, &pdn, &ndn, NULL ) != LDAP_SUCCESS )
		return -1;
	ch_free( pi->pi_ndn.bv_val );
	pi->pi_ndn = ndn;
	dnRdn( &pdn, &rdn );
	ber_dupbv( &pi->pi_rdn, &rdn );
	dnRdn( &ndn, &rdn );
	ber_dupbv( &pi->pi_nrdn, &rdn );
	ch_free( pdn.bv_val );
	pi->pi_rename = 1;
	return 0;
}

size_t
auth0_plan_count( struct auth0_plan *pl )
{
	return pl->pl_n;
}

struct auth0_plan_item *
auth0_plan_get( struct auth0_plan *pl, size_t i )
{
	return &pl->pl_items[i];
}

/* The set of targets points into the items: nothing to free. */
static void
keep_node( void *p )
{
}

static int
cmp_ndn( const void *a, const void *b )
{
	return strcmp( ( (const struct berval *)a )->bv_val,
		( (const struct berval *)b )->bv_val );
}

/*
 * "<type>=auth0-moving-<entryUUID of the id>" from the RDN rdn, into *out
 * (allocated).
 */
static void
moving_rdn( struct berval *rdn, const char *id, struct berval *out )
{
	char uuid[37];
	char *eq = memchr( rdn->bv_val, '=', rdn->bv_len );
	int tlen = eq ? (int)( eq - rdn->bv_val ) : 0;

	auth0_map_entryuuid( id, uuid );
	out->bv_len = tlen + 1 + strlen( AUTH0_MOVING_PREFIX ) + 36;
	out->bv_val = ch_malloc( out->bv_len + 1 );
	snprintf( out->bv_val, out->bv_len + 1, "%.*s=%s%s", tlen,
		rdn->bv_val, AUTH0_MOVING_PREFIX, uuid );
}

/* Queues the move of pi's entry away to its temporary RDN; *from gets
 * the temporary DN. */
static void
rename_away( struct auth0_writer *ap, struct auth0_plan_item *pi,
	struct berval *from )
{
	struct berval rdn, nrdn, parent;

	moving_rdn( &pi->pi_rdn, pi->pi_sd->sd_id, &rdn );
	moving_rdn( &pi->pi_nrdn, pi->pi_sd->sd_id, &nrdn );
	auth0_write_rename( ap, &pi->pi_sd->sd_ndn, &rdn, &nrdn, NULL );
	dnParent( &pi->pi_sd->sd_ndn, &parent );
	build_new_dn( from, &parent, &nrdn, NULL );
	ch_free( rdn.bv_val );
	ch_free( nrdn.bv_val );
}

/*
 * Queues the renames of the plan: first away, for every entry whose name
 * is another rename's target, then every entry to its final name.
 */
void
auth0_plan_renames( struct auth0_plan *pl, struct auth0_writer *ap )
{
	void *targets = NULL;
	struct berval *from;
	size_t i;

	from = ch_calloc( pl->pl_n + 1, sizeof( *from ) );
	for ( i = 0; i < pl->pl_n; i++ )
		if ( pl->pl_items[i].pi_rename )
			tsearch( &pl->pl_items[i].pi_ndn, &targets, cmp_ndn );
	for ( i = 0; i < pl->pl_n; i++ ) {
		struct auth0_plan_item *pi = &pl->pl_items[i];

		if ( pi->pi_rename && tfind( &pi->pi_sd->sd_ndn, &targets,
				cmp_ndn ) )
			rename_away( ap, pi, &from[i] );
	}
	for ( i = 0; i < pl->pl_n; i++ ) {
		struct auth0_plan_item *pi = &pl->pl_items[i];

		if ( pi->pi_rename )
			auth0_write_rename( ap, from[i].bv_val ? &from[i] :
				&pi->pi_sd->sd_ndn, &pi->pi_rdn, &pi->pi_nrdn,
				&pi->pi_status );
		ch_free( from[i].bv_val );
	}
	tdestroy( targets, keep_node );
	ch_free( from );
}
