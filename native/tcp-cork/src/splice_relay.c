/*
 * A kernel-level relay for plain TCP data connections: splice(2) from the source socket into a pipe
 * and from the pipe into the sink socket, so that the bytes stay in the kernel instead of being
 * read(2) into a Node buffer and write(2)n out again.
 *
 *   spliceStart(sourceFd, sinkFd, callback) -> handle
 *   spliceCancel(handle)
 *   spliceAvailable() -> true on Linux
 *
 * Safety with libuv owning the sockets: the caller first stops Node from reading the source and has
 * nothing queued on the sink. The copy runs on a thread of its own (a blocking poll(2) on libuv's
 * threadpool would starve DNS, crypto and fs work), on dup(2)s of the two descriptors: whatever
 * Node does with its own descriptors meanwhile (an error on the sink destroys the socket), the
 * open files stay alive and the numbers cannot be reused under the thread. The thread closes its
 * dups before it reports completion, so that once JS hears `done` and closes its descriptors, the
 * sockets really close (and the sink's FIN follows its last byte).
 *
 * callback(kind, bytesIn, bytesOut, errno, where): kind "progress" (at most every PROGRESS_MS
 * while bytes move) or "done" exactly once; errno 0 with where "eof" is the source's EOF with the
 * pipe drained into the sink, "cancelled" a spliceCancel, otherwise where is "read" or "write".
 */
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "splice_relay.h"

#ifdef __linux__
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* Bounded memory per relay: the pipe holds at most this much (pipe-max-size allowing). */
#define PIPE_BYTES (1024 * 1024)
/* Progress for TimeoutStalled and the byte counters, batched: one message per this many ms at most. */
#define PROGRESS_MS 100

typedef struct message {
  bool done;
  /* Heap-allocated (progress) or the relay's own (done: it must reach JS even when malloc fails). */
  bool allocated;
  uint64_t bytes_in;
  uint64_t bytes_out;
  int error;
  const char *where;
} message_t;

typedef struct relay {
  int source;
  int sink;
  int pipe_read;
  int pipe_write;
  int wake;
  pthread_t thread;
  bool started;
  bool joined;
  atomic_bool cancelled;
  napi_threadsafe_function tsfn;
  napi_env env;
  message_t done_message;
  struct relay *next;
} relay_t;

/* Every relay whose thread may still run, so that an exiting environment can stop and join them. */
static pthread_mutex_t relays_lock = PTHREAD_MUTEX_INITIALIZER;
static relay_t *relays = NULL;

static void close_if_open(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static void relay_close_fds(relay_t *relay) {
  close_if_open(&relay->source);
  close_if_open(&relay->sink);
  close_if_open(&relay->pipe_read);
  close_if_open(&relay->pipe_write);
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void fill(message_t *message, bool done, uint64_t in, uint64_t out, int error, const char *where) {
  message->allocated = !done;
  message->done = done;
  message->bytes_in = in;
  message->bytes_out = out;
  message->error = error;
  message->where = where;
}

static void post_progress(relay_t *relay, uint64_t in, uint64_t out) {
  message_t *message = malloc(sizeof(*message));
  if (!message) return;
  fill(message, false, in, out, 0, "progress");
  if (napi_call_threadsafe_function(relay->tsfn, message, napi_tsfn_nonblocking) != napi_ok) free(message);
}

/* The relay outlives its queued messages: the finalizer that frees it runs once the queue is empty. */
static void post_done(relay_t *relay, uint64_t in, uint64_t out, int error, const char *where) {
  fill(&relay->done_message, true, in, out, error, where);
  napi_call_threadsafe_function(relay->tsfn, &relay->done_message, napi_tsfn_nonblocking);
}

static void *relay_thread(void *arg) {
  relay_t *relay = arg;
  /* Named so that top, perf and /proc/PID/task tell the relay threads from Node's own. */
  pthread_setname_np(pthread_self(), "ftpx-splice");
  uint64_t in = 0, out = 0, reported = 0, last_report = now_ms();
  size_t in_pipe = 0;
  size_t capacity = PIPE_BYTES;
  int got = fcntl(relay->pipe_write, F_GETPIPE_SZ);
  if (got > 0) capacity = (size_t)got;
  bool eof = false;
  /* A splice into the pipe can fail with EAGAIN before `capacity` bytes (the pipe counts slots, not
     bytes): then the source is not polled again until the sink has taken something. */
  bool pipe_full = false;
  int error = 0;
  const char *where = "eof";
  for (;;) {
    if (eof && in_pipe == 0) break;
    struct pollfd fds[3] = {
        {.fd = relay->wake, .events = POLLIN},
        /* A negative fd is skipped: POLLHUP and POLLERR come unasked, and would spin the loop. */
        {.fd = (!eof && !pipe_full && in_pipe < capacity) ? relay->source : -1, .events = POLLIN},
        {.fd = in_pipe > 0 ? relay->sink : -1, .events = POLLOUT},
    };
    int timeout = in > reported ? PROGRESS_MS : -1;
    int ready = poll(fds, 3, timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;
      error = errno;
      where = "poll";
      break;
    }
    if (fds[0].revents || atomic_load(&relay->cancelled)) {
      where = "cancelled";
      break;
    }
    if (fds[1].revents) {
      ssize_t n = splice(relay->source, NULL, relay->pipe_write, NULL, capacity - in_pipe,
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        in_pipe += (size_t)n;
        in += (uint64_t)n;
      } else if (n == 0) {
        eof = true;
      } else if (errno == EAGAIN) {
        /* The source said readable: what is full is the pipe. */
        if (in_pipe > 0) pipe_full = true;
      } else if (errno != EINTR) {
        error = errno;
        where = "read";
        break;
      }
    }
    /* Tried right after a fill, not only on POLLOUT: the sink usually has room, saving a poll. */
    if (in_pipe > 0 && (fds[2].revents || fds[1].revents)) {
      ssize_t n = splice(relay->pipe_read, NULL, relay->sink, NULL, in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        in_pipe -= (size_t)n;
        out += (uint64_t)n;
        pipe_full = false;
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        error = errno;
        where = "write";
        break;
      }
    }
    if (in > reported) {
      uint64_t now = now_ms();
      if (now - last_report >= PROGRESS_MS) {
        post_progress(relay, in, out);
        reported = in;
        last_report = now;
      }
    }
  }
  /* Closed before `done` is posted: when JS hears it, the thread holds none of the sockets. */
  relay_close_fds(relay);
  post_done(relay, in, out, error, where);
  napi_release_threadsafe_function(relay->tsfn, napi_tsfn_release);
  return NULL;
}

static void unlink_relay(relay_t *relay) {
  pthread_mutex_lock(&relays_lock);
  for (relay_t **at = &relays; *at; at = &(*at)->next) {
    if (*at == relay) {
      *at = relay->next;
      break;
    }
  }
  pthread_mutex_unlock(&relays_lock);
}

static void wake(relay_t *relay) {
  atomic_store(&relay->cancelled, true);
  uint64_t one = 1;
  ssize_t ignored = write(relay->wake, &one, sizeof(one));
  (void)ignored;
}

static void join(relay_t *relay) {
  if (relay->started && !relay->joined) {
    pthread_join(relay->thread, NULL);
    relay->joined = true;
  }
}

static void free_relay(relay_t *relay) {
  relay_close_fds(relay);
  close_if_open(&relay->wake);
  free(relay);
}

/* Runs on the main thread after the relay thread's release: it has returned or is returning. */
static void tsfn_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  relay_t *relay = data;
  unlink_relay(relay);
  join(relay);
  free_relay(relay);
}

/* An environment going away (process exit, a worker_thread's end) stops and joins its threads. */
static void env_cleanup(void *arg) {
  napi_env env = arg;
  pthread_mutex_lock(&relays_lock);
  for (relay_t *relay = relays; relay; relay = relay->next)
    if (relay->env == env) wake(relay);
  for (relay_t *relay = relays; relay; relay = relay->next)
    if (relay->env == env) join(relay);
  pthread_mutex_unlock(&relays_lock);
}

static void call_js(napi_env env, napi_value callback, void *context, void *data) {
  (void)context;
  message_t *message = data;
  if (env && callback) {
    napi_value argv[5], undefined;
    napi_create_string_utf8(env, message->done ? "done" : "progress", NAPI_AUTO_LENGTH, &argv[0]);
    napi_create_double(env, (double)message->bytes_in, &argv[1]);
    napi_create_double(env, (double)message->bytes_out, &argv[2]);
    napi_create_int32(env, message->error, &argv[3]);
    napi_create_string_utf8(env, message->where, NAPI_AUTO_LENGTH, &argv[4]);
    napi_get_undefined(env, &undefined);
    napi_call_function(env, undefined, callback, 5, argv, NULL);
  }
  if (message->allocated) free(message);
}

static napi_value throw_errno(napi_env env, const char *what) {
  char text[160];
  snprintf(text, sizeof(text), "%s: %s", what, strerror(errno));
  napi_throw_error(env, NULL, text);
  return NULL;
}

static napi_value splice_start(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) {
    napi_throw_error(env, NULL, "spliceStart(sourceFd, sinkFd, callback) takes three arguments");
    return NULL;
  }
  int32_t source, sink;
  if (napi_get_value_int32(env, argv[0], &source) != napi_ok || source < 0 ||
      napi_get_value_int32(env, argv[1], &sink) != napi_ok || sink < 0) {
    napi_throw_error(env, NULL, "spliceStart: descriptors must be non-negative integers");
    return NULL;
  }
  relay_t *relay = calloc(1, sizeof(*relay));
  if (!relay) return throw_errno(env, "spliceStart");
  relay->source = relay->sink = relay->pipe_read = relay->pipe_write = relay->wake = -1;
  relay->env = env;
  int pipe_fds[2];
  if ((relay->source = fcntl(source, F_DUPFD_CLOEXEC, 0)) < 0 || (relay->sink = fcntl(sink, F_DUPFD_CLOEXEC, 0)) < 0 ||
      pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    int saved = errno;
    free_relay(relay);
    errno = saved;
    return throw_errno(env, "spliceStart");
  }
  relay->pipe_read = pipe_fds[0];
  relay->pipe_write = pipe_fds[1];
  /* Best effort: above /proc/sys/fs/pipe-max-size an unprivileged process gets EPERM and keeps 64 KiB. */
  (void)fcntl(relay->pipe_write, F_SETPIPE_SZ, PIPE_BYTES);
  if ((relay->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
    int saved = errno;
    free_relay(relay);
    errno = saved;
    return throw_errno(env, "spliceStart: eventfd");
  }
  napi_value name;
  napi_create_string_utf8(env, "ftpx splice relay", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[2], NULL, name, 0, 1, relay, tsfn_finalize, NULL, call_js,
                                      &relay->tsfn) != napi_ok) {
    free_relay(relay);
    napi_throw_error(env, NULL, "spliceStart: napi_create_threadsafe_function failed");
    return NULL;
  }
  /* The thread needs a few hundred bytes of stack; the default (8 MiB of address space) adds up over
     thousands of transfers. */
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_mutex_lock(&relays_lock);
  int created = pthread_create(&relay->thread, &attr, relay_thread, relay);
  pthread_attr_destroy(&attr);
  if (created == 0) {
    relay->started = true;
    relay->next = relays;
    relays = relay;
  }
  pthread_mutex_unlock(&relays_lock);
  if (created != 0) {
    /* The finalizer (no thread to join) frees the relay and closes its descriptors. */
    napi_release_threadsafe_function(relay->tsfn, napi_tsfn_abort);
    errno = created;
    return throw_errno(env, "spliceStart: pthread_create");
  }
  napi_value handle;
  if (napi_create_external(env, relay, NULL, NULL, &handle) != napi_ok) return NULL;
  return handle;
}

static napi_value splice_cancel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      napi_get_value_external(env, argv[0], &data) != napi_ok || !data) {
    napi_throw_error(env, NULL, "spliceCancel(handle) takes a handle from spliceStart");
    return NULL;
  }
  /* The relay is freed only after its `done` has been delivered; JS cancels only before that. */
  pthread_mutex_lock(&relays_lock);
  for (relay_t *relay = relays; relay; relay = relay->next) {
    if (relay == data) {
      wake(relay);
      break;
    }
  }
  pthread_mutex_unlock(&relays_lock);
  return NULL;
}

static napi_value splice_available(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, true, &result);
  return result;
}

/* Marks an environment whose cleanup hook is registered: the addon may be initialised more than once
   in one environment, and Node aborts on a second registration of the same hook. */
static int hook_registered;

bool register_splice_relay(napi_env env, napi_value exports) {
  napi_value fn;
  void *marker = NULL;
  if (napi_get_instance_data(env, &marker) != napi_ok) return false;
  if (marker != &hook_registered) {
    if (napi_add_env_cleanup_hook(env, env_cleanup, env) != napi_ok ||
        napi_set_instance_data(env, &hook_registered, NULL, NULL) != napi_ok)
      return false;
  }
  return napi_create_function(env, "spliceStart", NAPI_AUTO_LENGTH, splice_start, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, "spliceStart", fn) == napi_ok &&
         napi_create_function(env, "spliceCancel", NAPI_AUTO_LENGTH, splice_cancel, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, "spliceCancel", fn) == napi_ok &&
         napi_create_function(env, "spliceAvailable", NAPI_AUTO_LENGTH, splice_available, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, "spliceAvailable", fn) == napi_ok;
}

#else

/* Not Linux: no splice(2); the relay stays in JS (edge-worker/ftp/data/splice-relay.ts). */
bool register_splice_relay(napi_env env, napi_value exports) {
  (void)env;
  (void)exports;
  return true;
}

#endif
