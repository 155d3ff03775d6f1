/* init.c - lifecycle of the back-auth0 overlay */
/*
 * Registers the overlay "auth0" (DESIGN.md section 1): it sits on a back-mdb
 * database and writes the imported tenant through internal operations.
 * init_module() refuses to load into a slapd whose structures may differ
 * from the headers the module was built against (version.c), since slapd
 * checks no module ABI.
 */
#include "portable.h"

#include <ac/string.h>
#include <curl/curl.h>

#include "back-auth0.h"
#include "slap-config.h"
#include "bindcache.h"

static slap_overinst auth0;

int
auth0_db_init( BackendDB *be, ConfigReply *cr )
{
	slap_overinst *on = (slap_overinst *)be->bd_info;
	BackendInfo *bi = on->on_info->oi_orig;
	struct auth0_info *ai;

	if ( SLAP_ISGLOBALOVERLAY( be ) ) {
		snprintf( cr->msg, sizeof( cr->msg ),
			"auth0 overlay must be instantiated within a database" );
		Debug( LDAP_DEBUG_ANY, "%s\n", cr->msg );
		return 1;
	}
	/* check what we need, not the backend's name */
	if ( !bi->bi_op_add || !bi->bi_op_modify || !bi->bi_op_modrdn ||
			!bi->bi_op_delete || !bi->bi_op_search ||
			!bi->bi_entry_get_rw || !bi->bi_op_txn ) {
		snprintf( cr->msg, sizeof( cr->msg ), "auth0 overlay needs a "
			"database with add, modify, modrdn, delete, search and "
			"transactions (use database mdb)" );
		Debug( LDAP_DEBUG_ANY, "%s\n", cr->msg );
		return 1;
	}
	ai = ch_calloc( 1, sizeof( *ai ) );
	ai->ai_be = be;
	ai->ai_on = on;
	ai->ai_refresh_interval = AUTH0_DEFAULT_REFRESH;
	ai->ai_uid_lo = AUTH0_DEFAULT_UID_LO;
	ai->ai_uid_hi = AUTH0_DEFAULT_UID_HI;
	ai->ai_gid_lo = AUTH0_DEFAULT_GID_LO;
	ai->ai_gid_hi = AUTH0_DEFAULT_GID_HI;
	ai->ai_max_delete = AUTH0_DEFAULT_MAX_DELETE;
	ai->ai_max_delete_pct = 1;
	ai->ai_batch = AUTH0_DEFAULT_BATCH;
	ai->ai_rate = AUTH0_DEFAULT_RATE;
	auth0_config_defaults( ai );
	ai->ai_mon_lag = -1;
	ldap_pvt_thread_mutex_init( &ai->ai_mutex );
	on->on_bi.bi_private = ai;
	return 0;
}

static int
open_error( ConfigReply *cr, const char *msg )
{
	snprintf( cr->msg, sizeof( cr->msg ), "auth0 overlay: %s", msg );
	Debug( LDAP_DEBUG_ANY, "%s\n", cr->msg );
	return 1;
}

/* The Management API wants the canonical domain, not a custom one. */
static void
warn_custom_domain( const char *db, const char *domain )
{
	const char *suffix = ".auth0.com";
	size_t n = strcspn( domain, ":" ), m = strlen( suffix );

	if ( ( n > m && strncasecmp( domain + n - m, suffix, m ) == 0 ) ||
			strncmp( domain, "127.", 4 ) == 0 || domain[0] == '[' ||
			strncasecmp( domain, "localhost", 9 ) == 0 )
		return;
	Debug( LDAP_DEBUG_ANY, "auth0: %s: warning: auth0-domain \"%s\" is not "
		"a canonical *.auth0.com domain; the Management API answers only "
		"on the tenant's canonical domain\n", db, domain );
}

/* Reads *path into *secret; a failure is fatal only when it is needed. */
static int
open_secret( struct auth0_info *ai, const char *path, const char *directive,
	char **secret, int needed, ConfigReply *cr )
{
	char err[SLAP_TEXT_BUFLEN];

	auth0_secret_free( secret );
	if ( path == NULL )
		return 0;
	if ( auth0_secret_read( path, directive, secret, err,
			sizeof( err ) ) == 0 )
		return 0;
	if ( needed )
		return open_error( cr, err );
	/* may be needed later, after a cn=config change: say so now */
	Debug( LDAP_DEBUG_ANY, "auth0: %s: warning: %s\n",
		ai->ai_nsuffix.bv_val, err );
	return 0;
}

/* Binds: on by default with a domain; needs a client and its secret. */
static int
auth0_open_bind( struct auth0_info *ai, ConfigReply *cr )
{
	int on = auth0_bind_wanted( ai );

	if ( open_secret( ai, ai->ai_bind_secret_file,
			"auth0-bind-client-secret-file", &ai->ai_bind_secret, on,
			cr ) )
		return 1;
	if ( !on )
		return 0;
	if ( ai->ai_domain == NULL )
		return open_error( cr, "auth0-bind password-realm needs "
			"auth0-domain" );
	if ( !ai->ai_bind_client_id && !ai->ai_client_id )
		return open_error( cr, "auth0-bind password-realm needs "
			"auth0-bind-client-id (or auth0-client-id)" );
	if ( !ai->ai_bind_secret_file && !ai->ai_secret_file )
		return open_error( cr, "auth0-bind password-realm needs "
			"auth0-bind-client-secret-file (or auth0-client-secret-file)" );
	if ( !ai->ai_bind_secret_file && ai->ai_secret == NULL )
		return open_secret( ai, ai->ai_secret_file,
			"auth0-client-secret-file", &ai->ai_secret, 1, cr );
	return 0;
}

/*
 * Cross-checks the source directives and reads the secrets.  Every
 * configured secret file is read here (a later cn=config change may need
 * one that is not needed now); one that is needed must be readable.
 */
static int
auth0_open_source( struct auth0_info *ai, ConfigReply *cr )
{
	int api = ai->ai_sync && !ai->ai_snapshot_dir && ai->ai_domain;

	if ( ai->ai_domain )
		warn_custom_domain( ai->ai_nsuffix.bv_val, ai->ai_domain );
	if ( ai->ai_sync && ai->ai_snapshot_dir == NULL && ai->ai_domain == NULL )
		return open_error( cr, "no source configured (set "
			"auth0-snapshot-dir or auth0-domain)" );
	if ( api && ai->ai_client_id == NULL )
		return open_error( cr, "auth0-domain needs auth0-client-id" );
	if ( api && ai->ai_secret_file == NULL )
		return open_error( cr, "auth0-domain needs "
			"auth0-client-secret-file" );
	if ( open_secret( ai, ai->ai_secret_file, "auth0-client-secret-file",
			&ai->ai_secret, api, cr ) )
		return 1;
	/* a replica (sync off): data comes by syncrepl, binds may be ours */
	return auth0_open_bind( ai, cr );
}

int
auth0_db_open( BackendDB *be, ConfigReply *cr )
{
	slap_overinst *on = (slap_overinst *)be->bd_info;
	struct auth0_info *ai = on->on_bi.bi_private;

	if ( slapMode & SLAP_TOOL_MODE )
		return 0;
	if ( BER_BVISEMPTY( &be->be_nsuffix[0] ) )
		return open_error( cr, "needs a database with a non-empty suffix" );
	/* be is the overlay's copy here: keep the suffix, not the pointer */
	ch_free( ai->ai_nsuffix.bv_val );
	ber_dupbv( &ai->ai_nsuffix, &be->be_nsuffix[0] );
	if ( auth0_open_source( ai, cr ) != 0 )
		return 1;
	if ( open_secret( ai, ai->ai_proxy_cred_file,
			"auth0-proxy-credentials-file", &ai->ai_proxy_cred, 1, cr ) )
		return 1;
	if ( !BER_BVISNULL( &ai->ai_nbase ) &&
			!dnIsSuffix( &ai->ai_nbase, &ai->ai_nsuffix ) )
		return open_error( cr, "auth0-base is not the database suffix "
			"or below it" );
	auth0_monitor_open( ai, be );
	auth0_problems_open( ai );
	if ( ai->ai_bindcache == NULL )
		ai->ai_bindcache = auth0_bindcache_new();
	if ( ai->ai_bindcache == NULL )
		return open_error( cr, "cannot set up the bind cache" );
	ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
	auth0_bind_apply( ai );
	ai->ai_sync_applied = ai->ai_sync;
	auth0_feed_interval( ai );	/* its default follows the feed */
	ai->ai_apply = 0;
	ai->ai_open = 1;	/* from now on cn=config changes apply at once */
	ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
	if ( !ai->ai_sync )
		return 0;
	/* imported entries are written as the rootdn: without one the
	 * database still starts and serves what is stored (DESIGN 8.5) */
	if ( BER_BVISEMPTY( &be->be_rootndn ) ) {
		Debug( LDAP_DEBUG_ANY, "auth0: %s: the database has no rootdn, "
			"so nothing is imported (add a rootdn and restart); serving "
			"what is stored\n", ai->ai_nsuffix.bv_val );
		return 0;
	}
	return auth0_refresh_start( ai );
}

int
auth0_db_close( BackendDB *be, ConfigReply *cr )
{
	slap_overinst *on = (slap_overinst *)be->bd_info;
	struct auth0_info *ai = on->on_bi.bi_private;

	if ( slapMode & SLAP_TOOL_MODE )
		return 0;
	ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
	ai->ai_open = 0;
	ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
	auth0_refresh_stop( ai );
	auth0_monitor_close( ai );
	auth0_source_close( ai );
	auth0_feed_close( ai );
	auth0_bind_drop( ai );
	auth0_bindcache_free( ai->ai_bindcache );
	ai->ai_bindcache = NULL;
	return 0;
}

int
auth0_db_destroy( BackendDB *be, ConfigReply *cr )
{
	slap_overinst *on = (slap_overinst *)be->bd_info;
	struct auth0_info *ai = on->on_bi.bi_private;

	if ( ai == NULL )
		return 0;
	auth0_config_free( ai );
	auth0_secret_free( &ai->ai_secret );
	auth0_secret_free( &ai->ai_bind_secret );
	auth0_secret_free( &ai->ai_proxy_cred );
	auth0_problems_free( ai );
	ch_free( ai->ai_nsuffix.bv_val );
	ldap_pvt_thread_mutex_destroy( &ai->ai_mutex );
	ch_free( ai );
	on->on_bi.bi_private = NULL;
	return 0;
}

/*
 * The Active Directory "in chain" rule (LDAP_MATCHING_RULE_IN_CHAIN) on
 * member and memberOf.  Both hold the flattened membership already, so
 * the rule is DN equality here and answers as the flattened attributes.
 */
static slap_mrule_defs_rec auth0_inchain = {
	"( 1.2.840.113556.1.4.1941 NAME 'inChainMatch' "
	"SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )",
	SLAP_MR_EQUALITY | SLAP_MR_EXT, NULL,
	NULL, dnNormalize, dnMatch, NULL, NULL, NULL
};

static int
auth0_inchain_register( void )
{
	if ( mr_find( "1.2.840.113556.1.4.1941" ) != NULL )
		return 0;	/* another module provides it */
	if ( register_matching_rule( &auth0_inchain ) != 0 ) {
		Debug( LDAP_DEBUG_ANY, "auth0: cannot register the in-chain "
			"matching rule 1.2.840.113556.1.4.1941\n" );
		return -1;
	}
	return 0;
}

int
auth0_initialize( void )
{
	int rc;

	if ( auth0_version_check() != 0 )
		return -1;
	if ( auth0_inchain_register() != 0 )
		return -1;
	/* before any refresh thread runs; libcurl must be thread-safe here */
	if ( curl_global_init( CURL_GLOBAL_DEFAULT ) != CURLE_OK ) {
		Debug( LDAP_DEBUG_ANY, "auth0: curl_global_init failed\n" );
		return -1;
	}
	auth0.on_bi.bi_type = "auth0";
	auth0.on_bi.bi_flags = SLAPO_BFLAG_SINGLE;
	auth0.on_bi.bi_db_init = auth0_db_init;
	auth0.on_bi.bi_db_open = auth0_db_open;
	auth0.on_bi.bi_db_close = auth0_db_close;
	auth0.on_bi.bi_db_destroy = auth0_db_destroy;
	auth0.on_bi.bi_db_config = auth0_db_config;
	auth0.on_bi.bi_op_bind = auth0_op_bind;
	auth0.on_bi.bi_op_add = auth0_op_write;
	auth0.on_bi.bi_op_modify = auth0_op_write;
	auth0.on_bi.bi_op_modrdn = auth0_op_write;
	auth0.on_bi.bi_op_delete = auth0_op_write;

	rc = auth0_config_init( &auth0 );
	if ( rc )
		return rc;
	return overlay_register( &auth0 );
}

int
init_module( int argc, char *argv[] )
{
	return auth0_initialize();
}
