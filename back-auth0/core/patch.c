/* patch.c - an incremental change applied to a kept model, for back-auth0 */
/*
 * The change feed keeps the model of the last clean refresh in memory and
 * patches it with what the log events made it re-read: users replaced,
 * added or removed, roles given new member lists.  memberOf and the
 * members of groups, roles and applications derive from the whole model,
 * so the derived parts (uids, flattening, DNs) are then rebuilt over all
 * of it, which costs memory walks, not requests or database reads.  The
 * result says which users must be compared with what is stored: those
 * re-read, and those whose DN or memberOf moved (a role's old and new
 * members, a uid collision resolved differently); groups, roles,
 * applications and organizations are few and compared whole by the caller.
 * Slapd-free (model.h, map.h); the slapd side is slapd/feed.c.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "map.h"

/* What the kept model said about one user before the patch. */
struct before {
	const char		*bf_id;		/* NULL: replaced or removed */
	char			*bf_dn;		/* taken from the user */
	struct auth0_ref	*bf_memberof;	/* taken from the user */
	size_t			bf_nmemberof;
};

void
auth0_patch_init( struct auth0_patch *pa )
{
	memset( pa, 0, sizeof( *pa ) );
	auth0_model_init( &pa->pa_fetched );
}

void
auth0_patch_free( struct auth0_patch *pa )
{
	size_t i;

	auth0_model_free( &pa->pa_fetched );
	auth0_strv_free( pa->pa_gone );
	for ( i = 0; i < pa->pa_nroles; i++ ) {
		free( pa->pa_roles[i].pr_id );
		auth0_strv_free( pa->pa_roles[i].pr_users );
	}
	free( pa->pa_roles );
	free( pa->pa_dirty );
	for ( i = 0; i <= AUTH0_ORGROLE; i++ )
		free( pa->pa_cdirty[i] );
	auth0_strv_free( pa->pa_old_dns );
	memset( pa, 0, sizeof( *pa ) );
}

static int
strv_push( char ***v, const char *s )
{
	size_t n = auth0_strv_len( *v );
	char **p = realloc( *v, ( n + 2 ) * sizeof( char * ) );

	if ( p == NULL )
		return AUTH0_ERR_NOMEM;
	*v = p;
	p[n] = strdup( s );
	p[n + 1] = NULL;
	return p[n] ? AUTH0_OK : AUTH0_ERR_NOMEM;
}

/* A user_id re-read and found gone (404) or moved out of the selection. */
int
auth0_patch_gone( struct auth0_patch *pa, const char *id )
{
	return strv_push( &pa->pa_gone, id );
}

/* A role's member list as re-read; members is taken over. */
int
auth0_patch_role( struct auth0_patch *pa, const char *id, char **members )
{
	struct auth0_patch_role *p = realloc( pa->pa_roles,
		( pa->pa_nroles + 1 ) * sizeof( *p ) );

	if ( p == NULL )
		return AUTH0_ERR_NOMEM;
	pa->pa_roles = p;
	p[pa->pa_nroles].pr_id = strdup( id );
	p[pa->pa_nroles].pr_users = members;
	if ( p[pa->pa_nroles].pr_id == NULL )
		return AUTH0_ERR_NOMEM;
	pa->pa_nroles++;
	return AUTH0_OK;
}

static struct auth0_role *
find_role( struct auth0_model *m, const char *id )
{
	size_t i;

	for ( i = 0; i < m->sn_nroles; i++ )
		if ( m->sn_roles[i].ro_kind == AUTH0_ROLE_RBAC &&
				strcmp( m->sn_roles[i].ro_id, id ) == 0 )
			return &m->sn_roles[i];
	return NULL;
}

/* Takes each user's DN and memberOf out of m, to compare afterwards. */
static struct before *
take_before( struct auth0_model *m )
{
	struct before *bf = calloc( m->sn_nusers + 1, sizeof( *bf ) );
	size_t i;

	if ( bf == NULL )
		return NULL;
	for ( i = 0; i < m->sn_nusers; i++ ) {
		struct auth0_user *u = &m->sn_users[i];
		bf[i].bf_id = u->us_id;
		bf[i].bf_dn = u->us_dn;
		bf[i].bf_memberof = u->us_memberof;
		bf[i].bf_nmemberof = u->us_nmemberof;
		u->us_dn = NULL;
		u->us_memberof = NULL;
		u->us_nmemberof = 0;
	}
	return bf;
}

static int
cmp_str( const void *a, const void *b )
{
	return strcmp( *(char *const *)a, *(char *const *)b );
}

/* What user idx had goes (re-read or removed): its old DN is kept. */
static int
forget_before( struct auth0_patch *pa, struct before *b )
{
	if ( b->bf_dn && strv_push( &pa->pa_old_dns, b->bf_dn ) )
		return AUTH0_ERR_NOMEM;
	b->bf_id = NULL;
	return AUTH0_OK;
}

/*
 * Replaces the users re-read, removes the users gone and appends the new
 * ones.  m is still sorted by user_id here and bf has its positions, so
 * each user is found by a binary search.
 */
static int
patch_users( struct auth0_patch *pa, struct auth0_model *m,
	struct before *bf )
{
	struct auth0_model *f = &pa->pa_fetched;
	unsigned char *drop = calloc( m->sn_nusers + 1, 1 );
	size_t i, j, idx, n = m->sn_nusers;
	char **g;
	int rc = AUTH0_ERR_NOMEM;

	if ( drop == NULL )
		return rc;
	for ( g = pa->pa_gone; g && *g; g++ ) {
		idx = auth0_model_user_index( m, *g );
		if ( idx == AUTH0_NOINDEX || drop[idx] )
			continue;
		if ( forget_before( pa, &bf[idx] ) )
			goto done;
		drop[idx] = 1;
	}
	for ( i = 0; i < f->sn_nusers; i++ ) {
		struct auth0_user *nu = &f->sn_users[i];
		idx = auth0_model_user_index( m, nu->us_id );
		if ( idx == AUTH0_NOINDEX || drop[idx] )
			continue;		/* appended below */
		if ( forget_before( pa, &bf[idx] ) )
			goto done;
		auth0_user_free( &m->sn_users[idx] );
		m->sn_users[idx] = *nu;
		memset( nu, 0, sizeof( *nu ) );
	}
	for ( i = j = 0; i < n; i++ ) {
		if ( drop[i] ) {
			auth0_user_free( &m->sn_users[i] );
			continue;
		}
		m->sn_users[j++] = m->sn_users[i];
	}
	m->sn_nusers = j;
	for ( i = 0; i < f->sn_nusers; i++ ) {
		if ( f->sn_users[i].us_id == NULL )
			continue;
		if ( auth0_model_append_user( m, &f->sn_users[i] ) )
			goto done;
		memset( &f->sn_users[i], 0, sizeof( f->sn_users[i] ) );
	}
	f->sn_nusers = 0;
	rc = AUTH0_OK;
done:
	free( drop );
	return rc;
}

/* The containers (groups, roles, clients, organizations and their role
 * entries) a member list names. */
static int
cdirty_alloc( struct auth0_patch *pa, const struct auth0_model *m )
{
	size_t n[AUTH0_ORGROLE + 1] = { 0, m->sn_ngroups, m->sn_nroles,
		m->sn_nclients, m->sn_norgs, m->sn_norgroles };
	int k;

	for ( k = AUTH0_GROUP; k <= AUTH0_ORGROLE; k++ )
		if ( ( pa->pa_cdirty[k] = calloc( n[k] + 1, 1 ) ) == NULL )
			return AUTH0_ERR_NOMEM;
	return AUTH0_OK;
}

static void
cdirty_mark( struct auth0_patch *pa, const struct auth0_ref *refs, size_t n )
{
	size_t i;

	for ( i = 0; i < n; i++ ) {
		unsigned k = refs[i].rf_kind;
		if ( k < AUTH0_GROUP || k > AUTH0_ORGROLE ||
				pa->pa_cdirty[k][refs[i].rf_idx] )
			continue;
		pa->pa_cdirty[k][refs[i].rf_idx] = 1;
		pa->pa_ncdirty[k]++;
	}
}

static int
same_memberof( const struct before *b, const struct auth0_user *u )
{
	size_t i;

	if ( b->bf_nmemberof != u->us_nmemberof )
		return 0;
	for ( i = 0; i < u->us_nmemberof; i++ )
		if ( b->bf_memberof[i].rf_kind != u->us_memberof[i].rf_kind ||
				b->bf_memberof[i].rf_idx != u->us_memberof[i].rf_idx )
			return 0;
	return 1;
}

static int
cmp_before( const void *a, const void *b )
{
	const struct before *x = a, *y = b;

	if ( x->bf_id == NULL || y->bf_id == NULL )
		return ( x->bf_id == NULL ) - ( y->bf_id == NULL );
	return strcmp( x->bf_id, y->bf_id );
}

/*
 * pa_dirty[i] for each user of the patched model: re-read, new, or its
 * DN or memberOf moved.  The old DNs of moved users go to pa_old_dns.
 */
static int
mark_dirty( struct auth0_patch *pa, struct auth0_model *m,
	struct before *bf, size_t nbf, char **fetched )
{
	size_t i, k = 0, nkept;

	pa->pa_dirty = calloc( m->sn_nusers + 1, 1 );
	if ( pa->pa_dirty == NULL || cdirty_alloc( pa, m ) )
		return AUTH0_ERR_NOMEM;
	/* ids still in bf sorted (replaced and removed ones last) */
	qsort( bf, nbf, sizeof( *bf ), cmp_before );
	for ( nkept = 0; nkept < nbf && bf[nkept].bf_id; nkept++ )
		;
	/* what replaced and removed users were members of */
	for ( i = nkept; i < nbf; i++ )
		cdirty_mark( pa, bf[i].bf_memberof, bf[i].bf_nmemberof );
	for ( i = 0; i < m->sn_nusers; i++ ) {
		struct auth0_user *u = &m->sn_users[i];
		int c = 1;

		while ( k < nkept && ( c = strcmp( bf[k].bf_id, u->us_id ) ) < 0 )
			k++;
		if ( k >= nkept || c != 0 ||
				( fetched && bsearch( &u->us_id, fetched,
					auth0_strv_len( fetched ), sizeof( char * ),
					cmp_str ) ) ) {
			pa->pa_dirty[i] = 1;
			pa->pa_ndirty++;
			cdirty_mark( pa, u->us_memberof, u->us_nmemberof );
			if ( k < nkept && c == 0 )
				cdirty_mark( pa, bf[k].bf_memberof,
					bf[k].bf_nmemberof );
			continue;
		}
		if ( !same_memberof( &bf[k], u ) || bf[k].bf_dn == NULL ||
				u->us_dn == NULL || strcmp( bf[k].bf_dn, u->us_dn ) ) {
			pa->pa_dirty[i] = 1;
			pa->pa_ndirty++;
			cdirty_mark( pa, u->us_memberof, u->us_nmemberof );
			cdirty_mark( pa, bf[k].bf_memberof, bf[k].bf_nmemberof );
			if ( bf[k].bf_dn && ( u->us_dn == NULL ||
					strcmp( bf[k].bf_dn, u->us_dn ) ) &&
					strv_push( &pa->pa_old_dns, bf[k].bf_dn ) )
				return AUTH0_ERR_NOMEM;
		}
	}
	return AUTH0_OK;
}

static const char *
wanted_uid( const struct auth0_user *u )
{
	return u->us_username ? u->us_username :
		u->us_email ? u->us_email : u->us_id;
}

static int
same_str( const char *a, const char *b )
{
	return ( a == NULL && b == NULL ) || ( a && b && strcmp( a, b ) == 0 );
}

static int
same_strv( char *const *a, char *const *b )
{
	size_t i, n = auth0_strv_len( a );

	if ( n != auth0_strv_len( b ) )
		return 0;
	for ( i = 0; i < n; i++ )
		if ( strcmp( a[i], b[i] ) )
			return 0;
	return 1;
}

/*
 * The common case: only users already held were re-read, and none of
 * what uids and memberships derive from changed (the uid they want, the
 * connection, the IdP groups), no role's members changed and nobody
 * went.  Then nothing but those users moves: their records are replaced
 * keeping uid, DN and memberOf, with no rebuild over the whole model.
 * Returns 1 when it did so, 0 when the general path is needed.
 */
static int
patch_in_place( struct auth0_patch *pa, struct auth0_model *m )
{
	struct auth0_model *f = &pa->pa_fetched;
	size_t i, idx;

	if ( pa->pa_nroles || ( pa->pa_gone && pa->pa_gone[0] ) )
		return 0;
	for ( i = 0; i < f->sn_nusers; i++ ) {
		const struct auth0_user *nu = &f->sn_users[i], *ou;
		idx = auth0_model_user_index( m, nu->us_id );
		if ( idx == AUTH0_NOINDEX )
			return 0;
		ou = &m->sn_users[idx];
		if ( strcmp( wanted_uid( ou ), wanted_uid( nu ) ) ||
				!same_str( ou->us_connection, nu->us_connection ) ||
				!same_strv( ou->us_idp_groups, nu->us_idp_groups ) )
			return 0;
	}
	/* no member list moves: no container to compare */
	pa->pa_dirty = calloc( m->sn_nusers + 1, 1 );
	if ( pa->pa_dirty == NULL || cdirty_alloc( pa, m ) )
		return -1;
	for ( i = 0; i < f->sn_nusers; i++ ) {
		struct auth0_user *nu = &f->sn_users[i], *ou;
		idx = auth0_model_user_index( m, nu->us_id );
		ou = &m->sn_users[idx];
		nu->us_uid = ou->us_uid;
		nu->us_uid_fallback = ou->us_uid_fallback;
		nu->us_dn = ou->us_dn;
		nu->us_memberof = ou->us_memberof;
		nu->us_nmemberof = ou->us_nmemberof;
		ou->us_uid = ou->us_dn = NULL;
		ou->us_memberof = NULL;
		auth0_user_free( ou );
		*ou = *nu;
		memset( nu, 0, sizeof( *nu ) );
		if ( !pa->pa_dirty[idx] )
			pa->pa_ndirty++;
		pa->pa_dirty[idx] = 1;
	}
	f->sn_nusers = 0;
	return 1;
}

/*
 * Applies pa to m (a flattened model with DNs, as a refresh left it) and
 * rebuilds what derives from it.  fetched: the user_ids re-read (sorted,
 * NULL-terminated).  Afterwards pa_dirty marks the users to compare and
 * pa_old_dns holds the DNs they (and removed users) had.  On an error
 * the model is unusable: the caller drops it and refreshes in full.
 */
int
auth0_patch_apply( struct auth0_patch *pa, struct auth0_model *m,
	char **fetched, auth0_fold_fn *fold, const struct auth0_mapconf *mc )
{
	struct before *bf = NULL;
	size_t i, nbf = m->sn_nusers;
	int rc = AUTH0_ERR_NOMEM;

	switch ( patch_in_place( pa, m ) ) {
	case 1:
		return AUTH0_OK;
	case -1:
		return AUTH0_ERR_NOMEM;
	}
	for ( i = 0; i < pa->pa_nroles; i++ ) {
		struct auth0_role *r = find_role( m, pa->pa_roles[i].pr_id );
		if ( r == NULL ) {
			rc = AUTH0_ERR_DATA;	/* a new role: refetch roles */
			goto done;
		}
		auth0_strv_free( r->ro_users );
		r->ro_users = pa->pa_roles[i].pr_users;
		pa->pa_roles[i].pr_users = NULL;
	}
	if ( ( bf = take_before( m ) ) == NULL )
		goto done;
	rc = patch_users( pa, m, bf );
	if ( rc == AUTH0_OK )
		rc = auth0_map_assign_uids( m, fold );
	if ( rc == AUTH0_OK )
		rc = auth0_flatten( m );
	if ( rc == AUTH0_OK )
		rc = auth0_map_prepare_dns( m, mc );
	if ( rc == AUTH0_OK )
		rc = mark_dirty( pa, m, bf, nbf, fetched );
done:
	for ( i = 0; bf && i < nbf; i++ ) {
		free( bf[i].bf_dn );
		free( bf[i].bf_memberof );
	}
	free( bf );
	return rc;
}

/* Heap bytes of a string vector (malloc_usable_size: what it holds). */
static size_t
strv_bytes( char **v )
{
	size_t n = 0;
	char **p;

	if ( v == NULL )
		return 0;
	for ( p = v; *p; p++ )
		n += malloc_usable_size( *p );
	return n + malloc_usable_size( v );
}

/*
 * The memory the users of a kept model hold (user records, their strings,
 * memberOf), for cn=Monitor and the benchmark: what the change feed keeps
 * between refreshes, per user.
 */
size_t
auth0_model_user_bytes( const struct auth0_model *m )
{
	size_t i, j, n = m->sn_users ? malloc_usable_size( m->sn_users ) : 0;

	for ( i = 0; i < m->sn_nusers; i++ ) {
		const struct auth0_user *u = &m->sn_users[i];
		char *const s[] = { u->us_id, u->us_connection, u->us_email,
			u->us_username, u->us_name, u->us_given, u->us_family,
			u->us_nickname, u->us_phone, u->us_created, u->us_updated,
			u->us_last_login, u->us_app_md, u->us_user_md, u->us_uid,
			u->us_dn };
		for ( j = 0; j < sizeof( s ) / sizeof( s[0] ); j++ )
			n += s[j] ? malloc_usable_size( s[j] ) : 0;
		n += strv_bytes( u->us_idp_groups );
		n += u->us_memberof ? malloc_usable_size( u->us_memberof ) : 0;
		for ( j = 0; u->us_mapped && u->us_mapped[j]; j++ )
			n += strv_bytes( u->us_mapped[j] );
		n += u->us_mapped ? malloc_usable_size( u->us_mapped ) : 0;
	}
	return n;
}
