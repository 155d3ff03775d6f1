/* map.c - Auth0 model to plain entries for back-auth0 */
/*
 * Pure functions of the model and struct auth0_mapconf (DESIGN.md section
 * 3): the uid rules and their collisions, RDN escaping, entryUUIDs derived
 * from user_ids, ISO-8601 to GeneralizedTime, and the attributes of a user
 * entry.  Values are plain strings; write.c validates each against its
 * attribute's syntax before it reaches back-mdb.
 */
#include <ctype.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <ldap.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "map.h"

/* The namespace of back-auth0's name-based (version 5) entryUUIDs. */
static const unsigned char auth0_uuid_ns[16] = {
	0xad, 0xca, 0x32, 0x6f, 0x03, 0x11, 0x44, 0x12,
	0x80, 0x5a, 0x8a, 0xa4, 0x1c, 0x38, 0x09, 0x50
};

/* Every attribute auth0_map_user() may write: what a refresh compares. */
const char *const auth0_map_user_attrs[] = {
	"objectClass", "uid", "cn", "sn", "givenName", "displayName", "mail",
	"telephoneNumber", "auth0UserId", "auth0Connection",
	"auth0EmailVerified", "auth0Blocked", "auth0LastLogin",
	"auth0LoginsCount", "auth0CreatedAt", "auth0UpdatedAt",
	"auth0AppMetadata", "auth0UserMetadata", "uidNumber", "gidNumber",
	"homeDirectory", "loginShell", "memberOf", NULL
};

/* What a refresh compares on group, role and application entries. */
const char *const auth0_map_group_attrs[] = {
	"objectClass", "cn", "description", "member", "uniqueMember",
	"memberUid", "gidNumber", "auth0GroupId", "auth0NestedGroup",
	"auth0RoleRef", "auth0GroupSource", "auth0GroupType", "auth0Connection",
	"auth0ExternalId", NULL
};

const char *const auth0_map_role_attrs[] = {
	"objectClass", "cn", "description", "member", "uniqueMember",
	"memberUid", "gidNumber", "auth0RoleId", "auth0RoleSource",
	"auth0Permission", "auth0ApplicationRef", NULL
};

const char *const auth0_map_client_attrs[] = {
	"objectClass", "cn", "description", "member", "uniqueMember",
	"auth0ClientId", "auth0AppType", "auth0Connection", NULL
};

const char *const auth0_map_org_attrs[] = {
	"objectClass", "cn", "displayName", "member", "uniqueMember",
	"auth0OrganizationId", NULL
};

const char *const auth0_map_orgrole_attrs[] = {
	"objectClass", "cn", "member", "uniqueMember", "auth0OrganizationId",
	"auth0RoleId", "auth0OrganizationRoleId", "auth0RoleRef", NULL
};

/* The default fold: ASCII lower case (slapd passes its UTF-8 casefold). */
char *
auth0_map_fold_ascii( const char *s )
{
	char *d = strdup( s ), *p;

	if ( d == NULL )
		return NULL;
	for ( p = d; *p; p++ )
		*p = (char)tolower( (unsigned char)*p );
	return d;
}

static int
cmp_str( const void *a, const void *b )
{
	return strcmp( a, b );
}

static void
free_node( void *p )
{
	free( p );
}

/* Claims fold(uid) in *taken; 1 when claimed, 0 when already taken. */
static int
claim( void **taken, const char *uid, auth0_fold_fn *fold, int *err )
{
	char *key = fold( uid );
	void *slot;

	if ( key == NULL ) {
		*err = 1;
		return 0;
	}
	if ( tfind( key, taken, cmp_str ) != NULL ) {
		free( key );
		return 0;
	}
	slot = tsearch( key, taken, cmp_str );
	if ( slot == NULL ) {
		free( key );
		*err = 1;
		return 0;
	}
	return 1;
}

static const char *
preferred_uid( const struct auth0_user *u )
{
	if ( u->us_username )
		return u->us_username;
	if ( u->us_email )
		return u->us_email;
	return u->us_id;
}

/*
 * Chooses every user's uid: username, else email, else user_id.  Users are
 * sorted by user_id first, so when two want the same uid (compared after
 * fold) the lower user_id keeps it and the other falls back to its user_id
 * (us_uid_fallback is set so the caller can report it).  Sorting also makes
 * every later step of the refresh deterministic.
 */
int
auth0_map_assign_uids( struct auth0_model *m, auth0_fold_fn *fold )
{
	void *taken = NULL;
	size_t i;
	int err = 0;

	if ( fold == NULL )
		fold = auth0_map_fold_ascii;
	auth0_model_sort_users( m );
	for ( i = 0; i < m->sn_nusers && !err; i++ ) {
		struct auth0_user *u = &m->sn_users[i];
		const char *want = preferred_uid( u );

		free( u->us_uid );
		u->us_uid_fallback = 0;
		if ( !claim( &taken, want, fold, &err ) && !err ) {
			/* user_ids are unique, so this claim fails only on
			 * a uid someone else chose that equals our user_id */
			want = u->us_id;
			u->us_uid_fallback = 1;
			claim( &taken, want, fold, &err );
		}
		u->us_uid = err ? NULL : strdup( want );
		if ( u->us_uid == NULL )
			err = 1;
	}
	tdestroy( taken, free_node );
	return err ? AUTH0_ERR_NOMEM : AUTH0_OK;
}

/*
 * Builds the RDN attr=value with value escaped per RFC 4514 by libldap's
 * own DN writer.  *out is malloc'd.
 */
int
auth0_map_rdn( const char *attr, const char *value, char **out )
{
	LDAPAVA ava, *rdn[2];
	struct berval bv = { 0, NULL };
	int rc;

	*out = NULL;
	memset( &ava, 0, sizeof( ava ) );
	ava.la_attr.bv_val = (char *)attr;
	ava.la_attr.bv_len = strlen( attr );
	ava.la_value.bv_val = (char *)value;
	ava.la_value.bv_len = strlen( value );
	ava.la_flags = LDAP_AVA_STRING;
	rdn[0] = &ava;
	rdn[1] = NULL;
	rc = ldap_rdn2bv( rdn, &bv, LDAP_DN_FORMAT_LDAPV3 | LDAP_DN_PRETTY );
	if ( rc != LDAP_SUCCESS )
		return AUTH0_ERR_DATA;
	*out = strdup( bv.bv_val );
	ldap_memfree( bv.bv_val );
	return *out ? AUTH0_OK : AUTH0_ERR_NOMEM;
}

/*
 * A name-based UUID (RFC 4122 version 5, SHA-1) of key in back-auth0's
 * namespace: the same user_id always gives the same entryUUID, so renames
 * and re-imports keep identity.
 */
void
auth0_map_entryuuid( const char *key, char out[37] )
{
	unsigned char md[20], u[16];
	gnutls_hash_hd_t h;

	memset( md, 0, sizeof( md ) );
	if ( gnutls_hash_init( &h, GNUTLS_DIG_SHA1 ) == 0 ) {
		gnutls_hash( h, auth0_uuid_ns, sizeof( auth0_uuid_ns ) );
		gnutls_hash( h, key, strlen( key ) );
		gnutls_hash_deinit( h, md );
	}
	memcpy( u, md, 16 );
	u[6] = ( u[6] & 0x0f ) | 0x50;
	u[8] = ( u[8] & 0x3f ) | 0x80;
	snprintf( out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		"%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
		u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15] );
}

static int
digits( const char *s, int n )
{
	int i;

	for ( i = 0; i < n; i++ )
		if ( !isdigit( (unsigned char)s[i] ) )
			return 0;
	return 1;
}

/*
 * "2017-06-08T15:30:41.237Z" -> "20170608153041.237Z".  Only UTC ("Z")
 * times are accepted, as Auth0 sends; anything else is an error and the
 * attribute is left out.
 */
int
auth0_map_gentime( const char *iso, char *out, size_t outlen )
{
	size_t n = iso ? strlen( iso ) : 0, i, frac = 0;

	if ( n < 20 || !digits( iso, 4 ) || iso[4] != '-' ||
			!digits( iso + 5, 2 ) || iso[7] != '-' ||
			!digits( iso + 8, 2 ) || iso[10] != 'T' ||
			!digits( iso + 11, 2 ) || iso[13] != ':' ||
			!digits( iso + 14, 2 ) || iso[16] != ':' ||
			!digits( iso + 17, 2 ) )
		return AUTH0_ERR_DATA;
	i = 19;
	if ( iso[i] == '.' ) {
		for ( i++; isdigit( (unsigned char)iso[i] ); i++ )
			frac++;
		if ( frac == 0 || frac > 9 )
			return AUTH0_ERR_DATA;
	}
	if ( iso[i] != 'Z' || iso[i + 1] != '\0' || outlen < 16 + frac + 2 )
		return AUTH0_ERR_DATA;
	snprintf( out, outlen, "%.4s%.2s%.2s%.2s%.2s%.2s%s%.*s%s", iso,
		iso + 5, iso + 8, iso + 11, iso + 14, iso + 17, frac ? "." : "",
		(int)frac, iso + 20, "Z" );
	return AUTH0_OK;
}

/* A home directory that is valid IA5 and a safe path for any uid. */
static char *
home_dir( const char *prefix, const char *uid )
{
	size_t lp = strlen( prefix ), lu = strlen( uid ), i;
	char *d = malloc( lp + lu + 1 );

	if ( d == NULL )
		return NULL;
	memcpy( d, prefix, lp );
	for ( i = 0; i < lu; i++ ) {
		unsigned char c = (unsigned char)uid[i];
		d[lp + i] = ( isalnum( c ) || c == '.' || c == '-' || c == '_' ||
			c == '@' ) ? (char)c : '_';
	}
	if ( lu > 0 && d[lp] == '.' )
		d[lp] = '_';		/* no "/home/.." */
	d[lp + lu] = '\0';
	return d;
}

static int
add_opt( struct auth0_entry *e, const char *name, const char *v )
{
	if ( v == NULL || *v == '\0' )
		return AUTH0_OK;
	return auth0_entry_add( e, name, v );
}

static int
add_time( struct auth0_entry *e, const char *name, const char *iso )
{
	char buf[40];

	if ( iso == NULL || auth0_map_gentime( iso, buf, sizeof( buf ) ) )
		return AUTH0_OK;
	return auth0_entry_add( e, name, buf );
}

static int
add_long( struct auth0_entry *e, const char *name, long v )
{
	char buf[32];

	snprintf( buf, sizeof( buf ), "%ld", v );
	return auth0_entry_add( e, name, buf );
}

static int
add_json( struct auth0_entry *e, const char *name, const char *json )
{
	/* an empty object says nothing: leave the attribute out */
	if ( json == NULL || strcmp( json, "{}" ) == 0 )
		return AUTH0_OK;
	return auth0_entry_add( e, name, json );
}

/* "attr=<escaped value>,ou=<ou>,<base>", malloc'd; NULL on error. */
static char *
child_dn( const char *attr, const char *value, const char *ou,
	const struct auth0_mapconf *mc )
{
	const char *base = AUTH0_MC_BASE( mc );
	char *rdn = NULL, *dn;
	size_t len;

	if ( value == NULL || auth0_map_rdn( attr, value, &rdn ) )
		return NULL;
	len = strlen( rdn ) + strlen( ou ) + strlen( base ) + 8;
	dn = malloc( len );
	if ( dn )
		snprintf( dn, len, "%s,ou=%s,%s", rdn, ou, base );
	free( rdn );
	return dn;
}

/* "cn=<role cn>,cn=<org>,ou=organizations,<base>", malloc'd. */
static char *
orgrole_dn( const struct auth0_model *m, const struct auth0_orgrole *r,
	const struct auth0_mapconf *mc )
{
	char *parent = auth0_map_dn( m, AUTH0_ORG, r->or_org, mc );
	char *rdn = NULL, *dn = NULL;
	size_t len;

	if ( parent && r->or_cn && auth0_map_rdn( "cn", r->or_cn, &rdn ) == 0 ) {
		len = strlen( rdn ) + strlen( parent ) + 2;
		dn = malloc( len );
		if ( dn )
			snprintf( dn, len, "%s,%s", rdn, parent );
	}
	free( rdn );
	free( parent );
	return dn;
}

char *
auth0_map_user_dn( const struct auth0_user *u, const struct auth0_mapconf *mc )
{
	if ( u->us_dn )
		return strdup( u->us_dn );
	return child_dn( "uid", u->us_uid, "people", mc );
}

/* The DN of a group, role or application of the model. */
char *
auth0_map_dn( const struct auth0_model *m, enum auth0_kind kind, size_t idx,
	const struct auth0_mapconf *mc )
{
	switch ( kind ) {
	case AUTH0_GROUP:
		if ( m->sn_groups[idx].gr_dn )
			return strdup( m->sn_groups[idx].gr_dn );
		return child_dn( "cn", m->sn_groups[idx].gr_cn, "groups", mc );
	case AUTH0_ROLE:
		if ( m->sn_roles[idx].ro_dn )
			return strdup( m->sn_roles[idx].ro_dn );
		return child_dn( "cn", m->sn_roles[idx].ro_cn, "roles", mc );
	case AUTH0_CLIENT:
		if ( m->sn_clients[idx].cl_dn )
			return strdup( m->sn_clients[idx].cl_dn );
		return child_dn( "cn", m->sn_clients[idx].cl_cn, "applications",
			mc );
	case AUTH0_ORG:
		if ( m->sn_orgs[idx].og_dn )
			return strdup( m->sn_orgs[idx].og_dn );
		return child_dn( "cn", m->sn_orgs[idx].og_name, "organizations",
			mc );
	case AUTH0_ORGROLE:
		if ( m->sn_orgroles[idx].or_dn )
			return strdup( m->sn_orgroles[idx].or_dn );
		return orgrole_dn( m, &m->sn_orgroles[idx], mc );
	}
	return NULL;
}

/*
 * Works out every DN of the model once: a user in ten groups is named in
 * eleven entries, and building a DN escapes its RDN and formats it.
 * Needs uids and cns assigned; a DN that cannot be built stays NULL and
 * is built (and fails) where it is used.
 */
int
auth0_map_prepare_dns( struct auth0_model *m, const struct auth0_mapconf *mc )
{
	size_t i;

	for ( i = 0; i < m->sn_nusers; i++ )
		if ( m->sn_users[i].us_dn == NULL )
			m->sn_users[i].us_dn = auth0_map_user_dn(
				&m->sn_users[i], mc );
	for ( i = 0; i < m->sn_ngroups; i++ )
		if ( m->sn_groups[i].gr_dn == NULL )
			m->sn_groups[i].gr_dn = auth0_map_dn( m, AUTH0_GROUP,
				i, mc );
	for ( i = 0; i < m->sn_nroles; i++ )
		if ( m->sn_roles[i].ro_dn == NULL )
			m->sn_roles[i].ro_dn = auth0_map_dn( m, AUTH0_ROLE,
				i, mc );
	for ( i = 0; i < m->sn_nclients; i++ )
		if ( m->sn_clients[i].cl_dn == NULL )
			m->sn_clients[i].cl_dn = auth0_map_dn( m, AUTH0_CLIENT,
				i, mc );
	for ( i = 0; i < m->sn_norgs; i++ )
		if ( m->sn_orgs[i].og_dn == NULL )
			m->sn_orgs[i].og_dn = auth0_map_dn( m, AUTH0_ORG, i, mc );
	for ( i = 0; i < m->sn_norgroles; i++ )
		if ( m->sn_orgroles[i].or_dn == NULL )
			m->sn_orgroles[i].or_dn = auth0_map_dn( m, AUTH0_ORGROLE,
				i, mc );
	return AUTH0_OK;
}

static int
user_dn( const struct auth0_user *u, const struct auth0_mapconf *mc,
	struct auth0_entry *e )
{
	e->en_dn = auth0_map_user_dn( u, mc );
	return e->en_dn ? AUTH0_OK : AUTH0_ERR_DATA;
}

static int
user_names( const struct auth0_user *u, struct auth0_entry *e )
{
	const char *cn = u->us_name ? u->us_name : u->us_uid;
	const char *sn = u->us_family ? u->us_family : cn;
	int rc = 0;

	rc |= auth0_entry_add( e, "uid", u->us_uid );
	rc |= auth0_entry_add( e, "cn", cn );
	rc |= auth0_entry_add( e, "sn", sn );
	rc |= add_opt( e, "givenName", u->us_given );
	rc |= add_opt( e, "displayName",
		u->us_name ? u->us_name : u->us_nickname );
	rc |= add_opt( e, "mail", u->us_email );
	rc |= add_opt( e, "telephoneNumber", u->us_phone );
	return rc ? AUTH0_ERR_NOMEM : AUTH0_OK;
}

static int
user_auth0( const struct auth0_user *u, struct auth0_entry *e )
{
	int rc = 0;

	rc |= auth0_entry_add( e, "auth0UserId", u->us_id );
	rc |= add_opt( e, "auth0Connection", u->us_connection );
	if ( u->us_email_verified != AUTH0_UNSET )
		rc |= auth0_entry_add( e, "auth0EmailVerified",
			u->us_email_verified ? "TRUE" : "FALSE" );
	rc |= auth0_entry_add( e, "auth0Blocked",
		u->us_blocked == 1 ? "TRUE" : "FALSE" );
	rc |= add_time( e, "auth0LastLogin", u->us_last_login );
	if ( u->us_logins >= 0 )
		rc |= add_long( e, "auth0LoginsCount", u->us_logins );
	rc |= add_time( e, "auth0CreatedAt", u->us_created );
	rc |= add_time( e, "auth0UpdatedAt", u->us_updated );
	rc |= add_json( e, "auth0AppMetadata", u->us_app_md );
	rc |= add_json( e, "auth0UserMetadata", u->us_user_md );
	return rc ? AUTH0_ERR_NOMEM : AUTH0_OK;
}

static int
user_posix( const struct auth0_model *m, const struct auth0_user *u,
	long uidnumber, const struct auth0_mapconf *mc, struct auth0_entry *e )
{
	char *home = home_dir( mc->mc_home_prefix, u->us_uid );
	long gid = u->us_gidnumber;	/* checked by the caller (diff.c) */
	int rc = 0;

	if ( home == NULL )
		return AUTH0_ERR_NOMEM;
	rc |= add_long( e, "uidNumber", uidnumber );
	rc |= add_long( e, "gidNumber", gid > 0 ? gid : mc->mc_gid_default );
	rc |= auth0_entry_add( e, "homeDirectory", home );
	rc |= add_opt( e, "loginShell", mc->mc_shell );
	free( home );
	return rc ? AUTH0_ERR_NOMEM : AUTH0_OK;
}

/* auth0-map-attribute values; uidNumber and gidNumber are overrides. */
static int
user_mapped( const struct auth0_model *m, const struct auth0_user *u,
	struct auth0_entry *e )
{
	size_t i;
	char **v;
	int rc = 0;

	for ( i = 0; u->us_mapped && i < m->sn_nrules; i++ ) {
		const char *attr = m->sn_rules[i].mr_attr;
		if ( strcasecmp( attr, "uidNumber" ) == 0 ||
				strcasecmp( attr, "gidNumber" ) == 0 )
			continue;
		for ( v = u->us_mapped[i]; *v && !rc; v++ )
			if ( !auth0_entry_has( e, attr, *v ) )
				rc = auth0_entry_add( e, attr, *v );
	}
	return rc;
}

/* memberOf: every group (transitive), role and application of u. */
static int
user_memberof( const struct auth0_model *m, const struct auth0_user *u,
	const struct auth0_mapconf *mc, struct auth0_entry *e )
{
	size_t i;
	int rc = 0;

	for ( i = 0; i < u->us_nmemberof && !rc; i++ ) {
		char *dn = auth0_map_dn( m, (enum auth0_kind)u->us_memberof[i].rf_kind,
			u->us_memberof[i].rf_idx, mc );
		rc = dn ? auth0_entry_add( e, "memberOf", dn ) : AUTH0_OK;
		free( dn );
	}
	return rc;
}

/*
 * The entry of user u (its uid already assigned) under ou=people.
 * entryUUID is not part of it: write.c sets it at add time only.
 * On failure *e is freed.
 */
int
auth0_map_user( const struct auth0_model *m, const struct auth0_user *u,
	long uidnumber, const struct auth0_mapconf *mc, struct auth0_entry *e )
{
	static const char *const ocs[] = {
		"top", "inetOrgPerson", "posixAccount", "auth0User", NULL
	};
	const char *const *oc;
	int rc = AUTH0_OK;

	auth0_entry_init( e );
	if ( u->us_uid == NULL )
		return AUTH0_ERR_DATA;
	rc = user_dn( u, mc, e );
	for ( oc = ocs; *oc && rc == AUTH0_OK; oc++ )
		rc = auth0_entry_add( e, "objectClass", *oc );
	if ( rc == AUTH0_OK )
		rc = user_names( u, e );
	if ( rc == AUTH0_OK )
		rc = user_auth0( u, e );
	if ( rc == AUTH0_OK )
		rc = user_posix( m, u, uidnumber, mc, e );
	if ( rc == AUTH0_OK && m )
		rc = user_mapped( m, u, e );
	if ( rc == AUTH0_OK && m )
		rc = user_memberof( m, u, mc, e );
	if ( rc )
		auth0_entry_free( e );
	return rc;
}


/* Extension groups first: they held their names before native ones. */
static int
cmp_group( const void *a, const void *b )
{
	const struct auth0_group *x = a, *y = b;

	if ( x->gr_source != y->gr_source )
		return x->gr_source - y->gr_source;
	return strcmp( x->gr_id, y->gr_id );
}

static int
cmp_role( const void *a, const void *b )
{
	const struct auth0_role *x = a, *y = b;

	if ( x->ro_kind != y->ro_kind )
		return x->ro_kind - y->ro_kind;
	return strcmp( x->ro_id, y->ro_id );
}

static int
cmp_client( const void *a, const void *b )
{
	const struct auth0_client *x = a, *y = b;

	return strcmp( x->cl_id, y->cl_id );
}

/* cn = name; when taken (after fold), "name (id)". */
static char *
claim_cn( void **taken, const char *name, const char *id, auth0_fold_fn *fold,
	int *err )
{
	char *alt;
	size_t len;

	if ( claim( taken, name, fold, err ) )
		return strdup( name );
	if ( *err )
		return NULL;
	len = strlen( name ) + strlen( id ) + 4;
	alt = malloc( len );
	if ( alt == NULL ) {
		*err = 1;
		return NULL;
	}
	snprintf( alt, len, "%s (%s)", name, id );
	if ( !claim( taken, alt, fold, err ) )
		*err = 1;	/* ids are unique: cannot happen */
	return alt;
}

static void
report_clash( const struct auth0_model *m, const struct auth0_group *g )
{
	char msg[AUTH0_ERRLEN + 128];

	if ( m->sn_warn == NULL )
		return;
	snprintf( msg, sizeof( msg ), "%s group %s: its name \"%.80s\" is "
		"taken by another group; its entry is cn=%.120s",
		g->gr_source == AUTH0_GSRC_NATIVE ? "native" : "extension",
		g->gr_id, g->gr_name, g->gr_cn );
	m->sn_warn( m->sn_warn_arg, msg );
}

/*
 * Chooses the cn of every group, role and application.  Within each
 * container, in order of id (roles: Management API roles before extension
 * roles; groups: extension groups before native ones, whose names are
 * unique only within a connection), the first holder of a name gets
 * cn=name and a later one cn="name (id)", reported once per refresh.
 * Sorts groups, roles and clients in that order; prepares organizations.
 */
int
auth0_map_assign_cns( struct auth0_model *m, auth0_fold_fn *fold )
{
	void *tg = NULL, *tr = NULL, *tc = NULL;
	size_t i;
	int err = 0;

	if ( fold == NULL )
		fold = auth0_map_fold_ascii;
	auth0_sort( m->sn_groups, m->sn_ngroups, sizeof( *m->sn_groups ),
		cmp_group );
	auth0_sort( m->sn_roles, m->sn_nroles, sizeof( *m->sn_roles ),
		cmp_role );
	auth0_sort( m->sn_clients, m->sn_nclients, sizeof( *m->sn_clients ),
		cmp_client );
	for ( i = 0; i < m->sn_ngroups && !err; i++ ) {
		m->sn_groups[i].gr_cn = claim_cn( &tg, m->sn_groups[i].gr_name,
			m->sn_groups[i].gr_id, fold, &err );
		if ( !err && strcmp( m->sn_groups[i].gr_cn,
				m->sn_groups[i].gr_name ) )
			report_clash( m, &m->sn_groups[i] );
	}
	for ( i = 0; i < m->sn_nroles && !err; i++ )
		m->sn_roles[i].ro_cn = claim_cn( &tr, m->sn_roles[i].ro_name,
			m->sn_roles[i].ro_id, fold, &err );
	for ( i = 0; i < m->sn_nclients && !err; i++ )
		m->sn_clients[i].cl_cn = claim_cn( &tc, m->sn_clients[i].cl_name,
			m->sn_clients[i].cl_id, fold, &err );
	tdestroy( tg, free_node );
	tdestroy( tr, free_node );
	tdestroy( tc, free_node );
	if ( !err && auth0_orgs_prepare( m, fold ) )
		err = 1;
	return err ? AUTH0_ERR_NOMEM : AUTH0_OK;
}

/*
 * member, uniqueMember and (posix) memberUid of a set of users.
 * groupOfNames needs a member: an empty set gets the empty DN.
 */
static int
add_members( const struct auth0_model *m, const struct auth0_uset *s,
	const struct auth0_mapconf *mc, struct auth0_entry *e, int posix )
{
	size_t i;
	int rc = 0;

	if ( s->ut_n == 0 )
		return auth0_entry_add( e, "member", "" );
	for ( i = 0; i < s->ut_n && !rc; i++ ) {
		const struct auth0_user *u = &m->sn_users[s->ut_idx[i]];
		char *dn = auth0_map_user_dn( u, mc );
		if ( dn == NULL )
			continue;
		rc |= auth0_entry_add( e, "member", dn );
		rc |= auth0_entry_add( e, "uniqueMember", dn );
		if ( posix )
			rc |= auth0_entry_add( e, "memberUid", u->us_uid );
		free( dn );
	}
	return rc ? AUTH0_ERR_NOMEM : AUTH0_OK;
}

static int
add_classes( struct auth0_entry *e, const char *const *ocs )
{
	int rc = 0;

	for ( ; *ocs; ocs++ )
		rc |= auth0_entry_add( e, "objectClass", *ocs );
	return rc;
}

static int
add_dn_ref( const struct auth0_model *m, struct auth0_entry *e,
	const char *attr, enum auth0_kind kind, size_t idx,
	const struct auth0_mapconf *mc )
{
	char *dn = auth0_map_dn( m, kind, idx, mc );
	int rc = dn ? auth0_entry_add( e, attr, dn ) : AUTH0_OK;

	free( dn );
	return rc;
}

static size_t
find_group( const struct auth0_model *m, int source, const char *id )
{
	size_t i;

	for ( i = 0; i < m->sn_ngroups; i++ )
		if ( m->sn_groups[i].gr_source == source &&
				strcmp( m->sn_groups[i].gr_id, id ) == 0 )
			return i;
	return AUTH0_NOINDEX;
}

static size_t
find_role( const struct auth0_model *m, const char *id )
{
	size_t i;

	for ( i = 0; i < m->sn_nroles; i++ )
		if ( strcmp( m->sn_roles[i].ro_id, id ) == 0 )
			return i;
	return AUTH0_NOINDEX;
}

static size_t
find_client( const struct auth0_model *m, const char *id )
{
	size_t i;

	for ( i = 0; id && i < m->sn_nclients; i++ )
		if ( strcmp( m->sn_clients[i].cl_id, id ) == 0 )
			return i;
	return AUTH0_NOINDEX;
}

/* What only native groups have (DESIGN.md 8.3). */
static int
native_attrs( const struct auth0_model *m, const struct auth0_group *g,
	struct auth0_entry *e )
{
	const char *conn = auth0_model_conn_name( m, g->gr_conn_id );
	int rc = 0;

	rc |= auth0_entry_add( e, "auth0GroupSource", "auth0" );
	rc |= add_opt( e, "auth0GroupType", g->gr_type );
	if ( g->gr_type && strcmp( g->gr_type, "connection" ) == 0 )
		rc |= add_opt( e, "auth0Connection", conn ? conn : g->gr_conn_id );
	rc |= add_opt( e, "auth0ExternalId", g->gr_external );
	return rc;
}

/* An Authorization Extension or native group under ou=groups. */
int
auth0_map_group( const struct auth0_model *m, const struct auth0_group *g,
	long gidnumber, const struct auth0_mapconf *mc, struct auth0_entry *e )
{
	static const char *const ocs[] = {
		"top", "groupOfNames", "posixGroup", "auth0Group", NULL
	};
	char *const *p;
	int rc = 0;

	auth0_entry_init( e );
	e->en_dn = auth0_map_dn( m, AUTH0_GROUP, (size_t)( g - m->sn_groups ),
		mc );
	if ( e->en_dn == NULL )
		return AUTH0_ERR_DATA;
	rc |= add_classes( e, ocs );
	rc |= auth0_entry_add( e, "cn", g->gr_cn );
	rc |= add_opt( e, "description", g->gr_desc );
	rc |= add_members( m, &g->gr_flat, mc, e, 1 );
	rc |= add_long( e, "gidNumber", gidnumber );
	rc |= auth0_entry_add( e, "auth0GroupId", g->gr_id );
	if ( g->gr_source == AUTH0_GSRC_NATIVE )
		rc |= native_attrs( m, g, e );
	else
		rc |= auth0_entry_add( e, "auth0GroupSource", "authz" );
	for ( p = g->gr_nested; p && *p; p++ ) {
		size_t ci = find_group( m, g->gr_source, *p );
		if ( ci != AUTH0_NOINDEX )
			rc |= add_dn_ref( m, e, "auth0NestedGroup", AUTH0_GROUP, ci,
				mc );
	}
	for ( p = g->gr_roles; p && *p; p++ ) {
		size_t ri = find_role( m, *p );
		if ( ri != AUTH0_NOINDEX )
			rc |= add_dn_ref( m, e, "auth0RoleRef", AUTH0_ROLE, ri, mc );
	}
	if ( rc )
		auth0_entry_free( e );
	return rc ? AUTH0_ERR_NOMEM : AUTH0_OK;
}

/* A Management API or Authorization Extension role under ou=roles. */
int
auth0_map_role( const struct auth0_model *m, const struct auth0_role *r,
	long gidnumber, const struct auth0_mapconf *mc, struct auth0_entry *e )
{
	static const char *const ocs[] = {
		"top", "groupOfNames", "posixGroup", "auth0Role", NULL
	};
	char *const *p;
	size_t ci;
	int rc = 0;

	auth0_entry_init( e );
	e->en_dn = auth0_map_dn( m, AUTH0_ROLE, (size_t)( r - m->sn_roles ), mc );
	if ( e->en_dn == NULL )
		return AUTH0_ERR_DATA;
	rc |= add_classes( e, ocs );
	rc |= auth0_entry_add( e, "cn", r->ro_cn );
	rc |= add_opt( e, "description", r->ro_desc );
	rc |= add_members( m, &r->ro_flat, mc, e, 1 );
	rc |= add_long( e, "gidNumber", gidnumber );
	rc |= auth0_entry_add( e, "auth0RoleId", r->ro_id );
	rc |= auth0_entry_add( e, "auth0RoleSource",
		r->ro_kind == AUTH0_ROLE_RBAC ? "rbac" : "authz" );
	for ( p = r->ro_perms; p && *p; p++ )
		rc |= auth0_entry_add( e, "auth0Permission", *p );
	ci = find_client( m, r->ro_client );
	if ( ci != AUTH0_NOINDEX )
		rc |= add_dn_ref( m, e, "auth0ApplicationRef", AUTH0_CLIENT, ci,
			mc );
	if ( rc )
		auth0_entry_free( e );
	return rc ? AUTH0_ERR_NOMEM : AUTH0_OK;
}

/* An application (client) under ou=applications. */
int
auth0_map_client( const struct auth0_model *m, const struct auth0_client *c,
	const struct auth0_mapconf *mc, struct auth0_entry *e )
{
	static const char *const ocs[] = {
		"top", "groupOfNames", "auth0Application", NULL
	};
	size_t i;
	int rc = 0;

	auth0_entry_init( e );
	e->en_dn = auth0_map_dn( m, AUTH0_CLIENT, (size_t)( c - m->sn_clients ),
		mc );
	if ( e->en_dn == NULL )
		return AUTH0_ERR_DATA;
	rc |= add_classes( e, ocs );
	rc |= auth0_entry_add( e, "cn", c->cl_cn );
	rc |= add_opt( e, "description", c->cl_desc );
	rc |= add_members( m, &c->cl_flat, mc, e, 0 );
	rc |= auth0_entry_add( e, "auth0ClientId", c->cl_id );
	rc |= add_opt( e, "auth0AppType", c->cl_type );
	for ( i = 0; i < m->sn_nconns; i++ )
		if ( auth0_strv_has( m->sn_conns[i].cn_clients, c->cl_id ) &&
				!auth0_entry_has( e, "auth0Connection",
					m->sn_conns[i].cn_name ) )
			rc |= auth0_entry_add( e, "auth0Connection",
				m->sn_conns[i].cn_name );
	if ( rc )
		auth0_entry_free( e );
	return rc ? AUTH0_ERR_NOMEM : AUTH0_OK;
}

/* An organization under ou=organizations: groupOfNames only. */
int
auth0_map_org( const struct auth0_model *m, const struct auth0_org *o,
	const struct auth0_mapconf *mc, struct auth0_entry *e )
{
	static const char *const ocs[] = {
		"top", "groupOfNames", "auth0Organization", NULL
	};
	int rc = 0;

	auth0_entry_init( e );
	e->en_dn = auth0_map_dn( m, AUTH0_ORG, (size_t)( o - m->sn_orgs ), mc );
	if ( e->en_dn == NULL )
		return AUTH0_ERR_DATA;
	rc |= add_classes( e, ocs );
	rc |= auth0_entry_add( e, "cn", o->og_name );
	rc |= add_opt( e, "displayName", o->og_display );
	rc |= add_members( m, &o->og_flat, mc, e, 0 );
	rc |= auth0_entry_add( e, "auth0OrganizationId", o->og_id );
	if ( rc )
		auth0_entry_free( e );
	return rc ? AUTH0_ERR_NOMEM : AUTH0_OK;
}

/* A role held in an organization, below the organization's entry. */
int
auth0_map_orgrole( const struct auth0_model *m,
	const struct auth0_orgrole *r, const struct auth0_mapconf *mc,
	struct auth0_entry *e )
{
	static const char *const ocs[] = {
		"top", "groupOfNames", "auth0OrganizationRole", NULL
	};
	size_t ri;
	int rc = 0;

	auth0_entry_init( e );
	e->en_dn = auth0_map_dn( m, AUTH0_ORGROLE,
		(size_t)( r - m->sn_orgroles ), mc );
	if ( e->en_dn == NULL )
		return AUTH0_ERR_DATA;
	rc |= add_classes( e, ocs );
	rc |= auth0_entry_add( e, "cn", r->or_cn );
	rc |= add_members( m, &r->or_flat, mc, e, 0 );
	rc |= auth0_entry_add( e, "auth0OrganizationId",
		m->sn_orgs[r->or_org].og_id );
	rc |= auth0_entry_add( e, "auth0RoleId", r->or_role );
	rc |= auth0_entry_add( e, "auth0OrganizationRoleId", r->or_key );
	ri = find_role( m, r->or_role );
	if ( ri != AUTH0_NOINDEX )
		rc |= add_dn_ref( m, e, "auth0RoleRef", AUTH0_ROLE, ri, mc );
	if ( rc )
		auth0_entry_free( e );
	return rc ? AUTH0_ERR_NOMEM : AUTH0_OK;
}
