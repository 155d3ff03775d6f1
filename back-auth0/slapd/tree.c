/* tree.c - containers and id counters of the imported tree for back-auth0 */
/*
 * The module creates the suffix entry (when missing) and the containers
 * ou=people, ou=groups, ou=roles and ou=applications.  The next uidNumber
 * and gidNumber to allocate are kept on ou=people and ou=groups
 * (auth0UidNumberNext, auth0GidNumberNext), so ids survive restarts and
 * are never handed out twice, even after a deletion.  The change feed's
 * checkpoint (auth0LogCheckpoint, slapd/feed.c) is kept on ou=people too.
 * Runs in the refresh task's thread only.
 */
#include "portable.h"

#include <ac/string.h>

#include "back-auth0.h"

static int
entry_exists( Operation *op, struct berval *ndn )
{
	Entry *e = NULL;

	if ( be_entry_get_rw( op, ndn, NULL, NULL, 0, &e ) != LDAP_SUCCESS ||
			e == NULL )
		return 0;
	be_entry_release_r( op, e );
	return 1;
}

/* Object classes for an entry named by rdn (the suffix); 0 if unknown. */
static int
suffix_plain( struct auth0_entry *pe, const char *dn )
{
	LDAPDN ldn = NULL;
	LDAPAVA *ava;
	char attr[64], val[256];
	int rc = AUTH0_ERR_DATA;

	if ( ldap_str2dn( dn, &ldn, LDAP_DN_FORMAT_LDAPV3 ) != LDAP_SUCCESS ||
			ldn == NULL || ldn[0] == NULL || ldn[0][0] == NULL )
		goto done;
	ava = ldn[0][0];
	if ( ava->la_attr.bv_len >= sizeof( attr ) ||
			ava->la_value.bv_len >= sizeof( val ) )
		goto done;
	memcpy( attr, ava->la_attr.bv_val, ava->la_attr.bv_len );
	attr[ava->la_attr.bv_len] = '\0';
	memcpy( val, ava->la_value.bv_val, ava->la_value.bv_len );
	val[ava->la_value.bv_len] = '\0';
	rc = AUTH0_OK;
	auth0_entry_add( pe, "objectClass", "top" );
	if ( strcasecmp( attr, "dc" ) == 0 ) {
		auth0_entry_add( pe, "objectClass", "dcObject" );
		auth0_entry_add( pe, "objectClass", "organization" );
		auth0_entry_add( pe, "dc", val );
		auth0_entry_add( pe, "o", val );
	} else if ( strcasecmp( attr, "o" ) == 0 ) {
		auth0_entry_add( pe, "objectClass", "organization" );
		auth0_entry_add( pe, "o", val );
	} else if ( strcasecmp( attr, "ou" ) == 0 ) {
		auth0_entry_add( pe, "objectClass", "organizationalUnit" );
		auth0_entry_add( pe, "ou", val );
	} else {
		rc = AUTH0_ERR_DATA;
	}
done:
	if ( ldn )
		ldap_dnfree( ldn );
	return rc;
}

/* Containers get entryUUIDs derived from their DN, like users from ids,
 * so that every provider of the same tenant holds the same tree. */
static int
add_now( struct auth0_info *ai, Operation *op, struct auth0_entry *pe )
{
	struct auth0_writer *ap;
	char uuid[37];
	int errors;

	auth0_map_entryuuid( pe->en_dn, uuid );
	auth0_write_begin( ai, op, NULL, &ap );
	auth0_write_add( ap, pe, uuid );
	errors = auth0_write_end( ap, 1 );
	return errors ? -1 : 0;
}

static int
ensure_suffix( struct auth0_info *ai, Operation *op )
{
	BackendDB *be = op->o_bd;
	struct auth0_entry pe;
	int rc = 0;

	if ( entry_exists( op, &be->be_nsuffix[0] ) )
		return 0;
	auth0_entry_init( &pe );
	pe.en_dn = ch_strdup( be->be_suffix[0].bv_val );
	if ( suffix_plain( &pe, pe.en_dn ) != AUTH0_OK ) {
		Debug( LDAP_DEBUG_ANY, "auth0: the suffix entry \"%s\" is "
			"missing and its RDN type is not dc, o or ou: add it "
			"yourself\n", pe.en_dn );
		rc = -1;
	} else {
		rc = add_now( ai, op, &pe );
	}
	ch_free( pe.en_dn );
	pe.en_dn = NULL;
	auth0_entry_free( &pe );
	return rc;
}

static int
ensure_ou( struct auth0_info *ai, Operation *op, const char *ou )
{
	BackendDB *be = op->o_bd;
	struct auth0_entry pe;
	struct berval dn, ndn = BER_BVNULL;
	size_t len = strlen( ou ) + be->be_suffix[0].bv_len + 8;
	int rc = 0;

	auth0_entry_init( &pe );
	pe.en_dn = malloc( len );
	if ( pe.en_dn == NULL )
		return -1;
	snprintf( pe.en_dn, len, "ou=%s,%s", ou, be->be_suffix[0].bv_val );
	ber_str2bv( pe.en_dn, 0, 0, &dn );
	if ( dnNormalize( 0, NULL, NULL, &dn, &ndn, NULL ) != LDAP_SUCCESS ) {
		rc = -1;
	} else if ( !entry_exists( op, &ndn ) ) {
		auth0_entry_add( &pe, "objectClass", "top" );
		auth0_entry_add( &pe, "objectClass", "organizationalUnit" );
		auth0_entry_add( &pe, "objectClass", "auth0Container" );
		auth0_entry_add( &pe, "ou", ou );
		rc = add_now( ai, op, &pe );
	}
	ch_free( ndn.bv_val );
	auth0_entry_free( &pe );
	return rc;
}

/* Creates the suffix entry and the containers that are missing. */
int
auth0_tree_containers( struct auth0_info *ai, Operation *op )
{
	static const char *const ous[] = {
		AUTH0_OU_PEOPLE, AUTH0_OU_GROUPS, AUTH0_OU_ROLES, AUTH0_OU_APPS,
		AUTH0_OU_ORGS, NULL
	};
	int i;

	if ( ensure_suffix( ai, op ) != 0 )
		return -1;
	for ( i = 0; ous[i]; i++ )
		if ( ensure_ou( ai, op, ous[i] ) != 0 )
			return -1;
	return 0;
}

/* Reads the counter attr of entry dn; *out is left alone when unset. */
int
auth0_tree_get_counter( Operation *op, const char *dn, const char *attr,
	unsigned long *out )
{
	AttributeDescription *ad = NULL;
	const char *text;
	struct berval bdn, ndn = BER_BVNULL;
	Entry *e = NULL;
	Attribute *a;
	int rc = -1;

	ber_str2bv( dn, 0, 0, &bdn );
	if ( slap_str2ad( attr, &ad, &text ) != LDAP_SUCCESS ||
			dnNormalize( 0, NULL, NULL, &bdn, &ndn, NULL ) != LDAP_SUCCESS )
		goto done;
	if ( be_entry_get_rw( op, &ndn, NULL, NULL, 0, &e ) != LDAP_SUCCESS ||
			e == NULL )
		goto done;
	a = attr_find( e->e_attrs, ad );
	if ( a && a->a_numvals > 0 )
		rc = lutil_atoul( out, a->a_vals[0].bv_val );
	else
		rc = 0;
	be_entry_release_r( op, e );
done:
	ch_free( ndn.bv_val );
	return rc;
}

/* Queues "replace attr: val" on entry dn. */
static int
set_value( struct auth0_writer *ap, const char *dn, const char *attr,
	const char *val )
{
	const char *names[2] = { attr, NULL };
	struct auth0_entry want;
	struct berval bdn, ndn = BER_BVNULL;
	int rc = -1;

	auth0_entry_init( &want );
	want.en_dn = ch_strdup( dn );
	auth0_entry_add( &want, attr, val );
	ber_str2bv( dn, 0, 0, &bdn );
	if ( dnNormalize( 0, NULL, NULL, &bdn, &ndn, NULL ) == LDAP_SUCCESS )
		rc = auth0_write_update( ap, &ndn, &want, names, 0 ) < 0 ? -1 : 0;
	ch_free( ndn.bv_val );
	ch_free( want.en_dn );
	want.en_dn = NULL;
	auth0_entry_free( &want );
	return rc;
}

/* Queues "replace attr: val" on entry dn. */
int
auth0_tree_set_counter( struct auth0_writer *ap, const char *dn,
	const char *attr, unsigned long val )
{
	char buf[32];

	snprintf( buf, sizeof( buf ), "%lu", val );
	return set_value( ap, dn, attr, buf );
}

/*
 * Queues the change feed's checkpoint, auth0LogCheckpoint on ou=people
 * (in the batch of the refresh's last writes); NULL: nothing to write.
 */
int
auth0_tree_set_checkpoint( struct auth0_writer *ap, const char *suffix,
	const char *checkpoint )
{
	char dn[SLAP_TEXT_BUFLEN];

	if ( checkpoint == NULL )
		return 0;
	snprintf( dn, sizeof( dn ), "ou=%s,%s", AUTH0_OU_PEOPLE, suffix );
	return set_value( ap, dn, "auth0LogCheckpoint", checkpoint );
}
