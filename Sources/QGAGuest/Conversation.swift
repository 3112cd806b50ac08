import QGAProtocol
import QGASystem
import SystemPackage

/// One client's side of the protocol: its input framed into requests, requests handled in
/// order, and replies written as the client takes them.
///
/// Nothing here waits on the client: while a reply is still to be written no further
/// request is handled, so a client that never reads holds back only itself (its requests
/// stay in its socket; qgad keeps at most one read's worth of them and one reply). A value
/// type, so that the per-request path pays no runtime exclusivity checks.
struct Conversation {
    /// What a read or a write left the conversation in.
    enum Outcome {
        /// Still talking.
        case open
        /// The client closed its end, or hung up with a reply unwritten.
        case ended
        case readFailed(SystemError)
        case writeFailed(SystemError)
    }

    let descriptor: FileDescriptor
    private var framer = Framer()
    /// Framed input not yet handled: held back while a reply is waiting to be written.
    private var backlog: [Framer.Event] = []
    private var backlogIndex = 0
    /// Reply bytes not yet written, oldest first, and how much of the first is written.
    private var outbox: [ReplyText] = []
    private var outboxOffset = 0

    init(_ descriptor: FileDescriptor) { self.descriptor = descriptor }

    /// A reply is waiting for the client to take it: poll for output, not input.
    var isWriting: Bool { !outbox.isEmpty }

    /// Reads what the client sent (into `buffer`) and handles the requests in it.
    ///
    /// Reads until the buffer is full or the client has nothing more now: a virtio-serial
    /// port gives at most one page per read, and a megabyte request read a page per wake-up
    /// would cost a poll and a pass of the loop for each.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer, agent: GuestAgent) -> Outcome {
        var filled = 0
        var last: Result<Int?, SystemError> = .success(nil)
        while filled < buffer.count {
            let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[filled...])
            last = Result { () throws(SystemError) in try descriptor.readAvailable(into: rest) }
            guard case .success(let n?) = last, n > 0 else { break }
            filled += n
        }
        // What was read is handled first; an end of file or error after it is met again
        // at the next read.
        guard filled == 0 else {
            backlog = framer.feed(UnsafeBufferPointer(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<filled]).bindMemory(to: UInt8.self)))
            backlogIndex = 0
            return handleBacklog(agent: agent)
        }
        switch last {
        case .success(nil):
            return .open
        case .success:
            return .ended
        case .failure(let error):
            return .readFailed(error)
        }
    }

    /// Writes what the client takes of the waiting replies, then handles held-back requests.
    mutating func resume(hungUp: Bool, agent: GuestAgent) -> Outcome {
        let outcome = writeOutbox(hungUp: hungUp)
        guard case .open = outcome else { return outcome }
        return handleBacklog(agent: agent)
    }

    /// Handles framed requests in order until one's reply cannot be written at once.
    private mutating func handleBacklog(agent: GuestAgent) -> Outcome {
        var outcome = Outcome.open
        while !isWriting, backlogIndex < backlog.count {
            let event = backlog[backlogIndex]
            backlogIndex += 1
            switch event {
            case .delimiter:
                // The reset asked for by guest-sync-delimited's 0xFF: nothing to answer.
                continue
            case .message(let message):
                if let reply = agent.handle(message) { outcome = send(reply) }
            case .junk(let prefix, _):
                outcome = send(agent.replyToJunk(prefix))
            case .error(let error):
                outcome = send(agent.reply(to: error))
            }
            guard case .open = outcome else { return outcome }
        }
        if backlogIndex >= backlog.count {
            backlog = []
            backlogIndex = 0
        }
        return outcome
    }

    /// Queues a reply and writes what the client takes now.
    private mutating func send(_ reply: GuestAgent.Outgoing) -> Outcome {
        if reply.delimited { outbox.append(.array([Framer.delimiterByte])) }
        outbox.append(reply.text)
        return writeOutbox(hungUp: false)
    }

    /// Writes queued reply bytes until the client stops taking them (EAGAIN), never waiting.
    private mutating func writeOutbox(hungUp: Bool) -> Outcome {
        while let chunk = outbox.first {
            guard outboxOffset < chunk.count else {
                outbox.removeFirst()
                outboxOffset = 0
                continue
            }
            let result = chunk.withUnsafeBytes { bytes in
                Result { () throws(SystemError) in
                    try descriptor.writeAvailable(UnsafeRawBufferPointer(rebasing: bytes[outboxOffset...]))
                }
            }
            switch result {
            case .success(let n):
                outboxOffset += n
                if outboxOffset == chunk.count {
                    outbox.removeFirst()
                    outboxOffset = 0
                    continue
                }
                // The client takes no more now: the rest goes when it polls writable. A
                // port whose host went away polls as hang-up and never takes the bytes.
                return hungUp ? .ended : .open
            case .failure(let error):
                return .writeFailed(error)
            }
        }
        return .open
    }
}
