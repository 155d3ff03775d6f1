/* fake_transport.h - canned HTTP replies for back-auth0's unit tests */
/*
 * A struct auth0_transport (http.h) that answers from a table of canned
 * replies matched by method and URL prefix, records every request, and
 * keeps a fixed clock that only tr_sleep advances, so tests of rate
 * limits and retries run instantly and exactly.
 */
#ifndef FAKE_TRANSPORT_H
#define FAKE_TRANSPORT_H

#include <stddef.h>
#include "http.h"

/* The clock starts here (epoch seconds). */
#define FAKE_EPOCH	1700000000.0

/* One canned reply; the first matching one with answers left is used. */
struct fake_reply {
	const char	*fr_method;	/* NULL: any */
	const char	*fr_url;	/* prefix of the request URL */
	long		fr_status;
	const char	*fr_body;	/* NULL: empty; copied by fake_add */
	size_t		fr_len;		/* 0: strlen( fr_body ) */
	int		fr_times;	/* answers this many; 0: any number */
	int		fr_transport;	/* AUTH0_HTTP_E_* instead of a status */
	int		fr_limited;	/* x-ratelimit-remaining: 0, reset: */
	double		fr_reset_in;	/*   this many seconds from now */
	long		fr_retry_after;	/* > 0: retry-after header */
};

/* One request as sent. */
struct fake_sent {
	char	*fs_method;
	char	*fs_url;
	char	*fs_headers;	/* "Name: value\n" each */
	char	*fs_body;
	int	fs_no_auth;
	int	fs_sink;	/* the body went to a sink */
	double	fs_time;	/* the fake clock when it was sent */
};

struct fake_transport {
	struct auth0_transport	ft_tr;		/* hand &ft_tr to the code */
	double			ft_now;
	double			ft_slept;	/* total of every sleep */
	size_t			ft_chunk;	/* sink chunk size; 0: 7 bytes */
	struct fake_reply	*ft_replies;
	int			*ft_used;
	size_t			ft_nreplies;
	struct fake_sent	*ft_sent;
	size_t			ft_nsent;
	size_t			ft_unmatched;	/* requests no reply matched */
};

struct fake_transport *fake_new( void );
void fake_free( struct fake_transport *ft );
void fake_add( struct fake_transport *ft, const struct fake_reply *r );
void fake_add_all( struct fake_transport *ft, const struct fake_reply *r,
	size_t n );
size_t fake_count( const struct fake_transport *ft, const char *method,
	const char *url_prefix );
const struct fake_sent *fake_find( const struct fake_transport *ft,
	const char *method, const char *url_prefix, size_t nth );

#endif /* FAKE_TRANSPORT_H */
