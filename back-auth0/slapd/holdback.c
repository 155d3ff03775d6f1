/* holdback.c - what a failed native resource holds back */
/*
 * A failed resource keeps the containers built from it as stored (diff.c,
 * os_needs).  Connections, native groups and organizations are new: a
 * tenant that never granted read:groups or read:organizations, or has no
 * such objects, would otherwise see ou=groups, ou=roles and
 * ou=applications frozen by a failure that holds nothing.  So a failed
 * native resource of which nothing is stored is let go for this refresh
 * (still reported, and still listed in cn=Monitor): there is nothing of
 * it to keep.  And a renamed organization's role entries move with it.
 * Runs in the refresh task's thread.
 */
#include "portable.h"

#include <ac/string.h>
#include <search.h>

#include "back-auth0.h"

static int
found_cb( Operation *op, SlapReply *rs )
{
	if ( rs->sr_type == REP_SEARCH )
		*(int *)op->o_callback->sc_private = 1;
	return 0;
}

/* 1 when an entry matching filter is stored one level below ou=<ou>. */
static int
stored_any( struct auth0_run *rn, const char *ou, const char *filter )
{
	Operation *op = rn->rn_op;
	slap_callback cb = { 0 };
	SlapReply rs = { REP_RESULT };
	char dnbuf[SLAP_TEXT_BUFLEN];
	struct berval dn, ndn = BER_BVNULL;
	int found = 0;

	snprintf( dnbuf, sizeof( dnbuf ), "ou=%s,%s", ou,
		AUTH0_MC_BASE( &rn->rn_mc ) );
	ber_str2bv( dnbuf, 0, 0, &dn );
	if ( dnNormalize( 0, NULL, NULL, &dn, &ndn, op->o_tmpmemctx ) )
		return 1;	/* cannot tell: hold */
	op->o_tag = LDAP_REQ_SEARCH;
	memset( &op->o_request, 0, sizeof( op->o_request ) );
	op->o_req_dn = dn;
	op->o_req_ndn = ndn;
	op->ors_scope = LDAP_SCOPE_ONELEVEL;
	op->ors_deref = LDAP_DEREF_NEVER;
	op->ors_slimit = 1;
	op->ors_tlimit = SLAP_NO_LIMIT;
	op->ors_attrs = slap_anlist_no_attrs;
	ber_str2bv( filter, 0, 0, &op->ors_filterstr );
	op->ors_filter = str2filter_x( op, filter );
	cb.sc_response = found_cb;
	cb.sc_private = &found;
	op->o_callback = &cb;
	if ( op->ors_filter == NULL )
		found = 1;
	else
		op->o_bd->be_search( op, &rs );
	op->o_callback = NULL;
	if ( op->ors_filter )
		filter_free_x( op, op->ors_filter, 1 );
	op->o_tmpfree( ndn.bv_val, op->o_tmpmemctx );
	if ( rs.sr_err != LDAP_SUCCESS && rs.sr_err != LDAP_NO_SUCH_OBJECT &&
			rs.sr_err != LDAP_SIZELIMIT_EXCEEDED )
		found = 1;
	return found;
}

/*
 * Clears from sn_failed the native resources of which nothing is stored;
 * sn_let_go keeps them for cn=Monitor.
 */
void
auth0_holdback_native( struct auth0_run *rn )
{
	struct auth0_model *m = &rn->rn_model;
	unsigned groups = AUTH0_RES_GROUPS | AUTH0_RES_GROUP_MEMBERS;
	unsigned orgs = AUTH0_RES_ORGS | AUTH0_RES_ORG_MEMBERS;
	unsigned go = 0;

	if ( ( m->sn_failed & groups ) && !stored_any( rn, AUTH0_OU_GROUPS,
			"(&(objectClass=auth0Group)(auth0GroupSource=auth0))" ) )
		go |= m->sn_failed & groups;
	if ( ( m->sn_failed & orgs ) && !stored_any( rn, AUTH0_OU_ORGS,
			"(objectClass=auth0Organization)" ) )
		go |= m->sn_failed & orgs;
	if ( ( m->sn_failed & AUTH0_RES_CONNS ) &&
			!stored_any( rn, AUTH0_OU_APPS,
				"(&(objectClass=auth0Application)(auth0Connection=*))" ) &&
			!stored_any( rn, AUTH0_OU_GROUPS,
				"(&(objectClass=auth0Group)(auth0GroupType=connection))" ) )
		go |= AUTH0_RES_CONNS;
	if ( go == 0 )
		return;
	m->sn_failed &= ~go;
	m->sn_let_go |= go;
	Debug( LDAP_DEBUG_ANY, "auth0: %s: nothing is stored of the failed "
		"native resource(s) (0x%x): the rest is applied without them\n",
		rn->rn_mc.mc_suffix, go );
}

struct moved_ctx {
	struct berval	*mc_old;	/* an organization's old ndn */
	struct berval	mc_new;		/* and its new one */
};

static void
moved_action( const void *node, VISIT which, void *arg )
{
	struct auth0_stored *sd = *(struct auth0_stored *const *)node;
	struct moved_ctx *mc = arg;
	struct berval *ndn = &sd->sd_ndn;
	ber_len_t head;
	char *n;

	/* moved once: in a swap of names, the other organization's old
	 * name is this one's new one */
	if ( ( which != postorder && which != leaf ) || sd->sd_moved ||
			ndn->bv_len <= mc->mc_old->bv_len + 1 )
		return;
	head = ndn->bv_len - mc->mc_old->bv_len;
	if ( ndn->bv_val[head - 1] != ',' || strcmp( ndn->bv_val + head,
			mc->mc_old->bv_val ) != 0 )
		return;
	n = ch_malloc( head + mc->mc_new.bv_len + 1 );
	memcpy( n, ndn->bv_val, head );
	memcpy( n + head, mc->mc_new.bv_val, mc->mc_new.bv_len + 1 );
	ch_free( ndn->bv_val );
	ndn->bv_val = n;
	ndn->bv_len = head + mc->mc_new.bv_len;
	sd->sd_moved = 1;	/* deleted, if at all, after the rename */
}

/*
 * An organization renamed by this refresh takes the role entries below it
 * along (back-mdb renames a subtree): their stored DNs follow, so that
 * they are compared where they will be.
 */
void
auth0_holdback_org_moved( struct auth0_run *rn, struct berval *old,
	const char *newdn )
{
	struct moved_ctx mc = { old, BER_BVNULL };
	struct berval dn;

	ber_str2bv( newdn, 0, 0, &dn );
	if ( dnNormalize( 0, NULL, NULL, &dn, &mc.mc_new, NULL ) != LDAP_SUCCESS )
		return;
	twalk_r( rn->rn_index[AUTH0_OU_ORGROLE].ix_root, moved_action, &mc );
	ch_free( mc.mc_new.bv_val );
}

/* Native group ids are grp_<base58> (auth0-api.md 10); the extension's are GUIDs. */
#define NATIVE_PREFIX	"grp_"

static void
keep_action( const void *node, VISIT which, void *arg )
{
	struct auth0_stored *sd = *(struct auth0_stored *const *)node;

	if ( ( which == postorder || which == leaf ) &&
			strncmp( sd->sd_id, NATIVE_PREFIX,
				sizeof( NATIVE_PREFIX ) - 1 ) == 0 )
		sd->sd_seen = 1;
}

/*
 * When native groups or their members failed, none of them is in the
 * model: their stored entries stay as they are (not deleted), while the
 * extension's groups beside them are applied.
 */
void
auth0_holdback_keep_native( struct auth0_run *rn )
{
	if ( rn->rn_model.sn_failed &
			( AUTH0_RES_GROUPS | AUTH0_RES_GROUP_MEMBERS ) )
		twalk_r( rn->rn_index[AUTH0_OU_GROUP].ix_root, keep_action,
			NULL );
}
