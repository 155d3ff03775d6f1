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
#include <errno.h>

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
	AUTH0_CF_MAPATTR
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
	{ NULL, NULL, 0, 0, 0, ARG_IGNORED }
};

static ConfigOCs auth0_ocs[] = {
	{ "( " AUTH0_CFG_OC "1 NAME 'olcAuth0Config' "
	  "DESC 'back-auth0 overlay configuration' "
	  "SUP olcOverlayConfig "
	  "MAY ( olcAuth0SnapshotDir $ olcAuth0Connection $ "
	  "olcAuth0RefreshInterval $ olcAuth0UidRange $ olcAuth0GidRange $ "
	  "olcAuth0MaxDelete $ olcAuth0RefreshNow $ olcAuth0ForceDelete $ "
	  "olcAuth0MapAttribute ) )",
	  Cft_Overlay, auth0_cfg },
	{ NULL, 0, NULL }
};

/* Strict unsigned decimal: digits only, no sign, no overflow. */
static int
parse_ulong( const char *s, unsigned long *out )
{
	char *end;

	if ( s == NULL || !isdigit( (unsigned char)*s ) )
		return -1;
	errno = 0;
	*out = strtoul( s, &end, 10 );
	if ( errno || *end != '\0' )
		return -1;
	return 0;
}

/* "LOW-HIGH" with 0 < LOW <= HIGH < 2^31. */
static int
parse_range( const char *s, unsigned long *lo, unsigned long *hi )
{
	char buf[64], *dash;

	if ( strlen( s ) >= sizeof( buf ) )
		return -1;
	strcpy( buf, s );
	dash = strchr( buf, '-' );
	if ( dash == NULL )
		return -1;
	*dash = '\0';
	if ( parse_ulong( buf, lo ) || parse_ulong( dash + 1, hi ) )
		return -1;
	if ( *lo == 0 || *lo > *hi || *hi > 2147483647UL )
		return -1;
	return 0;
}

static int
cf_error( ConfigArgs *c, const char *fmt, const char *arg )
{
	snprintf( c->cr_msg, sizeof( c->cr_msg ), fmt, c->argv[0], arg );
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

	switch ( c->type ) {
	case AUTH0_CF_SNAPDIR:
		if ( ai->ai_snapshot_dir == NULL )
			return 1;
		emit_str( c, ai->ai_snapshot_dir );
		break;
	case AUTH0_CF_CONNECTION:
		if ( ai->ai_nconnections == 0 )
			return 1;
		for ( i = 0; i < ai->ai_nconnections; i++ )
			emit_str( c, ai->ai_connections[i] );
		break;
	case AUTH0_CF_REFRESH:
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

static void
rules_delete( struct auth0_info *ai, int valx )
{
	int i, from = valx, to = valx + 1;

	if ( valx < 0 || valx >= ai->ai_nrules ) {
		from = 0;
		to = ai->ai_nrules;
	}
	for ( i = from; i < to; i++ ) {
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
	switch ( c->type ) {
	case AUTH0_CF_SNAPDIR:
		ch_free( ai->ai_snapshot_dir );
		ai->ai_snapshot_dir = NULL;
		break;
	case AUTH0_CF_CONNECTION:
		connections_delete( ai, c->valx );
		break;
	case AUTH0_CF_REFRESH:
		ai->ai_refresh_interval = AUTH0_DEFAULT_REFRESH;
		auth0_refresh_reschedule( ai );
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
		break;
	case AUTH0_CF_MAPATTR:
		rules_delete( ai, c->valx );
		break;
	default:
		return 1;
	}
	return 0;
}

static int
set_connection( ConfigArgs *c, struct auth0_info *ai, const char *name )
{
	int i;

	if ( *name == '\0' )
		return cf_error( c, "%s: empty connection name%s", "" );
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

/* Attributes the module owns: no rule may fill them. */
static const char *const auth0_reserved_attrs[] = {
	"objectClass", "uid", "memberOf", "auth0UserId", "cn", "sn",
	"homeDirectory", NULL
};

static int
set_map_rule( ConfigArgs *c, struct auth0_info *ai )
{
	AttributeDescription *ad = NULL;
	const char *text = NULL;
	int i;

	if ( slap_str2ad( c->argv[1], &ad, &text ) != LDAP_SUCCESS )
		return cf_error( c, "%s: attribute \"%s\" is not in the schema",
			c->argv[1] );
	if ( is_at_operational( ad->ad_type ) )
		return cf_error( c, "%s: \"%s\" is an operational attribute",
			c->argv[1] );
	for ( i = 0; auth0_reserved_attrs[i]; i++ )
		if ( strcasecmp( ad->ad_cname.bv_val, auth0_reserved_attrs[i] ) == 0 )
			return cf_error( c, "%s: \"%s\" is set by the module itself",
				c->argv[1] );
	if ( !auth0_path_valid( c->argv[2] ) )
		return cf_error( c, "%s: \"%s\" is not a JSON path like "
			"app_metadata.employee_id", c->argv[2] );
	ai->ai_rules = ch_realloc( ai->ai_rules,
		( ai->ai_nrules + 1 ) * sizeof( *ai->ai_rules ) );
	ai->ai_rules[ai->ai_nrules].mr_attr = ch_strdup( ad->ad_cname.bv_val );
	ai->ai_rules[ai->ai_nrules].mr_path = ch_strdup( c->argv[2] );
	ai->ai_nrules++;
	return 0;
}

static int
set_max_delete( ConfigArgs *c, struct auth0_info *ai, const char *arg )
{
	char buf[32];
	size_t n = strlen( arg );
	int pct = n > 0 && arg[n - 1] == '%';
	unsigned long v;

	if ( n == 0 || n >= sizeof( buf ) )
		return cf_error( c, "%s: invalid value \"%s\"", arg );
	memcpy( buf, arg, n + 1 );
	if ( pct )
		buf[n - 1] = '\0';
	if ( parse_ulong( buf, &v ) || ( pct && v > 100 ) )
		return cf_error( c, "%s: \"%s\" is not a count or a percentage "
			"(0-100%%)", arg );
	ai->ai_max_delete = v;
	ai->ai_max_delete_pct = pct;
	return 0;
}

static int
auth0_cf_set( ConfigArgs *c, struct auth0_info *ai )
{
	const char *arg = c->argv[1];
	unsigned long lo, hi, v;

	switch ( c->type ) {
	case AUTH0_CF_REFRESHNOW:
		if ( c->value_int )
			auth0_refresh_now( ai );
		return 0;
	case AUTH0_CF_FORCEDELETE:
		ai->ai_force_delete = c->value_int;
		return 0;
	case AUTH0_CF_SNAPDIR:
		if ( *arg == '\0' )
			return cf_error( c, "%s: empty directory name%s", "" );
		ch_free( ai->ai_snapshot_dir );
		ai->ai_snapshot_dir = ch_strdup( arg );
		return 0;
	case AUTH0_CF_CONNECTION:
		return set_connection( c, ai, arg );
	case AUTH0_CF_REFRESH:
		if ( parse_ulong( arg, &v ) || v > 31536000UL )
			return cf_error( c, "%s: \"%s\" is not a number of seconds "
				"(0-31536000)", arg );
		ai->ai_refresh_interval = (time_t)v;
		auth0_refresh_reschedule( ai );
		return 0;
	case AUTH0_CF_UIDRANGE:
	case AUTH0_CF_GIDRANGE:
		if ( parse_range( arg, &lo, &hi ) )
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

static int
auth0_cf_gen( ConfigArgs *c )
{
	slap_overinst *on = (slap_overinst *)c->bi;
	struct auth0_info *ai = on->on_bi.bi_private;
	int rc;

	if ( c->op == SLAP_CONFIG_EMIT )
		return auth0_cf_emit( c, ai );
	if ( c->op == LDAP_MOD_DELETE ) {
		ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
		rc = auth0_cf_delete( c, ai );
		ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
		return rc;
	}
	ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
	rc = auth0_cf_set( c, ai );
	ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
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
	ch_free( ai->ai_snapshot_dir );
	ai->ai_snapshot_dir = NULL;
	connections_clear( ai );
	rules_delete( ai, -1 );
}

int
auth0_config_init( slap_overinst *on )
{
	on->on_bi.bi_cf_ocs = auth0_ocs;
	return config_register_schema( auth0_cfg, auth0_ocs );
}
