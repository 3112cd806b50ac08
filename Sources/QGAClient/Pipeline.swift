import QGAProtocol
import QGASystem

/// Several requests in flight on one direct channel: one sync, then requests written back
/// to back, each carrying an id, and their replies taken in the order sent (an agent answers
/// one channel's requests in order). A reply that echoes an id this pipeline did not send is
/// a stray and dropped; one with no id (agents before QEMU 4.0) is taken by order. Each reply
/// keeps its own deadline, the command's timeout counted from when it was sent or the previous
/// reply arrived, whichever is later, so a queue behind a slow request does not eat into it.
///
/// qemu-ga over virtio-serial loses replies: GLib takes the port (a character device) for a
/// seekable file, so when the agent writes a reply while GLib still buffers bytes it read
/// past the request just parsed, GLib first seeks the port back over them, the seek fails
/// (ESPIPE) and the reply is dropped, though the request was carried out. A request in
/// flight behind one of more than the agent's 4 KiB read can be such bytes (strace of
/// Debian's qemu-ga 7.2: `lseek(port, -431, SEEK_CUR) = -1 ESPIPE` in place of the reply).
/// So a reply echoing a later request's id means the earlier replies were dropped: that is
/// an error at once, not a wait to the deadline. Requests go without a trailing newline, so
/// that not even a newline can be left over when the agent answers the last one.
///
/// At most `depth` requests are in flight, and the pipeline keeps only each one's id and
/// name. When the oldest reply takes longer than `stallPatience` while others wait behind
/// it, the agent is taken to be stalled by the queue: the reply is still waited for (to its
/// deadline), and from then on one request at a time. Nothing is ever resent, since a
/// request such as a write must not be applied twice.
public final class AgentPipeline {
    private struct Pending {
        let id: UInt64
        let command: String
        let sent: ContinuousClock.Instant
    }

    private let session: AgentSession
    private let options: CallOptions
    private var pending: [Pending] = []
    private var head = 0
    private var serial: UInt64 = 0
    private var lastReply: ContinuousClock.Instant

    init(session: AgentSession, options: CallOptions, depth: Int, stallPatience: Duration?) {
        self.session = session
        self.options = options
        self.depth = max(depth, 1)
        self.stallPatience = stallPatience
        lastReply = session.now()
    }

    /// Requests sent whose replies have not been taken yet.
    public var inFlight: Int { pending.count - head }

    /// How many requests may be in flight at once (1 after a stall).
    public private(set) var depth: Int
    /// How long the oldest reply may take while others are queued behind it; nil: no limit
    /// but the deadline.
    public let stallPatience: Duration?
    /// The agent stalled with requests queued, and the pipeline went down to depth 1.
    public private(set) var stalled = false

    /// Where the agent is, for messages.
    public var label: String { session.label }

    /// Sends `request` with the pipeline's next id (any id it had is replaced), once there is
    /// room: while `depth` requests are in flight, the oldest reply is taken and handed to
    /// `take` first.
    public func send(_ request: Request, makingRoom take: (Reply) throws -> Void = { _ in }) throws {
        while inFlight >= depth { try take(try receive()) }
        serial += 1
        var request = request
        request.id = .number(JSONNumber(serial))
        let sent = session.now()
        try session.send(request.encoded, deadline: Deadline.after(options.timeout(for: request.execute), from: sent))
        if head > 0, head == pending.count {
            pending.removeAll(keepingCapacity: true)
            head = 0
        }
        pending.append(Pending(id: serial, command: request.execute, sent: sent))
    }

    /// The reply to the oldest request in flight, waiting for it to its deadline.
    public func receive() throws(ClientError) -> Reply {
        if inFlight > 1, !stalled, let stallPatience, let reply = try receive(patience: stallPatience) { return reply }
        if inFlight > 1, stallPatience != nil {
            stalled = true
            depth = 1
        }
        // Checked again: nil only with patience.
        guard let reply = try receive(patience: nil) else {
            throw ClientError(.notResponding, "\(label): no reply")
        }
        return reply
    }

    /// Takes every reply still in flight, in order, handing each to `take`.
    public func drain(_ take: (Reply) throws -> Void) throws {
        while inFlight > 0 { try take(try receive()) }
    }

    /// The oldest reply; with `patience`, nil once that long passed (counted like the
    /// deadline) with the request still in flight, whose deadline still holds for a later call.
    func receive(patience: Duration?) throws(ClientError) -> Reply? {
        guard head < pending.count else {
            throw ClientError(.invalidRequest, "\(label): no request in flight to take a reply for")
        }
        let oldest = pending[head]
        let start = max(oldest.sent, lastReply)
        let timeout = options.timeout(for: oldest.command)
        let deadline = Deadline.after(timeout, from: start)
        let wait = patience.map { Deadline.after(min($0, timeout), from: start) } ?? deadline
        while true {
            let event: Framer.Event
            do {
                event = try session.nextEvent(deadline: wait)
            } catch where error.code == .notResponding {
                if patience != nil, !deadline.hasPassed(at: session.now()) { return nil }
                throw ClientError(
                    .notResponding, "\(label): the agent did not answer \(oldest.command) within \(seconds(timeout))", cause: error)
            }
            // Ids are checked here, not by the session: a later request's id means a drop.
            guard let reply = try session.reply(in: event, for: nil, maxReplySize: options.maxReplySize) else { continue }
            if let echoed = reply.incoming.id, echoed != .number(JSONNumber(oldest.id)) {
                guard isLaterRequest(echoed) else { continue }
                throw ClientError(.protocolViolation, "\(label): the agent dropped its reply to \(oldest.command) (it answered a later request)")
            }
            head += 1
            lastReply = session.now()
            return reply
        }
    }
}

extension AgentPipeline {
    /// Whether `echoed` is the id of a request in flight after the oldest.
    private func isLaterRequest(_ echoed: JSONValue) -> Bool {
        guard let id = echoed.number?.uint64 else { return false }
        return pending[(head + 1)...].contains { $0.id == id }
    }
}

extension AgentSession {
    /// Synchronises once and opens a pipeline on this channel. Until its last reply is
    /// taken, use only the pipeline; a later `execute` syncs again and drops what is left.
    public func pipeline(options: CallOptions, depth: Int, stallPatience: Duration? = nil) throws(ClientError) -> AgentPipeline {
        prepare(options)
        try sync(timeout: options.syncTimeout)
        return AgentPipeline(session: self, options: options, depth: depth, stallPatience: stallPatience)
    }
}
