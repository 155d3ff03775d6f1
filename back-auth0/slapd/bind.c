/* bind.c - LDAP simple binds to imported users, verified by Auth0 */
/*
 * bi_op_bind of the overlay (DESIGN.md sections 4 and 8.4).  Binds that
 * are not a simple bind to an entry directly below ou=people go on to
 * back-mdb untouched (service accounts, the rootdn).  For a DN below
 * ou=people: the bind cache answers a password (OTP suffix included)
 * verified within its TTL, even while the DN is throttled; then
 * throttling per DN and per client address (auth0-bind-trusted-ip
 * exempt from the latter); an unknown DN, a user of a connection without
 * passwords and a password holding a NUL byte fail like a wrong
 * password, without asking Auth0 (only the log says which); a blocked
 * user is told so only once Auth0 (or the cache) confirmed the password;
 * otherwise Auth0's password-realm grant decides, through a pool of
 * auth0-bind-connections HTTPS connections which is also the thread
 * budget: a bind that finds none free gets 51 at once instead of holding
 * a worker thread.  An upstream failure is never answered as a wrong
 * password: 51 for Auth0's rate limit, 52 for anything else (or the
 * stale cache, when allowed).  Runs in slapd's worker threads; never
 * logs a password.
 */
#include "portable.h"

#include <ac/string.h>
#include <pthread.h>

#include "back-auth0.h"
#include "bindcall.h"
#include "bindcache.h"
#include "httpcurl.h"

/*
 * A bounded pool of transports (each one keep-alive HTTPS connection),
 * built for one auth0-bind-connections, auth0-ca-file,
 * auth0-bind-timeout, auth0-proxy and auth0-proxy-credentials-file.
 * A cn=config change of those builds a new pool and swaps it into
 * ai_bindpool under ai_mutex; binds take a reference under the same
 * mutex, so one in flight finishes on the pool it started with and the
 * last reference frees it.
 */
struct auth0_bindpool {
	pthread_mutex_t		bp_mutex;
	pthread_cond_t		bp_cond;
	struct auth0_transport	**bp_tr;
	int			*bp_busy;
	int			bp_size;
	unsigned		bp_refs;	/* atomic */
	long			bp_timeout;
	char			*bp_ca_file;
	char			*bp_domain;	/* whose passwords the cache holds */
	char			*bp_proxy;	/* auth0-proxy and its */
	char			*bp_proxy_cred;	/* credentials (wiped) */
};

/* What one bind needs, read from the user's entry. */
struct bind_user {
	char	bu_id[256];
	char	bu_realm[256];
	char	bu_login[512];		/* email, else username */
	int	bu_found;
	int	bu_blocked;
};

static void
count( unsigned long *counter )
{
	__atomic_fetch_add( counter, 1, __ATOMIC_RELAXED );
}

static struct auth0_bindpool *
pool_new( int size, const char *ca_file, long timeout, const char *domain )
{
	struct auth0_bindpool *bp = ch_calloc( 1, sizeof( *bp ) );
	int i;

	pthread_mutex_init( &bp->bp_mutex, NULL );
	pthread_cond_init( &bp->bp_cond, NULL );
	bp->bp_size = size;
	bp->bp_refs = 1;
	bp->bp_timeout = timeout;
	bp->bp_ca_file = ca_file ? ch_strdup( ca_file ) : NULL;
	bp->bp_domain = domain ? ch_strdup( domain ) : NULL;
	bp->bp_tr = ch_calloc( size, sizeof( *bp->bp_tr ) );
	bp->bp_busy = ch_calloc( size, sizeof( int ) );
	for ( i = 0; i < size; i++ ) {
		bp->bp_tr[i] = auth0_curl_new( ca_file, timeout );
		if ( bp->bp_tr[i] == NULL )
			bp->bp_busy[i] = 1;	/* never handed out */
	}
	return bp;
}

static void
pool_free( struct auth0_bindpool *bp )
{
	int i;

	for ( i = 0; i < bp->bp_size; i++ )
		auth0_curl_free( bp->bp_tr[i] );
	ch_free( bp->bp_tr );
	ch_free( bp->bp_busy );
	ch_free( bp->bp_ca_file );
	ch_free( bp->bp_domain );
	ch_free( bp->bp_proxy );
	auth0_secret_free( &bp->bp_proxy_cred );
	pthread_cond_destroy( &bp->bp_cond );
	pthread_mutex_destroy( &bp->bp_mutex );
	ch_free( bp );
}

/* auth0-proxy for every connection of a new pool (a failed one is
 * never handed out: it would go around the proxy). */
static void
pool_proxy( struct auth0_bindpool *bp, struct auth0_info *ai )
{
	int i;

	bp->bp_proxy = ai->ai_proxy ? ch_strdup( ai->ai_proxy ) : NULL;
	bp->bp_proxy_cred = ai->ai_proxy_cred ? ch_strdup( ai->ai_proxy_cred ) :
		NULL;
	for ( i = 0; i < bp->bp_size; i++ )
		if ( bp->bp_tr[i] && auth0_curl_proxy( bp->bp_tr[i],
				bp->bp_proxy, bp->bp_proxy_cred ) != 0 )
			bp->bp_busy[i] = 1;
		else if ( bp->bp_tr[i] )
			auth0_curl_trace( bp->bp_tr[i], auth0_trace_http, ai );
}

/* Takes a reference; the caller holds ai_mutex, which guards the swap. */
static struct auth0_bindpool *
pool_ref( struct auth0_bindpool *bp )
{
	if ( bp )
		__atomic_fetch_add( &bp->bp_refs, 1, __ATOMIC_ACQ_REL );
	return bp;
}

static void
pool_unref( struct auth0_bindpool *bp )
{
	if ( bp && __atomic_sub_fetch( &bp->bp_refs, 1, __ATOMIC_ACQ_REL ) == 0 )
		pool_free( bp );
}

static int
same_str( const char *a, const char *b )
{
	return ( a == NULL && b == NULL ) || ( a && b && strcmp( a, b ) == 0 );
}

/* 1 when binds to imported users are answered here (configured or default). */
int
auth0_bind_wanted( struct auth0_info *ai )
{
	return ai->ai_bind_on == AUTH0_BIND_REALM ||
		( ai->ai_bind_on == AUTH0_BIND_UNSET && ai->ai_domain != NULL );
}

/*
 * auth0-bind-connections, or when unset half of slapd's worker threads
 * (olcThreads, 16 by default: 8), so that the other half always serves
 * searches, local binds, the refresh and cn=config.
 */
static int
pool_size( struct auth0_info *ai )
{
	long n = ai->ai_bind_pool;

	if ( n <= 0 )
		n = connection_pool_max / 2;
	return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

/*
 * Makes the bind pool follow the configuration (ai_mutex held): built
 * when binds are on and it is missing or was built with other settings,
 * dropped when binds are off.  The old pool goes when its last bind ends.
 * A new auth0-domain is another tenant: passwords the old one verified
 * are forgotten (so are they when binds are turned on again).
 */
void
auth0_bind_apply( struct auth0_info *ai )
{
	struct auth0_bindpool *bp = ai->ai_bindpool;

	if ( !auth0_bind_wanted( ai ) ) {
		ai->ai_bindpool = NULL;
		pool_unref( bp );
		return;
	}
	if ( bp && bp->bp_size == pool_size( ai ) &&
			bp->bp_timeout == ai->ai_bind_timeout &&
			same_str( bp->bp_ca_file, ai->ai_ca_file ) &&
			same_str( bp->bp_domain, ai->ai_domain ) &&
			same_str( bp->bp_proxy, ai->ai_proxy ) &&
			same_str( bp->bp_proxy_cred, ai->ai_proxy_cred ) )
		return;
	/* binds turned (back) on start with an empty cache as well */
	if ( ai->ai_bindcache && ( bp == NULL ||
			!same_str( bp->bp_domain, ai->ai_domain ) ) ) {
		auth0_bindcache_forget_all( ai->ai_bindcache );
		if ( bp )
			Debug( LDAP_DEBUG_STATS, "auth0: %s: auth0-domain "
				"changed; cached passwords forgotten\n",
				ai->ai_nsuffix.bv_val );
	}
	ai->ai_bindpool = pool_new( pool_size( ai ), ai->ai_ca_file,
		ai->ai_bind_timeout, ai->ai_domain );
	pool_proxy( ai->ai_bindpool, ai );
	pool_unref( bp );
	if ( bp == NULL )
		Debug( LDAP_DEBUG_STATS, "auth0: %s: %d bind connections to "
			"Auth0 (%s)\n", ai->ai_nsuffix.bv_val, pool_size( ai ),
			ai->ai_bind_pool > 0 ? "auth0-bind-connections" :
			"half of slapd's worker threads" );
	else
		Debug( LDAP_DEBUG_STATS, "auth0: %s: bind connections rebuilt "
			"(%d, timeout %ld s)\n", ai->ai_nsuffix.bv_val,
			pool_size( ai ), ai->ai_bind_timeout );
}

/* db_close: the pool goes (binds have ended by then). */
void
auth0_bind_drop( struct auth0_info *ai )
{
	struct auth0_bindpool *bp;

	ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
	bp = ai->ai_bindpool;
	ai->ai_bindpool = NULL;
	ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
	pool_unref( bp );
}

/*
 * A free transport, or -1 at once: a bind holds its worker thread exactly
 * while it holds a transport, so in flight and waiting together never
 * exceed the pool's size (no bind waits for a transport).
 */
static int
pool_get( struct auth0_bindpool *bp )
{
	int i, got = -1;

	pthread_mutex_lock( &bp->bp_mutex );
	for ( i = 0; i < bp->bp_size && got < 0; i++ )
		if ( !bp->bp_busy[i] )
			got = i;
	if ( got >= 0 )
		bp->bp_busy[got] = 1;
	pthread_mutex_unlock( &bp->bp_mutex );
	return got;
}

static void
pool_put( struct auth0_bindpool *bp, int i )
{
	pthread_mutex_lock( &bp->bp_mutex );
	bp->bp_busy[i] = 0;
	pthread_cond_signal( &bp->bp_cond );
	pthread_mutex_unlock( &bp->bp_mutex );
}

/* 1 when ndn is an entry directly below ou=people,<base> (base.c). */
static int
is_imported_user( BackendDB *be, struct berval *ndn )
{
	return auth0_base_in( auth0_base_info( be ), ndn, AUTH0_OU_PEOPLE, 1 );
}

static void
copy_first( Entry *e, const char *attr, char *buf, size_t len )
{
	AttributeDescription *ad = NULL;
	const char *text;
	Attribute *a;

	buf[0] = '\0';
	if ( slap_str2ad( attr, &ad, &text ) != LDAP_SUCCESS )
		return;
	a = attr_find( e->e_attrs, ad );
	if ( a && a->a_numvals > 0 && a->a_vals[0].bv_len < len ) {
		memcpy( buf, a->a_vals[0].bv_val, a->a_vals[0].bv_len );
		buf[a->a_vals[0].bv_len] = '\0';
	}
}

/* Reads what the bind needs from the stored entry; -1: no such user. */
/* (bu_found tells; nothing of it reaches the client before the password
 * is checked) */
static int
read_user( Operation *op, slap_overinst *on, struct bind_user *bu )
{
	Entry *e = NULL;
	char blocked[8];

	if ( overlay_entry_get_ov( op, &op->o_req_ndn, NULL, NULL, 0, &e,
			on ) != LDAP_SUCCESS || e == NULL )
		return -1;
	copy_first( e, "auth0UserId", bu->bu_id, sizeof( bu->bu_id ) );
	copy_first( e, "auth0Connection", bu->bu_realm, sizeof( bu->bu_realm ) );
	copy_first( e, "mail", bu->bu_login, sizeof( bu->bu_login ) );
	if ( bu->bu_login[0] == '\0' )
		copy_first( e, "uid", bu->bu_login, sizeof( bu->bu_login ) );
	copy_first( e, "auth0Blocked", blocked, sizeof( blocked ) );
	bu->bu_blocked = strcasecmp( blocked, "TRUE" ) == 0;
	overlay_entry_release_ov( op, e, 0, on );
	bu->bu_found = bu->bu_id[0] != '\0';
	return bu->bu_found ? 0 : -1;
}

/*
 * Connections whose users can give a password to the password-realm
 * grant: Auth0 databases ("auth0|"), AD/LDAP connectors ("ad|") and
 * passwordless e-mail/SMS; social and enterprise (SAML, OIDC) users
 * sign in at their identity provider.
 */
static int
takes_passwords( const char *user_id )
{
	static const char *const prefixes[] = { "auth0|", "ad|", "email|",
		"sms|", NULL };
	int i;

	for ( i = 0; prefixes[i]; i++ )
		if ( strncmp( user_id, prefixes[i], strlen( prefixes[i] ) ) == 0 )
			return 1;
	return 0;
}

/* The client's address from "IP=1.2.3.4:389" or "IP=[::1]:389". */
static void
client_ip( Operation *op, char *buf, size_t len )
{
	const char *p = op->o_conn ? op->o_conn->c_peer_name.bv_val : NULL;
	size_t n;

	buf[0] = '\0';
	if ( p == NULL || strncmp( p, "IP=", 3 ) != 0 )
		return;
	p += 3;
	if ( *p == '[' ) {
		p++;
		n = strcspn( p, "]" );
	} else {
		n = strcspn( p, ":" );
	}
	if ( n < len ) {
		memcpy( buf, p, n );
		buf[n] = '\0';
	}
}

/*
 * Splits "password<sep>123456" into password and OTP (6 to 8 digits
 * after the last separator); pw is a copy the caller wipes.
 */
static const char *
split_otp( char *pw, const char *sep )
{
	char *at;
	size_t n, i;

	if ( sep == NULL || *sep == '\0' || ( at = strrchr( pw, *sep ) ) == NULL )
		return NULL;
	n = strlen( at + 1 );
	if ( n < 6 || n > 8 || at == pw )
		return NULL;
	for ( i = 1; i <= n; i++ )
		if ( at[i] < '0' || at[i] > '9' )
			return NULL;
	*at = '\0';
	return at + 1;
}

/* 1 when pw ends in "<sep>push": MFA by Guardian push (pw is cut there). */
static int
split_push( char *pw, const char *sep )
{
	char *at;

	if ( sep == NULL || *sep == '\0' || ( at = strrchr( pw, *sep ) ) == NULL ||
			at == pw || strcasecmp( at + 1, "push" ) != 0 )
		return 0;
	*at = '\0';
	return 1;
}

static int
reply( Operation *op, SlapReply *rs, int code, const char *text )
{
	rs->sr_err = code;
	rs->sr_text = text;
	send_ldap_result( op, rs );
	return code;
}

/* Settings one bind uses, copied under ai_mutex. */
struct bind_conf {
	int	bf_on;
	const char *bf_missing;		/* a directive binds need, unset */
	char	bf_base[SLAP_TEXT_BUFLEN];
	char	*bf_client_id;
	char	*bf_secret;
	time_t	bf_ttl, bf_stale;
	char	bf_sep[2];
	int	bf_max_dn, bf_max_ip;
	time_t	bf_window;
	time_t	bf_mfa_ttl, bf_push_timeout;
	int	bf_trusted;		/* the client is in auth0-bind-trusted-ip */
	struct auth0_bindpool *bf_pool;	/* a reference */
};

static void
bind_conf_get( struct auth0_info *ai, struct bind_conf *bf, const char *ip )
{
	const char *secret;
	int i;

	memset( bf, 0, sizeof( *bf ) );
	ldap_pvt_thread_mutex_lock( &ai->ai_mutex );
	bf->bf_on = auth0_bind_wanted( ai );
	if ( !bf->bf_on ) {
		ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
		return;
	}
	snprintf( bf->bf_base, sizeof( bf->bf_base ), "https://%s",
		ai->ai_domain ? ai->ai_domain : "" );
	bf->bf_client_id = ch_strdup( ai->ai_bind_client_id ?
		ai->ai_bind_client_id : ai->ai_client_id ? ai->ai_client_id : "" );
	secret = ai->ai_bind_secret_file ? ai->ai_bind_secret : ai->ai_secret;
	bf->bf_secret = ch_strdup( secret ? secret : "" );
	if ( ai->ai_domain == NULL )
		bf->bf_missing = "auth0-domain";
	else if ( !*bf->bf_client_id )
		bf->bf_missing = "auth0-bind-client-id (or auth0-client-id)";
	else if ( !*bf->bf_secret )
		bf->bf_missing = "auth0-bind-client-secret-file (or "
			"auth0-client-secret-file)";
	bf->bf_ttl = ai->ai_bind_ttl;
	bf->bf_stale = ai->ai_bind_stale;
	bf->bf_sep[0] = ai->ai_bind_sep;
	bf->bf_sep[1] = '\0';
	bf->bf_max_dn = ai->ai_bind_max_dn;
	bf->bf_max_ip = ai->ai_bind_max_ip;
	bf->bf_window = ai->ai_bind_window;
	bf->bf_mfa_ttl = ai->ai_bind_mfa_ttl;
	bf->bf_push_timeout = ai->ai_bind_push_timeout;
	for ( i = 0; i < ai->ai_bind_ntrusted && !bf->bf_trusted; i++ )
		bf->bf_trusted = auth0_cidr_match( &ai->ai_bind_trusted[i], ip );
	bf->bf_pool = pool_ref( ai->ai_bindpool );
	ldap_pvt_thread_mutex_unlock( &ai->ai_mutex );
}

static void
bind_conf_free( struct bind_conf *bf )
{
	if ( bf->bf_secret ) {
		explicit_bzero( bf->bf_secret, strlen( bf->bf_secret ) );
		ch_free( bf->bf_secret );
	}
	ch_free( bf->bf_client_id );
	pool_unref( bf->bf_pool );
	memset( bf, 0, sizeof( *bf ) );
}

/* Asks Auth0 through a pooled connection. */
static enum auth0_verdict
ask_auth0( struct auth0_info *ai, struct bind_conf *bf,
	struct auth0_bind_req *br, char *detail, size_t dlen )
{
	struct auth0_bind_conf bc = { bf->bf_base, bf->bf_client_id,
		bf->bf_secret };
	struct auth0_bindpool *bp = bf->bf_pool;
	struct timespec t0, t1;
	enum auth0_verdict v;
	int slot;

	if ( bf->bf_missing || bp == NULL ) {
		snprintf( detail, dlen, "auth0-bind password-realm needs %s",
			bf->bf_missing ? bf->bf_missing : "the database open" );
		return AUTH0_V_MISCONFIGURED;
	}
	slot = pool_get( bp );
	if ( slot < 0 ) {
		snprintf( detail, dlen, "all %d connections to Auth0 are busy "
			"(auth0-bind-connections)", bp->bp_size );
		count( &ai->ai_bind_rejected );
		return AUTH0_V_NO_THREAD;
	}
	count( &ai->ai_bind_upstream );
	if ( br->br_push )
		count( &ai->ai_bind_push_waits );
	clock_gettime( CLOCK_MONOTONIC, &t0 );
	/* a push wait holds its connection, and so its thread, throughout */
	v = auth0_bind_verify( bp->bp_tr[slot], &bc, br, detail, dlen );
	clock_gettime( CLOCK_MONOTONIC, &t1 );
	pool_put( bp, slot );
	if ( !br->br_push )	/* the user's reaction time is no latency */
		auth0_bindcache_latency_add( ai->ai_bindcache,
			( t1.tv_sec - t0.tv_sec ) * 1000.0 +
			( t1.tv_nsec - t0.tv_nsec ) / 1e6 );
	return v;
}

/* The LDAP answer to a verdict (DESIGN.md section 4). */
static int
verdict_code( enum auth0_verdict v, const char **text )
{
	switch ( v ) {
	case AUTH0_V_OK:
		*text = NULL;
		return LDAP_SUCCESS;
	case AUTH0_V_MFA:
		*text = "MFA required: append the one-time code (or \"push\") "
			"to the password, after the separator";
		return LDAP_INVALID_CREDENTIALS;
	case AUTH0_V_BAD_OTP:
		*text = "MFA code refused";
		return LDAP_INVALID_CREDENTIALS;
	case AUTH0_V_PUSH_DENIED:
		*text = "MFA push denied";
		return LDAP_INVALID_CREDENTIALS;
	case AUTH0_V_PUSH_TIMEOUT:
		*text = "MFA not approved in time";
		return LDAP_INVALID_CREDENTIALS;
	case AUTH0_V_NO_PUSH:
		*text = "MFA push not possible: no Guardian push enrolled";
		return LDAP_INVALID_CREDENTIALS;
	case AUTH0_V_BLOCKED:
		*text = "user is blocked in Auth0";
		return LDAP_INVALID_CREDENTIALS;
	case AUTH0_V_TOO_MANY:
		*text = "too many attempts: Auth0 blocked this login "
			"(brute-force protection)";
		return LDAP_INVALID_CREDENTIALS;
	case AUTH0_V_LEAKED:
		*text = "password found in a data breach: reset it in Auth0";
		return LDAP_INVALID_CREDENTIALS;
	case AUTH0_V_BUSY:
		*text = "Auth0 is rate limiting; try again";
		return LDAP_BUSY;
	case AUTH0_V_NO_THREAD:
		*text = "too many binds waiting for Auth0; try again";
		return LDAP_BUSY;
	case AUTH0_V_UNAVAILABLE:
	case AUTH0_V_MISCONFIGURED:
	case AUTH0_V_PENDING:		/* never leave bindcall.c */
	case AUTH0_V_SLOW_DOWN:
		*text = "Auth0 cannot be reached to verify the password";
		return LDAP_UNAVAILABLE;
	case AUTH0_V_NO_PASSWORD:	/* answered like a wrong password */
	case AUTH0_V_WRONG:
	default:
		*text = NULL;
		return LDAP_INVALID_CREDENTIALS;
	}
}

/*
 * Throttling: 1 (and a reply sent) when this DN or address failed too
 * often.  Unknown DNs count like known ones, so the answer tells nothing.
 */
static int
throttled( struct auth0_info *ai, struct bind_conf *bf, Operation *op,
	SlapReply *rs, const char *ip, time_t now )
{
	const char *text = NULL;

	if ( auth0_bindcache_throttled( ai->ai_bindcache, op->o_req_ndn.bv_val,
			now, bf->bf_max_dn, bf->bf_window ) )
		text = "too many failed binds for this entry; try again later";
	else if ( *ip && !bf->bf_trusted && auth0_bindcache_throttled(
			ai->ai_bindcache, ip, now, bf->bf_max_ip, bf->bf_window ) )
		text = "too many failed binds from this address; try again later";
	if ( text == NULL )
		return 0;
	count( &ai->ai_bind_throttled );
	Debug( LDAP_DEBUG_STATS, "%s auth0: bind dn=\"%s\" throttled\n",
		op->o_log_prefix, op->o_req_dn.bv_val );
	reply( op, rs, LDAP_INVALID_CREDENTIALS, text );
	return 1;
}

static void
record_failure( struct auth0_info *ai, struct bind_conf *bf, Operation *op,
	const char *ip, time_t now )
{
	if ( bf->bf_max_dn > 0 )
		auth0_bindcache_failed( ai->ai_bindcache, op->o_req_ndn.bv_val,
			now, bf->bf_window );
	if ( *ip && !bf->bf_trusted && bf->bf_max_ip > 0 )
		auth0_bindcache_failed( ai->ai_bindcache, ip, now, bf->bf_window );
}

/*
 * Asks Auth0 about pw for bu (a miss of the cache); caches what it
 * confirms under key: a plain password for auth0-bind-cache-ttl, one with
 * a one-time code or push for auth0-bind-cache-mfa-ttl at most (the code
 * cannot be used twice at Auth0, and clients bind twice).
 */
static enum auth0_verdict
verify( struct auth0_info *ai, struct bind_conf *bf, const char *key,
	struct bind_user *bu, char *pw, const char *ip, char *detail,
	size_t dlen )
{
	struct auth0_bind_req br = { bu->bu_realm, bu->bu_login, pw, NULL, ip,
		0, (double)bf->bf_push_timeout };
	time_t now = slap_get_time();
	enum auth0_verdict v;

	/* "password,123456" or "password,push": the password with an MFA
	 * code or a push; if Auth0 says the prefix is wrong, the whole
	 * string may be the password */
	br.br_push = split_push( pw, bf->bf_sep );
	if ( !br.br_push )
		br.br_otp = split_otp( pw, bf->bf_sep );
	v = ask_auth0( ai, bf, &br, detail, dlen );
	if ( br.br_otp || br.br_push ) {
		pw[strlen( pw )] = bf->bf_sep[0];	/* the whole string again */
		if ( v == AUTH0_V_WRONG ) {
			br.br_otp = NULL;
			br.br_push = 0;
			v = ask_auth0( ai, bf, &br, detail, dlen );
		}
	}
	if ( v == AUTH0_V_OK && br.br_otp == NULL && !br.br_push )
		auth0_bindcache_store( ai->ai_bindcache, key, pw, now, 0 );
	else if ( v == AUTH0_V_OK && bf->bf_mfa_ttl > 0 )
		auth0_bindcache_store( ai->ai_bindcache, key, pw, now,
			bf->bf_mfa_ttl );
	if ( ( v == AUTH0_V_UNAVAILABLE || v == AUTH0_V_MISCONFIGURED ||
			v == AUTH0_V_BUSY ) )
		count( &ai->ai_bind_errors );
	/* Auth0 down: a recently verified password may still do */
	if ( v == AUTH0_V_UNAVAILABLE && bf->bf_stale > 0 &&
			auth0_bindcache_check( ai->ai_bindcache, key, pw, now,
				bf->bf_ttl + bf->bf_stale ) ) {
		count( &ai->ai_bind_stale_hits );
		v = AUTH0_V_OK;
	}
	return v;
}

/*
 * Why a bind fails without asking Auth0 (NULL: ask).  Each is answered
 * exactly like a wrong password; the reason goes to the log only.
 */
static const char *
refused_locally( const struct bind_user *bu, int nul )
{
	if ( nul )
		return "the password holds a NUL byte";
	if ( !bu->bu_found )
		return "no such user";
	if ( !takes_passwords( bu->bu_id ) )
		return "the user's connection takes no passwords";
	return NULL;
}

/*
 * The bind cache's key: the DN, and for "password,push" the DN and the
 * client's address, since that string holds no second factor of its own:
 * only the client that waited for the approval binds again with it.
 */
static char *
cache_key( Operation *op, struct bind_conf *bf, const char *pw,
	const char *ip )
{
	const char *at = bf->bf_sep[0] ? strrchr( pw, bf->bf_sep[0] ) : NULL;
	char *key;

	if ( at == NULL || at == pw || strcasecmp( at + 1, "push" ) != 0 )
		return ch_strdup( op->o_req_ndn.bv_val );
	key = ch_malloc( op->o_req_ndn.bv_len + strlen( ip ) + 2 );
	sprintf( key, "%s\n%s", op->o_req_ndn.bv_val, ip );
	return key;
}

/* Decides the bind of a DN below ou=people; returns the LDAP result code. */
static int
bind_user( Operation *op, SlapReply *rs, struct auth0_info *ai,
	struct bind_conf *bf, struct bind_user *bu, const char *ip )
{
	char detail[AUTH0_ERRLEN], *pw, *key;
	const char *text, *local;
	time_t now = slap_get_time();
	size_t len = op->orb_cred.bv_len;
	enum auth0_verdict v;
	int code, nul;

	detail[0] = '\0';
	nul = memchr( op->orb_cred.bv_val, '\0', len ) != NULL;
	pw = ch_malloc( len + 1 );
	memcpy( pw, op->orb_cred.bv_val, len );
	pw[len] = '\0';
	local = refused_locally( bu, nul );
	key = cache_key( op, bf, pw, ip );
	/* a password the cache confirms passes even a throttled DN */
	if ( !nul && bu->bu_found && auth0_bindcache_check( ai->ai_bindcache,
			key, pw, now, bf->bf_ttl ) ) {
		count( &ai->ai_bind_hits );
		v = bu->bu_blocked ? AUTH0_V_BLOCKED : AUTH0_V_OK;
		snprintf( detail, sizeof( detail ), "from the bind cache" );
	} else if ( throttled( ai, bf, op, rs, ip, now ) ) {
		code = LDAP_INVALID_CREDENTIALS;
		goto done;
	} else if ( local ) {
		v = AUTH0_V_WRONG;
		snprintf( detail, sizeof( detail ), "%s (not asked)", local );
	} else {
		v = verify( ai, bf, key, bu, pw, ip, detail, sizeof( detail ) );
		/* blocked here: said only once Auth0 confirmed the password */
		if ( bu->bu_blocked && ( v == AUTH0_V_OK || v == AUTH0_V_MFA ) )
			v = AUTH0_V_BLOCKED;
	}
	code = verdict_code( v, &text );
	/* push denials and timeouts count too: they bound push spamming */
	if ( v == AUTH0_V_WRONG || v == AUTH0_V_BAD_OTP || v == AUTH0_V_MFA ||
			v == AUTH0_V_NO_PASSWORD || v == AUTH0_V_PUSH_DENIED ||
			v == AUTH0_V_PUSH_TIMEOUT )
		record_failure( ai, bf, op, ip, now );
	else if ( v == AUTH0_V_OK )
		auth0_bindcache_reset( ai->ai_bindcache, op->o_req_ndn.bv_val );
	Debug( v == AUTH0_V_MISCONFIGURED ? LDAP_DEBUG_ANY : LDAP_DEBUG_STATS,
		"%s auth0: bind dn=\"%s\" user=%s: %s%s%s\n", op->o_log_prefix,
		op->o_req_dn.bv_val, bu->bu_found ? bu->bu_id : "-",
		auth0_verdict_str( v ), detail[0] ? ": " : "", detail );
	if ( code != LDAP_SUCCESS )
		reply( op, rs, code, text );
	/* on success the frontend sends the result */
done:
	explicit_bzero( pw, len );
	ch_free( pw );
	ch_free( key );
	return code;
}

int
auth0_op_bind( Operation *op, SlapReply *rs )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	struct auth0_info *ai = on->on_bi.bi_private;
	struct bind_user bu;
	struct bind_conf bf;
	char ip[64];
	int rc;

	if ( op->orb_method != LDAP_AUTH_SIMPLE ||
			!is_imported_user( op->o_bd, &op->o_req_ndn ) )
		return SLAP_CB_CONTINUE;
	/* the settings of this bind, all from one moment (cn=config) */
	client_ip( op, ip, sizeof( ip ) );
	bind_conf_get( ai, &bf, ip );
	if ( !bf.bf_on )
		return SLAP_CB_CONTINUE;
	if ( BER_BVISEMPTY( &op->orb_cred ) ) {
		rc = reply( op, rs, LDAP_INVALID_CREDENTIALS, NULL );
		goto done;
	}
	memset( &bu, 0, sizeof( bu ) );
	read_user( op, on, &bu );
	rc = bind_user( op, rs, ai, &bf, &bu, ip );
done:
	bind_conf_free( &bf );
	return rc;
}
