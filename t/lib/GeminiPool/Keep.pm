package GeminiPool::Keep;

# What a run leaves for the secrets gate (t/tools/secrets-check): with
# GP_KEEP set to a directory, every nginx's error and access logs are
# copied there before the harness removes them (Test::Nginx's servroot at
# the start of each file, GeminiPool::Server's root at each start), and
# every answer a client of the harness reads (Test::Nginx's requests,
# HTTP::Tiny in the plain suites) is appended to answers-<pid>.txt with
# the request line.  Without GP_KEEP nothing happens.
#
# scripts/test sets GP_KEEP in a full run and loads this module into
# every perl (PERL5OPT) so that HTTP::Tiny is wrapped.

use strict;
use warnings;
use File::Basename qw(basename);
use File::Copy qw(copy);

my $seq = 0;

sub dir { $ENV{GP_KEEP} }

# copies the *.log files of $logdir, labelled with the test file
sub logs {
    my ($logdir) = @_;
    my $d = dir() or return;
    return unless -d $logdir;
    mkdir $d;
    my $t = basename($0);
    $t =~ s/[^\w.-]/_/g;
    for my $f (glob("$logdir/*.log")) {
        next unless -s $f;
        $seq++;
        copy($f, "$d/$t-$$-$seq-" . basename($f));
    }
}

# appends one answer (raw bytes) after its request line
sub answer {
    my ($request, $raw) = @_;
    my $d = dir() or return;
    mkdir $d;
    open my $fh, '>>', "$d/answers-$$.txt" or return;
    binmode $fh;
    print $fh "=== ", basename($0), ": $request\n", $raw // '', "\n";
    close $fh;
}

# HTTP::Tiny: every answer, with its headers
if (dir()) {
    require HTTP::Tiny;
    no warnings 'redefine';
    my $orig = \&HTTP::Tiny::request;
    *HTTP::Tiny::request = sub {
        my ($self, $method, $url) = @_;
        my $res = $orig->(@_);
        my $h = $res->{headers} || {};
        answer("$method $url",
               "$res->{status} $res->{reason}\n"
               . join('', map {
                     my $k = $_;
                     map { "$k: $_\n" } ref $h->{$k} ? @{$h->{$k}} : $h->{$k}
                 } sort keys %$h)
               . "\n" . ($res->{content} // ''));
        return $res;
    };
}

1;
