/* back-auth0.h - slapd-facing types of back-auth0 */
/*
 * back-auth0 is the overlay "auth0" on a back-mdb database: it imports an
 * Auth0 tenant into entries stored by back-mdb (DESIGN.md).  This header
 * holds the per-database state and constants; prototypes are in
 * proto-auth0.h, the slapd-free core in model.h.
 */
#ifndef AUTH0_BACK_AUTH0_H
#define AUTH0_BACK_AUTH0_H

#include "portable.h"
#include "slap.h"
#include "model.h"

LDAP_BEGIN_DECL

#define AUTH0_DEFAULT_REFRESH		900	/* seconds */
#define AUTH0_DEFAULT_UID_LO		100000
#define AUTH0_DEFAULT_UID_HI		199999
#define AUTH0_DEFAULT_GID_LO		100000
#define AUTH0_DEFAULT_GID_HI		199999
#define AUTH0_DEFAULT_MAX_DELETE	10	/* percent of users */
#define AUTH0_DEFAULT_BATCH		256	/* writes per transaction */
#define AUTH0_DEFAULT_SHELL		"/bin/bash"
#define AUTH0_HOME_PREFIX		"/home/"

/* What one refresh did, for the log and cn=Monitor. */
struct auth0_stats {
	unsigned long	st_users;	/* users in the source */
	unsigned long	st_adds;
	unsigned long	st_mods;
	unsigned long	st_renames;
	unsigned long	st_dels;
	unsigned long	st_unchanged;
	unsigned long	st_errors;	/* entries that failed to apply */
	unsigned long	st_bad;		/* malformed source records */
};

/* One per overlay instance (per database). */
struct auth0_info {
	BackendDB		*ai_be;
	slap_overinst		*ai_on;
	struct berval		ai_nsuffix;	/* set at db_open */

	/* configuration */
	char			*ai_snapshot_dir;
	char			**ai_connections;	/* NULL-terminated */
	int			ai_nconnections;
	time_t			ai_refresh_interval;	/* 0 = at start only */
	unsigned long		ai_uid_lo, ai_uid_hi;
	unsigned long		ai_gid_lo, ai_gid_hi;
	unsigned long		ai_max_delete;
	int			ai_max_delete_pct;	/* ai_max_delete is % */
	int			ai_batch;

	/* runtime, under ai_mutex */
	ldap_pvt_thread_mutex_t	ai_mutex;
	struct re_s		*ai_task;
	int			ai_running;
	int			ai_force_delete;	/* one refresh */
	time_t			ai_last_attempt;
	time_t			ai_last_success;
	char			ai_last_error[AUTH0_ERRLEN];
	struct auth0_stats	ai_last;
	unsigned long		ai_refreshes;
};

/* The imported subtrees, below the suffix. */
#define AUTH0_OU_PEOPLE		"people"
#define AUTH0_OU_GROUPS		"groups"
#define AUTH0_OU_ROLES		"roles"
#define AUTH0_OU_APPS		"applications"

#include "proto-auth0.h"

LDAP_END_DECL

#endif /* AUTH0_BACK_AUTH0_H */
