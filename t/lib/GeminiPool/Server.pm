package GeminiPool::Server;

# An nginx with the gemini_pool module, for plain Test::More files that
# need control Test::Nginx lacks (several workers under load, RSS
# sampling, raw sockets, long-running transfers).
#
#   use lib 't/lib';
#   use Test::More;
#   use GeminiPool ':plain';          # the mock and the database
#   use GeminiPool::Server;
#
#   my $srv = GeminiPool::Server->new(
#       name    => 'stream',          # servroot: t/servroot-stream/
#       server  => 'location /v1/ { gemini_pool_api; }',
#       http    => '...',             # more http-level directives
#       master  => 1, workers => 2,   # master off (one process) by default
#       worker_connections => 4096, worker_rlimit_nofile => 10000,
#       listen  => 'backlog=4096',    # more parameters of the listen line
#       main    => '...',             # more main-level directives
#   );
#   (also: events => '...', log_level => 'info', grace => 10 (s, for stop),
#    gp_http => 0 to leave out GeminiPool::http_config(), port => N)
#   $srv->start;                      # dies (with the log tail) on failure;
#                                     # returns $srv
#   my $url = $srv->url('/v1/chat/completions');
#   my $p = $srv->pids;               # {master, workers => [..], helpers => [..],
#                                     #  all => [..]}; master off: workers => [pid]
#   my $kb = $srv->rss_kb;            # VmRSS sum over the workers, in kB
#   $srv->rss_kb('all');              # or 'master', 'helpers'
#   $srv->rss_kb(per => 1);           # {pid => kB}
#   GeminiPool::Server::vmrss_kb($pid);
#   $srv->error_log_text; $srv->access_log_text; $srv->running;
#   $srv->stop;                       # QUIT, KILL after a grace, reaped;
#                                     # returns the wait status
#
# nginx runs in the foreground ("daemon off") as our child, in its own
# process group, and is always reaped: daemonised nginx processes linger
# as zombies on these machines.  The configuration loads
# $GeminiPool::MODULE and carries the http-level gemini_pool_* directives
# of GeminiPool::http_config(), so the module talks to the mock GeminiPool
# started.  The port is TEST_NGINX_GP_SERVER_PORT, or the first free one
# of 19851-19859 (files run in parallel should set distinct ports).

use strict;
use warnings;

use File::Path qw(make_path remove_tree);
use HTTP::Tiny;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

use GeminiPool ();

our $NGINX = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';

my %LIVE;    # pid => server, so an early exit still stops them

sub new {
    my ($class, %o) = @_;

    my $self = bless {
        name                 => 'default',
        http                 => '',
        server               => '',
        main                 => '',
        events               => '',
        master               => 0,
        workers              => 2,
        worker_connections   => 1024,
        worker_rlimit_nofile => undef,
        log_level            => 'info',
        gp_http              => 1,
        port                 => undef,
        listen               => '',      # more listen parameters
        grace                => 10,
        startup_timeout      => 10,
        %o,
    }, $class;

    $self->{name} =~ /^[\w.-]+$/
        or die "GeminiPool::Server: bad name \"$self->{name}\"\n";

    $self->{root} = "$GeminiPool::ROOT/t/servroot-$self->{name}";

    return $self;
}

sub root      { $_[0]{root} }
sub port      { $_[0]{port} }
sub pid       { $_[0]{pid} }
sub conf_file { "$_[0]{root}/conf/nginx.conf" }
sub error_log { "$_[0]{root}/logs/error.log" }
sub access_log { "$_[0]{root}/logs/access.log" }

sub url {
    my ($self, $path) = @_;
    return "http://127.0.0.1:$self->{port}" . ($path // '/');
}

sub _port_free {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                  LocalPort => $port, Proto => 'tcp',
                                  Listen => 1, ReuseAddr => 1);
    return 0 unless $s;
    close $s;
    return 1;
}

sub _pick_port {
    my ($self) = @_;
    return $self->{port} if $self->{port};
    return $ENV{TEST_NGINX_GP_SERVER_PORT}
        if $ENV{TEST_NGINX_GP_SERVER_PORT};
    for my $p (19851 .. 19859) {
        return $p if _port_free($p);
    }
    die "GeminiPool::Server: no free port in 19851-19859\n";
}

sub config_text {
    my ($self) = @_;
    my $root = $self->{root};

    my $user = $> == 0 ? "user root;\n" : '';
    my $rlimit = defined $self->{worker_rlimit_nofile}
                 ? "worker_rlimit_nofile $self->{worker_rlimit_nofile};\n"
                 : '';
    my $master = $self->{master} ? 'on' : 'off';
    my $gp = $self->{gp_http} ? GeminiPool::http_config() : '';

    return <<"END";
# written by GeminiPool::Server for "$self->{name}"
daemon off;
master_process $master;
worker_processes $self->{workers};
$rlimit${user}error_log $root/logs/error.log $self->{log_level};
pid $root/logs/nginx.pid;
load_module $GeminiPool::MODULE;
$self->{main}

events {
    accept_mutex off;
    worker_connections $self->{worker_connections};
$self->{events}
}

http {
    access_log $root/logs/access.log;
    client_body_temp_path $root/client_body_temp;
    proxy_temp_path $root/proxy_temp;
    fastcgi_temp_path $root/fastcgi_temp;
    uwsgi_temp_path $root/uwsgi_temp;
    scgi_temp_path $root/scgi_temp;
    default_type text/plain;
    client_max_body_size 30m;

$gp
$self->{http}

    server {
        listen 127.0.0.1:$self->{port} $self->{listen};
        server_name localhost;

$self->{server}
    }
}
END
}

sub start {
    my ($self) = @_;

    die "GeminiPool::Server: $self->{name} is already running\n"
        if $self->{pid};

    $self->{port} = $self->_pick_port;

    my $root = $self->{root};
    if ($ENV{GP_KEEP}) {
        # the last start's logs, for the secrets gate
        require GeminiPool::Keep;
        GeminiPool::Keep::logs("$root/logs");
    }
    remove_tree($root);
    make_path("$root/conf", "$root/logs", "$root/html");

    open my $fh, '>', $self->conf_file or die $self->conf_file . ": $!";
    print $fh $self->config_text;
    close $fh;

    my @cmd = ($NGINX, '-p', "$root/", '-c', $self->conf_file,
               '-e', 'stderr');

    my $pid = fork;
    die "GeminiPool::Server: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        setpgrp(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>>', $self->error_log;
        exec { $cmd[0] } @cmd or POSIX::_exit(127);
    }

    $self->{pid} = $pid;
    $self->{owner} = $$;
    $LIVE{$pid} = $self;

    my $deadline = time + $self->{startup_timeout};

    while (1) {
        if (waitpid($pid, WNOHANG) == $pid) {
            my $st = $?;
            delete $LIVE{$pid};
            $self->{pid} = undef;
            die "GeminiPool::Server: nginx exited during start-up "
                . "(status $st):\n" . $self->_log_tail;
        }

        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $self->{port},
                                      Proto => 'tcp', Timeout => 1);
        if ($s) {
            close $s;
            # with a master, wait for the workers too
            last unless $self->{master};
            last if @{ $self->pids->{workers} } >= $self->{workers};
        }

        if (time > $deadline) {
            $self->stop;
            die "GeminiPool::Server: nginx did not come up on port "
                . "$self->{port}:\n" . $self->_log_tail;
        }

        sleep 0.02;
    }

    return $self;
}

sub running {
    my ($self) = @_;
    return 0 unless $self->{pid};
    return waitpid($self->{pid}, WNOHANG) == 0 ? 1 : 0;
}

# QUIT (graceful), KILL to the process group after the grace period;
# always reaped.  Returns the wait status of the nginx we started.
sub stop {
    my ($self, $grace) = @_;
    my $pid = $self->{pid} or return undef;

    $grace //= $self->{grace};

    my $status;
    my $reap = sub {
        return 1 if defined $status;
        my $r = waitpid($pid, WNOHANG);
        if ($r == $pid || $r == -1) { $status = $r == -1 ? -1 : $?; return 1 }
        return 0;
    };

    unless ($reap->()) {
        kill 'QUIT', $pid;
        my $deadline = time + $grace;
        sleep 0.02 while !$reap->() && time < $deadline;

        unless ($reap->()) {
            warn "GeminiPool::Server: nginx $pid did not quit within "
                 . "${grace}s: SIGKILL\n";
            $self->{killed} = 1;
            kill 'KILL', -$pid;
            waitpid($pid, 0);
            $status = $? unless defined $status;
        }
    }

    # leftovers of the group (workers of a killed master)
    if (kill 0, -$pid) {
        for (1 .. 100) { last unless kill 0, -$pid; sleep 0.02 }
        kill 'KILL', -$pid if kill 0, -$pid;
    }

    delete $LIVE{$pid};
    $self->{pid} = undef;
    $self->{status} = $status;
    return $status;
}

# {master => pid|undef, workers => [..], helpers => [..], all => [..]}.
# With master off, the one process is the only "worker".
sub pids {
    my ($self) = @_;
    my $pid = $self->{pid};
    my %p = (master => undef, workers => [], helpers => [], all => []);

    return \%p unless $pid;

    unless ($self->{master}) {
        $p{workers} = [$pid];
        $p{all} = [$pid];
        return \%p;
    }

    $p{master} = $pid;
    push @{ $p{all} }, $pid;

    open my $ps, '-|', 'ps', '--ppid', $pid, '-o', 'pid=,args='
        or die "ps: $!";
    while (my $line = <$ps>) {
        next unless $line =~ /^\s*(\d+)\s+(.*)$/;
        my ($child, $args) = ($1, $2);
        if ($args =~ /worker process/) {
            push @{ $p{workers} }, $child;
        } elsif ($args =~ /cache manager|cache loader|helper/) {
            push @{ $p{helpers} }, $child;
        } else {
            next;
        }
        push @{ $p{all} }, $child;
    }
    close $ps;

    return \%p;
}

# VmRSS of one process in kB (0 if it is gone)
sub vmrss_kb {
    my ($pid) = @_;
    open my $fh, "<", "/proc/$pid/status" or return 0;
    while (my $line = <$fh>) {
        return $1 if $line =~ /^VmRSS:\s+(\d+)\s+kB/;
    }
    return 0;
}

# $srv->rss_kb                 sum over the serving processes (workers)
# $srv->rss_kb('all')          master, workers and helper
# $srv->rss_kb('master'|'helpers')
# $srv->rss_kb(per => 1 [, which => ...])   {pid => kB}
sub rss_kb {
    my $self = shift;
    my %o = @_ == 1 ? (which => $_[0]) : @_;
    my $which = $o{which} // 'workers';

    my $p = $self->pids;
    my @pids = $which eq 'master' ? grep { defined } $p->{master}
             : ref $p->{$which} ? @{ $p->{$which} }
             : die "GeminiPool::Server::rss_kb: unknown \"$which\"\n";

    my %each = map { $_ => vmrss_kb($_) } @pids;

    return \%each if $o{per};

    my $sum = 0;
    $sum += $_ for values %each;
    return $sum;
}

sub _slurp {
    my ($f) = @_;
    open my $fh, '<', $f or return '';
    local $/;
    my $t = <$fh>;
    return $t // '';
}

# GET /health?detail=1, decoded ({} when the answer is not JSON)
sub health {
    my ($self) = @_;
    my $res = HTTP::Tiny->new(timeout => 10)
              ->get($self->url('/health?detail=1'));
    return eval { $GeminiPool::JSON->decode($res->{content}) } || {};
}

sub error_log_text  { _slurp($_[0]->error_log) }
sub access_log_text { _slurp($_[0]->access_log) }

sub _log_tail {
    my ($self) = @_;
    my @l = split /\n/, $self->error_log_text;
    @l = @l[-20 .. -1] if @l > 20;
    return join '', map { "    $_\n" } @l;
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $!, $@);
    $self->stop(2) if $self->{pid} && $self->{owner} == $$;
}

END {
    local $?;
    $_->{owner} == $$ && $_->stop(2) for values %LIVE;
}

1;
