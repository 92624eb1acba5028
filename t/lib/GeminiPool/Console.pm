package GeminiPool::Console;

# What the console suites do in a page through GeminiPool::Chromium: run
# JavaScript, wait for a condition, fill, click, read, find toasts.  The
# functions act on the browser given to use_browser().
#
#   use GeminiPool::Console;
#   GeminiPool::Console::use_browser($b);
#   click('#login-submit'); ok(wait_js('!!document.querySelector("#x")'));

use strict;
use warnings;

use Exporter 'import';
use JSON::PP ();
use Test::More ();

our @EXPORT = qw(q_ js wait_js fill click text_of toast_with visible
                 clear_toasts);

my $browser;
my $jsstr = JSON::PP->new->ascii->allow_nonref;

sub use_browser { $browser = $_[0] }

# the console's location of nginx.conf.example, its alias pointed at this
# repository's admin-ui/ (t/085 checks the example itself)
sub location {
    open my $fh, '<', "$GeminiPool::ROOT/nginx.conf.example"
        or die "nginx.conf.example: $!\n";
    local $/;
    my $re = '\n([ \t]*# the operator console.*?'
             . 'location\s+=\s+/admin\s+\{.*?\}\n)';
    my ($loc) = <$fh> =~ /$re/s
        or die "no console location in nginx.conf.example\n";
    $loc =~ s{/usr/share/ngx-gemini-pool/admin-ui/}
             {$GeminiPool::ROOT/admin-ui/};
    return $loc;
}

# a Perl value as a JavaScript literal
sub q_ { $jsstr->encode($_[0]) }

# the value of an expression; undef (and a diagnostic) when it throws
sub js {
    my ($expr) = @_;
    my $v = eval { $browser->eval($expr) };
    Test::More::diag("JavaScript failed: $@") if $@;
    return $v;
}

# (30 s by default: three suites at once on two cores can be slow;
# a condition met returns at once)
sub wait_js { $browser->wait_for($_[0], $_[1] // 30) }

sub fill {
    my ($sel, $value) = @_;
    return js('(() => { const e = document.querySelector(' . q_($sel)
              . '); if (!e) return false; e.value = ' . q_($value)
              . '; e.dispatchEvent(new Event("input", {bubbles: true}));'
              . ' return true; })()');
}

sub click {
    my ($sel) = @_;
    return js('(() => { const e = document.querySelector(' . q_($sel)
              . '); if (!e) return false; e.click(); return true; })()');
}

sub text_of {
    my ($sel) = @_;
    return js('(() => { const e = document.querySelector(' . q_($sel)
              . '); return e ? e.textContent : null; })()');
}

# a toast of the class (".error", ...) whose text matches, within 15 s
sub toast_with {
    my ($cls, $re) = @_;
    return wait_js('[...document.querySelectorAll(".toast' . $cls . '")]'
                   . '.some((t) => new RegExp(' . q_($re)
                   . ').test(t.textContent))', 15);
}

# an expression (for wait_js) true while the element is shown
sub visible {
    my ($sel) = @_;
    return '(() => { const e = document.querySelector(' . q_($sel)
           . '); return !!e && !e.closest("[hidden]") && '
           . 'e.getClientRects().length > 0; })()';
}

sub clear_toasts {
    js('document.querySelectorAll(".toast").forEach((t) => t.remove())');
}

1;
