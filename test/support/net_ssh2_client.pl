#!/usr/bin/perl
# Net::SSH2 (libssh2), the client ProFTPD mod_proxy's own SSH tests use, driven by ftpx's tests:
#   net_ssh2_client.pl HOST PORT USER PASSWORD OP [ARGS...]
# OPs: auth_none | sftp_without_auth | login | sftp_get REMOTE LOCAL | sftp_put LOCAL REMOTE | readdir PATH | stat PATH
#      | scp_get REMOTE LOCAL | scp_put LOCAL REMOTE
# Prints one line of JSON ({"ok":1,...} or {"ok":0,"error":"..."}) and exits 0 either way.
use strict;
use warnings;
use Fcntl;
use JSON::PP;
use Net::SSH2;

my ($host, $port, $user, $password, $op, @args) = @ARGV;
my $out = { ok => 0 };
$SIG{PIPE} = 'IGNORE';
sub run {
  my $ssh2 = Net::SSH2->new(timeout => 60000);
  $ssh2->connect($host, $port) or die 'connect: ' . join(' ', ($ssh2->error)[1, 2]) . "\n";
  if ($op eq 'auth_none') {
    # SSH_MSG_USERAUTH_REQUEST "none": the server lists its methods and must not let the user in.
    my @methods = $ssh2->auth_list($user);
    $out->{methods} = [@methods];
    die "authenticated without credentials\n" if $ssh2->auth_ok;
    $out->{ok} = 1;
    $ssh2->disconnect();
    return;
  }
  if ($op eq 'sftp_without_auth') {
    die "SFTP channel opened without authentication\n" if $ssh2->sftp();
    $out->{ok} = 1;
    return;
  }
  $ssh2->auth_password($user, $password) or die 'auth_password: ' . join(' ', ($ssh2->error)[1, 2]) . "\n";
  $out->{auth} = 1;
  if ($op eq 'login') {
  } elsif ($op eq 'sftp_get' || $op eq 'sftp_put' || $op eq 'readdir' || $op eq 'stat') {
    my $sftp = $ssh2->sftp() or die 'sftp: ' . join(' ', ($ssh2->error)[1, 2]) . "\n";
    if ($op eq 'sftp_get') {
      my $fh = $sftp->open($args[0], O_RDONLY) or die 'open: ' . join(' ', $sftp->error) . "\n";
      open(my $local, '>', $args[1]) or die "local: $!\n";
      binmode($local);
      my $buf;
      while (my $n = $fh->read($buf, 8192)) { print $local $buf; }
      close($local) or die "local close: $!\n";
      undef $fh;
    } elsif ($op eq 'sftp_put') {
      my $fh = $sftp->open($args[1], O_WRONLY | O_CREAT | O_TRUNC) or die 'open: ' . join(' ', $sftp->error) . "\n";
      open(my $local, '<', $args[0]) or die "local: $!\n";
      binmode($local);
      my $buf;
      while (read($local, $buf, 8192)) { $fh->write($buf) or die 'write: ' . join(' ', $sftp->error) . "\n"; }
      close($local);
      undef $fh;
    } elsif ($op eq 'readdir') {
      my $dir = $sftp->opendir($args[0]) or die 'opendir: ' . join(' ', $sftp->error) . "\n";
      my @names;
      while (my $entry = $dir->read()) { push(@names, $entry->{name}); }
      undef $dir;
      $out->{names} = [sort @names];
    } else {
      my $attrs = $sftp->stat($args[0]) or die 'stat: ' . join(' ', $sftp->error) . "\n";
      $out->{size} = $attrs->{size};
    }
    undef $sftp;
  } elsif ($op eq 'scp_get') {
    $ssh2->scp_get($args[0], $args[1]) or die 'scp_get: ' . join(' ', ($ssh2->error)[1, 2]) . "\n";
  } elsif ($op eq 'scp_put') {
    $ssh2->scp_put($args[0], $args[1]) or die 'scp_put: ' . join(' ', ($ssh2->error)[1, 2]) . "\n";
  } else {
    die "unknown operation $op\n";
  }
  $ssh2->disconnect();
  $out->{ok} = 1;
}
eval { run(); };
if ($@) { chomp(my $err = $@); $out->{error} = $err; }
print encode_json($out), "\n";
