package GeminiPool::Login;

# The fake of Google's login pages (t/mock/login.py, inside the upstream
# mock that GeminiPool started) and the fake temp-mail worker
# (t/mock/tempmail.py), set up for one test file:
#
#   use lib 't/lib';
#   use GeminiPool ':plain';          # or with Test::Nginx::Socket
#   use GeminiPool::Login;
#
#   my $login = GeminiPool::Login->start(accounts => [qw(acc1 acc2)]);
#                                     # undef + $@ when it cannot start
#   $login->login_url        # https://auth.business.gemini.google
#                            #   for gemini_pool_login_url
#   $login->home_url         # https://business.gemini.google
#   @{ $login->chromium_args }   # --host-resolver-rules=..., trust of the
#                                # test leaf (needs a --user-data-dir)
#   $login->port             # the HTTPS listener's port
#   $login->mailbox('acc1')  # { address, jwt, url }: the account's
#                            #   tempmail_url is ->{url}
#   $login->tempmail_url     # http://127.0.0.1:PORT (the worker API base,
#                            #   for the tempmail_worker_url setting)
#   $login->script({ account => 'acc1', reject => 1 });   # see README
#   $login->config({ toast_ms => 2000 });
#   $login->events(event => 'signed_in');    # what happened
#   $login->flows; $login->requests; $login->mails;
#   $login->tempmail_config({ ... });        # tempmail.py's /__fake/config
#   $login->stop;            # also at END
#
# The Chromium arguments map every *.gemini.google name to the listener,
# port included ("MAP *.gemini.google 127.0.0.1:PORT"), so the URLs are
# Google's own, without a port: https://auth.business.gemini.google/login,
# and a nudge to https://business.gemini.google/ lands on the fake too.
# start(ports_in_urls => 1) maps the names only and puts the port in the
# URLs instead (https://auth.business.gemini.google:PORT); the pages
# follow either (they build their URLs from the Host header).
#
# start() makes the test CA in t/tmp/<test>-login-ca with openssl (the
# mock does, on POST /__mock/login/listen), starts tempmail.py on a free
# port, points the login pages' mail at its /__fake/deliver, creates one
# mailbox per account ("<account>.<test>@mail.test") and maps each
# address to its mock account, so a login with that address gives the
# mock account new cookies (the old ones then answer 401).  The address
# map and config survive the mock's POST /__mock/reset (which GeminiPool
# sends before every block); scripts, flows and the log do not.

use strict;
use warnings;

use File::Basename qw(basename);
use File::Path qw(make_path remove_tree);
use HTTP::Tiny;
use JSON::PP;
use POSIX ();

my $JSON = JSON::PP->new->utf8->canonical;
my $HTTP = HTTP::Tiny->new(timeout => 15);
my %LIVE;

sub start {
    my ($class, %o) = @_;

    my $mock = $o{mock_url} // GeminiPool::mock_url();
    my $root = $GeminiPool::ROOT;
    my $name = basename($0);
    $name =~ s/\.t$//;

    my $self = bless { mock => $mock, owner => $$, boxes => {},
                       ports => $o{ports_in_urls} }, $class;

    my $certdir = $o{certdir} // "$root/t/tmp/$name-login-ca";
    remove_tree($certdir) unless $o{certdir};
    make_path($certdir);

    my $st = eval { $self->_mock('POST', '/__mock/login/listen',
                                 { certdir => $certdir }) };
    unless ($st) {
        $@ = "the login pages did not start: $@";
        return undef;
    }
    $self->{status} = $st;

    my $tm = $o{tempmail} // "$root/t/mock/tempmail.py";
    unless (-f $tm) {
        $@ = "$tm is missing (the fake temp-mail worker)";
        return undef;
    }

    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        close $r;
        POSIX::dup2(fileno($w), 1) or POSIX::_exit(1);
        exec '/usr/bin/python3', $tm, '--port', '0' or POSIX::_exit(1);
    }
    close $w;
    my $line = <$r>;
    close $r;
    unless (defined $line && $line =~ /^READY (\d+)/) {
        kill 'TERM', $pid;
        waitpid $pid, 0;
        $@ = "tempmail.py did not start";
        return undef;
    }
    $self->{tm_pid} = $pid;
    $self->{tm_port} = $1;
    $LIVE{$pid} = $self;

    $self->config({ deliver_url => $self->tempmail_url . '/__fake/deliver',
                    %{ $o{config} // {} } });

    for my $acct (@{ $o{accounts} // [] }) {
        $self->add_mailbox($acct);
    }

    return $self;
}

sub _req {
    my ($self, $method, $url, $data) = @_;

    my $res = $HTTP->request($method, $url, {
        headers => { 'Content-Type' => 'application/json' },
        (defined $data ? (content => $JSON->encode($data)) : ()),
    });
    die "$method $url: $res->{status} $res->{content}\n"
        unless $res->{success};
    return $JSON->decode($res->{content});
}

sub _mock { my ($self, $m, $p, $d) = @_; $self->_req($m, $self->{mock} . $p, $d) }

sub _tm { my ($self, $m, $p, $d) = @_; $self->_req($m, $self->tempmail_url . $p, $d) }

sub port { $_[0]{status}{port} }

sub spki { $_[0]{status}{spki} }

sub ca { $_[0]{status}{ca} }

sub _suffix { $_[0]{ports} ? ':' . $_[0]->port : '' }

sub login_url { 'https://auth.business.gemini.google' . $_[0]->_suffix }

sub home_url { 'https://business.gemini.google' . $_[0]->_suffix }

sub tempmail_url { 'http://127.0.0.1:' . $_[0]{tm_port} }

sub tempmail_port { $_[0]{tm_port} }

# what Chromium needs to reach the fake as Google (all hosts of
# *.gemini.google on the listener) and to trust its leaf; Chromium
# honours the SPKI list only with --user-data-dir
sub chromium_args {
    my ($self) = @_;
    my $to = '127.0.0.1' . ($self->{ports} ? '' : ':' . $self->port);
    return [ "--host-resolver-rules=MAP *.gemini.google $to",
             '--ignore-certificate-errors-spki-list=' . $self->spki ];
}

# a mailbox in tempmail.py for a mock account, its address mapped to the
# account in the login pages; returns { address, jwt, url }
sub add_mailbox {
    my ($self, $acct, $address) = @_;

    my $name = basename($0);
    $name =~ s/\.t$//;
    $name =~ s/[^a-z0-9]+/-/gi;
    $address //= lc "$acct.$name\@mail.test";

    my $box = $self->_tm('POST', '/__fake/mailbox', { address => $address });
    $self->_mock('POST', '/__mock/login/addresses',
                 { address => $address, account => $acct });
    $self->{boxes}{$acct} = { address => $address, jwt => $box->{jwt},
                              url => $box->{url} };
    return $self->{boxes}{$acct};
}

sub mailbox { $_[0]{boxes}{$_[1]} }

sub config { $_[0]->_mock('POST', '/__mock/login/config', $_[1] // {}) }

sub script { $_[0]->_mock('POST', '/__mock/login/script', $_[1]) }

sub clear_scripts { $_[0]->_mock('DELETE', '/__mock/login/script') }

sub events {
    my ($self, %q) = @_;
    my $qs = join '&', map { "$_=$q{$_}" } sort keys %q;
    return $self->_mock('GET', '/__mock/login/events' . ($qs ? "?$qs" : ''));
}

sub flows { $_[0]->_mock('GET', '/__mock/login/flows') }

sub requests { $_[0]->_mock('GET', '/__mock/login/requests') }

sub mails { $_[0]->_tm('GET', '/__fake/mails') }

sub tempmail_config { $_[0]->_tm('POST', '/__fake/config', $_[1]) }

sub stop {
    my ($self) = @_;
    return unless $self->{tm_pid} && $self->{owner} == $$;
    kill 'TERM', $self->{tm_pid};
    waitpid $self->{tm_pid}, 0;
    delete $LIVE{ $self->{tm_pid} };
    delete $self->{tm_pid};
}

sub DESTROY { $_[0]->stop }

END { $_->stop for values %LIVE }

1;
