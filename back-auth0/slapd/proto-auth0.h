/* proto-auth0.h - cross-file prototypes of back-auth0 (slapd side) */
#ifndef AUTH0_PROTO_AUTH0_H
#define AUTH0_PROTO_AUTH0_H

LDAP_BEGIN_DECL

struct auth0_writer;
struct auth0_valcache;

/* init.c */
int auth0_initialize( void );
extern BI_db_init	auth0_db_init;
extern BI_db_open	auth0_db_open;
extern BI_db_close	auth0_db_close;
extern BI_db_destroy	auth0_db_destroy;
extern BI_db_config	auth0_db_config;

/* base.c */
struct berval *auth0_base_ndn( struct auth0_info *ai );
struct auth0_info *auth0_base_info( BackendDB *be );
int auth0_base_set( struct auth0_info *ai, const char *dn,
	struct berval *suffix, char *err, size_t errlen );
char *auth0_base_copy( struct auth0_info *ai, BackendDB *be );
int auth0_base_in( struct auth0_info *ai, struct berval *ndn, const char *ou,
	int direct );

/* problems.c */
void auth0_problems_open( struct auth0_info *ai );
void auth0_problems_free( struct auth0_info *ai );
void auth0_problem( struct auth0_info *ai, const char *fmt, ... )
	LDAP_GCCATTR((format(printf, 2, 3)));
void auth0_problems_begin( struct auth0_info *ai );
void auth0_problems_end( struct auth0_info *ai, int complete );

/* version.c */
int auth0_version_check( void );

/* trace.c */
void auth0_trace_http( void *arg, const char *method, const char *host,
	const char *path, long status, long ms, const char *error );

/* bind.c */
extern BI_op_bind	auth0_op_bind;
void auth0_bind_apply( struct auth0_info *ai );
void auth0_bind_drop( struct auth0_info *ai );
int auth0_bind_wanted( struct auth0_info *ai );

/* config.c */
int auth0_config_init( slap_overinst *on );
void auth0_config_free( struct auth0_info *ai );
void auth0_config_defaults( struct auth0_info *ai );

/* secret.c */
int auth0_secret_read( const char *path, const char *directive, char **out,
	char *errbuf, size_t errlen );
void auth0_secret_free( char **secret );

/* write.c */
int auth0_write_begin( struct auth0_info *ai, Operation *op,
	struct auth0_valcache *vc, struct auth0_writer **app );
int auth0_write_add( struct auth0_writer *ap, struct auth0_entry *e,
	const char *uuid );
int auth0_write_update( struct auth0_writer *ap, struct berval *ndn,
	const struct auth0_entry *want, const char *const *managed,
	int rename );
int auth0_write_delete( struct auth0_writer *ap, struct berval *ndn );
int auth0_write_modify( struct auth0_writer *ap, struct berval *ndn,
	const struct auth0_entry *want, const char *const *managed,
	const char *key, const char *id );
int auth0_write_rename( struct auth0_writer *ap, struct berval *ndn,
	struct berval *newrdn, struct berval *nnewrdn, int *status );
void auth0_write_barrier( struct auth0_writer *ap );
int auth0_write_end( struct auth0_writer *ap, int commit );
void auth0_write_sets( struct auth0_valcache *vc, const char *const *names,
	unsigned char *sets );
int auth0_write_entry_digest( struct auth0_valcache *vc, Entry *e,
	const char *const *names, unsigned char out[16] );

/* tree.c */
int auth0_tree_containers( struct auth0_info *ai, Operation *op,
	const char *base );
int auth0_tree_get_counter( Operation *op, const char *dn,
	const char *attr, unsigned long *out );
int auth0_tree_set_counter( struct auth0_writer *ap, const char *dn,
	const char *attr, unsigned long val );
int auth0_tree_set_checkpoint( struct auth0_writer *ap, const char *suffix,
	const char *checkpoint );

/* valcache.c */
struct auth0_valcache *auth0_valcache_new( void );
void auth0_valcache_free( struct auth0_valcache *vc );
AttributeDescription *auth0_valcache_ad( struct auth0_valcache *vc,
	const char *name, const char **text );
void auth0_valcache_put_dn( struct auth0_valcache *vc, MatchingRule *mr,
	const char *value, struct berval *norm );
void auth0_valcache_seed_dn( struct auth0_valcache *vc, const char *value,
	struct berval *norm );
int auth0_valcache_dn( struct auth0_valcache *vc, AttributeDescription *ad,
	struct berval *value, struct berval *norm );

/* feed.c (the change feed) */
int auth0_feed_run( struct auth0_run *rn, char **conns );
void auth0_feed_finish( struct auth0_run *rn, int clean );
void auth0_feed_close( struct auth0_info *ai );

/* feedmode.c */
int auth0_feed_wanted( struct auth0_info *ai );
void auth0_feed_interval( struct auth0_info *ai );

/* fold.c */
char *auth0_fold_uid( const char *s );

/* monitor.c */
int auth0_monitor_open( struct auth0_info *ai, BackendDB *be );
void auth0_monitor_close( struct auth0_info *ai );

/* readonly.c */
extern BI_op_add	auth0_op_write;
void auth0_readonly_mark( Operation *op, OpExtra *oex );
void auth0_readonly_unmark( Operation *op, OpExtra *oex );

/* pace.c */
void auth0_pace_phase( struct auth0_run *rn, int phase );
void auth0_pace_yield( struct auth0_run *rn );

/* intop.c */
void auth0_intop_init( struct auth0_info *ai, Connection *conn,
	OperationBuffer *opbuf, void *ctx, Operation **opp );

/* source.c */
int auth0_source_fetch( struct auth0_run *rn, const char *dir, char **conns );
void auth0_source_close( struct auth0_info *ai );
struct auth0_api *auth0_source_api( struct auth0_run *rn );

/* diff.c */
int auth0_diff_run( struct auth0_run *rn );
void auth0_diff_free( struct auth0_run *rn );
const char *auth0_diff_ou( enum auth0_ou ou );

/* holdback.c */
void auth0_holdback_native( struct auth0_run *rn );
void auth0_holdback_keep_native( struct auth0_run *rn );
void auth0_holdback_org_moved( struct auth0_run *rn, struct berval *old,
	const char *newdn );

/* delta.c */
Modifications *auth0_delta_mods( AttributeDescription *ad, Attribute *a,
	BerVarray vals, BerVarray nvals, int n );

/* ids.c */
void auth0_ids_check( struct auth0_run *rn );
int auth0_ids_claimed( struct auth0_run *rn, unsigned long n );
int auth0_ids_need_index( struct auth0_run *rn, enum auth0_ou ou );
void auth0_ids_free( struct auth0_run *rn );

/* plan.c */
struct auth0_plan;
struct auth0_plan_item;
struct auth0_plan *auth0_plan_new( void );
void auth0_plan_free( struct auth0_plan *pl );
struct auth0_plan_item *auth0_plan_add( struct auth0_plan *pl, int ou,
	size_t idx, struct auth0_stored *sd );
int auth0_plan_set_rename( struct auth0_plan_item *pi, const char *dn );
void auth0_plan_renames( struct auth0_plan *pl, struct auth0_writer *ap );
size_t auth0_plan_count( struct auth0_plan *pl );
struct auth0_plan_item *auth0_plan_get( struct auth0_plan *pl, size_t i );

/* refresh.c */
int auth0_refresh_start( struct auth0_info *ai );
void auth0_refresh_stop( struct auth0_info *ai );
void auth0_refresh_reschedule( struct auth0_info *ai );
void auth0_refresh_now( struct auth0_info *ai );
void auth0_refresh_apply( struct auth0_info *ai );
int auth0_refresh_run( struct auth0_info *ai, void *thrctx );

LDAP_END_DECL

#endif /* AUTH0_PROTO_AUTH0_H */
