// Linux calls that Swift's Glibc module does not expose (epoll, timerfd, eventfd, signalfd, accept4, getrandom),
// and small wrappers around C macros and unions. Header-only: part of this package, not a dependency.
#ifndef TICKWIRE_CEPOLL_SHIM_H
#define TICKWIRE_CEPOLL_SHIM_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static inline int tw_errno(void) { return errno; }

// epoll event bits as plain integers (the header declares them as an enum and macros).
static const uint32_t TW_EPOLLIN = EPOLLIN;
static const uint32_t TW_EPOLLOUT = EPOLLOUT;
static const uint32_t TW_EPOLLERR = EPOLLERR;
static const uint32_t TW_EPOLLHUP = EPOLLHUP;
static const uint32_t TW_EPOLLRDHUP = EPOLLRDHUP;

static inline uint64_t tw_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline int tw_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

static inline int tw_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}

/// Waits for events; fills data[i] and mask[i]. timeout_ms < 0 waits forever.
static inline int tw_epoll_wait(int epfd, struct epoll_event *scratch, int max, uint64_t *data, uint32_t *mask, int timeout_ms) {
    int n = epoll_wait(epfd, scratch, max, timeout_ms);
    for (int i = 0; i < n; i++) { data[i] = scratch[i].data.u64; mask[i] = scratch[i].events; }
    return n;
}

/// epoll_wait with a nanosecond timeout (negative: wait forever), so a loop's timers need no timerfd and no
/// syscalls of their own. Uses epoll_pwait2 (Linux 5.11); on older kernels, epoll_wait with the timeout rounded up
/// to whole milliseconds.
static inline int tw_epoll_wait_ns(int epfd, struct epoll_event *scratch, int max, uint64_t *data, uint32_t *mask, int64_t timeout_ns) {
    static int pwait2_missing = 0;
    int n;
    if (!pwait2_missing) {
        struct timespec timeout;
        timeout.tv_sec = (time_t)(timeout_ns / 1000000000ll);
        timeout.tv_nsec = (long)(timeout_ns % 1000000000ll);
        n = epoll_pwait2(epfd, scratch, max, timeout_ns < 0 ? NULL : &timeout, NULL);
        if (n < 0 && errno == ENOSYS) pwait2_missing = 1;
    }
    if (pwait2_missing) {
        int timeout_ms = timeout_ns < 0 ? -1 : (int)((timeout_ns + 999999ll) / 1000000ll);
        n = epoll_wait(epfd, scratch, max, timeout_ms);
    }
    for (int i = 0; i < n; i++) { data[i] = scratch[i].data.u64; mask[i] = scratch[i].events; }
    return n;
}

/// recv() and send() on a connected socket: the socket calls skip the VFS layers read() and write() cross (file
/// position lock, permission and fsnotify hooks). send() never raises SIGPIPE.
static inline ssize_t tw_recv(int fd, void *buffer, size_t length) { return recv(fd, buffer, length, 0); }
static inline ssize_t tw_send(int fd, const void *buffer, size_t length) { return send(fd, buffer, length, MSG_NOSIGNAL); }

static inline size_t tw_epoll_event_size(void) { return sizeof(struct epoll_event); }

static inline int tw_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

static inline int tw_timerfd(void) { return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); }

/// Arms the timer for an absolute CLOCK_MONOTONIC deadline (0 disarms).
static inline int tw_timerfd_arm_absolute(int fd, uint64_t deadline_ns) {
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (deadline_ns == 0) {
        return timerfd_settime(fd, 0, &its, NULL);
    }
    its.it_value.tv_sec = (time_t)(deadline_ns / 1000000000ull);
    its.it_value.tv_nsec = (long)(deadline_ns % 1000000000ull);
    return timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/// Blocks SIGINT and SIGTERM in the calling thread (call before starting threads, which inherit the mask)
/// and returns a signalfd that reads them. SIGPIPE is ignored process-wide: write errors come back as EPIPE.
static inline int tw_signalfd_for_shutdown(void) {
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/// Reads one pending signal from a signalfd; returns its number, or -1.
static inline int tw_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    return n == (ssize_t)sizeof info ? (int)info.ssi_signo : -1;
}

static inline void tw_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

/// Fills `address` for an IPv4 or IPv6 literal; returns the address family, or -1 if `host` is neither.
static inline int tw_socket_address(const char *host, uint16_t port, struct sockaddr_storage *address, socklen_t *length) {
    memset(address, 0, sizeof *address);
    struct sockaddr_in *v4 = (struct sockaddr_in *)address;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)address;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET; v4->sin_port = htons(port); *length = sizeof *v4;
        return AF_INET;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6; v6->sin6_port = htons(port); *length = sizeof *v6;
        return AF_INET6;
    }
    return -1;
}

/// A non-blocking TCP socket of the right family for `host`, with `address` filled in. Returns the fd or -errno.
static inline int tw_open_tcp_socket(const char *host, uint16_t port, struct sockaddr_storage *address, socklen_t *length) {
    int family = tw_socket_address(host, port, address, length);
    if (family < 0) return -EINVAL;
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
}

/// A non-blocking TCP listener on an IPv4 or IPv6 literal. Returns the fd or -errno.
static inline int tw_listen_tcp(const char *host, uint16_t port, int backlog, int reuse_port) {
    struct sockaddr_storage address;
    socklen_t length;
    int fd = tw_open_tcp_socket(host, port, &address, &length);
    if (fd < 0) return fd;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&address, length) < 0 || listen(fd, backlog) < 0) {
        int saved = errno; close(fd); return -saved;
    }
    return fd;
}

/// The local port of a bound socket (for port 0 listeners), or -1.
static inline int tw_local_port(int fd) {
    struct sockaddr_storage address;
    socklen_t length = sizeof address;
    if (getsockname(fd, (struct sockaddr *)&address, &length) < 0) return -1;
    if (address.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&address)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&address)->sin6_port);
}

/// Accepts one connection as non-blocking with TCP_NODELAY; writes the peer as text. Returns fd or -errno.
static inline int tw_accept(int listen_fd, char *peer, size_t peer_size) {
    struct sockaddr_storage address;
    socklen_t length = sizeof address;
    int fd = accept4(listen_fd, (struct sockaddr *)&address, &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (peer && peer_size > 0) {
        peer[0] = 0;
        char text[INET6_ADDRSTRLEN] = {0};
        if (address.ss_family == AF_INET) {
            struct sockaddr_in *v4 = (struct sockaddr_in *)&address;
            inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
            snprintf(peer, peer_size, "%s:%u", text, ntohs(v4->sin_port));
        } else if (address.ss_family == AF_INET6) {
            struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&address;
            inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
            snprintf(peer, peer_size, "[%s]:%u", text, ntohs(v6->sin6_port));
        }
    }
    return fd;
}

/// Starts a non-blocking connect to an IPv4 or IPv6 literal. Returns the fd (connect may be in progress) or -errno.
static inline int tw_connect_tcp(const char *host, uint16_t port) {
    struct sockaddr_storage address;
    socklen_t length;
    int fd = tw_open_tcp_socket(host, port, &address, &length);
    if (fd < 0) return fd;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&address, length) < 0 && errno != EINPROGRESS) {
        int saved = errno; close(fd); return -saved;
    }
    return fd;
}

/// The pending error of a socket (SO_ERROR), 0 if none.
static inline int tw_socket_error(int fd) {
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) < 0) return errno;
    return error;
}

static inline ssize_t tw_writev(int fd, const struct iovec *iov, int count) { return writev(fd, iov, count); }

static inline int tw_shutdown_write(int fd) { return shutdown(fd, SHUT_WR); }

/// Raises the soft open-files limit to the hard limit; returns the new soft limit.
static inline long tw_raise_nofile_limit(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
    return (long)limit.rlim_cur;
}

/// Pins the calling thread to one CPU (benchmarks); returns 0 on success.
static inline int tw_pin_thread_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static inline pid_t tw_thread_id(void) { return gettid(); }

#endif
