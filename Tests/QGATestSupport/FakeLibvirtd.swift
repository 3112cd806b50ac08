import Foundation
import Glibc

/// A libvirt daemon that speaks just enough of libvirt's RPC protocol to let a client open a
/// connection, look up one domain and ask its agent `guest-ping`, and that stops answering
/// on demand: for the hangs a real libvirtd produces only when it is wedged, and for
/// counting the calls a command makes. Reach it with `uri`.
///
/// The wire format (libvirt's `virnetprotocol.x` and `remote_protocol.x`): each message is a
/// 4-byte big-endian length that counts itself, a header of six 32-bit words (program,
/// version, procedure, type, serial, status), then the XDR-encoded body. Replies echo the
/// call's header with type 1 (reply) and status 0 (ok) or 1 (error, body `remote_error`).
public final class FakeLibvirtd: @unchecked Sendable {
    /// libvirt's remote procedures that the fake answers.
    public enum Procedure {
        public static let connectOpen: Int32 = 1
        public static let connectClose: Int32 = 2
        public static let domainGetXMLDesc: Int32 = 14
        public static let domainLookupByName: Int32 = 23
        public static let connectSupportsFeature: Int32 = 60
        public static let authList: Int32 = 66
        public static let domainGetState: Int32 = 212
        public static let domainShutdownFlags: Int32 = 258
        public static let domainFSFreeze: Int32 = 335
        public static let domainFSThaw: Int32 = 336
        /// In the QEMU program (`qemuProgram`), not the remote one.
        public static let qemuAgentCommand: Int32 = 3
    }

    /// libvirt's two RPC programs: `remote_protocol.x` and `qemu_protocol.x`.
    public static let remoteProgram: UInt32 = 0x2000_8086
    public static let qemuProgram: UInt32 = 0x2000_8087
    /// What the fake's agent answers to every command, as libvirt passes it on.
    public static let agentReply = #"{"return":{}}"#

    private let server: SocketServer
    public var socketPath: String { server.socketPath }
    /// The URI that reaches this daemon (the driver name is only passed along).
    public var uri: String { "qemu+unix:///system?socket=\(socketPath)" }
    /// Every call received, as (connection number from 1, procedure, program).
    public let calls = Mutex<[(connection: Int, procedure: Int32, program: UInt32)]>([])

    /// `stall(connection, procedure)` says whether to leave that call unanswered, and with
    /// it every later call on the connection. The one domain is `domain`, with `xml`. Its
    /// agent answers through libvirt (`agentReply`) when the XML has libvirt's own agent
    /// channel; otherwise libvirt's "not configured" error comes back, as from libvirtd.
    /// With `shutdownError`, the shutdown call fails with that message, as libvirtd's does
    /// when the guest's channel closes first, and the domain is shut off from then on.
    /// `agentError(n)` fails the nth agent command (from 1) with libvirt's "agent
    /// unresponsive" error (VIR_ERR_AGENT_UNRESPONSIVE) and that message, when not nil.
    public init(
        domain: String = "vm", xml: String, shutdownError: String? = nil,
        agentError: @escaping @Sendable (Int) -> String? = { _ in nil }, stall: @escaping @Sendable (Int, Int32) -> Bool
    ) throws {
        let calls = calls
        let shutOff = Mutex(false)
        let agentCalls = Mutex(0)
        server = try SocketServer("fake-libvirtd", socket: "libvirt-sock") { connection, fd in
            defer { close(fd) }
            var stalled = false
            while let header = readMessage(fd) {
                let procedure = Int32(bitPattern: header[2])
                calls.withLock { $0.append((connection, procedure, header[0])) }
                if stalled || stall(connection, procedure) {
                    stalled = true
                    continue
                }
                var reply =
                    header[0] == FakeLibvirtd.qemuProgram
                    ? FakeLibvirtd.answerQEMU(procedure, xml: xml)
                    : FakeLibvirtd.answer(procedure, domain: domain, xml: xml, shutOff: shutOff.withLock { $0 })
                if header[0] == FakeLibvirtd.qemuProgram, procedure == Procedure.qemuAgentCommand,
                    let message = agentError(agentCalls.withLock { $0 += 1; return $0 })
                {
                    reply = FakeLibvirtd.error(code: 86, message)
                }
                if header[0] == FakeLibvirtd.remoteProgram, procedure == Procedure.domainShutdownFlags, let shutdownError {
                    shutOff.withLock { $0 = true }
                    reply = FakeLibvirtd.error(code: 1, shutdownError)
                }
                var out = XDR()
                out.u32(header[0])
                out.u32(header[1])
                out.u32(header[2])
                out.u32(1)  // reply
                out.u32(header[4])
                out.u32(reply.ok ? 0 : 1)
                let message = out.bytes + reply.body
                var framed = XDR()
                framed.u32(UInt32(message.count + 4))
                sendAll(fd, framed.bytes + message)
            }
        }
    }

    /// Stops accepting; connections already open stay until their clients leave.
    public func stop() { server.stop() }

    /// The procedures of the remote program received on `connection`.
    public func procedures(on connection: Int) -> [Int32] {
        calls.withLock { $0.filter { $0.connection == connection && $0.program == FakeLibvirtd.remoteProgram }.map(\.procedure) }
    }

    /// How many agent commands (`virDomainQemuAgentCommand`) arrived, on any connection.
    public var agentCommands: Int {
        calls.withLock { $0.count { $0.program == FakeLibvirtd.qemuProgram && $0.procedure == Procedure.qemuAgentCommand } }
    }

    /// The QEMU program: the agent command only.
    private static func answerQEMU(_ procedure: Int32, xml: String) -> (ok: Bool, body: [UInt8]) {
        guard procedure == Procedure.qemuAgentCommand else {
            return error(code: 1, "unsupported by the fake libvirtd: QEMU procedure \(procedure)")
        }
        guard xml.contains("name='org.qemu.guest_agent.0'") else {
            // VIR_ERR_ARGUMENT_UNSUPPORTED from the QEMU driver, as qemuDomainAgentAvailable says it.
            return error(code: 74, "argument unsupported: QEMU guest agent is not configured")
        }
        var body = XDR()
        body.u32(1)  // remote_string: present
        body.string(agentReply)
        return (true, body.bytes)
    }

    /// A `remote_error`: code, domain, message (optional string), level, dom, str1..3,
    /// int1, int2, net (optional structs absent).
    private static func error(code: UInt32, _ message: String) -> (ok: Bool, body: [UInt8]) {
        var body = XDR()
        body.u32(code)
        body.u32(10)  // VIR_FROM_QEMU
        body.u32(1)
        body.string(message)
        body.u32(2)
        for _ in 0..<4 { body.u32(0) }
        for _ in 0..<2 { body.u32(0) }
        body.u32(0)
        return (false, body.bytes)
    }

    private static func answer(_ procedure: Int32, domain: String, xml: String, shutOff: Bool) -> (ok: Bool, body: [UInt8]) {
        var body = XDR()
        switch procedure {
        case Procedure.authList:
            body.u32(0)  // no authentication types: none needed
        case Procedure.connectOpen, Procedure.connectClose, Procedure.domainShutdownFlags:
            break
        case Procedure.connectSupportsFeature:
            body.u32(0)
        case Procedure.domainLookupByName:
            body.string(domain)
            body.raw([UInt8](repeating: 0x42, count: 16))
            body.u32(1)
        case Procedure.domainGetXMLDesc:
            body.string(xml)
        case Procedure.domainGetState:
            body.u32(shutOff ? 5 : 1)  // shut off, or running
            body.u32(1)
        case Procedure.domainFSFreeze, Procedure.domainFSThaw:
            body.u32(1)
        default:
            return error(code: 1, "unsupported by the fake libvirtd: procedure \(procedure)")
        }
        return (true, body.bytes)
    }
}

/// XDR encoding: big-endian 32-bit words, strings as length, bytes and zero padding.
struct XDR {
    var bytes: [UInt8] = []

    mutating func u32(_ v: UInt32) {
        bytes += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        u32(UInt32(utf8.count))
        raw(utf8)
    }

    mutating func raw(_ b: [UInt8]) {
        bytes += b
        bytes += [UInt8](repeating: 0, count: (4 - b.count % 4) % 4)
    }
}

/// Reads one framed libvirt RPC message and returns its six header words (the fake needs
/// no body); nil at end of stream or on a malformed length.
private func readMessage(_ fd: Int32) -> [UInt32]? {
    guard let prefix = readExactly(fd, 4) else { return nil }
    let length = prefix.reduce(0) { $0 << 8 | Int($1) }
    guard length >= 28, length <= 1 << 24, let rest = readExactly(fd, length - 4) else { return nil }
    let header = (0..<6).map { i in rest[i * 4..<i * 4 + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
    return header
}

private func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
    var out = [UInt8](repeating: 0, count: count)
    var got = 0
    while got < count {
        let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, count - got) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return nil }
        got += n
    }
    return out
}
