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
	char	*us_uid;		/* chosen by auth0_map_assign_uids() */
	int	us_uid_fallback;	/* 1 when a collision forced user_id */
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
	size_t			sn_skipped;	/* other connections */
	size_t			sn_bad;		/* malformed records */
	int			sn_complete;	/* every record was read */
	auth0_warn_fn		*sn_warn;	/* optional */
	void			*sn_warn_arg;
};

/* At most this many malformed records are reported one by one. */
#define AUTH0_MAX_WARNINGS	20

/* A plain entry: DN and attributes with string values. */
struct auth0_eattr {
	char	*ea_name;
	char	**ea_vals;
	int	ea_nvals;
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

/* json.c */
struct cJSON;
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

/* snapdir.c */
int auth0_snapdir_read_users( const char *dir,
	const struct auth0_select *sel, struct auth0_model *m,
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
int auth0_map_user( const struct auth0_user *u, long uidnumber,
	const struct auth0_mapconf *mc, struct auth0_entry *e );

/* entry.c */
void auth0_entry_init( struct auth0_entry *e );
void auth0_entry_free( struct auth0_entry *e );
int auth0_entry_add( struct auth0_entry *e, const char *name,
	const char *value );
struct auth0_eattr *auth0_entry_find( const struct auth0_entry *e,
	const char *name );
const char *auth0_entry_first( const struct auth0_entry *e,
	const char *name );
int auth0_eattr_equal( const struct auth0_eattr *a,
	const struct auth0_eattr *b );
int auth0_entry_digest( const struct auth0_entry *e,
	const char *const *names, unsigned char out[16] );

#endif /* AUTH0_MODEL_H */
