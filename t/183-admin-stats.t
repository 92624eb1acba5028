# The dashboard's figures: GET /api/stats?range=hour|day[&by=model|account]
# computed from the call log.  Real calls against the mock (some of them
# failing) give buckets whose counts, errors and percentiles match the
# call log's rows; rows written straight into call_logs with known
# latencies check the nearest-rank percentiles and the bucket edges;
# bad parameters get a JSON error.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use POSIX qw(ceil);
use GeminiPool ':plain';
use GeminiPool::Server;
use GeminiPool::Network;

my $SECRET = 'stats-admin-secret-0123456789';
$ENV{ADMIN_SECRET_KEY} = $SECRET;

my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 10, max_redirect => 0);

my $srv = GeminiPool::Server->new(
    name => 'stats', master => 1, workers => 2,
    port => GeminiPool::Network::free_port(),
    server => <<'END');
    location /api/ { gemini_pool_admin; }
    location /v1/ { gemini_pool_api; }
END
$srv->start;

sub req {
    my ($method, $path, $body, %h) = @_;
    my $res = $http->request($method, $srv->url($path), {
        headers => {%h},
        (defined $body ? (content => ref $body ? $json->encode($body) : $body)
                       : ()),
    });
    my $data = eval { $json->decode($res->{content}) };
    return ($res->{status}, $data, $res);
}

sub admin { req(@_[0 .. 2], 'X-Admin-Token' => $SECRET) }

# the helper drains the ring on its tick: wait until the log has n rows
sub logged {
    my ($n) = @_;
    my $d;
    for (1 .. 80) {
        (undef, $d) = admin('GET', '/api/logs?limit=1000');
        return $d->{logs} if @{$d->{logs} || []} >= $n;
        select(undef, undef, undef, 0.1);
    }
    return $d->{logs};
}

# nearest rank: the value at rank ceil(p * n / 100) of the sorted values
sub pct {
    my ($p, @v) = @_;
    return undef unless @v;
    @v = sort { $a <=> $b } @v;
    return $v[ceil($p * @v / 100) - 1];
}

# what a bucket must say about these log rows
sub expect {
    my (@rows) = @_;
    my @ttfb = grep { defined } map { $_->{ttfb_ms} } @rows;
    return {
        count => scalar @rows,
        errors => scalar(grep { $_->{status} >= 400 } @rows),
        latency_p50 => pct(50, map { $_->{latency_ms} } @rows),
        latency_p95 => pct(95, map { $_->{latency_ms} } @rows),
        ttfb_p50 => pct(50, @ttfb),
        ttfb_p95 => pct(95, @ttfb),
    };
}

sub figures {
    my ($b) = @_;
    return { map { $_ => $b->{$_} } qw(count errors latency_p50 latency_p95
                                        ttfb_p50 ttfb_p95) };
}

my ($st, $d);

# ----------------------------------------------------------------------
# the shape, empty

($st, $d) = admin('GET', '/api/stats');
is($st, 200, 'GET /api/stats');
is($d->{range}, 'hour', 'the hour by default');
is($d->{bucket_seconds}, 60, '1 min buckets');
is(scalar @{ $d->{buckets} }, 60, '60 of them');
is($d->{to} - $d->{from}, 3600, 'one hour');
ok($d->{now} >= $d->{buckets}[-1]{time} && $d->{now} < $d->{to},
   'the last bucket holds the present');
is($d->{total}{count}, 0, 'no call yet');
is_deeply([grep { $_->{count} } @{ $d->{buckets} }], [], 'all empty');
is($d->{buckets}[0]{latency_p50}, undef, 'no percentile without calls');
is($d->{percentiles}, 'nearest rank', 'how percentiles are computed');

($st, $d) = admin('GET', '/api/stats?range=day');
is($d->{bucket_seconds}, 1800, 'the day: 30 min buckets');
is(scalar @{ $d->{buckets} }, 48, '48 of them');

# bad parameters: JSON errors
for my $q ('range=week', 'range=', 'by=key', 'range=hour&by=modelx') {
    ($st, $d) = admin('GET', "/api/stats?$q");
    if ($q eq 'range=') {
        is($st, 200, 'an empty range: the hour');
        next;
    }
    is($st, 400, "$q: 400");
    is($d->{error}{code} // $d->{error}, 'invalid_value',
       "$q: a JSON error") or diag explain $d;
    like($d->{error}{message} // '', qr/"(range|by)" must be/,
         "$q: saying what is allowed");
}

($st) = req('GET', '/api/stats');
is($st, 401, 'not without the admin secret');

# ----------------------------------------------------------------------
# real calls: 5 answered (two models, stream and not), 2 refused upstream

my @calls = (
    [ 'gemini-2.5-flash', 'hello one', 0 ],
    [ 'gemini-2.5-flash', 'hello two', 1 ],
    [ 'gemini-2.5-pro', 'hello three', 0 ],
    [ 'gemini-2.5-pro', 'hello four', 1 ],
    [ 'gemini-2.5-flash', 'hello five', 0 ],
    [ 'gemini-2.5-pro', 'MOCK:status=400', 0 ],
    [ 'gemini-2.5-flash', 'MOCK:status=400', 1 ],
);

my @status;
for my $c (@calls) {
    my ($s) = req('POST', '/v1/chat/completions',
                  { model => $c->[0], stream => $c->[2] ? \1 : \0,
                    messages => [{ role => 'user', content => $c->[1] }] },
                  'Content-Type' => 'application/json');
    push @status, $s;
}
is(scalar(grep { $_ == 200 } @status), 5, 'five answered')
    or diag "@status";
is(scalar(grep { $_ >= 400 } @status), 2, 'two failed');

my $logs = logged(scalar @calls);
is(scalar @$logs, scalar @calls, 'all in the call log');

($st, $d) = admin('GET', '/api/stats?range=hour');
is($st, 200, 'the hour again');

my %by_bucket;
for my $r (@$logs) {
    push @{ $by_bucket{ int(($r->{time} - $d->{from}) / 60) } }, $r;
}
my @full = sort { $a <=> $b } keys %by_bucket;
my @got = map { figures($d->{buckets}[$_]) } @full;
my @want = map { expect(@{ $by_bucket{$_} }) } @full;
is_deeply(\@got, \@want, 'the buckets match the call log')
    or diag explain { got => \@got, want => \@want };
is_deeply(figures($d->{total}), expect(@$logs), 'and the hour\'s total');
is($d->{total}{count}, 7, '7 requests');
is($d->{total}{errors}, 2, '2 errors');
is(scalar(grep { $_->{count} } @{ $d->{buckets} }), scalar keys %by_bucket,
   'the other buckets are empty');
ok(!exists $d->{series}, 'no series without by');

# by model: one series per model, the busiest first
($st, $d) = admin('GET', '/api/stats?range=hour&by=model');
is($d->{by}, 'model', 'by model');
my %m;
push @{ $m{ $_->{model} } }, $_ for @$logs;
is_deeply([map { $_->{name} } @{ $d->{series} }],
          [sort { @{ $m{$b} } <=> @{ $m{$a} } || $a cmp $b } keys %m],
          'a series per model, the busiest first');
for my $s (@{ $d->{series} }) {
    is_deeply(figures($s->{total}), expect(@{ $m{ $s->{name} } }),
              "$s->{name}: its total");
    is(scalar @{ $s->{buckets} }, 60, "$s->{name}: 60 buckets");
    my $sum = 0;
    $sum += $_->{count} for @{ $s->{buckets} };
    is($sum, scalar @{ $m{ $s->{name} } }, "$s->{name}: its calls");
}
is($d->{others}, 0, 'none left out');
is_deeply(figures($d->{total}), expect(@$logs), 'the total with by too');

# by account
($st, $d) = admin('GET', '/api/stats?range=day&by=account');
my %acc;
push @{ $acc{ $_->{account} } }, $_ for @$logs;
is_deeply({ map { $_->{name} => $_->{total}{count} } @{ $d->{series} } },
          { map { $_ => scalar @{ $acc{$_} } } keys %acc },
          'by account: the calls of each (the day)');
is($d->{total}{count}, 7, 'the day holds them too');

# ----------------------------------------------------------------------
# known latencies: the percentiles and the bucket edges

my $now = time;
my $edge = $d->{from};              # the day's first second
my @ins;
for my $ms (1 .. 20) {
    push @ins, "($now - 7200, 'pct-model', 'pct-acc', 200, $ms, "
               . ($ms <= 10 ? $ms * 10 : 'NULL') . ")";
}
push @ins, "($edge - 1, 'old-model', 'old-acc', 200, 5, 5)";   # too old
push @ins, "($edge, 'edge-model', 'edge-acc', 500, 7, NULL)";  # first bucket
sql("INSERT INTO call_logs (time, model, account, status, latency_ms, "
    . "ttfb_ms) VALUES " . join(', ', @ins));

($st, $d) = admin('GET', '/api/stats?range=day&by=model');
my ($pm) = grep { $_->{name} eq 'pct-model' } @{ $d->{series} };
is_deeply(figures($pm->{total}),
          { count => 20, errors => 0, latency_p50 => 10, latency_p95 => 19,
            ttfb_p50 => 50, ttfb_p95 => 100 },
          '20 calls of 1..20 ms: p50 10, p95 19; TTFB of the 10 with one')
    or diag explain $pm;
ok(!grep({ $_->{name} eq 'old-model' } @{ $d->{series} }),
   'a call before the day is left out');
my ($em) = grep { $_->{name} eq 'edge-model' } @{ $d->{series} };
is($em->{buckets}[0]{count}, 1, 'a call at the first second: bucket 0');
is($em->{buckets}[0]{errors}, 1, 'its error');
is($em->{buckets}[0]{ttfb_p50}, undef, 'no TTFB, no percentile');
is($d->{total}{count}, 7 + 21, 'the day\'s total');

($st, $d) = admin('GET', '/api/stats?range=hour');
is($d->{total}{count}, 7, 'two hours ago is not in the hour');

# more names than series: the busiest 8, the rest counted
sql("INSERT INTO call_logs (time, model, account, status, latency_ms) "
    . "VALUES " . join(', ', map { "($now, 'many-$_', 'a', 200, 1)" }
                                1 .. 9));
($st, $d) = admin('GET', '/api/stats?range=hour&by=model');
is(scalar @{ $d->{series} }, 8, 'eight series');
is($d->{others}, 2 + 9 - 8, 'the others counted');
is($d->{series}[0]{name}, (sort { @{ $m{$b} } <=> @{ $m{$a} } || $a cmp $b }
                           keys %m)[0], 'the busiest first');

unlike($srv->error_log_text, qr/\[(?:alert|emerg|crit)\]|signal \d+/,
       'no worker crashed, no SQLite error');

$srv->stop;
done_testing;
