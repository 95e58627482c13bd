{
  "targets": [
    {
      "target_name": "tcp_cork",
      "sources": ["src/tcp_cork.c", "src/splice_relay.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
