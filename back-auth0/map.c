/* map.c - Auth0 model to plain entries for back-auth0 */
/*
 * Pure functions of the model and struct auth0_mapconf (DESIGN.md section
 * 3): the uid rules and their collisions, RDN escaping, entryUUIDs derived
 * from user_ids, ISO-8601 to GeneralizedTime, and the attributes of a user
 * entry.  Values are plain strings; apply.c validates each against its
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

#include "model.h"

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
	"homeDirectory", "loginShell", NULL
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
cmp_user_id( const void *a, const void *b )
{
	const struct auth0_user *x = a, *y = b;

	return strcmp( x->us_id, y->us_id );
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
	qsort( m->sn_users, m->sn_nusers, sizeof( *m->sn_users ), cmp_user_id );
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

static int
user_dn( const struct auth0_user *u, const struct auth0_mapconf *mc,
	struct auth0_entry *e )
{
	char *rdn = NULL;
	size_t len;
	int rc;

	rc = auth0_map_rdn( "uid", u->us_uid, &rdn );
	if ( rc )
		return rc;
	len = strlen( rdn ) + strlen( mc->mc_suffix ) + sizeof( ",ou=people," );
	e->en_dn = malloc( len );
	if ( e->en_dn == NULL ) {
		free( rdn );
		return AUTH0_ERR_NOMEM;
	}
	snprintf( e->en_dn, len, "%s,ou=people,%s", rdn, mc->mc_suffix );
	free( rdn );
	return AUTH0_OK;
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
user_posix( const struct auth0_user *u, long uidnumber,
	const struct auth0_mapconf *mc, struct auth0_entry *e )
{
	char *home = home_dir( mc->mc_home_prefix, u->us_uid );
	int rc = 0;

	if ( home == NULL )
		return AUTH0_ERR_NOMEM;
	rc |= add_long( e, "uidNumber", uidnumber );
	rc |= add_long( e, "gidNumber", mc->mc_gid_default );
	rc |= auth0_entry_add( e, "homeDirectory", home );
	rc |= add_opt( e, "loginShell", mc->mc_shell );
	free( home );
	return rc ? AUTH0_ERR_NOMEM : AUTH0_OK;
}

/*
 * The entry of user u (its uid already assigned) under ou=people.
 * entryUUID is not part of it: apply.c sets it at add time only.
 * On failure *e is freed.
 */
int
auth0_map_user( const struct auth0_user *u, long uidnumber,
	const struct auth0_mapconf *mc, struct auth0_entry *e )
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
		rc = user_posix( u, uidnumber, mc, e );
	if ( rc )
		auth0_entry_free( e );
	return rc;
}
