# Spare sessions across "nginx -s reload" (a master and two workers): an
# account loaded again with the same cookies keeps its spare, which the
# next new conversation uses; loaded again with other cookies (changed in
# the database) it forgets it.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes qw(sleep);
use GeminiPool ':plain';
use GeminiPool::Server;

my $http = HTTP::Tiny->new(timeout => 30);
my $json = JSON::PP->new->utf8;

my $server = <<'END';
    location /v1/ { gemini_pool_api; }
    location = /health { gemini_pool_health; }
    location = /metrics { gemini_pool_metrics; }
END

GeminiPool::mock_post('/__mock/reset');
GeminiPool::set_accounts(1);

my $srv = GeminiPool::Server->new(name => 'spares-reload', server => $server,
                                  master => 1, workers => 2);
$srv->start;

sub chat_new {
    my ($text) = @_;
    my $res = $http->post($srv->url('/v1/chat/completions'), {
        headers => { 'Content-Type' => 'application/json' },
        content => $json->encode({ messages => [{ role => 'user',
                                                  content => $text }] }) });
    return $res->{status};
}

sub spares { (pool_account($srv->health, 'acc1')->{spare_sessions}) // -1 }

sub dropped {
    my $m = $http->get($srv->url('/metrics'))->{content};
    return $m =~ /^gemini_pool_spare_sessions_total\{event="dropped"\} (\d+)$/m
           ? $1 : -1;
}

sub last_spare {
    my @made = grep { $_->{status} == 200 }
               @{ GeminiPool::mock_requests('createSession') };
    return $made[-1]{session};
}

sub session_of_turn {
    my ($text) = @_;
    my ($r) = grep { ($_->{query_text} // '') =~ /\Q$text\E/ }
              @{ GeminiPool::mock_requests('streamAssist') };
    return $r ? $r->{session} : '';
}

sub reload_and_wait {
    my $loads = $srv->health->{zone}{loads} // 0;
    my $helper = $srv->health->{helper}{pid};
    kill 'HUP', $srv->pid;
    return wait_for(10, sub {
        my $h = $srv->health;
        $h->{helper}{pid} && $h->{helper}{pid} != $helper });
}

is(chat_new('one'), 200, 'a first conversation: acc1 is in use');
ok(wait_for(10, sub { spares() == 1 }), 'and gets a spare session');
my $spare = last_spare();

ok(reload_and_wait(), 'a reload with the same cookies (a new helper)');
is(spares(), 1, 'the spare is kept');
is(dropped(), 0, 'none dropped');
is(chat_new('two'), 200, 'a new conversation');
is(session_of_turn('two'), $spare, 'in the spare made before the reload');

ok(wait_for(10, sub { spares() == 1 }), 'a new spare after it');
$spare = last_spare();

# new cookies in the database (sealed by the module's load), and at the
# mock
GeminiPool::mock_post('/__mock/accounts', { name => 'acc1',
                                           secure_c_ses => 'CSE.reloaded' });
GeminiPool::sql("UPDATE accounts SET secure_c_ses = 'CSE.reloaded' "
                . "WHERE name = 'acc1'");

ok(reload_and_wait(), 'a reload with other cookies');
ok(wait_for(5, sub { dropped() == 1 }), 'the spare is dropped');
ok(wait_for(10, sub { spares() == 1 && last_spare() ne $spare }),
   'a new one is made with the new cookies');
is(chat_new('three'), 200, 'a new conversation');
isnt(session_of_turn('three'), $spare, 'not in the dropped spare');
is(scalar(grep { $_->{session} eq $spare }
          @{ GeminiPool::mock_requests('streamAssist') }), 0,
   'which is never used');

unlike($srv->error_log_text, qr/\[(alert|emerg|crit)\]/, 'no alerts');
$srv->stop;

done_testing();
