/* ids.c - uidNumber and gidNumber given in Auth0 metadata, checked */
/*
 * auth0-map-attribute may give a user's uidNumber or gidNumber from its
 * metadata.  Before the diff (diff.c), each such number is checked: a
 * uidNumber must lie within auth0-uid-range and belong to no other user
 * (stored, or given to another user in this refresh: the lower user_id
 * keeps it); a gidNumber, the user's primary group, must be the base of
 * auth0-gid-range or the gidNumber of a group or role the module manages
 * (27 is sudo on Debian).  A number that fails is not used, and the log
 * names the user and the rule.  Numbers that pass go to us_uidnumber /
 * us_gidnumber; the uidNumbers claimed are never handed out to others.
 */
#include "portable.h"

#include <ac/string.h>
#include <search.h>

#include "back-auth0.h"

struct numid {
	unsigned long	ni_n;
	const char	*ni_id;
};

struct collect_ctx {
	struct numid	*cc_v;
	size_t		cc_n;
};

static int
cmp_numid( const void *a, const void *b )
{
	const struct numid *x = a, *y = b;

	if ( x->ni_n != y->ni_n )
		return x->ni_n < y->ni_n ? -1 : 1;
	return strcmp( x->ni_id, y->ni_id );
}

static int
cmp_num( const void *a, const void *b )
{
	const struct numid *x = a, *y = b;

	return x->ni_n < y->ni_n ? -1 : x->ni_n > y->ni_n;
}

static void
collect_action( const void *node, VISIT which, void *arg )
{
	struct auth0_stored *sd = *(struct auth0_stored *const *)node;
	struct collect_ctx *cc = arg;

	if ( ( which != postorder && which != leaf ) || sd->sd_number == 0 )
		return;
	cc->cc_v[cc->cc_n].ni_n = sd->sd_number;
	cc->cc_v[cc->cc_n++].ni_id = sd->sd_id;
}

/* The stored numbers of container ou appended to cc, which has room. */
static void
collect( struct auth0_run *rn, enum auth0_ou ou, struct collect_ctx *cc )
{
	twalk_r( rn->rn_index[ou].ix_root, collect_action, cc );
}

static int
has_rule( struct auth0_run *rn, const char *attr )
{
	size_t i;

	for ( i = 0; i < rn->rn_model.sn_nrules; i++ )
		if ( strcasecmp( rn->rn_model.sn_rules[i].mr_attr, attr ) == 0 )
			return 1;
	return 0;
}

/* A stored user other than id holding uidNumber n, or NULL. */
static const char *
held_by( struct collect_ctx *st, unsigned long n, const char *id )
{
	struct numid key = { n, NULL }, *p;

	p = bsearch( &key, st->cc_v, st->cc_n, sizeof( key ), cmp_num );
	if ( p == NULL )
		return NULL;
	/* several entries may share a number stored before this check */
	while ( p > st->cc_v && p[-1].ni_n == n )
		p--;
	for ( ; p < st->cc_v + st->cc_n && p->ni_n == n; p++ )
		if ( strcmp( p->ni_id, id ) != 0 )
			return p->ni_id;
	return NULL;
}

/* The uidNumbers of the metadata, checked into us_uidnumber. */
static void
check_uids( struct auth0_run *rn )
{
	struct auth0_model *m = &rn->rn_model;
	struct collect_ctx st = { NULL, 0 }, cl = { NULL, 0 };
	size_t i;

	st.cc_v = ch_calloc( rn->rn_index[AUTH0_OU_USERS].ix_count + 1,
		sizeof( struct numid ) );
	collect( rn, AUTH0_OU_USERS, &st );
	qsort( st.cc_v, st.cc_n, sizeof( struct numid ), cmp_numid );
	cl.cc_v = ch_calloc( m->sn_nusers + 1, sizeof( struct numid ) );
	for ( i = 0; i < m->sn_nusers; i++ ) {
		struct auth0_user *u = &m->sn_users[i];
		long v = auth0_user_mapped_number( m, u, "uidNumber" );
		const char *other;

		if ( v <= 0 )
			continue;
		if ( (unsigned long)v < rn->rn_uid_lo ||
				(unsigned long)v > rn->rn_uid_hi ) {
			auth0_problem( rn->rn_ai, "user %s: uidNumber %ld from "
				"auth0-map-attribute is outside auth0-uid-range "
				"%lu-%lu; not used", u->us_id, v, rn->rn_uid_lo,
				rn->rn_uid_hi );
		} else if ( ( other = held_by( &st, v, u->us_id ) ) ) {
			auth0_problem( rn->rn_ai, "user %s: uidNumber %ld from "
				"auth0-map-attribute is held by user %s; not used "
				"(uidNumbers are unique)", u->us_id, v, other );
		} else {
			cl.cc_v[cl.cc_n].ni_n = v;
			cl.cc_v[cl.cc_n++].ni_id = u->us_id;
		}
	}
	/* one number given to several users: the lower user_id keeps it */
	qsort( cl.cc_v, cl.cc_n, sizeof( struct numid ), cmp_numid );
	rn->rn_claimed = ch_calloc( cl.cc_n + 1, sizeof( unsigned long ) );
	for ( i = 0; i < cl.cc_n; i++ ) {
		if ( i > 0 && cl.cc_v[i].ni_n == cl.cc_v[i - 1].ni_n ) {
			auth0_problem( rn->rn_ai, "user %s: uidNumber %lu from "
				"auth0-map-attribute is also given to user %s, "
				"which keeps it; not used (uidNumbers are "
				"unique)", cl.cc_v[i].ni_id, cl.cc_v[i].ni_n,
				cl.cc_v[i - 1].ni_id );
			continue;
		}
		rn->rn_claimed[rn->rn_nclaimed++] = cl.cc_v[i].ni_n;
	}
	/* the users are found again by id: the model is in its own order */
	for ( i = 0; i < m->sn_nusers; i++ ) {
		struct auth0_user *u = &m->sn_users[i];
		long v = auth0_user_mapped_number( m, u, "uidNumber" );
		struct numid key = { (unsigned long)v, u->us_id }, *p;

		p = v > 0 ? bsearch( &key, cl.cc_v, cl.cc_n, sizeof( key ),
			cmp_numid ) : NULL;
		if ( p && ( p == cl.cc_v || p[-1].ni_n != p->ni_n ) )
			u->us_uidnumber = v;
	}
	ch_free( st.cc_v );
	ch_free( cl.cc_v );
}

/* The gidNumbers of the metadata, checked into us_gidnumber. */
static void
check_gids( struct auth0_run *rn )
{
	struct auth0_model *m = &rn->rn_model;
	struct collect_ctx ok = { NULL, 0 };
	size_t i;

	ok.cc_v = ch_calloc( rn->rn_index[AUTH0_OU_GROUP].ix_count +
		rn->rn_index[AUTH0_OU_ROLE].ix_count + 1,
		sizeof( struct numid ) );
	collect( rn, AUTH0_OU_GROUP, &ok );
	collect( rn, AUTH0_OU_ROLE, &ok );
	qsort( ok.cc_v, ok.cc_n, sizeof( struct numid ), cmp_num );
	for ( i = 0; i < m->sn_nusers; i++ ) {
		struct auth0_user *u = &m->sn_users[i];
		long v = auth0_user_mapped_number( m, u, "gidNumber" );
		struct numid key = { (unsigned long)v, NULL };

		if ( v <= 0 )
			continue;
		if ( (unsigned long)v == rn->rn_gid_lo || bsearch( &key,
				ok.cc_v, ok.cc_n, sizeof( key ), cmp_num ) ) {
			u->us_gidnumber = v;
			continue;
		}
		auth0_problem( rn->rn_ai, "user %s: gidNumber %ld from "
			"auth0-map-attribute is neither the base of "
			"auth0-gid-range (%lu) nor the gidNumber of a group or "
			"role of the module; %lu used", u->us_id, v,
			rn->rn_gid_lo, rn->rn_gid_lo );
	}
	ch_free( ok.cc_v );
}

/* Checks the numbers given in metadata; the indexes must be loaded. */
void
auth0_ids_check( struct auth0_run *rn )
{
	if ( has_rule( rn, "uidNumber" ) )
		check_uids( rn );
	if ( has_rule( rn, "gidNumber" ) )
		check_gids( rn );
}

/*
 * 1 when the check needs every stored entry of ou (a change feed run
 * otherwise reads only what moved): the users for uidNumber rules, the
 * groups and roles for gidNumber rules.
 */
int
auth0_ids_need_index( struct auth0_run *rn, enum auth0_ou ou )
{
	if ( ou == AUTH0_OU_USERS )
		return has_rule( rn, "uidNumber" );
	if ( ou == AUTH0_OU_GROUP || ou == AUTH0_OU_ROLE )
		return has_rule( rn, "gidNumber" );
	return 0;
}

/* 1 when uidNumber n was given to a user in metadata. */
int
auth0_ids_claimed( struct auth0_run *rn, unsigned long n )
{
	size_t lo = 0, hi = rn->rn_nclaimed;

	while ( lo < hi ) {
		size_t mid = ( lo + hi ) / 2;
		if ( rn->rn_claimed[mid] == n )
			return 1;
		if ( rn->rn_claimed[mid] < n )
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void
auth0_ids_free( struct auth0_run *rn )
{
	ch_free( rn->rn_claimed );
	rn->rn_claimed = NULL;
	rn->rn_nclaimed = 0;
}
