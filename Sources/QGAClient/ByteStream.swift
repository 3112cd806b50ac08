import Glibc
import QGASystem

/// A byte channel to an agent: the host end of a virtio-serial port, a vsock connection.
/// Every call takes a deadline.
public protocol ByteStream: AnyObject {
    func send(_ bytes: [UInt8], deadline: Deadline) throws(ClientError)
    /// Reads what is available into `buffer`; 0 means the agent's end closed.
    func receive(into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline) throws(ClientError) -> Int
    /// Ends the conversation from any thread: a call waiting on the stream fails at once,
    /// and the agent sees the client leave. The stream is not usable afterwards.
    func cancel()
}

/// A unix stream socket, translating system errors into what they mean for the user.
public final class UnixStream: ByteStream {
    private let socket: StreamSocket
    private let path: String

    public init(path: String, timeout: Duration) throws(ClientError) {
        self.path = path
        do {
            socket = try StreamSocket.connect(unixPath: path, deadline: .after(timeout))
        } catch {
            throw UnixStream.translate(error, path: path)
        }
    }

    public func send(_ bytes: [UInt8], deadline: Deadline) throws(ClientError) {
        do {
            try socket.write(bytes, deadline: deadline)
        } catch {
            throw UnixStream.translate(error, path: path)
        }
    }

    public func receive(into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline) throws(ClientError) -> Int {
        do {
            return try socket.read(into: buffer, deadline: deadline)
        } catch {
            throw UnixStream.translate(error, path: path)
        }
    }

    public func cancel() {
        // shutdown, not close: the descriptor stays valid for a thread still polling it.
        _ = Glibc.shutdown(socket.descriptor.rawValue, Int32(SHUT_RDWR))
    }

    static func translate(_ error: SystemError, path: String) -> ClientError {
        let reason: String
        switch error.errno {
        case .timedOut:
            return ClientError(.notResponding, "\(path): \(error.operation) timed out", cause: error)
        case .noSuchFileOrDirectory:
            reason = "no agent socket here (is the VM running, with a guest agent channel?)"
        case .connectionRefused:
            reason = "nothing is listening on this socket (is the VM running?)"
        case .permissionDenied:
            reason = "permission denied (try as root, or as the user QEMU runs as)"
        case .notDirectory:
            reason = "a component of the path is not a directory"
        case .fileNameTooLong:
            reason = "the path is too long for a unix socket (108 bytes at most)"
        case .brokenPipe, .connectionReset:
            reason = "the agent closed the connection"
        default:
            reason = "\(error.operation): \(error.errno)"
        }
        return ClientError(.unreachable, "\(path): \(reason)", cause: error)
    }
}
