import Glibc
import SystemPackage

/// A connected stream socket in non-blocking mode whose every connect, read and write waits
/// with `poll(2)` up to a deadline. It closes its descriptor when released.
public final class StreamSocket {
    /// The socket; owned by this object, closed by `close()` or when it is released.
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
        guard !path.isEmpty else { throw SystemError("connect", .fileNameTooLong, subject: path) }
        let address = try UnixAddress(path, operation: "connect")
        let sock = StreamSocket(try UnixAddress.streamSocket(flags: Int32(SOCK_NONBLOCK.rawValue), subject: path))
        let fd = sock.descriptor.rawValue
        while true {
            let rc = address.withSocketAddress { Glibc.connect(fd, $0, $1) }
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
            if let n = try descriptor.readAvailable(into: buffer) { return n }
            try wait(for: Int16(POLLIN), operation: "read", subject: nil, deadline: deadline)
        }
    }

    /// Writes every byte, waiting up to the deadline whenever the peer is not reading.
    public func write(_ bytes: [UInt8], deadline: Deadline) throws(SystemError) {
        try bytes.withUnsafeBufferPointer { (buffer) throws(SystemError) in
            var rest = UnsafeRawBufferPointer(buffer)
            while !rest.isEmpty {
                // noSignal: a vanished peer is an EPIPE error, not a fatal SIGPIPE.
                let written = try descriptor.writeAvailable(rest, noSignal: true)
                rest = UnsafeRawBufferPointer(rebasing: rest[written...])
                if !rest.isEmpty { try wait(for: Int16(POLLOUT), operation: "write", subject: nil, deadline: deadline) }
            }
        }
    }
}
