# Unit tests for internals of the compat Test::Nginx (t/lib/compat):
# request packet splitting, response parsing, valgrind report filtering.
# No nginx is started.  Skipped under the real Test::Nginx.

use strict;
use warnings;
use Test::More;

BEGIN {
    no warnings 'once';
    my $ok = eval { require Test::Nginx::Socket; 1 };
    plan skip_all => 'these test internals of the compat Test::Nginx'
        if !$ok || !$Test::Nginx::Socket::COMPAT;
}

# --- build_request ------------------------------------------------------

my $r = Test::Nginx::Socket::build_request('t', '', 0, 'close', ["POST /users\nna", "me=foo"]);
is_deeply($r, ["POST /users HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
               . "Content-Length: 8\r\n\r\nna", "me=foo"],
          'body split: headers go with the request line, boundary kept in the body');

$r = Test::Nginx::Socket::build_request('t', '', 0, 'close', ["GE", "T /foo"]);
is_deeply($r, ["GE", "T /foo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"],
          'split inside the method token');

$r = Test::Nginx::Socket::build_request('t', "X-A: 1\r\n", 0, 'keep-alive',
                                        ["  GET /x HTTP/1.0  \n"]);
is($r->[0], "GET /x HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\nX-A: 1\r\n\r\n",
   'request line normalised, more_headers appended');

$r = Test::Nginx::Socket::build_request('t', "Transfer-Encoding: chunked\r\n", 1, 'close',
                                        ["POST /c\n3\r\nabc\r\n0\r\n\r\n"]);
like($r->[0], qr/\r\n\r\n3\r\nabc\r\n0\r\n\r\n\z/, 'chunked body sent verbatim');
unlike($r->[0], qr/Content-Length/, 'no Content-Length for a chunked request');

my ($h, $c) = Test::Nginx::Socket::parse_more_headers("# comment\nX-Foo: bar\nTransfer-Encoding: chunked\n");
is($h, "X-Foo: bar\r\nTransfer-Encoding: chunked\r\n", 'more_headers parsed, comments dropped');
ok($c, 'chunked request detected');

# --- parse_response -----------------------------------------------------

my $raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Multi: a\r\nX-Multi: b\r\n\r\n"
        . "5\r\nhello\r\n1;ext=1\r\n!\r\n0\r\nX-Trailer: t\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
my ($res, $rawh, $left) = Test::Nginx::Socket::parse_response('t', $raw, 0);
is($res->code, 200, 'status parsed');
is($res->content, 'hello!', 'chunked body decoded (extensions, trailers)');
is(scalar $res->header('X-Multi'), 'a, b', 'repeated headers joined');
like($rawh, qr/\AHTTP\/1\.1 200 OK\r\n.*X-Multi: b\r\n\z/s, 'raw headers kept');
($res, $rawh, $left) = Test::Nginx::Socket::parse_response('t', $left, 0);
is($res->code, 204, 'second (pipelined) response parsed from the leftover');
is($res->content, '', '204 has no body');

($res) = Test::Nginx::Socket::parse_response('t',
    "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 1);
is($res->content, '', 'HEAD response: Content-Length does not imply a body');

($res, undef, $left) = Test::Nginx::Socket::parse_response('t',
    "HTTP/1.0 404 Not Found\r\nContent-Length: 3\r\n\r\nabcdef", 0);
is($res->content, 'abc', 'body cut at Content-Length');
is($left, 'def', 'rest is left over');

# --- valgrind report filtering -----------------------------------------

my $vg = <<'_EOV_';
2026/01/01 00:00:00 [debug] 100#100: an nginx log line
==100== Invalid read of size 8
==100==    at 0x1: ngx_palloc (ngx_palloc.c:1)
==100==    by 0x2: main (nginx.c:1)
==100==  Address 0x0 is not stack'd, malloc'd or (recently) free'd
==100== 
==101== Invalid write of size 4
2026/01/01 00:00:00 [info] 101#101: interleaved log line
==101==    at 0x3: ngx_gp_pool_put (ngx_gp_pool.c:10)
==101==    by 0x4: ngx_http_gemini_pool_handler (ngx_http_gemini_pool_module.c:20)
==101== 
{
   <insert_a_suppression_name_here>
   Memcheck:Addr4
   fun:ngx_gp_pool_put
}
==100== 16 bytes in 1 blocks are still reachable in loss record 1 of 4
==100==    at 0x5: malloc (vg_replace_malloc.c:1)
==100==    by 0x6: ngx_gp_init (ngx_gp.c:1)
==100== 
==100== 32 bytes in 1 blocks are indirectly lost in loss record 2 of 4
==100==    at 0x5: malloc (vg_replace_malloc.c:1)
==100==    by 0x6: ngx_gp_init (ngx_gp.c:1)
==100== 
==100== 48 bytes in 1 blocks are definitely lost in loss record 3 of 4
==100==    at 0x5: malloc (vg_replace_malloc.c:1)
==100==    by 0x7: ngx_http_gemini_pool_init (m.c:1)
==100== 
==100== 64 bytes in 1 blocks are definitely lost in loss record 4 of 4
==100==    at 0x5: malloc (vg_replace_malloc.c:1)
==100==    by 0x8: ngx_event_init (e.c:1)
==100== 
_EOV_

my @bad = Test::Nginx::Util::valgrind_problems($vg);
is(scalar @bad, 2, 'two reports concern the module');
is($bad[0]{kind}, 'error', 'invalid write is an error');
like($bad[0]{text}, qr/Invalid write of size 4.*ngx_gp_pool_put/s, 'error text kept');
unlike($bad[0]{text}, qr/interleaved log line/, 'nginx log lines are not part of it');
like($bad[0]{text}, qr/Memcheck:Addr4/, 'suppression attached');
is($bad[1]{kind}, 'leak', 'definite leak reported');
like($bad[1]{text}, qr/48 bytes/, 'the right leak');

@bad = Test::Nginx::Util::valgrind_problems($vg, qr/ngx_event_init/);
is(scalar @bad, 1, 'frame pattern is configurable');

# --- env expansion ------------------------------------------------------

{
    local $ENV{TEST_NGINX_SELFTEST_X} = 'xx';
    my $ports = {};
    my $t = Test::Nginx::Util::expand_env_in_text(
        '$TEST_NGINX_SELFTEST_X $TEST_NGINX_RAND_PORT_1 $TEST_NGINX_RAND_PORT_1 $other',
        't', $ports);
    like($t, qr/^xx (\d+) \1 \$other$/, 'TEST_NGINX_* expanded, random port stable');
}

done_testing();
