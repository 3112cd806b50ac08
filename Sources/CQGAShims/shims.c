#define _GNU_SOURCE
#include "qga_shims.h"

#include <errno.h>
#include <sys/signalfd.h>
#include <unistd.h>

int qga_signalfd(const sigset_t *signals) {
    return signalfd(-1, signals, SFD_CLOEXEC | SFD_NONBLOCK);
}

int qga_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    for (;;) {
        ssize_t n = read(fd, &info, sizeof info);
        if (n == (ssize_t)sizeof info) return (int)info.ssi_signo;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return 0;
        if (n >= 0) errno = EIO;
        return -1;
    }
}

#include <linux/fs.h>
#include <linux/vm_sockets.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

int qga_fifreeze(int fd) { return ioctl(fd, FIFREEZE, 0); }

int qga_fithaw(int fd) { return ioctl(fd, FITHAW, 0); }

int qga_fitrim(int fd, uint64_t minimum, uint64_t *trimmed) {
    struct fstrim_range range = {.start = 0, .len = (uint64_t)-1, .minlen = minimum};
    if (ioctl(fd, FITRIM, &range) < 0) return -1;
    *trimmed = range.len;
    return 0;
}

int qga_vsock_listen(unsigned int cid, unsigned int port) {
    int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_vm addr;
    memset(&addr, 0, sizeof addr);
    addr.svm_family = AF_VSOCK;
    addr.svm_cid = cid;
    addr.svm_port = port;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 1) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

#include <spawn.h>

int qga_spawn_add_tcsetpgrp(posix_spawn_file_actions_t *actions, int fd) {
    return posix_spawn_file_actions_addtcsetpgrp_np(actions, fd);
}

int qga_pipe2(int fds[2], int flags) {
    return pipe2(fds, flags);
}

#include <sys/epoll.h>

int qga_edge_watch(int fd) {
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) return -1;
    struct epoll_event event = {.events = EPOLLIN | EPOLLET, .data = {.fd = fd}};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event) < 0) {
        int saved = errno;
        close(epfd);
        errno = saved;
        return -1;
    }
    return epfd;
}

int qga_edge_take(int epfd) {
    struct epoll_event event;
    for (;;) {
        int n = epoll_wait(epfd, &event, 1, 0);
        if (n >= 0 || errno != EINTR) return n;
    }
}
