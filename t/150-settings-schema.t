# GET /api/settings as the settings' schema, in Test::Nginx blocks: every
# row of the settings table (the enum of settings.h, read here) has its
# type, default and group; ints their bounds and unit, choices their
# allowed values, proxy_for its set; the groups list every key once.

use lib 't/lib';
BEGIN { $ENV{ADMIN_SECRET_KEY} = 'schema-admin-secret-0123456789' }
use Test::Nginx::Socket 'no_plan';
use GeminiPool;
use JSON::PP;

our @ROWS;

BEGIN {
    open my $fh, '<', 'ngx_gemini_pool_module/ngx_http_gemini_pool_settings.h'
        or die $!;
    my $h = do { local $/; <$fh> };
    my ($enum) = $h =~ /typedef enum \{(.*?)\} ngx_gp_setting_e;/s;
    @ROWS = map { lc } grep { $_ ne 'N' } $enum =~ /NGX_GP_SET_(\w+)/g;
}

our %GROUPS = map { $_ => 1 }
              qw(pool media history network relogin security);

# one line per setting: key type default group [extras]; or what is wrong
sub schema {
    my $d = JSON::PP->new->decode($_[0]);
    my (@out, %seen);
    for my $key (@ROWS) {
        my $s = $d->{settings}{$key};
        if (!$s) { push @out, "$key: missing"; next }
        my @bad = grep { !defined $s->{$_} } qw(type default group);
        push @bad, "group $s->{group}"
            if defined $s->{group} && !$GROUPS{ $s->{group} };
        push @bad, 'min' if $s->{type} eq 'int' && !defined $s->{min};
        push @bad, 'unit' if $s->{type} eq 'int' && !defined $s->{unit};
        push @bad, 'value'
            if $s->{type} ne 'secret' && !exists $s->{value};
        push @out, @bad ? "$key: no " . join(', ', @bad) : "$key ok";
    }
    for my $g (@{ $d->{groups} }) {
        push @out, "group $g->{name}: " . scalar(@{ $g->{keys} });
        $seen{$_}++ for @{ $g->{keys} };
    }
    push @out, 'keys in no group: '
        . join(' ', grep { !$seen{$_} } @ROWS) . '.';
    push @out, 'keys in two groups: '
        . join(' ', grep { $seen{$_} > 1 } sort keys %seen) . '.';
    return join("\n", @out) . "\n";
}

# the part of the schema a console needs for one kind of control
sub controls {
    my $s = JSON::PP->new->canonical->decode($_[0])->{settings};
    return join("\n", map {
        my $x = $s->{$_};
        join(' ', $_, $x->{type}, $x->{group},
             $x->{allowed} ? join(',', @{ $x->{allowed} }) : '-',
             $x->{many} ? 'many' : 'one',
             $x->{min} // '-', $x->{max} // '-', $x->{unit} // '-')
    } qw(selection_strategy image_format proxy_for tempmail_timeout
         cookie_refresh_concurrency upload_api_token show_thoughts)) . "\n";
}

no_long_string();
log_level('info');
run_tests();

__DATA__

=== TEST 1: every row of the settings table: its type, default and group
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: schema-admin-secret-0123456789
--- request
GET /api/settings
--- error_code: 200
--- response_body_filters eval
\&main::schema
--- response_body eval
CORE::join('', map { "$_ ok\n" } @main::ROWS)
. "group pool: 12\ngroup media: 5\ngroup history: 4\ngroup network: 3\n"
. "group relogin: 11\ngroup security: 2\n"
. "keys in no group: .\nkeys in two groups: .\n"
--- no_error_log
[error]


=== TEST 2: the controls: choices, a set, bounds, units, a secret
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: schema-admin-secret-0123456789
--- request
GET /api/settings
--- error_code: 200
--- response_body_filters eval
\&main::controls
--- response_body
selection_strategy choice pool round_robin,least_in_flight one - - -
image_format choice media markdown,url,array,b64_json one - - -
proxy_for string network google,images,tempmail,sync many - - -
tempmail_timeout int relogin - one 10 600 s
cookie_refresh_concurrency int relogin - one 1 8 logins
upload_api_token secret media - one - - -
show_thoughts bool pool - one - - -


=== TEST 3: proxy_for takes a set of its allowed values, nothing else
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: schema-admin-secret-0123456789
--- request eval
["PUT /api/settings\n{\"proxy_for\":\"google,sync\"}",
 "PUT /api/settings\n{\"proxy_for\":\"google,video\"}",
 "PUT /api/settings\n{\"cookie_refresh_concurrency\":9}"]
--- error_code eval
[200, 400, 400]
--- response_body_like eval
[qr/"proxy_for":\{"type":"string","value":"google,sync"/,
 qr/"proxy_for\\": must list google, images, tempmail or sync/,
 qr/"cookie_refresh_concurrency\\": must be from 1 to 8/]
