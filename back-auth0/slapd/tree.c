/* tree.c - containers and id counters of the imported tree for back-auth0 */
/*
 * The module creates the import base (auth0-base; the suffix entry by
 * default) when missing and the containers ou=people, ou=groups, ou=roles,
 * ou=applications and ou=organizations below it, and moves them when the
 * base moved.  The next uidNumber and gidNumber to allocate are kept on ou=people and ou=groups
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

/* Object classes for an entry named by rdn (the base); 0 if unknown. */
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

/*
 * The import base: the suffix entry, created when missing, or an entry
 * below the suffix, created once its parent exists (the administrator's
 * own entries); the module never creates anything above the base.
 * Returns 1 while it waits for the parent (said once), -1 on error.
 */
static int
ensure_base( struct auth0_info *ai, Operation *op, const char *base )
{
	BackendDB *be = op->o_bd;
	struct auth0_entry pe;
	struct berval bdn, ndn = BER_BVNULL, parent;
	int rc = 0;

	ber_str2bv( base, 0, 0, &bdn );
	if ( dnNormalize( 0, NULL, NULL, &bdn, &ndn, NULL ) != LDAP_SUCCESS )
		return -1;
	auth0_entry_init( &pe );
	if ( entry_exists( op, &ndn ) ) {
		ai->ai_base_waiting = 0;
		goto done;
	}
	if ( !bvmatch( &ndn, &be->be_nsuffix[0] ) ) {
		dnParent( &ndn, &parent );
		if ( !entry_exists( op, &parent ) ) {
			if ( !ai->ai_base_waiting )
				Debug( LDAP_DEBUG_ANY, "auth0: %s: auth0-base \"%s\": "
					"waiting until its parent entry exists (add it "
					"yourself); no import until then\n",
					be->be_suffix[0].bv_val, base );
			ai->ai_base_waiting = 1;
			rc = 1;
			goto done;
		}
	}
	pe.en_dn = ch_strdup( base );
	if ( suffix_plain( &pe, pe.en_dn ) != AUTH0_OK ) {
		Debug( LDAP_DEBUG_ANY, "auth0: %s: the base entry \"%s\" is "
			"missing and its RDN type is not dc, o or ou: add it "
			"yourself\n", be->be_suffix[0].bv_val, base );
		rc = -1;
	} else {
		rc = add_now( ai, op, &pe );
	}
	ch_free( pe.en_dn );
	pe.en_dn = NULL;
done:
	auth0_entry_free( &pe );
	ch_free( ndn.bv_val );
	return rc;
}

static int
ensure_ou( struct auth0_info *ai, Operation *op, const char *ou,
	const char *base )
{
	struct auth0_entry pe;
	struct berval dn, ndn = BER_BVNULL;
	size_t len = strlen( ou ) + strlen( base ) + 8;
	int rc = 0;

	auth0_entry_init( &pe );
	pe.en_dn = malloc( len );
	if ( pe.en_dn == NULL )
		return -1;
	snprintf( pe.en_dn, len, "ou=%s,%s", ou, base );
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

static const char *const tree_ous[] = {
	AUTH0_OU_PEOPLE, AUTH0_OU_GROUPS, AUTH0_OU_ROLES, AUTH0_OU_APPS,
	AUTH0_OU_ORGS, NULL
};

static int
found_cb( Operation *op, SlapReply *rs )
{
	BerVarray *found = op->o_callback->sc_private;

	if ( rs->sr_type == REP_SEARCH )
		ber_bvarray_add( found, ber_dupbv( NULL,
			&rs->sr_entry->e_nname ) );
	return 0;
}

/* The containers stored anywhere in the database (normalized DNs). */
static int
find_containers( Operation *op, BerVarray *found )
{
	BackendDB *be = op->o_bd;
	slap_callback cb = { 0 };
	SlapReply rs = { REP_RESULT };
	char fstr[] = "(objectClass=auth0Container)";

	op->o_tag = LDAP_REQ_SEARCH;
	memset( &op->o_request, 0, sizeof( op->o_request ) );
	op->o_req_dn = be->be_suffix[0];
	op->o_req_ndn = be->be_nsuffix[0];
	op->ors_scope = LDAP_SCOPE_SUBTREE;
	op->ors_deref = LDAP_DEREF_NEVER;
	op->ors_slimit = SLAP_NO_LIMIT;
	op->ors_tlimit = SLAP_NO_LIMIT;
	op->ors_attrs = slap_anlist_no_attrs;
	ber_str2bv( fstr, 0, 0, &op->ors_filterstr );
	op->ors_filter = str2filter_x( op, fstr );
	if ( op->ors_filter == NULL )
		return -1;
	cb.sc_response = found_cb;
	cb.sc_private = found;
	op->o_callback = &cb;
	be->be_search( op, &rs );
	op->o_callback = NULL;
	filter_free_x( op, op->ors_filter, 1 );
	op->ors_filter = NULL;
	return rs.sr_err == LDAP_SUCCESS || rs.sr_err == LDAP_NO_SUCH_OBJECT ?
		0 : -1;
}

/* Renames the subtree at ndn (RDN ou=<ou>) to below the base. */
static int
move_one( struct auth0_info *ai, Operation *op, struct berval *ndn,
	const char *ou, struct berval *base, struct berval *nbase )
{
	SlapReply rs = { REP_RESULT };
	slap_callback cb = { 0 };
	OpExtra mark;
	char rdn[64];
	struct berval brdn;

	snprintf( rdn, sizeof( rdn ), "ou=%s", ou );
	ber_str2bv( rdn, 0, 0, &brdn );
	op->o_tag = LDAP_REQ_MODRDN;
	memset( &op->o_request, 0, sizeof( op->o_request ) );
	op->o_req_dn = *ndn;
	op->o_req_ndn = *ndn;
	op->orr_newrdn = brdn;
	op->orr_nnewrdn = brdn;
	op->orr_newSup = base;
	op->orr_nnewSup = nbase;
	op->orr_deleteoldrdn = 0;
	slap_op_time( &op->o_time, &op->o_tincr );
	cb.sc_response = found_cb;	/* gets no entries: a sink */
	op->o_callback = &cb;
	auth0_readonly_mark( op, &mark );
	rs.sr_err = slap_modrdn2mods( op, &rs );
	if ( rs.sr_err == LDAP_SUCCESS ) {
		slap_mods_opattrs( op, &op->orr_modlist, 1 );
		op->o_bd->be_modrdn( op, &rs );
	}
	auth0_readonly_unmark( op, &mark );
	if ( op->orr_modlist )
		slap_mods_free( op->orr_modlist, 1 );
	op->orr_modlist = NULL;
	op->o_callback = NULL;
	if ( !BER_BVISNULL( &op->o_csn ) ) {
		op->o_tmpfree( op->o_csn.bv_val, op->o_tmpmemctx );
		BER_BVZERO( &op->o_csn );
	}
	Debug( rs.sr_err ? LDAP_DEBUG_ANY : LDAP_DEBUG_STATS,
		"auth0: %s: auth0-base moved: \"%s\" to below \"%s\": %s\n",
		op->o_bd->be_suffix[0].bv_val, ndn->bv_val, base->bv_val,
		ldap_err2string( rs.sr_err ) );
	return rs.sr_err == LDAP_SUCCESS ? 0 : -1;
}

/*
 * After auth0-base changed (over cn=config or in slapd.conf between two
 * starts), the imported tree is moved, not imported twice: each container
 * stored elsewhere whose counterpart below the base is missing is renamed
 * to below the base with everything in it (back-mdb renames subtrees), so
 * entries keep their uidNumber, gidNumber and entryUUID.  Run only when
 * ou=people is missing below the base, which is cheap to see.
 */
static int
move_containers( struct auth0_info *ai, Operation *op, const char *base )
{
	BerVarray found = NULL;
	struct berval bdn, pbase = BER_BVNULL, nbase = BER_BVNULL, people,
		parent, rdn;
	char buf[SLAP_TEXT_BUFLEN];
	int i, k, rc = 0;

	ber_str2bv( base, 0, 0, &bdn );
	if ( dnPrettyNormal( NULL, &bdn, &pbase, &nbase, NULL ) != LDAP_SUCCESS )
		return -1;
	people.bv_len = snprintf( buf, sizeof( buf ), "ou=%s,%s",
		AUTH0_OU_PEOPLE, nbase.bv_val );
	people.bv_val = buf;
	if ( people.bv_len >= sizeof( buf ) || entry_exists( op, &people ) ||
			find_containers( op, &found ) != 0 )
		goto done;
	for ( i = 0; found && found[i].bv_val; i++ ) {
		dnParent( &found[i], &parent );
		if ( bvmatch( &parent, &nbase ) || dnIsSuffix( &nbase, &found[i] ) )
			continue;
		dnRdn( &found[i], &rdn );
		for ( k = 0; tree_ous[k]; k++ ) {
			people.bv_len = snprintf( buf, sizeof( buf ), "ou=%s",
				tree_ous[k] );
			if ( !bvmatch( &rdn, &people ) )
				continue;
			people.bv_len = snprintf( buf, sizeof( buf ), "ou=%s,%s",
				tree_ous[k], nbase.bv_val );
			if ( people.bv_len < sizeof( buf ) &&
					!entry_exists( op, &people ) &&
					move_one( ai, op, &found[i], tree_ous[k], &pbase,
						&nbase ) != 0 )
				rc = -1;
		}
	}
done:
	ber_bvarray_free( found );
	ch_free( pbase.bv_val );
	ch_free( nbase.bv_val );
	return rc;
}

/*
 * Creates the base and the containers that are missing, after moving
 * the containers of an earlier base.  1: waiting for the base's parent.
 */
int
auth0_tree_containers( struct auth0_info *ai, Operation *op,
	const char *base )
{
	int i, rc = ensure_base( ai, op, base );

	if ( rc != 0 )
		return rc;
	if ( move_containers( ai, op, base ) != 0 )
		return -1;
	for ( i = 0; tree_ous[i]; i++ )
		if ( ensure_ou( ai, op, tree_ous[i], base ) != 0 )
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
