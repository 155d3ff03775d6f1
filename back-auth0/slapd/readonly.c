/* readonly.c - the imported tree is read-only to LDAP clients */
/*
 * ou=people, ou=groups, ou=roles and ou=applications below the base hold
 * what Auth0 says; a change made there over LDAP would be overwritten by
 * the next refresh, so clients (the rootdn included) get
 * unwillingToPerform.  Let through: the module's own writes (marked with
 * an OpExtra by write.c) and replication applying its provider's changes
 * (syncrepl's own operations, or the updatedn), on every kind of database:
 * a multi-provider database is a shadow too, and there clients' writes
 * reach the backend (DESIGN.md section 3).
 */
#include "portable.h"

#include <ac/string.h>

#include "back-auth0.h"

/* The key of the OpExtra that marks the module's own operations. */
static char auth0_own_key;

void
auth0_readonly_mark( Operation *op, OpExtra *oex )
{
	oex->oe_key = &auth0_own_key;
	LDAP_SLIST_INSERT_HEAD( &op->o_extra, oex, oe_next );
}

void
auth0_readonly_unmark( Operation *op, OpExtra *oex )
{
	LDAP_SLIST_REMOVE( &op->o_extra, oex, OpExtra, oe_next );
}

static int
is_own( Operation *op )
{
	OpExtra *oex;

	LDAP_SLIST_FOREACH( oex, &op->o_extra, oe_next )
		if ( oex->oe_key == &auth0_own_key )
			return 1;
	return 0;
}

/* 1 when ndn is a container of the imported tree or below one (the
 * containers sit below the import base, base.c). */
static int
in_imported( BackendDB *be, struct berval *ndn )
{
	static const char *const ous[] = {
		AUTH0_OU_PEOPLE, AUTH0_OU_GROUPS, AUTH0_OU_ROLES, AUTH0_OU_APPS,
		AUTH0_OU_ORGS, NULL
	};
	struct auth0_info *ai = auth0_base_info( be );
	int i;

	for ( i = 0; ous[i]; i++ )
		if ( auth0_base_in( ai, ndn, ous[i], 0 ) )
			return 1;
	return 0;
}

static int
refuse_write( Operation *op, SlapReply *rs )
{
	Debug( LDAP_DEBUG_TRACE, "%s auth0: write to the imported tree "
		"refused: \"%s\"\n", op->o_log_prefix, op->o_req_dn.bv_val );
	rs->sr_err = LDAP_UNWILLING_TO_PERFORM;
	rs->sr_text = "the imported Auth0 tree is read-only; change the data "
		"in Auth0";
	send_ldap_result( op, rs );
	return rs->sr_err;
}

/* bi_op_add/modify/modrdn/delete: refuse clients' writes to our tree. */
int
auth0_op_write( Operation *op, SlapReply *rs )
{
	struct berval pdn, nnew = BER_BVNULL;
	int ours;

	/* be_shadow_update: syncrepl's operations or the updatedn; not any
	 * client of a shadow database, for on a multi-provider one clients'
	 * writes get here */
	if ( is_own( op ) || be_shadow_update( op ) )
		return SLAP_CB_CONTINUE;
	ours = in_imported( op->o_bd, &op->o_req_ndn );
	if ( !ours && op->o_tag == LDAP_REQ_MODRDN ) {
		/* a rename into the tree is a write to it too */
		if ( op->orr_nnewSup )
			pdn = *op->orr_nnewSup;
		else
			dnParent( &op->o_req_ndn, &pdn );
		build_new_dn( &nnew, &pdn, &op->orr_nnewrdn, op->o_tmpmemctx );
		ours = in_imported( op->o_bd, &nnew );
		op->o_tmpfree( nnew.bv_val, op->o_tmpmemctx );
	}
	return ours ? refuse_write( op, rs ) : SLAP_CB_CONTINUE;
}
