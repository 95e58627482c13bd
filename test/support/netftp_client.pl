#!/usr/bin/perl
# Runs one scripted FTP session with Perl's Net::FTP (Debian's libnet-perl) and prints what the client saw
# as JSON. Net::FTP is the client mod_proxy's regression suite drives; several of its behaviours matter to
# a proxy: it checks the data connection for end-of-file right after reading and sends ABOR if it is not
# there yet, and it waits for the 226 only after closing its side.
#
# Input (stdin, JSON): { host, port, passive (default true), timeout (s), tls: "explicit"|"implicit"|undef,
#   caFile, sslHostname, firewall, firewallType, steps: [ { op, ... } ] }
# Output: { connected, connectError, greeting: { code, lines }, steps: [ { op, ok, code, lines, ... } ] }
use strict;
use warnings;
use JSON::PP;
use Net::FTP;
use Time::HiRes qw(time);

# A data connection the server drops while Net::FTP is still in its TLS handshake (a transfer refused
# with 450 right after Net::FTP connected, before the server accepted) makes IO::Socket::SSL write to
# a reset socket. Like curl and lftp, the client takes that as an error (EPIPE), not a fatal signal.
$SIG{PIPE} = 'IGNORE';

my $input = do { local $/; <STDIN> };
my $spec = decode_json($input);
my $json = JSON::PP->new->canonical;

my %opts = (
  Port => $spec->{port},
  Passive => (defined $spec->{passive} ? ($spec->{passive} ? 1 : 0) : 1),
  Timeout => $spec->{timeout} // 10,
);
$opts{Firewall} = $spec->{firewall} if $spec->{firewall};
$opts{FirewallType} = $spec->{firewallType} if defined $spec->{firewallType};
# TLS arguments apply to AUTH TLS (the starttls step) as well as to implicit FTPS. The server's
# identity is not what the scenarios test (the suite turns name checks off too).
my %ssl = (SSL_verify_mode => 0);
# An empty sslHostname sends no SNI name at all (Net::FTP would name the host it connects to).
$ssl{SSL_hostname} = $spec->{sslHostname} if defined $spec->{sslHostname};
if ($spec->{clientCert}) {
  $ssl{SSL_cert_file} = $spec->{clientCert};
  $ssl{SSL_key_file} = $spec->{clientKey};
}
%opts = (%opts, %ssl);
$opts{SSL} = 1 if ($spec->{tls} // '') eq 'implicit';

my $result = { steps => [] };
my $started = time();
my $ftp = Net::FTP->new($spec->{host} // '127.0.0.1', %opts);
$result->{connectSeconds} = time() - $started;
unless ($ftp) {
  $result->{connected} = JSON::PP::false;
  $result->{connectError} = "$@";
  print $json->encode($result), "\n";
  exit 0;
}
$result->{connected} = JSON::PP::true;
$result->{greeting} = reply($ftp);

sub lines_of {
  my ($ftp) = @_;
  my @lines = $ftp->message;
  # Net::FTP keeps each line's newline; a multi-line reply's lines are separate entries.
  return [map { my $l = $_; $l =~ s/\r?\n\z//; $l } @lines];
}

sub reply {
  my ($ftp) = @_;
  my $code = $ftp->code;
  return { code => ($code ? $code + 0 : 0), lines => lines_of($ftp) };
}

# A data step: open the transfer, move the bytes the way the suite does, close, then the final reply.
sub data_step {
  my ($ftp, $step, $conn) = @_;
  my $out = { %{ reply($ftp) } };
  unless ($conn) {
    $out->{ok} = JSON::PP::false;
    return $out;
  }
  $out->{opened} = { code => $out->{code}, lines => $out->{lines} };
  # The suite's stalled-transfer scenarios: the data connection is open, and nothing moves for a while.
  select(undef, undef, undef, $step->{pauseBeforeSeconds}) if $step->{pauseBeforeSeconds};
  my $timeout = $step->{readTimeout} // 10;
  if ($step->{op} =~ /^(list|nlst|retr|mlsd)$/) {
    my $data = '';
    my $buf;
    if (($step->{read} // 'once') eq 'once') {
      # As the suite does: one read of up to 8192 bytes, then close (Net::FTP aborts if no EOF yet).
      $conn->read($buf, 8192, $timeout);
      $data .= $buf // '';
    } else {
      # As the suite's large-file tests: reads of readSize bytes with a pause between, a slow consumer.
      while (1) {
        my $n = $conn->read($buf, $step->{readSize} // 65536, $timeout);
        last unless $n;
        $data .= $buf;
        select(undef, undef, undef, $step->{pauseMs} / 1000) if $step->{pauseMs};
      }
    }
    # bytes_read counts what crossed the wire (an ASCII download's CRLFs), as the suite's checks do.
    $out->{bytes} = $conn->bytes_read();
    $out->{data} = $data if length($data) <= 1_000_000 && !$step->{noData};
  } elsif ($step->{op} eq 'stor' || $step->{op} eq 'appe') {
    my $payload = defined $step->{data} ? $step->{data} : ('R' x ($step->{size} // 0));
    my $offset = 0;
    while ($offset < length($payload)) {
      my $chunk = substr($payload, $offset, 65536);
      my $n = $conn->write($chunk, length($chunk), $timeout);
      last unless $n;
      $offset += $n;
    }
    $out->{bytes} = $offset;
  }
  if ($step->{abort}) {
    eval { $conn->abort() };
  } else {
    eval { $conn->close() };
  }
  my $final = reply($ftp);
  $out->{code} = $final->{code};
  $out->{lines} = $final->{lines};
  $out->{ok} = JSON::PP::true;
  return $out;
}

for my $step (@{ $spec->{steps} }) {
  my $op = $step->{op};
  my $out;
  my $t0 = time();
  my $ok = eval {
    if ($op eq 'login') {
      my $res = $ftp->login($step->{user}, $step->{pass});
      $out = { %{ reply($ftp) }, ok => ($res ? JSON::PP::true : JSON::PP::false) };
    } elsif ($op eq 'quot') {
      my $digit = $ftp->quot($step->{cmd}, defined $step->{arg} ? ($step->{arg}) : ());
      $out = { %{ reply($ftp) }, ok => ($digit && $digit <= 3 ? JSON::PP::true : JSON::PP::false) };
      # Net::FTP must use (or stop using) the data address the proxy just named or accepted.
      if ($step->{cmd} =~ /^(PASV|EPSV)$/i && $digit && $digit == 2) { ${*$ftp}{net_ftp_passive} = 1 }
      if ($step->{cmd} =~ /^(PORT|EPRT)$/i) { delete ${*$ftp}{net_ftp_passive} }
    } elsif ($op eq 'type') {
      my $res = $step->{type} eq 'binary' ? $ftp->binary() : $ftp->ascii();
      $out = { %{ reply($ftp) }, ok => ($res ? JSON::PP::true : JSON::PP::false) };
    } elsif ($op eq 'starttls') {
      my $res = $ftp->starttls();
      $out = { %{ reply($ftp) }, ok => ($res ? JSON::PP::true : JSON::PP::false) };
    } elsif ($op eq 'prot') {
      my $res = $ftp->prot($step->{level} // 'P');
      $out = { %{ reply($ftp) }, ok => ($res ? JSON::PP::true : JSON::PP::false) };
    } elsif ($op eq 'port') {
      # Net::FTP opens its own listener and names it (PORT, or EPRT on IPv6).
      my $res = $ftp->port();
      $out = { %{ reply($ftp) }, ok => ($res ? JSON::PP::true : JSON::PP::false) };
    } elsif ($op eq 'eprt') {
      my $res = $ftp->eprt();
      $out = { %{ reply($ftp) }, ok => ($res ? JSON::PP::true : JSON::PP::false) };
    } elsif ($op eq 'list') {
      $out = data_step($ftp, $step, $ftp->list(defined $step->{path} ? ($step->{path}) : ()));
    } elsif ($op eq 'nlst') {
      $out = data_step($ftp, $step, $ftp->nlst(defined $step->{path} ? ($step->{path}) : ()));
    } elsif ($op eq 'mlsd') {
      $out = data_step($ftp, $step, $ftp->_data_cmd('MLSD', defined $step->{path} ? ($step->{path}) : ()));
    } elsif ($op eq 'retr') {
      $out = data_step($ftp, $step, $ftp->retr($step->{path}));
    } elsif ($op eq 'stor') {
      $out = data_step($ftp, $step, $ftp->stor($step->{path}));
    } elsif ($op eq 'appe') {
      $out = data_step($ftp, $step, $ftp->appe($step->{path}));
    } elsif ($op eq 'quit') {
      my $res = $ftp->quit();
      $out = { %{ reply($ftp) }, ok => ($res ? JSON::PP::true : JSON::PP::false) };
    } elsif ($op eq 'sleep') {
      select(undef, undef, undef, $step->{seconds});
      $out = { ok => JSON::PP::true };
    } elsif ($op eq 'wait-close') {
      # Reads the control connection until the server closes it; returns what it said last.
      my $line = $ftp->response();
      $out = { %{ reply($ftp) }, ok => JSON::PP::true, closed => ($ftp->connected ? JSON::PP::false : JSON::PP::true) };
    } else {
      die "unknown op $op\n";
    }
    1;
  };
  unless ($ok) {
    $out = { ok => JSON::PP::false, error => "$@" };
  }
  $out->{op} = $op;
  $out->{seconds} = time() - $t0;
  push @{ $result->{steps} }, $out;
  last if $step->{stopOnFailure} && !$out->{ok};
}

print $json->encode($result), "\n";
