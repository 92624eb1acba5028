# The official `openai` npm client (t/node) and generated media: the
# images API in the shapes the SDK expects, and chat media as content
# parts and as Markdown, plain and streamed.  Like t/060, skipped without
# node >= 20 and the SDK (unless CI=true).

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use GeminiPool ':plain';
use GeminiPool::Server;

use Digest::SHA qw(sha256_hex);
use HTTP::Tiny;
use JSON::PP;
use MIME::Base64 ();

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

my $node = $ENV{TEST_NODE}
           || (grep { -x } map { "$_/node" } split(/:/, $ENV{PATH} // ''),
               '/usr/bin', '/usr/local/bin')[0];
unavailable('node is not installed') unless $node;

my ($major) = (`"$node" --version 2>/dev/null` // '') =~ /^v(\d+)\./;
unavailable('node >= 20 is needed') unless $major && $major >= 20;
unavailable('the openai SDK is not installed in t/node (run t/060 first)')
    unless -f "$DIR/node_modules/openai/package.json";

mock_post('/__mock/reset');

my $srv = GeminiPool::Server->new(
    name   => '091-media',
    server => 'location /v1/ { gemini_pool_api; } '
              . 'location /image/ { gemini_pool_media; }',
)->start;

open my $fh, '-|', $node, "$DIR/openai-media.mjs", $srv->url('/v1')
    or die "$node: $!";
my $out = do { local $/; <$fh> } // '';
close $fh;

is($?, 0, 'the node script ran') or diag $out;

my ($line) = grep { /^\{/ } reverse split /\n/, $out;
my $r = eval { $JSON->decode($line // '') } // {};
is_deeply($r->{errors}, [], 'no step threw') or diag $out;

# the mock's generated files, by content
my %mock;
for my $s (@{ mock_get('/__mock/sessions') }) {
    $mock{$_->{sha256}} = 1 for grep { $_->{origin} eq 'AI_GENERATED' }
                                @{ $s->{files} };
}

my $http = HTTP::Tiny->new(timeout => 10);

sub served {
    my ($url) = @_;
    my $port = $srv->port;
    $url =~ s{^https?://[^/]+}{http://127.0.0.1:$port};
    my $res = $http->get($url);
    return $res->{success} && $mock{sha256_hex($res->{content})} ? 1 : 0;
}

my $g = $r->{generate_url} // {};
like($g->{created} // '', qr/^\d+$/, 'images.generate: created');
is($g->{n}, 1, 'images.generate: one image');
like($g->{url} // '', qr{^http://127\.0\.0\.1:\d+/image/[0-9a-f]{32}\.png$},
     'images.generate: a cached link');
ok(served($g->{url} // ''), 'which nginx serves: the mock\'s image');

my $b = $r->{generate_b64} // {};
is($b->{n}, 2, 'images.generate n=2, b64_json: two images');
is_deeply($b->{b64_prefix}, ['iVBORw0KGgoA', 'iVBORw0KGgoA'],
          'each a base64 PNG');

my $a = $r->{chat_array} // {};
is_deeply($a->{types}, ['text', 'image_url'],
          'chat with image_format array: text and image_url parts');
ok(served($a->{url} // ''), 'the part\'s link is served');

like($r->{chat_markdown}{content} // '',
     qr{\AHere you go\.\n\n!\[image\]\(http://127\.0\.0\.1:\d+/image/[0-9a-f]{32}\.png\)\z},
     'chat: Markdown image by default');
like($r->{stream_markdown}{content} // '',
     qr{\AHere you go\.\n\n!\[image\]\(http://127\.0\.0\.1:\d+/image/[0-9a-f]{32}\.png\)\z},
     'streamed chat: the same text from the deltas');

$srv->stop;

my @bad = grep { /\[(?:alert|crit|emerg)\]/ } split /^/, $srv->error_log_text;
ok(!@bad, 'no [alert]/[crit]/[emerg]') or diag @bad;

done_testing;
