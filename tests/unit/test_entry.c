/* test_entry.c - unit tests of entry.c and digest.c */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "map.h"

static const char *const names[] = { "cn", "mail", NULL };

static void
build( struct auth0_entry *e, const char *cn, const char *mail )
{
	auth0_entry_init( e );
	assert_int_equal( auth0_entry_add( e, "cn", cn ), AUTH0_OK );
	if ( mail )
		assert_int_equal( auth0_entry_add( e, "mail", mail ), AUTH0_OK );
	assert_int_equal( auth0_entry_add( e, "other", "ignored" ), AUTH0_OK );
}

static void
digest_tracks_managed_attributes( void **state )
{
	struct auth0_entry a, b, c, d;
	unsigned char da[16], db[16], dc[16], dd[16];

	build( &a, "Jane", "j@x" );
	build( &b, "Jane", "j@x" );
	build( &c, "Jane", NULL );
	build( &d, "Jan", "ej@x" );	/* same bytes, other split */
	auth0_entry_add( &b, "other", "more" );	/* not managed */
	auth0_entry_digest( &a, names, da );
	auth0_entry_digest( &b, names, db );
	auth0_entry_digest( &c, names, dc );
	auth0_entry_digest( &d, names, dd );
	assert_memory_equal( da, db, 16 );
	assert_memory_not_equal( da, dc, 16 );
	assert_memory_not_equal( da, dd, 16 );
	auth0_entry_free( &a );
	auth0_entry_free( &b );
	auth0_entry_free( &c );
	auth0_entry_free( &d );
}

static void
set_digest_ignores_order_only( void **state )
{
	static const char *const mnames[] = { "member", NULL };
	static const unsigned char sets[] = { 1, 0 };
	struct auth0_entry a, b, c;
	unsigned char da[16], db[16], dc[16], la[16], lb[16];

	auth0_entry_init( &a );
	auth0_entry_init( &b );
	auth0_entry_init( &c );
	auth0_entry_add( &a, "member", "uid=x" );
	auth0_entry_add( &a, "member", "uid=y" );
	auth0_entry_add( &b, "member", "uid=y" );
	auth0_entry_add( &b, "member", "uid=x" );
	auth0_entry_add( &c, "member", "uid=x" );
	auth0_entry_add( &c, "member", "uid=z" );
	auth0_entry_digest_sets( &a, mnames, sets, da );
	auth0_entry_digest_sets( &b, mnames, sets, db );
	auth0_entry_digest_sets( &c, mnames, sets, dc );
	auth0_entry_digest( &a, mnames, la );
	auth0_entry_digest( &b, mnames, lb );
	assert_memory_equal( da, db, 16 );	/* a set: order is no change */
	assert_memory_not_equal( da, dc, 16 );
	assert_memory_not_equal( la, lb, 16 );	/* a list: order counts */
	assert_memory_not_equal( da, la, 16 );
	auth0_entry_free( &a );
	auth0_entry_free( &b );
	auth0_entry_free( &c );
}

static void
multi_values_and_lookup( void **state )
{
	struct auth0_entry e;
	struct auth0_eattr *a;

	auth0_entry_init( &e );
	auth0_entry_add( &e, "objectClass", "top" );
	auth0_entry_add( &e, "objectclass", "person" );
	a = auth0_entry_find( &e, "OBJECTCLASS" );
	assert_non_null( a );
	assert_int_equal( a->ea_nvals, 2 );
	assert_string_equal( a->ea_vals[1], "person" );
	assert_null( a->ea_vals[2] );
	assert_null( auth0_entry_first( &e, "cn" ) );
	assert_int_equal( e.en_nattrs, 1 );
	auth0_entry_free( &e );
}

static void
attribute_equality( void **state )
{
	struct auth0_entry x, y;

	build( &x, "A", "m" );
	build( &y, "A", "n" );
	assert_true( auth0_eattr_equal( auth0_entry_find( &x, "cn" ),
		auth0_entry_find( &y, "cn" ) ) );
	assert_false( auth0_eattr_equal( auth0_entry_find( &x, "mail" ),
		auth0_entry_find( &y, "mail" ) ) );
	assert_false( auth0_eattr_equal( auth0_entry_find( &x, "mail" ),
		NULL ) );
	auth0_entry_free( &x );
	auth0_entry_free( &y );
}

int
main( void )
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test( digest_tracks_managed_attributes ),
		cmocka_unit_test( set_digest_ignores_order_only ),
		cmocka_unit_test( multi_values_and_lookup ),
		cmocka_unit_test( attribute_equality ),
	};

	return cmocka_run_group_tests( tests, NULL, NULL );
}
