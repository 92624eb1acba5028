# Generated media: files announced in the stream, inline media, videos,
# the delivery formats in both modes, the media cache served by nginx,
# the images API, eviction.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use GeminiPool;
use Digest::SHA qw(sha256_hex);
use HTTP::Tiny;
use JSON::PP;

no_long_string();
log_level('info');

our $J = JSON::PP->new->utf8->canonical;
our @SEEN;

# the links of a text, fetched from this nginx
sub links {
    my ($text) = @_;
    return $text =~ m{(https?://[^\s)"\]]+/(?:image|video)/[0-9a-f]+\.[a-z0-9]+)}g;
}

sub fetch {
    my ($url, %h) = @_;
    my $port = Test::Nginx::Socket::server_port();
    (my $local = $url) =~ s{^https?://[^/]+}{http://127.0.0.1:$port};
    return HTTP::Tiny->new(timeout => 10)->get($local, { headers => \%h });
}

# the AI-generated files the mock made: sha256 -> mime
sub mock_files {
    my %f;
    for my $s (@{ GeminiPool::mock_get('/__mock/sessions') }) {
        for my $file (@{ $s->{files} }) {
            $f{$file->{sha256}} = $file->{mimeType}
                if $file->{origin} eq 'AI_GENERATED';
        }
    }
    return \%f;
}

# one line per link: its type, and whether the bytes are the mock's own
# ("mock") or at least a PNG ("png")
sub check_links {
    my @urls = @_;
    my $files = mock_files();
    my $out = '';
    for my $u (@urls) {
        my $r = fetch($u);
        my $kind = $u =~ m{/video/} ? 'video' : 'image';
        if (!$r->{success}) {
            $out .= "$kind $r->{status}\n";
            next;
        }
        my $sha = sha256_hex($r->{content});
        my $what = $files->{$sha} ? 'mock'
                   : substr($r->{content}, 0, 8) eq "\x89PNG\r\n\x1a\n" ? 'png'
                   : 'other';
        $out .= "$kind $r->{status} $r->{headers}{'content-type'} $what\n";
    }
    return $out;
}

sub content_of {
    my ($body) = @_;
    my $d = eval { $J->decode($body) } or return "not JSON: $body";
    return $d->{choices}[0]{message}{content};
}

# the content of an SSE answer: texts joined, parts listed
sub sse_content {
    my ($body) = @_;
    my $text = '';
    for my $line (split /\n/, $body) {
        next unless $line =~ /^data: (\{.*\})$/;
        my $c = $J->decode($1)->{choices}[0]{delta}{content};
        next unless defined $c;
        if (ref $c eq 'ARRAY') {
            for my $p (@$c) {
                $text .= $p->{type} eq 'text' ? "[text:$p->{text}]"
                         : "[$p->{type}:$p->{image_url}{url}]";
            }
        } else {
            $text .= $c;
        }
    }
    utf8::encode($text);
    return $text;
}

run_tests();

__DATA__

=== TEST 1: one image: the answer text without artefacts, a Markdown image served by nginx
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- request
POST /v1/chat/completions
{"model":"gemini-image","messages":[{"role":"user","content":"draw a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    my $c = main::content_of($_[0]);
    my @l = main::links($c);
    (my $shape = $c) =~ s{http://localhost/image/[0-9a-f]{32}\.png}{URL}g;
    return "$shape\n" . main::check_links(@l);
}
--- response_body
Here you go.

![image](URL)
image 200 image/png mock
--- no_error_log
[error]
[warn]
