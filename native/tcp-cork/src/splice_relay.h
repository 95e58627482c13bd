#ifndef FTPX_SPLICE_RELAY_H
#define FTPX_SPLICE_RELAY_H
#include <node_api.h>
#include <stdbool.h>

/* Adds spliceStart, spliceCancel and spliceAvailable to the addon's exports (Linux only). */
bool register_splice_relay(napi_env env, napi_value exports);

#endif
