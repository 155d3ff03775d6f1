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
#include "map.h"
#include "api.h"

LDAP_BEGIN_DECL

#define AUTH0_DEFAULT_REFRESH		900	/* seconds */
#define AUTH0_DEFAULT_UID_LO		100000
#define AUTH0_DEFAULT_UID_HI		199999
#define AUTH0_DEFAULT_GID_LO		100000
#define AUTH0_DEFAULT_GID_HI		199999
#define AUTH0_DEFAULT_MAX_DELETE	10	/* percent of users */
#define AUTH0_DEFAULT_BATCH		2048	/* writes per transaction */
/* ... and a transaction ends after this many values (big groups) */
#define AUTH0_BATCH_VALUES		65536UL
#define AUTH0_DEFAULT_SHELL		"/bin/bash"
#define AUTH0_DEFAULT_RATE		2.0	/* requests per second */
#define AUTH0_DEFAULT_TIMEOUT		30	/* seconds per request */
#define AUTH0_DEFAULT_EXPORT_TIMEOUT	3600	/* seconds per export job */
#define AUTH0_DEFAULT_AUTHZ_AUDIENCE	"urn:auth0-authz-api"
#define AUTH0_DEFAULT_BIND_TTL		300
#define AUTH0_DEFAULT_BIND_MAX_DN	5
#define AUTH0_DEFAULT_BIND_MAX_IP	20
#define AUTH0_DEFAULT_BIND_WINDOW	300
#define AUTH0_DEFAULT_BIND_POOL		0	/* derived from threads */
/* binds, second wave (issue 17) */
#define AUTH0_DEFAULT_BIND_TIMEOUT	10	/* seconds per bind request */
#define AUTH0_DEFAULT_BIND_MFA_TTL	30	/* a TOTP code's period */
#define AUTH0_DEFAULT_BIND_PUSH_TIMEOUT	30	/* seconds for an approval */
#define AUTH0_DEFAULT_EXPORT_LOW_SPEED	1024	/* bytes a second ... */
#define AUTH0_DEFAULT_EXPORT_LOW_TIME	30	/* ... over seconds */
/* the change feed (#15) */
#define AUTH0_DEFAULT_FEED_REFRESH	60	/* seconds, feed on */
#define AUTH0_DEFAULT_FULL_REFRESH	86400	/* seconds */
#define AUTH0_FEED_MAX_EVENTS		1000	/* per incremental refresh */

/* What a cn=config change leaves for auth0_cf_apply (config.c) to do. */
#define AUTH0_APPLY_TASK	0x1	/* auth0-sync, auth0-refresh-interval */
#define AUTH0_APPLY_BIND	0x2	/* the bind pool's settings */
#define AUTH0_APPLY_BASE	0x4	/* auth0-base: refresh now */

/* ai_bind_on: unset means on when auth0-domain is set (auth0_bind_wanted) */
#define AUTH0_BIND_UNSET	(-1)
#define AUTH0_BIND_OFF		0
#define AUTH0_BIND_REALM	1
#define AUTH0_HOME_PREFIX		"/home/"

/*
 * The containers of the imported tree, in the order they sync; the roles
 * held in an organization are entries below its entry in ou=organizations.
 */
enum auth0_ou {
	AUTH0_OU_USERS = 0,
	AUTH0_OU_GROUP,
	AUTH0_OU_ROLE,
	AUTH0_OU_CLIENT,
	AUTH0_OU_ORG,
	AUTH0_OU_ORGROLE,
	AUTH0_OU_N
};

/* What one refresh did to one container, for the log and cn=Monitor. */
struct auth0_stats {
	unsigned long	st_objects;	/* in the source */
	unsigned long	st_adds;
	unsigned long	st_mods;
	unsigned long	st_renames;
	unsigned long	st_dels;
	unsigned long	st_unchanged;
	unsigned long	st_errors;	/* entries that failed to apply */
	int		st_skipped;	/* its source failed: left alone */
};

/* Resources cn=Monitor reports on one by one (feed.c). */
enum auth0_feed_res {
	AUTH0_FEED_RES_USERS = 0,
	AUTH0_FEED_RES_ROLES,
	AUTH0_FEED_RES_CLIENTS,
	AUTH0_FEED_RES_AUTHZ,
	AUTH0_FEED_RES_LOGS,
	AUTH0_FEED_RES_GROUPS,		/* native groups and their members */
	AUTH0_FEED_RES_ORGS,		/* organizations and their members */
	AUTH0_FEED_RES_CONNS,		/* connections' applications */
	AUTH0_FEED_RES_N
};

/* One per overlay instance (per database). */
struct auth0_info {
	BackendDB		*ai_be;
	slap_overinst		*ai_on;
	struct berval		ai_nsuffix;	/* set at db_open */
	int			ai_open;	/* between db_open and db_close */
	unsigned		ai_apply;	/* AUTH0_APPLY_*, under ai_mutex */

	/* configuration */
	int			ai_sync;	/* 0: a replica, no refresh */
	char			*ai_snapshot_dir;
	char			*ai_domain;		/* host[:port] */
	char			*ai_client_id;
	char			*ai_secret_file;
	char			*ai_secret;		/* read at db_open or
							 * when the file is set
							 * over cn=config */
	char			*ai_audience;		/* NULL: derived */
	char			*ai_authz_url;
	char			*ai_authz_audience;	/* NULL: default */
	char			*ai_ca_file;
	double			ai_rate;
	long			ai_timeout;
	long			ai_export_timeout;	/* seconds */

	/* binds (bind.c) */
	int			ai_bind_on;	/* AUTH0_BIND_* */
	char			*ai_bind_client_id;
	char			*ai_bind_secret_file;
	char			*ai_bind_secret;	/* of ai_bind_secret_file */
	long			ai_bind_ttl;
	long			ai_bind_stale;
	char			ai_bind_sep;
	long			ai_bind_max_dn;
	long			ai_bind_max_ip;
	long			ai_bind_window;
	long			ai_bind_pool;
	struct auth0_bindpool	*ai_bindpool;	/* swapped under ai_mutex,
						 * reference counted */
	struct auth0_bindcache	*ai_bindcache;	/* db_open to db_close */
	unsigned long		ai_bind_hits;	/* counters, atomic */
	unsigned long		ai_bind_upstream;
	unsigned long		ai_bind_errors;
	unsigned long		ai_bind_throttled;
	unsigned long		ai_bind_stale_hits;
	/* binds, second wave (issue 17) */
	long			ai_bind_timeout;
	long			ai_bind_mfa_ttl;
	long			ai_bind_push_timeout;
	struct auth0_cidr	*ai_bind_trusted;	/* auth0-bind-trusted-ip */
	char			**ai_bind_trusted_str;	/* as configured */
	int			ai_bind_ntrusted;
	unsigned long		ai_bind_rejected;	/* over the budget */
	unsigned long		ai_bind_push_waits;
	long			ai_export_low_speed;	/* auth0-export-low-speed */
	long			ai_export_low_time;
	char			**ai_connections;	/* NULL-terminated */
	int			ai_nconnections;
	struct auth0_maprule	*ai_rules;		/* auth0-map-attribute */
	int			ai_nrules;
	char			**ai_retired;	/* attributes of rules deleted
						 * over cn=config, cleared
						 * by the next refresh */
	time_t			ai_refresh_interval;	/* 0 = at start only */
	unsigned long		ai_uid_lo, ai_uid_hi;
	unsigned long		ai_gid_lo, ai_gid_hi;
	unsigned long		ai_max_delete;
	int			ai_max_delete_pct;	/* ai_max_delete is % */
	int			ai_batch;

	/* cn=Monitor (monitor.c) */
	struct berval		ai_monitor_ndn;
	void			*ai_monitor_cb;

	/* the API session, touched by the refresh task only (source.c) */
	struct auth0_session	*ai_session;

	/* runtime, under ai_mutex */
	ldap_pvt_thread_mutex_t	ai_mutex;
	struct re_s		*ai_task;
	int			ai_running;
	int			ai_sync_applied;	/* the task follows */
	int			ai_force_delete;	/* one refresh */
	time_t			ai_last_attempt;
	time_t			ai_last_success;
	char			ai_last_error[AUTH0_ERRLEN];
	struct auth0_stats	ai_last[AUTH0_OU_N];
	unsigned long		ai_last_bad;	/* malformed records */
	unsigned		ai_last_failed;	/* AUTH0_RES_* */
	long			ai_last_ms;
	unsigned char		ai_clean_fp[16];	/* source of the last */
	int			ai_clean_fp_set;	/* clean snapshot run */
	int			ai_new_tokens;	/* refresh-now: ask anew */
	int			ai_writers;	/* a writer task queued or running */
	unsigned long		ai_last_cycles;
	unsigned long		ai_refreshes;
	struct auth0_api_stats	ai_last_api;	/* requests of the last run */
	struct auth0_api_stats	ai_api_total;

	/* the change feed (feed.c; #15): configuration, under ai_mutex */
	int			ai_change_feed;	/* auth0-change-feed logs */
	int			ai_refresh_set;	/* interval set by the admin */
	long			ai_full_interval;	/* seconds */
	int			ai_feed_want_full;	/* full-refresh-now */
	int			ai_feed_noscope;	/* read:logs refused */
	int			ai_feed_again;	/* more events: run again now */
	/* state: the model and checkpoint belong to the refresh task; the
	 * copies for cn=Monitor are under ai_mutex */
	struct auth0_model	*ai_feed_model;	/* of the last clean run */
	char			*ai_feed_checkpoint;	/* what it applied */
	time_t			ai_last_full;	/* last clean full refresh */
	char			ai_mon_checkpoint[72];
	long			ai_mon_lag;	/* seconds, -1: none yet */
	unsigned long		ai_mon_model_bytes;	/* the kept users */
	time_t			ai_res_success[AUTH0_FEED_RES_N];
	char			ai_res_error[AUTH0_FEED_RES_N][AUTH0_ERRLEN];
	/* operations (issue 18): the import base (base.c), the proxy */
	struct berval		ai_base;	/* auth0-base, pretty; NULL:
						 * the suffix */
	struct berval		ai_nbase;	/* normalized */
	int			ai_base_waiting;	/* "waits for the
						 * base's parent" logged */
	char			*ai_proxy;		/* auth0-proxy URL */
	char			*ai_proxy_cred_file;
	char			*ai_proxy_cred;		/* user:password */
	struct auth0_problems	*ai_problems;	/* problems.c */
	struct berval		ai_monitor_own;	/* the DN ai_monitor_ndn
						 * points to (monitor.c) */
	int			ai_monitor_entry;	/* an entry of its
						 * own, not the overlay's */
};

/* The imported subtrees, below the suffix. */
#define AUTH0_OU_PEOPLE		"people"
#define AUTH0_OU_GROUPS		"groups"
#define AUTH0_OU_ROLES		"roles"
#define AUTH0_OU_APPS		"applications"
#define AUTH0_OU_ORGS		"organizations"

/* A stored entry of the imported tree, found by its Auth0 id. */
struct auth0_stored {
	char		*sd_id;		/* auth0UserId, auth0GroupId, ... */
	struct berval	sd_ndn;
	unsigned long	sd_number;	/* uidNumber / gidNumber, 0 if none */
	unsigned char	sd_digest[16];
	int		sd_seen;
	int		sd_kind;	/* its source within the container
					 * (roles: 0 rbac, 1 authz; groups:
					 * 0 authz, 1 auth0 (native)) */
	int		sd_moved;	/* below an organization this
					 * refresh renames (holdback.c) */
};

struct auth0_index {
	void		*ix_root;	/* tsearch tree of auth0_stored */
	unsigned long	ix_count;
	unsigned long	ix_max_number;
	unsigned long	ix_lo, ix_hi;		/* the configured range */
	unsigned long	ix_max_in_range;	/* highest number within it */
	int		ix_err;
};

/* A stored entry that changes in this refresh (plan.c). */
struct auth0_plan_item {
	int			pi_ou;		/* enum auth0_ou */
	size_t			pi_idx;		/* the object in the model */
	struct auth0_stored	*pi_sd;
	struct berval		pi_ndn;		/* where it ends up */
	struct berval		pi_rdn, pi_nrdn;	/* new RDN, if renamed */
	int			pi_rename;
	int			pi_status;	/* of the rename, once written */
};

/* One refresh in progress: refresh.c drives it, diff.c plans (plan.c orders), write.c writes. */
/* Parts of a refresh, timed for the log: read, model, stored, write. */
#define AUTH0_PHASES	4

struct auth0_run {
	struct auth0_info	*rn_ai;
	Operation		*rn_op;
	struct auth0_model	rn_model;
	struct auth0_mapconf	rn_mc;
	struct auth0_index	rn_index[AUTH0_OU_N];
	struct auth0_valcache	*rn_vc;		/* valcache.c, per run */
	struct auth0_stats	rn_st[AUTH0_OU_N];
	const char		**rn_user_attrs;	/* compared on users */
	unsigned char		*rn_sets[AUTH0_OU_N];	/* which compare as
						 * sets (auth0_write_sets) */
	struct auth0_maprule	*rn_rules;	/* copies, owned by the run */
	int			rn_nrules;
	char			**rn_retired;	/* taken from ai_retired */
	unsigned long		rn_next_uid, rn_uid_lo, rn_uid_hi;
	unsigned long		rn_next_gid, rn_gid_lo, rn_gid_hi;
	unsigned long		rn_uid_mark, rn_gid_mark;	/* stored */
	size_t			rn_exhausted[2];	/* objects left out: no
						 * uid / gid number left */
	const char		*rn_exhausted_id[2];	/* the first of them */
	unsigned long		*rn_claimed;	/* uidNumbers given in metadata,
						 * sorted: not handed out */
	size_t			rn_nclaimed;
	unsigned long		rn_max_delete;
	int			rn_max_delete_pct;
	int			rn_force;
	int			rn_api_used;
	long			rn_ms;
	unsigned char		rn_fp[16];	/* settings + snapshot bytes */
	int			rn_fp_set;	/* rn_fp computed */
	int			rn_same;	/* skipped: source unchanged */
	long			rn_phase_ms[AUTH0_PHASES];	/* auth0_pace_phase */
	struct timeval		rn_phase_t0;
	struct timeval		rn_yield_t0;	/* auth0_pace_yield */
	unsigned long		rn_yield_n;
	int			rn_yield_busy;	/* a client seen since the
						 * last 20 ms mark */
	long			rn_yield_ms;	/* slept for clients */
	struct auth0_api_stats	rn_api;
	char			rn_err[AUTH0_ERRLEN];
	char			rn_res_err[AUTH0_ERRLEN];	/* a resource
					 * failed, its stored data kept */
	/* the change feed (feed.c) */
	int			rn_full;	/* a full refresh */
	int			rn_partial;	/* only rn_dirty users */
	unsigned char		*rn_dirty;	/* per model user, or NULL */
	unsigned char		*rn_cdirty[AUTH0_OU_N];	/* per group, role,
					 * client, organization (role):
					 * members moved (partial) */
	unsigned long		rn_ncdirty[AUTH0_OU_N];
	char			**rn_lookup;	/* stored DNs to index */
	char			**rn_gone;	/* user_ids confirmed gone, sorted */
	unsigned long		rn_stored_users;	/* the delete guard's base */
	char			*rn_checkpoint;	/* written with the last batch */
	char			*rn_head;	/* a full run's starting log_id */
	unsigned long		rn_events, rn_fetches;
	int			rn_feed_more;	/* more events are waiting */
	int			rn_resched;	/* the interval changed */
	long			rn_lag;		/* seconds, newest event */
	char			*rn_base;	/* auth0-base, NULL: suffix */
};

/* What auth0_feed_run leaves for the refresh to do. */
#define AUTH0_FEED_FULL		0
#define AUTH0_FEED_PARTIAL	1
#define AUTH0_FEED_DONE		2

#include "proto-auth0.h"

LDAP_END_DECL

#endif /* AUTH0_BACK_AUTH0_H */
