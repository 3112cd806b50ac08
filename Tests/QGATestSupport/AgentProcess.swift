import Foundation
import Glibc
import QGAProtocol
import QGASystem

/// Which agent implementation a conformance test runs against.
public enum AgentKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case qemuGA = "qemu-ga"
    case qgad
    public var description: String { rawValue }
}

/// An agent process (Debian's qemu-ga or the built qgad) on a unix-listen socket in a
/// temporary directory, stopped when released.
public final class AgentProcess: @unchecked Sendable {
    public let kind: AgentKind
    public let directory: TemporaryDirectory
    public let socketPath: String
    public let pid: pid_t

    /// Where Debian puts qemu-ga.
    public static let qemuGACandidates = ["/usr/sbin/qemu-ga", "/usr/bin/qemu-ga"]

    /// `executable` replaces the agent's usual executable (for example a static qgad); a
    /// `launcher` runs first and ends by exec'ing the agent command appended to it (for
    /// example `unshare -m ... sh -c '...; exec "$@"' sh`), so `pid` is still the agent's.
    public init(
        _ kind: AgentKind, _ extraArguments: [String] = [], environment: [String: String] = [:], executable: String? = nil,
        launcher: [String] = []
    ) throws {
        let binary: String
        switch (kind, executable) {
        case (_, let executable?):
            binary = executable
        case (.qemuGA, nil):
            guard let path = AgentProcess.qemuGACandidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw MissingTool("qemu-ga is not installed: apt-get install qemu-guest-agent")
            }
            binary = path
        case (.qgad, nil):
            binary = try Binaries.path("qgad")
        }
        self.kind = kind
        directory = try TemporaryDirectory(kind.rawValue)
        socketPath = directory.path + "/agent.sock"
        let log = directory.path + "/agent.log"
        var env = environment
        // Neither agent may read the machine's own config file during tests.
        if env["QGA_CONF"] == nil { env["QGA_CONF"] = directory.path + "/none.conf" }
        let command = [binary, "-m", "unix-listen", "-p", socketPath, "-t", directory.path, "-f", directory.path + "/agent.pid"] + extraArguments
        let argv = launcher + command
        pid = try spawnDetached(argv[0], Array(argv.dropFirst()), environment: env, log: log)
        try waitForSocket(socketPath, pid: pid, log: log)
    }

    public func stop() {
        kill(pid, SIGTERM)
        for _ in 0..<100 {
            if (try? reapChild(pid)) != nil { break }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        _ = try? reapChild(pid)
        directory.remove()
    }

    deinit { stop() }

    /// A raw protocol connection to the agent.
    public func connect() throws -> RawClient {
        guard let fd = connectUnix(socketPath) else { throw MissingTool("cannot connect to \(socketPath)") }
        return RawClient(fd)
    }
}

/// A client speaking the wire protocol byte for byte, for conformance tests.
public final class RawClient: @unchecked Sendable {
    private let fd: Int32
    private var framer = Framer()
    private var pending: [(delimited: Bool, value: JSONValue?)] = []
    private var sawDelimiter = false

    init(_ fd: Int32) { self.fd = fd }
    deinit { close(fd) }

    public func send(_ bytes: [UInt8]) { sendAll(fd, bytes) }

    public func send(_ text: String) { send(Array(text.utf8)) }

    /// The next reply (nil on timeout or EOF), and whether a 0xFF came right before it.
    public func reply(timeout: Double = 5) -> (delimited: Bool, value: JSONValue?)? {
        let end = Date().addingTimeInterval(timeout)
        while pending.isEmpty {
            guard let events = readFramed(fd, &framer, until: end) else { return nil }
            for event in events {
                switch event {
                case .delimiter: sawDelimiter = true
                case .message(let bytes):
                    pending.append((sawDelimiter, try? JSONParser.parse(bytes)))
                    sawDelimiter = false
                default: break
                }
            }
        }
        return pending.removeFirst()
    }

    /// Sends a request and returns the next reply's value.
    public func call(_ request: String, timeout: Double = 5) -> JSONValue? {
        send(request)
        return reply(timeout: timeout)?.value
    }

    /// 0xFF and guest-sync-delimited; skips everything up to the matching delimited reply.
    @discardableResult
    public func sync(id: Int = 4242, timeout: Double = 5) -> Bool {
        send([0xFF] + Array(#"{"execute":"guest-sync-delimited","arguments":{"id":\#(id)}}"#.utf8))
        let end = Date().addingTimeInterval(timeout)
        while let reply = reply(timeout: max(0.01, end.timeIntervalSinceNow)) {
            if reply.delimited, reply.value?["return"] == .number(JSONNumber(id)) { return true }
        }
        return false
    }
}
