/* source.c - where a refresh reads the tenant from, for back-auth0 */
/*
 * A snapshot directory (snapdir.c) or the live APIs (api.h).  The API
 * session (tokens, the HTTP connection) lives across refreshes in
 * ai_session, so a token is reused until shortly before it expires; it is
 * rebuilt, dropping its tokens, when anything it was made from changed
 * over cn=config (domain, client id, secret, audiences, authz URL, CA
 * file, timeout, proxy); a new request rate is taken over as it is.  Only the
 * refresh task touches the session, and never two refreshes run at once.
 */
#include "portable.h"

#include <ac/string.h>

#include "back-auth0.h"
#include "api.h"
#include "httpcurl.h"

enum { S_BASE, S_ID, S_SECRET, S_AUD, S_AUTHZ, S_AUTHZAUD, S_CA, S_PROXY,
	S_PROXYCRED, S_N };

/* The API session and the settings it was built from (owned copies). */
struct auth0_session {
	struct auth0_api	se_api;
	struct auth0_transport	*se_tr;		/* libcurl's */
	struct auth0_transport	se_outer;	/* what the API uses: se_tr,
						 * minding slapd (below) */
	struct auth0_api_conf	se_conf;
	char			*se_strs[S_N];	/* what se_conf points to */
	long			se_timeout;
	struct auth0_api_stats	se_total;	/* across refreshes */
};

/*
 * The API's waits and transfers mind slapd: a sleep (rate limit, export
 * polling) is cut into slices that let slapd's pool pause (a cn=config
 * write waits for every pool thread) and end at shutdown; at shutdown no
 * request starts and a streamed download stops, so slapd stops within a
 * second or so in any of these states.
 */
#define AUTH0_SLICE	0.1	/* seconds */

static void
mind_sleep( void *ctx, double seconds )
{
	struct auth0_session *se = ctx;

	while ( seconds > 0 && !slapd_shutdown ) {
		double t = seconds < AUTH0_SLICE ? seconds : AUTH0_SLICE;
		se->se_tr->tr_sleep( se->se_tr->tr_ctx, t );
		seconds -= t;
		ldap_pvt_thread_pool_pausecheck( &connection_pool );
	}
}

static double
mind_now( void *ctx )
{
	struct auth0_session *se = ctx;

	return se->se_tr->tr_now( se->se_tr->tr_ctx );
}

struct mind_sink {
	auth0_http_sink	*ms_sink;
	void		*ms_arg;
};

static int
mind_chunk( void *arg, const char *data, size_t len )
{
	struct mind_sink *ms = arg;

	if ( slapd_shutdown )
		return 1;	/* aborts the transfer */
	return ms->ms_sink( ms->ms_arg, data, len );
}

static int
mind_request( void *ctx, const struct auth0_http_req *req,
	auth0_http_sink *sink, void *sink_arg, struct auth0_http_resp *resp )
{
	struct auth0_session *se = ctx;
	struct mind_sink ms = { sink, sink_arg };

	if ( slapd_shutdown ) {
		memset( resp, 0, sizeof( *resp ) );
		resp->rs_rl_remaining = -1;
		resp->rs_retry_after = -1;
		resp->rs_transport = AUTH0_HTTP_E_NETWORK;
		snprintf( resp->rs_error, sizeof( resp->rs_error ),
			"slapd is shutting down" );
		return resp->rs_transport;
	}
	ldap_pvt_thread_pool_pausecheck( &connection_pool );
	return se->se_tr->tr_request( se->se_tr->tr_ctx, req,
		sink ? mind_chunk : NULL, sink ? &ms : NULL, resp );
}

static void
session_free( struct auth0_session *se )
{
	int i;

	if ( se == NULL )
		return;
	auth0_api_destroy( &se->se_api );
	auth0_curl_free( se->se_tr );
	for ( i = 0; i < S_N; i++ ) {
		if ( se->se_strs[i] )
			explicit_bzero( se->se_strs[i], strlen( se->se_strs[i] ) );
		ch_free( se->se_strs[i] );
	}
	ch_free( se );
}

static int
same( const char *a, const char *b )
{
	return ( a == NULL && b == NULL ) || ( a && b && strcmp( a, b ) == 0 );
}

/* The settings a session needs, from ai (under ai_mutex). */
static void
wanted( struct auth0_info *ai, char *strs[S_N] )
{
	char buf[SLAP_TEXT_BUFLEN];

	snprintf( buf, sizeof( buf ), "https://%s", ai->ai_domain );
	strs[S_BASE] = ch_strdup( buf );
	strs[S_ID] = ch_strdup( ai->ai_client_id ? ai->ai_client_id : "" );
	strs[S_SECRET] = ch_strdup( ai->ai_secret ? ai->ai_secret : "" );
	if ( ai->ai_audience ) {
		strs[S_AUD] = ch_strdup( ai->ai_audience );
	} else {
		snprintf( buf, sizeof( buf ), "https://%s/api/v2/", ai->ai_domain );
		strs[S_AUD] = ch_strdup( buf );
	}
	strs[S_AUTHZ] = ai->ai_authz_url ? ch_strdup( ai->ai_authz_url ) : NULL;
	strs[S_AUTHZAUD] = ch_strdup( ai->ai_authz_audience ?
		ai->ai_authz_audience : AUTH0_DEFAULT_AUTHZ_AUDIENCE );
	strs[S_CA] = ai->ai_ca_file ? ch_strdup( ai->ai_ca_file ) : NULL;
	strs[S_PROXY] = ai->ai_proxy ? ch_strdup( ai->ai_proxy ) : NULL;
	strs[S_PROXYCRED] = ai->ai_proxy_cred ? ch_strdup( ai->ai_proxy_cred ) :
		NULL;
}

static struct auth0_session *
session_new( char *strs[S_N], double rate, long timeout )
{
	struct auth0_session *se = ch_calloc( 1, sizeof( *se ) );
	struct auth0_api_conf *ac = &se->se_conf;

	memcpy( se->se_strs, strs, sizeof( se->se_strs ) );
	se->se_timeout = timeout;
	se->se_tr = auth0_curl_new( strs[S_CA], timeout );
	if ( se->se_tr == NULL ||
			auth0_curl_proxy( se->se_tr, strs[S_PROXY], strs[S_PROXYCRED] ) ) {
		session_free( se );
		return NULL;
	}
	ac->ac_base = strs[S_BASE];
	ac->ac_client_id = strs[S_ID];
	ac->ac_client_secret = strs[S_SECRET];
	ac->ac_audience = strs[S_AUD];
	ac->ac_authz_url = strs[S_AUTHZ];
	ac->ac_authz_audience = strs[S_AUTHZAUD];
	ac->ac_rate = rate;
	ac->ac_max_retries = 3;
	ac->ac_max_wait = 60;
	ac->ac_export_timeout = 3600;
	ac->ac_low_speed = AUTH0_DEFAULT_EXPORT_LOW_SPEED;
	ac->ac_low_speed_time = AUTH0_DEFAULT_EXPORT_LOW_TIME;
	ac->ac_poll_interval = 2;
	ac->ac_page_cap = 1000;
	se->se_outer.tr_request = mind_request;
	se->se_outer.tr_sleep = mind_sleep;
	se->se_outer.tr_now = mind_now;
	se->se_outer.tr_ctx = se;
	auth0_api_init( &se->se_api, ac, &se->se_outer );
	return se;
}

/*
 * The session for the current configuration: kept when nothing it was
 * built from changed, else rebuilt (tokens of the old one are dropped).
 */
static struct auth0_session *
session_get( struct auth0_info *ai, char *err )
{
	struct auth0_session *se = ai->ai_session;
	const char *missing = NULL;
	char *strs[S_N];
	double rate, export_timeout;
	long low_speed[2];
	long timeout;
	int i, keep, fresh;

	ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
	/* cn=config may have taken away what the API needs */
	if ( ai->ai_domain == NULL )
		missing = "no source configured (set auth0-snapshot-dir or "
			"auth0-domain)";
	else if ( ai->ai_client_id == NULL )
		missing = "auth0-domain needs auth0-client-id";
	else if ( ai->ai_secret == NULL )
		missing = "auth0-domain needs auth0-client-secret-file";
	if ( missing ) {
		ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
		snprintf( err, AUTH0_ERRLEN, "%s", missing );
		return NULL;
	}
	wanted( ai, strs );
	rate = ai->ai_rate;
	timeout = ai->ai_timeout;
	export_timeout = (double)ai->ai_export_timeout;
	low_speed[0] = ai->ai_export_low_speed;
	low_speed[1] = ai->ai_export_low_time;
	fresh = ai->ai_new_tokens;
	ai->ai_new_tokens = 0;
	ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
	if ( se && fresh ) {
		auth0_token_drop( &se->se_api.ap_mgmt_token );
		auth0_token_drop( &se->se_api.ap_authz_token );
	}
	keep = se && se->se_timeout == timeout;
	for ( i = 0; keep && i < S_N; i++ )
		keep = same( se->se_strs[i], strs[i] );
	if ( keep ) {
		/* auth0_api_init copied the settings: the copy spaces requests */
		se->se_conf.ac_rate = rate;
		se->se_api.ap_conf.ac_rate = rate;
		se->se_api.ap_conf.ac_export_timeout = export_timeout;
		se->se_api.ap_conf.ac_low_speed = low_speed[0];
		se->se_api.ap_conf.ac_low_speed_time = low_speed[1];
		for ( i = 0; i < S_N; i++ ) {
			if ( strs[i] )
				explicit_bzero( strs[i], strlen( strs[i] ) );
			ch_free( strs[i] );
		}
		return se;
	}
	if ( se )
		session_free( se );
	ai->ai_session = session_new( strs, rate, timeout );
	if ( ai->ai_session )
		auth0_curl_trace( ai->ai_session->se_tr, auth0_trace_http, ai );
	if ( ai->ai_session ) {
		ai->ai_session->se_api.ap_conf.ac_export_timeout =
			export_timeout;
		ai->ai_session->se_api.ap_conf.ac_low_speed = low_speed[0];
		ai->ai_session->se_api.ap_conf.ac_low_speed_time = low_speed[1];
	}
	return ai->ai_session;
}

void
auth0_source_close( struct auth0_info *ai )
{
	session_free( ai->ai_session );
	ai->ai_session = NULL;
}

static void
progress( void *arg, const char *what, unsigned long done,
	unsigned long total )
{
	Log( LDAP_DEBUG_STATS, LDAP_LEVEL_INFO, "auth0: %s: %s %lu of %lu\n",
		(const char *)arg, what, done, total );
}

/* The API session for this run (the change feed), or NULL (rn_err). */
struct auth0_api *
auth0_source_api( struct auth0_run *rn )
{
	struct auth0_session *se = session_get( rn->rn_ai, rn->rn_err );

	if ( se == NULL ) {
		/* the full refresh that follows reports it */
		rn->rn_err[0] = '\0';
		return NULL;
	}
	return &se->se_api;
}

/* Reads the tenant from the APIs into rn's model. */
static int
fetch_api( struct auth0_run *rn, const struct auth0_select *sel )
{
	struct auth0_session *se = session_get( rn->rn_ai, rn->rn_err );
	struct auth0_api_stats before;
	int rc;

	if ( se == NULL ) {
		if ( rn->rn_err[0] == '\0' )
			snprintf( rn->rn_err, sizeof( rn->rn_err ), "cannot set up "
				"an HTTPS client (libcurl)" );
		rn->rn_model.sn_failed |= AUTH0_RES_USERS;
		return -1;
	}
	before = se->se_api.ap_stats;
	se->se_api.ap_progress = progress;
	se->se_api.ap_progress_arg = (void *)rn->rn_mc.mc_suffix;
	rc = auth0_api_fetch( &se->se_api, sel, &rn->rn_model, rn->rn_err );
	/* added: the change feed may have counted its requests already */
	rn->rn_api.as_requests += se->se_api.ap_stats.as_requests -
		before.as_requests;
	rn->rn_api.as_429 += se->se_api.ap_stats.as_429 - before.as_429;
	rn->rn_api.as_retries += se->se_api.ap_stats.as_retries -
		before.as_retries;
	rn->rn_api.as_tokens += se->se_api.ap_stats.as_tokens -
		before.as_tokens;
	rn->rn_api.as_exports += se->se_api.ap_stats.as_exports -
		before.as_exports;
	/*
	 * a resource that failed is flagged and kept, its error goes to
	 * cn=Monitor; users are needed
	 */
	if ( rc != AUTH0_OK && !( rn->rn_model.sn_failed & AUTH0_RES_USERS ) ) {
		snprintf( rn->rn_res_err, sizeof( rn->rn_res_err ), "%s",
			rn->rn_err );
		rn->rn_err[0] = '\0';
	}
	return ( rn->rn_model.sn_failed & AUTH0_RES_USERS ) ? -1 : 0;
}

/*
 * Fills rn's model from the configured source.  -1 (rn_err says why) when
 * the users could not be read: the refresh then keeps what is stored.
 */
int
auth0_source_fetch( struct auth0_run *rn, const char *dir, char **conns )
{
	struct auth0_select sel = { conns };
	struct auth0_model *m = &rn->rn_model;

	if ( dir && *dir ) {
		rn->rn_api_used = 0;
		if ( auth0_snapdir_read_users( dir, &sel, m, rn->rn_err ) )
			return -1;
		auth0_snapdir_read_tenant( dir, m, rn->rn_err );
		return 0;
	}
	rn->rn_api_used = 1;
	return fetch_api( rn, &sel );
}
