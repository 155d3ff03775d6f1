/* feedmode.c - whether the change feed runs, and the interval it sets */
/*
 * The change feed (feed.c) reads the tenant log between full refreshes
 * when auth0-change-feed is logs, the source is the API (no snapshot
 * directory) and read:logs was not refused.  The default
 * auth0-refresh-interval follows: 60 s with the feed, else 900 s.  Kept
 * apart so that config.c, monitor.c, refresh.c and feed.c all ask here
 * and none of them calls another back.  Callers hold ai_mutex.
 */
#include "portable.h"

#include "back-auth0.h"

/* 1 when refreshes between full ones read the log. */
int
auth0_feed_wanted( struct auth0_info *ai )
{
	return ai->ai_change_feed && ai->ai_domain &&
		( ai->ai_snapshot_dir == NULL || *ai->ai_snapshot_dir == '\0' ) &&
		!ai->ai_feed_noscope;
}

/*
 * auth0-refresh-interval, unless set: 60 s when the change feed reads the
 * API (a refresh is then a handful of requests), else 900 s.
 */
void
auth0_feed_interval( struct auth0_info *ai )
{
	if ( ai->ai_refresh_set )
		return;
	ai->ai_refresh_interval = auth0_feed_wanted( ai ) ?
		AUTH0_DEFAULT_FEED_REFRESH : AUTH0_DEFAULT_REFRESH;
}
