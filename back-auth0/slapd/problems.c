/* problems.c - per-entry problems, logged when they appear and clear */
/*
 * An odd user (a value its attribute's syntax rejects, a uid that
 * collides, an attribute the schema lacks) is met again by every refresh;
 * logging it each time fills the log with the same lines.  Each such
 * problem is reported here with its full text, which is its identity:
 * logged at loglevel any when it first appears, and once more when a
 * complete refresh no longer meets it; each refresh that met any logs a
 * count at loglevel stats.  A refresh that did not look at every entry
 * (it failed, or its source was unchanged) clears nothing.
 * Reports may come from the refresh thread and the writer task at once.
 * Code that builds entries without knowing its database (apply.c's value
 * checks) passes NULL: the refresh thread's database is then meant.
 */
#include "portable.h"

#include <ac/string.h>
#include <search.h>
#include <stdarg.h>

#include "back-auth0.h"

/* Most problems remembered per database; beyond, they are only counted. */
#define AUTH0_PROBLEMS_MAX	10000

struct auth0_problem {
	char	*pb_text;
	int	pb_seen;	/* met by the refresh under way */
};

struct auth0_problems {
	ldap_pvt_thread_mutex_t	ps_mutex;
	void			*ps_root;	/* tsearch of auth0_problem */
	unsigned long		ps_count;
	unsigned long		ps_new, ps_met, ps_over;	/* this run */
	/* auth0_problems_end's walk (twalk has no argument) */
	void			**ps_gone;
	unsigned long		ps_ngone;
};

/* The database whose refresh runs in this thread (auth0_problems_begin). */
static __thread struct auth0_info *current;

static int
cmp_problem( const void *a, const void *b )
{
	return strcmp( ( (const struct auth0_problem *)a )->pb_text,
		( (const struct auth0_problem *)b )->pb_text );
}

static void
problem_free( void *p )
{
	struct auth0_problem *pb = p;

	ch_free( pb->pb_text );
	ch_free( pb );
}

static struct auth0_problems *
problems( struct auth0_info *ai )
{
	/* created at db_open, before any refresh or write runs */
	return ai->ai_problems;
}

void
auth0_problems_open( struct auth0_info *ai )
{
	if ( ai->ai_problems )
		return;
	ai->ai_problems = ch_calloc( 1, sizeof( struct auth0_problems ) );
	ldap_pvt_thread_mutex_init( &ai->ai_problems->ps_mutex );
}

void
auth0_problems_free( struct auth0_info *ai )
{
	struct auth0_problems *ps = problems( ai );

	if ( ps == NULL )
		return;
	tdestroy( ps->ps_root, problem_free );
	ldap_pvt_thread_mutex_destroy( &ps->ps_mutex );
	ch_free( ps );
	ai->ai_problems = NULL;
}

/* Reports a problem with one entry: logged when it is new. */
void
auth0_problem( struct auth0_info *ai, const char *fmt, ... )
{
	struct auth0_problems *ps;
	struct auth0_problem key, *pb, **found;
	char text[1024];
	va_list ap;

	if ( ai == NULL )
		ai = current;
	va_start( ap, fmt );
	vsnprintf( text, sizeof( text ), fmt, ap );
	va_end( ap );
	ps = ai ? problems( ai ) : NULL;
	if ( ps == NULL ) {
		Debug( LDAP_DEBUG_ANY, "auth0: %s: %s\n", ai ?
			ai->ai_nsuffix.bv_val : "(no database)", text );
		return;
	}
	key.pb_text = text;
	ldap_pvt_thread_mutex_lock( &ps->ps_mutex );
	found = tfind( &key, &ps->ps_root, cmp_problem );
	if ( found ) {
		if ( !( *found )->pb_seen )
			ps->ps_met++;
		( *found )->pb_seen = 1;
	} else if ( ps->ps_count >= AUTH0_PROBLEMS_MAX ) {
		ps->ps_over++;
	} else {
		pb = ch_calloc( 1, sizeof( *pb ) );
		pb->pb_text = ch_strdup( text );
		pb->pb_seen = 1;
		if ( tsearch( pb, &ps->ps_root, cmp_problem ) == NULL ) {
			problem_free( pb );
		} else {
			ps->ps_count++;
			ps->ps_new++;
			ps->ps_met++;
			Debug( LDAP_DEBUG_ANY, "auth0: %s: %s\n",
				ai->ai_nsuffix.bv_val, text );
		}
	}
	ldap_pvt_thread_mutex_unlock( &ps->ps_mutex );
}

static void
unsee( const void *node, VISIT v, int depth )
{
	if ( v == postorder || v == leaf )
		( *(struct auth0_problem *const *)node )->pb_seen = 0;
}

/* A refresh starts: nothing met yet. */
void
auth0_problems_begin( struct auth0_info *ai )
{
	struct auth0_problems *ps = problems( ai );

	current = ai;
	if ( ps == NULL )
		return;
	ldap_pvt_thread_mutex_lock( &ps->ps_mutex );
	twalk( ps->ps_root, unsee );
	ps->ps_new = ps->ps_met = ps->ps_over = 0;
	ldap_pvt_thread_mutex_unlock( &ps->ps_mutex );
}

static struct auth0_problems *walking;

static void
collect_gone( const void *node, VISIT v, int depth )
{
	struct auth0_problem *pb = *(struct auth0_problem *const *)node;

	if ( ( v == postorder || v == leaf ) && !pb->pb_seen )
		walking->ps_gone[walking->ps_ngone++] = pb;
}

/*
 * The refresh ended; complete when it looked at every entry.  Problems
 * it did not meet again are logged as resolved and forgotten.
 * Refreshes never overlap, so the walk's static pointer is theirs.
 */
void
auth0_problems_end( struct auth0_info *ai, int complete )
{
	struct auth0_problems *ps = problems( ai );
	unsigned long i, gone = 0;

	current = NULL;
	if ( ps == NULL )
		return;
	ldap_pvt_thread_mutex_lock( &ps->ps_mutex );
	if ( complete && ps->ps_count > 0 ) {
		ps->ps_gone = ch_calloc( ps->ps_count, sizeof( void * ) );
		ps->ps_ngone = 0;
		walking = ps;
		twalk( ps->ps_root, collect_gone );
		walking = NULL;
		for ( i = 0; i < ps->ps_ngone; i++ ) {
			struct auth0_problem *pb = ps->ps_gone[i];
			Debug( LDAP_DEBUG_ANY, "auth0: %s: resolved: %s\n",
				ai->ai_nsuffix.bv_val, pb->pb_text );
			tdelete( pb, &ps->ps_root, cmp_problem );
			problem_free( pb );
			ps->ps_count--;
		}
		gone = ps->ps_ngone;
		ch_free( ps->ps_gone );
		ps->ps_gone = NULL;
	}
	if ( ps->ps_met || gone || ps->ps_over )
		Log( LDAP_DEBUG_STATS, LDAP_LEVEL_INFO, "auth0: %s: %lu entry "
			"problems met by this refresh (%lu new, %lu resolved%s); each "
			"is logged when it appears and when it clears\n",
			ai->ai_nsuffix.bv_val, ps->ps_met + ps->ps_over, ps->ps_new,
			gone, ps->ps_over ? ", more than can be remembered" : "" );
	ldap_pvt_thread_mutex_unlock( &ps->ps_mutex );
}
