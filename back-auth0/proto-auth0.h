/* proto-auth0.h - cross-file prototypes of back-auth0 (slapd side) */
#ifndef AUTH0_PROTO_AUTH0_H
#define AUTH0_PROTO_AUTH0_H

LDAP_BEGIN_DECL

struct auth0_apply;

/* init.c */
int auth0_initialize( void );
extern BI_db_init	auth0_db_init;
extern BI_db_open	auth0_db_open;
extern BI_db_close	auth0_db_close;
extern BI_db_destroy	auth0_db_destroy;
extern BI_db_config	auth0_db_config;

/* config.c */
int auth0_config_init( slap_overinst *on );
void auth0_config_free( struct auth0_info *ai );

/* apply.c */
int auth0_apply_begin( struct auth0_info *ai, Operation *op,
	struct auth0_apply **app );
int auth0_apply_add( struct auth0_apply *ap, struct auth0_entry *e,
	const char *uuid );
int auth0_apply_update( struct auth0_apply *ap, struct berval *ndn,
	const struct auth0_entry *want, const char *const *managed,
	int rename );
int auth0_apply_delete( struct auth0_apply *ap, struct berval *ndn );
int auth0_apply_end( struct auth0_apply *ap, int commit );
int auth0_apply_containers( struct auth0_info *ai, Operation *op );
int auth0_apply_get_counter( Operation *op, const char *dn,
	const char *attr, unsigned long *out );
int auth0_apply_set_counter( struct auth0_apply *ap, const char *dn,
	const char *attr, unsigned long val );
int auth0_apply_entry_digest( Entry *e, const char *const *names,
	unsigned char out[16] );

/* readonly.c */
extern BI_op_add	auth0_op_write;
void auth0_readonly_mark( Operation *op, OpExtra *oex );
void auth0_readonly_unmark( Operation *op, OpExtra *oex );

/* sync.c */
int auth0_sync_all( struct auth0_run *rn );
void auth0_sync_free( struct auth0_run *rn );
const char *auth0_sync_ou( enum auth0_ou ou );

/* refresh.c */
int auth0_refresh_start( struct auth0_info *ai );
void auth0_refresh_stop( struct auth0_info *ai );
void auth0_refresh_reschedule( struct auth0_info *ai );
void auth0_refresh_now( struct auth0_info *ai );
int auth0_refresh_run( struct auth0_info *ai, void *thrctx );

LDAP_END_DECL

#endif /* AUTH0_PROTO_AUTH0_H */
