/* delta.c - value deltas for multi-valued attributes */
/*
 * The values a stored attribute holds and those the mapper wants are
 * compared as multisets of bytes (LDAP values have no order; slapd keeps
 * sortvals attributes in its own).  When they differ, the modification is
 * the values removed (LDAP_MOD_DELETE) and added (LDAP_MOD_ADD) where
 * that writes less than a replace of the whole list: one member more in a
 * group of 100,000 writes one value, and accesslog and syncrepl consumers
 * receive that one value (DESIGN.md 8.1).
 */
#include "portable.h"

#include <ac/string.h>

#include "back-auth0.h"

struct sortctx {
	BerVarray	sc_v;
	int		sc_i;
};

static int
cmp_bv( const struct berval *x, const struct berval *y )
{
	size_t n = x->bv_len < y->bv_len ? x->bv_len : y->bv_len;
	int c = memcmp( x->bv_val, y->bv_val, n );

	if ( c )
		return c;
	return x->bv_len < y->bv_len ? -1 : x->bv_len > y->bv_len;
}

static int
cmp_ctx( const void *a, const void *b )
{
	const struct sortctx *x = a, *y = b;

	return cmp_bv( &x->sc_v[x->sc_i], &y->sc_v[y->sc_i] );
}

/* The indexes of v[0..n) in byte order of their values. */
static struct sortctx *
sorted( BerVarray v, int n )
{
	struct sortctx *s = ch_malloc( ( n + 1 ) * sizeof( *s ) );
	int i;

	for ( i = 0; i < n; i++ ) {
		s[i].sc_v = v;
		s[i].sc_i = i;
	}
	qsort( s, n, sizeof( *s ), cmp_ctx );
	return s;
}

static Modifications *
mod_vals( AttributeDescription *ad, int modop, int n )
{
	Modifications *ml = ch_calloc( 1, sizeof( *ml ) );

	ml->sml_op = modop;
	ml->sml_flags = SLAP_MOD_INTERNAL;
	ml->sml_desc = ad;
	ml->sml_type = ad->ad_cname;
	ml->sml_values = ch_calloc( n + 1, sizeof( struct berval ) );
	return ml;
}

/* Appends value i of vals/nvals to ml (copies). */
static void
mod_push( Modifications *ml, BerVarray vals, BerVarray nvals, int i )
{
	ber_dupbv( &ml->sml_values[ml->sml_numvals], &vals[i] );
	if ( ml->sml_nvalues )	/* allocated when the attribute has them */
		ber_dupbv( &ml->sml_nvalues[ml->sml_numvals], &nvals[i] );
	ml->sml_numvals++;
}

/*
 * Compares stored attribute a (NULL: none) with the wanted vals/nvals (n
 * of them, taken).  Returns NULL when they hold the same values, else the
 * modifications (a DELETE and/or ADD, or one REPLACE or DELETE).
 */
Modifications *
auth0_delta_mods( AttributeDescription *ad, Attribute *a, BerVarray vals,
	BerVarray nvals, int n )
{
	int have = a ? (int)a->a_numvals : 0;
	struct sortctx *s, *w;
	int i = 0, j = 0, nadd = 0, ndel = 0;
	Modifications *del = NULL, *add = NULL;

	if ( have == 0 && n == 0 )
		return NULL;
	s = sorted( a ? a->a_vals : NULL, have );
	w = sorted( vals, n );
	while ( i < have || j < n ) {
		int c = i == have ? 1 : j == n ? -1 :
			cmp_bv( &a->a_vals[s[i].sc_i], &vals[w[j].sc_i] );
		if ( c == 0 ) {
			i++;
			j++;
		} else if ( c < 0 ) {
			s[ndel++].sc_i = s[i++].sc_i;	/* ndel <= i */
		} else {
			w[nadd++].sc_i = w[j++].sc_i;	/* nadd <= j */
		}
	}
	if ( nadd == 0 && ndel == 0 ) {
		ber_bvarray_free( vals );
		ber_bvarray_free( nvals );
		goto done;
	}
	/* a replace when it writes no more, or values cannot be matched */
	if ( n == 0 || have == 0 || nadd + ndel >= n ||
			is_at_single_value( ad->ad_type ) ||
			ad->ad_type->sat_equality == NULL ) {
		del = mod_vals( ad, n ? LDAP_MOD_REPLACE : LDAP_MOD_DELETE, 0 );
		ch_free( del->sml_values );
		del->sml_values = vals;
		del->sml_nvalues = nvals;
		del->sml_numvals = n;
		goto done;
	}
	if ( ndel ) {
		del = mod_vals( ad, LDAP_MOD_DELETE, ndel );
		if ( a->a_nvals != a->a_vals )
			del->sml_nvalues = ch_calloc( ndel + 1,
				sizeof( struct berval ) );
		for ( i = 0; i < ndel; i++ )
			mod_push( del, a->a_vals, a->a_nvals, s[i].sc_i );
	}
	if ( nadd ) {
		add = mod_vals( ad, LDAP_MOD_ADD, nadd );
		if ( nvals )
			add->sml_nvalues = ch_calloc( nadd + 1,
				sizeof( struct berval ) );
		for ( j = 0; j < nadd; j++ )
			mod_push( add, vals, nvals, w[j].sc_i );
	}
	ber_bvarray_free( vals );
	ber_bvarray_free( nvals );
	if ( del )
		del->sml_next = add;
	else
		del = add;
done:
	ch_free( s );
	ch_free( w );
	return del;
}
