# The image host (spec §9.5, the reference's "cfbed" mode) against the fake
# host t/mock/imghost.py: generated images and videos uploaded after their
# download and linked on the host in every format, streamed and not; the
# global proxy when proxy_for names "images"; the local link when the
# upload fails, is refused or is slow; the settings (the token sealed,
# never shown), the console's test upload, the import of the reference's
# configuration; no token in any log or answer.

use lib 't/lib';
BEGIN { $ENV{ADMIN_SECRET_KEY} = 'imghost-admin-secret-0123456789' }
use Test::Nginx::Socket 'no_plan';
use GeminiPool;
use GeminiPool::Network;
use Digest::SHA qw(sha256_hex);
use HTTP::Tiny;
use JSON::PP;
use MIME::Base64 ();
use POSIX ();

our $J = JSON::PP->new->utf8->canonical;
our $TOKEN = 'imghost-token-0123';
our ($IH, $IH_PID, $TP);

{
    pipe(my $r, my $w) or die "pipe: $!";
    $IH_PID = fork() // die "fork: $!";
    if (!$IH_PID) {
        close $r;
        open STDOUT, '>&', $w or die;
        { exec '/usr/bin/python3', "$GeminiPool::ROOT/t/mock/imghost.py",
               '--port', '0', '--token', $TOKEN }
        POSIX::_exit(127);
    }
    close $w;
    my $line = <$r>;
    die "imghost.py did not start\n" unless $line && $line =~ /^READY (\d+)/;
    $IH = "http://127.0.0.1:$1";
}
END { if ($IH_PID) { kill 'TERM', $IH_PID; waitpid $IH_PID, 0; } }

# a forward proxy (the network suite's tinyproxy), for proxy_for "images"
$TP = GeminiPool::Network->tinyproxy;

sub fake {
    my ($method, $path, $body) = @_;
    my $res = HTTP::Tiny->new(timeout => 10)->request($method, "$IH$path", {
        (defined $body ? (content => $J->encode($body)) : ()),
    });
    die "fake $method $path: $res->{status}\n" unless $res->{success};
    return $J->decode($res->{content});
}

# the block's image host: a fresh fake in the given mode, the settings
sub host {
    my (%o) = @_;
    fake('POST', '/__fake/reset');
    fake('POST', '/__fake/config', { mode => $o{mode} || 'ok',
                                     delay => $o{delay} || 3 });
    GeminiPool::setting('upload_endpoint', 'string',
                        $o{endpoint} // "$IH/upload");
    GeminiPool::setting('upload_api_token', 'string', $o{token} // $TOKEN);
    GeminiPool::setting('upload_timeout', 'int', $o{timeout})
        if $o{timeout};
    GeminiPool::setting($_, 'string', $o{settings}{$_})
        for keys %{ $o{settings} || {} };
}

sub uploads { fake('GET', '/__fake/uploads')->{uploads} }

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

# the links of a text: hosted ones become HOST, local ones LOCAL, each
# checked: the bytes the host (or nginx) serves are the mock's own
# ("mock") or at least a PNG ("png")
sub shape {
    my ($text) = @_;
    my $files = mock_files();
    my $port = Test::Nginx::Socket::server_port();
    my $out = '';
    my $check = sub {
        my ($url, $what) = @_;
        my $r = HTTP::Tiny->new(timeout => 10)->get($url);
        return "$what($r->{status})" unless $r->{success};
        my $kind = $files->{sha256_hex($r->{content})} ? 'mock'
                   : substr($r->{content}, 0, 8) eq "\x89PNG\r\n\x1a\n"
                     ? 'png' : 'other';
        return "$what($kind)";
    };
    $text =~ s{\Q$IH\E/file/\d+_[0-9a-f]{32}\.(png|mp4)}{
        $check->($&, "HOST.$1") }ge;
    $text =~ s{http://localhost(/(?:image|video)/[0-9a-f]{32}\.(png|mp4))}{
        $check->("http://127.0.0.1:$port$1", "LOCAL.$2") }ge;
    return $text;
}

sub content_of {
    my ($body) = @_;
    my $d = eval { $J->decode($body) } or return "not JSON: $body";
    my $c = $d->{choices}[0]{message}{content};
    return $c unless ref $c eq 'ARRAY';
    return join '', map { $_->{type} eq 'text' ? "[text:$_->{text}]"
                          : "[$_->{type}:$_->{image_url}{url}]" } @$c;
}

# the content of an answer, streamed or not
sub any_content {
    my ($body) = @_;
    return $body =~ /^data: /m ? sse_content($body) : content_of($body);
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

# what the host received, one line per upload
sub received {
    my $out = '';
    for my $u (@{ uploads() }) {
        my $p = join '&', map { "$_=$u->{params}{$_}" }
                          sort keys %{ $u->{params} };
        my $name = ($u->{filename} // '') =~ /^[0-9a-f]{32}\.(\w+)$/
                   ? "HEX.$1" : $u->{filename} // 'none';
        $out .= sprintf "%s %s token=%s fields=%s %s %s %s%s\n",
                        $u->{status}, $u->{path},
                        $u->{token_ok} ? 'ok' : 'bad',
                        join(',', @{ $u->{fields} }), $name,
                        $u->{type} // '-', $p,
                        ($u->{via} // '') =~ /tinyproxy/ ? ' via tinyproxy'
                        : '';
    }
    return $out;
}

no_long_string();
log_level('info');
run_tests();

__DATA__

=== TEST 1: an image: uploaded after its download as the spec's multipart "file", the Markdown link on the host
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- gp_setup
main::host();
--- request
POST /v1/chat/completions
{"model":"gemini-image","messages":[{"role":"user","content":"draw a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub { main::shape(main::content_of($_[0])) . "\n" . main::received() }
--- response_body
Here you go.

![image](HOST.png(mock))
200 /upload token=ok fields=file HEX.png image/png autoRetry=true&returnFormat=default&serverCompress=true&uploadChannel=telegram&uploadNameType=default
--- error_log eval
qr/image 1 of the turn uploaded to the image host as "http:\/\/127\.0\.0\.1:\d+\/file\/1_[0-9a-f]{32}\.png"/
--- no_error_log eval
["[error]", "[warn]", $main::TOKEN]


=== TEST 2: two images, format url, not streamed: both links on the host
--- config
    location /v1/ { gemini_pool_api; }
--- gp_setup
main::host();
--- request
POST /v1/chat/completions
{"model":"gemini-image","image_format":"url","messages":[{"role":"user","content":"two MOCK:images=2"}]}
--- error_code: 200
--- response_body_filters eval
sub { main::shape(main::content_of($_[0])) . "\n" . scalar(@{ main::uploads() }) }
--- response_body chomp
Here you go.
HOST.png(mock)
HOST.png(mock)
2
--- no_error_log eval
["[error]", "[warn]", $main::TOKEN]


=== TEST 3: format array, not streamed: the image_url part on the host
--- config
    location /v1/ { gemini_pool_api; }
--- gp_setup
main::host();
--- request
POST /v1/chat/completions
{"model":"gemini-image","image_format":"array","messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub { main::shape(main::content_of($_[0])) }
--- response_body chomp
[text:Here you go.
][image_url:HOST.png(mock)]
--- no_error_log eval
["[error]", "[warn]", $main::TOKEN]


=== TEST 4: format b64_json: the image inline from the local copy, as without a host
--- config
    location /v1/ { gemini_pool_api; }
--- gp_setup
main::host();
--- request
POST /v1/chat/completions
{"model":"gemini-image","image_format":"b64_json","messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    my $c = main::content_of($_[0]);
    $c =~ s{data:image/png;base64,([A-Za-z0-9+/=]+)}{
        main::mock_files()->{Digest::SHA::sha256_hex(MIME::Base64::decode_base64($1))}
        ? "DATA(mock)" : "DATA(other)"}e;
    return $c;
}
--- response_body chomp
[text:Here you go.
][image_url:DATA(mock)]
--- no_error_log eval
["[error]", "[warn]", $main::TOKEN]


=== TEST 5: streamed, Markdown: the link on the host in the last delta, keep-alives meanwhile
--- config
    location /v1/ {
        gemini_pool_sse_keepalive 300ms;
        gemini_pool_api;
    }
--- gp_setup
main::host(mode => 'slow', delay => 1.2);
--- request
POST /v1/chat/completions
{"model":"gemini-image","stream":true,"messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    my $b = $_[0];
    my $ka = $b =~ /"content":"Here you go\.\\n"\}.*(: keep-alive\n\n){2,}data: \{[^\n]*!\[image\]/s
             ? "keep-alives\n" : "no keep-alives\n";
    return $ka . main::shape(main::sse_content($b));
}
--- response_body chomp
keep-alives
Here you go.

![image](HOST.png(mock))
--- no_error_log eval
["[error]", "[warn]", $main::TOKEN]
--- timeout: 15


=== TEST 6: streamed, url and array
--- config
    location /v1/ { gemini_pool_api; }
--- gp_setup
main::host();
--- request eval
["POST /v1/chat/completions
{\"model\":\"gemini-image\",\"stream\":true,\"image_format\":\"url\",\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}",
"POST /v1/chat/completions
{\"model\":\"gemini-image\",\"stream\":true,\"image_format\":\"array\",\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}"]
--- error_code eval
[200, 200]
--- response_body_filters eval
sub { main::shape(main::sse_content($_[0])) }
--- response_body eval
["Here you go.\nHOST.png(mock)", "Here you go.\n[image_url:HOST.png(mock)]"]
--- no_error_log eval
["[error]", "[warn]", $main::TOKEN]


=== TEST 7: a video, streamed and not: the mp4 on the host
--- config
    location /v1/ { gemini_pool_api; }
--- gp_setup
main::host();
--- request eval
["POST /v1/chat/completions
{\"model\":\"gemini-video\",\"messages\":[{\"role\":\"user\",\"content\":\"a cat video\"}]}",
"POST /v1/chat/completions
{\"model\":\"gemini-video\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"a cat video\"}]}"]
--- error_code eval
[200, 200]
--- response_body_filters eval
sub { main::shape(main::any_content($_[0])) . "\n" . (main::received() =~ /HEX\.mp4 video\/mp4/ ? 'mp4' : 'not mp4') }
--- response_body eval
["Here you go.\nVideo generated by Veo.\n\n[video](HOST.mp4(mock))\nmp4",
 "Here you go.\nVideo generated by Veo.\n\n[video](HOST.mp4(mock))\nmp4"]
--- no_error_log eval
["[error]", "[warn]", $main::TOKEN]
--- timeout: 15


=== TEST 8: inline media (no download) are uploaded too, streamed and not
--- config
    location /v1/ { gemini_pool_api; }
--- gp_setup
main::host();
--- request eval
["POST /v1/chat/completions
{\"model\":\"gemini-2.5-flash\",\"image_format\":\"url\",\"messages\":[{\"role\":\"user\",\"content\":\"x MOCK:generated_images\"}]}",
"POST /v1/chat/completions
{\"model\":\"gemini-2.5-flash\",\"stream\":true,\"image_format\":\"url\",\"messages\":[{\"role\":\"user\",\"content\":\"x MOCK:generated_images\"}]}"]
--- error_code eval
[200, 200]
--- response_body_filters eval
sub { my @l = main::any_content($_[0]) =~ /(\S+)\z/; main::shape($l[0] // 'none') }
--- response_body eval
["HOST.png(png)", "HOST.png(png)"]
--- no_error_log eval
["[error]", "[warn]", $main::TOKEN]


=== TEST 9: /v1/images/generations: the url on the host
--- config
    location /v1/ { gemini_pool_api; }
--- gp_setup
main::host();
--- request
POST /v1/images/generations
{"prompt":"a red fox","model":"dall-e-3"}
--- error_code: 200
--- response_body_filters eval
sub { CORE::join("\n", map { main::shape($_->{url}) } @{ $main::J->decode($_[0])->{data} }) }
--- response_body chomp
HOST.png(mock)
--- no_error_log eval
["[error]", "[warn]", $main::TOKEN]


=== TEST 10: the public URL is image_base_url + src when it is set
--- config
    location /v1/ { gemini_pool_api; }
--- gp_setup
main::host(settings => { image_base_url => 'https://img.example.test/base/' });
--- request
POST /v1/chat/completions
{"model":"gemini-image","image_format":"url","messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub { main::content_of($_[0]) =~ s{/file/\d+_[0-9a-f]{32}\.png}{/file/N_HEX.png}r }
--- response_body chomp
Here you go.
https://img.example.test/base/file/N_HEX.png
--- no_error_log eval
["[error]", "[warn]", $main::TOKEN]


=== TEST 11: an absolute src is the link as it is
--- config
    location /v1/ { gemini_pool_api; }
--- gp_setup
main::host(mode => 'absolute');
--- request
POST /v1/chat/completions
{"model":"gemini-image","image_format":"url","messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub { main::content_of($_[0]) =~ s{/file/\d+_[0-9a-f]{32}\.png}{/file/N_HEX.png}r }
--- response_body chomp
Here you go.
https://cdn.example.test/file/N_HEX.png
--- no_error_log eval
["[error]", "[warn]", $main::TOKEN]


=== TEST 12: proxy_for names "images": the upload goes through the global proxy (tinyproxy)
--- config
    location /v1/ { gemini_pool_api; }
--- gp_setup
main::host(settings => { proxy => $main::TP->url, proxy_for => 'images' });
GeminiPool::setting('proxy_enabled', 'bool', 'true');
--- request
POST /v1/chat/completions
{"model":"gemini-image","image_format":"url","messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub { main::shape(main::content_of($_[0])) . "\n" . (main::received() =~ s/ autoRetry=\S+//r) }
--- response_body
Here you go.
HOST.png(mock)
200 /upload token=ok fields=file HEX.png image/png via tinyproxy
--- no_error_log eval
["[error]", "[warn]", $main::TOKEN]


=== TEST 13: proxy_for without "images": the upload goes direct
--- config
    location /v1/ { gemini_pool_api; }
--- gp_setup
main::host(settings => { proxy => $main::TP->url, proxy_for => 'google' });
--- request
POST /v1/chat/completions
{"model":"gemini-image","image_format":"url","messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub { main::shape(main::content_of($_[0])) . "\n" . (main::received() =~ s/ autoRetry=\S+//r) }
--- response_body
Here you go.
HOST.png(mock)
200 /upload token=ok fields=file HEX.png image/png
--- no_error_log eval
["[error]", "[warn]", $main::TOKEN]


=== TEST 14: the host answers an error: the local link, and the log says why
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- gp_setup
main::host(mode => 'error');
--- request eval
["POST /v1/chat/completions
{\"model\":\"gemini-image\",\"image_format\":\"url\",\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}",
"POST /v1/chat/completions
{\"model\":\"gemini-image\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}"]
--- error_code eval
[200, 200]
--- response_body_filters eval
sub { main::shape(main::any_content($_[0])) }
--- response_body eval
["Here you go.\nLOCAL.png(mock)", "Here you go.\n\n![image](LOCAL.png(mock))"]
--- error_log eval
qr/\[warn\] .*image 1 of the turn not uploaded to the image host \(the image host answered HTTP 500: Internal Server Error\): its local link is given/
--- no_error_log eval
["[error]", $main::TOKEN]


=== TEST 15: a wrong token: refused, the local link; neither token in the log
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- gp_setup
main::host(token => 'wrong-token-4567');
--- request eval
["POST /v1/chat/completions
{\"model\":\"gemini-image\",\"image_format\":\"url\",\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}",
"POST /v1/chat/completions
{\"model\":\"gemini-image\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}"]
--- error_code eval
[200, 200]
--- response_body_filters eval
sub { main::shape(main::any_content($_[0])) }
--- response_body eval
["Here you go.\nLOCAL.png(mock)", "Here you go.\n\n![image](LOCAL.png(mock))"]
--- error_log eval
qr/\[warn\] .*image 1 of the turn not uploaded to the image host \(the image host answered HTTP 401: Unauthorized\): its local link is given/
--- no_error_log eval
["[error]", $main::TOKEN, 'wrong-token-4567']


=== TEST 16: a slow host: upload_timeout ends the upload, the local link
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- gp_setup
main::host(mode => 'slow', delay => 4, timeout => 1);
--- request eval
["POST /v1/chat/completions
{\"model\":\"gemini-image\",\"image_format\":\"url\",\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}",
"POST /v1/chat/completions
{\"model\":\"gemini-image\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}"]
--- error_code eval
[200, 200]
--- response_body_filters eval
sub { main::shape(main::any_content($_[0])) }
--- response_body eval
["Here you go.\nLOCAL.png(mock)", "Here you go.\n\n![image](LOCAL.png(mock))"]
--- error_log eval
qr/\[warn\] .*image 1 of the turn not uploaded to the image host \(Operation timed out after \d+ milliseconds.*\): its local link is given/
--- no_error_log eval
["[error]", $main::TOKEN]
--- timeout: 20

=== TEST 17: a host that refuses connections: the local link
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- gp_setup
main::host(endpoint => 'http://127.0.0.1:' . GeminiPool::Network::dead_port() . '/upload');
--- request eval
["POST /v1/chat/completions
{\"model\":\"gemini-image\",\"image_format\":\"url\",\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}",
"POST /v1/chat/completions
{\"model\":\"gemini-image\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}"]
--- error_code eval
[200, 200]
--- response_body_filters eval
sub { main::shape(main::any_content($_[0])) }
--- response_body eval
["Here you go.\nLOCAL.png(mock)", "Here you go.\n\n![image](LOCAL.png(mock))"]
--- error_log eval
qr/\[warn\] .*image 1 of the turn not uploaded to the image host \(Failed to connect to 127\.0\.0\.1 port \d+.*\): its local link is given/
--- no_error_log eval
["[error]", $main::TOKEN]


=== TEST 18: an answer that is not JSON: the local link
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- gp_setup
main::host(mode => 'notjson');
--- request eval
["POST /v1/chat/completions
{\"model\":\"gemini-image\",\"image_format\":\"url\",\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}",
"POST /v1/chat/completions
{\"model\":\"gemini-image\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}"]
--- error_code eval
[200, 200]
--- response_body_filters eval
sub { main::shape(main::any_content($_[0])) }
--- response_body eval
["Here you go.\nLOCAL.png(mock)", "Here you go.\n\n![image](LOCAL.png(mock))"]
--- error_log eval
qr/\[warn\] .*image 1 of the turn not uploaded to the image host \(the answer is not JSON\): its local link is given/
--- no_error_log eval
["[error]", $main::TOKEN]


=== TEST 19: an answer that is not a JSON array: the local link
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- gp_setup
main::host(mode => 'object');
--- request eval
["POST /v1/chat/completions
{\"model\":\"gemini-image\",\"image_format\":\"url\",\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}",
"POST /v1/chat/completions
{\"model\":\"gemini-image\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}"]
--- error_code eval
[200, 200]
--- response_body_filters eval
sub { main::shape(main::any_content($_[0])) }
--- response_body eval
["Here you go.\nLOCAL.png(mock)", "Here you go.\n\n![image](LOCAL.png(mock))"]
--- error_log eval
qr/\[warn\] .*image 1 of the turn not uploaded to the image host \(the answer is not a JSON array\): its local link is given/
--- no_error_log eval
["[error]", $main::TOKEN]


=== TEST 20: a src that a link cannot carry: the local link
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- gp_setup
main::host(mode => 'badsrc');
--- request eval
["POST /v1/chat/completions
{\"model\":\"gemini-image\",\"image_format\":\"url\",\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}",
"POST /v1/chat/completions
{\"model\":\"gemini-image\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"a cat\"}]}"]
--- error_code eval
[200, 200]
--- response_body_filters eval
sub { main::shape(main::any_content($_[0])) }
--- response_body eval
["Here you go.\nLOCAL.png(mock)", "Here you go.\n\n![image](LOCAL.png(mock))"]
--- error_log eval
qr/\[warn\] .*image 1 of the turn not uploaded to the image host \(the answer's \"src\" has characters a link cannot carry\): its local link is given/
--- no_error_log eval
["[error]", $main::TOKEN]


=== TEST 21: no token: nothing is uploaded, the local link, nothing in the log
--- config
    location /v1/ { gemini_pool_api; }
--- gp_setup
main::host(token => '');
--- request
POST /v1/chat/completions
{"model":"gemini-image","image_format":"url","messages":[{"role":"user","content":"a cat"}]}
--- error_code: 200
--- response_body_filters eval
sub { main::content_of($_[0]) =~ s{http://localhost/image/[0-9a-f]{32}\.png}{LOCAL}r
      . "\n" . scalar(@{ main::uploads() }) }
--- response_body chomp
Here you go.
LOCAL
0
--- no_error_log
[error]
[warn]
image host


=== TEST 22: a client that goes away during the upload: the transfer ends with the request
--- config
    location /v1/ { gemini_pool_api; }
--- gp_setup
main::host(mode => 'slow', delay => 3);
--- request
POST /v1/chat/completions
{"model":"gemini-image","messages":[{"role":"user","content":"a cat"}]}
--- timeout: 1
--- abort
--- ignore_response
--- no_error_log
[alert]
[error]


=== TEST 23: /v1/images/generations with b64_json: the images inline from the local copy, none uploaded
--- config
    location /v1/ { gemini_pool_api; }
--- gp_setup
main::host();
--- request
POST /v1/images/generations
{"prompt":"two red foxes MOCK:images=2","model":"dall-e-3","n":2,"response_format":"b64_json"}
--- error_code: 200
--- response_body_filters eval
sub {
    my $files = main::mock_files();
    CORE::join("\n", (map { $files->{Digest::SHA::sha256_hex(MIME::Base64::decode_base64($_->{b64_json} // ''))}
                            ? 'DATA(mock)' : 'DATA(other)' }
                      @{ $main::J->decode($_[0])->{data} }),
               'uploads: ' . scalar(@{ main::uploads() }))
}
--- response_body chomp
DATA(mock)
DATA(mock)
uploads: 0
--- no_error_log eval
["[error]", "[warn]", "image host", $main::TOKEN]


=== TEST 24: /v1/images/generations with url: the images still uploaded, their links on the host
--- config
    location /v1/ { gemini_pool_api; }
--- gp_setup
main::host();
--- request
POST /v1/images/generations
{"prompt":"two red foxes MOCK:images=2","model":"dall-e-3","n":2,"response_format":"url"}
--- error_code: 200
--- response_body_filters eval
sub { CORE::join("\n", (map { main::shape($_->{url}) } @{ $main::J->decode($_[0])->{data} }),
                 'uploads: ' . scalar(@{ main::uploads() })) }
--- response_body chomp
HOST.png(mock)
HOST.png(mock)
uploads: 2
--- no_error_log eval
["[error]", "[warn]", $main::TOKEN]
