/* map.h - the model as plain entries: back-auth0's mapping */
/*
 * Slapd-free: map.c turns the model (model.h) into plain entries (DN and
 * attribute/value lists), entry.c builds and fingerprints them.  The
 * slapd side (write.c) turns struct auth0_entry into slapd Entries; the
 * Auth0 clients never include this header.
 */
#ifndef AUTH0_MAP_H
#define AUTH0_MAP_H

#include "model.h"

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
	const char	*mc_base;		/* import base (auth0-base),
						 * NULL: mc_suffix */
};
#define AUTH0_MC_BASE( mc )	( (mc)->mc_base ? (mc)->mc_base : (mc)->mc_suffix )

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
int auth0_map_org( const struct auth0_model *m, const struct auth0_org *o,
	const struct auth0_mapconf *mc, struct auth0_entry *e );
int auth0_map_orgrole( const struct auth0_model *m,
	const struct auth0_orgrole *r, const struct auth0_mapconf *mc,
	struct auth0_entry *e );
extern const char *const auth0_map_org_attrs[];
extern const char *const auth0_map_orgrole_attrs[];

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
int auth0_entry_digest_sets( const struct auth0_entry *e,
	const char *const *names, const unsigned char *sets,
	unsigned char out[16] );

#endif /* AUTH0_MAP_H */
