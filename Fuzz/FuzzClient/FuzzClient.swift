import Glibc
import QGAClient
import QGAProtocol
import QGASystem
import FuzzSupport

/// The client's reply handling (sync, stale ids, 0xFF delimiters, events, commands that send
/// no reply) against a hostile agent whose every byte comes from the fuzzer.
///
/// The input's first byte picks the calls; the rest is what the agent sends, in segments
/// separated by NUL: one segment is released each time the client sends something, as a
/// real agent answers a request. An empty segment closes the agent's end. In a segment,
/// `@S` stands for the sync id the client last sent (random, as in production) and `@R` for
/// the current request's id, so that the fuzzer can reach past the sync.
///
/// Invariants: a command is sent only after the agent has shown the sync id; a reply that
/// echoes an id echoes the request's; no reply is larger than the cap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = input(data, size)
    guard let plan = bytes.first else { return 0 }
    let agent = FuzzedAgent(script: Array(bytes.dropFirst()), readSize: Int(plan >> 6) * 7 + 1)
    let session = AgentSession(stream: agent, label: "fuzz", maxReplySize: maxReply)
    var options = CallOptions()
    options.maxReplySize = maxReply
    // Up to three calls on one session: what one leaves unread, the next must get past.
    for call in 0..<(Int(plan >> 4 & 3) + 1) {
        let (name, withID) = commands[Int(plan >> UInt8(call) & 7) % commands.count]
        let id: JSONValue? = withID ? .string("fuzz-\(call)") : nil
        agent.requestID = id
        do {
            if let reply = try session.execute(Request(name, id: id), options: options) {
                check(reply.raw.count <= maxReply, "a reply over the cap was taken")
                if let id, let echoed = reply.incoming.id {
                    check(echoed == id, "took a reply to another request: \(echoed)")
                }
            }
        } catch {
            // Every failure is an error value with a message; what matters is that none traps.
            check(!error.message.isEmpty, "an error without a message")
        }
        if agent.closed { break }
    }
    return 0
}

private let maxReply = 2048

/// Commands with a reply, without one (`guest-shutdown`, `guest-suspend-*`), with an id and
/// without (as clients before QEMU 4.0 send them).
private let commands: [(String, Bool)] = [
    ("guest-ping", true), ("guest-info", false), ("guest-shutdown", true), ("guest-get-osinfo", true),
    ("guest-suspend-ram", false), ("guest-file-read", true), ("guest-exec-status", false),
]

private final class FuzzedAgent: ByteStream {
    private var segments: [[UInt8]]
    private var available: [UInt8] = []
    private var offset = 0
    private let readSize: Int
    var requestID: JSONValue?
    private var syncID: [UInt8] = []
    /// Bytes delivered since the last sync request.
    private var sinceSync: [UInt8] = []
    private(set) var closed = false

    init(script: [UInt8], readSize: Int) {
        segments = script.split(separator: 0, omittingEmptySubsequences: false).map(Array.init).reversed()
        self.readSize = readSize
    }

    func send(_ bytes: [UInt8], deadline: Deadline) throws(ClientError) {
        if closed { throw ClientError(.unreachable, "fuzz: closed") }
        if let text = String(validating: bytes.filter { $0 != 0xFF }, as: UTF8.self), text.contains("guest-sync") {
            // The sync id is the only number in the request.
            syncID = Array(text.utf8.filter { $0 >= 0x30 && $0 <= 0x39 })
            sinceSync = []
        } else {
            check(!syncID.isEmpty && contains(sinceSync, syncID), "sent a command before the agent echoed the sync id")
        }
        guard let next = segments.popLast() else { return }
        if next.isEmpty {
            closed = true
            return
        }
        available += substitute(next)
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline) throws(ClientError) -> Int {
        if offset == available.count {
            if closed { return 0 }
            // Nothing more until the client sends: a real read would time out.
            throw ClientError(.notResponding, "fuzz: timed out")
        }
        let n = min(readSize, available.count - offset, buffer.count)
        let chunk = available[offset..<offset + n]
        buffer.copyBytes(from: chunk)
        sinceSync += chunk
        offset += n
        return n
    }

    func cancel() { closed = true }

    private func substitute(_ segment: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < segment.count {
            if segment[i] == UInt8(ascii: "@") && i + 1 < segment.count {
                if segment[i + 1] == UInt8(ascii: "S") {
                    out += syncID
                    i += 2
                    continue
                }
                if segment[i + 1] == UInt8(ascii: "R") {
                    out += requestID.map { JSONPrinter(layout: .compact).bytes($0) } ?? Array("null".utf8)
                    i += 2
                    continue
                }
            }
            out.append(segment[i])
            i += 1
        }
        return out
    }
}

private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, haystack.count >= needle.count else { return false }
    for start in 0...(haystack.count - needle.count) where haystack[start..<start + needle.count].elementsEqual(needle) {
        return true
    }
    return false
}
