// What Swift cannot import from glibc: functions behind feature macros and ioctl request
// numbers built by macros. Everything here is prefixed qga_.
#pragma once
#include <signal.h>

/// signalfd(2) for `signals` (which the caller has blocked), close-on-exec. -1 and errno on failure.
int qga_signalfd(const sigset_t *signals);

/// Reads one pending signal from a signalfd; returns its number, 0 if none is pending,
/// -1 and errno on failure.
int qga_signalfd_read(int fd);

#include <stdint.h>

/// FIFREEZE / FITHAW on an open filesystem descriptor: 0, or -1 and errno.
int qga_fifreeze(int fd);
int qga_fithaw(int fd);

/// FITRIM over the whole filesystem with `minimum` extent length; on success stores the
/// bytes trimmed. 0, or -1 and errno.
int qga_fitrim(int fd, uint64_t minimum, uint64_t *trimmed);

/// Binds and listens on AF_VSOCK `cid`:`port` (VMADDR_CID_ANY is (unsigned)-1); returns the
/// listening descriptor, or -1 and errno.
int qga_vsock_listen(unsigned int cid, unsigned int port);

#include <spawn.h>

/// posix_spawn_file_actions_addtcsetpgrp_np (glibc 2.35+, GNU only): in the child, make its
/// process group the foreground group of terminal `fd`. 0, or an error number.
int qga_spawn_add_tcsetpgrp(posix_spawn_file_actions_t *actions, int fd);

/// pipe2(2) (behind _GNU_SOURCE): both ends get `flags` (O_CLOEXEC, O_NONBLOCK) atomically,
/// so a child spawned meanwhile by another thread cannot inherit them. 0, or -1 and errno.
int qga_pipe2(int fds[2], int flags);

/// An epoll instance watching `fd` edge-triggered (EPOLLIN | EPOLLET), close-on-exec: it
/// turns readable at the next wake-up of `fd`'s wait queue even while `fd` itself polls
/// ready all along (a virtio-serial port whose host end is closed polls as hang-up, and its
/// driver wakes the queue when the host opens it). Returns the epoll descriptor, or -1 and errno.
int qga_edge_watch(int fd);

/// Takes the edges an epoll instance from qga_edge_watch has collected, without waiting:
/// how many descriptors had one (0 or 1), or -1 and errno.
int qga_edge_take(int epfd);
