// scalegen: the load generator of the bench's scaling pass (bench/scaling.ts), in C so that it is
// never the bottleneck, and exact about how many commands are outstanding.
//
//   scalegen PORT pipe SIZE DEPTH SECONDS IDLE
//     One client keeps exactly DEPTH commands outstanding: `ping` when SIZE is 0, else
//     `echo <payload>` lines of SIZE bytes, LF included. Before measuring, IDLE more connections
//     are opened and left silent: they wait for their turn behind the active client.
//   scalegen PORT churn PINGS SECONDS
//     Cycles of connect, PINGS sequential `ping` round trips, `disconnect`, wait for the close.
//
// Both warm up for a fifth of SECONDS, then print `ready connected=K` (K: idle connections
// established) and wait for a line on stdin, so that the caller reads the server's CPU time just
// before the measured stretch; they print `done ops=N secs=S` once every command sent in it is
// answered, and tear down (idle connections closed first, then `disconnect`) when stdin gives
// another line or ends. Exits 1 on a wrong or missing answer, 2 on a usage or socket error.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in addr;
static char rbuf[1 << 20];

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(int code, const char *what) {
  if (errno) fprintf(stderr, "scalegen: %s: %s\n", what, strerror(errno));
  else fprintf(stderr, "scalegen: %s\n", what);
  exit(code);
}

static void fail(int code, const char *what) {
  errno = 0;
  die(code, what);
}

static void nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int connect_blocking(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die(2, "socket");
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) die(2, "connect");
  nodelay(fd);
  return fd;
}

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      die(2, "write");
    }
    p += w;
    n -= (size_t)w;
  }
}

// Blocking: reads one `pong` line (the answers of this tool's round trips fit one read).
static void expect_pong(int fd) {
  size_t have = 0;
  while (have < 5) {
    ssize_t r = read(fd, rbuf + have, 5 - have);
    if (r <= 0) fail(1, "no pong");
    have += (size_t)r;
  }
  if (memcmp(rbuf, "pong\n", 5) != 0) fail(1, "answer is not pong");
}

// Says `disconnect`, ends its side (the C reference server knows no `disconnect`, and closes at the
// end of its input) and waits (at most 10 s) for the server to close.
static void disconnect(int fd) {
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  struct timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  write_all(fd, "disconnect\n", 11);
  shutdown(fd, SHUT_WR);
  while (read(fd, rbuf, sizeof rbuf) > 0) {}
  close(fd);
}

// Waits for a line (or the end) on stdin.
static void await_stdin(void) {
  char line[64];
  if (fgets(line, sizeof line, stdin) == NULL) return;
}

// ---- pipe ----

static int active;
static char *cmds;       // copies of the command, back to back
static size_t clen;      // bytes per command
static size_t alen;      // bytes per answer
static size_t cmds_len;  // bytes in cmds (a whole number of commands)

// Keeps `depth` commands outstanding for `seconds`, then stops sending and takes every answer.
// Returns the commands answered; their time in *secs.
static long run_pipe(long depth, double seconds, double *secs) {
  unsigned long long sent = 0, received = 0;  // bytes
  long answered = 0;
  double start = now(), deadline = start + seconds;
  int stopping = 0;
  for (;;) {
    if (!stopping && now() >= deadline) stopping = 1;
    // Bytes that may go out: the window, or, once stopping, the rest of a partly sent command.
    unsigned long long limit = stopping ? (sent + clen - 1) / clen * clen
                                        : (unsigned long long)(answered + depth) * clen;
    if (stopping && sent / clen == (unsigned long long)answered && sent % clen == 0) break;
    struct pollfd p = {active, POLLIN | (sent < limit ? POLLOUT : 0), 0};
    int ready = poll(&p, 1, 10000);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) fail(1, "no answer within 10 s");
    if (p.revents & POLLOUT) {
      size_t off = (size_t)(sent % cmds_len);
      size_t n = cmds_len - off;
      if (n > limit - sent) n = (size_t)(limit - sent);
      ssize_t w = write(active, cmds + off, n);
      if (w < 0 && errno != EAGAIN && errno != EINTR) die(2, "write");
      if (w > 0) sent += (unsigned long long)w;
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = read(active, rbuf, sizeof rbuf);
      if (r == 0) fail(1, "the server closed the connection");
      if (r < 0 && errno != EAGAIN && errno != EINTR) die(2, "read");
      if (r > 0) {
        for (char *q = rbuf, *end = rbuf + r; (q = memchr(q, '\n', (size_t)(end - q))); q++) {
          answered++;
        }
        received += (unsigned long long)r;
      }
    }
  }
  *secs = now() - start;
  if (received != (unsigned long long)answered * alen) fail(1, "answers of the wrong length");
  return answered;
}

static int pipe_mode(long size, long depth, double seconds, long idle) {
  if (size != 0 && size < 7) die(2, "SIZE must be 0 (ping) or at least 7");
  if (depth < 1) die(2, "DEPTH must be at least 1");
  clen = size == 0 ? 5 : (size_t)size;
  alen = size == 0 ? 5 : (size_t)size - 5;
  // At least 256 KiB of commands, and at least DEPTH of them, so one write can fill the window.
  size_t copies = (size_t)depth;
  if (copies * clen < (256u << 10)) copies = (256u << 10) / clen + 1;
  cmds_len = copies * clen;
  cmds = malloc(cmds_len);
  if (cmds == NULL) die(2, "malloc");
  for (size_t i = 0; i < copies; i++) {
    char *c = cmds + i * clen;
    if (size == 0) memcpy(c, "ping\n", 5);
    else {
      memcpy(c, "echo ", 5);
      for (size_t j = 5; j < clen - 1; j++) c[j] = (char)('a' + (j % 26));
      c[clen - 1] = '\n';
    }
  }
  active = connect_blocking();
  write_all(active, "ping\n", 5);
  expect_pong(active);  // answered: this connection is the server's current client

  int *idle_fds = calloc((size_t)(idle > 0 ? idle : 1), sizeof(int));
  struct pollfd *polls = calloc((size_t)(idle > 0 ? idle : 1), sizeof(struct pollfd));
  long connected = 0;
  for (long i = 0; i < idle; i++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) die(2, "socket (raise ulimit -n?)");
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0 && errno != EINPROGRESS) {
      die(2, "connect");
    }
    idle_fds[i] = fd;
    polls[i] = (struct pollfd){fd, POLLOUT, 0};
  }
  // Established, or still in SYN_SENT after 3 s (a kernel backlog that is full drops the SYN).
  for (double until = now() + 3; idle > 0 && now() < until;) {
    long pending = 0;
    for (long i = 0; i < idle; i++) pending += polls[i].fd >= 0 && !polls[i].revents;
    if (pending == 0) break;
    poll(polls, (nfds_t)idle, 100);
  }
  for (long i = 0; i < idle; i++) {
    int error = 0;
    socklen_t len = sizeof error;
    if ((polls[i].revents & POLLOUT) &&
        getsockopt(idle_fds[i], SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error == 0) {
      connected++;
    }
  }

  fcntl(active, F_SETFL, fcntl(active, F_GETFL) | O_NONBLOCK);
  double secs;
  run_pipe(depth, seconds / 5, &secs);
  printf("ready connected=%ld\n", connected);
  fflush(stdout);
  await_stdin();
  long ops = run_pipe(depth, seconds, &secs);
  printf("done ops=%ld secs=%.6f\n", ops, secs);
  fflush(stdout);
  await_stdin();
  for (long i = 0; i < idle; i++) close(idle_fds[i]);
  disconnect(active);
  return 0;
}

// ---- churn ----

static void cycle(long pings) {
  int fd = connect_blocking();
  for (long i = 0; i < pings; i++) {
    write_all(fd, "ping\n", 5);
    expect_pong(fd);
  }
  disconnect(fd);
}

static int churn_mode(long pings, double seconds) {
  for (double until = now() + seconds / 5; now() < until;) cycle(pings);
  printf("ready connected=0\n");
  fflush(stdout);
  await_stdin();
  long cycles = 0;
  double start = now(), end = start + seconds;
  do {
    cycle(pings);
    cycles++;
  } while (now() < end);
  printf("done ops=%ld secs=%.6f\n", cycles, now() - start);
  fflush(stdout);
  await_stdin();
  return 0;
}

int main(int argc, char **argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the bench
  signal(SIGPIPE, SIG_IGN);
  struct rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  if (argc < 3) die(2, "usage: scalegen PORT pipe SIZE DEPTH SECONDS IDLE | PORT churn PINGS SECONDS");
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(argv[1]));
  addr.sin_addr.s_addr = htonl(0x7f000001);
  if (!strcmp(argv[2], "pipe") && argc == 7) {
    return pipe_mode(atol(argv[3]), atol(argv[4]), atof(argv[5]), atol(argv[6]));
  }
  if (!strcmp(argv[2], "churn") && argc == 5) return churn_mode(atol(argv[3]), atof(argv[4]));
  fail(2, "usage: scalegen PORT pipe SIZE DEPTH SECONDS IDLE | PORT churn PINGS SECONDS");
}
