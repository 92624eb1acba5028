# The image host's settings (upload_endpoint, upload_api_token sealed at
# rest and never shown, upload_timeout), the console's test upload (POST
# /api/settings/upload-test) against the fake host t/mock/imghost.py, and
# the import of the reference's configuration.

use lib 't/lib';
BEGIN { $ENV{ADMIN_SECRET_KEY} = 'imghost-admin-secret-0123456789' }
use Test::Nginx::Socket 'no_plan';
use GeminiPool;
use GeminiPool::Network;
use HTTP::Tiny;
use JSON::PP;
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

$TP = GeminiPool::Network->tinyproxy;

sub fake {
    my ($method, $path, $body) = @_;
    my $res = HTTP::Tiny->new(timeout => 10)->request($method, "$IH$path", {
        (defined $body ? (content => $J->encode($body)) : ()),
    });
    die "fake $method $path: $res->{status}\n" unless $res->{success};
    return $J->decode($res->{content});
}

sub host {
    my (%o) = @_;
    fake('POST', '/__fake/reset');
    fake('POST', '/__fake/config', { mode => $o{mode} || 'ok',
                                     delay => $o{delay} || 3 });
    GeminiPool::setting('upload_endpoint', 'string', "$IH/upload");
    GeminiPool::setting('upload_api_token', 'string', $o{token} // $TOKEN);
    GeminiPool::setting($_, 'string', $o{settings}{$_})
        for keys %{ $o{settings} || {} };
}

# the stored value of a setting
sub stored {
    my ($key) = @_;
    return GeminiPool::sql("SELECT value FROM settings WHERE key = '$key'");
}

# an upload-test answer, the varying parts replaced
sub test_answer {
    my ($body) = @_;
    my $d = eval { $J->decode($body) } or return "not JSON: $body";
    $d->{elapsed_ms} = 'MS' if exists $d->{elapsed_ms};
    if (defined $d->{url} && $d->{url} =~ m{^\Q$IH\E/file/\d+_gemini-pool-upload-test\.png$}) {
        my $r = HTTP::Tiny->new->get($d->{url});
        $d->{url} = 'HOST ' . (substr($r->{content} // '', 0, 8)
                               eq "\x89PNG\r\n\x1a\n" ? 'png' : 'other');
    }
    return $J->encode($d);
}

no_long_string();
log_level('info');
run_tests();

__DATA__

=== TEST 1: the settings: the token only as set, sealed in the database; the endpoint checked
--- config
    location /api/ { gemini_pool_admin; }
--- gp_setup
main::host();
--- more_headers
X-Admin-Token: imghost-admin-secret-0123456789
--- request eval
["GET /api/settings",
 "PUT /api/settings\n{\"upload_endpoint\":\"ftp://x/upload\"}",
 "PUT /api/settings\n{\"upload_timeout\":0}",
 "PUT /api/settings\n{\"upload_api_token\":\"another-token-89\",\"upload_timeout\":60}",
 "GET /api/config/export"]
--- error_code eval
[200, 400, 400, 200, 200]
--- response_body_filters eval
sub {
    my $b = $_[0];
    return "a token in the answer\n" if $b =~ /\Q$main::TOKEN\E|another-token-89/;
    my $d = $main::J->decode($b);
    return "$d->{error}{code}\n" if $d->{error};
    if ($d->{settings} && $d->{settings}{upload_api_token}) {
        my $s = $d->{settings};
        return $main::J->encode({ map { $_ => $s->{$_} }
                                  qw(upload_endpoint upload_api_token upload_timeout) })
               =~ s/\Q$main::IH\E/IH/r
               . "\nsealed: " . (main::stored('upload_api_token') =~ /^enc:v1:/ ? 'yes' : 'no') . "\n";
    }
    return "export: " . ($b =~ /upload_endpoint/ && $b !~ /imghost-token|another-token/ ? 'no token' : 'token?') . "\n";
}
--- response_body eval
["{\"upload_api_token\":{\"default\":\"\",\"group\":\"media\",\"set\":true,\"type\":\"secret\",\"value\":null},\"upload_endpoint\":{\"default\":\"\",\"group\":\"media\",\"type\":\"string\",\"value\":\"IH/upload\"},\"upload_timeout\":{\"default\":300,\"group\":\"media\",\"max\":3600,\"min\":1,\"type\":\"int\",\"unit\":\"s\",\"value\":300}}\nsealed: yes\n",
 "invalid_value\n",
 "invalid_value\n",
 "{\"upload_api_token\":{\"default\":\"\",\"group\":\"media\",\"set\":true,\"type\":\"secret\",\"value\":null},\"upload_endpoint\":{\"default\":\"\",\"group\":\"media\",\"type\":\"string\",\"value\":\"IH/upload\"},\"upload_timeout\":{\"default\":300,\"group\":\"media\",\"max\":3600,\"min\":1,\"type\":\"int\",\"unit\":\"s\",\"value\":60}}\nsealed: yes\n",
 "export: no token\n"]
--- no_error_log eval
["[error]", $main::TOKEN, "another-token-89"]


=== TEST 2: the test upload: the host's answer as a public URL
--- config
    location /api/ { gemini_pool_admin; }
--- gp_setup
main::host();
--- more_headers
X-Admin-Token: imghost-admin-secret-0123456789
--- request
POST /api/settings/upload-test
{}
--- error_code: 200
--- response_body_filters eval
sub { main::test_answer($_[0]) . "\n" . CORE::join(',', map { "$_->{status} $_->{filename} $_->{type}" } @{ main::fake('GET', '/__fake/uploads')->{uploads} }) }
--- response_body chomp
{"elapsed_ms":"MS","ok":true,"proxied":false,"status":200,"url":"HOST png"}
200 gemini-pool-upload-test.png image/png
--- no_error_log eval
["[error]", "[warn]", $main::TOKEN]


=== TEST 3: the test upload's errors: a wrong token, an error answer, not configured
--- config
    location /api/ { gemini_pool_admin; }
--- gp_setup
main::host(token => 'wrong-token-4567');
--- more_headers
X-Admin-Token: imghost-admin-secret-0123456789
--- request eval
["POST /api/settings/upload-test\n{}",
 "PUT /api/settings\n{\"upload_api_token\":\"$main::TOKEN\",\"upload_endpoint\":\"$main::IH/nothing/upload/x\"}",
 "POST /api/settings/upload-test\n{}",
 "PUT /api/settings\n{\"upload_api_token\":\"\"}",
 "POST /api/settings/upload-test\n{}"]
--- error_code eval
[200, 200, 200, 200, 400]
--- response_body_filters eval
sub {
    return "a token in the answer" if $_[0] =~ /\Q$main::TOKEN\E|wrong-token-4567/;
    return $_[0] =~ /"settings"/ ? "saved" : main::test_answer($_[0]);
}
--- response_body eval
["{\"elapsed_ms\":\"MS\",\"error\":\"the image host answered HTTP 401: Unauthorized\",\"ok\":false,\"proxied\":false,\"status\":401}",
 "saved",
 "{\"elapsed_ms\":\"MS\",\"error\":\"the image host answered HTTP 404: not found\",\"ok\":false,\"proxied\":false,\"status\":404}",
 "saved",
 "{\"error\":{\"code\":\"not_configured\",\"message\":\"set upload_endpoint and upload_api_token first\"}}"]
--- no_error_log eval
["[error]", $main::TOKEN, "wrong-token-4567"]


=== TEST 4: the test upload through the global proxy, and a slow host past upload_timeout
--- config
    location /api/ { gemini_pool_admin; }
--- gp_setup
main::host(mode => 'slow', delay => 4,
           settings => { proxy => $main::TP->url, proxy_for => 'google,images' });
GeminiPool::setting('upload_timeout', 'int', '1');
--- more_headers
X-Admin-Token: imghost-admin-secret-0123456789
--- request eval
["POST /api/settings/upload-test\n{}",
 "PUT /api/settings\n{\"upload_timeout\":20}",
 "POST /api/settings/upload-test\n{}"]
--- error_code eval
[200, 200, 200]
--- response_body_filters eval
sub {
    return "saved" if $_[0] =~ /"settings"/;
    my $a = main::test_answer($_[0]);
    $a =~ s/"error":"proxy http:\/\/127\.0\.0\.1:\d+ failed: Operation timed out after \d+ milliseconds[^"]*"/"error":"TIMEOUT"/;
    $a =~ s/"error":"Operation timed out after \d+ milliseconds[^"]*"/"error":"TIMEOUT"/;
    my $via = main::fake('GET', '/__fake/uploads')->{uploads}[-1]{via} // '';
    return $a . ($via =~ /tinyproxy/ ? " via tinyproxy" : " direct");
}
--- response_body eval
["{\"elapsed_ms\":\"MS\",\"error\":\"TIMEOUT\",\"ok\":false,\"proxied\":true,\"status\":0} via tinyproxy",
 "saved",
 "{\"elapsed_ms\":\"MS\",\"ok\":true,\"proxied\":true,\"status\":200,\"url\":\"HOST png\"} via tinyproxy"]
--- no_error_log eval
["[error]", $main::TOKEN]
--- timeout: 30


=== TEST 5: the reference's configuration: upload_endpoint and upload_api_token imported, the token sealed
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: imghost-admin-secret-0123456789
--- request eval
["POST /api/config/import\n" . $main::J->encode({ accounts => [], upload_endpoint => "$main::IH/upload", upload_api_token => 'ref-token-abcdef' }),
 "GET /api/settings"]
--- error_code eval
[200, 200]
--- response_body_filters eval
sub {
    return "a token in the answer" if $_[0] =~ /ref-token-abcdef/;
    my $d = $main::J->decode($_[0]);
    return "format $d->{format}, settings $d->{imported}{settings}" if $d->{imported};
    return "endpoint " . ($d->{settings}{upload_endpoint}{value} eq "$main::IH/upload" ? 'ok' : 'wrong')
           . ", token set " . ($d->{settings}{upload_api_token}{set} ? 'yes' : 'no')
           . ", sealed " . (main::stored('upload_api_token') =~ /^enc:v1:/ ? 'yes' : 'no');
}
--- response_body eval
["format reference-json, settings 2", "endpoint ok, token set yes, sealed yes"]
--- no_error_log eval
["[error]", "ref-token-abcdef"]
--- timeout: 30
