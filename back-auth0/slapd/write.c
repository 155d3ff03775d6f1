/* write.c - write mapped entries into back-mdb for back-auth0 */
/*
 * Writes go through internal operations on the database's frontend view,
 * so every overlay on the database (syncprov, accesslog) sees them, as
 * rootdn on a fake connection.  They are queued and run in batches of
 * ai_batch writes (or AUTH0_BATCH_VALUES values), each batch one back-mdb
 * transaction (bi_op_txn): one sync per batch, and a crash never leaves
 * half a batch.  A write back-mdb refuses (an entry in the way, the
 * schema) costs only itself and the batch goes on; a failure of the
 * database rolls the batch back and replays it one write at a time.  The
 * refresh task's thread builds the next batch while a pool task writes
 * the previous one (see struct auth0_writer).
 */
#include "portable.h"

#include <ac/string.h>
#include <pthread.h>
#include <time.h>

#include "back-auth0.h"
#include "digest.h"

struct auth0_write {
	ber_tag_t	wr_type;	/* LDAP_REQ_ADD, _MODIFY, ... */
	struct berval	wr_dn, wr_ndn;
	Entry		*wr_entry;	/* add */
	Modifications	*wr_mods;	/* modify */
	struct berval	wr_newrdn, wr_nnewrdn;	/* modrdn */
	int		*wr_status;	/* gets the result, when set */
};

/* The writes of one transaction. */
struct auth0_batch {
	struct auth0_write	*ba_q;
	int			ba_nq;
	unsigned long		ba_nvals;	/* values held by the queue */
};

/* The state of ap_run. */
enum { W_IDLE, W_QUEUED, W_RUNNING };

/*
 * Two batches: one filled by the refresh thread while a pool thread writes
 * the other, so building entries and back-mdb's writes overlap (as slapadd
 * parses while it writes).  Batches are written strictly in order.
 */
struct auth0_writer {
	struct auth0_info	*ap_ai;
	Operation		*ap_op;
	OpExtra			ap_mark;	/* "our own write" (readonly.c) */
	struct auth0_valcache	*ap_vc;
	int			ap_own_vc;	/* else the run's */
	struct auth0_batch	ap_fill;	/* being queued */
	struct auth0_batch	ap_run;		/* being written */
	int			ap_state;	/* of ap_run, under ap_mutex */
	void			*ap_cookie;	/* its pool task, while queued */
	unsigned long		ap_errors;	/* writes that failed */
	unsigned long		ap_perrors;	/* entries not even queued */
	pthread_mutex_t		ap_mutex;
	pthread_cond_t		ap_cond;
};

static int
result_cb( Operation *op, SlapReply *rs )
{
	/* internal op: nothing goes to a client */
	return 0;
}

int
auth0_write_begin( struct auth0_info *ai, Operation *op,
	struct auth0_valcache *vc, struct auth0_writer **app )
{
	struct auth0_writer *ap = ch_calloc( 1, sizeof( *ap ) );

	ap->ap_ai = ai;
	ap->ap_op = op;
	ap->ap_vc = vc;
	if ( vc == NULL ) {
		ap->ap_vc = auth0_valcache_new();
		ap->ap_own_vc = 1;
	}
	ap->ap_fill.ba_q = ch_calloc( ai->ai_batch, sizeof( struct auth0_write ) );
	ap->ap_run.ba_q = ch_calloc( ai->ai_batch, sizeof( struct auth0_write ) );
	pthread_mutex_init( &ap->ap_mutex, NULL );
	pthread_cond_init( &ap->ap_cond, NULL );
	auth0_readonly_mark( op, &ap->ap_mark );
	*app = ap;
	return 0;
}

static void
write_free( struct auth0_write *w )
{
	ch_free( w->wr_dn.bv_val );
	ch_free( w->wr_ndn.bv_val );
	if ( w->wr_entry )
		entry_free( w->wr_entry );
	if ( w->wr_mods )
		slap_mods_free( w->wr_mods, 1 );
	ch_free( w->wr_newrdn.bv_val );
	ch_free( w->wr_nnewrdn.bv_val );
	memset( w, 0, sizeof( *w ) );
}

/* Resets the parts of the reused Operation that one write sets. */
static void
op_prepare( Operation *op, struct auth0_write *w, slap_callback *cb )
{
	BackendDB *be = op->o_bd;

	op->o_tag = w->wr_type;
	op->o_req_dn = w->wr_dn;
	op->o_req_ndn = w->wr_ndn;
	op->o_dn = be->be_rootdn;
	op->o_ndn = be->be_rootndn;
	memset( &op->o_request, 0, sizeof( op->o_request ) );
	/* each write its own time: slapo-accesslog names its log entry
	 * reqStart=<o_time>.<o_tincr>, and equal names lose all but one */
	slap_op_time( &op->o_time, &op->o_tincr );
	if ( !BER_BVISNULL( &op->o_csn ) ) {
		op->o_tmpfree( op->o_csn.bv_val, op->o_tmpmemctx );
		BER_BVZERO( &op->o_csn );
	}
	memset( cb, 0, sizeof( *cb ) );
	cb->sc_response = result_cb;
}

/* Frees what slap_mods_opattrs() appended after *base. */
static void
mods_cut( Modifications **head, Modifications *last )
{
	Modifications **tail = last ? &last->sml_next : head;

	if ( *tail ) {
		slap_mods_free( *tail, 1 );
		*tail = NULL;
	}
}

static Modifications *
mods_last( Modifications *m )
{
	while ( m && m->sml_next )
		m = m->sml_next;
	return m;
}

static int
exec_modify( Operation *op, SlapReply *rs, struct auth0_write *w )
{
	Modifications *last = mods_last( w->wr_mods );

	op->orm_modlist = w->wr_mods;
	slap_mods_opattrs( op, &op->orm_modlist, 1 );
	w->wr_mods = op->orm_modlist;
	op->o_bd->be_modify( op, rs );
	mods_cut( &w->wr_mods, last );
	return rs->sr_err;
}

static int
exec_modrdn( Operation *op, SlapReply *rs, struct auth0_write *w )
{
	op->orr_newrdn = w->wr_newrdn;
	op->orr_nnewrdn = w->wr_nnewrdn;
	op->orr_deleteoldrdn = 1;
	op->orr_modlist = NULL;
	rs->sr_err = slap_modrdn2mods( op, rs );
	if ( rs->sr_err == LDAP_SUCCESS ) {
		slap_mods_opattrs( op, &op->orr_modlist, 1 );
		op->o_bd->be_modrdn( op, rs );
	}
	if ( op->orr_modlist )
		slap_mods_free( op->orr_modlist, 1 );
	op->orr_modlist = NULL;
	return rs->sr_err;
}

static int
exec_add( Operation *op, SlapReply *rs, struct auth0_write *w )
{
	char textbuf[SLAP_TEXT_BUFLEN];
	const char *text = NULL;

	/* a replayed add gets a fresh entryCSN (none yet: no-op) */
	attr_delete( &w->wr_entry->e_attrs, slap_schema.si_ad_entryCSN );
	op->ora_e = w->wr_entry;
	op->ora_modlist = NULL;
	rs->sr_err = slap_add_opattrs( op, &text, textbuf, sizeof( textbuf ),
		1 );
	if ( rs->sr_err == LDAP_SUCCESS )
		op->o_bd->be_add( op, rs );
	return rs->sr_err;
}

/* Runs one queued write; returns its LDAP result code. */
static int
write_exec( Operation *op, struct auth0_write *w )
{
	SlapReply rs = { REP_RESULT };
	slap_callback cb;

	op_prepare( op, w, &cb );
	op->o_callback = &cb;
	switch ( w->wr_type ) {
	case LDAP_REQ_ADD:
		exec_add( op, &rs, w );
		break;
	case LDAP_REQ_MODIFY:
		exec_modify( op, &rs, w );
		break;
	case LDAP_REQ_MODRDN:
		exec_modrdn( op, &rs, w );
		break;
	case LDAP_REQ_DELETE:
		op->o_bd->be_delete( op, &rs );
		break;
	}
	op->o_callback = NULL;
	/* the last run counts: a replay overwrites a rolled-back success */
	if ( w->wr_status )
		*w->wr_status = rs.sr_err;
	if ( rs.sr_err != LDAP_SUCCESS )
		Debug( LDAP_DEBUG_ANY, "auth0: %s: %s of \"%s\" failed: %s "
			"(%d)%s%s\n", op->o_bd->be_suffix[0].bv_val,
			w->wr_type == LDAP_REQ_ADD ? "add" :
			w->wr_type == LDAP_REQ_MODIFY ? "modify" :
			w->wr_type == LDAP_REQ_MODRDN ? "rename" : "delete",
			w->wr_dn.bv_val, ldap_err2string( rs.sr_err ), rs.sr_err,
			rs.sr_text ? ": " : "", rs.sr_text ? rs.sr_text : "" );
	return rs.sr_err;
}

static int
txn_call( slap_overinst *on, Operation *op, int what, OpExtra **txn )
{
	/* the transaction's OpExtra must not outlive it on our op */
	if ( what != SLAP_TXN_BEGIN && *txn )
		LDAP_SLIST_REMOVE( &op->o_extra, *txn, OpExtra, oe_next );
	return on->on_info->oi_orig->bi_op_txn( op, what, txn );
}

/*
 * 1 when back-mdb refuses an operation with rc before it changed anything
 * (the entry is there or missing, the schema or a value says no): the
 * transaction holds only the batch's other writes and goes on.
 */
static int
refused_cleanly( ber_tag_t type, int rc )
{
	/* a rename changes the DN index before it checks the new entry */
	if ( type == LDAP_REQ_MODRDN )
		return rc == LDAP_ALREADY_EXISTS || rc == LDAP_NO_SUCH_OBJECT;
	switch ( rc ) {
	case LDAP_ALREADY_EXISTS:
	case LDAP_NO_SUCH_OBJECT:
	case LDAP_OBJECT_CLASS_VIOLATION:
	case LDAP_NOT_ALLOWED_ON_RDN:
	case LDAP_NOT_ALLOWED_ON_NONLEAF:
	case LDAP_NAMING_VIOLATION:
	case LDAP_CONSTRAINT_VIOLATION:
	case LDAP_INVALID_SYNTAX:
	case LDAP_UNDEFINED_TYPE:
	case LDAP_NO_SUCH_ATTRIBUTE:
	case LDAP_TYPE_OR_VALUE_EXISTS:
	case LDAP_INAPPROPRIATE_MATCHING:
	case LDAP_UNWILLING_TO_PERFORM:
	case LDAP_INSUFFICIENT_ACCESS:
		return 1;
	default:
		return 0;
	}
}

/*
 * Writes batch ba in one transaction.  A write back-mdb refuses before
 * changing anything costs only itself: the rest of the batch stays in
 * the transaction, so every other write reaches accesslog and syncprov
 * once.  Only a failure of the database itself (or of the commit) rolls
 * the batch back and replays it write by write.  Returns the writes that
 * failed.
 */
static unsigned long
batch_write( slap_overinst *on, Operation *op, struct auth0_batch *ba )
{
	OpExtra *txn = NULL;
	unsigned long errors = 0, refused = 0;
	int i, rc, failed = 0;

	if ( txn_call( on, op, SLAP_TXN_BEGIN, &txn ) != 0 ) {
		failed = 1;
		txn = NULL;
	}
	for ( i = 0; i < ba->ba_nq && !failed; i++ ) {
		rc = write_exec( op, &ba->ba_q[i] );
		if ( rc != LDAP_SUCCESS &&
				refused_cleanly( ba->ba_q[i].wr_type, rc ) )
			refused++;
		else if ( rc != LDAP_SUCCESS )
			failed = 1;
	}
	if ( txn && failed )
		txn_call( on, op, SLAP_TXN_ABORT, &txn );
	else if ( txn && txn_call( on, op, SLAP_TXN_COMMIT, &txn ) != 0 )
		failed = 1;
	if ( !failed )
		return refused;
	Debug( LDAP_DEBUG_ANY, "auth0: %s: batch of %d writes rolled back; "
		"replaying one by one\n", op->o_bd->be_suffix[0].bv_val,
		ba->ba_nq );
	for ( i = 0; i < ba->ba_nq; i++ )
		if ( write_exec( op, &ba->ba_q[i] ) != LDAP_SUCCESS )
			errors++;
	return errors;
}

/*
 * Frees the writes of ba and empties it.  Written batches are freed by
 * the refresh thread that built them: memory freed by the thread that
 * allocated it goes back to that thread's own cache, where the next
 * batch's allocations find it (freed by the writer, it went back through
 * the arena's lock, and malloc was a quarter of building an entry).
 */
static void
batch_clear( struct auth0_batch *ba )
{
	int i;

	for ( i = 0; i < ba->ba_nq; i++ )
		write_free( &ba->ba_q[i] );
	ba->ba_nq = 0;
	ba->ba_nvals = 0;
}

/* Writes ap_run in this thread with op; ap_state is W_RUNNING. */
static void
run_batch( struct auth0_writer *ap, Operation *op )
{
	unsigned long errors = batch_write( ap->ap_ai->ai_on, op, &ap->ap_run );

	pthread_mutex_lock( &ap->ap_mutex );
	ap->ap_errors += errors;
	ap->ap_state = W_IDLE;
	__atomic_store_n( &ap->ap_ai->ai_writers, 0, __ATOMIC_RELAXED );
	pthread_cond_broadcast( &ap->ap_cond );
	pthread_mutex_unlock( &ap->ap_mutex );
}

/* The pool task writing ap_run, on an operation of its own thread. */
static void *
writer_task( void *ctx, void *arg )
{
	struct auth0_writer *ap = arg;
	Connection conn = { 0 };
	OperationBuffer opbuf;
	Operation *op;
	OpExtra mark;

	pthread_mutex_lock( &ap->ap_mutex );
	if ( ap->ap_state != W_QUEUED ) {	/* taken back: see writer_wait */
		pthread_mutex_unlock( &ap->ap_mutex );
		return NULL;
	}
	ap->ap_state = W_RUNNING;
	pthread_mutex_unlock( &ap->ap_mutex );
	auth0_intop_init( ap->ap_ai, &conn, &opbuf, ctx, &op );
	auth0_readonly_mark( op, &mark );
	run_batch( ap, op );
	auth0_readonly_unmark( op, &mark );
	return NULL;
}

/*
 * Waits until ap_run is written.  A task the pool has not started yet
 * (all threads busy, or paused for a cn=config change, which waits for
 * this refresh thread) is taken back and written here instead: waiting
 * for it could wait for ever.
 */
static void
writer_wait( struct auth0_writer *ap )
{
	struct timespec ts;

	pthread_mutex_lock( &ap->ap_mutex );
	while ( ap->ap_state != W_IDLE ) {
		if ( ap->ap_state == W_QUEUED &&
				ldap_pvt_thread_pool_retract( ap->ap_cookie ) == 1 ) {
			ap->ap_state = W_RUNNING;
			pthread_mutex_unlock( &ap->ap_mutex );
			run_batch( ap, ap->ap_op );
			pthread_mutex_lock( &ap->ap_mutex );
			continue;
		}
		/* a pause of slapd's pool waits for this thread too */
		pthread_mutex_unlock( &ap->ap_mutex );
		ldap_pvt_thread_pool_pausecheck( &connection_pool );
		pthread_mutex_lock( &ap->ap_mutex );
		if ( ap->ap_state == W_IDLE )
			break;
		clock_gettime( CLOCK_REALTIME, &ts );
		ts.tv_nsec += 50 * 1000000L;
		if ( ts.tv_nsec >= 1000000000L ) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait( &ap->ap_cond, &ap->ap_mutex, &ts );
	}
	pthread_mutex_unlock( &ap->ap_mutex );
}

/* Hands the filled batch to a writer task once the previous one is done. */
static void
apply_flush( struct auth0_writer *ap )
{
	struct auth0_batch tmp;

	if ( ap->ap_fill.ba_nq == 0 )
		return;
	writer_wait( ap );
	tmp = ap->ap_run;
	ap->ap_run = ap->ap_fill;
	ap->ap_fill = tmp;
	pthread_mutex_lock( &ap->ap_mutex );
	ap->ap_state = W_QUEUED;
	/* a task of ours, not a client: auth0_pace_yield discounts it */
	__atomic_store_n( &ap->ap_ai->ai_writers, 1, __ATOMIC_RELAXED );
	if ( ldap_pvt_thread_pool_submit2( &connection_pool, writer_task, ap,
			&ap->ap_cookie ) != 0 ) {
		ap->ap_state = W_RUNNING;	/* no task: write it here */
		pthread_mutex_unlock( &ap->ap_mutex );
		run_batch( ap, ap->ap_op );
	} else {
		pthread_mutex_unlock( &ap->ap_mutex );
	}
	batch_clear( &ap->ap_fill );	/* written before: see batch_clear */
}

static struct auth0_write *
queue_next( struct auth0_writer *ap )
{
	if ( ap->ap_fill.ba_nq == ap->ap_ai->ai_batch ||
			ap->ap_fill.ba_nvals >= AUTH0_BATCH_VALUES )
		apply_flush( ap );
	return &ap->ap_fill.ba_q[ap->ap_fill.ba_nq++];
}

/* Commits (or drops) what is queued and frees ap; returns errors seen. */
int
auth0_write_end( struct auth0_writer *ap, int commit )
{
	int errors;

	if ( commit )
		apply_flush( ap );
	writer_wait( ap );
	batch_clear( &ap->ap_run );
	batch_clear( &ap->ap_fill );
	errors = (int)( ap->ap_errors + ap->ap_perrors );
	auth0_readonly_unmark( ap->ap_op, &ap->ap_mark );
	if ( ap->ap_own_vc )
		auth0_valcache_free( ap->ap_vc );
	pthread_cond_destroy( &ap->ap_cond );
	pthread_mutex_destroy( &ap->ap_mutex );
	ch_free( ap->ap_fill.ba_q );
	ch_free( ap->ap_run.ba_q );
	ch_free( ap );
	return errors;
}

/* Attributes whose values are DNs of ours: member lists, memberOf. */
static int
dn_valued( AttributeDescription *ad )
{
	Syntax *syn = ad->ad_type->sat_syntax;

	/* DN, and Name And Optional UID (uniqueMember) */
	return ad->ad_type->sat_equality && (
		syn == slap_schema.si_syn_distinguishedName ||
		strcmp( syn->ssyn_oid, "1.3.6.1.4.1.1466.115.121.1.34" ) == 0 );
}

/* Checks and normalises one value into *nv (NULL bv_val: none needed). */
static int
value_check( struct auth0_valcache *vc, AttributeDescription *ad,
	struct berval *bv, struct berval *nv )
{
	Syntax *syn = ad->ad_type->sat_syntax;
	MatchingRule *mr = ad->ad_type->sat_equality;

	BER_BVZERO( nv );
	if ( dn_valued( ad ) )
		return auth0_valcache_dn( vc, ad, bv, nv );
	if ( syn->ssyn_validate( syn, bv ) != LDAP_SUCCESS )
		return LDAP_INVALID_SYNTAX;
	if ( mr && mr->smr_normalize &&
			attr_normalize_one( ad, bv, nv, NULL ) != LDAP_SUCCESS )
		ber_dupbv( nv, bv );
	return LDAP_SUCCESS;
}

static int is_set( AttributeDescription *ad );

/* Drops value i of vals (and nvals) of *n. */
static void
value_drop( BerVarray vals, BerVarray nvals, int *n, int i )
{
	ch_free( vals[i].bv_val );
	if ( nvals )
		ch_free( nvals[i].bv_val );
	for ( ; i < *n; i++ ) {	/* the terminator moves too */
		vals[i] = vals[i + 1];
		if ( nvals )
			nvals[i] = nvals[i + 1];
	}
	( *n )--;
}

/*
 * Sorts the values of a sortvals attribute as slapd does (slap_sort_vals):
 * back-mdb's lookups in such attributes search them by halves, and a
 * value out of order would not match.  A value given twice is dropped.
 */
static void
values_sort( AttributeDescription *ad, BerVarray vals, BerVarray nvals,
	int *n, const char *dn )
{
	Modifications ml = { 0 };
	const char *text = NULL;
	int dup = -1;

	ml.sml_desc = ad;
	ml.sml_values = vals;
	ml.sml_nvalues = nvals;
	for ( ;; ) {
		ml.sml_numvals = *n;
		if ( *n < 2 || slap_sort_vals( &ml, &text, &dup, NULL ) !=
				LDAP_TYPE_OR_VALUE_EXISTS || dup < 0 )
			break;
		Debug( LDAP_DEBUG_TRACE, "auth0: \"%s\": a value of %s given "
			"twice; once is kept\n", dn, ad->ad_cname.bv_val );
		value_drop( vals, nvals, n, dup );
		dup = -1;
	}
}

/*
 * The values of plain attribute pa that the attribute's syntax accepts,
 * and their normalised forms in *nvalsp (NULL when the attribute has no
 * normaliser).  Rejected values are logged and skipped: one odd value must
 * not fail a refresh.  Arrays are sized once: value_add_one() recounts
 * them on every call, quadratic for a group of 100,000 members.  With
 * take, accepted strings move out of pa instead of being copied (pa's
 * strings come from malloc, which is what ch_free expects).
 */
static BerVarray
valid_values( struct auth0_valcache *vc, AttributeDescription *ad,
	struct auth0_eattr *pa, const char *dn, int take, BerVarray *nvalsp,
	int *nout )
{
	MatchingRule *mr = ad->ad_type->sat_equality;
	BerVarray vals, nvals = NULL;
	struct berval bv, nv;
	int i, n = 0;

	*nout = 0;
	*nvalsp = NULL;
	if ( pa == NULL || pa->ea_nvals == 0 )
		return NULL;
	vals = ch_malloc( ( pa->ea_nvals + 1 ) * sizeof( struct berval ) );
	if ( mr && mr->smr_normalize )
		nvals = ch_malloc( ( pa->ea_nvals + 1 ) *
			sizeof( struct berval ) );
	for ( i = 0; i < pa->ea_nvals; i++ ) {
		ber_str2bv( pa->ea_vals[i], 0, 0, &bv );
		if ( value_check( vc, ad, &bv, &nv ) != LDAP_SUCCESS ) {
			auth0_problem( NULL, "\"%s\": a value of %s is "
				"not valid for its syntax; skipped", dn,
				ad->ad_cname.bv_val );
			continue;
		}
		if ( nvals )
			nvals[n] = nv;
		else
			ch_free( nv.bv_val );
		if ( take ) {
			vals[n++] = bv;
			pa->ea_vals[i] = NULL;
		} else {
			ber_dupbv( &vals[n++], &bv );
		}
	}
	BER_BVZERO( &vals[n] );
	if ( nvals )
		BER_BVZERO( &nvals[n] );
	if ( is_set( ad ) )
		values_sort( ad, vals, nvals, &n, dn );
	if ( n == 0 ) {
		ch_free( vals );
		ch_free( nvals );
		vals = nvals = NULL;
	}
	*nvalsp = nvals;
	*nout = n;
	return vals;
}

static AttributeDescription *
find_ad( struct auth0_valcache *vc, const char *name, const char *dn )
{
	AttributeDescription *ad;
	const char *text = NULL;

	ad = auth0_valcache_ad( vc, name, &text );
	if ( ad == NULL )
		auth0_problem( NULL, "\"%s\": attribute %s is not in "
			"the schema (%s); skipped", dn, name, text );
	return ad;
}

/* Hands vals/nvals over to a new attribute of e (no copies). */
static void
attr_take( Entry *e, AttributeDescription *ad, BerVarray vals,
	BerVarray nvals, int n )
{
	Attribute *a, **tail;

	if ( ( a = attr_find( e->e_attrs, ad ) ) != NULL ) {
		/* a name given twice: merge, as slapd would */
		attr_merge( e, ad, vals, nvals );
		ber_bvarray_free( vals );
		ber_bvarray_free( nvals );
		return;
	}
	a = attr_alloc( ad );
	a->a_vals = vals;
	a->a_nvals = nvals ? nvals : vals;
	a->a_numvals = n;
	for ( tail = &e->e_attrs; *tail; tail = &( *tail )->a_next )
		;
	*tail = a;
}

/*
 * Builds a slapd Entry from a plain one, taking pe's values (pe keeps
 * its DN and what was rejected); NULL on a bad DN.
 */
static Entry *
entry_from_plain( struct auth0_valcache *vc, struct auth0_entry *pe,
	const char *uuid )
{
	Entry *e;
	struct berval dn;
	BerVarray vals, nvals;
	int i, n;

	ber_str2bv( pe->en_dn, 0, 0, &dn );
	e = entry_alloc();
	if ( dnPrettyNormal( NULL, &dn, &e->e_name, &e->e_nname, NULL ) !=
			LDAP_SUCCESS ) {
		auth0_problem( NULL, "invalid DN \"%s\"; entry skipped",
			pe->en_dn );
		entry_free( e );
		return NULL;
	}
	/* the groups listing this entry will name it by this very DN */
	auth0_valcache_seed_dn( vc, pe->en_dn, &e->e_nname );
	for ( i = 0; i < pe->en_nattrs; i++ ) {
		AttributeDescription *ad = find_ad( vc,
			pe->en_attrs[i].ea_name, pe->en_dn );
		if ( ad == NULL )
			continue;
		vals = valid_values( vc, ad, &pe->en_attrs[i], pe->en_dn, 1,
			&nvals, &n );
		if ( vals )
			attr_take( e, ad, vals, nvals, n );
	}
	if ( uuid ) {
		struct berval bv;
		ber_str2bv( uuid, 0, 0, &bv );
		attr_merge_normalize_one( e, slap_schema.si_ad_entryUUID, &bv,
			NULL );
	}
	return e;
}

/* Queues the add of pe, taking its values; uuid is its entryUUID. */
int
auth0_write_add( struct auth0_writer *ap, struct auth0_entry *pe,
	const char *uuid )
{
	Entry *e = entry_from_plain( ap->ap_vc, pe, uuid );
	struct auth0_write *w;
	Attribute *a;
	unsigned long n = 0;

	if ( e == NULL ) {
		ap->ap_perrors++;
		return -1;
	}
	for ( a = e->e_attrs; a; a = a->a_next )
		n += a->a_numvals;
	w = queue_next( ap );
	w->wr_type = LDAP_REQ_ADD;
	ber_dupbv( &w->wr_dn, &e->e_name );
	ber_dupbv( &w->wr_ndn, &e->e_nname );
	w->wr_entry = e;
	ap->ap_fill.ba_nvals += n;
	return 0;
}

static int
values_equal( Attribute *a, BerVarray vals, int n )
{
	int i;

	if ( a == NULL )
		return n == 0;
	if ( (int)a->a_numvals != n )
		return 0;
	for ( i = 0; i < n; i++ )
		if ( !bvmatch( &a->a_vals[i], &vals[i] ) )
			return 0;
	return 1;
}

/* Modifications turning stored entry e into want, over names only. */
static Modifications *
mods_for( struct auth0_valcache *vc, Entry *e,
	const struct auth0_entry *want, const char *const *names )
{
	Modifications *head = NULL, **tail = &head;

	for ( ; *names; names++ ) {
		AttributeDescription *ad = find_ad( vc, *names, want->en_dn );
		Attribute *a;
		BerVarray vals, nvals;
		int n;

		if ( ad == NULL )
			continue;
		a = attr_find( e->e_attrs, ad );
		vals = valid_values( vc, ad, auth0_entry_find( want, *names ),
			want->en_dn, 0, &nvals, &n );
		if ( values_equal( a, vals, n ) ) {
			ber_bvarray_free( vals );
			ber_bvarray_free( nvals );
			continue;
		}
		/* the same values in another order are no change; else the
		 * values removed and added where that writes less */
		*tail = auth0_delta_mods( ad, a, vals, nvals, n );
		while ( *tail )
			tail = &(*tail)->sml_next;
	}
	return head;
}

/* Queues the rename of the entry at ndn to want's DN (same parent). */
static int
queue_rename( struct auth0_writer *ap, struct berval *ndn,
	const struct auth0_entry *want )
{
	struct berval dn, pdn, ndn2;
	struct auth0_write *w;

	ber_str2bv( want->en_dn, 0, 0, &dn );
	if ( dnPrettyNormal( NULL, &dn, &pdn, &ndn2, NULL ) != LDAP_SUCCESS )
		return -1;
	w = queue_next( ap );
	w->wr_type = LDAP_REQ_MODRDN;
	ber_dupbv( &w->wr_dn, ndn );
	ber_dupbv( &w->wr_ndn, ndn );
	dnRdn( &pdn, &dn );
	ber_dupbv( &w->wr_newrdn, &dn );
	dnRdn( &ndn2, &dn );
	ber_dupbv( &w->wr_nnewrdn, &dn );
	ch_free( pdn.bv_val );
	ch_free( ndn2.bv_val );
	return 0;
}

/*
 * The modifications turning the stored entry at ndn into want.  With key
 * set, the entry must carry id in attribute key: a modify never lands on
 * another object's entry.  0 with *modsp NULL: nothing to change.
 */
static int
mods_at( struct auth0_writer *ap, struct berval *ndn,
	const struct auth0_entry *want, const char *const *managed,
	const char *key, const char *id, Modifications **modsp )
{
	Operation *op = ap->ap_op;
	AttributeDescription *kad = NULL;
	Entry *e = NULL;
	Attribute *a;
	int rc = 0;

	*modsp = NULL;
	if ( be_entry_get_rw( op, ndn, NULL, NULL, 0, &e ) != LDAP_SUCCESS ||
			e == NULL ) {
		Debug( LDAP_DEBUG_ANY, "auth0: %s: cannot read \"%s\" to "
			"update it\n", op->o_bd->be_suffix[0].bv_val, ndn->bv_val );
		return -1;
	}
	if ( key && ( kad = find_ad( ap->ap_vc, key, want->en_dn ) ) ) {
		a = attr_find( e->e_attrs, kad );
		if ( a == NULL || a->a_numvals != 1 ||
				strcmp( a->a_vals[0].bv_val, id ) != 0 ) {
			Debug( LDAP_DEBUG_ANY, "auth0: %s: \"%s\" is not the "
				"entry of %s; not updated\n",
				op->o_bd->be_suffix[0].bv_val, ndn->bv_val, id );
			rc = -1;
		}
	}
	if ( rc == 0 )
		*modsp = mods_for( ap->ap_vc, e, want, managed );
	be_entry_release_r( op, e );
	return rc;
}

/* Queues the modify of the entry at ndn by mods (taken). */
static void
queue_modify( struct auth0_writer *ap, struct berval *ndn,
	Modifications *mods )
{
	struct auth0_write *w = queue_next( ap );

	w->wr_type = LDAP_REQ_MODIFY;
	ber_dupbv( &w->wr_dn, ndn );
	ber_dupbv( &w->wr_ndn, ndn );
	w->wr_mods = mods;
	for ( ; mods; mods = mods->sml_next )
		ap->ap_fill.ba_nvals += mods->sml_numvals;
}

/*
 * Queues what turns the stored entry at ndn into want: a rename first when
 * rename is set (want has another DN), then a modify of the attributes in
 * managed that differ.  Returns 1 when something was queued, 0 when the
 * entry already holds want, -1 on error.
 */
int
auth0_write_update( struct auth0_writer *ap, struct berval *ndn,
	const struct auth0_entry *want, const char *const *managed,
	int rename )
{
	Modifications *mods;
	struct berval dn, pdn, nndn;

	if ( mods_at( ap, ndn, want, managed, NULL, NULL, &mods ) != 0 ) {
		ap->ap_perrors++;
		return -1;
	}
	if ( rename && queue_rename( ap, ndn, want ) != 0 ) {
		slap_mods_free( mods, 1 );
		ap->ap_perrors++;
		return -1;
	}
	if ( mods == NULL )
		return rename;
	ber_str2bv( want->en_dn, 0, 0, &dn );
	if ( dnPrettyNormal( NULL, &dn, &pdn, &nndn, NULL ) != LDAP_SUCCESS ) {
		queue_modify( ap, ndn, mods );
		return 1;
	}
	queue_modify( ap, &nndn, mods );
	ch_free( pdn.bv_val );
	ch_free( nndn.bv_val );
	return 1;
}

/*
 * Queues the modify turning the entry of object id (attribute key) at ndn
 * into want.  Returns 1 when queued, 0 when nothing differs, -1 on error
 * (also when the entry at ndn is another object's).
 */
int
auth0_write_modify( struct auth0_writer *ap, struct berval *ndn,
	const struct auth0_entry *want, const char *const *managed,
	const char *key, const char *id )
{
	Modifications *mods;

	if ( mods_at( ap, ndn, want, managed, key, id, &mods ) != 0 ) {
		ap->ap_perrors++;
		return -1;
	}
	if ( mods == NULL )
		return 0;
	queue_modify( ap, ndn, mods );
	return 1;
}

/*
 * Queues the rename of the entry at ndn to newrdn (same parent); *status
 * gets the result once written (see auth0_write_barrier).
 */
int
auth0_write_rename( struct auth0_writer *ap, struct berval *ndn,
	struct berval *newrdn, struct berval *nnewrdn, int *status )
{
	struct auth0_write *w = queue_next( ap );

	w->wr_type = LDAP_REQ_MODRDN;
	ber_dupbv( &w->wr_dn, ndn );
	ber_dupbv( &w->wr_ndn, ndn );
	ber_dupbv( &w->wr_newrdn, newrdn );
	ber_dupbv( &w->wr_nnewrdn, nnewrdn );
	w->wr_status = status;
	return 0;
}

/* Writes everything queued so far and waits: statuses are then set. */
void
auth0_write_barrier( struct auth0_writer *ap )
{
	apply_flush( ap );
	writer_wait( ap );
}

int
auth0_write_delete( struct auth0_writer *ap, struct berval *ndn )
{
	struct auth0_write *w = queue_next( ap );

	w->wr_type = LDAP_REQ_DELETE;
	ber_dupbv( &w->wr_dn, ndn );
	ber_dupbv( &w->wr_ndn, ndn );
	return 0;
}

/* Whether slapd keeps the values of ad sorted (sortvals): compared as a
 * set, since the mapper's order is another. */
static int
is_set( AttributeDescription *ad )
{
	return ad && ( ad->ad_type->sat_flags & SLAP_AT_SORTED_VAL );
}

/* Fills sets[i] for each of names: its values compare as a set. */
void
auth0_write_sets( struct auth0_valcache *vc, const char *const *names,
	unsigned char *sets )
{
	const char *text;
	int i;

	for ( i = 0; names[i]; i++ )
		sets[i] = is_set( auth0_valcache_ad( vc, names[i], &text ) );
}

/* Fingerprint of e's attributes in names, as auth0_entry_digest_sets()
 * with the sets of auth0_write_sets(). */
int
auth0_write_entry_digest( struct auth0_valcache *vc, Entry *e,
	const char *const *names, unsigned char out[16] )
{
	struct auth0_digest d;
	unsigned i;

	if ( auth0_digest_init( &d ) != AUTH0_OK )
		return -1;
	for ( ; *names; names++ ) {
		const char *text;
		AttributeDescription *ad = auth0_valcache_ad( vc, *names,
			&text );
		Attribute *a = ad ? attr_find( e->e_attrs, ad ) : NULL;

		if ( is_set( ad ) )
			auth0_digest_attr_set( &d, *names,
				a ? (int)a->a_numvals : 0 );
		else
			auth0_digest_attr( &d, *names, a ? (int)a->a_numvals : 0 );
		for ( i = 0; a && i < a->a_numvals; i++ )
			auth0_digest_value( &d, a->a_vals[i].bv_val,
				a->a_vals[i].bv_len );
	}
	auth0_digest_final( &d, out );
	return 0;
}
