/* model.h - slapd-free types and prototypes of back-auth0's core */
/*
 * The core turns Auth0 JSON into a model of the tenant (this header) and
 * the model into plain entries (map.h).  It never includes slap.h, so the
 * cmocka unit tests link it without slapd.  The Auth0 clients fill the
 * model and see only this header.
 */
#ifndef AUTH0_MODEL_H
#define AUTH0_MODEL_H

#include <stddef.h>
#include <stdio.h>

#ifndef AUTH0_STATIC
#define AUTH0_STATIC static
#endif

#define AUTH0_ERRLEN	256

struct cJSON;

/* Core result codes: 0 is success; errbuf carries the detail. */
enum auth0_err {
	AUTH0_OK = 0,
	AUTH0_ERR_NOMEM,
	AUTH0_ERR_IO,		/* file missing or unreadable */
	AUTH0_ERR_JSON,		/* malformed or unexpected JSON */
	AUTH0_ERR_CONFIG,
	AUTH0_ERR_DATA		/* data that cannot be mapped */
};

/* A tri-state for JSON booleans that may be absent. */
#define AUTH0_UNSET	(-1)

/* One imported Auth0 user (fields copied out of the JSON). */
struct auth0_user {
	char	*us_id;			/* user_id, the stable key */
	char	*us_connection;		/* identities[0].connection */
	char	*us_email;
	char	*us_username;
	char	*us_name;
	char	*us_given;
	char	*us_family;
	char	*us_nickname;
	char	*us_phone;
	char	*us_created;		/* ISO-8601 as Auth0 sends it */
	char	*us_updated;
	char	*us_last_login;
	char	*us_app_md;		/* app_metadata as compact JSON */
	char	*us_user_md;
	long	us_logins;		/* -1 when absent */
	int	us_email_verified;	/* AUTH0_UNSET, 0 or 1 */
	int	us_blocked;
	char	**us_idp_groups;	/* "groups" of the IdP profile */
	char	***us_mapped;		/* per sn_rules entry, values */
	char	*us_uid;		/* chosen by auth0_map_assign_uids() */
	char	*us_dn;			/* auth0_map_prepare_dns(), or NULL */
	int	us_uid_fallback;	/* 1 when a collision forced user_id */
	long	us_uidnumber;		/* from metadata, checked by the */
	long	us_gidnumber;		/* slapd side; 0: none */
	struct auth0_ref *us_memberof;	/* set by auth0_flatten() */
	size_t	us_nmemberof;
};

/* auth0-map-attribute: an LDAP attribute filled from a JSON path. */
struct auth0_maprule {
	char	*mr_attr;
	char	*mr_path;	/* dotted: app_metadata.employee_id */
};

/* What a user is a member of: a group, role or client, by index. */
enum auth0_kind { AUTH0_GROUP = 1, AUTH0_ROLE, AUTH0_CLIENT, AUTH0_ORG,
	AUTH0_ORGROLE };

struct auth0_ref {
	unsigned char	rf_kind;	/* enum auth0_kind */
	size_t		rf_idx;
};

/* A set of users (indexes into sn_users), sorted and unique. */
struct auth0_uset {
	size_t	*ut_idx;
	size_t	ut_n;
};

/* An Authorization Extension group mapping: IdP group -> this group. */
struct auth0_mapping {
	char	*mp_connection;
	char	*mp_group;
};

/* Where a group comes from (auth0GroupSource). */
enum auth0_group_source { AUTH0_GSRC_AUTHZ = 0, AUTH0_GSRC_NATIVE };

/*
 * An Authorization Extension group, or a native group (GET /api/v2/groups,
 * native.c): for those gr_nested are the members of member_type group and
 * gr_roles Management API role ids.
 */
struct auth0_group {
	char			*gr_id;
	char			*gr_name;
	char			*gr_desc;
	char			**gr_members;	/* user_ids, direct */
	char			**gr_nested;	/* child group ids */
	char			**gr_roles;	/* extension role ids */
	struct auth0_mapping	*gr_mappings;
	size_t			gr_nmappings;
	struct auth0_uset	gr_flat;	/* effective members */
	int			gr_in_cycle;
	char			*gr_cn;
	char			*gr_dn;		/* as us_dn */
	int			gr_source;	/* enum auth0_group_source */
	char			*gr_type;	/* connection|organization|tenant */
	char			*gr_conn_id;	/* connection_id */
	char			*gr_external;	/* external_id */
};

/* A Management API (RBAC) role or an Authorization Extension role. */
enum auth0_role_kind { AUTH0_ROLE_RBAC = 1, AUTH0_ROLE_AUTHZ };

struct auth0_role {
	char			*ro_id;
	char			*ro_name;
	char			*ro_desc;
	int			ro_kind;	/* enum auth0_role_kind */
	char			*ro_client;	/* client_id it is scoped to */
	char			**ro_perms;	/* permission names */
	char			**ro_users;	/* user_ids holding it directly */
	struct auth0_uset	ro_flat;	/* direct and through groups */
	char			*ro_cn;
	char			*ro_dn;
};

/* An application (Management API client). */
struct auth0_client {
	char			*cl_id;		/* client_id */
	char			*cl_name;
	char			*cl_desc;
	char			*cl_type;	/* app_type */
	struct auth0_uset	cl_flat;	/* users reaching it */
	char			*cl_cn;
	char			*cl_dn;
	char			**cl_conns;	/* names of enabled connections */
};

/* A connection: its id, name and enabled clients (connections.json). */
struct auth0_conn {
	char	*cn_id;
	char	*cn_name;
	char	**cn_clients;	/* client_ids */
};

/* An organization member and the role ids it holds there. */
struct auth0_orgmember {
	char	*om_user;
	char	**om_roles;
};

/* An organization (GET /api/v2/organizations plus its members). */
struct auth0_org {
	char			*og_id;
	char			*og_name;
	char			*og_display;
	struct auth0_orgmember	*og_members;
	size_t			og_nmembers;
	char			**og_rids;	/* roles held there, by id */
	char			**og_rnames;	/* their names, same order */
	struct auth0_uset	og_flat;
	char			*og_dn;
};

/* A role held in an organization: cn=<role>,cn=<org>,ou=organizations. */
struct auth0_orgrole {
	size_t			or_org;		/* index into sn_orgs */
	char			*or_role;	/* role id */
	char			*or_name;	/* role name */
	char			*or_key;	/* "<org id>/<role id>" */
	struct auth0_uset	or_flat;
	char			*or_cn;
	char			*or_dn;
};

/* Which users a source keeps: the connections named, or all if none. */
struct auth0_select {
	char	**se_connections;	/* NULL-terminated, or NULL */
};

/* Receives one warning about the data (already formatted, no newline). */
typedef void (auth0_warn_fn)( void *arg, const char *msg );

struct auth0_model {
	struct auth0_user	*sn_users;
	size_t			sn_nusers;
	size_t			sn_cap;
	struct auth0_group	*sn_groups;
	size_t			sn_ngroups;
	struct auth0_role	*sn_roles;
	size_t			sn_nroles;
	struct auth0_client	*sn_clients;
	size_t			sn_nclients;
	struct auth0_conn	*sn_conns;	/* native.c */
	size_t			sn_nconns;
	struct auth0_org	*sn_orgs;	/* sorted by id (native.c) */
	size_t			sn_norgs;
	struct auth0_orgrole	*sn_orgroles;	/* auth0_orgs_prepare() */
	size_t			sn_norgroles;
	size_t			sn_cycles;	/* nesting cycles found */
	size_t			sn_skipped;	/* other connections */
	size_t			sn_bad;		/* malformed records */
	int			sn_complete;	/* every user record was read */
	unsigned		sn_failed;	/* AUTH0_RES_* not fetched whole */
	unsigned		sn_let_go;	/* failed, nothing stored of them */
	const struct auth0_maprule *sn_rules;	/* set before reading */
	size_t			sn_nrules;
	auth0_warn_fn		*sn_warn;	/* optional */
	void			*sn_warn_arg;
};

/* Resources a source fetches; a failed one keeps its stored data. */
#define AUTH0_RES_USERS		0x01
#define AUTH0_RES_ROLES		0x02
#define AUTH0_RES_CLIENTS	0x04
#define AUTH0_RES_AUTHZ		0x08
#define AUTH0_RES_GROUPS	0x10	/* native groups, read:groups */
#define AUTH0_RES_GROUP_MEMBERS	0x20	/* read:group_members */
#define AUTH0_RES_ORGS		0x40	/* read:organizations */
#define AUTH0_RES_ORG_MEMBERS	0x80	/* read:organization_members(_roles) */
#define AUTH0_RES_CONNS		0x100	/* connections' enabled clients */

/* At most this many malformed records are reported one by one. */
#define AUTH0_MAX_WARNINGS	20

/* Case-folds a uid for collision checks; returns malloc'd text. */
typedef char *(auth0_fold_fn)( const char *s );

/* strv.c: NULL-terminated string vectors */
char **auth0_strv_from_json( const struct cJSON *arr, const char *member );
size_t auth0_strv_len( char *const *v );
int auth0_strv_has( char *const *v, const char *s );
void auth0_strv_free( char **v );
void auth0_uset_free( struct auth0_uset *s );
void auth0_sort( void *base, size_t n, size_t size,
	int (*cmp)( const void *, const void * ) );

/* json.c */
const char *auth0_json_str( const struct cJSON *o, const char *key );
int auth0_json_bool( const struct cJSON *o, const char *key );
long auth0_json_long( const struct cJSON *o, const char *key, long dflt );
char *auth0_json_compact( const struct cJSON *o, const char *key );

/* model.c */
void auth0_model_init( struct auth0_model *m );
void auth0_model_free( struct auth0_model *m );
int auth0_model_selected( const struct auth0_select *sel,
	const char *connection );
int auth0_model_add_user( struct auth0_model *m, const struct cJSON *obj,
	const struct auth0_select *sel, char *errbuf );
int auth0_user_parse( const struct cJSON *obj, struct auth0_user *u,
	char *errbuf );
void auth0_user_free( struct auth0_user *u );
char **auth0_json_path_values( const struct cJSON *obj, const char *path );
int auth0_path_valid( const char *path );
long auth0_user_mapped_number( const struct auth0_model *m,
	const struct auth0_user *u, const char *attr );
int auth0_model_add_rbac_roles( struct auth0_model *m,
	const struct cJSON *arr, char *errbuf );
int auth0_model_add_clients( struct auth0_model *m, const struct cJSON *arr,
	char *errbuf );
int auth0_model_add_authz( struct auth0_model *m, const struct cJSON *exp,
	char *errbuf );
void auth0_model_sort_users( struct auth0_model *m );
void auth0_group_free( struct auth0_group *g );
void auth0_org_free( struct auth0_org *og );
void auth0_orgroles_free( struct auth0_model *m );
void *auth0_grow( void *arr, size_t n, size_t size );
size_t auth0_model_user_index( const struct auth0_model *m, const char *id );
#define AUTH0_NOINDEX	((size_t)-1)

/* native.c: native groups, organizations, connections */
int auth0_model_add_native_groups( struct auth0_model *m,
	const struct cJSON *arr, char *errbuf );
int auth0_model_add_orgs( struct auth0_model *m, const struct cJSON *arr,
	char *errbuf );
int auth0_model_add_connections( struct auth0_model *m,
	const struct cJSON *arr, char *errbuf );
const char *auth0_model_conn_name( const struct auth0_model *m,
	const char *id );
int auth0_orgs_prepare( struct auth0_model *m, auth0_fold_fn *fold );

int auth0_model_append_user( struct auth0_model *m,
	const struct auth0_user *u );

/* patch.c: the change feed's patch of a kept model */
struct auth0_mapconf;	/* map.h */

struct auth0_patch_role {
	char	*pr_id;
	char	**pr_users;	/* user_ids, NULL-terminated */
};

struct auth0_patch {
	struct auth0_model	pa_fetched;	/* users re-read (selected) */
	char			**pa_gone;	/* user_ids gone */
	struct auth0_patch_role	*pa_roles;
	size_t			pa_nroles;
	unsigned char		*pa_dirty;	/* out: per user of the model */
	size_t			pa_ndirty;
	unsigned char		*pa_cdirty[AUTH0_ORGROLE + 1];	/* out: per
					 * group, role, client, organization
					 * and organization role (by
					 * auth0_kind): its members moved */
	size_t			pa_ncdirty[AUTH0_ORGROLE + 1];
	char			**pa_old_dns;	/* out: DNs before the patch */
};

void auth0_patch_init( struct auth0_patch *pa );
void auth0_patch_free( struct auth0_patch *pa );
int auth0_patch_gone( struct auth0_patch *pa, const char *id );
int auth0_patch_role( struct auth0_patch *pa, const char *id,
	char **members );
int auth0_patch_apply( struct auth0_patch *pa, struct auth0_model *m,
	char **fetched, auth0_fold_fn *fold,
	const struct auth0_mapconf *mc );
size_t auth0_model_user_bytes( const struct auth0_model *m );

/* flatten.c */
int auth0_flatten( struct auth0_model *m );

/* cfgparse.c: directive values (0 acceptable, -1 not; see the file) */
#define AUTH0_CFG_ID_MAX	2147483647UL	/* uid/gid ranges */
#define AUTH0_CFG_RATE_MAX	1000		/* requests per second */
#define AUTH0_CFG_URL_MAX	2048
#define AUTH0_CFG_CONN_MAX	128		/* a connection name */
#define AUTH0_CFG_ATTR_MAX	128		/* a map-attribute attribute */
#define AUTH0_CFG_PATH_MAX	256		/* a map-attribute JSON path */
int auth0_cfg_ulong( const char *s, unsigned long *out );
int auth0_cfg_number( const char *s, long min, long max, long *out );
int auth0_cfg_range( const char *s, unsigned long *lo, unsigned long *hi );
int auth0_cfg_max_delete( const char *s, unsigned long *v, int *pct );
int auth0_cfg_rate( const char *s, double *out );
void auth0_cfg_rate_str( double rate, char *buf, size_t len );
int auth0_cfg_throttle( const char *dn, const char *ip, const char *window,
	long out[3] );
int auth0_cfg_otp_separator( const char *s, char *out );
int auth0_cfg_bind_mode( const char *s );
int auth0_cfg_text( const char *s );
int auth0_cfg_token( const char *s );
int auth0_cfg_abspath( const char *s );
int auth0_cfg_domain( const char *s );
int auth0_cfg_https_url( const char *s );
int auth0_cfg_proxy_url( const char *s );
int auth0_cfg_connection( const char *s );
int auth0_cfg_attr_name( const char *s );
int auth0_cfg_reserved_attr( const char *name );
int auth0_cfg_map_rule( const char *attr, const char *path );

/* auth0-bind-trusted-ip: an IPv4 or IPv6 network, "addr[/prefix]". */
struct auth0_cidr {
	int		ci_family;	/* 4 or 6 */
	unsigned char	ci_addr[16];	/* network order, host bits zero */
	int		ci_bits;	/* prefix length */
};
int auth0_cfg_cidr( const char *s, struct auth0_cidr *out );
/* 1 when ip (a textual address, IPv4-mapped IPv6 too) is inside c. */
int auth0_cidr_match( const struct auth0_cidr *c, const char *ip );

/* snapdir.c */
int auth0_snapdir_read_users( const char *dir,
	const struct auth0_select *sel, struct auth0_model *m,
	char *errbuf );
struct auth0_digest;
int auth0_snapdir_fingerprint( const char *dir, struct auth0_digest *d );
int auth0_snapdir_read_tenant( const char *dir, struct auth0_model *m,
	char *errbuf );
int auth0_snapdir_read_stream( FILE *fp, const char *name,
	const struct auth0_select *sel, struct auth0_model *m );

#endif /* AUTH0_MODEL_H */
