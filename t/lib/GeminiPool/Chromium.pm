package GeminiPool::Chromium;

# Debian's real Chromium, headless, driven over the DevTools protocol on
# --remote-debugging-pipe (fd 3: commands to the browser, fd 4: its
# answers and events; each message is JSON ended by a NUL byte).  No
# WebSocket, no npm package: enough of a CDP client for the console
# suite.
#
#   my $b = GeminiPool::Chromium->new;        # undef + $@ if unavailable
#   $b->goto('http://127.0.0.1:8000/admin/');  # waits for "load"
#   my $v = $b->eval('document.title');       # returnByValue; dies on a
#                                             # JavaScript exception
#   $b->wait_for('!!document.querySelector("#x")', 10) or fail(...);
#   $b->call('Emulation.setEmulatedMedia', {...});   # on the page
#   $b->set_files('input[type=file]', '/path/to/file');
#   $b->events('Runtime.consoleAPICalled');   # and forget them
#   $b->quit;
#
# The browser runs with a fresh --user-data-dir in its own process group
# and is killed (the group) by quit, DESTROY and END.

use strict;
use warnings;

use Fcntl qw(F_DUPFD);
use File::Temp qw(tempdir);
use IO::Select;
use JSON::PP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

our @FLAGS = qw(--headless --no-sandbox --disable-gpu
                --disable-background-networking --disable-component-update
                --disable-sync --no-first-run --disable-quic
                --remote-debugging-pipe --no-default-browser-check
                --disable-dev-shm-usage --mute-audio --hide-scrollbars);

my %LIVE;

sub find_binary {
    return $ENV{TEST_CHROMIUM} if $ENV{TEST_CHROMIUM};
    for my $p (qw(/usr/bin/chromium /usr/bin/chromium-browser
                  /usr/lib/chromium/chromium))
    {
        return $p if -x $p;
    }
    return undef;
}

sub new {
    my ($class, %o) = @_;

    my $bin = $o{binary} // find_binary();
    unless ($bin) {
        $@ = "chromium is not installed (apt-get install chromium)";
        return undef;
    }

    my $self = bless {
        json    => JSON::PP->new->utf8->canonical->allow_nonref,
        id      => 0,
        buf     => '',
        events  => [],
        timeout => $o{timeout} // 30,
        owner   => $$,
        dir     => tempdir('gp-chromium-XXXXXX', TMPDIR => 1,
                           CLEANUP => 1),
    }, $class;

    pipe(my $cmd_r, my $cmd_w) or die "pipe: $!";
    pipe(my $ev_r, my $ev_w) or die "pipe: $!";

    my @cmd = ($bin, @FLAGS, "--user-data-dir=$self->{dir}",
               '--lang=' . ($o{lang} // 'en-US'),
               '--window-size=1280,900', @{ $o{args} // [] },
               'about:blank');

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        setpgrp(0, 0);
        close $cmd_w;
        close $ev_r;
        # the browser reads fd 3 and writes fd 4
        # (through descriptors above 20, so that neither end is
        # overwritten when it already sits on 3 or 4)
        my $r = fcntl($cmd_r, F_DUPFD, 20) or POSIX::_exit(126);
        my $w = fcntl($ev_w, F_DUPFD, 21) or POSIX::_exit(126);
        POSIX::dup2($r, 3) or POSIX::_exit(126);
        POSIX::dup2($w, 4) or POSIX::_exit(126);
        POSIX::close($_) for $r, $w;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', "$self->{dir}.log";
        $ENV{LANGUAGE} = $o{lang} // 'en-US';
        exec { $cmd[0] } @cmd or POSIX::_exit(127);
    }

    close $cmd_r;
    close $ev_w;
    binmode $cmd_w;
    binmode $ev_r;
    $cmd_w->autoflush(1);

    $self->{pid} = $pid;
    $self->{w} = $cmd_w;
    $self->{r} = $ev_r;
    $self->{sel} = IO::Select->new($ev_r);
    $LIVE{$pid} = $self;

    # the first page target; attach to it with a flat session
    my $t = eval { $self->send('Target.getTargets') };
    unless ($t) {
        my $err = $@;
        $self->quit;
        $@ = "chromium did not answer on the DevTools pipe: $err";
        return undef;
    }

    my ($page) = grep { $_->{type} eq 'page' } @{ $t->{targetInfos} };
    $page //= { targetId => $self->send('Target.createTarget',
                                        { url => 'about:blank' })
                                 ->{targetId} };

    $self->{session} = $self->send('Target.attachToTarget',
                                   { targetId => $page->{targetId},
                                     flatten => JSON::PP::true })
                           ->{sessionId};

    $self->call($_) for qw(Page.enable Runtime.enable);

    return $self;
}

sub _read_message {
    my ($self, $deadline) = @_;

    while (1) {
        my $i = index($self->{buf}, "\0");
        if ($i >= 0) {
            my $raw = substr($self->{buf}, 0, $i);
            substr($self->{buf}, 0, $i + 1) = '';
            return $self->{json}->decode($raw);
        }

        my $left = $deadline - time;
        die "chromium: timed out waiting for the browser\n" if $left <= 0;

        next unless $self->{sel}->can_read($left);

        my $n = sysread($self->{r}, my $chunk, 1 << 16);
        die "chromium: the DevTools pipe closed (browser gone)\n"
            unless $n;
        $self->{buf} .= $chunk;
    }
}

# one command to the browser (no session) or to the page (session)
sub send {
    my ($self, $method, $params, $session, $timeout) = @_;

    my $id = ++$self->{id};
    my $msg = { id => $id, method => $method, params => $params // {} };
    $msg->{sessionId} = $session if $session;

    my $out = $self->{json}->encode($msg) . "\0";
    while (length $out) {
        my $n = syswrite($self->{w}, $out);
        die "chromium: write: $!\n" unless defined $n;
        substr($out, 0, $n) = '';
    }

    my $deadline = time + ($timeout // $self->{timeout});

    while (1) {
        my $m = $self->_read_message($deadline);

        if (defined $m->{id} && $m->{id} == $id) {
            die "chromium: $method: $m->{error}{message}\n" if $m->{error};
            return $m->{result};
        }

        push @{ $self->{events} }, $m if $m->{method};
    }
}

sub call {
    my ($self, $method, $params, $timeout) = @_;
    return $self->send($method, $params, $self->{session}, $timeout);
}

# waits for an event of the page; returns it (undef on timeout)
sub wait_event {
    my ($self, $method, $timeout) = @_;
    my $deadline = time + ($timeout // $self->{timeout});

    while (1) {
        for my $i (0 .. $#{ $self->{events} }) {
            if ($self->{events}[$i]{method} eq $method) {
                return splice(@{ $self->{events} }, $i, 1);
            }
        }
        my $m = eval { $self->_read_message($deadline) };
        return undef unless $m;
        push @{ $self->{events} }, $m if $m->{method};
    }
}

# the events of that name seen so far (taken out of the queue)
sub events {
    my ($self, $method) = @_;
    my (@hit, @keep);
    for my $e (@{ $self->{events} }) {
        if ($e->{method} eq $method) { push @hit, $e } else { push @keep, $e }
    }
    $self->{events} = \@keep;
    return @hit;
}

sub goto {
    my ($self, $url) = @_;
    $self->events('Page.loadEventFired');
    my $r = $self->call('Page.navigate', { url => $url });
    die "chromium: navigate $url: $r->{errorText}\n" if $r->{errorText};
    $self->wait_event('Page.loadEventFired')
        or die "chromium: $url did not load\n";
    return $r;
}

sub reload {
    my ($self) = @_;
    $self->events('Page.loadEventFired');
    $self->call('Page.reload', { ignoreCache => JSON::PP::true });
    $self->wait_event('Page.loadEventFired')
        or die "chromium: the reload did not finish\n";
}

# the value of a JavaScript expression (promises are awaited)
sub eval {
    my ($self, $expr) = @_;
    my $r = $self->call('Runtime.evaluate', {
        expression    => $expr,
        returnByValue => JSON::PP::true,
        awaitPromise  => JSON::PP::true,
        userGesture   => JSON::PP::true,
    });

    if ($r->{exceptionDetails}) {
        my $d = $r->{exceptionDetails};
        die "chromium: JavaScript: "
            . ($d->{exception}{description} // $d->{text}) . "\n";
    }

    return $r->{result}{value};
}

# polls the expression until it is truthy; its last value, or undef
sub wait_for {
    my ($self, $expr, $timeout) = @_;
    my $deadline = time + ($timeout // 10);

    while (1) {
        my $v = eval { $self->eval($expr) };
        return $v if $v;
        return undef if time > $deadline;
        sleep 0.05;
    }
}

# puts files into an <input type=file> (as a user choosing them would)
sub set_files {
    my ($self, $selector, @paths) = @_;
    my $doc = $self->call('DOM.getDocument', { depth => 0 });
    my $n = $self->call('DOM.querySelector', {
        nodeId => $doc->{root}{nodeId}, selector => $selector });
    die "chromium: no element \"$selector\"\n" unless $n->{nodeId};
    $self->call('DOM.setFileInputFiles', { files => \@paths,
                                           nodeId => $n->{nodeId} });
    return 1;
}

sub screenshot {
    my ($self, $file) = @_;
    my $r = $self->call('Page.captureScreenshot', { format => 'png' });
    require MIME::Base64;
    open my $fh, '>:raw', $file or die "$file: $!";
    print $fh MIME::Base64::decode_base64($r->{data});
    close $fh;
}

sub log_text {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}.log" or return '';
    local $/;
    return <$fh> // '';
}

sub quit {
    my ($self) = @_;
    my $pid = $self->{pid} or return;

    eval { $self->send('Browser.close', {}, undef, 3) };
    close $self->{w} if $self->{w};

    for (1 .. 100) {
        last if waitpid($pid, WNOHANG) != 0;
        sleep 0.02;
    }

    kill 'KILL', -$pid if kill 0, -$pid;
    waitpid($pid, 0);

    delete $LIVE{$pid};
    $self->{pid} = undef;
    unlink "$self->{dir}.log";
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $!, $@);
    $self->quit if $self->{pid} && $self->{owner} == $$;
}

END {
    local $?;
    $_->{owner} == $$ && $_->quit for values %LIVE;
}

1;
