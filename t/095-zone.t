# A full zone keeps the database and the zone in step: adding an account,
# the remote-sync receiver's placeholders and an import that would not fit
# are refused before anything is committed (507, naming gemini_pool_zone
# and the size it needs); the printed sizes are the real ones (a zone of
# the printed minimum starts, a zone of the size a refusal names takes the
# import); /health, a reload and a restart are fine afterwards; a full
# zone does not fill the error log with nginx's "ngx_slab_alloc() failed".

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes qw(sleep);
use GeminiPool ':plain';
use GeminiPool::Server;

my $SECRET = 'test-admin-secret-0123456789';
$ENV{ADMIN_SECRET_KEY} = $SECRET;

my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 30);

my $server = <<'END';
    client_max_body_size 50m;
    location /v1/ { gemini_pool_api; }
    location /api/ { gemini_pool_admin; }
    location = /health { gemini_pool_health; }
END

sub zone_conf {
    my ($size) = @_;
    my $c = GeminiPool::http_config();
    $c =~ s/gemini_pool_zone \S+;/gemini_pool_zone gp_small:$size;/
        or die "no gemini_pool_zone in the test configuration\n";
    return $c;
}

sub server {
    my ($name, $size) = @_;
    return GeminiPool::Server->new(name => $name, master => 1, workers => 2,
                                   gp_http => 0, http => zone_conf($size),
                                   server => $server);
}

my $srv;

sub req {
    my ($method, $path, $body) = @_;
    my $res = $http->request($method, $srv->url($path), {
        headers => {'X-Admin-Token' => $SECRET,
                    'Content-Type' => 'application/json'},
        (defined $body ? (content => ref $body ? $json->encode($body)
                                                : $body) : ()),
    });
    my $data = eval { $json->decode($res->{content}) };
    return ($res->{status}, $data, $res);
}

sub db_accounts { sql("SELECT count(*) FROM accounts") }

sub zone_accounts {
    my ($st, $d) = req('GET', '/api/accounts');
    return $d->{total};
}

my $cookie = 'c' x 1900;    # a long cookie: a page of the zone each

sub account {
    my ($i) = @_;
    return {name => "fill$i", team_id => "team-$i", csesidx => "$i",
            secure_c_ses => "$cookie$i", host_c_oses => 'h' x 300,
            user_agent => 'Mozilla/5.0 (X11; Linux x86_64) zone test',
            enabled => JSON::PP::false};
}

# 1. the printed minimum is the real one: nginx -t says it, and a zone of
#    exactly that size starts with the test's three accounts

{
    my $s = server('zone-min', '4k');
    ok(!eval { $s->start; 1 }, 'a zone of 4k does not start');
}
my ($min) = GeminiPool::slurp("$GeminiPool::ROOT/t/servroot-zone-min/logs/"
                              . "error.log")
    =~ /zone "gp_small:4k" is too small, at least (\d+)k/;
ok($min, "and the log says the minimum (${\($min // '?')}k)");

$srv = server('zone-min', "${min}k");
ok(eval { $srv->start; 1 }, "a zone of the printed minimum (${min}k) starts")
    or diag $@;
my ($st, $d) = req('GET', '/health');
is($st, 200, 'and is healthy');
$srv->stop if $srv->running;

# 2. a small zone: add accounts until it is full

$srv = server('zone-small', ($min + 160) . 'k');
$srv->start;

my $before = db_accounts();
my ($added, $refusal) = (0, undef);

for my $i (1 .. 400) {
    ($st, $d) = req('POST', '/api/accounts', account($i));
    if ($st != 201) {
        $refusal = [$st, $d];
        last;
    }
    $added++;
}

ok($added > 5, "accounts were added until the zone was full ($added)");
ok($refusal, 'then one was refused');
is($refusal->[0], 507, 'with 507 Insufficient Storage');
is($refusal->[1]{error}{code}, 'zone_full', 'code zone_full');
like($refusal->[1]{error}{message},
     qr/gemini_pool_zone "gp_small" \(\d+k\) has no room for \d+ accounts: (?x)
        raise \s it \s to \s at \s least \s (\d+)k/,
     'naming the directive and the size it needs');
like($refusal->[1]{error}{message}, qr/nothing was changed/,
     'and saying nothing was changed');

is(db_accounts(), $before + $added,
   'the refused account is not in the database');
is(zone_accounts(), db_accounts(), 'the zone and the database agree');

($st, $d) = req('GET', '/health');
is($st, 200, '/health: 200');
is($d->{database}, 'ok', 'the database is fine');
is($d->{accounts}{total}, db_accounts(), 'it counts every account');

# the remote-sync receiver: a position past the end appends placeholders

my $n = db_accounts();
($st, $d) = req('PUT', '/api/accounts/' . ($n + 60), account(999));
is($st, 507, 'the sync receiver\'s placeholders past the room: 507');
is($d->{error}{code}, 'zone_full', 'zone_full');
is(db_accounts(), $n, 'no placeholder was committed');
is(zone_accounts(), $n, 'the zone and the database agree');

# an import of 1,500 accounts: refused whole

my @many = map { my $a = account($_ + 10000); delete $a->{name}; $a }
           1 .. 1500;
($st, $d) = req('POST', '/api/config/import', {accounts => \@many});
is($st, 507, 'an import of 1,500 accounts: 507');
is($d->{error}{code}, 'zone_full', 'zone_full');
my ($needed) = ($d->{error}{message} // '')
    =~ /raise it to at least (\d+)k/;
ok($needed, "it names the size needed (${\($needed // '?')}k)");
is(db_accounts(), $n, 'not one account of it was committed');

# still consistent through a reload and a restart

# the new workers answer (the old ones, which were healthy too, leave)
my %old = map { $_ => 1 } @{ $srv->pids->{workers} };
kill 'HUP', $srv->pid;
ok(wait_for(10, sub { my ($s, $h) = req('GET', '/health');
                      (grep { !$old{$_} } @{ $srv->pids->{workers} })
                      && $s == 200 && $h->{accounts}{total} == $n }),
   'after a reload: healthy, every account');
unlike($srv->error_log_text, qr/\[emerg\]/, 'the reload logged no emerg');

$srv->stop;
ok(eval { $srv->start; 1 }, 'a restart starts') or diag $@;
is(zone_accounts(), $n, 'with every account');

unlike($srv->error_log_text, qr/ngx_slab_alloc\(\) failed/,
       'no "ngx_slab_alloc() failed" in the log');

# a full zone evicts conversation bindings quietly: new conversations
# until bindings are evicted

my ($chats, $ok, $evicted) = (0, 0, 0);
while ($chats < 3000 && !$evicted) {
    for (1 .. 50) {
        my $res = $http->post($srv->url('/v1/chat/completions'), {
            content => $json->encode({messages => [
                {role => 'user', content => "conversation $chats"}]}),
        });
        $chats++;
        $ok++ if $res->{status} == 200;
    }
    ($st, $d) = req('GET', '/health');
    $evicted = $d->{zone}{evictions};
}
ok($evicted, "the zone evicted bindings ($evicted after $chats "
             . "conversations)");
is($ok, $chats, 'every chat answered 200');
unlike($srv->error_log_text, qr/\[crit\]|ngx_slab_alloc\(\) failed/,
       'and no [crit] "ngx_slab_alloc() failed" in the log');

$srv->stop;

# 3. the size the refusal named takes the import

$srv = server('zone-big', "${needed}k");
$srv->start;
($st, $d) = req('POST', '/api/config/import', {accounts => \@many});
is($st, 200, "a zone of the size the refusal named (${needed}k) takes it")
    or diag explain $d;
is(zone_accounts(), db_accounts(), 'the zone and the database agree');
$srv->stop;
ok(eval { $srv->start; 1 }, 'and restarts with them') or diag $@;
is(zone_accounts(), db_accounts(), 'every account loaded');
$srv->stop;

done_testing();
