# A database locked by another process (the account command, a backup, an
# operator's sqlite3 holding BEGIN IMMEDIATE or EXCLUSIVE) stalls nothing:
# a streamed chat on the same worker keeps flowing while an admin write
# meets the lock and is answered 503 with Retry-After at once; a chat
# naming an upload, GET /v1/files and GET /v1/files/{id} answer from the
# zone; an upload made meanwhile is kept in the zone and written by the
# helper once the lock is gone, as is the call log of every chat.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use IPC::Open2;
use File::Temp qw(tempfile);
use MIME::Base64 qw(decode_base64);
use Time::HiRes qw(time sleep);
use POSIX ();
use GeminiPool ':plain';
use GeminiPool::Server;

my $SECRET = 'test-admin-secret-0123456789';
$ENV{ADMIN_SECRET_KEY} = $SECRET;

my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 20);

my $PNG = decode_base64('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlE'
                        . 'QVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==');

# one worker: every request below runs in the same process
my $srv = GeminiPool::Server->new(
    name => 'dblock', master => 1, workers => 1,
    server => <<'END');
    location /v1/ { gemini_pool_api; }
    location /api/ { gemini_pool_admin; }
    location = /health { gemini_pool_health; }
END
$srv->start;

mock_post('/__mock/reset');

sub req {
    my ($method, $path, $body, %h) = @_;
    my $t0 = time;
    my $res = $http->request($method, $srv->url($path), {
        headers => {%h},
        (defined $body ? (content => $body) : ()),
    });
    my $data = eval { $json->decode($res->{content}) };
    return ($res->{status}, $data, $res, time - $t0);
}

sub admin {
    my ($method, $path, $body) = @_;
    return req($method, $path, defined $body ? $json->encode($body) : undef,
               'X-Admin-Token' => $SECRET,
               'Content-Type' => 'application/json');
}

sub upload {
    my ($name) = @_;
    my $b = 'gp-test-' . int(rand(1e9));
    my $body = "--$b\r\nContent-Disposition: form-data; name=\"purpose\""
        . "\r\n\r\nvision\r\n--$b\r\nContent-Disposition: form-data; "
        . "name=\"file\"; filename=\"$name\"\r\nContent-Type: image/png"
        . "\r\n\r\n$PNG\r\n--$b--\r\n";
    return req('POST', '/v1/files', $body,
               'Content-Type' => "multipart/form-data; boundary=$b");
}

sub chat_with_file {
    my ($id) = @_;
    return req('POST', '/v1/chat/completions', $json->encode({messages => [
        {role => 'user', content => [{type => 'text', text => 'describe'},
                                     {type => 'file',
                                      file => {file_id => $id}}]}]}),
        'Content-Type' => 'application/json');
}

# another process holds a lock until release(): sqlite3's own CLI
sub lock_db {
    my ($how) = @_;
    my $pid = open2(my $out, my $in, 'sqlite3', '-batch',
                    $ENV{TEST_NGINX_GP_DB});
    print $in ".timeout 5000\nBEGIN $how;\n"
        . "INSERT INTO settings (key, type, value) VALUES "
        . "('lock_probe', 'string', 'x') ON CONFLICT (key) DO UPDATE "
        . "SET value = 'y';\nSELECT 'locked';\n";
    $in->flush;
    my $line = <$out>;
    return {pid => $pid, in => $in, out => $out,
            ok => defined $line && $line =~ /locked/};
}

sub release {
    my ($l) = @_;
    my $in = $l->{in};
    print $in "ROLLBACK;\n.quit\n";
    close $in;
    waitpid($l->{pid}, 0);
}

# a streamed chat of about 2 s (20 elements 100 ms apart): the arrival
# times of its pieces
sub stream_times {
    my @t;
    my $res = $http->request('POST', $srv->url('/v1/chat/completions'), {
        headers => {'Content-Type' => 'application/json'},
        content => $json->encode({stream => JSON::PP::true, messages => [
            {role => 'user',
             content => 'go MOCK:text MOCK:gap=100 MOCK:long=20000'}]}),
        data_callback => sub { push @t, time; },
    });
    return ($res->{status}, \@t);
}

sub max_gap {
    my ($t) = @_;
    my $max = 0;
    for my $i (1 .. $#$t) {
        my $g = $t->[$i] - $t->[$i - 1];
        $max = $g if $g > $max;
    }
    return $max;
}

# an admin write in a child, while the parent reads a stream
sub admin_in_child {
    my ($delay, $method, $path, $body) = @_;
    my ($fh, $file) = tempfile();
    close $fh;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        sleep $delay;
        my ($st, $d, $res, $secs) = admin($method, $path, $body);
        open my $o, '>', $file or POSIX::_exit(1);
        print $o $json->encode({status => $st, secs => $secs,
                                retry => $res->{headers}{'retry-after'},
                                code => $d && $d->{error}
                                        ? $d->{error}{code} : undef});
        close $o;
        POSIX::_exit(0);
    }
    return sub {
        waitpid($pid, 0);
        my $r = $json->decode(GeminiPool::slurp($file));
        unlink $file;
        return $r;
    };
}

my ($st, $d, $res, $secs);

($st, $d) = upload('before.png');
is($st, 200, 'an upload before the lock');
my $fa = $d->{id};

my $calls = sql("SELECT count(*) FROM call_logs");

# 1. BEGIN IMMEDIATE: another process holds the write lock

my $lock = lock_db('IMMEDIATE');
ok($lock->{ok}, 'sqlite3 holds BEGIN IMMEDIATE');

my $child = admin_in_child(0.5, 'POST', '/api/keys', {name => 'during lock'});
my ($sst, $times) = stream_times();
my $r = $child->();

is($sst, 200, 'a streamed chat while an admin write meets the lock: 200');
cmp_ok(scalar @$times, '>=', 10, 'it came in many pieces');
cmp_ok(max_gap($times), '<', 1.0,
       'and kept flowing: no pause of a second or more');

is($r->{status}, 503, 'the admin write meets the lock: 503');
is($r->{code}, 'database_busy', 'with a JSON error "database_busy"');
is($r->{retry}, 1, 'and Retry-After: 1');
cmp_ok($r->{secs}, '<', 1.0, 'answered at once, not after a busy timeout');

($st, $d, $res, $secs) = admin('PUT', '/api/settings',
                               {history_enabled => JSON::PP::true});
is($st, 503, 'a settings write meets it too: 503');
cmp_ok($secs, '<', 1.0, 'at once');

($st, $d) = chat_with_file($fa);
is($st, 200, 'a chat naming an upload made before the lock: 200');
like($d->{choices}[0]{message}{content} // '', qr/\[attached: image\/png/,
     'the file is attached');

($st, $d, $res, $secs) = req('GET', '/v1/files');
is($st, 200, 'GET /v1/files: 200');
is_deeply([map { $_->{id} } @{$d->{data} || []}], [$fa],
          'it lists the upload');
cmp_ok($secs, '<', 1.0, 'at once');

($st, $d) = req('GET', "/v1/files/$fa");
is($st, 200, 'GET /v1/files/{id}: 200');
is($d->{filename}, 'before.png', 'its name');

($st, $d, $res, $secs) = upload('during.png');
is($st, 200, 'an upload while the database is locked: 200');
my $fb = $d->{id};
cmp_ok($secs, '<', 1.5, 'without waiting for the lock');

($st, $d) = chat_with_file($fb);
is($st, 200, 'a chat naming it: 200');
like($d->{choices}[0]{message}{content} // '', qr/\[attached: image\/png/,
     'the file is attached');

($st, $d) = req('GET', '/v1/files');
is_deeply([map { $_->{id} } @{$d->{data} || []}], [$fb, $fa],
          'GET /v1/files lists both, newest first');
($st, $d) = req('GET', "/v1/files/$fb");
is($st, 200, 'GET /v1/files/{id} of the pending upload: 200');
is($d->{filename}, 'during.png', 'with its name');

is(sql("SELECT count(*) FROM files WHERE id = '$fb'"), 0,
   'its row is not written while the lock is held');

sleep 1.5;    # helper ticks meet the lock

release($lock);

ok(wait_for(5, sub { sql("SELECT count(*) FROM files WHERE id = '$fb'") }),
   'after the lock: the helper writes the upload\'s row');
is(sql("SELECT filename || ' ' || purpose || ' ' || bytes || ' ' "
       . "|| length(sha256) FROM files WHERE id = '$fb'"),
   'during.png vision 70 64', 'with every column');
# the stream and two chats with files
ok(wait_for(5, sub { sql("SELECT count(*) FROM call_logs") >= $calls + 3 }),
   'and the call log of every chat made under the lock');

($st, $d) = req('GET', '/v1/files');
is_deeply([map { $_->{id} } @{$d->{data} || []}], [$fb, $fa],
          'listed once each afterwards');

($st) = admin('POST', '/api/keys', {name => 'after lock'});
is($st, 201, 'an admin write after the lock: 201');

like($srv->error_log_text, qr/the database is locked by another process/,
     'the lock is logged');

# 2. BEGIN EXCLUSIVE: readers are locked out too

# a console session made before the lock
my ($lst, undef, $lres) = req('POST', '/api/auth/login',
                              $json->encode({secret => $SECRET}),
                              'Content-Type' => 'application/json');
is($lst, 200, 'a console login before the lock');
my ($cookie) = (($lres->{headers}{'set-cookie'} // '') =~ /(gp_admin=[^;]+)/);
ok($cookie, 'its session cookie');

$lock = lock_db('EXCLUSIVE');
ok($lock->{ok}, 'sqlite3 holds BEGIN EXCLUSIVE');

($st, $d, $res, $secs) = req('GET', '/v1/files');
is($st, 200, 'GET /v1/files: 200 from the zone');
is_deeply([map { $_->{id} } @{$d->{data} || []}], [$fb, $fa],
          'the uploads in the zone');
cmp_ok($secs, '<', 1.0, 'at once');

($st, $d) = req('GET', "/v1/files/$fa");
is($st, 200, 'GET /v1/files/{id}: 200 from the zone');
is($d->{bytes}, 70, 'its size');

($st, $d, $res) = req('GET', '/v1/files/file-000000000000000000000000');
is($st, 503, 'a file the zone does not know: 503 (the database cannot say)');
is($res->{headers}{'retry-after'}, 1, 'with Retry-After');

($st, $d, $res) = req('DELETE', "/v1/files/$fa");
is($st, 503, 'DELETE /v1/files/{id}: 503');
is($d->{error}{code}, 'database_busy', 'database_busy');
is($res->{headers}{'retry-after'}, 1, 'Retry-After: 1');

($st, $d) = upload('exclusive.png');
is($st, 200, 'an upload under the exclusive lock: 200');
my $fc = $d->{id};

($st, $d, $res, $secs) = admin('GET', '/api/keys');
is($st, 503, 'an admin read: 503');
cmp_ok($secs, '<', 1.0, 'at once');

# the session cannot be looked up: 503, not "the session has ended" (a
# 401 made the console log out while the database was busy)
($st, $d, $res) = req('GET', '/api/keys', undef, Cookie => $cookie);
is($st, 503, 'a read with the session cookie: 503, not 401');
is($d->{error}{code}, 'database_busy', 'database_busy');
is($res->{headers}{'retry-after'}, 1, 'Retry-After: 1');

($st) = stream_times();
is($st, 200, 'a streamed chat: 200');

release($lock);

($st) = req('GET', '/api/keys', undef, Cookie => $cookie);
is($st, 200, 'the session lives on after the lock');

ok(wait_for(5, sub { sql("SELECT count(*) FROM files WHERE id = '$fc'") }),
   'the upload is written after the exclusive lock');

($st, $d) = req('DELETE', "/v1/files/$fa");
is($st, 200, 'DELETE after the lock: 200');
($st, $d) = req('GET', '/v1/files');
is_deeply([map { $_->{id} } @{$d->{data} || []}], [$fc, $fb],
          'the list follows');

# 3. a lock of a moment (as the helper's commit takes): the request
#    tries again on a timer and gets SQLite's exact answer, not the zone's

$lock = lock_db('EXCLUSIVE');
ok($lock->{ok}, 'sqlite3 holds BEGIN EXCLUSIVE');
my ($fh, $file) = tempfile();
close $fh;
my $pid = fork;
die "fork: $!" unless defined $pid;
if ($pid == 0) {
    my ($s) = req('GET', '/v1/files/file-000000000000000000000000');
    open my $o, '>', $file or POSIX::_exit(1);
    print $o $s;
    close $o;
    POSIX::_exit(0);
}
sleep 0.1;
release($lock);
waitpid($pid, 0);
is(GeminiPool::slurp($file), 404,
   'a file nobody has, while a lock of 0.1 s is held: 404 after it');
unlink $file;

$srv->stop;
ok(!$srv->running, 'nginx stopped');

done_testing();
