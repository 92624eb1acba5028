# The console's own Markdown renderer (admin-ui/js/markdown.js: the chat
# page's answers, the history's) by node's test runner,
# t/node/markdown.test.mjs: text becomes DOM nodes only through dom.js,
# hostile HTML stays text, links and images only to http, https or
# relative URLs, code blocks with a Copy button, generated images and
# videos inline.  Needs node >= 20 (no packages); without it the file is
# skipped, unless CI=true: then it fails.

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

my $test = "$GeminiPool::ROOT/t/node/markdown.test.mjs";
my $out = `"$node" --test --test-reporter=tap "$test" 2>&1`;
my $status = $? >> 8;

is($status, 0, 'node --test t/node/markdown.test.mjs') or diag $out;

my ($pass) = $out =~ /^# pass (\d+)$/m;
my ($fail) = $out =~ /^# fail (\d+)$/m;
cmp_ok($pass // 0, '>=', 9, 'the renderer\'s cases passed');
is($fail, 0, 'none failed');

for my $l ($out =~ /^((?:not )?ok \d+ - .*)$/mg) {
    ok($l =~ /^ok/, "markdown: $l");
}

done_testing;
