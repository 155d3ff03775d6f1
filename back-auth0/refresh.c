/* refresh.c - the refresh task of back-auth0 */
/*
 * fetch -> model -> map -> diff -> apply (DESIGN.md section 1).  Runs on
 * slapd's runqueue, at start and every auth0-refresh-interval, never on a
 * listener thread and never twice at once; searches keep being served
 * from back-mdb meanwhile.  Stored users are indexed by auth0UserId with a
 * fingerprint of their managed attributes, so an unchanged user costs a
 * lookup and no write.  Nothing is deleted when the source was incomplete,
 * nor beyond auth0-max-delete.
 */
#include "portable.h"

#include <ac/string.h>
#include <search.h>

#include "back-auth0.h"
#include "ldap_rq.h"

/* A user entry found in the database. */
struct auth0_stored {
	char		*sd_id;		/* auth0UserId */
	struct berval	sd_ndn;
	unsigned long	sd_uidnumber;	/* 0 when none */
	unsigned char	sd_digest[16];
	int		sd_seen;
};

struct auth0_index {
	void		*ix_root;	/* tsearch tree of auth0_stored */
	unsigned long	ix_count;
	unsigned long	ix_max_uidnumber;
	int		ix_err;
};

/* Everything one run needs, so the steps stay short. */
struct auth0_run {
	struct auth0_info	*rn_ai;
	Operation		*rn_op;
	struct auth0_model	rn_model;
	struct auth0_index	rn_index;
	struct auth0_mapconf	rn_mc;
	struct auth0_stats	rn_st;
	unsigned long		rn_next_uid;
	unsigned long		rn_uid_lo, rn_uid_hi;
	char			rn_people[SLAP_TEXT_BUFLEN];
	char			rn_err[AUTH0_ERRLEN];
};

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

static int
index_entry( struct auth0_index *ix, Entry *e )
{
	AttributeDescription *ad_id = NULL, *ad_uidn = NULL;
	struct auth0_stored *sd, key;
	const char *text;
	Attribute *a;

	if ( slap_str2ad( "auth0UserId", &ad_id, &text ) ||
			slap_str2ad( "uidNumber", &ad_uidn, &text ) )
		return -1;
	a = attr_find( e->e_attrs, ad_id );
	if ( a == NULL || a->a_numvals == 0 )
		return 0;	/* not ours */
	key.sd_id = a->a_vals[0].bv_val;
	if ( tfind( &key, &ix->ix_root, cmp_stored ) ) {
		Debug( LDAP_DEBUG_ANY, "auth0: \"%s\" repeats auth0UserId of "
			"another entry; ignored\n", e->e_name.bv_val );
		return 0;
	}
	sd = ch_calloc( 1, sizeof( *sd ) );
	sd->sd_id = ch_strdup( a->a_vals[0].bv_val );
	ber_dupbv( &sd->sd_ndn, &e->e_nname );
	a = attr_find( e->e_attrs, ad_uidn );
	if ( a && a->a_numvals > 0 )
		lutil_atoul( &sd->sd_uidnumber, a->a_vals[0].bv_val );
	if ( sd->sd_uidnumber > ix->ix_max_uidnumber )
		ix->ix_max_uidnumber = sd->sd_uidnumber;
	auth0_apply_entry_digest( e, auth0_map_user_attrs, sd->sd_digest );
	tsearch( sd, &ix->ix_root, cmp_stored );
	ix->ix_count++;
	return 0;
}

static int
index_cb( Operation *op, SlapReply *rs )
{
	struct auth0_index *ix = op->o_callback->sc_private;

	if ( rs->sr_type == REP_SEARCH && index_entry( ix, rs->sr_entry ) )
		ix->ix_err = 1;
	return 0;
}

/* Reads every stored user under ou=people into rn_index. */
static int
index_load( struct auth0_run *rn )
{
	Operation *op = rn->rn_op;
	slap_callback cb = { 0 };
	SlapReply rs = { REP_RESULT };
	struct berval dn, ndn = BER_BVNULL, fstr;
	int rc;

	ber_str2bv( rn->rn_people, 0, 0, &dn );
	if ( dnNormalize( 0, NULL, NULL, &dn, &ndn, op->o_tmpmemctx ) )
		return -1;
	op->o_tag = LDAP_REQ_SEARCH;
	memset( &op->o_request, 0, sizeof( op->o_request ) );
	op->o_req_dn = dn;
	op->o_req_ndn = ndn;
	op->ors_scope = LDAP_SCOPE_ONELEVEL;
	op->ors_deref = LDAP_DEREF_NEVER;
	op->ors_slimit = SLAP_NO_LIMIT;
	op->ors_tlimit = SLAP_NO_LIMIT;
	op->ors_attrs = NULL;
	BER_BVSTR( &fstr, "(objectClass=auth0User)" );
	op->ors_filterstr = fstr;
	op->ors_filter = str2filter_x( op, fstr.bv_val );
	cb.sc_response = index_cb;
	cb.sc_private = &rn->rn_index;
	op->o_callback = &cb;
	rc = op->o_bd->be_search( op, &rs );
	op->o_callback = NULL;
	filter_free_x( op, op->ors_filter, 1 );
	op->o_tmpfree( ndn.bv_val, op->o_tmpmemctx );
	if ( rs.sr_err == LDAP_NO_SUCH_OBJECT )
		return 0;
	return ( rc || rs.sr_err || rn->rn_index.ix_err ) ? -1 : 0;
}

static struct auth0_stored *
index_find( struct auth0_index *ix, const char *id )
{
	struct auth0_stored key, **p;

	key.sd_id = (char *)id;
	p = tfind( &key, &ix->ix_root, cmp_stored );
	return p ? *p : NULL;
}

/* Folds a uid as the uid attribute's equality rule does (DN matching). */
static char *
fold_uid( const char *s )
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

static void
warn_log( void *arg, const char *msg )
{
	Debug( LDAP_DEBUG_ANY, "auth0: %s: %s\n", (const char *)arg, msg );
}

/* Source -> model.  Keeps what is stored when the source fails. */
static int
run_fetch( struct auth0_run *rn, const char *dir, char **conns )
{
	struct auth0_select sel = { conns };
	struct auth0_model *m = &rn->rn_model;
	int rc;

	m->sn_warn = warn_log;
	m->sn_warn_arg = (void *)dir;
	rc = auth0_snapdir_read_users( dir, &sel, m, rn->rn_err );
	if ( rc )
		return rc;
	if ( m->sn_bad > AUTH0_MAX_WARNINGS )
		Debug( LDAP_DEBUG_ANY, "auth0: %s: %lu malformed records in "
			"all (only the first %d reported)\n", dir,
			(unsigned long)m->sn_bad, AUTH0_MAX_WARNINGS );
	rn->rn_st.st_bad = m->sn_bad;
	rc = auth0_map_assign_uids( m, fold_uid );
	if ( rc )
		snprintf( rn->rn_err, sizeof( rn->rn_err ), "out of memory "
			"choosing uids" );
	return rc;
}

static void
report_fallbacks( struct auth0_run *rn )
{
	size_t i;

	for ( i = 0; i < rn->rn_model.sn_nusers; i++ ) {
		struct auth0_user *u = &rn->rn_model.sn_users[i];
		if ( u->us_uid_fallback )
			Debug( LDAP_DEBUG_ANY, "auth0: uid of user %s collides "
				"with a user whose user_id sorts lower; it gets "
				"uid=%s\n", u->us_id, u->us_uid );
	}
}

/* Marks stored users still present; returns how many would be deleted. */
static unsigned long
count_deletes( struct auth0_run *rn )
{
	unsigned long seen = 0;
	size_t i;

	for ( i = 0; i < rn->rn_model.sn_nusers; i++ ) {
		struct auth0_stored *sd = index_find( &rn->rn_index,
			rn->rn_model.sn_users[i].us_id );
		if ( sd && !sd->sd_seen ) {
			sd->sd_seen = 1;
			seen++;
		}
	}
	return rn->rn_index.ix_count - seen;
}

/* 0 when the deletes are allowed; else fills rn_err. */
static int
delete_guard( struct auth0_run *rn, unsigned long ndel, int force )
{
	struct auth0_info *ai = rn->rn_ai;
	unsigned long limit = ai->ai_max_delete;

	if ( ndel == 0 || force )
		return 0;
	if ( !rn->rn_model.sn_complete ) {
		snprintf( rn->rn_err, sizeof( rn->rn_err ), "source incomplete "
			"(%lu malformed records): %lu deletions postponed",
			(unsigned long)rn->rn_model.sn_bad, ndel );
		return -1;
	}
	if ( ai->ai_max_delete_pct )
		limit = rn->rn_index.ix_count * ai->ai_max_delete / 100;
	if ( ndel <= limit )
		return 0;
	snprintf( rn->rn_err, sizeof( rn->rn_err ), "refresh would delete "
		"%lu of %lu users, more than auth0-max-delete %lu%s allows; "
		"nothing written", ndel, rn->rn_index.ix_count,
		ai->ai_max_delete, ai->ai_max_delete_pct ? "%" : "" );
	return -1;
}

static long
uidnumber_for( struct auth0_run *rn, struct auth0_stored *sd )
{
	if ( sd && sd->sd_uidnumber )
		return (long)sd->sd_uidnumber;
	if ( rn->rn_next_uid > rn->rn_uid_hi )
		return -1;
	return (long)rn->rn_next_uid++;
}

/* Maps one user and queues what its entry needs. */
static void
sync_user( struct auth0_run *rn, struct auth0_apply *ap,
	struct auth0_user *u )
{
	struct auth0_stored *sd = index_find( &rn->rn_index, u->us_id );
	struct auth0_entry pe;
	unsigned char dg[16];
	struct berval dn, ndn = BER_BVNULL;
	char uuid[37];
	long uidn = uidnumber_for( rn, sd );
	int rc;

	if ( uidn < 0 ) {
		Debug( LDAP_DEBUG_ANY, "auth0: auth0-uid-range exhausted; user "
			"%s not imported\n", u->us_id );
		rn->rn_st.st_errors++;
		return;
	}
	if ( auth0_map_user( u, uidn, &rn->rn_mc, &pe ) != AUTH0_OK ) {
		rn->rn_st.st_errors++;
		return;
	}
	if ( sd == NULL ) {
		auth0_map_entryuuid( u->us_id, uuid );
		rc = auth0_apply_add( ap, &pe, uuid );
		rn->rn_st.st_adds += rc == 0;
		goto done;
	}
	ber_str2bv( pe.en_dn, 0, 0, &dn );
	if ( dnNormalize( 0, NULL, NULL, &dn, &ndn, NULL ) != LDAP_SUCCESS ) {
		rn->rn_st.st_errors++;
		goto done;
	}
	auth0_entry_digest( &pe, auth0_map_user_attrs, dg );
	if ( bvmatch( &ndn, &sd->sd_ndn ) &&
			memcmp( dg, sd->sd_digest, 16 ) == 0 ) {
		rn->rn_st.st_unchanged++;
		goto done;
	}
	rc = auth0_apply_update( ap, &sd->sd_ndn, &pe, auth0_map_user_attrs,
		!bvmatch( &ndn, &sd->sd_ndn ) );
	if ( rc > 0 && !bvmatch( &ndn, &sd->sd_ndn ) )
		rn->rn_st.st_renames++;
	else if ( rc > 0 )
		rn->rn_st.st_mods++;
	else if ( rc == 0 )
		rn->rn_st.st_unchanged++;
done:
	ch_free( ndn.bv_val );
	auth0_entry_free( &pe );
}

static void
delete_action( const void *node, VISIT which, void *arg )
{
	struct auth0_stored *sd = *(struct auth0_stored *const *)node;
	struct auth0_run *rn = ( (void **)arg )[0];
	struct auth0_apply *ap = ( (void **)arg )[1];

	if ( ( which != postorder && which != leaf ) || sd->sd_seen )
		return;
	auth0_apply_delete( ap, &sd->sd_ndn );
	rn->rn_st.st_dels++;
}

static void
queue_deletes( struct auth0_run *rn, struct auth0_apply *ap )
{
	void *arg[2] = { rn, ap };

	twalk_r( rn->rn_index.ix_root, delete_action, arg );
}

/* Writes the differences; returns the number of failed writes. */
static int
run_apply( struct auth0_run *rn, int deletes )
{
	struct auth0_info *ai = rn->rn_ai;
	struct auth0_apply *ap;
	unsigned long next0;
	size_t i;

	auth0_apply_begin( ai, rn->rn_op, &ap );
	next0 = rn->rn_next_uid;
	for ( i = 0; i < rn->rn_model.sn_nusers && !slapd_shutdown; i++ ) {
		sync_user( rn, ap, &rn->rn_model.sn_users[i] );
		if ( ( i + 1 ) % 10000 == 0 )
			Log( LDAP_DEBUG_STATS, LDAP_LEVEL_INFO, "auth0: %s: "
				"%lu of %lu users processed\n", rn->rn_people,
				(unsigned long)i + 1,
				(unsigned long)rn->rn_model.sn_nusers );
	}
	if ( deletes && !slapd_shutdown )
		queue_deletes( rn, ap );
	if ( rn->rn_next_uid != next0 )
		auth0_apply_set_counter( ap, rn->rn_people,
			"auth0UidNumberNext", rn->rn_next_uid );
	return auth0_apply_end( ap, !slapd_shutdown );
}

/*
 * The next uidNumber: the persisted counter, but never below the range
 * nor at or below an id already stored within the range.
 */
static void
run_ids( struct auth0_run *rn )
{
	unsigned long lo = rn->rn_uid_lo, hi = rn->rn_uid_hi, next = lo;

	auth0_apply_get_counter( rn->rn_op, rn->rn_people,
		"auth0UidNumberNext", &next );
	if ( next < lo )
		next = lo;
	if ( rn->rn_index.ix_max_uidnumber >= next &&
			rn->rn_index.ix_max_uidnumber <= hi )
		next = rn->rn_index.ix_max_uidnumber + 1;
	rn->rn_next_uid = next;
}

static void
op_init( struct auth0_info *ai, Connection *conn, OperationBuffer *opbuf,
	void *ctx, Operation **opp )
{
	Operation *op;

	connection_fake_init2( conn, opbuf, ctx, 0 );
	op = &opbuf->ob_op;
	op->o_bd = select_backend( &ai->ai_nsuffix, 0 );
	op->o_dn = op->o_bd->be_rootdn;
	op->o_ndn = op->o_bd->be_rootndn;
	*opp = op;
}

/* Takes what this run needs from the configuration, under ai_mutex. */
static int
run_config( struct auth0_run *rn, char **dir, char ***conns, int *force )
{
	struct auth0_info *ai = rn->rn_ai;
	int i;

	ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
	if ( ai->ai_running ) {
		ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
		return -1;
	}
	ai->ai_running = 1;
	ai->ai_last_attempt = slap_get_time();
	*dir = ch_strdup( ai->ai_snapshot_dir ? ai->ai_snapshot_dir : "" );
	*conns = NULL;
	if ( ai->ai_nconnections ) {
		*conns = ch_calloc( ai->ai_nconnections + 1, sizeof( char * ) );
		for ( i = 0; i < ai->ai_nconnections; i++ )
			( *conns )[i] = ch_strdup( ai->ai_connections[i] );
	}
	rn->rn_uid_lo = ai->ai_uid_lo;
	rn->rn_uid_hi = ai->ai_uid_hi;
	*force = ai->ai_force_delete;
	rn->rn_mc.mc_gid_default = (long)ai->ai_gid_lo;
	ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
	return 0;
}

static void
run_finish( struct auth0_run *rn, int ok, int force )
{
	struct auth0_info *ai = rn->rn_ai;

	ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
	ai->ai_running = 0;
	ai->ai_refreshes++;
	ai->ai_last = rn->rn_st;
	if ( ok ) {
		ai->ai_last_success = slap_get_time();
		if ( force )
			ai->ai_force_delete = 0;
	}
	snprintf( ai->ai_last_error, sizeof( ai->ai_last_error ), "%s",
		rn->rn_err );
	ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
}

static void
run_steps( struct auth0_run *rn, const char *dir, char **conns, int force )
{
	unsigned long ndel;
	int deletes = 1;

	if ( run_fetch( rn, dir, conns ) )
		return;
	report_fallbacks( rn );
	rn->rn_st.st_users = rn->rn_model.sn_nusers;
	if ( auth0_apply_containers( rn->rn_ai, rn->rn_op ) ) {
		snprintf( rn->rn_err, sizeof( rn->rn_err ), "cannot create the "
			"containers of the imported tree" );
		return;
	}
	if ( index_load( rn ) ) {
		snprintf( rn->rn_err, sizeof( rn->rn_err ), "cannot read the "
			"stored users under %s", rn->rn_people );
		return;
	}
	run_ids( rn );
	ndel = count_deletes( rn );
	if ( delete_guard( rn, ndel, force ) ) {
		/* an incomplete source still updates, but deletes nothing */
		if ( rn->rn_model.sn_complete )
			return;
		deletes = 0;
	}
	rn->rn_st.st_errors += run_apply( rn, deletes );
}

/*
 * One refresh.  Returns 0 when it ran to the end (even with errors in
 * single entries), -1 when it did not run or kept the stored data.
 */
int
auth0_refresh_run( struct auth0_info *ai, void *ctx )
{
	struct auth0_run *rn = ch_calloc( 1, sizeof( *rn ) );
	Connection conn = { 0 };
	OperationBuffer opbuf;
	char *dir = NULL, **conns = NULL;
	struct timeval t0, t1;
	int force = 0, ok, i;

	rn->rn_ai = ai;
	auth0_model_init( &rn->rn_model );
	if ( run_config( rn, &dir, &conns, &force ) ) {
		ch_free( rn );
		return -1;
	}
	gettimeofday( &t0, NULL );
	op_init( ai, &conn, &opbuf, ctx, &rn->rn_op );
	snprintf( rn->rn_people, sizeof( rn->rn_people ), "ou=%s,%s",
		AUTH0_OU_PEOPLE, rn->rn_op->o_bd->be_suffix[0].bv_val );
	rn->rn_mc.mc_suffix = rn->rn_op->o_bd->be_suffix[0].bv_val;
	rn->rn_mc.mc_home_prefix = AUTH0_HOME_PREFIX;
	rn->rn_mc.mc_shell = AUTH0_DEFAULT_SHELL;
	run_steps( rn, dir, conns, force );
	if ( rn->rn_index.ix_count || rn->rn_index.ix_root )
		tdestroy( rn->rn_index.ix_root, stored_free );
	ok = rn->rn_err[0] == '\0';
	if ( !ok )
		Debug( LDAP_DEBUG_ANY, "auth0: refresh of %s failed, stored "
			"data kept: %s\n", rn->rn_mc.mc_suffix, rn->rn_err );
	gettimeofday( &t1, NULL );
	Log( LDAP_DEBUG_STATS, LDAP_LEVEL_INFO, "auth0: refresh of %s: %lu "
		"users, %lu added, %lu modified, %lu renamed, %lu deleted, %lu "
		"unchanged, %lu errors, %ld ms\n", rn->rn_mc.mc_suffix,
		rn->rn_st.st_users, rn->rn_st.st_adds, rn->rn_st.st_mods,
		rn->rn_st.st_renames, rn->rn_st.st_dels, rn->rn_st.st_unchanged,
		rn->rn_st.st_errors, (long)( ( t1.tv_sec - t0.tv_sec ) * 1000 +
		( t1.tv_usec - t0.tv_usec ) / 1000 ) );
	run_finish( rn, ok, force );
	auth0_model_free( &rn->rn_model );
	for ( i = 0; conns && conns[i]; i++ )
		ch_free( conns[i] );
	ch_free( conns );
	ch_free( dir );
	ch_free( rn );
	return ok ? 0 : -1;
}

/* The runqueue entry point: one refresh, then wait for the next. */
static void *
refresh_task( void *ctx, void *arg )
{
	struct re_s *rtask = arg;
	struct auth0_info *ai = rtask->arg;

	auth0_refresh_run( ai, ctx );
	ldap_pvt_thread_mutex_lock( &slapd_rq.rq_mutex );
	if ( ldap_pvt_runqueue_isrunning( &slapd_rq, rtask ) )
		ldap_pvt_runqueue_stoptask( &slapd_rq, rtask );
	/* interval 0: imported at start only, the task waits to be woken */
	ldap_pvt_runqueue_resched( &slapd_rq, rtask,
		rtask->interval.tv_sec == 0 );
	ldap_pvt_thread_mutex_unlock( &slapd_rq.rq_mutex );
	return NULL;
}

/* Schedules the task; its first run is right after slapd starts. */
int
auth0_refresh_start( struct auth0_info *ai )
{
	ldap_pvt_thread_mutex_lock( &slapd_rq.rq_mutex );
	if ( ai->ai_task == NULL )
		ai->ai_task = ldap_pvt_runqueue_insert( &slapd_rq,
			ai->ai_refresh_interval, refresh_task, ai,
			"auth0_refresh", ai->ai_nsuffix.bv_val );
	ldap_pvt_thread_mutex_unlock( &slapd_rq.rq_mutex );
	return ai->ai_task ? 0 : -1;
}

void
auth0_refresh_stop( struct auth0_info *ai )
{
	ldap_pvt_thread_mutex_lock( &slapd_rq.rq_mutex );
	if ( ai->ai_task ) {
		if ( ldap_pvt_runqueue_isrunning( &slapd_rq, ai->ai_task ) )
			ldap_pvt_runqueue_stoptask( &slapd_rq, ai->ai_task );
		ldap_pvt_runqueue_remove( &slapd_rq, ai->ai_task );
		ai->ai_task = NULL;
	}
	ldap_pvt_thread_mutex_unlock( &slapd_rq.rq_mutex );
}

/* A new auth0-refresh-interval takes effect now (cn=config). */
void
auth0_refresh_reschedule( struct auth0_info *ai )
{
	ldap_pvt_thread_mutex_lock( &slapd_rq.rq_mutex );
	if ( ai->ai_task ) {
		ai->ai_task->interval.tv_sec = ai->ai_refresh_interval;
		if ( !ldap_pvt_runqueue_isrunning( &slapd_rq, ai->ai_task ) )
			ldap_pvt_runqueue_resched( &slapd_rq, ai->ai_task,
				ai->ai_refresh_interval == 0 );
	}
	ldap_pvt_thread_mutex_unlock( &slapd_rq.rq_mutex );
}

/* Runs the task as soon as the runqueue gets to it (olcAuth0RefreshNow). */
void
auth0_refresh_now( struct auth0_info *ai )
{
	time_t interval;

	ldap_pvt_thread_mutex_lock( &slapd_rq.rq_mutex );
	if ( ai->ai_task &&
			!ldap_pvt_runqueue_isrunning( &slapd_rq, ai->ai_task ) ) {
		interval = ai->ai_task->interval.tv_sec;
		ai->ai_task->interval.tv_sec = 0;
		ldap_pvt_runqueue_resched( &slapd_rq, ai->ai_task, 0 );
		ai->ai_task->interval.tv_sec = interval;
	}
	ldap_pvt_thread_mutex_unlock( &slapd_rq.rq_mutex );
	slap_wake_listener();
}
