package Test::Nginx::Socket;

# Compat implementation of Test::Nginx::Socket for ngx_gemini_pool's tests.
#
# Written from the public documentation of openresty/test-nginx (no code
# copied).  Used only when the real module is not installed; see
# t/lib/compat/README.md and t/lib/compat/run-prove.
#
# Like the real one this class inherits from Test::Base, so
#   use Test::Nginx::Socket 'no_plan';      or
#   use Test::Nginx::Socket; plan tests => ...;
# exports Test::Base/Test::More helpers (blocks, plan, is, like, ...) plus
# the functions listed in @EXPORT below, and a .t file's __DATA__ blocks are
# parsed (with filters like "eval", "chomp") by Test::Base.

use strict;
use warnings;

our $VERSION = '0.33_compat';
our $COMPAT  = 1;

use Test::Base ();
our @ISA = ('Test::Base');

use Test::Nginx::Util;
use Test::More ();
use IO::Socket::INET ();
use IO::Select ();
use Errno qw( EAGAIN EWOULDBLOCK EINTR );
use Time::HiRes qw( sleep time );
use List::Util qw( min );
use HTTP::Response ();
use Encode ();
use Digest::MD5 ();
use Digest::SHA ();

our @EXPORT = qw(
    env_to_nginx is_str run_tests run_test repeat_each config_preamble
    worker_connections master_process_enabled no_long_string workers
    master_on master_off log_level no_shuffle no_root_location use_hup
    server_name server_addr server_root html_dir server_port
    server_port_for_client timeout no_nginx_manager check_accum_error_log
    add_block_preprocessor bail_out add_test_cleanup_handler
    add_cleanup_handler add_response_body_check
);

our @ResponseBodyChecks;

sub add_response_body_check ($) { push @ResponseBodyChecks, shift }
sub set_http_config_filter ($) { $Test::Nginx::Util::FilterHttpConfig = shift }

$Test::Nginx::Util::RunTestHelper         = \&run_test_helper;
$Test::Nginx::Util::CheckErrorLog         = \&check_error_log;
$Test::Nginx::Util::CheckShutdownErrorLog = \&check_shutdown_error_log;

#--------------------------------------------------------------------------
# Building requests
#--------------------------------------------------------------------------

sub parse_more_headers ($) {
    my $in = shift;
    $in = '' if !defined $in;
    my ($out, $chunked) = ('', 0);
    for my $h (split /\n+/, $in) {
        next if $h =~ /^\s*#/ || $h !~ /\S/;
        my ($k, $v) = split /:\s*/, $h, 2;
        $v = '' if !defined $v;
        $chunked = 1 if lc($k) eq 'transfer-encoding' && $v eq 'chunked';
        $out .= "$k: $v\r\n";
    }
    return ($out, $chunked);
}

# Turn "METHOD [URI [VERSION]]\nbody" (given as one or more packets) into
# a full HTTP request, keeping the packet boundaries: a boundary inside the
# request line stays in the same token, one inside the body stays at the
# same body offset, and the generated headers go with the packet that
# holds the end of the request line.
sub build_request ($$$$$) {
    my ($name, $hdr, $chunked, $conn, $packets) = @_;
    my $text = join '', @$packets;

    my ($first, $body_start);
    if ($text =~ /\A([^\n]*)\n/) {
        ($first, $body_start) = ($1, $+[0]);
    } else {
        ($first, $body_start) = ($text, length $text);
    }
    $first =~ /^(\s*)(\S+)( *)(?:(\S+)( *))?(?:(\S+)( *))?(\s*)$/
        or Test::Nginx::Util::bail_out("$name - Request line is not valid. "
               . "Should be 'meth [url [version]]' but got \"$first\".");
    my @tok = ([$-[2], $+[2], $2]);
    push @tok, defined $4 ? [$-[4], $+[4], $4] : [undef, undef, '/'];
    push @tok, defined $6 ? [$-[6], $+[6], $6] : [undef, undef, 'HTTP/1.1'];

    my $body = substr $text, $body_start;
    my ($len_hdr, $lead) = ('', 0);
    if (!$chunked && $body ne '' && $hdr !~ /(?:^|\n)Content-Length:/i) {
        $body =~ /\A(\s*)/;
        $lead = length $1;
        $body =~ s/^\s+|\s+$//gs;
        $len_hdr = "Content-Length: " . length($body) . "\r\n";
    }

    my $headers = '';
    $headers .= "Host: $Test::Nginx::Util::ServerName\r\n" if $hdr !~ /(?:^|\n)Host:/i;
    $headers .= "Connection: $conn\r\n" if $hdr !~ /(?:^|\n)Connection/i;
    $headers .= "$hdr$len_hdr\r\n";

    my $line = "$tok[0][2] $tok[1][2] $tok[2][2]\r\n";
    my $full = $line . $headers . $body;
    return [$full] if @$packets <= 1;

    # where each token starts in the generated request line
    my @new_start = (0, length($tok[0][2]) + 1,
                     length($tok[0][2]) + length($tok[1][2]) + 2);
    my $new_body = length($line) + length($headers);

    my $map = sub {
        my $p = shift;
        if ($p >= $body_start) {
            my $off = $p - $body_start - $lead;
            $off = 0 if $off < 0;
            $off = length $body if $off > length $body;
            return $new_body + $off;
        }
        for my $i (0 .. 2) {
            my ($s, $e) = @{ $tok[$i] };
            next if !defined $s;
            return $new_start[$i] if $p < $s;
            return $new_start[$i] + ($p - $s) if $p < $e;
        }
        return $new_body;
    };

    my @out;
    my ($pos, $prev) = (0, 0);
    for my $i (0 .. $#$packets - 1) {
        $pos += length $packets->[$i];
        my $np = $map->($pos);
        $np = $prev if $np < $prev;
        push @out, substr($full, $prev, $np - $prev);
        $prev = $np;
    }
    push @out, substr($full, $prev);
    return \@out;
}

# Returns a list of requests; each request is a list of packets
# ({ value => ..., delay_before => ... }).
sub get_req_from_block ($) {
    my $block = shift;
    my $name = $block->name;
    my @reqs;

    my $raw = $block->raw_request;
    if (defined $raw) {
        if (ref $raw eq 'ARRAY') {
            push @reqs, [map { ref $_ eq 'HASH' ? {%$_} : { value => $_ } } @$raw];
        } else {
            push @reqs, [{ value => $raw }];
        }
        return \@reqs;
    }

    my $request;
    if (defined(my $re = $block->request_eval)) {
        Test::More::diag("$name - request_eval DEPRECATED. Use request eval instead.");
        $request = eval $re;
        warn $@ if $@;
    } else {
        $request = $block->request;
        if (defined $request && !ref $request) {
            1 while $request =~ s/^\s*#[^\n]+\s+|^\s+//s;
        }
    }

    my $more = $block->more_headers;
    my $hdr_for = sub {
        my ($i, $what) = @_;
        if (ref $more eq 'ARRAY') {
            my $h = $more->[$i];
            Test::Nginx::Util::bail_out("--- more_headers lacks data for $what") if !defined $h;
            return parse_more_headers($h);
        }
        return parse_more_headers($more);
    };

    if (my $pipe = $block->pipelined_requests) {
        Test::Nginx::Util::bail_out("$name - invalid entries in --- pipelined_requests")
            if ref $pipe ne 'ARRAY';
        my $all = '';
        for my $i (0 .. $#$pipe) {
            my $r = expand_env_in_text($pipe->[$i], $name, $Test::Nginx::Util::RandPorts);
            $r =~ s/^\s+//;
            my ($h, $c) = $hdr_for->($i, "the $i pipelined request");
            $all .= build_request($name, $h, $c,
                                  $i == $#$pipe ? 'close' : 'keep-alive', [$r])->[0];
        }
        push @reqs, [{ value => $all }];
        return \@reqs;
    }

    return \@reqs if !defined $request;

    if (!ref $request) {
        my ($h, $c) = $hdr_for->(0, "the request");
        push @reqs, [{ value => build_request($name, $h, $c, 'close', [$request])->[0] }];
    } elsif (ref $request eq 'ARRAY') {
        for my $i (0 .. $#$request) {
            my $one = $request->[$i];
            my ($h, $c) = $hdr_for->($i, "the ${i}th request");
            if (!ref $one) {
                push @reqs, [{ value => build_request($name, $h, $c, 'close', [$one])->[0] }];
            } elsif (ref $one eq 'ARRAY') {
                my @vals;
                for my $p (@$one) {
                    if (!ref $p) { push @vals, $p }
                    elsif (ref $p eq 'HASH') { push @vals, $p->{value} }
                    else {
                        Test::Nginx::Util::bail_out("$name - Invalid syntax. $p should be a string or hash with value.");
                    }
                }
                my $out = build_request($name, $h, $c, 'close', \@vals);
                my @pk;
                for my $j (0 .. $#$out) {
                    my %pkt = ref $one->[$j] eq 'HASH' ? %{ $one->[$j] } : ();
                    $pkt{value} = $out->[$j];
                    push @pk, \%pkt;
                }
                push @reqs, \@pk;
            } else {
                Test::Nginx::Util::bail_out("$name - Invalid syntax. $one should be a string or an array of packets.");
            }
        }
    } else {
        Test::Nginx::Util::bail_out("$name - invalid ---request : MUST be string or array of requests");
    }
    return \@reqs;
}

#--------------------------------------------------------------------------
# The HTTP client
#--------------------------------------------------------------------------

# Sends the packets over one TCP connection and reads until the server
# closes it.  The timeout applies between two I/O events (like the real
# one).  Returns ($raw_response, $is_head_request).
sub send_request ($$$$) {
    my ($packets, $middle_delay, $timeout, $block) = @_;
    my $name = $block->name;

    my $head = (join('', map { $_->{value} } @$packets) =~ /^\s*HEAD\s+/) ? 1 : 0;

    my $addr = $block->server_addr_for_client;
    $addr = $Test::Nginx::Util::ServerAddr if !defined $addr;
    my $port = $Test::Nginx::Util::ServerPortForClient;

    my ($sock, $err);
    for my $try (1 .. 50) {
        $sock = IO::Socket::INET->new(PeerAddr => $addr, PeerPort => $port,
                                      Proto => 'tcp', Timeout => $timeout);
        last if $sock;
        $err = $!;
        last if !Test::Nginx::Util::_nginx_alive();
        sleep min(1, 0.015 * $try * ($try + 1) / 2);
    }
    if (!$sock) {
        my $msg = "$name - Can't connect to $addr:$port: $err (aborted)\n";
        if (++$Test::Nginx::Util::TotalConnectingTimeouts >= 3) {
            Test::Nginx::Util::bail_out($msg);
        }
        Test::More::fail($msg);
        return (undef, $head);
    }
    $sock->blocking(0);
    local $SIG{PIPE} = 'IGNORE';

    my @queue = @$packets;
    my $cur = shift @queue;
    my $buf = defined $cur ? $cur->{value} : '';
    my $off = 0;
    my ($resp, $writing, $reading) = ('', 1, 1);
    my $rsel = IO::Select->new($sock);

    while ($reading) {
        my $wsel = $writing ? IO::Select->new($sock) : undef;
        my ($r, $w) = IO::Select->select($rsel, $wsel, undef, $timeout);
        if (!$r && !$w) {
            if ($! == EINTR) { next }
            # timed out
            if (!defined $block->abort) {
                Test::More::fail("ERROR: client socket timed out - $name\n");
            }
            last;
        }

        if ($w && @$w) {
          WRITE:
            while (1) {
                if ($off < length $buf) {
                    my $n = syswrite($sock, $buf, length($buf) - $off, $off);
                    if (!defined $n) {
                        last WRITE if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                        warn "$name - write failed: $!\n" if $Test::Nginx::Util::Verbose;
                        $writing = 0;
                        last WRITE;
                    }
                    $off += $n;
                    next;
                }
                my $next = shift @queue;
                if (!$next) {
                    $writing = 0;
                    if (defined(my $sd = $block->shutdown)) {
                        $sd = 1 if $sd !~ /\d/;
                        shutdown($sock, $sd);
                    }
                    last WRITE;
                }
                my $delay = defined $next->{delay_before} ? $next->{delay_before}
                                                          : $middle_delay;
                sleep $delay if $delay;
                ($buf, $off) = ($next->{value}, 0);
            }
        }

        if ($r && @$r) {
            while (1) {
                my $n = sysread($sock, my $chunk, 65536);
                if (!defined $n) {
                    last if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                    warn "WARNING: $name - HTTP response read failure: $!\n";
                    $reading = 0;
                    last;
                }
                if ($n == 0) { $reading = 0; last }
                $resp .= $chunk;
            }
        }
    }
    close $sock;
    if ($ENV{GP_KEEP}) {
        require GeminiPool::Keep;
        my ($line) = (join('', map { $_->{value} } @$packets) =~ /^(.*)/);
        GeminiPool::Keep::answer($line // '', $resp);
    }
    return ($resp, $head);
}

# Parses one response off the front of $raw.
# Returns ($res, $raw_headers, $left) where $res is an HTTP::Response with
# the de-chunked body; $left is whatever follows the response.
sub parse_response ($$$) {
    my ($name, $raw, $head_req) = @_;
    $raw = '' if !defined $raw;

    my ($head, $rest);
    if ($raw =~ /\A(.*?\r?\n)\r?\n/s) {
        ($head, $rest) = ($1, substr($raw, $+[0]));
    } else {
        ($head, $rest) = ($raw, '');
    }
    my $raw_headers = $head;

    my ($proto, $code, $msg);
    if ($head =~ s{\A(HTTP/\d+(?:\.\d+)?)[ \t]+(\d{3})(?:[ \t]+([^\r\n]*))?\r?\n}{}) {
        ($proto, $code, $msg) = ($1, $2, $3);
    } elsif ($head =~ s{\A([^\r\n]*)\r?\n}{}) {
        # garbage status line
    }

    my @hdrs;
    for my $l (split /\r?\n/, $head) {
        if ($l =~ /^[ \t]+(.*)$/ && @hdrs) {
            $hdrs[-1] .= " $1";
            next;
        }
        my ($k, $v) = split /:[ \t]*/, $l, 2;
        next if !defined $k || $k eq '';
        $v = '' if !defined $v;
        $v =~ s/[ \t]+$//;
        push @hdrs, $k, $v;
    }

    my $res = HTTP::Response->new($code, $msg, \@hdrs);
    $res->protocol($proto) if $proto;

    my $left;
    my $no_body = $head_req || !defined $code || $code =~ /^1/ || $code == 204
                  || $code == 304;
    my $te = $res->header('Transfer-Encoding');
    my $cl = $res->header('Content-Length');

    if (!defined $code) {
        # no (valid) status line: keep whatever came after the "headers"
        $res->content($rest);
    } elsif ($no_body) {
        $res->content('');
        $left = $rest if length $rest;
    } elsif (defined $te && $te =~ /\bchunked\b/i) {
        my $body = '';
        my $pos = 0;
        my $ok;
        while (1) {
            pos($rest) = $pos;
            if ($rest !~ /\G[ \t]*([0-9A-Fa-f]+)[^\r\n]*\r\n/gc) {
                my $what = substr($rest, $pos, 60);
                Test::More::fail($pos >= length $rest
                    ? "$name - no last chunk found - " . Test::Nginx::Util::show_all_chars($rest)
                    : "$name - invalid chunked body received: "
                      . Test::Nginx::Util::show_all_chars($what));
                last;
            }
            my $size = hex $1;
            $pos = pos($rest);
            if ($size == 0) {
                # trailers, then the final CRLF
                pos($rest) = $pos;
                while ($rest =~ /\G([^\r\n]+)\r\n/gc) { }
                if ($rest =~ /\G\r\n/gc) {
                    $ok = 1;
                    $pos = pos($rest);
                } else {
                    Test::More::fail("$name - invalid chunked data received (expected CRLF).");
                }
                last;
            }
            if (length($rest) - $pos < $size) {
                Test::More::fail("$name - invalid chunked data received "
                                 . "(not enough octets for the data section)");
                $body .= substr($rest, $pos);
                $pos = length $rest;
                last;
            }
            $body .= substr($rest, $pos, $size);
            $pos += $size;
            if (substr($rest, $pos, 2) ne "\r\n") {
                Test::More::fail("$name - invalid chunked data received (expected CRLF).");
                last;
            }
            $pos += 2;
        }
        $res->content($body);
        $left = substr($rest, $pos) if $ok && $pos < length $rest;
    } elsif (defined $cl && $cl =~ /^\s*(\d+)\s*$/) {
        my $len = $1;
        if (length $rest < $len) {
            warn "WARNING: $name - response body truncated: $len expected, "
                 . "but got " . length($rest) . "\n";
            $res->content($rest);
        } else {
            $res->content(substr $rest, 0, $len);
            $left = substr $rest, $len if length $rest > $len;
        }
    } else {
        $res->content($rest);
    }

    return ($res, $raw_headers, $left);
}

#--------------------------------------------------------------------------
# Running a block
#--------------------------------------------------------------------------

sub get_indexed_value ($$$$) {
    my ($name, $value, $idx, $need_array) = @_;
    if ($need_array) {
        return $value->[$idx] if ref $value eq 'ARRAY';
        Test::Nginx::Util::bail_out("$name - You asked for many requests, the "
                                    . "expected results should be arrays as well.");
    }
    if (ref $value eq 'ARRAY') {
        Test::Nginx::Util::bail_out("$name - SHOULD NOT HAPPEN: idx != 0 and don't need array.")
            if $idx != 0;
        return $value->[0];
    }
    return $value;
}

sub _quote_sh ($) {
    my $s = shift;
    return $s if $s =~ m{^[-\w./:=@,+%]+$};
    $s =~ s/'/'\\''/g;
    return "'$s'";
}

sub _curl_cmd ($$) {
    my ($block, $req) = @_;
    my $text = join '', map { $_->{value} } @$req;
    my ($head, $body) = split /\r\n\r\n/, $text, 2;
    my @lines = split /\r\n/, $head;
    my ($meth, $uri) = split ' ', shift(@lines);
    my @cmd = ('curl', '-i', '-sS');
    push @cmd, '-X', $meth if $meth ne 'GET' && $meth ne 'HEAD';
    push @cmd, '-I' if $meth eq 'HEAD';
    for my $l (@lines) {
        next if $l =~ /^(?:Host|Connection|Content-Length):/i;
        if ($l =~ /^User-Agent:\s*(.*)/i) { push @cmd, '-A', $1; next }
        push @cmd, '-H', $l;
    }
    push @cmd, '--data-binary', $body if defined $body && length $body;
    my $addr = $block->server_addr_for_client // $Test::Nginx::Util::ServerAddr;
    push @cmd, "http://$addr:$Test::Nginx::Util::ServerPortForClient$uri";
    return join ' ', map { _quote_sh($_) } @cmd;
}

# Called once per repetition of a block (the real one's helper has the same
# name and arguments).
sub run_test_helper ($$$) {
    my ($block, $dry_run, $rep) = @_;
    my $name = $block->name;

    my $reqs = get_req_from_block($block);
    Test::Nginx::Util::bail_out("$name - request empty") if !@$reqs;

    warn "# " . _curl_cmd($block, $reqs->[0]) . "\n" if defined $block->curl;

    my $timeout = Test::Nginx::Util::parse_time(scalar $block->timeout);
    $timeout = Test::Nginx::Util::timeout() if !defined $timeout;

    my $pipelined = $block->pipelined_requests;
    my $need_array = $pipelined ? 1 : (@$reqs > 1 ? 1 : 0);
    my $n_resp_per_req = $pipelined ? scalar(@$pipelined) : 1;
    my $total = @$reqs * $n_resp_per_req;
    my $wait = $block->wait;

    my $res;
    my $idx = 0;
    for my $req (@$reqs) {
        my ($raw, $head_req);
        if ($dry_run) {
            $raw = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n" x $n_resp_per_req;
        } else {
            ($raw, $head_req) = send_request($req, scalar $block->raw_request_middle_delay,
                                             $timeout, $block);
        }
        $raw = '' if !defined $raw;

        for my $k (1 .. $n_resp_per_req) {
            my ($raw_headers, $left);
            if (!defined $block->ignore_response) {
                if (defined $block->http09) {
                    $res = HTTP::Response->new(200, 'OK', [], $raw);
                    $raw_headers = '';
                } else {
                    ($res, $raw_headers, $left) = parse_response($name, $raw, $head_req);
                }
                if ($k == $n_resp_per_req && defined $left && length $left) {
                    (my $l = $left) =~ s/([\0-\037\200-\377])/sprintf('\x{%02x}', ord $1)/eg;
                    warn "WARNING: $name - unexpected extra bytes after last chunk in "
                         . "response: \"$l\"\n";
                }
                $raw = defined $left ? $left : '';

                check_error_code($block, $res, $dry_run, $idx, $need_array);
                check_raw_response_headers($block, $raw_headers, $dry_run, $idx, $need_array);
                check_response_headers($block, $res, $raw_headers, $dry_run, $idx, $need_array);
                transform_response_body($block, $res, $idx);
                check_response_body($block, $res, $dry_run, $idx, $rep, $need_array);
            }

            if ($idx < $total - 1) {
                sleep $wait if $wait;
                check_error_log($block, $res, $dry_run, $rep, $need_array);
                check_access_log($block, $dry_run, $rep) if !defined $block->ignore_response;
            }
            $idx++;
        }
    }

    sleep $wait if $wait;

    # systemtap is not supported: like the real one without
    # TEST_NGINX_USE_STAP, a block with --- stap skips its one stap_out test
    if ($block->stap) {
      SKIP: {
            Test::More::skip("$name - stap_out - tests skipped due to "
                             . "env TEST_NGINX_USE_STAP is not set", 1);
        }
    }

    check_error_log($block, $res, $dry_run, $rep, $need_array);
    check_access_log($block, $dry_run, $rep) if !defined $block->ignore_response;
}

# run one subtest, or skip it in dry-run mode
sub _t ($$&) {
    my ($dry_run, $what, $code) = @_;
  SKIP: {
        Test::More::skip("$what - tests skipped due to $dry_run", 1) if $dry_run;
        $code->();
    }
}

sub check_error_code ($$$$$) {
    my ($block, $res, $dry_run, $idx, $need_array) = @_;
    my $name = $block->name;
    my $got = ($res && $res->code) || '';
    _t $dry_run, $name, sub {
        if (defined(my $like = $block->error_code_like)) {
            my $v = get_indexed_value($name, $like, $idx, $need_array);
            Test::More::like($got, qr/$v/sm, "$name - status code ok");
        } elsif (defined(my $ec = $block->error_code)) {
            Test::More::is($got, get_indexed_value($name, $ec, $idx, $need_array),
                           "$name - status code ok");
        } else {
            Test::More::is($got, 200, "$name - status code ok");
        }
    };
}

sub check_raw_response_headers ($$$$$) {
    my ($block, $raw_headers, $dry_run, $idx, $need_array) = @_;
    my $name = $block->name;
    $raw_headers = '' if !defined $raw_headers;
    if (defined(my $v = $block->raw_response_headers_like)) {
        my $pat = get_indexed_value($name, $v, $idx, $need_array);
        _t $dry_run, "$name - raw_response_headers_like", sub {
            Test::More::like($raw_headers, qr/$pat/s, "$name - raw resp headers like");
        };
    }
    if (defined(my $v = $block->raw_response_headers_unlike)) {
        my $pat = get_indexed_value($name, $v, $idx, $need_array);
        _t $dry_run, "$name - raw_response_headers_unlike", sub {
            Test::More::unlike($raw_headers, qr/$pat/s, "$name - raw resp headers unlike");
        };
    }
}

# "Name: value" lines in order of first appearance (later duplicates win)
sub _header_pairs ($) {
    my $s = shift;
    my (@order, %val);
    for my $line (split /\n/, defined $s ? $s : '') {
        $line =~ s/^\s+|\s+$//g;
        next if $line eq '';
        my ($k, $v);
        if ($line =~ s/^!\s*//) { ($k, $v) = ($line, undef) }
        else { ($k, $v) = split /\s*:\s*/, $line, 2; $v = '' if !defined $v }
        push @order, $k if !exists $val{$k};
        $val{$k} = $v;
    }
    return map { [$_, $val{$_}] } @order;
}

sub check_response_headers ($$$$$$) {
    my ($block, $res, $raw_headers, $dry_run, $idx, $need_array) = @_;
    my $name = $block->name;
    $raw_headers = '' if !defined $raw_headers;
    my $port = $Test::Nginx::Util::ServerPort;
    my $cport = $Test::Nginx::Util::ServerPortForClient;

    if (defined(my $rh = $block->response_headers)) {
        for my $p (_header_pairs(get_indexed_value($name, $rh, $idx, $need_array))) {
            my ($k, $v) = @$p;
            if (!defined $v) {
                _t $dry_run, "$name - response_headers", sub {
                    Test::More::unlike($raw_headers, qr/^\s*\Q$k\E\s*:/ms,
                                       "$name - header $k not present in the raw headers");
                };
                next;
            }
            $v =~ s/\$ServerPort\b/$port/g;
            $v =~ s/\$ServerPortForClient\b/$cport/g;
            my $got = $res ? $res->header($k) : undef;
            $got = '' if !defined $got;
            _t $dry_run, "$name - response_headers", sub {
                Test::More::is($got, $v, "$name - header $k ok");
            };
        }
    } elsif (defined(my $rhl = $block->response_headers_like)) {
        for my $p (_header_pairs(get_indexed_value($name, $rhl, $idx, $need_array))) {
            my ($k, $v) = @$p;
            my $got = $res ? $res->header($k) : undef;
            $got = '' if !defined $got;
            $v = '' if !defined $v;
            _t $dry_run, "$name - response_headers_like", sub {
                Test::More::like($got, qr/^$v$/, "$name - header $k like ok");
            };
        }
    }
}

my %BodyFilters = (
    md5_hex  => sub { Digest::MD5::md5_hex($_[0]) },
    sha1_hex => sub { Digest::SHA::sha1_hex($_[0]) },
    uc       => sub { uc $_[0] },
    lc       => sub { lc $_[0] },
    ucfirst  => sub { ucfirst $_[0] },
    lcfirst  => sub { lcfirst $_[0] },
    length   => sub { length $_[0] },
);

sub transform_response_body ($$$) {
    my ($block, $res, $idx) = @_;
    my $name = $block->name;
    my $filters = $block->response_body_filters;
    return if !defined $filters || !$res || !defined $res->content;

    if (!ref $filters) {
        $filters =~ s/^\s+|\s+$//g;
        $filters = [split /\s+/, $filters];
    } elsif (ref $filters ne 'ARRAY') {
        $filters = [$filters];
    }
    if (@$filters && ref $filters->[0] eq 'ARRAY') {
        $filters = $filters->[$idx];
        Test::Nginx::Util::bail_out("$name - the ---response_body_filters two-dimensional "
                                    . "array unmatch the specified request($idx)")
            if !defined $filters;
    }
    my $body = $res->content;
    for my $f (@$filters) {
        if (ref $f eq 'CODE') { $body = $f->($body); next }
        my $code = $BodyFilters{$f}
            or Test::Nginx::Util::bail_out("$name - unknown filter, \"$f\", specified in "
                                           . "the --- response_body_filters section");
        $body = $code->($body);
    }
    $res->content($body);
}

sub check_response_body ($$$$$$) {
    my ($block, $res, $dry_run, $idx, $rep, $need_array) = @_;
    my $name = $block->name;
    my $port = $Test::Nginx::Util::ServerPort;
    my $cport = $Test::Nginx::Util::ServerPortForClient;
    my $content = $res ? $res->content : undef;

    if (defined(my $file = $block->write_resp_body_file)) {
        if (open my $out, '>', $file) { binmode $out; print $out $content // ''; close $out }
    }

    if (defined $block->response_body || defined $block->response_body_eval) {
        if (defined $block->response_body_json_sort && defined $content) {
            require JSON::PP;
            my $js = JSON::PP->new->canonical(1)->loose(1)->allow_nonref(1);
            my $obj = eval { $js->decode($content) };
            $content = $js->encode($obj) . "\n" if !$@;
        }
        my $expected;
        if (defined(my $e = $block->response_body_eval)) {
            Test::More::diag("$name - response_body_eval is DEPRECATED. Use response_body eval instead.");
            $expected = eval get_indexed_value($name, $e, $idx, $need_array);
            warn $@ if $@;
        } else {
            $expected = get_indexed_value($name, scalar $block->response_body, $idx, $need_array);
        }
        if (defined(my $cs = $block->charset)) {
            Encode::from_to($expected, 'UTF-8', $cs) if defined $expected && !ref $expected;
        }
        if (defined $expected && !ref $expected) {
            $expected =~ s/\$ServerPort\b/$port/g;
            $expected =~ s/\$ServerPortForClient\b/$cport/g;
            $expected = expand_env_in_text($expected, $name, $Test::Nginx::Util::RandPorts);
        }
        _t $dry_run, "$name - response_body", sub {
            if (ref $expected) {
                Test::More::like($content, $expected,
                    "$name - response_body - like (repeated req $rep, req $idx)");
            } else {
                is_str($content, $expected,
                    "$name - response_body - response is expected (repeated req $rep, req $idx)");
            }
        };
    } elsif (defined $block->response_body_like || defined $block->response_body_unlike) {
        my $type = defined $block->response_body_like ? 'like' : 'unlike';
        my $pats = $type eq 'like' ? $block->response_body_like : $block->response_body_unlike;
        my $pat = get_indexed_value($name, $pats, $idx, $need_array);
        if (!ref $pat) {
            $pat =~ s/\$ServerPort\b/$port/g;
            $pat =~ s/\$ServerPortForClient\b/$cport/g;
        }
        my $summary = Test::Nginx::Util::trim($content);
        $summary = '' if !defined $summary;
        _t $dry_run, "$name - response_body_$type", sub {
            my $desc = "$name - response_body_$type - response is expected ($summary)";
            if ($type eq 'like') { Test::More::like($content, qr/$pat/s, $desc) }
            else { Test::More::unlike($content, qr/$pat/s, $desc) }
        };
    }

    for my $check (@ResponseBodyChecks) {
        $check->($block, $content, $idx, $rep, $dry_run);
    }
}

#--------------------------------------------------------------------------
# Log checks
#--------------------------------------------------------------------------

sub _fmt ($) {
    my $s = shift;
    chomp $s;
    $s =~ s/"/\\"/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;
    return $s;
}

sub _patterns ($) {
    my $p = shift;
    return [] if !defined $p;
    if (!ref $p) {
        chomp $p;
        return [grep { length } split /\n+/, $p];
    }
    return [$p] if ref $p eq 'Regexp';
    return [@$p];
}

sub _match ($$) {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ /$pat/ : index($line, $pat) >= 0;
}

sub _mentions ($$) {
    my ($pats, $s) = @_;
    for my $p (@$pats) {
        return 1 if defined $p && (ref $p ? "$p" : $p) =~ /\Q$s\E/;
    }
    return 0;
}

# one test per pattern: it must match some line
sub _must_match ($$$$$) {
    my ($dry_run, $what, $pats, $lines, $descf) = @_;
    for my $pat (@$pats) {
        next if !defined $pat;
        my $found = grep { _match($_, $pat) } @$lines;
        _t $dry_run, $what, sub {
            if ($found) { Test::More::pass($descf->($pat, 1)) }
            else { Test::More::fail($descf->($pat, 0)) }
        };
    }
}

# one test per pattern: it must match no line (reports the first match)
sub _must_not_match ($$$$$) {
    my ($dry_run, $what, $pats, $lines, $descf) = @_;
    for my $pat (@$pats) {
        next if !defined $pat;
        my ($hit, $i) = (undef, 0);
        for (@$lines) { if (_match($_, $pat)) { $hit = $i; last } $i++ }
        _t $dry_run, $what, sub {
            if (!defined $hit) {
                Test::More::pass($descf->(_fmt($pat), undef));
            } else {
                my $ctx = join '', @$lines[$hit + 1 .. min($hit + 9, $#$lines)];
                Test::More::fail($descf->(_fmt($pat), _fmt($lines->[$hit])) . "\n" . $ctx);
            }
        };
    }
}

sub check_error_log ($$$$$) {
    my ($block, $res, $dry_run, $rep, $need_array) = @_;
    my $name = $block->name;
    my $lines;

    my $grep = $block->grep_error_log;
    my $grep_out = $block->grep_error_log_out;
    if (!defined $grep && defined $grep_out) {
        Test::Nginx::Util::bail_out("$name - No --- grep_error_log defined but --- grep_error_log_out is defined");
    }
    if (defined $grep) {
        $grep = $grep->[$rep] if ref $grep eq 'ARRAY';
        Test::Nginx::Util::bail_out("$name - No --- grep_error_log_out defined but --- grep_error_log is defined")
            if !defined $grep_out;
        my $expected = expand_env_in_text($grep_out, $name, $Test::Nginx::Util::RandPorts);
        $expected = $expected->[$rep] if ref $expected eq 'ARRAY';
        _t $dry_run, "$name - error_log", sub {
            $lines ||= error_log_data();
            my $got = '';
            for my $l (@$lines) {
                if (ref $grep ? $l =~ /$grep/ : $l =~ /\Q$grep\E/) {
                    my $m = $&;
                    $got .= "$m\n" if $m !~ /\n/;
                }
            }
            if (ref $expected eq 'Regexp') {
                Test::More::like($got, $expected, "$name - grep_error_log_out (req $rep)");
            } else {
                is_str($got, $expected, "$name - grep_error_log_out (req $rep)");
            }
        };
    }

    my $pats = _patterns(scalar $block->error_log);
    my $npats = _patterns(scalar $block->no_error_log);
    my $all = [@$pats, @$npats];

    if (defined $block->error_log) {
        $lines ||= error_log_data();
        _must_match($dry_run, "$name - error_log", $pats, $lines, sub {
            my ($p, $ok) = @_;
            $ok ? "$name - pattern \"$p\" matches a line in error.log (req $rep)"
                : "$name - pattern \"$p\" should match a line in error.log (req $rep)";
        });
    }
    if (defined $block->no_error_log) {
        $lines ||= error_log_data();
        _must_not_match($dry_run, "$name - no_error_log", $npats, $lines, sub {
            my ($p, $ln) = @_;
            defined $ln
                ? "$name - pattern \"$p\" should not match any line in error.log but matches line \"$ln\" (req $rep)"
                : "$name - pattern \"$p\" does not match a line in error.log (req $rep)";
        });
    }

    return if $dry_run;
    $lines ||= error_log_data();

    for my $lvl (qw(alert crit emerg)) {
        next if _mentions($all, "[$lvl");
        for my $l (@$lines) {
            warn "WARNING: $name - " . _fmt($l) . "\n" if $l =~ /\[$lvl\]/;
        }
    }
    for my $l (@$lines) {
        if ($l =~ /\bAssertion .*?failed\b/
            || $l =~ /worker process \d+ exited on signal \d+/)
        {
            (my $c = $l) =~ s/\s+$//;
            Test::More::fail("$name - $c\n");
        }
    }
}

sub check_access_log ($$$) {
    my ($block, $dry_run, $rep) = @_;
    my $name = $block->name;
    my $lines;
    if (defined $block->access_log) {
        $lines ||= access_log_data();
        _must_match($dry_run, "$name - access_log", _patterns(scalar $block->access_log),
                    $lines, sub {
            my ($p, $ok) = @_;
            $ok ? "$name - pattern \"$p\" matches a line in access.log (req $rep)"
                : "$name - pattern \"$p\" should match a line in access.log (req $rep)";
        });
    }
    if (defined $block->no_access_log) {
        $lines ||= access_log_data();
        _must_not_match($dry_run, "$name - no_access_log", _patterns(scalar $block->no_access_log),
                        $lines, sub {
            my ($p, $ln) = @_;
            defined $ln
                ? "$name - pattern \"$p\" should not match any line in access.log but matches line \"$ln\" (req $rep)"
                : "$name - pattern \"$p\" does not match a line in access.log (req $rep)";
        });
    }
}

# Run after nginx has been stopped at the end of the block.
sub check_shutdown_error_log ($$) {
    my ($block, $dry_run) = @_;
    my $name = $block->name;
    return if !defined $block->shutdown_error_log && !defined $block->no_shutdown_error_log;
    my $lines = error_log_data();

    if (defined $block->shutdown_error_log) {
        _must_match($dry_run, "$name - shutdown_error_log",
                    _patterns(scalar $block->shutdown_error_log), $lines, sub {
            my ($p, $ok) = @_;
            $ok ? "$name - pattern \"$p\" matches a line in error.log"
                : "$name - pattern \"$p\" should match a line in error.log";
        });
    }
    if (defined $block->no_shutdown_error_log) {
        _must_not_match($dry_run, "$name - no_shutdown_error_log",
                        _patterns(scalar $block->no_shutdown_error_log), $lines, sub {
            my ($p, $ln) = @_;
            defined $ln
                ? "$name - pattern \"$p\" should not match any line in error.log but matches line \"$ln\""
                : "$name - pattern \"$p\" does not match a line in error.log";
        });
    }
}

1;
