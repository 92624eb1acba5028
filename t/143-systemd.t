# systemd (issue #18): the module lives in nginx's own unit; the drop-in
# scripts/systemd/gemini-pool.conf is checked by systemd-analyze verify
# against Debian's nginx.service (no unknown key, no bad value; a bad key
# is seen, so the check can fail), its LimitNOFILE has room for the
# example's connections (a stream is a client and an upstream
# connection), its environment values are the ones nginx.conf.example
# passes on with "env", and its ExecStop waits as long as TimeoutStopSec
# allows.  No systemd runs here (a container): nothing is started.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Copy qw(copy);
use File::Path qw(make_path);
use File::Temp qw(tempdir);

my $ROOT = abs_path(dirname(__FILE__) . '/..');

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or die "$f: $!";
    local $/;
    return <$fh>;
}

my $dropin = slurp("$ROOT/scripts/systemd/gemini-pool.conf");
my $example = slurp("$ROOT/nginx.conf.example");

# [Service] keys (a key may repeat: ExecStop= resets, then sets)
my (%keys, $section);
for (split /\n/, $dropin) {
    next if /^\s*(?:#|$)/;
    if (/^\[(\w+)\]$/) { $section = $1; next }
    my ($k, $v) = /^(\w+)=(.*)$/ or next;
    push @{ $keys{"$section.$k"} }, $v;
}

is(join(' ', sort map { (split /\./)[0] } keys %keys), join(' ',
   ('Service') x keys %keys), 'only [Service] settings');

my ($wc) = $example =~ /^\s*worker_connections\s+(\d+);/m;
ok($wc, "nginx.conf.example: worker_connections $wc");
my ($nofile) = @{ $keys{'Service.LimitNOFILE'} // [0] };
cmp_ok($nofile, '>=', 2 * $wc,
       'LimitNOFILE: a client and an upstream connection per stream');

my @vars = map { /^(\w+)=/ ? $1 : () } @{ $keys{'Service.Environment'} };
ok(@vars, 'Environment= values');
for my $v (@vars, qw(ADMIN_SECRET_KEY API_KEY_ENCRYPTION_KEY)) {
    like($example, qr/^env $v;$/m, "$v: nginx.conf.example passes it on");
}
like($keys{'Service.EnvironmentFile'}[0] // '', qr{^-/etc/},
     'the secrets in an optional EnvironmentFile');

my ($stop) = grep { /\S/ } @{ $keys{'Service.ExecStop'} // [] };
is(($keys{'Service.ExecStop'} // [])->[0], '', 'ExecStop= reset first');
my ($retry) = ($stop // '') =~ m{--retry QUIT/(\d+)};
my ($timeout) = @{ $keys{'Service.TimeoutStopSec'} // [0] };
ok($retry && $retry < $timeout,
   "a graceful stop of $retry s within TimeoutStopSec=$timeout");

# systemd-analyze verify with Debian's unit and the drop-in
SKIP: {
    my $unit = '/lib/systemd/system/nginx.service';
    chomp(my $sa = `sh -c 'command -v systemd-analyze'` // '');
    skip('no systemd-analyze or no nginx.service', 3)
        unless $sa && -f $unit;

    my $dir = tempdir(CLEANUP => 1);
    make_path("$dir/nginx.service.d");
    copy($unit, "$dir/nginx.service") or die $!;

    my $verify = sub {
        my $out = `SYSTEMD_UNIT_PATH=$dir: $sa verify $dir/nginx.service 2>&1`;
        return ($? >> 8, $out);
    };

    copy("$ROOT/scripts/systemd/gemini-pool.conf",
         "$dir/nginx.service.d/gemini-pool.conf") or die $!;
    my ($rc, $out) = $verify->();
    is($rc, 0, 'systemd-analyze verify: nginx.service with the drop-in')
        or diag $out;
    unlike($out, qr/gemini-pool\.conf/, 'no complaint about the drop-in')
        or diag $out;

    open my $fh, '>>', "$dir/nginx.service.d/gemini-pool.conf" or die $!;
    print $fh "LimitNOFILES=1\n";
    close $fh;
    ($rc, $out) = $verify->();
    like($out, qr/gemini-pool\.conf:\d+: Unknown key.*LimitNOFILES/,
         'a bad key would be reported');
}

done_testing;
