# Test-the-tests for the Test::Nginx harness: run fixture files with
# deliberately wrong expectations in a child perl, parse their TAP, and
# check that exactly the wrong expectations fail (and the right ones pass).
#
# The valgrind part builds a tiny LD_PRELOAD library (fixtures/
# gp-selftest-bug.c) whose "ngx_gp_" function reads past a heap block and
# leaks it, and checks that the compat harness fails "valgrind clean".  It
# needs gcc + valgrind and the compat harness (the real Test::Nginx has no
# "valgrind clean" check), and is skipped otherwise.

use strict;
use warnings;
use Test::More;
use File::Temp qw( tempdir );
use File::Spec;
use FindBin;
use TAP::Parser;

my $fixtures = "$FindBin::Bin/fixtures";
my $tmp = tempdir('harness-selftest-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# Run a fixture; returns ({ description => [ok...] }, $all_output, $exit)
sub run_fixture {
    my ($file, %env) = @_;
    local %ENV = %ENV;
    delete $ENV{$_} for qw(TEST_NGINX_USE_VALGRIND TEST_NGINX_NO_CLEAN
                           TEST_NGINX_LD_PRELOAD HARNESS_ACTIVE);
    $ENV{PERL5LIB} = join ':', grep { !ref } @INC;
    $ENV{TEST_NGINX_SERVROOT} = "$tmp/servroot";
    $ENV{TEST_NGINX_NO_SHUFFLE} = 1;
    @ENV{keys %env} = values %env;

    my $out = `"$^X" "$fixtures/$file" 2>&1`;
    my $exit = $? >> 8;
    my $parser = TAP::Parser->new({ tap => $out });
    my @tests;
    while (my $r = $parser->next) {
        push @tests, [$r->description, $r->is_ok ? 1 : 0] if $r->is_test;
    }
    return (\@tests, $out, $exit);
}

# every test whose description matches $re must have outcome $ok (1/0)
sub expect_outcome {
    my ($tests, $ok, $re, $label) = @_;
    my @m = grep { $_->[0] =~ $re } @$tests;
    if (!@m) {
        fail("$label: no test matching $re");
        return;
    }
    my @wrong = grep { $_->[1] != $ok } @m;
    ok(!@wrong, "$label: " . ($ok ? 'passes' : 'fails'))
        or diag("unexpected outcome for: " . join("\n", map { $_->[0] } @wrong));
}

my ($tests, $out, $exit) = run_fixture('wrong-expectations.tt');

my @cases = (
    [0, qr/TEST 1: wrong body - response_body - response is expected/, 'wrong body'],
    [1, qr/TEST 1: wrong body - status code ok/, 'status of wrong-body block'],
    [0, qr/TEST 2: wrong status - status code ok/, 'wrong status'],
    [1, qr/TEST 2: wrong status - response_body/, 'body of wrong-status block'],
    [0, qr/TEST 3: .* - header X-Foo ok/, 'wrong header value'],
    [0, qr/TEST 3: .* - header X-Bar not present in the raw headers/, 'unexpected header'],
    [0, qr/TEST 4: .* - pattern "this text never appears in the log" should match a line in error\.log \(req 0\)/,
        'missing error_log line'],
    [0, qr/TEST 4: .* - pattern "\[error\]" should not match any line in error\.log but matches line/,
        'unwanted error_log line'],
    [1, qr/TEST 4: .* - status code ok/, 'status of log block'],
    [0, qr/ERROR: client socket timed out - \S+ TEST 5: client timeout without abort/,
        'client timeout'],
    [0, qr/TEST 6: .* - grep_error_log_out \(req 0\)/, 'grep_error_log_out mismatch'],
    [0, qr/TEST 7: .* - response_body_like - response is expected \(hello\)/,
        'response_body_like mismatch'],
    [1, qr/TEST 8: a correct block - status code ok/, 'correct block status'],
    [1, qr/TEST 8: a correct block - response_body - response is expected/, 'correct block body'],
);

expect_outcome($tests, @$_) for @cases;

is(scalar(grep { !$_->[1] } @$tests), 9, 'exactly 9 checks fail')
    or diag($out);
isnt($exit, 0, 'fixture exits non-zero');
like($out, qr/expected line 2/, 'failure diagnostics show the expected text');

# --- valgrind -----------------------------------------------------------

sub have { my $c = shift; system("command -v $c >/dev/null 2>&1") == 0 }

SKIP: {
    my $compat = do {
        no warnings 'once';
        local $@;
        eval { require Test::Nginx::Util; 1 } && $Test::Nginx::Util::COMPAT;
    };
    skip 'valgrind clean is a compat-harness feature', 6 if !$compat;
    skip 'valgrind or gcc not installed', 6 if !have('valgrind') || !have('gcc');
    skip 'TEST_NGINX_SELFTEST_NO_VALGRIND is set', 6
        if $ENV{TEST_NGINX_SELFTEST_NO_VALGRIND};

    my $so = "$tmp/libgpselftestbug.so";
    system('gcc', '-g', '-O0', '-shared', '-fPIC', '-o', $so,
           "$fixtures/gp-selftest-bug.c") == 0
        or skip 'could not build the preload library', 6;

    # 1. plain nginx under valgrind: nothing of "ours" is reported
    my ($t1, $o1) = run_fixture('valgrind-leak.tt', TEST_NGINX_USE_VALGRIND => 1);
    expect_outcome($t1, 1, qr/TEST 1: .* - response_body - response is expected/,
                   'plain nginx under valgrind serves the request');
    expect_outcome($t1, 1, qr/TEST 1: .* - valgrind clean/,
                   'plain nginx under valgrind is clean')
        or diag($o1);

    # 2. with the misbehaving "ngx_gp_" library preloaded
    my ($t2, $o2, $e2) = run_fixture('valgrind-leak.tt', TEST_NGINX_USE_VALGRIND => 1,
                                     TEST_NGINX_LD_PRELOAD => $so);
    expect_outcome($t2, 1, qr/TEST 1: .* - response_body - response is expected/,
                   'preloaded nginx under valgrind serves the request');
    expect_outcome($t2, 0, qr/TEST 1: .* - valgrind clean/,
                   'valgrind report with an ngx_gp_ frame fails the block')
        or diag($o2);
    like($o2, qr/Invalid read of size 1.*ngx_gp_selftest_bug/s,
         'the invalid read is shown in the diagnostics');
    like($o2, qr/definitely lost.*ngx_gp_selftest_bug/s,
         'the definite leak is shown in the diagnostics');
}

done_testing();
