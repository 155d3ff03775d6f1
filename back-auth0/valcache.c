/* valcache.c - lookups that apply.c would otherwise repeat per entry */
/*
 * A refresh writes the same few dozen attribute names and, in the member
 * lists of groups, roles and applications, the same user DNs over and
 * over: a user in ten groups has its DN validated and normalised eleven
 * times (slap_str2ad and dnValidate + dnNormalize each parse from scratch).
 * These caches keep the answers for the length of one refresh.  They are
 * used by the refresh task's thread only.
 */
#include "portable.h"

#include <ac/string.h>
#include <search.h>

#include "back-auth0.h"

struct adc_node {
	char			*an_name;
	AttributeDescription	*an_ad;		/* NULL: not in the schema */
};

struct dnc_node {
	MatchingRule	*dn_mr;		/* equality rule: normal forms differ */
	char		*dn_pretty;	/* the value as the mapper wrote it */
	struct berval	dn_norm;	/* NULL bv_val: not a valid DN */
};

struct auth0_valcache {
	void		*vc_ads;	/* tsearch root of adc_node */
	void		*vc_dns;	/* tsearch root of dnc_node */
	MatchingRule	*vc_dnmr;	/* distinguishedNameMatch */
	unsigned long	vc_ndns;
};

/* Plenty for a tenant's member DNs; beyond it, values are parsed again. */
#define VALCACHE_MAX_DNS	4000000UL

struct auth0_valcache *
auth0_valcache_new( void )
{
	struct auth0_valcache *vc = ch_calloc( 1, sizeof( *vc ) );

	vc->vc_dnmr = mr_find( "2.5.13.1" );
	return vc;
}

static void
adc_free( void *p )
{
	struct adc_node *n = p;

	ch_free( n->an_name );
	ch_free( n );
}

static void
dnc_free( void *p )
{
	struct dnc_node *n = p;

	ch_free( n->dn_pretty );
	ch_free( n->dn_norm.bv_val );
	ch_free( n );
}

void
auth0_valcache_free( struct auth0_valcache *vc )
{
	if ( vc == NULL )
		return;
	tdestroy( vc->vc_ads, adc_free );
	tdestroy( vc->vc_dns, dnc_free );
	ch_free( vc );
}

static int
adc_cmp( const void *a, const void *b )
{
	return strcasecmp( ( (const struct adc_node *)a )->an_name,
		( (const struct adc_node *)b )->an_name );
}

/*
 * The attribute description of name, or NULL (with *text set) when the
 * schema has none; both answers are remembered.
 */
AttributeDescription *
auth0_valcache_ad( struct auth0_valcache *vc, const char *name,
	const char **text )
{
	struct adc_node key, *n, **found;

	key.an_name = (char *)name;
	found = tfind( &key, &vc->vc_ads, adc_cmp );
	if ( found ) {
		if ( ( *found )->an_ad == NULL )
			*text = "not in the schema";
		return ( *found )->an_ad;
	}
	n = ch_calloc( 1, sizeof( *n ) );
	n->an_name = ch_strdup( name );
	if ( slap_str2ad( name, &n->an_ad, text ) != LDAP_SUCCESS )
		n->an_ad = NULL;
	if ( tsearch( n, &vc->vc_ads, adc_cmp ) == NULL ) {
		AttributeDescription *ad = n->an_ad;
		adc_free( n );
		return ad;
	}
	return n->an_ad;
}

static int
dnc_cmp( const void *a, const void *b )
{
	const struct dnc_node *x = a, *y = b;

	if ( x->dn_mr != y->dn_mr )
		return x->dn_mr < y->dn_mr ? -1 : 1;
	return strcmp( x->dn_pretty, y->dn_pretty );
}

/*
 * Remembers that value normalises to norm (NULL: invalid) under the
 * equality rule mr.
 */
void
auth0_valcache_put_dn( struct auth0_valcache *vc, MatchingRule *mr,
	const char *value, struct berval *norm )
{
	struct dnc_node *n;

	if ( vc->vc_ndns >= VALCACHE_MAX_DNS )
		return;
	n = ch_calloc( 1, sizeof( *n ) );
	n->dn_mr = mr;
	n->dn_pretty = ch_strdup( value );
	if ( norm && !BER_BVISNULL( norm ) )
		ber_dupbv( &n->dn_norm, norm );
	if ( *(struct dnc_node **)tsearch( n, &vc->vc_dns, dnc_cmp ) != n ) {
		dnc_free( n );		/* already known */
		return;
	}
	vc->vc_ndns++;
}

/*
 * Validates and normalises a value of ad (of a DN-like syntax) into *norm
 * (a copy).  Returns LDAP_SUCCESS, or LDAP_INVALID_SYNTAX.
 */
int
auth0_valcache_dn( struct auth0_valcache *vc, AttributeDescription *ad,
	struct berval *value, struct berval *norm )
{
	Syntax *syn = ad->ad_type->sat_syntax;
	struct dnc_node key, **found;
	int rc;

	key.dn_mr = ad->ad_type->sat_equality;
	key.dn_pretty = value->bv_val;
	found = tfind( &key, &vc->vc_dns, dnc_cmp );
	if ( found ) {
		if ( BER_BVISNULL( &( *found )->dn_norm ) )
			return LDAP_INVALID_SYNTAX;
		ber_dupbv( norm, &( *found )->dn_norm );
		return LDAP_SUCCESS;
	}
	BER_BVZERO( norm );
	rc = syn->ssyn_validate( syn, value );
	if ( rc == LDAP_SUCCESS )
		rc = attr_normalize_one( ad, value, norm, NULL );
	auth0_valcache_put_dn( vc, key.dn_mr, value->bv_val,
		rc == LDAP_SUCCESS ? norm : NULL );
	return rc == LDAP_SUCCESS ? LDAP_SUCCESS : LDAP_INVALID_SYNTAX;
}

/* Remembers that entry DN value normalises to norm (as a member value). */
void
auth0_valcache_seed_dn( struct auth0_valcache *vc, const char *value,
	struct berval *norm )
{
	if ( vc->vc_dnmr )
		auth0_valcache_put_dn( vc, vc->vc_dnmr, value, norm );
}
