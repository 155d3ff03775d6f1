/* tenant.c - the whole tenant from the Auth0 APIs for back-auth0 */
/*
 * auth0_api_fetch() runs the resources one after another (mgmt.c for
 * users, roles and clients, authz.c for the Authorization Extension); one
 * that fails is flagged in the model and the others still run.  Runs in
 * the refresh task's thread.
 */
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "http.h"
#include "api.h"

/* Marks a resource failed, reports it, keeps the first error. */
static void
failed( struct auth0_model *m, unsigned res, const char *name, int rc,
	const char *err, int *first, char *errbuf )
{
	m->sn_failed |= res;
	/* users missing from a failed fetch must not be deleted */
	if ( res == AUTH0_RES_USERS )
		m->sn_complete = 0;
	auth0_api_warn( m, 0, "%s: %s; the stored data is kept", name, err );
	if ( *first == AUTH0_OK ) {
		*first = rc;
		snprintf( errbuf, AUTH0_ERRLEN, "%s: %s", name, err );
	}
}

int
auth0_api_fetch( struct auth0_api *api, const struct auth0_select *sel,
	struct auth0_model *m, char *errbuf )
{
	char err[AUTH0_ERRLEN];
	const char *token;
	int rc, first = AUTH0_OK;

	errbuf[0] = '\0';
	err[0] = '\0';
	/* a refused token fails every Management API resource: ask once */
	rc = auth0_token_get( api, &api->ap_mgmt_token, &token, err );
	if ( rc ) {
		failed( m, AUTH0_RES_USERS, "users", rc, err, &first, errbuf );
		failed( m, AUTH0_RES_ROLES, "roles", rc, err, &first, errbuf );
		failed( m, AUTH0_RES_CLIENTS, "clients", rc, err, &first,
			errbuf );
	} else {
		rc = auth0_mgmt_users( api, sel, m, err );
		if ( rc )
			failed( m, AUTH0_RES_USERS, "users", rc, err, &first,
				errbuf );
		rc = auth0_mgmt_roles( api, m, err );
		if ( rc )
			failed( m, AUTH0_RES_ROLES, "roles", rc, err, &first,
				errbuf );
		rc = auth0_mgmt_clients( api, m, err );
		if ( rc )
			failed( m, AUTH0_RES_CLIENTS, "clients", rc, err, &first,
				errbuf );
	}
	if ( api->ap_conf.ac_authz_url ) {
		rc = auth0_authz_fetch( api, m, err );
		if ( rc )
			failed( m, AUTH0_RES_AUTHZ, "authz", rc, err, &first,
				errbuf );
	}
	return first;
}
