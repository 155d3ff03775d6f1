/* http.h - the HTTP transport seen by back-auth0's API clients */
/*
 * The API clients (token.c, mgmt.c, export.c, authz.c) never include
 * curl/curl.h: they call a transport through this table, so unit tests
 * give them canned replies (tests/unit/fakes) and http.c gives them
 * libcurl.  Slapd-free.
 */
#ifndef AUTH0_HTTP_H
#define AUTH0_HTTP_H

#include <stddef.h>
#include <time.h>

/* One request.  Header lines are "Name: value"; NULL-terminated. */
struct auth0_http_req {
	const char		*rq_method;	/* "GET", "POST" */
	const char		*rq_url;	/* absolute https URL */
	const char *const	*rq_headers;	/* may be NULL */
	const char		*rq_body;	/* may be NULL */
	size_t			rq_body_len;
	int			rq_no_auth;	/* pre-signed URL: no token */
	/* > 0: no total time limit; cut when slower than rq_low_speed
	 * bytes a second for rq_low_speed_time seconds (streamed exports) */
	long			rq_low_speed;
	long			rq_low_speed_time;
};

/*
 * Where a streamed body goes (export downloads): called with each chunk
 * as it arrives; a non-zero return aborts the transfer.
 */
typedef int (auth0_http_sink)( void *arg, const char *data, size_t len );

/* The outcome of one request. */
struct auth0_http_resp {
	long	rs_status;		/* HTTP status; 0 when none arrived */
	char	*rs_body;		/* malloc'd, NUL-terminated; NULL if streamed */
	size_t	rs_len;
	long	rs_rl_remaining;	/* x-ratelimit-remaining, -1 absent */
	time_t	rs_rl_reset;		/* x-ratelimit-reset (epoch), 0 absent */
	long	rs_retry_after;		/* retry-after seconds, -1 absent */
	int	rs_transport;		/* an AUTH0_HTTP_E_* below, 0 = ok */
	char	rs_error[256];		/* transport error text */
};

/* Transport failures (no usable HTTP answer). */
#define AUTH0_HTTP_E_NETWORK	1	/* connect, reset, DNS */
#define AUTH0_HTTP_E_TIMEOUT	2
#define AUTH0_HTTP_E_TLS	3	/* certificate or handshake */
#define AUTH0_HTTP_E_TOOBIG	4	/* body over the cap */
#define AUTH0_HTTP_E_SINK	5	/* the sink aborted */

/* Largest body kept in memory (a streamed body has no cap). */
#define AUTH0_HTTP_MAX_BODY	(64L * 1024 * 1024)

struct auth0_transport {
	/*
	 * Performs req.  With sink set the body goes to it, else to
	 * resp->rs_body.  Always fills resp; returns 0 when an HTTP status
	 * arrived (whatever it is), else rs_transport's code.
	 */
	int	(*tr_request)( void *ctx, const struct auth0_http_req *req,
			auth0_http_sink *sink, void *sink_arg,
			struct auth0_http_resp *resp );
	/* Sleeps (rate limits, polling); tests make it instant. */
	void	(*tr_sleep)( void *ctx, double seconds );
	/* Now, in seconds since the epoch (tests use a fixed clock). */
	double	(*tr_now)( void *ctx );
	void	*tr_ctx;
};

void auth0_http_resp_free( struct auth0_http_resp *resp );

#endif /* AUTH0_HTTP_H */
