import Glibc
import SystemPackage

/// A connected stream socket in non-blocking mode whose every connect, read and write waits
/// with `poll(2)` up to a deadline. It closes its descriptor when released.
public final class StreamSocket {
    public let descriptor: FileDescriptor
    private var closed = false

    private init(_ descriptor: FileDescriptor) { self.descriptor = descriptor }

    deinit { close() }

    /// Closes the descriptor; later calls do nothing.
    public func close() {
        guard !closed else { return }
        closed = true
        try? descriptor.close()
    }

    /// Connects to the unix stream socket at `path`.
    public static func connect(unixPath path: String, deadline: Deadline) throws(SystemError) -> StreamSocket {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !pathBytes.isEmpty, pathBytes.count < capacity else {
            throw SystemError("connect", .fileNameTooLong, subject: path)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket", .last, subject: path) }
        let sock = StreamSocket(FileDescriptor(rawValue: fd))
        let length = socklen_t(MemoryLayout<sockaddr_un>.size)
        while true {
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
            }
            if rc == 0 { return sock }
            let err = Errno.last
            switch err {
            case .interrupted:
                continue
            case .resourceTemporarilyUnavailable:
                // The listener's backlog is full (unix sockets say EAGAIN, not EINPROGRESS).
                guard !deadline.hasPassed else { throw SystemError("connect", .timedOut, subject: path) }
                usleep(10_000)
            case .nowInProgress:
                try sock.wait(for: Int16(POLLOUT), operation: "connect", subject: path, deadline: deadline)
                var soError: Int32 = 0
                var size = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &size)
                guard soError == 0 else { throw SystemError("connect", Errno(rawValue: soError), subject: path) }
                return sock
            default:
                throw SystemError("connect", err, subject: path)
            }
        }
    }

    /// Waits until the socket is ready for `events`, or throws `Errno.timedOut`.
    private func wait(for events: Int16, operation: String, subject: String?, deadline: Deadline) throws(SystemError) {
        var entry = pollfd(fd: descriptor.rawValue, events: events, revents: 0)
        while true {
            let timeout = deadline.pollMilliseconds
            let rc = poll(&entry, 1, timeout)
            if rc > 0 { return }
            if rc == 0 {
                if deadline.hasPassed { throw SystemError(operation, .timedOut, subject: subject) }
                continue
            }
            let err = Errno.last
            if err != .interrupted { throw SystemError("poll", err, subject: subject) }
        }
    }

    /// Reads what is available, waiting up to the deadline for the first byte.
    /// Returns 0 at end of stream.
    public func read(into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline) throws(SystemError) -> Int {
        while true {
            let n = Glibc.read(descriptor.rawValue, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            let err = Errno.last
            switch err {
            case .interrupted: continue
            case .resourceTemporarilyUnavailable:
                try wait(for: Int16(POLLIN), operation: "read", subject: nil, deadline: deadline)
            default: throw SystemError("read", err)
            }
        }
    }

    /// Writes every byte, waiting up to the deadline whenever the peer is not reading.
    public func write(_ bytes: [UInt8], deadline: Deadline) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                // MSG_NOSIGNAL: a vanished peer is an EPIPE error, not a fatal SIGPIPE.
                send(descriptor.rawValue, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n >= 0 {
                offset += n
                continue
            }
            let err = Errno.last
            switch err {
            case .interrupted: continue
            case .resourceTemporarilyUnavailable:
                try wait(for: Int16(POLLOUT), operation: "write", subject: nil, deadline: deadline)
            default: throw SystemError("write", err)
            }
        }
    }
}
