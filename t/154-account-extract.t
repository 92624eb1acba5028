# The account extractor of the console's add dialog (admin-ui/js/
# extract.js: the account JSON, a cookie header, the product URL) by
# node's test runner, t/node/extract.test.mjs.  Needs node >= 20 (no
# packages); without it the file is skipped, unless CI=true: then it
# fails.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use GeminiPool ':plain';

my $CI = ($ENV{CI} // '') =~ /^(?:1|true|yes)$/i;

sub unavailable {
    my ($why) = @_;
    if ($CI) {
        fail("$why (required when CI=true)");
        done_testing;
        exit 1;
    }
    plan skip_all => $why;
}

my ($node) = grep { -x } ($ENV{TEST_NODE} // ()),
                          map { "$_/node" } split(/:/, $ENV{PATH} // ''),
                          '/usr/bin', '/usr/local/bin';
unavailable('node is not installed') unless $node;

my ($major) = (`"$node" --version 2>/dev/null` // '') =~ /^v(\d+)\./;
unavailable('node >= 20 is needed, found ' . ($major // 'none'))
    unless $major && $major >= 20;

my $test = "$GeminiPool::ROOT/t/node/extract.test.mjs";
my $out = `"$node" --test --test-reporter=tap "$test" 2>&1`;
my $status = $? >> 8;

is($status, 0, 'node --test t/node/extract.test.mjs') or diag $out;

my ($pass) = $out =~ /^# pass (\d+)$/m;
my ($fail) = $out =~ /^# fail (\d+)$/m;
cmp_ok($pass // 0, '>=', 12, 'the extractor\'s cases passed');
is($fail, 0, 'none failed');

# every case by name, so a failure shows which
for my $l ($out =~ /^((?:not )?ok \d+ - .*)$/mg) {
    ok($l =~ /^ok/, "extract: $l");
}

done_testing;
