/* export.c - the users-export job of back-auth0 */
/*
 * A connection with more users than search reaches (auth0-api.md 3.1 and
 * 4) is read through an export job: POST /api/v2/jobs/users-exports,
 * GET /api/v2/jobs/{id} until it is completed, then the gzip NDJSON file
 * from its pre-signed location (no token).  The file is inflated as it
 * arrives and split into lines, each parsed and handed to the model, so
 * neither the file nor more than one user's JSON is ever held whole.  A
 * malformed line is counted, reported with its number and skipped, and
 * marks the model incomplete, as snapdir.c does for users.ndjson.  Runs
 * in the refresh task's thread.
 *
 * The gzip framing (RFC 1952: header, CRC-32, length) is read here and
 * zlib only inflates raw deflate: in gzip mode zlib checks the CRC with
 * crc32(), and inside slapd that name resolves to slapd's own crc32, a
 * different function, so every file would fail its check (or crash).
 * The CRC is checked here with zlib's crc32_z(), which slapd does not
 * shadow.
 *
 * A download has no total time limit (a big tenant's file may take long):
 * it is cut when slower than auth0-export-low-speed, and a cut download
 * starts again from the beginning, the users it fed taken back first.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#define ZLIB_CONST
#include <zlib.h>

#include "model.h"
#include "http.h"
#include "api.h"

#define AUTH0_INFLATE_CHUNK	65536
#define AUTH0_MAX_LINE		( 16L * 1024 * 1024 )	/* a user's JSON */
#define AUTH0_MAX_SWALLOW	( 1L * 1024 * 1024 )	/* after bad data */
#define AUTH0_JOB_MAX_SLEEP	60.0	/* longest wait between polls */
#define AUTH0_EXPORT_RESTARTS	2	/* a cut download starts again */

/* What the model reads of a user (model.c), as the job's "fields". */
static const char *const export_fields[] = {
	"user_id", "email", "email_verified", "username", "name",
	"given_name", "family_name", "nickname", "phone_number",
	"created_at", "updated_at", "last_login", "logins_count", "blocked",
	"identities", "app_metadata", "user_metadata", "groups", NULL
};

/* Where a download is in a gzip member (RFC 1952 section 2.3). */
enum dl_part { DL_HEAD = 0, DL_XLEN, DL_EXTRA, DL_NAME, DL_COMMENT, DL_HCRC,
	DL_DATA, DL_TRAIL };

#define DL_FHCRC	0x02
#define DL_FEXTRA	0x04
#define DL_FNAME	0x08
#define DL_FCOMMENT	0x10
#define DL_FRESERVED	0xe0

/* A download in progress: gzip in, lines out. */
struct dl {
	struct auth0_feed	*dl_fd;
	z_stream		dl_z;		/* raw inflate */
	int			dl_gz;		/* enum dl_part */
	unsigned char		dl_hdr[10];	/* header or trailer bytes */
	size_t			dl_nhdr;
	unsigned		dl_flags;	/* the member's FLG */
	size_t			dl_skip;	/* FEXTRA bytes left */
	uint32_t		dl_crc;		/* CRC-32 of the member */
	uint32_t		dl_size;	/* its length, mod 2^32 */
	unsigned long		dl_members;	/* members read whole */
	const char		*dl_bad;	/* corrupt data: why */
	size_t			dl_swallowed;	/* bytes ignored since */
	int			dl_nomem;
	int			dl_long;	/* the line is too long */
	char			*dl_line;	/* split across chunks */
	size_t			dl_len, dl_cap;
	unsigned long		dl_lineno;
	unsigned char		dl_out[AUTH0_INFLATE_CHUNK];
};

/* One NDJSON line; blank lines are allowed and ignored. */
static void
dl_parse( struct dl *d, const char *buf, size_t len )
{
	struct auth0_model *m = d->dl_fd->fd_m;
	char err[AUTH0_ERRLEN];
	cJSON *obj = NULL;
	size_t i;
	int rc;

	d->dl_lineno++;
	for ( i = 0; i < len && ( buf[i] == ' ' || buf[i] == '\t' ||
			buf[i] == '\r' ); i++ )
		;
	if ( i == len && !d->dl_long )
		return;
	if ( !d->dl_long )
		obj = cJSON_ParseWithLength( buf, len );
	if ( obj == NULL ) {
		m->sn_bad++;
		m->sn_complete = 0;
		auth0_api_warn( m, 1, "users export line %lu: %s, line skipped",
			d->dl_lineno, d->dl_long ? "line too long" :
			"malformed JSON" );
		return;
	}
	rc = auth0_feed_user( d->dl_fd, obj, err );
	if ( rc == AUTH0_ERR_NOMEM )
		d->dl_nomem = 1;
	else if ( rc )
		auth0_api_warn( m, 1, "users export line %lu: %s, line skipped",
			d->dl_lineno, err );
	cJSON_Delete( obj );
}

/* Keeps the start of a line that continues in the next chunk. */
static void
dl_keep( struct dl *d, const char *p, size_t n )
{
	char *nb;
	size_t cap;

	if ( d->dl_long || n == 0 )
		return;
	if ( d->dl_len + n > (size_t)AUTH0_MAX_LINE ) {
		d->dl_long = 1;
		return;
	}
	if ( d->dl_len + n > d->dl_cap ) {
		cap = ( d->dl_len + n ) * 2;
		nb = realloc( d->dl_line, cap );
		if ( nb == NULL ) {
			d->dl_nomem = 1;
			return;
		}
		d->dl_line = nb;
		d->dl_cap = cap;
	}
	memcpy( d->dl_line + d->dl_len, p, n );
	d->dl_len += n;
}

/* Splits inflated text into lines. */
static void
dl_text( struct dl *d, const char *p, size_t n )
{
	const char *nl;
	size_t part;

	while ( n > 0 && !d->dl_nomem ) {
		nl = memchr( p, '\n', n );
		part = nl ? (size_t)( nl - p ) : n;
		if ( nl == NULL ) {
			dl_keep( d, p, part );
			break;
		}
		if ( d->dl_len == 0 && !d->dl_long ) {
			/* the whole line is in this chunk: no copy */
			dl_parse( d, p, part );
		} else {
			dl_keep( d, p, part );
			dl_parse( d, d->dl_line, d->dl_len );
		}
		d->dl_len = 0;
		d->dl_long = 0;
		p += part + 1;
		n -= part + 1;
	}
}

/* Collects header or trailer bytes up to want; 1 when all are there. */
static int
dl_collect( struct dl *d, const unsigned char **p, size_t *n, size_t want )
{
	while ( d->dl_nhdr < want && *n > 0 ) {
		d->dl_hdr[d->dl_nhdr++] = **p;
		( *p )++;
		( *n )--;
	}
	return d->dl_nhdr == want;
}

/* The next part of the header its flags announce, else the data. */
static void
dl_next( struct dl *d )
{
	unsigned f = d->dl_flags;
	int s = d->dl_gz;

	d->dl_nhdr = 0;
	if ( s < DL_XLEN && ( f & DL_FEXTRA ) )
		d->dl_gz = DL_XLEN;
	else if ( s < DL_NAME && ( f & DL_FNAME ) )
		d->dl_gz = DL_NAME;
	else if ( s < DL_COMMENT && ( f & DL_FCOMMENT ) )
		d->dl_gz = DL_COMMENT;
	else if ( s < DL_HCRC && ( f & DL_FHCRC ) )
		d->dl_gz = DL_HCRC;
	else
		d->dl_gz = DL_DATA;
}

/* Reads some of a member's header; consumes at least one byte. */
static void
dl_head( struct dl *d, const unsigned char **p, size_t *n )
{
	const unsigned char *h = d->dl_hdr;
	size_t k;

	switch ( d->dl_gz ) {
	case DL_HEAD:
		/* zero padding after a whole member, as gzip(1) allows */
		if ( d->dl_members && d->dl_nhdr == 0 && **p == 0 ) {
			( *p )++;
			( *n )--;
		} else if ( dl_collect( d, p, n, 10 ) ) {
			if ( h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 ||
					( h[3] & DL_FRESERVED ) ) {
				d->dl_bad = "not gzip data";
				return;
			}
			d->dl_flags = h[3];
			d->dl_crc = d->dl_size = 0;
			dl_next( d );
		}
		break;
	case DL_XLEN:
		if ( dl_collect( d, p, n, 2 ) ) {
			d->dl_skip = h[0] | (size_t)h[1] << 8;
			d->dl_gz = DL_EXTRA;
		}
		break;
	case DL_EXTRA:
		k = d->dl_skip < *n ? d->dl_skip : *n;
		d->dl_skip -= k;
		*p += k;
		*n -= k;
		if ( d->dl_skip == 0 )
			dl_next( d );
		break;
	case DL_NAME:
	case DL_COMMENT:
		while ( *n > 0 && **p != 0 ) {
			( *p )++;
			( *n )--;
		}
		if ( *n > 0 ) {
			( *p )++;
			( *n )--;
			dl_next( d );
		}
		break;
	default:
		if ( dl_collect( d, p, n, 2 ) )
			dl_next( d );
		break;
	}
}

/* Inflates some of a member's data into lines. */
static void
dl_inflate( struct dl *d, const unsigned char **p, size_t *n )
{
	z_stream *z = &d->dl_z;
	size_t out;
	int zrc;

	z->next_in = *p;
	z->avail_in = *n > UINT_MAX ? UINT_MAX : (uInt)*n;
	do {
		z->next_out = d->dl_out;
		z->avail_out = sizeof( d->dl_out );
		zrc = inflate( z, Z_NO_FLUSH );
		if ( zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR ) {
			d->dl_bad = z->msg ? z->msg : "corrupt deflate data";
			return;
		}
		out = sizeof( d->dl_out ) - z->avail_out;
		d->dl_crc = (uint32_t)crc32_z( d->dl_crc, d->dl_out, out );
		d->dl_size += (uint32_t)out;
		dl_text( d, (const char *)d->dl_out, out );
	} while ( zrc == Z_OK && ( z->avail_in > 0 || z->avail_out == 0 ) &&
		!d->dl_nomem );
	*n -= (size_t)( z->next_in - *p );
	*p = z->next_in;
	if ( zrc == Z_STREAM_END ) {
		inflateReset( z );
		d->dl_gz = DL_TRAIL;
		d->dl_nhdr = 0;
	}
}

static uint32_t
le32( const unsigned char *b )
{
	return b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
		(uint32_t)b[3] << 24;
}

/* Reads some of a member's trailer: CRC-32 and length must match. */
static void
dl_trailer( struct dl *d, const unsigned char **p, size_t *n )
{
	if ( !dl_collect( d, p, n, 8 ) )
		return;
	if ( le32( d->dl_hdr ) != d->dl_crc ||
			le32( d->dl_hdr + 4 ) != d->dl_size ) {
		d->dl_bad = "CRC or length mismatch";
		return;
	}
	d->dl_members++;
	d->dl_gz = DL_HEAD;
	d->dl_nhdr = 0;
}

/*
 * The transport's sink.  Corrupt data (not gzip: an error page, say) is
 * swallowed, up to a bound, so that the call ends with its HTTP status.
 */
static int
dl_sink( void *arg, const char *data, size_t len )
{
	struct dl *d = arg;
	const unsigned char *p = (const unsigned char *)data;

	while ( len > 0 && !d->dl_bad && !d->dl_nomem ) {
		if ( d->dl_gz == DL_DATA )
			dl_inflate( d, &p, &len );
		else if ( d->dl_gz == DL_TRAIL )
			dl_trailer( d, &p, &len );
		else
			dl_head( d, &p, &len );
	}
	if ( d->dl_bad ) {
		d->dl_swallowed += len;
		return d->dl_swallowed > (size_t)AUTH0_MAX_SWALLOW;
	}
	return d->dl_nomem;
}

/* After a complete transfer: the last line, or what went wrong. */
static int
dl_finish( struct dl *d, char *errbuf )
{
	if ( d->dl_nomem ) {
		snprintf( errbuf, AUTH0_ERRLEN, "out of memory" );
		return AUTH0_ERR_NOMEM;
	}
	if ( d->dl_bad ) {
		snprintf( errbuf, AUTH0_ERRLEN, "export file: corrupt gzip "
			"data (%.100s) after %lu lines", d->dl_bad,
			d->dl_lineno );
		return AUTH0_ERR_DATA;
	}
	/* only a whole member may end the file */
	if ( d->dl_gz != DL_HEAD || d->dl_nhdr || d->dl_members == 0 ) {
		snprintf( errbuf, AUTH0_ERRLEN, "export file: truncated after "
			"%lu lines (gzip stream incomplete)", d->dl_lineno );
		return AUTH0_ERR_DATA;
	}
	/* a last line without a newline */
	if ( d->dl_len || d->dl_long )
		dl_parse( d, d->dl_line, d->dl_len );
	return d->dl_nomem ? AUTH0_ERR_NOMEM : AUTH0_OK;
}

/* Downloads location into the model.  *lines: lines seen so far. */
static int
download( struct auth0_api *api, const char *location,
	struct auth0_feed *fd, unsigned long *lines, char *errbuf )
{
	struct auth0_call c;
	struct dl *d = calloc( 1, sizeof( *d ) );
	int rc;

	*lines = 0;
	if ( d == NULL || inflateInit2( &d->dl_z, -MAX_WBITS ) != Z_OK ) {
		free( d );
		snprintf( errbuf, AUTH0_ERRLEN, "out of memory" );
		return AUTH0_ERR_NOMEM;
	}
	d->dl_fd = fd;
	memset( &c, 0, sizeof( c ) );
	c.ca_method = "GET";
	c.ca_base = "";
	c.ca_path = location;
	/* the pre-signed URL's query is a credential: never shown */
	c.ca_what = "export file";
	c.ca_auth = AUTH0_AUTH_NONE;
	c.ca_sink = dl_sink;
	c.ca_sink_arg = d;
	c.ca_low_speed = api->ap_conf.ac_low_speed;
	c.ca_low_speed_time = api->ap_conf.ac_low_speed_time;
	rc = auth0_api_call( api, &c, errbuf );
	/* after a 2xx, or when the sink itself gave up, say why */
	if ( rc == AUTH0_OK || ( rc == AUTH0_ERR_NETWORK &&
			( d->dl_nomem || d->dl_bad ) ) )
		rc = dl_finish( d, errbuf );
	*lines = d->dl_lineno;
	inflateEnd( &d->dl_z );
	free( d->dl_line );
	free( d );
	return rc;
}

/* What the model held before a download, to take its users back. */
struct feed_mark {
	size_t		fm_users, fm_skipped, fm_bad;
	int		fm_complete;
	unsigned long	fm_done;
};

static void
mark_take( const struct auth0_feed *fd, struct feed_mark *mk )
{
	mk->fm_users = fd->fd_m->sn_nusers;
	mk->fm_skipped = fd->fd_m->sn_skipped;
	mk->fm_bad = fd->fd_m->sn_bad;
	mk->fm_complete = fd->fd_m->sn_complete;
	mk->fm_done = fd->fd_done;
}

static void
mark_restore( struct auth0_feed *fd, const struct feed_mark *mk )
{
	struct auth0_model *m = fd->fd_m;

	while ( m->sn_nusers > mk->fm_users )
		auth0_user_free( &m->sn_users[--m->sn_nusers] );
	m->sn_skipped = mk->fm_skipped;
	m->sn_bad = mk->fm_bad;
	m->sn_complete = mk->fm_complete;
	fd->fd_done = mk->fm_done;
}

/*
 * download(), started again from the beginning (users taken back) when
 * the transfer is cut: a reset, a truncation, or slower than the low
 * speed limit.
 */
static int
download_whole( struct auth0_api *api, const char *location,
	struct auth0_feed *fd, unsigned long *lines, char *errbuf )
{
	struct feed_mark mk;
	int rc, n;

	mark_take( fd, &mk );
	for ( n = 0; ; n++ ) {
		rc = download( api, location, fd, lines, errbuf );
		if ( rc != AUTH0_ERR_NETWORK || n >= AUTH0_EXPORT_RESTARTS )
			break;
		auth0_api_warn( fd->fd_m, 0, "users export: download cut after "
			"%lu lines (%.200s); starting it again", *lines, errbuf );
		mark_restore( fd, &mk );
	}
	return rc;
}

/* Adds {"name": name} to fields unless it is there. */
static int
add_field( cJSON *fields, const char *name )
{
	const cJSON *f;
	cJSON *o;

	cJSON_ArrayForEach( f, fields ) {
		if ( strcmp( auth0_json_str( f, "name" ), name ) == 0 )
			return 1;
	}
	o = cJSON_CreateObject();
	if ( o == NULL || !cJSON_AddStringToObject( o, "name", name ) ) {
		cJSON_Delete( o );
		return 0;
	}
	cJSON_AddItemToArray( fields, o );
	return 1;
}

/* The job's JSON: connection, format, the fields the model reads. */
static char *
job_body( const struct auth0_model *m, const char *conn_id )
{
	cJSON *o = cJSON_CreateObject(), *fields = NULL;
	char *text = NULL, top[128];
	const char *const *n;
	size_t i, len;
	int ok;

	ok = o && ( conn_id == NULL ||
		cJSON_AddStringToObject( o, "connection_id", conn_id ) ) &&
		cJSON_AddStringToObject( o, "format", "json" ) &&
		( fields = cJSON_AddArrayToObject( o, "fields" ) );
	for ( n = export_fields; ok && *n; n++ )
		ok = add_field( fields, *n );
	/* auth0-map-attribute may read other top-level members */
	for ( i = 0; ok && i < m->sn_nrules; i++ ) {
		len = strcspn( m->sn_rules[i].mr_path, "." );
		if ( len == 0 || len >= sizeof( top ) )
			continue;
		memcpy( top, m->sn_rules[i].mr_path, len );
		top[len] = '\0';
		ok = add_field( fields, top );
	}
	if ( ok )
		text = cJSON_PrintUnformatted( o );
	cJSON_Delete( o );
	return text;
}

/* POST /api/v2/jobs/users-exports; the job's reply in *job. */
static int
job_create( struct auth0_api *api, const char *conn_id,
	struct auth0_feed *fd, cJSON **job, char *errbuf )
{
	struct auth0_call c;
	char *body = job_body( fd->fd_m, conn_id );
	int rc;

	if ( body == NULL ) {
		snprintf( errbuf, AUTH0_ERRLEN, "out of memory" );
		return AUTH0_ERR_NOMEM;
	}
	memset( &c, 0, sizeof( c ) );
	c.ca_method = "POST";
	c.ca_path = "/api/v2/jobs/users-exports";
	c.ca_body = body;
	c.ca_auth = AUTH0_AUTH_MGMT;
	rc = auth0_api_call( api, &c, errbuf );
	free( body );
	if ( rc )
		return rc;
	if ( auth0_json_str( c.ca_json, "id" ) == NULL ) {
		cJSON_Delete( c.ca_json );
		snprintf( errbuf, AUTH0_ERRLEN, "export job: the reply has no "
			"id (POST /api/v2/jobs/users-exports)" );
		return AUTH0_ERR_JSON;
	}
	api->ap_stats.as_exports++;
	*job = c.ca_json;
	return AUTH0_OK;
}

/* GET /api/v2/jobs/{id} into *job (replacing it). */
static int
job_get( struct auth0_api *api, const char *path, cJSON **job,
	char *errbuf )
{
	struct auth0_call c;
	int rc;

	rc = auth0_api_get( api, &c, path, NULL, errbuf );
	if ( rc )
		return rc;
	cJSON_Delete( *job );
	*job = c.ca_json;
	return AUTH0_OK;
}

/* AUTH0_OK when the job is completed, -1 while it runs, else an error. */
static int
job_state( const cJSON *job, const char *id, char *errbuf )
{
	const char *status = auth0_json_str( job, "status" );
	const char *details = auth0_json_str( job, "status_details" );

	if ( status == NULL )
		return -1;
	if ( strcmp( status, "completed" ) == 0 )
		return auth0_json_str( job, "location" ) ? AUTH0_OK : -1;
	if ( strcmp( status, "failed" ) && strcmp( status, "expired" ) )
		return -1;
	snprintf( errbuf, AUTH0_ERRLEN, "export job %s %s: %.150s", id, status,
		details ? details : "no details" );
	return AUTH0_ERR_JOB;
}

/*
 * Polls the job until it is completed (*job then has its location),
 * sleeping ac_poll_interval or the job's own estimate (at most a minute),
 * whichever is longer, within ac_export_timeout.
 */
static int
job_wait( struct auth0_api *api, const char *path, const char *id,
	double start, cJSON **job, char *errbuf )
{
	struct auth0_transport *tr = api->ap_tr;
	double wait, t, left;
	int rc;

	while ( ( rc = job_state( *job, id, errbuf ) ) == -1 ) {
		/* the job's estimate saves polls; it is only an estimate */
		wait = (double)auth0_json_long( *job, "time_left_seconds", 0 );
		if ( wait > AUTH0_JOB_MAX_SLEEP )
			wait = AUTH0_JOB_MAX_SLEEP;
		if ( wait < api->ap_conf.ac_poll_interval )
			wait = api->ap_conf.ac_poll_interval;
		t = tr->tr_now( tr->tr_ctx );
		left = start + api->ap_conf.ac_export_timeout - t;
		if ( left <= 0 ) {
			snprintf( errbuf, AUTH0_ERRLEN, "export job %s still %.20s "
				"after %.0f s", id, auth0_json_str( *job, "status" ) ?
				auth0_json_str( *job, "status" ) : "unknown",
				t - start );
			return AUTH0_ERR_JOB;
		}
		tr->tr_sleep( tr->tr_ctx, wait < left ? wait : left );
		rc = job_get( api, path, job, errbuf );
		if ( rc )
			return rc;
	}
	return rc;
}

/*
 * The users of connection conn_id (NULL: of the tenant) through an
 * export job, handed to the model through fd.  A location that has
 * lapsed (it is valid 60 s) is fetched afresh once, by polling the job
 * again, if nothing was read from it.
 */
int
auth0_export_users( struct auth0_api *api, const char *conn_id,
	struct auth0_feed *fd, char *errbuf )
{
	struct auth0_transport *tr = api->ap_tr;
	double start = tr->tr_now( tr->tr_ctx );
	cJSON *job = NULL;
	char *eid = NULL, *path = NULL, id[64];
	unsigned long lines = 0;
	int rc, again = 1;

	rc = job_create( api, conn_id, fd, &job, errbuf );
	if ( rc )
		goto done;
	snprintf( id, sizeof( id ), "%s", auth0_json_str( job, "id" ) );
	eid = auth0_api_escape( auth0_json_str( job, "id" ) );
	path = eid ? malloc( strlen( eid ) + sizeof( "/api/v2/jobs/" ) ) : NULL;
	if ( path == NULL ) {
		snprintf( errbuf, AUTH0_ERRLEN, "out of memory" );
		rc = AUTH0_ERR_NOMEM;
		goto done;
	}
	sprintf( path, "/api/v2/jobs/%s", eid );
	for ( ;; ) {
		rc = job_wait( api, path, id, start, &job, errbuf );
		if ( rc )
			break;
		rc = download_whole( api, auth0_json_str( job, "location" ), fd,
			&lines, errbuf );
		if ( rc != AUTH0_ERR_HTTP || lines || !again )
			break;
		/* a lapsed location: the job gives a fresh one */
		again = 0;
		rc = job_get( api, path, &job, errbuf );
		if ( rc )
			break;
	}
done:
	cJSON_Delete( job );
	free( path );
	free( eid );
	return rc;
}
