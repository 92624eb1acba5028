package GeminiPool::Valgrind;

# Plain suites' nginx under valgrind, as scripts/test --valgrind runs the
# Test::Nginx blocks: with TEST_NGINX_USE_VALGRIND set, wrap() makes
# GeminiPool::Server start nginx through valgrind (memcheck, definite
# leaks, the repository's valgrind.suppress), every process of it (the
# master, workers and helper follow the fork) writing its report to
# t/tmp/valgrind-<name>-<pid>.log; reports() is what they said ('' when
# nothing). $SLOW multiplies a suite's waits; options() are the
# GeminiPool::Server options a server needs under valgrind: a longer
# start-up, and master_process off (under valgrind the processes' titles
# do not show "worker process", which Server.pm waits for with a master;
# the single process plays the worker and the helper).
#
#   use GeminiPool::Valgrind;
#   GeminiPool::Valgrind::wrap('165');
#   $redis->gateway(name => 'a', GeminiPool::Valgrind::options());
#   is(GeminiPool::Valgrind::reports(), '', 'valgrind: nothing to report');

use strict;
use warnings;

use GeminiPool ();
use GeminiPool::Server;

our $ON = $ENV{TEST_NGINX_USE_VALGRIND} ? 1 : 0;
our $SLOW = $ON ? 6 : 1;

my $prefix;

sub wrap {
    my ($name) = @_;
    return unless $ON;

    my $dir = "$GeminiPool::ROOT/t/tmp";
    $prefix = "$dir/valgrind-$name-";
    unlink glob("$prefix*.log");

    my $script = "$dir/valgrind-nginx-$name";
    open my $fh, '>', $script or die "$script: $!";
    print $fh "#!/bin/sh\n"
        . "exec valgrind -q --leak-check=full --show-leak-kinds=definite"
        . " --errors-for-leak-kinds=definite --num-callers=30"
        . " --suppressions=$GeminiPool::ROOT/valgrind.suppress"
        . " --log-file=$prefix%p.log"
        . " $GeminiPool::Server::NGINX \"\$@\"\n";
    close $fh;
    chmod 0755, $script;

    $GeminiPool::Server::NGINX = $script;
}

sub options {
    return $ON ? (master => 0, startup_timeout => 60) : ();
}

sub reports {
    return '' unless $ON && $prefix;
    my $out = '';
    for my $f (sort glob("$prefix*.log")) {
        open my $fh, '<', $f or next;
        local $/;
        my $t = <$fh> // '';
        $out .= "$f:\n$t" if $t =~ /\S/;
    }
    return $out;
}

1;
