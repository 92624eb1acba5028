# The official SDKs of the two client surfaces (t/node) against nginx with
# the module and the upstream mock: @anthropic-ai/sdk on /v1/messages and
# @google/genai on /v1beta (text, streamed and not, an image, a tool round
# trip, the errors, the cut stream), with API keys on, so each SDK's own
# header (x-api-key, x-goog-api-key) carries the key; then the turns'
# accounting: the call log per key, the key's request count, the
# variables in the access log, the metrics.
#
# Needs node >= 20 and the t/node modules (npm ci in t/node).  Without
# them the test is skipped, unless CI=true: then it fails.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use GeminiPool ':plain';
use GeminiPool::Server;

use Digest::SHA ();
use Encode qw(encode_utf8);
use HTTP::Tiny;
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
unavailable("node >= 20 is needed (the SDKs), found " . ($major // 'none'))
    unless $major && $major >= 20;

unless (-f "$DIR/node_modules/\@anthropic-ai/sdk/package.json"
        && -f "$DIR/node_modules/\@google/genai/package.json")
{
    my $npm = find_prog('npm');
    unavailable('npm is not installed (to fetch the SDKs)') unless $npm;

    diag "installing t/node dependencies: npm ci";
    my $log = `cd "$DIR" && "$npm" ci --no-audit --no-fund 2>&1`;
    unavailable("npm ci failed in t/node:\n$log") if $? != 0;
}

# ----------------------------------------------------------------------

my $TAIL = "\n-- mock tail: \"quoted\" {brace} [bracket] ]} back\\slash "
           . "\x{e9} \x{4e2d}\x{6587} \x{1f680} \x{2713} end.";
my $prompt = "Hello from an SDK \x{2014} \"quoted\" \x{1f600}";
my $PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhf'
          . 'DwAChwGA60e6kgAAAABJRU5ErkJggg==';

mock_post('/__mock/reset');
sql("DELETE FROM api_keys; DELETE FROM call_logs; "
    . "INSERT INTO api_keys (name, key_hash) VALUES ('ant', '"
    . Digest::SHA::sha256_hex('sk-ant-sdk') . "'), ('goog', '"
    . Digest::SHA::sha256_hex('sk-goog-sdk') . "')");
my %KEY = map { split /\|/ } split /\n/,
          sql("SELECT name || '|' || id FROM api_keys");

my $srv = GeminiPool::Server->new(
    name   => '137-sdk',
    http   => "log_format surfaces '\$request_method \$uri \$status "
              . "model=\$gemini_pool_model key=\$gemini_pool_api_key "
              . "account=\$gemini_pool_account';",
    server => 'access_log logs/surfaces.log surfaces; '
              . 'location /v1/ { gemini_pool_api_keys on; gemini_pool_api; } '
              . 'location /v1beta/ { gemini_pool_api_keys on; '
              . 'gemini_pool_api; } '
              . 'location = /metrics { gemini_pool_metrics; }',
)->start;

sub run_node {
    my ($script, $url, $key) = @_;
    local $ENV{GEMINI_POOL_API_KEY} = $key;
    open my $fh, '-|', $node, "$DIR/$script", $url, encode_utf8($prompt),
        $PNG or die "$node: $!";
    my $out = do { local $/; <$fh> } // '';
    close $fh;
    is($?, 0, "$script ran") or diag $out;
    my ($line) = grep { /^\{/ } reverse split /\n/, $out;
    my $r = eval { $JSON->decode($line // '') };
    ok($r, "$script printed its JSON result") or diag $out;
    $r //= {};
    diag "$script: SDK $r->{sdk_version}, node $r->{node_version}"
        if $r->{sdk_version};
    is_deeply($r->{errors}, [], "$script: no step threw unexpectedly");
    return $r;
}

my $base = $srv->url('');
$base =~ s{/$}{};

# ---------------------------------------------------------------- Anthropic

my $a = run_node('anthropic-client.mjs', $base, 'sk-ant-sdk');

my $ns = $a->{nonstream} // {};
like($ns->{id} // '', qr/^msg_[0-9a-f]{24}$/, 'messages.create: id');
is($ns->{type}, 'message', 'messages.create: type');
is($ns->{role}, 'assistant', 'messages.create: role');
is($ns->{model}, 'gemini-2.5-flash', 'messages.create: model');
is_deeply($ns->{blocks}, ['text'], 'messages.create: one text block');
is($ns->{text}, "echo: [System Instruction]\nbe brief\n\n[User Message]\n"
                . "$prompt$TAIL", 'messages.create: the system and the echo');
is($ns->{stop_reason}, 'end_turn', 'messages.create: stop_reason');
ok(($ns->{usage}{input_tokens} // 0) > 0
   && ($ns->{usage}{output_tokens} // 0) > 0, 'messages.create: usage');

my $st = $a->{stream} // {};
is_deeply($st->{events}, [qw(message_start content_block_start
                             content_block_delta content_block_stop
                             message_delta message_stop)],
          'stream: the event sequence the SDK parsed');
is($st->{text}, "echo: $prompt$TAIL", 'stream: the text deltas add up');
is($st->{stop_reason}, 'end_turn', 'stream: stop_reason in message_delta');
ok(($st->{usage}{output_tokens} // 0) > 0, 'stream: usage in message_delta');

my $sh = $a->{stream_helper} // {};
is($sh->{text}, "echo: $prompt$TAIL", 'messages.stream: finalMessage text');
is($sh->{on_text}, $sh->{text}, 'messages.stream: the text events');
is($sh->{stop_reason}, 'end_turn', 'messages.stream: stop_reason');

like($a->{image}{text} // '', qr/^echo: what is it \[attached: image\/png 70 bytes sha256:497790947d46\]/,
     'an image block reached the turn');

my $t = $a->{tools} // {};
is($t->{stop_reason}, 'tool_use', 'tools: stop_reason tool_use');
is_deeply($t->{blocks}, ['text', 'tool_use'], 'tools: the prose, then tool_use');
is($t->{name}, 'get_weather', 'tools: the function');
is_deeply($t->{input}, {city => 'Paris'}, 'tools: its input');
like($t->{id} // '', qr/^call_[0-9a-f]{25}$/, 'tools: its id');
is($t->{answer}, 'Results: 18 C and sunny.', 'tools: the tool_result came back');
is($t->{answer_stop}, 'end_turn', 'tools: the answer ends the turn');

my $ts = $a->{tools_stream} // {};
is($ts->{stop_reason}, 'tool_use', 'tools streamed: stop_reason tool_use');
is_deeply($ts->{input}, {city => 'Oslo'}, 'tools streamed: the input');
is($ts->{json}, '{"city":"Oslo"}', 'tools streamed: input_json_delta');

is($a->{count}{input_tokens}, $ns->{usage}{input_tokens},
   'countTokens: the estimate of the turn\'s usage');

my $nf = $a->{not_found} // {};
ok($nf->{thrown} && $nf->{is_api_error}, 'an unknown model: APIError');
is($nf->{name}, 'NotFoundError', 'NotFoundError');
is($nf->{type}, 'not_found_error', 'type not_found_error');

my $cut = $a->{cut} // {};
like($cut->{text} // '', qr/^echo: cut/, 'cut: the partial text came');
ok(length($cut->{text} // '') < length("echo: cut MOCK:stream_error$TAIL"),
   'cut: only part of it');
ok($cut->{thrown} && $cut->{is_api_error}, 'cut: then an APIError')
    or diag explain $cut;
like($cut->{message} // '', qr/429.*rate_limit_error/, 'cut: its message');
ok(!grep({ $_ eq 'message_stop' || $_ eq 'message_delta' }
         @{ $cut->{events} // [] }), 'cut: no message_delta or message_stop');

ok((grep { $_ eq 'gemini-2.5-flash' } @{ $a->{models}{ids} // [] }),
   'models.list (the OpenAI list) gives the ids');

# ------------------------------------------------------------------ Gemini

my $g = run_node('genai-client.mjs', $base, 'sk-goog-sdk');

$ns = $g->{nonstream} // {};
is($ns->{text}, "echo: [System Instruction]\nbe brief\n\n[User Message]\n"
                . "$prompt$TAIL", 'generateContent: systemInstruction and echo');
is($ns->{finish_reason}, 'STOP', 'generateContent: finishReason');
is($ns->{role}, 'model', 'generateContent: role');
is($ns->{model_version}, 'gemini-2.5-flash', 'generateContent: modelVersion');
ok(($ns->{usage}{promptTokenCount} // 0) > 0
   && ($ns->{usage}{totalTokenCount} // 0)
      == $ns->{usage}{promptTokenCount} + $ns->{usage}{candidatesTokenCount},
   'generateContent: usageMetadata');

$st = $g->{stream} // {};
is($st->{text}, "echo: $prompt$TAIL", 'generateContentStream: the text');
cmp_ok($st->{chunks} // 0, '>=', 2, 'generateContentStream: several chunks');
is($st->{finish_reason}, 'STOP', 'generateContentStream: finishReason');
ok(($st->{usage}{candidatesTokenCount} // 0) > 0,
   'generateContentStream: usageMetadata');

like($g->{image}{text} // '', qr/^echo: what is it \[attached: image\/png 70 bytes sha256:497790947d46\]/,
     'an inlineData image reached the turn');

$t = $g->{tools} // {};
is($t->{ncalls}, 1, 'tools: one functionCall');
is($t->{name}, 'get_weather', 'tools: the function');
is_deeply($t->{args}, {city => 'Paris'}, 'tools: its args');
is($t->{finish_reason}, 'STOP', 'tools: finishReason STOP');
is($t->{answer}, 'Results: {"result":"18 C and sunny"}.',
   'tools: the functionResponse came back');
is_deeply($g->{tools_stream}{calls}, [{name => 'get_weather',
                                        args => {city => 'Oslo'}}],
          'tools streamed: the functionCall');

is($g->{count}{total}, $g->{stream}{usage}{promptTokenCount},
   'countTokens: the estimate of the turn\'s usage');

is_deeply([grep { $_ eq 'models/gemini-2.5-flash' }
           @{ $g->{models}{names} // [] }], ['models/gemini-2.5-flash'],
          'models.list');

$nf = $g->{not_found} // {};
ok($nf->{thrown} && $nf->{is_api_error}, 'an unknown model: ApiError');
is($nf->{status}, 404, 'status 404');

$cut = $g->{cut} // {};
like($cut->{text} // '', qr/^echo: cut/, 'cut: the partial text came');
ok($cut->{thrown} && $cut->{is_api_error}, 'cut: then an ApiError')
    or diag explain $cut;
is($cut->{status}, 429, 'cut: status 429');
is($cut->{finish_reason}, undef, 'cut: no finishReason');

# -------------------------------------------------------------- accounting

# the call log: every turn under its key, with its tokens
ok(wait_for(10, sub {
       sql("SELECT count(*) FROM call_logs WHERE key_id IN "
           . "($KEY{ant}, $KEY{goog})") >= 15 }),
   'the turns reached the call log');

for my $k (qw(ant goog)) {
    my $n = $k eq 'ant' ? 8 : 7;
    is(sql("SELECT count(*) FROM call_logs WHERE key_id = $KEY{$k} "
           . "AND status = 200 AND prompt_tokens > 0 "
           . "AND model = 'gemini-2.5-flash' AND account LIKE 'acc%'"),
       $n, "call log: $n answered turns of key $k, with tokens");
    is(sql("SELECT count(*) FROM call_logs WHERE key_id = $KEY{$k} "
           . "AND status = 200 AND error LIKE '%429%'"), 1,
       "call log: the cut turn of key $k with its error");
}

# the unknown model is refused before the key is looked at
is(sql("SELECT count(*) FROM call_logs WHERE status = 404 "
       . "AND model = ''"), 2, 'call log: the two 404s');

is(sql("SELECT count(*) FROM call_logs WHERE key_id = $KEY{ant} "
       . "AND prompt_tokens = $a->{nonstream}{usage}{input_tokens} "
       . "AND completion_tokens = $a->{nonstream}{usage}{output_tokens}"), 1,
   'call log: the usage the Anthropic answer reported');
is(sql("SELECT count(*) FROM call_logs WHERE key_id = $KEY{goog} "
       . "AND prompt_tokens = $g->{nonstream}{usage}{promptTokenCount} "
       . "AND completion_tokens = "
       . "$g->{nonstream}{usage}{candidatesTokenCount}"), 1,
   'call log: the usage the Gemini answer reported');

# the variables, for log_format
my $log = do {
    open my $fh, '<', "$srv->{root}/logs/surfaces.log" or die $!;
    local $/;
    <$fh>;
};
like($log, qr{^POST /v1/messages 200 model=gemini-2\.5-flash key=ant account=acc\d$}m,
     'access log: a /v1/messages turn with its model, key and account');
like($log, qr{^POST /v1beta/models/gemini-2\.5-flash:generateContent 200 model=gemini-2\.5-flash key=goog account=acc\d$}m,
     'access log: a generateContent turn');
like($log, qr{^POST /v1beta/models/gemini-2\.5-flash:streamGenerateContent 200 model=gemini-2\.5-flash key=goog account=acc\d$}m,
     'access log: a streamGenerateContent turn');

# the metrics count the turns and their tokens
my $m = HTTP::Tiny->new->get($srv->url('/metrics'))->{content} // '';
my ($ok) = $m =~ /^gemini_pool_requests_total\{status="2xx"\} (\d+)$/m;
cmp_ok($ok // 0, '>=', 15, 'metrics: the answered turns');
my ($pt) = $m =~ /^gemini_pool_tokens_total\{type="prompt"\} (\d+)$/m;
cmp_ok($pt // 0, '>', 0, 'metrics: the prompt tokens');

$srv->stop;

my @bad = grep { /\[(?:alert|crit|emerg)\]/ } split /^/, $srv->error_log_text;
ok(!@bad, 'no [alert]/[crit]/[emerg]') or diag @bad;

done_testing;
