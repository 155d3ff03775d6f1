/* test_api.c - unit tests of the Auth0 API clients (api.h) */
/*
 * Every test drives the real client code through the fake transport
 * (fakes/fake_transport.c): canned replies by method and URL prefix, a
 * clock that only sleeps advance.  Tenants are built in the test,
 * export files gzipped here with zlib.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "model.h"
#include "http.h"
#include "api.h"
#include "fakes/fake_transport.h"

#define BASE		"https://t.test"
#define AUD		"https://t.test/api/v2/"
#define SECRET		"s3cr3t-never-shown"
#define AUTHZ_URL	"https://authz.test/api"
#define TOKEN_URL	BASE "/oauth/token"
#define USERS		BASE "/api/v2/users?search_engine=v3&per_page=100&page="
#define ROLES		BASE "/api/v2/roles?per_page=100&page="
#define CLIENTS		BASE "/api/v2/clients?fields=client_id%2Cname%2C" \
			"description%2Capp_type&include_fields=true&per_page=100" \
			"&page="
#define CONNS		BASE "/api/v2/connections?fields=id%2Cname" \
			"&include_fields=true&take=50"
#define TOKEN_OK	"{\"access_token\":\"tok1\",\"expires_in\":86400," \
			"\"token_type\":\"Bearer\"}"
#define EMPTY_LIST(k)	"{\"" k "\":[],\"start\":0,\"limit\":100,\"total\":0}"

/* One test's world: fake transport, API client, model, warnings. */
struct fx {
	struct fake_transport	*ft;
	struct auth0_api	api;
	struct auth0_api_conf	conf;
	struct auth0_model	m;
	char			warned[16384];
	char			err[AUTH0_ERRLEN];
	unsigned long		progress[8];
	unsigned long		progress_total;
	int			nprogress;
};

static void
collect( void *arg, const char *msg )
{
	struct fx *f = arg;

	strncat( f->warned, msg, sizeof( f->warned ) - strlen( f->warned ) - 2 );
	strcat( f->warned, "\n" );
}

static void
on_progress( void *arg, const char *what, unsigned long done,
	unsigned long total )
{
	struct fx *f = arg;

	if ( f->nprogress < 8 )
		f->progress[f->nprogress++] = done;
	f->progress_total = total;
}

static int
setup( void **state )
{
	struct fx *f = calloc( 1, sizeof( *f ) );

	f->ft = fake_new();
	f->conf.ac_base = BASE;
	f->conf.ac_client_id = "cid";
	f->conf.ac_client_secret = SECRET;
	f->conf.ac_audience = AUD;
	f->conf.ac_max_retries = 2;
	f->conf.ac_max_wait = 60;
	f->conf.ac_poll_interval = 1;
	f->conf.ac_export_timeout = 600;
	f->conf.ac_page_cap = 1000;
	auth0_model_init( &f->m );
	f->m.sn_warn = collect;
	f->m.sn_warn_arg = f;
	*state = f;
	return 0;
}

/* (Re)starts the client from f->conf; tests change conf first. */
static void
start( struct fx *f )
{
	auth0_api_destroy( &f->api );
	auth0_api_init( &f->api, &f->conf, &f->ft->ft_tr );
	f->api.ap_progress = on_progress;
	f->api.ap_progress_arg = f;
}

/* A fresh model that still reports to f (model_free clears sn_warn). */
static void
reset_model( struct fx *f )
{
	auth0_model_free( &f->m );
	f->m.sn_warn = collect;
	f->m.sn_warn_arg = f;
}

static int
teardown( void **state )
{
	struct fx *f = *state;

	/* nothing secret may ever reach a message */
	assert_null( strstr( f->warned, SECRET ) );
	assert_null( strstr( f->err, SECRET ) );
	assert_null( strstr( f->warned, "tok1" ) );
	assert_null( strstr( f->err, "tok1" ) );
	auth0_api_destroy( &f->api );
	auth0_model_free( &f->m );
	fake_free( f->ft );
	free( f );
	return 0;
}

static void
reply( struct fx *f, const char *method, const char *url, long status,
	const char *body, int times )
{
	struct fake_reply r = { .fr_method = method, .fr_url = url,
		.fr_status = status, .fr_body = body, .fr_times = times };

	fake_add( f->ft, &r );
}

static void native_empty( struct fx *f );

static void
token_ok( struct fx *f )
{
	reply( f, "POST", TOKEN_URL, 200, TOKEN_OK, 0 );
}

/* A plain GET of path through auth0_api_call(). */
static int
get( struct fx *f, const char *path, const char *const *query )
{
	struct auth0_call c;
	int rc;

	memset( &c, 0, sizeof( c ) );
	c.ca_method = "GET";
	c.ca_path = path;
	c.ca_query = query;
	c.ca_auth = AUTH0_AUTH_MGMT;
	rc = auth0_api_call( &f->api, &c, f->err );
	cJSON_Delete( c.ca_json );
	return rc;
}

/* printf into a growing string (test helper; aborts on failure). */
static void
cat( char **s, const char *fmt, ... )
{
	va_list ap;
	char *add = NULL, *n;
	size_t old = *s ? strlen( *s ) : 0;
	int len;

	va_start( ap, fmt );
	len = vasprintf( &add, fmt, ap );
	va_end( ap );
	assert_true( len >= 0 );
	n = realloc( *s, old + (size_t)len + 1 );
	assert_non_null( n );
	memcpy( n + old, add, (size_t)len + 1 );
	*s = n;
	free( add );
}

static void
user_json( FILE *fp, int i, const char *conn )
{
	fprintf( fp, "{\"user_id\":\"auth0|u%05d\",\"email\":\"u%05d@x.test\","
		"\"identities\":[{\"connection\":\"%s\"}]}", i, i, conn );
}

/* A GET /api/v2/users page: users first .. first + n - 1 of total. */
static char *
users_page( const char *conn, int first, int n, long total )
{
	char *s = NULL;
	size_t len;
	FILE *fp = open_memstream( &s, &len );
	int i;

	fprintf( fp, "{\"start\":%d,\"limit\":100,\"length\":%d,\"total\":%ld,"
		"\"users\":[", first, n, total );
	for ( i = 0; i < n; i++ ) {
		if ( i )
			fputc( ',', fp );
		user_json( fp, first + i, conn );
	}
	fputs( "]}", fp );
	fclose( fp );
	return s;
}

/* Canned pages for a connection of total users (q as the code sends it). */
static void
users_of( struct fx *f, const char *conn, const char *q, int total )
{
	char url[512], *body;
	int k;

	for ( k = 0; k == 0 || k * 100 < total; k++ ) {
		snprintf( url, sizeof( url ), "%s%d&include_totals=true&sort="
			"created_at%%3A1%s", USERS, k, q );
		body = users_page( conn, k * 100, total - k * 100 > 100 ? 100 :
			total - k * 100, total );
		reply( f, "GET", url, 200, body, 0 );
		free( body );
	}
}

/* CRC-32 of RFC 1952, bit by bit: the test's own, not zlib's. */
static uint32_t
test_crc( const unsigned char *p, size_t n )
{
	uint32_t c = 0xffffffffU;
	int k;

	while ( n-- ) {
		c ^= *p++;
		for ( k = 0; k < 8; k++ )
			c = ( c & 1 ) ? ( c >> 1 ) ^ 0xedb88320U : c >> 1;
	}
	return ~c;
}

/*
 * slapd exports a crc32 of its own, which zlib's calls then reach; this
 * program does the same, so the export code is tested as it runs there.
 */
uLong
crc32( uLong crc, const Bytef *buf, uInt len )
{
	return 0xdeadbeef;
}

static void
put_le32( unsigned char *b, uint32_t v )
{
	b[0] = v & 0xff;
	b[1] = ( v >> 8 ) & 0xff;
	b[2] = ( v >> 16 ) & 0xff;
	b[3] = v >> 24;
}

/* A gzip member of text, its header with the optional fields of flags. */
static unsigned char *
gzip_flags( const char *text, int flags, size_t *outlen )
{
	size_t len = strlen( text ), cap, n = 0;
	unsigned char *out;
	z_stream z;

	memset( &z, 0, sizeof( z ) );
	assert_int_equal( deflateInit2( &z, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
		-MAX_WBITS, 8, Z_DEFAULT_STRATEGY ), Z_OK );
	cap = deflateBound( &z, len ) + 64;
	out = malloc( cap );
	memcpy( out, "\x1f\x8b\x08", 3 );
	out[3] = (unsigned char)flags;
	memset( out + 4, 0, 6 );
	n = 10;
	if ( flags & 0x04 ) {		/* FEXTRA: 4 bytes */
		memcpy( out + n, "\x04" "\x00" "ab" "\x00" "\x01", 6 );
		n += 6;
	}
	if ( flags & 0x08 ) {		/* FNAME */
		memcpy( out + n, "users.json", 11 );
		n += 11;
	}
	if ( flags & 0x10 ) {		/* FCOMMENT */
		memcpy( out + n, "c", 2 );
		n += 2;
	}
	if ( flags & 0x02 ) {		/* FHCRC */
		memcpy( out + n, "\x12\x34", 2 );
		n += 2;
	}
	z.next_in = (unsigned char *)text;
	z.avail_in = (uInt)len;
	z.next_out = out + n;
	z.avail_out = (uInt)( cap - n - 8 );
	assert_int_equal( deflate( &z, Z_FINISH ), Z_STREAM_END );
	n += z.total_out;
	deflateEnd( &z );
	put_le32( out + n, test_crc( (const unsigned char *)text, len ) );
	put_le32( out + n + 4, (uint32_t)len );
	*outlen = n + 8;
	return out;
}

/* As gzip(1) writes a file: with its name. */
static unsigned char *
gzip_text( const char *text, size_t *outlen )
{
	return gzip_flags( text, 0x08, outlen );
}

/* NDJSON of users 0 .. n - 1; line bad_line (1-based, 0: none) is garbage. */
static char *
export_text( int n, int bad_line, const char *conn )
{
	char *s = NULL;
	size_t len;
	FILE *fp = open_memstream( &s, &len );
	int i;

	for ( i = 0; i < n; i++ ) {
		if ( i + 1 == bad_line )
			fputs( "{\"user_id\": \"broken\n", fp );
		if ( conn )
			user_json( fp, i, conn );
		else
			fprintf( fp, "{\"user_id\":\"auth0|u%05d\"}", i );
		fputc( '\n', fp );
	}
	fclose( fp );
	return s;
}

/* The gzip file of text; damage 1: cut in half, 2: a wrong CRC. */
static void
export_file( struct fx *f, const char *url, const char *text, int damage )
{
	size_t len;
	unsigned char *gz = gzip_text( text, &len );
	struct fake_reply r = { .fr_method = "GET", .fr_url = url,
		.fr_status = 200, .fr_body = (const char *)gz,
		.fr_len = damage == 1 ? len / 2 : len };

	if ( damage == 2 )
		gz[len - 8] ^= 0x01;

	fake_add( f->ft, &r );
	free( gz );
}

static const char *
header( const struct fake_sent *s, const char *name )
{
	return s ? strstr( s->fs_headers, name ) : NULL;
}

/* ---- token.c ---- */

static void
token_is_cached_and_sent( void **state )
{
	struct fx *f = *state;
	const struct fake_sent *t, *g;
	cJSON *body;

	token_ok( f );
	reply( f, "GET", BASE "/api/v2/roles", 200, "{}", 0 );
	start( f );
	assert_int_equal( get( f, "/api/v2/roles", NULL ), AUTH0_OK );
	assert_int_equal( get( f, "/api/v2/roles", NULL ), AUTH0_OK );
	assert_int_equal( fake_count( f->ft, "POST", TOKEN_URL ), 1 );
	assert_int_equal( f->api.ap_stats.as_tokens, 1 );
	t = fake_find( f->ft, "POST", TOKEN_URL, 0 );
	assert_true( t->fs_no_auth );
	assert_null( header( t, "Authorization" ) );
	assert_non_null( header( t, "Content-Type: application/json" ) );
	body = cJSON_Parse( t->fs_body );
	assert_string_equal( auth0_json_str( body, "grant_type" ),
		"client_credentials" );
	assert_string_equal( auth0_json_str( body, "client_id" ), "cid" );
	assert_string_equal( auth0_json_str( body, "client_secret" ), SECRET );
	assert_string_equal( auth0_json_str( body, "audience" ), AUD );
	cJSON_Delete( body );
	g = fake_find( f->ft, "GET", BASE "/api/v2/roles", 1 );
	assert_false( g->fs_no_auth );
	assert_non_null( header( g, "Authorization: Bearer tok1\n" ) );
	assert_non_null( header( g, "Accept: application/json" ) );
}

static void
token_renewed_a_minute_before_expiry( void **state )
{
	struct fx *f = *state;

	reply( f, "POST", TOKEN_URL, 200,
		"{\"access_token\":\"tok1\",\"expires_in\":3600}", 1 );
	reply( f, "POST", TOKEN_URL, 200,
		"{\"access_token\":\"tok2\",\"expires_in\":3600}", 1 );
	reply( f, "GET", BASE "/api/v2/roles", 200, "{}", 0 );
	start( f );
	assert_int_equal( get( f, "/api/v2/roles", NULL ), AUTH0_OK );
	f->ft->ft_now += 3600 - 61;
	assert_int_equal( get( f, "/api/v2/roles", NULL ), AUTH0_OK );
	assert_int_equal( fake_count( f->ft, "POST", TOKEN_URL ), 1 );
	f->ft->ft_now += 2;
	assert_int_equal( get( f, "/api/v2/roles", NULL ), AUTH0_OK );
	assert_int_equal( fake_count( f->ft, "POST", TOKEN_URL ), 2 );
	assert_non_null( header( fake_find( f->ft, "GET", BASE, 2 ),
		"Bearer tok2" ) );
}

static void
token_401_renews_once_and_retries( void **state )
{
	struct fx *f = *state;

	reply( f, "POST", TOKEN_URL, 200, TOKEN_OK, 1 );
	reply( f, "POST", TOKEN_URL, 200, "{\"access_token\":\"tok2\"}", 1 );
	reply( f, "GET", BASE "/api/v2/roles", 401, "{\"statusCode\":401,"
		"\"error\":\"Unauthorized\",\"message\":\"Expired token\"}", 1 );
	reply( f, "GET", BASE "/api/v2/roles", 200, "{}", 0 );
	start( f );
	assert_int_equal( get( f, "/api/v2/roles", NULL ), AUTH0_OK );
	assert_int_equal( fake_count( f->ft, "POST", TOKEN_URL ), 2 );
	assert_int_equal( fake_count( f->ft, "GET", BASE ), 2 );
	assert_int_equal( f->api.ap_stats.as_retries, 1 );
	assert_non_null( header( fake_find( f->ft, "GET", BASE, 1 ),
		"Bearer tok2" ) );
}

static void
token_401_twice_fails( void **state )
{
	struct fx *f = *state;

	token_ok( f );
	reply( f, "GET", BASE "/api/v2/roles", 401, "{\"statusCode\":401,"
		"\"error\":\"Unauthorized\",\"message\":\"Invalid token\"}", 0 );
	start( f );
	assert_int_equal( get( f, "/api/v2/roles", NULL ), AUTH0_ERR_HTTP );
	assert_string_equal( f->err, "401 Unauthorized: Invalid token "
		"(GET /api/v2/roles)" );
	assert_int_equal( fake_count( f->ft, "POST", TOKEN_URL ), 2 );
	assert_int_equal( fake_count( f->ft, "GET", BASE ), 2 );
}

static void
token_errors_name_the_audience( void **state )
{
	static const struct {
		long		status;
		const char	*body;
		const char	*expect;
	} cases[] = {
		{ 401, "{\"error\":\"access_denied\",\"error_description\":"
			"\"Unauthorized\"}", "token for " AUD ": 401 access_denied: "
			"Unauthorized (POST /oauth/token); check the client id and "
			"secret" },
		{ 403, "{\"error\":\"access_denied\",\"error_description\":"
			"\"Service not found: " AUD "\"}", "token for " AUD ": 403 "
			"access_denied: Service not found: " AUD " (POST "
			"/oauth/token)" },
		{ 403, "{\"error\":\"unauthorized_client\",\"error_description\":"
			"\"Grant type 'client_credentials' not allowed for the "
			"client.\"}", "token for " AUD ": 403 unauthorized_client: "
			"Grant type 'client_credentials' not allowed for the client. "
			"(POST /oauth/token)" },
		{ 403, "{\"error\":\"access_denied\",\"error_description\":"
			"\"Client is not authorized to access \\\"" AUD "\\\". You "
			"need to create a \\\"client-grant\\\" associated to this "
			"API.\"}", "; the client needs a grant for this API" },
	};
	struct fx *f = *state;
	size_t i;

	for ( i = 0; i < sizeof( cases ) / sizeof( cases[0] ); i++ ) {
		fake_free( f->ft );
		f->ft = fake_new();
		reply( f, "POST", TOKEN_URL, cases[i].status, cases[i].body, 0 );
		start( f );
		assert_int_equal( get( f, "/api/v2/roles", NULL ),
			AUTH0_ERR_AUTH );
		assert_non_null( strstr( f->err, cases[i].expect ) );
		assert_non_null( strstr( f->err, "token for " AUD ": " ) );
		/* a refusal is not retried, and nothing else is asked */
		assert_int_equal( f->ft->ft_nsent, 1 );
	}
}

/* ---- apicall.c ---- */

static void
query_values_are_encoded( void **state )
{
	static const char *const q[] = { "q",
		"identities.connection:\"Name With Spaces\"", "fields",
		"a,b&c=d", NULL };
	struct fx *f = *state;
	char *esc;

	token_ok( f );
	reply( f, "GET", BASE "/api/v2/users?q=identities.connection%3A%22Name"
		"%20With%20Spaces%22&fields=a%2Cb%26c%3Dd", 200, "{}", 0 );
	start( f );
	assert_int_equal( get( f, "/api/v2/users", q ), AUTH0_OK );
	assert_int_equal( f->ft->ft_unmatched, 0 );
	esc = auth0_api_escape( "auth0|x y/é~._-" );
	assert_string_equal( esc, "auth0%7Cx%20y%2F%C3%A9~._-" );
	free( esc );
}

static void
rate_limit_spaces_requests( void **state )
{
	struct fx *f = *state;
	size_t i;

	token_ok( f );
	reply( f, "GET", BASE "/api/v2/roles", 200, "{}", 0 );
	f->conf.ac_rate = 2;
	start( f );
	for ( i = 0; i < 5; i++ )
		assert_int_equal( get( f, "/api/v2/roles", NULL ), AUTH0_OK );
	assert_int_equal( f->ft->ft_nsent, 6 );
	for ( i = 1; i < f->ft->ft_nsent; i++ )
		assert_true( f->ft->ft_sent[i].fs_time -
			f->ft->ft_sent[i - 1].fs_time >= 0.5 - 1e-9 );
	/* the first request does not wait */
	assert_true( f->ft->ft_sent[0].fs_time == FAKE_EPOCH );
}

static void
no_rate_no_wait( void **state )
{
	struct fx *f = *state;
	size_t i;

	token_ok( f );
	reply( f, "GET", BASE "/api/v2/roles", 200, "{}", 0 );
	start( f );
	for ( i = 0; i < 5; i++ )
		assert_int_equal( get( f, "/api/v2/roles", NULL ), AUTH0_OK );
	assert_true( f->ft->ft_slept == 0 );
}

static void
empty_bucket_waits_for_reset( void **state )
{
	struct fx *f = *state;
	struct fake_reply limited = { .fr_method = "GET",
		.fr_url = BASE "/api/v2/roles", .fr_status = 200, .fr_body = "{}",
		.fr_times = 1, .fr_limited = 1, .fr_reset_in = 3 };

	token_ok( f );
	fake_add( f->ft, &limited );
	reply( f, "GET", BASE "/api/v2/roles", 200, "{}", 0 );
	start( f );
	assert_int_equal( get( f, "/api/v2/roles", NULL ), AUTH0_OK );
	assert_int_equal( get( f, "/api/v2/roles", NULL ), AUTH0_OK );
	assert_true( fake_find( f->ft, "GET", BASE, 1 )->fs_time >=
		fake_find( f->ft, "GET", BASE, 0 )->fs_time + 3 );
	assert_int_equal( f->api.ap_stats.as_429, 0 );
}

/* 429: how long the retry waits, by the headers the answer carries. */
static void
too_many_requests_wait( void **state )
{
	static const struct {
		int	limited;
		double	reset_in;
		long	retry_after;
		int	n429;
		double	waits[3];
	} cases[] = {
		{ 1, 5, 0, 1, { 5 } },		/* until x-ratelimit-reset */
		{ 0, 0, 7, 1, { 7 } },		/* retry-after */
		{ 0, 0, 0, 2, { 0.5, 1 } },	/* backoff 0.5 s, doubling */
		{ 1, 1000, 0, 1, { 60 } },	/* at most ac_max_wait */
	};
	struct fx *f = *state;
	const struct fake_sent *a, *b;
	size_t i;
	int k;

	for ( i = 0; i < sizeof( cases ) / sizeof( cases[0] ); i++ ) {
		struct fake_reply r = { "GET", BASE "/api/v2/roles", 429,
			"{\"statusCode\":429,\"error\":\"Too Many Requests\","
			"\"message\":\"Global limit has been reached\","
			"\"errorCode\":\"too_many_requests\"}", 0, cases[i].n429, 0,
			cases[i].limited, cases[i].reset_in, cases[i].retry_after };
		fake_free( f->ft );
		f->ft = fake_new();
		token_ok( f );
		fake_add( f->ft, &r );
		reply( f, "GET", BASE "/api/v2/roles", 200, "{}", 0 );
		start( f );
		assert_int_equal( get( f, "/api/v2/roles", NULL ), AUTH0_OK );
		for ( k = 0; k < cases[i].n429; k++ ) {
			a = fake_find( f->ft, "GET", BASE, k );
			b = fake_find( f->ft, "GET", BASE, k + 1 );
			assert_true( b->fs_time - a->fs_time >=
				cases[i].waits[k] - 1e-9 );
			assert_true( b->fs_time - a->fs_time <=
				cases[i].waits[k] + 1e-9 );
		}
		assert_int_equal( f->api.ap_stats.as_429, cases[i].n429 );
		assert_int_equal( f->api.ap_stats.as_retries, cases[i].n429 );
	}
}

static void
too_many_requests_exhausted( void **state )
{
	struct fx *f = *state;

	token_ok( f );
	reply( f, "GET", BASE "/api/v2/roles", 429, "{\"statusCode\":429,"
		"\"error\":\"Too Many Requests\",\"message\":\"Global limit has "
		"been reached\",\"errorCode\":\"too_many_requests\"}", 0 );
	start( f );
	assert_int_equal( get( f, "/api/v2/roles", NULL ), AUTH0_ERR_RATELIMIT );
	assert_int_equal( fake_count( f->ft, "GET", BASE ), 3 );
	assert_string_equal( f->err, "429 too_many_requests: Global limit has "
		"been reached (GET /api/v2/roles)" );
}

static void
server_errors_retried_then_flagged( void **state )
{
	struct fx *f = *state;
	struct fake_reply down = { .fr_method = "GET", .fr_url = USERS,
		.fr_times = 1, .fr_transport = AUTH0_HTTP_E_NETWORK };

	/* a transport failure is retried like a 5xx */
	token_ok( f );
	fake_add( f->ft, &down );
	reply( f, "GET", USERS, 200, "{\"users\":[],\"total\":0}", 1 );
	reply( f, "GET", USERS, 503, "{\"statusCode\":503,\"error\":\"Service "
		"Unavailable\",\"message\":\"The query exceeded the timeout.\"}",
		0 );
	reply( f, "GET", ROLES, 200, EMPTY_LIST( "roles" ), 0 );
	reply( f, "GET", CLIENTS, 200, EMPTY_LIST( "clients" ), 0 );
	native_empty( f );
	start( f );
	assert_int_equal( auth0_mgmt_users( &f->api, NULL, &f->m, f->err ),
		AUTH0_OK );
	assert_int_equal( f->api.ap_stats.as_retries, 1 );
	assert_true( f->ft->ft_slept >= 0.5 );
	f->ft->ft_slept = 0;
	assert_int_equal( auth0_api_fetch( &f->api, NULL, &f->m, f->err ),
		AUTH0_ERR_HTTP );
	/* one try and ac_max_retries (2) more, 0.5 s then 1 s apart */
	assert_int_equal( fake_count( f->ft, "GET", USERS ), 2 + 3 );
	assert_true( f->ft->ft_slept >= 1.5 );
	assert_int_equal( f->m.sn_failed, AUTH0_RES_USERS );
	assert_false( f->m.sn_complete );
	assert_string_equal( f->err, "users: 503 Service Unavailable: The query "
		"exceeded the timeout. (GET /api/v2/users)" );
	assert_non_null( strstr( f->warned, "users: 503" ) );
}

static void
malformed_json_is_an_error( void **state )
{
	static const char *const bodies[] = {
		"{\"roles\":[{\"id\":\"rol_1\",\"na",	/* truncated */
		"{\"roles\":[]} trailing",
		"",
		"<html>oops</html>",
	};
	struct fx *f = *state;
	size_t i;

	for ( i = 0; i < sizeof( bodies ) / sizeof( bodies[0] ); i++ ) {
		fake_free( f->ft );
		f->ft = fake_new();
		token_ok( f );
		reply( f, "GET", BASE "/api/v2/roles", 200, bodies[i], 0 );
		start( f );
		assert_int_equal( get( f, "/api/v2/roles", NULL ), AUTH0_ERR_JSON );
		assert_non_null( strstr( f->err, "not valid JSON" ) );
		assert_non_null( strstr( f->err, "(GET /api/v2/roles)" ) );
	}
}

static void
insufficient_scope_names_the_scope( void **state )
{
	struct fx *f = *state;

	token_ok( f );
	reply( f, "GET", USERS, 403, "{\"statusCode\":403,\"error\":\"Forbidden\","
		"\"message\":\"Insufficient scope, expected any of: read:users\","
		"\"errorCode\":\"insufficient_scope\"}", 0 );
	start( f );
	assert_int_equal( auth0_mgmt_users( &f->api, NULL, &f->m, f->err ),
		AUTH0_ERR_HTTP );
	assert_string_equal( f->err, "403 insufficient_scope: Insufficient "
		"scope, expected any of: read:users (GET /api/v2/users)" );
	/* a 403 is not retried */
	assert_int_equal( fake_count( f->ft, "GET", USERS ), 1 );
}

/* ---- mgmt.c: users ---- */

static void
users_paging_stops_at_total( void **state )
{
	struct fx *f = *state;
	char *conns[] = { "DB", NULL };
	struct auth0_select sel = { conns };

	token_ok( f );
	users_of( f, "DB", "&q=identities.connection%3A%22DB%22", 250 );
	start( f );
	assert_int_equal( auth0_mgmt_users( &f->api, &sel, &f->m, f->err ),
		AUTH0_OK );
	assert_int_equal( f->m.sn_nusers, 250 );
	assert_true( f->m.sn_complete );
	assert_int_equal( fake_count( f->ft, "GET", USERS ), 3 );
	assert_int_equal( f->ft->ft_unmatched, 0 );
	assert_string_equal( f->m.sn_users[249].us_id, "auth0|u00249" );
	assert_string_equal( f->m.sn_users[0].us_connection, "DB" );
}

static void
users_exact_page_needs_one_request( void **state )
{
	static const int totals[] = { 0, 1, 100, 101, 1000 };
	struct fx *f = *state;
	char *conns[] = { "DB", NULL };
	struct auth0_select sel = { conns };
	size_t i;

	for ( i = 0; i < sizeof( totals ) / sizeof( totals[0] ); i++ ) {
		fake_free( f->ft );
		f->ft = fake_new();
		reset_model( f );
		token_ok( f );
		users_of( f, "DB", "&q=identities.connection%3A%22DB%22",
			totals[i] );
		start( f );
		assert_int_equal( auth0_mgmt_users( &f->api, &sel, &f->m,
			f->err ), AUTH0_OK );
		assert_int_equal( f->m.sn_nusers, totals[i] );
		assert_int_equal( fake_count( f->ft, "GET", USERS ),
			totals[i] ? ( totals[i] + 99 ) / 100 : 1 );
		assert_int_equal( f->ft->ft_unmatched, 0 );
	}
}

static void
no_selection_searches_the_tenant_once( void **state )
{
	struct fx *f = *state;

	token_ok( f );
	users_of( f, "DB", "", 120 );
	start( f );
	assert_int_equal( auth0_mgmt_users( &f->api, NULL, &f->m, f->err ),
		AUTH0_OK );
	assert_int_equal( f->m.sn_nusers, 120 );
	assert_null( strstr( f->ft->ft_sent[1].fs_url, "q=" ) );
	assert_int_equal( fake_count( f->ft, "GET", BASE "/api/v2/connections" ),
		0 );
	assert_int_equal( f->ft->ft_nsent, 1 + 2 );
}

static void
linked_user_comes_once( void **state )
{
	struct fx *f = *state;
	char *conns[] = { "A", "B", "A", NULL };
	struct auth0_select sel = { conns };

	token_ok( f );
	reply( f, "GET", USERS "0&include_totals=true&sort=created_at%3A1"
		"&q=identities.connection%3A%22A%22", 200, "{\"total\":2,\"users\":"
		"[{\"user_id\":\"a1\",\"identities\":[{\"connection\":\"A\"}]},"
		"{\"user_id\":\"b1\",\"identities\":[{\"connection\":\"B\"},"
		"{\"connection\":\"A\"}]}]}", 0 );
	reply( f, "GET", USERS "0&include_totals=true&sort=created_at%3A1"
		"&q=identities.connection%3A%22B%22", 200, "{\"total\":1,\"users\":"
		"[{\"user_id\":\"b1\",\"identities\":[{\"connection\":\"B\"},"
		"{\"connection\":\"A\"}]}]}", 0 );
	start( f );
	assert_int_equal( auth0_mgmt_users( &f->api, &sel, &f->m, f->err ),
		AUTH0_OK );
	assert_int_equal( f->m.sn_nusers, 2 );
	assert_string_equal( f->m.sn_users[0].us_id, "a1" );
	assert_string_equal( f->m.sn_users[1].us_id, "b1" );
	/* "A" listed twice is searched once */
	assert_int_equal( fake_count( f->ft, "GET", USERS ), 2 );
}

static void
users_total_moving_marks_incomplete( void **state )
{
	struct fx *f = *state;
	char *p0 = users_page( "DB", 0, 100, 150 ), *p1 = users_page( "DB", 100,
		49, 149 );

	token_ok( f );
	reply( f, "GET", USERS "0&", 200, p0, 0 );
	reply( f, "GET", USERS "1&", 200, p1, 0 );
	free( p0 );
	free( p1 );
	start( f );
	assert_int_equal( auth0_mgmt_users( &f->api, NULL, &f->m, f->err ),
		AUTH0_OK );
	assert_int_equal( f->m.sn_nusers, 149 );
	assert_false( f->m.sn_complete );
	assert_non_null( strstr( f->warned, "changed while being paged" ) );
}

static void
bad_user_record_reported_not_fatal( void **state )
{
	struct fx *f = *state;

	token_ok( f );
	reply( f, "GET", USERS "0&", 200, "{\"total\":2,\"users\":[{\"email\":"
		"\"x@y\"},{\"user_id\":\"ok\"}]}", 0 );
	start( f );
	assert_int_equal( auth0_mgmt_users( &f->api, NULL, &f->m, f->err ),
		AUTH0_OK );
	assert_int_equal( f->m.sn_nusers, 1 );
	assert_int_equal( f->m.sn_bad, 1 );
	assert_non_null( strstr( f->warned, "users of the tenant, page 0, "
		"record 1: user record has no user_id" ) );
}

/* ---- export.c ---- */

#define JOB_URL		BASE "/api/v2/jobs/job_1"
#define DL_URL		"https://dl.test/job_1.json.gz"
#define JOB_DONE	"{\"id\":\"job_1\",\"status\":\"completed\"," \
			"\"location\":\"" DL_URL "?Expires=1&Signature=sig\"}"

static void
export_job_replies( struct fx *f )
{
	reply( f, "POST", BASE "/api/v2/jobs/users-exports", 200,
		"{\"type\":\"users_export\",\"status\":\"pending\",\"id\":\"job_1\"}",
		0 );
	reply( f, "GET", JOB_URL, 200, "{\"id\":\"job_1\",\"status\":\"pending\"}",
		1 );
	reply( f, "GET", JOB_URL, 200, "{\"id\":\"job_1\",\"status\":"
		"\"processing\",\"percentage_done\":50,\"time_left_seconds\":3}",
		1 );
	reply( f, "GET", JOB_URL, 200, JOB_DONE, 0 );
}

static void
big_connection_goes_to_export( void **state )
{
	struct fx *f = *state;
	char *conns[] = { "Big", NULL };
	struct auth0_select sel = { conns };
	char *page = users_page( "Big", 0, 100, 1500 );
	char *text = export_text( 1500, 3, "Big" );
	struct auth0_maprule rule = { "employeeNumber", "hr.id" };
	const struct fake_sent *post, *dl;
	cJSON *body;

	token_ok( f );
	reply( f, "GET", USERS "0&", 200, page, 0 );
	reply( f, "GET", CONNS, 200, "{\"connections\":[{\"id\":\"con_1\","
		"\"name\":\"Other\"},{\"id\":\"con_big\",\"name\":\"Big\"}]}", 0 );
	export_job_replies( f );
	export_file( f, DL_URL, text, 0 );
	free( page );
	free( text );
	f->m.sn_rules = &rule;
	f->m.sn_nrules = 1;
	start( f );
	assert_int_equal( auth0_mgmt_users( &f->api, &sel, &f->m, f->err ),
		AUTH0_OK );
	assert_int_equal( f->m.sn_nusers, 1500 );
	assert_int_equal( f->m.sn_bad, 1 );
	assert_false( f->m.sn_complete );
	assert_non_null( strstr( f->warned, "users export line 3: malformed "
		"JSON, line skipped" ) );
	/* token, first page, connections, job, 3 polls, download */
	assert_int_equal( f->ft->ft_nsent, 8 );
	assert_int_equal( f->ft->ft_unmatched, 0 );
	assert_int_equal( f->api.ap_stats.as_exports, 1 );
	/* polls slept ac_poll_interval, then the job's estimate */
	assert_true( f->ft->ft_slept >= 1 + 3 );
	post = fake_find( f->ft, "POST", BASE "/api/v2/jobs", 0 );
	body = cJSON_Parse( post->fs_body );
	assert_string_equal( auth0_json_str( body, "connection_id" ), "con_big" );
	assert_string_equal( auth0_json_str( body, "format" ), "json" );
	assert_non_null( strstr( post->fs_body, "{\"name\":\"app_metadata\"}" ) );
	assert_non_null( strstr( post->fs_body, "{\"name\":\"identities\"}" ) );
	/* the top of an auth0-map-attribute path is exported too */
	assert_non_null( strstr( post->fs_body, "{\"name\":\"hr\"}" ) );
	cJSON_Delete( body );
	dl = fake_find( f->ft, "GET", DL_URL, 0 );
	assert_true( dl->fs_no_auth );
	assert_true( dl->fs_sink );
	assert_null( header( dl, "Authorization" ) );
	f->m.sn_rules = NULL;
	f->m.sn_nrules = 0;
	reset_model( f );
}

static void
tenant_export_reports_progress( void **state )
{
	struct fx *f = *state;
	char *page = users_page( "DB", 0, 100, 25000 );
	char *text = export_text( 25000, 0, NULL );
	const struct fake_sent *post;

	token_ok( f );
	reply( f, "GET", USERS "0&", 200, page, 0 );
	export_job_replies( f );
	export_file( f, DL_URL, text, 0 );
	free( page );
	free( text );
	f->ft->ft_chunk = 4096;
	start( f );
	assert_int_equal( auth0_mgmt_users( &f->api, NULL, &f->m, f->err ),
		AUTH0_OK );
	assert_int_equal( f->m.sn_nusers, 25000 );
	assert_true( f->m.sn_complete );
	assert_int_equal( f->nprogress, 2 );
	assert_int_equal( f->progress[0], 10000 );
	assert_int_equal( f->progress[1], 20000 );
	assert_int_equal( f->progress_total, 25000 );
	/* the whole tenant: no connection listed, none named */
	assert_int_equal( fake_count( f->ft, "GET", BASE "/api/v2/connections" ),
		0 );
	post = fake_find( f->ft, "POST", BASE "/api/v2/jobs", 0 );
	assert_null( strstr( post->fs_body, "connection_id" ) );
}

static void
export_download_failures( void **state )
{
	static const struct {
		const char	*body;		/* NULL: cut, "": bad CRC */
		long		status;
		int		rc;
		const char	*expect;
	} cases[] = {
		{ NULL, 200, AUTH0_ERR_DATA, "export file: truncated" },
		{ "this is not gzip", 200, AUTH0_ERR_DATA, "corrupt gzip data "
			"(not gzip data)" },
		{ "", 200, AUTH0_ERR_DATA, "CRC or length mismatch" },
		{ "<Error>AccessDenied</Error>", 403, AUTH0_ERR_HTTP,
			"403 Forbidden (GET export file)" },
	};
	struct fx *f = *state;
	size_t i;

	for ( i = 0; i < sizeof( cases ) / sizeof( cases[0] ); i++ ) {
		char *page = users_page( "DB", 0, 100, 1500 );
		char *text = export_text( 1500, 0, "DB" );
		fake_free( f->ft );
		f->ft = fake_new();
		reset_model( f );
		f->warned[0] = '\0';
		token_ok( f );
		reply( f, "GET", USERS "0&", 200, page, 0 );
		export_job_replies( f );
		if ( cases[i].body && cases[i].body[0] )
			reply( f, "GET", DL_URL, cases[i].status, cases[i].body, 0 );
		else
			export_file( f, DL_URL, text, cases[i].body ? 2 : 1 );
		free( page );
		free( text );
		start( f );
		assert_int_equal( auth0_mgmt_users( &f->api, NULL, &f->m, f->err ),
			cases[i].rc );
		assert_non_null( strstr( f->err, cases[i].expect ) );
		/* the pre-signed query never reaches a message */
		assert_null( strstr( f->err, "Signature" ) );
		assert_int_equal( f->m.sn_bad, 0 );
	}
	/* a refused location was asked afresh from the job, once */
	assert_int_equal( fake_count( f->ft, "GET", DL_URL ), 2 );
}

static void
export_gzip_members_and_last_line( void **state )
{
	struct fx *f = *state;
	char *page = users_page( "DB", 0, 100, 1001 );
	size_t l1, l2;
	unsigned char *g1 = gzip_flags( "{\"user_id\":\"a\"}\n{\"user_id\":",
		0, &l1 );
	unsigned char *g2 = gzip_flags( "\"b\"}\n\n{\"user_id\":\"c\"}",
		0x02 | 0x04 | 0x08 | 0x10, &l2 );
	char *both = malloc( l1 + l2 + 3 );
	struct fake_reply file = { .fr_method = "GET", .fr_url = DL_URL,
		.fr_status = 200, .fr_body = both, .fr_len = l1 + l2 + 3 };

	/*
	 * Two gzip members make one file, a line may span them, every
	 * optional header field is skipped, zero padding is allowed.
	 */
	memcpy( both, g1, l1 );
	memcpy( both + l1, g2, l2 );
	memset( both + l1 + l2, 0, 3 );
	token_ok( f );
	reply( f, "GET", USERS "0&", 200, page, 0 );
	export_job_replies( f );
	fake_add( f->ft, &file );
	free( page );
	free( g1 );
	free( g2 );
	free( both );
	start( f );
	assert_int_equal( auth0_mgmt_users( &f->api, NULL, &f->m, f->err ),
		AUTH0_OK );
	assert_int_equal( f->m.sn_nusers, 3 );
	assert_string_equal( f->m.sn_users[1].us_id, "b" );
	assert_string_equal( f->m.sn_users[2].us_id, "c" );
	assert_int_equal( f->m.sn_bad, 0 );
}

static void
export_garbage_download_aborted( void **state )
{
	struct fx *f = *state;
	char *page = users_page( "DB", 0, 100, 1001 );
	size_t len = 3 * 1024 * 1024;
	char *junk = malloc( len );
	struct fake_reply file = { .fr_method = "GET", .fr_url = DL_URL,
		.fr_status = 200, .fr_body = junk, .fr_len = len };

	memset( junk, 'x', len );
	token_ok( f );
	reply( f, "GET", USERS "0&", 200, page, 0 );
	export_job_replies( f );
	fake_add( f->ft, &file );
	free( page );
	free( junk );
	f->ft->ft_chunk = 65536;
	start( f );
	/* not gzip: given up after a bounded amount, not read to the end */
	assert_int_equal( auth0_mgmt_users( &f->api, NULL, &f->m, f->err ),
		AUTH0_ERR_DATA );
	assert_non_null( strstr( f->err, "export file: corrupt gzip data" ) );
	assert_int_equal( fake_count( f->ft, "GET", DL_URL ), 1 );
}

static void
export_lapsed_location_renewed( void **state )
{
	struct fx *f = *state;
	char *page = users_page( "DB", 0, 100, 1200 );
	char *text = export_text( 1200, 0, "DB" );

	token_ok( f );
	reply( f, "GET", USERS "0&", 200, page, 0 );
	export_job_replies( f );
	reply( f, "GET", DL_URL, 403, "<Error>expired</Error>", 1 );
	export_file( f, DL_URL, text, 0 );
	free( page );
	free( text );
	start( f );
	assert_int_equal( auth0_mgmt_users( &f->api, NULL, &f->m, f->err ),
		AUTH0_OK );
	assert_int_equal( f->m.sn_nusers, 1200 );
	assert_int_equal( fake_count( f->ft, "GET", JOB_URL ), 4 );
}

static void
export_job_failed_or_slow( void **state )
{
	struct fx *f = *state;
	char *page = users_page( "DB", 0, 100, 1500 );

	token_ok( f );
	reply( f, "GET", USERS "0&", 200, page, 0 );
	reply( f, "POST", BASE "/api/v2/jobs/users-exports", 200,
		"{\"status\":\"pending\",\"id\":\"job_1\"}", 0 );
	reply( f, "GET", JOB_URL, 200, "{\"id\":\"job_1\",\"status\":\"failed\","
		"\"status_details\":\"The export failed (simulated).\"}", 1 );
	reply( f, "GET", JOB_URL, 200, "{\"id\":\"job_1\",\"status\":"
		"\"processing\"}", 0 );
	start( f );
	assert_int_equal( auth0_mgmt_users( &f->api, NULL, &f->m, f->err ),
		AUTH0_ERR_JOB );
	assert_string_equal( f->err, "export job job_1 failed: The export "
		"failed (simulated)." );
	f->conf.ac_export_timeout = 10;
	start( f );
	assert_int_equal( auth0_mgmt_users( &f->api, NULL, &f->m, f->err ),
		AUTH0_ERR_JOB );
	assert_non_null( strstr( f->err, "export job job_1 still processing "
		"after" ) );
	/* polled every second, within the 10 s allowed */
	assert_int_equal( fake_count( f->ft, "GET", JOB_URL ), 1 + 10 );
	free( page );
}

static void
export_connection_not_listed( void **state )
{
	struct fx *f = *state;
	char *conns[] = { "Gone", NULL };
	struct auth0_select sel = { conns };
	char *page = users_page( "Gone", 0, 100, 5000 );

	token_ok( f );
	reply( f, "GET", USERS "0&", 200, page, 0 );
	reply( f, "GET", CONNS, 200, "{\"connections\":[{\"id\":\"c\",\"name\":"
		"\"DB\"}],\"next\":\"n1\"}", 1 );
	reply( f, "GET", CONNS "&from=n1", 200, "{\"connections\":[]}", 0 );
	start( f );
	assert_int_equal( auth0_mgmt_users( &f->api, &sel, &f->m, f->err ),
		AUTH0_ERR_DATA );
	assert_non_null( strstr( f->err, "connection Gone" ) );
	free( page );
}

/* ---- mgmt.c: roles and clients ---- */

static void
role_replies( struct fx *f )
{
	reply( f, "GET", ROLES "0&", 200, "{\"roles\":[{\"id\":\"rol_1\","
		"\"name\":\"Admins\",\"description\":\"All\"},{\"id\":\"rol_2\","
		"\"name\":\"Empty\"}],\"start\":0,\"limit\":100,\"total\":2}", 0 );
	/* the more specific prefix first: the fake takes the first match */
	reply( f, "GET", BASE "/api/v2/roles/rol_1/users?take=100&from=CP1",
		200, "{\"users\":[{\"user_id\":\"c\",\"email\":\"c@x\"}]}", 0 );
	reply( f, "GET", BASE "/api/v2/roles/rol_1/users?take=100", 200,
		"{\"users\":[{\"user_id\":\"a\"},{\"user_id\":\"b\"}],"
		"\"next\":\"CP1\"}", 0 );
	reply( f, "GET", BASE "/api/v2/roles/rol_1/permissions?per_page=100"
		"&page=0&", 200, "{\"permissions\":[{\"permission_name\":"
		"\"read:docs\",\"resource_server_identifier\":\"https://docs\"}],"
		"\"start\":0,\"limit\":100,\"total\":1}", 0 );
	reply( f, "GET", BASE "/api/v2/roles/rol_2/users?take=100", 200,
		"{\"users\":[]}", 0 );
	reply( f, "GET", BASE "/api/v2/roles/rol_2/permissions", 200,
		EMPTY_LIST( "permissions" ), 0 );
}

static void
roles_follow_checkpoints( void **state )
{
	struct fx *f = *state;
	struct auth0_role *r;

	token_ok( f );
	role_replies( f );
	start( f );
	assert_int_equal( auth0_mgmt_roles( &f->api, &f->m, f->err ), AUTH0_OK );
	assert_int_equal( f->m.sn_nroles, 2 );
	r = &f->m.sn_roles[0];
	assert_string_equal( r->ro_id, "rol_1" );
	assert_string_equal( r->ro_desc, "All" );
	assert_int_equal( auth0_strv_len( r->ro_users ), 3 );
	assert_string_equal( r->ro_users[2], "c" );
	assert_int_equal( auth0_strv_len( r->ro_perms ), 1 );
	assert_string_equal( r->ro_perms[0], "read:docs" );
	assert_int_equal( auth0_strv_len( f->m.sn_roles[1].ro_users ), 0 );
	/* token, roles, rol_1: 2 member pages + 1, rol_2: 1 + 1 */
	assert_int_equal( f->ft->ft_nsent, 1 + 1 + 3 + 2 );
	assert_int_equal( f->ft->ft_unmatched, 0 );
}

static void
roles_offset_paging_by_total( void **state )
{
	struct fx *f = *state;
	char *p0 = NULL, *p1 = NULL;
	int i;

	cat( &p0, "{\"start\":0,\"limit\":100,\"total\":101,\"roles\":[" );
	for ( i = 0; i < 100; i++ )
		cat( &p0, "%s{\"id\":\"r%d\",\"name\":\"R%d\"}", i ? "," : "", i, i );
	cat( &p0, "]}" );
	cat( &p1, "{\"start\":100,\"limit\":100,\"total\":101,\"roles\":["
		"{\"id\":\"r100\",\"name\":\"R100\"}]}" );
	token_ok( f );
	reply( f, "GET", ROLES "0&", 200, p0, 0 );
	reply( f, "GET", ROLES "1&", 200, p1, 0 );
	reply( f, "GET", BASE "/api/v2/roles/r", 200, "{\"users\":[],"
		"\"permissions\":[],\"total\":0}", 0 );
	free( p0 );
	free( p1 );
	start( f );
	assert_int_equal( auth0_mgmt_roles( &f->api, &f->m, f->err ), AUTH0_OK );
	assert_int_equal( f->m.sn_nroles, 101 );
	assert_int_equal( fake_count( f->ft, "GET", ROLES ), 2 );
	assert_int_equal( f->ft->ft_nsent, 1 + 2 + 2 * 101 );
}

static void
clients_in_one_page( void **state )
{
	struct fx *f = *state;

	token_ok( f );
	reply( f, "GET", CLIENTS "0&include_totals=true", 200,
		"{\"clients\":[{\"client_id\":\"app1\",\"name\":\"Jenkins\","
		"\"app_type\":\"regular_web\"},{\"client_id\":\"app2\"}],"
		"\"start\":0,\"limit\":100,\"total\":2}", 0 );
	start( f );
	assert_int_equal( auth0_mgmt_clients( &f->api, &f->m, f->err ),
		AUTH0_OK );
	assert_int_equal( f->m.sn_nclients, 2 );
	assert_string_equal( f->m.sn_clients[0].cl_type, "regular_web" );
	assert_string_equal( f->m.sn_clients[1].cl_name, "app2" );
	assert_int_equal( f->ft->ft_nsent, 2 );
	assert_int_equal( f->ft->ft_unmatched, 0 );
}

/* ---- authz.c ---- */

static void
authz_replies( struct fx *f )
{
	reply( f, "POST", TOKEN_URL, 200, "{\"access_token\":\"tokz\"}", 0 );
	reply( f, "GET", AUTHZ_URL "/groups", 200, "{\"groups\":[{\"_id\":\"g1\","
		"\"name\":\"HR\",\"members\":[\"auth0|u00001\"],\"nested\":[\"g2\"],"
		"\"roles\":[\"r1\"],\"mappings\":[{\"_id\":\"m\",\"groupName\":"
		"\"Staff\",\"connectionName\":\"DB\"}]},{\"_id\":\"g2\",\"name\":"
		"\"Sub\",\"members\":[]}],\"total\":2}", 0 );
	reply( f, "GET", AUTHZ_URL "/roles", 200, "{\"roles\":[{\"_id\":\"r1\","
		"\"name\":\"Approver\",\"applicationType\":\"client\","
		"\"applicationId\":\"app1\",\"permissions\":[\"p1\"]}],"
		"\"total\":1}", 0 );
	reply( f, "GET", AUTHZ_URL "/permissions", 200, "{\"permissions\":[{"
		"\"_id\":\"p1\",\"name\":\"approve\"}],\"total\":1}", 0 );
}

static void
authz_assembled( void **state )
{
	struct fx *f = *state;
	const struct fake_sent *t;
	cJSON *body;

	authz_replies( f );
	f->conf.ac_authz_url = AUTHZ_URL "/";	/* a trailing slash is fine */
	start( f );
	assert_int_equal( auth0_authz_fetch( &f->api, &f->m, f->err ),
		AUTH0_OK );
	assert_int_equal( f->m.sn_ngroups, 2 );
	assert_string_equal( f->m.sn_groups[0].gr_name, "HR" );
	assert_string_equal( f->m.sn_groups[0].gr_nested[0], "g2" );
	assert_int_equal( f->m.sn_groups[0].gr_nmappings, 1 );
	assert_int_equal( f->m.sn_nroles, 1 );
	assert_int_equal( f->m.sn_roles[0].ro_kind, AUTH0_ROLE_AUTHZ );
	assert_string_equal( f->m.sn_roles[0].ro_perms[0], "approve" );
	assert_string_equal( f->m.sn_roles[0].ro_client, "app1" );
	assert_int_equal( f->ft->ft_nsent, 4 );
	assert_int_equal( f->ft->ft_unmatched, 0 );
	t = fake_find( f->ft, "POST", TOKEN_URL, 0 );
	body = cJSON_Parse( t->fs_body );
	assert_string_equal( auth0_json_str( body, "audience" ),
		"urn:auth0-authz-api" );
	cJSON_Delete( body );
	assert_non_null( header( fake_find( f->ft, "GET", AUTHZ_URL, 2 ),
		"Authorization: Bearer tokz" ) );
}

/* ---- nativeapi.c: connections, native groups, organizations ---- */

#define GROUPS		BASE "/api/v2/groups?take=100"
#define ORGS		BASE "/api/v2/organizations?take=100"
#define ORG_MEMBERS	BASE "/api/v2/organizations/org_1/members?fields=" \
			"user_id%2Croles&include_fields=true&take=100"

/*
 * One connection enabled for app1; grp_1 (members over two pages, grp_2
 * nested, role rol_1 assigned) and grp_2; org_1 with a member holding
 * rol_1 there.  10 requests: 2 connections, 6 groups (list, rol_1's and
 * rol_2's groups, 2 + 1 member pages), 2 organizations.
 */
static void
native_replies( struct fx *f )
{
	reply( f, "GET", CONNS, 200, "{\"connections\":[{\"id\":\"con_1\","
		"\"name\":\"DB\"}]}", 0 );
	reply( f, "GET", BASE "/api/v2/connections/con_1/clients?take=100", 200,
		"{\"clients\":[{\"client_id\":\"app1\"}]}", 0 );
	reply( f, "GET", GROUPS, 200, "{\"groups\":[{\"id\":\"grp_1\","
		"\"name\":\"Eng\",\"connection_id\":\"con_1\"},{\"id\":"
		"\"grp_2\",\"name\":\"Ops\",\"tenant_name\":\"t\"}]}", 0 );
	reply( f, "GET", BASE "/api/v2/roles/rol_1/groups?take=100", 200,
		"{\"groups\":[{\"id\":\"grp_1\",\"name\":\"Eng\"}]}", 0 );
	reply( f, "GET", BASE "/api/v2/roles/rol_2/groups?take=100", 200,
		"{\"groups\":[]}", 0 );
	reply( f, "GET", BASE "/api/v2/groups/grp_1/members?take=100&from=M1",
		200, "{\"members\":[{\"id\":\"grp_2\",\"member_type\":"
		"\"group\"}]}", 0 );
	reply( f, "GET", BASE "/api/v2/groups/grp_1/members?take=100", 200,
		"{\"members\":[{\"id\":\"auth0|1\",\"member_type\":\"user\","
		"\"type\":\"connection\"}],\"next\":\"M1\"}", 0 );
	reply( f, "GET", BASE "/api/v2/groups/grp_2/members?take=100", 200,
		"{\"members\":[{\"id\":\"auth0|2\",\"member_type\":\"user\"}]}",
		0 );
	reply( f, "GET", ORGS, 200, "{\"organizations\":[{\"id\":\"org_1\","
		"\"name\":\"acme\",\"display_name\":\"Acme\"}]}", 0 );
	reply( f, "GET", ORG_MEMBERS, 200, "{\"members\":[{\"user_id\":"
		"\"auth0|1\",\"roles\":[{\"id\":\"rol_1\",\"name\":"
		"\"Admins\"}]}]}", 0 );
}

/* A tenant without any: one empty list each. */
static void
native_empty( struct fx *f )
{
	reply( f, "GET", CONNS, 200, "{\"connections\":[]}", 0 );
	reply( f, "GET", GROUPS, 200, "{\"groups\":[]}", 0 );
	reply( f, "GET", ORGS, 200, "{\"organizations\":[]}", 0 );
}

static void
native_resources_assembled( void **state )
{
	struct fx *f = *state;
	unsigned res = 0;

	native_replies( f );
	role_replies( f );
	reply( f, "POST", TOKEN_URL, 200, TOKEN_OK, 1 );
	start( f );
	assert_int_equal( auth0_mgmt_roles( &f->api, &f->m, f->err ), AUTH0_OK );
	f->ft->ft_nsent = 0;
	assert_int_equal( auth0_mgmt_connections( &f->api, &f->m, f->err ),
		AUTH0_OK );
	assert_int_equal( auth0_mgmt_groups( &f->api, &f->m, &res, f->err ),
		AUTH0_OK );
	assert_int_equal( auth0_mgmt_orgs( &f->api, &f->m, &res, f->err ),
		AUTH0_OK );
	assert_int_equal( f->ft->ft_nsent, 10 );
	assert_int_equal( f->ft->ft_unmatched, 0 );
	assert_int_equal( f->m.sn_nconns, 1 );
	assert_string_equal( f->m.sn_conns[0].cn_clients[0], "app1" );
	assert_int_equal( f->m.sn_ngroups, 2 );
	assert_string_equal( f->m.sn_groups[0].gr_id, "grp_1" );
	assert_int_equal( f->m.sn_groups[0].gr_source, AUTH0_GSRC_NATIVE );
	assert_string_equal( f->m.sn_groups[0].gr_type, "connection" );
	assert_string_equal( f->m.sn_groups[0].gr_members[0], "auth0|1" );
	assert_string_equal( f->m.sn_groups[0].gr_nested[0], "grp_2" );
	assert_string_equal( f->m.sn_groups[0].gr_roles[0], "rol_1" );
	assert_int_equal( auth0_strv_len( f->m.sn_groups[1].gr_roles ), 0 );
	assert_int_equal( f->m.sn_norgs, 1 );
	assert_string_equal( f->m.sn_orgs[0].og_members[0].om_roles[0], "rol_1" );
	assert_string_equal( f->warned, "" );
}

/* Without groups no role is assigned to one: three requests in all. */
static void
no_groups_asks_no_role_groups( void **state )
{
	struct fx *f = *state;
	unsigned res = 0;

	native_empty( f );
	role_replies( f );
	reply( f, "POST", TOKEN_URL, 200, TOKEN_OK, 1 );
	start( f );
	assert_int_equal( auth0_mgmt_roles( &f->api, &f->m, f->err ), AUTH0_OK );
	f->ft->ft_nsent = 0;
	assert_int_equal( auth0_mgmt_connections( &f->api, &f->m, f->err ),
		AUTH0_OK );
	assert_int_equal( auth0_mgmt_groups( &f->api, &f->m, &res, f->err ),
		AUTH0_OK );
	assert_int_equal( auth0_mgmt_orgs( &f->api, &f->m, &res, f->err ),
		AUTH0_OK );
	assert_int_equal( f->ft->ft_nsent, 3 );
	assert_int_equal( fake_count( f->ft, "GET", BASE "/api/v2/roles/rol_1/"
		"groups" ), 0 );
	assert_int_equal( f->ft->ft_unmatched, 0 );
}

static void tenant_replies( struct fx *f );

static void
native_403_names_the_scope_and_resource( void **state )
{
	struct fx *f = *state;
	char *conns[] = { "DB", NULL };
	struct auth0_select sel = { conns };

	reply( f, "GET", BASE "/api/v2/groups/grp_2/members", 403,
		"{\"statusCode\":403,\"error\":\"Forbidden\",\"message\":"
		"\"Insufficient scope, expected any of: read:group_members\","
		"\"errorCode\":\"insufficient_scope\"}", 0 );
	reply( f, "GET", ORG_MEMBERS, 403, "{\"statusCode\":403,\"error\":"
		"\"Forbidden\",\"message\":\"Insufficient scope, expected any "
		"of: read:organization_member_roles\",\"errorCode\":"
		"\"insufficient_scope\"}", 0 );
	tenant_replies( f );
	f->conf.ac_authz_url = AUTHZ_URL;
	start( f );
	assert_int_equal( auth0_api_fetch( &f->api, &sel, &f->m, f->err ),
		AUTH0_ERR_HTTP );
	assert_int_equal( f->m.sn_failed, AUTH0_RES_GROUP_MEMBERS |
		AUTH0_RES_ORG_MEMBERS );
	assert_int_equal( f->m.sn_norgs, 0 );
	assert_int_equal( f->m.sn_nconns, 1 );
	/* only the extension's groups: the native ones were not added */
	assert_int_equal( f->m.sn_ngroups, 2 );
	assert_int_equal( f->m.sn_groups[0].gr_source, AUTH0_GSRC_AUTHZ );
	assert_non_null( strstr( f->warned, "group members: 403 "
		"insufficient_scope: Insufficient scope, expected any of: "
		"read:group_members" ) );
	assert_non_null( strstr( f->warned, "organization members: 403" ) );
	assert_non_null( strstr( f->warned, "read:organization_member_roles" ) );
}

/* ---- auth0_api_fetch ---- */

/* A tenant of 250 users in DB, 2 roles, 2 clients, the extension. */
static void
tenant_replies( struct fx *f )
{
	reply( f, "POST", TOKEN_URL, 200, TOKEN_OK, 1 );
	users_of( f, "DB", "&q=identities.connection%3A%22DB%22", 250 );
	role_replies( f );
	reply( f, "GET", CLIENTS "0&", 200, "{\"clients\":[{\"client_id\":"
		"\"app1\",\"name\":\"Jenkins\"},{\"client_id\":\"app2\"}],"
		"\"total\":2}", 0 );
	authz_replies( f );
	native_replies( f );
}

static void
full_fetch_uses_fewest_requests( void **state )
{
	struct fx *f = *state;
	char *conns[] = { "DB", NULL };
	struct auth0_select sel = { conns };

	tenant_replies( f );
	f->conf.ac_authz_url = AUTHZ_URL;
	start( f );
	assert_int_equal( auth0_api_fetch( &f->api, &sel, &f->m, f->err ),
		AUTH0_OK );
	assert_string_equal( f->err, "" );
	assert_int_equal( f->m.sn_failed, 0 );
	assert_true( f->m.sn_complete );
	assert_int_equal( f->m.sn_nusers, 250 );
	assert_int_equal( f->m.sn_nroles, 2 + 1 );
	assert_int_equal( f->m.sn_nclients, 2 );
	assert_int_equal( f->m.sn_ngroups, 2 + 2 );
	assert_int_equal( f->m.sn_norgs, 1 );
	/*
	 * 2 tokens; users ceil(250/100) = 3; roles 1 page + per role its
	 * member pages (2, 1) and permission pages (1, 1); clients 1;
	 * extension 3; connections, native groups, organizations 10
	 * (native_replies).  No export was needed.
	 */
	assert_int_equal( f->ft->ft_nsent, 2 + 3 + 1 + 3 + 2 + 1 + 3 + 10 );
	assert_int_equal( f->api.ap_stats.as_requests, f->ft->ft_nsent );
	assert_int_equal( f->api.ap_stats.as_tokens, 2 );
	assert_int_equal( f->api.ap_stats.as_retries, 0 );
	assert_int_equal( f->ft->ft_unmatched, 0 );
	assert_string_equal( f->warned, "" );
}

static void
failing_resource_leaves_the_others( void **state )
{
	struct fx *f = *state;
	char *conns[] = { "DB", NULL };
	struct auth0_select sel = { conns };

	reply( f, "GET", ROLES, 403, "{\"statusCode\":403,\"error\":"
		"\"Forbidden\",\"message\":\"Insufficient scope, expected any of: "
		"read:roles\",\"errorCode\":\"insufficient_scope\"}", 0 );
	reply( f, "GET", AUTHZ_URL "/groups", 500, "{}", 0 );
	tenant_replies( f );
	f->conf.ac_authz_url = AUTHZ_URL;
	f->conf.ac_max_retries = 0;
	start( f );
	assert_int_equal( auth0_api_fetch( &f->api, &sel, &f->m, f->err ),
		AUTH0_ERR_HTTP );
	assert_int_equal( f->m.sn_failed, AUTH0_RES_ROLES | AUTH0_RES_AUTHZ );
	assert_true( f->m.sn_complete );
	assert_int_equal( f->m.sn_nusers, 250 );
	assert_int_equal( f->m.sn_nclients, 2 );
	assert_int_equal( f->m.sn_nroles, 0 );
	/* the native groups only, without the roles that failed */
	assert_int_equal( f->m.sn_ngroups, 2 );
	assert_int_equal( f->m.sn_groups[0].gr_source, AUTH0_GSRC_NATIVE );
	assert_int_equal( auth0_strv_len( f->m.sn_groups[0].gr_roles ), 0 );
	assert_string_equal( f->err, "roles: 403 insufficient_scope: "
		"Insufficient scope, expected any of: read:roles "
		"(GET /api/v2/roles)" );
	assert_non_null( strstr( f->warned, "roles: 403 insufficient_scope" ) );
	assert_non_null( strstr( f->warned, "authz: 500" ) );
}

static void
refused_token_asked_once( void **state )
{
	struct fx *f = *state;
	struct fake_reply refused = { .fr_method = "POST",
		.fr_url = TOKEN_URL, .fr_status = 401,
		.fr_body = "{\"error\":\"access_denied\",\"error_description\":"
		"\"Unauthorized\"}", .fr_times = 1 };

	fake_add( f->ft, &refused );
	authz_replies( f );
	f->conf.ac_authz_url = AUTHZ_URL;
	start( f );
	assert_int_equal( auth0_api_fetch( &f->api, NULL, &f->m, f->err ),
		AUTH0_ERR_AUTH );
	assert_int_equal( f->m.sn_failed, AUTH0_RES_USERS | AUTH0_RES_ROLES |
		AUTH0_RES_CLIENTS | AUTH0_RES_CONNS | AUTH0_RES_GROUPS |
		AUTH0_RES_ORGS );
	assert_false( f->m.sn_complete );
	/* one refused token, then only the extension's token and lists */
	assert_int_equal( fake_count( f->ft, "POST", TOKEN_URL ), 2 );
	assert_int_equal( fake_count( f->ft, "GET", BASE ), 0 );
	assert_int_equal( f->m.sn_ngroups, 2 );
	assert_non_null( strstr( f->err, "users: token for " AUD ": 401 "
		"access_denied" ) );
}

int
main( void )
{
	const struct CMUnitTest tests[] = {
#define T( name ) cmocka_unit_test_setup_teardown( name, setup, teardown )
		T( token_is_cached_and_sent ),
		T( token_renewed_a_minute_before_expiry ),
		T( token_401_renews_once_and_retries ),
		T( token_401_twice_fails ),
		T( token_errors_name_the_audience ),
		T( query_values_are_encoded ),
		T( rate_limit_spaces_requests ),
		T( no_rate_no_wait ),
		T( empty_bucket_waits_for_reset ),
		T( too_many_requests_wait ),
		T( too_many_requests_exhausted ),
		T( server_errors_retried_then_flagged ),
		T( malformed_json_is_an_error ),
		T( insufficient_scope_names_the_scope ),
		T( users_paging_stops_at_total ),
		T( users_exact_page_needs_one_request ),
		T( no_selection_searches_the_tenant_once ),
		T( linked_user_comes_once ),
		T( users_total_moving_marks_incomplete ),
		T( bad_user_record_reported_not_fatal ),
		T( big_connection_goes_to_export ),
		T( tenant_export_reports_progress ),
		T( export_download_failures ),
		T( export_gzip_members_and_last_line ),
		T( export_garbage_download_aborted ),
		T( export_lapsed_location_renewed ),
		T( export_job_failed_or_slow ),
		T( export_connection_not_listed ),
		T( roles_follow_checkpoints ),
		T( roles_offset_paging_by_total ),
		T( clients_in_one_page ),
		T( authz_assembled ),
		T( native_resources_assembled ),
		T( no_groups_asks_no_role_groups ),
		T( native_403_names_the_scope_and_resource ),
		T( full_fetch_uses_fewest_requests ),
		T( failing_resource_leaves_the_others ),
		T( refused_token_asked_once ),
#undef T
	};

	return cmocka_run_group_tests( tests, NULL, NULL );
}
