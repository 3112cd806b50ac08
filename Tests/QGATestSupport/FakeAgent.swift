import Foundation
import Glibc
import QGAProtocol
import QGASystem
import SystemPackage

/// A misbehaving agent on a unix socket, for what a real agent will not do on demand:
/// stale replies, wrong ids, silence, truncated, oversized or hostile replies.
///
/// Each accepted connection is handed to `behaviour` on a background thread.
public final class FakeAgent: @unchecked Sendable {
    private let server: SocketServer
    public var directory: TemporaryDirectory { server.directory }
    public var socketPath: String { server.socketPath }

    public init(_ behaviour: @escaping @Sendable (FakeConnection) throws -> Void) throws {
        server = try SocketServer("fake-agent", socket: "agent.sock") { _, fd in
            let connection = FakeConnection(fd)
            try? behaviour(connection)
            connection.close()
        }
    }

    /// Stops accepting; connections already open stay until their behaviour ends.
    public func stop() { server.stop() }
}

/// A listening unix socket in a temporary directory of its own, for the fake daemons: each
/// accepted connection goes to `serve`, with its number (from 1), on a thread of its own,
/// so that stopping never waits for a connection that stalls. `serve` owns the descriptor.
final class SocketServer: @unchecked Sendable {
    let directory: TemporaryDirectory
    let socketPath: String
    private let listener: Int32
    private let acceptorDone = DispatchSemaphore(value: 0)
    private var stopped = false

    init(_ prefix: String, socket: String, serve: @escaping @Sendable (_ number: Int, _ fd: Int32) -> Void) throws {
        directory = try TemporaryDirectory(prefix)
        socketPath = directory.path + "/" + socket
        listener = try listenUnix(socketPath)
        let listener = listener
        let acceptorDone = acceptorDone
        Thread {
            defer { acceptorDone.signal() }
            var number = 0
            while true {
                let fd = accept(listener, nil, nil)
                if fd < 0 {
                    if errno == EINTR { continue }
                    return  // the listener was shut down
                }
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                number += 1
                let connection = number
                Thread { serve(connection, fd) }.start()
            }
        }.start()
    }

    /// Stops accepting. The listener's descriptor is closed only after the accepting thread
    /// has left `accept`, so that it can never accept on a reused descriptor number.
    func stop() {
        guard !stopped else { return }
        stopped = true
        shutdown(listener, Int32(SHUT_RDWR))
        acceptorDone.wait()
        close(listener)
        directory.remove()
    }

    deinit { stop() }
}

/// One client connection as the fake agent sees it.
public final class FakeConnection: @unchecked Sendable {
    private let fd: Int32
    private var framer = Framer()
    private var queue: [JSONValue] = []
    private var closed = false

    init(_ fd: Int32) { self.fd = fd }

    /// The next request, skipping 0xFF delimiters; nil when the client went away.
    public func nextRequest(timeout: Double = 30) -> JSONValue? {
        let end = Date().addingTimeInterval(timeout)
        while queue.isEmpty {
            guard let events = readFramed(fd, &framer, until: end) else { return nil }
            for event in events {
                if case .message(let bytes) = event, let value = try? JSONParser.parse(bytes) { queue.append(value) }
            }
        }
        return queue.removeFirst()
    }

    /// Reads the client's `guest-sync-delimited` and answers it the way qemu-ga does: the
    /// complaint about the 0xFF, then 0xFF and the echoed id. Returns the id.
    @discardableResult
    public func answerSync() -> JSONValue? {
        guard let request = nextRequest(), let id = request["arguments"]?["id"] else { return nil }
        send(#"{"error": {"class": "GenericError", "desc": "JSON parse error, stray '\uFFFD'"}}"# + "\n")
        send([0xFF] + Array(#"{"return": \#(id)}"#.utf8) + [0x0A])
        return id
    }

    public func send(_ text: String) { send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) { sendAll(fd, bytes) }

    /// Keeps the connection open and silent for `seconds`, or until the client leaves.
    public func stall(_ seconds: Double) {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let end = Date().addingTimeInterval(seconds)
        var chunk = [UInt8](repeating: 0, count: 4096)
        while end.timeIntervalSinceNow > 0 {
            if poll(&entry, 1, Int32(end.timeIntervalSinceNow * 1000) + 1) > 0 {
                if read(fd, &chunk, chunk.count) <= 0 { return }
            }
        }
    }

    public func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }
}

/// A listening unix socket at `path`.
func listenUnix(_ path: String) throws -> Int32 {
    try UnixAddress(path, operation: "bind").listen(mode: 0o600, backlog: 8).rawValue
}

/// Connects to a unix socket and returns the (blocking) descriptor, or nil.
public func connectUnix(_ path: String) -> Int32? {
    guard let address = try? UnixAddress(path), let fd = try? UnixAddress.streamSocket(subject: path) else { return nil }
    if address.withSocketAddress({ Glibc.connect(fd.rawValue, $0, $1) }) == 0 { return fd.rawValue }
    try? fd.close()
    return nil
}

/// Writes every byte to a socket, stopping quietly if the peer went away.
func sendAll(_ fd: Int32, _ bytes: [UInt8]) {
    _ = try? bytes.withUnsafeBytes { try FileDescriptor(rawValue: fd).writeAvailable($0, noSignal: true) }
}

/// Waits until `end` for bytes on `fd` and frames them; nil on timeout or end of stream.
func readFramed(_ fd: Int32, _ framer: inout Framer, until end: Date) -> [Framer.Event]? {
    var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    let left = end.timeIntervalSinceNow
    if left <= 0 || poll(&entry, 1, Int32(left * 1000)) <= 0 { return nil }
    var chunk = [UInt8](repeating: 0, count: 65536)
    let n = read(fd, &chunk, chunk.count)
    return n > 0 ? framer.feed(Array(chunk[0..<n])) : nil
}
