/* valcache.c - lookups that write.c would otherwise repeat per entry */
/*
 * A refresh writes the same few dozen attribute names and, in the member
 * lists of groups, roles and applications, the same user DNs over and
 * over: a user in ten groups has its DN validated and normalised eleven
 * times (slap_str2ad and dnValidate + dnNormalize each parse from scratch).
 * These caches keep the answers for the length of one refresh.  They are
 * used by the refresh task's thread only.
 *
 * Both are hash tables (slapd's FNV hash, open addressing): a member list
 * of 100,000 users looks up 100,000 DNs, and a search tree's string
 * comparisons were a third of an import's building time.
 */
#include "portable.h"

#include <ac/string.h>
#include <lutil_hash.h>

#include "back-auth0.h"

struct adc_node {
	char			*an_name;
	AttributeDescription	*an_ad;		/* NULL: not in the schema */
};

struct dnc_node {
	MatchingRule	*dn_mr;		/* equality rule: normal forms differ */
	struct berval	dn_pretty;	/* the value as the mapper wrote it */
	struct berval	dn_norm;	/* NULL bv_val: not a valid DN */
};

/* One slot of a table: a node and its hash (0 with no node: empty). */
struct vc_slot {
	unsigned int	vs_hash;
	void		*vs_node;
};

/* Open addressing with linear probing; vt_size is a power of two. */
struct vc_table {
	struct vc_slot	*vt_slots;
	unsigned long	vt_size, vt_used;
};

struct auth0_valcache {
	struct vc_table	vc_ads;		/* of adc_node */
	struct vc_table	vc_dns;		/* of dnc_node */
	MatchingRule	*vc_dnmr;	/* distinguishedNameMatch */
};

/* Plenty for a tenant's member DNs; beyond it, values are parsed again. */
#define VALCACHE_MAX_DNS	4000000UL
#define VALCACHE_MIN_SLOTS	64UL

typedef int (vc_match)( const void *node, const void *key );

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

	ch_free( n->dn_pretty.bv_val );
	ch_free( n->dn_norm.bv_val );
	ch_free( n );
}

static void
vt_free( struct vc_table *vt, void (*node_free)( void * ) )
{
	unsigned long i;

	for ( i = 0; i < vt->vt_size; i++ )
		if ( vt->vt_slots[i].vs_node )
			node_free( vt->vt_slots[i].vs_node );
	ch_free( vt->vt_slots );
}

void
auth0_valcache_free( struct auth0_valcache *vc )
{
	if ( vc == NULL )
		return;
	vt_free( &vc->vc_ads, adc_free );
	vt_free( &vc->vc_dns, dnc_free );
	ch_free( vc );
}

static unsigned int
vc_hash( const void *salt, size_t saltlen, const char *s, size_t len )
{
	lutil_HASH_CTX ctx;
	unsigned char d[LUTIL_HASH_BYTES];
	unsigned int h;

	lutil_HASHInit( &ctx );
	if ( saltlen )
		lutil_HASHUpdate( &ctx, salt, saltlen );
	lutil_HASHUpdate( &ctx, (const unsigned char *)s, len );
	lutil_HASHFinal( d, &ctx );
	h = (unsigned int)d[0] | (unsigned int)d[1] << 8 |
		(unsigned int)d[2] << 16 | (unsigned int)d[3] << 24;
	return h ? h : 1;	/* 0 marks an empty slot */
}

/* The slot holding the node that matches key, or the empty slot for it. */
static struct vc_slot *
vt_slot( struct vc_table *vt, unsigned int hash, vc_match *match,
	const void *key )
{
	unsigned long i, mask = vt->vt_size - 1;

	for ( i = hash & mask; vt->vt_slots[i].vs_node; i = ( i + 1 ) & mask )
		if ( vt->vt_slots[i].vs_hash == hash &&
				match( vt->vt_slots[i].vs_node, key ) )
			break;
	return &vt->vt_slots[i];
}

/* Doubles the table (or makes the first one) when half full. */
static void
vt_grow( struct vc_table *vt )
{
	struct vc_table old = *vt;
	unsigned long i, mask;

	if ( vt->vt_size && ( vt->vt_used + 1 ) * 2 <= vt->vt_size )
		return;
	vt->vt_size = vt->vt_size ? vt->vt_size * 2 : VALCACHE_MIN_SLOTS;
	vt->vt_slots = ch_calloc( vt->vt_size, sizeof( struct vc_slot ) );
	mask = vt->vt_size - 1;
	for ( i = 0; i < old.vt_size; i++ ) {
		unsigned long j;

		if ( old.vt_slots[i].vs_node == NULL )
			continue;
		for ( j = old.vt_slots[i].vs_hash & mask;
				vt->vt_slots[j].vs_node; j = ( j + 1 ) & mask )
			;
		vt->vt_slots[j] = old.vt_slots[i];
	}
	ch_free( old.vt_slots );
}

/* Finds key's node; NULL when the table has none. */
static void *
vt_find( struct vc_table *vt, unsigned int hash, vc_match *match,
	const void *key )
{
	if ( vt->vt_size == 0 )
		return NULL;
	return vt_slot( vt, hash, match, key )->vs_node;
}

/* Adds node, whose key is not in the table. */
static void
vt_add( struct vc_table *vt, unsigned int hash, vc_match *match,
	const void *key, void *node )
{
	struct vc_slot *s;

	vt_grow( vt );
	s = vt_slot( vt, hash, match, key );
	s->vs_hash = hash;
	s->vs_node = node;
	vt->vt_used++;
}

static int
adc_match( const void *node, const void *key )
{
	return strcmp( ( (const struct adc_node *)node )->an_name, key ) == 0;
}

/*
 * The attribute description of name, or NULL (with *text set) when the
 * schema has none; both answers are remembered.  Names are kept as the
 * mapping spells them: "CN" and "cn" are two keys for one description.
 */
AttributeDescription *
auth0_valcache_ad( struct auth0_valcache *vc, const char *name,
	const char **text )
{
	unsigned int hash = vc_hash( NULL, 0, name, strlen( name ) );
	struct adc_node *n = vt_find( &vc->vc_ads, hash, adc_match, name );

	if ( n ) {
		if ( n->an_ad == NULL )
			*text = "not in the schema";
		return n->an_ad;
	}
	n = ch_calloc( 1, sizeof( *n ) );
	n->an_name = ch_strdup( name );
	if ( slap_str2ad( name, &n->an_ad, text ) != LDAP_SUCCESS )
		n->an_ad = NULL;
	vt_add( &vc->vc_ads, hash, adc_match, name, n );
	return n->an_ad;
}

/* A DN cache key: the rule and the value. */
struct dnc_key {
	MatchingRule		*dk_mr;
	const struct berval	*dk_value;
};

static int
dnc_match( const void *node, const void *key )
{
	const struct dnc_node *n = node;
	const struct dnc_key *k = key;

	return n->dn_mr == k->dk_mr && ber_bvcmp( &n->dn_pretty,
		k->dk_value ) == 0;
}

static unsigned int
dnc_hash( const struct dnc_key *k )
{
	return vc_hash( &k->dk_mr, sizeof( k->dk_mr ), k->dk_value->bv_val,
		k->dk_value->bv_len );
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
	struct berval bv;
	struct dnc_key key;
	unsigned int hash;

	if ( vc->vc_dns.vt_used >= VALCACHE_MAX_DNS )
		return;
	ber_str2bv( value, 0, 0, &bv );
	key.dk_mr = mr;
	key.dk_value = &bv;
	hash = dnc_hash( &key );
	if ( vt_find( &vc->vc_dns, hash, dnc_match, &key ) )
		return;		/* already known */
	n = ch_calloc( 1, sizeof( *n ) );
	n->dn_mr = mr;
	ber_dupbv( &n->dn_pretty, &bv );
	if ( norm && !BER_BVISNULL( norm ) )
		ber_dupbv( &n->dn_norm, norm );
	vt_add( &vc->vc_dns, hash, dnc_match, &key, n );
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
	struct dnc_key key;
	struct dnc_node *n;
	int rc;

	key.dk_mr = ad->ad_type->sat_equality;
	key.dk_value = value;
	n = vt_find( &vc->vc_dns, dnc_hash( &key ), dnc_match, &key );
	if ( n ) {
		if ( BER_BVISNULL( &n->dn_norm ) )
			return LDAP_INVALID_SYNTAX;
		ber_dupbv( norm, &n->dn_norm );
		return LDAP_SUCCESS;
	}
	BER_BVZERO( norm );
	rc = syn->ssyn_validate( syn, value );
	if ( rc == LDAP_SUCCESS )
		rc = attr_normalize_one( ad, value, norm, NULL );
	auth0_valcache_put_dn( vc, key.dk_mr, value->bv_val,
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
