/* flatten.c - effective memberships of groups, roles and applications */
/*
 * The Authorization Extension's semantics (seeds/004, auth0-api.md 7):
 * a member of child group C of P is an effective member of P, at any
 * depth; a user whose connection and IdP group match a group's mapping is
 * a member of that group; roles on a group apply to its effective members;
 * a role scoped to an application gives its holders access to it.
 * Native groups (native.c) nest through members of member_type group the
 * same way, and pass the Management API roles assigned to them on to
 * their effective members.
 * Traversal visits each group once per root, so diamonds count a user once
 * and cycles end; cycles are counted and reported.  Pure: no slapd.
 */
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* Scratch of one flatten: marks stamped with an epoch, no clearing. */
struct flat {
	struct auth0_model	*fl_m;
	unsigned		*fl_umark;	/* per user */
	unsigned		*fl_gmark;	/* per group */
	size_t			*fl_out;	/* collected user indexes */
	size_t			fl_nout;
	size_t			*fl_queue;	/* groups to visit */
	unsigned		fl_epoch;
	size_t			**fl_mapped;	/* users placed by mappings */
	size_t			*fl_nmapped;
};

/* Groups by source, then id: an id names a group within its source. */
static int
cmp_group_id( const void *a, const void *b )
{
	const struct auth0_group *x = a, *y = b;

	if ( x->gr_source != y->gr_source )
		return x->gr_source - y->gr_source;
	return strcmp( x->gr_id, y->gr_id );
}

static int
cmp_size( const void *a, const void *b )
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static size_t
group_index( const struct auth0_model *m, int source, const char *id )
{
	struct auth0_group key, *g;

	if ( m->sn_ngroups == 0 )
		return AUTH0_NOINDEX;
	key.gr_source = source;
	key.gr_id = (char *)id;
	g = bsearch( &key, m->sn_groups, m->sn_ngroups, sizeof( key ),
		cmp_group_id );
	return g ? (size_t)( g - m->sn_groups ) : AUTH0_NOINDEX;
}

static void
collect( struct flat *f, size_t u )
{
	if ( u == AUTH0_NOINDEX || f->fl_umark[u] == f->fl_epoch )
		return;
	f->fl_umark[u] = f->fl_epoch;
	f->fl_out[f->fl_nout++] = u;
}

static void
collect_ids( struct flat *f, char *const *ids )
{
	for ( ; ids && *ids; ids++ )
		collect( f, auth0_model_user_index( f->fl_m, *ids ) );
}

/* Starts a new set: the epoch invalidates every earlier mark. */
static void
set_begin( struct flat *f )
{
	f->fl_epoch++;
	f->fl_nout = 0;
}

/* Hands the collected set over, sorted.  -1 when out of memory. */
static int
set_take( struct flat *f, struct auth0_uset *s )
{
	auth0_uset_free( s );
	s->ut_n = f->fl_nout;
	s->ut_idx = malloc( ( f->fl_nout + 1 ) * sizeof( size_t ) );
	if ( s->ut_idx == NULL )
		return -1;
	memcpy( s->ut_idx, f->fl_out, f->fl_nout * sizeof( size_t ) );
	auth0_sort( s->ut_idx, s->ut_n, sizeof( size_t ), cmp_size );
	return 0;
}

/*
 * A mapping's connectionName is the connection's name; the extension's
 * API also shows it as "name (strategy)": accept both.
 */
static int
mapping_matches( const struct auth0_mapping *mp, const struct auth0_user *u )
{
	size_t n;

	if ( u->us_connection == NULL ||
			!auth0_strv_has( u->us_idp_groups, mp->mp_group ) )
		return 0;
	if ( strcmp( mp->mp_connection, u->us_connection ) == 0 )
		return 1;
	n = strlen( u->us_connection );
	return strncmp( mp->mp_connection, u->us_connection, n ) == 0 &&
		strncmp( mp->mp_connection + n, " (", 2 ) == 0;
}

/* Users each group gets from its mappings (only users with IdP groups). */
static int
map_users( struct flat *f )
{
	struct auth0_model *m = f->fl_m;
	size_t g, u, k;

	for ( g = 0; g < m->sn_ngroups; g++ ) {
		if ( m->sn_groups[g].gr_nmappings == 0 )
			continue;
		set_begin( f );
		for ( u = 0; u < m->sn_nusers; u++ ) {
			if ( m->sn_users[u].us_idp_groups == NULL )
				continue;
			for ( k = 0; k < m->sn_groups[g].gr_nmappings; k++ )
				if ( mapping_matches( &m->sn_groups[g].gr_mappings[k],
						&m->sn_users[u] ) )
					collect( f, u );
		}
		f->fl_mapped[g] = malloc( ( f->fl_nout + 1 ) * sizeof( size_t ) );
		if ( f->fl_mapped[g] == NULL )
			return -1;
		memcpy( f->fl_mapped[g], f->fl_out, f->fl_nout * sizeof( size_t ) );
		f->fl_nmapped[g] = f->fl_nout;
	}
	return 0;
}

/* Effective members of group root: breadth-first over nested groups. */
static int
flatten_group( struct flat *f, size_t root )
{
	struct auth0_model *m = f->fl_m;
	size_t head = 0, tail = 0, i;

	set_begin( f );
	f->fl_queue[tail++] = root;
	f->fl_gmark[root] = f->fl_epoch;
	while ( head < tail ) {
		struct auth0_group *g = &m->sn_groups[f->fl_queue[head]];
		size_t gi = f->fl_queue[head++];
		char **c;

		collect_ids( f, g->gr_members );
		for ( i = 0; i < f->fl_nmapped[gi]; i++ )
			collect( f, f->fl_mapped[gi][i] );
		for ( c = g->gr_nested; c && *c; c++ ) {
			size_t ci = group_index( m, g->gr_source, *c );
			if ( ci == AUTH0_NOINDEX || f->fl_gmark[ci] == f->fl_epoch )
				continue;
			f->fl_gmark[ci] = f->fl_epoch;
			f->fl_queue[tail++] = ci;
		}
	}
	return set_take( f, &m->sn_groups[root].gr_flat );
}

/*
 * Marks the groups on a nesting cycle: g is on one when g is reachable
 * from one of its own children.
 */
static void
find_cycles( struct flat *f )
{
	struct auth0_model *m = f->fl_m;
	size_t g, head, tail;

	for ( g = 0; g < m->sn_ngroups; g++ ) {
		f->fl_epoch++;
		head = tail = 0;
		for ( char **c = m->sn_groups[g].gr_nested; c && *c; c++ ) {
			size_t ci = group_index( m, m->sn_groups[g].gr_source, *c );
			if ( ci != AUTH0_NOINDEX && f->fl_gmark[ci] != f->fl_epoch ) {
				f->fl_gmark[ci] = f->fl_epoch;
				f->fl_queue[tail++] = ci;
			}
		}
		while ( head < tail && !m->sn_groups[g].gr_in_cycle ) {
			size_t gi = f->fl_queue[head++];
			if ( gi == g ) {
				m->sn_groups[g].gr_in_cycle = 1;
				m->sn_cycles++;
				break;
			}
			for ( char **c = m->sn_groups[gi].gr_nested; c && *c; c++ ) {
				size_t ci = group_index( m,
					m->sn_groups[gi].gr_source, *c );
				if ( ci != AUTH0_NOINDEX &&
						f->fl_gmark[ci] != f->fl_epoch ) {
					f->fl_gmark[ci] = f->fl_epoch;
					f->fl_queue[tail++] = ci;
				}
			}
		}
	}
}

/*
 * Holders of r: direct ones and the effective members of the groups it is
 * assigned to (extension roles through extension groups, Management API
 * roles through native groups).
 */
static int
flatten_role( struct flat *f, struct auth0_role *r )
{
	struct auth0_model *m = f->fl_m;
	int source = r->ro_kind == AUTH0_ROLE_AUTHZ ? AUTH0_GSRC_AUTHZ :
		AUTH0_GSRC_NATIVE;
	size_t g, i;

	set_begin( f );
	collect_ids( f, r->ro_users );
	for ( g = 0; g < m->sn_ngroups; g++ ) {
		if ( m->sn_groups[g].gr_source != source ||
				!auth0_strv_has( m->sn_groups[g].gr_roles, r->ro_id ) )
			continue;
		for ( i = 0; i < m->sn_groups[g].gr_flat.ut_n; i++ )
			collect( f, m->sn_groups[g].gr_flat.ut_idx[i] );
	}
	return set_take( f, &r->ro_flat );
}

static int
flatten_client( struct flat *f, struct auth0_client *c )
{
	struct auth0_model *m = f->fl_m;
	size_t r, i;

	set_begin( f );
	for ( r = 0; r < m->sn_nroles; r++ ) {
		struct auth0_role *ro = &m->sn_roles[r];
		if ( ro->ro_client == NULL || strcmp( ro->ro_client, c->cl_id ) )
			continue;
		for ( i = 0; i < ro->ro_flat.ut_n; i++ )
			collect( f, ro->ro_flat.ut_idx[i] );
	}
	return set_take( f, &c->cl_flat );
}

/* An organization's members, and per role held there its holders. */
static int
flatten_orgs( struct flat *f )
{
	struct auth0_model *m = f->fl_m;
	size_t o, i;
	int rc = 0;

	for ( o = 0; o < m->sn_norgs && !rc; o++ ) {
		struct auth0_org *og = &m->sn_orgs[o];
		set_begin( f );
		for ( i = 0; i < og->og_nmembers; i++ )
			collect( f, auth0_model_user_index( m,
				og->og_members[i].om_user ) );
		rc = set_take( f, &og->og_flat );
	}
	for ( o = 0; o < m->sn_norgroles && !rc; o++ ) {
		struct auth0_orgrole *r = &m->sn_orgroles[o];
		struct auth0_org *og = &m->sn_orgs[r->or_org];
		set_begin( f );
		for ( i = 0; i < og->og_nmembers; i++ )
			if ( auth0_strv_has( og->og_members[i].om_roles,
					r->or_role ) )
				collect( f, auth0_model_user_index( m,
					og->og_members[i].om_user ) );
		rc = set_take( f, &r->or_flat );
	}
	return rc;
}

static int
add_ref( struct auth0_model *m, const struct auth0_uset *s,
	enum auth0_kind kind, size_t idx, size_t *fill )
{
	size_t i;

	for ( i = 0; i < s->ut_n; i++ ) {
		struct auth0_user *u = &m->sn_users[s->ut_idx[i]];
		if ( fill == NULL ) {
			u->us_nmemberof++;
			continue;
		}
		u->us_memberof[fill[s->ut_idx[i]]].rf_kind = (unsigned char)kind;
		u->us_memberof[fill[s->ut_idx[i]]++].rf_idx = idx;
	}
	return 0;
}

/* Inverts the memberships: each user's groups, roles and applications. */
static int
memberof( struct auth0_model *m )
{
	size_t *fill = calloc( m->sn_nusers + 1, sizeof( size_t ) );
	size_t i, pass;

	if ( fill == NULL )
		return -1;
	for ( i = 0; i < m->sn_nusers; i++ )
		m->sn_users[i].us_nmemberof = 0;
	for ( pass = 0; pass < 2; pass++ ) {
		size_t *fp = pass ? fill : NULL;
		for ( i = 0; i < m->sn_ngroups; i++ )
			add_ref( m, &m->sn_groups[i].gr_flat, AUTH0_GROUP, i, fp );
		for ( i = 0; i < m->sn_nroles; i++ )
			add_ref( m, &m->sn_roles[i].ro_flat, AUTH0_ROLE, i, fp );
		for ( i = 0; i < m->sn_nclients; i++ )
			add_ref( m, &m->sn_clients[i].cl_flat, AUTH0_CLIENT, i, fp );
		for ( i = 0; i < m->sn_norgs; i++ )
			add_ref( m, &m->sn_orgs[i].og_flat, AUTH0_ORG, i, fp );
		for ( i = 0; i < m->sn_norgroles; i++ )
			add_ref( m, &m->sn_orgroles[i].or_flat, AUTH0_ORGROLE, i,
				fp );
		for ( i = 0; pass == 0 && i < m->sn_nusers; i++ ) {
			struct auth0_user *u = &m->sn_users[i];
			free( u->us_memberof );
			u->us_memberof = calloc( u->us_nmemberof + 1,
				sizeof( *u->us_memberof ) );
			if ( u->us_memberof == NULL ) {
				free( fill );
				return -1;
			}
			u->us_nmemberof = 0;
		}
	}
	for ( i = 0; i < m->sn_nusers; i++ )
		m->sn_users[i].us_nmemberof = fill[i];
	free( fill );
	return 0;
}

static void
flat_free( struct flat *f )
{
	size_t g;

	for ( g = 0; f->fl_mapped && g < f->fl_m->sn_ngroups; g++ )
		free( f->fl_mapped[g] );
	free( f->fl_mapped );
	free( f->fl_nmapped );
	free( f->fl_umark );
	free( f->fl_gmark );
	free( f->fl_out );
	free( f->fl_queue );
}

/*
 * Computes gr_flat, ro_flat, cl_flat, og_flat, or_flat (orgs prepared by
 * auth0_orgs_prepare()), gr_in_cycle, sn_cycles and every user's
 * us_memberof.  Sorts users by id and groups by source and id.  Returns AUTH0_OK or
 * AUTH0_ERR_NOMEM (the model is then only partly flattened).
 */
int
auth0_flatten( struct auth0_model *m )
{
	struct flat f;
	size_t i;
	int rc = 0;

	memset( &f, 0, sizeof( f ) );
	f.fl_m = m;
	auth0_model_sort_users( m );
	auth0_sort( m->sn_groups, m->sn_ngroups, sizeof( *m->sn_groups ),
		cmp_group_id );
	f.fl_umark = calloc( m->sn_nusers + 1, sizeof( unsigned ) );
	f.fl_gmark = calloc( m->sn_ngroups + 1, sizeof( unsigned ) );
	f.fl_out = malloc( ( m->sn_nusers + 1 ) * sizeof( size_t ) );
	f.fl_queue = malloc( ( m->sn_ngroups + 1 ) * sizeof( size_t ) );
	f.fl_mapped = calloc( m->sn_ngroups + 1, sizeof( size_t * ) );
	f.fl_nmapped = calloc( m->sn_ngroups + 1, sizeof( size_t ) );
	if ( !f.fl_umark || !f.fl_gmark || !f.fl_out || !f.fl_queue ||
			!f.fl_mapped || !f.fl_nmapped || map_users( &f ) ) {
		flat_free( &f );
		return AUTH0_ERR_NOMEM;
	}
	m->sn_cycles = 0;
	find_cycles( &f );
	for ( i = 0; i < m->sn_ngroups && !rc; i++ )
		rc = flatten_group( &f, i );
	for ( i = 0; i < m->sn_nroles && !rc; i++ )
		rc = flatten_role( &f, &m->sn_roles[i] );
	for ( i = 0; i < m->sn_nclients && !rc; i++ )
		rc = flatten_client( &f, &m->sn_clients[i] );
	if ( !rc )
		rc = flatten_orgs( &f );
	if ( !rc )
		rc = memberof( m );
	flat_free( &f );
	return rc ? AUTH0_ERR_NOMEM : AUTH0_OK;
}
