{
  "targets": [
    {
      "target_name": "tcp_cork",
      "sources": ["src/tcp_cork.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
