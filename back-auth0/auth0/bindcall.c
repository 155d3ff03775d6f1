/* bindcall.c - verify a user's password with Auth0's password-realm grant */
/*
 * POST {base}/oauth/token, form-encoded, grant_type password-realm with
 * the user's connection as realm; the LDAP client's address goes in
 * auth0-forwarded-for so that Auth0's brute-force protection sees the
 * real source (it is honoured when the client sends its secret and has
 * "Trust Token Endpoint IP Header" on).  Error bodies are mapped per
 * shared/docs/auth0-api.md 1.2/1.3; anything that is not a clear answer
 * about the password is AUTH0_V_UNAVAILABLE, never a wrong password.
 * Request bodies hold the password: they are wiped before free.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "model.h"
#include "bindcall.h"

#define GRANT_REALM	"http://auth0.com/oauth/grant-type/password-realm"
#define GRANT_OTP	"http://auth0.com/oauth/grant-type/mfa-otp"
#define GRANT_OOB	"http://auth0.com/oauth/grant-type/mfa-oob"

/* Push polling: the first interval when Auth0 names none; slow_down adds
 * SLOW_DOWN_STEP seconds (as RFC 8628 asks of device-flow clients). */
#define PUSH_INTERVAL	2.0
#define SLOW_DOWN_STEP	5.0

static const char *const verdicts[] = {
	"ok", "wrong password", "MFA required", "wrong OTP", "user blocked",
	"too many attempts", "password leaked", "connection has no passwords",
	"Auth0 rate limit", "Auth0 unavailable", "bind client misconfigured",
	"no bind connection free", "push denied", "push not approved in time",
	"no Guardian push enrolled", "push pending", "push slow down"
};

const char *
auth0_verdict_str( enum auth0_verdict v )
{
	return (size_t)v < sizeof( verdicts ) / sizeof( *verdicts ) ?
		verdicts[v] : "?";
}

/* A form body: name=value pairs, each value percent-encoded. */
struct form {
	char	*fm_buf;
	size_t	fm_len, fm_cap;
	int	fm_err;
};

static void
form_add( struct form *f, const char *name, const char *value )
{
	char *enc = curl_easy_escape( NULL, value, 0 );
	size_t need;

	if ( enc == NULL ) {
		f->fm_err = 1;
		return;
	}
	need = f->fm_len + strlen( name ) + strlen( enc ) + 3;
	if ( need > f->fm_cap ) {
		char *n = malloc( need * 2 );
		if ( n == NULL ) {
			f->fm_err = 1;
			curl_free( enc );
			return;
		}
		if ( f->fm_buf ) {
			memcpy( n, f->fm_buf, f->fm_len + 1 );
			explicit_bzero( f->fm_buf, f->fm_cap );
			free( f->fm_buf );
		}
		f->fm_buf = n;
		f->fm_cap = need * 2;
	}
	f->fm_len += snprintf( f->fm_buf + f->fm_len, f->fm_cap - f->fm_len,
		"%s%s=%s", f->fm_len ? "&" : "", name, enc );
	explicit_bzero( enc, strlen( enc ) );
	curl_free( enc );
}

static void
form_free( struct form *f )
{
	if ( f->fm_buf ) {
		explicit_bzero( f->fm_buf, f->fm_cap );
		free( f->fm_buf );
	}
	memset( f, 0, sizeof( *f ) );
}

/* 200 or the error pair of the answer, mapped to a verdict. */
static enum auth0_verdict
classify( const struct auth0_http_resp *r, char **mfa_token, char *detail,
	size_t dlen, cJSON **ok_body )
{
	cJSON *j = r->rs_body ? cJSON_Parse( r->rs_body ) : NULL;
	const char *err = auth0_json_str( j, "error" );
	const char *desc = auth0_json_str( j, "error_description" );
	enum auth0_verdict v = AUTH0_V_UNAVAILABLE;

	if ( r->rs_status == 200 && ( ok_body || auth0_json_str( j,
			"access_token" ) ) )
		v = AUTH0_V_OK;
	else if ( r->rs_status == 429 )
		v = err && strcmp( err, "too_many_attempts" ) == 0 ?
			AUTH0_V_TOO_MANY : AUTH0_V_BUSY;
	else if ( r->rs_status >= 500 || err == NULL )
		v = AUTH0_V_UNAVAILABLE;
	else if ( strcmp( err, "authorization_pending" ) == 0 )
		v = AUTH0_V_PENDING;
	else if ( strcmp( err, "slow_down" ) == 0 )
		v = AUTH0_V_SLOW_DOWN;
	else if ( strcmp( err, "invalid_grant" ) == 0 )
		v = desc && strstr( desc, "otp" ) ? AUTH0_V_BAD_OTP : AUTH0_V_WRONG;
	else if ( strcmp( err, "mfa_required" ) == 0 )
		v = AUTH0_V_MFA;
	else if ( strcmp( err, "password_leaked" ) == 0 )
		v = AUTH0_V_LEAKED;
	else if ( strcmp( err, "unauthorized" ) == 0 && desc &&
			strstr( desc, "blocked" ) )
		v = AUTH0_V_BLOCKED;
	else if ( strcmp( err, "too_many_attempts" ) == 0 )
		v = AUTH0_V_TOO_MANY;
	else if ( strcmp( err, "expired_token" ) == 0 )
		v = AUTH0_V_BAD_OTP;
	else if ( strcmp( err, "unauthorized_client" ) == 0 ||
			strcmp( err, "access_denied" ) == 0 ||
			strcmp( err, "invalid_client" ) == 0 )
		v = AUTH0_V_MISCONFIGURED;
	else if ( strcmp( err, "invalid_request" ) == 0 )
		v = AUTH0_V_NO_PASSWORD;
	if ( v == AUTH0_V_MFA && mfa_token ) {
		const char *t = auth0_json_str( j, "mfa_token" );
		*mfa_token = t ? strdup( t ) : NULL;
	}
	if ( detail && v != AUTH0_V_OK )
		snprintf( detail, dlen, "HTTP %ld%s%s", r->rs_status,
			err ? " " : "", err ? err : "" );
	if ( ok_body && v == AUTH0_V_OK ) {
		*ok_body = j;
		if ( j == NULL )
			v = AUTH0_V_UNAVAILABLE;
		return v;
	}
	cJSON_Delete( j );
	return v;
}

/*
 * One request to path: a form POST, or a GET with bearer (the mfa_token)
 * when f is NULL.  ok_body, when given, gets the parsed JSON of a 200.
 */
static enum auth0_verdict
call( struct auth0_transport *tr, const struct auth0_bind_conf *bc,
	const struct auth0_bind_req *br, const char *path, struct form *f,
	const char *bearer, char **mfa_token, cJSON **ok_body, char *detail,
	size_t dlen )
{
	struct auth0_http_req req;
	struct auth0_http_resp r;
	const char *headers[4];
	char url[1024], fwd[128], *auth = NULL;
	enum auth0_verdict v;
	int n = 0;

	snprintf( url, sizeof( url ), "%s%s", bc->bc_base, path );
	if ( f )
		headers[n++] = "Content-Type: application/x-www-form-urlencoded";
	else if ( bearer && ( auth = malloc( strlen( bearer ) + 32 ) ) )
		headers[n++] = strcat( strcpy( auth, "Authorization: Bearer " ),
			bearer );
	headers[n++] = "Accept: application/json";
	if ( br->br_client_ip && *br->br_client_ip ) {
		snprintf( fwd, sizeof( fwd ), "auth0-forwarded-for: %s",
			br->br_client_ip );
		headers[n++] = fwd;
	}
	headers[n] = NULL;
	memset( &req, 0, sizeof( req ) );
	req.rq_method = f ? "POST" : "GET";
	req.rq_url = url;
	req.rq_headers = headers;
	req.rq_body = f ? f->fm_buf : NULL;
	req.rq_body_len = f ? f->fm_len : 0;
	req.rq_no_auth = 1;
	if ( tr->tr_request( tr->tr_ctx, &req, NULL, NULL, &r ) != 0 ) {
		if ( detail )
			snprintf( detail, dlen, "%s", r.rs_error );
		v = AUTH0_V_UNAVAILABLE;
	} else {
		v = classify( &r, mfa_token, detail, dlen, ok_body );
		if ( r.rs_body )
			explicit_bzero( r.rs_body, r.rs_len );	/* tokens */
		auth0_http_resp_free( &r );
	}
	if ( auth ) {
		explicit_bzero( auth, strlen( auth ) );
		free( auth );
	}
	return v;
}

static enum auth0_verdict
post( struct auth0_transport *tr, const struct auth0_bind_conf *bc,
	const struct auth0_bind_req *br, struct form *f, char **mfa_token,
	char *detail, size_t dlen )
{
	return call( tr, bc, br, "/oauth/token", f, NULL, mfa_token, NULL,
		detail, dlen );
}

static void
form_client( struct form *f, const struct auth0_bind_conf *bc )
{
	form_add( f, "client_id", bc->bc_client_id );
	form_add( f, "client_secret", bc->bc_client_secret );
}

/* The id of the user's active Guardian push authenticator (oob, auth0). */
static enum auth0_verdict
push_authenticator( struct auth0_transport *tr,
	const struct auth0_bind_conf *bc, const struct auth0_bind_req *br,
	const char *mfa_token, char *id, size_t idlen, char *detail,
	size_t dlen )
{
	cJSON *list = NULL, *arr, *a;
	enum auth0_verdict v;

	v = call( tr, bc, br, "/mfa/authenticators", NULL, mfa_token, NULL,
		&list, detail, dlen );
	if ( v != AUTH0_V_OK )
		return v;
	v = AUTH0_V_NO_PUSH;
	arr = cJSON_IsArray( list ) ? list : NULL;
	cJSON_ArrayForEach( a, arr ) {
		const char *type = auth0_json_str( a, "authenticator_type" );
		const char *chan = auth0_json_str( a, "oob_channel" );
		const char *aid = auth0_json_str( a, "id" );
		cJSON *active = cJSON_GetObjectItemCaseSensitive( a, "active" );
		if ( type && chan && aid && strcmp( type, "oob" ) == 0 &&
				strcmp( chan, "auth0" ) == 0 && !cJSON_IsFalse( active ) &&
				strlen( aid ) < idlen ) {
			strcpy( id, aid );
			v = AUTH0_V_OK;
			break;
		}
	}
	if ( v == AUTH0_V_NO_PUSH && detail )
		snprintf( detail, dlen, "no active Guardian push authenticator" );
	cJSON_Delete( list );
	return v;
}

/* POST /mfa/challenge (oob): the oob_code and Auth0's polling interval. */
static enum auth0_verdict
push_challenge( struct auth0_transport *tr,
	const struct auth0_bind_conf *bc, const struct auth0_bind_req *br,
	const char *mfa_token, const char *aid, char **oob_code,
	double *interval, char *detail, size_t dlen )
{
	struct form f = { NULL, 0, 0, 0 };
	cJSON *j = NULL;
	enum auth0_verdict v;
	const char *code;
	long iv;

	form_client( &f, bc );
	form_add( &f, "mfa_token", mfa_token );
	form_add( &f, "challenge_type", "oob" );
	form_add( &f, "authenticator_id", aid );
	v = f.fm_err ? AUTH0_V_UNAVAILABLE : call( tr, bc, br,
		"/mfa/challenge", &f, NULL, NULL, &j, detail, dlen );
	form_free( &f );
	if ( v == AUTH0_V_WRONG )
		v = AUTH0_V_NO_PUSH;	/* refused: not this authenticator */
	if ( v != AUTH0_V_OK )
		return v;
	code = auth0_json_str( j, "oob_code" );
	iv = auth0_json_long( j, "interval", 0 );
	*interval = iv > 0 && iv <= 60 ? (double)iv : PUSH_INTERVAL;
	*oob_code = code ? strdup( code ) : NULL;
	if ( *oob_code == NULL ) {
		v = AUTH0_V_UNAVAILABLE;
		if ( detail )
			snprintf( detail, dlen, "/mfa/challenge gave no oob_code" );
	}
	cJSON_Delete( j );
	return v;
}

/*
 * Completes MFA by Guardian push: challenge, then the mfa-oob grant polled
 * every interval (longer after slow_down) until the user approves or
 * refuses, Auth0 fails, or br_push_timeout passes.
 */
static enum auth0_verdict
push( struct auth0_transport *tr, const struct auth0_bind_conf *bc,
	const struct auth0_bind_req *br, const char *mfa_token, char *detail,
	size_t dlen )
{
	struct form f = { NULL, 0, 0, 0 };
	char aid[256], *oob = NULL;
	double interval = PUSH_INTERVAL, deadline, left;
	enum auth0_verdict v;

	v = push_authenticator( tr, bc, br, mfa_token, aid, sizeof( aid ),
		detail, dlen );
	if ( v == AUTH0_V_OK )
		v = push_challenge( tr, bc, br, mfa_token, aid, &oob, &interval,
			detail, dlen );
	deadline = tr->tr_now( tr->tr_ctx ) + br->br_push_timeout;
	while ( v == AUTH0_V_OK || v == AUTH0_V_PENDING ||
			v == AUTH0_V_SLOW_DOWN ) {
		if ( v == AUTH0_V_SLOW_DOWN )
			interval += SLOW_DOWN_STEP;
		left = deadline - tr->tr_now( tr->tr_ctx );
		if ( left <= 0 ) {
			v = AUTH0_V_PUSH_TIMEOUT;
			if ( detail )
				snprintf( detail, dlen, "no answer in %.0f s",
					br->br_push_timeout );
			break;
		}
		/* the user needs time anyway: wait before each poll */
		tr->tr_sleep( tr->tr_ctx, interval < left ? interval : left );
		form_add( &f, "grant_type", GRANT_OOB );
		form_client( &f, bc );
		form_add( &f, "mfa_token", mfa_token );
		form_add( &f, "oob_code", oob );
		v = f.fm_err ? AUTH0_V_UNAVAILABLE :
			post( tr, bc, br, &f, NULL, detail, dlen );
		form_free( &f );
		if ( v == AUTH0_V_OK )
			break;
	}
	if ( v == AUTH0_V_WRONG || v == AUTH0_V_BAD_OTP )
		v = AUTH0_V_PUSH_DENIED;	/* invalid_grant: rejected */
	free( oob );
	return v;
}

enum auth0_verdict
auth0_bind_verify( struct auth0_transport *tr,
	const struct auth0_bind_conf *bc, const struct auth0_bind_req *br,
	char *detail, size_t dlen )
{
	struct form f = { NULL, 0, 0, 0 };
	char *mfa_token = NULL;
	enum auth0_verdict v;

	form_add( &f, "grant_type", GRANT_REALM );
	form_add( &f, "realm", br->br_realm );
	form_add( &f, "username", br->br_username );
	form_add( &f, "password", br->br_password );
	form_add( &f, "scope", "openid" );
	form_client( &f, bc );
	v = f.fm_err ? AUTH0_V_UNAVAILABLE :
		post( tr, bc, br, &f, br->br_otp || br->br_push ? &mfa_token :
			NULL, detail, dlen );
	form_free( &f );
	if ( v == AUTH0_V_MFA && br->br_push && mfa_token ) {
		v = push( tr, bc, br, mfa_token, detail, dlen );
		goto done;
	}
	if ( v != AUTH0_V_MFA || br->br_otp == NULL || mfa_token == NULL )
		goto done;
	/* complete MFA with the one-time code the client appended */
	form_add( &f, "grant_type", GRANT_OTP );
	form_add( &f, "mfa_token", mfa_token );
	form_add( &f, "otp", br->br_otp );
	form_client( &f, bc );
	v = f.fm_err ? AUTH0_V_UNAVAILABLE :
		post( tr, bc, br, &f, NULL, detail, dlen );
	if ( v == AUTH0_V_WRONG )
		v = AUTH0_V_BAD_OTP;	/* invalid_grant here is about the code */
	form_free( &f );
done:
	if ( mfa_token ) {
		explicit_bzero( mfa_token, strlen( mfa_token ) );
		free( mfa_token );
	}
	return v;
}
