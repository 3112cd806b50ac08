import CQGAShims
import Glibc
import SystemPackage

// The package's one write loop and one read call. Everything that writes to a descriptor
// (qgad's replies, guest-exec's input, guest-file-write, state files, logs, the CLI's
// output, the client's socket) goes through `writeAvailable` or `writeFully`.

extension FileDescriptor {
    /// Writes from `bytes` until all are written or the descriptor takes no more now
    /// (EAGAIN on a non-blocking descriptor, or a write of 0); EINTR is retried. Returns
    /// how many bytes were written: fewer than `bytes.count` only when it would block.
    ///
    /// With `noSignal`, the descriptor is a socket and is written with `MSG_NOSIGNAL`: a peer
    /// that went away is an EPIPE error rather than a fatal SIGPIPE.
    public func writeAvailable(_ bytes: UnsafeRawBufferPointer, noSignal: Bool = false) throws(SystemError) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var offset = 0
        while offset < bytes.count {
            let n = noSignal
                ? Glibc.send(rawValue, base + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                : Glibc.write(rawValue, base + offset, bytes.count - offset)
            if n > 0 {
                offset += n
                continue
            }
            if n == 0 { return offset }
            let error = Errno.last
            switch error {
            case .interrupted: continue
            case .resourceTemporarilyUnavailable: return offset
            default: throw SystemError("write", error)
            }
        }
        return offset
    }

    /// Writes every byte of `bytes`, for a blocking descriptor; EINTR is retried. A
    /// descriptor that would block fails with `Errno.resourceTemporarilyUnavailable`.
    public func writeFully(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        let written = try writeAvailable(bytes)
        guard written == bytes.count else { throw SystemError("write", .resourceTemporarilyUnavailable) }
    }

    /// Writes every byte of `bytes`, for a blocking descriptor (see `writeFully(_:)`).
    public func writeFully(_ bytes: [UInt8]) throws(SystemError) {
        // withUnsafeBufferPointer, not withUnsafeBytes: only it passes a typed error through.
        try bytes.withUnsafeBufferPointer { (buffer) throws(SystemError) in try writeFully(UnsafeRawBufferPointer(buffer)) }
    }

    /// Reads once into `buffer`, retrying EINTR: the count (0 at end of file), or nil when
    /// a non-blocking descriptor has nothing now (EAGAIN).
    public func readAvailable(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int? {
        while true {
            let n = Glibc.read(rawValue, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            let error = Errno.last
            switch error {
            case .interrupted: continue
            case .resourceTemporarilyUnavailable: return nil
            default: throw SystemError("read", error)
            }
        }
    }
}

/// Runs a system call that returns -1 and sets errno on failure (open, openat...) again
/// while it fails with EINTR; its result.
public func retryingEINTR(_ call: () -> Int32) -> Int32 {
    while true {
        let rc = call()
        if rc >= 0 || errno != EINTR { return rc }
    }
}

extension FileDescriptor {
    /// A pipe whose ends are close-on-exec from the start (and non-blocking if asked), so
    /// that no child spawned meanwhile, by this thread or another, inherits them: a child
    /// holding a write end would keep the reader from ever seeing end of file.
    public static func closeOnExecPipe(nonBlocking: Bool = false) throws(SystemError) -> (reader: FileDescriptor, writer: FileDescriptor) {
        var ends: [Int32] = [-1, -1]
        guard qga_pipe2(&ends, O_CLOEXEC | (nonBlocking ? O_NONBLOCK : 0)) == 0 else { throw SystemError("pipe", .last) }
        return (FileDescriptor(rawValue: ends[0]), FileDescriptor(rawValue: ends[1]))
    }
}
