/* intop.c - internal operations of back-auth0 on its database */
/*
 * The refresh task and its writer tasks read and write the database
 * through an Operation on a fake connection, as the database's rootdn,
 * so every overlay on it (syncprov, accesslog) sees the writes.
 */
#include "portable.h"

#include "back-auth0.h"

/* An internal operation on the database, as its rootdn, for thread ctx. */
void
auth0_intop_init( struct auth0_info *ai, Connection *conn,
	OperationBuffer *opbuf, void *ctx, Operation **opp )
{
	Operation *op;

	connection_fake_init2( conn, opbuf, ctx, 0 );
	op = &opbuf->ob_op;
	op->o_bd = select_backend( &ai->ai_nsuffix, 0 );
	op->o_dn = op->o_bd->be_rootdn;
	op->o_ndn = op->o_bd->be_rootndn;
	*opp = op;
}
