/* bindcall.h - verify a password with Auth0 */
/*
 * Slapd-free: bindcall.c asks POST /oauth/token with the password-realm
 * grant (and mfa-otp to complete MFA) through a transport (http.h).
 * bind.c maps the outcomes to LDAP result codes (DESIGN.md section 4);
 * verified passwords are remembered by the core's bind cache
 * (bindcache.h).
 */
#ifndef AUTH0_BINDCALL_H
#define AUTH0_BINDCALL_H

#include <stddef.h>
#include <time.h>

#include "http.h"

/* What Auth0 said about a password. */
enum auth0_verdict {
	AUTH0_V_OK = 0,
	AUTH0_V_WRONG,		/* invalid_grant: wrong password or user */
	AUTH0_V_MFA,		/* mfa_required (mfa_token kept) */
	AUTH0_V_BAD_OTP,	/* the OTP was refused */
	AUTH0_V_BLOCKED,	/* user blocked */
	AUTH0_V_TOO_MANY,	/* too_many_attempts (brute-force protection) */
	AUTH0_V_LEAKED,		/* password_leaked */
	AUTH0_V_NO_PASSWORD,	/* the connection takes no passwords */
	AUTH0_V_BUSY,		/* 429 rate limit */
	AUTH0_V_UNAVAILABLE,	/* network, timeout, TLS, 5xx, bad answer */
	AUTH0_V_MISCONFIGURED,	/* client or grant refused: admin's fix */
	AUTH0_V_NO_THREAD,	/* every bind connection busy: not asked */
	AUTH0_V_PUSH_DENIED,	/* the user refused the Guardian push */
	AUTH0_V_PUSH_TIMEOUT,	/* not approved within the push timeout */
	AUTH0_V_NO_PUSH,	/* no Guardian push authenticator enrolled */
	AUTH0_V_PENDING,	/* mfa-oob polling: not yet (internal) */
	AUTH0_V_SLOW_DOWN	/* mfa-oob polling: poll slower (internal) */
};

struct auth0_bind_conf {
	const char	*bc_base;		/* "https://DOMAIN" */
	const char	*bc_client_id;
	const char	*bc_client_secret;
};

struct auth0_bind_req {
	const char	*br_realm;		/* connection name */
	const char	*br_username;		/* email or username */
	const char	*br_password;
	const char	*br_otp;		/* NULL: no MFA code given */
	const char	*br_client_ip;		/* NULL: not forwarded */
	int		br_push;		/* complete MFA by Guardian push */
	double		br_push_timeout;	/* seconds to wait for it */
};

/*
 * Asks Auth0.  detail (may be NULL) gets a short text for the log and the
 * client (never the password).  With MFA required and an OTP given, the
 * mfa-otp grant completes it in a second request; with br_push, a
 * Guardian push is sent to the user's push authenticator (GET
 * /mfa/authenticators, POST /mfa/challenge) and the mfa-oob grant is
 * polled until the user answers or br_push_timeout passes.
 */
enum auth0_verdict auth0_bind_verify( struct auth0_transport *tr,
	const struct auth0_bind_conf *bc, const struct auth0_bind_req *br,
	char *detail, size_t detail_len );

const char *auth0_verdict_str( enum auth0_verdict v );

#endif /* AUTH0_BINDCALL_H */
