/* api.h - the Auth0 Management API and Authorization Extension clients */
/*
 * Slapd-free: these fill a struct auth0_model from the live APIs, through
 * a struct auth0_transport (http.h).  Reference: shared/docs/auth0-api.md.
 *
 *   request.c  one HTTP request: rate limit, 429/5xx retries, errors, JSON
 *   token.c    client-credentials tokens per audience, cached until shortly
 *              before expiry (requests without a token)
 *   apicall.c  one API call: the audience's token, renewed once on 401
 *   userfeed.c users handed to the model (search pages, export lines)
 *   export.c   users-export job: create, poll, download, gunzip, NDJSON
 *   mgmt.c     users per connection (paging while <= 1000), roles and their
 *              members (checkpoint paging) and permissions, clients,
 *              connections
 *   authz.c    Authorization Extension: groups, roles, permissions
 *   nativeapi.c native groups and their members and roles, organizations
 *              and their members' roles, connections' enabled clients
 *   tenant.c   the whole tenant: every resource, failures isolated
 *
 * Calls go down that list only.
 */
#ifndef AUTH0_API_H
#define AUTH0_API_H

#include "model.h"
#include "http.h"

/* Settings of one tenant (copied by the caller; strings borrowed). */
struct auth0_api_conf {
	const char	*ac_base;		/* "https://DOMAIN" (no slash) */
	const char	*ac_client_id;
	const char	*ac_client_secret;
	const char	*ac_audience;		/* "https://DOMAIN/api/v2/" */
	const char	*ac_authz_url;		/* NULL: no extension */
	const char	*ac_authz_audience;	/* "urn:auth0-authz-api" */
	double		ac_rate;		/* requests per second, 0: none */
	int		ac_max_retries;		/* per call, for 429 and 5xx */
	double		ac_max_wait;		/* longest wait for a reset, s */
	double		ac_export_timeout;	/* longest export job, s */
	long		ac_low_speed;		/* export download: bytes/s ... */
	long		ac_low_speed_time;	/* ... over this many s */
	double		ac_poll_interval;	/* between job polls, s */
	long		ac_page_cap;		/* users reachable by paging: 1000 */
};

/* A cached access token for one audience. */
struct auth0_token {
	char	*tk_audience;
	char	*tk_value;	/* wiped before free */
	double	tk_expires;	/* epoch seconds */
};

/* Counters of one fetch (and across fetches for cn=Monitor). */
struct auth0_api_stats {
	unsigned long	as_requests;	/* HTTP requests sent */
	unsigned long	as_429;		/* 429 answers */
	unsigned long	as_retries;	/* calls repeated (429, 5xx, 401) */
	unsigned long	as_tokens;	/* tokens obtained */
	unsigned long	as_exports;	/* export jobs run */
};

/* Reports progress of a long import (users fetched / total). */
typedef void (auth0_progress_fn)( void *arg, const char *what,
	unsigned long done, unsigned long total );

struct auth0_api {
	struct auth0_api_conf	ap_conf;
	struct auth0_transport	*ap_tr;
	struct auth0_token	ap_mgmt_token;
	struct auth0_token	ap_authz_token;
	double			ap_next_slot;	/* rate limiter: next send time */
	struct auth0_api_stats	ap_stats;
	auth0_progress_fn	*ap_progress;	/* optional */
	void			*ap_progress_arg;
};

/* apicall.c */
void auth0_api_init( struct auth0_api *api, const struct auth0_api_conf *conf,
	struct auth0_transport *tr );
void auth0_api_destroy( struct auth0_api *api );

/*
 * tenant.c: fetches the whole tenant into m (which has sn_rules, sn_warn set):
 * users of the connections in sel (all connections when none), roles
 * with members and permissions, clients, and with ac_authz_url the
 * extension's groups, roles and permissions.  A resource that fails is
 * flagged in m->sn_failed (AUTH0_RES_*) and reported through m->sn_warn
 * with the status, the error and the missing scope when the API names it;
 * the other resources are still fetched.  Returns AUTH0_OK when every
 * resource was fetched, else the first error (errbuf says which).
 */
int auth0_api_fetch( struct auth0_api *api, const struct auth0_select *sel,
	struct auth0_model *m, char *errbuf );

/*
 * Below: shared by the API client files only (request.c, token.c,
 * apicall.c, userfeed.c, mgmt.c, export.c, authz.c, tenant.c) and their
 * unit tests.
 */

/* Errors of the API clients, after enum auth0_err (model.h). */
enum auth0_api_err {
	AUTH0_ERR_NETWORK = 32,	/* no HTTP answer: network, TLS, timeout */
	AUTH0_ERR_HTTP,		/* an HTTP error status (errbuf names it) */
	AUTH0_ERR_RATELIMIT,	/* still 429 after every retry */
	AUTH0_ERR_AUTH,		/* no token: credentials, grant, audience */
	AUTH0_ERR_JOB		/* export job failed, expired or too slow */
};

/* Which token a call carries. */
#define AUTH0_AUTH_NONE		0	/* none: /oauth/token, pre-signed URLs */
#define AUTH0_AUTH_MGMT		1	/* ac_audience */
#define AUTH0_AUTH_AUTHZ	2	/* ac_authz_audience */

/* One API call, for auth0_api_call(). */
struct auth0_call {
	const char		*ca_method;	/* "GET", "POST" */
	const char		*ca_base;	/* NULL: ac_base */
	const char		*ca_path;	/* appended to the base */
	const char *const	*ca_query;	/* name, value, ..., NULL */
	const char		*ca_what;	/* shown in errors; NULL: path */
	const char		*ca_body;	/* JSON text, may be NULL */
	int			ca_auth;	/* AUTH0_AUTH_* */
	int			ca_secret;	/* reply holds a secret: wipe it */
	auth0_http_sink		*ca_sink;	/* streamed body, no JSON */
	void			*ca_sink_arg;
	long			ca_low_speed;	/* > 0: see auth0_http_req */
	long			ca_low_speed_time;
	struct cJSON		*ca_json;	/* out: the parsed reply */
	long			ca_status;	/* out: the last HTTP status */
	size_t			ca_streamed;	/* out: bytes given to ca_sink */
};

/* Users handed to the model, from search pages or an export file. */
struct auth0_feed {
	struct auth0_api		*fd_api;
	struct auth0_model		*fd_m;
	const struct auth0_select	*fd_sel;
	const char			*fd_conn;	/* queried; NULL: all */
	unsigned long			fd_done;	/* users fed */
	unsigned long			fd_total;	/* expected; 0: unknown */
};

/* Users reported to ap_progress at every multiple of this. */
#define AUTH0_PROGRESS_STEP	10000

/* request.c */
int auth0_request( struct auth0_api *api, struct auth0_call *c,
	const char *token, char *errbuf );
char *auth0_api_escape( const char *s );

/* apicall.c */
int auth0_api_call( struct auth0_api *api, struct auth0_call *c,
	char *errbuf );
int auth0_api_get( struct auth0_api *api, struct auth0_call *c,
	const char *path, const char *const *query, char *errbuf );
void auth0_api_warn( struct auth0_model *m, int capped, const char *fmt,
	... ) __attribute__(( format( printf, 3, 4 ) ));
int auth0_api_result( struct auth0_model *m, int rc, const char *err,
	char *errbuf );

/* token.c */
int auth0_token_get( struct auth0_api *api, struct auth0_token *tk,
	const char **value, char *errbuf );
void auth0_token_drop( struct auth0_token *tk );
void auth0_token_free( struct auth0_token *tk );

/* mgmt.c */
int auth0_mgmt_users( struct auth0_api *api, const struct auth0_select *sel,
	struct auth0_model *m, char *errbuf );
int auth0_mgmt_roles( struct auth0_api *api, struct auth0_model *m,
	char *errbuf );
int auth0_mgmt_clients( struct auth0_api *api, struct auth0_model *m,
	char *errbuf );

/* userfeed.c */
int auth0_feed_user( struct auth0_feed *fd, const struct cJSON *obj,
	char *errbuf );
int auth0_mgmt_checkpoint( struct auth0_api *api, const char *path,
	const char *const *fixed, const char *take, const char *key,
	const char *pick, struct cJSON *out, char *errbuf );

/* nativeapi.c: each sets *res to the AUTH0_RES_* that failed */
int auth0_mgmt_connections( struct auth0_api *api, struct auth0_model *m,
	char *errbuf );
int auth0_mgmt_groups( struct auth0_api *api, struct auth0_model *m,
	unsigned *res, char *errbuf );
int auth0_mgmt_orgs( struct auth0_api *api, struct auth0_model *m,
	unsigned *res, char *errbuf );

/* export.c */
int auth0_export_users( struct auth0_api *api, const char *conn_id,
	struct auth0_feed *fd, char *errbuf );

/* authz.c */
int auth0_authz_fetch( struct auth0_api *api, struct auth0_model *m,
	char *errbuf );

/* logs.c: the change feed (incremental refresh) */

/* Resources only a whole refetch can bring up to date (ch_whole). */
#define AUTH0_CH_USERS		0x01	/* every user: a full refresh */
#define AUTH0_CH_ROLES		0x02
#define AUTH0_CH_CLIENTS	0x04
#define AUTH0_CH_CONNECTIONS	0x08
#define AUTH0_CH_GROUPS		0x10	/* native groups */
#define AUTH0_CH_ORGS		0x20	/* organizations */
#define AUTH0_CH_ALL		0x3f

/* What a run of log events asks to re-read. */
struct auth0_changes {
	char		**ch_users;	/* user_ids to re-read, sorted */
	unsigned char	*ch_forget;	/* per ch_users: drop cached passwords */
	size_t		ch_nusers;
	char		**ch_roles;	/* role ids whose members to re-read */
	size_t		ch_nroles;
	unsigned	ch_whole;	/* AUTH0_CH_* */
	char		ch_why[AUTH0_ERRLEN];	/* the first reason for it */
	unsigned long	ch_events;	/* events read */
	unsigned long	ch_skipped;	/* of connections not selected */
	unsigned long	ch_logins;	/* successful logins (not fetched) */
	unsigned long	ch_ignored;	/* nothing imported changed */
	unsigned long	ch_bad;		/* malformed events */
	char		*ch_checkpoint;	/* the newest log_id read, or NULL */
	char		*ch_newest_date;	/* its date (ISO-8601) */
};

/* 1 when the user_id is one the model already holds. */
typedef int (auth0_known_fn)( void *arg, const char *user_id );

void auth0_changes_init( struct auth0_changes *ch );
void auth0_changes_free( struct auth0_changes *ch );
long auth0_changes_user( const struct auth0_changes *ch, const char *id );
int auth0_logs_map( const struct cJSON *events,
	const struct auth0_select *sel, auth0_known_fn *known, void *arg,
	struct auth0_changes *ch );
int auth0_logs_valid_id( const char *s );
int auth0_logs_read( struct auth0_api *api, const char *from, size_t max,
	struct cJSON *out, int *more, long *status, char *errbuf );
int auth0_logs_head( struct auth0_api *api, char **log_id, char *errbuf );
int auth0_logs_user( struct auth0_api *api, const char *id,
	struct cJSON **user, char *errbuf );

/* mgmt.c: one role's members (user_ids) for the change feed */
int auth0_mgmt_role_members( struct auth0_api *api, const char *id,
	struct cJSON *out, long *status, char *errbuf );

#endif /* AUTH0_API_H */
