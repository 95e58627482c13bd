#!/usr/bin/perl
# Drives Perl's Net::FTP (libnet, as ProFTPD's and mod_proxy's own regression suites use it) through a list
# of operations, for the integration tests.
#
# Reads one JSON job on stdin:
#   {"host", "port", "user", "password", "passive": bool (default true), "timeout": seconds,
#    "ops": [{"op": "login"}, {"op": "retr", "path": "a.txt"}, {"op": "list"}, {"op": "quot", "command": "NOOP"}]}
# and prints one JSON object: {"welcome": "220 ...", "results": [{"op": "login", "reply": "230 ..."}, ...]}.
#
# "retr", "list" and "nlst" do what the suites' tests do: open the transfer, read once (up to 8 KiB, 25 s),
# then close the data connection. Net::FTP's close checks for end-of-file without waiting (a read with
# timeout 0); when the server has not closed the data connection by then, Net::FTP sends ABOR and the
# result's "aborted" is true, its reply the ABOR's.
use strict;
use warnings;
use JSON::PP;
use Net::FTP;

local $/;
my $job = decode_json(<STDIN>);
my $ftp = Net::FTP->new(
  $job->{host},
  Port    => $job->{port},
  Passive => (exists $job->{passive} ? ($job->{passive} ? 1 : 0) : 1),
  Timeout => $job->{timeout} // 20,
);
my $out = { results => [] };
unless ($ftp) {
  $out->{connectError} = "$@";
  print encode_json($out);
  exit 0;
}
$out->{welcome} = reply($ftp);

sub reply {
  my ($ftp) = @_;
  my $message = $ftp->message // '';
  $message =~ s/\s+\z//;
  # A multi-line reply's lines come back joined by newlines; the tests compare the last one.
  my @lines = split /\n/, $message;
  return $ftp->code . ' ' . ($lines[-1] // '');
}

sub transfer {
  my ($ftp, $step, $conn) = @_;
  return { reply => reply($ftp), opened => JSON::PP::false } unless $conn;
  my $buf = '';
  my $n = $conn->read($buf, 8192, 25);
  # Net::FTP's close: a 0-timeout read for EOF, ABOR if it is not there yet, then the final reply.
  my $eof_seen = ${*$conn}{'net_ftp_eof'} ? 1 : 0;
  eval { $conn->close() };
  my $aborted = !$eof_seen && $ftp->message =~ /abort/i ? 1 : 0;
  return {
    reply   => reply($ftp),
    bytes   => $n // 0,
    data    => $buf,
    aborted => $aborted ? JSON::PP::true : JSON::PP::false,
  };
}

my %ops = (
  login => sub {
    my ($step) = @_;
    $ftp->login($step->{user} // $job->{user}, $step->{password} // $job->{password});
    return { reply => reply($ftp) };
  },
  user => sub {
    my ($step) = @_;
    $ftp->quot('USER', $step->{user});
    return { reply => reply($ftp) };
  },
  binary => sub { $ftp->binary; return { reply => reply($ftp) } },
  retr   => sub { my ($step) = @_; return transfer($ftp, $step, $ftp->retr($step->{path})) },
  list   => sub { my ($step) = @_; return transfer($ftp, $step, $ftp->list($step->{path} // ())) },
  nlst   => sub { my ($step) = @_; return transfer($ftp, $step, $ftp->nlst($step->{path} // ())) },
  quot   => sub {
    my ($step) = @_;
    my ($verb, @args) = split / /, $step->{command}, 2;
    $ftp->quot($verb, @args);
    return { reply => reply($ftp) };
  },
  quit => sub { $ftp->quit; return { reply => reply($ftp) } },
);

for my $step (@{ $job->{ops} }) {
  my $run = $ops{ $step->{op} } or die "unknown op $step->{op}\n";
  my $result = eval { $run->($step) } // { error => "$@" };
  push @{ $out->{results} }, { op => $step->{op}, %$result };
}
print encode_json($out);
