# Generated media: files announced in the stream, inline media, videos,
# the delivery formats in both modes, the media cache served by nginx,
# the images API, eviction.

use lib 't/lib';
BEGIN { $ENV{ADMIN_SECRET_KEY} = 'media-admin-secret-0123456789' }
use Test::Nginx::Socket 'no_plan';
use GeminiPool;
use Digest::SHA qw(sha256_hex);
use HTTP::Tiny;
use JSON::PP;
use MIME::Base64 ();

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



=== TEST 2: two images in one turn: both arrive
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- request
POST /v1/chat/completions
{"model":"gemini-image","messages":[{"role":"user","content":"two cats MOCK:images=2"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    my $c = main::content_of($_[0]);
    my @l = main::links($c);
    (my $shape = $c) =~ s{http://localhost/image/[0-9a-f]{32}\.png}{URL}g;
    return "$shape\n" . main::check_links(@l)
           . ($l[0] ne $l[1] ? "distinct\n" : "same\n");
}
--- response_body
Here you go.

![image](URL)

![image](URL)
image 200 image/png mock
image 200 image/png mock
distinct
--- no_error_log
[error]
[warn]


=== TEST 3: a 404 on one of two downloads: the other image arrives, the failure is told in the text
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- gp_setup
mock_post('/__mock/inject', { endpoint => 'download', skip => 1,
    action => { status => 404, body => { error => { code => 404,
        message => 'File not found', status => 'NOT_FOUND' } } } });
--- request
POST /v1/chat/completions
{"model":"gemini-image","messages":[{"role":"user","content":"two cats MOCK:images=2"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    my $c = main::content_of($_[0]);
    my @l = main::links($c);
    (my $shape = $c) =~ s{http://localhost/image/[0-9a-f]{32}\.png}{URL}g;
    $shape =~ s/image [12] could/image N could/;
    my @parts = split /\n\n/, $shape;
    return CORE::join("\n", sort @parts) . "\n" . main::check_links(@l);
}
--- response_body
![image](URL)
(image N could not be retrieved: downloadFile answered 404: File not found)
Here you go.
image 200 image/png mock
--- error_log eval
qr/gemini pool: image [12] of the turn not delivered: downloadFile answered 404: File not found/
--- no_error_log
[error]


=== TEST 4: downloads that answer base64 text or redirect are decoded and followed
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- gp_setup
mock_post('/__mock/inject', [
    { endpoint => 'download', action => { base64_body => JSON::PP::true } },
    { endpoint => 'download', action => { redirect => JSON::PP::true } },
]);
--- request
POST /v1/chat/completions
{"model":"gemini-image","messages":[{"role":"user","content":"two cats MOCK:images=2"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    my $c = main::content_of($_[0]);
    my $blobs = grep { $_->{endpoint} eq 'blob' }
                @{ GeminiPool::mock_requests() };
    return main::check_links(main::links($c)) . "redirects followed: $blobs\n";
}
--- response_body
image 200 image/png mock
image 200 image/png mock
redirects followed: 1
--- no_error_log
[error]
[warn]


=== TEST 5: widgetListSessionFileMetadata failing: the stream's session is used
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- gp_setup
mock_post('/__mock/inject', { endpoint => 'listFiles',
    action => { status => 500, body => { error => { code => 500,
        message => 'boom', status => 'INTERNAL' } } } });
--- request
POST /v1/chat/completions
{"model":"gemini-image","messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub { main::check_links(main::links(main::content_of($_[0]))) }
--- response_body
image 200 image/png mock
--- error_log
widgetListSessionFileMetadata failed (upstream error, status 500): downloading from the stream's session
--- no_error_log
[error]


=== TEST 6: the session path of the file metadata is the one downloaded from
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- gp_setup
mock_post('/__mock/inject', { endpoint => 'listFiles',
    action => { project_session_path => JSON::PP::true } });
--- request
POST /v1/chat/completions
{"model":"gemini-image","messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    my $out = main::check_links(main::links(main::content_of($_[0])));
    for my $r (@{ GeminiPool::mock_requests('download') }) {
        (my $s = $r->{session}) =~ s/\d+$/N/;
        $out .= "$r->{status} $s\n";
    }
    return $out;
}
--- response_body
image 200 image/png mock
200 projects/123456789012/locations/global/collections/default_collection/engines/agentspace-engine/sessions/N
--- no_error_log
[error]
[warn]


=== TEST 7: inline media: generatedImages and content.inlineData are saved and linked
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- request
POST /v1/chat/completions
{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi MOCK:generated_images MOCK:inline_image"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    my $c = main::content_of($_[0]);
    my @l = main::links($c);
    my $downloads = @{ GeminiPool::mock_requests('download') };
    return ($c =~ /^echo: hi MOCK:generated_images MOCK:inline_image\n-- mock tail: .* end\.\n\n!\[image\]\(http:\S+\)\n\n!\[image\]\(http:\S+\)\z/s
            ? "shape ok\n" : "shape: $c\n")
           . main::check_links(@l) . "downloads: $downloads\n";
}
--- response_body
shape ok
image 200 image/png png
image 200 image/png png
downloads: 0
--- no_error_log
[error]
[warn]


=== TEST 8: attachments in content, reply and groundedContent are saved
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- request eval
[
"POST /v1/chat/completions
{\"model\":\"gemini-2.5-flash\",\"messages\":[{\"role\":\"user\",\"content\":\"a MOCK:attachment\"}]}",
"POST /v1/chat/completions
{\"model\":\"gemini-2.5-flash\",\"messages\":[{\"role\":\"user\",\"content\":\"b MOCK:attachment=reply\"}]}",
"POST /v1/chat/completions
{\"model\":\"gemini-2.5-flash\",\"messages\":[{\"role\":\"user\",\"content\":\"c MOCK:attachment=grounded\"}]}",
]
--- error_code eval
[200, 200, 200]
--- response_body_filters eval
sub { main::check_links(main::links(main::content_of($_[0]))) }
--- response_body eval
["image 200 image/png png\n", "image 200 image/png png\n",
 "image 200 image/png png\n"]
--- no_error_log
[error]
[warn]


=== TEST 9: gemini-video: a cached mp4 link; nginx serves it with ranges
--- config
    location /v1/ { gemini_pool_api; }
    location /video/ { gemini_pool_media; }
--- request
POST /v1/chat/completions
{"model":"gemini-video","messages":[{"role":"user","content":"a cat video"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    my $c = main::content_of($_[0]);
    my @l = main::links($c);
    (my $shape = $c) =~ s{http://localhost/video/[0-9a-f]{32}\.mp4}{URL}g;
    my $r = main::fetch($l[0], Range => 'bytes=100-199');
    my $full = main::fetch($l[0]);
    return "$shape\n" . main::check_links(@l)
           . "$r->{status} $r->{headers}{'content-type'} "
           . length($r->{content}) . " $r->{headers}{'content-range'} "
           . (substr($full->{content}, 100, 100) eq $r->{content}
              ? "same bytes" : "other bytes") . "\n";
}
--- response_body
Here you go.
Video generated by Veo.

[video](URL)
video 200 video/mp4 mock
206 video/mp4 100 bytes 100-199/307200 same bytes
--- no_error_log
[error]
[warn]


=== TEST 10: image_format "url": the links on their own lines
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"model":"gemini-image","image_format":"url","messages":[{"role":"user","content":"two MOCK:images=2"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    (my $c = main::content_of($_[0])) =~ s{http://localhost/image/[0-9a-f]{32}\.png}{URL}g;
    return $c;
}
--- response_body chomp
Here you go.
URL
URL


=== TEST 11: image_format "array": content parts, text first
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- request
POST /v1/chat/completions
{"model":"gemini-image","image_format":"array","messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    (my $b = $_[0]) =~ s{http://localhost/image/[0-9a-f]{32}\.png}{URL}g;
    $b =~ s/"id":"[^"]+"/"id":"ID"/;
    $b =~ s/"created":\d+/"created":T/;
    $b =~ s/"usage":\{.*\}\}$/"usage":U}/;
    return $b;
}
--- response_body chomp
{"id":"ID","object":"chat.completion","created":T,"model":"gemini-image","choices":[{"index":0,"message":{"role":"assistant","content":[{"type":"text","text":"Here you go.\n"},{"type":"image_url","image_url":{"url":"URL"}}]},"finish_reason":"stop"}],"usage":U}


=== TEST 12: image_format "b64_json": the image inline as a data: URL
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"model":"gemini-image","image_format":"b64_json","messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    my $d = $main::J->decode($_[0]);
    my $parts = $d->{choices}[0]{message}{content};
    my $url = $parts->[1]{image_url}{url};
    $url =~ s/^data:image\/png;base64,// or return "not a data URL: $url";
    my $sha = Digest::SHA::sha256_hex(MIME::Base64::decode_base64($url));
    return "$parts->[0]{text}|" . (main::mock_files()->{$sha} ? "mock" : "other");
}
--- response_body chomp
Here you go.
|mock


=== TEST 13: a bad image_format is a 400
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"model":"gemini-image","image_format":"gif","messages":[{"role":"user","content":"a cat"}]}
--- error_code: 400
--- response_body_like chomp
"param":"image_format","code":"invalid_value"


=== TEST 14: the API key's image_format, and the request's above it
--- config
    location /v1/ { gemini_pool_api_keys on; gemini_pool_api; }
--- gp_setup
sql("DELETE FROM api_keys; INSERT INTO api_keys (name, key_hash, image_format) "
    . "VALUES ('k', '" . Digest::SHA::sha256_hex('sk-media-test') . "', 'url')");
--- request eval
[
"POST /v1/chat/completions
{\"model\":\"gemini-image\",\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}",
"POST /v1/chat/completions
{\"model\":\"gemini-image\",\"image_format\":\"markdown\",\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}",
]
--- more_headers
Authorization: Bearer sk-media-test
--- error_code eval
[200, 200]
--- response_body_filters eval
sub {
    (my $c = main::content_of($_[0])) =~ s{http://localhost/image/[0-9a-f]{32}\.png}{URL}g;
    return $c;
}
--- response_body eval
["Here you go.\nURL", "Here you go.\n\n![image](URL)"]


=== TEST 15: the image_format setting, and image_base_url for the links
--- config
    location /v1/ { gemini_pool_api; }
--- gp_setup
GeminiPool::setting('image_format', 'string', 'url');
GeminiPool::setting('image_base_url', 'string', 'https://cdn.example.com/media');
--- request
POST /v1/chat/completions
{"model":"gemini-image","messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    (my $c = main::content_of($_[0])) =~ s{/[0-9a-f]{32}\.png}{/NAME.png}g;
    return $c;
}
--- response_body chomp
Here you go.
https://cdn.example.com/media/image/NAME.png


=== TEST 16: X-Forwarded-Host and -Proto from a trusted proxy make the links
--- http_config
    gemini_pool_trusted_proxy 127.0.0.0/8;
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"model":"gemini-image","image_format":"url","messages":[{"role":"user","content":"a cat"}]}
--- more_headers
X-Forwarded-Host: gw.example.org, inner.example.org
X-Forwarded-Proto: https
--- error_code: 200
--- response_body_filters eval
sub {
    (my $c = main::content_of($_[0])) =~ s{/[0-9a-f]{32}\.png}{/NAME.png}g;
    return $c;
}
--- response_body chomp
Here you go.
https://gw.example.org/image/NAME.png


=== TEST 17: X-Forwarded-Host from an untrusted client is ignored
--- http_config
    gemini_pool_trusted_proxy 10.0.0.0/8;
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"model":"gemini-image","image_format":"url","messages":[{"role":"user","content":"a cat"}]}
--- more_headers
X-Forwarded-Host: evil.example.org
X-Forwarded-Proto: https
--- error_code: 200
--- response_body_filters eval
sub {
    (my $c = main::content_of($_[0])) =~ s{/[0-9a-f]{32}\.png}{/NAME.png}g;
    return $c;
}
--- response_body chomp
Here you go.
http://localhost/image/NAME.png


=== TEST 18: streamed: the artefacts go even when cut across elements, the image follows as Markdown
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- request
POST /v1/chat/completions
{"model":"gemini-image","stream":true,"messages":[{"role":"user","content":"two MOCK:images=2"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    my $c = main::sse_content($_[0]);
    my @l = main::links($c);
    (my $shape = $c) =~ s{http://localhost/image/[0-9a-f]{32}\.png}{URL}g;
    return "$shape\n" . main::check_links(@l)
           . ($_[0] =~ /data: \[DONE\]\n\n\z/ ? "done\n" : "no DONE\n");
}
--- response_body
Here you go.

![image](URL)

![image](URL)
image 200 image/png mock
image 200 image/png mock
done
--- no_error_log
[error]
[warn]


=== TEST 19: streamed, format url
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"model":"gemini-image","stream":true,"image_format":"url","messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    (my $c = main::sse_content($_[0])) =~ s{http://localhost/image/[0-9a-f]{32}\.png}{URL}g;
    return $c;
}
--- response_body chomp
Here you go.
URL


=== TEST 20: streamed, format array: one delta with content parts before the finish
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"model":"gemini-image","stream":true,"image_format":"array","messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    (my $c = main::sse_content($_[0])) =~ s{http://localhost/image/[0-9a-f]{32}\.png}{URL}g;
    my ($last) = $_[0] =~ /(data: \{[^\n]*"content":\[[^\n]*\n\n)data: \{[^\n]*"finish_reason":"stop"/;
    return $c . ($last ? "|before finish" : "|misplaced");
}
--- response_body chomp
Here you go.
[image_url:URL]|before finish


=== TEST 21: streamed, format b64_json: a data: URL part
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"model":"gemini-image","stream":true,"image_format":"b64_json","messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    my $c = main::sse_content($_[0]);
    $c =~ s{data:image/png;base64,([A-Za-z0-9+/=]+)}{
        main::mock_files()->{Digest::SHA::sha256_hex(MIME::Base64::decode_base64($1))}
        ? "DATA(mock)" : "DATA(other)"}e;
    return $c;
}
--- response_body chomp
Here you go.
[image_url:DATA(mock)]


=== TEST 22: streamed video: the mp4 link arrives (the reference crashed here)
--- config
    location /v1/ { gemini_pool_api; }
    location /video/ { gemini_pool_media; }
--- request
POST /v1/chat/completions
{"model":"gemini-video","stream":true,"messages":[{"role":"user","content":"a cat video"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    my $c = main::sse_content($_[0]);
    my @l = main::links($c);
    (my $shape = $c) =~ s{http://localhost/video/[0-9a-f]{32}\.mp4}{URL}g;
    return "$shape\n" . main::check_links(@l);
}
--- response_body
Here you go.
Video generated by Veo.

[video](URL)
video 200 video/mp4 mock
--- no_error_log
[error]
[warn]


=== TEST 23: streamed, inline media are emitted too (the reference never did)
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- request
POST /v1/chat/completions
{"model":"gemini-2.5-flash","stream":true,"messages":[{"role":"user","content":"x MOCK:generated_images"}]}
--- error_code: 200
--- response_body_filters eval
sub { main::check_links(main::links(main::sse_content($_[0]))) }
--- response_body
image 200 image/png png


=== TEST 24: a slow download: SSE keep-alives while the media are fetched
--- config
    location /v1/ {
        gemini_pool_sse_keepalive 300ms;
        gemini_pool_api;
    }
--- gp_setup
mock_post('/__mock/inject', { endpoint => 'download',
    action => { delay_ms => 1500 } });
--- request
POST /v1/chat/completions
{"model":"gemini-image","stream":true,"messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_like eval
qr/"content":"Here you go\.\\n"\}.*(: keep-alive\n\n){2,}data: \{[^\n]*!\[image\]\(http:[^\n]*\n\ndata: \{[^\n]*"finish_reason":"stop".*data: \[DONE\]\n\n\z/s
--- timeout: 10


=== TEST 25: POST /v1/images/generations: OpenAI's shape with a cached URL
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- request
POST /v1/images/generations
{"prompt":"a red fox","model":"dall-e-3"}
--- error_code: 200
--- response_body_filters eval
sub {
    my $d = $main::J->decode($_[0]);
    my @urls = map { $_->{url} } @{ $d->{data} };
    my $q = GeminiPool::mock_requests('streamAssist')->[0];
    return ($d->{created} =~ /^\d+$/ ? "created\n" : "no created\n")
           . main::check_links(@urls) . "query: $q->{query_text}\n"
           . "tools: " . CORE::join(',', sort keys %{ $q->{tools_spec} }) . "\n";
}
--- response_body
created
image 200 image/png mock
query: a red fox
tools: imageGenerationSpec


=== TEST 26: images generations: n, size and b64_json
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/images/generations
{"prompt":"foxes MOCK:images=2","n":2,"size":"1024x1024","response_format":"b64_json"}
--- error_code: 200
--- response_body_filters eval
sub {
    my $d = $main::J->decode($_[0]);
    my $f = main::mock_files();
    my $out = '';
    for my $i (@{ $d->{data} }) {
        $out .= CORE::join(',', sort keys %$i) . ' '
                . ($f->{Digest::SHA::sha256_hex(MIME::Base64::decode_base64($i->{b64_json}))}
                   ? "mock" : "other") . "\n";
    }
    my $q = GeminiPool::mock_requests('streamAssist')->[0];
    return $out . "query: $q->{query_text}\n";
}
--- response_body
b64_json mock
b64_json mock
query: foxes MOCK:images=2

(Generate 2 separate images.)
(Size: 1024x1024.)


=== TEST 27: images generations: bad requests get OpenAI errors
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
[
"POST /v1/images/generations
{\"n\":1}",
"POST /v1/images/generations
{\"prompt\":\"x\",\"n\":11}",
"POST /v1/images/generations
{\"prompt\":\"x\",\"response_format\":\"png\"}",
"POST /v1/images/generations
{\"prompt\":\"x\",\"size\":\"big\"}",
"POST /v1/images/generations
{\"prompt\":\"x\",\"model\":\"gemini-2.5-flash\"}",
"POST /v1/images/generations
{\"prompt\":\"x\",\"model\":\"nope\"}",
"POST /v1/images/generations
not json",
"GET /v1/images/generations",
]
--- error_code eval
[400, 400, 400, 400, 400, 404, 400, 405]
--- response_body_like eval
[qr/"param":"prompt","code":"missing_required_parameter"/,
 qr/"param":"n","code":"invalid_value"/,
 qr/"param":"response_format","code":"invalid_value"/,
 qr/"param":"size","code":"invalid_value"/,
 qr/does not generate images","type":"invalid_request_error","param":"model"/,
 qr/"code":"model_not_found"/,
 qr/"code":"invalid_json"/,
 qr/"code":"method_not_allowed"/]


=== TEST 28: images generations: no image from the upstream is a 502 that says why
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/images/generations
{"prompt":"just talk MOCK:text"}
--- error_code: 502
--- response_body_like chomp
"message":"The upstream produced no image: echo: just talk MOCK:text


=== TEST 29: /image/ serves only cache names
--- config
    location /image/ { gemini_pool_media; }
--- request eval
[
"GET /image/0123456789abcdef0123456789abcdef.png",
"GET /image/ABC.png",
"GET /image/.hidden.png",
"GET /image/a.b.png",
"POST /image/0123456789abcdef0123456789abcdef.png",
]
--- error_code eval
[404, 404, 404, 404, 405]
--- no_error_log
[error]


=== TEST 30: eviction by inactive=: the helper removes old media
--- http_config
    gemini_pool_media_cache media_inactive levels=1:2 inactive=1s;
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- request
POST /v1/chat/completions
{"model":"gemini-image","messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    my @l = main::links(main::content_of($_[0]));
    my $before = main::fetch($l[0])->{status};
    sleep 3;
    my $after = main::fetch($l[0])->{status};
    return "$before then $after";
}
--- response_body chomp
200 then 404
--- timeout: 10


=== TEST 31: eviction by max_size=: the oldest go first
--- gp_setup
# a cache left by an earlier run would be evicted first
File::Path::remove_tree("$Test::Nginx::Util::ServRoot/media_max");
--- http_config
    gemini_pool_media_cache media_max max_size=400k;
--- config
    location /v1/ { gemini_pool_api; }
    location /video/ { gemini_pool_media; }
--- request eval
[
"POST /v1/chat/completions
{\"model\":\"gemini-video\",\"messages\":[{\"role\":\"user\",\"content\":\"one\"}]}",
"POST /v1/chat/completions
{\"model\":\"gemini-video\",\"messages\":[{\"role\":\"user\",\"content\":\"two\"}]}",
]
--- error_code eval
[200, 200]
--- response_body_filters eval
sub {
    push @main::SEEN, main::links(main::content_of($_[0]));
    sleep 2;
    return "first\n" if @main::SEEN == 1;
    # the helper's line, after the second turn (the harness would look
    # for an error_log pattern after the first request already)
    open my $fh, '<', "$Test::Nginx::Util::ServRoot/logs/error.log" or die $!;
    my $log = CORE::join '', <$fh>;
    return CORE::join(' ', map { main::fetch($_)->{status} } @main::SEEN)
           . ($log =~ /gemini pool helper: 1 media files evicted, 307200 bytes kept/
              ? " evicted: 1, 307200 bytes kept" : " no eviction line") . "\n";
}
--- response_body eval
["first\n", "404 200 evicted: 1, 307200 bytes kept\n"]
--- timeout: 15


=== TEST 32: a follow-up turn that sends the Markdown answer back keeps its session
--- gp_setup
# the sessions counted are the turns' own: no spare sessions of the helper
# (made on its own ticks, they landed among them under load)
GeminiPool::setting('spare_sessions', 'int', '0');
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
[
"POST /v1/chat/completions
{\"model\":\"gemini-image\",\"messages\":[{\"role\":\"user\",\"content\":\"a cat MOCK:text\"}]}",
]
--- error_code: 200
--- response_body_filters eval
sub {
    my $c = main::content_of($_[0]);
    my $body = $main::J->encode({ model => 'gemini-image', messages => [
        { role => 'user', content => 'draw a cat' },
        { role => 'assistant', content => "placeholder" },
        { role => 'user', content => 'now a dog' } ] });
    # turn 1 with an image, then turn 2 sending it back
    my $t1 = $main::J->encode({ model => 'gemini-image', messages => [
        { role => 'user', content => 'draw a cat' } ] });
    my $a1 = main::content_of(GeminiPool::chat($t1));
    my $t2 = $main::J->encode({ model => 'gemini-image', messages => [
        { role => 'user', content => 'draw a cat' },
        { role => 'assistant', content => $a1 },
        { role => 'user', content => 'now a dog' } ] });
    my $a2 = main::content_of(GeminiPool::chat($t2));
    my $q = GeminiPool::mock_requests('streamAssist');
    my $sessions = GeminiPool::mock_requests('createSession');
    return "answer 2: " . ($a2 =~ /!\[image\]/ ? "image" : "none") . "\n"
           . "query 3: $q->[2]{query_text}\n"
           . "same session: " . ($q->[1]{session} eq $q->[2]{session} ? 1 : 0)
           . "\nsessions: " . scalar(@$sessions) . "\n";
}
--- response_body
answer 2: image
query 3: now a dog
same session: 1
sessions: 2


=== TEST 33: a client that goes away while media download cancels the downloads
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- gp_setup
mock_post('/__mock/inject', { endpoint => 'download',
    action => { chunked => JSON::PP::true, gap_ms => 400, piece_bytes => 16 } });
--- request eval
[
"POST /v1/chat/completions
{\"model\":\"gemini-image\",\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}",
"GET /mock/requests?endpoint=download",
]
--- timeout: 1.5
--- abort
--- wait: 1
--- error_code eval
["", 200]
--- response_body_filters eval
sub {
    return '' unless $_[0] =~ /^\[/;
    my $r = $main::J->decode($_[0]);
    return "downloads: " . scalar(@$r) . ", client_closed: "
           . ($r->[0]{client_closed} ? 1 : 0);
}
--- response_body eval
["", "downloads: 1, client_closed: 1"]
--- no_error_log
[alert]
[crit]



=== TEST 34: the admin API checks the media settings; they apply at once
--- config
    location /api/ { gemini_pool_admin; }
    location /v1/ { gemini_pool_api; }
--- more_headers
X-Admin-Token: media-admin-secret-0123456789
--- request eval
["PUT /api/settings\n{\"image_format\":\"gif\"}",
 "PUT /api/settings\n{\"image_base_url\":\"ftp://cdn.example.com\"}",
 "PUT /api/settings\n{\"image_format\":\"url\",\"image_base_url\":\"https://cdn.example.com/m/\"}",
 "POST /v1/chat/completions\n{\"model\":\"gemini-image\",\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}"]
--- error_code eval
[400, 400, 200, 200]
--- response_body_filters eval
sub {
    my $c = $_[0] =~ /chat\.completion/ ? main::content_of($_[0]) : $_[0];
    $c =~ s{/[0-9a-f]{32}\.png}{/NAME.png}g;
    return $c;
}
--- response_body_like eval
[qr/"code":"invalid_value"/, qr/"code":"invalid_value"/, qr/./,
 qr{\AHere you go\.\nhttps://cdn\.example\.com/m/image/NAME\.png\z}]


=== TEST 35: an API key created with image_format "array" gets content parts
--- config
    location /api/ { gemini_pool_admin; }
    location /v1/ { gemini_pool_api_keys on; gemini_pool_api; }
--- request
POST /api/keys
{"name":"media","image_format":"array"}
--- more_headers
X-Admin-Token: media-admin-secret-0123456789
--- error_code: 201
--- response_body_filters eval
sub {
    my $key = $main::J->decode($_[0])->{key} or return "no key: $_[0]";
    my $port = Test::Nginx::Socket::server_port();
    my $r = HTTP::Tiny->new(timeout => 10)->post(
        "http://127.0.0.1:$port/v1/chat/completions", {
        headers => { Authorization => "Bearer $key" },
        content => '{"model":"gemini-image","messages":[{"role":"user","content":"a cat"}]}' });
    my $parts = $main::J->decode($r->{content})->{choices}[0]{message}{content};
    return ref $parts eq 'ARRAY'
           ? CORE::join(',', map { $_->{type} } @$parts) : "not parts: $r->{content}";
}
--- response_body chomp
text,image_url


=== TEST 36: a download refused with 401 (the JWT expired in a long turn) is retried with a new JWT
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- gp_setup
mock_post('/__mock/inject', { endpoint => 'download',
    action => { expired => JSON::PP::true } });
--- request
POST /v1/chat/completions
{"model":"gemini-image","messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    my $out = main::check_links(main::links(main::content_of($_[0])));
    my @d = map { $_->{status} } @{ GeminiPool::mock_requests('download') };
    my $kids = scalar @{ GeminiPool::mock_requests('getoxsrf') };
    return $out . "downloads: @d\ngetoxsrf: $kids\n";
}
--- response_body
image 200 image/png mock
downloads: 401 200
getoxsrf: 2
--- error_log
downloadFile answered 401, retrying with a new JWT
--- no_error_log
[error]
[warn]


=== TEST 37: a download refused with 401 twice is told in the answer
--- config
    location /v1/ { gemini_pool_api; }
--- gp_setup
mock_post('/__mock/inject', { endpoint => 'download', times => 2,
    action => { expired => JSON::PP::true } });
--- request
POST /v1/chat/completions
{"model":"gemini-image","messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub { main::content_of($_[0]) }
--- response_body chomp
Here you go.

(image 1 could not be retrieved: downloadFile answered 401: Request had invalid authentication credentials.)


=== TEST 38: a symbolic link planted in the media cache is not served
--- gp_setup
my $root = $Test::Nginx::Util::ServRoot;
File::Path::remove_tree("$root/media_link", "$root/outside");
File::Path::make_path("$root/media_link", "$root/outside");
for my $f ("$root/outside/secret.txt") {
    open my $fh, '>', $f or die $!;
    print $fh "outside the cache\n";
    close $fh;
}
symlink("$root/outside/secret.txt",
        "$root/media_link/00112233445566778899aabbccddeeff.png") or die $!;
--- http_config
    gemini_pool_media_cache media_link;
--- config
    location /image/ { gemini_pool_media; }
--- request
GET /image/00112233445566778899aabbccddeeff.png
--- error_code: 404
--- response_body_unlike: outside the cache
--- error_log
is a symbolic link, not served


=== TEST 39: a level directory that is a symbolic link is not followed
--- gp_setup
my $root = $Test::Nginx::Util::ServRoot;
File::Path::remove_tree("$root/media_lvl", "$root/outside2");
File::Path::make_path("$root/media_lvl", "$root/outside2/de");
open my $fh, '>', "$root/outside2/de/0123456789abcdef0123456789abcdef.png"
    or die $!;
print $fh "outside the cache\n";
close $fh;
symlink("$root/outside2", "$root/media_lvl/f") or die $!;
--- http_config
    gemini_pool_media_cache media_lvl levels=1:2;
--- config
    location /image/ { gemini_pool_media; }
--- request
GET /image/0123456789abcdef0123456789abcdef.png
--- error_code: 404
--- response_body_unlike: outside the cache


=== TEST 40: eviction neither follows a link nor walks into a linked directory
--- gp_setup
my $root = $Test::Nginx::Util::ServRoot;
File::Path::remove_tree("$root/media_evict", "$root/outside3");
File::Path::make_path("$root/media_evict", "$root/outside3");
for my $f ("$root/outside3/old.png", "$root/outside3/file.png") {
    open my $fh, '>', $f or die $!;
    print $fh "outside the cache\n";
    close $fh;
    utime(time - 86400, time - 86400, $f) or die $!;
}
symlink("$root/outside3", "$root/media_evict/dir") or die $!;
symlink("$root/outside3/file.png",
        "$root/media_evict/00112233445566778899aabbccddeeff.png") or die $!;
--- http_config
    gemini_pool_media_cache media_evict inactive=1s;
--- config
    location /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body_filters eval
sub {
    sleep 3;
    my $root = $Test::Nginx::Util::ServRoot;
    return CORE::join(' ', map { -e "$root/outside3/$_" ? 'kept' : 'removed' }
                     qw(old.png file.png)) . "\n";
}
--- response_body
kept kept
--- timeout: 10
