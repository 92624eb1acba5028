# A full disk under the media cache and the database (issue #14's matrix,
# docs/reliability.md): both live on a small tmpfs that is then filled.
# An image turn still answers, with the image's note "could not be
# retrieved: cannot write into the media cache"; a text turn still
# answers; the history and call log rows the disk cannot take are lost
# with an error line, never a crashed worker; once space is back, media
# and history work again without a restart.  Needs root for the tmpfs
# (skipped otherwise).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use File::Copy qw(copy);
use Time::HiRes qw(sleep);
use GeminiPool ':plain';
use GeminiPool::Server;

my $mnt = "$GeminiPool::ROOT/t/tmp/full-disk";
mkdir $mnt;
system('umount', $mnt) if `grep -c " $mnt " /proc/mounts` > 0;

plan skip_all => 'needs root for mount -t tmpfs' if $> != 0;
plan skip_all => 'mount -t tmpfs failed (a container without the right)'
    if system('mount', '-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', $mnt) != 0;

my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 15);

# the database, its key and admin secret on the small disk
my $db = "$mnt/gp.db";
GeminiPool::sql('PRAGMA wal_checkpoint(TRUNCATE)');
for my $ext ('', '.key', '.admin-secret') {
    copy("$GeminiPool::DB$ext", "$db$ext") or die "copy $ext: $!";
}
chmod 0600, "$db.key", "$db.admin-secret";

sub dbsql {
    my ($stmt) = @_;
    my $out = `sqlite3 -batch -cmd '.timeout 5000' '$db' "$stmt"`;
    $out =~ s/\s+\z//;
    return $out;
}

dbsql("INSERT OR REPLACE INTO settings (key, type, value) "
      . "VALUES ('history_enabled', 'bool', 'true')");

my $port = GeminiPool::mock_port();
my $srv = GeminiPool::Server->new(
    name => 'full-disk', gp_http => 0,
    http => <<"END",
    gemini_pool_zone gemini_pool:4m;
    gemini_pool_database $db;
    gemini_pool_auth_url http://127.0.0.1:$port;
    gemini_pool_api_url http://127.0.0.1:$port;
    gemini_pool_helper_interval 200ms;
    gemini_pool_api_keys off;
    gemini_pool_media_cache $mnt/media;
END
    server => <<'END');
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
END
$srv->start;

sub disk_chat {
    my ($model, $text) = @_;
    my $res = $http->post($srv->url('/v1/chat/completions'), {
        headers => { 'Content-Type' => 'application/json' },
        content => $json->encode({model => $model,
                                  messages => [{role => 'user',
                                                content => $text}]}),
    });
    my $d = eval { $json->decode($res->{content}) } || {};
    return ($res->{status}, $d->{choices}[0]{message}{content} // '');
}

sub image_links {
    my ($text) = @_;
    return $text =~ m{https?://[^\s)"\]]+(/image/[0-9a-f]+\.[a-z0-9]+)}g;
}

sub fetch { $http->get($srv->url($_[0])) }

sub history_has {
    my ($text) = @_;
    return dbsql("SELECT count(*) FROM call_logs WHERE prompt LIKE "
                 . "'%$text%'") > 0;
}

# with room: an image is cached and served, the turn is recorded

my ($st, $c) = disk_chat('gemini-image', 'a cat with room');
is($st, 200, 'with room: the image turn answers');
my @l = image_links($c);
ok(@l && fetch($l[0])->{status} == 200, 'and its image is served')
    or diag $c;
ok(GeminiPool::wait_for(5, sub { history_has('a cat with room') }),
   'and the turn is in the history');

# fill the disk

my $filler = "$mnt/filler";
system("dd if=/dev/zero of='$filler' bs=4k 2>/dev/null");
my $free = `df -k --output=avail '$mnt' | tail -1` + 0;
is($free, 0, 'the disk is full');

($st, $c) = disk_chat('gemini-image', 'a cat on a full disk');
is($st, 200, 'full: the image turn still answers');
like($c, qr/\(image 1 could not be retrieved: cannot write into the media cache\)/,
     'and says the image could not be kept');
like($srv->error_log_text, qr/gemini pool: cannot write "[^"]*\/media\//,
     'the error log names the file it could not write');

($st, $c) = disk_chat('gemini-auto', 'text on a full disk');
is($st, 200, 'full: a text turn answers');
like($c, qr/echo: text on a full disk/, 'with its answer');

# the helper tries to write the history rows: an error line, no crash
ok(GeminiPool::wait_for(8, sub {
       $srv->error_log_text =~ /database or disk is full|SQLITE_FULL|disk I\/O error/i
   }), 'the rows the disk cannot take are an error line')
    or diag $srv->error_log_text;

my @bad = grep { /\[alert\]|\[emerg\]|exited on signal/ }
          split /\n/, $srv->error_log_text;
ok(!@bad, 'no worker died, nothing worse than an error') or diag @bad;
ok($srv->running, 'nginx runs');

# space again: media and history work without a restart

unlink $filler;

($st, $c) = disk_chat('gemini-image', 'a cat with room again');
is($st, 200, 'room again: the image turn answers');
@l = image_links($c);
ok(@l && fetch($l[0])->{status} == 200, 'and its image is served again')
    or diag $c;
ok(GeminiPool::wait_for(10, sub { history_has('a cat with room again') }),
   'and the history records turns again');
is(dbsql('PRAGMA integrity_check'), 'ok', 'the database is intact');

$srv->stop;
system('umount', $mnt);

done_testing();
