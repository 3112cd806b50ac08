@testable import QGAClient
import QGAProtocol
import QGASystem

/// Virtual time for a session under test: it moves only when the scripted agent makes it,
/// so a timeout takes no real time and elapsed times are exact.
final class TestClock {
    private(set) var now = ContinuousClock.now
    let start: ContinuousClock.Instant

    init() { start = now }

    func advance(by duration: Duration) { now = now.advanced(by: duration) }

    /// Virtual time since the clock was made.
    var elapsed: Duration { start.duration(to: now) }
}

/// What the scripted agent sends back, in order.
enum Output {
    /// Bytes available at once (one read may take fewer of them, never more).
    case bytes([UInt8])
    /// Nothing for this long: a read waiting past its deadline times out instead.
    case pause(Duration)
    /// The agent closes its end: every later read returns 0.
    case close
    /// The same bytes again and again: an agent that never stops talking.
    case endless([UInt8])

    static func text(_ text: String) -> Output { .bytes(Array(text.utf8)) }
}

/// An in-memory `ByteStream` playing the agent: it frames what the client sends, hands each
/// request to `respond`, and queues the outputs that returns for the client to read. When it
/// has nothing to give, a read advances the clock to its deadline and times out, as a socket
/// read would, without waiting.
final class ScriptedAgent: ByteStream {
    let clock: TestClock
    /// The most bytes one read returns; 1 splits everything into single bytes.
    var maxRead = Int.max
    /// Virtual time each read takes, for an agent that talks without pause.
    var readCost: Duration = .zero
    /// What the agent sends in answer to each request.
    var respond: (JSONValue) -> [Output]

    /// Every request the client sent, parsed, in order.
    private(set) var requests: [JSONValue] = []
    /// Every byte the client sent.
    private(set) var received: [UInt8] = []
    /// How many bytes the client has read.
    private(set) var delivered = 0
    private(set) var reads = 0

    private var framer = Framer()
    private var queue: [Output] = []
    /// How far into the output at the head of the queue the client has read.
    private var offset = 0
    private var cancelled = false

    /// Reads allowed before the script calls the session a runaway, so that a session that
    /// never gives up fails its test instead of hanging it.
    static let maxReads = 200_000

    init(clock: TestClock = TestClock(), respond: @escaping (JSONValue) -> [Output]) {
        self.clock = clock
        self.respond = respond
    }

    /// The names of the commands received, in order.
    var commands: [String] { requests.map { $0["execute"]?.string ?? "?" } }

    /// A session over this stream on its clock, with sync ids from `syncIDs` in turn.
    func session(maxReplySize: Int = CallOptions.defaultMaxReplySize, syncIDs: [UInt64] = [42, 43, 44, 45]) -> AgentSession {
        var ids = syncIDs[...]
        let clock = clock
        return AgentSession(
            stream: self, label: "scripted", maxReplySize: maxReplySize, now: { clock.now },
            syncID: { ids.popFirst() ?? 1 })
    }

    func send(_ bytes: [UInt8], deadline: Deadline) throws(ClientError) {
        if cancelled { throw ClientError(.unreachable, "scripted: cancelled") }
        received += bytes
        for event in framer.feed(bytes) {
            guard case .message(let message) = event, let request = try? JSONParser.parse(message) else { continue }
            requests.append(request)
            queue += respond(request)
        }
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline) throws(ClientError) -> Int {
        if cancelled { throw ClientError(.unreachable, "scripted: cancelled") }
        reads += 1
        if reads > ScriptedAgent.maxReads { throw ClientError(.operationFailed, "scripted: runaway session, \(reads) reads") }
        while true {
            guard let head = queue.first else {
                // Nothing more to say: a socket read would wait out its deadline.
                clock.advance(by: deadline.remaining(at: clock.now))
                throw ClientError(.notResponding, "scripted: read timed out")
            }
            switch head {
            case .pause(let duration):
                let left = deadline.remaining(at: clock.now)
                if duration >= left {
                    clock.advance(by: left)
                    queue[0] = .pause(duration - left)
                    throw ClientError(.notResponding, "scripted: read timed out")
                }
                clock.advance(by: duration)
                queue.removeFirst()
            case .close:
                return 0
            case .bytes(let bytes), .endless(let bytes):
                let n = min(bytes.count - offset, buffer.count, maxRead)
                for i in 0..<n { buffer[i] = bytes[offset + i] }
                offset += n
                if offset == bytes.count {
                    offset = 0
                    if case .bytes = head { queue.removeFirst() }
                }
                delivered += n
                clock.advance(by: readCost)
                if n > 0 { return n }
            }
        }
    }

    func cancel() { cancelled = true }
}

/// The agent's side of the protocol, as bytes.
enum Agent {
    /// The reply to `guest-sync-delimited`: the delimiter, then the echoed id.
    static func delimitedSync(_ request: JSONValue) -> Output {
        .bytes([Framer.delimiterByte] + Array(#"{"return": \#(request["arguments"]?["id"] ?? .null)}"#.utf8) + [0x0A])
    }

    /// The reply to plain `guest-sync`: the echoed id, no delimiter.
    static func plainSync(_ request: JSONValue) -> Output {
        .text(#"{"return": \#(request["arguments"]?["id"] ?? .null)}"# + "\n")
    }

    /// An agent that answers the sync and then each command with `reply(command)`.
    static func answering(_ reply: @escaping (JSONValue) -> [Output]) -> (JSONValue) -> [Output] {
        { request in
            request["execute"] == "guest-sync-delimited" ? [delimitedSync(request)] : reply(request)
        }
    }
}
