# The operators' guide keeps up with the code (issue #18, item 6):
#
# * every setting of the settings table (settings.c) is a row of the
#   settings table of docs/configuration.md, and the table read has as
#   many rows as the enum has names (a row the reader missed fails);
# * every directive of the module has its section in docs/directives.md;
# * docs/parity.md: no row of its tables has an empty column, and it
#   names every key of the reference's configuration the import knows
#   (bodies.c), every flag and environment value of the reference, and
#   its log files;
# * the relative links of docs/operators.md, docs/parity.md and the
#   Chinese translation lead to files and headings that exist (except
#   deploy.md and package.md, written on the demo and package branches);
# * the translation has the quick start, the migration and the
#   troubleshooting, and the guide says that pooling may breach the terms.
#
# The readers are checked on bad input first, so that a check that finds
# nothing cannot pass by reading nothing.

use strict;
use warnings;
use utf8;
use Test::More;
use File::Basename qw(dirname);
use Cwd qw(abs_path);

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $root = abs_path(dirname(__FILE__) . '/..');

sub slurp {
    my ($path) = @_;
    open my $fh, '<:encoding(UTF-8)', $path or die "$path: $!";
    local $/;
    return <$fh>;
}

# the settings table of settings.c: its keys, in order

sub settings_of {
    my ($src) = @_;
    my ($table) = $src =~ /ngx_gp_settings_table\[NGX_GP_SET_N\]\s*=\s*\{
                           (.*?)\n\};/xs
        or return ();
    $table =~ s{/\*.*?\*/}{}gs;
    my @keys;
    while ($table =~ /(?:\b[SCFI]\(\s*\w+\s*,\s*"([a-z0-9_]+)"
                       |\[NGX_GP_SET_\w+\]\s*=\s*\{\s*
                        (?:\.key\s*=\s*)?"([a-z0-9_]+)")/xg)
    {
        push @keys, defined $1 ? $1 : $2;
    }
    return @keys;
}

sub enum_size {
    my ($hdr) = @_;
    my ($enum) = $hdr =~ /NGX_GP_SET_DEFAULT_MODEL\s*=\s*0,(.*?)NGX_GP_SET_N\b/s
        or return -1;
    my @names = $enum =~ /\bNGX_GP_SET_\w+/g;
    return 1 + @names;
}

# the rows of every Markdown table: [line number, cells...]

sub table_rows {
    my ($md) = @_;
    my (@rows, $n);
    my @lines = split /\n/, $md;
    for my $i (0 .. $#lines) {
        my $l = $lines[$i];
        next unless $l =~ /^\|/;
        next if $l =~ /^\|[\s|:-]+\|\s*$/;         # the separator
        (my $body = $l) =~ s/^\|//;
        $body =~ s/\|\s*$//;
        # a '|' inside `code` is not a column
        my @cells;
        my $cell = '';
        my $code = 0;
        for my $c (split //, $body) {
            $code = !$code if $c eq '`';
            if ($c eq '|' && !$code) {
                push @cells, $cell;
                $cell = '';
            } else {
                $cell .= $c;
            }
        }
        push @cells, $cell;
        s/^\s+|\s+$//g for @cells;
        push @rows, [$i + 1, @cells];
    }
    return @rows;
}

# rows with an empty column, or fewer than two, or not as many as the
# table's first row (its header)

sub bad_rows {
    my ($md) = @_;
    my (@bad, $width);
    my @lines = split /\n/, $md;
    my $prev_table = 0;
    for my $r (table_rows($md)) {
        my ($ln, @cells) = @$r;
        # a new table starts after a line that is not a table line
        my $start = $ln == 1 || $lines[$ln - 2] !~ /^\|/;
        $width = @cells if $start;
        if (@cells < 2 || @cells != $width || grep { $_ eq '' } @cells) {
            push @bad, "line $ln: " . $lines[$ln - 1];
        }
    }
    return @bad;
}

# GitHub's anchor of a heading

sub slug {
    my ($h) = @_;
    $h = lc $h;
    $h =~ s/[^\w\- ]//g;
    $h =~ s/ /-/g;
    return $h;
}

sub anchors_of {
    my ($md) = @_;
    my %a;
    $md =~ s/^```.*?^```//gms;
    $a{ slug($1) } = 1 while $md =~ /^#+\s+(.*?)\s*$/mg;
    return \%a;
}

# the relative links of a document that lead nowhere

my %elsewhere = map { $_ => 1 } qw(docs/deploy.md docs/package.md);

sub broken_links {
    my ($file) = @_;
    my $md = slurp("$root/$file");
    $md =~ s/^```.*?^```//gms;
    my @bad;
    while ($md =~ /\]\(([^)\s]+)\)/g) {
        my $link = $1;
        next if $link =~ m{^[a-z]+://};
        my ($path, $anchor) = split /#/, $link, 2;
        my $target;
        if ($path eq '') {
            $target = $file;
        } else {
            $target = dirname($file) . "/$path";
            1 while $target =~ s{(^|/)[^/.][^/]*/\.\./}{$1};
            $target =~ s{^\./}{};
        }
        next if $elsewhere{$target};
        if (!-e "$root/$target") {
            push @bad, "$link (no $target)";
            next;
        }
        next unless defined $anchor && $target =~ /\.md$/;
        push @bad, "$link (no heading #$anchor in $target)"
            unless anchors_of(slurp("$root/$target"))->{$anchor};
    }
    return @bad;
}

# the readers, on input they must refuse

my @s = settings_of(<<'C');
const ngx_gp_setting_def_t  ngx_gp_settings_table[NGX_GP_SET_N] = {
    S(A, "a_one", NGX_GP_SETTING_INT, "3"),
    /* F(X, "commented", NGX_GP_SETTING_INT, "3"), */
    C(B, "b_two",
      "x", list),
    [NGX_GP_SET_C] = { "c_three", NGX_GP_SETTING_INT, "5", NULL, 1, 2 },
    I(D, "d_four", "1", POOL, "s", 0, -1),
    [NGX_GP_SET_E] = {
        .key = "e_five", .type = NGX_GP_SETTING_INT, .dflt = "1" },
};
C
is_deeply(\@s, [qw(a_one b_two c_three d_four e_five)],
          'the table reader reads every form');
is(enum_size("NGX_GP_SET_DEFAULT_MODEL = 0,\n NGX_GP_SET_B,\n NGX_GP_SET_N\n"),
   2, 'the enum reader counts');
is_deeply([map { s/:.*//r } bad_rows("| a | b |\n|---|---|\n| x | |\n"
                                     . "| `a|b` | c |\n| y |\n\n| z |\n")],
          ['line 3', 'line 5', 'line 7'],
          'the row check finds empty and missing columns');
is(slug('Behind another proxy or a CDN'), 'behind-another-proxy-or-a-cdn',
   'anchors as GitHub makes them');
is(slug('从 Business Gemini Pool 迁移'), '从-business-gemini-pool-迁移',
   'and of a Chinese heading');

# settings

my @settings = settings_of(slurp("$root/ngx_gemini_pool_module/"
                                 . "ngx_http_gemini_pool_settings.c"));
my $enum = enum_size(slurp("$root/ngx_gemini_pool_module/"
                           . "ngx_http_gemini_pool_settings.h"));
cmp_ok(scalar @settings, '>', 20, 'the settings table is read');
is(scalar @settings, $enum, "as many rows as the enum has names ($enum)");

my $conf = slurp("$root/docs/configuration.md");
my %documented = map { $_->[1] =~ /^`([a-z0-9_]+)`$/ ? ($1 => 1) : () }
                 table_rows($conf);
my @missing = grep { !$documented{$_} } @settings;
is("@missing", '', 'every setting is a row of docs/configuration.md');

my $ops = slurp("$root/docs/operators.md");
like($ops, qr{configuration\.md#accounts-and-settings},
     'the guide points at the settings table');

# directives

my $mod = slurp("$root/ngx_gemini_pool_module/ngx_http_gemini_pool_module.c");
my ($commands) = $mod =~ /ngx_command_t\s+\w+\[\]\s*=\s*\{(.*?)ngx_null_command/s;
my @directives = ($commands // '') =~ /ngx_string\("(gemini_pool_\w+)"\)/g;
cmp_ok(scalar @directives, '>', 30, 'the directives are read');
my $dirs = anchors_of(slurp("$root/docs/directives.md"));
@missing = grep { !$dirs->{$_} } @directives;
is("@missing", '', 'every directive has its section in docs/directives.md');

# the parity table

my $parity = slurp("$root/docs/parity.md");
my @rows = table_rows($parity);
cmp_ok(scalar @rows, '>', 100, 'the parity tables have rows ('
                               . scalar @rows . ')');
my @bad = bad_rows($parity);
is(scalar @bad, 0, 'no row of docs/parity.md has an empty column')
    or diag join "\n", @bad;
@bad = bad_rows($ops);
is(scalar @bad, 0, 'nor of docs/operators.md') or diag join "\n", @bad;

my $bodies = slurp("$root/ngx_gemini_pool_module/"
                   . "ngx_http_gemini_pool_bodies.c");
my ($refkeys) = $bodies =~ /ngx_gp_ref_keys\[\]\s*=\s*\{(.*?)\n\};/s;
my @refkeys = ($refkeys // '') =~ /\{\s*"([a-z_]+)"/g;
cmp_ok(scalar @refkeys, '>', 10, 'the reference\'s configuration keys');
@missing = grep { $parity !~ /`\Q$_\E`/ } @refkeys;
is("@missing", '', 'each is a row of the parity table');

for my $name (qw(--port --host --headless --headed FORCE_HEADLESS
                 FORCE_HEADED ADMIN_SECRET_KEY API_KEY_ENCRYPTION_KEY
                 log/app.log log/error.log))
{
    like($parity, qr/`\Q$name\E[` ]/, "parity.md: $name");
    like($ops, qr/`\Q$name\E[` ]/, "operators.md's migration: $name");
}

# links and anchors

for my $f (qw(docs/operators.md docs/parity.md docs/zh-CN/operators.md)) {
    my @broken = broken_links($f);
    is(scalar @broken, 0, "$f: every link leads somewhere")
        or diag join "\n", @broken;
}

# the translation, the terms

my $zh = slurp("$root/docs/zh-CN/operators.md");
for my $h ('快速开始', '从 Business Gemini Pool 迁移', '故障排查') {
    like($zh, qr/^## \Q$h\E$/m, "the translation has \"$h\"");
}
for my $h ('Quick start', 'Migrating from Business Gemini Pool',
           'Troubleshooting')
{
    like($ops, qr/^## \Q$h\E$/m, "the guide has \"$h\"");
}
like($ops, qr/may breach\s+Google's terms of service/,
     'the guide says that pooling accounts may breach the terms');

done_testing();
