/* feed.c - incremental refreshes from Auth0's log (the change feed) */
/*
 * With auth0-change-feed logs and the API source (DESIGN.md 8.2) a
 * refresh between full ones reads the tenant log from the checkpoint
 * (logs.c), re-reads only what the events touched, patches the model the
 * last clean refresh left in memory (patch.c) and compares only the users
 * that moved, plus the few groups, roles and applications (diff.c with
 * rn_partial).  The checkpoint (newest applied log_id) is written as
 * auth0LogCheckpoint on ou=people by the same batch, so the same
 * transaction, as the last write of the refresh.
 *
 * A full refresh runs at the first refresh after slapd starts (the model
 * lives in memory only), every auth0-full-refresh-interval, after a run
 * that was not clean, when the checkpoint is refused (older than the log
 * retention), when the events ask for a resource whole, with
 * auth0-force-delete and auth0-full-refresh-now.  Before fetching, it
 * reads the log's newest log_id: events after it are read by the next
 * incremental refresh, and events that raced with the fetch are re-read
 * once more, which writes nothing new.  A missing read:logs scope is
 * reported naming the scope and the module keeps refreshing in full
 * (with the default interval of 900 s) until a refresh-now asks again.
 * Runs in the refresh task's thread only.
 */
#include "portable.h"

#include <ac/string.h>
#include <cjson/cJSON.h>

#include "back-auth0.h"
#include "bindcache.h"

/* auth0_feed_run: what run_steps does next */

static void
model_drop( struct auth0_info *ai )
{
	if ( ai->ai_feed_model ) {
		auth0_model_free( ai->ai_feed_model );
		ch_free( ai->ai_feed_model );
		ai->ai_feed_model = NULL;
	}
}

void
auth0_feed_close( struct auth0_info *ai )
{
	model_drop( ai );
	ch_free( ai->ai_feed_checkpoint );
	ai->ai_feed_checkpoint = NULL;
}

/* Records the outcome of one resource for cn=Monitor (ai_mutex held). */
static void
res_note( struct auth0_info *ai, enum auth0_feed_res r, const char *err )
{
	if ( err && *err )
		snprintf( ai->ai_res_error[r], AUTH0_ERRLEN, "%s", err );
	else
		ai->ai_res_success[r] = slap_get_time();
}

static void
api_add( struct auth0_run *rn, const struct auth0_api *api,
	const struct auth0_api_stats *before )
{
	rn->rn_api.as_requests += api->ap_stats.as_requests -
		before->as_requests;
	rn->rn_api.as_429 += api->ap_stats.as_429 - before->as_429;
	rn->rn_api.as_retries += api->ap_stats.as_retries - before->as_retries;
	rn->rn_api.as_tokens += api->ap_stats.as_tokens - before->as_tokens;
	rn->rn_api_used = 1;
}

/* read:logs is missing: say so once per refresh, refresh in full. */
static void
no_scope( struct auth0_run *rn, const char *err )
{
	struct auth0_info *ai = rn->rn_ai;

	Debug( LDAP_DEBUG_ANY, "auth0: %s: the change feed needs the read:logs "
		"scope of the Management API (%s); every refresh is a full one "
		"until it is granted (then write olcAuth0RefreshNow: TRUE)\n",
		rn->rn_mc.mc_suffix, err );
	ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
	ai->ai_feed_noscope = 1;
	res_note( ai, AUTH0_FEED_RES_LOGS, "read:logs scope missing" );
	auth0_feed_interval( ai );
	rn->rn_resched = 1;	/* the refresh task's: not ours to call */
	ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
}

/* A full refresh with the feed: the log's newest log_id first. */
static void
full_head( struct auth0_run *rn, struct auth0_api *api )
{
	struct auth0_api_stats before = api->ap_stats;
	char err[AUTH0_ERRLEN];
	int rc;

	err[0] = '\0';
	rc = auth0_logs_head( api, &rn->rn_head, err );
	api_add( rn, api, &before );
	if ( rc == AUTH0_OK ) {
		rn->rn_checkpoint = ch_strdup( rn->rn_head );
		ldap_pvt_thread_mutex_lock( &rn->rn_ai->ai_mutex );
		res_note( rn->rn_ai, AUTH0_FEED_RES_LOGS, NULL );
		auth0_feed_interval( rn->rn_ai );	/* back to the feed's */
		rn->rn_resched = 1;
		ldap_pvt_thread_mutex_unlock( &rn->rn_ai->ai_mutex );
		return;
	}
	if ( strstr( err, "read:logs" ) || strncmp( err, "403 ", 4 ) == 0 ) {
		no_scope( rn, err );
		return;
	}
	Debug( LDAP_DEBUG_ANY, "auth0: %s: cannot read the tenant log (%s); "
		"this full refresh does not start the change feed\n",
		rn->rn_mc.mc_suffix, err );
	ldap_pvt_thread_mutex_lock( &rn->rn_ai->ai_mutex );
	res_note( rn->rn_ai, AUTH0_FEED_RES_LOGS, err );
	ldap_pvt_thread_mutex_unlock( &rn->rn_ai->ai_mutex );
}

/* Is this user_id one the kept model holds? (auth0_logs_map) */
static int
known_user( void *arg, const char *id )
{
	return auth0_model_user_index( arg, id ) != AUTH0_NOINDEX;
}

/* The cached passwords of a user the events say changed go at once. */
static void
forget_user( struct auth0_run *rn, const struct auth0_model *m,
	const char *id )
{
	size_t i = auth0_model_user_index( m, id );

	if ( rn->rn_ai->ai_bindcache && i != AUTH0_NOINDEX &&
			m->sn_users[i].us_dn )
		auth0_bindcache_forget( rn->rn_ai->ai_bindcache,
			m->sn_users[i].us_dn );
}

enum { STEP_OK, STEP_FULL, STEP_FAIL };

/* Re-reads the roles' members into pa; 404 (role gone): a full one. */
static int
fetch_roles( struct auth0_run *rn, struct auth0_api *api,
	const struct auth0_changes *ch, struct auth0_patch *pa )
{
	char err[AUTH0_ERRLEN];
	size_t i;
	long status;

	for ( i = 0; i < ch->ch_nroles; i++ ) {
		cJSON *arr = cJSON_CreateArray(), *it;
		char **v;
		size_t n = 0;
		int rc;

		if ( arr == NULL )
			return STEP_FAIL;
		rc = auth0_mgmt_role_members( api, ch->ch_roles[i], arr, &status,
			err );
		rn->rn_fetches++;
		if ( rc ) {
			cJSON_Delete( arr );
			if ( status == 404 )
				return STEP_FULL;
			snprintf( rn->rn_err, sizeof( rn->rn_err ), "members of "
				"role %.60s: %.150s", ch->ch_roles[i], err );
			return STEP_FAIL;
		}
		v = ch_calloc( cJSON_GetArraySize( arr ) + 1, sizeof( char * ) );
		cJSON_ArrayForEach( it, arr )
			if ( cJSON_IsString( it ) )
				v[n++] = strdup( it->valuestring );
		cJSON_Delete( arr );
		if ( auth0_patch_role( pa, ch->ch_roles[i], v ) ) {
			auth0_strv_free( v );
			return STEP_FAIL;
		}
	}
	return STEP_OK;
}

/* Re-reads the users into pa: a record, or gone (404, not selected). */
static int
fetch_users( struct auth0_run *rn, struct auth0_api *api,
	const struct auth0_changes *ch, const struct auth0_select *sel,
	const struct auth0_model *m, struct auth0_patch *pa )
{
	struct auth0_model *f = &pa->pa_fetched;
	char err[AUTH0_ERRLEN];
	size_t i, had;
	cJSON *obj;
	int rc;

	for ( i = 0; i < ch->ch_nusers && !slapd_shutdown; i++ ) {
		const char *id = ch->ch_users[i];

		rc = auth0_logs_user( api, id, &obj, err );
		rn->rn_fetches++;
		if ( rc ) {
			snprintf( rn->rn_err, sizeof( rn->rn_err ), "user %.80s: "
				"%.150s", id, err );
			return STEP_FAIL;
		}
		if ( ch->ch_forget[i] || obj == NULL )
			forget_user( rn, m, id );
		had = f->sn_nusers;
		if ( obj ) {
			unsigned long bad = f->sn_bad;
			rc = auth0_model_add_user( f, obj, sel, err );
			cJSON_Delete( obj );
			if ( rc == AUTH0_ERR_NOMEM )
				return STEP_FAIL;
			if ( f->sn_bad != bad ) {
				/* kept as it was; the next refresh is a full one */
				Debug( LDAP_DEBUG_ANY, "auth0: %s: user %s: %s; "
					"its entry is kept\n", rn->rn_mc.mc_suffix, id,
					err );
				rn->rn_st[AUTH0_OU_USERS].st_errors++;
				continue;
			}
		}
		if ( f->sn_nusers == had && auth0_patch_gone( pa, id ) )
			return STEP_FAIL;
		if ( f->sn_nusers > had && strcmp( f->sn_users[had].us_id, id ) ) {
			/* a record for another id: do not trust it */
			snprintf( rn->rn_err, sizeof( rn->rn_err ), "GET "
				"/api/v2/users/%.80s answered user %.80s", id,
				f->sn_users[had].us_id );
			return STEP_FAIL;
		}
	}
	return slapd_shutdown ? STEP_FAIL : STEP_OK;
}

static int
cmp_strp( const void *a, const void *b )
{
	return strcmp( *(char *const *)a, *(char *const *)b );
}

/* The stored DNs the partial sync reads: old ones and those of dirty users. */
static void
partial_setup( struct auth0_run *rn, struct auth0_patch *pa, size_t nbefore )
{
	struct auth0_model *m = &rn->rn_model;
	size_t i, n = auth0_strv_len( pa->pa_old_dns ), k = 0;

	rn->rn_lookup = ch_calloc( n + pa->pa_ndirty + 1, sizeof( char * ) );
	for ( i = 0; i < n; i++ )
		rn->rn_lookup[k++] = ch_strdup( pa->pa_old_dns[i] );
	for ( i = 0; i < m->sn_nusers; i++ )
		if ( pa->pa_dirty[i] && m->sn_users[i].us_dn )
			rn->rn_lookup[k++] = ch_strdup( m->sn_users[i].us_dn );
	n = auth0_strv_len( pa->pa_gone );
	rn->rn_gone = ch_calloc( n + 1, sizeof( char * ) );
	for ( i = 0; i < n; i++ )
		rn->rn_gone[i] = ch_strdup( pa->pa_gone[i] );
	qsort( rn->rn_gone, n, sizeof( char * ), cmp_strp );
	rn->rn_dirty = pa->pa_dirty;
	pa->pa_dirty = NULL;
	/* enum auth0_ou and enum auth0_kind number the containers alike */
	for ( i = AUTH0_OU_GROUP; i < AUTH0_OU_N; i++ ) {
		rn->rn_cdirty[i] = pa->pa_cdirty[i];
		rn->rn_ncdirty[i] = pa->pa_ncdirty[i];
		pa->pa_cdirty[i] = NULL;
	}
	rn->rn_partial = 1;
	rn->rn_stored_users = nbefore;
}

/* Seconds from an event's ISO-8601 date to now; -1 when unreadable. */
static long
lag_of( const char *iso )
{
	struct tm tm;
	char *end;

	memset( &tm, 0, sizeof( tm ) );
	if ( iso == NULL || ( end = strptime( iso, "%Y-%m-%dT%H:%M:%S", &tm ) ) ==
			NULL )
		return -1;
	return (long)( slap_get_time() - timegm( &tm ) );
}

/*
 * One incremental refresh up to the sync: STEP_OK when the partial sync
 * is set up (or there is nothing to do: rn_same), STEP_FULL for a full
 * refresh instead, STEP_FAIL when it failed (rn_err, data kept).
 */
static int
incremental( struct auth0_run *rn, struct auth0_api *api,
	const struct auth0_select *sel, int *more, char *lagdate, size_t lagsz )
{
	struct auth0_info *ai = rn->rn_ai;
	struct auth0_model *m = ai->ai_feed_model;
	struct auth0_api_stats before = api->ap_stats;
	struct auth0_changes ch;
	struct auth0_patch pa;
	char err[AUTH0_ERRLEN], **fetched = NULL;
	cJSON *events = cJSON_CreateArray();
	size_t i, nbefore = m->sn_nusers;
	long status;
	int rc, step = STEP_FAIL;

	auth0_changes_init( &ch );
	auth0_patch_init( &pa );
	/* users re-read get the auth0-map-attribute values a full read gives */
	pa.pa_fetched.sn_rules = rn->rn_rules;
	pa.pa_fetched.sn_nrules = (size_t)rn->rn_nrules;
	pa.pa_fetched.sn_warn = m->sn_warn;
	pa.pa_fetched.sn_warn_arg = m->sn_warn_arg;
	err[0] = '\0';
	if ( events == NULL )
		goto done;
	rc = auth0_logs_read( api, ai->ai_feed_checkpoint,
		AUTH0_FEED_MAX_EVENTS, events, more, &status, err );
	if ( rc ) {
		ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
		res_note( ai, AUTH0_FEED_RES_LOGS, err );
		ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
		if ( status == 400 || status == 404 ) {
			Log( LDAP_DEBUG_STATS, LDAP_LEVEL_INFO, "auth0: %s: the "
				"tenant log refuses checkpoint %s (older than its "
				"retention?): a full refresh\n", rn->rn_mc.mc_suffix,
				ai->ai_feed_checkpoint );
			step = STEP_FULL;
		} else if ( status == 403 ) {
			no_scope( rn, err );
			step = STEP_FULL;
		} else {
			snprintf( rn->rn_err, sizeof( rn->rn_err ), "reading the "
				"tenant log: %s", err );
		}
		goto done;
	}
	ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
	res_note( ai, AUTH0_FEED_RES_LOGS, NULL );
	ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
	if ( auth0_logs_map( events, sel, known_user, m, &ch ) )
		goto done;
	rn->rn_events = ch.ch_events;
	if ( ch.ch_whole ) {
		Log( LDAP_DEBUG_STATS, LDAP_LEVEL_INFO, "auth0: %s: the change "
			"feed asks for a full refresh: %s\n", rn->rn_mc.mc_suffix,
			ch.ch_why );
		step = STEP_FULL;
		goto done;
	}
	if ( ch.ch_nusers == 0 && ch.ch_nroles == 0 ) {
		int ou;

		/* nothing to re-read (no event, or logins only): nothing to
		 * compare; the counts stay, the checkpoint moves on */
		rn->rn_same = 1;
		if ( ch.ch_checkpoint ) {
			rn->rn_checkpoint = ch_strdup( ch.ch_checkpoint );
			if ( ch.ch_newest_date )
				snprintf( lagdate, lagsz, "%s", ch.ch_newest_date );
		}
		ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
		for ( ou = 0; ou < AUTH0_OU_N; ou++ ) {
			rn->rn_st[ou].st_objects = ai->ai_last[ou].st_objects;
			rn->rn_st[ou].st_unchanged = ai->ai_last[ou].st_objects;
		}
		ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
		step = STEP_OK;
		goto done;
	}
	step = fetch_roles( rn, api, &ch, &pa );
	if ( step == STEP_OK )
		step = fetch_users( rn, api, &ch, sel, m, &pa );
	if ( step != STEP_OK )
		goto done;
	auth0_pace_phase( rn, 0 );
	/* from here the kept model is the run's (patched in place) */
	rn->rn_model = *m;
	rn->rn_model.sn_rules = rn->rn_rules;
	rn->rn_model.sn_nrules = (size_t)rn->rn_nrules;
	ch_free( m );
	ai->ai_feed_model = NULL;
	fetched = ch_calloc( ch.ch_nusers + 1, sizeof( char * ) );
	for ( i = 0; i < ch.ch_nusers; i++ )
		fetched[i] = ch.ch_users[i];
	rc = auth0_patch_apply( &pa, &rn->rn_model, fetched,
		auth0_fold_uid, &rn->rn_mc );
	if ( rc ) {
		Debug( LDAP_DEBUG_ANY, "auth0: %s: the change could not be "
			"applied to the kept model (%d): a full refresh\n",
			rn->rn_mc.mc_suffix, rc );
		auth0_model_free( &rn->rn_model );
		rn->rn_model.sn_rules = rn->rn_rules;
		rn->rn_model.sn_nrules = (size_t)rn->rn_nrules;
		step = STEP_FULL;
		goto done;
	}
	partial_setup( rn, &pa, nbefore );
	auth0_pace_phase( rn, 1 );
	rn->rn_checkpoint = ch_strdup( ch.ch_checkpoint );
	if ( ch.ch_newest_date )
		snprintf( lagdate, lagsz, "%s", ch.ch_newest_date );
done:
	api_add( rn, api, &before );
	ch_free( fetched );
	auth0_patch_free( &pa );
	auth0_changes_free( &ch );
	cJSON_Delete( events );
	return step;
}

/* Events that change nothing imported: the checkpoint alone is written. */
static void
checkpoint_only( struct auth0_run *rn )
{
	struct auth0_writer *ap;
	int errors;

	if ( auth0_write_begin( rn->rn_ai, rn->rn_op, NULL, &ap ) ) {
		snprintf( rn->rn_err, sizeof( rn->rn_err ), "cannot write the "
			"change feed's checkpoint" );
		return;
	}
	auth0_tree_set_checkpoint( ap, rn->rn_mc.mc_suffix,
		rn->rn_checkpoint );
	errors = auth0_write_end( ap, !slapd_shutdown );
	if ( errors )
		snprintf( rn->rn_err, sizeof( rn->rn_err ), "cannot write the "
			"change feed's checkpoint" );
}

/*
 * Called first by every refresh.  AUTH0_FEED_FULL: run the full refresh
 * (rn_full, with rn_checkpoint set when the feed starts from it);
 * AUTH0_FEED_PARTIAL: the model is patched, compare the dirty users;
 * AUTH0_FEED_DONE: nothing more to do (rn_err set when it failed).
 */
int
auth0_feed_run( struct auth0_run *rn, char **conns )
{
	struct auth0_info *ai = rn->rn_ai;
	struct auth0_select sel = { conns };
	struct auth0_api *api;
	int wanted, full, step = STEP_FULL, more = 0;
	char lagdate[40];

	lagdate[0] = '\0';
	ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
	wanted = auth0_feed_wanted( ai );
	full = ai->ai_feed_want_full || rn->rn_force ||
		slap_get_time() - ai->ai_last_full >= ai->ai_full_interval;
	ai->ai_feed_want_full = 0;
	ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
	rn->rn_full = 1;
	if ( !wanted ) {
		model_drop( ai );
		return AUTH0_FEED_FULL;
	}
	if ( ( api = auth0_source_api( rn ) ) == NULL )
		return AUTH0_FEED_FULL;		/* the full path reports it */
	if ( !full && ai->ai_feed_model && ai->ai_feed_checkpoint ) {
		rn->rn_full = 0;
		step = incremental( rn, api, &sel, &more, lagdate,
			sizeof( lagdate ) );
		if ( step == STEP_FAIL )
			return AUTH0_FEED_DONE;
		if ( step == STEP_OK ) {
			rn->rn_feed_more = more;
			if ( lagdate[0] )
				rn->rn_lag = lag_of( lagdate );
			if ( rn->rn_same && rn->rn_checkpoint )
				checkpoint_only( rn );
			return rn->rn_same ? AUTH0_FEED_DONE : AUTH0_FEED_PARTIAL;
		}
		rn->rn_full = 1;
	}
	model_drop( ai );
	full_head( rn, api );
	return AUTH0_FEED_FULL;
}

static unsigned long
writes_of( const struct auth0_run *rn )
{
	unsigned long n = 0;
	int ou;

	for ( ou = 0; ou < AUTH0_OU_N; ou++ )
		n += rn->rn_st[ou].st_adds + rn->rn_st[ou].st_mods +
			rn->rn_st[ou].st_renames + rn->rn_st[ou].st_dels;
	return n;
}

/*
 * After the run: a clean one leaves its model and checkpoint to the next
 * (clean: no error at all; ok: nothing failed as a whole).  Updates what
 * cn=Monitor shows and logs the incremental refresh.
 */
void
auth0_feed_finish( struct auth0_run *rn, int clean )
{
	struct auth0_info *ai = rn->rn_ai;
	unsigned failed = rn->rn_model.sn_failed;
	unsigned long bytes;
	int keep = clean && rn->rn_api_used && ( rn->rn_checkpoint ||
		( rn->rn_same && ai->ai_feed_model ) ) && !slapd_shutdown;

	if ( keep && !rn->rn_same ) {
		model_drop( ai );
		ai->ai_feed_model = ch_malloc( sizeof( *ai->ai_feed_model ) );
		*ai->ai_feed_model = rn->rn_model;
		ai->ai_feed_model->sn_rules = NULL;	/* the run's copies go */
		ai->ai_feed_model->sn_nrules = 0;
		auth0_model_init( &rn->rn_model );
		ch_free( ai->ai_feed_checkpoint );
		ai->ai_feed_checkpoint = ch_strdup( rn->rn_checkpoint );
	} else if ( keep && rn->rn_checkpoint ) {
		ch_free( ai->ai_feed_checkpoint );	/* logins only */
		ai->ai_feed_checkpoint = ch_strdup( rn->rn_checkpoint );
	} else if ( !keep && !rn->rn_full && rn->rn_err[0] == '\0' ) {
		model_drop( ai );	/* a partial run with errors */
	}
	/* counted outside the mutex: a walk over every user */
	bytes = ai->ai_feed_model ? (unsigned long)auth0_model_user_bytes(
		ai->ai_feed_model ) : 0;
	ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
	if ( rn->rn_full && rn->rn_err[0] == '\0' && clean )
		ai->ai_last_full = slap_get_time();
	if ( rn->rn_full && rn->rn_api_used ) {
		const char *e = rn->rn_res_err[0] ? rn->rn_res_err : rn->rn_err;
		res_note( ai, AUTH0_FEED_RES_USERS, failed & AUTH0_RES_USERS ||
			rn->rn_err[0] ? e : NULL );
		res_note( ai, AUTH0_FEED_RES_ROLES, failed & AUTH0_RES_ROLES ?
			e : NULL );
		res_note( ai, AUTH0_FEED_RES_CLIENTS, failed & AUTH0_RES_CLIENTS ?
			e : NULL );
		if ( ai->ai_authz_url )
			res_note( ai, AUTH0_FEED_RES_AUTHZ, failed & AUTH0_RES_AUTHZ ?
				e : NULL );
		res_note( ai, AUTH0_FEED_RES_GROUPS, failed & ( AUTH0_RES_GROUPS |
			AUTH0_RES_GROUP_MEMBERS ) ? e : NULL );
		res_note( ai, AUTH0_FEED_RES_ORGS, failed & ( AUTH0_RES_ORGS |
			AUTH0_RES_ORG_MEMBERS ) ? e : NULL );
		res_note( ai, AUTH0_FEED_RES_CONNS, failed & AUTH0_RES_CONNS ?
			e : NULL );
	}
	ai->ai_mon_model_bytes = bytes;
	if ( ai->ai_feed_checkpoint )
		snprintf( ai->ai_mon_checkpoint, sizeof( ai->ai_mon_checkpoint ),
			"%s", ai->ai_feed_checkpoint );
	if ( !rn->rn_full && keep && rn->rn_checkpoint )
		ai->ai_mon_lag = rn->rn_lag;
	if ( rn->rn_feed_more && keep )
		ai->ai_feed_again = 1;	/* a burst: the next batch right away */
	ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
	if ( !rn->rn_full && rn->rn_api_used )
		Log( LDAP_DEBUG_STATS, LDAP_LEVEL_INFO, "auth0: incremental "
			"refresh of %s: %lu events, %lu fetches, %lu writes, %lu "
			"requests, checkpoint %s%s\n", rn->rn_mc.mc_suffix,
			rn->rn_events, rn->rn_fetches, writes_of( rn ),
			rn->rn_api.as_requests, ai->ai_feed_checkpoint ?
			ai->ai_feed_checkpoint : "-", rn->rn_err[0] ?
			" (failed, stored data kept)" : "" );
}
