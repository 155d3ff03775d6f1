/* version.c - which slapd back-auth0 agrees to run in */
/*
 * slapd checks no module ABI: a module compiled against other headers
 * reads the wrong fields of Operation, Entry or BackendDB.  The policy
 * (DESIGN.md section 8.5, docs/deploy.md "Upgrading slapd"):
 *   - the slapd the module was built for loads it;
 *   - a slapd of the same upstream OpenLDAP release but another packaging
 *     revision (a Debian security update: 2.5.13+dfsg-5 to
 *     2.5.13+dfsg-5+deb12u1) loads it when the layout fingerprint matches:
 *     the sizes, as the headers gave them at build time, of the types of
 *     the data objects the running slapd exports (its dynamic symbol
 *     table records each object's size); a notice says a rebuild is due;
 *   - any other slapd is refused with a message that says what to do.
 * The same fingerprint is checked for the exact version too, so a module
 * built against a mismatched source tree never runs.
 */
#include "portable.h"

#include <ac/string.h>
#include <dlfcn.h>
#include <link.h>

#include "back-auth0.h"
#include "slap-config.h"
#include "ldap_rq.h"

#ifndef AUTH0_LAYOUT_VTEST
#define AUTH0_LAYOUT_VTEST	0	/* tests: pretend one size differs */
#endif

/* An exported object of slapd whose type the module compiles against:
 * its whole size must be a multiple of (arrays) or equal to the type's. */
struct layout_probe {
	const char	*lp_name;
	const void	*lp_addr;
	size_t		lp_size;	/* sizeof the element, from the headers */
	int		lp_array;	/* an array of unknown length */
};

static const struct layout_probe probes[] = {
	{ "slap_schema", &slap_schema, sizeof( slap_schema ) + AUTH0_LAYOUT_VTEST,
		0 },
	{ "slap_entry_root", &slap_entry_root, sizeof( Entry ), 0 },
	{ "slap_binfo", &slap_binfo, sizeof( BackendInfo ), 1 },
	{ "slap_counters", &slap_counters, sizeof( slap_counters_t ), 0 },
	{ "slapd_rq", &slapd_rq, sizeof( struct runqueue_s ), 0 },
	{ "slap_known_controls", &slap_known_controls, sizeof( char * ) *
		( SLAP_MAX_CIDS + 1 ), 0 },
	{ "olcDatabaseDummy", &olcDatabaseDummy, sizeof( ConfigTable ), 1 },
	{ NULL, NULL, 0, 0 }
};

/* The version token of the running slapd, from its Versionstr. */
static int
running_version( char *buf, size_t len )
{
	const char *p = strstr( Versionstr, "slapd " );
	size_t n;

	if ( p == NULL )
		return -1;
	p += STRLENOF( "slapd " );
	n = strcspn( p, " \t\n$" );
	if ( n == 0 || n >= len )
		return -1;
	memcpy( buf, p, n );
	buf[n] = '\0';
	return 0;
}

/* "2.5.13" of "2.5.13+dfsg-5+deb12u1" (no epoch, no packaging part). */
static void
upstream( const char *v, char *buf, size_t len )
{
	const char *colon = strchr( v, ':' );
	size_t n;

	if ( colon )
		v = colon + 1;
	n = strcspn( v, "+-~" );
	snprintf( buf, len, "%.*s", (int)n, v );
}

/*
 * Checks every probe against the size the running slapd's symbol table
 * gives; 0 when all match, else -1 with the first difference in why.
 */
static int
layout_check( char *why, size_t len )
{
	const struct layout_probe *lp;

	for ( lp = probes; lp->lp_name; lp++ ) {
		Dl_info info;
		const ElfW(Sym) *sym = NULL;

		if ( dladdr1( lp->lp_addr, &info, (void **)&sym,
				RTLD_DL_SYMENT ) == 0 || sym == NULL ||
				info.dli_sname == NULL ||
				strcmp( info.dli_sname, lp->lp_name ) != 0 ) {
			snprintf( why, len, "slapd exports no %s", lp->lp_name );
			return -1;
		}
		if ( lp->lp_array ? ( sym->st_size % lp->lp_size ) != 0 :
				sym->st_size != lp->lp_size ) {
			snprintf( why, len, "%s is %lu bytes in this slapd, the "
				"module's headers say %s%lu", lp->lp_name,
				(unsigned long)sym->st_size, lp->lp_array ?
				"a multiple of " : "", (unsigned long)lp->lp_size );
			return -1;
		}
	}
	return 0;
}

int
auth0_version_check( void )
{
	char running[64], up_run[64], up_built[64], why[160];

	if ( running_version( running, sizeof( running ) ) != 0 ) {
		Debug( LDAP_DEBUG_ANY, "auth0: cannot tell the version of the "
			"running slapd; refusing to load\n" );
		return -1;
	}
	upstream( running, up_run, sizeof( up_run ) );
	upstream( AUTH0_SLAPD_VERSION, up_built, sizeof( up_built ) );
	if ( strcmp( up_run, up_built ) != 0 ) {
		Debug( LDAP_DEBUG_ANY, "auth0: module built for slapd %s but "
			"this is slapd %s; rebuild back-auth0 against this slapd's "
			"source (scripts/setup, then scripts/build or the Debian "
			"package), or install the slapd-auth0 package built for it. "
			"Refusing to load.\n", AUTH0_SLAPD_VERSION, running );
		return -1;
	}
	if ( layout_check( why, sizeof( why ) ) != 0 ) {
		Debug( LDAP_DEBUG_ANY, "auth0: module built for slapd %s, this "
			"is slapd %s, and their structures differ (%s); rebuild "
			"back-auth0 against this slapd's source (scripts/setup, then "
			"scripts/build or the Debian package). Refusing to load.\n",
			AUTH0_SLAPD_VERSION, running, why );
		return -1;
	}
	if ( strcmp( running, AUTH0_SLAPD_VERSION ) != 0 )
		Debug( LDAP_DEBUG_ANY, "auth0: notice: module built for slapd %s, "
			"running in slapd %s: the same OpenLDAP release %s with the "
			"same structure layout, so it loads; rebuild it against this "
			"slapd when convenient\n", AUTH0_SLAPD_VERSION, running,
			up_run );
	return 0;
}
