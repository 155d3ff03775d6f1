/* config.c - back-auth0 configuration (slapd.conf and cn=config) */
/*
 * One ConfigTable row per directive, auth0-foo <-> olcAuth0Foo, objectClass
 * olcAuth0Config (DESIGN.md section 5).  Values are checked when they are
 * set, so a bad one fails slapd start (or the cn=config change) with a
 * message naming the directive and the line.  OIDs live under the project's
 * arc; schema/OIDS.md is the allocation table.
 */
#include "portable.h"

#include <ac/string.h>
#include <ac/ctype.h>

#include <stddef.h>

#include "back-auth0.h"
#include "slap-config.h"

#define AUTH0_ARC	"2.25.275749359712394017892977585135807580588"
#define AUTH0_CFG_AT	AUTH0_ARC ".1.1."
#define AUTH0_CFG_OC	AUTH0_ARC ".1.2."

enum {
	AUTH0_CF_SNAPDIR = 1,
	AUTH0_CF_CONNECTION,
	AUTH0_CF_REFRESH,
	AUTH0_CF_UIDRANGE,
	AUTH0_CF_GIDRANGE,
	AUTH0_CF_MAXDELETE,
	AUTH0_CF_REFRESHNOW,
	AUTH0_CF_FORCEDELETE,
	AUTH0_CF_MAPATTR,
	AUTH0_CF_DOMAIN,
	AUTH0_CF_CLIENTID,
	AUTH0_CF_SECRETFILE,
	AUTH0_CF_AUDIENCE,
	AUTH0_CF_AUTHZURL,
	AUTH0_CF_AUTHZAUD,
	AUTH0_CF_CAFILE,
	AUTH0_CF_RATE,
	AUTH0_CF_TIMEOUT,
	AUTH0_CF_BIND,
	AUTH0_CF_BINDCLIENT,
	AUTH0_CF_BINDSECRET,
	AUTH0_CF_BINDTTL,
	AUTH0_CF_BINDSTALE,
	AUTH0_CF_BINDSEP,
	AUTH0_CF_BINDTHROTTLE,
	AUTH0_CF_BINDPOOL,
	AUTH0_CF_SYNC,
	AUTH0_CF_EXPORTTIMEOUT,
	/* the change feed (#15) */
	AUTH0_CF_CHANGEFEED,
	AUTH0_CF_FULLREFRESH,
	AUTH0_CF_FULLNOW,
	/* binds, second wave (issue 17) */
	AUTH0_CF_BINDTRUSTED,
	AUTH0_CF_BINDMFATTL,
	AUTH0_CF_BINDTIMEOUT,
	AUTH0_CF_BINDPUSHTIMEOUT,
	AUTH0_CF_EXPORTLOWSPEED,
	/* operations (issue 18) */
	AUTH0_CF_BASE = 180,
	AUTH0_CF_PROXY,
	AUTH0_CF_PROXYCRED
};

static ConfigDriver auth0_cf_gen;

static ConfigTable auth0_cfg[] = {
	{ "auth0-snapshot-dir", "directory", 2, 2, 0,
	  ARG_MAGIC|ARG_QUOTE|AUTH0_CF_SNAPDIR, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "1 NAME 'olcAuth0SnapshotDir' "
	  "DESC 'Directory holding a tenant snapshot to import' "
	  "EQUALITY caseExactMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-connection", "name", 2, 2, 0,
	  ARG_MAGIC|ARG_QUOTE|AUTH0_CF_CONNECTION, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "2 NAME 'olcAuth0Connection' "
	  "DESC 'Auth0 connection whose users are imported (none: all)' "
	  "EQUALITY caseExactMatch SYNTAX OMsDirectoryString )",
	  NULL, NULL },
	{ "auth0-refresh-interval", "seconds", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_REFRESH, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "3 NAME 'olcAuth0RefreshInterval' "
	  "DESC 'Seconds between refreshes; 0 imports at start only' "
	  "EQUALITY integerMatch SYNTAX OMsInteger SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-uid-range", "low-high", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_UIDRANGE, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "4 NAME 'olcAuth0UidRange' "
	  "DESC 'Range uidNumbers are allocated from' "
	  "EQUALITY caseIgnoreMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-gid-range", "low-high", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_GIDRANGE, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "5 NAME 'olcAuth0GidRange' "
	  "DESC 'Range gidNumbers are allocated from' "
	  "EQUALITY caseIgnoreMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-max-delete", "count|percent%", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_MAXDELETE, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "6 NAME 'olcAuth0MaxDelete' "
	  "DESC 'Refuse refreshes that delete more users than this' "
	  "EQUALITY caseIgnoreMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-refresh-now", "TRUE", 2, 2, 0,
	  ARG_MAGIC|ARG_ON_OFF|AUTH0_CF_REFRESHNOW, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "7 NAME 'olcAuth0RefreshNow' "
	  "DESC 'Writing TRUE starts a refresh now (cn=config only)' "
	  "EQUALITY booleanMatch SYNTAX OMsBoolean SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-force-delete", "TRUE", 2, 2, 0,
	  ARG_MAGIC|ARG_ON_OFF|AUTH0_CF_FORCEDELETE, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "8 NAME 'olcAuth0ForceDelete' "
	  "DESC 'TRUE lets the next refresh delete beyond olcAuth0MaxDelete' "
	  "EQUALITY booleanMatch SYNTAX OMsBoolean SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-map-attribute", "attribute> <jsonpath", 3, 3, 0,
	  ARG_MAGIC|AUTH0_CF_MAPATTR, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "9 NAME 'olcAuth0MapAttribute' "
	  "DESC 'LDAP attribute filled from a JSON path of the user' "
	  "EQUALITY caseIgnoreMatch SYNTAX OMsDirectoryString )",
	  NULL, NULL },
	{ "auth0-domain", "host[:port]", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_DOMAIN, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "10 NAME 'olcAuth0Domain' "
	  "DESC 'Auth0 tenant domain (the canonical *.auth0.com one)' "
	  "EQUALITY caseIgnoreMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-client-id", "id", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_CLIENTID, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "11 NAME 'olcAuth0ClientId' "
	  "DESC 'client_id of the machine-to-machine application' "
	  "EQUALITY caseExactMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-client-secret-file", "file", 2, 2, 0,
	  ARG_MAGIC|ARG_QUOTE|AUTH0_CF_SECRETFILE, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "12 NAME 'olcAuth0ClientSecretFile' "
	  "DESC 'File holding the client secret (read at start and when set)' "
	  "EQUALITY caseExactMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-audience", "url", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_AUDIENCE, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "13 NAME 'olcAuth0Audience' "
	  "DESC 'Audience of the Management API token' "
	  "EQUALITY caseExactMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-authz-url", "url", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_AUTHZURL, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "14 NAME 'olcAuth0AuthzUrl' "
	  "DESC 'Authorization Extension API URL (ends in /api)' "
	  "EQUALITY caseExactMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-authz-audience", "audience", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_AUTHZAUD, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "15 NAME 'olcAuth0AuthzAudience' "
	  "DESC 'Audience of the Authorization Extension API token' "
	  "EQUALITY caseExactMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-ca-file", "file", 2, 2, 0,
	  ARG_MAGIC|ARG_QUOTE|AUTH0_CF_CAFILE, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "16 NAME 'olcAuth0CaFile' "
	  "DESC 'Extra trust anchor (PEM) for the Auth0 servers' "
	  "EQUALITY caseExactMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-request-rate", "per-second", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_RATE, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "17 NAME 'olcAuth0RequestRate' "
	  "DESC 'Most Management API requests per second (0: no limit)' "
	  "EQUALITY caseIgnoreMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-timeout", "seconds", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_TIMEOUT, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "18 NAME 'olcAuth0Timeout' "
	  "DESC 'Seconds one HTTP request to Auth0 may take' "
	  "EQUALITY integerMatch SYNTAX OMsInteger SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-bind", "password-realm|off", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_BIND, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "19 NAME 'olcAuth0Bind' "
	  "DESC 'How binds to imported users are verified' "
	  "EQUALITY caseIgnoreMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-bind-client-id", "id", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_BINDCLIENT, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "20 NAME 'olcAuth0BindClientId' "
	  "DESC 'client_id used for the password-realm grant' "
	  "EQUALITY caseExactMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-bind-client-secret-file", "file", 2, 2, 0,
	  ARG_MAGIC|ARG_QUOTE|AUTH0_CF_BINDSECRET, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "21 NAME 'olcAuth0BindClientSecretFile' "
	  "DESC 'File holding the bind client secret (read at start and when "
	  "set)' "
	  "EQUALITY caseExactMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-bind-cache-ttl", "seconds", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_BINDTTL, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "22 NAME 'olcAuth0BindCacheTtl' "
	  "DESC 'Seconds a verified password is answered locally' "
	  "EQUALITY integerMatch SYNTAX OMsInteger SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-bind-cache-stale", "seconds", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_BINDSTALE, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "23 NAME 'olcAuth0BindCacheStale' "
	  "DESC 'Seconds past the TTL a cached password is accepted while "
	  "Auth0 is unreachable' "
	  "EQUALITY integerMatch SYNTAX OMsInteger SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-bind-otp-separator", "character", 2, 2, 0,
	  ARG_MAGIC|ARG_QUOTE|AUTH0_CF_BINDSEP, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "24 NAME 'olcAuth0BindOtpSeparator' "
	  "DESC 'Separates the MFA code appended to a bind password' "
	  "EQUALITY caseExactMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-bind-throttle", "per-dn> <per-address> <window", 4, 4, 0,
	  ARG_MAGIC|AUTH0_CF_BINDTHROTTLE, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "25 NAME 'olcAuth0BindThrottle' "
	  "DESC 'Failed binds allowed per DN and per client address in a "
	  "window of seconds' "
	  "EQUALITY caseIgnoreMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-bind-connections", "count", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_BINDPOOL, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "26 NAME 'olcAuth0BindConnections' "
	  "DESC 'HTTPS connections to Auth0 for binds' "
	  "EQUALITY integerMatch SYNTAX OMsInteger SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-sync", "on|off", 2, 2, 0,
	  ARG_MAGIC|ARG_ON_OFF|AUTH0_CF_SYNC, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "27 NAME 'olcAuth0Sync' "
	  "DESC 'FALSE on a syncrepl consumer: no import, binds only' "
	  "EQUALITY booleanMatch SYNTAX OMsBoolean SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-export-timeout", "seconds", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_EXPORTTIMEOUT, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "28 NAME 'olcAuth0ExportTimeout' "
	  "DESC 'Seconds a users-export job may take before the refresh "
	  "gives it up' "
	  "EQUALITY integerMatch SYNTAX OMsInteger SINGLE-VALUE )",
	  NULL, NULL },
	/* the change feed (#15) */
	{ "auth0-change-feed", "logs|off", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_CHANGEFEED, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "40 NAME 'olcAuth0ChangeFeed' "
	  "DESC 'logs: refreshes between full ones read the tenant log' "
	  "EQUALITY caseIgnoreMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-full-refresh-interval", "seconds", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_FULLREFRESH, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "41 NAME 'olcAuth0FullRefreshInterval' "
	  "DESC 'Seconds between full refreshes while the change feed is on' "
	  "EQUALITY integerMatch SYNTAX OMsInteger SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-full-refresh-now", "TRUE", 2, 2, 0,
	  ARG_MAGIC|ARG_ON_OFF|AUTH0_CF_FULLNOW, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "42 NAME 'olcAuth0FullRefreshNow' "
	  "DESC 'Writing TRUE starts a full refresh now (cn=config only)' "
	  "EQUALITY booleanMatch SYNTAX OMsBoolean SINGLE-VALUE )",
	  NULL, NULL },
	/* binds, second wave (issue 17): OIDs 60-69 */
	{ "auth0-bind-trusted-ip", "addr/prefix", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_BINDTRUSTED, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "60 NAME 'olcAuth0BindTrustedIp' "
	  "DESC 'Client networks exempt from the per-address bind throttle' "
	  "EQUALITY caseIgnoreMatch SYNTAX OMsDirectoryString )",
	  NULL, NULL },
	{ "auth0-bind-cache-mfa-ttl", "seconds", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_BINDMFATTL, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "61 NAME 'olcAuth0BindCacheMfaTtl' "
	  "DESC 'Seconds a password with a one-time code or push is answered "
	  "locally (at most auth0-bind-cache-ttl; 0: never)' "
	  "EQUALITY integerMatch SYNTAX OMsInteger SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-bind-timeout", "seconds", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_BINDTIMEOUT, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "62 NAME 'olcAuth0BindTimeout' "
	  "DESC 'Seconds one HTTP request to Auth0 for a bind may take' "
	  "EQUALITY integerMatch SYNTAX OMsInteger SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-bind-push-timeout", "seconds", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_BINDPUSHTIMEOUT, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "63 NAME 'olcAuth0BindPushTimeout' "
	  "DESC 'Seconds a password,push bind waits for the approval' "
	  "EQUALITY integerMatch SYNTAX OMsInteger SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-export-low-speed", "bytes-per-second> <seconds", 3, 3, 0,
	  ARG_MAGIC|AUTH0_CF_EXPORTLOWSPEED, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "64 NAME 'olcAuth0ExportLowSpeed' "
	  "DESC 'An export download slower than this many bytes a second "
	  "for this many seconds is cut and started again' "
	  "EQUALITY caseIgnoreMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	/* operations (issue 18): OIDs 180- keep clear of the others' */
	{ "auth0-base", "dn", 2, 2, 0,
	  ARG_MAGIC|ARG_QUOTE|AUTH0_CF_BASE, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "180 NAME 'olcAuth0Base' "
	  "DESC 'Entry the imported containers sit below (default: the "
	  "suffix)' "
	  "EQUALITY distinguishedNameMatch SYNTAX OMsDN SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-proxy", "url", 2, 2, 0,
	  ARG_MAGIC|AUTH0_CF_PROXY, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "181 NAME 'olcAuth0Proxy' "
	  "DESC 'HTTP(S) proxy for every Auth0 call (default: none, the "
	  "environment is ignored)' "
	  "EQUALITY caseExactMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ "auth0-proxy-credentials-file", "file", 2, 2, 0,
	  ARG_MAGIC|ARG_QUOTE|AUTH0_CF_PROXYCRED, auth0_cf_gen,
	  "( " AUTH0_CFG_AT "182 NAME 'olcAuth0ProxyCredentialsFile' "
	  "DESC 'File holding user:password for the proxy' "
	  "EQUALITY caseExactMatch SYNTAX OMsDirectoryString SINGLE-VALUE )",
	  NULL, NULL },
	{ NULL, NULL, 0, 0, 0, ARG_IGNORED }
};

static ConfigOCs auth0_ocs[] = {
	{ "( " AUTH0_CFG_OC "1 NAME 'olcAuth0Config' "
	  "DESC 'back-auth0 overlay configuration' "
	  "SUP olcOverlayConfig "
	  "MAY ( olcAuth0SnapshotDir $ olcAuth0Connection $ "
	  "olcAuth0RefreshInterval $ olcAuth0UidRange $ olcAuth0GidRange $ "
	  "olcAuth0MaxDelete $ olcAuth0RefreshNow $ olcAuth0ForceDelete $ "
	  "olcAuth0MapAttribute $ olcAuth0Domain $ olcAuth0ClientId $ "
	  "olcAuth0ClientSecretFile $ olcAuth0Audience $ olcAuth0AuthzUrl $ "
	  "olcAuth0AuthzAudience $ olcAuth0CaFile $ olcAuth0RequestRate $ "
	  "olcAuth0Timeout $ olcAuth0Bind $ olcAuth0BindClientId $ "
	  "olcAuth0BindClientSecretFile $ olcAuth0BindCacheTtl $ "
	  "olcAuth0BindCacheStale $ olcAuth0BindOtpSeparator $ "
	  "olcAuth0BindThrottle $ olcAuth0BindConnections $ olcAuth0Sync $ "
	  "olcAuth0ExportTimeout $ "
	  "olcAuth0ChangeFeed $ olcAuth0FullRefreshInterval $ "
	  "olcAuth0FullRefreshNow $ "
	  "olcAuth0BindTrustedIp $ olcAuth0BindCacheMfaTtl $ "
	  "olcAuth0BindTimeout $ olcAuth0BindPushTimeout $ "
	  "olcAuth0ExportLowSpeed $ "
	  "olcAuth0Base $ olcAuth0Proxy $ olcAuth0ProxyCredentialsFile ) )",
	  Cft_Overlay, auth0_cfg },
	{ NULL, 0, NULL }
};

/* The values themselves are checked by cfgparse.c (slapd-free, fuzzed). */
static int cf_error( ConfigArgs *c, const char *fmt, const char *arg );
static void trusted_delete( struct auth0_info *ai, int valx );

static int
check_any( ConfigArgs *c, const char *v )
{
	if ( auth0_cfg_text( v ) )
		return cf_error( c, "%s: \"%s\" is empty or has control "
			"characters", v );
	return 0;
}

static int
check_domain( ConfigArgs *c, const char *v )
{
	if ( auth0_cfg_domain( v ) )
		return cf_error( c, "%s: \"%s\" is not a host name with an "
			"optional :port (no scheme, no path)", v );
	return 0;
}

static int
check_https( ConfigArgs *c, const char *v )
{
	if ( auth0_cfg_https_url( v ) )
		return cf_error( c, "%s: \"%s\" is not an https:// URL "
			"(https://host[:port]/path, no user, query or fragment)", v );
	return 0;
}

static int
check_proxy( ConfigArgs *c, const char *v )
{
	/* never echo a URL that may hold a password */
	if ( strchr( v, '@' ) )
		return cf_error( c, "%s: the proxy URL must not hold credentials%s "
			"(put user:password in auth0-proxy-credentials-file)", "" );
	if ( auth0_cfg_proxy_url( v ) )
		return cf_error( c, "%s: \"%s\" is not an http:// or https:// "
			"proxy URL (scheme://host[:port], no user, path or query; "
			"credentials go in auth0-proxy-credentials-file)", v );
	return 0;
}

static int
check_token( ConfigArgs *c, const char *v )
{
	if ( auth0_cfg_token( v ) )
		return cf_error( c, "%s: \"%s\" is empty or contains blanks or "
			"control characters", v );
	return 0;
}

static int
check_file( ConfigArgs *c, const char *v )
{
	if ( auth0_cfg_abspath( v ) )
		return cf_error( c, "%s: \"%s\" is not an absolute path", v );
	return 0;
}

/* Single-valued string directives: where each lives, how it is checked. */
static const struct strdir {
	int	sd_type;
	size_t	sd_off;
	int	(*sd_check)( ConfigArgs *c, const char *v );
} strdirs[] = {
	{ AUTH0_CF_SNAPDIR, offsetof( struct auth0_info, ai_snapshot_dir ),
		check_any },
	{ AUTH0_CF_DOMAIN, offsetof( struct auth0_info, ai_domain ),
		check_domain },
	{ AUTH0_CF_CLIENTID, offsetof( struct auth0_info, ai_client_id ),
		check_token },
	{ AUTH0_CF_SECRETFILE, offsetof( struct auth0_info, ai_secret_file ),
		check_file },
	{ AUTH0_CF_AUDIENCE, offsetof( struct auth0_info, ai_audience ),
		check_token },
	{ AUTH0_CF_AUTHZURL, offsetof( struct auth0_info, ai_authz_url ),
		check_https },
	{ AUTH0_CF_AUTHZAUD, offsetof( struct auth0_info, ai_authz_audience ),
		check_token },
	{ AUTH0_CF_CAFILE, offsetof( struct auth0_info, ai_ca_file ),
		check_file },
	{ AUTH0_CF_BINDCLIENT, offsetof( struct auth0_info, ai_bind_client_id ),
		check_token },
	{ AUTH0_CF_BINDSECRET, offsetof( struct auth0_info,
		ai_bind_secret_file ), check_file },
	{ AUTH0_CF_PROXY, offsetof( struct auth0_info, ai_proxy ), check_proxy },
	{ AUTH0_CF_PROXYCRED, offsetof( struct auth0_info, ai_proxy_cred_file ),
		check_file },
	{ 0, 0, NULL }
};

/* Whole-number directives: field, range and default. */
static const struct numdir {
	int	nd_type;
	size_t	nd_off;
	long	nd_min, nd_max, nd_default;
} numdirs[] = {
	{ AUTH0_CF_TIMEOUT, offsetof( struct auth0_info, ai_timeout ), 1, 3600,
		AUTH0_DEFAULT_TIMEOUT },
	{ AUTH0_CF_BINDTTL, offsetof( struct auth0_info, ai_bind_ttl ), 0,
		86400, AUTH0_DEFAULT_BIND_TTL },
	{ AUTH0_CF_BINDSTALE, offsetof( struct auth0_info, ai_bind_stale ), 0,
		604800, 0 },
	{ AUTH0_CF_BINDPOOL, offsetof( struct auth0_info, ai_bind_pool ), 1, 64,
		AUTH0_DEFAULT_BIND_POOL },
	{ AUTH0_CF_EXPORTTIMEOUT, offsetof( struct auth0_info,
		ai_export_timeout ), 1, 86400, AUTH0_DEFAULT_EXPORT_TIMEOUT },
	{ AUTH0_CF_FULLREFRESH, offsetof( struct auth0_info,
		ai_full_interval ), 60, 31536000L, AUTH0_DEFAULT_FULL_REFRESH },
	{ AUTH0_CF_BINDMFATTL, offsetof( struct auth0_info, ai_bind_mfa_ttl ),
		0, 86400, AUTH0_DEFAULT_BIND_MFA_TTL },
	{ AUTH0_CF_BINDTIMEOUT, offsetof( struct auth0_info, ai_bind_timeout ),
		1, 600, AUTH0_DEFAULT_BIND_TIMEOUT },
	{ AUTH0_CF_BINDPUSHTIMEOUT, offsetof( struct auth0_info,
		ai_bind_push_timeout ), 1, 600, AUTH0_DEFAULT_BIND_PUSH_TIMEOUT },
	{ 0, 0, 0, 0, 0 }
};

static long *
numdir_field( struct auth0_info *ai, int type, const struct numdir **ndp )
{
	const struct numdir *nd;

	for ( nd = numdirs; nd->nd_type; nd++ )
		if ( nd->nd_type == type ) {
			*ndp = nd;
			return (long *)( (char *)ai + nd->nd_off );
		}
	return NULL;
}

/* Sets every whole-number directive to its default (db_init). */
void
auth0_config_defaults( struct auth0_info *ai )
{
	const struct numdir *nd;

	for ( nd = numdirs; nd->nd_type; nd++ )
		*(long *)( (char *)ai + nd->nd_off ) = nd->nd_default;
	ai->ai_sync = 1;
	ai->ai_change_feed = 1;
	ai->ai_bind_on = AUTH0_BIND_UNSET;
	ai->ai_bind_sep = ',';
	ai->ai_bind_max_dn = AUTH0_DEFAULT_BIND_MAX_DN;
	ai->ai_bind_max_ip = AUTH0_DEFAULT_BIND_MAX_IP;
	ai->ai_bind_window = AUTH0_DEFAULT_BIND_WINDOW;
	ai->ai_export_low_speed = AUTH0_DEFAULT_EXPORT_LOW_SPEED;
	ai->ai_export_low_time = AUTH0_DEFAULT_EXPORT_LOW_TIME;
}

static char **
strdir_field( struct auth0_info *ai, int type, const struct strdir **sdp )
{
	const struct strdir *sd;

	for ( sd = strdirs; sd->sd_type; sd++ )
		if ( sd->sd_type == type ) {
			if ( sdp )
				*sdp = sd;
			return (char **)( (char *)ai + sd->sd_off );
		}
	return NULL;
}

/*
 * The value is shown cut to 64 bytes, so that the explanation after it
 * still fits in cr_msg (256 bytes).
 */
static int
cf_error( ConfigArgs *c, const char *fmt, const char *arg )
{
	char shown[72];

	if ( strlen( arg ) > 64 )
		snprintf( shown, sizeof( shown ), "%.61s...", arg );
	else
		snprintf( shown, sizeof( shown ), "%s", arg );
	snprintf( c->cr_msg, sizeof( c->cr_msg ), fmt, c->argv[0], shown );
	Debug( LDAP_DEBUG_ANY, "%s: %s\n", c->log, c->cr_msg );
	return 1;
}

static void
emit_str( ConfigArgs *c, const char *s )
{
	struct berval bv;

	ber_str2bv( s, 0, 0, &bv );
	value_add_one( &c->rvalue_vals, &bv );
}

static int
auth0_cf_emit( ConfigArgs *c, struct auth0_info *ai )
{
	char buf[64];
	int i;

	char **field = strdir_field( ai, c->type, NULL );
	const struct numdir *nd;
	long *num = numdir_field( ai, c->type, &nd );

	if ( field ) {
		if ( *field == NULL )
			return 1;
		emit_str( c, *field );
		return 0;
	}
	if ( num ) {
		if ( c->type == AUTH0_CF_BINDPOOL && *num == 0 )
			return 1;	/* unset: derived from slapd's threads */
		snprintf( buf, sizeof( buf ), "%ld", *num );
		emit_str( c, buf );
		return 0;
	}
	switch ( c->type ) {
	case AUTH0_CF_BASE:
		if ( BER_BVISNULL( &ai->ai_base ) )
			return 1;
		emit_str( c, ai->ai_base.bv_val );
		break;
	case AUTH0_CF_SYNC:
		c->value_int = ai->ai_sync;
		break;
	case AUTH0_CF_CHANGEFEED:
		emit_str( c, ai->ai_change_feed ? "logs" : "off" );
		break;
	case AUTH0_CF_BIND:
		if ( ai->ai_bind_on == AUTH0_BIND_UNSET )
			return 1;
		emit_str( c, ai->ai_bind_on ? "password-realm" : "off" );
		break;
	case AUTH0_CF_BINDSEP:
		buf[0] = ai->ai_bind_sep;
		buf[1] = '\0';
		emit_str( c, buf );
		break;
	case AUTH0_CF_BINDTHROTTLE:
		snprintf( buf, sizeof( buf ), "%ld %ld %ld", ai->ai_bind_max_dn,
			ai->ai_bind_max_ip, ai->ai_bind_window );
		emit_str( c, buf );
		break;
	case AUTH0_CF_RATE:
		auth0_cfg_rate_str( ai->ai_rate, buf, sizeof( buf ) );
		emit_str( c, buf );
		break;
	case AUTH0_CF_EXPORTLOWSPEED:
		snprintf( buf, sizeof( buf ), "%ld %ld", ai->ai_export_low_speed,
			ai->ai_export_low_time );
		emit_str( c, buf );
		break;
	case AUTH0_CF_BINDTRUSTED:
		if ( ai->ai_bind_ntrusted == 0 )
			return 1;
		for ( i = 0; i < ai->ai_bind_ntrusted; i++ )
			emit_str( c, ai->ai_bind_trusted_str[i] );
		break;
	case AUTH0_CF_CONNECTION:
		if ( ai->ai_nconnections == 0 )
			return 1;
		for ( i = 0; i < ai->ai_nconnections; i++ )
			emit_str( c, ai->ai_connections[i] );
		break;
	case AUTH0_CF_REFRESH:
		if ( !ai->ai_refresh_set )
			return 1;	/* the default follows the change feed */
		snprintf( buf, sizeof( buf ), "%ld",
			(long)ai->ai_refresh_interval );
		emit_str( c, buf );
		break;
	case AUTH0_CF_UIDRANGE:
		snprintf( buf, sizeof( buf ), "%lu-%lu", ai->ai_uid_lo,
			ai->ai_uid_hi );
		emit_str( c, buf );
		break;
	case AUTH0_CF_GIDRANGE:
		snprintf( buf, sizeof( buf ), "%lu-%lu", ai->ai_gid_lo,
			ai->ai_gid_hi );
		emit_str( c, buf );
		break;
	case AUTH0_CF_MAXDELETE:
		snprintf( buf, sizeof( buf ), "%lu%s", ai->ai_max_delete,
			ai->ai_max_delete_pct ? "%" : "" );
		emit_str( c, buf );
		break;
	case AUTH0_CF_FORCEDELETE:
		if ( !ai->ai_force_delete )
			return 1;
		c->value_int = 1;
		break;
	case AUTH0_CF_MAPATTR:
		if ( ai->ai_nrules == 0 )
			return 1;
		for ( i = 0; i < ai->ai_nrules; i++ ) {
			char line[512];
			snprintf( line, sizeof( line ), "%s %s",
				ai->ai_rules[i].mr_attr, ai->ai_rules[i].mr_path );
			emit_str( c, line );
		}
		break;
	default:
		return 1;	/* auth0-refresh-now is an action, never stored */
	}
	return 0;
}

static void
connections_clear( struct auth0_info *ai )
{
	int i;

	for ( i = 0; i < ai->ai_nconnections; i++ )
		ch_free( ai->ai_connections[i] );
	ch_free( ai->ai_connections );
	ai->ai_connections = NULL;
	ai->ai_nconnections = 0;
}

static void
connections_delete( struct auth0_info *ai, int valx )
{
	if ( valx < 0 || valx >= ai->ai_nconnections ) {
		connections_clear( ai );
		return;
	}
	ch_free( ai->ai_connections[valx] );
	memmove( &ai->ai_connections[valx], &ai->ai_connections[valx + 1],
		( ai->ai_nconnections - valx ) * sizeof( char * ) );
	if ( --ai->ai_nconnections == 0 )
		connections_clear( ai );
}

/*
 * An attribute whose rule went while slapd runs: the next refresh still
 * compares it, so that the values the rule filled in are removed.
 */
static void
retire_attr( struct auth0_info *ai, const char *attr )
{
	int n = 0;

	if ( !ai->ai_open )
		return;
	for ( ; ai->ai_retired && ai->ai_retired[n]; n++ )
		if ( strcasecmp( ai->ai_retired[n], attr ) == 0 )
			return;
	ai->ai_retired = ch_realloc( ai->ai_retired,
		( n + 2 ) * sizeof( char * ) );
	ai->ai_retired[n] = ch_strdup( attr );
	ai->ai_retired[n + 1] = NULL;
}

static void
rules_delete( struct auth0_info *ai, int valx )
{
	int i, from = valx, to = valx + 1;

	if ( ai->ai_nrules == 0 )
		return;
	if ( valx < 0 || valx >= ai->ai_nrules ) {
		from = 0;
		to = ai->ai_nrules;
	}
	for ( i = from; i < to; i++ ) {
		retire_attr( ai, ai->ai_rules[i].mr_attr );
		ch_free( ai->ai_rules[i].mr_attr );
		ch_free( ai->ai_rules[i].mr_path );
	}
	memmove( &ai->ai_rules[from], &ai->ai_rules[to],
		( ai->ai_nrules - to ) * sizeof( *ai->ai_rules ) );
	ai->ai_nrules -= to - from;
	if ( ai->ai_nrules == 0 ) {
		ch_free( ai->ai_rules );
		ai->ai_rules = NULL;
	}
}

static int
auth0_cf_delete( ConfigArgs *c, struct auth0_info *ai )
{
	char **field = strdir_field( ai, c->type, NULL );
	const struct numdir *nd;
	long *num = numdir_field( ai, c->type, &nd );

	if ( field ) {
		ch_free( *field );
		*field = NULL;
		if ( c->type == AUTH0_CF_SECRETFILE )
			auth0_secret_free( &ai->ai_secret );
		else if ( c->type == AUTH0_CF_BINDSECRET )
			auth0_secret_free( &ai->ai_bind_secret );
		else if ( c->type == AUTH0_CF_PROXYCRED )
			auth0_secret_free( &ai->ai_proxy_cred );
		return 0;
	}
	if ( num ) {
		*num = nd->nd_default;
		return 0;
	}
	switch ( c->type ) {
	case AUTH0_CF_BASE:
		auth0_base_set( ai, NULL, NULL, NULL, 0 );
		break;
	case AUTH0_CF_RATE:
		ai->ai_rate = AUTH0_DEFAULT_RATE;
		break;
	case AUTH0_CF_BIND:
		ai->ai_bind_on = AUTH0_BIND_UNSET;
		break;
	case AUTH0_CF_SYNC:
		ai->ai_sync = 1;
		break;
	case AUTH0_CF_CHANGEFEED:
		ai->ai_change_feed = 1;
		break;
	case AUTH0_CF_BINDSEP:
		ai->ai_bind_sep = ',';
		break;
	case AUTH0_CF_BINDTHROTTLE:
		ai->ai_bind_max_dn = AUTH0_DEFAULT_BIND_MAX_DN;
		ai->ai_bind_max_ip = AUTH0_DEFAULT_BIND_MAX_IP;
		ai->ai_bind_window = AUTH0_DEFAULT_BIND_WINDOW;
		break;
	case AUTH0_CF_CONNECTION:
		connections_delete( ai, c->valx );
		break;
	case AUTH0_CF_BINDTRUSTED:
		trusted_delete( ai, c->valx );
		break;
	case AUTH0_CF_EXPORTLOWSPEED:
		ai->ai_export_low_speed = AUTH0_DEFAULT_EXPORT_LOW_SPEED;
		ai->ai_export_low_time = AUTH0_DEFAULT_EXPORT_LOW_TIME;
		break;
	case AUTH0_CF_REFRESH:
		ai->ai_refresh_set = 0;
		auth0_feed_interval( ai );
		break;
	case AUTH0_CF_UIDRANGE:
		ai->ai_uid_lo = AUTH0_DEFAULT_UID_LO;
		ai->ai_uid_hi = AUTH0_DEFAULT_UID_HI;
		break;
	case AUTH0_CF_GIDRANGE:
		ai->ai_gid_lo = AUTH0_DEFAULT_GID_LO;
		ai->ai_gid_hi = AUTH0_DEFAULT_GID_HI;
		break;
	case AUTH0_CF_MAXDELETE:
		ai->ai_max_delete = AUTH0_DEFAULT_MAX_DELETE;
		ai->ai_max_delete_pct = 1;
		break;
	case AUTH0_CF_FORCEDELETE:
		ai->ai_force_delete = 0;
		break;
	case AUTH0_CF_REFRESHNOW:
	case AUTH0_CF_FULLNOW:
		break;
	case AUTH0_CF_MAPATTR:
		rules_delete( ai, c->valx );
		break;
	default:
		return 1;
	}
	return 0;
}

/* auth0-bind-trusted-ip: valx < 0 deletes them all. */
static void
trusted_delete( struct auth0_info *ai, int valx )
{
	int i, from = valx, to = valx + 1;

	if ( valx < 0 || valx >= ai->ai_bind_ntrusted ) {
		from = 0;
		to = ai->ai_bind_ntrusted;
	}
	for ( i = from; i < to; i++ )
		ch_free( ai->ai_bind_trusted_str[i] );
	memmove( &ai->ai_bind_trusted_str[from], &ai->ai_bind_trusted_str[to],
		( ai->ai_bind_ntrusted - to ) * sizeof( char * ) );
	memmove( &ai->ai_bind_trusted[from], &ai->ai_bind_trusted[to],
		( ai->ai_bind_ntrusted - to ) * sizeof( *ai->ai_bind_trusted ) );
	ai->ai_bind_ntrusted -= to - from;
	if ( ai->ai_bind_ntrusted == 0 ) {
		ch_free( ai->ai_bind_trusted_str );
		ch_free( ai->ai_bind_trusted );
		ai->ai_bind_trusted_str = NULL;
		ai->ai_bind_trusted = NULL;
	}
}

static int
set_trusted( ConfigArgs *c, struct auth0_info *ai, const char *arg )
{
	struct auth0_cidr net;
	int n = ai->ai_bind_ntrusted;

	if ( auth0_cfg_cidr( arg, &net ) )
		return cf_error( c, "%s: \"%s\" is not an IPv4 or IPv6 address "
			"or network (addr/prefix, no host bits past the prefix)",
			arg );
	ai->ai_bind_trusted = ch_realloc( ai->ai_bind_trusted,
		( n + 1 ) * sizeof( *ai->ai_bind_trusted ) );
	ai->ai_bind_trusted_str = ch_realloc( ai->ai_bind_trusted_str,
		( n + 1 ) * sizeof( char * ) );
	ai->ai_bind_trusted[n] = net;
	ai->ai_bind_trusted_str[n] = ch_strdup( arg );
	ai->ai_bind_ntrusted = n + 1;
	return 0;
}

static int
set_connection( ConfigArgs *c, struct auth0_info *ai, const char *name )
{
	int i;

	if ( auth0_cfg_connection( name ) )
		return cf_error( c, "%s: \"%s\" is not a connection name (1 to "
			"128 characters, no blanks)", name );
	for ( i = 0; i < ai->ai_nconnections; i++ )
		if ( strcmp( ai->ai_connections[i], name ) == 0 )
			return cf_error( c, "%s: connection \"%s\" listed twice",
				name );
	ai->ai_connections = ch_realloc( ai->ai_connections,
		( ai->ai_nconnections + 2 ) * sizeof( char * ) );
	ai->ai_connections[ai->ai_nconnections++] = ch_strdup( name );
	ai->ai_connections[ai->ai_nconnections] = NULL;
	return 0;
}

/*
 * 1 when the mapper writes a value of at itself and at holds one value
 * only (displayName, auth0Blocked, ...): a rule's value would be a second
 * one, and every refresh of that user would fail the schema.  uidNumber
 * and gidNumber are not added to but replaced (ids.c).
 */
static int
single_and_mapped( AttributeType *at )
{
	const char *const *n;
	AttributeDescription *ad;
	const char *text;

	if ( !is_at_single_value( at ) )
		return 0;
	for ( n = auth0_map_user_attrs; *n; n++ ) {
		ad = NULL;
		if ( strcasecmp( *n, "uidNumber" ) == 0 ||
				strcasecmp( *n, "gidNumber" ) == 0 )
			continue;
		if ( slap_str2ad( *n, &ad, &text ) == LDAP_SUCCESS &&
				ad->ad_type == at )
			return 1;
	}
	return 0;
}

static int
set_map_rule( ConfigArgs *c, struct auth0_info *ai )
{
	AttributeDescription *ad = NULL;
	const char *text = NULL;

	if ( auth0_cfg_attr_name( c->argv[1] ) ||
			slap_str2ad( c->argv[1], &ad, &text ) != LDAP_SUCCESS )
		return cf_error( c, "%s: attribute \"%s\" is not in the schema",
			c->argv[1] );
	if ( is_at_operational( ad->ad_type ) )
		return cf_error( c, "%s: \"%s\" is an operational attribute",
			c->argv[1] );
	if ( auth0_cfg_reserved_attr( ad->ad_type->sat_cname.bv_val ) ||
			auth0_cfg_reserved_attr( ad->ad_cname.bv_val ) )
		return cf_error( c, "%s: \"%s\" is set by the module itself",
			c->argv[1] );
	if ( single_and_mapped( ad->ad_type ) )
		return cf_error( c, "%s: \"%s\" is single-valued and the module "
			"already sets it from the Auth0 profile", c->argv[1] );
	if ( strlen( c->argv[2] ) > AUTH0_CFG_PATH_MAX ||
			!auth0_path_valid( c->argv[2] ) )
		return cf_error( c, "%s: \"%s\" is not a JSON path like "
			"app_metadata.employee_id", c->argv[2] );
	ai->ai_rules = ch_realloc( ai->ai_rules,
		( ai->ai_nrules + 1 ) * sizeof( *ai->ai_rules ) );
	ai->ai_rules[ai->ai_nrules].mr_attr = ch_strdup( ad->ad_cname.bv_val );
	ai->ai_rules[ai->ai_nrules].mr_path = ch_strdup( c->argv[2] );
	ai->ai_nrules++;
	return 0;
}

/* "PER-DN PER-ADDRESS WINDOW": failures allowed, 0 = no limit. */
static int
set_throttle( ConfigArgs *c, struct auth0_info *ai )
{
	long v[3];

	if ( auth0_cfg_throttle( c->argv[1], c->argv[2], c->argv[3], v ) )
		return cf_error( c, "%s: \"%s ...\" is not <per-dn 0-10000> "
			"<per-address 0-100000> <window 1-86400 seconds>",
			c->argv[1] );
	ai->ai_bind_max_dn = v[0];
	ai->ai_bind_max_ip = v[1];
	ai->ai_bind_window = v[2];
	return 0;
}

static int
set_max_delete( ConfigArgs *c, struct auth0_info *ai, const char *arg )
{
	unsigned long v;
	int pct;

	if ( auth0_cfg_max_delete( arg, &v, &pct ) )
		return cf_error( c, "%s: \"%s\" is not a count or a percentage "
			"(0-100%%)", arg );
	ai->ai_max_delete = v;
	ai->ai_max_delete_pct = pct;
	return 0;
}

/* auth0-base: a DN at or below the suffix (checked again at db_open,
 * when slapd.conf names the suffix later). */
static int
set_base( ConfigArgs *c, struct auth0_info *ai, const char *arg )
{
	struct berval *suffix = NULL;
	char err[128];

	if ( c->be && c->be->be_nsuffix &&
			!BER_BVISNULL( &c->be->be_nsuffix[0] ) )
		suffix = &c->be->be_nsuffix[0];
	if ( auth0_base_set( ai, arg, suffix, err, sizeof( err ) ) != 0 ) {
		snprintf( c->cr_msg, sizeof( c->cr_msg ), "%s: %s", c->argv[0],
			err );
		Debug( LDAP_DEBUG_ANY, "%s: %s\n", c->log, c->cr_msg );
		return 1;
	}
	return 0;
}

static int
auth0_cf_set( ConfigArgs *c, struct auth0_info *ai, char *secret )
{
	const char *arg = c->argv[1];
	const struct strdir *sd = NULL;
	char **field = strdir_field( ai, c->type, &sd );
	unsigned long lo, hi;
	long v;
	double d;

	const struct numdir *nd;
	long *num = numdir_field( ai, c->type, &nd );

	if ( field ) {
		if ( sd->sd_check( c, arg ) )
			return 1;
		ch_free( *field );
		*field = ch_strdup( arg );
		if ( c->type == AUTH0_CF_SECRETFILE && secret ) {
			auth0_secret_free( &ai->ai_secret );
			ai->ai_secret = secret;
		} else if ( c->type == AUTH0_CF_BINDSECRET && secret ) {
			auth0_secret_free( &ai->ai_bind_secret );
			ai->ai_bind_secret = secret;
		} else if ( c->type == AUTH0_CF_PROXYCRED && secret ) {
			auth0_secret_free( &ai->ai_proxy_cred );
			ai->ai_proxy_cred = secret;
		}
		return 0;
	}
	if ( num ) {
		if ( auth0_cfg_number( arg, nd->nd_min, nd->nd_max, &v ) ) {
			snprintf( c->cr_msg, sizeof( c->cr_msg ), "%s: \"%.64s\" is "
				"not a number from %ld to %ld", c->argv[0], arg,
				nd->nd_min, nd->nd_max );
			Debug( LDAP_DEBUG_ANY, "%s: %s\n", c->log, c->cr_msg );
			return 1;
		}
		*num = v;
		return 0;
	}
	switch ( c->type ) {
	case AUTH0_CF_BASE:
		return set_base( c, ai, arg );
	case AUTH0_CF_SYNC:
		ai->ai_sync = c->value_int;
		return 0;
	case AUTH0_CF_CHANGEFEED:
		if ( strcasecmp( arg, "logs" ) && strcasecmp( arg, "off" ) )
			return cf_error( c, "%s: \"%s\" is not logs or off", arg );
		ai->ai_change_feed = strcasecmp( arg, "logs" ) == 0;
		auth0_feed_interval( ai );
		return 0;
	case AUTH0_CF_BIND:
		switch ( auth0_cfg_bind_mode( arg ) ) {
		case 1:
			ai->ai_bind_on = AUTH0_BIND_REALM;
			break;
		case 0:
			ai->ai_bind_on = AUTH0_BIND_OFF;
			break;
		default:
			return cf_error( c, "%s: \"%s\" is not password-realm or "
				"off", arg );
		}
		return 0;
	case AUTH0_CF_BINDSEP:
		if ( auth0_cfg_otp_separator( arg, &ai->ai_bind_sep ) )
			return cf_error( c, "%s: \"%s\" is not one printable "
				"character other than a letter, digit or blank", arg );
		return 0;
	case AUTH0_CF_BINDTHROTTLE:
		return set_throttle( c, ai );
	case AUTH0_CF_RATE:
		if ( auth0_cfg_rate( arg, &d ) )
			return cf_error( c, "%s: \"%s\" is not a rate from 0 to "
				"1000 per second (at most 3 decimals)", arg );
		ai->ai_rate = d;
		return 0;

	case AUTH0_CF_REFRESHNOW:
		if ( c->value_int )
			auth0_refresh_now( ai );
		return 0;
	case AUTH0_CF_FULLNOW:
		if ( c->value_int && CONFIG_ONLINE_ADD( c ) ) {
			ai->ai_feed_want_full = 1;
			auth0_refresh_now( ai );
		}
		return 0;
	case AUTH0_CF_FORCEDELETE:
		/* an action, like refresh-now: a TRUE left in slapd.d (slapd
		 * keeps the written value) must not force a refresh after a
		 * restart, nor one from slapd.conf every start */
		if ( !CONFIG_ONLINE_ADD( c ) ) {
			if ( c->value_int )
				Debug( LDAP_DEBUG_ANY, "%s: auth0-force-delete is "
					"ignored at start; write olcAuth0ForceDelete: "
					"TRUE to cn=config before the refresh that "
					"should delete\n", c->log );
			return 0;
		}
		ai->ai_force_delete = c->value_int;
		return 0;
	case AUTH0_CF_CONNECTION:
		return set_connection( c, ai, arg );
	case AUTH0_CF_BINDTRUSTED:
		return set_trusted( c, ai, arg );
	case AUTH0_CF_EXPORTLOWSPEED: {
		long t;
		if ( auth0_cfg_number( c->argv[1], 1, 1000000000L, &v ) ||
				auth0_cfg_number( c->argv[2], 1, 3600, &t ) )
			return cf_error( c, "%s: \"%s ...\" is not <bytes per "
				"second 1-1000000000> <seconds 1-3600>", arg );
		ai->ai_export_low_speed = v;
		ai->ai_export_low_time = t;
		return 0;
	}
	case AUTH0_CF_REFRESH:
		if ( auth0_cfg_number( arg, 0, 31536000L, &v ) )
			return cf_error( c, "%s: \"%s\" is not a number of seconds "
				"(0-31536000)", arg );
		ai->ai_refresh_interval = (time_t)v;
		ai->ai_refresh_set = 1;
		return 0;
	case AUTH0_CF_UIDRANGE:
	case AUTH0_CF_GIDRANGE:
		if ( auth0_cfg_range( arg, &lo, &hi ) )
			return cf_error( c, "%s: \"%s\" is not a range LOW-HIGH "
				"with 0 < LOW <= HIGH < 2147483648", arg );
		if ( c->type == AUTH0_CF_UIDRANGE ) {
			ai->ai_uid_lo = lo;
			ai->ai_uid_hi = hi;
		} else {
			ai->ai_gid_lo = lo;
			ai->ai_gid_hi = hi;
		}
		return 0;
	case AUTH0_CF_MAXDELETE:
		return set_max_delete( c, ai, arg );
	case AUTH0_CF_MAPATTR:
		return set_map_rule( c, ai );
	}
	return 1;
}

/* What a change of each directive asks auth0_cf_apply to redo. */
static unsigned
apply_bits( int type )
{
	switch ( type ) {
	case AUTH0_CF_SYNC:
	case AUTH0_CF_REFRESH:
	case AUTH0_CF_CHANGEFEED:
		return AUTH0_APPLY_TASK;
	case AUTH0_CF_BIND:
	case AUTH0_CF_DOMAIN:
	case AUTH0_CF_CAFILE:
	case AUTH0_CF_TIMEOUT:
	case AUTH0_CF_BINDPOOL:
	case AUTH0_CF_BINDTIMEOUT:
		return AUTH0_APPLY_BIND;
	case AUTH0_CF_BASE:
		return AUTH0_APPLY_BASE;
	case AUTH0_CF_PROXY:
	case AUTH0_CF_PROXYCRED:
		return AUTH0_APPLY_BIND;	/* and the next refresh's session */
	}
	return 0;	/* read afresh by each refresh or each bind */
}

/*
 * Runs once after all the modifications of one cn=config change (or its
 * undo, when one value was refused), so that a replace, which slapd does
 * as a delete and an add, acts on the final values only: the refresh task
 * follows auth0-sync and auth0-refresh-interval, the bind pool its
 * settings.  The server is paused meanwhile; the pool is swapped anyway
 * under ai_mutex and reference counted (bind.c).
 */
static int
auth0_cf_apply( ConfigArgs *c )
{
	slap_overinst *on = (slap_overinst *)c->bi;
	struct auth0_info *ai = on->on_bi.bi_private;
	unsigned todo;

	ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
	todo = ai->ai_apply;
	ai->ai_apply = 0;
	if ( ai->ai_open && ( todo & AUTH0_APPLY_TASK ) ) {
		auth0_feed_interval( ai );
		if ( ai->ai_sync && !ai->ai_snapshot_dir && !ai->ai_domain )
			Debug( LDAP_DEBUG_ANY, "auth0: %s: warning: auth0-sync is "
				"on but no source is configured (set "
				"auth0-snapshot-dir or auth0-domain); refreshes "
				"fail and keep the stored data\n",
				ai->ai_nsuffix.bv_val );
		auth0_refresh_apply( ai );
	}
	if ( ai->ai_open && ( todo & AUTH0_APPLY_BIND ) )
		auth0_bind_apply( ai );
	/* a new base: the next refresh moves the tree there (tree.c) */
	if ( ai->ai_open && ai->ai_sync && ( todo & AUTH0_APPLY_BASE ) )
		auth0_refresh_now( ai );
	ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
	return 0;
}

/*
 * A secret file set over cn=config while the database is open is read at
 * once: one that cannot be read refuses the change (at start, db_open
 * reads it).  Setting the same path again re-reads the file, which is how
 * a rotated secret is taken in without a restart.
 */
static int
read_new_secret( ConfigArgs *c, struct auth0_info *ai, char **secret )
{
	*secret = NULL;
	if ( !ai->ai_open || ( c->type != AUTH0_CF_SECRETFILE &&
			c->type != AUTH0_CF_BINDSECRET &&
			c->type != AUTH0_CF_PROXYCRED ) )
		return 0;
	if ( check_file( c, c->argv[1] ) )
		return 1;
	if ( auth0_secret_read( c->argv[1], c->argv[0], secret, c->cr_msg,
			sizeof( c->cr_msg ) ) != 0 ) {
		Debug( LDAP_DEBUG_ANY, "%s: %s\n", c->log, c->cr_msg );
		return 1;
	}
	return 0;
}

static int
auth0_cf_gen( ConfigArgs *c )
{
	slap_overinst *on = (slap_overinst *)c->bi;
	struct auth0_info *ai = on->on_bi.bi_private;
	char *secret = NULL;
	unsigned bits;
	int rc;

	if ( c->op == SLAP_CONFIG_EMIT )
		return auth0_cf_emit( c, ai );
	if ( c->op != LDAP_MOD_DELETE && read_new_secret( c, ai, &secret ) )
		return 1;
	ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
	if ( c->op == LDAP_MOD_DELETE )
		rc = auth0_cf_delete( c, ai );
	else
		rc = auth0_cf_set( c, ai, secret );
	/* the runtime follows once the whole change is in (auth0_cf_apply) */
	bits = apply_bits( c->type );
	/* the change feed's kept model was built with the old settings */
	if ( rc == 0 && ai->ai_open && c->type != AUTH0_CF_REFRESHNOW )
		ai->ai_feed_want_full = 1;
	if ( rc == 0 && bits && ai->ai_open ) {
		ai->ai_apply |= bits;
		config_push_cleanup( c, auth0_cf_apply );
	}
	ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
	if ( rc != 0 )
		auth0_secret_free( &secret );	/* else ai owns it now */
	return rc;
}

/*
 * slapd.conf lines the table does not know reach here.  slapd only warns
 * about unknown directives; a misspelt auth0- directive must fail instead.
 */
int
auth0_db_config( BackendDB *be, const char *fname, int lineno, int argc,
	char **argv )
{
	if ( argc > 0 && strncasecmp( argv[0], "auth0-", 6 ) == 0 ) {
		Debug( LDAP_DEBUG_ANY, "%s: line %d: unknown directive \"%s\" "
			"for overlay auth0 (see slapo-auth0(5))\n", fname, lineno,
			argv[0] );
		return 1;
	}
	return SLAP_CONF_UNKNOWN;
}

void
auth0_config_free( struct auth0_info *ai )
{
	const struct strdir *sd;

	for ( sd = strdirs; sd->sd_type; sd++ ) {
		char **field = strdir_field( ai, sd->sd_type, NULL );
		ch_free( *field );
		*field = NULL;
	}
	connections_clear( ai );
	trusted_delete( ai, -1 );
	rules_delete( ai, -1 );
	auth0_base_set( ai, NULL, NULL, NULL, 0 );
	ber_memvfree( (void **)ai->ai_retired );
	ai->ai_retired = NULL;
}

int
auth0_config_init( slap_overinst *on )
{
	on->on_bi.bi_cf_ocs = auth0_ocs;
	return config_register_schema( auth0_cfg, auth0_ocs );
}
