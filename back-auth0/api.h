/* api.h - the Auth0 Management API and Authorization Extension clients */
/*
 * Slapd-free: these fill a struct auth0_model from the live APIs, through
 * a struct auth0_transport (http.h).  Reference: shared/docs/auth0-api.md.
 *
 *   apicall.c  one API call: token, rate limit, 429/5xx retries, 401 renew
 *   token.c    client-credentials tokens per audience, cached until shortly
 *              before expiry
 *   mgmt.c     users per connection (paging while <= 1000), roles and their
 *              members (checkpoint paging) and permissions, clients,
 *              connections
 *   export.c   users-export job: create, poll, download, gunzip, NDJSON
 *   authz.c    Authorization Extension: groups, roles, permissions
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
 * Fetches the whole tenant into m (which has sn_rules, sn_warn set):
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

#endif /* AUTH0_API_H */
