/* diff.c - diff the mapped tenant against back-mdb and queue the writes */
/*
 * For each container (ou=people, groups, roles, applications,
 * organizations, and the organizations' role entries below them): index
 * what is stored by its Auth0 id with a fingerprint of the managed
 * attributes, map every object of the model and record in the plan (plan.c) each
 * stored entry whose fingerprint or DN differs.  Only then is anything
 * written, in the order of DESIGN.md 8.1: deletes of what the source no
 * longer has, the renames (plan.c), adds, and the modifies of entries
 * whose rename succeeded.  A container whose source failed is left alone;
 * users are only deleted when every user record was read and within
 * auth0-max-delete.  uidNumbers and gidNumbers are kept on the entries
 * (they follow the Auth0 id through renames) and new ones come from
 * counters on ou=people and ou=groups.  A change feed run (rn_partial,
 * slapd/feed.c) goes through the same plan but compares and adds only the
 * users and containers whose data moved, and deletes only the users Auth0
 * said are gone.
 * Runs in the refresh task's thread only.
 */
#include "portable.h"

#include <ac/string.h>
#include <search.h>

#include "back-auth0.h"
#include "bindcache.h"

/* How each container is keyed and numbered. */
struct ouspec {
	const char		*os_ou;
	const char		*os_key;	/* attribute holding the id */
	const char		*os_oc;
	const char		*os_number;	/* uidNumber, gidNumber or NULL */
	unsigned		os_needs;	/* AUTH0_RES_* it is built from */
	int			os_scope;	/* of its stored entries */
	const char		*os_label;	/* in the log */
	const char		*os_kind;	/* attribute naming the source of
						 * an entry of a mixed container,
						 * or NULL */
	const char		*os_kind0;	/* its value for kind 0 */
	const char		*os_kind1;	/* ... and for kind 1 */
};

/* Kinds of entries a container may hold (struct auth0_stored sd_kind). */
#define AUTH0_KINDS	2

/* What native groups and organizations are built from (DESIGN.md 8.3). */
#define NATIVE_GROUPS	( AUTH0_RES_GROUPS | AUTH0_RES_GROUP_MEMBERS )
#define NATIVE_ORGS	( AUTH0_RES_USERS | AUTH0_RES_ORGS | \
	AUTH0_RES_ORG_MEMBERS )

static const struct ouspec ous[AUTH0_OU_N] = {
	{ AUTH0_OU_PEOPLE, "auth0UserId", "auth0User", "uidNumber",
		AUTH0_RES_USERS, LDAP_SCOPE_ONELEVEL, "people" },
	/* native groups failed: holdback.c keeps theirs, the rest applies */
	{ AUTH0_OU_GROUPS, "auth0GroupId", "auth0Group", "gidNumber",
		AUTH0_RES_USERS | AUTH0_RES_AUTHZ | AUTH0_RES_ROLES |
		AUTH0_RES_CONNS, LDAP_SCOPE_ONELEVEL, "groups",
		"auth0GroupSource", "authz", "auth0" },
	{ AUTH0_OU_ROLES, "auth0RoleId", "auth0Role", "gidNumber",
		AUTH0_RES_USERS | AUTH0_RES_ROLES | AUTH0_RES_AUTHZ |
		NATIVE_GROUPS, LDAP_SCOPE_ONELEVEL, "roles",
		"auth0RoleSource", "rbac", "authz" },
	{ AUTH0_OU_APPS, "auth0ClientId", "auth0Application", NULL,
		AUTH0_RES_USERS | AUTH0_RES_CLIENTS | AUTH0_RES_ROLES |
		AUTH0_RES_AUTHZ | NATIVE_GROUPS | AUTH0_RES_CONNS,
		LDAP_SCOPE_ONELEVEL, "applications" },
	{ AUTH0_OU_ORGS, "auth0OrganizationId", "auth0Organization", NULL,
		NATIVE_ORGS, LDAP_SCOPE_ONELEVEL, "organizations" },
	{ AUTH0_OU_ORGS, "auth0OrganizationRoleId", "auth0OrganizationRole",
		NULL, NATIVE_ORGS | AUTH0_RES_ROLES, LDAP_SCOPE_SUBTREE,
		"organization roles" },
};

const char *
auth0_diff_ou( enum auth0_ou ou )
{
	return ous[ou].os_label;
}

static int
cmp_stored( const void *a, const void *b )
{
	const struct auth0_stored *x = a, *y = b;

	return strcmp( x->sd_id, y->sd_id );
}

static void
stored_free( void *p )
{
	struct auth0_stored *sd = p;

	ch_free( sd->sd_id );
	ch_free( sd->sd_ndn.bv_val );
	ch_free( sd );
}

struct index_ctx {
	struct auth0_index	*ic_ix;
	AttributeDescription	*ic_key;
	AttributeDescription	*ic_number;	/* NULL when not numbered */
	AttributeDescription	*ic_kind;	/* NULL: one kind only */
	const char		*ic_kind1;
	const char *const	*ic_attrs;
	struct auth0_valcache	*ic_vc;
	struct auth0_run	*ic_rn;
};

static void
index_entry( struct index_ctx *ic, Entry *e )
{
	struct auth0_index *ix = ic->ic_ix;
	struct auth0_stored *sd, key;
	Attribute *a = attr_find( e->e_attrs, ic->ic_key );

	if ( a == NULL || a->a_numvals == 0 )
		return;		/* not an entry of ours */
	key.sd_id = a->a_vals[0].bv_val;
	if ( tfind( &key, &ix->ix_root, cmp_stored ) ) {
		auth0_problem( ic->ic_rn->rn_ai, "\"%s\" repeats the %s of "
			"another entry; ignored", e->e_name.bv_val,
			ic->ic_key->ad_cname.bv_val );
		return;
	}
	sd = ch_calloc( 1, sizeof( *sd ) );
	sd->sd_id = ch_strdup( a->a_vals[0].bv_val );
	ber_dupbv( &sd->sd_ndn, &e->e_nname );
	a = ic->ic_number ? attr_find( e->e_attrs, ic->ic_number ) : NULL;
	if ( a && a->a_numvals > 0 )
		lutil_atoul( &sd->sd_number, a->a_vals[0].bv_val );
	if ( sd->sd_number > ix->ix_max_number )
		ix->ix_max_number = sd->sd_number;
	if ( sd->sd_number >= ix->ix_lo && sd->sd_number <= ix->ix_hi &&
			sd->sd_number > ix->ix_max_in_range )
		ix->ix_max_in_range = sd->sd_number;
	a = ic->ic_kind ? attr_find( e->e_attrs, ic->ic_kind ) : NULL;
	if ( a && a->a_numvals > 0 &&
			strcasecmp( a->a_vals[0].bv_val, ic->ic_kind1 ) == 0 )
		sd->sd_kind = 1;
	auth0_write_entry_digest( ic->ic_vc, e, ic->ic_attrs, sd->sd_digest );
	if ( tsearch( sd, &ix->ix_root, cmp_stored ) == NULL ) {
		stored_free( sd );
		ix->ix_err = 1;
		return;
	}
	ix->ix_count++;
}

static int
index_cb( Operation *op, SlapReply *rs )
{
	struct index_ctx *ic = op->o_callback->sc_private;

	if ( rs->sr_type == REP_SEARCH ) {
		index_entry( ic, rs->sr_entry );
		auth0_pace_yield( ic->ic_rn );
	}
	return 0;
}

static void
ou_dn( struct auth0_run *rn, enum auth0_ou ou, char *buf, size_t len )
{
	snprintf( buf, len, "ou=%s,%s", ous[ou].os_ou,
		AUTH0_MC_BASE( &rn->rn_mc ) );
}

/* Reads the stored entries of one container into rn_index[ou]. */
static int
index_load( struct auth0_run *rn, enum auth0_ou ou, const char *const *attrs )
{
	Operation *op = rn->rn_op;
	slap_callback cb = { 0 };
	SlapReply rs = { REP_RESULT };
	struct index_ctx ic = { &rn->rn_index[ou], NULL, NULL, NULL,
		ous[ou].os_kind1, attrs, rn->rn_vc, rn };
	char dnbuf[SLAP_TEXT_BUFLEN], fbuf[64];
	struct berval dn, ndn = BER_BVNULL;
	const char *text;
	int rc;

	if ( slap_str2ad( ous[ou].os_key, &ic.ic_key, &text ) ||
			( ous[ou].os_number && slap_str2ad( ous[ou].os_number,
				&ic.ic_number, &text ) ) ||
			( ous[ou].os_kind && slap_str2ad( ous[ou].os_kind,
				&ic.ic_kind, &text ) ) )
		return -1;
	ou_dn( rn, ou, dnbuf, sizeof( dnbuf ) );
	ber_str2bv( dnbuf, 0, 0, &dn );
	if ( dnNormalize( 0, NULL, NULL, &dn, &ndn, op->o_tmpmemctx ) )
		return -1;
	op->o_tag = LDAP_REQ_SEARCH;
	memset( &op->o_request, 0, sizeof( op->o_request ) );
	op->o_req_dn = dn;
	op->o_req_ndn = ndn;
	op->ors_scope = ous[ou].os_scope;
	op->ors_deref = LDAP_DEREF_NEVER;
	op->ors_slimit = SLAP_NO_LIMIT;
	op->ors_tlimit = SLAP_NO_LIMIT;
	op->ors_attrs = NULL;
	snprintf( fbuf, sizeof( fbuf ), "(objectClass=%s)", ous[ou].os_oc );
	ber_str2bv( fbuf, 0, 0, &op->ors_filterstr );
	op->ors_filter = str2filter_x( op, fbuf );
	cb.sc_response = index_cb;
	cb.sc_private = &ic;
	op->o_callback = &cb;
	rc = op->o_bd->be_search( op, &rs );
	op->o_callback = NULL;
	filter_free_x( op, op->ors_filter, 1 );
	op->o_tmpfree( ndn.bv_val, op->o_tmpmemctx );
	if ( rs.sr_err == LDAP_NO_SUCH_OBJECT )
		return 0;
	return ( rc || rs.sr_err || ic.ic_ix->ix_err ) ? -1 : 0;
}

static struct auth0_stored *index_find( struct auth0_index *ix,
	const char *id );

/*
 * A partial (change feed) run reads only the stored users it may touch:
 * the entries at the DNs in rn_lookup (old and new DNs of dirty users).
 */
static int
index_some( struct auth0_run *rn, const char *const *attrs )
{
	struct index_ctx ic = { &rn->rn_index[AUTH0_OU_USERS], NULL, NULL,
		NULL, ous[AUTH0_OU_USERS].os_kind1, attrs, rn->rn_vc, rn };
	Operation *op = rn->rn_op;
	struct berval dn, ndn;
	const char *text;
	Entry *e;
	char **p;

	if ( slap_str2ad( "auth0UserId", &ic.ic_key, &text ) ||
			slap_str2ad( "uidNumber", &ic.ic_number, &text ) )
		return -1;
	for ( p = rn->rn_lookup; p && *p; p++ ) {
		ber_str2bv( *p, 0, 0, &dn );
		if ( dnNormalize( 0, NULL, NULL, &dn, &ndn, NULL ) )
			continue;
		e = NULL;
		if ( be_entry_get_rw( op, &ndn, NULL, NULL, 0, &e ) ==
				LDAP_SUCCESS && e ) {
			/* an old DN may be another dirty user's new one */
			Attribute *a = attr_find( e->e_attrs, ic.ic_key );
			if ( a && a->a_numvals &&
					index_find( ic.ic_ix, a->a_vals[0].bv_val ) == NULL )
				index_entry( &ic, e );
			be_entry_release_r( op, e );
		}
		ch_free( ndn.bv_val );
	}
	return ic.ic_ix->ix_err ? -1 : 0;
}

static struct auth0_stored *
index_find( struct auth0_index *ix, const char *id )
{
	struct auth0_stored key, **p;

	key.sd_id = (char *)id;
	p = tfind( &key, &ix->ix_root, cmp_stored );
	return p ? *p : NULL;
}

void
auth0_diff_free( struct auth0_run *rn )
{
	int ou;

	for ( ou = 0; ou < AUTH0_OU_N; ou++ ) {
		tdestroy( rn->rn_index[ou].ix_root, stored_free );
		ch_free( rn->rn_sets[ou] );
		rn->rn_sets[ou] = NULL;
		memset( &rn->rn_index[ou], 0, sizeof( rn->rn_index[ou] ) );
	}
	auth0_valcache_free( rn->rn_vc );
	rn->rn_vc = NULL;
	auth0_ids_free( rn );
}

/*
 * A number for a new entry: the persisted counter, but never below the
 * range nor at or below a number stored within it.  -1 when exhausted.
 */
static long
next_number( unsigned long *next, unsigned long hi )
{
	if ( *next > hi )
		return -1;
	return (long)( *next )++;
}

/*
 * The next number to hand out in [lo, hi].  The stored counter is the
 * high-water mark of every number handed out; within the range it is
 * followed, so no number is handed out twice.  After auth0-uid-range or
 * auth0-gid-range moved (cn=config), allocation starts at the new low
 * end, or above the highest number stored within the new range when the
 * counter lies beyond it.  Numbers already stored never change.  *mark
 * gets the stored counter, which is never lowered (sync_all).
 */
static void
load_counter( struct auth0_run *rn, enum auth0_ou ou, const char *attr,
	unsigned long lo, unsigned long hi, unsigned long max_in_range,
	unsigned long *next, unsigned long *mark )
{
	char dn[SLAP_TEXT_BUFLEN];

	*mark = 0;
	ou_dn( rn, ou, dn, sizeof( dn ) );
	auth0_tree_get_counter( rn->rn_op, dn, attr, mark );
	*next = *mark;
	if ( *next < lo || *next > hi + 1 )
		*next = lo;
	if ( max_in_range >= *next )
		*next = max_in_range + 1;
}

static const char *const *attrs_for( struct auth0_run *rn, enum auth0_ou ou );

/* Maps object idx of container ou into pe. */
static int
map_one( struct auth0_run *rn, enum auth0_ou ou, size_t idx, long number,
	struct auth0_entry *pe )
{
	struct auth0_model *m = &rn->rn_model;

	switch ( ou ) {
	case AUTH0_OU_USERS:
		return auth0_map_user( m, &m->sn_users[idx], number, &rn->rn_mc,
			pe );
	case AUTH0_OU_GROUP:
		return auth0_map_group( m, &m->sn_groups[idx], number,
			&rn->rn_mc, pe );
	case AUTH0_OU_ROLE:
		return auth0_map_role( m, &m->sn_roles[idx], number, &rn->rn_mc,
			pe );
	case AUTH0_OU_ORG:
		return auth0_map_org( m, &m->sn_orgs[idx], &rn->rn_mc, pe );
	case AUTH0_OU_ORGROLE:
		return auth0_map_orgrole( m, &m->sn_orgroles[idx], &rn->rn_mc,
			pe );
	default:
		return auth0_map_client( m, &m->sn_clients[idx], &rn->rn_mc, pe );
	}
}

static const char *
object_id( struct auth0_run *rn, enum auth0_ou ou, size_t idx )
{
	struct auth0_model *m = &rn->rn_model;

	switch ( ou ) {
	case AUTH0_OU_USERS:
		return m->sn_users[idx].us_id;
	case AUTH0_OU_GROUP:
		return m->sn_groups[idx].gr_id;
	case AUTH0_OU_ROLE:
		return m->sn_roles[idx].ro_id;
	case AUTH0_OU_ORG:
		return m->sn_orgs[idx].og_id;
	case AUTH0_OU_ORGROLE:
		return m->sn_orgroles[idx].or_key;
	default:
		return m->sn_clients[idx].cl_id;
	}
}

static size_t
object_count( struct auth0_run *rn, enum auth0_ou ou )
{
	struct auth0_model *m = &rn->rn_model;
	size_t n[AUTH0_OU_N] = { m->sn_nusers, m->sn_ngroups, m->sn_nroles,
		m->sn_nclients, m->sn_norgs, m->sn_norgroles };

	return n[ou];
}

/* Number for the object: stored one, else a new one (-1: exhausted). */
static long
number_for( struct auth0_run *rn, enum auth0_ou ou, size_t idx,
	struct auth0_stored *sd )
{
	long mapped;

	if ( ous[ou].os_number == NULL )
		return 0;
	if ( ou == AUTH0_OU_USERS ) {
		/* an id given in metadata (auth0-map-attribute, checked by
		 * ids.c) wins */
		mapped = rn->rn_model.sn_users[idx].us_uidnumber;
		if ( mapped > 0 )
			return mapped;
	}
	if ( sd && sd->sd_number )
		return (long)sd->sd_number;
	if ( ou == AUTH0_OU_USERS ) {
		/* never a number given to another user in metadata */
		while ( rn->rn_next_uid <= rn->rn_uid_hi &&
				auth0_ids_claimed( rn, rn->rn_next_uid ) )
			rn->rn_next_uid++;
		return next_number( &rn->rn_next_uid, rn->rn_uid_hi );
	}
	return next_number( &rn->rn_next_gid, rn->rn_gid_hi );
}

/*
 * Compares the stored entry sd with pe, its object mapped, and records a
 * change in the plan.  Returns 1 when the entry moves to another DN.
 */
static int
diff_entry( struct auth0_run *rn, struct auth0_plan *pl, enum auth0_ou ou,
	size_t idx, struct auth0_stored *sd, struct auth0_entry *pe,
	const char *const *attrs )
{
	struct auth0_stats *st = &rn->rn_st[ou];
	struct auth0_plan_item *pi;
	struct berval dn, ndn = BER_BVNULL;
	unsigned char dg[16];
	int moved;

	ber_str2bv( pe->en_dn, 0, 0, &dn );
	if ( dnNormalize( 0, NULL, NULL, &dn, &ndn, NULL ) != LDAP_SUCCESS ) {
		st->st_errors++;
		return 0;
	}
	moved = !bvmatch( &ndn, &sd->sd_ndn );
	auth0_entry_digest_sets( pe, attrs, rn->rn_sets[ou], dg );
	if ( !moved && memcmp( dg, sd->sd_digest, 16 ) == 0 ) {
		st->st_unchanged++;
	} else {
		pi = auth0_plan_add( pl, ou, idx, sd );
		if ( moved && auth0_plan_set_rename( pi, pe->en_dn ) == 0 )
			st->st_renames++;
	}
	ch_free( ndn.bv_val );
	return moved;
}

/* Maps object idx of ou with its number into pe; counts failures. */
static int
map_object( struct auth0_run *rn, enum auth0_ou ou, size_t idx,
	struct auth0_stored *sd, struct auth0_entry *pe )
{
	long number = number_for( rn, ou, idx, sd );

	if ( number < 0 ) {
		/* one line per refresh for all of them (report_exhausted) */
		int r = ou != AUTH0_OU_USERS;

		if ( rn->rn_exhausted[r]++ == 0 )
			rn->rn_exhausted_id[r] = object_id( rn, ou, idx );
		rn->rn_st[ou].st_errors++;
		return -1;
	}
	if ( map_one( rn, ou, idx, number, pe ) != AUTH0_OK ) {
		rn->rn_st[ou].st_errors++;
		return -1;
	}
	return 0;
}

static void
progress( struct auth0_run *rn, enum auth0_ou ou, size_t i, size_t n,
	const char *what )
{
	auth0_pace_yield( rn );
	/* a cn=config write pauses slapd's pool: let it (not while reading
	 * the stored entries, where back-mdb's search pauses by itself) */
	if ( i % 64 == 0 )
		ldap_pvt_thread_pool_pausecheck( &connection_pool );
	if ( ou == AUTH0_OU_USERS && ( i + 1 ) % 10000 == 0 )
		Log( LDAP_DEBUG_STATS, LDAP_LEVEL_INFO, "auth0: %s: %lu of "
			"%lu users %s\n", rn->rn_mc.mc_suffix,
			(unsigned long)i + 1, (unsigned long)n, what );
}

/* 1 when a change feed run leaves object idx of ou alone (not moved). */
static int
not_compared( struct auth0_run *rn, enum auth0_ou ou, size_t idx )
{
	if ( !rn->rn_partial )
		return 0;
	if ( ou == AUTH0_OU_USERS )
		return !rn->rn_dirty[idx];
	return !rn->rn_cdirty[ou] || !rn->rn_cdirty[ou][idx];
}

/* The diff of one container: stored objects that change go to pl. */
static void
diff_objects( struct auth0_run *rn, struct auth0_plan *pl,
	enum auth0_ou ou, const char *const *attrs )
{
	struct auth0_stats *st = &rn->rn_st[ou];
	size_t i, n = object_count( rn, ou );

	st->st_objects = n;
	for ( i = 0; i < n && !slapd_shutdown; i++ ) {
		const char *key = object_id( rn, ou, i );
		struct auth0_stored *sd;
		struct auth0_entry pe;
		int moved;

		/* a change feed run compares only what moved */
		if ( not_compared( rn, ou, i ) ) {
			st->st_unchanged++;
			continue;
		}
		sd = index_find( &rn->rn_index[ou], key );
		if ( sd == NULL )
			continue;	/* an add: written after the renames */
		sd->sd_seen = 1;
		if ( map_object( rn, ou, i, sd, &pe ) != 0 )
			continue;
		moved = diff_entry( rn, pl, ou, i, sd, &pe, attrs );
		if ( ou == AUTH0_OU_ORG && moved )
			auth0_holdback_org_moved( rn, &sd->sd_ndn, pe.en_dn );
		/* a user blocked or renamed in Auth0 loses its cached password */
		if ( ou == AUTH0_OU_USERS && rn->rn_ai->ai_bindcache &&
				( moved || auth0_entry_has( &pe, "auth0Blocked",
					"TRUE" ) ) )
			auth0_bindcache_forget( rn->rn_ai->ai_bindcache,
				sd->sd_ndn.bv_val );
		auth0_entry_free( &pe );
		progress( rn, ou, i, n, "compared" );
	}
}

/*
 * The objects a full number range left out: a problem while it lasts (a
 * tenant past the default range would otherwise log each of them) and
 * their count at stats on every refresh.
 */
static void
report_exhausted( struct auth0_run *rn )
{
	static const char *const range[2] = {
		"auth0-uid-range", "auth0-gid-range" };
	int r;

	for ( r = 0; r < 2; r++ ) {
		if ( rn->rn_exhausted[r] == 0 )
			continue;
		auth0_problem( rn->rn_ai, "%s is exhausted: objects beyond it "
			"are not imported until it is widened", range[r] );
		Log( LDAP_DEBUG_STATS, LDAP_LEVEL_INFO, "auth0: %s: %s "
			"exhausted: %lu objects not imported (the first: %s)\n",
			rn->rn_mc.mc_suffix, range[r],
			(unsigned long)rn->rn_exhausted[r],
			rn->rn_exhausted_id[r] );
	}
}

/* Queues the objects of ou that have no entry yet. */
static void
add_objects( struct auth0_run *rn, struct auth0_writer *ap, enum auth0_ou ou )
{
	size_t i, n = object_count( rn, ou );

	for ( i = 0; i < n && !slapd_shutdown; i++ ) {
		const char *key = object_id( rn, ou, i );
		struct auth0_entry pe;
		char uuid[37];

		/* a change feed run read only the entries of what moved */
		if ( not_compared( rn, ou, i ) ||
				index_find( &rn->rn_index[ou], key ) )
			continue;
		if ( map_object( rn, ou, i, NULL, &pe ) != 0 )
			continue;
		auth0_map_entryuuid( key, uuid );
		if ( auth0_write_add( ap, &pe, uuid ) == 0 )
			rn->rn_st[ou].st_adds++;
		auth0_entry_free( &pe );
		progress( rn, ou, i, n, "processed" );
	}
}

/*
 * Queues the modify of every changed entry at the name it now has; an
 * entry whose rename failed is left alone (its modify would land on
 * whatever holds the new name).
 */
static void
modify_objects( struct auth0_run *rn, struct auth0_writer *ap,
	struct auth0_plan *pl )
{
	size_t i, n = auth0_plan_count( pl );

	for ( i = 0; i < n && !slapd_shutdown; i++ ) {
		struct auth0_plan_item *pi = auth0_plan_get( pl, i );
		enum auth0_ou ou = pi->pi_ou;
		struct auth0_stats *st = &rn->rn_st[ou];
		struct auth0_entry pe;
		int rc;

		if ( pi->pi_rename && pi->pi_status != LDAP_SUCCESS ) {
			auth0_problem( rn->rn_ai, "\"%s\" not updated: its "
				"rename failed", pi->pi_sd->sd_ndn.bv_val );
			continue;
		}
		if ( map_object( rn, ou, pi->pi_idx, pi->pi_sd, &pe ) != 0 )
			continue;
		rc = auth0_write_modify( ap, &pi->pi_ndn, &pe, attrs_for( rn, ou ),
			ous[ou].os_key, pi->pi_sd->sd_id );
		if ( rc > 0 && !pi->pi_rename )
			st->st_mods++;
		else if ( rc == 0 && !pi->pi_rename )
			st->st_unchanged++;
		auth0_entry_free( &pe );
		progress( rn, AUTH0_OU_N, i, n, "modified" );
	}
}

struct delete_ctx {
	struct auth0_writer	*dc_ap;
	struct auth0_stats	*dc_st;
	struct auth0_bindcache	*dc_cache;	/* users only */
	char			**dc_gone;	/* partial run: only these */
	int			dc_moved;	/* 1: only entries whose
						 * organization moves */
};

static int
cmp_id( const void *a, const void *b )
{
	return strcmp( *(char *const *)a, *(char *const *)b );
}

static void
delete_action( const void *node, VISIT which, void *arg )
{
	struct auth0_stored *sd = *(struct auth0_stored *const *)node;
	struct delete_ctx *dc = arg;

	if ( ( which != postorder && which != leaf ) || sd->sd_seen ||
			sd->sd_moved != dc->dc_moved )
		return;
	/* a change feed run deletes only users Auth0 said are gone */
	if ( dc->dc_gone && !bsearch( &sd->sd_id, dc->dc_gone,
			auth0_strv_len( dc->dc_gone ), sizeof( char * ), cmp_id ) )
		return;
	auth0_write_delete( dc->dc_ap, &sd->sd_ndn );
	dc->dc_st->st_dels++;
	/* a deleted user's cached password goes with it */
	if ( dc->dc_cache )
		auth0_bindcache_forget( dc->dc_cache, sd->sd_ndn.bv_val );
}

/* Stored users the source no longer has. */
static unsigned long
count_gone( struct auth0_run *rn, enum auth0_ou ou )
{
	size_t i, n = object_count( rn, ou ), seen = 0;

	for ( i = 0; i < n; i++ )
		if ( index_find( &rn->rn_index[ou], object_id( rn, ou, i ) ) )
			seen++;
	return rn->rn_index[ou].ix_count - seen;
}

/* 0 when deleting ndel users is allowed; else fills rn_err. */
static int
delete_guard( struct auth0_run *rn, unsigned long ndel )
{
	unsigned long stored = rn->rn_partial ? rn->rn_stored_users :
		rn->rn_index[AUTH0_OU_USERS].ix_count;
	unsigned long limit = rn->rn_max_delete;

	if ( ndel == 0 || rn->rn_force )
		return 0;
	if ( rn->rn_max_delete_pct )
		limit = stored * rn->rn_max_delete / 100;
	if ( ndel <= limit )
		return 0;
	snprintf( rn->rn_err, sizeof( rn->rn_err ), "refresh would delete "
		"%lu of %lu users, more than auth0-max-delete %lu%s allows; "
		"nothing written", ndel, stored, rn->rn_max_delete,
		rn->rn_max_delete_pct ? "%" : "" );
	return -1;
}

struct kinds_ctx {
	unsigned long	kc_stored[AUTH0_KINDS];
	unsigned long	kc_kept[AUTH0_KINDS];
};

static void
kinds_action( const void *node, VISIT which, void *arg )
{
	struct auth0_stored *sd = *(struct auth0_stored *const *)node;
	struct kinds_ctx *kc = arg;

	if ( which != postorder && which != leaf )
		return;
	kc->kc_stored[sd->sd_kind]++;
	if ( sd->sd_seen )
		kc->kc_kept[sd->sd_kind]++;
}

/* " (auth0RoleSource rbac)" for kind k of a mixed container, else "". */
static void
kind_name( enum auth0_ou ou, int k, char *buf, size_t len )
{
	buf[0] = '\0';
	if ( ous[ou].os_kind )
		snprintf( buf, len, " (%s %s)", ous[ou].os_kind,
			k ? ous[ou].os_kind1 : ous[ou].os_kind0 );
}

/*
 * After the diff: 0 when no container but ou=people loses every entry of
 * a kind at once (a missing roles.json, an empty extension or clients
 * answer looks just like that); else fills rn_err.  Users have their own
 * limit (delete_guard).
 */
static int
container_guard( struct auth0_run *rn, const int del[AUTH0_OU_N] )
{
	char kind[64];
	int ou, k;

	if ( rn->rn_force )
		return 0;
	for ( ou = AUTH0_OU_USERS + 1; ou < AUTH0_OU_N; ou++ ) {
		struct kinds_ctx kc = { { 0 } };

		/* an organization's role entries follow its members' roles:
		 * losing the last one is an ordinary change (a lost source
		 * shows on ou=organizations itself) */
		if ( !del[ou] || rn->rn_st[ou].st_skipped ||
				ou == AUTH0_OU_ORGROLE )
			continue;
		twalk_r( rn->rn_index[ou].ix_root, kinds_action, &kc );
		for ( k = 0; k < AUTH0_KINDS; k++ ) {
			if ( kc.kc_stored[k] == 0 || kc.kc_kept[k] > 0 )
				continue;
			kind_name( ou, k, kind, sizeof( kind ) );
			snprintf( rn->rn_err, sizeof( rn->rn_err ), "refresh "
				"would delete all %lu entries under ou=%s%s, as if "
				"their source were empty; nothing written "
				"(olcAuth0ForceDelete allows it once)",
				kc.kc_stored[k], ous[ou].os_ou, kind );
			return -1;
		}
	}
	return 0;
}

static const char *const *
attrs_for( struct auth0_run *rn, enum auth0_ou ou )
{
	static const char *const *const lists[AUTH0_OU_N] = {
		NULL, auth0_map_group_attrs, auth0_map_role_attrs,
		auth0_map_client_attrs, auth0_map_org_attrs,
		auth0_map_orgrole_attrs
	};

	return ou == AUTH0_OU_USERS ? (const char *const *)rn->rn_user_attrs :
		lists[ou];
}

/* Which of ou's attributes compare as sets of values. */
static void
load_sets( struct auth0_run *rn, enum auth0_ou ou )
{
	const char *const *attrs = attrs_for( rn, ou );
	size_t n = 0;

	while ( attrs[n] )
		n++;
	ch_free( rn->rn_sets[ou] );
	rn->rn_sets[ou] = ch_calloc( n + 1, 1 );
	auth0_write_sets( rn->rn_vc, attrs, rn->rn_sets[ou] );
}

/* Loads every container's index and the id counters. */
static int
sync_prepare( struct auth0_run *rn )
{
	unsigned long maxgid;
	int ou, some;

	if ( rn->rn_vc == NULL )
		rn->rn_vc = auth0_valcache_new();
	for ( ou = 0; ou < AUTH0_OU_N; ou++ ) {
		rn->rn_index[ou].ix_lo = ou == AUTH0_OU_USERS ? rn->rn_uid_lo :
			rn->rn_gid_lo + 1;
		rn->rn_index[ou].ix_hi = ou == AUTH0_OU_USERS ? rn->rn_uid_hi :
			rn->rn_gid_hi;
		load_sets( rn, ou );
		/* a change feed run reads no container it does not compare,
		 * unless ids.c checks metadata numbers against all of it */
		some = rn->rn_partial && !auth0_ids_need_index( rn, ou );
		if ( some && ou != AUTH0_OU_USERS && rn->rn_ncdirty[ou] == 0 )
			continue;
		if ( ou == AUTH0_OU_USERS && some ?
				index_some( rn, attrs_for( rn, ou ) ) :
				index_load( rn, ou, attrs_for( rn, ou ) ) ) {
			snprintf( rn->rn_err, sizeof( rn->rn_err ), "cannot read "
				"the stored entries under ou=%s", ous[ou].os_ou );
			return -1;
		}
	}
	load_counter( rn, AUTH0_OU_USERS, "auth0UidNumberNext", rn->rn_uid_lo,
		rn->rn_uid_hi, rn->rn_index[AUTH0_OU_USERS].ix_max_in_range,
		&rn->rn_next_uid, &rn->rn_uid_mark );
	/* the first gid is every user's primary group: groups start after */
	maxgid = rn->rn_index[AUTH0_OU_GROUP].ix_max_in_range;
	if ( rn->rn_index[AUTH0_OU_ROLE].ix_max_in_range > maxgid )
		maxgid = rn->rn_index[AUTH0_OU_ROLE].ix_max_in_range;
	load_counter( rn, AUTH0_OU_GROUP, "auth0GidNumberNext",
		rn->rn_gid_lo + 1, rn->rn_gid_hi, maxgid, &rn->rn_next_gid,
		&rn->rn_gid_mark );
	return 0;
}

/* Which containers this refresh may delete from; -1 when none at all. */
static int
deletable( struct auth0_run *rn, int del[AUTH0_OU_N] )
{
	unsigned failed = rn->rn_model.sn_failed;
	int ou;

	/* a change feed run deletes confirmed users only (dc_gone), no
	 * container entry: it did not compare the rest */
	for ( ou = 0; ou < AUTH0_OU_N; ou++ )
		del[ou] = !( failed & ous[ou].os_needs ) &&
			( !rn->rn_partial || ou == AUTH0_OU_USERS );
	if ( !rn->rn_model.sn_complete ) {
		auth0_problem( rn->rn_ai, "%lu malformed user records: no "
			"user is deleted by this refresh",
			(unsigned long)rn->rn_model.sn_bad );
		del[AUTH0_OU_USERS] = 0;
	}
	if ( del[AUTH0_OU_USERS] &&
			delete_guard( rn, count_gone( rn, AUTH0_OU_USERS ) ) )
		return -1;
	return 0;
}

/*
 * Brings the containers in line with the model: the whole change set
 * first, then its writes in the order of DESIGN.md 8.1 (deletes, renames
 * away and to their final names, adds, then modifies of the entries at
 * the names they really have).  Returns the number of entries that failed
 * to apply, or -1 when nothing was written (rn_err says why).
 */
int
auth0_diff_run( struct auth0_run *rn )
{
	struct auth0_writer *ap;
	struct auth0_plan *pl;
	unsigned long uid0, gid0;
	int del[AUTH0_OU_N], ou, errors;
	char dn[SLAP_TEXT_BUFLEN];

	if ( sync_prepare( rn ) || deletable( rn, del ) )
		return -1;
	auth0_ids_check( rn );
	auth0_pace_phase( rn, 2 );
	uid0 = rn->rn_next_uid;
	gid0 = rn->rn_next_gid;
	pl = auth0_plan_new();
	for ( ou = 0; ou < AUTH0_OU_N && !slapd_shutdown; ou++ ) {
		if ( rn->rn_model.sn_failed & ous[ou].os_needs )
			rn->rn_st[ou].st_skipped = 1;
		else
			diff_objects( rn, pl, ou, attrs_for( rn, ou ) );
		if ( ou == AUTH0_OU_GROUP && !rn->rn_st[ou].st_skipped )
			auth0_holdback_keep_native( rn );
	}
	if ( container_guard( rn, del ) ) {
		auth0_plan_free( pl );
		return -1;
	}
	auth0_write_begin( rn->rn_ai, rn->rn_op, rn->rn_vc, &ap );
	for ( ou = 0; ou < AUTH0_OU_N && !slapd_shutdown; ou++ ) {
		/* an organization goes after the role entries below it */
		int d = ou == AUTH0_OU_ORG ? AUTH0_OU_ORGROLE :
			ou == AUTH0_OU_ORGROLE ? AUTH0_OU_ORG : ou;
		struct delete_ctx dc = { ap, &rn->rn_st[d], d == AUTH0_OU_USERS ?
			rn->rn_ai->ai_bindcache : NULL, d == AUTH0_OU_USERS &&
			rn->rn_partial ? rn->rn_gone : NULL, 0 };
		if ( del[d] && !rn->rn_st[d].st_skipped )
			twalk_r( rn->rn_index[d].ix_root, delete_action, &dc );
	}
	auth0_plan_renames( pl, ap );
	/* role entries below a renamed organization are where it moved to */
	if ( del[AUTH0_OU_ORGROLE] && !rn->rn_st[AUTH0_OU_ORGROLE].st_skipped &&
			!slapd_shutdown ) {
		struct delete_ctx dc = { ap, &rn->rn_st[AUTH0_OU_ORGROLE], NULL,
			NULL, 1 };
		twalk_r( rn->rn_index[AUTH0_OU_ORGROLE].ix_root, delete_action,
			&dc );
	}
	for ( ou = 0; ou < AUTH0_OU_N && !slapd_shutdown; ou++ )
		if ( !rn->rn_st[ou].st_skipped )
			add_objects( rn, ap, ou );
	/* the renames' results decide which modifies may go ahead */
	auth0_write_barrier( ap );
	modify_objects( rn, ap, pl );
	report_exhausted( rn );
	/* the counters only grow: a lower range leaves the mark as it is */
	if ( rn->rn_next_uid != uid0 && rn->rn_next_uid > rn->rn_uid_mark ) {
		ou_dn( rn, AUTH0_OU_USERS, dn, sizeof( dn ) );
		auth0_tree_set_counter( ap, dn, "auth0UidNumberNext",
			rn->rn_next_uid );
	}
	if ( rn->rn_next_gid != gid0 && rn->rn_next_gid > rn->rn_gid_mark ) {
		ou_dn( rn, AUTH0_OU_GROUP, dn, sizeof( dn ) );
		auth0_tree_set_counter( ap, dn, "auth0GidNumberNext",
			rn->rn_next_gid );
	}
	/* the change feed's checkpoint goes with the last batch */
	if ( rn->rn_checkpoint )
		auth0_tree_set_checkpoint( ap, rn->rn_mc.mc_suffix,
			rn->rn_checkpoint );
	errors = auth0_write_end( ap, !slapd_shutdown );
	auth0_plan_free( pl );
	return errors;
}
