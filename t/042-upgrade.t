# Installing another build of the module takes a restart: a reload keeps
# running the build nginx loaded first (dlopen() hands back the loaded copy
# for the same path, and a copy at another path has its symbols bound to the
# first one), with the pool's state in the zone; a restart runs the new one.
# The second build is this source with NGX_GP_MAX_MODELS = 65 (the zone's
# layout differs), made by scripts/build in build-layout/ (incremental after
# the first time); 65 models in the database tell the builds apart: the
# first loads 64 and logs that the rest are ignored.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes qw(sleep time);
use GeminiPool ':plain';
use GeminiPool::Server;

my $http = HTTP::Tiny->new(timeout => 10);
my $json = JSON::PP->new->utf8;

my $other = "$GeminiPool::ROOT/build-layout/ngx_http_gemini_pool_module.so";

system("$GeminiPool::ROOT/scripts/build", '--builddir',
       "$GeminiPool::ROOT/build-layout", '--cc-opt',
       '-DNGX_GP_MAX_MODELS=65') == 0
    or BAIL_OUT('cannot build the second module');
ok(-f $other, 'a second build with another zone layout');

sub chat_req {
    my ($srv, $text) = @_;
    my $res = $http->post($srv->url('/v1/chat/completions'), {
        content => $json->encode({messages => [{role => 'user',
                                                content => $text}]}),
    });
    return ($res->{status}, $res->{content});
}

sub use_module {
    my ($srv, $so) = @_;
    my $conf = GeminiPool::slurp($srv->conf_file);
    $conf =~ s/^load_module .*;$/load_module $so;/m or die 'no load_module';
    open my $fh, '>', $srv->conf_file or die $!;
    print $fh $conf;
    close $fh;
}

GeminiPool::set_accounts(2);

my $have = GeminiPool::sql('SELECT count(*) FROM models WHERE enabled');
for my $i (1 .. 65 - $have) {
    GeminiPool::sql("INSERT INTO models (name, model_id, position) "
                    . "VALUES ('extra-$i', 'extra-$i', 100 + $i)");
}
is(GeminiPool::sql('SELECT count(*) FROM models WHERE enabled'), 65,
   '65 models in the database');

sub models {
    my ($srv) = @_;
    my $res = $http->get($srv->url('/v1/models'));
    my $m = eval { $json->decode($res->{content}) } || {};
    return scalar @{$m->{data} || []};
}

sub ignored {
    my ($srv) = @_;
    my @n = $srv->error_log_text =~ /more than 64 models, the rest are ignored/g;
    return scalar @n;
}

my $server = <<'END';
    location /v1/ { gemini_pool_api; }
    location = /health { gemini_pool_health; }
END

my $srv = GeminiPool::Server->new(name => 'upgrade', server => $server,
                                  master => 1, workers => 2);
$srv->start;

my ($st, $body) = chat_req($srv, 'before');
is($st, 200, 'the first build serves a chat');
is(models($srv), 64, 'it holds 64 models');
my $ignored = ignored($srv);
ok($ignored, 'and logs that the rest are ignored');

# some state in the zone: a cooldown after a 429 (round robin brings
# acc1 within two requests)
sub cooldown {
    my ($srv) = @_;
    my ($a) = grep { $_->{name} eq 'acc1' } @{$srv->health->{pool} || []};
    return ($a && $a->{cooldown_until}{text}) || 0;
}

GeminiPool::mock_post('/__mock/inject', {account => 'acc1',
    endpoint => 'streamAssist',
    action => {status => 429, body => 'daily quota exceeded'}});
my $ok = 0;
for my $i (1 .. 2) {
    ($st) = chat_req($srv, "cool acc1 $i");
    $ok++ if $st == 200;
}
is($ok, 2, 'requests fail over from the 429');

my $cool = cooldown($srv);
ok($cool > time + 60, 'acc1 cools down');

# a reload onto the other build's file

my $workers = join ',', sort @{$srv->pids->{workers}};

use_module($srv, $other);
kill 'HUP', $srv->pid;

my $new = wait_for(10, sub {
    my $w = join ',', sort @{$srv->pids->{workers}};
    $w ne $workers && @{$srv->pids->{workers}} == 2 ? $w : undef });
ok($new, 'the reload replaced the workers');
cmp_ok(ignored($srv), '>', $ignored, 'the reload loaded the models again '
       . 'with the first build (64, the rest ignored)');
is(models($srv), 64, 'the new workers hold 64 models: the first build runs');
is(cooldown($srv), $cool, 'the zone kept its state');
($st, $body) = chat_req($srv, 'after the reload');
is($st, 200, 'chats are served');
like($body, qr/echo: after the reload/, 'with the answer');
unlike($srv->error_log_text, qr/\[(alert|crit|emerg)\]|exited on signal/,
       'no process crashed and nothing was refused');

# a restart runs the new build

$srv->stop;
ok(!$srv->running, 'nginx stopped');

{
    local $GeminiPool::MODULE = $other;
    $srv = GeminiPool::Server->new(name => 'upgrade', server => $server,
                                   master => 1, workers => 2);
    $srv->start;
}

is(models($srv), 65, 'after a restart the second build holds 65 models');
is(ignored($srv), 0, 'and ignores none');
($st, $body) = chat_req($srv, 'on the new build');
is($st, 200, 'it serves chats');
like($body, qr/echo: on the new build/, 'with the answer');

$srv->stop;

done_testing();
