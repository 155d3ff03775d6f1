/* test_snapdir.c - unit tests of snapdir.c: streaming NDJSON users */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <unistd.h>

#include "map.h"
#include "digest.h"

static char warned[4096];

static void
collect( void *arg, const char *msg )
{
	strncat( warned, msg, sizeof( warned ) - strlen( warned ) - 2 );
	strcat( warned, "\n" );
}

static void
read_text( struct auth0_model *m, const char *text,
	const struct auth0_select *sel )
{
	FILE *fp = fmemopen( (void *)text, strlen( text ), "r" );

	assert_non_null( fp );
	auth0_model_init( m );
	m->sn_warn = collect;
	warned[0] = '\0';
	assert_int_equal( auth0_snapdir_read_stream( fp, "users.ndjson", sel,
		m ), AUTH0_OK );
	fclose( fp );
}

static void
good_lines_and_blank_lines( void **state )
{
	struct auth0_model m;

	read_text( &m, "{\"user_id\":\"a\"}\n\n  \n{\"user_id\":\"b\"}",
		NULL );
	assert_int_equal( m.sn_nusers, 2 );
	assert_int_equal( m.sn_bad, 0 );
	assert_true( m.sn_complete );
	assert_string_equal( warned, "" );
	auth0_model_free( &m );
}

static void
malformed_line_reported_with_number( void **state )
{
	struct auth0_model m;

	read_text( &m, "{\"user_id\":\"a\"}\n{\"user_id\": \"b\"\n"
		"[1,2]\n{\"email\":\"no-id@x\"}\n{\"user_id\":\"c\"}\n", NULL );
	assert_int_equal( m.sn_nusers, 2 );
	assert_string_equal( m.sn_users[1].us_id, "c" );
	assert_int_equal( m.sn_bad, 3 );
	assert_false( m.sn_complete );
	assert_non_null( strstr( warned, "line 2: malformed JSON" ) );
	assert_non_null( strstr( warned, "line 3: user record is not a JSON "
		"object" ) );
	assert_non_null( strstr( warned, "line 4: user record has no "
		"user_id" ) );
	auth0_model_free( &m );
}

static void
warnings_are_capped( void **state )
{
	struct auth0_model m;
	char *text = malloc( 100 * 8 + 1 );
	int i, lines = 0;
	char *p;

	text[0] = '\0';
	for ( i = 0; i < 100; i++ )
		strcat( text, "garbage\n" );
	read_text( &m, text, NULL );
	assert_int_equal( m.sn_bad, 100 );
	for ( p = warned; ( p = strchr( p, '\n' ) ); p++ )
		lines++;
	assert_int_equal( lines, AUTH0_MAX_WARNINGS );
	free( text );
	auth0_model_free( &m );
}

static void
missing_directory_is_an_io_error( void **state )
{
	struct auth0_model m;
	char err[AUTH0_ERRLEN];

	auth0_model_init( &m );
	assert_int_equal( auth0_snapdir_read_users( "/nonexistent/auth0-snap",
		NULL, &m, err ), AUTH0_ERR_IO );
	assert_non_null( strstr( err, "users.ndjson" ) );
	assert_int_equal( m.sn_nusers, 0 );
	auth0_model_free( &m );
}

static void
many_users_stream( void **state )
{
	struct auth0_model m;
	size_t n = 20000, i;
	char *text = malloc( n * 64 ), *p = text;

	for ( i = 0; i < n; i++ )
		p += sprintf( p, "{\"user_id\":\"auth0|%06zu\",\"email\":"
			"\"u%zu@x.io\"}\n", i, i );
	read_text( &m, text, NULL );
	assert_int_equal( m.sn_nusers, n );
	assert_int_equal( auth0_map_assign_uids( &m, NULL ), AUTH0_OK );
	assert_string_equal( m.sn_users[n - 1].us_uid, "u19999@x.io" );
	free( text );
	auth0_model_free( &m );
}

/* Writes dir/name with text (NULL: removes it). */
static void
put_file( const char *dir, const char *name, const char *text )
{
	char path[512];
	FILE *fp;

	snprintf( path, sizeof( path ), "%s/%s", dir, name );
	if ( text == NULL ) {
		unlink( path );
		return;
	}
	fp = fopen( path, "w" );
	assert_non_null( fp );
	fputs( text, fp );
	fclose( fp );
}

static void
fingerprint( const char *dir, unsigned char out[16] )
{
	struct auth0_digest d;

	assert_int_equal( auth0_digest_init( &d ), AUTH0_OK );
	assert_int_equal( auth0_snapdir_fingerprint( dir, &d ), AUTH0_OK );
	auth0_digest_final( &d, out );
}

static void
fingerprint_follows_every_file( void **state )
{
	char dir[] = "/tmp/auth0-fp-XXXXXX";
	unsigned char a[16], b[16], c[16], e[16], f[16];

	assert_non_null( mkdtemp( dir ) );
	put_file( dir, "users.ndjson", "{\"user_id\":\"a\"}\n" );
	fingerprint( dir, a );
	fingerprint( dir, b );
	assert_memory_equal( a, b, 16 );		/* stable */
	put_file( dir, "users.ndjson", "{\"user_id\":\"b\"}\n" );
	fingerprint( dir, c );
	assert_memory_not_equal( a, c, 16 );		/* one byte */
	put_file( dir, "roles.json", "" );
	fingerprint( dir, e );
	assert_memory_not_equal( c, e, 16 );		/* empty is not absent */
	put_file( dir, "roles.json", NULL );
	put_file( dir, "authz.json", "" );
	fingerprint( dir, f );
	assert_memory_not_equal( e, f, 16 );		/* which file counts */
	put_file( dir, "authz.json", NULL );
	put_file( dir, "users.ndjson", NULL );
	rmdir( dir );
}

int
main( void )
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test( good_lines_and_blank_lines ),
		cmocka_unit_test( malformed_line_reported_with_number ),
		cmocka_unit_test( warnings_are_capped ),
		cmocka_unit_test( missing_directory_is_an_io_error ),
		cmocka_unit_test( many_users_stream ),
		cmocka_unit_test( fingerprint_follows_every_file ),
	};

	return cmocka_run_group_tests( tests, NULL, NULL );
}
