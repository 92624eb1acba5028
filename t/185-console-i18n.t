# Every string key the console uses exists in both languages: every file
# under admin-ui/ (found on disk, so that a page added later is scanned
# too) is searched for t('key'), t("key") and t(`key`) calls and for the
# data-i18n attributes of the HTML; each key must be in the English AND
# the Chinese table of admin-ui/i18n.js.  Keys built from a prefix
# (t('dash.state.' + k)) need at least one key of that prefix in both,
# and the dashboard's own built keys are listed and checked one by one.
# No browser, no nginx: a second or less.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use Test::More;
use File::Find;

my $ROOT = do {
    my $d = __FILE__;
    $d =~ s{/?t/[^/]+$}{};
    $d eq '' ? '.' : $d;
};
my $UI = "$ROOT/admin-ui";

sub slurp {
    my ($f) = @_;
    open my $fh, '<:encoding(UTF-8)', $f or die "$f: $!";
    local $/;
    return <$fh>;
}

my $src = slurp("$UI/i18n.js");
my ($en) = $src =~ /\nconst en = \{(.*?)\n\};/s;
my ($zh) = $src =~ /\nconst zh = \{(.*?)\n\};/s;
ok(defined $en && defined $zh, 'the English and the Chinese tables');

my %EN = map { $_ => 1 } ($en // '') =~ /^\s{4}'([\w.]+)':/mg;
my %ZH = map { $_ => 1 } ($zh // '') =~ /^\s{4}'([\w.]+)':/mg;
cmp_ok(scalar keys %EN, '>', 300, 'English keys: ' . scalar keys %EN);
cmp_ok(scalar keys %ZH, '>', 300, 'Chinese keys: ' . scalar keys %ZH);

my (%used, %prefix, @files);

find({ no_chdir => 1, wanted => sub {
    push @files, $File::Find::name
        if /\.(?:js|html)$/ && !m{/i18n\.js$} && !m{/node_modules/};
} }, $UI);
cmp_ok(scalar @files, '>', 10, 'the console\'s files: ' . scalar @files);

for my $f (@files) {
    my $text = slurp($f);
    (my $rel = $f) =~ s{^\Q$UI\E/}{};

    $text =~ s{/\*.*?\*/}{}gs;             # comments may name keys

    while ($text =~ /\bt\(\s*(['"`])([\w.]+)\1\s*([,)+])/g) {
        my ($key, $next) = ($2, $3);
        if ($next eq '+') {
            push @{ $prefix{$key} }, $rel;
        } else {
            push @{ $used{$key} }, $rel;
        }
    }

    while ($text =~ /data-i18n(?:-[\w-]+)?="([\w.]+)"/g) {
        push @{ $used{$1} }, $rel;
    }
}

cmp_ok(scalar keys %used, '>', 200, 'keys used: ' . scalar keys %used);

# the dashboard's built keys, each of them
for my $p ([ 'dash.range.', qw(hour day) ],
           [ 'dash.no_calls.', qw(hour day) ],
           [ 'dash.by.', qw(none model account) ],
           [ 'dash.state.', qw(ok cooling expired off) ],
           [ 'dash.chart.by_', qw(model account) ],
           [ 'dash.table.', qw(model account) ],
           [ 'dash.col.', qw(name count errors latency_p50 latency_p95
                             ttfb_p50 ttfb_p95) ])
{
    my ($pre, @v) = @$p;
    push @{ $used{"$pre$_"} }, 'js/views/dashboard.js' for @v;
}

my @missing;
for my $k (sort keys %used) {
    my $where = join(', ', sort { $a cmp $b } keys %{{ map { $_ => 1 }
                                                      @{ $used{$k} } }});
    push @missing, "$k (English; $where)" unless $EN{$k};
    push @missing, "$k (Chinese; $where)" unless $ZH{$k};
}
is(join("\n", @missing), '', 'every key used is in both languages');

my @bare;
for my $p (sort keys %prefix) {
    push @bare, "$p* (English)" unless grep { index($_, $p) == 0 } keys %EN;
    push @bare, "$p* (Chinese)" unless grep { index($_, $p) == 0 } keys %ZH;
}
is(join("\n", @bare), '', 'every prefix of a built key has keys in both');

is(join(' ', sort grep { !$ZH{$_} } keys %EN), '',
   'every English string has a Chinese one');
is(join(' ', sort grep { !$EN{$_} } keys %ZH), '',
   'and the other way round');

done_testing;
