/* monitor.c - back-auth0 status under cn=Monitor */
/*
 * With a monitor database configured, the overlay's entry below the
 * database's under cn=Databases,cn=Monitor gains the object class
 * auth0MonitorInfo and the
 * operational attributes below, computed when the entry is read: the last
 * refresh (times, error, counts, failed resources, API requests and 429s)
 * and the bind counters.  Without a monitor database nothing is done.
 */
#include "portable.h"

#include <ac/string.h>

#include "back-auth0.h"
#include "bindcall.h"
#include "bindcache.h"
#include "back-monitor/back-monitor.h"

#define AUTH0_MON	"2.25.275749359712394017892977585135807580588.1.3."

typedef void (mon_value)( struct auth0_info *ai, char *buf, size_t len );

static void
v_time( time_t t, char *buf, size_t len )
{
	struct berval bv = { len, buf };

	if ( t == 0 ) {
		snprintf( buf, len, "19700101000000Z" );
		return;
	}
	slap_timestamp( &t, &bv );
}

#define MON_ULONG( fn, expr ) \
static void fn( struct auth0_info *ai, char *buf, size_t len ) \
{ snprintf( buf, len, "%lu", (unsigned long)( expr ) ); }

static void
v_attempt( struct auth0_info *ai, char *buf, size_t len )
{
	v_time( ai->ai_last_attempt, buf, len );
}

static void
v_success( struct auth0_info *ai, char *buf, size_t len )
{
	v_time( ai->ai_last_success, buf, len );
}

static void
v_error( struct auth0_info *ai, char *buf, size_t len )
{
	snprintf( buf, len, "%s", ai->ai_last_error[0] ? ai->ai_last_error :
		"none" );
}

static void
v_failed( struct auth0_info *ai, char *buf, size_t len )
{
	unsigned f = ai->ai_last_failed;

	snprintf( buf, len, "%s%s%s%s%s%s%s%s%s%s", f ? "" : "none",
		f & AUTH0_RES_USERS ? "users " : "",
		f & AUTH0_RES_ROLES ? "roles " : "",
		f & AUTH0_RES_CLIENTS ? "clients " : "",
		f & AUTH0_RES_AUTHZ ? "authz " : "",
		f & AUTH0_RES_GROUPS ? "groups " : "",
		f & AUTH0_RES_GROUP_MEMBERS ? "group_members " : "",
		f & AUTH0_RES_ORGS ? "organizations " : "",
		f & AUTH0_RES_ORG_MEMBERS ? "organization_members " : "",
		f & AUTH0_RES_CONNS ? "connections " : "" );
	if ( f && strlen( buf ) > 0 )
		buf[strlen( buf ) - 1] = '\0';
}

static void
v_running( struct auth0_info *ai, char *buf, size_t len )
{
	snprintf( buf, len, "%s", ai->ai_running ? "TRUE" : "FALSE" );
}

static unsigned long
sum( struct auth0_info *ai, size_t off )
{
	unsigned long n = 0;
	int ou;

	for ( ou = 0; ou < AUTH0_OU_N; ou++ )
		n += *(unsigned long *)( (char *)&ai->ai_last[ou] + off );
	return n;
}

MON_ULONG( v_refreshes, ai->ai_refreshes )
MON_ULONG( v_users, ai->ai_last[AUTH0_OU_USERS].st_objects )
MON_ULONG( v_groups, ai->ai_last[AUTH0_OU_GROUP].st_objects )
MON_ULONG( v_roles, ai->ai_last[AUTH0_OU_ROLE].st_objects )
MON_ULONG( v_apps, ai->ai_last[AUTH0_OU_CLIENT].st_objects )
MON_ULONG( v_orgs, ai->ai_last[AUTH0_OU_ORG].st_objects )
MON_ULONG( v_added, sum( ai, offsetof( struct auth0_stats, st_adds ) ) )
MON_ULONG( v_modified, sum( ai, offsetof( struct auth0_stats, st_mods ) ) +
	sum( ai, offsetof( struct auth0_stats, st_renames ) ) )
MON_ULONG( v_deleted, sum( ai, offsetof( struct auth0_stats, st_dels ) ) )
MON_ULONG( v_errors, sum( ai, offsetof( struct auth0_stats, st_errors ) ) )
MON_ULONG( v_requests, ai->ai_last_api.as_requests )
MON_ULONG( v_requests_total, ai->ai_api_total.as_requests )
MON_ULONG( v_429_total, ai->ai_api_total.as_429 )
MON_ULONG( v_retries_total, ai->ai_api_total.as_retries )
MON_ULONG( v_duration, ai->ai_last_ms )
MON_ULONG( v_malformed, ai->ai_last_bad )
MON_ULONG( v_cycles, ai->ai_last_cycles )
MON_ULONG( v_bind_hits, __atomic_load_n( &ai->ai_bind_hits, __ATOMIC_RELAXED ) )
MON_ULONG( v_bind_up, __atomic_load_n( &ai->ai_bind_upstream,
	__ATOMIC_RELAXED ) )
MON_ULONG( v_bind_err, __atomic_load_n( &ai->ai_bind_errors,
	__ATOMIC_RELAXED ) )
MON_ULONG( v_bind_thr, __atomic_load_n( &ai->ai_bind_throttled,
	__ATOMIC_RELAXED ) )
MON_ULONG( v_bind_stale, __atomic_load_n( &ai->ai_bind_stale_hits,
	__ATOMIC_RELAXED ) )
/* binds, second wave (issue 17) */
MON_ULONG( v_bind_rejected, __atomic_load_n( &ai->ai_bind_rejected,
	__ATOMIC_RELAXED ) )
MON_ULONG( v_bind_push, __atomic_load_n( &ai->ai_bind_push_waits,
	__ATOMIC_RELAXED ) )
MON_ULONG( v_bind_failkeys, ai->ai_bindcache ?
	auth0_bindcache_failures( ai->ai_bindcache ) : 0 )

/* Upstream bind latency over the last AUTH0_LAT_WINDOW calls, in ms. */
static void
v_bind_lat( struct auth0_info *ai, char *buf, size_t len, int p99 )
{
	double p50 = 0, p = 0;

	if ( ai->ai_bindcache )
		auth0_bindcache_latency( ai->ai_bindcache, &p50, &p );
	snprintf( buf, len, "%lu", (unsigned long)( ( p99 ? p : p50 ) + 0.5 ) );
}

static void
v_bind_p50( struct auth0_info *ai, char *buf, size_t len )
{
	v_bind_lat( ai, buf, len, 0 );
}

static void
v_bind_p99( struct auth0_info *ai, char *buf, size_t len )
{
	v_bind_lat( ai, buf, len, 1 );
}

/* the change feed (#15) */
static void
v_last_full( struct auth0_info *ai, char *buf, size_t len )
{
	v_time( ai->ai_last_full, buf, len );
}

static void
v_checkpoint( struct auth0_info *ai, char *buf, size_t len )
{
	snprintf( buf, len, "%s", ai->ai_mon_checkpoint[0] ?
		ai->ai_mon_checkpoint : "none" );
}

static void
v_lag( struct auth0_info *ai, char *buf, size_t len )
{
	snprintf( buf, len, "%ld", ai->ai_mon_lag );
}

static void
v_feed( struct auth0_info *ai, char *buf, size_t len )
{
	snprintf( buf, len, "%s", !ai->ai_change_feed ? "off" :
		ai->ai_feed_noscope ? "off (read:logs scope missing)" :
		auth0_feed_wanted( ai ) ? "logs" : "off (not the API source)" );
}

MON_ULONG( v_model_bytes, ai->ai_mon_model_bytes )

#define MON_RES( ok, err, r ) \
static void ok( struct auth0_info *ai, char *buf, size_t len ) \
{ v_time( ai->ai_res_success[r], buf, len ); } \
static void err( struct auth0_info *ai, char *buf, size_t len ) \
{ snprintf( buf, len, "%s", ai->ai_res_error[r][0] ? \
	ai->ai_res_error[r] : "none" ); }

MON_RES( v_users_ok, v_users_err, AUTH0_FEED_RES_USERS )
MON_RES( v_roles_ok, v_roles_err, AUTH0_FEED_RES_ROLES )
MON_RES( v_clients_ok, v_clients_err, AUTH0_FEED_RES_CLIENTS )
MON_RES( v_authz_ok, v_authz_err, AUTH0_FEED_RES_AUTHZ )
MON_RES( v_logs_ok, v_logs_err, AUTH0_FEED_RES_LOGS )
MON_RES( v_groups_ok, v_groups_err, AUTH0_FEED_RES_GROUPS )
MON_RES( v_orgs_ok, v_orgs_err, AUTH0_FEED_RES_ORGS )
MON_RES( v_conns_ok, v_conns_err, AUTH0_FEED_RES_CONNS )

#define INT_AT( n, name, desc ) "( " AUTH0_MON n " NAME '" name "' DESC '" \
	desc "' EQUALITY integerMatch ORDERING integerOrderingMatch " \
	"SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE " \
	"NO-USER-MODIFICATION USAGE dSAOperation )"
#define TIME_AT( n, name, desc ) "( " AUTH0_MON n " NAME '" name "' DESC '" \
	desc "' EQUALITY generalizedTimeMatch " \
	"ORDERING generalizedTimeOrderingMatch " \
	"SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE " \
	"NO-USER-MODIFICATION USAGE dSAOperation )"
#define STR_AT( n, name, desc ) "( " AUTH0_MON n " NAME '" name "' DESC '" \
	desc "' EQUALITY caseIgnoreMatch " \
	"SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE " \
	"NO-USER-MODIFICATION USAGE dSAOperation )"

static struct monattr {
	const char		*ma_def;
	mon_value		*ma_value;
	AttributeDescription	*ma_ad;
} monattrs[] = {
	{ TIME_AT( "1", "auth0MonLastAttempt", "Start of the last refresh" ),
		v_attempt },
	{ TIME_AT( "2", "auth0MonLastSuccess", "End of the last good refresh" ),
		v_success },
	{ STR_AT( "3", "auth0MonLastError", "Why the last refresh failed" ),
		v_error },
	{ INT_AT( "4", "auth0MonRefreshes", "Refreshes run" ), v_refreshes },
	{ INT_AT( "5", "auth0MonUsers", "Users in the last refresh" ),
		v_users },
	{ INT_AT( "6", "auth0MonGroups", "Groups in the last refresh" ),
		v_groups },
	{ INT_AT( "7", "auth0MonRoles", "Roles in the last refresh" ),
		v_roles },
	{ INT_AT( "8", "auth0MonApplications", "Applications in the last "
		"refresh" ), v_apps },
	{ INT_AT( "9", "auth0MonAdded", "Entries added by the last refresh" ),
		v_added },
	{ INT_AT( "10", "auth0MonModified", "Entries changed or renamed by "
		"the last refresh" ), v_modified },
	{ INT_AT( "11", "auth0MonDeleted", "Entries deleted by the last "
		"refresh" ), v_deleted },
	{ INT_AT( "12", "auth0MonEntryErrors", "Entries the last refresh "
		"could not write" ), v_errors },
	{ STR_AT( "13", "auth0MonFailedResources", "Resources the last "
		"refresh could not fetch (their stored data was kept)" ),
		v_failed },
	{ INT_AT( "14", "auth0MonApiRequests", "HTTP requests of the last "
		"refresh" ), v_requests },
	{ INT_AT( "15", "auth0MonApiRequestsTotal", "HTTP requests since "
		"start" ), v_requests_total },
	{ INT_AT( "16", "auth0MonApi429Total", "429 answers since start" ),
		v_429_total },
	{ INT_AT( "17", "auth0MonApiRetriesTotal", "Requests repeated since "
		"start" ), v_retries_total },
	{ INT_AT( "18", "auth0MonDurationMs", "Milliseconds the last refresh "
		"took" ), v_duration },
	{ INT_AT( "19", "auth0MonMalformed", "Malformed records in the last "
		"refresh" ), v_malformed },
	{ INT_AT( "20", "auth0MonNestingCycles", "Groups on a nesting cycle" ),
		v_cycles },
	{ "( " AUTH0_MON "21 NAME 'auth0MonRunning' DESC 'A refresh is "
		"running' EQUALITY booleanMatch "
		"SYNTAX 1.3.6.1.4.1.1466.115.121.1.7 SINGLE-VALUE "
		"NO-USER-MODIFICATION USAGE dSAOperation )", v_running },
	{ INT_AT( "22", "auth0MonBindCacheHits", "Binds answered by the bind "
		"cache" ), v_bind_hits },
	{ INT_AT( "23", "auth0MonBindUpstream", "Requests to Auth0 for binds" ),
		v_bind_up },
	{ INT_AT( "24", "auth0MonBindErrors", "Binds Auth0 could not answer "
		"(unreachable, 5xx, 429, misconfigured)" ), v_bind_err },
	{ INT_AT( "25", "auth0MonBindThrottled", "Binds refused by "
		"throttling" ), v_bind_thr },
	{ INT_AT( "26", "auth0MonBindStaleHits", "Binds accepted from the "
		"stale cache while Auth0 was down" ), v_bind_stale },
	/* 40 on: clear of what other work adds after 26 */
	{ INT_AT( "30", "auth0MonOrganizations", "Organizations in the last "
		"refresh" ), v_orgs },
	/* the API's native resources, as 44-53 for the others */
	{ TIME_AT( "31", "auth0MonGroupsLastSuccess", "Native groups and their "
		"members last read" ), v_groups_ok },
	{ STR_AT( "32", "auth0MonGroupsLastError", "Last error reading native "
		"groups or their members" ), v_groups_err },
	{ TIME_AT( "33", "auth0MonOrganizationsLastSuccess", "Organizations "
		"and their members last read" ), v_orgs_ok },
	{ STR_AT( "34", "auth0MonOrganizationsLastError", "Last error reading "
		"organizations or their members" ), v_orgs_err },
	{ TIME_AT( "35", "auth0MonConnectionsLastSuccess", "Applications of "
		"each connection last read" ), v_conns_ok },
	{ STR_AT( "36", "auth0MonConnectionsLastError", "Last error reading "
		"the applications of connections" ), v_conns_err },
	/* the change feed (#15) */
	{ TIME_AT( "40", "auth0MonLastFullRefresh", "End of the last clean "
		"full refresh" ), v_last_full },
	{ STR_AT( "41", "auth0MonLogCheckpoint", "Newest log_id the change "
		"feed applied" ), v_checkpoint },
	{ INT_AT( "42", "auth0MonChangeLag", "Seconds from the newest applied "
		"event to its application (-1: none yet)" ), v_lag },
	{ STR_AT( "43", "auth0MonChangeFeed", "logs, or off and why" ),
		v_feed },
	{ TIME_AT( "44", "auth0MonUsersLastSuccess", "Users last read" ),
		v_users_ok },
	{ STR_AT( "45", "auth0MonUsersLastError", "Last error reading users" ),
		v_users_err },
	{ TIME_AT( "46", "auth0MonRolesLastSuccess", "Roles last read" ),
		v_roles_ok },
	{ STR_AT( "47", "auth0MonRolesLastError", "Last error reading roles" ),
		v_roles_err },
	{ TIME_AT( "48", "auth0MonClientsLastSuccess", "Applications last "
		"read" ), v_clients_ok },
	{ STR_AT( "49", "auth0MonClientsLastError", "Last error reading "
		"applications" ), v_clients_err },
	{ TIME_AT( "50", "auth0MonAuthzLastSuccess", "Authorization "
		"Extension last read" ), v_authz_ok },
	{ STR_AT( "51", "auth0MonAuthzLastError", "Last error reading the "
		"Authorization Extension" ), v_authz_err },
	{ TIME_AT( "52", "auth0MonLogsLastSuccess", "Tenant log last read" ),
		v_logs_ok },
	{ STR_AT( "53", "auth0MonLogsLastError", "Last error reading the "
		"tenant log" ), v_logs_err },
	{ INT_AT( "54", "auth0MonFeedModelBytes", "Memory the change feed "
		"keeps for the users between refreshes" ), v_model_bytes },
	/* binds, second wave (issue 17): 60-69 */
	{ INT_AT( "60", "auth0MonBindRejected", "Binds refused with busy "
		"because every bind connection was in use" ), v_bind_rejected },
	{ INT_AT( "61", "auth0MonBindPushWaits", "Binds that waited for a "
		"Guardian push approval" ), v_bind_push },
	{ INT_AT( "62", "auth0MonBindLatencyMedianMs", "Median milliseconds "
		"of the last 1024 upstream bind verifications" ), v_bind_p50 },
	{ INT_AT( "63", "auth0MonBindLatencyP99Ms", "99th percentile "
		"milliseconds of the last 1024 upstream bind verifications" ),
		v_bind_p99 },
	{ INT_AT( "64", "auth0MonBindFailureKeys", "DNs and addresses in the "
		"bind failure table" ), v_bind_failkeys },
	{ NULL }
};

static ObjectClass *oc_monitor;

static int
monitor_schema( void )
{
	static int done;
	char oc[4096];
	size_t len;
	int i;

	if ( done )
		return 0;
	len = snprintf( oc, sizeof( oc ), "( %s1 NAME 'auth0MonitorInfo' "
		"DESC 'back-auth0 status' SUP top AUXILIARY MAY ( ",
		"2.25.275749359712394017892977585135807580588.1.4." );
	for ( i = 0; monattrs[i].ma_def; i++ ) {
		if ( register_at( monattrs[i].ma_def, &monattrs[i].ma_ad, 1 ) )
			return -1;
		len += snprintf( oc + len, sizeof( oc ) - len, "%s%s",
			i ? " $ " : "", monattrs[i].ma_ad->ad_cname.bv_val );
	}
	snprintf( oc + len, sizeof( oc ) - len, " ) )" );
	if ( register_oc( oc, &oc_monitor, 1 ) )
		return -1;
	done = 1;
	return 0;
}

static int
monitor_update( Operation *op, SlapReply *rs, Entry *e, void *priv )
{
	struct auth0_info *ai = priv;
	char buf[AUTH0_ERRLEN + 64];
	struct berval bv;
	Attribute *a;
	int i;

	ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
	for ( i = 0; monattrs[i].ma_def; i++ ) {
		a = attr_find( e->e_attrs, monattrs[i].ma_ad );
		if ( a == NULL )
			continue;
		monattrs[i].ma_value( ai, buf, sizeof( buf ) );
		ber_str2bv( buf, 0, 0, &bv );
		ber_bvreplace( &a->a_vals[0], &bv );
		if ( a->a_nvals != a->a_vals )
			ber_bvreplace( &a->a_nvals[0], &bv );
	}
	ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
	return SLAP_CB_CONTINUE;
}

static int
monitor_free( Entry *e, void **priv )
{
	int i;

	for ( i = 0; monattrs[i].ma_def; i++ )
		attr_delete( &e->e_attrs, monattrs[i].ma_ad );
	return SLAP_CB_CONTINUE;
}

/*
 * Where the status goes, named as back-monitor names its entries: the
 * overlay's entry "cn=Overlay <o>,cn=Database <d>,cn=Databases,cn=Monitor"
 * (o counts the database's overlays, d the databases) when this overlay
 * is the database's last one, else an entry of its own, "cn=Auth0" below
 * the database's: back-monitor 2.5.13 links only the last overlay's entry
 * below the database entry, so another overlay's cannot be read.  The
 * names are computed, not asked for (register_overlay), since cn=Monitor
 * may open after this database ("database monitor" further down).
 */
static int
entry_ndn( struct auth0_info *ai, BackendDB *be, int own, struct berval *dn,
	struct berval *ndn )
{
	BackendDB *real = be->bd_self, *b;
	slap_overinst *on;
	char buf[SLAP_TEXT_BUFLEN];
	struct berval in;
	int d = 0, o = 0;

	LDAP_STAILQ_FOREACH( b, &backendDB, be_next ) {
		if ( b == real )
			break;
		d++;
	}
	if ( b == NULL )
		return -1;
	for ( on = ai->ai_on->on_info->oi_list; on && on != ai->ai_on;
			on = on->on_next )
		o++;
	if ( on == NULL )
		return -1;
	if ( own )
		in.bv_len = snprintf( buf, sizeof( buf ), "cn=Auth0,cn=Database "
			"%d,cn=Databases,cn=Monitor", d );
	else
		in.bv_len = snprintf( buf, sizeof( buf ), "cn=Overlay %d,"
			"cn=Database %d,cn=Databases,cn=Monitor", o, d );
	in.bv_val = buf;
	return dnPrettyNormal( NULL, &in, dn, ndn, NULL ) == LDAP_SUCCESS ?
		0 : -1;
}

/* The entry of our own (not the overlay's), with attrs a. */
static int
register_own( monitor_extra_t *mbe, struct berval *dn, struct berval *ndn,
	Attribute *a, monitor_callback_t *cb )
{
	Entry *e = entry_alloc();
	struct berval v;
	int rc;

	ber_dupbv( &e->e_name, dn );
	ber_dupbv( &e->e_nname, ndn );
	e->e_attrs = attrs_dup( a );
	BER_BVSTR( &v, "monitoredObject" );
	attr_merge_one( e, slap_schema.si_ad_objectClass, &v, NULL );
	BER_BVSTR( &v, "Auth0" );
	attr_merge_normalize_one( e, slap_schema.si_ad_cn, &v, NULL );
	rc = mbe->register_entry( e, cb, NULL, 0 );
	entry_free( e );
	return rc;
}

/* Adds our attributes to the database's monitor entry (db_open). */
int
auth0_monitor_open( struct auth0_info *ai, BackendDB *be )
{
	BackendInfo *mi = backend_info( "monitor" );
	monitor_extra_t *mbe;
	monitor_callback_t *cb;
	Attribute *a = NULL, **tail = &a;
	struct berval bv = BER_BVC( "0" ), dn = BER_BVNULL;
	int i, rc;

	if ( mi == NULL || mi->bi_extra == NULL )
		return 0;
	mbe = mi->bi_extra;
	if ( !mbe->is_configured() || monitor_schema() != 0 )
		return 0;
	*tail = attr_alloc( slap_schema.si_ad_objectClass );
	attr_valadd( *tail, &oc_monitor->soc_cname, NULL, 1 );
	tail = &(*tail)->a_next;
	for ( i = 0; monattrs[i].ma_def; i++ ) {
		*tail = attr_alloc( monattrs[i].ma_ad );
		attr_valadd( *tail, &bv, NULL, 1 );
		tail = &(*tail)->a_next;
	}
	cb = ch_calloc( 1, sizeof( *cb ) );
	cb->mc_update = monitor_update;
	cb->mc_free = monitor_free;
	cb->mc_private = ai;
	/* our own entry (the overlay's): slapd 2.5.13 frees the callbacks of
	 * an entry that has several of them wrongly at shutdown.  Before
	 * cn=Monitor opens, back-monitor keeps the pointer to the DN. */
	ch_free( ai->ai_monitor_own.bv_val );
	BER_BVZERO( &ai->ai_monitor_own );
	ai->ai_monitor_entry = ai->ai_on->on_next != NULL;
	rc = entry_ndn( ai, be, ai->ai_monitor_entry, &dn, &ai->ai_monitor_own );
	if ( rc == 0 ) {
		ai->ai_monitor_ndn = ai->ai_monitor_own;
		rc = ai->ai_monitor_entry ?
			register_own( mbe, &dn, &ai->ai_monitor_own, a, cb ) :
			mbe->register_entry_attrs( &ai->ai_monitor_ndn, a, cb, NULL,
				-1, NULL );
	}
	ch_free( dn.bv_val );
	attrs_free( a );
	if ( rc != 0 ) {
		ch_free( cb );
		Debug( LDAP_DEBUG_ANY, "auth0: %s: cannot publish status under "
			"cn=Monitor\n", ai->ai_nsuffix.bv_val );
		return 0;
	}
	ai->ai_monitor_cb = cb;
	return 0;
}

void
auth0_monitor_close( struct auth0_info *ai )
{
	BackendInfo *mi = backend_info( "monitor" );
	struct berval dummy = BER_BVNULL;

	if ( ai->ai_monitor_cb && mi && mi->bi_extra ) {
		monitor_extra_t *mbe = mi->bi_extra;
		/* back-monitor frees the callback with the entry */
		if ( ai->ai_monitor_entry )
			mbe->unregister_entry( &ai->ai_monitor_ndn );
		else
			mbe->unregister_entry_callback( &ai->ai_monitor_ndn,
				ai->ai_monitor_cb, &dummy, 0, &dummy );
	}
	ai->ai_monitor_cb = NULL;
	BER_BVZERO( &ai->ai_monitor_ndn );
	ch_free( ai->ai_monitor_own.bv_val );
	BER_BVZERO( &ai->ai_monitor_own );
}
