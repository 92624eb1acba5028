# Tool calls through the official `openai` npm client (t/node/openai-tools.mjs)
# against nginx with the module and the upstream mock (which answers with
# calls in the gateway's convention): a tool round trip streamed and not,
# the SDK's stream accumulator and its runTools loop, and the measurement
# of docs/tools.md: a fixed set of 20 tool-use prompts, every call parsed.
#
# Needs node >= 20 and, the first time, npm (npm ci in t/node, from
# package-lock.json).  Without them the test is skipped, unless CI=true:
# then it fails.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use GeminiPool ':plain';
use GeminiPool::Server;

use Encode qw(encode_utf8);
use JSON::PP;

my $JSON = JSON::PP->new->utf8->canonical;
my $DIR = "$GeminiPool::ROOT/t/node";
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

sub find_prog {
    my ($name) = @_;
    for my $d (split(/:/, $ENV{PATH} // ''), '/usr/bin', '/usr/local/bin') {
        return "$d/$name" if length $d && -x "$d/$name";
    }
    return undef;
}

my $node = $ENV{TEST_NODE} || find_prog('node');
unavailable('node is not installed') unless $node;

my ($major) = (`"$node" --version 2>/dev/null` // '') =~ /^v(\d+)\./;
unavailable("node >= 20 is needed (the openai SDK), found "
            . ($major // 'none')) unless $major && $major >= 20;

unless (-f "$DIR/node_modules/openai/package.json") {
    my $npm = find_prog('npm');
    unavailable('npm is not installed (to fetch the openai SDK)') unless $npm;

    diag "installing t/node dependencies: npm ci";
    my $log = `cd "$DIR" && "$npm" ci --no-audit --no-fund 2>&1`;
    unavailable("npm ci failed in t/node:\n$log")
        if $? != 0 || !-f "$DIR/node_modules/openai/package.json";
}

# ----------------------------------------------------------------------

mock_post('/__mock/reset');

my $srv = GeminiPool::Server->new(
    name   => '126-tools',
    server => 'location /v1/ { gemini_pool_api; }',
)->start;

open my $fh, '-|', $node, "$DIR/openai-tools.mjs", $srv->url('/v1')
    or die "$node: $!";
my $out = do { local $/; <$fh> } // '';
close $fh;

is($?, 0, 'the node script ran') or diag $out;

my ($line) = grep { /^\{/ } reverse split /\n/, $out;
my $r = eval { $JSON->decode($line // '') };
ok($r, 'it printed its JSON result') or diag $out;
$r //= {};

diag "openai SDK $r->{sdk_version}" if $r->{sdk_version};
is_deeply($r->{errors}, [], 'no step threw');

# a round trip, not streamed
my $rt = $r->{round_trip} // {};
is($rt->{finish_reason}, 'tool_calls', 'round trip: finish_reason tool_calls');
is(scalar @{ $rt->{calls} // [] }, 1, 'round trip: one call');
is($rt->{calls}[0]{name}, 'get_weather', 'round trip: the function');
is($rt->{calls}[0]{type}, 'function', 'round trip: its type');
is($rt->{calls}[0]{arguments}, '{"city":"Paris"}', 'round trip: its arguments');
like($rt->{calls}[0]{id} // '', qr/^call_[0-9a-f]{24}0$/, 'round trip: its id');
is($rt->{content}, 'I will call get_weather.', 'round trip: the text beside');
is($rt->{answer}, 'Results: 18 C in Paris.',
   'round trip: the result reached the model, the answer is text');
is($rt->{answer_finish}, 'stop', 'round trip: then finish_reason stop');

# the same, streamed
my $rs = $r->{round_trip_stream} // {};
is($rs->{finish_reason}, 'tool_calls', 'streamed: finish_reason tool_calls');
is(scalar @{ $rs->{calls} // [] }, 1, 'streamed: one call');
is($rs->{calls}[0]{name}, 'get_weather', 'streamed: the function');
is($rs->{calls}[0]{arguments}, '{"city":"Paris"}', 'streamed: its arguments');
like($rs->{content} // '', qr/^I will call get_weather\.\s*$/,
     'streamed: the text before the call, no call text');
is($rs->{answer}, 'Results: 18 C in Paris.', 'streamed: the answer');
is($rs->{answer_finish}, 'stop', 'streamed: then finish_reason stop');

# the SDK's accumulator of streamed calls
my $sh = $r->{stream_helper} // {};
is($sh->{finish_reason}, 'tool_calls', 'stream helper: finish_reason');
is_deeply([map { "$_->{name} $_->{arguments}" } @{ $sh->{calls} // [] }],
          ['search {"q":"nginx"}', 'get_time {"tz":"UTC"}'],
          'stream helper: two parallel calls, in order');

# the SDK's runTools loop
is_deeply($r->{run_tools}{ran}, [{ city => 'Kyoto' }],
          'runTools: the SDK ran the function with the parsed arguments');
is($r->{run_tools}{final}, 'Results: 18 C in Kyoto.',
   'runTools: and got the final answer');

# the measurement
my $m = $r->{measure} // {};
diag sprintf("tool-use prompts: %d, calls expected: %d, parsed: %d "
             . "(not streamed), %d (streamed)", $m->{prompts} // 0,
             $m->{expected} // 0, $m->{parsed} // 0,
             $m->{parsed_stream} // 0);
is($m->{prompts}, 20, 'measure: 20 prompts');
ok(($m->{expected} // 0) >= 20, 'measure: at least one call each');
is($m->{parsed}, $m->{expected}, 'measure: every call parsed, not streamed')
    or diag explain $m->{misses};
is($m->{parsed_stream}, $m->{expected}, 'measure: every call parsed, streamed')
    or diag explain $m->{misses};

# what reached the upstream: each round trip's second turn continued the
# session of its first (the conversation key covers the calls), with the
# tool result as the turn's input
my @q = @{ mock_requests('streamAssist') };
my ($rt2) = grep { ($_->{query_text} // '') =~ /18 C in Paris\n/ } @q;
ok($rt2, 'round trip: the result went upstream');
like($rt2->{query_text} // '', qr/\[User Message\]\n<tool_result id="call_[0-9a-f]{24}0" name="get_weather">\n18 C in Paris\n<\/tool_result>\z/,
     'round trip: as a tool_result block, in the bound session (no replay)');
my ($rt1) = grep { ($_->{query_text} // '') =~ /\[User Message\]\nWhat is the weather in Paris\? get_weather city=Paris\z/ } @q;
is($rt2->{session}, $rt1 && $rt1->{session}, 'round trip: the same upstream session');
my @st = grep { ($_->{query_text} // '') =~ /\[User Message\]\n<tool_result[^\n]*>\n18 C in Paris\n<\/tool_result>\z/ } @q;
is(scalar @st, 2, 'streamed round trip: also continued without replay');

$srv->stop;

my @bad = grep { /\[(?:alert|crit|emerg)\]/ } split /^/, $srv->error_log_text;
ok(!@bad, 'no [alert]/[crit]/[emerg]') or diag @bad;

done_testing;
