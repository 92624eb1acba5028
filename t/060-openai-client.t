# The official `openai` npm client (t/node) against nginx with the module
# and the upstream mock: plain and streamed chat completions, the model
# list, and the SDK's NotFoundError for an unknown model.
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

my $TAIL = "\n-- mock tail: \"quoted\" {brace} [bracket] ]} back\\slash "
           . "\x{e9} \x{4e2d}\x{6587} \x{1f680} \x{2713} end.";
my $prompt = "Hello from the openai SDK \x{2014} \"quoted\" \x{1f600}";
my $answer = "echo: $prompt$TAIL";

mock_post('/__mock/reset');

my $srv = GeminiPool::Server->new(
    name   => '060-node',
    server => 'location /v1/ { gemini_pool_api; }',
)->start;

my @cmd = ($node, "$DIR/openai-client.mjs", $srv->url('/v1'),
           encode_utf8($prompt));
open my $fh, '-|', @cmd or die "$node: $!";
my $out = do { local $/; <$fh> } // '';
close $fh;
my $status = $?;

is($status, 0, 'the node script ran') or diag $out;

my ($line) = grep { /^\{/ } reverse split /\n/, $out;
my $r = eval { $JSON->decode($line // '') };
ok($r, 'it printed its JSON result') or diag $out;
$r //= {};

diag "openai SDK $r->{sdk_version}, node $r->{node_version}"
    if $r->{sdk_version};
is_deeply($r->{errors}, [], 'no step threw unexpectedly');

# chat.completions.create
my $ns = $r->{nonstream} // {};
is($ns->{object}, 'chat.completion', 'non-stream: object');
like($ns->{id} // '', qr/^chatcmpl-/, 'non-stream: id');
is($ns->{model}, 'gemini-2.5-flash', 'non-stream: model');
is($ns->{role}, 'assistant', 'non-stream: role');
is($ns->{content}, $answer, 'non-stream: the echo answer');
is($ns->{finish_reason}, 'stop', 'non-stream: finish_reason');
ok(($ns->{usage}{total_tokens} // 0) > 0, 'non-stream: usage');

# stream: true, iterating chunks
my $st = $r->{stream} // {};
is($st->{content}, $answer, 'stream: the deltas add up to the echo answer');
ok($st->{role_first}, 'stream: the role comes in the first chunk');
is_deeply($st->{roles}, ['assistant'], 'stream: the role comes once');
is(scalar @{ $st->{ids} // [] }, 1, 'stream: one id for all chunks');
is_deeply($st->{objects}, ['chat.completion.chunk'], 'stream: chunk objects');
cmp_ok($st->{chunks} // 0, '>=', 3, 'stream: several chunks');
is($st->{finish_reason}, 'stop', 'stream: finish_reason');

# the SDK's stream helper (its own accumulator)
is($r->{stream_helper}{content}, $answer, 'stream helper: final content');
is($r->{stream_helper}{finish_reason}, 'stop',
   'stream helper: finish_reason');

# models.list
my @ids = @{ $r->{models}{ids} // [] };
ok((grep { $_ eq 'gemini-auto' } @ids), 'models.list lists gemini-auto')
    or diag "ids: @ids";
ok((grep { $_ eq 'gemini-2.5-flash' } @ids), 'and gemini-2.5-flash');

# an unknown model
my $nf = $r->{not_found} // {};
ok($nf->{thrown}, 'an unknown model throws');
ok($nf->{is_not_found}, 'the SDK raises NotFoundError')
    or diag "got $nf->{name}";
is($nf->{status}, 404, 'status 404');
is($nf->{code}, 'model_not_found', 'code model_not_found');
is($nf->{type}, 'invalid_request_error', 'type invalid_request_error');
is($nf->{param}, 'model', 'param model');

# an answer cut after it started: the text so far, then an error the
# client catches (the SDK raises APIError on the "error" event); never a
# finish_reason "stop"
for my $name (qw(cut_error cut_truncate)) {
    my $c = $r->{$name} // {};
    like($c->{content} // '', qr/^echo: cut/, "$name: the partial text came");
    ok(length($c->{content} // '') < length("echo: cut MOCK:x$TAIL"),
       "$name: and only part of it");
    ok($c->{thrown}, "$name: then the SDK throws");
    ok($c->{is_api_error}, "$name: an APIError") or diag "got $c->{name}";
    is($c->{finish_reason}, undef, "$name: no chunk carried a finish_reason");
    like($c->{message} // '', qr/\S/, "$name: with the upstream's message");
}
like($r->{cut_error}{message} // '', qr/429/, 'cut_error: the 429 in it');
like($r->{cut_truncate}{code} // '', qr/^upstream_/,
     'cut_truncate: code upstream_*');

ok($r->{cut_helper}{thrown}, 'stream helper: a cut answer rejects');
ok($r->{cut_helper}{is_api_error}, 'stream helper: with the APIError')
    or diag "got $r->{cut_helper}{name}: $r->{cut_helper}{message}";

# what reached the upstream: the three answered calls, not the 404, and
# the three cut ones
my @q = map { $_->{query_text} } @{ mock_requests('streamAssist') };
is(scalar @q, 6, 'six streamAssist calls upstream (none for the 404)');
is_deeply([grep { $_ ne $prompt && !/^cut MOCK:/ } @q], [],
          'each with the prompt');
is(scalar(grep { $_ eq $prompt } @q), 3, 'three with the prompt');

$srv->stop;

my @bad = grep { /\[(?:alert|crit|emerg)\]/ } split /^/, $srv->error_log_text;
ok(!@bad, 'no [alert]/[crit]/[emerg]') or diag @bad;

done_testing;
