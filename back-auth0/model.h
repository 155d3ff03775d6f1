/* model.h - slapd-free types and prototypes of back-auth0's core */
/*
 * The core turns Auth0 JSON into a model of the tenant and the model into
 * plain entries (DN + attribute/value lists), and compares entries.  It
 * never includes slap.h, so the cmocka unit tests link it without slapd;
 * the slapd side (apply.c) turns struct auth0_entry into slapd Entries.
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
	struct auth0_ref *us_memberof;	/* set by auth0_flatten() */
	size_t	us_nmemberof;
};

/* auth0-map-attribute: an LDAP attribute filled from a JSON path. */
struct auth0_maprule {
	char	*mr_attr;
	char	*mr_path;	/* dotted: app_metadata.employee_id */
};

/* What a user is a member of: a group, role or client, by index. */
enum auth0_kind { AUTH0_GROUP = 1, AUTH0_ROLE, AUTH0_CLIENT };

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

/* An Authorization Extension group. */
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
	size_t			sn_cycles;	/* nesting cycles found */
	size_t			sn_skipped;	/* other connections */
	size_t			sn_bad;		/* malformed records */
	int			sn_complete;	/* every user record was read */
	unsigned		sn_failed;	/* AUTH0_RES_* not fetched whole */
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

/* At most this many malformed records are reported one by one. */
#define AUTH0_MAX_WARNINGS	20

/* A plain entry: DN and attributes with string values. */
struct auth0_eattr {
	char	*ea_name;
	char	**ea_vals;
	int	ea_nvals;
	int	ea_cap;		/* slots in ea_vals, NULL slot excluded */
};

struct auth0_entry {
	char			*en_dn;		/* pretty DN, RDN escaped */
	struct auth0_eattr	*en_attrs;
	int			en_nattrs;
	int			en_cap;
};

/* Settings the mapping needs (a pure function of model + these). */
struct auth0_mapconf {
	const char	*mc_suffix;		/* pretty suffix DN */
	long		mc_gid_default;		/* primary gidNumber */
	const char	*mc_home_prefix;	/* "/home/" */
	const char	*mc_shell;		/* "/bin/bash" */
};

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
size_t auth0_model_user_index( const struct auth0_model *m, const char *id );
#define AUTH0_NOINDEX	((size_t)-1)

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

/* map.c */
extern const char *const auth0_map_user_attrs[];
int auth0_map_assign_uids( struct auth0_model *m, auth0_fold_fn *fold );
char *auth0_map_fold_ascii( const char *s );
int auth0_map_rdn( const char *attr, const char *value, char **out );
void auth0_map_entryuuid( const char *key, char out[37] );
int auth0_map_gentime( const char *iso, char *out, size_t outlen );
int auth0_map_user( const struct auth0_model *m, const struct auth0_user *u,
	long uidnumber, const struct auth0_mapconf *mc, struct auth0_entry *e );
int auth0_map_assign_cns( struct auth0_model *m, auth0_fold_fn *fold );
int auth0_map_group( const struct auth0_model *m, const struct auth0_group *g,
	long gidnumber, const struct auth0_mapconf *mc, struct auth0_entry *e );
int auth0_map_role( const struct auth0_model *m, const struct auth0_role *r,
	long gidnumber, const struct auth0_mapconf *mc, struct auth0_entry *e );
int auth0_map_client( const struct auth0_model *m,
	const struct auth0_client *c, const struct auth0_mapconf *mc,
	struct auth0_entry *e );
char *auth0_map_dn( const struct auth0_model *m, enum auth0_kind kind,
	size_t idx, const struct auth0_mapconf *mc );
int auth0_map_prepare_dns( struct auth0_model *m,
	const struct auth0_mapconf *mc );
char *auth0_map_user_dn( const struct auth0_user *u,
	const struct auth0_mapconf *mc );
extern const char *const auth0_map_group_attrs[];
extern const char *const auth0_map_role_attrs[];
extern const char *const auth0_map_client_attrs[];

/* entry.c */
void auth0_entry_init( struct auth0_entry *e );
void auth0_entry_free( struct auth0_entry *e );
int auth0_entry_add( struct auth0_entry *e, const char *name,
	const char *value );
struct auth0_eattr *auth0_entry_find( const struct auth0_entry *e,
	const char *name );
int auth0_entry_has( const struct auth0_entry *e, const char *name,
	const char *value );
const char *auth0_entry_first( const struct auth0_entry *e,
	const char *name );
int auth0_eattr_equal( const struct auth0_eattr *a,
	const struct auth0_eattr *b );
int auth0_entry_digest( const struct auth0_entry *e,
	const char *const *names, unsigned char out[16] );

#endif /* AUTH0_MODEL_H */
