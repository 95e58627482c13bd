/*
 * setCork(fd, on): setsockopt(fd, IPPROTO_TCP, TCP_CORK, on) on a TCP socket Node owns;
 * getCork(fd): whether it is set (for the tests).
 *
 * ftpx corks a data connection before its last write and closes it corked, so that the kernel sends
 * the last bytes and the FIN in one segment, as ProFTPD and mod_proxy do (Node has no TCP_CORK).
 * Linux only; elsewhere both report that the option is not available.
 *
 * The same addon carries the splice(2) relay of plain data connections (splice_relay.c): one build,
 * one file to ship and load, for the two things Node's sockets lack on the data path.
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>

#include "splice_relay.h"

#ifdef __linux__
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#endif

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static napi_value set_cork(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2)
    return throw_error(env, "setCork(fd, on) takes two arguments");
  int32_t fd;
  bool on;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0)
    return throw_error(env, "setCork: fd must be a non-negative integer");
  if (napi_get_value_bool(env, argv[1], &on) != napi_ok)
    return throw_error(env, "setCork: on must be a boolean");
#ifdef __linux__
  int value = on ? 1 : 0;
  if (setsockopt(fd, IPPROTO_TCP, TCP_CORK, &value, sizeof(value)) != 0) {
    char message[128];
    snprintf(message, sizeof(message), "setsockopt(TCP_CORK): %s", strerror(errno));
    return throw_error(env, message);
  }
  return NULL;
#else
  (void)fd;
  (void)on;
  return throw_error(env, "TCP_CORK is not available on this platform");
#endif
}

static napi_value get_cork(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1)
    return throw_error(env, "getCork(fd) takes one argument");
  int32_t fd;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0)
    return throw_error(env, "getCork: fd must be a non-negative integer");
#ifdef __linux__
  int value = 0;
  socklen_t length = sizeof(value);
  if (getsockopt(fd, IPPROTO_TCP, TCP_CORK, &value, &length) != 0) {
    char message[128];
    snprintf(message, sizeof(message), "getsockopt(TCP_CORK): %s", strerror(errno));
    return throw_error(env, message);
  }
  napi_value result;
  if (napi_get_boolean(env, value != 0, &result) != napi_ok) return NULL;
  return result;
#else
  (void)fd;
  return throw_error(env, "TCP_CORK is not available on this platform");
#endif
}

static bool export_function(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, name, fn) == napi_ok;
}

NAPI_MODULE_INIT() {
  if (!export_function(env, exports, "setCork", set_cork) || !export_function(env, exports, "getCork", get_cork) ||
      !register_splice_relay(env, exports))
    return NULL;
  return exports;
}
