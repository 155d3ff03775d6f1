/* pace.c - the pace of a refresh: phase times, stepping aside for clients */
/*
 * Called by the diff and the writer while a refresh runs: the phase
 * clock for the refresh's log line, and the yield that keeps a long
 * refresh from taking the CPU from searches and binds.
 */
#include "portable.h"

#include <ac/string.h>
#include <unistd.h>

#include "back-auth0.h"

/* Ends phase (0..AUTH0_PHASES-1) now: its time since the last mark. */
void
auth0_pace_phase( struct auth0_run *rn, int phase )
{
	struct timeval t;

	gettimeofday( &t, NULL );
	rn->rn_phase_ms[phase] += (long)( ( t.tv_sec - rn->rn_phase_t0.tv_sec ) *
		1000 + ( t.tv_usec - rn->rn_phase_t0.tv_usec ) / 1000 );
	rn->rn_phase_t0 = t;
}

/* 1 when a pool thread other than this refresh and its writer is busy. */
static int
clients_busy( struct auth0_run *rn )
{
	int active = 0, pending = 0;

	ldap_pvt_thread_pool_query( &connection_pool,
		LDAP_PVT_THREAD_POOL_PARAM_ACTIVE, &active );
	ldap_pvt_thread_pool_query( &connection_pool,
		LDAP_PVT_THREAD_POOL_PARAM_PENDING, &pending );
	/* this thread is one of them, and so is its writer task (write.c),
	 * queued or running */
	return active + pending - 1 -
		__atomic_load_n( &rn->rn_ai->ai_writers, __ATOMIC_RELAXED ) > 0;
}

/*
 * A refresh is background work: while clients keep slapd's other threads
 * busy it steps aside, sleeping three times as long as it has just worked,
 * so that on a small machine searches and binds keep most of the CPU.
 * With no client about it runs flat out.  Called often: every 64 calls it
 * looks whether a client is being served (one look would miss clients
 * whose operations are short: they are busy for a fraction of the time),
 * and at most every 20 ms it sleeps if one was.
 */
void
auth0_pace_yield( struct auth0_run *rn )
{
	struct timeval now;
	long us;

	if ( ++rn->rn_yield_n % 64 )
		return;
	if ( !rn->rn_yield_busy && clients_busy( rn ) )
		rn->rn_yield_busy = 1;
	gettimeofday( &now, NULL );
	if ( rn->rn_yield_t0.tv_sec == 0 ) {
		rn->rn_yield_t0 = now;
		return;
	}
	us = (long)( ( now.tv_sec - rn->rn_yield_t0.tv_sec ) * 1000000 +
		( now.tv_usec - rn->rn_yield_t0.tv_usec ) );
	if ( us < 20000 )
		return;
	if ( rn->rn_yield_busy ) {
		us = us < 100000 ? 3 * us : 300000;
		usleep( (useconds_t)us );
		rn->rn_yield_ms += us / 1000;
		rn->rn_yield_busy = 0;
	}
	gettimeofday( &rn->rn_yield_t0, NULL );
}
