/* refresh.c - the refresh task of back-auth0 */
/*
 * fetch -> model -> map -> diff -> write (DESIGN.md section 1).  Runs on
 * slapd's runqueue, at start and every auth0-refresh-interval, never on a
 * listener thread and never twice at once; searches keep being served
 * from back-mdb meanwhile.  This file fetches (source.c) and builds the
 * model, diff.c compares and write.c writes, and the outcome goes to the
 * log and ai_last*.  It is the top of the refresh: nothing calls into it
 * but init.c and config.c.
 */
#include "portable.h"

#include <ac/string.h>

#include "back-auth0.h"
#include "digest.h"
#include "ldap_rq.h"

static void
warn_log( void *arg, const char *msg )
{
	auth0_problem( arg, "%s", msg );
}

/* Source -> model.  Keeps what is stored when the source fails. */
static int
run_fetch( struct auth0_run *rn, const char *dir, char **conns )
{
	struct auth0_model *m = &rn->rn_model;
	int rc;

	m->sn_warn = warn_log;
	m->sn_warn_arg = rn->rn_ai;
	if ( auth0_source_fetch( rn, dir, conns ) )
		return -1;
	auth0_pace_phase( rn, 0 );
	if ( m->sn_bad > AUTH0_MAX_WARNINGS )
		auth0_problem( rn->rn_ai, "%lu malformed records in all (only "
			"the first %d reported)", (unsigned long)m->sn_bad,
			AUTH0_MAX_WARNINGS );
	rc = auth0_map_assign_uids( m, auth0_fold_uid );
	if ( rc == AUTH0_OK )
		rc = auth0_map_assign_cns( m, auth0_fold_uid );
	if ( rc == AUTH0_OK )
		rc = auth0_flatten( m );
	if ( rc == AUTH0_OK )
		rc = auth0_map_prepare_dns( m, &rn->rn_mc );
	if ( rc )
		snprintf( rn->rn_err, sizeof( rn->rn_err ), "out of memory "
			"building the model" );
	if ( m->sn_cycles )
		auth0_problem( rn->rn_ai, "%lu group(s) nest themselves (a "
			"cycle); each member is counted once",
			(unsigned long)m->sn_cycles );
	return rc;
}

/*
 * The user attributes this run compares: the mapper's, without memberOf
 * when a resource it comes from failed, plus the auth0-map-attribute ones.
 */
static const char **
user_attrs( struct auth0_run *rn )
{
	int partial = rn->rn_model.sn_failed & ( AUTH0_RES_ROLES |
		AUTH0_RES_CLIENTS | AUTH0_RES_AUTHZ | AUTH0_RES_GROUPS |
		AUTH0_RES_GROUP_MEMBERS | AUTH0_RES_ORGS |
		AUTH0_RES_ORG_MEMBERS );
	const char **list;
	size_t i, n = 0, j;

	for ( i = 0; auth0_map_user_attrs[i]; i++ )
		;
	for ( j = 0; rn->rn_retired && rn->rn_retired[j]; j++ )
		;
	list = ch_calloc( i + rn->rn_nrules + j + 1, sizeof( char * ) );
	for ( i = 0; auth0_map_user_attrs[i]; i++ )
		if ( !partial || strcasecmp( auth0_map_user_attrs[i], "memberOf" ) )
			list[n++] = auth0_map_user_attrs[i];
	for ( i = 0; i < (size_t)rn->rn_nrules; i++ ) {
		for ( j = 0; j < n; j++ )
			if ( !strcasecmp( list[j], rn->rn_rules[i].mr_attr ) )
				break;
		if ( j == n )
			list[n++] = rn->rn_rules[i].mr_attr;
	}
	/* rules deleted over cn=config: their values go (no rule fills them) */
	for ( i = 0; rn->rn_retired && rn->rn_retired[i]; i++ ) {
		for ( j = 0; j < n; j++ )
			if ( !strcasecmp( list[j], rn->rn_retired[i] ) )
				break;
		if ( j == n )
			list[n++] = rn->rn_retired[i];
	}
	return list;
}

static void
report_fallbacks( struct auth0_run *rn )
{
	size_t i;

	for ( i = 0; i < rn->rn_model.sn_nusers; i++ ) {
		struct auth0_user *u = &rn->rn_model.sn_users[i];
		if ( u->us_uid_fallback )
			auth0_problem( rn->rn_ai, "uid of user %s collides "
				"with a user whose user_id sorts lower; it gets "
				"uid=%s", u->us_id, u->us_uid );
	}
}

/*
 * Fingerprint of what a snapshot refresh starts from: the settings that
 * shape the tree and the bytes of the snapshot files.
 */
static int
source_fingerprint( struct auth0_run *rn, const char *dir, char **conns )
{
	struct auth0_digest d;
	char num[128];
	int i, rc;

	if ( auth0_digest_init( &d ) != AUTH0_OK )
		return -1;
	snprintf( num, sizeof( num ), "ranges %lu-%lu %lu-%lu", rn->rn_uid_lo,
		rn->rn_uid_hi, rn->rn_gid_lo, rn->rn_gid_hi );
	auth0_digest_attr( &d, num, (int)auth0_strv_len( conns ) );
	for ( i = 0; conns && conns[i]; i++ )
		auth0_digest_value( &d, conns[i], strlen( conns[i] ) );
	auth0_digest_attr( &d, "rules", rn->rn_nrules );
	for ( i = 0; i < rn->rn_nrules; i++ ) {
		auth0_digest_value( &d, rn->rn_rules[i].mr_attr,
			strlen( rn->rn_rules[i].mr_attr ) );
		auth0_digest_value( &d, rn->rn_rules[i].mr_path,
			strlen( rn->rn_rules[i].mr_path ) );
	}
	auth0_digest_attr( &d, "base", 1 );
	auth0_digest_value( &d, AUTH0_MC_BASE( &rn->rn_mc ),
		strlen( AUTH0_MC_BASE( &rn->rn_mc ) ) );
	rc = auth0_snapdir_fingerprint( dir, &d );
	auth0_digest_final( &d, rn->rn_fp );
	rn->rn_fp_set = rc == AUTH0_OK;
	return rn->rn_fp_set ? 0 : -1;
}

/*
 * 1 when a snapshot refresh starts from exactly what the last clean one
 * applied: the tree already holds it (only this module writes there), so
 * there is nothing to parse or compare.  Not after a restart (the
 * fingerprint lives in memory), and never with auth0-force-delete.
 */
static int
source_unchanged( struct auth0_run *rn, const char *dir, char **conns )
{
	struct auth0_info *ai = rn->rn_ai;
	int same;

	if ( dir == NULL || *dir == '\0' || rn->rn_force ||
			source_fingerprint( rn, dir, conns ) )
		return 0;
	auth0_pace_phase( rn, 0 );
	ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
	same = ai->ai_clean_fp_set &&
		memcmp( ai->ai_clean_fp, rn->rn_fp, sizeof( rn->rn_fp ) ) == 0;
	if ( same ) {
		int ou;
		for ( ou = 0; ou < AUTH0_OU_N; ou++ ) {
			rn->rn_st[ou].st_objects = ai->ai_last[ou].st_objects;
			rn->rn_st[ou].st_unchanged = ai->ai_last[ou].st_objects;
		}
	}
	ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
	if ( same )
		Log( LDAP_DEBUG_STATS, LDAP_LEVEL_INFO, "auth0: %s: the snapshot "
			"and settings are those of the last refresh; nothing to "
			"compare\n", rn->rn_mc.mc_suffix );
	return rn->rn_same = same;
}

/* 1 when the run applied its whole source without an error. */
static int
run_clean( struct auth0_run *rn )
{
	int ou;

	if ( rn->rn_err[0] || rn->rn_model.sn_failed ||
			!rn->rn_model.sn_complete )
		return 0;
	for ( ou = 0; ou < AUTH0_OU_N; ou++ )
		if ( rn->rn_st[ou].st_errors || rn->rn_st[ou].st_skipped )
			return 0;
	return 1;
}

/* Takes what this run needs from the configuration, under ai_mutex. */
static int
run_config( struct auth0_run *rn, char **dir, char ***conns )
{
	struct auth0_info *ai = rn->rn_ai;
	int i;

	ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
	if ( ai->ai_running || !ai->ai_sync ) {
		/* auth0-sync turned off over cn=config: the task is parked */
		if ( !ai->ai_sync )
			Debug( LDAP_DEBUG_STATS, "auth0: %s: auth0-sync is off; "
				"no refresh\n", ai->ai_nsuffix.bv_val );
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
	rn->rn_force = ai->ai_force_delete;
	rn->rn_max_delete = ai->ai_max_delete;
	rn->rn_max_delete_pct = ai->ai_max_delete_pct;
	rn->rn_gid_lo = ai->ai_gid_lo;
	rn->rn_gid_hi = ai->ai_gid_hi;
	rn->rn_mc.mc_gid_default = (long)ai->ai_gid_lo;
	rn->rn_nrules = ai->ai_nrules;
	rn->rn_rules = ch_calloc( ai->ai_nrules + 1, sizeof( *rn->rn_rules ) );
	for ( i = 0; i < ai->ai_nrules; i++ ) {
		rn->rn_rules[i].mr_attr = ch_strdup( ai->ai_rules[i].mr_attr );
		rn->rn_rules[i].mr_path = ch_strdup( ai->ai_rules[i].mr_path );
	}
	rn->rn_retired = ai->ai_retired;
	ai->ai_retired = NULL;
	rn->rn_base = BER_BVISNULL( &ai->ai_base ) ? NULL :
		ch_strdup( ai->ai_base.bv_val );
	rn->rn_model.sn_rules = rn->rn_rules;
	rn->rn_model.sn_nrules = (size_t)rn->rn_nrules;
	ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
	return 0;
}

/*
 * Gives the attributes of deleted auth0-map-attribute rules back to ai
 * when this run did not get to remove their values (ai_mutex held).
 */
static void
retired_return( struct auth0_info *ai, struct auth0_run *rn )
{
	int i, j, n = 0;

	if ( rn->rn_retired == NULL )
		return;
	for ( ; ai->ai_retired && ai->ai_retired[n]; n++ )
		;
	for ( i = 0; rn->rn_retired[i]; i++ ) {
		for ( j = 0; j < n; j++ )
			if ( !strcasecmp( ai->ai_retired[j], rn->rn_retired[i] ) )
				break;
		if ( j < n ) {
			ch_free( rn->rn_retired[i] );
			continue;
		}
		ai->ai_retired = ch_realloc( ai->ai_retired,
			( n + 2 ) * sizeof( char * ) );
		ai->ai_retired[n++] = rn->rn_retired[i];
		ai->ai_retired[n] = NULL;
	}
	ch_free( rn->rn_retired );
	rn->rn_retired = NULL;
}

static void
run_finish( struct auth0_run *rn, int ok, int force )
{
	struct auth0_info *ai = rn->rn_ai;

	ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
	ai->ai_running = 0;
	ai->ai_refreshes++;
	memcpy( ai->ai_last, rn->rn_st, sizeof( ai->ai_last ) );
	ai->ai_last_bad = rn->rn_model.sn_bad;
	ai->ai_last_api = rn->rn_api;
	ai->ai_last_failed = rn->rn_model.sn_failed | rn->rn_model.sn_let_go;
	ai->ai_last_ms = rn->rn_ms;
	ai->ai_api_total.as_requests += rn->rn_api.as_requests;
	ai->ai_api_total.as_429 += rn->rn_api.as_429;
	ai->ai_api_total.as_retries += rn->rn_api.as_retries;
	ai->ai_api_total.as_tokens += rn->rn_api.as_tokens;
	ai->ai_api_total.as_exports += rn->rn_api.as_exports;
	ai->ai_last_cycles = rn->rn_model.sn_cycles;
	if ( !rn->rn_same ) {
		ai->ai_clean_fp_set = rn->rn_fp_set && run_clean( rn );
		memcpy( ai->ai_clean_fp, rn->rn_fp, sizeof( ai->ai_clean_fp ) );
	}
	if ( ok ) {
		ai->ai_last_success = slap_get_time();
		if ( force )
			ai->ai_force_delete = 0;
	}
	if ( !ok || rn->rn_st[AUTH0_OU_USERS].st_skipped )
		retired_return( ai, rn );
	snprintf( ai->ai_last_error, sizeof( ai->ai_last_error ), "%s",
		rn->rn_err[0] ? rn->rn_err : rn->rn_res_err );
	ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
}

static void
run_steps( struct auth0_run *rn, const char *dir, char **conns )
{
	int errors, feed = AUTH0_FEED_FULL;

	if ( dir == NULL || *dir == '\0' )
		feed = auth0_feed_run( rn, conns );	/* the change feed */
	if ( feed == AUTH0_FEED_DONE )
		return;
	if ( feed == AUTH0_FEED_FULL ) {
		if ( source_unchanged( rn, dir, conns ) )
			return;
		if ( run_fetch( rn, dir, conns ) )
			return;
		report_fallbacks( rn );
		auth0_holdback_native( rn );
	}
	rn->rn_user_attrs = user_attrs( rn );
	switch ( auth0_tree_containers( rn->rn_ai, rn->rn_op,
			AUTH0_MC_BASE( &rn->rn_mc ) ) ) {
	case 0:
		break;
	case 1:	/* the base's parent is not there yet (logged once) */
		snprintf( rn->rn_err, sizeof( rn->rn_err ), "waiting for the "
			"parent of auth0-base %s", AUTH0_MC_BASE( &rn->rn_mc ) );
		return;
	default:
		snprintf( rn->rn_err, sizeof( rn->rn_err ), "cannot create the "
			"containers of the imported tree" );
		return;
	}
	auth0_pace_phase( rn, 1 );
	errors = auth0_diff_run( rn );
	auth0_pace_phase( rn, 3 );
	if ( errors > 0 )
		rn->rn_st[AUTH0_OU_USERS].st_errors += errors;
}

static void
log_outcome( struct auth0_run *rn, long ms )
{
	struct auth0_stats *u = &rn->rn_st[AUTH0_OU_USERS];
	char more[512];
	size_t len = 0;
	int ou;

	more[0] = '\0';
	for ( ou = AUTH0_OU_GROUP; ou < AUTH0_OU_N; ou++ ) {
		struct auth0_stats *st = &rn->rn_st[ou];
		len += snprintf( more + len, sizeof( more ) - len, st->st_skipped ?
			"; %s: kept (source failed)" : "; %s: %lu, +%lu ~%lu -%lu",
			auth0_diff_ou( ou ), st->st_objects, st->st_adds,
			st->st_mods + st->st_renames, st->st_dels );
		if ( len >= sizeof( more ) )
			break;
	}
	if ( rn->rn_api_used && len < sizeof( more ) )
		snprintf( more + len, sizeof( more ) - len, "; api: %lu requests, "
			"%lu 429, %lu retries", rn->rn_api.as_requests,
			rn->rn_api.as_429, rn->rn_api.as_retries );
	Log( LDAP_DEBUG_STATS, LDAP_LEVEL_INFO, "auth0: refresh of %s: %lu "
		"users, %lu added, %lu modified, %lu renamed, %lu deleted, %lu "
		"unchanged, %lu errors, %ld ms%s\n", rn->rn_mc.mc_suffix,
		u->st_objects, u->st_adds, u->st_mods, u->st_renames, u->st_dels,
		u->st_unchanged, u->st_errors, ms, more );
	Log( LDAP_DEBUG_STATS, LDAP_LEVEL_INFO, "auth0: refresh of %s took: "
		"read %ld ms, model %ld ms, stored entries %ld ms, compare and "
		"write %ld ms (of which %ld ms left to clients)\n",
		rn->rn_mc.mc_suffix, rn->rn_phase_ms[0], rn->rn_phase_ms[1],
		rn->rn_phase_ms[2], rn->rn_phase_ms[3], rn->rn_yield_ms );
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
	int ok, i, clean;

	rn->rn_ai = ai;
	auth0_model_init( &rn->rn_model );
	if ( run_config( rn, &dir, &conns ) ) {
		ch_free( rn );
		return -1;
	}
	gettimeofday( &t0, NULL );
	rn->rn_phase_t0 = t0;
	auth0_intop_init( ai, &conn, &opbuf, ctx, &rn->rn_op );
	rn->rn_mc.mc_suffix = rn->rn_op->o_bd->be_suffix[0].bv_val;
	rn->rn_mc.mc_base = rn->rn_base;
	rn->rn_mc.mc_home_prefix = AUTH0_HOME_PREFIX;
	rn->rn_mc.mc_shell = AUTH0_DEFAULT_SHELL;
	auth0_problems_begin( ai );
	run_steps( rn, dir, conns );
	auth0_diff_free( rn );
	ok = rn->rn_err[0] == '\0';
	/* a refresh that met every entry tells which problems cleared */
	auth0_problems_end( ai, ok && !rn->rn_same && !rn->rn_res_err[0] &&
		!rn->rn_model.sn_failed && rn->rn_model.sn_complete );
	/* waiting for the base's parent is said once, by tree.c */
	if ( !ok && !ai->ai_base_waiting )
		Debug( LDAP_DEBUG_ANY, "auth0: refresh of %s failed, stored "
			"data kept: %s\n", rn->rn_mc.mc_suffix, rn->rn_err );
	gettimeofday( &t1, NULL );
	rn->rn_ms = (long)( ( t1.tv_sec - t0.tv_sec ) * 1000 +
		( t1.tv_usec - t0.tv_usec ) / 1000 );
	log_outcome( rn, rn->rn_ms );
	clean = ok && run_clean( rn );
	run_finish( rn, ok, rn->rn_force );
	auth0_feed_finish( rn, clean );
	if ( rn->rn_resched ) {	/* the feed turned itself on or off */
		ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
		auth0_refresh_reschedule( ai );
		ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
	}
	auth0_model_free( &rn->rn_model );
	for ( i = 0; i < rn->rn_nrules; i++ ) {
		ch_free( rn->rn_rules[i].mr_attr );
		ch_free( rn->rn_rules[i].mr_path );
	}
	ch_free( rn->rn_rules );
	ch_free( rn->rn_base );
	ch_free( rn->rn_user_attrs );
	free( rn->rn_dirty );	/* malloc'd by patch.c */
	for ( i = 0; i < AUTH0_OU_N; i++ )
		free( rn->rn_cdirty[i] );	/* malloc'd by patch.c */
	ber_memvfree( (void **)rn->rn_lookup );
	ber_memvfree( (void **)rn->rn_gone );
	ch_free( rn->rn_checkpoint );
	ch_free( rn->rn_head );
	ber_memvfree( (void **)rn->rn_retired );
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
	time_t interval;
	int park, again;

	auth0_refresh_run( ai, ctx );
	/* read before rq_mutex: the config side takes ai_mutex first */
	ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
	park = !ai->ai_sync;
	again = ai->ai_feed_again;	/* the change feed has more events */
	ai->ai_feed_again = 0;
	ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
	ldap_pvt_thread_mutex_lock( &slapd_rq.rq_mutex );
	if ( ldap_pvt_runqueue_isrunning( &slapd_rq, rtask ) )
		ldap_pvt_runqueue_stoptask( &slapd_rq, rtask );
	/* interval 0: imported at start only, the task waits to be woken;
	 * auth0-sync off: parked until it is turned on again */
	interval = rtask->interval.tv_sec;
	if ( again && !park )
		rtask->interval.tv_sec = 0;
	ldap_pvt_runqueue_resched( &slapd_rq, rtask,
		park || ( interval == 0 && !again ) );
	rtask->interval.tv_sec = interval;
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

/*
 * A new auth0-refresh-interval takes effect now: the next refresh is one
 * interval from now (interval 0 or auth0-sync off: parked).  A running
 * refresh reschedules itself when it ends.  Called with ai_mutex held.
 */
void
auth0_refresh_reschedule( struct auth0_info *ai )
{
	ldap_pvt_thread_mutex_lock( &slapd_rq.rq_mutex );
	if ( ai->ai_task ) {
		ai->ai_task->interval.tv_sec = ai->ai_refresh_interval;
		if ( !ldap_pvt_runqueue_isrunning( &slapd_rq, ai->ai_task ) )
			ldap_pvt_runqueue_resched( &slapd_rq, ai->ai_task,
				!ai->ai_sync || ai->ai_refresh_interval == 0 );
	}
	ldap_pvt_thread_mutex_unlock( &slapd_rq.rq_mutex );
}

/*
 * After a cn=config change of auth0-sync or auth0-refresh-interval
 * (ai_mutex held, the database open): off parks the task, on from off
 * refreshes at once (creating the task when slapd started with sync
 * off), a new interval reschedules.  The task is never removed while
 * the database is open, so a running refresh never loses it.
 */
void
auth0_refresh_apply( struct auth0_info *ai )
{
	int turned_on = ai->ai_sync && !ai->ai_sync_applied;

	ai->ai_sync_applied = ai->ai_sync;
	if ( ai->ai_sync && ai->ai_task == NULL ) {
		auth0_refresh_start( ai );	/* its first run is now */
		slap_wake_listener();
		return;
	}
	auth0_refresh_reschedule( ai );
	if ( turned_on )
		auth0_refresh_now( ai );
}

/* Runs the task as soon as the runqueue gets to it (olcAuth0RefreshNow);
 * called with ai_mutex held. */
void
auth0_refresh_now( struct auth0_info *ai )
{
	time_t interval;

	/* an admin asking for a refresh has often just granted a scope: the
	 * cached tokens do not carry it (the caller holds ai_mutex) */
	ai->ai_new_tokens = 1;
	ai->ai_feed_noscope = 0;	/* and read:logs may be granted now */
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
