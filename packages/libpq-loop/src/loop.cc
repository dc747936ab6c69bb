// A closed-loop statement runner on libpq (issue 16). One native thread per JavaScript thread
// (the "loop") drives every connection of that thread with epoll, as pgbench's threads drive
// their clients: JavaScript hands a connection a batch of statements in one buffer; the loop sends
// each statement when the previous one completed, times both ends, and calls JavaScript back once
// per batch. So the turnaround between statements is libpq's, not Node's, and no thread is woken
// per statement beyond the loop itself.
//
// Batch encoding (little-endian), per statement:
//   u8 op: 0 simple (text), 1 extended with an unnamed statement, 2 named prepared statement
//   op 0: u32 length (text bytes + NUL), text, NUL
//   op 1: u32 length (text bytes + NUL), text, NUL, then parameters
//   op 2: u32 statement number, u32 length (0 once sent on this connection, else text + NUL),
//         text, NUL, then parameters
//   parameters: u16 count, then per parameter i32 length (-1: NULL), u8 format (0 text, 1
//         binary), the bytes, and for text a NUL (not counted in the length)
// Results, per statement, 4 doubles: sent (ms, CLOCK_MONOTONIC), done (ms), rows, status. In a
// timed batch (below) they are the kernel's software timestamps where the socket gives them
// (SO_TIMESTAMPING: Linux, TCP): "sent" when the statement's first send went to the network
// device, "done" when its answer's last bytes entered this host's network stack, so that they
// leave out this thread's own send path and wake-up (see txStamp() and rxStamp()); else this
// thread's clock around them.
//
// A timed batch (replay and open loop, `run(…, timed = true)`): before the run, JavaScript puts
// each statement's due time (ms, CLOCK_MONOTONIC) and think time (ms; NaN or 0 for none) in the
// first two of its result doubles, and the loop sends statement i at max(its due time, statement
// i − 1's completion + its think time), waiting in epoll until a learnt lead before then and
// spinning the rest (see WakeLead and approach()). A session's statements then
// follow each other as pgbench's do, without a round trip through JavaScript between them: the
// thread that answers the server is the one that sends the next statement.
//
// `run(…, timed = true, realtime = true)`: the loop thread runs under SCHED_FIFO (priority 1)
// while any of its connections runs such a batch, so that a wake-up at a due time preempts the
// threads of the ordinary scheduler instead of waiting for one of them to give up its core (see
// setRealtime()), and goes back to SCHED_OTHER when the last one ends. JavaScript asks
// realtimeRefused() first.
//
// Under SCHED_OTHER (or SCHED_BATCH) a loop thread asks for a short slice (setLoopSlice()):
// where the kernel keeps one (EEVDF, Linux 6.12 and later), the loop, woken at a due time or by
// an answer, preempts a thread on a longer slice sooner, and no privilege is needed.
#include <node_api.h>
#include <libpq-fe.h>

#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <initializer_list>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {

// statement outcomes (the fourth result double)
constexpr double ST_OK = 0;
constexpr double ST_ERROR = 1;         // the server's error: SQLSTATE and message in `errors`
constexpr double ST_TIMEOUT = 2;       // no answer before the deadline; cancelled, answered
constexpr double ST_LOST = 3;          // the connection failed (message in `errors`)
constexpr double ST_TIMEOUT_LOST = 4;  // no answer to the cancel either: connection closed
constexpr double ST_CLIENT = 5;        // the batch could not be read here (message in `errors`)
constexpr double CANCEL_GRACE_MS = 1000;
constexpr const char* LOOP_THREAD_NAME = "stb-pq-loop";  // /proc/<pid>/task/*/comm (15 chars at most)

enum JobKind { JOB_NONE = 0, JOB_CONNECT = 1, JOB_RUN = 2, JOB_CLOSE = 3 };
enum Phase { IDLE = 0, PREPARING = 1, EXECUTING = 2 };

/** Clock `id` now, in ms. */
double clockMs(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

/** The loop's clock (CLOCK_MONOTONIC), in ms. */
double monoMs() { return clockMs(CLOCK_MONOTONIC); }

/** Statements whose sent and done times came from the kernel's timestamps (all threads). */
std::atomic<uint64_t> sentStamped{0};
std::atomic<uint64_t> doneStamped{0};

struct ErrInfo {
  uint32_t index;
  std::string code;
  std::string message;
};

struct Reader {
  const uint8_t* p = nullptr;
  const uint8_t* end = nullptr;
  bool ok = true;
  /** A little-endian number of type T (the host's order: x86-64 and arm64 are little-endian). */
  template <typename T>
  T num() {
    if (p + sizeof(T) > end) return ok = false, T{};
    T v;
    std::memcpy(&v, p, sizeof(T));
    p += sizeof(T);
    return v;
  }
  uint8_t u8() { return num<uint8_t>(); }
  uint16_t u16() { return num<uint16_t>(); }
  uint32_t u32() { return num<uint32_t>(); }
  const char* bytes(size_t n) {
    if (p + n > end) return ok = false, nullptr;
    const char* s = reinterpret_cast<const char*>(p);
    p += n;
    return s;
  }
};

struct Params {
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  bool read(Reader& r) {
    uint16_t n = r.u16();
    values.resize(n);
    lengths.resize(n);
    formats.resize(n);
    for (uint16_t i = 0; i < n && r.ok; i++) {
      int32_t len = static_cast<int32_t>(r.u32());
      uint8_t fmt = r.u8();
      formats[i] = fmt;
      if (len < 0) {
        values[i] = nullptr;
        lengths[i] = 0;
        continue;
      }
      lengths[i] = len;
      values[i] = r.bytes(static_cast<size_t>(len) + (fmt == 0 ? 1 : 0));
    }
    return r.ok;
  }
};

struct Loop;

struct Conn {
  std::shared_ptr<Loop> loop;
  napi_threadsafe_function tsfn = nullptr;
  napi_ref self = nullptr;  // strong while a job is pending: no finalizer mid-job
  int pending = 0;          // JS thread: jobs handed over and not called back
  bool closed = false;      // JS thread: close() called
  bool connecting = false;  // JS thread: connect() called and not called back
  // guarded by the loop's mu: its lifetime's end (see dispose())
  bool connectInFlight = false;  // a connect thread still runs with it
  bool orphaned = false;         // disposed while the connect thread ran: that thread frees it
  bool wrapperGone = false;      // the JS object was finalized
  std::string conninfo;
  int queryTimeoutMs = 300000;
  std::atomic<int> backendPid{0};
  std::string serverVersion;  // written before the connect callback
  std::string failure;
  // the loop thread's
  PGconn* pg = nullptr;
  int fd = -1;
  bool inEpoll = false;
  bool wantOut = false;
  std::unordered_map<uint32_t, std::string> texts;
  std::vector<uint8_t> prepared;
  // the running batch (loop thread; read by JS after the run callback)
  bool running = false;
  Reader r;
  uint32_t count = 0;
  uint32_t i = 0;
  double* out = nullptr;
  napi_ref opsRef = nullptr;
  napi_ref outRef = nullptr;
  Phase phase = IDLE;
  Params params;
  char name[24] = {0};  // "n<stmtId>", empty before the first named statement
  uint32_t stmtId = 0;  // the named statement being sent (`name`)
  double sent = 0, deadline = 0, rows = 0;
  // the kernel's timestamps are on for this socket (timed batches; see setWireStamps())
  bool stampsOn = false;
  bool stampsRefused = false;  // not TCP, or it refused SO_TIMESTAMPING: not asked again
  bool txSeen = false;         // the statement running got its transmit timestamp
  double rxAt = 0;  // > 0: when its answer's latest bytes arrived (CLOCK_MONOTONIC ms)
  double status = ST_OK;
  std::string code, message;
  bool cancelSent = false, timedOut = false;
  bool interrupt = false;
  bool timed = false;    // a timed batch: statements wait for their due times
  bool realtime = false;  // the timed batch asks for the loop thread under SCHED_FIFO
  bool fifoHeld = false;  // it is counted in its loop's fifoBatches (loop thread)
  double waitUntil = 0;  // > 0: statement i waits until then (ms, CLOCK_MONOTONIC) to be sent
  // a cancel request's thread still runs (shared with it: the thread may outlive this Conn)
  std::shared_ptr<std::atomic<bool>> cancelling = std::make_shared<std::atomic<bool>>(false);
  double cancelWaitSince = 0;  // > 0: statement i has waited for that thread since then
  // waitUntil is a look again at that thread, not a due time: set in startNext(), cleared there
  // when the wait ends, and by finishRun() when the batch does
  bool cancelWait = false;
  uint32_t ran = 0;
  std::vector<ErrInfo> errors;
};

enum CmdKind { CMD_RUN, CMD_CANCEL, CMD_INTERRUPT, CMD_CLOSE, CMD_DISPOSE };

struct Cmd {
  CmdKind kind;
  Conn* conn;
};

/** The longest single wait of the loop, in ms (a day). */
constexpr double MAX_WAIT_MS = 86400e3;

/**
 * The largest lead the loop keeps (ms): a wake-up later than that is not the timer's usual one, and
 * the lead bounds the spin before each due time (on a loaded machine the lateness may exceed it).
 */
constexpr double MAX_LEAD_MS = 0.1;

/** The shortest wait whose lateness counts (ms): a shorter one measures the system call more. */
constexpr double MIN_NOTED_WAIT_MS = 0.05;

// timed waits so far in this process (every loop thread), for timedWaits(): those noted in a
// lead, those that then spun to a due time, and the µs spun
std::atomic<uint64_t> waitsNoted{0};
std::atomic<uint64_t> waitsSpun{0};
std::atomic<uint64_t> spunUs{0};

// the loop threads' switches between the schedulers so far in this process, for
// realtimeSwitches(): to SCHED_FIFO, back to SCHED_OTHER, and the switches refused
std::atomic<uint64_t> toFifo{0};
std::atomic<uint64_t> toOther{0};
std::atomic<uint64_t> switchesRefused{0};
// timed waits under SCHED_FIFO that began with the spin budget spent: they asked for the due time
// itself, with no lead, and did not spin; and those of them that woke before their due time and
// waited again (none: a timer never ends early, so only a wait asked for the lead anyway would)
std::atomic<uint64_t> spinsDenied{0};
std::atomic<uint64_t> unspunWokeEarly{0};

/**
 * How late the kernel wakes the loop from a wait that sleeps to its end: the median of the last
 * WAITS such waits (ms, each counted at most MAX_LEAD_MS). The loop asks to wake that much before
 * a timed statement's due time and spins the rest (see approach()). So about half the statements
 * go out at their due time, and the others late by what their wake-up exceeded the lead, rather
 * than all one whole wake-up late: with the thread's timer slack at 1 ns, that wake-up still took
 * a median 52 µs on a 2-core VM (`docs/benchmarking.md`).
 */
struct WakeLead {
  static constexpr int WAITS = 32;
  double late[WAITS] = {0};
  int count = 0;
  int next = 0;
  double ms = 0;

  void note(double lateMs) {
    late[next] = std::min(std::max(lateMs, 0.0), MAX_LEAD_MS);
    next = (next + 1) % WAITS;
    if (count < WAITS) count++;
    // the median again every 8 waits (and on the first ones, while it is still learnt)
    if (count >= 8 && next % 8 != 0) return;
    double sorted[WAITS];
    std::copy(late, late + count, sorted);
    std::nth_element(sorted, sorted + count / 2, sorted + count);
    ms = sorted[count / 2];
  }
};

struct Loop {
  WakeLead lead;                      // loop thread
  bool fifo = false;                  // loop thread: it runs under SCHED_FIFO (setRealtime())
  int fifoBatches = 0;                // loop thread: running batches that asked for SCHED_FIFO
  double spinWindowAt = 0;            // loop thread: the spin budget's window (approach())
  double spinWindowMs = 0;            // loop thread: spun in that window
  std::atomic<double> leadShown{0};  // lead.ms, for wakeLeads() on the JavaScript thread
  int epfd = -1;
  int wakeFd = -1;
  std::thread thread;
  std::mutex mu;
  std::vector<Cmd> cmds;  // guarded by mu
  bool quit = false;      // guarded by mu
  // loop thread
  std::unordered_set<Conn*> conns;
};

void noticeSink(void*, const char*) {}

std::string pgMessage(PGconn* pg) {
  std::string m = pg != nullptr ? PQerrorMessage(pg) : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

/** Calls JavaScript back (under the loop's lock: the environment's teardown may end the callback). */
void notify(Conn* c, JobKind job) {
  std::lock_guard<std::mutex> lock(c->loop->mu);
  if (c->tsfn != nullptr)
    napi_call_threadsafe_function(c->tsfn, reinterpret_cast<void*>(static_cast<intptr_t>(job)),
                                  napi_tsfn_nonblocking);
}

/**
 * Sends a cancel request on a short-lived thread (PQcancel blocks while it connects). Until that
 * thread returns, no statement is sent on the connection (see startNext): the request may reach
 * the server after the statement it was meant for has ended, and would then stop the next one.
 * The thread wakes the loop when it returns.
 */
void sendCancel(Conn* c) {
  if (c->pg == nullptr) return;
  PGcancel* cancel = PQgetCancel(c->pg);
  if (cancel == nullptr) return;
  std::shared_ptr<std::atomic<bool>> busy = c->cancelling;
  std::shared_ptr<Loop> L = c->loop;
  busy->store(true);
  std::thread([cancel, busy, L] {
    // started by a loop thread that may run under SCHED_FIFO: a blocking connect is due nowhere;
    // named after, so a thread by that name is never seen under the loop's policy
    sched_param p{};
    pthread_setschedparam(pthread_self(), SCHED_OTHER, &p);
    prctl(PR_SET_NAME, "stb-pq-cancel", 0UL, 0UL, 0UL);
    char err[256];
    PQcancel(cancel, err, sizeof err);
    PQfreeCancel(cancel);
    busy->store(false);
    std::lock_guard<std::mutex> lock(L->mu);
    if (L->quit) return;  // the loop has ended; its wake-up descriptor may be closed
    uint64_t one = 1;
    ssize_t w = write(L->wakeFd, &one, sizeof one);
    (void)w;
  }).detach();
}

void closePg(Loop* L, Conn* c) {
  if (c->inEpoll) epoll_ctl(L->epfd, EPOLL_CTL_DEL, c->fd, nullptr);
  c->inEpoll = false;
  c->wantOut = false;
  if (c->pg != nullptr) PQfinish(c->pg);
  c->pg = nullptr;
  c->fd = -1;
  c->stampsOn = false;
  c->stampsRefused = false;
  L->conns.erase(c);
}

void releaseFifo(Loop* L, Conn* c);

/**
 * Ends the running batch and calls JavaScript back. A wait for a cancel request's thread ends with
 * it: the next batch waits for its due times as due times, with the lead, and a statement that
 * comes due while the thread still runs waits for it in startNext(), the grace counted from the
 * first wait (until 2026-12-07 a batch interrupted in that wait left the next one's first due time
 * waited for as a look again at the thread).
 */
void finishRun(Conn* c) {
  if (c->fifoHeld) releaseFifo(c->loop.get(), c);
  c->cancelWait = false;
  c->running = false;
  c->phase = IDLE;
  notify(c, JOB_RUN);
}

/** Records the statement that just ended as statement `i`, and moves on. */
void record(Conn* c, double status) {
  double* o = c->out + 4 * c->i;
  o[0] = c->sent;
  o[1] = monoMs();
  // an answer (rows or the server's error) timed on its arrival; a timeout or a lost connection
  // when the loop gave up
  if (c->rxAt > 0 && (status == ST_OK || status == ST_ERROR)) {
    o[1] = c->rxAt;
    doneStamped.fetch_add(1);
  }
  o[2] = status == ST_OK ? c->rows : 0;
  o[3] = status;
  if (status != ST_OK) c->errors.push_back({c->i, c->code, c->message});
  c->i++;
  c->ran = c->i;
}

/** The connection failed mid-statement: record it, close it, end the batch. */
void lose(Loop* L, Conn* c, double status, const std::string& message) {
  c->code.clear();
  c->message = message;
  record(c, status);
  closePg(L, c);
  finishRun(c);
}

bool flush(Loop* L, Conn* c) {
  int f = PQflush(c->pg);
  if (f < 0) return false;
  bool want = f == 1;
  if (want != c->wantOut) {
    epoll_event ev{};
    ev.events = want ? static_cast<uint32_t>(EPOLLIN | EPOLLOUT) : static_cast<uint32_t>(EPOLLIN);
    ev.data.ptr = c;
    epoll_ctl(L->epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->wantOut = want;
  }
  return true;
}

/** The software timestamp in a message's control data, on the loop's clock (ms); 0 for none. */
double stampOf(msghdr* m) {
  for (cmsghdr* cm = CMSG_FIRSTHDR(m); cm != nullptr; cm = CMSG_NXTHDR(m, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPING) continue;
    scm_timestamping ts;
    std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
    if (ts.ts[0].tv_sec == 0 && ts.ts[0].tv_nsec == 0) continue;
    // the kernel stamps on CLOCK_REALTIME: moved to CLOCK_MONOTONIC by their difference now
    return static_cast<double>(ts.ts[0].tv_sec) * 1e3 +
           static_cast<double>(ts.ts[0].tv_nsec) / 1e6 - (clockMs(CLOCK_REALTIME) - monoMs());
  }
  return 0;
}

/**
 * `recvmsg` with room for a timestamp's control message: `*at` is its timestamp on the loop's
 * clock (0 for none).
 */
ssize_t recvStamped(int fd, int flags, char* data, size_t size, double* at) {
  char ctrl[256];
  iovec v{data, size};
  msghdr m{};
  m.msg_iov = &v;
  m.msg_iovlen = 1;
  m.msg_control = ctrl;
  m.msg_controllen = sizeof ctrl;
  ssize_t n = recvmsg(fd, &m, flags);
  *at = n < 0 ? 0 : stampOf(&m);
  return n;
}

/**
 * Reads the socket's queued transmit timestamps (its error queue; with OPT_TSONLY they carry no
 * data). The first one of the statement running, when it lies between the time this thread took
 * before the send and now, becomes its "sent": when its bytes went to the network device rather
 * than when this thread began to send them. Later ones (the rest of a long statement, the
 * execute after a prepare) are read and dropped, so that epoll stops reporting EPOLLERR.
 *
 * Why (issue 16): after a wait for a due time, the send itself is slow. By hand on a 2-core VM
 * (kernel trace events, 2026-12-06): a median of 53–54 µs from the system call to its return, much
 * of it before the packet reached the loopback device, against 6–9 µs from a thread that had just
 * read an answer; pgbench's threads mostly send a transaction's first statement right after
 * reading another client's answer, and rarely paid it. A replayed BEGIN's median service time
 * was 0.14–0.17 ms on the loop's clock where tcpdump put its wire time at 0.095–0.106 ms.
 */
void txStamp(Conn* c) {
  char data[64];
  for (;;) {
    double at = 0;
    if (recvStamped(c->fd, MSG_ERRQUEUE | MSG_DONTWAIT, data, sizeof data, &at) < 0) return;
    if (!c->stampsOn || c->txSeen || c->phase == IDLE || at == 0) continue;
    // an earlier statement's, or one the clocks' difference put out of bounds: not this one's
    if (at < c->sent || at > monoMs()) continue;
    c->txSeen = true;
    c->sent = at;
    sentStamped.fetch_add(1);
  }
}

/** Bytes rxStamp() peeks at: an OLTP answer's, most of the time all that is queued. */
constexpr size_t RX_PEEK_BYTES = 16384;

/**
 * When the bytes waiting on the socket arrived (a software receive timestamp, read with MSG_PEEK
 * so that libpq still reads them; TCP gives the time of the last segment the peek reached, so
 * the peek takes up to RX_PEEK_BYTES, and when that many are queued the time is left unknown).
 * Called right before each read while a statement runs, so the last call before its answer is
 * complete gives its "done": when the answer's last bytes entered this host's network stack, not
 * when this thread woke up to read them (the other half of the client's own time, as above: the
 * wake-up after a wait was the slow one). Bytes that arrive between the peek and libpq's read are
 * read without a time of their own: a many-segment answer can be timed by an earlier segment.
 */
void rxStamp(Conn* c) {
  static thread_local char data[RX_PEEK_BYTES];
  double at = 0;
  ssize_t n = recvStamped(c->fd, MSG_PEEK | MSG_DONTWAIT, data, sizeof data, &at);
  if (n <= 0) return;
  // more may be queued than was peeked: its last bytes' time is not known, nor the answer's end
  if (n == static_cast<ssize_t>(sizeof data)) {
    c->rxAt = 0;
    return;
  }
  if (at >= c->sent && at <= monoMs()) c->rxAt = at;
}

/**
 * The kernel's software timestamps on (timed batches: replay and open loop) or off (closed loop,
 * where each statement is sent by a thread that has just read an answer, and where the three
 * extra system calls per statement would cost throughput: two `recvmsg` on the error queue, the
 * second finding it empty, and a peek). Asked once per connection and batch kind; only of a TCP
 * socket (a Unix socket takes the option but stamps nothing); one that refuses keeps this
 * thread's clock.
 */
void setWireStamps(Conn* c, bool on) {
  if (c->stampsOn == on || (on && c->stampsRefused)) return;
  if (on) {
    // a Unix socket takes the option but stamps nothing: not asked, no system calls for nothing
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getsockname(c->fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        (addr.ss_family != AF_INET && addr.ss_family != AF_INET6)) {
      c->stampsRefused = true;
      return;
    }
  }
  int flags = on ? SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE |
                       SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
                       SOF_TIMESTAMPING_OPT_TSONLY
                 : 0;
  if (setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) != 0) {
    if (on) c->stampsRefused = true;
    return;
  }
  c->stampsOn = on;
  // timestamps still queued would keep epoll reporting EPOLLERR
  if (!on) txStamp(c);
}

void beginStatement(Conn* c, double sent) {
  c->sent = sent;
  c->deadline = sent + c->queryTimeoutMs;
  c->rows = 0;
  c->status = ST_OK;
  c->code.clear();
  c->message.clear();
  c->cancelSent = false;
  c->timedOut = false;
  c->txSeen = false;
  c->rxAt = 0;
}

/**
 * A statement of the batch that cannot be sent (a malformed batch, a statement number without its
 * text): it fails as the client's error and the batch ends, since what follows may not be read
 * right. The caller sees every statement before it, and this one.
 */
void refuse(Conn* c, const char* why) {
  c->code.clear();
  c->message = why;
  c->sent = monoMs();
  record(c, ST_CLIENT);
  finishRun(c);
}

/** Sends the named statement `c->name` with the parameters read for it. */
int sendPrepared(Conn* c) {
  c->phase = EXECUTING;
  return PQsendQueryPrepared(c->pg, c->name, static_cast<int>(c->params.values.size()),
                             c->params.values.data(), c->params.lengths.data(),
                             c->params.formats.data(), 0);
}

/**
 * In a timed batch, when statement i may be sent (ms, CLOCK_MONOTONIC): its due time, and not
 * before statement i − 1's completion plus its think time.
 */
double sendTime(const Conn* c) {
  const double* t = c->out + 4 * c->i;
  double at = t[0];
  // t[1] > 0 is false for NaN (no think time)
  if (c->i > 0 && t[1] > 0) at = std::max(at, c->out[4 * (c->i - 1) + 1] + t[1]);
  return at;
}

/** Sends the next statement of the batch (in a timed batch, once it is due), or ends the batch. */
void startNext(Loop* L, Conn* c) {
  if (c->i >= c->count || c->interrupt) return finishRun(c);
  if (c->timed) {
    double at = sendTime(c);
    if (at > monoMs()) {
      c->waitUntil = at;
      return;
    }
    c->waitUntil = 0;
  }
  if (c->cancelling->load()) {
    // a cancel request may still reach the server: wait for it (looking again every ms; the
    // cancel's thread wakes the loop when it returns), at most CANCEL_GRACE_MS, then give the
    // connection up as one whose cancel never completed
    double now = monoMs();
    if (c->cancelWaitSince == 0) c->cancelWaitSince = now;
    if (now - c->cancelWaitSince < CANCEL_GRACE_MS) {
      c->waitUntil = now + 1;
      c->cancelWait = true;
      return;
    }
    c->cancelWaitSince = 0;
    c->waitUntil = 0;
    c->sent = now;
    return lose(L, c, ST_LOST, "a cancel request did not complete within 1000 ms");
  }
  if (c->cancelWaitSince > 0) {
    c->cancelWaitSince = 0;
    c->waitUntil = 0;
    c->cancelWait = false;
  }
  Reader& r = c->r;
  uint8_t op = r.u8();
  int ok = 0;
  if (op == 0 || op == 1) {
    uint32_t len = r.u32();
    const char* text = r.bytes(len);
    if (op == 1 && !c->params.read(r)) return refuse(c, "malformed batch: parameters");
    if (!r.ok || len == 0) return refuse(c, "malformed batch: statement text");
    beginStatement(c, monoMs());
    c->phase = EXECUTING;
    ok = op == 0 ? PQsendQuery(c->pg, text)
                 : PQsendQueryParams(c->pg, text, static_cast<int>(c->params.values.size()),
                                     nullptr, c->params.values.data(),
                                     c->params.lengths.data(), c->params.formats.data(), 0);
  } else if (op == 2) {
    uint32_t id = r.u32();
    uint32_t len = r.u32();
    if (len > 0) {
      const char* text = r.bytes(len);
      if (!r.ok) return refuse(c, "malformed batch: statement text");
      c->texts[id] = std::string(text, len - 1);
    }
    if (!c->params.read(r)) return refuse(c, "malformed batch: parameters");
    // formatted when the number differs from the previous statement's, not for every statement
    // (snprintf was 1.4 % of the loop threads' perf samples on point selects)
    if (id != c->stmtId || c->name[0] == 0) std::snprintf(c->name, sizeof c->name, "n%u", id);
    c->stmtId = id;
    if (id >= c->prepared.size()) c->prepared.resize(id + 1, 0);
    beginStatement(c, monoMs());
    if (!c->prepared[id]) {
      auto t = c->texts.find(id);
      if (t == c->texts.end())
        return refuse(c, "a prepared statement's number without its text on this connection");
      c->phase = PREPARING;
      ok = PQsendPrepare(c->pg, c->name, t->second.c_str(), 0, nullptr);
    } else {
      ok = sendPrepared(c);
    }
  } else {
    return refuse(c, "malformed batch: unknown operation");
  }
  if (!ok || !flush(L, c)) return lose(L, c, ST_LOST, pgMessage(c->pg));
  if (c->stampsOn) txStamp(c);
}

/** libpq has a whole answer to the statement running: its results, then the next statement. */
void onAnswer(Loop* L, Conn* c) {
  for (;;) {
    if (PQisBusy(c->pg)) return;
    PGresult* res = PQgetResult(c->pg);
    if (res == nullptr) break;
    switch (PQresultStatus(res)) {
      case PGRES_TUPLES_OK:
        c->rows = PQntuples(res);
        break;
      case PGRES_COMMAND_OK:
        c->rows = std::atof(PQcmdTuples(res));
        break;
      case PGRES_FATAL_ERROR:
      case PGRES_NONFATAL_ERROR:
        if (c->status == ST_OK) {
          const char* s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
          const char* m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
          c->code = s != nullptr ? s : "";
          c->message = m != nullptr ? m : PQresultErrorMessage(res);
          c->status = ST_ERROR;
        }
        break;
      case PGRES_COPY_IN:
      case PGRES_COPY_OUT:
      case PGRES_COPY_BOTH:
        PQclear(res);
        return lose(L, c, ST_LOST, "COPY is not supported by the pg-native plugin");
      default:
        break;
    }
    PQclear(res);
  }
  if (PQstatus(c->pg) == CONNECTION_BAD) return lose(L, c, ST_LOST, pgMessage(c->pg));
  if (c->phase == PREPARING && c->status == ST_OK) {
    // prepared: now the statement itself (its time counts from the Parse; its end is the
    // Execute's answer, not the Parse's)
    c->prepared[c->stmtId] = 1;
    c->rxAt = 0;
    if (!sendPrepared(c) || !flush(L, c))
      return lose(L, c, ST_LOST, pgMessage(c->pg));
    // its transmit timestamp, read now rather than at an extra wake-up for EPOLLERR
    if (c->stampsOn) txStamp(c);
    return;
  }
  double status = c->status;
  if (c->timedOut && status == ST_ERROR && c->code == "57014") status = ST_TIMEOUT;
  record(c, status);
  startNext(L, c);
}

/**
 * The connection failed: a statement in flight, or the next one of a timed batch waiting for its
 * due time (it could not be sent), ends lost; else the connection just closes.
 */
void failed(Loop* L, Conn* c, const std::string& why) {
  if (!c->running) return closePg(L, c);
  if (c->waitUntil > 0) {
    c->waitUntil = 0;
    c->sent = monoMs();
  }
  lose(L, c, ST_LOST, why);
}

void failed(Loop* L, Conn* c) { failed(L, c, pgMessage(c->pg)); }

void onReady(Loop* L, Conn* c, uint32_t events) {
  if (c->pg == nullptr) return;
  // a transmit timestamp queued after the send returned (a device that sends later), drained
  // whether or not they are on now: a queued one keeps epoll reporting EPOLLERR
  if (events & EPOLLERR) txStamp(c);
  if ((events & EPOLLOUT) && !flush(L, c)) return failed(L, c);
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    // right before libpq reads, whatever woke the loop: what it reads is what is stamped
    if (c->stampsOn && c->running && c->waitUntil == 0 && c->phase != IDLE) rxStamp(c);
    if (!PQconsumeInput(c->pg)) return failed(L, c);
    if (c->running && c->waitUntil == 0) onAnswer(L, c);
    else {
      // between batches or statements: notices or a server going away
      while (!PQisBusy(c->pg)) {
        PGresult* res = PQgetResult(c->pg);
        if (res == nullptr) break;
        PQclear(res);
      }
      if (PQstatus(c->pg) == CONNECTION_BAD) failed(L, c);
    }
  }
}

/** sched_attr (linux/sched/types.h clashes with glibc's sched.h; glibc < 2.41 has no wrapper). */
struct SchedAttr {
  uint32_t size;
  uint32_t policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime;  // SCHED_OTHER and SCHED_BATCH: the slice (ns), Linux 6.12 and later
  uint64_t deadline;
  uint64_t period;
};
static_assert(sizeof(SchedAttr) == 48, "struct sched_attr as of SCHED_ATTR_SIZE_VER0");

constexpr uint64_t SCHED_RESET_ON_FORK_FLAG = 0x01;  // SCHED_FLAG_RESET_ON_FORK

/** The slice the loop threads ask for (µs: 0, the kernel's own, or 100–100,000; loopSlice()). */
std::atomic<uint64_t> loopSliceUs{100};

// the loop threads' slices so far in this process, for loopSlice(): asked for, kept by the kernel
// (read back as asked), refused (the call failed)
std::atomic<uint64_t> slicesAsked{0};
std::atomic<uint64_t> slicesKept{0};
std::atomic<uint64_t> slicesRefused{0};

/**
 * The calling thread asks for the slice loopSliceUs sets (none asked at 0), keeping its policy,
 * nice value and reset-on-fork flag; only under the ordinary scheduler's SCHED_OTHER or
 * SCHED_BATCH (a process started under SCHED_FIFO by `chrt`, or SCHED_IDLE, keeps its
 * scheduling). On EEVDF (Linux 6.12 and later) a thread that wakes preempts the running one when
 * its deadline, one slice ahead, comes first: with a slice of 0.1 ms (the least the kernel takes)
 * against its default (1.4 ms on a 2-core VM), the loop takes its core from a backend or a build
 * sooner when a due time or an answer wakes it. No privilege is needed: the slice changes no
 * thread's share of the CPU. Replaying 5,000 statements/s on a 2-core VM, the 99th percentile of
 * the lag went from 0.066–0.089 ms to 0.054–0.074 (the 99.9th from 0.84–1.18 to 0.39–0.79), and
 * with two busy loops beside it from 1.72–2.22 ms to 1.29–1.51; closed-loop point selects ran as
 * fast (`docs/benchmarking.md`). Older kernels take the call and ignore the slice (not kept). The
 * slice survives a switch to SCHED_FIFO and back (setRealtime()), and the cancel requests'
 * threads this thread starts inherit it.
 */
void setLoopSlice() {
  const uint64_t ns = loopSliceUs.load(std::memory_order_relaxed) * 1000;
  if (ns == 0) return;
  SchedAttr a{};
  bool known = syscall(SYS_sched_getattr, 0, &a, sizeof a, 0) == 0;
  if (known && a.policy != SCHED_OTHER && a.policy != SCHED_BATCH) return;
  slicesAsked.fetch_add(1, std::memory_order_relaxed);
  if (!known) {
    slicesRefused.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  a.size = sizeof a;
  a.flags &= SCHED_RESET_ON_FORK_FLAG;
  a.priority = 0;
  a.runtime = ns;
  a.deadline = 0;
  a.period = 0;
  if (syscall(SYS_sched_setattr, 0, &a, 0) != 0) {
    slicesRefused.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // a kernel that keeps a slice shows it: the one asked for, or its default (1.4 ms here)
  SchedAttr got{};
  if (syscall(SYS_sched_getattr, 0, &got, sizeof got, 0) == 0 && got.runtime == ns)
    slicesKept.fetch_add(1, std::memory_order_relaxed);
}

/**
 * The loop thread under SCHED_FIFO at priority 1 (`on`) or back under SCHED_OTHER. A real-time
 * thread that wakes takes its core from any thread of the ordinary scheduler at once, where the
 * ordinary scheduler lets the thread running finish its slice: on a 2-core VM with the database's
 * backends beside it, that made the 1 % slowest wake-ups at due times 0.4–1.0 ms late, and
 * 0.07–0.22 ms under SCHED_FIFO (`docs/benchmarking.md`). The loop sleeps until the lead before a
 * due time and spins at most MAX_SPIN_MS, and under SCHED_FIFO at most the spin budget (10 ms) per
 * SPIN_WINDOW_MS window (approach()); the kernel keeps 5 % of each second for other threads
 * (`sched_rt_runtime_us`). A refusal (no CAP_SYS_NICE nor RLIMIT_RTPRIO) is counted, and the batch
 * runs as before.
 */
void setRealtime(Loop* L, bool on) {
  if (on == L->fifo) return;
  sched_param p{};
  p.sched_priority = on ? 1 : 0;
  if (pthread_setschedparam(pthread_self(), on ? SCHED_FIFO : SCHED_OTHER, &p) != 0) {
    switchesRefused++;
    return;
  }
  L->fifo = on;
  (on ? toFifo : toOther)++;
}

/**
 * A realtime timed batch starts: the loop goes under SCHED_FIFO with the first one. The loop
 * thread is shared by its connections, so it stays there while any of them runs one, and goes
 * back when the last one ends (releaseFifo()).
 */
void holdFifo(Loop* L, Conn* c) {
  c->fifoHeld = true;
  if (L->fifoBatches++ == 0) setRealtime(L, true);
}

void releaseFifo(Loop* L, Conn* c) {
  c->fifoHeld = false;
  if (--L->fifoBatches == 0) setRealtime(L, false);
}

void startRun(Loop* L, Conn* c) {
  c->waitUntil = 0;
  c->errors.clear();
  c->ran = 0;
  c->i = 0;
  c->interrupt = false;
  c->running = true;
  if (c->count == 0) return finishRun(c);
  if (c->pg == nullptr) {
    c->code.clear();
    c->sent = monoMs();
    c->message = "the connection is closed";
    record(c, ST_LOST);
    return finishRun(c);
  }
  if (!c->inEpoll) {
    c->fd = PQsocket(c->pg);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    if (epoll_ctl(L->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
      c->sent = monoMs();
      return lose(L, c, ST_LOST, std::string("epoll: ") + std::strerror(errno));
    }
    c->inEpoll = true;
    L->conns.insert(c);
  }
  setWireStamps(c, c->timed);
  if (c->timed && c->realtime && !c->fifoHeld) holdFifo(L, c);
  startNext(L, c);
}

/** A timed batch waiting for its next statement's due time ends there (nothing is in flight). */
void endWait(Conn* c) {
  c->waitUntil = 0;
  finishRun(c);
}

void handle(Loop* L, const Cmd& cmd) {
  Conn* c = cmd.conn;
  switch (cmd.kind) {
    case CMD_RUN:
      startRun(L, c);
      break;
    case CMD_INTERRUPT:
      if (c->running) c->interrupt = true;
      if (c->running && c->waitUntil > 0) endWait(c);
      break;
    case CMD_CANCEL:
      if (c->running) c->interrupt = true;
      // waiting for a statement's due time: nothing runs on the server, the batch just ends
      if (c->running && c->waitUntil > 0) endWait(c);
      if (c->running && !c->cancelSent) {
        c->cancelSent = true;
        sendCancel(c);
      }
      break;
    case CMD_CLOSE:
      if (c->running && c->waitUntil > 0) endWait(c);
      // the server would go on running the statement after the socket closes: cancel it too
      if (c->running && !c->cancelSent) sendCancel(c);
      if (c->running) lose(L, c, ST_LOST, "the connection was closed while the statement ran");
      closePg(L, c);
      notify(c, JOB_CLOSE);
      break;
    case CMD_DISPOSE:
      if (c->fifoHeld) releaseFifo(L, c);  // disposed mid-batch (an environment's teardown)
      closePg(L, c);
      delete c;
      break;
  }
}

void checkDeadlines(Loop* L, double now) {
  std::vector<Conn*> late;
  for (Conn* c : L->conns)
    if (c->running && c->waitUntil == 0 && now >= c->deadline) late.push_back(c);
  for (Conn* c : late) {
    if (!c->timedOut) {
      c->timedOut = true;
      c->deadline = now + CANCEL_GRACE_MS;
      if (!c->cancelSent) {
        c->cancelSent = true;
        sendCancel(c);
      }
    } else {
      lose(L, c, ST_TIMEOUT_LOST, "no answer to the cancel within 1000 ms");
    }
  }
}

/** Sends the statements of timed batches that are due now. */
void sendDue(Loop* L, double now) {
  std::vector<Conn*> due;
  for (Conn* c : L->conns)
    if (c->running && c->waitUntil > 0 && now >= c->waitUntil) due.push_back(c);
  for (Conn* c : due) startNext(L, c);
}

bool spinSpent(const Loop* L, double at);

/**
 * When the loop asks to wake next (ms, CLOCK_MONOTONIC; negative for none): the earliest statement
 * deadline, or the lead before a timed batch's due time. `*due` is that due time when it is one
 * (else negative). A connection waiting for its cancel request's thread (startNext) looks again
 * in a millisecond: it is not a due time, and nothing spins for it. Under SCHED_FIFO, where the
 * spin budget will still be spent when the loop would wake (`*unspun`), it asks for the due time
 * itself: it would not spin the lead, and waking at the lead only to sleep again was a second
 * wake-up per statement.
 */
double nextWake(Loop* L, double* due, bool* unspun) {
  double next = -1;
  *due = -1;
  *unspun = false;
  for (Conn* c : L->conns) {
    if (!c->running) continue;
    bool waits = c->waitUntil > 0;
    bool statement = waits && !c->cancelWait;
    bool u = statement && L->fifo && spinSpent(L, c->waitUntil - L->lead.ms);
    double t = statement ? c->waitUntil - (u ? 0 : L->lead.ms) : waits ? c->waitUntil : c->deadline;
    if (next < 0 || t < next) {
      next = t;
      *due = statement ? c->waitUntil : -1;
      *unspun = u;
    }
  }
  return next;
}

/** The most the loop spins before a due time (ms): the lead, and a margin for its noise. */
constexpr double MAX_SPIN_MS = MAX_LEAD_MS + 0.05;

/** How often a spin looks at the sockets (ms), so that an answer meanwhile is read at once. */
constexpr double SPIN_POLL_MS = 0.005;

/**
 * Under SCHED_FIFO, the most the loop spins in a window of SPIN_WINDOW_MS (ms; a window starts at
 * the first wait that could spin SPIN_WINDOW_MS or more after the last window began, so two
 * windows' spins may meet: at most about twice the budget in any SPIN_WINDOW_MS; each window may
 * also exceed it by the one spin that crossed it). Nothing of the ordinary scheduler runs on its
 * core while it spins, so where due times come closer together than the lead (thousands of
 * statements a second on one loop thread) it would otherwise spin all the time. Past the budget it
 * sleeps to the due time itself.
 */
constexpr double DEFAULT_SPIN_BUDGET_MS = 10;
constexpr double SPIN_WINDOW_MS = 100;
/** The spin budget in force (ms per window; tests lower it: spinBudget()). */
std::atomic<double> spinBudgetMs{DEFAULT_SPIN_BUDGET_MS};

/**
 * Whether the spin budget of the loop's window is spent at `at` (ms, CLOCK_MONOTONIC): a window
 * that has ended by then is not (the next spin starts a new one).
 */
bool spinSpent(const Loop* L, double at) {
  return at - L->spinWindowAt < SPIN_WINDOW_MS &&
         L->spinWindowMs >= spinBudgetMs.load(std::memory_order_relaxed);
}

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

int waitEvents(Loop* L, epoll_event* events, int max, double wake);

/** A wait for a statement's due time (ms, CLOCK_MONOTONIC). */
struct TimedWait {
  double asked;  // when the wait was asked to end: the lead before `due` (`due` itself if unspun)
  double due;
  double began;  // when the wait began
  bool unspun;   // the spin budget was spent: asked for `due` itself, no lead (nextWake())
};

/**
 * A wait asked to end at `w.asked` (the lead before a statement's due time) timed out: how late
 * it woke goes into the lead, and the loop spins the rest of the way to the due time, so that
 * sendDue() sends the statement then. A wait that asked for the due time itself (`w.unspun`: the
 * spin budget was spent) is only noted and counted. Spinning happens only here, for at most
 * MAX_SPIN_MS (the lead and a margin: a wait never ends before the time asked), and under
 * SCHED_FIFO for at most the spin budget (10 ms) per SPIN_WINDOW_MS window, past which the loop
 * asks for the due time itself (nextWake()): a loop with nothing due sleeps in epoll and uses no
 * CPU. The spin looks at the sockets every SPIN_POLL_MS and returns what they have (events written
 * to `events`, their count returned), so that an answer on another connection is not held for the
 * spin; the loop comes back to the due time after handling them.
 */
int approach(Loop* L, epoll_event* events, int max, const TimedWait& w) {
  const double asked = w.asked, due = w.due, began = w.began;
  double now = monoMs();
  // only a wait that slept to the time asked: one asked to end in the past (or too soon to tell
  // the timer's lateness) returned at once, and one too far ahead (or not finite) was cut to a
  // day (waitEvents)
  if (asked - began >= MIN_NOTED_WAIT_MS && asked - began <= MAX_WAIT_MS) {
    L->lead.note(now - asked);
    L->leadShown.store(L->lead.ms, std::memory_order_relaxed);
    waitsNoted.fetch_add(1, std::memory_order_relaxed);
  }
  if (w.unspun) {
    spinsDenied.fetch_add(1, std::memory_order_relaxed);
    if (!(now < due)) return 0;
    unspunWokeEarly.fetch_add(1, std::memory_order_relaxed);
    return waitEvents(L, events, max, due);
  }
  if (!(now < due && due - now <= MAX_SPIN_MS)) return 0;
  if (now - L->spinWindowAt >= SPIN_WINDOW_MS) {
    L->spinWindowAt = now;
    L->spinWindowMs = 0;
  }
  // defensive: nextWake() saw the budget unspent at this time; only a budget lowered while the
  // loop waited (spinBudget()) gets here
  if (L->fifo && spinSpent(L, now)) {
    spinsDenied.fetch_add(1, std::memory_order_relaxed);
    return waitEvents(L, events, max, due);
  }
  const double from = now;
  double polled = now;
  int n = 0;
  while (now < due) {
    cpuRelax();
    now = monoMs();
    if (now - polled < SPIN_POLL_MS) continue;
    polled = now;
    n = epoll_wait(L->epfd, events, max, 0);
    if (n != 0) break;
  }
  if (L->fifo) L->spinWindowMs += now - from;
  waitsSpun.fetch_add(1, std::memory_order_relaxed);
  spunUs.fetch_add(static_cast<uint64_t>((now - from) * 1e3), std::memory_order_relaxed);
  return n;
}

/** epoll_wait until `wake` (ms, CLOCK_MONOTONIC; negative: no limit), to the microsecond. */
int waitEvents(Loop* L, epoll_event* events, int max, double wake) {
  if (wake < 0) return epoll_wait(L->epfd, events, max, -1);
  double left = std::max(0.0, wake - monoMs());
  // a due time too far ahead (or not finite) to convert: wake up within a day and look again
  if (!(left <= MAX_WAIT_MS)) left = MAX_WAIT_MS;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
  timespec ts;
  ts.tv_sec = static_cast<time_t>(left / 1e3);
  ts.tv_nsec = static_cast<long>((left - static_cast<double>(ts.tv_sec) * 1e3) * 1e6);
  int n = epoll_pwait2(L->epfd, events, max, &ts, nullptr);
  // a kernel before 5.11: whole milliseconds, rounded up (never early)
  if (n >= 0 || errno != ENOSYS) return n;
#endif
  return epoll_wait(L->epfd, events, max, static_cast<int>(left) + (left > 0 ? 1 : 0));
}

void loopMain(Loop* L) {
  // named, so that top -H, perf and /proc/<pid>/task/*/comm tell the loop threads from Node's
  prctl(PR_SET_NAME, LOOP_THREAD_NAME, 0UL, 0UL, 0UL);
  // timed batches wake it at due times: the kernel's default 50 µs timer slack would be lag
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  setLoopSlice();
  epoll_event events[64];
  std::vector<Cmd> cmds;
  for (;;) {
    double due = -1;
    bool unspun = false;
    double asked = nextWake(L, &due, &unspun);
    double began = due >= 0 ? monoMs() : 0;
    int n = waitEvents(L, events, 64, asked);
    if (n == 0 && due >= 0) n = approach(L, events, 64, TimedWait{asked, due, began, unspun});
    if (n < 0 && errno != EINTR) {
      // the loop cannot wait on its sockets: end every running batch (its statement lost) rather
      // than leave JavaScript waiting for it, and keep taking commands (a pause, not a spin)
      std::string why = std::string("epoll_wait: ") + std::strerror(errno);
      for (Conn* c : std::vector<Conn*>(L->conns.begin(), L->conns.end()))
        if (c->running) failed(L, c, why);
      usleep(1000);
      n = 0;
    }
    for (int k = 0; k < n; k++) {
      if (events[k].data.ptr == nullptr) {
        uint64_t v;
        ssize_t rd = read(L->wakeFd, &v, sizeof v);
        (void)rd;
        continue;
      }
      onReady(L, static_cast<Conn*>(events[k].data.ptr), events[k].events);
    }
    {
      std::lock_guard<std::mutex> lock(L->mu);
      cmds.swap(L->cmds);
      if (L->quit) {
        // back where stopLoop() looks: the connections disposed of at the end are freed there
        L->cmds.swap(cmds);
        return;
      }
    }
    for (const Cmd& cmd : cmds) handle(L, cmd);
    cmds.clear();
    double now = monoMs();
    checkDeadlines(L, now);
    sendDue(L, now);
  }
}

void post(Loop* L, CmdKind kind, Conn* c) {
  {
    std::lock_guard<std::mutex> lock(L->mu);
    L->cmds.push_back({kind, c});
  }
  uint64_t one = 1;
  ssize_t w = write(L->wakeFd, &one, sizeof one);
  (void)w;
}

// --- JavaScript side ---

struct Instance {
  /** Loop threads, started as connections ask for them (`new Conn(…, thread)`). */
  std::vector<std::shared_ptr<Loop>> loops;
};

/** Most loop threads per JavaScript thread. */
constexpr uint32_t MAX_LOOPS = 64;

/** Ends the loop thread at the environment's teardown; connections still open are closed. */
void stopLoop(const std::shared_ptr<Loop>& L) {
  {
    std::lock_guard<std::mutex> lock(L->mu);
    if (L->quit) return;
    L->quit = true;
  }
  uint64_t one = 1;
  ssize_t w = write(L->wakeFd, &one, sizeof one);
  (void)w;
  if (L->thread.joinable()) L->thread.join();
  for (const Cmd& cmd : L->cmds)
    if (cmd.kind == CMD_DISPOSE) {
      closePg(L.get(), cmd.conn);
      delete cmd.conn;
    }
  L->cmds.clear();
  for (Conn* c : std::vector<Conn*>(L->conns.begin(), L->conns.end())) closePg(L.get(), c);
  close(L->epfd);
  close(L->wakeFd);
}

void finalizeInstance(napi_env env, void* data, void*) {
  Instance* inst = static_cast<Instance*>(data);
  for (const auto& L : inst->loops) stopLoop(L);
  delete inst;
}

std::shared_ptr<Loop> loopOf(napi_env env, uint32_t index) {
  Instance* inst = nullptr;
  napi_get_instance_data(env, reinterpret_cast<void**>(&inst));
  if (inst == nullptr) return nullptr;
  index %= MAX_LOOPS;
  if (index < inst->loops.size() && inst->loops[index]) return inst->loops[index];
  auto L = std::make_shared<Loop>();
  L->epfd = epoll_create1(EPOLL_CLOEXEC);
  L->wakeFd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (L->epfd < 0 || L->wakeFd < 0) {
    if (L->epfd >= 0) close(L->epfd);
    if (L->wakeFd >= 0) close(L->wakeFd);
    return nullptr;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;
  epoll_ctl(L->epfd, EPOLL_CTL_ADD, L->wakeFd, &ev);
  L->thread = std::thread(loopMain, L.get());
  if (index >= inst->loops.size()) inst->loops.resize(index + 1);
  inst->loops[index] = L;
  return L;
}

void holdSelf(napi_env env, Conn* c, napi_value self) {
  if (c->pending++ == 0) {
    napi_ref_threadsafe_function(env, c->tsfn);
    napi_create_reference(env, self, 1, &c->self);
  }
}

void releaseRefs(napi_env env, Conn* c) {
  if (c->opsRef != nullptr) napi_delete_reference(env, c->opsRef);
  if (c->outRef != nullptr) napi_delete_reference(env, c->outRef);
  c->opsRef = nullptr;
  c->outRef = nullptr;
}

// Runs on the JS thread when a job ended: calls the JS callback as (kind, n, data).
void callJs(napi_env env, napi_value cb, void* ctx, void* data) {
  Conn* c = static_cast<Conn*>(ctx);
  if (env == nullptr || c == nullptr) return;
  JobKind job = static_cast<JobKind>(reinterpret_cast<intptr_t>(data));
  napi_value args[3];
  napi_get_undefined(env, &args[2]);
  napi_create_uint32(env, job, &args[0]);
  napi_create_uint32(env, c->ran, &args[1]);
  if (job == JOB_CONNECT) {
    c->connecting = false;
    bool ok = c->failure.empty();
    const std::string& s = ok ? c->serverVersion : c->failure;
    napi_create_string_utf8(env, s.c_str(), s.size(), &args[2]);
    napi_create_uint32(env, ok ? 1 : 0, &args[1]);
  } else if (job == JOB_RUN) {
    releaseRefs(env, c);
    if (!c->errors.empty()) {
      napi_create_array_with_length(env, c->errors.size() * 3, &args[2]);
      uint32_t k = 0;
      for (const ErrInfo& e : c->errors) {
        napi_value v;
        napi_create_uint32(env, e.index, &v);
        napi_set_element(env, args[2], k++, v);
        napi_create_string_utf8(env, e.code.c_str(), e.code.size(), &v);
        napi_set_element(env, args[2], k++, v);
        napi_create_string_utf8(env, e.message.c_str(), e.message.size(), &v);
        napi_set_element(env, args[2], k++, v);
      }
    }
  }
  if (job == JOB_CLOSE) {
    // closed for good: the callback is not needed any more (its finalizer clears c->tsfn)
    napi_threadsafe_function t = c->tsfn;
    if (t != nullptr) napi_release_threadsafe_function(t, napi_tsfn_release);
  }
  if (--c->pending == 0) {
    if (c->tsfn != nullptr) napi_unref_threadsafe_function(env, c->tsfn);
    napi_delete_reference(env, c->self);
    c->self = nullptr;
  }
  napi_value global;
  napi_get_global(env, &global);
  napi_call_function(env, global, cb, 3, args, nullptr);
}

/**
 * Frees a connection whose JS object and callback are both gone: the loop closes and deletes it;
 * after the loop ended (the environment's teardown), here; while its connect thread still runs,
 * that thread does, when PQconnectdb returns.
 */
void dispose(Conn* c) {
  std::shared_ptr<Loop> L = c->loop;
  {
    std::lock_guard<std::mutex> lock(L->mu);
    if (c->connectInFlight) {
      c->orphaned = true;
      return;
    }
    if (!L->quit) {
      L->cmds.push_back({CMD_DISPOSE, c});
      uint64_t one = 1;
      ssize_t w = write(L->wakeFd, &one, sizeof one);
      (void)w;
      return;
    }
  }
  if (c->pg != nullptr) PQfinish(c->pg);
  delete c;
}

/**
 * The callback's own end (released after close, or by the finalizer, or the environment's
 * teardown). The connection is freed once both it and the JS object are gone.
 */
void tsfnFinalized(napi_env, void* data, void*) {
  Conn* c = static_cast<Conn*>(data);
  bool gone;
  {
    std::lock_guard<std::mutex> lock(c->loop->mu);
    c->tsfn = nullptr;
    gone = c->wrapperGone;
  }
  if (gone) dispose(c);
}

void finalizeConn(napi_env, void* data, void*) {
  Conn* c = static_cast<Conn*>(data);
  // no job is pending (the wrapper is held while one is)
  napi_threadsafe_function t;
  {
    std::lock_guard<std::mutex> lock(c->loop->mu);
    t = c->tsfn;
    c->wrapperGone = true;
  }
  // the callback's finalizer then frees the connection; without a callback left, free it now
  if (t != nullptr) napi_release_threadsafe_function(t, napi_tsfn_abort);
  else dispose(c);
}

Conn* unwrap(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv,
             napi_value* self) {
  napi_value s;
  if (napi_get_cb_info(env, info, argc, argv, &s, nullptr) != napi_ok) return nullptr;
  void* data = nullptr;
  if (napi_unwrap(env, s, &data) != napi_ok) return nullptr;
  if (self != nullptr) *self = s;
  return static_cast<Conn*>(data);
}

// new Conn(conninfo, queryTimeoutMs, callback, thread = 0): the connection is driven by loop
// thread number `thread` (modulo 64) of this JavaScript thread
napi_value Construct(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], self;
  if (napi_get_cb_info(env, info, &argc, argv, &self, nullptr) != napi_ok || argc < 3) {
    napi_throw_type_error(env, nullptr, "new Conn(conninfo, queryTimeoutMs, callback, thread)");
    return nullptr;
  }
  uint32_t index = 0;
  if (argc >= 4) napi_get_value_uint32(env, argv[3], &index);
  std::shared_ptr<Loop> L = loopOf(env, index);
  if (!L) {
    napi_throw_error(env, nullptr, "cannot start the connection loop thread");
    return nullptr;
  }
  size_t len = 0;
  napi_get_value_string_utf8(env, argv[0], nullptr, 0, &len);
  Conn* c = new Conn();
  c->loop = L;
  c->conninfo.resize(len + 1);
  napi_get_value_string_utf8(env, argv[0], &c->conninfo[0], len + 1, &len);
  c->conninfo.resize(len);
  int32_t timeout = 0;
  napi_get_value_int32(env, argv[1], &timeout);
  c->queryTimeoutMs = timeout > 0 ? timeout : 300000;
  napi_value name;
  napi_create_string_utf8(env, "stb-libpq-loop", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[2], nullptr, name, 0, 1, c, tsfnFinalized, c,
                                      callJs, &c->tsfn) != napi_ok) {
    delete c;
    napi_throw_error(env, nullptr, "cannot create the connection's callback");
    return nullptr;
  }
  napi_unref_threadsafe_function(env, c->tsfn);
  if (napi_wrap(env, self, c, finalizeConn, nullptr, nullptr) != napi_ok) {
    napi_release_threadsafe_function(c->tsfn, napi_tsfn_abort);
    delete c;
    napi_throw_error(env, nullptr, "napi_wrap failed");
    return nullptr;
  }
  return self;
}

// conn.connect(): connects on a short-lived thread (PQconnectdb blocks; connect_timeout bounds it)
napi_value Connect(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value self;
  Conn* c = unwrap(env, info, &argc, nullptr, &self);
  if (c == nullptr) return nullptr;
  if (c->pending > 0 || c->closed || c->pg != nullptr || !c->failure.empty()) {
    napi_throw_error(env, nullptr, "connect() once, on a new connection");
    return nullptr;
  }
  c->connecting = true;
  {
    std::lock_guard<std::mutex> lock(c->loop->mu);
    c->connectInFlight = true;
  }
  holdSelf(env, c, self);
  std::thread([c] {
    prctl(PR_SET_NAME, "stb-pq-connect", 0UL, 0UL, 0UL);
    PGconn* pg = PQconnectdb(c->conninfo.c_str());
    if (PQstatus(pg) != CONNECTION_OK) {
      c->failure = pgMessage(pg);
      if (c->failure.empty()) c->failure = "connection failed";
      PQfinish(pg);
    } else {
      PQsetNoticeProcessor(pg, noticeSink, nullptr);
      PQsetnonblocking(pg, 1);
      c->backendPid = PQbackendPID(pg);
      const char* v = PQparameterStatus(pg, "server_version");
      c->serverVersion = std::string("PostgreSQL ") + (v != nullptr ? v : "");
      c->pg = pg;
    }
    // the callback is called under the lock that dispose() takes: c cannot be freed meanwhile
    std::shared_ptr<Loop> L = c->loop;
    bool orphan;
    {
      std::lock_guard<std::mutex> lock(L->mu);
      c->connectInFlight = false;
      orphan = c->orphaned;
      if (!orphan && c->tsfn != nullptr)
        napi_call_threadsafe_function(
            c->tsfn, reinterpret_cast<void*>(static_cast<intptr_t>(JOB_CONNECT)),
            napi_tsfn_nonblocking);
    }
    if (orphan) {
      // the JS side is gone (its environment ended while this connected)
      if (c->pg != nullptr) PQfinish(c->pg);
      delete c;
    }
  }).detach();
  return nullptr;
}

// conn.run(ops: Uint8Array, opsLength, count, out: Float64Array, timed?: boolean,
//          realtime?: boolean)
napi_value Run(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], self;
  Conn* c = unwrap(env, info, &argc, argv, &self);
  if (c == nullptr) return nullptr;
  if (argc < 4 || c->closed || c->pending > 0) {
    napi_throw_error(env, nullptr, "run(ops, length, count, out) on an open, idle connection");
    return nullptr;
  }
  napi_typedarray_type t;
  size_t n, off;
  void* data;
  napi_value ab;
  if (napi_get_typedarray_info(env, argv[0], &t, &n, &data, &ab, &off) != napi_ok ||
      t != napi_uint8_array) {
    napi_throw_type_error(env, nullptr, "ops must be a Uint8Array");
    return nullptr;
  }
  uint32_t opsLen = 0, count = 0;
  napi_get_value_uint32(env, argv[1], &opsLen);
  napi_get_value_uint32(env, argv[2], &count);
  void* outData;
  size_t outN;
  if (opsLen > n ||
      napi_get_typedarray_info(env, argv[3], &t, &outN, &outData, &ab, &off) != napi_ok ||
      t != napi_float64_array || outN < 4 * static_cast<size_t>(count)) {
    napi_throw_type_error(env, nullptr, "ops holds length bytes; out is a Float64Array of 4 × count");
    return nullptr;
  }
  bool timed = false, realtime = false;
  if (argc >= 5) napi_get_value_bool(env, argv[4], &timed);
  if (argc >= 6) napi_get_value_bool(env, argv[5], &realtime);
  c->r = Reader{static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + opsLen};
  c->timed = timed;
  c->realtime = realtime;
  c->count = count;
  c->out = static_cast<double*>(outData);
  napi_create_reference(env, argv[0], 1, &c->opsRef);
  napi_create_reference(env, argv[3], 1, &c->outRef);
  holdSelf(env, c, self);
  post(c->loop.get(), CMD_RUN, c);
  return nullptr;
}

napi_value PostOnly(napi_env env, napi_callback_info info, CmdKind kind) {
  size_t argc = 0;
  Conn* c = unwrap(env, info, &argc, nullptr, nullptr);
  if (c != nullptr && !c->closed) post(c->loop.get(), kind, c);
  return nullptr;
}

// conn.interrupt(): no statement of the running batch starts after the current one
napi_value Interrupt(napi_env env, napi_callback_info info) {
  return PostOnly(env, info, CMD_INTERRUPT);
}

// conn.cancel(): as interrupt, and the statement running is cancelled (a cancel request)
napi_value Cancel(napi_env env, napi_callback_info info) {
  return PostOnly(env, info, CMD_CANCEL);
}

// conn.close(): abandons a running statement (the batch's callback comes first), closes the
// connection; the callback then gets (3, 0)
napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value self;
  Conn* c = unwrap(env, info, &argc, nullptr, &self);
  if (c == nullptr || c->closed) return nullptr;
  if (c->connecting) {
    napi_throw_error(env, nullptr, "close() while connecting: wait for the connect callback");
    return nullptr;
  }
  c->closed = true;
  holdSelf(env, c, self);
  post(c->loop.get(), CMD_CLOSE, c);
  return nullptr;
}

napi_value BackendPid(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Conn* c = unwrap(env, info, &argc, nullptr, nullptr);
  if (c == nullptr) return nullptr;
  napi_value v;
  napi_create_int32(env, c->backendPid.load(), &v);
  return v;
}

/** A JavaScript array of process-wide counters (as numbers), for the diagnostics below. */
napi_value countsArray(napi_env env, std::initializer_list<uint64_t> counts) {
  napi_value arr;
  napi_create_array_with_length(env, counts.size(), &arr);
  uint32_t i = 0;
  for (uint64_t count : counts) {
    napi_value v;
    napi_create_double(env, static_cast<double>(count), &v);
    napi_set_element(env, arr, i++, v);
  }
  return arr;
}

// wireStamped(): [statements whose sent time, whose done time came from the kernel's timestamps]
// so far in this process (every loop thread), for tests and diagnostics
napi_value WireStamped(napi_env env, napi_callback_info) {
  return countsArray(env, {sentStamped.load(), doneStamped.load()});
}

// timedWaits(): [timed waits noted in a lead, waits that then spun to a due time, µs spun] so
// far in this process (every loop thread), for tests and diagnostics
napi_value TimedWaits(napi_env env, napi_callback_info) {
  return countsArray(env, {waitsNoted.load(), waitsSpun.load(), spunUs.load()});
}

// realtimeSwitches(): [to SCHED_FIFO, back to SCHED_OTHER, refused, waits past the spin budget,
// of which woke before their due time]
napi_value RealtimeSwitches(napi_env env, napi_callback_info) {
  return countsArray(env, {toFifo.load(), toOther.load(), switchesRefused.load(),
                           spinsDenied.load(), unspunWokeEarly.load()});
}

// spinBudget(ms?): the spin budget under SCHED_FIFO (ms per SPIN_WINDOW_MS window), set when given
napi_value SpinBudget(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  double ms;
  if (argc >= 1 && napi_get_value_double(env, argv[0], &ms) == napi_ok && ms >= 0)
    spinBudgetMs.store(ms);
  napi_value v;
  napi_create_double(env, spinBudgetMs.load(), &v);
  return v;
}

// loopSlice(us?): the slice loop threads ask for (µs: 0 for none, or 100–100,000, the kernel's
// range), set when given for the threads started after; returns [µs in force, slices asked, kept,
// refused]. Another value throws a RangeError.
napi_value LoopSlice(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc >= 1) {
    double us = -1;
    napi_get_value_double(env, argv[0], &us);
    if (!(us == 0 || (us >= 100 && us <= 100000 && us == std::floor(us)))) {
      napi_throw_range_error(env, nullptr, "loopSlice: µs is 0, or whole from 100 to 100000");
      return nullptr;
    }
    loopSliceUs.store(static_cast<uint64_t>(us));
  }
  return countsArray(
      env, {loopSliceUs.load(), slicesAsked.load(), slicesKept.load(), slicesRefused.load()});
}

// realtimeRefused(): '' where a thread of this process may run under SCHED_FIFO, else why not
// (asked once, by a thread started for it: the caller's own scheduling stays as it is)
napi_value RealtimeRefused(napi_env env, napi_callback_info) {
  static std::once_flag once;
  static std::string why;
  std::call_once(once, [] {
    std::thread probe([] {
      sched_param p{};
      p.sched_priority = 1;
      int e = pthread_setschedparam(pthread_self(), SCHED_FIFO, &p);
      if (e != 0) why = std::strerror(e);
    });
    probe.join();
  });
  napi_value v;
  napi_create_string_utf8(env, why.c_str(), why.size(), &v);
  return v;
}

// wakeLeads(): each loop thread's lead (ms) before a timed statement's due time (see WakeLead),
// indexed by loop thread (null for one not started, 0 for one that has not timed a wait yet), for
// tests and diagnostics
napi_value WakeLeads(napi_env env, napi_callback_info) {
  Instance* inst = nullptr;
  napi_get_instance_data(env, reinterpret_cast<void**>(&inst));
  napi_value arr;
  size_t n = inst != nullptr ? inst->loops.size() : 0;
  napi_create_array_with_length(env, n, &arr);
  for (size_t i = 0; i < n; i++) {
    napi_value v;
    if (inst->loops[i]) napi_create_double(env, inst->loops[i]->leadShown.load(), &v);
    else napi_get_null(env, &v);
    napi_set_element(env, arr, static_cast<uint32_t>(i), v);
  }
  return arr;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"connect", nullptr, Connect, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"run", nullptr, Run, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"interrupt", nullptr, Interrupt, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"cancel", nullptr, Cancel, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"backendPid", nullptr, BackendPid, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value cls;
  if (napi_define_class(env, "Conn", NAPI_AUTO_LENGTH, Construct, nullptr,
                        sizeof methods / sizeof methods[0], methods, &cls) != napi_ok)
    return nullptr;
  Instance* inst = new Instance();
  napi_set_instance_data(env, inst, finalizeInstance, nullptr);
  napi_set_named_property(env, exports, "Conn", cls);
  napi_value version;
  napi_create_int32(env, PQlibVersion(), &version);
  napi_set_named_property(env, exports, "libpqVersion", version);
  napi_value name;
  napi_create_string_utf8(env, LOOP_THREAD_NAME, NAPI_AUTO_LENGTH, &name);
  napi_set_named_property(env, exports, "loopThreadName", name);
  // the diagnostics, as functions of the module
  napi_property_descriptor functions[] = {
      {"wireStamped", nullptr, WireStamped, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"wakeLeads", nullptr, WakeLeads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"timedWaits", nullptr, TimedWaits, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"realtimeSwitches", nullptr, RealtimeSwitches, nullptr, nullptr, nullptr, napi_enumerable,
       nullptr},
      {"loopSlice", nullptr, LoopSlice, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"realtimeRefused", nullptr, RealtimeRefused, nullptr, nullptr, nullptr, napi_enumerable,
       nullptr},
      {"spinBudget", nullptr, SpinBudget, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}

}  // namespace

NAPI_MODULE_INIT() { return Init(env, exports); }
